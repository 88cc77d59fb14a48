/* runopts.c — `berth run` / `berth create` flags (docker/cli's addFlags, run.go, create.go):
 * the flag table, what each flag does with its value, and the checks around parse(). The request
 * is built in runopts_build.c; the value parsers are in runopts_values.c and runopts_net.c. */
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/runopts.h"
#include "cli/runopts_int.h"
#include "util/json.h"
#include "util/units.h"
#include "volume/volspec.h"

static void copts_release (struct copts *c)
{
  char ***lists[] = { &c->attach,       &c->volumes,        &c->tmpfs,        &c->links,
                      &c->aliases,      &c->link_local_ips, &c->env,          &c->labels,
                      &c->cgroup_rules, &c->devices,        &c->publish,      &c->expose,
                      &c->dns,          &c->dns_search,     &c->dns_options,  &c->extra_hosts,
                      &c->volumes_from, &c->env_files,      &c->cap_add,      &c->cap_drop,
                      &c->group_add,    &c->security_opts,  &c->storage_opts, &c->label_files,
                      &c->log_opts };
  json_t **objs[]
      = { &c->mounts,         &c->gpus,     &c->ulimits,   &c->sysctls,   &c->annotations,
          &c->weight_devices, &c->read_bps, &c->write_bps, &c->read_iops, &c->write_iops };
  for (size_t i = 0; i < ARRAY_SIZE (lists); i++)
    {
      strv_free (*lists[i]);
      *lists[i] = NULL;
    }
  for (size_t i = 0; i < ARRAY_SIZE (objs); i++)
    {
      json_decref (*objs[i]);
      *objs[i] = NULL;
    }
  for (size_t i = 0; i < c->n_nets; i++)
    net_attach_release (&c->nets[i]);
  free (c->nets);
  free (c->ip);
  free (c->ip6);
}

/* ---- flag values (pflag Value.Set counterparts) ---- */

static int take_err (berr_t *e, char **msg)
{
  *msg = steal_pointer (&e->msg);
  berr_release (e);
  return -1;
}

typedef int (*validator_fn) (const char *v, char **out, berr_t *err);

struct list_flag
{
  char ***dst;
  validator_fn validate; /* NULL: any value */
};

static int set_list (void *data, const char *v, char **msg)
{
  struct list_flag *l = data;
  char *norm = NULL;
  berr_t e = BERR_INIT;
  if (l->validate && l->validate (v, &norm, &e) < 0)
    return take_err (&e, msg);
  if (norm)
    strv_push_take (l->dst, norm);
  else
    strv_push (l->dst, v);
  return 0;
}

static int v_env (const char *v, char **out, berr_t *e) { return validate_env (v, out, e); }
static int v_label (const char *v, char **out, berr_t *e)
{
  *out = NULL;
  return validate_label (v, e);
}
static int v_link (const char *v, char **out, berr_t *e)
{
  *out = NULL;
  return validate_link (v, e);
}
static int v_cgroup_rule (const char *v, char **out, berr_t *e)
{
  *out = NULL;
  return validate_device_cgroup_rule (v, e);
}

static int set_bytes (void *data, const char *v, char **msg)
{
  berr_t e = BERR_INIT;
  if (units_ram_in_bytes (v, data, &e) < 0)
    return take_err (&e, msg);
  return 0;
}

static int set_swap_bytes (void *data, const char *v, char **msg)
{
  if (strcmp (v, "-1") == 0)
    {
      *(int64_t *)data = -1;
      return 0;
    }
  return set_bytes (data, v, msg);
}

/* pflag's int/int64 flags: strconv.ParseInt(s, 0, 64). */
static int set_int (void *data, const char *v, char **msg)
{
  int r = go_parse_int (v, 0, data);
  if (r != GO_NUM_OK)
    {
      *msg = go_num_error ("ParseInt", v, r);
      return -1;
    }
  return 0;
}

struct int_changed
{
  int64_t *value;
  bool *changed;
};

static int set_int_changed (void *data, const char *v, char **msg)
{
  struct int_changed *ic = data;
  if (set_int (ic->value, v, msg) < 0)
    return -1;
  *ic->changed = true;
  return 0;
}

