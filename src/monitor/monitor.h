/* monitor.h — the per-container supervisor's I/O loop, shared by the small `berth-monitor`
 * binary (detached containers) and by a foreground `berth run`, where the CLI itself is the
 * monitor (ARCHITECTURE.md §3).
 *
 * The loop relays the container's output (stdout/stderr pipes, or one pty master) to:
 *   - the log (json-file, see logfile.h; or none),
 *   - attached clients on the attach socket (detached case),
 *   - the local terminal/stdio (foreground case),
 * relays input (local stdin or an attach client's stdin) to the container's stdin, reaps the
 * container (pidfd/SIGCHLD) and returns its exit status once the output is drained.
 *
 * Attach socket protocol (AF_UNIX SOCK_SEQPACKET at $runroot/<id>/attach), one frame per
 * message, first byte the frame type, payload after it (at most MON_FRAME_MAX bytes):
 *   client -> monitor: MON_STDIN data | MON_STDIN_EOF | MON_RESIZE "ROWS COLS" (decimal text)
 *   monitor -> client: MON_STDOUT data | MON_STDERR data | MON_EXIT "CODE" (decimal text, then
 *                      the monitor closes the connection)
 * A client that connects receives output from then on (not the past: that is `logs`).
 * With a pty there is only MON_STDOUT.
 * A client that relays stdin sends an empty MON_STDIN frame first, so the monitor knows it
 * carries stdin (stdin_once) even before it has typed anything. MON_STDIN_EOF closes the
 * container's stdin pipe; with a pty it is ignored (Docker leaves a tty's input open).
 * Output is never held back for a client: when its socket is full, frames are dropped for it.
 *
 * Detached containers run `berth-monitor` (src/monitor/main.c documents its argv):
 *   berth-monitor --pid PID --exit-file PATH [--pidfd FD] [--stdout FD --stderr FD | --pty FD]
 *     [--stdin FD] [--stdin-once] [--log PATH --log-max-size N --log-max-file N]
 *     [--attach-socket-fd FD | --attach-socket PATH] [--health-cmd ARG]... [--health-interval NS
 *     --health-timeout NS --health-start-period NS --health-start-interval NS]
 *     [-- EXIT_COMMAND ARG...]
 * The container must be its child; at the end it writes PATH atomically as
 * {"ExitCode":N,"Signal":S,"FinishedAt":"RFC3339Nano"} and execs EXIT_COMMAND with
 * BERTH_EXIT_FILE=PATH in the environment. */
#ifndef BERTH_MONITOR_H
#define BERTH_MONITOR_H

#include <signal.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "monitor/logfile.h"

enum
{
  MON_STDIN = 0,
  MON_STDOUT = 1,
  MON_STDERR = 2,
  MON_STDIN_EOF = 3,
  MON_RESIZE = 4,
  MON_EXIT = 5,
};
#define MON_FRAME_MAX 32768

/* A published port on an IPv6 host address, relayed to the container's IPv4 address:port
 * (proxy.c). listen_fd is the bound reserving socket; the monitor makes it listen. */
struct monitor_proxy_spec
{
  int listen_fd;
  struct sockaddr_in target;
};

struct monitor_opts
{
  /* The container. */
  pid_t pid;
  int pidfd;          /* -1: use SIGCHLD + waitpid */
  int out_fd, err_fd; /* read ends of the container's stdout/stderr pipes, or -1 */
  int in_fd;          /* write end of the container's stdin pipe, or -1 (no -i); monitor_run
                         owns it: closed when stdin ends and at return */
  int pty_fd;         /* pty master with -t, else -1 (then out/err/in unused) */

  /* The log; NULL for --log-driver none. */
  struct logfile *log;

  /* Detached: listen here (already bound and listening, O_CLOEXEC), else -1. */
  int attach_listen_fd;
  /* Keep stdin open with no client attached (-i on a detached container): the container sees
   * EOF only when a client sends MON_STDIN_EOF. */
  bool stdin_once; /* close container stdin when the first attached client detaches/ends */

  /* Foreground: the local side, or -1. */
  int local_in, local_out, local_err;
  bool local_tty;          /* local_in is a terminal: raw mode, SIGWINCH -> resize pty */
  const char *detach_keys; /* NULL: "ctrl-p,ctrl-q"; as Docker, only with a pty and local_in */
  bool sig_proxy;          /* forward SIGINT/SIGTERM/SIGHUP/SIGQUIT/SIGUSR1/2… to the container */
  /* With sig_proxy: SIGINT/SIGTERM/SIGHUP/SIGQUIT cancel instead (the container is killed and
   * monitor_result.interrupted says by which signal) — a build step being interrupted. */
  bool kill_on_signal;

  /* Healthcheck: every interval run argv (a `berth … healthcheck-run <id>` command) and wait at
   * most timeout for it; 0 interval = none. start_period/start_interval as Docker. */
  char **health_argv;
  int64_t health_interval_ns, health_timeout_ns, health_start_period_ns, health_start_interval_ns;

  /* Published ports on IPv6 host addresses to relay (the fds stay the caller's). */
  const struct monitor_proxy_spec *proxies;
  size_t nproxies;
};

struct monitor_result
{
  int exit_code;       /* Docker's: the status, or 128+signal */
  int signal;          /* killing signal, or 0 */
  bool detached;       /* foreground: the user pressed the detach keys; the container still runs */
  int64_t finished_ns; /* CLOCK_REALTIME when reaped */
  int interrupted;     /* kill_on_signal: the signal that cancelled the run, or 0 */
};

/* Run until the container exits (and its output is drained) or, foreground, the user detaches.
 * Returns 0 and fills *res, or -1 with *err. Restores the local terminal mode on every path.
 * The fds in *o stay the caller's (except in_fd, see above); out/err/pty fds and the listening
 * socket are switched to non-blocking. Signals: SIGCHLD (and SIGWINCH, the sig-proxy set) are
 * blocked and read through a signalfd while it runs; SIGCHLD must not be SIG_IGN. */
int monitor_run (const struct monitor_opts *o, struct monitor_result *res, berr_t *err);

/* Create the attach socket at path (a stale one is replaced): AF_UNIX SOCK_SEQPACKET, mode
 * 0600, listening, O_CLOEXEC|O_NONBLOCK. Paths longer than sun_path work. Returns the fd. */
int monitor_listen (const char *path, berr_t *err);

/* Client side, for `attach` and `start -a`: connect to the attach socket and relay local stdio
 * until the container exits (res->exit_code from MON_EXIT) or the user detaches (detach keys
 * only with tty, as Docker). Nothing is printed. A monitor that hangs up without MON_EXIT is an
 * error ("the container's monitor closed the connection"). */
struct attach_opts
{
  const char *socket_path;
  int local_in, local_out, local_err; /* -1 to not attach that stream */
  bool local_tty, tty;                /* tty: container has a pty (raw mode + resize) */
  const char *detach_keys;
  bool sig_proxy;
  pid_t container_pid; /* for sig-proxy (signals sent with kill(2)), or 0 */
};
int monitor_attach (const struct attach_opts *o, struct monitor_result *res, berr_t *err);

/* Parse Docker's --detach-keys ("ctrl-p,ctrl-q", "a", "ctrl-@"...) into bytes (*keys is
 * malloc'd). Grammar (moby/term ToBytes): comma-separated keys, each one character, "ctrl-X"
 * for X in @ a-z [ \ ] ^ _, or "DEL". NULL or "" gives the default. Error, as the daemon's:
 * "Invalid detach keys (SPEC) provided". */
int monitor_parse_detach_keys (const char *spec, char **keys, size_t *n, berr_t *err);

#endif
