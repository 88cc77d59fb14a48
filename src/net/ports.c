/* ports.c — Docker's PortBindings resolved into host ports reserved by real sockets.
 *
 * Exclusivity is the point of a reservation: two containers (two berth processes racing for
 * -p 8080:80) must never both get a port.  On Linux two TCP sockets that both set SO_REUSEADDR
 * and neither listens may bind the same address and port, so a reservation socket cannot simply
 * set SO_REUSEADDR.  It binds without it; only when that fails with EADDRINUSE does it try again
 * with SO_REUSEADDR, which succeeds only when every holder of the port is itself a reusable,
 * non-listening socket — in practice the TIME_WAIT remains of a server that just stopped — and
 * then clears the option, so that every later bind conflicts with the reservation.  (The kernel
 * checks the option of both sockets at bind time; the port's bucket already lost its "fast
 * reuse" mark when that server listened, so clearing ours is enough.)  UDP and SCTP sockets bind
 * plainly: SO_REUSEADDR would let two UDP sockets share a port outright. */
#include "net/ports.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "util/util.h"

/* How many times a free port is drawn for an "all addresses" binding whose IPv6 twin finds the
 * drawn port taken. */
#define EPHEMERAL_TRIES 32

struct want
{
  char proto[8];
  uint16_t ctr_port;
  char host_ip[64]; /* as given */
  bool all;         /* "": 0.0.0.0, and [::] too where IPv6 works */
  int family;       /* of a specific address */
  union
  {
    struct in_addr v4;
    struct in6_addr v6;
  } addr;
  uint16_t lo, hi; /* 0-0: any free port; lo == hi: that port; else the first free of the range */
  size_t order;
};

struct wants
{
  struct want *v;
  size_t n;
};

static void wants_add (struct wants *w, const struct want *x)
{
  w->v = xrealloc (w->v, (w->n + 1) * sizeof *w->v);
  w->v[w->n] = *x;
  w->v[w->n].order = w->n;
  w->n++;
}

static bool parse_u16 (const char *s, size_t len, uint16_t *out)
{
  unsigned v = 0;
  if (len == 0 || len > 5)
    return false;
  for (size_t i = 0; i < len; i++)
    {
      if (s[i] < '0' || s[i] > '9')
        return false;
      v = v * 10 + (unsigned)(s[i] - '0');
    }
  if (v > 65535)
    return false;
  *out = (uint16_t)v;
  return true;
}

/* "80", "80/tcp", "53/udp", and for ExposedPorts "8000-8010/tcp".  The protocol is lower-cased,
 * tcp when absent. */
static bool parse_key (const char *key, char proto[8], uint16_t *lo, uint16_t *hi)
{
  const char *slash = strchr (key, '/');
  size_t plen = slash ? (size_t)(slash - key) : strlen (key);
  const char *dash = memchr (key, '-', plen);
  if (dash)
    {
      if (!parse_u16 (key, (size_t)(dash - key), lo)
          || !parse_u16 (dash + 1, plen - (size_t)(dash - key) - 1, hi) || *hi < *lo)
        return false;
    }
  else if (parse_u16 (key, plen, lo))
    *hi = *lo;
  else
    return false;
  if (*lo == 0)
    return false;
  const char *p = slash && slash[1] ? slash + 1 : "tcp";
  size_t n = strlen (p);
  if (n >= 8)
    return false;
  for (size_t i = 0; i <= n; i++)
    proto[i] = (char)(p[i] >= 'A' && p[i] <= 'Z' ? p[i] - 'A' + 'a' : p[i]);
  return strcmp (proto, "tcp") == 0 || strcmp (proto, "udp") == 0 || strcmp (proto, "sctp") == 0;
}

/* HostPort: "" or "0" any free port, "8080", "8000-8010". */
static bool parse_host_port (const char *s, uint16_t *lo, uint16_t *hi)
{
  *lo = *hi = 0;
  if (*s == '\0' || strcmp (s, "0") == 0)
    return true;
  const char *dash = strchr (s, '-');
  if (dash == NULL)
    {
      if (!parse_u16 (s, strlen (s), lo) || *lo == 0)
        return false;
      *hi = *lo;
      return true;
    }
  return parse_u16 (s, (size_t)(dash - s), lo) && parse_u16 (dash + 1, strlen (dash + 1), hi)
         && *lo > 0 && *hi >= *lo;
}

