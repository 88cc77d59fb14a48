/* runopts.c — `berth run` / `berth create` flags → the container-create request, following
 * docker/cli's addFlags/parse (cli/command/container/opts.go) and the checks run.go and
 * create.go make around it. The value parsers are in runopts_values.c and runopts_net.c. */
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/runopts.h"
#include "cli/runopts_int.h"
#include "util/fs.h"
#include "util/json.h"
#include "util/units.h"
#include "volume/volspec.h"

/* What the flags collect (docker's containerOptions plus run/create's own). */
struct copts
{
  char **attach, **volumes, **tmpfs, **links, **aliases, **link_local_ips, **env, **labels,
      **cgroup_rules, **devices, **publish, **expose, **dns, **dns_search, **dns_options,
      **extra_hosts, **volumes_from, **env_files, **cap_add, **cap_drop, **group_add,
      **security_opts, **storage_opts, **label_files, **log_opts;
  json_t *mounts, *gpus, *ulimits, *sysctls, *annotations, *weight_devices, *read_bps, *write_bps,
      *read_iops, *write_iops;
  struct net_attach *nets;
  size_t n_nets;
  bool privileged, publish_all, stdin_open, tty, oom_kill_disable, read_only, no_healthcheck, rm,
      detach, sig_proxy, quiet, content_trust;
  int init; /* -1 unset: HostConfig.Init stays out (the daemon's default applies) */
  const char *pid, *uts, *userns, *cgroupns, *cidfile, *entrypoint, *hostname, *domainname, *user,
      *workdir, *mac, *ipc, *restart, *log_driver, *cgroup_parent, *volume_driver, *stop_signal,
      *isolation, *health_cmd, *runtime, *name, *detach_keys, *pull, *platform, *cpuset_cpus,
      *cpuset_mems;
  char *ip, *ip6;
  int64_t memory, memory_reservation, memory_swap, kernel_memory, shm_size, cpu_shares, cpu_period,
      cpu_quota, cpu_rt_period, cpu_rt_runtime, nano_cpus, pids_limit, swappiness, oom_score_adj,
      stop_timeout, health_retries, blkio_weight;
  bool stop_timeout_set;
  int64_t health_interval, health_timeout, health_start_period, health_start_interval;
};

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
  if (go_parse_duration (v, data, &e) < 0)
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

/* ---- building the request ---- */

static int PRINTF_LIKE (2, 3) fail (const char *cmdpath, const char *fmt, ...)
{
  va_list ap;
  fputs ("berth: ", stderr);
  va_start (ap, fmt);
  vfprintf (stderr, fmt, ap);
  va_end (ap);
  fprintf (stderr, "\n\nRun '%s --help' for more information\n", cmdpath);
  return EXIT_ENGINE;
}

static int fail_err (const char *cmdpath, berr_t *e)
{
  int r = fail (cmdpath, "%s", e->msg ? e->msg : "invalid argument");
  berr_release (e);
  return r;
}

static json_t *strv_or_null (char **v) { return v && v[0] ? json_from_strv (v) : json_null (); }

static json_t *strv_or_empty (char **v) { return v ? json_from_strv (v) : json_array (); }

static json_t *obj_or_empty_array (json_t *a) { return a ? json_incref (a) : json_array (); }

static bool kv_getenv (void *ud, const char *key, const char **value)
{
  (void)ud;
  *value = getenv (key);
  return *value != NULL;
}

/* -e entries go through a map on docker's way to the daemon (ParseProxyConfig): one entry per
 * name, the last value winning. Kept here in first-seen order, where docker's is random. */
static void dedup_env (char ***env)
{
  char **out = NULL;
  for (char **e = *env; e && *e; e++)
    {
      size_t kl = strcspn (*e, "=");
      bool replaced = false;
      for (char **o = out; o && *o; o++)
        if (strcspn (*o, "=") == kl && strncmp (*o, *e, kl) == 0)
          {
            free (*o);
            *o = xstrdup (*e);
            replaced = true;
            break;
          }
      if (!replaced)
        strv_push (&out, *e);
    }
  strv_free (*env);
  *env = out;
}

/* The client library's normalizeCapabilities: upper case, CAP_ prefix (not for ALL), unique,
 * sorted. */
static int cmp_strp (const void *a, const void *b)
{
  return strcmp (*(char *const *)a, *(char *const *)b);
}

