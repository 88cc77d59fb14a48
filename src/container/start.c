/* start.c — starting a container: rootfs, spec, cgroup, the runtime, and its monitor.
 *
 * Foreground (run without -d): this process is the monitor — no extra process, no re-exec.
 * Detached: this process forks M; M spawns the container (so the container is M's child),
 * reports the pid, waits until the state is recorded, then execs the small berth-monitor,
 * which holds the stdio, writes the log, serves attach and finally execs
 * `berth container-cleanup <id>`. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "container/container.h"
#include "container/internal.h"
#include "gpu/gpus.h"
#include "container/spec.h"
#include "monitor/logfile.h"
#include "net/attach.h"
#include "runtime/runtime.h"
#include "util/fs.h"
#include "util/json.h"
#include "util/log.h"
#include "util/units.h"
#include "volume/volume.h"

int container_write_etc (struct engine *e, struct container_rec *c, berr_t *err);
int container_mount_shm (struct engine *e, struct container_rec *c, char **path, berr_t *err);

/* The /dev/shm to bind for --ipc shareable (our own, mounted on the host side) or
 * --ipc container:X (X's, which must be shareable and running). NULL otherwise. */
static int shm_for (struct engine *e, struct container_rec *c, const char *ipc, char **out,
                    berr_t *err)
{
  *out = NULL;
  if (ipc && strcmp (ipc, "shareable") == 0)
    return container_mount_shm (e, c, out, err);
  if (ipc == NULL || !str_has_prefix (ipc, "container:"))
    return 0;
  struct container_rec *other = NULL;
  if (container_get (e, ipc + strlen ("container:"), &other, err) < 0)
    return -1;
  cleanup_container_rec struct container_rec *o = other;
  const char *oipc = json_get_str (json_object_get (o->config, "HostConfig"), "IpcMode");
  if (!container_is_running (o))
    return berr_setk (err, BERR_CONFLICT, 0, "cannot join IPC of a non running container: %s",
                      o->name);
  if (oipc == NULL || strcmp (oipc, "shareable") != 0)
    return berr_setk (err, BERR_INVALID, 0,
                      "non-shareable IPC (hint: use IpcMode:shareable for the donor container)");
  cleanup_free char *odir = container_dir (e, o->id);
  *out = xasprintf ("%s/shm", odir);
  return 0;
}

/* Everything a start prepares, released on failure. */
struct prepared
{
  char *rootfs;
  json_t *spec;
  struct cgroup *cg;
  int in[2], out[2], errp[2]; /* pipes: [0] read, [1] write */
  bool tty, open_stdin;
  struct net_plan net;
  char *bundle; /* the container's directory, holding config.json: for OCI hooks' state */
};

static void close_pair (int p[2])
{
  for (int i = 0; i < 2; i++)
    if (p[i] >= 0)
      {
        close (p[i]);
        p[i] = -1;
      }
}

static void prepared_release (struct engine *e, struct container_rec *c, struct prepared *p,
                              bool undo)
{
  close_pair (p->in);
  close_pair (p->out);
  close_pair (p->errp);
  berr_t e2 = BERR_INIT;
  if (p->cg)
    {
      if (undo && cgroup_destroy (p->cg, &e2) < 0)
        berr_release (&e2);
      cgroup_free (p->cg);
      p->cg = NULL;
    }
  if (undo && p->rootfs && container_unmount_rootfs (e, c->id, &e2) < 0)
    berr_release (&e2);
  if (undo)
    net_plan_abort (e, c, &p->net);
  net_plan_free (&p->net);
  free (p->rootfs);
  p->rootfs = NULL;
  free (p->bundle);
  p->bundle = NULL;
  json_decref (p->spec);
  p->spec = NULL;
}

static char *ns_path_of (struct engine *e, const char *mode, const char *type, berr_t *err,
                         bool *failed)
{
  if (mode == NULL || !str_has_prefix (mode, "container:"))
    return NULL;
  struct container_rec *other = NULL;
  if (container_get (e, mode + strlen ("container:"), &other, err) < 0)
    {
      *failed = true;
      return NULL;
    }
  cleanup_container_rec struct container_rec *o = other;
  if (!container_is_running (o))
    {
      *failed = true;
      berr_setk (err, BERR_CONFLICT, 0, "cannot join namespace of a non running container: %s",
                 o->name);
      return NULL;
    }
  return xasprintf ("/proc/%lld/ns/%s",
                    (long long)json_integer_value (json_object_get (o->state, "Pid")), type);
}

static const char *external_runtime (const struct container_rec *c);

