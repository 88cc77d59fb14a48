/* COPY/ADD: Go's filepath.Match table, the source and destination rules, .dockerignore,
 * symlinks in the context and in the destination, --chown/--chmod, ADD of archives (every
 * compression, hostile entries) and of URLs (a tiny HTTP server on 127.0.0.1), the cache hash
 * and SOURCE_DATE_EPOCH clamping. Everything lives under one temporary directory. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <archive.h>
#include <archive_entry.h>
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "build/copy.h"
#include "build/copy_int.h"
#include "util/fs.h"
#include "util/util.h"

static char tmp[] = "/tmp/berth-copytest-XXXXXX";
static pid_t server_pid = -1;
static int ctx_fd = -1;

/* ---- filepath.Match ---- */

struct mcase
{
  const char *pattern, *name;
  int want; /* 1 match, 0 no, -1 ErrBadPattern */
};

/* Vectors written from Go's documented filepath.Match semantics (Unix). */
static const struct mcase match_cases[] = {
  { "abc", "abc", 1 },
  { "*", "abc", 1 },
  { "*c", "abc", 1 },
  { "a*", "a", 1 },
  { "a*", "abc", 1 },
  { "a*", "ab/c", 0 },
  { "a*/b", "abc/b", 1 },
  { "a*/b", "a/c/b", 0 },
  { "a*b*c*d*e*/f", "axbxcxdxe/f", 1 },
  { "a*b*c*d*e*/f", "axbxcxdxexxx/f", 1 },
  { "a*b*c*d*e*/f", "axbxcxdxe/xxx/f", 0 },
  { "a*b*c*d*e*/f", "axbxcxdxexxx/fff", 0 },
  { "a*b?c*x", "abxbbxdbxebxczzx", 1 },
  { "a*b?c*x", "abxbbxdbxebxczzy", 0 },
  { "ab[c]", "abc", 1 },
  { "ab[b-d]", "abc", 1 },
  { "ab[e-g]", "abc", 0 },
  { "ab[^c]", "abc", 0 },
  { "ab[^b-d]", "abc", 0 },
  { "ab[^e-g]", "abc", 1 },
  { "a\\*b", "a*b", 1 },
  { "a\\*b", "ab", 0 },
  { "a?b",
    "a\xe2\x98\xba"
    "b",
    1 },
  { "a[^a]b",
    "a\xe2\x98\xba"
    "b",
    1 },
  { "a???b",
    "a\xe2\x98\xba"
    "b",
    0 },
  { "a[^a][^a][^a]b",
    "a\xe2\x98\xba"
    "b",
    0 },
  { "[a-\xce\xb6]*", "\xce\xb1", 1 },
  { "*[a-\xce\xb6]", "A", 0 },
  { "a?b", "a/b", 0 },
  { "a*b", "a/b", 0 },
  { "[\\]a]", "]", 1 },
  { "[\\-]", "-", 1 },
  { "[x\\-]", "x", 1 },
  { "[x\\-]", "-", 1 },
  { "[x\\-]", "z", 0 },
  { "[\\-x]", "x", 1 },
  { "[\\-x]", "-", 1 },
  { "[\\-x]", "a", 0 },
  { "[]a]", "]", -1 },
  { "[-]", "-", -1 },
  { "[x-]", "x", -1 },
  { "[x-]", "-", -1 },
  { "[x-]", "z", -1 },
  { "[-x]", "x", -1 },
  { "[-x]", "-", -1 },
  { "[-x]", "a", -1 },
  { "\\", "a", -1 },
  { "[a-b-c]", "a", -1 },
  { "[", "a", -1 },
  { "[^", "a", -1 },
  { "[^bc", "a", -1 },
  { "a[", "a", -1 },
  { "a[", "ab", -1 },
  { "a[", "x", -1 },
  { "a/b[", "x", -1 },
  { "*x", "xxx", 1 },
  /* more of the same rules */
  { "", "", 1 },
  { "", "a", 0 },
  { "*", "", 1 },
  { "?", "", 0 },
  { "a\\", "a", -1 },
  { "\\[a]", "[a]", 1 },
  { "[[]0].txt", "[0].txt", 1 },
  { "arr[[]0].txt", "arr[0].txt", 1 },
  { "*.go", "main.go", 1 },
  { "*.go", "src/main.go", 0 },
  { "*/*.go", "src/main.go", 1 },
  { "[!a]", "b", 0 }, /* '!' is no negation in Go: the class is '!' or 'a' */
  { "[!a]", "!", 1 },
};

static void test_match (void **state)
{
  (void)state;
  int bad = 0;
  for (size_t i = 0; i < ARRAY_SIZE (match_cases); i++)
    {
      const struct mcase *c = &match_cases[i];
      int got = copy_match (c->pattern, c->name);
      if (got != c->want)
        {
          print_error ("copy_match(%s, %s) = %d, want %d\n", c->pattern, c->name, got, c->want);
          bad++;
        }
    }
  assert_int_equal (bad, 0);
}

/* ---- fixture ---- */

