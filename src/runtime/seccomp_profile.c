/* seccomp_profile.c — Docker's default seccomp profile as berth's own data, Docker-format
 * profile files, and their resolution (capabilities, architecture, kernel version) into the
 * OCI linux.seccomp object. */
#include "seccomp.h"
#include "seccomp_profile.h"

#include <ctype.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/utsname.h>

#include "util/json.h"

/* ---- the profile model, shared by the built-in table and parsed files ---- */

struct sc_arg
{
  unsigned int index;
  uint64_t value, value_two;
  const char *op;
};

/* includes / excludes: caps of the container, native arch names of the host, and a kernel
 * version "kernel.major" (0.0 = no condition). */
struct sc_cond
{
  const char *const *caps;
  const char *const *arches;
  unsigned int kernel, major;
};

struct sc_rule
{
  const char *const *names;
  const char *action;
  bool has_errno;
  unsigned int errno_ret;
  const struct sc_arg *args;
  size_t n_args;
  struct sc_cond inc, exc;
};

struct sc_archmap
{
  const char *arch;
  const char *const *subs;
};

struct sc_profile
{
  const char *default_action;
  bool has_default_errno;
  unsigned int default_errno;
  const char *const *architectures; /* given directly (older format) */
  const struct sc_archmap *archmap;
  size_t n_archmap;
  const struct sc_rule *rules;
  size_t n_rules;
  /* Passed through unchanged from a file (borrowed); NULL when absent. */
  json_t *flags, *listener_path, *listener_metadata;
};

/* The kernel caps a filter's errno at MAX_ERRNO and libseccomp refuses larger ones, so a profile
 * asking for more could never be installed (Docker accepts it and the runtime fails later). */
#define MAX_ERRNO 4095

static const char *const actions[] = {
  "SCMP_ACT_KILL",        "SCMP_ACT_KILL_PROCESS",
  "SCMP_ACT_KILL_THREAD", "SCMP_ACT_TRAP",
  "SCMP_ACT_ERRNO",       "SCMP_ACT_TRACE",
  "SCMP_ACT_ALLOW",       "SCMP_ACT_LOG",
  "SCMP_ACT_NOTIFY",      NULL,
};

static const char *const ops[] = {
  "SCMP_CMP_NE", "SCMP_CMP_LT", "SCMP_CMP_LE",        "SCMP_CMP_EQ",
  "SCMP_CMP_GE", "SCMP_CMP_GT", "SCMP_CMP_MASKED_EQ", NULL,
};

/* Native (libseccomp / Docker) architecture names and their SCMP_ARCH_ names. */
static const struct
{
  const char *native, *scmp;
} arch_names[] = {
  { "x86", "SCMP_ARCH_X86" },
  { "amd64", "SCMP_ARCH_X86_64" },
  { "x32", "SCMP_ARCH_X32" },
  { "arm", "SCMP_ARCH_ARM" },
  { "arm64", "SCMP_ARCH_AARCH64" },
  { "loongarch64", "SCMP_ARCH_LOONGARCH64" },
  { "m68k", "SCMP_ARCH_M68K" },
  { "mips", "SCMP_ARCH_MIPS" },
  { "mips64", "SCMP_ARCH_MIPS64" },
  { "mips64n32", "SCMP_ARCH_MIPS64N32" },
  { "mipsel", "SCMP_ARCH_MIPSEL" },
  { "mipsel64", "SCMP_ARCH_MIPSEL64" },
  { "mipsel64n32", "SCMP_ARCH_MIPSEL64N32" },
  { "ppc", "SCMP_ARCH_PPC" },
  { "ppc64", "SCMP_ARCH_PPC64" },
  { "ppc64le", "SCMP_ARCH_PPC64LE" },
  { "s390", "SCMP_ARCH_S390" },
  { "s390x", "SCMP_ARCH_S390X" },
  { "parisc", "SCMP_ARCH_PARISC" },
  { "parisc64", "SCMP_ARCH_PARISC64" },
  { "riscv64", "SCMP_ARCH_RISCV64" },
  { "sh", "SCMP_ARCH_SH" },
  { "sheb", "SCMP_ARCH_SHEB" },
};

const char *seccomp_arch_scmp_name (const char *native)
{
  for (size_t i = 0; native && i < ARRAY_SIZE (arch_names); i++)
    if (strcmp (arch_names[i].native, native) == 0)
      return arch_names[i].scmp;
  return NULL;
}

static bool is_scmp_arch (const char *s)
{
  for (size_t i = 0; i < ARRAY_SIZE (arch_names); i++)
    if (strcmp (arch_names[i].scmp, s) == 0)
      return true;
  return false;
}

static bool in_list (const char *const *v, const char *s)
{
  for (size_t i = 0; v && v[i]; i++)
    if (s && strcmp (v[i], s) == 0)
      return true;
  return false;
}

/* ---- Docker's default profile (moby/profiles seccomp/default.json, mid 2026) ---- */

#define LIST(...) ((const char *const[]){ __VA_ARGS__, NULL })
#define ALLOW "SCMP_ACT_ALLOW"
#define ARGS(...)                                                                                  \
  .args = (const struct sc_arg[]){ __VA_ARGS__ },                                                  \
  .n_args = sizeof ((const struct sc_arg[]){ __VA_ARGS__ }) / sizeof (struct sc_arg)