static int set_uint16 (void *data, const char *v, char **msg)
{
  int64_t n;
  int r = (*v == '-' || *v == '+') ? GO_NUM_SYNTAX : go_parse_int (v, 0, &n);
  if (r == GO_NUM_OK && n > 65535)
    r = GO_NUM_RANGE;
  if (r != GO_NUM_OK)
    {
      *msg = go_num_error ("ParseUint", v, r);
      return -1;
    }
  *(int64_t *)data = n;
  return 0;
}

static int set_cpus (void *data, const char *v, char **msg)
{
  berr_t e = BERR_INIT;
  if (parse_nano_cpus (v, data, &e) < 0)
    return take_err (&e, msg);
  return 0;
}

static int set_duration (void *data, const char *v, char **msg)
{
  berr_t e = BERR_INIT;
  if (units_parse_duration (v, data, &e) < 0)
    return take_err (&e, msg);
  return 0;
}

static int set_tristate (void *data, const char *v, char **msg)
{
  static const char *const t[] = { "1", "t", "T", "TRUE", "true", "True" };
  static const char *const f[] = { "0", "f", "F", "FALSE", "false", "False" };
  for (size_t i = 0; i < ARRAY_SIZE (t); i++)
    {
      if (strcmp (v, t[i]) == 0)
        return *(int *)data = 1, 0;
      if (strcmp (v, f[i]) == 0)
        return *(int *)data = 0, 0;
    }
  cleanup_free char *q = opts_quote (v);
  *msg = xasprintf ("strconv.ParseBool: parsing %s: invalid syntax", q);
  return -1;
}

static int set_ulimit (void *data, const char *v, char **msg)
{
  json_t **obj = data, *u;
  berr_t e = BERR_INIT;
  if (parse_ulimit (v, &u, &e) < 0)
    return take_err (&e, msg);
  if (*obj == NULL)
    *obj = json_object ();
  json_object_set_new (*obj, json_string_value (json_object_get (u, "Name")), u);
  return 0;
}

struct map_flag
{
  json_t **dst;
  bool sysctl; /* validated with opts.ValidateSysctl */
};

static int set_map (void *data, const char *v, char **msg)
{
  struct map_flag *m = data;
  berr_t e = BERR_INIT;
  if (m->sysctl && validate_sysctl (v, &e) < 0)
    return take_err (&e, msg);
  const char *eq = strchr (v, '=');
  cleanup_free char *k = eq ? xstrndup (v, (size_t)(eq - v)) : xstrdup (v);
  if (*m->dst == NULL)
    *m->dst = json_object ();
  json_object_set_new (*m->dst, k, json_string (eq ? eq + 1 : ""));
  return 0;
}

static void append_to (json_t **arr, json_t *v)
{
  if (*arr == NULL)
    *arr = json_array ();
  json_array_append_new (*arr, v);
}

static int set_gpus (void *data, const char *v, char **msg)
{
  json_t *req;
  berr_t e = BERR_INIT;
  if (parse_gpus (v, &req, &e) < 0)
    return take_err (&e, msg);
  append_to (data, req);
  return 0;
}

static int set_mount (void *data, const char *v, char **msg)
{
  json_t *m = NULL;
  berr_t e = BERR_INIT;
  if (volspec_parse_mount_opt (v, &m, &e) < 0)
    return take_err (&e, msg);
  append_to (data, m);
  return 0;
}

struct throttle_flag
{
  json_t **dst;
  int kind; /* 0 weight, 1 bytes per second, 2 IO per second */
};

static int set_throttle (void *data, const char *v, char **msg)
{
  struct throttle_flag *t = data;
  json_t *d;
  berr_t e = BERR_INIT;
  int r = t->kind == 0 ? parse_weight_device (v, &d, &e)
                       : parse_throttle_device (v, t->kind == 1, &d, &e);
  if (r < 0)
    return take_err (&e, msg);
  append_to (t->dst, d);
  return 0;
}

static int set_network (void *data, const char *v, char **msg)
{
  struct copts *c = data;
  struct net_attach n;
  berr_t e = BERR_INIT;
  if (parse_network_opt (v, &n, &e) < 0)
    return take_err (&e, msg);
  c->nets = xrealloc (c->nets, (c->n_nets + 1) * sizeof *c->nets);
  c->nets[c->n_nets++] = n;
  return 0;
}

