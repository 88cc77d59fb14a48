/* stats.c — top, stats and update: what a container's cgroup shows and allows. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysinfo.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "container/container.h"
#include "util/json.h"
#include "util/units.h"

/* ---------- top ---------- */

/* Docker runs the host's ps and keeps the rows whose PID belongs to the container. */
int cmd_top (int argc, char **argv, struct berth_ctx *ctx)
{
  const struct opt opts[] = { { NULL, 0, 0, NULL, NULL, NULL } };
  const struct cmd_spec spec = { "top CONTAINER [ps OPTIONS]",
                                 "Display the running processes of a container",
                                 "berth container top, berth top",
                                 opts,
                                 1,
                                 -1,
                                 NULL };
  /* ps options belong to ps: only the container name is parsed here. */
  cleanup_free char **unused = NULL;
  int r = opts_parse (&spec, ctx->cmdpath, argc > 1 ? 2 : argc, argv, &unused);
  if (r)
    return r < 0 ? 0 : r;
  struct engine *e;
  if (ctx_engine (ctx, &e) < 0)
    return 1;
  berr_t err = BERR_INIT;
  struct container_rec *c = NULL;
  if (container_get (e, argv[1], &c, &err) < 0)
    return cli_error (&err);
  if (!container_is_running (c))
    {
      int rc = cli_errorf ("container %s is not running", c->id);
      container_rec_free (c);
      return rc;
    }
  struct cgroup *cg = NULL;
  pid_t *pids = NULL;
  size_t n = 0;
  if (container_open_cgroup (e, c->id, &cg, &err) < 0 || cgroup_pids (cg, &pids, &n, &err) < 0)
    {
      cgroup_free (cg);
      container_rec_free (c);
      return cli_error (&err);
    }
  cgroup_free (cg);
  container_rec_free (c);
  cleanup_free pid_t *pidv = pids;
  char **ps_argv = xzalloc (sizeof (char *));
  strv_push (&ps_argv, "ps");
  if (argc > 2)
    for (int i = 2; i < argc; i++)
      strv_push (&ps_argv, argv[i]);
  else
    strv_push (&ps_argv, "-ef");
  int p[2];
  if (pipe (p) < 0)
    {
      strv_free (ps_argv);
      return cli_errorf ("pipe: %s", strerror (errno));
    }
  pid_t child = fork ();
  if (child == 0)
    {
      dup2 (p[1], 1);
      close (p[0]);
      close (p[1]);
      execvp ("ps", ps_argv);
      _exit (127);
    }
  strv_free (ps_argv);
  close (p[1]);
  FILE *f = fdopen (p[0], "r");
  char *line = NULL;
  size_t cap = 0;
  ssize_t len;
  int pid_col = -1;
  bool header = true;
  cleanup_json json_t *rows = json_array ();
  while ((len = getline (&line, &cap, f)) > 0)
    {
      if (line[len - 1] == '\n')
        line[len - 1] = '\0';
      if (header)
        {
          /* Find the PID column. */
          char *copy = xstrdup (line), *save = NULL;
          int col = 0;
          for (char *w = strtok_r (copy, " \t", &save); w; w = strtok_r (NULL, " \t", &save), col++)
            if (strcmp (w, "PID") == 0)
              pid_col = col;
          free (copy);
          if (pid_col < 0)
            {
              free (line);
              fclose (f);
              waitpid (child, NULL, 0);
              return cli_errorf ("Couldn't find PID field in ps output");
            }
          printf ("%s\n", line);
          header = false;
          continue;
        }
      char *copy = xstrdup (line), *save = NULL;
      int col = 0;
      long pid = -1;
      for (char *w = strtok_r (copy, " \t", &save); w; w = strtok_r (NULL, " \t", &save), col++)
        if (col == pid_col)
          pid = strtol (w, NULL, 10);
      free (copy);
      for (size_t i = 0; i < n; i++)
        if (pids[i] == pid)
          {
            printf ("%s\n", line);
            break;
          }
    }
  free (line);
  fclose (f);
  int status = 0;
  waitpid (child, &status, 0);
  if (!WIFEXITED (status) || WEXITSTATUS (status) != 0)
    return cli_errorf ("ps: exit status %d", WIFEXITED (status) ? WEXITSTATUS (status) : 1);
  return 0;
}

/* ---------- stats ---------- */