#define EQ0(v)                                                                                     \
  {                                                                                                \
    0, (v), 0, "SCMP_CMP_EQ"                                                                       \
  }

/* Allowed for every container. */
/* clang-format off */
static const char *const default_allow[] = {
  "accept", "accept4", "access", "adjtimex", "alarm", "bind", "brk", "cachestat", "capget",
  "capset", "chdir", "chmod", "chown", "chown32", "clock_adjtime", "clock_adjtime64",
  "clock_getres", "clock_getres_time64", "clock_gettime", "clock_gettime64", "clock_nanosleep",
  "clock_nanosleep_time64", "close", "close_range", "connect", "copy_file_range", "creat", "dup",
  "dup2", "dup3", "epoll_create", "epoll_create1", "epoll_ctl", "epoll_ctl_old", "epoll_pwait",
  "epoll_pwait2", "epoll_wait", "epoll_wait_old", "eventfd", "eventfd2", "execve", "execveat",
  "exit", "exit_group", "faccessat", "faccessat2", "fadvise64", "fadvise64_64", "fallocate",
  "fanotify_mark", "fchdir", "fchmod", "fchmodat", "fchmodat2", "fchown", "fchown32", "fchownat",
  "fcntl", "fcntl64", "fdatasync", "fgetxattr", "flistxattr", "flock", "fork", "fremovexattr",
  "fsetxattr", "fstat", "fstat64", "fstatat64", "fstatfs", "fstatfs64", "fsync", "ftruncate",
  "ftruncate64", "futex", "futex_requeue", "futex_time64", "futex_wait", "futex_waitv",
  "futex_wake", "futimesat", "getcpu", "getcwd", "getdents", "getdents64", "getegid", "getegid32",
  "geteuid", "geteuid32", "getgid", "getgid32", "getgroups", "getgroups32", "getitimer",
  "getpeername", "getpgid", "getpgrp", "getpid", "getppid", "getpriority", "getrandom", "getresgid",
  "getresgid32", "getresuid", "getresuid32", "getrlimit", "get_robust_list", "getrusage", "getsid",
  "getsockname", "getsockopt", "get_thread_area", "gettid", "gettimeofday", "getuid", "getuid32",
  "getxattr", "getxattrat", "inotify_add_watch", "inotify_init", "inotify_init1",
  "inotify_rm_watch", "io_cancel", "ioctl", "io_destroy", "io_getevents", "io_pgetevents",
  "io_pgetevents_time64", "ioprio_get", "ioprio_set", "io_setup", "io_submit", "ipc", "kill",
  "landlock_add_rule", "landlock_create_ruleset", "landlock_restrict_self", "lchown", "lchown32",
  "lgetxattr", "link", "linkat", "listen", "listmount", "listxattr", "listxattrat", "llistxattr",
  "_llseek", "lremovexattr", "lseek", "lsetxattr", "lstat", "lstat64", "madvise",
  "map_shadow_stack", "membarrier", "memfd_create", "memfd_secret", "mincore", "mkdir", "mkdirat",
  "mknod", "mknodat", "mlock", "mlock2", "mlockall", "mmap", "mmap2", "mprotect", "mq_getsetattr",
  "mq_notify", "mq_open", "mq_timedreceive", "mq_timedreceive_time64", "mq_timedsend",
  "mq_timedsend_time64", "mq_unlink", "mremap", "mseal", "msgctl", "msgget", "msgrcv", "msgsnd",
  "msync", "munlock", "munlockall", "munmap", "name_to_handle_at", "nanosleep", "newfstatat",
  "_newselect", "open", "openat", "openat2", "pause", "pidfd_open", "pidfd_send_signal", "pipe",
  "pipe2", "pkey_alloc", "pkey_free", "pkey_mprotect", "poll", "ppoll", "ppoll_time64", "prctl",
  "pread64", "preadv", "preadv2", "prlimit64", "process_mrelease", "pselect6", "pselect6_time64",
  "pwrite64", "pwritev", "pwritev2", "read", "readahead", "readlink", "readlinkat", "readv", "recv",
  "recvfrom", "recvmmsg", "recvmmsg_time64", "recvmsg", "remap_file_pages", "removexattr",
  "removexattrat", "rename", "renameat", "renameat2", "restart_syscall", "riscv_hwprobe", "rmdir",
  "rseq", "rt_sigaction", "rt_sigpending", "rt_sigprocmask", "rt_sigqueueinfo", "rt_sigreturn",
  "rt_sigsuspend", "rt_sigtimedwait", "rt_sigtimedwait_time64", "rt_tgsigqueueinfo",
  "sched_getaffinity", "sched_getattr", "sched_getparam", "sched_get_priority_max",
  "sched_get_priority_min", "sched_getscheduler", "sched_rr_get_interval",
  "sched_rr_get_interval_time64", "sched_setaffinity", "sched_setattr", "sched_setparam",
  "sched_setscheduler", "sched_yield", "seccomp", "select", "semctl", "semget", "semop",
  "semtimedop", "semtimedop_time64", "send", "sendfile", "sendfile64", "sendmmsg", "sendmsg",
  "sendto", "setfsgid", "setfsgid32", "setfsuid", "setfsuid32", "setgid", "setgid32", "setgroups",
  "setgroups32", "setitimer", "setpgid", "setpriority", "setregid", "setregid32", "setresgid",
  "setresgid32", "setresuid", "setresuid32", "setreuid", "setreuid32", "setrlimit",
  "set_robust_list", "setsid", "setsockopt", "set_thread_area", "set_tid_address", "setuid",
  "setuid32", "setxattr", "setxattrat", "shmat", "shmctl", "shmdt", "shmget", "shutdown",
  "sigaltstack", "signalfd", "signalfd4", "sigprocmask", "sigreturn", "socketcall", "socketpair",
  "splice", "stat", "stat64", "statfs", "statfs64", "statmount", "statx", "symlink", "symlinkat",
  "sync", "sync_file_range", "syncfs", "sysinfo", "tee", "tgkill", "time", "timer_create",
  "timer_delete", "timer_getoverrun", "timer_gettime", "timer_gettime64", "timer_settime",
  "timer_settime64", "timerfd_create", "timerfd_gettime", "timerfd_gettime64", "timerfd_settime",
  "timerfd_settime64", "times", "tkill", "truncate", "truncate64", "ugetrlimit", "umask", "uname",
  "unlink", "unlinkat", "uretprobe", "utime", "utimensat", "utimensat_time64", "utimes", "vfork",
  "vmsplice", "wait4", "waitid", "waitpid", "write", "writev", NULL,
};
/* clang-format on */

