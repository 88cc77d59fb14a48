/* lazynft.c — libnftables, loaded on first use.
 *
 * Only commands that change the network need nftables, and libnftables pulls in libnftnl,
 * libxtables, libgmp and friends; binding it with dlopen("libnftables.so.1") the first time it is
 * needed keeps every other command's start-up free of them (as lazycurl.c does for libcurl). The
 * prototypes come from <nftables/libnftables.h>, so a mismatch is a compile error. */
#include <nftables/libnftables.h>

#include "net/lazynft.h"
#include "util/lazylib.h"

static struct lazylib lib = { "libnftables.so.1", NULL };

int lazy_nft_load (berr_t *err) { return lazylib_open (&lib, err); }

/* fn_: the real function, looked up once; its type is taken from libnftables.h. */
#define NFT_FN(name)                                                                               \
  static __typeof__ (&name) fn_;                                                                   \
  if (fn_ == NULL)                                                                                 \
  fn_ = (__typeof__ (&name))lazylib_sym (&lib, #name)

struct nft_ctx *nft_ctx_new (uint32_t flags)
{
  NFT_FN (nft_ctx_new);
  return fn_ (flags);
}

void nft_ctx_free (struct nft_ctx *ctx)
{
  NFT_FN (nft_ctx_free);
  fn_ (ctx);
}

int nft_ctx_buffer_output (struct nft_ctx *ctx)
{
  NFT_FN (nft_ctx_buffer_output);
  return fn_ (ctx);
}

int nft_ctx_buffer_error (struct nft_ctx *ctx)
{
  NFT_FN (nft_ctx_buffer_error);
  return fn_ (ctx);
}

const char *nft_ctx_get_output_buffer (struct nft_ctx *ctx)
{
  NFT_FN (nft_ctx_get_output_buffer);
  return fn_ (ctx);
}

const char *nft_ctx_get_error_buffer (struct nft_ctx *ctx)
{
  NFT_FN (nft_ctx_get_error_buffer);
  return fn_ (ctx);
}

int nft_run_cmd_from_buffer (struct nft_ctx *nft, const char *buf)
{
  NFT_FN (nft_run_cmd_from_buffer);
  return fn_ (nft, buf);
}
