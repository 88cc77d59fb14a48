/* Unit tests for src/util: errors, strings, buffers, digests, fs helpers. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/digest.h"
#include "util/err.h"
#include "util/fs.h"
#include "util/util.h"

static void test_berr_wrap (void **state)
{
  (void)state;
  berr_t err = BERR_INIT;
  assert_int_equal (berr_setk (&err, BERR_NOT_FOUND, 0, "No such image: %s", "bb:latest"), -1);
  assert_int_equal (berr_wrap (&err, "run %s", "bb"), -1);
  assert_string_equal (err.msg, "run bb: No such image: bb:latest");
  assert_int_equal (err.kind, BERR_NOT_FOUND);
  berr_set (&err, ENOENT, "open %s", "/x");
  assert_string_equal (err.msg, "open /x: No such file or directory");
  assert_int_equal (err.errnum, ENOENT);
  berr_release (&err);
  assert_null (err.msg);
}

static void test_sbuf_strv (void **state)
{
  (void)state;
  struct sbuf b;
  sbuf_init (&b);
  for (int i = 0; i < 1000; i++)
    sbuf_addf (&b, "%d,", i);
  assert_true (str_has_prefix (b.buf, "0,1,2,"));
  assert_true (str_has_suffix (b.buf, "998,999,"));
  char *s = sbuf_detach (&b);
  assert_null (b.buf);
  free (s);
  char **v = NULL;
  strv_push (&v, "a");
  strv_push (&v, "b");
  assert_int_equal (strv_len (v), 2);
  assert_true (strv_contains (v, "b"));
  assert_false (strv_contains (v, "c"));
  char **d = strv_dup (v);
  assert_string_equal (d[1], "b");
  strv_free (d);
  strv_free (v);
}

static void test_digest (void **state)
{
  (void)state;
  char d[DIGEST_STR_LEN];
  sha256_digest ("", 0, d);
  assert_string_equal (d,
                       "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  struct sha256 h;
  sha256_init (&h);
  sha256_update (&h, "ab", 2);
  sha256_update (&h, "c", 1);
  sha256_final (&h, d);
  assert_string_equal (d,
                       "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  assert_true (digest_is_valid (d));
  /* CVE-2014-9358 / CVE-2021-21285 shapes must all be rejected */
  const char *bad[]
      = { "",
          "sha256:",
          "sha256:../../x",
          "md5:d41d8cd98f00b204e9800998ecf8427e",
          "sha256:E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855",
          "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b85",
          "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b8555" };
  for (size_t i = 0; i < ARRAY_SIZE (bad); i++)
    {
      berr_t err = BERR_INIT;
      assert_false (digest_is_valid (bad[i]));
      assert_int_equal (digest_check (bad[i], &err), -1);
      assert_non_null (err.msg);
      berr_release (&err);
    }
}

static void test_fs_in_root (void **state)
{
  (void)state;
  char tmpl[] = "/tmp/berth-test-util-XXXXXX";
  assert_non_null (mkdtemp (tmpl));
  cleanup_free char *root = xasprintf ("%s/root", tmpl);
  cleanup_free char *outside = xasprintf ("%s/outside", tmpl);
  assert_int_equal (mkdir (root, 0755), 0);
  assert_int_equal (mkdir (outside, 0755), 0);
  int rootfd = open (root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  assert_true (rootfd >= 0);
  /* An absolute symlink and a ".." chain both stay inside the root. */
  assert_int_equal (symlinkat (outside, rootfd, "abs"), 0);
  assert_int_equal (symlinkat ("../../../../outside", rootfd, "rel"), 0);
  int fd = fs_mkdir_in_root (rootfd, "abs/sub/dir", 0755);
  assert_true (fd >= 0);
  close (fd);
  fd = fs_mkdir_in_root (rootfd, "rel/x", 0755);
  assert_true (fd >= 0);
  close (fd);
  struct stat st;
  cleanup_free char *escaped = xasprintf ("%s/sub", outside);
  assert_int_equal (stat (escaped, &st), -1);
  cleanup_free char *contained = xasprintf ("%s%s/sub/dir", root, outside);
  assert_int_equal (stat (contained, &st), 0);
  fd = fs_open_in_root (rootfd, "../../etc/passwd", O_RDONLY, 0);
  assert_int_equal (fd, -1);
  close (rootfd);
  /* atomic write and read back */
  cleanup_free char *f = xasprintf ("%s/file", tmpl);
  berr_t err = BERR_INIT;
  assert_int_equal (fs_write_atomic (f, "hello", 5, 0600, &err), 0);
  cleanup_free char *data = NULL;
  size_t len = 0;
  assert_int_equal (fs_read_file (f, 100, &data, &len, &err), 0);
  assert_int_equal (len, 5);
  assert_string_equal (data, "hello");
  free (data);
  data = NULL;
  assert_int_equal (fs_read_file (f, 3, &data, &len, &err), -1);
  berr_release (&err);
  assert_int_equal (fs_rm_rf (tmpl, &err), 0);
  assert_int_equal (stat (tmpl, &st), -1);
}

int main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_berr_wrap),
    cmocka_unit_test (test_sbuf_strv),
    cmocka_unit_test (test_digest),
    cmocka_unit_test (test_fs_in_root),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
