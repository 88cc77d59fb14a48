/* test_spec.c — Docker's container configuration -> OCI runtime spec (src/container/spec*.c,
 * user.c, merge.c): the generated JSON for many flag combinations, user resolution inside a
 * temporary rootfs (including a symlinked /etc/passwd pointing at a host file), the image
 * merge rules and exec's process object.  test_spec_run.c runs generated specs under runc and
 * crun. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <linux/capability.h>
#include <sys/resource.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "container/spec.h"
#include "container/spec_int.h"
#include "runtime/caps.h"
#include "util/fs.h"
#include "util/json.h"

static const char ID[] = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
static char *g_dir;    /* temp dir of this run */
static char *g_rootfs; /* g_dir/rootfs: /etc/passwd and /etc/group below */

static const char passwd_text[] = "root:x:0:0:root:/root:/bin/sh\n"
                                  "daemon:x:1:1::/:/bin/false\n"
                                  "  berth:x:1000:1000::/home/berth:/bin/sh  \n"
                                  "\n"
                                  "odd:x:notanumber:alsonot::/:/bin/sh\n"
                                  "nobody:x:65534:65534::/:/bin/false\n";
static const char group_text[] = "root:x:0:\n"
                                 "wheel:x:10:root,berth\n"
                                 "berth:x:1000:\n"
                                 "audio:x:29:daemon,berth\n"
                                 "# comment:x:5:berth\n"
                                 "nogroup:x:65534:\n";

/* ----------------------------------------------------------------------------- helpers */

static void write_file (const char *path, const char *text)
{
  FILE *f = fopen (path, "we");
  assert_non_null (f);
  fputs (text, f);
  fclose (f);
}

static char *mkpath (const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  char *p = xvasprintf (fmt, ap);
  va_end (ap);
  return p;
}

static json_t *jparse (const char *text)
{
  json_error_t je;
  json_t *j = json_loads (text, 0, &je);
  if (!j)
    fail_msg ("bad test JSON %s: %s", text, je.text);
  return j;
}

/* "a.b.3.c": object keys and array indexes. */
static json_t *jget (json_t *j, const char *path)
{
  cleanup_free char *copy = xstrdup (path);
  char *save = NULL;
  for (char *t = strtok_r (copy, ".", &save); t && j; t = strtok_r (NULL, ".", &save))
    {
      if (json_is_array (j))
        j = json_array_get (j, (size_t)atoi (t));
      else
        j = json_object_get (j, t);
    }
  return j;
}

static json_int_t jint (json_t *j, const char *path)
{
  json_t *v = jget (j, path);
  if (!json_is_integer (v))
    fail_msg ("%s is not an integer", path);
  return json_integer_value (v);
}

static const char *jstr (json_t *j, const char *path)
{
  json_t *v = jget (j, path);
  if (!json_is_string (v))
    fail_msg ("%s is not a string", path);
  return json_string_value (v);
}

/* The array at path equals the list given as one space-separated string ("" = empty). */
static void assert_strs (json_t *j, const char *path, const char *expected)
{
  json_t *arr = jget (j, path);
  if (!json_is_array (arr))
    fail_msg ("%s is not an array", path);
  cleanup_free char *joined = xstrdup ("");
  size_t i;
  json_t *v;
  json_array_foreach (arr, i, v)
  {
    char *n = xasprintf ("%s%s%s", joined, i ? " " : "", json_string_value (v));
    free (joined);
    joined = n;
  }
  assert_string_equal (joined, expected);
}

static void assert_ints (json_t *j, const char *path, const char *expected)
{
  json_t *arr = jget (j, path);
  if (!json_is_array (arr))
    fail_msg ("%s is not an array", path);
  cleanup_free char *joined = xstrdup ("");
  size_t i;
  json_t *v;
  json_array_foreach (arr, i, v)
  {
    char *n = xasprintf ("%s%s%lld", joined, i ? " " : "", (long long)json_integer_value (v));
    free (joined);
    joined = n;
  }
  assert_string_equal (joined, expected);
}

static bool strs_have (json_t *arr, const char *s)
{
  size_t i;
  json_t *v;
  json_array_foreach (arr, i, v)
  {
    if (json_is_string (v) && strcmp (json_string_value (v), s) == 0)
      return true;
  }
  return false;
}

static json_t *mount_at (json_t *spec, const char *dest)
{
  size_t i;
  json_t *m;
  json_array_foreach (json_object_get (spec, "mounts"), i, m)
  {
    if (strcmp (json_string_value (json_object_get (m, "destination")), dest) == 0)
      return m;
  }
  return NULL;
}

static char *mount_dests (json_t *spec)
{
  cleanup_free char *joined = xstrdup ("");
  size_t i;
  json_t *m;
  json_array_foreach (json_object_get (spec, "mounts"), i, m)
  {
    char *n = xasprintf ("%s%s%s", joined, i ? " " : "",
                         json_string_value (json_object_get (m, "destination")));
    free (joined);
    joined = n;
  }
  return steal_pointer (&joined);
}

static char *ns_types (json_t *spec)
{
  cleanup_free char *joined = xstrdup ("");
  size_t i;
  json_t *m;
  json_array_foreach (jget (spec, "linux.namespaces"), i, m)
  {
    const char *path = json_string_value (json_object_get (m, "path"));
    char *n = xasprintf ("%s%s%s%s%s", joined, i ? " " : "",
                         json_string_value (json_object_get (m, "type")), path ? "=" : "",
                         path ? path : "");
    free (joined);
    joined = n;
  }
  return steal_pointer (&joined);
}

struct extra
{
  json_t *mounts;
  const char *shm_path, *ipc_ns, *pid_ns, *net_ns, *uts_ns, *init_path, *rootfs;
  bool etc_files;
};

static int build (const char *config, const char *hc, const struct extra *x, json_t **spec,
                  berr_t *err)
{
  cleanup_json json_t *c = jparse (config);
  cleanup_json json_t *h = jparse (hc);
  static const struct extra none = { 0 };
  if (!x)
    x = &none;
  struct spec_input in = {
    .id = ID,
    .config = c,
    .host_config = h,
    .rootfs = x->rootfs ? x->rootfs : g_rootfs,
    .mounts = x->mounts,
    .hostname_path = x->etc_files ? "/var/lib/berth/c/hostname" : NULL,
    .hosts_path = x->etc_files ? "/var/lib/berth/c/hosts" : NULL,
    .resolv_path = x->etc_files ? "/var/lib/berth/c/resolv.conf" : NULL,
    .ipc_ns_path = x->ipc_ns,
    .pid_ns_path = x->pid_ns,
    .net_ns_path = x->net_ns,
    .uts_ns_path = x->uts_ns,
    .init_path = x->init_path,
    .cgroup_path = "berth/0123456789ab",
    .shm_path = x->shm_path,
  };
  return spec_build (&in, spec, err);
}

static json_t *build_ok (const char *config, const char *hc, const struct extra *x)
{
  json_t *spec = NULL;
  cleanup_berr berr_t err = BERR_INIT;
  if (build (config, hc, x, &spec, &err) < 0)
    fail_msg ("spec_build(%s, %s): %s", config, hc, err.msg);
  return spec;
}

static void build_fails (const char *config, const char *hc, const struct extra *x, const char *msg)
{
  json_t *spec = NULL;
  cleanup_berr berr_t err = BERR_INIT;
  if (build (config, hc, x, &spec, &err) == 0)
    {
      json_decref (spec);
      fail_msg ("spec_build(%s, %s) succeeded, expected \"%s\"", config, hc, msg);
    }
  if (strcmp (err.msg, msg) != 0)
    fail_msg ("spec_build(%s, %s): got \"%s\", expected \"%s\"", config, hc, err.msg, msg);
  assert_int_equal (err.kind, BERR_INVALID);
}

/* jget splits on '.', so sysctl names are looked up directly. */
static const char *sysctl_of (json_t *s, const char *name)
{
  return json_string_value (json_object_get (jget (s, "linux.sysctl"), name));
}

#define CMD "{\"Cmd\":[\"sh\"],\"Hostname\":\"0123456789ab\"}"

static bool host_is_cgroup2 (void)
{
  struct statfs s;
  return statfs ("/sys/fs/cgroup", &s) == 0 && s.f_type == 0x63677270;
}

/* ----------------------------------------------------------------------------- defaults */

/* The default NOFILE hard limit: 524288, or the host's when it is lower and cannot be raised. */
static json_int_t default_nofile_hard (void)
{
  struct rlimit r;
  if (getrlimit (RLIMIT_NOFILE, &r) == 0 && r.rlim_max != RLIM_INFINITY && r.rlim_max < 524288
      && !(caps_host_bounding () & (1ULL << CAP_SYS_RESOURCE)))
    return (json_int_t)r.rlim_max;
  return 524288;
}

