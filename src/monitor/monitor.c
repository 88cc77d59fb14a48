/* monitor.c — the supervisor's event loop: one epoll set over the container's output, its
 * stdin, the attach socket and its clients, the local terminal, a signalfd, the container's
 * pidfd and the health-check timers (one small loop in the spirit of redis's ae.c).
 *
 * Rules the loop keeps:
 *   - output is never held back by a reader: the log is written synchronously (a file), the
 *     local terminal with blocking writes (the foreground user is the container's consumer,
 *     as with Docker's attach), and an attach client gets a frame only if its socket has room:
 *     a slow client loses frames, it never slows the container or grows our memory;
 *   - stdin data waits in one buffer of at most one frame: while the container does not read,
 *     input sources are taken out of the set (they queue in the kernel, not here);
 *   - after the container is reaped, its pipes are read until EOF or EAGAIN so the last words
 *     reach the log, then clients get MON_EXIT. */
#include "monitor/monitor.h"
#include "monitor/monitor_int.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/pidfd.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util/log.h"

#define MAX_CLIENTS 64
/* How long a client that is not reading may delay the monitor's exit to get MON_EXIT. */
#define EXIT_SEND_MS 1000

enum
{
  T_OUT = 1,
  T_ERR,
  T_PTY,
  T_IN,
  T_LOCAL_IN,
  T_SIG,
  T_PIDFD,
  T_LISTEN,
  T_CLIENT,
  T_HEALTH_TIMER,
  T_HEALTH_KILL,
  T_HEALTH_PID,
  T_PROXY_LISTEN,
  T_PROXY_CONN,
};
#define TAG(t, i) (((uint64_t)(t) << 32) | (uint32_t)(i))

struct client
{
  int fd; /* -1: free slot */
  bool has_stdin;
  bool in_set;     /* in the epoll set (not while input is paused) */
  bool out_closed; /* sending failed: the client is gone, its last frames may still be queued */
  uint64_t dropped;
};

struct mon
{
  const struct monitor_opts *o;
  int epfd, sigfd;
  int out_fd, err_fd, pty_fd; /* -1 once at EOF (the fds stay the caller's) */
  int in_fd;                  /* ours: closed when stdin ends */
  bool pty;
  bool local_in_open, local_in_in_set;
  bool local_out_ok, local_err_ok;
  bool raw_mode, resize_local;
  struct mon_term term;
  struct mon_detach detach;

  struct client clients[MAX_CLIENTS];

  /* stdin data the container has not taken yet */
  char *pend;
  size_t pend_off, pend_len;
  bool input_paused;
  bool stdin_close_requested;

  sigset_t blocked, old_mask;
  bool mask_set;
  bool sig_proxy;
  int interrupted;

  bool reaped, detached;
  siginfo_t si;
  bool log_warned;

  struct mon_health health;
  struct mon_proxy *proxy;
  char buf[1 + MON_FRAME_MAX];
};

static int ep_add (struct mon *m, int fd, uint32_t events, uint64_t tag)
{
  struct epoll_event ev = { .events = events, .data.u64 = tag };
  return epoll_ctl (m->epfd, EPOLL_CTL_ADD, fd, &ev);
}

static int ep_mod (struct mon *m, int fd, uint32_t events, uint64_t tag)
{
  struct epoll_event ev = { .events = events, .data.u64 = tag };
  return epoll_ctl (m->epfd, EPOLL_CTL_MOD, fd, &ev);
}

static void ep_del (struct mon *m, int fd) { epoll_ctl (m->epfd, EPOLL_CTL_DEL, fd, NULL); }

/* Where stdin goes: the pty master, or the stdin pipe. */
static int stdin_target (struct mon *m) { return m->pty ? m->pty_fd : m->in_fd; }

/* ---- output ---- */