/* pflag's IP flag: net.ParseIP(strings.TrimSpace(s)). */
static int set_ip (void *data, const char *v, char **msg)
{
  char **dst = data;
  size_t n;
  while (*v == ' ' || (*v >= '\t' && *v <= '\r'))
    v++;
  n = strlen (v);
  while (n > 0 && (v[n - 1] == ' ' || (v[n - 1] >= '\t' && v[n - 1] <= '\r')))
    n--;
  cleanup_free char *t = xstrndup (v, n);
  unsigned char ip[16];
  bool is4;
  if (!go_parse_ip (t, ip, &is4))
    {
      cleanup_free char *q = opts_quote (v);
      *msg = xasprintf ("failed to parse IP: %s", q);
      return -1;
    }
  free (*dst);
  *dst = steal_pointer (&t);
  return 0;
}

/* ---- run/create ---- */

void run_request_release (struct run_request *r)
{
  json_decref (r->body);
  free (r->detach_keys);
  free (r->cidfile);
  free (r->pull);
  free (r->platform);
  strv_free (r->args);
  memset (r, 0, sizeof *r);
}

int runopts_detach_keys (const char *keys, unsigned char *out, berr_t *err)
{
  /* moby/term: single characters, "ctrl-@", "ctrl-a".."ctrl-z", "ctrl-[", "ctrl-\",
   * "ctrl-]", "ctrl-^", "ctrl-_" and "DEL", separated by commas. */
  static const char ctrl[] = "@abcdefghijklmnopqrstuvwxyz[\\]^_";
  int n = 0;
  for (const char *p = keys;;)
    {
      const char *comma = strchr (p, ',');
      size_t len = comma ? (size_t)(comma - p) : strlen (p);
      if (len == 1)
        out[n++] = (unsigned char)*p;
      else if (len == 6 && strncmp (p, "ctrl-", 5) == 0 && p[5] && strchr (ctrl, p[5]))
        out[n++] = (unsigned char)(strchr (ctrl, p[5]) - ctrl);
      else if (len == 3 && strncmp (p, "DEL", 3) == 0)
        out[n++] = 127;
      else
        return berr_setk (err, BERR_INVALID, 0, "Unknown character: '%.*s'", (int)len, p);
      if (!comma)
        break;
      p = comma + 1;
    }
  return n;
}

/* What run.go/create.go do around parse(): the --pull check first, run's -d handling and
 * --detach-keys after, then (berth has no daemon) the daemon's own checks. */
static int finish (const char *cmdpath, bool is_run, struct copts *c, char **pos,
                   struct run_request *out)
{
  cleanup_json json_t *body = NULL;
  berr_t e = BERR_INIT;
  int r;

  if (*c->pull && strcmp (c->pull, "always") && strcmp (c->pull, "missing")
      && strcmp (c->pull, "never"))
    return runopts_fail (
        cmdpath, "invalid pull option: '%s': must be one of \"always\", \"missing\" or \"never\"",
        c->pull);
  r = runopts_build_body (cmdpath, c, pos, &body);
  if (r)
    return r;
  json_t *cfg = json_object_get (body, "Config");
  if (is_run && c->detach)
    {
      if (c->attach)
        {
          fprintf (stderr, "conflicting options: cannot specify both --attach and --detach\n");
          return 1;
        }
      json_object_set_new (cfg, "AttachStdin", json_false ());
      json_object_set_new (cfg, "AttachStdout", json_false ());
      json_object_set_new (cfg, "AttachStderr", json_false ());
      json_object_set_new (cfg, "StdinOnce", json_false ());
    }
  if (is_run && c->detach_keys && *c->detach_keys)
    {
      cleanup_free unsigned char *buf = xmalloc (strlen (c->detach_keys) + 1);
      if (runopts_detach_keys (c->detach_keys, buf, &e) < 0)
        {
          fprintf (stderr, "invalid detach keys (%s): %s\n", c->detach_keys, e.msg);
          berr_release (&e);
          return 1;
        }
    }
  if (runopts_verify (body, &e) < 0)
    return runopts_fail_err (cmdpath, &e);

