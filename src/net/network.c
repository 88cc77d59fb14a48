/* network.c — the networks themselves (see network.h): the predefined three, user bridge
 * networks with Docker's validations, lookups, removal, prune, inspect, and realizing a
 * network's bridge on demand.  Containers on networks are attach.c's. */
#include "network.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include "net/ipam.h"
#include "net/netlink.h"
#include "net/nft.h"
#include "util/digest.h"
#include "util/fs.h"
#include "util/json.h"
#include "util/log.h"
#include "util/units.h"

#define OPT_BRIDGE_NAME "com.docker.network.bridge.name"
#define OPT_MTU "com.docker.network.driver.mtu"

static void random_id (char out[65])
{
  unsigned char b[32];
  if (getrandom (b, sizeof b, 0) != (ssize_t)sizeof b)
    for (size_t i = 0; i < sizeof b; i++)
      b[i] = (unsigned char)(now_ns () >> (i % 8 * 8)) ^ (unsigned char)(i * 131);
  for (size_t i = 0; i < sizeof b; i++)
    sprintf (out + 2 * i, "%02x", b[i]);
}

static bool is_predefined (const char *name)
{
  return strcmp (name, "bridge") == 0 || strcmp (name, "host") == 0 || strcmp (name, "none") == 0;
}

/* ---------- the predefined networks ---------- */

/* The root these were last ensured for: one check per process is enough, the rows are never
 * removed. */
static char *defaults_ensured;

static int add_default (struct engine *e, const char *name, const char *driver, berr_t *err)
{
  char id[65];
  random_id (id);
  struct network_row n = {
    .id = id,
    .name = (char *)name,
    .driver = (char *)driver,
    .scope = (char *)"local",
    .created_ns = now_ns (),
    .builtin = true,
  };
  char subnet[20], gw[16];
  if (strcmp (driver, "bridge") == 0)
    {
      struct ipv4_net net;
      if (ipam_parse_cidr (e->bridge_subnet, false, &net, err) < 0)
        return berr_wrap (err, "bridge-subnet");
      if (net.prefix > 30)
        return berr_setk (err, BERR_INVALID, 0, "bridge-subnet %s: too small for a network",
                          e->bridge_subnet);
      ipam_format_cidr (&net, subnet);
      ipam_format_ip (net.addr + 1, gw);
      n.bridge = (char *)e->bridge_name;
      n.subnet = subnet;
      n.gateway = gw;
    }
  if (store_network_add (e->store, &n, err) < 0)
    {
      /* Another berth process made it first: that one's row is as good as ours. */
      struct network_row *other = NULL;
      if (err->kind == BERR_CONFLICT && store_network_get (e->store, name, &other, NULL) == 0)
        {
          bool same = other->builtin && strcmp (other->driver, driver) == 0;
          network_row_free (other);
          if (same)
            {
              berr_release (err);
              return 0;
            }
        }
      return berr_wrap (err, "predefined network %s", name);
    }
  return 0;
}

int network_ensure_defaults (struct engine *e, berr_t *err)
{
  const char *root = store_root (e->store);
  if (defaults_ensured && strcmp (defaults_ensured, root) == 0)
    return 0;
  struct network_row **v = NULL;
  size_t n = 0;
  if (store_network_list (e->store, &v, &n, err) < 0)
    return -1;
  static const char *const names[][2]
      = { { "bridge", "bridge" }, { "host", "host" }, { "none", "null" } };
  int r = 0;
  for (size_t k = 0; k < ARRAY_SIZE (names) && r == 0; k++)
    {
      bool have = false;
      for (size_t i = 0; i < n && !have; i++)
        have = v[i]->builtin && strcmp (v[i]->name, names[k][0]) == 0;
      if (!have)
        r = add_default (e, names[k][0], names[k][1], err);
    }
  network_rows_free (v, n);
  if (r == 0)
    {
      free (defaults_ensured);
      defaults_ensured = xstrdup (root);
    }
  return r;
}

/* ---------- create ---------- */

/* Docker's container-name rule, which berth applies to networks too: the name becomes a DNS
 * name, a bridge option and part of /etc/hosts. */
