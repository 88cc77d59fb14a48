/* spawn.c — rt_spawn, the parent's side of starting a container: flatten the spec, clone3 into
 * the new namespaces (and the cgroup, where the kernel can), place the child, release it, and
 * read back either an error or the news that it reached exec. */
#include "rt_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util/fs.h"
#include "util/log.h"

#ifndef CLONE_PIDFD
#define CLONE_PIDFD 0x00001000
#endif
#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif
#ifndef CLONE_INTO_CGROUP
#define CLONE_INTO_CGROUP 0x200000000ULL
#endif

/* ---- the sync socket ---------------------------------------------------------------------- */

int rt_sync_send (int fd, int type, int errnum, int kind, int value, const char *text, int pass_fd)
{
  char buf[RT_SYNC_MSG_MAX];
  struct rt_sync_msg h = { type, errnum, kind, value };
  size_t tlen = text ? strnlen (text, sizeof buf - sizeof h) : 0;
  memcpy (buf, &h, sizeof h);
  if (tlen)
    memcpy (buf + sizeof h, text, tlen);
  struct iovec iov = { buf, sizeof h + tlen };
  struct msghdr mh = { 0 };
  union
  {
    char b[CMSG_SPACE (sizeof (int))];
    struct cmsghdr align;
  } cm;
  mh.msg_iov = &iov;
  mh.msg_iovlen = 1;
  if (pass_fd >= 0)
    {
      memset (&cm, 0, sizeof cm);
      mh.msg_control = cm.b;
      mh.msg_controllen = sizeof cm.b;
      struct cmsghdr *c = CMSG_FIRSTHDR (&mh);
      c->cmsg_level = SOL_SOCKET;
      c->cmsg_type = SCM_RIGHTS;
      c->cmsg_len = CMSG_LEN (sizeof (int));
      memcpy (CMSG_DATA (c), &pass_fd, sizeof (int));
    }
  ssize_t n;
  do
    n = sendmsg (fd, &mh, MSG_NOSIGNAL);
  while (n < 0 && errno == EINTR);
  return n < 0 ? -1 : 0;
}

int rt_sync_wait (int fd, const struct rt_cfg *cfg, int *pty, pid_t *pid_out, berr_t *err)
{
  bool reached_exec = false;
  int ret = 0;
  for (;;)
    {
      char buf[RT_SYNC_MSG_MAX + 1];
      union
      {
        char b[CMSG_SPACE (sizeof (int))];
        struct cmsghdr align;
      } cm;
      struct iovec iov = { buf, RT_SYNC_MSG_MAX };
      struct msghdr mh = { 0 };
      mh.msg_iov = &iov;
      mh.msg_iovlen = 1;
      mh.msg_control = cm.b;
      mh.msg_controllen = sizeof cm.b;
      ssize_t n = recvmsg (fd, &mh, MSG_CMSG_CLOEXEC);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        {
          if (!berr_is_set (err))
            berr_set (err, errno, "read the container's sync socket");
          return -1;
        }
      int passed = -1;
      for (struct cmsghdr *c = CMSG_FIRSTHDR (&mh); c; c = CMSG_NXTHDR (&mh, c))
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS)
          memcpy (&passed, CMSG_DATA (c), sizeof (int));
      if (n == 0)
        break;
      struct rt_sync_msg h;
      if ((size_t)n < sizeof h)
        {
          if (passed >= 0)
            close (passed);
          continue;
        }
      memcpy (&h, buf, sizeof h);
      buf[n] = '\0';
      switch (h.type)
        {
        case RT_SYNC_ERROR:
          if (!berr_is_set (err))
            {
              if (h.kind == BERR_EXEC)
                {
                  berr_setk (err, BERR_EXEC, 0, "%s", buf + sizeof h);
                  err->errnum = h.errnum;
                }
              else
                berr_setk (err, h.kind, h.errnum, "%s", buf + sizeof h);
            }
          ret = -1;
          break;
        case RT_SYNC_EXEC_ERRNO:
          if (!berr_is_set (err))
            rt_exec_errno_message (err, cfg->argv[0], h.errnum);
          ret = -1;
          break;
        case RT_SYNC_PTY:
          if (pty && passed >= 0)
            {
              if (*pty >= 0)
                close (*pty);
              *pty = passed;
              passed = -1;
            }
          break;
        case RT_SYNC_EXEC:
          reached_exec = true;
          break;
        case RT_SYNC_HOOK:
          if (passed >= 0)
            close (passed);
          if (cfg->on_hook && cfg->on_hook (h.value, cfg->on_hook_arg, err) < 0)
            return -1; /* the child waits for an answer: the caller kills it */
          if (rt_sync_send (fd, RT_SYNC_GO, 0, 0, 0, NULL, -1) < 0)
            {
              if (!berr_is_set (err))
                berr_set (err, errno, "write to the container's sync socket");
              return -1;
            }
          continue;
        case RT_SYNC_PID:
          if (pid_out)
            {
              *pid_out = h.value;
              return ret;
            }
          break;
        default:
          break;
        }
      if (passed >= 0)
        close (passed);
    }
  if (ret == 0 && !reached_exec)
    return -2; /* EOF without a word: the caller reports how the child ended */
  return ret;
}

