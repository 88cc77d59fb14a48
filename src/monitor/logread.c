/* logread.c — the reading half of the json-file driver, behind `berth logs`.
 *
 * Files are read oldest first: <path>.N … <path>.1, <path>. --tail N walks backwards from the
 * end counting entries (one per line), so printing the last lines of a huge log reads only
 * those lines; --since/--until (inclusive, as Docker) then filter by each entry's time. -f keeps
 * reading the current file, notices rotation (the name now points to a new file: finish the
 * old one first) and truncation (max-file 1), and stops once still_running() says no and
 * the file is drained. Lines that are not valid entries are skipped with a warning. */
#include "monitor/logfile.h"
#include "monitor/monitor_int.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/log.h"
#include "util/units.h"

#define CHUNK 65536
/* Entries are at most 16 KiB of text, escaped at most 6x; anything longer is garbage. */
#define LINE_MAX_BYTES (4u << 20)
#define FOLLOW_POLL_MS 200

struct logf
{
  int fd;
  dev_t dev;
  ino_t ino;
};

struct reader
{
  const char *path;
  const struct log_read_opts *o;
  FILE *out, *err_out;
  struct sbuf line; /* bytes of an entry whose '\n' has not been read yet */
  bool skipping;    /* inside an overlong line: drop bytes up to its '\n' */
  bool stop;        /* an entry past --until was seen */
};

static void warn_invalid (struct reader *r, const char *why)
{
  log_warn ("logs %s: skipping an invalid entry: %s", r->path, why);
}

static void process_entry (struct reader *r, const char *line, size_t len)
{
  json_error_t je;
  json_t *j, *log, *stream, *tm;
  int64_t ts;
  FILE *f;
  cleanup_berr berr_t err = BERR_INIT;

  if (len == 0)
    return;
  j = json_loadb (line, len, JSON_ALLOW_NUL, &je);
  if (j == NULL)
    {
      warn_invalid (r, je.text);
      return;
    }
  log = json_object_get (j, "log");
  stream = json_object_get (j, "stream");
  tm = json_object_get (j, "time");
  if (!json_is_string (log) || !json_is_string (stream) || !json_is_string (tm))
    {
      warn_invalid (r, "missing log, stream or time");
      goto out;
    }
  if (units_parse_rfc3339 (json_string_value (tm), &ts, &err) < 0)
    {
      warn_invalid (r, err.msg);
      goto out;
    }
  if (r->o->since_ns > 0 && ts < r->o->since_ns)
    goto out;
  if (r->o->until_ns > 0 && ts > r->o->until_ns)
    {
      r->stop = true;
      goto out;
    }
  if (strcmp (json_string_value (stream), "stdout") == 0)
    f = r->out;
  else if (strcmp (json_string_value (stream), "stderr") == 0)
    f = r->err_out;
  else
    {
      warn_invalid (r, "unknown stream");
      goto out;
    }
  if (f == NULL)
    goto out;
  if (r->o->timestamps)
    {
      char tbuf[MON_TIME_BUFSZ];
      fputs (mon_format_time (ts, true, tbuf), f);
      fputc (' ', f);
    }
  fwrite (json_string_value (log), 1, json_string_length (log), f);
out:
  json_decref (j);
}

/* Feed bytes read from a file: complete lines become entries, the rest waits in r->line. */
static void feed (struct reader *r, const char *data, size_t len)
{
  while (len > 0 && !r->stop)
    {
      const char *nl = memchr (data, '\n', len);
      size_t k = nl ? (size_t)(nl - data) : len;
      if (r->skipping)
        ;
      else if (r->line.len + k > LINE_MAX_BYTES)
        {
          warn_invalid (r, "line too long");
          sbuf_reset (&r->line);
          r->skipping = true;
        }
      else if (nl != NULL && r->line.len == 0)
        process_entry (r, data, k);
      else
        {
          sbuf_add (&r->line, data, k);
          if (nl != NULL)
            {
              process_entry (r, r->line.buf, r->line.len);
              sbuf_reset (&r->line);
            }
        }
      if (nl == NULL)
        break;
      r->skipping = false;
      data += k + 1;
      len -= k + 1;
    }
}

/* Read fd from its current offset to EOF. */
static int drain (struct reader *r, int fd, berr_t *err)
{
  char buf[CHUNK];
  while (!r->stop)
    {
      ssize_t n = read (fd, buf, sizeof buf);
      if (n < 0)
        {
          if (errno == EINTR)
            continue;
          return berr_set (err, errno, "read log %s", r->path);
        }
      if (n == 0)
        break;
      feed (r, buf, (size_t)n);
    }
  return 0;
}

