/* test_seccomp.c — Docker's capability rules (caps.c) and seccomp profiles (seccomp_profile.c):
 * the built-in default profile against moby's own default.json (tests/fixtures/seccomp), the
 * conditional rules for capabilities, architectures and kernels, Docker-format parsing, and
 * libseccomp accepting every resolved rule (built in-process, never loaded). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "runtime/caps.h"
#include "runtime/seccomp.h"
#include "runtime/seccomp_profile.h"
#include "util/fs.h"
#include "util/json.h"

#define ALL_41 ((UINT64_C (1) << 41) - 1)
#define BIT(c) (UINT64_C (1) << (c))

/* ---------------------------------------------------------------- capabilities */

static uint64_t mask_of (char **names)
{
  uint64_t m = 0;
  for (size_t i = 0; names && names[i]; i++)
    {
      int c = caps_from_name (names[i]);
      assert_true (c >= 0);
      assert_string_equal (names[i], caps_name (c)); /* always the CAP_ form */
      assert_false (m & BIT (c));                    /* no duplicates */
      if (i > 0)
        assert_true (caps_from_name (names[i - 1]) < c); /* capability-number order */
      m |= BIT (c);
    }
  return m;
}

/* caps_compute_bounded with lists given inline; NULL-terminated, NULL alone = empty. */
static uint64_t compute (uint64_t bounding, bool privileged, const char *const *add,
                         const char *const *drop)
{
  cleanup_strv char **out = NULL;
  cleanup_berr berr_t err = BERR_INIT;
  if (caps_compute_bounded ((char *const *)add, (char *const *)drop, privileged, bounding, &out,
                            &err)
      < 0)
    fail_msg ("caps_compute: %s", err.msg);
  assert_non_null (out);
  return mask_of (out);
}

static const char *compute_error (uint64_t bounding, const char *const *add,
                                  const char *const *drop, berr_t *err)
{
  char **out = (char **)1;
  assert_int_equal (
      caps_compute_bounded ((char *const *)add, (char *const *)drop, false, bounding, &out, err),
      -1);
  assert_null (out);
  assert_int_equal (err->kind, BERR_INVALID);
  return err->msg;
}

#define L(...) ((const char *const[]){ __VA_ARGS__, NULL })
#define DOCKER_DEFAULT UINT64_C (0xa80425fb) /* CapEff of root in a default Docker container */

static void test_caps_names (void **state)
{
  assert_int_equal (caps_from_name ("CAP_SYS_ADMIN"), 21);
  assert_int_equal (caps_from_name ("SYS_ADMIN"), 21);
  assert_int_equal (caps_from_name ("sys_admin"), 21);
  assert_int_equal (caps_from_name ("Cap_Sys_Admin"), 21);
  assert_int_equal (caps_from_name ("cap_checkpoint_restore"), 40);
  assert_int_equal (caps_from_name ("CAP_FOO"), -1);
  assert_int_equal (caps_from_name ("ALL"), -1);
  assert_int_equal (caps_from_name ("CAP_"), -1);
  assert_int_equal (caps_from_name (""), -1);
  assert_int_equal (caps_from_name (NULL), -1);
  assert_int_equal (caps_from_name ("SYS_ADMIN "), -1);
  assert_string_equal (caps_name (0), "CAP_CHOWN");
  assert_string_equal (caps_name (24), "CAP_SYS_RESOURCE");
  assert_string_equal (caps_name (38), "CAP_PERFMON");
  assert_string_equal (caps_name (39), "CAP_BPF");
  assert_null (caps_name (-1));
  assert_null (caps_name (41));
  assert_null (caps_name (64));
  for (int c = 0; c <= 40; c++)
    {
      assert_non_null (caps_name (c));
      assert_int_equal (caps_from_name (caps_name (c)), c);
      assert_int_equal (caps_from_name (caps_name (c) + 4), c); /* without CAP_ */
    }
}

static void test_caps_host (void **state)
{
  cleanup_free char *data = NULL;
  cleanup_berr berr_t err = BERR_INIT;
  size_t len;

  if (fs_read_file ("/proc/sys/kernel/cap_last_cap", 64, &data, &len, &err) < 0)
    fail_msg ("%s", err.msg);
  assert_int_equal (caps_last_cap (), atoi (data));

  uint64_t bnd = caps_host_bounding (), probed = 0;
  for (int c = 0; c <= caps_last_cap (); c++)
    if (prctl (PR_CAPBSET_READ, (unsigned long)c, 0, 0, 0) == 1)
      probed |= BIT (c);
  assert_true (bnd == probed);

  /* Privileged gets exactly the host's bounding set (the named part of it). */
  cleanup_strv char **priv = NULL;
  if (caps_compute (NULL, NULL, true, &priv, &err) < 0)
    fail_msg ("%s", err.msg);
  assert_true (mask_of (priv) == (bnd & ALL_41));

  /* This machine's bounding set lacks CAP_SYS_RESOURCE (why Docker's --privileged fails here);
   * wherever it is missing, adding it must fail and privileged must not list it. */
  if (!(bnd & BIT (24)))
    {
      cleanup_strv char **out = NULL;
      assert_false (strv_contains (priv, "CAP_SYS_RESOURCE"));
      assert_int_equal (caps_compute ((char *const *)L ("SYS_RESOURCE"), NULL, false, &out, &err),
                        -1);
      assert_non_null (strstr (err.msg, "\"CAP_SYS_RESOURCE\""));
      print_message ("# host bounding set lacks CAP_SYS_RESOURCE: checked\n");
    }

  const char *const *d = caps_docker_default ();
  assert_int_equal (strv_len ((char *const *)d), 14);
}

static void test_caps_defaults (void **state)
{
  assert_true (compute (ALL_41, false, NULL, NULL) == DOCKER_DEFAULT);
  assert_true (compute (ALL_41, false, L (NULL), L (NULL)) == DOCKER_DEFAULT);
  uint64_t m = 0;
  for (const char *const *d = caps_docker_default (); *d; d++)
    m |= BIT (caps_from_name (*d));
  assert_true (m == DOCKER_DEFAULT);
  /* Inside a container whose bounding set lacks MKNOD, the default cannot include it. */
  assert_true (compute (ALL_41 & ~BIT (27), false, NULL, NULL) == (DOCKER_DEFAULT & ~BIT (27)));
}