  out->body = steal_pointer (&body);
  out->detach = is_run && c->detach;
  out->sig_proxy = c->sig_proxy;
  out->detach_keys = c->detach_keys && *c->detach_keys ? xstrdup (c->detach_keys) : NULL;
  out->cidfile = c->cidfile && *c->cidfile ? xstrdup (c->cidfile) : NULL;
  out->pull = xstrdup (*c->pull ? c->pull : "missing");
  out->platform = c->platform && *c->platform ? xstrdup (c->platform) : NULL;
  out->quiet = c->quiet;
  out->rm = c->rm;
  out->interactive = c->stdin_open;
  out->tty = c->tty;
  out->args = strv_dup (pos);
  return 0;
}

int runopts_parse (int argc, char **argv, const char *cmdpath, bool is_run, struct run_request *out)
{
  struct copts c = { 0 };
  cleanup_free char **pos = NULL;
  int r;

  memset (out, 0, sizeof *out);
  c.sig_proxy = true;
  c.content_trust = true;
  c.init = -1;
  c.swappiness = -1;
  c.restart = "no";
  c.pull = "missing";
  c.platform = getenv ("DOCKER_DEFAULT_PLATFORM");

#define LIST(field, validate)                                                                      \
  &(struct opt_func) { set_list, &(struct list_flag){ &c.field, validate }, false }
#define FUNC(fn, data)                                                                             \
  &(struct opt_func) { fn, data, false }
  const struct opt all[] = {
    { "add-host", 0, OPT_FUNC, LIST (extra_hosts, validate_extra_host), "list",
      "Add a custom host-to-IP mapping (host:ip)" },
    { "annotation", 0, OPT_FUNC, FUNC (set_map, (&(struct map_flag){ &c.annotations, false })),
      "map",
      "Add an annotation to the container (passed through to the OCI runtime) (default map[])" },
    { "attach", 'a', OPT_FUNC, LIST (attach, validate_attach), "list",
      "Attach to STDIN, STDOUT or STDERR" },
    { "blkio-weight", 0, OPT_FUNC, FUNC (set_uint16, &c.blkio_weight), "uint16",
      "Block IO (relative weight), between 10 and 1000, or 0 to disable (default 0)" },
    { "blkio-weight-device", 0, OPT_FUNC,
      FUNC (set_throttle, (&(struct throttle_flag){ &c.weight_devices, 0 })), "list",
      "Block IO weight (relative device weight) (default [])" },
    { "cap-add", 0, OPT_STRINGS, &c.cap_add, "list", "Add Linux capabilities" },
    { "cap-drop", 0, OPT_STRINGS, &c.cap_drop, "list", "Drop Linux capabilities" },
    { "cgroup-parent", 0, OPT_STRING, &c.cgroup_parent, "string",
      "Optional parent cgroup for the container" },
    { "cgroupns", 0, OPT_STRING, &c.cgroupns, "string",
      "Cgroup namespace to use (host|private) 'host': Run the container in the host's cgroup "
      "namespace 'private': Run the container in its own private cgroup namespace '': Use the "
      "cgroup namespace as configured by the default-cgroupns-mode option on the daemon "
      "(default)" },
    { "cidfile", 0, OPT_STRING, &c.cidfile, "string", "Write the container ID to the file" },
    { "cpu-period", 0, OPT_FUNC, FUNC (set_int, &c.cpu_period), "int",
      "Limit CPU CFS (Completely Fair Scheduler) period" },
    { "cpu-quota", 0, OPT_FUNC, FUNC (set_int, &c.cpu_quota), "int",
      "Limit CPU CFS (Completely Fair Scheduler) quota" },
    { "cpu-rt-period", 0, OPT_FUNC, FUNC (set_int, &c.cpu_rt_period), "int",
      "Limit CPU real-time period in microseconds" },
    { "cpu-rt-runtime", 0, OPT_FUNC, FUNC (set_int, &c.cpu_rt_runtime), "int",
      "Limit CPU real-time runtime in microseconds" },
    { "cpu-shares", 'c', OPT_FUNC, FUNC (set_int, &c.cpu_shares), "int",
      "CPU shares (relative weight)" },
    { "cpus", 0, OPT_FUNC, FUNC (set_cpus, &c.nano_cpus), "decimal", "Number of CPUs" },
    { "cpuset-cpus", 0, OPT_STRING, &c.cpuset_cpus, "string",
      "CPUs in which to allow execution (0-3, 0,1)" },
    { "cpuset-mems", 0, OPT_STRING, &c.cpuset_mems, "string",
      "MEMs in which to allow execution (0-3, 0,1)" },
    { "detach", 'd', OPT_BOOL, &c.detach, NULL,
      "Run container in background and print container ID" },
    { "detach-keys", 0, OPT_STRING, &c.detach_keys, "string",
      "Override the key sequence for detaching a container" },
    { "device", 0, OPT_STRINGS, &c.devices, "list", "Add a host device to the container" },
    { "device-cgroup-rule", 0, OPT_FUNC, LIST (cgroup_rules, v_cgroup_rule), "list",
      "Add a rule to the cgroup allowed devices list" },
    { "device-read-bps", 0, OPT_FUNC,
      FUNC (set_throttle, (&(struct throttle_flag){ &c.read_bps, 1 })), "list",
      "Limit read rate (bytes per second) from a device (default [])" },
    { "device-read-iops", 0, OPT_FUNC,
      FUNC (set_throttle, (&(struct throttle_flag){ &c.read_iops, 2 })), "list",
      "Limit read rate (IO per second) from a device (default [])" },
    { "device-write-bps", 0, OPT_FUNC,
      FUNC (set_throttle, (&(struct throttle_flag){ &c.write_bps, 1 })), "list",
      "Limit write rate (bytes per second) to a device (default [])" },
    { "device-write-iops", 0, OPT_FUNC,
      FUNC (set_throttle, (&(struct throttle_flag){ &c.write_iops, 2 })), "list",
      "Limit write rate (IO per second) to a device (default [])" },
    { "disable-content-trust", 0, OPT_BOOL, &c.content_trust, NULL,
      "Skip image verification (default true)" },
    { "dns", 0, OPT_FUNC, LIST (dns, validate_ip_address), "list", "Set custom DNS servers" },
    { "dns-opt", 0, OPT_STRINGS, &c.dns_options, "list", NULL },
    { "dns-option", 0, OPT_STRINGS, &c.dns_options, "list", "Set DNS options" },
    { "dns-search", 0, OPT_FUNC, LIST (dns_search, validate_dns_search), "list",
      "Set custom DNS search domains" },
    { "domainname", 0, OPT_STRING, &c.domainname, "string", "Container NIS domain name" },
    { "entrypoint", 0, OPT_STRING, &c.entrypoint, "string",
      "Overwrite the default ENTRYPOINT of the image" },
    { "env", 'e', OPT_FUNC, LIST (env, v_env), "list", "Set environment variables" },
    { "env-file", 0, OPT_STRINGS, &c.env_files, "list", "Read in a file of environment variables" },
    { "expose", 0, OPT_STRINGS, &c.expose, "list", "Expose a port or a range of ports" },
    { "gpus", 0, OPT_FUNC, FUNC (set_gpus, &c.gpus), "gpu-request",
      "GPU devices to add to the container ('all' to pass all GPUs)" },
    { "group-add", 0, OPT_STRINGS, &c.group_add, "list", "Add additional groups to join" },
    { "health-cmd", 0, OPT_STRING, &c.health_cmd, "string", "Command to run to check health" },
    { "health-interval", 0, OPT_FUNC, FUNC (set_duration, &c.health_interval), "duration",
      "Time between running the check (ms|s|m|h) (default 0s)" },
    { "health-retries", 0, OPT_FUNC, FUNC (set_int, &c.health_retries), "int",
      "Consecutive failures needed to report unhealthy" },
    { "health-start-interval", 0, OPT_FUNC, FUNC (set_duration, &c.health_start_interval),
      "duration",
      "Time between running the check during the start period (ms|s|m|h) (default 0s)" },
    { "health-start-period", 0, OPT_FUNC, FUNC (set_duration, &c.health_start_period), "duration",
      "Start period for the container to initialize before starting health-retries countdown "
      "(ms|s|m|h) (default 0s)" },
    { "health-timeout", 0, OPT_FUNC, FUNC (set_duration, &c.health_timeout), "duration",
      "Maximum time to allow one check to run (ms|s|m|h) (default 0s)" },
    { "hostname", 'h', OPT_STRING, &c.hostname, "string", "Container host name" },
    { "init", 0, OPT_FUNC, (&(struct opt_func){ set_tristate, &c.init, true }), NULL,
      "Run an init inside the container that forwards signals and reaps processes" },
    { "interactive", 'i', OPT_BOOL, &c.stdin_open, NULL, "Keep STDIN open even if not attached" },
    { "ip", 0, OPT_FUNC, FUNC (set_ip, &c.ip), "ip", "IPv4 address (e.g., 172.30.100.104)" },
    { "ip6", 0, OPT_FUNC, FUNC (set_ip, &c.ip6), "ip", "IPv6 address (e.g., 2001:db8::33)" },
    { "ipc", 0, OPT_STRING, &c.ipc, "string", "IPC mode to use" },
    { "isolation", 0, OPT_STRING, &c.isolation, "string", "Container isolation technology" },
    { "kernel-memory", 0, OPT_FUNC, FUNC (set_bytes, &c.kernel_memory), "bytes", NULL },
    { "label", 'l', OPT_FUNC, LIST (labels, v_label), "list", "Set meta data on a container" },
    { "label-file", 0, OPT_STRINGS, &c.label_files, "list",
      "Read in a line delimited file of labels" },
    { "link", 0, OPT_FUNC, LIST (links, v_link), "list", "Add link to another container" },
    { "link-local-ip", 0, OPT_STRINGS, &c.link_local_ips, "list",
      "Container IPv4/IPv6 link-local addresses" },
    { "log-driver", 0, OPT_STRING, &c.log_driver, "string", "Logging driver for the container" },
    { "log-opt", 0, OPT_STRINGS, &c.log_opts, "list", "Log driver options" },
    { "mac-address", 0, OPT_STRING, &c.mac, "string",
      "Container MAC address (e.g., 92:d0:c6:0a:29:33)" },
    { "memory", 'm', OPT_FUNC, FUNC (set_bytes, &c.memory), "bytes", "Memory limit" },
    { "memory-reservation", 0, OPT_FUNC, FUNC (set_bytes, &c.memory_reservation), "bytes",
      "Memory soft limit" },
    { "memory-swap", 0, OPT_FUNC, FUNC (set_swap_bytes, &c.memory_swap), "bytes",
      "Swap limit equal to memory plus swap: '-1' to enable unlimited swap" },
    { "memory-swappiness", 0, OPT_FUNC, FUNC (set_int, &c.swappiness), "int",
      "Tune container memory swappiness (0 to 100) (default -1)" },
    { "mount", 0, OPT_FUNC, FUNC (set_mount, &c.mounts), "mount",
      "Attach a filesystem mount to the container" },
    { "name", 0, OPT_STRING, &c.name, "string", "Assign a name to the container" },
    { "net", 0, OPT_FUNC, FUNC (set_network, &c), "network", NULL },
    { "net-alias", 0, OPT_STRINGS, &c.aliases, "list", NULL },
    { "network", 0, OPT_FUNC, FUNC (set_network, &c), "network",
      "Connect a container to a network" },
    { "network-alias", 0, OPT_STRINGS, &c.aliases, "list",
      "Add network-scoped alias for the container" },
    { "no-healthcheck", 0, OPT_BOOL, &c.no_healthcheck, NULL,
      "Disable any container-specified HEALTHCHECK" },
    { "oom-kill-disable", 0, OPT_BOOL, &c.oom_kill_disable, NULL, "Disable OOM Killer" },
    { "oom-score-adj", 0, OPT_FUNC, FUNC (set_int, &c.oom_score_adj), "int",
      "Tune host's OOM preferences (-1000 to 1000)" },
    { "pid", 0, OPT_STRING, &c.pid, "string", "PID namespace to use" },
    { "pids-limit", 0, OPT_FUNC, FUNC (set_int, &c.pids_limit), "int",
      "Tune container pids limit (set -1 for unlimited)" },
    { "platform", 0, OPT_STRING, &c.platform, "string",
      "Set platform if server is multi-platform capable" },
    { "privileged", 0, OPT_BOOL, &c.privileged, NULL,
      "Give extended privileges to this container" },
    { "publish", 'p', OPT_STRINGS, &c.publish, "list",
      "Publish a container's port(s) to the host" },
    { "publish-all", 'P', OPT_BOOL, &c.publish_all, NULL,
      "Publish all exposed ports to random ports" },
    { "pull", 0, OPT_STRING, &c.pull, "string",
      is_run
          ? "Pull image before running (\"always\", \"missing\", \"never\") (default \"missing\")"
          : "Pull image before creating (\"always\", \"missing\", \"never\") (default "
            "\"missing\")" },
    { "quiet", 'q', OPT_BOOL, &c.quiet, NULL, "Suppress the pull output" },
    { "read-only", 0, OPT_BOOL, &c.read_only, NULL,
      "Mount the container's root filesystem as read only" },
    { "restart", 0, OPT_STRING, &c.restart, "string",
      "Restart policy to apply when a container exits (default \"no\")" },
    { "rm", 0, OPT_BOOL, &c.rm, NULL,
      "Automatically remove the container and its associated anonymous volumes when it exits" },
    { "runtime", 0, OPT_STRING, &c.runtime, "string", "Runtime to use for this container" },
    { "security-opt", 0, OPT_STRINGS, &c.security_opts, "list", "Security Options" },
    { "shm-size", 0, OPT_FUNC, FUNC (set_bytes, &c.shm_size), "bytes", "Size of /dev/shm" },
    { "sig-proxy", 0, OPT_BOOL, &c.sig_proxy, NULL,
      "Proxy received signals to the process (default true)" },
    { "stop-signal", 0, OPT_STRING, &c.stop_signal, "string", "Signal to stop the container" },
    { "stop-timeout", 0, OPT_FUNC,
      FUNC (set_int_changed, (&(struct int_changed){ &c.stop_timeout, &c.stop_timeout_set })),
      "int", "Timeout (in seconds) to stop a container" },
    { "storage-opt", 0, OPT_STRINGS, &c.storage_opts, "list",
      "Storage driver options for the container" },
    { "sysctl", 0, OPT_FUNC, FUNC (set_map, (&(struct map_flag){ &c.sysctls, true })), "map",
      "Sysctl options (default map[])" },
    { "tmpfs", 0, OPT_STRINGS, &c.tmpfs, "list", "Mount a tmpfs directory" },
    { "tty", 't', OPT_BOOL, &c.tty, NULL, "Allocate a pseudo-TTY" },
    { "ulimit", 0, OPT_FUNC, FUNC (set_ulimit, &c.ulimits), "ulimit",
      "Ulimit options (default [])" },
    { "user", 'u', OPT_STRING, &c.user, "string",
      "Username or UID (format: <name|uid>[:<group|gid>])" },
    { "userns", 0, OPT_STRING, &c.userns, "string", "User namespace to use" },
    { "uts", 0, OPT_STRING, &c.uts, "string", "UTS namespace to use" },
    { "volume", 'v', OPT_STRINGS, &c.volumes, "list", "Bind mount a volume" },
    { "volume-driver", 0, OPT_STRING, &c.volume_driver, "string",
      "Optional volume driver for the container" },
    { "volumes-from", 0, OPT_STRINGS, &c.volumes_from, "list",
      "Mount volumes from the specified container(s)" },
    { "workdir", 'w', OPT_STRING, &c.workdir, "string", "Working directory inside the container" },
    { NULL, 0, 0, NULL, NULL, NULL },
  };
#undef LIST
#undef FUNC
  /* run's own flags are not create's. */
  struct opt opts[ARRAY_SIZE (all)];
  size_t n = 0;
  for (size_t i = 0; i < ARRAY_SIZE (all); i++)
    {
      const char *nm = all[i].name;
      if (!is_run && nm
          && (strcmp (nm, "detach") == 0 || strcmp (nm, "detach-keys") == 0
              || strcmp (nm, "sig-proxy") == 0))
        continue;
      opts[n++] = all[i];
    }
  const struct cmd_spec spec = {
    is_run ? "run [OPTIONS] IMAGE [COMMAND] [ARG...]" : "create [OPTIONS] IMAGE [COMMAND] [ARG...]",
    is_run ? "Create and run a new container from an image" : "Create a new container",
    is_run ? "berth container run, berth run" : "berth container create, berth create",
    opts,
    1,
    -1,
    NULL,
  };

  r = opts_parse_flags (&spec, cmdpath, argc, argv, &pos, OPTS_STOP_AT_FIRST_ARG);
  if (r != 0)
    {
      copts_release (&c);
      return r;
    }
  r = finish (cmdpath, is_run, &c, pos, out);
  copts_release (&c);
  return r;
}
