/* cgroup.h — cgroups through a driver table: v2 (unified), v1 (legacy) and hybrid (v1 for every
 * resource; the cgroup2 tree at /sys/fs/cgroup/unified only gets a best-effort tracking group),
 * and none (no cgroup filesystem or not writable: limits refused with a clear error).
 *
 * Each container gets <parent>/<name> in every hierarchy, where parent is "berth" by default.
 * Limits come in the OCI runtime spec's linux.resources form (memory.limit/swap/reservation,
 * cpu.shares/quota/period/cpus/mems, pids.limit, devices[] allow/deny rules), so the engine,
 * `update` and an external runtime all speak one language. */
#ifndef BERTH_CGROUP_H
#define BERTH_CGROUP_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "util/err.h"

enum cgroup_mode
{
  CGROUP_MODE_NONE = 0, /* nothing mounted at /sys/fs/cgroup */
  CGROUP_MODE_V1,       /* legacy: v1 controllers only */
  CGROUP_MODE_HYBRID,   /* v1 controllers + cgroup2 at /sys/fs/cgroup/unified */
  CGROUP_MODE_V2,       /* unified */
};

/* Detect the mode of the cgroup hierarchy mounted at root (normally "/sys/fs/cgroup"). */
enum cgroup_mode cgroup_detect_mode (const char *root);
const char *cgroup_mode_name (enum cgroup_mode m);

struct cgroup; /* opaque: driver + paths (+ v2 dirfd) */

/* Where the hierarchy is: "/sys/fs/cgroup" normally; tests point it at a private mount (a
 * cgroup2 mount of their own to exercise the v2 driver on a hybrid host).  NULL = default. */
struct cgroup_opts
{
  /* NULL: /sys/fs/cgroup.  The driver follows what is mounted there: a cgroup2 mount gets the
   * v2 driver, a tmpfs with v1 hierarchies the v1 driver, anything else (or read-only) none. */
  const char *mount_root;
  const char *parent; /* NULL: "berth" */
};

/* Create (or reuse, if it exists and is empty) the cgroup `name` and apply the limits.
 * resources: OCI linux.resources or NULL. */
int cgroup_create (const struct cgroup_opts *o, const char *name, const json_t *resources,
                   struct cgroup **out, berr_t *err);
/* Open an existing container cgroup (for kill, stats, pause, update, destroy). */
int cgroup_open (const struct cgroup_opts *o, const char *name, struct cgroup **out, berr_t *err);
void cgroup_free (struct cgroup *cg);
enum cgroup_mode cgroup_mode (const struct cgroup *cg);

/* Move pid into the cgroup in every hierarchy (v1: cgroup.procs of each controller). */
int cgroup_enter (struct cgroup *cg, pid_t pid, berr_t *err);
/* v2 only: an O_PATH|O_DIRECTORY fd for clone3's CLONE_INTO_CGROUP, or -1 (v1/hybrid/none).
 * The fd belongs to cg: valid until cgroup_free, not to be closed by the caller. */
int cgroup_clone_fd (struct cgroup *cg);
/* v1 hierarchies: O_WRONLY fds on each group's `tasks` file. A freshly cloned, single-threaded
 * child writes "0" to each to move itself: a thread moving itself skips the kernel's global
 * threadgroup lock, whose RCU grace period otherwise costs ~10-20 ms per start (cgroup v1 has no
 * CLONE_INTO_CGROUP). *n = 0 where this does not apply (v2: clone into the group instead). */
int cgroup_self_attach_fds (struct cgroup *cg, int **fds, size_t *n, berr_t *err);
/* Change limits of a live cgroup (docker update). */
int cgroup_update (struct cgroup *cg, const json_t *resources, berr_t *err);
/* Freeze / thaw every process (pause/unpause: v1 freezer, v2 cgroup.freeze). */
int cgroup_freeze (struct cgroup *cg, bool frozen, berr_t *err);
/* Is it frozen now? */
bool cgroup_is_frozen (struct cgroup *cg);
/* Signal every process in the cgroup (v2 cgroup.kill for SIGKILL where available; else loop over
 * cgroup.procs until empty, thawing first so a frozen group can die). */
int cgroup_kill_all (struct cgroup *cg, int sig, berr_t *err);
/* Pids in the cgroup (for top). */
int cgroup_pids (struct cgroup *cg, pid_t **pids, size_t *n, berr_t *err);

struct cgroup_stats
{
  uint64_t cpu_usage_ns; /* total CPU time */
  uint64_t mem_usage;    /* bytes, Docker's "usage - inactive_file" (v1: total_inactive_file) */
  uint64_t mem_limit;    /* bytes; 0 = unlimited */
  uint64_t pids_current;
  uint64_t blkio_read, blkio_write; /* bytes; 0 if unknown */
};
int cgroup_stats (struct cgroup *cg, struct cgroup_stats *st, berr_t *err);
/* Did the kernel's OOM killer kill a process in this cgroup? (v1: oom_kill in
 * memory.oom_control; v2: oom_kill in memory.events) */
bool cgroup_oom_killed (struct cgroup *cg);
/* Remove the cgroup in every hierarchy (kills leftovers first, retries EBUSY briefly). */
int cgroup_destroy (struct cgroup *cg, berr_t *err);

#endif