static void test_caps_add_drop (void **state)
{
  /* Names in any case, with or without CAP_. */
  assert_true (compute (ALL_41, false, L ("sys_admin"), L ("CAP_net_raw"))
               == ((DOCKER_DEFAULT | BIT (21)) & ~BIT (13)));
  assert_true (compute (ALL_41, false, L ("NET_ADMIN", "cap_sys_ptrace"), NULL)
               == (DOCKER_DEFAULT | BIT (12) | BIT (19)));
  assert_true (compute (ALL_41, false, NULL, L ("chown", "kill", "CAP_KILL"))
               == (DOCKER_DEFAULT & ~(BIT (0) | BIT (5))));
  /* Dropping what is not there is no error. */
  assert_true (compute (ALL_41, false, NULL, L ("SYS_ADMIN")) == DOCKER_DEFAULT);
  /* Docker drops first, then adds: a name in both lists is kept. */
  assert_true (compute (ALL_41, false, L ("CHOWN"), L ("CHOWN")) == DOCKER_DEFAULT);
  assert_true (compute (ALL_41, false, L ("SYS_ADMIN"), L ("sys_admin"))
               == (DOCKER_DEFAULT | BIT (21)));
  /* Duplicates in the add list collapse. */
  assert_true (compute (ALL_41, false, L ("SYS_TIME", "CAP_SYS_TIME", "sys_time"), NULL)
               == (DOCKER_DEFAULT | BIT (25)));
}

static void test_caps_all (void **state)
{
  uint64_t host = ALL_41 & ~BIT (24); /* like this machine: no CAP_SYS_RESOURCE */
  assert_true (compute (host, false, L ("ALL"), NULL) == host);
  assert_true (compute (host, false, L ("all"), L ("MKNOD", "net_raw"))
               == (host & ~(BIT (27) | BIT (13))));
  /* --cap-add ALL wins over --cap-drop ALL, as in Docker. */
  assert_true (compute (host, false, L ("ALL"), L ("ALL")) == host);
  assert_true (compute (host, false, NULL, L ("ALL")) == 0);
  assert_true (compute (host, false, L ("chown"), L ("all")) == BIT (0));
  assert_true (compute (host, false, L ("NET_ADMIN", "SYS_ADMIN"), L ("ALL", "CHOWN"))
               == (BIT (12) | BIT (21)));
  /* An empty result is an empty list, not NULL. */
  cleanup_strv char **out = NULL;
  cleanup_berr berr_t err = BERR_INIT;
  assert_int_equal (caps_compute_bounded (NULL, (char *const *)L ("ALL"), false, host, &out, &err),
                    0);
  assert_non_null (out);
  assert_null (out[0]);
}

static void test_caps_privileged (void **state)
{
  uint64_t host = ALL_41 & ~BIT (24);
  assert_true (compute (host, true, NULL, NULL) == host);
  assert_true (compute (ALL_41, true, NULL, NULL) == ALL_41);
  /* Capabilities the kernel has but berth cannot name are never listed. */
  assert_true (compute (~UINT64_C (0), true, NULL, NULL) == ALL_41);
  /* Docker ignores --cap-add and --cap-drop (and does not check them) when privileged. */
  assert_true (compute (host, true, L ("FOO"), L ("ALL")) == host);
  assert_int_equal (__builtin_popcountll (compute (host, true, NULL, NULL)), 40);
}

static void test_caps_errors (void **state)
{
  {
    cleanup_berr berr_t err = BERR_INIT;
    assert_string_equal (compute_error (ALL_41, L ("foo"), NULL, &err),
                         "unknown capability: \"CAP_FOO\"");
  }
  {
    cleanup_berr berr_t err = BERR_INIT;
    assert_string_equal (compute_error (ALL_41, L ("chown", "Cap_Bogus"), NULL, &err),
                         "unknown capability: \"CAP_BOGUS\"");
  }
  {
    /* The drop list is checked first. */
    cleanup_berr berr_t err = BERR_INIT;
    assert_string_equal (compute_error (ALL_41, L ("foo"), L ("bar"), &err),
                         "unknown capability: \"CAP_BAR\"");
  }
  {
    cleanup_berr berr_t err = BERR_INIT;
    assert_string_equal (compute_error (ALL_41, L (""), NULL, &err),
                         "unknown capability: \"CAP_\"");
  }
  {
    cleanup_berr berr_t err = BERR_INIT;
    const char *m = compute_error (ALL_41 & ~BIT (24), L ("CHOWN", "sys_resource"), NULL, &err);
    assert_non_null (strstr (m, "\"CAP_SYS_RESOURCE\""));
    assert_non_null (strstr (m, "bounding set lacks it"));
  }
  {
    /* Also with ALL in the list: the named one is still checked. */
    cleanup_berr berr_t err = BERR_INIT;
    const char *m = compute_error (ALL_41 & ~BIT (24), L ("ALL", "SYS_RESOURCE"), NULL, &err);
    assert_non_null (strstr (m, "\"CAP_SYS_RESOURCE\""));
  }
}

/* ---------------------------------------------------------------- seccomp helpers */

static const struct seccomp_host host_amd64_6 = { "amd64", true, 6, 1 };
static const struct seccomp_host host_amd64_4_7 = { "amd64", true, 4, 7 };
static const struct seccomp_host host_amd64_4_8 = { "amd64", true, 4, 8 };
static const struct seccomp_host host_arm64 = { "arm64", true, 5, 10 };
static const struct seccomp_host host_s390x = { "s390x", true, 5, 10 };
static const struct seccomp_host host_riscv64 = { "riscv64", true, 6, 6 };
static const struct seccomp_host host_ppc64le = { "ppc64le", true, 3, 10 };
static const struct seccomp_host host_unknown = { NULL, false, 0, 0 };

static char **default_caps (void) { return strv_dup ((char *const *)caps_docker_default ()); }

static char **caps_plus (const char *extra)
{
  char **v = default_caps ();
  strv_push (&v, extra);
  return v;
}

static bool names_have (json_t *rule, const char *name)
{
  json_t *n;
  size_t i;
  json_array_foreach (json_object_get (rule, "names"), i, n)
  {
    if (strcmp (json_string_value (n), name) == 0)
      return true;
  }
  return false;
}

/* Allowed without conditions: some SCMP_ACT_ALLOW rule names it and has no args. */
static bool allowed (json_t *prof, const char *name)
{
  json_t *r;
  size_t i;
  json_array_foreach (json_object_get (prof, "syscalls"), i, r)
  {
    if (names_have (r, name)
        && strcmp (json_string_value (json_object_get (r, "action")), "SCMP_ACT_ALLOW") == 0
        && json_array_size (json_object_get (r, "args")) == 0)
      return true;
  }
  return false;
}

static size_t count_rules (json_t *prof, const char *name)
{
  json_t *r;
  size_t i, n = 0;
  json_array_foreach (json_object_get (prof, "syscalls"), i, r)
  {
    if (names_have (r, name))
      n++;
  }
  return n;
}

