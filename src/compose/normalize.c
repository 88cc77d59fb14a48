/* normalize.c — one compose file: unknown keys, types, and short forms to long ones.
 *
 * Runs per file, after interpolation and before merging, so that merging works on one shape
 * (ports as maps, environment as a map …) and every error still points into the file that has
 * it.  Keys that berth accepts but does not act on yet are type-checked loosely and kept. */
#include <errno.h>
#include <string.h>

#include "compose/model_int.h"
#include "compose/norm_util.h"
#include "compose/spec.h"

static const char *const top_keys[]
    = { "version", "name", "services", "networks", "volumes", "configs", "secrets", NULL };

/* Every service key of the Compose Specification (so that no valid file is refused), in the
 * order `docker compose config` prints them (finalize.c sorts by it). */
const char *const compose_service_keys[] = { "annotations",
                                             "attach",
                                             "blkio_config",
                                             "build",
                                             "cap_add",
                                             "cap_drop",
                                             "cgroup",
                                             "cgroup_parent",
                                             "command",
                                             "configs",
                                             "container_name",
                                             "cpu_count",
                                             "cpu_percent",
                                             "cpu_period",
                                             "cpu_quota",
                                             "cpu_rt_period",
                                             "cpu_rt_runtime",
                                             "cpus",
                                             "cpuset",
                                             "cpu_shares",
                                             "credential_spec",
                                             "depends_on",
                                             "deploy",
                                             "develop",
                                             "device_cgroup_rules",
                                             "devices",
                                             "dns",
                                             "dns_opt",
                                             "dns_search",
                                             "domainname",
                                             "entrypoint",
                                             "environment",
                                             "env_file",
                                             "expose",
                                             "extends",
                                             "external_links",
                                             "extra_hosts",
                                             "gpus",
                                             "group_add",
                                             "hostname",
                                             "healthcheck",
                                             "image",
                                             "init",
                                             "ipc",
                                             "isolation",
                                             "labels",
                                             "label_file",
                                             "links",
                                             "logging",
                                             "mac_address",
                                             "mem_limit",
                                             "mem_reservation",
                                             "mem_swappiness",
                                             "memswap_limit",
                                             "models",
                                             "network_mode",
                                             "networks",
                                             "oom_kill_disable",
                                             "oom_score_adj",
                                             "pid",
                                             "pids_limit",
                                             "platform",
                                             "ports",
                                             "post_start",
                                             "pre_start",
                                             "pre_stop",
                                             "privileged",
                                             "profiles",
                                             "provider",
                                             "pull_policy",
                                             "pull_refresh_after",
                                             "read_only",
                                             "restart",
                                             "runtime",
                                             "scale",
                                             "secrets",
                                             "security_opt",
                                             "shm_size",
                                             "stdin_open",
                                             "stop_grace_period",
                                             "stop_signal",
                                             "storage_opt",
                                             "sysctls",
                                             "tmpfs",
                                             "tty",
                                             "ulimits",
                                             "use_api_socket",
                                             "user",
                                             "userns_mode",
                                             "uts",
                                             "volumes",
                                             "volumes_from",
                                             "working_dir",
                                             NULL };

static const char *const build_keys[] = { "context",
                                          "dockerfile",
                                          "dockerfile_inline",
                                          "entitlements",
                                          "args",
                                          "ssh",
                                          "labels",
                                          "cache_from",
                                          "cache_to",
                                          "no_cache",
                                          "additional_contexts",
                                          "network",
                                          "provenance",
                                          "sbom",
                                          "pull",
                                          "target",
                                          "shm_size",
                                          "extra_hosts",
                                          "isolation",
                                          "privileged",
                                          "secrets",
                                          "tags",
                                          "ulimits",
                                          "platforms",
                                          NULL };
static const char *const port_keys[]
    = { "name", "mode", "host_ip", "target", "published", "protocol", "app_protocol", NULL };
static const char *const volume_keys[] = { "type", "source", "target", "read_only", "consistency",
                                           "bind", "volume", "tmpfs",  "image",     NULL };
static const char *const bind_keys[]
    = { "propagation", "create_host_path", "recursive", "selinux", NULL };
static const char *const vvol_keys[] = { "labels", "nocopy", "subpath", NULL };
static const char *const tmpfs_keys[] = { "size", "mode", NULL };
static const char *const image_keys[] = { "subpath", NULL };
static const char *const health_keys[] = { "disable", "interval",     "retries",        "test",
                                           "timeout", "start_period", "start_interval", NULL };
static const char *const dep_keys[] = { "condition", "restart", "required", NULL };
static const char *const svcnet_keys[]
    = { "aliases",     "interface_name", "ipv4_address", "ipv6_address", "link_local_ips",
        "mac_address", "driver_opts",    "priority",     "gw_priority",  NULL };
static const char *const deploy_keys[]
    = { "mode",          "endpoint_mode", "replicas",       "labels",    "rollback_config",
        "update_config", "resources",     "restart_policy", "placement", NULL };
static const char *const resources_keys[] = { "limits", "reservations", NULL };
static const char *const limits_keys[] = { "cpus", "memory", "pids", NULL };
static const char *const reservations_keys[]
    = { "cpus", "memory", "generic_resources", "devices", NULL };
static const char *const devreq_keys[]
    = { "capabilities", "count", "device_ids", "driver", "options", NULL };
static const char *const network_keys[]
    = { "name",        "driver",      "driver_opts", "ipam",   "external", "internal",
        "enable_ipv4", "enable_ipv6", "attachable",  "labels", NULL };
static const char *const ipam_keys[] = { "driver", "config", "options", NULL };
static const char *const ipam_config_keys[]
    = { "subnet", "ip_range", "gateway", "aux_addresses", NULL };
static const char *const topvol_keys[]
    = { "name", "driver", "driver_opts", "external", "labels", NULL };
