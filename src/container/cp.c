/* cp.c — Docker's rules for `cp` (which directory to extract into, what the archive's first
 * entry is called: moby's archive/copy.go semantics, written here from their documented
 * behaviour), the host-side halves, and whole copies that connect an archiver and an extractor
 * through a socket pair. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "container/cp_int.h"
#include "util/fs.h"
#include "util/lazylib.h"

/* ---- sinks ---- */

static int fd_sink_write (void *cookie, const void *buf, size_t len)
{
  return fs_write_all ((int)(intptr_t)cookie, buf, len);
}

struct cp_sink cp_sink_fd (int fd)
{
  return (struct cp_sink){ fd_sink_write, (void *)(intptr_t)fd, 0 };
}

/* ---- Go's path/filepath, the parts Docker's rules are written in ---- */

/* filepath.Base */
static char *path_base (const char *path)
{
  size_t n = strlen (path);
  if (n == 0)
    return xstrdup (".");
  while (n > 0 && path[n - 1] == '/')
    n--;
  if (n == 0)
    return xstrdup ("/");
  size_t i = n;
  while (i > 0 && path[i - 1] != '/')
    i--;
  return xstrndup (path + i, n - i);
}

/* filepath.Dir */
static char *path_dir (const char *path)
{
  const char *slash = strrchr (path, '/');
  cleanup_free char *head = slash ? xstrndup (path, (size_t)(slash - path) + 1) : xstrdup ("");
  return fs_path_clean (head);
}

static bool has_trailing_sep (const char *path)
{
  size_t n = strlen (path);
  return n > 0 && path[n - 1] == '/';
}

static bool specifies_current_dir (const char *path)
{
  cleanup_free char *b = path_base (path);
  return strcmp (b, ".") == 0;
}

bool cp_path_asserts_dir (const char *path)
{
  return has_trailing_sep (path) || specifies_current_dir (path);
}

char *cp_path_preserve_trailing (const char *cleaned, const char *original)
{
  struct sbuf b;
  sbuf_init (&b);
  sbuf_adds (&b, cleaned);
  if (!specifies_current_dir (b.buf) && specifies_current_dir (original))
    {
      if (!has_trailing_sep (b.buf))
        sbuf_addc (&b, '/');
      sbuf_addc (&b, '.');
    }
  if (!has_trailing_sep (b.buf) && has_trailing_sep (original))
    sbuf_addc (&b, '/');
  return sbuf_detach (&b);
}

void cp_path_split (const char *path, char **dir, char **base)
{
  cleanup_free char *cleaned = fs_path_clean (path);
  if (specifies_current_dir (path))
    {
      char *t = xasprintf ("%s/.", cleaned);
      free (cleaned);
      cleaned = t;
    }
  *dir = path_dir (cleaned);
  *base = path_base (cleaned);
}

char *cp_path_abs_local (const char *path)
{
  cleanup_free char *joined = NULL;
  if (path[0] != '/')
    {
      char cwd[PATH_MAX];
      if (getcwd (cwd, sizeof cwd) == NULL)
        snprintf (cwd, sizeof cwd, "/");
      joined = xasprintf ("%s/%s", cwd, path);
    }
  cleanup_free char *cleaned = fs_path_clean (joined ? joined : path);
  return cp_path_preserve_trailing (cleaned, path);
}

char *cp_path_rebase_name (const char *path, const char *resolved, char **out)
{
  struct sbuf b;
  sbuf_init (&b);
  sbuf_adds (&b, resolved);
  if (has_trailing_sep (path) && !has_trailing_sep (b.buf))
    sbuf_addc (&b, '/');
  if (specifies_current_dir (path) && !specifies_current_dir (b.buf))
    sbuf_adds (&b, "/.");
  *out = sbuf_detach (&b);
  cleanup_free char *pb = path_base (path);
  cleanup_free char *rb = path_base (*out);
  return strcmp (pb, rb) != 0 ? steal_pointer (&pb) : NULL;
}

/* ---- CopyInfo ---- */

void cp_info_release (struct cp_info *i)
{
  free (i->path);
  free (i->rebase_name);
  memset (i, 0, sizeof *i);
}

void cp_stat_release (struct cp_stat *st)
{
  free (st->path);
  free (st->link_target);
  memset (st, 0, sizeof *st);
}

