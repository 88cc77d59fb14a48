/* spec.c — short port and volume syntax.  Error texts are compose's, so scripts and users see
 * what they would see with docker compose. */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "compose/spec.h"

static bool parse_u16 (const char *s, size_t n, unsigned *out)
{
  if (n == 0 || n > 5)
    return false;
  unsigned v = 0;
  for (size_t i = 0; i < n; i++)
    {
      if (!isdigit ((unsigned char)s[i]))
        return false;
      v = v * 10 + (unsigned)(s[i] - '0');
    }
  if (v > 65535)
    return false;
  *out = v;
  return true;
}

static bool parse_range (const char *s, unsigned *start, unsigned *end)
{
  const char *dash = strchr (s, '-');
  if (dash == NULL)
    {
      if (!parse_u16 (s, strlen (s), start))
        return false;
      *end = *start;
      return true;
    }
  return parse_u16 (s, (size_t)(dash - s), start) && parse_u16 (dash + 1, strlen (dash + 1), end)
         && *end >= *start;
}

static bool valid_ip (const char *ip)
{
  unsigned char buf[16];
  return inet_pton (AF_INET, ip, buf) == 1 || inet_pton (AF_INET6, ip, buf) == 1;
}

int compose_parse_port (const char *spec, struct cnode **out, berr_t *err)
{
  /* Split on ':' from the right: container, host, and whatever is left is the address (an IPv6
   * address has colons of its own). */
  cleanup_free char *copy = xstrdup (spec);
  char *ip = NULL, *host = NULL, *cont = copy;
  char *last = strrchr (copy, ':');
  if (last)
    {
      *last = '\0';
      cont = last + 1;
      char *prev = strrchr (copy, ':');
      if (prev)
        {
          *prev = '\0';
          host = prev + 1;
          ip = copy;
        }
      else
        host = copy;
    }
  const char *proto = "tcp";
  char *slash = strchr (cont, '/');
  if (slash)
    {
      *slash = '\0';
      if (slash[1])
        proto = slash + 1;
    }
  if (ip && ip[0] == '[')
    {
      size_t l = strlen (ip);
      if (l < 2 || ip[l - 1] != ']')
        return berr_setk (err, BERR_INVALID, 0, "Invalid ip address: %s", ip);
      ip[l - 1] = '\0';
      ip++;
    }
  if (ip && *ip && !valid_ip (ip))
    return berr_setk (err, BERR_INVALID, 0, "Invalid ip address: %s", ip);
  if (*cont == '\0')
    return berr_setk (err, BERR_INVALID, 0, "No port specified: %s<empty>", spec);
  unsigned cs, ce, hs = 0, he = 0;
  if (!parse_range (cont, &cs, &ce))
    return berr_setk (err, BERR_INVALID, 0, "Invalid containerPort: %s", cont);
  bool has_host = host && *host;
  if (has_host && !parse_range (host, &hs, &he))
    return berr_setk (err, BERR_INVALID, 0, "Invalid hostPort: %s", host);
  if (has_host && ce - cs != he - hs && ce != cs)
    return berr_setk (err, BERR_INVALID, 0,
                      "Invalid ranges specified for container and host Ports: %s and %s", cont,
                      host);
  if (strcmp (proto, "tcp") != 0 && strcmp (proto, "udp") != 0 && strcmp (proto, "sctp") != 0)
    return berr_setk (err, BERR_INVALID, 0, "Invalid proto: %s", proto);
  struct cnode *seq = cnode_new (CN_SEQ);
  for (unsigned i = 0; i <= ce - cs; i++)
    {
      struct cnode *p = cnode_new (CN_MAP);
      cnode_set (p, "mode", cnode_str ("ingress"));
      if (ip && *ip)
        cnode_set (p, "host_ip", cnode_str (ip));
      cnode_set (p, "target", cnode_int (cs + i));
      if (has_host)
        {
          if (cs == ce && hs != he)
            cnode_set (p, "published", cnode_strf ("%u-%u", hs, he));
          else
            cnode_set (p, "published", cnode_strf ("%u", hs + i));
        }
      cnode_set (p, "protocol", cnode_str (proto));
      cnode_push (seq, p);
    }
  *out = seq;
  return 0;
}

static bool is_drive (const struct sbuf *b, char c)
{
  return c == ':' && b->len == 1 && isalpha ((unsigned char)b->buf[0]);
}

static bool is_file_path (const char *s)
{
  if (*s == '\0')
    return false;
  if (*s == '.' || *s == '/' || *s == '~')
    return true;
  if (s[0] == '\\' && s[1] == '\\')
    return true;
  return isalpha ((unsigned char)s[0]) && s[1] == ':';
}

static struct cnode *sub_map (struct cnode *vol, const char *key)
{
  struct cnode *m = cnode_get (vol, key);
  if (m == NULL)
    {
      m = cnode_new (CN_MAP);
      cnode_set (vol, key, m);
    }
  return m;
}

