/* test_store_network.c — network and endpoint rows in the store (src/store/store_network.c):
 * lookups, conflicts decided inside the write transaction, address allocation (also by 20
 * processes at once), removal rules and the schema upgrade from version 2. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "net/ipam.h"
#include "store/store.h"
#include "util/fs.h"
#include "util/json.h"

static char *root, *runroot;
static struct store *st;

static int setup (void **state)
{
  (void)state;
  char t1[] = "/tmp/berth-test-net-XXXXXX";
  char t2[] = "/tmp/berth-test-netrr-XXXXXX";
  if (mkdtemp (t1) == NULL || mkdtemp (t2) == NULL)
    return -1;
  root = xstrdup (t1);
  runroot = xstrdup (t2);
  berr_t err = BERR_INIT;
  if (store_open (root, runroot, &st, &err) < 0)
    {
      printf ("# %s\n", err.msg);
      return -1;
    }
  store_set_sync (st, false);
  return 0;
}

static int teardown (void **state)
{
  (void)state;
  store_close (st);
  st = NULL;
  berr_t err = BERR_INIT;
  fs_rm_rf (root, &err);
  fs_rm_rf (runroot, &err);
  berr_release (&err);
  free (root);
  free (runroot);
  return 0;
}

static void check_ok (int r, berr_t *err)
{
  if (r < 0)
    printf ("# unexpected error: %s\n", err->msg);
  assert_int_equal (r, 0);
}

/* A 64-hex id made of a prefix and a filler digit. */
static char *mkid (const char *prefix, char fill)
{
  char *id = xmalloc (65);
  memset (id, fill, 64);
  id[64] = '\0';
  memcpy (id, prefix, strlen (prefix));
  return id;
}

static void add_net (const char *id, const char *name, const char *subnet, const char *gw,
                     const char *range, const char *bridge)
{
  struct network_row n = {
    .id = (char *)id,
    .name = (char *)name,
    .driver = (char *)(subnet ? "bridge" : "host"),
    .created_ns = now_ns (),
    .bridge = (char *)bridge,
    .subnet = (char *)subnet,
    .gateway = (char *)gw,
    .ip_range = (char *)range,
  };
  berr_t err = BERR_INIT;
  check_ok (store_network_add (st, &n, &err), &err);
}

static void add_container (const char *id, const char *name)
{
  cleanup_json json_t *config = json_object ();
  cleanup_json json_t *state = json_object ();
  struct container_rec c = {
    .id = (char *)id,
    .name = (char *)name,
    .image_id = (char *)"sha256:0000",
    .created_ns = now_ns (),
    .config = config,
    .state = state,
  };
  berr_t err = BERR_INIT;
  check_ok (store_container_add (st, &c, &err), &err);
}

/* Add an endpoint; returns its address (to free) or NULL with *err set. */
static char *add_ep (struct store *s, const char *net, const char *ctr, const char *want,
                     berr_t *err)
{
  struct endpoint_row ep = {
    .network_id = (char *)net,
    .container_id = (char *)ctr,
    .host_ifname = (char *)"vbtest0",
  };
  char *ip = NULL;
  if (store_endpoint_add (s, &ep, want, &ip, err) < 0)
    return NULL;
  return ip;
}

static void expect_ep (const char *net, const char *ctr, const char *want, const char *ip)
{
  berr_t err = BERR_INIT;
  cleanup_free char *got = add_ep (st, net, ctr, want, &err);
  if (got == NULL)
    printf ("# %s\n", err.msg);
  assert_non_null (got);
  assert_string_equal (got, ip);
}

static void expect_ep_error (const char *net, const char *ctr, const char *want, int kind,
                             const char *msg)
{
  berr_t err = BERR_INIT;
  char *got = add_ep (st, net, ctr, want, &err);
  if (got)
    printf ("# unexpectedly got %s\n", got);
  assert_null (got);
  assert_int_equal (err.kind, kind);
  assert_string_equal (err.msg, msg);
  berr_release (&err);
}

/* ---------------- networks ---------------- */

