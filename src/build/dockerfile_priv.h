/* dockerfile_priv.h — helpers shared by the parser's files (not part of the API). */
#ifndef BERTH_BUILD_DOCKERFILE_PRIV_H
#define BERTH_BUILD_DOCKERFILE_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Go's utf8.DecodeRune: invalid input decodes as U+FFFD of width 1. */
uint32_t df_utf8_decode (const unsigned char *s, size_t len, size_t *width);
/* unicode.IsSpace */
bool df_rune_is_space (uint32_t r);

#endif