static int prepare (struct engine *e, struct container_rec *c, struct prepared *p, berr_t *err)
{
  json_t *config = json_object_get (c->config, "Config");
  json_t *hc = json_object_get (c->config, "HostConfig");
  p->tty = json_is_true (json_object_get (config, "Tty"));
  p->open_stdin = json_is_true (json_object_get (config, "OpenStdin"));

  log_debug ("start %.12s: prepare", c->id);
  /* Networks first: a published port in use or an unknown network fails before anything is
   * mounted. */
  if (net_plan_prepare (e, c, &p->net, err) < 0)
    return -1;
  log_debug ("start %.12s: network planned", c->id);
  if (container_mount_rootfs (e, c, &p->rootfs, err) < 0)
    return -1;
  log_debug ("start %.12s: rootfs mounted", c->id);
  if (container_write_etc (e, c, err) < 0)
    return -1;
  json_t *mounts = json_object_get (c->config, "Mounts");
  if (volume_copy_up (e->store, p->rootfs, mounts, err) < 0)
    return -1;

  cleanup_free char *dir = container_dir (e, c->id);
  free (p->bundle);
  p->bundle = xstrdup (dir);
  cleanup_free char *hostname_p = xasprintf ("%s/hostname", dir);
  cleanup_free char *hosts_p = xasprintf ("%s/hosts", dir);
  cleanup_free char *resolv_p = xasprintf ("%s/resolv.conf", dir);
  cleanup_free char *cgpath
      = xasprintf ("%s/%s", e->cgroup_parent ? e->cgroup_parent : "berth", c->id);
  bool failed = false;
  cleanup_free char *ipc_ns = ns_path_of (e, json_get_str (hc, "IpcMode"), "ipc", err, &failed);
  cleanup_free char *pid_ns
      = failed ? NULL : ns_path_of (e, json_get_str (hc, "PidMode"), "pid", err, &failed);
  cleanup_free char *net_ns
      = failed ? NULL : ns_path_of (e, json_get_str (hc, "NetworkMode"), "net", err, &failed);
  if (failed)
    return -1;
  cleanup_free char *shm_path = NULL;
  if (shm_for (e, c, json_get_str (hc, "IpcMode"), &shm_path, err) < 0)
    return -1;
  struct spec_input in = {
    .id = c->id,
    .config = config,
    .host_config = hc,
    .rootfs = p->rootfs,
    .mounts = mounts,
    .hostname_path = hostname_p,
    .hosts_path = hosts_p,
    .resolv_path = resolv_p,
    .ipc_ns_path = ipc_ns,
    .pid_ns_path = pid_ns,
    .net_ns_path = net_ns,
    .init_path = e->init_exe,
    .cgroup_path = cgpath,
    .shm_path = shm_path,
  };
  if (spec_build (&in, &p->spec, err) < 0)
    return -1;
  {
    /* --gpus, --device vendor/class=name: CDI edits on the spec */
    const char *r = e->nvidia_driver_root ? e->nvidia_driver_root : "/";
    bool slash = r[strlen (r) - 1] == '/';
    cleanup_free char *dev = xasprintf ("%s%sdev", r, slash ? "" : "/");
    cleanup_free char *ldc = xasprintf ("%s%setc/ld.so.cache", r, slash ? "" : "/");
    cleanup_free char *proc = xasprintf ("%s%sproc/driver/nvidia", r, slash ? "" : "/");
    struct gpu_host host = { dev, ldc, r, proc };
    if (gpu_apply_device_requests (hc, p->spec, e->cdi_spec_dirs, &host, err) < 0)
      return -1;
  }
  if (external_runtime (c) && net_plan_add_hook (e, c, &p->net, p->spec) < 0)
    return -1;
  log_debug ("start %.12s: spec built", c->id);
  cleanup_free char *spec_path = xasprintf ("%s/config.json", dir);
  cleanup_free char *spec_text = json_dumps (p->spec, JSON_INDENT (1));
  cleanup_free char *tmp = xasprintf ("%s.tmp", spec_path);
  {
    cleanup_close int fd = open (tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0 || fs_write_all (fd, spec_text, strlen (spec_text)) < 0
        || rename (tmp, spec_path) < 0)
      return berr_set (err, errno, "write %s", spec_path);
  }

  struct cgroup_opts co = { .mount_root = e->cgroup_root, .parent = e->cgroup_parent };
  json_t *resources = json_object_get (json_object_get (p->spec, "linux"), "resources");
  if (cgroup_create (&co, c->id, resources, &p->cg, err) < 0)
    return -1;
  log_debug ("start %.12s: cgroup created", c->id);

  if (!p->tty)
    {
      if (pipe2 (p->out, O_CLOEXEC) < 0 || pipe2 (p->errp, O_CLOEXEC) < 0)
        return berr_set (err, errno, "pipe");
    }
  if (p->open_stdin && !p->tty && pipe2 (p->in, O_CLOEXEC) < 0)
    return berr_set (err, errno, "pipe");
  return 0;
}

