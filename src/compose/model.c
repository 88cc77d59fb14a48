/* model.c — the typed view of the normalised tree, for the reconciler.  Everything here reads
 * a tree that normalize.c and finalize.c already checked, so shapes are trusted. */
#include <stdlib.h>
#include <string.h>

#include "compose/model_int.h"
#include "util/units.h"

static char *dup_text (const struct cnode *n)
{
  const char *t = cnode_text (n);
  return t ? xstrdup (t) : NULL;
}

static bool is_true (const struct cnode *n)
{
  const char *t = cnode_text (n);
  return t && strcmp (t, "true") == 0;
}

static int64_t to_int (const struct cnode *n, int64_t dflt)
{
  const char *t = cnode_text (n);
  return t ? strtoll (t, NULL, 0) : dflt;
}

static char **strv_of (const struct cnode *seq)
{
  char **v = NULL;
  for (size_t i = 0; seq && seq->kind == CN_SEQ && i < seq->n; i++)
    strv_push (&v, cnode_text (seq->items[i]) ? cnode_text (seq->items[i]) : "");
  return v;
}

/* A map of strings as "k=v" ("k" alone for a null value). */
static char **kv_of (const struct cnode *map)
{
  char **v = NULL;
  for (size_t i = 0; map && map->kind == CN_MAP && i < map->n; i++)
    {
      const char *t = cnode_text (map->ents[i].val);
      strv_push_take (&v,
                      t ? xasprintf ("%s=%s", map->ents[i].key, t) : xstrdup (map->ents[i].key));
    }
  return v;
}

static int64_t duration_ns (const struct cnode *n, int64_t dflt)
{

  const char *t = cnode_text (n);
  if (t == NULL)
    return dflt;
  int64_t v;
  cleanup_berr berr_t e = BERR_INIT;
  return units_parse_duration (t, &v, &e) < 0 ? dflt : v;
}

