/* cgroup_v1.c — the legacy driver, also used in hybrid mode: every resource through v1
 * hierarchies (one directory per mounted hierarchy, comounts and name=systemd included); in
 * hybrid mode the cgroup2 tree only gets a best-effort tracking group with no controllers. */
#include "cgroup_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/log.h"

/* Unlimited v1 memory reads back as PAGE_COUNTER_MAX pages (9223372036854771712 with 4 KiB
 * pages); nothing real is anywhere near 2^60. */
#define V1_MEM_UNLIMITED_FLOOR (1ULL << 60)

static ssize_t hier_index (const struct cgroup *cg, const char *ctrl)
{
  for (size_t i = 0; i < cg->lay->nhiers; i++)
    if (strv_contains (cg->lay->hiers[i].ctrls, ctrl))
      return (ssize_t)i;
  return -1;
}

/* The group's directory in the hierarchy of ctrl, or NULL. */
static const char *v1_path (const struct cgroup *cg, const char *ctrl)
{
  ssize_t i = hier_index (cg, ctrl);
  return i >= 0 && cg->paths ? cg->paths[i] : NULL;
}

/* The hierarchy used to list and signal processes: every hierarchy holds the same ones. */
static const char *v1_primary (const struct cgroup *cg)
{
  const char *p = v1_path (cg, "pids");
  if (!p)
    p = v1_path (cg, "memory");
  for (size_t i = 0; !p && cg->paths && i < cg->lay->nhiers; i++)
    p = cg->paths[i];
  return p;
}

static bool str_is_blank (const char *s)
{
  for (; *s; s++)
    if (*s != ' ' && *s != '\n' && *s != '\t')
      return false;
  return true;
}

/* A new cpuset group starts with empty cpus and mems, and attaching a task to it fails; copy
 * the parent's. */
static int cpuset_inherit (const char *dir, berr_t *err)
{
  cleanup_free char *parent = xstrdup (dir);
  char *slash = strrchr (parent, '/');
  if (!slash)
    return 0;
  *slash = '\0';
  static const char *const files[] = { "cpuset.cpus", "cpuset.mems" };
  for (size_t i = 0; i < ARRAY_SIZE (files); i++)
    {
      cleanup_free char *cur = NULL;
      cleanup_free char *val = NULL;
      if (cg_read (dir, files[i], &cur, err) < 0)
        return -1;
      if (!str_is_blank (cur))
        continue;
      if (cg_read (parent, files[i], &val, err) < 0)
        return -1;
      if (str_is_blank (val))
        continue;
      if (cg_write (dir, files[i], val, err) < 0)
        return -1;
    }
  return 0;
}

/* mkdir each component of the parent under mnt (they are shared by every container). */
static int make_ancestors (const char *mnt, const char *parent, bool cpuset, berr_t *err)
{
  cleanup_free char *path = xstrdup (mnt);
  for (const char *p = parent; *p;)
    {
      size_t len = strcspn (p, "/");
      char *next = xasprintf ("%s/%.*s", path, (int)len, p);
      free (path);
      path = next;
      if (mkdir (path, 0755) < 0 && errno != EEXIST)
        return berr_set (err, errno, "create cgroup %s", path);
      if (cpuset && cpuset_inherit (path, err) < 0)
        return -1;
      p += len;
      if (*p == '/')
        p++;
    }
  return 0;
}

static void v1_make_tracking (struct cgroup *cg)
{
  if (cg->lay->mode != CGROUP_MODE_HYBRID || !cg->lay->unified)
    return;
  cleanup_berr berr_t e = BERR_INIT;
  bool created;
  cleanup_free char *path = xasprintf ("%s/%s", cg->lay->unified, cg->rel);
  if (make_ancestors (cg->lay->unified, cg->parent, false, &e) < 0
      || cg_mkdir_group (path, &created, &e) < 0)
    {
      log_debug ("cgroup: no unified tracking group: %s", e.msg);
      return;
    }
  cg->upath = steal_pointer (&path);
}

