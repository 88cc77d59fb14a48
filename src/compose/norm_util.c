/* norm_util.c — type checks and canonical scalars for the normaliser.  Messages follow compose's
 * schema validation ("services.web.tty must be a boolean"), with file:line:col in front. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "compose/norm_util.h"
#include "util/fs.h"
#include "util/units.h"

int nfail (struct nctx *c, const struct cnode *n, const char *path, const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  cleanup_free char *msg = xvasprintf (fmt, ap);
  va_end (ap);
  /* Schema-like messages read "services.web.tty must be a boolean"; the others put a colon
   * after the path. */
  bool schema = str_has_prefix (msg, "must") || str_has_prefix (msg, "is ");
  return cnode_fail (c->err, n, "%s%s%s", path, *path ? (schema ? " " : ": ") : "", msg);
}

void replace_node (struct cnode **slot, struct cnode *nn)
{
  cnode_pos_from (nn, *slot);
  cnode_free (*slot);
  *slot = nn;
}

static void make_string (struct cnode *n) { n->plain = false; }

int want_str (struct nctx *c, struct cnode *n, const char *path)
{
  if (n->kind != CN_SCALAR)
    return nfail (c, n, path, "must be a string");
  make_string (n);
  return 0;
}

static bool text_bool (const char *s, bool *v)
{
  static const char *const t[] = { "true", "True", "TRUE", "yes", "y", "on", "1" };
  static const char *const f[] = { "false", "False", "FALSE", "no", "n", "off", "0" };
  for (size_t i = 0; i < ARRAY_SIZE (t); i++)
    if (strcmp (s, t[i]) == 0)
      return *v = true, true;
  for (size_t i = 0; i < ARRAY_SIZE (f); i++)
    if (strcmp (s, f[i]) == 0)
      return *v = false, true;
  return false;
}

int want_bool (struct nctx *c, struct cnode *n, const char *path)
{
  bool v;
  if (n->kind != CN_SCALAR || !text_bool (n->str, &v))
    return nfail (c, n, path, "must be a boolean");
  free (n->str);
  n->str = xstrdup (v ? "true" : "false");
  n->plain = true;
  return 0;
}

int want_int (struct nctx *c, struct cnode *n, const char *path, int64_t *v)
{
  struct cnode probe = { .kind = CN_SCALAR, .str = n->str, .plain = true };
  if (n->kind != CN_SCALAR || cnode_scalar_type (&probe) != JSON_INTEGER)
    return nfail (c, n, path, "must be a integer");
  char *end;
  long long x = strtoll (n->str, &end, 0);
  if (v)
    *v = x;
  n->plain = true;
  return 0;
}

int want_number (struct nctx *c, struct cnode *n, const char *path)
{
  struct cnode probe = { .kind = CN_SCALAR, .str = n->str, .plain = true };
  json_type t = n->kind == CN_SCALAR ? cnode_scalar_type (&probe) : JSON_NULL;
  if (t != JSON_INTEGER && t != JSON_REAL)
    return nfail (c, n, path, "must be a number");
  n->plain = true;
  return 0;
}

int want_map (struct nctx *c, struct cnode *n, const char *path)
{
  if (n->kind != CN_MAP)
    return nfail (c, n, path, "must be a mapping");
  return 0;
}

int want_seq (struct nctx *c, struct cnode *n, const char *path)
{
  if (n->kind != CN_SEQ)
    return nfail (c, n, path, "must be a list");
  return 0;
}

int want_strlist (struct nctx *c, struct cnode *n, const char *path)
{
  if (want_seq (c, n, path) < 0)
    return -1;
  for (size_t i = 0; i < n->n; i++)
    {
      cleanup_free char *p = xasprintf ("%s[%zu]", path, i);
      if (want_str (c, n->items[i], p) < 0)
        return -1;
    }
  return 0;
}

int want_str_or_list (struct nctx *c, struct cnode **slot, const char *path)
{
  struct cnode *n = *slot;
  if (n->kind == CN_SCALAR)
    {
      struct cnode *s = cnode_new (CN_SEQ);
      cnode_pos_from (s, n);
      make_string (n);
      cnode_push (s, n);
      *slot = s;
      return 0;
    }
  if (n->kind != CN_SEQ)
    return nfail (c, n, path, "must be a string or a list");
  return want_strlist (c, n, path);
}