/* The only rule naming `name`; fails when there is not exactly one. */
static json_t *only_rule (json_t *prof, const char *name)
{
  json_t *r, *found = NULL;
  size_t i;
  json_array_foreach (json_object_get (prof, "syscalls"), i, r)
  {
    if (names_have (r, name))
      {
        if (found)
          fail_msg ("two rules name %s", name);
        found = r;
      }
  }
  if (found == NULL)
    fail_msg ("no rule names %s", name);
  return found;
}

static void assert_arches (json_t *prof, const char *const *want)
{
  json_t *a = json_object_get (prof, "architectures");
  assert_int_equal (json_array_size (a), strv_len ((char *const *)want));
  for (size_t i = 0; want[i]; i++)
    assert_string_equal (json_string_value (json_array_get (a, i)), want[i]);
}

static char *fixture (const char *name)
{
  const char *src = getenv ("BERTH_SOURCE_DIR");
  cleanup_free char *path = xasprintf ("%s/tests/fixtures/seccomp/%s", src ? src : ".", name);
  cleanup_berr berr_t err = BERR_INIT;
  char *data = NULL;
  size_t len;
  if (fs_read_file (path, 1 << 20, &data, &len, &err) < 0)
    fail_msg ("%s (run from the source tree or set BERTH_SOURCE_DIR)", err.msg);
  return data;
}

static json_t *load_fixture (const char *name, char *const *caps, const struct seccomp_host *h)
{
  cleanup_free char *text = fixture (name);
  cleanup_berr berr_t err = BERR_INIT;
  json_t *out = NULL;
  if (seccomp_from_docker_json_for (text, caps, h, &out, &err) < 0)
    fail_msg ("%s: %s", name, err.msg);
  assert_non_null (out);
  return out;
}

/* ---------------------------------------------------------------- default profile */

static void test_default_shape (void **state)
{
  cleanup_strv char **caps = default_caps ();
  cleanup_json json_t *p = seccomp_docker_default_for (caps, &host_amd64_6);

  assert_string_equal (json_string_value (json_object_get (p, "defaultAction")), "SCMP_ACT_ERRNO");
  assert_int_equal (json_integer_value (json_object_get (p, "defaultErrnoRet")), 1);
  assert_arches (p, L ("SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"));

  const char *const yes[] = {
    "read",        "write",      "execve",           "execveat",   "exit_group",   "openat",
    "openat2",     "mmap",       "clock_gettime",    "futex",      "rt_sigreturn", "statx",
    "close_range", "pidfd_open", "seccomp",          "socketpair", "arch_prctl",   "modify_ldt",
    "chroot",      "ptrace",     "process_vm_readv", "capset",     "setuid",       "mknodat",
    NULL
  };
  for (size_t i = 0; yes[i]; i++)
    if (!allowed (p, yes[i]))
      fail_msg ("%s should be allowed", yes[i]);

  /* Blocked for a default container (research §2, test catalog C5). */
  const char *const no[] = { "keyctl",
                             "add_key",
                             "request_key",
                             "userfaultfd",
                             "pivot_root",
                             "mount",
                             "umount2",
                             "umount",
                             "unshare",
                             "setns",
                             "swapon",
                             "swapoff",
                             "reboot",
                             "bpf",
                             "perf_event_open",
                             "io_uring_setup",
                             "io_uring_enter",
                             "kexec_load",
                             "kexec_file_load",
                             "init_module",
                             "finit_module",
                             "delete_module",
                             "open_by_handle_at",
                             "acct",
                             "settimeofday",
                             "clock_settime",
                             "iopl",
                             "ioperm",
                             "vhangup",
                             "mbind",
                             "set_mempolicy",
                             "syslog",
                             "kcmp",
                             "pidfd_getfd",
                             "move_pages",
                             "uselib",
                             "ustat",
                             "sysfs",
                             "_sysctl",
                             "vm86",
                             "fsopen",
                             "fsmount",
                             "move_mount",
                             "open_tree",
                             "mount_setattr",
                             "sethostname",
                             "setdomainname",
                             "quotactl",
                             "lookup_dcookie",
                             "fanotify_init",
                             "cacheflush",
                             "s390_runtime_instr",
                             NULL };
  for (size_t i = 0; no[i]; i++)
    if (count_rules (p, no[i]) != 0)
      fail_msg ("%s should have no rule", no[i]);

  /* clone only without namespace flags; clone3 fails with ENOSYS so libc uses clone. */
  assert_false (allowed (p, "clone"));
  json_t *c = only_rule (p, "clone");
  json_t *a = json_array_get (json_object_get (c, "args"), 0);
  assert_int_equal (json_array_size (json_object_get (c, "args")), 1);
  assert_int_equal (json_integer_value (json_object_get (a, "index")), 0);
  assert_int_equal (json_integer_value (json_object_get (a, "value")), 2114060288);
  assert_int_equal (json_integer_value (json_object_get (a, "valueTwo")), 0);
  assert_string_equal (json_string_value (json_object_get (a, "op")), "SCMP_CMP_MASKED_EQ");
  json_t *c3 = only_rule (p, "clone3");
  assert_string_equal (json_string_value (json_object_get (c3, "action")), "SCMP_ACT_ERRNO");
  assert_int_equal (json_integer_value (json_object_get (c3, "errnoRet")), 38);
  assert_int_equal (json_array_size (json_object_get (c3, "names")), 1);

  /* personality: five exact values, nothing else. */
  const json_int_t want[] = { 0x0, 0x8, 0x20000, 0x20008, 0xffffffff };
  json_t *r;
  size_t i, n = 0;
  json_array_foreach (json_object_get (p, "syscalls"), i, r)
  {
    if (!names_have (r, "personality"))
      continue;
    json_t *args = json_object_get (r, "args");
    assert_int_equal (json_array_size (json_object_get (r, "names")), 1);
    assert_int_equal (json_array_size (args), 1);
    json_t *x = json_array_get (args, 0);
    assert_string_equal (json_string_value (json_object_get (x, "op")), "SCMP_CMP_EQ");
    assert_int_equal (json_integer_value (json_object_get (x, "index")), 0);
    assert_int_equal (json_integer_value (json_object_get (x, "valueTwo")), 0);
    assert_true (n < 5);
    assert_int_equal (json_integer_value (json_object_get (x, "value")), want[n]);
    n++;
  }
  assert_int_equal (n, 5);

  /* socket: every family but AF_ALG (38) and AF_VSOCK (40). */
  assert_false (allowed (p, "socket"));
  assert_int_equal (count_rules (p, "socket"), 3);
  const char *sops[] = { "SCMP_CMP_LT", "SCMP_CMP_EQ", "SCMP_CMP_GT" };
  const json_int_t svals[] = { 38, 39, 40 };
  n = 0;
  json_array_foreach (json_object_get (p, "syscalls"), i, r)
  {
    if (!names_have (r, "socket"))
      continue;
    json_t *x = json_array_get (json_object_get (r, "args"), 0);
    assert_string_equal (json_string_value (json_object_get (x, "op")), sops[n]);
    assert_int_equal (json_integer_value (json_object_get (x, "value")), svals[n]);
    n++;
  }

  /* The big allowlist is the first rule: Docker's ~360 names. */
  json_t *first = json_array_get (json_object_get (p, "syscalls"), 0);
  size_t nfirst = json_array_size (json_object_get (first, "names"));
  assert_true (nfirst > 340 && nfirst < 420);
  print_message ("# default allowlist: %zu names\n", nfirst);
}

