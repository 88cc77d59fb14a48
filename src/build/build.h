/* build.h — the build engine: a Dockerfile and a context -> images, with Docker's legacy
 * builder's model and output, and BuildKit's Dockerfile frontend semantics (parser, expansion,
 * RUN --mount, heredocs, COPY --link/--chmod).
 *
 * Every step's result is an image (untagged, parent = the previous step's) recorded in the
 * store's build cache under the step's key: sha256 of the parent image id, the normalized
 * instruction, the build args in scope and the content hash of COPY/ADD sources. Metadata steps
 * are committed together with the next filesystem step (one store transaction). RUN runs in a
 * container on the parent image (the runtime, the networks, the mounts of the engine); its
 * upper directory becomes the layer. */
#ifndef BERTH_BUILD_BUILD_H
#define BERTH_BUILD_BUILD_H

#include <stdbool.h>

#include "registry/registry.h"
#include "build/context.h"
#include "build/runmount.h"
#include "container/container.h"

enum build_progress
{
  BUILD_PROGRESS_AUTO,
  BUILD_PROGRESS_PLAIN,
  BUILD_PROGRESS_TTY,
};

struct build_opts
{
  struct build_context *context;
  char *const *tags;       /* full names to tag the result with */
  char *const *build_args; /* "K=V", or "K" (value from the environment, ignored when unset) */
  const char *target;      /* --target stage name, or NULL */
  bool no_cache;
  bool pull;              /* --pull: pull every FROM image first */
  bool quiet;             /* -q: no step output (the CLI prints the id) */
  char *const *labels;    /* --label "K=V" on the final image */
  const char *network;    /* --network for RUN: "default" (NULL), "none", "host", a network */
  char *const *add_hosts; /* --add-host */
  const char *platform;   /* --platform: only the native one is accepted */
  const struct build_secret *secrets;
  size_t n_secrets;
  enum build_progress progress;
  int out_fd; /* step output (stdout), RUN output streamed here */
  int err_fd; /* RUN stderr */
  bool rm;    /* remove intermediate containers (default true) */
  bool force_rm;
  /* The registry settings FROM pulls use (a missing image, or --pull); NULL: no pulls. */
  const struct reg_config *reg;
};

/* Run the build. On success id receives the final image's ID and the tags point at it. On a
 * failing step the error says so in Docker's words ("The command '/bin/sh -c false' returned a
 * non-zero code: 1"), no tag is moved, and the steps completed so far stay in the cache. */
int build_run (struct engine *e, const struct build_opts *o, char id[DIGEST_STR_LEN], berr_t *err);

#endif
