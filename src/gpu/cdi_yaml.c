/* cdi_yaml.c — YAML (and therefore JSON) to jansson values through libyaml's event parser.
 *
 * CDI spec files come as JSON or YAML; YAML 1.1 is close enough to a superset of JSON that one
 * parser reads both.  Only what a spec needs is accepted: one document, mappings with scalar
 * keys, sequences and scalars.  Anchors and aliases are refused outright: nothing NVIDIA or the
 * reference writes uses them, and expanding them is how "billion laughs" documents grow.  Depth
 * and node count are bounded for the same reason. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "gpu/cdi_internal.h"
#include "util/json.h"

#define CDI_YAML_MAX_DEPTH 64
#define CDI_YAML_MAX_NODES 1000000

struct yconv
{
  yaml_parser_t p;
  size_t nodes;
  berr_t *err;
};

static int yfail (struct yconv *y, const yaml_mark_t *m, const char *what)
{
  return berr_setk (y->err, BERR_INVALID, 0, "line %zu column %zu: %s", (size_t)m->line + 1,
                    (size_t)m->column + 1, what);
}

static int next_event (struct yconv *y, yaml_event_t *ev)
{
  if (!yaml_parser_parse (&y->p, ev))
    {
      const char *prob = y->p.problem ? y->p.problem : "syntax error";
      return yfail (y, &y->p.problem_mark, prob);
    }
  return 0;
}

static bool all_digits (const char *s, int base)
{
  if (*s == '\0')
    return false;
  for (; *s; s++)
    {
      if (*s == '_')
        continue;
      int d = (*s >= '0' && *s <= '9')   ? *s - '0'
              : (*s >= 'a' && *s <= 'f') ? *s - 'a' + 10
              : (*s >= 'A' && *s <= 'F') ? *s - 'A' + 10
                                         : 99;
      if (d >= base)
        return false;
    }
  return true;
}

/* A plain (unquoted) scalar gets the YAML 1.1 core types a spec can meet: null, booleans,
 * integers (decimal, 0x, 0o and 1.1's leading-zero octal, as Go's yaml.v2 reads fileMode: 0660)
 * and floats.  Everything else, and every quoted scalar, is a string. */
static json_t *plain_scalar (const char *s)
{
  if (*s == '\0' || strcmp (s, "~") == 0 || strcmp (s, "null") == 0 || strcmp (s, "Null") == 0
      || strcmp (s, "NULL") == 0)
    return json_null ();
  if (strcmp (s, "true") == 0 || strcmp (s, "True") == 0 || strcmp (s, "TRUE") == 0)
    return json_true ();
  if (strcmp (s, "false") == 0 || strcmp (s, "False") == 0 || strcmp (s, "FALSE") == 0)
    return json_false ();
  const char *d = s;
  bool neg = false;
  if (*d == '-' || *d == '+')
    neg = *d++ == '-';
  int base = 0;
  const char *digits = d;
  if (d[0] == '0' && (d[1] == 'x' || d[1] == 'X'))
    base = 16, digits = d + 2;
  else if (d[0] == '0' && d[1] == 'o')
    base = 8, digits = d + 2;
  else if (d[0] == '0' && d[1] != '\0' && all_digits (d + 1, 8))
    base = 8, digits = d + 1;
  else if (all_digits (d, 10) && d[0] != '_')
    base = 10;
  if (base && all_digits (digits, base))
    {
      char buf[64];
      size_t n = 0;
      for (const char *c = digits; *c && n + 1 < sizeof buf; c++)
        if (*c != '_')
          buf[n++] = *c;
      buf[n] = '\0';
      errno = 0;
      char *end;
      unsigned long long v = strtoull (buf, &end, base);
      if (errno == 0 && *end == '\0' && v <= (unsigned long long)INT64_MAX)
        return json_integer (neg ? -(json_int_t)v : (json_int_t)v);
      return json_string (s);
    }
  /* floats: only the JSON form; YAML's .inf/.nan have no JSON value and no use in a spec */
  char *end;
  errno = 0;
  if ((*d >= '0' && *d <= '9') || *d == '.')
    {
      double v = strtod (s, &end);
      if (errno == 0 && *end == '\0' && strpbrk (s, ".eE"))
        return json_real (v);
    }
  return json_string (s);
}

static int convert (struct yconv *y, yaml_event_t *ev, int depth, json_t **out);

static int check_node (struct yconv *y, yaml_event_t *ev, const yaml_char_t *anchor, int depth)
{
  if (anchor)
    return yfail (y, &ev->start_mark, "anchors are not supported in CDI specs");
  if (depth > CDI_YAML_MAX_DEPTH)
    return yfail (y, &ev->start_mark, "nested too deeply");
  if (++y->nodes > CDI_YAML_MAX_NODES)
    return yfail (y, &ev->start_mark, "too many values");
  return 0;
}