static void test_defaults (void **state)
{
  (void)state;
  struct extra x = { .etc_files = true };
  cleanup_json json_t *s = build_ok (
      "{\"Cmd\":[\"sh\",\"-c\",\"x\"],\"Hostname\":\"abc\",\"Env\":[\"A=1\"]}", "{}", &x);
  assert_string_equal (jstr (s, "ociVersion"), "1.0.2");
  assert_true (json_is_false (jget (s, "process.terminal")));
  assert_null (jget (s, "process.consoleSize"));
  assert_strs (s, "process.args", "sh -c x");
  assert_strs (
      s, "process.env",
      "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOSTNAME=abc A=1");
  assert_string_equal (jstr (s, "process.cwd"), "/");
  assert_int_equal (jint (s, "process.user.uid"), 0);
  assert_int_equal (jint (s, "process.user.gid"), 0);
  assert_ints (s, "process.user.additionalGids", "0 10");
  /* Docker's 14 capabilities in bounding, effective and permitted; none inheritable/ambient */
  const char *dflt = "CAP_CHOWN CAP_DAC_OVERRIDE CAP_FOWNER CAP_FSETID CAP_KILL CAP_SETGID "
                     "CAP_SETUID CAP_SETPCAP CAP_NET_BIND_SERVICE CAP_NET_RAW CAP_SYS_CHROOT "
                     "CAP_MKNOD CAP_AUDIT_WRITE CAP_SETFCAP";
  assert_strs (s, "process.capabilities.bounding", dflt);
  assert_strs (s, "process.capabilities.effective", dflt);
  assert_strs (s, "process.capabilities.permitted", dflt);
  assert_strs (s, "process.capabilities.inheritable", "");
  assert_strs (s, "process.capabilities.ambient", "");
  assert_int_equal (json_array_size (jget (s, "process.rlimits")), 1);
  assert_string_equal (jstr (s, "process.rlimits.0.type"), "RLIMIT_NOFILE");
  assert_int_equal (jint (s, "process.rlimits.0.soft"), 1024);
  assert_int_equal (jint (s, "process.rlimits.0.hard"), default_nofile_hard ());
  assert_true (json_is_false (jget (s, "process.noNewPrivileges")));
  assert_int_equal (jint (s, "process.oomScoreAdj"), 0);
  assert_string_equal (jstr (s, "root.path"), g_rootfs);
  assert_true (json_is_false (jget (s, "root.readonly")));
  assert_string_equal (jstr (s, "hostname"), "abc");
  assert_null (jget (s, "domainname"));
  assert_string_equal (jstr (s, "linux.cgroupsPath"), "berth/0123456789ab");

  cleanup_free char *dests = mount_dests (s);
  assert_string_equal (dests, "/proc /dev /dev/pts /sys /sys/fs/cgroup /dev/mqueue /dev/shm "
                              "/etc/resolv.conf /etc/hostname /etc/hosts");
  static const struct
  {
    const char *dest, *type, *source, *opts;
  } want[] = {
    { "/proc", "proc", "proc", "nosuid noexec nodev" },
    { "/dev", "tmpfs", "tmpfs", "nosuid strictatime mode=755 size=65536k" },
    { "/dev/pts", "devpts", "devpts", "nosuid noexec newinstance ptmxmode=0666 mode=0620 gid=5" },
    { "/sys", "sysfs", "sysfs", "nosuid noexec nodev ro" },
    { "/sys/fs/cgroup", "cgroup", "cgroup", "ro nosuid noexec nodev" },
    { "/dev/mqueue", "mqueue", "mqueue", "nosuid noexec nodev" },
    { "/dev/shm", "tmpfs", "shm", "nosuid noexec nodev mode=1777 size=67108864" },
    { "/etc/resolv.conf", "bind", "/var/lib/berth/c/resolv.conf", "rbind rprivate" },
    { "/etc/hostname", "bind", "/var/lib/berth/c/hostname", "rbind rprivate" },
    { "/etc/hosts", "bind", "/var/lib/berth/c/hosts", "rbind rprivate" },
  };
  for (size_t i = 0; i < ARRAY_SIZE (want); i++)
    {
      json_t *m = mount_at (s, want[i].dest);
      assert_non_null (m);
      assert_string_equal (jstr (m, "type"), want[i].type);
      assert_string_equal (jstr (m, "source"), want[i].source);
      assert_strs (m, "options", want[i].opts);
    }

  cleanup_free char *ns = ns_types (s);
  assert_string_equal (ns, host_is_cgroup2 () ? "mount network uts pid ipc cgroup"
                                              : "mount network uts pid ipc");
  assert_int_equal (json_array_size (jget (s, "linux.devices")), 0);
  assert_non_null (jget (s, "linux.seccomp"));
  assert_string_equal (jstr (s, "linux.seccomp.defaultAction"), "SCMP_ACT_ERRNO");
  assert_null (jget (s, "linux.rootfsPropagation"));
  assert_null (jget (s, "linux.resources.memory"));
  assert_null (jget (s, "linux.resources.cpu"));
  assert_null (jget (s, "linux.resources.pids"));
  assert_null (jget (s, "annotations"));

  /* masked paths: Docker's list plus every existing cpu*\/thermal_throttle */
  json_t *masked = jget (s, "linux.maskedPaths");
  static const char *const mp[] = { "/proc/acpi",
                                    "/proc/asound",
                                    "/proc/interrupts",
                                    "/proc/kcore",
                                    "/proc/keys",
                                    "/proc/latency_stats",
                                    "/proc/sched_debug",
                                    "/proc/scsi",
                                    "/proc/timer_list",
                                    "/proc/timer_stats",
                                    "/sys/devices/virtual/powercap",
                                    "/sys/firmware" };
  for (size_t i = 0; i < ARRAY_SIZE (mp); i++)
    assert_string_equal (json_string_value (json_array_get (masked, i)), mp[i]);
  glob_t g;
  size_t nthermal = 0;
  if (glob ("/sys/devices/system/cpu/cpu[0-9]*/thermal_throttle", 0, NULL, &g) == 0)
    {
      nthermal = g.gl_pathc;
      for (size_t i = 0; i < g.gl_pathc; i++)
        assert_true (strs_have (masked, g.gl_pathv[i]));
      globfree (&g);
    }
  assert_int_equal (json_array_size (masked), ARRAY_SIZE (mp) + nthermal);
  assert_strs (s, "linux.readonlyPaths",
               "/proc/bus /proc/fs /proc/irq /proc/sys /proc/sysrq-trigger");
}

static void test_default_sysctls (void **state)
{
  (void)state;
  cleanup_json json_t *s = build_ok (CMD, "{}", NULL);
  if (access ("/proc/sys/net/ipv4/ip_unprivileged_port_start", F_OK) == 0)
    assert_string_equal (sysctl_of (s, "net.ipv4.ip_unprivileged_port_start"), "0");
  if (access ("/proc/sys/net/ipv4/ping_group_range", F_OK) == 0)
    assert_string_equal (sysctl_of (s, "net.ipv4.ping_group_range"), "0 2147483647");
  /* not for the host's network namespace, nor a joined one */
  cleanup_json json_t *h = build_ok (CMD, "{\"NetworkMode\":\"host\"}", NULL);
  assert_int_equal (json_object_size (jget (h, "linux.sysctl")), 0);
  struct extra x = { .net_ns = "/proc/1/ns/net" };
  cleanup_json json_t *c = build_ok (CMD, "{\"NetworkMode\":\"container:other\"}", &x);
  assert_int_equal (json_object_size (jget (c, "linux.sysctl")), 0);
  /* the user's value wins */
  cleanup_json json_t *u
      = build_ok (CMD, "{\"Sysctls\":{\"net.ipv4.ip_unprivileged_port_start\":\"1024\"}}", NULL);
  assert_string_equal (sysctl_of (u, "net.ipv4.ip_unprivileged_port_start"), "1024");
}

static void test_process_fields (void **state)
{
  (void)state;
  /* Tty: TERM=xterm, consoleSize; Env overrides PATH and removes HOSTNAME */
  cleanup_json json_t *s = build_ok (
      "{\"Cmd\":[\"sh\"],\"Tty\":true,\"Hostname\":\"h\",\"WorkingDir\":\"/work\","
      "\"Env\":[\"PATH=/bin\",\"HOSTNAME\",\"X=1\",\"TERM=vt100\"],\"Domainname\":\"example.org\"}",
      "{\"ConsoleSize\":[30,100],\"OomScoreAdj\":-500}", NULL);
  assert_true (json_is_true (jget (s, "process.terminal")));
  assert_int_equal (jint (s, "process.consoleSize.height"), 30);
  assert_int_equal (jint (s, "process.consoleSize.width"), 100);
  assert_strs (s, "process.env", "PATH=/bin TERM=vt100 X=1");
  assert_string_equal (jstr (s, "process.cwd"), "/work");
  assert_int_equal (jint (s, "process.oomScoreAdj"), -500);
  assert_null (jget (s, "domainname"));
  assert_string_equal (sysctl_of (s, "kernel.domainname"), "example.org");

  cleanup_json json_t *t = build_ok ("{\"Cmd\":[\"sh\"],\"Tty\":true}", "{}", NULL);
  assert_strs (t, "process.env",
               "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOSTNAME= "
               "TERM=xterm");
  assert_null (jget (t, "process.consoleSize"));

  build_fails (CMD, "{\"OomScoreAdj\":1001}", NULL,
               "Invalid value 1001, range for oom score adj is [-1000, 1000]");
}

static void test_args_and_init (void **state)
{
  (void)state;
  cleanup_json json_t *a
      = build_ok ("{\"Entrypoint\":[\"/ep\",\"-x\"],\"Cmd\":[\"a\",\"b\"]}", "{}", NULL);
  assert_strs (a, "process.args", "/ep -x a b");
  cleanup_json json_t *b = build_ok ("{\"Entrypoint\":[\"/ep\"],\"Cmd\":null}", "{}", NULL);
  assert_strs (b, "process.args", "/ep");
  cleanup_json json_t *c = build_ok ("{\"Entrypoint\":[\"\"],\"Cmd\":[\"x\"]}", "{}", NULL);
  assert_strs (c, "process.args", "x");
  cleanup_json json_t *str = build_ok ("{\"Entrypoint\":\"/ep\",\"Cmd\":\"a b\"}", "{}", NULL);
  assert_strs (str, "process.args", "/ep a b"); /* strings are one-element lists */
  build_fails ("{\"Cmd\":[]}", "{}", NULL, "No command specified");
  build_fails ("{\"Cmd\":[\"a\",1]}", "{}", NULL, "Cmd: not a list of strings");
  build_fails ("{\"Entrypoint\":[\"\"]}", "{}", NULL, "No command specified");
  build_fails ("{}", "{}", NULL, "No command specified");

  /* --init: docker-init as pid 1 and its binary bound read-only, after the defaults */
  struct extra x = { .init_path = "/usr/libexec/berth/docker-init", .etc_files = true };
  cleanup_json json_t *d
      = build_ok ("{\"Entrypoint\":[\"/ep\"],\"Cmd\":[\"a\"]}", "{\"Init\":true}", &x);
  assert_strs (d, "process.args", "/sbin/docker-init -- /ep a");
  json_t *m = mount_at (d, "/sbin/docker-init");
  assert_non_null (m);
  assert_string_equal (jstr (m, "type"), "bind");
  assert_string_equal (jstr (m, "source"), "/usr/libexec/berth/docker-init");
  assert_strs (m, "options", "bind ro");
  cleanup_free char *dests = mount_dests (d);
  assert_string_equal (dests, "/proc /dev /dev/pts /sys /sys/fs/cgroup /dev/mqueue /dev/shm "
                              "/sbin/docker-init /etc/resolv.conf /etc/hostname /etc/hosts");
  /* not with the host's pid namespace (there is an init already) */
  cleanup_json json_t *e
      = build_ok ("{\"Cmd\":[\"a\"]}", "{\"Init\":true,\"PidMode\":\"host\"}", &x);
  assert_strs (e, "process.args", "a");
  assert_null (mount_at (e, "/sbin/docker-init"));
  build_fails ("{\"Cmd\":[\"a\"]}", "{\"Init\":true}", NULL,
               "--init: the init binary (docker-init) was not found");
}

