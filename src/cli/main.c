/* main.c — global flags, the commands table, dispatch. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "config.h"
#include "util/fs.h"
#include "util/json.h"
#include "util/log.h"
#include "util/units.h"

struct command
{
  const char *name; /* one or two words: "images", "image ls" */
  cmd_fn fn;
  const char *summary; /* NULL: an alias, not listed */
};

static int cmd_help (int argc, char **argv, struct berth_ctx *ctx);

static const struct command commands[] = {
  { "images", cmd_images, "List images" },
  { "image ls", cmd_images, "List images" },
  { "image list", cmd_images, NULL },
  { "load", cmd_load, "Load an image from a tar archive or STDIN" },
  { "image load", cmd_load, "Load an image from a tar archive or STDIN" },
  { "pull", cmd_pull, "Pull an image or a repository from a registry" },
  { "image pull", cmd_pull, "Pull an image or a repository from a registry" },
  { "save", cmd_save, "Save one or more images to a tar archive (streamed to STDOUT by default)" },
  { "image save", cmd_save, "Save one or more images to a tar archive" },
  { "import", cmd_import, "Import the contents from a tarball to create a filesystem image" },
  { "image import", cmd_import, "Import the contents from a tarball to create a filesystem image" },
  { "tag", cmd_tag, "Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE" },
  { "image tag", cmd_tag, "Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE" },
  { "push", cmd_push, "Push an image or a repository to a registry" },
  { "image push", cmd_push, "Push an image or a repository to a registry" },
  { "rmi", cmd_rmi, "Remove one or more images" },
  { "image rm", cmd_rmi, "Remove one or more images" },
  { "image remove", cmd_rmi, NULL },
  { "image inspect", cmd_image_inspect, "Display detailed information on one or more images" },
  { "inspect", cmd_inspect, "Return low-level information on berth objects" },
  { "history", cmd_history, "Show the history of an image" },
  { "image history", cmd_history, "Show the history of an image" },
  { "image prune", cmd_image_prune, "Remove unused images" },
  { "builder prune", cmd_builder_prune, "Remove build cache" },
  { "system df", cmd_system_df, "Show berth disk usage" },
  { "system prune", cmd_system_prune, "Remove unused data" },
  { "build", cmd_build, "Build an image from a Dockerfile" },
  { "image build", cmd_build, "Build an image from a Dockerfile" },
  { "builder build", cmd_build, "Build an image from a Dockerfile" },
  { "run", cmd_run, "Create and run a new container from an image" },
  { "container run", cmd_run, "Create and run a new container from an image" },
  { "create", cmd_create, "Create a new container" },
  { "container create", cmd_create, "Create a new container" },
  { "start", cmd_start, "Start one or more stopped containers" },
  { "container start", cmd_start, "Start one or more stopped containers" },
  { "ps", cmd_ps, "List containers" },
  { "container ls", cmd_ps, "List containers" },
  { "container list", cmd_ps, NULL },
  { "container ps", cmd_ps, NULL },
  { "stop", cmd_stop, "Stop one or more running containers" },
  { "container stop", cmd_stop, "Stop one or more running containers" },
  { "restart", cmd_restart, "Restart one or more containers" },
  { "container restart", cmd_restart, "Restart one or more containers" },
  { "kill", cmd_kill, "Kill one or more running containers" },
  { "container kill", cmd_kill, "Kill one or more running containers" },
  { "rm", cmd_rm, "Remove one or more containers" },
  { "container rm", cmd_rm, "Remove one or more containers" },
  { "container remove", cmd_rm, NULL },
  { "wait", cmd_wait, "Block until one or more containers stop, then print their exit codes" },
  { "container wait", cmd_wait, "Block until one or more containers stop" },
  { "pause", cmd_pause, "Pause all processes within one or more containers" },
  { "container pause", cmd_pause, "Pause all processes within one or more containers" },
  { "unpause", cmd_unpause, "Unpause all processes within one or more containers" },
  { "container unpause", cmd_unpause, "Unpause all processes within one or more containers" },
  { "rename", cmd_rename, "Rename a container" },
  { "container rename", cmd_rename, "Rename a container" },
  { "port", cmd_port, "List port mappings or a specific mapping for the container" },
  { "container port", cmd_port, "List port mappings or a specific mapping for the container" },
  { "network connect", cmd_network_connect, "Connect a container to a network" },
  { "network disconnect", cmd_network_disconnect, "Disconnect a container from a network" },
  { "logs", cmd_logs, "Fetch the logs of a container" },
  { "container logs", cmd_logs, "Fetch the logs of a container" },
  { "attach", cmd_attach,
    "Attach local standard input, output, and error streams to a running "
    "container" },
  { "container attach", cmd_attach, "Attach to a running container" },
  { "container inspect", cmd_container_inspect,
    "Display detailed information on one or more containers" },
  { "container prune", cmd_container_prune, "Remove all stopped containers" },
  { "cp", cmd_cp, "Copy files/folders between a container and the local filesystem" },
  { "container cp", cmd_cp, "Copy files/folders between a container and the local filesystem" },
  { "login", cmd_login, "Log in to a Docker registry" },
  { "logout", cmd_logout, "Log out from a Docker registry" },
  { "commit", cmd_commit, "Create a new image from a container's changes" },
  { "container commit", cmd_commit, "Create a new image from a container's changes" },
  { "diff", cmd_diff, "Inspect changes to files or directories on a container's filesystem" },
  { "container diff", cmd_diff,
    "Inspect changes to files or directories on a container's filesystem" },
  { "container-cleanup", cmd_container_cleanup, NULL },
  { "container-netns", cmd_container_netns, NULL },
  { "container-healthcheck", cmd_container_healthcheck, NULL },
  { "top", cmd_top, "Display the running processes of a container" },
  { "container top", cmd_top, "Display the running processes of a container" },
  { "stats", cmd_stats, "Display a live stream of container(s) resource usage statistics" },
  { "container stats", cmd_stats,
    "Display a live stream of container(s) resource usage statistics" },
  { "update", cmd_update, "Update configuration of one or more containers" },
  { "container update", cmd_update, "Update configuration of one or more containers" },
  { "exec", cmd_exec, "Execute a command in a running container" },
  { "container exec", cmd_exec, "Execute a command in a running container" },
  { "volume create", cmd_volume_create, "Create a volume" },
  { "volume ls", cmd_volume_ls, "List volumes" },
  { "volume list", cmd_volume_ls, NULL },
  { "volume inspect", cmd_volume_inspect, "Display detailed information on one or more volumes" },
  { "volume rm", cmd_volume_rm, "Remove one or more volumes" },
  { "volume remove", cmd_volume_rm, NULL },
  { "volume prune", cmd_volume_prune, "Remove unused local volumes" },
  { "network create", cmd_network_create, "Create a network" },
  { "network ls", cmd_network_ls, "List networks" },
  { "network list", cmd_network_ls, NULL },
  { "network inspect", cmd_network_inspect,
    "Display detailed information on one or more networks" },
  { "network rm", cmd_network_rm, "Remove one or more networks" },
  { "network remove", cmd_network_rm, NULL },
  { "network prune", cmd_network_prune, "Remove all unused networks" },
  { "info", cmd_info, "Display system-wide information" },
  { "system info", cmd_info, "Display system-wide information" },
  { "version", cmd_version, "Show the berth version information" },
  { "compose", cmd_compose, "Define and run multi-container applications" },
  { "help", cmd_help, "Show help" },
};

