/* test_compose_interp.c — interpolation and .env files against compose-go's own cases
 * ($CONFORMANCE_DIR/compose/interpolation and dotenv), plus the loader-facing edges. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "compose/interp.h"
#include "compose_conf.h"
#include "util/fs.h"

static struct cnode *env_of (json_t *obj)
{
  return obj ? cnode_from_json (obj) : cnode_new (CN_MAP);
}

static void test_template_corpus (void **state)
{
  (void)state;
  cleanup_json json_t *d = conf_load ("interpolation/template_substitute.json");
  assert_non_null (d);
  cleanup_cnode struct cnode *env = env_of (json_object_get (d, "env"));
  size_t i, pass = 0, total = 0;
  json_t *c;
  json_array_foreach (json_object_get (d, "cases"), i, c)
  {
    total++;
    json_t *ov = json_object_get (c, "env_override");
    cleanup_cnode struct cnode *oenv = ov ? cnode_from_json (ov) : NULL;
    const char *tmpl = json_get_str (c, "template");
    cleanup_free char *out = NULL;
    cleanup_berr berr_t err = BERR_INIT;
    int r = compose_substitute (tmpl, compose_lookup_map, oenv ? oenv : env, &out, &err);
    bool ok;
    const char *want = json_get_str (c, "expected");
    json_t *serr = json_object_get (c, "error");
    if (want)
      ok = r == 0 && strcmp (out, want) == 0;
    else if (serr)
      {
        cleanup_free char *m
            = xasprintf ("required variable %s is missing a value: %s",
                         json_get_str (serr, "Variable"), json_get_str (serr, "Reason"));
        ok = r < 0 && strcmp (err.msg, m) == 0;
      }
    else
      ok = r < 0 && strstr (err.msg, json_get_str (c, "error_contains")) != NULL;
    if (!ok)
      printf ("# FAIL %s: got %s / %s\n", tmpl, out ? out : "-", err.msg ? err.msg : "-");
    pass += ok;
  }
  printf ("# corpus interpolation/template_substitute: %zu/%zu\n", pass, total);
  assert_int_equal (pass, total);
}

/* "*.replicas" as int and "*.required" as bool, as compose's schema types them. */
static bool cast_ok (struct cnode *n)
{
  for (size_t i = 0; n->kind == CN_MAP && i < n->n; i++)
    {
      struct cnode *v = n->ents[i].val;
      if (strcmp (n->ents[i].key, "replicas") == 0 || strcmp (n->ents[i].key, "required") == 0)
        v->plain = true;
      cast_ok (v);
    }
  return true;
}

static void test_interpolate_tree_corpus (void **state)
{
  (void)state;
  cleanup_json json_t *d = conf_load ("interpolation/interpolate_tree.json");
  assert_non_null (d);
  size_t i, pass = 0, total = 0;
  json_t *c;
  json_array_foreach (json_object_get (d, "cases"), i, c)
  {
    total++;
    cleanup_cnode struct cnode *env = env_of (json_object_get (c, "env"));
    cleanup_cnode struct cnode *tree = cnode_from_json (json_object_get (c, "input"));
    cleanup_berr berr_t err = BERR_INIT;
    int r = compose_interpolate (tree, compose_lookup_map, env, &err);
    bool ok;
    if (json_object_get (c, "casts"))
      cast_ok (tree);
    json_t *want = json_object_get (c, "expected");
    if (want)
      {
        cleanup_json json_t *got = r == 0 ? cnode_to_json (tree) : NULL;
        ok = r == 0 && json_equal (got, want);
      }
    else
      ok = r < 0 && strcmp (err.msg, json_get_str (c, "error_equals")) == 0;
    if (!ok)
      printf ("# FAIL case %zu: %s\n", i, err.msg ? err.msg : "(no error)");
    pass += ok;
  }
  printf ("# corpus interpolation/interpolate_tree: %zu/%zu\n", pass, total);
  assert_int_equal (pass, total);
}

