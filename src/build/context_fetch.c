/* context_fetch.c — build contexts that arrive as bytes: the sniffing of stdin or a download
 * (tar archive or Dockerfile), the unpacker for context archives and the HTTP client.
 *
 * The unpacker is not layer_apply: a context is plain files, so OCI whiteout names (".wh.x")
 * must stay ordinary files and device nodes are never made. Every path is still resolved with
 * openat2(RESOLVE_IN_ROOT), so neither "../", absolute names, nor a symlink planted by an
 * earlier entry can place anything outside the temporary directory. */
#define CURL_DISABLE_TYPECHECK 1
#include <archive.h>
#include <archive_entry.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "build/context_priv.h"
#include "image/layer.h"
#include "util/fs.h"
#include "util/lazylib.h"
#include "util/log.h"

ssize_t ctx_peek (int fd, unsigned char *buf, berr_t *err)
{
  size_t got = 0;
  while (got < CTX_PEEK_SIZE)
    {
      ssize_t n = read (fd, buf + got, CTX_PEEK_SIZE - got);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        return berr_set (err, errno, "failed to peek context header from STDIN");
      if (n == 0)
        break;
      got += (size_t)n;
    }
  return (ssize_t)got;
}

/* The bytes handed to libarchive: first the peeked prefix, then the file descriptor. */
struct feed
{
  const unsigned char *pre;
  size_t pre_len;
  bool pre_done;
  int fd;
  uint64_t raw;
  unsigned char buf[64 * 1024];
};

static la_ssize_t feed_read (struct archive *a, void *cookie, const void **out)
{
  struct feed *f = cookie;
  if (!f->pre_done)
    {
      f->pre_done = true;
      if (f->pre_len > 0)
        {
          *out = f->pre;
          f->raw += f->pre_len;
          return (la_ssize_t)f->pre_len;
        }
    }
  if (f->fd < 0)
    return 0;
  for (;;)
    {
      ssize_t n = read (f->fd, f->buf, sizeof f->buf);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        {
          archive_set_error (a, errno, "read: %s", strerror (errno));
          return -1;
        }
      f->raw += (uint64_t)n;
      *out = f->buf;
      return n;
    }
}

static bool has_magic (const unsigned char *b, size_t len, const char *magic, size_t mlen)
{
  return len >= mlen && memcmp (b, magic, mlen) == 0;
}

int ctx_is_archive (const unsigned char *buf, size_t len, bool *out, berr_t *err)
{
  if (has_magic (buf, len, "\x1f\x8b\x08", 3) || has_magic (buf, len, "BZh", 3)
      || has_magic (buf, len, "\xfd\x37\x7a\x58\x5a\x00", 6)
      || has_magic (buf, len, "\x28\xb5\x2f\xfd", 4))
    {
      *out = true;
      return 0;
    }
  if (lazy_archive_load (err) < 0)
    return -1;
  struct archive *a = archive_read_new ();
  archive_read_support_format_tar (a);
  struct feed *f = xzalloc (sizeof *f);
  f->pre = buf;
  f->pre_len = len;
  f->fd = -1;
  struct archive_entry *e;
  *out = archive_read_open (a, f, NULL, feed_read, NULL) == ARCHIVE_OK
         && archive_read_next_header (a, &e) == ARCHIVE_OK;
  archive_read_free (a);
  free (f);
  return 0;
}

/* Unpack state. dirs: directories whose mode and mtime are set at the end, once nothing more
 * is created inside them. */
struct dir_meta
{
  char *path;
  mode_t mode;
  struct timespec ts[2];
};

struct unpack
{
  int root;
  uint64_t max_size;
  uint64_t data;
  struct dir_meta *dirs;
  size_t ndirs;
};

/* Entry names: leading '/' dropped, cleaned; NULL for one that climbs out of the root. */
static char *entry_path (const char *name)
{
  while (*name == '/')
    name++;
  char *p = fs_path_clean (name);
  if (strcmp (p, "..") == 0 || str_has_prefix (p, "../"))
    {
      free (p);
      return NULL;
    }
  return p;
}

/* The directory that holds path (created inside the root as needed) and path's last
 * component. */
static int open_parent (struct unpack *u, const char *path, const char **base)
{
  const char *slash = strrchr (path, '/');
  if (slash == NULL)
    {
      *base = path;
      return fcntl (u->root, F_DUPFD_CLOEXEC, 3);
    }
  *base = slash + 1;
  cleanup_free char *parent = xstrndup (path, (size_t)(slash - path));
  return fs_mkdir_in_root (u->root, parent, 0755);
}