static void test_privileged (void **state)
{
  (void)state;
  cleanup_json json_t *s = build_ok (CMD, "{\"Privileged\":true,\"CapDrop\":[\"ALL\"]}", NULL);
  cleanup_strv char **all = NULL;
  cleanup_berr berr_t err = BERR_INIT;
  assert_int_equal (caps_compute (NULL, NULL, true, &all, &err), 0);
  json_t *bnd = jget (s, "process.capabilities.bounding");
  assert_int_equal (json_array_size (bnd), strv_len (all));
  for (size_t i = 0; all[i]; i++)
    {
      assert_true (strs_have (bnd, all[i]));
      assert_true (strs_have (jget (s, "process.capabilities.effective"), all[i]));
      assert_true (strs_have (jget (s, "process.capabilities.permitted"), all[i]));
    }
  assert_null (jget (s, "linux.seccomp"));
  assert_int_equal (json_array_size (jget (s, "linux.maskedPaths")), 0);
  assert_int_equal (json_array_size (jget (s, "linux.readonlyPaths")), 0);
  assert_strs (mount_at (s, "/sys"), "options", "nosuid noexec nodev");
  assert_strs (mount_at (s, "/sys/fs/cgroup"), "options", "nosuid noexec nodev");
  json_t *rules = jget (s, "linux.resources.devices");
  assert_int_equal (json_array_size (rules), 1);
  assert_true (json_is_true (jget (rules, "0.allow")));
  assert_string_equal (jstr (rules, "0.type"), "a");
  assert_string_equal (jstr (rules, "0.access"), "rwm");
  /* every host device node, none from the per-container filesystems */
  json_t *devs = jget (s, "linux.devices");
  bool has_null = false;
  size_t i;
  json_t *d;
  json_array_foreach (devs, i, d)
  {
    const char *p = jstr (d, "path");
    assert_false (str_has_prefix (p, "/dev/pts/"));
    assert_false (str_has_prefix (p, "/dev/shm/"));
    assert_false (str_has_prefix (p, "/dev/mqueue/"));
    assert_string_not_equal (p, "/dev/console");
    assert_true (jint (d, "major") > 0);
    if (strcmp (p, "/dev/null") == 0)
      {
        has_null = true;
        assert_string_equal (jstr (d, "type"), "c");
        assert_int_equal (jint (d, "major"), 1);
        assert_int_equal (jint (d, "minor"), 3);
        struct stat st;
        assert_int_equal (stat ("/dev/null", &st), 0);
        assert_int_equal (jint (d, "fileMode"), st.st_mode & 0777);
        assert_int_equal (jint (d, "uid"), st.st_uid);
        assert_int_equal (jint (d, "gid"), st.st_gid);
      }
  }
  assert_true (has_null);
}

static void test_readonly_rootfs (void **state)
{
  (void)state;
  struct extra x = { .etc_files = true };
  cleanup_json json_t *s = build_ok (CMD, "{\"ReadonlyRootfs\":true}", &x);
  assert_true (json_is_true (jget (s, "root.readonly")));
  assert_strs (mount_at (s, "/proc"), "options", "nosuid noexec nodev");
  assert_strs (mount_at (s, "/dev"), "options", "nosuid strictatime mode=755 size=65536k");
  assert_strs (mount_at (s, "/sys"), "options", "nosuid noexec nodev ro");
  assert_strs (mount_at (s, "/dev/mqueue"), "options", "nosuid noexec nodev");
  assert_strs (mount_at (s, "/etc/hosts"), "options", "rbind ro rprivate");
  assert_strs (mount_at (s, "/etc/resolv.conf"), "options", "rbind ro rprivate");
}

static void test_host_namespaces (void **state)
{
  (void)state;
  cleanup_json json_t *s = build_ok (
      CMD,
      "{\"PidMode\":\"host\",\"IpcMode\":\"host\",\"UTSMode\":\"host\",\"NetworkMode\":\"host\"}",
      NULL);
  cleanup_free char *ns = ns_types (s);
  assert_string_equal (ns, host_is_cgroup2 () ? "mount cgroup" : "mount");
  assert_null (jget (s, "hostname"));
  json_t *shm = mount_at (s, "/dev/shm");
  assert_string_equal (jstr (shm, "type"), "bind");
  assert_string_equal (jstr (shm, "source"), "/dev/shm");
  assert_strs (shm, "options", "rbind rprivate");
  /* Docker's order at equal depth: the engine's /etc files, then the shared /dev/shm, then
   * tmpfs mounts */
  struct extra x = { .etc_files = true };
  cleanup_json json_t *o = build_ok (CMD, "{\"IpcMode\":\"host\",\"Tmpfs\":{\"/a/b\":\"\"}}", &x);
  cleanup_free char *odests = mount_dests (o);
  assert_string_equal (odests, "/proc /dev /dev/pts /sys /sys/fs/cgroup /dev/mqueue "
                               "/etc/resolv.conf /etc/hostname /etc/hosts /dev/shm /a/b");
  /* sysfs even for the host's network namespace, as Docker */
  assert_string_equal (jstr (mount_at (s, "/sys"), "type"), "sysfs");

  cleanup_json json_t *n = build_ok (CMD, "{\"NetworkMode\":\"none\",\"IpcMode\":\"none\"}", NULL);
  cleanup_free char *nns = ns_types (n);
  assert_true (str_has_prefix (nns, "mount network uts pid ipc"));
  assert_null (mount_at (n, "/dev/shm"));

  cleanup_json json_t *p = build_ok (CMD, "{\"CgroupnsMode\":\"private\"}", NULL);
  cleanup_free char *pns = ns_types (p);
  assert_string_equal (pns, "mount network uts pid ipc cgroup");
  cleanup_json json_t *h = build_ok (CMD, "{\"CgroupnsMode\":\"host\"}", NULL);
  cleanup_free char *hns = ns_types (h);
  assert_string_equal (hns, "mount network uts pid ipc");

  build_fails (CMD, "{\"IpcMode\":\"bogus\"}", NULL, "invalid IPC mode: bogus");
  build_fails (CMD, "{\"PidMode\":\"container:\"}", NULL, "invalid PID mode: container:");
  build_fails (CMD, "{\"UTSMode\":\"private\"}", NULL, "invalid UTS mode: private");
  build_fails (CMD, "{\"CgroupnsMode\":\"x\"}", NULL, "invalid cgroup namespace mode: x");
}

static void test_container_namespaces (void **state)
{
  (void)state;
  struct extra x = { .ipc_ns = "/proc/42/ns/ipc",
                     .pid_ns = "/proc/42/ns/pid",
                     .net_ns = "/proc/42/ns/net",
                     .shm_path = "/var/lib/berth/containers/x/shm" };
  cleanup_json json_t *s = build_ok (
      CMD,
      "{\"PidMode\":\"container:x\",\"IpcMode\":\"container:x\",\"NetworkMode\":\"container:x\"}",
      &x);
  cleanup_free char *ns = ns_types (s);
  cleanup_free char *want
      = xasprintf ("mount network=/proc/42/ns/net uts pid=/proc/42/ns/pid ipc=/proc/42/ns/ipc%s",
                   host_is_cgroup2 () ? " cgroup" : "");
  assert_string_equal (ns, want);
  json_t *shm = mount_at (s, "/dev/shm");
  assert_string_equal (jstr (shm, "source"), "/var/lib/berth/containers/x/shm");
  assert_strs (shm, "options", "rbind rprivate");

  struct extra noshm = { .ipc_ns = "/proc/42/ns/ipc" };
  build_fails (CMD, "{\"IpcMode\":\"container:x\"}", &noshm,
               "ipc container:x: the /dev/shm of that container is not known");
  build_fails (CMD, "{\"IpcMode\":\"container:x\"}", NULL,
               "failed to join IPC namespace: no path for container:x");
  build_fails (CMD, "{\"PidMode\":\"container:x\"}", NULL,
               "failed to join PID namespace: no path for container:x");
  build_fails (CMD, "{\"NetworkMode\":\"container:x\"}", NULL,
               "network container:x: no namespace path given");
  /* a joined UTS namespace, when the engine gives one */
  struct extra uts = { .uts_ns = "/proc/7/ns/uts" };
  cleanup_json json_t *u = build_ok (CMD, "{}", &uts);
  cleanup_free char *uns = ns_types (u);
  assert_true (strstr (uns, "uts=/proc/7/ns/uts") != NULL);
}

static void test_hostname_conflicts (void **state)
{
  (void)state;
  build_fails ("{\"Cmd\":[\"sh\"],\"Hostname\":\"mine\"}", "{\"UTSMode\":\"host\"}", NULL,
               "conflicting options: hostname and the UTS mode");
  struct extra x = { .net_ns = "/proc/1/ns/net" };
  build_fails ("{\"Cmd\":[\"sh\"],\"Hostname\":\"mine\"}", "{\"NetworkMode\":\"container:c\"}", &x,
               "conflicting options: hostname and the network mode");
  /* the engine's default (the short id) is not a choice of the user */
  cleanup_json json_t *s
      = build_ok ("{\"Cmd\":[\"sh\"],\"Hostname\":\"0123456789ab\",\"Domainname\":\"d.org\"}",
                  "{\"UTSMode\":\"host\"}", NULL);
  assert_null (jget (s, "hostname"));
  assert_null (sysctl_of (s, "kernel.domainname")); /* the host's domain is not ours to set */
  assert_true (strs_have (jget (s, "process.env"), "HOSTNAME=0123456789ab"));
}

static void test_sysctls (void **state)
{
  (void)state;
  cleanup_json json_t *s
      = build_ok (CMD,
                  "{\"Sysctls\":{\"kernel.shmmax\":\"1000000\",\"fs.mqueue.msg_max\":\"20\","
                  "\"net.ipv4.ip_forward\":\"1\",\"kernel.shm_rmid_forced\":\"1\"}}",
                  NULL);
  assert_string_equal (sysctl_of (s, "kernel.shmmax"), "1000000");
  assert_string_equal (sysctl_of (s, "fs.mqueue.msg_max"), "20");
  assert_string_equal (sysctl_of (s, "net.ipv4.ip_forward"), "1");
  assert_string_equal (sysctl_of (s, "kernel.shm_rmid_forced"), "1");
  build_fails (CMD, "{\"Sysctls\":{\"kernel.hostname\":\"x\"}}", NULL,
               "sysctl \"kernel.hostname\" is not in a separate kernel namespace");
  build_fails (CMD, "{\"Sysctls\":{\"vm.swappiness\":\"1\"}}", NULL,
               "sysctl \"vm.swappiness\" is not in a separate kernel namespace");
  build_fails (CMD, "{\"Sysctls\":{\"kernel.msgmax\":\"1\"},\"IpcMode\":\"host\"}", NULL,
               "sysctl \"kernel.msgmax\" is not allowed in the hosts ipc namespace");
  build_fails (CMD, "{\"Sysctls\":{\"fs.mqueue.queues_max\":\"1\"},\"IpcMode\":\"host\"}", NULL,
               "sysctl \"fs.mqueue.queues_max\" is not allowed in the hosts ipc namespace");
  build_fails (CMD, "{\"Sysctls\":{\"net.core.somaxconn\":\"1\"},\"NetworkMode\":\"host\"}", NULL,
               "sysctl \"net.core.somaxconn\" is not allowed in the hosts network namespace");
  /* a joined namespace is another container's, not the host's */
  struct extra x = { .net_ns = "/proc/1/ns/net" };
  cleanup_json json_t *j = build_ok (
      CMD, "{\"Sysctls\":{\"net.core.somaxconn\":\"1\"},\"NetworkMode\":\"container:c\"}", &x);
  assert_string_equal (sysctl_of (j, "net.core.somaxconn"), "1");
}