static void test_network_lookup (void **state)
{
  (void)state;
  cleanup_free char *id1 = mkid ("abc1", '1'), *id2 = mkid ("abc2", '2'), *id3 = mkid ("def", '3');
  add_net (id1, "front", "10.50.0.0/24", "10.50.0.1", NULL, "br-a");
  add_net (id2, "back", "10.50.1.0/24", "10.50.1.1", "10.50.1.128/25", "br-b");
  /* A name that is also a prefix of another network's id: the name wins. */
  add_net (id3, "abc1", "10.50.2.0/24", "10.50.2.1", NULL, "br-c");

  struct network_row *n = NULL;
  berr_t err = BERR_INIT;
  check_ok (store_network_get (st, "front", &n, &err), &err);
  assert_string_equal (n->id, id1);
  assert_string_equal (n->subnet, "10.50.0.0/24");
  assert_string_equal (n->gateway, "10.50.0.1");
  assert_null (n->ip_range);
  assert_string_equal (n->bridge, "br-a");
  assert_string_equal (n->scope, "local");
  assert_true (json_is_object (n->labels));
  network_row_free (n);

  check_ok (store_network_get (st, id2, &n, &err), &err);
  assert_string_equal (n->name, "back");
  assert_string_equal (n->ip_range, "10.50.1.128/25");
  network_row_free (n);

  check_ok (store_network_get (st, "abc2", &n, &err), &err);
  assert_string_equal (n->name, "back");
  network_row_free (n);

  check_ok (store_network_get (st, "abc1", &n, &err), &err);
  assert_string_equal (n->name, "abc1");
  network_row_free (n);

  check_ok (store_network_get (st, "de", &n, &err), &err);
  assert_string_equal (n->name, "abc1");
  network_row_free (n);

  assert_int_equal (store_network_get (st, "abc", &n, &err), -1);
  assert_int_equal (err.kind, BERR_INVALID);
  assert_string_equal (err.msg, "network abc is ambiguous (2 matches found based on ID prefix)");
  berr_release (&err);

  assert_int_equal (store_network_get (st, "nope", &n, &err), -1);
  assert_int_equal (err.kind, BERR_NOT_FOUND);
  assert_string_equal (err.msg, "network nope not found");
  berr_release (&err);
  assert_int_equal (store_network_get (st, "", &n, &err), -1);
  assert_int_equal (err.kind, BERR_NOT_FOUND);
  berr_release (&err);
  /* Not a prefix match unless it is a prefix. */
  assert_int_equal (store_network_get (st, "bc1", &n, &err), -1);
  berr_release (&err);

  struct network_row **v = NULL;
  size_t len = 0;
  check_ok (store_network_list (st, &v, &len, &err), &err);
  assert_int_equal (len, 3);
  assert_string_equal (v[0]->name, "abc1");
  assert_string_equal (v[1]->name, "back");
  assert_string_equal (v[2]->name, "front");
  network_rows_free (v, len);
}

static void test_network_fields (void **state)
{
  (void)state;
  cleanup_free char *id = mkid ("77", '7');
  struct network_row n = {
    .id = id,
    .name = (char *)"full",
    .driver = (char *)"bridge",
    .created_ns = 1234567890123456789LL,
    .bridge = (char *)"br-777",
    .subnet = (char *)"10.60.0.0/16",
    .gateway = (char *)"10.60.0.1",
    .mtu = 1400,
    .internal = true,
    .attachable = true,
    .labels = json_pack ("{s:s}", "team", "db"),
    .options = json_pack ("{s:s}", "com.docker.network.driver.mtu", "1400"),
  };
  berr_t err = BERR_INIT;
  check_ok (store_network_add (st, &n, &err), &err);
  json_decref (n.labels);
  json_decref (n.options);
  struct network_row *g = NULL;
  check_ok (store_network_get (st, "full", &g, &err), &err);
  assert_int_equal (g->created_ns, 1234567890123456789LL);
  assert_int_equal (g->mtu, 1400);
  assert_true (g->internal);
  assert_true (g->attachable);
  assert_false (g->builtin);
  assert_string_equal (json_get_str (g->labels, "team"), "db");
  assert_string_equal (json_get_str (g->options, "com.docker.network.driver.mtu"), "1400");
  network_row_free (g);
}

