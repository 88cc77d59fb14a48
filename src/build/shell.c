/* Dockerfile word expansion (see shell.h). A small recursive scanner: process() copies the
 * input into a sink until a stop character, expanding $ forms as it goes; nested words
 * (${VAR:-word}, patterns, replacements) are scanned by the same function into a plain sink.
 *
 * Pattern words (${VAR#p}, ${VAR/p/r}) are scanned in "raw" mode: escapes are kept rather than
 * removed, and quoted glob characters are escaped, so the glob matcher below still sees which
 * characters were meant literally. Values of variables inserted into a pattern are not escaped:
 * their * ? and escapes act as glob syntax, as BuildKit does it.
 *
 * Nothing bounds the result of an expansion in the syntax: ${V//a/${V//a/$V}} multiplies the
 * length of V by itself at each level, so a line of a few hundred bytes can ask for terabytes.
 * Every scanned word and every substitution result is therefore limited to SHELL_MAX_OUTPUT
 * bytes (more the word's own length, so that plain text is never refused), the nesting of
 * substitutions to SHELL_MAX_DEPTH, and the pattern matching of one word to SHELL_MATCH_BUDGET
 * automaton steps; past any of them the word is an error. */
#include "build/shell.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "build/shell_glob.h"
#include "util/util.h"

enum
{
  SHELL_MAX_OUTPUT = 1 << 20,
  SHELL_MAX_DEPTH = 64,
};
/* Steps of the pattern automaton (value runes x live pattern positions) for one word: about
 * 0.1 s; a 10 kB value against a 20-character pattern takes at most 200 000. */
#define SHELL_MATCH_BUDGET ((size_t)1 << 25)

struct lexer
{
  const char *s;
  size_t len;
  size_t pos;
  char esc;
  const struct shell_env *env;
  struct shell_refs refs;
  berr_t *err;
  int depth;          /* substitutions being expanded, nested */
  size_t max_out;     /* the most bytes any (partial) result may have */
  size_t match_steps; /* pattern matching steps left */
};

/* Where scanned text goes. With split set, whitespace in unquoted text (and in the results of
 * unquoted expansions) ends the current word. */
struct sink
{
  struct sbuf cur;
  bool split;
  bool in_word;
  char **words; /* NULL-terminated once there is one */
  size_t nwords, capwords;
  size_t total; /* bytes added, over all words */
};

static void sink_init (struct sink *k, bool split)
{
  sbuf_init (&k->cur);
  k->split = split;
  k->in_word = false;
  k->words = NULL;
  k->nwords = k->capwords = 0;
  k->total = 0;
}

static void sink_release (struct sink *k)
{
  sbuf_release (&k->cur);
  strv_free (k->words);
  k->words = NULL;
}

/* Text that is never split: quoted, escaped, or any text when not splitting. */
static void sink_raw (struct sink *k, const char *data, size_t len)
{
  sbuf_add (&k->cur, data, len);
  k->total += len;
  k->in_word = true;
}

static const char *sink_str (struct sink *k) { return k->cur.buf != NULL ? k->cur.buf : ""; }

