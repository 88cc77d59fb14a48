/* cgroup_v2.c — the unified driver: one directory, controllers enabled top-down through the
 * ancestors' cgroup.subtree_control, device rules as an eBPF program (cgroup_bpf.c). */
#include "cgroup_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/log.h"

/* Is ctrl a word of the space-separated list s? */
static bool word_in (const char *s, const char *ctrl)
{
  size_t len = strlen (ctrl);
  for (const char *p = s; (p = strstr (p, ctrl)) != NULL; p += len)
    if ((p == s || p[-1] == ' ') && (p[len] == ' ' || p[len] == '\n' || p[len] == '\0'))
      return true;
  return false;
}

/* The ancestors of the group, top-down: root, root/p1, ..., root/parent. */
static char **ancestors (const struct cgroup *cg)
{
  char **v = NULL;
  strv_push (&v, cg->lay->unified);
  cleanup_free char *path = xstrdup (cg->lay->unified);
  for (const char *p = cg->parent; *p;)
    {
      size_t len = strcspn (p, "/");
      char *next = xasprintf ("%s/%.*s", path, (int)len, p);
      free (path);
      path = next;
      strv_push (&v, path);
      p += len;
      if (*p == '/')
        p++;
    }
  return v;
}

/* Make ctrl available to the group: "+ctrl" in every ancestor's cgroup.subtree_control.  With
 * `what` (the limit that needs it) a controller the root does not offer is an error that names
 * both; without, it is skipped quietly (controllers enabled only for statistics). */
static int enable_controller (struct cgroup *cg, const char *ctrl, const char *what, berr_t *err)
{
  cleanup_free char *avail = NULL;
  if (cg_read (cg->lay->unified, "cgroup.controllers", &avail, err) < 0)
    return what ? -1 : (berr_release (err), 0);
  if (!word_in (avail, ctrl))
    {
      if (!what)
        return 0;
      avail[strcspn (avail, "\n")] = '\0';
      return berr_set (err, ENOTSUP,
                       "%s needs the cgroup v2 \"%s\" controller, which %s does not offer "
                       "(available: %s)",
                       what, ctrl, cg->lay->unified, *avail ? avail : "none");
    }
  cleanup_strv char **anc = ancestors (cg);
  for (size_t i = 0; anc[i]; i++)
    {
      cleanup_free char *cur = NULL;
      if (cg_read (anc[i], "cgroup.subtree_control", &cur, err) < 0)
        return what ? -1 : (berr_release (err), 0);
      if (word_in (cur, ctrl))
        continue;
      if (cg_writef (anc[i], "cgroup.subtree_control", err, "+%s", ctrl) < 0)
        {
          if (!what)
            {
              log_debug ("cgroup: enable %s: %s", ctrl, err->msg);
              berr_release (err);
              return 0;
            }
          return berr_wrap (err, "enable the %s controller for %s", ctrl, what);
        }
    }
  return 0;
}

static int make_parents (struct cgroup *cg, berr_t *err)
{
  cleanup_strv char **anc = ancestors (cg);
  for (size_t i = 1; anc[i]; i++)
    if (mkdir (anc[i], 0755) < 0 && errno != EEXIST)
      return berr_set (err, errno, "create cgroup %s", anc[i]);
  return 0;
}

