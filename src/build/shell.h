/* Dockerfile word expansion, as BuildKit's frontend does it for ENV, ARG, COPY, WORKDIR…:
 * $VAR, ${VAR}, ${VAR:-w} ${VAR-w} ${VAR:+w} ${VAR+w} ${VAR:?m} ${VAR?m}, the pattern forms
 * ${VAR#p} ${VAR##p} ${VAR%p} ${VAR%%p} ${VAR/p/r} ${VAR//p/r}, single and double quotes and
 * a configurable escape character (\ or `). There is no command substitution, no arithmetic
 * and no assignment form (${VAR=w} is an error, as in BuildKit). */
#ifndef BERTH_BUILD_SHELL_H
#define BERTH_BUILD_SHELL_H

#include <stdbool.h>
#include <stddef.h>

#include "util/err.h"

/* The variables visible to an expansion: an ordered KEY=VALUE list. When a key appears more
 * than once, the last entry wins (later ENV/ARG lines override earlier ones). */
struct shell_env
{
  char *const *kv; /* "KEY=VALUE" strings (not owned); NULL-terminated, may be NULL */
  bool fold_case;  /* names match case-insensitively (Windows images: $pwd is $PWD) */
};

/* Which variables an expansion referred to: matched = set (even if empty), unmatched = unset.
 * Each name appears once, in first-reference order. Owned strv; release with
 * shell_refs_release. */
struct shell_refs
{
  char **matched;
  char **unmatched;
};

void shell_refs_release (struct shell_refs *refs);

/* Expand one word (no field splitting). escape is '\\' or '`'. On success *out is a new heap
 * string and refs (if not NULL) is filled. Returns 0, or -1 with err set (BERR_INVALID) for
 * syntax errors and for ${VAR?msg}/${VAR:?msg} on an unset (or empty) variable. */
int shell_process_word (const char *word, const struct shell_env *env, char escape, char **out,
                        struct shell_refs *refs, berr_t *err);

/* Expand and split into words: unquoted whitespace, in the source or in the result of an
 * unquoted expansion, separates words; quotes and escaped whitespace keep it. *out is a new
 * NULL-terminated strv. */
int shell_process_words (const char *word, const struct shell_env *env, char escape, char ***out,
                         struct shell_refs *refs, berr_t *err);

#endif
