/* finalize.c — the checks and defaults that need the whole merged project.
 *
 * Profiles follow Compose v2: a service with profiles runs only when one of them is active
 * ("*" activates all), and a service that an active service depends on is kept.  The checks run
 * on the kept services only, as compose's do, and all of them run before anything is created. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "compose/interp.h"
#include "compose/model_int.h"
#include "util/fs.h"

static int cmp_str (const void *a, const void *b)
{
  return strcmp (*(char *const *)a, *(char *const *)b);
}

static bool profile_active (struct cnode *svc, char **active)
{
  struct cnode *pr = cnode_get (svc, "profiles");
  if (pr == NULL || pr->kind != CN_SEQ || pr->n == 0)
    return true;
  for (size_t i = 0; i < pr->n; i++)
    for (char **a = active; a && *a; a++)
      if (strcmp (*a, "*") == 0 || strcmp (*a, pr->items[i]->str) == 0)
        return true;
  return false;
}

/* Keep what active services depend on (depends_on, links, network_mode: service:x). */
static void keep_deps (struct cnode *services, const char *name, bool *keep, int depth)
{
  if (depth > 1000)
    return;
  struct cnode *svc = cnode_get (services, name);
  struct cnode *deps = cnode_get (svc, "depends_on");
  for (size_t i = 0; deps && deps->kind == CN_MAP && i < deps->n; i++)
    for (size_t k = 0; k < services->n; k++)
      if (strcmp (services->ents[k].key, deps->ents[i].key) == 0 && !keep[k])
        {
          keep[k] = true;
          keep_deps (services, services->ents[k].key, keep, depth + 1);
        }
}

/* label_file entries under labels:, explicit labels winning. */
static int resolve_label_files (struct cnode *svc, berr_t *err)
{
  struct cnode *lf = cnode_get (svc, "label_file");
  if (lf == NULL)
    return 0;
  cleanup_cnode struct cnode *merged = cnode_new (CN_MAP);
  for (size_t i = 0; i < lf->n; i++)
    {
      cleanup_cnode struct cnode *vars = NULL;
      if (compose_dotenv_read (lf->items[i]->str, NULL, NULL, NULL, &vars, err) < 0)
        return cnode_fail (err, lf->items[i], "label_file: %s", err->msg);
      for (size_t k = 0; k < vars->n; k++)
        cnode_set (merged, vars->ents[k].key, cnode_copy (vars->ents[k].val));
    }
  struct cnode *lb = cnode_get (svc, "labels");
  for (size_t i = 0; lb && i < lb->n; i++)
    cnode_set (merged, lb->ents[i].key, cnode_copy (lb->ents[i].val));
  cnode_set (svc, "labels", steal_pointer (&merged));
  return 0;
}

static int resolve_environment (struct cnode *svc, const struct cnode *env, berr_t *err)
{
  struct cnode *envf = cnode_get (svc, "env_file");
  cleanup_cnode struct cnode *merged = cnode_new (CN_MAP);
  for (size_t i = 0; envf && i < envf->n; i++)
    {
      struct cnode *e = envf->items[i];
      const char *path = cnode_text (cnode_get (e, "path"));
      const char *req = cnode_text (cnode_get (e, "required"));
      if (access (path, F_OK) != 0)
        {
          if (req && strcmp (req, "false") == 0)
            continue;
          return cnode_fail (err, e, "env file %s not found", path);
        }
      cleanup_cnode struct cnode *vars = NULL;
      if (compose_dotenv_read (path, compose_lookup_map, (void *)env, merged, &vars, err) < 0)
        return -1;
      for (size_t k = 0; k < vars->n; k++)
        cnode_set (merged, vars->ents[k].key, cnode_copy (vars->ents[k].val));
    }
  struct cnode *ex = cnode_get (svc, "environment");
  for (size_t i = 0; ex && i < ex->n; i++)
    cnode_set (merged, ex->ents[i].key, cnode_copy (ex->ents[i].val));
  /* "FOO" without a value takes the value from the environment compose runs in. */
  for (size_t i = 0; i < merged->n; i++)
    if (merged->ents[i].val->kind == CN_NULL)
      {
        const char *v = compose_lookup_map (merged->ents[i].key, (void *)env);
        if (v)
          {
            cnode_free (merged->ents[i].val);
            merged->ents[i].val = cnode_str (v);
          }
      }
  if (merged->n || ex)
    {
      cnode_sort_keys (merged);
      cnode_set (svc, "environment", steal_pointer (&merged));
    }
  return 0;
}

static size_t rank_of (const char *k, const char *const *order)
{
  for (size_t i = 0; order[i]; i++)
    if (strcmp (order[i], k) == 0)
      return i;
  return 10000; /* x- extensions and anything else last, in their own order */
}