/* -------------------------------------------------------------------------------- devices */

static void assert_rule (json_t *r, bool allow, const char *type, long long major, long long minor,
                         const char *access)
{
  assert_true (json_is_boolean (json_object_get (r, "allow")));
  assert_int_equal (json_is_true (json_object_get (r, "allow")), allow);
  assert_string_equal (jstr (r, "type"), type);
  if (major < 0)
    assert_null (json_object_get (r, "major"));
  else
    assert_int_equal (jint (r, "major"), major);
  if (minor < 0)
    assert_null (json_object_get (r, "minor"));
  else
    assert_int_equal (jint (r, "minor"), minor);
  assert_string_equal (jstr (r, "access"), access);
}

static void test_default_device_rules (void **state)
{
  (void)state;
  cleanup_json json_t *s = build_ok (CMD, "{}", NULL);
  json_t *r = jget (s, "linux.resources.devices");
  assert_int_equal (json_array_size (r), 14);
  assert_rule (json_array_get (r, 0), false, "a", -1, -1, "rwm");
  assert_rule (json_array_get (r, 1), true, "c", 1, 5, "rwm");
  assert_rule (json_array_get (r, 2), true, "c", 1, 3, "rwm");
  assert_rule (json_array_get (r, 3), true, "c", 1, 9, "rwm");
  assert_rule (json_array_get (r, 4), true, "c", 1, 8, "rwm");
  assert_rule (json_array_get (r, 5), true, "c", 5, 0, "rwm");
  assert_rule (json_array_get (r, 6), true, "c", 5, 1, "rwm");
  assert_rule (json_array_get (r, 7), false, "c", 10, 229, "rwm");
  assert_rule (json_array_get (r, 8), true, "c", -1, -1, "m");
  assert_rule (json_array_get (r, 9), true, "b", -1, -1, "m");
  assert_rule (json_array_get (r, 10), true, "c", 1, 7, "rwm");
  assert_rule (json_array_get (r, 11), true, "c", 136, -1, "rwm");
  assert_rule (json_array_get (r, 12), true, "c", 5, 2, "rwm");
  assert_rule (json_array_get (r, 13), true, "c", 10, 200, "rwm");
}

static void test_device_cgroup_rules (void **state)
{
  (void)state;
  cleanup_json json_t *s = build_ok (
      CMD, "{\"DeviceCgroupRules\":[\"c 1:3 rwm\",\"a *:* r\",\"b 8:* mw\",\"c 42:7 m\"]}", NULL);
  json_t *r = jget (s, "linux.resources.devices");
  assert_int_equal (json_array_size (r), 18);
  assert_rule (json_array_get (r, 14), true, "c", 1, 3, "rwm");
  assert_rule (json_array_get (r, 15), true, "a", -1, -1, "r");
  assert_rule (json_array_get (r, 16), true, "b", 8, -1, "mw");
  assert_rule (json_array_get (r, 17), true, "c", 42, 7, "m");
  static const char *const bad[]
      = { "c 1:3",      "x 1:3 rwm", "c 1:3 rwx", "c a:3 rwm", "c 1:3  rwm", "",
          "c 1:3 rwmr", "c 1-3 rwm", "c1:3 rwm",  "c :3 rwm",  "c 1: rwm",   "c 1:3 rwm " };
  for (size_t i = 0; i < ARRAY_SIZE (bad); i++)
    {
      cleanup_free char *hc = xasprintf ("{\"DeviceCgroupRules\":[\"%s\"]}", bad[i]);
      cleanup_free char *msg = xasprintf ("invalid device cgroup rule format: '%s'", bad[i]);
      build_fails (CMD, hc, NULL, msg);
    }
}

static void test_device_mappings (void **state)
{
  (void)state;
  cleanup_json json_t *s = build_ok (
      CMD,
      "{\"Devices\":[{\"PathOnHost\":\"/dev/null\",\"PathInContainer\":\"/dev/mynull\","
      "\"CgroupPermissions\":\"rw\"},{\"PathOnHost\":\"/dev/zero\",\"PathInContainer\":\"\","
      "\"CgroupPermissions\":\"\"}],\"DeviceCgroupRules\":[\"c 10:229 rwm\"]}",
      NULL);
  json_t *devs = jget (s, "linux.devices");
  assert_int_equal (json_array_size (devs), 2);
  assert_string_equal (jstr (devs, "0.path"), "/dev/mynull");
  assert_string_equal (jstr (devs, "0.type"), "c");
  assert_int_equal (jint (devs, "0.major"), 1);
  assert_int_equal (jint (devs, "0.minor"), 3);
  assert_int_equal (jint (devs, "0.fileMode"), 0666);
  assert_string_equal (jstr (devs, "1.path"), "/dev/zero");
  json_t *r = jget (s, "linux.resources.devices");
  /* the --device rules after the defaults, the cgroup rules last */
  assert_int_equal (json_array_size (r), 17);
  assert_rule (json_array_get (r, 14), true, "c", 1, 3, "rw");
  assert_rule (json_array_get (r, 15), true, "c", 1, 5, "rwm");
  assert_rule (json_array_get (r, 16), true, "c", 10, 229, "rwm");

  /* a symlink to a device is followed on the host */
  cleanup_free char *link = mkpath ("%s/nulllink", g_dir);
  unlink (link);
  assert_int_equal (symlink ("/dev/null", link), 0);
  cleanup_free char *hc = xasprintf (
      "{\"Devices\":[{\"PathOnHost\":\"%s\",\"PathInContainer\":\"/dev/x\",\"CgroupPermissions\":"
      "\"r\"}]}",
      link);
  cleanup_json json_t *l = build_ok (CMD, hc, NULL);
  assert_int_equal (jint (l, "linux.devices.0.minor"), 3);
  assert_string_equal (jstr (l, "linux.devices.0.path"), "/dev/x");
  unlink (link);

  /* a directory of devices: every node below, renamed under the container path */
  cleanup_free char *ddir = mkpath ("%s/devdir", g_dir);
  cleanup_free char *dsub = mkpath ("%s/devdir/sub", g_dir);
  cleanup_free char *dnode = mkpath ("%s/devdir/sub/mynull", g_dir);
  mkdir (ddir, 0755);
  mkdir (dsub, 0755);
  unlink (dnode);
  if (geteuid () == 0 && mknod (dnode, S_IFCHR | 0600, makedev (1, 3)) == 0)
    {
      cleanup_free char *dhc
          = xasprintf ("{\"Devices\":[{\"PathOnHost\":\"%s\",\"PathInContainer\":\"/dev/d\","
                       "\"CgroupPermissions\":\"rwm\"}]}",
                       ddir);
      cleanup_json json_t *dd = build_ok (CMD, dhc, NULL);
      assert_string_equal (jstr (dd, "linux.devices.0.path"), "/dev/d/sub/mynull");
      assert_int_equal (jint (dd, "linux.devices.0.fileMode"), 0600);
      unlink (dnode);
    }

  build_fails (CMD,
               "{\"Devices\":[{\"PathOnHost\":\"/dev/nope-nope\",\"PathInContainer\":\"/dev/x\","
               "\"CgroupPermissions\":\"rwm\"}]}",
               NULL,
               "error gathering device information while adding custom device "
               "\"/dev/nope-nope\": No such file or directory");
  build_fails (CMD,
               "{\"Devices\":[{\"PathOnHost\":\"/etc/hostname\",\"PathInContainer\":\"/dev/x\","
               "\"CgroupPermissions\":\"rwm\"}]}",
               NULL,
               "error gathering device information while adding custom device "
               "\"/etc/hostname\": not a device node");
  build_fails (CMD,
               "{\"Devices\":[{\"PathOnHost\":\"/dev/null\",\"PathInContainer\":\"/dev/x\","
               "\"CgroupPermissions\":\"rwx\"}]}",
               NULL, "invalid device cgroup permissions \"rwx\" for /dev/null");

  /* privileged: a renamed mapping is added, the rules stay allow-all */
  cleanup_json json_t *p = build_ok (
      CMD,
      "{\"Privileged\":true,\"Devices\":[{\"PathOnHost\":\"/dev/null\",\"PathInContainer\":"
      "\"/dev/othernull\",\"CgroupPermissions\":\"r\"}]}",
      NULL);
  bool found = false;
  size_t i;
  json_t *d;
  json_array_foreach (jget (p, "linux.devices"), i, d)
  {
    found = found || strcmp (jstr (d, "path"), "/dev/othernull") == 0;
  }
  assert_true (found);
  assert_int_equal (json_array_size (jget (p, "linux.resources.devices")), 1);
}

/* ------------------------------------------------------------------------------ resources */

