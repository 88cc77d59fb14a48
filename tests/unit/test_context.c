/* The build context: every kind of CONTEXT (directory, stdin Dockerfile, stdin tar in each
 * compression, tar file, git over git:// and dumb http, http tarball and Dockerfile), the -f
 * variants, .dockerignore precedence and the size docker would report, hostile archives, and
 * the error texts. The git daemon and the HTTP server run on 127.0.0.1, started and stopped
 * here. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "build/context.h"
#include "build/context_priv.h"
#include "util/fs.h"
#include "util/util.h"

static char base[] = "/tmp/berth-ctx-test-XXXXXX";
static char tmp_parent[PATH_MAX];
static char sha1[64];
static int git_port, http_port;
static pid_t git_pid = -1, http_pid = -1;
static bool have_python;

static void sh (const char *fmt, ...) PRINTF_LIKE (1, 2);
static void sh (const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  cleanup_free char *cmd = xvasprintf (fmt, ap);
  va_end (ap);
  int r = system (cmd);
  if (r != 0)
    fail_msg ("command failed (%d): %s", r, cmd);
}

static int free_port (void)
{
  int s = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl (INADDR_LOOPBACK) };
  socklen_t l = sizeof a;
  if (s < 0 || bind (s, (struct sockaddr *)&a, sizeof a) < 0
      || getsockname (s, (struct sockaddr *)&a, &l) < 0)
    return -1;
  close (s);
  return ntohs (a.sin_port);
}

static bool wait_port (int port)
{
  for (int i = 0; i < 100; i++)
    {
      int s = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
      struct sockaddr_in a = { .sin_family = AF_INET,
                               .sin_port = htons ((uint16_t)port),
                               .sin_addr.s_addr = htonl (INADDR_LOOPBACK) };
      int r = connect (s, (struct sockaddr *)&a, sizeof a);
      close (s);
      if (r == 0)
        return true;
      struct timespec ts = { 0, 50 * 1000 * 1000 };
      nanosleep (&ts, NULL);
    }
  return false;
}

/* A server in its own process group, so the group (its children too) is stopped at the end. */
static pid_t spawn (char *const argv[])
{
  pid_t pid = fork ();
  if (pid == 0)
    {
      setpgid (0, 0);
      int null = open ("/dev/null", O_RDWR);
      dup2 (null, 0);
      dup2 (null, 1);
      dup2 (null, 2);
      execvp (argv[0], argv);
      _exit (127);
    }
  return pid;
}

static void stop (pid_t *pid)
{
  if (*pid <= 0)
    return;
  kill (-*pid, SIGTERM);
  waitpid (*pid, NULL, 0);
  *pid = -1;
}