static const char *const configsecret_keys[]
    = { "name",   "content",     "environment",     "file", "external", "labels",
        "driver", "driver_opts", "template_driver", NULL };
static const char *const fileref_keys[] = { "source", "target", "uid", "gid", "mode", NULL };
static const char *const ulimit_keys[] = { "soft", "hard", NULL };
static const char *const logging_keys[] = { "driver", "options", NULL };

#define P(...) cleanup_free char *sp_ = xasprintf (__VA_ARGS__)

static int norm_fileref (struct nctx *c, struct cnode *seq, const char *path);

static int norm_build (struct nctx *c, struct cnode **slot, const char *path)
{
  struct cnode *b = *slot;
  if (b->kind == CN_SCALAR)
    {
      struct cnode *m = cnode_new (CN_MAP);
      cnode_pos_from (m, b);
      cnode_set (m, "context", cnode_copy (b));
      replace_node (slot, m);
      b = m;
    }
  if (want_map (c, b, path) < 0 || check_keys (c, b, path, build_keys) < 0)
    return -1;
  struct cnode *ctx = cnode_get (b, "context");
  if (ctx == NULL)
    cnode_set (b, "context", cnode_str ("."));
  for (size_t i = 0; i < b->n; i++)
    {
      const char *k = b->ents[i].key;
      struct cnode **v = &b->ents[i].val;
      P ("%s.%s", path, k);
      int r = 0;
      if (strcmp (k, "context") == 0 || strcmp (k, "dockerfile") == 0
          || strcmp (k, "dockerfile_inline") == 0 || strcmp (k, "target") == 0
          || strcmp (k, "network") == 0)
        r = want_str (c, *v, sp_);
      else if (strcmp (k, "args") == 0 || strcmp (k, "labels") == 0)
        r = want_list_or_dict (c, v, sp_, strcmp (k, "args") == 0);
      else if (strcmp (k, "additional_contexts") == 0)
        {
          if ((r = want_list_or_dict (c, v, sp_, false)) == 0)
            for (size_t a = 0; a < (*v)->n; a++)
              {
                struct cnode *ac = (*v)->ents[a].val;
                /* Local paths become absolute; image refs and URLs stay. */
                if (strstr (ac->str, "://") == NULL && !str_has_prefix (ac->str, "docker-image:")
                    && !str_has_prefix (ac->str, "target:")
                    && !str_has_prefix (ac->str, "oci-layout:"))
                  {
                    cleanup_free char *abs = resolve_path (c, ac->str);
                    free (ac->str);
                    ac->str = steal_pointer (&abs);
                  }
              }
        }
      else if (strcmp (k, "tags") == 0 || strcmp (k, "cache_from") == 0
               || strcmp (k, "platforms") == 0)
        r = want_strlist (c, *v, sp_);
      else if (strcmp (k, "shm_size") == 0)
        r = want_size (c, v, sp_);
      else if (strcmp (k, "secrets") == 0)
        r = norm_fileref (c, *v, sp_);
      if (r < 0)
        return r;
    }
  /* A local context becomes absolute; URLs and git references stay as written. */
  ctx = cnode_get (b, "context");
  const char *cs = ctx->str;
  if (strstr (cs, "://") == NULL && !str_has_prefix (cs, "git@")
      && !str_has_prefix (cs, "github.com/"))
    {
      cleanup_free char *abs = resolve_path (c, cs);
      free (ctx->str);
      ctx->str = steal_pointer (&abs);
    }
  if (cnode_get (b, "dockerfile") == NULL && cnode_get (b, "dockerfile_inline") == NULL)
    {
      /* Keep compose's key order: dockerfile right after context. */
      struct cnode *rest = cnode_new (CN_MAP);
      for (size_t i = 0; i < b->n; i++)
        {
          cnode_set (rest, b->ents[i].key, cnode_copy (b->ents[i].val));
          if (strcmp (b->ents[i].key, "context") == 0)
            cnode_set (rest, "dockerfile", cnode_str ("Dockerfile"));
        }
      replace_node (slot, rest);
    }
  return 0;
}

static int norm_ports (struct nctx *c, struct cnode *ports, const char *path)
{
  if (want_seq (c, ports, path) < 0)
    return -1;
  struct cnode *out = cnode_new (CN_SEQ);
  int r = 0;
  for (size_t i = 0; i < ports->n && r == 0; i++)
    {
      struct cnode *p = ports->items[i];
      P ("%s[%zu]", path, i);
      if (p->kind == CN_SCALAR)
        {
          struct cnode *list = NULL;
          cleanup_berr berr_t e = BERR_INIT;
          if (compose_parse_port (p->str, &list, &e) < 0)
            {
              r = nfail (c, p, sp_, "invalid port %s: %s", p->str, e.msg);
              break;
            }
          for (size_t k = 0; k < list->n; k++)
            {
              struct cnode *one = cnode_copy (list->items[k]);
              cnode_pos_from (one, p);
              cnode_push (out, one);
            }
          cnode_free (list);
          continue;
        }
      if ((r = want_map (c, p, sp_)) < 0 || (r = check_keys (c, p, sp_, port_keys)) < 0)
        break;
      struct cnode *t = cnode_get (p, "target");
      if (t == NULL)
        {
          r = nfail (c, p, sp_, "target is required");
          break;
        }
      int64_t tv;
      cleanup_free char *tp = xasprintf ("%s.target", sp_);
      if ((r = want_int (c, t, tp, &tv)) < 0)
        break;
      if (tv < 1 || tv > 65535)
        {
          r = nfail (c, t, tp, "invalid port %lld", (long long)tv);
          break;
        }
      struct cnode *pub = cnode_get (p, "published");
      if (pub && (r = want_str (c, pub, sp_)) < 0)
        break;
      struct cnode *m = cnode_new (CN_MAP);
      cnode_pos_from (m, p);
      static const char *const order[]
          = { "name", "mode", "host_ip", "target", "published", "protocol", "app_protocol" };
      if (cnode_get (p, "mode") == NULL)
        cnode_set (p, "mode", cnode_str ("ingress"));
      if (cnode_get (p, "protocol") == NULL)
        cnode_set (p, "protocol", cnode_str ("tcp"));
      for (size_t k = 0; k < ARRAY_SIZE (order); k++)
        if (cnode_get (p, order[k]))
          cnode_set (m, order[k], cnode_copy (cnode_get (p, order[k])));
      for (size_t k = 0; k < p->n; k++)
        if (str_has_prefix (p->ents[k].key, "x-"))
          cnode_set (m, p->ents[k].key, cnode_copy (p->ents[k].val));
      cnode_push (out, m);
    }
  if (r < 0)
    {
      cnode_free (out);
      return r;
    }
  /* Swap contents so the caller's slot keeps its position. */
  for (size_t i = 0; i < ports->n; i++)
    cnode_free (ports->items[i]);
  free (ports->items);
  ports->items = out->items;
  ports->n = out->n;
  ports->cap = out->cap;
  out->items = NULL;
  out->n = 0;
  cnode_free (out);
  return 0;
}