static bool valid_name (const char *n)
{
  if (!((n[0] >= 'a' && n[0] <= 'z') || (n[0] >= 'A' && n[0] <= 'Z')
        || (n[0] >= '0' && n[0] <= '9')))
    return false;
  for (const char *p = n + 1; *p; p++)
    if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9')
          || *p == '_' || *p == '.' || *p == '-'))
      return false;
  return true;
}

/* A Linux interface name: 1..15 bytes, no '/', ':' or white space, not "." or "..". */
static bool valid_ifname (const char *n)
{
  size_t l = strlen (n);
  if (l == 0 || l >= IFNAMSIZ || strcmp (n, ".") == 0 || strcmp (n, "..") == 0)
    return false;
  for (const char *p = n; *p; p++)
    if (*p == '/' || *p == ':' || *p <= ' ' || *p == 0x7f)
      return false;
  return true;
}

/* The main routing table's destinations (the host's networks, and through their prefix routes
 * its addresses), from /proc/net/route: a plain read of the current network namespace, no
 * netlink socket needed for what is a handful of lines.  The default route is left out: it
 * overlaps everything and says nothing about which subnets are in use. */
static void host_routes (struct ipv4_net **v, size_t *n)
{
  cleanup_fclose FILE *f = fopen ("/proc/net/route", "re");
  if (f == NULL)
    return;
  char line[512];
  if (fgets (line, sizeof line, f) == NULL) /* the header */
    return;
  while (fgets (line, sizeof line, f))
    {
      char ifname[64];
      unsigned dst, gw, flags, mask;
      int refcnt, use, metric;
      if (sscanf (line, "%63s %x %x %x %d %d %d %x", ifname, &dst, &gw, &flags, &refcnt, &use,
                  &metric, &mask)
          != 8)
        continue;
      /* The kernel prints the __be32 values as they lie in memory. */
      uint32_t m = ntohl (mask);
      if (m == 0)
        continue;
      *v = xrealloc (*v, (*n + 1) * sizeof **v);
      (*v)[*n].addr = ntohl (dst) & m;
      (*v)[*n].prefix = __builtin_popcount (m);
      (*n)++;
    }
}

/* A free subnet from the pool: other networks' subnets and the host's routes avoided. */
static int pick_subnet (struct engine *e, struct ipv4_net *out, berr_t *err)
{
  struct ipv4_net pool;
  if (ipam_parse_cidr (e->network_pool, false, &pool, err) < 0)
    return berr_wrap (err, "network-pool");
  struct network_row **v = NULL;
  size_t n = 0;
  if (store_network_list (e->store, &v, &n, err) < 0)
    return -1;
  cleanup_free struct ipv4_net *taken = NULL;
  size_t ntaken = 0;
  for (size_t i = 0; i < n; i++)
    {
      struct ipv4_net t;
      berr_t ignore = BERR_INIT;
      if (v[i]->subnet == NULL)
        continue;
      if (ipam_parse_cidr (v[i]->subnet, false, &t, &ignore) < 0)
        {
          berr_release (&ignore);
          continue;
        }
      taken = xrealloc (taken, (ntaken + 1) * sizeof *taken);
      taken[ntaken++] = t;
    }
  network_rows_free (v, n);
  host_routes (&taken, &ntaken);
  int prefix = e->network_pool_prefix > 0 ? e->network_pool_prefix : 24;
  return ipam_pick_subnet (&pool, prefix, taken, ntaken, out, err);
}

static int parse_mtu (const char *s, int *out, berr_t *err)
{
  char *end = NULL;
  errno = 0;
  long v = s ? strtol (s, &end, 10) : 0;
  if (s == NULL || s[0] == '\0' || *end != '\0' || errno != 0 || v < 68 || v > 65535)
    return berr_setk (err, BERR_INVALID, 0, "invalid MTU number: %s (must be 68 to 65535)",
                      s ? s : "");
  *out = (int)v;
  return 0;
}

