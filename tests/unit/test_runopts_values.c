/* test_runopts_values.c — the parsers behind the run/create flags on their own: Go's
 * time.ParseDuration vectors, strconv/net/csv/path behaviour, CPUs, GPU requests, devices, -v,
 * detach keys, env-file details, and the flag parser's stop-at-first-argument mode. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/fs.h"
#include "util/units.h"
#include "cli/cli.h"
#include "cli/runopts.h"
#include "cli/runopts_int.h"
#include "util/json.h"

/* JSON written with ' for ". */
static json_t *sq_json (const char *s)
{
  cleanup_free char *d = xstrdup (s);
  for (char *p = d; *p; p++)
    if (*p == '\'')
      *p = '"';
  return json_loads (d, 0, NULL);
}

static bool flag_x, flag_y;
static char **list_l;

static void test_opts_interspersed (void **state)
{
  (void)state;
  const struct opt o[] = {
    { "xx", 'x', OPT_BOOL, &flag_x, NULL, "x" },
    { "yy", 'y', OPT_BOOL, &flag_y, NULL, "y" },
    { "ll", 'l', OPT_STRINGS, &list_l, "list", "l" },
    { NULL, 0, 0, NULL, NULL, NULL },
  };
  const struct cmd_spec spec = { "t [OPTIONS] ARG...", "test", NULL, o, 0, -1, NULL };
  char *argv1[] = { "t", "-x", "a", "-y", "-l", "v", "b", NULL };
  char **args = NULL;

  /* Other commands keep pflag's default: flags anywhere. */
  assert_int_equal (opts_parse (&spec, "berth t", 7, argv1, &args), 0);
  assert_true (flag_x && flag_y);
  assert_int_equal (strv_len (list_l), 1);
  assert_int_equal (strv_len (args), 2);
  free (args);
  strv_free (list_l);
  list_l = NULL;
  flag_x = flag_y = false;

  /* With OPTS_STOP_AT_FIRST_ARG the first positional ends the flags. */
  assert_int_equal (opts_parse_flags (&spec, "berth t", 7, argv1, &args, OPTS_STOP_AT_FIRST_ARG),
                    0);
  assert_true (flag_x);
  assert_false (flag_y);
  assert_null (list_l);
  assert_int_equal (strv_len (args), 5);
  assert_string_equal (args[1], "-y");
  free (args);

  cleanup_free char *q = opts_quote ("a\"b\\c\n\x01");
  assert_string_equal (q, "\"a\\\"b\\\\c\\n\\x01\"");
}

/* ---- value parsers ---- */

