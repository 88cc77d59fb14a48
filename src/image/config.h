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

/* This host's architecture in Go's naming ("amd64", "arm64"). */
const char *image_host_arch (void);
/* A child image's config, as a commit or a build step makes it: the parent's config (NULL: a
 * scratch image for this host: architecture, os) with "config" replaced by a copy of
 * container_config, "created" set to created_ns, "author" set when given, a history entry
 * appended {created, created_by, author?, comment?, empty_layer: true when diff_id is NULL} and
 * diff_id (when not NULL) appended to rootfs.diff_ids. Legacy fields the parent carried
 * ("container", "container_config", "docker_version", "parent") are dropped. New object. */
json_t *image_config_child (const json_t *parent, const json_t *container_config,
                            const char *diff_id, const char *created_by, const char *comment,
                            const char *author, int64_t created_ns);
/* The config blob's canonical bytes (compact, keys in insertion order), written to a new file
 * in the store's staging area (*staged, for ingest_image.staged_config); id = sha256 of them. */
int image_config_stage (struct store *s, const json_t *config, char **staged,
                        char id[DIGEST_STR_LEN], berr_t *err);
/* Docker's --change lines: image_apply_changes in image/import.h. */

#endif