/* The IPAM part of a create: Docker's CLI checks first (its wording), then the daemon's. */
static int resolve_ipam (struct engine *e, const struct network_create_opts *o,
                         struct ipv4_net *subnet, bool *picked, struct ipv4_net *range,
                         bool *has_range, uint32_t *gw, berr_t *err)
{
  *picked = false;
  *has_range = false;
  if (o->subnet == NULL)
    {
      if (o->gateway || o->ip_range)
        return berr_setk (err, BERR_INVALID, 0,
                          "every ip-range or gateway must have a corresponding subnet");
      if (pick_subnet (e, subnet, err) < 0)
        return -1;
      *picked = true;
      *gw = subnet->addr + 1;
      return 0;
    }
  struct ipv4_net loose;
  if (ipam_parse_cidr (o->subnet, false, &loose, err) < 0)
    return -1;
  if (o->ip_range)
    {
      if (ipam_parse_cidr (o->ip_range, false, range, err) < 0)
        return -1;
      if (!ipam_contains (&loose, range->addr))
        return berr_setk (err, BERR_INVALID, 0, "no matching subnet for range %s", o->ip_range);
      *has_range = true;
    }
  if (o->gateway)
    {
      if (ipam_parse_ip (o->gateway, gw, err) < 0)
        return -1;
      if (!ipam_contains (&loose, *gw))
        return berr_setk (err, BERR_INVALID, 0, "no matching subnet for gateway %s", o->gateway);
    }
  /* The daemon's checks, which Docker reports together under one heading. */
  struct sbuf why;
  sbuf_init (&why);
  int nwhy = 0;
  berr_t e2 = BERR_INIT;
  if (ipam_parse_cidr (o->subnet, true, subnet, &e2) < 0)
    {
      sbuf_addf (&why, "%s%s", nwhy++ ? "\n* " : "", e2.msg);
      berr_release (&e2);
      *subnet = loose;
    }
  if (*has_range && range->prefix < subnet->prefix)
    {
      char sb[20];
      ipam_format_cidr (subnet, sb);
      sbuf_addf (&why, "%sinvalid ip-range %s: CIDR block is bigger than its parent subnet %s",
                 nwhy++ ? "\n* " : "", o->ip_range, sb);
    }
  if (nwhy > 0)
    {
      berr_setk (err, BERR_INVALID, 0, "invalid network config:\n%s%s", nwhy > 1 ? "* " : "",
                 why.buf);
      sbuf_release (&why);
      return -1;
    }
  sbuf_release (&why);
  if (subnet->prefix > 30 && o->gateway == NULL)
    *gw = subnet->addr;
  else if (o->gateway == NULL)
    *gw = subnet->addr + 1;
  return 0;
}

static json_t *copy_object (const json_t *o) { return o ? json_deep_copy (o) : json_object (); }