static void test_resources (void **state)
{
  (void)state;
  cleanup_json json_t *m = build_ok (
      CMD, "{\"Memory\":67108864,\"MemoryReservation\":33554432,\"PidsLimit\":64}", NULL);
  assert_int_equal (jint (m, "linux.resources.memory.limit"), 67108864);
  assert_int_equal (jint (m, "linux.resources.memory.swap"), 134217728); /* 2x by default */
  assert_int_equal (jint (m, "linux.resources.memory.reservation"), 33554432);
  assert_int_equal (jint (m, "linux.resources.pids.limit"), 64);
  cleanup_json json_t *u = build_ok (CMD, "{\"Memory\":67108864,\"MemorySwap\":-1}", NULL);
  assert_null (jget (u, "linux.resources.memory.swap")); /* -1: unlimited */
  cleanup_json json_t *w = build_ok (CMD, "{\"Memory\":67108864,\"MemorySwap\":100000000}", NULL);
  assert_int_equal (jint (w, "linux.resources.memory.swap"), 100000000);
  cleanup_json json_t *z
      = build_ok (CMD, "{\"PidsLimit\":0,\"MemorySwappiness\":-1,\"OomKillDisable\":true}", NULL);
  assert_null (jget (z, "linux.resources.pids"));
  assert_null (jget (z, "linux.resources.memory.swappiness"));
  assert_true (json_is_true (jget (z, "linux.resources.memory.disableOOMKiller")));
  build_fails (CMD, "{\"Memory\":67108864,\"MemorySwap\":1000}", NULL,
               "Minimum memoryswap limit should be larger than memory limit, see usage");
  build_fails (CMD, "{\"MemorySwap\":67108864}", NULL,
               "You should always set the Memory limit when using Memoryswap limit, see usage");
  build_fails (CMD, "{\"MemorySwappiness\":101}", NULL,
               "Invalid value: 101, valid memory swappiness range is 0-100");

  cleanup_json json_t *c = build_ok (
      CMD,
      "{\"NanoCpus\":1500000000,\"CpuShares\":512,\"CpusetCpus\":\"0-1\",\"CpusetMems\":\"0\"}",
      NULL);
  assert_int_equal (jint (c, "linux.resources.cpu.quota"), 150000);
  assert_int_equal (jint (c, "linux.resources.cpu.period"), 100000);
  assert_int_equal (jint (c, "linux.resources.cpu.shares"), 512);
  assert_string_equal (jstr (c, "linux.resources.cpu.cpus"), "0-1");
  assert_string_equal (jstr (c, "linux.resources.cpu.mems"), "0");
  cleanup_json json_t *q = build_ok (CMD, "{\"CpuQuota\":25000,\"CpuPeriod\":50000}", NULL);
  assert_int_equal (jint (q, "linux.resources.cpu.quota"), 25000);
  assert_int_equal (jint (q, "linux.resources.cpu.period"), 50000);
  build_fails (CMD, "{\"NanoCpus\":1000000000,\"CpuPeriod\":50000}", NULL,
               "Conflicting options: Nano CPUs and CPU Period cannot both be set");
  build_fails (CMD, "{\"NanoCpus\":1000000000,\"CpuQuota\":50000}", NULL,
               "Conflicting options: Nano CPUs and CPU Quota cannot both be set");
  build_fails (CMD, "{\"CpuShares\":-2}", NULL,
               "invalid CPU shares (-2): value must be a positive integer");

  cleanup_json json_t *b = build_ok (
      CMD,
      "{\"BlkioWeight\":300,\"BlkioWeightDevice\":[{\"Path\":\"/dev/null\",\"Weight\":200}],"
      "\"BlkioDeviceReadBps\":[{\"Path\":\"/dev/zero\",\"Rate\":1048576}]}",
      NULL);
  assert_int_equal (jint (b, "linux.resources.blockIO.weight"), 300);
  assert_int_equal (jint (b, "linux.resources.blockIO.weightDevice.0.major"), 1);
  assert_int_equal (jint (b, "linux.resources.blockIO.weightDevice.0.minor"), 3);
  assert_int_equal (jint (b, "linux.resources.blockIO.weightDevice.0.weight"), 200);
  assert_int_equal (jint (b, "linux.resources.blockIO.throttleReadBpsDevice.0.minor"), 5);
  assert_int_equal (jint (b, "linux.resources.blockIO.throttleReadBpsDevice.0.rate"), 1048576);
  build_fails (CMD, "{\"BlkioWeight\":5}", NULL, "Range of blkio weight is from 10 to 1000");
}

static void test_ulimits (void **state)
{
  (void)state;
  cleanup_json json_t *s
      = build_ok (CMD, "{\"Ulimits\":[{\"Name\":\"nofile\",\"Soft\":100,\"Hard\":200}]}", NULL);
  assert_int_equal (json_array_size (jget (s, "process.rlimits")), 1);
  assert_string_equal (jstr (s, "process.rlimits.0.type"), "RLIMIT_NOFILE");
  assert_int_equal (jint (s, "process.rlimits.0.soft"), 100);
  assert_int_equal (jint (s, "process.rlimits.0.hard"), 200);
  /* other limits keep the default NOFILE */
  cleanup_json json_t *n = build_ok (
      CMD,
      "{\"Ulimits\":[{\"Name\":\"nproc\",\"Soft\":10,\"Hard\":20},{\"Name\":\"core\",\"Soft\":-1,"
      "\"Hard\":-1}]}",
      NULL);
  assert_int_equal (json_array_size (jget (n, "process.rlimits")), 3);
  assert_string_equal (jstr (n, "process.rlimits.0.type"), "RLIMIT_NPROC");
  assert_string_equal (jstr (n, "process.rlimits.1.type"), "RLIMIT_CORE");
  assert_int_equal (jint (n, "process.rlimits.1.hard"), -1);
  assert_string_equal (jstr (n, "process.rlimits.2.type"), "RLIMIT_NOFILE");
  assert_int_equal (jint (n, "process.rlimits.2.hard"), default_nofile_hard ());
  build_fails (CMD, "{\"Ulimits\":[{\"Name\":\"nofile\",\"Soft\":300,\"Hard\":200}]}", NULL,
               "ulimit soft limit must be less than or equal to hard limit: 300 > 200");
  build_fails (CMD, "{\"Ulimits\":[{\"Name\":\"files\",\"Soft\":3,\"Hard\":3}]}", NULL,
               "invalid ulimit type: files");
}

/* ---------------------------------------------------------------------- security options */

static void test_security_opts (void **state)
{
  (void)state;
  cleanup_json json_t *a = build_ok (CMD, "{\"SecurityOpt\":[\"no-new-privileges\"]}", NULL);
  assert_true (json_is_true (jget (a, "process.noNewPrivileges")));
  cleanup_json json_t *b = build_ok (
      CMD, "{\"SecurityOpt\":[\"no-new-privileges:true\",\"no-new-privileges=false\"]}", NULL);
  assert_true (json_is_false (jget (b, "process.noNewPrivileges")));
  build_fails (CMD, "{\"SecurityOpt\":[\"no-new-privileges=maybe\"]}", NULL,
               "invalid --security-opt 2: \"no-new-privileges=maybe\"");
  build_fails (CMD, "{\"SecurityOpt\":[\"bogus\"]}", NULL, "invalid --security-opt 1: \"bogus\"");
  build_fails (CMD, "{\"SecurityOpt\":[\"bogus=1\"]}", NULL,
               "invalid --security-opt 2: \"bogus=1\"");

  cleanup_json json_t *u = build_ok (CMD, "{\"SecurityOpt\":[\"seccomp=unconfined\"]}", NULL);
  assert_null (jget (u, "linux.seccomp"));
  assert_true (json_array_size (jget (u, "linux.maskedPaths")) > 0);
  cleanup_json json_t *u2 = build_ok (CMD, "{\"SecurityOpt\":[\"seccomp:unconfined\"]}", NULL);
  assert_null (jget (u2, "linux.seccomp"));
  cleanup_json json_t *bi = build_ok (CMD, "{\"SecurityOpt\":[\"seccomp=builtin\"]}", NULL);
  assert_string_equal (jstr (bi, "linux.seccomp.defaultAction"), "SCMP_ACT_ERRNO");

  /* a profile as the CLI sends it (the file's content), and as a path */
  const char *profile = "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":"
                        "[\"mkdir\"],\"action\":\"SCMP_ACT_ERRNO\"}]}";
  json_t *opt = json_pack ("{s:[s+]}", "SecurityOpt", "seccomp=", profile);
  cleanup_free char *hc = json_dump_compact (opt);
  json_decref (opt);
  cleanup_json json_t *p = build_ok (CMD, hc, NULL);
  assert_string_equal (jstr (p, "linux.seccomp.defaultAction"), "SCMP_ACT_ALLOW");
  assert_string_equal (jstr (p, "linux.seccomp.syscalls.0.names.0"), "mkdir");
  cleanup_free char *path = mkpath ("%s/profile.json", g_dir);
  write_file (path, profile);
  cleanup_free char *hc2 = xasprintf ("{\"SecurityOpt\":[\"seccomp=%s\"]}", path);
  cleanup_json json_t *p2 = build_ok (CMD, hc2, NULL);
  assert_string_equal (jstr (p2, "linux.seccomp.defaultAction"), "SCMP_ACT_ALLOW");
  json_t *spec = NULL;
  cleanup_berr berr_t err = BERR_INIT;
  assert_int_equal (
      build (CMD, "{\"SecurityOpt\":[\"seccomp=/nonexistent/p.json\"]}", NULL, &spec, &err), -1);
  assert_true (str_has_prefix (err.msg, "opening seccomp profile (/nonexistent/p.json) failed"));
  /* privileged wins over a profile */
  cleanup_free char *hc3
      = xasprintf ("{\"Privileged\":true,\"SecurityOpt\":[\"seccomp=%s\"]}", path);
  cleanup_json json_t *p3 = build_ok (CMD, hc3, NULL);
  assert_null (jget (p3, "linux.seccomp"));

  cleanup_json json_t *sp = build_ok (CMD, "{\"SecurityOpt\":[\"systempaths=unconfined\"]}", NULL);
  assert_int_equal (json_array_size (jget (sp, "linux.maskedPaths")), 0);
  assert_int_equal (json_array_size (jget (sp, "linux.readonlyPaths")), 0);
  assert_non_null (jget (sp, "linux.seccomp"));
  cleanup_json json_t *given = build_ok (
      CMD, "{\"MaskedPaths\":[\"/proc/x\"],\"ReadonlyPaths\":[\"/proc/y\",\"/proc/z\"]}", NULL);
  assert_strs (given, "linux.maskedPaths", "/proc/x");
  assert_strs (given, "linux.readonlyPaths", "/proc/y /proc/z");
  cleanup_json json_t *lab = build_ok (
      CMD, "{\"SecurityOpt\":[\"label=disable\",\"apparmor=unconfined\",\"disable\"]}", NULL);
  assert_non_null (jget (lab, "linux.seccomp"));
}

static void test_caps (void **state)
{
  (void)state;
  cleanup_json json_t *a = build_ok (
      CMD, "{\"CapAdd\":[\"sys_admin\"],\"CapDrop\":[\"NET_RAW\",\"CAP_MKNOD\"]}", NULL);
  json_t *bnd = jget (a, "process.capabilities.bounding");
  assert_true (strs_have (bnd, "CAP_SYS_ADMIN"));
  assert_false (strs_have (bnd, "CAP_NET_RAW"));
  assert_false (strs_have (bnd, "CAP_MKNOD"));
  assert_int_equal (json_array_size (bnd), 13);
  assert_true (json_equal (bnd, jget (a, "process.capabilities.effective")));
  assert_true (json_equal (bnd, jget (a, "process.capabilities.permitted")));
  /* the default seccomp profile follows the capabilities: mount with CAP_SYS_ADMIN */
  cleanup_free char *txt = json_dump_compact (jget (a, "linux.seccomp"));
  assert_non_null (strstr (txt, "\"mount\""));
  cleanup_json json_t *d = build_ok (CMD, "{\"CapDrop\":[\"ALL\"]}", NULL);
  assert_strs (d, "process.capabilities.bounding", "");
  assert_strs (d, "process.capabilities.effective", "");
  cleanup_free char *txt2 = json_dump_compact (jget (d, "linux.seccomp"));
  assert_null (strstr (txt2, "\"mount\""));
  json_t *spec = NULL;
  cleanup_berr berr_t err = BERR_INIT;
  assert_int_equal (build (CMD, "{\"CapAdd\":[\"NOPE\"]}", NULL, &spec, &err), -1);
  assert_non_null (strstr (err.msg, "CAP_NOPE"));
}