static json_t *running_state (struct container_rec *c, const struct rt_proc *proc, pid_t monitor,
                              uint64_t monitor_start)
{
  json_t *s = json_deep_copy (c->state);
  cleanup_free char *now = time_now_rfc3339 ();
  json_object_set_new (s, "Status", json_string ("running"));
  json_object_set_new (s, "Running", json_true ());
  json_object_set_new (s, "Paused", json_false ());
  json_object_set_new (s, "Restarting", json_false ());
  json_object_set_new (s, "OOMKilled", json_false ());
  json_object_set_new (s, "Dead", json_false ());
  json_object_set_new (s, "Pid", json_integer (proc->pid));
  json_object_set_new (s, "ExitCode", json_integer (0));
  json_object_set_new (s, "Error", json_string (""));
  json_object_set_new (s, "StartedAt", json_string (now));
  json_object_set_new (s, "FinishedAt", json_string ("0001-01-01T00:00:00Z"));
  json_object_set_new (s, "StartTime", json_integer ((json_int_t)proc->start_time));
  json_object_set_new (s, "MonitorPid", json_integer (monitor));
  json_object_set_new (s, "MonitorStartTime", json_integer ((json_int_t)monitor_start));
  json_object_set_new (s, "BootId", json_string (boot_id ()));
  json_object_del (s, "StoppedByUser");
  json_object_del (s, "Health");
  json_t *test = json_object_get (
      json_object_get (json_object_get (c->config, "Config"), "Healthcheck"), "Test");
  const char *kind = json_string_value (json_array_get (test, 0));
  if (kind && strcmp (kind, "NONE") != 0)
    json_object_set_new (
        s, "Health",
        json_pack ("{s:s, s:i, s:[]}", "Status", "starting", "FailingStreak", 0, "Log"));
  return s;
}

static int record_start_error (struct engine *e, struct container_rec *c, berr_t *cause)
{
  /* Docker: a failed start leaves the container "created" (or "exited" with ExitCode 127/126
   * and the error in State.Error). */
  json_t *s = json_deep_copy (c->state);
  int code = cause->kind == BERR_EXEC ? (cause->errnum == ENOENT ? 127 : 126) : 128;
  json_object_set_new (s, "Error", json_string (cause->msg ? cause->msg : ""));
  json_object_set_new (s, "ExitCode", json_integer (code));
  if (strcmp (container_status (c), "created") != 0)
    json_object_set_new (s, "Status", json_string ("exited"));
  berr_t e2 = BERR_INIT;
  if (store_container_save (e->store, c->id, NULL, s, &e2) < 0)
    berr_release (&e2);
  json_decref (c->state);
  c->state = s;
  return -1;
}

/* The log file per LogConfig. */
static int open_log (struct engine *e, struct container_rec *c, struct logfile **out, berr_t *err)
{
  json_t *lc = json_object_get (json_object_get (c->config, "HostConfig"), "LogConfig");
  const char *type = json_get_str (lc, "Type");
  *out = NULL;
  if (type && strcmp (type, "none") == 0)
    return 0;
  json_t *lopts = json_object_get (lc, "Config");
  int64_t max_size = 0;
  int max_file = 1;
  const char *ms = json_get_str (lopts, "max-size");
  const char *mf = json_get_str (lopts, "max-file");
  if (ms && units_from_human_size (ms, &max_size, err) < 0)
    return berr_wrap (err, "log-opt max-size");
  if (mf)
    max_file = atoi (mf) > 0 ? atoi (mf) : 1;
  cleanup_free char *dir = container_dir (e, c->id);
  cleanup_free char *path = xasprintf ("%s/%s-json.log", dir, c->id);
  return logfile_open (path, (uint64_t)max_size, max_file, out, err);
}

/* ---------- external OCI runtimes (--runtime crun|runc|PATH) ---------- */

/* The runtime named in HostConfig.Runtime, or NULL for berth's own. */
static const char *external_runtime (const struct container_rec *c)
{
  const char *r = json_get_str (json_object_get (c->config, "HostConfig"), "Runtime");
  if (r == NULL || r[0] == '\0' || strcmp (r, "berth") == 0)
    return NULL;
  return r;
}

/* `<runtime> --root $runroot/runtime run --bundle <container dir> --pid-file … <id>`: the
 * runtime stays in the foreground until the container exits, forwarding signals to it, and exits
 * with its status — so it takes the place the container's init has with the built-in runtime;
 * State.Pid is the container's init from the pid file. */