static void test_network_conflicts (void **state)
{
  (void)state;
  cleanup_free char *a = mkid ("a", 'a'), *b = mkid ("b", 'b'), *c = mkid ("c", 'c'),
                    *d = mkid ("d", 'd'), *e = mkid ("e", 'e'), *f = mkid ("f", 'f');
  add_net (a, "one", "10.70.0.0/16", "10.70.0.1", NULL, "br-one");
  berr_t err = BERR_INIT;
  struct network_row n = {
    .id = b, .name = (char *)"one", .driver = (char *)"bridge", .subnet = (char *)"10.71.0.0/16"
  };
  assert_int_equal (store_network_add (st, &n, &err), -1);
  assert_int_equal (err.kind, BERR_CONFLICT);
  assert_string_equal (err.msg, "network with name one already exists");
  berr_release (&err);

  /* Inside, around, equal: all overlap. */
  static const char *const overlapping[] = { "10.70.5.0/24", "10.0.0.0/8", "10.70.0.0/16" };
  for (size_t i = 0; i < 3; i++)
    {
      n.name = (char *)"two";
      n.subnet = (char *)overlapping[i];
      assert_int_equal (store_network_add (st, &n, &err), -1);
      assert_int_equal (err.kind, BERR_CONFLICT);
      assert_string_equal (
          err.msg, "invalid pool request: Pool overlaps with other one on this address space");
      berr_release (&err);
    }
  /* The same bridge name twice. */
  n.subnet = (char *)"10.72.0.0/16";
  n.bridge = (char *)"br-one";
  assert_int_equal (store_network_add (st, &n, &err), -1);
  assert_int_equal (err.kind, BERR_CONFLICT);
  assert_string_equal (err.msg, "bridge name br-one is already used by network one");
  berr_release (&err);
  /* The same id twice. */
  n.id = a;
  n.bridge = NULL;
  assert_int_equal (store_network_add (st, &n, &err), -1);
  assert_int_equal (err.kind, BERR_CONFLICT);
  berr_release (&err);
  /* Nothing was written by the refused adds. */
  struct network_row **v = NULL;
  size_t len = 0;
  check_ok (store_network_list (st, &v, &len, &err), &err);
  assert_int_equal (len, 1);
  network_rows_free (v, len);

  /* Adjacent subnets and networks without one are fine. */
  add_net (c, "two", "10.71.0.0/16", "10.71.0.1", NULL, "br-two");
  add_net (d, "host", NULL, NULL, NULL, NULL);
  add_net (e, "none", NULL, NULL, NULL, NULL);
  add_net (f, "three", "10.69.255.0/24", "10.69.255.1", NULL, NULL);
}

/* ---------------- endpoints ---------------- */