int rt_fd_above_stdio (int fd)
{
  if (fd < 0 || fd > 2)
    return fd;
  int n = fcntl (fd, F_DUPFD_CLOEXEC, 3);
  int e = errno;
  close (fd);
  errno = e;
  return n;
}

void rt_signals_reset (void)
{
  struct sigaction sa;
  memset (&sa, 0, sizeof sa);
  sa.sa_handler = SIG_DFL;
  sigemptyset (&sa.sa_mask);
  /* glibc reserves a few real-time signals and refuses them: that is fine, they are its own. */
  for (int sig = 1; sig < NSIG; sig++)
    if (sig != SIGKILL && sig != SIGSTOP)
      (void)sigaction (sig, &sa, NULL);
  sigset_t none;
  sigemptyset (&none);
  sigprocmask (SIG_SETMASK, &none, NULL);
}

/* ---- clone -------------------------------------------------------------------------------- */

static pid_t clone3_or_enosys (struct clone_args *a)
{
  return (pid_t)syscall (SYS_clone3, a, sizeof *a);
}

static pid_t clone_child (unsigned long flags, int cgfd, int *pidfd, bool *into_cgroup)
{
  struct clone_args a;
  memset (&a, 0, sizeof a);
  a.flags = flags | CLONE_PIDFD;
  a.pidfd = (uint64_t)(uintptr_t)pidfd;
  a.exit_signal = SIGCHLD;
  *into_cgroup = false;
  pid_t pid = -1;
  errno = 0;
  if (cgfd >= 0)
    {
      a.flags |= CLONE_INTO_CGROUP;
      a.cgroup = (uint64_t)cgfd;
      pid = clone3_or_enosys (&a);
      if (pid >= 0)
        {
          *into_cgroup = true;
          return pid;
        }
      /* a cgroup the kernel will not clone into (a domain with threads, say): the parent
       * writes cgroup.procs instead */
      a.flags &= ~CLONE_INTO_CGROUP;
      a.cgroup = 0;
    }
  if (errno != ENOSYS)
    {
      pid = clone3_or_enosys (&a);
      if (pid >= 0 || errno != ENOSYS)
        return pid;
    }
  /* before Linux 5.3: clone(2), and pidfd_open afterwards */
  *pidfd = -1;
  if (flags & CLONE_NEWTIME)
    {
      errno = EOPNOTSUPP; /* clone(2) has no room for it */
      return -1;
    }
  return (pid_t)syscall (SYS_clone, flags | SIGCHLD, 0, 0, 0, 0);
}

static int write_id_map (pid_t pid, const char *file, const char *map, berr_t *err)
{
  char path[64];
  snprintf (path, sizeof path, "/proc/%d/%s", (int)pid, file);
  cleanup_close int fd = open (path, O_WRONLY | O_CLOEXEC);
  if (fd < 0 || fs_write_all (fd, map, strlen (map)) < 0)
    return berr_set (err, errno, "write %s", path);
  return 0;
}

/* Reap a child that will not reach exec; say how it ended when it gave no reason. */
static void reap_failed (pid_t pid, int ret, berr_t *err)
{
  int status = 0;
  kill (pid, SIGKILL);
  while (waitpid (pid, &status, 0) < 0 && errno == EINTR)
    ;
  if (ret == -2 || !berr_is_set (err))
    {
      if (WIFSIGNALED (status) && WTERMSIG (status) != SIGKILL)
        berr_set (err, 0, "container process killed by signal %d during setup", WTERMSIG (status));
      else if (WIFEXITED (status))
        berr_set (err, 0, "container process exited with status %d during setup",
                  WEXITSTATUS (status));
      else
        berr_set (err, 0, "container process died during setup");
    }
}

