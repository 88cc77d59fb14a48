/* compose_up.c — `berth compose` up, down, create, start, stop, restart, kill, rm, ps, ls,
 * pause, unpause. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/compose_cli.h"
#include "container/container.h"
#include "registry/registry.h"
#include "util/json.h"
#include "util/signals.h"
#include "util/units.h"

/* ---- common ---- */

static const char *compose_label_of (const struct container_rec *c, const char *key)
{
  json_t *labels = json_object_get (json_object_get (c->config, "Config"), "Labels");
  const char *v = json_string_value (json_object_get (labels, key));
  return v;
}

static void cup_event (void *cookie, const char *resource, const char *name, const char *status)
{
  (void)cookie;
  if (strcmp (resource, "Warning") == 0)
    fprintf (stderr, "WARN[0000] %s\n", name);
  else
    fprintf (stderr, " %s %s  %s\n", resource, name, status);
}

struct cup
{
  struct compose_ctx c;
  struct reg_config reg;
  bool have_reg;
  struct compose_project *p; /* NULL: working from labels (-p without a file) */
  char *project;
};

static void cup_release (struct cup *u)
{
  if (u->have_reg)
    reg_config_release (&u->reg);
  compose_project_free (u->p);
  free (u->project);
}

/* The project (need_file: a file is required) and the engine context. Returns an exit code. */
static int cup_open (struct compose_cli *cc, bool need_file, struct cup *u)
{
  memset (u, 0, sizeof *u);
  berr_t err = BERR_INIT;
  if (compose_project_load (cc->opts, &u->p, &err) < 0)
    {
      bool no_file = err.kind == BERR_NOT_FOUND;
      if (need_file || !cc->project_name_given || !no_file)
        return cli_error (&err);
      berr_release (&err);
      const char *name
          = cc->opts->project_name ? cc->opts->project_name : getenv ("COMPOSE_PROJECT_NAME");
      u->project = compose_normalize_project_name (name);
    }
  else
    u->project = xstrdup (u->p->name);
  if (compose_cli_ctx (cc, &u->c) != 0)
    return 1;
  u->c.event = cup_event;
  if (reg_config_load (cc->ctx->config, &u->reg, &err) == 0)
    {
      u->have_reg = true;
      u->c.reg = &u->reg;
    }
  else
    return cli_error (&err);
  return 0;
}

static int parse (struct compose_cli *cc, const char *use, const char *help, const struct opt *opts,
                  int min, int max, int argc, char **argv, char ***args)
{
  cleanup_free char *cmdpath = xasprintf ("berth compose %s", argv[0]);
  struct cmd_spec spec
      = { .use = use, .short_help = help, .opts = opts, .min_args = min, .max_args = max };
  (void)cc;
  return opts_parse (&spec, cmdpath, argc, argv, args);
}

static int timeout_arg (const char *t, int *out)
{
  *out = -1;
  if (!t)
    return 0;
  char *end;
  long v = strtol (t, &end, 10);
  if (!*t || *end)
    return cli_errorf ("invalid argument \"%s\" for \"-t, --timeout\" flag: strconv.ParseInt: "
                       "parsing \"%s\": invalid syntax",
                       t, t);
  *out = (int)v;
  return 0;
}

/* ---- up / create ---- */

