/* test_dockerfile.c — the Dockerfile parser against BuildKit's parser corpus
 * ($CONFORMANCE_DIR/buildkit-parser): every `result` dump byte for byte, the negative cases,
 * and the tables extracted from BuildKit's Go tests. One "# buildkit-parser <corpus>: N/M" line
 * per corpus; every mismatch is printed as a "# FAIL" line. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "build/dockerfile.h"
#include "util/fs.h"
#include "util/util.h"

static const char *conf_dir;
static int total_failed;

struct tally
{
  const char *name;
  int pass, total;
};

static void tally_end (struct tally *t)
{
  printf ("# buildkit-parser %s: %d/%d\n", t->name, t->pass, t->total);
  total_failed += t->total - t->pass;
}

static void check (struct tally *t, bool ok, const char *fmt, ...) PRINTF_LIKE (3, 4);
static void check (struct tally *t, bool ok, const char *fmt, ...)
{
  t->total++;
  if (ok)
    {
      t->pass++;
      return;
    }
  va_list ap;
  va_start (ap, fmt);
  printf ("# FAIL %s: ", t->name);
  vprintf (fmt, ap);
  printf ("\n");
  va_end (ap);
}

static char *read_conf (const char *rel, size_t *len)
{
  cleanup_free char *path = xasprintf ("%s/buildkit-parser/%s", conf_dir, rel);
  berr_t err = BERR_INIT;
  char *data = NULL;
  size_t n = 0;
  if (fs_read_file (path, 16 << 20, &data, &n, &err) < 0)
    {
      printf ("# cannot read %s: %s\n", path, err.msg);
      berr_release (&err);
      return NULL;
    }
  if (len)
    *len = n;
  return data;
}

static json_t *load_json (const char *rel)
{
  size_t len;
  cleanup_free char *data = read_conf (rel, &len);
  if (data == NULL)
    return NULL;
  json_error_t jerr;
  json_t *j = json_loadb (data, len, JSON_ALLOW_NUL, &jerr);
  if (j == NULL)
    printf ("# bad JSON %s: %s\n", rel, jerr.text);
  return j;
}

static int cmp_str (const void *a, const void *b)
{
  return strcmp (*(char *const *)a, *(char *const *)b);
}

static char **list_dirs (const char *rel)
{
  cleanup_free char *path = xasprintf ("%s/buildkit-parser/%s", conf_dir, rel);
  char **v = xcalloc (1, sizeof (char *));
  DIR *d = opendir (path);
  if (d == NULL)
    return v;
  struct dirent *e;
  while ((e = readdir (d)) != NULL)
    if (e->d_name[0] != '.')
      strv_push (&v, e->d_name);
  closedir (d);
  qsort (v, strv_len (v), sizeof (char *), cmp_str);
  return v;
}

static struct df_result *parse_conf (const char *rel, berr_t *err)
{
  size_t len;
  cleanup_free char *data = read_conf (rel, &len);
  if (data == NULL)
    {
      berr_set (err, 0, "cannot read %s", rel);
      return NULL;
    }
  struct df_result *r = NULL;
  if (df_parse ("Dockerfile", data, len, &r, err) < 0)
    return NULL;
  return r;
}

static void test_testfiles (void **state arg_unused)
{
  struct tally t = { "testfiles", 0, 0 };
  cleanup_strv char **dirs = list_dirs ("testfiles");
  for (size_t i = 0; dirs[i]; i++)
    {
      cleanup_free char *df = xasprintf ("testfiles/%s/Dockerfile", dirs[i]);
      cleanup_free char *res = xasprintf ("testfiles/%s/result", dirs[i]);
      cleanup_free char *want = read_conf (res, NULL);
      berr_t err = BERR_INIT;
      struct df_result *r = parse_conf (df, &err);
      if (r == NULL)
        {
          check (&t, false, "%s: %s", dirs[i], err.msg);
          berr_release (&err);
          continue;
        }
      cleanup_free char *got = df_dump (r);
      bool ok = want && strcmp (got, want) == 0;
      check (&t, ok, "%s: dump differs:\n%s", dirs[i], got);
      df_result_free (r);
    }
  tally_end (&t);
  assert_int_equal (t.pass, t.total);
  assert_true (t.total >= 33);
}

static void test_negative (void **state arg_unused)
{
  struct tally t = { "negative", 0, 0 };
  cleanup_strv char **dirs = list_dirs ("testfiles-negative");
  for (size_t i = 0; dirs[i]; i++)
    {
      cleanup_free char *df = xasprintf ("testfiles-negative/%s/Dockerfile", dirs[i]);
      berr_t err = BERR_INIT;
      struct df_result *r = parse_conf (df, &err);
      /* the error must name the file and a line */
      bool ok = r == NULL && err.msg && str_has_prefix (err.msg, "Dockerfile:");
      check (&t, ok, "%s: parsed, or error without location (%s)", dirs[i],
             err.msg ? err.msg : "none");
      if (err.msg)
        printf ("# %s: %s\n", dirs[i], err.msg);
      berr_release (&err);
      df_result_free (r);
    }
  tally_end (&t);
  assert_int_equal (t.pass, t.total);
  assert_true (t.total >= 4);
}