int want_list_or_dict (struct nctx *c, struct cnode **slot, const char *path, bool allow_null)
{
  struct cnode *n = *slot;
  if (n->kind == CN_MAP)
    {
      for (size_t i = 0; i < n->n; i++)
        {
          struct cnode *v = n->ents[i].val;
          cleanup_free char *p = xasprintf ("%s.%s", path, n->ents[i].key);
          if (v->kind == CN_NULL)
            {
              if (!allow_null)
                replace_node (&n->ents[i].val, cnode_str (""));
              continue;
            }
          if (v->kind != CN_SCALAR)
            return nfail (c, v, p, "must be a string, number, boolean or null");
          make_string (v);
        }
      return 0;
    }
  if (n->kind != CN_SEQ)
    return nfail (c, n, path, "must be a mapping or a list");
  struct cnode *m = cnode_new (CN_MAP);
  cnode_pos_from (m, n);
  for (size_t i = 0; i < n->n; i++)
    {
      struct cnode *it = n->items[i];
      cleanup_free char *p = xasprintf ("%s[%zu]", path, i);
      if (it->kind != CN_SCALAR)
        {
          cnode_free (m);
          return nfail (c, it, p, "must be a string");
        }
      const char *eq = strchr (it->str, '=');
      cleanup_free char *k = eq ? xstrndup (it->str, (size_t)(eq - it->str)) : xstrdup (it->str);
      struct cnode *v
          = eq ? cnode_str (eq + 1) : (allow_null ? cnode_new (CN_NULL) : cnode_str (""));
      cnode_pos_from (v, it);
      cnode_set (m, k, v);
    }
  replace_node (slot, m);
  return 0;
}

int want_size (struct nctx *c, struct cnode **slot, const char *path)
{
  struct cnode *n = *slot;
  if (n->kind != CN_SCALAR)
    return nfail (c, n, path, "must be a string or number");
  int64_t v;
  cleanup_berr berr_t e = BERR_INIT;
  if (units_ram_in_bytes (n->str, &v, &e) < 0)
    return nfail (c, n, path, "invalid size %s: %s", n->str, e.msg);
  /* A string of digits, as compose prints byte counts ("2147483648"). */
  replace_node (slot, cnode_strf ("%lld", (long long)v));
  return 0;
}

char *go_duration_string (int64_t ns)
{
  if (ns == 0)
    return xstrdup ("0s");
  struct sbuf b;
  sbuf_init (&b);
  if (ns < 0)
    sbuf_addc (&b, '-'), ns = -ns;
  if (ns < 1000000000)
    {
      /* Go prints sub-second durations in the largest unit that keeps an integer part. */
      const char *unit = "ns";
      double v = (double)ns;
      if (ns >= 1000000)
        unit = "ms", v /= 1e6;
      else if (ns >= 1000)
        unit = "µs", v /= 1e3;
      sbuf_addf (&b, "%g%s", v, unit);
      return sbuf_detach (&b);
    }
  int64_t h = ns / 3600000000000LL, m = ns / 60000000000LL % 60;
  int64_t s = ns / 1000000000 % 60, frac = ns % 1000000000;
  if (h)
    sbuf_addf (&b, "%lldh", (long long)h);
  if (h || m)
    sbuf_addf (&b, "%lldm", (long long)m);
  sbuf_addf (&b, "%lld", (long long)s);
  if (frac)
    {
      char f[16];
      snprintf (f, sizeof f, "%09lld", (long long)frac);
      for (int i = 8; i > 0 && f[i] == '0'; i--)
        f[i] = '\0';
      sbuf_addf (&b, ".%s", f);
    }
  sbuf_addc (&b, 's');
  return sbuf_detach (&b);
}

int want_duration (struct nctx *c, struct cnode **slot, const char *path, int64_t *ns)
{
  struct cnode *n = *slot;
  if (n->kind != CN_SCALAR)
    return nfail (c, n, path, "must be a string");
  int64_t v;
  cleanup_berr berr_t e = BERR_INIT;
  /* A bare integer is taken as seconds, as compose does for stop_grace_period: 10. */
  int64_t secs;
  struct cnode probe = { .kind = CN_SCALAR, .str = n->str, .plain = true };
  if (cnode_scalar_type (&probe) == JSON_INTEGER)
    {
      secs = strtoll (n->str, NULL, 10);
      v = secs * 1000000000LL;
    }
  else if (units_parse_duration (n->str, &v, &e) < 0)
    return nfail (c, n, path, "invalid duration %s", n->str);
  if (ns)
    *ns = v;
  cleanup_free char *s = go_duration_string (v);
  replace_node (slot, cnode_str (s));
  return 0;
}

int check_keys (struct nctx *c, struct cnode *map, const char *path, const char *const *allowed)
{
  for (size_t i = 0; i < map->n; i++)
    {
      const char *k = map->ents[i].key;
      if (str_has_prefix (k, "x-"))
        continue;
      bool ok = false;
      for (size_t a = 0; allowed[a] && !ok; a++)
        ok = strcmp (allowed[a], k) == 0;
      if (!ok)
        {
          struct cnode at = { .file = map->ents[i].val->file,
                              .line = map->ents[i].kline,
                              .col = map->ents[i].kcol };
          return cnode_fail (c->err, at.line ? &at : map->ents[i].val,
                             "%s%sAdditional property %s is not allowed", path, *path ? " " : "",
                             k);
        }
    }
  return 0;
}

char *resolve_path (struct nctx *c, const char *p)
{
  if (p[0] == '/')
    return xstrdup (p);
  if (p[0] == '~' && (p[1] == '/' || p[1] == '\0'))
    {
      const char *home = compose_lookup_map ("HOME", (void *)c->env);
      if (home == NULL)
        home = getenv ("HOME");
      return xasprintf ("%s%s", home ? home : "", p + 1);
    }
  cleanup_free char *j = xasprintf ("%s/%s", c->wd, p);
  return fs_path_clean (j);
}
