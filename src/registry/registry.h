/* registry.h — the Docker Registry HTTP API v2 / OCI distribution client (transport and auth).
 *
 * One reg_session talks to one registry host ("docker.io", "localhost:5000", "[::1]:5000").
 * It owns libcurl handles (connections, DNS and TLS sessions reused across requests and threads),
 * the credentials found for the host (creds.h), and the Bearer tokens it obtained, cached per
 * scope ("repository:library/busybox:pull"). Every request function is safe to call from several
 * threads on the same session at once (pull and push move layers in parallel).
 *
 * Endpoint rules (Docker's): "docker.io" -> https://registry-1.docker.io (mirrors first, see
 * reg_config); TLS with the system CAs plus /etc/docker/certs.d/<host[:port]>/ (*.crt CAs,
 * client.cert/client.key pairs); plain HTTP for localhost/127.0.0.0/8/::1 and for hosts listed as
 * insecure (tried after https fails, as Docker does).
 *
 * Security rules (../shared/research/security-reliability.md B3–B8):
 * - Digests are parsed strictly (digest.h) before they become a URL path.
 * - Bodies read into memory are bounded (manifests 4 MiB, error bodies 64 KiB, token replies
 *   1 MiB); streamed blobs stop with an error at expected size + 1.
 * - Redirects are followed by the client itself (at most 10), and Authorization is never sent
 *   to a host other than the registry's own host or the token realm the registry announced in
 *   its own 401 (basic credentials reach a realm on another host only over https). A 401 coming
 *   from a redirect target is an error, never answered with credentials.
 * - Transient failures (connect errors, resets, 408/429/5xx, stalls below 1 byte/s for
 *   low_speed_time) are retried with exponential backoff up to max_attempts; a blob read that
 *   fails mid-stream resumes with a Range request so the caller sees one continuous stream.
 */
#ifndef BERTH_REGISTRY_H
#define BERTH_REGISTRY_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <jansson.h>

#include "util/err.h"

struct reg_config
{
  char **insecure;         /* "insecure-registries": "host:port" or CIDR ("10.0.0.0/8") */
  char **mirrors;          /* "registry-mirrors": base URLs, used for docker.io only */
  char *certs_dir;         /* "registry-certs-dir", default /etc/docker/certs.d */
  char *docker_config_dir; /* $DOCKER_CONFIG, else ~/.docker (creds.h) */
  int max_attempts;        /* "max-download-attempts", default 5 */
  int max_downloads;       /* "max-concurrent-downloads", default 3 */
  int max_uploads;         /* "max-concurrent-uploads", default 5 */
  long connect_timeout_s;  /* default 30 */
  long low_speed_time_s;   /* a transfer below 1 B/s this long is a stall; default 30 */
  char *push_compression;  /* "push-compression": "gzip" (default) or "zstd" */
  int push_chunk_size;     /* "push-chunk-size" (bytes): > 0 uploads in PATCH chunks; 0 one PUT */
};
/* Fill cfg from berth's config file object (keys above; missing keys get the defaults) and the
 * environment ($DOCKER_CONFIG, $HOME). A key of the wrong type is an error naming it. */
int reg_config_load (const json_t *config, struct reg_config *cfg, berr_t *err);
void reg_config_release (struct reg_config *cfg);

struct reg_session;
/* domain: a reference's domain ("docker.io", "localhost:5000"). No network traffic happens
 * here; the endpoint is chosen on the first request. */
int reg_session_open (const struct reg_config *cfg, const char *domain, struct reg_session **out,
                      berr_t *err);
void reg_session_free (struct reg_session *s);
/* Use these credentials instead of the ones in the Docker config file (login). */
int reg_session_set_credentials (struct reg_session *s, const char *username, const char *password,
                                 berr_t *err);
/* The key this registry's credentials have in Docker's config file:
 * "https://index.docker.io/v1/" for docker.io, the domain otherwise. */
const char *reg_session_creds_key (struct reg_session *s);
/* Ask for scope ("repository:x:pull,push repository:y:pull") in every token this session fetches
 * from now on, so that one token serves a whole push (its repository and each mount source)
 * instead of one per scope. A cached token serves any request whose scope it covers. */
