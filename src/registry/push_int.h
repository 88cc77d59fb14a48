/* push_int.h — the pieces of a push shared by src/registry/push*.c and their unit tests:
 * deterministic layer compression (push_compress.c), manifest writing (push_manifest.c) and the
 * store query the push needs (src/store/store_push.c). Not for use outside the push. */
#ifndef BERTH_PUSH_INT_H
#define BERTH_PUSH_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "image/layer.h"
#include "store/store.h"

enum push_comp_kind
{
  PUSH_GZIP,
  PUSH_ZSTD,
};

/* A compressor writing to out_fd while hashing what it writes. The output depends only on the
 * bytes given (never on how they were split into writes): input is cut into fixed chunks, and
 * for gzip each chunk that looks incompressible (byte entropy) is stored instead of deflated —
 * random data deflates at a few tens of MB/s for nothing. The gzip header has no name and no
 * mtime. Several compressors may run at once in different threads. */
struct push_comp;
int push_comp_new (enum push_comp_kind kind, int out_fd, struct push_comp **out, berr_t *err);
/* layer_write_fn: 0, or -1 with errno set (push_comp_finish then reports the error). */
int push_comp_write (void *cookie, const void *buf, size_t len);
/* Flush the end of the stream; digest and size describe everything written to out_fd. */
int push_comp_finish (struct push_comp *c, char digest[DIGEST_STR_LEN], int64_t *size, berr_t *err);
void push_comp_free (struct push_comp *c);

/* Write the layer's uncompressed tar (from its stored blob, its tar-split, or its unpacked tree)
 * through wr; fails when what was written is not the diff_id's tar. */
int push_layer_tar (struct store *s, const struct layer_info *li, layer_write_fn wr, void *cookie,
                    berr_t *err);
/* push_layer_tar through a compressor into out_fd. */
int push_compress_layer (struct store *s, const struct layer_info *li, enum push_comp_kind kind,
                         int out_fd, char digest[DIGEST_STR_LEN], int64_t *size, berr_t *err);

/* A descriptor to write into a manifest. */
struct push_desc
{
  const char *media_type;
  const char *digest;
  int64_t size;
  char *const *urls; /* foreign layers, or NULL */
};
/* The manifest as Docker's distribution writes it (3-space indent, keys schemaVersion,
 * mediaType, config, layers; descriptors mediaType, size, digest[, urls]): Docker schema 2, or
 * an OCI image manifest when oci. Caller frees. */
char *push_manifest_write (bool oci, const struct push_desc *config, const struct push_desc *layers,
                           size_t n, size_t *len);

/* store_push.c: the digest of the manifest stored with image id (a pulled image): 0 found, 1
 * none, -1 error. */
int store_image_manifest (struct store *s, const char *id, char out[DIGEST_STR_LEN], berr_t *err);

#endif