static void print_main_help (FILE *out)
{
  fprintf (out, "\nUsage:  berth [OPTIONS] COMMAND\n\n"
                "A Docker-compatible container engine, daemonless.\n\n"
                "Commands:\n");
  for (size_t i = 0; i < ARRAY_SIZE (commands); i++)
    if (commands[i].summary && strchr (commands[i].name, ' ') == NULL)
      fprintf (out, "  %-12s%s\n", commands[i].name, commands[i].summary);
  fprintf (out, "\nManagement Commands:\n");
  static const char *const groups[][2]
      = { { "builder", "Manage builds" }, { "container", "Manage containers" },
          { "image", "Manage images" },   { "network", "Manage networks" },
          { "system", "Manage berth" },   { "volume", "Manage volumes" } };
  for (size_t g = 0; g < ARRAY_SIZE (groups); g++)
    fprintf (out, "  %-12s%s\n", groups[g][0], groups[g][1]);
  fprintf (out,
           "\nGlobal Options:\n"
           "      --config string      Location of berth's config file (default \"%s\")\n"
           "  -D, --debug              Enable debug mode\n"
           "  -l, --log-level string   Set the logging level (\"debug\", \"info\", "
           "\"warn\", \"error\", \"fatal\") (default \"warn\")\n"
           "      --root string        Root of berth's persistent state (default \"%s\")\n"
           "      --runroot string     Root of berth's runtime state (default \"%s\")\n"
           "  -v, --version            Print version information and quit\n"
           "\nRun 'berth COMMAND --help' for more information on a command.\n",
           BERTH_DEFAULT_CONFIG, BERTH_DEFAULT_ROOT, BERTH_DEFAULT_RUNROOT);
}

