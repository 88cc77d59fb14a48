/* runopts_net.c — port specifications (go-connections/nat, as docker/cli vendors it) and
 * --network's long syntax (docker/cli opts.NetworkOpt). */
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/runopts_int.h"
#include "util/json.h"

/* The range message carries an EN DASH, as upstream's. */
#define PORT_RANGE_MSG                                                                             \
  "value out of range (0\xe2\x80\x93"                                                              \
  "65535)"

static int port_number (const char *raw, int *out, const char **why)
{
  int64_t v;
  int r;
  if (*raw == '\0')
    {
      *why = "value is empty";
      return -1;
    }
  r = go_parse_int (raw, 10, &v);
  if (r != GO_NUM_OK)
    {
      *why = r == GO_NUM_RANGE ? "value out of range" : "invalid syntax";
      return -1;
    }
  if (v < 0 || v > 65535)
    {
      *why = PORT_RANGE_MSG;
      return -1;
    }
  *out = (int)v;
  return 0;
}

int nat_parse_port (const char *s, int *out, berr_t *err)
{
  const char *why;
  if (*s == '\0')
    {
      *out = 0;
      return 0;
    }
  if (port_number (s, out, &why) < 0)
    return berr_setk (err, BERR_INVALID, 0, "invalid port '%s': %s", s, why);
  return 0;
}

void nat_split_proto_port (const char *s, char **proto, char **port)
{
  const char *slash = strchr (s, '/');
  size_t n = slash ? (size_t)(slash - s) : strlen (s);
  if (n == 0)
    {
      *proto = xstrdup ("");
      *port = xstrdup ("");
      return;
    }
  *port = xstrndup (s, n);
  *proto = xstrdup (slash && slash[1] ? slash + 1 : "tcp");
}

int nat_parse_port_range (const char *s, int *start, int *end, berr_t *err)
{
  const char *why;
  if (*s == '\0')
    return berr_setk (err, BERR_INVALID, 0, "empty string specified for ports");
  const char *dash = strchr (s, '-');
  cleanup_free char *a = dash ? xstrndup (s, (size_t)(dash - s)) : xstrdup (s);
  if (port_number (a, start, &why) < 0)
    return berr_setk (err, BERR_INVALID, 0, "invalid start port '%s': %s", a, why);
  if (!dash || strcmp (a, dash + 1) == 0)
    {
      *end = *start;
      return 0;
    }
  if (port_number (dash + 1, end, &why) < 0)
    return berr_setk (err, BERR_INVALID, 0, "invalid end port '%s': %s", dash + 1, why);
  if (*end < *start)
    return berr_setk (err, BERR_INVALID, 0, "invalid port range: %s", s);
  return 0;
}

int nat_new_port (const char *proto, const char *port, char **out, berr_t *err)
{
  int a, b;
  if (nat_parse_port_range (port, &a, &b, err) < 0)
    return -1;
  *out = a == b ? xasprintf ("%d/%s", a, proto) : xasprintf ("%d-%d/%s", a, b, proto);
  return 0;
}

void port_mappings_free (struct port_mapping *m, size_t n)
{
  for (size_t i = 0; i < n; i++)
    {
      free (m[i].port);
      free (m[i].host_ip);
      free (m[i].host_port);
    }
  free (m);
}

/* net.SplitHostPort(ip + ":") for a bracketed address: the host inside the brackets. */
static int strip_brackets (const char *ip, char **host, berr_t *err)
{
  const char *close = strchr (ip, ']');
  const char *why = NULL;
  if (close == NULL)
    why = "missing ']' in address";
  else if (close[1] != '\0')
    why = close[1] == ':' ? "too many colons in address" : "missing port in address";
  else if (memchr (ip + 1, '[', (size_t)(close - ip - 1)))
    why = "unexpected '[' in address";
  if (why)
    return berr_setk (err, BERR_INVALID, 0, "invalid IP address %s: address %s:: %s", ip, ip, why);
  *host = xstrndup (ip + 1, (size_t)(close - ip - 1));
  return 0;
}