static void test_default_sys_admin (void **state)
{
  cleanup_strv char **caps = caps_plus ("CAP_SYS_ADMIN");
  cleanup_json json_t *p = seccomp_docker_default_for (caps, &host_amd64_6);
  const char *const yes[] = { "mount",  "umount2", "umount",   "unshare",         "setns",
                              "clone",  "clone3",  "bpf",      "perf_event_open", "sethostname",
                              "fsopen", "syslog",  "quotactl", "open_tree",       NULL };
  for (size_t i = 0; yes[i]; i++)
    if (!allowed (p, yes[i]))
      fail_msg ("%s should be allowed with CAP_SYS_ADMIN", yes[i]);
  /* No masked clone rule and no ENOSYS for clone3 any more. */
  assert_int_equal (count_rules (p, "clone"), 1);
  assert_int_equal (count_rules (p, "clone3"), 1);
  /* Still blocked: not gated by SYS_ADMIN. */
  assert_false (allowed (p, "keyctl"));
  assert_false (allowed (p, "pivot_root"));
  assert_false (allowed (p, "reboot"));
  assert_false (allowed (p, "open_by_handle_at"));
}

static void test_default_cap_groups (void **state)
{
  const struct
  {
    const char *cap;
    const char *const *calls;
  } groups[] = {
    { "CAP_SYS_BOOT", L ("reboot") },
    { "CAP_SYS_MODULE", L ("init_module", "finit_module", "delete_module") },
    { "CAP_SYS_PACCT", L ("acct") },
    { "CAP_SYS_PTRACE",
      L ("kcmp", "pidfd_getfd", "process_madvise", "process_vm_readv", "ptrace") },
    { "CAP_SYS_RAWIO", L ("iopl", "ioperm") },
    { "CAP_SYS_TIME", L ("settimeofday", "stime", "clock_settime", "clock_settime64") },
    { "CAP_SYS_TTY_CONFIG", L ("vhangup") },
    { "CAP_SYS_NICE", L ("get_mempolicy", "mbind", "set_mempolicy", "set_mempolicy_home_node") },
    { "CAP_SYSLOG", L ("syslog") },
    { "CAP_BPF", L ("bpf") },
    { "CAP_PERFMON", L ("perf_event_open") },
    { "CAP_DAC_READ_SEARCH", L ("open_by_handle_at") },
  };
  cleanup_strv char **none = NULL;
  cleanup_json json_t *base = seccomp_docker_default_for (none, &host_amd64_6);
  /* With no capabilities at all, chroot goes too. */
  assert_false (allowed (base, "chroot"));
  for (size_t g = 0; g < ARRAY_SIZE (groups); g++)
    {
      cleanup_strv char **caps = NULL;
      strv_push (&caps, groups[g].cap);
      cleanup_json json_t *p = seccomp_docker_default_for (caps, &host_amd64_6);
      for (size_t i = 0; groups[g].calls[i]; i++)
        {
          if (!allowed (p, groups[g].calls[i]))
            fail_msg ("%s should be allowed with %s", groups[g].calls[i], groups[g].cap);
          if (allowed (base, groups[g].calls[i]) && strcmp (groups[g].calls[i], "ptrace") != 0
              && strcmp (groups[g].calls[i], "process_vm_readv") != 0)
            fail_msg ("%s should need %s", groups[g].calls[i], groups[g].cap);
        }
      /* One capability opens only its own group: SYS_ADMIN's calls stay closed. */
      if (strcmp (groups[g].cap, "CAP_SYSLOG") != 0 && strcmp (groups[g].cap, "CAP_BPF") != 0
          && strcmp (groups[g].cap, "CAP_PERFMON") != 0)
        {
          assert_false (allowed (p, "mount"));
          assert_false (allowed (p, "syslog"));
        }
    }
}

static void test_default_kernel (void **state)
{
  cleanup_strv char **caps = default_caps ();
  cleanup_json json_t *old = seccomp_docker_default_for (caps, &host_amd64_4_7);
  cleanup_json json_t *min = seccomp_docker_default_for (caps, &host_amd64_4_8);
  cleanup_json json_t *unk = seccomp_docker_default_for (caps, &host_unknown);
  assert_false (allowed (old, "ptrace"));
  assert_false (allowed (old, "process_vm_writev"));
  assert_true (allowed (min, "ptrace"));
  assert_true (allowed (min, "process_vm_writev"));
  /* Unknown kernel: the kernel-gated rule is left out, the safe side. */
  assert_false (allowed (unk, "ptrace"));
  assert_int_equal (json_array_size (json_object_get (unk, "architectures")), 0);
  assert_false (allowed (unk, "arch_prctl"));
  /* CAP_SYS_PTRACE allows ptrace on any kernel. */
  cleanup_strv char **pt = caps_plus ("CAP_SYS_PTRACE");
  cleanup_json json_t *oldpt = seccomp_docker_default_for (pt, &host_amd64_4_7);
  assert_true (allowed (oldpt, "ptrace"));
}