static int norm_volume_long (struct nctx *c, struct cnode *v, const char *path)
{
  if (check_keys (c, v, path, volume_keys) < 0)
    return -1;
  struct cnode *type = cnode_get (v, "type");
  if (type == NULL)
    return nfail (c, v, path, "type is required");
  if (want_str (c, type, path) < 0)
    return -1;
  static const char *const types[] = { "bind", "volume", "tmpfs", "npipe", "cluster", "image" };
  bool ok = false;
  for (size_t i = 0; i < ARRAY_SIZE (types); i++)
    ok = ok || strcmp (type->str, types[i]) == 0;
  if (!ok)
    return nfail (c, type, path, "invalid volume type %s", type->str);
  struct cnode *tgt = cnode_get (v, "target");
  if (tgt == NULL || want_str (c, tgt, path) < 0)
    return berr_is_set (c->err) ? -1 : nfail (c, v, path, "target is required");
  struct cnode *src = cnode_get (v, "source");
  if (src && want_str (c, src, path) < 0)
    return -1;
  if (strcmp (type->str, "bind") == 0 && src == NULL)
    return nfail (c, v, path, "source is required for a bind mount");
  if (strcmp (type->str, "tmpfs") == 0 && src)
    return nfail (c, src, path, "source is not allowed for a tmpfs mount");
  struct cnode *ro = cnode_get (v, "read_only");
  if (ro && want_bool (c, ro, path) < 0)
    return -1;
  struct cnode *sub;
  if ((sub = cnode_get (v, "bind")))
    {
      if (want_map (c, sub, path) < 0 || check_keys (c, sub, path, bind_keys) < 0)
        return -1;
      struct cnode *chp = cnode_get (sub, "create_host_path");
      if (chp && want_bool (c, chp, path) < 0)
        return -1;
    }
  if ((sub = cnode_get (v, "volume")))
    {
      if (sub->kind == CN_NULL)
        cnode_set (v, "volume", sub = cnode_new (CN_MAP));
      else if (want_map (c, sub, path) < 0 || check_keys (c, sub, path, vvol_keys) < 0)
        return -1;
      struct cnode *nc = cnode_get (sub, "nocopy");
      if (nc && want_bool (c, nc, path) < 0)
        return -1;
    }
  if ((sub = cnode_get (v, "tmpfs")))
    {
      if (want_map (c, sub, path) < 0 || check_keys (c, sub, path, tmpfs_keys) < 0)
        return -1;
      for (size_t i = 0; i < sub->n; i++)
        if (strcmp (sub->ents[i].key, "size") == 0 && want_size (c, &sub->ents[i].val, path) < 0)
          return -1;
    }
  if ((sub = cnode_get (v, "image")) && check_keys (c, sub, path, image_keys) < 0)
    return -1;
  return 0;
}

static int norm_volumes (struct nctx *c, struct cnode *vols, const char *path)
{
  if (want_seq (c, vols, path) < 0)
    return -1;
  for (size_t i = 0; i < vols->n; i++)
    {
      P ("%s[%zu]", path, i);
      struct cnode *v = vols->items[i];
      if (v->kind == CN_SCALAR)
        {
          struct cnode *lv = NULL;
          cleanup_berr berr_t e = BERR_INIT;
          if (compose_parse_volume (v->str, &lv, &e) < 0)
            return nfail (c, v, sp_, "%s", e.msg);
          replace_node (&vols->items[i], lv);
          v = lv;
        }
      else if (want_map (c, v, sp_) < 0 || norm_volume_long (c, v, sp_) < 0)
        return -1;
      /* create_host_path defaults to true and, like compose (an opt-out field), is printed only
       * when false; the model reads a missing one as true. */
      struct cnode *bind = cnode_get (v, "bind");
      const char *chp = cnode_text (cnode_get (bind, "create_host_path"));
      if (chp && strcmp (chp, "true") == 0)
        cnode_del (bind, "create_host_path");
      struct cnode *src = cnode_get (v, "source");
      const char *type = cnode_text (cnode_get (v, "type"));
      if (src && type && strcmp (type, "bind") == 0)
        {
          cleanup_free char *abs = resolve_path (c, src->str);
          free (src->str);
          src->str = steal_pointer (&abs);
        }
    }
  return 0;
}

