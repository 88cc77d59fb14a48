/* copy.h — COPY and ADD: what the sources name (Go filepath.Match wildcards, Docker's directory
 * and trailing-slash rules), a content hash of it for the build cache, and the copy into a root
 * filesystem.
 *
 * Sources are read inside their root (the build context, a stage's or an image's root
 * filesystem) with openat2 RESOLVE_IN_ROOT: "../x" and absolute paths stay inside, and a symlink
 * in the context is copied as a symlink, never followed out of it (a link to /etc/passwd is
 * copied as that link). The .dockerignore'd files of the context do not exist for COPY. The
 * destination is resolved inside the destination root the same way, so a symlink in the image
 * (e.g. /usr/local -> /opt) is followed the way the container would see it, never out of it. */
#ifndef BERTH_BUILD_COPY_H
#define BERTH_BUILD_COPY_H

#include <stdbool.h>
#include <stdint.h>

#include "build/dockerignore.h"
#include "util/digest.h"

/* A heredoc source: COPY <<EOF /dest (the file is named after the heredoc). */
struct copy_inline
{
  const char *name;
  const char *content;
  size_t len;
};

struct copy_request
{
  int src_root;         /* directory fd: the context, or a stage's / image's rootfs (--from) */
  bool from_context;    /* sources from the context: owner 0:0 unless --chown, .dockerignore */
  di_matcher_t *ignore; /* the context's .dockerignore, or NULL */
  char *const *sources; /* expanded source words ("*.go", "a/b", "/a", ".", "https://…" for ADD) */
  const struct copy_inline *inline_srcs;
  size_t n_inline;
  const char *dest;     /* expanded destination as written ("/app/", "rel", ".") */
  const char *workdir;  /* the image's WorkingDir (NULL or "": "/") for a relative dest */
  bool add;             /* ADD: local tar archives (any compression) extracted, URLs fetched */
  const char *chown;    /* --chown as written ("user", "1000:1000", "app:staff") or NULL */
  const char *chmod;    /* --chmod as written (octal "0755" / "755") or NULL */
  const char *checksum; /* ADD --checksum=sha256:<hex> for a URL source, or NULL */
  bool link;            /* --link: the caller copies into an empty directory */
  const char *tmpdir;   /* a directory for downloads (ADD URLs) */
  const char *instr;    /* "COPY" or "ADD", for messages */
};

struct copy_job;

/* Resolve the sources: wildcards matched, missing sources an error with Docker's wording
 * ("COPY failed: file not found in build context or excluded by .dockerignore: stat x: file
 * does not exist"; for --from: "... not found"), sources outside the context ("COPY ../x")
 * refused, URLs downloaded (ADD; --checksum verified) into tmpdir. Validates --chown syntax and
 * --chmod. */
int copy_prepare (const struct copy_request *r, struct copy_job **out, berr_t *err);
/* The cache-key part: sha256 over, for each resolved source in order, its path relative to the
 * source root, type, mode, owner (when kept), size, symlink target and content digest — and
 * the destination, --chown, --chmod. Modification times do not count (as Docker). */
int copy_job_hash (struct copy_job *j, char out[DIGEST_STR_LEN], berr_t *err);
/* Copy into dst_root (the new layer's view: an overlay mount of the parent image with a fresh
 * upper, or an empty directory for --link). Names in --chown are looked up in
 * lookup_root's /etc/passwd and /etc/group (the parent image's rootfs; < 0: dst_root); an
 * unknown name fails ("unable to find user app: no matching entries in passwd file").
 * Missing destination directories are created 0755 root. mtimes are kept from the sources
 * (ADD URL: Last-Modified when given); with clamp_mtime >= 0 (SOURCE_DATE_EPOCH) newer ones are
 * set to it. */
int copy_job_run (struct copy_job *j, int dst_root, int lookup_root, int64_t clamp_mtime,
                  berr_t *err);
/* How many files and bytes the job copies (for messages and benchmarks). */
void copy_job_stats (const struct copy_job *j, uint64_t *files, uint64_t *bytes);
void copy_job_free (struct copy_job *j);
/* How Docker's history names the sources: "file" (one file), "dir" (one directory), "multi". */
const char *copy_job_kind (const struct copy_job *j);

/* Go's path/filepath.Match for one path (no path separators crossed by '*', '?', '[…]'); 1
 * match, 0 no match, -1 ErrBadPattern. */
int copy_match (const char *pattern, const char *name);

#endif
