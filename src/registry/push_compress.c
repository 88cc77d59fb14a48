/* push_compress.c — layers compressed for a push: deterministic gzip (zlib) or zstd (libzstd),
 * hashed as they are written, from the layer's tar as the store can give it back.
 *
 * zlib and libzstd are bound on first use (lazylib), as libarchive and libcurl are: only a push
 * needs them, and every other command would pay for loading them at start-up. */
#include "registry/push_int.h"

#include <archive.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include "util/fs.h"
#include "util/lazylib.h"
#include "util/util.h"

/* The unit the gzip level is chosen for. Fixed, so that the output does not depend on how the
 * input was cut into writes. */
#define CHUNK (128u << 10)
#define OUTBUF (256u << 10)
/* Deflate level for compressible chunks: zlib's default, as Docker's push uses. */
#define GZIP_LEVEL 6
#define ZSTD_LEVEL 3
/* Bits per byte above which a chunk is stored (compressed or random data): 7.8, as 2^-7.8 in
 * parts per million. */
#define ENTROPY_STORE 7.8
#define ENTROPY_STORE_PPM 4487u

static struct lazylib zlib_lib = { "libz.so.1", NULL };
static struct lazylib zstd_lib = { "libzstd.so.1", NULL };
static pthread_mutex_t bind_lock = PTHREAD_MUTEX_INITIALIZER;

static struct
{
  bool bound;
  __typeof__ (&deflateInit2_) init2;
  __typeof__ (&deflate) deflate;
  __typeof__ (&deflateParams) params;
  __typeof__ (&deflateEnd) end;
} Z;

static struct
{
  bool bound;
  __typeof__ (&ZSTD_createCCtx) create;
  __typeof__ (&ZSTD_freeCCtx) free;
  __typeof__ (&ZSTD_CCtx_setParameter) set;
  __typeof__ (&ZSTD_compressStream2) stream;
  __typeof__ (&ZSTD_isError) is_error;
  __typeof__ (&ZSTD_getErrorName) error_name;
} ZS;

static int bind_libs (enum push_comp_kind kind, berr_t *err)
{
  int ret = 0;
  pthread_mutex_lock (&bind_lock);
  if (kind == PUSH_GZIP && !Z.bound)
    {
      if (lazylib_open (&zlib_lib, err) < 0)
        ret = -1;
      else
        {
          Z.init2 = (__typeof__ (Z.init2))lazylib_sym (&zlib_lib, "deflateInit2_");
          Z.deflate = (__typeof__ (Z.deflate))lazylib_sym (&zlib_lib, "deflate");
          Z.params = (__typeof__ (Z.params))lazylib_sym (&zlib_lib, "deflateParams");
          Z.end = (__typeof__ (Z.end))lazylib_sym (&zlib_lib, "deflateEnd");
          Z.bound = true;
        }
    }
  if (kind == PUSH_ZSTD && !ZS.bound)
    {
      if (lazylib_open (&zstd_lib, err) < 0)
        ret = -1;
      else
        {
          ZS.create = (__typeof__ (ZS.create))lazylib_sym (&zstd_lib, "ZSTD_createCCtx");
          ZS.free = (__typeof__ (ZS.free))lazylib_sym (&zstd_lib, "ZSTD_freeCCtx");
          ZS.set = (__typeof__ (ZS.set))lazylib_sym (&zstd_lib, "ZSTD_CCtx_setParameter");
          ZS.stream = (__typeof__ (ZS.stream))lazylib_sym (&zstd_lib, "ZSTD_compressStream2");
          ZS.is_error = (__typeof__ (ZS.is_error))lazylib_sym (&zstd_lib, "ZSTD_isError");
          ZS.error_name = (__typeof__ (ZS.error_name))lazylib_sym (&zstd_lib, "ZSTD_getErrorName");
          ZS.bound = true;
        }
    }
  pthread_mutex_unlock (&bind_lock);
  return ret;
}

