/* volume.c — berth volume create | ls | inspect | rm | prune. */
#include <regex.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "util/fs.h"
#include "util/json.h"
#include "volume/volume.h"

/* "k=v" (or "k") list → object, as docker's map options parse them. */
static json_t *kv_object (char **items)
{
  json_t *o = json_object ();
  for (size_t i = 0; items && items[i]; i++)
    {
      const char *eq = strchr (items[i], '=');
      cleanup_free char *k = eq ? xstrndup (items[i], (size_t)(eq - items[i])) : xstrdup (items[i]);
      json_object_set_new (o, k, json_string (eq ? eq + 1 : ""));
    }
  return o;
}

int cmd_volume_create (int argc, char **argv, struct berth_ctx *ctx)
{
  const char *driver = "local";
  cleanup_strv char **labels = NULL, **options = NULL;
  const struct opt opts[] = {
    { "driver", 'd', OPT_STRING, &driver, "string",
      "Specify volume driver name (default \"local\")" },
    { "label", 0, OPT_STRINGS, &labels, "list", "Set metadata for a volume" },
    { "opt", 'o', OPT_STRINGS, &options, "map", "Set driver specific options (default map[])" },
    { NULL, 0, 0, NULL, NULL, NULL },
  };
  const struct cmd_spec spec
      = { "volume create [OPTIONS] [VOLUME]", "Create a volume", NULL, opts, 0, 1, NULL };
  cleanup_free char **args = NULL;
  int r = opts_parse (&spec, ctx->cmdpath, argc, argv, &args);
  if (r)
    return r < 0 ? 0 : r;
  struct store *s;
  if (ctx_store (ctx, &s) < 0)
    return 1;
  /* Without a name the volume is anonymous (a random name and the anonymous label), as the
   * Docker daemon makes it since 23.0. */
  const char *name = args[0];
  cleanup_json json_t *l = kv_object (labels);
  cleanup_json json_t *o = kv_object (options);
  struct volume_rec *v = NULL;
  berr_t err = BERR_INIT;
  if (volume_create (s, name, driver, l, o, &v, &err) < 0)
    return cli_error (&err);
  printf ("%s\n", v->name);
  volume_rec_free (v);
  return 0;
}

/* ---------------- ls ---------------- */

struct volume_filters
{
  int dangling; /* -1 unset, 0 false, 1 true */
  char **names; /* regular expressions, any may match */
  char **drivers;
  char **labels;     /* key or key=value, all must match */
  char **not_labels; /* label!= */
};

static void volume_filters_release (struct volume_filters *f)
{
  strv_free (f->names);
  strv_free (f->drivers);
  strv_free (f->labels);
  strv_free (f->not_labels);
}

static int parse_filters (char **filters, bool for_prune, struct volume_filters *f)
{
  f->dangling = -1;
  for (size_t i = 0; filters && filters[i]; i++)
    {
      const char *eq = strchr (filters[i], '=');
      if (eq == NULL)
        return cli_errorf ("bad format of filter (expected name=value)");
      cleanup_free char *key = xstrndup (filters[i], (size_t)(eq - filters[i]));
      const char *val = eq + 1;
      if (strcmp (key, "label") == 0)
        strv_push (&f->labels, val);
      else if (strcmp (key, "label!") == 0)
        strv_push (&f->not_labels, val);
      else if (!for_prune && strcmp (key, "dangling") == 0)
        {
          if (strcmp (val, "true") == 0 || strcmp (val, "1") == 0)
            f->dangling = 1;
          else if (strcmp (val, "false") == 0 || strcmp (val, "0") == 0)
            f->dangling = 0;
          else
            return cli_errorf ("invalid filter 'dangling=[%s]'", val);
        }
      else if (!for_prune && strcmp (key, "name") == 0)
        strv_push (&f->names, val);
      else if (!for_prune && strcmp (key, "driver") == 0)
        strv_push (&f->drivers, val);
      else
        return cli_errorf ("invalid filter '%s'", key);
    }
  return 0;
}