static int v1_create (struct cgroup *cg, const struct cg_res *res arg_unused, berr_t *err)
{
  size_t n = cg->lay->nhiers;
  cg->paths = xcalloc (n, sizeof *cg->paths);
  cleanup_free bool *created = xcalloc (n, sizeof *created);
  for (size_t i = 0; i < n; i++)
    {
      const struct cg_hier *h = &cg->lay->hiers[i];
      bool cpuset = strv_contains (h->ctrls, "cpuset");
      char *path = xasprintf ("%s/%s", h->mnt, cg->rel);
      if (make_ancestors (h->mnt, cg->parent, cpuset, err) < 0
          || cg_mkdir_group (path, &created[i], err) < 0
          || (cpuset && cpuset_inherit (path, err) < 0))
        {
          if (created[i])
            rmdir (path);
          free (path);
          for (size_t j = 0; j < i; j++)
            {
              if (created[j])
                rmdir (cg->paths[j]);
              free (cg->paths[j]);
              cg->paths[j] = NULL;
            }
          return -1;
        }
      cg->paths[i] = path;
    }
  v1_make_tracking (cg);
  return 0;
}

static int v1_open (struct cgroup *cg, berr_t *err)
{
  size_t n = cg->lay->nhiers;
  size_t found = 0;
  cg->paths = xcalloc (n, sizeof *cg->paths);
  for (size_t i = 0; i < n; i++)
    {
      char *path = xasprintf ("%s/%s", cg->lay->hiers[i].mnt, cg->rel);
      struct stat st;
      if (stat (path, &st) == 0 && S_ISDIR (st.st_mode))
        {
          cg->paths[i] = path;
          found++;
        }
      else
        free (path);
    }
  if (found == 0)
    return berr_setk (err, BERR_NOT_FOUND, 0, "no cgroup %s under %s", cg->rel, cg->lay->root);
  if (cg->lay->mode == CGROUP_MODE_HYBRID && cg->lay->unified)
    {
      char *path = xasprintf ("%s/%s", cg->lay->unified, cg->rel);
      if (access (path, F_OK) == 0)
        cg->upath = path;
      else
        free (path);
    }
  return 0;
}

static int v1_enter (struct cgroup *cg, pid_t pid, berr_t *err)
{
  for (size_t i = 0; i < cg->lay->nhiers; i++)
    if (cg->paths[i] && cg_writef (cg->paths[i], "cgroup.procs", err, "%d", (int)pid) < 0)
      return -1;
  if (cg->upath)
    {
      cleanup_berr berr_t e = BERR_INIT;
      if (cg_writef (cg->upath, "cgroup.procs", &e, "%d", (int)pid) < 0)
        log_debug ("cgroup: unified tracking group: %s", e.msg);
    }
  return 0;
}

/* Hybrid: the unified tracking group can take the child at clone time (CLONE_INTO_CGROUP);
 * writing its cgroup.procs afterwards would cost the same RCU grace period as a v1 attach. */
static int v1_clone_fd (struct cgroup *cg)
{
  if (cg->upath == NULL)
    return -1;
  if (cg->dirfd < 0)
    cg->dirfd = open (cg->upath, O_PATH | O_DIRECTORY | O_CLOEXEC);
  return cg->dirfd;
}

static int need (const struct cgroup *cg, const char *ctrl, const char *what, const char **dir,
                 berr_t *err)
{
  *dir = v1_path (cg, ctrl);
  if (*dir)
    return 0;
  return berr_set (err, ENOTSUP, "%s: no %s cgroup hierarchy is mounted under %s", what, ctrl,
                   cg->lay->root);
}

static char *limit_str (int64_t v)
{
  return v < 0 ? xstrdup ("-1") : xasprintf ("%lld", (long long)v);
}