/* clone flags that create namespaces; a container without CAP_SYS_ADMIN may not use them. */
#define CLONE_NS_FLAGS                                                                             \
  ((uint64_t)(CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER | CLONE_NEWPID             \
              | CLONE_NEWNET | CLONE_NEWCGROUP))
_Static_assert(CLONE_NS_FLAGS == 0x7E020000, "Docker's clone mask is 2114060288");

static const struct sc_rule default_rules[] = {
  { .names = default_allow, .action = ALLOW },
  /* Before 4.8 a tracer could rewrite a syscall after seccomp had checked it. */
  { .names = LIST ("process_vm_readv", "process_vm_writev", "ptrace"),
    .action = ALLOW,
    .inc = { .kernel = 4, .major = 8 } },
  /* Every socket family but AF_ALG (38) and AF_VSOCK (40). */
  { .names = LIST ("socket"), .action = ALLOW, ARGS ({ 0, 38, 0, "SCMP_CMP_LT" }) },
  { .names = LIST ("socket"), .action = ALLOW, ARGS (EQ0 (39)) },
  { .names = LIST ("socket"), .action = ALLOW, ARGS ({ 0, 40, 0, "SCMP_CMP_GT" }) },
  /* personality: PER_LINUX, PER_LINUX32, UNAME26, PER_LINUX32|UNAME26, and the query. */
  { .names = LIST ("personality"), .action = ALLOW, ARGS (EQ0 (0x0)) },
  { .names = LIST ("personality"), .action = ALLOW, ARGS (EQ0 (0x8)) },
  { .names = LIST ("personality"), .action = ALLOW, ARGS (EQ0 (0x20000)) },
  { .names = LIST ("personality"), .action = ALLOW, ARGS (EQ0 (0x20008)) },
  { .names = LIST ("personality"), .action = ALLOW, ARGS (EQ0 (0xffffffff)) },
  /* Architecture-specific calls. */
  { .names = LIST ("sync_file_range2", "swapcontext"),
    .action = ALLOW,
    .inc = { .arches = LIST ("ppc64le") } },
  { .names = LIST ("arm_fadvise64_64", "arm_sync_file_range", "sync_file_range2", "breakpoint",
                   "cacheflush", "set_tls"),
    .action = ALLOW,
    .inc = { .arches = LIST ("arm", "arm64") } },
  { .names = LIST ("arch_prctl"), .action = ALLOW, .inc = { .arches = LIST ("amd64", "x32") } },
  { .names = LIST ("modify_ldt"),
    .action = ALLOW,
    .inc = { .arches = LIST ("amd64", "x32", "x86") } },
  { .names = LIST ("s390_pci_mmio_read", "s390_pci_mmio_write", "s390_runtime_instr"),
    .action = ALLOW,
    .inc = { .arches = LIST ("s390", "s390x") } },
  { .names = LIST ("riscv_flush_icache"), .action = ALLOW, .inc = { .arches = LIST ("riscv64") } },
  /* Capability-gated calls. */
  { .names = LIST ("open_by_handle_at"),
    .action = ALLOW,
    .inc = { .caps = LIST ("CAP_DAC_READ_SEARCH") } },
  { .names = LIST ("bpf", "clone", "clone3", "fanotify_init", "fsconfig", "fsmount", "fsopen",
                   "fspick", "lookup_dcookie", "lsm_get_self_attr", "lsm_list_modules",
                   "lsm_set_self_attr", "mount", "mount_setattr", "move_mount", "open_tree",
                   "perf_event_open", "quotactl", "quotactl_fd", "setdomainname", "sethostname",
                   "setns", "syslog", "umount", "umount2", "unshare"),
    .action = ALLOW,
    .inc = { .caps = LIST ("CAP_SYS_ADMIN") } },
  /* clone without namespace flags; s390 passes the flags as the second argument. */
  { .names = LIST ("clone"),
    .action = ALLOW,
    ARGS ({ 0, CLONE_NS_FLAGS, 0, "SCMP_CMP_MASKED_EQ" }),
    .exc = { .caps = LIST ("CAP_SYS_ADMIN"), .arches = LIST ("s390", "s390x") } },
  { .names = LIST ("clone"),
    .action = ALLOW,
    ARGS ({ 1, CLONE_NS_FLAGS, 0, "SCMP_CMP_MASKED_EQ" }),
    .inc = { .arches = LIST ("s390", "s390x") },
    .exc = { .caps = LIST ("CAP_SYS_ADMIN") } },
  /* clone3's flags live in memory seccomp cannot read: ENOSYS makes libc fall back to clone. */
  { .names = LIST ("clone3"),
    .action = "SCMP_ACT_ERRNO",
    .has_errno = true,
    .errno_ret = 38,
    .exc = { .caps = LIST ("CAP_SYS_ADMIN") } },
  { .names = LIST ("reboot"), .action = ALLOW, .inc = { .caps = LIST ("CAP_SYS_BOOT") } },
  { .names = LIST ("chroot"), .action = ALLOW, .inc = { .caps = LIST ("CAP_SYS_CHROOT") } },
  { .names = LIST ("delete_module", "init_module", "finit_module"),
    .action = ALLOW,
    .inc = { .caps = LIST ("CAP_SYS_MODULE") } },
  { .names = LIST ("acct"), .action = ALLOW, .inc = { .caps = LIST ("CAP_SYS_PACCT") } },
  { .names = LIST ("kcmp", "pidfd_getfd", "process_madvise", "process_vm_readv",
                   "process_vm_writev", "ptrace"),
    .action = ALLOW,
    .inc = { .caps = LIST ("CAP_SYS_PTRACE") } },
  { .names = LIST ("iopl", "ioperm"), .action = ALLOW, .inc = { .caps = LIST ("CAP_SYS_RAWIO") } },
  { .names = LIST ("settimeofday", "stime", "clock_settime", "clock_settime64"),
    .action = ALLOW,
    .inc = { .caps = LIST ("CAP_SYS_TIME") } },
  { .names = LIST ("vhangup"), .action = ALLOW, .inc = { .caps = LIST ("CAP_SYS_TTY_CONFIG") } },
  { .names = LIST ("get_mempolicy", "mbind", "set_mempolicy", "set_mempolicy_home_node"),
    .action = ALLOW,
    .inc = { .caps = LIST ("CAP_SYS_NICE") } },
  { .names = LIST ("syslog"), .action = ALLOW, .inc = { .caps = LIST ("CAP_SYSLOG") } },
  { .names = LIST ("bpf"), .action = ALLOW, .inc = { .caps = LIST ("CAP_BPF") } },
  { .names = LIST ("perf_event_open"), .action = ALLOW, .inc = { .caps = LIST ("CAP_PERFMON") } },
};

