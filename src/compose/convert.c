/* convert.c — a Compose service becomes the Engine-API create body `berth run` would send for
 * the equivalent flags (same keys as runopts_build.c), plus compose's labels and config hash. */
#include <stdlib.h>
#include <string.h>

#include "compose/engine.h"
#include "gpu/gpus.h"
#include "util/json.h"
#include "util/util.h"
#include "compose/engine_int.h"

static void set (json_t *o, const char *k, json_t *v) { json_object_set_new (o, k, v); }
static json_t *str (const char *s) { return json_string (s ? s : ""); }
static json_t *strv_or_null (char **v) { return v && v[0] ? json_from_strv (v) : json_null (); }
static json_t *strv_or_empty (char **v) { return v ? json_from_strv (v) : json_array (); }

/* "K=V" entries as an object; an entry without "=" maps to "". */
static json_t *kv_obj (char **list)
{
  json_t *m = json_object ();
  for (char **e = list; e && *e; e++)
    {
      const char *eq = strchr (*e, '=');
      cleanup_free char *k = eq ? xstrndup (*e, (size_t)(eq - *e)) : xstrdup (*e);
      set (m, k, json_string (eq ? eq + 1 : ""));
    }
  return m;
}

char *compose_service_image (const struct compose_project *p, const struct compose_service *svc)
{
  if (svc->image && svc->image[0])
    return xstrdup (svc->image);
  return xasprintf ("%s-%s", p->name, svc->name);
}

static const struct compose_resource *find_res (const struct compose_resource *v, size_t n,
                                                const char *key)
{
  for (size_t i = 0; i < n; i++)
    if (strcmp (v[i].key, key) == 0)
      return &v[i];
  return NULL;
}

/* The engine's name of a project network/volume key (the key itself when undeclared). */
static const char *net_name (const struct compose_project *p, const char *key)
{
  const struct compose_resource *r = find_res (p->networks, p->nnetworks, key);
  return r ? r->name : key;
}

static const char *vol_name (const struct compose_project *p, const char *key)
{
  const struct compose_resource *r = find_res (p->volumes, p->nvolumes, key);
  return r ? r->name : key;
}

static json_t *normalize_caps (char **caps)
{
  if (!caps)
    return json_null ();
  json_t *out = json_array ();
  for (char **c = caps; *c; c++)
    {
      cleanup_free char *u = xstrdup (*c);
      for (char *q = u; *q; q++)
        if (*q >= 'a' && *q <= 'z')
          *q = (char)(*q - 'a' + 'A');
      json_array_append_new (out, strcmp (u, "ALL") == 0 || str_has_prefix (u, "CAP_")
                                      ? json_string (u)
                                      : json_sprintf ("CAP_%s", u));
    }
  return out;
}

static json_t *restart_policy (const char *r)
{
  const char *name = r && r[0] ? r : "no";
  int max = 0;
  cleanup_free char *n = xstrdup (name);
  char *colon = strchr (n, ':');
  if (colon)
    {
      *colon = 0;
      max = atoi (colon + 1);
    }
  return json_pack ("{s:s, s:i}", "Name", n, "MaximumRetryCount", max);
}

/* The config hash: the service's normalised node as canonical JSON (without the replica count,
 * which scaling changes without making containers diverge) and the image ID. */