int cp_host_source_info (const char *path, bool follow_link, struct cp_info *out, berr_t *err)
{
  memset (out, 0, sizeof *out);
  cleanup_free char *resolved = NULL;
  char real[PATH_MAX];
  if (follow_link)
    {
      if (realpath (path, real) == NULL)
        return berr_setk (err, errno == ENOENT ? BERR_NOT_FOUND : BERR_GENERIC, errno, "lstat %s",
                          path);
      out->rebase_name = cp_path_rebase_name (path, real, &resolved);
    }
  else
    {
      /* Only the symlinks before the last "/" are resolved: the source itself may be one. */
      const char *slash = strrchr (path, '/');
      cleanup_free char *dir = slash ? xstrndup (path, (size_t)(slash - path) + 1) : xstrdup (".");
      const char *base = slash ? slash + 1 : path;
      if (realpath (dir, real) == NULL)
        return berr_setk (err, errno == ENOENT ? BERR_NOT_FOUND : BERR_GENERIC, errno, "lstat %s",
                          dir);
      resolved
          = strcmp (real, "/") == 0 ? xasprintf ("/%s", base) : xasprintf ("%s/%s", real, base);
      cleanup_free char *pb = path_base (path);
      cleanup_free char *rb = path_base (resolved);
      if (has_trailing_sep (path) && strcmp (pb, rb) != 0)
        out->rebase_name = steal_pointer (&pb);
    }
  struct stat st;
  if (lstat (resolved, &st) < 0)
    {
      int e = errno;
      cp_info_release (out);
      return berr_setk (err, e == ENOENT ? BERR_NOT_FOUND : BERR_GENERIC, e, "lstat %s", resolved);
    }
  out->path = steal_pointer (&resolved);
  out->exists = true;
  out->is_dir = S_ISDIR (st.st_mode);
  return 0;
}

int cp_host_dest_info (const char *path, struct cp_info *out, berr_t *err)
{
  memset (out, 0, sizeof *out);
  cleanup_free char *cur = xstrdup (path);
  struct stat st;
  int r = lstat (cur, &st);
  /* A symlink as the destination is followed: the copy goes where it points, even if nothing
   * is there yet. */
  for (int n = 0; r == 0 && S_ISLNK (st.st_mode); n++)
    {
      if (n > 10)
        return berr_set (err, 0, "too many symlinks in %s", path);
      char target[PATH_MAX];
      ssize_t len = readlink (cur, target, sizeof target - 1);
      if (len < 0)
        return berr_set (err, errno, "readlink %s", cur);
      target[len] = '\0';
      char *next;
      if (target[0] == '/')
        next = xstrdup (target);
      else
        {
          cleanup_free char *dir = NULL, *base = NULL;
          cp_path_split (cur, &dir, &base);
          cleanup_free char *j = xasprintf ("%s/%s", dir, target);
          next = fs_path_clean (j);
        }
      free (cur);
      cur = next;
      r = lstat (cur, &st);
    }
  if (r < 0)
    {
      if (errno != ENOENT)
        return berr_set (err, errno, "lstat %s", cur);
      cleanup_free char *dir = NULL, *base = NULL;
      cp_path_split (cur, &dir, &base);
      struct stat pst;
      if (stat (dir, &pst) < 0)
        return berr_setk (err, errno == ENOENT ? BERR_NOT_FOUND : BERR_GENERIC, errno, "stat %s",
                          dir);
      if (!S_ISDIR (pst.st_mode))
        return berr_set (err, 0, "not a directory");
      out->path = steal_pointer (&cur);
      return 0;
    }
  out->path = steal_pointer (&cur);
  out->exists = true;
  out->is_dir = S_ISDIR (st.st_mode);
  return 0;
}

/* A symlink's target as a path of the tree: relative targets are taken from the link's
 * directory, lexically, as Docker's CLI joins them. */
static char *link_target_path (const char *link_path, const char *target)
{
  if (target[0] == '/')
    return xstrdup (target);
  cleanup_free char *dir = NULL, *base = NULL;
  cp_path_split (link_path, &dir, &base);
  cleanup_free char *j = xasprintf ("%s/%s", dir, target);
  return fs_path_clean (j);
}

int cp_container_source_info (struct cp_fs *fs, const char *path, bool follow_link,
                              struct cp_info *out, berr_t *err)
{
  memset (out, 0, sizeof *out);
  out->path = xstrdup (path);
  struct cp_stat st;
  if (follow_link && cp_fs_stat (fs, path, &st, err) == 0)
    {
      if (S_ISLNK (st.mode))
        {
          cleanup_free char *target = link_target_path (path, st.link_target);
          free (out->path);
          out->rebase_name = cp_path_rebase_name (path, target, &out->path);
        }
      cp_stat_release (&st);
    }
  berr_release (err);
  if (cp_fs_stat (fs, out->path, &st, err) < 0)
    return -1;
  out->exists = true;
  out->is_dir = S_ISDIR (st.mode);
  cp_stat_release (&st);
  return 0;
}

