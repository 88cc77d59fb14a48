/* compose_logs.c — the logs of several containers at once, as compose v2 shows them: each line
 * behind its container's "name  | " prefix (padded to the longest name, coloured per service on
 * a terminal). Each container's json-file log is read by logfile_read (the reader behind
 * `berth logs`) in its own thread, into a FILE whose writes are cut into lines and prefixed;
 * the main thread watches the containers' states, so the readers never touch the store. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/compose_cli.h"
#include "monitor/logfile.h"
#include "util/json.h"
#include "util/units.h"

/* compose v2's rainbow: cyan, yellow, green, magenta, blue, then their intense forms. */
static const char *const palette[]
    = { "36", "33", "32", "35", "34", "36;1", "33;1", "32;1", "35;1", "34;1" };

static pthread_mutex_t out_lock = PTHREAD_MUTEX_INITIALIZER;

struct lsink /* one prefixed stream (stdout or stderr) of one container */
{
  FILE *dst;
  const char *prefix;
  struct sbuf line;
};

struct lreader
{
  const char *name;    /* as shown: "web-1" (the full name for container_name / one-offs) */
  const char *service; /* "" when unlabelled */
  char *id, *path;
  char *prefix;
  struct lsink out, err;
  struct log_read_opts lo;
  atomic_bool running; /* the main thread's view of the container */
  atomic_bool *stop;   /* all readers end (signal, first exit) */
  atomic_bool done;
  bool started;
  pthread_t thread;
  int rc;
  berr_t error;
};

static void sink_emit (struct lsink *s, const char *data, size_t len)
{
  pthread_mutex_lock (&out_lock);
  fputs (s->prefix, s->dst);
  fwrite (data, 1, len, s->dst);
  if (len == 0 || data[len - 1] != '\n')
    fputc ('\n', s->dst);
  fflush (s->dst);
  pthread_mutex_unlock (&out_lock);
}

static ssize_t sink_write (void *cookie, const char *buf, size_t size)
{
  struct lsink *s = cookie;
  size_t start = 0;
  for (size_t i = 0; i < size; i++)
    if (buf[i] == '\n')
      {
        if (s->line.len > 0)
          {
            sbuf_add (&s->line, buf + start, i + 1 - start);
            sink_emit (s, s->line.buf, s->line.len);
            sbuf_reset (&s->line);
          }
        else
          sink_emit (s, buf + start, i + 1 - start);
        start = i + 1;
      }
  if (start < size)
    sbuf_add (&s->line, buf + start, size - start);
  return (ssize_t)size;
}

static int sink_close (void *cookie)
{
  struct lsink *s = cookie;
  /* A last line without '\n' (a 16 KiB piece, or a partial write) still gets shown. */
  if (s->line.len > 0)
    sink_emit (s, s->line.buf, s->line.len);
  sbuf_reset (&s->line);
  return 0;
}

static FILE *sink_open (struct lsink *s)
{
  cookie_io_functions_t fns = { .write = sink_write, .close = sink_close };
  FILE *f = fopencookie (s, "w", fns);
  if (f)
    setvbuf (f, NULL, _IOFBF, 1 << 16);
  return f;
}

static bool reader_running (void *arg)
{
  struct lreader *r = arg;
  return atomic_load (&r->running) && !atomic_load (r->stop);
}

static void *reader_main (void *arg)
{
  struct lreader *r = arg;
  FILE *out = sink_open (&r->out), *err = sink_open (&r->err);
  if (out == NULL || err == NULL)
    {
      r->rc = berr_set (&r->error, errno, "open log output");
      if (out)
        fclose (out);
      if (err)
        fclose (err);
    }
  else
    {
      r->rc = logfile_read (r->path, &r->lo, out, err, &r->error);
      fclose (out);
      fclose (err);
    }
  atomic_store (&r->done, true);
  return NULL;
}

static volatile sig_atomic_t logs_signal;
static void on_signal (int sig) { logs_signal = sig; }

