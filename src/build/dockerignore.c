/* .dockerignore reading and matching. Patterns follow moby/patternmatcher: syntax is checked
 * with filepath.Match's rules when the matcher is built, and each pattern is lazily classified
 * on first use as an exact string, a prefix (trailing double star), a suffix (leading double
 * star) or a regular expression. The regular-expression case is not handed to a regex library:
 * upstream's translation produces a tiny language (literals, one non-slash rune, a run of
 * non-slash runes, "any directories", "anything", classes, a stray ^ anchor) that is matched
 * here directly with a memoised backtracking matcher. */
#include "build/dockerignore.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/fs.h"
#include "util/util.h"

#define BAD_PATTERN "syntax error in pattern"
/* bufio.Scanner's default maximum token size. */
#define LINE_MAX_BYTES (64 * 1024)

/* ---- UTF-8 and Go's strings.TrimSpace ---------------------------------------------------- */

/* Decode one rune like Go: invalid or truncated sequences give U+FFFD with width 1. */
static uint32_t utf8_decode (const char *s, size_t n, size_t *width)
{
  const unsigned char *u = (const unsigned char *)s;
  *width = 1;
  if (n == 0)
    return 0xFFFD;
  if (u[0] < 0x80)
    return u[0];
  size_t len;
  uint32_t r, min;
  if ((u[0] & 0xE0) == 0xC0)
    len = 2, r = u[0] & 0x1F, min = 0x80;
  else if ((u[0] & 0xF0) == 0xE0)
    len = 3, r = u[0] & 0x0F, min = 0x800;
  else if ((u[0] & 0xF8) == 0xF0)
    len = 4, r = u[0] & 0x07, min = 0x10000;
  else
    return 0xFFFD;
  if (n < len)
    return 0xFFFD;
  for (size_t i = 1; i < len; i++)
    {
      if ((u[i] & 0xC0) != 0x80)
        return 0xFFFD;
      r = (r << 6) | (u[i] & 0x3F);
    }
  if (r < min || r > 0x10FFFF || (r >= 0xD800 && r <= 0xDFFF))
    return 0xFFFD;
  *width = len;
  return r;
}

static bool valid_rune_at (const char *s, size_t n)
{
  size_t w;
  uint32_t r = utf8_decode (s, n, &w);
  return !(r == 0xFFFD && w == 1);
}

static bool is_go_space (uint32_t r)
{
  switch (r)
    {
    case '\t':
    case '\n':
    case '\v':
    case '\f':
    case '\r':
    case ' ':
    case 0x85:
    case 0xA0:
    case 0x1680:
    case 0x2028:
    case 0x2029:
    case 0x202F:
    case 0x205F:
    case 0x3000:
      return true;
    default:
      return r >= 0x2000 && r <= 0x200A;
    }
}

/* Width of the whitespace rune ending at s[n-1], or 0. */
static size_t space_before (const char *s, size_t n)
{
  for (size_t w = 1; w <= 4 && w <= n; w++)
    {
      size_t got;
      uint32_t r = utf8_decode (s + n - w, w, &got);
      if (got == w && !(r == 0xFFFD && got == 1 && (unsigned char)s[n - w] >= 0x80))
        return is_go_space (r) ? w : 0;
    }
  return 0;
}

static void trim_space (const char **s, size_t *n)
{
  while (*n > 0)
    {
      size_t w;
      uint32_t r = utf8_decode (*s, *n, &w);
      if (!is_go_space (r) || (r == 0xFFFD && w == 1))
        break;
      *s += w;
      *n -= w;
    }
  size_t w;
  while (*n > 0 && (w = space_before (*s, *n)) > 0)
    *n -= w;
}

/* ---- the ignore file ----------------------------------------------------------------------- */

