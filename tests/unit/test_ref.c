/* test_ref.c — image references against distribution/reference's own vectors
 * ($CONFORMANCE_DIR/image-reference/reference.json), one test per group, plus the error texts
 * and helpers berth relies on. Every mismatch is printed as a "# FAIL" line and fails its test. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "image/ref.h"
#include "util/fs.h"
#include "util/json.h"

static json_t *vectors;
static int all_cases, all_passed;

struct tally
{
  const char *group;
  int cases;
  int failed;
  bool case_failed; /* the current case already failed */
};

static void PRINTF_LIKE (3, 4) fail_case (struct tally *t, size_t idx, const char *fmt, ...)
{
  va_list ap;

  printf ("# FAIL %s[%zu]: ", t->group, idx);
  va_start (ap, fmt);
  vprintf (fmt, ap);
  va_end (ap);
  printf ("\n");
  if (!t->case_failed)
    t->failed++;
  t->case_failed = true;
}

static void begin_case (struct tally *t)
{
  t->cases++;
  t->case_failed = false;
}

static void finish (struct tally *t)
{
  printf ("# image-reference/%s: %d/%d cases passed\n", t->group, t->cases - t->failed, t->cases);
  fflush (stdout);
  all_cases += t->cases;
  all_passed += t->cases - t->failed;
  assert_true (t->cases > 0);
  assert_int_equal (t->failed, 0);
}

static json_t *group (const char *name)
{
  json_t *g = json_object_get (vectors, name);
  assert_non_null (g);
  assert_true (json_is_array (g));
  assert_true (json_array_size (g) > 0);
  return g;
}

/* NULL and "" are the same to upstream's string fields. */
static const char *nz (const char *s) { return s ? s : ""; }

static void expect_str (struct tally *t, size_t idx, const char *what, const char *input,
                        const char *got, const char *want)
{
  if (strcmp (nz (got), nz (want)) != 0)
    fail_case (t, idx, "%s of \"%s\": got \"%s\", want \"%s\"", what, input, nz (got), nz (want));
}

static void expect_owned (struct tally *t, size_t idx, const char *what, const char *input,
                          char *got, const char *want)
{
  expect_str (t, idx, what, input, got, want);
  free (got);
}

/* parse: raw Parse, fields and String() round trip, or the exact error. */
static void test_parse (void **state)
{
  struct tally t = { "parse", 0, 0, false };
  json_t *g = group ("parse");
  size_t i;
  json_t *c;

  (void)state;
  json_array_foreach (g, i, c)
  {
    const char *input = json_get_str (c, "input");
    const char *want_err = json_get_str (c, "error");
    cleanup_berr berr_t err = BERR_INIT;
    struct image_ref r;
    int rc;

    begin_case (&t);
    assert_non_null (input);
    rc = ref_parse (input, &r, &err);
    if (want_err)
      {
        cleanup_free char *want_msg = xstrdup (nz (json_get_str (c, "error_message")));
        char *from = strstr (want_msg, " (from ");
        if (from)
          *from = '\0'; /* "unsupported digest algorithm (from github.com/...go-digest)" */
        if (rc == 0)
          {
            cleanup_free char *s = ref_string (&r);
            fail_case (&t, i, "\"%s\" parsed as \"%s\", want error %s", input, s, want_err);
            ref_release (&r);
          }
        else if (strcmp (err.msg, want_msg) != 0 || err.kind != BERR_INVALID)
          fail_case (&t, i, "\"%s\": error \"%s\" (kind %d), want \"%s\" (%s)", input, err.msg,
                     err.kind, want_msg, want_err);
        continue;
      }
    if (rc < 0)
      {
        fail_case (&t, i, "\"%s\": unexpected error \"%s\"", input, err.msg);
        continue;
      }
    expect_owned (&t, i, "String()", input, ref_string (&r), input);
    expect_owned (&t, i, "Name()", input, ref_name (&r), json_get_str (c, "repository"));
    expect_str (&t, i, "Domain()", input, r.domain, json_get_str (c, "domain"));
    expect_str (&t, i, "Tag()", input, r.tag, json_get_str (c, "tag"));
    expect_str (&t, i, "Digest()", input, r.digest, json_get_str (c, "digest"));
    if (r.domain && *r.domain == '\0')
      fail_case (&t, i, "\"%s\": empty domain instead of NULL", input);
    ref_release (&r);
  }
  finish (&t);
}