static int parse_host_ip (const char *ip, struct want *w, berr_t *err)
{
  if (strlen (ip) >= sizeof w->host_ip)
    return berr_setk (err, BERR_INVALID, 0, "invalid IP address: %s", ip);
  snprintf (w->host_ip, sizeof w->host_ip, "%s", ip);
  w->all = false;
  if (*ip == '\0')
    {
      w->all = true;
      w->family = AF_INET;
      w->addr.v4.s_addr = htonl (INADDR_ANY);
      return 0;
    }
  if (inet_pton (AF_INET, ip, &w->addr.v4) == 1)
    w->family = AF_INET;
  else if (inet_pton (AF_INET6, ip, &w->addr.v6) == 1)
    w->family = AF_INET6;
  else
    return berr_setk (err, BERR_INVALID, 0, "invalid IP address: %s", ip);
  return 0;
}

static int collect_bindings (json_t *bindings, struct wants *out, berr_t *err)
{
  const char *key;
  json_t *list;
  if (bindings == NULL || json_is_null (bindings))
    return 0;
  if (!json_is_object (bindings))
    return berr_setk (err, BERR_INVALID, 0, "invalid port bindings: not an object");
  json_object_foreach (bindings, key, list)
  {
    struct want w = { 0 };
    uint16_t hi;
    /* The CLI sends one key per container port; a range here is not Docker's API either. */
    if (!parse_key (key, w.proto, &w.ctr_port, &hi) || hi != w.ctr_port)
      return berr_setk (err, BERR_INVALID, 0, "invalid port specification: \"%s\"", key);
    if (json_is_null (list))
      continue;
    if (!json_is_array (list))
      return berr_setk (err, BERR_INVALID, 0, "invalid port bindings for %s: not a list", key);
    size_t i;
    json_t *b;
    json_array_foreach (list, i, b)
    {
      json_t *jip = json_object_get (b, "HostIp"), *jport = json_object_get (b, "HostPort");
      const char *ip = json_is_string (jip) ? json_string_value (jip) : "";
      const char *port = json_is_string (jport) ? json_string_value (jport) : "";
      if ((jip && !json_is_string (jip) && !json_is_null (jip))
          || (jport && !json_is_string (jport) && !json_is_null (jport)))
        return berr_setk (err, BERR_INVALID, 0, "invalid port binding for %s", key);
      if (parse_host_ip (ip, &w, err) < 0)
        return -1;
      if (!parse_host_port (port, &w.lo, &w.hi))
        return berr_setk (err, BERR_INVALID, 0, "invalid hostPort: %s", port);
      wants_add (out, &w);
    }
  }
  return 0;
}

static bool wanted (const struct wants *w, const char *proto, uint16_t port)
{
  for (size_t i = 0; i < w->n; i++)
    if (w->v[i].ctr_port == port && strcmp (w->v[i].proto, proto) == 0)
      return true;
  return false;
}

/* -P: every exposed port without a binding gets a free port on all addresses. */
static int collect_exposed (json_t *exposed, struct wants *out, berr_t *err)
{
  const char *key;
  json_t *v;
  if (exposed == NULL || json_is_null (exposed))
    return 0;
  if (!json_is_object (exposed))
    return berr_setk (err, BERR_INVALID, 0, "invalid exposed ports: not an object");
  json_object_foreach (exposed, key, v)
  {
    struct want w = { 0 };
    uint16_t lo, hi;
    if (!parse_key (key, w.proto, &lo, &hi))
      return berr_setk (err, BERR_INVALID, 0, "invalid port specification: \"%s\"", key);
    for (unsigned p = lo; p <= hi; p++)
      {
        if (wanted (out, w.proto, (uint16_t)p))
          continue;
        w.ctr_port = (uint16_t)p;
        parse_host_ip ("", &w, err);
        wants_add (out, &w);
      }
  }
  return 0;
}

