/* Dockerfile word expansion against BuildKit's own test vectors ($CONFORMANCE_DIR/buildkit-shell:
 * envVarTest, wordsTest and the cases extracted from lex_test.go), plus a few cases for the
 * backtick escape and reference tracking. Every mismatch is printed as a "# FAIL" line. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "build/shell.h"
#include "util/fs.h"
#include "util/json.h"
#include "util/util.h"

static const char *conf_dir;

static char *read_corpus (const char *rel, size_t *len)
{
  cleanup_free char *path = NULL;
  if (asprintf (&path, "%s/buildkit-shell/%s", conf_dir, rel) < 0)
    abort ();
  char *data = NULL;
  berr_t err = BERR_INIT;
  if (fs_read_file (path, 1 << 20, &data, len, &err) < 0)
    fail_msg ("%s", err.msg);
  return data;
}

static char *trim (char *s)
{
  while (*s == ' ' || *s == '\t' || *s == '\r')
    s++;
  size_t n = strlen (s);
  while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
    s[--n] = '\0';
  return s;
}

static void test_env_var_test (void **state)
{
  (void)state;
  size_t len;
  cleanup_free char *data = read_corpus ("envVarTest", &len);
  char *kv[] = { "PWD=/home", "SHELL=bash", "KOREAN=한국어", "NULL=", NULL };
  struct shell_env env = { kv, false };
  struct shell_env wenv = { kv, true };
  int total = 0, passed = 0, windows = 0, wpassed = 0;
  char *save = NULL;
  for (char *line = strtok_r (data, "\n", &save); line != NULL; line = strtok_r (NULL, "\n", &save))
    {
      if (line[0] == '#')
        continue;
      line = trim (line);
      if (line[0] == '\0')
        continue;
      char *f1 = strchr (line, '|');
      char *f2 = f1 != NULL ? strchr (f1 + 1, '|') : NULL;
      assert_non_null (f2);
      assert_null (strchr (f2 + 1, '|'));
      *f1 = *f2 = '\0';
      char *plat = trim (line), *input = trim (f1 + 1), *expected = trim (f2 + 1);
      bool win = strcmp (plat, "W") == 0;
      assert_true (win || strcmp (plat, "A") == 0 || strcmp (plat, "U") == 0);
      if (win)
        windows++;
      else
        total++;
      cleanup_free char *out = NULL;
      berr_t err = BERR_INIT;
      int r = shell_process_word (input, win ? &wenv : &env, '\\', &out, NULL, &err);
      bool ok;
      if (strcmp (expected, "error") == 0)
        ok = r < 0 && err.kind == BERR_INVALID;
      else
        ok = r == 0 && strcmp (out, expected) == 0;
      if (ok)
        *(win ? &wpassed : &passed) += 1;
      else
        printf ("# FAIL envVarTest %s: want [%s] got [%s]%s\n", input, expected,
                r == 0 ? out : "error", r < 0 ? err.msg : "");
      berr_release (&err);
    }
  printf ("# buildkit-shell envVarTest: %d/%d Linux rows (A+U); Windows-only rows (W, names "
          "case-folded): %d/%d\n",
          passed, total, wpassed, windows);
  assert_int_equal (total, 228);
  assert_int_equal (passed, total);
  assert_int_equal (wpassed, windows);
}

static void test_words_test (void **state)
{
  (void)state;
  size_t len;
  cleanup_free char *data = read_corpus ("wordsTest", &len);
  cleanup_strv char **envv = NULL;
  int total = 0, passed = 0;
  char *save = NULL;
  for (char *line = strtok_r (data, "\n", &save); line != NULL; line = strtok_r (NULL, "\n", &save))
    {
      if (line[0] == '#' || line[0] == '\0')
        continue;
      if (strncmp (line, "ENV ", 4) == 0)
        {
          char *kv = line + 3;
          while (*kv == ' ')
            kv++;
          strv_push (&envv, kv);
          continue;
        }
      char *bar = strchr (line, '|');
      assert_non_null (bar);
      assert_null (strchr (bar + 1, '|'));
      *bar = '\0';
      char *input = trim (line), *expected = bar + 1;
      while (*expected == ' ')
        expected++;
      cleanup_strv char **want = NULL;
      char *save2 = NULL;
      cleanup_free char *expcopy = xstrdup (expected);
      for (char *w = strtok_r (expcopy, ",", &save2); w != NULL; w = strtok_r (NULL, ",", &save2))
        strv_push (&want, w);
      total++;
      struct shell_env env = { envv, false };
      cleanup_strv char **got = NULL;
      berr_t err = BERR_INIT;
      int r = shell_process_words (input, &env, '\\', &got, NULL, &err);
      bool ok;
      if (strv_len (want) == 1 && strcmp (want[0], "error") == 0)
        ok = r < 0;
      else
        {
          ok = r == 0 && strv_len (got) == strv_len (want);
          for (size_t i = 0; ok && want[i] != NULL; i++)
            ok = strcmp (got[i], want[i]) == 0;
        }
      if (ok)
        passed++;
      else
        {
          printf ("# FAIL wordsTest %s: want [%s] got", input, expected);
          for (size_t i = 0; r == 0 && got[i] != NULL; i++)
            printf (" [%s]", got[i]);
          printf ("%s\n", r < 0 ? err.msg : "");
        }
      berr_release (&err);
    }
  printf ("# buildkit-shell wordsTest: %d/%d\n", passed, total);
  assert_int_equal (total, 24);
  assert_int_equal (passed, total);
}

/* envs as {"K":"V"} or ["K=V"] */
static char **envs_of (json_t *envs)
{
  char **v = xcalloc (1, sizeof (char *));
  if (json_is_array (envs))
    {
      size_t i;
      json_t *e;
      json_array_foreach (envs, i, e) strv_push (&v, json_string_value (e));
    }
  else
    {
      const char *k;
      json_t *e;
      json_object_foreach (envs, k, e)
      {
        char *s = NULL;
        if (asprintf (&s, "%s=%s", k, json_string_value (e)) < 0)
          abort ();
        strv_push_take (&v, s);
      }
    }
  return v;
}

