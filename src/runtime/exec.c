/* exec.c — rt_exec (docker exec): a new process inside a running container.
 *
 *   caller ── clone ──> helper: setns into the container's namespaces (one setns on the pidfd)
 *                          └─ clone(CLONE_PARENT) ──> process: born in the container's pid
 *                                                     namespace, a child of the caller
 *
 * Joining a pid namespace only affects children, hence the second clone; CLONE_PARENT makes
 * the caller the parent, so it can wait for the process like any other.  The caller itself
 * never changes namespace.  The helper reports the process's pid and exits; the caller puts
 * the process into the container's cgroup and lets it go; the process then runs the same
 * tail as a container's init (rt_child_finish): stdio or terminal, fds, cwd, user,
 * capabilities, no_new_privs, seccomp, the trampoline. */
#include "rt_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

/* In setns order: the user namespace first (it grants the rights for the rest), the mount
 * namespace last (it changes how /proc/<pid>/ns is reached). */
static const struct
{
  const char *name;
  int flag;
} exec_ns[] = {
  { "user", CLONE_NEWUSER }, { "ipc", CLONE_NEWIPC }, { "uts", CLONE_NEWUTS },
  { "net", CLONE_NEWNET },   { "pid", CLONE_NEWPID }, { "cgroup", CLONE_NEWCGROUP },
  { "time", CLONE_NEWTIME }, { "mnt", CLONE_NEWNS },
};

/* The namespaces of target that differ from ours. */
static int target_namespaces (pid_t target, int *flags, berr_t *err)
{
  *flags = 0;
  for (size_t i = 0; i < ARRAY_SIZE (exec_ns); i++)
    {
      char path[64], self[64];
      struct stat a, b;
      snprintf (path, sizeof path, "/proc/%d/ns/%s", (int)target, exec_ns[i].name);
      snprintf (self, sizeof self, "/proc/self/ns/%s", exec_ns[i].name);
      if (stat (path, &a) < 0)
        {
          if (errno == ENOENT && kill (target, 0) == 0)
            continue; /* a namespace type this kernel does not have */
          return berr_set (err, errno, "container process %d is not running", (int)target);
        }
      if (stat (self, &b) < 0 || a.st_ino != b.st_ino || a.st_dev != b.st_dev)
        *flags |= exec_ns[i].flag;
    }
  return 0;
}

static int join_namespaces (struct rt_child *ch, int pidfd, pid_t target, int flags)
{
  if (pidfd >= 0 && setns (pidfd, flags) == 0)
    return 0;
  if (pidfd >= 0 && errno != EINVAL)
    return rt_child_fail (ch, errno, "join the namespaces of container process %d", (int)target);
  /* before Linux 5.8: one /proc/<pid>/ns file at a time, all opened before the first join */
  int fds[ARRAY_SIZE (exec_ns)];
  for (size_t i = 0; i < ARRAY_SIZE (exec_ns); i++)
    {
      fds[i] = -1;
      if (!(flags & exec_ns[i].flag))
        continue;
      char path[64];
      snprintf (path, sizeof path, "/proc/%d/ns/%s", (int)target, exec_ns[i].name);
      fds[i] = open (path, O_RDONLY | O_CLOEXEC);
      if (fds[i] < 0)
        return rt_child_fail (ch, errno, "open %s", path);
    }
  for (size_t i = 0; i < ARRAY_SIZE (exec_ns); i++)
    if (fds[i] >= 0 && setns (fds[i], exec_ns[i].flag) < 0)
      return rt_child_fail (ch, errno, "join the %s namespace of container process %d",
                            exec_ns[i].name, (int)target);
  return 0;
}

static void __attribute__ ((noreturn))
exec_helper (struct rt_child *ch, int pidfd, pid_t target, int flags)
{
  const struct rt_cfg *c = ch->cfg;
  prctl (PR_SET_DUMPABLE, 0, 0, 0, 0);
  if (join_namespaces (ch, pidfd, target, flags) < 0)
    rt_child_die (ch);
  pid_t pid = (pid_t)syscall (SYS_clone, CLONE_PARENT, 0, 0, 0, 0);
  if (pid < 0)
    {
      rt_child_fail (ch, errno, "clone into the container");
      rt_child_die (ch);
    }
  if (pid == 0)
    {
      struct rt_sync_msg go;
      ssize_t n;
      do
        n = recv (c->sync_fd, &go, sizeof go, 0);
      while (n < 0 && errno == EINTR);
      if (n != (ssize_t)sizeof go || go.type != RT_SYNC_GO)
        _exit (1);
      if (rt_child_cgroup_attach (ch) == 0)
        rt_child_finish (ch);
      rt_child_die (ch);
    }
  if (rt_sync_send (c->sync_fd, RT_SYNC_PID, 0, 0, (int)pid, NULL, -1) < 0)
    {
      kill (pid, SIGKILL);
      _exit (1);
    }
  _exit (0);
}

static void cfg_cleanup (struct rt_cfg *c) { rt_cfg_release (c); }

static void reap (pid_t pid, int *status)
{
  while (waitpid (pid, status, 0) < 0 && errno == EINTR)
    ;
}