static const struct sc_archmap default_archmap[] = {
  { "SCMP_ARCH_X86_64", LIST ("SCMP_ARCH_X86", "SCMP_ARCH_X32") },
  { "SCMP_ARCH_AARCH64", LIST ("SCMP_ARCH_ARM") },
  { "SCMP_ARCH_MIPS64", LIST ("SCMP_ARCH_MIPS", "SCMP_ARCH_MIPS64N32") },
  { "SCMP_ARCH_MIPS64N32", LIST ("SCMP_ARCH_MIPS", "SCMP_ARCH_MIPS64") },
  { "SCMP_ARCH_MIPSEL64", LIST ("SCMP_ARCH_MIPSEL", "SCMP_ARCH_MIPSEL64N32") },
  { "SCMP_ARCH_MIPSEL64N32", LIST ("SCMP_ARCH_MIPSEL", "SCMP_ARCH_MIPSEL64") },
  { "SCMP_ARCH_S390X", LIST ("SCMP_ARCH_S390") },
  { "SCMP_ARCH_RISCV64", NULL },
  { "SCMP_ARCH_LOONGARCH64", NULL },
};

static const struct sc_profile default_profile = {
  .default_action = "SCMP_ACT_ERRNO",
  .has_default_errno = true,
  .default_errno = 1, /* EPERM */
  .archmap = default_archmap,
  .n_archmap = ARRAY_SIZE (default_archmap),
  .rules = default_rules,
  .n_rules = ARRAY_SIZE (default_rules),
};

/* ---- the host ---- */

/* Docker matches rules against its own build architecture (Go's GOARCH), not the kernel's. */
static const char *build_arch (void)
{
#if defined(__x86_64__)
  return "amd64"; /* an x32 build runs on an x86_64 kernel too */
#elif defined(__i386__)
  return "x86";
#elif defined(__aarch64__)
  return "arm64";
#elif defined(__arm__)
  return "arm";
#elif defined(__loongarch64)
  return "loongarch64";
#elif defined(__mips__) && defined(_MIPS_SIM) && _MIPS_SIM == _ABI64
#if defined(__MIPSEL__)
  return "mipsel64";
#else
  return "mips64";
#endif
#elif defined(__mips__) && defined(_MIPS_SIM) && _MIPS_SIM == _ABIN32
#if defined(__MIPSEL__)
  return "mipsel64n32";
#else
  return "mips64n32";
#endif
#elif defined(__mips__)
#if defined(__MIPSEL__)
  return "mipsel";
#else
  return "mips";
#endif
#elif defined(__powerpc64__) && defined(__LITTLE_ENDIAN__)
  return "ppc64le";
#elif defined(__powerpc64__)
  return "ppc64";
#elif defined(__powerpc__)
  return "ppc";
#elif defined(__riscv) && __riscv_xlen == 64
  return "riscv64";
#elif defined(__s390x__)
  return "s390x";
#elif defined(__s390__)
  return "s390";
#else
  return NULL;
#endif
}

