/* norm_util.h — shared helpers of the normaliser (normalize*.c). */
#ifndef BERTH_COMPOSE_NORM_UTIL_H
#define BERTH_COMPOSE_NORM_UTIL_H

#include "compose/compose.h"
#include "compose/interp.h"

struct nctx
{
  const char *wd;          /* the project directory */
  const struct cnode *env; /* interpolation's variables */
  berr_t *err;
};

int nfail (struct nctx *c, const struct cnode *n, const char *path, const char *fmt, ...)
    PRINTF_LIKE (4, 5);

/* Type checks that also canonicalise the scalar in place. */
int want_str (struct nctx *c, struct cnode *n, const char *path);
int want_bool (struct nctx *c, struct cnode *n, const char *path);
int want_int (struct nctx *c, struct cnode *n, const char *path, int64_t *v);
int want_number (struct nctx *c, struct cnode *n, const char *path);
int want_map (struct nctx *c, struct cnode *n, const char *path);
int want_seq (struct nctx *c, struct cnode *n, const char *path);
int want_strlist (struct nctx *c, struct cnode *n, const char *path);
/* A string or a list of strings: to a list. */
int want_str_or_list (struct nctx *c, struct cnode **slot, const char *path);
/* "K=V" list or a map: to a map of strings (null values kept: "K" alone). sep is '=' (or ':'
 * for extra_hosts' legacy form). */
int want_list_or_dict (struct nctx *c, struct cnode **slot, const char *path, bool allow_null);
/* Size ("2gb", 1024): to an integer number of bytes. */
int want_size (struct nctx *c, struct cnode **slot, const char *path);
/* Go duration ("1m30s"): to Go's own spelling. */
int want_duration (struct nctx *c, struct cnode **slot, const char *path, int64_t *ns);

/* Reject keys not in allowed (x- extensions always pass). */
int check_keys (struct nctx *c, struct cnode *map, const char *path, const char *const *allowed);

/* A relative path made absolute against the project directory ("~" is $HOME). */
char *resolve_path (struct nctx *c, const char *p);

/* Go's time.Duration.String(). */
char *go_duration_string (int64_t ns);

void replace_node (struct cnode **slot, struct cnode *nn);

#endif
