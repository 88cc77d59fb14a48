/* Shell glob matching for the pattern substitutions (see shell_glob.h).
 *
 * The pattern compiles to tokens (literal rune, '?', '*'; runs of '*' collapse into one). The
 * value is cut into runes. A match is found by walking the runes once while keeping the set of
 * live token positions; for each one we keep only the smallest start offset that reaches it,
 * since what happens after a position does not depend on where the match began, and the
 * leftmost start is the one that wins. This gives the leftmost-longest match that the older
 * "try every start, then every end, longest first" loop gave, without its O(n^3) cost. */
#include "build/shell_glob.h"

#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/util.h"

enum
{
  G_LIT,
  G_ONE,
  G_STAR
};

struct gtok
{
  int kind;
  const char *lit; /* G_LIT: the rune's bytes, in the pattern string */
  size_t litlen;
};

struct shell_glob
{
  char *pat;
  struct gtok *t; /* n tokens; position n is the accepting one */
  size_t n;
};

#define NO_START SIZE_MAX

static size_t rune_len (const char *s, size_t left)
{
  unsigned char c = (unsigned char)s[0];
  size_t n = c < 0xC0 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
  return n > left ? left : n;
}

void shell_glob_free (struct shell_glob *g)
{
  if (g == NULL)
    return;
  free (g->t);
  free (g->pat);
  free (g);
}

int shell_glob_compile (const char *pat, char esc, struct shell_glob **out, berr_t *err)
{
  size_t plen = strlen (pat), n = 0;
  struct shell_glob *g = xcalloc (1, sizeof *g);
  g->pat = xstrdup (pat);
  g->t = xcalloc (plen + 1, sizeof *g->t);
  const char *p = g->pat;
  for (size_t i = 0; i < plen;)
    {
      char c = p[i];
      if (c == esc)
        {
          if (i + 1 >= plen)
            {
              shell_glob_free (g);
              return berr_setk (err, BERR_INVALID, 0, "invalid pattern '%s': dangling escape", pat);
            }
          /* Only punctuation can be escaped: an escaped letter or digit has no meaning. */
          if (isalnum ((unsigned char)pat[i + 1]))
            {
              shell_glob_free (g);
              return berr_setk (err, BERR_INVALID, 0, "invalid pattern '%s': unknown escape '%c%c'",
                                pat, esc, pat[i + 1]);
            }
          i++;
          size_t rl = rune_len (p + i, plen - i);
          g->t[n++] = (struct gtok){ G_LIT, p + i, rl };
          i += rl;
        }
      else if (c == '*')
        {
          if (n == 0 || g->t[n - 1].kind != G_STAR)
            g->t[n++] = (struct gtok){ G_STAR, NULL, 0 };
          i++;
        }
      else if (c == '?')
        {
          g->t[n++] = (struct gtok){ G_ONE, NULL, 0 };
          i++;
        }
      else
        {
          size_t rl = rune_len (p + i, plen - i);
          g->t[n++] = (struct gtok){ G_LIT, p + i, rl };
          i += rl;
        }
    }
  g->n = n;
  *out = g;
  return 0;
}

/* The value as runes: rune j is v[b[j], b[j+1]). Read backwards (rev), rune j is the j-th from
 * the end, so that a suffix match is a prefix match of the reversed value and pattern. */
struct text
{
  const char *v;
  size_t *b;
  size_t nr;
  bool rev;
};

static void text_init (struct text *x, const char *v, bool rev)
{
  size_t len = strlen (v), n = 0;
  x->v = v;
  x->b = xcalloc (len + 2, sizeof *x->b);
  for (size_t i = 0; i < len; i += rune_len (v + i, len - i))
    x->b[n++] = i;
  x->b[n] = len;
  x->nr = n;
  x->rev = rev;
}

static void text_release (struct text *x)
{
  free (x->b);
  x->b = NULL;
}

static bool rune_is (const struct text *x, size_t j, const char *lit, size_t litlen)
{
  size_t f = x->rev ? x->nr - 1 - j : j;
  size_t off = x->b[f], len = x->b[f + 1] - x->b[f];
  return len == litlen && memcmp (x->v + off, lit, len) == 0;
}

/* The live token positions of one step: start[p] is the leftmost start offset (in runes) that
 * reaches position p, NO_START when none; live lists the positions that have one. */
struct step
{
  size_t *start;
  size_t *live;
  size_t nlive;
};

struct nfa
{
  const struct gtok *t;
  size_t n;
  struct step cur, nxt;
};

static void nfa_init (struct nfa *m, const struct gtok *t, size_t n)
{
  m->t = t;
  m->n = n;
  struct step *steps[] = { &m->cur, &m->nxt };
  for (size_t i = 0; i < 2; i++)
    {
      steps[i]->start = xcalloc (n + 1, sizeof (size_t));
      for (size_t p = 0; p <= n; p++)
        steps[i]->start[p] = NO_START;
      steps[i]->live = xcalloc (n + 1, sizeof (size_t));
      steps[i]->nlive = 0;
    }
}

static void nfa_release (struct nfa *m)
{
  free (m->cur.start);
  free (m->cur.live);
  free (m->nxt.start);
  free (m->nxt.live);
}

static void step_clear (struct step *st)
{
  for (size_t i = 0; i < st->nlive; i++)
    st->start[st->live[i]] = NO_START;
  st->nlive = 0;
}

/* Reach position p from start s; a '*' can also be skipped, so it reaches p + 1 as well. */
static void nfa_add (const struct nfa *m, struct step *st, size_t p, size_t s)
{
  for (;;)
    {
      if (st->start[p] != NO_START && st->start[p] <= s)
        return;
      if (st->start[p] == NO_START)
        st->live[st->nlive++] = p;
      st->start[p] = s;
      if (p == m->n || m->t[p].kind != G_STAR)
        return;
      p++;
    }
}