static int group_setup (void **state)
{
  if (mkdtemp (base) == NULL)
    return -1;
  snprintf (tmp_parent, sizeof tmp_parent, "%s/staging", base);
  /* the directory context */
  sh ("set -e; cd %s; mkdir -p ctx/d ctx/sub other; printf 'FROM scratch\\n' > ctx/Dockerfile;"
      "printf hello > ctx/a; printf x > ctx/d/f; printf 'FROM dev\\n' > ctx/sub/Dockerfile.dev;"
      "printf 'FROM other\\n' > other/Dockerfile",
      base);
  /* archives of it, in each compression */
  sh ("set -e; cd %s; tar -C ctx -cf ctx.tar .; gzip -k ctx.tar; bzip2 -k ctx.tar; xz -k ctx.tar;"
      "zstd -q ctx.tar -o ctx.tar.zst",
      base);
  /* a repository: main (two commits), tag v1 on the first, branch other */
  sh ("set -e; cd %s; export GIT_CONFIG_NOSYSTEM=1 HOME=%s; git init -q -b main work; cd work;"
      "git config user.email t@t; git config user.name t;"
      "echo 'FROM one' > Dockerfile; mkdir sub; echo 'FROM sub' > sub/Dockerfile;"
      "echo hi > sub/file; git add -A; git commit -qm one; git tag v1;"
      "git rev-parse HEAD > ../sha1; echo 'FROM two' > Dockerfile; git commit -qam two;"
      "git checkout -qb other; echo 'FROM other' > Dockerfile; git commit -qam other;"
      "git checkout -q main; cd ..; mkdir srv; git clone -q --bare work srv/repo.git;"
      "git -C srv/repo.git update-server-info",
      base, base);
  cleanup_free char *shapath = xasprintf ("%s/sha1", base);
  FILE *f = fopen (shapath, "r");
  if (f == NULL || fscanf (f, "%63s", sha1) != 1)
    return -1;
  fclose (f);
  /* an HTTP tree: the tarball, a Dockerfile, the repository (dumb protocol) */
  sh ("set -e; cd %s; cp ctx.tar.gz srv/ctx.tar.gz; printf 'FROM web\\n' > srv/Dockerfile", base);

  git_port = free_port ();
  cleanup_free char *bp = xasprintf ("--base-path=%s/srv", base);
  cleanup_free char *port = xasprintf ("--port=%d", git_port);
  cleanup_free char *srv = xasprintf ("%s/srv", base);
  char *gargv[] = { "git", "daemon", "--export-all", "--reuseaddr", bp, "--listen=127.0.0.1", port,
                    srv,   NULL };
  git_pid = spawn (gargv);
  if (!wait_port (git_port))
    return -1;
  have_python = system ("python3 -c 'import http.server' >/dev/null 2>&1") == 0;
  if (have_python)
    {
      http_port = free_port ();
      cleanup_free char *hp = xasprintf ("%d", http_port);
      char *hargv[]
          = { "python3", "-m", "http.server", hp, "--bind", "127.0.0.1", "--directory", srv, NULL };
      http_pid = spawn (hargv);
      if (!wait_port (http_port))
        return -1;
    }
  return 0;
}

static int group_teardown (void **state)
{
  stop (&git_pid);
  stop (&http_pid);
  berr_t err = BERR_INIT;
  fs_rm_rf (base, &err);
  berr_release (&err);
  return 0;
}

static struct build_context *open_ok (const char *spec, const char *dockerfile, int stdin_fd)
{
  struct build_context_opts o
      = { .spec = spec, .dockerfile = dockerfile, .stdin_fd = stdin_fd, .tmp_parent = tmp_parent };
  struct build_context *c = NULL;
  berr_t err = BERR_INIT;
  if (build_context_open (&o, &c, &err) < 0)
    fail_msg ("open %s: %s", spec, err.msg);
  assert_non_null (c);
  assert_true (c->dirfd >= 0);
  assert_non_null (c->ignore_patterns);
  return c;
}

static char *open_err (const char *spec, const char *dockerfile, int stdin_fd, uint64_t max)
{
  struct build_context_opts o = { .spec = spec,
                                  .dockerfile = dockerfile,
                                  .stdin_fd = stdin_fd,
                                  .tmp_parent = tmp_parent,
                                  .max_size = max };
  struct build_context *c = NULL;
  berr_t err = BERR_INIT;
  if (build_context_open (&o, &c, &err) == 0)
    fail_msg ("open %s succeeded", spec);
  assert_null (c);
  return err.msg;
}

static void assert_contains (const char *s, const char *part)
{
  if (strstr (s, part) == NULL)
    fail_msg ("\"%s\" does not contain \"%s\"", s, part);
}

static bool exists_at (int dirfd, const char *path)
{
  struct stat st;
  return fstatat (dirfd, path, &st, AT_SYMLINK_NOFOLLOW) == 0;
}

static int file_fd (const char *rel)
{
  cleanup_free char *p = xasprintf ("%s/%s", base, rel);
  int fd = open (p, O_RDONLY | O_CLOEXEC);
  assert_true (fd >= 0);
  return fd;
}

/* A pipe holding text (small enough for the pipe buffer). */
static int text_fd (const char *text)
{
  int p[2];
  assert_int_equal (pipe2 (p, O_CLOEXEC), 0);
  assert_int_equal (fs_write_all (p[1], text, strlen (text)), 0);
  close (p[1]);
  return p[0];
}

/* No temporary directory is left behind in the staging area. */
static void assert_staging_empty (void)
{
  cleanup_closedir DIR *d = opendir (tmp_parent);
  if (d == NULL)
    return;
  struct dirent *de;
  while ((de = readdir (d)))
    if (de->d_name[0] != '.')
      fail_msg ("left behind: %s", de->d_name);
}

