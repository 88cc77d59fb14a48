#include "json.h"

#include <stdlib.h>
#include <string.h>

json_t *json_parse_buf (const char *data, size_t len, const char *ctx, berr_t *err)
{
  json_error_t je;
  json_t *j = json_loadb (data, len, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &je);
  if (j == NULL)
    {
      berr_setk (err, BERR_INVALID, 0, "invalid JSON in %s (line %d, column %d): %s", ctx, je.line,
                 je.column, je.text);
      return NULL;
    }
  return j;
}

const char *json_get_str (json_t *obj, const char *key)
{
  json_t *v = json_object_get (obj, key);
  return json_is_string (v) ? json_string_value (v) : NULL;
}

char *json_dump_compact (json_t *j)
{
  char *s = json_dumps (j, JSON_COMPACT | JSON_ENCODE_ANY);
  if (s == NULL)
    abort ();
  return s;
}

char **json_to_strv (json_t *arr)
{
  if (!json_is_array (arr))
    return NULL;
  char **v = xcalloc (json_array_size (arr) + 1, sizeof (char *));
  size_t n = 0, i;
  json_t *e;
  json_array_foreach (arr, i, e) if (json_is_string (e)) v[n++] = xstrdup (json_string_value (e));
  return v;
}

json_t *json_from_strv (char *const *v)
{
  json_t *a = json_array ();
  for (size_t i = 0; v && v[i]; i++)
    json_array_append_new (a, json_string (v[i]));
  return a;
}
