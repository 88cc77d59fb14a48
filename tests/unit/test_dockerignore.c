/* .dockerignore: every vector of $CONFORMANCE_DIR/dockerignore (moby/patternmatcher's own
 * tests), the walker variants on the same tables, and the directory-skipping helper. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "build/dockerignore.h"
#include "util/fs.h"
#include "util/json.h"
#include "util/util.h"

static const char *conf_dir;
static int total_failed;

static char *conf_read (const char *name, size_t *len)
{
  cleanup_free char *path = xasprintf ("%s/dockerignore/%s", conf_dir, name);
  char *buf = NULL;
  berr_t err = BERR_INIT;
  if (fs_read_file (path, 1 << 22, &buf, len, &err) < 0)
    fail_msg ("%s", err.msg);
  return buf;
}

/* Split the TSV into data rows (comments and the header dropped); fields point into buf. */
static size_t tsv_rows (char *buf, char *rows[][5], size_t max)
{
  size_t nrows = 0;
  bool header = true;
  for (char *line = buf; line && *line;)
    {
      char *nl = strchr (line, '\n');
      if (nl)
        *nl = '\0';
      if (line[0] != '#' && line[0] != '\0')
        {
          if (header)
            header = false;
          else if (nrows < max)
            {
              char *f = line;
              for (int k = 0; k < 5; k++)
                {
                  rows[nrows][k] = f;
                  char *tab = f ? strchr (f, '\t') : NULL;
                  if (tab)
                    *tab = '\0';
                  f = tab ? tab + 1 : NULL;
                }
              nrows++;
            }
        }
      line = nl ? nl + 1 : NULL;
    }
  return nrows;
}

/* Walk the parents down to path with the per-pattern info, like upstream's test does. */
static int walk_info (di_matcher_t *m, const char *path, bool *out, berr_t *err)
{
  size_t n = di_matcher_count (m);
  cleanup_free bool *info = xcalloc (n + 1, sizeof (bool));
  cleanup_free bool *next = xcalloc (n + 1, sizeof (bool));
  bool have = false;
  const char *slash = strrchr (path, '/');
  cleanup_free char *head = xstrndup (path, slash ? (size_t)(slash - path + 1) : 0);
  cleanup_free char *parent = fs_path_clean (head);
  if (strcmp (parent, ".") != 0)
    {
      size_t len = strlen (parent);
      for (size_t i = 0; i <= len; i++)
        if (i == len || parent[i] == '/')
          {
            cleanup_free char *prefix = xstrndup (parent, i);
            bool ignored;
            berr_t e = BERR_INIT;
            if (di_matches_parent_info (m, prefix, have ? info : NULL, next, &ignored, &e) < 0)
              {
                berr_move (err, &e);
                return -1;
              }
            memcpy (info, next, n * sizeof (bool));
            have = true;
          }
    }
  return di_matches_parent_info (m, path, have ? info : NULL, NULL, out, err);
}

/* The same walk with only the parent's boolean (MatchesUsingParentResult). */
static int walk_result (di_matcher_t *m, const char *path, bool *out, berr_t *err)
{
  bool parent_matched = false;
  const char *slash = strrchr (path, '/');
  cleanup_free char *head = xstrndup (path, slash ? (size_t)(slash - path + 1) : 0);
  cleanup_free char *parent = fs_path_clean (head);
  if (strcmp (parent, ".") != 0)
    {
      size_t len = strlen (parent);
      for (size_t i = 0; i <= len; i++)
        if (i == len || parent[i] == '/')
          {
            cleanup_free char *prefix = xstrndup (parent, i);
            berr_t e = BERR_INIT;
            bool r = false;
            /* upstream drops these errors */
            di_matches_parent_result (m, prefix, parent_matched, &r, &e);
            parent_matched = r;
            berr_release (&e);
          }
    }
  return di_matches_parent_result (m, path, parent_matched, out, err);
}

enum api_variant
{
  V_PLAIN,
  V_INFO,
  V_RESULT,
};

