/* dockerfile.c — Dockerfile text → AST, matching BuildKit's parser (line joining, directives,
 * per-instruction argument splitting). Written from the behaviour the conformance corpus pins
 * down; the quirks (byte-wise flag scanning, the continuation rule) are deliberate. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "build/dockerfile.h"
#include "build/dockerfile_priv.h"
#include "util/util.h"

#define DF_MAX_LINE 65536

/* Go's utf8.DecodeRune: invalid input decodes as one byte. */
uint32_t df_utf8_decode (const unsigned char *s, size_t len, size_t *width)
{
  unsigned char c = s[0];
  *width = 1;
  if (c < 0x80)
    return c;
  size_t need;
  uint32_t r, min;
  if ((c & 0xE0) == 0xC0)
    need = 1, r = c & 0x1F, min = 0x80;
  else if ((c & 0xF0) == 0xE0)
    need = 2, r = c & 0x0F, min = 0x800;
  else if ((c & 0xF8) == 0xF0)
    need = 3, r = c & 0x07, min = 0x10000;
  else
    return 0xFFFD;
  if (len < need + 1)
    return 0xFFFD;
  for (size_t i = 1; i <= need; i++)
    {
      if ((s[i] & 0xC0) != 0x80)
        return 0xFFFD;
      r = (r << 6) | (s[i] & 0x3F);
    }
  if (r < min || r > 0x10FFFF || (r >= 0xD800 && r <= 0xDFFF))
    return 0xFFFD;
  *width = need + 1;
  return r;
}

/* unicode.IsSpace */
bool df_rune_is_space (uint32_t r)
{
  if (r == ' ' || (r >= '\t' && r <= '\r') || r == 0x85 || r == 0xA0)
    return true;
  return r == 0x1680 || (r >= 0x2000 && r <= 0x200A) || r == 0x2028 || r == 0x2029 || r == 0x202F
         || r == 0x205F || r == 0x3000;
}

/* unicode.IsSpace(rune(byte)): what BuildKit applies byte by byte in a few places. */
static bool byte_is_space (unsigned char c) { return df_rune_is_space (c); }

/* Length of the leading run of Unicode white space. */
static size_t lead_space (const char *s, size_t len)
{
  size_t i = 0;
  while (i < len)
    {
      size_t w;
      uint32_t r = df_utf8_decode ((const unsigned char *)s + i, len - i, &w);
      if (!df_rune_is_space (r) || (r == 0xFFFD && w == 1))
        break;
      i += w;
    }
  return i;
}

/* strings.TrimSpace into a new string. */
static char *trim_space (const char *s, size_t len)
{
  size_t start = lead_space (s, len), end = start, i = start;
  while (i < len)
    {
      size_t w;
      uint32_t r = df_utf8_decode ((const unsigned char *)s + i, len - i, &w);
      i += w;
      if (!df_rune_is_space (r) || (r == 0xFFFD && w == 1))
        end = i;
    }
  return xstrndup (s + start, end - start);
}

static bool is_ws_re (char c)
{
  return c == ' ' || c == '\t' || c == '\v' || c == '\f' || c == '\r';
}

/* Go's string(rune(b)) appended: bytes ≥ 0x80 become two-byte UTF-8. */
static void add_byte_as_rune (struct sbuf *b, unsigned char c)
{
  if (c < 0x80)
    sbuf_addc (b, (char)c);
  else
    {
      sbuf_addc (b, (char)(0xC0 | (c >> 6)));
      sbuf_addc (b, (char)(0x80 | (c & 0x3F)));
    }
}

static void words_push (struct df_word **w, size_t *n, const char *s, size_t len)
{
  *w = xrealloc (*w, (*n + 1) * sizeof **w);
  (*w)[*n].value = xstrndup (s, len);
  (*w)[*n].len = len;
  (*n)++;
}

void df_words_free (struct df_word *w, size_t n)
{
  for (size_t i = 0; i < n; i++)
    free (w[i].value);
  free (w);
}