static void fill_service (struct compose_service *s, const char *name, struct cnode *n)
{
  s->name = xstrdup (name);
  s->node = n;
  s->image = dup_text (cnode_get (n, "image"));
  struct cnode *b = cnode_get (n, "build");
  if (b)
    {
      s->build = xzalloc (sizeof *s->build);
      s->build->context = dup_text (cnode_get (b, "context"));
      s->build->dockerfile = dup_text (cnode_get (b, "dockerfile"));
      s->build->dockerfile_inline = dup_text (cnode_get (b, "dockerfile_inline"));
      s->build->target = dup_text (cnode_get (b, "target"));
      s->build->network = dup_text (cnode_get (b, "network"));
      s->build->args = kv_of (cnode_get (b, "args"));
      s->build->labels = kv_of (cnode_get (b, "labels"));
      s->build->tags = strv_of (cnode_get (b, "tags"));
    }
  struct cnode *c = cnode_get (n, "command");
  s->command_set = c && c->kind == CN_SEQ;
  s->command = s->command_set ? strv_of (c) : NULL;
  if (s->command_set && s->command == NULL)
    s->command = xzalloc (sizeof (char *));
  c = cnode_get (n, "entrypoint");
  s->entrypoint_set = c && c->kind == CN_SEQ;
  s->entrypoint = s->entrypoint_set ? strv_of (c) : NULL;
  if (s->entrypoint_set && s->entrypoint == NULL)
    s->entrypoint = xzalloc (sizeof (char *));
  s->environment = kv_of (cnode_get (n, "environment"));
  s->labels = kv_of (cnode_get (n, "labels"));
  struct cnode *ports = cnode_get (n, "ports");
  s->nports = ports ? ports->n : 0;
  s->ports = xcalloc (s->nports + 1, sizeof *s->ports);
  for (size_t i = 0; i < s->nports; i++)
    {
      struct cnode *p = ports->items[i];
      s->ports[i].host_ip = dup_text (cnode_get (p, "host_ip"));
      s->ports[i].target = (uint32_t)to_int (cnode_get (p, "target"), 0);
      s->ports[i].published = dup_text (cnode_get (p, "published"));
      s->ports[i].protocol = dup_text (cnode_get (p, "protocol"));
      s->ports[i].mode = dup_text (cnode_get (p, "mode"));
    }
  s->expose = strv_of (cnode_get (n, "expose"));
  struct cnode *vols = cnode_get (n, "volumes");
  s->nmounts = vols ? vols->n : 0;
  s->mounts = xcalloc (s->nmounts + 1, sizeof *s->mounts);
  for (size_t i = 0; i < s->nmounts; i++)
    {
      struct cnode *v = vols->items[i];
      struct compose_mount *m = &s->mounts[i];
      m->type = dup_text (cnode_get (v, "type"));
      m->source = dup_text (cnode_get (v, "source"));
      m->target = dup_text (cnode_get (v, "target"));
      m->read_only = is_true (cnode_get (v, "read_only"));
      struct cnode *bind = cnode_get (v, "bind");
      m->create_host_path = bind == NULL || cnode_get (bind, "create_host_path") == NULL
                            || is_true (cnode_get (bind, "create_host_path"));
      m->propagation = dup_text (cnode_get (bind, "propagation"));
      m->selinux = dup_text (cnode_get (bind, "selinux"));
      m->nocopy = is_true (cnode_get (cnode_get (v, "volume"), "nocopy"));
      m->tmpfs_size = to_int (cnode_get (cnode_get (v, "tmpfs"), "size"), 0);
      m->tmpfs_mode = (uint32_t)to_int (cnode_get (cnode_get (v, "tmpfs"), "mode"), 0);
    }
  struct cnode *nets = cnode_get (n, "networks");
  s->nnetworks = nets ? nets->n : 0;
  s->networks = xcalloc (s->nnetworks + 1, sizeof *s->networks);
  for (size_t i = 0; i < s->nnetworks; i++)
    {
      struct cnode *a = nets->ents[i].val;
      s->networks[i].network = xstrdup (nets->ents[i].key);
      s->networks[i].aliases = strv_of (cnode_get (a, "aliases"));
      s->networks[i].ipv4_address = dup_text (cnode_get (a, "ipv4_address"));
      s->networks[i].ipv6_address = dup_text (cnode_get (a, "ipv6_address"));
      s->networks[i].priority = (int)to_int (cnode_get (a, "priority"), 0);
    }
  s->network_mode = dup_text (cnode_get (n, "network_mode"));
  struct cnode *deps = cnode_get (n, "depends_on");
  s->ndepends = deps ? deps->n : 0;
  s->depends_on = xcalloc (s->ndepends + 1, sizeof *s->depends_on);
  for (size_t i = 0; i < s->ndepends; i++)
    {
      struct cnode *d = deps->ents[i].val;
      const char *cond = cnode_text (cnode_get (d, "condition"));
      s->depends_on[i].service = xstrdup (deps->ents[i].key);
      s->depends_on[i].condition
          = cond && strcmp (cond, "service_healthy") == 0                  ? COMPOSE_DEP_HEALTHY
            : cond && strcmp (cond, "service_completed_successfully") == 0 ? COMPOSE_DEP_COMPLETED
                                                                           : COMPOSE_DEP_STARTED;
      s->depends_on[i].required
          = cnode_get (d, "required") == NULL || is_true (cnode_get (d, "required"));
      s->depends_on[i].restart = is_true (cnode_get (d, "restart"));
    }
  s->links = strv_of (cnode_get (n, "links"));
  struct cnode *h = cnode_get (n, "healthcheck");
  s->healthcheck.retries = -1;
  if (h)
    {
      s->healthcheck.set = true;
      s->healthcheck.disable = is_true (cnode_get (h, "disable"));
      s->healthcheck.test = strv_of (cnode_get (h, "test"));
      s->healthcheck.interval_ns = duration_ns (cnode_get (h, "interval"), 0);
      s->healthcheck.timeout_ns = duration_ns (cnode_get (h, "timeout"), 0);
      s->healthcheck.start_period_ns = duration_ns (cnode_get (h, "start_period"), 0);
      s->healthcheck.start_interval_ns = duration_ns (cnode_get (h, "start_interval"), 0);
      s->healthcheck.retries = (int)to_int (cnode_get (h, "retries"), -1);
    }
  s->restart = dup_text (cnode_get (n, "restart"));
  s->working_dir = dup_text (cnode_get (n, "working_dir"));
  s->user = dup_text (cnode_get (n, "user"));
  s->hostname = dup_text (cnode_get (n, "hostname"));
  s->domainname = dup_text (cnode_get (n, "domainname"));
  s->container_name = dup_text (cnode_get (n, "container_name"));
  s->shm_size = to_int (cnode_get (n, "shm_size"), 0);
  s->ipc = dup_text (cnode_get (n, "ipc"));
  s->pid = dup_text (cnode_get (n, "pid"));
  s->tty = is_true (cnode_get (n, "tty"));
  s->stdin_open = is_true (cnode_get (n, "stdin_open"));
  s->privileged = is_true (cnode_get (n, "privileged"));
  s->read_only = is_true (cnode_get (n, "read_only"));
  s->init = cnode_get (n, "init") ? is_true (cnode_get (n, "init")) : -1;
  struct cnode *ul = cnode_get (n, "ulimits");
  s->nulimits = ul ? ul->n : 0;
  s->ulimits = xcalloc (s->nulimits + 1, sizeof *s->ulimits);
  for (size_t i = 0; i < s->nulimits; i++)
    {
      struct cnode *u = ul->ents[i].val;
      s->ulimits[i].name = xstrdup (ul->ents[i].key);
      if (u->kind == CN_SCALAR)
        s->ulimits[i].soft = s->ulimits[i].hard = to_int (u, 0);
      else
        {
          s->ulimits[i].soft = to_int (cnode_get (u, "soft"), 0);
          s->ulimits[i].hard = to_int (cnode_get (u, "hard"), 0);
        }
    }
  s->cap_add = strv_of (cnode_get (n, "cap_add"));
  s->cap_drop = strv_of (cnode_get (n, "cap_drop"));
  struct cnode *devs = cnode_get (n, "devices");
  for (size_t i = 0; devs && i < devs->n; i++)
    {
      struct cnode *d = devs->items[i];
      if (d->kind == CN_SCALAR)
        strv_push (&s->devices, d->str);
      else
        {
          const char *src = cnode_text (cnode_get (d, "source"));
          const char *tgt = cnode_text (cnode_get (d, "target"));
          const char *perm = cnode_text (cnode_get (d, "permissions"));
          strv_push_take (&s->devices,
                          xasprintf ("%s:%s:%s", src ? src : "", tgt ? tgt : (src ? src : ""),
                                     perm ? perm : "rwm"));
        }
    }
  s->dns = strv_of (cnode_get (n, "dns"));
  s->dns_search = strv_of (cnode_get (n, "dns_search"));
  s->dns_opt = strv_of (cnode_get (n, "dns_opt"));
  s->extra_hosts = strv_of (cnode_get (n, "extra_hosts"));
  s->security_opt = strv_of (cnode_get (n, "security_opt"));
  s->tmpfs = strv_of (cnode_get (n, "tmpfs"));
  s->sysctls = kv_of (cnode_get (n, "sysctls"));
  s->stop_signal = dup_text (cnode_get (n, "stop_signal"));
  s->stop_grace_period_ns = duration_ns (cnode_get (n, "stop_grace_period"), -1);
  s->profiles = strv_of (cnode_get (n, "profiles"));
  struct cnode *deploy = cnode_get (n, "deploy");
  s->replicas = to_int (cnode_get (deploy, "replicas"), to_int (cnode_get (n, "scale"), 1));
  struct cnode *res = cnode_get (deploy, "resources");
  struct cnode *lim = cnode_get (res, "limits"), *rsv = cnode_get (res, "reservations");
  const char *cpus = cnode_text (cnode_get (lim, "cpus"));
  if (cpus == NULL)
    cpus = cnode_text (cnode_get (n, "cpus"));
  s->cpus_limit = cpus ? strtod (cpus, NULL) : 0;
  s->memory_limit = to_int (cnode_get (lim, "memory"), to_int (cnode_get (n, "mem_limit"), 0));
  s->memory_reservation
      = to_int (cnode_get (rsv, "memory"), to_int (cnode_get (n, "mem_reservation"), 0));
  s->pids_limit = to_int (cnode_get (lim, "pids"), to_int (cnode_get (n, "pids_limit"), 0));
  struct cnode *dr = cnode_get (rsv, "devices");
  s->ndevice_requests = dr ? dr->n : 0;
  s->device_requests = xcalloc (s->ndevice_requests + 1, sizeof *s->device_requests);
  for (size_t i = 0; i < s->ndevice_requests; i++)
    {
      struct cnode *d = dr->items[i];
      struct compose_device_request *q = &s->device_requests[i];
      q->driver = dup_text (cnode_get (d, "driver"));
      const char *cnt = cnode_text (cnode_get (d, "count"));
      q->device_ids = strv_of (cnode_get (d, "device_ids"));
      /* Neither count nor device_ids: all devices, as compose does. */
      q->count = cnt == NULL                ? (q->device_ids ? 0 : -1)
                 : strcmp (cnt, "all") == 0 ? -1
                                            : strtoll (cnt, NULL, 10);
      q->capabilities = strv_of (cnode_get (d, "capabilities"));
    }
  static const char *const refkinds[] = { "configs", "secrets" };
  for (size_t k = 0; k < 2; k++)
    {
      struct cnode *refs = cnode_get (n, refkinds[k]);
      size_t cnt = refs ? refs->n : 0;
      struct compose_file_ref *arr = xcalloc (cnt + 1, sizeof *arr);
      for (size_t i = 0; i < cnt; i++)
        {
          struct cnode *r = refs->items[i];
          arr[i].source = dup_text (cnode_get (r, "source"));
          arr[i].target = dup_text (cnode_get (r, "target"));
          arr[i].uid = dup_text (cnode_get (r, "uid"));
          arr[i].gid = dup_text (cnode_get (r, "gid"));
          const char *mode = cnode_text (cnode_get (r, "mode"));
          arr[i].mode = mode ? (uint32_t)strtoul (mode, NULL, 8) : 0;
        }
      if (k == 0)
        s->configs = arr, s->nconfigs = cnt;
      else
        s->secrets = arr, s->nsecrets = cnt;
    }
  s->platform = dup_text (cnode_get (n, "platform"));
  s->pull_policy = dup_text (cnode_get (n, "pull_policy"));
}