/* A file is over: an entry cut short in it can never be completed. */
static void end_of_file (struct reader *r)
{
  if (r->line.len > 0 && !r->stop)
    warn_invalid (r, "truncated entry at the end of a file");
  sbuf_reset (&r->line);
  r->skipping = false;
}

static int open_logf (const char *name, struct logf *f)
{
  struct stat st;
  f->fd = open (name, O_RDONLY | O_CLOEXEC);
  if (f->fd < 0)
    return -1;
  if (fstat (f->fd, &st) < 0)
    {
      close (f->fd);
      f->fd = -1;
      return -1;
    }
  f->dev = st.st_dev;
  f->ino = st.st_ino;
  return 0;
}

static void close_files (struct logf *files, size_t n)
{
  for (size_t i = 0; i < n; i++)
    if (files[i].fd >= 0)
      close (files[i].fd);
  free (files);
}

/* Open <path>, <path>.1, … newest first (so a rotation while we open can only repeat a file,
 * which the inode check drops) and return them oldest first. A missing <path> is fine. */
static int open_all (const char *path, struct logf **out, size_t *nout, berr_t *err)
{
  struct logf *files = NULL;
  size_t n = 0;

  for (int i = 0;; i++)
    {
      cleanup_free char *name = i == 0 ? xstrdup (path) : xasprintf ("%s.%d", path, i);
      struct logf f;
      bool dup = false;
      if (open_logf (name, &f) < 0)
        {
          if (errno == ENOENT && i > 0)
            break;
          if (errno == ENOENT)
            continue;
          close_files (files, n);
          return berr_set (err, errno, "open log %s", name);
        }
      for (size_t k = 0; k < n; k++)
        dup |= files[k].dev == f.dev && files[k].ino == f.ino;
      if (dup)
        {
          close (f.fd);
          continue;
        }
      files = xrealloc (files, (n + 1) * sizeof *files);
      files[n++] = f;
      if (n > 100000)
        break;
    }
  for (size_t i = 0; i < n / 2; i++)
    {
      struct logf t = files[i];
      files[i] = files[n - 1 - i];
      files[n - 1 - i] = t;
    }
  *out = files;
  *nout = n;
  return 0;
}

/* Where the last `want` complete lines of fd (size sz) begin. Bytes after the last '\n' are an
 * entry still being written and do not count. *found = how many lines that is (< want when
 * the file holds fewer, then *start is 0). */
static int tail_start (struct reader *r, int fd, off_t sz, int64_t want, off_t *start,
                       int64_t *found, berr_t *err)
{
  char buf[CHUNK];
  int64_t newlines = 0; /* the first one found ends the last complete line */
  off_t pos = sz;

  while (pos > 0)
    {
      size_t n = pos < (off_t)sizeof buf ? (size_t)pos : sizeof buf;
      off_t at = pos - (off_t)n;
      ssize_t got = pread (fd, buf, n, at);
      if (got < 0)
        {
          if (errno == EINTR)
            continue;
          return berr_set (err, errno, "read log %s", r->path);
        }
      if ((size_t)got != n)
        return berr_set (err, 0, "read log %s: file shrank", r->path);
      for (char *p = buf + n; (p = memrchr (buf, '\n', (size_t)(p - buf))) != NULL;)
        {
          if (newlines++ == want)
            {
              *start = at + (p - buf) + 1;
              *found = want;
              return 0;
            }
        }
      pos = at;
    }
  *start = 0;
  *found = newlines;
  return 0;
}

/* The file and offset --tail starts at: *fi = index into files (oldest first). */
static int tail_position (struct reader *r, struct logf *files, size_t n, size_t *fi, off_t *off,
                          berr_t *err)
{
  int64_t need = r->o->tail;
  *fi = 0;
  *off = 0;
  for (size_t i = n; i-- > 0;)
    {
      struct stat st;
      int64_t found;
      off_t start;
      if (fstat (files[i].fd, &st) < 0)
        return berr_set (err, errno, "stat log %s", r->path);
      if (tail_start (r, files[i].fd, st.st_size, need, &start, &found, err) < 0)
        return -1;
      if (found == need)
        {
          *fi = i;
          *off = start;
          return 0;
        }
      need -= found;
    }
  return 0;
}

static int flush_outputs (struct reader *r, berr_t *err)
{
  if ((r->out && fflush (r->out) != 0) || (r->err_out && fflush (r->err_out) != 0))
    return berr_set (err, errno, "write logs");
  if ((r->out && ferror (r->out)) || (r->err_out && ferror (r->err_out)))
    return berr_set (err, EIO, "write logs");
  return 0;
}

/* After drain(cur): is <path> now another file (rotated) or shorter than our offset
 * (truncated, max-file 1)? Then move on, having read all of the old one. */
