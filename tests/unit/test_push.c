/* Unit tests for the parts of a push that need no registry: the manifest bytes, deterministic
 * layer compression (src/registry/push_compress.c), the store's stored-manifest query. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "image/archive.h"
#include "registry/manifest.h"
#include "registry/push_int.h"
#include "util/fs.h"
#include "util/lazylib.h"
#include "util/util.h"

#define D1 "sha256:1111111111111111111111111111111111111111111111111111111111111111"
#define D2 "sha256:2222222222222222222222222222222222222222222222222222222222222222"
#define D3 "sha256:3333333333333333333333333333333333333333333333333333333333333333"

static void test_manifest_docker (void **state)
{
  (void)state;
  struct push_desc cfg = { MT_DOCKER_CONFIG, D1, 1457, NULL };
  struct push_desc l[]
      = { { MT_DOCKER_LAYER_GZIP, D2, 772788, NULL }, { MT_DOCKER_LAYER_GZIP, D3, 32, NULL } };
  size_t len = 0;
  cleanup_free char *m = push_manifest_write (false, &cfg, l, 2, &len);
  /* Docker's distribution: json.MarshalIndent with three spaces, no final newline. */
  const char *want
      = "{\n"
        "   \"schemaVersion\": 2,\n"
        "   \"mediaType\": \"application/vnd.docker.distribution.manifest.v2+json\",\n"
        "   \"config\": {\n"
        "      \"mediaType\": \"application/vnd.docker.container.image.v1+json\",\n"
        "      \"size\": 1457,\n"
        "      \"digest\": \"" D1 "\"\n"
        "   },\n"
        "   \"layers\": [\n"
        "      {\n"
        "         \"mediaType\": \"application/vnd.docker.image.rootfs.diff.tar.gzip\",\n"
        "         \"size\": 772788,\n"
        "         \"digest\": \"" D2 "\"\n"
        "      },\n"
        "      {\n"
        "         \"mediaType\": \"application/vnd.docker.image.rootfs.diff.tar.gzip\",\n"
        "         \"size\": 32,\n"
        "         \"digest\": \"" D3 "\"\n"
        "      }\n"
        "   ]\n"
        "}";
  assert_string_equal (m, want);
  assert_int_equal (len, strlen (want));
  /* What the pull side's strict parser accepts. */
  struct manifest pm = { 0 };
  berr_t err = BERR_INIT;
  assert_int_equal (manifest_parse (m, len, MT_DOCKER_MANIFEST, &pm, &err), 0);
  assert_int_equal (pm.nlayers, 2);
  assert_string_equal (pm.config.digest, D1);
  assert_int_equal (pm.layers[0].size, 772788);
  manifest_release (&pm);
}

static void test_manifest_oci (void **state)
{
  (void)state;
  struct push_desc cfg = { MT_OCI_CONFIG, D1, 10, NULL };
  struct push_desc l[] = { { MT_OCI_LAYER_ZSTD, D2, 5, NULL } };
  size_t len = 0;
  cleanup_free char *m = push_manifest_write (true, &cfg, l, 1, &len);
  assert_non_null (strstr (m, "\"mediaType\": \"" MT_OCI_MANIFEST "\""));
  assert_non_null (strstr (m, "\"mediaType\": \"" MT_OCI_LAYER_ZSTD "\""));
  struct manifest pm = { 0 };
  berr_t err = BERR_INIT;
  assert_int_equal (manifest_parse (m, len, MT_OCI_MANIFEST, &pm, &err), 0);
  manifest_release (&pm);
  /* No layers: an empty array, as Go writes it. */
  cleanup_free char *e = push_manifest_write (false, &cfg, NULL, 0, &len);
  assert_non_null (strstr (e, "\"layers\": []"));
}

/* Test input: text, then random bytes, then text again (both kinds of chunk). */
static unsigned char *make_input (size_t *len)
{
  size_t n = (3u << 20) + 12345;
  unsigned char *p = xmalloc (n);
  uint64_t x = 88172645463325252ull;
  for (size_t i = 0; i < n; i++)
    {
      if (i >= (1u << 20) && i < (2u << 20))
        {
          x ^= x << 13;
          x ^= x >> 7;
          x ^= x << 17;
          p[i] = (unsigned char)x;
        }
      else
        p[i] = "the quick brown fox jumps over the lazy dog\n"[i % 44];
    }
  *len = n;
  return p;
}

