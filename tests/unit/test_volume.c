/* test_volume.c — volumes and mount specs: the conformance vectors of moby's `-v` parser
 * ($CONFORMANCE_DIR/volume-spec) and docker/cli's --mount ($CONFORMANCE_DIR/docker-cli/
 * mount_opt.json), the volume store, mount resolution and copy-up.  Every conformance mismatch
 * is printed as a "# FAIL" line and fails its test. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "store/store.h"
#include "util/fs.h"
#include "util/json.h"
#include "volume/volspec.h"

/* ================= conformance ================= */

static int vs_cases, vs_passed, dc_cases, dc_passed;

static json_t *load_json (const char *rel)
{
  const char *dir = getenv ("CONFORMANCE_DIR");
  if (dir == NULL)
    {
      printf ("# CONFORMANCE_DIR is not set\n");
      return NULL;
    }
  cleanup_free char *path = xasprintf ("%s/%s", dir, rel);
  cleanup_free char *data = NULL;
  size_t len;
  berr_t err = BERR_INIT;
  json_t *j = NULL;
  if (fs_read_file (path, 16 << 20, &data, &len, &err) < 0
      || (j = json_parse_buf (data, len, path, &err)) == NULL)
    {
      printf ("# %s\n", err.msg);
      berr_release (&err);
    }
  return j;
}

/* Is v a Go zero value (absent, null, false, 0, "")? */
static bool is_zero (json_t *v)
{
  return v == NULL || json_is_null (v) || json_is_false (v)
         || (json_is_integer (v) && json_integer_value (v) == 0)
         || (json_is_string (v) && json_string_length (v) == 0);
}

/* Does got match want, where an absent key means the zero value, but an object (a non-nil Go
 * pointer or map) must be present exactly when wanted?  path names the first difference. */
static bool json_match (json_t *want, json_t *got, const char *path, struct sbuf *why)
{
  if (json_is_object (want) || json_is_object (got))
    {
      if (!json_is_object (want) || !json_is_object (got))
        {
          sbuf_addf (why, "%s: object presence differs", path);
          return false;
        }
      const char *k;
      json_t *v;
      json_object_foreach (want, k, v)
      {
        cleanup_free char *sub = xasprintf ("%s.%s", path, k);
        if (!json_match (v, json_object_get (got, k), sub, why))
          return false;
      }
      json_object_foreach (got, k, v)
      {
        if (json_object_get (want, k))
          continue;
        cleanup_free char *sub = xasprintf ("%s.%s", path, k);
        if (!json_match (NULL, v, sub, why))
          return false;
      }
      return true;
    }
  if (is_zero (want) && is_zero (got))
    return true;
  if (want && got && json_equal (want, got))
    return true;
  cleanup_free char *w = want ? json_dump_compact (want) : xstrdup ("<absent>");
  cleanup_free char *g = got ? json_dump_compact (got) : xstrdup ("<absent>");
  sbuf_addf (why, "%s: got %s, want %s", path, g, w);
  return false;
}

static void read_tsv_raw (void)
{
  const char *dir = getenv ("CONFORMANCE_DIR");
  assert_non_null (dir);
  cleanup_free char *path = xasprintf ("%s/volume-spec/bind_spec_raw.tsv", dir);
  cleanup_free char *data = NULL;
  size_t len;
  berr_t err = BERR_INIT;
  if (fs_read_file (path, 1 << 20, &data, &len, &err) < 0)
    fail_msg ("%s", err.msg);
  bool header = true;
  int cases = 0, passed = 0;
  char *save = NULL;
  for (char *line = strtok_r (data, "\n", &save); line; line = strtok_r (NULL, "\n", &save))
    {
      if (line[0] == '#')
        continue;
      if (header)
        {
          header = false;
          continue;
        }
      /* expect \t spec \t error_contains \t driver — fields may be empty */
      char *f[4] = { NULL };
      char *p = line;
      for (int i = 0; i < 4; i++)
        {
          f[i] = p;
          char *tab = p ? strchr (p, '\t') : NULL;
          if (tab)
            {
              *tab = '\0';
              p = tab + 1;
            }
          else
            p = NULL;
        }
      assert_non_null (f[3]);
      cases++;
      struct mount_point mp = { 0 };
      berr_t e = BERR_INIT;
      int r = volspec_parse_bind_driver (f[1], f[3], &mp, &e);
      bool ok;
      if (strcmp (f[0], "valid") == 0)
        {
          ok = r == 0;
          if (!ok)
            printf ("# FAIL volume-spec raw \"%s\": %s\n", f[1], e.msg);
        }
      else
        {
          ok = r < 0 && strstr (e.msg, f[2]) != NULL;
          if (!ok)
            printf ("# FAIL volume-spec raw \"%s\": want error containing \"%s\", got %s\n", f[1],
                    f[2], r < 0 ? e.msg : "success");
        }
      passed += ok;
      mount_point_release (&mp);
      berr_release (&e);
    }
  vs_cases += cases;
  vs_passed += passed;
  assert_int_equal (cases, 59);
}