static int do_up (struct compose_cli *cc, int argc, char **argv, bool create_only)
{
  bool detach = false, build = false, no_build = false, force = false, no_recreate = false,
       remove_orphans = false, abort_exit = false, wait = false, no_deps = false,
       quiet_pull = false, no_start = false;
  const char *exit_from = NULL, *timeout_s = NULL, *pull = NULL;
  cleanup_strv char **scale = NULL;
  const struct opt opts[] = {
    { "detach", 'd', OPT_BOOL, &detach, NULL, "Detached mode: Run containers in the background" },
    { "build", 0, OPT_BOOL, &build, NULL, "Build images before starting containers" },
    { "no-build", 0, OPT_BOOL, &no_build, NULL, "Don't build an image, even if it's missing" },
    { "force-recreate", 0, OPT_BOOL, &force, NULL,
      "Recreate containers even if their configuration and image haven't changed" },
    { "no-recreate", 0, OPT_BOOL, &no_recreate, NULL,
      "If containers already exist, don't recreate them" },
    { "remove-orphans", 0, OPT_BOOL, &remove_orphans, NULL,
      "Remove containers for services not defined in the Compose file" },
    { "scale", 0, OPT_STRINGS, &scale, "scale",
      "Scale SERVICE to NUM instances. Overrides the scale setting in the Compose file if "
      "present" },
    { "abort-on-container-exit", 0, OPT_BOOL, &abort_exit, NULL,
      "Stops all containers if any container was stopped. Incompatible with -d" },
    { "exit-code-from", 0, OPT_STRING, &exit_from, "string",
      "Return the exit code of the selected service container. Implies "
      "--abort-on-container-exit" },
    { "wait", 0, OPT_BOOL, &wait, NULL,
      "Wait for services to be running|healthy. Implies "
      "detached mode" },
    { "no-deps", 0, OPT_BOOL, &no_deps, NULL, "Don't start linked services" },
    { "no-start", 0, OPT_BOOL, &no_start, NULL, "Don't start the services after creating them" },
    { "pull", 0, OPT_STRING, &pull, "string",
      "Pull image before running (\"always\"|\"missing\"|\"never\")" },
    { "quiet-pull", 0, OPT_BOOL, &quiet_pull, NULL, "Pull without printing progress information" },
    { "timeout", 't', OPT_STRING, &timeout_s, "int",
      "Use this timeout in seconds for container shutdown when attached or when containers are "
      "already running" },
    { NULL, 0, 0, NULL, NULL, NULL },
  };
  char **args = NULL;
  int r = parse (cc, create_only ? "create [OPTIONS] [SERVICE...]" : "up [OPTIONS] [SERVICE...]",
                 create_only ? "Creates containers for a service" : "Create and start containers",
                 create_only ? opts + 1 : opts, 0, -1, argc, argv, &args);
  cleanup_free char **argsv = args;
  if (r)
    return r < 0 ? 0 : r;
  if (exit_from)
    abort_exit = true;
  if (wait)
    detach = true;
  if (detach && abort_exit)
    return cli_errorf ("--abort-on-container-exit and --detach are incompatible");
  if (force && no_recreate)
    return cli_errorf ("--force-recreate and --no-recreate are incompatible");
  if (build && no_build)
    return cli_errorf ("--build and --no-build are incompatible");
  if (pull && strcmp (pull, "always") && strcmp (pull, "missing") && strcmp (pull, "never")
      && strcmp (pull, "build"))
    return cli_errorf ("invalid --pull option \"%s\"", pull);
  int timeout;
  if (timeout_arg (timeout_s, &timeout))
    return 1;
  struct cup u;
  if ((r = cup_open (cc, true, &u)) != 0)
    {
      cup_release (&u);
      return r;
    }
  if (exit_from && !compose_service_find (u.p, exit_from))
    {
      cup_release (&u);
      return cli_errorf ("no such service: %s", exit_from);
    }
  struct container_rec **started = NULL;
  size_t nstarted = 0;
  struct compose_up_opts o = {
    .services = args && args[0] ? args : NULL,
    .no_deps = no_deps,
    .recreate = force         ? COMPOSE_RECREATE_FORCE
                : no_recreate ? COMPOSE_RECREATE_NEVER
                              : COMPOSE_RECREATE_DIVERGED,
    .no_start = create_only || no_start,
    .remove_orphans = remove_orphans,
    .scale = scale,
    .pull = pull,
    .build = build,
    .no_build = no_build,
    .wait = wait,
    .timeout = timeout,
    .detach = detach,
    .started = &started,
    .nstarted = &nstarted,
  };
  berr_t err = BERR_INIT;
  int rc = 0;
  if (compose_up (&u.c, u.p, &o, &err) < 0)
    rc = cli_error (&err);
  if (rc == 0 && !detach && !o.no_start)
    {
      fprintf (stderr, "Attaching to ");
      for (size_t i = 0; i < nstarted; i++)
        fprintf (stderr, "%s%s", i ? ", " : "", started[i]->name);
      fprintf (stderr, "\n");
      cleanup_free char *exited = NULL;
      struct compose_logs_opts lo
          = { .follow = true, .tail = -1, .stop_at_first_exit = abort_exit, .exited = &exited };
      int lr = compose_cli_logs (cc, started, nstarted, &lo);
      bool interrupted = lr > 128;
      if (interrupted || (abort_exit && exited))
        {
          if (interrupted)
            fprintf (stderr, "Gracefully stopping... (press Ctrl+C again to force)\n");
          else
            fprintf (stderr, "Aborting on container exit...\n");
          /* A second Ctrl+C ends berth itself; the stop goes on in the engine. */
          signal (SIGINT, SIG_DFL);
          struct compose_action_opts ao = { .timeout = timeout };
          if (compose_act (&u.c, u.project, u.p, COMPOSE_STOP, &ao, &err) < 0)
            rc = cli_error (&err);
          else if (interrupted)
            rc = 130;
        }
      if (abort_exit && rc == 0)
        {
          /* --exit-code-from: that service's container; else the first that exited. */
          struct container_rec *pick = NULL;
          for (size_t i = 0; i < nstarted && !pick; i++)
            {
              const char *sv = compose_label_of (started[i], COMPOSE_LABEL_SERVICE);
              if (exit_from ? sv && strcmp (sv, exit_from) == 0
                            : exited && strcmp (exited, started[i]->name) == 0)
                pick = started[i];
            }
          struct container_rec *fresh = NULL;
          if (pick && container_get (u.c.e, pick->id, &fresh, &err) == 0)
            {
              rc = (int)json_integer_value (json_object_get (fresh->state, "ExitCode"));
              container_rec_free (fresh);
            }
          else if (pick)
            berr_release (&err);
        }
    }
  container_recs_free (started, nstarted);
  cup_release (&u);
  return rc;
}