static void test_dir_default (void **state)
{
  cleanup_free char *spec = xasprintf ("%s/ctx", base);
  struct build_context *c = open_ok (spec, NULL, -1);
  assert_string_equal (c->dir, spec);
  assert_null (c->tmpdir);
  assert_string_equal (c->dockerfile_name, "Dockerfile");
  assert_string_equal (c->dockerfile, "FROM scratch\n");
  assert_int_equal (c->dockerfile_len, 13);
  assert_null (c->ignore);
  assert_null (c->ignore_patterns[0]);
  /* the tar docker would send: Dockerfile, a, d/, d/f, sub/, sub/Dockerfile.dev + 2 blocks */
  assert_int_equal (c->size, 1024 + 1024 + 512 + 1024 + 512 + 1024 + 1024);
  assert_false (build_context_ignored (c, "a"));
  build_context_close (c);
  /* relative spec and a symlink to the directory resolve to the same root */
  cleanup_free char *link = xasprintf ("%s/ctxlink", base);
  assert_int_equal (symlink ("ctx", link), 0);
  c = open_ok (link, NULL, -1);
  assert_string_equal (c->dir, spec);
  build_context_close (c);
  unlink (link);
}

static void test_dir_lowercase (void **state)
{
  sh ("set -e; mkdir -p %s/lc; printf 'FROM lower\\n' > %s/lc/dockerfile", base, base);
  cleanup_free char *spec = xasprintf ("%s/lc", base);
  struct build_context *c = open_ok (spec, NULL, -1);
  assert_string_equal (c->dockerfile_name, "dockerfile");
  assert_string_equal (c->dockerfile, "FROM lower\n");
  build_context_close (c);
  /* but -f Dockerfile means exactly that */
  cleanup_free char *df = xasprintf ("%s/lc/Dockerfile", base);
  cleanup_free char *msg = open_err (spec, df, -1, 0);
  cleanup_free char *want
      = xasprintf ("unable to prepare context: unable to evaluate symlinks in Dockerfile path: "
                   "lstat %s/lc/Dockerfile: no such file or directory",
                   base);
  assert_string_equal (msg, want);
}

static void test_dir_dashf (void **state)
{
  char cwd[PATH_MAX];
  assert_non_null (getcwd (cwd, sizeof cwd));
  assert_int_equal (chdir (base), 0);
  /* relative to the current directory, inside the context */
  struct build_context *c = open_ok ("ctx", "ctx/sub/Dockerfile.dev", -1);
  assert_string_equal (c->dockerfile_name, "sub/Dockerfile.dev");
  assert_string_equal (c->dockerfile, "FROM dev\n");
  build_context_close (c);
  /* outside the context: allowed, read from there; the CLI adds it under a random name */
  c = open_ok ("ctx", "other/Dockerfile", -1);
  assert_string_equal (c->dockerfile_name, "other/Dockerfile");
  assert_string_equal (c->dockerfile, "FROM other\n");
  uint64_t plain = 1024 * 4 + 512 * 2 + 1024;
  assert_int_equal (c->size, plain + 1024 + 1024);
  build_context_close (c);
  /* a missing component is named in the message */
  cleanup_free char *msg = open_err ("ctx", "ctx/nodir/Dockerfile", -1, 0);
  cleanup_free char *want
      = xasprintf ("unable to prepare context: unable to evaluate symlinks in Dockerfile path: "
                   "lstat %s/ctx/nodir: no such file or directory",
                   base);
  assert_string_equal (msg, want);
  assert_int_equal (chdir (cwd), 0);
}

static void test_dir_dockerfile_stdin (void **state)
{
  cleanup_free char *spec = xasprintf ("%s/ctx", base);
  int fd = text_fd ("FROM piped\n");
  struct build_context *c = open_ok (spec, "-", fd);
  close (fd);
  assert_string_equal (c->dockerfile, "FROM piped\n");
  assert_string_equal (c->dockerfile_name, "Dockerfile");
  assert_string_equal (c->dir, spec);
  build_context_close (c);
}

