/* berth-monitor — the small process that stays with a detached container (`run -d`, `start`).
 *
 *   berth-monitor --pid PID --exit-file PATH [options] [-- EXIT_COMMAND [ARG...]]
 *
 *   --pid PID                 the container's init; it must be a child of this process (the
 *                             caller forks, spawns the container from the fork, then execs
 *                             berth-monitor there)
 *   --pidfd FD                a pidfd for PID (else one is opened here; SIGCHLD as fallback)
 *   --stdout FD --stderr FD   read ends of the container's output pipes
 *   --pty FD                  the pty master instead, with -t
 *   --stdin FD                write end of the container's stdin pipe (-i without -t)
 *   --stdin-once              close the container's stdin when the first client carrying
 *                             stdin leaves
 *   --log PATH                json-file log; --log-max-size BYTES (0 = unbounded),
 *                             --log-max-file N (default 1). No --log: driver "none".
 *   --attach-socket-fd FD     a bound, listening SOCK_SEQPACKET socket (monitor_listen), or
 *   --attach-socket PATH      bind one here (removed again at exit)
 *   --exit-file PATH          written atomically when the container is gone:
 *                             {"ExitCode":N,"Signal":S,"FinishedAt":"RFC3339Nano"}
 *   --health-cmd ARG          one word of the health-check command; repeat for each word
 *   --health-interval NS --health-timeout NS --health-start-period NS
 *   --health-start-interval NS
 *   --proxy FD:IPV4:PORT      relay TCP connections arriving on FD (a bound socket reserving a
 *                             published port on an IPv6 host address) to the container's
 *                             address (repeatable)
 *   --log-level LEVEL         the monitor's own messages on stderr (default warn)
 *   -- EXIT_COMMAND ARG...    exec'd at the end with BERTH_EXIT_FILE=PATH in its environment
 *                             (`berth --root R --runroot RR container-cleanup ID`); without
 *                             one, berth-monitor exits with the container's exit code.
 *
 * Every FD given is inherited; all are closed before the exit command runs.  So are inherited
 * FDs not named here: the sockets that reserve the container's published ports (src/net/ports.h)
 * stay open exactly as long as the container runs. The program stays
 * small on purpose (a hundred of them run at once): it links the monitor, the log writer and
 * jansson, nothing else (no SQLite). */
#include <errno.h>
#include <fcntl.h>
#include <arpa/inet.h>
#include <getopt.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "monitor/monitor.h"
#include "monitor/monitor_int.h"
#include "util/fs.h"
#include "util/log.h"

enum
{
  OPT_PID = 256,
  OPT_PIDFD,
  OPT_STDOUT,
  OPT_STDERR,
  OPT_PTY,
  OPT_STDIN,
  OPT_STDIN_ONCE,
  OPT_LOG,
  OPT_LOG_MAX_SIZE,
  OPT_LOG_MAX_FILE,
  OPT_ATTACH_FD,
  OPT_ATTACH_PATH,
  OPT_EXIT_FILE,
  OPT_HEALTH_CMD,
  OPT_HEALTH_INTERVAL,
  OPT_HEALTH_TIMEOUT,
  OPT_HEALTH_START_PERIOD,
  OPT_HEALTH_START_INTERVAL,
  OPT_LOG_LEVEL,
  OPT_PROXY,
};

static const struct option options[] = {
  { "pid", required_argument, NULL, OPT_PID },
  { "pidfd", required_argument, NULL, OPT_PIDFD },
  { "stdout", required_argument, NULL, OPT_STDOUT },
  { "stderr", required_argument, NULL, OPT_STDERR },
  { "pty", required_argument, NULL, OPT_PTY },
  { "stdin", required_argument, NULL, OPT_STDIN },
  { "stdin-once", no_argument, NULL, OPT_STDIN_ONCE },
  { "log", required_argument, NULL, OPT_LOG },
  { "log-max-size", required_argument, NULL, OPT_LOG_MAX_SIZE },
  { "log-max-file", required_argument, NULL, OPT_LOG_MAX_FILE },
  { "attach-socket-fd", required_argument, NULL, OPT_ATTACH_FD },
  { "attach-socket", required_argument, NULL, OPT_ATTACH_PATH },
  { "exit-file", required_argument, NULL, OPT_EXIT_FILE },
  { "health-cmd", required_argument, NULL, OPT_HEALTH_CMD },
  { "health-interval", required_argument, NULL, OPT_HEALTH_INTERVAL },
  { "health-timeout", required_argument, NULL, OPT_HEALTH_TIMEOUT },
  { "health-start-period", required_argument, NULL, OPT_HEALTH_START_PERIOD },
  { "health-start-interval", required_argument, NULL, OPT_HEALTH_START_INTERVAL },
  { "log-level", required_argument, NULL, OPT_LOG_LEVEL },
  { "proxy", required_argument, NULL, OPT_PROXY },
  { NULL, 0, NULL, 0 },
};