static int convert_mapping (struct yconv *y, int depth, json_t **out)
{
  cleanup_json json_t *obj = json_object ();
  for (;;)
    {
      yaml_event_t kev;
      if (next_event (y, &kev) < 0)
        return -1;
      if (kev.type == YAML_MAPPING_END_EVENT)
        {
          yaml_event_delete (&kev);
          break;
        }
      if (kev.type != YAML_SCALAR_EVENT)
        {
          int r = yfail (y, &kev.start_mark,
                         kev.type == YAML_ALIAS_EVENT ? "aliases are not supported in CDI specs"
                                                      : "mapping keys must be strings");
          yaml_event_delete (&kev);
          return r;
        }
      if (check_node (y, &kev, kev.data.scalar.anchor, depth + 1) < 0)
        {
          yaml_event_delete (&kev);
          return -1;
        }
      cleanup_free char *key
          = xstrndup ((const char *)kev.data.scalar.value, kev.data.scalar.length);
      yaml_mark_t kmark = kev.start_mark;
      bool has_nul = strlen (key) != kev.data.scalar.length;
      yaml_event_delete (&kev);
      if (has_nul)
        return yfail (y, &kmark, "NUL byte in a key");
      if (json_object_get (obj, key))
        return yfail (y, &kmark, "duplicate mapping key");
      yaml_event_t vev;
      if (next_event (y, &vev) < 0)
        return -1;
      json_t *v = NULL;
      if (convert (y, &vev, depth + 1, &v) < 0)
        return -1;
      json_object_set_new (obj, key, v);
    }
  *out = steal_pointer (&obj);
  return 0;
}

static int convert_sequence (struct yconv *y, int depth, json_t **out)
{
  cleanup_json json_t *arr = json_array ();
  for (;;)
    {
      yaml_event_t ev;
      if (next_event (y, &ev) < 0)
        return -1;
      if (ev.type == YAML_SEQUENCE_END_EVENT)
        {
          yaml_event_delete (&ev);
          break;
        }
      json_t *v = NULL;
      if (convert (y, &ev, depth + 1, &v) < 0)
        return -1;
      json_array_append_new (arr, v);
    }
  *out = steal_pointer (&arr);
  return 0;
}

/* Consumes ev (deletes it) and what belongs to it. */
static int convert (struct yconv *y, yaml_event_t *ev, int depth, json_t **out)
{
  int r = -1;
  switch (ev->type)
    {
    case YAML_SCALAR_EVENT:
      if (check_node (y, ev, ev->data.scalar.anchor, depth) < 0)
        break;
      if (strlen ((const char *)ev->data.scalar.value) != ev->data.scalar.length)
        {
          yfail (y, &ev->start_mark, "NUL byte in a string");
          break;
        }
      if (ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE && ev->data.scalar.tag == NULL)
        *out = plain_scalar ((const char *)ev->data.scalar.value);
      else
        *out = json_stringn ((const char *)ev->data.scalar.value, ev->data.scalar.length);
      if (*out == NULL)
        {
          yfail (y, &ev->start_mark, "string is not valid UTF-8");
          break;
        }
      r = 0;
      break;
    case YAML_SEQUENCE_START_EVENT:
      if (check_node (y, ev, ev->data.sequence_start.anchor, depth) < 0)
        break;
      r = convert_sequence (y, depth, out);
      break;
    case YAML_MAPPING_START_EVENT:
      if (check_node (y, ev, ev->data.mapping_start.anchor, depth) < 0)
        break;
      r = convert_mapping (y, depth, out);
      break;
    case YAML_ALIAS_EVENT:
      yfail (y, &ev->start_mark, "aliases are not supported in CDI specs");
      break;
    default:
      yfail (y, &ev->start_mark, "unexpected YAML event");
      break;
    }
  yaml_event_delete (ev);
  return r;
}

int cdi_yaml_parse (const char *data, size_t len, json_t **out, berr_t *err)
{
  struct yconv y = { .err = err };
  if (!yaml_parser_initialize (&y.p))
    return berr_set (err, ENOMEM, "yaml parser");
  yaml_parser_set_input_string (&y.p, (const unsigned char *)data, len);
  json_t *root = NULL;
  int r = -1;
  yaml_event_t ev;
  int stage = 0; /* 0: stream start, 1: document start, 2: the value, 3: document end, 4: end */
  while (stage < 5)
    {
      if (next_event (&y, &ev) < 0)
        goto out;
      yaml_event_type_t t = ev.type;
      if (stage == 2)
        {
          if (convert (&y, &ev, 0, &root) < 0)
            goto out;
          stage++;
          continue;
        }
      static const yaml_event_type_t want[] = { YAML_STREAM_START_EVENT, YAML_DOCUMENT_START_EVENT,
                                                0, YAML_DOCUMENT_END_EVENT, YAML_STREAM_END_EVENT };
      if (t != want[stage])
        {
          if (stage == 1 && t == YAML_STREAM_END_EVENT)
            yfail (&y, &ev.start_mark, "empty document");
          else
            yfail (&y, &ev.start_mark, "only one YAML document is allowed");
          yaml_event_delete (&ev);
          goto out;
        }
      yaml_event_delete (&ev);
      stage++;
    }
  *out = root;
  root = NULL;
  r = 0;
out:
  if (root)
    json_decref (root);
  yaml_parser_delete (&y.p);
  return r;
}