static void deliver (struct mon *m, int type, size_t n)
{
  const char *data = m->buf + 1;
  cleanup_berr berr_t err = BERR_INIT;

  if (m->o->log)
    {
      if (logfile_write (m->o->log, type == MON_STDERR ? "stderr" : "stdout", data, n, &err) < 0)
        {
          /* Once per failure streak: a full disk should not flood the monitor's own log. */
          if (!m->log_warned)
            log_warn ("container log: %s", err.msg);
          m->log_warned = true;
        }
      else
        m->log_warned = false;
    }

  m->buf[0] = (char)type;
  for (size_t i = 0; i < MAX_CLIENTS; i++)
    {
      struct client *c = &m->clients[i];
      if (c->fd < 0 || c->out_closed)
        continue;
      if (send (c->fd, m->buf, n + 1, MSG_DONTWAIT | MSG_NOSIGNAL) >= 0)
        continue;
      if (errno == EAGAIN || errno == ENOBUFS)
        {
          if (c->dropped++ == 0)
            log_debug ("attach client too slow: dropping output");
        }
      else
        /* Not closed here: stdin it sent before leaving is still to be read (then EOF). */
        c->out_closed = true;
    }

  if (type == MON_STDERR && !m->pty)
    {
      if (m->local_err_ok && mon_write_all (m->o->local_err, data, n) < 0)
        m->local_err_ok = false;
    }
  else if (m->local_out_ok && mon_write_all (m->o->local_out, data, n) < 0)
    m->local_out_ok = false;
}

/* Read up to max_reads chunks from one output fd. Returns 1 when there may be more, 0 at
 * EAGAIN, -1 at EOF (the fd is then out of the set). */
static int read_output (struct mon *m, int tag, int max_reads)
{
  int *fdp = tag == T_ERR ? &m->err_fd : tag == T_OUT ? &m->out_fd : &m->pty_fd;
  int type = tag == T_ERR ? MON_STDERR : MON_STDOUT;

  for (int i = 0; i < max_reads; i++)
    {
      if (*fdp < 0)
        return -1;
      ssize_t n = read (*fdp, m->buf + 1, MON_FRAME_MAX);
      if (n > 0)
        {
          deliver (m, type, (size_t)n);
          continue;
        }
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0 && errno == EAGAIN)
        return 0;
      /* EOF, or EIO from a pty master whose slave is closed everywhere. */
      if (n < 0 && !(tag == T_PTY && errno == EIO))
        log_warn ("read container output: %s", strerror (errno));
      ep_del (m, *fdp);
      *fdp = -1;
      return -1;
    }
  return 1;
}

/* ---- input ---- */

static void set_input_paused (struct mon *m, bool paused);

static void close_stdin (struct mon *m)
{
  m->pend_len = m->pend_off = 0;
  m->stdin_close_requested = false;
  if (m->in_fd >= 0)
    {
      ep_del (m, m->in_fd);
      close (m->in_fd);
      m->in_fd = -1;
    }
  set_input_paused (m, false);
}

static void request_stdin_close (struct mon *m)
{
  /* A pty has no end of input: like Docker with a tty, the container's side stays open. */
  if (m->pty || m->in_fd < 0)
    return;
  m->stdin_close_requested = true;
  if (m->pend_len == 0)
    close_stdin (m);
}

static void set_input_paused (struct mon *m, bool paused)
{
  int target = stdin_target (m);
  if (m->input_paused == paused)
    return;
  m->input_paused = paused;
  /* Take readers out of the set rather than ignoring them: level-triggered readiness would
   * spin, and a reader's data is better off queued in its socket or pipe than here. */
  if (m->local_in_open)
    {
      if (paused && m->local_in_in_set)
        ep_del (m, m->o->local_in);
      else if (!paused && !m->local_in_in_set)
        ep_add (m, m->o->local_in, EPOLLIN, TAG (T_LOCAL_IN, 0));
      m->local_in_in_set = !paused;
    }
  for (size_t i = 0; i < MAX_CLIENTS; i++)
    {
      struct client *c = &m->clients[i];
      if (c->fd < 0)
        continue;
      if (paused && c->in_set)
        ep_del (m, c->fd);
      else if (!paused && !c->in_set)
        ep_add (m, c->fd, EPOLLIN, TAG (T_CLIENT, i));
      c->in_set = !paused;
    }
  if (target < 0)
    return;
  if (m->pty)
    ep_mod (m, target, EPOLLIN | (paused ? EPOLLOUT : 0), TAG (T_PTY, 0));
  else if (paused)
    ep_add (m, target, EPOLLOUT, TAG (T_IN, 0));
  else
    ep_del (m, target);
}

