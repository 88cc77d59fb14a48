/* lifecycle.c — signals, stop, wait, pause, and the cleanup after a container's process exits
 * (exit status, OOM, resources, --rm, restart policy). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "container/container.h"
#include "container/internal.h"
#include "net/attach.h"
#include "runtime/runtime.h"
#include "util/fs.h"
#include "util/json.h"
#include "util/log.h"
#include "util/signals.h"
#include "util/units.h"
#include "volume/volume.h"

int container_open_cgroup (struct engine *e, const char *id, struct cgroup **cg, berr_t *err)
{
  struct cgroup_opts co = { .mount_root = e->cgroup_root, .parent = e->cgroup_parent };
  return cgroup_open (&co, id, cg, err);
}

int read_exit_file (struct engine *e, const char *id, struct monitor_result *res)
{
  cleanup_free char *path = xasprintf ("%s/%s/exit", e->runroot, id);
  const char *env = getenv ("BERTH_EXIT_FILE");
  cleanup_free char *data = NULL;
  size_t len = 0;
  berr_t e2 = BERR_INIT;
  if (fs_read_file (env && env[0] ? env : path, 1 << 16, &data, &len, &e2) < 0)
    {
      berr_release (&e2);
      return -1;
    }
  cleanup_json json_t *j = json_loadb (data, len, 0, NULL);
  if (!json_is_object (j) || !json_is_integer (json_object_get (j, "ExitCode")))
    return -1;
  res->exit_code = (int)json_integer_value (json_object_get (j, "ExitCode"));
  res->signal = (int)json_integer_value (json_object_get (j, "Signal"));
  res->finished_ns = now_ns ();
  const char *fin = json_get_str (j, "FinishedAt");
  int64_t ns;
  if (fin && units_parse_rfc3339 (fin, &ns, &e2) == 0)
    res->finished_ns = ns;
  berr_release (&e2);
  return 0;
}

static bool proc_matches (const json_t *state)
{
  pid_t pid = (pid_t)json_integer_value (json_object_get (state, "Pid"));
  uint64_t st = (uint64_t)json_integer_value (json_object_get (state, "StartTime"));
  return pid > 0 && rt_proc_start_time (pid) == st && st != 0;
}

int container_kill (struct engine *e, struct container_rec *c, int sig, berr_t *err)
{
  if (!container_is_running (c) || !proc_matches (c->state))
    return berr_setk (err, BERR_CONFLICT, 0,
                      "cannot kill container: %s: container %s is not running", c->name, c->id);
  pid_t pid = (pid_t)json_integer_value (json_object_get (c->state, "Pid"));
  if (sig == SIGKILL)
    {
      /* Everything in the container, including processes exec'ed into it. */
      struct cgroup *cg = NULL;
      berr_t e2 = BERR_INIT;
      if (container_open_cgroup (e, c->id, &cg, &e2) == 0)
        {
          if (cgroup_kill_all (cg, SIGKILL, &e2) < 0)
            berr_release (&e2);
          cgroup_free (cg);
        }
      berr_release (&e2);
    }
  else if (json_is_true (json_object_get (c->state, "Paused")))
    log_debug ("signal %d to a paused container waits until it is unpaused", sig);
  if (kill (pid, sig) < 0 && errno != ESRCH)
    return berr_set (err, errno, "kill container %s", c->name);
  return 0;
}

static int mark_stopped_by_user (json_t *state, void *arg, berr_t *err)
{
  (void)arg;
  (void)err;
  json_object_set_new (state, "StoppedByUser", json_true ());
  return 0;
}

int container_stop (struct engine *e, struct container_rec *c, int stop_sig, int timeout,
                    berr_t *err)
{
  if (!container_is_running (c))
    return 0; /* Docker: stopping a stopped container succeeds */
  if (store_container_update (e->store, c->id, mark_stopped_by_user, NULL, err) < 0)
    return -1;
  json_t *config = json_object_get (c->config, "Config");
  if (timeout < 0)
    {
      json_t *t = json_object_get (config, "StopTimeout");
      timeout = json_is_integer (t) ? (int)json_integer_value (t) : 10;
    }
  int sig = stop_sig > 0 ? stop_sig : SIGTERM;
  const char *ss = json_get_str (config, "StopSignal");
  if (stop_sig <= 0 && ss && ss[0])
    {
      int parsed = signal_parse (ss);
      if (parsed > 0)
        sig = parsed;
    }
  if (json_is_true (json_object_get (c->state, "Paused")))
    {
      /* A frozen process cannot act on the signal: thaw first (Docker does the same). */
      if (container_pause (e, c, false, err) < 0)
        berr_release (err);
    }
  berr_t e2 = BERR_INIT;
  if (timeout != 0 && container_kill (e, c, sig, &e2) < 0)
    berr_release (&e2);
  int code;
  if (timeout != 0)
    {
      int r = container_wait_timeout (e, c->id, timeout < 0 ? -1 : timeout * 1000, &code, err);
      if (r == 0)
        return 0;
      if (r < 0)
        return -1;
    }
  if (container_kill (e, c, SIGKILL, &e2) < 0)
    berr_release (&e2);
  return container_wait (e, c->id, "not-running", &code, err);
}

