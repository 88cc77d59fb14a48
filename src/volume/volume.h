/* volume.h — named volumes ($root/volumes/<name>/_data, metadata in the store) and the
 * resolution of a container's mounts.
 *
 * Docker's rules: names match [a-zA-Z0-9][a-zA-Z0-9_.-]+; anonymous volumes get a 64-hex name
 * and the label com.docker.volume.anonymous=""; a volume mounted by any container (running or
 * not) is in use and cannot be removed ("volume is in use - [<ids>]"); a new or empty volume
 * mounted over a non-empty image directory is populated from it (copy-up), once. */
#ifndef BERTH_VOLUME_H
#define BERTH_VOLUME_H

#include <jansson.h>
#include <stdbool.h>

#include "store/store.h"
#include "util/err.h"

struct volume_rec
{
  char *name;
  char *driver;     /* "local" */
  char *mountpoint; /* $root/volumes/<name>/_data */
  int64_t created_ns;
  json_t *labels;  /* object */
  json_t *options; /* object (driver options: type, device, o for the local driver) */
  bool anonymous;
};
void volume_rec_free (struct volume_rec *v);

/* Create (or, when it exists, return) a volume. name NULL/"" → anonymous. */
int volume_create (struct store *s, const char *name, const char *driver, const json_t *labels,
                   const json_t *options, struct volume_rec **out, berr_t *err);
int volume_get (struct store *s, const char *name, struct volume_rec **out, berr_t *err);
int volume_list (struct store *s, struct volume_rec ***out, size_t *n, berr_t *err);
/* Fails with BERR_CONFLICT when in use, unless force (Docker's -f only skips "not found"). */
int volume_remove (struct store *s, const char *name, bool force, berr_t *err);
/* Docker's inspect object (CreatedAt, Driver, Labels, Mountpoint, Name, Options, Scope). */
json_t *volume_inspect_json (const struct volume_rec *v);
/* Container ids using the volume. */
int volume_users (struct store *s, const char *name, char ***ids, berr_t *err);

/* Resolve a container's mounts from HostConfig (Binds, Mounts, Tmpfs) and the image's Volumes:
 * named/anonymous volumes created (anonymous ones for image VOLUMEs not covered by a user
 * mount), missing bind sources created as directories (for -v, as Docker; an error for
 * --mount), and the result recorded as the container's volume references
 * (store_container_set_volumes).  Output: Docker's inspect "Mounts" array plus an "Options"
 * array of OCI mount options for each entry. */
int volume_resolve_mounts (struct store *s, const char *container_id, const json_t *host_config,
                           const json_t *config, json_t **mounts, berr_t *err);
/* Copy-up: for each volume mount with copy_data whose volume is empty, copy the image's
 * content at the destination (read inside rootfs, safely) into the volume, keeping owners,
 * modes, xattrs and symlinks.  Called with the rootfs mounted, before start. */
int volume_copy_up (struct store *s, const char *rootfs, const json_t *mounts, berr_t *err);
/* Remove the anonymous volumes of a container (rm -v, and --rm). */
int volume_remove_anonymous (struct store *s, const char *container_id, berr_t *err);

#endif
