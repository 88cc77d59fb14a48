/* volume_copyup.c — Docker's copy-up: a new volume mounted over image content starts with a copy
 * of it.  The image tree is untrusted: it is walked with *at() calls from directory fds, never
 * following a symlink (each entry is one name opened relative to its parent with O_NOFOLLOW), so
 * nothing outside the rootfs is read, and the volume side is written the same way. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "util/fs.h"
#include "util/json.h"
#include "util/log.h"
#include "volume/volume.h"

#define POPULATED_MARK "populated"
#define MAX_DEPTH 256

struct hardlink
{
  dev_t dev;
  ino_t ino;
  char *rel; /* path of the first copy, relative to the volume */
};

struct copy_ctx
{
  int dst_root; /* O_PATH fd of the volume's _data */
  struct hardlink *links;
  size_t nlinks, caplinks;
  const char *what; /* "copy-up /dest": error context */
};

static void copy_ctx_release (struct copy_ctx *c)
{
  for (size_t i = 0; i < c->nlinks; i++)
    free (c->links[i].rel);
  free (c->links);
}

static const char *find_link (struct copy_ctx *c, const struct stat *st)
{
  for (size_t i = 0; i < c->nlinks; i++)
    if (c->links[i].dev == st->st_dev && c->links[i].ino == st->st_ino)
      return c->links[i].rel;
  return NULL;
}

static void remember_link (struct copy_ctx *c, const struct stat *st, const char *rel)
{
  if (c->nlinks == c->caplinks)
    {
      c->caplinks = c->caplinks ? c->caplinks * 2 : 16;
      c->links = xrealloc (c->links, c->caplinks * sizeof *c->links);
    }
  c->links[c->nlinks++] = (struct hardlink){ st->st_dev, st->st_ino, xstrdup (rel) };
}

static int PRINTF_LIKE (4, 5)
    copy_err (struct copy_ctx *c, berr_t *err, int errnum, const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  cleanup_free char *msg = xvasprintf (fmt, ap);
  va_end (ap);
  return berr_set (err, errnum, "%s: %s", c->what, msg);
}

/* Extended attributes, read through fd (or, for fds that cannot be read, through path). */
static int copy_xattrs (struct copy_ctx *c, int sfd, const char *spath, int dfd, const char *dpath,
                        const char *rel, berr_t *err)
{
  /* On the heap: these run inside the recursion. */
  enum
  {
    XATTR_MAX = 65536
  };
  cleanup_free char *list = xmalloc (XATTR_MAX);
  cleanup_free char *val = xmalloc (XATTR_MAX);
  ssize_t n = spath ? listxattr (spath, list, XATTR_MAX) : flistxattr (sfd, list, XATTR_MAX);
  if (n < 0)
    {
      if (errno == ENOTSUP || errno == ENODATA)
        return 0;
      return copy_err (c, err, errno, "list xattrs of %s", rel);
    }
  for (ssize_t off = 0; off < n; off += (ssize_t)strlen (list + off) + 1)
    {
      const char *name = list + off;
      /* SELinux labels belong to the host's policy, not to the image (Docker skips them). */
      if (strcmp (name, "security.selinux") == 0)
        continue;
      ssize_t vl
          = spath ? getxattr (spath, name, val, XATTR_MAX) : fgetxattr (sfd, name, val, XATTR_MAX);
      if (vl < 0)
        {
          if (errno == ENODATA)
            continue;
          return copy_err (c, err, errno, "get xattr %s of %s", name, rel);
        }
      int r = dpath ? setxattr (dpath, name, val, (size_t)vl, 0)
                    : fsetxattr (dfd, name, val, (size_t)vl, 0);
      if (r < 0 && errno != ENOTSUP)
        return copy_err (c, err, errno, "set xattr %s of %s", name, rel);
    }
  return 0;
}