void reg_session_add_scope (struct reg_session *s, const char *scope);
/* Retry backoff: first_ms doubling up to max_ms (defaults 500 and 8000; tests shorten them). */
void reg_session_set_retry_delay (struct reg_session *s, long first_ms, long max_ms);

/* GET /v2/ with authentication (login's check). An identity token returned by the token server
 * for the credentials is stored in *identity_token (may be NULL; caller frees). */
int reg_ping (struct reg_session *s, char **identity_token, berr_t *err);

/* ---- manifests ---- */
struct reg_manifest
{
  char *body; /* exactly the bytes received */
  size_t len;
  char *media_type; /* Content-Type, parameters stripped */
  char digest[72];  /* sha256 of body, verified against Docker-Content-Digest when sent and
                       against reference when it is a digest */
};
void reg_manifest_release (struct reg_manifest *m);
/* GET (or HEAD when head_only: body NULL) /v2/<repo>/manifests/<reference>, Accept: every
 * manifest and index type berth reads. 404 -> BERR_NOT_FOUND with the registry's message
 * ("manifest unknown"). Scope repository:<repo>:pull. */
int reg_manifest_get (struct reg_session *s, const char *repo, const char *reference,
                      bool head_only, struct reg_manifest *out, berr_t *err);
/* PUT a manifest under a tag or digest. The registry's Docker-Content-Digest, when sent, must
 * equal the sha256 of body (else an error naming both). Scope pull,push. */
int reg_manifest_put (struct reg_session *s, const char *repo, const char *reference,
                      const char *media_type, const char *body, size_t len, berr_t *err);
/* GET /v2/<repo>/tags/list, following Link pagination (bounded: 100,000 tags). */
int reg_tags_list (struct reg_session *s, const char *repo, char ***tags, berr_t *err);

/* ---- blobs ---- */
/* HEAD /v2/<repo>/blobs/<digest>: 1 present (size set when size != NULL), 0 absent, -1 error. */
int reg_blob_exists (struct reg_session *s, const char *repo, const char *digest, int64_t *size,
                     berr_t *err);

/* A streamed blob GET. size is the descriptor's size: the reader fails at size + 1 bytes and
 * when the stream ends short. The caller checks the digest of what it read. */
struct reg_blob_reader;
int reg_blob_open (struct reg_session *s, const char *repo, const char *digest, int64_t size,
                   struct reg_blob_reader **out, berr_t *err);
/* layer_read_fn-compatible: bytes read, 0 at the end, -1 on error (reg_blob_error tells why). */
ssize_t reg_blob_read (void *reader, void *buf, size_t len);
/* The error that made reg_blob_read fail ("GET …/blobs/sha256:…: stalled for 30 s"). */
void reg_blob_error (struct reg_blob_reader *r, berr_t *err);
uint64_t reg_blob_bytes_read (struct reg_blob_reader *r);
void reg_blob_close (struct reg_blob_reader *r);

/* Try a cross-repository mount (POST …/blobs/uploads/?mount=<digest>&from=<from_repo>):
 * 1 mounted, 0 not (the upload session the registry opened instead is cancelled), -1 error. */
int reg_blob_mount (struct reg_session *s, const char *repo, const char *digest,
                    const char *from_repo, berr_t *err);

/* Upload a blob whose digest and size are known. read_fn is called until it returns 0; it may
 * be called again from the start after rewind_fn (a retried upload). chunk_size 0: one
 * monolithic PUT (POST then PUT ?digest= with the body); > 0: PATCH chunks of that size with
 * Content-Range, then a PUT ?digest=. progress (may be NULL) sees the bytes sent so far.
 * The registry's Docker-Content-Digest on 201 must equal digest. */
struct reg_upload
{
  const char *digest;
  int64_t size;
  ssize_t (*read_fn) (void *cookie, void *buf, size_t len);
  int (*rewind_fn) (void *cookie);
  void *cookie;
  size_t chunk_size;
  void (*progress) (void *cookie, uint64_t sent);
  void *progress_cookie;
};
int reg_blob_upload (struct reg_session *s, const char *repo, const struct reg_upload *up,
                     berr_t *err);

#endif