static void test_missing (void **state)
{
  cleanup_free char *m1 = open_err ("/nonexistent/ctx", NULL, -1, 0);
  assert_string_equal (m1, "unable to prepare context: path \"/nonexistent/ctx\" not found");
  sh ("mkdir -p %s/empty", base);
  cleanup_free char *spec = xasprintf ("%s/empty", base);
  cleanup_free char *m2 = open_err (spec, NULL, -1, 0);
  cleanup_free char *want
      = xasprintf ("unable to prepare context: unable to evaluate symlinks in Dockerfile path: "
                   "lstat %s/empty/Dockerfile: no such file or directory",
                   base);
  assert_string_equal (m2, want);
  cleanup_free char *m3 = open_err ("-", "-", 0, 0);
  assert_string_equal (m3, "invalid argument: can't use stdin for both build context and "
                           "dockerfile");
  /* an empty Dockerfile */
  sh ("mkdir -p %s/emptydf; : > %s/emptydf/Dockerfile", base, base);
  cleanup_free char *spec2 = xasprintf ("%s/emptydf", base);
  cleanup_free char *m4 = open_err (spec2, NULL, -1, 0);
  assert_string_equal (m4, "the Dockerfile (Dockerfile) cannot be empty");
  /* a file that is no archive */
  cleanup_free char *spec3 = xasprintf ("%s/other/Dockerfile", base);
  cleanup_free char *m5 = open_err (spec3, NULL, -1, 0);
  cleanup_free char *want5
      = xasprintf ("unable to prepare context: context must be a directory: %s", spec3);
  assert_string_equal (m5, want5);
  assert_staging_empty ();
}

static void test_dockerignore_precedence (void **state)
{
  sh ("set -e; cd %s; mkdir -p ign/sub; printf 'FROM x\\n' > ign/Dockerfile;"
      "printf a > ign/a; printf b > ign/b; printf c > ign/c; printf 'a\\n' > ign/.dockerignore;"
      "printf 'FROM y\\n' > ign/sub/Dockerfile.dev;"
      "printf 'c\\n' > ign/sub/Dockerfile.dev.dockerignore",
      base);
  cleanup_free char *spec = xasprintf ("%s/ign", base);
  struct build_context *c = open_ok (spec, NULL, -1);
  assert_true (build_context_ignored (c, "a"));
  assert_false (build_context_ignored (c, "b"));
  assert_string_equal (c->ignore_patterns[0], "a");
  assert_null (c->ignore_patterns[1]);
  build_context_close (c);
  /* Dockerfile.dockerignore beside the Dockerfile wins */
  sh ("printf 'b\\n' > %s/ign/Dockerfile.dockerignore", base);
  c = open_ok (spec, NULL, -1);
  assert_false (build_context_ignored (c, "a"));
  assert_true (build_context_ignored (c, "b"));
  build_context_close (c);
  /* for -f sub/Dockerfile.dev: sub/Dockerfile.dev.dockerignore */
  cleanup_free char *df = xasprintf ("%s/ign/sub/Dockerfile.dev", base);
  c = open_ok (spec, df, -1);
  assert_string_equal (c->dockerfile_name, "sub/Dockerfile.dev");
  assert_true (build_context_ignored (c, "c"));
  assert_false (build_context_ignored (c, "b"));
  build_context_close (c);
}