static int cc_up (struct compose_cli *cc, int argc, char **argv)
{
  return do_up (cc, argc, argv, false);
}

static int cc_create (struct compose_cli *cc, int argc, char **argv)
{
  return do_up (cc, argc, argv, true);
}

/* ---- down ---- */

static int cc_down (struct compose_cli *cc, int argc, char **argv)
{
  bool volumes = false, remove_orphans = false;
  const char *rmi = NULL, *timeout_s = NULL;
  const struct opt opts[] = {
    { "volumes", 'v', OPT_BOOL, &volumes, NULL,
      "Remove named volumes declared in the \"volumes\" section of the Compose file and "
      "anonymous volumes attached to containers" },
    { "rmi", 0, OPT_STRING, &rmi, "string",
      "Remove images used by services. \"local\" remove only images that don't have a custom "
      "tag (\"local\"|\"all\")" },
    { "remove-orphans", 0, OPT_BOOL, &remove_orphans, NULL,
      "Remove containers for services not defined in the Compose file" },
    { "timeout", 't', OPT_STRING, &timeout_s, "int", "Specify a shutdown timeout in seconds" },
    { NULL, 0, 0, NULL, NULL, NULL },
  };
  char **args = NULL;
  int r = parse (cc, "down [OPTIONS] [SERVICES]", "Stop and remove containers, networks", opts, 0,
                 0, argc, argv, &args);
  free (args);
  if (r)
    return r < 0 ? 0 : r;
  int timeout;
  if (timeout_arg (timeout_s, &timeout))
    return 1;
  if (rmi && strcmp (rmi, "local") && strcmp (rmi, "all"))
    return cli_errorf ("invalid value for --rmi: %s", rmi);
  struct cup u;
  if ((r = cup_open (cc, false, &u)) != 0)
    {
      cup_release (&u);
      return r;
    }
  struct compose_down_opts o
      = { .volumes = volumes, .rmi = rmi, .remove_orphans = remove_orphans, .timeout = timeout };
  berr_t err = BERR_INIT;
  int rc = 0;
  if (compose_down (&u.c, u.project, u.p, &o, &err) < 0)
    rc = cli_error (&err);
  cup_release (&u);
  return rc;
}