/* Wait for a process we are not the parent of: a pidfd polls readable when it exits. */
static int wait_pid_gone (pid_t pid, uint64_t start_time, int timeout_ms)
{
  int pfd = (int)syscall (SYS_pidfd_open, pid, 0);
  if (pfd < 0)
    return 0; /* gone already */
  cleanup_close int fd = pfd;
  if (rt_proc_start_time (pid) != start_time)
    return 0;
  struct pollfd p = { .fd = fd, .events = POLLIN };
  int r;
  do
    r = poll (&p, 1, timeout_ms);
  while (r < 0 && errno == EINTR);
  return r == 0 ? 1 : 0;
}

/* 0: not running (code set); 1: timed out; -1: error. timeout_ms -1 = forever. */
int container_wait_timeout (struct engine *e, const char *id, int timeout_ms, int *code,
                            berr_t *err)
{
  int64_t deadline = timeout_ms < 0 ? INT64_MAX : now_ns () + (int64_t)timeout_ms * 1000000;
  for (;;)
    {
      struct container_rec *c = NULL;
      if (container_get (e, id, &c, err) < 0)
        return -1;
      cleanup_container_rec struct container_rec *cc = c;
      bool restarting = json_is_true (json_object_get (c->state, "Restarting"));
      if (!container_is_running (c) && !restarting)
        {
          *code = (int)json_integer_value (json_object_get (c->state, "ExitCode"));
          return 0;
        }
      int64_t left = deadline == INT64_MAX ? -1 : (deadline - now_ns ()) / 1000000;
      if (deadline != INT64_MAX && left <= 0)
        return 1;
      pid_t m = (pid_t)json_integer_value (json_object_get (c->state, "MonitorPid"));
      uint64_t ms = (uint64_t)json_integer_value (json_object_get (c->state, "MonitorStartTime"));
      if (restarting || m <= 0)
        {
          struct timespec ts = { 0, 20 * 1000000 };
          nanosleep (&ts, NULL);
          continue;
        }
      int w = wait_pid_gone (m, ms, left > INT32_MAX ? INT32_MAX : (int)left);
      if (w == 1)
        return 1;
    }
}

int container_wait (struct engine *e, const char *id, const char *condition, int *code, berr_t *err)
{
  if (condition && strcmp (condition, "removed") == 0)
    {
      int r = container_wait_timeout (e, id, -1, code, err);
      if (r < 0)
        return -1;
      /* Until the row is gone (--rm, or a later rm). */
      for (;;)
        {
          struct container_rec *c = NULL;
          if (store_container_lookup (e->store, id, &c, err) < 0)
            {
              if (err->kind == BERR_NOT_FOUND)
                {
                  berr_release (err);
                  return 0;
                }
              return -1;
            }
          container_rec_free (c);
          struct timespec ts = { 0, 50 * 1000000 };
          nanosleep (&ts, NULL);
        }
    }
  if (condition && strcmp (condition, "next-exit") == 0)
    {
      struct container_rec *c = NULL;
      if (container_get (e, id, &c, err) < 0)
        return -1;
      cleanup_container_rec struct container_rec *cc = c;
      if (container_is_running (c))
        {
          pid_t m = (pid_t)json_integer_value (json_object_get (c->state, "MonitorPid"));
          uint64_t ms
              = (uint64_t)json_integer_value (json_object_get (c->state, "MonitorStartTime"));
          wait_pid_gone (m, ms, -1);
        }
      else
        {
          /* Wait for a start, then its exit. */
          for (;;)
            {
              struct container_rec *n = NULL;
              if (container_get (e, id, &n, err) < 0)
                return -1;
              bool run = container_is_running (n);
              container_rec_free (n);
              if (run)
                break;
              struct timespec ts = { 0, 50 * 1000000 };
              nanosleep (&ts, NULL);
            }
        }
    }
  return container_wait_timeout (e, id, -1, code, err) < 0 ? -1 : 0;
}