uint64_t rt_proc_start_time (pid_t pid)
{
  char path[64], buf[1024];
  snprintf (path, sizeof path, "/proc/%d/stat", (int)pid);
  cleanup_close int fd = open (path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return 0;
  ssize_t n = read (fd, buf, sizeof buf - 1);
  if (n <= 0)
    return 0;
  buf[n] = '\0';
  /* comm (field 2) may hold spaces and parentheses: count fields after the last ')' */
  char *p = strrchr (buf, ')');
  if (p == NULL)
    return 0;
  /* p + 1 is the space before field 3; the one before field 22 is 19 spaces on */
  p++;
  for (int field = 3; field < 22 && p; field++)
    p = strchr (p + 1, ' ');
  if (p == NULL)
    return 0;
  return strtoull (p + 1, NULL, 10);
}

/* Release the cfg on every path out of rt_spawn. */
static void cfg_cleanup (struct rt_cfg *c) { rt_cfg_release (c); }
static void hooks_cleanup (struct rt_hooks *h) { rt_hooks_release (h); }

struct hook_ctx
{
  const struct rt_hooks *hooks;
  const struct rt_spawn_opts *o;
  pid_t pid;
};

static int run_stage (struct hook_ctx *hc, int stage, const char *status, pid_t ns_pid, berr_t *err)
{
  if (hc->hooks->n[stage] == 0)
    return 0;
  cleanup_free char *state = rt_hook_state (hc->o->spec, hc->o->id, hc->o->bundle, status, hc->pid);
  return rt_hooks_run (hc->hooks, stage, state, ns_pid, err);
}

/* The child reached a stage whose hooks run in its namespaces. */
static int on_child_hook (int stage, void *arg, berr_t *err)
{
  struct hook_ctx *hc = arg;
  if (stage != RT_HOOK_CREATE_CONTAINER && stage != RT_HOOK_START_CONTAINER)
    return berr_set (err, 0, "the container process asked for unknown hooks %d", stage);
  return run_stage (hc, stage, stage == RT_HOOK_CREATE_CONTAINER ? "creating" : "created", hc->pid,
                    err);
}

int rt_spawn (const struct rt_spawn_opts *o, struct rt_proc *out, berr_t *err)
{
  __attribute__ ((cleanup (cfg_cleanup))) struct rt_cfg cfg;
  out->pid = -1;
  out->pidfd = -1;
  out->start_time = 0;
  if (o->io)
    o->io->pty_master = -1;
  if (rt_cfg_init (&cfg, o->spec, NULL, false, err) < 0)
    return -1;
  __attribute__ ((cleanup (hooks_cleanup))) struct rt_hooks hooks;
  if (rt_hooks_parse (o->spec, &hooks, err) < 0)
    return -1;
  struct hook_ctx hc = { &hooks, o, 0 };
  cfg.child_hooks[0] = hooks.n[RT_HOOK_CREATE_CONTAINER] > 0;
  cfg.child_hooks[1] = hooks.n[RT_HOOK_START_CONTAINER] > 0;
  cfg.on_hook = on_child_hook;
  cfg.on_hook_arg = &hc;
  if (cfg.terminal && o->io == NULL)
    return berr_setk (err, BERR_INVALID, 0, "process.terminal needs somewhere to send the pty");
  json_t *sc = json_object_get (json_object_get (o->spec, "linux"), "seccomp");
  if (json_is_object (sc))
    {
      if (seccomp_compile (sc, o->cache_dir, &cfg.seccomp, err) < 0)
        return -1;
      cfg.has_seccomp = true;
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

  int sv[2];
  if (socketpair (AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
    return berr_set (err, errno, "socketpair");
  cleanup_close int psync = sv[0];
  cleanup_close int csync = rt_fd_above_stdio (sv[1]);
  if (csync < 0)
    return berr_set (err, errno, "dup the sync socket");
  cfg.sync_fd = csync;

  /* Joining a pid namespace only changes where this thread's next child is born: join, clone,
   * and come straight back, so the caller is left as it was. */
  cleanup_close int own_pidns = -1;
  if (cfg.pid_join_fd >= 0)
    {
      own_pidns = open ("/proc/thread-self/ns/pid_for_children", O_RDONLY | O_CLOEXEC);
      if (own_pidns < 0)
        return berr_set (err, errno, "open /proc/thread-self/ns/pid_for_children");
      if (setns (cfg.pid_join_fd, CLONE_NEWPID) < 0)
        return berr_set (err, errno, "join the pid namespace");
    }

  int cgfd = o->cg ? cgroup_clone_fd (o->cg) : -1;
  int *selffds = NULL;
  size_t nself = 0;
  if (o->cg && cgroup_self_attach_fds (o->cg, &selffds, &nself, err) < 0)
    return -1;
  cfg.cg_self_fds = selffds;
  cfg.ncg_self_fds = nself;
  /* The child must not run a handler of ours before it resets them: block everything across
   * the clone; the child unblocks just before exec. */
  sigset_t all, old;
  sigfillset (&all);
  pthread_sigmask (SIG_SETMASK, &all, &old);
  int pidfd = -1;
  bool into_cgroup = false;
  pid_t pid = clone_child (cfg.clone_flags, cgfd, &pidfd, &into_cgroup);
  if (pid == 0)
    {
      struct rt_child ch;
      memset (&ch, 0, sizeof ch);
      ch.cfg = &cfg;
      ch.rootfd = -1;
      rt_child_main (&ch);
    }
  int clone_errno = errno;
  pthread_sigmask (SIG_SETMASK, &old, NULL);
  for (size_t i = 0; i < nself; i++)
    close (selffds[i]);
  free (selffds);
  cfg.cg_self_fds = NULL;
  cfg.ncg_self_fds = 0;
  if (own_pidns >= 0 && setns (own_pidns, CLONE_NEWPID) < 0)
    log_error ("runtime: cannot return to berth's own pid namespace: %s", strerror (errno));
  if (pid < 0)
    return berr_set (err, clone_errno, "clone the container process");
  close (steal_fd (&csync));
  hc.pid = pid;

  int ret = 0;
  /* v1: the child moves itself; v2 without clone-into: the parent moves it. */
  if (o->cg && !into_cgroup && nself == 0)
    ret = cgroup_enter (o->cg, pid, err);
  if (ret == 0 && cfg.uid_map)
    ret = write_id_map (pid, "uid_map", cfg.uid_map, err);
  if (ret == 0 && cfg.gid_map)
    ret = write_id_map (pid, "gid_map", cfg.gid_map, err);
  if (ret == 0 && o->prestart)
    {
      char nspath[64];
      snprintf (nspath, sizeof nspath, "/proc/%d/ns/net", (int)pid);
      int nsfd = open (nspath, O_RDONLY | O_CLOEXEC);
      if (nsfd < 0)
        ret = berr_set (err, errno, "open %s", nspath);
      else
        {
          ret = o->prestart (pid, nsfd, o->prestart_arg, err);
          close (nsfd);
        }
    }
  /* The container's namespaces and cgroup exist, nothing of it runs yet: the runtime
   * namespace's hooks (the deprecated prestart first, as runc orders them). */
  if (ret == 0)
    ret = run_stage (&hc, RT_HOOK_PRESTART, "creating", 0, err);
  if (ret == 0)
    ret = run_stage (&hc, RT_HOOK_CREATE_RUNTIME, "creating", 0, err);
  if (ret == 0 && rt_sync_send (psync, RT_SYNC_GO, 0, 0, 0, NULL, -1) < 0)
    ret = berr_set (err, errno, "start the container process");
  int pty = -1;
  if (ret == 0)
    ret = rt_sync_wait (psync, &cfg, &pty, NULL, err);
  if (ret < 0)
    {
      reap_failed (pid, ret, err);
      if (pidfd >= 0)
        close (pidfd);
      if (pty >= 0)
        close (pty);
      return -1;
    }
  if (pidfd < 0)
    pidfd = (int)syscall (SYS_pidfd_open, pid, 0);
  out->pid = pid;
  out->pidfd = pidfd;
  out->start_time = rt_proc_start_time (pid);
  if (o->io)
    o->io->pty_master = pty;
  else if (pty >= 0)
    close (pty);
  /* The payload runs: a failing poststart hook is a warning (runtime-spec), not a failure. */
  for (size_t i = 0; i < hooks.n[RT_HOOK_POSTSTART]; i++)
    {
      cleanup_berr berr_t e = BERR_INIT;
      cleanup_free char *state = rt_hook_state (o->spec, o->id, o->bundle, "running", pid);
      if (rt_hook_run (&hooks.h[RT_HOOK_POSTSTART][i], RT_HOOK_POSTSTART, state, 0, &e) < 0)
        log_warn ("%s", e.msg);
    }
  return 0;
}
