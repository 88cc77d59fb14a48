/* copy_match.c — Go's path/filepath.Match (Unix flavour: '/' separates, '\\' escapes), which
 * COPY and ADD use for their source wildcards. Written from the documented semantics:
 *
 *   '*' any sequence of non-'/' characters, '?' one non-'/' character, '[' [ '^' ] range+ ']'
 *   a character class, where a range is c or c-c and c may be escaped; '\\' c matches c.
 *
 * A malformed pattern is an error (-1) only when the matcher reaches the bad part, or when no
 * match is found — Go checks the rest of the pattern before it reports "no match". */
#include <stdint.h>
#include <string.h>

#include "build/copy_int.h"

/* One UTF-8 rune at s (len > 0); *n its length. Invalid bytes decode as U+FFFD, length 1. */
static int32_t decode_rune (const char *s, size_t len, size_t *n)
{
  const unsigned char *u = (const unsigned char *)s;
  *n = 1;
  if (u[0] < 0x80)
    return u[0];
  size_t need;
  int32_t r, min;
  if ((u[0] & 0xe0) == 0xc0)
    need = 2, r = u[0] & 0x1f, min = 0x80;
  else if ((u[0] & 0xf0) == 0xe0)
    need = 3, r = u[0] & 0x0f, min = 0x800;
  else if ((u[0] & 0xf8) == 0xf0)
    need = 4, r = u[0] & 0x07, min = 0x10000;
  else
    return 0xfffd;
  if (len < need)
    return 0xfffd;
  for (size_t i = 1; i < need; i++)
    {
      if ((u[i] & 0xc0) != 0x80)
        return 0xfffd;
      r = (r << 6) | (u[i] & 0x3f);
    }
  if (r < min || r > 0x10ffff || (r >= 0xd800 && r <= 0xdfff))
    return 0xfffd;
  *n = need;
  return r;
}

struct str
{
  const char *p;
  size_t n;
};

static void adv (struct str *s, size_t k)
{
  s->p += k;
  s->n -= k;
}

/* A leading run of '*' (star) and the chunk up to the next '*' outside a class. */
static void scan_chunk (struct str *pat, bool *star, struct str *chunk)
{
  *star = false;
  while (pat->n > 0 && pat->p[0] == '*')
    {
      adv (pat, 1);
      *star = true;
    }
  bool inrange = false;
  size_t i;
  for (i = 0; i < pat->n; i++)
    {
      char c = pat->p[i];
      if (c == '\\')
        {
          if (i + 1 < pat->n)
            i++;
        }
      else if (c == '[')
        inrange = true;
      else if (c == ']')
        inrange = false;
      else if (c == '*' && !inrange)
        break;
    }
  chunk->p = pat->p;
  chunk->n = i;
  adv (pat, i);
}

/* One class bound, maybe escaped. -1 on a malformed class. */
static int get_esc (struct str *chunk, int32_t *r)
{
  if (chunk->n == 0 || chunk->p[0] == '-' || chunk->p[0] == ']')
    return -1;
  if (chunk->p[0] == '\\')
    {
      adv (chunk, 1);
      if (chunk->n == 0)
        return -1;
    }
  size_t n;
  *r = decode_rune (chunk->p, chunk->n, &n);
  bool bad = *r == 0xfffd && n == 1 && (unsigned char)chunk->p[0] >= 0x80;
  adv (chunk, n);
  if (bad || chunk->n == 0)
    return -1;
  return 0;
}

/* Match chunk against a prefix of s: 1 with *rest set, 0 no match, -1 bad pattern. Like Go, the
 * whole chunk is parsed even after a mismatch, so syntax errors are found. */
static int match_chunk (struct str chunk, struct str s, struct str *rest)
{
  bool failed = false;
  while (chunk.n > 0)
    {
      if (!failed && s.n == 0)
        failed = true;
      switch (chunk.p[0])
        {
        case '[':
          {
            int32_t r = 0;
            if (!failed)
              {
                size_t n;
                r = decode_rune (s.p, s.n, &n);
                adv (&s, n);
              }
            adv (&chunk, 1);
            bool negated = false;
            if (chunk.n > 0 && chunk.p[0] == '^')
              {
                negated = true;
                adv (&chunk, 1);
              }
            bool match = false;
            int nrange = 0;
            for (;;)
              {
                if (chunk.n > 0 && chunk.p[0] == ']' && nrange > 0)
                  {
                    adv (&chunk, 1);
                    break;
                  }
                int32_t lo, hi;
                if (get_esc (&chunk, &lo) < 0)
                  return -1;
                hi = lo;
                if (chunk.p[0] == '-')
                  {
                    adv (&chunk, 1);
                    if (get_esc (&chunk, &hi) < 0)
                      return -1;
                  }
                if (lo <= r && r <= hi)
                  match = true;
                nrange++;
              }
            if (match == negated)
              failed = true;
            break;
          }
        case '?':
          if (!failed)
            {
              if (s.p[0] == '/')
                failed = true;
              size_t n;
              decode_rune (s.p, s.n, &n);
              adv (&s, n);
            }
          adv (&chunk, 1);
          break;
        case '\\':
          adv (&chunk, 1);
          if (chunk.n == 0)
            return -1;
          /* fall through */
        default:
          if (!failed)
            {
              if (chunk.p[0] != s.p[0])
                failed = true;
              adv (&s, 1);
            }
          adv (&chunk, 1);
          break;
        }
    }
  if (failed)
    return 0;
  *rest = s;
  return 1;
}

int copy_match (const char *pattern, const char *name)
{
  struct str pat = { pattern, strlen (pattern) };
  struct str s = { name, strlen (name) };
  while (pat.n > 0)
    {
      bool star;
      struct str chunk, t;
      scan_chunk (&pat, &star, &chunk);
      if (star && chunk.n == 0)
        return memchr (s.p, '/', s.n) == NULL;
      int m = match_chunk (chunk, s, &t);
      if (m == 1 && (t.n == 0 || pat.n > 0))
        {
          s = t;
          continue;
        }
      if (m < 0)
        return -1;
      if (star)
        {
          bool found = false;
          for (size_t i = 0; i < s.n && s.p[i] != '/'; i++)
            {
              struct str sub = { s.p + i + 1, s.n - i - 1 };
              m = match_chunk (chunk, sub, &t);
              if (m == 1)
                {
                  if (pat.n == 0 && t.n > 0)
                    continue;
                  s = t;
                  found = true;
                  break;
                }
              if (m < 0)
                return -1;
            }
          if (found)
            continue;
        }
      /* No match: the rest of the pattern must still be well-formed. */
      while (pat.n > 0)
        {
          scan_chunk (&pat, &star, &chunk);
          struct str empty = { "", 0 };
          if (match_chunk (chunk, empty, &t) < 0)
            return -1;
        }
      return 0;
    }
  return s.n == 0;
}

bool copy_has_wildcards (const char *s)
{
  for (; *s; s++)
    {
      if (*s == '\\')
        {
          if (s[1] == '\0')
            break;
          s++;
        }
      else if (*s == '*' || *s == '?' || *s == '[')
        return true;
    }
  return false;
}