static const char *const *g_order;
static int cmp_rank (const void *a, const void *b)
{
  const struct centry *x = a, *y = b;
  size_t rx = rank_of (x->key, g_order), ry = rank_of (y->key, g_order);
  if (rx != ry)
    return rx < ry ? -1 : 1;
  return strcmp (x->key, y->key);
}

static void order_keys (struct cnode *m, const char *const *order)
{
  g_order = order;
  if (m && m->kind == CN_MAP && m->n > 1)
    qsort (m->ents, m->n, sizeof *m->ents, cmp_rank);
}

static int check_cycles (struct cnode *services, berr_t *err)
{
  size_t n = services->n;
  cleanup_free int *state = xcalloc (n ? n : 1, sizeof (int)); /* 0 new, 1 on stack, 2 done */
  cleanup_free size_t *stack = xcalloc (n + 1, sizeof (size_t));
  cleanup_free size_t *iter = xcalloc (n + 1, sizeof (size_t));
  for (size_t root = 0; root < n; root++)
    {
      if (state[root])
        continue;
      size_t sp = 0;
      stack[sp] = root;
      iter[sp] = 0;
      state[root] = 1;
      while (1)
        {
          size_t cur = stack[sp];
          struct cnode *deps = cnode_get (services->ents[cur].val, "depends_on");
          size_t nd = deps && deps->kind == CN_MAP ? deps->n : 0;
          if (iter[sp] >= nd)
            {
              state[cur] = 2;
              if (sp == 0)
                break;
              sp--;
              continue;
            }
          const char *dn = deps->ents[iter[sp]++].key;
          size_t di = n;
          for (size_t k = 0; k < n; k++)
            if (strcmp (services->ents[k].key, dn) == 0)
              di = k;
          if (di == n || state[di] == 2)
            continue;
          if (state[di] == 1)
            {
              /* The cycle is the stack from di's position up, then di again. */
              struct sbuf b;
              sbuf_init (&b);
              size_t from = 0;
              while (stack[from] != di)
                from++;
              for (size_t k = from; k <= sp; k++)
                sbuf_addf (&b, "%s -> ", services->ents[stack[k]].key);
              sbuf_adds (&b, dn);
              cleanup_free char *msg = sbuf_detach (&b);
              return cnode_fail (err, deps, "dependency cycle detected: %s", msg);
            }
          state[di] = 1;
          stack[++sp] = di;
          iter[sp] = 0;
        }
    }
  return 0;
}

struct pubport
{
  const char *ip;
  unsigned port;
  const char *proto;
  const char *service;
};

static int check_ports (struct cnode *services, berr_t *err)
{
  struct pubport *seen = NULL;
  size_t nseen = 0;
  int ret = 0;
  for (size_t s = 0; s < services->n && ret == 0; s++)
    {
      struct cnode *ports = cnode_get (services->ents[s].val, "ports");
      for (size_t i = 0; ports && i < ports->n && ret == 0; i++)
        {
          struct cnode *pm = ports->items[i];
          const char *pub = cnode_text (cnode_get (pm, "published"));
          if (pub == NULL || *pub == '\0')
            continue;
          char *end;
          unsigned lo = (unsigned)strtoul (pub, &end, 10), hi = lo;
          if (*end == '-')
            hi = (unsigned)strtoul (end + 1, &end, 10);
          if (*end != '\0' || hi < lo || hi > 65535)
            {
              ret = cnode_fail (err, pm, "services.%s.ports[%zu]: invalid published port %s",
                                services->ents[s].key, i, pub);
              break;
            }
          /* A host range with one container port takes one of them: no conflict to check. */
          if (hi != lo && cnode_text (cnode_get (pm, "target")))
            continue;
          const char *ip = cnode_text (cnode_get (pm, "host_ip"));
          if (ip == NULL || *ip == '\0')
            ip = "0.0.0.0";
          const char *proto = cnode_text (cnode_get (pm, "protocol"));
          if (proto == NULL)
            proto = "tcp";
          for (size_t k = 0; k < nseen; k++)
            {
              bool any = strcmp (seen[k].ip, "0.0.0.0") == 0 || strcmp (ip, "0.0.0.0") == 0
                         || strcmp (seen[k].ip, "::") == 0 || strcmp (ip, "::") == 0;
              if (seen[k].port == lo && strcmp (seen[k].proto, proto) == 0
                  && (any || strcmp (seen[k].ip, ip) == 0))
                {
                  ret = cnode_fail (err, pm,
                                    "services.%s.ports[%zu]: host port %s:%u/%s is already "
                                    "published by service \"%s\"",
                                    services->ents[s].key, i, ip, lo, proto, seen[k].service);
                  break;
                }
            }
          seen = xrealloc (seen, (nseen + 1) * sizeof *seen);
          seen[nseen++] = (struct pubport){ ip, lo, proto, services->ents[s].key };
        }
    }
  free (seen);
  return ret;
}