static int spawn_external (struct engine *e, struct container_rec *c, const char *runtime,
                           struct rt_io *io, struct rt_proc *out, pid_t *init_pid, berr_t *err)
{
  if (json_is_true (json_object_get (json_object_get (c->config, "Config"), "Tty")))
    return berr_setk (err, BERR_INVALID, 0,
                      "--runtime %s: a terminal (-t) is only available with berth's own runtime",
                      runtime);
  cleanup_free char *dir = container_dir (e, c->id);
  cleanup_free char *state = xasprintf ("%s/runtime-state", e->runroot);
  cleanup_free char *pidfile = xasprintf ("%s/%s/init.pid", e->runroot, c->id);
  cleanup_free char *rundir = container_run_dir (e, c->id);
  if (fs_mkdir_p (rundir, 0700, err) < 0 || fs_mkdir_p (state, 0700, err) < 0)
    return -1;
  unlink (pidfile);
  int errp[2];
  if (pipe2 (errp, O_CLOEXEC) < 0)
    return berr_set (err, errno, "pipe");
  fflush (NULL);
  pid_t pid = fork ();
  if (pid < 0)
    {
      close (errp[0]);
      close (errp[1]);
      return berr_set (err, errno, "fork");
    }
  if (pid == 0)
    {
      int devnull = open ("/dev/null", O_RDWR | O_CLOEXEC);
      int fds[3] = { io->stdin_fd, io->stdout_fd, io->stderr_fd };
      for (int i = 0; i < 3; i++)
        dup2 (fds[i] >= 0 ? fds[i] : devnull, i);
      const char *argv[] = { runtime, "--root",     state,   "run", "--bundle",
                             dir,     "--pid-file", pidfile, c->id, NULL };
      execvp (runtime, (char **)argv);
      int errsv = errno;
      (void)!write (errp[1], &errsv, sizeof errsv);
      _exit (127);
    }
  close (errp[1]);
  int child_errno = 0;
  ssize_t n = read (errp[0], &child_errno, sizeof child_errno);
  close (errp[0]);
  if (n == (ssize_t)sizeof child_errno)
    {
      waitpid (pid, NULL, 0);
      return berr_set (err, child_errno, "runtime %s", runtime);
    }
  out->pid = pid;
  out->pidfd = (int)syscall (SYS_pidfd_open, pid, 0);
  out->start_time = rt_proc_start_time (pid);
  /* Until the runtime has started the container (or given up). */
  *init_pid = 0;
  for (int i = 0; i < 2000; i++)
    {
      cleanup_free char *data = NULL;
      size_t len = 0;
      berr_t e2 = BERR_INIT;
      if (fs_read_file (pidfile, 64, &data, &len, &e2) == 0 && len > 0)
        {
          *init_pid = (pid_t)atoi (data);
          break;
        }
      berr_release (&e2);
      if (waitpid (pid, NULL, WNOHANG) == pid)
        {
          if (out->pidfd >= 0)
            close (out->pidfd);
          return berr_set (err, 0, "runtime %s failed to start the container (see its output)",
                           runtime);
        }
      struct timespec ts = { 0, 5 * 1000000 };
      nanosleep (&ts, NULL);
    }
  return 0;
}

/* Published ports on IPv6 host addresses: relayed by the monitor (the kernel cannot NAT them
 * onto the container's IPv4 address). */
static size_t proxy_specs (const struct prepared *p, struct monitor_proxy_spec **out)
{
  *out = NULL;
  /* An internal network publishes nothing (as Docker). */
  if (p->net.kind != NET_KIND_BRIDGE || p->net.neps == 0 || p->net.eps[0].net->internal)
    return 0;
  size_t n = 0;
  for (size_t i = 0; i < p->net.ports.n; i++)
    {
      const struct port_binding *b = &p->net.ports.v[i];
      if (b->fd < 0 || strchr (b->host_ip, ':') == NULL || strcmp (b->proto, "tcp") != 0)
        continue;
      *out = xrealloc (*out, (n + 1) * sizeof **out);
      (*out)[n] = (struct monitor_proxy_spec){
        .listen_fd = b->fd,
        .target = { .sin_family = AF_INET,
                    .sin_port = htons (b->ctr_port),
                    .sin_addr.s_addr = htonl (p->net.eps[0].ip4) },
      };
      n++;
    }
  return n;
}

/* The new network namespace is configured between clone and the payload. */
static void set_prestart (struct rt_spawn_opts *so, struct prepared *p)
{
  so->bundle = p->bundle;
  if (p->net.kind == NET_KIND_NONE || p->net.kind == NET_KIND_BRIDGE)
    {
      so->prestart = net_plan_prestart;
      so->prestart_arg = &p->net;
    }
}

/* The container runs and its state is saved: publish its ports and tell its peers. On failure
 * the container is stopped again and the start fails. */
static int network_started (struct engine *e, struct container_rec *c, struct prepared *p,
                            pid_t kill_pid, berr_t *err)
{
  if (net_plan_started (e, c, &p->net, err) == 0)
    return 0;
  if (kill_pid > 0)
    kill (kill_pid, SIGKILL);
  return -1;
}

/* ---------- foreground ---------- */