/* Docker's filters.Match: the value is a regular expression searched in the field. */
static bool match_any (char **patterns, const char *s)
{
  if (patterns == NULL)
    return true;
  for (size_t i = 0; patterns[i]; i++)
    {
      regex_t re;
      if (regcomp (&re, patterns[i], REG_EXTENDED | REG_NOSUB) != 0)
        continue;
      bool m = regexec (&re, s, 0, NULL, 0) == 0;
      regfree (&re);
      if (m)
        return true;
    }
  return false;
}

static bool label_matches (json_t *labels, const char *want)
{
  const char *eq = strchr (want, '=');
  cleanup_free char *k = eq ? xstrndup (want, (size_t)(eq - want)) : xstrdup (want);
  const char *v = json_get_str (labels, k);
  return v != NULL && (eq == NULL || strcmp (v, eq + 1) == 0);
}

static bool labels_match (json_t *labels, struct volume_filters *f)
{
  for (size_t i = 0; f->labels && f->labels[i]; i++)
    if (!label_matches (labels, f->labels[i]))
      return false;
  for (size_t i = 0; f->not_labels && f->not_labels[i]; i++)
    if (label_matches (labels, f->not_labels[i]))
      return false;
  return true;
}

static int cmp_natural (const void *x, const void *y)
{
  const struct volume_rec *a = *(struct volume_rec *const *)x;
  const struct volume_rec *b = *(struct volume_rec *const *)y;
  return cli_natural_less (a->name, b->name) ? -1 : cli_natural_less (b->name, a->name) ? 1 : 0;
}

/* Volumes in `volume ls` order, or an exit code (> 0) after printing the error. */
static int list_volumes (struct berth_ctx *ctx, struct store **s, struct volume_rec ***recs,
                         size_t *n)
{
  berr_t err = BERR_INIT;
  if (ctx_store (ctx, s) < 0)
    return 1;
  if (volume_list (*s, recs, n, &err) < 0)
    return cli_error (&err);
  qsort (*recs, *n, sizeof **recs, cmp_natural);
  return 0;
}

static void recs_free (struct volume_rec **recs, size_t n)
{
  for (size_t i = 0; i < n; i++)
    volume_rec_free (recs[i]);
  free (recs);
}

int cmd_volume_ls (int argc, char **argv, struct berth_ctx *ctx)
{
  bool quiet = false;
  const char *format = NULL;
  cleanup_strv char **filters = NULL;
  const struct opt opts[] = {
    { "filter", 'f', OPT_STRINGS, &filters, "filter",
      "Provide filter values (e.g. \"dangling=true\")" },
    { "format", 0, OPT_STRING, &format, "string",
      "Format output using a custom template:\n'table':            Print output in table format "
      "with column headers (default)\n'table TEMPLATE':   Print output in table format using the "
      "given Go template\n'json':             Print in JSON format\n'TEMPLATE':         Print "
      "output using the given Go template" },
    { "quiet", 'q', OPT_BOOL, &quiet, NULL, "Only display volume names" },
    { NULL, 0, 0, NULL, NULL, NULL },
  };
  const struct cmd_spec spec = {
    "volume ls [OPTIONS]", "List volumes", "berth volume ls, berth volume list", opts, 0, 0, NULL
  };
  cleanup_free char **args = NULL;
  int r = opts_parse (&spec, ctx->cmdpath, argc, argv, &args);
  if (r)
    return r < 0 ? 0 : r;
  struct volume_filters f = { 0 };
  if ((r = parse_filters (filters, false, &f)) != 0)
    {
      volume_filters_release (&f);
      return r;
    }
  struct store *s;
  struct volume_rec **recs = NULL;
  size_t n = 0;
  if ((r = list_volumes (ctx, &s, &recs, &n)) != 0)
    {
      volume_filters_release (&f);
      return r;
    }
  cleanup_json json_t *rows = json_array ();
  int rc = 0;
  for (size_t i = 0; i < n && rc == 0; i++)
    {
      struct volume_rec *v = recs[i];
      if (!match_any (f.names, v->name) || !match_any (f.drivers, v->driver)
          || !labels_match (v->labels, &f))
        continue;
      if (f.dangling >= 0)
        {
          cleanup_strv char **users = NULL;
          berr_t err = BERR_INIT;
          if (volume_users (s, v->name, &users, &err) < 0)
            {
              rc = cli_error (&err);
              break;
            }
          if ((users[0] == NULL) != (f.dangling == 1))
            continue;
        }
      cleanup_free char *labels = cli_labels_string (v->labels);
      json_array_append_new (rows, json_pack ("{s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "Name",
                                              v->name, "Driver", v->driver, "Scope", "local",
                                              "Mountpoint", v->mountpoint, "Labels", labels,
                                              "Links", "N/A", "Size", "N/A"));
    }
  recs_free (recs, n);
  volume_filters_release (&f);
  if (rc)
    return rc;
  cleanup_json json_t *headers = json_pack (
      "{s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "Name", "VOLUME NAME", "Driver", "DRIVER", "Scope",
      "SCOPE", "Mountpoint", "MOUNTPOINT", "Labels", "LABELS", "Links", "LINKS", "Size", "SIZE");
  if (quiet)
    return print_rows (rows, "{{.Name}}", NULL, headers);
  if (format && strcmp (format, "table") == 0)
    format = NULL;
  return print_rows (rows, format, "table {{.Driver}}\t{{.Name}}", headers);
}

