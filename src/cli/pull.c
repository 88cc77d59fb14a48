/* pull.c — `berth pull`, and the pull that run/create/build do for a missing image. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/regprogress.h"
#include "image/ref.h"
#include "registry/pull.h"
#include "util/util.h"

/* "busybox:latest" / "busybox@sha256:…" as Docker's Status line names it. */
static char *status_name (const char *full) { return ref_familiarize (full); }

int cli_pull_image (struct berth_ctx *ctx, const char *reference, const char *platform, FILE *out,
                    bool quiet, char id[DIGEST_STR_LEN])
{
  struct store *s;
  if (ctx_store (ctx, &s) < 0)
    return -1;
  struct reg_config cfg = { 0 };
  berr_t err = BERR_INIT;
  if (reg_config_load (ctx->config, &cfg, &err) < 0)
    return cli_error (&err), -1;
  struct regprog *rp = regprog_new (out, isatty (fileno (out)), quiet);
  struct pull_opts o = { .cfg = &cfg,
                         .platform = platform,
                         .max_layer_size = ctx->max_layer_size,
                         .progress = regprog_event,
                         .cookie = rp };
  struct pull_result res;
  int r = image_pull (s, reference, &o, &res, &err);
  regprog_free (rp);
  reg_config_release (&cfg);
  if (r < 0)
    return cli_error (&err), -1;
  if (!quiet)
    {
      cleanup_free char *fam = status_name (res.name);
      fprintf (out, "Digest: %s\n", res.digest);
      fprintf (out, "Status: %s for %s\n",
               res.up_to_date ? "Image is up to date" : "Downloaded newer image", fam);
    }
  if (id)
    memcpy (id, res.id, DIGEST_STR_LEN);
  pull_result_release (&res);
  return 0;
}

static int pull_all_tags (struct berth_ctx *ctx, struct store *s, struct reg_config *cfg,
                          const char *name, const char *platform, bool quiet)
{
  struct regprog *rp = regprog_new (stdout, isatty (1), quiet);
  struct pull_opts o = { .cfg = cfg,
                         .platform = platform,
                         .max_layer_size = ctx->max_layer_size,
                         .progress = regprog_event,
                         .cookie = rp };
  struct pull_result *res = NULL;
  size_t n = 0;
  berr_t err = BERR_INIT;
  int r = image_pull_all_tags (s, name, &o, &res, &n, &err);
  bool newer = false;
  for (size_t i = 0; i < n; i++)
    {
      newer |= !res[i].up_to_date;
      pull_result_release (&res[i]);
    }
  free (res);
  regprog_free (rp);
  if (r < 0)
    return cli_error (&err);
  struct image_ref ref = { 0 };
  if (ref_parse_normalized (name, &ref, &err) < 0)
    return cli_error (&err);
  cleanup_free char *full = ref_name (&ref);
  cleanup_free char *fam = ref_familiar_name (&ref);
  ref_release (&ref);
  if (!quiet)
    printf ("Status: %s for %s\n", newer ? "Downloaded newer image" : "Image is up to date", fam);
  printf ("%s\n", full);
  return 0;
}

int cmd_pull (int argc, char **argv, struct berth_ctx *ctx)
{
  bool all_tags = false, quiet = false, no_trust = false;
  const char *platform = getenv ("DOCKER_DEFAULT_PLATFORM");
  const struct opt opts[] = {
    { "all-tags", 'a', OPT_BOOL, &all_tags, NULL, "Download all tagged images in the repository" },
    { "disable-content-trust", 0, OPT_BOOL, &no_trust, NULL,
      "Skip image verification (default true)" },
    { "platform", 0, OPT_STRING, &platform, "string",
      "Set platform if server is multi-platform capable" },
    { "quiet", 'q', OPT_BOOL, &quiet, NULL, "Suppress verbose output" },
    { NULL, 0, 0, NULL, NULL, NULL },
  };
  const struct cmd_spec spec = { "pull [OPTIONS] NAME[:TAG|@DIGEST]",
                                 "Pull an image or a repository from a registry",
                                 "berth image pull, berth pull",
                                 opts,
                                 1,
                                 1,
                                 NULL };
  cleanup_free char **args = NULL;
  int r = opts_parse (&spec, ctx->cmdpath, argc, argv, &args);
  if (r)
    return r < 0 ? 0 : r;
  (void)no_trust; /* content trust (Notary) is not implemented; docker's default is off */
  if (platform && *platform == '\0')
    platform = NULL;

  const char *name = args[0];
  struct image_ref ref = { 0 };
  berr_t err = BERR_INIT;
  if (ref_parse_normalized (name, &ref, &err) < 0)
    return cli_error (&err);
  bool tagged = ref.tag || ref.digest;
  ref_release (&ref);
  if (all_tags && tagged)
    return cli_errorf ("tag can't be used with --all-tags/-a");

  if (all_tags)
    {
      struct store *s;
      if (ctx_store (ctx, &s) < 0)
        return 1;
      struct reg_config cfg = { 0 };
      if (reg_config_load (ctx->config, &cfg, &err) < 0)
        return cli_error (&err);
      r = pull_all_tags (ctx, s, &cfg, name, platform, quiet);
      reg_config_release (&cfg);
      return r;
    }
  if (!tagged && !quiet)
    printf ("Using default tag: latest\n");
  fflush (stdout);
  if (ref_parse_docker (name, &ref, &err) < 0)
    return cli_error (&err);
  cleanup_free char *full = ref_string (&ref);
  ref_release (&ref);
  if (cli_pull_image (ctx, name, platform, stdout, quiet, NULL) < 0)
    return 1;
  printf ("%s\n", full);
  return 0;
}
