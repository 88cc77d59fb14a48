/* template.h — Docker's --format: a Go text/template subset over JSON data.
 *
 * Supported: text; actions {{...}} with trim markers {{- and -}}; comments (an action holding
 * only slash-star ... star-slash); fields .A.B.C on objects; "." and "$"; variables
 * ($x := pipeline, $x = pipeline, scoped to the enclosing if/range/with like Go); pipelines
 * with |; parenthesized pipelines, also followed by fields: (index .A 0).Name; if / else if /
 * else / end; range over arrays, objects (sorted keys) and integers, with $v := and $i, $v :=,
 * {{else}}, {{break}} and {{continue}}; with / else with / else / end; literals: "strings" with
 * Go escapes, `raw strings`, 'c' characters, integers (0x, 0o, 0b, _), floats, true, false, nil;
 * functions json, index, join, split, lower, upper, title, len, printf, print, println,
 * truncate, pad, eq (several arguments), ne, lt, le, gt, ge, and, or (both short-circuit and
 * return an argument, as Go does), not.
 * Not supported: define, template and block; the Go functions slice, html, js, urlquery and
 * call (using one is a parse error, as for any unknown function); complex numbers; printf's
 * %[n] argument indexes and hexadecimal floats (%x of a real).
 *
 * Values print as Go's fmt %v would: strings raw, JSON integers as integers, reals in Go's
 * shortest form (1.5, 1e+06; an integral real prints without ".0"), true/false, arrays as
 * [a b c], objects as map[k:v k2:v2] with sorted keys. A missing key, a field of null and null
 * itself print "<no value>" at the top of an action (inside arrays and objects null is "<nil>").
 *
 * Where Go's typed data cannot be reproduced from JSON, the choices are:
 *   - index of a missing key yields null (prints "<no value>"); index of null yields null;
 *   - eq/ne/lt/le/gt/ge compare JSON integers and reals numerically (Go refuses int vs float);
 *   - join accepts any array and prints non-string elements with %v;
 *   - lower, upper and title change ASCII letters only.
 *
 * Errors name the position Go's way, "template: :LINE:COL: ...", COL being the byte offset in
 * the line; execution errors add Go's context: executing "" at <index .A 5>: ... */
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