static void check_mp_field (struct sbuf *why, const char *name, const char *got, json_t *want)
{
  const char *w = json_is_string (want) ? json_string_value (want) : "";
  if (strcmp (got ? got : "", w) != 0 && why->len == 0)
    sbuf_addf (why, "%s: got \"%s\", want \"%s\"", name, got ? got : "", w);
}

static void check_mp_bool (struct sbuf *why, const char *name, bool got, json_t *want)
{
  if (got != json_is_true (want) && why->len == 0)
    sbuf_addf (why, "%s: got %d", name, got);
}

static void test_volume_spec_conformance (void **state)
{
  (void)state;
  read_tsv_raw ();

  cleanup_json json_t *parsed = load_json ("volume-spec/bind_spec_parsed.json");
  assert_non_null (parsed);
  size_t i;
  json_t *c;
  int cases = 0, passed = 0;
  json_array_foreach (json_object_get (parsed, "split"), i, c)
  {
    cases++;
    const char *spec = json_get_str (c, "spec");
    const char *driver = json_get_str (c, "driver");
    const char *want_err = json_get_str (c, "error_equals");
    json_t *want = json_object_get (c, "expected");
    struct mount_point mp = { 0 };
    berr_t e = BERR_INIT;
    int r = volspec_parse_bind_driver (spec, driver, &mp, &e);
    cleanup_sbuf struct sbuf why;
    sbuf_init (&why);
    if (want_err)
      {
        if (r == 0)
          sbuf_addf (&why, "parsed, want error \"%s\"", want_err);
        else if (strcmp (e.msg, want_err) != 0)
          sbuf_addf (&why, "error \"%s\", want \"%s\"", e.msg, want_err);
      }
    else if (r < 0)
      sbuf_addf (&why, "error %s", e.msg);
    else
      {
        check_mp_field (&why, "Source", mp.source, json_object_get (want, "Source"));
        check_mp_field (&why, "Destination", mp.destination, json_object_get (want, "Destination"));
        check_mp_field (&why, "Name", mp.name, json_object_get (want, "Name"));
        check_mp_field (&why, "Driver", mp.driver, json_object_get (want, "Driver"));
        check_mp_field (&why, "Type", mp.type, json_object_get (want, "Type"));
        check_mp_field (&why, "Mode", mp.mode, json_object_get (want, "Mode"));
        check_mp_field (&why, "Propagation", mp.propagation, json_object_get (want, "Propagation"));
        check_mp_bool (&why, "RW", mp.rw, json_object_get (want, "RW"));
        check_mp_bool (&why, "CopyData", mp.copy_data, json_object_get (want, "CopyData"));
        if (why.len == 0)
          json_match (json_object_get (want, "Spec"), mp.spec, "Spec", &why);
      }
    if (why.len)
      printf ("# FAIL volume-spec split \"%s\": %s\n", spec, why.buf);
    else
      passed++;
    mount_point_release (&mp);
    berr_release (&e);
  }
  json_array_foreach (json_object_get (parsed, "tmpfs"), i, c)
  {
    cases++;
    cleanup_free char *data = NULL;
    berr_t e = BERR_INIT;
    int r = volspec_tmpfs_options_data (json_object_get (c, "tmpfs_options"),
                                        json_is_true (json_object_get (c, "read_only")), &data, &e);
    bool ok;
    if (json_is_true (json_object_get (c, "error")))
      ok = r < 0;
    else
      {
        ok = r == 0;
        size_t k;
        json_t *s;
        json_array_foreach (json_object_get (c, "expected_substrings"), k, s)
        {
          ok = ok && strstr (data, json_string_value (s)) != NULL;
        }
        json_array_foreach (json_object_get (c, "unexpected_substrings"), k, s)
        {
          ok = ok && strstr (data, json_string_value (s)) == NULL;
        }
      }
    if (!ok)
      printf ("# FAIL volume-spec tmpfs[%zu]: \"%s\" %s\n", i, data ? data : "",
              e.msg ? e.msg : "");
    passed += ok;
    berr_release (&e);
  }
  vs_cases += cases;
  vs_passed += passed;
  printf ("# volume-spec: %d/%d\n", vs_passed, vs_cases);
  fflush (stdout);
  assert_int_equal (cases, 13);
  assert_int_equal (vs_passed, vs_cases);
}

