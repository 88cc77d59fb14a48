/* commit.h — a container's filesystem changes: as Docker's `diff` listing, and as a layer for
 * `commit` and for the build's RUN steps (one upper-dir -> layer path for both).
 *
 * The engine's mount stubs never count as changes: the empty files and directories the runtime
 * made in upper/ as targets of the engine's own mounts — as Docker's init layer: /etc/hosts,
 * /etc/hostname, /etc/resolv.conf, /proc, /sys, /dev, the init binary — and of a build step's
 * RUN --mount mounts (label berth.build.run-mounts). Volume, -v, --mount and --tmpfs targets
 * are changes, as in Docker. A stub is found after the fact: a path that is such a mount
 * destination, is present in upper/ as an empty regular file or an empty directory (never a
 * symlink: nothing is followed, RESOLVE_BENEATH|RESOLVE_NO_SYMLINKS), and absent from the
 * image's layers. Directories that only hold stubs (created for them, or copied up from the
 * image with unchanged metadata) are not changes either. CVE-2024-23652: a stub is removed only
 * when it is still such an empty object; anything a process put in its place stays and is part of
 * the layer. */
#ifndef BERTH_CONTAINER_COMMIT_H
#define BERTH_CONTAINER_COMMIT_H

#include "container/container.h"

struct container_change
{
  char *path; /* absolute, "/tmp/x" */
  char kind;  /* 'A' added, 'C' changed, 'D' deleted */
};
void container_changes_free (struct container_change *v, size_t n);

/* Docker's `diff`: every change of the container's upper dir against its image, sorted by path
 * (a directory before its contents). Works on running and stopped containers. */
int container_diff (struct engine *e, struct container_rec *c, struct container_change **out,
                    size_t *n, berr_t *err);

/* The container's changes as a layer staged for store_commit (out->diff_id, staged_dir, sizes;
 * no blob: the tar is made again from the directory when the layer is saved or pushed).
 * consume = true: the container has exited and is about to be removed (build RUN): the stubs
 * are removed from upper/ and upper/ itself is renamed into the staging area — nothing copied.
 * consume = false (commit): the changes are copied into a new staged directory; the container
 * keeps running untouched. With clamp_mtime >= 0 (SOURCE_DATE_EPOCH) every mtime newer than it
 * is set to it first (consume only). Release out with ingest_layer_release. */
int container_capture_layer (struct engine *e, struct container_rec *c, bool consume,
                             int64_t clamp_mtime, struct ingest_layer *out, berr_t *err);
void ingest_layer_release (struct ingest_layer *l);

/* Docker's commit. */
struct commit_opts
{
  json_t *config;      /* the new image's "config" (NULL: the container's Config, as Docker) */
  const char *comment; /* -m */
  const char *author;  /* -a */
  const char *tag;     /* full name ("docker.io/library/x:latest") or NULL */
  bool pause;          /* -p (default true in the CLI): freeze the container while it is read */
};
/* New image: the container image's config with config/created/author/history (created_by = the
 * container's command as Docker writes it) and the captured layer, parent = the container's
 * image, committed in one store transaction. id receives the new image ID. */
int container_commit (struct engine *e, struct container_rec *c, const struct commit_opts *o,
                      char id[DIGEST_STR_LEN], berr_t *err);

#endif