static void usage_error (const char *fmt, const char *arg)
{
  fputs ("berth-monitor: ", stderr);
  fprintf (stderr, fmt, arg);
  fputc ('\n', stderr);
  exit (125);
}

static int64_t parse_num (const char *s, int64_t min)
{
  char *end;
  errno = 0;
  long long v = strtoll (s, &end, 10);
  if (errno != 0 || end == s || *end != '\0' || v < min)
    usage_error ("invalid number: %s", s);
  return v;
}

static int parse_fd (const char *s)
{
  int fd = (int)parse_num (s, 0);
  /* Inherited on purpose, but nothing this process starts may inherit it again. */
  if (fcntl (fd, F_SETFD, FD_CLOEXEC) < 0)
    usage_error ("not an open file descriptor: %s", s);
  return fd;
}

static void protect_from_oom (void)
{
  int fd = open ("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
  if (fd < 0)
    return;
  if (write (fd, "-1000", 5) < 0)
    log_debug ("oom_score_adj: %s", strerror (errno));
  close (fd);
}

/* When the loop itself failed, the container must not outlive its monitor unwatched: kill
 * it and take its status the plain way. */
static void kill_and_wait (pid_t pid, int pidfd, struct monitor_result *res)
{
  siginfo_t si;
  memset (&si, 0, sizeof si);
  if (pidfd >= 0)
    pidfd_send_signal (pidfd, SIGKILL, NULL, 0);
  else
    kill (pid, SIGKILL);
  memset (res, 0, sizeof *res);
  while (waitid (P_PID, (id_t)pid, &si, WEXITED) < 0 && errno == EINTR)
    ;
  res->finished_ns = now_ns ();
  if (si.si_pid == 0)
    res->exit_code = 255; /* status unknown, as Docker reports a lost container */
  else if (si.si_code == CLD_EXITED)
    res->exit_code = si.si_status;
  else
    {
      res->signal = si.si_status;
      res->exit_code = 128 + si.si_status;
    }
}

static int write_exit_file (const char *path, const struct monitor_result *res, berr_t *err)
{
  char tbuf[MON_TIME_BUFSZ];
  json_t *j = json_pack ("{s:i,s:i,s:s}", "ExitCode", res->exit_code, "Signal", res->signal,
                         "FinishedAt", mon_format_time (res->finished_ns, false, tbuf));
  char *text = j ? json_dumps (j, JSON_COMPACT) : NULL;
  int ret;

  json_decref (j);
  if (text == NULL)
    return berr_set (err, 0, "encode the exit status");
  ret = fs_write_atomic (path, text, strlen (text), 0644, err);
  free (text);
  return ret;
}

int main (int argc, char **argv)
{
  struct monitor_opts o = { .pid = 0,
                            .pidfd = -1,
                            .out_fd = -1,
                            .err_fd = -1,
                            .in_fd = -1,
                            .pty_fd = -1,
                            .attach_listen_fd = -1,
                            .local_in = -1,
                            .local_out = -1,
                            .local_err = -1 };
  struct monitor_result res;
  const char *log_path = NULL, *exit_file = NULL, *attach_path = NULL;
  uint64_t log_max_size = 0;
  int log_max_file = 1, c;
  char **health = NULL;
  size_t nhealth = 0;
  struct monitor_proxy_spec *proxies = NULL;
  size_t nproxies = 0;
  berr_t err = BERR_INIT;

  while ((c = getopt_long (argc, argv, "+", options, NULL)) != -1)
    switch (c)
      {
      case OPT_PID:
        o.pid = (pid_t)parse_num (optarg, 1);
        break;
      case OPT_PIDFD:
        o.pidfd = parse_fd (optarg);
        break;
      case OPT_STDOUT:
        o.out_fd = parse_fd (optarg);
        break;
      case OPT_STDERR:
        o.err_fd = parse_fd (optarg);
        break;
      case OPT_PTY:
        o.pty_fd = parse_fd (optarg);
        break;
      case OPT_STDIN:
        o.in_fd = parse_fd (optarg);
        break;
      case OPT_STDIN_ONCE:
        o.stdin_once = true;
        break;
      case OPT_LOG:
        log_path = optarg;
        break;
      case OPT_LOG_MAX_SIZE:
        log_max_size = (uint64_t)parse_num (optarg, 0);
        break;
      case OPT_LOG_MAX_FILE:
        log_max_file = (int)parse_num (optarg, 1);
        break;
      case OPT_ATTACH_FD:
        o.attach_listen_fd = parse_fd (optarg);
        break;
      case OPT_ATTACH_PATH:
        attach_path = optarg;
        break;
      case OPT_EXIT_FILE:
        exit_file = optarg;
        break;
      case OPT_HEALTH_CMD:
        health = realloc (health, (nhealth + 2) * sizeof *health);
        if (health == NULL)
          abort ();
        health[nhealth++] = optarg;
        health[nhealth] = NULL;
        break;
      case OPT_HEALTH_INTERVAL:
        o.health_interval_ns = parse_num (optarg, 0);
        break;
      case OPT_HEALTH_TIMEOUT:
        o.health_timeout_ns = parse_num (optarg, 0);
        break;
      case OPT_HEALTH_START_PERIOD:
        o.health_start_period_ns = parse_num (optarg, 0);
        break;
      case OPT_HEALTH_START_INTERVAL:
        o.health_start_interval_ns = parse_num (optarg, 0);
        break;
      case OPT_PROXY:
        {
          /* FD:IPV4:PORT */
          struct monitor_proxy_spec sp = { .target = { .sin_family = AF_INET } };
          char ip[32];
          int fd, port, used = 0;
          if (sscanf (optarg, "%d:%31[0-9.]:%d%n", &fd, ip, &port, &used) != 3
              || optarg[used] != '\0' || fd < 3 || port < 1 || port > 65535
              || inet_pton (AF_INET, ip, &sp.target.sin_addr) != 1)
            usage_error ("bad --proxy %s (FD:IPV4:PORT)", optarg);
          sp.listen_fd = fd;
          sp.target.sin_port = htons ((uint16_t)port);
          proxies = realloc (proxies, (nproxies + 1) * sizeof *proxies);
          if (proxies == NULL)
            abort ();
          proxies[nproxies++] = sp;
        }
        break;
      case OPT_LOG_LEVEL:
        if (log_level_parse (optarg) < 0)
          usage_error ("unknown log level: %s", optarg);
        log_set_level ((enum log_level)log_level_parse (optarg));
        break;
      default:
        usage_error ("%s", "usage: berth-monitor --pid PID --exit-file PATH [options] [-- CMD...]");
      }
  if (o.pid <= 0 || exit_file == NULL)
    usage_error ("%s", "--pid and --exit-file are required");
  o.health_argv = health;
  o.proxies = proxies;
  o.nproxies = nproxies;

  /* The terminal that started us may go; a client may vanish mid-write; the status of our
   * child must stay collectable. */
  signal (SIGHUP, SIG_IGN);
  signal (SIGPIPE, SIG_IGN);
  signal (SIGCHLD, SIG_DFL);
  protect_from_oom ();
  if (o.pidfd < 0)
    o.pidfd = pidfd_open (o.pid, 0);

  if (log_path && logfile_open (log_path, log_max_size, log_max_file, &o.log, &err) < 0)
    {
      log_error ("%s", err.msg);
      berr_release (&err);
    }
  if (attach_path)
    {
      o.attach_listen_fd = monitor_listen (attach_path, &err);
      if (o.attach_listen_fd < 0)
        {
          log_error ("%s", err.msg);
          berr_release (&err);
        }
    }

  if (monitor_run (&o, &res, &err) < 0)
    {
      log_error ("monitor: %s", err.msg);
      berr_release (&err);
      kill_and_wait (o.pid, o.pidfd, &res);
    }
  logfile_close (o.log);
  if (write_exit_file (exit_file, &res, &err) < 0)
    {
      log_error ("%s", err.msg);
      berr_release (&err);
    }
  if (attach_path)
    unlink (attach_path);
  free (health);
  free (proxies);

  if (optind >= argc)
    return res.exit_code;
  close_range (3, ~0U, 0);
  setenv ("BERTH_EXIT_FILE", exit_file, 1);
  execvp (argv[optind], argv + optind);
  log_error ("exec %s: %s", argv[optind], strerror (errno));
  return 127;
}
