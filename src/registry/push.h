/* push.h — push an image from the store to a registry.
 *
 * The manifest: when the image came from a pull and the store still holds the manifest and
 * every blob it names, that very manifest is pushed (same digest as the source). Otherwise a
 * Docker schema 2 manifest is written with the stored compressed blobs where they exist and new
 * gzip (or zstd: reg_config.push_compression) blobs for layers stored uncompressed; the
 * compression runs in parallel (reg_config.max_uploads), and the mapping diff_id -> compressed
 * blob is recorded (store_blob_map_put) so a second push sends the same digests. Per blob: HEAD
 * (exists -> "Layer already exists"), else a cross-repository mount from a repository of the
 * same registry the blob was pulled from or pushed to, else an upload (monolithic, or chunked
 * when the config asks). The config blob, then the manifest PUT under the tag, its digest
 * verified. The local image is never changed by a failed push (B9). */
#ifndef BERTH_PUSH_H
#define BERTH_PUSH_H

#include "registry/progress.h"
#include "registry/registry.h"
#include "store/store.h"

struct push_opts
{
  const struct reg_config *cfg;
  size_t chunk_size; /* 0: monolithic uploads */
  bool all_tags;     /* -a: every local tag of the repository */
  reg_progress_fn progress;
  void *cookie;
};

struct push_result
{
  char *tag;                   /* "latest" */
  char digest[DIGEST_STR_LEN]; /* the manifest digest */
  int64_t size;                /* the manifest's size ("latest: digest: sha256:… size: 527") */
};
void push_results_free (struct push_result *r, size_t n);

/* Push name ("registry:5000/team/app:1.0"; no tag means ":latest", as Docker 20.10+; with
 * all_tags, name has no tag and every local tag of the repository is pushed, in tag order). */
int image_push (struct store *s, const char *name, const struct push_opts *o,
                struct push_result **results, size_t *n, berr_t *err);

#endif
