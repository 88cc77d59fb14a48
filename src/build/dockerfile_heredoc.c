/* dockerfile_heredoc.c — heredoc words (`<<EOF`, `3<<-'EOF'`) as BuildKit's parser finds them:
 * the line is split into shell words with quotes and escapes kept, each word matched against
 * `^(\d*)<<(-?)\s*([^<]*)$`, and the terminator word lexed twice (quotes kept / removed) to learn
 * whether any part of it was quoted, which turns expansion of the body off. No variables are
 * known at this stage, so `$X` stays as written. */
#include <stdlib.h>
#include <string.h>

#include "build/dockerfile.h"
#include "build/dockerfile_priv.h"
#include "util/util.h"

struct lex
{
  const char *s;
  size_t len, pos;
  bool raw_quotes, raw_escapes;
};

struct words
{
  struct sbuf word;
  bool in_word;
  char **list;
};

static void words_add_raw (struct words *w, const char *p, size_t n)
{
  sbuf_add (&w->word, p, n);
  w->in_word = true;
}

static void words_add_char (struct words *w, const char *p, size_t n)
{
  size_t width;
  bool space = df_rune_is_space (df_utf8_decode ((const unsigned char *)p, n, &width));
  if (space && w->in_word)
    {
      if (w->word.len)
        {
          strv_push (&w->list, w->word.buf);
          sbuf_reset (&w->word);
          w->in_word = false;
        }
    }
  else if (!space)
    words_add_raw (w, p, n);
}

static size_t rune_width (const struct lex *l)
{
  size_t w;
  df_utf8_decode ((const unsigned char *)l->s + l->pos, l->len - l->pos, &w);
  return w;
}