/* normalized_valid: ParseNormalizedNamed succeeds, and its String() is a fixed point. */
static void test_normalized_valid (void **state)
{
  struct tally t = { "normalized_valid", 0, 0, false };
  json_t *g = group ("normalized_valid");
  size_t i;
  json_t *c;

  (void)state;
  json_array_foreach (g, i, c)
  {
    const char *input = json_string_value (c);
    cleanup_berr berr_t err = BERR_INIT;
    struct image_ref r, again;

    begin_case (&t);
    assert_non_null (input);
    if (ref_parse_normalized (input, &r, &err) < 0)
      {
        fail_case (&t, i, "\"%s\": unexpected error \"%s\"", input, err.msg);
        continue;
      }
    cleanup_free char *full = ref_string (&r);
    if (r.path == NULL || r.domain == NULL)
      fail_case (&t, i, "\"%s\": no domain or path", input);
    if (ref_parse_normalized (full, &again, &err) < 0)
      fail_case (&t, i, "\"%s\" -> \"%s\" does not parse again: %s", input, full, err.msg);
    else
      {
        expect_owned (&t, i, "normalized String()", full, ref_string (&again), full);
        ref_release (&again);
      }
    ref_release (&r);
  }
  finish (&t);
}

static void test_normalized_invalid (void **state)
{
  struct tally t = { "normalized_invalid", 0, 0, false };
  json_t *g = group ("normalized_invalid");
  size_t i;
  json_t *c;

  (void)state;
  json_array_foreach (g, i, c)
  {
    const char *input = json_string_value (c);
    cleanup_berr berr_t err = BERR_INIT;
    struct image_ref r;

    begin_case (&t);
    assert_non_null (input);
    if (ref_parse_normalized (input, &r, &err) == 0)
      {
        cleanup_free char *s = ref_string (&r);
        fail_case (&t, i, "\"%s\" parsed as \"%s\", want an error", input, s);
        ref_release (&r);
      }
    else if (err.kind != BERR_INVALID || err.msg == NULL)
      fail_case (&t, i, "\"%s\": error kind %d, want BERR_INVALID", input, err.kind);
  }
  finish (&t);
}

/* repository_info: familiar, full and ambiguous spellings all normalize to the same thing. */
static void test_repository_info (void **state)
{
  static const char *const inputs[] = { "FamiliarName", "FullName", "AmbiguousName" };
  struct tally t = { "repository_info", 0, 0, false };
  json_t *g = group ("repository_info");
  size_t i;
  json_t *c;

  (void)state;
  json_array_foreach (g, i, c)
  {
    begin_case (&t);
    for (size_t k = 0; k < ARRAY_SIZE (inputs); k++)
      {
        const char *input = json_get_str (c, inputs[k]);
        cleanup_berr berr_t err = BERR_INIT;
        struct image_ref r;

        if (input == NULL || *input == '\0')
          {
            if (k < 2)
              fail_case (&t, i, "vector has no %s", inputs[k]);
            continue;
          }
        if (ref_parse_normalized (input, &r, &err) < 0)
          {
            fail_case (&t, i, "\"%s\": unexpected error \"%s\"", input, err.msg);
            continue;
          }
        expect_owned (&t, i, "FamiliarName()", input, ref_familiar_name (&r),
                      json_get_str (c, "FamiliarName"));
        expect_owned (&t, i, "String()", input, ref_string (&r), json_get_str (c, "FullName"));
        expect_str (&t, i, "Domain()", input, r.domain, json_get_str (c, "Domain"));
        expect_str (&t, i, "Path()", input, r.path, json_get_str (c, "RemoteName"));
        ref_release (&r);
      }
  }
  finish (&t);
}

