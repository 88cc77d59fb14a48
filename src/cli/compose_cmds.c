/* compose_cmds.c — `berth compose` logs, exec, top, port, images, build, pull, push (run is in
 * compose_run.c). Each finds the project's containers by their labels (compose_containers) and
 * drives the same core as the single-container command. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "build/build.h"
#include "cli/compose_cli.h"
#include "cli/compose_int.h"
#include "image/ref.h"
#include "util/fs.h"
#include "util/json.h"

/* ---------- shared helpers (compose_int.h) ---------- */

int ccmd_project (struct compose_cli *cc, bool need_file, struct compose_project **p, char **name)
{
  berr_t err = BERR_INIT;
  *p = NULL;
  *name = NULL;
  if (compose_project_load (cc->opts, p, &err) == 0)
    {
      *name = xstrdup ((*p)->name);
      return 0;
    }
  if (!need_file && cc->project_name_given)
    {
      /* Without a file, -p (or COMPOSE_PROJECT_NAME) names the project: its containers say
       * the rest. */
      berr_release (&err);
      const char *n
          = cc->opts->project_name ? cc->opts->project_name : getenv ("COMPOSE_PROJECT_NAME");
      *name = compose_normalize_project_name (n);
      return 0;
    }
  return cli_error (&err);
}

const char *ccmd_label (const struct container_rec *c, const char *key)
{
  json_t *labels = json_object_get (json_object_get (c->config, "Config"), "Labels");
  return json_string_value (json_object_get (labels, key));
}

int ccmd_number (const struct container_rec *c)
{
  const char *n = ccmd_label (c, COMPOSE_LABEL_NUMBER);
  return n ? atoi (n) : 0;
}

int ccmd_check_services (const struct compose_project *p, char **services)
{
  for (size_t i = 0; p && services && services[i]; i++)
    if (compose_service_find (p, services[i]) == NULL)
      return cli_errorf ("no such service: %s", services[i]);
  return 0;
}

int ccmd_load (struct compose_cli *cc, char **services, struct compose_ctx *c,
               struct compose_project **p)
{
  int r = compose_cli_load (cc, p);
  if (r == 0
      && ((r = ccmd_check_services (*p, services)) != 0 || (r = compose_cli_ctx (cc, c)) != 0))
    {
      compose_project_free (*p);
      *p = NULL;
    }
  return r;
}

int ccmd_open (struct compose_cli *cc, char **services, struct compose_ctx *c, char **project)
{
  struct compose_project *p = NULL;
  int r = ccmd_project (cc, false, &p, project);
  if (r == 0 && (r = ccmd_check_services (p, services)) == 0)
    r = compose_cli_ctx (cc, c);
  compose_project_free (p);
  return r;
}

int ccmd_containers (struct compose_ctx *c, const char *project, char **services, bool oneoff,
                     struct container_rec ***out, size_t *n)
{
  berr_t err = BERR_INIT;
  struct container_rec **all = NULL;
  size_t nall = 0;
  if (compose_containers (c, project, NULL, oneoff, false, &all, &nall, &err) < 0)
    return cli_error (&err);
  *out = xcalloc (nall + 1, sizeof **out);
  *n = 0;
  for (size_t i = 0; i < nall; i++)
    {
      const char *svc = ccmd_label (all[i], COMPOSE_LABEL_SERVICE);
      if (services == NULL || services[0] == NULL || (svc && strv_contains (services, svc)))
        (*out)[(*n)++] = steal_pointer (&all[i]);
    }
  container_recs_free (all, nall);
  return 0;
}

bool ccmd_stdin_pollable (void)
{
  int ep = epoll_create1 (EPOLL_CLOEXEC);
  if (ep < 0)
    return false;
  struct epoll_event ev = { .events = EPOLLIN };
  bool ok = epoll_ctl (ep, EPOLL_CTL_ADD, 0, &ev) == 0;
  close (ep);
  return ok;
}

