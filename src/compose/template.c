/* template.c — ${VAR} substitution as compose-go's template package does it.
 *
 * Names are [A-Za-z_][A-Za-z0-9_]*; a "$" that starts nothing (not "$$", "${" or "$name") is
 * kept literally.  The text after an operator runs to the matching "}" counting nested "${", and
 * is itself a template, substituted only when the operator needs it (so "${A:+${A},}" does not
 * look up A twice and "${A?${B}}" never looks at B when A is set). */
#include <string.h>

#include "compose/interp.h"

const char *compose_lookup_map (const char *name, void *data)
{
  struct cnode *v = cnode_get (data, name);
  if (v == NULL)
    return NULL;
  return v->kind == CN_SCALAR ? v->str : "";
}

static bool name_start (char c)
{
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
}
static bool name_char (char c) { return name_start (c) || (c >= '0' && c <= '9'); }

static int invalid (const char *tmpl, berr_t *err)
{
  return berr_setk (err, BERR_INVALID, 0, "Invalid template: \"%s\"", tmpl);
}

static int subst (const char *tmpl, const char *s, size_t len, compose_lookup_fn lookup, void *data,
                  struct sbuf *out, int depth, berr_t *err);

/* The braced form at s (just after "${"); *used is how many bytes it took, "}" included. */
static int braced (const char *tmpl, const char *s, size_t len, compose_lookup_fn lookup,
                   void *data, struct sbuf *out, int depth, size_t *used, berr_t *err)
{
  size_t i = 0;
  if (i >= len || !name_start (s[i]))
    return invalid (tmpl, err);
  while (i < len && name_char (s[i]))
    i++;
  cleanup_free char *name = xstrndup (s, i);
  if (i >= len)
    return invalid (tmpl, err);
  const char *val = lookup ? lookup (name, data) : NULL;
  if (s[i] == '}')
    {
      if (val)
        sbuf_adds (out, val);
      *used = i + 1;
      return 0;
    }
  bool colon = false;
  if (s[i] == ':')
    colon = true, i++;
  if (i >= len || !strchr ("-?+", s[i]))
    return invalid (tmpl, err);
  char op = s[i++];
  /* The argument runs to the "}" that closes this expression. */
  size_t start = i;
  int nest = 0;
  for (; i < len; i++)
    {
      if (s[i] == '$' && i + 1 < len && s[i + 1] == '$')
        {
          i++;
          continue;
        }
      /* Every "{" nests, so a JSON default like {"a":1} stays whole. */
      if (s[i] == '{')
        {
          nest++;
          continue;
        }
      if (s[i] == '}')
        {
          if (nest == 0)
            break;
          nest--;
        }
    }
  if (i >= len)
    return invalid (tmpl, err);
  const char *arg = s + start;
  size_t arglen = i - start;
  *used = i + 1;
  bool unset = val == NULL || (colon && *val == '\0');
  switch (op)
    {
    case '-':
      if (unset)
        return subst (tmpl, arg, arglen, lookup, data, out, depth + 1, err);
      sbuf_adds (out, val);
      return 0;
    case '+':
      if (!unset)
        return subst (tmpl, arg, arglen, lookup, data, out, depth + 1, err);
      return 0;
    default: /* '?' */
      if (!unset)
        {
          sbuf_adds (out, val);
          return 0;
        }
      {
        cleanup_sbuf struct sbuf reason;
        sbuf_init (&reason);
        if (subst (tmpl, arg, arglen, lookup, data, &reason, depth + 1, err) < 0)
          return -1;
        if (reason.len)
          return berr_setk (err, BERR_INVALID, 0, "required variable %s is missing a value: %s",
                            name, reason.buf);
        return berr_setk (err, BERR_INVALID, 0, "required variable %s is missing a value", name);
      }
    }
}

static int subst (const char *tmpl, const char *s, size_t len, compose_lookup_fn lookup, void *data,
                  struct sbuf *out, int depth, berr_t *err)
{
  if (depth > 64)
    return invalid (tmpl, err);
  for (size_t i = 0; i < len;)
    {
      if (s[i] != '$' || i + 1 >= len)
        {
          sbuf_addc (out, s[i++]);
          continue;
        }
      char c = s[i + 1];
      if (c == '$')
        {
          sbuf_addc (out, '$');
          i += 2;
        }
      else if (c == '{')
        {
          size_t used = 0;
          if (braced (tmpl, s + i + 2, len - i - 2, lookup, data, out, depth, &used, err) < 0)
            return -1;
          i += 2 + used;
        }
      else if (name_start (c))
        {
          size_t j = i + 1;
          while (j < len && name_char (s[j]))
            j++;
          cleanup_free char *name = xstrndup (s + i + 1, j - i - 1);
          const char *v = lookup ? lookup (name, data) : NULL;
          if (v)
            sbuf_adds (out, v);
          i = j;
        }
      else
        sbuf_addc (out, s[i++]);
    }
  return 0;
}

int compose_substitute (const char *tmpl, compose_lookup_fn lookup, void *data, char **out,
                        berr_t *err)
{
  cleanup_sbuf struct sbuf b;
  sbuf_init (&b);
  sbuf_adds (&b, "");
  if (subst (tmpl, tmpl, strlen (tmpl), lookup, data, &b, 0, err) < 0)
    return -1;
  *out = sbuf_detach (&b);
  return 0;
}