static bool same_set (json_t *want, char **got)
{
  if (json_array_size (want) != strv_len (got))
    return false;
  size_t i;
  json_t *e;
  json_array_foreach (want, i, e) if (!strv_contains (got, json_string_value (e))) return false;
  return true;
}

static void run_json (const char *file, int expect_total)
{
  size_t len;
  cleanup_free char *data = read_corpus (file, &len);
  berr_t err = BERR_INIT;
  cleanup_json json_t *root = json_parse_buf (data, len, file, &err);
  assert_non_null (root);
  json_t *cases = json_object_get (root, "cases");
  int total = 0, passed = 0;
  size_t i;
  json_t *c;
  json_array_foreach (cases, i, c)
  {
    const char *input = json_get_str (c, "input");
    const char *expected = json_get_str (c, "expected");
    const char *err_contains = json_get_str (c, "expected_error_contains");
    bool want_err = json_is_true (json_object_get (c, "expected_error")) || err_contains != NULL;
    json_t *matched = json_object_get (c, "matched");
    json_t *unmatched = json_object_get (c, "unmatched");
    cleanup_strv char **kv = envs_of (json_object_get (c, "envs"));
    struct shell_env env = { kv, false };
    struct shell_refs refs = { NULL, NULL };
    cleanup_free char *out = NULL;
    berr_t e = BERR_INIT;
    total++;
    int r = shell_process_word (input, &env, '\\', &out, &refs, &e);
    bool ok;
    if (want_err)
      ok = r < 0 && e.kind == BERR_INVALID
           && (err_contains == NULL || strstr (e.msg, err_contains) != NULL);
    else
      ok = r == 0 && expected != NULL && strcmp (out, expected) == 0
           && (matched == NULL || same_set (matched, refs.matched))
           && (unmatched == NULL || same_set (unmatched, refs.unmatched));
    if (ok)
      passed++;
    else
      printf ("# FAIL %s %s: want [%s] got [%s] %s\n", file, input, want_err ? "error" : expected,
              r == 0 ? out : "error", r < 0 ? e.msg : "");
    shell_refs_release (&refs);
    berr_release (&e);
  }
  printf ("# buildkit-shell %s: %d/%d\n", file, passed, total);
  assert_int_equal (total, expect_total);
  assert_int_equal (passed, total);
}