static int check_refs (struct cnode *tree, struct cnode *services, berr_t *err)
{
  struct cnode *nets = cnode_get (tree, "networks"), *vols = cnode_get (tree, "volumes");
  struct cnode *cfgs = cnode_get (tree, "configs"), *secs = cnode_get (tree, "secrets");
  for (size_t s = 0; s < services->n; s++)
    {
      const char *name = services->ents[s].key;
      struct cnode *svc = services->ents[s].val;
      if (cnode_get (svc, "image") == NULL && cnode_get (svc, "build") == NULL)
        return cnode_fail (err, svc,
                           "service \"%s\" has neither an image nor a build context specified: "
                           "invalid compose project",
                           name);
      struct cnode *deps = cnode_get (svc, "depends_on");
      for (size_t i = 0; deps && i < deps->n; i++)
        {
          const char *req = cnode_text (cnode_get (deps->ents[i].val, "required"));
          if (cnode_get (services, deps->ents[i].key) == NULL
              && !(req && strcmp (req, "false") == 0))
            return cnode_fail (err, deps->ents[i].val,
                               "service \"%s\" depends on undefined service \"%s\": invalid "
                               "compose project",
                               name, deps->ents[i].key);
        }
      struct cnode *links = cnode_get (svc, "links");
      for (size_t i = 0; links && i < links->n; i++)
        {
          cleanup_free char *target = xstrdup (links->items[i]->str);
          char *colon = strchr (target, ':');
          if (colon)
            *colon = '\0';
          if (cnode_get (services, target) == NULL)
            return cnode_fail (err, links->items[i],
                               "service \"%s\" depends on undefined service \"%s\": invalid "
                               "compose project",
                               name, target);
        }
      const char *nm = cnode_text (cnode_get (svc, "network_mode"));
      if (nm && str_has_prefix (nm, "service:") && cnode_get (services, nm + 8) == NULL)
        return cnode_fail (err, cnode_get (svc, "network_mode"),
                           "service \"%s\" depends on undefined service \"%s\": invalid compose "
                           "project",
                           name, nm + 8);
      struct cnode *sn = cnode_get (svc, "networks");
      for (size_t i = 0; sn && i < sn->n; i++)
        if (cnode_get (nets, sn->ents[i].key) == NULL)
          return cnode_fail (err, sn->ents[i].val,
                             "service \"%s\" refers to undefined network %s: invalid compose "
                             "project",
                             name, sn->ents[i].key);
      struct cnode *sv = cnode_get (svc, "volumes");
      for (size_t i = 0; sv && i < sv->n; i++)
        {
          const char *type = cnode_text (cnode_get (sv->items[i], "type"));
          const char *src = cnode_text (cnode_get (sv->items[i], "source"));
          if (type && strcmp (type, "volume") == 0 && src && *src && cnode_get (vols, src) == NULL)
            return cnode_fail (err, sv->items[i],
                               "service \"%s\" refers to undefined volume %s: invalid compose "
                               "project",
                               name, src);
        }
      static const char *const kinds[] = { "configs", "secrets" };
      for (size_t k = 0; k < 2; k++)
        {
          struct cnode *refs = cnode_get (svc, kinds[k]);
          struct cnode *defs = k == 0 ? cfgs : secs;
          for (size_t i = 0; refs && i < refs->n; i++)
            {
              const char *src = cnode_text (cnode_get (refs->items[i], "source"));
              if (src && cnode_get (defs, src) == NULL)
                return cnode_fail (err, refs->items[i],
                                   "service \"%s\" refers to undefined %s %s: invalid compose "
                                   "project",
                                   name, k == 0 ? "config" : "secret", src);
            }
        }
    }
  return 0;
}

static void name_resources (struct compose_project *p, struct cnode *sec)
{
  for (size_t i = 0; sec && i < sec->n; i++)
    {
      struct cnode *r = sec->ents[i].val;
      if (r->kind != CN_MAP || cnode_get (r, "name"))
        continue;
      const char *ext = cnode_text (cnode_get (r, "external"));
      if (ext && strcmp (ext, "true") == 0)
        cnode_set (r, "name", cnode_str (sec->ents[i].key));
      else
        cnode_set (r, "name", cnode_strf ("%s_%s", p->name, sec->ents[i].key));
    }
}

static const char *const top_order[]
    = { "name", "services", "networks", "volumes", "secrets", "configs", NULL };
