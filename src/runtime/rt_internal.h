/* rt_internal.h — what the runtime's files share: the spec flattened into plain C (struct
 * rt_cfg, built in the parent before clone so the child never parses JSON or allocates), the
 * child's error slot, and the steps each file provides.
 *
 * The child is a copy of the caller made by a raw clone: if the caller had other threads, a
 * lock they held (malloc's, stdio's) stays held forever in the child.  So child-side code uses
 * only syscalls, stack buffers and what rt_cfg already holds. */
#ifndef BERTH_RT_INTERNAL_H
#define BERTH_RT_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/types.h>

#include "runtime/runtime.h"
#include "runtime/seccomp.h"
#include "runtime/rt_sync.h"

struct rt_mount
{
  const char *dest;          /* absolute, inside the container */
  const char *source;        /* NULL for none */
  const char *type;          /* NULL for none */
  char *data;                /* filesystem options, NULL for none */
  unsigned long flags;       /* MS_* (MS_BIND, MS_REC for binds) */
  unsigned long clear_flags; /* flags an option asked to clear (rw, suid...) */
  unsigned long propagation; /* MS_SHARED/MS_SLAVE/MS_PRIVATE/MS_UNBINDABLE [|MS_REC] or 0 */
  bool is_bind;
  bool source_is_dir; /* binds: the source is a directory (else a file is created as target) */
};

struct rt_device
{
  const char *path; /* absolute, under /dev */
  mode_t mode;      /* S_IFCHR/S_IFBLK/S_IFIFO | permissions */
  dev_t dev;
  uid_t uid;
  gid_t gid;
};

struct rt_rlimit
{
  int resource;
  const char *name;
  struct rlimit rl;
};

struct rt_sysctl
{
  const char *key;
  char *path; /* /proc/sys/... */
  const char *value;
};

struct rt_ns_join
{
  int type; /* CLONE_NEW* */
  int fd;
  const char *name;
};

/* A v1 cgroup hierarchy of the host, for a "cgroup" mount on a v1 or hybrid host. */
struct rt_cgroup_hier
{
  char *mountpoint; /* /sys/fs/cgroup/cpu */
  char *name;       /* directory name inside the container: "cpu", "systemd", "unified" */
  char *key;        /* how /proc/self/cgroup names it: "cpu", "name=systemd", "" for v2 */
};

enum
{
  RT_CAP_BOUNDING,
  RT_CAP_EFFECTIVE,
  RT_CAP_PERMITTED,
  RT_CAP_INHERITABLE,
  RT_CAP_AMBIENT,
  RT_CAP_NSETS,
};

struct rt_cfg
{
  /* process */
  char **argv; /* pointers into the spec's strings */
  char **envp;
  const char *path_env; /* PATH from envp, for the lookup of argv[0] */
  const char *cwd;
  bool terminal;
  bool has_winsize;
  struct winsize winsize;
  uid_t uid;
  gid_t gid;
  gid_t *groups;
  size_t ngroups;
  mode_t umask;
  bool has_caps;
  uint64_t caps[RT_CAP_NSETS];
  int cap_last;
  bool no_new_privs;
  bool has_oom_score_adj;
  int oom_score_adj;
  struct rt_rlimit *rlimits;
  size_t nrlimits;

  /* root and mounts (rt_spawn only) */
  const char *rootfs;
  bool root_readonly;
  const char *hostname;
  const char *domainname;
  struct rt_mount *mounts;
  size_t nmounts;
  struct rt_device *devices;
  size_t ndevices;
  char **masked;   /* strv, pointers into the spec */
  char **readonly; /* strv, pointers into the spec */
  unsigned long rootfs_propagation;
  struct rt_sysctl *sysctls;
  size_t nsysctls;
  const struct rt_cgroup_hier *cg_hiers; /* shared, read once per process */
  size_t ncg_hiers;
  int cgroup_mode; /* enum cgroup_mode of the host, for "cgroup" mounts */

  /* namespaces */
  unsigned long clone_flags; /* new namespaces made by clone */
  bool new_cgroupns;         /* unshared by the child once its cgroup is set */
  struct rt_ns_join joins[8];
  size_t njoins;
  int pid_join_fd;         /* joined by the parent around clone, -1 for none */
  char *uid_map, *gid_map; /* "inside outside count\n"... for a new user namespace */

  /* seccomp */
  bool has_seccomp;
  struct seccomp_prog seccomp;
  unsigned int seccomp_flags;

  /* io and fds the child needs */
  int stdio[3];
  int sync_fd;
  /* v1 cgroup `tasks` files the child writes "0" to (cgroup_self_attach_fds) */
  const int *cg_self_fds;
  size_t ncg_self_fds;
  int tramp_fd;
  bool is_exec;

  /* OCI hooks the child asks the parent to run (RT_SYNC_HOOK): createContainer before
   * pivot_root, startContainer before exec.  on_hook runs in the parent (rt_sync_wait). */
  bool child_hooks[2]; /* [0] createContainer, [1] startContainer */
  int (*on_hook) (int stage, void *arg, berr_t *err);
  void *on_hook_arg;
};

/* spec.c: flatten the spec (and, for exec, a process object) into cfg.  Errors are
 * BERR_INVALID and name the field. */
int rt_cfg_init (struct rt_cfg *c, const json_t *spec, const json_t *process, bool for_exec,
                 berr_t *err);
void rt_cfg_release (struct rt_cfg *c);
/* Every capability of the calling process's bounding set (privileged exec). */
uint64_t rt_caps_bounding_mask (int cap_last);

