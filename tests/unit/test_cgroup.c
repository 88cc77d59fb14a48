/* Unit tests for src/runtime/cgroup*: the v1/hybrid driver on the host's real hierarchies (under
 * a private parent "berth-test-<pid>"), the v2 driver on a private cgroup2 mount, and the none
 * driver.  Needs root and a cgroup filesystem; otherwise the tests say so and pass. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include "runtime/cgroup.h"
#include "util/fs.h"
#include "util/json.h"

static char parent[64];
static char v2root[64];     /* a private cgroup2 mount, or "" */
static bool hugetlb_was_on; /* in the v2 root's subtree_control before the tests */

/* ---- helpers ---- */

static char *slurp (const char *path)
{
  FILE *f = fopen (path, "re");
  if (!f)
    return NULL;
  struct sbuf b;
  sbuf_init (&b);
  char buf[4096];
  size_t r;
  while ((r = fread (buf, 1, sizeof buf, f)) > 0)
    sbuf_add (&b, buf, r);
  fclose (f);
  sbuf_addc (&b, '\0');
  return sbuf_detach (&b);
}

static char *slurpf (const char *fmt, ...) PRINTF_LIKE (1, 2);
static char *slurpf (const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  char *path = xvasprintf (fmt, ap);
  va_end (ap);
  char *s = slurp (path);
  free (path);
  return s;
}

static bool is_dir (const char *path)
{
  struct stat st;
  return stat (path, &st) == 0 && S_ISDIR (st.st_mode);
}

/* The v1 hierarchies under /sys/fs/cgroup, found independently of the code under test. */
static char **v1_mounts (void)
{
  char **v = NULL;
  DIR *d = opendir ("/sys/fs/cgroup");
  if (!d)
    return NULL;
  struct dirent *e;
  while ((e = readdir (d)))
    {
      if (e->d_name[0] == '.')
        continue;
      char *p = xasprintf ("/sys/fs/cgroup/%s", e->d_name);
      struct statfs st;
      struct stat lst;
      if (lstat (p, &lst) == 0 && S_ISDIR (lst.st_mode) && statfs (p, &st) == 0
          && st.f_type == CGROUP_SUPER_MAGIC)
        strv_push (&v, p);
      free (p);
    }
  closedir (d);
  return v;
}

static bool host_is_v1 (void)
{
  enum cgroup_mode m = cgroup_detect_mode ("/sys/fs/cgroup");
  return m == CGROUP_MODE_V1 || m == CGROUP_MODE_HYBRID;
}

/* cmocka 1.1.5 reports skip() as "not ok" in TAP; say why and pass instead. */
static int skip_unless_v1_root (void)
{
  if (geteuid () != 0)
    {
      printf ("# needs root: not run\n");
      return 1;
    }
  if (!host_is_v1 ())
    {
      printf ("# host has no v1 cgroup hierarchies: not run\n");
      return 1;
    }
  return 0;
}

static json_t *res_json (const char *text)
{
  json_error_t je;
  json_t *j = json_loads (text, 0, &je);
  if (!j)
    fail_msg ("bad test json: %s", je.text);
  return j;
}

static struct cgroup *create_ok (const struct cgroup_opts *o, const char *name, const char *res)
{
  berr_t err = BERR_INIT;
  struct cgroup *cg = NULL;
  json_t *j = res ? res_json (res) : NULL;
  int ret = cgroup_create (o, name, j, &cg, &err);
  if (j)
    json_decref (j);
  if (ret < 0)
    fail_msg ("cgroup_create %s: %s", name, err.msg);
  return cg;
}

static void destroy_ok (struct cgroup *cg)
{
  berr_t err = BERR_INIT;
  if (cgroup_destroy (cg, &err) < 0)
    fail_msg ("cgroup_destroy: %s", err.msg);
  cgroup_free (cg);
}

static void enter_ok (struct cgroup *cg, pid_t pid)
{
  berr_t err = BERR_INIT;
  if (cgroup_enter (cg, pid, &err) < 0)
    fail_msg ("cgroup_enter: %s", err.msg);
}

/* A child that waits for one byte on a pipe, then runs fn; returns its pid and the write end. */
struct child
{
  pid_t pid;
  int go;
};

static struct child spawn (int (*fn) (void *), void *arg)
{
  int p[2];
  assert_int_equal (pipe2 (p, O_CLOEXEC), 0);
  pid_t pid = fork ();
  assert_true (pid >= 0);
  if (pid == 0)
    {
      close (p[1]);
      char c;
      if (read (p[0], &c, 1) != 1)
        _exit (120);
      _exit (fn (arg));
    }
  close (p[0]);
  return (struct child){ pid, p[1] };
}

static void go (struct child *c)
{
  assert_int_equal (write (c->go, "x", 1), 1);
  close (c->go);
  c->go = -1;
}

static int reap (pid_t pid)
{
  int st = 0;
  while (waitpid (pid, &st, 0) < 0 && errno == EINTR)
    ;
  return st;
}

static void kill_reap (struct child *c)
{
  if (c->go >= 0)
    close (c->go);
  kill (c->pid, SIGKILL);
  reap (c->pid);
}

static int fn_sleep (void *arg)
{
  (void)arg;
  execl ("/bin/sleep", "sleep", "1000", (char *)NULL);
  return 127;
}

/* Does /proc/<pid>/cgroup put pid in <parent>/<name> for the hierarchy line ending "ctrl"? */
static bool proc_cgroup_has (pid_t pid, const char *ctrls, const char *name)
{
  char *s = slurpf ("/proc/%d/cgroup", (int)pid);
  if (!s)
    return false;
  char *want = xasprintf (":%s:/%s/%s\n", ctrls, parent, name);
  bool ok = strstr (s, want) != NULL;
  free (want);
  free (s);
  return ok;
}

