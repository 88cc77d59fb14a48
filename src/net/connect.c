/* connect.c — docker network connect / disconnect: the container's configuration changes, and a
 * running container gets (or loses) the veth on that network right away. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "container/internal.h"
#include "net/attach.h"
#include "net/ipam.h"
#include "net/network.h"
#include "util/fs.h"
#include "util/json.h"
#include "util/log.h"

/* Every running container on network_id (c included) gets its hosts file rewritten. */
static void refresh_network (struct engine *e, const char *network_id)
{
  struct endpoint_row **eps = NULL;
  size_t n = 0;
  berr_t e2 = BERR_INIT;
  if (store_endpoint_list (e->store, network_id, NULL, &eps, &n, &e2) < 0)
    {
      berr_release (&e2);
      return;
    }
  for (size_t i = 0; i < n; i++)
    {
      struct container_rec *c = NULL;
      if (store_container_lookup (e->store, eps[i]->container_id, &c, &e2) == 0)
        {
          if (container_is_running (c) && net_rewrite_hosts (e, c, &e2) < 0)
            berr_release (&e2);
          container_rec_free (c);
        }
      else
        berr_release (&e2);
    }
  endpoint_rows_free (eps, n);
}

static int attach_running (struct engine *e, struct container_rec *c, struct network_row *net,
                           json_t *cfg_ep, berr_t *err)
{
  if (network_realize (e, net, err) < 0)
    return -1;
  struct endpoint_row **mine = NULL;
  size_t nmine = 0;
  if (store_endpoint_list (e->store, NULL, c->id, &mine, &nmine, err) < 0)
    return -1;
  /* The next free index: eth<i> inside, vb<id><i> outside. */
  size_t idx = 0;
  for (size_t i = 0; i < nmine; i++)
    {
      size_t len = mine[i]->host_ifname ? strlen (mine[i]->host_ifname) : 0;
      if (len)
        {
          size_t k = (size_t)strtoul (mine[i]->host_ifname + len - 1, NULL, 16);
          if (k + 1 > idx)
            idx = k + 1;
        }
    }
  endpoint_rows_free (mine, nmine);
  if (idx > 15)
    return berr_setk (err, BERR_INVALID, 0, "container %s: too many networks", c->name);

  struct net_ep ep = { .net = net };
  snprintf (ep.host_ifname, sizeof ep.host_ifname, "vb%.11s%x", c->id, (unsigned)idx);
  snprintf (ep.ifname, sizeof ep.ifname, "eth%zu", idx);
  const char *want = json_get_str (json_object_get (cfg_ep, "IPAMConfig"), "IPv4Address");
  const char *mac = json_get_str (cfg_ep, "MacAddress");
  json_t *aliases = json_object_get (cfg_ep, "Aliases");
  struct endpoint_row row = {
    .network_id = net->id,
    .container_id = c->id,
    .mac = (char *)(mac ? mac : ""),
    .host_ifname = ep.host_ifname,
    .aliases = json_is_array (aliases) ? aliases : NULL,
  };
  int lock = net_lock (e, err);
  if (lock < 0)
    return -1;
  cleanup_free char *ip = NULL;
  int r = store_endpoint_add (e->store, &row, want && want[0] ? want : NULL, &ip, err);
  close (lock);
  if (r < 0)
    return -1;
  struct ipv4_net sub;
  uint32_t a, gw;
  /* declared before the first goto: the cleanup must never see it uninitialized */
  cleanup_free char *nspath = NULL;
  if (ipam_parse_cidr (net->subnet, false, &sub, err) < 0 || ipam_parse_ip (ip, &a, err) < 0
      || ipam_parse_ip (net->gateway, &gw, err) < 0)
    goto undo;
  struct net_endpoint_spec spec = {
    .bridge = net->bridge,
    .host_ifname = ep.host_ifname,
    .ifname = ep.ifname,
    .ip = a,
    .prefix = sub.prefix,
    .gateway = idx == 0 && !net->internal ? gw : 0,
    .mtu = net->mtu,
  };
  if (mac && mac[0])
    {
      if (net_mac_parse (mac, spec.mac) < 0)
        {
          berr_setk (err, BERR_INVALID, 0, "%s is not a valid mac address", mac);
          goto undo;
        }
    }
  else
    net_mac_from_ip (a, spec.mac);
  nspath = xasprintf ("/proc/%lld/ns/net",
                      (long long)json_integer_value (json_object_get (c->state, "Pid")));
  {
    cleanup_close int nsfd = open (nspath, O_RDONLY | O_CLOEXEC);
    if (nsfd < 0)
      {
        berr_set (err, errno, "open %s", nspath);
        goto undo;
      }
    if (net_endpoints_setup (nsfd, &spec, 1, err) < 0)
      goto undo;
  }
  lock = net_lock (e, err);
  if (lock >= 0)
    {
      refresh_network (e, net->id);
      close (lock);
    }
  else
    berr_release (err);
  return 0;
undo:
  {
    berr_t e2 = BERR_INIT;
    if (store_endpoint_remove (e->store, c->id, net->id, &e2) < 0)
      berr_release (&e2);
  }
  return -1;
}

