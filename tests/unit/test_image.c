/* Unit tests for src/image/config.c and import.c's --change handling. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "image/config.h"
#include "image/import.h"
#include "util/json.h"

static const char good_diff[]
    = "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

static void test_diff_ids (void **state)
{
  (void)state;
  berr_t err = BERR_INIT;
  char **ids = NULL;
  cleanup_free char *ok = xasprintf (
      "{\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"%s\",\"%s\"]}}", good_diff, good_diff);
  json_t *c = json_loads (ok, 0, NULL);
  assert_int_equal (image_config_diff_ids (c, &ids, &err), 0);
  assert_int_equal (strv_len (ids), 2);
  strv_free (ids);
  json_decref (c);
  /* no layers at all is a valid (empty) image */
  c = json_loads ("{\"rootfs\":{\"type\":\"layers\"}}", 0, NULL);
  assert_int_equal (image_config_diff_ids (c, &ids, &err), 0);
  assert_int_equal (strv_len (ids), 0);
  strv_free (ids);
  json_decref (c);
  const char *bad[] = {
    "[]",
    "{}",
    "{\"rootfs\":{\"type\":\"other\",\"diff_ids\":[]}}",
    "{\"rootfs\":{\"type\":\"layers\",\"diff_ids\":\"x\"}}",
    "{\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"sha256:../../etc\"]}}",
    "{\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[5]}}",
  };
  for (size_t i = 0; i < ARRAY_SIZE (bad); i++)
    {
      c = json_loads (bad[i], JSON_DECODE_ANY, NULL);
      assert_non_null (c);
      assert_int_equal (image_config_diff_ids (c, &ids, &err), -1);
      assert_int_equal (err.kind, BERR_INVALID);
      berr_release (&err);
      json_decref (c);
    }
}

static void test_created_and_tags (void **state)
{
  (void)state;
  json_t *c = json_loads ("{\"created\":\"2024-01-01T00:00:01.5Z\"}", 0, NULL);
  assert_int_equal (image_config_created (c), 1704067201500000000LL);
  json_decref (c);
  c = json_loads ("{\"created\":\"yesterday\"}", 0, NULL);
  assert_int_equal (image_config_created (c), 0);
  json_decref (c);
  const char *cases[][3] = {
    { "docker.io/library/busybox:latest", "busybox", "latest" },
    { "docker.io/me/app:v1", "me/app", "v1" },
    { "localhost:5000/team/x:2", "localhost:5000/team/x", "2" },
    { "docker.io/library/busybox@sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7"
      "852b855",
      "busybox", "<none>" },
  };
  for (size_t i = 0; i < ARRAY_SIZE (cases); i++)
    {
      char *repo = NULL, *tag = NULL;
      image_split_tag (cases[i][0], &repo, &tag);
      assert_string_equal (repo, cases[i][1]);
      assert_string_equal (tag, cases[i][2]);
      free (repo);
      free (tag);
    }
}

static void test_changes (void **state)
{
  (void)state;
  berr_t err = BERR_INIT;
  json_t *cc = json_object ();
  char *changes[] = {
    (char *)"CMD [\"/bin/app\", \"--flag\"]",
    (char *)"entrypoint /bin/sh -c",
    (char *)"ENV A=1 B=\"two words\"",
    (char *)"ENV A 3",
    (char *)"LABEL k=v other=\"x y\"",
    (char *)"EXPOSE 80 53/udp",
    (char *)"VOLUME [\"/data\", \"/logs\"]",
    (char *)"USER 1000:1000",
    (char *)"WORKDIR /srv",
    (char *)"STOPSIGNAL SIGINT",
    (char *)"ONBUILD RUN make",
    NULL,
  };
  assert_int_equal (image_apply_changes (cc, changes, &err), 0);
  cleanup_free char *got = json_dumps (cc, JSON_COMPACT | JSON_SORT_KEYS);
  assert_string_equal (
      got, "{\"Cmd\":[\"/bin/app\",\"--flag\"],\"Entrypoint\":[\"/bin/sh\",\"-c\",\"/bin/sh "
           "-c\"],\"Env\":[\"A=3\",\"B=two words\"],\"ExposedPorts\":{\"53/udp\":{},\"80/tcp\":{}},"
           "\"Labels\":{\"k\":\"v\",\"other\":\"x y\"},\"OnBuild\":[\"RUN make\"],"
           "\"StopSignal\":\"SIGINT\",\"User\":\"1000:1000\",\"Volumes\":{\"/data\":{},\"/logs\":{}"
           "},\"WorkingDir\":\"/srv\"}");
  json_decref (cc);
  const char *bad[] = {
    "RUN echo", "ENV", "ENV A", "EXPOSE http", "LABEL =x", "WORKDIR", "ENV A=\"unterminated"
  };
  for (size_t i = 0; i < ARRAY_SIZE (bad); i++)
    {
      char *one[] = { (char *)bad[i], NULL };
      cc = json_object ();
      assert_int_equal (image_apply_changes (cc, one, &err), -1);
      assert_non_null (strstr (err.msg, "--change"));
      berr_release (&err);
      json_decref (cc);
    }
}

int main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_diff_ids),
    cmocka_unit_test (test_created_and_tags),
    cmocka_unit_test (test_changes),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
