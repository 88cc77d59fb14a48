/* proxy.c — TCP relays for published ports on IPv6 host addresses ([::]:8080, [::1]:8080).
 *
 * Container networks are IPv4, and the kernel cannot NAT IPv6 onto IPv4, so those bindings are
 * served in user space by the process that already watches the container (the monitor, or the
 * foreground `run`): the reserving socket listens, each accepted connection gets a non-blocking
 * connection to the container's address, and bytes flow both ways through two small buffers
 * with half-closes passed on.  IPv4 bindings never come here (the kernel DNATs them). */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "monitor/monitor.h"
#include "monitor/monitor_int.h"
#include "util/log.h"

#define PROXY_BUF (64 * 1024)
#define PROXY_MAX_CONNS 256

struct pipe_buf
{
  char *data;
  size_t off, len;
  bool eof;       /* the reading side sent FIN */
  bool shut_done; /* FIN passed on to the writing side */
};

struct conn
{
  int fd[2]; /* 0: the client, 1: the container; -1 when free */
  bool connecting;
  bool quiet[2];        /* side s is finished (EOF read, FIN sent to it): out of the epoll set */
  struct pipe_buf b[2]; /* b[0]: client -> container, b[1]: container -> client */
};

struct mon_proxy
{
  int epfd;
  uint32_t tag_listen, tag_conn;
  const struct monitor_proxy_spec *specs;
  size_t nspecs;
  struct conn conns[PROXY_MAX_CONNS];
};

#define PTAG(t, i) (((uint64_t)(t) << 32) | (uint32_t)(i))

static void conn_close (struct mon_proxy *p, struct conn *c)
{
  for (int s = 0; s < 2; s++)
    {
      if (c->fd[s] >= 0)
        {
          epoll_ctl (p->epfd, EPOLL_CTL_DEL, c->fd[s], NULL);
          close (c->fd[s]);
          c->fd[s] = -1;
        }
      free (c->b[s].data);
      c->b[s] = (struct pipe_buf){ 0 };
      c->quiet[s] = false;
    }
}

/* The events side s waits for, from the two buffers' state. */
static uint32_t wanted (const struct conn *c, int s)
{
  if (c->connecting)
    return s == 1 ? EPOLLOUT : 0;
  uint32_t ev = 0;
  const struct pipe_buf *in = &c->b[s], *out = &c->b[1 - s];
  if (!in->eof && in->len < PROXY_BUF)
    ev |= EPOLLIN;
  if (out->len > 0)
    ev |= EPOLLOUT;
  return ev;
}

static void update (struct mon_proxy *p, struct conn *c, size_t idx)
{
  for (int s = 0; s < 2; s++)
    {
      if (c->quiet[s])
        continue;
      if (c->b[s].eof && c->b[1 - s].shut_done)
        {
          /* Nothing more to read from it or write to it; a hang-up it reports now would only
           * repeat (level-triggered, and EPOLLHUP cannot be masked). */
          epoll_ctl (p->epfd, EPOLL_CTL_DEL, c->fd[s], NULL);
          c->quiet[s] = true;
          continue;
        }
      struct epoll_event ev
          = { .events = wanted (c, s), .data.u64 = PTAG (p->tag_conn, idx * 2 + s) };
      epoll_ctl (p->epfd, EPOLL_CTL_MOD, c->fd[s], &ev);
    }
}

/* One pass in both directions; *moved tells whether anything changed. */
static bool pump_once (struct conn *c, bool *moved)
{
  for (int s = 0; s < 2; s++)
    {
      struct pipe_buf *b = &c->b[s];
      /* read from side s into b (compact first) */
      if (!b->eof && b->len < PROXY_BUF)
        {
          if (b->off > 0 && b->len > 0)
            memmove (b->data, b->data + b->off, b->len);
          b->off = 0;
          ssize_t n = read (c->fd[s], b->data + b->len, PROXY_BUF - b->len);
          if (n > 0)
            b->len += (size_t)n, *moved = true;
          else if (n == 0)
            b->eof = true, *moved = true;
          else if (errno != EAGAIN && errno != EINTR)
            return false;
        }
      /* write b to the other side */
      while (b->len > 0)
        {
          ssize_t n = send (c->fd[1 - s], b->data + b->off, b->len, MSG_NOSIGNAL);
          if (n < 0)
            {
              if (errno == EAGAIN || errno == EINTR)
                break;
              return false;
            }
          b->off += (size_t)n;
          b->len -= (size_t)n;
          *moved = true;
        }
      if (b->len == 0)
        b->off = 0;
      if (b->eof && b->len == 0 && !b->shut_done)
        {
          shutdown (c->fd[1 - s], SHUT_WR);
          b->shut_done = true;
          *moved = true;
        }
    }
  return true;
}

/* Move what can move, until nothing does (a side taken out of the epoll set is read only
 * here); false when the connection is finished or broken. */
static bool pump (struct conn *c)
{
  bool moved = true;
  /* Bounded (4 MiB a turn) so one busy connection does not starve the monitor's other work;
   * level-triggered epoll brings it back. Not while a side is out of the set: nothing would. */
  for (int pass = 0; moved && (pass < 64 || c->quiet[0] || c->quiet[1]); pass++)
    {
      moved = false;
      if (!pump_once (c, &moved))
        return false;
      if (c->b[0].shut_done && c->b[1].shut_done)
        return false;
    }
  return true;
}