char **df_parse_words (const char *s, char escape)
{
  enum
  {
    IN_SPACES,
    IN_WORD,
    IN_QUOTE
  } phase
      = IN_SPACES;
  char **words = xcalloc (1, sizeof (char *));
  cleanup_sbuf struct sbuf word;
  sbuf_init (&word);
  size_t len = strlen (s), w = 0;
  uint32_t ch = 0, quote = 0;
  bool blank_ok = false;
  for (size_t pos = 0; pos <= len; pos += w)
    {
      if (pos != len)
        ch = df_utf8_decode ((const unsigned char *)s + pos, len - pos, &w);
      if (phase == IN_SPACES)
        {
          if (pos == len)
            break;
          if (df_rune_is_space (ch))
            continue;
          phase = IN_WORD;
        }
      if (pos == len)
        {
          if (blank_ok || word.len > 0)
            strv_push (&words, word.buf);
          break;
        }
      if (phase == IN_WORD)
        {
          if (df_rune_is_space (ch))
            {
              phase = IN_SPACES;
              if (blank_ok || word.len > 0)
                strv_push (&words, word.buf);
              sbuf_reset (&word);
              blank_ok = false;
              continue;
            }
          if (ch == '\'' || ch == '"')
            {
              quote = ch;
              blank_ok = true;
              phase = IN_QUOTE;
            }
          if (ch == (unsigned char)escape)
            {
              if (pos + w == len)
                continue;
              sbuf_add (&word, s + pos, w);
              pos += w;
              ch = df_utf8_decode ((const unsigned char *)s + pos, len - pos, &w);
            }
          sbuf_add (&word, s + pos, w);
          continue;
        }
      /* IN_QUOTE */
      if (ch == quote)
        phase = IN_WORD;
      if (ch == (unsigned char)escape && quote != '\'')
        {
          if (pos + w == len)
            {
              phase = IN_WORD;
              continue;
            }
          sbuf_add (&word, s + pos, w);
          pos += w;
          ch = df_utf8_decode ((const unsigned char *)s + pos, len - pos, &w);
        }
      sbuf_add (&word, s + pos, w);
    }
  return words;
}

/* Split on runs of [\t\v\f\r ] (BuildKit's reWhitespace), at most max pieces (0: all). */
static void split_ws (const char *s, int max, struct df_word **out, size_t *n)
{
  const char *p = s;
  int pieces = 1;
  for (;;)
    {
      const char *q = p;
      if (max == 0 || pieces < max)
        while (*q && !is_ws_re (*q))
          q++;
      else
        q = p + strlen (p);
      words_push (out, n, p, (size_t)(q - p));
      if (*q == '\0')
        break;
      while (is_ws_re (*q))
        q++;
      p = q;
      pieces++;
    }
}

int df_parse_name_val (const char *rest, const char *keyword, char escape, struct df_word **out,
                       size_t *n_out, berr_t *err)
{
  *out = NULL;
  *n_out = 0;
  cleanup_strv char **words = df_parse_words (rest, escape);
  if (words[0] == NULL)
    return 0;
  if (strchr (words[0], '=') == NULL)
    {
      struct df_word *parts = NULL;
      size_t n = 0;
      split_ws (rest, 2, &parts, &n);
      if (n < 2)
        {
          df_words_free (parts, n);
          return berr_setk (err, BERR_INVALID, 0, "%s must have two arguments", keyword);
        }
      words_push (&parts, &n, "", 0);
      *out = parts;
      *n_out = n;
      return 0;
    }
  for (size_t i = 0; words[i]; i++)
    {
      char *eq = strchr (words[i], '=');
      if (eq == NULL)
        {
          df_words_free (*out, *n_out);
          *out = NULL;
          *n_out = 0;
          return berr_setk (err, BERR_INVALID, 0,
                            "Syntax error - can't find = in \"%s\". Must be of the form: "
                            "name=value",
                            words[i]);
        }
      words_push (out, n_out, words[i], (size_t)(eq - words[i]));
      words_push (out, n_out, eq + 1, strlen (eq + 1));
      words_push (out, n_out, "=", 1);
    }
  return 0;
}

int df_parse_json_array (const char *rest, struct df_word **out, size_t *n_out, berr_t *err)
{
  *out = NULL;
  *n_out = 0;
  size_t len = strlen (rest), skip = lead_space (rest, len);
  if (rest[skip] != '[')
    return 0;
  json_error_t jerr;
  json_t *arr = json_loadb (rest + skip, len - skip, JSON_ALLOW_NUL, &jerr);
  if (arr == NULL)
    return 0;
  if (!json_is_array (arr))
    {
      json_decref (arr);
      return 0;
    }
  size_t i;
  json_t *v;
  json_array_foreach (arr, i, v)
  {
    if (!json_is_string (v))
      {
        json_decref (arr);
        df_words_free (*out, *n_out);
        *out = NULL;
        *n_out = 0;
        return berr_setk (err, BERR_INVALID, 0,
                          "when using JSON array syntax, arrays must be comprised of strings "
                          "only");
      }
    words_push (out, n_out, json_string_value (v), json_string_length (v));
  }
  json_decref (arr);
  return 1;
}

