/* cp_tree.c — the trees cp works in (a container's rootfs plus its mounts, or a host directory)
 * and path resolution inside them.
 *
 * Why by hand: openat2(RESOLVE_IN_ROOT) on a whole path would keep a symlink inside the rootfs,
 * but it cannot know that /data is a volume whose files live elsewhere, so a symlink leading into
 * a mount would land on the empty mount point. Walking one component at a time keeps both
 * properties: every lookup is still openat2(RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS) of a single
 * name relative to a directory fd we hold (so nothing a container renames under us can lead
 * out: CVE-2018-15664), ".." pops the stack of those fds instead of asking the kernel, and the
 * logical path tells when a mount's source takes over. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "container/cp_int.h"
#include "util/fs.h"
#include "util/json.h"

#define MAX_SYMLINKS 40

char *cp_path_join (const char *dir, const char *name)
{
  if (dir[0] == '\0' || strcmp (dir, "/") == 0)
    return xasprintf ("/%s", name);
  return xasprintf ("%s/%s", dir, name);
}

int cp_reopen (int opath_fd, int flags)
{
  char proc[64];
  snprintf (proc, sizeof proc, "/proc/self/fd/%d", opath_fd);
  return open (proc, flags | O_CLOEXEC);
}

static int dup_fd (int fd) { return fcntl (fd, F_DUPFD_CLOEXEC, 3); }

/* ---- trees ---- */

static struct cp_fs *fs_new (int rootfd)
{
  struct cp_fs *fs = xzalloc (sizeof *fs);
  fs->rootfd = rootfd;
  return fs;
}

void cp_fs_free (struct cp_fs *fs)
{
  if (fs == NULL)
    return;
  for (size_t i = 0; i < fs->n_mounts; i++)
    {
      free (fs->mounts[i].dest);
      if (fs->mounts[i].fd >= 0)
        close (fs->mounts[i].fd);
    }
  free (fs->mounts);
  if (fs->rootfd >= 0)
    close (fs->rootfd);
  free (fs);
}

