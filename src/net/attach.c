/* attach.c — containers on networks: the start's plan (addresses, ports, veths), the release
 * when a container stops, berth's nftables table rebuilt from the store, the network lock. */
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "container/internal.h"
#include "net/attach.h"
#include "net/ipam.h"
#include "net/network.h"
#include "net/nft.h"
#include "util/fs.h"
#include "util/json.h"
#include "util/log.h"

int net_lock (struct engine *e, berr_t *err)
{
  cleanup_free char *path = xasprintf ("%s/network.lock", e->runroot);
  /* The runroot is on a tmpfs normally: the first start after a boot may come here first. */
  if (fs_mkdir_p (e->runroot, 0700, err) < 0)
    return -1;
  int fd = open (path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0)
    return berr_set (err, errno, "open %s", path);
  while (flock (fd, LOCK_EX) < 0)
    if (errno != EINTR)
      {
        int saved = errno;
        close (fd);
        return berr_set (err, saved, "lock %s", path);
      }
  return fd;
}

int net_sync_locked (struct engine *e, berr_t *err)
{
  int lock = net_lock (e, err);
  if (lock < 0)
    return -1;
  int r = net_sync (e, err);
  close (lock);
  return r;
}

/* ---------- the container's networks ---------- */

static const char *primary_mode (const struct container_rec *c)
{
  const char *m = json_get_str (json_object_get (c->config, "HostConfig"), "NetworkMode");
  if (m == NULL || m[0] == '\0' || strcmp (m, "default") == 0)
    return "bridge";
  return m;
}

static enum net_kind kind_of (const char *mode)
{
  if (strcmp (mode, "host") == 0)
    return NET_KIND_HOST;
  if (strcmp (mode, "none") == 0)
    return NET_KIND_NONE;
  if (str_has_prefix (mode, "container:"))
    return NET_KIND_CONTAINER;
  return NET_KIND_BRIDGE;
}

static int cmp_str (const void *a, const void *b)
{
  return strcmp (*(char *const *)a, *(char *const *)b);
}

/* The names of the container's networks, the primary first, then the others by name. */
static char **network_names (const struct container_rec *c)
{
  json_t *nets = json_object_get (c->config, "Networks");
  const char *primary = primary_mode (c);
  char **out = NULL;
  if (json_object_get (nets, primary))
    strv_push (&out, primary);
  const char *k;
  json_t *v;
  char **rest = NULL;
  json_object_foreach (nets, k, v)
  {
    if (strcmp (k, primary) != 0)
      strv_push (&rest, k);
  }
  if (rest)
    {
      qsort (rest, strv_len (rest), sizeof *rest, cmp_str);
      for (size_t i = 0; rest[i]; i++)
        strv_push (&out, rest[i]);
      strv_free (rest);
    }
  return out;
}