static void test_line_numbers (void **state arg_unused)
{
  struct tally t = { "extracted/line_numbers.json", 0, 0 };
  json_t *j = load_json ("extracted/line_numbers.json");
  assert_non_null (j);
  berr_t err = BERR_INIT;
  struct df_result *r = parse_conf ("testfile-line/Dockerfile", &err);
  check (&t, r != NULL, "parse: %s", err.msg);
  berr_release (&err);
  if (r)
    {
      json_t *root = json_object_get (j, "root");
      check (&t,
             r->start_line == json_integer_value (json_object_get (root, "start_line"))
                 && r->end_line == json_integer_value (json_object_get (root, "end_line"))
                 && (json_int_t)r->n_nodes
                        == json_integer_value (json_object_get (root, "children_count")),
             "root %d-%d (%zu children)", r->start_line, r->end_line, r->n_nodes);
      size_t i;
      json_t *c;
      json_array_foreach (json_object_get (j, "children"), i, c)
      {
        bool ok = i < r->n_nodes
                  && r->nodes[i].start_line == json_integer_value (json_array_get (c, 0))
                  && r->nodes[i].end_line == json_integer_value (json_array_get (c, 1));
        check (&t, ok, "child %zu: %d-%d", i, i < r->n_nodes ? r->nodes[i].start_line : -1,
               i < r->n_nodes ? r->nodes[i].end_line : -1);
      }
      df_result_free (r);
    }
  json_decref (j);
  tally_end (&t);
  assert_int_equal (t.pass, t.total);
}

static bool strv_equals_json (char **v, json_t *arr)
{
  if (strv_len (v) != json_array_size (arr))
    return false;
  for (size_t i = 0; v[i]; i++)
    if (strcmp (v[i], json_string_value (json_array_get (arr, i))) != 0)
      return false;
  return true;
}

static bool words_equal_json (struct df_word *w, size_t n, json_t *arr)
{
  if (n != json_array_size (arr))
    return false;
  for (size_t i = 0; i < n; i++)
    {
      json_t *s = json_array_get (arr, i);
      if (!json_is_string (s) || json_string_length (s) != w[i].len
          || memcmp (json_string_value (s), w[i].value, w[i].len) != 0)
        return false;
    }
  return true;
}

static void test_parse_words (void **state arg_unused)
{
  struct tally t = { "extracted/parse_words.json", 0, 0 };
  json_t *j = load_json ("extracted/parse_words.json");
  assert_non_null (j);
  size_t i;
  json_t *c;
  json_array_foreach (json_object_get (j, "cases"), i, c)
  {
    const char *in = json_string_value (json_object_get (c, "input"));
    cleanup_strv char **w = df_parse_words (in, '\\');
    check (&t, strv_equals_json (w, json_object_get (c, "expected")), "%s", in);
  }
  json_decref (j);
  tally_end (&t);
  assert_int_equal (t.pass, t.total);
}

