/* Unit tests for src/monitor/logfile.c and logread.c: Docker's json-file format byte for byte
 * where it matters (keys, stream names, the 16 KiB split, UTF-8 repair), rotation names and
 * sizes, and the reader's --tail/--since/--until/-t/-f. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "monitor/logfile.h"
#include "util/fs.h"
#include "util/units.h"
#include "util/util.h"

struct entry
{
  char *log;
  size_t len;
  char *stream;
  int64_t ts;
};

static char *tmpdir_new (void)
{
  char *d = xstrdup ("/tmp/berth-log-XXXXXX");
  assert_non_null (mkdtemp (d));
  return d;
}

static void tmpdir_free (char *d)
{
  berr_t err = BERR_INIT;
  assert_int_equal (fs_rm_rf (d, &err), 0);
  free (d);
}

static char *slurp (const char *path, size_t *len)
{
  char *data = NULL;
  size_t l = 0;
  berr_t err = BERR_INIT;
  if (fs_read_file (path, 1 << 30, &data, &l, &err) < 0)
    fail_msg ("%s", err.msg);
  /* fs_read_fd leaves an empty file's buffer unterminated. */
  if (l == 0)
    {
      free (data);
      data = xstrdup ("");
    }
  if (len)
    *len = l;
  return data;
}

/* Parse every line of a json-file log; fail on anything that is not a valid entry. */
static size_t parse_entries (const char *path, struct entry **out)
{
  size_t len, n = 0;
  char *data = slurp (path, &len);
  struct entry *e = NULL;
  for (char *line = data, *nl; line < data + len; line = nl + 1)
    {
      nl = memchr (line, '\n', (size_t)(data + len - line));
      assert_non_null (nl);
      json_error_t je;
      json_t *j = json_loadb (line, (size_t)(nl - line), JSON_ALLOW_NUL, &je);
      if (j == NULL)
        fail_msg ("bad line: %s", je.text);
      e = xrealloc (e, (n + 1) * sizeof *e);
      json_t *log = json_object_get (j, "log");
      assert_true (json_is_string (log));
      e[n].len = json_string_length (log);
      e[n].log = xmalloc (e[n].len + 1);
      memcpy (e[n].log, json_string_value (log), e[n].len + 1);
      e[n].stream = xstrdup (json_string_value (json_object_get (j, "stream")));
      berr_t err = BERR_INIT;
      assert_int_equal (
          units_parse_rfc3339 (json_string_value (json_object_get (j, "time")), &e[n].ts, &err), 0);
      assert_int_equal (json_object_size (j), 3);
      json_decref (j);
      n++;
    }
  free (data);
  *out = e;
  return n;
}

static void free_entries (struct entry *e, size_t n)
{
  for (size_t i = 0; i < n; i++)
    {
      free (e[i].log);
      free (e[i].stream);
    }
  free (e);
}

static void write_str (struct logfile *l, const char *stream, const char *s)
{
  berr_t err = BERR_INIT;
  if (logfile_write (l, stream, s, strlen (s), &err) < 0)
    fail_msg ("%s", err.msg);
}

/* Read the log into one string (stdout and stderr into the same stream keeps their order). */
static char *read_log (const char *path, const struct log_read_opts *o, bool split, char **err_text)
{
  char *text = NULL, *etext = NULL;
  size_t tlen = 0, elen = 0;
  FILE *out = open_memstream (&text, &tlen);
  FILE *eo = split ? open_memstream (&etext, &elen) : out;
  berr_t err = BERR_INIT;
  if (logfile_read (path, o, out, eo, &err) < 0)
    fail_msg ("%s", err.msg);
  fclose (out);
  if (split)
    {
      fclose (eo);
      if (err_text)
        *err_text = etext;
      else
        free (etext);
    }
  return text;
}

static const struct log_read_opts all_opts = { .tail = -1 };

