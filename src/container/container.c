/* container.c — container records: create, lookup with reconciliation, removal, inspect. */
#include "container/container.h"
#include "container/internal.h"
#include "net/attach.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "container/spec.h"
#include "monitor/logfile.h"
#include "util/fs.h"
#include "util/json.h"
#include "util/log.h"
#include "util/units.h"
#include "volume/volume.h"

#define ZERO_TIME "0001-01-01T00:00:00Z"

char *container_dir (struct engine *e, const char *id)
{
  return xasprintf ("%s/containers/%s", e->root, id);
}

char *container_run_dir (struct engine *e, const char *id)
{
  return xasprintf ("%s/%s", e->runroot, id);
}

const char *container_status (const struct container_rec *c)
{
  const char *s = json_get_str (c->state, "Status");
  return s ? s : "created";
}

bool container_is_running (const struct container_rec *c)
{
  return json_is_true (json_object_get (c->state, "Running"));
}

int container_lock (struct engine *e, const char *id, berr_t *err)
{
  cleanup_free char *dir = container_dir (e, id);
  cleanup_free char *path = xasprintf ("%s/lock", dir);
  int fd = open (path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0)
    {
      if (errno == ENOENT)
        return berr_setk (err, BERR_NOT_FOUND, 0, "No such container: %s", id);
      return berr_set (err, errno, "lock container %s", id);
    }
  if (flock (fd, LOCK_EX) < 0)
    {
      close (fd);
      return berr_set (err, errno, "lock container %s", id);
    }
  return fd;
}

char *boot_id (void)
{
  static char id[64];
  if (id[0] == '\0')
    {
      cleanup_free char *data = NULL;
      size_t len = 0;
      berr_t e = BERR_INIT;
      if (fs_read_file ("/proc/sys/kernel/random/boot_id", 64, &data, &len, &e) < 0)
        {
          berr_release (&e);
          return "";
        }
      snprintf (id, sizeof id, "%.*s", (int)strcspn (data, "\n"), data);
    }
  return id;
}

json_t *state_new (void)
{
  return json_pack ("{s:s, s:b, s:b, s:b, s:b, s:b, s:i, s:i, s:s, s:s, s:s}", "Status", "created",
                    "Running", 0, "Paused", 0, "Restarting", 0, "OOMKilled", 0, "Dead", 0, "Pid", 0,
                    "ExitCode", 0, "Error", "", "StartedAt", ZERO_TIME, "FinishedAt", ZERO_TIME);
}

char *time_now_rfc3339 (void)
{
  char buf[64];
  return xstrdup (units_rfc3339_nano (now_ns (), buf, sizeof buf));
}

static bool valid_name (const char *n)
{
  if (n[0] == '/')
    n++;
  if (!((n[0] >= 'a' && n[0] <= 'z') || (n[0] >= 'A' && n[0] <= 'Z')
        || (n[0] >= '0' && n[0] <= '9')))
    return false;
  if (n[1] == '\0')
    return false;
  for (const char *p = n + 1; *p; p++)
    if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9')
          || *p == '_' || *p == '.' || *p == '-'))
      return false;
  return true;
}

static void random_id (char out[65])
{
  unsigned char b[32];
  if (getrandom (b, sizeof b, 0) != sizeof b)
    for (size_t i = 0; i < sizeof b; i++)
      b[i] = (unsigned char)(now_ns () >> (i % 8));
  for (size_t i = 0; i < sizeof b; i++)
    sprintf (out + 2 * i, "%02x", b[i]);
}

static bool nonempty (const json_t *v)
{
  return (json_is_array (v) && json_array_size (v) > 0)
         || (json_is_object (v) && json_object_size (v) > 0);
}

static bool needs_mounts (const json_t *host_config, const json_t *config)
{
  return nonempty (json_object_get (host_config, "Binds"))
         || nonempty (json_object_get (host_config, "Mounts"))
         || nonempty (json_object_get (host_config, "Tmpfs"))
         || nonempty (json_object_get (config, "Volumes"));
}