static void test_default_arches (void **state)
{
  cleanup_strv char **caps = default_caps ();
  {
    cleanup_json json_t *p = seccomp_docker_default_for (caps, &host_arm64);
    assert_arches (p, L ("SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM"));
    assert_true (allowed (p, "cacheflush"));
    assert_true (allowed (p, "set_tls"));
    assert_false (allowed (p, "arch_prctl"));
    assert_false (allowed (p, "modify_ldt"));
  }
  {
    cleanup_json json_t *p = seccomp_docker_default_for (caps, &host_s390x);
    assert_arches (p, L ("SCMP_ARCH_S390X", "SCMP_ARCH_S390"));
    assert_true (allowed (p, "s390_runtime_instr"));
    json_t *c = only_rule (p, "clone");
    json_t *a = json_array_get (json_object_get (c, "args"), 0);
    assert_int_equal (json_integer_value (json_object_get (a, "index")), 1);
  }
  {
    cleanup_json json_t *p = seccomp_docker_default_for (caps, &host_riscv64);
    assert_arches (p, L ("SCMP_ARCH_RISCV64"));
    assert_true (allowed (p, "riscv_flush_icache"));
  }
  {
    /* ppc64le has no archMap entry in Docker's profile: native only. */
    cleanup_json json_t *p = seccomp_docker_default_for (caps, &host_ppc64le);
    assert_int_equal (json_array_size (json_object_get (p, "architectures")), 0);
    assert_true (allowed (p, "swapcontext"));
    assert_false (allowed (p, "ptrace")); /* kernel 3.10 */
  }
  {
    struct seccomp_host h;
    seccomp_host_detect (&h);
    assert_true (h.has_kernel);
    assert_true (h.kernel >= 3);
#if defined(__x86_64__)
    assert_string_equal (h.arch, "amd64");
#endif
    assert_non_null (seccomp_arch_scmp_name (h.arch));
    cleanup_json json_t *a = seccomp_docker_default (caps);
    cleanup_json json_t *b = seccomp_docker_default_for (caps, &h);
    assert_true (json_equal (a, b));
  }
}

/* The built-in table resolves exactly as Docker's own default.json, for every combination
 * tried here: that is what keeps the table honest. */
static void test_default_matches_moby (void **state)
{
  const struct seccomp_host *hosts[] = { &host_amd64_6, &host_amd64_4_7, &host_arm64,  &host_s390x,
                                         &host_riscv64, &host_ppc64le,   &host_unknown };
  const char *extra[] = { NULL,           "CAP_SYS_ADMIN",  "CAP_SYS_PTRACE", "CAP_SYS_TIME",
                          "CAP_SYS_NICE", "CAP_SYS_MODULE", "CAP_BPF",        "CAP_SYSLOG" };
  int checked = 0;
  for (size_t h = 0; h < ARRAY_SIZE (hosts); h++)
    for (size_t e = 0; e < ARRAY_SIZE (extra); e++)
      {
        cleanup_strv char **caps = extra[e] ? caps_plus (extra[e]) : default_caps ();
        cleanup_json json_t *ours = seccomp_docker_default_for (caps, hosts[h]);
        /* The file's minKernel needs a kernel version; treat unknown as 0.0 like the table. */
        struct seccomp_host hk = *hosts[h];
        hk.has_kernel = true;
        cleanup_json json_t *theirs = load_fixture ("default.json", caps, &hk);
        if (!json_equal (ours, theirs))
          {
            cleanup_free char *a = json_dump_compact (ours);
            cleanup_free char *b = json_dump_compact (theirs);
            fail_msg ("built-in != default.json for %s + %s:\n%s\n%s",
                      hosts[h]->arch ? hosts[h]->arch : "?", extra[e] ? extra[e] : "-", a, b);
          }
        checked++;
      }
  /* All capabilities (a privileged container's set). */
  char **all = NULL;
  for (int c = 0; c <= 40; c++)
    strv_push (&all, caps_name (c));
  cleanup_json json_t *ours = seccomp_docker_default_for (all, &host_amd64_6);
  cleanup_json json_t *theirs = load_fixture ("default.json", all, &host_amd64_6);
  assert_true (json_equal (ours, theirs));
  strv_free (all);
  print_message ("# built-in profile == moby default.json in %d combinations\n", checked + 1);
}

/* ---------------------------------------------------------------- Docker-format files */

static json_t *parse_ok (const char *text, char *const *caps, const struct seccomp_host *h)
{
  cleanup_berr berr_t err = BERR_INIT;
  json_t *out = NULL;
  if (seccomp_from_docker_json_for (text, caps, h, &out, &err) < 0)
    fail_msg ("parse %s: %s", text, err.msg);
  return out;
}

static void parse_bad (const char *text, const char *want)
{
  cleanup_berr berr_t err = BERR_INIT;
  json_t *out = (json_t *)1;
  if (seccomp_from_docker_json_for (text, NULL, &host_amd64_6, &out, &err) == 0)
    fail_msg ("accepted: %s", text);
  assert_null (out);
  assert_int_equal (err.kind, BERR_INVALID);
  if (strstr (err.msg, want) == NULL)
    fail_msg ("error for %s is \"%s\", want it to contain \"%s\"", text, err.msg, want);
}

static void test_json_fixtures (void **state)
{
  cleanup_strv char **caps = default_caps ();
  {
    /* The old format: "architectures" given directly and one "name" per rule. */
    cleanup_json json_t *p = load_fixture ("default-old-format.json", caps, &host_amd64_6);
    assert_arches (p, L ("SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"));
    assert_null (json_object_get (p, "defaultErrnoRet"));
    assert_true (allowed (p, "read"));
    assert_true (json_array_size (json_object_get (p, "syscalls")) > 300);
  }
  {
    /* moby's example asks for errnoRet 12345, which Docker parses but no kernel or libseccomp
     * can apply (errno tops out at 4095): berth says so up front.  With 1234 it loads. */
    cleanup_free char *text = fixture ("example.json");
    cleanup_berr berr_t err = BERR_INIT;
    json_t *out = NULL;
    assert_int_equal (seccomp_from_docker_json_for (text, caps, &host_amd64_6, &out, &err), -1);
    assert_string_equal (err.msg, "seccomp profile: syscalls[3].errnoRet: expected an integer "
                                  "from 0 to 4095");
    char *at = strstr (text, "12345");
    assert_non_null (at);
    at[4] = ' ';
    cleanup_json json_t *p = parse_ok (text, caps, &host_amd64_6);
    json_t *s = only_rule (p, "syslog");
    assert_int_equal (json_integer_value (json_object_get (s, "errnoRet")), 1234);
    json_t *c = json_array_get (json_object_get (only_rule (p, "clone"), "args"), 0);
    assert_int_equal (json_integer_value (json_object_get (c, "value")), 2114060288);
    assert_true (allowed (p, "open"));
    assert_int_equal (json_array_size (json_object_get (p, "architectures")), 0);
  }
  {
    cleanup_json json_t *p = load_fixture ("conditional_include.json", caps, &host_amd64_6);
    assert_true (allowed (p, "chmod"));
    assert_false (allowed (p, "syslog"));
    assert_true (allowed (p, "ptrace"));
    cleanup_strv char **more = default_caps ();
    strv_push (&more, "CAP_SYSLOG");
    strv_push (&more, "CAP_SYS_ADMIN");
    cleanup_json json_t *q = load_fixture ("conditional_include.json", more, &host_amd64_6);
    assert_true (allowed (q, "syslog"));
    assert_false (allowed (q, "ptrace"));
  }
}

