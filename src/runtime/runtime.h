/* runtime.h — the built-in OCI runtime: an OCI runtime spec (config.json as a json_t) becomes a
 * running process.  Nothing here knows about images, the store or Docker's flags; the engine
 * (src/container) writes the spec, the runtime consumes it, so `--runtime crun|runc` can run the
 * very same config.json.
 *
 * Start-up follows ARCHITECTURE.md §4: clone3 with the spec's namespaces (clone fallback), a
 * SOCK_SEQPACKET sync socket, cgroup membership written by the parent while the child waits,
 * mounts resolved inside the rootfs (openat2 RESOLVE_IN_ROOT), pivot_root, masked and read-only
 * paths, hostname, sysctls, rlimits (while privileged), oom_score_adj, close_range, user and
 * groups, capabilities, no_new_privs, seccomp last, exec.  The final exec goes through a tiny
 * static trampoline held in a sealed memfd, so /proc/self/exe of a container process never
 * names berth's binary (CVE-2019-5736).  Any failure in the child reaches the caller as a berr_t
 * with the child's own message and errno. */
#ifndef BERTH_RUNTIME_H
#define BERTH_RUNTIME_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/ioctl.h>
#include <sys/types.h>

#include "runtime/cgroup.h"
#include "util/err.h"

/* Where the container's stdio goes. */
struct rt_io
{
  /* Installed as fds 0, 1, 2 in the container (dup'ed; the caller keeps its copies).
   * -1 means /dev/null of the container.  Ignored for fds the pty covers. */
  int stdin_fd, stdout_fd, stderr_fd;
  /* process.terminal in the spec: the child opens /dev/pts/ptmx of the container's own devpts
   * instance, makes the slave its controlling terminal and fds 0-2, and the master comes back
   * here (O_CLOEXEC, owned by the caller). */
  int pty_master;   /* out; -1 when no terminal */
  bool has_winsize; /* set this size on the pty before the process runs */
  struct winsize winsize;
};

struct rt_proc
{
  pid_t pid;           /* in the caller's pid namespace */
  int pidfd;           /* pidfd_open(pid), O_CLOEXEC; owned by the caller (-1 if unsupported) */
  uint64_t start_time; /* field 22 of /proc/<pid>/stat, against pid reuse */
};

/* Error kinds: failures to execute the payload are reported with err->kind = BERR_EXEC and
 * errnum ENOENT (exit 127: "exec: \"nope\": executable file not found in $PATH" / "no such file
 * or directory") or EACCES/ENOEXEC/EISDIR… (exit 126: "permission denied"). */

struct rt_spawn_opts
{
  const json_t *spec; /* the whole OCI spec; root.path is an absolute, already-mounted rootfs */
  struct rt_io *io;
  struct cgroup *cg;     /* the container's cgroup (created by the caller) or NULL for none */
  const char *cache_dir; /* may hold compiled seccomp programs; NULL: no cache */
  /* Called in the parent once the child is in its namespaces and cgroup and before anything of
   * the container runs: the engine configures the new network namespace here (veths,
   * addresses, routes).  netns_fd is /proc/<pid>/ns/net of the child.  A failure aborts the
   * start with that error. NULL: nothing to do. */
  int (*prestart) (pid_t pid, int netns_fd, void *arg, berr_t *err);
  void *prestart_arg;
  /* For OCI hooks' state (stdin of each hook): the container's id and the bundle directory
   * holding its config.json.  NULL: "" (hooks that need the bundle cannot work then). */
  const char *id;
  const char *bundle;
  /* The caller's process is not changed (no setns/unshare/signal dispositions left behind). */
};

/* Create the container's init process and let it run (there is no separate start step: the
 * engine's `create` only records a container, `start` calls this).  On success the process is
 * running the payload (or has already failed exec: then the call fails and nothing is left). */
int rt_spawn (const struct rt_spawn_opts *o, struct rt_proc *out, berr_t *err);

struct rt_exec_opts
{
  const json_t *spec;    /* the container's spec (namespaces, seccomp, apparmor-free defaults) */
  const json_t *process; /* an OCI "process" object for the new process (args, env, cwd, user,
                            capabilities, noNewPrivileges, terminal); a privileged exec gets all
                            capabilities of the host's bounding set and no seccomp filter */
  bool privileged;
  pid_t target;     /* the container's init pid */
  int target_pidfd; /* its pidfd, or -1 */
  struct rt_io *io;
  struct cgroup *cg; /* the container's cgroup, joined by the new process; may be NULL */
  const char *cache_dir;
};

/* Join the namespaces of a running container and start another process in it (docker exec). */
int rt_exec (const struct rt_exec_opts *o, struct rt_proc *out, berr_t *err);

/* Run the spec's poststop hooks (state "stopped"), all of them even when one fails; the
 * engine calls this once the container is gone.  The first failure is returned. */
int rt_run_poststop_hooks (const json_t *spec, const char *id, const char *bundle, berr_t *err);

/* Read field 22 (starttime) of /proc/<pid>/stat; 0 when the process is gone. */
uint64_t rt_proc_start_time (pid_t pid);

#endif