/* A later entry replaces an earlier one of the same name (tar semantics), but a directory
 * stays when the new entry is a directory too. */
static int make_room (int pfd, const char *base, bool for_dir, bool *is_dir, berr_t *err)
{
  struct stat st;
  *is_dir = false;
  if (fstatat (pfd, base, &st, AT_SYMLINK_NOFOLLOW) < 0)
    return errno == ENOENT ? 0 : berr_set (err, errno, "stat");
  if (S_ISDIR (st.st_mode))
    {
      if (for_dir)
        {
          *is_dir = true;
          return 0;
        }
      return fs_rm_rf_at (pfd, base, err);
    }
  if (unlinkat (pfd, base, 0) < 0)
    return berr_set (err, errno, "remove");
  return 0;
}

static void entry_times (struct archive_entry *e, struct timespec ts[2])
{
  ts[1].tv_sec = archive_entry_mtime (e);
  ts[1].tv_nsec = archive_entry_mtime_nsec (e);
  ts[0] = ts[1];
}

static int write_regular (struct unpack *u, struct archive *a, struct archive_entry *e, int pfd,
                          const char *base, berr_t *err)
{
  cleanup_close int fd
      = openat (pfd, base, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0)
    return berr_set (err, errno, "create");
  uint64_t end = 0;
  for (;;)
    {
      const void *buf;
      size_t len;
      la_int64_t off;
      int r = archive_read_data_block (a, &buf, &len, &off);
      if (r == ARCHIVE_EOF)
        break;
      if (r < ARCHIVE_WARN)
        return berr_set (err, 0, "read: %s", archive_error_string (a));
      u->data += len;
      if (u->max_size > 0 && u->data > u->max_size)
        return berr_setk (err, BERR_INVALID, 0, "context larger than %llu bytes",
                          (unsigned long long)u->max_size);
      const char *p = buf;
      size_t left = len;
      while (left > 0)
        {
          ssize_t n = pwrite (fd, p, left, (off_t)off);
          if (n < 0 && errno == EINTR)
            continue;
          if (n < 0)
            return berr_set (err, errno, "write");
          p += n;
          left -= (size_t)n;
          off += n;
        }
      if ((uint64_t)off > end)
        end = (uint64_t)off;
    }
  /* sparse files end in a hole */
  la_int64_t size = archive_entry_size_is_set (e) ? archive_entry_size (e) : 0;
  if ((uint64_t)size > end && ftruncate (fd, (off_t)size) < 0)
    return berr_set (err, errno, "truncate");
  struct timespec ts[2];
  entry_times (e, ts);
  if (fchmod (fd, archive_entry_perm (e) & 07777) < 0 || futimens (fd, ts) < 0)
    return berr_set (err, errno, "set metadata");
  return 0;
}

static int write_hardlink (struct unpack *u, const char *target, int pfd, const char *base,
                           berr_t *err)
{
  cleanup_free char *tpath = entry_path (target);
  if (tpath == NULL || strcmp (tpath, ".") == 0)
    return berr_setk (err, BERR_INVALID, 0, "invalid hardlink target \"%s\"", target);
  const char *tbase;
  cleanup_close int tpfd = open_parent (u, tpath, &tbase);
  if (tpfd < 0)
    return berr_set (err, errno, "hardlink target \"%s\"", target);
  struct stat st;
  if (fstatat (tpfd, tbase, &st, AT_SYMLINK_NOFOLLOW) < 0)
    return berr_set (err, errno, "hardlink target \"%s\"", target);
  if (S_ISDIR (st.st_mode))
    return berr_setk (err, BERR_INVALID, 0, "hardlink target \"%s\" is a directory", target);
  bool is_dir;
  if (make_room (pfd, base, false, &is_dir, err) < 0)
    return -1;
  if (linkat (tpfd, tbase, pfd, base, 0) < 0)
    return berr_set (err, errno, "link to \"%s\"", target);
  return 0;
}

