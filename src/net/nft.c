/* nft.c — berth's nftables table rendered from a model and replaced in one transaction.
 *
 * The text is laid out exactly as `nft list table` prints it back (tabs, a blank line between
 * chains, the priority names nft uses), so what the kernel holds can be compared with what was
 * rendered.  Names are validated before anything reaches nft: the script is built by string
 * formatting, so an interface name with a quote in it must never get that far. */
#include "net/nft.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/netlink.h>
#include <nftables/libnftables.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "net/lazynft.h"
#include "util/util.h"

static void addr_str (uint32_t a, char buf[16])
{
  snprintf (buf, 16, "%u.%u.%u.%u", (a >> 24) & 255, (a >> 16) & 255, (a >> 8) & 255, a & 255);
}

static void subnet_str (uint32_t net, int prefix, char buf[24])
{
  char a[16];
  uint32_t mask = prefix <= 0 ? 0 : prefix >= 32 ? 0xffffffffu : ~((1u << (32 - prefix)) - 1);
  addr_str (net & mask, a);
  /* nft prints a /32 as the bare address */
  if (prefix >= 32)
    snprintf (buf, 24, "%s", a);
  else
    snprintf (buf, 24, "%s/%d", a, prefix);
}

static int cmp_network (const void *a, const void *b)
{
  const struct nft_network *x = a, *y = b;
  return strcmp (x->bridge, y->bridge);
}

static int cmp_u32 (uint32_t a, uint32_t b) { return a < b ? -1 : a > b; }

/* Ports that could share a rule end up adjacent: same protocol, host address and container. */
static int cmp_port (const void *a, const void *b)
{
  const struct nft_port *x = a, *y = b;
  int c = strcmp (x->proto, y->proto);
  if (c == 0)
    c = cmp_u32 (x->host_ip, y->host_ip);
  if (c == 0)
    c = cmp_u32 (x->ctr_ip, y->ctr_ip);
  if (c == 0)
    c = cmp_u32 (x->host_port, y->host_port);
  if (c == 0)
    c = cmp_u32 (x->ctr_port, y->ctr_port);
  if (c == 0)
    c = strcmp (x->bridge ? x->bridge : "", y->bridge ? y->bridge : "");
  return c;
}

static const struct nft_network *find_network (const struct nft_network *v, size_t n,
                                               const char *bridge)
{
  for (size_t i = 0; bridge && i < n; i++)
    if (strcmp (v[i].bridge, bridge) == 0)
      return &v[i];
  return NULL;
}

/* Can p extend the run that ends with q into one "dport A-B dnat to ADDR" rule? Only when host
 * and container ports are equal: a DNAT without a port keeps the destination port, while an
 * offset between the two ranges would need one rule per port. */
static bool extends_run (const struct nft_port *q, const struct nft_port *p)
{
  return strcmp (p->proto, q->proto) == 0 && p->host_ip == q->host_ip && p->ctr_ip == q->ctr_ip
         && p->host_port == p->ctr_port && q->host_port == q->ctr_port
         && p->host_port == q->host_port + 1;
}

static void render_ports (struct sbuf *b, const struct nft_model *m)
{
  struct nft_port *ports = xcalloc (m->nports ? m->nports : 1, sizeof *ports);
  size_t n = 0;
  for (size_t i = 0; i < m->nports; i++)
    {
      const struct nft_network *net = find_network (m->networks, m->nnetworks, m->ports[i].bridge);
      /* Like Docker, an internal network publishes nothing: it has no external connectivity. */
      if (net && net->internal)
        continue;
      ports[n++] = m->ports[i];
    }
  qsort (ports, n, sizeof *ports, cmp_port);

  sbuf_adds (b, "\tchain ports {\n");
  for (size_t i = 0; i < n;)
    {
      const struct nft_port *p = &ports[i];
      size_t j = i + 1;
      while (j < n && extends_run (&ports[j - 1], &ports[j]))
        j++;
      char hip[16], cip[16];
      addr_str (p->ctr_ip, cip);
      sbuf_adds (b, "\t\t");
      if (p->host_ip)
        {
          addr_str (p->host_ip, hip);
          sbuf_addf (b, "ip daddr %s ", hip);
        }
      if (j - i > 1)
        sbuf_addf (b, "%s dport %u-%u dnat to %s\n", p->proto, p->host_port, ports[j - 1].host_port,
                   cip);
      else
        sbuf_addf (b, "%s dport %u dnat to %s:%u\n", p->proto, p->host_port, cip, p->ctr_port);
      i = j;
    }
  sbuf_adds (b, "\t}\n");
  free (ports);
}

