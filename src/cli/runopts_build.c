/* runopts_build.c — docker/cli's parse() (cli/command/container/opts.go): the collected flags
 * become Config, HostConfig and NetworkingConfig, with docker's keys, order and zero values. */
#include <errno.h>
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

/* ---- messages and small helpers ---- */

int runopts_fail (const char *cmdpath, const char *fmt, ...)
{
  va_list ap;
  fputs ("berth: ", stderr);
  va_start (ap, fmt);
  vfprintf (stderr, fmt, ap);
  va_end (ap);
  fprintf (stderr, "\n\nRun '%s --help' for more information\n", cmdpath);
  return EXIT_ENGINE;
}

int runopts_fail_err (const char *cmdpath, berr_t *e)
{
  int r = runopts_fail (cmdpath, "%s", e->msg ? e->msg : "invalid argument");
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
          return runopts_fail (cmdpath, "Invalid --security-opt: %s", q);
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
              /* Go spells errno texts in lower case: "open x: no such file or directory". */
              cleanup_free char *why = xstrdup (strerror (e.errnum ? e.errnum : EINVAL));
              if (why[0] >= 'A' && why[0] <= 'Z')
                why[0] = (char)(why[0] - 'A' + 'a');
              berr_release (&e);
              return runopts_fail (cmdpath, "opening seccomp profile (%s) failed: open %s: %s", v,
                                   v, why);
            }
          cleanup_json json_t *prof = json_parse_buf (data, len, "seccomp profile", &e);
          if (!prof)
            {
              int r = runopts_fail (cmdpath, "compacting json for seccomp profile (%s) failed: %s",
                                    v, e.msg);
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
    return runopts_fail (cmdpath, conflict, "--network-alias", "alias");
  if (n->links && c->links)
    return runopts_fail (cmdpath, conflict, "--link", "links");
  if (n->ipv4 && c->ip)
    return runopts_fail (cmdpath, conflict, "--ip", "IPv4 address");
  if (n->ipv6 && c->ip6)
    return runopts_fail (cmdpath, conflict, "--ip6", "IPv6 address");
  if (n->mac && c->mac)
    return runopts_fail (cmdpath, conflict, "--mac-address", "MAC address");
  if (n->link_local_ips && c->link_local_ips)
    return runopts_fail (cmdpath, conflict, "--link-local-ip", "link-local IP addresses");
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
        return runopts_fail (cmdpath, "invalid IPv4 address: %s", c->ip);
      n->ipv4 = go_ip_string (ip);
    }
  if (c->ip6)
    {
      if (!go_parse_ip (c->ip6, ip, &is4) || is4)
        return runopts_fail (cmdpath, "invalid IPv6 address: %s", c->ip6);
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
    return runopts_fail (cmdpath, "no name set for network");
  if (!network_is_user_defined (n->target))
    {
      if (n->aliases)
        return runopts_fail (cmdpath,
                             "network-scoped aliases are only supported for user-defined networks");
      if (n->links)
        return runopts_fail (cmdpath, "links are only supported for user-defined networks");
    }
  if (n->mac && !mac_ok (n->mac))
    return runopts_fail (cmdpath, "%s is not a valid mac address", n->mac);
  return 0;
}