static int v1_memory (struct cgroup *cg, const struct cg_res *r, berr_t *err)
{
  const char *dir;
  bool any = r->has_mem_limit || r->has_mem_reservation || r->has_swap || r->has_swappiness
             || r->has_disable_oom;
  if (!any)
    return 0;
  if (need (cg, "memory", "memory limit", &dir, err) < 0)
    return -1;
  bool swap = r->has_swap;
  if (swap && !cg_file_exists (dir, "memory.memsw.limit_in_bytes"))
    {
      if (r->swap != -1)
        return berr_set (err, ENOTSUP,
                         "memory.swap: the kernel has no swap accounting "
                         "(memory.memsw.limit_in_bytes is missing; boot with swapaccount=1)");
      swap = false; /* unlimited swap is what we already have */
    }
  if (r->has_mem_limit)
    {
      cleanup_free char *lim = limit_str (r->mem_limit);
      /* The memory limit must stay <= memory+swap: write it first, unless it grows past the
       * current memsw limit, in which case memsw goes first. */
      if (cg_write (dir, "memory.limit_in_bytes", lim, err) < 0)
        {
          if (!swap || err->errnum != EINVAL)
            return -1;
          berr_release (err);
          cleanup_free char *sw = limit_str (r->swap);
          if (cg_write (dir, "memory.memsw.limit_in_bytes", sw, err) < 0
              || cg_write (dir, "memory.limit_in_bytes", lim, err) < 0)
            return -1;
          swap = false;
        }
    }
  if (swap)
    {
      cleanup_free char *sw = limit_str (r->swap);
      if (cg_write (dir, "memory.memsw.limit_in_bytes", sw, err) < 0)
        return -1;
    }
  if (r->has_mem_reservation)
    {
      cleanup_free char *v = limit_str (r->mem_reservation);
      if (cg_write (dir, "memory.soft_limit_in_bytes", v, err) < 0)
        return -1;
    }
  if (r->has_swappiness
      && cg_writef (dir, "memory.swappiness", err, "%llu", (unsigned long long)r->swappiness) < 0)
    return -1;
  if (r->has_disable_oom
      && cg_write (dir, "memory.oom_control", r->disable_oom ? "1" : "0", err) < 0)
    return -1;
  return 0;
}

static int v1_cpu (struct cgroup *cg, const struct cg_res *r, berr_t *err)
{
  const char *dir;
  if (r->has_shares || r->has_quota || r->has_period)
    {
      if (need (cg, "cpu", "cpu.shares/quota/period", &dir, err) < 0)
        return -1;
      if (r->has_shares
          && cg_writef (dir, "cpu.shares", err, "%llu", (unsigned long long)r->shares) < 0)
        return -1;
      cleanup_free char *q = r->has_quota ? limit_str (r->quota) : NULL;
      if (r->has_period
          && cg_writef (dir, "cpu.cfs_period_us", err, "%llu", (unsigned long long)r->period) < 0)
        {
          /* A period the current quota does not fit: quota first, then the period. */
          if (!q || err->errnum != EINVAL)
            return -1;
          berr_release (err);
          if (cg_write (dir, "cpu.cfs_quota_us", q, err) < 0
              || cg_writef (dir, "cpu.cfs_period_us", err, "%llu", (unsigned long long)r->period)
                     < 0)
            return -1;
        }
      if (q && cg_write (dir, "cpu.cfs_quota_us", q, err) < 0)
        return -1;
    }
  if (r->cpus || r->mems)
    {
      if (need (cg, "cpuset", "cpu.cpus/mems", &dir, err) < 0)
        return -1;
      if (r->cpus && cg_write (dir, "cpuset.cpus", r->cpus, err) < 0)
        return -1;
      if (r->mems && cg_write (dir, "cpuset.mems", r->mems, err) < 0)
        return -1;
    }
  return 0;
}

