/* test_ports.c — published ports: PortBindings resolved and reserved with real sockets.
 *
 * As root the whole test runs in a private network namespace (only its loopback, brought up
 * here), so every port is free and nothing on the host is touched; otherwise it runs in the
 * host's namespace on ports it first checks are free. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "net/ports.h"
#include "util/json.h"

static bool have_v6;

static int count_fds (void)
{
  int n = 0;
  DIR *d = opendir ("/proc/self/fd");
  struct dirent *e;
  while (d && (e = readdir (d)))
    if (e->d_name[0] != '.')
      n++;
  if (d)
    closedir (d);
  return n;
}

/* A socket of another program on the port: plain bind, no SO_REUSEADDR unless asked. */
static int foreign_bind (int family, int type, const char *ip, int port, bool reuse, bool listen_)
{
  int fd = socket (family, type | SOCK_CLOEXEC, 0), one = 1;
  struct sockaddr_storage ss;
  socklen_t len;
  memset (&ss, 0, sizeof ss);
  if (fd < 0)
    return -1;
  if (reuse)
    setsockopt (fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (family == AF_INET)
    {
      struct sockaddr_in *s = (struct sockaddr_in *)&ss;
      s->sin_family = AF_INET;
      s->sin_port = htons ((uint16_t)port);
      inet_pton (AF_INET, ip, &s->sin_addr);
      len = sizeof *s;
    }
  else
    {
      struct sockaddr_in6 *s = (struct sockaddr_in6 *)&ss;
      setsockopt (fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
      s->sin6_family = AF_INET6;
      s->sin6_port = htons ((uint16_t)port);
      inet_pton (AF_INET6, ip, &s->sin6_addr);
      len = sizeof *s;
    }
  if (bind (fd, (struct sockaddr *)&ss, len) < 0 || (listen_ && listen (fd, 8) < 0))
    {
      int e = errno;
      close (fd);
      errno = e;
      return -1;
    }
  return fd;
}

static bool port_free (int type, int port)
{
  int fd = foreign_bind (AF_INET, type, "0.0.0.0", port, false, false);
  if (fd < 0)
    return false;
  close (fd);
  return true;
}

/* n consecutive ports free for TCP and UDP on all addresses. */
static int free_ports (int n)
{
  static int next = 23000;
  for (int base = next; base < 60000; base += n)
    {
      bool ok = true;
      for (int i = 0; i < n && ok; i++)
        ok = port_free (SOCK_STREAM, base + i) && port_free (SOCK_DGRAM, base + i);
      if (ok)
        {
          next = base + n;
          return base;
        }
    }
  fail_msg ("no free ports");
  return -1;
}

static json_t *J (const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  cleanup_free char *s = xvasprintf (fmt, ap);
  va_end (ap);
  json_error_t je;
  json_t *j = json_loads (s, 0, &je);
  if (j == NULL)
    fail_msg ("bad test JSON %s: %s", s, je.text);
  return j;
}

static uint16_t sock_port (int fd, int *family, int *type)
{
  struct sockaddr_storage ss;
  socklen_t len = sizeof ss, tl = sizeof *type;
  assert_int_equal (getsockname (fd, (struct sockaddr *)&ss, &len), 0);
  getsockopt (fd, SOL_SOCKET, SO_TYPE, type, &tl);
  *family = ss.ss_family;
  if (ss.ss_family == AF_INET)
    return ntohs (((struct sockaddr_in *)&ss)->sin_port);
  return ntohs (((struct sockaddr_in6 *)&ss)->sin6_port);
}

static int reserve (const char *bindings, const char *exposed, bool all, struct port_set *s,
                    berr_t *err)
{
  cleanup_json json_t *b = bindings ? J ("%s", bindings) : NULL;
  cleanup_json json_t *e = exposed ? J ("%s", exposed) : NULL;
  return ports_reserve (b, e, all, s, err);
}

static void test_free_port (void **state)
{
  (void)state;
  struct port_set s;
  berr_t err = BERR_INIT;
  int fds0 = count_fds ();
  assert_int_equal (
      reserve ("{\"80/tcp\":[{\"HostIp\":\"\",\"HostPort\":\"\"}]}", NULL, false, &s, &err), 0);
  assert_int_equal (s.n, have_v6 ? 2 : 1);
  assert_string_equal (s.v[0].proto, "tcp");
  assert_int_equal (s.v[0].ctr_port, 80);
  assert_string_equal (s.v[0].host_ip, "");
  assert_true (s.v[0].host_port > 0);
  int fam, type;
  assert_int_equal (sock_port (s.v[0].fd, &fam, &type), s.v[0].host_port);
  assert_int_equal (fam, AF_INET);
  assert_int_equal (type, SOCK_STREAM);
  if (have_v6)
    {
      assert_string_equal (s.v[1].host_ip, "::");
      assert_int_equal (s.v[1].host_port, s.v[0].host_port);
      assert_int_equal (sock_port (s.v[1].fd, &fam, &type), s.v[0].host_port);
      assert_int_equal (fam, AF_INET6);
    }
  /* The port is really taken, even for a program that sets SO_REUSEADDR. */
  int p = s.v[0].host_port;
  assert_int_equal (foreign_bind (AF_INET, SOCK_STREAM, "127.0.0.1", p, false, false), -1);
  assert_int_equal (errno, EADDRINUSE);
  assert_int_equal (foreign_bind (AF_INET, SOCK_STREAM, "0.0.0.0", p, true, false), -1);
  assert_int_equal (errno, EADDRINUSE);

  /* "0" is any free port too, and the same key with a second binding gets a second port */
  struct port_set s2;
  assert_int_equal (reserve ("{\"80\":[{\"HostIp\":\"127.0.0.1\",\"HostPort\":\"0\"},"
                             "{\"HostIp\":\"127.0.0.1\",\"HostPort\":\"\"}]}",
                             NULL, false, &s2, &err),
                    0);
  assert_int_equal (s2.n, 2);
  assert_string_equal (s2.v[0].proto, "tcp");
  assert_string_equal (s2.v[0].host_ip, "127.0.0.1");
  assert_true (s2.v[0].host_port != s2.v[1].host_port);
  ports_release (&s2);
  ports_release (&s);
  assert_null (s.v);
  assert_int_equal (count_fds (), fds0);
  /* released: the port can be bound again */
  int fd = foreign_bind (AF_INET, SOCK_STREAM, "0.0.0.0", p, false, true);
  assert_true (fd >= 0);
  close (fd);
}

static void test_conflict (void **state)
{
  (void)state;
  struct port_set s;
  berr_t err = BERR_INIT;
  int base = free_ports (2);
  int held = foreign_bind (AF_INET, SOCK_STREAM, "127.0.0.1", base + 1, false, true);
  assert_true (held >= 0);
  int fds0 = count_fds ();

  /* the first binding (fixed, sorted first) succeeds, the second meets the listener: the error
   * is Docker's and the first one's socket is closed again */
  cleanup_free char *spec = xasprintf ("{\"80/tcp\":[{\"HostIp\":\"\",\"HostPort\":\"%d\"}],"
                                       "\"81/tcp\":[{\"HostIp\":\"\",\"HostPort\":\"%d\"}]}",
                                       base, base + 1);
  assert_int_equal (reserve (spec, NULL, false, &s, &err), -1);
  cleanup_free char *want
      = xasprintf ("Bind for 0.0.0.0:%d failed: port is already allocated", base + 1);
  assert_string_equal (err.msg, want);
  assert_int_equal (err.kind, BERR_CONFLICT);
  berr_release (&err);
  assert_int_equal (count_fds (), fds0);
  int fd = foreign_bind (AF_INET, SOCK_STREAM, "0.0.0.0", base, false, true);
  assert_true (fd >= 0);
  close (fd);
  close (held);

  /* berth against berth: the second reservation of a port fails (20 racing -p 8080:80 must
   * have one winner) */
  struct port_set a, b;
  cleanup_free char *one = xasprintf ("{\"80/tcp\":[{\"HostIp\":\"\",\"HostPort\":\"%d\"}]}", base);
  cleanup_free char *one_lo
      = xasprintf ("{\"80/tcp\":[{\"HostIp\":\"127.0.0.1\",\"HostPort\":\"%d\"}]}", base);
  assert_int_equal (reserve (one, NULL, false, &a, &err), 0);
  assert_int_equal (reserve (one, NULL, false, &b, &err), -1);
  cleanup_free char *want2
      = xasprintf ("Bind for 0.0.0.0:%d failed: port is already allocated", base);
  assert_string_equal (err.msg, want2);
  berr_release (&err);
  assert_int_equal (reserve (one_lo, NULL, false, &b, &err), -1);
  cleanup_free char *want3
      = xasprintf ("Bind for 127.0.0.1:%d failed: port is already allocated", base);
  assert_string_equal (err.msg, want3);
  berr_release (&err);
  ports_release (&a);

  /* IPv6: the [::] twin of an all-addresses binding conflicts too */
  if (have_v6)
    {
      int h6 = foreign_bind (AF_INET6, SOCK_STREAM, "::", base, false, true);
      assert_true (h6 >= 0);
      assert_int_equal (reserve (one, NULL, false, &b, &err), -1);
      cleanup_free char *want6
          = xasprintf ("Bind for :::%d failed: port is already allocated", base);
      assert_string_equal (err.msg, want6);
      berr_release (&err);
      close (h6);
    }
  assert_int_equal (count_fds (), fds0 - 1); /* held is closed */
}

/* 20 processes racing for the same port: exactly one wins, the others get Docker's error. */
static void test_race (void **state)
{
  (void)state;
  int port = free_ports (1), go[2];
  cleanup_free char *spec
      = xasprintf ("{\"80/tcp\":[{\"HostIp\":\"\",\"HostPort\":\"%d\"}]}", port);
  cleanup_free char *want
      = xasprintf ("Bind for 0.0.0.0:%d failed: port is already allocated", port);
  pid_t pids[20];
  assert_int_equal (pipe2 (go, O_CLOEXEC), 0);
  for (size_t i = 0; i < ARRAY_SIZE (pids); i++)
    {
      pids[i] = fork ();
      assert_true (pids[i] >= 0);
      if (pids[i] == 0)
        {
          struct port_set s;
          berr_t err = BERR_INIT;
          char c;
          close (go[1]);
          (void)!read (go[0], &c, 1); /* all start together */
          if (reserve (spec, NULL, false, &s, &err) == 0)
            {
              usleep (500000); /* hold it while the others try */
              _exit (0);
            }
          _exit (strcmp (err.msg, want) == 0 && err.kind == BERR_CONFLICT ? 1 : 2);
        }
    }
  close (go[0]);
  close (go[1]);
  int won = 0, lost = 0;
  for (size_t i = 0; i < ARRAY_SIZE (pids); i++)
    {
      int st;
      assert_int_equal (waitpid (pids[i], &st, 0), pids[i]);
      assert_true (WIFEXITED (st));
      won += WEXITSTATUS (st) == 0;
      lost += WEXITSTATUS (st) == 1;
    }
  assert_int_equal (won, 1);
  assert_int_equal (lost, 19);
}

/* A server that stopped a moment ago leaves TIME_WAIT sockets on its port: the reservation must
 * still succeed there (SO_REUSEADDR), and stay exclusive afterwards. */
static void test_time_wait (void **state)
{
  (void)state;
  int port = free_ports (1);
  int l = foreign_bind (AF_INET, SOCK_STREAM, "127.0.0.1", port, true, true);
  assert_true (l >= 0);
  int c = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons ((uint16_t)port) };
  inet_pton (AF_INET, "127.0.0.1", &sa.sin_addr);
  assert_int_equal (connect (c, (struct sockaddr *)&sa, sizeof sa), 0);
  int a = accept4 (l, NULL, NULL, SOCK_CLOEXEC);
  assert_true (a >= 0);
  close (a); /* the server closes first: its side goes to TIME_WAIT */
  char buf[1];
  struct pollfd pfd = { c, POLLIN, 0 };
  poll (&pfd, 1, 2000);
  assert_int_equal (read (c, buf, 1), 0);
  close (c);
  close (l);
  /* TIME_WAIT is there: a plain bind fails */
  assert_int_equal (foreign_bind (AF_INET, SOCK_STREAM, "127.0.0.1", port, false, false), -1);
  assert_int_equal (errno, EADDRINUSE);

  struct port_set s, s2;
  berr_t err = BERR_INIT;
  cleanup_free char *spec
      = xasprintf ("{\"80/tcp\":[{\"HostIp\":\"127.0.0.1\",\"HostPort\":\"%d\"}]}", port);
  assert_int_equal (reserve (spec, NULL, false, &s, &err), 0);
  assert_int_equal (s.v[0].host_port, port);
  assert_int_equal (reserve (spec, NULL, false, &s2, &err), -1);
  assert_int_equal (err.kind, BERR_CONFLICT);
  berr_release (&err);
  assert_int_equal (foreign_bind (AF_INET, SOCK_STREAM, "127.0.0.1", port, true, false), -1);
  assert_int_equal (errno, EADDRINUSE);
  ports_release (&s);
}

static void test_range (void **state)
{
  (void)state;
  struct port_set s;
  berr_t err = BERR_INIT;
  int base = free_ports (3);
  int held = foreign_bind (AF_INET, SOCK_STREAM, "0.0.0.0", base, false, false);
  assert_true (held >= 0);
  cleanup_free char *spec
      = xasprintf ("{\"8000/tcp\":[{\"HostIp\":\"\",\"HostPort\":\"%d-%d\"}]}", base, base + 2);
  assert_int_equal (reserve (spec, NULL, false, &s, &err), 0);
  assert_int_equal (s.v[0].host_port, base + 1);
  assert_int_equal (s.v[0].ctr_port, 8000);
  /* a second container with the same range gets the next free one */
  struct port_set s2, s3;
  assert_int_equal (reserve (spec, NULL, false, &s2, &err), 0);
  assert_int_equal (s2.v[0].host_port, base + 2);
  /* and a third finds none */
  int fds0 = count_fds ();
  assert_int_equal (reserve (spec, NULL, false, &s3, &err), -1);
  cleanup_free char *want
      = xasprintf ("Bind for 0.0.0.0:%d-%d failed: all ports are allocated", base, base + 2);
  assert_string_equal (err.msg, want);
  assert_int_equal (err.kind, BERR_CONFLICT);
  berr_release (&err);
  assert_int_equal (count_fds (), fds0);
  ports_release (&s2);
  ports_release (&s);
  close (held);

  /* what the CLI makes of -p 8000-8001:8000-8001: one key per port, host ports paired */
  cleanup_free char *pairs = xasprintf ("{\"8000/tcp\":[{\"HostIp\":\"\",\"HostPort\":\"%d\"}],"
                                        "\"8001/tcp\":[{\"HostIp\":\"\",\"HostPort\":\"%d\"}]}",
                                        base, base + 1);
  assert_int_equal (reserve (pairs, NULL, false, &s, &err), 0);
  size_t step = have_v6 ? 2 : 1;
  assert_int_equal (s.n, 2 * step);
  assert_int_equal (s.v[0].ctr_port, 8000);
  assert_int_equal (s.v[0].host_port, base);
  assert_int_equal (s.v[step].ctr_port, 8001);
  assert_int_equal (s.v[step].host_port, base + 1);
  ports_release (&s);
}

static void test_udp_sctp (void **state)
{
  (void)state;
  struct port_set s;
  berr_t err = BERR_INIT;
  int port = free_ports (1);
  cleanup_free char *spec
      = xasprintf ("{\"53/udp\":[{\"HostIp\":\"0.0.0.0\",\"HostPort\":\"%d\"}]}", port);
  assert_int_equal (reserve (spec, NULL, false, &s, &err), 0);
  assert_int_equal (s.n, 1); /* 0.0.0.0 given: IPv4 only */
  assert_string_equal (s.v[0].proto, "udp");
  assert_string_equal (s.v[0].host_ip, "0.0.0.0");
  int fam, type;
  assert_int_equal (sock_port (s.v[0].fd, &fam, &type), port);
  assert_int_equal (type, SOCK_DGRAM);
  /* taken for UDP, even with SO_REUSEADDR; still free for TCP */
  assert_int_equal (foreign_bind (AF_INET, SOCK_DGRAM, "127.0.0.1", port, false, false), -1);
  assert_int_equal (errno, EADDRINUSE);
  assert_int_equal (foreign_bind (AF_INET, SOCK_DGRAM, "0.0.0.0", port, true, false), -1);
  int t = foreign_bind (AF_INET, SOCK_STREAM, "0.0.0.0", port, false, false);
  assert_true (t >= 0);
  close (t);
  struct port_set s2;
  assert_int_equal (reserve (spec, NULL, false, &s2, &err), -1);
  cleanup_free char *want
      = xasprintf ("Bind for 0.0.0.0:%d failed: port is already allocated", port);
  assert_string_equal (err.msg, want);
  berr_release (&err);
  ports_release (&s);

  /* SCTP where the kernel has it; otherwise an ordinary error */
  cleanup_free char *sctp
      = xasprintf ("{\"132/SCTP\":[{\"HostIp\":\"127.0.0.1\",\"HostPort\":\"%d\"}]}", port);
  if (reserve (sctp, NULL, false, &s, &err) == 0)
    {
      assert_string_equal (s.v[0].proto, "sctp");
      ports_release (&s);
    }
  else
    {
      printf ("# sctp: %s\n", err.msg);
      assert_non_null (strstr (err.msg, "failed to bind host port for 127.0.0.1"));
      berr_release (&err);
    }
}

static void test_specific_addresses (void **state)
{
  (void)state;
  struct port_set s;
  berr_t err = BERR_INIT;
  int port = free_ports (1);
  cleanup_free char *spec
      = xasprintf (have_v6 ? "{\"80/tcp\":[{\"HostIp\":\"127.0.0.1\",\"HostPort\":\"%d\"},"
                             "{\"HostIp\":\"::1\",\"HostPort\":\"%d\"}]}"
                           : "{\"80/tcp\":[{\"HostIp\":\"127.0.0.1\",\"HostPort\":\"%d\"}]}",
                   port, port);
  assert_int_equal (reserve (spec, NULL, false, &s, &err), 0);
  assert_int_equal (s.n, have_v6 ? 2 : 1);
  assert_string_equal (s.v[0].host_ip, "127.0.0.1");
  if (have_v6)
    {
      int fam, type;
      assert_string_equal (s.v[1].host_ip, "::1");
      assert_int_equal (sock_port (s.v[1].fd, &fam, &type), port);
      assert_int_equal (fam, AF_INET6);
    }
  /* another loopback address of the same port is a different binding */
  int other = foreign_bind (AF_INET, SOCK_STREAM, "127.0.0.2", port, false, false);
  assert_true (other >= 0);
  close (other);
  ports_release (&s);

  /* an address the host does not have: an error, not a conflict */
  cleanup_free char *far
      = xasprintf ("{\"80/tcp\":[{\"HostIp\":\"192.0.2.1\",\"HostPort\":\"%d\"}]}", port);
  assert_int_equal (reserve (far, NULL, false, &s, &err), -1);
  cleanup_free char *want = xasprintf (
      "failed to bind host port for 192.0.2.1:%d/tcp: Cannot assign requested address", port);
  assert_string_equal (err.msg, want);
  assert_int_not_equal (err.kind, BERR_CONFLICT);
  berr_release (&err);
}

static void test_publish_all (void **state)
{
  (void)state;
  struct port_set s;
  berr_t err = BERR_INIT;
  int port = free_ports (1);
  cleanup_free char *b
      = xasprintf ("{\"8080/tcp\":[{\"HostIp\":\"127.0.0.1\",\"HostPort\":\"%d\"}],"
                   "\"9090/tcp\":null}",
                   port);
  const char *exposed = "{\"8080/tcp\":{},\"53/udp\":{},\"80\":{},\"9090/tcp\":{}}";
  /* without -P only the binding */
  assert_int_equal (reserve (b, exposed, false, &s, &err), 0);
  assert_int_equal (s.n, 1);
  ports_release (&s);

  assert_int_equal (reserve (b, exposed, true, &s, &err), 0);
  size_t step = have_v6 ? 2 : 1;
  assert_int_equal (s.n, 1 + 3 * step);
  /* the fixed binding first, then the drawn ones by container port */
  assert_int_equal (s.v[0].ctr_port, 8080);
  assert_int_equal (s.v[0].host_port, port);
  assert_int_equal (s.v[1].ctr_port, 53);
  assert_string_equal (s.v[1].proto, "udp");
  assert_string_equal (s.v[1].host_ip, "");
  assert_true (s.v[1].host_port > 0);
  assert_int_equal (s.v[1 + step].ctr_port, 80);
  assert_string_equal (s.v[1 + step].proto, "tcp");
  assert_int_equal (s.v[1 + 2 * step].ctr_port, 9090);
  int fam, type;
  assert_int_equal (sock_port (s.v[1].fd, &fam, &type), s.v[1].host_port);
  assert_int_equal (type, SOCK_DGRAM);

  cleanup_json json_t *e = J ("%s", exposed);
  cleanup_json json_t *pj = ports_json (&s, e);
  assert_int_equal (json_object_size (pj), 4);
  json_t *l53 = json_object_get (pj, "53/udp");
  assert_int_equal (json_array_size (l53), step);
  assert_string_equal (json_string_value (json_object_get (json_array_get (l53, 0), "HostIp")),
                       "0.0.0.0");
  if (have_v6)
    assert_string_equal (json_string_value (json_object_get (json_array_get (l53, 1), "HostIp")),
                         "::");
  ports_release (&s);
}

static void test_ports_json (void **state)
{
  (void)state;
  struct port_set s;
  berr_t err = BERR_INIT;
  int port = free_ports (1);
  cleanup_free char *spec
      = xasprintf ("{\"80/tcp\":[{\"HostIp\":\"\",\"HostPort\":\"%d\"}]}", port);
  assert_int_equal (reserve (spec, NULL, false, &s, &err), 0);
  cleanup_json json_t *exposed = J ("{\"80/tcp\":{},\"443/tcp\":{},\"53/udp\":{}}");
  cleanup_json json_t *pj = ports_json (&s, exposed);
  cleanup_free char *got = json_dumps (pj, JSON_COMPACT);
  cleanup_free char *want
      = have_v6 ? xasprintf ("{\"443/tcp\":null,\"53/udp\":null,\"80/tcp\":[{\"HostIp\":"
                             "\"0.0.0.0\",\"HostPort\":\"%d\"},{\"HostIp\":\"::\",\"HostPort\":"
                             "\"%d\"}]}",
                             port, port)
                : xasprintf ("{\"443/tcp\":null,\"53/udp\":null,\"80/tcp\":[{\"HostIp\":"
                             "\"0.0.0.0\",\"HostPort\":\"%d\"}]}",
                             port);
  assert_string_equal (got, want);
  ports_release (&s);

  /* round trip through the recorded form */
  cleanup_json json_t *rec
      = J ("{\"443/tcp\":null,\"53/udp\":[{\"HostIp\":\"127.0.0.1\",\"HostPort\":\"5353\"}],"
           "\"80/tcp\":[{\"HostIp\":\"0.0.0.0\",\"HostPort\":\"8080\"},"
           "{\"HostIp\":\"::\",\"HostPort\":\"8080\"}]}");
  assert_int_equal (ports_from_json (rec, &s, &err), 0);
  assert_int_equal (s.n, 3);
  for (size_t i = 0; i < s.n; i++)
    assert_int_equal (s.v[i].fd, -1);
  cleanup_json json_t *back = ports_json (&s, exposed);
  assert_true (json_equal (back, rec));
  ports_release (&s); /* fds of -1 are not closed */

  assert_int_equal (ports_from_json (NULL, &s, &err), 0);
  assert_int_equal (s.n, 0);
  cleanup_json json_t *bad1 = J ("{\"80/tcp\":[{\"HostIp\":\"0.0.0.0\",\"HostPort\":\"x\"}]}");
  cleanup_json json_t *bad2 = J ("{\"eighty/tcp\":null}");
  cleanup_json json_t *bad3 = J ("[1]");
  assert_int_equal (ports_from_json (bad1, &s, &err), -1);
  assert_string_equal (err.msg, "invalid port binding for 80/tcp");
  berr_release (&err);
  assert_int_equal (ports_from_json (bad2, &s, &err), -1);
  assert_string_equal (err.msg, "invalid port specification: \"eighty/tcp\"");
  berr_release (&err);
  assert_int_equal (ports_from_json (bad3, &s, &err), -1);
  berr_release (&err);
}

static void test_bad_input (void **state)
{
  (void)state;
  static const struct
  {
    const char *spec, *msg;
  } cases[] = {
    { "{\"abc/tcp\":[]}", "invalid port specification: \"abc/tcp\"" },
    { "{\"0/tcp\":[]}", "invalid port specification: \"0/tcp\"" },
    { "{\"70000/tcp\":[]}", "invalid port specification: \"70000/tcp\"" },
    { "{\"80/icmp\":[]}", "invalid port specification: \"80/icmp\"" },
    { "{\"80-81/tcp\":[]}", "invalid port specification: \"80-81/tcp\"" },
    { "{\"80/tcp\":[{\"HostIp\":\"\",\"HostPort\":\"abc\"}]}", "invalid hostPort: abc" },
    { "{\"80/tcp\":[{\"HostIp\":\"\",\"HostPort\":\"70000\"}]}", "invalid hostPort: 70000" },
    { "{\"80/tcp\":[{\"HostIp\":\"\",\"HostPort\":\"9-5\"}]}", "invalid hostPort: 9-5" },
    { "{\"80/tcp\":[{\"HostIp\":\"\",\"HostPort\":\"-5\"}]}", "invalid hostPort: -5" },
    { "{\"80/tcp\":[{\"HostIp\":\"1.2.3\",\"HostPort\":\"\"}]}", "invalid IP address: 1.2.3" },
    { "{\"80/tcp\":[{\"HostIp\":\"[::1]\",\"HostPort\":\"\"}]}", "invalid IP address: [::1]" },
    { "{\"80/tcp\":[{\"HostIp\":3,\"HostPort\":\"\"}]}", "invalid port binding for 80/tcp" },
    { "{\"80/tcp\":{}}", "invalid port bindings for 80/tcp: not a list" },
    { "[]", "invalid port bindings: not an object" },
  };
  int fds0 = count_fds ();
  for (size_t i = 0; i < ARRAY_SIZE (cases); i++)
    {
      struct port_set s = { NULL, 0 };
      berr_t err = BERR_INIT;
      /* a good binding before the bad one must not stay reserved */
      cleanup_json json_t *b = J ("%s", cases[i].spec);
      if (json_is_object (b))
        json_object_set_new (b, "1/udp", J ("[{\"HostIp\":\"127.0.0.1\",\"HostPort\":\"\"}]"));
      assert_int_equal (ports_reserve (b, NULL, false, &s, &err), -1);
      assert_string_equal (err.msg, cases[i].msg);
      assert_int_equal (err.kind, BERR_INVALID);
      assert_null (s.v);
      berr_release (&err);
    }
  /* a bad exposed port under -P */
  struct port_set s;
  berr_t err = BERR_INIT;
  assert_int_equal (reserve ("{}", "{\"x/tcp\":{}}", true, &s, &err), -1);
  assert_string_equal (err.msg, "invalid port specification: \"x/tcp\"");
  berr_release (&err);
  /* nothing at all is fine */
  assert_int_equal (reserve (NULL, NULL, true, &s, &err), 0);
  assert_int_equal (s.n, 0);
  assert_int_equal (reserve ("{\"80/tcp\":null}", "{}", false, &s, &err), 0);
  assert_int_equal (s.n, 0);
  assert_int_equal (count_fds (), fds0);
}

static bool probe_v6 (void)
{
  int fd = foreign_bind (AF_INET6, SOCK_STREAM, "::", 0, false, false);
  if (fd < 0)
    return false;
  close (fd);
  return true;
}

int main (void)
{
  if (geteuid () == 0)
    {
      if (unshare (CLONE_NEWNET) < 0)
        {
          perror ("unshare");
          return 1;
        }
      int fd = socket (AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
      struct ifreq ifr;
      memset (&ifr, 0, sizeof ifr);
      snprintf (ifr.ifr_name, sizeof ifr.ifr_name, "lo");
      ifr.ifr_flags = IFF_UP | IFF_LOOPBACK | IFF_RUNNING;
      if (fd < 0 || ioctl (fd, SIOCSIFFLAGS, &ifr) < 0)
        {
          perror ("lo up");
          return 1;
        }
      close (fd);
      printf ("# in a private network namespace\n");
    }
  have_v6 = probe_v6 ();
  printf ("# IPv6 %s\n", have_v6 ? "available: [::] twins expected" : "unavailable");
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_free_port),
    cmocka_unit_test (test_conflict),
    cmocka_unit_test (test_race),
    cmocka_unit_test (test_time_wait),
    cmocka_unit_test (test_range),
    cmocka_unit_test (test_udp_sctp),
    cmocka_unit_test (test_specific_addresses),
    cmocka_unit_test (test_publish_all),
    cmocka_unit_test (test_ports_json),
    cmocka_unit_test (test_bad_input),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
