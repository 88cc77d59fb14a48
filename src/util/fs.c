#include "fs.h"

#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

int fs_mkdir_p (const char *path, mode_t mode, berr_t *err)
{
  cleanup_free char *p = xstrdup (path);
  size_t n = strlen (p);
  for (size_t i = 1; i <= n; i++)
    {
      if (p[i] != '/' && p[i] != '\0')
        continue;
      char saved = p[i];
      p[i] = '\0';
      if (mkdir (p, mode) < 0 && errno != EEXIST)
        return berr_set (err, errno, "mkdir %s", p);
      p[i] = saved;
    }
  return 0;
}

static int rm_rf_fd (int dirfd, berr_t *err)
{
  cleanup_closedir DIR *d = fdopendir (dirfd);
  if (d == NULL)
    {
      close (dirfd);
      return berr_set (err, errno, "fdopendir");
    }
  struct dirent *de;
  while ((de = readdir (d)))
    {
      if (strcmp (de->d_name, ".") == 0 || strcmp (de->d_name, "..") == 0)
        continue;
      if (fs_rm_rf_at (dirfd, de->d_name, err) < 0)
        return -1;
    }
  return 0;
}

/* The mount a file descriptor lies on (0 when the kernel cannot tell). */
static uint64_t mount_id_of (int fd, const char *name)
{
  struct statx sx;
  if (statx (fd, name, AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT | (name[0] ? 0 : AT_EMPTY_PATH),
             STATX_MNT_ID, &sx)
          < 0
      || !(sx.stx_mask & STATX_MNT_ID))
    return 0;
  return sx.stx_mnt_id;
}