int net_create_config (struct engine *e, json_t *body, json_t **networks, berr_t *err)
{
  *networks = NULL;
  json_t *hc = json_object_get (body, "HostConfig");
  const char *mode = json_get_str (hc, "NetworkMode");
  if (mode == NULL || mode[0] == '\0' || strcmp (mode, "default") == 0)
    {
      json_object_set_new (hc, "NetworkMode", json_string ("bridge"));
      mode = "bridge";
    }
  json_t *eps = json_object_get (json_object_get (body, "NetworkingConfig"), "EndpointsConfig");
  /* The CLI names the default network "default" (with --mac-address, say): it is the bridge. */
  json_t *dflt = json_object_get (eps, "default");
  if (dflt && strcmp (mode, "bridge") == 0 && !json_object_get (eps, "bridge"))
    {
      json_object_set (eps, "bridge", dflt);
      json_object_del (eps, "default");
    }
  json_t *out = json_object ();
  enum net_kind kind = kind_of (mode);
  if (kind == NET_KIND_CONTAINER)
    {
      *networks = out;
      return 0;
    }
  cleanup_strv char **names = NULL;
  strv_push (&names, mode);
  /* The host end of a veth is "vb" + 11 hex of the id + one hex digit of the index. */
  if (json_object_size (eps) > 16)
    {
      json_decref (out);
      return berr_setk (err, BERR_INVALID, 0, "a container can be on at most 16 networks");
    }
  const char *k;
  json_t *v;
  json_object_foreach (eps, k, v)
  {
    if (strcmp (k, mode) != 0)
      strv_push (&names, k);
  }
  for (size_t i = 0; names[i]; i++)
    {
      struct network_row *n = NULL;
      if (network_get (e, names[i], &n, err) < 0)
        {
          json_decref (out);
          return -1;
        }
      json_t *given = json_object_get (eps, names[i]);
      json_t *ep = json_is_object (given) ? json_deep_copy (given) : json_object ();
      json_object_set_new (ep, "NetworkID", json_string (n->id));
      const char *ip = json_get_str (json_object_get (ep, "IPAMConfig"), "IPv4Address");
      int r = 0;
      if (ip && ip[0])
        {
          if (n->builtin)
            r = berr_setk (err, BERR_INVALID, 0,
                           "user specified IP address is supported on user defined networks "
                           "only");
          else
            {
              struct ipv4_net sub;
              uint32_t a;
              if (ipam_parse_cidr (n->subnet, false, &sub, err) < 0
                  || ipam_parse_ip (ip, &a, err) < 0)
                r = -1;
              else if (!ipam_contains (&sub, a))
                r = berr_setk (err, BERR_INVALID, 0,
                               "no configured subnet or ip-range contain the IP address %s", ip);
            }
        }
      if (r == 0 && n->builtin && json_array_size (json_object_get (ep, "Aliases")) > 0)
        r = berr_setk (err, BERR_INVALID, 0,
                       "network-scoped alias is supported only for containers in user defined "
                       "networks");
      if (r == 0 && strcmp (n->driver, "null") == 0 && names[1] != NULL)
        r = berr_setk (err, BERR_INVALID, 0,
                       "container cannot be connected to multiple networks with one of the "
                       "networks in private (none) mode");
      if (r == 0 && strcmp (n->driver, "host") == 0 && names[1] != NULL)
        r = berr_setk (err, BERR_INVALID, 0,
                       "container cannot be disconnected from host network or connected to host "
                       "network");
      /* Record the network by its name, whatever the user typed (name, id or prefix). */
      if (r == 0)
        json_object_set_new (out, n->name, ep);
      else
        json_decref (ep);
      if (r == 0 && i == 0 && strcmp (n->name, mode) != 0)
        json_object_set_new (hc, "NetworkMode", json_string (n->name));
      network_row_free (n);
      if (r < 0)
        {
          json_decref (out);
          return -1;
        }
    }
  *networks = out;
  return 0;
}

/* ---------- plan ---------- */

static void ep_host_ifname (const char *id, size_t idx, char out[16])
{
  snprintf (out, 16, "vb%.11s%x", id, (unsigned)(idx & 0xf));
}

static int fill_ep (struct net_ep *ep, const char *ip, const char *mac, berr_t *err)
{
  struct ipv4_net sub;
  if (ipam_parse_cidr (ep->net->subnet, false, &sub, err) < 0
      || ipam_parse_ip (ip, &ep->ip4, err) < 0
      || ipam_parse_ip (ep->net->gateway, &ep->gateway, err) < 0)
    return -1;
  snprintf (ep->ip, sizeof ep->ip, "%s", ip);
  ep->prefix = sub.prefix;
  if (mac && mac[0])
    {
      if (net_mac_parse (mac, ep->mac) < 0)
        return berr_setk (err, BERR_INVALID, 0, "%s is not a valid mac address", mac);
    }
  else
    net_mac_from_ip (ep->ip4, ep->mac);
  return 0;
}

static json_t *links_of (const struct container_rec *c)
{
  json_t *all = json_array ();
  json_t *v;
  size_t i;
  json_array_foreach (json_object_get (json_object_get (c->config, "HostConfig"), "Links"), i, v)
      json_array_append (all, v);
  const char *k;
  json_t *ep;
  json_object_foreach (json_object_get (c->config, "Networks"), k, ep)
  {
    json_array_foreach (json_object_get (ep, "Links"), i, v) json_array_append (all, v);
  }
  return all;
}