/* The running container of a service for exec/top/port: number index, or the first. */
static int service_container (struct compose_ctx *c, const char *project, const char *service,
                              long index, struct container_rec **out)
{
  berr_t err = BERR_INIT;
  struct container_rec **cs = NULL;
  size_t n = 0;
  *out = NULL;
  if (compose_containers (c, project, service, false, false, &cs, &n, &err) < 0)
    return cli_error (&err);
  for (size_t i = 0; i < n && *out == NULL; i++)
    if (container_is_running (cs[i]) && (index <= 0 || ccmd_number (cs[i]) == index))
      *out = steal_pointer (&cs[i]);
  container_recs_free (cs, n);
  if (*out)
    return 0;
  if (index > 0)
    return cli_errorf ("service \"%s\" is not running container #%ld", service, index);
  return cli_errorf ("service \"%s\" is not running", service);
}

/* ---------- logs ---------- */

static int cmd_clogs (struct compose_cli *cc, int argc, char **argv)
{
  bool follow = false, timestamps = false, no_color = false, no_prefix = false;
  const char *tail = "all", *since = NULL, *until = NULL;
  long index = 0;
  const struct opt opts[] = {
    { "follow", 'f', OPT_BOOL, &follow, NULL, "Follow log output" },
    { "index", 0, OPT_INT, &index, "int",
      "index of the container if service has multiple replicas" },
    { "no-color", 0, OPT_BOOL, &no_color, NULL, "Produce monochrome output" },
    { "no-log-prefix", 0, OPT_BOOL, &no_prefix, NULL, "Don't print prefix in logs" },
    { "since", 0, OPT_STRING, &since, "string",
      "Show logs since timestamp (e.g. 2013-01-02T13:23:37Z) or relative (e.g. 42m for 42 "
      "minutes)" },
    { "tail", 'n', OPT_STRING, &tail, "string",
      "Number of lines to show from the end of the logs for each container (default \"all\")" },
    { "timestamps", 't', OPT_BOOL, &timestamps, NULL, "Show timestamps" },
    { "until", 0, OPT_STRING, &until, "string",
      "Show logs before a timestamp (e.g. 2013-01-02T13:23:37Z) or relative (e.g. 42m for 42 "
      "minutes)" },
    { NULL, 0, 0, NULL, NULL, NULL },
  };
  const struct cmd_spec spec = {
    "compose logs [OPTIONS] [SERVICE...]", "View output from containers", NULL, opts, 0, -1, NULL
  };
  cleanup_free char **args = NULL;
  int r = opts_parse (&spec, "berth compose logs", argc, argv, &args);
  if (r)
    return r < 0 ? 0 : r;
  struct compose_logs_opts lo = { .follow = follow,
                                  .timestamps = timestamps,
                                  .no_prefix = no_prefix,
                                  .no_color = no_color,
                                  .tail = -1,
                                  .since = since,
                                  .until = until };
  if (strcmp (tail, "all") != 0)
    {
      char *end;
      long v = strtol (tail, &end, 10);
      if (*tail == '\0' || *end != '\0')
        return cli_errorf ("invalid value for \"tail\": \"%s\"", tail);
      lo.tail = v < 0 ? -1 : v;
    }
  cleanup_free char *project = NULL;
  struct compose_ctx c;
  if ((r = ccmd_open (cc, args, &c, &project)) != 0)
    return r;
  struct container_rec **cs = NULL;
  size_t n = 0;
  r = ccmd_containers (&c, project, args, false, &cs, &n);
  if (r == 0 && index > 0)
    {
      size_t k = 0;
      for (size_t i = 0; i < n; i++)
        if (ccmd_number (cs[i]) == index)
          cs[k++] = steal_pointer (&cs[i]);
        else
          container_rec_free (steal_pointer (&cs[i]));
      n = k;
    }
  if (r == 0)
    r = compose_cli_logs (cc, cs, n, &lo);
  container_recs_free (cs, n);
  return r;
}

