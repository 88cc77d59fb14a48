/* push.c — berth push (image push). */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/regprogress.h"
#include "image/ref.h"
#include "registry/push.h"
#include "util/util.h"

int cmd_push (int argc, char **argv, struct berth_ctx *ctx)
{
  bool all = false, quiet = false, no_trust = true;
  const struct opt opts[] = {
    { "all-tags", 'a', OPT_BOOL, &all, NULL, "Push all tagged images in the repository" },
    { "disable-content-trust", 0, OPT_BOOL, &no_trust, NULL, "Skip image signing (default true)" },
    { "quiet", 'q', OPT_BOOL, &quiet, NULL, "Suppress verbose output" },
    { NULL, 0, 0, NULL, NULL, NULL },
  };
  const struct cmd_spec spec = { "push [OPTIONS] NAME[:TAG]",
                                 "Push an image or a repository to a registry",
                                 "berth image push, berth push",
                                 opts,
                                 1,
                                 1,
                                 NULL };
  cleanup_free char **args = NULL;
  int r = opts_parse (&spec, ctx->cmdpath, argc, argv, &args);
  if (r)
    return r < 0 ? 0 : r;
  (void)no_trust; /* berth signs nothing: accepted for scripts written for docker */
  berr_t err = BERR_INIT;
  struct image_ref ref = { 0 };
  if (ref_parse_normalized (args[0], &ref, &err) < 0)
    return cli_error (&err);
  bool name_only = ref.tag == NULL && ref.digest == NULL;
  cleanup_free char *full = NULL;
  if (!all && name_only)
    {
      ref_tag_name_only (&ref);
      if (!quiet)
        printf ("Using default tag: %s\n", ref.tag);
    }
  full = ref_string (&ref);
  ref_release (&ref);
  fflush (stdout);

  struct store *s;
  if (ctx_store (ctx, &s) < 0)
    return 1;
  struct reg_config cfg = { 0 };
  if (reg_config_load (ctx->config, &cfg, &err) < 0)
    return cli_error (&err);
  struct regprog *rp = regprog_new (stdout, isatty (STDOUT_FILENO), quiet);
  struct push_opts o = { .cfg = &cfg, .all_tags = all, .progress = regprog_event, .cookie = rp };
  struct push_result *res = NULL;
  size_t n = 0;
  /* With -a the name goes without a tag; otherwise with the one chosen above. */
  r = image_push (s, all ? args[0] : full, &o, &res, &n, &err);
  regprog_free (rp);
  fflush (stdout);
  if (r < 0)
    {
      reg_config_release (&cfg);
      return cli_error (&err);
    }
  if (quiet)
    printf ("%s\n", full);
  push_results_free (res, n);
  reg_config_release (&cfg);
  return 0;
}