static int check_links (struct engine *e, const struct container_rec *c, berr_t *err)
{
  cleanup_json json_t *links = links_of (c);
  size_t i;
  json_t *v;
  json_array_foreach (links, i, v)
  {
    cleanup_free char *name = NULL, *alias = NULL;
    net_split_link (json_string_value (v), &name, &alias);
    struct container_rec *o = NULL;
    if (container_get (e, name, &o, err) < 0)
      return -1;
    bool running = container_is_running (o);
    container_rec_free (o);
    if (!running)
      return berr_setk (err, BERR_CONFLICT, 0,
                        "Cannot link to a non running container: /%s AS /%s/%s", name, c->name,
                        alias);
  }
  return 0;
}

int net_plan_prepare (struct engine *e, struct container_rec *c, struct net_plan *p, berr_t *err)
{
  memset (p, 0, sizeof *p);
  const char *mode = primary_mode (c);
  p->kind = kind_of (mode);
  if (p->kind != NET_KIND_BRIDGE)
    return 0;
  cleanup_strv char **names = network_names (c);
  size_t n = strv_len (names);
  if (n == 0)
    {
      /* Disconnected from everything: loopback only. */
      p->kind = NET_KIND_NONE;
      return 0;
    }
  p->eps = xcalloc (n, sizeof *p->eps);
  for (size_t i = 0; i < n; i++)
    {
      if (network_get (e, names[i], &p->eps[i].net, err) < 0)
        goto fail;
      p->neps++;
      if (strcmp (p->eps[i].net->driver, "bridge") != 0)
        {
          berr_setk (err, BERR_INVALID, 0, "network %s: driver %s cannot be joined",
                     p->eps[i].net->name, p->eps[i].net->driver);
          goto fail;
        }
      if (network_realize (e, p->eps[i].net, err) < 0)
        goto fail;
    }
  if (check_links (e, c, err) < 0)
    goto fail;
  json_t *hc = json_object_get (c->config, "HostConfig");
  json_t *cfg = json_object_get (c->config, "Config");
  if (ports_reserve (json_object_get (hc, "PortBindings"), json_object_get (cfg, "ExposedPorts"),
                     json_is_true (json_object_get (hc, "PublishAllPorts")), &p->ports, err)
      < 0)
    goto fail;

  int lock = net_lock (e, err);
  if (lock < 0)
    goto fail;
  json_t *nets = json_object_get (c->config, "Networks");
  int r = 0;
  for (size_t i = 0; i < p->neps && r == 0; i++)
    {
      struct net_ep *ep = &p->eps[i];
      json_t *cfg_ep = json_object_get (nets, names[i]);
      const char *want = json_get_str (json_object_get (cfg_ep, "IPAMConfig"), "IPv4Address");
      const char *mac = json_get_str (cfg_ep, "MacAddress");
      ep_host_ifname (c->id, i, ep->host_ifname);
      snprintf (ep->ifname, sizeof ep->ifname, "eth%u", (unsigned)(i & 0xff));
      json_t *aliases = json_object_get (cfg_ep, "Aliases");
      cleanup_json json_t *ports_j = i == 0 && p->ports.n > 0 ? ports_json (&p->ports, NULL) : NULL;
      struct endpoint_row row = {
        .network_id = ep->net->id,
        .container_id = c->id,
        .mac = (char *)(mac ? mac : ""),
        .host_ifname = ep->host_ifname,
        .aliases = json_is_array (aliases) ? aliases : NULL,
        .ports = ports_j,
      };
      cleanup_free char *ip = NULL;
      /* A leftover row of this container (a crash before its cleanup) goes first. */
      store_endpoint_remove (e->store, c->id, ep->net->id, err);
      berr_release (err);
      r = store_endpoint_add (e->store, &row, want && want[0] ? want : NULL, &ip, err);
      if (r < 0 && err->kind == BERR_CONFLICT && net_gc_endpoints (e) > 0)
        {
          /* The address (or the last free one) was held by a start that died: retry. */
          berr_release (err);
          r = store_endpoint_add (e->store, &row, want && want[0] ? want : NULL, &ip, err);
        }
      if (r == 0)
        {
          p->allocated = true;
          r = fill_ep (ep, ip, mac, err);
        }
    }
  close (lock);
  if (r < 0)
    goto fail;
  return 0;
fail:
  net_plan_abort (e, c, p);
  return -1;
}