static void test_ignored_size (void **state)
{
  sh ("set -e; cd %s; mkdir -p sz/big/deep sz/keepdir; printf 'FROM x\\n' > sz/Dockerfile;"
      "head -c 100000 /dev/zero > sz/big/blob; printf 1 > sz/big/deep/f;"
      "printf log > sz/x.log; printf log > sz/keep.log; printf k > sz/keepdir/k;"
      "printf 'big\\n*.log\\n!keep.log\\nDockerfile\\n.dockerignore\\n' > sz/.dockerignore",
      base);
  cleanup_free char *spec = xasprintf ("%s/sz", base);
  struct build_context *c = open_ok (spec, NULL, -1);
  assert_true (build_context_ignored (c, "big/blob"));
  assert_true (build_context_ignored (c, "x.log"));
  assert_false (build_context_ignored (c, "keep.log"));
  /* ignored for the build, but still sent by the CLI */
  assert_true (build_context_ignored (c, "Dockerfile"));
  /* Dockerfile, .dockerignore, keep.log, keepdir/, keepdir/k; big/ skipped */
  assert_int_equal (c->size, 1024 + 1024 + 1024 + 512 + 1024 + 1024);
  build_context_close (c);
  /* an exception below an ignored directory: the directory is walked, not sent */
  sh ("printf 'big\\n!big/deep/f\\n' > %s/sz/.dockerignore", base);
  c = open_ok (spec, NULL, -1);
  assert_false (build_context_ignored (c, "big/deep/f"));
  assert_true (build_context_ignored (c, "big/blob"));
  /* Dockerfile, .dockerignore, x.log, keep.log, keepdir/, keepdir/k, big/deep/f */
  assert_int_equal (c->size, 1024 * 4 + 512 + 1024 + 1024 + 1024);
  build_context_close (c);
}

static void test_long_names_size (void **state)
{
  /* names over 100 bytes: split into USTAR prefix/name when possible, else a PAX header */
  char seg[81];
  memset (seg, 'x', 80);
  seg[80] = '\0';
  char longname[121];
  memset (longname, 'y', 120);
  longname[120] = '\0';
  sh ("set -e; cd %s; mkdir -p ln/%s; printf 'FROM x\\n' > ln/Dockerfile; : > ln/%s/%s;"
      ": > ln/%s",
      base, seg, seg, seg, longname);
  cleanup_free char *spec = xasprintf ("%s/ln", base);
  struct build_context *c = open_ok (spec, NULL, -1);
  /* Dockerfile 1024; dir "x80/" 512; "x80/x80" (161 bytes, splits) 512;
   * "y120" (no '/') PAX: 512 + 512 + 512 */
  assert_int_equal (c->size, 1024 + 512 + 512 + 1536 + 1024);
  build_context_close (c);
}

static void test_stdin_dockerfile (void **state)
{
  int fd = text_fd ("FROM stdin\n");
  struct build_context *c = open_ok ("-", NULL, fd);
  close (fd);
  assert_string_equal (c->dockerfile, "FROM stdin\n");
  assert_string_equal (c->dockerfile_name, "Dockerfile");
  assert_non_null (c->tmpdir);
  assert_true (str_has_prefix (c->dir, tmp_parent));
  assert_true (exists_at (c->dirfd, "Dockerfile"));
  assert_int_equal (c->size, 2048);
  cleanup_free char *tmp = xstrdup (c->tmpdir);
  build_context_close (c);
  assert_int_equal (access (tmp, F_OK), -1);
  assert_staging_empty ();
}

static void check_ctx_tree (struct build_context *c)
{
  assert_string_equal (c->dockerfile, "FROM scratch\n");
  assert_true (exists_at (c->dirfd, "a"));
  assert_true (exists_at (c->dirfd, "d/f"));
  assert_true (exists_at (c->dirfd, "sub/Dockerfile.dev"));
}

static void test_stdin_archives (void **state)
{
  const char *names[] = { "ctx.tar", "ctx.tar.gz", "ctx.tar.bz2", "ctx.tar.xz", "ctx.tar.zst" };
  for (size_t i = 0; i < ARRAY_SIZE (names); i++)
    {
      int fd = file_fd (names[i]);
      struct stat st;
      assert_int_equal (fstat (fd, &st), 0);
      struct build_context *c = open_ok ("-", NULL, fd);
      close (fd);
      check_ctx_tree (c);
      assert_string_equal (c->dockerfile_name, "Dockerfile");
      /* what the CLI would send: the stream as it came */
      assert_int_equal (c->size, (uint64_t)st.st_size);
      build_context_close (c);
    }
  /* -f names a file inside the archive */
  int fd = file_fd ("ctx.tar.gz");
  struct build_context *c = open_ok ("-", "sub/Dockerfile.dev", fd);
  close (fd);
  assert_string_equal (c->dockerfile, "FROM dev\n");
  assert_string_equal (c->dockerfile_name, "sub/Dockerfile.dev");
  build_context_close (c);
  fd = file_fd ("ctx.tar");
  cleanup_free char *msg = open_err ("-", "nope", fd, 0);
  close (fd);
  assert_string_equal (msg, "Cannot locate specified Dockerfile: nope");
  /* the bound on unpacked bytes */
  sh ("set -e; cd %s; mkdir -p bigctx; head -c 100000 /dev/zero > bigctx/f;"
      "tar -C bigctx -czf big.tar.gz .",
      base);
  fd = file_fd ("big.tar.gz");
  cleanup_free char *msg2 = open_err ("-", NULL, fd, 1000);
  close (fd);
  assert_contains (msg2, "larger than 1000 bytes");
  assert_staging_empty ();
}