static bool is_name_char (char c)
{
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

/* `$…` with no variables set and unset ones kept: the text as written. */
static void lex_dollar (struct lex *l, struct sbuf *out)
{
  size_t start = l->pos++;
  if (l->pos < l->len && l->s[l->pos] == '{')
    {
      const char *close = memchr (l->s + l->pos, '}', l->len - l->pos);
      l->pos = close ? (size_t)(close - l->s) + 1 : l->len;
    }
  else
    while (l->pos < l->len && is_name_char (l->s[l->pos]))
      l->pos++;
  sbuf_add (out, l->s + start, l->pos - start);
}

static int lex_single (struct lex *l, struct sbuf *out, berr_t *err)
{
  if (l->raw_quotes)
    sbuf_addc (out, '\'');
  l->pos++;
  for (;;)
    {
      if (l->pos >= l->len)
        return berr_setk (err, BERR_INVALID, 0,
                          "unexpected end of statement while looking for matching single-quote");
      if (l->s[l->pos] == '\'')
        {
          l->pos++;
          if (l->raw_quotes)
            sbuf_addc (out, '\'');
          return 0;
        }
      size_t w = rune_width (l);
      sbuf_add (out, l->s + l->pos, w);
      l->pos += w;
    }
}

static int lex_double (struct lex *l, struct sbuf *out, berr_t *err)
{
  if (l->raw_quotes)
    sbuf_addc (out, '"');
  l->pos++;
  for (;;)
    {
      if (l->pos >= l->len)
        return berr_setk (err, BERR_INVALID, 0,
                          "unexpected end of statement while looking for matching double-quote");
      char c = l->s[l->pos];
      if (c == '"')
        {
          l->pos++;
          if (l->raw_quotes)
            sbuf_addc (out, '"');
          return 0;
        }
      if (c == '$')
        {
          lex_dollar (l, out);
          continue;
        }
      if (c == '\\')
        {
          l->pos++;
          if (l->raw_escapes)
            sbuf_addc (out, '\\');
          if (l->pos >= l->len)
            continue;
          char n = l->s[l->pos];
          if (n == '"' || n == '$' || n == '\\')
            {
              sbuf_addc (out, n);
              l->pos++;
            }
          else if (!l->raw_escapes)
            sbuf_addc (out, '\\');
          continue;
        }
      size_t w = rune_width (l);
      sbuf_add (out, l->s + l->pos, w);
      l->pos += w;
    }
}

/* Shell words of s (BuildKit's ProcessWords with no environment). strv in *out. */
static int lex_words (const char *s, bool raw_quotes, bool raw_escapes, char ***out, berr_t *err)
{
  struct lex l
      = { .s = s, .len = strlen (s), .raw_quotes = raw_quotes, .raw_escapes = raw_escapes };
  struct words w = { .list = xcalloc (1, sizeof (char *)) };
  sbuf_init (&w.word);
  struct sbuf tmp;
  sbuf_init (&tmp);
  int rc = 0;
  while (l.pos < l.len)
    {
      char c = s[l.pos];
      if (c == '$' || c == '\'' || c == '"')
        {
          sbuf_reset (&tmp);
          if (c == '$')
            lex_dollar (&l, &tmp);
          else if ((c == '\'' ? lex_single (&l, &tmp, err) : lex_double (&l, &tmp, err)) < 0)
            {
              rc = -1;
              break;
            }
          if (c == '$')
            for (size_t i = 0; i < tmp.len;)
              {
                size_t rw;
                df_utf8_decode ((const unsigned char *)tmp.buf + i, tmp.len - i, &rw);
                words_add_char (&w, tmp.buf + i, rw);
                i += rw;
              }
          else
            words_add_raw (&w, tmp.buf, tmp.len);
          continue;
        }
      size_t rw = rune_width (&l);
      if (c == '\\')
        {
          l.pos++;
          if (raw_escapes)
            words_add_raw (&w, "\\", 1);
          if (l.pos >= l.len)
            break;
          rw = rune_width (&l);
          words_add_raw (&w, s + l.pos, rw);
        }
      else
        words_add_char (&w, s + l.pos, rw);
      l.pos += rw;
    }
  sbuf_release (&tmp);
  if (rc == 0 && w.word.len)
    strv_push (&w.list, w.word.buf);
  sbuf_release (&w.word);
  if (rc < 0)
    {
      strv_free (w.list);
      return -1;
    }
  *out = w.list;
  return 0;
}

static size_t count_quotes (const char *s)
{
  size_t n = 0;
  for (; *s; s++)
    n += *s == '\'' || *s == '"';
  return n;
}

int df_parse_heredoc (const char *word, struct df_heredoc *out, berr_t *err)
{
  memset (out, 0, sizeof *out);
  const char *p = word;
  unsigned long fd = 0;
  while (*p >= '0' && *p <= '9')
    fd = fd * 10 + (unsigned long)(*p++ - '0');
  if (p[0] != '<' || p[1] != '<')
    return 0;
  p += 2;
  bool chomp = *p == '-';
  if (chomp)
    p++;
  while (*p && df_rune_is_space ((unsigned char)*p))
    p++;
  if (strchr (p, '<') != NULL || *p == '\0')
    return 0;

  cleanup_strv char **words = NULL;
  if (lex_words (p, false, false, &words, err) < 0)
    return -1;
  if (strv_len (words) != 1)
    return 0;
  cleanup_strv char **raw = NULL;
  if (lex_words (p, true, false, &raw, err) < 0)
    return -1;
  if (strv_len (raw) != 1)
    return berr_setk (err, BERR_INVALID, 0,
                      "internal lexing of heredoc produced inconsistent results: %s", p);
  out->name = xstrdup (words[0]);
  out->fd = (unsigned)fd;
  out->chomp = chomp;
  out->expand = count_quotes (words[0]) == count_quotes (raw[0]);
  out->content = xstrdup ("");
  return 1;
}

void df_heredoc_clear (struct df_heredoc *h)
{
  free (h->name);
  free (h->content);
  memset (h, 0, sizeof *h);
}

void df_heredocs_free (struct df_heredoc *h, size_t n)
{
  for (size_t i = 0; i < n; i++)
    df_heredoc_clear (&h[i]);
  free (h);
}

/* A bare `<<`/`<<-` (with its fd) is the operator alone: the terminator is the next word. */
static bool is_bare_operator (const char *w)
{
  while (*w >= '0' && *w <= '9')
    w++;
  return w[0] == '<' && w[1] == '<' && (w[2] == '\0' || (w[2] == '-' && w[3] == '\0'));
}

int df_heredocs_from_line (const char *line, struct df_heredoc **out, size_t *n, berr_t *err)
{
  *out = NULL;
  *n = 0;
  cleanup_strv char **words = NULL;
  berr_t lex_err = BERR_INIT;
  /* a line the lexer cannot split (an open quote) simply has no heredocs */
  if (lex_words (line, true, true, &words, &lex_err) < 0)
    {
      berr_release (&lex_err);
      return 0;
    }
  for (size_t i = 0; words[i]; i++)
    {
      cleanup_free char *joined = NULL;
      const char *w = words[i];
      if (is_bare_operator (w) && words[i + 1])
        {
          joined = xasprintf ("%s %s", w, words[i + 1]);
          w = joined;
          i++;
        }
      struct df_heredoc h;
      int r = df_parse_heredoc (w, &h, err);
      if (r < 0)
        {
          df_heredocs_free (*out, *n);
          *out = NULL;
          *n = 0;
          return -1;
        }
      if (r == 0)
        continue;
      *out = xrealloc (*out, (*n + 1) * sizeof **out);
      (*out)[(*n)++] = h;
    }
  return 0;
}

char *df_heredoc_chomp (const char *content)
{
  struct sbuf b;
  sbuf_init (&b);
  bool line_start = true;
  for (const char *p = content; *p; p++)
    {
      if (line_start && *p == '\t')
        continue;
      line_start = *p == '\n';
      sbuf_addc (&b, *p);
    }
  return sbuf_detach (&b);
}