/* The container (fresh from the store, under its lock: *lockfd) and the network. */
static int open_locked (struct engine *e, const char *container, const char *network,
                        struct container_rec **c, struct network_row **net, int *lockfd,
                        berr_t *err)
{
  *c = NULL;
  *net = NULL;
  *lockfd = -1;
  struct container_rec *cr = NULL;
  if (container_get (e, container, &cr, err) < 0)
    return -1;
  int lock = container_lock (e, cr->id, err);
  if (lock < 0 || store_container_lookup (e->store, cr->id, c, err) < 0
      || network_get (e, network, net, err) < 0)
    {
      if (lock >= 0)
        close (lock);
      container_rec_free (cr);
      if (*c)
        container_rec_free (*c);
      *c = NULL;
      return -1;
    }
  container_rec_free (cr);
  *lockfd = lock;
  return 0;
}

int container_network_connect (struct engine *e, const char *container, const char *network,
                               json_t *endpoint_config, berr_t *err)
{
  struct container_rec *cr = NULL;
  struct network_row *nr = NULL;
  int lock;
  if (open_locked (e, container, network, &cr, &nr, &lock, err) < 0)
    return -1;
  cleanup_container_rec struct container_rec *c = cr;
  cleanup_close int lockfd = lock;
  __attribute__ ((cleanup (network_row_freep))) struct network_row *net = nr;
  json_t *hc = json_object_get (c->config, "HostConfig");
  const char *mode = json_get_str (hc, "NetworkMode");
  mode = mode ? mode : "bridge";
  if (strcmp (mode, "host") == 0 || strcmp (net->driver, "host") == 0)
    return berr_setk (err, BERR_INVALID, 0,
                      "container cannot be disconnected from host network or connected to host "
                      "network");
  if (str_has_prefix (mode, "container:"))
    return berr_setk (err, BERR_INVALID, 0,
                      "container sharing network namespace with another container or host "
                      "cannot be connected to any other network");
  json_t *nets = json_object_get (c->config, "Networks");
  if (!json_is_object (nets))
    json_object_set_new (c->config, "Networks", nets = json_object ());
  if (strcmp (mode, "none") == 0 || strcmp (net->driver, "null") == 0)
    {
      if (json_object_size (nets) > 0 || strcmp (mode, "none") == 0)
        return berr_setk (err, BERR_INVALID, 0,
                          "container cannot be connected to multiple networks with one of the "
                          "networks in private (none) mode");
    }
  if (json_object_size (nets) >= 16)
    return berr_setk (err, BERR_INVALID, 0, "a container can be on at most 16 networks");
  if (json_object_get (nets, net->name))
    return berr_setk (err, BERR_CONFLICT, 0, "endpoint with name %s already exists in network %s",
                      c->name, net->name);
  json_t *ep = json_is_object (endpoint_config) ? json_deep_copy (endpoint_config) : json_object ();
  json_object_set_new (ep, "NetworkID", json_string (net->id));
  const char *ip = json_get_str (json_object_get (ep, "IPAMConfig"), "IPv4Address");
  if (ip && ip[0] && net->builtin)
    {
      json_decref (ep);
      return berr_setk (err, BERR_INVALID, 0,
                        "user specified IP address is supported on user defined networks only");
    }
  if (json_array_size (json_object_get (ep, "Aliases")) > 0 && net->builtin)
    {
      json_decref (ep);
      return berr_setk (err, BERR_INVALID, 0,
                        "network-scoped alias is supported only for containers in user defined "
                        "networks");
    }
  cleanup_json json_t *newcfg = json_deep_copy (c->config);
  json_object_set_new (json_object_get (newcfg, "Networks"), net->name, ep);
  if (container_is_running (c))
    {
      json_t *old = c->config;
      c->config = newcfg;
      int r = attach_running (e, c, net, ep, err);
      c->config = old;
      if (r < 0)
        return -1;
    }
  return store_container_save (e->store, c->id, newcfg, c->state, err);
}

