/* attach.c — the client end of the attach socket, for `attach` and `start -a`: local stdin
 * becomes MON_STDIN frames, MON_STDOUT/MON_STDERR frames go to the local streams, the terminal
 * is raw while attached to a tty container and its size follows SIGWINCH, the detach keys
 * are recognised here (the monitor only sees what gets past them), and signals are proxied
 * with kill(2). */
#include "monitor/monitor.h"
#include "monitor/monitor_int.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <unistd.h>

struct att
{
  const struct attach_opts *o;
  int sock, sigfd;
  bool in_open, out_ok, err_ok;
  bool resize;
  struct mon_term term;
  struct mon_detach detach;
  sigset_t blocked, old_mask;
  bool mask_set;
  /* one frame on its way to the monitor (the socket was full) */
  char *pend;
  size_t pend_len;
  bool done, closed_early;
  char buf[1 + MON_FRAME_MAX];
};

static int try_send_pending (struct att *a, berr_t *err)
{
  if (a->pend_len == 0)
    return 0;
  for (;;)
    {
      ssize_t w = send (a->sock, a->pend, a->pend_len, MSG_DONTWAIT | MSG_NOSIGNAL);
      if (w >= 0)
        {
          a->pend_len = 0;
          return 0;
        }
      if (errno == EINTR)
        continue;
      if (errno == EAGAIN || errno == ENOBUFS)
        return 0;
      if (errno == EPIPE || errno == ECONNRESET)
        {
          /* The monitor is going away; its MON_EXIT may still be waiting to be read. */
          a->pend_len = 0;
          a->in_open = false;
          return 0;
        }
      return berr_set (err, errno, "attach: send");
    }
}

static void send_resize (struct att *a)
{
  struct winsize ws;
  char frame[32];
  int fd = a->o->local_out >= 0 && isatty (a->o->local_out) ? a->o->local_out : a->o->local_in;
  if (ioctl (fd, TIOCGWINSZ, &ws) < 0 || ws.ws_row == 0 || ws.ws_col == 0)
    return;
  int n = snprintf (frame, sizeof frame, "%c%u %u", MON_RESIZE, ws.ws_row, ws.ws_col);
  /* Best effort: if the socket is full, the next SIGWINCH sends the size again. */
  send (a->sock, frame, (size_t)n, MSG_DONTWAIT | MSG_NOSIGNAL);
}

static void read_stdin (struct att *a, struct monitor_result *res)
{
  char in[MON_FRAME_MAX];
  bool detach = false;
  ssize_t n = read (a->o->local_in, in, sizeof in);

  if (n < 0 && (errno == EINTR || errno == EAGAIN))
    return;
  if (n <= 0)
    {
      a->in_open = false;
      a->pend[0] = MON_STDIN_EOF;
      a->pend_len = 1;
      return;
    }
  size_t k = mon_detach_filter (&a->detach, in, (size_t)n, a->pend + 1, &detach);
  if (detach)
    {
      res->detached = true;
      a->done = true;
      return;
    }
  if (k > 0)
    {
      a->pend[0] = MON_STDIN;
      a->pend_len = k + 1;
    }
}

static int read_sock (struct att *a, struct monitor_result *res, berr_t *err)
{
  ssize_t n = recv (a->sock, a->buf, sizeof a->buf, 0);
  if (n < 0)
    {
      /* ECONNRESET: the monitor closed while stdin we sent was unread. The kernel reports
       * that first and clears it; the frames before the close (MON_EXIT) are still queued. */
      if (errno == EINTR || errno == EAGAIN || errno == ECONNRESET)
        return 0;
      return berr_set (err, errno, "attach: receive");
    }
  if (n == 0)
    {
      a->closed_early = true;
      a->done = true;
      return 0;
    }
  const char *data = a->buf + 1;
  size_t len = (size_t)n - 1;
  switch (a->buf[0])
    {
    case MON_STDOUT:
      if (a->out_ok && mon_write_all (a->o->local_out, data, len) < 0)
        a->out_ok = false;
      break;
    case MON_STDERR:
      if (a->err_ok && mon_write_all (a->o->local_err, data, len) < 0)
        a->err_ok = false;
      break;
    case MON_EXIT:
      {
        char text[16];
        size_t l = len < sizeof text - 1 ? len : sizeof text - 1;
        memcpy (text, data, l);
        text[l] = '\0';
        res->exit_code = atoi (text);
        a->done = true;
        break;
      }
    default:
      break;
    }
  return 0;
}

static void read_signals (struct att *a)
{
  struct signalfd_siginfo ssi;
  while (read (a->sigfd, &ssi, sizeof ssi) == (ssize_t)sizeof ssi)
    {
      if (ssi.ssi_signo == SIGWINCH)
        {
          if (a->resize)
            send_resize (a);
        }
      else if (a->o->container_pid > 0)
        kill (a->o->container_pid, (int)ssi.ssi_signo);
    }
}