static void test_durations (void **state)
{
  (void)state;
  /* Go's own time.ParseDuration vectors. */
  static const struct
  {
    const char *in;
    int64_t ns;
  } ok[] = {
    { "0", 0 },
    { "5s", 5000000000LL },
    { "30s", 30000000000LL },
    { "1478s", 1478000000000LL },
    { "-5s", -5000000000LL },
    { "+5s", 5000000000LL },
    { "-0", 0 },
    { "+0", 0 },
    { "5.0s", 5000000000LL },
    { "5.6s", 5600000000LL },
    { "5.s", 5000000000LL },
    { ".5s", 500000000LL },
    { "1.0s", 1000000000LL },
    { "1.004s", 1004000000LL },
    { "100.00100s", 100001000000LL },
    { "10ns", 10 },
    { "11us", 11000 },
    { "12\xc2\xb5s", 12000 },
    { "12\xce\xbcs", 12000 },
    { "13ms", 13000000 },
    { "15m", 900000000000LL },
    { "16h", 57600000000000LL },
    { "3h30m", 12600000000000LL },
    { "10.5s4m", 250500000000LL },
    { "-2m3.4s", -123400000000LL },
    { "1h2m3s4ms5us6ns", 3723004005006LL },
    { "39h9m14.425s", 140954425000000LL },
    { "52763797000ns", 52763797000LL },
    { "0.3333333333333333333h", 1200000000000LL },
    { "9007199254740993ns", 9007199254740993LL },
    { "9223372036854775807ns", INT64_MAX },
    { "9223372036854775.807us", INT64_MAX },
    { "9223372036s854ms775us807ns", INT64_MAX },
    { "-9223372036854775808ns", INT64_MIN },
    { "-9223372036854775.808us", INT64_MIN },
    { "0.100000000000000000000h", 360000000000LL },
    { "0.830103483285477580700h", 2988372539827LL },
  };
  static const struct
  {
    const char *in, *msg;
  } bad[] = {
    { "", "time: invalid duration \"\"" },
    { "3", "time: missing unit in duration \"3\"" },
    { "-", "time: invalid duration \"-\"" },
    { "s", "time: invalid duration \"s\"" },
    { ".", "time: invalid duration \".\"" },
    { "-.", "time: invalid duration \"-.\"" },
    { ".s", "time: invalid duration \".s\"" },
    { "+.s", "time: invalid duration \"+.s\"" },
    { "1d", "time: unknown unit \"d\" in duration \"1d\"" },
    { "\x85\x85", "time: invalid duration \"\\x85\\x85\"" },
    { "\xff"
      "fff",
      "time: invalid duration \"\\xfffff\"" },
    { "hello \xff"
      "fff world",
      "time: invalid duration \"hello \\xfffff world\"" },
    { "9223372036854775808ns", "time: invalid duration \"9223372036854775808ns\"" },
    { "9223372036854775.808us", "time: invalid duration \"9223372036854775.808us\"" },
    { "9223372036854ms775us808ns", "time: invalid duration \"9223372036854ms775us808ns\"" },
    { "-9223372036854775809ns", "time: invalid duration \"-9223372036854775809ns\"" },
  };
  int failed = 0;
  for (size_t i = 0; i < ARRAY_SIZE (ok); i++)
    {
      int64_t ns = -42;
      berr_t e = BERR_INIT;
      if (units_parse_duration (ok[i].in, &ns, &e) < 0 || ns != ok[i].ns)
        {
          printf ("# FAIL duration \"%s\": %lld %s\n", ok[i].in, (long long)ns, e.msg ? e.msg : "");
          failed++;
        }
      berr_release (&e);
    }
  for (size_t i = 0; i < ARRAY_SIZE (bad); i++)
    {
      int64_t ns;
      berr_t e = BERR_INIT;
      if (units_parse_duration (bad[i].in, &ns, &e) == 0 || strcmp (e.msg, bad[i].msg) != 0)
        {
          printf ("# FAIL duration \"%s\": %s, want %s\n", bad[i].in, e.msg ? e.msg : "ok",
                  bad[i].msg);
          failed++;
        }
      berr_release (&e);
    }
  printf ("# go durations: %zu/%zu\n", ARRAY_SIZE (ok) + ARRAY_SIZE (bad) - (size_t)failed,
          ARRAY_SIZE (ok) + ARRAY_SIZE (bad));
  assert_int_equal (failed, 0);
}