static void test_name_val (void **state arg_unused)
{
  struct tally t = { "extracted/name_val.json", 0, 0 };
  json_t *j = load_json ("extracted/name_val.json");
  assert_non_null (j);
  size_t i;
  json_t *c;
  json_array_foreach (json_object_get (j, "cases"), i, c)
  {
    const char *in = json_string_value (json_object_get (c, "input"));
    const char *kw = json_string_value (json_object_get (c, "keyword"));
    struct df_word *w = NULL;
    size_t n = 0;
    berr_t err = BERR_INIT;
    int rc = df_parse_name_val (in, kw, '\\', &w, &n, &err);
    json_t *want_err = json_object_get (c, "expected_error");
    if (want_err)
      check (&t, rc < 0 && strcmp (err.msg, json_string_value (want_err)) == 0, "%s: %s", in,
             err.msg ? err.msg : "accepted");
    else
      check (&t, rc == 0 && words_equal_json (w, n, json_object_get (c, "expected_chain")), "%s",
             in);
    berr_release (&err);
    df_words_free (w, n);
  }
  json_decref (j);
  tally_end (&t);
  assert_int_equal (t.pass, t.total);
}

static void test_json_arrays (void **state arg_unused)
{
  struct tally t = { "extracted/json_arrays.json", 0, 0 };
  json_t *j = load_json ("extracted/json_arrays.json");
  assert_non_null (j);
  size_t i;
  json_t *c;
  json_array_foreach (json_object_get (j, "valid"), i, c)
  {
    const char *in = json_string_value (json_object_get (c, "input"));
    struct df_word *w = NULL;
    size_t n = 0;
    berr_t err = BERR_INIT;
    int rc = df_parse_json_array (in, &w, &n, &err);
    check (&t, rc == 1 && words_equal_json (w, n, json_object_get (c, "expected")), "%s", in);
    berr_release (&err);
    df_words_free (w, n);
  }
  json_array_foreach (json_object_get (j, "not_string_array"), i, c)
  {
    const char *in = json_string_value (c);
    struct df_word *w = NULL;
    size_t n = 0;
    berr_t err = BERR_INIT;
    int rc = df_parse_json_array (in, &w, &n, &err);
    check (&t,
           rc < 0 && err.msg
               && strcmp (err.msg, "when using JSON array syntax, arrays must be comprised of "
                                   "strings only")
                      == 0,
           "%s: %s", in, err.msg ? err.msg : "accepted");
    berr_release (&err);
    df_words_free (w, n);
  }
  json_decref (j);
  tally_end (&t);
  assert_int_equal (t.pass, t.total);
}

static void test_scanner_errors (void **state arg_unused)
{
  struct tally t = { "extracted/scanner_errors.json", 0, 0 };
  json_t *j = load_json ("extracted/scanner_errors.json");
  assert_non_null (j);
  const char *tmpl = json_string_value (json_object_get (j, "input_template"));
  const char *rep = json_string_value (json_object_get (j, "repeat_char"));
  json_int_t count = json_integer_value (json_object_get (j, "repeat_count"));
  const char *want = json_string_value (json_object_get (j, "expected_error"));
  const char *pct = strstr (tmpl, "%s");
  assert_non_null (pct);
  struct sbuf b;
  sbuf_init (&b);
  sbuf_add (&b, tmpl, (size_t)(pct - tmpl));
  for (json_int_t k = 0; k < count; k++)
    sbuf_adds (&b, rep);
  sbuf_adds (&b, pct + 2);
  struct df_result *r = NULL;
  berr_t err = BERR_INIT;
  int rc = df_parse ("Dockerfile", b.buf, b.len, &r, &err);
  /* BuildKit's text, after our "Dockerfile:N: " location prefix */
  const char *msg = err.msg ? strchr (strchr (err.msg, ':') + 1, ':') : NULL;
  check (&t, rc < 0 && msg && strcmp (msg + 2, want) == 0, "got %s", err.msg ? err.msg : "success");
  berr_release (&err);
  df_result_free (r);
  sbuf_release (&b);
  json_decref (j);
  tally_end (&t);
  assert_int_equal (t.pass, t.total);
}

static void test_empty_continuation (void **state arg_unused)
{
  struct tally t = { "extracted/empty_continuation.json", 0, 0 };
  json_t *j = load_json ("extracted/empty_continuation.expected.json");
  assert_non_null (j);
  berr_t err = BERR_INIT;
  struct df_result *r = parse_conf ("extracted/empty_continuation.Dockerfile", &err);
  check (&t, r != NULL, "parse: %s", err.msg);
  berr_release (&err);
  if (r)
    {
      check (&t,
             (json_int_t)r->n_warnings
                 == json_integer_value (json_object_get (j, "warnings_count")),
             "%zu warnings", r->n_warnings);
      size_t i;
      json_t *c;
      json_array_foreach (json_object_get (j, "warnings_contain"), i, c)
      {
        size_t k;
        json_t *s;
        bool ok = i < r->n_warnings;
        json_array_foreach (c, k, s) ok
            = ok && strstr (r->warnings[i].short_text, json_string_value (s)) != NULL;
        check (&t, ok, "warning %zu: %s", i, i < r->n_warnings ? r->warnings[i].short_text : "");
      }
      df_result_free (r);
    }
  json_decref (j);
  tally_end (&t);
  assert_int_equal (t.pass, t.total);
}