void seccomp_host_detect (struct seccomp_host *h)
{
  struct utsname u;
  *h = (struct seccomp_host){ .arch = build_arch () };
  /* "6.1.0-18-amd64", "3.12-1-amd64", "5.15.0-rc5": only kernel.major counts. */
  if (uname (&u) == 0 && sscanf (u.release, "%u.%u", &h->kernel, &h->major) == 2)
    h->has_kernel = true;
}

/* ---- resolution ---- */

/* Whether the host's kernel is at least the condition's minKernel (false when it has none). */
static int kernel_at_least (const struct seccomp_host *h, const struct sc_cond *c, bool *yes,
                            berr_t *err)
{
  *yes = false;
  if (c->kernel == 0 && c->major == 0)
    return 0;
  if (!h->has_kernel)
    return berr_setk (err, BERR_INVALID, 0,
                      "cannot read the kernel version, which a minKernel rule needs");
  *yes = h->kernel > c->kernel || (h->kernel == c->kernel && h->major >= c->major);
  return 0;
}

/* Docker's conditions, in Docker's order: an exclude drops the rule if any of its arches is the
 * host's, any of its caps is the container's, or the kernel is at least its minKernel; an
 * include keeps the rule only if the host's arch is among its arches, the container has all of
 * its caps, and the kernel is at least its minKernel. */
static int rule_applies (const struct sc_rule *r, char *const *caps, const struct seccomp_host *h,
                         bool *yes, berr_t *err)
{
  const struct sc_cond *x = &r->exc, *i = &r->inc;
  bool ge;

  *yes = false;
  if (x->arches && x->arches[0] && in_list (x->arches, h->arch))
    return 0;
  for (size_t k = 0; x->caps && x->caps[k]; k++)
    if (strv_contains (caps, x->caps[k]))
      return 0;
  if (kernel_at_least (h, x, &ge, err) < 0)
    return -1;
  if (ge)
    return 0;

  if (i->arches && i->arches[0] && !in_list (i->arches, h->arch))
    return 0;
  for (size_t k = 0; i->caps && i->caps[k]; k++)
    if (!strv_contains (caps, i->caps[k]))
      return 0;
  if (kernel_at_least (h, i, &ge, err) < 0)
    return -1;
  if ((i->kernel || i->major) && !ge)
    return 0;
  *yes = true;
  return 0;
}

static json_t *strs_json (const char *const *v)
{
  json_t *a = json_array ();
  for (size_t i = 0; v && v[i]; i++)
    json_array_append_new (a, json_string (v[i]));
  return a;
}

static json_t *rule_json (const struct sc_rule *r)
{
  json_t *o = json_object ();
  json_object_set_new (o, "names", strs_json (r->names));
  json_object_set_new (o, "action", json_string (r->action));
  if (r->has_errno)
    json_object_set_new (o, "errnoRet", json_integer (r->errno_ret));
  if (r->n_args)
    {
      json_t *args = json_array ();
      for (size_t i = 0; i < r->n_args; i++)
        json_array_append_new (
            args, json_pack ("{s:I, s:I, s:I, s:s}", "index", (json_int_t)r->args[i].index, "value",
                             (json_int_t)r->args[i].value, "valueTwo",
                             (json_int_t)r->args[i].value_two, "op", r->args[i].op));
      json_object_set_new (o, "args", args);
    }
  return o;
}

static json_t *resolve (const struct sc_profile *p, char *const *caps, const struct seccomp_host *h,
                        berr_t *err)
{
  cleanup_json json_t *o = json_object ();
  json_t *arches = json_array (), *rules = json_array ();

  json_object_set_new (o, "defaultAction", json_string (p->default_action));
  if (p->has_default_errno)
    json_object_set_new (o, "defaultErrnoRet", json_integer (p->default_errno));
  json_object_set_new (o, "architectures", arches);
  for (size_t i = 0; p->architectures && p->architectures[i]; i++)
    json_array_append_new (arches, json_string (p->architectures[i]));
  const char *host_scmp = seccomp_arch_scmp_name (h->arch);
  for (size_t i = 0; host_scmp && i < p->n_archmap; i++)
    if (strcmp (p->archmap[i].arch, host_scmp) == 0)
      {
        json_array_append_new (arches, json_string (p->archmap[i].arch));
        for (size_t k = 0; p->archmap[i].subs && p->archmap[i].subs[k]; k++)
          json_array_append_new (arches, json_string (p->archmap[i].subs[k]));
        break;
      }
  if (p->flags)
    json_object_set (o, "flags", p->flags);
  if (p->listener_path)
    json_object_set (o, "listenerPath", p->listener_path);
  if (p->listener_metadata)
    json_object_set (o, "listenerMetadata", p->listener_metadata);

  json_object_set_new (o, "syscalls", rules);
  for (size_t i = 0; i < p->n_rules; i++)
    {
      bool yes;
      if (rule_applies (&p->rules[i], caps, h, &yes, err) < 0)
        return NULL;
      if (yes)
        json_array_append_new (rules, rule_json (&p->rules[i]));
    }
  return steal_pointer (&o);
}