struct push_comp
{
  enum push_comp_kind kind;
  int fd;
  struct sha256 h;
  bool hashing;
  int64_t size;
  z_stream z;
  bool z_init;
  int level; /* current deflate level */
  ZSTD_CCtx *zc;
  unsigned char *in; /* the chunk being filled */
  size_t in_len;
  unsigned char *out;
  char *error; /* the first failure */
};

static void comp_fail (struct push_comp *c, char *msg)
{
  if (c->error == NULL)
    c->error = msg;
  else
    free (msg);
}

int push_comp_new (enum push_comp_kind kind, int out_fd, struct push_comp **out, berr_t *err)
{
  if (bind_libs (kind, err) < 0)
    return -1;
  struct push_comp *c = xzalloc (sizeof *c);
  c->kind = kind;
  c->fd = out_fd;
  c->in = xmalloc (CHUNK);
  c->out = xmalloc (OUTBUF);
  if (kind == PUSH_GZIP)
    {
      /* windowBits 15+16: a gzip wrapper whose header zlib writes with mtime 0 and no name. */
      c->level = GZIP_LEVEL;
      if (Z.init2 (&c->z, c->level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY, ZLIB_VERSION,
                   (int)sizeof (z_stream))
          != Z_OK)
        {
          push_comp_free (c);
          return berr_set (err, ENOMEM, "gzip: cannot start a stream");
        }
      c->z_init = true;
    }
  else
    {
      c->zc = ZS.create ();
      if (c->zc == NULL || ZS.is_error (ZS.set (c->zc, ZSTD_c_compressionLevel, ZSTD_LEVEL))
          || ZS.is_error (ZS.set (c->zc, ZSTD_c_checksumFlag, 1)))
        {
          push_comp_free (c);
          return berr_set (err, ENOMEM, "zstd: cannot start a stream");
        }
    }
  sha256_init (&c->h);
  c->hashing = true;
  *out = c;
  return 0;
}

void push_comp_free (struct push_comp *c)
{
  if (c == NULL)
    return;
  if (c->z_init)
    Z.end (&c->z);
  if (c->zc)
    ZS.free (c->zc);
  if (c->hashing)
    sha256_release (&c->h);
  free (c->in);
  free (c->out);
  free (c->error);
  free (c);
}

static int emit (struct push_comp *c, size_t n)
{
  if (n == 0)
    return 0;
  sha256_update (&c->h, c->out, n);
  c->size += (int64_t)n;
  if (fs_write_all (c->fd, c->out, n) < 0)
    {
      comp_fail (c, xasprintf ("write compressed layer: %s", strerror (errno)));
      return -1;
    }
  return 0;
}

/* Whether the chunk looks incompressible (random or already compressed), from every fourth
 * byte: its collision entropy (-log2 of the sum of squared byte frequencies) above
 * ENTROPY_STORE bits, computed in integers as sum(h^2) < k^2 * 2^-ENTROPY_STORE. */
static bool incompressible (const unsigned char *p, size_t n)
{
  uint32_t hist[256] = { 0 };
  uint64_t k = 0;
  for (size_t i = 0; i < n; i += 4, k++)
    hist[p[i]]++;
  if (k < 1024)
    return false;
  uint64_t sq = 0;
  for (int i = 0; i < 256; i++)
    sq += (uint64_t)hist[i] * hist[i];
  return sq * 1000000u < k * k * ENTROPY_STORE_PPM;
}

/* Run deflate until it has taken all its input (and, for a flush, given all its output). */
static int z_run (struct push_comp *c, int flush)
{
  for (;;)
    {
      c->z.next_out = c->out;
      c->z.avail_out = OUTBUF;
      int r = Z.deflate (&c->z, flush);
      if (r == Z_STREAM_ERROR)
        {
          comp_fail (c, xstrdup ("gzip: deflate failed"));
          return -1;
        }
      if (emit (c, OUTBUF - c->z.avail_out) < 0)
        return -1;
      if (flush == Z_FINISH ? r == Z_STREAM_END : (c->z.avail_in == 0 && c->z.avail_out != 0))
        return 0;
    }
}

