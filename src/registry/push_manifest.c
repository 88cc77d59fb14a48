/* push_manifest.c — the image manifest a push writes when it cannot reuse a pulled one. */
#include "registry/push_int.h"

#include <string.h>

#include "registry/manifest.h"
#include "util/util.h"

static json_t *desc_json (const struct push_desc *d)
{
  json_t *o = json_object ();
  json_object_set_new (o, "mediaType", json_string (d->media_type));
  json_object_set_new (o, "size", json_integer (d->size));
  json_object_set_new (o, "digest", json_string (d->digest));
  if (d->urls && d->urls[0])
    {
      json_t *u = json_array ();
      for (size_t i = 0; d->urls[i]; i++)
        json_array_append_new (u, json_string (d->urls[i]));
      json_object_set_new (o, "urls", u);
    }
  return o;
}

char *push_manifest_write (bool oci, const struct push_desc *config, const struct push_desc *layers,
                           size_t n, size_t *len)
{
  json_t *m = json_object ();
  json_object_set_new (m, "schemaVersion", json_integer (2));
  json_object_set_new (m, "mediaType", json_string (oci ? MT_OCI_MANIFEST : MT_DOCKER_MANIFEST));
  json_object_set_new (m, "config", desc_json (config));
  json_t *l = json_array ();
  for (size_t i = 0; i < n; i++)
    json_array_append_new (l, desc_json (&layers[i]));
  json_object_set_new (m, "layers", l);
  /* Go's json.MarshalIndent(m, "", "   "), as Docker's distribution writes schema 2. */
  char *s = json_dumps (m, JSON_INDENT (3) | JSON_PRESERVE_ORDER);
  json_decref (m);
  if (s == NULL)
    abort (); /* only out of memory */
  *len = strlen (s);
  return s;
}
