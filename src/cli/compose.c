/* compose.c — `berth compose`: the project options, `config` and `version`, and the dispatch to
 * the subcommand tables of compose_cli.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/compose_cli.h"
#include "compose/compose.h"
#include "util/json.h"

static void compose_help (FILE *out)
{
  fprintf (out, "\nUsage:  berth compose [OPTIONS] COMMAND\n\n"
                "Define and run multi-container applications\n\n"
                "Options:\n"
                "      --env-file stringArray       Specify an alternate environment file\n"
                "  -f, --file stringArray           Compose configuration files\n"
                "      --profile stringArray        Specify a profile to enable\n"
                "      --project-directory string   Specify an alternate working directory\n"
                "  -p, --project-name string        Project name\n\n"
                "Commands:\n"
                "  config      Parse, resolve and render compose file in canonical format\n");
  const struct compose_subcmd *tables[] = { compose_lifecycle_cmds, compose_tool_cmds };
  for (size_t t = 0; t < ARRAY_SIZE (tables); t++)
    for (const struct compose_subcmd *c = tables[t]; c->name; c++)
      fprintf (out, "  %-11s %s\n", c->name, c->help);
  fprintf (out, "  version     Show the Docker Compose version information\n");
}

int compose_cli_load (struct compose_cli *cc, struct compose_project **out)
{
  berr_t err = BERR_INIT;
  if (compose_project_load (cc->opts, out, &err) < 0)
    return cli_error (&err);
  return 0;
}

static void print_event (void *cookie, const char *resource, const char *name, const char *status)
{
  (void)cookie;
  fprintf (stderr, " %s %s  %s\n", resource, name, status);
}

int compose_cli_ctx (struct compose_cli *cc, struct compose_ctx *out)
{
  memset (out, 0, sizeof *out);
  if (ctx_engine (cc->ctx, &out->e) < 0)
    return 1;
  if (ctx_store (cc->ctx, &out->s) < 0)
    return 1;
  out->config = cc->ctx->config;
  out->event = print_event;
  return 0;
}

/* "--flag value", "--flag=value" and "-f value"; *i advances past what it takes. */
static int flag_value (int argc, char **argv, int *i, const char *lng, const char *shrt,
                       const char **val)
{
  const char *a = argv[*i];
  size_t ll = strlen (lng);
  if (strncmp (a, lng, ll) == 0 && a[ll] == '=')
    {
      *val = a + ll + 1;
      return 1;
    }
  if (strcmp (a, lng) == 0 || (shrt && strcmp (a, shrt) == 0))
    {
      if (*i + 1 >= argc)
        {
          fprintf (stderr, "flag needs an argument: %s\n", a);
          return -1;
        }
      *val = argv[++*i];
      return 1;
    }
  return 0;
}

static void print_lines (char **v)
{
  for (; v && *v; v++)
    printf ("%s\n", *v);
}

