/* test_nft.c — berth's nftables table: the rendered text, applying it, and real traffic.
 *
 * Everything that touches the kernel runs in private network namespaces (the test process
 * unshares its own at start, as root; otherwise those tests skip): the test's namespace plays the
 * host, with a bridge; a "container" namespace hangs off the bridge by a veth; a "LAN peer"
 * namespace is joined to the host by another veth.  Every wait is bounded. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <nftables/libnftables.h>

#include "net/lazynft.h"
#include "net/nft.h"
#include "util/util.h"

static bool in_netns; /* root, and the private namespace is ours */

#define SKIP_UNLESS_NETNS()                                                                        \
  do                                                                                               \
    {                                                                                              \
      if (!in_netns)                                                                               \
        {                                                                                          \
          printf ("# skipped: needs root for a private network namespace\n");                      \
          skip ();                                                                                 \
        }                                                                                          \
    }                                                                                              \
  while (0)

static uint32_t A (const char *s)
{
  struct in_addr a;
  if (inet_pton (AF_INET, s, &a) != 1)
    fail_msg ("bad address %s", s);
  return ntohl (a.s_addr);
}

static int64_t mono_us (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* ================= rendering ================= */

static const struct nft_network golden_nets[] = {
  { "br-0123456789ab", 0, 24, true }, /* subnet filled in at run time */
  { "berth0", 0, 16, false },
};

static struct nft_port golden_ports[] = {
  { "tcp", 0, 8080, 0, 80, "berth0" },
  { "udp", 0, 5353, 0, 53, "berth0" },
  { "tcp", 0, 8002, 0, 8002, "berth0" }, /* a range, given out of order */
  { "tcp", 0, 8000, 0, 8000, "berth0" },
  { "tcp", 0, 8001, 0, 8001, "berth0" },
  { "tcp", 0, 8081, 0, 80, "berth0" },            /* 127.0.0.1 */
  { "tcp", 0, 9000, 0, 9001, "berth0" },          /* a specific host address */
  { "sctp", 0, 7000, 0, 7000, "berth0" },         /* */
  { "tcp", 0, 6000, 0, 6000, "br-0123456789ab" }, /* internal: not published */
};

static void golden_model (struct nft_model *m, struct nft_network *nets, struct nft_port *ports)
{
  memcpy (nets, golden_nets, sizeof golden_nets);
  nets[0].subnet = A ("10.89.3.0");
  nets[1].subnet = A ("10.88.0.0");
  memcpy (ports, golden_ports, sizeof golden_ports);
  const char *ctr[] = { "10.88.0.2", "10.88.0.3", "10.88.0.3", "10.88.0.3", "10.88.0.3",
                        "10.88.0.2", "10.88.0.3", "10.88.0.4", "10.89.3.2" };
  for (size_t i = 0; i < ARRAY_SIZE (golden_ports); i++)
    ports[i].ctr_ip = A (ctr[i]);
  ports[5].host_ip = A ("127.0.0.1");
  ports[6].host_ip = A ("192.168.1.10");
  m->table = "berth-test";
  m->networks = nets;
  m->nnetworks = ARRAY_SIZE (golden_nets);
  m->ports = ports;
  m->nports = ARRAY_SIZE (golden_ports);
}

/* What nft_render must produce for the golden model, and (from "table" on) exactly what
 * `nft list table` prints back once it is applied. */
static const char golden_text[]
    = "add table ip berth-test\n"
      "delete table ip berth-test\n"
      "table ip berth-test {\n"
      "\tchain prerouting {\n"
      "\t\ttype nat hook prerouting priority dstnat; policy accept;\n"
      "\t\tip daddr != 127.0.0.0/8 fib daddr type local jump ports\n"
      "\t}\n"
      "\n"
      "\tchain output {\n"
      "\t\ttype nat hook output priority -100; policy accept;\n"
      "\t\tfib daddr type local jump ports\n"
      "\t}\n"
      "\n"
      "\tchain ports {\n"
      "\t\tsctp dport 7000 dnat to 10.88.0.4:7000\n"
      "\t\ttcp dport 8080 dnat to 10.88.0.2:80\n"
      "\t\ttcp dport 8000-8002 dnat to 10.88.0.3\n"
      "\t\tip daddr 127.0.0.1 tcp dport 8081 dnat to 10.88.0.2:80\n"
      "\t\tip daddr 192.168.1.10 tcp dport 9000 dnat to 10.88.0.3:9001\n"
      "\t\tudp dport 5353 dnat to 10.88.0.3:53\n"
      "\t}\n"
      "\n"
      "\tchain postrouting {\n"
      "\t\ttype nat hook postrouting priority srcnat; policy accept;\n"
      "\t\toifname != \"berth0\" ip saddr 10.88.0.0/16 masquerade\n"
      "\t\toifname \"berth0\" ip saddr 127.0.0.0/8 masquerade\n"
      "\t\toifname \"berth0\" ip saddr 10.88.0.0/16 ct status dnat masquerade\n"
      "\t}\n"
      "\n"
      "\tchain forward {\n"
      "\t\ttype filter hook forward priority filter; policy accept;\n"
      "\t\tiifname \"berth0\" oifname \"berth0\" accept\n"
      "\t\tiifname \"br-0123456789ab\" oifname \"br-0123456789ab\" accept\n"
      "\t\tiifname \"br-0123456789ab\" drop\n"
      "\t\toifname \"br-0123456789ab\" drop\n"
      "\t\toifname \"berth0\" ct state established,related accept\n"
      "\t\toifname \"berth0\" ct status dnat accept\n"
      "\t\toifname \"berth0\" drop\n"
      "\t}\n"
      "}\n";

static void test_render_golden (void **state)
{
  (void)state;
  struct nft_model m;
  struct nft_network nets[ARRAY_SIZE (golden_nets)];
  struct nft_port ports[ARRAY_SIZE (golden_ports)];
  golden_model (&m, nets, ports);
  cleanup_free char *text = nft_render (&m);
  assert_string_equal (text, golden_text);
  /* deterministic: the same model in another order gives the same text */
  struct nft_network rn[ARRAY_SIZE (golden_nets)];
  struct nft_port rp[ARRAY_SIZE (golden_ports)];
  for (size_t i = 0; i < ARRAY_SIZE (golden_nets); i++)
    rn[i] = nets[ARRAY_SIZE (golden_nets) - 1 - i];
  for (size_t i = 0; i < ARRAY_SIZE (golden_ports); i++)
    rp[i] = ports[ARRAY_SIZE (golden_ports) - 1 - i];
  struct nft_model r = m;
  r.networks = rn;
  r.ports = rp;
  cleanup_free char *again = nft_render (&r);
  assert_string_equal (again, golden_text);
  /* the model's own arrays are left as they were */
  assert_int_equal (ports[2].host_port, 8002);

  /* a subnet given with host bits is cut to its network; a /32 prints bare */
  struct nft_network one = { "b1", A ("10.1.2.3"), 24, false };
  struct nft_network host = { "b2", A ("10.1.2.3"), 32, false };
  struct nft_network two[] = { one, host };
  struct nft_model m2 = { "t", two, 2, NULL, 0 };
  cleanup_free char *t2 = nft_render (&m2);
  assert_non_null (strstr (t2, "oifname != \"b1\" ip saddr 10.1.2.0/24 masquerade\n"));
  assert_non_null (strstr (t2, "oifname != \"b2\" ip saddr 10.1.2.3 masquerade\n"));
  assert_non_null (strstr (t2, "\tchain ports {\n\t}\n"));

  /* an empty model renders the deletion only */
  struct nft_model empty = { "berth", NULL, 0, NULL, 0 };
  cleanup_free char *t3 = nft_render (&empty);
  assert_string_equal (t3, "add table ip berth\ndelete table ip berth\n");
}

/* A run of equal host and container ports shares a rule; anything else does not. */
static void test_render_ranges (void **state)
{
  (void)state;
  struct nft_network net = { "bt0", A ("10.0.0.0"), 24, false };
  struct nft_port p[] = {
    { "tcp", 0, 100, A ("10.0.0.2"), 100, "bt0" },
    { "tcp", 0, 101, A ("10.0.0.2"), 101, "bt0" },
    { "tcp", 0, 102, A ("10.0.0.3"), 102, "bt0" }, /* another container */
    { "tcp", 0, 200, A ("10.0.0.2"), 300, "bt0" }, /* offset: one rule each */
    { "tcp", 0, 201, A ("10.0.0.2"), 301, "bt0" },
    { "udp", 0, 103, A ("10.0.0.2"), 103, "bt0" }, /* another protocol */
    { "tcp", A ("127.0.0.1"), 104, A ("10.0.0.2"), 104, "bt0" },
    { "tcp", A ("127.0.0.1"), 105, A ("10.0.0.2"), 105, "bt0" },
    { "tcp", 0, 107, A ("10.0.0.2"), 107, "bt0" }, /* a gap */
  };
  struct nft_model m = { "t", &net, 1, p, ARRAY_SIZE (p) };
  cleanup_free char *t = nft_render (&m);
  const char *want = "\tchain ports {\n"
                     "\t\ttcp dport 100-101 dnat to 10.0.0.2\n"
                     "\t\ttcp dport 107 dnat to 10.0.0.2:107\n"
                     "\t\ttcp dport 200 dnat to 10.0.0.2:300\n"
                     "\t\ttcp dport 201 dnat to 10.0.0.2:301\n"
                     "\t\ttcp dport 102 dnat to 10.0.0.3:102\n"
                     "\t\tip daddr 127.0.0.1 tcp dport 104-105 dnat to 10.0.0.2\n"
                     "\t\tudp dport 103 dnat to 10.0.0.2:103\n"
                     "\t}\n";
  assert_non_null (strstr (t, want));
}

static void test_model_errors (void **state)
{
  (void)state;
  berr_t err = BERR_INIT;
  struct nft_network bad = { "x\" accept", A ("10.0.0.0"), 24, false };
  struct nft_model m = { "berth", &bad, 1, NULL, 0 };
  assert_int_equal (nft_sync (&m, &err), -1);
  assert_string_equal (err.msg, "invalid bridge name 'x\" accept'");
  assert_int_equal (err.kind, BERR_INVALID);
  berr_release (&err);
  struct nft_network ok = { "bt0", A ("10.0.0.0"), 24, false };
  m.networks = &ok;
  m.table = "a b";
  assert_int_equal (nft_sync (&m, &err), -1);
  assert_string_equal (err.msg, "invalid nftables table name 'a b'");
  berr_release (&err);
  assert_int_equal (nft_remove_table ("x;y", &err), -1);
  berr_release (&err);
  m.table = "berth";
  struct nft_port p = { "icmp", 0, 80, A ("10.0.0.2"), 80, "bt0" };
  m.ports = &p;
  m.nports = 1;
  assert_int_equal (nft_sync (&m, &err), -1);
  assert_string_equal (err.msg, "invalid protocol 'icmp'");
  berr_release (&err);
  ok.prefix = 0;
  m.nports = 0;
  assert_int_equal (nft_sync (&m, &err), -1);
  assert_string_equal (err.msg, "invalid prefix length 0 for bt0");
  berr_release (&err);
}

/* ================= applying ================= */

static int count_fds (void)
{
  int n = 0;
  DIR *d = opendir ("/proc/self/fd");
  struct dirent *e;
  while (d && (e = readdir (d)))
    n += e->d_name[0] != '.';
  if (d)
    closedir (d);
  return n;
}

/* `nft <cmd>` through libnftables, its output returned (NULL on error, printed). */
static char *nft_cmd (const char *cmd)
{
  berr_t err = BERR_INIT;
  if (lazy_nft_load (&err) < 0)
    fail_msg ("%s", err.msg);
  struct nft_ctx *ctx = nft_ctx_new (NFT_CTX_DEFAULT);
  nft_ctx_buffer_output (ctx);
  nft_ctx_buffer_error (ctx);
  char *out = NULL;
  if (nft_run_cmd_from_buffer (ctx, cmd) == 0)
    out = xstrdup (nft_ctx_get_output_buffer (ctx));
  else
    printf ("# nft %s: %s\n", cmd, nft_ctx_get_error_buffer (ctx));
  nft_ctx_free (ctx);
  return out;
}

static int cmp_i64 (const void *a, const void *b)
{
  int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
  return x < y ? -1 : x > y;
}

/* Run first: a process that has not loaded libnftables yet, where it cannot be loaded, gets an
 * ordinary error.  (The library is hidden with a bind mount in a private mount namespace.) */
static void test_missing_library (void **state)
{
  (void)state;
  SKIP_UNLESS_NETNS ();
  static const char *dirs[] = { "/usr/lib/x86_64-linux-gnu", "/lib/x86_64-linux-gnu", "/usr/lib64",
                                "/usr/lib", "/usr/lib/aarch64-linux-gnu" };
  char real[PATH_MAX] = "";
  for (size_t i = 0; i < ARRAY_SIZE (dirs) && !real[0]; i++)
    {
      cleanup_free char *p = xasprintf ("%s/libnftables.so.1", dirs[i]);
      if (realpath (p, real) == NULL)
        real[0] = '\0';
    }
  if (!real[0])
    {
      printf ("# skipped: libnftables.so.1 not found in the usual directories\n");
      skip ();
    }
  pid_t pid = fork ();
  assert_true (pid >= 0);
  if (pid == 0)
    {
      berr_t err = BERR_INIT;
      struct nft_network n = { "bt0", A ("10.0.0.0"), 24, false };
      struct nft_model m = { "berth", &n, 1, NULL, 0 };
      if (unshare (CLONE_NEWNS) < 0 || mount (NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0
          || mount ("/dev/null", real, NULL, MS_BIND, NULL) < 0)
        _exit (2);
      if (nft_sync (&m, &err) != -1 || strstr (err.msg, ": cannot load libnftables.so.1: ") == NULL)
        {
          printf ("# got: %s\n", err.msg ? err.msg : "success");
          fflush (stdout);
          _exit (3);
        }
      printf ("# without the library: %s\n", err.msg);
      fflush (stdout);
      _exit (0);
    }
  int st;
  assert_int_equal (waitpid (pid, &st, 0), pid);
  assert_true (WIFEXITED (st));
  assert_int_equal (WEXITSTATUS (st), 0);
}

static void test_apply_list (void **state)
{
  (void)state;
  SKIP_UNLESS_NETNS ();
  struct nft_model m;
  struct nft_network nets[ARRAY_SIZE (golden_nets)];
  struct nft_port ports[ARRAY_SIZE (golden_ports)];
  golden_model (&m, nets, ports);
  berr_t err = BERR_INIT;
  int fds0 = count_fds ();

  int64_t t0 = mono_us ();
  if (nft_sync (&m, &err) < 0)
    fail_msg ("%s", err.msg);
  int64_t first = mono_us () - t0;
  cleanup_free char *listed = nft_cmd ("list table ip berth-test");
  assert_non_null (listed);
  /* the kernel holds exactly what was rendered */
  assert_string_equal (listed, strstr (golden_text, "table ip berth-test {"));

  /* replacing is idempotent, and warm: spaced like separate commands (back to back, each commit
   * first waits for the kernel to free what the previous one deleted, an RCU grace period) */
  int64_t warm[9];
  for (size_t i = 0; i < ARRAY_SIZE (warm); i++)
    {
      usleep (50000);
      t0 = mono_us ();
      assert_int_equal (nft_sync (&m, &err), 0);
      warm[i] = mono_us () - t0;
    }
  qsort (warm, ARRAY_SIZE (warm), sizeof *warm, cmp_i64);
  printf ("# nft_sync (golden model, %zu rules of ports): first %lld us (loads libnftables), "
          "warm median %lld us\n",
          m.nports, (long long)first, (long long)warm[ARRAY_SIZE (warm) / 2]);
  cleanup_free char *again = nft_cmd ("list table ip berth-test");
  assert_string_equal (again, listed);
  /* the socket's last close was handed to an orphan: no fd and no child of ours remain */
  assert_int_equal (count_fds (), fds0);
  assert_int_equal (waitpid (-1, NULL, WNOHANG), -1);
  assert_int_equal (errno, ECHILD);

  /* a changed model replaces the old table wholesale */
  m.nports = 2;
  assert_int_equal (nft_sync (&m, &err), 0);
  cleanup_free char *fewer = nft_cmd ("list table ip berth-test");
  assert_non_null (strstr (fewer, "tcp dport 8080 dnat to 10.88.0.2:80"));
  assert_null (strstr (fewer, "8000-8002"));

  /* other tables are never touched */
  cleanup_free char *o = nft_cmd ("add table ip other\nadd chain ip other c");
  assert_non_null (o);

  /* nft's own message comes back on error, from the kernel or from nft's parser (the "Error:"
   * lines only), and a failed script changes nothing */
  assert_int_equal (
      nft_apply ("add table ip berth-test\nadd rule ip berth-test nochain accept", &err), -1);
  assert_string_equal (err.msg, "nftables: Could not process rule: No such file or directory");
  berr_release (&err);
  assert_int_equal (nft_apply ("delete table ip berth-test\nbogus", &err), -1);
  assert_string_equal (err.msg, "nftables: syntax error, unexpected newline, expecting string");
  berr_release (&err);
  cleanup_free char *still = nft_cmd ("list table ip berth-test");
  assert_string_equal (still, fewer);

  /* the empty model deletes the table; deleting again is fine */
  struct nft_model empty = { "berth-test", NULL, 0, NULL, 0 };
  assert_int_equal (nft_sync (&empty, &err), 0);
  cleanup_free char *tables = nft_cmd ("list tables");
  assert_null (strstr (tables, "berth-test"));
  assert_non_null (strstr (tables, "table ip other"));
  assert_int_equal (nft_remove_table ("berth-test", &err), 0);
  assert_int_equal (nft_sync (&empty, &err), 0);
  /* and nft_remove_table removes a table that is there */
  m.nports = 0;
  assert_int_equal (nft_sync (&m, &err), 0);
  assert_int_equal (nft_remove_table ("berth-test", &err), 0);
  cleanup_free char *tables2 = nft_cmd ("list tables");
  assert_null (strstr (tables2, "berth-test"));
  cleanup_free char *d = nft_cmd ("delete table ip other");
  assert_non_null (d);
}

/* ================= traffic ================= */

static int sh (const char *fmt, ...) PRINTF_LIKE (1, 2);
static int sh (const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  cleanup_free char *cmd = xvasprintf (fmt, ap);
  va_end (ap);
  int r = system (cmd);
  if (r != 0)
    printf ("# command failed (%d): %s\n", r, cmd);
  return r;
}

/* Read one byte with a timeout; true when it came. */
static bool wait_byte (int fd, int ms)
{
  struct pollfd p = { fd, POLLIN, 0 };
  char c;
  return poll (&p, 1, ms) == 1 && read (fd, &c, 1) == 1;
}

static int enter_netns (pid_t holder)
{
  if (holder == 0)
    return 0;
  char path[64];
  snprintf (path, sizeof path, "/proc/%d/ns/net", (int)holder);
  int fd = open (path, O_RDONLY | O_CLOEXEC);
  if (fd < 0 || setns (fd, CLONE_NEWNET) < 0)
    return -1;
  close (fd);
  return 0;
}

/* A process holding a new network namespace (with loopback up) until it is killed. */
static pid_t netns_holder (void)
{
  int p[2];
  if (pipe2 (p, O_CLOEXEC) < 0)
    return -1;
  pid_t pid = fork ();
  if (pid == 0)
    {
      prctl (PR_SET_PDEATHSIG, SIGKILL);
      close (p[0]);
      if (unshare (CLONE_NEWNET) < 0 || system ("ip link set lo up") != 0)
        _exit (1);
      (void)!write (p[1], "x", 1);
      for (;;)
        pause ();
    }
  close (p[1]);
  bool ok = wait_byte (p[0], 5000);
  close (p[0]);
  if (!ok)
    {
      kill (pid, SIGKILL);
      waitpid (pid, NULL, 0);
      return -1;
    }
  return pid;
}

/* Run a shell command inside holder's namespace. */
static int sh_in (pid_t holder, const char *fmt, ...) PRINTF_LIKE (2, 3);
static int sh_in (pid_t holder, const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  cleanup_free char *cmd = xvasprintf (fmt, ap);
  va_end (ap);
  pid_t pid = fork ();
  if (pid == 0)
    {
      if (enter_netns (holder) < 0)
        _exit (126);
      execl ("/bin/sh", "sh", "-c", cmd, (char *)NULL);
      _exit (127);
    }
  int st = -1;
  waitpid (pid, &st, 0);
  if (!WIFEXITED (st) || WEXITSTATUS (st) != 0)
    {
      printf ("# command failed in netns of %d: %s\n", (int)holder, cmd);
      return -1;
    }
  return 0;
}

/* A TCP server in holder's namespace on the given ports: every connection is answered with
 * "<peer address> <local port>\n" and closed. */
static pid_t server_in (pid_t holder, const int *ports, size_t n)
{
  int p[2];
  if (pipe2 (p, O_CLOEXEC) < 0)
    return -1;
  pid_t pid = fork ();
  if (pid == 0)
    {
      prctl (PR_SET_PDEATHSIG, SIGKILL);
      close (p[0]);
      struct pollfd pf[8];
      if (enter_netns (holder) < 0 || n > 8)
        _exit (1);
      for (size_t i = 0; i < n; i++)
        {
          int one = 1, fd = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
          struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons ((uint16_t)ports[i]) };
          setsockopt (fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
          if (fd < 0 || bind (fd, (struct sockaddr *)&sa, sizeof sa) < 0 || listen (fd, 16) < 0)
            _exit (1);
          pf[i] = (struct pollfd){ fd, POLLIN, 0 };
        }
      (void)!write (p[1], "x", 1);
      for (;;)
        {
          if (poll (pf, n, -1) < 0)
            continue;
          for (size_t i = 0; i < n; i++)
            if (pf[i].revents & POLLIN)
              {
                struct sockaddr_in peer;
                socklen_t len = sizeof peer;
                int c = accept4 (pf[i].fd, (struct sockaddr *)&peer, &len, SOCK_CLOEXEC);
                if (c < 0)
                  continue;
                char ip[INET_ADDRSTRLEN], line[64];
                inet_ntop (AF_INET, &peer.sin_addr, ip, sizeof ip);
                int k = snprintf (line, sizeof line, "%s %d\n", ip, ports[i]);
                (void)!write (c, line, (size_t)k);
                close (c);
              }
        }
    }
  close (p[1]);
  bool ok = wait_byte (p[0], 5000);
  close (p[0]);
  if (!ok)
    {
      kill (pid, SIGKILL);
      waitpid (pid, NULL, 0);
      return -1;
    }
  return pid;
}

/* Connect from holder's namespace (0: the test's own) to ip:port and read the answer line.
 * Returns 0 with the line in out, or an errno (ETIMEDOUT for silence, as a drop gives). */
static int try_connect (pid_t holder, const char *ip, int port, int timeout_ms, char *out,
                        size_t outlen)
{
  int p[2];
  out[0] = '\0';
  if (pipe2 (p, O_CLOEXEC) < 0)
    return errno;
  pid_t pid = fork ();
  if (pid == 0)
    {
      char res[96];
      int e = 0;
      close (p[0]);
      if (enter_netns (holder) < 0)
        e = errno;
      int fd = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
      struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons ((uint16_t)port) };
      inet_pton (AF_INET, ip, &sa.sin_addr);
      if (e == 0 && connect (fd, (struct sockaddr *)&sa, sizeof sa) < 0 && errno != EINPROGRESS)
        e = errno;
      struct pollfd pf = { fd, POLLOUT, 0 };
      if (e == 0)
        {
          if (poll (&pf, 1, timeout_ms) != 1)
            e = ETIMEDOUT;
          else
            {
              socklen_t l = sizeof e;
              getsockopt (fd, SOL_SOCKET, SO_ERROR, &e, &l);
            }
        }
      ssize_t k = 0;
      char line[64] = "";
      if (e == 0)
        {
          pf.events = POLLIN;
          if (poll (&pf, 1, timeout_ms) != 1 || (k = read (fd, line, sizeof line - 1)) <= 0)
            e = EPROTO;
          else
            line[k] = '\0';
        }
      int n = snprintf (res, sizeof res, "%d %s", e, line);
      (void)!write (p[1], res, (size_t)n);
      _exit (0);
    }
  close (p[1]);
  char res[96];
  ssize_t k = 0;
  struct pollfd pf = { p[0], POLLIN, 0 };
  if (poll (&pf, 1, 2 * timeout_ms + 2000) == 1)
    k = read (p[0], res, sizeof res - 1);
  close (p[0]);
  if (k <= 0)
    {
      kill (pid, SIGKILL);
      waitpid (pid, NULL, 0);
      return ETIMEDOUT;
    }
  waitpid (pid, NULL, 0);
  res[k] = '\0';
  int e = atoi (res);
  const char *sp = strchr (res, ' ');
  snprintf (out, outlen, "%s", sp ? sp + 1 : "");
  size_t l = strlen (out);
  if (l && out[l - 1] == '\n')
    out[l - 1] = '\0';
  return e;
}

#define DROP_MS 800

/* Expect an answer, exactly `want`. */
#define EXPECT_REACH(holder, ip, port, want)                                                       \
  do                                                                                               \
    {                                                                                              \
      char got_[64];                                                                               \
      int e_ = try_connect (holder, ip, port, 3000, got_, sizeof got_);                            \
      if (e_ != 0)                                                                                 \
        fail_msg ("%s:%d from %s: %s", ip, port, #holder, strerror (e_));                          \
      assert_string_equal (got_, want);                                                            \
    }                                                                                              \
  while (0)

#define EXPECT_NO_REACH(holder, ip, port)                                                          \
  do                                                                                               \
    {                                                                                              \
      char got_[64];                                                                               \
      int e_ = try_connect (holder, ip, port, DROP_MS, got_, sizeof got_);                         \
      if (e_ == 0)                                                                                 \
        fail_msg ("%s:%d from %s answered '%s'", ip, port, #holder, got_);                         \
      printf ("# %s:%d from %s: %s (as expected)\n", ip, port, #holder, strerror (e_));            \
    }                                                                                              \
  while (0)

struct topo
{
  pid_t ctr, ctr2, peer;
  pid_t srv, srv2, psrv;
};

static void topo_kill (struct topo *t)
{
  pid_t *all[] = { &t->srv, &t->srv2, &t->psrv, &t->ctr, &t->ctr2, &t->peer };
  for (size_t i = 0; i < ARRAY_SIZE (all); i++)
    if (*all[i] > 0)
      {
        kill (*all[i], SIGKILL);
        waitpid (*all[i], NULL, 0);
        *all[i] = 0;
      }
}

/* host (this namespace): bt0 10.89.0.1/24 and bt1 10.89.1.1/24, lan0 192.168.77.1/24
 * ctr:  eth0 10.89.0.2 on bt0; ctr2: eth0 10.89.1.2 on bt1; peer: lan1 192.168.77.2,
 * with a route to 10.89.0.0/16 through the host (so only the rules keep it out). */
static int topo_setup (struct topo *t)
{
  if (sh ("ip link set lo up && echo 1 > /proc/sys/net/ipv4/ip_forward"
          " && ip link add bt0 type bridge && ip addr add 10.89.0.1/24 dev bt0"
          " && ip link set bt0 up && echo 1 > /proc/sys/net/ipv4/conf/bt0/route_localnet"
          " && ip link add bt1 type bridge && ip addr add 10.89.1.1/24 dev bt1"
          " && ip link set bt1 up && echo 1 > /proc/sys/net/ipv4/conf/bt1/route_localnet"))
    return -1;
  t->ctr = netns_holder ();
  t->ctr2 = netns_holder ();
  t->peer = netns_holder ();
  if (t->ctr < 0 || t->ctr2 < 0 || t->peer < 0)
    return -1;
  if (sh ("ip link add vc0 type veth peer name vc0p && ip link set vc0p netns %d"
          " && ip link set vc0 master bt0 up && ip link set vc0 type bridge_slave hairpin on"
          " && ip link add vc1 type veth peer name vc1p && ip link set vc1p netns %d"
          " && ip link set vc1 master bt1 up && ip link set vc1 type bridge_slave hairpin on"
          " && ip link add lan0 type veth peer name lan1 && ip link set lan1 netns %d"
          " && ip addr add 192.168.77.1/24 dev lan0 && ip link set lan0 up",
          (int)t->ctr, (int)t->ctr2, (int)t->peer))
    return -1;
  if (sh_in (t->ctr, "ip link set vc0p name eth0 && ip addr add 10.89.0.2/24 dev eth0"
                     " && ip link set eth0 up && ip route add default via 10.89.0.1")
      || sh_in (t->ctr2, "ip link set vc1p name eth0 && ip addr add 10.89.1.2/24 dev eth0"
                         " && ip link set eth0 up && ip route add default via 10.89.1.1")
      || sh_in (t->peer, "ip addr add 192.168.77.2/24 dev lan1 && ip link set lan1 up"
                         " && ip route add 10.89.0.0/16 via 192.168.77.1"))
    return -1;
  static const int cports[] = { 80, 8001, 8002 }, pports[] = { 9999 }, c2ports[] = { 80 };
  t->srv = server_in (t->ctr, cports, ARRAY_SIZE (cports));
  t->srv2 = server_in (t->ctr2, c2ports, ARRAY_SIZE (c2ports));
  t->psrv = server_in (t->peer, pports, ARRAY_SIZE (pports));
  return t->srv > 0 && t->srv2 > 0 && t->psrv > 0 ? 0 : -1;
}

static void test_traffic (void **state)
{
  (void)state;
  SKIP_UNLESS_NETNS ();
  struct topo t = { 0 };
  berr_t err = BERR_INIT;
  if (topo_setup (&t) < 0)
    {
      topo_kill (&t);
      fail_msg ("topology setup failed");
    }
  const pid_t host = 0, ctr = t.ctr, ctr2 = t.ctr2, peer = t.peer;

  /* Before any rules: forwarding alone lets the peer reach the container's address, so the
   * "not reachable" checks below are the rules' doing. */
  EXPECT_REACH (peer, "10.89.0.2", 80, "192.168.77.2 80");
  EXPECT_REACH (ctr2, "10.89.0.2", 80, "10.89.1.2 80");

  struct nft_network nets[] = {
    { "bt0", A ("10.89.0.0"), 24, false },
    { "bt1", A ("10.89.1.0"), 24, false },
  };
  struct nft_port ports[] = {
    { "tcp", 0, 18080, A ("10.89.0.2"), 80, "bt0" },
    { "tcp", A ("127.0.0.1"), 18081, A ("10.89.0.2"), 80, "bt0" },
    { "tcp", 0, 8001, A ("10.89.0.2"), 8001, "bt0" },
    { "tcp", 0, 8002, A ("10.89.0.2"), 8002, "bt0" },
    { "tcp", A ("192.168.77.1"), 18082, A ("10.89.0.2"), 80, "bt0" },
  };
  struct nft_model m = { "berth-e2e", nets, ARRAY_SIZE (nets), ports, ARRAY_SIZE (ports) };
  if (nft_sync (&m, &err) < 0)
    {
      topo_kill (&t);
      fail_msg ("%s", err.msg);
    }

  /* loopback publishing: the container sees the bridge address (masqueraded) */
  EXPECT_REACH (host, "127.0.0.1", 18080, "10.89.0.1 80");
  EXPECT_REACH (host, "127.0.0.1", 18081, "10.89.0.1 80");
  /* a range rule keeps the port */
  EXPECT_REACH (host, "127.0.0.1", 8001, "10.89.0.1 8001");
  EXPECT_REACH (host, "127.0.0.1", 8002, "10.89.0.1 8002");
  /* from the host's own LAN address too */
  EXPECT_REACH (host, "192.168.77.1", 18080, "192.168.77.1 80");
  /* from the LAN: an all-addresses binding answers, with the client's own address */
  EXPECT_REACH (peer, "192.168.77.1", 18080, "192.168.77.2 80");
  EXPECT_REACH (peer, "192.168.77.1", 18082, "192.168.77.2 80");
  /* a binding to 127.0.0.1 is not reachable from the LAN, nor is one to another address */
  EXPECT_NO_REACH (peer, "192.168.77.1", 18081);
  EXPECT_NO_REACH (host, "127.0.0.1", 18082);
  /* the container's own address is not reachable from the LAN */
  EXPECT_NO_REACH (peer, "10.89.0.2", 80);
  /* egress: the peer sees the host's LAN address */
  EXPECT_REACH (ctr, "192.168.77.2", 9999, "192.168.77.1 9999");
  EXPECT_REACH (ctr2, "192.168.77.2", 9999, "192.168.77.1 9999");
  /* hairpin: the container reaches its own published port through a host address (its
   * gateway's or another), masqueraded so that the answer comes back through the NAT */
  EXPECT_REACH (ctr, "192.168.77.1", 18080, "10.89.0.1 80");
  EXPECT_REACH (ctr, "10.89.0.1", 18080, "10.89.0.1 80");
  /* With br_netfilter loaded the hairpin goes back out through the bridge (hence hairpin mode
   * on the port) instead of being routed: check whichever of the two this host did not. */
  FILE *f = fopen ("/proc/sys/net/bridge/bridge-nf-call-iptables", "r+e");
  if (f)
    {
      int was = fgetc (f);
      rewind (f);
      fputc (was == '1' ? '0' : '1', f);
      fclose (f);
      printf ("# hairpin with bridge-nf-call-iptables=%c as well\n", was == '1' ? '0' : '1');
      EXPECT_REACH (ctr, "192.168.77.1", 18080, "10.89.0.1 80");
      EXPECT_REACH (host, "127.0.0.1", 18080, "10.89.0.1 80");
      EXPECT_NO_REACH (peer, "10.89.0.2", 80);
      f = fopen ("/proc/sys/net/bridge/bridge-nf-call-iptables", "we");
      fputc (was, f);
      fclose (f);
    }
  /* networks are isolated from each other, but a published port is published to all (the
   * other network's egress masquerade applies on the way) */
  EXPECT_NO_REACH (ctr2, "10.89.0.2", 80);
  EXPECT_NO_REACH (ctr, "10.89.1.2", 80);
  EXPECT_REACH (ctr2, "192.168.77.1", 18080, "10.89.0.1 80");

  /* bt1 becomes internal: no routed traffic in or out */
  nets[1].internal = true;
  int64_t t0 = mono_us ();
  assert_int_equal (nft_sync (&m, &err), 0);
  printf ("# nft_sync (e2e model, warm): %lld us\n", (long long)(mono_us () - t0));
  EXPECT_NO_REACH (ctr2, "192.168.77.2", 9999);
  EXPECT_NO_REACH (ctr2, "192.168.77.1", 18080);
  EXPECT_NO_REACH (ctr, "10.89.1.2", 80);
  EXPECT_REACH (ctr, "192.168.77.2", 9999, "192.168.77.1 9999");

  /* the empty model removes everything: nothing is published any more */
  struct nft_model empty = { "berth-e2e", NULL, 0, NULL, 0 };
  assert_int_equal (nft_sync (&empty, &err), 0);
  EXPECT_NO_REACH (host, "127.0.0.1", 18080);
  EXPECT_NO_REACH (peer, "192.168.77.1", 18080);
  cleanup_free char *tables = nft_cmd ("list tables");
  assert_null (strstr (tables, "berth-e2e"));

  topo_kill (&t);
  /* the veths go with the namespaces; the bridges are this namespace's, gone at exit anyway */
  sh ("ip link del bt0; ip link del bt1");
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
      in_netns = true;
    }
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_missing_library), /* first: before anything loads libnftables */
    cmocka_unit_test (test_render_golden),   cmocka_unit_test (test_render_ranges),
    cmocka_unit_test (test_model_errors),    cmocka_unit_test (test_apply_list),
    cmocka_unit_test (test_traffic),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