int net_plan_prestart (pid_t pid, int netns_fd, void *arg, berr_t *err)
{
  struct net_plan *p = arg;
  (void)pid;
  if (p->kind == NET_KIND_HOST || p->kind == NET_KIND_CONTAINER)
    return 0;
  struct net_endpoint_spec *specs = p->neps ? xcalloc (p->neps, sizeof *specs) : NULL;
  for (size_t i = 0; i < p->neps; i++)
    {
      struct net_ep *ep = &p->eps[i];
      /* The previous run's host end, if the kernel has not finished removing it. */
      if (if_nametoindex (ep->host_ifname) > 0 && net_endpoint_remove (ep->host_ifname, err) < 0)
        {
          free (specs);
          return -1;
        }
      specs[i] = (struct net_endpoint_spec){
        .bridge = ep->net->bridge,
        .host_ifname = ep->host_ifname,
        .ifname = ep->ifname,
        .ip = ep->ip4,
        .prefix = ep->prefix,
        .gateway = i == 0 && !ep->net->internal ? ep->gateway : 0,
        .mtu = ep->net->mtu,
      };
      memcpy (specs[i].mac, ep->mac, 6);
    }
  int r = net_endpoints_setup (netns_fd, specs, p->neps, err);
  free (specs);
  return r;
}

void net_plan_abort (struct engine *e, struct container_rec *c, struct net_plan *p)
{
  berr_t e2 = BERR_INIT;
  for (size_t i = 0; i < p->neps; i++)
    if (p->eps[i].host_ifname[0] && net_endpoint_remove (p->eps[i].host_ifname, &e2) < 0)
      berr_release (&e2);
  if (p->allocated)
    {
      int lock = net_lock (e, &e2);
      if (store_endpoint_remove (e->store, c->id, NULL, &e2) < 0)
        {
          log_warn ("%s", e2.msg);
          berr_release (&e2);
        }
      if (lock >= 0)
        close (lock);
      else
        berr_release (&e2);
      p->allocated = false;
    }
  ports_release (&p->ports);
}

void net_plan_free (struct net_plan *p)
{
  for (size_t i = 0; i < p->neps; i++)
    network_row_free (p->eps[i].net);
  free (p->eps);
  p->eps = NULL;
  p->neps = 0;
  p->allocated = false; /* the rows belong to the container now (its cleanup releases them) */
  ports_release (&p->ports);
}

int *net_plan_port_fds (const struct net_plan *p, size_t *n)
{
  int *fds = p->ports.n ? xcalloc (p->ports.n, sizeof *fds) : NULL;
  *n = 0;
  for (size_t i = 0; i < p->ports.n; i++)
    if (p->ports.v[i].fd >= 0)
      fds[(*n)++] = p->ports.v[i].fd;
  return fds;
}

/* ---------- hosts files of the peers ---------- */

/* Rewrite in place: the file is bind-mounted into the running container, so it must stay the
 * same inode.  The new text is written over the old one and the rest cut off; a reader sees
 * either version's lines, never an empty file. */
int net_rewrite_hosts (struct engine *e, const struct container_rec *c, berr_t *err)
{
  cleanup_free char *data = net_hosts_render (e, c, false);
  cleanup_free char *dir = container_dir (e, c->id);
  cleanup_free char *path = xasprintf ("%s/hosts", dir);
  cleanup_close int fd = open (path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0)
    return berr_set (err, errno, "open %s", path);
  size_t len = strlen (data);
  if (pwrite (fd, data, len, 0) != (ssize_t)len || ftruncate (fd, (off_t)len) < 0)
    return berr_set (err, errno, "write %s", path);
  return 0;
}

/* Every running container sharing one of these networks with c (except c) gets its hosts file
 * rewritten. The caller holds the network lock. */
static void refresh_peers (struct engine *e, const char *self_id, char **network_ids)
{
  cleanup_strv char **done = NULL;
  strv_push (&done, self_id);
  for (size_t i = 0; network_ids && network_ids[i]; i++)
    {

      struct endpoint_row **eps = NULL;
      size_t n = 0;
      berr_t e2 = BERR_INIT;
      if (store_endpoint_list (e->store, network_ids[i], NULL, &eps, &n, &e2) < 0)
        {
          berr_release (&e2);
          continue;
        }
      for (size_t j = 0; j < n; j++)
        {
          if (strv_contains (done, eps[j]->container_id))
            continue;
          strv_push (&done, eps[j]->container_id);
          struct container_rec *peer = NULL;
          if (store_container_lookup (e->store, eps[j]->container_id, &peer, &e2) < 0)
            {
              berr_release (&e2);
              continue;
            }
          if (container_is_running (peer) && net_rewrite_hosts (e, peer, &e2) < 0)
            {
              log_debug ("%s", e2.msg);
              berr_release (&e2);
            }
          container_rec_free (peer);
        }
      endpoint_rows_free (eps, n);
    }
}