int cp_container_dest_info (struct cp_fs *fs, const char *path, struct cp_info *out, berr_t *err)
{
  memset (out, 0, sizeof *out);
  out->path = xstrdup (path);
  struct cp_stat st;
  berr_t serr = BERR_INIT;
  int r = cp_fs_stat (fs, path, &st, &serr);
  if (r == 0 && S_ISLNK (st.mode))
    {
      free (out->path);
      out->path = link_target_path (path, st.link_target);
      cp_stat_release (&st);
      r = cp_fs_stat (fs, out->path, &st, &serr);
    }
  berr_release (&serr);
  if (r < 0)
    return 0;
  mode_t m = st.mode;
  cp_stat_release (&st);
  if (S_ISCHR (m) || S_ISBLK (m))
    return berr_setk (err, BERR_INVALID, 0, "got a device");
  if (!S_ISDIR (m) && !S_ISREG (m) && !S_ISLNK (m))
    return berr_setk (err, BERR_INVALID, 0, "got an irregular file");
  out->exists = true;
  out->is_dir = S_ISDIR (m);
  return 0;
}

int cp_prepare (const struct cp_info *src, const struct cp_info *dst, char **dst_dir, char **top,
                berr_t *err)
{
  *dst_dir = *top = NULL;
  if (dst->exists && dst->is_dir)
    {
      /* Into the directory, under the source's own name. */
      *dst_dir = xstrdup (dst->path);
      *top = src->rebase_name ? xstrdup (src->rebase_name) : NULL;
      return 0;
    }
  if (dst->exists && src->is_dir)
    return berr_setk (err, BERR_INVALID, 0, "cannot copy directory");
  if (!dst->exists && !src->is_dir && cp_path_asserts_dir (dst->path))
    return berr_setk (err, BERR_NOT_FOUND, 0, "no such directory");
  /* Everything else lands in the destination's parent, renamed to the destination's name. */
  cp_path_split (dst->path, dst_dir, top);
  return 0;
}

/* ---- whole copies ---- */

struct producer
{
  pthread_t th;
  int fd;
  struct cp_fs *fs;
  const char *path;
  const char *top;
  struct cp_sink sink;
  berr_t err;
  int ret;
};

static int sock_write (void *cookie, const void *buf, size_t len)
{
  int fd = (int)(intptr_t)cookie;
  const char *p = buf;
  while (len > 0)
    {
      /* MSG_NOSIGNAL: an extractor that gave up makes this EPIPE, not a SIGPIPE. */
      ssize_t n = send (fd, p, len, MSG_NOSIGNAL);
      if (n < 0)
        {
          if (errno == EINTR)
            continue;
          return -1;
        }
      p += n;
      len -= (size_t)n;
    }
  return 0;
}

static void *producer_main (void *arg)
{
  struct producer *p = arg;
  p->ret = cp_fs_archive (p->fs, p->path, p->top, &p->sink, &p->err);
  shutdown (p->fd, SHUT_WR); /* the extractor sees the end */
  return NULL;
}

static void drain (int fd)
{
  char buf[8192];
  for (;;)
    {
      ssize_t n = read (fd, buf, sizeof buf);
      if (n == 0 || (n < 0 && errno != EINTR))
        return;
    }
}