static void test_dotenv_expand_corpus (void **state)
{
  (void)state;
  cleanup_json json_t *d = conf_load ("interpolation/dotenv_expand_variables.json");
  assert_non_null (d);
  cleanup_cnode struct cnode *env = env_of (json_object_get (d, "env"));
  size_t i, pass = 0, total = 0;
  json_t *c;
  json_array_foreach (json_object_get (d, "cases"), i, c)
  {
    total++;
    const char *in = json_get_str (c, "input");
    cleanup_cnode struct cnode *vars = NULL;
    cleanup_berr berr_t err = BERR_INIT;
    int r = compose_dotenv_parse (in, strlen (in), compose_lookup_map, env, NULL, &vars, &err);
    json_t *serr = json_object_get (c, "error");
    bool ok;
    if (serr)
      {
        cleanup_free char *m
            = xasprintf ("required variable %s is missing a value: %s",
                         json_get_str (serr, "Variable"), json_get_str (serr, "Reason"));
        ok = r < 0 && strstr (err.msg, m) != NULL;
      }
    else
      {
        const char *want = json_get_str (c, "expected");
        const char *got = r == 0 ? cnode_text (cnode_get (vars, "RESULT")) : NULL;
        ok = got && strcmp (want + strlen ("RESULT="), got) == 0;
      }
    if (!ok)
      printf ("# FAIL %s: %s\n", in, err.msg ? err.msg : "(no error)");
    pass += ok;
  }
  printf ("# corpus interpolation/dotenv_expand_variables: %zu/%zu\n", pass, total);
  assert_int_equal (pass, total);
}

static bool vars_match (struct cnode *vars, json_t *want, bool exact)
{
  const char *k;
  json_t *v;
  json_object_foreach (want, k, v)
  {
    const char *g = cnode_text (cnode_get (vars, k));
    if (g == NULL || strcmp (g, json_string_value (v)) != 0)
      {
        printf ("#   %s: want \"%s\" got \"%s\"\n", k, json_string_value (v), g ? g : "(unset)");
        return false;
      }
  }
  return !exact || vars->n == json_object_size (want);
}

static char *read_fixture (const char *rel, size_t *len)
{
  cleanup_free char *p = xasprintf ("%s/compose/dotenv/%s", conf_dir (), rel);
  char *data = NULL;
  cleanup_berr berr_t err = BERR_INIT;
  FILE *f = fopen (p, "re");
  if (f == NULL)
    return NULL;
  fclose (f);
  if (fs_read_file (p, 1 << 20, &data, len, &err) < 0)
    return NULL;
  return data;
}