static int gzip_chunk (struct push_comp *c, const unsigned char *p, size_t n)
{
  int want = incompressible (p, n) ? 0 : GZIP_LEVEL;
  if (want != c->level)
    {
      /* Close the current block first: deflateParams needs all pending output gone. */
      c->z.next_in = NULL;
      c->z.avail_in = 0;
      if (z_run (c, Z_BLOCK) < 0)
        return -1;
      int r;
      while ((r = Z.params (&c->z, want, Z_DEFAULT_STRATEGY)) == Z_BUF_ERROR && c->z.avail_out == 0)
        if (z_run (c, Z_BLOCK) < 0)
          return -1;
      if (r == Z_STREAM_ERROR)
        {
          comp_fail (c, xstrdup ("gzip: cannot change the level"));
          return -1;
        }
      c->level = want;
    }
  c->z.next_in = (unsigned char *)p;
  c->z.avail_in = (uInt)n;
  return z_run (c, Z_NO_FLUSH);
}

static int zstd_run (struct push_comp *c, const unsigned char *p, size_t n, ZSTD_EndDirective end)
{
  ZSTD_inBuffer in = { p, n, 0 };
  for (;;)
    {
      ZSTD_outBuffer out = { c->out, OUTBUF, 0 };
      size_t left = ZS.stream (c->zc, &out, &in, end);
      if (ZS.is_error (left))
        {
          comp_fail (c, xasprintf ("zstd: %s", ZS.error_name (left)));
          return -1;
        }
      if (emit (c, out.pos) < 0)
        return -1;
      if (end == ZSTD_e_end ? left == 0 : in.pos == in.size)
        return 0;
    }
}

static int comp_chunk (struct push_comp *c, const unsigned char *p, size_t n)
{
  return c->kind == PUSH_GZIP ? gzip_chunk (c, p, n) : zstd_run (c, p, n, ZSTD_e_continue);
}

int push_comp_write (void *cookie, const void *buf, size_t len)
{
  struct push_comp *c = cookie;
  const unsigned char *p = buf;
  if (c->error)
    {
      errno = EIO;
      return -1;
    }
  while (len)
    {
      /* Whole chunks straight from the caller's buffer when nothing is pending. */
      if (c->in_len == 0 && len >= CHUNK)
        {
          if (comp_chunk (c, p, CHUNK) < 0)
            goto fail;
          p += CHUNK;
          len -= CHUNK;
          continue;
        }
      size_t n = CHUNK - c->in_len < len ? CHUNK - c->in_len : len;
      memcpy (c->in + c->in_len, p, n);
      c->in_len += n;
      p += n;
      len -= n;
      if (c->in_len == CHUNK)
        {
          c->in_len = 0;
          if (comp_chunk (c, c->in, CHUNK) < 0)
            goto fail;
        }
    }
  return 0;
fail:
  errno = EIO;
  return -1;
}

int push_comp_finish (struct push_comp *c, char digest[DIGEST_STR_LEN], int64_t *size, berr_t *err)
{
  if (c->error == NULL && c->in_len)
    comp_chunk (c, c->in, c->in_len);
  c->in_len = 0;
  if (c->error == NULL)
    {
      if (c->kind == PUSH_GZIP)
        {
          c->z.next_in = NULL;
          c->z.avail_in = 0;
          z_run (c, Z_FINISH);
        }
      else
        zstd_run (c, NULL, 0, ZSTD_e_end);
    }
  if (c->error)
    return berr_set (err, 0, "%s", c->error);
  sha256_final (&c->h, digest);
  c->hashing = false;
  *size = c->size;
  return 0;
}

/* ---- the layer's tar ---- */

struct tar_check
{
  layer_write_fn wr;
  void *cookie;
  struct sha256 h;
  uint64_t n;
};

static int check_write (void *cookie, const void *buf, size_t len)
{
  struct tar_check *t = cookie;
  sha256_update (&t->h, buf, len);
  t->n += len;
  return t->wr (t->cookie, buf, len);
}

