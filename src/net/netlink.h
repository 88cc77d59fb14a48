/* netlink.h — links, addresses and routes through rtnetlink (libmnl), and the two things berth
 * builds from them: a network's Linux bridge and a container's veth endpoint.  Nothing here
 * knows about the store or containers; src/net/attach.c decides names and addresses.
 *
 * Addresses are IPv4 in host byte order (uint32_t), MACs 6 bytes. */
#ifndef BERTH_NET_NETLINK_H
#define BERTH_NET_NETLINK_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "util/err.h"

struct nl; /* an rtnetlink socket bound to one network namespace */

/* A socket in the caller's current network namespace. */
int nl_open (struct nl **out, berr_t *err);
/* A socket in the namespace netns_fd refers to (/proc/<pid>/ns/net or a pidfd): created there by
 * a short setns there and back on the calling thread; the socket stays in that namespace. */
int nl_open_netns (int netns_fd, struct nl **out, berr_t *err);
void nl_close (struct nl *n);

/* ifindex of name, 0 when there is no such link (-errno when the kernel could not be asked). */
int nl_link_index (struct nl *n, const char *name);
int nl_link_up (struct nl *n, int ifindex, berr_t *err);
int nl_link_set_mac (struct nl *n, int ifindex, const uint8_t mac[6], berr_t *err);
int nl_link_set_mtu (struct nl *n, int ifindex, int mtu, berr_t *err);
int nl_link_set_name (struct nl *n, int ifindex, const char *name, berr_t *err);
int nl_link_set_master (struct nl *n, int ifindex, int master_ifindex, berr_t *err);
/* Delete a link by name; absent is not an error. */
int nl_link_del (struct nl *n, const char *name, berr_t *err);
/* Add addr/prefix to a link (already present: not an error). */
int nl_addr_add (struct nl *n, int ifindex, uint32_t addr, int prefix, berr_t *err);
/* Default route via gw on ifindex. */
int nl_route_add_default (struct nl *n, int ifindex, uint32_t gw, berr_t *err);
/* Create a veth pair: host_name stays in n's namespace; peer_name is created directly in the
 * namespace peer_netns_fd refers to (-1: same namespace). mtu 0: kernel default. */
int nl_veth_create (struct nl *n, const char *host_name, const char *peer_name, int peer_netns_fd,
                    int mtu, berr_t *err);

/* ---------- bridges and endpoints ---------- */

struct net_bridge_spec
{
  const char *name; /* "berth0", "br-<12 hex>" */
  uint32_t gateway; /* the bridge's own address */
  int prefix;       /* of the subnet */
  int mtu;          /* 0: default */
};

/* Make the bridge exist, carry gateway/prefix and be up; set its route_localnet=1 (so DNAT of
 * 127.0.0.1-published ports can leave through it) and the host's net.ipv4.ip_forward=1 (as
 * Docker does).  Idempotent and cheap when everything is already in place. */
int net_bridge_up (const struct net_bridge_spec *b, berr_t *err);
/* Delete the bridge (absent: not an error). */
int net_bridge_remove (const char *name, berr_t *err);

struct net_endpoint_spec
{
  const char *bridge;      /* host bridge to attach to */
  const char *host_ifname; /* host end of the veth, e.g. "vb0123456789ab0" (≤ 15 chars) */
  const char *ifname;      /* name inside the container: "eth0", "eth1"… */
  uint32_t ip;             /* container address */
  int prefix;
  uint32_t gateway; /* 0: no default route through this endpoint */
  uint8_t mac[6];
  int mtu; /* 0: the bridge's */
};

/* Configure the network namespace netns_fd refers to (the container's, not yet running its
 * payload): loopback up, then for each endpoint a veth pair whose host end joins the bridge
 * (up, hairpin mode on) and whose peer carries ifname/mac/ip/prefix, up, and the default route
 * of the first endpoint with a gateway.  n == 0 just brings loopback up (--network none).  On
 * failure the host ends already made are deleted. */
int net_endpoints_setup (int netns_fd, const struct net_endpoint_spec *eps, size_t n, berr_t *err);
/* Delete the host end of an endpoint (absent: not an error — the kernel removes a veth when its
 * namespace goes). */
int net_endpoint_remove (const char *host_ifname, berr_t *err);

/* A MAC from an address, as Docker did: 02:42 followed by the four bytes of ip. */
void net_mac_from_ip (uint32_t ip, uint8_t mac[6]);
/* "aa:bb:cc:dd:ee:ff" ↔ bytes; -1 when s is not a MAC. */
int net_mac_parse (const char *s, uint8_t mac[6]);
void net_mac_format (const uint8_t mac[6], char out[18]);

#endif
