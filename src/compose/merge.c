/* merge.c — several -f files into one, by Compose's merge rules: mappings merge key by key,
 * scalars are replaced, sequences are appended — except command, entrypoint and healthcheck.test,
 * which are replaced, and the "unique resources" (ports, volumes, secrets, configs, env_file),
 * where an entry with the same identity replaces the earlier one.  Both sides are normalised
 * first, so environment, labels, depends_on and networks are mappings and merge by key. */
#include <string.h>

#include "compose/compose.h"

static const char *txt (const struct cnode *m, const char *k)
{
  const char *t = cnode_text (cnode_get (m, k));
  return t ? t : "";
}

static char *identity (const char *field, const struct cnode *e)
{
  if (e->kind != CN_MAP)
    return e->kind == CN_SCALAR ? xstrdup (e->str) : NULL;
  if (strcmp (field, "ports") == 0)
    return xasprintf ("%s|%s|%s|%s", txt (e, "host_ip"), txt (e, "target"), txt (e, "published"),
                      txt (e, "protocol"));
  if (strcmp (field, "volumes") == 0)
    return xstrdup (txt (e, "target"));
  if (strcmp (field, "secrets") == 0 || strcmp (field, "configs") == 0)
    return xstrdup (*txt (e, "target") ? txt (e, "target") : txt (e, "source"));
  if (strcmp (field, "env_file") == 0)
    return xstrdup (txt (e, "path"));
  return NULL;
}

static void merge_seq (struct cnode *dst, const struct cnode *src, const char *field)
{
  for (size_t i = 0; i < src->n; i++)
    {
      cleanup_free char *id = identity (field, src->items[i]);
      bool replaced = false;
      for (size_t k = 0; id && k < dst->n && !replaced; k++)
        {
          cleanup_free char *did = identity (field, dst->items[k]);
          if (did && strcmp (id, did) == 0)
            {
              cnode_free (dst->items[k]);
              dst->items[k] = cnode_copy (src->items[i]);
              replaced = true;
            }
        }
      if (!replaced)
        cnode_push (dst, cnode_copy (src->items[i]));
    }
}

/* depth: 0 top, 1 a section (services), 2 a service, 3 a service's key … */
static void merge_at (struct cnode **slot, const struct cnode *src, const char *section,
                      const char *field, int depth)
{
  struct cnode *dst = *slot;
  if (src->kind != dst->kind || src->kind == CN_SCALAR || src->kind == CN_NULL)
    {
      struct cnode *c = cnode_copy (src);
      cnode_free (*slot);
      *slot = c;
      return;
    }
  bool in_service = section && strcmp (section, "services") == 0;
  if (src->kind == CN_SEQ)
    {
      if (in_service && depth == 3
          && (strcmp (field, "command") == 0 || strcmp (field, "entrypoint") == 0))
        {
          struct cnode *c = cnode_copy (src);
          cnode_free (*slot);
          *slot = c;
          return;
        }
      if (in_service && depth == 4 && strcmp (field, "test") == 0)
        {
          struct cnode *c = cnode_copy (src);
          cnode_free (*slot);
          *slot = c;
          return;
        }
      merge_seq (dst, src, in_service && depth == 3 ? field : "");
      return;
    }
  for (size_t i = 0; i < src->n; i++)
    {
      const char *k = src->ents[i].key;
      bool found = false;
      for (size_t d = 0; d < dst->n && !found; d++)
        if (strcmp (dst->ents[d].key, k) == 0)
          {
            found = true;
            merge_at (&dst->ents[d].val, src->ents[i].val, depth == 0 ? k : section,
                      (depth == 2 || depth == 3) ? k : field, depth + 1);
          }
      if (!found)
        cnode_set (dst, k, cnode_copy (src->ents[i].val));
    }
}

void compose_merge (struct cnode *dst, const struct cnode *src)
{
  struct cnode *d = dst;
  merge_at (&d, src, NULL, "", 0);
}