static void test_archive_file (void **state)
{
  cleanup_free char *spec = xasprintf ("%s/ctx.tar.xz", base);
  struct build_context *c = open_ok (spec, NULL, -1);
  check_ctx_tree (c);
  struct stat st;
  assert_int_equal (stat (spec, &st), 0);
  assert_int_equal (c->size, (uint64_t)st.st_size);
  build_context_close (c);
  /* the default name falls back to "dockerfile" in an archive too */
  sh ("set -e; cd %s; tar -C lc -cf lc.tar .", base);
  cleanup_free char *spec2 = xasprintf ("%s/lc.tar", base);
  c = open_ok (spec2, NULL, -1);
  assert_string_equal (c->dockerfile_name, "dockerfile");
  build_context_close (c);
}

/* Hostile archives, written by Python's tarfile (GNU tar refuses to make some of them). */
static void make_tar (const char *name, const char *py_entries)
{
  sh ("cd %s && python3 - <<'EOF'\n"
      "import tarfile, io\n"
      "t = tarfile.open('%s', 'w')\n"
      "def f(n, data=b'x'):\n"
      "    i = tarfile.TarInfo(n); i.size = len(data); t.addfile(i, io.BytesIO(data))\n"
      "def l(n, target, kind=tarfile.SYMTYPE):\n"
      "    i = tarfile.TarInfo(n); i.type = kind; i.linkname = target; t.addfile(i)\n"
      "f('Dockerfile', b'FROM evil\\n')\n"
      "%s\n"
      "t.close()\n"
      "EOF",
      base, name, py_entries);
}

static void test_malicious_tar (void **state)
{
  if (!have_python)
    skip ();
  char mark[64];
  snprintf (mark, sizeof mark, "berth-escape-%d", (int)getpid ());
  cleanup_free char *entries = xasprintf ("f('/abs/%s')\n"
                                          "l('root', '/')\n"
                                          "f('root/tmp/%s')\n"
                                          "l('up', '../../../../../../tmp')\n"
                                          "f('up/%s.2')\n"
                                          "l('hard', '/etc/passwd', tarfile.LNKTYPE)\n",
                                          mark, mark, mark);
  make_tar ("evil.tar", entries);
  int fd = file_fd ("evil.tar");
  berr_t err = BERR_INIT;
  struct build_context_opts o = { .spec = "-", .stdin_fd = fd, .tmp_parent = tmp_parent };
  struct build_context *c = NULL;
  /* the hardlink to /etc/passwd is looked up inside the context, where it does not exist */
  assert_int_equal (build_context_open (&o, &c, &err), -1);
  close (fd);
  assert_contains (err.msg, "hard");
  berr_release (&err);
  cleanup_free char *out1 = xasprintf ("/tmp/%s", mark);
  cleanup_free char *out2 = xasprintf ("/tmp/%s.2", mark);
  assert_int_equal (access (out1, F_OK), -1);
  assert_int_equal (access (out2, F_OK), -1);
  assert_staging_empty ();

  /* the same without the hardlink: everything lands inside */
  cleanup_free char *noh = xstrndup (entries, strlen (entries)
                                                  - strlen ("l('hard', '/etc/passwd', "
                                                            "tarfile.LNKTYPE)\n"));
  make_tar ("evil2.tar", noh);
  fd = file_fd ("evil2.tar");
  c = open_ok ("-", NULL, fd);
  close (fd);
  cleanup_free char *p1 = xasprintf ("abs/%s", mark);
  cleanup_free char *p2 = xasprintf ("tmp/%s", mark);
  cleanup_free char *p3 = xasprintf ("tmp/%s.2", mark);
  assert_true (exists_at (c->dirfd, p1));
  assert_true (exists_at (c->dirfd, p2));
  assert_true (exists_at (c->dirfd, p3));
  struct stat st;
  assert_int_equal (fstatat (c->dirfd, "root", &st, AT_SYMLINK_NOFOLLOW), 0);
  assert_true (S_ISLNK (st.st_mode)); /* kept as a symlink */
  assert_int_equal (access (out1, F_OK), -1);
  assert_int_equal (access (out2, F_OK), -1);
  build_context_close (c);

  /* "../" is refused outright */
  make_tar ("evil3.tar", "f('../escape')\nf('a/../../escape2')");
  fd = file_fd ("evil3.tar");
  cleanup_free char *msg = open_err ("-", NULL, fd, 0);
  close (fd);
  assert_contains (msg, "path outside the context");
  cleanup_free char *esc = xasprintf ("%s/staging/escape", base);
  assert_int_equal (access (esc, F_OK), -1);
  assert_staging_empty ();
}

