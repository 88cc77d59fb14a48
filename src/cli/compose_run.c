/* compose_run.c — `berth compose run`: a one-off container of a service
 * (<project>-<service>-run-<12hex>, labelled oneoff=True) from the service's create body, with
 * run's overrides; dependencies are brought up first (compose_up) unless --no-deps. It runs in
 * the foreground like `berth run` (this process is its monitor) and exits with its code.
 * Also the registry access of compose pull/push (stderr, as compose prints). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/compose_int.h"
#include "cli/regprogress.h"
#include "registry/push.h"
#include "cli/runopts.h"
#include "util/json.h"

int ccmd_pull_image (struct compose_ctx *c, struct berth_ctx *ctx, const char *image, bool quiet)
{
  (void)c;
  /* compose writes its progress to stderr; the image's own pull lines go there too. */
  return cli_pull_image (ctx, image, NULL, stderr, quiet, NULL) < 0 ? 1 : 0;
}

int ccmd_push_image (struct compose_ctx *c, struct berth_ctx *ctx, const char *image, bool quiet)
{
  struct reg_config cfg = { 0 };
  berr_t err = BERR_INIT;
  if (reg_config_load (ctx->config, &cfg, &err) < 0)
    return cli_error (&err);
  struct regprog *rp = regprog_new (stderr, isatty (STDERR_FILENO), quiet);
  struct push_opts o = { .cfg = &cfg, .progress = regprog_event, .cookie = rp };
  struct push_result *res = NULL;
  size_t n = 0;
  int r = image_push (c->s, image, &o, &res, &n, &err);
  regprog_free (rp);
  reg_config_release (&cfg);
  if (r < 0)
    return cli_error (&err);
  push_results_free (res, n);
  return 0;
}

static json_t *obj_child (json_t *o, const char *key)
{
  json_t *v = json_object_get (o, key);
  if (!json_is_object (v))
    json_object_set_new (o, key, v = json_object ());
  return v;
}

/* Env "K=V" entries: a later one for the same K replaces the earlier. */
static void env_set (json_t *env, const char *kv)
{
  size_t klen = strcspn (kv, "=");
  size_t i;
  json_t *v;
  json_array_foreach (env, i, v)
  {
    const char *s = json_string_value (v);
    if (s && strncmp (s, kv, klen) == 0 && (s[klen] == '=' || s[klen] == '\0'))
      {
        json_array_set_new (env, i, json_string (kv));
        return;
      }
  }
  json_array_append_new (env, json_string (kv));
}

/* -p, -v and -l as `berth run` reads them: parsed by run's own option code into a throwaway
 * body whose fields are then carried over. */
static int run_flags_body (char **publish, char **volumes, char **labels, json_t **out)
{
  cleanup_strv char **av = NULL;
  strv_push (&av, "run");
  for (size_t i = 0; publish && publish[i]; i++)
    strv_push_take (&av, xasprintf ("--publish=%s", publish[i]));
  for (size_t i = 0; volumes && volumes[i]; i++)
    strv_push_take (&av, xasprintf ("--volume=%s", volumes[i]));
  for (size_t i = 0; labels && labels[i]; i++)
    strv_push_take (&av, xasprintf ("--label=%s", labels[i]));
  strv_push (&av, "scratch");
  struct run_request req = { 0 };
  int r = runopts_parse ((int)strv_len (av), av, "berth compose run", true, &req);
  if (r == 0)
    *out = json_incref (req.body);
  run_request_release (&req);
  return r < 0 ? 1 : r;
}

struct run_flags
{
  bool detach, rm, no_deps, service_ports, no_tty, interactive, use_aliases, build;
  const char *user, *workdir, *name, *entrypoint;
  char **env, **publish, **volumes, **labels;
};