/* Push pending stdin to the container; pause input while it does not take it all. */
static void write_pending (struct mon *m)
{
  int target = stdin_target (m);
  while (m->pend_len > 0)
    {
      if (target < 0)
        {
          m->pend_len = 0;
          break;
        }
      ssize_t w = write (target, m->pend + m->pend_off, m->pend_len);
      if (w < 0)
        {
          if (errno == EINTR)
            continue;
          if (errno == EAGAIN)
            {
              set_input_paused (m, true);
              return;
            }
          /* The container closed its stdin (EPIPE) or is gone: input has nowhere to go. */
          m->pend_len = 0;
          if (!m->pty)
            close_stdin (m);
          break;
        }
      m->pend_off += (size_t)w;
      m->pend_len -= (size_t)w;
    }
  m->pend_off = 0;
  set_input_paused (m, false);
  if (m->stdin_close_requested)
    close_stdin (m);
}

static void queue_input (struct mon *m, const char *data, size_t n)
{
  if (n == 0 || stdin_target (m) < 0)
    return;
  memcpy (m->pend, data, n);
  m->pend_off = 0;
  m->pend_len = n;
  write_pending (m);
}

static void read_local_in (struct mon *m)
{
  char in[MON_FRAME_MAX];
  bool detach = false;
  ssize_t n = read (m->o->local_in, in, sizeof in);

  if (n < 0 && (errno == EINTR || errno == EAGAIN))
    return;
  if (n <= 0)
    {
      /* End of local input: `run -i` without a tty closes the container's stdin, as Docker's
       * StdinOnce does; with a tty the container's side stays open. */
      ep_del (m, m->o->local_in);
      m->local_in_open = m->local_in_in_set = false;
      request_stdin_close (m);
      return;
    }
  size_t k = mon_detach_filter (&m->detach, in, (size_t)n, m->pend, &detach);
  if (detach)
    {
      m->detached = true;
      return;
    }
  if (k > 0 && stdin_target (m) >= 0)
    {
      m->pend_off = 0;
      m->pend_len = k;
      write_pending (m);
    }
}

/* ---- attach clients ---- */

static void drop_client (struct mon *m, struct client *c)
{
  bool had_stdin = c->has_stdin;
  if (c->in_set)
    ep_del (m, c->fd);
  close (c->fd);
  c->fd = -1;
  c->in_set = c->has_stdin = c->out_closed = false;
  if (c->dropped > 0)
    log_debug ("attach client gone; %llu output frames were dropped for it",
               (unsigned long long)c->dropped);
  if (had_stdin && m->o->stdin_once)
    request_stdin_close (m);
}

static void accept_clients (struct mon *m)
{
  for (;;)
    {
      int fd = accept4 (m->o->attach_listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0)
        {
          if (errno == EINTR)
            continue;
          return; /* EAGAIN, or a client that left the queue already */
        }
      size_t i = 0;
      while (i < MAX_CLIENTS && m->clients[i].fd >= 0)
        i++;
      if (i == MAX_CLIENTS)
        {
          log_warn ("attach: too many clients");
          close (fd);
          continue;
        }
      struct client *c = &m->clients[i];
      c->fd = fd;
      c->dropped = 0;
      c->has_stdin = c->out_closed = false;
      c->in_set = !m->input_paused && ep_add (m, fd, EPOLLIN, TAG (T_CLIENT, i)) == 0;
    }
}

static void resize_pty (struct mon *m, unsigned rows, unsigned cols)
{
  struct winsize ws = { .ws_row = (unsigned short)rows, .ws_col = (unsigned short)cols };
  if (m->pty_fd >= 0 && rows > 0 && cols > 0 && ioctl (m->pty_fd, TIOCSWINSZ, &ws) < 0)
    log_debug ("resize the container's terminal: %s", strerror (errno));
}