static json_t *normalize_caps (char **caps)
{
  char **out = NULL;
  for (char **c = caps; c && *c; c++)
    {
      cleanup_free char *u = xstrdup (*c);
      for (char *p = u; *p; p++)
        if (*p >= 'a' && *p <= 'z')
          *p = (char)(*p - 'a' + 'A');
      char *n = strcmp (u, "ALL") == 0 || str_has_prefix (u, "CAP_") ? xstrdup (u)
                                                                     : xasprintf ("CAP_%s", u);
      if (strv_contains (out, n))
        free (n);
      else
        strv_push_take (&out, n);
    }
  if (!out)
    return json_null ();
  qsort (out, strv_len (out), sizeof (char *), cmp_strp);
  json_t *j = json_from_strv (out);
  strv_free (out);
  return j;
}

static bool pid_mode_valid (const char *m)
{
  return !*m || strcmp (m, "host") == 0 || (str_has_prefix (m, "container:") && m[10]);
}

/* The security options the CLI itself looks at (parseSecurityOpts, parseSystemPaths): a value
 * is required except for no-new-privileges; a seccomp profile file is read and sent inline. */
static int cli_security_opts (const char *cmdpath, char **opts, json_t **out, bool *unconfined)
{
  cleanup_json json_t *list = json_array ();
  *unconfined = false;
  for (char **o = opts; o && *o; o++)
    {
      const char *sep = strchr (*o, '=');
      size_t kl = sep ? (size_t)(sep - *o) : strlen (*o);
      bool nnp = kl == 17 && strncmp (*o, "no-new-privileges", 17) == 0;
      if (!sep && !nnp)
        {
          sep = strchr (*o, ':');
          kl = sep ? (size_t)(sep - *o) : strlen (*o);
          nnp = kl == 17 && strncmp (*o, "no-new-privileges", 17) == 0;
        }
      const char *v = sep ? sep + 1 : "";
      if ((!sep || !*v) && !nnp)
        {
          cleanup_free char *q = opts_quote (*o);
          return fail (cmdpath, "Invalid --security-opt: %s", q);
        }
      if (strcmp (*o, "systempaths=unconfined") == 0)
        {
          *unconfined = true;
          continue;
        }
      if (kl == 7 && strncmp (*o, "seccomp", 7) == 0 && strcmp (v, "builtin")
          && strcmp (v, "unconfined"))
        {
          cleanup_free char *data = NULL;
          size_t len;
          berr_t e = BERR_INIT;
          if (fs_read_file (v, 16 << 20, &data, &len, &e) < 0)
            {
              int r = fail (cmdpath, "opening seccomp profile (%s) failed: %s", v, e.msg);
              berr_release (&e);
              return r;
            }
          cleanup_json json_t *prof = json_parse_buf (data, len, "seccomp profile", &e);
          if (!prof)
            {
              int r
                  = fail (cmdpath, "compacting json for seccomp profile (%s) failed: %s", v, e.msg);
              berr_release (&e);
              return r;
            }
          cleanup_free char *compact = json_dump_compact (prof);
          json_array_append_new (list, json_sprintf ("seccomp=%s", compact));
          continue;
        }
      json_array_append_new (list, json_string (*o));
    }
  *out = steal_pointer (&list);
  return 0;
}

/* ---- networks (parseNetworkOpts, applyContainerOptions, parseNetworkAttachmentOpt) ---- */

static bool endpoint_is_zero (const struct net_attach *n)
{
  return !n->aliases && !n->links && !n->ipv4 && !n->ipv6 && !n->link_local_ips && !n->mac
         && json_object_size (n->driver_opts) == 0 && n->gw_priority == 0;
}

static json_t *endpoint_json (const struct net_attach *n)
{
  json_t *ipam = json_null ();
  if (n->ipv4 || n->ipv6 || n->link_local_ips)
    {
      ipam = json_object ();
      if (n->ipv4)
        json_object_set_new (ipam, "IPv4Address", json_string (n->ipv4));
      if (n->ipv6)
        json_object_set_new (ipam, "IPv6Address", json_string (n->ipv6));
      if (n->link_local_ips)
        json_object_set_new (ipam, "LinkLocalIPs", json_from_strv (n->link_local_ips));
    }
  json_t *dopts = json_object_size (n->driver_opts) ? json_incref (n->driver_opts) : json_null ();
  if (json_is_object (dopts))
    json_sort_object (dopts);
  return json_pack ("{s:o, s:o, s:o, s:s, s:o, s:I, s:s, s:s, s:s, s:s, s:i, s:s, s:s, s:i, s:n}",
                    "IPAMConfig", ipam, "Links", strv_or_null (n->links), "Aliases",
                    strv_or_null (n->aliases), "MacAddress", n->mac ? n->mac : "", "DriverOpts",
                    dopts, "GwPriority", (json_int_t)n->gw_priority, "NetworkID", "", "EndpointID",
                    "", "Gateway", "", "IPAddress", "", "IPPrefixLen", 0, "IPv6Gateway", "",
                    "GlobalIPv6Address", "", "GlobalIPv6PrefixLen", 0, "DNSNames");
}