/* ---------------------------------------------------------------------------------- mounts */

static json_t *mounts_of (const char *text) { return jparse (text); }

static void test_user_mounts (void **state)
{
  (void)state;
  struct extra x = { .etc_files = true };
  x.mounts = mounts_of (
      "[{\"Type\":\"bind\",\"Source\":\"/srv/a\",\"Destination\":\"/a/b/c\",\"RW\":true,"
      "\"Propagation\":\"rprivate\"},"
      "{\"Type\":\"volume\",\"Source\":\"/var/lib/berth/volumes/v/_data\",\"Destination\":\"/a\","
      "\"RW\":true,\"Propagation\":\"\"},"
      "{\"Type\":\"bind\",\"Source\":\"/srv/ro\",\"Destination\":\"/a/b\",\"RW\":false,"
      "\"Propagation\":\"rprivate\",\"Mode\":\"ro\"},"
      "{\"Type\":\"bind\",\"Source\":\"/srv/nr\",\"Destination\":\"/nr\",\"RW\":true,"
      "\"Propagation\":\"rprivate\",\"NonRecursive\":true,\"Options\":[\"nosuid\"]},"
      "{\"Type\":\"tmpfs\",\"Source\":\"\",\"Destination\":\"/run\",\"RW\":true,"
      "\"Options\":[\"size=1m\",\"mode=700\",\"exec\",\"size=2m\"]},"
      "{\"Type\":\"tmpfs\",\"Destination\":\"/ro-tmp\",\"RW\":false}]");
  cleanup_json json_t *s = build_ok (
      CMD, "{\"Tmpfs\":{\"/z\":\"size=64k,uid=1000\",\"/run\":\"size=9m\",\"/y\":\"\"}}", &x);
  json_decref (x.mounts);
  cleanup_free char *dests = mount_dests (s);
  /* defaults, then by depth keeping the given order among equals */
  assert_string_equal (dests, "/proc /dev /dev/pts /sys /sys/fs/cgroup /dev/mqueue /dev/shm "
                              "/a /nr /run /ro-tmp /y /z /a/b /etc/resolv.conf /etc/hostname "
                              "/etc/hosts /a/b/c");
  assert_strs (mount_at (s, "/a/b/c"), "options", "rbind rprivate");
  assert_string_equal (jstr (mount_at (s, "/a/b/c"), "type"), "bind");
  assert_string_equal (jstr (mount_at (s, "/a/b/c"), "source"), "/srv/a");
  assert_strs (mount_at (s, "/a"), "options", "rbind");
  assert_string_equal (jstr (mount_at (s, "/a"), "source"), "/var/lib/berth/volumes/v/_data");
  assert_strs (mount_at (s, "/a/b"), "options", "rbind ro rprivate");
  assert_strs (mount_at (s, "/nr"), "options", "bind rprivate nosuid");
  json_t *run = mount_at (s, "/run");
  assert_string_equal (jstr (run, "type"), "tmpfs");
  assert_string_equal (jstr (run, "source"), "tmpfs");
  /* later options win per flag and per key (Docker's MergeTmpfsOptions) */
  assert_strs (run, "options", "nosuid nodev rprivate mode=700 exec size=2m");
  assert_strs (mount_at (s, "/ro-tmp"), "options", "noexec nosuid nodev rprivate ro");
  assert_strs (mount_at (s, "/z"), "options", "noexec nosuid nodev rprivate size=64k uid=1000");
  assert_strs (mount_at (s, "/y"), "options", "noexec nosuid nodev rprivate");

  /* a user mount replaces the default at its destination */
  struct extra y = { 0 };
  y.mounts = mounts_of ("[{\"Type\":\"tmpfs\",\"Destination\":\"/dev/shm\",\"RW\":true,"
                        "\"Options\":[\"size=1g\"]},"
                        "{\"Type\":\"bind\",\"Source\":\"/srv/cg\",\"Destination\":\"/sys/fs/"
                        "cgroup\",\"RW\":false,\"Propagation\":\"rprivate\"}]");
  cleanup_json json_t *t = build_ok (CMD, "{\"ShmSize\":1000000}", &y);
  json_decref (y.mounts);
  cleanup_free char *tdests = mount_dests (t);
  assert_string_equal (tdests, "/proc /dev /dev/pts /sys /dev/mqueue /dev/shm /sys/fs/cgroup");
  assert_strs (mount_at (t, "/dev/shm"), "options", "noexec nosuid nodev rprivate size=1g");
  assert_string_equal (jstr (mount_at (t, "/sys/fs/cgroup"), "type"), "bind");

  /* ShmSize; a user /dev takes everything under /dev with it */
  cleanup_json json_t *shm = build_ok (CMD, "{\"ShmSize\":1000000}", NULL);
  assert_strs (mount_at (shm, "/dev/shm"), "options", "nosuid noexec nodev mode=1777 size=1000000");
  struct extra z = { 0 };
  z.mounts = mounts_of ("[{\"Type\":\"bind\",\"Source\":\"/dev\",\"Destination\":\"/dev\","
                        "\"RW\":true,\"Propagation\":\"rprivate\"}]");
  cleanup_json json_t *dev = build_ok (CMD, "{}", &z);
  json_decref (z.mounts);
  cleanup_free char *ddests = mount_dests (dev);
  assert_string_equal (ddests, "/proc /sys /sys/fs/cgroup /dev");

  /* the engine's /etc files step aside for the user's */
  struct extra e = { .etc_files = true };
  e.mounts = mounts_of ("[{\"Type\":\"bind\",\"Source\":\"/my/hosts\",\"Destination\":"
                        "\"/etc/hosts\",\"RW\":false,\"Propagation\":\"rprivate\"}]");
  cleanup_json json_t *eh = build_ok (CMD, "{}", &e);
  json_decref (e.mounts);
  assert_string_equal (jstr (mount_at (eh, "/etc/hosts"), "source"), "/my/hosts");
  cleanup_free char *edests = mount_dests (eh);
  assert_string_equal (edests, "/proc /dev /dev/pts /sys /sys/fs/cgroup /dev/mqueue /dev/shm "
                               "/etc/hosts /etc/resolv.conf /etc/hostname");

  struct extra bad = { 0 };
  bad.mounts = mounts_of ("[{\"Type\":\"bind\",\"Source\":\"/x\",\"Destination\":\"/proc/sys\","
                          "\"RW\":true}]");
  build_fails (CMD, "{}", &bad,
               "invalid mount destination \"/proc/sys\": cannot be mounted on or under /proc");
  json_decref (bad.mounts);
  bad.mounts = mounts_of ("[{\"Type\":\"bind\",\"Source\":\"/x\",\"Destination\":"
                          "\"/proc/meminfo\",\"RW\":false}]");
  cleanup_json json_t *lx = build_ok (CMD, "{}", &bad);
  assert_non_null (mount_at (lx, "/proc/meminfo"));
  json_decref (bad.mounts);
  bad.mounts = mounts_of ("[{\"Type\":\"tmpfs\",\"Destination\":\"/t\",\"RW\":true,"
                          "\"Options\":[\"bogus\"]}]");
  build_fails (CMD, "{}", &bad, "tmpfs /t: invalid tmpfs option \"bogus\"");
  json_decref (bad.mounts);
  bad.mounts = mounts_of ("[{\"Type\":\"npipe\",\"Source\":\"/x\",\"Destination\":\"/x\"}]");
  build_fails (CMD, "{}", &bad, "mount /x: unsupported type \"npipe\"");
  json_decref (bad.mounts);
  build_fails (CMD, "{\"Tmpfs\":{\"relative\":\"\"}}", NULL,
               "invalid mount destination \"relative\": not absolute");
}

static void test_tmpfs_merge (void **state)
{
  (void)state;
  char *in[] = { "noexec",  "nosuid", "nodev", "rprivate", "size=1m",     "defaults", "exec",
                 "size=2m", "shared", "rw",    "ro",       "nr_inodes=5", NULL };
  cleanup_strv char **out = NULL;
  cleanup_berr berr_t err = BERR_INIT;
  assert_int_equal (spec_merge_tmpfs_options (in, &out, &err), 0);
  json_t *j = json_from_strv (out);
  json_t *w = json_pack ("{s:o}", "o", j);
  assert_strs (w, "o", "nosuid nodev exec size=2m shared ro nr_inodes=5");
  json_decref (w);
  char *bad1[] = { "size", NULL };
  char *bad2[] = { "foo=1", NULL };
  cleanup_strv char **o2 = NULL;
  assert_int_equal (spec_merge_tmpfs_options (bad1, &o2, &err), -1);
  assert_string_equal (err.msg, "invalid tmpfs option \"size\"");
  assert_int_equal (spec_merge_tmpfs_options (bad2, &o2, &err), -1);
  assert_string_equal (err.msg, "invalid tmpfs option \"foo=1\"");
}

/* Shared/slave binds need a shared (or slave) source mount and raise rootfsPropagation.  Run
 * in a child with a private mount namespace, so nothing reaches the host's mount table. */
