/* store_network.c — network and endpoint rows (see the networks section of store.h).
 *
 * Every check that decides between two writers (a taken name, an overlapping subnet, a free
 * address, active endpoints) runs inside the BEGIN IMMEDIATE transaction that writes, so
 * parallel berth processes never both win. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "net/ipam.h"
#include "store.h"
#include "store_int.h"
#include "util/json.h"

void network_row_free (struct network_row *n)
{
  if (n == NULL)
    return;
  free (n->id);
  free (n->name);
  free (n->driver);
  free (n->scope);
  free (n->bridge);
  free (n->subnet);
  free (n->gateway);
  free (n->ip_range);
  if (n->labels)
    json_decref (n->labels);
  if (n->options)
    json_decref (n->options);
  free (n);
}

void network_rows_free (struct network_row **v, size_t n)
{
  for (size_t i = 0; i < n; i++)
    network_row_free (v[i]);
  free (v);
}

void endpoint_row_free (struct endpoint_row *r)
{
  if (r == NULL)
    return;
  free (r->network_id);
  free (r->container_id);
  free (r->container_name);
  free (r->ip);
  free (r->mac);
  free (r->host_ifname);
  if (r->aliases)
    json_decref (r->aliases);
  if (r->ports)
    json_decref (r->ports);
  free (r);
}

void endpoint_rows_free (struct endpoint_row **v, size_t n)
{
  for (size_t i = 0; i < n; i++)
    endpoint_row_free (v[i]);
  free (v);
}

static char *dup_or_null (const char *s) { return s ? xstrdup (s) : NULL; }

/* A JSON column of the given type (json_is_object / json_is_array), or an empty one. */
static json_t *col_json_typed (sqlite3_stmt *st, int i, bool object)
{
  const char *t = col_text (st, i);
  json_t *j = t ? json_loads (t, 0, NULL) : NULL;
  if (object ? json_is_object (j) : json_is_array (j))
    return j;
  if (j)
    json_decref (j);
  return object ? json_object () : json_array ();
}

static const char network_cols[]
    = "SELECT id, name, driver, scope, created, bridge, subnet, gateway, ip_range, mtu, "
      "internal, attachable, builtin, labels, options FROM networks ";

static struct network_row *network_from_row (sqlite3_stmt *st)
{
  struct network_row *n = xzalloc (sizeof *n);
  n->id = xstrdup (col_text (st, 0));
  n->name = xstrdup (col_text (st, 1));
  n->driver = xstrdup (col_text (st, 2));
  n->scope = xstrdup (col_text (st, 3) ? col_text (st, 3) : "local");
  n->created_ns = sqlite3_column_int64 (st, 4);
  n->bridge = dup_or_null (col_text (st, 5));
  n->subnet = dup_or_null (col_text (st, 6));
  n->gateway = dup_or_null (col_text (st, 7));
  n->ip_range = dup_or_null (col_text (st, 8));
  n->mtu = sqlite3_column_int (st, 9);
  n->internal = sqlite3_column_int (st, 10) != 0;
  n->attachable = sqlite3_column_int (st, 11) != 0;
  n->builtin = sqlite3_column_int (st, 12) != 0;
  n->labels = col_json_typed (st, 13, true);
  n->options = col_json_typed (st, 14, true);
  return n;
}

/* Rows of a query with one optional text parameter. */
static int network_query (struct store *s, const char *where, const char *arg,
                          struct network_row ***out, size_t *n, berr_t *err)
{
  cleanup_free char *sql = xasprintf ("%s%s", network_cols, where);
  cleanup_stmt sqlite3_stmt *st = db_prep (s, sql, err);
  if (st == NULL)
    return -1;
  if (arg)
    bind_text (st, 1, arg);
  size_t cap = 8, len = 0;
  struct network_row **v = xcalloc (cap, sizeof *v);
  int rc;
  while ((rc = sqlite3_step (st)) == SQLITE_ROW)
    {
      if (len == cap)
        v = xrealloc (v, (cap *= 2) * sizeof *v);
      v[len++] = network_from_row (st);
    }
  if (rc != SQLITE_DONE)
    {
      network_rows_free (v, len);
      return db_err (s, err, "list networks");
    }
  *out = v;
  *n = len;
  return 0;
}

