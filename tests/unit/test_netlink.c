/* Unit tests for src/net/netlink.c and src/net/link.c: bridges, veth endpoints, addresses and
 * routes, checked from outside the code under test (a fresh sysfs mounted in a forked child,
 * ioctls, /proc/self/net/route, getifaddrs) and with real TCP traffic.
 *
 * The whole test process first moves into a private network namespace (the "host" side here),
 * and each container namespace is made by a forked child that unshares and waits; everything
 * created vanishes with them.  Needs root; otherwise the namespace tests say so and pass. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "net/netlink.h"

static bool have_ns; /* root, and the process is in a private network namespace */

#define IP4(a, b, c, d) ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (d))

/* cmocka 1.1.5 reports skip() as "not ok" in TAP; say why and pass instead. */
static int skip_unless_ns (void)
{
  if (!have_ns)
    {
      printf ("# needs root and a private network namespace: not run\n");
      return 1;
    }
  return 0;
}

static int64_t mono_ns (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void write_file (const char *path, const char *s)
{
  int fd = open (path, O_WRONLY | O_CLOEXEC);
  assert_true (fd >= 0);
  assert_int_equal (write (fd, s, strlen (s)), (ssize_t)strlen (s));
  close (fd);
}

/* First line of a file, or "" when it cannot be read. */
static char *read_line (const char *path)
{
  char buf[256] = "";
  FILE *f = fopen (path, "re");
  if (f)
    {
      if (!fgets (buf, sizeof buf, f))
        buf[0] = '\0';
      fclose (f);
    }
  buf[strcspn (buf, "\n")] = '\0';
  return xstrdup (buf);
}

static void check_ok (int r, berr_t *err)
{
  if (r < 0)
    fprintf (stderr, "# unexpected error: %s\n", err->msg ? err->msg : "(none)");
  assert_int_equal (r, 0);
  assert_false (berr_is_set (err));
}

/* ---------- a container-like namespace held by a waiting child ---------- */

struct peer_ns
{
  pid_t pid;
  int nsfd; /* /proc/<pid>/ns/net */
  int hold; /* closing it lets the child exit */
};

static void peer_ns_make (struct peer_ns *p)
{
  int ready[2], hold[2];
  assert_int_equal (pipe2 (ready, O_CLOEXEC), 0);
  assert_int_equal (pipe2 (hold, O_CLOEXEC), 0);
  pid_t pid = fork ();
  assert_true (pid >= 0);
  if (pid == 0)
    {
      close (ready[0]);
      close (hold[1]);
      char c = unshare (CLONE_NEWNET) == 0 ? 'k' : 'x';
      if (write (ready[1], &c, 1) != 1)
        _exit (1);
      /* Wait for the parent to let go (or to die). */
      while (read (hold[0], &c, 1) > 0)
        ;
      _exit (0);
    }
  close (ready[1]);
  close (hold[0]);
  char c = 0;
  assert_int_equal (read (ready[0], &c, 1), 1);
  close (ready[0]);
  assert_int_equal (c, 'k');
  char path[64];
  snprintf (path, sizeof path, "/proc/%d/ns/net", (int)pid);
  p->pid = pid;
  p->nsfd = open (path, O_RDONLY | O_CLOEXEC);
  assert_true (p->nsfd >= 0);
  p->hold = hold[1];
}

static void peer_ns_release (struct peer_ns *p)
{
  close (p->hold);
  int st;
  assert_int_equal (waitpid (p->pid, &st, 0), p->pid);
  close (p->nsfd);
}

/* ---------- looking from outside the code under test ---------- */

static int cmp_str (const void *a, const void *b)
{
  return strcmp (*(char *const *)a, *(char *const *)b);
}

static void report_attr (FILE *out, const char *key, const char *ifname, const char *attr)
{
  char path[256];
  snprintf (path, sizeof path, "/sys/class/net/%s/%s", ifname, attr);
  char *v = read_line (path);
  fprintf (out, "%s=%s\n", key, v);
  free (v);
}

/* In a child: enter nsfd (-1: stay), mount a sysfs of that namespace on /sys in a private mount
 * namespace, and print what the kernel says about ifname, loopback, the links and the default
 * route as key=value lines. */
static void probe_child (int nsfd, const char *ifname, int outfd)
{
  if (nsfd >= 0 && setns (nsfd, CLONE_NEWNET) < 0)
    _exit (2);
  if (unshare (CLONE_NEWNS) < 0 || mount (NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0
      || mount ("sysfs", "/sys", "sysfs", 0, NULL) < 0)
    _exit (3);
  FILE *out = fdopen (outfd, "w");
  if (!out)
    _exit (4);

  char *names[64];
  size_t nn = 0;
  DIR *d = opendir ("/sys/class/net");
  struct dirent *e;
  while (d && (e = readdir (d)) && nn < 64)
    if (e->d_name[0] != '.')
      names[nn++] = strdup (e->d_name);
  if (d)
    closedir (d);
  qsort (names, nn, sizeof names[0], cmp_str);
  fprintf (out, "links=");
  for (size_t i = 0; i < nn; i++)
    fprintf (out, "%s%s", i ? "," : "", names[i]);
  fprintf (out, "\n");

  char path[256];
  snprintf (path, sizeof path, "/sys/class/net/%s", ifname);
  fprintf (out, "exists=%d\n", access (path, F_OK) == 0);
  report_attr (out, "mac", ifname, "address");
  report_attr (out, "mtu", ifname, "mtu");
  report_attr (out, "flags", ifname, "flags");
  report_attr (out, "hairpin", ifname, "brport/hairpin_mode");
  report_attr (out, "stp", ifname, "bridge/stp_state");
  report_attr (out, "lo_flags", "lo", "flags");
  snprintf (path, sizeof path, "/sys/class/net/%s/master", ifname);
  char link[256];
  ssize_t ll = readlink (path, link, sizeof link - 1);
  link[ll > 0 ? ll : 0] = '\0';
  fprintf (out, "master=%s\n", strrchr (link, '/') ? strrchr (link, '/') + 1 : "");

  int s = socket (AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  struct ifreq ifr;
  memset (&ifr, 0, sizeof ifr);
  snprintf (ifr.ifr_name, sizeof ifr.ifr_name, "%s", ifname);
  char addr[INET_ADDRSTRLEN] = "";
  int prefix = -1;
  if (s >= 0 && ioctl (s, SIOCGIFADDR, &ifr) == 0)
    {
      inet_ntop (AF_INET, &((struct sockaddr_in *)&ifr.ifr_addr)->sin_addr, addr, sizeof addr);
      if (ioctl (s, SIOCGIFNETMASK, &ifr) == 0)
        prefix = __builtin_popcount (((struct sockaddr_in *)&ifr.ifr_netmask)->sin_addr.s_addr);
    }
  fprintf (out, "addr=%s/%d\n", addr, prefix);

  /* /proc/self/net is the reading task's namespace, whatever /proc's mount. */
  FILE *rt = fopen ("/proc/self/net/route", "re");
  char line[512];
  fprintf (out, "defroute=");
  while (rt && fgets (line, sizeof line, rt))
    {
      char dev[32];
      unsigned dst, gw, flags, mask;
      int refcnt, use, metric;
      if (sscanf (line, "%31s %x %x %x %d %d %d %x", dev, &dst, &gw, &flags, &refcnt, &use, &metric,
                  &mask)
              == 8
          && dst == 0 && mask == 0)
        {
          struct in_addr g = { .s_addr = gw };
          fprintf (out, "%s %s;", dev, inet_ntoa (g));
        }
    }
  fprintf (out, "\n");
  if (rt)
    fclose (rt);
  fclose (out);
  _exit (0);
}

static char *probe (int nsfd, const char *ifname)
{
  int p[2];
  assert_int_equal (pipe2 (p, O_CLOEXEC), 0);
  pid_t pid = fork ();
  assert_true (pid >= 0);
  if (pid == 0)
    {
      close (p[0]);
      probe_child (nsfd, ifname, p[1]);
    }
  close (p[1]);
  struct sbuf b;
  sbuf_init (&b);
  sbuf_addc (&b, '\n');
  char buf[1024];
  ssize_t r;
  while ((r = read (p[0], buf, sizeof buf)) > 0)
    sbuf_add (&b, buf, (size_t)r);
  close (p[0]);
  int st;
  assert_int_equal (waitpid (pid, &st, 0), pid);
  assert_true (WIFEXITED (st) && WEXITSTATUS (st) == 0);
  return sbuf_detach (&b);
}

/* The value of key in a probe report (a small ring of buffers, so several can be compared). */
static const char *kv (const char *rep, const char *key)
{
  static char ring[8][256];
  static int next;
  char *out = ring[next++ % 8];
  out[0] = '\0';
  char pat[64];
  snprintf (pat, sizeof pat, "\n%s=", key);
  const char *p = strstr (rep, pat);
  if (p)
    {
      p += strlen (pat);
      size_t n = strcspn (p, "\n");
      snprintf (out, 256, "%.*s", (int)n, p);
    }
  return out;
}

static bool flag_up (const char *flags) { return (strtoul (flags, NULL, 16) & IFF_UP) != 0; }

/* IPv4 addresses on ifname in this namespace, through glibc's getifaddrs. */
static int count_addrs (const char *ifname, const char *want, int *matches)
{
  struct ifaddrs *ifa;
  assert_int_equal (getifaddrs (&ifa), 0);
  int n = 0;
  *matches = 0;
  for (struct ifaddrs *i = ifa; i; i = i->ifa_next)
    {
      if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET || strcmp (i->ifa_name, ifname) != 0)
        continue;
      n++;
      char a[INET_ADDRSTRLEN];
      inet_ntop (AF_INET, &((struct sockaddr_in *)i->ifa_addr)->sin_addr, a, sizeof a);
      int prefix = __builtin_popcount (((struct sockaddr_in *)i->ifa_netmask)->sin_addr.s_addr);
      char both[64];
      snprintf (both, sizeof both, "%s/%d", a, prefix);
      if (strcmp (both, want) == 0)
        (*matches)++;
    }
  freeifaddrs (ifa);
  return n;
}

/* ---------- traffic ---------- */

static struct sockaddr_in sin_of (const char *ip, int port)
{
  struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons (port) };
  inet_pton (AF_INET, ip, &sa.sin_addr);
  return sa;
}

static void set_timeouts (int s)
{
  struct timeval tv = { .tv_sec = 5 };
  setsockopt (s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt (s, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

/* A child (in nsfd, or here for -1) that accepts one connection on ip:port, answers "pong:"
 * followed by what it read, and exits; returns once it listens. */
static pid_t listener_start (int nsfd, const char *ip, int port)
{
  int ready[2];
  assert_int_equal (pipe2 (ready, O_CLOEXEC), 0);
  pid_t pid = fork ();
  assert_true (pid >= 0);
  if (pid == 0)
    {
      close (ready[0]);
      if (nsfd >= 0 && setns (nsfd, CLONE_NEWNET) < 0)
        _exit (2);
      int s = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
      int one = 1;
      setsockopt (s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
      struct sockaddr_in sa = sin_of (ip, port);
      if (s < 0 || bind (s, (struct sockaddr *)&sa, sizeof sa) < 0 || listen (s, 1) < 0)
        _exit (3);
      if (write (ready[1], "r", 1) != 1)
        _exit (4);
      struct pollfd pfd = { .fd = s, .events = POLLIN };
      if (poll (&pfd, 1, 5000) != 1)
        _exit (5);
      int c = accept4 (s, NULL, NULL, SOCK_CLOEXEC);
      if (c < 0)
        _exit (6);
      set_timeouts (c);
      char buf[32] = "pong:";
      ssize_t r = read (c, buf + 5, sizeof buf - 6);
      if (r <= 0 || write (c, buf, 5 + (size_t)r) != 5 + r)
        _exit (7);
      close (c);
      _exit (0);
    }
  close (ready[1]);
  char c = 0;
  assert_int_equal (read (ready[0], &c, 1), 1);
  close (ready[0]);
  return pid;
}

/* 0 when a TCP exchange with ip:port from this process's namespace works. */
static int tcp_ping (const char *ip, int port)
{
  int s = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (s < 0)
    return 1;
  set_timeouts (s); /* connect() honours SO_SNDTIMEO */
  struct sockaddr_in sa = sin_of (ip, port);
  int rc = 0;
  char buf[32] = "";
  if (connect (s, (struct sockaddr *)&sa, sizeof sa) < 0)
    rc = 2;
  else if (write (s, "ping", 4) != 4)
    rc = 3;
  else if (read (s, buf, sizeof buf - 1) <= 0 || strcmp (buf, "pong:ping") != 0)
    rc = 4;
  close (s);
  return rc;
}

/* tcp_ping from inside nsfd (a forked child enters it). */
static int tcp_ping_from (int nsfd, const char *ip, int port)
{
  pid_t pid = fork ();
  assert_true (pid >= 0);
  if (pid == 0)
    {
      if (setns (nsfd, CLONE_NEWNET) < 0)
        _exit (10);
      _exit (tcp_ping (ip, port));
    }
  int st;
  assert_int_equal (waitpid (pid, &st, 0), pid);
  return WIFEXITED (st) ? WEXITSTATUS (st) : 99;
}

static void listener_wait (pid_t pid)
{
  int st;
  assert_int_equal (waitpid (pid, &st, 0), pid);
  assert_true (WIFEXITED (st));
  assert_int_equal (WEXITSTATUS (st), 0);
}

static void bridge_ok (const char *name, uint32_t gw, int prefix, int mtu)
{
  berr_t err = BERR_INIT;
  struct net_bridge_spec b = { .name = name, .gateway = gw, .prefix = prefix, .mtu = mtu };
  check_ok (net_bridge_up (&b, &err), &err);
}

static void bridge_gone (const char *name)
{
  berr_t err = BERR_INIT;
  check_ok (net_bridge_remove (name, &err), &err);
  assert_int_equal (if_nametoindex (name), 0);
}

static struct net_endpoint_spec endpoint (const char *bridge, const char *host, const char *ifname,
                                          uint32_t ip, uint32_t gw)
{
  struct net_endpoint_spec ep = {
    .bridge = bridge,
    .host_ifname = host,
    .ifname = ifname,
    .ip = ip,
    .prefix = 24,
    .gateway = gw,
  };
  net_mac_from_ip (ip, ep.mac);
  return ep;
}

/* ---------- tests ---------- */

static void test_mac (void **state)
{
  uint8_t mac[6];
  char s[18];
  net_mac_from_ip (IP4 (10, 88, 0, 5), mac);
  net_mac_format (mac, s);
  assert_string_equal (s, "02:42:0a:58:00:05");
  net_mac_from_ip (IP4 (172, 17, 255, 254), mac);
  net_mac_format (mac, s);
  assert_string_equal (s, "02:42:ac:11:ff:fe");

  uint8_t p[6];
  assert_int_equal (net_mac_parse ("02:42:AC:11:ff:Fe", p), 0);
  assert_memory_equal (p, mac, 6);
  assert_int_equal (net_mac_parse ("00:00:00:00:00:00", p), 0);
  assert_memory_equal (p, "\0\0\0\0\0\0", 6);

  uint8_t keep[6] = { 1, 2, 3, 4, 5, 6 };
  const char *bad[] = { "",
                        "02:42:ac:11:ff",
                        "02:42:ac:11:ff:fe:",
                        "02-42-ac-11-ff-fe",
                        "02:42:ac:11:ff:fg",
                        "2:42:ac:11:ff:fe0",
                        "02:42:ac:11:ff:f",
                        " 2:42:ac:11:ff:fe",
                        "02:42:ac:11:ff:fe\n" };
  for (size_t i = 0; i < ARRAY_SIZE (bad); i++)
    {
      memcpy (p, keep, 6);
      if (net_mac_parse (bad[i], p) != -1)
        fail_msg ("accepted '%s'", bad[i]);
      assert_memory_equal (p, keep, 6);
    }
  assert_int_equal (net_mac_parse (NULL, p), -1);
}

static void test_invalid_specs (void **state)
{
  berr_t err = BERR_INIT;
  struct net_bridge_spec b = { .name = "bad/name", .gateway = IP4 (10, 1, 0, 1), .prefix = 24 };
  assert_int_equal (net_bridge_up (&b, &err), -1);
  assert_int_equal (err.kind, BERR_INVALID);
  berr_release (&err);
  b.name = "sixteen-chars-xx";
  assert_int_equal (net_bridge_up (&b, &err), -1);
  assert_int_equal (err.kind, BERR_INVALID);
  berr_release (&err);
  b.name = "ok0";
  b.prefix = 33;
  assert_int_equal (net_bridge_up (&b, &err), -1);
  assert_int_equal (err.kind, BERR_INVALID);
  berr_release (&err);
  b.prefix = 24;
  b.gateway = 0;
  assert_int_equal (net_bridge_up (&b, &err), -1);
  assert_int_equal (err.kind, BERR_INVALID);
  berr_release (&err);

  struct net_endpoint_spec ep = endpoint ("br0", "vb0", "eth:0", IP4 (10, 1, 0, 2), 0);
  assert_int_equal (net_endpoints_setup (-1, &ep, 1, &err), -1);
  assert_int_equal (err.kind, BERR_INVALID);
  assert_non_null (strstr (err.msg, "eth:0"));
  berr_release (&err);
  assert_int_equal (net_endpoint_remove ("..", &err), -1);
  assert_int_equal (err.kind, BERR_INVALID);
  berr_release (&err);
  assert_int_equal (net_bridge_remove ("", &err), -1);
  berr_release (&err);
}

static void test_bridge_up_idempotent (void **state)
{
  if (skip_unless_ns ())
    return;
  write_file ("/proc/sys/net/ipv4/ip_forward", "0\n");
  bridge_ok ("nlt0", IP4 (10, 77, 0, 1), 24, 1400);
  bridge_ok ("nlt0", IP4 (10, 77, 0, 1), 24, 1400);

  int matches;
  assert_int_equal (count_addrs ("nlt0", "10.77.0.1/24", &matches), 1);
  assert_int_equal (matches, 1);
  char *rep = probe (-1, "nlt0");
  assert_string_equal (kv (rep, "exists"), "1");
  assert_true (flag_up (kv (rep, "flags")));
  assert_string_equal (kv (rep, "mtu"), "1400");
  assert_string_equal (kv (rep, "stp"), "0");
  assert_string_equal (kv (rep, "addr"), "10.77.0.1/24");
  free (rep);
  char *v = read_line ("/proc/sys/net/ipv4/conf/nlt0/route_localnet");
  assert_string_equal (v, "1");
  free (v);
  v = read_line ("/proc/sys/net/ipv4/ip_forward");
  assert_string_equal (v, "1");
  free (v);

  /* Whatever was undone behind its back is put back. */
  assert_int_equal (system ("ip link set nlt0 down && ip addr del 10.77.0.1/24 dev nlt0"), 0);
  write_file ("/proc/sys/net/ipv4/conf/nlt0/route_localnet", "0\n");
  bridge_ok ("nlt0", IP4 (10, 77, 0, 1), 24, 1400);
  assert_int_equal (count_addrs ("nlt0", "10.77.0.1/24", &matches), 1);
  assert_int_equal (matches, 1);
  rep = probe (-1, "nlt0");
  assert_true (flag_up (kv (rep, "flags")));
  free (rep);
  v = read_line ("/proc/sys/net/ipv4/conf/nlt0/route_localnet");
  assert_string_equal (v, "1");
  free (v);

  /* A second bridge keeps to itself. */
  bridge_ok ("nlt0b", IP4 (10, 77, 1, 1), 24, 0);
  assert_int_equal (count_addrs ("nlt0", "10.77.0.1/24", &matches), 1);
  assert_int_equal (count_addrs ("nlt0b", "10.77.1.1/24", &matches), 1);
  assert_int_equal (matches, 1);

  bridge_gone ("nlt0");
  bridge_gone ("nlt0b");
  bridge_gone ("nlt0"); /* absent: fine */
}

static void test_not_a_bridge (void **state)
{
  if (skip_unless_ns ())
    return;
  berr_t err = BERR_INIT;
  struct nl *n = NULL;
  check_ok (nl_open (&n, &err), &err);
  check_ok (nl_veth_create (n, "nlt1", "nlt1p", -1, 0, &err), &err);

  /* Creating it again names the pair and the kernel's reason. */
  assert_int_equal (nl_veth_create (n, "nlt1", "nlt1q", -1, 0, &err), -1);
  assert_string_equal (err.msg, "create veth nlt1 (peer nlt1q): File exists");
  assert_int_equal (err.errnum, EEXIST);
  assert_int_equal (err.kind, BERR_CONFLICT);
  berr_release (&err);

  struct net_bridge_spec b = { .name = "nlt1", .gateway = IP4 (10, 1, 0, 1), .prefix = 24 };
  assert_int_equal (net_bridge_up (&b, &err), -1);
  assert_int_equal (err.kind, BERR_CONFLICT);
  assert_non_null (strstr (err.msg, "not a bridge"));
  berr_release (&err);
  assert_int_equal (net_bridge_remove ("nlt1", &err), -1);
  berr_release (&err);
  assert_true (if_nametoindex ("nlt1") > 0);

  /* An endpoint's removal refuses anything but a veth. */
  bridge_ok ("nlt1br", IP4 (10, 1, 1, 1), 24, 0);
  assert_int_equal (net_endpoint_remove ("nlt1br", &err), -1);
  assert_int_equal (err.kind, BERR_CONFLICT);
  berr_release (&err);
  assert_true (if_nametoindex ("nlt1br") > 0);
  bridge_gone ("nlt1br");

  check_ok (net_endpoint_remove ("nlt1", &err), &err);
  assert_int_equal (if_nametoindex ("nlt1"), 0);
  assert_int_equal (if_nametoindex ("nlt1p"), 0);
  nl_close (n);
}

static void test_link_ops (void **state)
{
  if (skip_unless_ns ())
    return;
  berr_t err = BERR_INIT;
  struct nl *n = NULL;
  check_ok (nl_open (&n, &err), &err);
  assert_int_equal (nl_link_index (n, "lo"), (int)if_nametoindex ("lo"));
  assert_int_equal (nl_link_index (n, "nlt2nope"), 0);

  check_ok (nl_veth_create (n, "nlt2a", "nlt2b", -1, 1300, &err), &err);
  int a = nl_link_index (n, "nlt2a");
  int bi = nl_link_index (n, "nlt2b");
  assert_true (a > 0 && bi > 0 && a != bi);
  assert_int_equal (a, (int)if_nametoindex ("nlt2a"));
  assert_int_equal (bi, (int)if_nametoindex ("nlt2b"));
  char *rep = probe (-1, "nlt2b");
  assert_string_equal (kv (rep, "mtu"), "1300");
  assert_false (flag_up (kv (rep, "flags")));
  free (rep);

  uint8_t mac[6] = { 0x02, 0x42, 0x0a, 0x4f, 0x00, 0x09 };
  check_ok (nl_link_set_mac (n, bi, mac, &err), &err);
  check_ok (nl_link_set_mtu (n, bi, 1280, &err), &err);
  check_ok (nl_link_set_name (n, bi, "nlt2c", &err), &err);
  assert_int_equal (nl_link_index (n, "nlt2b"), 0);
  assert_int_equal (nl_link_index (n, "nlt2c"), bi);
  check_ok (nl_link_up (n, bi, &err), &err);
  check_ok (nl_addr_add (n, bi, IP4 (10, 79, 0, 9), 24, &err), &err);
  check_ok (nl_addr_add (n, bi, IP4 (10, 79, 0, 9), 24, &err), &err); /* present: fine */
  int matches;
  assert_int_equal (count_addrs ("nlt2c", "10.79.0.9/24", &matches), 1);
  assert_int_equal (matches, 1);
  rep = probe (-1, "nlt2c");
  assert_string_equal (kv (rep, "mac"), "02:42:0a:4f:00:09");
  assert_string_equal (kv (rep, "mtu"), "1280");
  assert_true (flag_up (kv (rep, "flags")));
  assert_string_equal (kv (rep, "addr"), "10.79.0.9/24");
  free (rep);

  bridge_ok ("nlt2br", IP4 (10, 79, 1, 1), 24, 0);
  int br = nl_link_index (n, "nlt2br");
  check_ok (nl_link_set_master (n, a, br, &err), &err);
  rep = probe (-1, "nlt2a");
  assert_string_equal (kv (rep, "master"), "nlt2br");
  free (rep);

  /* The route needs a link that is up with an address in the gateway's subnet. */
  check_ok (nl_route_add_default (n, bi, IP4 (10, 79, 0, 1), &err), &err);
  rep = probe (-1, "nlt2c");
  assert_string_equal (kv (rep, "defroute"), "nlt2c 10.79.0.1;");
  free (rep);
  assert_int_equal (nl_route_add_default (n, bi, IP4 (10, 79, 0, 1), &err), -1);
  assert_non_null (strstr (err.msg, "add default route via 10.79.0.1 on link"));
  assert_int_equal (err.errnum, EEXIST);
  berr_release (&err);

  /* Errors name the operation and carry the kernel's reason. */
  assert_int_equal (nl_link_set_mtu (n, 99999, 1500, &err), -1);
  assert_non_null (strstr (err.msg, "set MTU 1500 on link 99999: No such device"));
  berr_release (&err);
  assert_int_equal (nl_addr_add (n, 99999, IP4 (10, 79, 2, 1), 24, &err), -1);
  assert_non_null (strstr (err.msg, "add address 10.79.2.1/24 to link 99999"));
  berr_release (&err);

  check_ok (nl_link_del (n, "nlt2a", &err), &err);
  assert_int_equal (nl_link_index (n, "nlt2a"), 0);
  assert_int_equal (nl_link_index (n, "nlt2c"), 0); /* the peer went with it */
  check_ok (nl_link_del (n, "nlt2a", &err), &err);  /* absent: fine */
  nl_close (n);
  bridge_gone ("nlt2br");
}

static ino_t my_netns (void)
{
  struct stat st;
  assert_int_equal (stat ("/proc/thread-self/ns/net", &st), 0);
  return st.st_ino;
}

static void test_open_netns (void **state)
{
  if (skip_unless_ns ())
    return;
  berr_t err = BERR_INIT;
  ino_t before = my_netns ();
  struct peer_ns p;
  peer_ns_make (&p);

  struct nl *pn = NULL;
  check_ok (nl_open_netns (p.nsfd, &pn, &err), &err);
  assert_true (my_netns () == before);
  /* A link made through it exists there and not here. */
  check_ok (nl_veth_create (pn, "nlt3a", "nlt3b", -1, 0, &err), &err);
  assert_true (nl_link_index (pn, "nlt3a") > 0);
  assert_int_equal (if_nametoindex ("nlt3a"), 0);
  char *rep = probe (p.nsfd, "nlt3a");
  assert_string_equal (kv (rep, "links"), "lo,nlt3a,nlt3b");
  free (rep);
  nl_close (pn);

  /* Not a namespace: refused, and this thread stays where it was. */
  int fd = open ("/dev/null", O_RDONLY | O_CLOEXEC);
  assert_int_equal (nl_open_netns (fd, &pn, &err), -1);
  assert_non_null (strstr (err.msg, "enter network namespace"));
  berr_release (&err);
  close (fd);
  assert_true (my_netns () == before);
  peer_ns_release (&p);
}

static void test_endpoint_setup_and_traffic (void **state)
{
  if (skip_unless_ns ())
    return;
  berr_t err = BERR_INIT;
  bridge_ok ("nlt4", IP4 (10, 78, 0, 1), 24, 0);
  struct peer_ns p;
  peer_ns_make (&p);

  struct net_endpoint_spec ep
      = endpoint ("nlt4", "vbnlt4a", "eth0", IP4 (10, 78, 0, 2), IP4 (10, 78, 0, 1));
  check_ok (net_endpoints_setup (p.nsfd, &ep, 1, &err), &err);

  char *rep = probe (-1, "vbnlt4a");
  assert_string_equal (kv (rep, "exists"), "1");
  assert_true (flag_up (kv (rep, "flags")));
  assert_string_equal (kv (rep, "master"), "nlt4");
  assert_string_equal (kv (rep, "hairpin"), "1");
  assert_string_equal (kv (rep, "mtu"), "1500");
  free (rep);

  rep = probe (p.nsfd, "eth0");
  assert_string_equal (kv (rep, "links"), "eth0,lo");
  assert_string_equal (kv (rep, "mac"), "02:42:0a:4e:00:02");
  assert_string_equal (kv (rep, "addr"), "10.78.0.2/24");
  assert_string_equal (kv (rep, "mtu"), "1500");
  assert_true (flag_up (kv (rep, "flags")));
  assert_true (flag_up (kv (rep, "lo_flags")));
  assert_string_equal (kv (rep, "defroute"), "eth0 10.78.0.1;");
  free (rep);

  /* Host to container over the bridge. */
  pid_t l = listener_start (p.nsfd, "10.78.0.2", 7000);
  assert_int_equal (tcp_ping ("10.78.0.2", 7000), 0);
  listener_wait (l);
  /* Container to an address of the host outside its subnet: only the default route gets it
   * there (the address is in the test's private namespace). */
  struct nl *n = NULL;
  check_ok (nl_open (&n, &err), &err);
  check_ok (nl_addr_add (n, nl_link_index (n, "nlt4"), IP4 (198, 18, 0, 1), 32, &err), &err);
  nl_close (n);
  l = listener_start (-1, "198.18.0.1", 7001);
  assert_int_equal (tcp_ping_from (p.nsfd, "198.18.0.1", 7001), 0);
  listener_wait (l);

  /* The same endpoint twice: the kernel's refusal, named. */
  assert_int_equal (net_endpoints_setup (p.nsfd, &ep, 1, &err), -1);
  assert_non_null (strstr (err.msg, "create veth vbnlt4a (peer eth0): File exists"));
  berr_release (&err);
  assert_true (if_nametoindex ("vbnlt4a") > 0); /* not ours to delete */

  check_ok (net_endpoint_remove ("vbnlt4a", &err), &err);
  assert_int_equal (if_nametoindex ("vbnlt4a"), 0);
  rep = probe (p.nsfd, "eth0");
  assert_string_equal (kv (rep, "links"), "lo");
  free (rep);
  check_ok (net_endpoint_remove ("vbnlt4a", &err), &err); /* absent: fine */
  peer_ns_release (&p);
  bridge_gone ("nlt4");
}

static void test_endpoints_multi (void **state)
{
  if (skip_unless_ns ())
    return;
  berr_t err = BERR_INIT;
  bridge_ok ("nlt5a", IP4 (10, 80, 0, 1), 24, 0);
  bridge_ok ("nlt5b", IP4 (10, 80, 1, 1), 24, 9000);
  struct peer_ns p;
  peer_ns_make (&p);

  /* A pidfd works as well as a namespace fd, where the kernel has them. */
  int fd = -1;
#ifdef SYS_pidfd_open
  fd = (int)syscall (SYS_pidfd_open, p.pid, 0);
#endif
  bool pidfd = fd >= 0;
  if (!pidfd)
    fd = p.nsfd;

  struct net_endpoint_spec eps[3] = {
    endpoint ("nlt5a", "vbnlt5a", "eth0", IP4 (10, 80, 0, 2), 0),
    endpoint ("nlt5b", "vbnlt5b", "eth1", IP4 (10, 80, 1, 2), IP4 (10, 80, 1, 1)),
    endpoint ("nlt5a", "vbnlt5c", "eth2", IP4 (10, 80, 0, 3), IP4 (10, 80, 0, 1)),
  };
  eps[0].mtu = 1400;
  check_ok (net_endpoints_setup (fd, eps, 3, &err), &err);
  if (pidfd)
    close (fd);

  char *rep = probe (p.nsfd, "eth0");
  assert_string_equal (kv (rep, "links"), "eth0,eth1,eth2,lo");
  assert_string_equal (kv (rep, "mtu"), "1400");
  assert_string_equal (kv (rep, "addr"), "10.80.0.2/24");
  /* The first endpoint with a gateway gives the only default route. */
  assert_string_equal (kv (rep, "defroute"), "eth1 10.80.1.1;");
  free (rep);
  rep = probe (p.nsfd, "eth1");
  assert_string_equal (kv (rep, "mtu"), "9000"); /* the bridge's */
  assert_string_equal (kv (rep, "mac"), "02:42:0a:50:01:02");
  free (rep);
  rep = probe (-1, "vbnlt5c");
  assert_string_equal (kv (rep, "master"), "nlt5a");
  assert_string_equal (kv (rep, "hairpin"), "1");
  free (rep);

  /* Both containers' sides of one bridge reach each other through it. */
  pid_t l = listener_start (p.nsfd, "10.80.0.3", 7002);
  assert_int_equal (tcp_ping ("10.80.0.3", 7002), 0);
  listener_wait (l);

  for (int i = 0; i < 3; i++)
    check_ok (net_endpoint_remove (eps[i].host_ifname, &err), &err);
  peer_ns_release (&p);
  bridge_gone ("nlt5a");
  bridge_gone ("nlt5b");
}

static void test_endpoints_none (void **state)
{
  if (skip_unless_ns ())
    return;
  berr_t err = BERR_INIT;
  struct peer_ns p;
  peer_ns_make (&p);
  char *rep = probe (p.nsfd, "lo");
  assert_false (flag_up (kv (rep, "lo_flags")));
  free (rep);
  check_ok (net_endpoints_setup (p.nsfd, NULL, 0, &err), &err);
  rep = probe (p.nsfd, "lo");
  assert_string_equal (kv (rep, "links"), "lo");
  assert_true (flag_up (kv (rep, "lo_flags")));
  assert_string_equal (kv (rep, "addr"), "127.0.0.1/8");
  free (rep);
  peer_ns_release (&p);
}

static void test_endpoints_failure_cleanup (void **state)
{
  if (skip_unless_ns ())
    return;
  berr_t err = BERR_INIT;
  bridge_ok ("nlt6", IP4 (10, 81, 0, 1), 24, 0);
  struct peer_ns p;
  peer_ns_make (&p);

  /* The second endpoint's bridge is missing: the first one's host end goes too. */
  struct net_endpoint_spec eps[2] = {
    endpoint ("nlt6", "vbnlt6a", "eth0", IP4 (10, 81, 0, 2), IP4 (10, 81, 0, 1)),
    endpoint ("nlt6gone", "vbnlt6b", "eth1", IP4 (10, 81, 1, 2), 0),
  };
  assert_int_equal (net_endpoints_setup (p.nsfd, eps, 2, &err), -1);
  assert_int_equal (err.kind, BERR_NOT_FOUND);
  assert_non_null (strstr (err.msg, "nlt6gone"));
  berr_release (&err);
  assert_int_equal (if_nametoindex ("vbnlt6a"), 0);
  assert_int_equal (if_nametoindex ("vbnlt6b"), 0);
  char *rep = probe (p.nsfd, "eth0");
  assert_string_equal (kv (rep, "links"), "lo");
  free (rep);

  /* Two endpoints wanting the same name inside: the second fails after its veth could not be
   * made, and the first is removed. */
  eps[1] = endpoint ("nlt6", "vbnlt6b", "eth0", IP4 (10, 81, 0, 3), 0);
  assert_int_equal (net_endpoints_setup (p.nsfd, eps, 2, &err), -1);
  assert_non_null (strstr (err.msg, "create veth vbnlt6b (peer eth0): File exists"));
  berr_release (&err);
  assert_int_equal (if_nametoindex ("vbnlt6a"), 0);
  assert_int_equal (if_nametoindex ("vbnlt6b"), 0);

  /* A failure after the veth exists (an address the kernel refuses) removes that one too. */
  eps[1] = endpoint ("nlt6", "vbnlt6b", "eth1", IP4 (10, 81, 0, 4), 0);
  eps[1].prefix = 32;
  eps[1].gateway = 0;
  eps[0].gateway = IP4 (10, 99, 0, 1); /* unreachable from 10.81.0.2/24 */
  assert_int_equal (net_endpoints_setup (p.nsfd, eps, 2, &err), -1);
  assert_non_null (strstr (err.msg, "add default route via 10.99.0.1"));
  berr_release (&err);
  assert_int_equal (if_nametoindex ("vbnlt6a"), 0);
  rep = probe (p.nsfd, "eth0");
  assert_string_equal (kv (rep, "links"), "lo");
  free (rep);

  peer_ns_release (&p);
  bridge_gone ("nlt6");
}

static void test_timing (void **state)
{
  if (skip_unless_ns ())
    return;
  berr_t err = BERR_INIT;
  struct net_bridge_spec b = { .name = "nlt7", .gateway = IP4 (10, 82, 0, 1), .prefix = 16 };
  int64_t t0 = mono_ns ();
  check_ok (net_bridge_up (&b, &err), &err);
  int64_t create_ns = mono_ns () - t0;
  enum
  {
    ROUNDS = 500
  };
  t0 = mono_ns ();
  for (int i = 0; i < ROUNDS; i++)
    check_ok (net_bridge_up (&b, &err), &err);
  int64_t fast_ns = (mono_ns () - t0) / ROUNDS;
  int matches;
  assert_int_equal (count_addrs ("nlt7", "10.82.0.1/16", &matches), 1);

  /* One endpoint per fresh namespace, as a container start does; then eight in one. */
  enum
  {
    ONE = 20,
    MANY = 8
  };
  int64_t one_total = 0;
  for (int i = 0; i < ONE; i++)
    {
      struct peer_ns p;
      peer_ns_make (&p);
      char host[16];
      snprintf (host, sizeof host, "vbnlt7x%d", i);
      struct net_endpoint_spec ep
          = endpoint ("nlt7", host, "eth0", IP4 (10, 82, 1, 2 + i), IP4 (10, 82, 0, 1));
      ep.prefix = 16;
      t0 = mono_ns ();
      check_ok (net_endpoints_setup (p.nsfd, &ep, 1, &err), &err);
      one_total += mono_ns () - t0;
      check_ok (net_endpoint_remove (host, &err), &err);
      peer_ns_release (&p);
    }
  struct peer_ns p;
  peer_ns_make (&p);
  struct net_endpoint_spec eps[MANY];
  char names[MANY][16], inner[MANY][16];
  for (int i = 0; i < MANY; i++)
    {
      snprintf (names[i], sizeof names[i], "vbnlt7m%d", i);
      snprintf (inner[i], sizeof inner[i], "eth%d", i);
      eps[i] = endpoint ("nlt7", names[i], inner[i], IP4 (10, 82, 2, 2 + i), IP4 (10, 82, 0, 1));
      eps[i].prefix = 16;
    }
  t0 = mono_ns ();
  check_ok (net_endpoints_setup (p.nsfd, eps, MANY, &err), &err);
  int64_t many_ns = mono_ns () - t0;
  t0 = mono_ns ();
  for (int i = 0; i < MANY; i++)
    check_ok (net_endpoint_remove (names[i], &err), &err);
  int64_t remove_ns = (mono_ns () - t0) / MANY;
  peer_ns_release (&p);
  bridge_gone ("nlt7");

  fprintf (stderr,
           "# timing: bridge create %.0f us, bridge_up fast path %.1f us (mean of %d); "
           "endpoint setup %.0f us (1 per namespace, mean of %d), %.0f us per endpoint (%d in "
           "one namespace); endpoint remove %.0f us\n",
           create_ns / 1e3, fast_ns / 1e3, ROUNDS, one_total / 1e3 / ONE, ONE, many_ns / 1e3 / MANY,
           MANY, remove_ns / 1e3);
}

static int group_setup (void **state)
{
  if (geteuid () != 0)
    return 0;
  if (unshare (CLONE_NEWNET) < 0)
    {
      fprintf (stderr, "# unshare(CLONE_NEWNET): %s\n", strerror (errno));
      return 0;
    }
  have_ns = true;
  return 0;
}

int main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_mac),
    cmocka_unit_test (test_invalid_specs),
    cmocka_unit_test (test_bridge_up_idempotent),
    cmocka_unit_test (test_not_a_bridge),
    cmocka_unit_test (test_link_ops),
    cmocka_unit_test (test_open_netns),
    cmocka_unit_test (test_endpoint_setup_and_traffic),
    cmocka_unit_test (test_endpoints_multi),
    cmocka_unit_test (test_endpoints_none),
    cmocka_unit_test (test_endpoints_failure_cleanup),
    cmocka_unit_test (test_timing),
  };
  return cmocka_run_group_tests (tests, group_setup, NULL);
}
