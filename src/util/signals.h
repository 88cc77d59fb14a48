/* signals.h — signal names as Docker accepts them: "SIGTERM", "TERM", "term", "15",
 * "SIGRTMIN+3", "RTMAX-1". */
#ifndef BERTH_SIGNALS_H
#define BERTH_SIGNALS_H

/* The signal number, or -1 when the name is not a signal. */
int signal_parse (const char *name);
/* "SIGTERM" for 15; NULL when unknown. */
const char *signal_name (int sig);

#endif