static void print_group_help (const char *group, FILE *out)
{
  fprintf (out, "\nUsage:  berth %s COMMAND\n\nCommands:\n", group);
  size_t gl = strlen (group);
  for (size_t i = 0; i < ARRAY_SIZE (commands); i++)
    if (commands[i].summary && strncmp (commands[i].name, group, gl) == 0
        && commands[i].name[gl] == ' ')
      fprintf (out, "  %-10s%s\n", commands[i].name + gl + 1, commands[i].summary);
  fprintf (out, "\nRun 'berth %s COMMAND --help' for more information on a command.\n", group);
}

static int cmd_help (int argc, char **argv, struct berth_ctx *ctx)
{
  (void)ctx;
  if (argc > 1)
    {
      /* "berth help images" == "berth images --help" */
      for (size_t i = 0; i < ARRAY_SIZE (commands); i++)
        if (strcmp (commands[i].name, argv[1]) == 0 && commands[i].fn != cmd_help)
          {
            char *av[] = { argv[1], (char *)"--help", NULL };
            return commands[i].fn (2, av, ctx);
          }
    }
  print_main_help (stdout);
  return 0;
}

int ctx_store (struct berth_ctx *ctx, struct store **out)
{
  if (ctx->store == NULL)
    {
      berr_t err = BERR_INIT;
      if (store_open (ctx->root, ctx->runroot, &ctx->store, &err) < 0)
        return cli_error (&err), -1;
      if (ctx->no_sync)
        store_set_sync (ctx->store, false);
    }
  *out = ctx->store;
  return 0;
}

int cli_error (berr_t *err)
{
  fprintf (stderr, "Error: %s\n", err->msg ? err->msg : "unknown error");
  berr_release (err);
  return 1;
}

int cli_errorf (const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  fputs ("Error: ", stderr);
  vfprintf (stderr, fmt, ap);
  fputc ('\n', stderr);
  va_end (ap);
  return 1;
}

static void print_version_line (void)
{
  printf ("berth version %s, build %s\n", BERTH_VERSION, BERTH_GIT_COMMIT);
}

/* berth's config file: JSON, all keys optional. Missing file is fine unless --config named it. */
static int load_config (struct berth_ctx *ctx, bool explicit_path)
{
  cleanup_free char *data = NULL;
  size_t len = 0;
  berr_t err = BERR_INIT;
  if (fs_read_file (ctx->config_path, 1 << 20, &data, &len, &err) < 0)
    {
      if (!explicit_path && err.errnum == ENOENT)
        {
          berr_release (&err);
          ctx->config = json_object ();
          return 0;
        }
      return cli_error (&err);
    }
  ctx->config = json_parse_buf (data, len, ctx->config_path, &err);
  if (ctx->config == NULL)
    return cli_error (&err);
  if (!json_is_object (ctx->config))
    return cli_errorf ("%s: the config file must hold a JSON object", ctx->config_path);
  json_t *sync = json_object_get (ctx->config, "sync");
  if (sync && !json_is_boolean (sync))
    return cli_errorf ("%s: \"sync\" must be true or false", ctx->config_path);
  ctx->no_sync = json_is_false (sync);
  const char *mls = json_get_str (ctx->config, "max-layer-size");
  if (mls)
    {
      int64_t v;
      if (units_ram_in_bytes (mls, &v, &err) < 0)
        return cli_errorf ("%s: max-layer-size: %s", ctx->config_path, err.msg);
      ctx->max_layer_size = (uint64_t)v;
    }
  return 0;
}

static bool takes_value (const char *a, const char *name, int *i, int argc, char **argv,
                         const char **out)
{
  size_t l = strlen (name);
  if (strncmp (a, name, l) != 0)
    return false;
  if (a[l] == '=')
    {
      *out = a + l + 1;
      return true;
    }
  if (a[l] != '\0')
    return false;
  if (*i + 1 >= argc)
    {
      fprintf (stderr, "flag needs an argument: %s\nSee 'berth --help'.\n", name);
      exit (EXIT_ENGINE);
    }
  *out = argv[++*i];
  return true;
}