static int follow_switch (struct reader *r, struct logf *cur, berr_t *err)
{
  for (;;)
    {
      struct stat st;
      struct logf next;
      if (cur->fd >= 0)
        {
          if (fstat (cur->fd, &st) < 0)
            return berr_set (err, errno, "stat log %s", r->path);
          off_t off = lseek (cur->fd, 0, SEEK_CUR);
          if (st.st_size < off)
            {
              /* Truncated in place: what was written before is gone; start over. */
              sbuf_reset (&r->line);
              r->skipping = false;
              if (lseek (cur->fd, 0, SEEK_SET) < 0)
                return berr_set (err, errno, "seek log %s", r->path);
              if (drain (r, cur->fd, err) < 0)
                return -1;
              continue;
            }
        }
      if (stat (r->path, &st) < 0)
        {
          if (errno == ENOENT)
            return 0; /* between rename and create, or not created yet */
          return berr_set (err, errno, "stat log %s", r->path);
        }
      if (cur->fd >= 0 && st.st_dev == cur->dev && st.st_ino == cur->ino)
        return 0;
      if (open_logf (r->path, &next) < 0)
        {
          if (errno == ENOENT)
            return 0;
          return berr_set (err, errno, "open log %s", r->path);
        }
      if (cur->fd >= 0)
        {
          /* The writer closed the old file before renaming it: this read finds its end. */
          if (drain (r, cur->fd, err) < 0)
            {
              close (next.fd);
              return -1;
            }
          end_of_file (r);
          close (cur->fd);
        }
      *cur = next;
      if (drain (r, cur->fd, err) < 0)
        return -1;
    }
}

static int follow (struct reader *r, struct logf *cur, berr_t *err)
{
  cleanup_close int ino = inotify_init1 (IN_NONBLOCK | IN_CLOEXEC);
  cleanup_free char *dir = xstrdup (r->path);
  char *slash = strrchr (dir, '/');

  if (slash == dir)
    slash[1] = '\0';
  else if (slash)
    *slash = '\0';
  else
    strcpy (dir, ".");
  /* Without inotify (out of watches) the loop still works, by polling. */
  if (ino >= 0
      && inotify_add_watch (ino, dir, IN_MODIFY | IN_CREATE | IN_MOVED_TO | IN_CLOSE_WRITE) < 0)
    {
      close (ino);
      ino = -1;
    }

  for (;;)
    {
      bool running = r->o->still_running ? r->o->still_running (r->o->arg) : true;
      if (r->o->until_ns > 0 && now_ns () > r->o->until_ns)
        running = false;
      if (cur->fd >= 0 && drain (r, cur->fd, err) < 0)
        return -1;
      if (!r->stop && follow_switch (r, cur, err) < 0)
        return -1;
      if (flush_outputs (r, err) < 0)
        return -1;
      if (!running || r->stop)
        return 0;
      struct pollfd pfd = { .fd = ino, .events = POLLIN };
      if (poll (&pfd, 1, FOLLOW_POLL_MS) > 0)
        {
          char evbuf[4096] __attribute__ ((aligned (__alignof__(struct inotify_event))));
          while (read (ino, evbuf, sizeof evbuf) > 0)
            ;
        }
    }
}

int logfile_read (const char *path, const struct log_read_opts *o, FILE *out, FILE *err_out,
                  berr_t *err)
{
  struct reader r = { .path = path, .o = o, .out = out, .err_out = err_out };
  struct logf *files = NULL;
  struct logf cur = { .fd = -1 };
  size_t n = 0, first = 0;
  off_t off = 0;
  int ret = -1;

  sbuf_init (&r.line);
  if (open_all (path, &files, &n, err) < 0)
    goto done;
  if (o->tail >= 0 && tail_position (&r, files, n, &first, &off, err) < 0)
    goto done;
  for (size_t i = first; i < n && !r.stop; i++)
    {
      if (lseek (files[i].fd, i == first ? off : 0, SEEK_SET) < 0)
        {
          berr_set (err, errno, "seek log %s", path);
          goto done;
        }
      if (drain (&r, files[i].fd, err) < 0)
        goto done;
      if (i + 1 < n)
        end_of_file (&r);
    }
  /* The newest file, if <path> existed, stays open for -f. */
  if (n > 0)
    {
      struct stat st;
      if (stat (path, &st) == 0 && st.st_dev == files[n - 1].dev && st.st_ino == files[n - 1].ino)
        {
          cur = files[n - 1];
          files[n - 1].fd = -1;
        }
    }
  if (o->follow && !r.stop)
    {
      if (follow (&r, &cur, err) < 0)
        goto done;
    }
  else if (flush_outputs (&r, err) < 0)
    goto done;
  ret = 0;
done:
  if (cur.fd >= 0)
    close (cur.fd);
  close_files (files, n);
  sbuf_release (&r.line);
  return ret;
}