static void test_url_classes (void **state)
{
  assert_true (ctx_is_git_url ("git://host/repo"));
  assert_true (ctx_is_git_url ("git@github.com:a/b.git"));
  assert_true (ctx_is_git_url ("github.com/a/b"));
  assert_true (ctx_is_git_url ("https://host/x.git"));
  assert_true (ctx_is_git_url ("https://host/x.git#main:sub"));
  assert_false (ctx_is_git_url ("https://host/x.git#"));
  assert_false (ctx_is_git_url ("https://host/x.tar.gz"));
  assert_false (ctx_is_git_url ("https://host/x.gitfoo"));
  assert_true (ctx_is_url ("http://host/x"));
  assert_false (ctx_is_url ("ftp://host/x"));
  cleanup_free char *msg = open_err ("git://127.0.0.1:1/x.git#-bad", NULL, -1, 0);
  assert_contains (msg, "invalid refspec: -bad");
}

static void git_case (const char *url, const char *df, const char *want_df, bool at_root)
{
  struct build_context *c = open_ok (url, df, -1);
  assert_string_equal (c->dockerfile, want_df);
  assert_non_null (c->tmpdir);
  assert_true (str_has_prefix (c->dir, c->tmpdir));
  /* the checkout keeps .git, as the docker CLI's clone does */
  assert_int_equal (exists_at (c->dirfd, ".git"), at_root);
  assert_true (c->size > 1024);
  build_context_close (c);
}

static void test_git (void **state)
{
  cleanup_free char *u = xasprintf ("git://127.0.0.1:%d/repo.git", git_port);
  git_case (u, NULL, "FROM two\n", true);
  cleanup_free char *branch = xasprintf ("%s#other", u);
  git_case (branch, NULL, "FROM other\n", true);
  cleanup_free char *tag = xasprintf ("%s#v1", u);
  git_case (tag, NULL, "FROM one\n", true);
  cleanup_free char *commit = xasprintf ("%s#%s", u, sha1);
  git_case (commit, NULL, "FROM one\n", true);
  cleanup_free char *shortc = xasprintf ("%s#%.10s", u, sha1);
  git_case (shortc, NULL, "FROM one\n", true);
  cleanup_free char *sub = xasprintf ("%s#v1:sub", u);
  git_case (sub, NULL, "FROM sub\n", false);
  /* -f is relative to the repository's context */
  git_case (u, "sub/Dockerfile", "FROM sub\n", true);
  struct build_context *c = open_ok (sub, NULL, -1);
  assert_true (exists_at (c->dirfd, "file"));
  assert_string_equal (c->dockerfile_name, "Dockerfile");
  build_context_close (c);

  cleanup_free char *m1 = open_err (sub, "../Dockerfile", -1, 0);
  assert_string_equal (m1, "unable to prepare context: the Dockerfile (../Dockerfile) must be "
                           "within the build context");
  cleanup_free char *nosub = xasprintf ("%s#main:nosuch", u);
  cleanup_free char *m2 = open_err (nosub, NULL, -1, 0);
  assert_contains (m2, "error setting git context");
  cleanup_free char *noref = xasprintf ("%s#nosuchbranch", u);
  cleanup_free char *m3 = open_err (noref, NULL, -1, 0);
  assert_contains (m3, "unable to prepare context: unable to 'git clone' to temporary context "
                       "directory: error fetching: ");
  assert_contains (m3, "exit status 128");
  cleanup_free char *norepo = xasprintf ("git://127.0.0.1:%d/nope.git", git_port);
  cleanup_free char *m4 = open_err (norepo, NULL, -1, 0);
  assert_contains (m4, "error fetching");
  assert_staging_empty ();
}

