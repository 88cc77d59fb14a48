/* layer.h — applying layer tars into a directory and diffing a directory back into a tar.
 *
 * Apply: plain/gzip/bzip2/xz/zstd tar streams, OCI whiteouts converted to overlayfs form
 * (".wh.name" -> 0/0 character device "name"; ".wh..wh..opq" -> xattr trusted.overlay.opaque=y
 * on the directory), every path resolved inside the layer root (openat2 RESOLVE_IN_ROOT).
 * Ownership, modes (setuid too), xattrs, hardlinks, symlinks, devices, fifos and mtimes kept.
 * Decompression is bounded (max_size) so a bomb fails cleanly. One pass: the input is hashed
 * (digest of the bytes as given) and the decompressed tar hashed (diff_id) while it is applied;
 * optionally the raw bytes are copied to blob_fd. */
#ifndef BERTH_LAYER_H
#define BERTH_LAYER_H

#include <sys/types.h>

#include "util/digest.h"

/* Read up to len bytes; return bytes read, 0 at EOF, -1 on error (errno set). */
typedef ssize_t (*layer_read_fn) (void *cookie, void *buf, size_t len);

struct layer_apply_opts
{
  uint64_t max_size; /* bound on the uncompressed tar bytes; 0 = no bound */
  int blob_fd;       /* >= 0: copy the raw input bytes here as they are read */
};

struct layer_apply_result
{
  char digest[DIGEST_STR_LEN];  /* sha256 of the raw input bytes */
  char diff_id[DIGEST_STR_LEN]; /* sha256 of the uncompressed tar */
  uint64_t size;                /* raw input bytes */
  uint64_t tar_size;            /* uncompressed tar bytes */
  uint64_t content_size;        /* sum of regular file sizes (Docker's layer "Size") */
  char compression[8];          /* "none", "gzip", "bzip2", "xz", "zstd" */
};

/* Apply the tar stream read through rd into the directory dirfd (normally empty).
 * Entry names are taken relative to dirfd; one whose cleaned path climbs above it ("../x",
 * "a/../../x") fails with "invalid path". Parents (and symlinks met on the way) are resolved
 * inside dirfd; a hardlink's target is too, and must already exist there. xattrs kept:
 * security.capability, user.*, trusted.*, never trusted.overlay.* / user.overlay.*.
 * On failure (-1, "apply layer: entry \"NAME\": why") dirfd may hold a partial tree: the caller
 * removes it. Inputs compressed twice, or with another compression, are refused. */
int layer_apply (layer_read_fn rd, void *cookie, int dirfd, const struct layer_apply_opts *opts,
                 struct layer_apply_result *res, berr_t *err);
/* Convenience: apply from a file descriptor. */
int layer_apply_fd (int fd, int dirfd, const struct layer_apply_opts *opts,
                    struct layer_apply_result *res, berr_t *err);

/* Write write_fn the deterministic tar of the directory dirfd: entries sorted by name, uid/gid
 * numeric, no uname/gname, mtimes kept (whole seconds), atime/ctime dropped, PAX only when
 * needed, overlay whiteouts written back in OCI form. diff_id (may be NULL) receives the sha256
 * of the tar, tar_size (may be NULL) its length. Needs /proc (xattrs are read through
 * /proc/self/fd so that nothing is followed). */
/* Write all len bytes; return < 0 with errno set on failure. */
typedef int (*layer_write_fn) (void *cookie, const void *buf, size_t len);
int layer_diff (int dirfd, layer_write_fn wr, void *cookie, char diff_id[DIGEST_STR_LEN],
                uint64_t *tar_size, berr_t *err);

/* Register on a libarchive reader the decompression filters that are built into libarchive
 * (gzip, bzip2, xz, zstd), and only those: never an external program. */
struct archive;
void layer_add_filters (struct archive *a);

#endif