struct match
{
  size_t start;       /* rune index */
  size_t first_end;   /* the shortest match from start */
  size_t longest_end; /* the longest one */
};

/* Find the leftmost match that starts at rune k0 or later (anchored: exactly at k0), and its
 * shortest and longest ends. Returns 1 when found, 0 when not, SHELL_GLOB_TOO_COSTLY. */
static int nfa_search (struct nfa *m, const struct text *x, size_t k0, bool anchored,
                       size_t *budget, struct match *out)
{
  bool found = false;
  struct match best = { 0, 0, 0 };
  int r = 0;
  for (size_t j = k0;; j++)
    {
      /* Later starts lose to any match already found, so none are begun after one. */
      if (!found && (!anchored || j == k0))
        nfa_add (m, &m->cur, 0, j);
      size_t s = m->cur.start[m->n];
      if (s != NO_START)
        {
          if (!found || s < best.start)
            best = (struct match){ s, j, j };
          else
            best.longest_end = j;
          found = true;
        }
      if (found)
        {
          size_t keep = 0;
          for (size_t i = 0; i < m->cur.nlive; i++)
            {
              size_t p = m->cur.live[i];
              if (m->cur.start[p] <= best.start)
                m->cur.live[keep++] = p;
              else
                m->cur.start[p] = NO_START;
            }
          m->cur.nlive = keep;
        }
      if (j == x->nr || (m->cur.nlive == 0 && (found || anchored)))
        break;
      if (*budget <= m->cur.nlive)
        {
          r = SHELL_GLOB_TOO_COSTLY;
          break;
        }
      *budget -= m->cur.nlive + 1;
      for (size_t i = 0; i < m->cur.nlive; i++)
        {
          size_t p = m->cur.live[i];
          size_t st = m->cur.start[p];
          m->cur.start[p] = NO_START;
          if (p == m->n)
            continue;
          const struct gtok *t = &m->t[p];
          if (t->kind == G_STAR)
            nfa_add (m, &m->nxt, p, st);
          else if (t->kind == G_ONE || rune_is (x, j, t->lit, t->litlen))
            nfa_add (m, &m->nxt, p + 1, st);
        }
      m->cur.nlive = 0;
      struct step tmp = m->cur;
      m->cur = m->nxt;
      m->nxt = tmp;
    }
  step_clear (&m->cur);
  step_clear (&m->nxt);
  if (r < 0)
    return r;
  if (found)
    *out = best;
  return found ? 1 : 0;
}

int shell_glob_trim (const struct shell_glob *g, const char *v, bool prefix, bool longest,
                     size_t *budget, char **out)
{
  struct text x;
  text_init (&x, v, !prefix);
  /* A suffix match is a prefix match of the reversed runes against the reversed tokens. */
  cleanup_free struct gtok *rev = NULL;
  const struct gtok *t = g->t;
  if (!prefix)
    {
      rev = xcalloc (g->n + 1, sizeof *rev);
      for (size_t i = 0; i < g->n; i++)
        rev[i] = g->t[g->n - 1 - i];
      t = rev;
    }
  struct nfa m;
  nfa_init (&m, t, g->n);
  struct match mt;
  int r = nfa_search (&m, &x, 0, true, budget, &mt);
  nfa_release (&m);
  if (r < 0)
    {
      text_release (&x);
      return r;
    }
  if (r == 0)
    *out = xstrdup (v);
  else
    {
      size_t runes = longest ? mt.longest_end : mt.first_end;
      if (prefix)
        *out = xstrdup (v + x.b[runes]);
      else
        *out = xstrndup (v, x.b[x.nr - runes]);
    }
  text_release (&x);
  return SHELL_GLOB_OK;
}

int shell_glob_replace (const struct shell_glob *g, const char *v, const char *repl, bool global,
                        size_t max_out, size_t *budget, char **out)
{
  struct text x;
  text_init (&x, v, false);
  struct nfa m;
  nfa_init (&m, g->t, g->n);
  size_t rlen = strlen (repl);
  struct sbuf o;
  sbuf_init (&o);
  int r = SHELL_GLOB_OK;
  size_t k = 0; /* the rune where the next search begins; runes before it are in o */
  for (;;)
    {
      struct match mt;
      int f = nfa_search (&m, &x, k, false, budget, &mt);
      if (f < 0)
        {
          r = f;
          break;
        }
      size_t e = f == 0 ? x.nr : mt.start;
      size_t copy = x.b[e] - x.b[k];
      if (o.len + copy > max_out || (f == 1 && o.len + copy + rlen > max_out))
        {
          r = SHELL_GLOB_TOO_LARGE;
          break;
        }
      sbuf_add (&o, v + x.b[k], copy);
      if (f == 0)
        break;
      sbuf_add (&o, repl, rlen);
      k = mt.longest_end;
      if (!global)
        {
          if (o.len + (x.b[x.nr] - x.b[k]) > max_out)
            r = SHELL_GLOB_TOO_LARGE;
          else
            sbuf_adds (&o, v + x.b[k]);
          break;
        }
      if (mt.longest_end == mt.start)
        {
          /* An empty match: keep the rune after it and look again from the next one. */
          if (k == x.nr)
            break;
          size_t rl = x.b[k + 1] - x.b[k];
          if (o.len + rl > max_out)
            {
              r = SHELL_GLOB_TOO_LARGE;
              break;
            }
          sbuf_add (&o, v + x.b[k], rl);
          k++;
        }
    }
  nfa_release (&m);
  text_release (&x);
  if (r == SHELL_GLOB_OK)
    *out = xstrdup (o.buf != NULL ? o.buf : "");
  sbuf_release (&o);
  return r;
}