int nat_parse_port_spec (const char *raw, struct port_mapping **out, size_t *nout, berr_t *err)
{
  cleanup_strv char **parts = NULL;
  cleanup_free char *ip = NULL, *host_port = NULL, *proto = NULL, *cport = NULL;
  const char *container;
  int start, end, hstart = 0, hend = 0;
  size_t n;

  for (const char *p = raw;;)
    {
      const char *c = strchr (p, ':');
      strv_push_take (&parts, c ? xstrndup (p, (size_t)(c - p)) : xstrdup (p));
      if (!c)
        break;
      p = c + 1;
    }
  n = strv_len (parts);
  if (n == 1)
    ip = xstrdup (""), host_port = xstrdup (""), container = parts[0];
  else if (n == 2)
    ip = xstrdup (""), host_port = xstrdup (parts[0]), container = parts[1];
  else
    {
      struct sbuf b;
      sbuf_init (&b);
      for (size_t i = 0; i + 2 < n; i++)
        {
          if (i)
            sbuf_addc (&b, ':');
          sbuf_adds (&b, parts[i]);
        }
      ip = b.buf ? sbuf_detach (&b) : xstrdup ("");
      host_port = xstrdup (parts[n - 2]);
      container = parts[n - 1];
    }
  nat_split_proto_port (container, &proto, &cport);
  if (*cport == '\0')
    return berr_setk (err, BERR_INVALID, 0, "no port specified: %s<empty>", raw);
  for (char *p = proto; *p; p++)
    if (*p >= 'A' && *p <= 'Z')
      *p = (char)(*p - 'A' + 'a');
  if (strcmp (proto, "tcp") && strcmp (proto, "udp") && strcmp (proto, "sctp"))
    return berr_setk (err, BERR_INVALID, 0, "invalid proto: %s", proto);
  if (ip[0] == '[')
    {
      char *host = NULL;
      if (strip_brackets (ip, &host, err) < 0)
        return -1;
      free (ip);
      ip = host;
    }
  if (ip[0])
    {
      unsigned char a[16];
      bool is4;
      if (!go_parse_ip (ip, a, &is4))
        return berr_setk (err, BERR_INVALID, 0, "invalid IP address: %s", ip);
    }
  berr_t e2 = BERR_INIT;
  if (nat_parse_port_range (cport, &start, &end, &e2) < 0)
    {
      berr_release (&e2);
      return berr_setk (err, BERR_INVALID, 0, "invalid containerPort: %s", cport);
    }
  if (host_port[0])
    {
      if (nat_parse_port_range (host_port, &hstart, &hend, &e2) < 0)
        {
          berr_release (&e2);
          return berr_setk (err, BERR_INVALID, 0, "invalid hostPort: %s", host_port);
        }
      /* A host range with one container port is the range to allocate from. */
      if (end - start != hend - hstart && end != start)
        return berr_setk (err, BERR_INVALID, 0,
                          "invalid ranges specified for container and host Ports: %s and %s", cport,
                          host_port);
    }
  size_t count = (size_t)(end - start + 1);
  struct port_mapping *m = xcalloc (count, sizeof *m);
  for (size_t i = 0; i < count; i++)
    {
      m[i].port = xasprintf ("%d/%s", start + (int)i, proto);
      m[i].host_ip = xstrdup (ip);
      if (host_port[0] == '\0')
        m[i].host_port = xstrdup ("");
      else if (count == 1 && hstart != hend)
        m[i].host_port = xasprintf ("%d-%d", hstart, hend);
      else
        m[i].host_port = xasprintf ("%d", hstart + (int)i);
    }
  *out = m;
  *nout = count;
  return 0;
}

/* ---- --network ---- */

void net_attach_release (struct net_attach *n)
{
  free (n->target);
  strv_free (n->aliases);
  json_decref (n->driver_opts);
  strv_free (n->links);
  free (n->ipv4);
  free (n->ipv6);
  strv_free (n->link_local_ips);
  free (n->mac);
  memset (n, 0, sizeof *n);
}

bool network_is_user_defined (const char *mode)
{
  return strcmp (mode, "default") && strcmp (mode, "bridge") && strcmp (mode, "host")
         && strcmp (mode, "none") && !str_has_prefix (mode, "container:");
}