static void fill_resources (struct cnode *sec, struct compose_resource **out, size_t *nout)
{
  size_t n = sec && sec->kind == CN_MAP ? sec->n : 0;
  struct compose_resource *arr = xcalloc (n + 1, sizeof *arr);
  for (size_t i = 0; i < n; i++)
    {
      struct cnode *r = sec->ents[i].val;
      struct compose_resource *x = &arr[i];
      x->key = xstrdup (sec->ents[i].key);
      x->name = dup_text (cnode_get (r, "name"));
      if (x->name == NULL)
        x->name = xstrdup (x->key);
      x->external = is_true (cnode_get (r, "external"));
      x->driver = dup_text (cnode_get (r, "driver"));
      x->driver_opts = kv_of (cnode_get (r, "driver_opts"));
      x->labels = kv_of (cnode_get (r, "labels"));
      x->internal = is_true (cnode_get (r, "internal"));
      x->enable_ipv6 = is_true (cnode_get (r, "enable_ipv6"));
      struct cnode *cfg = cnode_get (cnode_get (r, "ipam"), "config");
      for (size_t k = 0; cfg && cfg->kind == CN_SEQ && k < cfg->n; k++)
        {
          const char *t;
          if ((t = cnode_text (cnode_get (cfg->items[k], "subnet"))))
            strv_push (&x->subnets, t);
          if ((t = cnode_text (cnode_get (cfg->items[k], "gateway"))))
            strv_push (&x->gateways, t);
          if ((t = cnode_text (cnode_get (cfg->items[k], "ip_range"))))
            strv_push (&x->ip_ranges, t);
        }
      x->file = dup_text (cnode_get (r, "file"));
      x->environment = dup_text (cnode_get (r, "environment"));
      x->content = dup_text (cnode_get (r, "content"));
    }
  *out = arr;
  *nout = n;
}

