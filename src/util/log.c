#include "log.h"

#include <string.h>
#include <time.h>

static enum log_level current_level = LOG_LEVEL_WARN;

void log_set_level (enum log_level lvl) { current_level = lvl; }

enum log_level log_get_level (void) { return current_level; }

int log_level_parse (const char *name)
{
  static const char *const names[] = { "debug", "info", "warn", "error", "fatal" };
  if (strcmp (name, "warning") == 0)
    return LOG_LEVEL_WARN;
  for (size_t i = 0; i < ARRAY_SIZE (names); i++)
    if (strcmp (name, names[i]) == 0)
      return (int)i;
  return -1;
}

void log_msg (enum log_level lvl, const char *fmt, ...)
{
  static const char *const tags[] = { "DEBU", "INFO", "WARN", "ERRO", "FATA" };
  if (lvl < current_level)
    return;
  va_list ap;
  struct timespec ts;
  struct tm tm;
  char stamp[32];
  clock_gettime (CLOCK_REALTIME, &ts);
  gmtime_r (&ts.tv_sec, &tm);
  strftime (stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &tm);
  /* One write per line so concurrent berth processes do not interleave mid-line. */
  struct sbuf b;
  sbuf_init (&b);
  sbuf_addf (&b, "%s[%s.%06ldZ] ", tags[lvl], stamp, ts.tv_nsec / 1000);
  va_start (ap, fmt);
  sbuf_vaddf (&b, fmt, ap);
  va_end (ap);
  sbuf_addc (&b, '\n');
  fwrite (b.buf, 1, b.len, stderr);
  fflush (stderr);
  sbuf_release (&b);
}