static int norm_healthcheck (struct nctx *c, struct cnode *h, const char *path)
{
  if (want_map (c, h, path) < 0 || check_keys (c, h, path, health_keys) < 0)
    return -1;
  for (size_t i = 0; i < h->n; i++)
    {
      const char *k = h->ents[i].key;
      P ("%s.%s", path, k);
      int r = 0;
      if (strcmp (k, "test") == 0)
        {
          struct cnode *t = h->ents[i].val;
          if (t->kind == CN_SCALAR)
            {
              /* A string is a shell command. */
              struct cnode *s = cnode_new (CN_SEQ);
              cnode_push (s, cnode_str ("CMD-SHELL"));
              cnode_push (s, cnode_str (t->str));
              replace_node (&h->ents[i].val, s);
            }
          else
            r = want_strlist (c, t, sp_);
        }
      else if (strcmp (k, "disable") == 0)
        r = want_bool (c, h->ents[i].val, sp_);
      else if (strcmp (k, "retries") == 0)
        r = want_int (c, h->ents[i].val, sp_, NULL);
      else if (!str_has_prefix (k, "x-"))
        r = want_duration (c, &h->ents[i].val, sp_, NULL);
      if (r < 0)
        return r;
    }
  return 0;
}

static int norm_depends_on (struct nctx *c, struct cnode **slot, const char *path)
{
  struct cnode *d = *slot;
  if (d->kind == CN_SEQ)
    {
      if (want_strlist (c, d, path) < 0)
        return -1;
      struct cnode *m = cnode_new (CN_MAP);
      for (size_t i = 0; i < d->n; i++)
        {
          struct cnode *e = cnode_new (CN_MAP);
          cnode_pos_from (e, d->items[i]);
          cnode_set (e, "condition", cnode_str ("service_started"));
          cnode_set (e, "required", cnode_bool (true));
          cnode_set (m, d->items[i]->str, e);
        }
      replace_node (slot, m);
      return 0;
    }
  if (d->kind != CN_MAP)
    return nfail (c, d, path, "must be a list or a mapping");
  for (size_t i = 0; i < d->n; i++)
    {
      P ("%s.%s", path, d->ents[i].key);
      struct cnode *e = d->ents[i].val;
      if (e->kind == CN_NULL)
        {
          replace_node (&d->ents[i].val, cnode_new (CN_MAP));
          e = d->ents[i].val;
        }
      if (want_map (c, e, sp_) < 0 || check_keys (c, e, sp_, dep_keys) < 0)
        return -1;
      struct cnode *cond = cnode_get (e, "condition");
      if (cond == NULL)
        cnode_set (e, "condition", cnode_str ("service_started"));
      else if (want_str (c, cond, sp_) < 0)
        return -1;
      else if (strcmp (cond->str, "service_started") != 0
               && strcmp (cond->str, "service_healthy") != 0
               && strcmp (cond->str, "service_completed_successfully") != 0)
        return nfail (c, cond, sp_,
                      "condition must be one of service_started, service_healthy, "
                      "service_completed_successfully");
      struct cnode *req = cnode_get (e, "required");
      if (req == NULL)
        cnode_set (e, "required", cnode_bool (true));
      else if (want_bool (c, req, sp_) < 0)
        return -1;
      struct cnode *rs = cnode_get (e, "restart");
      if (rs && want_bool (c, rs, sp_) < 0)
        return -1;
    }
  return 0;
}

static int norm_service_networks (struct nctx *c, struct cnode **slot, const char *path)
{
  struct cnode *n = *slot;
  if (n->kind == CN_SEQ)
    {
      if (want_strlist (c, n, path) < 0)
        return -1;
      struct cnode *m = cnode_new (CN_MAP);
      for (size_t i = 0; i < n->n; i++)
        {
          struct cnode *nul = cnode_new (CN_NULL);
          cnode_pos_from (nul, n->items[i]);
          cnode_set (m, n->items[i]->str, nul);
        }
      replace_node (slot, m);
      return 0;
    }
  if (n->kind != CN_MAP)
    return nfail (c, n, path, "must be a list or a mapping");
  for (size_t i = 0; i < n->n; i++)
    {
      struct cnode *e = n->ents[i].val;
      P ("%s.%s", path, n->ents[i].key);
      if (e->kind == CN_NULL)
        continue;
      if (want_map (c, e, sp_) < 0 || check_keys (c, e, sp_, svcnet_keys) < 0)
        return -1;
      for (size_t k = 0; k < e->n; k++)
        {
          const char *kk = e->ents[k].key;
          int r = 0;
          if (strcmp (kk, "aliases") == 0 || strcmp (kk, "link_local_ips") == 0)
            r = want_strlist (c, e->ents[k].val, sp_);
          else if (strcmp (kk, "priority") == 0 || strcmp (kk, "gw_priority") == 0)
            r = want_int (c, e->ents[k].val, sp_, NULL);
          else if (strcmp (kk, "driver_opts") != 0 && !str_has_prefix (kk, "x-"))
            r = want_str (c, e->ents[k].val, sp_);
          if (r < 0)
            return r;
        }
    }
  return 0;
}

static int norm_ulimits (struct nctx *c, struct cnode *u, const char *path)
{
  if (want_map (c, u, path) < 0)
    return -1;
  for (size_t i = 0; i < u->n; i++)
    {
      P ("%s.%s", path, u->ents[i].key);
      struct cnode *v = u->ents[i].val;
      int64_t soft = 0, hard = 0;
      if (v->kind == CN_SCALAR)
        {
          if (want_int (c, v, sp_, NULL) < 0)
            return -1;
          continue;
        }
      if (want_map (c, v, sp_) < 0 || check_keys (c, v, sp_, ulimit_keys) < 0)
        return -1;
      struct cnode *s = cnode_get (v, "soft"), *h = cnode_get (v, "hard");
      if (s == NULL || h == NULL)
        return nfail (c, v, sp_, "must have both soft and hard");
      if (want_int (c, s, sp_, &soft) < 0 || want_int (c, h, sp_, &hard) < 0)
        return -1;
      if (soft > hard && hard >= 0)
        return nfail (c, v, sp_, "soft limit %lld is above the hard limit %lld", (long long)soft,
                      (long long)hard);
    }
  return 0;
}

