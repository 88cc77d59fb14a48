/* test_proxy.c — the monitor's TCP relay for published ports on IPv6 host addresses
 * (src/monitor/proxy.c): a client on [::1] reaches a server on 127.0.0.1 through it, data both
 * ways (more than the buffers hold), half-closes passed on, a refused upstream closes the
 * client, and nothing is left open. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "monitor/monitor.h"
#include "monitor/monitor_int.h"
#include "util/util.h"

#define T_LISTEN 1
#define T_CONN 2

static int64_t mono_ms (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A bound (not listening) socket on [::1]:0, as ports.c leaves it; -1 without IPv6. */
static int bound_v6 (uint16_t *port)
{
  int fd = socket (AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
  struct sockaddr_in6 a = { .sin6_family = AF_INET6, .sin6_addr = in6addr_loopback };
  socklen_t l = sizeof a;
  if (fd < 0 || bind (fd, (struct sockaddr *)&a, sizeof a) < 0
      || getsockname (fd, (struct sockaddr *)&a, &l) < 0)
    {
      if (fd >= 0)
        close (fd);
      return -1;
    }
  *port = ntohs (a.sin6_port);
  return fd;
}

static int listen_v4 (struct sockaddr_in *addr)
{
  int fd = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  assert_true (fd >= 0);
  *addr = (struct sockaddr_in){ .sin_family = AF_INET, .sin_addr.s_addr = htonl (INADDR_LOOPBACK) };
  socklen_t l = sizeof *addr;
  assert_int_equal (bind (fd, (struct sockaddr *)addr, sizeof *addr), 0);
  assert_int_equal (listen (fd, 8), 0);
  assert_int_equal (getsockname (fd, (struct sockaddr *)addr, &l), 0);
  return fd;
}

static int connect_v6 (uint16_t port)
{
  int fd = socket (AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
  struct sockaddr_in6 a
      = { .sin6_family = AF_INET6, .sin6_addr = in6addr_loopback, .sin6_port = htons (port) };
  assert_true (fd >= 0);
  assert_int_equal (connect (fd, (struct sockaddr *)&a, sizeof a), 0);
  return fd;
}

/* Run the relay's events for up to ms milliseconds, or until *done. */
static void pump (int epfd, struct mon_proxy *p, int ms, const bool *done)
{
  int64_t end = mono_ms () + ms;
  while (mono_ms () < end && !(done && *done))
    {
      struct epoll_event evs[16];
      int n = epoll_wait (epfd, evs, 16, 5);
      for (int i = 0; i < n; i++)
        mon_proxy_event (p, (uint32_t)(evs[i].data.u64 >> 32), (uint32_t)evs[i].data.u64,
                         evs[i].events);
      if (done == NULL && n == 0)
        return;
    }
}

static int open_fds (void)
{
  int n = 0;
  for (int fd = 0; fd < 1024; fd++)
    if (fcntl (fd, F_GETFD) >= 0)
      n++;
  return n;
}

static void test_relay_both_ways (void **state)
{
  (void)state;
  int before = open_fds ();
  uint16_t port;
  int l6 = bound_v6 (&port);
  if (l6 < 0)
    skip ();
  struct sockaddr_in target;
  int srv = listen_v4 (&target);
  struct monitor_proxy_spec spec = { .listen_fd = l6, .target = target };
  int epfd = epoll_create1 (EPOLL_CLOEXEC);
  struct mon_proxy *p = NULL;
  berr_t err = BERR_INIT;
  assert_int_equal (mon_proxy_start (epfd, T_LISTEN, T_CONN, &spec, 1, &p, &err), 0);
  assert_non_null (p);

  int cl = connect_v6 (port);
  assert_int_equal (mon_set_nonblock (cl, true), 0);
  /* The relay accepts and connects upstream. */
  int up = -1;
  int64_t end = mono_ms () + 3000;
  while (up < 0 && mono_ms () < end)
    {
      pump (epfd, p, 20, NULL);
      up = accept4 (srv, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
    }
  assert_true (up >= 0);

  /* 1 MiB each way: more than the relay's buffers. */
  size_t total = 1 << 20;
  char *out = xmalloc (total), *in_srv = xmalloc (total), *in_cl = xmalloc (total);
  for (size_t i = 0; i < total; i++)
    out[i] = (char)(i * 7 + 3);
  size_t sent_cl = 0, sent_up = 0, got_srv = 0, got_cl = 0;
  bool srv_eof = false, cl_eof = false, cl_shut = false, up_shut = false;
  end = mono_ms () + 10000;
  while ((!srv_eof || !cl_eof) && mono_ms () < end)
    {
      ssize_t n;
      if (sent_cl < total && (n = send (cl, out + sent_cl, total - sent_cl, MSG_NOSIGNAL)) > 0)
        sent_cl += (size_t)n;
      if (sent_cl == total && !cl_shut)
        cl_shut = shutdown (cl, SHUT_WR) == 0; /* the client's FIN must reach the server */
      /* Request, then response: the server answers only once the client's half-close reached
       * it, so a relay that did not pass half-closes on would stall here. */
      if (srv_eof && sent_up < total
          && (n = send (up, out + sent_up, total - sent_up, MSG_NOSIGNAL)) > 0)
        sent_up += (size_t)n;
      if (sent_up == total && !up_shut)
        up_shut = shutdown (up, SHUT_WR) == 0;
      char extra;
      if (!srv_eof)
        {
          n = got_srv < total ? read (up, in_srv + got_srv, total - got_srv) : read (up, &extra, 1);
          if (n == 0)
            srv_eof = true;
          else if (n > 0)
            got_srv += (size_t)n;
        }
      if (!cl_eof)
        {
          n = got_cl < total ? read (cl, in_cl + got_cl, total - got_cl) : read (cl, &extra, 1);
          if (n == 0)
            cl_eof = true;
          else if (n > 0)
            got_cl += (size_t)n;
        }
      pump (epfd, p, 1, NULL);
    }
  assert_true (srv_eof);
  assert_true (cl_eof);
  assert_int_equal (got_srv, total);
  assert_int_equal (got_cl, total);
  assert_memory_equal (in_srv, out, total);
  assert_memory_equal (in_cl, out, total);
  close (cl);
  close (up);
  pump (epfd, p, 50, NULL);
  free (out);
  free (in_srv);
  free (in_cl);

  mon_proxy_free (p);
  close (epfd);
  close (srv);
  close (l6);
  assert_int_equal (open_fds (), before);
}

static void test_refused_upstream_closes_client (void **state)
{
  (void)state;
  uint16_t port;
  int l6 = bound_v6 (&port);
  if (l6 < 0)
    skip ();
  struct sockaddr_in target;
  int srv = listen_v4 (&target);
  close (srv); /* nobody listens there now */
  struct monitor_proxy_spec spec = { .listen_fd = l6, .target = target };
  int epfd = epoll_create1 (EPOLL_CLOEXEC);
  struct mon_proxy *p = NULL;
  berr_t err = BERR_INIT;
  assert_int_equal (mon_proxy_start (epfd, T_LISTEN, T_CONN, &spec, 1, &p, &err), 0);
  int cl = connect_v6 (port);
  struct timeval tv = { .tv_sec = 0, .tv_usec = 20000 };
  setsockopt (cl, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  char c;
  ssize_t n = -1;
  int64_t end = mono_ms () + 3000;
  while (mono_ms () < end)
    {
      pump (epfd, p, 20, NULL);
      n = read (cl, &c, 1);
      if (n >= 0 || (errno != EAGAIN && errno != EWOULDBLOCK))
        break;
    }
  /* EOF or a reset: either way the client learns the connection is gone. */
  assert_true (n == 0 || (n < 0 && errno == ECONNRESET));
  close (cl);
  mon_proxy_free (p);
  close (epfd);
  close (l6);
}

static void test_no_specs (void **state)
{
  (void)state;
  struct mon_proxy *p = (struct mon_proxy *)1;
  berr_t err = BERR_INIT;
  assert_int_equal (mon_proxy_start (-1, T_LISTEN, T_CONN, NULL, 0, &p, &err), 0);
  assert_null (p);
  mon_proxy_event (NULL, T_CONN, 0, EPOLLIN); /* no relay: ignored */
  mon_proxy_free (NULL);
}

int main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_relay_both_ways),
    cmocka_unit_test (test_refused_upstream_closes_client),
    cmocka_unit_test (test_no_specs),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