static void test_endpoint_allocation (void **state)
{
  (void)state;
  cleanup_free char *net = mkid ("11", '1');
  add_net (net, "alloc", "10.80.0.0/24", "10.80.0.1", NULL, "br-alloc");
  char ids[5][65];
  for (int i = 0; i < 5; i++)
    {
      snprintf (ids[i], sizeof ids[i], "%064d", i + 1);
      char name[16];
      snprintf (name, sizeof name, "c%d", i + 1);
      add_container (ids[i], name);
    }
  expect_ep (net, ids[0], NULL, "10.80.0.2");
  expect_ep (net, ids[1], NULL, "10.80.0.3");
  expect_ep (net, ids[2], NULL, "10.80.0.4");

  struct endpoint_row **v = NULL;
  size_t len = 0;
  berr_t err = BERR_INIT;
  check_ok (store_endpoint_list (st, net, NULL, &v, &len, &err), &err);
  assert_int_equal (len, 3);
  assert_string_equal (v[0]->container_id, ids[0]);
  assert_string_equal (v[0]->container_name, "c1");
  assert_string_equal (v[0]->ip, "10.80.0.2");
  assert_string_equal (v[0]->mac, "02:42:0a:50:00:02");
  assert_string_equal (v[0]->host_ifname, "vbtest0");
  assert_true (json_is_array (v[0]->aliases));
  assert_null (v[0]->ports);
  assert_string_equal (v[2]->ip, "10.80.0.4");
  endpoint_rows_free (v, len);

  /* The address of a stopped container comes back, lowest first. */
  check_ok (store_endpoint_remove (st, ids[1], net, &err), &err);
  expect_ep (net, ids[3], NULL, "10.80.0.3");
  expect_ep (net, ids[4], NULL, "10.80.0.5");

  check_ok (store_endpoint_list (st, NULL, ids[3], &v, &len, &err), &err);
  assert_int_equal (len, 1);
  assert_string_equal (v[0]->ip, "10.80.0.3");
  endpoint_rows_free (v, len);

  /* Aliases, ports and a MAC from the caller are kept. */
  struct endpoint_row ep = {
    .network_id = net,
    .container_id = ids[1],
    .mac = (char *)"02:00:00:00:00:99",
    .aliases = json_pack ("[s, s]", "db", "primary"),
    .ports = json_pack ("{s:[{s:s, s:s}]}", "80/tcp", "HostIp", "0.0.0.0", "HostPort", "8080"),
  };
  cleanup_free char *ip = NULL;
  check_ok (store_endpoint_add (st, &ep, NULL, &ip, &err), &err);
  json_decref (ep.aliases);
  json_decref (ep.ports);
  assert_string_equal (ip, "10.80.0.6");
  check_ok (store_endpoint_list (st, net, ids[1], &v, &len, &err), &err);
  assert_int_equal (len, 1);
  assert_string_equal (v[0]->mac, "02:00:00:00:00:99");
  assert_int_equal (json_array_size (v[0]->aliases), 2);
  assert_string_equal (json_string_value (json_array_get (v[0]->aliases, 1)), "primary");
  assert_non_null (v[0]->ports);
  assert_non_null (json_object_get (v[0]->ports, "80/tcp"));
  endpoint_rows_free (v, len);

  /* A second endpoint of the same container on the same network is refused. */
  expect_ep_error (net, ids[1], NULL, BERR_CONFLICT,
                   "endpoint with name "
                   "0000000000000000000000000000000000000000000000000000000000000002"
                   " already exists in network alloc");
  /* Removing all of a container's endpoints (network NULL). */
  check_ok (store_endpoint_remove (st, ids[1], NULL, &err), &err);
  check_ok (store_endpoint_list (st, NULL, ids[1], &v, &len, &err), &err);
  assert_int_equal (len, 0);
  endpoint_rows_free (v, len);
  /* Deleting the container deletes its endpoints (ON DELETE CASCADE). */
  check_ok (store_container_delete (st, ids[0], &err), &err);
  check_ok (store_endpoint_list (st, net, NULL, &v, &len, &err), &err);
  assert_int_equal (len, 3);
  for (size_t i = 0; i < len; i++)
    assert_string_not_equal (v[i]->container_id, ids[0]);
  endpoint_rows_free (v, len);
}