static void read_client (struct mon *m, struct client *c)
{
  ssize_t n = recv (c->fd, m->buf, sizeof m->buf, MSG_DONTWAIT);
  /* ECONNRESET: the client closed with output it never read. The kernel reports that before
   * the frames the client sent last, and clears it: they, then EOF, come on the next read. */
  if (n < 0 && (errno == EINTR || errno == EAGAIN || errno == ECONNRESET))
    return;
  if (n <= 0)
    {
      drop_client (m, c);
      return;
    }
  switch (m->buf[0])
    {
    case MON_STDIN:
      c->has_stdin = true;
      queue_input (m, m->buf + 1, (size_t)n - 1);
      break;
    case MON_STDIN_EOF:
      c->has_stdin = true;
      request_stdin_close (m);
      break;
    case MON_RESIZE:
      {
        char text[32];
        unsigned rows, cols;
        size_t len = (size_t)n - 1 < sizeof text - 1 ? (size_t)n - 1 : sizeof text - 1;
        memcpy (text, m->buf + 1, len);
        text[len] = '\0';
        if (sscanf (text, "%u %u", &rows, &cols) == 2)
          resize_pty (m, rows, cols);
        break;
      }
    default:
      log_debug ("attach: ignoring a frame of type %d", m->buf[0]);
    }
}

/* ---- the container and signals ---- */

static int try_reap (struct mon *m, berr_t *err)
{
  siginfo_t si;
  int r;

  if (m->reaped)
    return 0;
  memset (&si, 0, sizeof si);
  if (m->o->pidfd >= 0)
    r = waitid (P_PIDFD, (id_t)m->o->pidfd, &si, WEXITED | WNOHANG);
  else
    r = waitid (P_PID, (id_t)m->o->pid, &si, WEXITED | WNOHANG);
  if (r < 0)
    {
      if (errno == EINTR)
        return 0;
      return berr_set (err, errno, "wait for the container (pid %d)", (int)m->o->pid);
    }
  if (si.si_pid == 0)
    return 0;
  m->si = si;
  m->reaped = true;
  return 0;
}

static void resize_from_local (struct mon *m)
{
  struct winsize ws;
  int fd = m->o->local_out >= 0 && isatty (m->o->local_out) ? m->o->local_out : m->o->local_in;
  if (ioctl (fd, TIOCGWINSZ, &ws) == 0)
    resize_pty (m, ws.ws_row, ws.ws_col);
}

static void forward_signal (struct mon *m, int sig)
{
  if (m->reaped)
    return;
  int r = m->o->pidfd >= 0 ? pidfd_send_signal (m->o->pidfd, sig, NULL, 0) : kill (m->o->pid, sig);
  if (r < 0 && errno != ESRCH)
    log_debug ("forward signal %d: %s", sig, strerror (errno));
}

static int read_signals (struct mon *m, berr_t *err)
{
  struct signalfd_siginfo ssi;
  while (read (m->sigfd, &ssi, sizeof ssi) == (ssize_t)sizeof ssi)
    {
      int sig = (int)ssi.ssi_signo;
      if (sig == SIGCHLD)
        {
          if (try_reap (m, err) < 0)
            return -1;
          mon_health_reap (&m->health);
        }
      else if (sig == SIGWINCH)
        {
          if (m->resize_local)
            resize_from_local (m);
        }
      else if (m->sig_proxy && m->o->kill_on_signal
               && (sig == SIGINT || sig == SIGTERM || sig == SIGHUP || sig == SIGQUIT))
        {
          m->interrupted = sig;
          forward_signal (m, SIGKILL);
        }
      else if (m->sig_proxy)
        forward_signal (m, sig);
    }
  return 0;
}

/* ---- set-up and tear-down ---- */

