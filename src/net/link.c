/* link.c — a network's bridge and a container's veth endpoints, built from netlink.c's requests.
 *
 * net_bridge_up runs on every container start, so when the bridge is already in place it costs
 * one link lookup, one address dump of that link and two small sysctl reads, and changes
 * nothing.  net_endpoints_setup creates each veth with its master, MTU, MAC, names, namespace and
 * the host end up in a single request, then sets hairpin mode, the address, the peer up and the
 * route. */
#include "net/netlink.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "net/nl_int.h"
#include "util/log.h"

static void cleanup_nlp (struct nl **n)
{
  nl_close (*n);
  *n = NULL;
}
#define cleanup_nl __attribute__ ((cleanup (cleanup_nlp)))

/* Make the sysctl at path read "1"; written only when it does not already, so the fast path of
 * net_bridge_up never writes. */
static int sysctl_ensure_one (const char *path, berr_t *err)
{
  char buf[16];
  {
    cleanup_close int fd = open (path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
      return berr_set (err, errno, "read %s", path);
    ssize_t r = read (fd, buf, sizeof buf - 1);
    if (r < 0)
      return berr_set (err, errno, "read %s", path);
    buf[r] = '\0';
  }
  if (strcmp (buf, "1\n") == 0 || strcmp (buf, "1") == 0)
    return 0;
  cleanup_close int fd = open (path, O_WRONLY | O_CLOEXEC);
  if (fd < 0 || write (fd, "1\n", 2) != 2)
    return berr_set (err, errno, "write 1 to %s", path);
  return 0;
}

static int bridge_check (const struct net_bridge_spec *b, berr_t *err)
{
  if (!nl_ifname_ok (b->name))
    return berr_setk (err, BERR_INVALID, 0, "invalid bridge name '%s'", b->name ? b->name : "");
  if (b->prefix < 1 || b->prefix > 32)
    return berr_setk (err, BERR_INVALID, 0, "bridge %s: invalid prefix %d", b->name, b->prefix);
  if (b->gateway == 0)
    return berr_setk (err, BERR_INVALID, 0, "bridge %s: no gateway address", b->name);
  if (b->mtu < 0)
    return berr_setk (err, BERR_INVALID, 0, "bridge %s: invalid MTU %d", b->name, b->mtu);
  return 0;
}

/* The link called name, which must be a bridge: 1 and *l, 0 when absent, < 0 on error. */
static int bridge_get (struct nl *n, const char *name, struct nl_link *l, berr_t *err)
{
  int r = nl_link_get (n, name, l, err);
  if (r <= 0)
    return r;
  if (strcmp (l->kind, "bridge") != 0)
    return berr_setk (err, BERR_CONFLICT, 0, "%s is not a bridge (it is a %s link)", name,
                      l->kind[0] ? l->kind : "plain");
  return 1;
}

int net_bridge_up (const struct net_bridge_spec *b, berr_t *err)
{
  if (bridge_check (b, err) < 0)
    return -1;
  cleanup_nl struct nl *n = NULL;
  if (nl_open (&n, err) < 0)
    return berr_wrap (err, "bridge %s", b->name);

  struct nl_link l;
  int r = bridge_get (n, b->name, &l, err);
  if (r < 0)
    return berr_wrap (err, "bridge %s", b->name);
  if (r == 0)
    {
      if (nl_bridge_add (n, b->name, err) < 0)
        return -1;
      r = bridge_get (n, b->name, &l, err);
      if (r < 0)
        return berr_wrap (err, "bridge %s", b->name);
      if (r == 0) /* deleted again in between */
        return berr_set (err, ENODEV, "bridge %s vanished as it was created", b->name);
    }

  /* Setting the MTU (rather than creating with it) tells the bridge it was chosen, so it does
   * not follow its ports' MTUs. */
  if (b->mtu && l.mtu != b->mtu && nl_link_set_mtu (n, l.index, b->mtu, err) < 0)
    return berr_wrap (err, "bridge %s", b->name);

  r = nl_addr_find (n, l.index, b->gateway, b->prefix, err);
  if (r < 0)
    return berr_wrap (err, "bridge %s", b->name);
  if (r == 0 && nl_addr_add (n, l.index, b->gateway, b->prefix, err) < 0)
    return berr_wrap (err, "bridge %s", b->name);

  if (!(l.flags & IFF_UP) && nl_link_up (n, l.index, err) < 0)
    return berr_wrap (err, "bridge %s", b->name);

  char path[96];
  snprintf (path, sizeof path, "/proc/sys/net/ipv4/conf/%s/route_localnet", b->name);
  if (sysctl_ensure_one (path, err) < 0)
    return berr_wrap (err, "bridge %s", b->name);
  if (sysctl_ensure_one ("/proc/sys/net/ipv4/ip_forward", err) < 0)
    return berr_wrap (err, "bridge %s", b->name);
  return 0;
}

int net_bridge_remove (const char *name, berr_t *err)
{
  if (!nl_ifname_ok (name))
    return berr_setk (err, BERR_INVALID, 0, "invalid bridge name '%s'", name ? name : "");
  cleanup_nl struct nl *n = NULL;
  if (nl_open (&n, err) < 0)
    return berr_wrap (err, "remove bridge %s", name);
  struct nl_link l;
  int r = bridge_get (n, name, &l, err);
  if (r < 0)
    return berr_wrap (err, "remove bridge %s", name);
  if (r == 0)
    return 0;
  return nl_link_del (n, name, err);
}

/* ---------- endpoints ---------- */

static int endpoint_check (const struct net_endpoint_spec *ep, berr_t *err)
{
  if (!nl_ifname_ok (ep->bridge))
    return berr_setk (err, BERR_INVALID, 0, "endpoint: invalid bridge name '%s'",
                      ep->bridge ? ep->bridge : "");
  if (!nl_ifname_ok (ep->host_ifname))
    return berr_setk (err, BERR_INVALID, 0, "endpoint: invalid host interface name '%s'",
                      ep->host_ifname ? ep->host_ifname : "");
  if (!nl_ifname_ok (ep->ifname))
    return berr_setk (err, BERR_INVALID, 0, "endpoint %s: invalid interface name '%s'",
                      ep->host_ifname, ep->ifname ? ep->ifname : "");
  if (ep->prefix < 1 || ep->prefix > 32)
    return berr_setk (err, BERR_INVALID, 0, "endpoint %s: invalid prefix %d", ep->host_ifname,
                      ep->prefix);
  if (ep->mtu < 0)
    return berr_setk (err, BERR_INVALID, 0, "endpoint %s: invalid MTU %d", ep->host_ifname,
                      ep->mtu);
  return 0;
}

/* One endpoint; *created tells the caller whether a host end now exists to clean up. */
static int endpoint_add (struct nl *host, struct nl *peer, const struct net_endpoint_spec *ep,
                         bool with_route, bool *created, berr_t *err)
{
  struct nl_link br;
  int r = bridge_get (host, ep->bridge, &br, err);
  if (r < 0)
    return -1;
  if (r == 0)
    return berr_setk (err, BERR_NOT_FOUND, ENODEV, "bridge %s", ep->bridge);

  struct nl_veth v = {
    .host_name = ep->host_ifname,
    .peer_name = ep->ifname,
    .peer_netns_fd = nl_netns_fd (peer),
    .mtu = ep->mtu ? ep->mtu : br.mtu,
    .master = br.index,
    .peer_mac = ep->mac,
    .up = true,
  };
  if (nl_veth_add (host, &v, err) < 0)
    return -1;
  *created = true;

  /* Hairpin: a container reaching its own published port through the host's DNAT gets its
   * packets back out of the port they came in by. */
  struct nl_link hl;
  r = nl_link_get (host, ep->host_ifname, &hl, err);
  if (r < 0)
    return -1;
  if (r == 0)
    return berr_set (err, ENODEV, "veth %s vanished after creation", ep->host_ifname);
  if (nl_link_set_hairpin (host, hl.index, true, err) < 0)
    return -1;

  int idx = nl_link_index (peer, ep->ifname);
  if (idx <= 0)
    return berr_set (err, idx < 0 ? -idx : ENODEV, "find %s in the container's namespace",
                     ep->ifname);
  if (nl_addr_add (peer, idx, ep->ip, ep->prefix, err) < 0)
    return berr_wrap (err, "%s", ep->ifname);
  if (nl_link_up (peer, idx, err) < 0)
    return berr_wrap (err, "%s", ep->ifname);
  if (with_route && nl_route_add_default (peer, idx, ep->gateway, err) < 0)
    return berr_wrap (err, "%s", ep->ifname);
  return 0;
}

int net_endpoints_setup (int netns_fd, const struct net_endpoint_spec *eps, size_t n_eps,
                         berr_t *err)
{
  for (size_t i = 0; i < n_eps; i++)
    if (endpoint_check (&eps[i], err) < 0)
      return -1;

  cleanup_nl struct nl *peer = NULL;
  if (nl_open_netns (netns_fd, &peer, err) < 0)
    return berr_wrap (err, "container network");
  struct nl_link lo;
  int r = nl_link_get (peer, "lo", &lo, err);
  if (r < 0)
    return berr_wrap (err, "container network");
  if (r == 0)
    return berr_set (err, ENODEV, "container network: no loopback interface");
  if (!(lo.flags & IFF_UP) && nl_link_up (peer, lo.index, err) < 0)
    return berr_wrap (err, "container network: loopback");
  if (n_eps == 0)
    return 0;

  cleanup_nl struct nl *host = NULL;
  if (nl_open (&host, err) < 0)
    return berr_wrap (err, "container network");

  bool routed = false;
  size_t made = 0;
  for (size_t i = 0; i < n_eps; i++)
    {
      bool created = false;
      bool with_route = !routed && eps[i].gateway != 0;
      if (endpoint_add (host, peer, &eps[i], with_route, &created, err) < 0)
        {
          if (created)
            made = i + 1;
          /* Removing a host end takes its peer with it. */
          for (size_t j = 0; j < made; j++)
            {
              cleanup_berr berr_t e2 = BERR_INIT;
              if (nl_link_del (host, eps[j].host_ifname, &e2) < 0)
                log_warn ("clean up after a failed endpoint: %s", e2.msg);
            }
          return berr_wrap (err, "endpoint %s", eps[i].host_ifname);
        }
      made = i + 1;
      routed = routed || with_route;
    }
  return 0;
}

int net_endpoint_remove (const char *host_ifname, berr_t *err)
{
  if (!nl_ifname_ok (host_ifname))
    return berr_setk (err, BERR_INVALID, 0, "invalid interface name '%s'",
                      host_ifname ? host_ifname : "");
  cleanup_nl struct nl *n = NULL;
  if (nl_open (&n, err) < 0)
    return berr_wrap (err, "remove endpoint %s", host_ifname);
  struct nl_link l;
  int r = nl_link_get (n, host_ifname, &l, err);
  if (r < 0)
    return berr_wrap (err, "remove endpoint %s", host_ifname);
  if (r == 0)
    return 0;
  /* A wrong name from a caller must not take down some other interface of the host. */
  if (strcmp (l.kind, "veth") != 0)
    return berr_setk (err, BERR_CONFLICT, 0, "remove endpoint %s: not a veth (it is a %s link)",
                      host_ifname, l.kind[0] ? l.kind : "plain");
  return nl_link_del (n, host_ifname, err);
}

/* ---------- MAC addresses ---------- */

void net_mac_from_ip (uint32_t ip, uint8_t mac[6])
{
  mac[0] = 0x02;
  mac[1] = 0x42;
  mac[2] = (uint8_t)(ip >> 24);
  mac[3] = (uint8_t)(ip >> 16);
  mac[4] = (uint8_t)(ip >> 8);
  mac[5] = (uint8_t)ip;
}

static int hexval (char c)
{
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

int net_mac_parse (const char *s, uint8_t mac[6])
{
  if (!s || strlen (s) != 17)
    return -1;
  uint8_t out[6];
  for (int i = 0; i < 6; i++)
    {
      const char *p = s + i * 3;
      int hi = hexval (p[0]), lo = hexval (p[1]);
      if (hi < 0 || lo < 0 || (i < 5 && p[2] != ':'))
        return -1;
      out[i] = (uint8_t)(hi << 4 | lo);
    }
  memcpy (mac, out, 6);
  return 0;
}

void net_mac_format (const uint8_t mac[6], char out[18])
{
  snprintf (out, 18, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3], mac[4],
            mac[5]);
}