static void test_dotenv_corpus (void **state)
{
  (void)state;
  cleanup_json json_t *d = conf_load ("dotenv/cases.json");
  assert_non_null (d);
  size_t i, pass = 0, total = 0, skipped = 0;
  json_t *c;
  json_array_foreach (json_object_get (d, "single_line"), i, c)
  {
    total++;
    const char *in = json_get_str (c, "input");
    cleanup_cnode struct cnode *vars = NULL;
    cleanup_berr berr_t err = BERR_INIT;
    int r = compose_dotenv_parse (in, strlen (in), NULL, NULL, NULL, &vars, &err);
    const char *g = r == 0 ? cnode_text (cnode_get (vars, json_get_str (c, "key"))) : NULL;
    bool ok = g && strcmp (g, json_get_str (c, "value")) == 0;
    if (!ok)
      printf ("# FAIL single %s: got %s %s\n", in, g ? g : "-", err.msg ? err.msg : "");
    pass += ok;
  }
  json_array_foreach (json_object_get (d, "multi"), i, c)
  {
    total++;
    cleanup_cnode struct cnode *lookup = env_of (json_object_get (c, "lookup"));
    cleanup_cnode struct cnode *vars = NULL;
    cleanup_berr berr_t err = BERR_INIT;
    int r = 0;
    json_t *files = json_object_get (c, "files");
    if (files)
      {
        /* Each file in order; later files override earlier ones; ${} inside a file looks at the
         * OS env first, then the file itself, then the files before it. */
        cleanup_cnode struct cnode *os = env_of (json_object_get (c, "os_env"));
        vars = cnode_new (CN_MAP);
        size_t k;
        json_t *fname;
        json_array_foreach (json_object_get (c, "file_order"), k, fname)
        {
          const char *text = json_string_value (json_object_get (files, json_string_value (fname)));
          cleanup_cnode struct cnode *one = NULL;
          r = compose_dotenv_parse (text, strlen (text), compose_lookup_map, os, vars, &one, &err);
          if (r < 0)
            break;
          for (size_t e = 0; e < one->n; e++)
            cnode_set (vars, one->ents[e].key, cnode_copy (one->ents[e].val));
        }
      }
    else
      {
        const char *in = json_get_str (c, "input");
        r = compose_dotenv_parse (in, strlen (in), compose_lookup_map, lookup, NULL, &vars, &err);
      }
    json_t *want = json_object_get (c, "expected_exact");
    bool ok
        = r == 0
          && vars_match (vars, want ? want : json_object_get (c, "expected_subset"), want != NULL);
    if (!ok)
      printf ("# FAIL multi %s: %s\n", json_get_str (c, "test"), err.msg ? err.msg : "");
    pass += ok;
  }
  json_array_foreach (json_object_get (d, "fixtures"), i, c)
  {
    const char *mode = json_get_str (c, "mode");
    if (strcmp (mode, "custom_format_only") == 0)
      {
        /* A Go test-registered parser for another file format: nothing of dotenv's. */
        skipped++;
        continue;
      }
    total++;
    size_t len = 0;
    cleanup_free char *text = read_fixture (json_get_str (c, "file"), &len);
    cleanup_cnode struct cnode *os = env_of (json_object_get (c, "os_env"));
    cleanup_cnode struct cnode *vars = NULL;
    cleanup_berr berr_t err = BERR_INIT;
    bool with_lookup = strcmp (mode, "read_exact") != 0;
    int r = text ? compose_dotenv_parse (text, len, with_lookup ? compose_lookup_map : NULL, os,
                                         NULL, &vars, &err)
                 : -1;
    if (r == 0 && strcmp (mode, "load_subset") == 0)
      /* Load never overrides what the process environment already has. */
      for (size_t e = 0; e < os->n; e++)
        cnode_set (vars, os->ents[e].key, cnode_copy (os->ents[e].val));
    bool ok
        = r == 0
          && vars_match (vars, json_object_get (c, "expected"), strcmp (mode, "load_subset") != 0);
    if (!ok)
      printf ("# FAIL fixture %s: %s\n", json_get_str (c, "test"), err.msg ? err.msg : "");
    pass += ok;
  }
  json_array_foreach (json_object_get (d, "errors"), i, c)
  {
    total++;
    cleanup_cnode struct cnode *vars = NULL;
    cleanup_berr berr_t err = BERR_INIT;
    int r;
    if (json_get_str (c, "file"))
      {
        size_t len = 0;
        cleanup_free char *text = read_fixture (json_get_str (c, "file"), &len);
        r = text ? compose_dotenv_parse (text, len, NULL, NULL, NULL, &vars, &err) : 0;
      }
    else
      {
        const char *in = json_get_str (c, "input");
        r = compose_dotenv_parse (in, strlen (in), NULL, NULL, NULL, &vars, &err);
      }
    const char *eq = json_get_str (c, "error_equals");
    const char *has = json_get_str (c, "error_contains");
    bool ok = r < 0
              && (eq    ? strcmp (err.msg, eq) == 0
                  : has ? strstr (err.msg, has) != NULL
                        : true);
    if (!ok)
      printf ("# FAIL error %s: %s\n", json_get_str (c, "input"), err.msg ? err.msg : "(none)");
    pass += ok;
  }
  printf ("# corpus dotenv: %zu/%zu (%zu skipped: custom_format_only)\n", pass, total, skipped);
  assert_int_equal (pass, total);
}

static void test_extract_variables_corpus (void **state)
{
  (void)state;
  cleanup_json json_t *d = conf_load ("interpolation/extract_variables.json");
  assert_non_null (d);
  size_t i, pass = 0, total = 0;
  json_t *c;
  json_array_foreach (json_object_get (d, "cases"), i, c)
  {
    total++;
    cleanup_cnode struct cnode *in = cnode_from_json (json_object_get (c, "input"));
    cleanup_cnode struct cnode *vars = compose_extract_variables (in);
    cleanup_json json_t *got = cnode_to_json (vars);
    bool ok = json_equal (got, json_object_get (c, "expected"));
    if (!ok)
      printf ("# FAIL %s\n", json_get_str (c, "name"));
    pass += ok;
  }
  printf ("# corpus interpolation/extract_variables: %zu/%zu\n", pass, total);
  assert_int_equal (pass, total);
}

static void test_bare_dollar_and_nested (void **state)
{
  (void)state;
  cleanup_cnode struct cnode *env = cnode_new (CN_MAP);
  cnode_set (env, "A", cnode_str ("x"));
  cleanup_free char *o1 = NULL;
  cleanup_berr berr_t err = BERR_INIT;
  assert_int_equal (
      compose_substitute ("$A-$$A-${B:-${A:+y}}-$", compose_lookup_map, env, &o1, &err), 0);
  assert_string_equal (o1, "x-$A-y-$");
}

int main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_template_corpus),
    cmocka_unit_test (test_interpolate_tree_corpus),
    cmocka_unit_test (test_dotenv_expand_corpus),
    cmocka_unit_test (test_dotenv_corpus),
    cmocka_unit_test (test_extract_variables_corpus),
    cmocka_unit_test (test_bare_dollar_and_nested),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
