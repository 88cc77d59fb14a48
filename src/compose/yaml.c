/* yaml.c — YAML to cnode (libyaml's event parser) and cnode to YAML (libyaml's emitter).
 *
 * Compose files use anchors, aliases and merge keys ("<<: *defaults", also a list of maps).
 * Aliases are expanded by copying the anchored node; every node made, copies included, counts
 * against CNODE_MAX_NODES so that a "billion laughs" document fails early instead of eating
 * memory. */
#include <errno.h>
#include <string.h>
#include <yaml.h>

#include "compose/node.h"

struct anchor
{
  char *name;
  struct cnode *node; /* borrowed: lives in the tree */
};

struct yload
{
  yaml_parser_t p;
  const char *file;
  size_t nodes;
  struct anchor *anchors;
  size_t nanchors;
  berr_t *err;
};

static int yfail (struct yload *y, const yaml_mark_t *m, const char *what)
{
  return berr_setk (y->err, BERR_INVALID, 0, "%s:%zu:%zu: %s", y->file, (size_t)m->line + 1,
                    (size_t)m->column + 1, what);
}

static int next_event (struct yload *y, yaml_event_t *ev)
{
  if (!yaml_parser_parse (&y->p, ev))
    {
      const char *prob = y->p.problem ? y->p.problem : "syntax error";
      if (y->p.context)
        {
          cleanup_free char *m = xasprintf ("yaml: %s %s", y->p.context, prob);
          return yfail (y, &y->p.problem_mark, m);
        }
      cleanup_free char *m = xasprintf ("yaml: %s", prob);
      return yfail (y, &y->p.problem_mark, m);
    }
  return 0;
}

static struct cnode *mknode (struct yload *y, enum cnode_kind k, const yaml_mark_t *m)
{
  struct cnode *n = cnode_new (k);
  n->file = xstrdup (y->file);
  n->line = (unsigned)m->line + 1;
  n->col = (unsigned)m->column + 1;
  y->nodes++;
  return n;
}

/* Copy for an alias, counting every node. */
static struct cnode *copy_counted (struct yload *y, const struct cnode *n)
{
  if (++y->nodes > CNODE_MAX_NODES)
    return NULL;
  struct cnode *c = cnode_new (n->kind);
  c->str = n->str ? xstrdup (n->str) : NULL;
  c->plain = n->plain;
  cnode_pos_from (c, n);
  for (size_t i = 0; i < n->n; i++)
    {
      struct cnode *v = copy_counted (y, n->kind == CN_MAP ? n->ents[i].val : n->items[i]);
      if (v == NULL)
        {
          cnode_free (c);
          return NULL;
        }
      if (n->kind == CN_MAP)
        cnode_set (c, n->ents[i].key, v);
      else
        cnode_push (c, v);
    }
  return c;
}

static void add_anchor (struct yload *y, const yaml_char_t *name, struct cnode *n)
{
  if (name == NULL)
    return;
  /* A later anchor of the same name shadows the earlier one, as YAML says. */
  y->anchors = xrealloc (y->anchors, (y->nanchors + 1) * sizeof *y->anchors);
  y->anchors[y->nanchors].name = xstrdup ((const char *)name);
  y->anchors[y->nanchors].node = n;
  y->nanchors++;
}

static int parse_node (struct yload *y, yaml_event_t *ev, int depth, struct cnode **out);