/* update_config, rollback_config and restart_policy: compose-go types their durations, so
 * they print in Go's spelling (60s as 1m0s) whatever the loader options. */
static int norm_deploy_policy (struct nctx *c, struct cnode *d, const char *key, const char *path)
{
  static const char *const update_keys[]
      = { "parallelism", "delay", "failure_action", "monitor", "order", "max_failure_ratio", NULL };
  static const char *const restart_keys[]
      = { "condition", "delay", "max_attempts", "window", NULL };
  struct cnode *m = cnode_get (d, key);
  if (m == NULL)
    return 0;
  bool restart = strcmp (key, "restart_policy") == 0;
  P ("%s.%s", path, key);
  if (want_map (c, m, sp_) < 0 || check_keys (c, m, sp_, restart ? restart_keys : update_keys) < 0)
    return -1;
  for (size_t i = 0; i < m->n; i++)
    {
      const char *k = m->ents[i].key;
      cleanup_free char *kp = xasprintf ("%s.%s", sp_, k);
      int r = 0;
      if (strcmp (k, "delay") == 0 || strcmp (k, "monitor") == 0 || strcmp (k, "window") == 0)
        r = want_duration (c, &m->ents[i].val, kp, NULL);
      else if (strcmp (k, "parallelism") == 0 || strcmp (k, "max_attempts") == 0)
        r = want_int (c, m->ents[i].val, kp, NULL);
      else if (strcmp (k, "max_failure_ratio") == 0)
        r = want_number (c, m->ents[i].val, kp);
      if (r < 0)
        return r;
    }
  return 0;
}

static int norm_deploy (struct nctx *c, struct cnode *d, const char *path)
{
  if (want_map (c, d, path) < 0 || check_keys (c, d, path, deploy_keys) < 0)
    return -1;
  struct cnode *v;
  if ((v = cnode_get (d, "replicas")) && want_int (c, v, path, NULL) < 0)
    return -1;
  static const char *const policies[] = { "update_config", "rollback_config", "restart_policy" };
  for (size_t i = 0; i < ARRAY_SIZE (policies); i++)
    if (norm_deploy_policy (c, d, policies[i], path) < 0)
      return -1;
  for (size_t i = 0; i < d->n; i++)
    if (strcmp (d->ents[i].key, "labels") == 0
        && want_list_or_dict (c, &d->ents[i].val, path, false) < 0)
      return -1;
  struct cnode *res = cnode_get (d, "resources");
  if (res == NULL)
    return 0;
  P ("%s.resources", path);
  if (want_map (c, res, sp_) < 0 || check_keys (c, res, sp_, resources_keys) < 0)
    return -1;
  for (size_t i = 0; i < res->n; i++)
    {
      struct cnode *lr = res->ents[i].val;
      bool limits = strcmp (res->ents[i].key, "limits") == 0;
      cleanup_free char *lp = xasprintf ("%s.%s", sp_, res->ents[i].key);
      if (str_has_prefix (res->ents[i].key, "x-"))
        continue;
      if (want_map (c, lr, lp) < 0
          || check_keys (c, lr, lp, limits ? limits_keys : reservations_keys) < 0)
        return -1;
      for (size_t k = 0; k < lr->n; k++)
        {
          const char *kk = lr->ents[k].key;
          cleanup_free char *kp = xasprintf ("%s.%s", lp, kk);
          int r = 0;
          if (strcmp (kk, "cpus") == 0)
            r = want_number (c, lr->ents[k].val, kp);
          else if (strcmp (kk, "memory") == 0)
            r = want_size (c, &lr->ents[k].val, kp);
          else if (strcmp (kk, "pids") == 0)
            r = want_int (c, lr->ents[k].val, kp, NULL);
          else if (strcmp (kk, "devices") == 0)
            {
              struct cnode *devs = lr->ents[k].val;
              if ((r = want_seq (c, devs, kp)) < 0)
                return r;
              for (size_t j = 0; j < devs->n; j++)
                {
                  struct cnode *dv = devs->items[j];
                  cleanup_free char *dp = xasprintf ("%s[%zu]", kp, j);
                  if (want_map (c, dv, dp) < 0 || check_keys (c, dv, dp, devreq_keys) < 0)
                    return -1;
                  struct cnode *caps = cnode_get (dv, "capabilities");
                  if (caps == NULL)
                    return nfail (c, dv, dp, "capabilities is required");
                  if (want_strlist (c, caps, dp) < 0)
                    return -1;
                  struct cnode *cnt = cnode_get (dv, "count");
                  if (cnt && !(cnt->kind == CN_SCALAR && strcmp (cnt->str, "all") == 0)
                      && want_int (c, cnt, dp, NULL) < 0)
                    return -1;
                  struct cnode *ids = cnode_get (dv, "device_ids");
                  if (ids && want_strlist (c, ids, dp) < 0)
                    return -1;
                  if (ids && cnt)
                    return nfail (c, dv, dp, "count and device_ids are mutually exclusive");
                  struct cnode *drv = cnode_get (dv, "driver");
                  if (drv && want_str (c, drv, dp) < 0)
                    return -1;
                }
            }
          if (r < 0)
            return r;
        }
    }
  return 0;
}