int network_create (struct engine *e, const struct network_create_opts *o, struct network_row **out,
                    berr_t *err)
{
  const char *name = o->name ? o->name : "";
  const char *driver = o->driver && o->driver[0] ? o->driver : "bridge";
  if (is_predefined (name))
    return berr_setk (err, BERR_INVALID, 0, "operation is not permitted on predefined %s network",
                      name);
  if (!valid_name (name))
    return berr_setk (err, BERR_INVALID, 0,
                      "invalid network name \"%s\": only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed",
                      name);
  if (strcmp (driver, "host") == 0 || strcmp (driver, "null") == 0)
    return berr_setk (err, BERR_INVALID, 0, "only one instance of \"%s\" network is allowed",
                      driver);
  if (strcmp (driver, "bridge") != 0)
    return berr_setk (err, BERR_NOT_FOUND, 0, "plugin \"%s\" not found", driver);
  if (o->labels && !json_is_object (o->labels))
    return berr_setk (err, BERR_INVALID, 0, "network labels must be an object");
  if (o->options && !json_is_object (o->options))
    return berr_setk (err, BERR_INVALID, 0, "network options must be an object");
  if (network_ensure_defaults (e, err) < 0)
    return -1;

  char id[65];
  random_id (id);
  const char *bridge_opt = o->options ? json_get_str (o->options, OPT_BRIDGE_NAME) : NULL;
  cleanup_free char *bridge = NULL;
  if (bridge_opt)
    {
      if (!valid_ifname (bridge_opt))
        return berr_setk (err, BERR_INVALID, 0,
                          "invalid bridge name \"%s\": 1 to 15 characters, without '/', ':' or "
                          "spaces",
                          bridge_opt);
      /* Never adopt an interface that is already there: removing the network deletes its
       * bridge, and that must not be someone else's link. */
      if (if_nametoindex (bridge_opt) != 0)
        return berr_setk (err, BERR_CONFLICT, 0,
                          "bridge name %s is already in use by an interface on this host",
                          bridge_opt);
      bridge = xstrdup (bridge_opt);
    }
  else
    bridge = xasprintf ("br-%.12s", id);
  int mtu = 0;
  json_t *mtu_opt = o->options ? json_object_get (o->options, OPT_MTU) : NULL;
  if (mtu_opt && parse_mtu (json_string_value (mtu_opt), &mtu, err) < 0)
    return -1;

  struct network_row row = {
    .id = id,
    .name = (char *)name,
    .driver = (char *)"bridge",
    .scope = (char *)"local",
    .bridge = bridge,
    .mtu = mtu,
    .internal = o->internal,
    .attachable = o->attachable,
    .labels = copy_object (o->labels),
    .options = copy_object (o->options),
  };
  char subnet_s[20], range_s[20], gw_s[16];
  int r = -1;
  /* A picked subnet can be taken by a parallel create between the pick and the insert; the
   * insert refuses the overlap and the pick runs again. */
  for (int attempt = 0; attempt < 8; attempt++)
    {
      struct ipv4_net subnet, range;
      bool picked, has_range;
      uint32_t gw = 0;
      berr_release (err);
      if (resolve_ipam (e, o, &subnet, &picked, &range, &has_range, &gw, err) < 0)
        break;
      ipam_format_cidr (&subnet, subnet_s);
      ipam_format_ip (gw, gw_s);
      if (has_range)
        ipam_format_cidr (&range, range_s);
      row.subnet = subnet_s;
      row.gateway = gw_s;
      row.ip_range = has_range ? range_s : NULL;
      row.created_ns = now_ns ();
      r = store_network_add (e->store, &row, err);
      if (r == 0 || !picked || err->kind != BERR_CONFLICT
          || strstr (err->msg, "Pool overlaps") == NULL)
        break;
    }
  json_decref (row.labels);
  json_decref (row.options);
  if (r < 0)
    return -1;

  struct network_row *n = NULL;
  if (store_network_get (e->store, id, &n, err) < 0)
    return -1;
  if (network_realize (e, n, err) < 0)
    {
      /* No network without its bridge: the row goes again, and so does what was made of it. */
      berr_t e2 = BERR_INIT;
      if (store_network_remove (e->store, id, &e2) < 0)
        {
          log_warn ("network %s: %s", name, e2.msg);
          berr_release (&e2);
        }
      if (net_bridge_remove (bridge, &e2) < 0)
        berr_release (&e2);
      cleanup_free char *marker = xasprintf ("%s/networks/%s.up", e->runroot, id);
      unlink (marker);
      network_row_free (n);
      return berr_wrap (err, "create network %s", name);
    }
  if (out)
    *out = n;
  else
    network_row_free (n);
  return 0;
}

/* ---------- lookups, removal ---------- */

int network_get (struct engine *e, const char *name, struct network_row **out, berr_t *err)
{
  if (network_ensure_defaults (e, err) < 0)
    return -1;
  return store_network_get (e->store, name, out, err);
}

int network_remove (struct engine *e, const char *name, berr_t *err)
{
  struct network_row *n = NULL;
  if (network_get (e, name, &n, err) < 0)
    return -1;
  if (n->builtin)
    {
      berr_setk (err, BERR_INVALID, 0, "%s is a pre-defined network and cannot be removed",
                 n->name);
      network_row_free (n);
      return -1;
    }
  /* Under the network lock, so a start realizing this network cannot re-create its bridge
   * after it is gone (network_realize re-checks the row under the same lock). */
  int lock = net_lock (e, err);
  if (lock < 0)
    {
      network_row_free (n);
      return -1;
    }
  if (store_network_remove (e->store, n->id, err) < 0)
    {
      close (lock);
      network_row_free (n);
      return -1;
    }
  /* The network is gone for everyone now; what remains on the host is cleanup, and a failure
   * there must not make the removal look undone. */
  berr_t e2 = BERR_INIT;
  if (n->bridge && net_bridge_remove (n->bridge, &e2) < 0)
    {
      log_warn ("remove network %s: %s", n->name, e2.msg);
      berr_release (&e2);
    }
  cleanup_free char *marker = xasprintf ("%s/networks/%s.up", e->runroot, n->id);
  unlink (marker);
  if (net_sync (e, &e2) < 0)
    {
      log_warn ("remove network %s: %s", n->name, e2.msg);
      berr_release (&e2);
    }
  close (lock);
  network_row_free (n);
  return 0;
}