char *nft_render (const struct nft_model *m)
{
  struct sbuf b;
  sbuf_init (&b);
  /* "add" makes the "delete" valid whether or not the table exists; the three commands are one
   * transaction, so no packet ever sees a half-built table. */
  sbuf_addf (&b, "add table ip %s\ndelete table ip %s\n", m->table, m->table);
  if (m->nnetworks == 0 && m->nports == 0)
    return sbuf_detach (&b);

  struct nft_network *nets = xcalloc (m->nnetworks ? m->nnetworks : 1, sizeof *nets);
  if (m->nnetworks)
    memcpy (nets, m->networks, m->nnetworks * sizeof *nets);
  qsort (nets, m->nnetworks, sizeof *nets, cmp_network);
  struct nft_model sorted = *m;
  sorted.networks = nets;

  sbuf_addf (&b, "table ip %s {\n", m->table);

  /* moby#45610: a packet that arrives from another host addressed to 127.0.0.0/8 must never be
   * DNATed (with route_localnet set on a bridge it would otherwise reach a port bound to
   * 127.0.0.1); loopback bindings are served from output only. */
  sbuf_adds (&b, "\tchain prerouting {\n"
                 "\t\ttype nat hook prerouting priority dstnat; policy accept;\n"
                 "\t\tip daddr != 127.0.0.0/8 fib daddr type local jump ports\n"
                 "\t}\n\n");
  sbuf_adds (&b, "\tchain output {\n"
                 "\t\ttype nat hook output priority -100; policy accept;\n"
                 "\t\tfib daddr type local jump ports\n"
                 "\t}\n\n");
  render_ports (&b, &sorted);
  sbuf_adds (&b, "\n");

  sbuf_adds (&b, "\tchain postrouting {\n"
                 "\t\ttype nat hook postrouting priority srcnat; policy accept;\n");
  for (size_t i = 0; i < m->nnetworks; i++)
    {
      const struct nft_network *n = &nets[i];
      char sub[24];
      if (n->internal)
        continue;
      subnet_str (n->subnet, n->prefix, sub);
      /* egress */
      sbuf_addf (&b, "\t\toifname != \"%s\" ip saddr %s masquerade\n", n->bridge, sub);
      /* loopback publishing: a 127.x source cannot be answered from inside the container */
      sbuf_addf (&b, "\t\toifname \"%s\" ip saddr 127.0.0.0/8 masquerade\n", n->bridge);
      /* hairpin: a container reaching a published port of its own bridge through a host
       * address; without the masquerade the answer would go back directly, bypassing the NAT.
       * (The source subnet says where it came from: iifname is always empty in postrouting.) */
      sbuf_addf (&b, "\t\toifname \"%s\" ip saddr %s ct status dnat masquerade\n", n->bridge, sub);
    }
  sbuf_adds (&b, "\t}\n\n");

  /* Order matters: every "into a bridge" verdict comes before anything that accepts on the way
   * out of another bridge, so a packet from network A to network B meets B's drop.  Traffic out
   * of a non-internal bridge needs no rule: the policy accepts it (berth never drops what is not
   * its own, and an accept here could not override another table's drop anyway). */
  sbuf_adds (&b, "\tchain forward {\n"
                 "\t\ttype filter hook forward priority filter; policy accept;\n");
  for (size_t i = 0; i < m->nnetworks; i++)
    sbuf_addf (&b, "\t\tiifname \"%s\" oifname \"%s\" accept\n", nets[i].bridge, nets[i].bridge);
  for (size_t i = 0; i < m->nnetworks; i++)
    if (nets[i].internal)
      sbuf_addf (&b, "\t\tiifname \"%s\" drop\n\t\toifname \"%s\" drop\n", nets[i].bridge,
                 nets[i].bridge);
  for (size_t i = 0; i < m->nnetworks; i++)
    if (!nets[i].internal)
      sbuf_addf (&b,
                 "\t\toifname \"%s\" ct state established,related accept\n"
                 "\t\toifname \"%s\" ct status dnat accept\n"
                 "\t\toifname \"%s\" drop\n",
                 nets[i].bridge, nets[i].bridge, nets[i].bridge);
  sbuf_adds (&b, "\t}\n}\n");
  free (nets);
  return sbuf_detach (&b);
}

/* nft's error text names the problem on its "Error:" lines; the lines in between repeat the
 * input with carets under it (and for a buffer, not always the right line).  Keep the former. */
static char *error_lines (const char *buf)
{
  struct sbuf b;
  sbuf_init (&b);
  for (const char *line = buf; line && *line;)
    {
      const char *nl = strchr (line, '\n');
      size_t len = nl ? (size_t)(nl - line) : strlen (line);
      const char *e = memmem (line, len, "Error: ", 7);
      if (e)
        {
          if (b.len)
            sbuf_adds (&b, "; ");
          sbuf_add (&b, e + 7, len - (size_t)(e + 7 - line));
        }
      line = nl ? nl + 1 : NULL;
    }
  if (b.len == 0)
    sbuf_adds (&b, buf && *buf ? buf : "failed");
  while (b.len > 0 && (b.buf[b.len - 1] == '\n' || b.buf[b.len - 1] == ' '))
    b.buf[--b.len] = '\0';
  return sbuf_detach (&b);
}