/* ---- start, stop, restart, kill, pause, unpause, rm ---- */

static int act (struct compose_cli *cc, int argc, char **argv, enum compose_action a)
{
  const char *timeout_s = NULL, *sig_s = NULL;
  bool force = false, stop_first = false, vols = false;
  const struct opt topts[] = {
    { "timeout", 't', OPT_STRING, &timeout_s, "int", "Specify a shutdown timeout in seconds" },
    { NULL, 0, 0, NULL, NULL, NULL },
  };
  const struct opt kopts[] = {
    { "signal", 's', OPT_STRING, &sig_s, "string",
      "SIGNAL to send to the container (default \"SIGKILL\")" },
    { "remove-orphans", 0, OPT_BOOL, &force, NULL, NULL },
    { NULL, 0, 0, NULL, NULL, NULL },
  };
  const struct opt ropts[] = {
    { "force", 'f', OPT_BOOL, &force, NULL, "Don't ask to confirm removal" },
    { "stop", 's', OPT_BOOL, &stop_first, NULL,
      "Stop the containers, if required, before "
      "removing" },
    { "volumes", 'v', OPT_BOOL, &vols, NULL,
      "Remove any anonymous volumes attached to "
      "containers" },
    { NULL, 0, 0, NULL, NULL, NULL },
  };
  const struct opt none[] = { { NULL, 0, 0, NULL, NULL, NULL } };
  const struct opt *opts = none;
  const char *help = "";
  switch (a)
    {
    case COMPOSE_START:
      help = "Start services";
      break;
    case COMPOSE_STOP:
      help = "Stop services", opts = topts;
      break;
    case COMPOSE_RESTART:
      help = "Restart service containers", opts = topts;
      break;
    case COMPOSE_KILL:
      help = "Force stop service containers", opts = kopts;
      break;
    case COMPOSE_PAUSE:
      help = "Pause services";
      break;
    case COMPOSE_UNPAUSE:
      help = "Unpause services";
      break;
    case COMPOSE_RM:
      help = "Removes stopped service containers", opts = ropts;
      break;
    }
  cleanup_free char *use = xasprintf ("%s [OPTIONS] [SERVICE...]", argv[0]);
  char **args = NULL;
  int r = parse (cc, use, help, opts, 0, -1, argc, argv, &args);
  cleanup_free char **argsv = args;
  if (r)
    return r < 0 ? 0 : r;
  struct compose_action_opts o = { .services = args && args[0] ? args : NULL,
                                   .force = force,
                                   .rm_volumes = vols,
                                   .stop_first = stop_first };
  if (timeout_arg (timeout_s, &o.timeout))
    return 1;
  if (a == COMPOSE_KILL)
    o.force = false;
  if (sig_s)
    {
      o.signal = signal_parse (sig_s);
      if (o.signal <= 0)
        return cli_errorf ("invalid signal: %s", sig_s);
    }
  struct cup u;
  if ((r = cup_open (cc, false, &u)) != 0)
    {
      cup_release (&u);
      return r;
    }
  berr_t err = BERR_INIT;
  int rc = 0;
  if (a == COMPOSE_RM && !stop_first)
    {
      /* compose rm leaves running containers alone (-s stops them first). */
      o.force = false;
    }
  if (a == COMPOSE_RM && stop_first)
    o.force = true;
  if (compose_act (&u.c, u.project, u.p, a, &o, &err) < 0)
    rc = cli_error (&err);
  cup_release (&u);
  return rc;
}