static bool is_space (char c)
{
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

static void sink_flush (struct sink *k)
{
  /* Grown geometrically: an expansion can yield hundreds of thousands of words, and growing
   * by one (strv_push) would copy the array each time. */
  if (k->nwords + 2 > k->capwords)
    {
      k->capwords = k->capwords < 8 ? 8 : 2 * k->capwords;
      k->words = xrealloc (k->words, k->capwords * sizeof (char *));
    }
  k->words[k->nwords++] = xstrdup (sink_str (k));
  k->words[k->nwords] = NULL;
  sbuf_reset (&k->cur);
  k->in_word = false;
}

static void sink_split (struct sink *k, const char *data, size_t len)
{
  if (!k->split)
    {
      sink_raw (k, data, len);
      return;
    }
  for (size_t i = 0; i < len; i++)
    {
      if (is_space (data[i]))
        {
          if (k->in_word)
            sink_flush (k);
        }
      else
        sink_raw (k, data + i, 1);
    }
}

static bool is_glob_special (char c, char esc) { return c == '*' || c == '?' || c == esc; }

/* A literal character: in raw (pattern) mode glob characters get an escape in front. */
static void add_lit (struct sink *k, bool raw, char esc, char c)
{
  if (raw && is_glob_special (c, esc))
    sink_raw (k, &esc, 1);
  sink_raw (k, &c, 1);
}

static void refs_note (struct shell_refs *refs, const char *name, bool set)
{
  char ***list = set ? &refs->matched : &refs->unmatched;
  if (!strv_contains (*list, name))
    strv_push (list, name);
}

void shell_refs_release (struct shell_refs *refs)
{
  strv_free (refs->matched);
  strv_free (refs->unmatched);
  refs->matched = NULL;
  refs->unmatched = NULL;
}

static bool is_name_start (char c) { return isalpha ((unsigned char)c) || c == '_'; }
static bool is_name_char (char c) { return isalnum ((unsigned char)c) || c == '_'; }

/* A parameter name at the current position: a variable name, a positional parameter (all the
 * digits) or one special parameter character. Empty when there is none. */
static char *read_name (struct lexer *lx)
{
  size_t start = lx->pos;
  if (lx->pos >= lx->len)
    return xstrdup ("");
  char c = lx->s[lx->pos];
  if (isdigit ((unsigned char)c))
    {
      while (lx->pos < lx->len && isdigit ((unsigned char)lx->s[lx->pos]))
        lx->pos++;
    }
  else if (strchr ("@*#?-$!", c) != NULL)
    lx->pos++;
  else if (is_name_start (c))
    {
      while (lx->pos < lx->len && is_name_char (lx->s[lx->pos]))
        lx->pos++;
    }
  return xstrndup (lx->s + start, lx->pos - start);
}

/* The value of name, or NULL when unset. Positional and special parameters are never set in a
 * Dockerfile and are not reported as references. */
static const char *lookup (struct lexer *lx, const char *name)
{
  if (!is_name_start (name[0]))
    return NULL;
  const char *found = NULL;
  size_t nlen = strlen (name);
  bool fold = lx->env != NULL && lx->env->fold_case;
  for (char *const *kv = lx->env != NULL ? lx->env->kv : NULL; kv != NULL && *kv != NULL; kv++)
    if ((fold ? strncasecmp (*kv, name, nlen) : strncmp (*kv, name, nlen)) == 0
        && (*kv)[nlen] == '=')
      found = *kv + nlen + 1;
  refs_note (&lx->refs, name, found != NULL);
  return found;
}

static int process (struct lexer *lx, struct sink *k, char stop, bool raw);

/* The errors for the limits name the word (its start, if long). */
static int too_large (struct lexer *lx)
{
  int n = lx->len > 64 ? 64 : (int)lx->len;
  return berr_setk (lx->err, BERR_INVALID, 0, "expansion of '%.*s%s' is too large (over %d bytes)",
                    n, lx->s, lx->len > 64 ? "..." : "", SHELL_MAX_OUTPUT);
}

static int too_costly (struct lexer *lx)
{
  int n = lx->len > 64 ? 64 : (int)lx->len;
  return berr_setk (lx->err, BERR_INVALID, 0,
                    "expansion of '%.*s%s': pattern matching is too expensive", n, lx->s,
                    lx->len > 64 ? "..." : "");
}

static int too_deep (struct lexer *lx)
{
  int n = lx->len > 64 ? 64 : (int)lx->len;
  return berr_setk (lx->err, BERR_INVALID, 0,
                    "expansion of '%.*s%s': substitutions nested more than %d deep", n, lx->s,
                    lx->len > 64 ? "..." : "", SHELL_MAX_DEPTH);
}

/* Scan a nested word up to stop into *out. Missing stop is a syntax error. */
static int nested_word (struct lexer *lx, char stop, bool raw, char **out)
{
  struct sink k;
  sink_init (&k, false);
  int r = process (lx, &k, stop, raw);
  if (r == 0)
    r = berr_setk (lx->err, BERR_INVALID, 0, "syntax error: missing '%c'", stop);
  if (r < 0)
    {
      sink_release (&k);
      return -1;
    }
  *out = xstrdup (sink_str (&k));
  sink_release (&k);
  return 0;
}

static int apply_pattern (struct lexer *lx, const char *name, char op, bool twice, char **val)
{
  cleanup_free char *pat = NULL;
  cleanup_free char *repl = NULL;
  if (op == '/')
    {
      if (nested_word (lx, '/', true, &pat) < 0 || nested_word (lx, '}', true, &repl) < 0)
        return -1;
    }
  else if (nested_word (lx, '}', true, &pat) < 0)
    return -1;
  const char *v = lookup (lx, name);
  struct shell_glob *g = NULL;
  if (shell_glob_compile (pat, lx->esc, &g, lx->err) < 0)
    return -1;
  /* The replacement was expanded once, above; every match inserts that same string. */
  int r;
  if (op == '/')
    r = shell_glob_replace (g, v != NULL ? v : "", repl, twice, lx->max_out, &lx->match_steps, val);
  else
    r = shell_glob_trim (g, v != NULL ? v : "", op == '#', twice, &lx->match_steps, val);
  shell_glob_free (g);
  if (r == SHELL_GLOB_TOO_LARGE)
    return too_large (lx);
  if (r == SHELL_GLOB_TOO_COSTLY)
    return too_costly (lx);
  return 0;
}

/* ${name<op>word} for - + ? with or without the colon. */
static int apply_word_op (struct lexer *lx, const char *name, char op, bool colon, char **val)
{
  cleanup_free char *word = NULL;
  if (nested_word (lx, '}', false, &word) < 0)
    return -1;
  const char *v = lookup (lx, name);
  bool ok = colon ? (v != NULL && v[0] != '\0') : v != NULL;
  switch (op)
    {
    case '-':
      *val = xstrdup (ok ? v : word);
      return 0;
    case '+':
      *val = xstrdup (ok ? word : "");
      return 0;
    default:
      if (ok)
        {
          *val = xstrdup (v);
          return 0;
        }
      if (word[0] != '\0')
        return berr_setk (lx->err, BERR_INVALID, 0, "%s: %s", name, word);
      return berr_setk (lx->err, BERR_INVALID, 0, "%s: is not allowed to be %s", name,
                        v == NULL ? "unset" : "empty");
    }
}

/* After a '$': the expansion into *val. A '$' not followed by a name stays a literal '$'. */
static int expand_one (struct lexer *lx, char **val)
{
  if (lx->pos >= lx->len || lx->s[lx->pos] != '{')
    {
      cleanup_free char *name = read_name (lx);
      if (name[0] == '\0')
        *val = xstrdup ("$");
      else
        {
          const char *v = lookup (lx, name);
          *val = xstrdup (v != NULL ? v : "");
        }
      return 0;
    }
  lx->pos++;
  cleanup_free char *name = read_name (lx);
  if (name[0] == '\0')
    return berr_setk (lx->err, BERR_INVALID, 0, "syntax error: bad substitution");
  if (lx->pos >= lx->len)
    return berr_setk (lx->err, BERR_INVALID, 0, "syntax error: missing '}'");
  char c = lx->s[lx->pos++];
  switch (c)
    {
    case '}':
      {
        const char *v = lookup (lx, name);
        *val = xstrdup (v != NULL ? v : "");
        return 0;
      }
    case ':':
      {
        char m = lx->pos < lx->len ? lx->s[lx->pos] : '\0';
        if (m == '-' || m == '+' || m == '?')
          {
            lx->pos++;
            return apply_word_op (lx, name, m, true, val);
          }
        if (m == '\0')
          return berr_setk (lx->err, BERR_INVALID, 0, "syntax error: missing '}'");
        return berr_setk (lx->err, BERR_INVALID, 0, "unsupported modifier (:%c) in substitution",
                          m);
      }
    case '-':
    case '+':
    case '?':
      return apply_word_op (lx, name, c, false, val);
    case '#':
    case '%':
    case '/':
      {
        bool twice = lx->pos < lx->len && lx->s[lx->pos] == c;
        if (twice)
          lx->pos++;
        return apply_pattern (lx, name, c, twice, val);
      }
    default:
      return berr_setk (lx->err, BERR_INVALID, 0, "unsupported modifier (%c) in substitution", c);
    }
}

/* expand_one, counting how deeply substitutions nest inside one another: each level costs
 * stack in this recursive scanner and keeps its partial result alive. */
static int expand (struct lexer *lx, char **val)
{
  if (lx->depth >= SHELL_MAX_DEPTH)
    return too_deep (lx);
  lx->depth++;
  int r = expand_one (lx, val);
  lx->depth--;
  return r;
}

static int double_quoted (struct lexer *lx, struct sink *k, bool raw)
{
  for (;;)
    {
      if (lx->pos >= lx->len)
        return berr_setk (lx->err, BERR_INVALID, 0,
                          "unexpected end of statement while looking for matching double-quote");
      char c = lx->s[lx->pos++];
      if (c == '"')
        return 0;
      if (c == '$')
        {
          cleanup_free char *v = NULL;
          if (expand (lx, &v) < 0)
            return -1;
          sink_raw (k, v, strlen (v));
          if (k->total > lx->max_out)
            return too_large (lx);
        }
      else if (c == lx->esc && lx->pos < lx->len)
        {
          /* Inside double quotes only the quote, '$' and the escape itself are escapable;
           * any other escape character is kept as it is. */
          char n = lx->s[lx->pos++];
          if (n != '"' && n != '$' && n != lx->esc)
            add_lit (k, raw, lx->esc, c);
          add_lit (k, raw, lx->esc, n);
        }
      else
        add_lit (k, raw, lx->esc, c);
    }
}

/* Scan until stop (consumed; returns 1) or the end of input (returns 0); -1 on error. */
static int process (struct lexer *lx, struct sink *k, char stop, bool raw)
{
  while (lx->pos < lx->len)
    {
      char c = lx->s[lx->pos];
      if (stop != '\0' && c == stop)
        {
          lx->pos++;
          return 1;
        }
      lx->pos++;
      if (c == lx->esc)
        {
          if (lx->pos >= lx->len)
            break; /* a trailing escape is dropped */
          char n = lx->s[lx->pos++];
          if (raw)
            {
              char pair[2] = { c, n };
              sink_raw (k, pair, 2);
            }
          else
            sink_raw (k, &n, 1);
        }
      else if (c == '\'')
        {
          const char *end = memchr (lx->s + lx->pos, '\'', lx->len - lx->pos);
          if (end == NULL)
            return berr_setk (lx->err, BERR_INVALID, 0,
                              "unexpected end of statement while looking for matching "
                              "single-quote");
          for (const char *p = lx->s + lx->pos; p < end; p++)
            add_lit (k, raw, lx->esc, *p);
          lx->pos = (size_t)(end - lx->s) + 1;
        }
      else if (c == '"')
        {
          if (double_quoted (lx, k, raw) < 0)
            return -1;
        }
      else if (c == '$')
        {
          cleanup_free char *v = NULL;
          if (expand (lx, &v) < 0)
            return -1;
          sink_split (k, v, strlen (v));
          if (k->total > lx->max_out)
            return too_large (lx);
        }
      else
        sink_split (k, &c, 1);
    }
  return 0;
}

static int run (const char *word, const struct shell_env *env, char escape, struct sink *k,
                struct shell_refs *refs, berr_t *err)
{
  size_t len = strlen (word);
  struct lexer lx = { .s = word,
                      .len = len,
                      .esc = escape,
                      .env = env,
                      .err = err,
                      .max_out = SHELL_MAX_OUTPUT + len,
                      .match_steps = SHELL_MATCH_BUDGET };
  int r = process (&lx, k, '\0', false);
  if (r >= 0 && refs != NULL)
    *refs = lx.refs;
  else
    shell_refs_release (&lx.refs);
  return r < 0 ? -1 : 0;
}

int shell_process_word (const char *word, const struct shell_env *env, char escape, char **out,
                        struct shell_refs *refs, berr_t *err)
{
  struct sink k;
  sink_init (&k, false);
  int r = run (word, env, escape, &k, refs, err);
  if (r == 0)
    *out = xstrdup (sink_str (&k));
  sink_release (&k);
  return r;
}

int shell_process_words (const char *word, const struct shell_env *env, char escape, char ***out,
                         struct shell_refs *refs, berr_t *err)
{
  struct sink k;
  sink_init (&k, true);
  int r = run (word, env, escape, &k, refs, err);
  if (r == 0)
    {
      if (k.cur.len > 0)
        sink_flush (&k);
      *out = k.words != NULL ? steal_pointer (&k.words) : xcalloc (1, sizeof (char *));
    }
  sink_release (&k);
  return r;
}
