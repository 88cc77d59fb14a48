/* node.c — cnode: building, copying, comparing, JSON conversion and positions. */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "compose/node.h"

struct cnode *cnode_new (enum cnode_kind kind)
{
  struct cnode *n = xzalloc (sizeof *n);
  n->kind = kind;
  return n;
}

struct cnode *cnode_str (const char *s)
{
  struct cnode *n = cnode_new (CN_SCALAR);
  n->str = xstrdup (s);
  return n;
}

struct cnode *cnode_strf (const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  struct cnode *n = cnode_new (CN_SCALAR);
  n->str = xvasprintf (fmt, ap);
  va_end (ap);
  return n;
}

struct cnode *cnode_int (int64_t v)
{
  struct cnode *n = cnode_strf ("%lld", (long long)v);
  n->plain = true;
  return n;
}

struct cnode *cnode_bool (bool v)
{
  struct cnode *n = cnode_str (v ? "true" : "false");
  n->plain = true;
  return n;
}

void cnode_free (struct cnode *n)
{
  if (n == NULL)
    return;
  if (n->kind == CN_MAP)
    for (size_t i = 0; i < n->n; i++)
      {
        free (n->ents[i].key);
        cnode_free (n->ents[i].val);
      }
  if (n->kind == CN_SEQ)
    for (size_t i = 0; i < n->n; i++)
      cnode_free (n->items[i]);
  free (n->ents);
  free (n->items);
  free (n->str);
  free (n->file);
  free (n);
}

void cnode_pos_from (struct cnode *dst, const struct cnode *src)
{
  if (dst->file || src == NULL || src->file == NULL)
    return;
  dst->file = xstrdup (src->file);
  dst->line = src->line;
  dst->col = src->col;
}

struct cnode *cnode_copy (const struct cnode *n)
{
  struct cnode *c = cnode_new (n->kind);
  c->str = n->str ? xstrdup (n->str) : NULL;
  c->plain = n->plain;
  cnode_pos_from (c, n);
  if (n->kind == CN_MAP)
    for (size_t i = 0; i < n->n; i++)
      {
        cnode_set (c, n->ents[i].key, cnode_copy (n->ents[i].val));
        c->ents[c->n - 1].kline = n->ents[i].kline;
        c->ents[c->n - 1].kcol = n->ents[i].kcol;
      }
  if (n->kind == CN_SEQ)
    for (size_t i = 0; i < n->n; i++)
      cnode_push (c, cnode_copy (n->items[i]));
  return c;
}

struct cnode *cnode_get (const struct cnode *map, const char *key)
{
  if (map == NULL || map->kind != CN_MAP)
    return NULL;
  for (size_t i = 0; i < map->n; i++)
    if (strcmp (map->ents[i].key, key) == 0)
      return map->ents[i].val;
  return NULL;
}

void cnode_set (struct cnode *map, const char *key, struct cnode *val)
{
  for (size_t i = 0; i < map->n; i++)
    if (strcmp (map->ents[i].key, key) == 0)
      {
        cnode_free (map->ents[i].val);
        map->ents[i].val = val;
        return;
      }
  if (map->n == map->cap)
    {
      map->cap = map->cap ? map->cap * 2 : 8;
      map->ents = xrealloc (map->ents, map->cap * sizeof *map->ents);
    }
  map->ents[map->n].key = xstrdup (key);
  map->ents[map->n].val = val;
  map->ents[map->n].kline = map->ents[map->n].kcol = 0;
  map->n++;
}

struct cnode *cnode_take (struct cnode *map, const char *key)
{
  if (map == NULL || map->kind != CN_MAP)
    return NULL;
  for (size_t i = 0; i < map->n; i++)
    if (strcmp (map->ents[i].key, key) == 0)
      {
        struct cnode *v = map->ents[i].val;
        free (map->ents[i].key);
        memmove (&map->ents[i], &map->ents[i + 1], (map->n - i - 1) * sizeof *map->ents);
        map->n--;
        return v;
      }
  return NULL;
}

void cnode_del (struct cnode *map, const char *key) { cnode_free (cnode_take (map, key)); }

void cnode_push (struct cnode *seq, struct cnode *val)
{
  if (seq->n == seq->cap)
    {
      seq->cap = seq->cap ? seq->cap * 2 : 8;
      seq->items = xrealloc (seq->items, seq->cap * sizeof *seq->items);
    }
  seq->items[seq->n++] = val;
}

static int cmp_entry (const void *a, const void *b)
{
  return strcmp (((const struct centry *)a)->key, ((const struct centry *)b)->key);
}

void cnode_sort_keys (struct cnode *map)
{
  if (map->kind == CN_MAP && map->n > 1)
    qsort (map->ents, map->n, sizeof *map->ents, cmp_entry);
}

const char *cnode_text (const struct cnode *n) { return n && n->kind == CN_SCALAR ? n->str : NULL; }

bool cnode_equal (const struct cnode *a, const struct cnode *b)
{
  if (a == NULL || b == NULL)
    return a == b;
  if (a->kind != b->kind || a->n != b->n)
    return false;
  switch (a->kind)
    {
    case CN_NULL:
      return true;
    case CN_SCALAR:
      return strcmp (a->str, b->str) == 0;
    case CN_MAP:
      for (size_t i = 0; i < a->n; i++)
        if (!cnode_equal (a->ents[i].val, cnode_get (b, a->ents[i].key)))
          return false;
      return true;
    case CN_SEQ:
      for (size_t i = 0; i < a->n; i++)
        if (!cnode_equal (a->items[i], b->items[i]))
          return false;
      return true;
    }
  return false;
}

