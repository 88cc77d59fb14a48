/* template_parse.c — lexer and parser for the Go text/template subset of template.h.
 *
 * The structure follows Go's text/template/parse so that the same inputs are accepted and the
 * same mistakes are reported with the same words: the lexer turns the source into tokens (text,
 * delimiters, operands, keywords; a lexical error becomes an error token that the parser reports
 * when it reaches it), and a recursive-descent parser builds the tree of struct tnode. Function
 * names and variables are checked here, as Go does ("function "foo" not defined"). */
#include "template_int.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

enum tok_type
{
  T_EOF,
  T_ERROR, /* msg holds the lexer's complaint */
  T_TEXT,
  T_LDELIM,
  T_RDELIM,
  T_SPACE,
  T_ASSIGN,  /* = */
  T_DECLARE, /* := */
  T_PIPE,
  T_LPAREN,
  T_RPAREN,
  T_CHAR, /* any other printable ASCII character, e.g. ',' */
  T_FIELD,
  T_VARIABLE,
  T_DOT,
  T_IDENT,
  T_BOOL,
  T_NIL,
  T_NUMBER,
  T_CHARCONST,
  T_STRING,
  T_RAWSTRING,
  /* keywords */
  T_KEYWORD,
  T_IF,
  T_ELSE,
  T_END,
  T_RANGE,
  T_WITH,
  T_BREAK,
  T_CONTINUE,
  T_DEFINE,
  T_TEMPLATE,
  T_BLOCK,
};

static const struct
{
  const char *word;
  enum tok_type type;
} keywords[] = {
  { "if", T_IF },
  { "else", T_ELSE },
  { "end", T_END },
  { "range", T_RANGE },
  { "with", T_WITH },
  { "break", T_BREAK },
  { "continue", T_CONTINUE },
  { "define", T_DEFINE },
  { "template", T_TEMPLATE },
  { "block", T_BLOCK },
  { "nil", T_NIL },
  { "true", T_BOOL },
  { "false", T_BOOL },
};

struct token
{
  enum tok_type type;
  size_t pos, len; /* the token's bytes in the source */
  char *msg;       /* T_ERROR */
};

/* Parser state; the lexer fills toks before parsing starts. */
struct parser
{
  const char *src;
  size_t n;
  struct token *toks;
  size_t ntoks, cap;
  size_t cur;
  char **vars; /* variables in scope, "$" first */
  size_t nvars;
  int range_depth;
  int depth;
  berr_t *err;
};

#define MAX_DEPTH 1000

/* Lexer */

