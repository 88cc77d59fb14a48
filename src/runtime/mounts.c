/* mounts.c — the container's filesystem, child side: propagation, the rootfs bind, the spec's
 * mounts, /dev, pivot_root, masked and read-only paths, a read-only root, /dev/console.
 *
 * Every path inside the rootfs is resolved with openat2(RESOLVE_IN_ROOT|RESOLVE_NO_MAGICLINKS)
 * to an O_PATH fd and the mount goes onto /proc/self/fd/N, so a symlink in the image can never
 * point a mount at the host (CVE-2021-30465 and friends).  A mount changes what a path names,
 * so after mounting, the path is resolved again before it is touched a second time.
 *
 * No allocation here: see rt_internal.h. */
#include "rt_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "runtime/cgroup.h"
#include "util/fs.h"

#ifndef MS_NOSYMFOLLOW
#define MS_NOSYMFOLLOW 256
#endif
#ifndef ST_NOSYMFOLLOW
#define ST_NOSYMFOLLOW 0x2000
#endif

struct fdpath
{
  char s[32];
};

static const char *fdpath (struct fdpath *p, int fd)
{
  snprintf (p->s, sizeof p->s, "/proc/self/fd/%d", fd);
  return p->s;
}

static void close_keep_errno (int fd)
{
  int e = errno;
  if (fd >= 0)
    close (fd);
  errno = e;
}