/* The service's body turned into the one-off's. */
static int apply_flags (json_t *body, const struct run_flags *f, char **command, const char *name,
                        const char *service)
{
  json_t *cfg = obj_child (body, "Config");
  json_t *hc = obj_child (body, "HostConfig");
  json_object_set_new (body, "Name", json_string (name));
  if (command && command[0])
    json_object_set_new (cfg, "Cmd", json_from_strv (command));
  if (f->entrypoint)
    {
      cleanup_strv char **ep = NULL;
      berr_t err = BERR_INIT;
      if (compose_shell_split (f->entrypoint, &ep, &err) < 0)
        return cli_error (&err);
      json_object_set_new (cfg, "Entrypoint", json_from_strv (ep));
      /* As compose: a new entrypoint drops the service's command unless one is given. */
      if (command == NULL || command[0] == NULL)
        json_object_set_new (cfg, "Cmd", json_array ());
    }
  json_t *env = json_object_get (cfg, "Env");
  if (!json_is_array (env))
    json_object_set_new (cfg, "Env", env = json_array ());
  for (size_t i = 0; f->env && f->env[i]; i++)
    {
      if (strchr (f->env[i], '=') == NULL)
        {
          /* "-e K": the value from this environment, dropped when unset (docker's rule). */
          const char *v = getenv (f->env[i]);
          if (v)
            {
              cleanup_free char *kv = xasprintf ("%s=%s", f->env[i], v);
              env_set (env, kv);
            }
          continue;
        }
      env_set (env, f->env[i]);
    }
  if (f->user)
    json_object_set_new (cfg, "User", json_string (f->user));
  if (f->workdir)
    json_object_set_new (cfg, "WorkingDir", json_string (f->workdir));
  bool tty = !f->no_tty && isatty (0);
  bool in = f->interactive && !f->detach && ccmd_stdin_pollable ();
  json_object_set_new (cfg, "Tty", json_boolean (tty));
  json_object_set_new (cfg, "OpenStdin", json_boolean (in));
  json_object_set_new (cfg, "StdinOnce", json_boolean (in));
  json_object_set_new (cfg, "AttachStdin", json_boolean (in));
  json_object_set_new (cfg, "AttachStdout", json_boolean (!f->detach));
  json_object_set_new (cfg, "AttachStderr", json_boolean (!f->detach));
  json_t *labels = obj_child (cfg, "Labels");
  json_object_set_new (labels, COMPOSE_LABEL_ONEOFF, json_string ("True"));
  json_object_set_new (labels, COMPOSE_LABEL_SERVICE, json_string (service));
  /* compose run ignores the restart policy. */
  json_object_del (hc, "RestartPolicy");
  json_object_set_new (hc, "AutoRemove", json_boolean (f->rm));
  if (!f->service_ports)
    {
      json_object_del (hc, "PortBindings");
      json_object_set_new (hc, "PublishAllPorts", json_false ());
    }
  if (!f->use_aliases)
    {
      json_t *eps = json_object_get (json_object_get (body, "NetworkingConfig"), "EndpointsConfig");
      const char *k;
      json_t *ep;
      json_object_foreach (eps, k, ep)
      {
        (void)k;
        json_object_del (ep, "Aliases");
      }
    }
  if ((f->publish && f->publish[0]) || (f->volumes && f->volumes[0]) || (f->labels && f->labels[0]))
    {
      json_t *extra = NULL;
      int r = run_flags_body (f->publish, f->volumes, f->labels, &extra);
      if (r != 0)
        return r;
      json_t *xcfg = json_object_get (extra, "Config");
      json_t *xhc = json_object_get (extra, "HostConfig");
      json_t *pb = obj_child (hc, "PortBindings");
      json_object_update (pb, json_object_get (xhc, "PortBindings"));
      json_object_update (obj_child (cfg, "ExposedPorts"), json_object_get (xcfg, "ExposedPorts"));
      json_t *binds = json_object_get (hc, "Binds");
      if (!json_is_array (binds))
        json_object_set_new (hc, "Binds", binds = json_array ());
      json_array_extend (binds, json_object_get (xhc, "Binds"));
      json_object_update (labels, json_object_get (xcfg, "Labels"));
      json_decref (extra);
    }
  return 0;
}