int compose_build_model (struct compose_project *p, berr_t *err)
{
  (void)err;
  struct cnode *services = cnode_get (p->tree, "services");
  p->nservices = services ? services->n : 0;
  p->services = xcalloc (p->nservices + 1, sizeof *p->services);
  for (size_t i = 0; i < p->nservices; i++)
    fill_service (&p->services[i], services->ents[i].key, services->ents[i].val);
  fill_resources (cnode_get (p->tree, "networks"), &p->networks, &p->nnetworks);
  fill_resources (cnode_get (p->tree, "volumes"), &p->volumes, &p->nvolumes);
  fill_resources (cnode_get (p->tree, "configs"), &p->configs, &p->nconfigs);
  fill_resources (cnode_get (p->tree, "secrets"), &p->secrets, &p->nsecrets);
  return 0;
}

const struct compose_service *compose_service_find (const struct compose_project *p,
                                                    const char *name)
{
  for (size_t i = 0; i < p->nservices; i++)
    if (strcmp (p->services[i].name, name) == 0)
      return &p->services[i];
  return NULL;
}

int compose_start_order (const struct compose_project *p, const struct compose_service ***out,
                         berr_t *err)
{
  /* Kahn's algorithm over depends_on (cycles were refused at load; a missing optional
   * dependency is skipped). */
  size_t n = p->nservices;
  const struct compose_service **order = xcalloc (n + 1, sizeof *order);
  cleanup_free bool *done = xcalloc (n + 1, sizeof (bool));
  size_t k = 0;
  while (k < n)
    {
      bool progress = false;
      for (size_t i = 0; i < n; i++)
        {
          if (done[i])
            continue;
          bool ready = true;
          for (size_t d = 0; d < p->services[i].ndepends && ready; d++)
            for (size_t j = 0; j < n; j++)
              if (!done[j]
                  && strcmp (p->services[j].name, p->services[i].depends_on[d].service) == 0)
                ready = false;
          if (ready)
            {
              done[i] = true;
              order[k++] = &p->services[i];
              progress = true;
            }
        }
      if (!progress)
        {
          free (order);
          return berr_setk (err, BERR_INVALID, 0, "dependency cycle detected");
        }
    }
  *out = order;
  return 0;
}

