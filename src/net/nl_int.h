/* nl_int.h — what netlink.c offers link.c beyond the public netlink.h: a link's attributes in
 * one lookup, a veth created with everything set in the same request, and hairpin mode.  Not for
 * use outside src/net/netlink.c and src/net/link.c. */
#ifndef BERTH_NET_NL_INT_H
#define BERTH_NET_NL_INT_H

#include "net/netlink.h"

struct nl_link
{
  int index;
  unsigned flags; /* IFF_* */
  int mtu;
  int master;    /* ifindex, 0 when none */
  char kind[32]; /* IFLA_INFO_KIND: "bridge", "veth"…, "" for none (lo, physical) */
};

/* Look name up: 1 found (*out filled), 0 no such link, < 0 error. */
int nl_link_get (struct nl *n, const char *name, struct nl_link *out, berr_t *err);

/* 1 when ifindex carries addr/prefix (IPv4), 0 when not, < 0 on error. */
int nl_addr_find (struct nl *n, int ifindex, uint32_t addr, int prefix, berr_t *err);

struct nl_veth
{
  const char *host_name;
  const char *peer_name;
  int peer_netns_fd;       /* nsfs fd; -1: n's namespace */
  int mtu;                 /* both ends; 0: kernel default */
  int master;              /* host end's master ifindex; 0: none */
  const uint8_t *peer_mac; /* NULL: random */
  bool up;                 /* host end up at creation (the peer cannot be: see netlink.c) */
};
/* One RTM_NEWLINK creating the pair with all of the above in place. */
int nl_veth_add (struct nl *n, const struct nl_veth *v, berr_t *err);

/* Hairpin mode on a bridge port (IFLA_PROTINFO / AF_BRIDGE, so it works whatever the namespace
 * of /sys is). */
int nl_link_set_hairpin (struct nl *n, int ifindex, bool on, berr_t *err);

/* Create a bridge without STP (already there: not an error). */
int nl_bridge_add (struct nl *n, const char *name, berr_t *err);

/* The nsfs fd of the namespace n lives in when it came from nl_open_netns, else -1.  It is a
 * real namespace fd even when nl_open_netns was given a pidfd, so IFLA_NET_NS_FD can use it. */
int nl_netns_fd (const struct nl *n);

/* A valid interface name for the kernel: 1–15 bytes, not "." or "..", no '/', ':' or space. */
bool nl_ifname_ok (const char *name);

#endif