static int v2_open_fd (struct cgroup *cg, berr_t *err)
{
  cg->dirfd = open (cg->upath, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (cg->dirfd < 0)
    return berr_set (err, errno, "open cgroup %s", cg->upath);
  return 0;
}

static int v2_create (struct cgroup *cg, const struct cg_res *res arg_unused, berr_t *err)
{
  if (make_parents (cg, err) < 0)
    return -1;
  /* What `stats` reads; a host that does not offer one simply reports zero for it. */
  static const char *const for_stats[] = { "cpu", "memory", "pids", "io" };
  for (size_t i = 0; i < ARRAY_SIZE (for_stats); i++)
    enable_controller (cg, for_stats[i], NULL, err);
  cleanup_free char *path = xasprintf ("%s/%s", cg->lay->unified, cg->rel);
  bool created;
  if (cg_mkdir_group (path, &created, err) < 0)
    return -1;
  cg->upath = steal_pointer (&path);
  if (v2_open_fd (cg, err) < 0)
    {
      if (created)
        rmdir (cg->upath);
      return -1;
    }
  return 0;
}

static int v2_open (struct cgroup *cg, berr_t *err)
{
  cleanup_free char *path = xasprintf ("%s/%s", cg->lay->unified, cg->rel);
  struct stat st;
  if (stat (path, &st) < 0 || !S_ISDIR (st.st_mode))
    return berr_setk (err, BERR_NOT_FOUND, 0, "no cgroup %s under %s", cg->rel, cg->lay->root);
  cg->upath = steal_pointer (&path);
  return v2_open_fd (cg, err);
}

static int v2_enter (struct cgroup *cg, pid_t pid, berr_t *err)
{
  return cg_writef (cg->upath, "cgroup.procs", err, "%d", (int)pid);
}

static int v2_clone_fd (struct cgroup *cg) { return cg->dirfd; }

/* cpu.shares (2..262144) onto cpu.weight (1..10000), linearly. */
static uint64_t shares_to_weight (uint64_t shares)
{
  if (shares < 2)
    shares = 2;
  if (shares > 262144)
    shares = 262144;
  return 1 + ((shares - 2) * 9999) / 262142;
}

/* blkio.weight (10..1000) onto io.weight (1..10000). */
static uint64_t blkio_to_io_weight (uint64_t w) { return 1 + ((w - 10) * 9999) / 990; }

static int v2_memory (struct cgroup *cg, const struct cg_res *r, berr_t *err)
{
  const char *dir = cg->upath;
  if (r->has_mem_limit)
    {
      int ret = r->mem_limit < 0
                    ? cg_write (dir, "memory.max", "max", err)
                    : cg_writef (dir, "memory.max", err, "%lld", (long long)r->mem_limit);
      if (ret < 0)
        return -1;
    }
  if (r->has_mem_reservation)
    {
      int ret = r->mem_reservation < 0
                    ? cg_write (dir, "memory.low", "max", err)
                    : cg_writef (dir, "memory.low", err, "%lld", (long long)r->mem_reservation);
      if (ret < 0)
        return -1;
    }
  if (r->has_swap)
    {
      bool accounted = cg_file_exists (dir, "memory.swap.max");
      if (r->swap < 0)
        {
          if (accounted && cg_write (dir, "memory.swap.max", "max", err) < 0)
            return -1;
        }
      else
        {
          if (!accounted)
            return berr_set (err, ENOTSUP,
                             "memory.swap: the kernel has no swap accounting (no memory.swap.max)");
          /* OCI's swap is memory+swap; v2 limits swap alone. */
          uint64_t mem;
          if (r->has_mem_limit)
            mem = r->mem_limit < 0 ? UINT64_MAX : (uint64_t)r->mem_limit;
          else if (cg_read_u64 (dir, "memory.max", &mem, err) < 0)
            return -1;
          if (mem == UINT64_MAX)
            return berr_setk (err, BERR_INVALID, 0,
                              "memory.swap: a swap limit needs a memory limit");
          if ((uint64_t)r->swap < mem)
            return berr_setk (err, BERR_INVALID, 0,
                              "memory.swap (%lld) is below memory.limit (%llu): it counts "
                              "memory plus swap",
                              (long long)r->swap, (unsigned long long)mem);
          if (cg_writef (dir, "memory.swap.max", err, "%llu",
                         (unsigned long long)((uint64_t)r->swap - mem))
              < 0)
            return -1;
        }
    }
  if (r->has_swappiness)
    log_warn ("cgroup: memory.swappiness has no cgroup v2 equivalent; ignored");
  if (r->has_disable_oom && r->disable_oom)
    log_warn ("cgroup: memory.disableOOMKiller has no cgroup v2 equivalent; ignored");
  return 0;
}

static int v2_cpu (struct cgroup *cg, const struct cg_res *r, berr_t *err)
{
  const char *dir = cg->upath;
  if (r->has_shares
      && cg_writef (dir, "cpu.weight", err, "%llu",
                    (unsigned long long)shares_to_weight (r->shares))
             < 0)
    return -1;
  if (r->has_quota || r->has_period)
    {
      /* cpu.max is "quota period"; keep whichever half was not given. */
      cleanup_free char *cur = NULL;
      if (cg_read (dir, "cpu.max", &cur, err) < 0)
        return -1;
      char qcur[32] = "max";
      unsigned long long pcur = 100000;
      sscanf (cur, "%31s %llu", qcur, &pcur);
      cleanup_free char *q = !r->has_quota  ? xstrdup (qcur)
                             : r->quota < 0 ? xstrdup ("max")
                                            : xasprintf ("%lld", (long long)r->quota);
      unsigned long long p = r->has_period ? (unsigned long long)r->period : pcur;
      if (cg_writef (dir, "cpu.max", err, "%s %llu", q, p) < 0)
        return -1;
    }
  if (r->cpus && cg_write (dir, "cpuset.cpus", r->cpus, err) < 0)
    return -1;
  if (r->mems && cg_write (dir, "cpuset.mems", r->mems, err) < 0)
    return -1;
  return 0;
}

static void v2_io (struct cgroup *cg, const struct cg_res *r)
{
  if (!r->has_blkio_weight)
    return;
  cleanup_berr berr_t e = BERR_INIT;
  if (enable_controller (cg, "io", "blockIO.weight", &e) == 0)
    {
      if (cg_file_exists (cg->upath, "io.bfq.weight"))
        cg_writef (cg->upath, "io.bfq.weight", &e, "%llu", (unsigned long long)r->blkio_weight);
      else if (cg_file_exists (cg->upath, "io.weight"))
        cg_writef (cg->upath, "io.weight", &e, "default %llu",
                   (unsigned long long)blkio_to_io_weight (r->blkio_weight));
      else
        berr_set (&e, ENOTSUP, "no io.weight (the I/O scheduler has no weights)");
    }
  if (berr_is_set (&e))
    log_warn ("cgroup: blockIO.weight ignored: %s", e.msg);
}

static int v2_update (struct cgroup *cg, const struct cg_res *r, berr_t *err)
{
  struct
  {
    bool on;
    const char *ctrl, *what;
  } needs[] = {
    { r->has_mem_limit, "memory", "memory.limit" },
    { r->has_mem_reservation, "memory", "memory.reservation" },
    { r->has_swap, "memory", "memory.swap" },
    { r->has_shares, "cpu", "cpu.shares" },
    { r->has_quota || r->has_period, "cpu", "cpu.quota/period" },
    { r->cpus != NULL, "cpuset", "cpu.cpus" },
    { r->mems != NULL, "cpuset", "cpu.mems" },
    { r->has_pids, "pids", "pids.limit" },
    { r->nhuge > 0, "hugetlb", "hugepageLimits" },
  };
  for (size_t i = 0; i < ARRAY_SIZE (needs); i++)
    if (needs[i].on && enable_controller (cg, needs[i].ctrl, needs[i].what, err) < 0)
      return -1;
  if (v2_memory (cg, r, err) < 0 || v2_cpu (cg, r, err) < 0)
    return -1;
  if (r->has_pids)
    {
      int ret = r->pids > 0 ? cg_writef (cg->upath, "pids.max", err, "%lld", (long long)r->pids)
                            : cg_write (cg->upath, "pids.max", "max", err);
      if (ret < 0)
        return -1;
    }
  for (size_t i = 0; i < r->nhuge; i++)
    {
      cleanup_free char *file = xasprintf ("hugetlb.%s.max", r->huge[i].pagesize);
      if (cg_writef (cg->upath, file, err, "%llu", (unsigned long long)r->huge[i].limit) < 0)
        return -1;
    }
  v2_io (cg, r);
  if (r->has_devices && cg_bpf_set_devices (cg->upath, r->devs, r->ndevs, err) < 0)
    return -1;
  return 0;
}

static bool events_frozen (struct cgroup *cg, bool *frozen)
{
  uint64_t v = 0;
  if (cg_read_key (cg->upath, "cgroup.events", "frozen", &v) < 0)
    return false;
  *frozen = v != 0;
  return true;
}

static int v2_freeze (struct cgroup *cg, bool frozen, berr_t *err)
{
  if (!cg_file_exists (cg->upath, "cgroup.freeze"))
    return berr_set (err, ENOTSUP, "%s: no cgroup.freeze (kernel older than 5.2)", cg->upath);
  if (cg_write (cg->upath, "cgroup.freeze", frozen ? "1" : "0", err) < 0)
    return -1;
  for (int i = 0; i < 1000; i++)
    {
      bool now;
      if (events_frozen (cg, &now) && now == frozen)
        return 0;
      cg_sleep_ms (i < 20 ? 1 : 10);
    }
  return berr_set (err, EBUSY, "%s: did not become %s", cg->upath, frozen ? "frozen" : "thawed");
}

static bool v2_is_frozen (struct cgroup *cg)
{
  bool now = false;
  return events_frozen (cg, &now) && now;
}

static int v2_kill_all (struct cgroup *cg, int sig, berr_t *err)
{
  if (sig == SIGKILL && cg_file_exists (cg->upath, "cgroup.kill"))
    {
      if (cg_write (cg->upath, "cgroup.kill", "1", err) < 0)
        return -1;
      /* cgroup.kill reaches frozen tasks too; the loop only waits for the group to empty. */
      return cg_kill_loop (cg->upath, SIGKILL, err);
    }
  if (sig == SIGKILL && v2_is_frozen (cg) && cg_write (cg->upath, "cgroup.freeze", "0", err) < 0)
    return -1;
  return cg_kill_loop (cg->upath, sig, err);
}

static int v2_pids (struct cgroup *cg, pid_t **pids, size_t *n, berr_t *err)
{
  return cg_read_procs (cg->upath, pids, n, err);
}

static void io_bytes (const char *dir, struct cgroup_stats *st)
{
  cleanup_berr berr_t e = BERR_INIT;
  cleanup_free char *s = NULL;
  if (cg_read (dir, "io.stat", &s, &e) < 0)
    return;
  /* "8:0 rbytes=N wbytes=N rios=N ..." per device */
  for (char *p = s; (p = strstr (p, "bytes=")) != NULL; p += 6)
    {
      if (p - s >= 1 && p[-1] == 'r' && (p - s == 1 || p[-2] == ' '))
        st->blkio_read += strtoull (p + 6, NULL, 10);
      else if (p - s >= 1 && p[-1] == 'w' && (p - s == 1 || p[-2] == ' '))
        st->blkio_write += strtoull (p + 6, NULL, 10);
    }
}

static int v2_stats (struct cgroup *cg, struct cgroup_stats *st, berr_t *err)
{
  const char *dir = cg->upath;
  if (access (dir, F_OK) < 0)
    return berr_setk (err, BERR_NOT_FOUND, 0, "cgroup %s is gone", cg->rel);
  uint64_t v = 0;
  if (cg_read_key (dir, "cpu.stat", "usage_usec", &v) == 0)
    st->cpu_usage_ns = v * 1000;
  cleanup_berr berr_t e = BERR_INIT;
  uint64_t usage = 0, inactive = 0;
  if (cg_read_u64 (dir, "memory.current", &usage, &e) == 0)
    {
      if (cg_read_key (dir, "memory.stat", "inactive_file", &inactive) < 0)
        inactive = 0;
      st->mem_usage = usage > inactive ? usage - inactive : 0;
    }
  berr_release (&e);
  if (cg_read_u64 (dir, "memory.max", &v, &e) == 0)
    st->mem_limit = v == UINT64_MAX ? 0 : v;
  berr_release (&e);
  if (cg_read_u64 (dir, "pids.current", &v, &e) == 0)
    st->pids_current = v;
  berr_release (&e);
  io_bytes (dir, st);
  return 0;
}

static bool v2_oom_killed (struct cgroup *cg)
{
  uint64_t v = 0;
  return cg_read_key (cg->upath, "memory.events", "oom_kill", &v) == 0 && v > 0;
}

static int v2_destroy (struct cgroup *cg, berr_t *err)
{
  if (!cg->upath)
    return 0;
  cleanup_berr berr_t e = BERR_INIT;
  if (access (cg->upath, F_OK) == 0 && v2_kill_all (cg, SIGKILL, &e) < 0)
    log_debug ("cgroup: kill before destroy: %s", e.msg);
  return cg_rmdir (cg->upath, err);
}

const struct cgroup_driver cg_driver_v2 = {
  .name = "v2",
  .create = v2_create,
  .open = v2_open,
  .enter = v2_enter,
  .clone_fd = v2_clone_fd,
  .update = v2_update,
  .freeze = v2_freeze,
  .is_frozen = v2_is_frozen,
  .kill_all = v2_kill_all,
  .pids = v2_pids,
  .stats = v2_stats,
  .oom_killed = v2_oom_killed,
  .destroy = v2_destroy,
};
