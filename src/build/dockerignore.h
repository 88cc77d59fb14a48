/* .dockerignore: the file reader and the pattern matcher, with the semantics of
 * moby/patternmatcher (and its ignorefile package) that docker build and BuildKit use. */
#ifndef BERTH_BUILD_DOCKERIGNORE_H
#define BERTH_BUILD_DOCKERIGNORE_H

#include <stdbool.h>
#include <stddef.h>

#include "util/err.h"

/* Read a .dockerignore buffer into patterns (NULL-terminated strv, possibly empty, never NULL
 * on success): UTF-8 BOM dropped, lines starting with '#' in column 0 skipped, whitespace
 * trimmed, blank lines skipped, "!" kept and the rest trimmed again, the path cleaned and one
 * leading '/' removed. A bare "!" line is kept as "!" (di_matcher_new rejects it). The only
 * error is a line longer than the 64 KiB reader limit ("line N: ..."). */
int di_read_patterns (const char *buf, size_t len, char ***out, berr_t *err);

typedef struct di_matcher di_matcher_t;

/* Compile patterns (as in a .dockerignore, in order). Each is trimmed, blank ones dropped,
 * cleaned; a leading '!' makes an exception. Errors: a bare "!" ("illegal exclusion pattern")
 * and filepath.Match syntax errors ("syntax error in pattern"). Some patterns pass this check
 * but fail later, at match time, exactly like upstream ("[Local-Only]": reversed range). */
int di_matcher_new (const char *const *patterns, di_matcher_t **out, berr_t *err);
void di_matcher_free (di_matcher_t *m);
size_t di_matcher_count (const di_matcher_t *m);
/* Whether any pattern is an exception ('!'). */
bool di_matcher_has_exclusions (const di_matcher_t *m);

/* The .dockerignore rule (MatchesOrParentMatches): *out = true when path is ignored. Every
 * pattern is tried, in order, against the path and each of its parent directories; the last
 * one that matches decides. path uses '/' and is not cleaned. Returns 0, or -1 on a pattern
 * that fails at match time. */
int di_matches (di_matcher_t *m, const char *path, bool *out, berr_t *err);

/* Same decision for a walker going down the tree (MatchesUsingParentResults): parent is the
 * per-pattern array the call for the parent directory filled (di_matcher_count entries), or
 * NULL for a path whose parents were never evaluated; info (same size, may be NULL) receives
 * this path's array for its children. */
int di_matches_parent_info (di_matcher_t *m, const char *path, const bool *parent, bool *info,
                            bool *out, berr_t *err);

/* Simpler walker variant (MatchesUsingParentResult): parent_matched is the result of the
 * directory that holds path; no parent prefixes are tried. */
int di_matches_parent_result (di_matcher_t *m, const char *path, bool parent_matched, bool *out,
                              berr_t *err);

/* The deprecated patternmatcher.Matches(file, patterns): the file is cleaned, "." never
 * matches, and a pattern of N components is also tried against the file's first N
 * components. Kept for the conformance vectors that assert it. */
int di_matches_legacy (const char *const *patterns, const char *path, bool *out, berr_t *err);

/* For a walker that found directory dir (relative, '/'-separated) ignored: false when no
 * exception pattern could re-include anything at or below dir, so the whole directory can be
 * skipped. Conservative: true whenever unsure (a "**" in an exception, a component that does
 * not compile on its own). */
bool di_dir_may_reinclude (di_matcher_t *m, const char *dir);

/* How upstream classifies one pattern (no '!'): "exactMatch", "prefixMatch", "suffixMatch",
 * "regexpMatch", or "error" when it does not compile. For tests and diagnostics. */
const char *di_pattern_kind (const char *pattern);

#endif
