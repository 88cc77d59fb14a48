/* lazynft.h — libnftables, bound on first use (see lazynft.c). */
#ifndef BERTH_NET_LAZYNFT_H
#define BERTH_NET_LAZYNFT_H

#include "util/err.h"

/* Make sure libnftables can be used; call before the first nft_* call. A missing library is an
 * ordinary error ("cannot load libnftables.so.1: …"). */
int lazy_nft_load (berr_t *err);

#endif
