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

/* Create (or, when it exists, return) a volume. name NULL/"" → anonymous (a random name and the
 * label com.docker.volume.anonymous="").  driver NULL → "local", the only driver.  Options of the
 * local driver: type, device, o (type and device go together; o needs both); size is refused
 * (no quota support). */
int volume_create (struct store *s, const char *name, const char *driver, const json_t *labels,
                   const json_t *options, struct volume_rec **out, berr_t *err);
int volume_get (struct store *s, const char *name, struct volume_rec **out, berr_t *err);
int volume_list (struct store *s, struct volume_rec ***out, size_t *n, berr_t *err);
/* Fails with BERR_CONFLICT when in use (even with force: Docker's -f only skips "not found"). */
int volume_remove (struct store *s, const char *name, bool force, berr_t *err);
/* Docker's inspect object (CreatedAt, Driver, Labels, Mountpoint, Name, Options, Scope). */
json_t *volume_inspect_json (const struct volume_rec *v);
/* Container ids using the volume. */
int volume_users (struct store *s, const char *name, char ***ids, berr_t *err);

/* Resolve a container's mounts from HostConfig (Binds, Mounts, Tmpfs, VolumeDriver) and the
 * merged Config.Volumes (image VOLUMEs and anonymous `-v /x`), as Docker's create does: binds,
 * then --mount entries ("Duplicate mount point: /x" when a destination repeats, also against
 * HostConfig.Tmpfs), then Config.Volumes destinations not covered by any of those get anonymous
 * volumes.  Named volumes are created on first use; missing -v bind sources are created as
 * directories (Docker does); a missing --mount bind source is an error unless bind-create-src.
 * The container row must exist: the volumes used are recorded as its references
 * (store_container_set_volumes).  On failure, anonymous volumes created by the call are removed.
 *
 * Output: an array sorted by destination depth, one object per mount, in Docker's inspect
 * "Mounts" form {"Type","Name"?,"Source","Destination","Driver"?,"Mode","RW","Propagation"} plus
 * what the spec builder needs (these keys are berth's own):
 *   "Options"   OCI mount options: ["rbind","ro","rprivate"] for binds and volumes,
 *               ["noexec","nosuid","nodev","rprivate","size=…","mode=…"] for tmpfs;
 *   "OCIType"   the OCI mount type: "bind", "tmpfs", or, for a local volume created with
 *               `-o type=T -o device=D [-o o=OPTS]`, T itself ("tmpfs", "nfs" …; "bind" when
 *               OPTS has bind/rbind): such a volume is mounted straight at the destination
 *               instead of binding its _data (each container then gets its own tmpfs, where
 *               Docker would share one mounted on _data);
 *   "OCISource" the OCI source: the host path, "tmpfs", or the volume's device;
 *   "CopyData"  volumes only: copy-up applies (no nocopy, no subpath, no driver options);
 *   "HostConfigTmpfs": true on entries from HostConfig.Tmpfs (--tmpfs), which Docker does not
 *               list in inspect's "Mounts".
 * volume_mounts_inspect() gives the Docker-exact "Mounts" array for inspect. */
int volume_resolve_mounts (struct store *s, const char *container_id, const json_t *host_config,
                           const json_t *config, json_t **mounts, berr_t *err);
/* Inspect's "Mounts" from volume_resolve_mounts' output: without --tmpfs entries and without
 * berth's own keys. */
json_t *volume_mounts_inspect (const json_t *mounts);
/* Copy-up: for each volume mount with CopyData whose volume is empty and was never populated,
 * copy the image's content at the destination (read inside rootfs: every path component is
 * opened relative to its parent without following symlinks, the destination itself resolved
 * with RESOLVE_IN_ROOT) into the volume, keeping owners, modes, timestamps, xattrs (not on
 * symlinks), symlinks as symlinks, hard links, device nodes and fifos; the volume's own
 * directory takes the owner and mode of the image's directory.  The volume is then marked
 * populated (<root>/volumes/<name>/populated), so emptying it later does not bring the image's
 * files back.  Concurrent copy-ups of one volume serialize on an flock of its directory.
 * Called with the rootfs mounted, before start. */
int volume_copy_up (struct store *s, const char *rootfs, const json_t *mounts, berr_t *err);
/* Remove the anonymous volumes of a container (rm -v, and --rm): its references to them are
 * dropped and each one no other container uses is removed.  Call before deleting the container
 * row (the references go with it). */
int volume_remove_anonymous (struct store *s, const char *container_id, berr_t *err);

/* Docker's name rule for local volumes; errors as Docker's ("create x/y: \"x/y\" includes
 * invalid characters for a local volume name, only \"[a-zA-Z0-9][a-zA-Z0-9_.-]\" are allowed.
 * If you intended to pass a host directory, use absolute path"). */
int volume_validate_name (const char *name, berr_t *err);
/* A new random 64-hex volume name (what `volume create` without a name uses). */
char *volume_random_name (void);
/* The label that marks anonymous volumes. */
#define VOLUME_ANONYMOUS_LABEL "com.docker.volume.anonymous"

#endif