static int set_paused (json_t *state, void *arg, berr_t *err)
{
  bool pause = *(bool *)arg;
  if (!json_is_true (json_object_get (state, "Running")))
    return berr_setk (err, BERR_CONFLICT, 0, "container is not running");
  json_object_set_new (state, "Paused", json_boolean (pause));
  json_object_set_new (state, "Status", json_string (pause ? "paused" : "running"));
  return 0;
}

int container_pause (struct engine *e, struct container_rec *c, bool pause, berr_t *err)
{
  if (!container_is_running (c))
    return berr_setk (err, BERR_CONFLICT, 0, "Container %s is not running", c->id);
  bool paused = json_is_true (json_object_get (c->state, "Paused"));
  if (pause && paused)
    return berr_setk (err, BERR_CONFLICT, 0, "Container %s is already paused", c->id);
  if (!pause && !paused)
    return berr_setk (err, BERR_CONFLICT, 0, "Container %s is not paused", c->id);
  struct cgroup *cg = NULL;
  if (container_open_cgroup (e, c->id, &cg, err) < 0)
    return -1;
  int r = cgroup_freeze (cg, pause, err);
  cgroup_free (cg);
  if (r < 0)
    return -1;
  if (store_container_update (e->store, c->id, set_paused, &pause, err) < 0)
    return -1;
  json_object_set_new (c->state, "Paused", json_boolean (pause));
  json_object_set_new (c->state, "Status", json_string (pause ? "paused" : "running"));
  return 0;
}

/* ---------- after the exit ---------- */

static bool should_restart (const struct container_rec *c, int exit_code, int64_t ran_ns)
{
  json_t *rp = json_object_get (json_object_get (c->config, "HostConfig"), "RestartPolicy");
  const char *name = json_get_str (rp, "Name");
  if (name == NULL || name[0] == '\0' || strcmp (name, "no") == 0)
    return false;
  if (json_is_true (json_object_get (c->state, "StoppedByUser")))
    return false;
  (void)ran_ns;
  if (strcmp (name, "always") == 0 || strcmp (name, "unless-stopped") == 0)
    return true;
  if (strcmp (name, "on-failure") == 0)
    {
      json_int_t max = json_integer_value (json_object_get (rp, "MaximumRetryCount"));
      json_int_t count = json_integer_value (json_object_get (c->state, "RestartCount"));
      return exit_code != 0 && (max <= 0 || count < max);
    }
  return false;
}

/* The built-in runtime has no delete step: the spec's poststop hooks run here, once the
 * container is gone (runc and crun run them themselves when their `run` ends).  A failing one
 * is a warning, as the runtime-spec asks. */
static void run_poststop_hooks (struct engine *e, struct container_rec *c)
{
  const char *rt = json_get_str (json_object_get (c->config, "HostConfig"), "Runtime");
  if (rt && rt[0] && strcmp (rt, "berth") != 0)
    return;
  cleanup_free char *dir = container_dir (e, c->id);
  cleanup_free char *path = xasprintf ("%s/config.json", dir);
  json_error_t je;
  cleanup_json json_t *spec = json_load_file (path, 0, &je);
  if (spec == NULL || json_object_get (json_object_get (spec, "hooks"), "poststop") == NULL)
    return;
  berr_t e2 = BERR_INIT;
  if (rt_run_poststop_hooks (spec, c->id, dir, &e2) < 0)
    log_warn ("container %.12s: %s", c->id, e2.msg);
  berr_release (&e2);
}