/* The user-defined networks: names resolve there. On the predefined bridge only links do,
 * written when the linking container starts. */
static char **user_network_ids_of_plan (const struct net_plan *p)
{
  char **ids = NULL;
  for (size_t i = 0; i < p->neps; i++)
    if (!p->eps[i].net->builtin)
      strv_push (&ids, p->eps[i].net->id);
  return ids;
}

int net_plan_started (struct engine *e, struct container_rec *c, struct net_plan *p, berr_t *err)
{
  if (p->kind != NET_KIND_BRIDGE || p->neps == 0)
    return 0;
  cleanup_strv char **ids = user_network_ids_of_plan (p);
  bool user = ids != NULL;
  if (p->ports.n == 0 && !user)
    return 0;
  int lock = net_lock (e, err);
  if (lock < 0)
    return -1;
  int r = 0;
  if (p->ports.n > 0)
    r = net_sync (e, err);
  refresh_peers (e, c->id, ids);
  /* Its own file was written before it ran: peers that started or stopped meanwhile were
   * missed (refresh_peers only writes running containers' files). */
  berr_t e2 = BERR_INIT;
  if (user && net_rewrite_hosts (e, c, &e2) < 0)
    berr_release (&e2);
  close (lock);
  return r;
}

int net_container_release (struct engine *e, struct container_rec *c, berr_t *err)
{
  struct endpoint_row **eps = NULL;
  size_t n = 0;
  if (store_endpoint_list (e->store, NULL, c->id, &eps, &n, err) < 0)
    return -1;
  if (n == 0)
    {
      endpoint_rows_free (eps, n);
      return 0;
    }
  bool had_ports = false;
  char **ids = NULL;
  /* The veths are normally not deleted here: the kernel removes a veth with its namespace,
   * which goes with the container's last process, while deleting one explicitly costs ~25 ms
   * (device unregistration); a host end still present at the next start is removed then. But
   * a running container that joined this one's namespace (--network container:X) keeps it
   * alive, with this container's address, which is given back now: delete them then. */
  berr_t e2 = BERR_INIT;
  int joiners = store_container_netns_joiners (e->store, c->id, c->name, &e2);
  if (joiners < 0)
    berr_release (&e2);
  for (size_t i = 0; i < n; i++)
    {
      had_ports |= json_object_size (eps[i]->ports) > 0;
      struct network_row *nr = NULL;
      if (store_network_get (e->store, eps[i]->network_id, &nr, &e2) == 0)
        {
          /* Only user networks resolve names: their peers' hosts files change. */
          if (!nr->builtin)
            strv_push (&ids, eps[i]->network_id);
          network_row_free (nr);
        }
      else
        berr_release (&e2);
      if (joiners > 0 && eps[i]->host_ifname && net_endpoint_remove (eps[i]->host_ifname, &e2) < 0)
        {
          log_warn ("%s", e2.msg);
          berr_release (&e2);
        }
    }
  endpoint_rows_free (eps, n);
  int lock = net_lock (e, err);
  if (lock < 0)
    {
      strv_free (ids);
      return -1;
    }
  int r = store_endpoint_remove (e->store, c->id, NULL, err);
  if (r == 0 && had_ports)
    r = net_sync (e, err);
  refresh_peers (e, c->id, ids);
  close (lock);
  strv_free (ids);
  return r;
}

/* ---------- nftables ---------- */

int net_gc_endpoints (struct engine *e);