/* BuildKit's extractBuilderFlags: byte-wise, quotes and backslashes honoured in flag words. */
static const char *extract_flags (const char *line, char ***flags)
{
  enum
  {
    IN_SPACES,
    IN_WORD,
    IN_QUOTE
  } phase
      = IN_SPACES;
  cleanup_sbuf struct sbuf word;
  sbuf_init (&word);
  size_t len = strlen (line);
  unsigned char ch = 0, quote = 0;
  bool blank_ok = false;
  for (size_t pos = 0; pos <= len; pos++)
    {
      if (pos != len)
        ch = (unsigned char)line[pos];
      if (phase == IN_SPACES)
        {
          if (pos == len)
            break;
          if (byte_is_space (ch))
            continue;
          if (ch != '-' || pos + 1 == len || line[pos + 1] != '-')
            return line + pos;
          phase = IN_WORD;
        }
      if (pos == len)
        {
          if (strcmp (word.buf, "--") != 0 && (blank_ok || word.len > 0))
            strv_push (flags, word.buf);
          break;
        }
      if (phase == IN_WORD)
        {
          if (byte_is_space (ch))
            {
              phase = IN_SPACES;
              if (strcmp (word.buf, "--") == 0)
                return line + pos;
              if (blank_ok || word.len > 0)
                strv_push (flags, word.buf);
              sbuf_reset (&word);
              blank_ok = false;
              continue;
            }
          if (ch == '\'' || ch == '"')
            {
              quote = ch;
              blank_ok = true;
              phase = IN_QUOTE;
              continue;
            }
          if (ch == '\\')
            {
              if (pos + 1 == len)
                continue;
              ch = (unsigned char)line[++pos];
            }
          add_byte_as_rune (&word, ch);
          continue;
        }
      if (ch == quote)
        {
          phase = IN_WORD;
          continue;
        }
      if (ch == '\\')
        {
          if (pos + 1 == len)
            {
              phase = IN_WORD;
              continue;
            }
          ch = (unsigned char)line[++pos];
        }
      add_byte_as_rune (&word, ch);
    }
  return line + len;
}

static void node_clear (struct df_node *n)
{
  if (n == NULL)
    return;
  free (n->keyword);
  free (n->original);
  strv_free (n->flags);
  df_words_free (n->args, n->n_args);
  if (n->sub)
    {
      node_clear (n->sub);
      free (n->sub);
    }
  for (size_t i = 0; i < n->n_heredocs; i++)
    {
      free (n->heredocs[i].name);
      free (n->heredocs[i].content);
    }
  free (n->heredocs);
  strv_free (n->comments);
  memset (n, 0, sizeof *n);
}

static void ascii_lower (char *s)
{
  for (; *s; s++)
    if (*s >= 'A' && *s <= 'Z')
      *s = (char)(*s - 'A' + 'a');
}

/* Exec form, else the whole rest as one word (RUN, CMD, ENTRYPOINT, SHELL). */
static int args_maybe_json (struct df_node *n, const char *rest, bool to_list, berr_t *err)
{
  if (*rest == '\0')
    return 0;
  struct df_word *w = NULL;
  size_t nw = 0;
  int r = df_parse_json_array (rest, &w, &nw, err);
  if (r < 0)
    return -1;
  if (r > 0)
    {
      /* appended: HEALTHCHECK's type word comes first */
      for (size_t i = 0; i < nw; i++)
        {
          n->args = xrealloc (n->args, (n->n_args + 1) * sizeof *n->args);
          n->args[n->n_args++] = w[i];
        }
      free (w);
      n->json = true;
      return 0;
    }
  if (to_list)
    split_ws (rest, 0, &n->args, &n->n_args);
  else
    words_push (&n->args, &n->n_args, rest, strlen (rest));
  return 0;
}