/* ---------- exec ---------- */

static int cmd_cexec (struct compose_cli *cc, int argc, char **argv)
{
  bool detach = false, no_tty = !isatty (0), privileged = false, interactive = true;
  const char *user = NULL, *workdir = NULL;
  cleanup_strv char **env = NULL;
  long index = 0;
  const struct opt opts[] = {
    { "detach", 'd', OPT_BOOL, &detach, NULL, "Detached mode: Run command in the background" },
    { "env", 'e', OPT_STRINGS, &env, "stringArray", "Set environment variables" },
    { "index", 0, OPT_INT, &index, "int",
      "Index of the container if service has multiple replicas" },
    { "interactive", 'i', OPT_BOOL, &interactive, NULL, "Keep STDIN open even if not attached" },
    { "no-TTY", 'T', OPT_BOOL, &no_tty, NULL,
      "Disable pseudo-TTY allocation. By default `compose exec` allocates a TTY" },
    { "privileged", 0, OPT_BOOL, &privileged, NULL, "Give extended privileges to the process" },
    { "user", 'u', OPT_STRING, &user, "string", "Run the command as this user" },
    { "workdir", 'w', OPT_STRING, &workdir, "string",
      "Path to workdir directory for this command" },
    { NULL, 0, 0, NULL, NULL, NULL },
  };
  const struct cmd_spec spec = { "compose exec [OPTIONS] SERVICE COMMAND [ARGS...]",
                                 "Execute a command in a running container",
                                 NULL,
                                 opts,
                                 2,
                                 -1,
                                 NULL };
  cleanup_free char **args = NULL;
  int r = opts_parse_flags (&spec, "berth compose exec", argc, argv, &args, OPTS_STOP_AT_FIRST_ARG);
  if (r)
    return r < 0 ? 0 : r;
  cleanup_free char *project = NULL;
  char *one[] = { args[0], NULL };
  struct compose_ctx c;
  struct container_rec *target = NULL;
  if ((r = ccmd_open (cc, one, &c, &project)) != 0
      || (r = service_container (&c, project, args[0], index, &target)) != 0)
    return r;
  /* `berth exec` does the rest, with the same flags. */
  cleanup_strv char **xv = NULL;
  strv_push (&xv, "exec");
  if (detach)
    strv_push (&xv, "--detach");
  if (interactive && !detach && ccmd_stdin_pollable ())
    strv_push (&xv, "--interactive");
  if (!no_tty && !detach)
    strv_push (&xv, "--tty");
  if (privileged)
    strv_push (&xv, "--privileged");
  if (user)
    strv_push_take (&xv, xasprintf ("--user=%s", user));
  if (workdir)
    strv_push_take (&xv, xasprintf ("--workdir=%s", workdir));
  for (size_t i = 0; env && env[i]; i++)
    strv_push_take (&xv, xasprintf ("--env=%s", env[i]));
  strv_push (&xv, target->id);
  for (size_t i = 1; args[i]; i++)
    strv_push (&xv, args[i]);
  container_rec_free (target);
  const char *saved = cc->ctx->cmdpath;
  cc->ctx->cmdpath = "berth compose exec";
  r = cmd_exec ((int)strv_len (xv), xv, cc->ctx);
  cc->ctx->cmdpath = saved;
  return r;
}

/* ---------- top ---------- */

