/* template.h — Docker's --format: a Go text/template subset over JSON data.
 *
 * Supported: text and actions {{...}} with trim markers {{- -}}; fields .A.B.C on objects
 * (a missing key renders as "<no value>", like Go on maps); "." itself; $ and variables
 * ($x := pipeline); pipelines with |; if/else if/else/end; range (over arrays and objects,
 * with $i, $v := forms)/else/end; with/else/end; string, number and boolean literals; functions
 * json, index, join, split, lower, upper, title, len, printf (%s %d %v %q %t), print, println,
 * truncate, pad, eq, ne, lt, le, gt, ge, and, or, not.
 * Values print as Go would: strings raw, numbers without a trailing .0 when integral, true/false,
 * null as "<no value>", arrays as [a b c], objects as map[k:v k2:v2] (sorted keys). */
#ifndef BERTH_TEMPLATE_H
#define BERTH_TEMPLATE_H

#include <jansson.h>

#include "err.h"

struct tmpl;

/* Parse; errors name the position ("template: :1:5: unexpected ..."). */
struct tmpl *tmpl_parse (const char *src, berr_t *err);
/* Execute against data, appending output to out. */
int tmpl_exec (const struct tmpl *t, json_t *data, struct sbuf *out, berr_t *err);
void tmpl_free (struct tmpl *t);

/* Docker's --format handling for list commands:
 *   "table" or "table <tmpl>" -> header row + rows through a tabwriter (padding 3, min width 10);
 *   "json"                    -> one compact JSON object per line;
 *   anything else             -> the template per row, each followed by "\n".
 * headers maps field names to column titles ({"ID": "IMAGE ID", ...}); the header row is the
 * same template executed against headers. */
struct formatter;
struct formatter *formatter_new (const char *format, json_t *headers, berr_t *err);
int formatter_row (struct formatter *f, json_t *row, berr_t *err);
/* Flush (the tabwriter needs all rows before it can align) and write everything to out. */
int formatter_finish (struct formatter *f, FILE *out, berr_t *err);
void formatter_free (struct formatter *f);

#endif