/* The child's state: where its error goes. */
struct rt_child
{
  const struct rt_cfg *cfg;
  int rootfd;        /* O_PATH of the container's root once it exists, else -1 */
  char selfcg[4096]; /* /proc/self/cgroup as the parent left it, for "cgroup" mounts */
  int errnum;
  int kind;
  char msg[RT_SYNC_MSG_MAX - sizeof (struct rt_sync_msg)];
};

/* The child moves itself into the v1 cgroups (see cgroup_self_attach_fds). */
int rt_child_cgroup_attach (struct rt_child *ch);
/* Record an error (errno is appended by the parent) and return -1. */
int rt_child_fail (struct rt_child *ch, int errnum, const char *fmt, ...) PRINTF_LIKE (3, 4);
/* Record an error whose message is complete (no strerror appended), with a kind. */
int rt_child_failk (struct rt_child *ch, int kind, int errnum, const char *fmt, ...)
    PRINTF_LIKE (4, 5);
/* The child's main: never returns.  Sends errors to cfg->sync_fd. */
void rt_child_main (struct rt_child *ch) __attribute__ ((noreturn));
/* The part after the filesystem is in place, shared with rt_exec's process: session,
 * terminal, stdio, fds, cwd, limits, user, capabilities, seccomp, exec.  Returns only on error. */
int rt_child_finish (struct rt_child *ch);

/* mounts.c (child side) */
int rt_mounts_setup (struct rt_child *ch);    /* propagation, rootfs, mounts, /dev, pivot_root */
int rt_mounts_finalize (struct rt_child *ch); /* masked and read-only paths, read-only root */
int rt_console_setup (struct rt_child *ch, int slave_fd);
/* openat2 resolve-in-root mkdir -p without allocating. Returns an O_PATH dir fd or -1/errno. */
int rt_mkdir_in_root (int rootfd, const char *path, mode_t mode);

/* security.c (child side) */
int rt_sysctls_apply (struct rt_child *ch);
int rt_rlimits_apply (struct rt_child *ch);
int rt_oom_score_adj_apply (struct rt_child *ch);
int rt_user_and_caps_apply (struct rt_child *ch, bool install_seccomp_first);

/* payload.c */
/* The sealed memfd holding the trampoline, created once per process; -1 with err on failure. */
int rt_trampoline_fd (berr_t *err);
/* Child side: resolve argv[0] like execvp in the container; exact Docker-style errors. */
int rt_lookup_exec (struct rt_child *ch, char *out, size_t outlen);
/* Child side: exec the payload at path through the trampoline.  Returns only on failure. */
int rt_exec_payload (struct rt_child *ch, const char *path);
/* Parent side: the message for a failed execve of argv0 (from the trampoline). */
void rt_exec_errno_message (berr_t *err, const char *argv0, int errnum);

/* hooks.c */
enum
{
  RT_HOOK_PRESTART,
  RT_HOOK_CREATE_RUNTIME,
  RT_HOOK_CREATE_CONTAINER,
  RT_HOOK_START_CONTAINER,
  RT_HOOK_POSTSTART,
  RT_HOOK_POSTSTOP,
  RT_HOOK_NSTAGES,
};
struct rt_hook
{
  const char *path; /* pointers into the spec */
  char **argv;      /* argv[0] included; {path} when the spec has no args */
  char **envp;      /* exactly the hook's env: empty when it has none */
  int timeout;      /* seconds, 0: none */
};
struct rt_hooks
{
  struct rt_hook *h[RT_HOOK_NSTAGES];
  size_t n[RT_HOOK_NSTAGES];
};
int rt_hooks_parse (const json_t *spec, struct rt_hooks *h, berr_t *err);
void rt_hooks_release (struct rt_hooks *h);
const char *rt_hook_stage_name (int stage);
/* The OCI state JSON for a hook's stdin (new string): ociVersion, id, status, pid (when > 0),
 * bundle, root (root.path, which NVIDIA's hooks read) and the annotations. */
char *rt_hook_state (const json_t *spec, const char *id, const char *bundle, const char *status,
                     pid_t pid);
/* Run one hook / every hook of a stage in order, stopping at the first failure (an error that
 * names the stage and the hook's path, with the end of its output).  ns_pid > 0: the hook joins
 * that process's ipc, uts, net and mount namespaces first. */
int rt_hook_run (const struct rt_hook *h, int stage, const char *state, pid_t ns_pid, berr_t *err);
int rt_hooks_run (const struct rt_hooks *h, int stage, const char *state, pid_t ns_pid,
                  berr_t *err);
/* Child side: have the parent run the hooks of stage; returns once they succeeded (on failure
 * the parent kills the child). */
int rt_child_hook (struct rt_child *ch, int stage);

/* spawn.c */
/* Send a message (and optionally one fd) on the sync socket. */
int rt_sync_send (int fd, int type, int errnum, int kind, int value, const char *text, int pass_fd);
/* Parent side: read messages until EOF; fills *err from an error message, *pty from
 * RT_SYNC_PTY, *value from RT_SYNC_PID (when pid_out is set, stops after it).  Returns 0 when
 * the child reached exec (EOF after RT_SYNC_EXEC) or -1 with err. */
int rt_sync_wait (int fd, const struct rt_cfg *cfg, int *pty, pid_t *pid_out, berr_t *err);
/* The child puts the caller's stdio on 0-2 with dup2: what it must keep has to live above.
 * Returns fd itself, or a close-on-exec copy at 3 or higher (fd closed), -1 with errno. */
int rt_fd_above_stdio (int fd);
/* Reset every signal disposition to the default and unblock all. */
void rt_signals_reset (void);
/* The child's stderr-free send of its recorded error; then _exit. */
void rt_child_die (struct rt_child *ch) __attribute__ ((noreturn));

#endif