/* ---------------- inspect ---------------- */

int cmd_volume_inspect (int argc, char **argv, struct berth_ctx *ctx)
{
  const char *format = NULL;
  const struct opt opts[] = {
    { "format", 'f', OPT_STRING, &format, "string",
      "Format output using a custom template:\n'json': Print in JSON format\n'TEMPLATE': Print "
      "output using the given Go template" },
    { NULL, 0, 0, NULL, NULL, NULL },
  };
  const struct cmd_spec spec = { "volume inspect [OPTIONS] VOLUME [VOLUME...]",
                                 "Display detailed information on one or more volumes",
                                 NULL,
                                 opts,
                                 1,
                                 -1,
                                 NULL };
  cleanup_free char **args = NULL;
  int r = opts_parse (&spec, ctx->cmdpath, argc, argv, &args);
  if (r)
    return r < 0 ? 0 : r;
  if (format && strcmp (format, "json") == 0)
    format = NULL;
  struct store *s;
  if (ctx_store (ctx, &s) < 0)
    return 1;
  cleanup_json json_t *out = json_array ();
  cleanup_strv char **errors = NULL;
  for (size_t i = 0; args[i]; i++)
    {
      struct volume_rec *v = NULL;
      berr_t err = BERR_INIT;
      if (volume_get (s, args[i], &v, &err) < 0)
        {
          strv_push (&errors, err.msg);
          berr_release (&err);
          continue;
        }
      json_array_append_new (out, volume_inspect_json (v));
      volume_rec_free (v);
    }
  int prc = 0;
  if (json_array_size (out) > 0 || format == NULL)
    prc = print_inspect (out, format);
  for (size_t i = 0; errors && errors[i]; i++)
    fprintf (stderr, "Error: %s\n", errors[i]);
  return errors ? 1 : prc;
}

/* ---------------- rm ---------------- */

int cmd_volume_rm (int argc, char **argv, struct berth_ctx *ctx)
{
  bool force = false;
  const struct opt opts[] = {
    { "force", 'f', OPT_BOOL, &force, NULL, "Force the removal of one or more volumes" },
    { NULL, 0, 0, NULL, NULL, NULL },
  };
  const struct cmd_spec spec = { "volume rm [OPTIONS] VOLUME [VOLUME...]",
                                 "Remove one or more volumes. You cannot remove a volume that is "
                                 "in use by a container.",
                                 "berth volume rm, berth volume remove",
                                 opts,
                                 1,
                                 -1,
                                 NULL };
  cleanup_free char **args = NULL;
  int r = opts_parse (&spec, ctx->cmdpath, argc, argv, &args);
  if (r)
    return r < 0 ? 0 : r;
  struct store *s;
  if (ctx_store (ctx, &s) < 0)
    return 1;
  int rc = 0;
  for (size_t i = 0; args[i]; i++)
    {
      berr_t err = BERR_INIT;
      if (volume_remove (s, args[i], force, &err) < 0)
        {
          rc = cli_error (&err);
          continue;
        }
      printf ("%s\n", args[i]);
    }
  return rc;
}

/* ---------------- prune ---------------- */