int fs_rm_rf_at (int dirfd, const char *name, berr_t *err)
{
  if (unlinkat (dirfd, name, 0) == 0 || errno == ENOENT)
    return 0;
  if (errno != EISDIR && errno != EPERM)
    return berr_set (err, errno, "remove %s", name);
  int fd = openat (dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    {
      if (errno == ENOENT)
        return 0;
      return berr_set (err, errno, "open %s", name);
    }
  /* Never into another mount: a bind of a user's directory left behind by a crash would be
   * emptied. The caller unmounts first (fs_unmount_under). */
  uint64_t here = mount_id_of (fd, ""), parent = mount_id_of (dirfd, "");
  if (here && parent && here != parent)
    {
      close (fd);
      return berr_set (err, EBUSY, "remove %s: a mount point", name);
    }
  if (rm_rf_fd (fd, err) < 0)
    return berr_wrap (err, "remove %s", name);
  if (unlinkat (dirfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
    return berr_set (err, errno, "rmdir %s", name);
  return 0;
}

int fs_rm_rf (const char *path, berr_t *err) { return fs_rm_rf_at (AT_FDCWD, path, err); }

int fs_write_all (int fd, const void *data, size_t len)
{
  const char *p = data;
  while (len > 0)
    {
      ssize_t w = write (fd, p, len);
      if (w < 0)
        {
          if (errno == EINTR)
            continue;
          return -1;
        }
      p += w;
      len -= (size_t)w;
    }
  return 0;
}

int fs_fsync_dir (const char *path, berr_t *err)
{
  cleanup_close int fd = open (path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    return berr_set (err, errno, "open %s", path);
  if (fsync (fd) < 0)
    return berr_set (err, errno, "fsync %s", path);
  return 0;
}

int fs_write_atomic (const char *path, const void *data, size_t len, mode_t mode, berr_t *err)
{
  /* A fresh, unpredictable name created exclusively: never a file or symlink someone planted
   * beside path (the directory may be writable by others, e.g. a user's ~/.docker written by
   * root), and the mode is the one asked for, not an old file's. */
  cleanup_free char *tmp = xasprintf ("%s.tmp-XXXXXX", path);
  cleanup_close int fd = mkostemp (tmp, O_CLOEXEC);
  if (fd < 0)
    return berr_set (err, errno, "create %s", tmp);
  if (fchmod (fd, mode) < 0)
    {
      int e = errno;
      unlink (tmp);
      return berr_set (err, e, "chmod %s", tmp);
    }
  if (fs_write_all (fd, data, len) < 0 || fsync (fd) < 0)
    {
      int e = errno;
      unlink (tmp);
      return berr_set (err, e, "write %s", tmp);
    }
  if (rename (tmp, path) < 0)
    {
      int e = errno;
      unlink (tmp);
      return berr_set (err, e, "rename %s", path);
    }
  cleanup_free char *dir = xstrdup (path);
  char *slash = strrchr (dir, '/');
  if (slash && slash != dir)
    {
      *slash = '\0';
      return fs_fsync_dir (dir, err);
    }
  return 0;
}

int fs_read_fd (int fd, size_t max, char **out, size_t *len, berr_t *err)
{
  struct sbuf b;
  sbuf_init (&b);
  for (;;)
    {
      sbuf_grow (&b, 65536);
      ssize_t r = read (fd, b.buf + b.len, b.cap - b.len - 1);
      if (r < 0)
        {
          if (errno == EINTR)
            continue;
          sbuf_release (&b);
          return berr_set (err, errno, "read");
        }
      if (r == 0)
        {
          b.buf[b.len] = '\0'; /* also when the file is empty */
          break;
        }
      b.len += (size_t)r;
      b.buf[b.len] = '\0';
      if (b.len > max)
        {
          sbuf_release (&b);
          return berr_setk (err, BERR_INVALID, 0, "file larger than %zu bytes", max);
        }
    }
  if (len)
    *len = b.len;
  *out = sbuf_detach (&b);
  return 0;
}

int fs_read_file (const char *path, size_t max, char **out, size_t *len, berr_t *err)
{
  cleanup_close int fd = open (path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return berr_set (err, errno, "open %s", path);
  if (fs_read_fd (fd, max, out, len, err) < 0)
    return berr_wrap (err, "%s", path);
  return 0;
}

int fs_open_in_root (int rootfd, const char *path, int flags, mode_t mode)
{
  struct open_how how = { 0 };
  how.flags = (uint64_t)flags | O_CLOEXEC;
  how.mode = (flags & (O_CREAT | O_TMPFILE)) ? mode : 0;
  how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
  for (;;)
    {
      long r = syscall (SYS_openat2, rootfd, path, &how, sizeof how);
      if (r < 0 && errno == EAGAIN)
        continue; /* a concurrent rename raced the lookup; retry */
      return (int)r;
    }
}

int fs_mkdir_in_root (int rootfd, const char *path, mode_t mode)
{
  int fd = fs_open_in_root (rootfd, path, O_PATH | O_DIRECTORY, 0);
  if (fd >= 0 || errno != ENOENT)
    return fd;
  /* Walk prefix by prefix. Each prefix is opened from the root (RESOLVE_IN_ROOT), so nothing
   * met on the way can lead outside. A missing component is created in its resolved parent; a
   * dangling symlink is followed by hand (its target taken relative to the root) so the
   * directories are created where the link points inside the tree, as an unpacker expects. */
  cleanup_free char *cur = xstrdup (path);
  for (int links = 0; links < 40; links++)
    {
      cleanup_free char *prefix = xstrdup ("");
      cleanup_close int parent = fcntl (rootfd, F_DUPFD_CLOEXEC, 3);
      if (parent < 0)
        return -1;
      char *save = NULL;
      char *restart = NULL;
      cleanup_free char *work = xstrdup (cur);
      char *comp = strtok_r (work, "/", &save);
      for (; comp; comp = strtok_r (NULL, "/", &save))
        {
          if (strcmp (comp, ".") == 0)
            continue;
          char *next_prefix;
          if (strcmp (comp, "..") == 0)
            {
              char *slash = strrchr (prefix, '/');
              next_prefix = slash ? xstrndup (prefix, (size_t)(slash - prefix)) : xstrdup ("");
            }
          else
            next_prefix = prefix[0] ? xasprintf ("%s/%s", prefix, comp) : xstrdup (comp);
          int next = next_prefix[0] ? fs_open_in_root (rootfd, next_prefix, O_PATH | O_DIRECTORY, 0)
                                    : fcntl (rootfd, F_DUPFD_CLOEXEC, 3);
          if (next < 0 && errno == ENOENT)
            {
              struct stat st;
              if (fstatat (parent, comp, &st, AT_SYMLINK_NOFOLLOW) < 0)
                {
                  if (errno != ENOENT || (mkdirat (parent, comp, mode) < 0 && errno != EEXIST))
                    {
                      free (next_prefix);
                      return -1;
                    }
                  next = fs_open_in_root (rootfd, next_prefix, O_PATH | O_DIRECTORY, 0);
                }
              else if (S_ISLNK (st.st_mode))
                {
                  char target[4096];
                  ssize_t n = readlinkat (parent, comp, target, sizeof target - 1);
                  free (next_prefix);
                  if (n < 0)
                    return -1;
                  target[n] = '\0';
                  const char *rest = save && *save ? save : "";
                  restart = target[0] == '/' ? xasprintf ("%s/%s", target, rest)
                                             : xasprintf ("%s/%s/%s", prefix, target, rest);
                  break;
                }
              else
                {
                  free (next_prefix);
                  errno = ENOTDIR;
                  return -1;
                }
            }
          if (next < 0)
            {
              free (next_prefix);
              return -1;
            }
          close (parent);
          parent = next;
          free (prefix);
          prefix = next_prefix;
        }
      if (restart == NULL)
        return steal_fd (&parent);
      free (cur);
      cur = restart;
    }
  errno = ELOOP;
  return -1;
}

static int64_t tree_size_fd (int dirfd)
{
  int64_t total = 0;
  DIR *d = fdopendir (dirfd);
  if (d == NULL)
    {
      close (dirfd);
      return 0;
    }
  struct dirent *de;
  while ((de = readdir (d)))
    {
      struct stat st;
      if (strcmp (de->d_name, ".") == 0 || strcmp (de->d_name, "..") == 0)
        continue;
      if (fstatat (dirfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
        continue;
      if (S_ISDIR (st.st_mode))
        {
          int fd = openat (dirfd, de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
          if (fd >= 0)
            total += tree_size_fd (fd);
        }
      else if (S_ISREG (st.st_mode) || S_ISLNK (st.st_mode))
        total += st.st_size;
    }
  closedir (d);
  return total;
}

int64_t fs_tree_size (const char *path)
{
  int fd = open (path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    return 0;
  return tree_size_fd (fd);
}

/* Go's path.Clean (filepath.Clean on Linux): the shortest equivalent path, lexically. */
char *fs_path_clean (const char *p)
{
  if (p == NULL || p[0] == '\0')
    return xstrdup (".");
  size_t n = strlen (p);
  char *out = xmalloc (n + 2);
  bool rooted = p[0] == '/';
  size_t w = 0, r = 0, floor = 0; /* floor: ".." never backs up past this index */
  if (rooted)
    {
      out[w++] = '/';
      r = floor = 1;
    }
  while (r < n)
    {
      if (p[r] == '/')
        r++;
      else if (p[r] == '.' && (r + 1 == n || p[r + 1] == '/'))
        r++;
      else if (p[r] == '.' && p[r + 1] == '.' && (r + 2 == n || p[r + 2] == '/'))
        {
          r += 2;
          if (w > floor)
            {
              w--;
              while (w > floor && out[w] != '/')
                w--;
            }
          else if (!rooted)
            {
              if (w > 0)
                out[w++] = '/';
              out[w++] = '.';
              out[w++] = '.';
              floor = w;
            }
        }
      else
        {
          if ((rooted && w != 1) || (!rooted && w != 0))
            out[w++] = '/';
          while (r < n && p[r] != '/')
            out[w++] = p[r++];
        }
    }
  if (w == 0)
    out[w++] = '.';
  out[w] = '\0';
  return out;
}

int fs_unmount_under (const char *dir, berr_t *err)
{
  cleanup_free char *data = NULL;
  size_t len = 0;
  if (fs_read_file ("/proc/self/mountinfo", 64 << 20, &data, &len, err) < 0)
    return -1;
  size_t dl = strlen (dir);
  char **found = NULL;
  size_t n = 0;
  for (char *line = data, *next; line && *line; line = next)
    {
      next = strchr (line, '\n');
      if (next)
        *next++ = '\0';
      /* id parent major:minor root mountpoint … ; octal escapes in the mount point */
      char *f = line;
      for (int k = 0; k < 4 && f; k++)
        {
          f = strchr (f, ' ');
          if (f)
            f++;
        }
      if (!f)
        continue;
      char *end = strchr (f, ' ');
      if (end)
        *end = '\0';
      struct sbuf mp;
      sbuf_init (&mp);
      for (char *c = f; *c; c++)
        if (c[0] == '\\' && c[1] >= '0' && c[1] <= '3' && c[2] >= '0' && c[2] <= '7' && c[3] >= '0'
            && c[3] <= '7')
          {
            sbuf_addc (&mp, (char)((c[1] - '0') * 64 + (c[2] - '0') * 8 + (c[3] - '0')));
            c += 3;
          }
        else
          sbuf_addc (&mp, *c);
      char *m = sbuf_detach (&mp);
      if (strncmp (m, dir, dl) == 0 && (m[dl] == '/' || m[dl] == '\0'))
        {
          found = xrealloc (found, (n + 1) * sizeof *found);
          found[n++] = m;
        }
      else
        free (m);
    }
  int unmounted = 0;
  /* the deepest first (later in mountinfo is mounted later: on top) */
  for (size_t i = n; i-- > 0;)
    {
      if (umount2 (found[i], MNT_DETACH) == 0)
        unmounted++;
      free (found[i]);
    }
  free (found);
  return unmounted;
}

/* in-kernel when the filesystems allow it (copy_file_range), else read/write */
int fs_copy_data (int sfd, int dfd)
{
  bool use_cfr = true;
  char buf[65536];
  for (;;)
    {
      ssize_t n;
      if (use_cfr)
        {
          n = copy_file_range (sfd, NULL, dfd, NULL, 1 << 30, 0);
          if (n < 0
              && (errno == EXDEV || errno == EINVAL || errno == ENOSYS || errno == EOPNOTSUPP
                  || errno == EBADF))
            {
              use_cfr = false;
              continue;
            }
          if (n < 0 && errno == EINTR)
            continue;
          if (n < 0)
            return -1;
          if (n == 0)
            return 0;
          continue;
        }
      n = read (sfd, buf, sizeof buf);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        return -1;
      if (n == 0)
        return 0;
      if (fs_write_all (dfd, buf, (size_t)n) < 0)
        return -1;
    }
}
