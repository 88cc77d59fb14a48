/* ref.h — image references, parsed and normalized exactly as Docker (distribution/reference). */
#ifndef BERTH_REF_H
#define BERTH_REF_H

#include "util/err.h"

struct image_ref
{
  char *domain;  /* "docker.io", "localhost:5000", "[::1]:5000"; NULL only for raw ref_parse without a domain */
  char *path;    /* "library/busybox" */
  char *tag;     /* "latest", or NULL */
  char *digest;  /* "sha256:<64hex>", or NULL */
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
void ref_release (struct image_ref *r);

/* Full string: "docker.io/library/busybox:latest", "host:5000/a/b@sha256:..." (tag and digest
 * both printed when both set). Caller frees. */
char *ref_string (const struct image_ref *r);
/* Name only ("docker.io/library/busybox"). */
char *ref_name (const struct image_ref *r);
/* FamiliarString: "busybox:latest", "user/app", "localhost:5000/x:1" (caller frees). */
char *ref_familiar (const struct image_ref *r);
/* FamiliarName: name without tag/digest in familiar form (caller frees). */
char *ref_familiar_name (const struct image_ref *r);
/* Familiar form of a full normalized string such as "docker.io/library/busybox:latest". */
char *ref_familiarize (const char *full);

/* True for exactly 64 lowercase hex characters (an image ID). */
bool ref_is_full_id (const char *s);
/* True for 1..64 lowercase hex characters, optionally prefixed "sha256:" — a candidate ID prefix. */
bool ref_is_id_prefix (const char *s);

#endif