static int setup (struct mon *m, berr_t *err)
{
  const struct monitor_opts *o = m->o;
  sigset_t proxy;

  m->epfd = epoll_create1 (EPOLL_CLOEXEC);
  if (m->epfd < 0)
    return berr_set (err, errno, "epoll");
  if (mon_proxy_start (m->epfd, T_PROXY_LISTEN, T_PROXY_CONN, o->proxies, o->nproxies, &m->proxy,
                       err)
      < 0)
    return -1;

  /* Signals: SIGCHLD always (reaping without a pidfd, health checks); SIGWINCH to follow the
   * local terminal's size; the sig-proxy set when asked. */
  sigemptyset (&m->blocked);
  sigaddset (&m->blocked, SIGCHLD);
  if (m->resize_local)
    sigaddset (&m->blocked, SIGWINCH);
  if (o->sig_proxy)
    {
      mon_proxy_sigset (&proxy);
      sigorset (&m->blocked, &m->blocked, &proxy);
    }
  int r = pthread_sigmask (SIG_BLOCK, &m->blocked, &m->old_mask);
  if (r != 0)
    return berr_set (err, r, "block signals");
  m->mask_set = true;
  m->sigfd = signalfd (-1, &m->blocked, SFD_NONBLOCK | SFD_CLOEXEC);
  if (m->sigfd < 0 || ep_add (m, m->sigfd, EPOLLIN, TAG (T_SIG, 0)) < 0)
    return berr_set (err, errno, "signalfd");

  if (o->pidfd >= 0 && ep_add (m, o->pidfd, EPOLLIN, TAG (T_PIDFD, 0)) < 0)
    return berr_set (err, errno, "epoll pidfd");

  if (m->pty)
    {
      if (mon_set_nonblock (m->pty_fd, true) < 0
          || ep_add (m, m->pty_fd, EPOLLIN, TAG (T_PTY, 0)) < 0)
        return berr_set (err, errno, "watch the container's terminal");
    }
  else
    {
      if (m->out_fd >= 0
          && (mon_set_nonblock (m->out_fd, true) < 0
              || ep_add (m, m->out_fd, EPOLLIN, TAG (T_OUT, 0)) < 0))
        return berr_set (err, errno, "watch the container's stdout");
      if (m->err_fd >= 0
          && (mon_set_nonblock (m->err_fd, true) < 0
              || ep_add (m, m->err_fd, EPOLLIN, TAG (T_ERR, 0)) < 0))
        return berr_set (err, errno, "watch the container's stderr");
      if (m->in_fd >= 0 && mon_set_nonblock (m->in_fd, true) < 0)
        return berr_set (err, errno, "container stdin");
    }

  if (o->attach_listen_fd >= 0
      && (mon_set_nonblock (o->attach_listen_fd, true) < 0
          || ep_add (m, o->attach_listen_fd, EPOLLIN, TAG (T_LISTEN, 0)) < 0))
    return berr_set (err, errno, "watch the attach socket");

  /* The local terminal is never made non-blocking: it is shared with the user's shell. */
  if (m->local_in_open)
    {
      if (ep_add (m, o->local_in, EPOLLIN, TAG (T_LOCAL_IN, 0)) < 0)
        return berr_set (err, errno, "watch stdin");
      m->local_in_in_set = true;
    }
  if (m->raw_mode)
    {
      cleanup_berr berr_t terr = BERR_INIT;
      /* Not a terminal after all (the caller guessed): relay without raw mode. */
      if (mon_term_raw (o->local_in, &m->term, &terr) < 0)
        log_debug ("%s", terr.msg);
    }
  if (m->resize_local)
    resize_from_local (m);

  m->health.epfd = m->epfd;
  m->health.tag_timer = TAG (T_HEALTH_TIMER, 0);
  m->health.tag_kill = TAG (T_HEALTH_KILL, 0);
  m->health.tag_pidfd = TAG (T_HEALTH_PID, 0);
  if (mon_health_start (&m->health, err) < 0)
    return -1;
  /* The container may have exited before we watched anything. */
  return try_reap (m, err);
}

static void drain_outputs (struct mon *m)
{
  /* Bounded, in case something outside the container still writes into a pipe (inside one,
   * the death of pid 1 ends every writer). */
  static const int tags[] = { T_PTY, T_OUT, T_ERR };
  for (size_t i = 0; i < ARRAY_SIZE (tags); i++)
    for (int rounds = 0; rounds < 256 && read_output (m, tags[i], 16) == 1; rounds++)
      ;
}

