/* gpus_ldcache.c — a reader for glibc's /etc/ld.so.cache, to find the NVIDIA driver's libraries
 * the way the loader would. The file is untrusted input (a driver root can be anything): every
 * count, offset and string is checked against the buffer before use.
 *
 * Layouts (glibc sysdeps/generic/dl-cache.h):
 *   old:  "ld.so-1.7.0" (padded to 12) | u32 nlibs | {i32 flags; u32 key, value}[nlibs] | strings
 *         (offsets from the end of the entry table)
 *   new:  "glibc-ld.so.cache" "1.1" | u32 nlibs | u32 len_strings | u8 flags | u8 pad[3]
 *         | u32 extension_offset | u32 unused[3]
 *         | {i32 flags; u32 key, value; u32 osversion; u64 hwcap}[nlibs] | strings
 *         (offsets from the start of this header)
 *   compat: an old table, then (aligned to 4) a new one; the new one is preferred. */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "gpu/gpus.h"

#define OLD_MAGIC "ld.so-1.7.0"
#define OLD_HEADER 16
#define OLD_ENTRY 12
#define NEW_MAGIC "glibc-ld.so.cache1.1"
#define NEW_HEADER 48
#define NEW_ENTRY 24
#define MAX_STRING 4096

/* Header flags byte of the new layout: which byte order wrote it (0: not recorded). */
#define NEW_FLAGS_ENDIAN_MASK 3
#define NEW_FLAGS_LITTLE 2
#define NEW_FLAGS_BIG 3

#define FLAG_TYPE_MASK 0x00ff
#define FLAG_ELF_LIBC6 0x0003
#define FLAG_REQUIRED_MASK 0xff00
#define FLAG_X8664_LIB64 0x0300
#define FLAG_AARCH64_LIB64 0x0a00
#define FLAG_RISCV_FLOAT_ABI_DOUBLE 0x1000 /* with the riscv 64-bit bits */

bool gpu_ldcache_native (int32_t flags)
{
  if ((flags & FLAG_TYPE_MASK) != FLAG_ELF_LIBC6)
    return false;
#if defined(__x86_64__) && defined(__LP64__)
  return (flags & FLAG_REQUIRED_MASK) == FLAG_X8664_LIB64;
#elif defined(__aarch64__)
  return (flags & FLAG_REQUIRED_MASK) == FLAG_AARCH64_LIB64;
#else
  /* Other ABIs: any libc6 entry; the loader itself would reject a mismatch at dlopen. */
  return true;
#endif
}

static uint32_t rd32 (const char *p)
{
  uint32_t v;
  memcpy (&v, p, sizeof (v));
  return v;
}

static uint64_t rd64 (const char *p)
{
  uint64_t v;
  memcpy (&v, p, sizeof (v));
  return v;
}

/* The NUL-terminated string at base+off, wholly inside [0, len), at most MAX_STRING long. */
static const char *string_at (const char *data, size_t len, size_t base, uint32_t off)
{
  size_t start = base + off, room;
  const char *nul;

  if (start < base || start >= len)
    return NULL;
  room = len - start;
  if (room > MAX_STRING + 1)
    room = MAX_STRING + 1;
  nul = memchr (data + start, '\0', room);
  if (!nul || nul == data + start)
    return NULL;
  return data + start;
}

void gpu_ldcache_free (struct gpu_ldcache_entry *entries, size_t n)
{
  for (size_t i = 0; entries && i < n; i++)
    {
      free (entries[i].key);
      free (entries[i].value);
    }
  free (entries);
}

static int parse_table (const char *data, size_t len, size_t table, uint32_t nlibs,
                        size_t entry_size, size_t strbase, const char *what,
                        struct gpu_ldcache_entry **out, size_t *n, berr_t *err)
{
  struct gpu_ldcache_entry *e;

  if (table > len || nlibs > (len - table) / entry_size)
    return berr_setk (err, BERR_CORRUPT, 0, "ld.so.cache: %s table of %u entries overruns the file",
                      what, nlibs);
  e = xcalloc (nlibs ? nlibs : 1, sizeof (*e));
  for (uint32_t i = 0; i < nlibs; i++)
    {
      const char *p = data + table + (size_t)i * entry_size;
      const char *k = string_at (data, len, strbase, rd32 (p + 4));
      const char *v = string_at (data, len, strbase, rd32 (p + 8));

      if (!k || !v)
        {
          gpu_ldcache_free (e, i);
          return berr_setk (err, BERR_CORRUPT, 0,
                            "ld.so.cache: %s entry %u has a string outside the file", what, i);
        }
      e[i].flags = (int32_t)rd32 (p);
      e[i].key = xstrdup (k);
      e[i].value = xstrdup (v);
      e[i].hwcap = entry_size == NEW_ENTRY ? rd64 (p + 16) : 0;
    }
  *out = e;
  *n = nlibs;
  return 0;
}

static int parse_new (const char *data, size_t len, size_t at, struct gpu_ldcache_entry **out,
                      size_t *n, berr_t *err)
{
  const char *h = data + at;
  unsigned endian;

  if (len - at < NEW_HEADER)
    return berr_setk (err, BERR_CORRUPT, 0, "ld.so.cache: truncated header");
  endian = (unsigned char)h[28] & NEW_FLAGS_ENDIAN_MASK;
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
  if (endian == NEW_FLAGS_BIG)
#else
  if (endian == NEW_FLAGS_LITTLE)
#endif
    return berr_setk (err, BERR_CORRUPT, 0, "ld.so.cache: written for the other byte order");
  return parse_table (data, len, at + NEW_HEADER, rd32 (h + 20), NEW_ENTRY, at, "new", out, n, err);
}

int gpu_ldcache_parse (const char *data, size_t len, struct gpu_ldcache_entry **entries, size_t *n,
                       berr_t *err)
{
  *entries = NULL;
  *n = 0;
  if (len >= strlen (NEW_MAGIC) && memcmp (data, NEW_MAGIC, strlen (NEW_MAGIC)) == 0)
    return parse_new (data, len, 0, entries, n, err);

  if (len >= OLD_HEADER && memcmp (data, OLD_MAGIC, strlen (OLD_MAGIC)) == 0)
    {
      uint32_t nlibs = rd32 (data + 12);
      size_t end;

      if (nlibs > (len - OLD_HEADER) / OLD_ENTRY)
        return berr_setk (err, BERR_CORRUPT, 0,
                          "ld.so.cache: old table of %u entries overruns the file", nlibs);
      end = OLD_HEADER + (size_t)nlibs * OLD_ENTRY;
      /* compat: the new table follows, aligned to 4 (the alignment of its header). */
      {
        size_t at = (end + 3) & ~(size_t)3;
        if (at < len && len - at >= strlen (NEW_MAGIC)
            && memcmp (data + at, NEW_MAGIC, strlen (NEW_MAGIC)) == 0)
          return parse_new (data, len, at, entries, n, err);
      }
      return parse_table (data, len, OLD_HEADER, nlibs, OLD_ENTRY, end, "old", entries, n, err);
    }
  return berr_setk (err, BERR_CORRUPT, 0, "ld.so.cache: not a glibc loader cache");
}