static int cmd_ctop (struct compose_cli *cc, int argc, char **argv)
{
  const struct opt opts[] = { { NULL, 0, 0, NULL, NULL, NULL } };
  const struct cmd_spec spec
      = { "compose top [SERVICES...]", "Display the running processes", NULL, opts, 0, -1, NULL };
  cleanup_free char **args = NULL;
  int r = opts_parse (&spec, "berth compose top", argc, argv, &args);
  if (r)
    return r < 0 ? 0 : r;
  cleanup_free char *project = NULL;
  struct compose_ctx c;
  if ((r = ccmd_open (cc, args, &c, &project)) != 0)
    return r;
  struct container_rec **cs = NULL;
  size_t n = 0;
  if ((r = ccmd_containers (&c, project, args, false, &cs, &n)) != 0)
    return r;
  for (size_t i = 0; i < n && r == 0; i++)
    {
      if (!container_is_running (cs[i]))
        continue;
      printf ("%s\n", cs[i]->name);
      fflush (stdout);
      char *tv[] = { "top", cs[i]->id, NULL };
      r = cmd_top (2, tv, cc->ctx);
      printf ("\n");
      fflush (stdout);
    }
  container_recs_free (cs, n);
  return r;
}

/* ---------- port ---------- */

static int cmd_cport (struct compose_cli *cc, int argc, char **argv)
{
  const char *protocol = "tcp";
  long index = 0;
  const struct opt opts[] = {
    { "index", 0, OPT_INT, &index, "int",
      "Index of the container if service has multiple replicas" },
    { "protocol", 0, OPT_STRING, &protocol, "string", "tcp or udp (default \"tcp\")" },
    { NULL, 0, 0, NULL, NULL, NULL },
  };
  const struct cmd_spec spec = { "compose port [OPTIONS] SERVICE PRIVATE_PORT",
                                 "Print the public port for a port binding",
                                 NULL,
                                 opts,
                                 2,
                                 2,
                                 NULL };
  cleanup_free char **args = NULL;
  int r = opts_parse (&spec, "berth compose port", argc, argv, &args);
  if (r)
    return r < 0 ? 0 : r;
  char *end;
  long port = strtol (args[1], &end, 10);
  if (*args[1] == '\0' || *end != '\0' || port <= 0 || port > 65535)
    return cli_errorf ("invalid port \"%s\"", args[1]);
  cleanup_free char *project = NULL;
  char *one[] = { args[0], NULL };
  struct compose_ctx c;
  struct container_rec *target = NULL;
  if ((r = ccmd_open (cc, one, &c, &project)) != 0
      || (r = service_container (&c, project, args[0], index, &target)) != 0)
    return r;
  cleanup_json json_t *insp = container_inspect_json (c.e, target);
  cleanup_free char *key = xasprintf ("%ld/%s", port, protocol);
  json_t *binds
      = json_object_get (json_object_get (json_object_get (insp, "NetworkSettings"), "Ports"), key);
  json_t *b = json_array_get (binds, 0);
  if (b == NULL)
    {
      r = cli_errorf ("no port %s for container %s", key, target->name);
      container_rec_free (target);
      return r;
    }
  const char *ip = json_get_str (b, "HostIp");
  printf ("%s:%s\n", ip && *ip ? ip : "0.0.0.0", json_get_str (b, "HostPort"));
  container_rec_free (target);
  return 0;
}

/* ---------- images ---------- */

