/* context.h — the build context: what `berth build CONTEXT` names, turned into a directory the
 * build reads from, plus the Dockerfile and the .dockerignore rules.
 *
 * CONTEXT is a directory; "-" (stdin: a Dockerfile, or a tar archive holding the context); a tar
 * archive file (plain, gzip, bzip2, xz, zstd); a git repository URL ("git://…", "git@…",
 * "https://…/x.git", "github.com/…", with "#ref:subdir"), cloned with git(1) (shallow when the
 * ref allows); or an http(s) URL of a tarball (or of a plain Dockerfile, as docker build does).
 * Archives and clones are unpacked into a private temporary directory (every entry resolved
 * inside it) that build_context_close removes. */
#ifndef BERTH_BUILD_CONTEXT_H
#define BERTH_BUILD_CONTEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "build/dockerignore.h"
#include "util/err.h"

struct build_context_opts
{
  const char *spec;       /* the CONTEXT argument */
  const char *dockerfile; /* -f: NULL ("Dockerfile" in the context), "-" (stdin), or a path:
                           * relative to the current directory for a directory context (as the
                           * docker CLI), relative to the context root for the others */
  int stdin_fd;           /* for "-" */
  const char *tmp_parent; /* where temporary directories go (the store's staging area) */
  uint64_t max_size;      /* bound on unpacked archive bytes (0: none) */
};

struct build_context
{
  char *dir; /* the context root (absolute); an empty directory for a stdin Dockerfile */
  int dirfd; /* O_PATH|O_DIRECTORY on dir */
  char *dockerfile_name; /* for messages, as BuildKit names it: "Dockerfile",
                            "dockerfiles/Dockerfile" */
  char *dockerfile;      /* its contents */
  size_t dockerfile_len;
  char **ignore_patterns; /* from <Dockerfile>.dockerignore next to the Dockerfile, else
                           * .dockerignore in the context root; empty strv when none */
  di_matcher_t *ignore;   /* compiled from them; NULL when there are none */
  char *tmpdir;           /* owned temporary directory or NULL */
  uint64_t size;          /* bytes of the files the build can see (not ignored), for
                           * "Sending build context to Docker daemon  2.048kB" */
};

/* Errors as Docker words them: "unable to prepare context: path \"x\" not found",
 * "unable to prepare context: unable to evaluate symlinks in Dockerfile path: lstat
 * /ctx/Dockerfile: no such file or directory", "failed to read Dockerfile". */
int build_context_open (const struct build_context_opts *o, struct build_context **out,
                        berr_t *err);
void build_context_close (struct build_context *c);

/* Whether a path (relative to the context root, '/'-separated) is excluded by .dockerignore. */
bool build_context_ignored (struct build_context *c, const char *rel);

#endif