/* The image the one-off runs: present, else built (build:), else pulled. */
static int resolve_image (struct compose_ctx *c, struct berth_ctx *ctx,
                          const struct compose_project *p, const struct compose_service *svc,
                          bool build, char id[DIGEST_STR_LEN])
{
  cleanup_free char *image = compose_service_image (p, svc);
  berr_t err = BERR_INIT;
  struct image_rec *img = NULL;
  int r = 0;
  if (!build && store_image_lookup (c->s, image, &img, &err) == 0)
    goto found;
  if (!build && err.kind != BERR_NOT_FOUND)
    return cli_error (&err);
  berr_release (&err);
  if (svc->build)
    r = ccmd_build_service (c, ctx, p, svc, NULL, false, false, false);
  else
    r = ccmd_pull_image (c, ctx, image, false);
  if (r != 0)
    return r;
  if (store_image_lookup (c->s, image, &img, &err) < 0)
    return cli_error (&err);
found:
  memcpy (id, img->id, DIGEST_STR_LEN);
  image_rec_free (img);
  return 0;
}

static int run_foreground (struct engine *e, struct container_rec *ct)
{
  json_t *config = json_object_get (ct->config, "Config");
  bool tty = json_is_true (json_object_get (config, "Tty"));
  struct start_opts so = {
    .foreground = true,
    .local_in = 0,
    .local_out = 1,
    .local_err = 2,
    .local_tty = tty && isatty (0),
    .sig_proxy = !tty,
    .attach_stdin = json_is_true (json_object_get (config, "AttachStdin")),
    .attach_stdout = true,
    .attach_stderr = true,
  };
  struct monitor_result res = { 0 };
  berr_t err = BERR_INIT;
  if (container_start (e, ct, &so, &res, &err) < 0)
    {
      fprintf (stderr, "Error: %s\n", err.msg ? err.msg : "start failed");
      berr_release (&err);
      if (json_is_true (json_object_get (json_object_get (ct->config, "HostConfig"), "AutoRemove")))
        {
          container_remove (e, ct, true, true, &err);
          berr_release (&err);
        }
      return EXIT_ENGINE;
    }
  return res.detached ? 0 : res.exit_code;
}