static void test_process_with_matches (void **state)
{
  (void)state;
  run_json ("extracted/process_with_matches.json", 47);
}

static void test_mandatory_env (void **state)
{
  (void)state;
  run_json ("extracted/mandatory_env.json", 6);
}

static void test_platform_release_name (void **state)
{
  (void)state;
  run_json ("extracted/platform_release_name.json", 3);
}

/* Our glob matcher is not a regex translation, but the patterns upstream rejects must be
 * rejected here too, and the valid ones must behave as literals or wildcards. */
static void test_pattern_escapes (void **state)
{
  (void)state;
  char *kv[] = { "FOO=a*b?c\\d", "BAD1=\\", "BAD2=\\x", "BAD3=\\\\\\", "K=한국어", NULL };
  struct shell_env env = { kv, false };
  const char *bad[] = { "${FOO#$BAD1}", "${FOO#$BAD2}", "${FOO#$BAD3}" };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    {
      char *out = NULL;
      berr_t e = BERR_INIT;
      assert_int_equal (shell_process_word (bad[i], &env, '\\', &out, NULL, &e), -1);
      assert_int_equal (e.kind, BERR_INVALID);
      berr_release (&e);
    }
  struct
  {
    const char *in, *want;
  } good[] = {
    { "${FOO#*}", "a*b?c\\d" },
    { "${FOO##*}", "" },
    { "${FOO#?}", "*b?c\\d" },
    { "${FOO#a\\*}", "b?c\\d" },
    { "${FOO%\\\\d}", "a*b?c" },
    { "${FOO/\\?/!}", "a*b!c\\d" },
    { "${FOO//?/x}", "xxxxxxx" },
    { "${FOO%%b*}", "a*" },
    /* ? is one character, not one byte */
    { "${K#?}", "국어" },
    { "${K%?}", "한국" },
    { "${K//?/.}", "..." },
    { "${K/국/-}", "한-어" },
  };
  for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
    {
      cleanup_free char *out = NULL;
      berr_t e = BERR_INIT;
      assert_int_equal (shell_process_word (good[i].in, &env, '\\', &out, NULL, &e), 0);
      assert_string_equal (out, good[i].want);
    }
}

