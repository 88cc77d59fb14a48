/* cgroup_internal.h — what the cgroup drivers share: the detected layout of a cgroup root, the
 * per-container handle, the driver table, parsed limits and small file helpers.  Only
 * src/runtime/cgroup*.c include this. */
#ifndef BERTH_CGROUP_INTERNAL_H
#define BERTH_CGROUP_INTERNAL_H

#include "cgroup.h"

/* One mounted v1 hierarchy: where it is and which controllers ("cpu", "name=systemd") it has. */
struct cg_hier
{
  char *mnt;
  char **ctrls;
};

/* The layout under one mount root, detected once per process and cached (never freed). */
struct cg_layout
{
  char *root;
  enum cgroup_mode mode;
  bool writable;
  struct cg_hier *hiers; /* v1 / hybrid */
  size_t nhiers;
  char *unified; /* cgroup2 mount: the root itself (v2), root/unified (hybrid), or NULL */
};

struct cgroup;

/* Limits in OCI linux.resources form, parsed once; has_* says what was given. */
struct cg_dev_rule
{
  bool allow;
  char type;            /* 'a', 'c' or 'b' */
  int64_t major, minor; /* -1 = any */
  unsigned access;      /* CG_ACC_* bits */
};
enum
{
  CG_ACC_MKNOD = 1,
  CG_ACC_READ = 2,
  CG_ACC_WRITE = 4,
  CG_ACC_ALL = 7,
};

struct cg_hugepage
{
  char *pagesize; /* "2MB" */
  uint64_t limit;
};

struct cg_res
{
  bool has_mem_limit, has_mem_reservation, has_swap, has_swappiness, has_disable_oom;
  int64_t mem_limit, mem_reservation, swap; /* -1 = unlimited */
  uint64_t swappiness;
  bool disable_oom;
  bool has_shares, has_quota, has_period;
  uint64_t shares, period;
  int64_t quota; /* -1 = unlimited */
  char *cpus, *mems;
  bool has_pids;
  int64_t pids; /* <= 0 = unlimited */
  bool has_devices;
  struct cg_dev_rule *devs;
  size_t ndevs;
  bool has_blkio_weight;
  uint64_t blkio_weight;
  struct cg_hugepage *huge;
  size_t nhuge;
};

int cg_res_parse (const json_t *j, struct cg_res *r, berr_t *err);
void cg_res_release (struct cg_res *r);
/* Anything at all to apply? */
bool cg_res_any (const struct cg_res *r);

struct cgroup_driver
{
  const char *name;
  /* Make the directories (reusing an empty one) and fill cg's paths; then apply limits. */
  int (*create) (struct cgroup *cg, const struct cg_res *res, berr_t *err);
  /* Fill cg's paths for an existing group; BERR_NOT_FOUND if it is not there. */
  int (*open) (struct cgroup *cg, berr_t *err);
  int (*enter) (struct cgroup *cg, pid_t pid, berr_t *err);
  int (*clone_fd) (struct cgroup *cg);
  int (*update) (struct cgroup *cg, const struct cg_res *res, berr_t *err);
  int (*freeze) (struct cgroup *cg, bool frozen, berr_t *err);
  bool (*is_frozen) (struct cgroup *cg);
  int (*kill_all) (struct cgroup *cg, int sig, berr_t *err);
  int (*pids) (struct cgroup *cg, pid_t **pids, size_t *n, berr_t *err);
  int (*stats) (struct cgroup *cg, struct cgroup_stats *st, berr_t *err);
  bool (*oom_killed) (struct cgroup *cg);
  int (*destroy) (struct cgroup *cg, berr_t *err);
};

extern const struct cgroup_driver cg_driver_v1; /* legacy and hybrid */
extern const struct cgroup_driver cg_driver_v2;
extern const struct cgroup_driver cg_driver_none;

struct cgroup
{
  const struct cgroup_driver *drv;
  const struct cg_layout *lay;
  enum cgroup_mode mode;
  char *name;
  char *rel; /* "<parent>/<name>" */
  char *parent;
  char **paths; /* v1: the group in each hierarchy, parallel to lay->hiers (NULL where absent) */
  char *upath;  /* v2: the group; hybrid: the unified tracking group (NULL if not made) */
  int dirfd;    /* v2: O_PATH|O_DIRECTORY of upath, or -1 */
};

/* Write a string to dir/file (no newline added).  The error names the file. */
int cg_write (const char *dir, const char *file, const char *val, berr_t *err);
int cg_writef (const char *dir, const char *file, berr_t *err, const char *fmt, ...)
    PRINTF_LIKE (4, 5);
/* Read dir/file whole (small files only); *out is NUL-terminated, trailing newline kept. */
int cg_read (const char *dir, const char *file, char **out, berr_t *err);
/* First number of dir/file ("max" reads as UINT64_MAX). */
int cg_read_u64 (const char *dir, const char *file, uint64_t *v, berr_t *err);
/* Value of `key N` in a flat keyed file (memory.stat, cpu.stat, memory.events); -1 if absent. */
int cg_read_key (const char *dir, const char *file, const char *key, uint64_t *v);
bool cg_file_exists (const char *dir, const char *file);
/* Pids listed in dir/cgroup.procs. */
int cg_read_procs (const char *dir, pid_t **pids, size_t *n, berr_t *err);
/* mkdir; EEXIST is fine when the existing group has no process (reuse), BERR_CONFLICT otherwise.
 * *created says whether this call made it. */
int cg_mkdir_group (const char *path, bool *created, berr_t *err);
/* rmdir, retrying EBUSY briefly; ENOENT is success. */
int cg_rmdir (const char *path, berr_t *err);
/* Signal every pid in dir/cgroup.procs until it is empty (bounded). */
int cg_kill_loop (const char *dir, int sig, berr_t *err);
void cg_sleep_ms (unsigned ms);

/* v2 device rules as an eBPF program attached to the group (cgroup_bpf.c). */
int cg_bpf_set_devices (const char *path, const struct cg_dev_rule *rules, size_t n, berr_t *err);

#endif