int di_read_patterns (const char *buf, size_t len, char ***out, berr_t *err)
{
  cleanup_strv char **pats = xcalloc (1, sizeof (char *));
  size_t pos = 0, lineno = 0;
  while (pos < len)
    {
      const char *nl = memchr (buf + pos, '\n', len - pos);
      size_t end = nl ? (size_t)(nl - buf) : len;
      const char *line = buf + pos;
      size_t n = end - pos;
      /* bufio.Scanner gives up once its 64 KiB buffer is full without a newline, so a line
       * (its '\r' included) of 64 KiB or more is an error, last line or not. */
      if (n >= LINE_MAX_BYTES)
        return berr_setk (err, BERR_INVALID, 0,
                          "error reading .dockerignore: line %zu: bufio.Scanner: token too long",
                          lineno + 1);
      pos = nl ? end + 1 : len;
      if (n > 0 && line[n - 1] == '\r')
        n--;
      if (lineno == 0 && n >= 3 && memcmp (line, "\xEF\xBB\xBF", 3) == 0)
        line += 3, n -= 3;
      lineno++;
      if (n > 0 && line[0] == '#')
        continue;
      trim_space (&line, &n);
      if (n == 0)
        continue;
      bool invert = line[0] == '!';
      if (invert)
        {
          line++, n--;
          trim_space (&line, &n);
        }
      char *pat;
      if (n > 0)
        {
          cleanup_free char *raw = xstrndup (line, n);
          cleanup_free char *clean = fs_path_clean (raw);
          const char *p = clean;
          if (strlen (p) > 1 && p[0] == '/')
            p++;
          pat = xasprintf ("%s%s", invert ? "!" : "", p);
        }
      else
        pat = xstrdup (invert ? "!" : "");
      strv_push_take (&pats, pat);
    }
  *out = steal_pointer (&pats);
  return 0;
}

/* ---- filepath.Match syntax ----------------------------------------------------------------- */

/* One class bound (getEsc): advances *i past it, false on a syntax error. */
static bool class_bound_ok (const char *p, size_t n, size_t *i)
{
  if (*i >= n || p[*i] == '-' || p[*i] == ']')
    return false;
  if (p[*i] == '\\')
    {
      (*i)++;
      if (*i >= n)
        return false;
    }
  if (!valid_rune_at (p + *i, n - *i))
    return false;
  size_t w;
  utf8_decode (p + *i, n - *i, &w);
  *i += w;
  return *i < n;
}

/* filepath.Match reports ErrBadPattern for: a trailing '\', an unclosed or empty class, a
 * class bound that is missing, '-', ']' or invalid UTF-8, and "a-b-c" ranges. */
static bool match_syntax_ok (const char *p)
{
  size_t n = strlen (p), i = 0;
  while (i < n)
    {
      if (p[i] == '\\')
        {
          if (i + 1 >= n)
            return false;
          i += 2;
        }
      else if (p[i] == '[')
        {
          i++;
          if (i < n && p[i] == '^')
            i++;
          for (int nrange = 0;; nrange++)
            {
              if (i < n && p[i] == ']' && nrange > 0)
                {
                  i++;
                  break;
                }
              if (!class_bound_ok (p, n, &i))
                return false;
              if (p[i] == '-')
                {
                  i++;
                  if (!class_bound_ok (p, n, &i))
                    return false;
                }
            }
        }
      else
        i++;
    }
  return true;
}

/* ---- compiled patterns --------------------------------------------------------------------- */

enum match_type
{
  MT_UNKNOWN,
  MT_EXACT,
  MT_PREFIX,
  MT_SUFFIX,
  MT_REGEXP,
  MT_BROKEN, /* compiling failed: every match reports ErrBadPattern, like upstream */
};

enum tok_kind
{
  T_BYTE,   /* one literal byte */
  T_ANY,    /* [^/] */
  T_STAR,   /* [^/]* */
  T_DSLASH, /* (.*\/)? */
  T_DEND,   /* .* */
  T_CLASS,  /* [...] */
  T_CARET,  /* ^ or \A: only at the start of the text */
  T_END,    /* \z: only at the end of the text */
};

struct range
{
  uint32_t lo, hi;
};

struct tok
{
  enum tok_kind kind;
  unsigned char byte;
  bool negated;
  size_t nranges;
  struct range *ranges;
};