int container_create (struct engine *e, json_t *body, struct container_rec **out, berr_t *err)
{
  json_t *config = json_object_get (body, "Config");
  if (!json_is_object (config))
    return berr_setk (err, BERR_INVALID, 0, "create: no container config");
  json_t *host_config = json_object_get (body, "HostConfig");
  if (!json_is_object (host_config))
    json_object_set_new (body, "HostConfig", host_config = json_object ());
  const char *image = json_get_str (config, "Image");
  if (image == NULL || image[0] == '\0')
    return berr_setk (err, BERR_INVALID, 0, "create: no image given");

  struct image_rec *img_raw = NULL;
  log_debug ("create: lookup %s", image);
  if (store_image_lookup (e->store, image, &img_raw, err) < 0)
    return -1;
  cleanup_image_rec struct image_rec *img = img_raw;
  cleanup_json json_t *img_config = NULL;
  if (store_image_config_unverified (e->store, img->id, &img_config, err) < 0)
    return -1;
  log_debug ("create: merge");
  if (spec_merge_image_config (config, json_object_get (img_config, "config"), err) < 0)
    return -1;
  log_debug ("create: merged");

  char id[65];
  random_id (id);
  const char *given = json_get_str (body, "Name");
  cleanup_free char *name = NULL;
  if (given && given[0])
    {
      if (!valid_name (given))
        return berr_setk (err, BERR_INVALID, 0,
                          "Invalid container name (%s), only [a-zA-Z0-9][a-zA-Z0-9_.-] are "
                          "allowed",
                          given);
      name = xstrdup (given[0] == '/' ? given + 1 : given);
    }
  const char *hostname = json_get_str (config, "Hostname");
  const char *netmode = json_get_str (host_config, "NetworkMode");
  const char *utsmode = json_get_str (host_config, "UTSMode");
  if ((hostname == NULL || hostname[0] == '\0')
      && ((netmode && strcmp (netmode, "host") == 0) || (utsmode && strcmp (utsmode, "host") == 0)))
    {
      /* Docker: a container on the host's network (or UTS namespace) has the host's name. */
      char hn[HOST_NAME_MAX + 1] = "";
      gethostname (hn, sizeof hn);
      json_object_set_new (config, "Hostname", json_string (hn));
    }
  else if (hostname == NULL || hostname[0] == '\0')
    json_object_set_new (config, "Hostname", json_stringn (id, 12));

  json_t *networks = NULL;
  if (net_create_config (e, body, &networks, err) < 0)
    return -1;
  cleanup_free char *dir = container_dir (e, id);
  if (mkdir (dir, 0710) < 0)
    {
      json_decref (networks);
      return berr_set (err, errno, "create %s", dir);
    }

  char created[64];
  int64_t now = now_ns ();
  units_rfc3339_nano (now, created, sizeof created);
  json_t *rec_config
      = json_pack ("{s:O, s:O, s:s, s:s, s:[], s:o}", "Config", config, "HostConfig", host_config,
                   "Image", img->id, "Created", created, "Mounts", "Networks", networks);
  struct container_rec rec = {
    .id = id,
    .image_id = img->id,
    .created_ns = now,
    .config = rec_config,
    .state = state_new (),
  };
  int ret = -1;
  for (int attempt = 0; attempt < 10; attempt++)
    {
      if (name == NULL || attempt > 0)
        {
          if (given && given[0])
            break;
          free (name);
          name = container_random_name ();
        }
      rec.name = name;
      berr_release (err);
      ret = store_container_add (e->store, &rec, err);
      if (ret == 0 || err->kind != BERR_CONFLICT || (given && given[0]))
        break;
    }
  if (ret < 0)
    goto fail_dir;
  log_debug ("create: row added");

  /* Mounts need the row (volume references point at it); a container without any mount
   * (the common `run --rm img cmd`) skips that second transaction. */
  if (needs_mounts (host_config, config))
    {
      json_t *mounts = NULL;
      if (volume_resolve_mounts (e->store, id, host_config, config, &mounts, err) < 0)
        goto fail_row;
      json_object_set_new (rec_config, "Mounts", mounts);
      if (store_container_save (e->store, id, rec_config, rec.state, err) < 0)
        goto fail_row;
    }

  struct container_rec *c = xzalloc (sizeof *c);
  c->id = xstrdup (id);
  c->name = xstrdup (name);
  c->image_id = xstrdup (img->id);
  c->created_ns = now;
  c->config = rec_config;
  c->state = rec.state;
  *out = c;
  return 0;

fail_row:
  {
    berr_t e2 = BERR_INIT;
    if (volume_remove_anonymous (e->store, id, &e2) < 0)
      berr_release (&e2);
    if (store_container_delete (e->store, id, &e2) < 0)
      berr_release (&e2);
  }
fail_dir:
  {
    berr_t e2 = BERR_INIT;
    if (fs_rm_rf (dir, &e2) < 0)
      berr_release (&e2);
  }
  json_decref (rec_config);
  json_decref (rec.state);
  return -1;
}

/* ---------- reconciliation ---------- */

