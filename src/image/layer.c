/* layer.c — applying layer tars into a directory and diffing a directory back into a tar.
 *
 * Apply is one pass over the input:
 *
 *   rd -> raw_read_cb (digest, size, copy to blob_fd)
 *      -> "outer" libarchive reader: decompression filters + the raw format
 *      -> tar_read_cb (diff_id, tar_size, max_size)
 *      -> "inner" libarchive reader: tar formats only -> entries extracted under dirfd
 *
 * Every entry name is cleaned lexically (a name that climbs above the root with ".." is
 * rejected, like containerd's breakoutErr); its parent directory is resolved, and created, with
 * openat2(RESOLVE_IN_ROOT) so a symlink met on the way, absolute or relative, stays inside the
 * root. The last component is created with *at() calls relative to that parent and never
 * followed. Whiteouts become overlayfs whiteouts (OCI image-spec layer.md). */
#include "image/layer.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "image/layer_split.h"
#include "util/ahash.h"
#include "util/fs.h"
#include "util/lazylib.h"
#include "util/log.h"

/* Big enough that a plain 300 MB layer takes a few hundred reads, not hundreds of thousands. */
#define IO_BUF_SIZE (1024 * 1024)

#define WHITEOUT_PREFIX ".wh."
#define WHITEOUT_META_PREFIX ".wh..wh."
#define WHITEOUT_OPAQUE ".wh..wh..opq"
#define OVERLAY_OPAQUE_XATTR "trusted.overlay.opaque"

/* ---------------------------------------------------------------------------------------- */
/* Paths                                                                                      */

/* Clean a tar name lexically: leading and repeated "/" and "." components are dropped, ".."
 * removes the previous component. A ".." at the top is an error (-1), unless clamp is set, in
 * which case it is dropped the way ".." at "/" resolves to "/". *out is "" for the root. */
static int clean_path (const char *name, bool clamp, char **out)
{
  size_t n = strlen (name);
  cleanup_free char *buf = xmalloc (n + 1);
  size_t len = 0;
  const char *p = name;

  while (*p)
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
          if (len == 0)
            {
              if (clamp)
                continue;
              return -1;
            }
          while (len > 0 && buf[len - 1] != '/')
            len--;
          if (len > 0)
            len--;
          continue;
        }
      if (len > 0)
        buf[len++] = '/';
      memcpy (buf + len, s, cl);
      len += cl;
    }
  buf[len] = '\0';
  *out = steal_pointer (&buf);
  return 0;
}

/* Split a cleaned, non-empty path in place: *parent is "" for the root. */
static void split_path (char *path, const char **parent, const char **base)
{
  char *slash = strrchr (path, '/');
  if (slash == NULL)
    {
      *parent = "";
      *base = path;
      return;
    }
  *slash = '\0';
  *parent = path;
  *base = slash + 1;
}

/* ---------------------------------------------------------------------------------------- */
/* Apply: state and stream callbacks                                                         */

struct dir_time
{
  char *path;
  struct timespec ts[2];
};

struct apply_ctx
{
  layer_read_fn rd;
  void *cookie;
  int blob_fd;
  uint64_t max_size;
  int root;

  struct ahash raw_hash; /* on a second thread: see util/ahash.h */
  struct sha256 tar_hash;
  /* Plain input: the tar bytes are the raw bytes, so diff_id = digest and one hash is enough. */
  bool hash_tar;
  uint64_t size;
  uint64_t tar_size;
  uint64_t content_size;

  unsigned char *rawbuf; /* the ring buffer last handed to libarchive */
  struct archive *outer;
  struct archive *inner;
  bool outer_eof;
  berr_t cb_err; /* raised inside a libarchive callback; wins over libarchive's message */

  /* The last parent directory resolved: consecutive entries usually share it. */
  char *cache_path;
  int cache_fd;
  bool cache_stale;

  /* The tar-split, for uncompressed input when the caller asked for one. */
  bool use_split;
  int split_fd;
  struct split split;
  const char *cur_path; /* the cleaned path of the entry being applied */

  /* Directory mtimes, restored after every entry is in place. */
  struct dir_time *dirs;
  size_t n_dirs;
  size_t cap_dirs;
};

static void apply_ctx_release (struct apply_ctx *c)
{
  if (c->inner)
    archive_read_free (c->inner);
  if (c->outer)
    archive_read_free (c->outer);
  ahash_release (&c->raw_hash);
  sha256_release (&c->tar_hash);
  split_release (&c->split);
  berr_release (&c->cb_err);
  free (c->cache_path);
  if (c->cache_fd >= 0)
    close (c->cache_fd);
  for (size_t i = 0; i < c->n_dirs; i++)
    free (c->dirs[i].path);
  free (c->dirs);
}

/* Account raw input bytes: digest, size, blob copy. */
static int raw_consume (struct apply_ctx *c, const void *buf, size_t n)
{
  ahash_submit (&c->raw_hash, n);
  c->size += n;
  /* With a tar-split the blob is written from the tar side, if at all. */
  if (c->blob_fd >= 0 && c->split.state == SPLIT_OFF && fs_write_all (c->blob_fd, buf, n) < 0)
    return berr_set (&c->cb_err, errno, "write blob");
  return 0;
}

static ssize_t raw_read (struct apply_ctx *c)
{
  c->rawbuf = ahash_buffer (&c->raw_hash);
  for (;;)
    {
      ssize_t n = c->rd (c->cookie, c->rawbuf, IO_BUF_SIZE);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        return berr_set (&c->cb_err, errno, "read layer");
      if ((size_t)n > IO_BUF_SIZE)
        return berr_set (&c->cb_err, EINVAL, "read layer");
      if (raw_consume (c, c->rawbuf, (size_t)n) < 0)
        return -1;
      return n;
    }
}

static la_ssize_t raw_read_cb (struct archive *a, void *data, const void **buf)
{
  struct apply_ctx *c = data;
  ssize_t n = raw_read (c);
  if (n < 0)
    {
      archive_set_error (a, c->cb_err.errnum ? c->cb_err.errnum : EIO, "%s", c->cb_err.msg);
      return ARCHIVE_FATAL;
    }
  *buf = c->rawbuf;
  return n;
}