static void test_numbers_and_addresses (void **state)
{
  (void)state;
  int64_t v;
  assert_int_equal (go_parse_int ("0x1F", 0, &v), GO_NUM_OK);
  assert_int_equal (v, 31);
  assert_int_equal (go_parse_int ("010", 0, &v), GO_NUM_OK);
  assert_int_equal (v, 8);
  assert_int_equal (go_parse_int ("0b101", 0, &v), GO_NUM_OK);
  assert_int_equal (v, 5);
  assert_int_equal (go_parse_int ("1_000", 0, &v), GO_NUM_OK);
  assert_int_equal (v, 1000);
  assert_int_equal (go_parse_int ("1__0", 0, &v), GO_NUM_SYNTAX);
  assert_int_equal (go_parse_int ("_1", 0, &v), GO_NUM_SYNTAX);
  assert_int_equal (go_parse_int ("1_000", 10, &v), GO_NUM_SYNTAX);
  assert_int_equal (go_parse_int ("-9223372036854775808", 10, &v), GO_NUM_OK);
  assert_true (v == INT64_MIN);
  assert_int_equal (go_parse_int ("9223372036854775808", 10, &v), GO_NUM_RANGE);
  assert_int_equal (go_parse_int ("", 10, &v), GO_NUM_SYNTAX);
  assert_int_equal (go_parse_int ("-", 10, &v), GO_NUM_SYNTAX);

  static const struct
  {
    const char *in;
    int64_t nano;
  } cpus[] = { { "1.5", 1500000000 },
               { "3/2", 1500000000 },
               { "1e-1", 100000000 },
               { ".5", 500000000 },
               { "2.", 2000000000 },
               { "0.000000001", 1 },
               { "1.10", 1100000000 },
               { "0x2", 2000000000 },
               { "+1", 1000000000 },
               { "-0.5", -500000000 },
               { "0", 0 } };
  for (size_t i = 0; i < ARRAY_SIZE (cpus); i++)
    {
      berr_t e = BERR_INIT;
      assert_int_equal (parse_nano_cpus (cpus[i].in, &v, &e), 0);
      assert_true (v == cpus[i].nano);
    }
  berr_t e = BERR_INIT;
  assert_int_equal (parse_nano_cpus ("1/3", &v, &e), -1);
  assert_string_equal (e.msg, "value is too precise");
  assert_int_equal (parse_nano_cpus ("1/0", &v, &e), -1);
  assert_string_equal (e.msg, "failed to parse 1/0 as a rational number");
  assert_int_equal (parse_nano_cpus ("1.2.3", &v, &e), -1);
  assert_int_equal (parse_nano_cpus ("", &v, &e), -1);
  berr_release (&e);

  unsigned char ip[16];
  bool is4;
  static const struct
  {
    const char *in, *out;
    bool is4;
  } ips[] = { { "1.2.3.4", "1.2.3.4", true },
              { "::ffff:1.2.3.4", "1.2.3.4", true },
              { "0:0::1", "::1", false },
              { "::", "::", false },
              { "2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1", false },
              { "2001:0:0:1:0:0:0:1", "2001:0:0:1::1", false },
              { "::1.2.3.4", "::102:304", false },
              { "fe80::1:0", "fe80::1:0", false },
              { "1:0:1:0:1:0:1:0", "1:0:1:0:1:0:1:0", false } };
  for (size_t i = 0; i < ARRAY_SIZE (ips); i++)
    {
      assert_true (go_parse_ip (ips[i].in, ip, &is4));
      assert_true (is4 == ips[i].is4);
      cleanup_free char *s = go_ip_string (ip);
      assert_string_equal (s, ips[i].out);
    }
  assert_false (go_parse_ip ("1.2.3.04", ip, &is4));
  assert_false (go_parse_ip ("fe80::1%eth0", ip, &is4));
  assert_false (go_parse_ip ("[::1]", ip, &is4));

  assert_true (go_parse_mac ("02:42:ac:11:00:02"));
  assert_true (go_parse_mac ("02-42-AC-11-00-02"));
  assert_true (go_parse_mac ("0242.ac11.0002"));
  assert_true (go_parse_mac ("02:42:ac:11:00:02:00:01"));
  assert_false (go_parse_mac ("02:42:ac:11:00"));
  assert_false (go_parse_mac ("02:42:ac:11:00:0g"));
  assert_false (go_parse_mac ("02:42-ac:11:00:02"));

  cleanup_free char *c1 = fs_path_clean ("/a/./b/../../c/");
  assert_string_equal (c1, "/c");
  cleanup_free char *c2 = fs_path_clean ("../x/..");
  assert_string_equal (c2, "..");
  cleanup_free char *c3 = fs_path_clean ("/..");
  assert_string_equal (c3, "/");
  cleanup_free char *c4 = fs_path_clean ("");
  assert_string_equal (c4, ".");
}

