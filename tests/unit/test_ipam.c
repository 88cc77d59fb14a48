/* test_ipam.c — IPv4 parsing, containment and address/subnet choice (src/net/ipam.c). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net/ipam.h"

#define IP(a, b, c, d)                                                                             \
  ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (uint32_t)(d))

static struct ipv4_net cidr (const char *s)
{
  struct ipv4_net n = { 0, -1 };
  berr_t err = BERR_INIT;
  if (ipam_parse_cidr (s, false, &n, &err) < 0)
    {
      printf ("# %s\n", err.msg);
      berr_release (&err);
      fail ();
    }
  return n;
}

static void test_parse_ip (void **state)
{
  (void)state;
  uint32_t ip;
  berr_t err = BERR_INIT;
  assert_int_equal (ipam_parse_ip ("10.1.2.3", &ip, &err), 0);
  assert_int_equal (ip, IP (10, 1, 2, 3));
  assert_int_equal (ipam_parse_ip ("0.0.0.0", &ip, &err), 0);
  assert_int_equal (ip, 0);
  assert_int_equal (ipam_parse_ip ("255.255.255.255", &ip, &err), 0);
  assert_int_equal (ip, 0xffffffffu);
  static const char *const bad[]
      = { "",         "1.2.3",    "1.2.3.4.5", "256.1.1.1", "1.2.3.-1",  "01.2.3.4",
          "1.2.3.4 ", " 1.2.3.4", "1..2.3",    "a.b.c.d",   "1.2.3.4/8", "::1" };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    {
      assert_int_equal (ipam_parse_ip (bad[i], &ip, &err), -1);
      assert_int_equal (err.kind, BERR_INVALID);
      assert_non_null (strstr (err.msg, bad[i]));
      berr_release (&err);
    }
}

static void test_parse_cidr (void **state)
{
  (void)state;
  struct ipv4_net n;
  berr_t err = BERR_INIT;
  char buf[20];
  assert_int_equal (ipam_parse_cidr ("10.210.0.0/16", true, &n, &err), 0);
  assert_int_equal (n.addr, IP (10, 210, 0, 0));
  assert_int_equal (n.prefix, 16);
  ipam_format_cidr (&n, buf);
  assert_string_equal (buf, "10.210.0.0/16");
  assert_int_equal (ipam_parse_cidr ("0.0.0.0/0", true, &n, &err), 0);
  assert_int_equal (n.prefix, 0);
  assert_int_equal (ipam_parse_cidr ("10.1.2.3/32", true, &n, &err), 0);
  assert_int_equal (n.addr, IP (10, 1, 2, 3));

  /* Host bits: masked when not strict (--ip-range), Docker's error when strict (--subnet). */
  assert_int_equal (ipam_parse_cidr ("10.1.2.3/24", false, &n, &err), 0);
  assert_int_equal (n.addr, IP (10, 1, 2, 0));
  assert_int_equal (ipam_parse_cidr ("10.1.2.3/24", true, &n, &err), -1);
  assert_string_equal (err.msg, "invalid subnet 10.1.2.3/24: it should be 10.1.2.0/24");
  berr_release (&err);

  static const char *const bad[] = { "10.1.2.0",    "10.1.2.0/",    "10.1.2.0/33",
                                     "10.1.2.0/-1", "10.1.2.0/08",  "10.1.2/24",
                                     "x/24",        "10.1.2.0/24x", "",
                                     "10.1.2.0//24" };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    {
      assert_int_equal (ipam_parse_cidr (bad[i], false, &n, &err), -1);
      assert_int_equal (err.kind, BERR_INVALID);
      berr_release (&err);
    }
  assert_int_equal (ipam_parse_cidr ("fd00::/64", false, &n, &err), -1);
  assert_non_null (strstr (err.msg, "IPv6"));
  berr_release (&err);
}

