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
  /* With use_split, an uncompressed input is not copied to blob_fd: a "tar-split" goes to
   * split_fd instead — every byte of the tar except the regular files' contents, which stay in
   * the unpacked layer — so the exact tar can be replayed later (layer_split_replay) without
   * storing it twice. When something in the layer replaces an earlier entry of the same layer
   * (so the unpacked tree no longer holds every file's bytes), the split is turned back into a
   * full copy in blob_fd on the spot. res->split tells which of the two the caller got. Both
   * fds must be seekable, readable and writable. Compressed inputs always go to blob_fd. */
  bool use_split;
  int split_fd;
};

struct layer_apply_result
{
  char digest[DIGEST_STR_LEN];  /* sha256 of the raw input bytes */
  char diff_id[DIGEST_STR_LEN]; /* sha256 of the uncompressed tar */
  uint64_t size;                /* raw input bytes */
  uint64_t tar_size;            /* uncompressed tar bytes */
  uint64_t content_size;        /* sum of regular file sizes (Docker's layer "Size") */
  char compression[8];          /* "none", "gzip", "bzip2", "xz", "zstd" */
  bool split;                   /* the tar is in split_fd (and blob_fd is empty) */
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

/* layer_diff leaving entries out, and counting: skip (may be NULL) sees every entry's path
 * relative to dirfd ("etc/hosts") and its lstat before it is written, and returns true to leave
 * it out (a directory with its whole subtree). content_size receives the sum of the regular
 * files' sizes written (hardlinks once), as layer_apply_result.content_size counts them. */
struct stat;
typedef bool (*layer_skip_fn) (void *cookie, const char *path, const struct stat *st);
struct layer_diff_opts
{
  layer_skip_fn skip;
  void *skip_cookie;
  uint64_t content_size; /* out */
};
int layer_diff_filtered (int dirfd, struct layer_diff_opts *opts, layer_write_fn wr, void *cookie,
                         char diff_id[DIGEST_STR_LEN], uint64_t *tar_size, berr_t *err);

/* Write the tar recorded by a tar-split (split_fd, read from its start) with the file contents
 * taken from the unpacked layer dirfd. The caller verifies the result against the diff_id. */
int layer_split_replay (int split_fd, int dirfd, layer_write_fn wr, void *cookie, berr_t *err);

/* Register on a libarchive reader the decompression filters that are built into libarchive
 * (gzip, bzip2, xz, zstd), and only those: never an external program. */
struct archive;
void layer_add_filters (struct archive *a);

#endif