/* One case: "true", "false" or "error". */
static const char *eval_case (const char *api, const char *const *pats, const char *path,
                              enum api_variant variant)
{
  berr_t err = BERR_INIT;
  bool res = false;
  int rc;
  if (strcmp (api, "Matches") == 0)
    rc = di_matches_legacy (pats, path, &res, &err);
  else
    {
      di_matcher_t *m = NULL;
      rc = di_matcher_new (pats, &m, &err);
      if (rc == 0)
        {
          if (variant == V_INFO)
            rc = walk_info (m, path, &res, &err);
          else if (variant == V_RESULT)
            rc = walk_result (m, path, &res, &err);
          else
            rc = di_matches (m, path, &res, &err);
          /* upstream asserts the error repeats (the lazily failed compile sticks) */
          if (rc < 0 && variant == V_PLAIN)
            {
              berr_t again = BERR_INIT;
              bool r2;
              if (di_matches (m, path, &r2, &again) == 0)
                rc = 0, res = !res; /* a flip makes the case fail */
              berr_release (&again);
            }
        }
      di_matcher_free (m);
    }
  berr_release (&err);
  return rc < 0 ? "error" : res ? "true" : "false";
}

static void report (const char *file, int pass, int total)
{
  printf ("# dockerignore %s: %d/%d\n", file, pass, total);
  total_failed += total - pass;
}

static void test_cases_tsv (void **state)
{
  (void)state;
  size_t len;
  cleanup_free char *buf = conf_read ("cases.tsv", &len);
  static char *rows[512][5];
  size_t n = tsv_rows (buf, rows, 512);
  int pass = 0, walk_pass = 0, walk_total = 0, res_pass = 0;
  for (size_t i = 0; i < n; i++)
    {
      const char *pats[] = { rows[i][1], NULL };
      const char *got = eval_case (rows[i][0], pats, rows[i][2], V_PLAIN);
      if (strcmp (got, rows[i][3]) == 0)
        pass++;
      else
        printf ("# FAIL cases.tsv %s [%s] [%s]: want %s got %s\n", rows[i][0], rows[i][1],
                rows[i][2], rows[i][3], got);
      if (strcmp (rows[i][0], "MatchesOrParentMatches") == 0)
        {
          walk_total++;
          got = eval_case (rows[i][0], pats, rows[i][2], V_INFO);
          if (strcmp (got, rows[i][3]) == 0)
            walk_pass++;
          else
            printf ("# FAIL cases.tsv (walk) [%s] [%s]: want %s got %s\n", rows[i][1], rows[i][2],
                    rows[i][3], got);
          got = eval_case (rows[i][0], pats, rows[i][2], V_RESULT);
          if (strcmp (got, rows[i][3]) == 0)
            res_pass++;
          else
            printf ("# FAIL cases.tsv (walk, parent result) [%s] [%s]: want %s got %s\n",
                    rows[i][1], rows[i][2], rows[i][3], got);
        }
    }
  report ("cases.tsv", pass, (int)n);
  report ("cases.tsv (MatchesUsingParentResults walk)", walk_pass, walk_total);
  report ("cases.tsv (MatchesUsingParentResult walk)", res_pass, walk_total);
  assert_true (n >= 100);
  assert_int_equal (pass, (int)n);
  assert_int_equal (walk_pass, walk_total);
  assert_int_equal (res_pass, walk_total);
}

static char **json_strv (json_t *arr)
{
  char **v = xcalloc (json_array_size (arr) + 1, sizeof (char *));
  for (size_t k = 0; k < json_array_size (arr); k++)
    v[k] = xstrdup (json_string_value (json_array_get (arr, k)));
  return v;
}

