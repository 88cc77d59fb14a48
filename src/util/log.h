/* log.h — the logger. Messages go to stderr, filtered by level (--log-level, -D). */
#ifndef BERTH_LOG_H
#define BERTH_LOG_H

#include "util.h"

enum log_level
{
  LOG_LEVEL_DEBUG = 0,
  LOG_LEVEL_INFO,
  LOG_LEVEL_WARN,
  LOG_LEVEL_ERROR,
  LOG_LEVEL_FATAL,
};

void log_set_level (enum log_level lvl);
enum log_level log_get_level (void);
/* Parse "debug|info|warn|error|fatal"; returns -1 on an unknown name. */
int log_level_parse (const char *name);
void log_msg (enum log_level lvl, const char *fmt, ...) PRINTF_LIKE (2, 3);

#define log_debug(...)                                                                             \
  do                                                                                               \
    {                                                                                              \
      if (UNLIKELY (log_get_level () <= LOG_LEVEL_DEBUG))                                          \
        log_msg (LOG_LEVEL_DEBUG, __VA_ARGS__);                                                    \
    }                                                                                              \
  while (0)
#define log_info(...) log_msg (LOG_LEVEL_INFO, __VA_ARGS__)
#define log_warn(...) log_msg (LOG_LEVEL_WARN, __VA_ARGS__)
#define log_error(...) log_msg (LOG_LEVEL_ERROR, __VA_ARGS__)

#endif
