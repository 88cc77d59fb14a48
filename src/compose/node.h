/* node.h — the compose file as a tree that remembers where every value came from.
 *
 * YAML is read into cnodes (maps keep their order, every node its file, line and column) so that
 * a type error found after interpolation and merging can still say
 * "compose.yaml:12:5: services.web.ports[0]: invalid port". */
#ifndef BERTH_COMPOSE_NODE_H
#define BERTH_COMPOSE_NODE_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "util/err.h"

enum cnode_kind
{
  CN_NULL,
  CN_SCALAR,
  CN_MAP,
  CN_SEQ,
};

struct cnode;

struct centry
{
  char *key;
  struct cnode *val;
  unsigned kline, kcol; /* where the key is (0: unknown) */
};

struct cnode
{
  enum cnode_kind kind;
  /* CN_SCALAR: the text; plain = unquoted in YAML (so "true"/"5" may be a bool/number),
   * false for quoted scalars and for strings made by the loader. */
  char *str;
  bool plain;
  char *file; /* NULL for nodes made from JSON or by the normaliser */
  unsigned line, col;
  size_t n, cap;
  struct centry *ents;  /* CN_MAP */
  struct cnode **items; /* CN_SEQ */
};

/* Bounds for hostile files: aliases are expanded by copying, and the copies are counted. */
#define CNODE_MAX_NODES 1000000
#define CNODE_MAX_DEPTH 200

struct cnode *cnode_new (enum cnode_kind kind);
struct cnode *cnode_str (const char *s);
struct cnode *cnode_strf (const char *fmt, ...) PRINTF_LIKE (1, 2);
struct cnode *cnode_int (int64_t v);
struct cnode *cnode_bool (bool v);
void cnode_free (struct cnode *n);
static inline void cleanup_cnodep (struct cnode **n)
{
  if (*n)
    cnode_free (*n);
}
#define cleanup_cnode __attribute__ ((cleanup (cleanup_cnodep)))
struct cnode *cnode_copy (const struct cnode *n);
/* Copy n's position onto dst (when dst has none). */
void cnode_pos_from (struct cnode *dst, const struct cnode *src);

struct cnode *cnode_get (const struct cnode *map, const char *key);
/* Set key (replacing, in place, or appending); takes val. */
void cnode_set (struct cnode *map, const char *key, struct cnode *val);
/* Remove key; returns the detached value (caller frees) or NULL. */
struct cnode *cnode_take (struct cnode *map, const char *key);
void cnode_del (struct cnode *map, const char *key);
void cnode_push (struct cnode *seq, struct cnode *val);
void cnode_sort_keys (struct cnode *map);
bool cnode_equal (const struct cnode *a, const struct cnode *b);
/* Scalar text or NULL (maps, sequences and null). */
const char *cnode_text (const struct cnode *n);

/* Parse one YAML document (an empty file gives CN_NULL).  file names errors. */
int cnode_parse_yaml (const char *data, size_t len, const char *file, struct cnode **out,
                      berr_t *err);

/* JSON interchange: plain scalars become booleans, numbers or null per YAML 1.1 as Go's yaml.v3
 * reads them; quoted ones stay strings. */
json_t *cnode_to_json (const struct cnode *n);
struct cnode *cnode_from_json (json_t *j);
/* The YAML 1.2 core type of a plain scalar: JSON_NULL, JSON_TRUE/FALSE, JSON_INTEGER, JSON_REAL
 * or JSON_STRING. */
json_type cnode_scalar_type (const struct cnode *n);

/* YAML text (block style, 4-space indent as compose prints). */
int cnode_emit_yaml (const struct cnode *n, char **out, berr_t *err);

/* "file:line:col: " for messages ("" when the node has no position); caller frees. */
char *cnode_where (const struct cnode *n);
/* berr_setk (BERR_INVALID) with the node's position first. */
int cnode_fail (berr_t *err, const struct cnode *n, const char *fmt, ...) PRINTF_LIKE (3, 4);

#endif
