/* logfile.c — the writing half of Docker's json-file log driver.
 *
 * What Docker does, and so what this does:
 *   - each stream is cut into lines at '\n'; a line still without '\n' after 16 KiB is written as
 *     a piece of exactly 16 KiB without the '\n', and so is what is left at close (the copier's
 *     16 KiB buffer in moby daemon/logger/copier.go);
 *   - one JSON object per line, {"log":…,"stream":…,"time":…}, time in RFC3339Nano UTC;
 *     invalid UTF-8 becomes U+FFFD byte by byte, as Go's encoder does;
 *   - before writing an entry, if the file has reached max-size, rotate: with max-file >= 2,
 *     <path>.(N-2) -> <path>.(N-1) … <path> -> <path>.1 and start an empty <path>; with
 *     max-file 1 truncate <path> (loggerutils/logfile.go). So a file may pass max-size by one
 *     entry, and max-file counts the current file. */
#include "monitor/logfile.h"
#include "monitor/monitor_int.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/fs.h"

#define LOG_LINE_MAX 16384

enum
{
  STREAM_STDOUT,
  STREAM_STDERR,
  N_STREAMS
};

struct logstream
{
  char *buf; /* LOG_LINE_MAX bytes once a partial line needs it */
  size_t len;
};

struct logfile
{
  char *path;
  int fd;
  uint64_t size; /* of the current file, including what sits in out */
  uint64_t max_size;
  int max_file;
  struct logstream st[N_STREAMS];
  struct sbuf out;     /* encoded entries not yet written */
  struct sbuf scratch; /* one entry's text, UTF-8 repaired */
  char *json;          /* one encoded entry */
  size_t json_cap;
};

static const char *const stream_names[N_STREAMS] = { "stdout", "stderr" };

static int open_log (const char *path, bool truncate, int *fd, uint64_t *size, berr_t *err)
{
  struct stat st;
  int flags = O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | (truncate ? O_TRUNC : 0);
  int f = open (path, flags, 0640);
  if (f < 0)
    return berr_set (err, errno, "open log %s", path);
  if (fstat (f, &st) < 0)
    {
      int e = errno;
      close (f);
      return berr_set (err, e, "stat log %s", path);
    }
  *fd = f;
  *size = (uint64_t)st.st_size;
  return 0;
}

int logfile_open (const char *path, uint64_t max_size, int max_file, struct logfile **out,
                  berr_t *err)
{
  struct logfile *l;
  int fd;
  uint64_t size;

  if (max_file < 1)
    return berr_setk (err, BERR_INVALID, 0, "max-file cannot be less than 1");
  if (open_log (path, false, &fd, &size, err) < 0)
    return -1;
  l = xzalloc (sizeof *l);
  l->path = xstrdup (path);
  l->fd = fd;
  l->size = size;
  l->max_size = max_size;
  l->max_file = max_file;
  sbuf_init (&l->out);
  sbuf_init (&l->scratch);
  *out = l;
  return 0;
}

static int write_out (struct logfile *l, berr_t *err)
{
  if (l->out.len == 0)
    return 0;
  int r = fs_write_all (l->fd, l->out.buf, l->out.len);
  int e = errno;
  /* On failure (a full disk) the entries are dropped: the monitor must not hoard them. */
  sbuf_reset (&l->out);
  if (r < 0)
    return berr_set (err, e, "write log %s", l->path);
  return 0;
}

static int rotate (struct logfile *l, berr_t *err)
{
  cleanup_free char *from = NULL;
  cleanup_free char *to = NULL;
  int fd;
  uint64_t size;
  int ret = 0;

  if (write_out (l, err) < 0)
    return -1;
  close (l->fd);
  l->fd = -1;
  if (l->max_file >= 2)
    {
      to = xasprintf ("%s.%d", l->path, l->max_file - 1);
      if (unlink (to) < 0 && errno != ENOENT)
        ret = berr_set (err, errno, "remove %s", to);
      for (int i = l->max_file - 1; i > 1 && ret == 0; i--)
        {
          free (from);
          free (to);
          from = xasprintf ("%s.%d", l->path, i - 1);
          to = xasprintf ("%s.%d", l->path, i);
          if (rename (from, to) < 0 && errno != ENOENT)
            ret = berr_set (err, errno, "rotate %s", from);
        }
      free (to);
      to = xasprintf ("%s.1", l->path);
      if (ret == 0 && rename (l->path, to) < 0 && errno != ENOENT)
        ret = berr_set (err, errno, "rotate %s", l->path);
    }
  /* Whatever happened above, keep a file to write to (Docker does the same); the first
   * error is the one reported. */
  {
    cleanup_berr berr_t oerr = BERR_INIT;
    if (open_log (l->path, true, &fd, &size, &oerr) < 0)
      {
        if (ret == 0)
          berr_move (err, &oerr);
        return -1;
      }
  }
  l->fd = fd;
  l->size = 0;
  return ret;
}

/* Go's encoder turns each byte that does not start a valid UTF-8 sequence into U+FFFD.
 * Returns the length of the valid sequence at p, or 0. Mirrors utf8.DecodeRune's rules:
 * no overlong forms, no surrogates, nothing above U+10FFFF. */
