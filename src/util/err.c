#include "err.h"

#include <stdlib.h>
#include <string.h>

static int berr_vset (berr_t *err, int kind, int errnum, const char *fmt, va_list ap)
{
  char *m = xvasprintf (fmt, ap);
  free (err->msg);
  if (errnum)
    {
      err->msg = xasprintf ("%s: %s", m, strerror (errnum));
      free (m);
    }
  else
    err->msg = m;
  err->errnum = errnum;
  err->kind = kind;
  return -1;
}

int berr_set (berr_t *err, int errnum, const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  berr_vset (err, BERR_GENERIC, errnum, fmt, ap);
  va_end (ap);
  return -1;
}

int berr_setk (berr_t *err, int kind, int errnum, const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  berr_vset (err, kind, errnum, fmt, ap);
  va_end (ap);
  return -1;
}

int berr_wrap (berr_t *err, const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  char *ctx = xvasprintf (fmt, ap);
  va_end (ap);
  char *m = xasprintf ("%s: %s", ctx, err->msg ? err->msg : "unknown error");
  free (ctx);
  free (err->msg);
  err->msg = m;
  return -1;
}

void berr_release (berr_t *err)
{
  free (err->msg);
  err->msg = NULL;
  err->errnum = 0;
  err->kind = 0;
}

void berr_move (berr_t *dst, berr_t *src)
{
  berr_release (dst);
  *dst = *src;
  src->msg = NULL;
  src->errnum = 0;
  src->kind = 0;
}