static int tar_from_file (struct store *s, const struct layer_info *li, struct tar_check *t,
                          berr_t *err)
{
  cleanup_free char *bp = store_blob_path (s, li->blob);
  if (strcmp (li->media_type, "application/vnd.oci.image.layer.v1.tar") == 0)
    {
      /* An uncompressed blob: the tar itself. */
      cleanup_close int fd = open (bp, O_RDONLY | O_CLOEXEC);
      if (fd < 0)
        return berr_set (err, errno, "open %s", bp);
      cleanup_free char *buf = xmalloc (1 << 20);
      for (;;)
        {
          ssize_t n = read (fd, buf, 1 << 20);
          if (n < 0 && errno == EINTR)
            continue;
          if (n < 0)
            return berr_set (err, errno, "read %s", bp);
          if (n == 0)
            return 0;
          if (check_write (t, buf, (size_t)n) < 0)
            return berr_set (err, errno, "compress layer %s", li->diff_id);
        }
    }
  /* A blob compressed some other way (bzip2, xz, or a gzip/zstd blob being recompressed). */
  if (lazy_archive_load (err) < 0)
    return -1;
  int ret = 0;
  struct archive *rd = archive_read_new ();
  layer_add_filters (rd);
  archive_read_support_format_raw (rd);
  struct archive_entry *ae;
  if (archive_read_open_filename (rd, bp, 1 << 20) != ARCHIVE_OK
      || archive_read_next_header (rd, &ae) != ARCHIVE_OK)
    ret = berr_set (err, 0, "read blob %s: %s", li->blob, archive_error_string (rd));
  else
    {
      char *buf = xmalloc (1 << 20);
      la_ssize_t n;
      while ((n = archive_read_data (rd, buf, 1 << 20)) > 0)
        if (check_write (t, buf, (size_t)n) < 0)
          {
            ret = berr_set (err, errno, "compress layer %s", li->diff_id);
            break;
          }
      if (n < 0 && ret == 0)
        ret = berr_set (err, 0, "read blob %s: %s", li->blob, archive_error_string (rd));
      free (buf);
    }
  archive_read_free (rd);
  return ret;
}

int push_layer_tar (struct store *s, const struct layer_info *li, layer_write_fn wr, void *cookie,
                    berr_t *err)
{
  struct tar_check t = { .wr = wr, .cookie = cookie };
  sha256_init (&t.h);
  int ret;
  if (li->blob[0])
    ret = tar_from_file (s, li, &t, err);
  else
    {
      cleanup_free char *dir = store_layer_dir (s, li->diff_id);
      cleanup_close int dfd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      if (dfd < 0)
        ret = berr_set (err, errno, "open %s", dir);
      else if (li->split)
        {
          cleanup_free char *sp = store_layer_split_path (s, li->diff_id);
          cleanup_close int sfd = open (sp, O_RDONLY | O_CLOEXEC);
          if (sfd < 0)
            ret = berr_set (err, errno, "open %s", sp);
          else
            ret = layer_split_replay (sfd, dfd, check_write, &t, err);
        }
      else
        ret = layer_diff (dfd, check_write, &t, NULL, NULL, err);
    }
  char got[DIGEST_STR_LEN];
  sha256_final (&t.h, got);
  if (ret == 0 && (strcmp (got, li->diff_id) != 0 || t.n != (uint64_t)li->tar_size))
    ret = berr_setk (err, BERR_CORRUPT, 0,
                     "layer %s in the store is corrupt: it reads back as %s (%llu bytes)",
                     li->diff_id, got, (unsigned long long)t.n);
  return ret;
}

int push_compress_layer (struct store *s, const struct layer_info *li, enum push_comp_kind kind,
                         int out_fd, char digest[DIGEST_STR_LEN], int64_t *size, berr_t *err)
{
  struct push_comp *c = NULL;
  if (push_comp_new (kind, out_fd, &c, err) < 0)
    return -1;
  int ret = push_layer_tar (s, li, push_comp_write, c, err);
  if (ret < 0 && c->error)
    {
      /* The compressor's own message says more than "Input/output error". */
      berr_release (err);
      berr_set (err, 0, "%s", c->error);
    }
  if (ret == 0)
    ret = push_comp_finish (c, digest, size, err);
  push_comp_free (c);
  return ret;
}
