/* libFuzzer target: a compose file through the loader's file-local stages — YAML (anchors,
 * merge keys, the alias bound), interpolation, normalisation — then merged with itself, printed
 * back as YAML and JSON, and the .env parser and the port/volume short syntax on the raw input. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "compose/compose.h"
#include "compose/interp.h"
#include "compose/spec.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  berr_t err = BERR_INIT;
  struct cnode *env = cnode_new (CN_MAP);
  cnode_set (env, "A", cnode_str ("1"));
  cnode_set (env, "EMPTY", cnode_str (""));
  struct cnode *doc = NULL;
  if (cnode_parse_yaml ((const char *)data, size, "fuzz.yml", &doc, &err) == 0)
    {
      if (compose_interpolate (doc, compose_lookup_map, env, &err) == 0
          && compose_normalize_file (doc, "/project", env, &err) == 0)
        {
          struct cnode *copy = cnode_copy (doc);
          if (doc->kind == CN_MAP && copy->kind == CN_MAP)
            compose_merge (copy, doc);
          char *y = NULL;
          if (cnode_emit_yaml (copy, &y, &err) == 0)
            free (y);
          json_t *j = cnode_to_json (copy);
          json_decref (j);
          cnode_free (copy);
        }
      cnode_free (doc);
    }
  berr_release (&err);
  struct cnode *vars = NULL;
  if (compose_dotenv_parse ((const char *)data, size, compose_lookup_map, env, NULL, &vars, &err)
      == 0)
    cnode_free (vars);
  berr_release (&err);
  char *s = strndup ((const char *)data, size < 256 ? size : 256);
  if (s)
    {
      struct cnode *out = NULL;
      if (compose_parse_port (s, &out, &err) == 0)
        cnode_free (out);
      berr_release (&err);
      if (compose_parse_volume (s, &out, &err) == 0)
        cnode_free (out);
      berr_release (&err);
      char *t = NULL;
      if (compose_substitute (s, compose_lookup_map, env, &t, &err) == 0)
        free (t);
      berr_release (&err);
      free (s);
    }
  cnode_free (env);
  return 0;
}