static void test_endpoint_want_ip (void **state)
{
  (void)state;
  cleanup_free char *net = mkid ("22", '2'), *ranged = mkid ("33", '3'), *host = mkid ("44", '4');
  add_net (net, "want", "10.81.0.0/24", "10.81.0.1", NULL, "br-want");
  add_net (ranged, "ranged", "10.82.0.0/16", "10.82.0.1", "10.82.7.0/24", "br-ranged");
  add_net (host, "host", NULL, NULL, NULL, NULL);
  char ids[4][65];
  for (int i = 0; i < 4; i++)
    {
      snprintf (ids[i], sizeof ids[i], "%064x", 0xa0 + i);
      char name[16];
      snprintf (name, sizeof name, "w%d", i);
      add_container (ids[i], name);
    }
  expect_ep (net, ids[0], "10.81.0.10", "10.81.0.10");
  expect_ep_error (net, ids[1], "10.81.0.10", BERR_CONFLICT, "Address already in use");
  expect_ep_error (net, ids[1], "10.81.0.1", BERR_CONFLICT, "Address already in use");
  expect_ep_error (net, ids[1], "10.81.0.0", BERR_CONFLICT, "Address already in use");
  expect_ep_error (net, ids[1], "10.81.0.255", BERR_CONFLICT, "Address already in use");
  expect_ep_error (net, ids[1], "10.81.1.5", BERR_INVALID,
                   "no configured subnet or ip-range contain the IP address 10.81.1.5");
  expect_ep_error (net, ids[1], "10.81.0.x", BERR_INVALID, "invalid IPv4 address: 10.81.0.x");
  /* The automatic choice steps around a chosen address. */
  expect_ep (net, ids[1], NULL, "10.81.0.2");

  /* With an ip-range: a static address may lie outside the range, inside the subnet (as
   * Docker); outside the subnet it is refused; automatic ones come from the range. */
  expect_ep_error (ranged, ids[0], "10.83.0.9", BERR_INVALID,
                   "no configured subnet or ip-range contain the IP address 10.83.0.9");
  expect_ep (ranged, ids[0], "10.82.0.9", "10.82.0.9");
  expect_ep (ranged, ids[1], NULL, "10.82.7.0");

  /* No network, no container, no subnet. */
  expect_ep_error ("ffff", ids[2], NULL, BERR_NOT_FOUND, "network ffff not found");
  cleanup_free char *ghost = mkid ("9", '9');
  expect_ep_error (net, ghost, NULL, BERR_NOT_FOUND,
                   "No such container: "
                   "9999999999999999999999999999999999999999999999999999999999999999");
  expect_ep_error (host, ids[2], NULL, BERR_INVALID, "network host has no IPv4 subnet");
}

static void test_endpoint_full_network (void **state)
{
  (void)state;
  cleanup_free char *net = mkid ("55", '5');
  add_net (net, "tiny", "10.83.0.0/30", "10.83.0.1", NULL, "br-tiny");
  char a[65], b[65];
  snprintf (a, sizeof a, "%064d", 7);
  snprintf (b, sizeof b, "%064d", 8);
  add_container (a, "t1");
  add_container (b, "t2");
  expect_ep (net, a, NULL, "10.83.0.2");
  expect_ep_error (net, b, NULL, BERR_CONFLICT,
                   "no available IPv4 addresses on this network's address pools: tiny");
  berr_t err = BERR_INIT;
  check_ok (store_endpoint_remove (st, a, NULL, &err), &err);
  expect_ep (net, b, NULL, "10.83.0.2");
}

static void test_network_remove (void **state)
{
  (void)state;
  cleanup_free char *net = mkid ("66", '6');
  add_net (net, "busy", "10.84.0.0/24", "10.84.0.1", NULL, "br-busy");
  char c[65];
  snprintf (c, sizeof c, "%064d", 9);
  add_container (c, "r1");
  expect_ep (net, c, NULL, "10.84.0.2");
  berr_t err = BERR_INIT;
  assert_int_equal (store_network_remove (st, net, &err), -1);
  assert_int_equal (err.kind, BERR_CONFLICT);
  cleanup_free char *want
      = xasprintf ("error while removing network: network busy id %s has active endpoints", net);
  assert_string_equal (err.msg, want);
  berr_release (&err);
  struct network_row *n = NULL;
  check_ok (store_network_get (st, "busy", &n, &err), &err);
  network_row_free (n);

  check_ok (store_endpoint_remove (st, c, net, &err), &err);
  check_ok (store_network_remove (st, net, &err), &err);
  assert_int_equal (store_network_get (st, "busy", &n, &err), -1);
  assert_int_equal (err.kind, BERR_NOT_FOUND);
  berr_release (&err);
  assert_int_equal (store_network_remove (st, net, &err), -1);
  assert_int_equal (err.kind, BERR_NOT_FOUND);
  berr_release (&err);
  /* The name and subnet are free again. */
  cleanup_free char *again = mkid ("67", '6');
  add_net (again, "busy", "10.84.0.0/24", "10.84.0.1", NULL, "br-busy");
}

/* ---------------- concurrency ---------------- */

#define NPROC 20

