/* lazylib.h — shared libraries bound on first use (see lazyarchive.c, lazycurl.c for why).
 *
 * Core code that is about to use one calls lazy_archive_load / lazy_curl_load first, so a
 * missing library is an ordinary error ("cannot load libarchive.so.13: …"). The generated
 * wrappers themselves cannot return an error (their signatures are the library's); reaching one
 * with the library unloadable is treated like running out of memory: a message and abort. */
#ifndef BERTH_LAZYLIB_H
#define BERTH_LAZYLIB_H

#include "util/err.h"

struct lazylib
{
  const char *soname;
  void *handle;
};

/* dlopen the library if it is not open yet. */
int lazylib_open (struct lazylib *l, berr_t *err);
/* The symbol from the library; fatal when the library or the symbol is missing. */
void *lazylib_sym (struct lazylib *l, const char *name);

/* Make sure libarchive / libcurl can be used; call before the first archive_* / curl_* call. */
int lazy_archive_load (berr_t *err);
int lazy_curl_load (berr_t *err);

#endif