static void send_exit (struct mon *m, int code)
{
  char frame[16];
  int len = snprintf (frame, sizeof frame, "%c%d", MON_EXIT, code);
  struct pollfd pfds[MAX_CLIENTS];
  int64_t deadline = now_ns () + (int64_t)EXIT_SEND_MS * 1000000;

  /* Whoever is still in the listen queue connected before the end: let them know too. */
  if (m->o->attach_listen_fd >= 0)
    accept_clients (m);
  for (;;)
    {
      nfds_t n = 0;
      for (size_t i = 0; i < MAX_CLIENTS; i++)
        {
          struct client *c = &m->clients[i];
          if (c->fd < 0)
            continue;
          if (send (c->fd, frame, (size_t)len, MSG_DONTWAIT | MSG_NOSIGNAL) >= 0
              || (errno != EAGAIN && errno != ENOBUFS))
            {
              drop_client (m, c);
              continue;
            }
          pfds[n++] = (struct pollfd){ .fd = c->fd, .events = POLLOUT };
        }
      int64_t left = (deadline - now_ns ()) / 1000000;
      if (n == 0 || left <= 0)
        break;
      poll (pfds, n, (int)left);
    }
  for (size_t i = 0; i < MAX_CLIENTS; i++)
    if (m->clients[i].fd >= 0)
      drop_client (m, &m->clients[i]);
}

static void teardown (struct mon *m)
{
  mon_health_stop (&m->health);
  mon_proxy_free (m->proxy);
  m->proxy = NULL;
  for (size_t i = 0; i < MAX_CLIENTS; i++)
    if (m->clients[i].fd >= 0)
      {
        /* Not through drop_client: stdin is closed below anyway. */
        close (m->clients[i].fd);
        m->clients[i].fd = -1;
      }
  if (m->in_fd >= 0)
    close (m->in_fd);
  mon_term_restore (&m->term);
  if (m->sigfd >= 0)
    {
      struct signalfd_siginfo ssi;
      /* What arrived and was not handled is dropped, not re-raised at unblock. */
      while (read (m->sigfd, &ssi, sizeof ssi) > 0)
        ;
      close (m->sigfd);
    }
  if (m->mask_set)
    pthread_sigmask (SIG_SETMASK, &m->old_mask, NULL);
  if (m->epfd >= 0)
    close (m->epfd);
  free (m->detach.keys);
  free (m->pend);
}

static int dispatch (struct mon *m, const struct epoll_event *ev, berr_t *err)
{
  int tag = (int)(ev->data.u64 >> 32);
  size_t idx = (uint32_t)ev->data.u64;

  switch (tag)
    {
    case T_OUT:
    case T_ERR:
      read_output (m, tag, 8);
      break;
    case T_PTY:
      if (ev->events & EPOLLOUT)
        write_pending (m);
      if (ev->events & (EPOLLIN | EPOLLHUP | EPOLLERR))
        read_output (m, tag, 8);
      break;
    case T_IN:
      write_pending (m);
      break;
    case T_LOCAL_IN:
      /* An event from the same batch as the one that paused input: the source is out of the
       * set now and comes back, still readable, once the container takes the pending data. */
      if (!m->input_paused)
        read_local_in (m);
      break;
    case T_SIG:
      return read_signals (m, err);
    case T_PIDFD:
      return try_reap (m, err);
    case T_LISTEN:
      accept_clients (m);
      break;
    case T_CLIENT:
      if (idx < MAX_CLIENTS && m->clients[idx].fd >= 0 && !m->input_paused)
        read_client (m, &m->clients[idx]);
      break;
    case T_HEALTH_TIMER:
      mon_health_on_timer (&m->health);
      break;
    case T_HEALTH_KILL:
      mon_health_on_timeout (&m->health);
      break;
    case T_HEALTH_PID:
      mon_health_reap (&m->health);
      break;
    case T_PROXY_LISTEN:
    case T_PROXY_CONN:
      mon_proxy_event (m->proxy, (uint32_t)tag, idx, ev->events);
      break;
    }
  return 0;
}