static int cmd_cimages (struct compose_cli *cc, int argc, char **argv)
{
  bool quiet = false;
  const char *format = "table";
  const struct opt opts[] = {
    { "format", 0, OPT_STRING, &format, "string", "Format the output. Values: [table | json]" },
    { "quiet", 'q', OPT_BOOL, &quiet, NULL, "Only display IDs" },
    { NULL, 0, 0, NULL, NULL, NULL },
  };
  const struct cmd_spec spec = { "compose images [OPTIONS] [SERVICE...]",
                                 "List images used by the created containers",
                                 NULL,
                                 opts,
                                 0,
                                 -1,
                                 NULL };
  cleanup_free char **args = NULL;
  int r = opts_parse (&spec, "berth compose images", argc, argv, &args);
  if (r)
    return r < 0 ? 0 : r;
  bool json = strcmp (format, "json") == 0;
  if (!json && strcmp (format, "table") != 0)
    return cli_errorf ("unsupported format \"%s\"", format);
  cleanup_free char *project = NULL;
  struct compose_ctx c;
  if ((r = ccmd_open (cc, args, &c, &project)) != 0)
    return r;
  struct container_rec **cs = NULL;
  size_t n = 0;
  if ((r = ccmd_containers (&c, project, args, false, &cs, &n)) != 0)
    return r;
  cleanup_json json_t *rows = json_array ();
  cleanup_strv char **seen = NULL;
  for (size_t i = 0; i < n; i++)
    {
      berr_t err = BERR_INIT;
      struct image_rec *img = NULL;
      if (store_image_get (c.s, cs[i]->image_id, &img, &err) < 0)
        {
          berr_release (&err);
          continue;
        }
      if (quiet)
        {
          if (!strv_contains (seen, img->id))
            {
              strv_push (&seen, img->id);
              printf ("%s\n", img->id);
            }
          image_rec_free (img);
          continue;
        }
      /* The tag the container was created from when it still names the image, else the
       * image's first tag. */
      const char *want = json_get_str (json_object_get (cs[i]->config, "Config"), "Image");
      cleanup_free char *repo = NULL, *tag = NULL;
      const char *full = NULL;
      cleanup_free char *want_full = NULL;
      if (want && ref_tag_target (want, &want_full, &err) == 0
          && strv_contains (img->tags, want_full))
        full = want_full;
      else
        berr_release (&err);
      if (full == NULL && img->tags && img->tags[0])
        full = img->tags[0];
      if (full)
        {
          struct image_ref ref = { 0 };
          if (ref_parse_normalized (full, &ref, &err) == 0)
            {
              repo = ref_familiar_name (&ref);
              tag = xstrdup (ref.tag ? ref.tag : "latest");
            }
          else
            berr_release (&err);
          ref_release (&ref);
        }
      json_t *row = json_object ();
      json_object_set_new (row, "ContainerName", json_string (cs[i]->name));
      json_object_set_new (row, "Repository", json_string (repo ? repo : "<none>"));
      json_object_set_new (row, "Tag", json_string (tag ? tag : "<none>"));
      json_object_set_new (row, "ID", json_string (img->id));
      json_object_set_new (row, "Size", json_integer (img->size));
      json_array_append_new (rows, row);
      image_rec_free (img);
    }
  container_recs_free (cs, n);
  if (quiet)
    return 0;
  if (json)
    {
      char *s = json_dumps (rows, JSON_COMPACT | JSON_PRESERVE_ORDER);
      printf ("%s\n", s);
      free (s);
      return 0;
    }
  size_t w[4]
      = { strlen ("CONTAINER"), strlen ("REPOSITORY"), strlen ("TAG"), strlen ("IMAGE ID") };
  size_t i;
  json_t *row;
  json_array_foreach (rows, i, row)
  {
    const char *f[3] = { json_get_str (row, "ContainerName"), json_get_str (row, "Repository"),
                         json_get_str (row, "Tag") };
    for (int k = 0; k < 3; k++)
      w[k] = strlen (f[k]) > w[k] ? strlen (f[k]) : w[k];
    w[3] = 12 > w[3] ? 12 : w[3];
  }
  printf ("%-*s   %-*s   %-*s   %-*s   %s\n", (int)w[0], "CONTAINER", (int)w[1], "REPOSITORY",
          (int)w[2], "TAG", (int)w[3], "IMAGE ID", "SIZE");
  json_array_foreach (rows, i, row)
  {
    cleanup_free char *id = fmt_short_id (json_get_str (row, "ID"));
    cleanup_free char *size = fmt_size (json_integer_value (json_object_get (row, "Size")));
    printf ("%-*s   %-*s   %-*s   %-*s   %s\n", (int)w[0], json_get_str (row, "ContainerName"),
            (int)w[1], json_get_str (row, "Repository"), (int)w[2], json_get_str (row, "Tag"),
            (int)w[3], id, size);
  }
  return 0;
}