static bool heredocs_equal (const struct df_node *n, json_t *want)
{
  if (json_is_null (want) || want == NULL)
    return n->n_heredocs == 0;
  if (json_array_size (want) != n->n_heredocs)
    return false;
  for (size_t i = 0; i < n->n_heredocs; i++)
    {
      json_t *h = json_array_get (want, i);
      const struct df_heredoc *g = &n->heredocs[i];
      if (strcmp (g->name, json_string_value (json_object_get (h, "Name"))) != 0
          || (json_int_t)g->fd != json_integer_value (json_object_get (h, "FileDescriptor"))
          || g->expand != json_is_true (json_object_get (h, "Expand"))
          || g->chomp != json_is_true (json_object_get (h, "Chomp"))
          || strcmp (g->content, json_string_value (json_object_get (h, "Content"))) != 0)
        return false;
    }
  return true;
}

static void heredoc_file_cases (const char *label, const char *expected)
{
  struct tally t = { label, 0, 0 };
  cleanup_free char *rel = xasprintf ("extracted/%s", expected);
  json_t *j = load_json (rel);
  assert_non_null (j);
  cleanup_free char *df
      = xasprintf ("extracted/%s", json_string_value (json_object_get (j, "input")));
  berr_t err = BERR_INIT;
  struct df_result *r = parse_conf (df, &err);
  check (&t, r != NULL, "parse: %s", err.msg);
  berr_release (&err);
  size_t i;
  json_t *c;
  json_array_foreach (json_object_get (j, "cases"), i, c)
  {
    json_int_t k = json_integer_value (json_object_get (c, "child_index"));
    bool ok = r && k < (json_int_t)r->n_nodes
              && heredocs_equal (&r->nodes[k], json_object_get (c, "heredocs"));
    check (&t, ok, "child %lld", (long long)k);
  }
  df_result_free (r);
  json_decref (j);
  tally_end (&t);
  assert_int_equal (t.pass, t.total);
}

static void test_heredoc_extract (void **state arg_unused)
{
  heredoc_file_cases ("extracted/heredoc_extract", "heredoc_extract.expected.json");
}

static void test_heredoc_json (void **state arg_unused)
{
  heredoc_file_cases ("extracted/heredoc_json", "heredoc_json.expected.json");
}

static void test_heredoc_helpers (void **state arg_unused)
{
  struct tally t = { "extracted/heredoc_helpers.json", 0, 0 };
  json_t *j = load_json ("extracted/heredoc_helpers.json");
  assert_non_null (j);
  json_t *ph = json_object_get (j, "parse_heredoc");
  size_t i;
  json_t *c;
  json_array_foreach (json_object_get (ph, "valid_name_EOF"), i, c)
  {
    struct df_heredoc h;
    berr_t err = BERR_INIT;
    int r = df_parse_heredoc (json_string_value (c), &h, &err);
    check (&t, r == 1 && strcmp (h.name, "EOF") == 0, "valid %s", json_string_value (c));
    if (r == 1)
      df_heredoc_clear (&h);
    berr_release (&err);
  }
  json_array_foreach (json_object_get (ph, "invalid_error"), i, c)
  {
    struct df_heredoc h;
    berr_t err = BERR_INIT;
    int r = df_parse_heredoc (json_string_value (c), &h, &err);
    check (&t, r < 0, "invalid %s accepted", json_string_value (c));
    if (r == 1)
      df_heredoc_clear (&h);
    berr_release (&err);
  }
  json_array_foreach (json_object_get (ph, "not_heredoc"), i, c)
  {
    struct df_heredoc h;
    berr_t err = BERR_INIT;
    int r = df_parse_heredoc (json_string_value (c), &h, &err);
    check (&t, r == 0, "not-heredoc %s: %d", json_string_value (c), r);
    if (r == 1)
      df_heredoc_clear (&h);
    berr_release (&err);
  }
  json_array_foreach (json_object_get (json_object_get (j, "heredocs_from_line"), "cases"), i, c)
  {
    const char *line = json_string_value (json_object_get (c, "line"));
    json_t *names = json_object_get (c, "heredoc_names");
    struct df_heredoc *h = NULL;
    size_t n = 0;
    berr_t err = BERR_INIT;
    int r = df_heredocs_from_line (line, &h, &n, &err);
    bool ok = r == 0 && n == (json_is_array (names) ? json_array_size (names) : 0);
    for (size_t k = 0; ok && k < n; k++)
      ok = strcmp (h[k].name, json_string_value (json_array_get (names, k))) == 0;
    check (&t, ok, "line %s: %zu heredoc(s)", line, n);
    df_heredocs_free (h, n);
    berr_release (&err);
  }
  json_decref (j);
  tally_end (&t);
  assert_int_equal (t.pass, t.total);
}