int rt_exec (const struct rt_exec_opts *o, struct rt_proc *out, berr_t *err)
{
  __attribute__ ((cleanup (cfg_cleanup))) struct rt_cfg cfg;
  out->pid = -1;
  out->pidfd = -1;
  out->start_time = 0;
  if (o->io)
    o->io->pty_master = -1;
  if (o->process == NULL)
    return berr_setk (err, BERR_INVALID, 0, "exec: no process");
  if (rt_cfg_init (&cfg, o->spec, o->process, true, err) < 0)
    return -1;
  if (cfg.terminal && o->io == NULL)
    return berr_setk (err, BERR_INVALID, 0, "process.terminal needs somewhere to send the pty");
  if (o->privileged)
    {
      uint64_t all = rt_caps_bounding_mask (cfg.cap_last);
      cfg.has_caps = true;
      cfg.caps[RT_CAP_BOUNDING] = cfg.caps[RT_CAP_EFFECTIVE] = cfg.caps[RT_CAP_PERMITTED] = all;
      cfg.caps[RT_CAP_INHERITABLE] = cfg.caps[RT_CAP_AMBIENT] = 0;
    }
  else
    {
      json_t *sc = json_object_get (json_object_get (o->spec, "linux"), "seccomp");
      if (json_is_object (sc))
        {
          if (seccomp_compile (sc, o->cache_dir, &cfg.seccomp, err) < 0)
            return -1;
          cfg.has_seccomp = true;
        }
    }
  cfg.tramp_fd = rt_trampoline_fd (err);
  if (cfg.tramp_fd < 0)
    return -1;
  if (o->io)
    {
      cfg.stdio[0] = o->io->stdin_fd;
      cfg.stdio[1] = o->io->stdout_fd;
      cfg.stdio[2] = o->io->stderr_fd;
      if (o->io->has_winsize)
        {
          cfg.has_winsize = true;
          cfg.winsize = o->io->winsize;
        }
    }
  cleanup_close int own_pidfd = -1;
  int pidfd = o->target_pidfd;
  if (pidfd < 0)
    pidfd = own_pidfd = (int)syscall (SYS_pidfd_open, o->target, 0);
  int nsflags;
  if (target_namespaces (o->target, &nsflags, err) < 0)
    return -1;

  int sv[2];
  if (socketpair (AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
    return berr_set (err, errno, "socketpair");
  cleanup_close int psync = sv[0];
  cleanup_close int csync = rt_fd_above_stdio (sv[1]);
  if (csync < 0)
    return berr_set (err, errno, "dup the sync socket");
  cfg.sync_fd = csync;

  int *selffds = NULL;
  size_t nself = 0;
  if (o->cg && cgroup_self_attach_fds (o->cg, &selffds, &nself, err) < 0)
    return -1;
  cfg.cg_self_fds = selffds;
  cfg.ncg_self_fds = nself;
  sigset_t all, old;
  sigfillset (&all);
  pthread_sigmask (SIG_SETMASK, &all, &old);
  pid_t helper = (pid_t)syscall (SYS_clone, SIGCHLD, 0, 0, 0, 0);
  if (helper == 0)
    {
      struct rt_child ch;
      memset (&ch, 0, sizeof ch);
      ch.cfg = &cfg;
      ch.rootfd = -1;
      exec_helper (&ch, pidfd, o->target, nsflags);
    }
  int clone_errno = errno;
  pthread_sigmask (SIG_SETMASK, &old, NULL);
  for (size_t i = 0; i < nself; i++)
    close (selffds[i]);
  free (selffds);
  cfg.cg_self_fds = NULL;
  cfg.ncg_self_fds = 0;
  if (helper < 0)
    return berr_set (err, clone_errno, "clone the exec helper");
  close (steal_fd (&csync));

  pid_t pid = -1;
  int status = 0;
  int ret = rt_sync_wait (psync, &cfg, NULL, &pid, err);
  reap (helper, &status);
  if (ret == 0 && pid <= 0)
    ret = -2;
  if (ret < 0)
    {
      if (!berr_is_set (err))
        berr_set (err, 0, "exec helper exited with status %d before starting the process",
                  WIFEXITED (status) ? WEXITSTATUS (status) : -1);
      return -1;
    }
  if (o->cg && nself == 0)
    ret = cgroup_enter (o->cg, pid, err);
  if (ret == 0 && rt_sync_send (psync, RT_SYNC_GO, 0, 0, 0, NULL, -1) < 0)
    ret = berr_set (err, errno, "start the exec process");
  int pty = -1;
  if (ret == 0)
    ret = rt_sync_wait (psync, &cfg, &pty, NULL, err);
  if (ret < 0)
    {
      kill (pid, SIGKILL);
      reap (pid, &status);
      if (!berr_is_set (err))
        berr_set (err, 0, "exec process %s %d during setup",
                  WIFSIGNALED (status) ? "killed by signal" : "exited with status",
                  WIFSIGNALED (status) ? WTERMSIG (status) : WEXITSTATUS (status));
      if (pty >= 0)
        close (pty);
      return -1;
    }
  out->pid = pid;
  out->pidfd = (int)syscall (SYS_pidfd_open, pid, 0);
  out->start_time = rt_proc_start_time (pid);
  if (o->io)
    o->io->pty_master = pty;
  else if (pty >= 0)
    close (pty);
  return 0;
}
