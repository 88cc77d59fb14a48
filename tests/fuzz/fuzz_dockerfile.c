/* libFuzzer target: the Dockerfile parser. Any input parses or fails cleanly; what parses dumps,
 * and every instruction passes through the instruction checks and the COPY/ADD source split. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "build/dockerfile.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  struct df_result *r = NULL;
  berr_t err = BERR_INIT;
  if (df_parse ("Dockerfile", (const char *)data, size, &r, &err) == 0)
    {
      free (df_dump (r));
      for (size_t i = 0; i < r->n_nodes; i++)
        {
          berr_t e2 = BERR_INIT;
          (void)df_instruction_check (&r->nodes[i], &e2);
          berr_release (&e2);
        }
      df_result_free (r);
    }
  berr_release (&err);
  return 0;
}
