#include "util/lazylib.h"

#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int lazylib_open (struct lazylib *l, berr_t *err)
{
  if (l->handle)
    return 0;
  l->handle = dlopen (l->soname, RTLD_NOW | RTLD_LOCAL);
  if (l->handle == NULL)
    return berr_set (err, 0, "cannot load %s: %s (install the library's Debian package)", l->soname,
                     dlerror ());
  return 0;
}

void *lazylib_sym (struct lazylib *l, const char *name)
{
  berr_t err = BERR_INIT;
  void *f = NULL;
  if (lazylib_open (l, &err) == 0)
    f = dlsym (l->handle, name);
  if (f == NULL)
    {
      /* Like xmalloc's out-of-memory: no error channel here, and callers check availability
       * with lazy_*_load before they get this far. */
      char msg[512];
      int n = snprintf (msg, sizeof msg, "berth: %s: %s\n", name,
                        err.msg ? err.msg : "symbol missing from the library");
      (void)!write (2, msg, n > 0 && (size_t)n < sizeof msg ? (size_t)n : sizeof msg - 1);
      abort ();
    }
  return f;
}