static void dev_rule_str (const struct cg_dev_rule *d, char *buf, size_t len)
{
  char maj[24], min[24], acc[4];
  size_t k = 0;
  if (d->major < 0)
    strcpy (maj, "*");
  else
    snprintf (maj, sizeof maj, "%lld", (long long)d->major);
  if (d->minor < 0)
    strcpy (min, "*");
  else
    snprintf (min, sizeof min, "%lld", (long long)d->minor);
  if (d->access & CG_ACC_READ)
    acc[k++] = 'r';
  if (d->access & CG_ACC_WRITE)
    acc[k++] = 'w';
  if (d->access & CG_ACC_MKNOD)
    acc[k++] = 'm';
  acc[k] = '\0';
  /* The kernel ignores the rest of an "a" rule: it resets the whole list. */
  if (d->type == 'a')
    snprintf (buf, len, "a");
  else
    snprintf (buf, len, "%c %s:%s %s", d->type, maj, min, acc);
}

static int v1_devices (struct cgroup *cg, const struct cg_res *r, berr_t *err)
{
  const char *dir;
  if (!r->has_devices)
    return 0;
  if (need (cg, "devices", "devices", &dir, err) < 0)
    return -1;
  /* Deny everything, then replay the rules in order: later rules refine earlier ones. */
  if (cg_write (dir, "devices.deny", "a", err) < 0)
    return -1;
  for (size_t i = 0; i < r->ndevs; i++)
    {
      char rule[80];
      dev_rule_str (&r->devs[i], rule, sizeof rule);
      if (cg_write (dir, r->devs[i].allow ? "devices.allow" : "devices.deny", rule, err) < 0)
        return -1;
    }
  return 0;
}

static int v1_blkio (struct cgroup *cg, const struct cg_res *r, berr_t *err arg_unused)
{
  if (!r->has_blkio_weight)
    return 0;
  const char *dir = v1_path (cg, "blkio");
  cleanup_berr berr_t e = BERR_INIT;
  if (dir && cg_file_exists (dir, "blkio.weight"))
    cg_writef (dir, "blkio.weight", &e, "%llu", (unsigned long long)r->blkio_weight);
  else if (dir && cg_file_exists (dir, "blkio.bfq.weight"))
    cg_writef (dir, "blkio.bfq.weight", &e, "%llu", (unsigned long long)r->blkio_weight);
  else
    berr_set (&e, ENOTSUP, "no blkio.weight (the I/O scheduler has no weights)");
  if (berr_is_set (&e))
    log_warn ("cgroup: blockIO.weight ignored: %s", e.msg);
  return 0;
}

static int v1_hugetlb (struct cgroup *cg, const struct cg_res *r, berr_t *err)
{
  if (r->nhuge == 0)
    return 0;
  const char *dir = v1_path (cg, "hugetlb");
  if (!dir)
    {
      /* Hybrid hosts may have hugetlb only on the v2 side, where we put no limits. */
      log_warn ("cgroup: hugepageLimits ignored: no hugetlb hierarchy is mounted under %s",
                cg->lay->root);
      return 0;
    }
  for (size_t i = 0; i < r->nhuge; i++)
    {
      cleanup_free char *file = xasprintf ("hugetlb.%s.limit_in_bytes", r->huge[i].pagesize);
      if (cg_writef (dir, file, err, "%llu", (unsigned long long)r->huge[i].limit) < 0)
        return -1;
    }
  return 0;
}

static int v1_update (struct cgroup *cg, const struct cg_res *r, berr_t *err)
{
  if (v1_memory (cg, r, err) < 0 || v1_cpu (cg, r, err) < 0)
    return -1;
  if (r->has_pids)
    {
      const char *dir;
      if (need (cg, "pids", "pids.limit", &dir, err) < 0)
        return -1;
      int ret = r->pids > 0 ? cg_writef (dir, "pids.max", err, "%lld", (long long)r->pids)
                            : cg_write (dir, "pids.max", "max", err);
      if (ret < 0)
        return -1;
    }
  if (v1_devices (cg, r, err) < 0 || v1_blkio (cg, r, err) < 0 || v1_hugetlb (cg, r, err) < 0)
    return -1;
  return 0;
}