static int volume_field (struct cnode *vol, const char *buf, size_t len, bool at_end, berr_t *err)
{
  if (len == 0)
    return berr_setk (err, BERR_INVALID, 0, "empty section between colons");
  bool has_src = cnode_get (vol, "source") != NULL, has_tgt = cnode_get (vol, "target") != NULL;
  if (!has_src && at_end)
    {
      cnode_set (vol, "target", cnode_str (buf));
      return 0;
    }
  if (!has_src)
    {
      cnode_set (vol, "source", cnode_str (buf));
      return 0;
    }
  if (!has_tgt)
    {
      cnode_set (vol, "target", cnode_str (buf));
      return 0;
    }
  if (!at_end)
    return berr_setk (err, BERR_INVALID, 0, "too many colons");
  cleanup_free char *opts = xstrdup (buf);
  char *save = NULL;
  for (char *o = strtok_r (opts, ",", &save); o; o = strtok_r (NULL, ",", &save))
    if (strcmp (o, "ro") == 0 || strcmp (o, "rw") == 0)
      cnode_set (vol, "read_only", cnode_bool (o[1] == 'o'));
    else if (strcmp (o, "nocopy") == 0)
      cnode_set (sub_map (vol, "volume"), "nocopy", cnode_bool (true));
    else if (strcmp (o, "z") == 0 || strcmp (o, "Z") == 0)
      cnode_set (sub_map (vol, "bind"), "selinux", cnode_str (o));
    else if (strcmp (o, "private") == 0 || strcmp (o, "rprivate") == 0 || strcmp (o, "shared") == 0
             || strcmp (o, "rshared") == 0 || strcmp (o, "slave") == 0 || strcmp (o, "rslave") == 0)
      cnode_set (sub_map (vol, "bind"), "propagation", cnode_str (o));
  /* Unknown options are ignored, as compose does. */
  return 0;
}

static void volume_type (struct cnode *vol)
{
  /* Keys in compose's order: type, source, target, read_only, bind, volume. */
  struct cnode *t = cnode_new (CN_MAP);
  const char *src = cnode_text (cnode_get (vol, "source"));
  bool bind = src && is_file_path (src);
  cnode_set (t, "type", cnode_str (bind ? "bind" : "volume"));
  static const char *const order[] = { "source", "target", "read_only", "bind", "volume" };
  for (size_t i = 0; i < ARRAY_SIZE (order); i++)
    {
      struct cnode *v = cnode_take (vol, order[i]);
      if (v)
        cnode_set (t, order[i], v);
    }
  if (bind)
    {
      struct cnode *b = cnode_take (t, "bind");
      struct cnode *nb = cnode_new (CN_MAP);
      cnode_set (nb, "create_host_path", cnode_bool (true));
      for (size_t i = 0; b && i < b->n; i++)
        cnode_set (nb, b->ents[i].key, cnode_copy (b->ents[i].val));
      cnode_free (b);
      cnode_set (t, "bind", nb);
    }
  else
    sub_map (t, "volume");
  /* vol becomes t. */
  struct cnode tmp = *vol;
  *vol = *t;
  *t = tmp;
  cnode_free (t);
}

int compose_parse_volume (const char *spec, struct cnode **out, berr_t *err)
{
  size_t len = strlen (spec);
  if (len == 0)
    return berr_setk (err, BERR_INVALID, 0, "invalid empty volume spec");
  cleanup_cnode struct cnode *vol = cnode_new (CN_MAP);
  if (len <= 2)
    {
      cnode_set (vol, "type", cnode_str ("volume"));
      cnode_set (vol, "target", cnode_str (spec));
      *out = steal_pointer (&vol);
      return 0;
    }
  cleanup_sbuf struct sbuf b;
  sbuf_init (&b);
  int invar = 0;
  for (size_t i = 0; i <= len; i++)
    {
      char c = spec[i]; /* '\0' ends the spec */
      if (c != '\0' && is_drive (&b, c))
        sbuf_addc (&b, c);
      else if (c == '{' && b.len && b.buf[b.len - 1] == '$')
        invar++, sbuf_addc (&b, c);
      else if (c == '}' && invar > 0)
        invar--, sbuf_addc (&b, c);
      else if ((c == ':' || c == '\0') && invar == 0)
        {
          sbuf_adds (&b, "");
          cleanup_berr berr_t e = BERR_INIT;
          if (volume_field (vol, b.buf, b.len, c == '\0', &e) < 0)
            return berr_setk (err, BERR_INVALID, 0, "invalid spec: %s: %s", spec, e.msg);
          sbuf_reset (&b);
        }
      else if (c != '\0')
        sbuf_addc (&b, c);
    }
  volume_type (vol);
  *out = steal_pointer (&vol);
  return 0;
}

char *compose_volume_string (const struct cnode *vol)
{
  struct sbuf b;
  sbuf_init (&b);
  const char *src = cnode_text (cnode_get (vol, "source"));
  const char *tgt = cnode_text (cnode_get (vol, "target"));
  const char *ro = cnode_text (cnode_get (vol, "read_only"));
  sbuf_addf (&b, "%s:%s:%s", src ? src : "", tgt ? tgt : "",
             ro && strcmp (ro, "true") == 0 ? "ro" : "rw");
  struct cnode *bind = cnode_get (vol, "bind");
  const char *se = cnode_text (cnode_get (bind, "selinux"));
  const char *pr = cnode_text (cnode_get (bind, "propagation"));
  if (se && *se)
    sbuf_addf (&b, ",%s", se);
  if (pr && *pr)
    sbuf_addf (&b, ",%s", pr);
  const char *nc = cnode_text (cnode_get (cnode_get (vol, "volume"), "nocopy"));
  if (nc && strcmp (nc, "true") == 0)
    sbuf_adds (&b, ",nocopy");
  return sbuf_detach (&b);
}