static void test_format (void **state)
{
  (void)state;
  char *dir = tmpdir_new ();
  char *path = xasprintf ("%s/c-json.log", dir);
  struct logfile *l;
  berr_t err = BERR_INIT;
  int64_t t0 = now_ns ();

  assert_int_equal (logfile_open (path, 0, 1, &l, &err), 0);
  write_str (l, "stdout", "hello\nwor");
  write_str (l, "stderr", "oops \"quoted\"\t\n");
  write_str (l, "stdout", "ld\n");
  logfile_close (l);
  int64_t t1 = now_ns ();

  /* Docker's key order and compact form. */
  char *raw = slurp (path, NULL);
  assert_true (str_has_prefix (raw, "{\"log\":\"hello\\n\",\"stream\":\"stdout\",\"time\":\"20"));
  assert_non_null (strstr (raw, "{\"log\":\"oops \\\"quoted\\\"\\t\\n\",\"stream\":\"stderr\""));
  free (raw);

  struct entry *e;
  size_t n = parse_entries (path, &e);
  assert_int_equal (n, 3);
  assert_string_equal (e[0].log, "hello\n");
  assert_string_equal (e[0].stream, "stdout");
  assert_string_equal (e[1].log, "oops \"quoted\"\t\n");
  assert_string_equal (e[1].stream, "stderr");
  assert_string_equal (e[2].log, "world\n");
  for (size_t i = 0; i < n; i++)
    {
      assert_true (e[i].ts >= t0 - 1000 && e[i].ts <= t1 + 1000);
      if (i)
        assert_true (e[i].ts >= e[i - 1].ts);
    }
  free_entries (e, n);

  struct stat st;
  assert_int_equal (stat (path, &st), 0);
  assert_int_equal (st.st_mode & 0777, 0640);
  free (path);
  tmpdir_free (dir);
}

static void test_split_16k (void **state)
{
  (void)state;
  char *dir = tmpdir_new ();
  char *path = xasprintf ("%s/c-json.log", dir);
  struct logfile *l;
  berr_t err = BERR_INIT;
  char *big = xmalloc (40000);

  assert_int_equal (logfile_open (path, 0, 1, &l, &err), 0);
  /* 16384 + 10 bytes, then the newline, written in odd chunks. */
  memset (big, 'a', 16394);
  assert_int_equal (logfile_write (l, "stdout", big, 1000, &err), 0);
  assert_int_equal (logfile_write (l, "stdout", big, 15390, &err), 0);
  assert_int_equal (logfile_write (l, "stdout", big, 4, &err), 0);
  write_str (l, "stdout", "\n");
  /* Exactly 16384 then '\n': a full piece, then an entry that is just "\n" (as Docker). */
  memset (big, 'b', 16384);
  big[16384] = '\n';
  assert_int_equal (logfile_write (l, "stdout", big, 16385, &err), 0);
  /* 40000 bytes in one write with no newline at all, then close: 16384, 16384, 7232. */
  memset (big, 'c', 40000);
  assert_int_equal (logfile_write (l, "stderr", big, 40000, &err), 0);
  /* Another stream's partial line is independent. */
  write_str (l, "stdout", "tail-no-newline");
  logfile_close (l);

  struct entry *e;
  size_t n = parse_entries (path, &e);
  assert_int_equal (n, 8);
  assert_int_equal (e[0].len, 16384);
  assert_int_equal (e[0].log[16383], 'a');
  assert_string_equal (e[1].log, "aaaaaaaaaa\n");
  assert_int_equal (e[2].len, 16384);
  assert_int_equal (e[2].log[16383], 'b');
  assert_string_equal (e[3].log, "\n");
  assert_int_equal (e[4].len, 16384);
  assert_string_equal (e[4].stream, "stderr");
  assert_int_equal (e[5].len, 16384);
  /* At close: stdout's partial comes first (stream order), each without a newline. */
  assert_string_equal (e[6].log, "tail-no-newline");
  assert_string_equal (e[6].stream, "stdout");
  assert_int_equal (e[7].len, 40000 - 2 * 16384);
  assert_int_equal (e[7].log[e[7].len - 1], 'c');
  assert_string_equal (e[7].stream, "stderr");
  free_entries (e, n);

  /* Reading it back gives the original bytes. */
  char *text = read_log (path, &all_opts, true, NULL);
  assert_int_equal (strlen (text), 16395 + 16385 + strlen ("tail-no-newline"));
  free (text);
  free (big);
  free (path);
  tmpdir_free (dir);
}

