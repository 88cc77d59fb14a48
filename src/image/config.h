/* config.h — image configs (OCI image-spec config.md / Docker image JSON) and the views of them
 * that inspect and history print. */
#ifndef BERTH_CONFIG_H
#define BERTH_CONFIG_H

#include <jansson.h>

#include "store/store.h"

/* "created" of a config in ns since the epoch (0 when absent or unparsable). */
int64_t image_config_created (json_t *config);
/* Validate what berth relies on: rootfs.type == "layers", diff_ids valid digests. Returns the
 * diff_ids. */
int image_config_diff_ids (json_t *config, char ***diff_ids, berr_t *err);
/* Docker's `image inspect` object for a stored image. */
json_t *image_inspect_json (struct store *s, const struct image_rec *rec, json_t *config);
/* Rows for `history`: array of {ID, CreatedAt(ns), CreatedBy, Size, Comment, EmptyLayer}, newest
 * first, sizes taken from the store's layers. */
json_t *image_history (struct store *s, const struct image_rec *rec, json_t *config);
/* Repository and tag of a full tag name for display ("busybox", "latest"). */
void image_split_tag (const char *full, char **repo, char **tag);

#endif