static const char *const resource_order[]
    = { "name",     "driver",      "driver_opts", "ipam",       "external",
        "internal", "enable_ipv4", "enable_ipv6", "attachable", "labels",
        "file",     "environment", "content",     NULL };

int compose_finalize (struct compose_project *p, struct cnode *tree, const struct cnode *env,
                      const struct compose_options *o, berr_t *err)
{
  bool normalize = !o->skip_normalization;
  cnode_set (tree, "name", cnode_str (p->name));
  struct cnode *services = cnode_get (tree, "services");
  if (services == NULL || services->kind == CN_NULL)
    {
      cnode_set (tree, "services", cnode_new (CN_MAP));
      services = cnode_get (tree, "services");
    }
  for (size_t i = 0; i < services->n; i++)
    if (services->ents[i].val->kind == CN_NULL)
      {
        cnode_free (services->ents[i].val);
        services->ents[i].val = cnode_new (CN_MAP);
      }
  /* Cycles are an error whatever the profiles. */
  if (check_cycles (services, err) < 0)
    return -1;
  /* Profiles. */
  for (size_t i = 0; i < services->n; i++)
    {
      struct cnode *pr = cnode_get (services->ents[i].val, "profiles");
      for (size_t k = 0; pr && pr->kind == CN_SEQ && k < pr->n; k++)
        if (!strv_contains (p->defined_profiles, pr->items[k]->str))
          strv_push (&p->defined_profiles, pr->items[k]->str);
    }
  if (p->defined_profiles)
    qsort (p->defined_profiles, strv_len (p->defined_profiles), sizeof (char *), cmp_str);
  cleanup_free bool *keep = xcalloc (services->n + 1, sizeof (bool));
  for (size_t i = 0; i < services->n; i++)
    keep[i] = profile_active (services->ents[i].val, p->profiles);
  for (size_t i = 0; i < services->n; i++)
    if (keep[i] && profile_active (services->ents[i].val, p->profiles))
      keep_deps (services, services->ents[i].key, keep, 0);
  for (size_t i = services->n; i-- > 0;)
    if (!keep[i])
      {
        strv_push (&p->disabled_services, services->ents[i].key);
        cnode_del (services, services->ents[i].key);
      }
  for (size_t s = 0; s < services->n; s++)
    {
      struct cnode *svc = services->ents[s].val;
      if (resolve_environment (svc, env, err) < 0 || resolve_label_files (svc, err) < 0)
        return -1;
      /* Services with no networks (and no network_mode) join the default network. */
      if (normalize && cnode_get (svc, "networks") == NULL
          && cnode_get (svc, "network_mode") == NULL)
        {
          struct cnode *m = cnode_new (CN_MAP);
          cnode_set (m, "default", cnode_new (CN_NULL));
          cnode_set (svc, "networks", m);
        }
      if (cnode_get (svc, "labels"))
        cnode_sort_keys (cnode_get (svc, "labels"));
      if (cnode_get (svc, "depends_on"))
        cnode_sort_keys (cnode_get (svc, "depends_on"));
      if (cnode_get (svc, "networks"))
        cnode_sort_keys (cnode_get (svc, "networks"));
      order_keys (svc, compose_service_keys);
    }
  /* The default network exists when a service uses it. */
  bool uses_default = false;
  for (size_t s = 0; s < services->n; s++)
    uses_default
        = uses_default || cnode_get (cnode_get (services->ents[s].val, "networks"), "default");
  struct cnode *nets = cnode_get (tree, "networks");
  if (normalize && uses_default && cnode_get (nets, "default") == NULL)
    {
      if (nets == NULL || nets->kind != CN_MAP)
        {
          cnode_set (tree, "networks", cnode_new (CN_MAP));
          nets = cnode_get (tree, "networks");
        }
      cnode_set (nets, "default", cnode_new (CN_MAP));
    }
  static const char *const sections[] = { "networks", "volumes", "configs", "secrets" };
  for (size_t i = 0; i < ARRAY_SIZE (sections); i++)
    {
      struct cnode *sec = cnode_get (tree, sections[i]);
      if (sec && sec->kind == CN_NULL)
        {
          cnode_del (tree, sections[i]);
          continue;
        }
      if (normalize && i < 2)
        name_resources (p, sec);
      for (size_t k = 0; sec && k < sec->n; k++)
        order_keys (sec->ents[k].val, resource_order);
      if (sec)
        cnode_sort_keys (sec);
    }
  if (!o->skip_consistency
      && (check_refs (tree, services, err) < 0 || check_ports (services, err) < 0))
    return -1;
  cnode_sort_keys (services);
  order_keys (tree, top_order);
  return 0;
}