static void test_parse_any_reference (void **state)
{
  struct tally t = { "parse_any_reference", 0, 0, false };
  json_t *g = group ("parse_any_reference");
  size_t i;
  json_t *c;

  (void)state;
  json_array_foreach (g, i, c)
  {
    const char *input = json_get_str (c, "input");
    const char *equivalent = json_get_str (c, "equivalent");
    const char *digest_only = json_get_str (c, "expected_digest_only_reference");
    cleanup_berr berr_t err = BERR_INIT;
    struct image_ref r, want;

    begin_case (&t);
    assert_non_null (input);
    assert_non_null (equivalent);
    if (ref_parse_any (input, &r, &err) < 0)
      {
        fail_case (&t, i, "\"%s\": unexpected error \"%s\"", input, err.msg);
        continue;
      }
    if (digest_only)
      {
        if (r.path || r.domain || r.tag)
          fail_case (&t, i, "\"%s\": want a digest-only reference", input);
        expect_str (&t, i, "Digest()", input, r.digest, digest_only);
        expect_owned (&t, i, "String()", input, ref_string (&r), digest_only);
        expect_owned (&t, i, "FamiliarString()", input, ref_familiar (&r), digest_only);
      }
    else if (ref_parse (equivalent, &want, &err) < 0)
      fail_case (&t, i, "equivalent \"%s\" does not parse: %s", equivalent, err.msg);
    else
      {
        cleanup_free char *want_s = ref_string (&want);
        cleanup_free char *want_fam = ref_familiar (&want);
        cleanup_free char *want_name = ref_familiar_name (&want);
        expect_owned (&t, i, "String()", input, ref_string (&r), want_s);
        expect_owned (&t, i, "FamiliarString()", input, ref_familiar (&r), want_fam);
        expect_owned (&t, i, "FamiliarName()", input, ref_familiar_name (&r), want_name);
        expect_str (&t, i, "Domain()", input, r.domain, want.domain);
        expect_str (&t, i, "Path()", input, r.path, want.path);
        ref_release (&want);
      }
    ref_release (&r);
  }
  finish (&t);
}

static void test_split_hostname (void **state)
{
  struct tally t = { "split_hostname", 0, 0, false };
  json_t *g = group ("split_hostname");
  size_t i;
  json_t *c;

  (void)state;
  json_array_foreach (g, i, c)
  {
    const char *input = json_get_str (c, "input");
    cleanup_berr berr_t err = BERR_INIT;
    struct image_ref r;

    begin_case (&t);
    assert_non_null (input);
    if (ref_parse_normalized (input, &r, &err) < 0)
      {
        fail_case (&t, i, "\"%s\": unexpected error \"%s\"", input, err.msg);
        continue;
      }
    expect_str (&t, i, "Domain()", input, r.domain, json_get_str (c, "domain"));
    expect_str (&t, i, "Path()", input, r.path, json_get_str (c, "path"));
    ref_release (&r);
  }
  finish (&t);
}

static void test_familiar_match (void **state)
{
  struct tally t = { "familiar_match", 0, 0, false };
  json_t *g = group ("familiar_match");
  size_t i;
  json_t *c;

  (void)state;
  json_array_foreach (g, i, c)
  {
    const char *input = json_get_str (c, "reference");
    const char *pattern = json_get_str (c, "pattern");
    json_t *expected = json_object_get (c, "expected");
    cleanup_berr berr_t err = BERR_INIT;
    struct image_ref r;
    bool matched;

    begin_case (&t);
    assert_non_null (input);
    assert_non_null (pattern);
    assert_true (json_is_boolean (expected));
    if (ref_parse_any (input, &r, &err) < 0)
      {
        fail_case (&t, i, "\"%s\": unexpected error \"%s\"", input, err.msg);
        continue;
      }
    if (ref_familiar_match (pattern, &r, &matched, &err) < 0)
      fail_case (&t, i, "pattern \"%s\": unexpected error \"%s\"", pattern, err.msg);
    else if (matched != json_is_true (expected))
      fail_case (&t, i, "\"%s\" against \"%s\": got %s", input, pattern,
                 matched ? "match" : "no match");
    ref_release (&r);
  }
  finish (&t);
}

static void test_parse_docker_ref (void **state)
{
  struct tally t = { "parse_docker_ref", 0, 0, false };
  json_t *g = group ("parse_docker_ref");
  size_t i;
  json_t *c;

  (void)state;
  json_array_foreach (g, i, c)
  {
    const char *input = json_get_str (c, "input");
    cleanup_berr berr_t err = BERR_INIT;
    struct image_ref r;

    begin_case (&t);
    assert_non_null (input);
    if (ref_parse_docker (input, &r, &err) < 0)
      {
        fail_case (&t, i, "%s \"%s\": unexpected error \"%s\"", nz (json_get_str (c, "name")),
                   input, err.msg);
        continue;
      }
    expect_owned (&t, i, "ParseDockerRef()", input, ref_string (&r), json_get_str (c, "expected"));
    ref_release (&r);
  }
  finish (&t);
}