static int parse_mapping (struct yload *y, yaml_event_t *start, int depth, struct cnode **out)
{
  cleanup_cnode struct cnode *m = mknode (y, CN_MAP, &start->start_mark);
  add_anchor (y, start->data.mapping_start.anchor, m);
  struct cnode **merges = NULL;
  size_t nmerges = 0;
  int ret = 0;
  for (;;)
    {
      yaml_event_t kev;
      if (next_event (y, &kev) < 0)
        {
          ret = -1;
          break;
        }
      if (kev.type == YAML_MAPPING_END_EVENT)
        {
          yaml_event_delete (&kev);
          break;
        }
      if (kev.type != YAML_SCALAR_EVENT)
        {
          ret = yfail (y, &kev.start_mark, "mapping keys must be strings");
          yaml_event_delete (&kev);
          break;
        }
      cleanup_free char *key
          = xstrndup ((const char *)kev.data.scalar.value, kev.data.scalar.length);
      bool merge = kev.data.scalar.plain_implicit && strcmp (key, "<<") == 0;
      yaml_mark_t kmark = kev.start_mark;
      yaml_event_delete (&kev);
      yaml_event_t vev;
      if (next_event (y, &vev) < 0)
        {
          ret = -1;
          break;
        }
      struct cnode *val = NULL;
      ret = parse_node (y, &vev, depth + 1, &val);
      yaml_event_delete (&vev);
      if (ret < 0)
        break;
      if (merge)
        {
          bool ok = val->kind == CN_MAP;
          if (val->kind == CN_SEQ)
            {
              ok = true;
              for (size_t i = 0; i < val->n; i++)
                ok = ok && val->items[i]->kind == CN_MAP;
            }
          if (!ok)
            {
              cnode_free (val);
              ret = yfail (y, &kmark,
                           "yaml: map merge requires map or sequence of maps as the "
                           "value");
              break;
            }
          merges = xrealloc (merges, (nmerges + 1) * sizeof *merges);
          merges[nmerges++] = val;
          continue;
        }
      if (cnode_get (m, key))
        {
          cnode_free (val);
          cleanup_free char *msg = xasprintf ("mapping key \"%s\" already defined at line %u", key,
                                              cnode_get (m, key)->line);
          ret = yfail (y, &kmark, msg);
          break;
        }
      cnode_set (m, key, val);
      m->ents[m->n - 1].kline = (unsigned)kmark.line + 1;
      m->ents[m->n - 1].kcol = (unsigned)kmark.column + 1;
    }
  /* Merged entries never override the mapping's own keys; in a list, earlier maps win. */
  for (size_t i = 0; i < nmerges; i++)
    {
      struct cnode *src = merges[i];
      size_t cnt = src->kind == CN_MAP ? 1 : src->n;
      for (size_t k = 0; k < cnt && ret == 0; k++)
        {
          struct cnode *mm = src->kind == CN_MAP ? src : src->items[k];
          for (size_t e = 0; e < mm->n; e++)
            if (cnode_get (m, mm->ents[e].key) == NULL)
              cnode_set (m, mm->ents[e].key, cnode_copy (mm->ents[e].val));
        }
      cnode_free (src);
    }
  free (merges);
  if (ret < 0)
    {
      /* The anchor table may point into m: drop those entries. */
      return ret;
    }
  *out = steal_pointer (&m);
  return 0;
}

static int parse_node (struct yload *y, yaml_event_t *ev, int depth, struct cnode **out)
{
  if (depth > CNODE_MAX_DEPTH)
    return yfail (y, &ev->start_mark, "yaml: document nested too deeply");
  if (y->nodes > CNODE_MAX_NODES)
    return yfail (y, &ev->start_mark, "yaml: document too large (aliases expand too much)");
  switch (ev->type)
    {
    case YAML_SCALAR_EVENT:
      {
        struct cnode *n = mknode (y, CN_SCALAR, &ev->start_mark);
        n->str = xstrndup ((const char *)ev->data.scalar.value, ev->data.scalar.length);
        n->plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE && ev->data.scalar.tag == NULL;
        if (n->plain && cnode_scalar_type (n) == JSON_NULL)
          n->kind = CN_NULL;
        add_anchor (y, ev->data.scalar.anchor, n);
        *out = n;
        return 0;
      }
    case YAML_ALIAS_EVENT:
      for (size_t i = y->nanchors; i-- > 0;)
        if (strcmp (y->anchors[i].name, (const char *)ev->data.alias.anchor) == 0)
          {
            struct cnode *c = copy_counted (y, y->anchors[i].node);
            if (c == NULL)
              return yfail (y, &ev->start_mark,
                            "yaml: document too large (aliases expand too much)");
            *out = c;
            return 0;
          }
      {
        cleanup_free char *m
            = xasprintf ("yaml: unknown anchor '%s' referenced", ev->data.alias.anchor);
        return yfail (y, &ev->start_mark, m);
      }
    case YAML_SEQUENCE_START_EVENT:
      {
        cleanup_cnode struct cnode *s = mknode (y, CN_SEQ, &ev->start_mark);
        add_anchor (y, ev->data.sequence_start.anchor, s);
        for (;;)
          {
            yaml_event_t iev;
            if (next_event (y, &iev) < 0)
              return -1;
            if (iev.type == YAML_SEQUENCE_END_EVENT)
              {
                yaml_event_delete (&iev);
                break;
              }
            struct cnode *item = NULL;
            int r = parse_node (y, &iev, depth + 1, &item);
            yaml_event_delete (&iev);
            if (r < 0)
              return r;
            cnode_push (s, item);
          }
        *out = steal_pointer (&s);
        return 0;
      }
    case YAML_MAPPING_START_EVENT:
      return parse_mapping (y, ev, depth, out);
    default:
      return yfail (y, &ev->start_mark, "yaml: unexpected event");
    }
}