/* NetworkMode and EndpointsConfig. Without --network: "default" (the engine's bridge), as the
 * docker CLI sends. */
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
      dflt.target = xstrdup ("default");
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
          r = runopts_fail (cmdpath, "network %s is specified multiple times", q);
          break;
        }
      /* A single network without options sends no endpoint (the daemon makes one). */
      if (i == 0 && n == 1 && endpoint_is_zero (a))
        continue;
      json_object_set_new (out, a->target, endpoint_json (a));
    }
  if (r == 0 && user && nonuser)
    r = runopts_fail (cmdpath,
                      "conflicting options: cannot attach both user-defined and non-user-defined "
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
        return runopts_fail_err (cmdpath, &e);
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
            return runopts_fail (cmdpath, "cannot resolve %s: current directory unknown", host);
          cleanup_free char *joined = xasprintf ("%s/%s", cwd, host);
          cleanup_free char *abs = fs_path_clean (joined);
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
                return runopts_fail (
                    cmdpath, "invalid publish opts format (should be name=value but got '%s')",
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
        return runopts_fail_err (cmdpath, &e);
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
        return runopts_fail (cmdpath, "invalid port format for --expose: %s", *x);
      nat_split_proto_port (*x, &proto, &port);
      if (nat_parse_port_range (port, &start, &end, &e) < 0)
        {
          int r = runopts_fail (cmdpath, "invalid range format for --expose: %s, error: %s", *x,
                                e.msg);
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
        return runopts_fail_err (cmdpath, &e);
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
          return runopts_fail_err (cmdpath, &e);
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
          return runopts_fail_err (cmdpath, &e);
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
        return runopts_fail (cmdpath, "--no-healthcheck conflicts with --health-* options");
      *out = json_pack ("{s:[s]}", "Test", "NONE");
      return 0;
    }
  if (!have)
    return 0;
  static const char neg[] = "--health-%s cannot be negative";
  if (c->health_interval < 0)
    return runopts_fail (cmdpath, neg, "interval");
  if (c->health_timeout < 0)
    return runopts_fail (cmdpath, neg, "timeout");
  if (c->health_retries < 0)
    return runopts_fail (cmdpath, neg, "retries");
  if (c->health_start_period < 0)
    return runopts_fail (cmdpath, neg, "start-period");
  if (c->health_start_interval < 0)
    return runopts_fail (cmdpath, neg, "start-interval");
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

int runopts_build_body (const char *cmdpath, struct copts *c, char **args, json_t **out)
{
  bool att_in = strv_contains (c->attach, "stdin"), att_out = strv_contains (c->attach, "stdout"),
       att_err = strv_contains (c->attach, "stderr");
  cleanup_json json_t *binds = NULL, *volumes = NULL, *exposed = NULL, *bindings = NULL,
                      *devices = NULL, *requests = NULL, *env = NULL, *labels = NULL,
                      *restart = NULL, *secopts = NULL, *health = NULL, *mode = NULL, *eps = NULL;
  bool unconfined;
  berr_t e = BERR_INIT;

  if (c->mac && !mac_ok (c->mac))
    return runopts_fail (cmdpath, "%s is not a valid mac address", c->mac);
  if (c->stdin_open)
    att_in = true;
  if (!c->attach)
    att_out = att_err = true;
  if (c->swappiness != -1 && (c->swappiness < 0 || c->swappiness > 100))
    return runopts_fail (cmdpath, "invalid value: %lld. Valid memory swappiness range is 0-100",
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
    return runopts_fail (cmdpath, "--pid: invalid PID mode");
  if (*uts && strcmp (uts, "host"))
    return runopts_fail (cmdpath, "--uts: invalid UTS mode");
  if (*userns && strcmp (userns, "host"))
    return runopts_fail (cmdpath, "--userns: invalid USER mode");
  if (*cgroupns && strcmp (cgroupns, "host") && strcmp (cgroupns, "private"))
    return runopts_fail (cmdpath, "--cgroupns: invalid CGROUP mode");
  if (parse_restart_policy (c->restart, &restart, &e) < 0)
    return runopts_fail_err (cmdpath, &e);
  if (c->log_driver && strcmp (c->log_driver, "none") == 0 && c->log_opts)
    return runopts_fail (cmdpath, "invalid logging opts for driver none");
  if (cli_security_opts (cmdpath, c->security_opts, &secopts, &unconfined))
    return EXIT_ENGINE;
  cleanup_json json_t *storage = json_object ();
  for (char **s = c->storage_opts; s && *s; s++)
    {
      const char *eq = strchr (*s, '=');
      if (!eq)
        return runopts_fail (cmdpath, "invalid storage option");
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
  /* null without --security-opt; [] when systempaths=unconfined was the only one. */
  set (hc, "SecurityOpt", c->security_opts ? json_incref (secopts) : json_null ());
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
    return runopts_fail (cmdpath, "conflicting options: cannot specify both --restart and --rm");
  if (c->init >= 0)
    set (hc, "Init", json_boolean (c->init));
  if (build_networks (cmdpath, c, &mode, &eps))
    return EXIT_ENGINE;
  set (hc, "NetworkMode", json_incref (mode));
  set (body, "NetworkingConfig", json_pack ("{s:O}", "EndpointsConfig", eps));
  *out = steal_pointer (&body);
  return 0;
}
