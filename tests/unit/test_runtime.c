/* test_runtime.c — the built-in OCI runtime: rt_spawn and rt_exec against a real rootfs
 * (busybox-static + the static testhelper) with Docker's default spec, and seccomp_compile.
 *
 * Needs root (namespaces, mounts); without root the container tests say so and pass.  Every
 * test checks afterwards that no mount was left in berth's namespace and no child is left
 * unreaped.  BERTH_RT_BENCH=N times N spawns of /bin/true and prints the median. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "gpu/cdi.h"
#include "runtime/cgroup.h"
#include "runtime/runtime.h"
#include "runtime/seccomp.h"
#include "util/fs.h"
#include "util/json.h"
#include "util/util.h"

static const char *docker_caps[] = {
  "CAP_CHOWN",
  "CAP_DAC_OVERRIDE",
  "CAP_FSETID",
  "CAP_FOWNER",
  "CAP_MKNOD",
  "CAP_NET_RAW",
  "CAP_SETGID",
  "CAP_SETUID",
  "CAP_SETFCAP",
  "CAP_SETPCAP",
  "CAP_NET_BIND_SERVICE",
  "CAP_SYS_CHROOT",
  "CAP_KILL",
  "CAP_AUDIT_WRITE",
  NULL,
};

/* Docker's default mounts, masked and read-only paths (security-reliability.md §2). */
static const char spec_template[]
    = "{"
      "\"ociVersion\": \"1.0.2\","
      "\"process\": {\"terminal\": false, \"user\": {\"uid\": 0, \"gid\": 0},"
      "  \"env\": [\"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\", "
      "\"HOSTNAME=rt-test\"],"
      "  \"cwd\": \"/\", \"noNewPrivileges\": false},"
      "\"root\": {\"path\": \"\", \"readonly\": false},"
      "\"hostname\": \"rt-test\","
      "\"mounts\": ["
      "  {\"destination\": \"/proc\", \"type\": \"proc\", \"source\": \"proc\", \"options\": "
      "[\"nosuid\", \"noexec\", \"nodev\"]},"
      "  {\"destination\": \"/dev\", \"type\": \"tmpfs\", \"source\": \"tmpfs\", \"options\": "
      "[\"nosuid\", \"strictatime\", \"mode=755\", \"size=65536k\"]},"
      "  {\"destination\": \"/dev/pts\", \"type\": \"devpts\", \"source\": \"devpts\", "
      "\"options\": [\"nosuid\", \"noexec\", \"newinstance\", \"ptmxmode=0666\", \"mode=0620\", "
      "\"gid=5\"]},"
      "  {\"destination\": \"/sys\", \"type\": \"sysfs\", \"source\": \"sysfs\", \"options\": "
      "[\"nosuid\", \"noexec\", \"nodev\", \"ro\"]},"
      "  {\"destination\": \"/sys/fs/cgroup\", \"type\": \"cgroup\", \"source\": \"cgroup\", "
      "\"options\": [\"ro\", \"nosuid\", \"noexec\", \"nodev\"]},"
      "  {\"destination\": \"/dev/mqueue\", \"type\": \"mqueue\", \"source\": \"mqueue\", "
      "\"options\": [\"nosuid\", \"noexec\", \"nodev\"]},"
      "  {\"destination\": \"/dev/shm\", \"type\": \"tmpfs\", \"source\": \"shm\", \"options\": "
      "[\"nosuid\", \"noexec\", \"nodev\", \"mode=1777\", \"size=67108864\"]}"
      "],"
      "\"linux\": {"
      "  \"namespaces\": [{\"type\": \"pid\"}, {\"type\": \"network\"}, {\"type\": \"ipc\"}, "
      "{\"type\": \"uts\"}, {\"type\": \"mount\"}],"
      "  \"maskedPaths\": [\"/proc/asound\", \"/proc/acpi\", \"/proc/interrupts\", "
      "\"/proc/kcore\", \"/proc/keys\","
      "    \"/proc/latency_stats\", \"/proc/timer_list\", \"/proc/timer_stats\", "
      "\"/proc/sched_debug\", \"/proc/scsi\","
      "    \"/sys/firmware\", \"/sys/devices/virtual/powercap\"],"
      "  \"readonlyPaths\": [\"/proc/bus\", \"/proc/fs\", \"/proc/irq\", \"/proc/sys\", "
      "\"/proc/sysrq-trigger\"]"
      "}}";

struct env
{
  bool ok; /* root, busybox and testhelper available */
  char dir[64];
  char rootfs[128];
  char testhelper[PATH_MAX];
  char *mountinfo;
  int nfds;
};
static struct env E;
static char *own_mounts (void);

/* ---- fixture ------------------------------------------------------------------------------ */

static char *read_text (const char *path)
{
  char *s = NULL;
  size_t len;
  berr_t err = BERR_INIT;
  if (fs_read_file (path, 64 << 20, &s, &len, &err) < 0)
    {
      berr_release (&err);
      return xstrdup ("");
    }
  return s;
}

static void write_text (const char *path, const char *text, mode_t mode)
{
  berr_t err = BERR_INIT;
  assert_int_equal (fs_write_atomic (path, text, strlen (text), mode, &err), 0);
}

static int copy_file (const char *from, const char *to, mode_t mode)
{
  char *data = NULL;
  size_t len;
  berr_t err = BERR_INIT;
  if (fs_read_file (from, 64 << 20, &data, &len, &err) < 0)
    {
      berr_release (&err);
      return -1;
    }
  int r = fs_write_atomic (to, data, len, mode, &err);
  berr_release (&err);
  free (data);
  return r;
}

/* The source tree, from where meson put this file relative to the build directory. */
static char *source_root (void)
{
  const char *env = getenv ("BERTH_SOURCE_ROOT");
  if (env)
    return xstrdup (env);
  char exe[PATH_MAX];
  ssize_t n = readlink ("/proc/self/exe", exe, sizeof exe - 1);
  if (n < 0)
    return NULL;
  exe[n] = '\0';
  char file[PATH_MAX];
  if (__FILE__[0] == '/')
    snprintf (file, sizeof file, "%s", __FILE__);
  else
    snprintf (file, sizeof file, "%.*s/../../%s", (int)(strrchr (exe, '/') - exe), exe, __FILE__);
  char *slash = strrchr (file, '/'); /* .../tests/unit/test_runtime.c -> the root */
  if (slash)
    *slash = '\0';
  cleanup_free char *joined = xasprintf ("%s/../..", file);
  char real[PATH_MAX];
  return realpath (joined, real) ? xstrdup (real) : NULL;
}

static bool find_testhelper (void)
{
  cleanup_free char *src = source_root ();
  if (src == NULL)
    return false;
  cleanup_free char *fixture = xasprintf ("%s/tests/fixtures/out/testhelper", src);
  if (access (fixture, X_OK) == 0)
    {
      snprintf (E.testhelper, sizeof E.testhelper, "%s", fixture);
      return true;
    }
  /* not built yet (tests/fixtures/mkimages): build just the helper */
  snprintf (E.testhelper, sizeof E.testhelper, "%s/testhelper", E.dir);
  cleanup_free char *cmd
      = xasprintf ("cc -static -O2 -o %s %s/tests/fixtures/testhelper.c 2>&1", E.testhelper, src);
  return system (cmd) == 0;
}