static void test_concurrent_allocation (void **state)
{
  (void)state;
  cleanup_free char *net = mkid ("88", '8');
  add_net (net, "race", "10.85.0.0/24", "10.85.0.1", NULL, "br-race");
  char ids[NPROC][65];
  for (int i = 0; i < NPROC; i++)
    {
      snprintf (ids[i], sizeof ids[i], "%064d", 100 + i);
      char name[16];
      snprintf (name, sizeof name, "p%d", i);
      add_container (ids[i], name);
    }
  int fds[2];
  assert_int_equal (pipe (fds), 0);
  pid_t pids[NPROC];
  for (int i = 0; i < NPROC; i++)
    {
      pids[i] = fork ();
      assert_true (pids[i] >= 0);
      if (pids[i] == 0)
        {
          /* A berth process of its own: its own connection, its own transaction. */
          close (fds[0]);
          struct store *s = NULL;
          berr_t err = BERR_INIT;
          char line[128];
          char *ip = NULL;
          if (store_open (root, runroot, &s, &err) < 0
              || (ip = add_ep (s, net, ids[i], NULL, &err)) == NULL)
            snprintf (line, sizeof line, "ERR %.100s\n", err.msg ? err.msg : "?");
          else
            snprintf (line, sizeof line, "%s\n", ip);
          if (write (fds[1], line, strlen (line)) < 0)
            _exit (2);
          store_close (s);
          _exit (0);
        }
    }
  close (fds[1]);
  for (int i = 0; i < NPROC; i++)
    {
      int status;
      assert_int_equal (waitpid (pids[i], &status, 0), pids[i]);
      assert_true (WIFEXITED (status) && WEXITSTATUS (status) == 0);
    }
  cleanup_free char *out = NULL;
  size_t len = 0;
  berr_t err = BERR_INIT;
  check_ok (fs_read_fd (fds[0], 1 << 16, &out, &len, &err), &err);
  close (fds[0]);
  bool seen[256] = { false };
  int n = 0;
  char *save = NULL;
  for (char *l = strtok_r (out, "\n", &save); l; l = strtok_r (NULL, "\n", &save))
    {
      if (strncmp (l, "ERR", 3) == 0)
        printf ("# %s\n", l);
      uint32_t ip;
      assert_int_equal (ipam_parse_ip (l, &ip, &err), 0);
      assert_int_equal (ip >> 8, (10u << 16) | (85u << 8) | 0u);
      /* Distinct, and together exactly the 20 lowest: .2 … .21. */
      assert_false (seen[ip & 0xff]);
      seen[ip & 0xff] = true;
      assert_in_range (ip & 0xff, 2, 1 + NPROC);
      n++;
    }
  assert_int_equal (n, NPROC);
  struct endpoint_row **v = NULL;
  size_t nv = 0;
  check_ok (store_endpoint_list (st, net, NULL, &v, &nv, &err), &err);
  assert_int_equal (nv, NPROC);
  endpoint_rows_free (v, nv);
}

/* Parallel creates of one name: exactly one wins, the others get Docker's message. */
static void test_concurrent_network_add (void **state)
{
  (void)state;
  int fds[2];
  assert_int_equal (pipe (fds), 0);
  pid_t pids[10];
  for (int i = 0; i < 10; i++)
    {
      pids[i] = fork ();
      assert_true (pids[i] >= 0);
      if (pids[i] == 0)
        {
          close (fds[0]);
          struct store *s = NULL;
          berr_t err = BERR_INIT;
          char id[65], subnet[32], line[160];
          snprintf (id, sizeof id, "%064d", 500 + i);
          snprintf (subnet, sizeof subnet, "10.86.%d.0/24", i);
          struct network_row n
              = { .id = id, .name = (char *)"same", .driver = (char *)"bridge", .subnet = subnet };
          if (store_open (root, runroot, &s, &err) < 0 || store_network_add (s, &n, &err) < 0)
            snprintf (line, sizeof line, "ERR %.140s\n", err.msg ? err.msg : "?");
          else
            snprintf (line, sizeof line, "OK\n");
          if (write (fds[1], line, strlen (line)) < 0)
            _exit (2);
          store_close (s);
          _exit (0);
        }
    }
  close (fds[1]);
  for (int i = 0; i < 10; i++)
    {
      int status;
      assert_int_equal (waitpid (pids[i], &status, 0), pids[i]);
      assert_true (WIFEXITED (status) && WEXITSTATUS (status) == 0);
    }
  cleanup_free char *out = NULL;
  size_t len = 0;
  berr_t err = BERR_INIT;
  check_ok (fs_read_fd (fds[0], 1 << 16, &out, &len, &err), &err);
  close (fds[0]);
  int ok = 0, dup = 0;
  char *save = NULL;
  for (char *l = strtok_r (out, "\n", &save); l; l = strtok_r (NULL, "\n", &save))
    {
      if (strcmp (l, "OK") == 0)
        ok++;
      else if (strcmp (l, "ERR network with name same already exists") == 0)
        dup++;
      else
        printf ("# %s\n", l);
    }
  assert_int_equal (ok, 1);
  assert_int_equal (dup, 9);
}