static void on_accept (struct mon_proxy *p, size_t li)
{
  const struct monitor_proxy_spec *sp = &p->specs[li];
  for (int k = 0; k < 64; k++)
    {
      int fd = accept4 (sp->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
      if (fd < 0)
        return;
      size_t idx = 0;
      while (idx < PROXY_MAX_CONNS && p->conns[idx].fd[0] >= 0)
        idx++;
      int up = idx < PROXY_MAX_CONNS
                   ? socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0)
                   : -1;
      if (up < 0)
        {
          close (fd);
          continue;
        }
      struct conn *c = &p->conns[idx];
      c->fd[0] = fd;
      c->fd[1] = up;
      c->connecting = true;
      for (int s = 0; s < 2; s++)
        c->b[s] = (struct pipe_buf){ .data = xmalloc (PROXY_BUF) };
      if (connect (up, (const struct sockaddr *)&sp->target, sizeof sp->target) == 0)
        c->connecting = false;
      else if (errno != EINPROGRESS)
        {
          conn_close (p, c);
          continue;
        }
      bool ok = true;
      for (int s = 0; s < 2 && ok; s++)
        {
          struct epoll_event ev
              = { .events = wanted (c, s), .data.u64 = PTAG (p->tag_conn, idx * 2 + s) };
          ok = epoll_ctl (p->epfd, EPOLL_CTL_ADD, c->fd[s], &ev) == 0;
        }
      if (!ok)
        conn_close (p, c);
    }
}

int mon_proxy_start (int epfd, uint32_t tag_listen, uint32_t tag_conn,
                     const struct monitor_proxy_spec *specs, size_t n, struct mon_proxy **out,
                     berr_t *err)
{
  *out = NULL;
  if (n == 0)
    return 0;
  struct mon_proxy *p = xzalloc (sizeof *p);
  p->epfd = epfd;
  p->tag_listen = tag_listen;
  p->tag_conn = tag_conn;
  p->specs = specs;
  p->nspecs = n;
  for (size_t i = 0; i < PROXY_MAX_CONNS; i++)
    p->conns[i].fd[0] = p->conns[i].fd[1] = -1;
  for (size_t i = 0; i < n; i++)
    {
      struct epoll_event ev = { .events = EPOLLIN, .data.u64 = PTAG (tag_listen, i) };
      if (mon_set_nonblock (specs[i].listen_fd, true) < 0 || listen (specs[i].listen_fd, 128) < 0
          || epoll_ctl (epfd, EPOLL_CTL_ADD, specs[i].listen_fd, &ev) < 0)
        {
          int e = errno;
          mon_proxy_free (p);
          return berr_set (err, e, "published port relay");
        }
    }
  *out = p;
  return 0;
}

void mon_proxy_event (struct mon_proxy *p, uint32_t tag, size_t idx, uint32_t events)
{
  if (p == NULL)
    return;
  if (tag == p->tag_listen)
    {
      if (idx < p->nspecs)
        on_accept (p, idx);
      return;
    }
  size_t ci = idx / 2;
  int side = (int)(idx % 2);
  if (ci >= PROXY_MAX_CONNS || p->conns[ci].fd[0] < 0)
    return;
  struct conn *c = &p->conns[ci];
  if (c->connecting)
    {
      if (side == 0)
        {
          /* The client gave up (or reset) before the container answered. */
          if (events & (EPOLLHUP | EPOLLERR))
            conn_close (p, c);
          return;
        }
      int soerr = 0;
      socklen_t sl = sizeof soerr;
      if (getsockopt (c->fd[1], SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0 || soerr != 0)
        {
          conn_close (p, c);
          return;
        }
      c->connecting = false;
    }
  if (!pump (c) || (events & EPOLLERR))
    {
      conn_close (p, c);
      return;
    }
  if ((events & EPOLLHUP) && !c->quiet[side])
    {
      /* This side takes nothing more (closed both ways): what was on its way to it is dropped
       * and its partner is read no further; what it sent still goes on. Its data is all
       * there: it leaves the set (a hang-up is reported on every wait), and what is left of it
       * is read as the partner takes the data (pump runs until nothing moves). */
      struct pipe_buf *to = &c->b[1 - side];
      to->len = to->off = 0;
      to->eof = to->shut_done = true;
      if (!pump (c))
        {
          conn_close (p, c);
          return;
        }
      epoll_ctl (p->epfd, EPOLL_CTL_DEL, c->fd[side], NULL);
      c->quiet[side] = true;
    }
  update (p, c, ci);
}

void mon_proxy_free (struct mon_proxy *p)
{
  if (p == NULL)
    return;
  for (size_t i = 0; i < PROXY_MAX_CONNS; i++)
    if (p->conns[i].fd[0] >= 0)
      conn_close (p, &p->conns[i]);
  for (size_t i = 0; i < p->nspecs; i++)
    epoll_ctl (p->epfd, EPOLL_CTL_DEL, p->specs[i].listen_fd, NULL);
  free (p);
}
