/* logfile.h — Docker's json-file log driver: one JSON object per line,
 *   {"log":"hello\n","stream":"stdout","time":"2026-11-26T12:00:00.123456789Z"}
 * lines split at '\n' (and at 16 KiB for long lines, the last piece without '\n', as Docker),
 * rotation by max-size (<path> -> <path>.1 -> … up to max-file files in all, Docker's naming),
 * and the reader behind `berth logs` (--tail, --since, --until, -t, -f). */
#ifndef BERTH_LOGFILE_H
#define BERTH_LOGFILE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "util/err.h"

struct logfile;
/* max_size 0 = unbounded (then max_file is ignored); max_file >= 1. */
int logfile_open (const char *path, uint64_t max_size, int max_file, struct logfile **out,
                  berr_t *err);
/* stream: "stdout" or "stderr". Buffers partial lines until '\n' (or 16 KiB). */
int logfile_write (struct logfile *l, const char *stream, const char *buf, size_t len, berr_t *err);
/* Write out partial lines (at container exit). */
int logfile_flush (struct logfile *l, berr_t *err);
void logfile_close (struct logfile *l);
/* Remove the log and its rotated files. */
void logfile_remove (const char *path);

struct log_read_opts
{
  int64_t tail;     /* -1: all */
  int64_t since_ns; /* 0: no bound */
  int64_t until_ns; /* 0: no bound */
  bool timestamps;  /* prefix each line with its RFC3339Nano time and a space */
  bool follow;      /* keep reading until still_running() returns false */
  bool (*still_running) (void *arg);
  void *arg;
};
/* Write the log to out (stdout lines) and err (stderr lines), in order, across rotated files.
 * As Docker: --tail counts entries from the end first, then --since/--until (both inclusive)
 * filter them; -t prints RFC3339NanoFixed (nine digits) and a space. A missing log is empty.
 * Invalid entries are skipped with a warning. With follow, still_running NULL never stops
 * (until until_ns passes). out or err_out may be NULL to drop that stream. */
int logfile_read (const char *path, const struct log_read_opts *o, FILE *out, FILE *err_out,
                  berr_t *err);

#endif