static bool freezer_is (const char *dir, const char *state)
{
  cleanup_berr berr_t e = BERR_INIT;
  cleanup_free char *s = NULL;
  if (cg_read (dir, "freezer.state", &s, &e) < 0)
    return false;
  return str_has_prefix (s, state) && (s[strlen (state)] == '\n' || s[strlen (state)] == '\0');
}

static int v1_freeze (struct cgroup *cg, bool frozen, berr_t *err)
{
  const char *dir;
  if (need (cg, "freezer", frozen ? "pause" : "unpause", &dir, err) < 0)
    return -1;
  const char *want = frozen ? "FROZEN" : "THAWED";
  /* FREEZING can persist while a task sits in an uninterruptible sleep; asking again helps. */
  for (int i = 0; i < 1000; i++)
    {
      if (i % 50 == 0 && cg_write (dir, "freezer.state", want, err) < 0)
        return -1;
      if (freezer_is (dir, want))
        return 0;
      cg_sleep_ms (i < 20 ? 1 : 10);
    }
  if (frozen)
    {
      cleanup_berr berr_t e = BERR_INIT;
      cg_write (dir, "freezer.state", "THAWED", &e);
    }
  return berr_set (err, EBUSY, "%s: did not become %s", dir, want);
}

static bool v1_is_frozen (struct cgroup *cg)
{
  const char *dir = v1_path (cg, "freezer");
  return dir && freezer_is (dir, "FROZEN");
}

static int v1_kill_all (struct cgroup *cg, int sig, berr_t *err)
{
  const char *primary = v1_primary (cg);
  if (!primary)
    return 0;
  if (sig != SIGKILL)
    return cg_kill_loop (primary, sig, err);
  /* SIGKILL is not delivered to a frozen task until it thaws. */
  const char *fz = v1_path (cg, "freezer");
  if (fz && !freezer_is (fz, "THAWED") && cg_write (fz, "freezer.state", "THAWED", err) < 0)
    return -1;
  if (cg_kill_loop (primary, SIGKILL, err) < 0)
    return -1;
  /* A process that reached only some hierarchies (enter failed midway) is still ours. */
  for (size_t i = 0; i < cg->lay->nhiers; i++)
    if (cg->paths[i] && cg->paths[i] != primary && cg_kill_loop (cg->paths[i], SIGKILL, err) < 0)
      return -1;
  if (cg->upath && cg_kill_loop (cg->upath, SIGKILL, err) < 0)
    return -1;
  return 0;
}

static int v1_pids (struct cgroup *cg, pid_t **pids, size_t *n, berr_t *err)
{
  const char *primary = v1_primary (cg);
  if (!primary)
    return 0;
  return cg_read_procs (primary, pids, n, err);
}

/* Sum of Read and Write lines in a blkio io_service_bytes file ("8:0 Read 4096"). */
static void blkio_bytes (const char *dir, struct cgroup_stats *st)
{
  static const char *const files[]
      = { "blkio.io_service_bytes_recursive", "blkio.throttle.io_service_bytes_recursive" };
  for (size_t f = 0; f < ARRAY_SIZE (files); f++)
    {
      cleanup_berr berr_t e = BERR_INIT;
      cleanup_free char *s = NULL;
      if (cg_read (dir, files[f], &s, &e) < 0)
        continue;
      uint64_t rd = 0, wr = 0;
      for (char *l = s; l && *l;)
        {
          char dev[32], op[16];
          unsigned long long v;
          if (sscanf (l, "%31s %15s %llu", dev, op, &v) == 3)
            {
              if (strcmp (op, "Read") == 0)
                rd += v;
              else if (strcmp (op, "Write") == 0)
                wr += v;
            }
          l = strchr (l, '\n');
          if (l)
            l++;
        }
      if (rd || wr)
        {
          st->blkio_read = rd;
          st->blkio_write = wr;
          return;
        }
    }
}

