/* ipam.h — IPv4 subnets and address choice, pure functions (the store calls them inside its
 * write transaction, so concurrent starts never get the same address). Host byte order. */
#ifndef BERTH_NET_IPAM_H
#define BERTH_NET_IPAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

struct ipv4_net
{
  uint32_t addr; /* network address (host bits cleared by ipam_parse_cidr) */
  int prefix;
};

/* "10.1.2.3" → addr; -1 with a message naming s if it is not a dotted quad. */
int ipam_parse_ip (const char *s, uint32_t *out, berr_t *err);
/* "10.1.0.0/16" → net. Docker rejects host bits set in a subnet? It accepts and masks for
 * --ip-range but errors for --subnet ("invalid subnet"): strict says which. */
int ipam_parse_cidr (const char *s, bool strict, struct ipv4_net *out, berr_t *err);
void ipam_format_ip (uint32_t ip, char out[16]);
/* "10.1.0.0/16" */
void ipam_format_cidr (const struct ipv4_net *n, char out[20]);
bool ipam_contains (const struct ipv4_net *n, uint32_t ip);
bool ipam_overlaps (const struct ipv4_net *a, const struct ipv4_net *b);
/* The lowest free address of range (or of subnet when range is NULL) that is not the subnet's
 * network or broadcast address, not gateway, and not in used[]. -1 (BERR_CONFLICT "no available
 * IPv4 addresses on this network's address pools: NAME") when full. */
int ipam_pick (const struct ipv4_net *subnet, const struct ipv4_net *range, uint32_t gateway,
               const uint32_t *used, size_t nused, const char *netname, uint32_t *out, berr_t *err);
/* The first /prefix subnet of pool that overlaps none of taken[] (other networks' subnets, the
 * host's routes and addresses). */
int ipam_pick_subnet (const struct ipv4_net *pool, int prefix, const struct ipv4_net *taken,
                      size_t ntaken, struct ipv4_net *out, berr_t *err);

#endif
