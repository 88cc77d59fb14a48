/* child.c — the container's first process, from clone to exec (ARCHITECTURE.md §4,
 * c-anchors.md "Linux startup sequence").  Every failure is recorded in struct rt_child and
 * sent to the parent, which turns it back into a berr_t; then the child exits. */
#include "rt_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/magic.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/vfs.h>
#include <sys/syscall.h>
#include <termios.h>
#include <unistd.h>

#include "runtime/cgroup.h"

#ifndef TIOCGPTPEER
#define TIOCGPTPEER _IO ('T', 0x41)
#endif
#ifndef CLOSE_RANGE_UNSHARE
#define CLOSE_RANGE_UNSHARE (1U << 1)
#endif

int rt_child_fail (struct rt_child *ch, int errnum, const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  vsnprintf (ch->msg, sizeof ch->msg, fmt, ap);
  va_end (ap);
  ch->errnum = errnum;
  ch->kind = BERR_GENERIC;
  return -1;
}

int rt_child_failk (struct rt_child *ch, int kind, int errnum, const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  vsnprintf (ch->msg, sizeof ch->msg, fmt, ap);
  va_end (ap);
  ch->errnum = errnum;
  ch->kind = kind;
  return -1;
}

void rt_child_die (struct rt_child *ch)
{
  if (ch->msg[0] == '\0')
    snprintf (ch->msg, sizeof ch->msg, "container setup failed");
  rt_sync_send (ch->cfg->sync_fd, RT_SYNC_ERROR, ch->errnum, ch->kind, 0, ch->msg, -1);
  _exit (ch->kind == BERR_EXEC ? (ch->errnum == ENOENT ? 127 : 126) : 1);
}

/* ---- stdio and terminal ------------------------------------------------------------------- */