struct pattern
{
  char *text; /* cleaned, without the '!' */
  bool exclusion;
  size_t ncomp; /* '/'-separated components */
  enum match_type type;
  struct tok *toks;
  size_t ntoks, captoks;
};

struct di_matcher
{
  struct pattern *pats;
  size_t n;
  bool exclusions;
};

static struct tok *tok_push (struct pattern *p, enum tok_kind kind)
{
  if (p->ntoks == p->captoks)
    {
      p->captoks = p->captoks ? p->captoks * 2 : 16;
      p->toks = xrealloc (p->toks, p->captoks * sizeof *p->toks);
    }
  struct tok *t = &p->toks[p->ntoks++];
  memset (t, 0, sizeof *t);
  t->kind = kind;
  return t;
}

static void tok_bytes (struct pattern *p, const char *s, size_t n)
{
  for (size_t i = 0; i < n; i++)
    tok_push (p, T_BYTE)->byte = (unsigned char)s[i];
}

/* What the regexp engine makes of "\c" (upstream copies the escape into the expression): ASCII
 * punctuation is itself, a few letters are C escapes. \d \s \w (and negations), \A and \z are
 * handled by the callers; the rest (\pL, \x41, \101, \Q...\E, \b) is not supported here and
 * reported as a bad pattern. Returns false for those. */