/* 0 found (*out set), 1 not found, -1 error. */
static int find_network_by_id (struct store *s, const char *id, struct network_row **out,
                               berr_t *err)
{
  struct network_row **v = NULL;
  size_t n = 0;
  if (network_query (s, "WHERE id = ?1", id, &v, &n, err) < 0)
    return -1;
  int r = 1;
  if (n > 0)
    {
      *out = v[0];
      v[0] = NULL;
      r = 0;
    }
  network_rows_free (v, n);
  return r;
}

int store_network_get (struct store *s, const char *name_or_id, struct network_row **out,
                       berr_t *err)
{
  if (name_or_id == NULL || name_or_id[0] == '\0')
    return berr_setk (err, BERR_NOT_FOUND, 0, "network %s not found", name_or_id ? name_or_id : "");
  /* Docker's order: full id, exact name, then a unique id prefix. */
  struct network_row **v = NULL;
  size_t n = 0;
  if (network_query (s, "WHERE id = ?1 OR name = ?1 ORDER BY id = ?1 DESC", name_or_id, &v, &n, err)
      < 0)
    return -1;
  if (n == 0 && str_is_hex (name_or_id, strlen (name_or_id)))
    {
      network_rows_free (v, n);
      v = NULL;
      if (network_query (s, "WHERE substr(id, 1, length(?1)) = ?1 ORDER BY id", name_or_id, &v, &n,
                         err)
          < 0)
        return -1;
      if (n > 1)
        {
          network_rows_free (v, n);
          return berr_setk (err, BERR_INVALID, 0,
                            "network %s is ambiguous (%zu matches found based on ID prefix)",
                            name_or_id, n);
        }
    }
  if (n == 0)
    {
      network_rows_free (v, n);
      return berr_setk (err, BERR_NOT_FOUND, 0, "network %s not found", name_or_id);
    }
  *out = v[0];
  v[0] = NULL;
  network_rows_free (v, n);
  return 0;
}

int store_network_list (struct store *s, struct network_row ***out, size_t *n, berr_t *err)
{
  return network_query (s, "ORDER BY name", NULL, out, n, err);
}

/* Under the write lock: the conflicts store_network_add refuses. */
static int add_conflicts (struct store *s, const struct network_row *n, berr_t *err)
{
  struct network_row **v = NULL;
  size_t len = 0;
  if (network_query (s, "", NULL, &v, &len, err) < 0)
    return -1;
  struct ipv4_net mine = { 0, 0 };
  bool has_subnet = false;
  if (n->subnet)
    {
      if (ipam_parse_cidr (n->subnet, false, &mine, err) < 0)
        {
          network_rows_free (v, len);
          return -1;
        }
      has_subnet = true;
    }
  int r = 0;
  for (size_t i = 0; i < len && r == 0; i++)
    {
      struct network_row *o = v[i];
      if (strcmp (o->name, n->name) == 0)
        r = berr_setk (err, BERR_CONFLICT, 0, "network with name %s already exists", n->name);
      else if (strcmp (o->id, n->id) == 0)
        r = berr_setk (err, BERR_CONFLICT, 0, "network with id %s already exists", n->id);
      else if (n->bridge && o->bridge && strcmp (o->bridge, n->bridge) == 0)
        r = berr_setk (err, BERR_CONFLICT, 0, "bridge name %s is already used by network %s",
                       n->bridge, o->name);
      else if (has_subnet && o->subnet)
        {
          struct ipv4_net theirs;
          berr_t ignore = BERR_INIT;
          if (ipam_parse_cidr (o->subnet, false, &theirs, &ignore) < 0)
            berr_release (&ignore);
          else if (ipam_overlaps (&mine, &theirs))
            r = berr_setk (err, BERR_CONFLICT, 0,
                           "invalid pool request: Pool overlaps with other one on this address "
                           "space");
        }
    }
  network_rows_free (v, len);
  return r;
}