static int interp_node (struct cnode *n, struct sbuf *path, compose_lookup_fn lookup, void *data,
                        berr_t *err)
{
  size_t plen = path->len;
  switch (n->kind)
    {
    case CN_SCALAR:
      {
        if (n->plain && cnode_scalar_type (n) != JSON_STRING)
          return 0;
        if (strchr (n->str, '$') == NULL)
          return 0;
        char *v = NULL;
        cleanup_berr berr_t e = BERR_INIT;
        if (compose_substitute (n->str, lookup, data, &v, &e) < 0)
          {
            cleanup_free char *where = cnode_where (n);
            if (str_has_prefix (e.msg, "Invalid template"))
              return berr_setk (err, BERR_INVALID, 0,
                                "%sinvalid interpolation format for %s.\nYou may need to escape "
                                "any $ with another $.\n%s",
                                where, path->buf, n->str);
            return berr_setk (err, BERR_INVALID, 0, "%serror while interpolating %s: %s", where,
                              path->buf, e.msg);
          }
        free (n->str);
        n->str = v;
        /* A value that came from a variable is typed by the schema later, like a plain one. */
        return 0;
      }
    case CN_MAP:
      for (size_t i = 0; i < n->n; i++)
        {
          if (plen)
            sbuf_addc (path, '.');
          sbuf_adds (path, n->ents[i].key);
          int r = interp_node (n->ents[i].val, path, lookup, data, err);
          path->len = plen;
          path->buf[plen] = '\0';
          if (r < 0)
            return r;
        }
      return 0;
    case CN_SEQ:
      for (size_t i = 0; i < n->n; i++)
        {
          sbuf_addf (path, "[%zu]", i);
          int r = interp_node (n->items[i], path, lookup, data, err);
          path->len = plen;
          path->buf[plen] = '\0';
          if (r < 0)
            return r;
        }
      return 0;
    default:
      return 0;
    }
}

int compose_interpolate (struct cnode *tree, compose_lookup_fn lookup, void *data, berr_t *err)
{
  cleanup_sbuf struct sbuf path;
  sbuf_init (&path);
  sbuf_adds (&path, "");
  return interp_node (tree, &path, lookup, data, err);
}

static void record (struct cnode *out, const char *name, size_t nlen, char op, const char *arg,
                    size_t alen)
{
  cleanup_free char *nm = xstrndup (name, nlen);
  struct cnode *v = cnode_new (CN_MAP);
  cnode_set (v, "Name", cnode_str (nm));
  struct cnode *dv = cnode_new (CN_SCALAR), *pv = cnode_new (CN_SCALAR);
  dv->str = op == '-' ? xstrndup (arg, alen) : xstrdup ("");
  pv->str = op == '+' ? xstrndup (arg, alen) : xstrdup ("");
  cnode_set (v, "DefaultValue", dv);
  cnode_set (v, "PresenceValue", pv);
  cnode_set (v, "Required", cnode_bool (op == '?'));
  cnode_set (out, nm, v);
}

static void extract_str (const char *s, size_t len, struct cnode *out, int depth)
{
  if (depth > 64)
    return;
  for (size_t i = 0; i + 1 < len; i++)
    {
      if (s[i] != '$')
        continue;
      if (s[i + 1] == '$')
        {
          i++;
          continue;
        }
      if (name_start (s[i + 1]))
        {
          size_t j = i + 1;
          while (j < len && name_char (s[j]))
            j++;
          record (out, s + i + 1, j - i - 1, 0, "", 0);
          i = j - 1;
          continue;
        }
      if (s[i + 1] != '{')
        continue;
      size_t j = i + 2, ns = j;
      if (j >= len || !name_start (s[j]))
        continue;
      while (j < len && name_char (s[j]))
        j++;
      size_t nlen = j - ns;
      if (j < len && s[j] == '}')
        {
          record (out, s + ns, nlen, 0, "", 0);
          i = j;
          continue;
        }
      if (j < len && s[j] == ':')
        j++;
      if (j >= len || !strchr ("-?+", s[j]))
        continue;
      char op = s[j++];
      size_t as = j;
      int nest = 0;
      for (; j < len; j++)
        {
          if (s[j] == '$' && j + 1 < len && s[j + 1] == '$')
            {
              j++;
              continue;
            }
          if (s[j] == '{')
            nest++;
          else if (s[j] == '}' && nest-- == 0)
            break;
        }
      if (j >= len)
        continue;
      record (out, s + ns, nlen, op, s + as, j - as);
      extract_str (s + as, j - as, out, depth + 1);
      i = j;
    }
}

static void extract_node (const struct cnode *n, struct cnode *out)
{
  if (n->kind == CN_SCALAR && n->str)
    extract_str (n->str, strlen (n->str), out, 0);
  for (size_t i = 0; (n->kind == CN_MAP || n->kind == CN_SEQ) && i < n->n; i++)
    extract_node (n->kind == CN_MAP ? n->ents[i].val : n->items[i], out);
}

struct cnode *compose_extract_variables (const struct cnode *tree)
{
  struct cnode *out = cnode_new (CN_MAP);
  extract_node (tree, out);
  return out;
}