static int apply_container_options (const char *cmdpath, struct net_attach *n,
                                    const struct copts *c)
{
  static const char conflict[] = "conflicting options: cannot specify both %s and per-network %s";
  if (n->aliases && c->aliases)
    return fail (cmdpath, conflict, "--network-alias", "alias");
  if (n->links && c->links)
    return fail (cmdpath, conflict, "--link", "links");
  if (n->ipv4 && c->ip)
    return fail (cmdpath, conflict, "--ip", "IPv4 address");
  if (n->ipv6 && c->ip6)
    return fail (cmdpath, conflict, "--ip6", "IPv6 address");
  if (n->mac && c->mac)
    return fail (cmdpath, conflict, "--mac-address", "MAC address");
  if (n->link_local_ips && c->link_local_ips)
    return fail (cmdpath, conflict, "--link-local-ip", "link-local IP addresses");
  if (c->aliases)
    n->aliases = strv_dup (c->aliases);
  /* --link on a user-defined network makes an alias; on the default bridge a legacy link. */
  if (network_is_user_defined (n->target) && c->links)
    n->links = strv_dup (c->links);
  unsigned char ip[16];
  bool is4;
  if (c->ip)
    {
      if (!go_parse_ip (c->ip, ip, &is4) || !is4)
        return fail (cmdpath, "invalid IPv4 address: %s", c->ip);
      n->ipv4 = go_ip_string (ip);
    }
  if (c->ip6)
    {
      if (!go_parse_ip (c->ip6, ip, &is4) || is4)
        return fail (cmdpath, "invalid IPv6 address: %s", c->ip6);
      n->ipv6 = go_ip_string (ip);
    }
  if (c->mac)
    n->mac = xstrdup (c->mac);
  if (c->link_local_ips)
    n->link_local_ips = strv_dup (c->link_local_ips);
  return 0;
}

static bool mac_ok (const char *m)
{
  size_t n;
  while (*m == ' ' || (*m >= '\t' && *m <= '\r'))
    m++;
  n = strlen (m);
  while (n > 0 && (m[n - 1] == ' ' || (m[n - 1] >= '\t' && m[n - 1] <= '\r')))
    n--;
  cleanup_free char *t = xstrndup (m, n);
  return go_parse_mac (t);
}

static int check_attachment (const char *cmdpath, const struct net_attach *n)
{
  cleanup_free char *t = xstrdup (n->target);
  bool blank = true;
  for (char *p = t; *p; p++)
    blank &= *p == ' ' || (*p >= '\t' && *p <= '\r');
  if (blank)
    return fail (cmdpath, "no name set for network");
  if (!network_is_user_defined (n->target))
    {
      if (n->aliases)
        return fail (cmdpath,
                     "network-scoped aliases are only supported for user-defined networks");
      if (n->links)
        return fail (cmdpath, "links are only supported for user-defined networks");
    }
  if (n->mac && !mac_ok (n->mac))
    return fail (cmdpath, "%s is not a valid mac address", n->mac);
  return 0;
}

/* NetworkMode and EndpointsConfig. Without --network berth behaves as `--network none` (see
 * runopts.h): docker's "default" is the bridge, which berth does not have yet. */
static int build_networks (const char *cmdpath, struct copts *c, json_t **mode, json_t **eps)
{
  struct net_attach dflt = { 0 };
  struct net_attach *nets = c->nets;
  size_t n = c->n_nets;
  bool user = false, nonuser = false;
  int r = 0;
  cleanup_json json_t *out = json_object ();

  if (n == 0)
    {
      dflt.target = xstrdup ("none");
      nets = &dflt;
      n = 1;
    }
  for (size_t i = 0; i < n && r == 0; i++)
    {
      struct net_attach *a = &nets[i];
      if (network_is_user_defined (a->target))
        user = true;
      else
        nonuser = true;
      if (i == 0)
        r = apply_container_options (cmdpath, a, c);
      if (r == 0)
        r = check_attachment (cmdpath, a);
      if (r)
        break;
      if (json_object_get (out, a->target))
        {
          cleanup_free char *q = opts_quote (a->target);
          r = fail (cmdpath, "network %s is specified multiple times", q);
          break;
        }
      /* A single network without options sends no endpoint (the daemon makes one). */
      if (i == 0 && n == 1 && endpoint_is_zero (a))
        continue;
      json_object_set_new (out, a->target, endpoint_json (a));
    }
  if (r == 0 && user && nonuser)
    r = fail (cmdpath, "conflicting options: cannot attach both user-defined and non-user-defined "
                       "network-modes");
  if (r == 0)
    {
      *mode = json_string (nets[0].target);
      json_sort_object (out);
      *eps = steal_pointer (&out);
    }
  net_attach_release (&dflt);
  return r;
}