static bool is_int_text (const char *s, int64_t *v)
{
  const char *d = s;
  if (*d == '-' || *d == '+')
    d++;
  if (*d == '\0')
    return false;
  int base = 10;
  if (d[0] == '0' && d[1] == 'x')
    base = 16, d += 2;
  else if (d[0] == '0' && d[1] == 'o')
    base = 8, d += 2;
  if (*d == '\0')
    return false;
  for (const char *p = d; *p; p++)
    if (!(base == 16 ? strchr ("0123456789abcdefABCDEF", *p) != NULL
                     : (*p >= '0' && *p < '0' + base)))
      return false;
  errno = 0;
  long long x = strtoll (d, NULL, base);
  if (errno)
    return false;
  *v = *s == '-' ? -x : x;
  return true;
}

static bool is_float_text (const char *s)
{
  const char *d = s;
  if (*d == '-' || *d == '+')
    d++;
  if (strcmp (d, ".inf") == 0 || strcmp (d, ".Inf") == 0 || strcmp (s, ".nan") == 0)
    return true;
  bool digits = false, dot = false;
  for (; *d && *d != 'e' && *d != 'E'; d++)
    if (*d >= '0' && *d <= '9')
      digits = true;
    else if (*d == '.' && !dot)
      dot = true;
    else
      return false;
  if (!digits)
    return false;
  if (*d)
    {
      d++;
      if (*d == '-' || *d == '+')
        d++;
      if (*d == '\0')
        return false;
      for (; *d; d++)
        if (*d < '0' || *d > '9')
          return false;
    }
  return true;
}

json_type cnode_scalar_type (const struct cnode *n)
{
  if (n->kind == CN_NULL)
    return JSON_NULL;
  if (n->kind != CN_SCALAR || !n->plain)
    return JSON_STRING;
  const char *s = n->str;
  if (*s == '\0' || strcmp (s, "~") == 0 || strcmp (s, "null") == 0 || strcmp (s, "Null") == 0
      || strcmp (s, "NULL") == 0)
    return JSON_NULL;
  if (strcmp (s, "true") == 0 || strcmp (s, "True") == 0 || strcmp (s, "TRUE") == 0)
    return JSON_TRUE;
  if (strcmp (s, "false") == 0 || strcmp (s, "False") == 0 || strcmp (s, "FALSE") == 0)
    return JSON_FALSE;
  int64_t v;
  if (is_int_text (s, &v))
    return JSON_INTEGER;
  if (is_float_text (s))
    return JSON_REAL;
  return JSON_STRING;
}

json_t *cnode_to_json (const struct cnode *n)
{
  switch (n->kind)
    {
    case CN_NULL:
      return json_null ();
    case CN_SCALAR:
      switch (cnode_scalar_type (n))
        {
        case JSON_NULL:
          return json_null ();
        case JSON_TRUE:
          return json_true ();
        case JSON_FALSE:
          return json_false ();
        case JSON_INTEGER:
          {
            int64_t v = 0;
            is_int_text (n->str, &v);
            return json_integer (v);
          }
        case JSON_REAL:
          return json_real (strtod (n->str, NULL));
        default:
          return json_string (n->str);
        }
    case CN_MAP:
      {
        json_t *o = json_object ();
        for (size_t i = 0; i < n->n; i++)
          json_object_set_new (o, n->ents[i].key, cnode_to_json (n->ents[i].val));
        return o;
      }
    case CN_SEQ:
      {
        json_t *a = json_array ();
        for (size_t i = 0; i < n->n; i++)
          json_array_append_new (a, cnode_to_json (n->items[i]));
        return a;
      }
    }
  return json_null ();
}

struct cnode *cnode_from_json (json_t *j)
{
  switch (json_typeof (j))
    {
    case JSON_OBJECT:
      {
        struct cnode *m = cnode_new (CN_MAP);
        const char *k;
        json_t *v;
        json_object_foreach (j, k, v) cnode_set (m, k, cnode_from_json (v));
        return m;
      }
    case JSON_ARRAY:
      {
        struct cnode *s = cnode_new (CN_SEQ);
        size_t i;
        json_t *v;
        json_array_foreach (j, i, v) cnode_push (s, cnode_from_json (v));
        return s;
      }
    case JSON_STRING:
      return cnode_str (json_string_value (j));
    case JSON_INTEGER:
      return cnode_int (json_integer_value (j));
    case JSON_REAL:
      {
        struct cnode *n = cnode_strf ("%.17g", json_real_value (j));
        n->plain = true;
        return n;
      }
    case JSON_TRUE:
      return cnode_bool (true);
    case JSON_FALSE:
      return cnode_bool (false);
    default:
      return cnode_new (CN_NULL);
    }
}

char *cnode_where (const struct cnode *n)
{
  if (n == NULL || n->file == NULL)
    return xstrdup ("");
  return xasprintf ("%s:%u:%u: ", n->file, n->line, n->col);
}

int cnode_fail (berr_t *err, const struct cnode *n, const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  cleanup_free char *msg = xvasprintf (fmt, ap);
  va_end (ap);
  cleanup_free char *where = cnode_where (n);
  return berr_setk (err, BERR_INVALID, 0, "%s%s", where, msg);
}