int cp_fs_open_host (const char *dir, struct cp_fs **out, berr_t *err)
{
  /* The user named this directory on the host: it is opened like any host path. */
  int fd = open (dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    return berr_setk (err, errno == ENOENT ? BERR_NOT_FOUND : BERR_GENERIC, errno, "open %s", dir);
  struct cp_fs *fs = fs_new (fd);
  fs->host = true;
  *out = fs;
  return 0;
}

int cp_fs_open_container (const char *rootfs, const json_t *mounts, bool readonly_rootfs,
                          struct cp_fs **out, berr_t *err)
{
  int fd = open (rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    return berr_set (err, errno, "open rootfs %s", rootfs);
  struct cp_fs *fs = fs_new (fd);
  fs->readonly_root = readonly_rootfs;
  size_t n = json_is_array (mounts) ? json_array_size (mounts) : 0;
  fs->mounts = xcalloc (n ? n : 1, sizeof *fs->mounts);
  for (size_t i = 0; i < n; i++)
    {
      json_t *m = json_array_get (mounts, i);
      const char *type = json_get_str (m, "Type");
      const char *src = json_get_str (m, "Source");
      const char *dst = json_get_str (m, "Destination");
      /* tmpfs lives only in the container's mount namespace: like Docker, cp sees what lies
       * under it in the rootfs. */
      if ((type && strcmp (type, "tmpfs") == 0) || src == NULL || src[0] != '/' || dst == NULL
          || dst[0] != '/')
        continue;
      json_t *rw = json_object_get (m, "RW");
      struct cp_mount *cm = &fs->mounts[fs->n_mounts++];
      cm->dest = fs_path_clean (dst);
      cm->rw = rw == NULL || json_is_true (rw);
      /* The source is a host path berth or the user chose when the container was created. */
      cm->fd = open (src, O_PATH | O_CLOEXEC);
      cm->errnum = cm->fd < 0 ? errno : 0;
    }
  *out = fs;
  return 0;
}

int cp_mount_at (const struct cp_fs *fs, const char *path)
{
  for (size_t i = fs->n_mounts; i > 0; i--)
    if (strcmp (fs->mounts[i - 1].dest, path) == 0)
      return (int)(i - 1);
  return -1;
}

/* ---- resolution ---- */

void cp_loc_release (struct cp_loc *l)
{
  if (l->parent >= 0)
    close (l->parent);
  if (l->fd >= 0)
    close (l->fd);
  free (l->name);
  free (l->path);
  l->parent = l->fd = -1;
  l->name = l->path = NULL;
}

struct frame
{
  int fd;      /* O_PATH directory */
  size_t plen; /* length of the logical path at this directory */
  int mount;
};

struct walk
{
  struct frame *st;
  size_t depth, cap;
  struct sbuf path; /* "" for the root, else "/a/b" */
};

static void walk_push (struct walk *w, int fd, int mount)
{
  if (w->depth == w->cap)
    {
      w->cap = w->cap ? w->cap * 2 : 16;
      w->st = xrealloc (w->st, w->cap * sizeof *w->st);
    }
  w->st[w->depth++] = (struct frame){ fd, w->path.len, mount };
}

static void walk_pop (struct walk *w)
{
  if (w->depth <= 1)
    return; /* ".." at the root stays at the root */
  close (w->st[--w->depth].fd);
  w->path.len = w->st[w->depth - 1].plen;
  w->path.buf[w->path.len] = '\0';
}

static void walk_release (struct walk *w)
{
  for (size_t i = 0; i < w->depth; i++)
    close (w->st[i].fd);
  free (w->st);
  sbuf_release (&w->path);
}

/* Nothing but "/" and "." components left. */
static bool only_dots (const char *p)
{
  for (;;)
    {
      while (*p == '/')
        p++;
      if (*p == '\0')
        return true;
      if (p[0] == '.' && (p[1] == '/' || p[1] == '\0'))
        {
          p++;
          continue;
        }
      return false;
    }
}

int cp_resolve (struct cp_fs *fs, const char *path, int flags, struct cp_loc *out)
{
  memset (out, 0, sizeof *out);
  out->parent = out->fd = -1;
  out->mount = -1;
  bool want_dir = cp_path_asserts_dir (path);
  if (want_dir)
    flags |= CP_FOLLOW_LAST;

  struct walk w = { 0 };
  sbuf_init (&w.path);
  sbuf_grow (&w.path, 128);
  w.path.buf[0] = '\0';
  int root = dup_fd (fs->rootfd);
  if (root < 0)
    return -1;
  walk_push (&w, root, -1);

  cleanup_free char *rest = xstrdup (path);
  const char *p = rest;
  int links = 0;
  int saved;
  for (;;)
    {
      while (*p == '/')
        p++;
      if (*p == '\0')
        break;
      const char *s = p;
      while (*p && *p != '/')
        p++;
      size_t cl = (size_t)(p - s);
      if (cl == 1 && s[0] == '.')
        continue;
      if (cl == 2 && s[0] == '.' && s[1] == '.')
        {
          walk_pop (&w);
          continue;
        }
      cleanup_free char *name = xstrndup (s, cl);
      bool last = only_dots (p);
      struct frame *top = &w.st[w.depth - 1];
      size_t base_len = w.path.len;
      sbuf_addc (&w.path, '/');
      sbuf_add (&w.path, s, cl);

      int m = cp_mount_at (fs, w.path.buf);
      int fd;
      if (m >= 0)
        {
          if (fs->mounts[m].fd < 0)
            {
              errno = fs->mounts[m].errnum;
              goto fail;
            }
          fd = dup_fd (fs->mounts[m].fd);
        }
      else
        fd = fs_open_in_root (top->fd, name, O_PATH | O_NOFOLLOW, 0);
      if (fd < 0)
        {
          if (errno == ENOENT && last)
            {
              out->parent = dup_fd (top->fd);
              out->name = steal_pointer (&name);
              out->path = xstrdup (w.path.buf);
              out->mount = top->mount;
              walk_release (&w);
              return out->parent < 0 ? -1 : 0;
            }
          goto fail;
        }
      struct stat st;
      if (fstat (fd, &st) < 0)
        {
          saved = errno;
          close (fd);
          errno = saved;
          goto fail;
        }
      if (S_ISLNK (st.st_mode) && (!last || (flags & CP_FOLLOW_LAST)))
        {
          char target[PATH_MAX];
          ssize_t n = readlinkat (fd, "", target, sizeof target - 1);
          saved = errno;
          close (fd);
          if (n < 0)
            {
              errno = saved;
              goto fail;
            }
          if (++links > MAX_SYMLINKS)
            {
              errno = ELOOP;
              goto fail;
            }
          target[n] = '\0';
          /* The target replaces the link: an absolute one starts again at the tree's root. */
          char *next = xasprintf ("%s/%s", target, p);
          free (rest);
          rest = next;
          p = rest;
          if (target[0] == '/')
            while (w.depth > 1)
              walk_pop (&w);
          w.path.len = target[0] == '/' ? 0 : base_len;
          w.path.buf[w.path.len] = '\0';
          continue;
        }
      if (!last)
        {
          if (!S_ISDIR (st.st_mode))
            {
              close (fd);
              errno = ENOTDIR;
              goto fail;
            }
          walk_push (&w, fd, m >= 0 ? m : top->mount);
          continue;
        }
      if (want_dir && !S_ISDIR (st.st_mode))
        {
          close (fd);
          errno = ENOTDIR;
          goto fail;
        }
      out->parent = dup_fd (top->fd);
      out->fd = fd;
      out->name = steal_pointer (&name);
      out->path = xstrdup (w.path.buf);
      out->st = st;
      out->mount = m >= 0 ? m : top->mount;
      out->mount_root = m >= 0;
      walk_release (&w);
      if (out->parent < 0)
        {
          saved = errno;
          cp_loc_release (out);
          errno = saved;
          return -1;
        }
      return 0;
    }

  /* The path ends at a directory already on the stack (the root, or after ".."). */
  {
    struct frame *top = &w.st[w.depth - 1];
    bool has_parent = w.depth > 1;
    out->fd = dup_fd (top->fd);
    out->parent = has_parent ? dup_fd (w.st[w.depth - 2].fd) : -1;
    const char *slash = strrchr (w.path.buf, '/');
    out->name = xstrdup (slash ? slash + 1 : "");
    out->path = xstrdup (w.path.len ? w.path.buf : "/");
    out->mount = top->mount;
    out->mount_root = has_parent && cp_mount_at (fs, w.path.buf) >= 0;
    walk_release (&w);
    if (out->fd < 0 || (has_parent && out->parent < 0) || fstat (out->fd, &out->st) < 0)
      {
        saved = errno;
        cp_loc_release (out);
        errno = saved;
        return -1;
      }
    return 0;
  }

fail:
  saved = errno;
  walk_release (&w);
  errno = saved;
  return -1;
}