/* ---- mode detection and layout ---- */

static void test_detect_mode (void **state)
{
  (void)state;
  enum cgroup_mode m = cgroup_detect_mode ("/sys/fs/cgroup");
  struct statfs st;
  if (statfs ("/sys/fs/cgroup", &st) < 0)
    assert_int_equal (m, CGROUP_MODE_NONE);
  else if (st.f_type == CGROUP2_SUPER_MAGIC)
    assert_int_equal (m, CGROUP_MODE_V2);
  else if (st.f_type == TMPFS_MAGIC && statfs ("/sys/fs/cgroup/unified", &st) == 0
           && st.f_type == CGROUP2_SUPER_MAGIC)
    assert_int_equal (m, CGROUP_MODE_HYBRID);
  else if (st.f_type == TMPFS_MAGIC)
    assert_int_equal (m, CGROUP_MODE_V1);
  assert_int_equal (cgroup_detect_mode ("/nonexistent-berth"), CGROUP_MODE_NONE);
  assert_string_equal (cgroup_mode_name (CGROUP_MODE_HYBRID), "hybrid");
  assert_string_equal (cgroup_mode_name (CGROUP_MODE_V2), "v2");
  assert_string_equal (cgroup_mode_name (CGROUP_MODE_NONE), "none");
}

/* ---- v1 / hybrid ---- */

static void test_v1_create_enter_destroy (void **state)
{
  (void)state;
  if (skip_unless_v1_root ())
    return;
  struct cgroup_opts o = { .parent = parent };
  struct cgroup *cg = create_ok (&o, "plain", NULL);
  assert_int_equal (cgroup_mode (cg), cgroup_detect_mode ("/sys/fs/cgroup"));
  /* v1: nothing to clone into; hybrid: the unified tracking group (a cgroup2 directory) */
  if (cgroup_mode (cg) == CGROUP_MODE_HYBRID)
    {
      int fd = cgroup_clone_fd (cg);
      assert_true (fd >= 0);
      struct statfs sf;
      assert_int_equal (fstatfs (fd, &sf), 0);
      assert_true (sf.f_type == CGROUP2_SUPER_MAGIC);
    }
  else
    assert_int_equal (cgroup_clone_fd (cg), -1);
  /* and the files a child writes "0" to, one per v1 hierarchy */
  int *fds = NULL;
  size_t nfds = 0;
  berr_t e = BERR_INIT;
  assert_int_equal (cgroup_self_attach_fds (cg, &fds, &nfds, &e), 0);
  assert_true (nfds > 0);
  for (size_t i = 0; i < nfds; i++)
    close (fds[i]);
  free (fds);

  char **mnts = v1_mounts ();
  assert_non_null (mnts);
  for (size_t i = 0; mnts[i]; i++)
    {
      char *p = xasprintf ("%s/%s/plain", mnts[i], parent);
      if (!is_dir (p))
        fail_msg ("missing %s", p);
      free (p);
    }

  struct child c = spawn (fn_sleep, NULL);
  enter_ok (cg, c.pid);
  /* every hierarchy line of /proc/<pid>/cgroup names the group */
  char *s = slurpf ("/proc/%d/cgroup", (int)c.pid);
  assert_non_null (s);
  size_t lines = 0;
  char *want = xasprintf (":/%s/plain\n", parent);
  for (char *l = s; *l;)
    {
      char *nl = strchr (l, '\n');
      char *line = xstrndup (l, nl ? (size_t)(nl - l + 1) : strlen (l));
      if (strncmp (line, "0::", 3) != 0 || cgroup_mode (cg) == CGROUP_MODE_HYBRID)
        {
          if (!str_has_suffix (line, want))
            fail_msg ("not in the group: %s", line);
          lines++;
        }
      free (line);
      l = nl ? nl + 1 : l + strlen (l);
    }
  assert_true (lines >= strv_len (mnts));
  free (want);
  free (s);

  pid_t *pids = NULL;
  size_t n = 0;
  berr_t err = BERR_INIT;
  assert_int_equal (cgroup_pids (cg, &pids, &n, &err), 0);
  assert_int_equal (n, 1);
  assert_int_equal (pids[0], c.pid);
  free (pids);

  /* a second create of a busy group is refused */
  struct cgroup *cg2 = NULL;
  assert_int_equal (cgroup_create (&o, "plain", NULL, &cg2, &err), -1);
  assert_non_null (strstr (err.msg, "process"));
  berr_release (&err);

  go (&c);
  destroy_ok (cg); /* kills the child */
  int st = reap (c.pid);
  assert_true (WIFSIGNALED (st) && WTERMSIG (st) == SIGKILL);
  for (size_t i = 0; mnts[i]; i++)
    {
      char *p = xasprintf ("%s/%s/plain", mnts[i], parent);
      if (is_dir (p))
        fail_msg ("left behind: %s", p);
      free (p);
    }
  char *u = xasprintf ("/sys/fs/cgroup/unified/%s/plain", parent);
  assert_false (is_dir (u));
  free (u);
  strv_free (mnts);
}

static void assert_file (const char *dir, const char *file, const char *want)
{
  char *s = slurpf ("%s/%s", dir, file);
  if (!s)
    fail_msg ("cannot read %s/%s", dir, file);
  if (strcmp (s, want) != 0)
    fail_msg ("%s/%s: got \"%s\", want \"%s\"", dir, file, s, want);
  free (s);
}

static char *v1_dir (const char *ctrl, const char *name)
{
  return xasprintf ("/sys/fs/cgroup/%s/%s/%s", ctrl, parent, name);
}

/* Exit status bits: 1 /dev/null rw failed, 2 /dev/zero read failed, 4 /dev/zero write allowed,
 * 8 /dev/full read allowed. 0 = exactly the expected policy. */