static void test_json_conditions (void **state)
{
  const char *prof
      = "{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"syscalls\":["
        "{\"names\":[\"a1\"],\"action\":\"SCMP_ACT_ALLOW\",\"includes\":{\"caps\":[\"CAP_X\","
        "\"CAP_Y\"]}},"
        "{\"names\":[\"a2\"],\"action\":\"SCMP_ACT_ALLOW\",\"excludes\":{\"caps\":[\"CAP_X\","
        "\"CAP_Y\"]}},"
        "{\"names\":[\"a3\"],\"action\":\"SCMP_ACT_ALLOW\",\"excludes\":{\"minKernel\":\"5.4\"}},"
        "{\"names\":[\"a4\"],\"action\":\"SCMP_ACT_ALLOW\",\"includes\":{\"minKernel\":\"5.4\"}},"
        "{\"names\":[\"a5\"],\"action\":\"SCMP_ACT_ALLOW\",\"includes\":{\"arches\":[\"arm64\"]}},"
        "{\"names\":[\"a6\"],\"action\":\"SCMP_ACT_ALLOW\",\"excludes\":{\"arches\":[\"arm64\"]},"
        "\"comment\":\"anything\"}]}";
  const struct seccomp_host old = { "amd64", true, 5, 3 }, new = { "arm64", true, 5, 4 };
  {
    cleanup_strv char **caps = NULL;
    strv_push (&caps, "CAP_X");
    cleanup_json json_t *p = parse_ok (prof, caps, &old);
    assert_false (allowed (p, "a1")); /* includes needs every cap */
    assert_false (allowed (p, "a2")); /* excludes on any cap */
    assert_true (allowed (p, "a3"));
    assert_false (allowed (p, "a4"));
    assert_false (allowed (p, "a5"));
    assert_true (allowed (p, "a6"));
  }
  {
    cleanup_strv char **caps = NULL;
    strv_push (&caps, "CAP_Y");
    strv_push (&caps, "CAP_X");
    cleanup_json json_t *p = parse_ok (prof, caps, &new);
    assert_true (allowed (p, "a1"));
    assert_false (allowed (p, "a2"));
    assert_false (allowed (p, "a3"));
    assert_true (allowed (p, "a4"));
    assert_true (allowed (p, "a5"));
    assert_false (allowed (p, "a6"));
  }
  {
    /* No caps at all (NULL list). */
    cleanup_json json_t *p = parse_ok (prof, NULL, &new);
    assert_false (allowed (p, "a1"));
    assert_true (allowed (p, "a2"));
  }
  {
    /* A minKernel rule on a host whose kernel version is unknown is an error, not a guess. */
    const struct seccomp_host unk = { "amd64", false, 0, 0 };
    cleanup_berr berr_t err = BERR_INIT;
    json_t *out = NULL;
    assert_int_equal (seccomp_from_docker_json_for (prof, NULL, &unk, &out, &err), -1);
    assert_null (out);
    assert_non_null (strstr (err.msg, "kernel version"));
  }
}

static void test_json_passthrough (void **state)
{
  {
    /* Docker reads keys without regard to case; args, errnoRet and flags pass through. */
    cleanup_json json_t *p = parse_ok (
        "{\"DefaultAction\":\"SCMP_ACT_KILL_PROCESS\",\"defaulterrnoret\":null,"
        "\"flags\":[\"SECCOMP_FILTER_FLAG_LOG\"],\"unknownKey\":7,\"syscalls\":[{\"Names\":["
        "\"read\",\"write\"],\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":13,\"args\":[{\"index\":"
        "5,\"value\":9223372036854775807,\"valueTwo\":3,\"op\":\"SCMP_CMP_MASKED_EQ\"}]},"
        "{\"name\":\"close\",\"action\":\"SCMP_ACT_LOG\",\"args\":null,\"includes\":{},"
        "\"excludes\":{\"minKernel\":\"\"}}]}",
        NULL, &host_amd64_6);
    cleanup_json json_t *want = json_loads (
        "{\"defaultAction\":\"SCMP_ACT_KILL_PROCESS\",\"architectures\":[],"
        "\"flags\":[\"SECCOMP_FILTER_FLAG_LOG\"],\"syscalls\":[{\"names\":[\"read\",\"write\"],"
        "\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":13,\"args\":[{\"index\":5,\"value\":"
        "9223372036854775807,\"valueTwo\":3,\"op\":\"SCMP_CMP_MASKED_EQ\"}]},"
        "{\"names\":[\"close\"],\"action\":\"SCMP_ACT_LOG\"}]}",
        0, NULL);
    assert_non_null (want);
    if (!json_equal (p, want))
      {
        cleanup_free char *s = json_dump_compact (p);
        fail_msg ("got %s", s);
      }
  }
  {
    /* archMap picks the host's entry only. */
    const char *t = "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"archMap\":[{\"architecture\":"
                    "\"SCMP_ARCH_AARCH64\",\"subArchitectures\":[\"SCMP_ARCH_ARM\"]},"
                    "{\"architecture\":\"SCMP_ARCH_X86_64\",\"subArchitectures\":null}],"
                    "\"syscalls\":null}";
    cleanup_json json_t *p = parse_ok (t, NULL, &host_amd64_6);
    assert_arches (p, L ("SCMP_ARCH_X86_64"));
    assert_int_equal (json_array_size (json_object_get (p, "syscalls")), 0);
    cleanup_json json_t *q = parse_ok (t, NULL, &host_arm64);
    assert_arches (q, L ("SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM"));
  }
  {
    /* Neither defaultAction nor syscalls: Docker runs such a container unconfined. */
    cleanup_berr berr_t err = BERR_INIT;
    json_t *out = (json_t *)1;
    assert_int_equal (seccomp_from_docker_json_for ("{}", NULL, &host_amd64_6, &out, &err), 0);
    assert_null (out);
    out = (json_t *)1;
    assert_int_equal (seccomp_from_docker_json_for ("{\"syscalls\":[],\"defaultAction\":\"\"}",
                                                    NULL, &host_amd64_6, &out, &err),
                      0);
    assert_null (out);
  }
}