static void test_tag_and_digest (void **state)
{
  struct tally t = { "tag_and_digest", 0, 0, false };
  json_t *g = group ("tag_and_digest");
  size_t i;
  json_t *c;

  (void)state;
  json_array_foreach (g, i, c)
  {
    const char *input = json_get_str (c, "input");
    cleanup_berr berr_t err = BERR_INIT;
    struct image_ref r;

    begin_case (&t);
    assert_non_null (input);
    if (ref_parse_normalized (input, &r, &err) < 0)
      {
        fail_case (&t, i, "\"%s\": unexpected error \"%s\"", input, err.msg);
        continue;
      }
    if (r.tag == NULL || r.digest == NULL)
      fail_case (&t, i, "\"%s\": want both tag and digest", input);
    expect_owned (&t, i, "String()", input, ref_string (&r), json_get_str (c, "full"));
    expect_owned (&t, i, "FamiliarString()", input, ref_familiar (&r),
                  json_get_str (c, "familiar"));
    ref_release (&r);
  }
  finish (&t);
}

/* invalid_components: fn is "ParseNormalizedNamed", "WithTag(<name>)" or "WithDigest(<name>)". */
static void test_invalid_components (void **state)
{
  struct tally t = { "invalid_components", 0, 0, false };
  json_t *g = group ("invalid_components");
  size_t i;
  json_t *c;

  (void)state;
  json_array_foreach (g, i, c)
  {
    const char *fn = json_get_str (c, "fn");
    const char *input = json_get_str (c, "input");
    cleanup_berr berr_t err = BERR_INIT;
    struct image_ref r;
    int rc;

    begin_case (&t);
    assert_non_null (fn);
    assert_non_null (input);
    if (strcmp (nz (json_get_str (c, "expected")), "error") != 0)
      {
        fail_case (&t, i, "unknown expectation for %s", fn);
        continue;
      }
    if (strcmp (fn, "ParseNormalizedNamed") == 0)
      {
        rc = ref_parse_normalized (input, &r, &err);
        if (rc == 0)
          ref_release (&r);
      }
    else if (str_has_prefix (fn, "WithTag(") || str_has_prefix (fn, "WithDigest("))
      {
        const char *open = strchr (fn, '(');
        cleanup_free char *name = xstrndup (open + 1, strlen (open + 1) - 1);
        if (ref_parse_normalized (name, &r, &err) < 0)
          {
            fail_case (&t, i, "base name \"%s\" does not parse: %s", name, err.msg);
            continue;
          }
        if (fn[4] == 'T')
          rc = ref_with_tag (&r, input, &err);
        else
          rc = ref_with_digest (&r, input, &err);
        ref_release (&r);
      }
    else
      {
        fail_case (&t, i, "unknown function %s", fn);
        continue;
      }
    if (rc == 0)
      fail_case (&t, i, "%s(\"%s\") succeeded, want an error", fn, input);
    else if (err.kind != BERR_INVALID)
      fail_case (&t, i, "%s(\"%s\"): error kind %d, want BERR_INVALID", fn, input, err.kind);
  }
  finish (&t);
}

/* Not from the corpus: the error texts Docker users see, and berth's own helpers. */
struct err_case
{
  int (*parse) (const char *, struct image_ref *, berr_t *);
  const char *input;
  const char *msg;
};

