/* interp.h — variable substitution (compose-go's template package) and .env files. */
#ifndef BERTH_COMPOSE_INTERP_H
#define BERTH_COMPOSE_INTERP_H

#include "compose/node.h"

/* Returns the value of name, or NULL when it is unset ("" is set-but-empty). */
typedef const char *(*compose_lookup_fn) (const char *name, void *data);

/* Lookup in a CN_MAP of strings (data is the map). */
const char *compose_lookup_map (const char *name, void *data);

/* Substitute ${V}, ${V:-d}, ${V-d}, ${V:?e}, ${V?e}, ${V:+x}, ${V+x}, $V and $$ in tmpl.
 * Defaults and messages are themselves templates, evaluated only when used.
 * Errors (BERR_INVALID): "Invalid template: \"...\"" or
 * "required variable V is missing a value[: reason]". */
int compose_substitute (const char *tmpl, compose_lookup_fn lookup, void *data, char **out,
                        berr_t *err);

/* Substitute in every string scalar of the tree (values, not keys), in place.  Errors name the
 * dotted path of the failing value, prefixed with its file:line:col when it has one. */
int compose_interpolate (struct cnode *tree, compose_lookup_fn lookup, void *data, berr_t *err);

/* The variables a tree's strings refer to: *out is a CN_MAP name -> {Name, DefaultValue,
 * PresenceValue, Required} (compose-go's ExtractVariables), nested references included. */
struct cnode *compose_extract_variables (const struct cnode *tree);

/* Parse .env text into *out (a CN_MAP of strings, in file order).  ${V} inside values resolves
 * from lookup (may be NULL) first, then from variables defined earlier in the same file, then
 * from base (may be NULL: what earlier files defined).  A bare "KEY" line takes its value from
 * lookup. */
int compose_dotenv_parse (const char *data, size_t len, compose_lookup_fn lookup, void *ldata,
                          const struct cnode *base, struct cnode **out, berr_t *err);
int compose_dotenv_read (const char *path, compose_lookup_fn lookup, void *ldata,
                         const struct cnode *base, struct cnode **out, berr_t *err);

#endif