json_t *seccomp_docker_default_for (char *const *caps, const struct seccomp_host *h)
{
  /* The built-in profile has minKernel rules only as includes, so an unreadable kernel version
   * leaves them out (the safe side) instead of failing. */
  struct seccomp_host hh = *h;
  cleanup_berr berr_t err = BERR_INIT;
  if (!hh.has_kernel)
    hh = (struct seccomp_host){ .arch = h->arch, .has_kernel = true };
  json_t *o = resolve (&default_profile, caps, &hh, &err);
  if (o == NULL)
    abort (); /* cannot happen: the table's conditions all resolve */
  return o;
}

json_t *seccomp_docker_default (char *const *caps)
{
  struct seccomp_host h;
  seccomp_host_detect (&h);
  return seccomp_docker_default_for (caps, &h);
}

/* ---- Docker's file format ---- */

/* Everything a parsed profile allocates, freed together. */
struct pool
{
  void **p;
  size_t n;
};

static void *pool_alloc (struct pool *pl, size_t n)
{
  void *m = xzalloc (n ? n : 1);
  pl->p = xrealloc (pl->p, (pl->n + 1) * sizeof (void *));
  pl->p[pl->n++] = m;
  return m;
}

static void pool_release (struct pool *pl)
{
  for (size_t i = 0; i < pl->n; i++)
    free (pl->p[i]);
  free (pl->p);
  pl->p = NULL;
  pl->n = 0;
}

/* Go's decoder, which reads Docker's profiles, matches member names without regard to case and
 * treats null as absent; do the same. */
static json_t *member (json_t *obj, const char *key)
{
  json_t *v = json_object_get (obj, key);
  if (v == NULL)
    {
      const char *k;
      json_t *x;
      json_object_foreach (obj, k, x)
      {
        if (strcasecmp (k, key) == 0)
          {
            v = x;
            break;
          }
      }
    }
  return json_is_null (v) ? NULL : v;
}

static int invalid (berr_t *err, const char *where, const char *fmt, const char *what)
{
  cleanup_free char *m = xasprintf (fmt, what);
  return berr_setk (err, BERR_INVALID, 0, "seccomp profile: %s: %s", where, m);
}

static int get_string (json_t *obj, const char *key, const char *where, const char **out,
                       berr_t *err)
{
  json_t *v = member (obj, key);
  *out = NULL;
  if (v == NULL)
    return 0;
  if (!json_is_string (v))
    {
      cleanup_free char *w = xasprintf ("%s%s", where, key);
      return invalid (err, w, "%s", "expected a string");
    }
  *out = json_string_value (v);
  return 0;
}

static int get_strv (struct pool *pl, json_t *obj, const char *key, const char *where,
                     const char *const **out, berr_t *err)
{
  json_t *v = member (obj, key), *x;
  size_t i;
  *out = NULL;
  if (v == NULL)
    return 0;
  if (!json_is_array (v))
    {
      cleanup_free char *w = xasprintf ("%s%s", where, key);
      return invalid (err, w, "%s", "expected an array of strings");
    }
  const char **l = pool_alloc (pl, (json_array_size (v) + 1) * sizeof (char *));
  json_array_foreach (v, i, x)
  {
    if (!json_is_string (x) || json_string_length (x) == 0)
      {
        cleanup_free char *w = xasprintf ("%s%s[%zu]", where, key, i);
        return invalid (err, w, "%s", "expected a non-empty string");
      }
    l[i] = json_string_value (x);
  }
  *out = l;
  return 0;
}

static int get_uint (json_t *obj, const char *key, const char *where, uint64_t max, bool *has,
                     uint64_t *out, berr_t *err)
{
  json_t *v = member (obj, key);
  *has = false;
  *out = 0;
  if (v == NULL)
    return 0;
  if (!json_is_integer (v) || json_integer_value (v) < 0 || (uint64_t)json_integer_value (v) > max)
    {
      cleanup_free char *w = xasprintf ("%s%s", where, key);
      cleanup_free char *lim
          = xasprintf ("expected an integer from 0 to %llu", (unsigned long long)max);
      return invalid (err, w, "%s", lim);
    }
  *has = true;
  *out = (uint64_t)json_integer_value (v);
  return 0;
}

static int check_action (const char *action, const char *where, berr_t *err)
{
  if (action == NULL || *action == '\0')
    return invalid (err, where, "%s", "missing");
  if (!in_list (actions, action))
    return invalid (err, where, "unknown action \"%s\"", action);
  return 0;
}