static int setup (struct att *a, berr_t *err)
{
  const struct attach_opts *o = a->o;
  struct sockaddr_un sa;
  socklen_t salen;
  cleanup_close int dirfd = -1;

  a->sock = socket (AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
  if (a->sock < 0)
    return berr_set (err, errno, "attach: socket");
  if (mon_sockaddr (o->socket_path, &sa, &salen, &dirfd, err) < 0)
    return -1;
  if (connect (a->sock, (struct sockaddr *)&sa, salen) < 0)
    return berr_set (err, errno, "attach: connect to %s", o->socket_path);
  if (mon_set_nonblock (a->sock, true) < 0)
    return berr_set (err, errno, "attach: socket");

  if (o->tty && o->local_in >= 0
      && monitor_parse_detach_keys (o->detach_keys, &a->detach.keys, &a->detach.n, err) < 0)
    return -1;
  a->pend = xmalloc (1 + MON_FRAME_MAX + a->detach.n);
  /* Tell the monitor this client carries stdin (for stdin_once), before any data. */
  if (a->in_open)
    {
      a->pend[0] = MON_STDIN;
      a->pend_len = 1;
      if (try_send_pending (a, err) < 0)
        return -1;
    }

  sigemptyset (&a->blocked);
  if (a->resize)
    sigaddset (&a->blocked, SIGWINCH);
  if (o->sig_proxy && o->container_pid > 0)
    {
      sigset_t proxy;
      mon_proxy_sigset (&proxy);
      sigorset (&a->blocked, &a->blocked, &proxy);
    }
  int r = pthread_sigmask (SIG_BLOCK, &a->blocked, &a->old_mask);
  if (r != 0)
    return berr_set (err, r, "block signals");
  a->mask_set = true;
  a->sigfd = signalfd (-1, &a->blocked, SFD_NONBLOCK | SFD_CLOEXEC);
  if (a->sigfd < 0)
    return berr_set (err, errno, "signalfd");

  if (o->tty && o->local_tty && o->local_in >= 0)
    {
      cleanup_berr berr_t terr = BERR_INIT;
      /* Not a terminal after all: relay as is. */
      if (mon_term_raw (o->local_in, &a->term, &terr) < 0)
        berr_release (&terr);
    }
  if (a->resize)
    send_resize (a);
  return 0;
}

int monitor_attach (const struct attach_opts *o, struct monitor_result *res, berr_t *err)
{
  struct att *a = xzalloc (sizeof *a);
  int ret;

  memset (res, 0, sizeof *res);
  res->exit_code = -1;
  a->o = o;
  a->sock = a->sigfd = -1;
  a->in_open = o->local_in >= 0;
  a->out_ok = o->local_out >= 0;
  a->err_ok = o->local_err >= 0;
  a->resize = o->tty && o->local_tty;

  ret = setup (a, err);
  while (ret == 0 && !a->done)
    {
      struct pollfd p[3];
      nfds_t n = 0;
      p[n++] = (struct pollfd){ .fd = a->sock, .events = POLLIN | (a->pend_len ? POLLOUT : 0) };
      p[n++] = (struct pollfd){ .fd = a->sigfd, .events = POLLIN };
      /* Read stdin only when the last frame is out: the backlog stays in the kernel. */
      if (a->in_open && a->pend_len == 0)
        p[n++] = (struct pollfd){ .fd = o->local_in, .events = POLLIN };
      if (poll (p, n, -1) < 0)
        {
          if (errno == EINTR)
            continue;
          ret = berr_set (err, errno, "attach: poll");
          break;
        }
      if (p[1].revents & POLLIN)
        read_signals (a);
      if (n > 2 && p[2].revents)
        read_stdin (a, res);
      if (!a->done && a->pend_len > 0)
        ret = try_send_pending (a, err);
      if (ret == 0 && !a->done && p[0].revents & (POLLIN | POLLHUP | POLLERR))
        ret = read_sock (a, res, err);
    }
  if (ret == 0 && a->closed_early)
    ret = berr_set (err, 0, "attach: the container's monitor closed the connection");

  mon_term_restore (&a->term);
  if (a->sigfd >= 0)
    {
      struct signalfd_siginfo ssi;
      while (read (a->sigfd, &ssi, sizeof ssi) > 0)
        ;
      close (a->sigfd);
    }
  if (a->mask_set)
    pthread_sigmask (SIG_SETMASK, &a->old_mask, NULL);
  if (a->sock >= 0)
    close (a->sock);
  free (a->detach.keys);
  free (a->pend);
  free (a);
  return ret;
}