static int cc_start (struct compose_cli *cc, int argc, char **argv)
{
  return act (cc, argc, argv, COMPOSE_START);
}
static int cc_stop (struct compose_cli *cc, int argc, char **argv)
{
  return act (cc, argc, argv, COMPOSE_STOP);
}
static int cc_restart (struct compose_cli *cc, int argc, char **argv)
{
  return act (cc, argc, argv, COMPOSE_RESTART);
}
static int cc_kill (struct compose_cli *cc, int argc, char **argv)
{
  return act (cc, argc, argv, COMPOSE_KILL);
}
static int cc_pause (struct compose_cli *cc, int argc, char **argv)
{
  return act (cc, argc, argv, COMPOSE_PAUSE);
}
static int cc_unpause (struct compose_cli *cc, int argc, char **argv)
{
  return act (cc, argc, argv, COMPOSE_UNPAUSE);
}
static int cc_rm (struct compose_cli *cc, int argc, char **argv)
{
  return act (cc, argc, argv, COMPOSE_RM);
}

/* ---- ps ---- */

static char *ago (int64_t ns)
{
  char buf[64];
  int64_t secs = (now_ns () - ns) / 1000000000LL;
  return xasprintf ("%s ago", units_human_duration (secs < 0 ? 0 : secs, buf, sizeof buf));
}

static char *command_text (const struct container_rec *c)
{
  json_t *config = json_object_get (c->config, "Config");
  struct sbuf b;
  sbuf_init (&b);
  const char *keys[] = { "Entrypoint", "Cmd" };
  for (int k = 0; k < 2; k++)
    {
      size_t i;
      json_t *v;
      json_array_foreach (json_object_get (config, keys[k]), i, v)
      {
        if (b.len)
          sbuf_addc (&b, ' ');
        sbuf_adds (&b, json_string_value (v) ? json_string_value (v) : "");
      }
    }
  char *s = sbuf_detach (&b);
  char *q = xasprintf ("\"%s\"", s);
  free (s);
  return q;
}

static char *ports_text (struct compose_ctx *c, const struct container_rec *r)
{
  struct sbuf b;
  sbuf_init (&b);
  cleanup_json json_t *insp = container_is_running (r) ? container_inspect_json (c->e, r) : NULL;
  json_t *ports = json_object_get (json_object_get (insp, "NetworkSettings"), "Ports");
  if (!json_is_object (ports))
    ports = json_object_get (json_object_get (r->config, "Config"), "ExposedPorts");
  const char *k;
  json_t *v;
  json_object_foreach (ports, k, v)
  {
    if (json_array_size (v) == 0)
      {
        sbuf_addf (&b, "%s%s", b.len ? ", " : "", k);
        continue;
      }
    size_t i;
    json_t *bnd;
    json_array_foreach (v, i, bnd)
    {
      const char *ip = json_get_str (bnd, "HostIp");
      sbuf_addf (&b, "%s%s:%s->%s", b.len ? ", " : "", ip && ip[0] ? ip : "0.0.0.0",
                 json_get_str (bnd, "HostPort"), k);
    }
  }
  return sbuf_detach (&b);
}