/* Owner, then mode (chown clears set-id bits), then xattrs, then times: on an fd. */
static int finish_fd (struct copy_ctx *c, int sfd, int dfd, const struct stat *st, const char *rel,
                      berr_t *err)
{
  if (fchown (dfd, st->st_uid, st->st_gid) < 0)
    return copy_err (c, err, errno, "chown %s", rel);
  if (fchmod (dfd, st->st_mode & 07777) < 0)
    return copy_err (c, err, errno, "chmod %s", rel);
  if (copy_xattrs (c, sfd, NULL, dfd, NULL, rel, err) < 0)
    return -1;
  struct timespec ts[2] = { st->st_atim, st->st_mtim };
  if (futimens (dfd, ts) < 0)
    return copy_err (c, err, errno, "set times of %s", rel);
  return 0;
}

static int copy_data (struct copy_ctx *c, int in, int out, const char *rel, berr_t *err)
{
  bool use_cfr = true;
  cleanup_free char *buf = xmalloc (65536);
  for (;;)
    {
      ssize_t n;
      if (use_cfr)
        {
          n = copy_file_range (in, NULL, out, NULL, 1 << 30, 0);
          if (n < 0
              && (errno == EXDEV || errno == EINVAL || errno == ENOSYS || errno == EOPNOTSUPP))
            {
              use_cfr = false;
              continue;
            }
        }
      else
        {
          n = read (in, buf, 65536);
          if (n > 0 && fs_write_all (out, buf, (size_t)n) < 0)
            return copy_err (c, err, errno, "write %s", rel);
        }
      if (n < 0)
        {
          if (errno == EINTR)
            continue;
          return copy_err (c, err, errno, "copy %s", rel);
        }
      if (n == 0)
        return 0;
    }
}

/* Copied as a link, its target never looked at.  Out of line: the buffer stays off the stack of
 * the recursion. */
static __attribute__ ((noinline)) int copy_symlink (struct copy_ctx *c, int sdir, int ddir,
                                                    const char *name, const struct stat *st,
                                                    const char *rel, berr_t *err)
{
  char target[PATH_MAX]; /* Linux caps link targets below PATH_MAX */
  ssize_t n = readlinkat (sdir, name, target, sizeof target);
  if (n < 0 || n >= (ssize_t)sizeof target)
    return copy_err (c, err, n < 0 ? errno : ENAMETOOLONG, "readlink %s", rel);
  target[n] = '\0';
  if (symlinkat (target, ddir, name) < 0)
    return copy_err (c, err, errno, "symlink %s", rel);
  if (fchownat (ddir, name, st->st_uid, st->st_gid, AT_SYMLINK_NOFOLLOW) < 0)
    return copy_err (c, err, errno, "chown %s", rel);
  struct timespec ts[2] = { st->st_atim, st->st_mtim };
  if (utimensat (ddir, name, ts, AT_SYMLINK_NOFOLLOW) < 0)
    return copy_err (c, err, errno, "set times of %s", rel);
  return 0;
}

static int copy_dir (struct copy_ctx *c, int sdir, int ddir, const char *rel, int depth,
                     berr_t *err);