static void test_json_errors (void **state)
{
  parse_bad ("", "invalid JSON");
  parse_bad ("{\"defaultAction\":", "invalid JSON");
  parse_bad ("[]", "expected a JSON object");
  parse_bad ("{\"defaultAction\":\"SCMP_ACT_FOO\"}",
             "defaultAction: unknown action \"SCMP_ACT_FOO\"");
  parse_bad ("{\"defaultAction\":7}", "defaultAction: expected a string");
  parse_bad ("{\"syscalls\":[{\"names\":[\"read\"],\"action\":\"SCMP_ACT_ALLOW\"}]}",
             "defaultAction: missing");
  parse_bad ("{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"defaultErrnoRet\":-1}",
             "defaultErrnoRet: expected an integer");
  parse_bad ("{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"defaultErrnoRet\":\"1\"}",
             "defaultErrnoRet: expected an integer");
  parse_bad ("{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"syscalls\":{}}",
             "syscalls: expected an array");
  parse_bad ("{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"syscalls\":[7]}",
             "syscalls[0]: expected an object");
  parse_bad (
      "{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"syscalls\":[{\"names\":[\"read\"],"
      "\"action\":\"SCMP_ACT_ALLOW\"},{\"names\":[\"write\"],\"action\":\"SCMP_ACT_NOPE\"}]}",
      "syscalls[1].action: unknown action \"SCMP_ACT_NOPE\"");
  parse_bad ("{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"syscalls\":[{\"names\":[\"read\"]}]}",
             "syscalls[0].action: missing");
  parse_bad ("{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"syscalls\":[{\"names\":[\"read\"],"
             "\"action\":\"SCMP_ACT_ALLOW\",\"args\":[{\"index\":0,\"value\":1,\"op\":"
             "\"SCMP_CMP_ABOUT\"}]}]}",
             "syscalls[0].args[0].op: unknown comparison \"SCMP_CMP_ABOUT\"");
  parse_bad ("{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"syscalls\":[{\"names\":[\"read\"],"
             "\"action\":\"SCMP_ACT_ALLOW\",\"args\":[{\"index\":0,\"value\":1}]}]}",
             "syscalls[0].args[0].op: missing");
  parse_bad ("{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"syscalls\":[{\"names\":[\"read\"],"
             "\"action\":\"SCMP_ACT_ALLOW\",\"args\":[{\"index\":6,\"value\":1,\"op\":"
             "\"SCMP_CMP_EQ\"}]}]}",
             "syscalls[0].args[0].index: expected an integer from 0 to 5");
  parse_bad ("{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"syscalls\":[{\"names\":[\"read\"],"
             "\"action\":\"SCMP_ACT_ALLOW\",\"args\":[{\"index\":0,\"value\":-1,\"op\":"
             "\"SCMP_CMP_EQ\"}]}]}",
             "syscalls[0].args[0].value: expected an integer");
  parse_bad ("{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"syscalls\":[{\"names\":[\"read\"],"
             "\"action\":\"SCMP_ACT_ALLOW\",\"args\":[{\"index\":0,\"value\":1.5,\"op\":"
             "\"SCMP_CMP_EQ\"}]}]}",
             "syscalls[0].args[0].value: expected an integer");
  parse_bad ("{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"syscalls\":[{\"names\":[\"read\"],"
             "\"action\":\"SCMP_ACT_ALLOW\",\"args\":{}}]}",
             "syscalls[0].args: expected an array");
  parse_bad ("{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"syscalls\":[{\"name\":\"read\",\"names\":"
             "[\"write\"],\"action\":\"SCMP_ACT_ALLOW\"}]}",
             "both \"name\" and \"names\"");
  parse_bad (
      "{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"syscalls\":[{\"action\":\"SCMP_ACT_ALLOW\"}]}",
      "syscalls[0]: no syscall names");
  parse_bad ("{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"syscalls\":[{\"names\":[\"read\",3],"
             "\"action\":\"SCMP_ACT_ALLOW\"}]}",
             "syscalls[0].names[1]: expected a non-empty string");
  parse_bad ("{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"syscalls\":[{\"names\":\"read\","
             "\"action\":\"SCMP_ACT_ALLOW\"}]}",
             "syscalls[0].names: expected an array of strings");
  parse_bad ("{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"syscalls\":[{\"names\":[\"read\"],"
             "\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":4096}]}",
             "syscalls[0].errnoRet: expected an integer from 0 to 4095");
  parse_bad ("{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"syscalls\":[{\"names\":[\"read\"],"
             "\"action\":\"SCMP_ACT_ALLOW\",\"includes\":{\"minKernel\":\"4\"}}]}",
             "syscalls[0].includes.minKernel: invalid kernel version \"4\"");
  parse_bad ("{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"syscalls\":[{\"names\":[\"read\"],"
             "\"action\":\"SCMP_ACT_ALLOW\",\"excludes\":{\"minKernel\":\"0.0\"}}]}",
             "syscalls[0].excludes.minKernel: invalid kernel version \"0.0\"");
  parse_bad ("{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"syscalls\":[{\"names\":[\"read\"],"
             "\"action\":\"SCMP_ACT_ALLOW\",\"excludes\":{\"minKernel\":\"4.8.1\"}}]}",
             "invalid kernel version \"4.8.1\"");
  parse_bad ("{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"syscalls\":[{\"names\":[\"read\"],"
             "\"action\":\"SCMP_ACT_ALLOW\",\"includes\":{\"caps\":\"CAP_X\"}}]}",
             "syscalls[0].includes.caps: expected an array of strings");
  parse_bad ("{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"syscalls\":[{\"names\":[\"read\"],"
             "\"action\":\"SCMP_ACT_ALLOW\",\"includes\":[]}]}",
             "syscalls[0].includes: expected an object");
  parse_bad ("{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"architectures\":[\"SCMP_ARCH_X86_64\"],"
             "\"archMap\":[{\"architecture\":\"SCMP_ARCH_X86_64\"}]}",
             "both \"architectures\" and \"archMap\"");
  parse_bad ("{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"architectures\":[\"SCMP_ARCH_Z80\"]}",
             "architectures[0]: unknown architecture \"SCMP_ARCH_Z80\"");
  parse_bad ("{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"archMap\":[{\"architecture\":"
             "\"SCMP_ARCH_X86_64\",\"subArchitectures\":[\"x86\"]}]}",
             "archMap[0].subArchitectures[0]: unknown architecture \"x86\"");
  parse_bad ("{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"flags\":[1]}", "flags: expected an array");
  parse_bad ("{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"listenerPath\":1}",
             "listenerPath: expected a string");
}

/* ---------------------------------------------------------------- libseccomp acceptance */

