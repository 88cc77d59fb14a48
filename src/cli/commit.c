/* commit.c — `berth commit` and `berth diff` (also as `berth container commit|diff`): a
 * container's changes as Docker lists them, and as a new image. The work is
 * src/container/commit.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "container/commit.h"
#include "image/import.h"
#include "image/ref.h"
#include "util/json.h"

/* Docker reports these from the daemon. */
static int daemon_error (berr_t *err)
{
  fprintf (stderr, "Error response from daemon: %s\n", err->msg ? err->msg : "error");
  berr_release (err);
  return 1;
}

int cmd_diff (int argc, char **argv, struct berth_ctx *ctx)
{
  const struct opt opts[] = { { NULL, 0, 0, NULL, NULL, NULL } };
  const struct cmd_spec spec = { "diff CONTAINER",
                                 "Inspect changes to files or directories on a container's "
                                 "filesystem",
                                 "berth container diff, berth diff",
                                 opts,
                                 1,
                                 1,
                                 NULL };
  cleanup_free char **args = NULL;
  int r = opts_parse (&spec, ctx->cmdpath, argc, argv, &args);
  if (r)
    return r < 0 ? 0 : r;
  struct engine *e;
  if (ctx_engine (ctx, &e) < 0)
    return 1;
  berr_t err = BERR_INIT;
  struct container_rec *c = NULL;
  if (container_get (e, args[0], &c, &err) < 0)
    return daemon_error (&err);
  struct container_change *v = NULL;
  size_t n = 0;
  r = container_diff (e, c, &v, &n, &err);
  container_rec_free (c);
  if (r < 0)
    return daemon_error (&err);
  for (size_t i = 0; i < n; i++)
    printf ("%c %s\n", v[i].kind, v[i].path);
  container_changes_free (v, n);
  return 0;
}

/* REPOSITORY[:TAG] as `tag` takes it: normalized, ":latest" implied, no digest. */
static int commit_tag (const char *arg, char **full)
{
  berr_t err = BERR_INIT;
  int r = ref_tag_target (arg, full, &err);
  if (r < 0)
    {
      if (r == -1)
        cli_errorf ("invalid reference format: \"%s\": %s", arg, err.msg);
      else
        cli_errorf ("%s", err.msg);
      berr_release (&err);
      return 1;
    }
  return 0;
}

int cmd_commit (int argc, char **argv, struct berth_ctx *ctx)
{
  const char *author = NULL, *message = NULL;
  cleanup_strv char **changes = NULL;
  bool pause = true;
  const struct opt opts[] = {
    { "author", 'a', OPT_STRING, &author, "string",
      "Author (e.g., \"John Hannibal Smith <hannibal@a-team.com>\")" },
    { "change", 'c', OPT_STRINGS, &changes, "list",
      "Apply Dockerfile instruction to the created image" },
    { "message", 'm', OPT_STRING, &message, "string", "Commit message" },
    { "pause", 'p', OPT_BOOL, &pause, NULL, "Pause container during commit (default true)" },
    { NULL, 0, 0, NULL, NULL, NULL },
  };
  const struct cmd_spec spec = { "commit [OPTIONS] CONTAINER [REPOSITORY[:TAG]]",
                                 "Create a new image from a container's changes",
                                 "berth container commit, berth commit",
                                 opts,
                                 1,
                                 2,
                                 NULL };
  cleanup_free char **args = NULL;
  int r = opts_parse (&spec, ctx->cmdpath, argc, argv, &args);
  if (r)
    return r < 0 ? 0 : r;
  cleanup_free char *tag = NULL;
  if (args[1] && (r = commit_tag (args[1], &tag)) != 0)
    return r;
  struct engine *e;
  if (ctx_engine (ctx, &e) < 0)
    return 1;
  berr_t err = BERR_INIT;
  struct container_rec *c = NULL;
  if (container_get (e, args[0], &c, &err) < 0)
    return daemon_error (&err);
  cleanup_json json_t *config = NULL;
  if (changes && changes[0])
    {
      config = json_deep_copy (json_object_get (c->config, "Config"));
      if (config == NULL)
        config = json_object ();
      if (image_apply_changes (config, changes, &err) < 0)
        {
          container_rec_free (c);
          return daemon_error (&err);
        }
    }
  struct commit_opts o
      = { .config = config, .comment = message, .author = author, .tag = tag, .pause = pause };
  char id[DIGEST_STR_LEN];
  r = container_commit (e, c, &o, id, &err);
  container_rec_free (c);
  if (r < 0)
    return daemon_error (&err);
  printf ("%s\n", id);
  return 0;
}
