/* test_manifest.c — the strict manifest/index parser and platform selection: hand-written cases
 * for B3/B5/B6 and schema 1, plus the OCI image-spec's schema tests and spec examples from
 * $CONFORMANCE_DIR/image-spec (every manifest and index case). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "registry/manifest.h"
#include "util/fs.h"
#include "util/json.h"
#include "util/util.h"

#define D1 "sha256:1111111111111111111111111111111111111111111111111111111111111111"
#define D2 "sha256:2222222222222222222222222222222222222222222222222222222222222222"

static int parse (const char *body, const char *ct, struct manifest *m, berr_t *err)
{
  return manifest_parse (body, strlen (body), ct, m, err);
}

static void expect_fail (const char *body, const char *ct, const char *needle)
{
  struct manifest m;
  berr_t err = BERR_INIT;
  if (parse (body, ct, &m, &err) == 0)
    fail_msg ("accepted: %s", body);
  if (needle && strstr (err.msg, needle) == NULL)
    fail_msg ("error \"%s\" lacks \"%s\"", err.msg, needle);
  berr_release (&err);
}

static void test_docker_manifest (void **state)
{
  (void)state;
  struct manifest m;
  berr_t err = BERR_INIT;
  const char *body
      = "{\"schemaVersion\":2,\"mediaType\":\"" MT_DOCKER_MANIFEST "\","
        "\"config\":{\"mediaType\":\"" MT_DOCKER_CONFIG "\",\"size\":10,\"digest\":\"" D1
        "\"},\"layers\":[{\"mediaType\":\"" MT_DOCKER_LAYER_GZIP "\",\"size\":5,\"digest\":\"" D2
        "\"},{\"mediaType\":\"" MT_DOCKER_LAYER_FOREIGN "\",\"size\":7,\"digest\":\"" D1
        "\",\"urls\":[\"http://x/y\"]}]}";
  assert_int_equal (parse (body, MT_DOCKER_MANIFEST, &m, &err), 0);
  assert_int_equal (m.kind, MANIFEST_IMAGE);
  assert_string_equal (m.media_type, MT_DOCKER_MANIFEST);
  assert_string_equal (m.config.digest, D1);
  assert_int_equal (m.config.size, 10);
  assert_int_equal (m.nlayers, 2);
  assert_string_equal (m.layers[0].digest, D2);
  assert_string_equal (m.layers[1].urls[0], "http://x/y");
  assert_true (manifest_layer_type_ok (m.layers[0].media_type));
  assert_false (manifest_layer_type_ok (m.layers[1].media_type));
  manifest_release (&m);
  /* generic Content-Type defers to the document */
  assert_int_equal (parse (body, "application/json", &m, &err), 0);
  manifest_release (&m);
  /* B6: mediaType against Content-Type */
  expect_fail (body, MT_OCI_MANIFEST, "should be");
  expect_fail (body, MT_DOCKER_LIST, "should be");
}

static void test_ambiguous_and_limits (void **state)
{
  (void)state;
  expect_fail ("{\"schemaVersion\":2,\"manifests\":[],\"layers\":[],\"config\":{}}", NULL,
               "ambiguous");
  expect_fail ("{\"schemaVersion\":2,\"mediaType\":\"" MT_OCI_INDEX "\",\"config\":{\"mediaType\":"
               "\"a/b\",\"size\":1,\"digest\":\"" D1 "\"},\"layers\":[]}",
               NULL, "does not name an image manifest");
  expect_fail ("{\"schemaVersion\":2,\"schemaVersion\":2,\"manifests\":[]}", NULL, "duplicate");
  expect_fail ("{\"schemaVersion\":1,\"name\":\"x\",\"fsLayers\":[]}", NULL,
               "schema 1 support has been removed");
  assert_true (
      manifest_is_schema1 ("{}", 2, "application/vnd.docker.distribution.manifest.v1+prettyjws"));
  assert_true (manifest_is_schema1 ("{\"schemaVersion\":1}", 19, NULL));
  assert_false (manifest_is_schema1 ("{\"schemaVersion\":2}", 19, NULL));
  expect_fail ("{\"schemaVersion\":3,\"manifests\":[]}", NULL, "schemaVersion");
  expect_fail ("[1]", NULL, "not a JSON object");

  /* B5: size and count limits */
  char *big = xmalloc (MANIFEST_MAX + 2);
  memset (big, ' ', MANIFEST_MAX + 1);
  big[MANIFEST_MAX + 1] = '\0';
  big[0] = '{';
  big[MANIFEST_MAX] = '}';
  expect_fail (big, NULL, "more than the limit");
  free (big);
  struct sbuf b;
  sbuf_init (&b);
  sbuf_adds (&b,
             "{\"schemaVersion\":2,\"config\":{\"mediaType\":\"a/b\",\"size\":1,\"digest\":\"" D1
             "\"},\"layers\":[");
  for (int i = 0; i <= MANIFEST_MAX_LAYERS; i++)
    sbuf_addf (&b, "%s{\"mediaType\":\"a/b\",\"size\":1,\"digest\":\"" D2 "\"}", i ? "," : "");
  sbuf_adds (&b, "]}");
  expect_fail (b.buf, NULL, "layers, more than");
  sbuf_release (&b);
}

