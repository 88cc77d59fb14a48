/* libFuzzer target: Dockerfile word expansion. The first byte picks the escape character and
 * case folding; the rest is the word, expanded and split against a small environment. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "build/shell.h"
#include "util/util.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  if (size < 1)
    return 0;
  char escape = (data[0] & 1) ? '`' : '\\';
  char *word = strndup ((const char *)data + 1, size - 1);
  if (word == NULL)
    return 0;
  static char *const kv[]
      = { "PWD=/home", "EMPTY=", "SPACES=a b  c", "X=x*y?z", "P=/a/b/c.tar.gz", NULL };
  struct shell_env env = { .kv = kv, .fold_case = (data[0] & 2) != 0 };
  berr_t err = BERR_INIT;
  char *out = NULL;
  struct shell_refs refs = { 0 };
  if (shell_process_word (word, &env, escape, &out, &refs, &err) == 0)
    {
      free (out);
      shell_refs_release (&refs);
    }
  berr_release (&err);
  char **words = NULL;
  struct shell_refs refs2 = { 0 };
  if (shell_process_words (word, &env, escape, &words, &refs2, &err) == 0)
    {
      strv_free (words);
      shell_refs_release (&refs2);
    }
  berr_release (&err);
  free (word);
  return 0;
}