static void free_resources (struct compose_resource *r, size_t n)
{
  for (size_t i = 0; i < n; i++)
    {
      free (r[i].key);
      free (r[i].name);
      free (r[i].driver);
      strv_free (r[i].driver_opts);
      strv_free (r[i].labels);
      strv_free (r[i].subnets);
      strv_free (r[i].gateways);
      strv_free (r[i].ip_ranges);
      free (r[i].file);
      free (r[i].environment);
      free (r[i].content);
    }
  free (r);
}

static void free_service (struct compose_service *s)
{
  free (s->name);
  free (s->image);
  if (s->build)
    {
      free (s->build->context);
      free (s->build->dockerfile);
      free (s->build->dockerfile_inline);
      free (s->build->target);
      free (s->build->network);
      strv_free (s->build->args);
      strv_free (s->build->labels);
      strv_free (s->build->tags);
      free (s->build);
    }
  strv_free (s->command);
  strv_free (s->entrypoint);
  strv_free (s->environment);
  strv_free (s->labels);
  for (size_t i = 0; i < s->nports; i++)
    {
      free (s->ports[i].host_ip);
      free (s->ports[i].published);
      free (s->ports[i].protocol);
      free (s->ports[i].mode);
    }
  free (s->ports);
  strv_free (s->expose);
  for (size_t i = 0; i < s->nmounts; i++)
    {
      free (s->mounts[i].type);
      free (s->mounts[i].source);
      free (s->mounts[i].target);
      free (s->mounts[i].propagation);
      free (s->mounts[i].selinux);
    }
  free (s->mounts);
  for (size_t i = 0; i < s->nnetworks; i++)
    {
      free (s->networks[i].network);
      strv_free (s->networks[i].aliases);
      free (s->networks[i].ipv4_address);
      free (s->networks[i].ipv6_address);
    }
  free (s->networks);
  free (s->network_mode);
  for (size_t i = 0; i < s->ndepends; i++)
    free (s->depends_on[i].service);
  free (s->depends_on);
  strv_free (s->links);
  strv_free (s->healthcheck.test);
  free (s->restart);
  free (s->working_dir);
  free (s->user);
  free (s->hostname);
  free (s->domainname);
  free (s->container_name);
  free (s->ipc);
  free (s->pid);
  for (size_t i = 0; i < s->nulimits; i++)
    free (s->ulimits[i].name);
  free (s->ulimits);
  strv_free (s->cap_add);
  strv_free (s->cap_drop);
  strv_free (s->devices);
  strv_free (s->dns);
  strv_free (s->dns_search);
  strv_free (s->dns_opt);
  strv_free (s->extra_hosts);
  strv_free (s->security_opt);
  strv_free (s->tmpfs);
  strv_free (s->sysctls);
  free (s->stop_signal);
  strv_free (s->profiles);
  for (size_t i = 0; i < s->ndevice_requests; i++)
    {
      free (s->device_requests[i].driver);
      strv_free (s->device_requests[i].device_ids);
      strv_free (s->device_requests[i].capabilities);
    }
  free (s->device_requests);
  for (size_t i = 0; i < s->nconfigs; i++)
    free (s->configs[i].source), free (s->configs[i].target), free (s->configs[i].uid),
        free (s->configs[i].gid);
  free (s->configs);
  for (size_t i = 0; i < s->nsecrets; i++)
    free (s->secrets[i].source), free (s->secrets[i].target), free (s->secrets[i].uid),
        free (s->secrets[i].gid);
  free (s->secrets);
  free (s->platform);
  free (s->pull_policy);
}

void compose_project_free (struct compose_project *p)
{
  if (p == NULL)
    return;
  for (size_t i = 0; i < p->nservices; i++)
    free_service (&p->services[i]);
  free (p->services);
  free_resources (p->networks, p->nnetworks);
  free_resources (p->volumes, p->nvolumes);
  free_resources (p->configs, p->nconfigs);
  free_resources (p->secrets, p->nsecrets);
  free (p->name);
  free (p->working_dir);
  strv_free (p->config_files);
  strv_free (p->profiles);
  strv_free (p->environment);
  strv_free (p->disabled_services);
  strv_free (p->defined_profiles);
  cnode_free (p->tree);
  free (p);
}