static void test_utf8_and_nul (void **state)
{
  (void)state;
  char *dir = tmpdir_new ();
  char *path = xasprintf ("%s/c-json.log", dir);
  struct logfile *l;
  berr_t err = BERR_INIT;
  /* valid é and €, a lone 0xff, a surrogate (ED A0 80), an overlong '/' (C0 AF), a NUL,
   * and a 3-byte sequence cut short by the end of the line. */
  static const char in[] = "\xc3\xa9\xe2\x82\xac|\xff|\xed\xa0\x80|\xc0\xaf|\0|\xe2\x82\n";
  static const char want[] = "\xc3\xa9\xe2\x82\xac|\xef\xbf\xbd|\xef\xbf\xbd\xef\xbf\xbd\xef\xbf"
                             "\xbd|\xef\xbf\xbd\xef\xbf\xbd|\0|\xef\xbf\xbd\xef\xbf\xbd\n";

  assert_int_equal (logfile_open (path, 0, 1, &l, &err), 0);
  assert_int_equal (logfile_write (l, "stdout", in, sizeof in - 1, &err), 0);
  logfile_close (l);
  struct entry *e;
  size_t n = parse_entries (path, &e);
  assert_int_equal (n, 1);
  assert_int_equal (e[0].len, sizeof want - 1);
  assert_memory_equal (e[0].log, want, sizeof want - 1);
  free_entries (e, n);

  char *text = NULL;
  size_t tlen = 0;
  FILE *out = open_memstream (&text, &tlen);
  assert_int_equal (logfile_read (path, &all_opts, out, out, &err), 0);
  fclose (out);
  assert_int_equal (tlen, sizeof want - 1);
  assert_memory_equal (text, want, tlen);
  free (text);
  free (path);
  tmpdir_free (dir);
}

static void test_rotation (void **state)
{
  (void)state;
  char *dir = tmpdir_new ();
  char *path = xasprintf ("%s/c-json.log", dir);
  struct logfile *l;
  berr_t err = BERR_INIT;
  const uint64_t max = 1000;

  assert_int_equal (logfile_open (path, max, 3, &l, &err), 0);
  for (int i = 0; i < 200; i++)
    {
      char line[32];
      snprintf (line, sizeof line, "line %03d\n", i);
      write_str (l, i % 3 ? "stdout" : "stderr", line);
    }
  logfile_close (l);

  /* Three files in all: path, path.1, path.2 — never path.3. */
  char *p1 = xasprintf ("%s.1", path), *p2 = xasprintf ("%s.2", path),
       *p3 = xasprintf ("%s.3", path);
  struct stat st;
  assert_int_equal (stat (p1, &st), 0);
  /* A rotated file reached max-size and passed it by less than one entry. */
  assert_true ((uint64_t)st.st_size >= max && (uint64_t)st.st_size < max + 100);
  assert_int_equal (stat (p2, &st), 0);
  assert_true ((uint64_t)st.st_size >= max);
  assert_int_equal (stat (p3, &st), -1);
  assert_int_equal (stat (path, &st), 0);
  assert_true ((uint64_t)st.st_size <= max + 100);

  /* Reading all gives the newest lines, contiguous, oldest first, ending with line 199. */
  char *text = read_log (path, &all_opts, false, NULL);
  int first = -1, expect = -1, count = 0;
  for (char *p = text; *p; p = strchr (p, '\n') + 1)
    {
      int v;
      assert_int_equal (sscanf (p, "line %d", &v), 1);
      if (first < 0)
        first = expect = v;
      assert_int_equal (v, expect);
      expect++;
      count++;
    }
  assert_int_equal (expect, 200);
  assert_true (count > 20 && first > 0);
  free (text);

  /* Reopening appends to the current file and keeps rotating from its size. */
  assert_int_equal (logfile_open (path, max, 3, &l, &err), 0);
  write_str (l, "stdout", "after reopen\n");
  logfile_close (l);
  text = read_log (path, &all_opts, false, NULL);
  assert_true (str_has_suffix (text, "line 199\nafter reopen\n"));
  free (text);

  logfile_remove (path);
  assert_int_equal (stat (path, &st), -1);
  assert_int_equal (stat (p1, &st), -1);
  assert_int_equal (stat (p2, &st), -1);
  free (p1);
  free (p2);
  free (p3);
  free (path);
  tmpdir_free (dir);
}