static int compose_config (struct compose_options *o, int argc, char **argv)
{
  bool services = false, volumes = false, profiles = false, quiet = false;
  const char *format = "yaml";
  for (int i = 1; i < argc; i++)
    {
      const char *v = NULL;
      int r;
      if (strcmp (argv[i], "--services") == 0)
        services = true;
      else if (strcmp (argv[i], "--volumes") == 0)
        volumes = true;
      else if (strcmp (argv[i], "--profiles") == 0)
        profiles = true;
      else if (strcmp (argv[i], "-q") == 0 || strcmp (argv[i], "--quiet") == 0)
        quiet = true;
      else if ((r = flag_value (argc, argv, &i, "--format", NULL, &v)) != 0)
        {
          if (r < 0)
            return 1;
          format = v;
        }
      else if (strcmp (argv[i], "-h") == 0 || strcmp (argv[i], "--help") == 0)
        {
          printf ("\nUsage:  berth compose config [OPTIONS]\n\n"
                  "Parse, resolve and render compose file in canonical format\n\n"
                  "Options:\n"
                  "      --format string   Format the output. Values: [yaml | json] (default "
                  "\"yaml\")\n"
                  "      --profiles        Print the profile names, one per line.\n"
                  "  -q, --quiet           Only validate the configuration, don't print "
                  "anything.\n"
                  "      --services        Print the service names, one per line.\n"
                  "      --volumes         Print the volume names, one per line.\n");
          return 0;
        }
      else
        return cli_errorf ("unknown flag: %s", argv[i]);
    }
  if (strcmp (format, "yaml") != 0 && strcmp (format, "json") != 0)
    return cli_errorf ("unsupported format \"%s\"", format);
  berr_t err = BERR_INIT;
  struct compose_project *p = NULL;
  if (compose_project_load (o, &p, &err) < 0)
    return cli_error (&err);
  int rc = 0;
  if (quiet)
    ;
  else if (services)
    for (size_t i = 0; i < p->nservices; i++)
      printf ("%s\n", p->services[i].name);
  else if (volumes)
    for (size_t i = 0; i < p->nvolumes; i++)
      printf ("%s\n", p->volumes[i].key);
  else if (profiles)
    print_lines (p->defined_profiles);
  else if (strcmp (format, "json") == 0)
    {
      cleanup_json json_t *j = cnode_to_json (p->tree);
      char *s = json_dumps (j, JSON_INDENT (2) | JSON_PRESERVE_ORDER);
      printf ("%s\n", s);
      free (s);
    }
  else
    {
      char *y = NULL;
      if (cnode_emit_yaml (p->tree, &y, &err) < 0)
        rc = cli_error (&err);
      else
        fputs (y, stdout);
      free (y);
    }
  compose_project_free (p);
  return rc;
}

int cmd_compose (int argc, char **argv, struct berth_ctx *ctx)
{
  struct compose_options o = { 0 };
  cleanup_strv char **files = NULL, **env_files = NULL, **profiles = NULL;
  int i = 1;
  for (; i < argc && argv[i][0] == '-'; i++)
    {
      const char *v = NULL;
      int r;
      if ((r = flag_value (argc, argv, &i, "--file", "-f", &v)) != 0)
        {
          if (r < 0)
            return 1;
          strv_push (&files, v);
        }
      else if ((r = flag_value (argc, argv, &i, "--project-name", "-p", &v)) != 0)
        {
          if (r < 0)
            return 1;
          o.project_name = v;
        }
      else if ((r = flag_value (argc, argv, &i, "--project-directory", NULL, &v)) != 0)
        {
          if (r < 0)
            return 1;
          o.project_dir = v;
        }
      else if ((r = flag_value (argc, argv, &i, "--env-file", NULL, &v)) != 0)
        {
          if (r < 0)
            return 1;
          strv_push (&env_files, v);
        }
      else if ((r = flag_value (argc, argv, &i, "--profile", NULL, &v)) != 0)
        {
          if (r < 0)
            return 1;
          strv_push (&profiles, v);
        }
      else if (strcmp (argv[i], "-h") == 0 || strcmp (argv[i], "--help") == 0)
        {
          compose_help (stdout);
          return 0;
        }
      else
        return cli_errorf ("unknown flag: %s", argv[i]);
    }
  o.files = files;
  o.env_files = env_files;
  o.profiles = profiles;
  if (i >= argc)
    {
      compose_help (stdout);
      return 0;
    }
  const char *sub = argv[i];
  if (strcmp (sub, "config") == 0 || strcmp (sub, "convert") == 0)
    return compose_config (&o, argc - i, argv + i);
  if (strcmp (sub, "version") == 0)
    {
      bool shrt = i + 1 < argc && strcmp (argv[i + 1], "--short") == 0;
      if (shrt)
        printf ("%s\n", COMPOSE_VERSION);
      else
        printf ("berth compose version v%s\n", COMPOSE_VERSION);
      return 0;
    }
  struct compose_cli cc = { .ctx = ctx, .opts = &o };
  cc.project_name_given = o.project_name || getenv ("COMPOSE_PROJECT_NAME");
  const struct compose_subcmd *tables[] = { compose_lifecycle_cmds, compose_tool_cmds };
  for (size_t t = 0; t < ARRAY_SIZE (tables); t++)
    for (const struct compose_subcmd *c = tables[t]; c->name; c++)
      if (strcmp (sub, c->name) == 0)
        return c->fn (&cc, argc - i, argv + i);
  fprintf (stderr, "berth compose: '%s' is not a compose command.\nSee 'berth compose --help'\n",
           sub);
  return 1;
}
