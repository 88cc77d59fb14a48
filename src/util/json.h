/* json.h — small helpers over jansson. */
#ifndef BERTH_JSON_H
#define BERTH_JSON_H

#include <jansson.h>

#include "err.h"

static inline void cleanup_jsonp (json_t **j)
{
  if (*j)
    json_decref (*j);
  *j = NULL;
}
#define cleanup_json __attribute__ ((cleanup (cleanup_jsonp)))

/* Parse a buffer; the error names what (ctx) and where (line/column). */
json_t *json_parse_buf (const char *data, size_t len, const char *ctx, berr_t *err);
/* String member or NULL (also NULL when the member is not a string). */
const char *json_get_str (json_t *obj, const char *key);
/* Serialize compactly (caller frees). */
char *json_dump_compact (json_t *j);
/* Array of strings -> strv (NULL when absent or not an array); non-strings are skipped. */
char **json_to_strv (json_t *arr);
json_t *json_from_strv (char *const *v);

#endif