int ccmd_run (struct compose_cli *cc, int argc, char **argv)
{
  struct run_flags f = { .interactive = true };
  cleanup_strv char **env = NULL, **publish = NULL, **volumes = NULL, **labels = NULL;
  bool quiet_pull = false, remove_orphans = false;
  const struct opt opts[] = {
    { "build", 0, OPT_BOOL, &f.build, NULL, "Build image before starting container" },
    { "detach", 'd', OPT_BOOL, &f.detach, NULL,
      "Run container in background and print container ID" },
    { "entrypoint", 0, OPT_STRING, &f.entrypoint, "string",
      "Override the entrypoint of the image" },
    { "env", 'e', OPT_STRINGS, &env, "stringArray", "Set environment variables" },
    { "interactive", 'i', OPT_BOOL, &f.interactive, NULL,
      "Keep STDIN open even if not attached (default true)" },
    { "label", 'l', OPT_STRINGS, &labels, "stringArray", "Add or override a label" },
    { "name", 0, OPT_STRING, &f.name, "string", "Assign a name to the container" },
    { "no-TTY", 'T', OPT_BOOL, &f.no_tty, NULL,
      "Disable pseudo-TTY allocation (default: auto-detected)" },
    { "no-deps", 0, OPT_BOOL, &f.no_deps, NULL, "Don't start linked services" },
    { "publish", 'p', OPT_STRINGS, &publish, "stringArray",
      "Publish a container's port(s) to the host" },
    { "quiet-pull", 0, OPT_BOOL, &quiet_pull, NULL, "Pull without printing progress information" },
    { "remove-orphans", 0, OPT_BOOL, &remove_orphans, NULL,
      "Remove containers for services not defined in the Compose file" },
    { "rm", 0, OPT_BOOL, &f.rm, NULL, "Automatically remove the container when it exits" },
    { "service-ports", 0, OPT_BOOL, &f.service_ports, NULL,
      "Run command with all service's ports enabled and mapped to the host" },
    { "use-aliases", 0, OPT_BOOL, &f.use_aliases, NULL,
      "Use the service's network useAliases in the network(s) the container connects to" },
    { "user", 'u', OPT_STRING, &f.user, "string", "Run as specified username or uid" },
    { "volume", 'v', OPT_STRINGS, &volumes, "stringArray", "Bind mount a volume" },
    { "workdir", 'w', OPT_STRING, &f.workdir, "string", "Working directory inside the container" },
    { NULL, 0, 0, NULL, NULL, NULL },
  };
  const struct cmd_spec spec = { "compose run [OPTIONS] SERVICE [COMMAND] [ARGS...]",
                                 "Run a one-off command on a service",
                                 NULL,
                                 opts,
                                 1,
                                 -1,
                                 NULL };
  cleanup_free char **args = NULL;
  int r = opts_parse_flags (&spec, "berth compose run", argc, argv, &args, OPTS_STOP_AT_FIRST_ARG);
  if (r)
    return r < 0 ? 0 : r;
  f.env = env;
  f.publish = publish;
  f.volumes = volumes;
  f.labels = labels;
  struct compose_project *p = NULL;
  if ((r = compose_cli_load (cc, &p)) != 0)
    return r;
  const struct compose_service *svc = compose_service_find (p, args[0]);
  struct compose_ctx c;
  json_t *body = NULL;
  struct container_rec *ct = NULL;
  cleanup_free char *name = NULL;
  berr_t err = BERR_INIT;
  if (svc == NULL)
    {
      r = cli_errorf ("no such service: %s", args[0]);
      goto out;
    }
  if ((r = compose_cli_ctx (cc, &c)) != 0)
    goto out;
  /* The services it depends on run first (compose_up also creates the networks and volumes). */
  if (!f.no_deps && svc->ndepends > 0)
    {
      cleanup_strv char **deps = NULL;
      for (size_t i = 0; i < svc->ndepends; i++)
        if (compose_service_find (p, svc->depends_on[i].service))
          strv_push (&deps, svc->depends_on[i].service);
      struct compose_up_opts uo = {
        .services = deps,
        .recreate = COMPOSE_RECREATE_DIVERGED,
        .pull = "missing",
        .timeout = -1,
        .detach = true,
      };
      if (deps && compose_up (&c, p, &uo, &err) < 0)
        {
          r = cli_error (&err);
          goto out;
        }
    }
  if (compose_ensure_resources (&c, p, &err) < 0)
    {
      r = cli_error (&err);
      goto out;
    }
  char image_id[DIGEST_STR_LEN];
  if ((r = resolve_image (&c, cc->ctx, p, svc, f.build, image_id)) != 0)
    goto out;
  char hash[DIGEST_STR_LEN];
  if (compose_service_body (&c, p, svc, 1, true, image_id, &body, hash, &err) < 0)
    {
      r = cli_error (&err);
      goto out;
    }
  /* The body has the generated <project>-<service>-run-<12hex>. */
  name = xstrdup (f.name ? f.name : json_string_value (json_object_get (body, "Name")));
  if ((r = apply_flags (body, &f, args + 1, name, svc->name)) != 0)
    goto out;
  if (container_create (c.e, body, &ct, &err) < 0)
    {
      r = cli_error (&err);
      goto out;
    }
  if (f.detach)
    {
      struct start_opts so = { .foreground = false };
      struct monitor_result res;
      if (container_start (c.e, ct, &so, &res, &err) < 0)
        {
          r = cli_error (&err);
          if (f.rm)
            {
              container_remove (c.e, ct, true, true, &err);
              berr_release (&err);
            }
        }
      else
        printf ("%s\n", ct->id);
    }
  else
    {
      fflush (stdout);
      r = run_foreground (c.e, ct);
    }
out:
  json_decref (body);
  container_rec_free (ct);
  compose_project_free (p);
  return r;
}
