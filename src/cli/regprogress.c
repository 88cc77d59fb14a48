/* regprogress.c — the docker CLI's jsonmessage rendering of pull/push progress.
 *
 * On a terminal every layer id owns one line, in the order the ids first appeared; the cursor
 * rests on the line below the last one. An update moves the cursor up to its layer's line,
 * erases it, draws it again and moves back down. A line without an id (RP_MESSAGE) is printed
 * below and starts a new block: later ids get new lines under it, as docker does.
 * Not on a terminal: a line per event, except those carrying byte counts (Downloading,
 * Extracting, Pushing with a size), which docker leaves out of piped output. */
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "cli/regprogress.h"
#include "util/units.h"
#include "util/util.h"

struct regprog
{
  FILE *out;
  bool tty, quiet;
  char **ids; /* the lines of the current block, top to bottom */
  size_t nids;
};

struct regprog *regprog_new (FILE *out, bool tty, bool quiet)
{
  struct regprog *rp = xzalloc (sizeof *rp);

  rp->out = out;
  rp->tty = tty;
  rp->quiet = quiet;
  return rp;
}

static void forget_ids (struct regprog *rp)
{
  for (size_t i = 0; i < rp->nids; i++)
    free (rp->ids[i]);
  free (rp->ids);
  rp->ids = NULL;
  rp->nids = 0;
}

void regprog_free (struct regprog *rp)
{
  if (rp == NULL)
    return;
  /* The cursor already sits below the block (each redraw moves back down). */
  fflush (rp->out);
  forget_ids (rp);
  free (rp);
}

static const char *state_text (const struct reg_progress *p)
{
  switch (p->state)
    {
    case RP_MESSAGE:
      return p->message ? p->message : "";
    case RP_WAITING:
      return "Waiting";
    case RP_PULLING_FS:
      return "Pulling fs layer";
    case RP_ALREADY_EXISTS:
      return "Already exists";
    case RP_DOWNLOADING:
      return "Downloading";
    case RP_VERIFYING:
      return "Verifying Checksum";
    case RP_DOWNLOAD_DONE:
      return "Download complete";
    case RP_EXTRACTING:
      return "Extracting";
    case RP_PULL_COMPLETE:
      return "Pull complete";
    case RP_PREPARING:
      return "Preparing";
    case RP_PUSHING:
      return "Pushing";
    case RP_PUSHED:
      return "Pushed";
    case RP_LAYER_EXISTS:
      return "Layer already exists";
    case RP_MOUNTED:
      return NULL; /* composed by the caller */
    case RP_RETRYING:
      return p->message ? p->message : "Retrying";
    }
  return "";
}

static bool has_counts (const struct reg_progress *p)
{
  return (p->state == RP_DOWNLOADING || p->state == RP_EXTRACTING || p->state == RP_PUSHING)
         && (p->current > 0 || p->total > 0);
}

static int term_width (FILE *out)
{
  struct winsize ws;

  if (ioctl (fileno (out), TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
    return ws.ws_col;
  return 200; /* docker's default when the size is unknown */
}

/* JSONProgress.String(): "[=====>      ] 12.3MB/45.6MB"; the bar only on wide terminals. */
static void progress_string (const struct reg_progress *p, int width, struct sbuf *b)
{
  char cur[UNITS_BUFSZ], tot[UNITS_BUFSZ];

  if (!has_counts (p))
    return;
  units_human_size ((double)p->current, cur, sizeof cur);
  if (p->total == 0)
    {
      sbuf_addf (b, "%8s", cur);
      return;
    }
  int pct = (int)((double)p->current / (double)p->total * 100) / 2;
  if (pct > 50)
    pct = 50;
  if (width > 110)
    {
      sbuf_addc (b, '[');
      for (int i = 0; i < pct; i++)
        sbuf_addc (b, '=');
      sbuf_addc (b, '>');
      for (int i = pct; i < 50; i++)
        sbuf_addc (b, ' ');
      sbuf_adds (b, "] ");
    }
  units_human_size ((double)p->total, tot, sizeof tot);
  if (p->current > p->total)
    sbuf_addf (b, "%8s", cur);
  else
    sbuf_addf (b, "%8s/%s", cur, tot);
}

static size_t line_of (struct regprog *rp, const char *id, bool *added)
{
  *added = false;
  for (size_t i = 0; i < rp->nids; i++)
    if (strcmp (rp->ids[i], id) == 0)
      return i;
  rp->ids = xrealloc (rp->ids, (rp->nids + 1) * sizeof *rp->ids);
  rp->ids[rp->nids] = xstrdup (id);
  *added = true;
  return rp->nids++;
}

void regprog_event (void *cookie, const struct reg_progress *p)
{
  struct regprog *rp = cookie;
  cleanup_sbuf struct sbuf status = { 0 };
  cleanup_sbuf struct sbuf bar = { 0 };

  if (rp == NULL || rp->quiet)
    return;
  if (p->state == RP_MOUNTED)
    sbuf_addf (&status, "Mounted from %s", p->message ? p->message : "");
  else
    sbuf_adds (&status, state_text (p));

  if (p->id == NULL || p->state == RP_MESSAGE)
    {
      /* A line of its own; on a terminal it also closes the current block of layer lines. */
      forget_ids (rp);
      fprintf (rp->out, "%s\n", status.buf ? status.buf : "");
      fflush (rp->out);
      return;
    }

  if (!rp->tty)
    {
      if (has_counts (p))
        return;
      fprintf (rp->out, "%s: %s\n", p->id, status.buf);
      fflush (rp->out);
      return;
    }

  bool added;
  size_t line = line_of (rp, p->id, &added);
  unsigned up = (unsigned)(rp->nids - line);
  if (added)
    fputc ('\n', rp->out);
  progress_string (p, term_width (rp->out), &bar);
  /* up, erase, draw, back down: the cursor stays below the block. */
  fprintf (rp->out, "\x1b[%uA\x1b[2K\r%s: %s %s\r\x1b[%uB", up, p->id, status.buf,
           bar.buf ? bar.buf : "", up);
  fflush (rp->out);
}
