/* util.h — allocation, cleanup attributes, small helpers shared by every room.
 *
 * Allocation failure aborts (xmalloc and friends), so callers never check for NULL.
 * Cleanup attributes free resources on scope exit; ownership leaves a scope with
 * steal_pointer()/steal_fd(). */
#ifndef BERTH_UTIL_H
#define BERTH_UTIL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <dirent.h>

#define UNLIKELY(x) __builtin_expect (!!(x), 0)
#define LIKELY(x) __builtin_expect (!!(x), 1)
#define ARRAY_SIZE(a) (sizeof (a) / sizeof ((a)[0]))
#define arg_unused __attribute__ ((unused))
#define PRINTF_LIKE(f, a) __attribute__ ((format (printf, f, a)))

void *xmalloc (size_t n);
void *xzalloc (size_t n);
void *xcalloc (size_t nmemb, size_t n);
void *xrealloc (void *p, size_t n);
char *xstrdup (const char *s);
char *xstrndup (const char *s, size_t n);
char *xasprintf (const char *fmt, ...) PRINTF_LIKE (1, 2);
char *xvasprintf (const char *fmt, va_list ap);

void cleanup_freep (void *p);
void cleanup_closep (int *fd);
void cleanup_fclosep (FILE **f);
void cleanup_closedirp (DIR **d);
void cleanup_strvp (char ***v);

#define cleanup_free __attribute__ ((cleanup (cleanup_freep)))
#define cleanup_close __attribute__ ((cleanup (cleanup_closep)))
#define cleanup_fclose __attribute__ ((cleanup (cleanup_fclosep)))
#define cleanup_closedir __attribute__ ((cleanup (cleanup_closedirp)))
#define cleanup_strv __attribute__ ((cleanup (cleanup_strvp)))

/* Hand ownership out of a cleanup-managed variable. */
#define steal_pointer(pp)                                                                          \
  ({                                                                                               \
    __typeof__ (*(pp)) _p = *(pp);                                                                 \
    *(pp) = NULL;                                                                                  \
    _p;                                                                                            \
  })
static inline int steal_fd (int *fd)
{
  int r = *fd;
  *fd = -1;
  return r;
}

/* NULL-terminated string vectors. */
size_t strv_len (char *const *v);
void strv_free (char **v);
char **strv_dup (char *const *v);
/* Append a copy of s; *v may be NULL. */
void strv_push (char ***v, const char *s);
void strv_push_take (char ***v, char *s);
bool strv_contains (char *const *v, const char *s);

bool str_has_prefix (const char *s, const char *prefix);
bool str_has_suffix (const char *s, const char *suffix);
bool str_is_hex (const char *s, size_t len);

/* A growable byte/string buffer; always NUL-terminated. */
struct sbuf
{
  char *buf;
  size_t len;
  size_t cap;
};
void sbuf_init (struct sbuf *b);
void sbuf_release (struct sbuf *b);
void sbuf_grow (struct sbuf *b, size_t extra);
void sbuf_add (struct sbuf *b, const void *data, size_t len);
void sbuf_adds (struct sbuf *b, const char *s);
void sbuf_addc (struct sbuf *b, char c);
void sbuf_addf (struct sbuf *b, const char *fmt, ...) PRINTF_LIKE (2, 3);
void sbuf_vaddf (struct sbuf *b, const char *fmt, va_list ap);
void sbuf_reset (struct sbuf *b);
/* Return the buffer (caller frees) and reset b. */
char *sbuf_detach (struct sbuf *b);

static inline void cleanup_sbufp (struct sbuf *b) { sbuf_release (b); }
#define cleanup_sbuf __attribute__ ((cleanup (cleanup_sbufp)))

/* Wall clock in nanoseconds since the epoch. */
int64_t now_ns (void);

#endif