/* The container's /dev/null, checked: for rt_exec the container may have planted anything. */
static int open_dev_null (struct rt_child *ch)
{
  int fd = open ("/dev/null", O_RDWR | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    return rt_child_fail (ch, errno, "open /dev/null");
  struct stat st;
  if (fstat (fd, &st) < 0 || !S_ISCHR (st.st_mode) || st.st_rdev != makedev (1, 3))
    {
      close (fd);
      return rt_child_fail (ch, 0, "/dev/null is not the null device");
    }
  return fd;
}

/* Put src[i] on fd i.  Sources are first moved above 2 so that any order of 0/1/2 among them
 * is safe. */
static int install_stdio (struct rt_child *ch, const int src[3])
{
  int tmp[3] = { -1, -1, -1 };
  int nullfd = -1;
  int ret = 0;
  for (int i = 0; i < 3 && ret == 0; i++)
    {
      int s = src[i];
      if (s < 0)
        {
          if (nullfd < 0 && (nullfd = open_dev_null (ch)) < 0)
            ret = -1;
          s = nullfd;
        }
      if (ret == 0 && (tmp[i] = fcntl (s, F_DUPFD_CLOEXEC, 3)) < 0)
        ret = rt_child_fail (ch, errno, "dup stdio fd %d", s);
    }
  for (int i = 0; i < 3 && ret == 0; i++)
    if (dup2 (tmp[i], i) < 0)
      ret = rt_child_fail (ch, errno, "dup2 onto fd %d", i);
  for (int i = 0; i < 3; i++)
    if (tmp[i] >= 0)
      close (tmp[i]);
  if (nullfd >= 0)
    close (nullfd);
  return ret;
}

/* A pty of the container's own devpts instance: the slave becomes the controlling terminal
 * and fds 0-2, the master goes to the parent. */
static int setup_terminal (struct rt_child *ch)
{
  const struct rt_cfg *c = ch->cfg;
  int master = open ("/dev/pts/ptmx", O_RDWR | O_NOCTTY | O_NOFOLLOW | O_CLOEXEC);
  if (master < 0)
    return rt_child_fail (ch, errno, "open /dev/pts/ptmx");
  struct statfs sf;
  if (fstatfs (master, &sf) < 0 || sf.f_type != DEVPTS_SUPER_MAGIC)
    {
      close (master);
      return rt_child_fail (ch, 0, "/dev/pts/ptmx is not on a devpts filesystem");
    }
  int unlock = 0;
  if (ioctl (master, TIOCSPTLCK, &unlock) < 0)
    {
      close (master);
      return rt_child_fail (ch, errno, "unlock the pty");
    }
  int slave = ioctl (master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (slave < 0)
    {
      int n;
      char name[64];
      if (ioctl (master, TIOCGPTN, &n) == 0)
        {
          snprintf (name, sizeof name, "/dev/pts/%d", n);
          slave = open (name, O_RDWR | O_NOCTTY | O_NOFOLLOW | O_CLOEXEC);
        }
    }
  int ret = 0;
  if (slave < 0)
    ret = rt_child_fail (ch, errno, "open the pty slave");
  else if (ioctl (slave, TIOCSCTTY, 0) < 0)
    ret = rt_child_fail (ch, errno, "make the pty the controlling terminal");
  else if (c->has_winsize && ioctl (slave, TIOCSWINSZ, &c->winsize) < 0)
    ret = rt_child_fail (ch, errno, "set the terminal size");
  else if (fchown (slave, c->uid, (gid_t)-1) < 0 && errno != EINVAL)
    ret = rt_child_fail (ch, errno, "chown the pty to %u", (unsigned)c->uid);
  else if (!c->is_exec && rt_console_setup (ch, slave) < 0)
    ret = -1;
  else
    {
      int src[3] = { slave, slave, slave };
      ret = install_stdio (ch, src);
    }
  if (ret == 0 && rt_sync_send (c->sync_fd, RT_SYNC_PTY, 0, 0, 0, NULL, master) < 0)
    ret = rt_child_fail (ch, errno, "send the pty to the parent");
  if (slave >= 0)
    close (slave);
  close (master);
  return ret;
}

/* ---- fds ---------------------------------------------------------------------------------- */

static void close_range_compat (unsigned lo, unsigned hi)
{
  if (lo > hi)
    return;
  if (syscall (SYS_close_range, lo, hi, 0) == 0)
    return;
  /* before Linux 5.9 */
  struct rlimit rl;
  unsigned max
      = getrlimit (RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < 65536 ? (unsigned)rl.rlim_cur : 65536;
  for (unsigned fd = lo; fd <= hi && fd < max; fd++)
    close ((int)fd);
}

/* CVE-2024-21626: nothing of the host may stay open in the container; only the sync socket
 * and the trampoline survive (both close on the final exec). */
static void close_fds (const struct rt_cfg *c)
{
  unsigned a = (unsigned)c->sync_fd, b = (unsigned)c->tramp_fd;
  if (a > b)
    {
      unsigned t = a;
      a = b;
      b = t;
    }
  close_range_compat (3, a - 1);
  close_range_compat (a + 1, b - 1);
  close_range_compat (b + 1, ~0U);
}

/* ---- the sequence ------------------------------------------------------------------------- */

int rt_child_finish (struct rt_child *ch)
{
  const struct rt_cfg *c = ch->cfg;
  if (rt_rlimits_apply (ch) < 0)
    return -1;
  if (setsid () < 0)
    return rt_child_fail (ch, errno, "setsid");
  if (c->terminal ? setup_terminal (ch) < 0 : install_stdio (ch, c->stdio) < 0)
    return -1;
  close_fds (c);
  /* CVE-2024-21626: only now, with no inherited directory fd left, may cwd be resolved; and it
   * must be inside the container's root. */
  if (chdir (c->cwd) < 0)
    return rt_child_fail (ch, errno, "chdir to %s", c->cwd);
  char cwd[PATH_MAX];
  if (getcwd (cwd, sizeof cwd) == NULL || cwd[0] != '/')
    return rt_child_fail (ch, errno ? errno : ENOENT,
                          "the working directory %s is outside the container", c->cwd);
  umask (c->umask);
  bool seccomp_first = c->has_seccomp && !c->no_new_privs;
  if (rt_user_and_caps_apply (ch, seccomp_first) < 0)
    return -1;
  char path[PATH_MAX];
  if (rt_lookup_exec (ch, path, sizeof path) < 0)
    return -1;
  if (rt_sync_send (c->sync_fd, RT_SYNC_EXEC, 0, 0, 0, NULL, -1) < 0)
    return rt_child_fail (ch, errno, "write to the sync socket");
  if (c->has_seccomp && !seccomp_first)
    {
      int r = seccomp_install (&c->seccomp, c->seccomp_flags);
      if (r < 0)
        return rt_child_fail (ch, -r, "install the seccomp filter");
    }
  return rt_exec_payload (ch, path);
}

static int read_self_cgroup (struct rt_child *ch)
{
  int fd = open ("/proc/self/cgroup", O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return rt_child_fail (ch, errno, "open /proc/self/cgroup");
  size_t len = 0;
  ssize_t n;
  while (len < sizeof ch->selfcg - 1
         && (n = read (fd, ch->selfcg + len, sizeof ch->selfcg - 1 - len)) > 0)
    len += (size_t)n;
  ch->selfcg[len] = '\0';
  close (fd);
  return 0;
}

static int child_setup (struct rt_child *ch)
{
  const struct rt_cfg *c = ch->cfg;
  for (size_t i = 0; i < c->njoins; i++)
    if (setns (c->joins[i].fd, c->joins[i].type) < 0)
      return rt_child_fail (ch, errno, "join the %s namespace", c->joins[i].name);
  if (c->ncg_hiers > 0 || c->cgroup_mode == CGROUP_MODE_V2)
    if (read_self_cgroup (ch) < 0)
      return -1;
  /* The namespace's root is the cgroup the parent just put us in. */
  if (c->new_cgroupns && unshare (CLONE_NEWCGROUP) < 0)
    return rt_child_fail (ch, errno, "unshare the cgroup namespace");
  if (rt_oom_score_adj_apply (ch) < 0)
    return -1;
  umask (0); /* device nodes and mount points get exactly the modes asked for */
  if (rt_mounts_setup (ch) < 0)
    return -1;
  if (c->hostname && c->hostname[0] && sethostname (c->hostname, strlen (c->hostname)) < 0)
    return rt_child_fail (ch, errno, "set hostname %s", c->hostname);
  if (c->domainname && c->domainname[0]
      && setdomainname (c->domainname, strlen (c->domainname)) < 0)
    return rt_child_fail (ch, errno, "set domainname %s", c->domainname);
  /* sysctls before the read-only paths: /proc/sys is one of them */
  if (rt_sysctls_apply (ch) < 0 || rt_mounts_finalize (ch) < 0)
    return -1;
  if (c->child_hooks[1] && rt_child_hook (ch, RT_HOOK_START_CONTAINER) < 0)
    return -1;
  return rt_child_finish (ch);
}

int rt_child_cgroup_attach (struct rt_child *ch)
{
  const struct rt_cfg *c = ch->cfg;
  for (size_t i = 0; i < c->ncg_self_fds; i++)
    {
      ssize_t w;
      do
        w = write (c->cg_self_fds[i], "0", 1);
      while (w < 0 && errno == EINTR);
      if (w != 1)
        return rt_child_fail (ch, errno, "join the container's cgroup");
      close (c->cg_self_fds[i]);
    }
  return 0;
}

void rt_child_main (struct rt_child *ch)
{
  const struct rt_cfg *c = ch->cfg;
  /* Nothing in the container may ptrace or read /proc/<pid>/ of this process during setup. */
  prctl (PR_SET_DUMPABLE, 0, 0, 0, 0);
  struct rt_sync_msg go;
  ssize_t n;
  do
    n = recv (c->sync_fd, &go, sizeof go, 0);
  while (n < 0 && errno == EINTR);
  if (n != (ssize_t)sizeof go || go.type != RT_SYNC_GO)
    _exit (1); /* the parent gave up (or died): nobody to report to */
  if (rt_child_cgroup_attach (ch) == 0)
    child_setup (ch);
  rt_child_die (ch);
}