static uint32_t lib_action (json_t *rule_or_prof, const char *akey, const char *ekey)
{
  const char *a = json_string_value (json_object_get (rule_or_prof, akey));
  json_t *e = json_object_get (rule_or_prof, ekey);
  uint16_t eno = e ? (uint16_t)json_integer_value (e) : EPERM;
  if (strcmp (a, "SCMP_ACT_ALLOW") == 0)
    return SCMP_ACT_ALLOW;
  if (strcmp (a, "SCMP_ACT_ERRNO") == 0)
    return SCMP_ACT_ERRNO (eno);
  if (strcmp (a, "SCMP_ACT_LOG") == 0)
    return SCMP_ACT_LOG;
  if (strcmp (a, "SCMP_ACT_KILL_PROCESS") == 0)
    return SCMP_ACT_KILL_PROCESS;
  fail_msg ("action %s not handled by the test", a);
  return 0;
}

static enum scmp_compare lib_op (const char *op)
{
  static const struct
  {
    const char *name;
    enum scmp_compare op;
  } t[] = { { "SCMP_CMP_NE", SCMP_CMP_NE },
            { "SCMP_CMP_LT", SCMP_CMP_LT },
            { "SCMP_CMP_LE", SCMP_CMP_LE },
            { "SCMP_CMP_EQ", SCMP_CMP_EQ },
            { "SCMP_CMP_GE", SCMP_CMP_GE },
            { "SCMP_CMP_GT", SCMP_CMP_GT },
            { "SCMP_CMP_MASKED_EQ", SCMP_CMP_MASKED_EQ } };
  for (size_t i = 0; i < ARRAY_SIZE (t); i++)
    if (strcmp (t[i].name, op) == 0)
      return t[i].op;
  fail_msg ("op %s", op);
  return SCMP_CMP_EQ;
}

/* Build (never load) a libseccomp filter from an OCI linux.seccomp object, skipping syscall
 * names this libseccomp does not know, as Docker's runtimes do.  Returns the names skipped. */
static int build_with_libseccomp (json_t *prof, size_t *rules_added)
{
  scmp_filter_ctx ctx = seccomp_init (lib_action (prof, "defaultAction", "defaultErrnoRet"));
  json_t *a, *r, *n;
  size_t i, k;
  int skipped = 0;

  assert_non_null (ctx);
  *rules_added = 0;
  json_array_foreach (json_object_get (prof, "architectures"), i, a)
  {
    cleanup_free char *lower = xstrdup (json_string_value (a) + strlen ("SCMP_ARCH_"));
    for (char *p = lower; *p; p++)
      *p = (char)(*p >= 'A' && *p <= 'Z' ? *p - 'A' + 'a' : *p);
    uint32_t arch = seccomp_arch_resolve_name (lower);
    assert_int_not_equal (arch, 0);
    if (seccomp_arch_exist (ctx, arch) == -EEXIST)
      assert_int_equal (seccomp_arch_add (ctx, arch), 0);
  }
  json_array_foreach (json_object_get (prof, "syscalls"), i, r)
  {
    uint32_t act = lib_action (r, "action", "errnoRet");
    struct scmp_arg_cmp cmps[6];
    json_t *args = json_object_get (r, "args"), *x;
    size_t nargs = json_array_size (args);
    assert_true (nargs <= 6);
    json_array_foreach (args, k, x)
    {
      cmps[k] = (struct scmp_arg_cmp){
        .arg = (unsigned int)json_integer_value (json_object_get (x, "index")),
        .op = lib_op (json_string_value (json_object_get (x, "op"))),
        .datum_a = (scmp_datum_t)json_integer_value (json_object_get (x, "value")),
        .datum_b = (scmp_datum_t)json_integer_value (json_object_get (x, "valueTwo")),
      };
    }
    json_array_foreach (json_object_get (r, "names"), k, n)
    {
      int nr = seccomp_syscall_resolve_name (json_string_value (n));
      if (nr == __NR_SCMP_ERROR)
        {
          skipped++;
          continue;
        }
      int rc = seccomp_rule_add_array (ctx, act, nr, (unsigned int)nargs, cmps);
      if (rc < 0)
        fail_msg ("libseccomp refused %s (rule %zu): %s", json_string_value (n), i, strerror (-rc));
      (*rules_added)++;
    }
  }
  /* Generate the BPF program into a memfd: it compiles, and nothing is loaded. */
  int fd = memfd_create ("seccomp-test", MFD_CLOEXEC);
  assert_true (fd >= 0);
  assert_int_equal (seccomp_export_bpf (ctx, fd), 0);
  off_t size = lseek (fd, 0, SEEK_END);
  assert_true (size > 0 && size % 8 == 0);
  close (fd);
  seccomp_release (ctx);
  return skipped;
}

static void test_libseccomp_accepts (void **state)
{
  struct seccomp_host h;
  seccomp_host_detect (&h);
  const char *extra[] = { NULL, "CAP_SYS_ADMIN", "CAP_SYS_PTRACE" };
  for (size_t e = 0; e < ARRAY_SIZE (extra); e++)
    {
      cleanup_strv char **caps = extra[e] ? caps_plus (extra[e]) : default_caps ();
      cleanup_json json_t *p = seccomp_docker_default_for (caps, &h);
      size_t added;
      int skipped = build_with_libseccomp (p, &added);
      assert_true (added > 300);
      if (e == 0)
        {
          const struct scmp_version *v = seccomp_version ();
          print_message ("# libseccomp %u.%u.%u: %zu rules added, %d names unknown to it "
                         "(skipped)\n",
                         v->major, v->minor, v->micro, added, skipped);
        }
    }
  cleanup_free char *text = fixture ("example.json");
  char *at = strstr (text, "12345");
  assert_non_null (at);
  at[4] = ' '; /* errnoRet 1234: see test_json_fixtures */
  cleanup_json json_t *ex = parse_ok (text, NULL, &h);
  size_t added;
  assert_int_equal (build_with_libseccomp (ex, &added), 0);
  assert_int_equal (added, 4);
}

int main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_caps_names),
    cmocka_unit_test (test_caps_host),
    cmocka_unit_test (test_caps_defaults),
    cmocka_unit_test (test_caps_add_drop),
    cmocka_unit_test (test_caps_all),
    cmocka_unit_test (test_caps_privileged),
    cmocka_unit_test (test_caps_errors),
    cmocka_unit_test (test_default_shape),
    cmocka_unit_test (test_default_sys_admin),
    cmocka_unit_test (test_default_cap_groups),
    cmocka_unit_test (test_default_kernel),
    cmocka_unit_test (test_default_arches),
    cmocka_unit_test (test_default_matches_moby),
    cmocka_unit_test (test_json_fixtures),
    cmocka_unit_test (test_json_conditions),
    cmocka_unit_test (test_json_passthrough),
    cmocka_unit_test (test_json_errors),
    cmocka_unit_test (test_libseccomp_accepts),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
