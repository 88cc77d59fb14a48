/* ipam.c — see ipam.h.  Everything is host byte order; nothing here allocates more than a
 * sorted copy of the addresses in use. */
#include "ipam.h"

#include <stdlib.h>
#include <string.h>

static uint32_t prefix_mask (int prefix)
{
  /* A shift by 32 is undefined: /0 is spelled out. */
  return prefix <= 0 ? 0 : prefix >= 32 ? 0xffffffffu : 0xffffffffu << (32 - prefix);
}

/* One decimal field of a dotted quad or a prefix length: digits only, no leading zero (Go's
 * netip refuses "010" as ambiguous octal), at most max.  Returns the position after it or NULL. */
static const char *parse_dec (const char *p, unsigned max, unsigned *out)
{
  if (*p < '0' || *p > '9')
    return NULL;
  if (p[0] == '0' && p[1] >= '0' && p[1] <= '9')
    return NULL;
  unsigned v = 0;
  while (*p >= '0' && *p <= '9')
    {
      v = v * 10 + (unsigned)(*p - '0');
      if (v > max)
        return NULL;
      p++;
    }
  *out = v;
  return p;
}

/* The address at the start of s, up to end (NULL: the end of the string). */
static bool parse_quad (const char *s, const char *end, uint32_t *out)
{
  uint32_t a = 0;
  const char *p = s;
  for (int i = 0; i < 4; i++)
    {
      unsigned v;
      if (i > 0)
        {
          if (*p != '.')
            return false;
          p++;
        }
      p = parse_dec (p, 255, &v);
      if (p == NULL)
        return false;
      a = a << 8 | v;
    }
  if (end ? p != end : *p != '\0')
    return false;
  *out = a;
  return true;
}

int ipam_parse_ip (const char *s, uint32_t *out, berr_t *err)
{
  if (s == NULL || !parse_quad (s, NULL, out))
    return berr_setk (err, BERR_INVALID, 0, "invalid IPv4 address: %s", s ? s : "");
  return 0;
}

int ipam_parse_cidr (const char *s, bool strict, struct ipv4_net *out, berr_t *err)
{
  const char *slash = s ? strchr (s, '/') : NULL;
  if (s && strchr (s, ':'))
    return berr_setk (err, BERR_INVALID, 0, "invalid subnet %s: IPv6 is not supported", s);
  uint32_t a;
  unsigned bits;
  const char *end;
  if (slash == NULL || !parse_quad (s, slash, &a)
      || (end = parse_dec (slash + 1, 32, &bits)) == NULL || *end != '\0')
    return berr_setk (err, BERR_INVALID, 0, "invalid CIDR address: %s", s ? s : "");
  uint32_t m = prefix_mask ((int)bits);
  if (strict && (a & ~m) != 0)
    {
      struct ipv4_net n = { a & m, (int)bits };
      char want[20];
      ipam_format_cidr (&n, want);
      return berr_setk (err, BERR_INVALID, 0, "invalid subnet %s: it should be %s", s, want);
    }
  out->addr = a & m;
  out->prefix = (int)bits;
  return 0;
}

void ipam_format_ip (uint32_t ip, char out[16])
{
  snprintf (out, 16, "%u.%u.%u.%u", ip >> 24, (ip >> 16) & 0xff, (ip >> 8) & 0xff, ip & 0xff);
}

void ipam_format_cidr (const struct ipv4_net *n, char out[20])
{
  char ip[16];
  ipam_format_ip (n->addr, ip);
  snprintf (out, 20, "%s/%d", ip, n->prefix);
}

bool ipam_contains (const struct ipv4_net *n, uint32_t ip)
{
  uint32_t m = prefix_mask (n->prefix);
  return (ip & m) == (n->addr & m);
}

bool ipam_overlaps (const struct ipv4_net *a, const struct ipv4_net *b)
{
  /* Two prefixes overlap exactly when the shorter one contains the other's network address. */
  return ipam_contains (a, b->addr) || ipam_contains (b, a->addr);
}

static int cmp_u32 (const void *x, const void *y)
{
  uint32_t a = *(const uint32_t *)x, b = *(const uint32_t *)y;
  return a < b ? -1 : a > b;
}

int ipam_pick (const struct ipv4_net *subnet, const struct ipv4_net *range, uint32_t gateway,
               const uint32_t *used, size_t nused, const char *netname, uint32_t *out, berr_t *err)
{
  uint32_t smask = prefix_mask (subnet->prefix);
  uint32_t snet = subnet->addr & smask, sbcast = snet | ~smask;
  const struct ipv4_net *r = range ? range : subnet;
  uint32_t rmask = prefix_mask (r->prefix);
  uint64_t first = r->addr & rmask, last = (r->addr & rmask) | ~rmask;
  /* A range reaching outside the subnet only counts where it is inside. */
  if (first < snet)
    first = snet;
  if (last > sbcast)
    last = sbcast;
  /* Networks of two addresses or fewer have neither a network nor a broadcast address (RFC 3021
   * for /31), as libnetwork's allocator reserves them only above that size. */
  bool reserve_ends = subnet->prefix < 31;

  uint32_t *sorted = NULL;
  if (nused > 0)
    {
      sorted = xmalloc (nused * sizeof *sorted);
      memcpy (sorted, used, nused * sizeof *sorted);
      qsort (sorted, nused, sizeof *sorted, cmp_u32);
    }
  size_t k = 0;
  int ret = -1;
  for (uint64_t a = first; a <= last; a++)
    {
      uint32_t ip = (uint32_t)a;
      while (k < nused && sorted[k] < ip)
        k++;
      if (k < nused && sorted[k] == ip)
        continue;
      if (ip == gateway || (reserve_ends && (ip == snet || ip == sbcast)))
        continue;
      *out = ip;
      ret = 0;
      break;
    }
  free (sorted);
  if (ret < 0)
    berr_setk (err, BERR_CONFLICT, 0,
               "no available IPv4 addresses on this network's address pools: %s",
               netname ? netname : "");
  return ret;
}

int ipam_pick_subnet (const struct ipv4_net *pool, int prefix, const struct ipv4_net *taken,
                      size_t ntaken, struct ipv4_net *out, berr_t *err)
{
  char p[20];
  ipam_format_cidr (pool, p);
  if (prefix < pool->prefix || prefix > 32)
    return berr_setk (err, BERR_INVALID, 0, "invalid address pool %s: a /%d cannot be cut from it",
                      p, prefix);
  uint64_t size = (uint64_t)1 << (32 - prefix);
  uint64_t start = pool->addr & prefix_mask (pool->prefix);
  uint64_t end = start + ((uint64_t)1 << (32 - pool->prefix)); /* exclusive */
  uint64_t c = start;
  while (c < end)
    {
      struct ipv4_net cand = { (uint32_t)c, prefix };
      uint64_t next = c + size;
      bool clash = false;
      for (size_t i = 0; i < ntaken; i++)
        if (ipam_overlaps (&cand, &taken[i]))
          {
            clash = true;
            /* Skip past the whole of a larger taken block at once. */
            uint32_t tm = prefix_mask (taken[i].prefix);
            uint64_t tend = (uint64_t)(taken[i].addr & tm) + ((uint64_t)(~tm) + 1);
            if (tend > next)
              next = (tend + size - 1) / size * size;
          }
      if (!clash)
        {
          *out = cand;
          return 0;
        }
      c = next;
    }
  return berr_setk (err, BERR_CONFLICT, 0,
                    "all predefined address pools have been fully subnetted (pool %s, /%d "
                    "networks)",
                    p, prefix);
}