static bool regexp_escape (uint32_t c, uint32_t *lit)
{
  if (c < 0x80 && !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')))
    {
      *lit = c;
      return true;
    }
  switch (c)
    {
    case 'a':
      *lit = '\a';
      return true;
    case 'f':
      *lit = '\f';
      return true;
    case 'n':
      *lit = '\n';
      return true;
    case 'r':
      *lit = '\r';
      return true;
    case 't':
      *lit = '\t';
      return true;
    case 'v':
      *lit = '\v';
      return true;
    default:
      return false;
    }
}

static void tok_rune (struct pattern *p, uint32_t r)
{
  char b[4];
  size_t n;
  if (r < 0x80)
    b[0] = (char)r, n = 1;
  else if (r < 0x800)
    b[0] = (char)(0xC0 | (r >> 6)), b[1] = (char)(0x80 | (r & 0x3F)), n = 2;
  else if (r < 0x10000)
    b[0] = (char)(0xE0 | (r >> 12)), b[1] = (char)(0x80 | ((r >> 6) & 0x3F)),
    b[2] = (char)(0x80 | (r & 0x3F)), n = 3;
  else
    b[0] = (char)(0xF0 | (r >> 18)), b[1] = (char)(0x80 | ((r >> 12) & 0x3F)),
    b[2] = (char)(0x80 | ((r >> 6) & 0x3F)), b[3] = (char)(0x80 | (r & 0x3F)), n = 4;
  tok_bytes (p, b, n);
}

/* Named sets of the regexp engine (all ASCII): Perl \d \s \w and the POSIX [:name:] groups. */
struct named_set
{
  const char *name;
  struct range r[4];
  size_t n;
};

static const struct named_set named_sets[] = {
  { "d", { { '0', '9' } }, 1 },
  { "s", { { '\t', '\n' }, { '\f', '\r' }, { ' ', ' ' } }, 3 },
  { "w", { { '0', '9' }, { 'A', 'Z' }, { '_', '_' }, { 'a', 'z' } }, 4 },
  { "[:alnum:]", { { '0', '9' }, { 'A', 'Z' }, { 'a', 'z' } }, 3 },
  { "[:alpha:]", { { 'A', 'Z' }, { 'a', 'z' } }, 2 },
  { "[:ascii:]", { { 0, 0x7F } }, 1 },
  { "[:blank:]", { { '\t', '\t' }, { ' ', ' ' } }, 2 },
  { "[:cntrl:]", { { 0, 0x1F }, { 0x7F, 0x7F } }, 2 },
  { "[:digit:]", { { '0', '9' } }, 1 },
  { "[:graph:]", { { '!', '~' } }, 1 },
  { "[:lower:]", { { 'a', 'z' } }, 1 },
  { "[:print:]", { { ' ', '~' } }, 1 },
  { "[:punct:]", { { '!', '/' }, { ':', '@' }, { '[', '`' }, { '{', '~' } }, 4 },
  { "[:space:]", { { '\t', '\r' }, { ' ', ' ' } }, 2 },
  { "[:upper:]", { { 'A', 'Z' } }, 1 },
  { "[:word:]", { { '0', '9' }, { 'A', 'Z' }, { '_', '_' }, { 'a', 'z' } }, 4 },
  { "[:xdigit:]", { { '0', '9' }, { 'A', 'F' }, { 'a', 'f' } }, 3 },
};

static const struct named_set *named_set_find (const char *name, size_t len)
{
  for (size_t k = 0; k < sizeof named_sets / sizeof named_sets[0]; k++)
    if (strlen (named_sets[k].name) == len && memcmp (named_sets[k].name, name, len) == 0)
      return &named_sets[k];
  return NULL;
}

static void class_add (struct tok *t, size_t *cap, uint32_t lo, uint32_t hi)
{
  if (t->nranges == *cap)
    {
      *cap = *cap ? *cap * 2 : 4;
      t->ranges = xrealloc (t->ranges, *cap * sizeof *t->ranges);
    }
  t->ranges[t->nranges++] = (struct range){ lo, hi };
}

/* Add a named set, or its complement (\D, [:^alpha:]); the set's ranges are sorted. */
static void class_add_set (struct tok *t, size_t *cap, const struct named_set *set, bool neg)
{
  if (!neg)
    {
      for (size_t k = 0; k < set->n; k++)
        class_add (t, cap, set->r[k].lo, set->r[k].hi);
      return;
    }
  uint32_t next = 0;
  for (size_t k = 0; k < set->n; k++)
    {
      if (set->r[k].lo > next)
        class_add (t, cap, next, set->r[k].lo - 1);
      next = set->r[k].hi + 1;
    }
  class_add (t, cap, next, 0x10FFFF);
}

/* "\d"-style escape at s[i]: the set and whether it is negated, or NULL. */
static const struct named_set *perl_set (const char *s, size_t n, size_t i, bool *neg)
{
  if (i + 1 >= n || s[i] != '\\')
    return NULL;
  char c = s[i + 1];
  *neg = c == 'D' || c == 'S' || c == 'W';
  char lc = *neg ? (char)(c - 'A' + 'a') : c;
  if (lc != 'd' && lc != 's' && lc != 'w')
    return NULL;
  return named_set_find (&lc, 1);
}

/* One bound inside a class, as the regexp engine reads the copied text. */
static bool class_rune (const char *s, size_t n, size_t *i, uint32_t *r)
{
  size_t w;
  if (*i >= n)
    return false;
  if (s[*i] == '\\')
    {
      if (*i + 1 >= n)
        return false;
      uint32_t c = utf8_decode (s + *i + 1, n - *i - 1, &w);
      if (!regexp_escape (c, r))
        return false;
      *i += 1 + w;
      return true;
    }
  *r = utf8_decode (s + *i, n - *i, &w);
  *i += w;
  return true;
}

/* Parse "[...]" starting at s[*i] == '['. False when the regexp engine would reject it
 * (unclosed, reversed range, unknown [:name:], unsupported escape). */
static bool parse_class (struct pattern *p, const char *s, size_t n, size_t *i)
{
  struct tok *t = tok_push (p, T_CLASS);
  size_t cap = 0;
  (*i)++;
  if (*i < n && s[*i] == '^')
    {
      t->negated = true;
      (*i)++;
    }
  bool first = true;
  for (;;)
    {
      if (*i >= n)
        return false;
      if (s[*i] == ']' && !first)
        {
          (*i)++;
          return true;
        }
      first = false;
      /* "[:name:]": the engine looks for the closing ":]" anywhere further on */
      if (*i + 2 < n && s[*i] == '[' && s[*i + 1] == ':')
        {
          const char *end = memmem (s + *i + 2, n - *i - 2, ":]", 2);
          if (end != NULL)
            {
              size_t len = (size_t)(end + 2 - (s + *i));
              bool neg = s[*i + 2] == '^';
              cleanup_free char *name = xstrndup (s + *i, len);
              if (neg)
                memmove (name + 2, name + 3, len - 2);
              const struct named_set *set = named_set_find (name, strlen (name));
              if (set == NULL)
                return false;
              class_add_set (t, &cap, set, neg);
              *i += len;
              continue;
            }
        }
      bool neg;
      const struct named_set *perl = perl_set (s, n, *i, &neg);
      if (perl != NULL)
        {
          class_add_set (t, &cap, perl, neg);
          *i += 2;
          continue;
        }
      uint32_t lo, hi;
      if (!class_rune (s, n, i, &lo))
        return false;
      hi = lo;
      if (*i + 1 < n && s[*i] == '-' && s[*i + 1] != ']')
        {
          (*i)++;
          if (!class_rune (s, n, i, &hi))
            return false;
          if (hi < lo)
            return false;
        }
      class_add (t, &cap, lo, hi);
    }
}

/* Classify the pattern the way upstream's compile does, building the token program alongside
 * for the regexp case. */
static void pattern_compile (struct pattern *p)
{
  const char *s = p->text;
  size_t n = strlen (s), i = 0;
  enum match_type type = MT_EXACT;
  bool ok = true;
  for (size_t idx = 0; i < n; idx++)
    {
      size_t w;
      uint32_t ch = utf8_decode (s + i, n - i, &w);
      if (ch == '*')
        {
          i++;
          if (i < n && s[i] == '*')
            {
              i++;
              if (i < n && s[i] == '/')
                i++;
              if (i >= n)
                {
                  if (type == MT_EXACT)
                    type = MT_PREFIX;
                  else
                    type = MT_REGEXP;
                  tok_push (p, T_DEND);
                }
              else
                {
                  type = MT_REGEXP;
                  tok_push (p, T_DSLASH);
                }
              if (idx == 0)
                type = MT_SUFFIX;
            }
          else
            {
              type = MT_REGEXP;
              tok_push (p, T_STAR);
            }
        }
      else if (ch == '?')
        {
          i++;
          type = MT_REGEXP;
          tok_push (p, T_ANY);
        }
      else if (ch == '\\')
        {
          i++;
          if (i < n)
            {
              bool neg;
              const struct named_set *perl = perl_set (s, n, i - 1, &neg);
              uint32_t c = utf8_decode (s + i, n - i, &w), lit;
              i += w;
              type = MT_REGEXP;
              if (perl != NULL)
                {
                  size_t cap = 0;
                  class_add_set (tok_push (p, T_CLASS), &cap, perl, neg);
                }
              else if (c == 'A')
                tok_push (p, T_CARET);
              else if (c == 'z')
                tok_push (p, T_END);
              else if (regexp_escape (c, &lit))
                tok_rune (p, lit);
              else
                ok = false;
            }
          else
            ok = false; /* a trailing '\' in an expression; Match rejected it already */
        }
      else if (ch == '[')
        {
          type = MT_REGEXP;
          if (!parse_class (p, s, n, &i))
            {
              ok = false;
              break;
            }
        }
      else if (ch == '^')
        {
          i++;
          tok_push (p, T_CARET);
        }
      else
        {
          /* ']' outside a class and the characters upstream escapes are literals. */
          tok_bytes (p, s + i, w);
          i += w;
        }
    }
  if (type == MT_REGEXP && !ok)
    type = MT_BROKEN;
  p->type = type;
}

/* ---- matching ------------------------------------------------------------------------------ */

static bool class_has (const struct tok *t, uint32_t r)
{
  bool in = false;
  for (size_t k = 0; k < t->nranges && !in; k++)
    in = t->ranges[k].lo <= r && r <= t->ranges[k].hi;
  return in != t->negated;
}

struct run
{
  const struct tok *toks;
  size_t nt;
  const char *s;
  size_t n;
  uint8_t *failed; /* (nt+1) x (n+1): this state is known not to reach the end */
};

static bool run_from (struct run *r, size_t ti, size_t pos)
{
  uint8_t *memo = &r->failed[ti * (r->n + 1) + pos];
  if (*memo)
    return false;
  bool ok = false;
  if (ti == r->nt)
    ok = pos == r->n;
  else
    {
      const struct tok *t = &r->toks[ti];
      size_t w;
      switch (t->kind)
        {
        case T_BYTE:
          ok = pos < r->n && (unsigned char)r->s[pos] == t->byte && run_from (r, ti + 1, pos + 1);
          break;
        case T_CARET:
          ok = pos == 0 && run_from (r, ti + 1, pos);
          break;
        case T_END:
          ok = pos == r->n && run_from (r, ti + 1, pos);
          break;
        case T_ANY:
        case T_CLASS:
          if (pos < r->n)
            {
              uint32_t c = utf8_decode (r->s + pos, r->n - pos, &w);
              bool hit = t->kind == T_ANY ? c != '/' : class_has (t, c);
              ok = hit && run_from (r, ti + 1, pos + w);
            }
          break;
        case T_STAR:
          for (size_t p = pos;;)
            {
              if (run_from (r, ti + 1, p))
                {
                  ok = true;
                  break;
                }
              if (p >= r->n || r->s[p] == '/')
                break;
              utf8_decode (r->s + p, r->n - p, &w);
              p += w;
            }
          break;
        case T_DSLASH:
          ok = run_from (r, ti + 1, pos);
          for (size_t p = pos; !ok && p < r->n && r->s[p] != '\n'; p++)
            if (r->s[p] == '/')
              ok = run_from (r, ti + 1, p + 1);
          break;
        case T_DEND:
          for (size_t p = pos;; p++)
            {
              if (run_from (r, ti + 1, p))
                {
                  ok = true;
                  break;
                }
              if (p >= r->n || r->s[p] == '\n')
                break;
            }
          break;
        }
    }
  if (!ok)
    *memo = 1;
  return ok;
}

static int pattern_match (struct pattern *p, const char *path, size_t len, bool *out, berr_t *err)
{
  if (p->type == MT_UNKNOWN)
    pattern_compile (p);
  size_t plen = strlen (p->text);
  switch (p->type)
    {
    case MT_EXACT:
      *out = len == plen && memcmp (path, p->text, len) == 0;
      return 0;
    case MT_PREFIX:
      *out = len >= plen - 2 && memcmp (path, p->text, plen - 2) == 0;
      return 0;
    case MT_SUFFIX:
      {
        const char *suf = p->text + 2;
        size_t sl = plen - 2;
        if (len >= sl && memcmp (path + len - sl, suf, sl) == 0)
          *out = true;
        else /* "**\/foo" also matches "foo" */
          *out = sl > 0 && suf[0] == '/' && len == sl - 1 && memcmp (path, suf + 1, len) == 0;
        return 0;
      }
    case MT_REGEXP:
      {
        struct run r = { p->toks, p->ntoks, path, len, NULL };
        r.failed = xcalloc ((p->ntoks + 1) * (len + 1), 1);
        *out = run_from (&r, 0, 0);
        free (r.failed);
        return 0;
      }
    case MT_BROKEN:
    case MT_UNKNOWN:
      break;
    }
  *out = false;
  return berr_setk (err, BERR_INVALID, 0, "%s", BAD_PATTERN);
}

static void pattern_release (struct pattern *p)
{
  for (size_t k = 0; k < p->ntoks; k++)
    free (p->toks[k].ranges);
  free (p->toks);
  free (p->text);
}

/* ---- the matcher --------------------------------------------------------------------------- */

int di_matcher_new (const char *const *patterns, di_matcher_t **out, berr_t *err)
{
  di_matcher_t *m = xcalloc (1, sizeof *m);
  size_t cap = 0;
  for (size_t k = 0; patterns && patterns[k]; k++)
    {
      const char *s = patterns[k];
      size_t n = strlen (s);
      trim_space (&s, &n);
      if (n == 0)
        continue;
      cleanup_free char *raw = xstrndup (s, n);
      cleanup_free char *clean = fs_path_clean (raw);
      const char *body = clean;
      bool exclusion = false;
      if (body[0] == '!')
        {
          if (body[1] == '\0')
            {
              di_matcher_free (m);
              return berr_setk (err, BERR_INVALID, 0, "illegal exclusion pattern: \"!\"");
            }
          exclusion = true;
          body++;
        }
      if (!match_syntax_ok (body))
        {
          di_matcher_free (m);
          return berr_setk (err, BERR_INVALID, 0, "%s", BAD_PATTERN);
        }
      if (m->n == cap)
        {
          cap = cap ? cap * 2 : 8;
          m->pats = xrealloc (m->pats, cap * sizeof *m->pats);
        }
      struct pattern *p = &m->pats[m->n++];
      memset (p, 0, sizeof *p);
      p->text = xstrdup (body);
      p->exclusion = exclusion;
      p->ncomp = 1;
      for (const char *c = body; *c; c++)
        p->ncomp += *c == '/';
      m->exclusions |= exclusion;
    }
  *out = m;
  return 0;
}

void di_matcher_free (di_matcher_t *m)
{
  if (m == NULL)
    return;
  for (size_t k = 0; k < m->n; k++)
    pattern_release (&m->pats[k]);
  free (m->pats);
  free (m);
}

size_t di_matcher_count (const di_matcher_t *m) { return m->n; }

bool di_matcher_has_exclusions (const di_matcher_t *m) { return m->exclusions; }

/* Go's filepath.Dir: everything before the last '/', cleaned ("." when there is none). */
static char *path_dir (const char *path)
{
  const char *slash = strrchr (path, '/');
  cleanup_free char *head = xstrndup (path, slash ? (size_t)(slash - path + 1) : 0);
  return fs_path_clean (head);
}

/* Try p against the parent directory prefixes of path: "a", "a/b" for "a/b/c". */
static bool match_parents (struct pattern *p, const char *path)
{
  cleanup_free char *parent = path_dir (path);
  if (strcmp (parent, ".") == 0)
    return false;
  size_t len = strlen (parent);
  for (size_t i = 0; i <= len; i++)
    if (i == len || parent[i] == '/')
      {
        bool hit = false;
        berr_t ignored = BERR_INIT;
        /* upstream ignores errors here: the pattern already compiled for the path itself */
        pattern_match (p, parent, i, &hit, &ignored);
        berr_release (&ignored);
        if (hit)
          return true;
      }
  return false;
}

int di_matches (di_matcher_t *m, const char *path, bool *out, berr_t *err)
{
  return di_matches_parent_info (m, path, NULL, NULL, out, err);
}

int di_matches_parent_info (di_matcher_t *m, const char *path, const bool *parent, bool *info,
                            bool *out, berr_t *err)
{
  bool matched = false;
  size_t len = strlen (path);
  *out = false;
  for (size_t k = 0; k < m->n; k++)
    {
      struct pattern *p = &m->pats[k];
      bool hit = parent ? parent[k] : false;
      if (!hit)
        {
          if (p->exclusion != matched)
            {
              if (info)
                info[k] = false;
              continue;
            }
          if (pattern_match (p, path, len, &hit, err) < 0)
            return -1;
          if (!hit && parent == NULL)
            hit = match_parents (p, path);
        }
      if (info)
        info[k] = hit;
      if (hit)
        matched = !p->exclusion;
    }
  *out = matched;
  return 0;
}

int di_matches_parent_result (di_matcher_t *m, const char *path, bool parent_matched, bool *out,
                              berr_t *err)
{
  bool matched = parent_matched;
  size_t len = strlen (path);
  *out = false;
  for (size_t k = 0; k < m->n; k++)
    {
      struct pattern *p = &m->pats[k];
      if (p->exclusion != matched)
        continue;
      bool hit;
      if (pattern_match (p, path, len, &hit, err) < 0)
        return -1;
      if (hit)
        matched = !p->exclusion;
    }
  *out = matched;
  return 0;
}

int di_matches_legacy (const char *const *patterns, const char *path, bool *out, berr_t *err)
{
  di_matcher_t *m = NULL;
  *out = false;
  if (di_matcher_new (patterns, &m, err) < 0)
    return -1;
  cleanup_free char *file = fs_path_clean (path);
  int rc = 0;
  bool matched = false;
  if (strcmp (file, ".") != 0)
    {
      cleanup_free char *parent = path_dir (file);
      size_t len = strlen (file), pcomp = 1;
      for (const char *c = parent; *c; c++)
        pcomp += *c == '/';
      for (size_t k = 0; k < m->n && rc == 0; k++)
        {
          struct pattern *p = &m->pats[k];
          if (p->exclusion != matched)
            continue;
          bool hit;
          if (pattern_match (p, file, len, &hit, err) < 0)
            {
              rc = -1;
              break;
            }
          if (!hit && strcmp (parent, ".") != 0 && p->ncomp <= pcomp)
            {
              /* the parent's first ncomp components */
              size_t cut = 0, seen = 0;
              while (parent[cut] && !(parent[cut] == '/' && ++seen == p->ncomp))
                cut++;
              berr_t ignored = BERR_INIT;
              pattern_match (p, parent, cut, &hit, &ignored);
              berr_release (&ignored);
            }
          if (hit)
            matched = !p->exclusion;
        }
    }
  di_matcher_free (m);
  *out = rc == 0 && matched;
  return rc;
}

/* ---- walker help --------------------------------------------------------------------------- */

/* Whether one pattern component (no '/') can match one path component. Unsure → true. */
static bool component_may_match (const char *pc, size_t pn, const char *dc, size_t dn)
{
  if (memmem (pc, pn, "**", 2) != NULL)
    return true;
  cleanup_free char *text = xstrndup (pc, pn);
  if (!match_syntax_ok (text))
    return true;
  struct pattern p = { .text = steal_pointer (&text) };
  bool hit = true;
  berr_t ignored = BERR_INIT;
  if (pattern_match (&p, dc, dn, &hit, &ignored) < 0)
    hit = true;
  berr_release (&ignored);
  pattern_release (&p);
  return hit;
}

bool di_dir_may_reinclude (di_matcher_t *m, const char *dir)
{
  cleanup_free char *d = fs_path_clean (dir);
  for (size_t k = 0; k < m->n; k++)
    {
      struct pattern *p = &m->pats[k];
      if (!p->exclusion)
        continue;
      if (strstr (p->text, "**") != NULL || strchr (p->text, '[') != NULL)
        return true; /* a class may hold a '/', "**" spans any depth */
      /* Compare component by component over the shorter of the two: all equal means the
       * exception names dir, one of its parents, or something below it. */
      const char *pc = p->text, *dc = d;
      bool may = true;
      while (*pc && *dc && may)
        {
          const char *pe = strchr (pc, '/'), *de = strchr (dc, '/');
          size_t pn = pe ? (size_t)(pe - pc) : strlen (pc);
          size_t dn = de ? (size_t)(de - dc) : strlen (dc);
          may = component_may_match (pc, pn, dc, dn);
          pc += pn + (pe != NULL);
          dc += dn + (de != NULL);
        }
      if (may)
        return true;
    }
  return false;
}

const char *di_pattern_kind (const char *pattern)
{
  struct pattern p = { .text = fs_path_clean (pattern) };
  pattern_compile (&p);
  enum match_type t = p.type;
  pattern_release (&p);
  switch (t)
    {
    case MT_EXACT:
      return "exactMatch";
    case MT_PREFIX:
      return "prefixMatch";
    case MT_SUFFIX:
      return "suffixMatch";
    case MT_REGEXP:
      return "regexpMatch";
    default:
      return "error";
    }
}