/* ---------------- schema upgrade ---------------- */

static void test_upgrade_from_v2 (void **state)
{
  (void)state;
  char c[65];
  snprintf (c, sizeof c, "%064d", 42);
  add_container (c, "old");
  store_close (st);
  st = NULL;
  /* Make the database what berth with schema 2 left: no network tables, version 2. */
  {
    cleanup_free char *path = xasprintf ("%s/berth.db", root);
    sqlite3 *db = NULL;
    assert_int_equal (sqlite3_open (path, &db), SQLITE_OK);
    assert_int_equal (sqlite3_exec (db,
                                    "DROP TABLE endpoints; DROP TABLE networks;"
                                    "UPDATE meta SET value = '2' WHERE key = 'schema_version';",
                                    NULL, NULL, NULL),
                      SQLITE_OK);
    sqlite3_close (db);
  }
  berr_t err = BERR_INIT;
  check_ok (store_open (root, runroot, &st, &err), &err);
  /* The old rows are there, the new tables work, and the version moved on. */
  struct container_rec *rec = NULL;
  check_ok (store_container_lookup (st, "old", &rec, &err), &err);
  container_rec_free (rec);
  cleanup_free char *net = mkid ("99", '9');
  add_net (net, "upgraded", "10.87.0.0/24", "10.87.0.1", NULL, "br-up");
  expect_ep (net, c, NULL, "10.87.0.2");
  store_close (st);
  st = NULL;
  {
    cleanup_free char *path = xasprintf ("%s/berth.db", root);
    sqlite3 *db = NULL;
    sqlite3_stmt *q = NULL;
    assert_int_equal (sqlite3_open (path, &db), SQLITE_OK);
    assert_int_equal (sqlite3_prepare_v2 (db, "SELECT value FROM meta WHERE key = 'schema_version'",
                                          -1, &q, NULL),
                      SQLITE_OK);
    assert_int_equal (sqlite3_step (q), SQLITE_ROW);
    assert_string_equal ((const char *)sqlite3_column_text (q, 0), "5");
    sqlite3_finalize (q);
    sqlite3_close (db);
  }
  check_ok (store_open (root, runroot, &st, &err), &err);
}

int main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown (test_network_lookup, setup, teardown),
    cmocka_unit_test_setup_teardown (test_network_fields, setup, teardown),
    cmocka_unit_test_setup_teardown (test_network_conflicts, setup, teardown),
    cmocka_unit_test_setup_teardown (test_endpoint_allocation, setup, teardown),
    cmocka_unit_test_setup_teardown (test_endpoint_want_ip, setup, teardown),
    cmocka_unit_test_setup_teardown (test_endpoint_full_network, setup, teardown),
    cmocka_unit_test_setup_teardown (test_network_remove, setup, teardown),
    cmocka_unit_test_setup_teardown (test_concurrent_allocation, setup, teardown),
    cmocka_unit_test_setup_teardown (test_concurrent_network_add, setup, teardown),
    cmocka_unit_test_setup_teardown (test_upgrade_from_v2, setup, teardown),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