int cleanup_locked (struct engine *e, struct container_rec *c, const struct monitor_result *res,
                    bool allow_restart, berr_t *err)
{
  berr_t e2 = BERR_INIT;
  bool oom = false;
  struct cgroup *cg = NULL;
  if (container_open_cgroup (e, c->id, &cg, &e2) == 0)
    {
      oom = cgroup_oom_killed (cg);
      /* Daemons the container left behind die with it: destroying the group kills what is
       * left in it first. */
      if (cgroup_destroy (cg, &e2) < 0)
        {
          log_warn ("container %.12s: %s", c->id, e2.msg);
          berr_release (&e2);
        }
      cgroup_free (cg);
    }
  berr_release (&e2);
  if (net_container_release (e, c, &e2) < 0)
    {
      log_warn ("container %.12s: %s", c->id, e2.msg);
      berr_release (&e2);
    }
  if (container_unmount_rootfs (e, c->id, &e2) < 0)
    {
      log_warn ("container %.12s: %s", c->id, e2.msg);
      berr_release (&e2);
    }
  run_poststop_hooks (e, c);
  cleanup_free char *run = container_run_dir (e, c->id);
  if (fs_rm_rf (run, &e2) < 0)
    berr_release (&e2);

  char fin[64];
  units_rfc3339_nano (res->finished_ns ? res->finished_ns : now_ns (), fin, sizeof fin);
  json_t *s = c->state;
  int64_t started = 0;
  const char *sa = json_get_str (s, "StartedAt");
  if (sa && units_parse_rfc3339 (sa, &started, &e2) < 0)
    berr_release (&e2);
  json_object_set_new (s, "Status", json_string ("exited"));
  json_object_set_new (s, "Running", json_false ());
  json_object_set_new (s, "Paused", json_false ());
  json_object_set_new (s, "Restarting", json_false ());
  json_object_set_new (s, "OOMKilled", json_boolean (oom));
  json_object_set_new (s, "Pid", json_integer (0));
  json_object_set_new (s, "ExitCode", json_integer (res->exit_code));
  json_object_set_new (s, "FinishedAt", json_string (fin));
  json_object_del (s, "StartTime");
  if (json_object_get (s, "Health"))
    json_object_set_new (json_object_get (s, "Health"), "Status", json_string ("unhealthy"));

  bool auto_remove
      = json_is_true (json_object_get (json_object_get (c->config, "HostConfig"), "AutoRemove"));
  bool restart
      = allow_restart && !auto_remove && should_restart (c, res->exit_code, now_ns () - started);
  if (restart)
    {
      json_int_t count = json_integer_value (json_object_get (s, "RestartCount"));
      json_object_set_new (s, "RestartCount", json_integer (count + 1));
      json_object_set_new (s, "Status", json_string ("restarting"));
      json_object_set_new (s, "Restarting", json_true ());
      json_object_set_new (s, "Running", json_true ());
      /* This process (the old monitor, now the exit command) restarts it: it stays the
       * container's monitor until then, so nobody reconciles it away meanwhile. */
    }
  else
    {
      json_object_del (s, "MonitorPid");
      json_object_del (s, "MonitorStartTime");
    }
  log_debug ("cleanup %.12s: resources released", c->id);
  if (auto_remove)
    return container_remove_locked (e, c, true, err); /* no need to record what goes */
  if (store_container_save (e->store, c->id, NULL, s, err) < 0)
    return -1;
  log_debug ("cleanup %.12s: exit recorded", c->id);
  return restart ? 1 : 0;
}

int container_cleanup (struct engine *e, const char *id, const struct monitor_result *res,
                       berr_t *err)
{
  int lock = container_lock (e, id, err);
  if (lock < 0)
    return -1;
  struct container_rec *c = NULL;
  if (store_container_lookup (e->store, id, &c, err) < 0)
    {
      close (lock);
      return -1;
    }
  cleanup_container_rec struct container_rec *cc = c;
  struct monitor_result r = { .exit_code = 255, .finished_ns = now_ns () };
  if (res)
    r = *res;
  else if (read_exit_file (e, id, &r) < 0)
    r.exit_code = 255;
  int ret = cleanup_locked (e, c, &r, true, err);
  close (lock);
  if (ret != 1)
    return ret;
  /* Restart policy: Docker's back-off starts at 100 ms and doubles. */
  json_int_t count = json_integer_value (json_object_get (c->state, "RestartCount"));
  int64_t delay_ms = 100;
  for (json_int_t i = 1; i < count && delay_ms < 60000; i++)
    delay_ms *= 2;
  struct timespec ts = { delay_ms / 1000, (delay_ms % 1000) * 1000000 };
  nanosleep (&ts, NULL);
  struct container_rec *again = NULL;
  if (store_container_lookup (e->store, id, &again, err) < 0)
    return -1;
  cleanup_container_rec struct container_rec *a = again;
  if (!json_is_true (json_object_get (a->state, "Restarting")))
    return 0; /* stopped or removed meanwhile */
  json_object_set_new (a->state, "Running", json_false ());
  struct start_opts so = { .foreground = false };
  struct monitor_result mr;
  return container_start (e, a, &so, &mr, err) < 0 ? -1 : 0;
}