struct sample
{
  struct cgroup_stats st;
  int64_t at_ns;
  bool ok;
};

static uint64_t host_memory (void)
{
  struct sysinfo si;
  if (sysinfo (&si) < 0)
    return 0;
  return (uint64_t)si.totalram * si.mem_unit;
}

static char *bin_size (uint64_t v)
{
  char buf[UNITS_BUFSZ];
  return xstrdup (units_bytes_size ((double)v, buf, sizeof buf));
}

static char *dec_size (uint64_t v)
{
  char buf[UNITS_BUFSZ];
  return xstrdup (units_human_size_prec ((double)v, 3, buf, sizeof buf));
}

static json_t *stats_row (const struct container_rec *c, const struct sample *a,
                          const struct sample *b, bool no_trunc)
{
  cleanup_free char *id = no_trunc ? xstrdup (c->id) : xstrndup (c->id, 12);
  if (!b->ok)
    return json_pack ("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "ID", id, "Container", id,
                      "Name", c->name, "CPUPerc", "0.00%", "MemUsage", "0B / 0B", "MemPerc",
                      "0.00%", "NetIO", "0B / 0B", "BlockIO", "0B / 0B", "PIDs", "0");
  double cpu = 0;
  if (a->ok && b->at_ns > a->at_ns && b->st.cpu_usage_ns >= a->st.cpu_usage_ns)
    cpu = 100.0 * (double)(b->st.cpu_usage_ns - a->st.cpu_usage_ns) / (double)(b->at_ns - a->at_ns);
  uint64_t limit = b->st.mem_limit ? b->st.mem_limit : host_memory ();
  double memp = limit ? 100.0 * (double)b->st.mem_usage / (double)limit : 0;
  cleanup_free char *mu = bin_size (b->st.mem_usage);
  cleanup_free char *ml = bin_size (limit);
  cleanup_free char *br = dec_size (b->st.blkio_read);
  cleanup_free char *bw = dec_size (b->st.blkio_write);
  cleanup_free char *cpus = xasprintf ("%.2f%%", cpu);
  cleanup_free char *mem = xasprintf ("%s / %s", mu, ml);
  cleanup_free char *mems = xasprintf ("%.2f%%", memp);
  cleanup_free char *blk = xasprintf ("%s / %s", br, bw);
  cleanup_free char *pids = xasprintf ("%llu", (unsigned long long)b->st.pids_current);
  return json_pack ("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "ID", id, "Container", id,
                    "Name", c->name, "CPUPerc", cpus, "MemUsage", mem, "MemPerc", mems, "NetIO",
                    "0B / 0B", "BlockIO", blk, "PIDs", pids);
}

static void take (struct engine *e, const struct container_rec *c, struct sample *s)
{
  struct cgroup *cg = NULL;
  berr_t err = BERR_INIT;
  s->ok = false;
  if (container_is_running (c) && container_open_cgroup (e, c->id, &cg, &err) == 0)
    {
      s->ok = cgroup_stats (cg, &s->st, &err) == 0;
      cgroup_free (cg);
    }
  berr_release (&err);
  s->at_ns = now_ns ();
}