static int add_port_rules (const struct endpoint_row *ep, const struct network_row *net,
                           struct nft_port **ports, size_t *nports, berr_t *err)
{
  struct port_set set = { 0 };
  if (ports_from_json (ep->ports, &set, err) < 0)
    return -1;
  uint32_t ctr;
  if (ipam_parse_ip (ep->ip, &ctr, err) < 0)
    {
      ports_release (&set);
      return -1;
    }
  for (size_t i = 0; i < set.n; i++)
    {
      struct port_binding *b = &set.v[i];
      uint32_t hip = 0;
      if (b->host_ip[0] && strchr (b->host_ip, ':'))
        continue; /* IPv6 host addresses are reserved, not forwarded */
      if (b->host_ip[0] && strcmp (b->host_ip, "0.0.0.0") != 0
          && ipam_parse_ip (b->host_ip, &hip, err) < 0)
        {
          ports_release (&set);
          return -1;
        }
      *ports = xrealloc (*ports, (*nports + 1) * sizeof **ports);
      (*ports)[(*nports)++] = (struct nft_port){
        .proto = xstrdup (b->proto),
        .host_ip = hip,
        .host_port = b->host_port,
        .ctr_ip = ctr,
        .ctr_port = b->ctr_port,
        .bridge = net->bridge,
      };
    }
  ports_release (&set);
  return 0;
}

int net_sync (struct engine *e, berr_t *err)
{
  struct network_row **nets = NULL;
  size_t nn = 0;
  if (store_network_list (e->store, &nets, &nn, err) < 0)
    return -1;
  struct nft_network *mn = xcalloc (nn + 1, sizeof *mn);
  size_t nmn = 0;
  int r = 0;
  for (size_t i = 0; i < nn && r == 0; i++)
    {
      if (strcmp (nets[i]->driver, "bridge") != 0 || nets[i]->bridge == NULL)
        continue;
      struct ipv4_net sub;
      if (ipam_parse_cidr (nets[i]->subnet, false, &sub, err) < 0)
        r = -1;
      else
        mn[nmn++] = (struct nft_network){ .bridge = nets[i]->bridge,
                                          .subnet = sub.addr,
                                          .prefix = sub.prefix,
                                          .internal = nets[i]->internal };
    }
  struct endpoint_row **eps = NULL;
  size_t ne = 0;
  struct nft_port *ports = NULL;
  size_t np = 0;
  if (r == 0)
    r = store_endpoint_list (e->store, NULL, NULL, &eps, &ne, err);
  for (size_t i = 0; i < ne && r == 0; i++)
    {
      if (json_object_size (eps[i]->ports) == 0)
        continue;
      struct container_rec *c = NULL;
      berr_t e2 = BERR_INIT;
      if (store_container_lookup (e->store, eps[i]->container_id, &c, &e2) < 0)
        {
          berr_release (&e2);
          continue;
        }
      bool live = container_is_running (c) && container_monitor_alive (c);
      container_rec_free (c);
      if (!live)
        continue;
      const struct network_row *net = NULL;
      for (size_t k = 0; k < nn; k++)
        if (strcmp (nets[k]->id, eps[i]->network_id) == 0)
          net = nets[k];
      if (net && net->bridge)
        r = add_port_rules (eps[i], net, &ports, &np, err);
    }
  if (r == 0)
    {
      struct nft_model m = {
        .table = e->nft_table,
        .networks = mn,
        .nnetworks = nmn,
        .ports = ports,
        .nports = np,
      };
      r = nft_sync (&m, err);
    }
  for (size_t i = 0; i < np; i++)
    free ((char *)ports[i].proto);
  free (ports);
  endpoint_rows_free (eps, ne);
  free (mn);
  network_rows_free (nets, nn);
  return r;
}

/* ---------- leftovers ---------- */

/* A container that is not running and whose lock is free (no start in progress) should have no
 * endpoints: rows left by a start that was killed before it recorded anything go. The caller
 * holds the network lock. Returns how many rows went. */
int net_gc_endpoints (struct engine *e)
{
  struct endpoint_row **eps = NULL;
  size_t n = 0;
  berr_t e2 = BERR_INIT;
  if (store_endpoint_list (e->store, NULL, NULL, &eps, &n, &e2) < 0)
    {
      berr_release (&e2);
      return 0;
    }
  int removed = 0;
  cleanup_strv char **seen = NULL;
  for (size_t i = 0; i < n; i++)
    {
      const char *id = eps[i]->container_id;
      if (strv_contains (seen, id))
        continue;
      strv_push (&seen, id);
      struct container_rec *c = NULL;
      if (store_container_lookup (e->store, id, &c, &e2) < 0)
        {
          berr_release (&e2);
          continue;
        }
      bool running = container_is_running (c);
      container_rec_free (c);
      if (running)
        continue;
      cleanup_free char *dir = container_dir (e, id);
      cleanup_free char *path = xasprintf ("%s/lock", dir);
      cleanup_close int fd = open (path, O_RDWR | O_CLOEXEC);
      if (fd < 0 || flock (fd, LOCK_EX | LOCK_NB) < 0)
        continue;
      for (size_t k = 0; k < n; k++)
        if (strcmp (eps[k]->container_id, id) == 0 && eps[k]->host_ifname
            && net_endpoint_remove (eps[k]->host_ifname, &e2) < 0)
          berr_release (&e2);
      if (store_endpoint_remove (e->store, id, NULL, &e2) == 0)
        removed++;
      else
        berr_release (&e2);
    }
  endpoint_rows_free (eps, n);
  return removed;
}

