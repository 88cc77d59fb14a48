/* Shell glob patterns for the Dockerfile pattern substitutions ${V#p} ${V##p} ${V%p} ${V%%p}
 * ${V/p/r} ${V//p/r} (private to src/build/shell.c). A pattern is literal runes, '?' (one rune)
 * and '*' (any runes); the escape character makes the next character literal.
 *
 * Matching is a simulation of the pattern automaton over the runes of the value, keeping for
 * each pattern position the leftmost start that reaches it: one pass finds the leftmost-longest
 * match, so the cost is O(value runes x live pattern positions), never exponential and never a
 * test of every (start, end) pair. Each call also charges that work to a caller's budget, so
 * that a huge value against a huge pattern fails instead of running for hours. */
#ifndef BERTH_BUILD_SHELL_GLOB_H
#define BERTH_BUILD_SHELL_GLOB_H

#include <stdbool.h>
#include <stddef.h>

#include "util/err.h"

struct shell_glob;

/* Compile pat; an escape at the end or before a letter or digit is an error (BERR_INVALID). */
int shell_glob_compile (const char *pat, char esc, struct shell_glob **out, berr_t *err);
void shell_glob_free (struct shell_glob *g);

enum
{
  SHELL_GLOB_OK = 0,
  SHELL_GLOB_TOO_COSTLY = -1, /* *budget ran out */
  SHELL_GLOB_TOO_LARGE = -2,  /* the result would be longer than max_out bytes */
};

/* ${v#p} (prefix, shortest), ${v##p} (prefix, longest), ${v%p}, ${v%%p}: *out is v less the
 * matching prefix or suffix, or a copy of v when nothing matches. */
int shell_glob_trim (const struct shell_glob *g, const char *v, bool prefix, bool longest,
                     size_t *budget, char **out);

/* ${v/p/r} (first match only) and ${v//p/r} (global): each leftmost-longest match is replaced
 * by repl; an empty match inserts repl and the scan moves on by one rune. */
int shell_glob_replace (const struct shell_glob *g, const char *v, const char *repl, bool global,
                        size_t max_out, size_t *budget, char **out);

#endif