static int node_from_line (const char *line, char escape, struct df_node *n, berr_t *err)
{
  memset (n, 0, sizeof *n);
  n->original = xstrdup (line);
  cleanup_free char *trimmed = trim_space (line, strlen (line));
  char *p = trimmed;
  while (*p && !is_ws_re (*p))
    p++;
  n->keyword = xstrndup (trimmed, (size_t)(p - trimmed));
  ascii_lower (n->keyword);
  while (is_ws_re (*p))
    p++;
  cleanup_free char *rest = NULL;
  if (*p)
    {
      const char *r = extract_flags (p, &n->flags);
      rest = trim_space (r, strlen (r));
    }
  else
    rest = xstrdup ("");

  const char *k = n->keyword;
  int r = 0;
  if (strcmp (k, "add") == 0 || strcmp (k, "copy") == 0 || strcmp (k, "volume") == 0)
    r = args_maybe_json (n, rest, true, err);
  else if (strcmp (k, "run") == 0 || strcmp (k, "cmd") == 0 || strcmp (k, "entrypoint") == 0
           || strcmp (k, "shell") == 0)
    r = args_maybe_json (n, rest, false, err);
  else if (strcmp (k, "env") == 0 || strcmp (k, "label") == 0)
    r = df_parse_name_val (rest, strcmp (k, "env") == 0 ? "ENV" : "LABEL", escape, &n->args,
                           &n->n_args, err);
  else if (strcmp (k, "arg") == 0)
    {
      cleanup_strv char **words = df_parse_words (rest, escape);
      for (size_t i = 0; words[i]; i++)
        words_push (&n->args, &n->n_args, words[i], strlen (words[i]));
    }
  else if (strcmp (k, "from") == 0 || strcmp (k, "expose") == 0)
    {
      if (*rest)
        split_ws (rest, 0, &n->args, &n->n_args);
    }
  else if (strcmp (k, "maintainer") == 0 || strcmp (k, "user") == 0 || strcmp (k, "workdir") == 0
           || strcmp (k, "stopsignal") == 0)
    {
      if (*rest)
        words_push (&n->args, &n->n_args, rest, strlen (rest));
    }
  else if (strcmp (k, "healthcheck") == 0)
    {
      /* byte-wise, as BuildKit */
      size_t sep = 0, next;
      while (rest[sep] && !byte_is_space ((unsigned char)rest[sep]))
        sep++;
      for (next = sep; rest[next] && byte_is_space ((unsigned char)rest[next]); next++)
        ;
      if (sep > 0)
        {
          words_push (&n->args, &n->n_args, rest, sep);
          r = args_maybe_json (n, rest + next, false, err);
        }
    }
  else if (strcmp (k, "onbuild") == 0)
    {
      if (*rest)
        {
          n->sub = xcalloc (1, sizeof *n->sub);
          r = node_from_line (rest, escape, n->sub, err);
        }
    }
  else
    /* Unknown instruction: kept with one empty argument; the build engine rejects it. */
    words_push (&n->args, &n->n_args, "", 0);
  if (r < 0)
    {
      node_clear (n);
      return -1;
    }
  return 0;
}

/* The directive parser: `# name = value` lines at the very top. */
struct directives
{
  char escape;
  bool done;
  int line;
  struct df_result *res;
};

static bool is_re_space (char c) { return c != '\0' && strchr (" \t\n\v\f\r", c) != NULL; }

/* `^<prefix>\s*([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.+?)\s*$`: the key lower-cased. */
static bool match_directive (const char *line, const char *prefix, char **key, char **value)
{
  size_t pl = strlen (prefix);
  if (strncmp (line, prefix, pl) != 0)
    return false;
  const char *p = line + pl;
  while (is_re_space (*p))
    p++;
  const char *ks = p;
  if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')))
    return false;
  while ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9'))
    p++;
  const char *ke = p;
  while (is_re_space (*p))
    p++;
  if (*p != '=')
    return false;
  p++;
  while (is_re_space (*p))
    p++;
  const char *vs = p, *ve = p + strlen (p);
  while (ve > vs && is_re_space (ve[-1]))
    ve--;
  if (ve == vs)
    return false;
  *key = xstrndup (ks, (size_t)(ke - ks));
  ascii_lower (*key);
  *value = xstrndup (vs, (size_t)(ve - vs));
  return true;
}

static bool directive_allowed (const char *key)
{
  return strcmp (key, "syntax") == 0 || strcmp (key, "escape") == 0 || strcmp (key, "check") == 0;
}

/* One line through the directive block: a recognised directive is recorded; anything else
 * (after an optional #! first line) ends the block. */