/* ---- parse(): flags → Config, HostConfig, NetworkingConfig ---- */

static void set (json_t *o, const char *k, json_t *v) { json_object_set_new (o, k, v); }
static json_t *str (const char *s) { return json_string (s ? s : ""); }

/* Entries of a list that carry no "=": docker's ConvertKVStringsToMap gives them "". */
static json_t *kv_map (char **list)
{
  json_t *m = json_object ();
  for (char **e = list; e && *e; e++)
    {
      const char *eq = strchr (*e, '=');
      cleanup_free char *k = eq ? xstrndup (*e, (size_t)(eq - *e)) : xstrdup (*e);
      set (m, k, json_string (eq ? eq + 1 : ""));
    }
  json_sort_object (m);
  return m;
}

static int collect_volumes (const char *cmdpath, char **specs, json_t **binds, json_t **volumes)
{
  cleanup_json json_t *b = json_array (), *v = json_object ();
  for (char **s = specs; s && *s; s++)
    {
      struct cli_volume cv;
      berr_t e = BERR_INIT;
      if (json_object_get (v, *s))
        continue;
      bool dup = false;
      for (char **t = specs; t < s; t++)
        dup |= strcmp (*t, *s) == 0;
      if (dup)
        continue;
      if (parse_cli_volume (*s, &cv, &e) < 0)
        return fail_err (cmdpath, &e);
      if (cv.source == NULL)
        {
          /* Anonymous volume: the whole spec is the key, as docker's map of -v values. */
          set (v, *s, json_object ());
          cli_volume_release (&cv);
          continue;
        }
      const char *colon = strchr (*s, ':');
      if (strcmp (cv.type, "bind") == 0 && colon && **s == '.')
        {
          /* A relative host path starting with "." is made absolute here, as docker does. */
          char cwd[PATH_MAX];
          cleanup_free char *host = xstrndup (*s, (size_t)(colon - *s));
          if (getcwd (cwd, sizeof cwd) == NULL)
            return fail (cmdpath, "cannot resolve %s: current directory unknown", host);
          cleanup_free char *joined = xasprintf ("%s/%s", cwd, host);
          cleanup_free char *abs = go_path_clean (joined);
          json_array_append_new (b, json_sprintf ("%s%s", abs, colon));
        }
      else
        json_array_append_new (b, json_string (*s));
      cli_volume_release (&cv);
    }
  json_sort_object (v);
  *binds = json_array_size (b) ? steal_pointer (&b) : json_null ();
  *volumes = steal_pointer (&v);
  return 0;
}

/* -p (with the long "target=…,published=…" form converted first, as docker's
 * convertToStandardNotation does) and --expose. */
