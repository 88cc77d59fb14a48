/* security.c — child side: sysctls, rlimits, oom_score_adj, user and groups, capabilities,
 * no_new_privs (and seccomp's place among them).
 *
 * Raw syscalls for the id changes: glibc's setresuid() and friends broadcast to every thread
 * glibc believes exists, and after a raw clone those are the parent's threads. */
#include "rt_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/magic.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "util/fs.h"

/* Open a file of procfs for writing, refusing anything that is not procfs (CVE-2019-16884). */
static int open_proc_write (int rootfd, const char *path)
{
  int fd = rootfd >= 0 ? fs_open_in_root (rootfd, path, O_WRONLY | O_NOFOLLOW, 0)
                       : open (path, O_WRONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    return -1;
  struct statfs sf;
  if (fstatfs (fd, &sf) < 0 || sf.f_type != PROC_SUPER_MAGIC)
    {
      close (fd);
      errno = EXDEV;
      return -1;
    }
  return fd;
}

int rt_sysctls_apply (struct rt_child *ch)
{
  const struct rt_cfg *c = ch->cfg;
  for (size_t i = 0; i < c->nsysctls; i++)
    {
      const struct rt_sysctl *s = &c->sysctls[i];
      int fd = open_proc_write (ch->rootfd, s->path);
      if (fd < 0)
        return rt_child_fail (ch, errno, "sysctl %s: open %s", s->key, s->path);
      int r = fs_write_all (fd, s->value, strlen (s->value));
      int e = errno;
      close (fd);
      if (r < 0)
        return rt_child_fail (ch, e, "sysctl %s=%s", s->key, s->value);
    }
  return 0;
}

int rt_oom_score_adj_apply (struct rt_child *ch)
{
  const struct rt_cfg *c = ch->cfg;
  if (!c->has_oom_score_adj)
    return 0;
  char buf[16];
  int n = snprintf (buf, sizeof buf, "%d", c->oom_score_adj);
  int fd = open_proc_write (-1, "/proc/self/oom_score_adj");
  if (fd < 0)
    return rt_child_fail (ch, errno, "open /proc/self/oom_score_adj");
  int r = fs_write_all (fd, buf, (size_t)n);
  int e = errno;
  close (fd);
  if (r < 0)
    return rt_child_fail (ch, e, "set oom_score_adj to %d%s", c->oom_score_adj,
                          e == EACCES ? " (lowering it needs CAP_SYS_RESOURCE)" : "");
  return 0;
}

static bool has_effective_cap (int cap)
{
  struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
  struct __user_cap_data_struct d[2];
  if (syscall (SYS_capget, &h, d) < 0)
    return false;
  return d[cap / 32].effective & (1U << (cap % 32));
}

static const char *rlim_str (rlim_t v, char *buf, size_t len)
{
  if (v == RLIM_INFINITY)
    return "unlimited";
  snprintf (buf, len, "%llu", (unsigned long long)v);
  return buf;
}

int rt_rlimits_apply (struct rt_child *ch)
{
  const struct rt_cfg *c = ch->cfg;
  for (size_t i = 0; i < c->nrlimits; i++)
    {
      const struct rt_rlimit *r = &c->rlimits[i];
      if (setrlimit (r->resource, &r->rl) == 0)
        continue;
      int e = errno;
      struct rlimit cur;
      char b1[24], b2[24], b3[24];
      if (e == EPERM && getrlimit (r->resource, &cur) == 0 && r->rl.rlim_max > cur.rlim_max
          && !has_effective_cap (CAP_SYS_RESOURCE))
        return rt_child_fail (ch, e,
                              "setrlimit %s (soft %s, hard %s): a hard limit above the current "
                              "%s needs CAP_SYS_RESOURCE, which is missing",
                              r->name, rlim_str (r->rl.rlim_cur, b1, sizeof b1),
                              rlim_str (r->rl.rlim_max, b2, sizeof b2),
                              rlim_str (cur.rlim_max, b3, sizeof b3));
      return rt_child_fail (ch, e, "setrlimit %s (soft %s, hard %s)", r->name,
                            rlim_str (r->rl.rlim_cur, b1, sizeof b1),
                            rlim_str (r->rl.rlim_max, b2, sizeof b2));
    }
  return 0;
}

static int set_caps (struct rt_child *ch)
{
  const struct rt_cfg *c = ch->cfg;
  struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
  struct __user_cap_data_struct d[2];
  for (int i = 0; i < 2; i++)
    {
      d[i].effective = (uint32_t)(c->caps[RT_CAP_EFFECTIVE] >> (32 * i));
      d[i].permitted = (uint32_t)(c->caps[RT_CAP_PERMITTED] >> (32 * i));
      d[i].inheritable = (uint32_t)(c->caps[RT_CAP_INHERITABLE] >> (32 * i));
    }
  if (syscall (SYS_capset, &h, d) < 0)
    return rt_child_fail (ch, errno, "capset");
  if (prctl (PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
    return rt_child_fail (ch, errno, "clear the ambient capabilities");
  for (int cap = 0; cap <= c->cap_last; cap++)
    if ((c->caps[RT_CAP_AMBIENT] & (1ULL << cap))
        && prctl (PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0) < 0)
      return rt_child_fail (ch, errno,
                            "raise ambient capability %d (it must also be permitted "
                            "and inheritable)",
                            cap);
  return 0;
}

int rt_user_and_caps_apply (struct rt_child *ch, bool install_seccomp_first)
{
  const struct rt_cfg *c = ch->cfg;
  /* The bounding set needs CAP_SETPCAP, so it goes while we are still fully privileged. */
  if (c->has_caps)
    for (int cap = 0; cap <= c->cap_last; cap++)
      if (!(c->caps[RT_CAP_BOUNDING] & (1ULL << cap)) && prctl (PR_CAPBSET_READ, cap, 0, 0, 0) == 1
          && prctl (PR_CAPBSET_DROP, cap, 0, 0, 0) < 0)
        return rt_child_fail (ch, errno, "drop capability %d from the bounding set", cap);
  /* Without no_new_privs a filter can only be loaded with CAP_SYS_ADMIN, which the container
   * is about to lose: load it now, and let the rest of the setup run under it. */
  if (install_seccomp_first && c->has_seccomp)
    {
      int r = seccomp_install (&c->seccomp, c->seccomp_flags);
      if (r < 0)
        return rt_child_fail (ch, -r, "install the seccomp filter");
    }
  if (syscall (SYS_setgroups, c->ngroups, c->groups) < 0)
    return rt_child_fail (ch, errno, "setgroups");
  if (syscall (SYS_setresgid, c->gid, c->gid, c->gid) < 0)
    return rt_child_fail (ch, errno, "setresgid %u", (unsigned)c->gid);
  if (c->has_caps && prctl (PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
    return rt_child_fail (ch, errno, "prctl PR_SET_KEEPCAPS");
  if (syscall (SYS_setresuid, c->uid, c->uid, c->uid) < 0)
    return rt_child_fail (ch, errno, "setresuid %u", (unsigned)c->uid);
  if (c->has_caps)
    {
      if (set_caps (ch) < 0)
        return -1;
      if (prctl (PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0)
        return rt_child_fail (ch, errno, "prctl PR_SET_KEEPCAPS");
    }
  if (c->no_new_privs && prctl (PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
    return rt_child_fail (ch, errno, "prctl PR_SET_NO_NEW_PRIVS");
  return 0;
}