int cmd_stats (int argc, char **argv, struct berth_ctx *ctx)
{
  bool all = false, no_stream = false, no_trunc = false;
  const char *format = NULL;
  const struct opt opts[] = {
    { "all", 'a', OPT_BOOL, &all, NULL, "Show all containers (default shows just running)" },
    { "format", 0, OPT_STRING, &format, "string", "Format output using a custom template" },
    { "no-stream", 0, OPT_BOOL, &no_stream, NULL,
      "Disable streaming stats and only pull the first result" },
    { "no-trunc", 0, OPT_BOOL, &no_trunc, NULL, "Do not truncate output" },
    { NULL, 0, 0, NULL, NULL, NULL },
  };
  const struct cmd_spec spec = { "stats [OPTIONS] [CONTAINER...]",
                                 "Display a live stream of container(s) resource usage "
                                 "statistics",
                                 "berth container stats, berth stats",
                                 opts,
                                 0,
                                 -1,
                                 NULL };
  cleanup_free char **args = NULL;
  int r = opts_parse (&spec, ctx->cmdpath, argc, argv, &args);
  if (r)
    return r < 0 ? 0 : r;
  struct engine *e;
  if (ctx_engine (ctx, &e) < 0)
    return 1;
  cleanup_json json_t *headers = json_pack (
      "{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "ID", "CONTAINER ID", "Container",
      "CONTAINER", "Name", "NAME", "CPUPerc", "CPU %", "MemUsage", "MEM USAGE / LIMIT", "MemPerc",
      "MEM %", "NetIO", "NET I/O", "BlockIO", "BLOCK I/O", "PIDs", "PIDS");
  const char *dflt = "table {{.ID}}\t{{.Name}}\t{{.CPUPerc}}\t{{.MemUsage}}\t{{.MemPerc}}\t{{."
                     "NetIO}}\t{{.BlockIO}}\t{{.PIDs}}";
  if (format && strcmp (format, "table") == 0)
    format = NULL;
  for (;;)
    {
      berr_t err = BERR_INIT;
      struct container_rec **cs = NULL;
      size_t n = 0;
      if (args[0])
        {
          cs = xcalloc (strv_len (args) + 1, sizeof *cs);
          for (size_t i = 0; args[i]; i++)
            {
              if (container_get (e, args[i], &cs[n], &err) < 0)
                {
                  container_recs_free (cs, n);
                  return cli_error (&err);
                }
              n++;
            }
        }
      else if (container_list (e, &cs, &n, &err) < 0)
        return cli_error (&err);
      struct sample *a = xcalloc (n + 1, sizeof *a), *b = xcalloc (n + 1, sizeof *b);
      for (size_t i = 0; i < n; i++)
        take (e, cs[i], &a[i]);
      /* CPU % is a rate: two samples, as Docker's first result needs two reads. */
      struct timespec ts = { 0, 500 * 1000000 };
      nanosleep (&ts, NULL);
      cleanup_json json_t *rows = json_array ();
      for (size_t i = 0; i < n; i++)
        {
          if (!args[0] && !all && !container_is_running (cs[i]))
            continue;
          take (e, cs[i], &b[i]);
          json_array_append_new (rows, stats_row (cs[i], &a[i], &b[i], no_trunc));
        }
      free (a);
      free (b);
      container_recs_free (cs, n);
      if (!no_stream)
        printf ("\033[2J\033[H");
      r = print_rows (rows, format, dflt, headers);
      fflush (stdout);
      if (no_stream || r)
        return r;
    }
}

/* ---------- update ---------- */