static void test_format_ip (void **state)
{
  (void)state;
  char buf[16];
  ipam_format_ip (IP (255, 255, 255, 255), buf);
  assert_string_equal (buf, "255.255.255.255");
  ipam_format_ip (IP (10, 0, 0, 1), buf);
  assert_string_equal (buf, "10.0.0.1");
}

static void test_contains_overlaps (void **state)
{
  (void)state;
  struct ipv4_net a = cidr ("10.1.0.0/16"), b = cidr ("10.1.5.0/24"), c = cidr ("10.2.0.0/16"),
                  all = cidr ("0.0.0.0/0"), host = cidr ("10.1.5.7/32");
  assert_true (ipam_contains (&a, IP (10, 1, 255, 255)));
  assert_false (ipam_contains (&a, IP (10, 2, 0, 0)));
  assert_true (ipam_contains (&all, IP (1, 2, 3, 4)));
  assert_true (ipam_contains (&host, IP (10, 1, 5, 7)));
  assert_false (ipam_contains (&host, IP (10, 1, 5, 8)));
  assert_true (ipam_overlaps (&a, &b));
  assert_true (ipam_overlaps (&b, &a));
  assert_false (ipam_overlaps (&a, &c));
  assert_false (ipam_overlaps (&b, &c));
  assert_true (ipam_overlaps (&all, &c));
  assert_true (ipam_overlaps (&host, &b));
  assert_true (ipam_overlaps (&a, &a));
  /* Adjacent blocks do not overlap. */
  struct ipv4_net l = cidr ("10.0.0.0/25"), r = cidr ("10.0.0.128/25");
  assert_false (ipam_overlaps (&l, &r));
}

static int pick (const char *subnet, const char *range, uint32_t gw, const uint32_t *used,
                 size_t nused, uint32_t *out)
{
  struct ipv4_net s = cidr (subnet), r;
  if (range)
    r = cidr (range);
  berr_t err = BERR_INIT;
  int ret = ipam_pick (&s, range ? &r : NULL, gw, used, nused, "net1", out, &err);
  if (ret < 0)
    {
      assert_int_equal (err.kind, BERR_CONFLICT);
      assert_string_equal (err.msg,
                           "no available IPv4 addresses on this network's address pools: net1");
      berr_release (&err);
    }
  return ret;
}

static void test_pick_basic (void **state)
{
  (void)state;
  uint32_t ip;
  /* .0 is the network, .1 the gateway: .2 comes first. */
  assert_int_equal (pick ("10.1.0.0/24", NULL, IP (10, 1, 0, 1), NULL, 0, &ip), 0);
  assert_int_equal (ip, IP (10, 1, 0, 2));
  /* The lowest free one, whatever the order of used[]. */
  uint32_t used[] = { IP (10, 1, 0, 4), IP (10, 1, 0, 2), IP (10, 1, 0, 3), IP (10, 1, 0, 6) };
  assert_int_equal (pick ("10.1.0.0/24", NULL, IP (10, 1, 0, 1), used, 4, &ip), 0);
  assert_int_equal (ip, IP (10, 1, 0, 5));
  /* A gateway elsewhere frees .1. */
  assert_int_equal (pick ("10.1.0.0/24", NULL, IP (10, 1, 0, 254), NULL, 0, &ip), 0);
  assert_int_equal (ip, IP (10, 1, 0, 1));
  /* Addresses in used[] from outside the subnet change nothing. */
  uint32_t other[] = { IP (10, 9, 0, 2) };
  assert_int_equal (pick ("10.1.0.0/24", NULL, IP (10, 1, 0, 1), other, 1, &ip), 0);
  assert_int_equal (ip, IP (10, 1, 0, 2));
}