static int start_foreground (struct engine *e, struct container_rec *c, struct prepared *p,
                             const struct start_opts *o, int lockfd, struct monitor_result *res,
                             berr_t *err)
{
  struct rt_io io = {
    .stdin_fd = p->in[0],
    .stdout_fd = p->out[1],
    .stderr_fd = p->errp[1],
    .pty_master = -1,
  };
  if (p->tty && o->local_tty && o->local_out >= 0)
    io.has_winsize = ioctl (o->local_out, TIOCGWINSZ, &io.winsize) == 0;
  struct rt_spawn_opts so = { .spec = p->spec, .io = &io, .cg = p->cg, .cache_dir = NULL };
  set_prestart (&so, p);
  so.id = c->id;
  cleanup_free char *cache = xasprintf ("%s/cache", e->root);
  so.cache_dir = cache;
  struct rt_proc proc = { .pid = -1, .pidfd = -1 };
  log_debug ("start %.12s: spawn", c->id);
  const char *ext = external_runtime (c);
  pid_t init_pid = 0;
  if (ext ? spawn_external (e, c, ext, &io, &proc, &init_pid, err) : rt_spawn (&so, &proc, err))
    {
      prepared_release (e, c, p, true);
      record_start_error (e, c, err);
      close (lockfd);
      return -1;
    }
  if (p->in[0] >= 0)
    close (p->in[0]), p->in[0] = -1;
  if (p->out[1] >= 0)
    close (p->out[1]), p->out[1] = -1;
  if (p->errp[1] >= 0)
    close (p->errp[1]), p->errp[1] = -1;

  json_t *st = running_state (c, &proc, getpid (), rt_proc_start_time (getpid ()));
  if (init_pid > 0)
    {
      json_object_set_new (st, "Pid", json_integer (init_pid));
      json_object_set_new (st, "StartTime",
                           json_integer ((json_int_t)rt_proc_start_time (init_pid)));
    }
  if (store_container_save (e->store, c->id, NULL, st, err) < 0)
    {
      json_decref (st);
      kill (proc.pid, SIGKILL);
      waitpid (proc.pid, NULL, 0);
      prepared_release (e, c, p, true);
      close (lockfd);
      return -1;
    }
  json_decref (c->state);
  c->state = st;
  log_debug ("start %.12s: running, state recorded", c->id);
  if (network_started (e, c, p, proc.pid, err) < 0)
    {
      waitpid (proc.pid, NULL, 0);
      struct monitor_result dead = { .exit_code = 255, .finished_ns = now_ns () };
      berr_t e2 = BERR_INIT;
      if (cleanup_locked (e, c, &dead, false, &e2) < 0)
        berr_release (&e2);
      prepared_release (e, c, p, true);
      close (lockfd);
      return -1;
    }
  close (lockfd);

  struct logfile *log = NULL;
  berr_t e2 = BERR_INIT;
  if (open_log (e, c, &log, &e2) < 0)
    {
      log_warn ("%s", e2.msg);
      berr_release (&e2);
    }
  struct monitor_opts mo = {
    .pid = proc.pid,
    .pidfd = proc.pidfd,
    .out_fd = p->out[0],
    .err_fd = p->errp[0],
    .in_fd = p->in[1],
    .pty_fd = io.pty_master,
    .log = log,
    .attach_listen_fd = -1,
    .local_in = o->attach_stdin ? o->local_in : -1,
    .local_out = o->attach_stdout ? o->local_out : -1,
    .local_err = o->attach_stderr ? o->local_err : -1,
    .local_tty = o->local_tty,
    .detach_keys = o->detach_keys,
    .sig_proxy = o->sig_proxy,
    .kill_on_signal = o->cancel_on_signal,
  };
  struct monitor_proxy_spec *proxies = NULL;
  mo.nproxies = proxy_specs (p, &proxies);
  mo.proxies = proxies;
  int r = monitor_run (&mo, res, err);
  free (proxies);
  log_debug ("start %.12s: exited (%d)", c->id, res->exit_code);
  if (log)
    logfile_close (log);
  if (io.pty_master >= 0)
    close (io.pty_master);
  if (proc.pidfd >= 0)
    close (proc.pidfd);
  cgroup_free (p->cg);
  p->cg = NULL;
  /* The published ports stay reserved until the cleanup has taken their rules away, so no
   * other container can get a port while the dead one's DNAT still points at it. */
  struct port_set ports = p->net.ports;
  p->net.ports = (struct port_set){ 0 };
  prepared_release (e, c, p, false);
  int ret;
  if (r < 0)
    {
      kill (proc.pid, SIGKILL);
      waitpid (proc.pid, NULL, 0);
      struct monitor_result dead = { .exit_code = 255, .finished_ns = now_ns () };
      if (container_cleanup (e, c->id, &dead, &e2) < 0)
        berr_release (&e2);
      ret = -1;
    }
  else if (res->detached)
    ret = 0; /* still running, no monitor: reconciled when someone looks */
  else
    ret = container_cleanup (e, c->id, res, err);
  ports_release (&ports);
  return ret;
}

