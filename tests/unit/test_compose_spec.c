/* test_compose_spec.c — short port and volume syntax against compose-go's cases
 * ($CONFORMANCE_DIR/compose/port-spec and volume-spec). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "compose/spec.h"
#include "compose_conf.h"

/* Same entries, any order. */
static bool multiset_equal (json_t *want, json_t *got)
{
  if (json_array_size (want) != json_array_size (got))
    return false;
  size_t i;
  json_t *w;
  json_array_foreach (want, i, w)
  {
    bool found = false;
    for (size_t k = 0; k < json_array_size (got) && !found; k++)
      found = json_match_zero (w, json_array_get (got, k));
    if (!found)
      return false;
  }
  return true;
}

static void test_ports_corpus (void **state)
{
  (void)state;
  cleanup_json json_t *d = conf_load ("port-spec/ports.json");
  assert_non_null (d);
  size_t i, pass = 0, total = 0;
  json_t *c;
  json_array_foreach (json_object_get (d, "parse_port_config"), i, c)
  {
    total++;
    const char *in = json_get_str (c, "input");
    cleanup_cnode struct cnode *out = NULL;
    cleanup_berr berr_t err = BERR_INIT;
    int r = compose_parse_port (in, &out, &err);
    bool ok;
    json_t *want = json_object_get (c, "expected");
    if (want)
      {
        cleanup_json json_t *got = r == 0 ? cnode_to_json (out) : NULL;
        ok = r == 0 && multiset_equal (want, got);
      }
    else
      ok = r < 0 && strcmp (err.msg, json_get_str (c, "error_equals")) == 0;
    if (!ok)
      printf ("# FAIL port %s: %s\n", in, err.msg ? err.msg : "");
    pass += ok;
  }
  json_array_foreach (json_object_get (d, "transform_ports"), i, c)
  {
    total++;
    bool ignore = json_is_true (json_object_get (c, "ignore_parse_error"));
    cleanup_cnode struct cnode *seq = cnode_new (CN_SEQ);
    cleanup_berr berr_t err = BERR_INIT;
    int r = 0;
    size_t k;
    json_t *item;
    json_array_foreach (json_object_get (c, "input"), k, item)
    {
      cleanup_cnode struct cnode *one = NULL;
      cleanup_berr berr_t e1 = BERR_INIT;
      if (compose_parse_port (json_string_value (item), &one, &e1) < 0)
        {
          if (ignore)
            {
              cnode_push (seq, cnode_str (json_string_value (item)));
              continue;
            }
          berr_move (&err, &e1);
          r = -1;
          break;
        }
      for (size_t e = 0; e < one->n; e++)
        cnode_push (seq, cnode_copy (one->items[e]));
    }
    bool ok;
    json_t *want = json_object_get (c, "expected");
    if (want)
      {
        cleanup_json json_t *got = cnode_to_json (seq);
        ok = r == 0
             && (json_is_string (json_array_get (want, 0)) ? json_equal (want, got)
                                                           : multiset_equal (want, got));
      }
    else
      ok = r < 0 && strcmp (err.msg, json_get_str (c, "error_equals")) == 0;
    if (!ok)
      printf ("# FAIL transform %s: %s\n", json_get_str (c, "name"), err.msg ? err.msg : "");
    pass += ok;
  }
  printf ("# corpus port-spec: %zu/%zu\n", pass, total);
  assert_int_equal (pass, total);
}

static void test_volumes_corpus (void **state)
{
  (void)state;
  cleanup_json json_t *d = conf_load ("volume-spec/parse_volume.json");
  assert_non_null (d);
  size_t i, pass = 0, total = 0;
  json_t *c;
  json_array_foreach (json_object_get (d, "cases"), i, c)
  {
    total++;
    const char *kind = json_get_str (c, "kind");
    bool ok;
    if (kind && strcmp (kind, "stringify") == 0)
      {
        cleanup_cnode struct cnode *v = cnode_from_json (json_object_get (c, "volume"));
        cleanup_free char *s = compose_volume_string (v);
        ok = strcmp (s, json_get_str (c, "expected_string")) == 0;
        if (!ok)
          printf ("# FAIL stringify: %s\n", s);
        pass += ok;
        continue;
      }
    const char *in = json_get_str (c, "input");
    cleanup_cnode struct cnode *out = NULL;
    cleanup_berr berr_t err = BERR_INIT;
    int r = compose_parse_volume (in, &out, &err);
    if (kind && strcmp (kind, "has_source") == 0)
      {
        const char *src = r == 0 ? cnode_text (cnode_get (out, "source")) : NULL;
        ok = (src && *src) == json_is_true (json_object_get (c, "expected_has_source"));
      }
    else if (json_object_get (c, "expected"))
      {
        cleanup_json json_t *got = r == 0 ? cnode_to_json (out) : NULL;
        json_t *want = json_object_get (c, "expected");
        /* "volume": {} present differs from absent (a Go pointer), so check it apart. */
        ok = r == 0 && json_match_zero (want, got)
             && (json_object_get (want, "volume") != NULL)
                    == (json_object_get (got, "volume") != NULL)
             && (json_object_get (want, "bind") != NULL) == (json_object_get (got, "bind") != NULL);
      }
    else if (json_object_get (c, "expected_ok"))
      ok = r == 0;
    else if (json_get_str (c, "error_equals"))
      ok = r < 0 && strcmp (err.msg, json_get_str (c, "error_equals")) == 0;
    else
      ok = r < 0 && strstr (err.msg, json_get_str (c, "error_contains")) != NULL;
    if (!ok)
      printf ("# FAIL volume %s: %s\n", in, err.msg ? err.msg : "");
    pass += ok;
  }
  printf ("# corpus volume-spec: %zu/%zu\n", pass, total);
  assert_int_equal (pass, total);
}

int main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_ports_corpus),
    cmocka_unit_test (test_volumes_corpus),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