static void test_pick_small_subnets (void **state)
{
  (void)state;
  uint32_t ip;
  /* /30: network .0, gateway .1, one address .2, broadcast .3. */
  assert_int_equal (pick ("10.1.0.0/30", NULL, IP (10, 1, 0, 1), NULL, 0, &ip), 0);
  assert_int_equal (ip, IP (10, 1, 0, 2));
  uint32_t u30[] = { IP (10, 1, 0, 2) };
  assert_int_equal (pick ("10.1.0.0/30", NULL, IP (10, 1, 0, 1), u30, 1, &ip), -1);
  /* /31 (RFC 3021): both addresses are usable, no network or broadcast address. */
  assert_int_equal (pick ("10.1.0.0/31", NULL, IP (10, 1, 0, 0), NULL, 0, &ip), 0);
  assert_int_equal (ip, IP (10, 1, 0, 1));
  uint32_t u31[] = { IP (10, 1, 0, 1) };
  assert_int_equal (pick ("10.1.0.0/31", NULL, IP (10, 1, 0, 0), u31, 1, &ip), -1);
  assert_int_equal (pick ("10.1.0.0/31", NULL, 0, NULL, 0, &ip), 0);
  assert_int_equal (ip, IP (10, 1, 0, 0));
  /* /32: the one address, unless the gateway has it. */
  assert_int_equal (pick ("10.1.0.7/32", NULL, 0, NULL, 0, &ip), 0);
  assert_int_equal (ip, IP (10, 1, 0, 7));
  assert_int_equal (pick ("10.1.0.7/32", NULL, IP (10, 1, 0, 7), NULL, 0, &ip), -1);
}

static void test_pick_range (void **state)
{
  (void)state;
  uint32_t ip;
  assert_int_equal (pick ("10.1.0.0/16", "10.1.5.0/24", IP (10, 1, 0, 1), NULL, 0, &ip), 0);
  assert_int_equal (ip, IP (10, 1, 5, 0)); /* inside the subnet, .0 of the range is an address */
  /* A range at the top of the subnet: the subnet's broadcast address stays out. */
  uint32_t used[255];
  for (int i = 0; i < 255; i++)
    used[i] = IP (10, 1, 255, i);
  assert_int_equal (pick ("10.1.0.0/16", "10.1.255.0/24", IP (10, 1, 0, 1), used, 254, &ip), 0);
  assert_int_equal (ip, IP (10, 1, 255, 254));
  assert_int_equal (pick ("10.1.0.0/16", "10.1.255.0/24", IP (10, 1, 0, 1), used, 255, &ip), -1);
  /* A range holding the gateway skips it. */
  assert_int_equal (pick ("10.1.0.0/24", "10.1.0.0/30", IP (10, 1, 0, 1), NULL, 0, &ip), 0);
  assert_int_equal (ip, IP (10, 1, 0, 2));
  /* A range outside the subnet has nothing to offer. */
  assert_int_equal (pick ("10.1.0.0/24", "10.2.0.0/24", IP (10, 1, 0, 1), NULL, 0, &ip), -1);
}

static void test_pick_full (void **state)
{
  (void)state;
  uint32_t ip;
  /* A /24 has 253 addresses besides network, broadcast and gateway. */
  uint32_t used[253];
  size_t n = 0;
  for (uint32_t a = IP (10, 1, 0, 2); a <= IP (10, 1, 0, 254); a++)
    used[n++] = a;
  assert_int_equal (n, 253);
  assert_int_equal (pick ("10.1.0.0/24", NULL, IP (10, 1, 0, 1), used, n, &ip), -1);
  /* One freed in the middle is found again. */
  used[100] = IP (10, 9, 9, 9);
  assert_int_equal (pick ("10.1.0.0/24", NULL, IP (10, 1, 0, 1), used, n, &ip), 0);
  assert_int_equal (ip, IP (10, 1, 0, 102));
}