int rt_mkdir_in_root (int rootfd, const char *path, mode_t mode)
{
  int fd = fs_open_in_root (rootfd, path, O_PATH | O_DIRECTORY, 0);
  if (fd >= 0 || errno != ENOENT)
    return fd;
  char cur[PATH_MAX];
  if (strlen (path) >= sizeof cur)
    {
      errno = ENAMETOOLONG;
      return -1;
    }
  strcpy (cur, path);
  /* Open each prefix from the root; create what is missing inside the resolved parent.  A
   * dangling symlink is followed by hand, its target taken inside the root, so the directories
   * appear where the link points within the tree (as runc's MkdirAll does). */
  for (int links = 0; links < 40; links++)
    {
      int parent = fcntl (rootfd, F_DUPFD_CLOEXEC, 3);
      if (parent < 0)
        return -1;
      bool restarted = false;
      char *p = cur;
      while (*p)
        {
          while (*p == '/')
            p++;
          if (*p == '\0')
            break;
          char *comp = p;
          while (*p && *p != '/')
            p++;
          char saved = *p;
          *p = '\0';
          fd = fs_open_in_root (rootfd, cur, O_PATH | O_DIRECTORY, 0);
          if (fd < 0 && errno == ENOENT)
            {
              struct stat st;
              char target[PATH_MAX], next[PATH_MAX];
              if (fstatat (parent, comp, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK (st.st_mode))
                {
                  ssize_t n = readlinkat (parent, comp, target, sizeof target - 1);
                  close (parent);
                  if (n < 0)
                    return -1;
                  target[n] = '\0';
                  const char *rest = saved ? p + 1 : "";
                  int len = target[0] == '/' ? snprintf (next, sizeof next, "%s/%s", target, rest)
                                             : snprintf (next, sizeof next, "%.*s%s/%s",
                                                         (int)(comp - cur), cur, target, rest);
                  if (len < 0 || (size_t)len >= sizeof next)
                    {
                      errno = ENAMETOOLONG;
                      return -1;
                    }
                  strcpy (cur, next);
                  restarted = true;
                  break;
                }
              if (mkdirat (parent, comp, mode) < 0 && errno != EEXIST)
                {
                  close_keep_errno (parent);
                  return -1;
                }
              fd = fs_open_in_root (rootfd, cur, O_PATH | O_DIRECTORY, 0);
            }
          close_keep_errno (parent);
          if (fd < 0)
            return -1;
          parent = fd;
          *p = saved;
        }
      if (!restarted)
        return parent;
    }
  errno = ELOOP;
  return -1;
}

/* The mount target for a file bind: the file, created empty if missing. */
static int file_in_root (int rootfd, const char *path)
{
  int fd = fs_open_in_root (rootfd, path, O_PATH, 0);
  if (fd >= 0 || errno != ENOENT)
    return fd;
  char dir[PATH_MAX];
  const char *slash = strrchr (path, '/');
  size_t dlen = (size_t)(slash - path);
  if (slash == NULL || dlen >= sizeof dir || slash[1] == '\0')
    {
      errno = EINVAL;
      return -1;
    }
  memcpy (dir, path, dlen);
  dir[dlen] = '\0';
  int dfd = rt_mkdir_in_root (rootfd, dlen ? dir : "/", 0755);
  if (dfd < 0)
    return -1;
  if (mknodat (dfd, slash + 1, S_IFREG | 0644, 0) < 0 && errno != EEXIST)
    {
      close_keep_errno (dfd);
      return -1;
    }
  close (dfd);
  return fs_open_in_root (rootfd, path, O_PATH, 0);
}

/* The flags the kernel would refuse to drop on remount (locked in a user namespace) or that
 * the caller should not lose silently: keep them from what is mounted now. */
static unsigned long mounted_flags (int fd)
{
  struct statvfs sv;
  unsigned long f = 0;
  if (fstatvfs (fd, &sv) < 0)
    return 0;
  if (sv.f_flag & ST_NOSUID)
    f |= MS_NOSUID;
  if (sv.f_flag & ST_NODEV)
    f |= MS_NODEV;
  if (sv.f_flag & ST_NOEXEC)
    f |= MS_NOEXEC;
  if (sv.f_flag & ST_NOATIME)
    f |= MS_NOATIME;
  if (sv.f_flag & ST_NODIRATIME)
    f |= MS_NODIRATIME;
  if (sv.f_flag & ST_RELATIME)
    f |= MS_RELATIME;
  if (sv.f_flag & ST_RDONLY)
    f |= MS_RDONLY;
  if (sv.f_flag & ST_NOSYMFOLLOW)
    f |= MS_NOSYMFOLLOW;
  return f;
}

/* Change the per-mount flags of the bind mount fd is on: set `set`, clear `clear`. */
static int remount_bind (int fd, unsigned long set, unsigned long clear)
{
  struct fdpath fp;
  unsigned long flags = (mounted_flags (fd) | set) & ~clear;
  return mount (NULL, fdpath (&fp, fd), NULL, MS_REMOUNT | MS_BIND | flags, NULL);
}

/* ---- binds: the new mount API where the kernel has it ------------------------------------- */

/* open_tree + mount_setattr + move_mount work on fds from start to end: no /proc/self/fd path
 * is walked, the flags land on the new tree before anyone can see it, and nothing has to be
 * resolved again after the mount.  Kernels before 5.12 take the mount(2) path instead. */
static int have_new_api = -1;

static uint64_t ms_to_attr (unsigned long ms)
{
  uint64_t a = 0;
  if (ms & MS_RDONLY)
    a |= MOUNT_ATTR_RDONLY;
  if (ms & MS_NOSUID)
    a |= MOUNT_ATTR_NOSUID;
  if (ms & MS_NODEV)
    a |= MOUNT_ATTR_NODEV;
  if (ms & MS_NOEXEC)
    a |= MOUNT_ATTR_NOEXEC;
  if (ms & MS_NODIRATIME)
    a |= MOUNT_ATTR_NODIRATIME;
  if (ms & MS_NOSYMFOLLOW)
    a |= MOUNT_ATTR_NOSYMFOLLOW;
  return a;
}

/* 0 on success, -1 with errno, -2 when the kernel lacks the API (nothing was changed). */
static int bind_new_api (int src_dirfd, const char *src_path, int dst_fd, bool rec,
                         unsigned long set, unsigned long clear)
{
  if (have_new_api == 0)
    return -2;
  unsigned flags = OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | (src_path[0] ? 0 : AT_EMPTY_PATH)
                   | (rec ? AT_RECURSIVE : 0);
  int t = (int)syscall (SYS_open_tree, src_dirfd, src_path, flags);
  if (t < 0)
    {
      if (errno != ENOSYS)
        return -1;
      have_new_api = 0;
      return -2;
    }
  if (set || clear)
    {
      struct mount_attr a = { ms_to_attr (set), ms_to_attr (clear), 0, 0 };
      if (set & (MS_NOATIME | MS_RELATIME | MS_STRICTATIME))
        {
          a.attr_clr |= MOUNT_ATTR__ATIME;
          a.attr_set |= (set & MS_NOATIME)       ? MOUNT_ATTR_NOATIME
                        : (set & MS_STRICTATIME) ? MOUNT_ATTR_STRICTATIME
                                                 : MOUNT_ATTR_RELATIME;
        }
      if (syscall (SYS_mount_setattr, t, "", AT_EMPTY_PATH | (rec ? AT_RECURSIVE : 0), &a, sizeof a)
          < 0)
        {
          close_keep_errno (t);
          if (errno != ENOSYS)
            return -1;
          have_new_api = 0;
          return -2;
        }
    }
  int r = (int)syscall (SYS_move_mount, t, "", dst_fd, "",
                        MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH);
  close_keep_errno (t);
  if (r == 0)
    have_new_api = 1;
  return r;
}

/* Where the legacy path finds the new mount again: the target fd still names what was under
 * it. */
struct reopen
{
  int dirfd;
  const char *path;
  bool in_root; /* resolve path with RESOLVE_IN_ROOT from dirfd, else plain openat */
  int flags;    /* O_NOFOLLOW or 0 */
};

static int reopen (const struct reopen *ro)
{
  if (ro->in_root)
    return fs_open_in_root (ro->dirfd, ro->path, O_PATH | ro->flags, 0);
  return openat (ro->dirfd, ro->path, O_PATH | O_CLOEXEC | ro->flags);
}

/* Bind (src_dirfd, src_path) — src_path "" for the fd itself — onto dst_fd, then set and clear
 * per-mount flags (MS_*) on the new mount. */
static int bind_at (int src_dirfd, const char *src_path, int dst_fd, bool rec, unsigned long set,
                    unsigned long clear, const struct reopen *ro)
{
  int r = bind_new_api (src_dirfd, src_path, dst_fd, rec, set, clear);
  if (r != -2)
    return r;
  struct fdpath sp, dp;
  const char *src = src_path[0] ? src_path : fdpath (&sp, src_dirfd);
  if (src_path[0] && src_path[0] != '/' && src_dirfd != AT_FDCWD)
    {
      errno = EINVAL;
      return -1;
    }
  if (mount (src, fdpath (&dp, dst_fd), NULL, MS_BIND | (rec ? MS_REC : 0), NULL) < 0)
    return -1;
  if (!set && !clear)
    return 0;
  int fd = reopen (ro);
  if (fd < 0)
    return -1;
  r = remount_bind (fd, set, clear);
  close_keep_errno (fd);
  return r;
}

/* Per-mount flags of the mount fd is on (no bind): the root, a tmpfs just made. */
static int setattr_fd (int fd, unsigned long set)
{
  if (have_new_api != 0)
    {
      struct mount_attr a = { ms_to_attr (set), 0, 0, 0 };
      if (syscall (SYS_mount_setattr, fd, "", AT_EMPTY_PATH, &a, sizeof a) == 0)
        return 0;
      if (errno != ENOSYS)
        return -1;
      have_new_api = 0;
    }
  return remount_bind (fd, set, 0);
}

static bool is_under (const char *path, const char *dir)
{
  size_t n = strlen (dir);
  return strncmp (path, dir, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

/* CVE-2023-27561 / CVE-2019-19921: a /proc or /sys that is a symlink would send the kernel
 * filesystems (and the runtime's later writes) somewhere the image chose. */
static int refuse_symlink (struct rt_child *ch, const char *dest)
{
  int fd = fs_open_in_root (ch->rootfd, dest, O_PATH | O_NOFOLLOW, 0);
  if (fd < 0)
    return errno == ENOENT ? 0 : rt_child_fail (ch, errno, "open mount destination %s", dest);
  struct stat st;
  int r = fstat (fd, &st);
  close (fd);
  if (r == 0 && S_ISLNK (st.st_mode))
    return rt_child_fail (ch, 0,
                          "mount destination %s is a symlink: must be mounted on an "
                          "ordinary directory",
                          dest);
  return 0;
}

/* Find the cgroup path of the hierarchy whose superblock options are `super` (or the v2 one
 * when v2) in the /proc/self/cgroup text saved before any cgroup namespace. */
static bool cgroup_path_for (const char *selfcg, const char *super, bool v2, char *out, size_t len)
{
  const char *line = selfcg;
  while (line && *line)
    {
      const char *nl = strchr (line, '\n');
      size_t llen = nl ? (size_t)(nl - line) : strlen (line);
      const char *c1 = memchr (line, ':', llen);
      const char *c2 = c1 ? memchr (c1 + 1, ':', llen - (size_t)(c1 + 1 - line)) : NULL;
      if (c2)
        {
          size_t clen = (size_t)(c2 - c1 - 1);
          bool match;
          if (v2)
            match = clen == 0;
          else
            {
              /* every controller of the line must be an option of the superblock */
              match = clen > 0;
              const char *p = c1 + 1;
              while (match && p < c2)
                {
                  const char *e = memchr (p, ',', (size_t)(c2 - p));
                  size_t n = e ? (size_t)(e - p) : (size_t)(c2 - p);
                  bool found = false;
                  for (const char *s = super; *s;)
                    {
                      const char *se = strchr (s, ',');
                      size_t sn = se ? (size_t)(se - s) : strlen (s);
                      if (sn == n && memcmp (s, p, n) == 0)
                        found = true;
                      s += sn + (se ? 1 : 0);
                    }
                  match = found;
                  p += n + 1;
                }
            }
          size_t plen = llen - (size_t)(c2 + 1 - line);
          if (match && plen < len)
            {
              memcpy (out, c2 + 1, plen);
              out[plen] = '\0';
              return true;
            }
        }
      line = nl ? nl + 1 : NULL;
    }
  return false;
}

/* "cgroup" on a v1 or hybrid host: a tmpfs holding a read-only bind of the container's own
 * directory of every hierarchy (what Docker shows with cgroupns=host on v1). */
static int mount_cgroup_v1 (struct rt_child *ch, const struct rt_mount *m, int tfd)
{
  const struct rt_cfg *c = ch->cfg;
  struct fdpath fp;
  unsigned long base = MS_NOSUID | MS_NODEV | MS_NOEXEC;
  if (mount ("tmpfs", fdpath (&fp, tfd), "tmpfs", base, "mode=755") < 0)
    return rt_child_fail (ch, errno, "mount tmpfs to %s", m->dest);
  int dfd = fs_open_in_root (ch->rootfd, m->dest, O_PATH | O_DIRECTORY, 0);
  if (dfd < 0)
    return rt_child_fail (ch, errno, "open %s", m->dest);
  for (size_t i = 0; i < c->ncg_hiers; i++)
    {
      const struct rt_cgroup_hier *h = &c->cg_hiers[i];
      bool v2 = h->key[0] == '\0';
      char cgpath[PATH_MAX], src[PATH_MAX * 2];
      if (!cgroup_path_for (ch->selfcg, h->key, v2, cgpath, sizeof cgpath))
        continue;
      snprintf (src, sizeof src, "%s%s", h->mountpoint, strcmp (cgpath, "/") == 0 ? "" : cgpath);
      if (mkdirat (dfd, h->name, 0755) < 0 && errno != EEXIST)
        {
          close_keep_errno (dfd);
          return rt_child_fail (ch, errno, "mkdir %s/%s", m->dest, h->name);
        }
      int sfd = openat (dfd, h->name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      struct reopen ro = { dfd, h->name, false, O_NOFOLLOW };
      if (sfd < 0 || bind_at (AT_FDCWD, src, sfd, true, base | MS_RDONLY, 0, &ro) < 0)
        {
          close_keep_errno (sfd);
          close_keep_errno (dfd);
          return rt_child_fail (ch, errno, "mount %s to %s/%s", src, m->dest, h->name);
        }
      close (sfd);
      /* co-mounted controllers ("cpu,cpuacct") get a link per name, as on the host */
      if (strchr (h->name, ','))
        {
          char part[64];
          for (const char *s = h->name; *s;)
            {
              const char *e = strchr (s, ',');
              size_t n = e ? (size_t)(e - s) : strlen (s);
              if (n < sizeof part)
                {
                  memcpy (part, s, n);
                  part[n] = '\0';
                  (void)symlinkat (h->name, dfd, part);
                }
              s += n + (e ? 1 : 0);
            }
        }
    }
  int r = setattr_fd (dfd, base | MS_RDONLY);
  close_keep_errno (dfd);
  if (r < 0)
    return rt_child_fail (ch, errno, "remount %s read-only", m->dest);
  return 0;
}

/* "cgroup" on a unified host: a fresh cgroup2 inside a cgroup namespace, else a read-only bind
 * of the container's own directory. */
static int mount_cgroup_v2 (struct rt_child *ch, const struct rt_mount *m, int tfd)
{
  struct fdpath fp;
  unsigned long flags = (m->flags | MS_NOSUID | MS_NODEV | MS_NOEXEC) & ~MS_BIND;
  if (ch->cfg->new_cgroupns)
    {
      if (mount ("cgroup2", fdpath (&fp, tfd), "cgroup2", flags, NULL) < 0)
        return rt_child_fail (ch, errno, "mount cgroup2 to %s", m->dest);
      return 0;
    }
  char cgpath[PATH_MAX], src[PATH_MAX + 32];
  if (!cgroup_path_for (ch->selfcg, "", true, cgpath, sizeof cgpath))
    strcpy (cgpath, "/");
  snprintf (src, sizeof src, "/sys/fs/cgroup%s", strcmp (cgpath, "/") == 0 ? "" : cgpath);
  struct reopen ro = { ch->rootfd, m->dest, true, 0 };
  if (bind_at (AT_FDCWD, src, tfd, true, flags & ~MS_REC, 0, &ro) < 0)
    return rt_child_fail (ch, errno, "mount %s to %s", src, m->dest);
  return 0;
}

static int mount_one (struct rt_child *ch, const struct rt_mount *m)
{
  struct fdpath fp;
  const char *what = m->source ? m->source : m->type;
  if (is_under (m->dest, "/proc") || is_under (m->dest, "/sys"))
    {
      if (refuse_symlink (ch, is_under (m->dest, "/proc") ? "/proc" : "/sys") < 0
          || refuse_symlink (ch, m->dest) < 0)
        return -1;
    }
  int tfd = m->is_bind && !m->source_is_dir ? file_in_root (ch->rootfd, m->dest)
                                            : rt_mkdir_in_root (ch->rootfd, m->dest, 0755);
  if (tfd < 0)
    return rt_child_fail (ch, errno, "mount %s to %s: create the mount point", what, m->dest);

  int r = 0;
  unsigned long flags = m->flags & ~MS_REMOUNT;
  struct reopen ro = { ch->rootfd, m->dest, true, 0 };
  if (m->is_bind)
    r = bind_at (AT_FDCWD, m->source, tfd, flags & MS_REC, flags & ~(MS_BIND | MS_REC),
                 m->clear_flags, &ro);
  else if (strcmp (m->type, "cgroup") == 0
           && (ch->cfg->cgroup_mode == CGROUP_MODE_V1
               || ch->cfg->cgroup_mode == CGROUP_MODE_HYBRID))
    {
      r = mount_cgroup_v1 (ch, m, tfd);
      close (tfd);
      return r;
    }
  else if (strcmp (m->type, "cgroup") == 0 && ch->cfg->cgroup_mode == CGROUP_MODE_V2)
    {
      r = mount_cgroup_v2 (ch, m, tfd);
      close (tfd);
      return r;
    }
  else
    {
      r = mount (m->source ? m->source : m->type, fdpath (&fp, tfd), m->type, flags, m->data);
      /* sysfs needs a network namespace owned by our user namespace; without one, show the
       * host's, read-only (what runc and Docker do for --network host). */
      if (r < 0 && errno == EPERM && strcmp (m->type, "sysfs") == 0)
        r = bind_at (AT_FDCWD, "/sys", tfd, true, flags | MS_RDONLY, 0, &ro);
    }
  if (r < 0)
    {
      close_keep_errno (tfd);
      return rt_child_fail (ch, errno, "mount %s to %s", what, m->dest);
    }
  if (m->propagation)
    {
      close (tfd);
      tfd = fs_open_in_root (ch->rootfd, m->dest, O_PATH, 0);
      if (tfd < 0 || mount (NULL, fdpath (&fp, tfd), NULL, m->propagation, NULL) < 0)
        {
          close_keep_errno (tfd);
          return rt_child_fail (ch, errno, "set propagation of %s", m->dest);
        }
    }
  close (tfd);
  return 0;
}

/* ---- /dev --------------------------------------------------------------------------------- */

static bool spec_has_device (const struct rt_cfg *c, const char *path)
{
  for (size_t i = 0; i < c->ndevices; i++)
    if (strcmp (c->devices[i].path, path) == 0)
      return true;
  return false;
}

static int make_device (struct rt_child *ch, const struct rt_device *d)
{
  char dir[PATH_MAX];
  const char *slash = strrchr (d->path, '/');
  size_t dlen = (size_t)(slash - d->path);
  if (dlen >= sizeof dir)
    return rt_child_fail (ch, ENAMETOOLONG, "device %s", d->path);
  memcpy (dir, d->path, dlen);
  dir[dlen] = '\0';
  const char *base = slash + 1;
  int dfd = rt_mkdir_in_root (ch->rootfd, dir, 0755);
  if (dfd < 0)
    return rt_child_fail (ch, errno, "device %s: create %s", d->path, dir);
  int r = mknodat (dfd, base, d->mode, d->dev);
  if (r < 0 && errno == EEXIST)
    {
      /* The image's own /dev (no tmpfs over it): replace what is there unless it is right. */
      struct stat st;
      if (fstatat (dfd, base, &st, AT_SYMLINK_NOFOLLOW) == 0
          && (st.st_mode & S_IFMT) == (d->mode & S_IFMT) && st.st_rdev == d->dev)
        r = 0;
      else if (unlinkat (dfd, base, 0) == 0)
        r = mknodat (dfd, base, d->mode, d->dev);
    }
  if (r < 0 && errno == EPERM)
    {
      /* No mknod here (a user namespace): bind the host's node instead. */
      if (mknodat (dfd, base, S_IFREG | 0000, 0) < 0 && errno != EEXIST)
        r = -1;
      else
        {
          int nfd = openat (dfd, base, O_PATH | O_NOFOLLOW | O_CLOEXEC);
          r = nfd < 0 ? -1 : bind_at (AT_FDCWD, d->path, nfd, false, 0, 0, NULL);
          close_keep_errno (nfd);
        }
    }
  else if (r == 0 && (d->uid != 0 || d->gid != 0))
    r = fchownat (dfd, base, d->uid, d->gid, AT_SYMLINK_NOFOLLOW);
  close_keep_errno (dfd);
  if (r < 0)
    return rt_child_fail (ch, errno, "create device %s", d->path);
  return 0;
}

static int setup_dev (struct rt_child *ch)
{
  static const struct
  {
    const char *path;
    unsigned major, minor;
  } defaults[] = {
    { "/dev/null", 1, 3 },   { "/dev/zero", 1, 5 },    { "/dev/full", 1, 7 },
    { "/dev/random", 1, 8 }, { "/dev/urandom", 1, 9 }, { "/dev/tty", 5, 0 },
  };
  static const struct
  {
    const char *name, *target;
  } links[] = {
    { "fd", "/proc/self/fd" },       { "stdin", "/proc/self/fd/0" },
    { "stdout", "/proc/self/fd/1" }, { "stderr", "/proc/self/fd/2" },
    { "core", "/proc/kcore" },       { "ptmx", "pts/ptmx" },
  };
  const struct rt_cfg *c = ch->cfg;
  for (size_t i = 0; i < ARRAY_SIZE (defaults); i++)
    {
      if (spec_has_device (c, defaults[i].path))
        continue;
      struct rt_device d = { defaults[i].path, S_IFCHR | 0666,
                             makedev (defaults[i].major, defaults[i].minor), 0, 0 };
      if (make_device (ch, &d) < 0)
        return -1;
    }
  for (size_t i = 0; i < c->ndevices; i++)
    if (make_device (ch, &c->devices[i]) < 0)
      return -1;
  int dfd = rt_mkdir_in_root (ch->rootfd, "/dev", 0755);
  if (dfd < 0)
    return rt_child_fail (ch, errno, "open /dev");
  for (size_t i = 0; i < ARRAY_SIZE (links); i++)
    if (symlinkat (links[i].target, dfd, links[i].name) < 0 && errno != EEXIST)
      {
        close_keep_errno (dfd);
        return rt_child_fail (ch, errno, "symlink /dev/%s", links[i].name);
      }
  /* The mount point for the terminal, bound once the pty exists. */
  if (c->terminal && mknodat (dfd, "console", S_IFREG | 0600, 0) < 0 && errno != EEXIST)
    {
      close_keep_errno (dfd);
      return rt_child_fail (ch, errno, "create /dev/console");
    }
  close (dfd);
  return 0;
}

/* ---- root --------------------------------------------------------------------------------- */

static int pivot (struct rt_child *ch)
{
  int oldroot = open ("/", O_DIRECTORY | O_PATH | O_CLOEXEC);
  if (oldroot < 0)
    return rt_child_fail (ch, errno, "open /");
  if (fchdir (ch->rootfd) < 0)
    {
      close_keep_errno (oldroot);
      return rt_child_fail (ch, errno, "chdir to the rootfs %s", ch->cfg->rootfs);
    }
  /* pivot_root(".", ".") stacks the old root on top of the new one; detach it from there.  It
   * is made a slave first so the unmount cannot travel back to the host. */
  if (syscall (SYS_pivot_root, ".", ".") == 0)
    {
      if (fchdir (oldroot) < 0 || mount (NULL, ".", NULL, MS_SLAVE | MS_REC, NULL) < 0
          || umount2 (".", MNT_DETACH) < 0)
        {
          close_keep_errno (oldroot);
          return rt_child_fail (ch, errno, "detach the old root");
        }
    }
  else if (errno == EINVAL)
    {
      /* initramfs/ramfs roots cannot be pivoted away from */
      if (mount (".", "/", NULL, MS_MOVE, NULL) < 0 || chroot (".") < 0)
        {
          close_keep_errno (oldroot);
          return rt_child_fail (ch, errno, "move the rootfs to /");
        }
    }
  else
    {
      close_keep_errno (oldroot);
      return rt_child_fail (ch, errno, "pivot_root to %s", ch->cfg->rootfs);
    }
  close (oldroot);
  if (chdir ("/") < 0)
    return rt_child_fail (ch, errno, "chdir /");
  close (ch->rootfd);
  ch->rootfd = open ("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (ch->rootfd < 0)
    return rt_child_fail (ch, errno, "open the new root");
  if ((ch->cfg->rootfs_propagation & MS_SHARED)
      && mount (NULL, "/", NULL, ch->cfg->rootfs_propagation, NULL) < 0)
    return rt_child_fail (ch, errno, "make / shared");
  return 0;
}

int rt_mounts_setup (struct rt_child *ch)
{
  const struct rt_cfg *c = ch->cfg;
  /* Nothing done below may propagate back to the host.  pivot_root refuses shared mounts, so
   * "shared" is applied only once the root has moved. */
  unsigned long prop = c->rootfs_propagation;
  if (prop & MS_SHARED)
    prop = MS_SLAVE | MS_REC;
  if (mount (NULL, "/", NULL, prop, NULL) < 0)
    return rt_child_fail (ch, errno, "set propagation of /");
  if (mount (c->rootfs, c->rootfs, NULL, MS_BIND | MS_REC, NULL) < 0)
    return rt_child_fail (ch, errno, "bind the rootfs %s onto itself", c->rootfs);
  ch->rootfd = open (c->rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (ch->rootfd < 0)
    return rt_child_fail (ch, errno, "open the rootfs %s", c->rootfs);
  for (size_t i = 0; i < c->nmounts; i++)
    if (mount_one (ch, &c->mounts[i]) < 0)
      return -1;
  if (setup_dev (ch) < 0)
    return -1;
  int cwd = rt_mkdir_in_root (ch->rootfd, c->cwd, 0755);
  if (cwd < 0)
    return rt_child_fail (ch, errno, "create the working directory %s", c->cwd);
  close (cwd);
  /* createContainer hooks see the container's mounts (CDI's bind mounts, say) from the host's
   * view of paths: after the mounts, before pivot_root. */
  if (c->child_hooks[0] && rt_child_hook (ch, RT_HOOK_CREATE_CONTAINER) < 0)
    return -1;
  return pivot (ch);
}

/* ---- after pivot_root --------------------------------------------------------------------- */

static int mask_paths (struct rt_child *ch)
{
  struct fdpath fp;
  int nullfd = -1;
  for (char **p = ch->cfg->masked; p && *p; p++)
    {
      int fd = fs_open_in_root (ch->rootfd, *p, O_PATH | O_NOFOLLOW, 0);
      if (fd < 0 && (errno == ENOENT || errno == ENOTDIR))
        continue;
      if (fd < 0)
        {
          close_keep_errno (nullfd);
          return rt_child_fail (ch, errno, "masked path %s", *p);
        }
      struct stat st;
      int r = fstat (fd, &st);
      if (r == 0 && S_ISDIR (st.st_mode))
        r = mount ("tmpfs", fdpath (&fp, fd), "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
                   NULL);
      else if (r == 0 && !S_ISLNK (st.st_mode))
        {
          if (nullfd < 0)
            {
              /* CVE-2025-31133: bind only what is really the null device, never something a
               * symlink or a swapped file put at /dev/null. */
              struct stat ns;
              nullfd = fs_open_in_root (ch->rootfd, "/dev/null", O_PATH | O_NOFOLLOW, 0);
              if (nullfd < 0 || fstat (nullfd, &ns) < 0)
                {
                  close_keep_errno (fd);
                  return rt_child_fail (ch, errno, "masked paths: open /dev/null");
                }
              if (!S_ISCHR (ns.st_mode) || ns.st_rdev != makedev (1, 3))
                {
                  close (fd);
                  close (nullfd);
                  return rt_child_fail (ch, 0, "masked paths: /dev/null is not the null device");
                }
            }
          r = bind_at (nullfd, "", fd, false, 0, 0, NULL);
        }
      close_keep_errno (fd);
      if (r < 0)
        {
          close_keep_errno (nullfd);
          return rt_child_fail (ch, errno, "mask %s", *p);
        }
    }
  if (nullfd >= 0)
    close (nullfd);
  return 0;
}

static int readonly_paths (struct rt_child *ch)
{
  for (char **p = ch->cfg->readonly; p && *p; p++)
    {
      int fd = fs_open_in_root (ch->rootfd, *p, O_PATH | O_NOFOLLOW, 0);
      if (fd < 0 && (errno == ENOENT || errno == ENOTDIR))
        continue;
      if (fd < 0)
        return rt_child_fail (ch, errno, "read-only path %s", *p);
      struct stat st;
      if (fstat (fd, &st) == 0 && S_ISLNK (st.st_mode))
        {
          close (fd);
          continue;
        }
      struct reopen ro = { ch->rootfd, *p, true, O_NOFOLLOW };
      int r = bind_at (fd, "", fd, true, MS_RDONLY, 0, &ro);
      close_keep_errno (fd);
      if (r < 0)
        return rt_child_fail (ch, errno, "make %s read-only", *p);
    }
  return 0;
}

int rt_mounts_finalize (struct rt_child *ch)
{
  if (mask_paths (ch) < 0 || readonly_paths (ch) < 0)
    return -1;
  if (ch->cfg->root_readonly && setattr_fd (ch->rootfd, MS_RDONLY) < 0)
    return rt_child_fail (ch, errno, "remount / read-only");
  return 0;
}

int rt_console_setup (struct rt_child *ch, int slave_fd)
{
  int root = open ("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
  int fd = root < 0 ? -1 : fs_open_in_root (root, "/dev/console", O_PATH | O_NOFOLLOW, 0);
  close_keep_errno (root);
  if (fd < 0)
    return rt_child_fail (ch, errno, "open /dev/console");
  struct stat st;
  int r = fstat (fd, &st);
  if (r == 0 && !S_ISREG (st.st_mode) && !S_ISCHR (st.st_mode))
    {
      close (fd);
      return rt_child_fail (ch, 0, "/dev/console is not a file");
    }
  r = r < 0 ? -1 : bind_at (slave_fd, "", fd, false, 0, 0, NULL);
  close_keep_errno (fd);
  if (r < 0)
    return rt_child_fail (ch, errno, "bind the terminal to /dev/console");
  return 0;
}