/* ---------- users and prune ---------- */

/* Does key (a NetworkMode or an EndpointsConfig key) name network n? */
static bool names_network (struct engine *e, const char *key, const struct network_row *n)
{
  if (key == NULL || key[0] == '\0')
    return false;
  if (strcmp (key, n->name) == 0 || strcmp (key, n->id) == 0)
    return true;
  /* Docker's "default" network mode is the bridge. */
  if (strcmp (key, "default") == 0)
    return n->builtin && strcmp (n->name, "bridge") == 0;
  /* An id prefix, which only the store can tell apart from another network's name. */
  size_t l = strlen (key);
  if (l < strlen (n->id) && strncmp (n->id, key, l) == 0 && str_is_hex (key, l))
    {
      struct network_row *m = NULL;
      berr_t ignore = BERR_INIT;
      bool same = store_network_get (e->store, key, &m, &ignore) == 0 && strcmp (m->id, n->id) == 0;
      berr_release (&ignore);
      network_row_free (m);
      return same;
    }
  return false;
}

static bool container_uses (struct engine *e, const struct container_rec *c,
                            const struct network_row *n)
{
  json_t *hc = json_object_get (c->config, "HostConfig");
  if (names_network (e, json_get_str (hc, "NetworkMode"), n))
    return true;
  json_t *eps
      = json_object_get (json_object_get (c->config, "NetworkingConfig"), "EndpointsConfig");
  const char *k;
  json_t *v;
  json_object_foreach (eps, k, v)
  {
    if (names_network (e, k, n))
      return true;
  }
  return false;
}

int network_users (struct engine *e, const struct network_row *n, char ***ids, berr_t *err)
{
  struct container_rec **cs = NULL;
  size_t nc = 0;
  if (store_container_list (e->store, &cs, &nc, err) < 0)
    return -1;
  char **v = xzalloc (sizeof *v);
  for (size_t i = 0; i < nc; i++)
    if (container_uses (e, cs[i], n))
      strv_push (&v, cs[i]->id);
  container_recs_free (cs, nc);
  *ids = v;
  return 0;
}

/* Docker's label filter: "k" (present) or "k=v" (present with that value). */
static bool label_matches (json_t *labels, const char *want)
{
  const char *eq = strchr (want, '=');
  cleanup_free char *k = eq ? xstrndup (want, (size_t)(eq - want)) : xstrdup (want);
  const char *v = json_get_str (labels, k);
  return v != NULL && (eq == NULL || strcmp (v, eq + 1) == 0);
}

/* Docker's prune filters: every label= must match; a network is kept when every label!= does
 * (filters.MatchKVList on each list). */
static bool prune_labels_match (json_t *labels, char *const *filters)
{
  bool any_not = false, all_not = true;
  for (size_t i = 0; filters && filters[i]; i++)
    {
      const char *f = filters[i];
      if (str_has_prefix (f, "label!="))
        {
          any_not = true;
          all_not = all_not && label_matches (labels, f + 7);
        }
      else if (str_has_prefix (f, "label="))
        {
          if (!label_matches (labels, f + 6))
            return false;
        }
    }
  return !(any_not && all_not);
}

int network_prune (struct engine *e, int64_t until_ns, char *const *label_filters, char ***removed,
                   berr_t *err)
{
  if (network_ensure_defaults (e, err) < 0)
    return -1;
  struct network_row **v = NULL;
  size_t n = 0;
  if (store_network_list (e->store, &v, &n, err) < 0)
    return -1;
  char **out = xzalloc (sizeof *out);
  int r = 0;
  for (size_t i = 0; i < n && r == 0; i++)
    {
      struct network_row *nw = v[i];
      if (nw->builtin || (until_ns > 0 && nw->created_ns >= until_ns)
          || !prune_labels_match (nw->labels, label_filters))
        continue;
      cleanup_strv char **users = NULL;
      if (network_users (e, nw, &users, err) < 0)
        {
          r = -1;
          break;
        }
      if (users[0])
        continue;
      if (network_remove (e, nw->id, err) < 0)
        {
          /* Taken into use (or removed) since the listing: not unused any more. */
          if (err->kind == BERR_CONFLICT || err->kind == BERR_NOT_FOUND)
            {
              berr_release (err);
              continue;
            }
          r = -1;
          break;
        }
      strv_push (&out, nw->name);
    }
  network_rows_free (v, n);
  if (r < 0)
    {
      strv_free (out);
      return -1;
    }
  *removed = out;
  return 0;
}