static bool is_space (int c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

/* Letters, digits and '_'; any non-ASCII byte counts as a letter (Go accepts Unicode letters). */
static bool is_alnum (int c)
{
  unsigned char u = (unsigned char)c;
  return u == '_' || (u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z') || (u >= '0' && u <= '9')
         || u >= 0x80;
}

static void emit (struct parser *p, enum tok_type type, size_t pos, size_t len)
{
  if (p->ntoks == p->cap)
    {
      p->cap = p->cap ? p->cap * 2 : 64;
      p->toks = xrealloc (p->toks, p->cap * sizeof *p->toks);
    }
  p->toks[p->ntoks++] = (struct token){ type, pos, len, NULL };
}

static void PRINTF_LIKE (3, 4) lex_error (struct parser *p, size_t pos, const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  emit (p, T_ERROR, pos, 0);
  p->toks[p->ntoks - 1].msg = xvasprintf (fmt, ap);
  va_end (ap);
}

/* Go's %#U: U+007D '}' */
static char *describe_rune (const char *s, size_t len)
{
  unsigned r;
  struct sbuf b;
  int n = len ? tmpl_utf8_decode (s, len, &r) : 0;
  sbuf_init (&b);
  if (n == 0)
    return xstrdup ("EOF");
  sbuf_addf (&b, "U+%04X", r);
  if (r >= 0x20 && r != 0x7f && !(r >= 0x80 && r < 0xa0))
    {
      sbuf_adds (&b, " '");
      sbuf_add (&b, s, (size_t)n);
      sbuf_addc (&b, '\'');
    }
  return sbuf_detach (&b);
}

/* "{{- " trims the text before it; " -}}" the text after it. */
static bool has_left_trim (const char *s, size_t avail)
{
  return avail >= 2 && s[0] == '-' && is_space (s[1]);
}

/* At "}}" or " -}}"? Sets *trim for the latter. */
static bool at_right_delim (struct parser *p, size_t pos, bool *trim)
{
  const char *s = p->src + pos;
  size_t avail = p->n - pos;
  *trim = false;
  if (avail >= 2 && s[0] == '}' && s[1] == '}')
    return true;
  if (avail >= 4 && is_space (s[0]) && s[1] == '-' && s[2] == '}' && s[3] == '}')
    {
      *trim = true;
      return true;
    }
  return false;
}

/* What may follow a field, variable or identifier (Go's atTerminator). */
static bool at_terminator (struct parser *p, size_t pos)
{
  bool trim;
  if (pos >= p->n)
    return true;
  char c = p->src[pos];
  return is_space (c) || strchr (".,|:()", c) != NULL || at_right_delim (p, pos, &trim);
}

static size_t skip_spaces (struct parser *p, size_t pos)
{
  while (pos < p->n && is_space (p->src[pos]))
    pos++;
  return pos;
}

static bool accept (struct parser *p, size_t *pos, const char *valid)
{
  if (*pos < p->n && p->src[*pos] != '\0' && strchr (valid, p->src[*pos]))
    {
      (*pos)++;
      return true;
    }
  return false;
}

static void accept_run (struct parser *p, size_t *pos, const char *valid)
{
  while (accept (p, pos, valid))
    ;
}

/* Go's scanNumber: sign, base prefix, digits, fraction, exponent, imaginary suffix. */
static bool scan_number (struct parser *p, size_t *pos)
{
  const char *digits = "0123456789_";
  accept (p, pos, "+-");
  if (accept (p, pos, "0"))
    {
      if (accept (p, pos, "xX"))
        digits = "0123456789abcdefABCDEF_";
      else if (accept (p, pos, "oO"))
        digits = "01234567_";
      else if (accept (p, pos, "bB"))
        digits = "01_";
    }
  accept_run (p, pos, digits);
  if (accept (p, pos, "."))
    accept_run (p, pos, digits);
  if (strlen (digits) == 11 && accept (p, pos, "eE"))
    {
      accept (p, pos, "+-");
      accept_run (p, pos, "0123456789_");
    }
  if (strlen (digits) == 23 && accept (p, pos, "pP"))
    {
      accept (p, pos, "+-");
      accept_run (p, pos, "0123456789_");
    }
  accept (p, pos, "i");
  if (*pos < p->n && is_alnum (p->src[*pos]))
    {
      (*pos)++;
      return false;
    }
  return true;
}

/* Lex one token inside an action starting at *pos. Returns false after an error token. */
static bool lex_in_action (struct parser *p, size_t *pos, int *paren)
{
  const char *s = p->src;
  size_t start = *pos, i = *pos;
  char c = s[i++];

  if (is_space (c))
    {
      size_t nsp = 1;
      bool trim;
      while (i < p->n && is_space (s[i]))
        i++, nsp++;
      /* Leave the space of a " -}}" for the delimiter. */
      if (at_right_delim (p, i - 1, &trim) && trim)
        {
          i--;
          nsp--;
          if (nsp == 0)
            {
              *pos = i;
              return true;
            }
        }
      emit (p, T_SPACE, start, i - start);
    }
  else if (c == '=')
    emit (p, T_ASSIGN, start, 1);
  else if (c == ':')
    {
      if (i >= p->n || s[i] != '=')
        {
          lex_error (p, start, "expected :=");
          return false;
        }
      emit (p, T_DECLARE, start, 2);
      i++;
    }
  else if (c == '|')
    emit (p, T_PIPE, start, 1);
  else if (c == '"' || c == '\'')
    {
      for (;;)
        {
          if (i >= p->n || s[i] == '\n')
            {
              lex_error (p, start,
                         c == '"' ? "unterminated quoted string"
                                  : "unterminated character constant");
              return false;
            }
          if (s[i] == '\\' && i + 1 < p->n && s[i + 1] != '\n')
            i += 2;
          else if (s[i++] == c)
            break;
        }
      emit (p, c == '"' ? T_STRING : T_CHARCONST, start, i - start);
    }
  else if (c == '`')
    {
      while (i < p->n && s[i] != '`')
        i++;
      if (i >= p->n)
        {
          lex_error (p, start, "unterminated raw quoted string");
          return false;
        }
      i++;
      emit (p, T_RAWSTRING, start, i - start);
    }
  else if (c == '$' || (c == '.' && !(i < p->n && s[i] >= '0' && s[i] <= '9')))
    {
      if (!at_terminator (p, i))
        {
          while (i < p->n && is_alnum (s[i]))
            i++;
          if (!at_terminator (p, i))
            {
              cleanup_free char *d = describe_rune (s + i, p->n - i);
              lex_error (p, i, "bad character %s", d);
              return false;
            }
          emit (p, c == '$' ? T_VARIABLE : T_FIELD, start, i - start);
        }
      else
        emit (p, c == '$' ? T_VARIABLE : T_DOT, start, i - start);
    }
  else if (c == '.' || c == '+' || c == '-' || (c >= '0' && c <= '9'))
    {
      i = start;
      if (!scan_number (p, &i))
        {
          lex_error (p, start, "bad number syntax: \"%.*s\"", (int)(i - start), s + start);
          return false;
        }
      if (i < p->n && (s[i] == '+' || s[i] == '-'))
        {
          /* Go would read a complex constant such as 1+2i here. */
          bool ok = scan_number (p, &i) && s[i - 1] == 'i';
          lex_error (p, start,
                     ok ? "complex numbers are not supported" : "bad number syntax: \"%.*s\"",
                     (int)(i - start), s + start);
          return false;
        }
      if (s[i - 1] == 'i')
        {
          lex_error (p, start, "complex numbers are not supported");
          return false;
        }
      emit (p, T_NUMBER, start, i - start);
    }
  else if (is_alnum (c))
    {
      while (i < p->n && is_alnum (s[i]))
        i++;
      if (!at_terminator (p, i))
        {
          cleanup_free char *d = describe_rune (s + i, p->n - i);
          lex_error (p, i, "bad character %s", d);
          return false;
        }
      enum tok_type type = T_IDENT;
      for (size_t k = 0; k < ARRAY_SIZE (keywords); k++)
        if (strlen (keywords[k].word) == i - start
            && memcmp (keywords[k].word, s + start, i - start) == 0)
          type = keywords[k].type;
      emit (p, type, start, i - start);
    }
  else if (c == '(')
    {
      (*paren)++;
      emit (p, T_LPAREN, start, 1);
    }
  else if (c == ')')
    {
      /* Like Go, emit the paren first: the parser usually complains about it before it
         reaches the lexer's error. */
      emit (p, T_RPAREN, start, 1);
      if (--(*paren) < 0)
        {
          lex_error (p, start, "unexpected right paren");
          return false;
        }
    }
  else if (c > 0x20 && c < 0x7f)
    emit (p, T_CHAR, start, 1);
  else
    {
      cleanup_free char *d = describe_rune (s + start, p->n - start);
      lex_error (p, start, "unrecognized character in action: %s", d);
      return false;
    }
  *pos = i;
  return true;
}

static void lex (struct parser *p)
{
  const char *s = p->src;
  size_t pos = 0;

  for (;;)
    {
      /* Text up to the next "{{". */
      const char *d = strstr (s + pos, "{{");
      if (d == NULL)
        {
          if (pos < p->n)
            emit (p, T_TEXT, pos, p->n - pos);
          emit (p, T_EOF, p->n, 0);
          return;
        }
      size_t x = (size_t)(d - s), text_end = x, after = x + 2;
      bool trim = has_left_trim (s + after, p->n - after);
      if (trim)
        while (text_end > pos && is_space (s[text_end - 1]))
          text_end--;
      if (text_end > pos)
        emit (p, T_TEXT, pos, text_end - pos);
      if (trim)
        after += 2;

      if (p->n - after >= 2 && s[after] == '/' && s[after + 1] == '*')
        {
          const char *e = strstr (s + after + 2, "*/");
          bool rtrim;
          if (e == NULL)
            {
              lex_error (p, x, "unclosed comment");
              return;
            }
          pos = (size_t)(e - s) + 2;
          if (!at_right_delim (p, pos, &rtrim))
            {
              lex_error (p, x, "comment ends before closing delimiter");
              return;
            }
          pos += rtrim ? 4 : 2;
          if (rtrim)
            pos = skip_spaces (p, pos);
          continue;
        }

      emit (p, T_LDELIM, x, 2);
      pos = after;
      int paren = 0;
      for (;;)
        {
          bool rtrim;
          if (at_right_delim (p, pos, &rtrim))
            {
              if (paren > 0)
                {
                  lex_error (p, pos, "unclosed left paren");
                  return;
                }
              if (rtrim)
                pos += 2;
              emit (p, T_RDELIM, pos, 2);
              pos += 2;
              if (rtrim)
                pos = skip_spaces (p, pos);
              break;
            }
          if (pos >= p->n)
            {
              lex_error (p, pos, "unclosed action");
              return;
            }
          if (!lex_in_action (p, &pos, &paren))
            return;
        }
    }
}

/* Parser */

static int PRINTF_LIKE (3, 4) parse_error (struct parser *p, size_t pos, const char *fmt, ...)
{
  struct sbuf b;
  va_list ap;
  sbuf_init (&b);
  tmpl_add_location (&b, p->src, pos);
  va_start (ap, fmt);
  sbuf_vaddf (&b, fmt, ap);
  va_end (ap);
  berr_setk (p->err, BERR_INVALID, 0, "%s", b.buf);
  sbuf_release (&b);
  return -1;
}

static struct token *next (struct parser *p)
{
  struct token *t = &p->toks[p->cur];
  if (t->type != T_EOF && t->type != T_ERROR)
    p->cur++;
  return t;
}

static void backup (struct parser *p, struct token *t) { p->cur = (size_t)(t - p->toks); }

static struct token *peek (struct parser *p) { return &p->toks[p->cur]; }

static struct token *next_non_space (struct parser *p)
{
  struct token *t;
  do
    t = next (p);
  while (t->type == T_SPACE);
  return t;
}

static struct token *peek_non_space (struct parser *p)
{
  struct token *t = next_non_space (p);
  backup (p, t);
  return t;
}

/* Go's item.String() for "unexpected X in Y". */
static char *describe_token (struct parser *p, struct token *t)
{
  struct sbuf b;
  sbuf_init (&b);
  if (t->type == T_EOF)
    sbuf_adds (&b, "EOF");
  else if (t->type == T_ERROR)
    sbuf_adds (&b, t->msg);
  else if (t->type > T_KEYWORD)
    sbuf_addf (&b, "<%.*s>", (int)t->len, p->src + t->pos);
  else if (t->len > 10)
    {
      tmpl_go_quote (&b, p->src + t->pos, 10);
      sbuf_adds (&b, "...");
    }
  else
    tmpl_go_quote (&b, p->src + t->pos, t->len);
  return sbuf_detach (&b);
}

static int unexpected (struct parser *p, struct token *t, const char *context)
{
  cleanup_free char *d = describe_token (p, t);
  if (t->type == T_ERROR)
    return parse_error (p, t->pos, "%s", d);
  return parse_error (p, t->pos, "unexpected %s in %s", d, context);
}

static int expect (struct parser *p, enum tok_type type, const char *context)
{
  struct token *t = next_non_space (p);
  return t->type == type ? 0 : unexpected (p, t, context);
}

static struct tnode *new_node (enum tnode_type type, size_t pos, size_t end)
{
  struct tnode *n = xzalloc (sizeof *n);
  n->type = type;
  n->pos = pos;
  n->end = end;
  return n;
}

void tnode_free (struct tnode *n)
{
  if (n == NULL)
    return;
  for (size_t i = 0; i < n->nkids; i++)
    tnode_free (n->kids[i]);
  free (n->kids);
  free (n->str);
  strv_free (n->fields);
  strv_free (n->decl);
  tnode_free (n->pipe);
  tnode_free (n->list);
  tnode_free (n->else_list);
  free (n);
}

static void cleanup_tnodep (struct tnode **n)
{
  tnode_free (*n);
  *n = NULL;
}
#define cleanup_tnode __attribute__ ((cleanup (cleanup_tnodep)))

static void add_kid (struct tnode *n, struct tnode *kid)
{
  n->kids = xrealloc (n->kids, (n->nkids + 1) * sizeof *n->kids);
  n->kids[n->nkids++] = kid;
}

static void push_var (struct parser *p, const char *name, size_t len)
{
  p->vars = xrealloc (p->vars, (p->nvars + 2) * sizeof *p->vars);
  p->vars[p->nvars++] = xstrndup (name, len);
  p->vars[p->nvars] = NULL;
}

static void pop_vars (struct parser *p, size_t mark)
{
  while (p->nvars > mark)
    free (p->vars[--p->nvars]);
  p->vars[p->nvars] = NULL;
}

static bool var_defined (struct parser *p, const char *name, size_t len)
{
  for (size_t i = 0; i < p->nvars; i++)
    if (strlen (p->vars[i]) == len && memcmp (p->vars[i], name, len) == 0)
      return true;
  return false;
}

static int hex_digit (char c)
{
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

/* One escape sequence after the backslash at s[*i]; Go's strconv.UnquoteChar. */
static int unquote_escape (const char *s, size_t len, size_t *i, char quote, struct sbuf *out)
{
  static const char simple[] = "a\ab\bf\fn\nr\rt\tv\v\\\\";
  char c = s[(*i)++];
  const char *m;
  unsigned v = 0;
  int ndig = 0;

  if (c == quote)
    {
      sbuf_addc (out, c);
      return 0;
    }
  for (m = simple; *m; m += 2)
    if (m[0] == c)
      {
        sbuf_addc (out, m[1]);
        return 0;
      }
  if (c >= '0' && c <= '7')
    {
      v = (unsigned)(c - '0');
      for (int k = 0; k < 2; k++)
        {
          if (*i >= len || s[*i] < '0' || s[*i] > '7')
            return -1;
          v = v * 8 + (unsigned)(s[(*i)++] - '0');
        }
      if (v > 255)
        return -1;
      sbuf_addc (out, (char)v);
      return 0;
    }
  ndig = c == 'x' ? 2 : c == 'u' ? 4 : c == 'U' ? 8 : 0;
  if (ndig == 0)
    return -1;
  for (int k = 0; k < ndig; k++)
    {
      int h = *i < len ? hex_digit (s[*i]) : -1;
      if (h < 0)
        return -1;
      v = v * 16 + (unsigned)h;
      (*i)++;
    }
  if (c == 'x')
    sbuf_addc (out, (char)v);
  else if (v > 0x10ffff || (v >= 0xd800 && v < 0xe000))
    return -1;
  else
    tmpl_utf8_encode (out, v);
  return 0;
}

/* Go's strconv.Unquote for "...", `...` and '.' (the quotes included in s). */
static int unquote (const char *s, size_t len, struct sbuf *out)
{
  char q = s[0];
  if (len < 2 || s[len - 1] != q)
    return -1;
  if (q == '`')
    {
      for (size_t i = 1; i < len - 1; i++)
        if (s[i] != '\r') /* raw strings drop carriage returns */
          sbuf_addc (out, s[i]);
      return 0;
    }
  for (size_t i = 1; i < len - 1;)
    {
      if (s[i] == '\\')
        {
          i++;
          if (unquote_escape (s, len - 1, &i, q, out) < 0)
            return -1;
        }
      else if (s[i] == q)
        return -1;
      else
        sbuf_addc (out, s[i++]);
    }
  return 0;
}

/* Go's rules for a number: an integer (any base, '_' separators) or a float; evaluates to a
 * real when its text has '.', an exponent or is hexadecimal-float, otherwise to an integer. */
static int parse_number (struct parser *p, struct token *t, struct tnode *n)
{
  const char *s = p->src + t->pos;
  cleanup_free char *clean = xmalloc (t->len + 1);
  size_t k = 0;

  if (t->type == T_CHARCONST)
    {
      cleanup_sbuf struct sbuf b = { NULL, 0, 0 };
      unsigned r;
      sbuf_init (&b);
      if (unquote (s, t->len, &b) < 0 || b.len == 0
          || (size_t)tmpl_utf8_decode (b.buf, b.len, &r) != b.len)
        return parse_error (p, t->pos, "malformed character constant: %.*s", (int)t->len, s);
      n->is_int = true;
      n->ival = r;
      n->fval = r;
      return 0;
    }
  for (size_t i = 0; i < t->len; i++)
    if (s[i] != '_')
      clean[k++] = s[i];
  clean[k] = '\0';

  const char *d = clean + (clean[0] == '+' || clean[0] == '-');
  bool neg = clean[0] == '-';
  bool is_hex = d[0] == '0' && (d[1] == 'x' || d[1] == 'X');
  n->is_float = strchr (d, '.') != NULL || strpbrk (d, is_hex ? "pP" : "eE") != NULL;
  if (!n->is_float)
    {
      int base = 10;
      if (is_hex)
        base = 16, d += 2;
      else if (d[0] == '0' && (d[1] == 'o' || d[1] == 'O'))
        base = 8, d += 2;
      else if (d[0] == '0' && (d[1] == 'b' || d[1] == 'B'))
        base = 2, d += 2;
      else if (d[0] == '0' && d[1] != '\0')
        base = 8, d += 1;
      char *end;
      errno = 0;
      unsigned long long u = strtoull (d, &end, base);
      unsigned long long limit = neg ? (unsigned long long)LLONG_MAX + 1 : LLONG_MAX;
      if (base == 8 && *end != '\0' && strspn (d, "0123456789") == strlen (d))
        return parse_error (p, t->pos, "illegal number syntax: \"%.*s\"", (int)t->len, s);
      if (*d != '\0' && *d != '-' && *d != '+' && *end == '\0' && errno == 0 && u <= limit)
        {
          n->is_int = true;
          n->ival = neg ? (long long)(0 - u) : (long long)u;
          n->fval = (double)n->ival;
          return 0;
        }
    }
  char *end;
  errno = 0;
  n->fval = strtod (clean, &end);
  if (end == clean || *end != '\0' || errno == ERANGE || strpbrk (clean, "nN") != NULL)
    return parse_error (p, t->pos, "illegal number syntax: \"%.*s\"", (int)t->len, s);
  /* Range first: converting an out-of-range double to an integer is undefined. */
  if (n->fval > -9.2e18 && n->fval < 9.2e18 && n->fval == (double)(long long)n->fval)
    {
      n->is_int = true;
      n->ival = (long long)n->fval;
    }
  return 0;
}

static struct tnode *parse_pipeline (struct parser *p, const char *context, enum tok_type end);

static char *node_text (struct parser *p, struct tnode *n)
{
  return xstrndup (p->src + n->pos, n->end - n->pos);
}

/* Go's term(): one literal, field, variable, function name or parenthesized pipeline.
 * Returns 0 with *out NULL when the next token starts none of them. */
static int parse_term (struct parser *p, struct tnode **out)
{
  struct token *t = next_non_space (p);
  const char *s = p->src + t->pos;
  cleanup_tnode struct tnode *n = NULL;

  *out = NULL;
  switch (t->type)
    {
    case T_IDENT:
      {
        cleanup_free char *name = xstrndup (s, t->len);
        if (!tmpl_func_exists (name))
          return parse_error (p, t->pos, "function \"%s\" not defined", name);
        n = new_node (TN_IDENT, t->pos, t->pos + t->len);
        n->str = steal_pointer (&name);
        break;
      }
    case T_DOT:
      n = new_node (TN_DOT, t->pos, t->pos + 1);
      break;
    case T_NIL:
      n = new_node (TN_NIL, t->pos, t->pos + 3);
      break;
    case T_VARIABLE:
      if (!var_defined (p, s, t->len))
        return parse_error (p, t->pos, "undefined variable \"%.*s\"", (int)t->len, s);
      n = new_node (TN_VARIABLE, t->pos, t->pos + t->len);
      n->str = xstrndup (s, t->len);
      break;
    case T_FIELD:
      n = new_node (TN_FIELD, t->pos, t->pos + t->len);
      strv_push_take (&n->fields, xstrndup (s + 1, t->len - 1));
      break;
    case T_BOOL:
      n = new_node (TN_BOOL, t->pos, t->pos + t->len);
      n->bval = s[0] == 't';
      break;
    case T_NUMBER:
    case T_CHARCONST:
      n = new_node (TN_NUMBER, t->pos, t->pos + t->len);
      if (parse_number (p, t, n) < 0)
        return -1;
      break;
    case T_STRING:
    case T_RAWSTRING:
      {
        cleanup_sbuf struct sbuf b = { NULL, 0, 0 };
        sbuf_init (&b);
        if (unquote (s, t->len, &b) < 0)
          return parse_error (p, t->pos, "invalid syntax in string %.*s", (int)t->len, s);
        n = new_node (TN_STRING, t->pos, t->pos + t->len);
        n->str_len = b.len;
        n->str = sbuf_detach (&b);
        break;
      }
    case T_LPAREN:
      if (++p->depth > MAX_DEPTH)
        return parse_error (p, t->pos, "max expression depth exceeded");
      n = parse_pipeline (p, "parenthesized pipeline", T_RPAREN);
      p->depth--;
      if (n == NULL)
        return -1;
      n->pos = t->pos;
      n->end = p->toks[p->cur - 1].pos + 1;
      break;
    default:
      backup (p, t);
      return 0;
    }
  *out = steal_pointer (&n);
  return 0;
}

/* Go's operand(): a term followed by an optional chain of fields. */
static int parse_operand (struct parser *p, struct tnode **out)
{
  cleanup_tnode struct tnode *n = NULL;

  *out = NULL;
  if (parse_term (p, &n) < 0)
    return -1;
  if (n == NULL || peek (p)->type != T_FIELD)
    {
      *out = steal_pointer (&n);
      return 0;
    }
  if (n->type == TN_BOOL || n->type == TN_STRING || n->type == TN_NUMBER || n->type == TN_NIL
      || n->type == TN_DOT)
    {
      cleanup_free char *text = node_text (p, n);
      struct sbuf q;
      sbuf_init (&q);
      tmpl_go_quote (&q, text, strlen (text));
      parse_error (p, peek (p)->pos, "unexpected . after term %s", q.buf);
      sbuf_release (&q);
      return -1;
    }
  if (n->type != TN_FIELD && n->type != TN_VARIABLE)
    {
      struct tnode *chain = new_node (TN_CHAIN, n->pos, n->end);
      add_kid (chain, steal_pointer (&n));
      n = chain;
    }
  while (peek (p)->type == T_FIELD)
    {
      struct token *f = next (p);
      strv_push_take (&n->fields, xstrndup (p->src + f->pos + 1, f->len - 1));
      n->end = f->pos + f->len;
    }
  *out = steal_pointer (&n);
  return 0;
}

static struct tnode *parse_command (struct parser *p)
{
  cleanup_tnode struct tnode *cmd = new_node (TN_COMMAND, peek_non_space (p)->pos, 0);

  for (;;)
    {
      struct tnode *op;
      peek_non_space (p);
      if (parse_operand (p, &op) < 0)
        return NULL;
      if (op)
        add_kid (cmd, op);
      struct token *t = next (p);
      if (t->type == T_SPACE)
        continue;
      if (t->type == T_RDELIM || t->type == T_RPAREN)
        backup (p, t);
      else if (t->type != T_PIPE)
        {
          unexpected (p, t, "operand");
          return NULL;
        }
      break;
    }
  if (cmd->nkids == 0)
    {
      parse_error (p, cmd->pos, "empty command");
      return NULL;
    }
  cmd->end = cmd->kids[cmd->nkids - 1]->end;
  return steal_pointer (&cmd);
}

/* Variable declarations at the start of a pipeline: $x := / $x = / range $i, $v :=. */
static int parse_decls (struct parser *p, struct tnode *pipe, const char *context)
{
  for (;;)
    {
      struct token *v = peek_non_space (p);
      if (v->type != T_VARIABLE)
        return 0;
      next (p);
      struct token *nx = peek_non_space (p);
      const char *name = p->src + v->pos;
      if (nx->type == T_ASSIGN || nx->type == T_DECLARE)
        {
          pipe->is_assign = nx->type == T_ASSIGN;
          next_non_space (p);
          strv_push_take (&pipe->decl, xstrndup (name, v->len));
          if (!pipe->is_assign)
            push_var (p, name, v->len);
          else if (!var_defined (p, name, v->len))
            return parse_error (p, v->pos, "undefined variable \"%.*s\"", (int)v->len, name);
          return 0;
        }
      if (nx->type == T_CHAR && p->src[nx->pos] == ',')
        {
          next_non_space (p);
          strv_push_take (&pipe->decl, xstrndup (name, v->len));
          push_var (p, name, v->len);
          if (strcmp (context, "range") == 0 && strv_len (pipe->decl) < 2)
            {
              enum tok_type nt = peek_non_space (p)->type;
              if (nt == T_VARIABLE || nt == T_RDELIM || nt == T_RPAREN)
                continue;
              return parse_error (p, peek_non_space (p)->pos,
                                  "range can only initialize variables");
            }
          return parse_error (p, v->pos, "too many declarations in %s", context);
        }
      /* Not a declaration: the variable is the start of a command. */
      backup (p, v);
      return 0;
    }
}

static struct tnode *parse_pipeline (struct parser *p, const char *context, enum tok_type end)
{
  cleanup_tnode struct tnode *pipe = new_node (TN_PIPELINE, peek_non_space (p)->pos, 0);

  if (parse_decls (p, pipe, context) < 0)
    return NULL;
  for (;;)
    {
      struct token *t = next_non_space (p);
      if (t->type == end)
        {
          pipe->end = t->pos;
          break;
        }
      switch (t->type)
        {
        case T_BOOL:
        case T_CHARCONST:
        case T_DOT:
        case T_FIELD:
        case T_IDENT:
        case T_NUMBER:
        case T_NIL:
        case T_RAWSTRING:
        case T_STRING:
        case T_VARIABLE:
        case T_LPAREN:
          {
            backup (p, t);
            struct tnode *cmd = parse_command (p);
            if (cmd == NULL)
              return NULL;
            add_kid (pipe, cmd);
            break;
          }
        default:
          unexpected (p, t, context);
          return NULL;
        }
    }
  if (pipe->nkids == 0)
    {
      parse_error (p, pipe->end, "missing value for %s", context);
      return NULL;
    }
  for (size_t i = 1; i < pipe->nkids; i++)
    {
      enum tnode_type ty = pipe->kids[i]->kids[0]->type;
      if (ty == TN_BOOL || ty == TN_DOT || ty == TN_NIL || ty == TN_NUMBER || ty == TN_STRING)
        {
          parse_error (p, pipe->kids[i]->pos, "non executable command in pipeline stage %zu",
                       i + 1);
          return NULL;
        }
    }
  return steal_pointer (&pipe);
}

static struct tnode *parse_text_or_action (struct parser *p);

/* Nodes up to {{else}} or {{end}}, which is returned in *stop. */
static struct tnode *parse_item_list (struct parser *p, struct tnode **stop)
{
  cleanup_tnode struct tnode *list = new_node (TN_LIST, peek (p)->pos, 0);

  while (peek_non_space (p)->type != T_EOF)
    {
      struct tnode *n = parse_text_or_action (p);
      if (n == NULL)
        return NULL;
      if (n->type == TN_END || n->type == TN_ELSE)
        {
          *stop = n;
          return steal_pointer (&list);
        }
      add_kid (list, n);
    }
  parse_error (p, p->n, "unexpected EOF");
  return NULL;
}

/* if, range and with: {{kw pipeline}} list [{{else}} list | {{else kw ...}}] {{end}} */
static struct tnode *parse_control (struct parser *p, enum tnode_type type, const char *context,
                                    size_t pos)
{
  size_t mark = p->nvars;
  cleanup_tnode struct tnode *n = new_node (type, pos, 0);
  cleanup_tnode struct tnode *stop = NULL;

  if (++p->depth > MAX_DEPTH)
    {
      parse_error (p, pos, "max nesting depth exceeded");
      return NULL;
    }
  n->pipe = parse_pipeline (p, context, T_RDELIM);
  if (n->pipe == NULL)
    return NULL;
  n->end = n->pipe->end;
  if (type == TN_RANGE)
    p->range_depth++;
  n->list = parse_item_list (p, &stop);
  if (type == TN_RANGE)
    p->range_depth--;
  if (n->list == NULL)
    return NULL;
  if (stop->type == TN_ELSE)
    {
      enum tok_type kw = peek (p)->type;
      if ((type == TN_IF && kw == T_IF) || (type == TN_WITH && kw == T_WITH))
        {
          /* {{else if x}} is {{else}}{{if x}}...{{end}}{{end}}: the nested if takes the end. */
          struct token *t = next (p);
          n->else_list = new_node (TN_LIST, t->pos, t->pos);
          struct tnode *nested = parse_control (p, type, context, t->pos);
          if (nested == NULL)
            return NULL;
          add_kid (n->else_list, nested);
        }
      else
        {
          tnode_free (stop);
          stop = NULL;
          n->else_list = parse_item_list (p, &stop);
          if (n->else_list == NULL)
            return NULL;
          if (stop->type != TN_END)
            {
              parse_error (p, stop->pos, "expected end; found {{else}}");
              return NULL;
            }
        }
    }
  pop_vars (p, mark);
  p->depth--;
  return steal_pointer (&n);
}

static struct tnode *parse_action (struct parser *p)
{
  struct token *t = next_non_space (p);
  size_t pos = t->pos;

  switch (t->type)
    {
    case T_DEFINE:
    case T_TEMPLATE:
    case T_BLOCK:
      parse_error (p, pos, "{{%.*s}} is not supported", (int)t->len, p->src + t->pos);
      return NULL;
    case T_BREAK:
    case T_CONTINUE:
      {
        const char *what = t->type == T_BREAK ? "{{break}}" : "{{continue}}";
        if (expect (p, T_RDELIM, what) < 0)
          return NULL;
        if (p->range_depth == 0)
          {
            parse_error (p, pos, "%s outside {{range}}", what);
            return NULL;
          }
        return new_node (t->type == T_BREAK ? TN_BREAK : TN_CONTINUE, pos, pos + t->len);
      }
    case T_ELSE:
      {
        enum tok_type kw = peek_non_space (p)->type;
        /* "{{else if" leaves the "if" for parse_control. */
        if (kw != T_IF && kw != T_WITH && expect (p, T_RDELIM, "else") < 0)
          return NULL;
        return new_node (TN_ELSE, pos, pos + 4);
      }
    case T_END:
      if (expect (p, T_RDELIM, "end") < 0)
        return NULL;
      return new_node (TN_END, pos, pos + 3);
    case T_IF:
      return parse_control (p, TN_IF, "if", pos);
    case T_RANGE:
      return parse_control (p, TN_RANGE, "range", pos);
    case T_WITH:
      return parse_control (p, TN_WITH, "with", pos);
    default:
      break;
    }
  backup (p, t);
  struct tnode *pipe = parse_pipeline (p, "command", T_RDELIM);
  if (pipe == NULL)
    return NULL;
  struct tnode *n = new_node (TN_ACTION, pipe->pos, pipe->end);
  n->pipe = pipe;
  return n;
}

static struct tnode *parse_text_or_action (struct parser *p)
{
  struct token *t = next_non_space (p);
  if (t->type == T_TEXT)
    {
      struct tnode *n = new_node (TN_TEXT, t->pos, t->pos + t->len);
      n->str = xstrndup (p->src + t->pos, t->len);
      n->str_len = t->len;
      return n;
    }
  if (t->type == T_LDELIM)
    return parse_action (p);
  unexpected (p, t, "input");
  return NULL;
}

static void parser_release (struct parser *p)
{
  for (size_t i = 0; i < p->ntoks; i++)
    free (p->toks[i].msg);
  free (p->toks);
  strv_free (p->vars);
}

struct tmpl *tmpl_parse (const char *src, berr_t *err)
{
  struct parser p = { 0 };
  cleanup_tnode struct tnode *root = NULL;

  p.src = src;
  p.n = strlen (src);
  p.err = err;
  push_var (&p, "$", 1);
  lex (&p);

  root = new_node (TN_LIST, 0, p.n);
  while (peek (&p)->type != T_EOF)
    {
      struct tnode *n = parse_text_or_action (&p);
      if (n == NULL)
        {
          parser_release (&p);
          return NULL;
        }
      if (n->type == TN_END || n->type == TN_ELSE)
        {
          parse_error (&p, n->pos, "unexpected {{%s}}", n->type == TN_END ? "end" : "else");
          tnode_free (n);
          parser_release (&p);
          return NULL;
        }
      add_kid (root, n);
    }
  parser_release (&p);

  struct tmpl *t = xzalloc (sizeof *t);
  t->src = xstrdup (src);
  t->root = steal_pointer (&root);
  return t;
}

void tmpl_free (struct tmpl *t)
{
  if (t == NULL)
    return;
  tnode_free (t->root);
  free (t->src);
  free (t);
}