/* compose's --since/--until values: RFC 3339, a Unix time, or a duration before now. */
static int parse_time (const char *s, int64_t *ns)
{
  if (s == NULL || *s == '\0')
    return 0;
  berr_t err = BERR_INIT;
  if (units_parse_rfc3339 (s, ns, &err) == 0)
    return 0;
  berr_release (&err);
  char *end;
  double v = strtod (s, &end);
  if (*end == '\0')
    {
      *ns = (int64_t)(v * 1e9);
      return 0;
    }
  int64_t d;
  if (units_parse_duration (s, &d, &err) == 0)
    {
      struct timespec ts;
      clock_gettime (CLOCK_REALTIME, &ts);
      *ns = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec - d;
      return 0;
    }
  berr_release (&err);
  return -1;
}

static const char *label_of (const struct container_rec *c, const char *key)
{
  json_t *labels = json_object_get (json_object_get (c->config, "Config"), "Labels");
  return json_string_value (json_object_get (labels, key));
}

/* compose v2 shows "web-1" for demo-web-1, the whole name when it is not the default one. */
static char *display_name (const struct container_rec *c)
{
  const char *project = label_of (c, COMPOSE_LABEL_PROJECT);
  const char *service = label_of (c, COMPOSE_LABEL_SERVICE);
  const char *number = label_of (c, COMPOSE_LABEL_NUMBER);
  if (project && service && number)
    {
      cleanup_free char *dflt = xasprintf ("%s-%s-%s", project, service, number);
      if (strcmp (dflt, c->name) == 0)
        return xstrdup (c->name + strlen (project) + 1);
    }
  return xstrdup (c->name);
}

static void sleep_ms (int ms)
{
  struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000 };
  nanosleep (&ts, NULL);
}