static void test_git_dumb_http (void **state)
{
  if (!have_python)
    skip ();
  cleanup_free char *u = xasprintf ("http://127.0.0.1:%d/repo.git", http_port);
  git_case (u, NULL, "FROM two\n", true);
  cleanup_free char *tag = xasprintf ("%s#v1:sub", u);
  git_case (tag, NULL, "FROM sub\n", false);
  cleanup_free char *commit = xasprintf ("%s#%s", u, sha1);
  git_case (commit, NULL, "FROM one\n", true);
  assert_staging_empty ();
}

static void test_http (void **state)
{
  if (!have_python)
    skip ();
  cleanup_free char *tgz = xasprintf ("http://127.0.0.1:%d/ctx.tar.gz", http_port);
  struct build_context *c = open_ok (tgz, NULL, -1);
  check_ctx_tree (c);
  cleanup_free char *local = xasprintf ("%s/ctx.tar.gz", base);
  struct stat st;
  assert_int_equal (stat (local, &st), 0);
  assert_int_equal (c->size, (uint64_t)st.st_size);
  assert_false (exists_at (c->dirfd, "../download"));
  build_context_close (c);
  /* with -f inside the tarball */
  c = open_ok (tgz, "sub/Dockerfile.dev", -1);
  assert_string_equal (c->dockerfile, "FROM dev\n");
  build_context_close (c);

  cleanup_free char *df = xasprintf ("http://127.0.0.1:%d/Dockerfile", http_port);
  c = open_ok (df, NULL, -1);
  assert_string_equal (c->dockerfile, "FROM web\n");
  assert_true (exists_at (c->dirfd, "Dockerfile"));
  assert_int_equal (c->size, 2048);
  build_context_close (c);

  cleanup_free char *missing = xasprintf ("http://127.0.0.1:%d/nothing.tar", http_port);
  cleanup_free char *m1 = open_err (missing, NULL, -1, 0);
  cleanup_free char *want = xasprintf ("unable to prepare context: unable to download remote "
                                       "context %s: failed to GET %s with status 404 ",
                                       missing, missing);
  assert_contains (m1, want);
  /* the download bound */
  cleanup_free char *m2 = open_err (tgz, NULL, -1, 10);
  assert_contains (m2, "larger than 10 bytes");
  /* nobody listening */
  cleanup_free char *dead = xasprintf ("http://127.0.0.1:%d/x", free_port ());
  cleanup_free char *m3 = open_err (dead, NULL, -1, 0);
  assert_contains (m3, "unable to download remote context");
  assert_staging_empty ();
}

int main (void)
{
  signal (SIGPIPE, SIG_IGN);
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_dir_default),      cmocka_unit_test (test_dir_lowercase),
    cmocka_unit_test (test_dir_dashf),        cmocka_unit_test (test_dir_dockerfile_stdin),
    cmocka_unit_test (test_missing),          cmocka_unit_test (test_dockerignore_precedence),
    cmocka_unit_test (test_ignored_size),     cmocka_unit_test (test_long_names_size),
    cmocka_unit_test (test_stdin_dockerfile), cmocka_unit_test (test_stdin_archives),
    cmocka_unit_test (test_archive_file),     cmocka_unit_test (test_malicious_tar),
    cmocka_unit_test (test_url_classes),      cmocka_unit_test (test_git),
    cmocka_unit_test (test_git_dumb_http),    cmocka_unit_test (test_http),
  };
  return cmocka_run_group_tests (tests, group_setup, group_teardown);
}
