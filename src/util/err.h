/* err.h — the one error type: an errno-like code plus a message, context added on the way up.
 *
 *   ret = store_image_get (s, ref, &img, err);
 *   if (ret < 0)
 *     return berr_wrap (err, "run %s", ref);   // "run bb: No such image: bb:latest"
 *
 * Core code returns < 0 and fills *err; only src/cli prints it. */
#ifndef BERTH_ERR_H
#define BERTH_ERR_H

#include "util.h"

/* Error kinds beyond errno, for mapping to Docker's behaviour at the CLI. */
enum
{
  BERR_GENERIC = 0,
  BERR_NOT_FOUND, /* "No such image: X" and friends */
  BERR_INVALID,   /* bad user input: flags, references, archives */
  BERR_CONFLICT,  /* in use, exists, must be forced */
  BERR_CORRUPT,   /* verification failed: digest, size */
  BERR_EXEC,      /* the payload could not be executed: errnum ENOENT (127) or else (126) */
};

typedef struct berr
{
  int errnum; /* errno, or 0 */
  int kind;   /* BERR_* */
  char *msg;  /* heap, or NULL when no error */
} berr_t;

#define BERR_INIT                                                                                  \
  {                                                                                                \
    0, 0, NULL                                                                                     \
  }

/* Set *err (replacing any previous error). If errnum != 0, ": strerror(errnum)" is appended.
 * Always returns -1 so callers can `return berr_set (...)`. */
int berr_set (berr_t *err, int errnum, const char *fmt, ...) PRINTF_LIKE (3, 4);
/* Like berr_set but with a kind. */
int berr_setk (berr_t *err, int kind, int errnum, const char *fmt, ...) PRINTF_LIKE (4, 5);
/* Prefix context: "ctx: previous message". Returns -1. */
int berr_wrap (berr_t *err, const char *fmt, ...) PRINTF_LIKE (2, 3);
/* Discard an error deliberately. */
void berr_release (berr_t *err);
/* Move src into dst (dst released first). */
void berr_move (berr_t *dst, berr_t *src);
static inline bool berr_is_set (const berr_t *err) { return err->msg != NULL; }

static inline void cleanup_berrp (berr_t *e) { berr_release (e); }
#define cleanup_berr __attribute__ ((cleanup (cleanup_berrp)))

#endif
