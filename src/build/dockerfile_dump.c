/* dockerfile_dump.c — BuildKit's AST dump (the conformance `result` format): Go's %q quoting. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "build/dockerfile.h"
#include "util/util.h"

/* A rune Go's strconv.IsPrint would reject: close enough for the non-ASCII ranges a
 * Dockerfile carries (C1 controls, format characters, line/paragraph separators). */
static bool rune_unprintable (uint32_t r)
{
  return r < 0x20 || r == 0x7F || (r >= 0x80 && r <= 0xA0) || r == 0xAD
         || (r >= 0x200B && r <= 0x200F) || (r >= 0x2028 && r <= 0x202E)
         || (r >= 0x2060 && r <= 0x206F) || r == 0xFEFF || (r >= 0xFFF9 && r <= 0xFFFB)
         || r == 0xFFFE || r == 0xFFFF;
}

/* strconv.Quote */
static void go_quote (struct sbuf *b, const char *s, size_t len)
{
  sbuf_addc (b, '"');
  for (size_t i = 0; i < len;)
    {
      unsigned char c = (unsigned char)s[i];
      if (c < 0x80)
        {
          i++;
          switch (c)
            {
            case '"':
              sbuf_adds (b, "\\\"");
              break;
            case '\\':
              sbuf_adds (b, "\\\\");
              break;
            case '\a':
              sbuf_adds (b, "\\a");
              break;
            case '\b':
              sbuf_adds (b, "\\b");
              break;
            case '\f':
              sbuf_adds (b, "\\f");
              break;
            case '\n':
              sbuf_adds (b, "\\n");
              break;
            case '\r':
              sbuf_adds (b, "\\r");
              break;
            case '\t':
              sbuf_adds (b, "\\t");
              break;
            case '\v':
              sbuf_adds (b, "\\v");
              break;
            default:
              if (c < 0x20 || c == 0x7F)
                sbuf_addf (b, "\\x%02x", c);
              else
                sbuf_addc (b, (char)c);
            }
          continue;
        }
      /* decode one UTF-8 sequence; anything invalid is one \xNN byte */
      size_t need = (c & 0xE0) == 0xC0 ? 1 : (c & 0xF0) == 0xE0 ? 2 : (c & 0xF8) == 0xF0 ? 3 : 0;
      uint32_t r = need == 1 ? c & 0x1Fu : need == 2 ? c & 0x0Fu : c & 0x07u;
      bool ok = need > 0;
      for (size_t k = 1; ok && k <= need; k++)
        {
          if (i + k >= len || ((unsigned char)s[i + k] & 0xC0) != 0x80)
            ok = false;
          else
            r = (r << 6) | ((unsigned char)s[i + k] & 0x3Fu);
        }
      if (ok)
        {
          uint32_t min = need == 1 ? 0x80 : need == 2 ? 0x800 : 0x10000;
          if (r < min || r > 0x10FFFF || (r >= 0xD800 && r <= 0xDFFF))
            ok = false;
        }
      if (!ok)
        {
          sbuf_addf (b, "\\x%02x", c);
          i++;
          continue;
        }
      if (rune_unprintable (r))
        {
          if (r < 0x10000)
            sbuf_addf (b, "\\u%04x", r);
          else
            sbuf_addf (b, "\\U%08x", r);
        }
      else
        sbuf_add (b, s + i, need + 1);
      i += need + 1;
    }
  sbuf_addc (b, '"');
}

static void dump_node (struct sbuf *b, const struct df_node *n)
{
  sbuf_adds (b, n->keyword);
  if (n->flags && n->flags[0])
    {
      sbuf_adds (b, " [");
      for (size_t i = 0; n->flags[i]; i++)
        {
          if (i)
            sbuf_addc (b, ' ');
          go_quote (b, n->flags[i], strlen (n->flags[i]));
        }
      sbuf_addc (b, ']');
    }
  if (n->sub)
    {
      sbuf_adds (b, " (");
      dump_node (b, n->sub);
      sbuf_addc (b, ')');
    }
  for (size_t i = 0; i < n->n_args; i++)
    {
      sbuf_addc (b, ' ');
      go_quote (b, n->args[i].value, n->args[i].len);
    }
}

char *df_node_dump (const struct df_node *n)
{
  struct sbuf b;
  sbuf_init (&b);
  dump_node (&b, n);
  return sbuf_detach (&b);
}

char *df_dump (const struct df_result *r)
{
  struct sbuf b;
  sbuf_init (&b);
  for (size_t i = 0; i < r->n_nodes; i++)
    {
      sbuf_addc (&b, '(');
      dump_node (&b, &r->nodes[i]);
      sbuf_adds (&b, ")\n");
    }
  return sbuf_detach (&b);
}
