#include "util.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static void oom (void)
{
  static const char msg[] = "berth: out of memory\n";
  (void)!write (2, msg, sizeof msg - 1);
  abort ();
}

void *xmalloc (size_t n)
{
  void *p = malloc (n ? n : 1);
  if (UNLIKELY (p == NULL))
    oom ();
  return p;
}

void *xzalloc (size_t n) { return xcalloc (1, n); }

void *xcalloc (size_t nmemb, size_t n)
{
  void *p = calloc (nmemb ? nmemb : 1, n ? n : 1);
  if (UNLIKELY (p == NULL))
    oom ();
  return p;
}

void *xrealloc (void *p, size_t n)
{
  void *r = realloc (p, n ? n : 1);
  if (UNLIKELY (r == NULL))
    oom ();
  return r;
}

char *xstrdup (const char *s)
{
  char *r;
  if (s == NULL)
    return NULL;
  r = strdup (s);
  if (UNLIKELY (r == NULL))
    oom ();
  return r;
}

char *xstrndup (const char *s, size_t n)
{
  char *r = strndup (s, n);
  if (UNLIKELY (r == NULL))
    oom ();
  return r;
}

char *xvasprintf (const char *fmt, va_list ap)
{
  char *r;
  if (UNLIKELY (vasprintf (&r, fmt, ap) < 0))
    oom ();
  return r;
}

char *xasprintf (const char *fmt, ...)
{
  va_list ap;
  char *r;
  va_start (ap, fmt);
  r = xvasprintf (fmt, ap);
  va_end (ap);
  return r;
}

void cleanup_freep (void *p)
{
  void **pp = (void **)p;
  free (*pp);
  *pp = NULL;
}

void cleanup_closep (int *fd)
{
  if (*fd >= 0)
    {
      int saved = errno;
      close (*fd);
      errno = saved;
    }
  *fd = -1;
}

void cleanup_fclosep (FILE **f)
{
  if (*f)
    fclose (*f);
  *f = NULL;
}

void cleanup_closedirp (DIR **d)
{
  if (*d)
    closedir (*d);
  *d = NULL;
}

void cleanup_strvp (char ***v)
{
  strv_free (*v);
  *v = NULL;
}

size_t strv_len (char *const *v)
{
  size_t n = 0;
  while (v && v[n])
    n++;
  return n;
}

void strv_free (char **v)
{
  for (size_t i = 0; v && v[i]; i++)
    free (v[i]);
  free (v);
}

char **strv_dup (char *const *v)
{
  size_t n = strv_len (v);
  char **r = xcalloc (n + 1, sizeof (char *));
  for (size_t i = 0; i < n; i++)
    r[i] = xstrdup (v[i]);
  return r;
}

void strv_push_take (char ***v, char *s)
{
  size_t n = strv_len (*v);
  *v = xrealloc (*v, (n + 2) * sizeof (char *));
  (*v)[n] = s;
  (*v)[n + 1] = NULL;
}

void strv_push (char ***v, const char *s) { strv_push_take (v, xstrdup (s)); }

bool strv_contains (char *const *v, const char *s)
{
  for (size_t i = 0; v && v[i]; i++)
    if (strcmp (v[i], s) == 0)
      return true;
  return false;
}

bool str_has_prefix (const char *s, const char *prefix)
{
  return strncmp (s, prefix, strlen (prefix)) == 0;
}

bool str_has_suffix (const char *s, const char *suffix)
{
  size_t ls = strlen (s), lx = strlen (suffix);
  return ls >= lx && memcmp (s + ls - lx, suffix, lx) == 0;
}

bool str_is_hex (const char *s, size_t len)
{
  for (size_t i = 0; i < len; i++)
    if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
      return false;
  return true;
}

void sbuf_init (struct sbuf *b)
{
  b->buf = NULL;
  b->len = 0;
  b->cap = 0;
}

void sbuf_release (struct sbuf *b)
{
  free (b->buf);
  sbuf_init (b);
}

void sbuf_grow (struct sbuf *b, size_t extra)
{
  size_t need = b->len + extra + 1;
  if (need <= b->cap)
    return;
  size_t cap = b->cap ? b->cap : 64;
  while (cap < need)
    cap *= 2;
  b->buf = xrealloc (b->buf, cap);
  b->cap = cap;
}

void sbuf_add (struct sbuf *b, const void *data, size_t len)
{
  sbuf_grow (b, len);
  if (len)
    memcpy (b->buf + b->len, data, len);
  b->len += len;
  b->buf[b->len] = '\0';
}

void sbuf_adds (struct sbuf *b, const char *s) { sbuf_add (b, s, strlen (s)); }

void sbuf_addc (struct sbuf *b, char c) { sbuf_add (b, &c, 1); }

void sbuf_vaddf (struct sbuf *b, const char *fmt, va_list ap)
{
  va_list ap2;
  char probe[1];
  if (fmt == NULL)
    return;
  va_copy (ap2, ap);
  int n = vsnprintf (probe, sizeof probe, fmt, ap2);
  va_end (ap2);
  if (n < 0)
    return;
  sbuf_grow (b, (size_t)n);
  vsnprintf (b->buf + b->len, (size_t)n + 1, fmt, ap);
  b->len += (size_t)n;
}

void sbuf_addf (struct sbuf *b, const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  sbuf_vaddf (b, fmt, ap);
  va_end (ap);
}

void sbuf_reset (struct sbuf *b)
{
  b->len = 0;
  if (b->buf)
    b->buf[0] = '\0';
}

char *sbuf_detach (struct sbuf *b)
{
  char *r = b->buf ? b->buf : xstrdup ("");
  sbuf_init (b);
  return r;
}

int64_t now_ns (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}
