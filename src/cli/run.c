/* run.c — run, create and start: the flags become Docker's create body (runopts.c), the engine
 * creates the container, and start runs it here (foreground: this process is the monitor) or
 * under a detached monitor. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "image/ref.h"
#include "cli/runopts.h"
#include "container/container.h"
#include "util/json.h"
#include "util/log.h"

/* Docker's exit code for an engine error in run/create/start, by the failure's kind. */
static int run_error (berr_t *err)
{
  int code = EXIT_ENGINE;
  if (err->kind == BERR_EXEC)
    code = err->errnum == ENOENT ? EXIT_NOT_FOUND : EXIT_CANNOT_EXEC;
  fprintf (stderr, "Error: %s\n", err->msg ? err->msg : "unknown error");
  berr_release (err);
  return code;
}

static int create_from_request (struct berth_ctx *ctx, struct run_request *req, struct engine **ep,
                                struct container_rec **out)
{
  if (ctx_engine (ctx, ep) < 0)
    return EXIT_ENGINE;
  struct engine *e = *ep;
  json_t *config = json_object_get (req->body, "Config");
  if (!json_is_object (config))
    json_object_set_new (req->body, "Config", config = json_object ());
  json_object_set_new (config, "Image", json_string (req->args[0]));
  if (req->args[1])
    json_object_set_new (config, "Cmd", json_from_strv (req->args + 1));
  if (req->pull && strcmp (req->pull, "always") == 0
      && cli_pull_image (ctx, req->args[0], req->platform, stderr, req->quiet, NULL) < 0)
    return EXIT_ENGINE;
  /* Docker names the image as the user wrote it, ":latest" added to a bare name. */
  cleanup_free char *shown = NULL;
  const char *img = req->args[0];
  if (strchr (img, '@') == NULL
      && strchr (strrchr (img, '/') ? strrchr (img, '/') : img, ':') == NULL
      && !str_is_hex (img, strlen (img)))
    shown = xasprintf ("%s:latest", img);
  berr_t err = BERR_INIT;
  log_debug ("run: create");
  int cr = container_create (e, req->body, out, &err);
  if (cr < 0 && err.kind == BERR_NOT_FOUND && str_has_prefix (err.msg, "No such image") && req->pull
      && strcmp (req->pull, "missing") == 0)
    {
      /* Docker's order: the notice, the pull (on stderr), then the create. */
      struct image_ref ref = { 0 };
      berr_t perr = BERR_INIT;
      if (ref_parse_normalized (img, &ref, &perr) == 0)
        {
          ref_tag_name_only (&ref);
          free (shown);
          shown = ref_familiar (&ref);
        }
      ref_release (&ref);
      berr_release (&perr);
      if (!req->quiet)
        fprintf (stderr, "Unable to find image '%s' locally\n", shown ? shown : img);
      berr_release (&err);
      if (cli_pull_image (ctx, req->args[0], req->platform, stderr, req->quiet, NULL) < 0)
        return EXIT_ENGINE;
      cr = container_create (e, req->body, out, &err);
    }
  if (cr < 0)
    {
      if (err.kind == BERR_NOT_FOUND && str_has_prefix (err.msg, "No such image")
          && !(req->pull && strcmp (req->pull, "missing") == 0))
        fprintf (stderr, "Unable to find image '%s' locally\n", shown ? shown : img);
      return run_error (&err);
    }
  if (req->cidfile)
    {
      int fd = open (req->cidfile, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
      if (fd < 0)
        {
          fprintf (stderr,
                   "Error: Container ID file found, make sure the other container isn't "
                   "running or delete %s\n",
                   req->cidfile);
          container_remove (e, *out, true, true, &err);
          berr_release (&err);
          container_rec_free (*out);
          *out = NULL;
          return EXIT_ENGINE;
        }
      (void)!write (fd, (*out)->id, strlen ((*out)->id));
      close (fd);
    }
  return 0;
}

int cmd_create (int argc, char **argv, struct berth_ctx *ctx)
{
  struct run_request req = { 0 };
  int r = runopts_parse (argc, argv, ctx->cmdpath, false, &req);
  if (r)
    {
      run_request_release (&req);
      return r < 0 ? 0 : r;
    }
  struct engine *e;
  struct container_rec *c = NULL;
  r = create_from_request (ctx, &req, &e, &c);
  if (r == 0)
    printf ("%s\n", c->id);
  container_rec_free (c);
  run_request_release (&req);
  return r;
}

static int run_foreground (struct engine *e, struct container_rec *c, struct run_request *req)
{
  json_t *config = json_object_get (c->config, "Config");
  bool tty = json_is_true (json_object_get (config, "Tty"));
  struct start_opts so = {
    .foreground = true,
    .local_in = 0,
    .local_out = 1,
    .local_err = 2,
    .local_tty = tty && isatty (0),
    .detach_keys = req->detach_keys,
    .sig_proxy = req->sig_proxy && !tty,
    .attach_stdin = json_is_true (json_object_get (config, "AttachStdin")),
    .attach_stdout = !json_is_false (json_object_get (config, "AttachStdout")),
    .attach_stderr = !json_is_false (json_object_get (config, "AttachStderr")),
  };
  if (tty && so.attach_stdin && !isatty (0))
    {
      fprintf (stderr, "the input device is not a TTY\n");
      berr_t err = BERR_INIT;
      container_remove (e, c, true, true, &err);
      berr_release (&err);
      return 1;
    }
  struct monitor_result res = { 0 };
  berr_t err = BERR_INIT;
  int r = container_start (e, c, &so, &res, &err);
  if (r < 0)
    {
      int code = run_error (&err);
      if (json_is_true (json_object_get (json_object_get (c->config, "HostConfig"), "AutoRemove")))
        {
          container_remove (e, c, true, true, &err);
          berr_release (&err);
        }
      return code;
    }
  if (res.detached)
    return 0;
  return res.exit_code;
}

int cmd_run (int argc, char **argv, struct berth_ctx *ctx)
{
  struct run_request req = { 0 };
  int r = runopts_parse (argc, argv, ctx->cmdpath, true, &req);
  if (r)
    {
      run_request_release (&req);
      return r < 0 ? 0 : r;
    }
  struct engine *e;
  struct container_rec *c = NULL;
  r = create_from_request (ctx, &req, &e, &c);
  if (r != 0)
    {
      run_request_release (&req);
      return r;
    }
  if (req.detach)
    {
      struct start_opts so = { .foreground = false };
      struct monitor_result res;
      berr_t err = BERR_INIT;
      if (container_start (e, c, &so, &res, &err) < 0)
        {
          r = run_error (&err);
          if (req.rm)
            {
              container_remove (e, c, true, true, &err);
              berr_release (&err);
            }
        }
      else
        printf ("%s\n", c->id);
    }
  else
    r = run_foreground (e, c, &req);
  container_rec_free (c);
  run_request_release (&req);
  return r;
}

int cmd_start (int argc, char **argv, struct berth_ctx *ctx)
{
  bool attach = false, interactive = false;
  const char *detach_keys = NULL;
  const struct opt opts[] = {
    { "attach", 'a', OPT_BOOL, &attach, NULL, "Attach STDOUT/STDERR and forward signals" },
    { "detach-keys", 0, OPT_STRING, &detach_keys, "string",
      "Override the key sequence for detaching a container" },
    { "interactive", 'i', OPT_BOOL, &interactive, NULL, "Attach container's STDIN" },
    { NULL, 0, 0, NULL, NULL, NULL },
  };
  const struct cmd_spec spec = { "start [OPTIONS] CONTAINER [CONTAINER...]",
                                 "Start one or more stopped containers",
                                 "berth container start, berth start",
                                 opts,
                                 1,
                                 -1,
                                 NULL };
  cleanup_free char **args = NULL;
  int r = opts_parse (&spec, ctx->cmdpath, argc, argv, &args);
  if (r)
    return r < 0 ? 0 : r;
  struct engine *e;
  if (ctx_engine (ctx, &e) < 0)
    return 1;
  if ((attach || interactive) && args[1])
    return cli_errorf ("you cannot start and attach multiple containers at once");
  int rc = 0;
  for (size_t i = 0; args[i]; i++)
    {
      berr_t err = BERR_INIT;
      struct container_rec *c = NULL;
      if (container_get (e, args[i], &c, &err) < 0)
        {
          fprintf (stderr, "Error response from daemon: %s\n", err.msg);
          berr_release (&err);
          rc = 1;
          continue;
        }
      if (attach || interactive)
        {
          /* Attached start: this process is the monitor, as for run, so no output is lost
           * between the start and the attach. */
          json_t *config = json_object_get (c->config, "Config");
          bool tty = json_is_true (json_object_get (config, "Tty"));
          struct start_opts so = {
            .foreground = true,
            .local_in = 0,
            .local_out = 1,
            .local_err = 2,
            .local_tty = tty && isatty (0),
            .detach_keys = detach_keys,
            .sig_proxy = !tty,
            .attach_stdin = interactive && json_is_true (json_object_get (config, "OpenStdin")),
            .attach_stdout = true,
            .attach_stderr = true,
          };
          struct monitor_result res = { 0 };
          int s = container_start (e, c, &so, &res, &err);
          if (s < 0)
            rc = run_error (&err);
          else if (s == 1)
            rc = attach_container (e, c, !interactive, !tty, detach_keys), c = NULL;
          else
            rc = res.detached ? 0 : res.exit_code;
          container_rec_free (c);
          return rc;
        }
      struct start_opts so = { .foreground = false };
      struct monitor_result res;
      if (container_start (e, c, &so, &res, &err) < 0)
        {
          fprintf (stderr, "Error response from daemon: %s\n", err.msg);
          berr_release (&err);
          rc = 1;
        }
      else
        printf ("%s\n", args[i]);
      fflush (stdout);
      container_rec_free (c);
    }
  return rc;
}
