/* manifest.h — image manifests and indexes as registries serve them, checked strictly.
 *
 * Types: Docker schema 2 manifest and manifest list, OCI image manifest and index. A document is
 * rejected when it is ambiguous (both "manifests" and "layers"/"config", CVE-2021-41190), when
 * its own "mediaType" disagrees with the Content-Type it came with, when a digest does not parse
 * (digest.h's strict rules: B3), a size is negative, or it is over the limits (MANIFEST_MAX
 * bytes, MANIFEST_MAX_LAYERS layers, MANIFEST_MAX_ENTRIES index entries). Schema 1 manifests get
 * Docker's "not supported" message. */
#ifndef BERTH_MANIFEST_H
#define BERTH_MANIFEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/digest.h"
#include "util/err.h"

#define MANIFEST_MAX (4u << 20)
#define MANIFEST_MAX_LAYERS 1000
#define MANIFEST_MAX_ENTRIES 1000

#define MT_DOCKER_MANIFEST "application/vnd.docker.distribution.manifest.v2+json"
#define MT_DOCKER_LIST "application/vnd.docker.distribution.manifest.list.v2+json"
#define MT_DOCKER_CONFIG "application/vnd.docker.container.image.v1+json"
#define MT_DOCKER_LAYER_GZIP "application/vnd.docker.image.rootfs.diff.tar.gzip"
#define MT_DOCKER_LAYER_FOREIGN "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip"
#define MT_OCI_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define MT_OCI_INDEX "application/vnd.oci.image.index.v1+json"
#define MT_OCI_CONFIG "application/vnd.oci.image.config.v1+json"
#define MT_OCI_LAYER "application/vnd.oci.image.layer.v1.tar"
#define MT_OCI_LAYER_GZIP "application/vnd.oci.image.layer.v1.tar+gzip"
#define MT_OCI_LAYER_ZSTD "application/vnd.oci.image.layer.v1.tar+zstd"

/* The Accept header value listing every type above that is a manifest or an index. */
extern const char manifest_accept[];

enum manifest_kind
{
  MANIFEST_IMAGE, /* Docker schema 2 or OCI image manifest */
  MANIFEST_INDEX, /* Docker manifest list or OCI index */
};

struct manifest_desc
{
  char *media_type;
  char digest[DIGEST_STR_LEN];
  int64_t size;
  char **urls; /* foreign layer URLs (never fetched; kept so a push writes them back) */
  char *os;    /* index entries: platform, or NULL */
  char *arch;
  char *variant;
};

struct manifest
{
  enum manifest_kind kind;
  char *media_type;
  struct manifest_desc config; /* MANIFEST_IMAGE */
  struct manifest_desc *layers;
  size_t nlayers;
  struct manifest_desc *entries; /* MANIFEST_INDEX */
  size_t nentries;
};
void manifest_release (struct manifest *m);

/* content_type: the HTTP Content-Type (parameters stripped), or NULL when unknown. */
int manifest_parse (const char *body, size_t len, const char *content_type, struct manifest *out,
                    berr_t *err);

/* Pick the index entry for platform "os/arch[/variant]" (NULL: the host's, as image_host_arch
 * says; a missing variant matches as containerd's platform matcher does: arm64 = arm64/v8,
 * arm -> v7 then v6 then v5). No match: Docker's "no matching manifest for linux/amd64 in the
 * manifest list entries". */
int manifest_select (const struct manifest *index, const char *platform,
                     const struct manifest_desc **out, berr_t *err);

/* Whether a body (or its Content-Type) is a schema 1 manifest: pull names the image in
 * Docker's "not supported" message. */
bool manifest_is_schema1 (const char *body, size_t len, const char *content_type);

/* A layer media type berth can unpack (tar, gzip, zstd; Docker and OCI names). */
bool manifest_layer_type_ok (const char *media_type);

#endif
