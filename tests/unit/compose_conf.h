/* compose_conf.h — shared helpers for the compose conformance tests: loading a corpus file from
 * $CONFORMANCE_DIR/compose and comparing models with compose-go's "absent means zero" rule. */
#ifndef TEST_COMPOSE_CONF_H
#define TEST_COMPOSE_CONF_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compose/node.h"
#include "util/json.h"

/* Made absolute and clean ("/work/main/../shared" -> "/work/shared"): the expected models hold
 * paths under it, and the loader cleans every path it makes. */
static inline const char *conf_dir (void)
{
  static char buf[4096];
  const char *d = getenv ("CONFORMANCE_DIR");
  if (d == NULL)
    d = "../shared/conformance";
  if (buf[0] == '\0' && realpath (d, buf) == NULL)
    snprintf (buf, sizeof buf, "%s", d);
  return buf;
}

static inline json_t *conf_load (const char *rel)
{
  cleanup_free char *path = xasprintf ("%s/compose/%s", conf_dir (), rel);
  json_error_t je;
  json_t *j = json_load_file (path, 0, &je);
  if (j == NULL)
    printf ("# cannot load %s: %s\n", path, je.text);
  return j;
}

static inline bool json_is_zero (json_t *v)
{
  return v == NULL || json_is_null (v) || json_is_false (v)
         || (json_is_integer (v) && json_integer_value (v) == 0)
         || (json_is_string (v) && json_string_length (v) == 0);
}

/* Every key of want equals got's; keys only in got must be zero values. */
static inline bool json_match_zero (json_t *want, json_t *got)
{
  if (json_is_object (want) && json_is_object (got))
    {
      const char *k;
      json_t *v;
      json_object_foreach (want, k, v)
      {
        json_t *g = json_object_get (got, k);
        if (g == NULL ? !json_is_zero (v) : !json_match_zero (v, g))
          return false;
      }
      json_object_foreach (got, k, v) if (json_object_get (want, k) == NULL
                                          && !json_is_zero (v)) return false;
      return true;
    }
  return json_equal (want, got);
}

#endif