static void test_digests (void **state)
{
  (void)state;
  static const char *const bad[]
      = { "",
          "sha256:",
          "sha256:ABCDEF1111111111111111111111111111111111111111111111111111111111",
          "sha256:111111111111111111111111111111111111111111111111111111111111111",
          "md5:d41d8cd98f00b204e9800998ecf8427e",
          "sha256:../../x" };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    {
      char body[512];
      snprintf (body, sizeof body,
                "{\"schemaVersion\":2,\"config\":{\"mediaType\":\"a/b\",\"size\":1,\"digest\":\"" D1
                "\"},\"layers\":[{\"mediaType\":\"a/b\",\"size\":1,\"digest\":\"%s\"}]}",
                bad[i]);
      expect_fail (body, NULL, "layers[0]");
    }
  expect_fail ("{\"schemaVersion\":2,\"config\":{\"mediaType\":\"a/b\",\"size\":-1,\"digest\":\"" D1
               "\"},\"layers\":[]}",
               NULL, "negative");
}

static const char *index_body
    = "{\"schemaVersion\":2,\"mediaType\":\"" MT_OCI_INDEX "\",\"manifests\":["
      "{\"mediaType\":\"" MT_OCI_MANIFEST "\",\"size\":1,\"digest\":\"" D1
      "\",\"platform\":{\"os\":\"linux\",\"architecture\":\"amd64\"}},"
      "{\"mediaType\":\"" MT_OCI_MANIFEST "\",\"size\":2,\"digest\":\"" D2
      "\",\"platform\":{\"os\":\"linux\",\"architecture\":\"arm64\",\"variant\":\"v8\"}},"
      "{\"mediaType\":\"" MT_OCI_MANIFEST "\",\"size\":3,\"digest\":\"" D1
      "\",\"platform\":{\"os\":\"linux\",\"architecture\":\"arm\",\"variant\":\"v6\"}}]}";

static void test_select (void **state)
{
  (void)state;
  struct manifest m;
  berr_t err = BERR_INIT;
  const struct manifest_desc *d;
  assert_int_equal (parse (index_body, MT_OCI_INDEX, &m, &err), 0);
  assert_int_equal (m.kind, MANIFEST_INDEX);
  assert_int_equal (m.nentries, 3);
  assert_int_equal (manifest_select (&m, "linux/amd64", &d, &err), 0);
  assert_int_equal (d->size, 1);
  assert_int_equal (manifest_select (&m, "linux/arm64", &d, &err), 0);
  assert_int_equal (d->size, 2);
  assert_int_equal (manifest_select (&m, "linux/arm64/v8", &d, &err), 0);
  assert_int_equal (d->size, 2);
  assert_int_equal (manifest_select (&m, "linux/arm", &d, &err), 0); /* v7 -> v6 */
  assert_int_equal (d->size, 3);
  assert_int_equal (manifest_select (&m, "linux/arm/v6", &d, &err), 0);
  assert_int_equal (d->size, 3);
  assert_int_equal (manifest_select (&m, "linux/arm/v5", &d, &err), -1);
  assert_string_equal (err.msg,
                       "no matching manifest for linux/arm/v5 in the manifest list entries");
  berr_release (&err);
  assert_int_equal (manifest_select (&m, "linux/s390x", &d, &err), -1);
  assert_string_equal (err.msg,
                       "no matching manifest for linux/s390x in the manifest list entries");
  berr_release (&err);
  assert_int_equal (manifest_select (&m, NULL, &d, &err), 0); /* the host's: amd64 or arm64 here */
  berr_release (&err);
  assert_int_equal (manifest_select (&m, "bogus", &d, &err), -1);
  berr_release (&err);
  manifest_release (&m);
}