static void service_hash (const struct compose_service *svc, const char *image_id,
                          char out[DIGEST_STR_LEN])
{
  cleanup_json json_t *j = cnode_to_json (svc->node);
  if (json_is_object (j))
    {
      json_object_del (j, "scale");
      json_t *d = json_object_get (j, "deploy");
      if (json_is_object (d))
        json_object_del (d, "replicas");
    }
  cleanup_free char *s = json_dumps (j, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
  struct sha256 h;
  sha256_init (&h);
  if (s)
    sha256_update (&h, s, strlen (s));
  sha256_update (&h, "\n", 1);
  if (image_id)
    sha256_update (&h, image_id, strlen (image_id));
  sha256_final (&h, out);
  sha256_release (&h);
}

static void add_mounts (const struct compose_project *p, const struct compose_service *svc,
                        json_t *binds, json_t *mounts)
{
  for (size_t i = 0; i < svc->nmounts; i++)
    {
      const struct compose_mount *m = &svc->mounts[i];
      if (strcmp (m->type, "bind") == 0 && m->create_host_path && !m->propagation && !m->selinux)
        {
          /* Like -v: a missing host directory is created. */
          json_array_append_new (
              binds, json_sprintf ("%s:%s%s", m->source, m->target, m->read_only ? ":ro" : ""));
          continue;
        }
      json_t *o = json_object ();
      set (o, "Type", json_string (m->type));
      if (strcmp (m->type, "volume") == 0)
        {
          if (m->source && m->source[0])
            set (o, "Source", json_string (vol_name (p, m->source)));
          if (m->nocopy)
            set (o, "VolumeOptions", json_pack ("{s:b}", "NoCopy", true));
        }
      else if (strcmp (m->type, "bind") == 0)
        {
          set (o, "Source", json_string (m->source));
          json_t *bo = json_object ();
          if (m->propagation)
            set (bo, "Propagation", json_string (m->propagation));
          if (m->create_host_path)
            set (bo, "CreateMountpoint", json_true ());
          set (o, "BindOptions", bo);
        }
      else if (strcmp (m->type, "tmpfs") == 0)
        {
          json_t *to = json_object ();
          if (m->tmpfs_size)
            set (to, "SizeBytes", json_integer (m->tmpfs_size));
          if (m->tmpfs_mode)
            set (to, "Mode", json_integer (m->tmpfs_mode));
          if (json_object_size (to))
            set (o, "TmpfsOptions", to);
          else
            json_decref (to);
        }
      else if (m->source)
        set (o, "Source", json_string (m->source));
      set (o, "Target", json_string (m->target));
      if (m->read_only)
        set (o, "ReadOnly", json_true ());
      json_array_append_new (mounts, o);
    }
  /* configs and secrets from files: read-only binds at compose's default places. */
  for (int kind = 0; kind < 2; kind++)
    {
      const struct compose_file_ref *refs = kind ? svc->secrets : svc->configs;
      size_t n = kind ? svc->nsecrets : svc->nconfigs;
      const struct compose_resource *res = kind ? p->secrets : p->configs;
      size_t nres = kind ? p->nsecrets : p->nconfigs;
      for (size_t i = 0; i < n; i++)
        {
          const struct compose_resource *r = find_res (res, nres, refs[i].source);
          if (!r || !r->file)
            continue;
          cleanup_free char *target = NULL;
          if (refs[i].target && refs[i].target[0] == '/')
            target = xstrdup (refs[i].target);
          else if (kind)
            target
                = xasprintf ("/run/secrets/%s", refs[i].target ? refs[i].target : refs[i].source);
          else
            target = xasprintf ("/%s", refs[i].target ? refs[i].target : refs[i].source);
          json_array_append_new (binds, json_sprintf ("%s:%s:ro", r->file, target));
        }
    }
}

static json_t *healthcheck_json (const struct compose_healthcheck *h)
{
  if (!h->set)
    return NULL;
  if (h->disable)
    return json_pack ("{s:[s]}", "Test", "NONE");
  json_t *o = json_object ();
  if (h->test)
    set (o, "Test", json_from_strv (h->test));
  if (h->interval_ns > 0)
    set (o, "Interval", json_integer (h->interval_ns));
  if (h->timeout_ns > 0)
    set (o, "Timeout", json_integer (h->timeout_ns));
  if (h->start_period_ns > 0)
    set (o, "StartPeriod", json_integer (h->start_period_ns));
  if (h->start_interval_ns > 0)
    set (o, "StartInterval", json_integer (h->start_interval_ns));
  if (h->retries > 0)
    set (o, "Retries", json_integer (h->retries));
  return o;
}

static int add_devices (const struct compose_service *svc, json_t *hc, berr_t *err)
{
  json_t *devs = json_array ();
  set (hc, "Devices", devs);
  for (char **d = svc->devices; d && *d; d++)
    {
      cleanup_strv char **parts = NULL;
      const char *s = *d;
      for (;;)
        {
          const char *c = strchr (s, ':');
          strv_push_take (&parts, c ? xstrndup (s, (size_t)(c - s)) : xstrdup (s));
          if (!c)
            break;
          s = c + 1;
        }
      size_t np = strv_len (parts);
      const char *perms = "rwm", *dst = parts[0];
      if (np >= 2)
        dst = parts[1];
      if (np >= 3)
        perms = parts[2];
      json_array_append_new (devs, json_pack ("{s:s, s:s, s:s}", "PathOnHost", parts[0],
                                              "PathInContainer", dst, "CgroupPermissions", perms));
    }
  if (svc->ndevice_requests == 0)
    {
      set (hc, "DeviceRequests", json_null ());
      return 0;
    }
  json_t *reqs = json_array ();
  set (hc, "DeviceRequests", reqs);
  for (size_t i = 0; i < svc->ndevice_requests; i++)
    {
      const struct compose_device_request *dr = &svc->device_requests[i];
      if (dr->count > 0 && dr->device_ids && dr->device_ids[0])
        return berr_setk (err, BERR_INVALID, 0,
                          "service \"%s\": cannot set both Count and DeviceIDs on device request",
                          svc->name);
      struct gpu_request g = {
        .driver = dr->driver ? dr->driver : (char *)"",
        .count = dr->count < 0 ? -1 : (int)dr->count,
        .device_ids = dr->device_ids,
        .capabilities = dr->capabilities,
      };
      json_array_append_new (reqs, gpu_request_to_json (&g));
    }
  return 0;
}

/* Sort networks as compose does: priority (high first), then key. */
static int net_cmp (const void *a, const void *b)
{
  const struct compose_net_attach *x = *(const struct compose_net_attach *const *)a,
                                  *y = *(const struct compose_net_attach *const *)b;
  if (x->priority != y->priority)
    return x->priority > y->priority ? -1 : 1;
  return strcmp (x->network, y->network);
}

json_t *compose_endpoint_json (const struct compose_project *p, const struct compose_service *svc,
                               const struct compose_net_attach *na, bool first)
{
  json_t *ep = json_object ();
  cleanup_strv char **aliases = NULL;
  strv_push (&aliases, svc->name);
  for (char **a = na ? na->aliases : NULL; a && *a; a++)
    if (!strv_contains (aliases, *a))
      strv_push (&aliases, *a);
  set (ep, "Aliases", json_from_strv (aliases));
  if (na && (na->ipv4_address || na->ipv6_address))
    {
      json_t *ipam = json_object ();
      if (na->ipv4_address)
        set (ipam, "IPv4Address", json_string (na->ipv4_address));
      if (na->ipv6_address)
        set (ipam, "IPv6Address", json_string (na->ipv6_address));
      set (ep, "IPAMConfig", ipam);
    }
  if (first && svc->links)
    {
      /* links: "service[:alias]" name the linked service's first container. */
      json_t *links = json_array ();
      for (char **l = svc->links; *l; l++)
        {
          const char *colon = strchr (*l, ':');
          cleanup_free char *target = colon ? xstrndup (*l, (size_t)(colon - *l)) : xstrdup (*l);
          const struct compose_service *ls = compose_service_find (p, target);
          cleanup_free char *cname = ls && ls->container_name ? xstrdup (ls->container_name)
                                     : ls ? xasprintf ("%s-%s-1", p->name, target)
                                          : xstrdup (target);
          json_array_append_new (links, json_sprintf ("%s:%s", cname, colon ? colon + 1 : target));
        }
      set (ep, "Links", links);
    }
  return ep;
}

/* The service's networks in attach order (borrowed pointers). */
static size_t service_nets (const struct compose_service *svc,
                            const struct compose_net_attach ***out)
{
  const struct compose_net_attach **v = xcalloc (svc->nnetworks + 1, sizeof *v);
  for (size_t i = 0; i < svc->nnetworks; i++)
    v[i] = &svc->networks[i];
  qsort (v, svc->nnetworks, sizeof *v, net_cmp);
  *out = v;
  return svc->nnetworks;
}

int compose_service_networks (const struct compose_project *p, const struct compose_service *svc,
                              json_t **extra)
{
  /* Networks after the first, connected after create: {name: endpoint}. */
  *extra = json_object ();
  if (svc->network_mode)
    return 0;
  cleanup_free const struct compose_net_attach **nets = NULL;
  size_t n = service_nets (svc, &nets);
  for (size_t i = 1; i < n; i++)
    set (*extra, net_name (p, nets[i]->network), compose_endpoint_json (p, svc, nets[i], false));
  return 0;
}

static char *container_name (const struct compose_project *p, const struct compose_service *svc,
                             int number, bool oneoff)
{
  if (oneoff)
    {
      unsigned char rnd[6];
      FILE *f = fopen ("/dev/urandom", "re");
      if (!f || fread (rnd, 1, sizeof rnd, f) != sizeof rnd)
        memset (rnd, 0, sizeof rnd);
      if (f)
        fclose (f);
      return xasprintf ("%s-%s-run-%02x%02x%02x%02x%02x%02x", p->name, svc->name, rnd[0], rnd[1],
                        rnd[2], rnd[3], rnd[4], rnd[5]);
    }
  if (svc->container_name && svc->container_name[0])
    return xstrdup (svc->container_name);
  return xasprintf ("%s-%s-%d", p->name, svc->name, number);
}

static char *depends_label (const struct compose_service *svc)
{
  cleanup_strv char **v = NULL;
  for (size_t i = 0; i < svc->ndepends; i++)
    {
      const struct compose_dep *d = &svc->depends_on[i];
      const char *cond = d->condition == COMPOSE_DEP_HEALTHY     ? "service_healthy"
                         : d->condition == COMPOSE_DEP_COMPLETED ? "service_completed_successfully"
                                                                 : "service_started";
      strv_push_take (&v, xasprintf ("%s:%s:%s", d->service, cond, d->restart ? "true" : "false"));
    }
  return v ? compose_strv_join (v, ",") : xstrdup ("");
}

int compose_service_body (struct compose_ctx *c, const struct compose_project *p,
                          const struct compose_service *svc, int number, bool oneoff,
                          const char *image_id, json_t **body, char hash[DIGEST_STR_LEN],
                          berr_t *err)
{
  (void)c;
  char h[DIGEST_STR_LEN];
  service_hash (svc, image_id, h);
  if (hash)
    memcpy (hash, h, DIGEST_STR_LEN);
  cleanup_free char *image = compose_service_image (p, svc);
  cleanup_free char *name = container_name (p, svc, number, oneoff);

  /* Labels: the service's, then compose's own (which win). */
  json_t *labels = kv_obj (svc->labels);
  set (labels, COMPOSE_LABEL_PROJECT, json_string (p->name));
  set (labels, COMPOSE_LABEL_SERVICE, json_string (svc->name));
  set (labels, COMPOSE_LABEL_NUMBER, json_sprintf ("%d", number));
  set (labels, COMPOSE_LABEL_HASH, json_string (digest_hex (h)));
  set (labels, COMPOSE_LABEL_ONEOFF, json_string (oneoff ? "True" : "False"));
  set (labels, COMPOSE_LABEL_WORKDIR, str (p->working_dir));
  cleanup_free char *files
      = p->config_files ? compose_strv_join (p->config_files, ",") : xstrdup ("");
  set (labels, COMPOSE_LABEL_FILES, json_string (files));
  set (labels, COMPOSE_LABEL_VERSION, json_string (COMPOSE_VERSION));
  cleanup_free char *deps = depends_label (svc);
  set (labels, COMPOSE_LABEL_DEPENDS, json_string (deps));
  set (labels, COMPOSE_LABEL_IMAGE, json_string (image_id ? image_id : ""));

  /* Environment: entries without a value stay unset, as compose leaves them. */
  json_t *env = json_array ();
  for (char **e = svc->environment; e && *e; e++)
    if (strchr (*e, '='))
      json_array_append_new (env, json_string (*e));

  json_t *exposed = json_object (), *bindings = json_object ();
  for (size_t i = 0; i < svc->nports; i++)
    {
      const struct compose_port *pt = &svc->ports[i];
      cleanup_free char *key = xasprintf ("%u/%s", pt->target, pt->protocol ? pt->protocol : "tcp");
      set (exposed, key, json_object ());
      json_t *list = json_object_get (bindings, key);
      if (!list)
        set (bindings, key, list = json_array ());
      json_array_append_new (list,
                             json_pack ("{s:s, s:s}", "HostIp", pt->host_ip ? pt->host_ip : "",
                                        "HostPort", pt->published ? pt->published : ""));
    }
  for (char **x = svc->expose; x && *x; x++)
    {
      cleanup_free char *key = strchr (*x, '/') ? xstrdup (*x) : xasprintf ("%s/tcp", *x);
      if (!json_object_get (exposed, key))
        set (exposed, key, json_object ());
    }

  json_t *cfg = json_object ();
  set (cfg, "Hostname", str (svc->hostname));
  set (cfg, "Domainname", str (svc->domainname));
  set (cfg, "User", str (svc->user));
  set (cfg, "AttachStdin", json_false ());
  set (cfg, "AttachStdout", json_true ());
  set (cfg, "AttachStderr", json_true ());
  if (json_object_size (exposed))
    set (cfg, "ExposedPorts", exposed);
  else
    json_decref (exposed);
  set (cfg, "Tty", json_boolean (svc->tty));
  set (cfg, "OpenStdin", json_boolean (svc->stdin_open));
  set (cfg, "StdinOnce", json_false ());
  set (cfg, "Env", env);
  set (cfg, "Cmd", svc->command_set ? strv_or_empty (svc->command) : json_null ());
  json_t *hcheck = healthcheck_json (&svc->healthcheck);
  if (hcheck)
    set (cfg, "Healthcheck", hcheck);
  set (cfg, "Image", json_string (image));
  set (cfg, "Volumes", json_object ());
  set (cfg, "WorkingDir", str (svc->working_dir));
  set (cfg, "Entrypoint", svc->entrypoint_set ? strv_or_empty (svc->entrypoint) : json_null ());
  set (cfg, "OnBuild", json_null ());
  set (cfg, "Labels", labels);
  if (svc->stop_signal && svc->stop_signal[0])
    set (cfg, "StopSignal", json_string (svc->stop_signal));
  if (svc->stop_grace_period_ns >= 0)
    set (cfg, "StopTimeout", json_integer (svc->stop_grace_period_ns / 1000000000LL));

  json_t *hc = json_object ();
  json_t *binds = json_array (), *mounts = json_array ();
  add_mounts (p, svc, binds, mounts);
  set (hc, "Binds", json_array_size (binds) ? binds : (json_decref (binds), json_null ()));
  set (hc, "ContainerIDFile", json_string (""));
  set (hc, "LogConfig", json_pack ("{s:s, s:{}}", "Type", "", "Config"));
  set (hc, "NetworkMode", json_null ());
  set (hc, "PortBindings", bindings);
  set (hc, "RestartPolicy", restart_policy (svc->restart));
  set (hc, "AutoRemove", json_false ());
  set (hc, "VolumeDriver", json_string (""));
  set (hc, "VolumesFrom", json_null ());
  set (hc, "ConsoleSize", json_pack ("[i, i]", 0, 0));
  set (hc, "CapAdd", normalize_caps (svc->cap_add));
  set (hc, "CapDrop", normalize_caps (svc->cap_drop));
  set (hc, "CgroupnsMode", json_string (""));
  set (hc, "Dns", strv_or_empty (svc->dns));
  set (hc, "DnsOptions", strv_or_empty (svc->dns_opt));
  set (hc, "DnsSearch", strv_or_empty (svc->dns_search));
  json_t *hosts = json_array ();
  for (char **x = svc->extra_hosts; x && *x; x++)
    {
      /* The model writes "host=ip"; the API takes "host:ip". */
      cleanup_free char *s = xstrdup (*x);
      char *eq = strchr (s, '=');
      if (eq)
        *eq = ':';
      json_array_append_new (hosts, json_string (s));
    }
  set (hc, "ExtraHosts", json_array_size (hosts) ? hosts : (json_decref (hosts), json_null ()));
  set (hc, "GroupAdd", json_null ());
  set (hc, "IpcMode", str (svc->ipc));
  set (hc, "Cgroup", json_string (""));
  set (hc, "Links", json_null ());
  set (hc, "OomScoreAdj", json_integer (0));
  set (hc, "PidMode", str (svc->pid));
  set (hc, "Privileged", json_boolean (svc->privileged));
  set (hc, "PublishAllPorts", json_false ());
  set (hc, "ReadonlyRootfs", json_boolean (svc->read_only));
  set (hc, "SecurityOpt", strv_or_null (svc->security_opt));
  if (svc->tmpfs)
    {
      json_t *t = json_object ();
      for (char **x = svc->tmpfs; *x; x++)
        {
          const char *colon = strchr (*x, ':');
          cleanup_free char *k = colon ? xstrndup (*x, (size_t)(colon - *x)) : xstrdup (*x);
          set (t, k, json_string (colon ? colon + 1 : ""));
        }
      set (hc, "Tmpfs", t);
    }
  set (hc, "UTSMode", json_string (""));
  set (hc, "UsernsMode", json_string (""));
  set (hc, "ShmSize", json_integer (svc->shm_size));
  if (svc->sysctls)
    set (hc, "Sysctls", kv_obj (svc->sysctls));
  set (hc, "Isolation", json_string (""));
  set (hc, "CpuShares", json_integer (0));
  set (hc, "Memory", json_integer (svc->memory_limit));
  set (hc, "NanoCpus", json_integer ((json_int_t)(svc->cpus_limit * 1e9)));
  set (hc, "CgroupParent", json_string (""));
  set (hc, "MemoryReservation", json_integer (svc->memory_reservation));
  set (hc, "PidsLimit", json_integer (svc->pids_limit));
  json_t *ul = json_array ();
  for (size_t i = 0; i < svc->nulimits; i++)
    json_array_append_new (ul, json_pack ("{s:s, s:I, s:I}", "Name", svc->ulimits[i].name, "Soft",
                                          (json_int_t)svc->ulimits[i].soft, "Hard",
                                          (json_int_t)svc->ulimits[i].hard));
  set (hc, "Ulimits", ul);
  if (json_array_size (mounts))
    set (hc, "Mounts", mounts);
  else
    json_decref (mounts);
  set (hc, "MaskedPaths", json_null ());
  set (hc, "ReadonlyPaths", json_null ());
  if (svc->init >= 0)
    set (hc, "Init", json_boolean (svc->init));

  cleanup_json json_t *b
      = json_pack ("{s:s, s:o, s:o}", "Name", name, "Config", cfg, "HostConfig", hc);
  if (add_devices (svc, hc, err) < 0)
    return -1;

  /* Networks: network_mode, or the first network with its endpoint (others are connected
   * after create, as `docker network connect` would). */
  json_t *eps = json_object ();
  if (svc->network_mode)
    {
      const char *nm = svc->network_mode;
      if (str_has_prefix (nm, "service:"))
        {
          const struct compose_service *o = compose_service_find (p, nm + 8);
          set (hc, "NetworkMode",
               o && o->container_name ? json_sprintf ("container:%s", o->container_name)
                                      : json_sprintf ("container:%s-%s-1", p->name, nm + 8));
        }
      else
        set (hc, "NetworkMode", json_string (nm));
    }
  else
    {
      cleanup_free const struct compose_net_attach **nets = NULL;
      size_t n = service_nets (svc, &nets);
      if (n == 0)
        {
          struct compose_net_attach dflt = { .network = (char *)"default" };
          set (hc, "NetworkMode", json_string (net_name (p, "default")));
          set (eps, net_name (p, "default"), compose_endpoint_json (p, svc, &dflt, true));
        }
      else
        {
          set (hc, "NetworkMode", json_string (net_name (p, nets[0]->network)));
          set (eps, net_name (p, nets[0]->network), compose_endpoint_json (p, svc, nets[0], true));
        }
    }
  set (b, "NetworkingConfig", json_pack ("{s:o}", "EndpointsConfig", eps));
  *body = steal_pointer (&b);
  return 0;
}