static int norm_env_file (struct nctx *c, struct cnode **slot, const char *path)
{
  struct cnode *n = *slot;
  if (n->kind == CN_SCALAR)
    {
      if (want_str_or_list (c, slot, path) < 0)
        return -1;
      n = *slot;
    }
  if (want_seq (c, n, path) < 0)
    return -1;
  for (size_t i = 0; i < n->n; i++)
    {
      P ("%s[%zu]", path, i);
      struct cnode *e = n->items[i];
      if (e->kind == CN_SCALAR)
        {
          struct cnode *m = cnode_new (CN_MAP);
          cnode_set (m, "path", cnode_str (e->str));
          replace_node (&n->items[i], m);
          e = m;
        }
      static const char *const ef_keys[] = { "path", "required", "format", NULL };
      if (want_map (c, e, sp_) < 0 || check_keys (c, e, sp_, ef_keys) < 0)
        return -1;
      struct cnode *p = cnode_get (e, "path");
      if (p == NULL || want_str (c, p, sp_) < 0)
        return berr_is_set (c->err) ? -1 : nfail (c, e, sp_, "path is required");
      cleanup_free char *abs = resolve_path (c, p->str);
      free (p->str);
      p->str = steal_pointer (&abs);
      /* required defaults to true and is printed only when false, as compose does. */
      struct cnode *req = cnode_get (e, "required");
      if (req && want_bool (c, req, sp_) < 0)
        return -1;
      if (req && strcmp (req->str, "true") == 0)
        cnode_del (e, "required");
    }
  return 0;
}

static int norm_label_file (struct nctx *c, struct cnode **slot, const char *path)
{
  if (want_str_or_list (c, slot, path) < 0)
    return -1;
  struct cnode *n = *slot;
  for (size_t i = 0; i < n->n; i++)
    {
      cleanup_free char *abs = resolve_path (c, n->items[i]->str);
      free (n->items[i]->str);
      n->items[i]->str = steal_pointer (&abs);
    }
  return 0;
}

/* A file mode, as compose-go reads it: a YAML number (0440 is octal there, as in YAML 1.1; 288
 * is decimal) or a string of octal digits; printed back as "0" and its octal digits. */
static int want_file_mode (struct nctx *c, struct cnode **slot, const char *path)
{
  struct cnode *n = *slot;
  if (n->kind != CN_SCALAR || n->str[0] == '\0' || n->str[0] == '-' || n->str[0] == '+')
    return nfail (c, n, path, "invalid file mode");
  const char *t = n->str;
  int base = 8;
  if (n->plain)
    {
      if (t[0] == '0' && (t[1] == 'o' || t[1] == 'O'))
        t += 2;
      else if (t[0] == '0' && (t[1] == 'x' || t[1] == 'X'))
        base = 16, t += 2;
      else if (t[0] != '0')
        base = 10;
    }
  char *end;
  errno = 0;
  unsigned long long v = strtoull (t, &end, base);
  if (*t == '\0' || *end != '\0' || errno != 0 || v > 07777)
    return nfail (c, n, path, "invalid file mode %s", n->str);
  struct cnode *m = cnode_strf ("0%llo", v);
  cnode_pos_from (m, n);
  replace_node (slot, m);
  return 0;
}

static int norm_fileref (struct nctx *c, struct cnode *seq, const char *path)
{
  if (want_seq (c, seq, path) < 0)
    return -1;
  for (size_t i = 0; i < seq->n; i++)
    {
      P ("%s[%zu]", path, i);
      struct cnode *e = seq->items[i];
      if (e->kind == CN_SCALAR)
        {
          struct cnode *m = cnode_new (CN_MAP);
          cnode_set (m, "source", cnode_str (e->str));
          replace_node (&seq->items[i], m);
          continue;
        }
      if (want_map (c, e, sp_) < 0 || check_keys (c, e, sp_, fileref_keys) < 0)
        return -1;
      if (cnode_get (e, "source") == NULL)
        return nfail (c, e, sp_, "source is required");
      for (size_t k = 0; k < e->n; k++)
        {
          const char *key = e->ents[k].key;
          if (str_has_prefix (key, "x-"))
            continue;
          if (strcmp (key, "mode") == 0 ? want_file_mode (c, &e->ents[k].val, sp_) < 0
                                        : want_str (c, e->ents[k].val, sp_) < 0)
            return -1;
        }
    }
  return 0;
}

static int norm_extra_hosts (struct nctx *c, struct cnode **slot, const char *path)
{
  struct cnode *n = *slot;
  struct cnode *out = cnode_new (CN_SEQ);
  cnode_pos_from (out, n);
  if (n->kind == CN_MAP)
    for (size_t i = 0; i < n->n; i++)
      {
        struct cnode *v = n->ents[i].val;
        if (v->kind == CN_SEQ)
          for (size_t k = 0; k < v->n; k++)
            cnode_push (out, cnode_strf ("%s=%s", n->ents[i].key, cnode_text (v->items[k])));
        else if (v->kind == CN_SCALAR)
          cnode_push (out, cnode_strf ("%s=%s", n->ents[i].key, v->str));
        else
          {
            cnode_free (out);
            return nfail (c, v, path, "must be a string or a list");
          }
      }
  else if (n->kind == CN_SEQ)
    for (size_t i = 0; i < n->n; i++)
      {
        struct cnode *v = n->items[i];
        if (v->kind != CN_SCALAR)
          {
            cnode_free (out);
            return nfail (c, v, path, "must be a list of strings");
          }
        /* The legacy "host:ip" form becomes "host=ip" (the first colon separates). */
        const char *eq = strchr (v->str, '=');
        const char *co = strchr (v->str, ':');
        if (eq == NULL && co)
          cnode_push (out, cnode_strf ("%.*s=%s", (int)(co - v->str), v->str, co + 1));
        else
          cnode_push (out, cnode_str (v->str));
      }
  else
    {
      cnode_free (out);
      return nfail (c, n, path, "must be a mapping or a list");
    }
  replace_node (slot, out);
  return 0;
}

static int norm_command (struct nctx *c, struct cnode **slot, const char *path)
{
  struct cnode *n = *slot;
  if (n->kind == CN_NULL)
    return 0;
  if (n->kind == CN_SCALAR)
    {
      char **words = NULL;
      if (compose_shell_split (n->str, &words, c->err) < 0)
        return cnode_fail (c->err, n, "%s: %s", path, c->err->msg);
      struct cnode *s = cnode_new (CN_SEQ);
      for (size_t i = 0; words[i]; i++)
        cnode_push (s, cnode_str (words[i]));
      strv_free (words);
      replace_node (slot, s);
      return 0;
    }
  return want_strlist (c, n, path);
}