static void test_propagation (void **state)
{
  (void)state;
  if (geteuid () != 0)
    {
      skip ();
      return;
    }
  cleanup_free char *dir = mkpath ("%s/prop", g_dir);
  mkdir (dir, 0755);
  pid_t pid = fork ();
  assert_true (pid >= 0);
  if (pid == 0)
    {
      int code = 1;
      if (unshare (CLONE_NEWNS) < 0 || mount (NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0
          || mount ("tmpfs", dir, "tmpfs", 0, "size=64k") < 0)
        _exit (10);
      const char *hc = "{}";
      char *mjson = xasprintf ("[{\"Type\":\"bind\",\"Source\":\"%s\",\"Destination\":\"/s\","
                               "\"RW\":true,\"Propagation\":\"rshared\"}]",
                               dir);
      char *sjson = xasprintf ("[{\"Type\":\"bind\",\"Source\":\"%s\",\"Destination\":\"/s\","
                               "\"RW\":true,\"Propagation\":\"rslave\"}]",
                               dir);
      struct extra x = { .mounts = jparse (mjson) };
      struct extra y = { .mounts = jparse (sjson) };
      json_t *spec = NULL;
      berr_t err = BERR_INIT;
      cleanup_free char *want
          = xasprintf ("path %s is mounted on %s but it is not a shared mount", dir, dir);
      cleanup_free char *want2
          = xasprintf ("path %s is mounted on %s but it is not a shared or slave mount", dir, dir);
      if (build (CMD, hc, &x, &spec, &err) == 0 || strcmp (err.msg, want) != 0)
        _exit (11);
      berr_release (&err);
      if (build (CMD, hc, &y, &spec, &err) == 0 || strcmp (err.msg, want2) != 0)
        _exit (12);
      berr_release (&err);
      if (mount (NULL, dir, NULL, MS_SHARED, NULL) < 0)
        _exit (13);
      if (build (CMD, hc, &x, &spec, &err) < 0)
        _exit (14);
      const char *rp = json_string_value (jget (spec, "linux.rootfsPropagation"));
      if (!rp || strcmp (rp, "shared") != 0)
        _exit (15);
      json_decref (spec);
      if (build (CMD, hc, &y, &spec, &err) < 0)
        _exit (16);
      rp = json_string_value (jget (spec, "linux.rootfsPropagation"));
      if (!rp || strcmp (rp, "rslave") != 0)
        _exit (17);
      cleanup_free char *opts = json_dump_compact (jget (spec, "mounts.7.options"));
      if (strcmp (opts, "[\"rbind\",\"rslave\"]") != 0)
        _exit (18);
      json_decref (spec);
      code = 0;
      _exit (code);
    }
  int st;
  assert_int_equal (waitpid (pid, &st, 0), pid);
  assert_true (WIFEXITED (st));
  assert_int_equal (WEXITSTATUS (st), 0);
  rmdir (dir);
}

/* ------------------------------------------------------------------------------------ users */

struct user_case
{
  const char *user;
  const char *group_add; /* space separated, or NULL */
  long long uid, gid;
  const char *gids; /* additionalGids, space separated */
  const char *error;
};

static void check_user (const char *rootfs, const struct user_case *c)
{
  cleanup_strv char **ga = NULL;
  if (c->group_add)
    {
      cleanup_free char *copy = xstrdup (c->group_add);
      char *save = NULL;
      for (char *t = strtok_r (copy, " ", &save); t; t = strtok_r (NULL, " ", &save))
        strv_push (&ga, t);
    }
  cleanup_json json_t *u = NULL;
  cleanup_berr berr_t err = BERR_INIT;
  int r = spec_resolve_user (rootfs, c->user, ga, &u, &err);
  if (c->error)
    {
      if (r == 0)
        fail_msg ("user \"%s\": expected error \"%s\"", c->user, c->error);
      if (strcmp (err.msg, c->error) != 0)
        fail_msg ("user \"%s\": got \"%s\", expected \"%s\"", c->user, err.msg, c->error);
      return;
    }
  if (r < 0)
    fail_msg ("user \"%s\": %s", c->user, err.msg);
  if (jint (u, "uid") != c->uid || jint (u, "gid") != c->gid)
    fail_msg ("user \"%s\": uid %lld gid %lld, expected %lld %lld", c->user,
              (long long)jint (u, "uid"), (long long)jint (u, "gid"), c->uid, c->gid);
  assert_ints (u, "additionalGids", c->gids);
}

static void test_users (void **state)
{
  (void)state;
  static const struct user_case cases[] = {
    { "", NULL, 0, 0, "0 10", NULL },
    { NULL, NULL, 0, 0, "0 10", NULL },
    { "root", NULL, 0, 0, "0 10", NULL },
    { "0", NULL, 0, 0, "0 10", NULL },
    { "berth", NULL, 1000, 1000, "1000 10 29", NULL },
    { "1000", NULL, 1000, 1000, "1000 10 29", NULL },
    { "+1000", NULL, 1000, 1000, "1000 10 29", NULL },
    { "daemon", NULL, 1, 1, "1 29", NULL },
    { "berth:audio", NULL, 1000, 29, "29", NULL },
    { "1000:29", NULL, 1000, 29, "29", NULL },
    { "berth:4242", NULL, 1000, 4242, "4242", NULL },
    { "berth:", NULL, 1000, 1000, "1000 10 29", NULL },
    { "4242", NULL, 4242, 0, "0", NULL },
    { "4242:wheel", NULL, 4242, 10, "10", NULL },
    { ":audio", NULL, 0, 29, "29", NULL },
    { "berth:audio:extra", NULL, 1000, 29, "29", NULL },
    { "odd", NULL, 0, 0, "0", NULL }, /* unparsable numbers read as 0, as Docker */
    { "nobody", NULL, 65534, 65534, "65534", NULL },
    { "", "audio 4000 audio berth 29", 0, 0, "0 10 29 4000 1000", NULL },
    { "berth", "nogroup", 1000, 1000, "1000 10 29 65534", NULL },
    { "nope", NULL, 0, 0, NULL, "unable to find user nope: no matching entries in passwd file" },
    { "comment", NULL, 0, 0, NULL,
      "unable to find user comment: no matching entries in passwd file" },
    { "berth:nogrp", NULL, 0, 0, NULL,
      "unable to find group nogrp: no matching entries in group file" },
    { "berth:comment", NULL, 0, 0, NULL,
      "unable to find group comment: no matching entries in group file" },
    { "", "nogrp", 0, 0, NULL, "unable to find group nogrp: no matching entries in group file" },
    { "-1", NULL, 0, 0, NULL, "uids and gids must be in range 0-2147483647" },
    { "2147483648", NULL, 0, 0, NULL, "uids and gids must be in range 0-2147483647" },
    { "99999999999999999999", NULL, 0, 0, NULL, "uids and gids must be in range 0-2147483647" },
    { "berth:-5", NULL, 0, 0, NULL, "uids and gids must be in range 0-2147483647" },
    { "", "-5", 0, 0, NULL, "uids and gids must be in range 0-2147483647" },
    { "2147483647", NULL, 2147483647, 0, "0", NULL },
  };
  for (size_t i = 0; i < ARRAY_SIZE (cases); i++)
    check_user (g_rootfs, &cases[i]);

  /* the spec carries the same, with GroupAdd from the HostConfig */
  cleanup_json json_t *s
      = build_ok ("{\"Cmd\":[\"sh\"],\"User\":\"berth\"}",
                  "{\"GroupAdd\":[\"nogroup\",\"7\"],\"Annotations\":{\"a.b\":\"c\"}}", NULL);
  assert_int_equal (jint (s, "process.user.uid"), 1000);
  assert_string_equal (json_string_value (json_object_get (jget (s, "annotations"), "a.b")), "c");
  assert_ints (s, "process.user.additionalGids", "1000 10 29 65534 7");
  build_fails ("{\"Cmd\":[\"sh\"],\"User\":\"nope\"}", "{}", NULL,
               "unable to find user nope: no matching entries in passwd file");
}

/* A rootfs whose /etc/passwd and /etc/group are symlinks to files outside it: they must be
 * resolved inside the rootfs (where they do not exist), never on the host. */
static void test_user_files_confined (void **state)
{
  (void)state;
  cleanup_free char *host = mkpath ("%s/hostfiles", g_dir);
  cleanup_free char *hp = mkpath ("%s/passwd", host);
  cleanup_free char *hg = mkpath ("%s/group", host);
  mkdir (host, 0755);
  write_file (hp, "root:x:0:0::/:/bin/sh\nhostonly:x:777:777::/:/bin/sh\n");
  write_file (hg, "root:x:0:hostonly\nhostgrp:x:778:root,hostonly\n");

  static const char *const variants[] = { "abs", "rel", "etcdir" };
  for (size_t v = 0; v < ARRAY_SIZE (variants); v++)
    {
      cleanup_free char *root = mkpath ("%s/evil-%s", g_dir, variants[v]);
      cleanup_free char *etc = mkpath ("%s/etc", root);
      mkdir (root, 0755);
      if (v == 2)
        assert_int_equal (symlink (host, etc), 0); /* /etc -> host dir */
      else
        {
          mkdir (etc, 0755);
          cleanup_free char *p = mkpath ("%s/passwd", etc);
          cleanup_free char *g = mkpath ("%s/group", etc);
          cleanup_free char *tp = v == 0 ? xstrdup (hp) : mkpath ("../../../../../../..%s", hp);
          cleanup_free char *tg = v == 0 ? xstrdup (hg) : mkpath ("../../../../../../..%s", hg);
          assert_int_equal (symlink (tp, p), 0);
          assert_int_equal (symlink (tg, g), 0);
        }
      static const struct user_case c1 = {
        "hostonly", NULL, 0,
        0,          NULL, "unable to find user hostonly: no matching entries in passwd file"
      };
      check_user (root, &c1);
      static const struct user_case c2 = { "", NULL, 0, 0, "0", NULL }; /* no groups read */
      check_user (root, &c2);
      static const struct user_case c3 = {
        "0:hostgrp", NULL, 0,
        0,           NULL, "unable to find group hostgrp: no matching entries in group file"
      };
      check_user (root, &c3);
      cleanup_berr berr_t err = BERR_INIT;
      assert_int_equal (fs_rm_rf (root, &err), 0);
    }

  /* non-regular files count as absent: a FIFO must not block, a directory is skipped */
  cleanup_free char *root = mkpath ("%s/odd-files", g_dir);
  cleanup_free char *etc = mkpath ("%s/etc", root);
  cleanup_free char *p = mkpath ("%s/passwd", etc);
  cleanup_free char *g = mkpath ("%s/group", etc);
  mkdir (root, 0755);
  mkdir (etc, 0755);
  assert_int_equal (mkfifo (p, 0644), 0);
  mkdir (g, 0755);
  static const struct user_case c4 = { "1000", NULL, 1000, 0, "0", NULL };
  check_user (root, &c4);
  static const struct user_case c5 = {
    "berth", NULL, 0, 0, NULL, "unable to find user berth: no matching entries in passwd file"
  };
  check_user (root, &c5);
  /* bounded: 10 MiB at most */
  unlink (p);
  {
    FILE *f = fopen (p, "we");
    assert_non_null (f);
    static char line[1024];
    memset (line, '#', sizeof line - 1);
    line[sizeof line - 2] = '\n';
    for (int i = 0; i < 10300; i++) /* 10300 * 1023 > 10 MiB */
      fputs (line, f);
    fclose (f);
  }
  static const struct user_case c6 = { "root",
                                       NULL,
                                       0,
                                       0,
                                       NULL,
                                       "unable to find user root: read /etc/passwd: file exceeds "
                                       "10485760 bytes" };
  check_user (root, &c6);
  cleanup_berr berr_t err = BERR_INIT;
  assert_int_equal (fs_rm_rf (root, &err), 0);
  assert_int_equal (fs_rm_rf (host, &err), 0);
  /* a missing rootfs is an error, not "no passwd" */
  cleanup_json json_t *u = NULL;
  assert_int_equal (spec_resolve_user ("/nonexistent-rootfs", "", NULL, &u, &err), -1);
}

/* ------------------------------------------------------------------------------------ merge */

static json_t *merged (const char *config, const char *image)
{
  json_t *c = jparse (config);
  cleanup_json json_t *i = image ? jparse (image) : NULL;
  cleanup_berr berr_t err = BERR_INIT;
  if (spec_merge_image_config (c, i, &err) < 0)
    fail_msg ("merge %s + %s: %s", config, image, err.msg);
  return c;
}

static void assert_json (json_t *j, const char *key, const char *expected)
{
  cleanup_free char *got
      = json_dumps (json_object_get (j, key), JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
  if (strcmp (got ? got : "(absent)", expected) != 0)
    fail_msg ("%s: got %s, expected %s", key, got ? got : "(absent)", expected);
}

static void test_merge (void **state)
{
  (void)state;
  const char *img = "{\"User\":\"berth\",\"Env\":[\"PATH=/img\",\"A=img\",\"C=img\"],"
                    "\"Cmd\":[\"img-cmd\"],\"Entrypoint\":null,\"WorkingDir\":\"/img\","
                    "\"Labels\":{\"a\":\"img\",\"b\":\"img\"},\"StopSignal\":\"SIGQUIT\","
                    "\"ExposedPorts\":{\"80/tcp\":{}},\"Volumes\":{\"/data\":{}},"
                    "\"OnBuild\":[\"RUN x\"],"
                    "\"Healthcheck\":{\"Test\":[\"CMD\",\"true\"],\"Interval\":5000000000,"
                    "\"Retries\":3}}";
  cleanup_json json_t *a
      = merged ("{\"Env\":[\"A=ctr\",\"B=ctr\"],\"Labels\":{\"a\":\"ctr\"},\"ExposedPorts\":"
                "{\"443/tcp\":{}},\"Volumes\":{\"/v\":{}},\"Healthcheck\":{\"Test\":[\"NONE\"]}}",
                img);
  assert_json (a, "Env", "[\"A=ctr\",\"B=ctr\",\"PATH=/img\",\"C=img\"]");
  assert_json (a, "Cmd", "[\"img-cmd\"]");
  assert_json (a, "Entrypoint", "(absent)");
  assert_json (a, "User", "\"berth\"");
  assert_json (a, "WorkingDir", "\"/img\"");
  assert_json (a, "StopSignal", "\"SIGQUIT\"");
  assert_json (a, "Labels", "{\"a\":\"ctr\",\"b\":\"img\"}");
  assert_json (a, "ExposedPorts", "{\"443/tcp\":{},\"80/tcp\":{}}");
  assert_json (a, "Volumes", "{\"/data\":{},\"/v\":{}}");
  assert_json (a, "Healthcheck", "{\"Interval\":5000000000,\"Retries\":3,\"Test\":[\"NONE\"]}");
  assert_json (a, "OnBuild", "(absent)");

  /* the container's values win; an Entrypoint without Cmd drops the image's Cmd */
  cleanup_json json_t *b = merged ("{\"User\":\"root\",\"WorkingDir\":\"/w\",\"Entrypoint\":"
                                   "[\"/ep\"],\"StopSignal\":\"SIGTERM\",\"Env\":null}",
                                   img);
  assert_json (b, "User", "\"root\"");
  assert_json (b, "WorkingDir", "\"/w\"");
  assert_json (b, "Entrypoint", "[\"/ep\"]");
  assert_json (b, "Cmd", "(absent)");
  assert_json (b, "StopSignal", "\"SIGTERM\"");
  assert_json (b, "Env", "[\"PATH=/img\",\"A=img\",\"C=img\"]");
  assert_json (b, "Healthcheck",
               "{\"Interval\":5000000000,\"Retries\":3,\"Test\":[\"CMD\",\"true\"]}");

  /* the image's Entrypoint with the container's Cmd */
  cleanup_json json_t *c
      = merged ("{\"Cmd\":[\"x\"]}", "{\"Entrypoint\":[\"/iep\"],\"Cmd\":[\"icmd\"]}");
  assert_json (c, "Entrypoint", "[\"/iep\"]");
  assert_json (c, "Cmd", "[\"x\"]");
  /* an explicit empty Entrypoint keeps the image's out, and takes its Cmd */
  cleanup_json json_t *d
      = merged ("{\"Entrypoint\":[]}", "{\"Entrypoint\":[\"/iep\"],\"Cmd\":[\"icmd\"]}");
  assert_json (d, "Entrypoint", "[]");
  assert_json (d, "Cmd", "[\"icmd\"]");
  /* --entrypoint "" resets it */
  cleanup_json json_t *e = merged ("{\"Entrypoint\":[\"\"],\"Cmd\":[\"c\"]}",
                                   "{\"Entrypoint\":[\"/iep\"],\"Cmd\":[\"icmd\"]}");
  assert_json (e, "Entrypoint", "null");
  assert_json (e, "Cmd", "[\"c\"]");
  /* no image config at all */
  cleanup_json json_t *f = merged ("{\"Cmd\":[\"c\"]}", NULL);
  assert_json (f, "Labels", "{}");

  static const struct
  {
    const char *config, *image;
  } none[] = {
    { "{}", "{}" },
    { "{}", NULL },
    { "{\"Entrypoint\":[\"\"]}", "{\"Cmd\":[\"icmd\"]}" },
    { "{\"Cmd\":[]}", "{\"Cmd\":null}" },
  };
  for (size_t i = 0; i < ARRAY_SIZE (none); i++)
    {
      cleanup_json json_t *cfg = jparse (none[i].config);
      cleanup_json json_t *im = none[i].image ? jparse (none[i].image) : NULL;
      cleanup_berr berr_t err = BERR_INIT;
      assert_int_equal (spec_merge_image_config (cfg, im, &err), -1);
      assert_string_equal (err.msg, "No command specified");
    }
}

/* ------------------------------------------------------------------------------------- exec */

static void test_exec_process (void **state)
{
  (void)state;
  cleanup_json json_t *s
      = build_ok ("{\"Cmd\":[\"sh\"],\"User\":\"berth\",\"Env\":[\"A=1\",\"B=2\"],"
                  "\"WorkingDir\":\"/w\",\"Hostname\":\"h\"}",
                  "{\"GroupAdd\":[\"nogroup\"],\"SecurityOpt\":[\"no-new-privileges\"],"
                  "\"CapDrop\":[\"NET_RAW\"],\"OomScoreAdj\":10}",
                  NULL);
  char *args[] = { "ls", "-l", NULL };
  char *env[] = { "A=9", "X=1", "B", NULL };
  cleanup_json json_t *p = NULL;
  cleanup_berr berr_t err = BERR_INIT;
  assert_int_equal (spec_exec_process (s, g_rootfs, args, env, NULL, NULL, false, false, &p, &err),
                    0);
  assert_strs (p, "args", "ls -l");
  assert_strs (p, "env",
               "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin "
               "HOSTNAME=h A=9 X=1");
  assert_string_equal (jstr (p, "cwd"), "/w");
  assert_int_equal (jint (p, "user.uid"), 1000);
  assert_ints (p, "user.additionalGids", "1000 10 29 65534");
  assert_true (json_is_true (jget (p, "noNewPrivileges")));
  assert_true (json_is_false (jget (p, "terminal")));
  assert_int_equal (jint (p, "oomScoreAdj"), 10);
  assert_true (json_equal (jget (p, "capabilities"), jget (s, "process.capabilities")));
  assert_true (json_equal (jget (p, "rlimits"), jget (s, "process.rlimits")));

  /* -u root -w /tmp -t --privileged: groups of root plus the container's --group-add */
  json_decref (p);
  p = NULL;
  char *none[] = { NULL };
  assert_int_equal (
      spec_exec_process (s, g_rootfs, args, none, "root", "/tmp", true, true, &p, &err), 0);
  assert_int_equal (jint (p, "user.uid"), 0);
  assert_ints (p, "user.additionalGids", "0 10 65534");
  assert_string_equal (jstr (p, "cwd"), "/tmp");
  assert_true (json_is_true (jget (p, "terminal")));
  assert_true (strs_have (jget (p, "env"), "TERM=xterm"));
  cleanup_strv char **all = NULL;
  assert_int_equal (caps_compute (NULL, NULL, true, &all, &err), 0);
  assert_int_equal (json_array_size (jget (p, "capabilities.bounding")), strv_len (all));
  assert_int_equal (json_array_size (jget (p, "capabilities.effective")), strv_len (all));
  assert_int_equal (json_array_size (jget (p, "capabilities.inheritable")), 0);
  assert_true (strs_have (jget (p, "capabilities.permitted"), "CAP_NET_RAW"));

  json_decref (p);
  p = NULL;
  assert_int_equal (
      spec_exec_process (s, g_rootfs, args, NULL, "nope", NULL, false, false, &p, &err), -1);
  assert_string_equal (err.msg, "unable to find user nope: no matching entries in passwd file");
  assert_int_equal (spec_exec_process (s, g_rootfs, none, NULL, NULL, NULL, false, false, &p, &err),
                    -1);
  assert_string_equal (err.msg, "No exec command specified");
}

/* ------------------------------------------------------------------------------------ main */

static int setup (void **state)
{
  (void)state;
  char tmpl[] = "/tmp/berth-spec-XXXXXX";
  assert_non_null (mkdtemp (tmpl));
  g_dir = xstrdup (tmpl);
  g_rootfs = mkpath ("%s/rootfs", g_dir);
  cleanup_free char *etc = mkpath ("%s/etc", g_rootfs);
  cleanup_free char *pw = mkpath ("%s/passwd", etc);
  cleanup_free char *gr = mkpath ("%s/group", etc);
  mkdir (g_rootfs, 0755);
  mkdir (etc, 0755);
  write_file (pw, passwd_text);
  write_file (gr, group_text);
  return 0;
}

static int teardown (void **state)
{
  (void)state;
  cleanup_berr berr_t err = BERR_INIT;
  fs_rm_rf (g_dir, &err);
  free (g_dir);
  free (g_rootfs);
  return 0;
}

int main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_defaults),
    cmocka_unit_test (test_default_sysctls),
    cmocka_unit_test (test_process_fields),
    cmocka_unit_test (test_args_and_init),
    cmocka_unit_test (test_privileged),
    cmocka_unit_test (test_readonly_rootfs),
    cmocka_unit_test (test_host_namespaces),
    cmocka_unit_test (test_container_namespaces),
    cmocka_unit_test (test_hostname_conflicts),
    cmocka_unit_test (test_sysctls),
    cmocka_unit_test (test_default_device_rules),
    cmocka_unit_test (test_device_cgroup_rules),
    cmocka_unit_test (test_device_mappings),
    cmocka_unit_test (test_resources),
    cmocka_unit_test (test_ulimits),
    cmocka_unit_test (test_security_opts),
    cmocka_unit_test (test_caps),
    cmocka_unit_test (test_user_mounts),
    cmocka_unit_test (test_tmpfs_merge),
    cmocka_unit_test (test_propagation),
    cmocka_unit_test (test_users),
    cmocka_unit_test (test_user_files_confined),
    cmocka_unit_test (test_merge),
    cmocka_unit_test (test_exec_process),
  };
  return cmocka_run_group_tests (tests, setup, teardown);
}
