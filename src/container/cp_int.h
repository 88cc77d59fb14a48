/* cp_int.h — shared between cp.c, cp_tree.c and cp_tar.c. */
#ifndef BERTH_CP_INT_H
#define BERTH_CP_INT_H

#include <sys/stat.h>

#include "container/cp.h"

/* Read and write in blocks this large. */
#define CP_IO_BUF (256 * 1024)

/* A mount that stands in for a part of the container's tree. */
struct cp_mount
{
  char *dest; /* clean absolute path in the container */
  int fd;     /* O_PATH fd of the source; -1 when it could not be opened (errnum) */
  int errnum;
  bool rw;
};

struct cp_fs
{
  int rootfd; /* O_PATH directory fd of the tree's root */
  struct cp_mount *mounts;
  size_t n_mounts;
  bool readonly_root;
  bool host; /* a host directory: the receiving user owns what is created (see cp_extract_opts) */
};

/* Where a path of a tree leads. */
struct cp_loc
{
  int parent;      /* O_PATH fd of the directory holding the object; -1 for the tree's root */
  int fd;          /* O_PATH fd of the object itself (never followed); -1 when it does not exist */
  char *name;      /* its name in parent ("" for the root) */
  char *path;      /* its path in the tree: absolute, clean, every symlink expanded */
  struct stat st;  /* when fd >= 0 */
  int mount;       /* the mount its contents live in (its own index for a mount's root); -1: the
                      tree's root filesystem */
  bool mount_root; /* the object is the root of a mount (it cannot be replaced) */
};

enum
{
  CP_FOLLOW_LAST = 1, /* a symlink as the last component is followed too */
};

/* Resolve path in the tree, component by component: each lookup is openat2(RESOLVE_IN_ROOT |
 * RESOLVE_NO_MAGICLINKS, O_PATH | O_NOFOLLOW) of one name relative to a directory fd already
 * held, a symlink is read and its target walked the same way (an absolute target from the
 * tree's root, ".." never above it), and a path that reaches a mount's destination continues in
 * the mount's source. A path ending in "/" or "/." follows its last component and requires a
 * directory. A missing last component is not an error: out->fd is -1 and out->parent/name say
 * where it would be created. Returns 0, or -1 with errno set (ENOENT for a missing directory on
 * the way, ENOTDIR, ELOOP). */
int cp_resolve (struct cp_fs *fs, const char *path, int flags, struct cp_loc *out);
void cp_loc_release (struct cp_loc *l);
/* The mount whose destination is exactly path (the last one listed wins), or -1. */
int cp_mount_at (const struct cp_fs *fs, const char *path);
/* Open the object an O_PATH fd refers to, for real I/O, without looking its name up again
 * (/proc/self/fd/N, so a rename racing us cannot substitute another file). */
int cp_reopen (int opath_fd, int flags);
/* "dir/name", with dir "/" or "" giving "/name". */
char *cp_path_join (const char *dir, const char *name);

#endif