static int directive_line (struct directives *d, const char *line, const char *prefix, berr_t *err)
{
  d->line++;
  if (d->done)
    return 0;
  if (d->line == 1 && line[0] == '#' && line[1] == '!')
    return 0;
  cleanup_free char *key = NULL;
  cleanup_free char *value = NULL;
  if (!match_directive (line, prefix, &key, &value) || !directive_allowed (key))
    {
      d->done = true;
      return 0;
    }
  struct df_result *r = d->res;
  for (size_t i = 0; i < r->n_directives; i++)
    if (strcmp (r->directives[i].name, key) == 0)
      return berr_setk (err, BERR_INVALID, 0, "only one %s parser directive can be used", key);
  if (strcmp (key, "escape") == 0)
    {
      if (strcmp (value, "`") != 0 && strcmp (value, "\\") != 0)
        return berr_setk (err, BERR_INVALID, 0, "invalid escape token '%s' does not match ` or \\",
                          value);
      d->escape = value[0];
    }
  r->directives = xrealloc (r->directives, (r->n_directives + 1) * sizeof *r->directives);
  r->directives[r->n_directives++] = (struct df_directive){ .name = steal_pointer (&key),
                                                            .value = steal_pointer (&value),
                                                            .line = d->line };
  return 0;
}

static int possible_directive (struct directives *d, const char *line, berr_t *err)
{
  return directive_line (d, line, "#", err);
}

/* The directive block of buf read with comment prefix `prefix`, lines counted from first_line. */
static int directives_all (const char *buf, size_t len, const char *prefix, int first_line,
                           struct df_result *res, berr_t *err)
{
  struct directives d = { .escape = '\\', .res = res, .line = first_line };
  size_t pos = 0;
  while (pos < len && !d.done)
    {
      const char *nl = memchr (buf + pos, '\n', len - pos);
      size_t n = nl ? (size_t)(nl - (buf + pos)) : len - pos;
      cleanup_free char *line = xstrndup (buf + pos, n > 0 && buf[pos + n - 1] == '\r' ? n - 1 : n);
      if (directive_line (&d, line, prefix, err) < 0)
        return -1;
      pos += n + (nl != NULL);
    }
  return 0;
}

int df_parse_directives (const char *buf, size_t len, struct df_directive **out, size_t *n,
                         berr_t *err)
{
  struct df_result *r = xcalloc (1, sizeof *r);
  int rc = directives_all (buf, len, "#", 0, r, err);
  if (rc == 0)
    {
      *out = steal_pointer (&r->directives);
      *n = r->n_directives;
      r->n_directives = 0;
    }
  df_result_free (r);
  return rc;
}

int df_find_directive (const char *buf, size_t len, const char *key, bool any_format, char **value,
                       char **cmdline, int *line)
{
  *value = *cmdline = NULL;
  *line = 0;
  if (len >= 3 && memcmp (buf, "\xEF\xBB\xBF", 3) == 0)
    buf += 3, len -= 3;
  int first = 0;
  if (len >= 2 && buf[0] == '#' && buf[1] == '!')
    {
      const char *nl = memchr (buf, '\n', len);
      size_t skip = nl ? (size_t)(nl - buf) + 1 : len;
      buf += skip, len -= skip;
      first = 1;
    }
  const char *prefixes[] = { "#", "//" };
  for (size_t k = 0; k < (any_format ? 2u : 1u); k++)
    {
      struct df_result *r = xcalloc (1, sizeof *r);
      berr_t err = BERR_INIT;
      if (directives_all (buf, len, prefixes[k], first, r, &err) == 0)
        for (size_t i = 0; i < r->n_directives; i++)
          if (strcmp (r->directives[i].name, key) == 0)
            {
              const char *v = r->directives[i].value;
              *value = xstrndup (v, strcspn (v, " "));
              *cmdline = xstrdup (v);
              *line = r->directives[i].line;
              df_result_free (r);
              return 1;
            }
      berr_release (&err);
      df_result_free (r);
    }
  /* a JSON object as the whole file: {"syntax": "…"} */
  json_error_t jerr;
  json_t *obj = json_loadb (buf, len, 0, &jerr);
  json_t *v = json_is_object (obj) ? json_object_get (obj, key) : NULL;
  int rc = 0;
  if (json_is_string (v))
    {
      *value = xstrdup (json_string_value (v));
      *cmdline = xstrdup (json_string_value (v));
      *line = first;
      rc = 1;
    }
  json_decref (obj);
  return rc;
}

