/* libFuzzer target: Go templates (--format). Parse and execute against an inspect-like object;
 * errors are fine, crashes, leaks and hangs are not. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "util/template.h"

static json_t *data;

int LLVMFuzzerTestOneInput (const uint8_t *bytes, size_t size)
{
  if (data == NULL)
    data = json_loads ("{\"Id\":\"sha256:abc\",\"RepoTags\":[\"a:1\",\"b:2\"],\"Size\":12345,"
                       "\"Config\":{\"Env\":[\"A=1\"],\"Labels\":{\"k\":\"v\",\"x\":\"\"},"
                       "\"Cmd\":null,\"Tty\":false},\"Ratio\":0.5}",
                       0, NULL);
  char *src = strndup ((const char *)bytes, size);
  if (src == NULL)
    return 0;
  berr_t err = BERR_INIT;
  struct tmpl *t = tmpl_parse (src, &err);
  if (t)
    {
      struct sbuf out;
      sbuf_init (&out);
      if (tmpl_exec (t, data, &out, &err) < 0)
        berr_release (&err);
      sbuf_release (&out);
      tmpl_free (t);
    }
  berr_release (&err);
  free (src);
  return 0;
}
