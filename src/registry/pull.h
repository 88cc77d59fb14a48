/* pull.h — pull an image from a registry into the store.
 *
 * Resolve the reference (docker.io/library/ defaults), GET the manifest (tag or digest), choose
 * the platform from an index, GET and verify the config, then fetch the layers the store lacks
 * in parallel (reg_config.max_downloads): each blob is streamed once through size and digest
 * checks, decompression, diff_id hashing and unpacking into the staging area (layer_apply with
 * blob_fd, so the compressed bytes are kept for a later push with the same digest). A layer is
 * "already there" when a stored layer has that blob digest (store_layer_by_blob). Two pulls of
 * the same blob at once: the second waits on the blob's lock (store_blob_lock) and then finds
 * it stored, so each layer is downloaded once. Nothing is tagged unless everything verified:
 * config digest, layer digests and sizes, diff_ids against the config (B1, B2). The image,
 * manifest blob, repo digest and tag are committed in one store transaction. */
#ifndef BERTH_PULL_H
#define BERTH_PULL_H

#include "registry/progress.h"
#include "registry/registry.h"
#include "store/store.h"

struct pull_opts
{
  const struct reg_config *cfg;
  const char *platform;    /* "linux/amd64", NULL for the host's */
  uint64_t max_layer_size; /* bound on each layer's uncompressed size; 0 none */
  reg_progress_fn progress;
  void *cookie;
};

struct pull_result
{
  char id[DIGEST_STR_LEN];     /* image ID (config digest) */
  char digest[DIGEST_STR_LEN]; /* the manifest's digest (Docker's "Digest:" line) */
  char *name;                  /* full name pulled: "docker.io/library/busybox:latest" */
  bool up_to_date;             /* nothing new: Docker's "Image is up to date for …" */
};
void pull_result_release (struct pull_result *r);

/* Pull one reference (tag or digest; ":latest" added when neither). */
int image_pull (struct store *s, const char *reference, const struct pull_opts *o,
                struct pull_result *res, berr_t *err);

/* --all-tags: every tag of the repository (reference must be a name without tag or digest).
 * results/n receive one result per tag pulled; after each tag a "Digest: sha256:…" RP_MESSAGE
 * goes to the progress callback, as docker's stream has it. */
int image_pull_all_tags (struct store *s, const char *repository, const struct pull_opts *o,
                         struct pull_result **results, size_t *n, berr_t *err);

/* The line docker prints for an event into a pipe ("a1b2c3d4e5f6: Pull complete", or the
 * message of RP_MESSAGE); NULL for events that only carry byte counts (caller frees). For
 * outputs that are no terminal and not the CLI's renderer (build's step output). */
char *pull_progress_line (const struct reg_progress *p);

#endif
