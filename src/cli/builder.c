/* builder.c — `builder prune`: the build cache (store_build.c), with Docker's prompts and report.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "store/store.h"
#include "util/units.h"

int prune_build_cache (struct berth_ctx *ctx, bool all, int64_t until_ns, int64_t *reclaimed)
{
  struct store *s;
  if (ctx_store (ctx, &s) < 0)
    return 1;
  berr_t err = BERR_INIT;
  cleanup_strv char **lines = NULL;
  if (store_build_running (s))
    {
      fprintf (stderr, "WARNING: a build is running: the build cache was left as it is\n");
      return 0;
    }
  if (store_build_cache_prune_ex (s, all, until_ns, &lines, reclaimed, &err) < 0)
    return cli_error (&err);
  if (lines)
    {
      printf ("Deleted build cache objects:\n");
      for (size_t i = 0; lines[i]; i++)
        printf ("%s\n", str_has_prefix (lines[i], "Deleted: ") ? lines[i] + 9 : lines[i]);
      printf ("\n");
    }
  return 0;
}

int cmd_builder_prune (int argc, char **argv, struct berth_ctx *ctx)
{
  bool all = false, force = false;
  cleanup_strv char **filters = NULL;
  const struct opt opts[] = {
    { "all", 'a', OPT_BOOL, &all, NULL, "Remove all unused build cache, not just dangling ones" },
    { "filter", 0, OPT_STRINGS, &filters, "filter", "Provide filter values (e.g. \"until=24h\")" },
    { "force", 'f', OPT_BOOL, &force, NULL, "Do not prompt for confirmation" },
    { NULL, 0, 0, NULL, NULL, NULL },
  };
  const struct cmd_spec spec = { "builder prune", "Remove build cache", NULL, opts, 0, 0, NULL };
  cleanup_free char **args = NULL;
  int r = opts_parse (&spec, ctx->cmdpath, argc, argv, &args);
  if (r)
    return r < 0 ? 0 : r;
  /* Docker's daemon: "until" (or its old name "unused-for") is a Go duration, once. */
  int64_t until = 0;
  const char *until_key = NULL;
  for (size_t i = 0; filters && filters[i]; i++)
    {
      char *eq = strchr (filters[i], '=');
      if (eq == NULL)
        return cli_errorf ("bad format of filter (expected name=value)");
      cleanup_free char *key = xstrndup (filters[i], (size_t)(eq - filters[i]));
      if (strcmp (key, "until") != 0 && strcmp (key, "unused-for") != 0)
        return cli_errorf ("invalid filter '%s'", key);
      if (until_key && strcmp (until_key, key) != 0)
        return cli_errorf ("conflicting filters \"until\" and \"unused-for\"");
      if (until_key)
        return cli_errorf ("\"%s\" filter expects only one value", key);
      until_key = strcmp (key, "until") == 0 ? "until" : "unused-for";
      int64_t d;
      berr_t err = BERR_INIT;
      if (units_parse_duration (eq + 1, &d, &err) < 0)
        {
          int rc = cli_errorf ("\"%s\" filter expects a duration (e.g., '24h'): %s", until_key,
                               err.msg);
          berr_release (&err);
          return rc;
        }
      until = now_ns () - d;
      if (until <= 0)
        until = 1;
    }
  if (!force)
    {
      /* Docker asks on the warning's line here, unlike the other prunes. */
      printf ("WARNING! This will remove all %sbuild cache. Are you sure you want to continue? "
              "[y/N] ",
              all ? "" : "dangling ");
      fflush (stdout);
      char buf[16] = "";
      if (fgets (buf, sizeof buf, stdin) == NULL || (buf[0] != 'y' && buf[0] != 'Y'))
        return 0;
    }
  int64_t reclaimed = 0;
  int rc = prune_build_cache (ctx, all, until, &reclaimed);
  if (rc)
    return rc;
  cleanup_free char *sz = fmt_size4 (reclaimed);
  printf ("Total reclaimed space: %s\n", sz);
  return 0;
}
