/* Unit tests for src/monitor: monitor_run against real child processes (pipes and a pty), the
 * attach protocol (monitor_attach and hand-made frames), detach keys, sig-proxy, health-check
 * scheduling, and the berth-monitor binary end to end (exit file, log, exit command, memory). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <libgen.h>
#include <poll.h>
#include <pthread.h>
#include <pty.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/pidfd.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "monitor/monitor.h"
#include "monitor/monitor_int.h"
#include "util/fs.h"
#include "util/units.h"
#include "util/util.h"

/* ---- helpers ---- */

static char *tmpdir_new (void)
{
  char *d = xstrdup ("/tmp/berth-mon-XXXXXX");
  assert_non_null (mkdtemp (d));
  return d;
}

static void tmpdir_free (char *d)
{
  berr_t err = BERR_INIT;
  assert_int_equal (fs_rm_rf (d, &err), 0);
  free (d);
}

static char *slurp (const char *path)
{
  char *data = NULL;
  size_t l = 0;
  berr_t err = BERR_INIT;
  if (fs_read_file (path, 1 << 30, &data, &l, &err) < 0)
    fail_msg ("%s", err.msg);
  if (l == 0) /* fs_read_fd leaves an empty file's buffer unterminated */
    {
      free (data);
      data = xstrdup ("");
    }
  return data;
}