static int collect_ports (const char *cmdpath, struct copts *c, json_t **exposed_out,
                          json_t **bindings_out)
{
  cleanup_json json_t *exposed = json_object (), *bindings = json_object ();
  for (char **p = c->publish; p && *p; p++)
    {
      cleanup_free char *spec = NULL;
      if (strchr (*p, '='))
        {
          const char *published = "", *target = "", *proto = "tcp";
          cleanup_strv char **params = NULL;
          for (const char *s = *p;;)
            {
              const char *comma = strchr (s, ',');
              strv_push_take (&params, comma ? xstrndup (s, (size_t)(comma - s)) : xstrdup (s));
              if (!comma)
                break;
              s = comma + 1;
            }
          for (char **kv = params; *kv; kv++)
            {
              char *eq = strchr (*kv, '=');
              if (!eq || eq == *kv)
                return fail (cmdpath,
                             "invalid publish opts format (should be name=value but got '%s')",
                             *kv);
              *eq = '\0';
              if (strcmp (*kv, "published") == 0)
                published = eq + 1;
              else if (strcmp (*kv, "target") == 0)
                target = eq + 1;
              else if (strcmp (*kv, "protocol") == 0)
                proto = eq + 1;
            }
          spec = xasprintf ("%s:%s/%s", published, target, proto);
        }
      else
        spec = xstrdup (*p);
      struct port_mapping *m;
      size_t n;
      berr_t e = BERR_INIT;
      if (nat_parse_port_spec (spec, &m, &n, &e) < 0)
        return fail_err (cmdpath, &e);
      for (size_t i = 0; i < n; i++)
        {
          set (exposed, m[i].port, json_object ());
          json_t *list = json_object_get (bindings, m[i].port);
          if (!list)
            {
              list = json_array ();
              set (bindings, m[i].port, list);
            }
          json_array_append_new (
              list, json_pack ("{s:s, s:s}", "HostIp", m[i].host_ip, "HostPort", m[i].host_port));
        }
      port_mappings_free (m, n);
    }
  for (char **x = c->expose; x && *x; x++)
    {
      cleanup_free char *proto = NULL, *port = NULL;
      int start, end;
      berr_t e = BERR_INIT;
      if (strchr (*x, ':'))
        return fail (cmdpath, "invalid port format for --expose: %s", *x);
      nat_split_proto_port (*x, &proto, &port);
      if (nat_parse_port_range (port, &start, &end, &e) < 0)
        {
          int r = fail (cmdpath, "invalid range format for --expose: %s, error: %s", *x, e.msg);
          berr_release (&e);
          return r;
        }
      for (int i = start; i <= end; i++)
        {
          cleanup_free char *k = xasprintf ("%d/%s", i, proto);
          if (!json_object_get (exposed, k))
            set (exposed, k, json_object ());
        }
    }
  json_sort_object (exposed);
  json_sort_object (bindings);
  *exposed_out = steal_pointer (&exposed);
  *bindings_out = steal_pointer (&bindings);
  return 0;
}

static int collect_devices (const char *cmdpath, struct copts *c, json_t **devices,
                            json_t **requests)
{
  cleanup_json json_t *devs = json_array ();
  cleanup_strv char **cdi = NULL;
  for (char **d = c->devices; d && *d; d++)
    {
      json_t *m;
      berr_t e = BERR_INIT;
      if (is_cdi_device_name (*d))
        {
          strv_push (&cdi, *d);
          continue;
        }
      if (parse_linux_device (*d, &m, &e) < 0)
        return fail_err (cmdpath, &e);
      json_array_append_new (devs, m);
    }
  json_t *reqs = c->gpus ? json_incref (c->gpus) : NULL;
  if (cdi)
    {
      if (!reqs)
        reqs = json_array ();
      json_array_append_new (reqs, json_pack ("{s:s, s:i, s:o, s:n, s:n}", "Driver", "cdi", "Count",
                                              0, "DeviceIDs", json_from_strv (cdi), "Capabilities",
                                              "Options"));
    }
  *devices = steal_pointer (&devs);
  *requests = reqs ? reqs : json_null ();
  return 0;
}

static int collect_env (const char *cmdpath, struct copts *c, json_t **env, json_t **labels)
{
  cleanup_strv char **vars = NULL, **labs = NULL;
  berr_t e = BERR_INIT;

  for (char **f = c->env_files; f && *f; f++)
    {
      cleanup_strv char **got = NULL;
      if (kvfile_parse_file (*f, kv_getenv, NULL, &got, &e) < 0)
        {
          berr_wrap (&e, "--env-file");
          return fail_err (cmdpath, &e);
        }
      for (char **g = got; *g; g++)
        strv_push (&vars, *g);
    }
  dedup_env (&c->env);
  for (char **v = c->env; v && *v; v++)
    strv_push (&vars, *v);
  for (char **f = c->label_files; f && *f; f++)
    {
      cleanup_strv char **got = NULL;
      if (kvfile_parse_file (*f, NULL, NULL, &got, &e) < 0)
        {
          berr_wrap (&e, "--label-file");
          return fail_err (cmdpath, &e);
        }
      for (char **g = got; *g; g++)
        strv_push (&labs, *g);
    }
  for (char **l = c->labels; l && *l; l++)
    strv_push (&labs, *l);
  *env = strv_or_null (vars);
  *labels = kv_map (labs);
  return 0;
}

