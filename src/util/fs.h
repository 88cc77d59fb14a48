/* fs.h — filesystem helpers: atomic writes, recursive removal, and path resolution
 * inside untrusted trees (image layers, rootfs, build contexts, volumes). */
#ifndef BERTH_FS_H
#define BERTH_FS_H

#include <sys/types.h>

#include "err.h"

/* mkdir -p with mode for created components. */
int fs_mkdir_p (const char *path, mode_t mode, berr_t *err);
/* Remove dirfd/name recursively without following symlinks and without entering another mount
 * (a mount point inside fails with EBUSY); missing is not an error. */
int fs_rm_rf_at (int dirfd, const char *name, berr_t *err);
int fs_rm_rf (const char *path, berr_t *err);
/* Detach every mount at or below dir (from /proc/self/mountinfo, the most recent first).
 * Returns how many were unmounted, or -1. */
int fs_unmount_under (const char *dir, berr_t *err);
/* Write data to path atomically: temp file beside it, fsync, rename, fsync the directory. */
int fs_write_atomic (const char *path, const void *data, size_t len, mode_t mode, berr_t *err);
/* Read a whole file (at most max bytes; larger is an error). *out is NUL-terminated. */
int fs_read_file (const char *path, size_t max, char **out, size_t *len, berr_t *err);
int fs_read_fd (int fd, size_t max, char **out, size_t *len, berr_t *err);
int fs_fsync_dir (const char *path, berr_t *err);
/* Copy everything from in (at its offset) to out: copy_file_range where the filesystems allow
 * it, else read/write. 0, or -1 with errno. */
int fs_copy_data (int in, int out);
/* write(2) everything, retrying on EINTR and short writes. */
int fs_write_all (int fd, const void *data, size_t len);

/* openat2(RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS): open path inside the tree rooted at rootfd;
 * symlinks and ".." can never leave the root. Returns an fd or -1 with errno set. */
int fs_open_in_root (int rootfd, const char *path, int flags, mode_t mode);
/* Like fs_open_in_root for a directory, creating missing components (mode) on the way;
 * every component is resolved inside the root. Returns an O_DIRECTORY fd or -1 with errno. */
int fs_mkdir_in_root (int rootfd, const char *path, mode_t mode);

/* Disk usage in bytes of a tree (regular files' st_blocks*512 are not used: apparent size). */
int64_t fs_tree_size (const char *path);

/* Go's path.Clean: lexical, "" -> ".", "a/../.." -> "..", "/.." -> "/". New string. */
char *fs_path_clean (const char *p);

#endif