/* Fixed ports first, then ranges, then any-port requests, so that a drawn port can never take
 * the one a later fixed binding names; then by container port, tcp before the others. */
static int want_class (const struct want *w) { return w->lo == 0 ? 2 : w->lo == w->hi ? 0 : 1; }

static int cmp_want (const void *a, const void *b)
{
  const struct want *x = a, *y = b;
  int c = want_class (x) - want_class (y);
  if (c == 0)
    c = (int)x->ctr_port - (int)y->ctr_port;
  if (c == 0)
    c = (strcmp (x->proto, "tcp") != 0) - (strcmp (y->proto, "tcp") != 0);
  if (c == 0)
    c = strcmp (x->proto, y->proto);
  if (c == 0)
    c = x->order < y->order ? -1 : x->order > y->order;
  return c;
}

/* ---- binding ---- */

static void set_add (struct port_set *s, const struct want *w, const char *host_ip, uint16_t port,
                     int fd)
{
  s->v = xrealloc (s->v, (s->n + 1) * sizeof *s->v);
  struct port_binding *b = &s->v[s->n++];
  memset (b, 0, sizeof *b);
  snprintf (b->proto, sizeof b->proto, "%s", w->proto);
  b->ctr_port = w->ctr_port;
  snprintf (b->host_ip, sizeof b->host_ip, "%s", host_ip);
  b->host_port = port;
  b->fd = fd;
}

