/* hosts.c — what a container sees of its networks: its /etc/hosts (berth resolves container
 * names through it instead of a DNS daemon: the file lists the running containers of the
 * container's user networks and is rewritten as they come and go), Docker's NetworkSettings,
 * and the PORTS summary of ps. */
#include <stdlib.h>
#include <string.h>

#include "container/internal.h"
#include "net/attach.h"
#include "net/ipam.h"
#include "net/network.h"
#include "util/fs.h"
#include "util/json.h"
#include "util/log.h"

static const char hosts_base[] = "127.0.0.1\tlocalhost\n"
                                 "::1\tlocalhost ip6-localhost ip6-loopback\n"
                                 "fe00::0\tip6-localnet\n"
                                 "ff00::0\tip6-mcastprefix\n"
                                 "ff02::1\tip6-allnodes\n"
                                 "ff02::2\tip6-allrouters\n";

void net_split_link (const char *s, char **name, char **alias)
{
  const char *n = s[0] == '/' ? s + 1 : s;
  const char *colon = strchr (n, ':');
  if (colon == NULL)
    {
      *name = xstrdup (n);
      *alias = xstrdup (n);
      return;
    }
  *name = xstrndup (n, (size_t)(colon - n));
  const char *a = colon + 1;
  const char *slash = strrchr (a, '/');
  *alias = xstrdup (slash ? slash + 1 : a);
}

/* The gateway of the default bridge, for "host-gateway". */
static char *host_gateway (struct engine *e)
{
  struct ipv4_net sub;
  berr_t e2 = BERR_INIT;
  if (ipam_parse_cidr (e->bridge_subnet, false, &sub, &e2) < 0)
    {
      berr_release (&e2);
      return xstrdup ("127.0.0.1");
    }
  char s[16];
  ipam_format_ip (sub.addr + 1, s);
  return xstrdup (s);
}

/* "ip\tname alias… shortid" for one peer. */
static void add_peer_line (struct sbuf *b, const struct endpoint_row *ep)
{
  sbuf_addf (b, "%s\t%s", ep->ip, ep->container_name ? ep->container_name : "");
  size_t i;
  json_t *v;
  json_array_foreach (ep->aliases, i, v)
  {
    const char *a = json_string_value (v);
    if (a && a[0] && (ep->container_name == NULL || strcmp (a, ep->container_name) != 0))
      sbuf_addf (b, " %s", a);
  }
  sbuf_addf (b, " %.12s\n", ep->container_id);
}

/* The address of container `name` on one of the networks in mine (endpoints of self). */
static char *link_address (struct engine *e, const char *name, struct endpoint_row **mine,
                           size_t nmine)
{
  struct container_rec *o = NULL;
  berr_t e2 = BERR_INIT;
  if (store_container_lookup (e->store, name, &o, &e2) < 0)
    {
      berr_release (&e2);
      return NULL;
    }
  char *ip = NULL;
  struct endpoint_row **eps = NULL;
  size_t n = 0;
  if (container_is_running (o) && store_endpoint_list (e->store, NULL, o->id, &eps, &n, &e2) == 0)
    {
      for (size_t i = 0; i < n && ip == NULL; i++)
        for (size_t k = 0; k < nmine && ip == NULL; k++)
          if (strcmp (eps[i]->network_id, mine[k]->network_id) == 0)
            ip = xstrdup (eps[i]->ip);
      endpoint_rows_free (eps, n);
    }
  berr_release (&e2);
  container_rec_free (o);
  return ip;
}

static void add_links (struct engine *e, const struct container_rec *c, struct sbuf *b,
                       struct endpoint_row **mine, size_t nmine)
{
  json_t *lists[8];
  size_t nl = 0;
  lists[nl++] = json_object_get (json_object_get (c->config, "HostConfig"), "Links");
  const char *k;
  json_t *ep;
  json_object_foreach (json_object_get (c->config, "Networks"), k, ep)
  {
    if (nl < 8)
      lists[nl++] = json_object_get (ep, "Links");
  }
  for (size_t l = 0; l < nl; l++)
    {
      size_t i;
      json_t *v;
      json_array_foreach (lists[l], i, v)
      {
        const char *s = json_string_value (v);
        if (s == NULL)
          continue;
        cleanup_free char *name = NULL, *alias = NULL;
        net_split_link (s, &name, &alias);
        cleanup_free char *ip = link_address (e, name, mine, nmine);
        if (ip == NULL)
          continue;
        if (strcmp (alias, name) == 0)
          sbuf_addf (b, "%s\t%s\n", ip, name);
        else
          sbuf_addf (b, "%s\t%s %s\n", ip, alias, name);
      }
    }
}