/* ---------- detached ---------- */

struct spawn_report
{
  int ok;
  pid_t pid;
  uint64_t start_time;
  int errnum, kind;
  char msg[2048];
};

static void clear_cloexec (int fd)
{
  if (fd >= 0)
    fcntl (fd, F_SETFD, 0);
}

static char *fdstr (int fd) { return xasprintf ("%d", fd); }

static int bind_attach_socket (struct engine *e, const char *id, berr_t *err)
{
  cleanup_free char *run = container_run_dir (e, id);
  if (fs_mkdir_p (run, 0700, err) < 0)
    return -1;
  cleanup_close int dfd = open (run, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0)
    return berr_set (err, errno, "open %s", run);
  int s = socket (AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
  if (s < 0)
    return berr_set (err, errno, "attach socket");
  struct sockaddr_un sa = { .sun_family = AF_UNIX };
  /* Through the directory fd, so a long runroot does not overflow sun_path. */
  snprintf (sa.sun_path, sizeof sa.sun_path, "/proc/self/fd/%d/attach", dfd);
  cleanup_free char *path = xasprintf ("%s/attach", run);
  unlink (path);
  if (bind (s, (struct sockaddr *)&sa, sizeof sa) < 0 || listen (s, 16) < 0)
    {
      int errsv = errno;
      close (s);
      return berr_set (err, errsv, "attach socket %s", path);
    }
  return s;
}

static void build_monitor_argv (struct engine *e, struct container_rec *c, struct prepared *p,
                                int pty, int pidfd, int listen_fd, pid_t pid, char ***argv)
{
  char **a = xzalloc (sizeof (char *));
  strv_push (&a, e->monitor_exe);
  strv_push (&a, "--pid");
  strv_push_take (&a, xasprintf ("%d", pid));
  if (pidfd >= 0)
    {
      strv_push (&a, "--pidfd");
      strv_push_take (&a, fdstr (pidfd));
    }
  if (pty >= 0)
    {
      strv_push (&a, "--pty");
      strv_push_take (&a, fdstr (pty));
    }
  else
    {
      strv_push (&a, "--stdout");
      strv_push_take (&a, fdstr (p->out[0]));
      strv_push (&a, "--stderr");
      strv_push_take (&a, fdstr (p->errp[0]));
    }
  if (p->in[1] >= 0)
    {
      strv_push (&a, "--stdin");
      strv_push_take (&a, fdstr (p->in[1]));
    }
  json_t *config = json_object_get (c->config, "Config");
  if (json_is_true (json_object_get (config, "StdinOnce")))
    strv_push (&a, "--stdin-once");
  json_t *lc = json_object_get (json_object_get (c->config, "HostConfig"), "LogConfig");
  const char *type = json_get_str (lc, "Type");
  if (!(type && strcmp (type, "none") == 0))
    {
      cleanup_free char *dir = container_dir (e, c->id);
      json_t *lopts = json_object_get (lc, "Config");
      const char *ms = json_get_str (lopts, "max-size");
      const char *mf = json_get_str (lopts, "max-file");
      int64_t max_size = 0;
      berr_t e2 = BERR_INIT;
      if (ms && units_from_human_size (ms, &max_size, &e2) < 0)
        berr_release (&e2);
      strv_push (&a, "--log");
      strv_push_take (&a, xasprintf ("%s/%s-json.log", dir, c->id));
      strv_push (&a, "--log-max-size");
      strv_push_take (&a, xasprintf ("%lld", (long long)max_size));
      strv_push (&a, "--log-max-file");
      strv_push_take (&a, xasprintf ("%d", mf && atoi (mf) > 0 ? atoi (mf) : 1));
    }
  if (listen_fd >= 0)
    {
      strv_push (&a, "--attach-socket-fd");
      strv_push_take (&a, fdstr (listen_fd));
    }
  struct monitor_proxy_spec *proxies = NULL;
  size_t np = proxy_specs (p, &proxies);
  for (size_t i = 0; i < np; i++)
    {
      char ip[INET_ADDRSTRLEN];
      inet_ntop (AF_INET, &proxies[i].target.sin_addr, ip, sizeof ip);
      strv_push (&a, "--proxy");
      strv_push_take (
          &a, xasprintf ("%d:%s:%d", proxies[i].listen_fd, ip, ntohs (proxies[i].target.sin_port)));
    }
  free (proxies);
  cleanup_free char *run = container_run_dir (e, c->id);
  strv_push (&a, "--exit-file");
  strv_push_take (&a, xasprintf ("%s/exit", run));
  json_t *hc = json_object_get (config, "Healthcheck");
  json_t *test = json_object_get (hc, "Test");
  const char *kind = json_string_value (json_array_get (test, 0));
  if (json_array_size (test) > 0 && kind && strcmp (kind, "NONE") != 0)
    {
      json_int_t interval = json_integer_value (json_object_get (hc, "Interval"));
      json_int_t timeout = json_integer_value (json_object_get (hc, "Timeout"));
      json_int_t start_period = json_integer_value (json_object_get (hc, "StartPeriod"));
      json_int_t start_interval = json_integer_value (json_object_get (hc, "StartInterval"));
      strv_push (&a, "--health-interval");
      strv_push_take (&a, xasprintf ("%lld", (long long)(interval > 0 ? interval : 30000000000LL)));
      strv_push (&a, "--health-timeout");
      strv_push_take (&a, xasprintf ("%lld", (long long)(timeout > 0 ? timeout : 30000000000LL)));
      strv_push (&a, "--health-start-period");
      strv_push_take (&a, xasprintf ("%lld", (long long)start_period));
      strv_push (&a, "--health-start-interval");
      strv_push_take (
          &a, xasprintf ("%lld", (long long)(start_interval > 0 ? start_interval : 5000000000LL)));
      /* berth-monitor takes the health command one word per --health-cmd */
      const char *words[]
          = { e->self_exe, "--root", e->root, "--runroot", e->runroot, "container-healthcheck",
              c->id };
      for (size_t w = 0; w < ARRAY_SIZE (words); w++)
        {
          strv_push (&a, "--health-cmd");
          strv_push (&a, words[w]);
        }
    }
  strv_push (&a, "--");
  strv_push (&a, e->self_exe);
  strv_push (&a, "--root");
  strv_push (&a, e->root);
  strv_push (&a, "--runroot");
  strv_push (&a, e->runroot);
  if (e->config_path)
    {
      strv_push (&a, "--config");
      strv_push (&a, e->config_path);
    }
  strv_push (&a, "container-cleanup");
  strv_push (&a, c->id);
  *argv = a;
}

static void report_write (int fd, const struct spawn_report *r)
{
  ssize_t n;
  do
    n = write (fd, r, sizeof *r);
  while (n < 0 && errno == EINTR);
}

/* In M, the forked child: spawn, report, wait for "go", become the monitor. Never returns. */
static void monitor_process (struct engine *e, struct container_rec *c, struct prepared *p,
                             int report_fd, int go_fd, int listen_fd)
{
  setsid ();
  int devnull = open ("/dev/null", O_RDWR | O_CLOEXEC);
  if (devnull >= 0)
    {
      dup2 (devnull, 0);
      dup2 (devnull, 1);
      dup2 (devnull, 2);
    }
  struct rt_io io = {
    .stdin_fd = p->in[0],
    .stdout_fd = p->out[1],
    .stderr_fd = p->errp[1],
    .pty_master = -1,
  };
  cleanup_free char *cache = xasprintf ("%s/cache", e->root);
  struct rt_spawn_opts so = { .spec = p->spec, .io = &io, .cg = p->cg, .cache_dir = cache };
  set_prestart (&so, p);
  so.id = c->id;
  struct rt_proc proc = { .pid = -1, .pidfd = -1 };
  berr_t err = BERR_INIT;
  struct spawn_report r = { 0 };
  const char *ext = external_runtime (c);
  pid_t init_pid = 0;
  if (ext ? spawn_external (e, c, ext, &io, &proc, &init_pid, &err) : rt_spawn (&so, &proc, &err))
    {
      r.ok = 0;
      r.errnum = err.errnum;
      r.kind = err.kind;
      snprintf (r.msg, sizeof r.msg, "%s", err.msg ? err.msg : "start failed");
      report_write (report_fd, &r);
      _exit (1);
    }
  r.ok = 1;
  r.pid = init_pid > 0 ? init_pid : proc.pid;
  r.start_time = init_pid > 0 ? rt_proc_start_time (init_pid) : proc.start_time;
  report_write (report_fd, &r);
  close (report_fd);
  char go;
  ssize_t n;
  do
    n = read (go_fd, &go, 1);
  while (n < 0 && errno == EINTR);
  close (go_fd);
  if (n == 1 && go == 'k')
    {
      /* The CLI could not record the start: undo. */
      kill (proc.pid, SIGKILL);
      waitpid (proc.pid, NULL, 0);
      _exit (1);
    }
  /* The container's ends are in the container now. */
  if (p->in[0] >= 0)
    close (p->in[0]);
  if (p->out[1] >= 0)
    close (p->out[1]);
  if (p->errp[1] >= 0)
    close (p->errp[1]);
  int keep[] = { p->out[0], p->errp[0], p->in[1], io.pty_master, proc.pidfd, listen_fd };
  for (size_t i = 0; i < ARRAY_SIZE (keep); i++)
    clear_cloexec (keep[i]);
  for (size_t i = 0; i < p->net.ports.n; i++)
    clear_cloexec (p->net.ports.v[i].fd);
  char **argv = NULL;
  /* With an external runtime the monitor waits for the runtime process (our child). */
  build_monitor_argv (e, c, p, io.pty_master, proc.pidfd, listen_fd, proc.pid, &argv);
  execv (e->monitor_exe, argv);
  /* No monitor: nobody would collect the container. */
  kill (proc.pid, SIGKILL);
  waitpid (proc.pid, NULL, 0);
  _exit (127);
}

static int start_detached (struct engine *e, struct container_rec *c, struct prepared *p,
                           int lockfd, berr_t *err)
{
  int report[2], go[2];
  if (pipe2 (report, O_CLOEXEC) < 0)
    return berr_set (err, errno, "pipe");
  if (pipe2 (go, O_CLOEXEC) < 0)
    {
      close_pair (report);
      return berr_set (err, errno, "pipe");
    }
  int listen_fd = bind_attach_socket (e, c->id, err);
  if (listen_fd < 0)
    {
      close_pair (report);
      close_pair (go);
      return -1;
    }
  cleanup_free char *exit_file = xasprintf ("%s/%s/exit", e->runroot, c->id);
  unlink (exit_file);
  fflush (NULL);
  pid_t m = fork ();
  if (m < 0)
    {
      close_pair (report);
      close_pair (go);
      close (listen_fd);
      return berr_set (err, errno, "fork");
    }
  if (m == 0)
    {
      close (report[0]);
      close (go[1]);
      close (lockfd);
      monitor_process (e, c, p, report[1], go[0], listen_fd);
    }
  close (report[1]);
  close (go[0]);
  close (listen_fd);
  struct spawn_report r = { 0 };
  ssize_t n;
  do
    n = read (report[0], &r, sizeof r);
  while (n < 0 && errno == EINTR);
  close (report[0]);
  if (n != (ssize_t)sizeof r || !r.ok)
    {
      close (go[1]);
      waitpid (m, NULL, 0);
      if (n != (ssize_t)sizeof r)
        berr_set (err, 0, "start %s: the monitor process died", c->name);
      else
        {
          berr_setk (err, r.kind, r.errnum, "%s", r.msg);
          /* berr_setk appended strerror; keep the child's own text. */
          free (err->msg);
          err->msg = xstrdup (r.msg);
        }
      prepared_release (e, c, p, true);
      return record_start_error (e, c, err);
    }
  struct rt_proc proc = { .pid = r.pid, .start_time = r.start_time };
  json_t *st = running_state (c, &proc, m, rt_proc_start_time (m));
  if (store_container_save (e->store, c->id, NULL, st, err) < 0)
    {
      json_decref (st);
      (void)!write (go[1], "k", 1);
      close (go[1]);
      waitpid (m, NULL, 0);
      prepared_release (e, c, p, true);
      return -1;
    }
  (void)!write (go[1], "g", 1);
  close (go[1]);
  json_decref (c->state);
  c->state = st;
  if (network_started (e, c, p, r.pid, err) < 0)
    {
      /* The monitor sees the container die and runs the cleanup. */
      waitpid (m, NULL, WNOHANG);
      prepared_release (e, c, p, false);
      return -1;
    }
  cgroup_free (p->cg);
  p->cg = NULL;
  prepared_release (e, c, p, false);
  return 0;
}

int container_start (struct engine *e, struct container_rec *c, const struct start_opts *o,
                     struct monitor_result *res, berr_t *err)
{
  int lock = container_lock (e, c->id, err);
  if (lock < 0)
    return -1;
  cleanup_close int lockfd = lock;
  struct container_rec *fresh = NULL;
  if (store_container_lookup (e->store, c->id, &fresh, err) < 0)
    return -1;
  json_decref (c->state);
  c->state = json_incref (fresh->state);
  container_rec_free (fresh);
  bool restarting = json_is_true (json_object_get (c->state, "Restarting"));
  if (container_is_running (c) && !restarting && container_monitor_alive (c))
    {
      if (json_is_true (json_object_get (c->state, "Paused")))
        return berr_setk (err, BERR_CONFLICT, 0,
                          "cannot start a paused container, try unpause instead");
      memset (res, 0, sizeof *res);
      res->detached = true;
      return 1; /* already running: docker start is a no-op */
    }
  struct prepared p = { .in = { -1, -1 }, .out = { -1, -1 }, .errp = { -1, -1 } };
  if (prepare (e, c, &p, err) < 0)
    {
      prepared_release (e, c, &p, true);
      return -1;
    }
  if (o->foreground)
    {
      int fd = steal_fd (&lockfd);
      return start_foreground (e, c, &p, o, fd, res, err);
    }
  int r = start_detached (e, c, &p, lockfd, err);
  if (r < 0)
    prepared_release (e, c, &p, true);
  return r;
}