static void test_multi_tsv (void **state)
{
  (void)state;
  size_t len;
  cleanup_free char *buf = conf_read ("multi_cases.tsv", &len);
  static char *rows[128][5];
  size_t n = tsv_rows (buf, rows, 128);
  int pass = 0;
  for (size_t i = 0; i < n; i++)
    {
      json_t *arr = json_loads (rows[i][1], 0, NULL);
      assert_non_null (arr);
      cleanup_strv char **pats = json_strv (arr);
      json_decref (arr);
      const char *got = eval_case (rows[i][0], (const char *const *)pats, rows[i][2], V_PLAIN);
      bool ok = strcmp (got, rows[i][3]) == 0;
      if (ok && strcmp (rows[i][0], "MatchesOrParentMatches") == 0)
        ok = strcmp (eval_case (rows[i][0], (const char *const *)pats, rows[i][2], V_INFO),
                     rows[i][3])
             == 0;
      if (ok)
        pass++;
      else
        printf ("# FAIL multi_cases.tsv %s %s [%s]: want %s got %s\n", rows[i][0], rows[i][1],
                rows[i][2], rows[i][3], got);
    }
  report ("multi_cases.tsv", pass, (int)n);
  assert_true (n >= 10);
  assert_int_equal (pass, (int)n);
}

static void test_compile_tsv (void **state)
{
  (void)state;
  size_t len;
  cleanup_free char *buf = conf_read ("compile.tsv", &len);
  static char *rows[128][5];
  size_t n = tsv_rows (buf, rows, 128);
  int pass = 0;
  for (size_t i = 0; i < n; i++)
    {
      const char *got = di_pattern_kind (rows[i][0]);
      if (strcmp (got, rows[i][1]) == 0)
        pass++;
      else
        printf ("# FAIL compile.tsv [%s]: want %s got %s\n", rows[i][0], rows[i][1], got);
    }
  report ("compile.tsv (match_type)", pass, (int)n);
  assert_true (n >= 20);
  assert_int_equal (pass, (int)n);
}

static void test_cases_json (void **state)
{
  (void)state;
  size_t len;
  cleanup_free char *buf = conf_read ("cases.json", &len);
  json_t *root = json_loadb (buf, len, 0, NULL);
  assert_non_null (root);
  int pass = 0, total = 0;
  json_t *single = json_object_get (root, "single"), *multi = json_object_get (root, "multi");
  json_t *c;
  size_t i;
  json_array_foreach (single, i, c)
  {
    const char *api = json_string_value (json_object_get (c, "api"));
    const char *pats[] = { json_string_value (json_object_get (c, "pattern")), NULL };
    const char *path = json_string_value (json_object_get (c, "path"));
    const char *want = json_string_value (json_object_get (c, "expected"));
    total++;
    if (strcmp (eval_case (api, pats, path, V_PLAIN), want) == 0)
      pass++;
    else
      printf ("# FAIL cases.json single [%s] [%s]\n", pats[0], path);
  }
  json_array_foreach (multi, i, c)
  {
    const char *api = json_string_value (json_object_get (c, "api"));
    cleanup_strv char **pats = json_strv (json_object_get (c, "patterns"));
    const char *path = json_string_value (json_object_get (c, "path"));
    const char *want = json_string_value (json_object_get (c, "expected"));
    total++;
    if (strcmp (eval_case (api, (const char *const *)pats, path, V_PLAIN), want) == 0)
      pass++;
    else
      printf ("# FAIL cases.json multi [%s]\n", path);
  }
  json_t *comp = json_object_get (root, "compile");
  json_array_foreach (comp, i, c)
  {
    total++;
    const char *pat = json_string_value (json_object_get (c, "pattern"));
    const char *want = json_string_value (json_object_get (c, "match_type"));
    if (pat && want && strcmp (di_pattern_kind (pat), want) == 0)
      pass++;
    else
      printf ("# FAIL cases.json compile [%s]\n", pat ? pat : "?");
  }
  json_decref (root);
  report ("cases.json", pass, total);
  assert_true (total >= 150);
  assert_int_equal (pass, total);
}

