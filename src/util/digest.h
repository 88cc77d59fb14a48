/* digest.h — SHA-256 (OpenSSL EVP) and strict digest strings ("sha256:" + 64 lowercase hex). */
#ifndef BERTH_DIGEST_H
#define BERTH_DIGEST_H

#include "err.h"

#define DIGEST_HEX_LEN 64
/* "sha256:" + 64 hex + NUL */
#define DIGEST_STR_LEN 72

struct sha256
{
  void *ctx; /* SHA256_CTX */
};

void sha256_init (struct sha256 *h);
void sha256_update (struct sha256 *h, const void *data, size_t len);
/* Writes "sha256:<hex>" into out (DIGEST_STR_LEN bytes) and releases the context. */
void sha256_final (struct sha256 *h, char out[DIGEST_STR_LEN]);
void sha256_release (struct sha256 *h);
/* One-shot: out = "sha256:<hex>". */
void sha256_digest (const void *data, size_t len, char out[DIGEST_STR_LEN]);

/* Strict parse before a digest becomes a path or URL (CVE-2014-9358, CVE-2021-21285):
 * only "sha256:" followed by exactly 64 lowercase hex digits. */
bool digest_is_valid (const char *s);
int digest_check (const char *s, berr_t *err);
/* Pointer to the 64 hex digits of a valid digest. */
static inline const char *digest_hex (const char *d) { return d + 7; }

#endif