/* ---------- external runtimes ---------- */

int net_setup_from_store (struct engine *e, const char *id, pid_t pid, berr_t *err)
{
  struct endpoint_row **eps = NULL;
  size_t n = 0;
  if (store_endpoint_list (e->store, NULL, id, &eps, &n, err) < 0)
    return -1;
  struct net_endpoint_spec *specs = n ? xcalloc (n, sizeof *specs) : NULL;
  struct network_row **nets = n ? xcalloc (n, sizeof *nets) : NULL;
  char (*names)[16] = n ? xcalloc (n, sizeof *names) : NULL;
  int r = 0;
  for (size_t i = 0; i < n && r == 0; i++)
    {
      r = store_network_get (e->store, eps[i]->network_id, &nets[i], err);
      if (r < 0)
        break;
      struct net_ep ep = { .net = nets[i] };
      r = fill_ep (&ep, eps[i]->ip, eps[i]->mac, err);
      if (r < 0)
        break;
      size_t len = eps[i]->host_ifname ? strlen (eps[i]->host_ifname) : 0;
      unsigned idx = len ? (unsigned)strtoul (eps[i]->host_ifname + len - 1, NULL, 16) : 0;
      snprintf (names[i], sizeof names[i], "eth%u", idx);
      specs[i] = (struct net_endpoint_spec){
        .bridge = nets[i]->bridge,
        .host_ifname = eps[i]->host_ifname,
        .ifname = names[i],
        .ip = ep.ip4,
        .prefix = ep.prefix,
        .gateway = idx == 0 && !nets[i]->internal ? ep.gateway : 0,
        .mtu = nets[i]->mtu,
      };
      memcpy (specs[i].mac, ep.mac, 6);
    }
  if (r == 0)
    {
      cleanup_free char *path = xasprintf ("/proc/%d/ns/net", (int)pid);
      cleanup_close int fd = open (path, O_RDONLY | O_CLOEXEC);
      if (fd < 0)
        r = berr_set (err, errno, "open %s", path);
      else
        r = net_endpoints_setup (fd, specs, n, err);
    }
  for (size_t i = 0; i < n; i++)
    if (nets[i])
      network_row_free (nets[i]);
  free (nets);
  free (names);
  free (specs);
  endpoint_rows_free (eps, n);
  return r;
}

int net_plan_add_hook (struct engine *e, struct container_rec *c, const struct net_plan *p,
                       json_t *spec)
{
  if (p->kind != NET_KIND_NONE && p->kind != NET_KIND_BRIDGE)
    return 0;
  json_t *args = json_array ();
  json_array_append_new (args, json_string ("berth"));
  const char *words[] = { "--root", e->root, "--runroot", e->runroot };
  for (size_t i = 0; i < ARRAY_SIZE (words); i++)
    json_array_append_new (args, json_string (words[i]));
  if (e->config_path)
    {
      json_array_append_new (args, json_string ("--config"));
      json_array_append_new (args, json_string (e->config_path));
    }
  json_array_append_new (args, json_string ("container-netns"));
  json_array_append_new (args, json_string (c->id));
  json_t *hooks = json_object_get (spec, "hooks");
  if (!json_is_object (hooks))
    json_object_set_new (spec, "hooks", hooks = json_object ());
  json_t *list = json_object_get (hooks, "createRuntime");
  if (!json_is_array (list))
    json_object_set_new (hooks, "createRuntime", list = json_array ());
  json_array_append_new (list, json_pack ("{s:s, s:o}", "path", e->self_exe, "args", args));
  return 0;
}