static void test_rotation_max_file_1 (void **state)
{
  (void)state;
  char *dir = tmpdir_new ();
  char *path = xasprintf ("%s/c-json.log", dir);
  char *p1 = xasprintf ("%s.1", path);
  struct logfile *l;
  berr_t err = BERR_INIT;
  struct stat st;

  assert_int_equal (logfile_open (path, 500, 1, &l, &err), 0);
  for (int i = 0; i < 100; i++)
    write_str (l, "stdout", "0123456789\n");
  write_str (l, "stdout", "last\n");
  logfile_close (l);
  /* Docker truncates in place: no .1, and the file holds only the latest entries. */
  assert_int_equal (stat (p1, &st), -1);
  assert_int_equal (stat (path, &st), 0);
  assert_true (st.st_size < 600);
  char *text = read_log (path, &all_opts, false, NULL);
  assert_true (str_has_suffix (text, "0123456789\nlast\n"));
  free (text);

  assert_int_equal (logfile_open (path, 500, 0, &l, &err), -1);
  assert_int_equal (err.kind, BERR_INVALID);
  berr_release (&err);
  free (p1);
  free (path);
  tmpdir_free (dir);
}

static void test_interleaving (void **state)
{
  (void)state;
  char *dir = tmpdir_new ();
  char *path = xasprintf ("%s/c-json.log", dir);
  struct logfile *l;
  berr_t err = BERR_INIT;

  assert_int_equal (logfile_open (path, 0, 1, &l, &err), 0);
  write_str (l, "stdout", "o1\n");
  write_str (l, "stderr", "e1\n");
  write_str (l, "stdout", "o2\no3\n");
  write_str (l, "stderr", "e2\n");
  write_str (l, "stdout", "o4\n");
  logfile_close (l);

  char *text = read_log (path, &all_opts, false, NULL);
  assert_string_equal (text, "o1\ne1\no2\no3\ne2\no4\n");
  free (text);
  char *etext = NULL;
  text = read_log (path, &all_opts, true, &etext);
  assert_string_equal (text, "o1\no2\no3\no4\n");
  assert_string_equal (etext, "e1\ne2\n");
  free (text);
  free (etext);
  /* A log that does not exist yet is empty, not an error. */
  char *missing = xasprintf ("%s/none.log", dir);
  text = read_log (missing, &all_opts, false, NULL);
  assert_true (text == NULL || *text == '\0');
  free (text);
  free (missing);
  free (path);
  tmpdir_free (dir);
}

/* Write a log file by hand: entries with chosen times. */
static void write_fixed (const char *path, const char *const *lines)
{
  struct sbuf b;
  berr_t err = BERR_INIT;
  sbuf_init (&b);
  for (size_t i = 0; lines[i]; i++)
    {
      sbuf_adds (&b, lines[i]);
      sbuf_addc (&b, '\n');
    }
  assert_int_equal (fs_write_atomic (path, b.buf, b.len, 0640, &err), 0);
  sbuf_release (&b);
}

static int64_t ts (const char *s)
{
  int64_t v;
  berr_t err = BERR_INIT;
  assert_int_equal (units_parse_rfc3339 (s, &v, &err), 0);
  return v;
}

static void test_since_until_timestamps (void **state)
{
  (void)state;
  char *dir = tmpdir_new ();
  char *path = xasprintf ("%s/c-json.log", dir);
  static const char *const lines[] = {
    "{\"log\":\"a\\n\",\"stream\":\"stdout\",\"time\":\"2024-01-02T03:04:05Z\"}",
    "{\"log\":\"b\\n\",\"stream\":\"stderr\",\"time\":\"2024-01-02T03:04:06.1Z\"}",
    "{\"log\":\"c\\n\",\"stream\":\"stdout\",\"time\":\"2024-01-02T03:04:07.123456789Z\"}",
    "{\"log\":\"d\",\"stream\":\"stdout\",\"time\":\"2024-01-02T03:04:08.000000001Z\"}",
    NULL,
  };
  write_fixed (path, lines);

  struct log_read_opts o = { .tail = -1, .timestamps = true };
  char *text = read_log (path, &o, false, NULL);
  assert_string_equal (text, "2024-01-02T03:04:05.000000000Z a\n"
                             "2024-01-02T03:04:06.100000000Z b\n"
                             "2024-01-02T03:04:07.123456789Z c\n"
                             "2024-01-02T03:04:08.000000001Z d");
  free (text);

  /* Both bounds are inclusive, as Docker's. */
  o = (struct log_read_opts){ .tail = -1,
                              .since_ns = ts ("2024-01-02T03:04:06.1Z"),
                              .until_ns = ts ("2024-01-02T03:04:07.123456789Z") };
  text = read_log (path, &o, false, NULL);
  assert_string_equal (text, "b\nc\n");
  free (text);
  o = (struct log_read_opts){ .tail = -1, .since_ns = ts ("2024-01-02T03:04:06.2Z") };
  text = read_log (path, &o, false, NULL);
  assert_string_equal (text, "c\nd");
  free (text);
  o = (struct log_read_opts){ .tail = -1, .until_ns = ts ("2024-01-02T03:04:05.5Z") };
  text = read_log (path, &o, false, NULL);
  assert_string_equal (text, "a\n");
  free (text);
  /* --tail first, then --since: the last 3 entries, of which 2 are recent enough. */
  o = (struct log_read_opts){ .tail = 3, .since_ns = ts ("2024-01-02T03:04:07Z") };
  text = read_log (path, &o, false, NULL);
  assert_string_equal (text, "c\nd");
  free (text);
  free (path);
  tmpdir_free (dir);
}