static int norm_service (struct nctx *c, const char *name, struct cnode *s)
{
  P ("services.%s", name);
  if (s->kind == CN_NULL)
    return 0;
  if (want_map (c, s, sp_) < 0 || check_keys (c, s, sp_, compose_service_keys) < 0)
    return -1;
  for (size_t i = 0; i < s->n; i++)
    {
      const char *k = s->ents[i].key;
      struct cnode **v = &s->ents[i].val;
      cleanup_free char *kp = xasprintf ("%s.%s", sp_, k);
      int r = 0;
      if (str_has_prefix (k, "x-"))
        continue;
      if (strcmp (k, "extends") == 0)
        r = nfail (c, *v, kp, "is not supported by berth compose yet");
      else if (strcmp (k, "build") == 0)
        r = norm_build (c, v, kp);
      else if (strcmp (k, "command") == 0 || strcmp (k, "entrypoint") == 0)
        r = norm_command (c, v, kp);
      else if (strcmp (k, "environment") == 0)
        r = want_list_or_dict (c, v, kp, true);
      else if (strcmp (k, "labels") == 0 || strcmp (k, "sysctls") == 0
               || strcmp (k, "annotations") == 0 || strcmp (k, "storage_opt") == 0)
        r = want_list_or_dict (c, v, kp, false);
      else if (strcmp (k, "env_file") == 0)
        r = norm_env_file (c, v, kp);
      else if (strcmp (k, "label_file") == 0)
        r = norm_label_file (c, v, kp);
      else if (strcmp (k, "ports") == 0)
        r = norm_ports (c, *v, kp);
      else if (strcmp (k, "expose") == 0)
        {
          if ((r = want_seq (c, *v, kp)) == 0)
            for (size_t e = 0; e < (*v)->n && r == 0; e++)
              r = want_str (c, (*v)->items[e], kp);
        }
      else if (strcmp (k, "volumes") == 0)
        r = norm_volumes (c, *v, kp);
      else if (strcmp (k, "networks") == 0)
        r = norm_service_networks (c, v, kp);
      else if (strcmp (k, "depends_on") == 0)
        r = norm_depends_on (c, v, kp);
      else if (strcmp (k, "healthcheck") == 0)
        r = norm_healthcheck (c, *v, kp);
      else if (strcmp (k, "ulimits") == 0)
        r = norm_ulimits (c, *v, kp);
      else if (strcmp (k, "deploy") == 0)
        r = norm_deploy (c, *v, kp);
      else if (strcmp (k, "extra_hosts") == 0)
        r = norm_extra_hosts (c, v, kp);
      else if (strcmp (k, "configs") == 0 || strcmp (k, "secrets") == 0)
        r = norm_fileref (c, *v, kp);
      else if (strcmp (k, "dns") == 0 || strcmp (k, "dns_search") == 0 || strcmp (k, "tmpfs") == 0
               || strcmp (k, "env_file") == 0)
        r = want_str_or_list (c, v, kp);
      else if (strcmp (k, "links") == 0 || strcmp (k, "cap_add") == 0 || strcmp (k, "cap_drop") == 0
               || strcmp (k, "profiles") == 0 || strcmp (k, "security_opt") == 0
               || strcmp (k, "dns_opt") == 0 || strcmp (k, "external_links") == 0
               || strcmp (k, "volumes_from") == 0 || strcmp (k, "group_add") == 0
               || strcmp (k, "device_cgroup_rules") == 0)
        r = want_strlist (c, *v, kp);
      else if (strcmp (k, "devices") == 0)
        {
          if ((r = want_seq (c, *v, kp)) == 0)
            for (size_t e = 0; e < (*v)->n && r == 0; e++)
              if ((*v)->items[e]->kind == CN_SCALAR)
                r = want_str (c, (*v)->items[e], kp);
        }
      else if (strcmp (k, "tty") == 0 || strcmp (k, "stdin_open") == 0
               || strcmp (k, "privileged") == 0 || strcmp (k, "init") == 0
               || strcmp (k, "read_only") == 0 || strcmp (k, "oom_kill_disable") == 0)
        r = want_bool (c, *v, kp);
      else if (strcmp (k, "scale") == 0 || strcmp (k, "pids_limit") == 0
               || strcmp (k, "cpu_shares") == 0 || strcmp (k, "oom_score_adj") == 0)
        r = want_int (c, *v, kp, NULL);
      else if (strcmp (k, "cpus") == 0)
        r = want_number (c, *v, kp);
      else if (strcmp (k, "shm_size") == 0 || strcmp (k, "mem_limit") == 0
               || strcmp (k, "mem_reservation") == 0 || strcmp (k, "memswap_limit") == 0)
        r = want_size (c, v, kp);
      else if (strcmp (k, "stop_grace_period") == 0)
        r = want_duration (c, v, kp, NULL);
      else if (strcmp (k, "logging") == 0)
        r = want_map (c, *v, kp) < 0 ? -1 : check_keys (c, *v, kp, logging_keys);
      else if (strcmp (k, "restart") == 0)
        r = want_str (c, *v, kp); /* compose leaves the policy's check to the engine */
      else if (strcmp (k, "image") == 0 || strcmp (k, "working_dir") == 0 || strcmp (k, "user") == 0
               || strcmp (k, "hostname") == 0 || strcmp (k, "domainname") == 0
               || strcmp (k, "container_name") == 0 || strcmp (k, "ipc") == 0
               || strcmp (k, "pid") == 0 || strcmp (k, "uts") == 0 || strcmp (k, "stop_signal") == 0
               || strcmp (k, "network_mode") == 0 || strcmp (k, "platform") == 0
               || strcmp (k, "pull_policy") == 0 || strcmp (k, "cgroup_parent") == 0
               || strcmp (k, "mac_address") == 0 || strcmp (k, "runtime") == 0
               || strcmp (k, "userns_mode") == 0)
        r = want_str (c, *v, kp);
      if (r < 0)
        return r;
    }
  if (cnode_get (s, "deploy") && cnode_get (s, "scale"))
    {
      const char *a = cnode_text (cnode_get (cnode_get (s, "deploy"), "replicas"));
      const char *b = cnode_text (cnode_get (s, "scale"));
      if (a && b && strcmp (a, b) != 0)
        return nfail (c, cnode_get (s, "scale"), sp_,
                      "can't set distinct values on 'scale' and 'deploy.replicas'");
    }
  return 0;
}