/* ---------- build ---------- */

int ccmd_build_service (struct compose_ctx *c, struct berth_ctx *ctx,
                        const struct compose_project *p, const struct compose_service *svc,
                        char **extra_args, bool no_cache, bool pull, bool quiet)
{
  const struct compose_build *b = svc->build;
  if (b->dockerfile_inline)
    return cli_errorf ("service \"%s\": build.dockerfile_inline is not supported", svc->name);
  cleanup_free char *image = compose_service_image (p, svc);
  berr_t err = BERR_INIT;
  cleanup_strv char **tags = NULL;
  char *full = NULL;
  if (ref_tag_target (image, &full, &err) < 0)
    return cli_error (&err);
  strv_push_take (&tags, full);
  for (size_t i = 0; b->tags && b->tags[i]; i++)
    {
      if (ref_tag_target (b->tags[i], &full, &err) < 0)
        return cli_error (&err);
      strv_push_take (&tags, full);
    }
  cleanup_strv char **args = NULL;
  for (size_t i = 0; b->args && b->args[i]; i++)
    strv_push (&args, b->args[i]);
  for (size_t i = 0; extra_args && extra_args[i]; i++)
    strv_push (&args, extra_args[i]);
  cleanup_free char *dockerfile = NULL;
  if (b->dockerfile)
    dockerfile = b->dockerfile[0] == '/' ? xstrdup (b->dockerfile)
                                         : xasprintf ("%s/%s", b->context, b->dockerfile);
  cleanup_free char *tmp_parent = NULL;
  if (store_stage_dir (c->s, "context", &tmp_parent, &err) < 0)
    return cli_error (&err);
  struct build_context_opts co = { .spec = b->context,
                                   .dockerfile = dockerfile,
                                   .stdin_fd = -1,
                                   .tmp_parent = tmp_parent,
                                   .max_size = ctx->max_layer_size };
  struct build_context *bc = NULL;
  int r = 0;
  cleanup_free char *name = xasprintf ("%s", image);
  if (c->event)
    c->event (c->cookie, "Service", svc->name, "Building");
  if (build_context_open (&co, &bc, &err) < 0)
    r = cli_error (&err);
  else
    {
      struct build_opts bo = {
        .context = bc,
        .tags = tags,
        .build_args = args,
        .target = b->target,
        .no_cache = no_cache,
        .pull = pull,
        .quiet = quiet,
        .labels = b->labels,
        .network = b->network,
        .progress = BUILD_PROGRESS_PLAIN,
        .out_fd = quiet ? -1 : 2,
        .err_fd = 2,
        .rm = true,
      };
      char id[DIGEST_STR_LEN];
      fflush (stdout);
      if (build_run (c->e, &bo, id, &err) < 0)
        {
          fprintf (stderr, "failed to solve: %s\n", err.msg ? err.msg : "build failed");
          berr_release (&err);
          r = 1;
        }
      else if (c->event)
        c->event (c->cookie, "Service", svc->name, "Built");
      build_context_close (bc);
    }
  berr_t e2 = BERR_INIT;
  fs_rm_rf (tmp_parent, &e2);
  berr_release (&e2);
  return r;
}