static bool is_comment (const char *s, size_t len)
{
  size_t i = lead_space (s, len);
  return i < len && s[i] == '#';
}

/* The escape char as the last non-blank char, not itself escaped, continues the line. */
static bool trim_continuation (char *line, char escape)
{
  size_t len = strlen (line);
  while (len > 0 && (line[len - 1] == ' ' || line[len - 1] == '\t'))
    len--;
  if (len == 0 || line[len - 1] != escape)
    return false;
  if (len >= 2 && line[len - 2] == escape)
    return false;
  line[len - 1] = '\0';
  return true;
}

struct scanner
{
  const char *buf;
  size_t len, pos;
  const char *tok; /* current physical line including its "\n" */
  size_t tok_len;
  bool too_long;
};

static bool scan (struct scanner *s)
{
  if (s->pos >= s->len || s->too_long)
    return false;
  const char *start = s->buf + s->pos;
  const char *nl = memchr (start, '\n', s->len - s->pos);
  size_t n = nl ? (size_t)(nl - start) + 1 : s->len - s->pos;
  if (n > DF_MAX_LINE || (nl == NULL && n == DF_MAX_LINE))
    {
      s->too_long = true;
      return false;
    }
  s->tok = start;
  s->tok_len = n;
  s->pos += n;
  return true;
}

/* trimNewline + (left trim) + directive check + comment removal, into a fresh string. */
static int process_line (struct directives *d, const struct scanner *s, bool strip_left, int lineno,
                         char **out, berr_t *err)
{
  size_t n = s->tok_len;
  const char *t = s->tok;
  if (n > 0 && t[n - 1] == '\n')
    {
      n--;
      if (n > 0 && t[n - 1] == '\r')
        n--;
    }
  if (lineno == 1 && n >= 3 && memcmp (t, "\xEF\xBB\xBF", 3) == 0)
    t += 3, n -= 3;
  if (strip_left)
    {
      size_t k = lead_space (t, n);
      t += k;
      n -= k;
    }
  cleanup_free char *line = xstrndup (t, n);
  if (possible_directive (d, line, err) < 0)
    return -1;
  if (is_comment (line, n))
    line[0] = '\0';
  *out = steal_pointer (&line);
  return 0;
}

static void add_warning (struct df_result *r, const char *line, int lineno)
{
  r->warnings = xrealloc (r->warnings, (r->n_warnings + 1) * sizeof *r->warnings);
  struct df_warning *w = &r->warnings[r->n_warnings++];
  w->short_text = xasprintf ("Empty continuation line found in: %s", line);
  w->detail = xstrdup ("Empty continuation lines will become errors in a future release");
  w->url = xstrdup ("https://docs.docker.com/go/dockerfile/rule/no-empty-continuation/");
  w->line = lineno;
}

/* RUN, COPY, ADD (also under ONBUILD) in shell form. */
static bool node_can_have_heredocs (const struct df_node *n)
{
  if (strcmp (n->keyword, "onbuild") == 0 && n->sub)
    n = n->sub;
  if (strcmp (n->keyword, "run") != 0 && strcmp (n->keyword, "copy") != 0
      && strcmp (n->keyword, "add") != 0)
    return false;
  return !n->json;
}

/* The bodies follow the instruction line, one after the other, each up to its terminator. */
static int read_heredocs (struct scanner *sc, struct df_node *node, int *cur, berr_t *err)
{
  if (df_heredocs_from_line (node->original, &node->heredocs, &node->n_heredocs, err) < 0)
    return -1;
  for (size_t i = 0; i < node->n_heredocs; i++)
    {
      struct df_heredoc *h = &node->heredocs[i];
      struct sbuf body;
      sbuf_init (&body);
      bool terminated = false;
      while (scan (sc))
        {
          (*cur)++;
          const char *t = sc->tok;
          size_t n = sc->tok_len;
          if (n > 0 && t[n - 1] == '\n')
            {
              n--;
              if (n > 0 && t[n - 1] == '\r')
                n--;
            }
          if (h->chomp)
            while (n > 0 && *t == '\t')
              t++, n--;
          if (n == strlen (h->name) && memcmp (t, h->name, n) == 0)
            {
              terminated = true;
              break;
            }
          sbuf_add (&body, sc->tok, sc->tok_len);
        }
      free (h->content);
      h->content = sbuf_detach (&body);
      if (!terminated)
        return berr_setk (err, BERR_INVALID, 0, "unterminated heredoc");
    }
  return 0;
}