/* The same process (pid and start time) and not a zombie waiting for a parent to reap it. */
static bool proc_alive (pid_t pid, uint64_t start_time)
{
  if (pid <= 0)
    return false;
  uint64_t st = rt_proc_start_time (pid);
  if (st == 0 || st != start_time)
    return false;
  char path[64], buf[512];
  snprintf (path, sizeof path, "/proc/%d/stat", (int)pid);
  int fd = open (path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return false;
  ssize_t n = read (fd, buf, sizeof buf - 1);
  close (fd);
  if (n <= 0)
    return false;
  buf[n] = '\0';
  const char *rp = strrchr (buf, ')');
  return rp && rp[1] == ' ' && rp[2] != 'Z' && rp[2] != 'X';
}

bool container_monitor_alive (const struct container_rec *c)
{
  json_t *s = c->state;
  const char *boot = json_get_str (s, "BootId");
  if (boot && strcmp (boot, boot_id ()) != 0)
    return false;
  pid_t mpid = (pid_t)json_integer_value (json_object_get (s, "MonitorPid"));
  uint64_t mstart = (uint64_t)json_integer_value (json_object_get (s, "MonitorStartTime"));
  return proc_alive (mpid, mstart);
}

/* A running container whose monitor is gone (kill -9, reboot): kill what is left, record the
 * exit (from the monitor's exit file if it got that far, else 255) and clean up. */
static int reconcile (struct engine *e, struct container_rec *c, berr_t *err)
{
  if (!container_is_running (c) && !json_is_true (json_object_get (c->state, "Restarting")))
    return 0;
  if (container_monitor_alive (c))
    return 0;
  int lock = container_lock (e, c->id, err);
  if (lock < 0)
    return -1;
  cleanup_close int lockfd = lock;
  /* Re-read under the lock: the cleanup may just have happened. */
  struct container_rec *fresh = NULL;
  if (store_container_lookup (e->store, c->id, &fresh, err) < 0)
    return -1;
  json_decref (c->state);
  c->state = json_incref (fresh->state);
  container_rec_free (fresh);
  if ((!container_is_running (c) && !json_is_true (json_object_get (c->state, "Restarting")))
      || container_monitor_alive (c))
    return 0;
  log_debug ("container %.12s: monitor gone, reconciling", c->id);
  struct monitor_result res = { .exit_code = 255, .finished_ns = now_ns () };
  if (read_exit_file (e, c->id, &res) < 0)
    res.exit_code = 255;
  cleanup_locked (e, c, &res, false, err);
  return 0;
}

int container_get (struct engine *e, const char *name, struct container_rec **out, berr_t *err)
{
  struct container_rec *c = NULL;
  if (store_container_lookup (e->store, name, &c, err) < 0)
    return -1;
  berr_t e2 = BERR_INIT;
  if (reconcile (e, c, &e2) < 0)
    {
      log_warn ("reconcile %.12s: %s", c->id, e2.msg);
      berr_release (&e2);
    }
  *out = c;
  return 0;
}

int container_list (struct engine *e, struct container_rec ***out, size_t *n, berr_t *err)
{
  if (store_container_list (e->store, out, n, err) < 0)
    return -1;
  for (size_t i = 0; i < *n; i++)
    {
      berr_t e2 = BERR_INIT;
      if (reconcile (e, (*out)[i], &e2) < 0)
        {
          log_warn ("reconcile %.12s: %s", (*out)[i]->id, e2.msg);
          berr_release (&e2);
        }
    }
  return 0;
}

/* ---------- removal ---------- */

int container_remove (struct engine *e, struct container_rec *c, bool force, bool volumes,
                      berr_t *err)
{
  if (container_is_running (c))
    {
      if (!force)
        {
          const char *what
              = json_is_true (json_object_get (c->state, "Paused")) ? "paused" : "running";
          return berr_setk (err, BERR_CONFLICT, 0,
                            "cannot remove container \"/%s\": container is %s: stop the "
                            "container before removing or force remove",
                            c->name, what);
        }
      if (container_kill (e, c, SIGKILL, err) < 0 && err->kind != BERR_CONFLICT)
        return -1;
      berr_release (err);
      int code;
      if (container_wait (e, c->id, "not-running", &code, err) < 0)
        return -1;
    }
  int lock = container_lock (e, c->id, err);
  if (lock < 0)
    return -1;
  cleanup_close int lockfd = lock;
  struct container_rec *fresh = NULL;
  if (store_container_lookup (e->store, c->id, &fresh, err) < 0)
    return -1;
  bool running = container_is_running (fresh) && container_monitor_alive (fresh);
  container_rec_free (fresh);
  if (running)
    return berr_setk (err, BERR_CONFLICT, 0,
                      "cannot remove container \"/%s\": container is running: stop the "
                      "container before removing or force remove",
                      c->name);
  return container_remove_locked (e, c, volumes, err);
}

int container_remove_locked (struct engine *e, struct container_rec *c, bool volumes, berr_t *err)
{
  berr_t e2 = BERR_INIT;
  /* Whatever an interrupted start or cleanup left behind. */
  if (container_unmount_rootfs (e, c->id, &e2) < 0)
    {
      berr_move (err, &e2);
      return berr_wrap (err, "remove container %s", c->name);
    }
  struct cgroup *cg = NULL;
  if (container_open_cgroup (e, c->id, &cg, &e2) == 0)
    {
      if (cgroup_destroy (cg, &e2) < 0)
        berr_release (&e2);
      cgroup_free (cg);
    }
  berr_release (&e2);
  if (volumes && json_array_size (json_object_get (c->config, "Mounts")) > 0)
    {
      /* Collected before the row goes (the references cascade away with it). */
      if (volume_remove_anonymous (e->store, c->id, &e2) < 0)
        {
          log_warn ("remove volumes of %.12s: %s", c->id, e2.msg);
          berr_release (&e2);
        }
    }
  if (store_container_delete (e->store, c->id, err) < 0)
    return -1;
  cleanup_free char *dir = container_dir (e, c->id);
  cleanup_free char *run = container_run_dir (e, c->id);
  if (fs_rm_rf (run, &e2) < 0)
    berr_release (&e2);
  if (fs_rm_rf (dir, &e2) < 0)
    {
      log_warn ("remove %s: %s", dir, e2.msg);
      berr_release (&e2);
    }
  return 0;
}

/* ---------- inspect ---------- */

json_t *container_inspect_json (struct engine *e, const struct container_rec *c)
{
  json_t *cfg = c->config;
  cleanup_free char *dir = container_dir (e, c->id);
  json_t *state = json_deep_copy (c->state);
  json_t *health = json_object_get (state, "Health");
  (void)health;
  static const char *const internal[]
      = { "MonitorPid", "MonitorStartTime", "BootId", "StartTime", "RestartCount", "Runtime" };
  for (size_t i = 0; i < ARRAY_SIZE (internal); i++)
    json_object_del (state, internal[i]);
  json_t *config = json_object_get (cfg, "Config");
  json_t *args = json_array ();
  const char *path = "";
  json_t *ep = json_object_get (config, "Entrypoint");
  json_t *cmd = json_object_get (config, "Cmd");
  json_t *all = json_array ();
  if (json_is_array (ep))
    json_array_extend (all, ep);
  if (json_is_array (cmd))
    json_array_extend (all, cmd);
  if (json_array_size (all) > 0)
    {
      path = json_string_value (json_array_get (all, 0));
      for (size_t i = 1; i < json_array_size (all); i++)
        json_array_append (args, json_array_get (all, i));
    }
  json_t *mounts = json_array ();
  size_t i;
  json_t *m;
  json_array_foreach (json_object_get (cfg, "Mounts"), i, m)
  {
    json_t *copy = json_deep_copy (m);
    json_object_del (copy, "Options");
    json_array_append_new (mounts, copy);
  }
  cleanup_free char *log_path = xasprintf ("%s/%s-json.log", dir, c->id);
  const char *log_type
      = json_get_str (json_object_get (json_object_get (cfg, "HostConfig"), "LogConfig"), "Type");
  if (log_type && strcmp (log_type, "none") == 0)
    log_path[0] = '\0';
  cleanup_free char *name = xasprintf ("/%s", c->name);
  cleanup_free char *upper = xasprintf ("%s/upper", dir);
  cleanup_free char *merged = xasprintf ("%s/merged", dir);
  cleanup_free char *work = xasprintf ("%s/work", dir);
  cleanup_free char *hostname_p = xasprintf ("%s/hostname", dir);
  cleanup_free char *hosts_p = xasprintf ("%s/hosts", dir);
  cleanup_free char *resolv_p = xasprintf ("%s/resolv.conf", dir);
  json_int_t restarts = json_integer_value (json_object_get (c->state, "RestartCount"));
  json_t *out = json_pack (
      "{s:s, s:O, s:s, s:o, s:o, s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:s, s:s, s:s, s:s, s:s, "
      "s:n, s:O, s:{s:{s:s, s:s, s:s}, s:s}, s:o, s:O}",
      "Id", c->id, "Created", json_object_get (cfg, "Created"), "Path", path, "Args", args, "State",
      state, "Image", c->image_id, "ResolvConfPath", resolv_p, "HostnamePath", hostname_p,
      "HostsPath", hosts_p, "LogPath", log_path, "Name", name, "RestartCount", (json_int_t)restarts,
      "Driver", "overlay2", "Platform", "linux", "MountLabel", "", "ProcessLabel", "",
      "AppArmorProfile", "", "ExecIDs", "HostConfig", json_object_get (cfg, "HostConfig"),
      "GraphDriver", "Data", "MergedDir", merged, "UpperDir", upper, "WorkDir", work, "Name",
      "overlay2", "Mounts", mounts, "Config", config);
  json_decref (all);
  if (out == NULL)
    return json_object ();
  json_t *ns = json_object_get (cfg, "NetworkSettings");
  json_object_set_new (out, "NetworkSettings", ns ? json_incref (ns) : net_settings_json (e, c));
  return out;
}