static int cc_ps (struct compose_cli *cc, int argc, char **argv)
{
  bool all = false, quiet = false, services = false;
  const char *format = NULL;
  cleanup_strv char **status = NULL, **filter = NULL;
  const struct opt opts[] = {
    { "all", 'a', OPT_BOOL, &all, NULL,
      "Show all stopped containers (including those created by the run command)" },
    { "quiet", 'q', OPT_BOOL, &quiet, NULL, "Only display IDs" },
    { "services", 0, OPT_BOOL, &services, NULL, "Display services" },
    { "format", 0, OPT_STRING, &format, "string",
      "Format output using a custom template: 'table', 'table TEMPLATE', 'json', 'TEMPLATE'" },
    { "status", 0, OPT_STRINGS, &status, "stringArray", "Filter services by status" },
    { "filter", 0, OPT_STRINGS, &filter, "string", "Filter services by a property" },
    { NULL, 0, 0, NULL, NULL, NULL },
  };
  char **args = NULL;
  int r
      = parse (cc, "ps [OPTIONS] [SERVICE...]", "List containers", opts, 0, -1, argc, argv, &args);
  cleanup_free char **argsv = args;
  if (r)
    return r < 0 ? 0 : r;
  for (char **f = filter; f && *f; f++)
    {
      if (!str_has_prefix (*f, "status="))
        return cli_errorf ("unknown filter %s", *f);
      strv_push (&status, *f + 7);
    }
  struct cup u;
  if ((r = cup_open (cc, false, &u)) != 0)
    {
      cup_release (&u);
      return r;
    }
  berr_t err = BERR_INIT;
  struct container_rec **cs = NULL;
  size_t n = 0;
  if (compose_containers (&u.c, u.project, NULL, all, false, &cs, &n, &err) < 0)
    {
      cup_release (&u);
      return cli_error (&err);
    }
  for (char **s = args; u.p && s && *s; s++)
    if (!compose_service_find (u.p, *s))
      {
        container_recs_free (cs, n);
        cup_release (&u);
        return cli_errorf ("no such service: %s", *s);
      }
  cleanup_json json_t *rows = json_array ();
  cleanup_strv char **svcs = NULL;
  for (size_t i = 0; i < n; i++)
    {
      const char *sv = compose_label_of (cs[i], COMPOSE_LABEL_SERVICE);
      const char *st = container_status (cs[i]);
      if (args && args[0] && (!sv || !strv_contains (args, sv)))
        continue;
      if (!all && !status && !container_is_running (cs[i]))
        continue;
      if (status && !strv_contains (status, st))
        continue;
      if (services)
        {
          if (sv && !strv_contains (svcs, sv))
            strv_push (&svcs, sv);
          continue;
        }
      cleanup_free char *cmd = command_text (cs[i]);
      cleanup_free char *running_for = ago (cs[i]->created_ns);
      cleanup_free char *stext = container_status_text (cs[i]);
      cleanup_free char *ports = ports_text (&u.c, cs[i]);
      const char *health = json_get_str (json_object_get (cs[i]->state, "Health"), "Status");
      json_t *cfg = json_object_get (cs[i]->config, "Config");
      json_array_append_new (
          rows,
          json_pack ("{s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:s, s:s, s:s, s:s, s:I, s:s}", "ID",
                     cs[i]->id, "Name", cs[i]->name, "Image",
                     json_get_str (cfg, "Image") ? json_get_str (cfg, "Image") : "", "Command", cmd,
                     "Project", u.project, "Service", sv ? sv : "", "Created",
                     (json_int_t)(cs[i]->created_ns / 1000000000LL), "RunningFor", running_for,
                     "State", st, "Status", stext, "Health", health ? health : "", "ExitCode",
                     json_integer_value (json_object_get (cs[i]->state, "ExitCode")), "Ports",
                     ports));
    }
  container_recs_free (cs, n);
  cup_release (&u);
  if (services)
    {
      for (char **s = svcs; s && *s; s++)
        printf ("%s\n", *s);
      return 0;
    }
  if (quiet)
    return print_rows (rows, "{{.ID}}", NULL, NULL);
  cleanup_json json_t *headers = json_pack (
      "{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "ID", "CONTAINER ID", "Name",
      "NAME", "Image", "IMAGE", "Command", "COMMAND", "Project", "PROJECT", "Service", "SERVICE",
      "RunningFor", "CREATED", "State", "STATE", "Status", "STATUS", "Health", "HEALTH", "ExitCode",
      "EXIT CODE", "Ports", "PORTS");
  if (format && strcmp (format, "json") == 0)
    {
      size_t i;
      json_t *row;
      json_array_foreach (rows, i, row)
      {
        cleanup_free char *s = json_dumps (row, JSON_COMPACT);
        printf ("%s\n", s);
      }
      return 0;
    }
  if (format && strcmp (format, "table") == 0)
    format = NULL;
  return print_rows (rows, format,
                     "table {{.Name}}\t{{.Image}}\t{{.Command}}\t{{.Service}}\t{{.RunningFor}}\t{{."
                     "Status}}\t{{.Ports}}",
                     headers);
}