/* Windows Dockerfiles use ` as the escape character; backslashes are then plain text. */
static void test_backtick_escape (void **state)
{
  (void)state;
  char *kv[] = { "DIR=C:\\app", "X=1", "X=2", NULL };
  struct shell_env env = { kv, false };
  struct
  {
    const char *in, *want;
  } cases[] = {
    { "$DIR\\bin", "C:\\app\\bin" },
    { "`$DIR", "$DIR" },
    { "\"a`\"b\"", "a\"b" },
    { "\"a`tb\"", "a`tb" },
    { "a\\tb", "a\\tb" },
    { "$X", "2" },
    { "${X:+`}}", "}" },
    { "a`", "a" },
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
    {
      cleanup_free char *out = NULL;
      berr_t e = BERR_INIT;
      assert_int_equal (shell_process_word (cases[i].in, &env, '`', &out, NULL, &e), 0);
      assert_string_equal (out, cases[i].want);
    }
  cleanup_strv char **words = NULL;
  berr_t e = BERR_INIT;
  assert_int_equal (shell_process_words ("a` b  c", &env, '`', &words, NULL, &e), 0);
  assert_int_equal (strv_len (words), 2);
  assert_string_equal (words[0], "a b");
  assert_string_equal (words[1], "c");
}

static void test_words_edge (void **state)
{
  (void)state;
  struct shell_env env = { NULL, false };
  cleanup_strv char **w = NULL;
  berr_t e = BERR_INIT;
  assert_int_equal (shell_process_words ("   ", &env, '\\', &w, NULL, &e), 0);
  assert_int_equal (strv_len (w), 0);
  struct shell_refs refs = { NULL, NULL };
  cleanup_free char *out = NULL;
  assert_int_equal (shell_process_word ("$A${B:-$C}$1$@", &env, '\\', &out, &refs, &e), 0);
  assert_string_equal (out, "");
  assert_int_equal (strv_len (refs.unmatched), 3);
  assert_string_equal (refs.unmatched[0], "A");
  assert_string_equal (refs.unmatched[1], "C");
  assert_string_equal (refs.unmatched[2], "B");
  assert_int_equal (strv_len (refs.matched), 0);
  shell_refs_release (&refs);

  char *kv[] = { "E=", NULL };
  struct shell_env env2 = { kv, false };
  struct
  {
    const char *in, *msg;
  } errs[] = {
    { "${A?}", "A: is not allowed to be unset" },
    { "${E:?}", "E: is not allowed to be empty" },
    { "${E:?need $E-it}", "E: need -it" },
    { "${}", "syntax error: bad substitution" },
    { "${A", "syntax error: missing '}'" },
    { "${A:-x", "syntax error: missing '}'" },
    { "${A=x}", "unsupported modifier (=) in substitution" },
    { "${A:#x}", "unsupported modifier (:#) in substitution" },
    { "'a", "unexpected end of statement while looking for matching single-quote" },
    { "\"a", "unexpected end of statement while looking for matching double-quote" },
  };
  for (size_t i = 0; i < sizeof errs / sizeof errs[0]; i++)
    {
      char *o = NULL;
      berr_t e2 = BERR_INIT;
      assert_int_equal (shell_process_word (errs[i].in, &env2, '\\', &o, NULL, &e2), -1);
      assert_int_equal (e2.kind, BERR_INVALID);
      assert_string_equal (e2.msg, errs[i].msg);
      berr_release (&e2);
    }
}

static double elapsed_ms (int64_t since) { return (double)(now_ns () - since) / 1e6; }

/* Nested replacements multiply the length at each level: with V=a the result stays one
 * character, with V=aa it would double 30 times and must be refused at once, not built. */
static void test_nested_replace (void **state)
{
  (void)state;
  cleanup_free char *word = NULL;
  struct sbuf b;
  sbuf_init (&b);
  for (int i = 0; i < 30; i++)
    sbuf_adds (&b, "${V//a/");
  sbuf_adds (&b, "xa");
  for (int i = 0; i < 30; i++)
    sbuf_adds (&b, "}");
  word = sbuf_detach (&b);

  char *one[] = { "V=ab", NULL };
  struct shell_env env = { one, false };
  cleanup_free char *out = NULL;
  berr_t e = BERR_INIT;
  int64_t t0 = now_ns ();
  assert_int_equal (shell_process_word (word, &env, '\\', &out, NULL, &e), 0);
  /* The innermost level gives "xab"; each level around it puts the level below in place of
   * the a of "ab", adding one b: "x" "a" and 30 b's. */
  char want[64] = "xa";
  memset (want + 2, 'b', 30);
  want[32] = '\0';
  assert_string_equal (out, want);

  char *two[] = { "V=aa", NULL };
  struct shell_env env2 = { two, false };
  char *o2 = NULL;
  assert_int_equal (shell_process_word (word, &env2, '\\', &o2, NULL, &e), -1);
  assert_int_equal (e.kind, BERR_INVALID);
  assert_non_null (strstr (e.msg, "is too large"));
  berr_release (&e);
  cleanup_strv char **words = NULL;
  assert_int_equal (shell_process_words (word, &env2, '\\', &words, NULL, &e), -1);
  assert_non_null (strstr (e.msg, "is too large"));
  berr_release (&e);
  double ms = elapsed_ms (t0);
  printf ("# 30-deep ${V//a/...}: %.1f ms\n", ms);
  assert_true (ms < 2000);
}

/* Patterns with many stars against a long value: a backtracking matcher, or one that tries
 * every (start, end) pair, takes minutes here. */
static void test_many_stars (void **state)
{
  (void)state;
  cleanup_free char *a = xmalloc (10002 + 3);
  strcpy (a, "A=");
  memset (a + 2, 'a', 10000);
  a[10002] = '\0';
  char *kv[] = { a, NULL };
  struct shell_env env = { kv, false };
  const char *keep[]
      = { "${A#*a*a*a*a*a*a*a*a*b}",  "${A##*a*a*a*a*a*a*a*a*b}",  "${A%*a*a*a*a*a*a*a*a*b}",
          "${A%%*a*a*a*a*a*a*a*a*b}", "${A/*a*a*a*a*a*a*a*a*b/x}", "${A//*a*a*a*a*a*a*a*a*b/x}" };
  int64_t t0 = now_ns ();
  for (size_t i = 0; i < sizeof keep / sizeof keep[0]; i++)
    {
      cleanup_free char *out = NULL;
      berr_t e = BERR_INIT;
      assert_int_equal (shell_process_word (keep[i], &env, '\\', &out, NULL, &e), 0);
      assert_string_equal (out, a + 2);
    }
  struct
  {
    const char *in;
    size_t len;
  } cut[] = {
    { "${A#*a*a*a*a*a*a*a*a}", 10000 - 8 }, { "${A##*a*a*a*a*a*a*a*a}", 0 },
    { "${A%a*a*a*a*a*a*a*a*}", 10000 - 8 }, { "${A%%a*a*a*a*a*a*a*a*}", 0 },
    { "${A/a*a*a*a*a*a*a*a/x}", 1 },        { "${A//a?a/x}", 3333 + 1 },
  };
  for (size_t i = 0; i < sizeof cut / sizeof cut[0]; i++)
    {
      cleanup_free char *out = NULL;
      berr_t e = BERR_INIT;
      assert_int_equal (shell_process_word (cut[i].in, &env, '\\', &out, NULL, &e), 0);
      assert_int_equal (strlen (out), cut[i].len);
    }
  double ms = elapsed_ms (t0);
  printf ("# *a*a*a*a*a*a*a*a*b against 10 kB: %.1f ms for 12 expansions\n", ms);
  assert_true (ms < 2000);
}

static void test_limits (void **state)
{
  (void)state;
  /* 64 nested substitutions are fine, 65 are not. */
  struct sbuf b;
  sbuf_init (&b);
  for (int i = 0; i < 64; i++)
    sbuf_adds (&b, "${U:-");
  sbuf_adds (&b, "x");
  for (int i = 0; i < 64; i++)
    sbuf_adds (&b, "}");
  cleanup_free char *ok = sbuf_detach (&b);
  sbuf_init (&b);
  sbuf_addf (&b, "${U:-%s}", ok);
  cleanup_free char *deep = sbuf_detach (&b);
  struct shell_env env = { NULL, false };
  cleanup_free char *out = NULL;
  berr_t e = BERR_INIT;
  assert_int_equal (shell_process_word (ok, &env, '\\', &out, NULL, &e), 0);
  assert_string_equal (out, "x");
  char *o = NULL;
  assert_int_equal (shell_process_word (deep, &env, '\\', &o, NULL, &e), -1);
  assert_int_equal (e.kind, BERR_INVALID);
  assert_non_null (strstr (e.msg, "nested more than 64 deep"));
  berr_release (&e);

  /* Size: just under 512 kB tripled is over the 1 MiB bound, as a replacement result and as
   * a word; doubled it is not. */
  size_t half = (1 << 19) - 16;
  cleanup_free char *big = xmalloc (half + 3);
  strcpy (big, "B=");
  memset (big + 2, 'b', half);
  big[half + 2] = '\0';
  char *kv[] = { big, NULL };
  struct shell_env benv = { kv, false };
  const char *large[] = { "${B//b/bbb}", "$B$B$B", "\"$B$B$B\"", "${U:-$B$B$B}" };
  for (size_t i = 0; i < sizeof large / sizeof large[0]; i++)
    {
      o = NULL;
      assert_int_equal (shell_process_word (large[i], &benv, '\\', &o, NULL, &e), -1);
      assert_int_equal (e.kind, BERR_INVALID);
      if (i == 0)
        assert_string_equal (e.msg, "expansion of '${B//b/bbb}' is too large (over 1048576 bytes)");
      assert_non_null (strstr (e.msg, "is too large (over 1048576 bytes)"));
      berr_release (&e);
    }
  cleanup_free char *two = NULL;
  assert_int_equal (shell_process_word ("${B//b/bb}", &benv, '\\', &two, NULL, &e), 0);
  assert_int_equal (strlen (two), 2 * half);
  cleanup_free char *twice = NULL;
  assert_int_equal (shell_process_word ("$B\"$B\"", &benv, '\\', &twice, NULL, &e), 0);
  assert_int_equal (strlen (twice), 2 * half);
  /* Plain text longer than the bound is not refused. */
  cleanup_free char *text = xmalloc ((2 << 20) + 1);
  memset (text, 't', 2 << 20);
  text[2 << 20] = '\0';
  cleanup_free char *same = NULL;
  assert_int_equal (shell_process_word (text, &env, '\\', &same, NULL, &e), 0);
  assert_string_equal (same, text);

  /* Matching work: 100 000 runes against a 1001-rune pattern that almost matches everywhere
   * is 10^8 steps, over the budget (2^25); it fails instead of running on. */
  cleanup_free char *pat = xmalloc (1002 + 3);
  strcpy (pat, "P=");
  memset (pat + 2, 'a', 1000);
  strcpy (pat + 1002, "b");
  cleanup_free char *val = xmalloc (100000 + 3);
  strcpy (val, "V=");
  memset (val + 2, 'a', 100000);
  val[100002] = '\0';
  char *kv2[] = { pat, val, NULL };
  struct shell_env penv = { kv2, false };
  int64_t t0 = now_ns ();
  o = NULL;
  assert_int_equal (shell_process_word ("${V//$P/x}", &penv, '\\', &o, NULL, &e), -1);
  assert_string_equal (e.msg, "expansion of '${V//$P/x}': pattern matching is too expensive");
  berr_release (&e);
  printf ("# matching budget exhausted after %.1f ms\n", elapsed_ms (t0));
}

/* One expansion can split into hundreds of thousands of words; collecting them must not copy
 * the list once per word. */
static void test_many_words (void **state)
{
  (void)state;
  size_t n = 300000;
  cleanup_free char *v = xmalloc (2 * n + 3);
  strcpy (v, "V=");
  for (size_t i = 0; i < n; i++)
    memcpy (v + 2 + 2 * i, "w ", 2);
  v[2 * n + 2] = '\0';
  char *kv[] = { v, NULL };
  struct shell_env env = { kv, false };
  cleanup_strv char **words = NULL;
  berr_t e = BERR_INIT;
  int64_t t0 = now_ns ();
  assert_int_equal (shell_process_words ("$V${V%% }x", &env, '\\', &words, NULL, &e), 0);
  double ms = elapsed_ms (t0);
  assert_int_equal (strv_len (words), 2 * n);
  assert_string_equal (words[0], "w");
  assert_string_equal (words[2 * n - 1], "wx");
  printf ("# 600 000 words from two expansions: %.1f ms\n", ms);
  assert_true (ms < 2000);
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
    cmocka_unit_test (test_env_var_test),
    cmocka_unit_test (test_words_test),
    cmocka_unit_test (test_process_with_matches),
    cmocka_unit_test (test_mandatory_env),
    cmocka_unit_test (test_platform_release_name),
    cmocka_unit_test (test_pattern_escapes),
    cmocka_unit_test (test_backtick_escape),
    cmocka_unit_test (test_words_edge),
    cmocka_unit_test (test_nested_replace),
    cmocka_unit_test (test_many_stars),
    cmocka_unit_test (test_limits),
    cmocka_unit_test (test_many_words),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