static void test_csv_gpus_devices (void **state)
{
  (void)state;
  cleanup_strv char **f = NULL;
  berr_t e = BERR_INIT;
  assert_int_equal (go_csv_record ("a,\"b,c\",\"d\"\"e\",", &f, &e), 0);
  assert_int_equal (strv_len (f), 4);
  assert_string_equal (f[1], "b,c");
  assert_string_equal (f[2], "d\"e");
  assert_string_equal (f[3], "");
  assert_int_equal (go_csv_record ("", &f, &e), -1);
  assert_string_equal (e.msg, "EOF");
  assert_int_equal (go_csv_record ("\"ab", &f, &e), -1);
  assert_non_null (strstr (e.msg, "extraneous or missing \" in quoted-field"));

  json_t *g = NULL;
  assert_int_equal (
      parse_gpus ("driver=nvidia,\"device=GPU-1,GPU-2\",\"capabilities=compute,video\"", &g, &e),
      0);
  cleanup_json json_t *want = sq_json ("{'Driver':'nvidia','Count':0,'DeviceIDs':['GPU-1','GPU-2'],"
                                       "'Capabilities':[['compute','video','gpu']],'Options':{}}");
  assert_true (json_equal (g, want));
  json_decref (g);
  assert_int_equal (parse_gpus ("bogus=1", &g, &e), -1);
  assert_string_equal (e.msg, "unexpected key 'bogus' in 'bogus=1'");
  assert_int_equal (parse_gpus ("count=99999999999999999999", &g, &e), -1);
  /* docker 28's text (test_runopts_cases.h: captured from its CLI) */
  assert_string_equal (e.msg, "invalid count (99999999999999999999): value must be either \"all\" "
                              "or an integer: value out of range");
  /* the CLI takes a count beside device ids; the daemon side refuses it (gpu_select) */
  assert_int_equal (parse_gpus ("device=0,1", &g, &e), 0);
  cleanup_json json_t *want2 = sq_json ("{'Driver':'','Count':1,'DeviceIDs':['0'],"
                                        "'Capabilities':[['gpu']],'Options':{}}");
  assert_true (json_equal (g, want2));
  json_decref (g);
  assert_int_equal (parse_gpus ("\"device=0,1\",options=a=b", &g, &e), 0);
  cleanup_json json_t *want3 = sq_json ("{'Driver':'','Count':0,'DeviceIDs':['0','1'],"
                                        "'Capabilities':[['gpu']],'Options':{'a':'b'}}");
  assert_true (json_equal (g, want3));
  json_decref (g);

  assert_true (is_cdi_device_name ("nvidia.com/gpu=all"));
  assert_true (is_cdi_device_name ("vendor.com/class=dev:1"));
  assert_false (is_cdi_device_name ("/dev/nvidia0"));
  assert_false (is_cdi_device_name ("nvidia.com/gpu"));
  assert_false (is_cdi_device_name ("1vendor/class=x"));
  assert_false (is_cdi_device_name ("vendor/class=x!"));

  struct cli_volume cv;
  assert_int_equal (parse_cli_volume ("c:/x", &cv, &e), 0); /* a "drive letter": anonymous */
  assert_null (cv.source);
  assert_string_equal (cv.target, "c:/x");
  cli_volume_release (&cv);
  assert_int_equal (parse_cli_volume ("/src:/dst:ro,z", &cv, &e), 0);
  assert_string_equal (cv.type, "bind");
  assert_string_equal (cv.source, "/src");
  cli_volume_release (&cv);
  assert_int_equal (parse_cli_volume ("name:/dst", &cv, &e), 0);
  assert_string_equal (cv.type, "volume");
  cli_volume_release (&cv);
  berr_release (&e);

  unsigned char keys[16];
  assert_int_equal (runopts_detach_keys ("ctrl-p,ctrl-q", keys, &e), 2);
  assert_int_equal (keys[0], 16);
  assert_int_equal (keys[1], 17);
  assert_int_equal (runopts_detach_keys ("a,ctrl-@,ctrl-_,DEL", keys, &e), 4);
  assert_int_equal (keys[0], 'a');
  assert_int_equal (keys[1], 0);
  assert_int_equal (keys[2], 31);
  assert_int_equal (keys[3], 127);
  assert_int_equal (runopts_detach_keys ("ctrl-1", keys, &e), -1);
  assert_string_equal (e.msg, "Unknown character: 'ctrl-1'");
  berr_release (&e);
}

static void test_kvfile_details (void **state)
{
  (void)state;
  cleanup_strv char **out = NULL;
  berr_t e = BERR_INIT;
  /* CRLF loses the CR, trailing blanks stay, quotes stay, a UTF-8 BOM goes. */
  static const char data[] = "\xef\xbb\xbf"
                             "A=1\r\n\tB= \"x\" \n\xc2\xa0 C=3\n";
  assert_int_equal (kvfile_parse_buf (data, sizeof data - 1, NULL, NULL, &out, &e), 0);
  assert_int_equal (strv_len (out), 3);
  assert_string_equal (out[0], "A=1");
  assert_string_equal (out[1], "B= \"x\" ");
  assert_string_equal (out[2], "C=3");
  static const char nul[] = "A=1\nB=\0x\n";
  assert_int_equal (kvfile_parse_buf (nul, sizeof nul - 1, NULL, NULL, &out, &e), -1);
  assert_string_equal (e.msg, "line 2 contains a NUL byte");
  static const char bad[] = "A=\xff\n";
  assert_int_equal (kvfile_parse_buf (bad, sizeof bad - 1, NULL, NULL, &out, &e), -1);
  assert_string_equal (e.msg, "invalid utf8 bytes at line 1: [65 61 255]");
  berr_release (&e);
}

int main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_opts_interspersed),     cmocka_unit_test (test_durations),
    cmocka_unit_test (test_numbers_and_addresses), cmocka_unit_test (test_csv_gpus_devices),
    cmocka_unit_test (test_kvfile_details),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