/* The next block of the decompressed stream: 0 at its end, -1 on error (c->cb_err set). */
static ssize_t tar_next_block (struct apply_ctx *c, const void **buf)
{
  while (!c->outer_eof)
    {
      size_t len = 0;
      la_int64_t off;
      int r = archive_read_data_block (c->outer, buf, &len, &off);
      if (r == ARCHIVE_EOF)
        {
          c->outer_eof = true;
          break;
        }
      if (r < ARCHIVE_WARN)
        {
          if (!berr_is_set (&c->cb_err))
            berr_setk (&c->cb_err, BERR_INVALID, 0, "decompress: %s",
                       archive_error_string (c->outer));
          return -1;
        }
      if (len == 0)
        continue;
      /* CVE-2017-14992: a bomb stops here, after at most max_size bytes of output. */
      if (c->max_size && (c->tar_size + len > c->max_size || c->tar_size + len < c->tar_size))
        return berr_setk (&c->cb_err, BERR_INVALID, 0,
                          "layer exceeds the maximum size of %" PRIu64 " bytes", c->max_size);
      c->tar_size += len;
      if (c->hash_tar)
        sha256_update (&c->tar_hash, *buf, len);
      if (c->split.state != SPLIT_OFF
          && (split_feed (&c->split, *buf, len, c->tar_size - len, &c->cb_err) < 0
              || (c->inner
                  && split_consumed (&c->split, (uint64_t)archive_filter_bytes (c->inner, 0),
                                     &c->cb_err)
                         < 0)))
        return -1;
      return (ssize_t)len;
    }
  return 0;
}

static la_ssize_t tar_read_cb (struct archive *a, void *data, const void **buf)
{
  struct apply_ctx *c = data;
  ssize_t n = tar_next_block (c, buf);
  if (n < 0)
    {
      archive_set_error (a, c->cb_err.errnum ? c->cb_err.errnum : EIO, "%s", c->cb_err.msg);
      return ARCHIVE_FATAL;
    }
  return n;
}

/* Report a libarchive failure, preferring the error raised in our own callbacks. */
static int archive_fail (struct apply_ctx *c, struct archive *a, berr_t *err, const char *what)
{
  if (berr_is_set (&c->cb_err))
    {
      berr_move (err, &c->cb_err);
      return -1;
    }
  const char *msg = archive_error_string (a);
  return berr_setk (err, BERR_INVALID, 0, "%s: %s", what, msg ? msg : "unknown libarchive error");
}

/* ---------------------------------------------------------------------------------------- */
/* Apply: the tree                                                                            */

/* An O_PATH fd of the parent directory, created as needed (mode 0755, like containerd's
 * MkdirAll), every component resolved inside the root. Borrowed: valid until the next call. */
static int get_parent (struct apply_ctx *c, const char *parent, berr_t *err)
{
  if (parent[0] == '\0')
    return c->root;
  if (c->cache_fd >= 0 && !c->cache_stale && strcmp (c->cache_path, parent) == 0)
    return c->cache_fd;
  if (c->cache_fd >= 0)
    close (c->cache_fd);
  free (c->cache_path);
  c->cache_path = NULL;
  c->cache_stale = false;
  c->cache_fd = fs_mkdir_in_root (c->root, parent, 0755);
  if (c->cache_fd < 0)
    return berr_set (err, errno, "create parent directory \"%s\"", parent);
  c->cache_path = xstrdup (parent);
  return c->cache_fd;
}

/* Remove pfd/name (already lstat'ed into st), never following it. Removing a directory or a
 * symlink can change what a cached parent path resolves to, so the cache is dropped then. */
static int remove_existing (struct apply_ctx *c, int pfd, const char *name, const struct stat *st,
                            berr_t *err)
{
  /* The layer loses an earlier entry of its own: the tar-split could no longer find its bytes. */
  if (c->split.state == SPLIT_ACTIVE && split_materialize (&c->split, err) < 0)
    return -1;
  if (S_ISDIR (st->st_mode) || S_ISLNK (st->st_mode))
    c->cache_stale = true;
  if (S_ISDIR (st->st_mode))
    return fs_rm_rf_at (pfd, name, err);
  if (unlinkat (pfd, name, 0) < 0 && errno != ENOENT)
    return berr_set (err, errno, "remove existing \"%s\"", name);
  return 0;
}

/* Called after a create failed with EEXIST: remove what is there so the create can be
 * retried. */