char *net_hosts_render (struct engine *e, const struct container_rec *c, bool host_net)
{
  struct sbuf b;
  sbuf_init (&b);
  if (host_net)
    {
      cleanup_free char *h = NULL;
      size_t len = 0;
      berr_t e2 = BERR_INIT;
      if (fs_read_file ("/etc/hosts", 1 << 20, &h, &len, &e2) < 0)
        {
          berr_release (&e2);
          sbuf_adds (&b, hosts_base);
        }
      else
        sbuf_add (&b, h, len);
    }
  else
    sbuf_adds (&b, hosts_base);

  json_t *config = json_object_get (c->config, "Config");
  json_t *hc = json_object_get (c->config, "HostConfig");
  struct endpoint_row **mine = NULL;
  size_t nmine = 0;
  berr_t e2 = BERR_INIT;
  if (!host_net && store_endpoint_list (e->store, NULL, c->id, &mine, &nmine, &e2) < 0)
    berr_release (&e2);
  /* Its own address(es) with its host name, as Docker writes them. */
  const char *hostname = json_get_str (config, "Hostname");
  const char *domain = json_get_str (config, "Domainname");
  for (size_t i = 0; i < nmine && hostname && hostname[0]; i++)
    {
      if (domain && domain[0])
        sbuf_addf (&b, "%s\t%s.%s %s\n", mine[i]->ip, hostname, domain, hostname);
      else
        sbuf_addf (&b, "%s\t%s\n", mine[i]->ip, hostname);
    }
  /* The other running containers of its user-defined networks. */
  for (size_t i = 0; i < nmine; i++)
    {
      struct network_row *n = NULL;
      if (store_network_get (e->store, mine[i]->network_id, &n, &e2) < 0)
        {
          berr_release (&e2);
          continue;
        }
      bool user = !n->builtin;
      network_row_free (n);
      if (!user)
        continue;
      struct endpoint_row **peers = NULL;
      size_t np = 0;
      if (store_endpoint_list (e->store, mine[i]->network_id, NULL, &peers, &np, &e2) < 0)
        {
          berr_release (&e2);
          continue;
        }
      for (size_t k = 0; k < np; k++)
        if (strcmp (peers[k]->container_id, c->id) != 0)
          add_peer_line (&b, peers[k]);
      endpoint_rows_free (peers, np);
    }
  add_links (e, c, &b, mine, nmine);
  endpoint_rows_free (mine, nmine);

  size_t i;
  json_t *v;
  json_array_foreach (json_object_get (hc, "ExtraHosts"), i, v)
  {
    /* "name:ip" (Docker also accepts "name=ip"); "host-gateway" is the bridge's gateway. */
    const char *s = json_string_value (v);
    const char *sep = s ? strpbrk (s, ":=") : NULL;
    if (sep == NULL)
      continue;
    const char *ip = sep + 1;
    cleanup_free char *gw = NULL;
    if (strcmp (ip, "host-gateway") == 0)
      ip = gw = host_gateway (e);
    sbuf_addf (&b, "%s\t%.*s\n", ip, (int)(sep - s), s);
  }
  return sbuf_detach (&b);
}

/* ---------- NetworkSettings ---------- */