static char *tmpfile_path (void)
{
  char *t = xstrdup ("/tmp/test_push.XXXXXX");
  int fd = mkostemp (t, O_CLOEXEC);
  assert_true (fd >= 0);
  close (fd);
  return t;
}

/* Compress in pieces of step bytes (0: one write); digest, size and the bytes made. */
static void compress_in (enum push_comp_kind kind, const unsigned char *in, size_t len, size_t step,
                         char digest[DIGEST_STR_LEN], int64_t *size, char **out, size_t *outlen)
{
  cleanup_free char *path = tmpfile_path ();
  int fd = open (path, O_RDWR | O_TRUNC | O_CLOEXEC);
  assert_true (fd >= 0);
  struct push_comp *c = NULL;
  berr_t err = BERR_INIT;
  assert_int_equal (push_comp_new (kind, fd, &c, &err), 0);
  for (size_t off = 0; off < len;)
    {
      size_t n = step == 0 || len - off < step ? len - off : step;
      assert_int_equal (push_comp_write (c, in + off, n), 0);
      off += n;
    }
  assert_int_equal (push_comp_finish (c, digest, size, &err), 0);
  push_comp_free (c);
  close (fd);
  assert_int_equal (fs_read_file (path, 64u << 20, out, outlen, &err), 0);
  unlink (path);
}

/* Decompress with libarchive (gzip or zstd, as any client would). */
static unsigned char *decompress (const char *data, size_t len, size_t *outlen)
{
  berr_t err = BERR_INIT;
  assert_int_equal (lazy_archive_load (&err), 0);
  struct archive *a = archive_read_new ();
  archive_read_support_filter_all (a);
  archive_read_support_format_raw (a);
  assert_int_equal (archive_read_open_memory (a, data, len), ARCHIVE_OK);
  struct archive_entry *e;
  assert_int_equal (archive_read_next_header (a, &e), ARCHIVE_OK);
  struct sbuf b;
  sbuf_init (&b);
  char buf[65536];
  la_ssize_t n;
  while ((n = archive_read_data (a, buf, sizeof buf)) > 0)
    sbuf_add (&b, buf, (size_t)n);
  assert_true (n == 0);
  archive_read_free (a);
  *outlen = b.len;
  return (unsigned char *)sbuf_detach (&b);
}

static void check_deterministic (enum push_comp_kind kind)
{
  size_t len;
  cleanup_free unsigned char *in = make_input (&len);
  char d1[DIGEST_STR_LEN], d2[DIGEST_STR_LEN], d3[DIGEST_STR_LEN];
  int64_t s1, s2, s3;
  cleanup_free char *o1 = NULL, *o2 = NULL, *o3 = NULL;
  size_t l1, l2, l3;
  compress_in (kind, in, len, 0, d1, &s1, &o1, &l1);
  compress_in (kind, in, len, 1000, d2, &s2, &o2, &l2);
  compress_in (kind, in, len, 131071, d3, &s3, &o3, &l3);
  assert_string_equal (d1, d2);
  assert_string_equal (d1, d3);
  assert_int_equal (s1, (int64_t)l1);
  char dd[DIGEST_STR_LEN];
  sha256_digest (o1, l1, dd);
  assert_string_equal (dd, d1);
  /* The random megabyte is stored, the text shrinks: well under the input. */
  assert_true (l1 < len / 2);
  assert_true (l1 > (1u << 20));
  size_t back_len;
  cleanup_free unsigned char *back = decompress (o1, l1, &back_len);
  assert_int_equal (back_len, len);
  assert_memory_equal (back, in, len);
  if (kind == PUSH_GZIP)
    {
      /* gzip header: deflate, no flags (no name), mtime 0. */
      const unsigned char *h = (const unsigned char *)o1;
      assert_int_equal (h[0], 0x1f);
      assert_int_equal (h[1], 0x8b);
      assert_int_equal (h[2], 8);
      assert_int_equal (h[3], 0);
      assert_int_equal (h[4] | h[5] | h[6] | h[7], 0);
    }
  else
    {
      const unsigned char *h = (const unsigned char *)o1;
      assert_int_equal (h[0], 0x28);
      assert_int_equal (h[1], 0xb5);
    }
}

static void test_gzip_deterministic (void **state)
{
  (void)state;
  check_deterministic (PUSH_GZIP);
}

static void test_zstd_deterministic (void **state)
{
  (void)state;
  check_deterministic (PUSH_ZSTD);
}

