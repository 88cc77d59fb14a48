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

/* ---- helpers ---- */

static char *slurp (const char *path)
{
  berr_t err = BERR_INIT;
  char *s = NULL;
  if (fs_read_file (path, 1 << 20, &s, NULL, &err) < 0)
    {
      berr_release (&err);
      return NULL;
    }
  return s;
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

static __attribute__ ((unused)) void kill_reap (struct child *c)
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
static __attribute__ ((unused)) bool proc_cgroup_has (pid_t pid, const char *ctrls,
                                                      const char *name)
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
  assert_int_equal (cgroup_clone_fd (cg), -1);

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

/* ---- setup ---- */

static void rm_parent_everywhere (void)
{
  char **mnts = v1_mounts ();
  for (size_t i = 0; mnts && mnts[i]; i++)
    {
      char *p = xasprintf ("%s/%s", mnts[i], parent);
      rmdir (p);
      free (p);
    }
  strv_free (mnts);
  char *u = xasprintf ("/sys/fs/cgroup/unified/%s", parent);
  rmdir (u);
  free (u);
}

static int group_setup (void **state)
{
  (void)state;
  snprintf (parent, sizeof parent, "berth-test-%d", (int)getpid ());
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
  return bad;
}

int main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_detect_mode),
    cmocka_unit_test (test_v1_create_enter_destroy),
  };
  return cmocka_run_group_tests (tests, group_setup, group_teardown);
}