static int prune_volumes_filtered (struct berth_ctx *ctx, bool all, struct volume_filters *fp,
                                   int64_t *reclaimed_out);

int cmd_volume_prune (int argc, char **argv, struct berth_ctx *ctx)
{
  bool all = false, force = false;
  cleanup_strv char **filters = NULL;
  const struct opt opts[] = {
    { "all", 'a', OPT_BOOL, &all, NULL, "Remove all unused volumes, not just anonymous ones" },
    { "filter", 0, OPT_STRINGS, &filters, "filter",
      "Provide filter values (e.g. \"label=<label>\")" },
    { "force", 'f', OPT_BOOL, &force, NULL, "Do not prompt for confirmation" },
    { NULL, 0, 0, NULL, NULL, NULL },
  };
  const struct cmd_spec spec
      = { "volume prune [OPTIONS]", "Remove unused local volumes", NULL, opts, 0, 0, NULL };
  cleanup_free char **args = NULL;
  int r = opts_parse (&spec, ctx->cmdpath, argc, argv, &args);
  if (r)
    return r < 0 ? 0 : r;
  struct volume_filters f = { 0 };
  if ((r = parse_filters (filters, true, &f)) != 0)
    {
      volume_filters_release (&f);
      return r;
    }
  if (!force
      && !cli_confirm (
          all ? "WARNING! This will remove all local volumes not used by at least one "
                "container."
              : "WARNING! This will remove anonymous local volumes not used by at least "
                "one container."))
    {
      volume_filters_release (&f);
      return 0;
    }
  r = prune_volumes_filtered (ctx, all, &f, NULL);
  volume_filters_release (&f);
  return r;
}

static int prune_volumes_filtered (struct berth_ctx *ctx, bool all, struct volume_filters *fp,
                                   int64_t *reclaimed_out)
{
  struct volume_filters f = *fp;
  int r;
  struct store *s;
  struct volume_rec **recs = NULL;
  size_t n = 0;
  if ((r = list_volumes (ctx, &s, &recs, &n)) != 0)
    return r;
  berr_t err = BERR_INIT;
  /* Directories a crash left without a row go too (not listed: they were never volumes). */
  if (store_volume_gc (s, &err) < 0)
    {
      fprintf (stderr, "Error: %s\n", err.msg);
      berr_release (&err);
    }
  cleanup_strv char **deleted = NULL;
  int64_t reclaimed = 0;
  int rc = 0;
  for (size_t i = 0; i < n; i++)
    {
      struct volume_rec *v = recs[i];
      if (!all && json_object_get (v->labels, VOLUME_ANONYMOUS_LABEL) == NULL)
        continue;
      if (!labels_match (v->labels, &f))
        continue;
      cleanup_strv char **users = NULL;
      if (volume_users (s, v->name, &users, &err) < 0)
        {
          rc = cli_error (&err);
          continue;
        }
      if (users[0])
        continue;
      int64_t size = fs_tree_size (v->mountpoint);
      if (volume_remove (s, v->name, false, &err) < 0)
        {
          /* Taken into use since the listing: not unused any more. */
          if (err.kind == BERR_CONFLICT || err.kind == BERR_NOT_FOUND)
            berr_release (&err);
          else
            rc = cli_error (&err);
          continue;
        }
      strv_push (&deleted, v->name);
      if (size > 0)
        reclaimed += size;
    }
  recs_free (recs, n);
  if (deleted)
    {
      printf ("Deleted Volumes:\n");
      for (size_t k = 0; deleted[k]; k++)
        printf ("%s\n", deleted[k]);
      printf ("\n");
    }
  if (reclaimed_out)
    {
      *reclaimed_out = reclaimed;
      return rc;
    }
  cleanup_free char *sz = fmt_size4 (reclaimed);
  printf ("Total reclaimed space: %s\n", sz);
  return rc;
}

int prune_volumes (struct berth_ctx *ctx, bool all, char **labels, int64_t *reclaimed)
{
  struct volume_filters f = { .dangling = -1 };
  f.labels = strv_dup (labels);
  int r = prune_volumes_filtered (ctx, all, &f, reclaimed);
  volume_filters_release (&f);
  return r;
}