/* The image-spec conformance files: every manifest and index case. */
static void test_conformance (void **state)
{
  (void)state;
  const char *dir = getenv ("CONFORMANCE_DIR");
  if (dir == NULL)
    skip ();
  cleanup_free char *idx_path = xasprintf ("%s/image-spec/index.json", dir);
  berr_t err = BERR_INIT;
  json_error_t je;
  cleanup_json json_t *idx = json_load_file (idx_path, 0, &je);
  assert_non_null (idx);
  json_t *compat = json_object_get (idx, "compat_media_type_map");
  int total = 0, ok = 0, strict_digest = 0, empty_layers = 0, bad = 0;
  const char *lists[] = { "schema_tests", "spec_examples" };
  for (int li = 0; li < 2; li++)
    {
      size_t i;
      json_t *c;
      json_array_foreach (json_object_get (idx, lists[li]), i, c)
      {
        const char *mt = json_get_str (c, li == 0 ? "validator_media_type" : "media_type");
        if (mt == NULL || (strcmp (mt, MT_OCI_MANIFEST) != 0 && strcmp (mt, MT_OCI_INDEX) != 0))
          continue;
        bool valid = json_is_true (json_object_get (c, "expect_valid"));
        const char *file = json_get_str (c, "file");
        cleanup_free char *path = li == 0 ? xasprintf ("%s/image-spec/schema-tests/%s", dir, file)
                                          : xasprintf ("%s/image-spec/%s", dir, file);
        cleanup_free char *body = NULL;
        size_t len;
        assert_int_equal (fs_read_file (path, 1 << 20, &body, &len, &err), 0);
        /* Files with Docker media types (compat-*) parse as they are, with their Docker type. */
        const char *ct = NULL;
        const char *k;
        json_t *v;
        json_object_foreach (compat, k,
                             v) if (strstr (body, k) && strcmp (json_string_value (v), mt) == 0) ct
            = k;
        struct manifest m;
        total++;
        int r = manifest_parse (body, len, ct, &m, &err);
        if (r == 0 && valid)
          ok++;
        else if (r < 0 && !valid)
          ok++;
        else if (r == 0 && !valid && strstr (json_get_str (c, "comment"), "empty layer"))
          empty_layers++; /* Docker pushes images without layers (FROM scratch + LABEL) */
        else if (r < 0 && valid
                 && (strstr (body, "sha256+") || strstr (body, "sha512:")
                     || strstr (body, "\"digest\": \"multihash")))
          strict_digest++; /* valid to the schema, refused by berth's sha256-only rule (B3) */
        else
          {
            bad++;
            printf ("# FAIL %s: expected %s, got %s\n", file, valid ? "valid" : "invalid",
                    r == 0 ? "accepted" : err.msg);
          }
        if (r == 0)
          manifest_release (&m);
        berr_release (&err);
      }
    }
  printf ("# image-spec manifest/index cases: %d, agreeing %d, refused for non-sha256 digests %d, "
          "empty layers accepted %d, disagreeing %d\n",
          total, ok, strict_digest, empty_layers, bad);
  assert_true (total >= 20);
  assert_int_equal (bad, 0);
}

int main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_docker_manifest), cmocka_unit_test (test_ambiguous_and_limits),
    cmocka_unit_test (test_digests),         cmocka_unit_test (test_select),
    cmocka_unit_test (test_conformance),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
