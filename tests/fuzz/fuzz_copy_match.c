/* libFuzzer target: Go's filepath.Match as COPY/ADD use it (copy_match). The input is
 * "PATTERN\nNAME"; without a newline it is matched against itself. Besides not crashing, a
 * pattern with no special character must match exactly itself. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "build/copy.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  char *buf = strndup ((const char *)data, size);
  if (buf == NULL)
    return 0;
  char *name = strchr (buf, '\n');
  if (name != NULL)
    *name++ = '\0';
  else
    name = buf;
  int r = copy_match (buf, name);
  if (r < -1 || r > 1)
    abort ();
  if (strpbrk (buf, "*?[\\") == NULL && r != (strcmp (buf, name) == 0))
    abort ();
  /* '*' matches any one path element, and nothing with a separator in it. */
  if (copy_match ("*", name) != (strchr (name, '/') == NULL))
    abort ();
  free (buf);
  return 0;
}