static void put (const char *rel, const char *content, mode_t mode, time_t mtime)
{
  cleanup_free char *p = xasprintf ("%s/%s", tmp, rel);
  cleanup_free char *d = xstrdup (p);
  *strrchr (d, '/') = '\0';
  berr_t err = BERR_INIT;
  assert_int_equal (fs_mkdir_p (d, 0755, &err), 0);
  int fd = open (p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  assert_true (fd >= 0);
  assert_int_equal (fs_write_all (fd, content, strlen (content)), 0);
  assert_int_equal (fchmod (fd, mode), 0);
  struct timespec ts[2] = { { mtime, 0 }, { mtime, 0 } };
  assert_int_equal (futimens (fd, ts), 0);
  close (fd);
}

static char *slurp (const char *rel)
{
  cleanup_free char *p = xasprintf ("%s/%s", tmp, rel);
  char *buf = NULL;
  size_t len;
  berr_t err = BERR_INIT;
  if (fs_read_file (p, 1 << 20, &buf, &len, &err) < 0)
    {
      berr_release (&err);
      return NULL;
    }
  return buf;
}

static int lst (const char *rel, struct stat *st)
{
  cleanup_free char *p = xasprintf ("%s/%s", tmp, rel);
  return lstat (p, st);
}

static int open_dir (const char *rel)
{
  cleanup_free char *p = xasprintf ("%s/%s", tmp, rel);
  int fd = open (p, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  assert_true (fd >= 0);
  return fd;
}

static void mkdirs (const char *rel)
{
  cleanup_free char *p = xasprintf ("%s/%s", tmp, rel);
  berr_t err = BERR_INIT;
  assert_int_equal (fs_mkdir_p (p, 0755, &err), 0);
}

static void link_at (const char *target, const char *rel)
{
  cleanup_free char *p = xasprintf ("%s/%s", tmp, rel);
  assert_int_equal (symlink (target, p), 0);
}

static int setup_all (void **state)
{
  (void)state;
  if (mkdtemp (tmp) == NULL)
    return -1;
  put ("ctx/a.txt", "A\n", 0640, 1000000);
  put ("ctx/b.go", "package b\n", 0644, 1000000);
  put ("ctx/c.go", "package c\n", 0644, 1000000);
  put ("ctx/ignored.txt", "secret\n", 0644, 1000000);
  put ("ctx/dir/x.txt", "X\n", 0600, 1000000);
  put ("ctx/dir/sub/y.txt", "Y\n", 0644, 1000000);
  put ("ctx/dir/sub/debug.log", "log\n", 0644, 1000000);
  put ("ctx/dir/hl1", "hard\n", 0644, 1000000);
  put ("ctx/[x].txt", "bracket\n", 0644, 1000000);
  put ("ctx/.dockerignore", "ignored.txt\n**/*.log\n", 0644, 1000000);
  cleanup_free char *h1 = xasprintf ("%s/ctx/dir/hl1", tmp);
  cleanup_free char *h2 = xasprintf ("%s/ctx/dir/hl2", tmp);
  if (link (h1, h2) < 0)
    return -1;
  link_at ("../a.txt", "ctx/dir/link");
  link_at ("/etc/passwd", "ctx/dir/passwd");
  link_at ("/etc/passwd", "ctx/passwdlink");
  link_at ("dir/x.txt", "ctx/toplink");
  cleanup_free char *a = xasprintf ("%s/ctx/a.txt", tmp);
  cleanup_free char *d = xasprintf ("%s/ctx/dir", tmp);
  if (chown (a, 1234, 5678) < 0 || chmod (d, 0750) < 0)
    return -1;
  struct timespec ts[2] = { { 999999, 0 }, { 999999, 0 } };
  utimensat (AT_FDCWD, d, ts, AT_SYMLINK_NOFOLLOW);
  ctx_fd = open_dir ("ctx");
  return 0;
}

static int teardown_all (void **state)
{
  (void)state;
  if (ctx_fd >= 0)
    close (ctx_fd);
  if (server_pid > 0)
    {
      kill (server_pid, SIGKILL);
      waitpid (server_pid, NULL, 0);
    }
  berr_t err = BERR_INIT;
  fs_rm_rf (tmp, &err);
  berr_release (&err);
  return 0;
}

/* A fresh destination root tmp/<name>. */
static int new_dst (const char *name)
{
  mkdirs (name);
  return open_dir (name);
}

static di_matcher_t *ignore_matcher_of (const char *const *pats)
{
  di_matcher_t *m = NULL;
  berr_t err = BERR_INIT;
  assert_int_equal (di_matcher_new (pats, &m, &err), 0);
  return m;
}

static di_matcher_t *ignore_matcher (void)
{
  const char *pats[] = { "ignored.txt", "**/*.log", NULL };
  return ignore_matcher_of (pats);
}

struct req
{
  const char *srcs[8];
  const char *dest;
  const char *workdir, *chown, *chmod, *checksum;
  bool add, from_image;
  int src_root;
  int64_t clamp;
  const struct copy_inline *inl;
  size_t n_inl;
  const char *const *ignore; /* patterns instead of the fixture's .dockerignore */
};

/* prepare + run; 0, or -1 with *msg (caller frees) set. */
static int do_copy (const struct req *q, int dst, char **msg)
{
  di_matcher_t *ig = q->from_image ? NULL
                     : q->ignore   ? ignore_matcher_of (q->ignore)
                                   : ignore_matcher ();
  struct copy_request r = { 0 };
  r.src_root = q->src_root > 0 ? q->src_root : ctx_fd;
  r.from_context = !q->from_image;
  r.ignore = ig;
  r.sources = (char *const *)q->srcs;
  r.inline_srcs = q->inl;
  r.n_inline = q->n_inl;
  r.dest = q->dest;
  r.workdir = q->workdir;
  r.add = q->add;
  r.chown = q->chown;
  r.chmod = q->chmod;
  r.checksum = q->checksum;
  r.tmpdir = tmp;
  r.instr = q->add ? "ADD" : "COPY";
  struct copy_job *j = NULL;
  berr_t err = BERR_INIT;
  int ret = copy_prepare (&r, &j, &err);
  if (ret == 0)
    ret = copy_job_run (j, dst, -1, q->clamp ? q->clamp : -1, &err);
  copy_job_free (j);
  di_matcher_free (ig);
  if (msg)
    *msg = ret < 0 ? xstrdup (err.msg) : NULL;
  berr_release (&err);
  return ret;
}

static void expect_ok (const struct req *q, int dst)
{
  cleanup_free char *msg = NULL;
  int r = do_copy (q, dst, &msg);
  if (r < 0)
    fail_msg ("copy failed: %s", msg);
}

static void expect_err (const struct req *q, int dst, const char *want)
{
  cleanup_free char *msg = NULL;
  assert_int_equal (do_copy (q, dst, &msg), -1);
  if (strstr (msg, want) == NULL)
    fail_msg ("error \"%s\" lacks \"%s\"", msg, want);
}

static void expect_file (const char *rel, const char *content)
{
  cleanup_free char *got = slurp (rel);
  if (got == NULL)
    fail_msg ("%s missing", rel);
  assert_string_equal (got, content);
}

static void expect_absent (const char *rel)
{
  struct stat st;
  if (lst (rel, &st) == 0)
    fail_msg ("%s exists", rel);
}

/* ---- rules ---- */

static void test_file_rules (void **state)
{
  (void)state;
  cleanup_close int dst = new_dst ("r1");
  mkdirs ("r1/existing");
  /* dest ending in '/': inside it, created; mode, mtime kept; owner 0:0 from the context */
  expect_ok (&(struct req){ .srcs = { "a.txt" }, .dest = "/dst/" }, dst);
  expect_file ("r1/dst/a.txt", "A\n");
  struct stat st;
  assert_int_equal (lst ("r1/dst/a.txt", &st), 0);
  assert_int_equal (st.st_mode & 07777, 0640);
  assert_int_equal (st.st_mtime, 1000000);
  assert_int_equal (st.st_uid, 0);
  assert_int_equal (st.st_gid, 0);
  assert_int_equal (lst ("r1/dst", &st), 0);
  assert_int_equal (st.st_mode & 07777, 0755);
  /* no slash, missing: the file is the destination */
  expect_ok (&(struct req){ .srcs = { "a.txt" }, .dest = "/new" }, dst);
  expect_file ("r1/new", "A\n");
  /* no slash, an existing directory: inside it */
  expect_ok (&(struct req){ .srcs = { "/a.txt" }, .dest = "/existing" }, dst);
  expect_file ("r1/existing/a.txt", "A\n");
  /* relative destination: joined to WorkingDir */
  expect_ok (&(struct req){ .srcs = { "a.txt" }, .dest = "rel/", .workdir = "/work" }, dst);
  expect_file ("r1/work/rel/a.txt", "A\n");
  expect_ok (&(struct req){ .srcs = { "b.go" }, .dest = ".", .workdir = "/work" }, dst);
  expect_file ("r1/work/b.go", "package b\n");
  /* a file replaces a file */
  expect_ok (&(struct req){ .srcs = { "b.go" }, .dest = "/new" }, dst);
  expect_file ("r1/new", "package b\n");
  /* several sources need a slash */
  expect_err (&(struct req){ .srcs = { "a.txt", "b.go" }, .dest = "/multi" }, dst,
              "When using COPY with more than one source file, the destination must be a "
              "directory and end with a /");
  expect_ok (&(struct req){ .srcs = { "a.txt", "b.go" }, .dest = "/multi/" }, dst);
  expect_file ("r1/multi/a.txt", "A\n");
  expect_file ("r1/multi/b.go", "package b\n");
  /* heredoc */
  struct copy_inline inl = { "greeting", "hello\n", 6 };
  expect_ok (&(struct req){ .inl = &inl, .n_inl = 1, .dest = "/h/" }, dst);
  expect_file ("r1/h/greeting", "hello\n");
}

static void test_dir_rules (void **state)
{
  (void)state;
  cleanup_close int dst = new_dst ("r2");
  expect_ok (&(struct req){ .srcs = { "dir" }, .dest = "/d" }, dst);
  /* contents, not the directory itself */
  expect_file ("r2/d/x.txt", "X\n");
  expect_file ("r2/d/sub/y.txt", "Y\n");
  expect_absent ("r2/d/dir");
  expect_absent ("r2/d/sub/debug.log"); /* .dockerignore'd */
  struct stat st, st2;
  assert_int_equal (lst ("r2/d", &st), 0);
  assert_int_equal (st.st_mode & 07777, 0750);
  assert_int_equal (st.st_mtime, 999999);
  /* links inside a directory stay links, even to /etc/passwd */
  char buf[64] = "";
  cleanup_free char *lp = xasprintf ("%s/r2/d/passwd", tmp);
  assert_true (readlink (lp, buf, sizeof buf - 1) > 0);
  assert_string_equal (buf, "/etc/passwd");
  assert_int_equal (lst ("r2/d/link", &st), 0);
  assert_true (S_ISLNK (st.st_mode));
  /* hardlinks kept */
  assert_int_equal (lst ("r2/d/hl1", &st), 0);
  assert_int_equal (lst ("r2/d/hl2", &st2), 0);
  assert_int_equal (st.st_ino, st2.st_ino);
  /* but never between two sources: Docker copies each source on its own */
  expect_ok (&(struct req){ .srcs = { "dir/hl1", "dir/hl2" }, .dest = "/hls/" }, dst);
  assert_int_equal (lst ("r2/hls/hl1", &st), 0);
  assert_int_equal (lst ("r2/hls/hl2", &st2), 0);
  assert_int_not_equal (st.st_ino, st2.st_ino);
  assert_int_equal (st.st_nlink, 1);
  /* "." is the whole context minus the ignored files */
  expect_ok (&(struct req){ .srcs = { "." }, .dest = "/all/" }, dst);
  expect_file ("r2/all/a.txt", "A\n");
  expect_file ("r2/all/dir/x.txt", "X\n");
  expect_absent ("r2/all/ignored.txt");
  expect_absent ("r2/all/dir/sub/debug.log");
  /* dir over file and file over dir, inside a tree */
  mkdirs ("r2/m/x.txt/deep");
  put ("r2/m/sub", "was a file\n", 0644, 1);
  expect_ok (&(struct req){ .srcs = { "dir" }, .dest = "/m" }, dst);
  expect_file ("r2/m/x.txt", "X\n");
  expect_file ("r2/m/sub/y.txt", "Y\n");
  /* an existing destination directory takes the source directory's mode and time */
  assert_int_equal (lst ("r2/m", &st), 0);
  assert_int_equal (st.st_mode & 07777, 0750);
  assert_int_equal (st.st_mtime, 999999);
  /* a directory onto an existing file fails */
  put ("r2/f", "file\n", 0644, 1);
  expect_err (&(struct req){ .srcs = { "dir" }, .dest = "/f" }, dst, "Not a directory");
}

/* An ignored directory with an exception: only what is re-included exists. */
static void test_reinclude (void **state)
{
  (void)state;
  cleanup_close int dst = new_dst ("r11");
  const char *pats[] = { "dir", "!dir/sub/y.txt", NULL };
  expect_ok (&(struct req){ .srcs = { "dir" }, .dest = "/i", .ignore = pats }, dst);
  expect_file ("r11/i/sub/y.txt", "Y\n");
  expect_absent ("r11/i/x.txt");
  expect_absent ("r11/i/link");
  expect_ok (&(struct req){ .srcs = { "." }, .dest = "/all/", .ignore = pats }, dst);
  expect_file ("r11/all/dir/sub/y.txt", "Y\n");
  expect_file ("r11/all/a.txt", "A\n");
  expect_absent ("r11/all/dir/x.txt");
  expect_err (&(struct req){ .srcs = { "dir/x.txt" }, .dest = "/n", .ignore = pats }, dst,
              "excluded by .dockerignore");
  const char *pats2[] = { "dir", "!dir/nothing-here", NULL };
  expect_err (&(struct req){ .srcs = { "./dir" }, .dest = "/n", .ignore = pats2 }, dst,
              "file not found in build context or excluded by .dockerignore: stat dir: file "
              "does not exist");
}

static void test_wildcards (void **state)
{
  (void)state;
  cleanup_close int dst = new_dst ("r3");
  expect_ok (&(struct req){ .srcs = { "*.go" }, .dest = "/g/" }, dst);
  expect_file ("r3/g/b.go", "package b\n");
  expect_file ("r3/g/c.go", "package c\n");
  expect_err (&(struct req){ .srcs = { "*.go" }, .dest = "/g2" }, dst,
              "When using COPY with more than one source file");
  /* one match needs no slash */
  expect_ok (&(struct req){ .srcs = { "a.t?t" }, .dest = "/single" }, dst);
  expect_file ("r3/single", "A\n");
  /* element-wise through directories */
  expect_ok (&(struct req){ .srcs = { "d*/s?b/[x-z].txt" }, .dest = "/deep/" }, dst);
  expect_file ("r3/deep/y.txt", "Y\n");
  /* a directory matched copies its contents */
  expect_ok (&(struct req){ .srcs = { "di?" }, .dest = "/dm/" }, dst);
  expect_file ("r3/dm/x.txt", "X\n");
  /* escaped brackets */
  expect_ok (&(struct req){ .srcs = { "[[]x].txt" }, .dest = "/br/" }, dst);
  expect_file ("r3/br/[x].txt", "bracket\n");
  expect_err (&(struct req){ .srcs = { "nomatch*" }, .dest = "/n/" }, dst,
              "COPY failed: no source files were specified");
  /* ignored files do not match */
  expect_err (&(struct req){ .srcs = { "ignored*" }, .dest = "/n/" }, dst,
              "no source files were specified");
  expect_err (&(struct req){ .srcs = { "dir/sub/*.log" }, .dest = "/n/" }, dst,
              "no source files were specified");
}

static void test_missing_and_outside (void **state)
{
  (void)state;
  cleanup_close int dst = new_dst ("r4");
  expect_err (&(struct req){ .srcs = { "nope" }, .dest = "/" }, dst,
              "COPY failed: file not found in build context or excluded by .dockerignore: "
              "stat nope: file does not exist");
  expect_err (&(struct req){ .srcs = { "ignored.txt" }, .dest = "/" }, dst,
              "file not found in build context or excluded by .dockerignore: stat ignored.txt");
  expect_err (&(struct req){ .srcs = { "dir/sub/debug.log" }, .dest = "/" }, dst,
              "excluded by .dockerignore");
  expect_err (&(struct req){ .srcs = { "../x" }, .dest = "/" }, dst,
              "COPY failed: forbidden path outside the build context: ../x ()");
  expect_err (&(struct req){ .srcs = { "a/../../x" }, .dest = "/" }, dst,
              "forbidden path outside the build context: a/../../x ()");
  expect_err (&(struct req){ .srcs = { "http://127.0.0.1:1/x" }, .dest = "/" }, dst,
              "source can't be a URL for COPY");
  /* one leading '/' is dropped before the check, as Docker does */
  expect_err (&(struct req){ .srcs = { "/../a.txt" }, .dest = "/" }, dst,
              "COPY failed: forbidden path outside the build context: ../a.txt ()");
  expect_ok (&(struct req){ .srcs = { "/dir/../a.txt" }, .dest = "/ok" }, dst);
  expect_file ("r4/ok", "A\n");
  expect_ok (&(struct req){ .srcs = { "./a.txt" }, .dest = "/ok2" }, dst);
  expect_file ("r4/ok2", "A\n");
  /* a wildcard matching nothing is fine beside another source; a climbing one matches nothing */
  expect_ok (&(struct req){ .srcs = { "nomatch*", "a.txt" }, .dest = "/ok3" }, dst);
  expect_file ("r4/ok3", "A\n");
  expect_err (&(struct req){ .srcs = { "../*.go" }, .dest = "/" }, dst,
              "COPY failed: no source files were specified");
  /* from a stage or an image: no word about the context */
  expect_err (&(struct req){ .srcs = { "/nope" }, .dest = "/", .from_image = true }, dst,
              "COPY failed: stat nope: file does not exist");
}

static void test_symlinks (void **state)
{
  (void)state;
  cleanup_close int dst = new_dst ("r5");
  /* a named source that is a link is followed inside the context and keeps its name */
  expect_ok (&(struct req){ .srcs = { "toplink" }, .dest = "/t/" }, dst);
  expect_file ("r5/t/toplink", "X\n");
  struct stat st;
  assert_int_equal (lst ("r5/t/toplink", &st), 0);
  assert_true (S_ISREG (st.st_mode));
  /* ... never out of it: a link to /etc/passwd (absent from the context) is copied as the
   * link, not as the host's file */
  expect_ok (&(struct req){ .srcs = { "passwdlink" }, .dest = "/t/" }, dst);
  assert_int_equal (lst ("r5/t/passwdlink", &st), 0);
  assert_true (S_ISLNK (st.st_mode));
  {
    cleanup_free char *p = xasprintf ("%s/r5/t/passwdlink", tmp);
    char target[64] = "";
    assert_true (readlink (p, target, sizeof target - 1) > 0);
    assert_string_equal (target, "/etc/passwd");
  }
  /* destination symlinks resolve inside the root: usr/local -> /../../etc */
  mkdirs ("r5/usr");
  link_at ("/../../etc", "r5/usr/local");
  expect_ok (&(struct req){ .srcs = { "a.txt" }, .dest = "/usr/local/" }, dst);
  expect_file ("r5/etc/a.txt", "A\n");
  expect_ok (&(struct req){ .srcs = { "dir" }, .dest = "/usr/local/d" }, dst);
  expect_file ("r5/etc/d/x.txt", "X\n");
  /* a final component that is a link is replaced, not written through */
  cleanup_free char *outside = xasprintf ("%s/outside-target", tmp);
  cleanup_free char *lt = xasprintf ("/../../../../..%s", outside);
  link_at (lt, "r5/esc");
  expect_ok (&(struct req){ .srcs = { "a.txt" }, .dest = "/esc" }, dst);
  assert_int_equal (lst ("r5/esc", &st), 0);
  assert_true (S_ISREG (st.st_mode));
  expect_absent ("outside-target");
}

static void test_chown_chmod (void **state)
{
  (void)state;
  cleanup_close int dst = new_dst ("r6");
  put ("r6/etc/passwd", "root:x:0:0:root:/root:/bin/sh\napp:x:1500:1600::/home/app:/bin/sh\n", 0644,
       1);
  put ("r6/etc/group", "root:x:0:\nstaff:x:50:\napp:x:1700:\n", 0644, 1);
  struct stat st;
  expect_ok (&(struct req){ .srcs = { "a.txt" }, .dest = "/n1/x/", .chown = "1000:1001" }, dst);
  assert_int_equal (lst ("r6/n1/x/a.txt", &st), 0);
  assert_int_equal (st.st_uid, 1000);
  assert_int_equal (st.st_gid, 1001);
  /* created parents belong to the --chown user too (Docker's MkdirAllAndChownNew) */
  assert_int_equal (lst ("r6/n1/x", &st), 0);
  assert_int_equal (st.st_uid, 1000);
  expect_ok (&(struct req){ .srcs = { "a.txt" }, .dest = "/n2/", .chown = "1000" }, dst);
  assert_int_equal (lst ("r6/n2/a.txt", &st), 0);
  assert_int_equal (st.st_uid, 1000);
  assert_int_equal (st.st_gid, 1000);
  /* names: "app" alone is app:app (the group named app) */
  expect_ok (&(struct req){ .srcs = { "dir" }, .dest = "/n3/", .chown = "app" }, dst);
  assert_int_equal (lst ("r6/n3/sub/y.txt", &st), 0);
  assert_int_equal (st.st_uid, 1500);
  assert_int_equal (st.st_gid, 1700);
  assert_int_equal (lst ("r6/n3/link", &st), 0);
  assert_int_equal (st.st_uid, 1500);
  assert_int_equal (lst ("r6/n3", &st), 0); /* the directory's copy */
  assert_int_equal (st.st_uid, 1500);
  expect_ok (&(struct req){ .srcs = { "dir" }, .dest = "/n6/p/q", .chown = "app" }, dst);
  assert_int_equal (lst ("r6/n6/p/q", &st), 0);
  assert_int_equal (st.st_uid, 1500);
  assert_int_equal (lst ("r6/n6/p", &st), 0); /* a directory's parents are root's */
  assert_int_equal (st.st_uid, 0);
  expect_ok (&(struct req){ .srcs = { "a.txt" }, .dest = "/n4/", .chown = "app:staff" }, dst);
  assert_int_equal (lst ("r6/n4/a.txt", &st), 0);
  assert_int_equal (st.st_uid, 1500);
  assert_int_equal (st.st_gid, 50);
  expect_err (&(struct req){ .srcs = { "a.txt" }, .dest = "/n5/", .chown = "ghost" }, dst,
              "can't find uid for user ghost: no such user: ghost");
  expect_err (&(struct req){ .srcs = { "a.txt" }, .dest = "/n5/", .chown = "app:ghosts" }, dst,
              "can't find gid for group ghosts: no such group: ghosts");
  expect_err (&(struct req){ .srcs = { "a.txt" }, .dest = "/n5/", .chown = "a:b:c" }, dst,
              "invalid chown string format: a:b:c");
  /* --chmod on files and directories copied */
  expect_ok (&(struct req){ .srcs = { "dir" }, .dest = "/c1", .chmod = "751" }, dst);
  assert_int_equal (lst ("r6/c1/x.txt", &st), 0);
  assert_int_equal (st.st_mode & 07777, 0751);
  assert_int_equal (lst ("r6/c1/sub", &st), 0);
  assert_int_equal (st.st_mode & 07777, 0751);
  assert_int_equal (lst ("r6/c1", &st), 0);
  assert_int_equal (st.st_mode & 07777, 0751);
  expect_ok (&(struct req){ .srcs = { "a.txt" }, .dest = "/c2", .chmod = "4755" }, dst);
  assert_int_equal (lst ("r6/c2", &st), 0);
  assert_int_equal (st.st_mode & 07777, 04755);
  expect_err (&(struct req){ .srcs = { "a.txt" }, .dest = "/c3", .chmod = "8" }, dst,
              "invalid chmod parameter");
  /* from an image (not the context): owners kept */
  expect_ok (&(struct req){ .srcs = { "a.txt" }, .dest = "/img/", .from_image = true }, dst);
  assert_int_equal (lst ("r6/img/a.txt", &st), 0);
  assert_int_equal (st.st_uid, 1234);
  assert_int_equal (st.st_gid, 5678);
}

/* ---- ADD: archives ---- */

struct tentry
{
  const char *path;
  int type; /* AE_IF* */
  const char *data_or_link;
  bool hardlink;
};

static void make_tar (const char *rel, int filter, const struct tentry *es, size_t n)
{
  cleanup_free char *p = xasprintf ("%s/%s", tmp, rel);
  struct archive *a = archive_write_new ();
  assert_int_equal (archive_write_set_format_pax_restricted (a), ARCHIVE_OK);
  switch (filter)
    {
    case 1:
      assert_int_equal (archive_write_add_filter_gzip (a), ARCHIVE_OK);
      break;
    case 2:
      assert_int_equal (archive_write_add_filter_bzip2 (a), ARCHIVE_OK);
      break;
    case 3:
      assert_int_equal (archive_write_add_filter_xz (a), ARCHIVE_OK);
      break;
    case 4:
      assert_int_equal (archive_write_add_filter_zstd (a), ARCHIVE_OK);
      break;
    default:
      break;
    }
  assert_int_equal (archive_write_open_filename (a, p), ARCHIVE_OK);
  for (size_t i = 0; i < n; i++)
    {
      struct archive_entry *e = archive_entry_new ();
      archive_entry_set_pathname (e, es[i].path);
      archive_entry_set_uid (e, 123);
      archive_entry_set_gid (e, 456);
      archive_entry_set_mtime (e, 777777, 0);
      size_t len = 0;
      if (es[i].hardlink)
        {
          archive_entry_set_filetype (e, AE_IFREG);
          archive_entry_copy_hardlink (e, es[i].data_or_link);
        }
      else
        {
          archive_entry_set_filetype (e, (unsigned)es[i].type);
          archive_entry_set_perm (e, es[i].type == AE_IFDIR ? 0711 : 0604);
          if (es[i].type == AE_IFLNK)
            archive_entry_copy_symlink (e, es[i].data_or_link);
          if (es[i].type == AE_IFREG)
            len = strlen (es[i].data_or_link);
          archive_entry_set_size (e, (la_int64_t)len);
        }
      assert_int_equal (archive_write_header (a, e), ARCHIVE_OK);
      if (len)
        assert_int_equal (archive_write_data (a, es[i].data_or_link, len), (la_ssize_t)len);
      archive_entry_free (e);
    }
  assert_int_equal (archive_write_close (a), ARCHIVE_OK);
  archive_write_free (a);
}

static void test_add_archives (void **state)
{
  (void)state;
  cleanup_close int dst = new_dst ("r7");
  const struct tentry es[] = {
    { "top/", AE_IFDIR, NULL, false },
    { "top/f.txt", AE_IFREG, "inside\n", false },
    { "top/l", AE_IFLNK, "f.txt", false },
    { "top/h", 0, "top/f.txt", true },
  };
  const char *names[] = { "plain.bin", "gz.bin", "bz.bin", "xz.bin", "zst.bin" };
  for (int f = 0; f < 5; f++)
    {
      cleanup_free char *rel = xasprintf ("actx/%s", names[f]);
      mkdirs ("actx");
      make_tar (rel, f, es, ARRAY_SIZE (es));
      cleanup_close int actx = open_dir ("actx");
      cleanup_free char *dest = xasprintf ("/x%d/", f);
      /* extracted entries keep their owners, even with --chown */
      expect_ok (
          &(struct req){
              .srcs = { names[f] }, .dest = dest, .add = true, .src_root = actx, .chown = "7:7" },
          dst);
      cleanup_free char *fp = xasprintf ("r7/x%d/top/f.txt", f);
      expect_file (fp, "inside\n");
      struct stat st, st2;
      assert_int_equal (lst (fp, &st), 0);
      assert_int_equal (st.st_uid, 123);
      assert_int_equal (st.st_gid, 456);
      assert_int_equal (st.st_mode & 07777, 0604);
      assert_int_equal (st.st_mtime, 777777);
      cleanup_free char *hp = xasprintf ("r7/x%d/top/h", f);
      assert_int_equal (lst (hp, &st2), 0);
      assert_int_equal (st.st_ino, st2.st_ino);
      cleanup_free char *dp = xasprintf ("r7/x%d/top", f);
      assert_int_equal (lst (dp, &st), 0);
      assert_int_equal (st.st_mode & 07777, 0711);
      assert_int_equal (st.st_mtime, 777777);
      /* COPY copies the archive as a file */
      cleanup_free char *cdest = xasprintf ("/c%d", f);
      expect_ok (&(struct req){ .srcs = { names[f] }, .dest = cdest, .src_root = actx }, dst);
      cleanup_free char *cp = xasprintf ("r7/c%d", f);
      assert_int_equal (lst (cp, &st), 0);
      assert_true (S_ISREG (st.st_mode));
    }
  /* a file that is no archive is copied; a destination without slash is the file */
  put ("actx/notar.gz", "just text, not gzip\n", 0644, 5);
  cleanup_close int actx = open_dir ("actx");
  expect_ok (&(struct req){ .srcs = { "notar.gz" }, .dest = "/nt", .add = true, .src_root = actx },
             dst);
  expect_file ("r7/nt", "just text, not gzip\n");
}

static void test_add_hostile (void **state)
{
  (void)state;
  cleanup_close int dst = new_dst ("r8");
  mkdirs ("hctx");
  const struct tentry dotdot[] = { { "../../evil.txt", AE_IFREG, "evil\n", false } };
  make_tar ("hctx/dotdot.tar", 0, dotdot, 1);
  /* symlink-then-write: each link is resolved inside the destination directory */
  const struct tentry trick[] = {
    { "up", AE_IFLNK, "../../../../../..", false },
    { "up/pwn.txt", AE_IFREG, "pwned\n", false },
    { "abs", AE_IFLNK, "/", false },
    { "abs/owned.txt", AE_IFREG, "owned\n", false },
    { "hl", 0, "../../../../../etc/passwd", true },
  };
  make_tar ("hctx/trick.tar", 1, trick, 4);
  make_tar ("hctx/hl.tar", 0, trick + 4, 1);
  cleanup_close int hctx = open_dir ("hctx");
  expect_err (
      &(struct req){ .srcs = { "dotdot.tar" }, .dest = "/a/b/", .add = true, .src_root = hctx },
      dst, "outside of the destination");
  expect_absent ("r8/evil.txt");
  expect_absent ("r8/a/evil.txt");
  expect_absent ("evil.txt");
  expect_ok (
      &(struct req){ .srcs = { "trick.tar" }, .dest = "/a/b/", .add = true, .src_root = hctx },
      dst);
  expect_file ("r8/a/b/pwn.txt", "pwned\n");
  expect_file ("r8/a/b/owned.txt", "owned\n");
  expect_absent ("r8/pwn.txt");
  expect_absent ("r8/a/pwn.txt");
  expect_absent ("pwn.txt");
  struct stat st;
  assert_int_equal (stat ("/pwn.txt", &st), -1);
  assert_int_equal (stat ("/owned.txt", &st), -1);
  expect_err (&(struct req){ .srcs = { "hl.tar" }, .dest = "/h/", .add = true, .src_root = hctx },
              dst, "invalid hardlink target");
}

/* ---- ADD: URLs ---- */

static const char url_body[] = "downloaded content\n";

static void serve (int ls)
{
  for (;;)
    {
      int c = accept (ls, NULL, NULL);
      if (c < 0)
        continue;
      char req[4096];
      size_t got = 0;
      while (got < sizeof req - 1)
        {
          ssize_t n = read (c, req + got, sizeof req - 1 - got);
          if (n <= 0)
            break;
          got += (size_t)n;
          req[got] = '\0';
          if (strstr (req, "\r\n\r\n"))
            break;
        }
      req[got] = '\0';
      char out[1024];
      int len;
      if (strncmp (req, "GET /files/file.txt ", 20) == 0
          || strncmp (req, "GET /file.txt?x=1 ", 18) == 0)
        len = snprintf (out, sizeof out,
                        "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\nLast-Modified: Wed, 21 Oct "
                        "2015 07:28:00 GMT\r\nConnection: close\r\n\r\n%s",
                        strlen (url_body), url_body);
      else if (strncmp (req, "GET /cd/ ", 9) == 0)
        len = snprintf (out, sizeof out,
                        "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\nContent-Disposition: "
                        "attachment; filename=\"dir/cd name.txt\"\r\nConnection: close\r\n\r\n%s",
                        strlen (url_body), url_body);
      else if (strncmp (req, "GET / ", 6) == 0)
        len = snprintf (out, sizeof out,
                        "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n%s",
                        strlen (url_body), url_body);
      else
        len = snprintf (out, sizeof out,
                        "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
      if (fs_write_all (c, out, (size_t)len) < 0)
        _exit (1);
      close (c);
    }
}

static void test_add_url (void **state)
{
  (void)state;
  int ls = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  assert_true (ls >= 0);
  struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl (INADDR_LOOPBACK) };
  assert_int_equal (bind (ls, (struct sockaddr *)&sa, sizeof sa), 0);
  assert_int_equal (listen (ls, 16), 0);
  socklen_t sl = sizeof sa;
  assert_int_equal (getsockname (ls, (struct sockaddr *)&sa, &sl), 0);
  pid_t pid = fork ();
  assert_true (pid >= 0);
  if (pid == 0)
    {
      /* never outlive the test, even when an assertion leaves it early */
      prctl (PR_SET_PDEATHSIG, SIGKILL);
      alarm (120);
      serve (ls);
    }
  server_pid = pid;
  close (ls);
  int port = ntohs (sa.sin_port);
  cleanup_free char *url = xasprintf ("http://127.0.0.1:%d/files/file.txt", port);
  cleanup_free char *url_q = xasprintf ("http://127.0.0.1:%d/file.txt?x=1", port);
  cleanup_free char *url_404 = xasprintf ("http://127.0.0.1:%d/nothere.txt", port);
  char good[DIGEST_STR_LEN];
  sha256_digest (url_body, strlen (url_body), good);
  const char *bad = "sha256:0000000000000000000000000000000000000000000000000000000000000000";

  cleanup_close int dst = new_dst ("r9");
  expect_ok (&(struct req){ .srcs = { url }, .dest = "/dl/", .add = true }, dst);
  expect_file ("r9/dl/file.txt", url_body);
  struct stat st;
  assert_int_equal (lst ("r9/dl/file.txt", &st), 0);
  assert_int_equal (st.st_mode & 07777, 0600);
  assert_int_equal (st.st_mtime, 1445412480);
  assert_int_equal (st.st_uid, 0);
  /* no slash: the file is the destination; query strings are not part of the name */
  expect_ok (
      &(struct req){
          .srcs = { url_q }, .dest = "/named", .add = true, .chown = "42:43", .chmod = "644" },
      dst);
  expect_file ("r9/named", url_body);
  assert_int_equal (lst ("r9/named", &st), 0);
  assert_int_equal (st.st_uid, 42);
  assert_int_equal (st.st_gid, 43);
  assert_int_equal (st.st_mode & 07777, 0644);
  expect_ok (&(struct req){ .srcs = { url_q }, .dest = "/q/", .add = true }, dst);
  expect_file ("r9/q/file.txt", url_body);
  expect_ok (&(struct req){ .srcs = { url }, .dest = "/ck/", .add = true, .checksum = good }, dst);
  expect_file ("r9/ck/file.txt", url_body);
  cleanup_free char *msg = NULL;
  assert_int_equal (
      do_copy (&(struct req){ .srcs = { url }, .dest = "/bad/", .add = true, .checksum = bad }, dst,
               &msg),
      -1);
  assert_non_null (strstr (msg, good));
  assert_non_null (strstr (msg, bad));
  expect_absent ("r9/bad");
  expect_err (&(struct req){ .srcs = { url_404 }, .dest = "/nf/", .add = true }, dst, "status 404");
  expect_err (&(struct req){ .srcs = { "a.txt" }, .dest = "/x/", .add = true, .checksum = good },
              dst, "checksum can't be specified for non-HTTP(S) sources");
  /* no name in the path: Content-Disposition, else only a destination file will do */
  cleanup_free char *url_cd = xasprintf ("http://127.0.0.1:%d/cd/", port);
  cleanup_free char *url_root = xasprintf ("http://127.0.0.1:%d/", port);
  expect_ok (&(struct req){ .srcs = { url_cd }, .dest = "/cd/", .add = true }, dst);
  expect_file ("r9/cd/cd name.txt", url_body);
  assert_int_equal (lst ("r9/cd/cd name.txt", &st), 0);
  assert_int_equal (st.st_mtime, 0); /* no Last-Modified */
  expect_err (&(struct req){ .srcs = { url_root }, .dest = "/un/", .add = true }, dst,
              "ADD failed: cannot determine filename for source http://");
  expect_ok (&(struct req){ .srcs = { url_root }, .dest = "/unfile", .add = true }, dst);
  expect_file ("r9/unfile", url_body);
  mkdirs ("r9/undir");
  expect_ok (&(struct req){ .srcs = { url_root }, .dest = "/undir", .add = true }, dst);
  expect_file ("r9/undir/__unnamed__", url_body);
  kill (pid, SIGKILL);
  waitpid (pid, NULL, 0);
  server_pid = -1;
}

static void test_url_names (void **state)
{
  (void)state;
  const char *cases[][2] = {
    { "http://h/a/b.tar.gz", "b.tar.gz" },
    { "https://h:8080/x?y=1#z", "x" },
    { "http://h/", "" },
    { "http://h", "" },
    { "http://h/dir/", "" },
    { "http://h/a%20b", "a b" },
    { "http://h/a%2Fb", "" },
    { "http://h/..", "" },
  };
  for (size_t i = 0; i < ARRAY_SIZE (cases); i++)
    {
      cleanup_free char *n = copy_url_filename (cases[i][0]);
      assert_string_equal (n, cases[i][1]);
    }
  const char *cd[][2] = {
    { " attachment; filename=\"a b.txt\"\r\n", "a b.txt" },
    { " attachment; FILENAME=plain.bin\r\n", "plain.bin" },
    { " attachment; filename=\"x/y/z.txt\"", "z.txt" },
    { " attachment; filename=\"dir/\"", "" },
    { " inline", "" },
    { " attachment; filename=\"q\\\"t\"", "q\"t" },
  };
  for (size_t i = 0; i < ARRAY_SIZE (cd); i++)
    {
      cleanup_free char *n = copy_disposition_filename (cd[i][0]);
      assert_string_equal (n, cd[i][1]);
    }
  assert_true (copy_has_wildcards ("a*"));
  assert_true (copy_has_wildcards ("[ab]"));
  assert_false (copy_has_wildcards ("a\\*b"));
  assert_false (copy_has_wildcards ("plain/path"));
}

/* ---- hash, clamp, stats ---- */

static void job_hash (const char *src, const char *chmod, char out[DIGEST_STR_LEN])
{
  di_matcher_t *ig = ignore_matcher ();
  char *srcs[] = { (char *)src, NULL };
  struct copy_request r = { .src_root = ctx_fd,
                            .from_context = true,
                            .ignore = ig,
                            .sources = srcs,
                            .dest = "/h/",
                            .chmod = chmod,
                            .tmpdir = tmp,
                            .instr = "COPY" };
  struct copy_job *j = NULL;
  berr_t err = BERR_INIT;
  assert_int_equal (copy_prepare (&r, &j, &err), 0);
  assert_int_equal (copy_job_hash (j, out, &err), 0);
  assert_true (digest_is_valid (out));
  copy_job_free (j);
  di_matcher_free (ig);
}

static void test_hash (void **state)
{
  (void)state;
  put ("ctx/hd/one", "1\n", 0644, 100);
  put ("ctx/hd/two", "2\n", 0644, 100);
  char h0[DIGEST_STR_LEN], h[DIGEST_STR_LEN];
  job_hash ("hd", NULL, h0);
  job_hash ("hd", NULL, h);
  assert_string_equal (h0, h);
  /* mtime only: same */
  put ("ctx/hd/one", "1\n", 0644, 200);
  job_hash ("hd", NULL, h);
  assert_string_equal (h0, h);
  /* content */
  put ("ctx/hd/one", "3\n", 0644, 100);
  job_hash ("hd", NULL, h);
  assert_string_not_equal (h0, h);
  put ("ctx/hd/one", "1\n", 0644, 100);
  job_hash ("hd", NULL, h);
  assert_string_equal (h0, h);
  /* mode */
  put ("ctx/hd/one", "1\n", 0600, 100);
  job_hash ("hd", NULL, h);
  assert_string_not_equal (h0, h);
  put ("ctx/hd/one", "1\n", 0644, 100);
  /* name */
  cleanup_free char *o = xasprintf ("%s/ctx/hd/one", tmp);
  cleanup_free char *n = xasprintf ("%s/ctx/hd/uno", tmp);
  assert_int_equal (rename (o, n), 0);
  job_hash ("hd", NULL, h);
  assert_string_not_equal (h0, h);
  assert_int_equal (rename (n, o), 0);
  job_hash ("hd", NULL, h);
  assert_string_equal (h0, h);
  /* --chmod */
  job_hash ("hd", "755", h);
  assert_string_not_equal (h0, h);
  /* ignored files do not count */
  put ("ctx/hd/z.log", "x\n", 0644, 100);
  job_hash ("hd", NULL, h);
  assert_string_equal (h0, h);
}

static void test_clamp_stats (void **state)
{
  (void)state;
  cleanup_close int dst = new_dst ("r10");
  expect_ok (&(struct req){ .srcs = { "dir" }, .dest = "/p/q/", .clamp = 500000 }, dst);
  struct stat st;
  assert_int_equal (lst ("r10/p/q/x.txt", &st), 0);
  assert_int_equal (st.st_mtime, 500000);
  assert_int_equal (lst ("r10/p", &st), 0);
  assert_int_equal (st.st_mtime, 500000);
  expect_ok (&(struct req){ .srcs = { "a.txt" }, .dest = "/old", .clamp = 2000000 }, dst);
  assert_int_equal (lst ("r10/old", &st), 0);
  assert_int_equal (st.st_mtime, 1000000);

  di_matcher_t *ig = ignore_matcher ();
  char *srcs[] = { "a.txt", "dir", NULL };
  struct copy_request r = { .src_root = ctx_fd,
                            .from_context = true,
                            .ignore = ig,
                            .sources = srcs,
                            .dest = "/s/",
                            .tmpdir = tmp,
                            .instr = "COPY" };
  struct copy_job *j = NULL;
  berr_t err = BERR_INIT;
  assert_int_equal (copy_prepare (&r, &j, &err), 0);
  uint64_t files, bytes;
  copy_job_stats (j, &files, &bytes);
  /* a.txt, x.txt, sub/y.txt, hl1, hl2 (debug.log ignored) */
  assert_int_equal (files, 5);
  assert_int_equal (bytes, 2 + 2 + 2 + 5 + 5);
  copy_job_free (j);
  di_matcher_free (ig);
}

int main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_match),
    cmocka_unit_test (test_file_rules),
    cmocka_unit_test (test_dir_rules),
    cmocka_unit_test (test_wildcards),
    cmocka_unit_test (test_missing_and_outside),
    cmocka_unit_test (test_symlinks),
    cmocka_unit_test (test_chown_chmod),
    cmocka_unit_test (test_add_archives),
    cmocka_unit_test (test_add_hostile),
    cmocka_unit_test (test_add_url),
    cmocka_unit_test (test_url_names),
    cmocka_unit_test (test_hash),
    cmocka_unit_test (test_reinclude),
    cmocka_unit_test (test_clamp_stats),
  };
  return cmocka_run_group_tests (tests, setup_all, teardown_all);
}