/* filepath.Abs of ".", "./", "..", "../" computed without the code under test. */
static char *expected_abs (const char *placeholder)
{
  char cwd[4096];
  assert_non_null (getcwd (cwd, sizeof cwd));
  if (strcmp (placeholder, "<abs(.)>") == 0 || strcmp (placeholder, "<abs(./)>") == 0)
    return xstrdup (cwd);
  char *slash = strrchr (cwd, '/');
  if (slash == cwd)
    return xstrdup ("/");
  return xstrndup (cwd, (size_t)(slash - cwd));
}

static void test_docker_cli_mount_conformance (void **state)
{
  (void)state;
  cleanup_json json_t *doc = load_json ("docker-cli/mount_opt.json");
  assert_non_null (doc);
  size_t i;
  json_t *c;
  json_array_foreach (json_object_get (doc, "cases"), i, c)
  {
    dc_cases++;
    const char *input = json_get_str (c, "input");
    const char *want_err = json_get_str (c, "error_equals");
    const char *field = json_get_str (c, "check_field");
    const char *note = json_get_str (c, "note");
    json_t *want = json_object_get (c, "expected_mount");
    cleanup_json json_t *m = NULL;
    berr_t e = BERR_INIT;
    int r = volspec_parse_mount_opt (input, &m, &e);
    cleanup_sbuf struct sbuf why;
    sbuf_init (&why);
    if (want_err)
      {
        if (r == 0)
          sbuf_addf (&why, "parsed, want error \"%s\"", want_err);
        else if (strcmp (e.msg, want_err) != 0)
          sbuf_addf (&why, "error \"%s\", want \"%s\"", e.msg, want_err);
      }
    else if (r < 0)
      sbuf_addf (&why, "error %s", e.msg);
    else if (field)
      {
        /* "A.B": walk the dotted path; absent parts are zero values. */
        cleanup_free char *copy = xstrdup (field);
        char *dot = strchr (copy, '.');
        json_t *got;
        if (dot)
          {
            *dot = '\0';
            json_t *parent = json_object_get (m, copy);
            got = json_object_get (parent, dot + 1);
            if (note && strstr (note, "must be null/absent") && parent != NULL)
              sbuf_addf (&why, "%s must be absent", copy);
          }
        else
          got = json_object_get (m, copy);
        if (why.len == 0)
          json_match (json_object_get (c, "expected_value"), got, field, &why);
      }
    else
      {
        cleanup_json json_t *w = json_deep_copy (want);
        const char *src = json_get_str (w, "Source");
        if (src && src[0] == '<')
          {
            cleanup_free char *abs = expected_abs (src);
            json_object_set_new (w, "Source", json_string (abs));
          }
        json_match (w, m, "Mount", &why);
      }
    if (why.len)
      printf ("# FAIL docker-cli mount[%zu] \"%s\": %s\n", i, input, why.buf);
    else
      dc_passed++;
    berr_release (&e);
  }
  printf ("# docker-cli mount: %d/%d\n", dc_passed, dc_cases);
  fflush (stdout);
  assert_int_equal (dc_cases, 72);
  assert_int_equal (dc_passed, dc_cases);
}

int main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_volume_spec_conformance),
    cmocka_unit_test (test_docker_cli_mount_conformance),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
