/* shellsplit.c — a command string to words as a POSIX shell would split it (quotes and
 * backslashes), without any expansion: what compose does with `command: echo "a b"`. */
#include <string.h>

#include "compose/compose.h"

int compose_shell_split (const char *s, char ***out, berr_t *err)
{
  char **words = NULL;
  struct sbuf w;
  sbuf_init (&w);
  bool in_word = false;
  for (const char *p = s; *p; p++)
    {
      if (*p == ' ' || *p == '\t' || *p == '\n')
        {
          if (in_word)
            {
              strv_push_take (&words, sbuf_detach (&w));
              in_word = false;
            }
          continue;
        }
      in_word = true;
      if (*p == '\\')
        {
          if (p[1])
            sbuf_addc (&w, *++p);
          continue;
        }
      if (*p == '\'')
        {
          const char *e = strchr (p + 1, '\'');
          if (e == NULL)
            goto unterminated;
          sbuf_add (&w, p + 1, (size_t)(e - p - 1));
          p = e;
          continue;
        }
      if (*p == '"')
        {
          p++;
          for (; *p && *p != '"'; p++)
            {
              if (*p == '\\' && p[1] && strchr ("\"\\$`\n", p[1]))
                p++;
              sbuf_addc (&w, *p);
            }
          if (*p != '"')
            goto unterminated;
          continue;
        }
      sbuf_addc (&w, *p);
    }
  if (in_word)
    strv_push_take (&words, sbuf_detach (&w));
  sbuf_release (&w);
  if (words == NULL)
    words = xzalloc (sizeof *words);
  *out = words;
  return 0;
unterminated:
  sbuf_release (&w);
  strv_free (words);
  return berr_setk (err, BERR_INVALID, 0, "invalid command line string: unterminated quote");
}