static void test_random_is_stored (void **state)
{
  (void)state;
  size_t len = 4u << 20;
  cleanup_free unsigned char *in = xmalloc (len);
  int fd = open ("/dev/urandom", O_RDONLY | O_CLOEXEC);
  assert_true (fd >= 0);
  assert_int_equal (read (fd, in, len), (ssize_t)len);
  close (fd);
  char d[DIGEST_STR_LEN];
  int64_t s;
  cleanup_free char *o = NULL;
  size_t l;
  compress_in (PUSH_GZIP, in, len, 0, d, &s, &o, &l);
  /* Stored blocks: 5 bytes per 64 KiB, plus the header and trailer. */
  assert_true (l >= len && l < len + len / 1000);
  size_t bl;
  cleanup_free unsigned char *back = decompress (o, l, &bl);
  assert_int_equal (bl, len);
  assert_memory_equal (back, in, len);
}

/* A layer from busybox.tar (loaded into a scratch store: a tar-split layer) compresses to the
 * same digest every time, and decompresses back to its diff_id. */
static void test_store_layer (void **state)
{
  (void)state;
  const char *src = getenv ("BERTH_SOURCE_DIR");
  cleanup_free char *tar = xasprintf ("%s/tests/fixtures/out/busybox.tar", src ? src : ".");
  int tfd = open (tar, O_RDONLY | O_CLOEXEC);
  if (tfd < 0)
    skip ();
  char dir[] = "/tmp/test_push_store.XXXXXX";
  assert_non_null (mkdtemp (dir));
  cleanup_free char *root = xasprintf ("%s/root", dir);
  cleanup_free char *run = xasprintf ("%s/run", dir);
  struct store *s = NULL;
  berr_t err = BERR_INIT;
  assert_int_equal (store_open (root, run, &s, &err), 0);
  store_set_sync (s, false);
  struct load_opts lo = { 0 };
  char **lines = NULL;
  assert_int_equal (archive_load (s, tfd, &lo, &lines, &err), 0);
  strv_free (lines);
  close (tfd);
  struct image_rec **all = NULL;
  size_t n = 0;
  assert_int_equal (store_image_list (s, &all, &n, &err), 0);
  assert_true (n >= 1);
  char md[DIGEST_STR_LEN];
  assert_int_equal (store_image_manifest (s, all[0]->id, md, &err), 1); /* loaded: none */
  assert_int_equal (store_image_manifest (s, D1, md, &err), -1);
  berr_release (&err);
  assert_non_null (all[0]->diff_ids);
  struct layer_info li = { 0 };
  assert_int_equal (store_layer_get (s, all[0]->diff_ids[0], &li, &err), 0);
  char d[2][DIGEST_STR_LEN];
  for (int k = 0; k < 2; k++)
    {
      cleanup_free char *p = tmpfile_path ();
      int fd = open (p, O_RDWR | O_CLOEXEC);
      int64_t size;
      assert_int_equal (push_compress_layer (s, &li, PUSH_GZIP, fd, d[k], &size, &err), 0);
      cleanup_free char *data = NULL;
      size_t dl;
      assert_int_equal (fs_read_file (p, 256u << 20, &data, &dl, &err), 0);
      assert_int_equal ((int64_t)dl, size);
      size_t tl;
      cleanup_free unsigned char *t = decompress (data, dl, &tl);
      char got[DIGEST_STR_LEN];
      sha256_digest (t, tl, got);
      assert_string_equal (got, li.diff_id);
      close (fd);
      unlink (p);
    }
  assert_string_equal (d[0], d[1]);
  /* A layer that does not read back as its diff_id is refused. */
  struct layer_info bad = li;
  bad.tar_size = li.tar_size + 1;
  int nfd = open ("/dev/null", O_WRONLY | O_CLOEXEC);
  char dx[DIGEST_STR_LEN];
  int64_t sx;
  assert_int_equal (push_compress_layer (s, &bad, PUSH_GZIP, nfd, dx, &sx, &err), -1);
  assert_non_null (strstr (err.msg, "corrupt"));
  berr_release (&err);
  close (nfd);
  layer_info_release (&li);
  image_recs_free (all, n);
  store_close (s);
  fs_rm_rf (dir, &err);
}

int main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_manifest_docker),    cmocka_unit_test (test_manifest_oci),
    cmocka_unit_test (test_gzip_deterministic), cmocka_unit_test (test_zstd_deterministic),
    cmocka_unit_test (test_random_is_stored),   cmocka_unit_test (test_store_layer),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
