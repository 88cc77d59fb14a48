/* test_units.c — sizes against docker/go-units' own vectors ($CONFORMANCE_DIR/go-units/
 * size_parse.tsv and size_format.tsv, every row), plus HumanDuration's thresholds and Go's
 * RFC 3339 time format. Every mismatch is printed as a "# FAIL" line and fails its test. */
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

static int all_cases, all_passed; /* the go-units corpus */
static int own_cases, own_passed; /* berth's own cases */

/* A TSV file of the corpus: "#" comment lines, one header row, then rows of exactly ncols
 * literal fields. Returns the rows as strv of strv. */
static char ***read_tsv (const char *name, size_t ncols)
{
  const char *dir = getenv ("CONFORMANCE_DIR");
  cleanup_free char *path = NULL;
  cleanup_free char *data = NULL;
  cleanup_berr berr_t err = BERR_INIT;
  char ***rows = NULL;
  size_t nrows = 0, len;
  bool header = true;

  assert_non_null (dir);
  path = xasprintf ("%s/go-units/%s", dir, name);
  if (fs_read_file (path, 1 << 20, &data, &len, &err) < 0)
    fail_msg ("%s", err.msg);

  for (char *line = data, *next; line && *line; line = next)
    {
      char **fields = NULL;
      next = strchr (line, '\n');
      if (next)
        *next++ = '\0';
      if (line[0] == '#' || line[0] == '\0')
        continue;
      if (header)
        {
          header = false;
          continue;
        }
      for (char *f = line, *tab;; f = tab + 1)
        {
          tab = strchr (f, '\t');
          if (tab)
            *tab = '\0';
          strv_push (&fields, f);
          if (!tab)
            break;
        }
      if (strv_len (fields) != ncols)
        fail_msg ("%s: row \"%s\" has %zu fields, want %zu", name, line, strv_len (fields), ncols);
      rows = xrealloc (rows, (nrows + 2) * sizeof *rows);
      rows[nrows++] = fields;
      rows[nrows] = NULL;
    }
  assert_non_null (rows);
  return rows;
}

static void free_tsv (char ***rows)
{
  for (size_t i = 0; rows && rows[i]; i++)
    strv_free (rows[i]);
  free (rows);
}

static void report (const char *what, bool corpus, int cases, int failed)
{
  printf ("# %s: %d/%d cases passed\n", what, cases - failed, cases);
  fflush (stdout);
  *(corpus ? &all_cases : &own_cases) += cases;
  *(corpus ? &all_passed : &own_passed) += cases - failed;
  assert_true (cases > 0);
  assert_int_equal (failed, 0);
}

/* size_parse.tsv: function, input, expected int64 or "error", origin. */
static void test_size_parse (void **state)
{
  char ***rows = read_tsv ("size_parse.tsv", 4);
  int cases = 0, failed = 0;

  (void)state;
  for (size_t i = 0; rows[i]; i++)
    {
      const char *fn = rows[i][0], *input = rows[i][1], *want = rows[i][2];
      cleanup_berr berr_t err = BERR_INIT;
      int64_t got = -12345;
      int rc;

      cases++;
      if (strcmp (fn, "FromHumanSize") == 0)
        rc = units_from_human_size (input, &got, &err);
      else if (strcmp (fn, "RAMInBytes") == 0)
        rc = units_ram_in_bytes (input, &got, &err);
      else
        {
          printf ("# FAIL size_parse[%zu]: unknown function %s\n", i, fn);
          failed++;
          continue;
        }

      if (strcmp (want, "error") == 0)
        {
          if (rc == 0)
            {
              printf ("# FAIL size_parse[%zu]: %s(\"%s\") = %lld, want an error\n", i, fn, input,
                      (long long)got);
              failed++;
            }
          else if (err.msg == NULL || err.kind != BERR_INVALID)
            {
              printf ("# FAIL size_parse[%zu]: %s(\"%s\"): error without message/kind\n", i, fn,
                      input);
              failed++;
            }
          continue;
        }
      char *end;
      long long w = strtoll (want, &end, 10);
      assert_true (*want != '\0' && *end == '\0');
      if (rc < 0)
        {
          printf ("# FAIL size_parse[%zu]: %s(\"%s\"): error \"%s\", want %lld\n", i, fn, input,
                  err.msg, w);
          failed++;
        }
      else if (got != w)
        {
          printf ("# FAIL size_parse[%zu]: %s(\"%s\") = %lld, want %lld\n", i, fn, input,
                  (long long)got, w);
          failed++;
        }
    }
  free_tsv (rows);
  report ("go-units/size_parse", true, cases, failed);
}