int cnode_parse_yaml (const char *data, size_t len, const char *file, struct cnode **out,
                      berr_t *err)
{
  struct yload y = { .file = file, .err = err };
  if (!yaml_parser_initialize (&y.p))
    return berr_set (err, ENOMEM, "yaml parser");
  yaml_parser_set_input_string (&y.p, (const unsigned char *)data, len);
  struct cnode *root = NULL;
  int ret = 0;
  bool in_doc = false;
  for (;;)
    {
      yaml_event_t ev;
      if (next_event (&y, &ev) < 0)
        {
          ret = -1;
          break;
        }
      yaml_event_type_t t = ev.type;
      if (t == YAML_STREAM_END_EVENT)
        {
          yaml_event_delete (&ev);
          break;
        }
      if (t == YAML_DOCUMENT_START_EVENT)
        {
          if (root != NULL)
            {
              ret = yfail (&y, &ev.start_mark,
                           "yaml: only one document is supported in a compose file");
              yaml_event_delete (&ev);
              break;
            }
          in_doc = true;
        }
      else if (t == YAML_DOCUMENT_END_EVENT)
        in_doc = false;
      else if (in_doc && t != YAML_STREAM_START_EVENT)
        {
          ret = parse_node (&y, &ev, 0, &root);
          if (ret < 0)
            {
              yaml_event_delete (&ev);
              break;
            }
        }
      yaml_event_delete (&ev);
    }
  yaml_parser_delete (&y.p);
  for (size_t i = 0; i < y.nanchors; i++)
    free (y.anchors[i].name);
  free (y.anchors);
  if (ret < 0)
    {
      cnode_free (root);
      return ret;
    }
  *out = root ? root : cnode_new (CN_NULL);
  return 0;
}

/* ---- emitting ---- */

struct ybuf
{
  struct sbuf b;
};

static int write_handler (void *data, unsigned char *buffer, size_t size)
{
  sbuf_add (&((struct ybuf *)data)->b, buffer, size);
  return 1;
}

/* A string must be quoted when reading it back plain would give another type, or it would not
 * read back at all; libyaml checks the latter, this checks the former. */
static bool needs_quotes (const char *s)
{
  struct cnode probe = { .kind = CN_SCALAR, .str = (char *)s, .plain = true };
  if (cnode_scalar_type (&probe) != JSON_STRING)
    return true;
  static const char *const yaml11[] = { "y",  "Y",  "yes", "Yes", "YES", "n",   "N",   "no",
                                        "No", "NO", "on",  "On",  "ON",  "off", "Off", "OFF" };
  for (size_t i = 0; i < ARRAY_SIZE (yaml11); i++)
    if (strcmp (s, yaml11[i]) == 0)
      return true;
  return false;
}