static void test_error_messages (void **state)
{
  static const char hex64[] = "1a3f5e7d9c1b3a5f7e9d1c3b5a7f9e1d3c5b7a9f1e3d5d7c9b1a3f5e7d9c1b3a";
  char buf[512], a300[301];
  const struct err_case cases[] = {
    { ref_parse_normalized, "Upper",
      "invalid reference format: repository name (library/Upper) must be lowercase" },
    { ref_parse_normalized, "docker/Docker",
      "invalid reference format: repository name (docker/Docker) must be lowercase" },
    { ref_parse_normalized, hex64,
      "invalid repository name (1a3f5e7d9c1b3a5f7e9d1c3b5a7f9e1d3c5b7a9f1e3d5d7c9b1a3f5e7d9c1b3a), "
      "cannot specify 64-byte hexadecimal strings" },
    { ref_parse_normalized, "", "invalid reference format" },
    { ref_parse_normalized, "-docker", "invalid reference format" },
    { ref_parse_normalized, "[fe80::1%eth0]:5000/debian", "invalid reference format" },
    { ref_parse_normalized, "busybox@sha512:0123", "invalid reference format" },
    { ref_parse_normalized, "busybox@sha512:0123456789abcdef0123456789abcdef",
      "unsupported digest algorithm" },
    { ref_parse_normalized, "busybox@sha256:0123456789abcdef0123456789abcdef",
      "invalid checksum digest length" },
    { ref_parse_normalized,
      "busybox@sha256:0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef",
      "invalid checksum digest format" },
    /* Upstream's lower-case check runs up to the first ":", here inside the digest. */
    { ref_parse_normalized,
      "busybox@SHA256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
      "invalid reference format: repository name (library/busybox@SHA256) must be lowercase" },
    { ref_parse, "busybox@SHA256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
      "invalid checksum digest format" },
    { ref_parse_docker, "busybox:-tag", "invalid reference format" },
    { ref_parse, "", "repository name must have at least one component" },
    { ref_parse, "Uppercase:tag", "repository name must be lowercase" },
    { ref_parse_any, "sha256:", "invalid reference format" },
  };
  int failed = 0;

  (void)state;
  for (size_t i = 0; i < ARRAY_SIZE (cases); i++)
    {
      cleanup_berr berr_t err = BERR_INIT;
      struct image_ref r;
      if (cases[i].parse (cases[i].input, &r, &err) == 0)
        {
          cleanup_free char *s = ref_string (&r);
          printf ("# FAIL errors[%zu]: \"%s\" parsed as \"%s\"\n", i, cases[i].input, s);
          ref_release (&r);
          failed++;
        }
      else if (strcmp (err.msg, cases[i].msg) != 0 || err.kind != BERR_INVALID)
        {
          printf ("# FAIL errors[%zu]: \"%s\": \"%s\", want \"%s\"\n", i, cases[i].input, err.msg,
                  cases[i].msg);
          failed++;
        }
      /* A failed parse leaves nothing behind. */
      if (r.domain || r.path || r.tag || r.digest)
        {
          printf ("# FAIL errors[%zu]: output not cleared on error\n", i);
          failed++;
        }
    }

  /* The path (not the domain) is limited to 255 characters. */
  memset (a300, 'a', sizeof a300 - 1);
  a300[sizeof a300 - 1] = '\0';
  {
    cleanup_berr berr_t err = BERR_INIT;
    struct image_ref r;
    snprintf (buf, sizeof buf, "example.com/%.*s", 255, a300);
    if (ref_parse_normalized (buf, &r, &err) < 0)
      {
        printf ("# FAIL errors: 255-character path rejected: %s\n", err.msg);
        failed++;
      }
    else
      ref_release (&r);
    snprintf (buf, sizeof buf, "example.com/%.*s", 256, a300);
    if (ref_parse_normalized (buf, &r, &err) == 0)
      {
        printf ("# FAIL errors: 256-character path accepted\n");
        ref_release (&r);
        failed++;
      }
    else if (strcmp (err.msg, "repository name must not be more than 255 characters") != 0)
      {
        printf ("# FAIL errors: 256-character path: \"%s\"\n", err.msg);
        failed++;
      }
  }
  assert_int_equal (failed, 0);
}