static size_t utf8_seq (const unsigned char *p, size_t len)
{
  unsigned char c = p[0];
  if (c < 0x80)
    return 1;
  if (c < 0xC2 || c > 0xF4)
    return 0;
  size_t n = c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
  if (len < n)
    return 0;
  unsigned char lo = 0x80, hi = 0xBF;
  if (c == 0xE0)
    lo = 0xA0;
  else if (c == 0xED)
    hi = 0x9F;
  else if (c == 0xF0)
    lo = 0x90;
  else if (c == 0xF4)
    hi = 0x8F;
  if (p[1] < lo || p[1] > hi)
    return 0;
  for (size_t i = 2; i < n; i++)
    if (p[i] < 0x80 || p[i] > 0xBF)
      return 0;
  return n;
}

static void add_utf8 (struct sbuf *b, const char *data, size_t len)
{
  const unsigned char *p = (const unsigned char *)data;
  size_t i = 0, start = 0;
  if (len == 0)
    return;
  while (i < len)
    {
      if (p[i] < 0x80)
        {
          i++;
          continue;
        }
      size_t n = utf8_seq (p + i, len - i);
      if (n > 0)
        {
          i += n;
          continue;
        }
      sbuf_add (b, data + start, i - start);
      sbuf_add (b, "\xEF\xBF\xBD", 3);
      start = ++i;
    }
  sbuf_add (b, data + start, i - start);
}

/* One entry: a (possibly split) line of stream s, with its '\n' when newline. */
static int emit (struct logfile *l, int s, const char *a, size_t alen, const char *b, size_t blen,
                 bool newline, int64_t ts, berr_t *err)
{
  char tbuf[MON_TIME_BUFSZ];
  json_t *obj;
  size_t n;

  sbuf_reset (&l->scratch);
  add_utf8 (&l->scratch, a, alen);
  add_utf8 (&l->scratch, b, blen);
  if (newline)
    sbuf_addc (&l->scratch, '\n');
  obj = json_object ();
  json_object_set_new (obj, "log", json_stringn_nocheck (l->scratch.buf, l->scratch.len));
  json_object_set_new (obj, "stream", json_string_nocheck (stream_names[s]));
  json_object_set_new (obj, "time", json_string_nocheck (mon_format_time (ts, false, tbuf)));
  for (;;)
    {
      n = json_dumpb (obj, l->json, l->json_cap, JSON_COMPACT);
      if (n == 0)
        {
          json_decref (obj);
          return berr_set (err, 0, "encode log entry");
        }
      if (n < l->json_cap)
        break;
      l->json_cap = n + 1 > 512 ? n + 1 : 512;
      l->json = xrealloc (l->json, l->json_cap);
    }
  json_decref (obj);
  l->json[n++] = '\n';

  if (l->max_size > 0 && l->size >= l->max_size && rotate (l, err) < 0)
    return -1;
  sbuf_add (&l->out, l->json, n);
  l->size += n;
  /* Batch a burst of short lines into fewer writes, but keep the buffer small: the monitor
   * of a detached container should stay under a megabyte. */
  if (l->out.len >= 16384)
    return write_out (l, err);
  return 0;
}

static int stream_index (const char *stream)
{
  return strcmp (stream, "stderr") == 0 ? STREAM_STDERR : STREAM_STDOUT;
}

int logfile_write (struct logfile *l, const char *stream, const char *buf, size_t len, berr_t *err)
{
  int s = stream_index (stream);
  struct logstream *st = &l->st[s];
  int64_t ts = now_ns ();
  int ret = 0;

  while (len > 0 && ret == 0)
    {
      size_t room = LOG_LINE_MAX - st->len;
      size_t scan = len < room ? len : room;
      const char *nl = memchr (buf, '\n', scan);
      if (nl != NULL)
        {
          size_t k = (size_t)(nl - buf);
          ret = emit (l, s, st->buf, st->len, buf, k, true, ts, err);
          st->len = 0;
          buf += k + 1;
          len -= k + 1;
          continue;
        }
      if (st->buf == NULL)
        st->buf = xmalloc (LOG_LINE_MAX);
      memcpy (st->buf + st->len, buf, scan);
      st->len += scan;
      buf += scan;
      len -= scan;
      if (st->len == LOG_LINE_MAX)
        {
          ret = emit (l, s, st->buf, st->len, NULL, 0, false, ts, err);
          st->len = 0;
        }
    }
  if (ret == 0)
    ret = write_out (l, err);
  return ret;
}

int logfile_flush (struct logfile *l, berr_t *err)
{
  int64_t ts = now_ns ();
  for (int s = 0; s < N_STREAMS; s++)
    if (l->st[s].len > 0)
      {
        size_t n = l->st[s].len;
        l->st[s].len = 0;
        if (emit (l, s, l->st[s].buf, n, NULL, 0, false, ts, err) < 0)
          return -1;
      }
  return write_out (l, err);
}

void logfile_close (struct logfile *l)
{
  cleanup_berr berr_t err = BERR_INIT;
  if (l == NULL)
    return;
  if (l->fd >= 0)
    {
      logfile_flush (l, &err);
      close (l->fd);
    }
  for (int s = 0; s < N_STREAMS; s++)
    free (l->st[s].buf);
  sbuf_release (&l->out);
  sbuf_release (&l->scratch);
  free (l->json);
  free (l->path);
  free (l);
}

void logfile_remove (const char *path)
{
  unlink (path);
  /* Rotation numbers the files from 1 without gaps. */
  for (int i = 1;; i++)
    {
      cleanup_free char *p = xasprintf ("%s.%d", path, i);
      if (unlink (p) < 0 && errno == ENOENT)
        break;
    }
}
