/* container.h — a container's life: create (a store row and a directory), start (rootfs overlay,
 * resolved mounts, OCI spec, cgroup, the runtime, a monitor), stop/kill, the cleanup after exit
 * (exit status, OOM, --rm, restart policy), removal, and reconciliation after crashes.
 *
 * Files:  $root/containers/<id>/  config.json (OCI spec), hostname, hosts, resolv.conf,
 *                                  <id>-json.log, upper/, work/, merged/ (the rootfs mount)
 *         $runroot/<id>/           attach (socket), exit (JSON from the monitor), lock
 * Every state change happens under the container's lock (flock on $root/containers/<id>/lock),
 * so stop racing rm racing the monitor's cleanup is safe. */
#ifndef BERTH_CONTAINER_H
#define BERTH_CONTAINER_H

#include <jansson.h>
#include <stdbool.h>

#include "monitor/monitor.h"
#include "runtime/runtime.h"
#include "store/store.h"
#include "util/err.h"

/* What the engine needs to know beyond the store: berth's own binary paths and settings. */
struct engine
{
  struct store *store;
  const char *root, *runroot;
  const char *config_path;   /* berth's config file, passed on to the monitor's exit command */
  const char *self_exe;      /* berth binary (for the monitor's exit command) */
  const char *monitor_exe;   /* berth-monitor */
  const char *init_exe;      /* for --init (docker-init / tini), or NULL when none found */
  const char *cgroup_root;   /* NULL: /sys/fs/cgroup */
  const char *cgroup_parent; /* NULL: "berth" */
  /* Networking (config keys of the same names; defaults in ctx_engine): the default bridge
   * network's Linux bridge and subnet, the pool user networks' subnets are cut from (in
   * /network-pool-prefix pieces), and berth's nftables table.  Different roots on one host
   * need different values. */
  const char *bridge_name;   /* "berth0" */
  const char *bridge_subnet; /* "10.210.0.0/16" */
  const char *network_pool;  /* "10.211.0.0/16" */
  int network_pool_prefix;   /* 24 */
  const char *nft_table;     /* "berth" */
  /* GPUs (config keys "cdi-spec-dirs", an array, and "nvidia-driver-root"): where CDI specs
   * are read (NULL: /etc/cdi, /var/run/cdi) and the root of the host's NVIDIA driver for
   * --gpus without a spec (NULL: "/"). */
  char **cdi_spec_dirs;
  const char *nvidia_driver_root;
};

/* Create a container from an Engine-API create body {"Name","Config","HostConfig",…}.
 * Returns the new record. */
int container_create (struct engine *e, json_t *body, struct container_rec **out, berr_t *err);

/* Look a container up (id, name, prefix) and reconcile its state first. */
int container_get (struct engine *e, const char *name, struct container_rec **out, berr_t *err);
/* All containers, reconciled. */
int container_list (struct engine *e, struct container_rec ***out, size_t *n, berr_t *err);

/* How start connects stdio. */
struct start_opts
{
  bool foreground; /* the caller becomes the monitor (run without -d) */
  /* foreground only: */
  int local_in, local_out, local_err;
  bool local_tty;
  const char *detach_keys;
  bool sig_proxy;
  bool cancel_on_signal; /* with sig_proxy: SIGINT/SIGTERM kill the container (a build step) */
  bool attach_stdin, attach_stdout, attach_stderr;
};

/* Start a created or exited container. Foreground: returns when it exits (or the user detaches)
 * with *res filled; cleanup (and --rm) is done. Detached: returns once the process runs under
 * its monitor. */
int container_start (struct engine *e, struct container_rec *c, const struct start_opts *o,
                     struct monitor_result *res, berr_t *err);

/* Send a signal to the container's init (kill; stop uses it). */
int container_kill (struct engine *e, struct container_rec *c, int sig, berr_t *err);
/* Docker's stop: sig (0: the container's StopSignal, or SIGTERM), wait timeout seconds (-1: the
 * container's StopTimeout or 10), then SIGKILL; waits until the container has exited. */
int container_stop (struct engine *e, struct container_rec *c, int sig, int timeout, berr_t *err);
/* Wait until the container is not running; *code = its exit code. condition: "not-running"
 * (default), "next-exit", "removed". */
int container_wait (struct engine *e, const char *id, const char *condition, int *code,
                    berr_t *err);
/* 0: not running (*code set); 1: timed out; -1: error. timeout_ms -1 = forever. */
int container_wait_timeout (struct engine *e, const char *id, int timeout_ms, int *code,
                            berr_t *err);
/* Remove: force kills a running one; volumes removes its anonymous volumes. */
int container_remove (struct engine *e, struct container_rec *c, bool force, bool volumes,
                      berr_t *err);
/* After the process exited (called by the monitor's exit command, or by foreground run):
 * record the exit (from the exit file or *res), OOM, unmount, destroy the cgroup, apply --rm and
 * the restart policy. */
int container_cleanup (struct engine *e, const char *id, const struct monitor_result *res,
                       berr_t *err);
/* docker update: change HostConfig resource fields (Memory, MemorySwap, MemoryReservation,
 * NanoCpus, CpuShares, CpuPeriod, CpuQuota, CpusetCpus, CpusetMems, PidsLimit, RestartPolicy)
 * and apply them to a running container's cgroup. */
int container_update (struct engine *e, struct container_rec *c, const json_t *update, berr_t *err);
int container_pause (struct engine *e, struct container_rec *c, bool pause, berr_t *err);

/* Docker's inspect JSON for a container. */
json_t *container_inspect_json (struct engine *e, const struct container_rec *c);

/* Random "adjective_surname" like Docker's generator. */
char *container_random_name (void);

/* Helpers for commands. */
char *container_dir (struct engine *e, const char *id);
char *container_run_dir (struct engine *e, const char *id);
const char *container_status (const struct container_rec *c); /* "running", "exited", … */
bool container_is_running (const struct container_rec *c);
int container_open_cgroup (struct engine *e, const char *id, struct cgroup **cg, berr_t *err);
/* Mount the container's rootfs (overlay) at merged/ if it is not mounted; returns its path. */
int container_mount_rootfs (struct engine *e, struct container_rec *c, char **path, berr_t *err);
int container_unmount_rootfs (struct engine *e, const char *id, berr_t *err);
/* Mount an overlay at target: lowers topmost first; upper NULL makes it read-only (then at least
 * two lowers are needed). */
int container_overlay_mount (char **lowers, const char *upper, const char *work, const char *target,
                             berr_t *err);

#endif