static bool is_word (char c)
{
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static char *trim (const char *s, size_t n)
{
  while (n > 0 && (*s == ' ' || (*s >= '\t' && *s <= '\r')))
    s++, n--;
  while (n > 0 && (s[n - 1] == ' ' || (s[n - 1] >= '\t' && s[n - 1] <= '\r')))
    n--;
  return xstrndup (s, n);
}

/* netip.ParseAddr's verdict (berth keeps the text; the daemon side parses it again). */
static int parse_addr (const char *v, char **out, berr_t *err)
{
  unsigned char ip[16];
  bool is4;
  cleanup_free char *q = opts_quote (v);
  if (!go_parse_ip (v, ip, &is4))
    return berr_setk (err, BERR_INVALID, 0, "ParseAddr(%s): unable to parse IP", q);
  *out = xstrdup (v);
  return 0;
}

int parse_network_opt (const char *v, struct net_attach *out, berr_t *err)
{
  bool long_syntax = false;
  memset (out, 0, sizeof *out);

  /* Upstream asks regexp `\w+=\w+(,\w+=\w+)*` (unanchored): is there a word=word anywhere? */
  for (const char *p = v; *p; p++)
    if (*p == '=' && p > v && is_word (p[-1]) && is_word (p[1]))
      long_syntax = true;
  if (!long_syntax)
    {
      out->target = xstrdup (v);
      return 0;
    }

  cleanup_strv char **fields = NULL;
  if (go_csv_record (v, &fields, err) < 0)
    return -1;
  for (char **f = fields; *f; f++)
    {
      /* Upstream lower-cases the whole field, values included. */
      cleanup_free char *lf = xstrdup (*f);
      for (char *p = lf; *p; p++)
        if (*p >= 'A' && *p <= 'Z')
          *p = (char)(*p - 'A' + 'a');
      char *eq = strchr (lf, '=');
      if (!eq || eq == lf)
        {
          net_attach_release (out);
          return berr_setk (err, BERR_INVALID, 0, "invalid field %s", *f);
        }
      cleanup_free char *key = trim (lf, (size_t)(eq - lf));
      cleanup_free char *val = trim (eq + 1, strlen (eq + 1));
      int r = 0;
      if (strcmp (key, "name") == 0)
        {
          free (out->target);
          out->target = steal_pointer (&val);
        }
      else if (strcmp (key, "alias") == 0)
        strv_push (&out->aliases, val);
      else if (strcmp (key, "ip") == 0)
        {
          free (out->ipv4);
          out->ipv4 = NULL;
          r = parse_addr (val, &out->ipv4, err);
        }
      else if (strcmp (key, "ip6") == 0)
        {
          free (out->ipv6);
          out->ipv6 = NULL;
          r = parse_addr (val, &out->ipv6, err);
        }
      else if (strcmp (key, "mac-address") == 0)
        {
          free (out->mac);
          out->mac = steal_pointer (&val);
        }
      else if (strcmp (key, "link-local-ip") == 0)
        {
          char *a = NULL;
          r = parse_addr (val, &a, err);
          if (r == 0)
            strv_push_take (&out->link_local_ips, a);
        }
      else if (strcmp (key, "driver-opt") == 0)
        {
          char *deq = strchr (val, '=');
          if (!deq || deq == val)
            r = berr_setk (err, BERR_INVALID, 0, "invalid key value pair format in driver options");
          else
            {
              cleanup_free char *dk = trim (val, (size_t)(deq - val));
              if (!out->driver_opts)
                out->driver_opts = json_object ();
              cleanup_free char *dv = trim (deq + 1, strlen (deq + 1));
              json_object_set_new (out->driver_opts, dk, json_string (dv));
            }
        }
      else if (strcmp (key, "gw-priority") == 0)
        {
          int64_t g;
          int c = go_parse_int (val, 10, &g);
          if (c != GO_NUM_OK)
            r = berr_setk (err, BERR_INVALID, 0, "invalid gw-priority (%s): %s", val,
                           c == GO_NUM_RANGE ? "value out of range" : "invalid syntax");
          else
            out->gw_priority = (long)g;
        }
      else
        r = berr_setk (err, BERR_INVALID, 0, "invalid field key %s", key);
      if (r < 0)
        {
          net_attach_release (out);
          return -1;
        }
    }
  if (out->target == NULL || out->target[0] == '\0')
    {
      net_attach_release (out);
      return berr_setk (err, BERR_INVALID, 0, "network name/id is not specified");
    }
  return 0;
}
