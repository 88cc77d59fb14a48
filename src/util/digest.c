/* SHA-256 with OpenSSL's libcrypto, two choices made for start-up time:
 *  - the direct SHA256_* functions rather than EVP: the first EVP digest of a process
 *    initialises OpenSSL 3's provider machinery, ~1.6 ms measured here — more than a whole
 *    `berth ps`. The direct functions use the same assembly (SHA-NI/AVX2) and cost ~20 µs the
 *    first time. They are marked deprecated in OpenSSL 3 but remain part of its API.
 *  - libcrypto bound on first use (util/lazylib.h): merely linking it costs every berth process
 *    ~0.7 ms of relocations and constructors, and `run`, `exec`, `ps` never hash anything. */
#define OPENSSL_SUPPRESS_DEPRECATED
#include "digest.h"

#include <openssl/crypto.h>
#include <openssl/sha.h>
#include <stdlib.h>
#include <string.h>

#include "util/lazylib.h"

static struct lazylib crypto = { "libcrypto.so.3", NULL };
static int (*p_init) (SHA256_CTX *);
static int (*p_update) (SHA256_CTX *, const void *, size_t);
static int (*p_final) (unsigned char *, SHA256_CTX *);
static void (*p_cleanse) (void *, size_t);

static void bind_crypto (void)
{
  if (p_init)
    return;
  p_update = (int (*) (SHA256_CTX *, const void *, size_t))lazylib_sym (&crypto, "SHA256_Update");
  p_final = (int (*) (unsigned char *, SHA256_CTX *))lazylib_sym (&crypto, "SHA256_Final");
  p_cleanse = (void (*) (void *, size_t))lazylib_sym (&crypto, "OPENSSL_cleanse");
  /* last: the others are set when another thread sees it */
  __atomic_store_n (&p_init, (int (*) (SHA256_CTX *))lazylib_sym (&crypto, "SHA256_Init"),
                    __ATOMIC_RELEASE);
}

void sha256_init (struct sha256 *h)
{
  bind_crypto ();
  SHA256_CTX *c = xmalloc (sizeof *c);
  if (p_init (c) != 1)
    abort ();
  h->ctx = c;
}

void sha256_update (struct sha256 *h, const void *data, size_t len)
{
  if (len)
    p_update ((SHA256_CTX *)h->ctx, data, len);
}

void sha256_final (struct sha256 *h, char out[DIGEST_STR_LEN])
{
  unsigned char md[SHA256_DIGEST_LENGTH];
  unsigned int n = SHA256_DIGEST_LENGTH;
  static const char hexd[] = "0123456789abcdef";
  p_final (md, (SHA256_CTX *)h->ctx);
  memcpy (out, "sha256:", 7);
  for (unsigned i = 0; i < n && i < 32; i++)
    {
      out[7 + 2 * i] = hexd[md[i] >> 4];
      out[7 + 2 * i + 1] = hexd[md[i] & 15];
    }
  out[7 + 64] = '\0';
  sha256_release (h);
}

void sha256_release (struct sha256 *h)
{
  if (h->ctx)
    {
      p_cleanse (h->ctx, sizeof (SHA256_CTX));
      free (h->ctx);
    }
  h->ctx = NULL;
}

void sha256_digest (const void *data, size_t len, char out[DIGEST_STR_LEN])
{
  struct sha256 h;
  sha256_init (&h);
  sha256_update (&h, data, len);
  sha256_final (&h, out);
}

bool digest_is_valid (const char *s)
{
  return s && strncmp (s, "sha256:", 7) == 0 && strlen (s) == 7 + DIGEST_HEX_LEN
         && str_is_hex (s + 7, DIGEST_HEX_LEN);
}

int digest_check (const char *s, berr_t *err)
{
  if (digest_is_valid (s))
    return 0;
  if (s && strncmp (s, "sha256:", 7) != 0 && strchr (s, ':'))
    return berr_setk (err, BERR_INVALID, 0, "unsupported digest algorithm: %s", s);
  return berr_setk (err, BERR_INVALID, 0, "invalid digest: \"%s\"", s ? s : "");
}
