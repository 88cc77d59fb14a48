/* common.c — helpers shared by the monitor loop and the attach client: time stamps, the local
 * terminal, Docker's detach keys, attach-socket addresses, the sig-proxy signal set. */
#include "monitor/monitor.h"
#include "monitor/monitor_int.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

char *mon_format_time (int64_t ns, bool fixed, char buf[MON_TIME_BUFSZ])
{
  int64_t secs = ns / 1000000000, frac = ns % 1000000000;
  char digits[10];
  int nd = 9;
  struct tm tm;
  time_t t;

  if (frac < 0)
    {
      frac += 1000000000;
      secs--;
    }
  t = (time_t)secs;
  gmtime_r (&t, &tm);
  snprintf (digits, sizeof digits, "%09d", (int)frac);
  if (!fixed)
    while (nd > 0 && digits[nd - 1] == '0')
      nd--;
  digits[nd] = '\0';
  snprintf (buf, MON_TIME_BUFSZ, "%04d-%02d-%02dT%02d:%02d:%02d%s%sZ", tm.tm_year + 1900,
            tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, nd ? "." : "", digits);
  return buf;
}

int mon_term_raw (int fd, struct mon_term *st, berr_t *err)
{
  struct termios raw;

  st->fd = fd;
  st->saved = false;
  if (tcgetattr (fd, &st->orig) < 0)
    return berr_set (err, errno, "get terminal attributes");
  raw = st->orig;
  cfmakeraw (&raw);
  raw.c_cc[VMIN] = 1;
  raw.c_cc[VTIME] = 0;
  if (tcsetattr (fd, TCSANOW, &raw) < 0)
    return berr_set (err, errno, "set the terminal to raw mode");
  st->saved = true;
  return 0;
}

void mon_term_restore (struct mon_term *st)
{
  if (!st->saved)
    return;
  /* TCSADRAIN would block behind a stuck output; the settings matter, not the order. */
  tcsetattr (st->fd, TCSANOW, &st->orig);
  st->saved = false;
}

/* Docker's key names (moby/term ToBytes): one character stands for itself; "ctrl-@" ..
 * "ctrl-_" are the control codes 0..31 in ASCII order; "DEL" is 127. Names are case-sensitive. */
static int detach_key_code (const char *key, size_t len)
{
  static const char ctrl_tail[] = "@abcdefghijklmnopqrstuvwxyz[\\]^_";
  if (len == 1)
    return (unsigned char)key[0];
  if (len == 3 && memcmp (key, "DEL", 3) == 0)
    return 127;
  if (len == 6 && memcmp (key, "ctrl-", 5) == 0)
    {
      const char *p = memchr (ctrl_tail, key[5], sizeof ctrl_tail - 1);
      if (p != NULL)
        return (int)(p - ctrl_tail);
    }
  return -1;
}

int monitor_parse_detach_keys (const char *spec, char **keys, size_t *n, berr_t *err)
{
  struct sbuf b;

  if (spec == NULL || *spec == '\0')
    spec = "ctrl-p,ctrl-q";
  sbuf_init (&b);
  for (const char *p = spec;;)
    {
      const char *comma = strchr (p, ',');
      size_t len = comma ? (size_t)(comma - p) : strlen (p);
      int code = detach_key_code (p, len);
      if (code < 0)
        {
          sbuf_release (&b);
          return berr_setk (err, BERR_INVALID, 0, "Invalid detach keys (%s) provided", spec);
        }
      sbuf_addc (&b, (char)code);
      if (comma == NULL)
        break;
      p = comma + 1;
    }
  *n = b.len;
  *keys = sbuf_detach (&b);
  return 0;
}

size_t mon_detach_filter (struct mon_detach *m, const char *in, size_t len, char *out, bool *detach)
{
  size_t o = 0;

  *detach = false;
  if (m->n == 0)
    {
      memcpy (out, in, len);
      return len;
    }
  for (size_t i = 0; i < len; i++)
    {
      char c = in[i];
      if (c != m->keys[m->pos] && m->pos > 0)
        {
          /* The sequence broke: what was held back was ordinary input after all. */
          memcpy (out + o, m->keys, m->pos);
          o += m->pos;
          m->pos = 0;
        }
      if (c == m->keys[m->pos])
        {
          if (++m->pos == m->n)
            {
              m->pos = 0;
              *detach = true;
              return o;
            }
          continue;
        }
      out[o++] = c;
    }
  return o;
}

int mon_sockaddr (const char *path, struct sockaddr_un *sa, socklen_t *len, int *dirfd, berr_t *err)
{
  size_t plen = strlen (path);

  *dirfd = -1;
  memset (sa, 0, sizeof *sa);
  sa->sun_family = AF_UNIX;
  if (plen >= sizeof sa->sun_path)
    {
      /* $runroot/<64-hex id>/attach easily passes 108 bytes: reach it through its directory. */
      const char *slash = strrchr (path, '/');
      cleanup_free char *dir = NULL;
      if (slash == NULL || strlen (slash + 1) + 32 >= sizeof sa->sun_path)
        return berr_set (err, ENAMETOOLONG, "socket path %s", path);
      dir = slash == path ? xstrdup ("/") : xstrndup (path, (size_t)(slash - path));
      *dirfd = open (dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
      if (*dirfd < 0)
        return berr_set (err, errno, "open %s", dir);
      snprintf (sa->sun_path, sizeof sa->sun_path, "/proc/self/fd/%d/%s", *dirfd, slash + 1);
    }
  else
    memcpy (sa->sun_path, path, plen);
  *len = (socklen_t)(offsetof (struct sockaddr_un, sun_path) + strlen (sa->sun_path) + 1);
  return 0;
}

void mon_proxy_sigset (sigset_t *set)
{
  static const int sigs[]
      = { SIGHUP,  SIGINT,    SIGQUIT, SIGUSR1, SIGUSR2, SIGTERM, SIGALRM, SIGCONT,
          SIGTSTP, SIGVTALRM, SIGPROF, SIGXCPU, SIGXFSZ, SIGIO,   SIGPWR,  SIGSTKFLT };
  sigemptyset (set);
  for (size_t i = 0; i < ARRAY_SIZE (sigs); i++)
    sigaddset (set, sigs[i]);
  for (int s = SIGRTMIN; s <= SIGRTMAX; s++)
    sigaddset (set, s);
}

int mon_write_all (int fd, const void *data, size_t len)
{
  const char *p = data;
  while (len > 0)
    {
      ssize_t w = write (fd, p, len);
      if (w < 0)
        {
          if (errno == EINTR)
            continue;
          if (errno == EAGAIN)
            {
              struct pollfd pfd = { .fd = fd, .events = POLLOUT };
              if (poll (&pfd, 1, -1) < 0 && errno != EINTR)
                return -1;
              continue;
            }
          return -1;
        }
      p += w;
      len -= (size_t)w;
    }
  return 0;
}

int mon_set_nonblock (int fd, bool on)
{
  int fl = fcntl (fd, F_GETFL);
  if (fl < 0)
    return -1;
  int nfl = on ? fl | O_NONBLOCK : fl & ~O_NONBLOCK;
  if (nfl != fl && fcntl (fd, F_SETFL, nfl) < 0)
    return -1;
  return 0;
}