static int build_healthcheck (const char *cmdpath, struct copts *c, json_t **out)
{
  bool have = (c->health_cmd && *c->health_cmd) || c->health_interval || c->health_timeout
              || c->health_start_period || c->health_retries || c->health_start_interval;
  *out = NULL;
  if (c->no_healthcheck)
    {
      if (have)
        return fail (cmdpath, "--no-healthcheck conflicts with --health-* options");
      *out = json_pack ("{s:[s]}", "Test", "NONE");
      return 0;
    }
  if (!have)
    return 0;
  static const char neg[] = "--health-%s cannot be negative";
  if (c->health_interval < 0)
    return fail (cmdpath, neg, "interval");
  if (c->health_timeout < 0)
    return fail (cmdpath, neg, "timeout");
  if (c->health_retries < 0)
    return fail (cmdpath, neg, "retries");
  if (c->health_start_period < 0)
    return fail (cmdpath, neg, "start-period");
  if (c->health_start_interval < 0)
    return fail (cmdpath, neg, "start-interval");
  json_t *h = json_object ();
  if (c->health_cmd && *c->health_cmd)
    set (h, "Test", json_pack ("[s, s]", "CMD-SHELL", c->health_cmd));
  /* All omitempty in the API types. */
  if (c->health_interval)
    set (h, "Interval", json_integer (c->health_interval));
  if (c->health_timeout)
    set (h, "Timeout", json_integer (c->health_timeout));
  if (c->health_start_period)
    set (h, "StartPeriod", json_integer (c->health_start_period));
  if (c->health_start_interval)
    set (h, "StartInterval", json_integer (c->health_start_interval));
  if (c->health_retries)
    set (h, "Retries", json_integer (c->health_retries));
  *out = h;
  return 0;
}