static void test_heredoc_chomp (void **state arg_unused)
{
  struct tally t = { "extracted/heredoc_chomp.json", 0, 0 };
  json_t *j = load_json ("extracted/heredoc_chomp.json");
  assert_non_null (j);
  size_t i;
  json_t *c;
  json_array_foreach (json_object_get (j, "cases"), i, c)
  {
    cleanup_free char *got = df_heredoc_chomp (json_string_value (json_object_get (c, "input")));
    check (&t, strcmp (got, json_string_value (json_object_get (c, "expected"))) == 0, "%s", got);
  }
  json_decref (j);
  tally_end (&t);
  assert_int_equal (t.pass, t.total);
}

static void test_directives (void **state arg_unused)
{
  struct tally t = { "extracted/directives.json", 0, 0 };
  json_t *j = load_json ("extracted/directives.json");
  assert_non_null (j);
  size_t i;
  json_t *c;
  json_array_foreach (json_object_get (j, "parse_all"), i, c)
  {
    const char *in = json_string_value (json_object_get (c, "input"));
    json_t *want = json_object_get (c, "expected");
    struct df_directive *d = NULL;
    size_t n = 0;
    berr_t err = BERR_INIT;
    int rc = df_parse_directives (in, strlen (in), &d, &n, &err);
    bool ok = rc == 0 && n == json_array_size (want);
    for (size_t k = 0; ok && k < n; k++)
      {
        json_t *w = json_array_get (want, k);
        ok = strcmp (d[k].name, json_string_value (json_object_get (w, "name"))) == 0
             && strcmp (d[k].value, json_string_value (json_object_get (w, "value"))) == 0;
      }
    check (&t, ok, "parse_all %zu: %zu directive(s)", i, n);
    df_directives_free (d, n);
    berr_release (&err);
  }
  const char *groups[] = { "detect_syntax", "parse_directive_check" };
  for (size_t g = 0; g < 2; g++)
    json_array_foreach (json_object_get (j, groups[g]), i, c)
    {
      const char *in = json_string_value (json_object_get (c, "input"));
      cleanup_free char *value = NULL;
      cleanup_free char *cmdline = NULL;
      int line = 0;
      int found = df_find_directive (in, strlen (in), g == 0 ? "syntax" : "check", g == 0, &value,
                                     &cmdline, &line);
      bool ok = found == json_is_true (json_object_get (c, "ok"));
      json_t *v = json_object_get (c, g == 0 ? "ref" : "value");
      if (ok && json_is_string (v))
        ok = strcmp (value ? value : "", json_string_value (v)) == 0;
      json_t *cl = json_object_get (c, "cmdline");
      if (ok && json_is_string (cl))
        ok = strcmp (cmdline ? cmdline : "", json_string_value (cl)) == 0;
      json_t *ln = json_object_get (c, "line");
      if (ok && json_is_integer (ln))
        ok = line == json_integer_value (ln);
      check (&t, ok, "%s %zu: found %d value %s line %d", groups[g], i, found, value ? value : "-",
             line);
    }
  json_decref (j);
  tally_end (&t);
  assert_int_equal (t.pass, t.total);
}