static json_t *endpoint_settings (const json_t *cfg_ep, const struct network_row *net,
                                  const struct endpoint_row *ep, const struct container_rec *c)
{
  json_t *ipam = json_object_get (cfg_ep, "IPAMConfig");
  json_t *links = json_object_get (cfg_ep, "Links");
  json_t *aliases = json_object_get (cfg_ep, "Aliases");
  json_t *dopts = json_object_get (cfg_ep, "DriverOpts");
  char mac[18] = "";
  const char *gw = "";
  int prefix = 0;
  if (ep)
    {
      if (ep->mac && ep->mac[0])
        snprintf (mac, sizeof mac, "%s", ep->mac);
      else
        {
          uint32_t a;
          uint8_t m[6];
          berr_t e2 = BERR_INIT;
          if (ipam_parse_ip (ep->ip, &a, &e2) == 0)
            {
              net_mac_from_ip (a, m);
              net_mac_format (m, mac);
            }
          berr_release (&e2);
        }
      struct ipv4_net sub;
      berr_t e2 = BERR_INIT;
      if (net && net->subnet && ipam_parse_cidr (net->subnet, false, &sub, &e2) == 0)
        prefix = sub.prefix;
      berr_release (&e2);
      if (net && net->gateway)
        gw = net->gateway;
    }
  json_t *dns = json_null ();
  if (net && !net->builtin)
    {
      dns = json_array ();
      json_array_append_new (dns, json_string (c->name));
      size_t i;
      json_t *v;
      json_array_foreach (aliases, i, v) json_array_append (dns, v);
      json_array_append_new (dns, json_stringn (c->id, 12));
      const char *hn = json_get_str (json_object_get (c->config, "Config"), "Hostname");
      if (hn && strncmp (hn, c->id, 12) != 0)
        json_array_append_new (dns, json_string (hn));
    }
  cleanup_free char *epid = ep ? network_endpoint_id (ep->network_id, c->id) : xstrdup ("");
  return json_pack ("{s:O?, s:O?, s:O?, s:s, s:O?, s:i, s:s, s:s, s:s, s:s, s:i, s:s, s:s, s:i, "
                    "s:o}",
                    "IPAMConfig", ipam, "Links", links, "Aliases", aliases, "MacAddress", mac,
                    "DriverOpts", dopts, "GwPriority", 0, "NetworkID", net ? net->id : "",
                    "EndpointID", epid, "Gateway", ep ? gw : "", "IPAddress", ep ? ep->ip : "",
                    "IPPrefixLen", prefix, "IPv6Gateway", "", "GlobalIPv6Address", "",
                    "GlobalIPv6PrefixLen", 0, "DNSNames", dns);
}

json_t *net_settings_json (struct engine *e, const struct container_rec *c)
{
  json_t *hc = json_object_get (c->config, "HostConfig");
  const char *mode = json_get_str (hc, "NetworkMode");
  if (mode == NULL || mode[0] == '\0' || strcmp (mode, "default") == 0)
    mode = "bridge";
  bool running = container_is_running (c);
  struct endpoint_row **eps = NULL;
  size_t ne = 0;
  berr_t e2 = BERR_INIT;
  if (running && store_endpoint_list (e->store, NULL, c->id, &eps, &ne, &e2) < 0)
    berr_release (&e2);
  json_t *networks = json_object ();
  json_t *ports = json_object ();
  json_t *top = NULL; /* the default bridge's endpoint, for the deprecated top-level fields */
  const char *k;
  json_t *cfg_ep;
  json_t *cfg_nets = json_object_get (c->config, "Networks");
  if (json_object_size (cfg_nets) == 0 && !str_has_prefix (mode, "container:"))
    {
      /* Records made before networking: the mode alone. */
      json_object_set_new (networks, mode, endpoint_settings (NULL, NULL, NULL, c));
    }
  json_object_foreach (cfg_nets, k, cfg_ep)
  {
    struct network_row *net = NULL;
    const char *nid = json_get_str (cfg_ep, "NetworkID");
    if (store_network_get (e->store, nid && nid[0] ? nid : k, &net, &e2) < 0)
      berr_release (&e2);
    const struct endpoint_row *ep = NULL;
    for (size_t i = 0; i < ne && net; i++)
      if (strcmp (eps[i]->network_id, net->id) == 0)
        ep = eps[i];
    json_t *s = endpoint_settings (cfg_ep, net, ep, c);
    if (ep && json_is_object (ep->ports))
      json_object_update (ports, ep->ports);
    if (strcmp (k, "bridge") == 0)
      top = json_incref (s);
    json_object_set_new (networks, k, s);
    network_row_free (net);
  }
  /* Exposed ports that are not published: null. */
  if (running)
    {
      const char *p;
      json_t *v;
      json_object_foreach (json_object_get (json_object_get (c->config, "Config"), "ExposedPorts"),
                           p, v)
      {
        (void)v;
        cleanup_free char *key = strchr (p, '/') ? xstrdup (p) : xasprintf ("%s/tcp", p);
        if (!json_object_get (ports, key))
          json_object_set_new (ports, key, json_null ());
      }
    }
  cleanup_free char *sandbox
      = running ? xasprintf ("/proc/%lld/ns/net",
                             (long long)json_integer_value (json_object_get (c->state, "Pid")))
                : xstrdup ("");
  json_t *out = json_pack (
      "{s:s, s:s, s:o, s:s, s:s, s:s, s:i, s:s, s:s, s:s, s:i, s:s, s:s, s:o}", "Bridge", "",
      "SandboxID", running ? c->id : "", "Ports", ports, "SandboxKey", sandbox, "EndpointID",
      top ? json_get_str (top, "EndpointID") : "", "Gateway",
      top ? json_get_str (top, "Gateway") : "", "IPPrefixLen",
      top ? (int)json_integer_value (json_object_get (top, "IPPrefixLen")) : 0, "IPAddress",
      top ? json_get_str (top, "IPAddress") : "", "MacAddress",
      top ? json_get_str (top, "MacAddress") : "", "GlobalIPv6Address", "", "GlobalIPv6PrefixLen",
      0, "IPv6Gateway", "", "LinkLocalIPv6Address", "", "Networks", networks);
  json_object_set_new (out, "HairpinMode", json_false ());
  json_object_set_new (out, "LinkLocalIPv6PrefixLen", json_integer (0));
  json_object_set_new (out, "SecondaryIPAddresses", json_null ());
  json_object_set_new (out, "SecondaryIPv6Addresses", json_null ());
  json_decref (top);
  endpoint_rows_free (eps, ne);
  return out;
}

