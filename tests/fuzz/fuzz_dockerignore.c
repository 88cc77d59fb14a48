/* libFuzzer target: .dockerignore reading and matching. The input is the ignore file; its
 * patterns are compiled and matched against fixed paths and against each pattern as a path. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "build/dockerignore.h"
#include "util/util.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  char **pats = NULL;
  berr_t err = BERR_INIT;
  if (di_read_patterns ((const char *)data, size, &pats, &err) < 0)
    {
      berr_release (&err);
      return 0;
    }
  di_matcher_t *m = NULL;
  if (di_matcher_new ((const char *const *)pats, &m, &err) == 0)
    {
      static const char *paths[] = {
        "a", "a/b", "a/b/c.txt", ".git/config", "node_modules/x/y", "Dockerfile", "dir/sub/file.go"
      };
      for (size_t i = 0; i < sizeof paths / sizeof *paths; i++)
        {
          bool out = false;
          if (di_matches (m, paths[i], &out, &err) < 0)
            berr_release (&err);
          (void)di_dir_may_reinclude (m, paths[i]);
        }
      for (size_t i = 0; pats && pats[i]; i++)
        {
          bool out = false;
          if (di_matches (m, pats[i], &out, &err) < 0)
            berr_release (&err);
        }
      di_matcher_free (m);
    }
  berr_release (&err);
  bool out = false;
  if (pats && pats[0] && di_matches_legacy ((const char *const *)pats, "a/b/c", &out, &err) < 0)
    berr_release (&err);
  strv_free (pats);
  return 0;
}