/* size_format.tsv: function, input float, expected string, origin. */
static void test_size_format (void **state)
{
  char ***rows = read_tsv ("size_format.tsv", 4);
  int cases = 0, failed = 0;

  (void)state;
  for (size_t i = 0; rows[i]; i++)
    {
      const char *fn = rows[i][0], *input = rows[i][1], *want = rows[i][2];
      char buf[UNITS_BUFSZ];
      char *end;
      double size = strtod (input, &end);

      cases++;
      assert_true (*input != '\0' && *end == '\0');
      if (strcmp (fn, "HumanSize") == 0)
        units_human_size (size, buf, sizeof buf);
      else if (strcmp (fn, "BytesSize") == 0)
        units_bytes_size (size, buf, sizeof buf);
      else
        {
          printf ("# FAIL size_format[%zu]: unknown function %s\n", i, fn);
          failed++;
          continue;
        }
      if (strcmp (buf, want) != 0)
        {
          printf ("# FAIL size_format[%zu]: %s(%s) = \"%s\", want \"%s\"\n", i, fn, input, buf,
                  want);
          failed++;
        }
    }
  free_tsv (rows);
  report ("go-units/size_format", true, cases, failed);
}

/* Not from the corpus: more parse and format cases, by go-units' rules. */
static void test_size_more (void **state)
{
  static const struct
  {
    bool binary;
    const char *input;
    long long want; /* -1: error */
  } parse[] = {
    { false, "1.5GB", 1500000000LL },
    { false, "1e3", 1000 },
    { false, "1_000k", 1000000 },
    { false, "+5", 5 },
    { false, "0x10p0", 16 },
    { false, "0x10", -1 },
    { false, "inf", -1 },
    { false, "nan", -1 },
    { false, "1e400", -1 },
    { false, "1_", -1 },
    { false, "_1", -1 },
    { false, "32e", -1 },
    { false, "32kbb", -1 },
    { false, "32kib", 32000 },
    { false, "32x", -1 },
    { false, "9223372036854775807", -1 },
    { false, "9000p", 9000000000000000000LL },
    { false, "10000p", -1 },
    { true, "512m", 536870912 },
    { true, "1g", 1073741824 },
    { true, "1.5KiB", 1536 },
    { true, "8P", 9007199254740992LL },
    { true, "32kibb", -1 },
    { true, "32 ki", -1 },
  };
  static const struct
  {
    int fn; /* 0 HumanSize, 1 BytesSize, 2 HumanSizeWithPrecision(3) */
    double size;
    const char *want;
  } format[] = {
    { 0, 0, "0B" },           { 0, 999, "999B" },         { 0, 4260000, "4.26MB" },
    { 0, -5, "-5B" },         { 0, 1e27, "1000YB" },      { 1, 1536, "1.5KiB" },
    { 1, 1023, "1023B" },     { 2, 1234567, "1.23MB" },   { 2, 999999, "1e+03kB" },
    { 2, 7680000, "7.68MB" }, { 0, 1.0 / 0.0, "+InfYB" }, { 1, -1.0 / 0.0, "-InfB" },
  };
  int failed = 0, cases = 0;

  (void)state;
  for (size_t i = 0; i < ARRAY_SIZE (parse); i++)
    {
      cleanup_berr berr_t err = BERR_INIT;
      int64_t got = 0;
      int rc = parse[i].binary ? units_ram_in_bytes (parse[i].input, &got, &err)
                               : units_from_human_size (parse[i].input, &got, &err);
      cases++;
      if ((parse[i].want == -1) != (rc < 0) || (rc == 0 && got != parse[i].want))
        {
          printf ("# FAIL size_more[%zu]: \"%s\": rc %d value %lld err \"%s\", want %lld\n", i,
                  parse[i].input, rc, (long long)got, err.msg ? err.msg : "", parse[i].want);
          failed++;
        }
    }
  for (size_t i = 0; i < ARRAY_SIZE (format); i++)
    {
      char buf[UNITS_BUFSZ];
      if (format[i].fn == 0)
        units_human_size (format[i].size, buf, sizeof buf);
      else if (format[i].fn == 1)
        units_bytes_size (format[i].size, buf, sizeof buf);
      else
        units_human_size_prec (format[i].size, 3, buf, sizeof buf);
      cases++;
      if (strcmp (buf, format[i].want) != 0)
        {
          printf ("# FAIL size_more format[%zu]: %g: \"%s\", want \"%s\"\n", i, format[i].size, buf,
                  format[i].want);
          failed++;
        }
    }
  report ("units/size (berth)", false, cases, failed);
}