int compose_cli_logs (struct compose_cli *cc, struct container_rec **cs, size_t n,
                      const struct compose_logs_opts *o)
{
  struct log_read_opts base = { .tail = o->tail, .timestamps = o->timestamps, .follow = o->follow };
  if (parse_time (o->since, &base.since_ns) < 0)
    return cli_errorf ("invalid value for \"since\": failed to parse value as time or "
                       "duration: \"%s\"",
                       o->since);
  if (parse_time (o->until, &base.until_ns) < 0)
    return cli_errorf ("invalid value for \"until\": failed to parse value as time or "
                       "duration: \"%s\"",
                       o->until);
  struct engine *e;
  if (ctx_engine (cc->ctx, &e) < 0)
    return 1;
  if (n == 0)
    return 0;

  bool color = !o->no_color && isatty (1) && getenv ("NO_COLOR") == NULL;
  atomic_bool stop = false;
  struct lreader *rs = xcalloc (n, sizeof *rs);
  cleanup_strv char **services = NULL;
  size_t width = 0;
  for (size_t i = 0; i < n; i++)
    {
      rs[i].name = display_name (cs[i]);
      const char *svc = label_of (cs[i], COMPOSE_LABEL_SERVICE);
      rs[i].service = svc ? svc : "";
      width = strlen (rs[i].name) > width ? strlen (rs[i].name) : width;
    }
  width++; /* compose v2: "web-1  | " even alone */
  for (size_t i = 0; i < n; i++)
    {
      struct lreader *r = &rs[i];
      if (o->no_prefix)
        r->prefix = xstrdup ("");
      else
        {
          size_t k = 0;
          while (services && services[k] && strcmp (services[k], r->service) != 0)
            k++;
          if (services == NULL || services[k] == NULL)
            strv_push (&services, r->service);
          cleanup_free char *pad = xasprintf ("%-*s |", (int)width, r->name);
          if (color)
            r->prefix = xasprintf ("\033[%sm%s\033[0m ", palette[k % ARRAY_SIZE (palette)], pad);
          else
            r->prefix = xasprintf ("%s ", pad);
        }
      r->out = (struct lsink){ .dst = stdout, .prefix = r->prefix };
      r->err = (struct lsink){ .dst = stderr, .prefix = r->prefix };
      sbuf_init (&r->out.line);
      sbuf_init (&r->err.line);
      r->id = xstrdup (cs[i]->id);
      cleanup_free char *dir = container_dir (e, cs[i]->id);
      r->path = xasprintf ("%s/%s-json.log", dir, cs[i]->id);
      r->lo = base;
      r->lo.still_running = reader_running;
      r->lo.arg = r;
      r->stop = &stop;
      r->error = (berr_t)BERR_INIT;
      atomic_init (&r->running, container_is_running (cs[i]));
      atomic_init (&r->done, false);
      json_t *lc = json_object_get (json_object_get (cs[i]->config, "HostConfig"), "LogConfig");
      const char *type = json_get_str (lc, "Type");
      if (type && strcmp (type, "none") == 0)
        {
          atomic_store (&r->done, true);
          continue;
        }
    }

  fflush (stdout);
  struct sigaction sa = { .sa_handler = on_signal }, old_int, old_term;
  sigemptyset (&sa.sa_mask);
  if (o->follow)
    {
      logs_signal = 0;
      sigaction (SIGINT, &sa, &old_int);
      sigaction (SIGTERM, &sa, &old_term);
    }
  /* Readers run with every signal blocked: the main thread takes SIGINT/SIGTERM. */
  sigset_t all, prev;
  sigfillset (&all);
  pthread_sigmask (SIG_BLOCK, &all, &prev);
  for (size_t i = 0; i < n; i++)
    if (!atomic_load (&rs[i].done))
      {
        if (pthread_create (&rs[i].thread, NULL, reader_main, &rs[i]) != 0)
          atomic_store (&rs[i].done, true);
        else
          rs[i].started = true;
      }
  pthread_sigmask (SIG_SETMASK, &prev, NULL);

  int rc = 0;
  if (o->follow && o->stop_at_first_exit)
    for (size_t i = 0; i < n && !atomic_load (&stop); i++)
      if (!atomic_load (&rs[i].running))
        {
          if (o->exited)
            *o->exited = xstrdup (cs[i]->name);
          atomic_store (&stop, true);
        }
  if (o->follow)
    {
      /* Until every reader has seen its container stop (or a signal, or the first exit with
       * stop_at_first_exit). */
      for (;;)
        {
          bool all_done = true;
          for (size_t i = 0; i < n; i++)
            all_done = all_done && atomic_load (&rs[i].done);
          if (all_done)
            break;
          if (logs_signal)
            {
              rc = 128 + logs_signal;
              atomic_store (&stop, true);
            }
          for (size_t i = 0; i < n && !atomic_load (&stop); i++)
            {
              if (!atomic_load (&rs[i].running))
                continue;
              berr_t err = BERR_INIT;
              struct container_rec *c = NULL;
              bool running = false;
              if (container_get (e, rs[i].id, &c, &err) == 0)
                running = container_is_running (c);
              else
                berr_release (&err);
              container_rec_free (c);
              if (!running)
                {
                  atomic_store (&rs[i].running, false);
                  if (o->stop_at_first_exit)
                    {
                      if (o->exited)
                        *o->exited = xstrdup (cs[i]->name);
                      atomic_store (&stop, true);
                    }
                }
            }
          sleep_ms (100);
        }
    }
  for (size_t i = 0; i < n; i++)
    {
      if (rs[i].started)
        pthread_join (rs[i].thread, NULL);
      if (rs[i].rc < 0)
        {
          fprintf (stderr, "Error: %s: %s\n", rs[i].name,
                   rs[i].error.msg ? rs[i].error.msg : "reading logs failed");
          berr_release (&rs[i].error);
          if (rc == 0)
            rc = 1;
        }
    }
  if (o->follow)
    {
      sigaction (SIGINT, &old_int, NULL);
      sigaction (SIGTERM, &old_term, NULL);
    }
  for (size_t i = 0; i < n; i++)
    {
      free ((char *)rs[i].name);
      free (rs[i].prefix);
      free (rs[i].id);
      free (rs[i].path);
      sbuf_release (&rs[i].out.line);
      sbuf_release (&rs[i].err.line);
    }
  free (rs);
  return rc;
}