/* The fds of netfilter netlink sockets: the context's own among them. */
static size_t nfnl_fds (int *out, size_t max)
{
  size_t n = 0;
  DIR *d = opendir ("/proc/self/fd");
  struct dirent *e;
  while (d && (e = readdir (d)) && n < max)
    {
      int fd = atoi (e->d_name), dom = 0, proto = 0;
      socklen_t l1 = sizeof dom, l2 = sizeof proto;
      if (e->d_name[0] == '.' || fd == dirfd (d))
        continue;
      if (getsockopt (fd, SOL_SOCKET, SO_DOMAIN, &dom, &l1) == 0 && dom == AF_NETLINK
          && getsockopt (fd, SOL_SOCKET, SO_PROTOCOL, &proto, &l2) == 0
          && proto == NETLINK_NETFILTER)
        out[n++] = fd;
    }
  if (d)
    closedir (d);
  return n;
}

static int cmp_int (const void *a, const void *b)
{
  int x = *(const int *)a, y = *(const int *)b;
  return x < y ? -1 : x > y;
}

/* Close every fd but the sorted keep[]. */
static void close_all_but (int *keep, size_t n)
{
  unsigned lo = 0;
  for (size_t i = 0; i < n; i++)
    {
      if ((unsigned)keep[i] > lo)
        close_range (lo, (unsigned)keep[i] - 1, 0);
      lo = (unsigned)keep[i] + 1;
    }
  close_range (lo, ~0u, 0);
}

/* Free the context without waiting for the kernel's clean-up.
 *
 * The last close of the netlink socket after a commit that deleted anything (every replacement
 * deletes the old table) waits until nf_tables has freed the deleted objects, one RCU grace
 * period later: 5-15 ms measured (kernel 6.18, 2 CPUs), ten times the rest of an nft_sync.  The
 * new rules are in force as soon as the commit returns, so that wait serves nobody.  A grandchild
 * keeps a copy of the socket (and nothing else: no stdout that a `$(berth …)` would wait on, no
 * lock, no port), waits until this process has closed its own, and does the last close itself,
 * orphaned.  Without /proc or fork it is the plain, slower close. */
static void ctx_free_detached (struct nft_ctx *ctx)
{
  int keep[9], p[2];
  size_t n = nfnl_fds (keep, 8), m = 0;
  /* Our own references first, so the context's close is not the last; then fork, with nothing
   * left for this process to touch (every write after a fork is a copy-on-write fault). */
  for (size_t i = 0; i < n; i++)
    if ((keep[m] = fcntl (keep[i], F_DUPFD_CLOEXEC, 0)) >= 0)
      m++;
  nft_ctx_free (ctx);
  if (m == 0 || pipe2 (p, O_CLOEXEC) < 0)
    {
      for (size_t i = 0; i < m; i++)
        close (keep[i]);
      return;
    }
  pid_t pid = fork ();
  if (pid == 0)
    {
      if (fork () == 0)
        {
          char c;
          keep[m++] = p[0];
          qsort (keep, m, sizeof *keep, cmp_int);
          close_all_but (keep, m);
          /* EOF once this process has closed its copies: then ours is the last close */
          while (read (p[0], &c, 1) < 0 && errno == EINTR)
            ;
        }
      _exit (0);
    }
  for (size_t i = 0; i < m; i++)
    close (keep[i]);
  close (p[1]);
  close (p[0]);
  if (pid > 0)
    while (waitpid (pid, NULL, 0) < 0 && errno == EINTR)
      ;
}

/* Run one command buffer; the output (if wanted) and nft's own error text come back. */
static int nft_run (const char *script, char **output, berr_t *err)
{
  /* Only a commit that removes something makes the close wait (see ctx_free_detached). */
  bool removes = strstr (script, "delete") || strstr (script, "flush") || strstr (script, "destroy")
                 || strstr (script, "replace");
  if (lazy_nft_load (err) < 0)
    return -1;
  /* A context per call: its netlink socket belongs to the network namespace current when it is
   * made, and callers (tests, the runtime) may switch namespaces between calls. */
  struct nft_ctx *ctx = nft_ctx_new (NFT_CTX_DEFAULT);
  if (ctx == NULL)
    return berr_set (err, errno, "nftables: cannot create a context");
  /* Core code never writes to stdout: keep both of nft's streams in memory. */
  nft_ctx_buffer_output (ctx);
  nft_ctx_buffer_error (ctx);
  int r = nft_run_cmd_from_buffer (ctx, script);
  if (r != 0)
    {
      cleanup_free char *msg = error_lines (nft_ctx_get_error_buffer (ctx));
      nft_ctx_free (ctx); /* a failed transaction changed nothing */
      return berr_set (err, 0, "nftables: %s", msg);
    }
  if (output)
    {
      const char *o = nft_ctx_get_output_buffer (ctx);
      *output = xstrdup (o ? o : "");
    }
  if (removes)
    ctx_free_detached (ctx);
  else
    nft_ctx_free (ctx);
  return 0;
}