static int v1_stats (struct cgroup *cg, struct cgroup_stats *st, berr_t *err)
{
  const char *primary = v1_primary (cg);
  if (!primary || access (primary, F_OK) < 0)
    return berr_setk (err, BERR_NOT_FOUND, 0, "cgroup %s is gone", cg->rel);
  cleanup_berr berr_t e = BERR_INIT;
  const char *dir = v1_path (cg, "cpuacct");
  if (dir && cg_read_u64 (dir, "cpuacct.usage", &st->cpu_usage_ns, &e) < 0)
    berr_release (&e);
  dir = v1_path (cg, "memory");
  if (dir)
    {
      uint64_t usage = 0, inactive = 0, limit = 0;
      if (cg_read_u64 (dir, "memory.usage_in_bytes", &usage, &e) < 0)
        berr_release (&e);
      if (cg_read_key (dir, "memory.stat", "total_inactive_file", &inactive) < 0)
        inactive = 0;
      st->mem_usage = usage > inactive ? usage - inactive : 0;
      if (cg_read_u64 (dir, "memory.limit_in_bytes", &limit, &e) < 0)
        berr_release (&e);
      st->mem_limit = limit >= V1_MEM_UNLIMITED_FLOOR ? 0 : limit;
    }
  dir = v1_path (cg, "pids");
  if (dir && cg_read_u64 (dir, "pids.current", &st->pids_current, &e) < 0)
    berr_release (&e);
  dir = v1_path (cg, "blkio");
  if (dir)
    blkio_bytes (dir, st);
  return 0;
}

static bool v1_oom_killed (struct cgroup *cg)
{
  const char *dir = v1_path (cg, "memory");
  uint64_t v = 0;
  return dir && cg_read_key (dir, "memory.oom_control", "oom_kill", &v) == 0 && v > 0;
}

static int v1_destroy (struct cgroup *cg, berr_t *err)
{
  if (!cg->paths)
    return 0;
  cleanup_berr berr_t e = BERR_INIT;
  /* The common case — every process already gone — needs no kill pass: an empty group's
   * directory just goes. Anything left (a daemon the container started, a process still
   * exiting) makes rmdir fail with EBUSY; then kill and retry. */
  const char *primary = v1_primary (cg);
  if (primary && rmdir (primary) < 0 && errno != ENOENT)
    {
      if (v1_kill_all (cg, SIGKILL, &e) < 0)
        log_debug ("cgroup: kill before destroy: %s", e.msg);
    }
  int ret = 0;
  for (size_t i = 0; i < cg->lay->nhiers; i++)
    {
      if (cg->paths[i] == NULL || rmdir (cg->paths[i]) == 0 || errno == ENOENT)
        continue;
      /* something in this hierarchy only (a process that joined part of the group) */
      cleanup_berr berr_t ke = BERR_INIT;
      if (cg_kill_loop (cg->paths[i], SIGKILL, &ke) < 0)
        log_debug ("cgroup: kill before destroy: %s", ke.msg);
      if (cg_rmdir (cg->paths[i], ret < 0 ? &e : err) < 0)
        ret = -1;
    }
  if (cg->upath)
    {
      berr_release (&e);
      if (cg_rmdir (cg->upath, &e) < 0)
        log_debug ("cgroup: unified tracking group: %s", e.msg);
    }
  return ret;
}

const struct cgroup_driver cg_driver_v1 = {
  .name = "v1",
  .create = v1_create,
  .open = v1_open,
  .enter = v1_enter,
  .clone_fd = v1_clone_fd,
  .update = v1_update,
  .freeze = v1_freeze,
  .is_frozen = v1_is_frozen,
  .kill_all = v1_kill_all,
  .pids = v1_pids,
  .stats = v1_stats,
  .oom_killed = v1_oom_killed,
  .destroy = v1_destroy,
};