static struct df_result *parse_str (const char *text, berr_t *err)
{
  struct df_result *r = NULL;
  if (df_parse ("Dockerfile", text, strlen (text), &r, err) < 0)
    return NULL;
  return r;
}

static void test_instruction_errors (void **state arg_unused)
{
  struct tally t = { "extracted/instruction_errors.json", 0, 0 };
  json_t *j = load_json ("extracted/instruction_errors.json");
  assert_non_null (j);
  size_t i;
  json_t *c;
  json_array_foreach (json_object_get (j, "cases"), i, c)
  {
    const char *name = json_string_value (json_object_get (c, "name"));
    berr_t err = BERR_INIT;
    struct df_result *r = parse_str (json_string_value (json_object_get (c, "dockerfile")), &err);
    bool ok = r != NULL && df_instruction_check (&r->nodes[0], &err) < 0;
    json_t *eq = json_object_get (c, "expected_error_equals");
    json_t *has = json_object_get (c, "expected_error_contains");
    if (ok && eq)
      ok = strcmp (err.msg, json_string_value (eq)) == 0;
    if (ok && has)
      ok = strstr (err.msg, json_string_value (has)) != NULL;
    check (&t, ok, "%s: %s", name, err.msg ? err.msg : "no error");
    berr_release (&err);
    df_result_free (r);
  }
  json_decref (j);
  tally_end (&t);
  assert_int_equal (t.pass, t.total);
}

static void test_instruction_copy_heredoc (void **state arg_unused)
{
  struct tally t = { "extracted/instruction_copy_heredoc.json", 0, 0 };
  json_t *j = load_json ("extracted/instruction_copy_heredoc.json");
  assert_non_null (j);
  size_t i;
  json_t *c;
  json_array_foreach (json_object_get (j, "cases"), i, c)
  {
    const char *df = json_string_value (json_object_get (c, "dockerfile"));
    json_t *want = json_object_get (c, "expected");
    berr_t err = BERR_INIT;
    struct df_result *r = parse_str (df, &err);
    cleanup_free char *dest = NULL;
    cleanup_strv char **paths = NULL;
    struct df_heredoc *hc = NULL;
    size_t nc = 0;
    bool ok = r && df_copy_sources (&r->nodes[0], &dest, &paths, &hc, &nc, &err) == 0;
    if (ok)
      {
        json_t *sp = json_object_get (want, "SourcePaths");
        json_t *sc = json_object_get (want, "SourceContents");
        ok = strcmp (dest, json_string_value (json_object_get (want, "DestPath"))) == 0
             && strv_len (paths) == json_array_size (sp) && nc == json_array_size (sc);
        for (size_t k = 0; ok && paths[k]; k++)
          ok = strcmp (paths[k], json_string_value (json_array_get (sp, k))) == 0;
        for (size_t k = 0; ok && k < nc; k++)
          {
            json_t *e = json_array_get (sc, k);
            ok = strcmp (hc[k].name, json_string_value (json_object_get (e, "Path"))) == 0
                 && strcmp (hc[k].content, json_string_value (json_object_get (e, "Data"))) == 0
                 && hc[k].expand == json_is_true (json_object_get (e, "Expand"));
          }
      }
    check (&t, ok, "%s: %s", df, err.msg ? err.msg : "differs");
    df_heredocs_free (hc, nc);
    berr_release (&err);
    df_result_free (r);
  }
  json_decref (j);
  tally_end (&t);
  assert_int_equal (t.pass, t.total);
}

static void test_instruction_run_heredoc (void **state arg_unused)
{
  struct tally t = { "extracted/instruction_run_heredoc.json", 0, 0 };
  json_t *j = load_json ("extracted/instruction_run_heredoc.json");
  assert_non_null (j);
  size_t i;
  json_t *c;
  json_array_foreach (json_object_get (j, "cases"), i, c)
  {
    const char *df = json_string_value (json_object_get (c, "dockerfile"));
    berr_t err = BERR_INIT;
    struct df_result *r = parse_str (df, &err);
    bool ok = r && strcmp (r->nodes[0].keyword, "run") == 0
              && df_instruction_check (&r->nodes[0], &err) == 0;
    if (ok)
      {
        const struct df_node *n = &r->nodes[0];
        json_t *files = json_object_get (c, "files");
        ok = n->json != json_is_true (json_object_get (c, "shell"))
             && words_equal_json (n->args, n->n_args, json_object_get (c, "command"))
             && n->n_heredocs == (json_is_array (files) ? json_array_size (files) : 0);
        for (size_t k = 0; ok && k < n->n_heredocs; k++)
          {
            json_t *f = json_array_get (files, k);
            ok = strcmp (n->heredocs[k].name, json_string_value (json_object_get (f, "Name"))) == 0
                 && strcmp (n->heredocs[k].content, json_string_value (json_object_get (f, "Data")))
                        == 0
                 && n->heredocs[k].chomp == json_is_true (json_object_get (f, "Chomp"));
          }
      }
    check (&t, ok, "%s: %s", df, err.msg ? err.msg : "differs");
    berr_release (&err);
    df_result_free (r);
  }
  json_decref (j);
  tally_end (&t);
  assert_int_equal (t.pass, t.total);
}