static void test_ignorefile (void **state)
{
  (void)state;
  size_t len, elen;
  cleanup_free char *buf = conf_read ("ignorefile/readall.dockerignore", &len);
  cleanup_free char *ebuf = conf_read ("ignorefile/readall.expected.json", &elen);
  json_t *root = json_loadb (ebuf, elen, 0, NULL);
  assert_non_null (root);
  json_t *want = json_object_get (root, "expected_patterns");
  cleanup_strv char **got = NULL;
  berr_t err = BERR_INIT;
  assert_int_equal (di_read_patterns (buf, len, &got, &err), 0);
  size_t n = json_array_size (want);
  int pass = 0;
  for (size_t i = 0; i < n; i++)
    if (i < strv_len (got) && strcmp (got[i], json_string_value (json_array_get (want, i))) == 0)
      pass++;
  if (strv_len (got) != n)
    pass = 0;
  json_decref (root);
  report ("ignorefile/readall.dockerignore", pass, (int)n);
  assert_int_equal (strv_len (got), n);
  assert_int_equal (pass, (int)n);
}

/* Reader details beyond the corpus file: BOM, CRLF, Unicode spaces, comments only in column 0,
 * and the 64 KiB line limit. */
static void test_reader_details (void **state)
{
  (void)state;
  const char in[] = "\xEF\xBB\xBF"
                    "a\r\n"
                    "  #not-comment\n"
                    "\xC2\xA0"
                    "b/./c/\xE3\x80\x80\n"
                    "!  /x/../y\n"
                    "/\n"
                    "\t\n";
  cleanup_strv char **got = NULL;
  berr_t err = BERR_INIT;
  assert_int_equal (di_read_patterns (in, sizeof in - 1, &got, &err), 0);
  assert_int_equal (strv_len (got), 5);
  assert_string_equal (got[0], "a");
  assert_string_equal (got[1], "#not-comment");
  assert_string_equal (got[2], "b/c");
  assert_string_equal (got[3], "!y");
  assert_string_equal (got[4], "/");

  size_t big = 70 * 1024;
  cleanup_free char *long_line = xmalloc (big + 8);
  memcpy (long_line, "ok\n", 3);
  memset (long_line + 3, 'x', big);
  cleanup_strv char **none = NULL;
  assert_int_equal (di_read_patterns (long_line, big + 3, &none, &err), -1);
  assert_non_null (strstr (err.msg, "line 2"));
  berr_release (&err);

  /* the boundary: 65535 bytes pass, 65536 do not, with or without the newline */
  for (int nl = 0; nl <= 1; nl++)
    for (size_t n = 65535; n <= 65536; n++)
      {
        long_line[3 + n] = '\n';
        cleanup_strv char **res = NULL;
        int rc = di_read_patterns (long_line + 3, n + (size_t)nl, &res, &err);
        assert_int_equal (rc, n == 65535 ? 0 : -1);
        if (rc == 0)
          assert_int_equal (strlen (res[0]), n);
        long_line[3 + n] = 'x';
        berr_release (&err);
      }
}

static void test_dir_skip (void **state)
{
  (void)state;
  di_matcher_t *m = NULL;
  berr_t err = BERR_INIT;
  const char *p1[] = { "node_modules", "build", "!build/keep.txt", "!docs/*/README.md", NULL };
  assert_int_equal (di_matcher_new (p1, &m, &err), 0);
  assert_true (di_matcher_has_exclusions (m));
  assert_false (di_dir_may_reinclude (m, "node_modules"));
  assert_true (di_dir_may_reinclude (m, "build"));
  assert_false (di_dir_may_reinclude (m, "build/sub"));
  assert_true (di_dir_may_reinclude (m, "docs/api"));
  assert_false (di_dir_may_reinclude (m, "src"));
  bool r;
  assert_int_equal (di_matches (m, "build/keep.txt", &r, &err), 0);
  assert_false (r);
  assert_int_equal (di_matches (m, "build/other", &r, &err), 0);
  assert_true (r);
  assert_int_equal (di_matches (m, "node_modules/a/b", &r, &err), 0);
  assert_true (r);
  di_matcher_free (m);

  const char *p2[] = { "*", "!**/*.go", NULL };
  assert_int_equal (di_matcher_new (p2, &m, &err), 0);
  assert_true (di_dir_may_reinclude (m, "deep/down"));
  assert_int_equal (di_matches_parent_result (m, "deep/down/x.go", true, &r, &err), 0);
  assert_false (r);
  di_matcher_free (m);

  const char *p3[] = { "a", NULL };
  assert_int_equal (di_matcher_new (p3, &m, &err), 0);
  assert_false (di_matcher_has_exclusions (m));
  assert_false (di_dir_may_reinclude (m, "a"));
  di_matcher_free (m);

  const char *bad[] = { "ok", "!", NULL };
  assert_int_equal (di_matcher_new (bad, &m, &err), -1);
  assert_non_null (strstr (err.msg, "illegal exclusion pattern"));
  berr_release (&err);
}