/* go-units HumanDuration's thresholds (its duration_test.go table, in seconds). */
static void test_human_duration (void **state)
{
  enum
  {
    MIN = 60,
    HOUR = 60 * MIN,
    DAY = 24 * HOUR,
    WEEK = 7 * DAY,
    MONTH = 30 * DAY,
    YEAR = 365 * DAY
  };
  static const struct
  {
    int64_t seconds;
    const char *want;
  } cases[] = {
    { -5, "Less than a second" },
    { 0, "Less than a second" },
    { 1, "1 second" },
    { 45, "45 seconds" },
    { 59, "59 seconds" },
    { 60, "About a minute" },
    { 119, "About a minute" },
    { 3 * MIN, "3 minutes" },
    { 35 * MIN + 40, "35 minutes" },
    { 59 * MIN + 59, "59 minutes" },
    { HOUR, "About an hour" },
    { HOUR + 29 * MIN, "About an hour" },
    { HOUR + 30 * MIN, "2 hours" },
    { HOUR + 31 * MIN, "2 hours" },
    { 3 * HOUR + 29 * MIN, "3 hours" },
    { 3 * HOUR + 31 * MIN, "4 hours" },
    { 4 * HOUR, "4 hours" },
    { DAY, "24 hours" },
    { DAY + 12 * HOUR, "36 hours" },
    { 2 * DAY - 31 * MIN, "47 hours" },
    { 2 * DAY - 29 * MIN, "2 days" },
    { 2 * DAY, "2 days" },
    { 7 * DAY, "7 days" },
    { 13 * DAY + 5 * HOUR, "13 days" },
    { 2 * WEEK, "2 weeks" },
    { 2 * WEEK + 4 * DAY, "2 weeks" },
    { 3 * WEEK, "3 weeks" },
    { 4 * WEEK + 3 * DAY, "4 weeks" },
    { MONTH, "4 weeks" },
    { MONTH + 2 * WEEK, "6 weeks" },
    { 2 * MONTH, "2 months" },
    { 3 * MONTH + WEEK, "3 months" },
    { 5 * MONTH + 2 * WEEK, "5 months" },
    { 13 * MONTH, "13 months" },
    { 24 * MONTH, "24 months" },
    { 24 * MONTH + 2 * WEEK, "2 years" },
    { 3 * (int64_t)YEAR + 2 * MONTH, "3 years" },
  };
  int failed = 0;

  (void)state;
  for (size_t i = 0; i < ARRAY_SIZE (cases); i++)
    {
      char buf[UNITS_BUFSZ];
      units_human_duration (cases[i].seconds, buf, sizeof buf);
      if (strcmp (buf, cases[i].want) != 0)
        {
          printf ("# FAIL human_duration[%zu]: %lld s: \"%s\", want \"%s\"\n", i,
                  (long long)cases[i].seconds, buf, cases[i].want);
          failed++;
        }
    }
  report ("units/human_duration (berth)", false, (int)ARRAY_SIZE (cases), failed);
}