int nft_apply (const char *script, berr_t *err) { return nft_run (script, NULL, err); }

/* nft's identifiers: a letter first, then letters, digits, '_' and '-'. */
static bool table_name_ok (const char *s)
{
  if (s == NULL || !((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z')) || strlen (s) > 64)
    return false;
  for (; *s; s++)
    if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9')
          || *s == '_' || *s == '-'))
      return false;
  return true;
}

/* Interface names as the kernel allows them (IFNAMSIZ, no '/', no spaces), and nothing that
 * could close the quoted string in the script. */
static bool ifname_ok (const char *s)
{
  if (s == NULL || *s == '\0' || strlen (s) > 15)
    return false;
  for (; *s; s++)
    if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9')
          || *s == '_' || *s == '-' || *s == '.'))
      return false;
  return true;
}

static int model_check (const struct nft_model *m, berr_t *err)
{
  if (!table_name_ok (m->table))
    return berr_setk (err, BERR_INVALID, 0, "invalid nftables table name '%s'",
                      m->table ? m->table : "");
  for (size_t i = 0; i < m->nnetworks; i++)
    {
      const struct nft_network *n = &m->networks[i];
      if (!ifname_ok (n->bridge))
        return berr_setk (err, BERR_INVALID, 0, "invalid bridge name '%s'",
                          n->bridge ? n->bridge : "");
      if (n->prefix < 1 || n->prefix > 32)
        return berr_setk (err, BERR_INVALID, 0, "invalid prefix length %d for %s", n->prefix,
                          n->bridge);
    }
  for (size_t i = 0; i < m->nports; i++)
    {
      const struct nft_port *p = &m->ports[i];
      if (p->proto == NULL
          || (strcmp (p->proto, "tcp") && strcmp (p->proto, "udp") && strcmp (p->proto, "sctp")))
        return berr_setk (err, BERR_INVALID, 0, "invalid protocol '%s'", p->proto ? p->proto : "");
      if (p->host_port == 0 || p->ctr_port == 0 || p->ctr_ip == 0)
        return berr_setk (err, BERR_INVALID, 0, "invalid port mapping %u -> %u", p->host_port,
                          p->ctr_port);
      if (p->bridge && !ifname_ok (p->bridge))
        return berr_setk (err, BERR_INVALID, 0, "invalid bridge name '%s'", p->bridge);
    }
  return 0;
}

int nft_sync (const struct nft_model *m, berr_t *err)
{
  if (model_check (m, err) < 0)
    return -1;
  cleanup_free char *script = nft_render (m);
  if (nft_apply (script, err) < 0)
    return berr_wrap (err, "replace nftables table %s", m->table);
  return 0;
}

int nft_remove_table (const char *table, berr_t *err)
{
  if (!table_name_ok (table))
    return berr_setk (err, BERR_INVALID, 0, "invalid nftables table name '%s'", table ? table : "");
  struct nft_model m = { .table = table };
  cleanup_free char *script = nft_render (&m);
  if (nft_apply (script, err) < 0)
    return berr_wrap (err, "remove nftables table %s", table);
  return 0;
}

int nft_forward_drops (const char *own_table, char **where, berr_t *err)
{
  *where = NULL;
  cleanup_free char *out = NULL;
  if (nft_run ("list chains", &out, err) < 0)
    return -1;
  /* "table ip filter {" / "chain FORWARD {" / "type filter hook forward priority filter;
   * policy drop;" as nft lists them. */
  char family[128] = "", table[128] = "", chain[128] = "";
  int found = 0;
  char *save = NULL;
  for (char *line = strtok_r (out, "\n", &save); line; line = strtok_r (NULL, "\n", &save))
    {
      char a[128], b[128];
      if (sscanf (line, " table %127s %127s {", a, b) == 2)
        {
          snprintf (family, sizeof family, "%s", a);
          snprintf (table, sizeof table, "%s", b);
        }
      else if (sscanf (line, " chain %127s {", a) == 1)
        snprintf (chain, sizeof chain, "%s", a);
      else if (strstr (line, "hook forward") && strstr (line, "policy drop")
               && (strcmp (family, "ip") == 0 || strcmp (family, "inet") == 0)
               && !(own_table && strcmp (table, own_table) == 0 && strcmp (family, "ip") == 0))
        {
          if (found++ == 0)
            *where = xasprintf ("%s %s %s", family, table, chain);
        }
    }
  return found;
}