int cmd_update (int argc, char **argv, struct berth_ctx *ctx)
{
  const char *memory = NULL, *swap = NULL, *reservation = NULL, *cpus = NULL, *shares = NULL,
             *period = NULL, *quota = NULL, *cpuset = NULL, *mems = NULL, *pids = NULL,
             *restart = NULL;
  const struct opt opts[] = {
    { "cpu-period", 0, OPT_STRING, &period, "int",
      "Limit CPU CFS (Completely Fair Scheduler) period" },
    { "cpu-quota", 0, OPT_STRING, &quota, "int",
      "Limit CPU CFS (Completely Fair Scheduler) quota" },
    { "cpu-shares", 'c', OPT_STRING, &shares, "int", "CPU shares (relative weight)" },
    { "cpus", 0, OPT_STRING, &cpus, "decimal", "Number of CPUs" },
    { "cpuset-cpus", 0, OPT_STRING, &cpuset, "string",
      "CPUs in which to allow execution (0-3, 0,1)" },
    { "cpuset-mems", 0, OPT_STRING, &mems, "string",
      "MEMs in which to allow execution (0-3, 0,1)" },
    { "memory", 'm', OPT_STRING, &memory, "bytes", "Memory limit" },
    { "memory-reservation", 0, OPT_STRING, &reservation, "bytes", "Memory soft limit" },
    { "memory-swap", 0, OPT_STRING, &swap, "bytes",
      "Swap limit equal to memory plus swap: -1 to enable unlimited swap" },
    { "pids-limit", 0, OPT_STRING, &pids, "int",
      "Tune container pids limit (set -1 for unlimited)" },
    { "restart", 0, OPT_STRING, &restart, "string",
      "Restart policy to apply when a container exits" },
    { NULL, 0, 0, NULL, NULL, NULL },
  };
  const struct cmd_spec spec = { "update [OPTIONS] CONTAINER [CONTAINER...]",
                                 "Update configuration of one or more containers",
                                 "berth container update, berth update",
                                 opts,
                                 1,
                                 -1,
                                 NULL };
  cleanup_free char **args = NULL;
  int r = opts_parse (&spec, ctx->cmdpath, argc, argv, &args);
  if (r)
    return r < 0 ? 0 : r;
  berr_t err = BERR_INIT;
  cleanup_json json_t *upd = json_object ();
  struct
  {
    const char *val, *key, *flag;
    int kind; /* 0 ram size, 1 integer, 2 string, 3 cpus */
  } fields[] = {
    { memory, "Memory", "-m, --memory", 0 },
    { swap, "MemorySwap", "--memory-swap", 0 },
    { reservation, "MemoryReservation", "--memory-reservation", 0 },
    { cpus, "NanoCpus", "--cpus", 3 },
    { shares, "CpuShares", "-c, --cpu-shares", 1 },
    { period, "CpuPeriod", "--cpu-period", 1 },
    { quota, "CpuQuota", "--cpu-quota", 1 },
    { cpuset, "CpusetCpus", "--cpuset-cpus", 2 },
    { mems, "CpusetMems", "--cpuset-mems", 2 },
    { pids, "PidsLimit", "--pids-limit", 1 },
  };
  for (size_t i = 0; i < ARRAY_SIZE (fields); i++)
    {
      const char *v = fields[i].val;
      if (v == NULL)
        continue;
      int64_t n = 0;
      char *end = NULL;
      switch (fields[i].kind)
        {
        case 0:
          if (strcmp (v, "-1") == 0)
            n = -1;
          else if (units_ram_in_bytes (v, &n, &err) < 0)
            {
              fprintf (stderr, "invalid argument \"%s\" for \"%s\" flag: %s\nSee '%s --help'.\n", v,
                       fields[i].flag, err.msg, ctx->cmdpath);
              berr_release (&err);
              return EXIT_ENGINE;
            }
          json_object_set_new (upd, fields[i].key, json_integer (n));
          break;
        case 1:
          n = strtoll (v, &end, 10);
          if (*v == '\0' || *end)
            {
              fprintf (stderr,
                       "invalid argument \"%s\" for \"%s\" flag: strconv.ParseInt: parsing "
                       "\"%s\": invalid syntax\nSee '%s --help'.\n",
                       v, fields[i].flag, v, ctx->cmdpath);
              return EXIT_ENGINE;
            }
          json_object_set_new (upd, fields[i].key, json_integer (n));
          break;
        case 2:
          json_object_set_new (upd, fields[i].key, json_string (v));
          break;
        case 3:
          {
            double d = strtod (v, &end);
            if (*v == '\0' || *end || d < 0)
              {
                fprintf (stderr,
                         "invalid argument \"%s\" for \"--cpus\" flag: failed to parse %s as a "
                         "rational number\nSee '%s --help'.\n",
                         v, v, ctx->cmdpath);
                return EXIT_ENGINE;
              }
            json_object_set_new (upd, "NanoCpus", json_integer ((json_int_t)(d * 1e9)));
          }
        }
    }
  if (restart)
    {
      cleanup_free char *name = xstrdup (restart);
      char *colon = strchr (name, ':');
      long max = 0;
      if (colon)
        {
          *colon = '\0';
          max = strtol (colon + 1, NULL, 10);
        }
      if (strcmp (name, "no") != 0 && strcmp (name, "always") != 0
          && strcmp (name, "unless-stopped") != 0 && strcmp (name, "on-failure") != 0)
        return cli_errorf ("invalid restart policy '%s'", restart);
      json_object_set_new (upd, "RestartPolicy",
                           json_pack ("{s:s, s:i}", "Name", name, "MaximumRetryCount", (int)max));
    }
  if (json_object_size (upd) == 0)
    return cli_errorf ("you must provide one or more flags when using this command");
  struct engine *e;
  if (ctx_engine (ctx, &e) < 0)
    return 1;
  int rc = 0;
  for (size_t i = 0; args[i]; i++)
    {
      struct container_rec *c = NULL;
      if (container_get (e, args[i], &c, &err) < 0 || container_update (e, c, upd, &err) < 0)
        {
          fprintf (stderr, "Error response from daemon: %s\n", err.msg);
          berr_release (&err);
          rc = 1;
        }
      else
        printf ("%s\n", args[i]);
      container_rec_free (c);
    }
  return rc;
}