static void test_rfc3339 (void **state)
{
  static const struct
  {
    int64_t ns;
    const char *text;
  } fmt[] = {
    { 0, "1970-01-01T00:00:00Z" },
    { 1, "1970-01-01T00:00:00.000000001Z" },
    { -1, "1969-12-31T23:59:59.999999999Z" },
    { 1704164645123456789LL, "2024-01-02T03:04:05.123456789Z" },
    { 1704164645120000000LL, "2024-01-02T03:04:05.12Z" },
    { 1709164800000000000LL, "2024-02-29T00:00:00Z" },
    { -86400LL * 1000000000LL, "1969-12-31T00:00:00Z" },
  };
  static const struct
  {
    const char *text;
    int64_t ns; /* INT64_MIN: error */
  } parse[] = {
    { "2024-01-02T03:04:05Z", 1704164645000000000LL },
    { "2024-01-02T03:04:05.123456789Z", 1704164645123456789LL },
    { "2024-01-02T03:04:05.1234567891234Z", 1704164645123456789LL },
    { "2024-01-02T03:04:05.5Z", 1704164645500000000LL },
    { "2024-01-02T04:04:05+01:00", 1704164645000000000LL },
    { "2024-01-01T22:34:05-04:30", 1704164645000000000LL },
    { "1969-12-31T23:59:59.999999999Z", -1 },
    { "2024-02-29T00:00:00Z", 1709164800000000000LL },
    { "2023-02-29T00:00:00Z", INT64_MIN },
    { "2024-01-02t03:04:05Z", INT64_MIN },
    { "2024-01-02T03:04:05z", INT64_MIN },
    { "2024-01-02T03:04:05", INT64_MIN },
    { "2024-01-02T03:04:60Z", INT64_MIN },
    { "2024-01-02T24:00:00Z", INT64_MIN },
    { "2024-01-02T03:04:05.Z", INT64_MIN },
    { "2024-01-02T03:04:05+0100", INT64_MIN },
    { "2024-01-02T03:04:05+24:00", INT64_MIN },
    { "2024-1-02T03:04:05Z", INT64_MIN },
    { "2024-01-02 03:04:05Z", INT64_MIN },
    { "3000-01-01T00:00:00Z", INT64_MIN },
    { "", INT64_MIN },
  };
  int failed = 0, cases = 0;

  (void)state;
  for (size_t i = 0; i < ARRAY_SIZE (fmt); i++)
    {
      cleanup_berr berr_t err = BERR_INIT;
      char buf[UNITS_BUFSZ];
      int64_t back = 0;

      cases++;
      units_rfc3339_nano (fmt[i].ns, buf, sizeof buf);
      if (strcmp (buf, fmt[i].text) != 0)
        {
          printf ("# FAIL rfc3339 format[%zu]: %lld: \"%s\", want \"%s\"\n", i,
                  (long long)fmt[i].ns, buf, fmt[i].text);
          failed++;
        }
      else if (units_parse_rfc3339 (buf, &back, &err) < 0 || back != fmt[i].ns)
        {
          printf ("# FAIL rfc3339 round trip[%zu]: \"%s\" -> %lld (%s)\n", i, buf, (long long)back,
                  err.msg ? err.msg : "");
          failed++;
        }
    }
  for (size_t i = 0; i < ARRAY_SIZE (parse); i++)
    {
      cleanup_berr berr_t err = BERR_INIT;
      int64_t got = INT64_MIN;
      int rc = units_parse_rfc3339 (parse[i].text, &got, &err);

      cases++;
      if (parse[i].ns == INT64_MIN ? rc == 0 : (rc < 0 || got != parse[i].ns))
        {
          printf ("# FAIL rfc3339 parse[%zu]: \"%s\": rc %d, %lld (%s), want %lld\n", i,
                  parse[i].text, rc, (long long)got, err.msg ? err.msg : "",
                  (long long)parse[i].ns);
          failed++;
        }
    }
  report ("units/rfc3339 (berth)", false, cases, failed);
}

int main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_size_parse), cmocka_unit_test (test_size_format),
    cmocka_unit_test (test_size_more),  cmocka_unit_test (test_human_duration),
    cmocka_unit_test (test_rfc3339),
  };
  int rc = cmocka_run_group_tests (tests, NULL, NULL);

  printf ("# go-units: %d/%d cases passed\n", all_passed, all_cases);
  printf ("# units (berth's own): %d/%d cases passed\n", own_passed, own_cases);
  return rc;
}
