/* template.h — Docker's --format: a Go text/template subset over JSON data.
 *
 * Supported: text and actions {{...}} with trim markers {{- -}}; comments (slash-star ... star-slash
 * right inside the delimiters); fields
 * .A.B.C on objects (a missing key renders as "<no value>", like Go on maps; a field of null is
 * "<no value>" too); "." itself; $ and variables ($x := pipeline, $x = pipeline); pipelines with
 * |; parenthesized pipelines, also with fields: (index .A 0).Name; if/else if/else/end;
 * range (over arrays, objects in sorted key order, and integers, with $i, $v := forms)/else/end,
 * with break and continue; with/else with/else/end; string ("..." with Go escapes, `raw`),
 * character, number, boolean and nil literals; functions json, index, join, split, lower, upper,
 * title, len, printf, print, println, truncate, pad, eq, ne, lt, le, gt, ge, and, or, not.
 * Not supported: define, template and block; the Go functions slice, html, js, urlquery and call
 * (using them is a parse error, as for any unknown function); complex numbers.
 *
 * Values print as Go's fmt %v would: strings raw, JSON integers as integers, reals in Go's
 * shortest form (1.5, 1e+06; an integral real prints without ".0"), true/false, null at the top
 * of an action as "<no value>" (inside arrays and objects as "<nil>"), arrays as [a b c], objects
 * as map[k:v k2:v2] (sorted keys). JSON null and a missing key behave the same everywhere.
 *
 * Where Go's typed data cannot be reproduced from JSON, the choices are:
 *   - index of a missing key yields null (prints "<no value>"); index of null yields null;
 *   - eq/ne/lt/le/gt/ge compare JSON integers and reals numerically (Go refuses int vs float);
 *   - join accepts any array and prints non-string elements with %v;
 *   - lower, upper and title change ASCII letters only.
 *
 * Errors name the position Go's way: "template: :LINE:COL: ..." where COL is the byte offset
 * within the line; execution errors add Go's context: executing "" at <index .A 5>: ... */
#ifndef BERTH_TEMPLATE_H
#define BERTH_TEMPLATE_H

#include <jansson.h>

#include "err.h"

struct tmpl;

/* Parse; errors name the position ("template: :1:5: unexpected ..."). */
struct tmpl *tmpl_parse (const char *src, berr_t *err);
/* Execute against data, appending output to out. */
int tmpl_exec (const struct tmpl *t, json_t *data, struct sbuf *out, berr_t *err);
/* Execute as Docker does for a table's header row: json, split, join, title, lower, upper and
 * truncate return their (string) first argument unchanged, so column titles stay intact. */
int tmpl_exec_header (const struct tmpl *t, json_t *data, struct sbuf *out, berr_t *err);
void tmpl_free (struct tmpl *t);

/* Append v as Go's encoding/json writes it for {{json}}: compact, object keys in their stored
 * order, no HTML escaping, U+2028/U+2029 escaped, reals in Go's shortest form. */
void tmpl_json_encode (struct sbuf *out, json_t *v);

/* Docker's --format handling for list commands:
 *   "table" or "table <tmpl>" -> header row + rows through a tabwriter (minwidth 10, tabwidth 1,
 *                                padding 3, as docker/cli's formatter); "table" with nothing
 *                                after it is an error: callers substitute their default format;
 *   "json"                    -> one compact JSON object per line;
 *   anything else             -> the template per row, each followed by "\n".
 * Like docker/cli, spaces around the template are trimmed and the two-character sequences \t
 * and \n become TAB and newline before parsing.
 * headers maps field names to column titles ({"ID": "IMAGE ID", ...}; may be NULL); the header
 * row is the same template executed against headers (see tmpl_exec_header); as in Docker, an
 * error while executing it only cuts the header short. */
struct formatter;
struct formatter *formatter_new (const char *format, json_t *headers, berr_t *err);
/* Execute the template for one row; on error the row adds nothing. */
int formatter_row (struct formatter *f, json_t *row, berr_t *err);
/* Flush (the tabwriter needs all rows before it can align) and write everything to out. */
int formatter_finish (struct formatter *f, FILE *out, berr_t *err);
void formatter_free (struct formatter *f);

#endif