static void test_pick_subnet (void **state)
{
  (void)state;
  struct ipv4_net pool = cidr ("10.211.0.0/16"), out;
  berr_t err = BERR_INIT;
  char buf[20];
  assert_int_equal (ipam_pick_subnet (&pool, 24, NULL, 0, &out, &err), 0);
  ipam_format_cidr (&out, buf);
  assert_string_equal (buf, "10.211.0.0/24");

  /* Taken: two /24s, a route covering 10.211.4.0/22, and something unrelated. */
  struct ipv4_net taken[] = { cidr ("10.211.0.0/24"), cidr ("10.211.1.0/24"),
                              cidr ("10.211.4.0/22"), cidr ("192.168.1.0/24") };
  assert_int_equal (ipam_pick_subnet (&pool, 24, taken, 4, &out, &err), 0);
  ipam_format_cidr (&out, buf);
  assert_string_equal (buf, "10.211.2.0/24");
  taken[0] = cidr ("10.211.2.0/23");
  assert_int_equal (ipam_pick_subnet (&pool, 24, taken, 4, &out, &err), 0);
  ipam_format_cidr (&out, buf);
  assert_string_equal (buf, "10.211.0.0/24");
  taken[1] = cidr ("10.211.0.0/24");
  assert_int_equal (ipam_pick_subnet (&pool, 24, taken, 4, &out, &err), 0);
  ipam_format_cidr (&out, buf);
  assert_string_equal (buf, "10.211.1.0/24");
  /* A taken host address (/32) rules out its whole /24. */
  struct ipv4_net hostaddr[] = { cidr ("10.211.0.77/32") };
  assert_int_equal (ipam_pick_subnet (&pool, 24, hostaddr, 1, &out, &err), 0);
  ipam_format_cidr (&out, buf);
  assert_string_equal (buf, "10.211.1.0/24");
  /* A block larger than the pool piece, covering the start of the pool. */
  struct ipv4_net big[] = { cidr ("10.211.0.0/17") };
  assert_int_equal (ipam_pick_subnet (&pool, 24, big, 1, &out, &err), 0);
  ipam_format_cidr (&out, buf);
  assert_string_equal (buf, "10.211.128.0/24");

  /* Everything taken. */
  struct ipv4_net whole[] = { cidr ("10.0.0.0/8") };
  assert_int_equal (ipam_pick_subnet (&pool, 24, whole, 1, &out, &err), -1);
  assert_int_equal (err.kind, BERR_CONFLICT);
  assert_non_null (strstr (err.msg, "all predefined address pools have been fully subnetted"));
  berr_release (&err);
  /* A small pool filled piece by piece. */
  struct ipv4_net small = cidr ("10.5.0.0/30");
  struct ipv4_net got[4];
  for (int i = 0; i < 4; i++)
    {
      assert_int_equal (ipam_pick_subnet (&small, 32, got, (size_t)i, &got[i], &err), 0);
      assert_int_equal (got[i].addr, IP (10, 5, 0, i));
    }
  assert_int_equal (ipam_pick_subnet (&small, 32, got, 4, &out, &err), -1);
  berr_release (&err);
  /* A prefix shorter than the pool cannot be cut from it. */
  assert_int_equal (ipam_pick_subnet (&pool, 8, NULL, 0, &out, &err), -1);
  assert_int_equal (err.kind, BERR_INVALID);
  berr_release (&err);
  /* The whole pool as one subnet. */
  assert_int_equal (ipam_pick_subnet (&pool, 16, NULL, 0, &out, &err), 0);
  assert_int_equal (out.addr, IP (10, 211, 0, 0));
  assert_int_equal (out.prefix, 16);
}

int main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_parse_ip),    cmocka_unit_test (test_parse_cidr),
    cmocka_unit_test (test_format_ip),   cmocka_unit_test (test_contains_overlaps),
    cmocka_unit_test (test_pick_basic),  cmocka_unit_test (test_pick_small_subnets),
    cmocka_unit_test (test_pick_range),  cmocka_unit_test (test_pick_full),
    cmocka_unit_test (test_pick_subnet),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
