#include "digest.h"

#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

void sha256_init (struct sha256 *h)
{
  EVP_MD_CTX *c = EVP_MD_CTX_new ();
  if (c == NULL || EVP_DigestInit_ex (c, EVP_sha256 (), NULL) != 1)
    abort ();
  h->ctx = c;
}

void sha256_update (struct sha256 *h, const void *data, size_t len)
{
  if (len)
    EVP_DigestUpdate ((EVP_MD_CTX *)h->ctx, data, len);
}

void sha256_final (struct sha256 *h, char out[DIGEST_STR_LEN])
{
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  static const char hexd[] = "0123456789abcdef";
  EVP_DigestFinal_ex ((EVP_MD_CTX *)h->ctx, md, &n);
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
    EVP_MD_CTX_free ((EVP_MD_CTX *)h->ctx);
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
