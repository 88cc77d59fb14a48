/* nft.h — berth's own nftables table: NAT for egress, published ports, and the forwarding rules
 * that isolate networks.  The whole table is rendered from a model and replaced in one nftables
 * transaction, so whatever state it was in (a crash, a container gone) the result is exactly the
 * model; berth never touches another table.  libnftables is loaded on first use (lazylib).
 *
 * The rules (table ip <name>):
 *   - postrouting: masquerade traffic from each non-internal network's subnet leaving through
 *     another interface; masquerade 127.0.0.0/8-sourced traffic into a bridge (loopback
 *     publishing, with route_localnet); masquerade DNATed traffic that re-enters its own bridge
 *     from one of its containers (hairpin).
 *   - prerouting (fib daddr type local, never for 127.0.0.0/8 destinations, moby#45610) and
 *     output (locally generated, fib daddr type local): DNAT published ports; a binding to a
 *     specific host address matches only that destination; a binding to 127.x only in output.
 *   - forward: traffic within a bridge accepted; into a bridge only replies (ct established,
 *     related) and DNATed connections (published ports) — so other hosts cannot reach container
 *     addresses directly and networks are isolated from each other; out of a non-internal
 *     bridge accepted; an internal network's bridge neither sends nor receives routed traffic. */
#ifndef BERTH_NET_NFT_H
#define BERTH_NET_NFT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

struct nft_network
{
  const char *bridge; /* interface name */
  uint32_t subnet;    /* host byte order, network address */
  int prefix;
  bool internal;
};

struct nft_port
{
  const char *proto;  /* "tcp", "udp" or "sctp" */
  uint32_t host_ip;   /* 0: every local address (0.0.0.0) */
  uint16_t host_port; /* one port each; a run of consecutive ports with host_port == ctr_port
                       * is rendered as one "dport A-B dnat to ADDR" rule */
  uint32_t ctr_ip;
  uint16_t ctr_port;
  const char *bridge; /* the container's bridge */
};

struct nft_model
{
  const char *table; /* "berth" (config nft-table) */
  const struct nft_network *networks;
  size_t nnetworks;
  const struct nft_port *ports;
  size_t nports;
};

/* The nft script that replaces the table with the model (a "table … / delete table … / table …
 * { … }" sequence applied as one transaction).  Deterministic: same model, same text, in any
 * order of networks and ports; from "table" on it reads exactly as `nft list table` prints it.
 * Ports on an internal network are left out (Docker publishes nothing there).  Names are not
 * checked here: nft_sync does that before rendering. */
char *nft_render (const struct nft_model *m);
/* Apply a script through libnftables; errors carry nft's own message ("nftables: Could not
 * process rule: No such file or directory").  A missing libnftables.so.1 is an ordinary error. */
int nft_apply (const char *script, berr_t *err);
/* Check names (BERR_INVALID), render and apply. An empty model (no networks, no ports) deletes
 * the table.  What the kernel needs besides the rules is the caller's: net.ipv4.ip_forward=1,
 * route_localnet=1 on each bridge (loopback publishing) and hairpin mode on the bridge ports
 * (hairpin NAT when br_netfilter is loaded). */
int nft_sync (const struct nft_model *m, berr_t *err);
/* Delete the table if it exists. */
int nft_remove_table (const char *table, berr_t *err);

/* Base chains of other tables at the forward hook (ip or inet) whose policy is drop — such as
 * the one Docker's iptables rules leave — would drop what containers send out: how many, the
 * first as "family table chain" in *where (NULL when none). */
int nft_forward_drops (const char *own_table, char **where, berr_t *err);

#endif
