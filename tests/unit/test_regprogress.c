/* test_regprogress.c — the pull/push progress renderer: piped lines and terminal redraws. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/regprogress.h"

static char *render (bool tty, bool quiet, const struct reg_progress *ev, size_t n)
{
  char *buf = NULL;
  size_t len = 0;
  FILE *f = open_memstream (&buf, &len);
  struct regprog *rp = regprog_new (f, tty, quiet);

  for (size_t i = 0; i < n; i++)
    regprog_event (rp, &ev[i]);
  regprog_free (rp);
  fclose (f);
  return buf;
}

static const struct reg_progress pull_events[] = {
  { NULL, RP_MESSAGE, 0, 0, "latest: Pulling from library/busybox" },
  { "a1b2c3d4e5f6", RP_PULLING_FS, 0, 0, NULL },
  { "0123456789ab", RP_ALREADY_EXISTS, 0, 0, NULL },
  { "a1b2c3d4e5f6", RP_DOWNLOADING, 12345678, 45600000, NULL },
  { "a1b2c3d4e5f6", RP_VERIFYING, 0, 0, NULL },
  { "a1b2c3d4e5f6", RP_DOWNLOAD_DONE, 0, 0, NULL },
  { "a1b2c3d4e5f6", RP_EXTRACTING, 45600000, 45600000, NULL },
  { "a1b2c3d4e5f6", RP_PULL_COMPLETE, 0, 0, NULL },
  { NULL, RP_MESSAGE, 0, 0, "Digest: sha256:abc" },
};

static void test_piped (void **state)
{
  (void)state;
  char *out = render (false, false, pull_events, sizeof pull_events / sizeof pull_events[0]);
  assert_string_equal (out, "latest: Pulling from library/busybox\n"
                            "a1b2c3d4e5f6: Pulling fs layer\n"
                            "0123456789ab: Already exists\n"
                            "a1b2c3d4e5f6: Verifying Checksum\n"
                            "a1b2c3d4e5f6: Download complete\n"
                            "a1b2c3d4e5f6: Pull complete\n"
                            "Digest: sha256:abc\n");
  free (out);
}

static void test_quiet (void **state)
{
  (void)state;
  char *out = render (false, true, pull_events, sizeof pull_events / sizeof pull_events[0]);
  assert_string_equal (out, "");
  free (out);
  out = render (true, true, pull_events, sizeof pull_events / sizeof pull_events[0]);
  assert_string_equal (out, "");
  free (out);
}

static void test_tty (void **state)
{
  (void)state;
  /* The memstream is no terminal: width defaults to 200, so the bar is drawn. */
  char *out = render (true, false, pull_events, 4);
  char bar[128];
  /* 12345678/45600000 = 27% -> 13 '=' */
  snprintf (bar, sizeof bar, "[%.*s>%*s] ", 13, "=============", 37, "");
  char *want = NULL;
  size_t wl;
  FILE *w = open_memstream (&want, &wl);
  fprintf (w, "latest: Pulling from library/busybox\n");
  fprintf (w, "\n\x1b[1A\x1b[2K\ra1b2c3d4e5f6: Pulling fs layer \r\x1b[1B");
  fprintf (w, "\n\x1b[1A\x1b[2K\r0123456789ab: Already exists \r\x1b[1B");
  fprintf (w, "\x1b[2A\x1b[2K\ra1b2c3d4e5f6: Downloading %s 12.35MB/45.6MB\r\x1b[2B", bar);
  fclose (w);
  assert_string_equal (out, want);
  free (want);
  free (out);
}

static void test_message_resets_block (void **state)
{
  (void)state;
  static const struct reg_progress ev[] = {
    { "aaaaaaaaaaaa", RP_PREPARING, 0, 0, NULL },
    { NULL, RP_MESSAGE, 0, 0, "x" },
    { "aaaaaaaaaaaa", RP_MOUNTED, 0, 0, "library/busybox" },
    { "aaaaaaaaaaaa", RP_PUSHING, 10, 0, NULL },
    { "aaaaaaaaaaaa", RP_PUSHING, 2000, 1000, NULL },
  };
  char *out = render (true, false, ev, 5);
  assert_string_equal (
      out,
      "\n\x1b[1A\x1b[2K\raaaaaaaaaaaa: Preparing \r\x1b[1B"
      "x\n"
      "\n\x1b[1A\x1b[2K\raaaaaaaaaaaa: Mounted from library/busybox \r\x1b[1B"
      "\x1b[1A\x1b[2K\raaaaaaaaaaaa: Pushing      10B\r\x1b[1B"
      "\x1b[1A\x1b[2K\raaaaaaaaaaaa: Pushing [==================================================>] "
      "     2kB\r\x1b[1B");
  free (out);
  out = render (false, false, ev, 5);
  assert_string_equal (out,
                       "aaaaaaaaaaaa: Preparing\nx\naaaaaaaaaaaa: Mounted from library/busybox\n");
  free (out);
}

int main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_piped),
    cmocka_unit_test (test_quiet),
    cmocka_unit_test (test_tty),
    cmocka_unit_test (test_message_resets_block),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