int main (int argc, char **argv)
{
  struct berth_ctx ctx = { 0 };
  ctx.root = getenv ("BERTH_ROOT");
  ctx.runroot = getenv ("BERTH_RUNROOT");
  ctx.config_path = getenv ("BERTH_CONFIG");
  bool config_explicit = ctx.config_path != NULL;
  const char *log_level = NULL;
  int i;
  for (i = 1; i < argc; i++)
    {
      const char *a = argv[i];
      const char *v;
      if (a[0] != '-')
        break;
      if (strcmp (a, "-v") == 0 || strcmp (a, "--version") == 0)
        {
          print_version_line ();
          return 0;
        }
      if (strcmp (a, "-h") == 0 || strcmp (a, "--help") == 0)
        {
          print_main_help (stdout);
          return 0;
        }
      if (strcmp (a, "-D") == 0 || strcmp (a, "--debug") == 0)
        log_level = "debug";
      else if (takes_value (a, "--root", &i, argc, argv, &v))
        ctx.root = v;
      else if (takes_value (a, "--runroot", &i, argc, argv, &v))
        ctx.runroot = v;
      else if (takes_value (a, "--config", &i, argc, argv, &v))
        {
          ctx.config_path = v;
          config_explicit = true;
        }
      else if (takes_value (a, "--log-level", &i, argc, argv, &v)
               || takes_value (a, "-l", &i, argc, argv, &v))
        log_level = v;
      else
        {
          fprintf (stderr, "unknown flag: %s\nSee 'berth --help'.\n", a);
          return EXIT_ENGINE;
        }
    }
  if (log_level)
    {
      int lv = log_level_parse (log_level);
      if (lv < 0)
        {
          fprintf (stderr, "Unable to parse logging level: %s\n", log_level);
          return EXIT_ENGINE;
        }
      log_set_level ((enum log_level)lv);
    }
  if (i >= argc)
    {
      print_main_help (stdout);
      return 0;
    }
  if (ctx.config_path == NULL)
    ctx.config_path = BERTH_DEFAULT_CONFIG;

  /* Find the command: two words first ("image ls"), then one. */
  const struct command *cmd = NULL;
  int consumed = 1;
  if (i + 1 < argc)
    for (size_t k = 0; k < ARRAY_SIZE (commands) && !cmd; k++)
      {
        const char *sp = strchr (commands[k].name, ' ');
        if (sp && strncmp (commands[k].name, argv[i], (size_t)(sp - commands[k].name)) == 0
            && argv[i][sp - commands[k].name] == '\0' && strcmp (sp + 1, argv[i + 1]) == 0)
          {
            cmd = &commands[k];
            consumed = 2;
          }
      }
  for (size_t k = 0; k < ARRAY_SIZE (commands) && !cmd; k++)
    if (strcmp (commands[k].name, argv[i]) == 0)
      cmd = &commands[k];
  if (cmd == NULL)
    {
      /* A management group without (or with an unknown) subcommand. */
      bool group = false;
      size_t gl = strlen (argv[i]);
      for (size_t k = 0; k < ARRAY_SIZE (commands) && !group; k++)
        group = strncmp (commands[k].name, argv[i], gl) == 0 && commands[k].name[gl] == ' ';
      if (group)
        if (strcmp (argv[i], "image") == 0 || strcmp (argv[i], "system") == 0
            || strcmp (argv[i], "builder") == 0 || strcmp (argv[i], "volume") == 0
            || strcmp (argv[i], "network") == 0)
          {
            if (i + 1 < argc && strcmp (argv[i + 1], "--help") != 0
                && strcmp (argv[i + 1], "-h") != 0)
              {
                fprintf (stderr, "berth: '%s %s' is not a berth command.\nSee 'berth %s --help'\n",
                         argv[i], argv[i + 1], argv[i]);
                return 1;
              }
            print_group_help (argv[i], stdout);
            return 0;
          }
      fprintf (stderr, "berth: '%s' is not a berth command.\nSee 'berth --help'\n", argv[i]);
      return 1;
    }
  if (load_config (&ctx, config_explicit) != 0)
    return 1;
  if (ctx.root == NULL)
    ctx.root = json_get_str (ctx.config, "root");
  if (ctx.runroot == NULL)
    ctx.runroot = json_get_str (ctx.config, "runroot");
  if (ctx.root == NULL)
    ctx.root = BERTH_DEFAULT_ROOT;
  if (ctx.runroot == NULL)
    ctx.runroot = BERTH_DEFAULT_RUNROOT;
  cleanup_free char *cmdpath = xasprintf ("berth %s", cmd->name);
  ctx.cmdpath = cmdpath;
  /* Hand the verb argv starting at its own name, so argv[1..] are its arguments. */
  int rc = cmd->fn (argc - i - consumed + 1, argv + i + consumed - 1, &ctx);
  store_close (ctx.store);
  if (ctx.config)
    json_decref (ctx.config);
  if (fflush (stdout) != 0 && rc == 0)
    rc = 1;
  return rc;
}
