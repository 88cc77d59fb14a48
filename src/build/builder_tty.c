/* builder_tty.c — the live view of a RUN on a terminal: the container's output framed ("│ "
 * dimmed, stderr in red as Docker's CLI shows it) and, below it, a status line with a spinner
 * and the time the step has taken, redrawn ten times a second until the command ends. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "build/builder_int.h"
#include "util/fs.h"

struct tty_view
{
  struct builder *b;
  char *what;
  int out_r, err_r;
  int fd; /* the terminal */
  pthread_t thread;
  bool status_shown;
  struct sbuf pending[2]; /* partial lines of stdout, stderr */
};

static void put (struct tty_view *v, const char *s, size_t len)
{
  (void)fs_write_all (v->fd, s, len);
}

static void clear_status (struct tty_view *v)
{
  if (v->status_shown)
    put (v, "\r\033[K", 4);
  v->status_shown = false;
}

static void draw_status (struct tty_view *v)
{
  static const char *const spin[] = { "⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏" };
  int64_t el = mono_ns () - v->b->step_t0;
  /* one line, whatever the command's length: cut to the terminal's width */
  struct winsize ws;
  int width = ioctl (v->fd, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 20 ? ws.ws_col : 80;
  int room = width - 14;
  int wl = (int)strlen (v->what);
  char line[512];
  int n = snprintf (line, sizeof line, "\r\033[K\033[36m%s\033[0m \033[2m%.*s%s %.1fs\033[0m",
                    spin[(el / 100000000) % 10], wl > room ? room - 1 : wl, v->what,
                    wl > room ? "…" : "", (double)el / 1e9);
  if (n > 0)
    put (v, line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1);
  v->status_shown = true;
}

/* Print the complete lines gathered for stream i (1: stderr). */
static void flush_lines (struct tty_view *v, int i, bool all)
{
  struct sbuf *p = &v->pending[i];
  size_t start = 0;
  for (size_t k = 0; k < p->len; k++)
    if (p->buf[k] == '\n' || (all && k + 1 == p->len))
      {
        size_t end = p->buf[k] == '\n' ? k : k + 1;
        clear_status (v);
        const char *pre = i ? "\033[2m│\033[0m \033[31m" : "\033[2m│\033[0m ";
        const char *post = i ? "\033[0m\n" : "\n";
        put (v, pre, strlen (pre));
        put (v, p->buf + start, end - start);
        put (v, post, strlen (post));
        start = k + 1;
      }
  if (start)
    {
      memmove (p->buf, p->buf + start, p->len - start);
      p->len -= start;
    }
}

static void *view_main (void *arg)
{
  struct tty_view *v = arg;
  struct pollfd pf[2]
      = { { .fd = v->out_r, .events = POLLIN }, { .fd = v->err_r, .events = POLLIN } };
  int open_n = 2;
  draw_status (v);
  while (open_n > 0)
    {
      int r = poll (pf, 2, 100);
      if (r < 0 && errno != EINTR)
        break;
      for (int i = 0; i < 2 && r > 0; i++)
        {
          if (pf[i].fd < 0 || !(pf[i].revents & (POLLIN | POLLHUP | POLLERR)))
            continue;
          char buf[8192];
          ssize_t n = read (pf[i].fd, buf, sizeof buf);
          if (n > 0)
            {
              sbuf_add (&v->pending[i], buf, (size_t)n);
              flush_lines (v, i, false);
              /* a line longer than a screenful is shown as it comes */
              if (v->pending[i].len > 4096)
                flush_lines (v, i, true);
            }
          else if (n == 0 || (errno != EINTR && errno != EAGAIN))
            {
              flush_lines (v, i, true);
              pf[i].fd = -1;
              open_n--;
            }
        }
      draw_status (v);
    }
  clear_status (v);
  return NULL;
}

int tty_view_start (struct builder *b, const char *what, int *out_w, int *err_w,
                    struct tty_view **out, berr_t *err)
{
  int po[2], pe[2];
  if (pipe2 (po, O_CLOEXEC) < 0)
    return berr_set (err, errno, "pipe");
  if (pipe2 (pe, O_CLOEXEC) < 0)
    {
      int saved = errno;
      close (po[0]);
      close (po[1]);
      return berr_set (err, saved, "pipe");
    }
  struct tty_view *v = xzalloc (sizeof *v);
  v->b = b;
  v->what = xstrdup (what);
  v->out_r = po[0];
  v->err_r = pe[0];
  v->fd = b->o->out_fd;
  sbuf_init (&v->pending[0]);
  sbuf_init (&v->pending[1]);
  int r = pthread_create (&v->thread, NULL, view_main, v);
  if (r != 0)
    {
      close (po[0]);
      close (po[1]);
      close (pe[0]);
      close (pe[1]);
      free (v->what);
      free (v);
      return berr_set (err, r, "start the build view");
    }
  *out_w = po[1];
  *err_w = pe[1];
  *out = v;
  return 0;
}

void tty_view_finish (struct tty_view *v)
{
  if (v == NULL)
    return;
  pthread_join (v->thread, NULL);
  close (v->out_r);
  close (v->err_r);
  sbuf_release (&v->pending[0]);
  sbuf_release (&v->pending[1]);
  free (v->what);
  free (v);
}