/* Run f with stderr captured; returns what was written to it. */
static char *capture_stderr (void (*f) (void *), void *arg)
{
  char tmpl[] = "/tmp/berth-stderr-XXXXXX";
  int fd = mkstemp (tmpl);
  assert_true (fd >= 0);
  fflush (stderr);
  int saved = dup (2);
  dup2 (fd, 2);
  f (arg);
  fflush (stderr);
  dup2 (saved, 2);
  close (saved);
  close (fd);
  char *text = slurp (tmpl, NULL);
  unlink (tmpl);
  return text;
}

struct read_job
{
  const char *path;
  struct log_read_opts o;
  char *text;
};

static void run_read (void *arg)
{
  struct read_job *j = arg;
  j->text = read_log (j->path, &j->o, false, NULL);
}

static void test_invalid_lines (void **state)
{
  (void)state;
  char *dir = tmpdir_new ();
  char *path = xasprintf ("%s/c-json.log", dir);
  static const char *const lines[] = {
    "{\"log\":\"one\\n\",\"stream\":\"stdout\",\"time\":\"2024-01-02T03:04:05Z\"}",
    "not json at all",
    "{\"log\":\"x\\n\",\"stream\":\"stdout\"}",
    "{\"log\":\"x\\n\",\"stream\":\"stdout\",\"time\":\"yesterday\"}",
    "{\"log\":7,\"stream\":\"stdout\",\"time\":\"2024-01-02T03:04:05Z\"}",
    "[1,2]",
    "",
    "{\"log\":\"two\\n\",\"stream\":\"stderr\",\"time\":\"2024-01-02T03:04:06Z\"}",
    NULL,
  };
  write_fixed (path, lines);
  struct read_job j = { .path = path, .o = { .tail = -1 } };
  char *warn = capture_stderr (run_read, &j);
  assert_string_equal (j.text, "one\ntwo\n");
  /* Five bad lines, five warnings (the empty line is not an entry). */
  int count = 0;
  for (char *p = warn; (p = strstr (p, "skipping an invalid entry")); p++)
    count++;
  assert_int_equal (count, 5);
  free (warn);
  free (j.text);
  free (path);
  tmpdir_free (dir);
}