/* HostConfig resources -> OCI linux.resources, for the fields docker update changes. */
static json_t *update_resources (const json_t *hc)
{
  json_t *r = json_object ();
  json_t *mem = json_object (), *cpu = json_object ();
  json_int_t memory = json_integer_value (json_object_get (hc, "Memory"));
  json_int_t swap = json_integer_value (json_object_get (hc, "MemorySwap"));
  json_int_t resv = json_integer_value (json_object_get (hc, "MemoryReservation"));
  if (memory > 0)
    json_object_set_new (mem, "limit", json_integer (memory));
  if (swap != 0)
    json_object_set_new (mem, "swap", json_integer (swap));
  else if (memory > 0)
    json_object_set_new (mem, "swap", json_integer (memory * 2));
  if (resv > 0)
    json_object_set_new (mem, "reservation", json_integer (resv));
  json_int_t nano = json_integer_value (json_object_get (hc, "NanoCpus"));
  json_int_t shares = json_integer_value (json_object_get (hc, "CpuShares"));
  json_int_t period = json_integer_value (json_object_get (hc, "CpuPeriod"));
  json_int_t quota = json_integer_value (json_object_get (hc, "CpuQuota"));
  if (nano > 0)
    {
      period = 100000;
      quota = nano * period / 1000000000;
    }
  if (shares > 0)
    json_object_set_new (cpu, "shares", json_integer (shares));
  if (period > 0)
    json_object_set_new (cpu, "period", json_integer (period));
  if (quota != 0)
    json_object_set_new (cpu, "quota", json_integer (quota));
  const char *cpus = json_get_str ((json_t *)hc, "CpusetCpus");
  const char *mems = json_get_str ((json_t *)hc, "CpusetMems");
  if (cpus && cpus[0])
    json_object_set_new (cpu, "cpus", json_string (cpus));
  if (mems && mems[0])
    json_object_set_new (cpu, "mems", json_string (mems));
  json_object_set_new (r, "memory", mem);
  json_object_set_new (r, "cpu", cpu);
  json_t *pl = json_object_get (hc, "PidsLimit");
  if (json_is_integer (pl))
    json_object_set_new (
        r, "pids",
        json_pack ("{s:I}", "limit",
                   json_integer_value (pl) > 0 ? json_integer_value (pl) : (json_int_t)-1));
  return r;
}

int container_update (struct engine *e, struct container_rec *c, const json_t *update, berr_t *err)
{
  int lock = container_lock (e, c->id, err);
  if (lock < 0)
    return -1;
  cleanup_close int lockfd = lock;
  json_t *hc = json_object_get (c->config, "HostConfig");
  json_t *rp = json_object_get (update, "RestartPolicy");
  if (rp && json_is_true (json_object_get (hc, "AutoRemove"))
      && strcmp (json_get_str (rp, "Name"), "no") != 0)
    return berr_setk (err, BERR_INVALID, 0,
                      "Restart policy cannot be updated because AutoRemove is enabled for the "
                      "container");
  json_object_update (hc, (json_t *)update);
  json_int_t memory = json_integer_value (json_object_get (hc, "Memory"));
  json_int_t swap = json_integer_value (json_object_get (hc, "MemorySwap"));
  if (memory > 0 && swap > 0 && swap < memory)
    return berr_setk (err, BERR_INVALID, 0,
                      "Minimum memoryswap limit should be larger than memory limit, see usage");
  if (json_object_get (update, "NanoCpus")
      && (json_integer_value (json_object_get (hc, "CpuQuota")) > 0
          || json_integer_value (json_object_get (hc, "CpuPeriod")) > 0))
    return berr_setk (err, BERR_INVALID, 0,
                      "Conflicting options: Nano CPUs and CPU Period cannot both be set");
  if (container_is_running (c))
    {
      cleanup_json json_t *res = update_resources (hc);
      struct cgroup *cg = NULL;
      if (container_open_cgroup (e, c->id, &cg, err) < 0)
        return -1;
      int r = cgroup_update (cg, res, err);
      cgroup_free (cg);
      if (r < 0)
        return -1;
    }
  return store_container_save (e->store, c->id, c->config, c->state, err);
}
