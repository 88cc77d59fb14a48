/* ref.h — image references, parsed and normalized exactly as Docker (distribution/reference).
 *
 * Every parser fills *out only on success; on failure *out is left zeroed, so ref_release is
 * always safe. Errors are BERR_INVALID with upstream's message text. */
#ifndef BERTH_REF_H
#define BERTH_REF_H

#include "util/err.h"

struct image_ref
{
  char *domain; /* "docker.io", "localhost:5000", "[::1]:5000"; NULL when the first component is
                   not a host (raw ref_parse) and for digest-only references */
  char *path;   /* "library/busybox"; NULL only for a digest-only reference (ref_parse_any) */
  char *tag;    /* "latest", or NULL */
  char *digest; /* "sha256:<64hex>", or NULL */
};

/* ParseNormalizedNamed: "busybox" -> docker.io/library/busybox (no tag added).
 * Rejects upper case in the repository ("invalid reference format: repository name
 * (library/Upper) must be lowercase"), 64-hex strings ("invalid repository name ... cannot
 * specify 64-byte hexadecimal strings"), bad digests, names over 255 characters. */
int ref_parse_normalized (const char *s, struct image_ref *out, berr_t *err);
/* Parse (raw): no normalization; domain NULL when the first component is not a host. */
int ref_parse (const char *s, struct image_ref *out, berr_t *err);
/* ParseDockerRef: normalized, ":latest" added when neither tag nor digest, and the tag dropped
 * when a digest is present. */
int ref_parse_docker (const char *s, struct image_ref *out, berr_t *err);
/* ParseAnyReference: a bare 64-hex ID or a valid "sha256:<64hex>" gives a digest-only reference
 * (domain and path NULL, digest "sha256:<hex>"); anything else is ref_parse_normalized. */
int ref_parse_any (const char *s, struct image_ref *out, berr_t *err);
void ref_release (struct image_ref *r);

/* WithTag: set (or replace) the tag, keeping any digest. "invalid tag format" unless the tag
 * matches [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}. r must have a name. */
int ref_with_tag (struct image_ref *r, const char *tag, berr_t *err);
/* WithDigest: set (or replace) the digest, keeping any tag. "invalid digest format" unless it is
 * algorithm ":" at least 32 hex digits. r must have a name. */
int ref_with_digest (struct image_ref *r, const char *digest, berr_t *err);
/* TagNameOnly: add the tag "latest" when r has neither tag nor digest. */
void ref_tag_name_only (struct image_ref *r);

/* Full string: "docker.io/library/busybox:latest", "host:5000/a/b@sha256:..." (tag and digest
 * both printed when both set); just the digest for a digest-only reference. Caller frees. */
char *ref_string (const struct image_ref *r);
/* Name only ("docker.io/library/busybox"); "" for a digest-only reference. Caller frees. */
char *ref_name (const struct image_ref *r);
/* FamiliarString: "busybox:latest", "user/app", "localhost:5000/x:1" (caller frees). */
char *ref_familiar (const struct image_ref *r);
/* FamiliarName: name without tag/digest in familiar form (caller frees). */
char *ref_familiar_name (const struct image_ref *r);
/* Familiar form of a full normalized string such as "docker.io/library/busybox:latest".
 * A string that does not parse as a reference is returned unchanged (as a copy). */
char *ref_familiarize (const char *full);
/* FamiliarMatch: Go path.Match of pattern against the familiar string, then (when r has a name
 * and that did not match) against the familiar name. "*" never crosses "/". Sets *matched;
 * returns -1 with "syntax error in pattern" for a malformed pattern. */
int ref_familiar_match (const char *pattern, const struct image_ref *r, bool *matched, berr_t *err);

/* The full tag name a new tag s names (tag, commit, build -t): normalized, ":latest" added.
 * -1: s does not parse (err has the parser's message); -2: s has a digest (err: "refusing to
 * create a tag with a digest reference"). *full is set only on success (caller frees). */
int ref_tag_target (const char *s, char **full, berr_t *err);

/* True for exactly 64 lowercase hex characters (an image ID). */
bool ref_is_full_id (const char *s);
/* True for 1..64 lowercase hex characters, optionally prefixed "sha256:": a candidate ID prefix. */
bool ref_is_id_prefix (const char *s);

#endif