/* Consequences of upstream's regexp translation that the corpus does not pin. */
static void test_regexp_details (void **state)
{
  (void)state;
  struct
  {
    const char *pat, *path, *want;
  } v[] = {
    { "a^b", "a^b", "true" },          /* no wildcard: compared as a string */
    { "a^*", "a^x", "false" },         /* in an expression '^' is an anchor */
    { "a*", "a\nb", "true" },          /* [^/] takes a newline */
    { "a/**/b", "a/c\nd/b", "false" }, /* but "(.*\/)?" does not */
    { "x/**", "x/a\nb", "true" },      /* prefix match */
    { "a\\\\*", "a\\zz", "true" },
    { "x]", "x]", "true" },
    { "x]*", "x]y", "true" },
    { "[a-c]/x", "b/x/y", "true" }, /* parent prefix */
    { "[^a]", "/", "true" },        /* a negated class takes '/' */
    { "[Local-Only]", "L", "error" },
    { "?", "\xCE\xB1", "true" }, /* one rune, not one byte */
    { "a\xCE\xB1?", "a\xCE\xB1x", "true" },
    /* escapes and named classes are the regexp engine's */
    { "x\\d", "x5", "true" },
    { "x\\d", "xd", "false" },
    { "a\\Db", "a/b", "true" }, /* \D takes '/' */
    { "\\w*", "a_1", "true" },
    { "\\s", "\v", "false" },
    { "\\Ax\\z", "x", "true" },
    { "[[:alpha:]]x", "bx", "true" },
    { "[[:^digit:]]", "a", "true" },
    { "[[:^digit:]]", "1", "false" },
    { "[\\d-]", "-", "error" }, /* filepath.Match rejects "d-]" */
    { "[\\d\\-]", "-", "true" },
    { "[\\d\\-]", "7", "true" },
    { "[^\\W]", "_", "true" },
    { "[[:space:]]", "\v", "true" },
    { "[[:foo:]]", "f", "error" },
    { "x\\pL", "xa", "error" }, /* unsupported here (upstream: a Unicode letter) */
  };
  for (size_t i = 0; i < sizeof v / sizeof v[0]; i++)
    {
      const char *pats[] = { v[i].pat, NULL };
      const char *got = eval_case ("MatchesOrParentMatches", pats, v[i].path, V_PLAIN);
      if (strcmp (got, v[i].want) != 0)
        fail_msg ("[%s] [%s]: want %s got %s", v[i].pat, v[i].path, v[i].want, got);
    }
}

int main (void)
{
  conf_dir = getenv ("CONFORMANCE_DIR");
  if (conf_dir == NULL)
    {
      printf ("# CONFORMANCE_DIR is not set\n");
      return 1;
    }
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_cases_tsv),   cmocka_unit_test (test_multi_tsv),
    cmocka_unit_test (test_compile_tsv), cmocka_unit_test (test_cases_json),
    cmocka_unit_test (test_ignorefile),  cmocka_unit_test (test_reader_details),
    cmocka_unit_test (test_dir_skip),    cmocka_unit_test (test_regexp_details),
  };
  int rc = cmocka_run_group_tests (tests, NULL, NULL);
  printf ("# dockerignore: %d corpus case(s) failed\n", total_failed);
  return rc;
}