static int64_t mono_ms (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The log as "stream:text" lines, in order, for exact comparison. */
static char *log_summary (const char *path)
{
  char *data = slurp (path);
  struct sbuf b;
  sbuf_init (&b);
  for (char *line = data, *nl; *line; line = nl + 1)
    {
      nl = strchr (line, '\n');
      assert_non_null (nl);
      json_t *j = json_loadb (line, (size_t)(nl - line), 0, NULL);
      assert_non_null (j);
      sbuf_addf (&b, "%s:%s|", json_string_value (json_object_get (j, "stream")),
                 json_string_value (json_object_get (j, "log")));
      json_decref (j);
    }
  free (data);
  return sbuf_detach (&b);
}

/* A "container": a child with pipes for stdout/stderr (and stdin), or a pty. */
struct ctr
{
  pid_t pid;
  int pidfd;
  int out_r, err_r, in_w, pty;
};

static void ctr_spawn (struct ctr *c, bool with_stdin, bool pty, char *const argv[],
                       void (*fn) (void))
{
  int o[2] = { -1, -1 }, e[2] = { -1, -1 }, i[2] = { -1, -1 }, master = -1, slave = -1;
  if (pty)
    assert_int_equal (openpty (&master, &slave, NULL, NULL, NULL), 0);
  else
    {
      assert_int_equal (pipe2 (o, O_CLOEXEC), 0);
      assert_int_equal (pipe2 (e, O_CLOEXEC), 0);
      if (with_stdin)
        assert_int_equal (pipe2 (i, O_CLOEXEC), 0);
    }
  pid_t pid = fork ();
  assert_true (pid >= 0);
  if (pid == 0)
    {
      sigset_t none;
      /* A failed assertion in the test must not leave this behind. */
      prctl (PR_SET_PDEATHSIG, SIGKILL);
      sigemptyset (&none);
      sigprocmask (SIG_SETMASK, &none, NULL);
      signal (SIGPIPE, SIG_DFL);
      if (pty)
        {
          setsid ();
          ioctl (slave, TIOCSCTTY, 0);
          dup2 (slave, 0);
          dup2 (slave, 1);
          dup2 (slave, 2);
        }
      else
        {
          int devnull = open ("/dev/null", O_RDONLY);
          dup2 (with_stdin ? i[0] : devnull, 0);
          dup2 (o[1], 1);
          dup2 (e[1], 2);
        }
      close_range (3, ~0U, 0);
      if (fn)
        {
          fn ();
          _exit (0);
        }
      execvp (argv[0], argv);
      _exit (127);
    }
  c->pid = pid;
  c->pidfd = pidfd_open (pid, 0);
  assert_true (c->pidfd >= 0);
  c->out_r = o[0];
  c->err_r = e[0];
  c->in_w = i[1];
  c->pty = master;
  if (o[1] >= 0)
    close (o[1]);
  if (e[1] >= 0)
    close (e[1]);
  if (i[0] >= 0)
    close (i[0]);
  if (slave >= 0)
    close (slave);
}

static void ctr_close (struct ctr *c)
{
  if (c->pidfd >= 0)
    close (c->pidfd);
  if (c->out_r >= 0)
    close (c->out_r);
  if (c->err_r >= 0)
    close (c->err_r);
  if (c->pty >= 0)
    close (c->pty);
  /* in_w belongs to monitor_run once handed over. */
}

static struct monitor_opts opts_for (struct ctr *c, struct logfile *log)
{
  return (struct monitor_opts){ .pid = c->pid,
                                .pidfd = c->pidfd,
                                .out_fd = c->out_r,
                                .err_fd = c->err_r,
                                .in_fd = c->in_w,
                                .pty_fd = c->pty,
                                .log = log,
                                .attach_listen_fd = -1,
                                .local_in = -1,
                                .local_out = -1,
                                .local_err = -1 };
}

static int open_tmp (const char *dir, const char *name)
{
  char *p = xasprintf ("%s/%s", dir, name);
  int fd = open (p, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  assert_true (fd >= 0);
  free (p);
  return fd;
}

static char *read_tmp (const char *dir, const char *name)
{
  char *p = xasprintf ("%s/%s", dir, name);
  char *t = slurp (p);
  free (p);
  return t;
}

/* A pipe whose read end holds exactly `data` and then EOF. */
static int pipe_with (const char *data, size_t len)
{
  int p[2];
  assert_int_equal (pipe2 (p, O_CLOEXEC), 0);
  assert_true (write (p[1], data, len) == (ssize_t)len);
  close (p[1]);
  return p[0];
}

static struct logfile *log_open (const char *dir, char **path)
{
  struct logfile *l;
  berr_t err = BERR_INIT;
  *path = xasprintf ("%s/c-json.log", dir);
  assert_int_equal (logfile_open (*path, 0, 1, &l, &err), 0);
  return l;
}

/* ---- monitor_run in this process ---- */

static void test_run_pipes (void **state)
{
  (void)state;
  char *dir = tmpdir_new (), *logpath;
  struct logfile *log = log_open (dir, &logpath);
  struct ctr c;
  char *const argv[]
      = { "sh", "-c", "echo out1; echo err1 >&2; printf 'no-newline'; exit 7", NULL };
  ctr_spawn (&c, false, false, argv, NULL);
  struct monitor_opts o = opts_for (&c, log);
  o.local_out = open_tmp (dir, "out");
  o.local_err = open_tmp (dir, "err");
  struct monitor_result res;
  berr_t err = BERR_INIT;
  int64_t before = now_ns ();
  if (monitor_run (&o, &res, &err) < 0)
    fail_msg ("%s", err.msg);
  assert_int_equal (res.exit_code, 7);
  assert_int_equal (res.signal, 0);
  assert_false (res.detached);
  assert_true (res.finished_ns >= before);
  logfile_close (log);

  char *s = log_summary (logpath);
  /* stdout and stderr are separate pipes: only each stream's own order is defined. */
  assert_true (strcmp (s, "stdout:out1\n|stderr:err1\n|stdout:no-newline|") == 0
               || strcmp (s, "stderr:err1\n|stdout:out1\n|stdout:no-newline|") == 0);
  free (s);
  char *out = read_tmp (dir, "out"), *errt = read_tmp (dir, "err");
  assert_string_equal (out, "out1\nno-newline");
  assert_string_equal (errt, "err1\n");
  free (out);
  free (errt);
  close (o.local_out);
  close (o.local_err);
  ctr_close (&c);
  free (logpath);
  tmpdir_free (dir);
}

static void test_run_signal_no_pidfd (void **state)
{
  (void)state;
  char *dir = tmpdir_new (), *logpath;
  struct logfile *log = log_open (dir, &logpath);
  struct ctr c;
  char *const argv[] = { "sh", "-c", "echo before; kill -KILL $$", NULL };
  ctr_spawn (&c, false, false, argv, NULL);
  close (c.pidfd);
  c.pidfd = -1; /* SIGCHLD + waitid(P_PID) */
  struct monitor_opts o = opts_for (&c, log);
  struct monitor_result res;
  berr_t err = BERR_INIT;
  if (monitor_run (&o, &res, &err) < 0)
    fail_msg ("%s", err.msg);
  assert_int_equal (res.exit_code, 137);
  assert_int_equal (res.signal, SIGKILL);
  logfile_close (log);
  char *s = log_summary (logpath);
  assert_string_equal (s, "stdout:before\n|");
  free (s);
  /* The signal mask is back as it was. */
  sigset_t cur;
  sigprocmask (SIG_SETMASK, NULL, &cur);
  assert_false (sigismember (&cur, SIGCHLD));
  ctr_close (&c);
  free (logpath);
  tmpdir_free (dir);
}

/* Output still in the pipe when the container is reaped must all reach the log: here the
 * child fills a 1 MiB pipe and is gone before the monitor starts, so everything comes from
 * the drain after reaping. */
static void big_write_child (void)
{
  size_t n = 600000;
  char *buf = malloc (n);
  if (buf == NULL || fcntl (1, F_SETPIPE_SZ, 1 << 20) < 0)
    _exit (90);
  memset (buf, 'z', n);
  if (fs_write_all (1, buf, n) < 0)
    _exit (91);
  _exit (0);
}

static void test_run_drain_after_exit (void **state)
{
  (void)state;
  char *dir = tmpdir_new (), *logpath;
  struct logfile *log = log_open (dir, &logpath);
  struct ctr c;
  siginfo_t si;
  ctr_spawn (&c, false, false, NULL, big_write_child);
  /* Wait for the exit without reaping. */
  assert_int_equal (waitid (P_PID, (id_t)c.pid, &si, WEXITED | WNOWAIT), 0);
  struct monitor_opts o = opts_for (&c, log);
  struct monitor_result res;
  berr_t err = BERR_INIT;
  if (monitor_run (&o, &res, &err) < 0)
    fail_msg ("%s", err.msg);
  assert_int_equal (res.exit_code, 0);
  logfile_close (log);
  char *text = NULL;
  size_t tlen = 0;
  FILE *f = open_memstream (&text, &tlen);
  struct log_read_opts ro = { .tail = -1 };
  assert_int_equal (logfile_read (logpath, &ro, f, f, &err), 0);
  fclose (f);
  assert_int_equal (tlen, 600000);
  assert_int_equal (strspn (text, "z"), 600000);
  free (text);
  ctr_close (&c);
  free (logpath);
  tmpdir_free (dir);
}

static void test_run_local_stdin (void **state)
{
  (void)state;
  char *dir = tmpdir_new (), *logpath;
  struct logfile *log = log_open (dir, &logpath);
  struct ctr c;
  char *const argv[] = { "cat", NULL };
  ctr_spawn (&c, true, false, argv, NULL);
  struct monitor_opts o = opts_for (&c, log);
  /* 100 KB of input: more than the container's stdin pipe holds at once, so input pauses. */
  size_t n = 100000;
  char *in = xmalloc (n);
  for (size_t i = 0; i < n; i++)
    in[i] = (char)('a' + i % 26);
  in[n - 1] = '\n';
  int p[2];
  assert_int_equal (pipe2 (p, O_CLOEXEC), 0);
  pid_t writer = fork ();
  if (writer == 0)
    {
      close (p[0]);
      _exit (fs_write_all (p[1], in, n) < 0);
    }
  close (p[1]);
  o.local_in = p[0];
  o.local_out = open_tmp (dir, "out");
  struct monitor_result res;
  berr_t err = BERR_INIT;
  if (monitor_run (&o, &res, &err) < 0)
    fail_msg ("%s", err.msg);
  /* Local EOF closed the container's stdin: cat ended by itself. */
  assert_int_equal (res.exit_code, 0);
  char *out = read_tmp (dir, "out");
  assert_int_equal (strlen (out), n);
  assert_memory_equal (out, in, n);
  free (out);
  int st;
  waitpid (writer, &st, 0);
  logfile_close (log);
  close (o.local_in);
  close (o.local_out);
  free (in);
  ctr_close (&c);
  free (logpath);
  tmpdir_free (dir);
}

static void usr1_exit (int sig)
{
  (void)sig;
  _exit (42);
}

/* The child asks its parent to forward SIGUSR1 back to it. */
static void sig_child (void)
{
  signal (SIGUSR1, usr1_exit);
  kill (getppid (), SIGUSR1);
  for (int i = 0; i < 500; i++)
    usleep (10000);
  _exit (1);
}

static void test_sig_proxy (void **state)
{
  (void)state;
  sigset_t usr1, old;
  struct ctr c;
  sigemptyset (&usr1);
  sigaddset (&usr1, SIGUSR1);
  /* Blocked before the child exists: a signal that comes before monitor_run waits for its
   * signalfd (signalfd reports what is already pending). */
  sigprocmask (SIG_BLOCK, &usr1, &old);
  ctr_spawn (&c, false, false, NULL, sig_child);
  struct monitor_opts o = opts_for (&c, NULL);
  o.sig_proxy = true;
  struct monitor_result res;
  berr_t err = BERR_INIT;
  int r = monitor_run (&o, &res, &err);
  sigprocmask (SIG_SETMASK, &old, NULL);
  if (r < 0)
    fail_msg ("%s", err.msg);
  assert_int_equal (res.exit_code, 42);
  ctr_close (&c);
}

static void test_local_detach (void **state)
{
  (void)state;
  struct ctr c;
  char *const argv[] = { "sleep", "10", NULL };
  ctr_spawn (&c, false, true, argv, NULL);
  struct monitor_opts o = opts_for (&c, NULL);
  o.local_in = pipe_with ("ab\x10\x11", 4);
  o.local_out = open ("/dev/null", O_WRONLY | O_CLOEXEC);
  struct monitor_result res;
  berr_t err = BERR_INIT;
  if (monitor_run (&o, &res, &err) < 0)
    fail_msg ("%s", err.msg);
  assert_true (res.detached);
  /* Still running: detaching leaves the container alone. */
  assert_int_equal (kill (c.pid, 0), 0);
  kill (c.pid, SIGKILL);
  waitpid (c.pid, NULL, 0);
  ctr_close (&c);

  /* Bad detach keys are an error before anything happens. */
  ctr_spawn (&c, false, true, argv, NULL);
  struct monitor_opts o2 = opts_for (&c, NULL);
  o2.local_in = o.local_in;
  o2.detach_keys = "ctrl-";
  assert_int_equal (monitor_run (&o2, &res, &err), -1);
  assert_string_equal (err.msg, "Invalid detach keys (ctrl-) provided");
  berr_release (&err);
  kill (c.pid, SIGKILL);
  waitpid (c.pid, NULL, 0);
  close (o.local_in);
  close (o.local_out);
  ctr_close (&c);
}

/* Foreground `run -it`: the user's terminal (here another pty) is raw while the monitor runs
 * and restored after; SIGWINCH copies its size to the container's pty. A helper thread plays
 * the user; it blocks every signal so SIGWINCH reaches the monitor's signalfd. */
struct user_tty
{
  int master, slave;
  bool was_raw;
};

static void *user_thread (void *arg)
{
  struct user_tty *u = arg;
  struct termios t;
  struct winsize ws = { .ws_row = 40, .ws_col = 120 };
  usleep (200000);
  u->was_raw = tcgetattr (u->slave, &t) == 0 && !(t.c_lflag & (ICANON | ECHO | ISIG));
  ioctl (u->master, TIOCSWINSZ, &ws);
  kill (getpid (), SIGWINCH);
  usleep (100000);
  if (write (u->master, "go\n", 3) != 3)
    u->was_raw = false;
  return NULL;
}

static void test_local_tty_raw_and_winch (void **state)
{
  (void)state;
  char *dir = tmpdir_new ();
  struct user_tty u;
  struct termios before, after;
  sigset_t all, old;
  pthread_t th;
  struct ctr c;
  char *const argv[] = { "sh", "-c", "read x; stty size; exit 6", NULL };

  assert_int_equal (openpty (&u.master, &u.slave, NULL, NULL, NULL), 0);
  assert_int_equal (tcgetattr (u.slave, &before), 0);
  assert_true (before.c_lflag & ICANON);
  ctr_spawn (&c, false, true, argv, NULL);
  struct monitor_opts o = opts_for (&c, NULL);
  o.local_in = u.slave;
  o.local_out = open_tmp (dir, "out");
  o.local_tty = true;
  sigfillset (&all);
  pthread_sigmask (SIG_BLOCK, &all, &old);
  assert_int_equal (pthread_create (&th, NULL, user_thread, &u), 0);
  pthread_sigmask (SIG_SETMASK, &old, NULL);
  struct monitor_result res;
  berr_t err = BERR_INIT;
  int r = monitor_run (&o, &res, &err);
  pthread_join (th, NULL);
  if (r < 0)
    fail_msg ("%s", err.msg);
  assert_int_equal (res.exit_code, 6);
  assert_true (u.was_raw);
  assert_int_equal (tcgetattr (u.slave, &after), 0);
  assert_int_equal (after.c_lflag, before.c_lflag);
  assert_int_equal (after.c_iflag, before.c_iflag);
  assert_int_equal (after.c_oflag, before.c_oflag);
  char *out = read_tmp (dir, "out");
  assert_non_null (strstr (out, "40 120\r\n"));
  free (out);
  close (o.local_out);
  close (u.master);
  close (u.slave);
  ctr_close (&c);
  tmpdir_free (dir);
}

/* ---- health checks ---- */

static int count_lines (const char *path)
{
  struct stat st;
  if (stat (path, &st) < 0)
    return 0;
  char *t = slurp (path);
  int n = 0;
  for (char *p = t; *p; p++)
    n += *p == '\n';
  free (t);
  return n;
}

static int health_runs (const char *dir, const char *script, double container_secs,
                        int64_t interval_ms, int64_t timeout_ms, int64_t start_period_ms,
                        int64_t start_interval_ms, int64_t *took_ms)
{
  char *file = xasprintf ("%s/health-%lld", dir, (long long)mono_ms ());
  char *cmd = xasprintf ("echo run >> %s; %s", file, script);
  char *secs = xasprintf ("%.2f", container_secs);
  char *hargv[] = { "/bin/sh", "-c", cmd, NULL };
  char *const argv[] = { "sleep", secs, NULL };
  struct ctr c;
  ctr_spawn (&c, false, false, argv, NULL);
  struct monitor_opts o = opts_for (&c, NULL);
  o.health_argv = hargv;
  o.health_interval_ns = interval_ms * 1000000;
  o.health_timeout_ns = timeout_ms * 1000000;
  o.health_start_period_ns = start_period_ms * 1000000;
  o.health_start_interval_ns = start_interval_ms * 1000000;
  struct monitor_result res;
  berr_t err = BERR_INIT;
  int64_t t0 = mono_ms ();
  if (monitor_run (&o, &res, &err) < 0)
    fail_msg ("%s", err.msg);
  *took_ms = mono_ms () - t0;
  assert_int_equal (res.exit_code, 0);
  int n = count_lines (file);
  ctr_close (&c);
  free (file);
  free (cmd);
  free (secs);
  return n;
}

static void test_health_schedule (void **state)
{
  (void)state;
  char *dir = tmpdir_new ();
  int64_t took;
  /* Every 100 ms for 0.55 s: runs at about 100, 200, 300, 400, 500 ms. */
  int n = health_runs (dir, "exit 0", 0.55, 100, 1000, 0, 0, &took);
  assert_true (n >= 3 && n <= 6);
  /* Inside the start period and never healthy: every start-interval (50 ms). */
  n = health_runs (dir, "exit 1", 0.5, 10000, 1000, 10000, 50, &took);
  assert_true (n >= 5);
  /* Inside the start period, but healthy at the first run: then the 10 s interval. */
  n = health_runs (dir, "exit 0", 0.5, 10000, 1000, 10000, 50, &took);
  assert_int_equal (n, 1);
  /* A check that hangs is killed at its timeout and the schedule goes on; at the container's
   * exit a running check is killed too, so the monitor does not wait for it. */
  n = health_runs (dir, "exec sleep 10", 0.6, 50, 100, 0, 0, &took);
  assert_true (n >= 2);
  assert_true (took < 3000);
  tmpdir_free (dir);
}

/* ---- the monitor in another process, for attach clients ---- */

struct monproc
{
  pid_t mpid, cpid;
  int res_r;
};

/* Fork a monitor process that spawns the container and runs monitor_run with o (the ctr
 * fields filled in there). The result comes back through a pipe. */
static void monproc_start (struct monproc *mp, struct monitor_opts o, bool with_stdin, bool pty,
                           char *const argv[])
{
  int p[2];
  assert_int_equal (pipe2 (p, O_CLOEXEC), 0);
  mp->mpid = fork ();
  assert_true (mp->mpid >= 0);
  if (mp->mpid == 0)
    {
      struct ctr c;
      struct monitor_result res;
      berr_t err = BERR_INIT;
      prctl (PR_SET_PDEATHSIG, SIGKILL);
      close (p[0]);
      ctr_spawn (&c, with_stdin, pty, argv, NULL);
      o.pid = c.pid;
      o.pidfd = c.pidfd;
      o.out_fd = c.out_r;
      o.err_fd = c.err_r;
      o.in_fd = c.in_w;
      o.pty_fd = c.pty;
      if (write (p[1], &c.pid, sizeof c.pid) < 0)
        _exit (2);
      if (monitor_run (&o, &res, &err) < 0)
        {
          fprintf (stderr, "monitor: %s\n", err.msg);
          _exit (3);
        }
      if (o.log)
        logfile_close (o.log);
      if (write (p[1], &res, sizeof res) < 0)
        _exit (2);
      _exit (0);
    }
  close (p[1]);
  mp->res_r = p[0];
  assert_true (read (p[0], &mp->cpid, sizeof mp->cpid) == sizeof mp->cpid);
  if (o.attach_listen_fd >= 0)
    close (o.attach_listen_fd);
}

static struct monitor_result monproc_wait (struct monproc *mp)
{
  struct monitor_result res;
  int st;
  assert_true (read (mp->res_r, &res, sizeof res) == sizeof res);
  close (mp->res_r);
  assert_int_equal (waitpid (mp->mpid, &st, 0), mp->mpid);
  assert_true (WIFEXITED (st) && WEXITSTATUS (st) == 0);
  return res;
}

static struct monitor_opts base_opts (int listen_fd, struct logfile *log)
{
  return (struct monitor_opts){ .pid = 0,
                                .pidfd = -1,
                                .out_fd = -1,
                                .err_fd = -1,
                                .in_fd = -1,
                                .pty_fd = -1,
                                .log = log,
                                .attach_listen_fd = listen_fd,
                                .local_in = -1,
                                .local_out = -1,
                                .local_err = -1 };
}

static int raw_connect (const char *path)
{
  struct sockaddr_un sa = { .sun_family = AF_UNIX };
  int fd = socket (AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
  assert_true (fd >= 0);
  assert_true (strlen (path) < sizeof sa.sun_path);
  strcpy (sa.sun_path, path);
  assert_int_equal (connect (fd, (struct sockaddr *)&sa, sizeof sa), 0);
  return fd;
}

static void raw_send (int fd, int type, const char *data)
{
  char buf[256];
  size_t n = strlen (data);
  buf[0] = (char)type;
  memcpy (buf + 1, data, n);
  assert_true (send (fd, buf, n + 1, MSG_NOSIGNAL) == (ssize_t)(n + 1));
}

/* Receive one frame (5 s at most); returns its size (0 at EOF), frame in buf. */
static ssize_t raw_recv (int fd, char *buf, size_t cap)
{
  struct pollfd p = { .fd = fd, .events = POLLIN };
  assert_int_equal (poll (&p, 1, 5000), 1);
  return recv (fd, buf, cap, 0);
}

static void test_attach_client (void **state)
{
  (void)state;
  char *dir = tmpdir_new (), *logpath;
  char *sock = xasprintf ("%s/attach", dir);
  berr_t err = BERR_INIT;
  int lfd = monitor_listen (sock, &err);
  assert_true (lfd >= 0);
  struct logfile *log = log_open (dir, &logpath);
  struct monproc mp;
  /* $(cat) ends only at EOF: the client's MON_STDIN_EOF must close the container's stdin. */
  char *const argv[]
      = { "sh", "-c", "x=$(cat); echo \"got $x\"; echo \"err $x\" >&2; exit 5", NULL };
  monproc_start (&mp, base_opts (lfd, log), true, false, argv);
  logfile_close (log);

  struct attach_opts ao = { .socket_path = sock,
                            .local_in = pipe_with ("hello\n", 6),
                            .local_out = open_tmp (dir, "out"),
                            .local_err = open_tmp (dir, "err") };
  struct monitor_result res;
  if (monitor_attach (&ao, &res, &err) < 0)
    fail_msg ("%s", err.msg);
  assert_int_equal (res.exit_code, 5);
  assert_false (res.detached);
  char *out = read_tmp (dir, "out"), *et = read_tmp (dir, "err");
  assert_string_equal (out, "got hello\n");
  assert_string_equal (et, "err hello\n");
  free (out);
  free (et);
  struct monitor_result mres = monproc_wait (&mp);
  assert_int_equal (mres.exit_code, 5);
  char *s = log_summary (logpath);
  assert_true (strstr (s, "stdout:got hello\n|") && strstr (s, "stderr:err hello\n|"));
  free (s);

  /* No monitor any more: connecting fails with an error, not a hang. */
  ao.local_in = -1;
  assert_int_equal (monitor_attach (&ao, &res, &err), -1);
  assert_non_null (strstr (err.msg, "attach: connect to"));
  berr_release (&err);
  close (ao.local_out);
  close (ao.local_err);
  free (sock);
  free (logpath);
  tmpdir_free (dir);
}

/* The container exits while stdin the client sent is still unread: the monitor closes with
 * those frames queued, which the kernel reports to the client as ECONNRESET ahead of the
 * queued MON_EXIT. The client must still get the exit code. */
static void test_attach_exit_while_sending (void **state)
{
  (void)state;
  char *dir = tmpdir_new ();
  char *sock = xasprintf ("%s/attach", dir);
  berr_t err = BERR_INIT;
  int lfd = monitor_listen (sock, &err);
  assert_true (lfd >= 0);
  struct monproc mp;
  /* A background sleep holds the stdin pipe without reading it (through fd 3: sh gives a
   * background job /dev/null as stdin), so input stays paused and the client's frames pile up
   * unread in the monitor's socket until the exit. */
  char *pidfile = xasprintf ("%s/bg.pid", dir);
  char *script = xasprintf ("exec 3<&0; sleep 5 <&3 & echo $! > %s; sleep 0.3; exit 9", pidfile);
  char *const argv[] = { "sh", "-c", script, NULL };
  monproc_start (&mp, base_opts (lfd, NULL), true, false, argv);

  /* 100 KB and EOF: a few frames that fit in the socket buffers, then the client is idle. */
  int in = open_tmp (dir, "in");
  char *chunk = xmalloc (100000);
  memset (chunk, 'i', 100000);
  assert_int_equal (fs_write_all (in, chunk, 100000), 0);
  assert_int_equal (lseek (in, 0, SEEK_SET), 0);
  free (chunk);
  struct attach_opts ao = { .socket_path = sock, .local_in = in, .local_out = -1, .local_err = -1 };
  struct monitor_result res;
  int r = monitor_attach (&ao, &res, &err);
  /* The background sleep goes first, whatever the outcome. */
  char *bg = slurp (pidfile);
  assert_int_equal (kill (atoi (bg), SIGKILL), 0);
  free (bg);
  if (r < 0)
    fail_msg ("%s", err.msg);
  assert_int_equal (res.exit_code, 9);
  close (in);
  assert_int_equal (monproc_wait (&mp).exit_code, 9);
  free (script);
  free (pidfile);
  free (sock);
  tmpdir_free (dir);
}

/* Frames by hand: a watcher without stdin and a client with stdin; with stdin_once, the
 * stdin client leaving (no EOF frame) closes the container's stdin. */
static void test_attach_protocol_stdin_once (void **state)
{
  (void)state;
  char *dir = tmpdir_new ();
  char *sock = xasprintf ("%s/attach", dir);
  berr_t err = BERR_INIT;
  int lfd = monitor_listen (sock, &err);
  assert_true (lfd >= 0);
  struct monproc mp;
  struct monitor_opts o = base_opts (lfd, NULL);
  o.stdin_once = true;
  char *const argv[] = { "cat", NULL };
  monproc_start (&mp, o, true, false, argv);

  char buf[MON_FRAME_MAX + 1];
  int watcher = raw_connect (sock);
  int client = raw_connect (sock);
  raw_send (client, MON_STDIN, "");
  raw_send (client, MON_STDIN, "data\n");
  ssize_t n = raw_recv (client, buf, sizeof buf);
  assert_int_equal (n, 6);
  assert_memory_equal (buf,
                       "\x01"
                       "data\n",
                       6);
  n = raw_recv (watcher, buf, sizeof buf);
  assert_int_equal (n, 6);
  assert_memory_equal (buf,
                       "\x01"
                       "data\n",
                       6);
  close (client);
  /* cat sees EOF and exits 0: the watcher gets MON_EXIT "0", then the end. */
  n = raw_recv (watcher, buf, sizeof buf);
  assert_int_equal (n, 2);
  assert_memory_equal (buf,
                       "\x05"
                       "0",
                       2);
  assert_int_equal (raw_recv (watcher, buf, sizeof buf), 0);
  close (watcher);
  assert_int_equal (monproc_wait (&mp).exit_code, 0);
  free (sock);
  tmpdir_free (dir);
}

/* Two clients push stdin at a container that starts reading late: input pauses and resumes
 * many times, and not one byte is lost or duplicated. */
static void test_attach_two_writers (void **state)
{
  (void)state;
  enum
  {
    FRAMES = 10,
    TOTAL = 2 * FRAMES * MON_FRAME_MAX
  };
  char *dir = tmpdir_new (), *logpath;
  char *sock = xasprintf ("%s/attach", dir);
  berr_t err = BERR_INIT;
  int lfd = monitor_listen (sock, &err);
  assert_true (lfd >= 0);
  struct logfile *log = log_open (dir, &logpath);
  struct monproc mp;
  /* A lost byte shows as head still waiting: timeout turns that into exit code 124. */
  char *script = xasprintf ("sleep 0.3; exec timeout 10 head -c %d", TOTAL);
  char *const argv[] = { "sh", "-c", script, NULL };
  monproc_start (&mp, base_opts (lfd, log), true, false, argv);
  logfile_close (log);

  pid_t senders[2];
  for (int k = 0; k < 2; k++)
    {
      int fd = raw_connect (sock);
      senders[k] = fork ();
      assert_true (senders[k] >= 0);
      if (senders[k] == 0)
        {
          static char frame[MON_FRAME_MAX + 1];
          prctl (PR_SET_PDEATHSIG, SIGKILL);
          frame[0] = MON_STDIN;
          memset (frame + 1, k ? 'b' : 'a', MON_FRAME_MAX);
          for (int i = 0; i < FRAMES; i++)
            if (send (fd, frame, sizeof frame, MSG_NOSIGNAL) != (ssize_t)sizeof frame)
              _exit (1);
          _exit (0);
        }
      close (fd);
    }
  for (int k = 0; k < 2; k++)
    {
      int st;
      assert_int_equal (waitpid (senders[k], &st, 0), senders[k]);
      assert_true (WIFEXITED (st) && WEXITSTATUS (st) == 0);
    }
  assert_int_equal (monproc_wait (&mp).exit_code, 0);

  char *text = NULL;
  size_t tlen = 0, na = 0, nb = 0;
  FILE *f = open_memstream (&text, &tlen);
  struct log_read_opts ro = { .tail = -1 };
  assert_int_equal (logfile_read (logpath, &ro, f, f, &err), 0);
  fclose (f);
  assert_int_equal (tlen, TOTAL);
  for (size_t i = 0; i < tlen; i++)
    {
      na += text[i] == 'a';
      nb += text[i] == 'b';
    }
  assert_int_equal (na, FRAMES * MON_FRAME_MAX);
  assert_int_equal (nb, FRAMES * MON_FRAME_MAX);
  free (text);
  free (script);
  free (sock);
  free (logpath);
  tmpdir_free (dir);
}

/* A client that never reads must not slow the container nor make the monitor hoard data. */
static void test_attach_slow_client (void **state)
{
  (void)state;
  char *dir = tmpdir_new (), *logpath;
  char *sock = xasprintf ("%s/attach", dir);
  berr_t err = BERR_INIT;
  int lfd = monitor_listen (sock, &err);
  assert_true (lfd >= 0);
  struct logfile *log = log_open (dir, &logpath);
  struct monproc mp;
  char *const argv[]
      = { "sh", "-c", "read go; head -c 4000000 /dev/zero | tr '\\0' x; exit 3", NULL };
  monproc_start (&mp, base_opts (lfd, log), true, false, argv);
  logfile_close (log);

  char buf[MON_FRAME_MAX + 1];
  int lazy = raw_connect (sock);
  int64_t t0 = mono_ms ();
  raw_send (lazy, MON_STDIN, "go\n");
  struct monitor_result res = monproc_wait (&mp);
  assert_int_equal (res.exit_code, 3);
  assert_true (mono_ms () - t0 < 10000);

  /* The log has every byte; the lazy client got what fit in its socket, then the end. */
  char *text = NULL;
  size_t tlen = 0;
  FILE *f = open_memstream (&text, &tlen);
  struct log_read_opts ro = { .tail = -1 };
  assert_int_equal (logfile_read (logpath, &ro, f, f, &err), 0);
  fclose (f);
  assert_int_equal (tlen, 4000000);
  free (text);
  size_t got = 0;
  ssize_t n;
  while ((n = raw_recv (lazy, buf, sizeof buf)) > 0)
    if (buf[0] == MON_STDOUT)
      got += (size_t)n - 1;
  assert_true (got > 0 && got < 4000000);
  close (lazy);
  free (sock);
  free (logpath);
  tmpdir_free (dir);
}

static void test_pty_resize_and_eof (void **state)
{
  (void)state;
  char *dir = tmpdir_new (), *logpath;
  char *sock = xasprintf ("%s/attach", dir);
  berr_t err = BERR_INIT;
  int lfd = monitor_listen (sock, &err);
  assert_true (lfd >= 0);
  struct logfile *log = log_open (dir, &logpath);
  struct monproc mp;
  char *const argv[] = { "sh", "-c", "read x; stty size; echo \"in=$x\"; exit 4", NULL };
  monproc_start (&mp, base_opts (lfd, log), false, true, argv);
  logfile_close (log);

  int client = raw_connect (sock);
  raw_send (client, MON_RESIZE, "33 101");
  /* Ignored with a pty: the input below still arrives. */
  raw_send (client, MON_STDIN_EOF, "");
  raw_send (client, MON_STDIN, "go\n");
  struct sbuf out;
  sbuf_init (&out);
  char buf[MON_FRAME_MAX + 2];
  int code = -1;
  ssize_t n;
  while ((n = raw_recv (client, buf, sizeof buf)) > 0)
    {
      assert_true (buf[0] == MON_STDOUT || buf[0] == MON_EXIT);
      buf[n] = '\0';
      if (buf[0] == MON_EXIT)
        code = atoi (buf + 1);
      else
        sbuf_add (&out, buf + 1, (size_t)n - 1);
    }
  assert_int_equal (code, 4);
  assert_non_null (strstr (out.buf, "33 101\r\n"));
  assert_non_null (strstr (out.buf, "in=go\r\n"));
  sbuf_release (&out);
  close (client);
  assert_int_equal (monproc_wait (&mp).exit_code, 4);
  /* A tty has one stream: everything is logged as stdout. */
  char *s = log_summary (logpath);
  assert_null (strstr (s, "stderr:"));
  assert_non_null (strstr (s, "stdout:33 101\r\n|"));
  free (s);
  free (sock);
  free (logpath);
  tmpdir_free (dir);
}

static void test_attach_detach_keys (void **state)
{
  (void)state;
  char *dir = tmpdir_new ();
  /* A socket path longer than sun_path: reached through its directory. */
  char *deep = xasprintf ("%s/%0100d", dir, 0);
  assert_int_equal (mkdir (deep, 0700), 0);
  char *sock = xasprintf ("%s/attach", deep);
  assert_true (strlen (sock) >= sizeof ((struct sockaddr_un *)0)->sun_path);
  berr_t err = BERR_INIT;
  int lfd = monitor_listen (sock, &err);
  if (lfd < 0)
    fail_msg ("%s", err.msg);
  struct monproc mp;
  char *const argv[] = { "sleep", "10", NULL };
  monproc_start (&mp, base_opts (lfd, NULL), false, true, argv);

  struct attach_opts ao = { .socket_path = sock,
                            .local_in = pipe_with ("x\x01y\x01z", 5),
                            .local_out = open ("/dev/null", O_WRONLY | O_CLOEXEC),
                            .local_err = -1,
                            .tty = true,
                            .detach_keys = "ctrl-a,z" };
  struct monitor_result res;
  if (monitor_attach (&ao, &res, &err) < 0)
    fail_msg ("%s", err.msg);
  assert_true (res.detached);
  /* The container is untouched; end it and the monitor reports it. */
  assert_int_equal (kill (mp.cpid, 0), 0);
  kill (mp.cpid, SIGTERM);
  struct monitor_result mres = monproc_wait (&mp);
  assert_int_equal (mres.exit_code, 143);
  assert_int_equal (mres.signal, SIGTERM);
  close (ao.local_in);
  close (ao.local_out);
  free (sock);
  free (deep);
  tmpdir_free (dir);
}

/* ---- detach keys ---- */

static void check_keys (const char *spec, const char *want, size_t wn)
{
  char *keys = NULL;
  size_t n = 0;
  berr_t err = BERR_INIT;
  if (monitor_parse_detach_keys (spec, &keys, &n, &err) < 0)
    fail_msg ("%s: %s", spec ? spec : "(null)", err.msg);
  assert_int_equal (n, wn);
  assert_memory_equal (keys, want, wn);
  free (keys);
}

static void check_keys_bad (const char *spec)
{
  char *keys = NULL;
  size_t n = 0;
  berr_t err = BERR_INIT;
  assert_int_equal (monitor_parse_detach_keys (spec, &keys, &n, &err), -1);
  char *want = xasprintf ("Invalid detach keys (%s) provided", spec);
  assert_string_equal (err.msg, want);
  assert_int_equal (err.kind, BERR_INVALID);
  free (want);
  berr_release (&err);
}

static void test_detach_keys_parse (void **state)
{
  (void)state;
  check_keys (NULL, "\x10\x11", 2);
  check_keys ("", "\x10\x11", 2);
  check_keys ("ctrl-p,ctrl-q", "\x10\x11", 2);
  check_keys ("a", "a", 1);
  check_keys ("ctrl-@", "\0", 1);
  check_keys ("ctrl-a,a,DEL",
              "\x01"
              "a\x7f",
              3);
  check_keys ("ctrl-z,ctrl-[,ctrl-\\,ctrl-],ctrl-^,ctrl-_", "\x1a\x1b\x1c\x1d\x1e\x1f", 6);
}

static void test_detach_keys_grammar (void **state)
{
  (void)state;
  /* Split at ',' first, then each key must be one character, ctrl-X or DEL. */
  check_keys_bad (",");      /* two empty keys */
  check_keys_bad ("a,");     /* trailing empty key */
  check_keys_bad ("ctrl-P"); /* names are case-sensitive */
  check_keys_bad ("CTRL-p");
  check_keys_bad ("ctrl-");
  check_keys_bad ("ctrl-1");
  check_keys_bad ("ctrl-pq");
  check_keys_bad ("ab");
  check_keys_bad ("del");
  check_keys_bad ("ctrl-p, ctrl-q"); /* no spaces */
  check_keys ("-", "-", 1);
  check_keys (" ", " ", 1);
  check_keys ("ctrl-p,ctrl-p,q", "\x10\x10q", 3);
}

static void test_detach_filter (void **state)
{
  (void)state;
  struct mon_detach m = { .keys = "\x10\x11", .n = 2 };
  char out[64];
  bool det;
  size_t n;

  n = mon_detach_filter (&m,
                         "ab\x10\x11"
                         "cd",
                         6, out, &det);
  assert_true (det);
  assert_int_equal (n, 2);
  assert_memory_equal (out, "ab", 2);
  /* A broken sequence gives back what was held. */
  n = mon_detach_filter (&m,
                         "a\x10"
                         "b",
                         3, out, &det);
  assert_false (det);
  assert_int_equal (n, 3);
  assert_memory_equal (out,
                       "a\x10"
                       "b",
                       3);
  /* Held across reads. */
  n = mon_detach_filter (&m, "\x10", 1, out, &det);
  assert_false (det);
  assert_int_equal (n, 0);
  n = mon_detach_filter (&m, "\x11", 1, out, &det);
  assert_true (det);
  assert_int_equal (n, 0);
  /* Held, then broken at the next read: the held byte comes first. */
  n = mon_detach_filter (&m, "\x10", 1, out, &det);
  assert_int_equal (n, 0);
  n = mon_detach_filter (&m, "x", 1, out, &det);
  assert_false (det);
  assert_int_equal (n, 2);
  assert_memory_equal (out, "\x10x", 2);
  /* ctrl-p ctrl-p ctrl-q: the first ctrl-p is input, the next two detach. */
  n = mon_detach_filter (&m, "\x10\x10\x11", 3, out, &det);
  assert_true (det);
  assert_int_equal (n, 1);
  assert_memory_equal (out, "\x10", 1);
  /* No keys: everything passes. */
  struct mon_detach none = { .keys = NULL, .n = 0 };
  n = mon_detach_filter (&none, "\x10\x11", 2, out, &det);
  assert_false (det);
  assert_int_equal (n, 2);
}

/* ---- berth-monitor, the binary ---- */

static char *monitor_binary (void)
{
  const char *env = getenv ("BERTH_MONITOR");
  if (env && *env)
    return xstrdup (env);
  /* build/tests/unit/test_monitor -> build/berth-monitor */
  char self[4096];
  ssize_t n = readlink ("/proc/self/exe", self, sizeof self - 1);
  assert_true (n > 0);
  self[n] = '\0';
  char *d = dirname (dirname (dirname (self)));
  return xasprintf ("%s/berth-monitor", d);
}

/* Fork a process that starts the container (a child of it) and execs berth-monitor with
 * extra_args + "--" + exit_cmd. */
static pid_t start_berth_monitor (const char *script, char **extra, char **exit_cmd, pid_t *cpid)
{
  int sync[2];
  assert_int_equal (pipe2 (sync, O_CLOEXEC), 0);
  char *bin = monitor_binary ();
  pid_t m = fork ();
  assert_true (m >= 0);
  if (m == 0)
    {
      int o[2], e[2];
      prctl (PR_SET_PDEATHSIG, SIGKILL);
      if (pipe (o) < 0 || pipe (e) < 0)
        _exit (120);
      pid_t c = fork ();
      if (c == 0)
        {
          signal (SIGPIPE, SIG_DFL);
          dup2 (o[1], 1);
          dup2 (e[1], 2);
          close_range (3, ~0U, 0);
          execl ("/bin/sh", "sh", "-c", script, (char *)NULL);
          _exit (127);
        }
      close (o[1]);
      close (e[1]);
      if (write (sync[1], &c, sizeof c) < 0)
        _exit (121);
      char **args = NULL;
      char num[3][16];
      snprintf (num[0], 16, "%d", (int)c);
      snprintf (num[1], 16, "%d", o[0]);
      snprintf (num[2], 16, "%d", e[0]);
      strv_push (&args, bin);
      strv_push (&args, "--pid");
      strv_push (&args, num[0]);
      strv_push (&args, "--stdout");
      strv_push (&args, num[1]);
      strv_push (&args, "--stderr");
      strv_push (&args, num[2]);
      for (size_t i = 0; extra && extra[i]; i++)
        strv_push (&args, extra[i]);
      if (exit_cmd)
        {
          strv_push (&args, "--");
          for (size_t i = 0; exit_cmd[i]; i++)
            strv_push (&args, exit_cmd[i]);
        }
      execv (bin, args);
      _exit (122);
    }
  close (sync[1]);
  assert_true (read (sync[0], cpid, sizeof *cpid) == sizeof *cpid);
  close (sync[0]);
  free (bin);
  return m;
}

static void test_berth_monitor_end_to_end (void **state)
{
  (void)state;
  char *dir = tmpdir_new ();
  char *log = xasprintf ("%s/c-json.log", dir);
  char *exitf = xasprintf ("%s/exit.json", dir);
  char *marker = xasprintf ("%s/marker", dir);
  char *sock = xasprintf ("%s/attach", dir);
  char *script
      = xasprintf ("echo \"$BERTH_EXIT_FILE\" > %s; ls /proc/self/fd > %s.fds", marker, marker);
  char *extra[] = { "--log",
                    log,
                    "--log-max-size",
                    "1000000",
                    "--log-max-file",
                    "2",
                    "--exit-file",
                    exitf,
                    "--attach-socket",
                    sock,
                    NULL };
  char *exit_cmd[] = { "/bin/sh", "-c", script, NULL };
  pid_t cpid;
  int st;

  pid_t m = start_berth_monitor ("echo hi; echo oops >&2; exit 3", extra, exit_cmd, &cpid);
  assert_int_equal (waitpid (m, &st, 0), m);
  /* berth-monitor became the exit command, which exited 0. */
  assert_true (WIFEXITED (st));
  assert_int_equal (WEXITSTATUS (st), 0);

  char *ej = slurp (exitf);
  json_t *j = json_loads (ej, 0, NULL);
  assert_non_null (j);
  assert_int_equal (json_integer_value (json_object_get (j, "ExitCode")), 3);
  assert_int_equal (json_integer_value (json_object_get (j, "Signal")), 0);
  int64_t fin;
  berr_t err = BERR_INIT;
  assert_int_equal (
      units_parse_rfc3339 (json_string_value (json_object_get (j, "FinishedAt")), &fin, &err), 0);
  assert_true (fin <= now_ns () && fin > now_ns () - 60LL * 1000000000);
  json_decref (j);
  free (ej);

  char *s = log_summary (log);
  assert_true (strstr (s, "stdout:hi\n|") && strstr (s, "stderr:oops\n|"));
  free (s);
  char *mk = slurp (marker);
  char *want = xasprintf ("%s\n", exitf);
  assert_string_equal (mk, want);
  free (want);
  free (mk);
  /* The exit command inherited nothing but stdin, stdout, stderr (and ls's own fd). */
  char *fdpath = xasprintf ("%s.fds", marker);
  char *fds = slurp (fdpath);
  assert_string_equal (fds, "0\n1\n2\n3\n");
  free (fds);
  free (fdpath);
  struct stat sst;
  assert_int_equal (stat (sock, &sst), -1);

  /* Killed by a signal, no exit command: berth-monitor exits with Docker's 128+n. Health
   * checks run meanwhile, every 50 ms. */
  char *hfile = xasprintf ("%s/health", dir);
  char *hcmd = xasprintf ("echo run >> %s", hfile);
  char *extra2[]
      = { "--exit-file", exitf,          "--health-cmd", "/bin/sh",           "--health-cmd",
          "-c",          "--health-cmd", hcmd,           "--health-interval", "50000000",
          NULL };
  m = start_berth_monitor ("sleep 0.4; kill -TERM $$", extra2, NULL, &cpid);
  assert_int_equal (waitpid (m, &st, 0), m);
  assert_true (WIFEXITED (st));
  assert_int_equal (WEXITSTATUS (st), 143);
  ej = slurp (exitf);
  j = json_loads (ej, 0, NULL);
  assert_int_equal (json_integer_value (json_object_get (j, "ExitCode")), 143);
  assert_int_equal (json_integer_value (json_object_get (j, "Signal")), SIGTERM);
  json_decref (j);
  free (ej);
  char *runs = slurp (hfile);
  assert_true (strlen (runs) >= 3 * strlen ("run\n"));
  free (runs);
  free (hcmd);
  free (hfile);

  free (script);
  free (log);
  free (exitf);
  free (marker);
  free (sock);
  tmpdir_free (dir);
}

/* The memory target: with many detached containers, each monitor stays under 2 MiB RSS and
 * 1 MiB PSS. Eight monitors share their binary's pages as a hundred would (a bit less). */
#if !defined(__SANITIZE_ADDRESS__) /* shadow memory says nothing about the real binary */
static long smaps_kb (pid_t pid, const char *field)
{
  char *path = xasprintf ("/proc/%d/smaps_rollup", (int)pid);
  char *t = slurp (path);
  free (path);
  char *key = xasprintf ("\n%s:", field);
  char *p = strstr (t, key);
  long v = p ? strtol (p + strlen (key), NULL, 10) : -1;
  free (key);
  free (t);
  return v;
}

static void test_berth_monitor_memory (void **state)
{
  (void)state;
  enum
  {
    N = 8
  };
  char *dir = tmpdir_new ();
  pid_t m[N], cpid[N];
  int client[N];
  char *paths[N][3];
  long max_rss = 0, max_pss = 0;
  int st;

  for (int i = 0; i < N; i++)
    {
      paths[i][0] = xasprintf ("%s/c%d-json.log", dir, i);
      paths[i][1] = xasprintf ("%s/exit%d", dir, i);
      paths[i][2] = xasprintf ("%s/attach%d", dir, i);
      char *extra[] = { "--log",           paths[i][0], "--exit-file", paths[i][1],
                        "--attach-socket", paths[i][2], NULL };
      /* Output through the log path, then idle with an attached client. */
      m[i] = start_berth_monitor ("head -c 300000 /dev/zero | tr '\\0' y; echo; exec sleep 30",
                                  extra, NULL, &cpid[i]);
    }
  for (int i = 0; i < N; i++)
    {
      struct stat sst;
      for (int k = 0; k < 500 && stat (paths[i][2], &sst) < 0; k++)
        usleep (10000);
      client[i] = raw_connect (paths[i][2]);
    }
  usleep (500000);
  for (int i = 0; i < N; i++)
    {
      long rss = smaps_kb (m[i], "Rss"), pss = smaps_kb (m[i], "Pss");
      assert_true (rss > 0 && pss > 0);
      max_rss = rss > max_rss ? rss : max_rss;
      max_pss = pss > max_pss ? pss : max_pss;
    }
  print_message ("# berth-monitor x%d: max Rss %ld kB, max Pss %ld kB\n", N, max_rss, max_pss);
  assert_true (max_rss <= 2048);
  assert_true (max_pss <= 1024);
  /* All at once: each monitor gives its stuck client (it never reads) a second for MON_EXIT. */
  for (int i = 0; i < N; i++)
    kill (cpid[i], SIGKILL);
  for (int i = 0; i < N; i++)
    {
      assert_int_equal (waitpid (m[i], &st, 0), m[i]);
      assert_int_equal (WEXITSTATUS (st), 137);
      close (client[i]);
      for (int k = 0; k < 3; k++)
        free (paths[i][k]);
    }
  tmpdir_free (dir);
}
#endif

int main (void)
{
  /* Nothing here may die of a closed pipe or socket. */
  signal (SIGPIPE, SIG_IGN);
  const struct CMUnitTest tests[]
      = { cmocka_unit_test (test_run_pipes),
          cmocka_unit_test (test_run_signal_no_pidfd),
          cmocka_unit_test (test_run_drain_after_exit),
          cmocka_unit_test (test_run_local_stdin),
          cmocka_unit_test (test_sig_proxy),
          cmocka_unit_test (test_local_detach),
          cmocka_unit_test (test_local_tty_raw_and_winch),
          cmocka_unit_test (test_health_schedule),
          cmocka_unit_test (test_attach_client),
          cmocka_unit_test (test_attach_exit_while_sending),
          cmocka_unit_test (test_attach_protocol_stdin_once),
          cmocka_unit_test (test_attach_two_writers),
          cmocka_unit_test (test_attach_slow_client),
          cmocka_unit_test (test_pty_resize_and_eof),
          cmocka_unit_test (test_attach_detach_keys),
          cmocka_unit_test (test_detach_keys_parse),
          cmocka_unit_test (test_detach_keys_grammar),
          cmocka_unit_test (test_detach_filter),
          cmocka_unit_test (test_berth_monitor_end_to_end),
#if !defined(__SANITIZE_ADDRESS__)
          cmocka_unit_test (test_berth_monitor_memory),
#endif
        };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