int store_network_add (struct store *s, const struct network_row *n, berr_t *err)
{
  if (n->id == NULL || n->name == NULL || n->driver == NULL)
    return berr_setk (err, BERR_INVALID, 0, "store: a network needs an id, a name and a driver");
  cleanup_free char *labels = n->labels ? json_dump_compact (n->labels) : xstrdup ("{}");
  cleanup_free char *options = n->options ? json_dump_compact (n->options) : xstrdup ("{}");
  if (db_begin_write (s, err) < 0)
    return -1;
  if (add_conflicts (s, n, err) < 0)
    {
      db_rollback (s);
      return -1;
    }
  {
    cleanup_stmt sqlite3_stmt *st = db_prep (
        s,
        "INSERT INTO networks(id, name, driver, scope, created, bridge, subnet, gateway, "
        "ip_range, mtu, internal, attachable, builtin, labels, options) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        err);
    if (st == NULL)
      {
        db_rollback (s);
        return -1;
      }
    bind_text (st, 1, n->id);
    bind_text (st, 2, n->name);
    bind_text (st, 3, n->driver);
    bind_text (st, 4, n->scope ? n->scope : "local");
    sqlite3_bind_int64 (st, 5, n->created_ns);
    bind_text (st, 6, n->bridge);
    bind_text (st, 7, n->subnet);
    bind_text (st, 8, n->gateway);
    bind_text (st, 9, n->ip_range);
    sqlite3_bind_int (st, 10, n->mtu);
    sqlite3_bind_int (st, 11, n->internal);
    sqlite3_bind_int (st, 12, n->attachable);
    sqlite3_bind_int (st, 13, n->builtin);
    bind_text (st, 14, labels);
    bind_text (st, 15, options);
    if (sqlite3_step (st) != SQLITE_DONE)
      {
        db_err (s, err, "add network");
        db_rollback (s);
        return -1;
      }
  }
  if (db_exec (s, "COMMIT", err) < 0)
    {
      db_rollback (s);
      return -1;
    }
  return 0;
}

/* Number of endpoints on a network, or -1. */
static int64_t endpoint_count (struct store *s, const char *network_id, berr_t *err)
{
  cleanup_stmt sqlite3_stmt *st
      = db_prep (s, "SELECT count(*) FROM endpoints WHERE network_id = ?", err);
  if (st == NULL)
    return -1;
  bind_text (st, 1, network_id);
  if (sqlite3_step (st) != SQLITE_ROW)
    return db_err (s, err, "count endpoints");
  return sqlite3_column_int64 (st, 0);
}

int store_network_remove (struct store *s, const char *id, berr_t *err)
{
  if (db_begin_write (s, err) < 0)
    return -1;
  struct network_row *n = NULL;
  int r = find_network_by_id (s, id, &n, err);
  if (r != 0)
    {
      db_rollback (s);
      return r < 0 ? -1 : berr_setk (err, BERR_NOT_FOUND, 0, "network %s not found", id);
    }
  int64_t active = endpoint_count (s, id, err);
  if (active != 0)
    {
      db_rollback (s);
      if (active > 0)
        berr_setk (err, BERR_CONFLICT, 0,
                   "error while removing network: network %s id %s has active endpoints", n->name,
                   n->id);
      network_row_free (n);
      return -1;
    }
  network_row_free (n);
  {
    cleanup_stmt sqlite3_stmt *st = db_prep (s, "DELETE FROM networks WHERE id = ?", err);
    if (st == NULL)
      {
        db_rollback (s);
        return -1;
      }
    bind_text (st, 1, id);
    if (sqlite3_step (st) != SQLITE_DONE)
      {
        db_err (s, err, "remove network");
        db_rollback (s);
        return -1;
      }
  }
  if (db_exec (s, "COMMIT", err) < 0)
    {
      db_rollback (s);
      return -1;
    }
  return 0;
}

/* ---------- endpoints ---------- */

/* The addresses of a network's endpoints, parsed. */
static int used_addresses (struct store *s, const char *network_id, uint32_t **out, size_t *n,
                           berr_t *err)
{
  cleanup_stmt sqlite3_stmt *st = db_prep (s, "SELECT ip FROM endpoints WHERE network_id = ?", err);
  if (st == NULL)
    return -1;
  bind_text (st, 1, network_id);
  size_t cap = 16, len = 0;
  uint32_t *v = xcalloc (cap, sizeof *v);
  int rc;
  while ((rc = sqlite3_step (st)) == SQLITE_ROW)
    {
      uint32_t ip;
      berr_t ignore = BERR_INIT;
      if (ipam_parse_ip (col_text (st, 0), &ip, &ignore) < 0)
        {
          /* Not ours to reuse either way: a row we cannot read keeps nothing free. */
          berr_release (&ignore);
          continue;
        }
      if (len == cap)
        v = xrealloc (v, (cap *= 2) * sizeof *v);
      v[len++] = ip;
    }
  if (rc != SQLITE_DONE)
    {
      free (v);
      return db_err (s, err, "list endpoint addresses");
    }
  *out = v;
  *n = len;
  return 0;
}

/* The address for a new endpoint on n, under the write lock. */
static int choose_address (struct store *s, const struct network_row *n, const char *want_ip,
                           uint32_t *ip, berr_t *err)
{
  struct ipv4_net subnet, range;
  uint32_t gw = 0;
  if (n->subnet == NULL)
    return berr_setk (err, BERR_INVALID, 0, "network %s has no IPv4 subnet", n->name);
  if (ipam_parse_cidr (n->subnet, false, &subnet, err) < 0
      || (n->ip_range && ipam_parse_cidr (n->ip_range, false, &range, err) < 0)
      || (n->gateway && ipam_parse_ip (n->gateway, &gw, err) < 0))
    return berr_wrap (err, "network %s", n->name);
  cleanup_free uint32_t *used = NULL;
  size_t nused = 0;
  if (used_addresses (s, n->id, &used, &nused, err) < 0)
    return -1;
  if (want_ip == NULL)
    return ipam_pick (&subnet, n->ip_range ? &range : NULL, gw, used, nused, n->name, ip, err);

  uint32_t want;
  if (ipam_parse_ip (want_ip, &want, err) < 0)
    return -1;
  /* As Docker: a static address may lie anywhere in the subnet; the range only bounds the
   * addresses chosen for the user. */
  if (!ipam_contains (&subnet, want))
    return berr_setk (err, BERR_INVALID, 0,
                      "no configured subnet or ip-range contain the IP address %s", want_ip);
  /* The gateway, and the network and broadcast addresses where the subnet has them, are as
   * taken as another endpoint's address. */
  uint32_t m = subnet.prefix == 0 ? 0 : 0xffffffffu << (32 - subnet.prefix);
  bool reserved
      = want == gw || (subnet.prefix < 31 && (want == subnet.addr || want == (subnet.addr | ~m)));
  for (size_t i = 0; i < nused && !reserved; i++)
    reserved = used[i] == want;
  if (reserved)
    return berr_setk (err, BERR_CONFLICT, 0, "Address already in use");
  *ip = want;
  return 0;
}

int store_endpoint_add (struct store *s, const struct endpoint_row *ep, const char *want_ip,
                        char **ip_out, berr_t *err)
{
  cleanup_free char *aliases = ep->aliases ? json_dump_compact (ep->aliases) : xstrdup ("[]");
  cleanup_free char *ports = ep->ports ? json_dump_compact (ep->ports) : NULL;
  if (db_begin_write (s, err) < 0)
    return -1;
  struct network_row *n = NULL;
  int r = find_network_by_id (s, ep->network_id, &n, err);
  if (r != 0)
    {
      db_rollback (s);
      return r < 0 ? -1
                   : berr_setk (err, BERR_NOT_FOUND, 0, "network %s not found", ep->network_id);
    }
  uint32_t ip = 0;
  if (choose_address (s, n, want_ip, &ip, err) < 0)
    {
      network_row_free (n);
      db_rollback (s);
      return -1;
    }
  char ipbuf[16];
  ipam_format_ip (ip, ipbuf);
  /* Without a MAC from the caller, Docker's old rule: 02:42 and the four bytes of the address. */
  char macbuf[18];
  snprintf (macbuf, sizeof macbuf, "02:42:%02x:%02x:%02x:%02x", ip >> 24, (ip >> 16) & 0xff,
            (ip >> 8) & 0xff, ip & 0xff);
  {
    cleanup_stmt sqlite3_stmt *st
        = db_prep (s,
                   "INSERT INTO endpoints(network_id, container_id, ip, mac, host_ifname, "
                   "aliases, ports, created) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                   err);
    if (st == NULL)
      {
        network_row_free (n);
        db_rollback (s);
        return -1;
      }
    bind_text (st, 1, ep->network_id);
    bind_text (st, 2, ep->container_id);
    bind_text (st, 3, ipbuf);
    bind_text (st, 4, ep->mac ? ep->mac : macbuf);
    bind_text (st, 5, ep->host_ifname);
    bind_text (st, 6, aliases);
    bind_text (st, 7, ports);
    sqlite3_bind_int64 (st, 8, ep->created_ns ? ep->created_ns : now_ns ());
    int rc = sqlite3_step (st);
    if (rc != SQLITE_DONE)
      {
        if (sqlite3_extended_errcode (s->db) == SQLITE_CONSTRAINT_PRIMARYKEY)
          berr_setk (err, BERR_CONFLICT, 0, "endpoint with name %s already exists in network %s",
                     ep->container_id, n->name);
        else if (sqlite3_extended_errcode (s->db) == SQLITE_CONSTRAINT_FOREIGNKEY)
          berr_setk (err, BERR_NOT_FOUND, 0, "No such container: %s", ep->container_id);
        else
          db_err (s, err, "add endpoint");
        network_row_free (n);
        db_rollback (s);
        return -1;
      }
  }
  network_row_free (n);
  if (db_exec (s, "COMMIT", err) < 0)
    {
      db_rollback (s);
      return -1;
    }
  if (ip_out)
    *ip_out = xstrdup (ipbuf);
  return 0;
}

int store_endpoint_remove (struct store *s, const char *container_id, const char *network_id,
                           berr_t *err)
{
  cleanup_stmt sqlite3_stmt *st = db_prep (
      s, "DELETE FROM endpoints WHERE container_id = ?1 AND (?2 IS NULL OR network_id = ?2)", err);
  if (st == NULL)
    return -1;
  bind_text (st, 1, container_id);
  bind_text (st, 2, network_id);
  /* One statement is its own transaction; BEGIN IMMEDIATE would add nothing. */
  if (sqlite3_step (st) != SQLITE_DONE)
    return db_err (s, err, "remove endpoints");
  return 0;
}

static struct endpoint_row *endpoint_from_row (sqlite3_stmt *st)
{
  struct endpoint_row *r = xzalloc (sizeof *r);
  r->network_id = xstrdup (col_text (st, 0));
  r->container_id = xstrdup (col_text (st, 1));
  r->container_name = dup_or_null (col_text (st, 2));
  r->ip = xstrdup (col_text (st, 3));
  r->mac = dup_or_null (col_text (st, 4));
  r->host_ifname = dup_or_null (col_text (st, 5));
  r->aliases = col_json_typed (st, 6, false);
  const char *p = col_text (st, 7);
  r->ports = p ? json_loads (p, 0, NULL) : NULL;
  r->created_ns = sqlite3_column_int64 (st, 8);
  return r;
}

int store_endpoint_list (struct store *s, const char *network_id, const char *container_id,
                         struct endpoint_row ***out, size_t *n, berr_t *err)
{
  cleanup_stmt sqlite3_stmt *st
      = db_prep (s,
                 "SELECT e.network_id, e.container_id, c.name, e.ip, e.mac, e.host_ifname, "
                 "e.aliases, e.ports, e.created FROM endpoints e "
                 "LEFT JOIN containers c ON c.id = e.container_id "
                 "WHERE (?1 IS NULL OR e.network_id = ?1) AND (?2 IS NULL OR e.container_id = ?2) "
                 "ORDER BY e.created, e.rowid",
                 err);
  if (st == NULL)
    return -1;
  bind_text (st, 1, network_id);
  bind_text (st, 2, container_id);
  size_t cap = 8, len = 0;
  struct endpoint_row **v = xcalloc (cap, sizeof *v);
  int rc;
  while ((rc = sqlite3_step (st)) == SQLITE_ROW)
    {
      if (len == cap)
        v = xrealloc (v, (cap *= 2) * sizeof *v);
      v[len++] = endpoint_from_row (st);
    }
  if (rc != SQLITE_DONE)
    {
      endpoint_rows_free (v, len);
      return db_err (s, err, "list endpoints");
    }
  *out = v;
  *n = len;
  return 0;
}