static void test_helpers (void **state)
{
  cleanup_berr berr_t err = BERR_INIT;
  struct image_ref r;
  bool matched;
  char *s;

  (void)state;
  assert_int_equal (ref_parse_normalized ("localhost:5000/x:1", &r, &err), 0);
  s = ref_familiar (&r);
  assert_string_equal (s, "localhost:5000/x:1");
  free (s);
  assert_int_equal (ref_with_tag (&r, "v2.0_rc-1", &err), 0);
  s = ref_string (&r);
  assert_string_equal (s, "localhost:5000/x:v2.0_rc-1");
  free (s);
  assert_int_equal (ref_with_tag (&r, ".bad", &err), -1);
  assert_string_equal (err.msg, "invalid tag format");
  assert_int_equal (ref_with_digest (&r, "sha256:abc", &err), -1);
  assert_string_equal (err.msg, "invalid digest format");
  assert_int_equal (ref_familiar_match ("[", &r, &matched, &err), -1);
  assert_int_equal (ref_familiar_match ("localhost:5000/?", &r, &matched, &err), 0);
  assert_true (matched);
  assert_int_equal (ref_familiar_match ("localhost*", &r, &matched, &err), 0);
  assert_false (matched); /* "*" does not cross "/" */
  ref_release (&r);

  assert_int_equal (ref_parse_docker ("user/app", &r, &err), 0);
  s = ref_familiar (&r);
  assert_string_equal (s, "user/app:latest");
  free (s);
  s = ref_familiar_name (&r);
  assert_string_equal (s, "user/app");
  free (s);
  s = ref_name (&r);
  assert_string_equal (s, "docker.io/user/app");
  free (s);
  ref_release (&r);

  /* "library/" is dropped only when exactly one component follows it. */
  s = ref_familiarize ("docker.io/library/busybox:latest");
  assert_string_equal (s, "busybox:latest");
  free (s);
  s = ref_familiarize ("docker.io/library/foo/bar");
  assert_string_equal (s, "library/foo/bar");
  free (s);
  s = ref_familiarize ("not a reference");
  assert_string_equal (s, "not a reference");
  free (s);

  assert_true (ref_is_full_id ("dbcc1c35ac38df41fd2f5e4130b32ffdb93ebae8b3dbe638c23575912276fc9c"));
  assert_false (ref_is_full_id ("dbcc1c35ac38df41fd2f5e4130b32ffdb93ebae8b3dbe638c23575912276fc9"));
  assert_false (
      ref_is_full_id ("DBCC1C35AC38DF41FD2F5E4130B32FFDB93EBAE8B3DBE638C23575912276FC9C"));
  assert_true (ref_is_id_prefix ("dbcc1"));
  assert_true (ref_is_id_prefix ("sha256:dbcc1"));
  assert_false (ref_is_id_prefix ("sha256:"));
  assert_false (ref_is_id_prefix (""));
  assert_false (ref_is_id_prefix ("busybox"));
  assert_false (
      ref_is_id_prefix ("dbcc1c35ac38df41fd2f5e4130b32ffdb93ebae8b3dbe638c23575912276fc9c0"));
}

static int load_vectors (void **state)
{
  const char *dir = getenv ("CONFORMANCE_DIR");
  cleanup_free char *path = NULL;
  cleanup_free char *data = NULL;
  cleanup_berr berr_t err = BERR_INIT;
  size_t len;

  (void)state;
  if (dir == NULL)
    {
      printf ("# CONFORMANCE_DIR is not set\n");
      return -1;
    }
  path = xasprintf ("%s/image-reference/reference.json", dir);
  if (fs_read_file (path, 16 << 20, &data, &len, &err) < 0
      || (vectors = json_parse_buf (data, len, path, &err)) == NULL)
    {
      printf ("# %s\n", err.msg);
      return -1;
    }
  return 0;
}

static int free_vectors (void **state)
{
  (void)state;
  if (vectors)
    json_decref (vectors);
  vectors = NULL;
  return 0;
}

int main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_parse),
    cmocka_unit_test (test_normalized_valid),
    cmocka_unit_test (test_normalized_invalid),
    cmocka_unit_test (test_repository_info),
    cmocka_unit_test (test_parse_any_reference),
    cmocka_unit_test (test_split_hostname),
    cmocka_unit_test (test_familiar_match),
    cmocka_unit_test (test_parse_docker_ref),
    cmocka_unit_test (test_tag_and_digest),
    cmocka_unit_test (test_invalid_components),
    cmocka_unit_test (test_error_messages),
    cmocka_unit_test (test_helpers),
  };
  int rc = cmocka_run_group_tests (tests, load_vectors, free_vectors);

  printf ("# image-reference: %d/%d cases passed\n", all_passed, all_cases);
  return rc;
}