static void test_tail (void **state)
{
  (void)state;
  char *dir = tmpdir_new ();
  char *path = xasprintf ("%s/c-json.log", dir);
  struct logfile *l;
  berr_t err = BERR_INIT;

  assert_int_equal (logfile_open (path, 4000, 4, &l, &err), 0);
  for (int i = 0; i < 300; i++)
    {
      char line[32];
      snprintf (line, sizeof line, "%d\n", i);
      write_str (l, "stdout", line);
    }
  logfile_close (l);
  /* Garbage at the very start of the oldest file: --tail 10 must never reach it. */
  char *p3 = xasprintf ("%s.3", path);
  {
    size_t len;
    char *old = slurp (p3, &len);
    char *junk = xasprintf ("garbage that warns if it is parsed\n%s", old);
    assert_int_equal (fs_write_atomic (p3, junk, strlen (junk), 0640, &err), 0);
    free (junk);
    free (old);
  }

  struct read_job j = { .path = path, .o = { .tail = 10 } };
  char *warn = capture_stderr (run_read, &j);
  assert_string_equal (j.text, "290\n291\n292\n293\n294\n295\n296\n297\n298\n299\n");
  assert_string_equal (warn, "");
  free (warn);
  free (j.text);

  struct log_read_opts o = { .tail = 0 };
  char *text = read_log (path, &o, false, NULL);
  assert_true (text == NULL || *text == '\0');
  free (text);
  o.tail = 1;
  text = read_log (path, &o, false, NULL);
  assert_string_equal (text, "299\n");
  free (text);

  /* A tail that spans the current file and the rotated one before it. */
  size_t cur_lines = 0;
  {
    char *raw = slurp (path, NULL);
    for (char *p = raw; *p; p++)
      cur_lines += *p == '\n';
    free (raw);
  }
  o.tail = (int64_t)cur_lines + 5;
  text = read_log (path, &o, false, NULL);
  int first;
  assert_int_equal (sscanf (text, "%d", &first), 1);
  assert_int_equal (first, 300 - (int)cur_lines - 5);
  size_t got = 0;
  for (char *p = text; *p; p++)
    got += *p == '\n';
  assert_int_equal (got, cur_lines + 5);
  free (text);

  /* A larger tail than the whole log: everything (the oldest file is garbage: warned). */
  j = (struct read_job){ .path = path, .o = { .tail = 100000 } };
  warn = capture_stderr (run_read, &j);
  assert_non_null (strstr (warn, "skipping an invalid entry"));
  assert_true (str_has_suffix (j.text, "299\n"));
  free (warn);
  free (j.text);

  /* An entry still being written (no newline yet) is not part of the tail. */
  int fd = open (path, O_WRONLY | O_APPEND | O_CLOEXEC);
  assert_true (write (fd, "{\"log\":\"half", 12) == 12);
  close (fd);
  o.tail = 2;
  text = read_log (path, &o, false, NULL);
  assert_string_equal (text, "298\n299\n");
  free (text);
  free (p3);
  free (path);
  tmpdir_free (dir);
}

/* -f: a writer thread logs with rotation while the reader follows. */
struct follow_job
{
  const char *path;
  int lines;
  atomic_bool done;
};

static void *follow_writer (void *arg)
{
  struct follow_job *fj = arg;
  struct logfile *l;
  berr_t err = BERR_INIT;
  usleep (50000);
  assert_int_equal (logfile_open (fj->path, 4000, 3, &l, &err), 0);
  for (int i = 0; i < fj->lines; i++)
    {
      char line[32];
      snprintf (line, sizeof line, "%d\n", i);
      write_str (l, i % 2 ? "stderr" : "stdout", line);
      if (i % 10 == 0)
        usleep (2000);
    }
  write_str (l, "stdout", "partial-at-exit");
  logfile_close (l);
  atomic_store (&fj->done, true);
  return NULL;
}

static bool follow_running (void *arg)
{
  struct follow_job *fj = arg;
  return !atomic_load (&fj->done);
}

static void test_follow (void **state)
{
  (void)state;
  char *dir = tmpdir_new ();
  char *path = xasprintf ("%s/c-json.log", dir);
  struct follow_job fj = { .path = path, .lines = 600 };
  pthread_t th;

  atomic_init (&fj.done, false);
  /* The file does not exist yet when following starts. */
  assert_int_equal (pthread_create (&th, NULL, follow_writer, &fj), 0);
  struct log_read_opts o
      = { .tail = -1, .follow = true, .still_running = follow_running, .arg = &fj };
  char *text = read_log (path, &o, false, NULL);
  pthread_join (th, NULL);

  /* Every line, in order, across rotations (600 entries of ~60 bytes fill 9 files). */
  struct sbuf want;
  sbuf_init (&want);
  for (int i = 0; i < fj.lines; i++)
    sbuf_addf (&want, "%d\n", i);
  sbuf_adds (&want, "partial-at-exit");
  assert_string_equal (text, want.buf);
  sbuf_release (&want);
  free (text);

  /* -f on a finished container: prints what is there and returns. */
  atomic_store (&fj.done, true);
  o.tail = 1;
  text = read_log (path, &o, false, NULL);
  assert_string_equal (text, "partial-at-exit");
  free (text);
  free (path);
  tmpdir_free (dir);
}

int main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_format),
    cmocka_unit_test (test_split_16k),
    cmocka_unit_test (test_utf8_and_nul),
    cmocka_unit_test (test_rotation),
    cmocka_unit_test (test_rotation_max_file_1),
    cmocka_unit_test (test_interleaving),
    cmocka_unit_test (test_since_until_timestamps),
    cmocka_unit_test (test_invalid_lines),
    cmocka_unit_test (test_tail),
    cmocka_unit_test (test_follow),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