/* Bind a reservation socket; on failure -1 with errno set. */
static int bind_port (const char *proto, int family, const void *addr, uint16_t port, int *out)
{
  bool tcp = strcmp (proto, "tcp") == 0;
  int type = strcmp (proto, "udp") == 0 ? SOCK_DGRAM : SOCK_STREAM;
  int ipproto = strcmp (proto, "sctp") == 0 ? IPPROTO_SCTP : 0;
  struct sockaddr_storage ss;
  socklen_t len;
  int one = 1, zero = 0;

  memset (&ss, 0, sizeof ss);
  if (family == AF_INET)
    {
      struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
      sin->sin_family = AF_INET;
      sin->sin_port = htons (port);
      memcpy (&sin->sin_addr, addr, sizeof sin->sin_addr);
      len = sizeof *sin;
    }
  else
    {
      struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
      sin6->sin6_family = AF_INET6;
      sin6->sin6_port = htons (port);
      memcpy (&sin6->sin6_addr, addr, sizeof sin6->sin6_addr);
      len = sizeof *sin6;
    }

  cleanup_close int fd = socket (family, type | SOCK_CLOEXEC, ipproto);
  if (fd < 0)
    return -1;
  /* [::] must not claim IPv4 as well: 0.0.0.0 has a socket of its own. */
  if (family == AF_INET6 && setsockopt (fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one) < 0)
    return -1;
  if (bind (fd, (struct sockaddr *)&ss, len) < 0)
    {
      /* See the top of the file. */
      if (!(tcp && errno == EADDRINUSE && port != 0))
        return -1;
      if (setsockopt (fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0)
        return -1;
      if (bind (fd, (struct sockaddr *)&ss, len) < 0)
        {
          errno = EADDRINUSE;
          return -1;
        }
      if (setsockopt (fd, SOL_SOCKET, SO_REUSEADDR, &zero, sizeof zero) < 0)
        return -1;
    }
  *out = steal_fd (&fd);
  return 0;
}

static uint16_t bound_port (int fd)
{
  struct sockaddr_storage ss;
  socklen_t len = sizeof ss;
  if (getsockname (fd, (struct sockaddr *)&ss, &len) < 0)
    return 0;
  if (ss.ss_family == AF_INET)
    return ntohs (((struct sockaddr_in *)&ss)->sin_port);
  return ntohs (((struct sockaddr_in6 *)&ss)->sin6_port);
}

static void want_addr_str (const struct want *w, char buf[INET6_ADDRSTRLEN])
{
  inet_ntop (w->family, &w->addr, buf, INET6_ADDRSTRLEN);
}

/* The twin of an all-addresses binding: [::] on the same port.  0 bound, 1 IPv6 unusable on
 * this host (left out), -1 with errno. */
static int bind_twin (const struct want *w, uint16_t port, int *fd)
{
  if (bind_port (w->proto, AF_INET6, &in6addr_any, port, fd) == 0)
    return 0;
  if (errno == EAFNOSUPPORT || errno == EADDRNOTAVAIL)
    return 1;
  return -1;
}

/* Try one port: the address itself, and [::] for an all-addresses binding.  On failure nothing
 * stays bound; *v6_failed says which address refused. */
static int try_port (const struct want *w, uint16_t port, struct port_set *s, bool *v6_failed)
{
  int fd4 = -1, fd6 = -1;
  *v6_failed = false;
  if (bind_port (w->proto, w->family, &w->addr, port, &fd4) < 0)
    return -1;
  if (port == 0)
    port = bound_port (fd4);
  if (w->all)
    {
      int r = bind_twin (w, port, &fd6);
      if (r < 0)
        {
          int e = errno;
          close (fd4);
          *v6_failed = true;
          errno = e;
          return -1;
        }
    }
  set_add (s, w, w->host_ip, port, fd4);
  if (fd6 >= 0)
    set_add (s, w, "::", port, fd6);
  return 0;
}

static int bind_error (const struct want *w, bool v6, uint16_t port, int e, berr_t *err)
{
  char ip[INET6_ADDRSTRLEN];
  if (v6)
    snprintf (ip, sizeof ip, "::");
  else
    want_addr_str (w, ip);
  if (e == EADDRINUSE && port == 0)
    return berr_setk (err, BERR_CONFLICT, 0, "Bind for %s failed: all ports are allocated", ip);
  if (e == EADDRINUSE)
    return berr_setk (err, BERR_CONFLICT, 0, "Bind for %s:%u failed: port is already allocated", ip,
                      port);
  return berr_set (err, e, "failed to bind host port for %s:%u/%s", ip, port, w->proto);
}

static int reserve_one (const struct want *w, struct port_set *s, berr_t *err)
{
  bool v6;
  if (w->lo == 0)
    {
      for (int i = 0; i < EPHEMERAL_TRIES; i++)
        {
          if (try_port (w, 0, s, &v6) == 0)
            return 0;
          /* Only a drawn port that IPv6 already uses is worth another draw. */
          if (!(v6 && errno == EADDRINUSE))
            return bind_error (w, v6, 0, errno, err);
        }
      return bind_error (w, true, 0, EADDRINUSE, err);
    }
  if (w->lo == w->hi)
    {
      if (try_port (w, w->lo, s, &v6) == 0)
        return 0;
      return bind_error (w, v6, w->lo, errno, err);
    }
  for (unsigned p = w->lo; p <= w->hi; p++)
    {
      if (try_port (w, (uint16_t)p, s, &v6) == 0)
        return 0;
      if (errno != EADDRINUSE)
        return bind_error (w, v6, (uint16_t)p, errno, err);
    }
  char ip[INET6_ADDRSTRLEN];
  want_addr_str (w, ip);
  return berr_setk (err, BERR_CONFLICT, 0, "Bind for %s:%u-%u failed: all ports are allocated", ip,
                    w->lo, w->hi);
}

int ports_reserve (json_t *port_bindings, json_t *exposed_ports, bool publish_all,
                   struct port_set *out, berr_t *err)
{
  struct wants w = { NULL, 0 };
  struct port_set s = { NULL, 0 };
  int r = collect_bindings (port_bindings, &w, err);
  if (r == 0 && publish_all)
    r = collect_exposed (exposed_ports, &w, err);
  if (r == 0 && w.n)
    {
      qsort (w.v, w.n, sizeof *w.v, cmp_want);
      for (size_t i = 0; i < w.n && r == 0; i++)
        r = reserve_one (&w.v[i], &s, err);
    }
  free (w.v);
  if (r < 0)
    {
      ports_release (&s);
      return -1;
    }
  *out = s;
  return 0;
}

void ports_release (struct port_set *s)
{
  for (size_t i = 0; i < s->n; i++)
    if (s->v[i].fd >= 0)
      {
        close (s->v[i].fd);
        s->v[i].fd = -1;
      }
  free (s->v);
  s->v = NULL;
  s->n = 0;
}

/* ---- NetworkSettings.Ports ---- */

static int cmp_str (const void *a, const void *b)
{
  return strcmp (*(char *const *)a, *(char *const *)b);
}

json_t *ports_json (const struct port_set *s, json_t *exposed_ports)
{
  cleanup_strv char **keys = NULL;
  for (size_t i = 0; s && i < s->n; i++)
    {
      cleanup_free char *k = xasprintf ("%u/%s", s->v[i].ctr_port, s->v[i].proto);
      if (!strv_contains (keys, k))
        strv_push (&keys, k);
    }
  const char *key;
  json_t *v;
  if (json_is_object (exposed_ports))
    json_object_foreach (exposed_ports, key, v)
    {
      char proto[8];
      uint16_t lo, hi;
      if (!parse_key (key, proto, &lo, &hi))
        continue;
      for (unsigned p = lo; p <= hi; p++)
        {
          cleanup_free char *k = xasprintf ("%u/%s", p, proto);
          if (!strv_contains (keys, k))
            strv_push (&keys, k);
        }
    }
  /* Go encodes a map with its keys sorted. */
  if (keys)
    qsort (keys, strv_len (keys), sizeof *keys, cmp_str);

  json_t *o = json_object ();
  for (char **k = keys; k && *k; k++)
    {
      json_t *list = NULL;
      for (size_t i = 0; s && i < s->n; i++)
        {
          char kk[32];
          snprintf (kk, sizeof kk, "%u/%s", s->v[i].ctr_port, s->v[i].proto);
          if (strcmp (kk, *k))
            continue;
          if (list == NULL)
            list = json_array ();
          char hp[8];
          snprintf (hp, sizeof hp, "%u", s->v[i].host_port);
          json_array_append_new (list, json_pack ("{s:s, s:s}", "HostIp",
                                                  s->v[i].host_ip[0] ? s->v[i].host_ip : "0.0.0.0",
                                                  "HostPort", hp));
        }
      json_object_set_new (o, *k, list ? list : json_null ());
    }
  return o;
}

int ports_from_json (json_t *ports, struct port_set *out, berr_t *err)
{
  struct port_set s = { NULL, 0 };
  const char *key;
  json_t *list;
  out->v = NULL;
  out->n = 0;
  if (ports == NULL || json_is_null (ports))
    return 0;
  if (!json_is_object (ports))
    return berr_setk (err, BERR_INVALID, 0, "invalid ports: not an object");
  json_object_foreach (ports, key, list)
  {
    struct want w = { 0 };
    uint16_t hi;
    if (!parse_key (key, w.proto, &w.ctr_port, &hi) || hi != w.ctr_port)
      {
        ports_release (&s);
        return berr_setk (err, BERR_INVALID, 0, "invalid port specification: \"%s\"", key);
      }
    if (json_is_null (list))
      continue;
    size_t i;
    json_t *b;
    if (!json_is_array (list))
      {
        ports_release (&s);
        return berr_setk (err, BERR_INVALID, 0, "invalid ports for %s: not a list", key);
      }
    json_array_foreach (list, i, b)
    {
      const char *ip = json_string_value (json_object_get (b, "HostIp"));
      const char *hp = json_string_value (json_object_get (b, "HostPort"));
      uint16_t port;
      berr_t e = BERR_INIT;
      if (ip == NULL || hp == NULL || !parse_u16 (hp, strlen (hp), &port) || port == 0
          || parse_host_ip (ip, &w, &e) < 0)
        {
          berr_release (&e);
          ports_release (&s);
          return berr_setk (err, BERR_INVALID, 0, "invalid port binding for %s", key);
        }
      set_add (&s, &w, ip, port, -1);
    }
  }
  *out = s;
  return 0;
}