int monitor_run (const struct monitor_opts *o, struct monitor_result *res, berr_t *err)
{
  struct mon *m = xzalloc (sizeof *m);
  int ret = 0;

  memset (res, 0, sizeof *res);
  m->o = o;
  m->epfd = m->sigfd = -1;
  m->pty = o->pty_fd >= 0;
  m->pty_fd = o->pty_fd;
  m->out_fd = m->pty ? -1 : o->out_fd;
  m->err_fd = m->pty ? -1 : o->err_fd;
  m->in_fd = m->pty ? -1 : o->in_fd;
  if (m->pty && o->in_fd >= 0)
    close (o->in_fd); /* ours to close; unused with a pty */
  m->local_in_open = o->local_in >= 0;
  m->local_out_ok = o->local_out >= 0;
  m->local_err_ok = o->local_err >= 0;
  m->raw_mode = m->pty && o->local_tty && o->local_in >= 0;
  m->resize_local = m->pty && o->local_tty;
  m->sig_proxy = o->sig_proxy;
  m->health = (struct mon_health){ .argv = o->health_argv,
                                   .interval_ns = o->health_interval_ns,
                                   .timeout_ns = o->health_timeout_ns,
                                   .start_period_ns = o->health_start_period_ns,
                                   .start_interval_ns = o->health_start_interval_ns,
                                   .timer_fd = -1,
                                   .kill_fd = -1,
                                   .pidfd = -1 };
  for (size_t i = 0; i < MAX_CLIENTS; i++)
    m->clients[i].fd = -1;
  /* Detach keys act on a local terminal's input, as Docker's (only with a tty). */
  if (m->pty && o->local_in >= 0
      && monitor_parse_detach_keys (o->detach_keys, &m->detach.keys, &m->detach.n, err) < 0)
    {
      teardown (m);
      free (m);
      return -1;
    }
  m->pend = xmalloc (MON_FRAME_MAX + m->detach.n);

  ret = setup (m, err);
  while (ret == 0 && !m->reaped && !m->detached)
    {
      struct epoll_event evs[16];
      int n = epoll_wait (m->epfd, evs, ARRAY_SIZE (evs), -1);
      if (n < 0)
        {
          if (errno == EINTR)
            continue;
          ret = berr_set (err, errno, "epoll_wait");
          break;
        }
      for (int i = 0; i < n && ret == 0 && !m->detached; i++)
        ret = dispatch (m, &evs[i], err);
    }

  if (ret == 0 && m->detached)
    res->detached = true;
  else if (ret == 0)
    {
      cleanup_berr berr_t lerr = BERR_INIT;
      res->finished_ns = now_ns ();
      res->interrupted = m->interrupted;
      if (m->si.si_code == CLD_EXITED)
        res->exit_code = m->si.si_status;
      else
        {
          res->signal = m->si.si_status;
          res->exit_code = 128 + m->si.si_status;
        }
      drain_outputs (m);
      if (o->log && logfile_flush (o->log, &lerr) < 0)
        log_warn ("container log: %s", lerr.msg);
      mon_health_stop (&m->health);
      send_exit (m, res->exit_code);
    }
  teardown (m);
  free (m);
  return ret;
}

int monitor_listen (const char *path, berr_t *err)
{
  struct sockaddr_un sa;
  socklen_t len;
  cleanup_close int dirfd = -1;
  cleanup_close int fd = socket (AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  /* Bound and listening under a temporary name, then renamed: a client that sees the path
   * can connect (no ECONNREFUSED window between bind and listen). */
  cleanup_free char *tmp = xasprintf ("%s.tmp-%d", path, (int)getpid ());

  if (fd < 0)
    return berr_set (err, errno, "attach socket");
  if (mon_sockaddr (tmp, &sa, &len, &dirfd, err) < 0)
    return -1;
  unlink (tmp);
  if (bind (fd, (struct sockaddr *)&sa, len) < 0)
    return berr_set (err, errno, "bind %s", path);
  if (chmod (tmp, 0600) < 0 || listen (fd, 16) < 0 || rename (tmp, path) < 0)
    {
      int e = errno;
      unlink (tmp);
      return berr_set (err, e, "attach socket %s", path);
    }
  return steal_fd (&fd);
}