/* "4.8": kernel.major, both 0..255, not 0.0 (Docker's rule); "" means no condition. */
static int parse_min_kernel (json_t *obj, const char *where, struct sc_cond *c, berr_t *err)
{
  const char *s;
  if (get_string (obj, "minKernel", where, &s, err) < 0)
    return -1;
  if (s == NULL || *s == '\0')
    return 0;
  unsigned int k, m;
  int n = 0;
  if (sscanf (s, "%3u.%3u%n", &k, &m, &n) != 2 || s[n] != '\0' || !isdigit ((unsigned char)s[0])
      || k > 255 || m > 255 || (k == 0 && m == 0))
    {
      cleanup_free char *w = xasprintf ("%sminKernel", where);
      return invalid (err, w, "invalid kernel version \"%s\", expected \"<kernel>.<major>\"", s);
    }
  c->kernel = k;
  c->major = m;
  return 0;
}

static int parse_cond (struct pool *pl, json_t *rule, const char *key, const char *where,
                       struct sc_cond *c, berr_t *err)
{
  json_t *v = member (rule, key);
  if (v == NULL)
    return 0;
  cleanup_free char *w = xasprintf ("%s%s", where, key);
  if (!json_is_object (v))
    return invalid (err, w, "%s", "expected an object");
  cleanup_free char *wd = xasprintf ("%s.", w);
  if (get_strv (pl, v, "caps", wd, &c->caps, err) < 0
      || get_strv (pl, v, "arches", wd, &c->arches, err) < 0
      || parse_min_kernel (v, wd, c, err) < 0)
    return -1;
  return 0;
}

static int parse_args (struct pool *pl, json_t *rule, const char *where, struct sc_rule *r,
                       berr_t *err)
{
  json_t *v = member (rule, "args"), *a;
  size_t i;
  if (v == NULL)
    return 0;
  if (!json_is_array (v))
    {
      cleanup_free char *w = xasprintf ("%sargs", where);
      return invalid (err, w, "%s", "expected an array");
    }
  struct sc_arg *args = pool_alloc (pl, json_array_size (v) * sizeof (struct sc_arg));
  json_array_foreach (v, i, a)
  {
    cleanup_free char *w = xasprintf ("%sargs[%zu]", where, i);
    cleanup_free char *wd = xasprintf ("%s.", w);
    uint64_t idx, val, val2;
    bool has_idx, has_val, has_val2;
    const char *op;
    if (!json_is_object (a))
      return invalid (err, w, "%s", "expected an object");
    /* A syscall has six arguments (index 0 to 5). */
    if (get_uint (a, "index", wd, 5, &has_idx, &idx, err) < 0
        || get_uint (a, "value", wd, UINT64_MAX, &has_val, &val, err) < 0
        || get_uint (a, "valueTwo", wd, UINT64_MAX, &has_val2, &val2, err) < 0
        || get_string (a, "op", wd, &op, err) < 0)
      return -1;
    if (op == NULL || *op == '\0')
      {
        cleanup_free char *wo = xasprintf ("%sop", wd);
        return invalid (err, wo, "%s", "missing");
      }
    if (!in_list (ops, op))
      {
        cleanup_free char *wo = xasprintf ("%sop", wd);
        return invalid (err, wo, "unknown comparison \"%s\"", op);
      }
    args[i] = (struct sc_arg){ (unsigned int)idx, val, val2, op };
  }
  r->args = args;
  r->n_args = json_array_size (v);
  return 0;
}

static int parse_rule (struct pool *pl, json_t *s, size_t idx, struct sc_rule *r, berr_t *err)
{
  cleanup_free char *w = xasprintf ("syscalls[%zu]", idx);
  cleanup_free char *wd = xasprintf ("%s.", w);
  const char *name, *action, *comment;
  uint64_t eret;
  bool has_eret;

  if (!json_is_object (s))
    return invalid (err, w, "%s", "expected an object");
  if (get_string (s, "name", wd, &name, err) < 0
      || get_strv (pl, s, "names", wd, &r->names, err) < 0
      || get_string (s, "action", wd, &action, err) < 0
      || get_string (s, "comment", wd, &comment, err) < 0)
    return -1;
  if (name && *name)
    {
      if (r->names && r->names[0])
        return invalid (err, w, "%s",
                        "both \"name\" and \"names\" are given; use either \"name\" or \"names\"");
      const char **one = pool_alloc (pl, 2 * sizeof (char *));
      one[0] = name;
      r->names = one;
    }
  if (r->names == NULL || r->names[0] == NULL)
    return invalid (err, w, "%s", "no syscall names (\"names\" or \"name\")");
  cleanup_free char *wa = xasprintf ("%saction", wd);
  if (check_action (action, wa, err) < 0)
    return -1;
  r->action = action;
  if (get_uint (s, "errnoRet", wd, MAX_ERRNO, &has_eret, &eret, err) < 0)
    return -1;
  r->has_errno = has_eret;
  r->errno_ret = (unsigned int)eret;
  if (parse_args (pl, s, wd, r, err) < 0 || parse_cond (pl, s, "includes", wd, &r->inc, err) < 0
      || parse_cond (pl, s, "excludes", wd, &r->exc, err) < 0)
    return -1;
  return 0;
}