/* Archive src_fs:src_path (named top) on a thread, extract into dst_fs:dst_dir here. */
static int run_copy (struct cp_fs *src_fs, const char *src_path, const char *top,
                     struct cp_fs *dst_fs, const char *dst_dir, const struct cp_extract_opts *o,
                     bool from_container, struct cp_result *res, berr_t *err)
{
  memset (res, 0, sizeof *res);
  /* Bind libarchive here, before two threads reach for it. */
  if (lazy_archive_load (err) < 0)
    return -1;
  int sv[2];
  if (socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
    return berr_set (err, errno, "socketpair");
  struct producer p = { .fd = sv[0], .fs = src_fs, .path = src_path, .top = top };
  p.sink = (struct cp_sink){ sock_write, (void *)(intptr_t)sv[0], 0 };
  int e = pthread_create (&p.th, NULL, producer_main, &p);
  if (e != 0)
    {
      close (sv[0]);
      close (sv[1]);
      return berr_set (err, e, "start copy thread");
    }
  berr_t xerr = BERR_INIT;
  int xret = cp_fs_extract (dst_fs, dst_dir, sv[1], o, &xerr);
  if (xret == 0)
    drain (sv[1]);
  close (sv[1]); /* an archiver still writing gets EPIPE and stops */
  pthread_join (p.th, NULL);
  close (sv[0]);
  res->tar_bytes = p.sink.bytes;
  int ret = 0;
  if (p.ret < 0 && !(xret < 0 && p.err.errnum == EPIPE))
    {
      /* The archive side failed first; the extractor only saw a truncated stream. */
      berr_move (err, &p.err);
      res->container_error = from_container;
      ret = -1;
    }
  else if (xret < 0)
    {
      berr_move (err, &xerr);
      res->container_error = !from_container;
      ret = -1;
    }
  berr_release (&p.err);
  berr_release (&xerr);
  return ret;
}

int cp_copy_out (struct cp_fs *fs, const char *src, const char *top, const char *host_dir,
                 const struct cp_extract_opts *o, struct cp_result *res, berr_t *err)
{
  struct cp_fs *dst = NULL;
  memset (res, 0, sizeof *res);
  if (cp_fs_open_host (host_dir, &dst, err) < 0)
    return -1;
  int r = run_copy (fs, src, top, dst, "/", o, true, res, err);
  cp_fs_free (dst);
  return r;
}

int cp_copy_in (const char *host_src, const char *top, struct cp_fs *fs, const char *dst_dir,
                const struct cp_extract_opts *o, struct cp_result *res, berr_t *err)
{
  memset (res, 0, sizeof *res);
  /* The host source is archived from its parent, like Docker's TarResource. */
  cleanup_free char *dir = NULL, *base = NULL;
  cp_path_split (host_src, &dir, &base);
  const char *name = strcmp (base, "/") == 0 ? "/" : base;
  struct cp_fs *src = NULL;
  if (cp_fs_open_host (dir, &src, err) < 0)
    return -1;
  cleanup_free char *deftop = top ? NULL : cp_default_top (host_src);
  int r = run_copy (src, name, top ? top : deftop, fs, dst_dir, o, false, res, err);
  cp_fs_free (src);
  return r;
}

/* ---- the brief one-call forms ---- */

int cp_fs_stat (struct cp_fs *fs, const char *path, struct cp_stat *st, berr_t *err)
{
  memset (st, 0, sizeof *st);
  struct cp_loc l;
  int e = cp_resolve (fs, path, 0, &l) < 0 ? errno : 0;
  if (e == 0 && l.fd < 0)
    e = ENOENT;
  if (e != 0)
    {
      cp_loc_release (&l);
      return berr_setk (err, e == ENOENT ? BERR_NOT_FOUND : BERR_GENERIC, e, "%s", path);
    }
  st->path = steal_pointer (&l.path);
  st->mode = l.st.st_mode;
  st->size = l.st.st_size;
  if (S_ISLNK (l.st.st_mode))
    {
      char target[PATH_MAX];
      ssize_t n = readlinkat (l.fd, "", target, sizeof target - 1);
      if (n < 0)
        {
          e = errno;
          cp_loc_release (&l);
          cp_stat_release (st);
          return berr_set (err, e, "readlink %s", path);
        }
      target[n] = '\0';
      st->link_target = xstrdup (target);
    }
  cp_loc_release (&l);
  return 0;
}

int cp_from_container (const char *rootfs, const json_t *mounts, const char *src_path,
                       struct cp_sink *sink, berr_t *err)
{
  struct cp_fs *fs = NULL;
  if (cp_fs_open_container (rootfs, mounts, false, &fs, err) < 0)
    return -1;
  int r = cp_fs_archive (fs, src_path, NULL, sink, err);
  cp_fs_free (fs);
  return r;
}

int cp_to_container (const char *rootfs, const json_t *mounts, const char *dst_path, int tar_fd,
                     bool copy_uid_gid, berr_t *err)
{
  struct cp_fs *fs = NULL;
  if (cp_fs_open_container (rootfs, mounts, false, &fs, err) < 0)
    return -1;
  struct cp_extract_opts o = { .copy_uid_gid = copy_uid_gid };
  int r = cp_fs_extract (fs, dst_path, tar_fd, &o, err);
  cp_fs_free (fs);
  return r;
}
