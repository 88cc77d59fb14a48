/* health.c — when to run a container's health check (moby daemon/health.go's monitor loop):
 * the timer is re-armed only after a run ends, so runs never overlap, and the interval is the
 * start-interval while the container is inside its start period and has not passed a check
 * yet. The check command (`berth … healthcheck-run <id>`) records the result itself; its exit
 * status 0 is what ends the "starting" phase here. */
#include "monitor/monitor.h"
#include "monitor/monitor_int.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/pidfd.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "util/log.h"

/* Docker's defaults when the config leaves them 0. */
#define DEFAULT_TIMEOUT_NS (30LL * 1000000000)
#define DEFAULT_START_INTERVAL_NS (5LL * 1000000000)

extern char **environ;

static int64_t mono_ns (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void arm (int fd, int64_t ns)
{
  struct itimerspec its = { 0 };
  if (ns <= 0)
    ns = 1; /* 0 would disarm */
  its.it_value.tv_sec = ns / 1000000000;
  its.it_value.tv_nsec = ns % 1000000000;
  timerfd_settime (fd, 0, &its, NULL);
}

static void disarm (int fd)
{
  struct itimerspec its = { 0 };
  if (fd >= 0)
    timerfd_settime (fd, 0, &its, NULL);
}

static void consume (int fd)
{
  uint64_t n;
  while (read (fd, &n, sizeof n) > 0)
    ;
}

static int64_t next_delay (struct mon_health *h)
{
  if (!h->succeeded_once && mono_ns () - h->started_mono_ns < h->start_period_ns)
    return h->start_interval_ns;
  return h->interval_ns;
}

static int add_fd (struct mon_health *h, int fd, uint64_t tag, berr_t *err)
{
  struct epoll_event ev = { .events = EPOLLIN, .data.u64 = tag };
  if (epoll_ctl (h->epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
    return berr_set (err, errno, "health check: epoll");
  return 0;
}

int mon_health_start (struct mon_health *h, berr_t *err)
{
  h->timer_fd = h->kill_fd = h->pidfd = -1;
  h->pid = 0;
  if (h->argv == NULL || h->argv[0] == NULL || h->interval_ns <= 0)
    return 0;
  if (h->timeout_ns <= 0)
    h->timeout_ns = DEFAULT_TIMEOUT_NS;
  if (h->start_interval_ns <= 0)
    h->start_interval_ns = DEFAULT_START_INTERVAL_NS;
  h->started_mono_ns = mono_ns ();
  h->timer_fd = timerfd_create (CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
  h->kill_fd = timerfd_create (CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
  if (h->timer_fd < 0 || h->kill_fd < 0)
    return berr_set (err, errno, "health check: timerfd");
  if (add_fd (h, h->timer_fd, h->tag_timer, err) < 0
      || add_fd (h, h->kill_fd, h->tag_kill, err) < 0)
    return -1;
  arm (h->timer_fd, next_delay (h));
  return 0;
}

void mon_health_on_timer (struct mon_health *h)
{
  posix_spawn_file_actions_t fa;
  posix_spawnattr_t attr;
  sigset_t none, all;
  pid_t pid;
  int r;

  consume (h->timer_fd);
  if (h->pid > 0)
    return;
  /* The check must not inherit the monitor's blocked signals or ignored SIGPIPE/SIGHUP, nor
   * any descriptor; it runs in its own process group so a timeout kills all of it. */
  sigemptyset (&none);
  sigfillset (&all);
  posix_spawn_file_actions_init (&fa);
  posix_spawn_file_actions_addopen (&fa, 0, "/dev/null", O_RDWR, 0);
  posix_spawn_file_actions_adddup2 (&fa, 0, 1);
  posix_spawn_file_actions_adddup2 (&fa, 0, 2);
  posix_spawn_file_actions_addclosefrom_np (&fa, 3);
  posix_spawnattr_init (&attr);
  posix_spawnattr_setflags (&attr,
                            POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  posix_spawnattr_setpgroup (&attr, 0);
  posix_spawnattr_setsigmask (&attr, &none);
  posix_spawnattr_setsigdefault (&attr, &all);
  r = posix_spawnp (&pid, h->argv[0], &fa, &attr, h->argv, environ);
  posix_spawn_file_actions_destroy (&fa);
  posix_spawnattr_destroy (&attr);
  if (r != 0)
    {
      log_warn ("health check: run %s: %s", h->argv[0], strerror (r));
      arm (h->timer_fd, next_delay (h));
      return;
    }
  h->pid = pid;
  h->pidfd = pidfd_open (pid, 0);
  if (h->pidfd >= 0)
    {
      struct epoll_event ev = { .events = EPOLLIN, .data.u64 = h->tag_pidfd };
      if (epoll_ctl (h->epfd, EPOLL_CTL_ADD, h->pidfd, &ev) < 0)
        {
          /* SIGCHLD still reaches the monitor's signalfd. */
          close (h->pidfd);
          h->pidfd = -1;
        }
    }
  arm (h->kill_fd, h->timeout_ns);
}

static void run_done (struct mon_health *h, int status)
{
  if (WIFEXITED (status) && WEXITSTATUS (status) == 0)
    h->succeeded_once = true;
  h->pid = 0;
  if (h->pidfd >= 0)
    {
      epoll_ctl (h->epfd, EPOLL_CTL_DEL, h->pidfd, NULL);
      close (h->pidfd);
      h->pidfd = -1;
    }
  disarm (h->kill_fd);
  consume (h->kill_fd);
}

void mon_health_reap (struct mon_health *h)
{
  int status;
  if (h->pid <= 0)
    return;
  pid_t r = waitpid (h->pid, &status, WNOHANG);
  if (r == 0 || (r < 0 && errno == EINTR))
    return;
  run_done (h, r < 0 ? 0x7f00 : status);
  if (h->timer_fd >= 0)
    arm (h->timer_fd, next_delay (h));
}

void mon_health_on_timeout (struct mon_health *h)
{
  consume (h->kill_fd);
  if (h->pid > 0)
    {
      log_info ("health check: %s timed out; killing it", h->argv[0]);
      kill (-h->pid, SIGKILL);
      kill (h->pid, SIGKILL);
    }
}

void mon_health_stop (struct mon_health *h)
{
  if (h->pid > 0)
    {
      int status = 0;
      kill (-h->pid, SIGKILL);
      kill (h->pid, SIGKILL);
      while (waitpid (h->pid, &status, 0) < 0 && errno == EINTR)
        ;
      run_done (h, status);
    }
  if (h->timer_fd >= 0)
    close (h->timer_fd);
  if (h->kill_fd >= 0)
    close (h->kill_fd);
  h->timer_fd = h->kill_fd = -1;
}