static int fn_devices (void *arg)
{
  (void)arg;
  int r = 0;
  int fd = open ("/dev/null", O_RDWR | O_CLOEXEC);
  if (fd < 0)
    r |= 1;
  else
    close (fd);
  fd = open ("/dev/zero", O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    r |= 2;
  else
    close (fd);
  fd = open ("/dev/zero", O_WRONLY | O_CLOEXEC);
  if (fd >= 0 || errno != EPERM)
    r |= 4;
  if (fd >= 0)
    close (fd);
  fd = open ("/dev/full", O_RDONLY | O_CLOEXEC);
  if (fd >= 0 || errno != EPERM)
    r |= 8;

  if (fd >= 0)
    close (fd);
  return r;
}

static int fn_open_full (void *arg)
{
  (void)arg;
  int fd = open ("/dev/full", O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return 1;
  close (fd);
  return 0;
}

static const char *devices_json
    = "[{\"allow\":false,\"access\":\"rwm\"},"
      "{\"allow\":true,\"type\":\"c\",\"major\":1,\"minor\":3,\"access\":\"rwm\"},"
      "{\"allow\":true,\"type\":\"c\",\"major\":1,\"minor\":5,\"access\":\"rwm\"},"
      "{\"allow\":false,\"type\":\"c\",\"major\":1,\"minor\":5,\"access\":\"w\"},"
      "{\"allow\":true,\"type\":\"c\",\"major\":136,\"access\":\"rw\"}]";

static void run_child_expect (struct cgroup *cg, int (*fn) (void *), int want)
{
  struct child c = spawn (fn, NULL);
  enter_ok (cg, c.pid);
  go (&c);
  int st = reap (c.pid);
  if (!WIFEXITED (st) || WEXITSTATUS (st) != want)
    fail_msg ("child: status 0x%x, want exit %d", st, want);
}

static void test_v1_limits (void **state)
{
  (void)state;
  if (skip_unless_v1_root ())
    return;
  struct cgroup_opts o = { .parent = parent };
  char *res = xasprintf (
      "{\"memory\":{\"limit\":33554432,\"reservation\":16777216,\"swap\":67108864,"
      "\"swappiness\":10,\"disableOOMKiller\":true},\"blockIO\":{\"weight\":500},"
      "\"cpu\":{\"shares\":512,\"quota\":50000,\"period\":100000,\"cpus\":\"0\",\"mems\":\"0\"},"
      "\"pids\":{\"limit\":64},\"devices\":%s}",
      devices_json);
  struct cgroup *cg = create_ok (&o, "lim", res);
  free (res);
  char *d = v1_dir ("memory", "lim");
  assert_file (d, "memory.limit_in_bytes", "33554432\n");
  assert_file (d, "memory.soft_limit_in_bytes", "16777216\n");
  assert_file (d, "memory.memsw.limit_in_bytes", "67108864\n");
  assert_file (d, "memory.swappiness", "10\n");
  char *oomc = slurpf ("%s/memory.oom_control", d);
  assert_non_null (oomc);
  assert_non_null (strstr (oomc, "oom_kill_disable 1\n"));
  free (oomc);
  free (d);
  /* best effort: only where the I/O scheduler has weights */
  d = v1_dir ("blkio", "lim");
  char *w = slurpf ("%s/blkio.bfq.weight", d);
  if (!w)
    w = slurpf ("%s/blkio.weight", d);
  if (w)
    assert_non_null (strstr (w, "500"));
  else
    printf ("# no blkio weight file: blockIO.weight not checked\n");
  free (w);
  free (d);
  d = v1_dir ("cpu", "lim");
  assert_file (d, "cpu.shares", "512\n");
  assert_file (d, "cpu.cfs_quota_us", "50000\n");
  assert_file (d, "cpu.cfs_period_us", "100000\n");
  free (d);
  d = v1_dir ("cpuset", "lim");
  assert_file (d, "cpuset.cpus", "0\n");
  assert_file (d, "cpuset.mems", "0\n");
  free (d);
  d = v1_dir ("pids", "lim");
  assert_file (d, "pids.max", "64\n");
  free (d);
  d = v1_dir ("devices", "lim");
  assert_file (d, "devices.list", "c 1:3 rwm\nc 1:5 rm\nc 136:* rw\n");
  free (d);
  /* and the kernel enforces them: null rw, zero read-only, full refused */
  run_child_expect (cg, fn_devices, 0);

  /* update: growing past the current memory+swap limit needs memsw written first */
  berr_t err = BERR_INIT;
  json_t *j = res_json ("{\"memory\":{\"limit\":134217728,\"swap\":268435456},"
                        "\"cpu\":{\"quota\":-1},\"pids\":{\"limit\":0}}");
  if (cgroup_update (cg, j, &err) < 0)
    fail_msg ("update: %s", err.msg);
  json_decref (j);
  d = v1_dir ("memory", "lim");
  assert_file (d, "memory.limit_in_bytes", "134217728\n");
  assert_file (d, "memory.memsw.limit_in_bytes", "268435456\n");
  free (d);
  d = v1_dir ("cpu", "lim");
  assert_file (d, "cpu.cfs_quota_us", "-1\n");
  free (d);
  d = v1_dir ("pids", "lim");
  assert_file (d, "pids.max", "max\n");
  free (d);
  /* and shrinking again */
  j = res_json ("{\"memory\":{\"limit\":16777216,\"swap\":16777216}}");
  if (cgroup_update (cg, j, &err) < 0)
    fail_msg ("update: %s", err.msg);
  json_decref (j);
  d = v1_dir ("memory", "lim");
  assert_file (d, "memory.limit_in_bytes", "16777216\n");
  assert_file (d, "memory.memsw.limit_in_bytes", "16777216\n");
  free (d);
  /* cgroup_open finds the same group */
  struct cgroup *again = NULL;
  assert_int_equal (cgroup_open (&o, "lim", &again, &err), 0);
  assert_int_equal (cgroup_mode (again), cgroup_mode (cg));
  cgroup_free (again);
  destroy_ok (cg);
  assert_int_equal (cgroup_open (&o, "lim", &again, &err), -1);
  assert_int_equal (err.kind, BERR_NOT_FOUND);
  berr_release (&err);
}

static void test_v1_devices_allow_all (void **state)
{
  (void)state;
  if (skip_unless_v1_root ())
    return;
  struct cgroup_opts o = { .parent = parent };
  char *res = xasprintf ("{\"devices\":%s}", devices_json);
  struct cgroup *cg = create_ok (&o, "devs", res);
  free (res);
  run_child_expect (cg, fn_open_full, 1);
  berr_t err = BERR_INIT;
  json_t *j = res_json ("{\"devices\":[{\"allow\":true,\"access\":\"rwm\"}]}");
  if (cgroup_update (cg, j, &err) < 0)
    fail_msg ("update: %s", err.msg);
  json_decref (j);
  char *d = v1_dir ("devices", "devs");
  assert_file (d, "devices.list", "a *:* rwm\n");
  free (d);
  run_child_expect (cg, fn_open_full, 0);
  destroy_ok (cg);
}

/* Hybrid: hugetlb exists only on the v2 side here, and a request for it must not fail. */
static void test_v1_hugetlb_v2_only (void **state)
{
  (void)state;
  if (skip_unless_v1_root ())
    return;
  if (is_dir ("/sys/fs/cgroup/hugetlb"))
    {
      printf ("# hugetlb is a v1 hierarchy here: not the hybrid case\n");
      return;
    }
  struct cgroup_opts o = { .parent = parent };
  struct cgroup *cg = create_ok (&o, "huge",
                                 "{\"hugepageLimits\":[{\"pageSize\":\"2MB\",\"limit\":4194304}],"
                                 "\"pids\":{\"limit\":10}}");
  char *d = v1_dir ("pids", "huge");
  assert_file (d, "pids.max", "10\n");
  free (d);
  destroy_ok (cg);
}

/* Fork until it fails; exit with the number of successful forks (and 100 + errno if the
 * failure is not EAGAIN). */
static int fn_forks (void *arg)
{
  (void)arg;
  pid_t kids[32];
  int n = 0;
  int e = 0;
  for (; n < 32; n++)
    {
      pid_t p = fork ();
      if (p < 0)
        {
          e = errno;
          break;
        }
      if (p == 0)
        {
          pause ();
          _exit (0);
        }
      kids[n] = p;
    }
  for (int i = 0; i < n; i++)
    {
      kill (kids[i], SIGKILL);
      waitpid (kids[i], NULL, 0);
    }
  return e == EAGAIN ? n : 100 + e;
}

static void test_v1_pids_limit (void **state)
{
  (void)state;
  if (skip_unless_v1_root ())
    return;
  struct cgroup_opts o = { .parent = parent };
  struct cgroup *cg = create_ok (&o, "pids", "{\"pids\":{\"limit\":4}}");
  /* the child itself is one of the 4 */
  run_child_expect (cg, fn_forks, 3);
  destroy_ok (cg);
}

static int fn_memhog (void *arg)
{
  size_t mib = (size_t)(uintptr_t)arg;
  for (size_t i = 0; i < mib; i++)
    {
      volatile char *p = malloc (1 << 20);
      if (!p)
        return 2;
      for (size_t k = 0; k < (1u << 20); k += 4096)
        p[k] = (char)(i + 1);
    }
  return 0;
}

static void test_v1_oom (void **state)
{
  (void)state;
  if (skip_unless_v1_root ())
    return;
  struct cgroup_opts o = { .parent = parent };
  struct cgroup *cg = create_ok (&o, "oom", "{\"memory\":{\"limit\":16777216,\"swap\":16777216}}");
  assert_false (cgroup_oom_killed (cg));
  struct child c = spawn (fn_memhog, (void *)(uintptr_t)64);
  enter_ok (cg, c.pid);
  go (&c);
  int st = reap (c.pid);
  if (!WIFSIGNALED (st) || WTERMSIG (st) != SIGKILL)
    fail_msg ("memhog was not OOM-killed: status 0x%x", st);
  assert_true (cgroup_oom_killed (cg));
  destroy_ok (cg);
}

/* Spin, counting, in memory shared with the test. */
static volatile uint64_t *counter;

static int fn_spin (void *arg)
{
  (void)arg;
  for (;;)
    (*counter)++;
  return 0;
}

static uint64_t progress_over (unsigned ms)
{
  uint64_t a = *counter;
  usleep (ms * 1000);
  return *counter - a;
}

static void freeze_cycle (struct cgroup *cg, struct child *c)
{
  berr_t err = BERR_INIT;
  assert_true (progress_over (50) > 0);
  assert_false (cgroup_is_frozen (cg));
  if (cgroup_freeze (cg, true, &err) < 0)
    fail_msg ("freeze: %s", err.msg);
  assert_true (cgroup_is_frozen (cg));
  assert_int_equal (progress_over (100), 0);
  char *stat = slurpf ("/proc/%d/stat", (int)c->pid);
  assert_non_null (stat);
  char *rp = strrchr (stat, ')');
  assert_non_null (rp);
  /* a frozen task is not running */
  assert_true (rp[2] != 'R');
  free (stat);
  if (cgroup_freeze (cg, false, &err) < 0)
    fail_msg ("thaw: %s", err.msg);
  assert_false (cgroup_is_frozen (cg));
  assert_true (progress_over (50) > 0);
  /* killing a frozen group works: it is thawed first (v1) or cgroup.kill reaches it (v2) */
  if (cgroup_freeze (cg, true, &err) < 0)
    fail_msg ("freeze: %s", err.msg);
  if (cgroup_kill_all (cg, SIGKILL, &err) < 0)
    fail_msg ("kill_all: %s", err.msg);
  int st = reap (c->pid);
  assert_true (WIFSIGNALED (st) && WTERMSIG (st) == SIGKILL);
  pid_t *pids = NULL;
  size_t n = 9;
  assert_int_equal (cgroup_pids (cg, &pids, &n, &err), 0);
  assert_int_equal (n, 0);
  free (pids);
}

static void test_v1_freeze_kill (void **state)
{
  (void)state;
  if (skip_unless_v1_root ())
    return;
  struct cgroup_opts o = { .parent = parent };
  struct cgroup *cg = create_ok (&o, "frz", NULL);
  struct child c = spawn (fn_spin, NULL);
  enter_ok (cg, c.pid);
  go (&c);
  freeze_cycle (cg, &c);
  destroy_ok (cg);
}

/* Three sleeping children in the group, the parent spinning. */
static int fn_family (void *arg)
{
  (void)arg;
  for (int i = 0; i < 3; i++)
    if (fork () == 0)
      {
        execl ("/bin/sleep", "sleep", "1000", (char *)NULL);
        _exit (127);
      }
  for (;;)
    pause ();
  return 0;
}

static void test_v1_kill_all (void **state)
{
  (void)state;
  if (skip_unless_v1_root ())
    return;
  struct cgroup_opts o = { .parent = parent };
  struct cgroup *cg = create_ok (&o, "killall", NULL);
  struct child c = spawn (fn_family, NULL);
  enter_ok (cg, c.pid);
  go (&c);
  berr_t err = BERR_INIT;
  pid_t *pids = NULL;
  size_t n = 0;
  for (int i = 0; i < 200 && n < 4; i++)
    {
      free (pids);
      assert_int_equal (cgroup_pids (cg, &pids, &n, &err), 0);
      usleep (5000);
    }
  free (pids);
  assert_int_equal (n, 4);
  if (cgroup_kill_all (cg, SIGKILL, &err) < 0)
    fail_msg ("kill_all: %s", err.msg);
  int st = reap (c.pid);
  assert_true (WIFSIGNALED (st) && WTERMSIG (st) == SIGKILL);
  assert_int_equal (cgroup_pids (cg, &pids, &n, &err), 0);
  free (pids);
  assert_int_equal (n, 0);
  destroy_ok (cg);
}

/* Burn some CPU, touch 8 MiB, say so, wait. */
static int fn_work (void *arg)
{
  int fd = (int)(intptr_t)arg;
  volatile uint64_t x = 0;
  int64_t end = now_ns () + 200 * 1000000LL;
  while (now_ns () < end)
    x++;
  /* volatile: the compiler may drop a buffer nobody reads */
  volatile char *p = malloc (8 << 20);
  for (size_t i = 0; i < (8u << 20); i += 4096)
    p[i] = 1;
  if (write (fd, "r", 1) != 1)
    return 1;
  pause ();
  return 0;
}

static void check_stats (struct cgroup *cg, bool memory, uint64_t limit)
{
  int p[2];
  assert_int_equal (pipe2 (p, O_CLOEXEC), 0);
  struct child c = spawn (fn_work, (void *)(intptr_t)p[1]);
  close (p[1]);
  enter_ok (cg, c.pid);
  go (&c);
  char b;
  assert_int_equal (read (p[0], &b, 1), 1);
  close (p[0]);
  struct cgroup_stats st;
  berr_t err = BERR_INIT;
  if (cgroup_stats (cg, &st, &err) < 0)
    fail_msg ("stats: %s", err.msg);
  if (st.cpu_usage_ns < 100 * 1000000ULL)
    fail_msg ("cpu usage %llu ns after 200 ms of spinning", (unsigned long long)st.cpu_usage_ns);
  if (memory)
    {
      if (st.mem_usage < (4u << 20))
        fail_msg ("memory usage %llu after touching 8 MiB", (unsigned long long)st.mem_usage);
      assert_int_equal (st.pids_current, 1);
    }
  assert_int_equal (st.mem_limit, limit);
  kill_reap (&c);
}

static void test_v1_stats (void **state)
{
  (void)state;
  if (skip_unless_v1_root ())
    return;
  struct cgroup_opts o = { .parent = parent };
  struct cgroup *cg = create_ok (&o, "stats", "{\"memory\":{\"limit\":33554432}}");
  check_stats (cg, true, 33554432);
  destroy_ok (cg);
  cg = create_ok (&o, "stats2", NULL);
  check_stats (cg, true, 0); /* unlimited reads as 0 */
  destroy_ok (cg);
}

static void test_invalid (void **state)
{
  (void)state;
  struct cgroup_opts o = { .parent = parent };
  berr_t err = BERR_INIT;
  struct cgroup *cg = NULL;
  static const char *const bad_names[] = { "", ".", "..", "a/b", "../x" };
  for (size_t i = 0; i < ARRAY_SIZE (bad_names); i++)
    {
      assert_int_equal (cgroup_create (&o, bad_names[i], NULL, &cg, &err), -1);
      assert_int_equal (err.kind, BERR_INVALID);
      berr_release (&err);
    }
  struct cgroup_opts bad_parent = { .parent = "x/../y" };
  assert_int_equal (cgroup_create (&bad_parent, "c", NULL, &cg, &err), -1);
  assert_int_equal (err.kind, BERR_INVALID);
  berr_release (&err);
  static const char *const bad_res[] = { "{\"memory\":{\"limit\":\"1g\"}}",
                                         "{\"cpu\":{\"shares\":-5}}",
                                         "{\"devices\":[{\"type\":\"c\"}]}",
                                         "{\"devices\":[{\"allow\":true,\"type\":\"x\"}]}",
                                         "{\"devices\":[{\"allow\":true,\"access\":\"rwx\"}]}",
                                         "{\"pids\":3}",
                                         "{\"blockIO\":{\"weight\":5}}" };
  for (size_t i = 0; i < ARRAY_SIZE (bad_res); i++)
    {
      json_t *j = res_json (bad_res[i]);
      assert_int_equal (cgroup_create (&o, "bad", j, &cg, &err), -1);
      json_decref (j);
      if (err.kind != BERR_INVALID || !strstr (err.msg, "linux.resources."))
        fail_msg ("%s: %s", bad_res[i], err.msg);
      berr_release (&err);
    }
}

/* ---- none: no cgroup filesystem, or a read-only one ---- */

static void check_none_root (const char *root)
{
  struct cgroup_opts o = { .mount_root = root, .parent = parent };
  berr_t err = BERR_INIT;
  struct cgroup *cg = NULL;
  json_t *j = res_json ("{\"pids\":{\"limit\":10}}");
  assert_int_equal (cgroup_create (&o, "none", j, &cg, &err), -1);
  json_decref (j);
  if (!strstr (err.msg, "pids.limit") || !strstr (err.msg, root))
    fail_msg ("unclear: %s", err.msg);
  berr_release (&err);
  cg = create_ok (&o, "none", NULL);
  assert_int_equal (cgroup_mode (cg), CGROUP_MODE_NONE);
  assert_int_equal (cgroup_clone_fd (cg), -1);
  enter_ok (cg, getpid ());
  j = res_json ("{\"memory\":{\"limit\":1048576}}");
  assert_int_equal (cgroup_update (cg, j, &err), -1);
  json_decref (j);
  assert_non_null (strstr (err.msg, "memory.limit"));
  berr_release (&err);
  assert_int_equal (cgroup_freeze (cg, true, &err), -1);
  berr_release (&err);
  assert_false (cgroup_oom_killed (cg));
  destroy_ok (cg);
}

static void test_none (void **state)
{
  (void)state;
  char tmpl[] = "/tmp/berth-cg-none-XXXXXX";
  assert_non_null (mkdtemp (tmpl));
  /* (a tmpfs /tmp looks like v1 to cgroup_detect_mode but has no hierarchies: still none) */
  check_none_root (tmpl);
  assert_int_equal (rmdir (tmpl), 0);
  /* a read-only cgroup2 mount: detected as v2, but not writable (a fresh path: layouts are
   * cached per root) */
  char ro[] = "/tmp/berth-cg-ro-XXXXXX";
  assert_non_null (mkdtemp (ro));
  if (geteuid () == 0 && mount ("none", ro, "cgroup2", MS_RDONLY, NULL) == 0)
    {
      assert_int_equal (cgroup_detect_mode (ro), CGROUP_MODE_V2);
      check_none_root (ro);
      assert_int_equal (umount2 (ro, MNT_DETACH), 0);
    }
  else
    printf ("# read-only cgroup2 mount not possible here: not run\n");
  assert_int_equal (rmdir (ro), 0);
}

/* ---- v2 on a private cgroup2 mount ---- */

static bool v2_ready (void)
{
  if (!v2root[0])
    {
      printf ("# no private cgroup2 mount (needs root): not run\n");
      return false;
    }
  return true;
}

static pid_t clone_into (int cgfd, int (*fn) (void *))
{
  struct clone_args a;
  memset (&a, 0, sizeof a);
  a.flags = CLONE_INTO_CGROUP;
  a.exit_signal = SIGCHLD;
  a.cgroup = (uint64_t)cgfd;
  long pid = syscall (SYS_clone3, &a, sizeof a);
  if (pid == 0)
    _exit (fn (NULL));
  return (pid_t)pid;
}

static int fn_pause (void *arg)
{
  (void)arg;
  for (;;)
    pause ();
  return 0;
}

static void test_v2_lifecycle (void **state)
{
  (void)state;
  if (!v2_ready ())
    return;
  assert_int_equal (cgroup_detect_mode (v2root), CGROUP_MODE_V2);
  struct cgroup_opts o = { .mount_root = v2root, .parent = parent };
  struct cgroup *cg = create_ok (&o, "v2life", NULL);
  assert_int_equal (cgroup_mode (cg), CGROUP_MODE_V2);
  char *dir = xasprintf ("%s/%s/v2life", v2root, parent);
  assert_true (is_dir (dir));
  int fd = cgroup_clone_fd (cg);
  assert_true (fd >= 0);
  assert_int_equal (fcntl (fd, F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
  assert_true (fcntl (fd, F_GETFL) & O_PATH);

  /* clone3 straight into the group */
  pid_t kid = clone_into (fd, fn_pause);
  if (kid < 0)
    fail_msg ("clone3 CLONE_INTO_CGROUP: %s", strerror (errno));
  assert_true (proc_cgroup_has (kid, "", "v2life"));
  /* and cgroup_enter for an existing process */
  struct child c = spawn (fn_spin, NULL);
  enter_ok (cg, c.pid);
  assert_true (proc_cgroup_has (c.pid, "", "v2life"));
  go (&c);
  pid_t *pids = NULL;
  size_t n = 0;
  berr_t err = BERR_INIT;
  assert_int_equal (cgroup_pids (cg, &pids, &n, &err), 0);
  assert_int_equal (n, 2);
  free (pids);

  struct cgroup_stats st;
  usleep (100000);
  if (cgroup_stats (cg, &st, &err) < 0)
    fail_msg ("stats: %s", err.msg);
  assert_true (st.cpu_usage_ns > 10 * 1000000ULL); /* cpu.stat needs no controller */

  kill (kid, SIGKILL); /* leave only the spinner for the freeze check */
  reap (kid);
  freeze_cycle (cg, &c);

  /* cgroup_open finds it, destroy removes it */
  struct cgroup *again = NULL;
  assert_int_equal (cgroup_open (&o, "v2life", &again, &err), 0);
  assert_true (cgroup_clone_fd (again) >= 0);
  destroy_ok (again);
  assert_false (is_dir (dir));
  cgroup_free (cg);
  free (dir);
}

static void test_v2_destroy_kills (void **state)
{
  (void)state;
  if (!v2_ready ())
    return;
  struct cgroup_opts o = { .mount_root = v2root, .parent = parent };
  struct cgroup *cg = create_ok (&o, "v2kill", NULL);
  pid_t kid = clone_into (cgroup_clone_fd (cg), fn_family);
  assert_true (kid > 0);
  pid_t *pids = NULL;
  size_t n = 0;
  berr_t err = BERR_INIT;
  for (int i = 0; i < 200 && n < 4; i++)
    {
      free (pids);
      assert_int_equal (cgroup_pids (cg, &pids, &n, &err), 0);
      usleep (5000);
    }
  free (pids);
  assert_int_equal (n, 4);
  destroy_ok (cg);
  int st = reap (kid);
  assert_true (WIFSIGNALED (st) && WTERMSIG (st) == SIGKILL);
  char *dir = xasprintf ("%s/%s/v2kill", v2root, parent);
  assert_false (is_dir (dir));
  free (dir);
}

static bool v2_offers (const char *ctrl)
{
  char *s = slurpf ("%s/cgroup.controllers", v2root);
  bool ok = false;
  for (char *w = s ? strtok (s, " \n") : NULL; w; w = strtok (NULL, " \n"))
    ok = ok || strcmp (w, ctrl) == 0;
  free (s);
  return ok;
}

static void test_v2_missing_controllers (void **state)
{
  (void)state;
  if (!v2_ready ())
    return;
  struct cgroup_opts o = { .mount_root = v2root, .parent = parent };
  static const struct
  {
    const char *ctrl, *res, *what;
  } cases[] = {
    { "memory", "{\"memory\":{\"limit\":33554432}}", "memory.limit" },
    { "cpu", "{\"cpu\":{\"shares\":512}}", "cpu.shares" },
    { "cpu", "{\"cpu\":{\"quota\":50000,\"period\":100000}}", "cpu.quota" },
    { "cpuset", "{\"cpu\":{\"cpus\":\"0\"}}", "cpu.cpus" },
    { "pids", "{\"pids\":{\"limit\":64}}", "pids.limit" },
  };
  int checked = 0;
  for (size_t i = 0; i < ARRAY_SIZE (cases); i++)
    {
      if (v2_offers (cases[i].ctrl))
        {
          printf ("# v2 root offers %s: its refusal is not testable here\n", cases[i].ctrl);
          continue;
        }
      berr_t err = BERR_INIT;
      struct cgroup *cg = NULL;
      json_t *j = res_json (cases[i].res);
      assert_int_equal (cgroup_create (&o, "v2miss", j, &cg, &err), -1);
      json_decref (j);
      char *want = xasprintf ("\"%s\" controller", cases[i].ctrl);
      if (!strstr (err.msg, want) || !strstr (err.msg, cases[i].what))
        fail_msg ("unclear error: %s", err.msg);
      free (want);
      berr_release (&err);
      char *dir = xasprintf ("%s/%s/v2miss", v2root, parent);
      assert_false (is_dir (dir)); /* nothing left behind */
      free (dir);
      checked++;
    }
  printf ("# %d missing-controller refusals checked\n", checked);
}

static void test_v2_hugetlb (void **state)
{
  (void)state;
  if (!v2_ready ())
    return;
  if (!v2_offers ("hugetlb") || !is_dir ("/sys/kernel/mm/hugepages/hugepages-2048kB"))
    {
      printf ("# no hugetlb on the v2 side or no 2 MB pages: not run\n");
      return;
    }
  struct cgroup_opts o = { .mount_root = v2root, .parent = parent };
  struct cgroup *cg
      = create_ok (&o, "v2huge", "{\"hugepageLimits\":[{\"pageSize\":\"2MB\",\"limit\":4194304}]}");
  char *dir = xasprintf ("%s/%s/v2huge", v2root, parent);
  assert_file (dir, "hugetlb.2MB.max", "4194304\n");
  destroy_ok (cg);
  free (dir);
}

static void test_v2_devices (void **state)
{
  (void)state;
  if (!v2_ready ())
    return;
  struct cgroup_opts o = { .mount_root = v2root, .parent = parent };
  char *res = xasprintf ("{\"devices\":%s}", devices_json);
  struct cgroup *cg = create_ok (&o, "v2dev", res);
  free (res);
  run_child_expect (cg, fn_devices, 0);
  run_child_expect (cg, fn_open_full, 1);
  /* replacing the rules replaces the program */
  berr_t err = BERR_INIT;
  json_t *j = res_json ("{\"devices\":[{\"allow\":false,\"access\":\"rwm\"},"
                        "{\"allow\":true,\"type\":\"c\",\"major\":1,\"minor\":7,"
                        "\"access\":\"r\"}]}");
  if (cgroup_update (cg, j, &err) < 0)
    fail_msg ("update: %s", err.msg);
  json_decref (j);
  run_child_expect (cg, fn_open_full, 0);
  run_child_expect (cg, fn_devices, 1 | 2 | 8); /* null and zero now refused, full allowed */
  destroy_ok (cg);
}

/* ---- setup ---- */

/* After a failed assertion a test leaves its group (and maybe processes, maybe frozen) behind:
 * thaw everything first, then kill, reap and remove, so a failure does not leak into the host. */
static void purge (const char *dir, bool thaw)
{
  DIR *d = opendir (dir);
  if (!d)
    return;
  struct dirent *e;
  while ((e = readdir (d)))
    {
      if (e->d_name[0] == '.' || e->d_type != DT_DIR)
        continue;
      char *sub = xasprintf ("%s/%s", dir, e->d_name);
      purge (sub, thaw);
      free (sub);
    }
  closedir (d);
  if (thaw)
    {
      static const char *const files[][2]
          = { { "freezer.state", "THAWED" }, { "cgroup.freeze", "0" } };
      for (size_t i = 0; i < ARRAY_SIZE (files); i++)
        {
          char *f = xasprintf ("%s/%s", dir, files[i][0]);
          int fd = open (f, O_WRONLY | O_CLOEXEC);
          if (fd >= 0)
            {
              if (write (fd, files[i][1], strlen (files[i][1])) < 0)
                fprintf (stderr, "# thaw %s: %s\n", f, strerror (errno));
              close (fd);
            }
          free (f);
        }
      return;
    }
  for (int round = 0; round < 200 && rmdir (dir) < 0 && errno == EBUSY; round++)
    {
      char *procs = slurpf ("%s/cgroup.procs", dir);
      for (char *p = procs; p && *p;)
        {
          char *end;
          long pid = strtol (p, &end, 10);
          if (end == p)
            break;
          kill ((pid_t)pid, SIGKILL);
          p = end + (*end == '\n');
        }
      free (procs);
      while (waitpid (-1, NULL, WNOHANG) > 0)
        ;
      usleep (10000);
    }
}

static void rm_parent_everywhere (void)
{
  char **dirs = NULL;
  char **mnts = v1_mounts ();
  for (size_t i = 0; mnts && mnts[i]; i++)
    strv_push_take (&dirs, xasprintf ("%s/%s", mnts[i], parent));
  strv_free (mnts);
  strv_push_take (&dirs, xasprintf ("/sys/fs/cgroup/unified/%s", parent));
  if (v2root[0])
    strv_push_take (&dirs, xasprintf ("%s/%s", v2root, parent));
  for (int thaw = 1; thaw >= 0; thaw--)
    for (size_t i = 0; dirs && dirs[i]; i++)
      purge (dirs[i], thaw);
  strv_free (dirs);
}

static int group_setup (void **state)
{
  (void)state;
  snprintf (parent, sizeof parent, "berth-test-%d", (int)getpid ());
  counter = mmap (NULL, sizeof *counter, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (counter == MAP_FAILED)
    return -1;
  if (geteuid () == 0)
    {
      char tmpl[] = "/tmp/berth-cg2-XXXXXX";
      if (mkdtemp (tmpl))
        {
          if (mount ("none", tmpl, "cgroup2", 0, NULL) == 0)
            {
              snprintf (v2root, sizeof v2root, "%s", tmpl);
              char *sc = slurpf ("%s/cgroup.subtree_control", v2root);
              hugetlb_was_on = sc && strstr (sc, "hugetlb");
              free (sc);
            }
          else
            rmdir (tmpl);
        }
    }
  return 0;
}

static int group_teardown (void **state)
{
  (void)state;
  rm_parent_everywhere ();
  /* the parent must be gone from every hierarchy */
  char **mnts = v1_mounts ();
  int bad = 0;
  for (size_t i = 0; mnts && mnts[i]; i++)
    {
      char *p = xasprintf ("%s/%s", mnts[i], parent);
      if (is_dir (p))
        {
          fprintf (stderr, "# left behind: %s\n", p);
          bad = -1;
        }
      free (p);
    }
  strv_free (mnts);
  if (v2root[0])
    {
      char *p = xasprintf ("%s/%s", v2root, parent);
      if (!hugetlb_was_on)
        {
          /* test_v2_hugetlb enabled it in the host's (shared) v2 root: give it back */
          char *ctl = xasprintf ("%s/cgroup.subtree_control", v2root);
          int fd = open (ctl, O_WRONLY | O_CLOEXEC);
          if (fd >= 0 && write (fd, "-hugetlb", 8) < 0)
            fprintf (stderr, "# cannot restore %s: %s\n", ctl, strerror (errno));
          if (fd >= 0)
            close (fd);
          free (ctl);
        }
      if (is_dir (p))
        {
          fprintf (stderr, "# left behind: %s\n", p);
          bad = -1;
        }
      free (p);
      /* detached: a failed test may still hold a group's fd */
      if (umount2 (v2root, MNT_DETACH) < 0 || rmdir (v2root) < 0)
        {
          fprintf (stderr, "# cannot remove the cgroup2 mount %s\n", v2root);
          bad = -1;
        }
    }
  return bad;
}

int main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_detect_mode),
    cmocka_unit_test (test_v1_create_enter_destroy),
    cmocka_unit_test (test_v1_limits),
    cmocka_unit_test (test_v1_devices_allow_all),
    cmocka_unit_test (test_v1_hugetlb_v2_only),
    cmocka_unit_test (test_v1_pids_limit),
    cmocka_unit_test (test_v1_oom),
    cmocka_unit_test (test_v1_freeze_kill),
    cmocka_unit_test (test_v1_kill_all),
    cmocka_unit_test (test_v1_stats),
    cmocka_unit_test (test_invalid),
    cmocka_unit_test (test_none),
    cmocka_unit_test (test_v2_lifecycle),
    cmocka_unit_test (test_v2_destroy_kills),
    cmocka_unit_test (test_v2_missing_controllers),
    cmocka_unit_test (test_v2_hugetlb),
    cmocka_unit_test (test_v2_devices),
  };
  return cmocka_run_group_tests (tests, group_setup, group_teardown);
}