/* ---- ls ---- */

static int cc_ls (struct compose_cli *cc, int argc, char **argv)
{
  bool all = false, quiet = false;
  const char *format = NULL;
  cleanup_strv char **filter = NULL;
  const struct opt opts[] = {
    { "all", 'a', OPT_BOOL, &all, NULL, "Show all stopped Compose projects" },
    { "quiet", 'q', OPT_BOOL, &quiet, NULL, "Only display project names" },
    { "format", 0, OPT_STRING, &format, "string", "Format the output. Values: [table | json]" },
    { "filter", 0, OPT_STRINGS, &filter, "filter", "Filter output based on conditions provided" },
    { NULL, 0, 0, NULL, NULL, NULL },
  };
  char **args = NULL;
  int r
      = parse (cc, "ls [OPTIONS]", "List running compose projects", opts, 0, 0, argc, argv, &args);
  free (args);
  if (r)
    return r < 0 ? 0 : r;
  struct compose_ctx c;
  if (compose_cli_ctx (cc, &c) != 0)
    return 1;
  berr_t err = BERR_INIT;
  cleanup_json json_t *rows = NULL;
  if (compose_projects (&c, all, &rows, &err) < 0)
    return cli_error (&err);
  for (char **f = filter; f && *f; f++)
    {
      if (!str_has_prefix (*f, "name="))
        return cli_errorf ("invalid filter '%s'", *f);
      size_t i = 0;
      while (i < json_array_size (rows))
        if (strcmp (json_get_str (json_array_get (rows, i), "Name"), *f + 5) != 0)
          json_array_remove (rows, i);
        else
          i++;
    }
  if (quiet)
    return print_rows (rows, "{{.Name}}", NULL, NULL);
  if (format && strcmp (format, "json") == 0)
    {
      cleanup_free char *s = json_dumps (rows, JSON_COMPACT);
      printf ("%s\n", s);
      return 0;
    }
  if (format && strcmp (format, "table") == 0)
    format = NULL;
  cleanup_json json_t *headers = json_pack ("{s:s, s:s, s:s}", "Name", "NAME", "Status", "STATUS",
                                            "ConfigFiles", "CONFIG FILES");
  return print_rows (rows, format, "table {{.Name}}\t{{.Status}}\t{{.ConfigFiles}}", headers);
}

const struct compose_subcmd compose_lifecycle_cmds[] = {
  { "create", cc_create, "Creates containers for a service" },
  { "down", cc_down, "Stop and remove containers, networks" },
  { "kill", cc_kill, "Force stop service containers" },
  { "ls", cc_ls, "List running compose projects" },
  { "pause", cc_pause, "Pause services" },
  { "ps", cc_ps, "List containers" },
  { "restart", cc_restart, "Restart service containers" },
  { "rm", cc_rm, "Removes stopped service containers" },
  { "start", cc_start, "Start services" },
  { "stop", cc_stop, "Stop services" },
  { "unpause", cc_unpause, "Unpause services" },
  { "up", cc_up, "Create and start containers" },
  { NULL, NULL, NULL },
};
