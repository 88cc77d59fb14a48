/* libFuzzer target: image references. Parsing must never crash, and whatever parses must print
 * back to a string that parses again to the same reference. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "image/ref.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  char *s = strndup ((const char *)data, size);
  if (s == NULL)
    return 0;
  struct image_ref r = { 0 };
  berr_t err = BERR_INIT;
  if (ref_parse_normalized (s, &r, &err) == 0)
    {
      char *full = ref_string (&r);
      struct image_ref again = { 0 };
      if (ref_parse_normalized (full, &again, &err) != 0)
        abort ();
      char *full2 = ref_string (&again);
      if (strcmp (full, full2) != 0)
        abort ();
      char *fam = ref_familiar (&r);
      free (fam);
      free (full);
      free (full2);
      ref_release (&again);
      ref_release (&r);
    }
  berr_release (&err);
  if (ref_parse (s, &r, &err) == 0)
    ref_release (&r);
  berr_release (&err);
  if (ref_parse_docker (s, &r, &err) == 0)
    ref_release (&r);
  berr_release (&err);
  (void)ref_is_id_prefix (s);
  free (s);
  return 0;
}