int df_parse (const char *name, const char *buf, size_t len, struct df_result **out, berr_t *err)
{
  *out = NULL;
  struct df_result *res = xcalloc (1, sizeof *res);
  struct directives d = { .escape = '\\', .res = res };
  struct scanner sc = { .buf = buf, .len = len };
  cleanup_strv char **comments = NULL;
  int cur = 0;
  res->start_line = -1;

  while (scan (&sc))
    {
      const char *raw = sc.tok;
      size_t raw_len = sc.tok_len;
      if (cur == 0 && raw_len >= 3 && memcmp (raw, "\xEF\xBB\xBF", 3) == 0)
        raw += 3, raw_len -= 3;
      if (is_comment (raw, raw_len))
        {
          size_t k = lead_space (raw, raw_len);
          cleanup_free char *c = trim_space (raw + k + 1, raw_len - k - 1);
          if (*c == '\0')
            {
              strv_free (comments);
              comments = NULL;
            }
          else
            strv_push (&comments, c);
        }
      cleanup_free char *first = NULL;
      if (process_line (&d, &sc, true, cur + 1, &first, err) < 0)
        goto fail_at_next;
      cur++;
      int start = cur;
      bool cont = trim_continuation (first, d.escape);
      if (!cont && *first == '\0')
        continue;
      struct sbuf line;
      sbuf_init (&line);
      sbuf_adds (&line, first);
      bool empty_cont = false;
      while (cont && scan (&sc))
        {
          cleanup_free char *l = NULL;
          if (process_line (&d, &sc, false, cur + 1, &l, err) < 0)
            {
              sbuf_release (&line);
              goto fail_at_next;
            }
          cur++;
          if (is_comment (sc.tok, sc.tok_len))
            continue;
          if (lead_space (l, strlen (l)) == strlen (l))
            {
              empty_cont = true;
              continue;
            }
          cont = trim_continuation (l, d.escape);
          sbuf_adds (&line, l);
        }
      if (empty_cont)
        add_warning (res, line.buf, cur);
      struct df_node node;
      int r = node_from_line (line.buf, d.escape, &node, err);
      sbuf_release (&line);
      if (r < 0)
        {
          if (start == cur)
            berr_wrap (err, "%s:%d", name, start);
          else
            berr_wrap (err, "%s:%d-%d", name, start, cur);
          goto fail;
        }
      if (node_can_have_heredocs (&node) && strstr (node.original, "<<") != NULL
          && read_heredocs (&sc, &node, &cur, err) < 0)
        {
          node_clear (&node);
          if (start == cur)
            berr_wrap (err, "%s:%d", name, start);
          else
            berr_wrap (err, "%s:%d-%d", name, start, cur);
          goto fail;
        }
      node.start_line = start;
      node.end_line = cur;
      node.comments = steal_pointer (&comments);
      res->nodes = xrealloc (res->nodes, (res->n_nodes + 1) * sizeof *res->nodes);
      res->nodes[res->n_nodes++] = node;
      if (res->start_line < 0)
        res->start_line = start;
      res->end_line = cur;
    }
  if (sc.too_long)
    {
      berr_setk (err, BERR_INVALID, 0, "dockerfile line greater than max allowed size of %d",
                 DF_MAX_LINE - 1);
      goto fail_at_next;
    }
  if (res->n_nodes == 0)
    {
      berr_setk (err, BERR_INVALID, 0, "file with no instructions");
      goto fail_at_cur;
    }
  res->escape = d.escape;
  *out = res;
  return 0;

fail_at_next:
  cur++;
fail_at_cur:
  berr_wrap (err, "%s:%d", name, cur > 0 ? cur : 1);
fail:
  df_result_free (res);
  return -1;
}

void df_directives_free (struct df_directive *d, size_t n)
{
  for (size_t i = 0; i < n; i++)
    {
      free (d[i].name);
      free (d[i].value);
    }
  free (d);
}

void df_result_free (struct df_result *r)
{
  if (r == NULL)
    return;
  for (size_t i = 0; i < r->n_nodes; i++)
    node_clear (&r->nodes[i]);
  free (r->nodes);
  df_directives_free (r->directives, r->n_directives);
  for (size_t i = 0; i < r->n_warnings; i++)
    {
      free (r->warnings[i].short_text);
      free (r->warnings[i].detail);
      free (r->warnings[i].url);
    }
  free (r->warnings);
  free (r);
}