static int norm_resource (struct nctx *c, const char *kind, const char *name, struct cnode **slot)
{
  P ("%s.%s", kind, name);
  struct cnode *r = *slot;
  if (r->kind == CN_NULL)
    {
      replace_node (slot, cnode_new (CN_MAP));
      return 0;
    }
  const char *const *keys = strcmp (kind, "networks") == 0  ? network_keys
                            : strcmp (kind, "volumes") == 0 ? topvol_keys
                                                            : configsecret_keys;
  if (want_map (c, r, sp_) < 0 || check_keys (c, r, sp_, keys) < 0)
    return -1;
  for (size_t i = 0; i < r->n; i++)
    {
      const char *k = r->ents[i].key;
      struct cnode **v = &r->ents[i].val;
      cleanup_free char *kp = xasprintf ("%s.%s", sp_, k);
      int rr = 0;
      if (strcmp (k, "external") == 0)
        {
          /* Legacy external: {name: x} becomes name: x, external: true. */
          if ((*v)->kind == CN_MAP)
            {
              const char *en = cnode_text (cnode_get (*v, "name"));
              if (en)
                {
                  cleanup_free char *nm = xstrdup (en);
                  replace_node (v, cnode_bool (true));
                  cnode_set (r, "name", cnode_str (nm));
                  continue;
                }
              replace_node (v, cnode_bool (true));
            }
          else
            rr = want_bool (c, *v, kp);
        }
      else if (strcmp (k, "internal") == 0 || strcmp (k, "attachable") == 0
               || strcmp (k, "enable_ipv6") == 0 || strcmp (k, "enable_ipv4") == 0)
        rr = want_bool (c, *v, kp);
      else if (strcmp (k, "labels") == 0 || strcmp (k, "driver_opts") == 0)
        rr = want_list_or_dict (c, v, kp, false);
      else if (strcmp (k, "ipam") == 0)
        {
          if ((rr = want_map (c, *v, kp)) == 0 && (rr = check_keys (c, *v, kp, ipam_keys)) == 0)
            {
              struct cnode *cfg = cnode_get (*v, "config");
              if (cfg && (rr = want_seq (c, cfg, kp)) == 0)
                for (size_t j = 0; j < cfg->n && rr == 0; j++)
                  if ((rr = want_map (c, cfg->items[j], kp)) == 0)
                    rr = check_keys (c, cfg->items[j], kp, ipam_config_keys);
            }
        }
      else if (strcmp (k, "file") == 0)
        {
          if ((rr = want_str (c, *v, kp)) == 0)
            {
              cleanup_free char *abs = resolve_path (c, (*v)->str);
              free ((*v)->str);
              (*v)->str = steal_pointer (&abs);
            }
        }
      else if (!str_has_prefix (k, "x-"))
        rr = want_str (c, *v, kp);
      if (rr < 0)
        return rr;
    }
  if (strcmp (kind, "configs") == 0 || strcmp (kind, "secrets") == 0)
    {
      int sources = (cnode_get (r, "file") != NULL) + (cnode_get (r, "environment") != NULL)
                    + (cnode_get (r, "content") != NULL)
                    + (cnode_text (cnode_get (r, "external"))
                       && strcmp (cnode_get (r, "external")->str, "true") == 0);
      /* None is allowed (a reference by name, checked when used), two are not. */
      if (sources > 1)
        return nfail (c, r, sp_, "must have only one of file, environment, content or external");
    }
  return 0;
}

int compose_normalize_file (struct cnode *doc, const char *working_dir, const struct cnode *env,
                            berr_t *err)
{
  struct nctx c = { working_dir, env, err };
  if (doc->kind == CN_NULL)
    return 0;
  if (doc->kind != CN_MAP)
    return cnode_fail (err, doc, "Top-level object must be a mapping");
  if (cnode_get (doc, "include"))
    return cnode_fail (err, cnode_get (doc, "include"),
                       "include is not supported by berth compose yet");
  if (check_keys (&c, doc, "", top_keys) < 0)
    return -1;
  struct cnode *v;
  if ((v = cnode_get (doc, "name")) && want_str (&c, v, "name") < 0)
    return -1;
  static const char *const sections[] = { "services", "networks", "volumes", "configs", "secrets" };
  for (size_t s = 0; s < ARRAY_SIZE (sections); s++)
    {
      struct cnode *sec = cnode_get (doc, sections[s]);
      if (sec == NULL)
        continue;
      if (sec->kind == CN_NULL)
        continue;
      if (want_map (&c, sec, sections[s]) < 0)
        return -1;
      for (size_t i = 0; i < sec->n; i++)
        {
          if (str_has_prefix (sec->ents[i].key, "x-") && s != 0)
            continue;
          int r = s == 0 ? norm_service (&c, sec->ents[i].key, sec->ents[i].val)
                         : norm_resource (&c, sections[s], sec->ents[i].key, &sec->ents[i].val);
          if (r < 0)
            return r;
        }
    }
  return 0;
}