/* ---------- ps ---------- */

struct port_item
{
  char proto[8];
  int port;
  char host_ip[64];
  int host_port; /* -1: not published */
};

static int item_cmp (const void *a, const void *b)
{
  const struct port_item *x = a, *y = b;
  if (x->port != y->port)
    return x->port - y->port;
  int r = strcmp (x->proto, y->proto);
  if (r)
    return r;
  r = strcmp (x->host_ip, y->host_ip);
  return r ? r : x->host_port - y->host_port;
}

char *net_ports_summary (const json_t *ports)
{
  struct port_item *items = NULL;
  size_t n = 0;
  const char *k;
  json_t *v;
  json_object_foreach ((json_t *)ports, k, v)
  {
    struct port_item it = { .host_port = -1 };
    const char *slash = strchr (k, '/');
    it.port = atoi (k);
    snprintf (it.proto, sizeof it.proto, "%s", slash ? slash + 1 : "tcp");
    if (!json_is_array (v) || json_array_size (v) == 0)
      {
        items = xrealloc (items, (n + 1) * sizeof *items);
        items[n++] = it;
        continue;
      }
    size_t i;
    json_t *b;
    json_array_foreach (v, i, b)
    {
      snprintf (it.host_ip, sizeof it.host_ip, "%s", json_get_str (b, "HostIp") ?: "");
      it.host_port = atoi (json_get_str (b, "HostPort") ?: "0");
      items = xrealloc (items, (n + 1) * sizeof *items);
      items[n++] = it;
    }
  }
  if (n == 0)
    {
      free (items);
      return xstrdup ("");
    }
  qsort (items, n, sizeof *items, item_cmp);
  struct sbuf b;
  sbuf_init (&b);
  for (size_t i = 0; i < n; i++)
    {
      if (i)
        sbuf_adds (&b, ", ");
      if (items[i].host_port < 0)
        sbuf_addf (&b, "%d/%s", items[i].port, items[i].proto);
      else if (strchr (items[i].host_ip, ':'))
        sbuf_addf (&b, "[%s]:%d->%d/%s", items[i].host_ip, items[i].host_port, items[i].port,
                   items[i].proto);
      else
        sbuf_addf (&b, "%s:%d->%d/%s", items[i].host_ip[0] ? items[i].host_ip : "0.0.0.0",
                   items[i].host_port, items[i].port, items[i].proto);
    }
  free (items);
  return sbuf_detach (&b);
}