static int unpack_entry (struct unpack *u, struct archive *a, struct archive_entry *e, berr_t *err)
{
  const char *name = archive_entry_pathname (e);
  if (name == NULL)
    return berr_setk (err, BERR_INVALID, 0, "entry without a name");
  cleanup_free char *path = entry_path (name);
  if (path == NULL)
    return berr_setk (err, BERR_INVALID, 0, "entry \"%s\": path outside the context", name);
  if (strcmp (path, ".") == 0)
    return 0; /* the root itself */
  const char *hardlink = archive_entry_hardlink (e);
  mode_t type = archive_entry_filetype (e);
  if (hardlink == NULL && type != AE_IFDIR && type != AE_IFREG && type != AE_IFLNK)
    {
      log_debug ("build context: skipping special file %s", path);
      return 0;
    }
  const char *base;
  cleanup_close int pfd = open_parent (u, path, &base);
  if (pfd < 0)
    return berr_set (err, errno, "entry \"%s\": parent directory", name);
  int r = 0;
  bool is_dir = false;
  if (hardlink != NULL)
    r = write_hardlink (u, hardlink, pfd, base, err);
  else if ((r = make_room (pfd, base, type == AE_IFDIR, &is_dir, err)) < 0)
    ;
  else if (type == AE_IFDIR)
    {
      if (!is_dir && mkdirat (pfd, base, 0700) < 0)
        r = berr_set (err, errno, "mkdir");
      else
        {
          u->dirs = xrealloc (u->dirs, (u->ndirs + 1) * sizeof *u->dirs);
          struct dir_meta *d = &u->dirs[u->ndirs++];
          d->path = xstrdup (path);
          d->mode = archive_entry_perm (e) & 07777;
          entry_times (e, d->ts);
        }
    }
  else if (type == AE_IFREG)
    r = write_regular (u, a, e, pfd, base, err);
  else
    {
      const char *target = archive_entry_symlink (e);
      struct timespec ts[2];
      entry_times (e, ts);
      if (symlinkat (target ? target : "", pfd, base) < 0)
        r = berr_set (err, errno, "symlink");
      else if (utimensat (pfd, base, ts, AT_SYMLINK_NOFOLLOW) < 0)
        r = berr_set (err, errno, "set symlink times");
    }
  if (r < 0)
    return berr_wrap (err, "entry \"%s\"", name);
  return 0;
}

static int finish_dirs (struct unpack *u, berr_t *err)
{
  for (size_t i = u->ndirs; i-- > 0;)
    {
      struct dir_meta *d = &u->dirs[i];
      cleanup_close int fd
          = fs_open_in_root (u->root, d->path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW, 0);
      if (fd < 0)
        {
          if (errno == ENOENT || errno == ENOTDIR || errno == ELOOP)
            continue; /* replaced by a later entry */
          return berr_set (err, errno, "open directory \"%s\"", d->path);
        }
      /* a directory without owner write permission is still complete: we are done in it */
      if (fchmod (fd, d->mode) < 0 || futimens (fd, d->ts) < 0)
        return berr_set (err, errno, "set metadata of \"%s\"", d->path);
    }
  return 0;
}

int ctx_unpack (const unsigned char *pre, size_t pre_len, int fd, int rootfd, uint64_t max_size,
                uint64_t *raw, berr_t *err)
{
  if (lazy_archive_load (err) < 0)
    return -1;
  struct archive *a = archive_read_new ();
  layer_add_filters (a);
  archive_read_support_format_tar (a);
  archive_read_support_format_empty (a);
  struct feed *f = xzalloc (sizeof *f);
  f->pre = pre;
  f->pre_len = pre_len;
  f->fd = fd;
  struct unpack u = { .root = rootfd, .max_size = max_size };
  int ret = 0;
  if (archive_read_open (a, f, NULL, feed_read, NULL) != ARCHIVE_OK)
    ret = berr_setk (err, BERR_INVALID, 0, "%s", archive_error_string (a));
  while (ret == 0)
    {
      struct archive_entry *e;
      int r = archive_read_next_header (a, &e);
      if (r == ARCHIVE_EOF)
        break;
      if (r < ARCHIVE_WARN)
        {
          ret = berr_setk (err, BERR_INVALID, 0, "%s", archive_error_string (a));
          break;
        }
      ret = unpack_entry (&u, a, e, err);
    }
  if (ret == 0)
    ret = finish_dirs (&u, err);
  /* the bytes after the end-of-archive blocks count too, as they would be sent */
  while (ret == 0 && fd >= 0)
    {
      ssize_t n = read (fd, f->buf, sizeof f->buf);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        break;
      f->raw += (uint64_t)n;
    }
  if (raw)
    *raw = f->raw;
  for (size_t i = 0; i < u.ndirs; i++)
    free (u.dirs[i].path);
  free (u.dirs);
  archive_read_free (a);
  free (f);
  if (ret < 0)
    return berr_wrap (err, "unpack build context");
  return 0;
}

