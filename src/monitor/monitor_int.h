/* monitor_int.h — pieces shared by the monitor loop (monitor.c), the attach client (attach.c),
 * the health-check scheduler (health.c) and the log files: the local terminal, detach-key
 * matching, attach-socket addressing, the signals a monitor forwards, and time stamps. */
#ifndef BERTH_MONITOR_INT_H
#define BERTH_MONITOR_INT_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>

#include "util/err.h"

/* "2024-01-02T03:04:05.123456789Z": Go's RFC3339Nano (fraction's trailing zeros dropped) when
 * !fixed, or Docker's RFC3339NanoFixed (always nine digits, what `docker logs -t` prints). */
#define MON_TIME_BUFSZ 80
char *mon_format_time (int64_t ns, bool fixed, char buf[MON_TIME_BUFSZ]);

/* A terminal put in raw mode and how to put it back. */
struct mon_term
{
  int fd;
  bool saved;
  struct termios orig;
};
/* Raw mode as Docker's client sets it (cfmakeraw). st->saved tells whether to restore. */
int mon_term_raw (int fd, struct mon_term *st, berr_t *err);
void mon_term_restore (struct mon_term *st);

/* Detach-key matching on the input stream. A byte that continues the sequence is held back;
 * when the sequence breaks, the held bytes go on to the container; when it completes, the
 * caller detaches and the held bytes are dropped. */
struct mon_detach
{
  char *keys;
  size_t n;
  size_t pos; /* bytes of keys matched so far (held back) */
};
/* Copy in[0..len) to out (room for len + m->n bytes), leaving out what is held back; stops at
 * a completed sequence and sets *detach. Returns the number of bytes written to out. */
size_t mon_detach_filter (struct mon_detach *m, const char *in, size_t len, char *out,
                          bool *detach);

/* Fill sa for path; a path too long for sun_path goes through a directory fd as
 * /proc/self/fd/N/name (*dirfd is that fd, to close after bind/connect; else -1). */
int mon_sockaddr (const char *path, struct sockaddr_un *sa, socklen_t *len, int *dirfd,
                  berr_t *err);

/* The signals forwarded with sig-proxy: every catchable asynchronous signal except SIGCHLD,
 * SIGPIPE, SIGURG and SIGWINCH (as Docker's CLI), and SIGTTIN/SIGTTOU, which the kernel sends to
 * a background berth itself. */
void mon_proxy_sigset (sigset_t *set);

/* Write everything to a possibly non-blocking fd, waiting with poll on EAGAIN. */
int mon_write_all (int fd, const void *data, size_t len);

/* Set or clear O_NONBLOCK. */
int mon_set_nonblock (int fd, bool on);

/* Health-check scheduling (health.c). The command records its own result; the monitor only
 * runs it on Docker's schedule: the first run one interval after the start; during the start
 * period, while no run has succeeded (status "starting"), every start-interval; else every
 * interval, counted from the end of the previous run. A run is killed after the timeout. */
struct mon_health
{
  char **argv;
  int64_t interval_ns, timeout_ns, start_period_ns, start_interval_ns;
  int64_t started_mono_ns;
  bool succeeded_once;
  int epfd;
  uint64_t tag_timer, tag_kill, tag_pidfd; /* epoll data for the three fds below */
  int timer_fd, kill_fd, pidfd;
  pid_t pid; /* the running check, or 0 */
};
/* Arm the schedule (no-op without argv or with interval 0). */
int mon_health_start (struct mon_health *h, berr_t *err);
/* The schedule fired: start a run. */
void mon_health_on_timer (struct mon_health *h);
/* The run's pidfd is readable, or SIGCHLD: reap it if it is done and schedule the next. */
void mon_health_reap (struct mon_health *h);
/* The run took longer than the timeout: kill it (reaped as usual afterwards). */
void mon_health_on_timeout (struct mon_health *h);
/* The container is gone: kill and reap a running check, close everything. */
void mon_health_stop (struct mon_health *h);

/* TCP relays for IPv6-published ports (proxy.c): listeners and connections are registered in
 * epfd with data.u64 = tag << 32 | index; the loop hands those events to mon_proxy_event. */
struct mon_proxy;
struct monitor_proxy_spec;
int mon_proxy_start (int epfd, uint32_t tag_listen, uint32_t tag_conn,
                     const struct monitor_proxy_spec *specs, size_t n, struct mon_proxy **out,
                     berr_t *err);
void mon_proxy_event (struct mon_proxy *p, uint32_t tag, size_t idx, uint32_t events);
void mon_proxy_free (struct mon_proxy *p);

#endif