/* ---------- inspect ---------- */

char *network_endpoint_id (const char *network_id, const char *container_id)
{
  cleanup_free char *key = xasprintf ("berth-endpoint:%s:%s", network_id, container_id);
  char d[DIGEST_STR_LEN];
  sha256_digest (key, strlen (key), d);
  return xstrdup (digest_hex (d));
}

/* A copy of a JSON object with its keys sorted, as Go marshals a map. */
static json_t *sorted_object (json_t *o)
{
  json_t *out = json_object ();
  if (!json_is_object (o))
    return out;
  size_t n = json_object_size (o), i = 0;
  const char **keys = xcalloc (n ? n : 1, sizeof *keys);
  const char *k;
  json_t *v;
  json_object_foreach (o, k, v) { keys[i++] = k; }
  for (size_t a = 1; a < n; a++)
    for (size_t b = a; b > 0 && strcmp (keys[b - 1], keys[b]) > 0; b--)
      {
        const char *t = keys[b];
        keys[b] = keys[b - 1];
        keys[b - 1] = t;
      }
  for (i = 0; i < n; i++)
    json_object_set (out, keys[i], json_object_get (o, keys[i]));
  free (keys);
  return out;
}

json_t *network_inspect_json (struct engine *e, const struct network_row *n)
{
  char created[64];
  units_rfc3339_nano (n->created_ns, created, sizeof created);
  bool is_default_bridge = n->builtin && strcmp (n->driver, "bridge") == 0;
  json_t *ipam;
  if (n->subnet)
    {
      json_t *cfg = json_pack ("{s:s}", "Subnet", n->subnet);
      if (n->ip_range)
        json_object_set_new (cfg, "IPRange", json_string (n->ip_range));
      if (n->gateway)
        json_object_set_new (cfg, "Gateway", json_string (n->gateway));
      ipam = json_pack ("{s:s, s:o, s:[o]}", "Driver", "default", "Options",
                        n->builtin ? json_null () : json_object (), "Config", cfg);
    }
  else
    ipam = json_pack ("{s:s, s:n, s:n}", "Driver", "default", "Options", "Config");

  json_t *containers = json_object ();
  struct endpoint_row **eps = NULL;
  size_t neps = 0;
  berr_t err = BERR_INIT;
  if (store_endpoint_list (e->store, n->id, NULL, &eps, &neps, &err) < 0)
    {
      log_warn ("inspect network %s: %s", n->name, err.msg);
      berr_release (&err);
    }
  int prefix = 0;
  if (n->subnet)
    {
      const char *slash = strchr (n->subnet, '/');
      prefix = slash ? atoi (slash + 1) : 0;
    }
  for (size_t i = 0; i < neps; i++)
    {
      struct endpoint_row *ep = eps[i];
      cleanup_free char *epid = network_endpoint_id (n->id, ep->container_id);
      cleanup_free char *addr
          = ep->ip && ep->ip[0] && n->subnet ? xasprintf ("%s/%d", ep->ip, prefix) : xstrdup ("");
      json_object_set_new (containers, ep->container_id,
                           json_pack ("{s:s, s:s, s:s, s:s, s:s}", "Name",
                                      ep->container_name ? ep->container_name : "", "EndpointID",
                                      epid, "MacAddress", ep->mac ? ep->mac : "", "IPv4Address",
                                      addr, "IPv6Address", ""));
    }
  endpoint_rows_free (eps, neps);

  json_t *options;
  if (is_default_bridge)
    {
      char mtu[16];
      snprintf (mtu, sizeof mtu, "%d", n->mtu > 0 ? n->mtu : 1500);
      options
          = json_pack ("{s:s, s:s, s:s, s:s, s:s, s:s}", "com.docker.network.bridge.default_bridge",
                       "true", "com.docker.network.bridge.enable_icc", "true",
                       "com.docker.network.bridge.enable_ip_masquerade", "true",
                       "com.docker.network.bridge.host_binding_ipv4", "0.0.0.0", OPT_BRIDGE_NAME,
                       n->bridge ? n->bridge : "", OPT_MTU, mtu);
    }
  else
    options = sorted_object (n->options);
  json_t *obj = json_pack (
      "{s:s, s:s, s:s, s:s, s:s, s:b, s:b, s:o, s:b, s:b, s:b, s:{s:s}, s:b, s:o, s:o, s:o}",
      "Name", n->name, "Id", n->id, "Created", created, "Scope", n->scope ? n->scope : "local",
      "Driver", n->driver, "EnableIPv4", 1, "EnableIPv6", 0, "IPAM", ipam, "Internal",
      (int)n->internal, "Attachable", (int)n->attachable, "Ingress", 0, "ConfigFrom", "Network", "",
      "ConfigOnly", 0, "Containers", sorted_object (containers), "Options", options, "Labels",
      sorted_object (n->labels));
  json_decref (containers);
  return obj;
}