static int cmd_cbuild (struct compose_cli *cc, int argc, char **argv)
{
  bool no_cache = false, pull = false, quiet = false;
  cleanup_strv char **build_args = NULL;
  const struct opt opts[] = {
    { "build-arg", 0, OPT_STRINGS, &build_args, "stringArray",
      "Set build-time variables for services" },
    { "no-cache", 0, OPT_BOOL, &no_cache, NULL, "Do not use cache when building the image" },
    { "pull", 0, OPT_BOOL, &pull, NULL, "Always attempt to pull a newer version of the image" },
    { "quiet", 'q', OPT_BOOL, &quiet, NULL, "Don't print anything to STDOUT" },
    { NULL, 0, 0, NULL, NULL, NULL },
  };
  const struct cmd_spec spec = {
    "compose build [OPTIONS] [SERVICE...]", "Build or rebuild services", NULL, opts, 0, -1, NULL
  };
  cleanup_free char **args = NULL;
  int r = opts_parse (&spec, "berth compose build", argc, argv, &args);
  if (r)
    return r < 0 ? 0 : r;
  struct compose_project *p = NULL;
  struct compose_ctx c;
  if ((r = ccmd_load (cc, args, &c, &p)) != 0)
    return r;
  for (size_t i = 0; i < p->nservices && r == 0; i++)
    {
      const struct compose_service *svc = &p->services[i];
      if (svc->build == NULL || (args[0] && !strv_contains (args, svc->name)))
        continue;
      r = ccmd_build_service (&c, cc->ctx, p, svc, build_args, no_cache, pull, quiet);
    }
  compose_project_free (p);
  return r;
}

/* ---------- pull, push ---------- */

static int registry_cmd (struct compose_cli *cc, int argc, char **argv, bool push)
{
  bool quiet = false, ignore_failures = false;
  const struct opt opts[] = {
    { "ignore-pull-failures", 0, OPT_BOOL, &ignore_failures, NULL,
      "Pull what it can and ignores images with pull failures" },
    { "ignore-push-failures", 0, OPT_BOOL, &ignore_failures, NULL,
      "Push what it can and ignores images with push failures" },
    { "quiet", 'q', OPT_BOOL, &quiet, NULL, "Pull without printing progress information" },
    { NULL, 0, 0, NULL, NULL, NULL },
  };
  const struct cmd_spec spec
      = { push ? "compose push [OPTIONS] [SERVICE...]" : "compose pull [OPTIONS] [SERVICE...]",
          push ? "Push service images" : "Pull service images",
          NULL,
          opts,
          0,
          -1,
          NULL };
  cleanup_free char **args = NULL;
  int r = opts_parse (&spec, push ? "berth compose push" : "berth compose pull", argc, argv, &args);
  if (r)
    return r < 0 ? 0 : r;
  struct compose_project *p = NULL;
  struct compose_ctx c;
  if ((r = ccmd_load (cc, args, &c, &p)) != 0)
    return r;
  for (size_t i = 0; i < p->nservices; i++)
    {
      const struct compose_service *svc = &p->services[i];
      if (args[0] && !strv_contains (args, svc->name))
        continue;
      /* pull skips services that are only built; push those that have no image: name. */
      if ((!push && svc->build && svc->image == NULL) || (push && svc->image == NULL))
        continue;
      cleanup_free char *image = compose_service_image (p, svc);
      int rr = push ? ccmd_push_image (&c, cc->ctx, image, quiet)
                    : ccmd_pull_image (&c, cc->ctx, image, quiet);
      if (rr != 0 && !ignore_failures)
        r = rr;
    }
  compose_project_free (p);
  return r;
}

static int cmd_cpull (struct compose_cli *cc, int argc, char **argv)
{
  return registry_cmd (cc, argc, argv, false);
}

static int cmd_cpush (struct compose_cli *cc, int argc, char **argv)
{
  return registry_cmd (cc, argc, argv, true);
}

const struct compose_subcmd compose_tool_cmds[] = {
  { "build", cmd_cbuild, "Build or rebuild services" },
  { "exec", cmd_cexec, "Execute a command in a running container" },
  { "images", cmd_cimages, "List images used by the created containers" },
  { "logs", cmd_clogs, "View output from containers" },
  { "port", cmd_cport, "Print the public port for a port binding" },
  { "pull", cmd_cpull, "Pull service images" },
  { "push", cmd_cpush, "Push service images" },
  { "run", ccmd_run, "Run a one-off command on a service" },
  { "top", cmd_ctop, "Display the running processes" },
  { NULL, NULL, NULL },
};