static int emit (yaml_emitter_t *e, yaml_event_t *ev, berr_t *err)
{
  if (!yaml_emitter_emit (e, ev))
    return berr_setk (err, BERR_INVALID, 0, "yaml emitter: %s", e->problem ? e->problem : "error");
  return 0;
}

static int emit_scalar (yaml_emitter_t *e, const char *s, bool typed, berr_t *err)
{
  yaml_event_t ev;
  yaml_scalar_style_t style = YAML_ANY_SCALAR_STYLE;
  if (!typed)
    {
      if (strchr (s, '\n') && s[strlen (s) - 1] == '\n' && !strchr (s, '\t'))
        style = YAML_LITERAL_SCALAR_STYLE;
      else if (needs_quotes (s))
        style = YAML_DOUBLE_QUOTED_SCALAR_STYLE;
    }
  yaml_scalar_event_initialize (&ev, NULL, NULL, (yaml_char_t *)s, (int)strlen (s), 1, 1, style);
  return emit (e, &ev, err);
}

static int emit_node (yaml_emitter_t *e, const struct cnode *n, berr_t *err)
{
  yaml_event_t ev;
  switch (n->kind)
    {
    case CN_NULL:
      return emit_scalar (e, "null", true, err);
    case CN_SCALAR:
      return emit_scalar (e, n->str, cnode_scalar_type (n) != JSON_STRING, err);
    case CN_MAP:
      yaml_mapping_start_event_initialize (
          &ev, NULL, NULL, 1, n->n ? YAML_BLOCK_MAPPING_STYLE : YAML_FLOW_MAPPING_STYLE);
      if (emit (e, &ev, err) < 0)
        return -1;
      for (size_t i = 0; i < n->n; i++)
        if (emit_scalar (e, n->ents[i].key, false, err) < 0
            || emit_node (e, n->ents[i].val, err) < 0)
          return -1;
      yaml_mapping_end_event_initialize (&ev);
      return emit (e, &ev, err);
    case CN_SEQ:
      yaml_sequence_start_event_initialize (
          &ev, NULL, NULL, 1, n->n ? YAML_BLOCK_SEQUENCE_STYLE : YAML_FLOW_SEQUENCE_STYLE);
      if (emit (e, &ev, err) < 0)
        return -1;
      for (size_t i = 0; i < n->n; i++)
        if (emit_node (e, n->items[i], err) < 0)
          return -1;
      yaml_sequence_end_event_initialize (&ev);
      return emit (e, &ev, err);
    }
  return 0;
}

int cnode_emit_yaml (const struct cnode *n, char **out, berr_t *err)
{
  yaml_emitter_t e;
  struct ybuf yb;
  sbuf_init (&yb.b);
  if (!yaml_emitter_initialize (&e))
    return berr_set (err, ENOMEM, "yaml emitter");
  yaml_emitter_set_output (&e, write_handler, &yb);
  yaml_emitter_set_indent (&e, 2);
  yaml_emitter_set_width (&e, -1);
  yaml_emitter_set_unicode (&e, 1);
  yaml_event_t ev;
  int ret = 0;
  yaml_stream_start_event_initialize (&ev, YAML_UTF8_ENCODING);
  ret = emit (&e, &ev, err);
  if (ret == 0)
    {
      yaml_document_start_event_initialize (&ev, NULL, NULL, NULL, 1);
      ret = emit (&e, &ev, err);
    }
  if (ret == 0)
    ret = emit_node (&e, n, err);
  if (ret == 0)
    {
      yaml_document_end_event_initialize (&ev, 1);
      ret = emit (&e, &ev, err);
    }
  if (ret == 0)
    {
      yaml_stream_end_event_initialize (&ev);
      ret = emit (&e, &ev, err);
    }
  if (ret == 0 && !yaml_emitter_flush (&e))
    ret = berr_setk (err, BERR_INVALID, 0, "yaml emitter: flush");
  yaml_emitter_delete (&e);
  if (ret < 0)
    {
      sbuf_release (&yb.b);
      return ret;
    }
  *out = sbuf_detach (&yb.b);
  return 0;
}
