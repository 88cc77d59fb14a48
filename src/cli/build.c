/* build.c — `berth build`: flags as docker build's, the context opened, the engine run, the
 * final id (-q, --iidfile) printed. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "build/build.h"
#include "build/context.h"
#include "build/runmount.h"
#include "cli/cli.h"
#include "image/ref.h"
#include "util/fs.h"

int cmd_build (int argc, char **argv, struct berth_ctx *ctx)
{
  cleanup_strv char **tags = NULL, **build_args = NULL, **labels = NULL, **secrets = NULL,
                    **add_hosts = NULL, **ignored_list = NULL;
  const char *file = NULL, *target = NULL, *iidfile = NULL, *progress = "auto", *network = NULL,
             *platform = NULL, *ignored = NULL;
  bool no_cache = false, pull = false, quiet = false, rm = true, force_rm = false,
       ignored_b = false;
  const struct opt opts[] = {
    { "tag", 't', OPT_STRINGS, &tags, "list",
      "Name and optionally a tag in the \"name:tag\" format" },
    { "file", 'f', OPT_STRING, &file, "string",
      "Name of the Dockerfile (Default is \"PATH/Dockerfile\")" },
    { "build-arg", 0, OPT_STRINGS, &build_args, "list", "Set build-time variables" },
    { "target", 0, OPT_STRING, &target, "string", "Set the target build stage to build." },
    { "no-cache", 0, OPT_BOOL, &no_cache, NULL, "Do not use cache when building the image" },
    { "pull", 0, OPT_BOOL, &pull, NULL, "Always attempt to pull a newer version of the image" },
    { "quiet", 'q', OPT_BOOL, &quiet, NULL,
      "Suppress the build output and print image ID on success" },
    { "iidfile", 0, OPT_STRING, &iidfile, "string", "Write the image ID to the file" },
    { "label", 0, OPT_STRINGS, &labels, "list", "Set metadata for an image" },
    { "progress", 0, OPT_STRING, &progress, "string",
      "Set type of progress output (\"auto\", \"plain\", \"tty\")" },
    { "network", 0, OPT_STRING, &network, "string",
      "Set the networking mode for the RUN instructions during build (default \"default\")" },
    { "secret", 0, OPT_STRINGS, &secrets, "stringArray",
      "Secret to expose to the build (format: \"id=mysecret[,src=/local/secret]\")" },
    { "add-host", 0, OPT_STRINGS, &add_hosts, "list",
      "Add a custom host-to-IP mapping (\"host:ip\")" },
    { "platform", 0, OPT_STRING, &platform, "string",
      "Set platform if server is multi-platform capable" },
    { "rm", 0, OPT_BOOL, &rm, NULL,
      "Remove intermediate containers after a successful build (default true)" },
    { "force-rm", 0, OPT_BOOL, &force_rm, NULL, "Always remove intermediate containers" },
    /* accepted for scripts written for docker build; they change nothing here */
    { "compress", 0, OPT_BOOL, &ignored_b, NULL, NULL },
    { "cache-from", 0, OPT_STRINGS, &ignored_list, "strings", NULL },
    { "isolation", 0, OPT_STRING, &ignored, "string", NULL },
    { NULL, 0, 0, NULL, NULL, NULL },
  };
  const struct cmd_spec spec = { "build [OPTIONS] PATH | URL | -",
                                 "Build an image from a Dockerfile",
                                 "berth image build, berth build, berth builder build",
                                 opts,
                                 1,
                                 1,
                                 "PATH | URL | -" };
  cleanup_free char **args = NULL;
  int r = opts_parse (&spec, ctx->cmdpath, argc, argv, &args);
  if (r)
    return r < 0 ? 0 : r;

  enum build_progress prog;
  if (strcmp (progress, "auto") == 0)
    prog = BUILD_PROGRESS_AUTO;
  else if (strcmp (progress, "plain") == 0)
    prog = BUILD_PROGRESS_PLAIN;
  else if (strcmp (progress, "tty") == 0)
    prog = BUILD_PROGRESS_TTY;
  else
    return cli_errorf ("invalid progress mode \"%s\": use auto, plain or tty", progress);

  /* Tags: normalized as `tag` does, checked before anything runs. */
  cleanup_strv char **full_tags = NULL;
  for (size_t i = 0; tags && tags[i]; i++)
    {
      berr_t err = BERR_INIT;
      char *full = NULL;
      if (ref_tag_target (tags[i], &full, &err) < 0)
        {
          fprintf (stderr, "invalid argument \"%s\" for \"-t, --tag\" flag: %s\n", tags[i],
                   err.msg);
          berr_release (&err);
          return EXIT_ENGINE;
        }
      strv_push_take (&full_tags, full);
    }
  size_t n_secrets = secrets ? strv_len (secrets) : 0;
  struct build_secret *sv = n_secrets ? xcalloc (n_secrets, sizeof *sv) : NULL;
  for (size_t i = 0; i < n_secrets; i++)
    {
      berr_t err = BERR_INIT;
      if (build_secret_parse (secrets[i], &sv[i], &err) < 0)
        {
          fprintf (stderr, "invalid argument \"%s\" for \"--secret\" flag: %s\n", secrets[i],
                   err.msg);
          berr_release (&err);
          build_secrets_free (sv, i);
          return EXIT_ENGINE;
        }
    }

  /* As docker: a stale id file never outlives a failed build. */
  if (iidfile && unlink (iidfile) < 0 && errno != ENOENT)
    {
      build_secrets_free (sv, n_secrets);
      return cli_errorf ("removing image id file: %s", strerror (errno));
    }
  struct engine *e;
  if (ctx_engine (ctx, &e) < 0)
    {
      build_secrets_free (sv, n_secrets);
      return 1;
    }
  berr_t err = BERR_INIT;
  cleanup_free char *tmp_parent = NULL;
  if (store_stage_dir (e->store, "context", &tmp_parent, &err) < 0)
    {
      build_secrets_free (sv, n_secrets);
      return cli_error (&err);
    }
  struct build_context_opts co = {
    .spec = args[0],
    .dockerfile = file,
    .stdin_fd = 0,
    .tmp_parent = tmp_parent,
    .max_size = ctx->max_layer_size,
  };
  struct build_context *bc = NULL;
  if (build_context_open (&co, &bc, &err) < 0)
    {
      build_secrets_free (sv, n_secrets);
      berr_t e3 = BERR_INIT;
      fs_rm_rf (tmp_parent, &e3);
      berr_release (&e3);
      fprintf (stderr, "%s\n", err.msg);
      berr_release (&err);
      return 1;
    }
  struct build_opts bo = {
    .context = bc,
    .tags = full_tags,
    .build_args = build_args,
    .target = target,
    .no_cache = no_cache,
    .pull = pull,
    .quiet = quiet,
    .labels = labels,
    .network = network,
    .add_hosts = add_hosts,
    .platform = platform,
    .secrets = sv,
    .n_secrets = n_secrets,
    .progress = prog,
    .out_fd = 1,
    .err_fd = 2,
    .rm = rm,
    .force_rm = force_rm,
  };
  struct reg_config reg = { 0 };
  if (reg_config_load (ctx->config, &reg, &err) == 0)
    bo.reg = &reg;
  else
    berr_release (&err); /* a bad registry setting only matters if a pull is needed */
  char id[DIGEST_STR_LEN];
  fflush (stdout);
  r = build_run (e, &bo, id, &err);
  reg_config_release (&reg);
  build_context_close (bc);
  build_secrets_free (sv, n_secrets);
  berr_t e2 = BERR_INIT;
  fs_rm_rf (tmp_parent, &e2);
  berr_release (&e2);
  if (r < 0)
    {
      /* Docker prints the failure on its own line, exit 1. */
      fprintf (stderr, "%s\n", err.msg ? err.msg : "build failed");
      berr_release (&err);
      return 1;
    }
  if (quiet)
    printf ("%s\n", id);
  if (iidfile)
    {
      if (fs_write_atomic (iidfile, id, strlen (id), 0644, &err) < 0)
        return cli_error (&err);
    }
  return 0;
}