/* HTTP */

struct http_sink
{
  int fd;
  uint64_t max;
  uint64_t got;
  bool too_big;
  bool write_failed;
  int write_errno;
  char *status_text;
};

static size_t http_write (char *ptr, size_t size, size_t nmemb, void *cookie)
{
  struct http_sink *s = cookie;
  size_t len = size * nmemb;
  s->got += len;
  if (s->max > 0 && s->got > s->max)
    {
      s->too_big = true;
      return 0;
    }
  if (s->fd >= 0 && fs_write_all (s->fd, ptr, len) < 0)
    {
      s->write_failed = true;
      s->write_errno = errno;
      return 0;
    }
  return len;
}

/* Keeps the last status line's reason ("HTTP/1.1 404 Not Found" -> "404 Not Found"): after
 * redirects, the final response's. */
static size_t http_header (char *ptr, size_t size, size_t nmemb, void *cookie)
{
  struct http_sink *s = cookie;
  size_t len = size * nmemb;
  if (len > 5 && memcmp (ptr, "HTTP/", 5) == 0)
    {
      const char *sp = memchr (ptr, ' ', len);
      if (sp)
        {
          size_t rest = len - (size_t)(sp + 1 - ptr);
          while (rest > 0 && (sp[rest] == '\r' || sp[rest] == '\n'))
            rest--;
          free (s->status_text);
          s->status_text = xstrndup (sp + 1, rest);
        }
    }
  return len;
}

int ctx_http_get (const char *url, bool head, int fd, uint64_t max, long *status,
                  char **status_text, char **content_type, berr_t *err)
{
  if (lazy_curl_load (err) < 0)
    return -1;
  CURL *c = curl_easy_init ();
  if (c == NULL)
    return berr_set (err, 0, "curl_easy_init failed");
  struct http_sink s = { .fd = fd, .max = max };
  char ebuf[CURL_ERROR_SIZE] = "";
  curl_easy_setopt (c, CURLOPT_URL, url);
  curl_easy_setopt (c, CURLOPT_FOLLOWLOCATION, 1L);
  curl_easy_setopt (c, CURLOPT_MAXREDIRS, 10L);
  curl_easy_setopt (c, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt (c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  curl_easy_setopt (c, CURLOPT_CONNECTTIMEOUT, 30L);
  /* a server that stalls for a minute is given up on; a slow but moving one is not */
  curl_easy_setopt (c, CURLOPT_LOW_SPEED_LIMIT, 1L);
  curl_easy_setopt (c, CURLOPT_LOW_SPEED_TIME, 60L);
  curl_easy_setopt (c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt (c, CURLOPT_USERAGENT, "berth");
  curl_easy_setopt (c, CURLOPT_NOBODY, head ? 1L : 0L);
  curl_easy_setopt (c, CURLOPT_WRITEFUNCTION, http_write);
  curl_easy_setopt (c, CURLOPT_WRITEDATA, &s);
  curl_easy_setopt (c, CURLOPT_HEADERFUNCTION, http_header);
  curl_easy_setopt (c, CURLOPT_HEADERDATA, &s);
  curl_easy_setopt (c, CURLOPT_ERRORBUFFER, ebuf);
  CURLcode rc = curl_easy_perform (c);
  int ret = 0;
  if (s.too_big)
    ret = berr_setk (err, BERR_INVALID, 0, "%s: larger than %llu bytes", url,
                     (unsigned long long)max);
  else if (s.write_failed)
    ret = berr_set (err, s.write_errno, "%s: write", url);
  else if (rc != CURLE_OK)
    ret = berr_set (err, 0, "Get \"%s\": %s", url, ebuf[0] ? ebuf : curl_easy_strerror (rc));
  else
    {
      curl_easy_getinfo (c, CURLINFO_RESPONSE_CODE, status);
      if (content_type)
        {
          char *ct = NULL;
          curl_easy_getinfo (c, CURLINFO_CONTENT_TYPE, &ct);
          *content_type = ct ? xstrdup (ct) : NULL;
        }
      if (status_text)
        *status_text = s.status_text ? steal_pointer (&s.status_text) : xasprintf ("%ld", *status);
    }
  free (s.status_text);
  curl_easy_cleanup (c);
  return ret;
}