static int parse_arches (struct pool *pl, json_t *root, struct sc_profile *p, berr_t *err)
{
  json_t *am = member (root, "archMap"), *e;
  size_t i;

  if (get_strv (pl, root, "architectures", "", &p->architectures, err) < 0)
    return -1;
  for (i = 0; p->architectures && p->architectures[i]; i++)
    if (!is_scmp_arch (p->architectures[i]))
      {
        cleanup_free char *w = xasprintf ("architectures[%zu]", i);
        return invalid (err, w, "unknown architecture \"%s\"", p->architectures[i]);
      }
  if (am == NULL)
    return 0;
  if (!json_is_array (am))
    return invalid (err, "archMap", "%s", "expected an array");
  if (p->architectures && p->architectures[0] && json_array_size (am) > 0)
    return invalid (err, "archMap", "%s",
                    "both \"architectures\" and \"archMap\" are given; use either one");
  struct sc_archmap *m = pool_alloc (pl, json_array_size (am) * sizeof (struct sc_archmap));
  json_array_foreach (am, i, e)
  {
    cleanup_free char *w = xasprintf ("archMap[%zu]", i);
    cleanup_free char *wd = xasprintf ("%s.", w);
    if (!json_is_object (e))
      return invalid (err, w, "%s", "expected an object");
    if (get_string (e, "architecture", wd, &m[i].arch, err) < 0
        || get_strv (pl, e, "subArchitectures", wd, &m[i].subs, err) < 0)
      return -1;
    if (m[i].arch == NULL || !is_scmp_arch (m[i].arch))
      {
        cleanup_free char *wa = xasprintf ("%sarchitecture", wd);
        return invalid (err, wa, "unknown architecture \"%s\"", m[i].arch ? m[i].arch : "");
      }
    for (size_t k = 0; m[i].subs && m[i].subs[k]; k++)
      if (!is_scmp_arch (m[i].subs[k]))
        {
          cleanup_free char *ws = xasprintf ("%ssubArchitectures[%zu]", wd, k);
          return invalid (err, ws, "unknown architecture \"%s\"", m[i].subs[k]);
        }
  }
  p->archmap = m;
  p->n_archmap = json_array_size (am);
  return 0;
}

static int parse_profile (struct pool *pl, json_t *root, struct sc_profile *p, berr_t *err)
{
  json_t *sys = member (root, "syscalls"), *s;
  uint64_t derr;
  size_t i;

  *p = (struct sc_profile){ 0 };
  if (!json_is_object (root))
    return berr_setk (err, BERR_INVALID, 0, "seccomp profile: expected a JSON object");
  if (get_string (root, "defaultAction", "", &p->default_action, err) < 0
      || get_uint (root, "defaultErrnoRet", "", MAX_ERRNO, &p->has_default_errno, &derr, err) < 0
      || parse_arches (pl, root, p, err) < 0)
    return -1;
  p->default_errno = (unsigned int)derr;
  if (sys && !json_is_array (sys))
    return invalid (err, "syscalls", "%s", "expected an array");
  p->flags = member (root, "flags");
  if (p->flags)
    {
      json_t *f;
      if (!json_is_array (p->flags))
        return invalid (err, "flags", "%s", "expected an array of strings");
      json_array_foreach (p->flags, i, f)
      {
        if (!json_is_string (f))
          return invalid (err, "flags", "%s", "expected an array of strings");
      }
    }
  p->listener_path = member (root, "listenerPath");
  p->listener_metadata = member (root, "listenerMetadata");
  if ((p->listener_path && !json_is_string (p->listener_path))
      || (p->listener_metadata && !json_is_string (p->listener_metadata)))
    return invalid (err,
                    p->listener_path && !json_is_string (p->listener_path) ? "listenerPath"
                                                                           : "listenerMetadata",
                    "%s", "expected a string");
  if (sys == NULL || json_array_size (sys) == 0)
    {
      if (p->default_action == NULL || *p->default_action == '\0')
        return 0; /* Docker: nothing to enforce, run unconfined */
    }
  if (check_action (p->default_action, "defaultAction", err) < 0)
    return -1;
  if (sys == NULL)
    return 0;
  struct sc_rule *rules = pool_alloc (pl, json_array_size (sys) * sizeof (struct sc_rule));
  json_array_foreach (sys, i, s)
  {
    if (parse_rule (pl, s, i, &rules[i], err) < 0)
      return -1;
  }
  p->rules = rules;
  p->n_rules = json_array_size (sys);
  return 0;
}

int seccomp_from_docker_json_for (const char *text, char *const *caps, const struct seccomp_host *h,
                                  json_t **out, berr_t *err)
{
  cleanup_json json_t *root = NULL;
  struct pool pl = { NULL, 0 };
  struct sc_profile p;

  *out = NULL;
  root = json_parse_buf (text, strlen (text), "seccomp profile", err);
  if (root == NULL)
    return -1;
  int ret = parse_profile (&pl, root, &p, err);
  if (ret == 0 && p.default_action && *p.default_action)
    {
      *out = resolve (&p, caps, h, err);
      if (*out == NULL)
        ret = berr_wrap (err, "seccomp profile");
    }
  pool_release (&pl);
  return ret;
}

int seccomp_from_docker_json (const char *text, char *const *caps, json_t **out, berr_t *err)
{
  struct seccomp_host h;
  seccomp_host_detect (&h);
  return seccomp_from_docker_json_for (text, caps, &h, out, err);
}