static int group_setup (void **state)
{
  (void)state;
  if (geteuid () != 0)
    {
      printf ("# needs root: container tests not run\n");
      return 0;
    }
  if (access ("/bin/busybox", X_OK) != 0)
    {
      printf ("# needs /bin/busybox (apt-get install busybox-static): container tests not run\n");
      return 0;
    }
  /* A mount namespace of our own, private: it stands in for the caller's namespace (a leak
   * from a container would show here), and mounts made by unrelated processes on the host
   * cannot make the comparison of mount tables flaky. */
  if (unshare (CLONE_NEWNS) < 0 || mount (NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
    return -1;
  snprintf (E.dir, sizeof E.dir, "/tmp/berth-rt-XXXXXX");
  if (mkdtemp (E.dir) == NULL)
    return -1;
  if (!find_testhelper ())
    {
      printf ("# no testhelper (tests/fixtures/out) and no static cc: container tests not run\n");
      return 0;
    }
  snprintf (E.rootfs, sizeof E.rootfs, "%s/rootfs", E.dir);
  const char *dirs[] = { "bin", "usr/bin", "etc", "proc", "sys", "dev", "tmp", "root", NULL };
  for (const char **d = dirs; *d; d++)
    {
      cleanup_free char *p = xasprintf ("%s/%s", E.rootfs, *d);
      berr_t err = BERR_INIT;
      if (fs_mkdir_p (p, 0755, &err) < 0)
        return -1;
    }
  cleanup_free char *bb = xasprintf ("%s/bin/busybox", E.rootfs);
  cleanup_free char *th = xasprintf ("%s/usr/bin/testhelper", E.rootfs);
  if (copy_file ("/bin/busybox", bb, 0755) < 0 || copy_file (E.testhelper, th, 0755) < 0)
    return -1;
  const char *applets[] = { "sh", "true", "cat", "echo", "ls", "sleep", NULL };
  for (const char **a = applets; *a; a++)
    {
      cleanup_free char *p = xasprintf ("%s/bin/%s", E.rootfs, *a);
      if (symlink ("busybox", p) < 0)
        return -1;
    }
  cleanup_free char *passwd = xasprintf ("%s/etc/passwd", E.rootfs);
  cleanup_free char *group = xasprintf ("%s/etc/group", E.rootfs);
  write_text (passwd, "root:x:0:0:root:/root:/bin/sh\nberth:x:1000:1000::/home/berth:/bin/sh\n",
              0644);
  write_text (group, "root:x:0:\nwheel:x:10:berth\nberth:x:1000:\n", 0644);
  E.ok = true;
  /* The first spawn creates the trampoline's memfd, which lives as long as the process: make
   * it now so the per-test fd count sees only what a test leaks. */
  cleanup_json json_t *warm
      = json_pack ("{s:{s:[s],s:s},s:{s:s},s:{s:[{s:s}]}}", "process", "args", "/bin/true", "cwd",
                   "/", "root", "path", E.rootfs, "linux", "namespaces", "type", "mount");
  struct rt_proc p;
  berr_t err = BERR_INIT;
  if (rt_spawn (&(struct rt_spawn_opts){ warm, NULL, NULL, NULL, NULL, NULL, NULL, NULL }, &p, &err)
      < 0)
    {
      printf ("# warm-up spawn failed: %s\n", err.msg);
      return -1;
    }
  waitpid (p.pid, NULL, 0);
  close (p.pidfd);
  return 0;
}

static int group_teardown (void **state)
{
  (void)state;
  if (E.dir[0])
    {
      berr_t err = BERR_INIT;
      fs_rm_rf (E.dir, &err);
      berr_release (&err);
    }
  return 0;
}

static int count_fds (void)
{
  int n = 0;
  DIR *d = opendir ("/proc/self/fd");
  if (d == NULL)
    return -1;
  struct dirent *de;
  while ((de = readdir (d)))
    if (de->d_name[0] != '.')
      n++;
  closedir (d);
  return n;
}

static int setup (void **state)
{
  (void)state;
  if (E.ok)
    {
      E.mountinfo = own_mounts ();
      E.nfds = count_fds ();
    }
  return 0;
}

/* Children a failed test left running: kill and reap them so the next test starts clean.
 * Returns how many there were. */
static int reap_leftovers (void)
{
  int n = 0;
  cleanup_free char *path = xasprintf ("/proc/self/task/%d/children", (int)gettid ());
  cleanup_free char *kids = read_text (path);
  for (char *p = kids; *p;)
    {
      char *end;
      long pid = strtol (p, &end, 10);
      if (end == p)
        break;
      kill ((pid_t)pid, SIGKILL);
      p = end;
    }
  for (int tries = 0; tries < 500;)
    {
      pid_t r = waitpid (-1, NULL, WNOHANG);
      if (r > 0)
        n++;
      else if (r == 0)
        {
          n += n == 0; /* alive and not in the children list: still a leftover */
          usleep (10000);
          tries++;
        }
      else
        break;
    }
  return n;
}

/* The mount table lines that concern this test (its directory): other processes on the host
 * mount and unmount meanwhile. */
static char *own_mounts (void)
{
  cleanup_free char *all = read_text ("/proc/self/mountinfo");
  struct sbuf s;
  sbuf_init (&s);
  for (char *line = all, *next; line && *line; line = next)
    {
      next = strchr (line, '\n');
      if (next)
        *next++ = '\0';
      if (strstr (line, E.dir))
        sbuf_addf (&s, "%s\n", line);
    }
  sbuf_addc (&s, '\0');
  return sbuf_detach (&s);
}

/* Nothing left behind: mounts, children, fds. */
static int teardown (void **state)
{
  (void)state;
  if (!E.ok)
    return 0;
  cleanup_free char *now = own_mounts ();
  int same = strcmp (now, E.mountinfo) == 0;
  free (E.mountinfo);
  E.mountinfo = NULL;
  int left = reap_leftovers ();
  assert_true (same);
  assert_int_equal (left, 0);
  assert_int_equal (count_fds (), E.nfds);
  return 0;
}

#define NEED_ENV()                                                                                 \
  do                                                                                               \
    {                                                                                              \
      if (!E.ok)                                                                                   \
        return;                                                                                    \
    }                                                                                              \
  while (0)

/* ---- spec and run helpers ----------------------------------------------------------------- */

static json_t *caps_array (void)
{
  json_t *a = json_array ();
  for (const char **c = docker_caps; *c; c++)
    json_array_append_new (a, json_string (*c));
  return a;
}

static json_t *docker_capabilities (void)
{
  return json_pack ("{s:o,s:o,s:o,s:[],s:[]}", "bounding", caps_array (), "effective",
                    caps_array (), "permitted", caps_array (), "inheritable", "ambient");
}

/* Docker's defaults, running args (NULL-terminated). */
static json_t *make_spec (const char *arg0, ...)
{
  json_error_t jerr;
  json_t *spec = json_loads (spec_template, 0, &jerr);
  if (spec == NULL)
    fail_msg ("template: %s", jerr.text);
  json_object_set_new (json_object_get (spec, "root"), "path", json_string (E.rootfs));
  json_t *process = json_object_get (spec, "process");
  json_t *args = json_array ();
  va_list ap;
  va_start (ap, arg0);
  for (const char *a = arg0; a; a = va_arg (ap, const char *))
    json_array_append_new (args, json_string (a));
  va_end (ap);
  json_object_set_new (process, "args", args);
  json_object_set_new (process, "capabilities", docker_capabilities ());
  return spec;
}

static json_t *jpath (json_t *spec, const char *a, const char *b)
{
  json_t *o = json_object_get (spec, a);
  return b ? json_object_get (o, b) : o;
}

struct result
{
  int status; /* raw wait status */
  char *out;
  char *err;
};

static void result_release (struct result *r)
{
  free (r->out);
  free (r->err);
  memset (r, 0, sizeof *r);
}

static char *slurp_fd (int fd)
{
  struct sbuf b;
  sbuf_init (&b);
  char buf[4096];
  ssize_t n;
  while ((n = read (fd, buf, sizeof buf)) > 0 || (n < 0 && errno == EINTR))
    if (n > 0)
      sbuf_add (&b, buf, (size_t)n);
  return sbuf_detach (&b);
}

static void wait_proc (struct rt_proc *p, int *status)
{
  while (waitpid (p->pid, status, 0) < 0 && errno == EINTR)
    ;
  if (p->pidfd >= 0)
    close (p->pidfd);
}

/* Spawn, collect stdout and stderr, wait.  Returns rt_spawn's result. */
static int run (json_t *spec, struct result *r, berr_t *err)
{
  int out[2], errp[2];
  memset (r, 0, sizeof *r);
  assert_int_equal (pipe2 (out, O_CLOEXEC), 0);
  assert_int_equal (pipe2 (errp, O_CLOEXEC), 0);
  struct rt_io io = { -1, out[1], errp[1], -1, false, { 0 } };
  struct rt_spawn_opts o = { spec, &io, NULL, NULL, NULL, NULL, NULL, NULL };
  struct rt_proc p;
  int ret = rt_spawn (&o, &p, err);
  close (out[1]);
  close (errp[1]);
  if (ret == 0)
    {
      r->out = slurp_fd (out[0]);
      r->err = slurp_fd (errp[0]);
      wait_proc (&p, &r->status);
    }
  close (out[0]);
  close (errp[0]);
  return ret;
}

/* Run and expect success with exit 0; returns stdout (owned by r). */
static const char *run_ok (json_t *spec, struct result *r)
{
  berr_t err = BERR_INIT;
  int ret = run (spec, r, &err);
  if (ret < 0)
    fail_msg ("rt_spawn: %s", err.msg);
  if (!WIFEXITED (r->status) || WEXITSTATUS (r->status) != 0)
    fail_msg ("exit status %d, stdout: %s, stderr: %s", r->status, r->out, r->err);
  return r->out;
}

/* ---- tests -------------------------------------------------------------------------------- */

static void test_hostname_and_env (void **state)
{
  (void)state;
  NEED_ENV ();
  struct result r;
  cleanup_json json_t *spec = make_spec ("testhelper", "hostname", NULL);
  assert_string_equal (run_ok (spec, &r), "rt-test\n");
  result_release (&r);
  cleanup_json json_t *spec2 = make_spec ("testhelper", "echo-env", "HOSTNAME", NULL);
  assert_string_equal (run_ok (spec2, &r), "HOSTNAME=rt-test\n");
  result_release (&r);
  /* busybox through $PATH, a shell, the pid namespace */
  cleanup_json json_t *spec3 = make_spec ("sh", "-c", "echo $$; testhelper pid; true", NULL);
  assert_string_equal (run_ok (spec3, &r), "1\npid=2 ppid=1\n");
  result_release (&r);
}

static void test_user_and_groups (void **state)
{
  (void)state;
  NEED_ENV ();
  struct result r;
  cleanup_json json_t *spec = make_spec ("testhelper", "id", NULL);
  json_object_set_new (
      jpath (spec, "process", NULL), "user",
      json_pack ("{s:i,s:i,s:[i,i]}", "uid", 1000, "gid", 1000, "additionalGids", 10, 1000));
  assert_string_equal (run_ok (spec, &r), "uid=1000 gid=1000 groups=10,1000\n");
  result_release (&r);
  /* a non-root user keeps no capability, but the bounding set is Docker's */
  cleanup_json json_t *spec2 = make_spec ("testhelper", "caps", NULL);
  json_object_set_new (jpath (spec2, "process", NULL), "user",
                       json_pack ("{s:i,s:i}", "uid", 1000, "gid", 1000));
  assert_string_equal (run_ok (spec2, &r), "CapInh:\t0000000000000000\n"
                                           "CapPrm:\t0000000000000000\n"
                                           "CapEff:\t0000000000000000\n"
                                           "CapBnd:\t00000000a80425fb\n"
                                           "CapAmb:\t0000000000000000\n");
  result_release (&r);
}

static void test_capabilities (void **state)
{
  (void)state;
  NEED_ENV ();
  struct result r;
  cleanup_json json_t *spec = make_spec ("testhelper", "caps", NULL);
  assert_string_equal (run_ok (spec, &r), "CapInh:\t0000000000000000\n"
                                          "CapPrm:\t00000000a80425fb\n"
                                          "CapEff:\t00000000a80425fb\n"
                                          "CapBnd:\t00000000a80425fb\n"
                                          "CapAmb:\t0000000000000000\n");
  result_release (&r);
  /* ambient capabilities reach a non-root user's process */
  cleanup_json json_t *spec2 = make_spec ("testhelper", "caps", NULL);
  json_t *caps = json_pack ("{s:[s,s],s:[s],s:[s],s:[s],s:[s]}", "bounding", "CAP_NET_BIND_SERVICE",
                            "CAP_KILL", "effective", "CAP_NET_BIND_SERVICE", "permitted",
                            "CAP_NET_BIND_SERVICE", "inheritable", "CAP_NET_BIND_SERVICE",
                            "ambient", "CAP_NET_BIND_SERVICE");
  json_object_set_new (jpath (spec2, "process", NULL), "capabilities", caps);
  json_object_set_new (jpath (spec2, "process", NULL), "user",
                       json_pack ("{s:i,s:i}", "uid", 1000, "gid", 1000));
  assert_string_equal (run_ok (spec2, &r), "CapInh:\t0000000000000400\n"
                                           "CapPrm:\t0000000000000400\n"
                                           "CapEff:\t0000000000000400\n"
                                           "CapBnd:\t0000000000000420\n"
                                           "CapAmb:\t0000000000000400\n");
  result_release (&r);
  /* an unknown name is the spec's fault */
  cleanup_json json_t *spec3 = make_spec ("true", NULL);
  json_t *bounding = json_object_get (
      json_object_get (jpath (spec3, "process", NULL), "capabilities"), "bounding");
  json_array_append_new (bounding, json_string ("CAP_NOPE"));
  berr_t err = BERR_INIT;
  assert_int_equal (run (spec3, &r, &err), -1);
  assert_int_equal (err.kind, BERR_INVALID);
  assert_non_null (strstr (err.msg, "CAP_NOPE"));
  berr_release (&err);
}

static json_t *keyctl_profile (bool with_arg, int arg_value)
{
  json_t *rule = json_pack ("{s:[s],s:s,s:i}", "names", "keyctl", "action", "SCMP_ACT_ERRNO",
                            "errnoRet", EPERM);
  if (with_arg)
    json_object_set_new (rule, "args",
                         json_pack ("[{s:i,s:i,s:i,s:s}]", "index", 0, "value", arg_value,
                                    "valueTwo", 0, "op", "SCMP_CMP_EQ"));
  return json_pack ("{s:s,s:[s,s,s],s:[o,{s:[s,s],s:s}]}", "defaultAction", "SCMP_ACT_ALLOW",
                    "architectures", "SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32",
                    "syscalls", rule, "names", "no_such_syscall_in_any_kernel", "getpid", "action",
                    "SCMP_ACT_ALLOW");
}

static void test_security_nnp_seccomp (void **state)
{
  (void)state;
  NEED_ENV ();
  struct result r;
  cleanup_json json_t *spec = make_spec ("testhelper", "security", NULL);
  json_object_set_new (jpath (spec, "process", NULL), "noNewPrivileges", json_true ());
  json_object_set_new (jpath (spec, "linux", NULL), "seccomp", keyctl_profile (false, 0));
  const char *out = run_ok (spec, &r);
  assert_non_null (strstr (out, "NoNewPrivs:\t1\n"));
  assert_non_null (strstr (out, "Seccomp:\t2\n"));
  result_release (&r);

  /* without no_new_privs the filter goes in before the capability drop */
  cleanup_json json_t *spec2 = make_spec ("sh", "-c",
                                          "testhelper security; testhelper "
                                          "syscall-probe keyctl; testhelper caps",
                                          NULL);
  json_object_set_new (jpath (spec2, "linux", NULL), "seccomp", keyctl_profile (false, 0));
  berr_t err = BERR_INIT;
  assert_int_equal (run (spec2, &r, &err), 0);
  assert_non_null (strstr (r.out, "NoNewPrivs:\t0\n"));
  assert_non_null (strstr (r.out, "Seccomp:\t2\n"));
  assert_non_null (strstr (r.out, "keyctl: EPERM\n"));
  assert_non_null (strstr (r.out, "CapEff:\t00000000a80425fb\n"));
  result_release (&r);

  /* argument conditions: only keyctl(0, ...) is refused */
  cleanup_json json_t *spec3 = make_spec ("testhelper", "syscall-probe", "keyctl", NULL);
  json_object_set_new (jpath (spec3, "linux", NULL), "seccomp", keyctl_profile (true, 1));
  assert_int_equal (run (spec3, &r, &err), 0);
  assert_null (strstr (r.out, "EPERM"));
  result_release (&r);
  cleanup_json json_t *spec4 = make_spec ("testhelper", "syscall-probe", "keyctl", NULL);
  json_object_set_new (jpath (spec4, "linux", NULL), "seccomp", keyctl_profile (true, 0));
  assert_int_equal (run (spec4, &r, &err), 0);
  assert_string_equal (r.out, "keyctl: EPERM\n");
  result_release (&r);
}

/* Docker's default profile (seccomp_profile.c) compiled and installed: what it must refuse is
 * refused, and a shell still runs. */
static void test_docker_default_seccomp (void **state)
{
  (void)state;
  NEED_ENV ();
  char dir[] = "/tmp/berth-rt-cache-XXXXXX";
  assert_non_null (mkdtemp (dir));
  cleanup_json json_t *prof = seccomp_docker_default ((char *const *)docker_caps);
  struct seccomp_prog a = { 0 };
  berr_t err = BERR_INIT;
  int64_t t0 = now_ns ();
  assert_int_equal (seccomp_compile (prof, dir, &a, &err), 0);
  int64_t t1 = now_ns ();
  seccomp_prog_release (&a);
  assert_int_equal (seccomp_compile (prof, dir, &a, &err), 0);
  int64_t t2 = now_ns ();
  printf ("# Docker's default profile: %u BPF instructions, compile %.2f ms, cached %.3f ms\n",
          a.len, (double)(t1 - t0) / 1e6, (double)(t2 - t1) / 1e6);
  seccomp_prog_release (&a);

  cleanup_json json_t *spec = make_spec ("sh", "-c",
                                         "testhelper syscall-probe all; "
                                         "testhelper security; echo done",
                                         NULL);
  json_object_set (jpath (spec, "linux", NULL), "seccomp", prof);
  int out[2];
  assert_int_equal (pipe2 (out, O_CLOEXEC), 0);
  struct rt_io io = { -1, out[1], out[1], -1, false, { 0 } };
  struct rt_spawn_opts o = { spec, &io, NULL, dir, NULL, NULL, NULL, NULL };
  struct rt_proc p;
  if (rt_spawn (&o, &p, &err) < 0)
    fail_msg ("rt_spawn: %s", err.msg);
  close (out[1]);
  cleanup_free char *text = slurp_fd (out[0]);
  close (out[0]);
  int status;
  wait_proc (&p, &status);
  assert_true (WIFEXITED (status) && WEXITSTATUS (status) == 0);
  const char *want[]
      = { "keyctl: EPERM\n", "unshare: EPERM\n", "mount: EPERM\n", "clone3: ENOSYS\n",
          "bpf: EPERM\n",    "Seccomp:\t2\n",    "done\n",         NULL };
  for (const char **w = want; *w; w++)
    if (strstr (text, *w) == NULL)
      fail_msg ("missing \"%s\" in:\n%s", *w, text);
  fs_rm_rf (dir, &err);
}

static void test_masked_and_readonly (void **state)
{
  (void)state;
  NEED_ENV ();
  struct result r;
  /* /proc/kcore is absent on kernels without CONFIG_PROC_KCORE: check what the host has */
  const char *file = access ("/proc/kcore", F_OK) == 0 ? "/proc/kcore" : "/proc/interrupts";
  cleanup_free char *script
      = xasprintf ("testhelper stat %s /proc/keys; cat %s /proc/keys | wc -c; "
                   "testhelper ls /sys/firmware; testhelper stat /sys/firmware; "
                   "testhelper write-file /proc/sys/kernel/hostname x; "
                   "testhelper write-file /sys/firmware/x x; "
                   "testhelper write-file /tmp/ok x && echo tmp-ok",
                   file, file);
  cleanup_json json_t *spec = make_spec ("sh", "-c", script, NULL);
  berr_t err = BERR_INIT;
  assert_int_equal (run (spec, &r, &err), 0);
  cleanup_free char *want
      = xasprintf ("%s: type=char mode=0666 uid=0 gid=0 size=0 nlink=1 rdev=1:3\n"
                   "/proc/keys: type=char mode=0666 uid=0 gid=0 size=0 nlink=1 rdev=1:3\n"
                   "0\n/sys/firmware: type=directory",
                   file);
  assert_true (str_has_prefix (r.out, want));
  assert_non_null (strstr (r.err, "write-file: /proc/sys/kernel/hostname: EROFS\n"));
  assert_non_null (strstr (r.err, "write-file: /sys/firmware/x: EROFS\n"));
  assert_non_null (strstr (r.out, "tmp-ok\n"));
  result_release (&r);
  cleanup_free char *ok = xasprintf ("%s/tmp/ok", E.rootfs);
  assert_int_equal (unlink (ok), 0);
}

static void test_dev (void **state)
{
  (void)state;
  NEED_ENV ();
  struct result r;
  cleanup_json json_t *spec = make_spec ("sh", "-c",
                                         "testhelper ls /dev | tr '\\n' ' '; echo; "
                                         "testhelper stat /dev/null /dev/tty /dev/ptmx /dev/fd "
                                         "/dev/fuse",
                                         NULL);
  json_object_set_new (jpath (spec, "linux", NULL), "devices",
                       json_pack ("[{s:s,s:s,s:i,s:i,s:i,s:i,s:i}]", "path", "/dev/fuse", "type",
                                  "c", "major", 10, "minor", 229, "fileMode", 0600, "uid", 0, "gid",
                                  5));
  const char *out = run_ok (spec, &r);
  assert_non_null (strstr (out, "core fd full fuse mqueue null ptmx pts random shm stderr stdin "
                                "stdout tty urandom zero \n"));
  assert_non_null (
      strstr (out, "/dev/null: type=char mode=0666 uid=0 gid=0 size=0 nlink=1 rdev=1:3\n"));
  assert_non_null (
      strstr (out, "/dev/tty: type=char mode=0666 uid=0 gid=0 size=0 nlink=1 rdev=5:0\n"));
  assert_non_null (strstr (out, "/dev/ptmx: type=symlink"));
  assert_non_null (strstr (out, "target=pts/ptmx\n"));
  assert_non_null (strstr (out, "target=/proc/self/fd\n"));
  assert_non_null (
      strstr (out, "/dev/fuse: type=char mode=0600 uid=0 gid=5 size=0 nlink=1 rdev=10:229\n"));
  result_release (&r);
}

static void test_fds_and_cwd (void **state)
{
  (void)state;
  NEED_ENV ();
  struct result r;
  /* an fd the caller did not mark close-on-exec must not reach the container */
  int leak = open ("/", O_RDONLY | O_DIRECTORY);
  assert_true (leak >= 0);
  cleanup_json json_t *spec = make_spec ("testhelper", "fds", NULL);
  const char *out = run_ok (spec, &r);
  close (leak);
  char *l1 = strstr (out, "0 -> /dev/null\n1 -> pipe:[");
  assert_non_null (l1);
  assert_non_null (strstr (out, "\n2 -> pipe:["));
  int lines = 0;
  for (const char *p = out; *p; p++)
    lines += *p == '\n';
  assert_int_equal (lines, 3);
  result_release (&r);

  cleanup_json json_t *spec2 = make_spec ("testhelper", "pwd", NULL);
  json_object_set_new (jpath (spec2, "process", NULL), "cwd", json_string ("/work/dir"));
  assert_string_equal (run_ok (spec2, &r), "/work/dir\n");
  result_release (&r);
  cleanup_free char *made = xasprintf ("%s/work", E.rootfs);
  berr_t err = BERR_INIT;
  fs_rm_rf (made, &err);
}

static void test_rlimits (void **state)
{
  (void)state;
  NEED_ENV ();
  struct result r;
  cleanup_json json_t *spec = make_spec ("testhelper", "rlimits", NULL);
  json_object_set_new (jpath (spec, "process", NULL), "rlimits",
                       json_pack ("[{s:s,s:i,s:i},{s:s,s:i,s:i}]", "type", "RLIMIT_NOFILE", "hard",
                                  2048, "soft", 1024, "type", "RLIMIT_CORE", "hard", 0, "soft", 0));
  const char *out = run_ok (spec, &r);
  assert_non_null (strstr (out, "nofile=1024:2048\n"));
  assert_non_null (strstr (out, "core=0:0\n"));
  result_release (&r);

  /* a hard limit above ours: only with CAP_SYS_RESOURCE */
  struct rlimit cur;
  assert_int_equal (getrlimit (RLIMIT_NOFILE, &cur), 0);
  if (cur.rlim_max >= (rlim_t)1 << 40)
    return;
  cleanup_json json_t *spec2 = make_spec ("testhelper", "rlimits", NULL);
  json_object_set_new (jpath (spec2, "process", NULL), "rlimits",
                       json_pack ("[{s:s,s:I,s:I}]", "type", "RLIMIT_NOFILE", "hard",
                                  (json_int_t)cur.rlim_max + 1000, "soft", (json_int_t)1024));
  berr_t err = BERR_INIT;
  int ret = run (spec2, &r, &err);
  if (prctl (PR_CAPBSET_READ, CAP_SYS_RESOURCE, 0, 0, 0) == 1)
    {
      printf ("# CAP_SYS_RESOURCE present: raising the hard limit must work\n");
      assert_int_equal (ret, 0);
      result_release (&r);
      return;
    }
  assert_int_equal (ret, -1);
  assert_int_equal (err.errnum, EPERM);
  assert_non_null (strstr (err.msg, "setrlimit RLIMIT_NOFILE"));
  assert_non_null (strstr (err.msg, "CAP_SYS_RESOURCE"));
  berr_release (&err);
}

static void test_readonly_root_sysctl (void **state)
{
  (void)state;
  NEED_ENV ();
  struct result r;
  cleanup_json json_t *spec
      = make_spec ("sh", "-c",
                   "testhelper write-file /x y; "
                   "testhelper write-file /dev/shm/x y && echo shm-ok; "
                   "cat /proc/sys/net/ipv4/ip_forward /proc/sys/kernel/shmmni",
                   NULL);
  json_object_set_new (jpath (spec, "root", NULL), "readonly", json_true ());
  json_object_set_new (
      jpath (spec, "linux", NULL), "sysctl",
      json_pack ("{s:s,s:s}", "net.ipv4.ip_forward", "1", "kernel.shmmni", "1234"));
  berr_t err = BERR_INIT;
  assert_int_equal (run (spec, &r, &err), 0);
  assert_non_null (strstr (r.err, "write-file: /x: EROFS\n"));
  assert_string_equal (r.out, "shm-ok\n1\n1234\n");
  result_release (&r);

  /* a sysctl of the host is refused before anything starts */
  cleanup_json json_t *spec2 = make_spec ("true", NULL);
  json_object_set_new (jpath (spec2, "linux", NULL), "sysctl",
                       json_pack ("{s:s}", "kernel.core_pattern", "|/evil"));
  assert_int_equal (run (spec2, &r, &err), -1);
  assert_int_equal (err.kind, BERR_INVALID);
  assert_non_null (strstr (err.msg, "kernel.core_pattern"));
  berr_release (&err);
}

static void expect_exec_error (json_t *spec, int errnum, const char *msg)
{
  struct result r;
  berr_t err = BERR_INIT;
  assert_int_equal (run (spec, &r, &err), -1);
  assert_int_equal (err.kind, BERR_EXEC);
  assert_int_equal (err.errnum, errnum);
  assert_string_equal (err.msg, msg);
  berr_release (&err);
}

static void test_exec_errors (void **state)
{
  (void)state;
  NEED_ENV ();
  cleanup_json json_t *s1 = make_spec ("nope", NULL);
  expect_exec_error (s1, ENOENT, "exec: \"nope\": executable file not found in $PATH");
  cleanup_json json_t *s2 = make_spec ("/nope", NULL);
  expect_exec_error (s2, ENOENT, "exec: \"/nope\": stat /nope: no such file or directory");
  cleanup_json json_t *s3 = make_spec ("/etc", NULL);
  expect_exec_error (s3, EACCES, "exec: \"/etc\": permission denied");
  cleanup_json json_t *s4 = make_spec ("/etc/passwd", NULL);
  expect_exec_error (s4, EACCES, "exec: \"/etc/passwd\": permission denied");
  /* executable bits but not a program: the trampoline's execve fails */
  cleanup_free char *junk = xasprintf ("%s/junk", E.rootfs);
  write_text (junk, "\x01\x02garbage", 0755);
  cleanup_json json_t *s5 = make_spec ("/junk", NULL);
  expect_exec_error (s5, ENOEXEC, "exec: \"/junk\": exec format error");
  unlink (junk);
}

static void test_setup_errors (void **state)
{
  (void)state;
  NEED_ENV ();
  struct result r;
  berr_t err = BERR_INIT;
  cleanup_json json_t *spec = make_spec ("true", NULL);
  json_array_append_new (
      json_object_get (spec, "mounts"),
      json_pack ("{s:s,s:s,s:s}", "destination", "/mnt", "type", "nosuchfs", "source", "none"));
  assert_int_equal (run (spec, &r, &err), -1);
  assert_string_equal (err.msg, "mount none to /mnt: No such device");
  assert_int_equal (err.errnum, ENODEV);
  berr_release (&err);

  /* CVE-2023-27561: /proc must not be a symlink */
  cleanup_free char *proc = xasprintf ("%s/proc", E.rootfs);
  assert_int_equal (rmdir (proc), 0);
  assert_int_equal (symlink ("/tmp", proc), 0);
  cleanup_json json_t *spec2 = make_spec ("true", NULL);
  int ret = run (spec2, &r, &err);
  unlink (proc);
  mkdir (proc, 0755);
  assert_int_equal (ret, -1);
  assert_non_null (strstr (err.msg, "/proc is a symlink"));
  berr_release (&err);
  /* nothing was written through it */
  cleanup_free char *tmp = xasprintf ("%s/tmp", E.rootfs);
  DIR *d = opendir (tmp);
  assert_non_null (d);
  int entries = 0;
  struct dirent *de;
  while ((de = readdir (d)))
    if (de->d_name[0] != '.')
      {
        printf ("# unexpected in the rootfs's /tmp: %s\n", de->d_name);
        entries++;
      }
  closedir (d);
  assert_int_equal (entries, 0);

  /* a dangling symlink as mount destination is followed inside the rootfs, never on the host */
  cleanup_free char *link = xasprintf ("%s/escape", E.rootfs);
  cleanup_free char *marker = xasprintf ("%s/host-target", E.dir);
  assert_int_equal (symlink (marker, link), 0);
  cleanup_json json_t *spec3 = make_spec ("testhelper", "stat", "/escape/", NULL);
  json_array_append_new (json_object_get (spec3, "mounts"),
                         json_pack ("{s:s,s:s,s:s,s:[s]}", "destination", "/escape", "type",
                                    "tmpfs", "source", "tmpfs", "options", "size=1m"));
  ret = run (spec3, &r, &err);
  unlink (link);
  if (ret < 0)
    fail_msg ("rt_spawn: %s", err.msg);
  assert_int_equal (access (marker, F_OK), -1); /* nothing on the host */
  assert_non_null (strstr (r.out, "/escape/: type=directory mode=1777"));
  result_release (&r);
  cleanup_free char *inside = xasprintf ("%s%s", E.rootfs, marker);
  struct stat st;
  assert_int_equal (stat (inside, &st), 0); /* created where the link points, in the rootfs */
  cleanup_free char *tmpdir = xasprintf ("%s/tmp", E.rootfs);
  fs_rm_rf (tmpdir, &err);
  assert_int_equal (mkdir (tmpdir, 01777), 0);
}

static void test_terminal (void **state)
{
  (void)state;
  NEED_ENV ();
  cleanup_json json_t *spec = make_spec ("sh", "-c",
                                         "testhelper isatty; testhelper winsize; "
                                         "testhelper stat /dev/console",
                                         NULL);
  json_object_set_new (jpath (spec, "process", NULL), "terminal", json_true ());
  json_object_set_new (jpath (spec, "process", NULL), "consoleSize",
                       json_pack ("{s:i,s:i}", "height", 24, "width", 80));
  struct rt_io io = { -1, -1, -1, -1, false, { 0 } };
  struct rt_spawn_opts o = { spec, &io, NULL, NULL, NULL, NULL, NULL, NULL };
  struct rt_proc p;
  berr_t err = BERR_INIT;
  if (rt_spawn (&o, &p, &err) < 0)
    fail_msg ("rt_spawn: %s", err.msg);
  assert_true (io.pty_master >= 0);
  assert_true (isatty (io.pty_master));
  struct sbuf b;
  sbuf_init (&b);
  char buf[1024];
  ssize_t n;
  while ((n = read (io.pty_master, buf, sizeof buf)) > 0 || (n < 0 && errno == EINTR))
    if (n > 0)
      sbuf_add (&b, buf, (size_t)n);
  int status;
  wait_proc (&p, &status);
  close (io.pty_master);
  assert_true (WIFEXITED (status) && WEXITSTATUS (status) == 0);
  assert_non_null (strstr (b.buf, "stdin=tty stdout=tty stderr=tty\r\n"));
  assert_non_null (strstr (b.buf, "rows=24 cols=80\r\n"));
  assert_non_null (strstr (b.buf, "/dev/console: type=char"));
  assert_non_null (strstr (b.buf, "rdev=136:"));
  sbuf_release (&b);
}

static json_t *exec_process (const char *arg0, ...)
{
  json_t *args = json_array ();
  va_list ap;
  va_start (ap, arg0);
  for (const char *a = arg0; a; a = va_arg (ap, const char *))
    json_array_append_new (args, json_string (a));
  va_end (ap);
  return json_pack ("{s:o,s:[s],s:s,s:{s:i,s:i},s:o}", "args", args, "env",
                    "PATH=/usr/sbin:/usr/bin:/sbin:/bin", "cwd", "/", "user", "uid", 0, "gid", 0,
                    "capabilities", docker_capabilities ());
}

static int exec_collect (json_t *spec, struct rt_proc *target, json_t *process, bool privileged,
                         struct result *r, berr_t *err)
{
  int out[2];
  memset (r, 0, sizeof *r);
  assert_int_equal (pipe2 (out, O_CLOEXEC), 0);
  struct rt_io io = { -1, out[1], out[1], -1, false, { 0 } };
  struct rt_exec_opts eo
      = { spec, process, privileged, target->pid, target->pidfd, &io, NULL, NULL };
  struct rt_proc p;
  int ret = rt_exec (&eo, &p, err);
  close (out[1]);
  if (ret == 0)
    {
      r->out = slurp_fd (out[0]);
      wait_proc (&p, &r->status);
    }
  close (out[0]);
  return ret;
}

static void test_exec_into_running (void **state)
{
  (void)state;
  NEED_ENV ();
  cleanup_json json_t *spec = make_spec ("testhelper", "sleep", "60", NULL);
  json_object_set_new (jpath (spec, "linux", NULL), "seccomp", keyctl_profile (false, 0));
  struct rt_io io = { -1, -1, -1, -1, false, { 0 } };
  struct rt_spawn_opts o = { spec, &io, NULL, NULL, NULL, NULL, NULL, NULL };
  struct rt_proc target;
  berr_t err = BERR_INIT;
  if (rt_spawn (&o, &target, &err) < 0)
    fail_msg ("rt_spawn: %s", err.msg);
  assert_true (target.start_time > 0);
  assert_int_equal (rt_proc_start_time (target.pid), target.start_time);
  /* field 22 of /proc/<pid>/stat, counted independently: 20 fields after "(comm)" */
  cleanup_free char *statpath = xasprintf ("/proc/%d/stat", target.pid);
  cleanup_free char *stat = read_text (statpath);
  char *f = strrchr (stat, ')');
  assert_non_null (f);
  for (int i = 0; i < 20; i++)
    f = strchr (f + 1, ' ');
  assert_non_null (f);
  assert_int_equal (strtoull (f + 1, NULL, 10), target.start_time);

  struct result r;
  cleanup_json json_t *p1 = exec_process ("sh", "-c",
                                          "testhelper hostname; testhelper pid; "
                                          "testhelper security; testhelper caps; "
                                          "testhelper syscall-probe keyctl; ls /proc",
                                          NULL);
  int ret = exec_collect (spec, &target, p1, false, &r, &err);
  if (ret < 0)
    fail_msg ("rt_exec: %s", err.msg);
  assert_true (WIFEXITED (r.status) && WEXITSTATUS (r.status) == 0);
  assert_non_null (strstr (r.out, "rt-test\n"));
  /* the exec'd shell is pid 2 or so, its parent (berth) outside the namespace */
  assert_non_null (strstr (r.out, "ppid=2\n"));
  assert_non_null (strstr (r.out, "Seccomp:\t2\n"));
  assert_non_null (strstr (r.out, "keyctl: EPERM\n"));
  assert_non_null (strstr (r.out, "CapEff:\t00000000a80425fb\n"));
  result_release (&r);

  /* privileged: every capability, no filter */
  cleanup_json json_t *p2 = exec_process ("sh", "-c", "testhelper security; testhelper caps", NULL);
  assert_int_equal (exec_collect (spec, &target, p2, true, &r, &err), 0);
  assert_non_null (strstr (r.out, "Seccomp:\t0\n"));
  char bnd[64];
  cleanup_free char *self = read_text ("/proc/self/status");
  char *hb = strstr (self, "CapBnd:\t");
  assert_non_null (hb);
  snprintf (bnd, sizeof bnd, "CapEff:\t%.16s\n", hb + 8);
  assert_non_null (strstr (r.out, bnd));
  result_release (&r);

  /* errors come back the same way as for a container's init */
  cleanup_json json_t *p3 = exec_process ("nope", NULL);
  assert_int_equal (exec_collect (spec, &target, p3, false, &r, &err), -1);
  assert_int_equal (err.kind, BERR_EXEC);
  assert_string_equal (err.msg, "exec: \"nope\": executable file not found in $PATH");
  berr_release (&err);

  /* a terminal for exec */
  cleanup_json json_t *p4
      = exec_process ("sh", "-c", "testhelper isatty; testhelper winsize", NULL);
  json_object_set_new (p4, "terminal", json_true ());
  struct rt_io tio = { -1, -1, -1, -1, true, { .ws_row = 33, .ws_col = 101 } };
  struct rt_exec_opts eo = { spec, p4, false, target.pid, target.pidfd, &tio, NULL, NULL };
  struct rt_proc ep;
  if (rt_exec (&eo, &ep, &err) < 0)
    fail_msg ("rt_exec: %s", err.msg);
  char *tout = slurp_fd (tio.pty_master);
  int status;
  wait_proc (&ep, &status);
  close (tio.pty_master);
  assert_string_equal (tout, "stdin=tty stdout=tty stderr=tty\r\nrows=33 cols=101\r\n");
  free (tout);

  kill (target.pid, SIGKILL);
  wait_proc (&target, &status);
  assert_true (WIFSIGNALED (status));
  assert_int_equal (rt_proc_start_time (target.pid), 0);
}

/* CVE-2019-5736: a payload that re-executes /proc/self/exe gets the sealed trampoline, never
 * the runtime's binary. */
static void test_proc_self_exe (void **state)
{
  (void)state;
  NEED_ENV ();
  cleanup_free char *script = xasprintf ("%s/selfexe", E.rootfs);
  write_text (script, "#!/proc/self/exe\n", 0755);
  cleanup_json json_t *spec = make_spec ("/selfexe", NULL);
  /* stderr is a full pipe: the process blocks in its first write, so it can be looked at */
  int errp[2];
  assert_int_equal (pipe2 (errp, O_CLOEXEC | O_NONBLOCK), 0);
  char fill[4096];
  memset (fill, 'x', sizeof fill);
  size_t filled = 0;
  ssize_t n;
  while ((n = write (errp[1], fill, sizeof fill)) > 0)
    filled += (size_t)n;
  int fl = fcntl (errp[1], F_GETFL);
  fcntl (errp[1], F_SETFL, fl & ~O_NONBLOCK);
  struct rt_io io = { -1, -1, errp[1], -1, false, { 0 } };
  struct rt_spawn_opts o = { spec, &io, NULL, NULL, NULL, NULL, NULL, NULL };
  struct rt_proc p;
  berr_t err = BERR_INIT;
  int ret = rt_spawn (&o, &p, &err);
  close (errp[1]);
  unlink (script);
  if (ret < 0)
    fail_msg ("rt_spawn: %s", err.msg);

  char path[64], target[PATH_MAX] = "", self[PATH_MAX] = "";
  snprintf (path, sizeof path, "/proc/%d/exe", p.pid);
  /* the kernel has switched the image by the time the exec was reported */
  assert_true (readlink (path, target, sizeof target - 1) > 0);
  assert_true (readlink ("/proc/self/exe", self, sizeof self - 1) > 0);
  assert_string_not_equal (target, self);
  assert_true (str_has_prefix (target, "/memfd:berth-trampoline"));
  int wfd = open (path, O_WRONLY | O_CLOEXEC);
  if (wfd >= 0)
    {
      int seals = fcntl (wfd, F_GET_SEALS);
      assert_true (seals >= 0 && (seals & F_SEAL_WRITE));
      assert_true (write (wfd, "x", 1) < 0);
      close (wfd);
    }
  /* the same with the fd a container would keep: O_PATH, then reopened for writing */
  int pfd = open (path, O_PATH | O_CLOEXEC);
  assert_true (pfd >= 0);
  char via[64];
  snprintf (via, sizeof via, "/proc/self/fd/%d", pfd);
  wfd = open (via, O_WRONLY | O_CLOEXEC);
  if (wfd >= 0)
    {
      assert_true (write (wfd, "x", 1) < 0);
      close (wfd);
    }
  close (pfd);

  fcntl (errp[0], F_SETFL, fcntl (errp[0], F_GETFL) & ~O_NONBLOCK);
  char *all = slurp_fd (errp[0]);
  close (errp[0]);
  int status;
  wait_proc (&p, &status);
  assert_true (strlen (all) > filled);
  assert_string_equal (
      all + filled, "berth-trampoline: this program only runs a container's process for berth\n");
  free (all);
  assert_true (WIFEXITED (status));
  assert_int_equal (WEXITSTATUS (status), 127);
}

static int cmp_i64 (const void *a, const void *b)
{
  int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
  return x < y ? -1 : x > y;
}

/* Many spawns of /bin/true: nothing leaks (fds, mounts, children) and the median is printed. */
static void test_spawn_repeated (void **state)
{
  (void)state;
  NEED_ENV ();
  const char *env = getenv ("BERTH_RT_BENCH");
  int iters = env ? atoi (env) : 15;
  if (iters < 3)
    iters = 3;
  cleanup_json json_t *spec = make_spec ("/bin/true", NULL);
  int64_t *t = xcalloc ((size_t)iters, sizeof *t);
  for (int i = 0; i < iters; i++)
    {
      struct rt_io io = { -1, -1, -1, -1, false, { 0 } };
      struct rt_spawn_opts o = { spec, &io, NULL, NULL, NULL, NULL, NULL, NULL };
      struct rt_proc p;
      berr_t err = BERR_INIT;
      int64_t t0 = now_ns ();
      if (rt_spawn (&o, &p, &err) < 0)
        fail_msg ("rt_spawn: %s", err.msg);
      t[i] = now_ns () - t0;
      int status;
      wait_proc (&p, &status);
      assert_true (WIFEXITED (status) && WEXITSTATUS (status) == 0);
    }
  qsort (t, (size_t)iters, sizeof *t, cmp_i64);
  printf ("# rt_spawn /bin/true (mnt,pid,ipc,uts,net; Docker mounts): median %.3f ms, min %.3f, "
          "max %.3f over %d\n",
          (double)t[iters / 2] / 1e6, (double)t[0] / 1e6, (double)t[iters - 1] / 1e6, iters);
  free (t);
}

/* The container's cgroup: entered before the process runs, shown read-only at /sys/fs/cgroup
 * (v1/hybrid: its own directory of each hierarchy), and hidden behind a cgroup namespace. */
static void test_cgroup (void **state)
{
  (void)state;
  NEED_ENV ();
  enum cgroup_mode mode = cgroup_detect_mode ("/sys/fs/cgroup");
  if (mode != CGROUP_MODE_V1 && mode != CGROUP_MODE_HYBRID)
    {
      printf ("# not a v1/hybrid cgroup host: not run\n");
      return;
    }
  char parent[64];
  snprintf (parent, sizeof parent, "berth-rt-%d", (int)getpid ());
  struct cgroup_opts co = { NULL, parent };
  cleanup_json json_t *res = json_pack ("{s:{s:i}}", "pids", "limit", 7);
  struct cgroup *cg = NULL;
  berr_t err = BERR_INIT;
  if (cgroup_create (&co, "c1", res, &cg, &err) < 0)
    fail_msg ("cgroup_create: %s", err.msg);
  for (int cgns = 0; cgns < 2; cgns++)
    {
      cleanup_json json_t *spec = make_spec ("sh", "-c",
                                             "grep pids /proc/self/cgroup; "
                                             "cat /sys/fs/cgroup/pids/pids.max; "
                                             "testhelper write-file /sys/fs/cgroup/pids/x 1",
                                             NULL);
      if (cgns)
        json_array_append_new (json_object_get (jpath (spec, "linux", NULL), "namespaces"),
                               json_pack ("{s:s}", "type", "cgroup"));
      int out[2], errp[2];
      assert_int_equal (pipe2 (out, O_CLOEXEC), 0);
      assert_int_equal (pipe2 (errp, O_CLOEXEC), 0);
      struct rt_io io = { -1, out[1], errp[1], -1, false, { 0 } };
      struct rt_spawn_opts o = { spec, &io, cg, NULL, NULL, NULL, NULL, NULL };
      struct rt_proc p;
      if (rt_spawn (&o, &p, &err) < 0)
        fail_msg ("rt_spawn: %s", err.msg);
      close (out[1]);
      close (errp[1]);
      cleanup_free char *text = slurp_fd (out[0]);
      cleanup_free char *etext = slurp_fd (errp[0]);
      close (out[0]);
      close (errp[0]);
      int status;
      wait_proc (&p, &status);
      cleanup_free char *want
          = cgns ? xstrdup (":pids:/\n7\n") : xasprintf (":pids:/%s/c1\n7\n", parent);
      if (strstr (text, want) == NULL)
        fail_msg ("want \"%s\" in \"%s\"", want, text);
      assert_non_null (strstr (etext, "/sys/fs/cgroup/pids/x: EROFS"));
    }
  assert_int_equal (cgroup_destroy (cg, &err), 0);
  cgroup_free (cg);
  DIR *d = opendir ("/sys/fs/cgroup");
  struct dirent *de;
  while (d && (de = readdir (d)))
    {
      cleanup_free char *pd = xasprintf ("/sys/fs/cgroup/%s/%s", de->d_name, parent);
      rmdir (pd);
    }
  if (d)
    closedir (d);
}

/* A v2 cgroup (on a private cgroup2 mount of the one v2 hierarchy): the child is born in it
 * (clone3 CLONE_INTO_CGROUP). */
static void test_cgroup_v2_clone_into (void **state)
{
  (void)state;
  NEED_ENV ();
  cleanup_free char *root = xasprintf ("%s/cg2", E.dir);
  assert_int_equal (mkdir (root, 0755), 0);
  if (mount ("none", root, "cgroup2", 0, NULL) < 0)
    {
      printf ("# no cgroup2 here: not run\n");
      rmdir (root);
      return;
    }
  char parent[64];
  snprintf (parent, sizeof parent, "berth-rt-%d", (int)getpid ());
  struct cgroup_opts co = { root, parent };
  struct cgroup *cg = NULL;
  berr_t err = BERR_INIT;
  int ret = cgroup_create (&co, "c2", NULL, &cg, &err);
  if (ret == 0)
    {
      assert_true (cgroup_clone_fd (cg) >= 0);
      cleanup_json json_t *spec = make_spec ("sh", "-c", "grep ^0:: /proc/self/cgroup", NULL);
      struct result r;
      int out[2];
      assert_int_equal (pipe2 (out, O_CLOEXEC), 0);
      struct rt_io io = { -1, out[1], -1, -1, false, { 0 } };
      struct rt_spawn_opts o = { spec, &io, cg, NULL, NULL, NULL, NULL, NULL };
      struct rt_proc p;
      ret = rt_spawn (&o, &p, &err);
      close (out[1]);
      if (ret == 0)
        {
          r.out = slurp_fd (out[0]);
          wait_proc (&p, &r.status);
        }
      close (out[0]);
      if (ret == 0)
        {
          cleanup_free char *want = xasprintf ("0::/%s/c2\n", parent);
          int same = strcmp (r.out, want) == 0;
          if (!same)
            printf ("# got \"%s\", want \"%s\"\n", r.out, want);
          free (r.out);
          ret = same ? 0 : -1;
        }
      berr_t e2 = BERR_INIT;
      cgroup_destroy (cg, &e2);
      berr_release (&e2);
      cgroup_free (cg);
      cleanup_free char *pd = xasprintf ("%s/%s", root, parent);
      rmdir (pd);
    }
  umount2 (root, MNT_DETACH);
  rmdir (root);
  if (ret < 0)
    fail_msg ("%s", err.msg ? err.msg : "wrong cgroup");
}

/* Namespaces given by path are joined; the pid namespace through the caller, which must come
 * back unchanged. */
static void test_join_namespaces (void **state)
{
  (void)state;
  NEED_ENV ();
  cleanup_json json_t *spec = make_spec ("testhelper", "sleep", "60", NULL);
  struct rt_io io = { -1, -1, -1, -1, false, { 0 } };
  struct rt_spawn_opts o = { spec, &io, NULL, NULL, NULL, NULL, NULL, NULL };
  struct rt_proc target;
  berr_t err = BERR_INIT;
  if (rt_spawn (&o, &target, &err) < 0)
    fail_msg ("rt_spawn: %s", err.msg);
  char before[64] = "", after[64] = "";
  assert_true (readlink ("/proc/thread-self/ns/pid_for_children", before, sizeof before - 1) > 0);

  cleanup_json json_t *spec2 = make_spec ("sh", "-c", "echo $$; testhelper hostname", NULL);
  json_object_del (spec2, "hostname");
  cleanup_free char *pidns = xasprintf ("/proc/%d/ns/pid", target.pid);
  cleanup_free char *utsns = xasprintf ("/proc/%d/ns/uts", target.pid);
  json_object_set_new (jpath (spec2, "linux", NULL), "namespaces",
                       json_pack ("[{s:s},{s:s,s:s},{s:s,s:s},{s:s}]", "type", "mount", "type",
                                  "pid", "path", pidns, "type", "uts", "path", utsns, "type",
                                  "ipc"));
  struct result r;
  int ret = run (spec2, &r, &err);
  int status;
  kill (target.pid, SIGKILL);
  wait_proc (&target, &status);
  if (ret < 0)
    fail_msg ("rt_spawn: %s", err.msg);
  assert_true (readlink ("/proc/thread-self/ns/pid_for_children", after, sizeof after - 1) > 0);
  assert_string_equal (before, after);
  /* pid 2 of the sleeper's namespace (it is pid 1), and its hostname */
  assert_string_equal (r.out, "2\nrt-test\n");
  result_release (&r);
}

/* A new user namespace: the parent writes the maps, the child is root inside only, and device
 * nodes come from the host by bind (no mknod in a user namespace). */
static void test_user_namespace (void **state)
{
  (void)state;
  NEED_ENV ();
  cleanup_json json_t *spec = make_spec ("sh", "-c",
                                         "testhelper id; cat /proc/self/uid_map; "
                                         "testhelper stat /dev/null; echo hi > /dev/null && "
                                         "echo null-ok",
                                         NULL);
  json_array_append_new (json_object_get (jpath (spec, "linux", NULL), "namespaces"),
                         json_pack ("{s:s}", "type", "user"));
  json_t *map = json_pack ("[{s:i,s:i,s:i}]", "containerID", 0, "hostID", 0, "size", 1);
  json_array_append_new (
      map, json_pack ("{s:i,s:i,s:i}", "containerID", 1, "hostID", 100000, "size", 65535));
  json_object_set (jpath (spec, "linux", NULL), "uidMappings", map);
  json_object_set_new (jpath (spec, "linux", NULL), "gidMappings", map);
  struct result r;
  berr_t err = BERR_INIT;
  if (run (spec, &r, &err) < 0)
    fail_msg ("rt_spawn: %s", err.msg);
  assert_true (WIFEXITED (r.status) && WEXITSTATUS (r.status) == 0);
  assert_true (str_has_prefix (r.out, "uid=0 gid=0 groups=\n"));
  assert_non_null (strstr (r.out, "100000"));
  if (strstr (r.out, "/dev/null: type=char mode=0666 uid=0 gid=0 size=0 nlink=1 rdev=1:3\n")
      == NULL)
    fail_msg ("%s", r.out);
  assert_non_null (strstr (r.out, "null-ok\n"));
  result_release (&r);
}

/* linux.rootfsPropagation and per-mount propagation: the container sees what it asked for and
 * nothing reaches the host (the teardown compares the host's mount table). */
static void test_propagation (void **state)
{
  (void)state;
  NEED_ENV ();
  const char *modes[] = { "rslave", "shared", "rprivate", "private", NULL };
  /* rslave of a host whose / is private shows no master: only "not shared" is certain */
  const char *want[] = { NULL, "shared:", NULL, NULL };
  for (int i = 0; modes[i]; i++)
    {
      cleanup_json json_t *spec
          = make_spec ("sh", "-c", "awk '$5 == \"/\"' /proc/self/mountinfo", NULL);
      json_object_set_new (jpath (spec, "linux", NULL), "rootfsPropagation",
                           json_string (modes[i]));
      json_array_append_new (json_object_get (spec, "mounts"),
                             json_pack ("{s:s,s:s,s:s,s:[s,s]}", "destination", "/mnt", "type",
                                        "bind", "source", E.dir, "options", "rbind", "rshared"));
      struct result r;
      const char *out = run_ok (spec, &r);
      if (want[i] && strstr (out, want[i]) == NULL)
        fail_msg ("rootfsPropagation %s: %s", modes[i], out);
      if (!want[i] && (strstr (out, "shared:") || (i > 0 && strstr (out, "master:"))))
        fail_msg ("rootfsPropagation %s: %s", modes[i], out);
      result_release (&r);
    }
}

/* Kernels before 5.12 have no mount_setattr (before 5.2 no open_tree): the same container
 * through mount(2) alone.  A child of the test hides the new calls behind ENOSYS with a
 * seccomp filter, which its containers inherit. */
static int legacy_child (void)
{
  scmp_filter_ctx ctx = seccomp_init (SCMP_ACT_ALLOW);
  const char *calls[] = { "open_tree", "mount_setattr", "move_mount", NULL };
  for (const char **c = calls; *c; c++)
    if (seccomp_rule_add (ctx, SCMP_ACT_ERRNO (ENOSYS), seccomp_syscall_resolve_name (*c), 0) < 0)
      return 2;
  if (seccomp_load (ctx) < 0)
    return 3;
  seccomp_release (ctx);
  cleanup_free char *data = xasprintf ("%s/data", E.dir);
  cleanup_free char *f = xasprintf ("%s/data/f", E.dir);
  if (mkdir (data, 0755) < 0)
    return 4;
  write_text (f, "from-the-host\n", 0644);
  json_t *spec = make_spec ("sh", "-c",
                            "testhelper stat /proc/keys; cat /data/f; "
                            "testhelper write-file /proc/sys/kernel/hostname x; "
                            "testhelper write-file /x y; testhelper write-file /data/g y; "
                            "testhelper write-file /sys/fs/cgroup/pids/x 1; "
                            "testhelper write-file /dev/shm/ok y && echo shm-ok",
                            NULL);
  json_object_set_new (jpath (spec, "root", NULL), "readonly", json_true ());
  json_array_append_new (json_object_get (spec, "mounts"),
                         json_pack ("{s:s,s:s,s:s,s:[s,s]}", "destination", "/data", "type", "bind",
                                    "source", data, "options", "rbind", "ro"));
  struct result r;
  berr_t err = BERR_INIT;
  int ret = run (spec, &r, &err);
  json_decref (spec);
  if (ret < 0)
    {
      printf ("# rt_spawn: %s\n", err.msg);
      return 5;
    }
  const char *out_want[]
      = { "/proc/keys: type=char mode=0666 uid=0 gid=0 size=0 nlink=1 rdev=1:3\n",
          "from-the-host\n", "shm-ok\n", NULL };
  const char *err_want[] = { "/proc/sys/kernel/hostname: EROFS", "write-file: /x: EROFS",
                             "write-file: /data/g: EROFS", "/sys/fs/cgroup/pids/x: EROFS", NULL };
  int bad = 0;
  for (const char **w = out_want; *w; w++)
    bad += strstr (r.out, *w) == NULL;
  for (const char **w = err_want; *w; w++)
    bad += strstr (r.err, *w) == NULL;
  if (bad)
    printf ("# legacy mount path: stdout \"%s\" stderr \"%s\"\n", r.out, r.err);
  result_release (&r);
  return bad ? 6 : 0;
}

static void test_legacy_mount_api (void **state)
{
  (void)state;
  NEED_ENV ();
  fflush (stdout);
  pid_t pid = fork ();
  assert_true (pid >= 0);
  if (pid == 0)
    {
      int rc = legacy_child ();
      fflush (stdout);
      _exit (rc);
    }
  int status;
  assert_int_equal (waitpid (pid, &status, 0), pid);
  cleanup_free char *data = xasprintf ("%s/data", E.dir);
  berr_t err = BERR_INIT;
  fs_rm_rf (data, &err);
  assert_true (WIFEXITED (status));
  assert_int_equal (WEXITSTATUS (status), 0);
}

/* ---- seccomp_compile (no root needed) ----------------------------------------------------- */

static void test_seccomp_compile_cache (void **state)
{
  (void)state;
  char dir[] = "/tmp/berth-rt-sc-XXXXXX";
  assert_non_null (mkdtemp (dir));
  cleanup_json json_t *prof = keyctl_profile (true, 0);
  /* several conditions on one argument: one rule each (Docker's personality rules) */
  json_array_append_new (json_object_get (prof, "syscalls"),
                         json_pack ("{s:[s],s:s,s:[{s:i,s:i,s:s},{s:i,s:i,s:s}]}", "names",
                                    "personality", "action", "SCMP_ACT_ERRNO", "args", "index", 0,
                                    "value", 8, "op", "SCMP_CMP_EQ", "index", 0, "value", 0x20000,
                                    "op", "SCMP_CMP_EQ"));
  struct seccomp_prog a = { 0 }, b = { 0 };
  berr_t err = BERR_INIT;
  assert_int_equal (seccomp_compile (prof, dir, &a, &err), 0);
  assert_true (a.len > 4);
  cleanup_free char *canon = json_dumps (prof, JSON_SORT_KEYS | JSON_COMPACT);
  cleanup_free char *sdir = xasprintf ("%s/seccomp", dir);
  DIR *d = opendir (sdir);
  assert_non_null (d);
  struct dirent *de;
  char name[256] = "";
  while ((de = readdir (d)))
    if (de->d_name[0] != '.')
      snprintf (name, sizeof name, "%s", de->d_name);
  closedir (d);
  /* <16 hex digits of the key's hash>-<key length> */
  assert_true (strlen (name) > 17 && name[16] == '-');
  assert_true (str_is_hex (name, 16));
  /* the entry holds the key (which names the JSON), a NUL, then the program */
  cleanup_free char *cpath = xasprintf ("%s/%s", sdir, name);
  cleanup_free char *entry = NULL;
  size_t elen = 0;
  assert_int_equal (fs_read_file (cpath, 1 << 24, &entry, &elen, &err), 0);
  size_t klen = strlen (entry) + 1;
  assert_non_null (strstr (entry, canon));
  assert_int_equal (elen - klen, (size_t)a.len * sizeof *a.filter);
  /* the second compile reads the cache: make the cached program recognisable */
  struct sock_filter ret_allow[1] = { BPF_STMT (BPF_RET | BPF_K, 0x7fff0000) };
  cleanup_free char *forged = xmalloc (klen + sizeof ret_allow);
  memcpy (forged, entry, klen);
  memcpy (forged + klen, ret_allow, sizeof ret_allow);
  assert_int_equal (fs_write_atomic (cpath, forged, klen + sizeof ret_allow, 0600, &err), 0);
  assert_int_equal (seccomp_compile (prof, dir, &b, &err), 0);
  assert_int_equal (b.len, 1);
  seccomp_prog_release (&b);
  /* an entry whose key differs (a hash collision) is not used */
  forged[5] ^= 1;
  assert_int_equal (fs_write_atomic (cpath, forged, klen + sizeof ret_allow, 0600, &err), 0);
  assert_int_equal (seccomp_compile (prof, dir, &b, &err), 0);
  assert_int_equal (b.len, a.len);
  seccomp_prog_release (&b);
  /* a damaged cache entry is ignored */
  assert_int_equal (fs_write_atomic (cpath, "abc", 3, 0600, &err), 0);
  assert_int_equal (seccomp_compile (prof, dir, &b, &err), 0);
  assert_int_equal (b.len, a.len);
  assert_memory_equal (a.filter, b.filter, (size_t)a.len * sizeof *a.filter);
  seccomp_prog_release (&a);
  seccomp_prog_release (&b);
  fs_rm_rf (dir, &err);

  cleanup_json json_t *bad = json_pack ("{s:s}", "defaultAction", "SCMP_ACT_EXPLODE");
  assert_int_equal (seccomp_compile (bad, NULL, &a, &err), -1);
  assert_int_equal (err.kind, BERR_INVALID);
  assert_non_null (strstr (err.msg, "SCMP_ACT_EXPLODE"));
  berr_release (&err);
  cleanup_json json_t *badop
      = json_pack ("{s:s,s:[{s:[s],s:s,s:[{s:i,s:i,s:s}]}]}", "defaultAction", "SCMP_ACT_ALLOW",
                   "syscalls", "names", "read", "action", "SCMP_ACT_ERRNO", "args", "index", 0,
                   "value", 1, "op", "SCMP_CMP_SOMETIMES");
  assert_int_equal (seccomp_compile (badop, NULL, &a, &err), -1);
  assert_non_null (strstr (err.msg, "SCMP_CMP_SOMETIMES"));
  berr_release (&err);
}

static void test_invalid_specs (void **state)
{
  (void)state;
  NEED_ENV ();
  struct result r;
  berr_t err = BERR_INIT;
  cleanup_json json_t *s1 = make_spec ("true", NULL);
  json_object_set_new (jpath (s1, "process", NULL), "args", json_array ());
  assert_int_equal (run (s1, &r, &err), -1);
  assert_int_equal (err.kind, BERR_INVALID);
  berr_release (&err);
  cleanup_json json_t *s2 = make_spec ("true", NULL);
  json_object_set_new (jpath (s2, "linux", NULL), "namespaces",
                       json_pack ("[{s:s}]", "type", "pid"));
  assert_int_equal (run (s2, &r, &err), -1);
  assert_non_null (strstr (err.msg, "mount namespace"));
  berr_release (&err);
  /* a mount over /proc that is not procfs (CVE-2019-16884) */
  cleanup_json json_t *s3 = make_spec ("true", NULL);
  json_array_append_new (json_object_get (s3, "mounts"),
                         json_pack ("{s:s,s:s,s:s,s:[s]}", "destination", "/proc", "type", "bind",
                                    "source", E.dir, "options", "rbind"));
  assert_int_equal (run (s3, &r, &err), -1);
  assert_non_null (strstr (err.msg, "only a proc filesystem"));
  berr_release (&err);
}

/* ---- OCI hooks (src/runtime/hooks.c) ------------------------------------------------------ */

/* A host-side hook: records its stdin, its exact environment (from /proc, so the shell adds
 * nothing) and its argv under prefix $1; with $2, leaves a marker in directory $2. */
static const char hook_script[]
    = "#!/bin/sh\n"
      "/bin/cat > \"$1.stdin\"\n"
      "/usr/bin/tr '\\0' '\\n' < /proc/$$/environ > \"$1.env\"\n"
      "echo \"$0 $*\" > \"$1.args\"\n"
      "if [ -n \"$2\" ]; then echo hook-was-here > \"$2/marker\" || exit 9; fi\n"
      "exit 0\n";

static json_t *hook (const char *path, const char *env, int timeout, ...)
{
  json_t *h = json_pack ("{s:s}", "path", path);
  json_t *args = json_array ();
  va_list ap;
  va_start (ap, timeout);
  for (const char *a = va_arg (ap, const char *); a; a = va_arg (ap, const char *))
    json_array_append_new (args, json_string (a));
  va_end (ap);
  json_object_set_new (h, "args", args);
  if (env)
    json_object_set_new (h, "env", json_pack ("[s]", env));
  if (timeout)
    json_object_set_new (h, "timeout", json_integer (timeout));
  return h;
}

static void add_hook (json_t *spec, const char *stage, json_t *h)
{
  json_t *hooks = json_object_get (spec, "hooks");
  if (hooks == NULL)
    json_object_set_new (spec, "hooks", hooks = json_object ());
  json_t *list = json_object_get (hooks, stage);
  if (list == NULL)
    json_object_set_new (hooks, stage, list = json_array ());
  json_array_append_new (list, h);
}

static int spawn_with_id (json_t *spec, struct result *r, berr_t *err)
{
  int out[2], errp[2];
  memset (r, 0, sizeof *r);
  assert_int_equal (pipe2 (out, O_CLOEXEC), 0);
  assert_int_equal (pipe2 (errp, O_CLOEXEC), 0);
  struct rt_io io = { -1, out[1], errp[1], -1, false, { 0 } };
  struct rt_spawn_opts o = { spec, &io, NULL, NULL, NULL, NULL, "hooktest-id", E.dir };
  struct rt_proc p;
  int ret = rt_spawn (&o, &p, err);
  close (out[1]);
  close (errp[1]);
  if (ret == 0)
    {
      r->out = slurp_fd (out[0]);
      r->err = slurp_fd (errp[0]);
      wait_proc (&p, &r->status);
    }
  close (out[0]);
  close (errp[0]);
  return ret;
}

static void test_hooks (void **state)
{
  (void)state;
  NEED_ENV ();
  cleanup_free char *script = xasprintf ("%s/hook.sh", E.dir);
  write_text (script, hook_script, 0755);
  cleanup_free char *rt = xasprintf ("%s/rt", E.dir);
  cleanup_free char *cc = xasprintf ("%s/cc", E.dir);
  cleanup_free char *ps = xasprintf ("%s/ps", E.dir);
  cleanup_free char *marker_dir = xasprintf ("%s/hookmnt", E.rootfs);
  cleanup_json json_t *spec
      = make_spec ("sh", "-c", "cat /hookmnt/marker /hookmnt/started; echo $HOOKVAR", NULL);
  /* a tmpfs only the container's mount namespace has: the createContainer hook writes into it
   * through the host path of the rootfs, before pivot_root */
  json_array_append_new (
      json_object_get (spec, "mounts"),
      json_pack ("{s:s, s:s, s:s}", "destination", "/hookmnt", "type", "tmpfs", "source", "tmpfs"));
  add_hook (spec, "createRuntime", hook (script, "HOOKVAR=rt", 0, "hook.sh", rt, NULL));
  add_hook (spec, "createContainer", hook (script, NULL, 10, "hook.sh", cc, marker_dir, NULL));
  /* startContainer resolves in the container: busybox there, no env at all */
  add_hook (spec, "startContainer",
            hook ("/bin/sh", NULL, 0, "sh", "-c", "echo started > /hookmnt/started", NULL));
  add_hook (spec, "poststart", hook (script, "A=1", 0, "hook.sh", ps, NULL));
  struct result r;
  berr_t err = BERR_INIT;
  if (spawn_with_id (spec, &r, &err) < 0)
    fail_msg ("rt_spawn: %s", err.msg);
  assert_int_equal (r.status, 0);
  /* both hooks in the container's view ran; the hook's env never reached the payload */
  assert_string_equal (r.out, "hook-was-here\nstarted\n\n");
  result_release (&r);

  /* createRuntime: the state on stdin, exactly its own env, its argv */
  cleanup_free char *p = xasprintf ("%s.stdin", rt);
  cleanup_free char *st = read_text (p);
  cleanup_json json_t *sj = json_loads (st, 0, NULL);
  assert_non_null (sj);
  assert_string_equal (json_string_value (json_object_get (sj, "ociVersion")), "1.0.2");
  assert_string_equal (json_string_value (json_object_get (sj, "id")), "hooktest-id");
  assert_string_equal (json_string_value (json_object_get (sj, "status")), "creating");
  assert_string_equal (json_string_value (json_object_get (sj, "bundle")), E.dir);
  assert_string_equal (json_string_value (json_object_get (sj, "root")), E.rootfs);
  assert_true (json_integer_value (json_object_get (sj, "pid")) > 1);
  free (p);
  p = xasprintf ("%s.env", rt);
  cleanup_free char *env = read_text (p);
  assert_string_equal (env, "HOOKVAR=rt\n");
  free (p);
  p = xasprintf ("%s.args", rt);
  cleanup_free char *args = read_text (p);
  cleanup_free char *want_args = xasprintf ("%s %s\n", script, rt);
  assert_string_equal (args, want_args);
  /* createContainer: no env in the spec, so none at all (not the container's, not ours) */
  free (p);
  p = xasprintf ("%s.env", cc);
  cleanup_free char *ccenv = read_text (p);
  assert_string_equal (ccenv, "");
  free (p);
  p = xasprintf ("%s.stdin", cc);
  cleanup_free char *ccst = read_text (p);
  assert_non_null (strstr (ccst, "\"status\":\"creating\""));
  free (p);
  /* poststart: after the payload started, "running" */
  p = xasprintf ("%s.stdin", ps);
  cleanup_free char *psst = read_text (p);
  assert_non_null (strstr (psst, "\"status\":\"running\""));
  free (p);
  /* the marker went into the container's tmpfs, not the rootfs directory */
  p = xasprintf ("%s/marker", marker_dir);
  assert_int_equal (access (p, F_OK), -1);
  free (p);

  /* poststop, through the engine's entry point */
  cleanup_free char *pst = xasprintf ("%s/pst", E.dir);
  cleanup_json json_t *stop = make_spec ("true", NULL);
  add_hook (stop, "poststop", hook (script, "Z=9", 0, "hook.sh", pst, NULL));
  assert_int_equal (rt_run_poststop_hooks (stop, "c1", E.dir, &err), 0);
  p = xasprintf ("%s.stdin", pst);
  cleanup_free char *pstst = read_text (p);
  assert_non_null (strstr (pstst, "\"status\":\"stopped\""));
  assert_null (strstr (pstst, "\"pid\""));
  free (p);
  p = xasprintf ("%s.env", pst);
  cleanup_free char *pstenv = read_text (p);
  assert_string_equal (pstenv, "Z=9\n");
}

static void test_hook_failures (void **state)
{
  (void)state;
  NEED_ENV ();
  cleanup_free char *fail = xasprintf ("%s/fail.sh", E.dir);
  write_text (fail, "#!/bin/sh\necho boom >&2\nexit 3\n", 0755);
  struct result r;
  berr_t err = BERR_INIT;
  /* a failing createRuntime hook: the start fails naming it, nothing is left running */
  cleanup_json json_t *s1 = make_spec ("true", NULL);
  add_hook (s1, "createRuntime", hook (fail, NULL, 0, "fail.sh", NULL));
  assert_int_equal (spawn_with_id (s1, &r, &err), -1);
  cleanup_free char *want = xasprintf ("createRuntime hook %s: exit status 3: boom", fail);
  assert_string_equal (err.msg, want);
  berr_release (&err);
  /* a createContainer hook past its timeout is killed */
  cleanup_json json_t *s2 = make_spec ("true", NULL);
  add_hook (s2, "createContainer", hook ("/bin/sleep", NULL, 1, "sleep", "30", NULL));
  int64_t t0 = now_ns ();
  assert_int_equal (spawn_with_id (s2, &r, &err), -1);
  assert_true (now_ns () - t0 < 5000000000LL);
  assert_string_equal (err.msg, "createContainer hook /bin/sleep: timed out after 1 s");
  berr_release (&err);
  /* a startContainer hook that does not exist in the container */
  cleanup_json json_t *s3 = make_spec ("true", NULL);
  add_hook (s3, "startContainer", hook ("/no/such/hook", NULL, 0, "x", NULL));
  assert_int_equal (spawn_with_id (s3, &r, &err), -1);
  assert_string_equal (err.msg, "startContainer hook /no/such/hook: No such file or directory");
  berr_release (&err);
  /* a hook that leaves a process holding its output behind: done when the hook exits */
  cleanup_json json_t *s7 = make_spec ("true", NULL);
  add_hook (s7, "createRuntime",
            hook ("/bin/sh", NULL, 0, "sh", "-c", "/bin/sleep 3 & exit 0", NULL));
  t0 = now_ns ();
  if (spawn_with_id (s7, &r, &err) < 0)
    fail_msg ("%s", err.msg);
  assert_true (now_ns () - t0 < 2000000000LL);
  result_release (&r);
  /* a failing poststart hook is only a warning: the container runs */
  cleanup_json json_t *s4 = make_spec ("true", NULL);
  add_hook (s4, "poststart", hook (fail, NULL, 0, "fail.sh", NULL));
  if (spawn_with_id (s4, &r, &err) < 0)
    fail_msg ("poststart failure must not fail the start: %s", err.msg);
  assert_int_equal (r.status, 0);
  result_release (&r);
  /* invalid hook entries are spec errors */
  cleanup_json json_t *s5 = make_spec ("true", NULL);
  add_hook (s5, "createRuntime", hook ("relative", NULL, 0, "x", NULL));
  assert_int_equal (spawn_with_id (s5, &r, &err), -1);
  assert_string_equal (err.msg, "hooks.createRuntime[0].path must be an absolute path");
  berr_release (&err);
  cleanup_json json_t *s6 = make_spec ("true", NULL);
  add_hook (s6, "preStart", hook (fail, NULL, 0, "x", NULL));
  assert_int_equal (spawn_with_id (s6, &r, &err), -1);
  assert_string_equal (err.msg, "hooks: unknown hook kind \"preStart\"");
  berr_release (&err);
}

/* What cdi_apply writes is what this runtime reads: a node completed from a mknod'ed fake
 * NVIDIA node (195:0), a file bind mount with CDI's usual options, env and a hook. */
static void test_cdi_applied_spec (void **state)
{
  (void)state;
  NEED_ENV ();
  cleanup_free char *node = xasprintf ("%s/nvidia0", E.dir);
  cleanup_free char *lib = xasprintf ("%s/libcuda.so.1", E.dir);
  assert_int_equal (mknod (node, S_IFCHR | 0666, makedev (195, 0)), 0);
  assert_int_equal (chmod (node, 0666), 0);
  write_text (lib, "fake libcuda\n", 0644);
  cleanup_json json_t *cdi = json_pack (
      "{s:s, s:s, s:[{s:s, s:{s:[{s:s, s:s}]}}], s:{s:[s], s:[{s:s, s:s, s:[s,s,s,s]}]}}",
      "cdiVersion", "0.5.0", "kind", "nvidia.com/gpu", "devices", "name", "0", "containerEdits",
      "deviceNodes", "path", "/dev/nvidia0", "hostPath", node, "containerEdits", "env",
      "HOSTNAME=from-cdi", "mounts", "hostPath", lib, "containerPath", "/usr/lib/libcuda.so.1",
      "options", "ro", "nosuid", "nodev", "bind");
  struct cdi_registry *reg = NULL;
  berr_t err = BERR_INIT;
  char *none[] = { NULL };
  assert_int_equal (cdi_registry_load (none, &reg, &err), 0);
  if (cdi_registry_add (reg, cdi, "test", &err) < 0)
    fail_msg ("%s", err.msg);
  cleanup_json json_t *spec
      = make_spec ("sh", "-c",
                   "ls -l /dev/nvidia0 | cut -c1-10; cat /usr/lib/libcuda.so.1; echo $HOSTNAME; "
                   "echo x >> /usr/lib/libcuda.so.1 || echo read-only; (exec 3<>/dev/nvidia0) || "
                   "echo open-failed",
                   NULL);
  char *devs[] = { "nvidia.com/gpu=0", NULL };
  if (cdi_apply (reg, devs, spec, &err) < 0)
    fail_msg ("%s", err.msg);
  cdi_registry_free (reg);
  struct result r;
  if (run (spec, &r, &err) < 0)
    fail_msg ("rt_spawn: %s", err.msg);
  assert_string_equal (r.out, "crw-rw-rw-\nfake libcuda\nfrom-cdi\nread-only\nopen-failed\n");
  /* no driver behind 195:0 and no device cgroup here: ENXIO, the answer the GPU tests expect
   * once the cgroup rule lets the open through */
  assert_non_null (strstr (r.err, "No such device or address"));
  result_release (&r);
  unlink (node);
}

int main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_seccomp_compile_cache),
    cmocka_unit_test_setup_teardown (test_hostname_and_env, setup, teardown),
    cmocka_unit_test_setup_teardown (test_user_and_groups, setup, teardown),
    cmocka_unit_test_setup_teardown (test_capabilities, setup, teardown),
    cmocka_unit_test_setup_teardown (test_security_nnp_seccomp, setup, teardown),
    cmocka_unit_test_setup_teardown (test_docker_default_seccomp, setup, teardown),
    cmocka_unit_test_setup_teardown (test_masked_and_readonly, setup, teardown),
    cmocka_unit_test_setup_teardown (test_dev, setup, teardown),
    cmocka_unit_test_setup_teardown (test_fds_and_cwd, setup, teardown),
    cmocka_unit_test_setup_teardown (test_rlimits, setup, teardown),
    cmocka_unit_test_setup_teardown (test_readonly_root_sysctl, setup, teardown),
    cmocka_unit_test_setup_teardown (test_exec_errors, setup, teardown),
    cmocka_unit_test_setup_teardown (test_setup_errors, setup, teardown),
    cmocka_unit_test_setup_teardown (test_invalid_specs, setup, teardown),
    cmocka_unit_test_setup_teardown (test_terminal, setup, teardown),
    cmocka_unit_test_setup_teardown (test_exec_into_running, setup, teardown),
    cmocka_unit_test_setup_teardown (test_proc_self_exe, setup, teardown),
    cmocka_unit_test_setup_teardown (test_propagation, setup, teardown),
    cmocka_unit_test_setup_teardown (test_legacy_mount_api, setup, teardown),
    cmocka_unit_test_setup_teardown (test_cgroup, setup, teardown),
    cmocka_unit_test_setup_teardown (test_cgroup_v2_clone_into, setup, teardown),
    cmocka_unit_test_setup_teardown (test_join_namespaces, setup, teardown),
    cmocka_unit_test_setup_teardown (test_user_namespace, setup, teardown),
    cmocka_unit_test_setup_teardown (test_spawn_repeated, setup, teardown),
    cmocka_unit_test_setup_teardown (test_hooks, setup, teardown),
    cmocka_unit_test_setup_teardown (test_hook_failures, setup, teardown),
    cmocka_unit_test_setup_teardown (test_cdi_applied_spec, setup, teardown),
  };
  return cmocka_run_group_tests (tests, group_setup, group_teardown);
}