/* ---------- realize ---------- */

/* Is the link there and up?  One ioctl: this is the path every container start takes. */
static bool link_is_up (const char *name)
{
  cleanup_close int fd = socket (AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return false;
  struct ifreq ifr;
  memset (&ifr, 0, sizeof ifr);
  snprintf (ifr.ifr_name, sizeof ifr.ifr_name, "%s", name);
  if (ioctl (fd, SIOCGIFFLAGS, &ifr) < 0)
    return false;
  return (ifr.ifr_flags & IFF_UP) != 0;
}

int network_realize (struct engine *e, const struct network_row *n, berr_t *err)
{
  if (strcmp (n->driver, "bridge") != 0 || n->bridge == NULL || n->subnet == NULL)
    return 0;
  /* The marker says this boot's berth has set the bridge up (with its nft rules) already; the
   * runroot is a tmpfs, so a reboot forgets it together with the bridge. */
  cleanup_free char *dir = xasprintf ("%s/networks", e->runroot);
  cleanup_free char *marker = xasprintf ("%s/%s.up", dir, n->id);
  if (access (marker, F_OK) == 0 && link_is_up (n->bridge))
    return 0;

  struct ipv4_net subnet;
  uint32_t gw;
  if (ipam_parse_cidr (n->subnet, false, &subnet, err) < 0
      || ipam_parse_ip (n->gateway ? n->gateway : "", &gw, err) < 0)
    return berr_wrap (err, "network %s", n->name);
  struct net_bridge_spec spec = {
    .name = n->bridge,
    .gateway = gw,
    .prefix = subnet.prefix,
    .mtu = n->mtu,
  };
  int lock = net_lock (e, err);
  if (lock < 0)
    return -1;
  cleanup_close int lockfd = lock;
  /* Removed meanwhile (network rm holds the same lock): nothing to set up. */
  struct network_row *still = NULL;
  if (store_network_get (e->store, n->id, &still, err) < 0)
    return -1;
  network_row_free (still);
  if (net_bridge_up (&spec, err) < 0)
    return berr_wrap (err, "network %s", n->name);
  if (net_sync (e, err) < 0)
    return berr_wrap (err, "network %s", n->name);
  /* berth never touches other tables; say so when one of them would drop the bridge's
   * forwarded traffic (once per realization of the bridge). */
  cleanup_free char *where = NULL;
  berr_t e2 = BERR_INIT;
  if (!n->internal && nft_forward_drops (e->nft_table, &where, &e2) > 0)
    log_warn ("network %s: the host's forward chain (%s) drops forwarded traffic by default "
              "(Docker's iptables rules do this): containers on %s will not reach other "
              "hosts unless it accepts them, e.g. iptables -I FORWARD -i %s -j ACCEPT; "
              "iptables -I FORWARD -o %s -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT",
              n->name, where, n->bridge, n->bridge, n->bridge);
  berr_release (&e2);
  if (fs_mkdir_p (dir, 0700, err) < 0)
    return -1;
  cleanup_close int fd = open (marker, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0)
    /* Only the fast path is lost: the next caller sets the bridge up again. */
    log_debug ("network %s: create %s: %s", n->name, marker, strerror (errno));
  return 0;
}