int container_network_disconnect (struct engine *e, const char *container, const char *network,
                                  bool force, berr_t *err)
{
  struct container_rec *cr = NULL;
  struct network_row *nr = NULL;
  int lock;
  if (open_locked (e, container, network, &cr, &nr, &lock, err) < 0)
    return -1;
  cleanup_container_rec struct container_rec *c = cr;
  cleanup_close int lockfd = lock;
  __attribute__ ((cleanup (network_row_freep))) struct network_row *net = nr;
  const char *mode = json_get_str (json_object_get (c->config, "HostConfig"), "NetworkMode");
  if ((mode && strcmp (mode, "host") == 0) || strcmp (net->driver, "host") == 0)
    return berr_setk (err, BERR_INVALID, 0,
                      "container cannot be disconnected from host network or connected to host "
                      "network");
  json_t *nets = json_object_get (c->config, "Networks");
  if (!json_object_get (nets, net->name))
    {
      (void)force;
      return berr_setk (err, BERR_INVALID, 0, "container %s is not connected to network %s", c->id,
                        net->name);
    }
  cleanup_json json_t *newcfg = json_deep_copy (c->config);
  json_object_del (json_object_get (newcfg, "Networks"), net->name);
  if (store_container_save (e->store, c->id, newcfg, c->state, err) < 0)
    return -1;
  json_decref (c->config);
  c->config = json_incref (newcfg);
  if (!container_is_running (c))
    return 0;
  struct endpoint_row **eps = NULL;
  size_t n = 0;
  if (store_endpoint_list (e->store, net->id, c->id, &eps, &n, err) < 0)
    return -1;
  bool had_ports = false;
  for (size_t i = 0; i < n; i++)
    {
      berr_t e2 = BERR_INIT;
      if (eps[i]->host_ifname && net_endpoint_remove (eps[i]->host_ifname, &e2) < 0)
        {
          log_warn ("%s", e2.msg);
          berr_release (&e2);
        }
      had_ports |= json_object_size (eps[i]->ports) > 0;
    }
  endpoint_rows_free (eps, n);
  int nl = net_lock (e, err);
  if (nl < 0)
    return -1;
  int r = store_endpoint_remove (e->store, c->id, net->id, err);
  if (r == 0 && had_ports)
    r = net_sync (e, err);
  refresh_network (e, net->id);
  berr_t e2 = BERR_INIT;
  if (net_rewrite_hosts (e, c, &e2) < 0)
    berr_release (&e2);
  close (nl);
  return r;
}