/* One directory entry name of sdir → ddir. */
static int copy_entry (struct copy_ctx *c, int sdir, int ddir, const char *name,
                       const char *parent_rel, int depth, berr_t *err)
{
  cleanup_free char *rel = parent_rel[0] ? xasprintf ("%s/%s", parent_rel, name) : xstrdup (name);
  struct stat st;
  if (fstatat (sdir, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
    return copy_err (c, err, errno, "stat %s", rel);
  if (!S_ISDIR (st.st_mode) && st.st_nlink > 1)
    {
      const char *first = find_link (c, &st);
      if (first)
        {
          /* Link to the first copy, whose parent is looked up inside the volume. */
          cleanup_free char *dir = xstrdup (first);
          char *slash = strrchr (dir, '/');
          const char *base = slash ? slash + 1 : first;
          if (slash)
            *slash = '\0';
          cleanup_close int pfd = slash
                                      ? fs_open_in_root (c->dst_root, dir, O_PATH | O_DIRECTORY, 0)
                                      : fcntl (c->dst_root, F_DUPFD_CLOEXEC, 3);
          if (pfd < 0 || linkat (pfd, base, ddir, name, 0) < 0)
            return copy_err (c, err, errno, "link %s to %s", rel, first);
          return 0;
        }
      remember_link (c, &st, rel);
    }
  switch (st.st_mode & S_IFMT)
    {
    case S_IFDIR:
      {
        if (depth >= MAX_DEPTH)
          return copy_err (c, err, ELOOP, "%s: directories nested too deep", rel);
        if (mkdirat (ddir, name, 0700) < 0)
          return copy_err (c, err, errno, "mkdir %s", rel);
        cleanup_close int s = openat (sdir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        cleanup_close int d = openat (ddir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (s < 0 || d < 0)
          return copy_err (c, err, errno, "open %s", rel);
        if (copy_dir (c, s, d, rel, depth + 1, err) < 0)
          return -1;
        return finish_fd (c, s, d, &st, rel, err);
      }
    case S_IFREG:
      {
        cleanup_close int s = openat (sdir, name, O_RDONLY | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC);
        if (s < 0)
          return copy_err (c, err, errno, "open %s", rel);
        cleanup_close int d
            = openat (ddir, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (d < 0)
          return copy_err (c, err, errno, "create %s", rel);
        if (copy_data (c, s, d, rel, err) < 0)
          return -1;
        return finish_fd (c, s, d, &st, rel, err);
      }
    case S_IFLNK:
      return copy_symlink (c, sdir, ddir, name, &st, rel, err);
    case S_IFCHR:
    case S_IFBLK:
    case S_IFIFO:
    case S_IFSOCK:
      {
        if (mknodat (ddir, name, (st.st_mode & S_IFMT) | 0600, st.st_rdev) < 0)
          return copy_err (c, err, errno, "mknod %s", rel);
        /* Through O_PATH fds and their /proc links: a node is never opened for I/O. */
        cleanup_close int s = openat (sdir, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
        cleanup_close int d = openat (ddir, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
        if (s < 0 || d < 0)
          return copy_err (c, err, errno, "open %s", rel);
        char sp[64], dp[64];
        snprintf (sp, sizeof sp, "/proc/self/fd/%d", s);
        snprintf (dp, sizeof dp, "/proc/self/fd/%d", d);
        if (fchownat (d, "", st.st_uid, st.st_gid, AT_EMPTY_PATH) < 0)
          return copy_err (c, err, errno, "chown %s", rel);
        if (chmod (dp, st.st_mode & 07777) < 0)
          return copy_err (c, err, errno, "chmod %s", rel);
        if (copy_xattrs (c, -1, sp, -1, dp, rel, err) < 0)
          return -1;
        struct timespec ts[2] = { st.st_atim, st.st_mtim };
        if (utimensat (ddir, name, ts, AT_SYMLINK_NOFOLLOW) < 0)
          return copy_err (c, err, errno, "set times of %s", rel);
        return 0;
      }
    default:
      log_warn ("%s: skipping %s: unknown file type", c->what, rel);
      return 0;
    }
}

static int copy_dir (struct copy_ctx *c, int sdir, int ddir, const char *rel, int depth,
                     berr_t *err)
{
  int dupfd = fcntl (sdir, F_DUPFD_CLOEXEC, 3);
  if (dupfd < 0)
    return copy_err (c, err, errno, "dup");
  cleanup_closedir DIR *d = fdopendir (dupfd);
  if (d == NULL)
    {
      int e = errno;
      close (dupfd);
      return copy_err (c, err, e, "read directory %s", rel[0] ? rel : ".");
    }
  rewinddir (d);
  struct dirent *de;
  errno = 0;
  while ((de = readdir (d)))
    {
      if (strcmp (de->d_name, ".") == 0 || strcmp (de->d_name, "..") == 0)
        continue;
      if (copy_entry (c, sdir, ddir, de->d_name, rel, depth, err) < 0)
        return -1;
      errno = 0;
    }
  if (errno)
    return copy_err (c, err, errno, "read directory %s", rel[0] ? rel : ".");
  return 0;
}

static bool dir_is_empty (int dfd, bool *empty, berr_t *err)
{
  int dupfd = fcntl (dfd, F_DUPFD_CLOEXEC, 3);
  if (dupfd < 0)
    return berr_set (err, errno, "dup"), false;
  cleanup_closedir DIR *d = fdopendir (dupfd);
  if (d == NULL)
    {
      close (dupfd);
      return berr_set (err, errno, "read volume"), false;
    }
  struct dirent *de;
  *empty = true;
  while ((de = readdir (d)))
    if (strcmp (de->d_name, ".") != 0 && strcmp (de->d_name, "..") != 0)
      {
        *empty = false;
        break;
      }
  return true;
}

/* Copy the image's directory at dest (inside rootfd) into the volume name, once. */
static int copy_up_one (struct store *s, int rootfd, const char *name, const char *dest,
                        berr_t *err)
{
  cleanup_free char *vdir = store_volume_dir (s, name);
  cleanup_close int vfd = open (vdir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (vfd < 0)
    return berr_set (err, errno, "copy-up %s: open volume %s", dest, name);
  /* One copy-up per volume at a time: a second container waits, then finds it populated. */
  if (flock (vfd, LOCK_EX) < 0)
    return berr_set (err, errno, "copy-up %s: lock volume %s", dest, name);
  if (faccessat (vfd, POPULATED_MARK, F_OK, AT_SYMLINK_NOFOLLOW) == 0)
    return 0;
  cleanup_close int data = openat (vfd, "_data", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (data < 0)
    return berr_set (err, errno, "copy-up %s: open %s/_data", dest, vdir);
  bool empty;
  if (!dir_is_empty (data, &empty, err))
    return berr_wrap (err, "copy-up %s", dest);
  if (!empty)
    return 0; /* Docker copies into an empty volume only */

  /* The destination as the container will see it: resolved inside the rootfs. */
  cleanup_close int src_path = fs_open_in_root (rootfd, dest, O_PATH, 0);
  if (src_path < 0)
    {
      if (errno == ENOENT)
        return 0;
      return berr_set (err, errno, "copy-up %s: open in rootfs", dest);
    }
  struct stat st;
  if (fstat (src_path, &st) < 0)
    return berr_set (err, errno, "copy-up %s: stat", dest);
  if (!S_ISDIR (st.st_mode))
    return 0;
  cleanup_close int src = openat (src_path, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (src < 0)
    return berr_set (err, errno, "copy-up %s: open", dest);
  bool src_empty;
  if (!dir_is_empty (src, &src_empty, err))
    return berr_wrap (err, "copy-up %s", dest);
  if (src_empty)
    return 0; /* nothing to copy: a later image with content may still populate it */

  cleanup_free char *what = xasprintf ("copy-up %s into volume %s", dest, name);
  struct copy_ctx c = { .dst_root = data, .what = what };
  int r = copy_dir (&c, src, data, "", 0, err);
  if (r == 0)
    r = finish_fd (&c, src, data, &st, ".", err);
  copy_ctx_release (&c);
  if (r < 0)
    return -1;
  cleanup_close int mark
      = openat (vfd, POPULATED_MARK, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (mark < 0)
    return berr_set (err, errno, "copy-up %s: mark volume %s populated", dest, name);
  return 0;
}

int volume_copy_up (struct store *s, const char *rootfs, const json_t *mounts, berr_t *err)
{
  cleanup_close int rootfd = open (rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (rootfd < 0)
    return berr_set (err, errno, "copy-up: open rootfs %s", rootfs);
  size_t i;
  json_t *m;
  json_array_foreach (mounts, i, m)
  {
    const char *type = json_get_str (m, "Type");
    const char *name = json_get_str (m, "Name");
    const char *dest = json_get_str (m, "Destination");
    if (type == NULL || strcmp (type, "volume") != 0 || name == NULL || dest == NULL
        || !json_is_true (json_object_get (m, "CopyData")))
      continue;
    if (copy_up_one (s, rootfd, name, dest, err) < 0)
      return -1;
  }
  return 0;
}