static int replace_existing (struct apply_ctx *c, int pfd, const char *name, berr_t *err)
{
  struct stat st;
  if (fstatat (pfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
    {
      if (errno == ENOENT)
        return 0;
      return berr_set (err, errno, "stat existing \"%s\"", name);
    }
  return remove_existing (c, pfd, name, &st, err);
}

/* The xattrs a layer carries, both ways: security.capability, user.* and trusted.*, but never
 * trusted.overlay.* (nor user.overlay.*, used by userxattr mounts): from a tar they would let a
 * layer forge overlayfs metadata (redirects, metacopy, opaque), and in a diff they are
 * overlayfs' own, written back as OCI whiteouts instead. */
static bool xattr_is_layer_data (const char *name)
{
  if (strcmp (name, "security.capability") == 0)
    return true;
  if (str_has_prefix (name, "user."))
    return !str_has_prefix (name, "user.overlay.");
  if (str_has_prefix (name, "trusted."))
    return !str_has_prefix (name, "trusted.overlay.");
  return false;
}

/* Set the entry's xattrs on fd, or (fd < 0) on pfd/name without following it. Must run after
 * chown, which clears security.capability. */
static int apply_xattrs (struct archive_entry *e, int fd, int pfd, const char *name, berr_t *err)
{
  if (archive_entry_xattr_count (e) == 0)
    return 0;
  char procpath[64 + NAME_MAX];
  if (fd < 0)
    snprintf (procpath, sizeof procpath, "/proc/self/fd/%d/%s", pfd, name);
  const char *xname;
  const void *value;
  size_t size;
  archive_entry_xattr_reset (e);
  while (archive_entry_xattr_next (e, &xname, &value, &size) == ARCHIVE_OK)
    {
      if (xname == NULL || !xattr_is_layer_data (xname))
        {
          log_debug ("layer: %s: xattr %s not applied", name, xname ? xname : "(null)");
          continue;
        }
      int r = fd >= 0 ? fsetxattr (fd, xname, value, size, 0)
                      : lsetxattr (procpath, xname, value, size, 0);
      if (r < 0)
        {
          /* Like moby: not every filesystem takes every namespace, and user.* is refused on
           * symlinks and device nodes. */
          if (errno == ENOTSUP || errno == EPERM)
            {
              log_debug ("layer: %s: xattr %s: %s", name, xname, strerror (errno));
              continue;
            }
          return berr_set (err, errno, "set xattr %s", xname);
        }
    }
  return 0;
}

static int entry_owner (struct archive_entry *e, uid_t *uid, gid_t *gid, berr_t *err)
{
  la_int64_t u = archive_entry_uid (e), g = archive_entry_gid (e);
  /* (uid_t)-1 would mean "leave unchanged" to chown. */
  if (u < 0 || g < 0 || u >= (la_int64_t)UINT32_MAX || g >= (la_int64_t)UINT32_MAX)
    return berr_setk (err, BERR_INVALID, 0, "invalid owner %lld:%lld", (long long)u, (long long)g);
  *uid = (uid_t)u;
  *gid = (gid_t)g;
  return 0;
}

static void entry_times (struct archive_entry *e, struct timespec ts[2])
{
  ts[1].tv_sec = archive_entry_mtime (e);
  ts[1].tv_nsec = archive_entry_mtime_nsec (e);
  if (archive_entry_atime_is_set (e))
    {
      ts[0].tv_sec = archive_entry_atime (e);
      ts[0].tv_nsec = archive_entry_atime_nsec (e);
    }
  else
    ts[0] = ts[1];
  if (ts[0].tv_nsec < 0 || ts[0].tv_nsec > 999999999)
    ts[0].tv_nsec = 0;
  if (ts[1].tv_nsec < 0 || ts[1].tv_nsec > 999999999)
    ts[1].tv_nsec = 0;
}

/* Owner, mode, xattrs and times of a non-regular, non-directory entry at pfd/name. */
static int apply_meta_at (struct archive_entry *e, int pfd, const char *name, bool is_symlink,
                          berr_t *err)
{
  uid_t uid = 0;
  gid_t gid = 0;
  struct timespec ts[2];
  if (entry_owner (e, &uid, &gid, err) < 0)
    return -1;
  if (fchownat (pfd, name, uid, gid, AT_SYMLINK_NOFOLLOW) < 0)
    return berr_set (err, errno, "chown");
  /* Symlinks have no mode of their own on Linux; chmod must never reach their target. */
  if (!is_symlink && fchmodat (pfd, name, archive_entry_perm (e), AT_SYMLINK_NOFOLLOW) < 0)
    return berr_set (err, errno, "chmod");
  if (apply_xattrs (e, -1, pfd, name, err) < 0)
    return -1;
  entry_times (e, ts);
  if (utimensat (pfd, name, ts, AT_SYMLINK_NOFOLLOW) < 0)
    return berr_set (err, errno, "set times");
  return 0;
}

/* Owner, mode and xattrs through an fd we opened ourselves (regular files, directories). */
static int apply_meta_fd (struct archive_entry *e, int fd, const char *name, berr_t *err)
{
  uid_t uid = 0;
  gid_t gid = 0;
  if (entry_owner (e, &uid, &gid, err) < 0)
    return -1;
  if (fchown (fd, uid, gid) < 0)
    return berr_set (err, errno, "chown");
  /* After chown, which clears setuid/setgid. */
  if (fchmod (fd, archive_entry_perm (e)) < 0)
    return berr_set (err, errno, "chmod");
  return apply_xattrs (e, fd, -1, name, err);
}

/* Start writeback of a big file's data while the rest of the layer is still being unpacked: the
 * store's syncfs before the commit then finds little left to write, and the disk works while the
 * CPU does. Only a hint (SYNC_FILE_RANGE_WRITE does not wait). */
#define WRITEBACK_CHUNK (8 << 20)

static int write_file_data (struct apply_ctx *c, int fd, int64_t size, berr_t *err)
{
  int64_t end = 0;
  int64_t written_back = 0;
  for (;;)
    {
      const void *buf;
      size_t len;
      la_int64_t off;
      int r = archive_read_data_block (c->inner, &buf, &len, &off);
      if (r == ARCHIVE_EOF)
        break;
      if (r < ARCHIVE_WARN)
        return archive_fail (c, c->inner, err, "read data");
      if (off < 0 || (size >= 0 && off + (int64_t)len > size))
        return berr_setk (err, BERR_INVALID, 0, "data outside the file's size");
      const char *p = buf;
      /* pwrite at the block's offset: the holes of a sparse entry stay holes. */
      while (len > 0)
        {
          ssize_t w = pwrite (fd, p, len, off);
          if (w < 0)
            {
              if (errno == EINTR)
                continue;
              return berr_set (err, errno, "write");
            }
          p += w;
          len -= (size_t)w;
          off += w;
        }
      if (off > end)
        end = off;
      if (end - written_back >= WRITEBACK_CHUNK)
        {
          sync_file_range (fd, written_back, end - written_back, SYNC_FILE_RANGE_WRITE);
          written_back = end;
        }
    }
  if (size > end && ftruncate (fd, size) < 0)
    return berr_set (err, errno, "truncate");
  return 0;
}

static int apply_regular (struct apply_ctx *c, struct archive_entry *e, int pfd, const char *name,
                          berr_t *err)
{
  int64_t size = archive_entry_size_is_set (e) ? archive_entry_size (e) : 0;
  if (size < 0)
    return berr_setk (err, BERR_INVALID, 0, "invalid size %" PRId64, size);
  /* A sparse entry can claim more than the tar holds; no file may exceed the bound either. */
  if (c->max_size && (uint64_t)size > c->max_size)
    return berr_setk (err, BERR_INVALID, 0, "layer exceeds the maximum size of %" PRIu64 " bytes",
                      c->max_size);
  if (c->split.state == SPLIT_ACTIVE && size > 0)
    {
      /* Record the file before its data is read. A file about to be replaced, or a sparse one,
       * ends the split first, while every byte seen so far can still be rebuilt. */
      struct stat st;
      if (archive_entry_sparse_count (e) > 0 || fstatat (pfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0)
        {
          if (split_materialize (&c->split, err) < 0)
            return -1;
        }
      else if (split_file (&c->split, c->cur_path, (uint64_t)archive_filter_bytes (c->inner, 0),
                           (uint64_t)size, err)
               < 0)
        return -1;
    }
  cleanup_close int fd = -1;
  for (int tries = 0; fd < 0; tries++)
    {
      fd = openat (pfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
      if (fd >= 0)
        break;
      if (errno != EEXIST || tries > 0)
        return berr_set (err, errno, "create file");
      if (replace_existing (c, pfd, name, err) < 0)
        return -1;
    }
  /* Data first: a write clears security.capability and setuid bits. */
  if (write_file_data (c, fd, size, err) < 0)
    return -1;
  split_file_done (&c->split);
  if (apply_meta_fd (e, fd, name, err) < 0)
    return -1;
  struct timespec ts[2];
  entry_times (e, ts);
  if (futimens (fd, ts) < 0)
    return berr_set (err, errno, "set times");
  c->content_size += (uint64_t)size;
  return 0;
}

static int apply_dir (struct apply_ctx *c, struct archive_entry *e, int pfd, const char *name,
                      const char *path, berr_t *err)
{
  if (mkdirat (pfd, name, 0700) < 0)
    {
      if (errno != EEXIST)
        return berr_set (err, errno, "mkdir");
      struct stat st;
      if (fstatat (pfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
        return berr_set (err, errno, "stat existing");
      /* An existing directory is kept (with its contents); only its metadata changes. */
      if (!S_ISDIR (st.st_mode))
        {
          if (remove_existing (c, pfd, name, &st, err) < 0)
            return -1;
          if (mkdirat (pfd, name, 0700) < 0)
            return berr_set (err, errno, "mkdir");
        }
    }
  cleanup_close int fd = openat (pfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    return berr_set (err, errno, "open directory");
  if (apply_meta_fd (e, fd, name, err) < 0)
    return -1;
  if (c->n_dirs == c->cap_dirs)
    {
      c->cap_dirs = c->cap_dirs ? 2 * c->cap_dirs : 64;
      c->dirs = xrealloc (c->dirs, c->cap_dirs * sizeof *c->dirs);
    }
  c->dirs[c->n_dirs].path = xstrdup (path);
  entry_times (e, c->dirs[c->n_dirs].ts);
  c->n_dirs++;
  return 0;
}

/* Create a symlink, device node or fifo at pfd/name, replacing what is there. */
static int create_node (struct apply_ctx *c, struct archive_entry *e, int pfd, const char *name,
                        berr_t *err)
{
  mode_t type = archive_entry_filetype (e);
  for (int tries = 0;; tries++)
    {
      int r;
      if (type == AE_IFLNK)
        {
          const char *target = archive_entry_symlink (e);
          if (target == NULL)
            return berr_setk (err, BERR_INVALID, 0, "symlink without a target");
          /* The target is kept verbatim and never resolved here. */
          r = symlinkat (target, pfd, name);
        }
      else
        r = mknodat (pfd, name, type | 0600, archive_entry_rdev (e));
      if (r == 0)
        return 0;
      if (errno != EEXIST || tries > 0)
        return berr_set (err, errno, type == AE_IFLNK ? "symlink" : "mknod");
      if (replace_existing (c, pfd, name, err) < 0)
        return -1;
    }
}

/* A hardlink's target is resolved inside the root (".." at the top is clamped, as in a chroot)
 * and must already exist there: entries only exist in the root because this layer extracted
 * them. linkat without AT_SYMLINK_FOLLOW links a symlink itself, never what it points to. */
static int apply_hardlink (struct apply_ctx *c, struct archive_entry *e, int pfd, const char *name,
                           const char *link, berr_t *err)
{
  cleanup_free char *tpath = NULL;
  clean_path (link, true, &tpath);
  if (tpath[0] == '\0')
    return berr_setk (err, BERR_INVALID, 0, "invalid hardlink target \"%s\"", link);
  const char *tparent, *tbase;
  split_path (tpath, &tparent, &tbase);
  cleanup_close int tpfd_owned = -1;
  int tpfd = c->root;
  if (tparent[0] != '\0')
    {
      tpfd_owned = fs_open_in_root (c->root, tparent, O_PATH | O_DIRECTORY, 0);
      if (tpfd_owned < 0)
        return berr_set (err, errno, "hardlink target \"%s\"", link);
      tpfd = tpfd_owned;
    }
  struct stat tst;
  if (fstatat (tpfd, tbase, &tst, AT_SYMLINK_NOFOLLOW) < 0)
    return berr_set (err, errno, "hardlink target \"%s\"", link);
  if (S_ISDIR (tst.st_mode))
    return berr_setk (err, BERR_INVALID, 0, "hardlink target \"%s\" is a directory", link);
  for (int tries = 0;; tries++)
    {
      if (linkat (tpfd, tbase, pfd, name, 0) == 0)
        return 0;
      if (errno != EEXIST || tries > 0)
        return berr_set (err, errno, "link to \"%s\"", link);
      struct stat st;
      if (fstatat (pfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && st.st_dev == tst.st_dev
          && st.st_ino == tst.st_ino)
        return 0; /* already that inode (a link to itself, or a repeated link) */
      if (replace_existing (c, pfd, name, err) < 0)
        return -1;
    }
}

/* ".wh.<name>" and ".wh..wh..opq" (OCI image-spec layer.md, "Whiteouts"), in overlayfs form. */
static int apply_whiteout (struct apply_ctx *c, struct archive_entry *e, const char *parent,
                           const char *base, berr_t *err)
{
  if (strcmp (base, WHITEOUT_OPAQUE) == 0)
    {
      /* Only marks the directory: lower layers are hidden by overlayfs, and files of this
       * layer stay whatever the tar order. */
      int pfd = get_parent (c, parent, err);
      if (pfd < 0)
        return -1;
      cleanup_close int dfd = openat (pfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      if (dfd < 0)
        return berr_set (err, errno, "open directory");
      if (fsetxattr (dfd, OVERLAY_OPAQUE_XATTR, "y", 1, 0) < 0)
        return berr_set (err, errno, "set %s", OVERLAY_OPAQUE_XATTR);
      return 0;
    }
  if (str_has_prefix (base, WHITEOUT_META_PREFIX))
    {
      log_debug ("layer: skipping whiteout metadata entry %s", base);
      return 0; /* AUFS metadata (.wh..wh.plnk, .wh..wh.aufs) */
    }
  const char *wname = base + strlen (WHITEOUT_PREFIX);
  if (wname[0] == '\0' || strcmp (wname, ".") == 0 || strcmp (wname, "..") == 0)
    return berr_setk (err, BERR_INVALID, 0, "invalid whiteout entry");
  int pfd = get_parent (c, parent, err);
  if (pfd < 0)
    return -1;
  if (replace_existing (c, pfd, wname, err) < 0)
    return -1;
  if (mknodat (pfd, wname, S_IFCHR | 0, makedev (0, 0)) < 0)
    return berr_set (err, errno, "create whiteout");
  uid_t uid = 0;
  gid_t gid = 0;
  struct timespec ts[2];
  if (entry_owner (e, &uid, &gid, err) < 0)
    return -1;
  if (fchownat (pfd, wname, uid, gid, AT_SYMLINK_NOFOLLOW) < 0)
    return berr_set (err, errno, "chown whiteout");
  entry_times (e, ts);
  if (utimensat (pfd, wname, ts, AT_SYMLINK_NOFOLLOW) < 0)
    return berr_set (err, errno, "set whiteout times");
  return 0;
}

static int apply_entry (struct apply_ctx *c, struct archive_entry *e, const char *name, berr_t *err)
{
  cleanup_free char *path = NULL;
  if (clean_path (name, false, &path) < 0)
    return berr_setk (err, BERR_INVALID, 0, "invalid path");
  if (path[0] == '\0')
    return 0; /* the root itself: the caller owns its metadata */
  cleanup_free char *full = xstrdup (path);
  c->cur_path = full;
  const char *parent, *base;
  split_path (path, &parent, &base);

  if (str_has_prefix (base, WHITEOUT_PREFIX))
    return apply_whiteout (c, e, parent, base, err);

  int pfd = get_parent (c, parent, err);
  if (pfd < 0)
    return -1;
  const char *link = archive_entry_hardlink (e);
  if (link != NULL)
    return apply_hardlink (c, e, pfd, base, link, err);

  switch (archive_entry_filetype (e))
    {
    case AE_IFREG:
      return apply_regular (c, e, pfd, base, err);
    case AE_IFDIR:
      return apply_dir (c, e, pfd, base, full, err);
    case AE_IFLNK:
      if (create_node (c, e, pfd, base, err) < 0)
        return -1;
      return apply_meta_at (e, pfd, base, true, err);
    case AE_IFCHR:
    case AE_IFBLK:
    case AE_IFIFO:
      if (create_node (c, e, pfd, base, err) < 0)
        return -1;
      return apply_meta_at (e, pfd, base, false, err);
    default:
      return berr_setk (err, BERR_INVALID, 0, "unsupported entry type 0%o",
                        (unsigned)archive_entry_filetype (e));
    }
}

/* utimensat never touches the parent's mtime, so order does not matter; forward order lets the
 * last of duplicate directory entries win. */
static int restore_dir_times (struct apply_ctx *c, berr_t *err)
{
  for (size_t i = 0; i < c->n_dirs; i++)
    {
      cleanup_close int fd
          = fs_open_in_root (c->root, c->dirs[i].path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW, 0);
      if (fd < 0)
        {
          if (errno == ENOENT || errno == ENOTDIR || errno == ELOOP)
            continue; /* replaced or whited out by a later entry */
          return berr_set (err, errno, "open directory \"%s\"", c->dirs[i].path);
        }
      if (futimens (fd, c->dirs[i].ts) < 0)
        return berr_set (err, errno, "set times of \"%s\"", c->dirs[i].path);
    }
  return 0;
}

/* Register the decompression filters built into libarchive, and only those: a filter backed by
 * an external program (libarchive's fallback when a library is missing, and always for lrzip,
 * lzop, grzip) would run a binary from $PATH on untrusted input (GHSA-x86f-5xw2-fm2r). */
void layer_add_filters (struct archive *a)
{
  if (archive_zlib_version () != NULL)
    archive_read_support_filter_gzip (a);
  if (archive_bzlib_version () != NULL)
    archive_read_support_filter_bzip2 (a);
  if (archive_liblzma_version () != NULL)
    archive_read_support_filter_xz (a);
  if (archive_libzstd_version () != NULL)
    archive_read_support_filter_zstd (a);
}

static const char *compression_name (int code)
{
  switch (code)
    {
    case ARCHIVE_FILTER_NONE:
      return "none";
    case ARCHIVE_FILTER_GZIP:
      return "gzip";
    case ARCHIVE_FILTER_BZIP2:
      return "bzip2";
    case ARCHIVE_FILTER_XZ:
      return "xz";
    case ARCHIVE_FILTER_ZSTD:
      return "zstd";
    default:
      return NULL;
    }
}

/* Uncompressed input and a tar-split asked for: the blob copy made while detecting the
 * compression is dropped; from here the split records the tar. */
static void start_split (struct apply_ctx *c)
{
  split_init (&c->split, c->split_fd, c->blob_fd, c->root);
  if (c->blob_fd >= 0 && (ftruncate (c->blob_fd, 0) < 0 || lseek (c->blob_fd, 0, SEEK_SET) < 0))
    log_debug ("layer: rewind blob: %s", strerror (errno));
}

/* Open the decompression stage and detect the compression. *empty is set for a 0-byte input,
 * which is taken as an empty layer (like Go's archive/tar). */
static int open_outer (struct apply_ctx *c, struct layer_apply_result *res, bool *empty,
                       berr_t *err)
{
  c->outer = archive_read_new ();
  if (c->outer == NULL)
    abort ();
  layer_add_filters (c->outer);
  archive_read_support_format_raw (c->outer);
  /* Opening already reads the first bytes, to detect the compression. */
  int r = archive_read_open (c->outer, c, NULL, raw_read_cb, NULL);
  struct archive_entry *e;
  if (r == ARCHIVE_OK)
    r = archive_read_next_header (c->outer, &e);
  if (r != ARCHIVE_OK && r != ARCHIVE_WARN)
    {
      if (!berr_is_set (&c->cb_err) && c->size == 0)
        {
          *empty = true;
          c->outer_eof = true;
          snprintf (res->compression, sizeof res->compression, "none");
          if (c->use_split)
            start_split (c);
          return 0;
        }
      return archive_fail (c, c->outer, err, "read");
    }
  /* Filter 0 is the outermost compression; the last one is always "none". */
  if (archive_filter_count (c->outer) > 2)
    return berr_setk (err, BERR_INVALID, 0, "layer is compressed more than once");
  int code = archive_filter_code (c->outer, 0);
  const char *comp = compression_name (code);
  if (comp == NULL)
    return berr_setk (err, BERR_INVALID, 0, "unsupported compression %s",
                      archive_filter_name (c->outer, 0));
  snprintf (res->compression, sizeof res->compression, "%s", comp);
  c->hash_tar = code != ARCHIVE_FILTER_NONE;
  if (c->use_split && code == ARCHIVE_FILTER_NONE)
    start_split (c);
  return 0;
}

static int extract_all (struct apply_ctx *c, berr_t *err)
{
  c->inner = archive_read_new ();
  if (c->inner == NULL)
    abort ();
  archive_read_support_format_tar (c->inner); /* ustar, pax, gnu (and v7) */
  archive_read_support_format_empty (c->inner);
  if (archive_read_open (c->inner, c, NULL, tar_read_cb, NULL) != ARCHIVE_OK)
    return archive_fail (c, c->inner, err, "open tar");
  for (;;)
    {
      struct archive_entry *e;
      int r = archive_read_next_header (c->inner, &e);
      if (r == ARCHIVE_EOF)
        break;
      if (r < ARCHIVE_WARN)
        return archive_fail (c, c->inner, err, "read tar");
      if (split_header (&c->split, (uint64_t)archive_filter_bytes (c->inner, 0), err) < 0)
        return -1;
      /* ARCHIVE_WARN: e.g. a name not valid in the locale; libarchive still gives its bytes. */
      const char *name = archive_entry_pathname (e);
      if (name == NULL)
        return berr_setk (err, BERR_INVALID, 0, "entry without a name");
      if (apply_entry (c, e, name, err) < 0)
        return berr_wrap (err, "entry \"%s\"", name);
    }
  return 0;
}

/* Read both streams to their end so the hashes cover every byte: tar padding and zero blocks
 * after the end marker are part of the diff_id, trailing bytes part of the digest. */
static int drain (struct apply_ctx *c, berr_t *err)
{
  for (;;)
    {
      const void *buf;
      ssize_t n = tar_next_block (c, &buf);
      if (n < 0)
        {
          berr_move (err, &c->cb_err);
          return -1;
        }
      if (n == 0)
        break;
    }
  for (;;)
    {
      ssize_t n = raw_read (c);
      if (n < 0)
        {
          berr_move (err, &c->cb_err);
          return -1;
        }
      if (n == 0)
        return 0;
    }
}

int layer_apply (layer_read_fn rd, void *cookie, int dirfd, const struct layer_apply_opts *opts,
                 struct layer_apply_result *res, berr_t *err)
{
  __attribute__ ((cleanup (apply_ctx_release))) struct apply_ctx c = { 0 };
  c.rd = rd;
  c.cookie = cookie;
  c.blob_fd = opts ? opts->blob_fd : -1;
  c.max_size = opts ? opts->max_size : 0;
  c.root = dirfd;
  c.cache_fd = -1;
  c.use_split = opts && opts->use_split && opts->split_fd >= 0 && c.blob_fd >= 0;
  c.split_fd = c.use_split ? opts->split_fd : -1;
  if (lazy_archive_load (err) < 0)
    return berr_wrap (err, "apply layer");
  ahash_init (&c.raw_hash, IO_BUF_SIZE);
  sha256_init (&c.tar_hash);
  memset (res, 0, sizeof *res);

  bool empty = false;
  if (open_outer (&c, res, &empty, err) < 0)
    return berr_wrap (err, "apply layer");
  if (!empty && extract_all (&c, err) < 0)
    return berr_wrap (err, "apply layer");
  if (c.split.state == SPLIT_ACTIVE && c.inner
      && split_consumed (&c.split, (uint64_t)archive_filter_bytes (c.inner, 0), err) < 0)
    return berr_wrap (err, "apply layer");
  split_tail (&c.split);
  if (restore_dir_times (&c, err) < 0 || drain (&c, err) < 0 || split_finish (&c.split, err) < 0)
    return berr_wrap (err, "apply layer");
  res->split = c.split.state == SPLIT_ACTIVE;

  ahash_final (&c.raw_hash, res->digest);
  if (c.hash_tar)
    sha256_final (&c.tar_hash, res->diff_id);
  else
    memcpy (res->diff_id, res->digest, DIGEST_STR_LEN);
  res->size = c.size;
  res->tar_size = c.tar_size;
  res->content_size = c.content_size;
  return 0;
}

static ssize_t fd_read (void *cookie, void *buf, size_t len)
{
  return read (*(int *)cookie, buf, len);
}

int layer_apply_fd (int fd, int dirfd, const struct layer_apply_opts *opts,
                    struct layer_apply_result *res, berr_t *err)
{
  return layer_apply (fd_read, &fd, dirfd, opts, res, err);
}

/* ---------------------------------------------------------------------------------------- */
/* Diff                                                                                       */

struct link_slot
{
  dev_t dev;
  ino_t ino;
  char *path; /* NULL: empty slot */
};

struct diff_ctx
{
  struct archive *a;
  layer_write_fn wr;
  void *cookie;
  struct sha256 hash;
  uint64_t size;
  unsigned char *out; /* output buffer, so the caller sees few large writes */
  size_t out_len;
  unsigned char *io; /* file read buffer */
  berr_t cb_err;
  struct link_slot *links;
  size_t n_links;
  size_t cap_links; /* power of two */
  layer_skip_fn skip;
  void *skip_cookie;
  uint64_t content_size;
};

static void diff_ctx_release (struct diff_ctx *d)
{
  d->wr = NULL;
  if (d->a)
    archive_write_free (d->a);
  sha256_release (&d->hash);
  free (d->out);
  free (d->io);
  berr_release (&d->cb_err);
  for (size_t i = 0; i < d->cap_links; i++)
    free (d->links[i].path);
  free (d->links);
}

static int diff_flush (struct diff_ctx *d)
{
  if (d->out_len == 0)
    return 0;
  int r = d->wr (d->cookie, d->out, d->out_len);
  d->out_len = 0;
  if (r < 0)
    return berr_set (&d->cb_err, errno, "write layer");
  return 0;
}

static la_ssize_t diff_write_cb (struct archive *a, void *data, const void *buf, size_t len)
{
  struct diff_ctx *d = data;
  if (d->wr == NULL)
    return (la_ssize_t)len; /* failed already: archive_write_free's end marker goes nowhere */
  sha256_update (&d->hash, buf, len);
  d->size += len;
  if (d->out_len + len > IO_BUF_SIZE && diff_flush (d) < 0)
    goto fail;
  if (len >= IO_BUF_SIZE)
    {
      if (d->wr (d->cookie, buf, len) < 0)
        {
          berr_set (&d->cb_err, errno, "write layer");
          goto fail;
        }
      return (la_ssize_t)len;
    }
  memcpy (d->out + d->out_len, buf, len);
  d->out_len += len;
  return (la_ssize_t)len;
fail:
  archive_set_error (a, d->cb_err.errnum ? d->cb_err.errnum : EIO, "%s", d->cb_err.msg);
  return -1;
}

static int diff_fail (struct diff_ctx *d, berr_t *err, const char *what)
{
  if (berr_is_set (&d->cb_err))
    {
      berr_move (err, &d->cb_err);
      return -1;
    }
  const char *msg = archive_error_string (d->a);
  return berr_set (err, 0, "%s: %s", what, msg ? msg : "unknown libarchive error");
}

static size_t link_hash (dev_t dev, ino_t ino)
{
  uint64_t h = (uint64_t)ino * 0x9e3779b97f4a7c15ULL ^ (uint64_t)dev;
  return (size_t)(h ^ (h >> 29));
}

/* The first path seen for (dev, ino), or NULL after remembering path for it. */
static const char *link_lookup_or_add (struct diff_ctx *d, dev_t dev, ino_t ino, const char *path)
{
  if (2 * (d->n_links + 1) > d->cap_links)
    {
      size_t ncap = d->cap_links ? 2 * d->cap_links : 256;
      struct link_slot *n = xcalloc (ncap, sizeof *n);
      for (size_t i = 0; i < d->cap_links; i++)
        if (d->links[i].path)
          {
            size_t j = link_hash (d->links[i].dev, d->links[i].ino) & (ncap - 1);
            while (n[j].path)
              j = (j + 1) & (ncap - 1);
            n[j] = d->links[i];
          }
      free (d->links);
      d->links = n;
      d->cap_links = ncap;
    }
  size_t j = link_hash (dev, ino) & (d->cap_links - 1);
  while (d->links[j].path)
    {
      if (d->links[j].dev == dev && d->links[j].ino == ino)
        return d->links[j].path;
      j = (j + 1) & (d->cap_links - 1);
    }
  d->links[j].dev = dev;
  d->links[j].ino = ino;
  d->links[j].path = xstrdup (path);
  d->n_links++;
  return NULL;
}

static int cmp_names (const void *a, const void *b)
{
  return strcmp (*(char *const *)a, *(char *const *)b);
}

static int diff_xattrs (struct archive_entry *e, const char *procpath, berr_t *err)
{
  ssize_t n = llistxattr (procpath, NULL, 0);
  if (n < 0)
    {
      if (errno == ENOTSUP)
        return 0;
      return berr_set (err, errno, "list xattrs");
    }
  if (n == 0)
    return 0;
  cleanup_free char *list = xmalloc ((size_t)n + 1);
  n = llistxattr (procpath, list, (size_t)n);
  if (n < 0)
    return berr_set (err, errno, "list xattrs");
  list[n] = '\0';
  cleanup_free char **names = NULL;
  size_t count = 0;
  for (char *p = list; p < list + n; p += strlen (p) + 1)
    if (xattr_is_layer_data (p))
      {
        names = xrealloc (names, (count + 1) * sizeof *names);
        names[count++] = p;
      }
  if (count > 1)
    qsort (names, count, sizeof *names, cmp_names);
  for (size_t i = 0; i < count; i++)
    {
      ssize_t vn = lgetxattr (procpath, names[i], NULL, 0);
      if (vn < 0)
        {
          if (errno == ENODATA)
            continue;
          return berr_set (err, errno, "get xattr %s", names[i]);
        }
      cleanup_free char *v = xmalloc ((size_t)vn + 1);
      vn = lgetxattr (procpath, names[i], v, (size_t)vn);
      if (vn < 0)
        return berr_set (err, errno, "get xattr %s", names[i]);
      archive_entry_xattr_add_entry (e, names[i], v, (size_t)vn);
    }
  return 0;
}

static bool dir_is_opaque (const char *procpath)
{
  char v[2];
  ssize_t n = lgetxattr (procpath, OVERLAY_OPAQUE_XATTR, v, sizeof v);
  return n == 1 && v[0] == 'y';
}

static void entry_common (struct archive_entry *e, const struct stat *st, const char *path)
{
  archive_entry_copy_pathname (e, path);
  archive_entry_set_uid (e, st->st_uid);
  archive_entry_set_gid (e, st->st_gid);
  archive_entry_set_perm (e, st->st_mode & 07777);
  /* Seconds only: sub-second times would make the output depend on the filesystem. */
  archive_entry_set_mtime (e, st->st_mtim.tv_sec, 0);
}

static int write_header (struct diff_ctx *d, struct archive_entry *e, berr_t *err)
{
  int r = archive_write_header (d->a, e);
  /* ARCHIVE_WARN: e.g. a name not valid in the locale, written as raw bytes. */
  if (r < ARCHIVE_WARN)
    return diff_fail (d, err, "write header");
  return 0;
}

static int diff_file_data (struct diff_ctx *d, int dfd, const char *name, int64_t size, berr_t *err)
{
  cleanup_close int fd = openat (dfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    return berr_set (err, errno, "open");
  int64_t left = size;
  while (left > 0)
    {
      size_t want = left < IO_BUF_SIZE ? (size_t)left : IO_BUF_SIZE;
      ssize_t n = read (fd, d->io, want);
      if (n < 0)
        {
          if (errno == EINTR)
            continue;
          return berr_set (err, errno, "read");
        }
      if (n == 0)
        break; /* shrank since stat: libarchive pads the entry with zeros */
      if (archive_write_data (d->a, d->io, (size_t)n) < 0)
        return diff_fail (d, err, "write data");
      left -= n;
    }
  return 0;
}

static int diff_dir (struct diff_ctx *d, int dfd, const char *prefix, berr_t *err);

static void cleanup_entryp (struct archive_entry **e)
{
  if (*e)
    archive_entry_free (*e);
}
#define cleanup_entry __attribute__ ((cleanup (cleanup_entryp)))

/* Write the entry for dfd/name (wpath: its path in the tar); *is_dir says whether to descend. */
static int diff_entry (struct diff_ctx *d, int dfd, const char *name, const struct stat *st,
                       struct sbuf *wpath, bool *is_dir, berr_t *err)
{
  char procpath[64 + NAME_MAX];
  snprintf (procpath, sizeof procpath, "/proc/self/fd/%d/%s", dfd, name);
  cleanup_entry struct archive_entry *e = archive_entry_new ();

  *is_dir = false;
  if (S_ISCHR (st->st_mode) && st->st_rdev == makedev (0, 0))
    {
      /* overlayfs whiteout -> OCI ".wh.<name>", an empty regular file */
      sbuf_addf (wpath, WHITEOUT_PREFIX "%s", name);
      entry_common (e, st, wpath->buf);
      archive_entry_set_filetype (e, AE_IFREG);
      archive_entry_set_size (e, 0);
      return write_header (d, e, err);
    }
  sbuf_adds (wpath, name);
  if (S_ISSOCK (st->st_mode))
    return 0; /* sockets cannot be archived (moby skips them too) */

  entry_common (e, st, wpath->buf);
  archive_entry_set_filetype (e, st->st_mode & S_IFMT);
  if (!S_ISDIR (st->st_mode) && st->st_nlink > 1)
    {
      const char *first = link_lookup_or_add (d, st->st_dev, st->st_ino, wpath->buf);
      if (first)
        {
          archive_entry_copy_hardlink (e, first);
          archive_entry_set_size (e, 0);
          return write_header (d, e, err);
        }
    }
  if (diff_xattrs (e, procpath, err) < 0)
    return -1;
  if (S_ISREG (st->st_mode))
    {
      archive_entry_set_size (e, st->st_size);
      if (write_header (d, e, err) < 0)
        return -1;
      d->content_size += (uint64_t)st->st_size;
      return diff_file_data (d, dfd, name, st->st_size, err);
    }
  if (S_ISLNK (st->st_mode))
    {
      size_t cap = (size_t)st->st_size + 1;
      for (;;)
        {
          cleanup_free char *target = xmalloc (cap);
          ssize_t n = readlinkat (dfd, name, target, cap);
          if (n < 0)
            return berr_set (err, errno, "readlink");
          if ((size_t)n < cap)
            {
              target[n] = '\0';
              archive_entry_copy_symlink (e, target);
              break;
            }
          cap *= 2;
        }
      return write_header (d, e, err);
    }
  if (S_ISCHR (st->st_mode) || S_ISBLK (st->st_mode))
    {
      archive_entry_set_rdevmajor (e, major (st->st_rdev));
      archive_entry_set_rdevminor (e, minor (st->st_rdev));
      return write_header (d, e, err);
    }
  if (!S_ISDIR (st->st_mode))
    return write_header (d, e, err); /* fifo */

  /* A directory: "name/", then its opaque marker right after it. */
  sbuf_addc (wpath, '/');
  archive_entry_copy_pathname (e, wpath->buf);
  if (write_header (d, e, err) < 0)
    return -1;
  *is_dir = true;
  if (!dir_is_opaque (procpath))
    return 0;
  cleanup_entry struct archive_entry *o = archive_entry_new ();
  cleanup_sbuf struct sbuf opath;
  sbuf_init (&opath);
  sbuf_addf (&opath, "%s" WHITEOUT_OPAQUE, wpath->buf);
  entry_common (o, st, opath.buf);
  archive_entry_set_perm (o, 0);
  archive_entry_set_filetype (o, AE_IFREG);
  archive_entry_set_size (o, 0);
  return write_header (d, o, err);
}

static int diff_one (struct diff_ctx *d, int dfd, const char *prefix, const char *name, berr_t *err)
{
  struct stat st;
  cleanup_sbuf struct sbuf wpath;
  sbuf_init (&wpath);
  sbuf_adds (&wpath, prefix);
  if (fstatat (dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
    {
      if (errno == ENOENT)
        return 0; /* removed since readdir */
      berr_set (err, errno, "stat");
      return berr_wrap (err, "\"%s%s\"", prefix, name);
    }
  if (d->skip)
    {
      cleanup_free char *path = xasprintf ("%s%s", prefix, name);
      if (d->skip (d->skip_cookie, path, &st))
        return 0;
    }
  bool is_dir;
  if (diff_entry (d, dfd, name, &st, &wpath, &is_dir, err) < 0)
    return berr_wrap (err, "\"%s%s\"", prefix, name);
  if (!is_dir)
    return 0;
  cleanup_close int sub = openat (dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (sub < 0)
    {
      berr_set (err, errno, "open directory");
      return berr_wrap (err, "\"%s\"", wpath.buf);
    }
  return diff_dir (d, sub, wpath.buf, err);
}

/* Entries of dfd sorted by name (byte order), each directory followed by its subtree, like a
 * sorted `find`. prefix is the directory's path in the tar with a trailing "/" ("" for the
 * root). */
static int diff_dir (struct diff_ctx *d, int dfd, const char *prefix, berr_t *err)
{
  cleanup_free char **names = NULL;
  size_t count = 0, cap = 0;
  {
    int fd2 = openat (dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd2 < 0)
      return berr_set (err, errno, "open directory \"%s\"", prefix);
    cleanup_closedir DIR *dir = fdopendir (fd2);
    if (dir == NULL)
      {
        int e = errno;
        close (fd2);
        return berr_set (err, e, "open directory \"%s\"", prefix);
      }
    struct dirent *de;
    while ((de = readdir (dir)))
      {
        if (strcmp (de->d_name, ".") == 0 || strcmp (de->d_name, "..") == 0)
          continue;
        if (count == cap)
          {
            cap = cap ? 2 * cap : 32;
            names = xrealloc (names, cap * sizeof *names);
          }
        names[count++] = xstrdup (de->d_name);
      }
  }
  if (count > 1)
    qsort (names, count, sizeof *names, cmp_names);
  int ret = 0;
  for (size_t i = 0; i < count; i++)
    {
      if (ret == 0)
        ret = diff_one (d, dfd, prefix, names[i], err);
      free (names[i]);
    }
  return ret;
}

int layer_diff (int dirfd, layer_write_fn wr, void *cookie, char diff_id[DIGEST_STR_LEN],
                uint64_t *tar_size, berr_t *err)
{
  struct layer_diff_opts o = { 0 };
  return layer_diff_filtered (dirfd, &o, wr, cookie, diff_id, tar_size, err);
}

int layer_diff_filtered (int dirfd, struct layer_diff_opts *opts, layer_write_fn wr, void *cookie,
                         char diff_id[DIGEST_STR_LEN], uint64_t *tar_size, berr_t *err)
{
  if (lazy_archive_load (err) < 0)
    return berr_wrap (err, "diff layer");
  __attribute__ ((cleanup (diff_ctx_release))) struct diff_ctx d = { 0 };
  d.wr = wr;
  d.cookie = cookie;
  d.skip = opts->skip;
  d.skip_cookie = opts->skip_cookie;
  d.out = xmalloc (IO_BUF_SIZE);
  d.io = xmalloc (IO_BUF_SIZE);
  sha256_init (&d.hash);

  d.a = archive_write_new ();
  if (d.a == NULL)
    abort ();
  /* Restricted PAX: plain ustar headers unless a name, size, id or xattr needs more. */
  if (archive_write_set_format_pax_restricted (d.a) != ARCHIVE_OK
      || archive_write_set_format_option (d.a, "pax", "xattrheader", "SCHILY") != ARCHIVE_OK
      || archive_write_add_filter_none (d.a) != ARCHIVE_OK
      /* No blocking: the tar ends right after its two zero blocks, like Go's archive/tar;
       * diff_write_cb buffers instead. */
      || archive_write_set_bytes_per_block (d.a, 0) != ARCHIVE_OK
      || archive_write_open (d.a, &d, NULL, diff_write_cb, NULL) != ARCHIVE_OK)
    {
      diff_fail (&d, err, "open tar writer");
      return berr_wrap (err, "diff layer");
    }
  if (diff_dir (&d, dirfd, "", err) < 0)
    return berr_wrap (err, "diff layer");
  if (archive_write_close (d.a) != ARCHIVE_OK)
    {
      diff_fail (&d, err, "close");
      return berr_wrap (err, "diff layer");
    }
  if (diff_flush (&d) < 0)
    {
      berr_move (err, &d.cb_err);
      return berr_wrap (err, "diff layer");
    }
  char id[DIGEST_STR_LEN];
  sha256_final (&d.hash, id);
  if (diff_id)
    memcpy (diff_id, id, DIGEST_STR_LEN);
  if (tar_size)
    *tar_size = d.size;
  opts->content_size = d.content_size;
  return 0;
}