/* Not from the corpus: the locations berth puts on errors, and a few API details. */
static void test_own_cases (void **state arg_unused)
{
  static const struct
  {
    const char *text, *error;
  } bad[] = {
    { "FROM a\nRUN <<EOF\nx\n", "Dockerfile:2-3: unterminated heredoc" },
    { "# escape=x\nFROM a\n", "Dockerfile:1: invalid escape token 'x' does not match ` or \\" },
    { "FROM a\nCMD [1]\n", "Dockerfile:2: when using JSON array syntax, arrays must be "
                           "comprised of strings only" },
    { "FROM a\nENV \\\n  X\n", "Dockerfile:2-3: ENV must have two arguments" },
    { "# escape=`\n# escape=`\nFROM a\n",
      "Dockerfile:2: only one escape parser directive can be used" },
  };
  for (size_t i = 0; i < ARRAY_SIZE (bad); i++)
    {
      berr_t err = BERR_INIT;
      struct df_result *r = parse_str (bad[i].text, &err);
      if (r != NULL || strcmp (err.msg, bad[i].error) != 0)
        printf ("# FAIL own case %zu: %s\n", i, err.msg ? err.msg : "parsed");
      assert_null (r);
      assert_string_equal (err.msg, bad[i].error);
      berr_release (&err);
    }

  berr_t err = BERR_INIT;
  struct df_result *r = parse_str ("# syntax=docker/dockerfile:1\n"
                                   "from a\nFOO bar\nONBUILD RUN <<EOF\nhi\nEOF\n",
                                   &err);
  assert_non_null (r);
  cleanup_free char *dump = df_dump (r);
  assert_string_equal (dump, "(from \"a\")\n(foo \"\")\n(onbuild (run \"<<EOF\"))\n");
  assert_int_equal (r->n_directives, 1);
  assert_string_equal (r->directives[0].value, "docker/dockerfile:1");
  assert_int_equal (r->nodes[2].n_heredocs, 1);
  assert_string_equal (r->nodes[2].heredocs[0].content, "hi\n");
  assert_int_equal (r->nodes[2].start_line, 4);
  assert_int_equal (r->nodes[2].end_line, 6);
  assert_int_equal (df_instruction_check (&r->nodes[1], &err), -1);
  assert_string_equal (err.msg, "unknown instruction: FOO");
  berr_release (&err);
  df_result_free (r);
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
    cmocka_unit_test (test_testfiles),
    cmocka_unit_test (test_negative),
    cmocka_unit_test (test_line_numbers),
    cmocka_unit_test (test_parse_words),
    cmocka_unit_test (test_name_val),
    cmocka_unit_test (test_json_arrays),
    cmocka_unit_test (test_scanner_errors),
    cmocka_unit_test (test_empty_continuation),
    cmocka_unit_test (test_heredoc_extract),
    cmocka_unit_test (test_heredoc_json),
    cmocka_unit_test (test_heredoc_helpers),
    cmocka_unit_test (test_heredoc_chomp),
    cmocka_unit_test (test_directives),
    cmocka_unit_test (test_instruction_errors),
    cmocka_unit_test (test_instruction_copy_heredoc),
    cmocka_unit_test (test_instruction_run_heredoc),
    cmocka_unit_test (test_own_cases),
  };
  int rc = cmocka_run_group_tests (tests, NULL, NULL);
  printf ("# buildkit-parser: %d case(s) failed\n", total_failed);
  return rc;
}