static int build_body (const char *cmdpath, struct copts *c, char **args, json_t **out)
{
  bool att_in = strv_contains (c->attach, "stdin"), att_out = strv_contains (c->attach, "stdout"),
       att_err = strv_contains (c->attach, "stderr");
  cleanup_json json_t *binds = NULL, *volumes = NULL, *exposed = NULL, *bindings = NULL,
                      *devices = NULL, *requests = NULL, *env = NULL, *labels = NULL,
                      *restart = NULL, *secopts = NULL, *health = NULL, *mode = NULL, *eps = NULL;
  bool unconfined;
  berr_t e = BERR_INIT;

  if (c->mac && !mac_ok (c->mac))
    return fail (cmdpath, "%s is not a valid mac address", c->mac);
  if (c->stdin_open)
    att_in = true;
  if (!c->attach)
    att_out = att_err = true;
  if (c->swappiness != -1 && (c->swappiness < 0 || c->swappiness > 100))
    return fail (cmdpath, "invalid value: %lld. Valid memory swappiness range is 0-100",
                 (long long)c->swappiness);
  if (collect_volumes (cmdpath, c->volumes, &binds, &volumes))
    return EXIT_ENGINE;
  cleanup_json json_t *tmpfs = json_object ();
  for (char **t = c->tmpfs; t && *t; t++)
    {
      const char *colon = strchr (*t, ':');
      cleanup_free char *k = colon ? xstrndup (*t, (size_t)(colon - *t)) : xstrdup (*t);
      set (tmpfs, k, json_string (colon ? colon + 1 : ""));
    }
  json_sort_object (tmpfs);
  json_t *cmd = args[1] ? json_from_strv (args + 1) : json_null ();
  json_t *entrypoint = json_null ();
  if (c->entrypoint) /* --entrypoint "" resets the image's entrypoint to [""] */
    entrypoint = json_pack ("[s]", c->entrypoint);
  cleanup_json json_t *cmd_j = cmd, *ep_j = entrypoint;
  if (collect_ports (cmdpath, c, &exposed, &bindings)
      || collect_devices (cmdpath, c, &devices, &requests)
      || collect_env (cmdpath, c, &env, &labels))
    return EXIT_ENGINE;

  const char *pid = c->pid ? c->pid : "", *uts = c->uts ? c->uts : "",
             *userns = c->userns ? c->userns : "", *cgroupns = c->cgroupns ? c->cgroupns : "";
  if (!pid_mode_valid (pid))
    return fail (cmdpath, "--pid: invalid PID mode");
  if (*uts && strcmp (uts, "host"))
    return fail (cmdpath, "--uts: invalid UTS mode");
  if (*userns && strcmp (userns, "host"))
    return fail (cmdpath, "--userns: invalid USER mode");
  if (*cgroupns && strcmp (cgroupns, "host") && strcmp (cgroupns, "private"))
    return fail (cmdpath, "--cgroupns: invalid CGROUP mode");
  if (parse_restart_policy (c->restart, &restart, &e) < 0)
    return fail_err (cmdpath, &e);
  if (c->log_driver && strcmp (c->log_driver, "none") == 0 && c->log_opts)
    return fail (cmdpath, "invalid logging opts for driver none");
  if (cli_security_opts (cmdpath, c->security_opts, &secopts, &unconfined))
    return EXIT_ENGINE;
  cleanup_json json_t *storage = json_object ();
  for (char **s = c->storage_opts; s && *s; s++)
    {
      const char *eq = strchr (*s, '=');
      if (!eq)
        return fail (cmdpath, "invalid storage option");
      cleanup_free char *k = xstrndup (*s, (size_t)(eq - *s));
      set (storage, k, json_string (eq + 1));
    }
  json_sort_object (storage);
  if (build_healthcheck (cmdpath, c, &health))
    return EXIT_ENGINE;

  json_t *cfg = json_object ();
  set (cfg, "Hostname", str (c->hostname));
  set (cfg, "Domainname", str (c->domainname));
  set (cfg, "User", str (c->user));
  set (cfg, "AttachStdin", json_boolean (att_in));
  set (cfg, "AttachStdout", json_boolean (att_out));
  set (cfg, "AttachStderr", json_boolean (att_err));
  if (json_object_size (exposed))
    set (cfg, "ExposedPorts", json_incref (exposed));
  set (cfg, "Tty", json_boolean (c->tty));
  set (cfg, "OpenStdin", json_boolean (c->stdin_open));
  /* Attached with stdin open: stdin closes when the client detaches (docker run -i). */
  set (cfg, "StdinOnce", json_boolean (c->stdin_open && att_in));
  set (cfg, "Env", json_incref (env));
  set (cfg, "Cmd", json_incref (cmd_j));
  if (health)
    set (cfg, "Healthcheck", json_incref (health));
  set (cfg, "Image", json_string (args[0]));
  set (cfg, "Volumes", json_incref (volumes));
  set (cfg, "WorkingDir", str (c->workdir));
  set (cfg, "Entrypoint", json_incref (ep_j));
  set (cfg, "OnBuild", json_null ());
  set (cfg, "Labels", json_incref (labels));
  if (c->stop_signal && *c->stop_signal)
    set (cfg, "StopSignal", json_string (c->stop_signal));
  if (c->stop_timeout_set)
    set (cfg, "StopTimeout", json_integer (c->stop_timeout));

  json_t *hc = json_object ();
  set (hc, "Binds", json_incref (binds));
  set (hc, "ContainerIDFile", str (c->cidfile));
  set (hc, "LogConfig",
       json_pack ("{s:s, s:o}", "Type", c->log_driver ? c->log_driver : "", "Config",
                  kv_map (c->log_opts)));
  set (hc, "NetworkMode", json_null ()); /* filled in below, keeping docker's key order */
  set (hc, "PortBindings", json_incref (bindings));
  set (hc, "RestartPolicy", json_incref (restart));
  set (hc, "AutoRemove", json_boolean (c->rm));
  set (hc, "VolumeDriver", str (c->volume_driver));
  set (hc, "VolumesFrom", strv_or_null (c->volumes_from));
  set (hc, "ConsoleSize", json_pack ("[i, i]", 0, 0));
  if (json_object_size (c->annotations))
    {
      json_sort_object (c->annotations);
      set (hc, "Annotations", json_incref (c->annotations));
    }
  set (hc, "CapAdd", normalize_caps (c->cap_add));
  set (hc, "CapDrop", normalize_caps (c->cap_drop));
  set (hc, "CgroupnsMode", json_string (cgroupns));
  set (hc, "Dns", strv_or_empty (c->dns));
  set (hc, "DnsOptions", strv_or_empty (c->dns_options));
  set (hc, "DnsSearch", strv_or_empty (c->dns_search));
  set (hc, "ExtraHosts", strv_or_null (c->extra_hosts));
  set (hc, "GroupAdd", strv_or_null (c->group_add));
  set (hc, "IpcMode", str (c->ipc));
  set (hc, "Cgroup", json_string (""));
  set (hc, "Links", strv_or_null (c->links));
  set (hc, "OomScoreAdj", json_integer (c->oom_score_adj));
  set (hc, "PidMode", json_string (pid));
  set (hc, "Privileged", json_boolean (c->privileged));
  set (hc, "PublishAllPorts", json_boolean (c->publish_all));
  set (hc, "ReadonlyRootfs", json_boolean (c->read_only));
  set (hc, "SecurityOpt", json_array_size (secopts) ? json_incref (secopts) : json_null ());
  if (json_object_size (storage))
    set (hc, "StorageOpt", json_incref (storage));
  if (json_object_size (tmpfs))
    set (hc, "Tmpfs", json_incref (tmpfs));
  set (hc, "UTSMode", json_string (uts));
  set (hc, "UsernsMode", json_string (userns));
  set (hc, "ShmSize", json_integer (c->shm_size));
  if (json_object_size (c->sysctls))
    {
      json_sort_object (c->sysctls);
      set (hc, "Sysctls", json_incref (c->sysctls));
    }
  if (c->runtime && *c->runtime)
    set (hc, "Runtime", json_string (c->runtime));
  set (hc, "Isolation", str (c->isolation));
  set (hc, "CpuShares", json_integer (c->cpu_shares));
  set (hc, "Memory", json_integer (c->memory));
  set (hc, "NanoCpus", json_integer (c->nano_cpus));
  set (hc, "CgroupParent", str (c->cgroup_parent));
  set (hc, "BlkioWeight", json_integer (c->blkio_weight));
  set (hc, "BlkioWeightDevice", obj_or_empty_array (c->weight_devices));
  set (hc, "BlkioDeviceReadBps", obj_or_empty_array (c->read_bps));
  set (hc, "BlkioDeviceWriteBps", obj_or_empty_array (c->write_bps));
  set (hc, "BlkioDeviceReadIOps", obj_or_empty_array (c->read_iops));
  set (hc, "BlkioDeviceWriteIOps", obj_or_empty_array (c->write_iops));
  set (hc, "CpuPeriod", json_integer (c->cpu_period));
  set (hc, "CpuQuota", json_integer (c->cpu_quota));
  set (hc, "CpuRealtimePeriod", json_integer (c->cpu_rt_period));
  set (hc, "CpuRealtimeRuntime", json_integer (c->cpu_rt_runtime));
  set (hc, "CpusetCpus", str (c->cpuset_cpus));
  set (hc, "CpusetMems", str (c->cpuset_mems));
  set (hc, "Devices", json_incref (devices));
  set (hc, "DeviceCgroupRules", strv_or_null (c->cgroup_rules));
  set (hc, "DeviceRequests", json_incref (requests));
  set (hc, "MemoryReservation", json_integer (c->memory_reservation));
  set (hc, "MemorySwap", json_integer (c->memory_swap));
  set (hc, "MemorySwappiness", json_integer (c->swappiness));
  set (hc, "OomKillDisable", json_boolean (c->oom_kill_disable));
  set (hc, "PidsLimit", json_integer (c->pids_limit));
  json_t *ulimits = json_array ();
  if (c->ulimits)
    {
      json_sort_object (c->ulimits);
      const char *k;
      json_t *u;
      json_object_foreach (c->ulimits, k, u) { json_array_append (ulimits, u); }
    }
  set (hc, "Ulimits", ulimits);
  set (hc, "CpuCount", json_integer (0));
  set (hc, "CpuPercent", json_integer (0));
  set (hc, "IOMaximumIOps", json_integer (0));
  set (hc, "IOMaximumBandwidth", json_integer (0));
  if (json_array_size (c->mounts))
    set (hc, "Mounts", json_incref (c->mounts));
  set (hc, "MaskedPaths", unconfined ? json_array () : json_null ());
  set (hc, "ReadonlyPaths", unconfined ? json_array () : json_null ());

  cleanup_json json_t *body = json_pack ("{s:s, s:o, s:o}", "Name", c->name ? c->name : "",
                                         "Config", cfg, "HostConfig", hc);
  const char *rname = json_string_value (json_object_get (restart, "Name"));
  if (c->rm && rname && *rname && strcmp (rname, "no") != 0)
    return fail (cmdpath, "conflicting options: cannot specify both --restart and --rm");
  if (c->init >= 0)
    set (hc, "Init", json_boolean (c->init));
  if (build_networks (cmdpath, c, &mode, &eps))
    return EXIT_ENGINE;
  set (hc, "NetworkMode", json_incref (mode));
  set (body, "NetworkingConfig", json_pack ("{s:O}", "EndpointsConfig", eps));
  *out = steal_pointer (&body);
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
    return fail (cmdpath,
                 "invalid pull option: '%s': must be one of \"always\", \"missing\" or \"never\"",
                 c->pull);
  r = build_body (cmdpath, c, pos, &body);
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
      set (cfg, "AttachStdin", json_false ());
      set (cfg, "AttachStdout", json_false ());
      set (cfg, "AttachStderr", json_false ());
      set (cfg, "StdinOnce", json_false ());
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
    return fail_err (cmdpath, &e);

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
