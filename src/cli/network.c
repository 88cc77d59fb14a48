/* network.c — berth network create | ls | inspect | rm | prune.  (connect and disconnect are
 * with the containers.) */
#include <regex.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "container/container.h"
#include "net/network.h"
#include "util/json.h"
#include "util/units.h"

/* The daemon's errors, as the docker CLI prints them. */
static int daemon_error (berr_t *err)
{
  fprintf (stderr, "Error response from daemon: %s\n", err->msg ? err->msg : "error");
  berr_release (err);
  return 1;
}

/* "k=v" (or "k") list → object, as docker's label and map options parse them. */
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

/* ---------------- create ---------------- */

int cmd_network_create (int argc, char **argv, struct berth_ctx *ctx)
{
  const char *driver = "bridge";
  bool internal = false, attachable = false, ipv6 = false;
  cleanup_strv char **subnets = NULL, **gateways = NULL, **ranges = NULL, **labels = NULL,
                    **options = NULL;
  const struct opt opts[] = {
    { "attachable", 0, OPT_BOOL, &attachable, NULL, "Enable manual container attachment" },
    { "driver", 'd', OPT_STRING, &driver, "string",
      "Driver to manage the Network (default \"bridge\")" },
    { "gateway", 0, OPT_STRINGS, &gateways, "ipSlice",
      "IPv4 or IPv6 Gateway for the master subnet" },
    { "internal", 0, OPT_BOOL, &internal, NULL, "Restrict external access to the network" },
    { "ip-range", 0, OPT_STRINGS, &ranges, "ipNetSlice", "Allocate container ip from a sub-range" },
    { "ipv6", 0, OPT_BOOL, &ipv6, NULL, "Enable or disable IPv6 address assignment" },
    { "label", 0, OPT_STRINGS, &labels, "list", "Set metadata on a network" },
    { "opt", 'o', OPT_STRINGS, &options, "map", "Set driver specific options (default map[])" },
    { "subnet", 0, OPT_STRINGS, &subnets, "strings",
      "Subnet in CIDR format that represents a network segment" },
    { NULL, 0, 0, NULL, NULL, NULL },
  };
  const struct cmd_spec spec
      = { "network create [OPTIONS] NETWORK", "Create a network", NULL, opts, 1, 1, NULL };
  cleanup_free char **args = NULL;
  int r = opts_parse (&spec, ctx->cmdpath, argc, argv, &args);
  if (r)
    return r < 0 ? 0 : r;
  if (ipv6)
    return cli_errorf ("IPv6 is not supported: berth networks are IPv4 only");
  /* Docker's CLI checks, before anything reaches the engine. */
  if (strv_len (subnets) < strv_len (ranges) || strv_len (subnets) < strv_len (gateways))
    return cli_errorf ("every ip-range or gateway must have a corresponding subnet");
  if (strv_len (subnets) > 1)
    return cli_errorf ("berth supports one IPv4 subnet per network");
  struct engine *e;
  if (ctx_engine (ctx, &e) < 0)
    return 1;
  cleanup_json json_t *l = kv_object (labels);
  cleanup_json json_t *o = kv_object (options);
  struct network_create_opts co = {
    .name = args[0],
    .driver = driver,
    .subnet = subnets ? subnets[0] : NULL,
    .gateway = gateways ? gateways[0] : NULL,
    .ip_range = ranges ? ranges[0] : NULL,
    .internal = internal,
    .attachable = attachable,
    .labels = l,
    .options = o,
  };
  struct network_row *n = NULL;
  berr_t err = BERR_INIT;
  if (network_create (e, &co, &n, &err) < 0)
    return daemon_error (&err);
  printf ("%s\n", n->id);
  network_row_free (n);
  return 0;
}

/* ---------------- ls ---------------- */

struct network_filters
{
  int dangling; /* -1 unset, 0 false, 1 true */
  char **drivers, **names, **ids, **labels, **scopes, **types;
};

static void network_filters_release (struct network_filters *f)
{
  strv_free (f->drivers);
  strv_free (f->names);
  strv_free (f->ids);
  strv_free (f->labels);
  strv_free (f->scopes);
  strv_free (f->types);
}

static int parse_filters (char **filters, struct network_filters *f)
{
  f->dangling = -1;
  size_t ndangling = 0;
  for (size_t i = 0; filters && filters[i]; i++)
    {
      const char *eq = strchr (filters[i], '=');
      if (eq == NULL)
        return cli_errorf ("bad format of filter (expected name=value)");
      cleanup_free char *key = xstrndup (filters[i], (size_t)(eq - filters[i]));
      const char *val = eq + 1;
      if (strcmp (key, "driver") == 0)
        strv_push (&f->drivers, val);
      else if (strcmp (key, "name") == 0)
        strv_push (&f->names, val);
      else if (strcmp (key, "id") == 0)
        strv_push (&f->ids, val);
      else if (strcmp (key, "label") == 0)
        strv_push (&f->labels, val);
      else if (strcmp (key, "scope") == 0)
        strv_push (&f->scopes, val);
      else if (strcmp (key, "type") == 0)
        {
          if (strcmp (val, "custom") != 0 && strcmp (val, "builtin") != 0)
            {
              fprintf (stderr, "Error response from daemon: invalid filter: 'type'='%s'\n", val);
              return 1;
            }
          strv_push (&f->types, val);
        }
      else if (strcmp (key, "dangling") == 0)
        {
          if (++ndangling > 1)
            {
              fprintf (stderr, "Error response from daemon: got more than one value for filter "
                               "key \"dangling\"\n");
              return 1;
            }
          if (strcmp (val, "true") == 0 || strcmp (val, "1") == 0)
            f->dangling = 1;
          else if (strcmp (val, "false") == 0 || strcmp (val, "0") == 0)
            f->dangling = 0;
          else
            {
              fprintf (stderr, "Error response from daemon: invalid value for filter 'dangling', "
                               "must be \"true\" (or \"1\"), or \"false\" (or \"0\")\n");
              return 1;
            }
        }
      else
        {
          fprintf (stderr, "Error response from daemon: invalid filter '%s'\n", key);
          return 1;
        }
    }
  return 0;
}

/* Docker's filters.Match: equal, or the value as a regular expression found in the field. */
static bool match_any (char **patterns, const char *s)
{
  if (patterns == NULL)
    return true;
  for (size_t i = 0; patterns[i]; i++)
    {
      if (strcmp (patterns[i], s) == 0)
        return true;
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

/* filters.ExactMatch */
static bool exact_any (char **values, const char *s)
{
  return values == NULL || strv_contains (values, s);
}

/* filters.MatchKVList: every "k" or "k=v" matches. */
static bool labels_match (json_t *labels, char **want)
{
  for (size_t i = 0; want && want[i]; i++)
    {
      const char *eq = strchr (want[i], '=');
      cleanup_free char *k = eq ? xstrndup (want[i], (size_t)(eq - want[i])) : xstrdup (want[i]);
      const char *v = json_get_str (labels, k);
      if (v == NULL || (eq && strcmp (v, eq + 1) != 0))
        return false;
    }
  return true;
}

static int cmp_natural (const void *x, const void *y)
{
  const struct network_row *a = *(struct network_row *const *)x;
  const struct network_row *b = *(struct network_row *const *)y;
  return cli_natural_less (a->name, b->name) ? -1 : cli_natural_less (b->name, a->name) ? 1 : 0;
}

/* Go's time.Time.String() of a time decoded from the API's JSON (UTC). */
static char *go_time_string (int64_t ns)
{
  time_t secs = (time_t)(ns / 1000000000);
  long frac = (long)(ns % 1000000000);
  struct tm tm;
  gmtime_r (&secs, &tm);
  char base[32];
  strftime (base, sizeof base, "%Y-%m-%d %H:%M:%S", &tm);
  char fr[16] = "";
  if (frac > 0)
    {
      snprintf (fr, sizeof fr, ".%09ld", frac);
      size_t l = strlen (fr);
      while (l > 1 && fr[l - 1] == '0')
        fr[--l] = '\0';
    }
  return xasprintf ("%s%s +0000 UTC", base, fr);
}

int cmd_network_ls (int argc, char **argv, struct berth_ctx *ctx)
{
  bool quiet = false, no_trunc = false;
  const char *format = NULL;
  cleanup_strv char **filters = NULL;
  const struct opt opts[] = {
    { "filter", 'f', OPT_STRINGS, &filters, "filter",
      "Provide filter values (e.g. \"driver=bridge\")" },
    { "format", 0, OPT_STRING, &format, "string",
      "Format output using a custom template:\n'table':            Print output in table format "
      "with column headers (default)\n'table TEMPLATE':   Print output in table format using the "
      "given Go template\n'json':             Print in JSON format\n'TEMPLATE':         Print "
      "output using the given Go template" },
    { "no-trunc", 0, OPT_BOOL, &no_trunc, NULL, "Do not truncate the output" },
    { "quiet", 'q', OPT_BOOL, &quiet, NULL, "Only display network IDs" },
    { NULL, 0, 0, NULL, NULL, NULL },
  };
  const struct cmd_spec spec = { "network ls [OPTIONS]",
                                 "List networks",
                                 "berth network ls, berth network list",
                                 opts,
                                 0,
                                 0,
                                 NULL };
  cleanup_free char **args = NULL;
  int r = opts_parse (&spec, ctx->cmdpath, argc, argv, &args);
  if (r)
    return r < 0 ? 0 : r;
  struct network_filters f = { 0 };
  if ((r = parse_filters (filters, &f)) != 0)
    {
      network_filters_release (&f);
      return r;
    }
  struct engine *e;
  if (ctx_engine (ctx, &e) < 0)
    {
      network_filters_release (&f);
      return 1;
    }
  berr_t err = BERR_INIT;
  struct network_row **v = NULL;
  size_t n = 0;
  if (network_ensure_defaults (e, &err) < 0 || store_network_list (e->store, &v, &n, &err) < 0)
    {
      network_filters_release (&f);
      return daemon_error (&err);
    }
  qsort (v, n, sizeof *v, cmp_natural);
  cleanup_json json_t *rows = json_array ();
  int rc = 0;
  for (size_t i = 0; i < n; i++)
    {
      struct network_row *nw = v[i];
      if (!exact_any (f.drivers, nw->driver) || !match_any (f.names, nw->name)
          || !match_any (f.ids, nw->id) || !labels_match (nw->labels, f.labels)
          || !exact_any (f.scopes, nw->scope))
        continue;
      if (f.types && !strv_contains (f.types, nw->builtin ? "builtin" : "custom"))
        continue;
      if (f.dangling >= 0)
        {
          /* Docker: a predefined network is never dangling; others are while no container is
           * attached (running) to them. */
          struct endpoint_row **eps = NULL;
          size_t neps = 0;
          if (store_endpoint_list (e->store, nw->id, NULL, &eps, &neps, &err) < 0)
            {
              rc = daemon_error (&err);
              break;
            }
          endpoint_rows_free (eps, neps);
          bool dangling = !nw->builtin && neps == 0;
          if (dangling != (f.dangling == 1))
            continue;
        }
      cleanup_free char *id = no_trunc ? xstrdup (nw->id) : xstrndup (nw->id, 12);
      cleanup_free char *labels = cli_labels_string (nw->labels);
      cleanup_free char *created = go_time_string (nw->created_ns);
      json_array_append_new (rows, json_pack ("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "ID",
                                              id, "Name", nw->name, "Driver", nw->driver, "Scope",
                                              nw->scope, "IPv4", "true", "IPv6", "false",
                                              "Internal", nw->internal ? "true" : "false", "Labels",
                                              labels, "CreatedAt", created));
    }
  network_rows_free (v, n);
  network_filters_release (&f);
  if (rc)
    return rc;
  cleanup_json json_t *headers
      = json_pack ("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "ID", "NETWORK ID", "Name",
                   "NAME", "Driver", "DRIVER", "Scope", "SCOPE", "IPv4", "IPV4", "IPv6", "IPV6",
                   "Internal", "INTERNAL", "Labels", "LABELS", "CreatedAt", "CREATED AT");
  if (format && strcmp (format, "table") == 0)
    format = NULL;
  if (quiet && format == NULL)
    return print_rows (rows, "{{.ID}}", NULL, headers);
  return print_rows (rows, format, "table {{.ID}}\t{{.Name}}\t{{.Driver}}\t{{.Scope}}", headers);
}

/* ---------------- inspect ---------------- */

int inspect_network (struct berth_ctx *ctx, const char *name, json_t *out, berr_t *err)
{
  struct engine *e;
  if (ctx_engine (ctx, &e) < 0)
    return berr_set (err, 0, "cannot open the engine");
  struct network_row *n = NULL;
  if (network_get (e, name, &n, err) < 0)
    return -1;
  json_array_append_new (out, network_inspect_json (e, n));
  network_row_free (n);
  return 0;
}

int cmd_network_inspect (int argc, char **argv, struct berth_ctx *ctx)
{
  const char *format = NULL;
  bool verbose = false;
  const struct opt opts[] = {
    { "format", 'f', OPT_STRING, &format, "string",
      "Format output using a custom template:\n'json':             Print in JSON format\n"
      "'TEMPLATE':         Print output using the given Go template" },
    { "verbose", 'v', OPT_BOOL, &verbose, NULL, "Verbose output for diagnostics" },
    { NULL, 0, 0, NULL, NULL, NULL },
  };
  const struct cmd_spec spec = { "network inspect [OPTIONS] NETWORK [NETWORK...]",
                                 "Display detailed information on one or more networks",
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
  struct engine *e;
  if (ctx_engine (ctx, &e) < 0)
    return 1;
  cleanup_json json_t *out = json_array ();
  cleanup_strv char **errors = NULL;
  for (size_t i = 0; args[i]; i++)
    {
      struct network_row *n = NULL;
      berr_t err = BERR_INIT;
      if (network_get (e, args[i], &n, &err) < 0)
        {
          strv_push (&errors, err.msg);
          berr_release (&err);
          continue;
        }
      json_array_append_new (out, network_inspect_json (e, n));
      network_row_free (n);
    }
  int prc = 0;
  if (json_array_size (out) > 0 || format == NULL)
    prc = print_inspect (out, format);
  for (size_t i = 0; errors && errors[i]; i++)
    fprintf (stderr, "Error response from daemon: %s\n", errors[i]);
  return errors ? 1 : prc;
}

/* ---------------- rm ---------------- */

int cmd_network_rm (int argc, char **argv, struct berth_ctx *ctx)
{
  bool force = false;
  const struct opt opts[] = {
    { "force", 'f', OPT_BOOL, &force, NULL, "Do not error if the network does not exist" },
    { NULL, 0, 0, NULL, NULL, NULL },
  };
  const struct cmd_spec spec = { "network rm NETWORK [NETWORK...]",
                                 "Remove one or more networks",
                                 "berth network rm, berth network remove",
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
  int rc = 0;
  for (size_t i = 0; args[i]; i++)
    {
      berr_t err = BERR_INIT;
      if (network_remove (e, args[i], &err) < 0)
        {
          if (force && err.kind == BERR_NOT_FOUND)
            {
              berr_release (&err);
              continue;
            }
          rc = daemon_error (&err);
          continue;
        }
      printf ("%s\n", args[i]);
    }
  return rc;
}

/* ---------------- prune ---------------- */

/* docker's timetypes.GetTimestamp: RFC 3339, a Unix timestamp, or a duration before now. */
static int parse_until (const char *s, int64_t *ns)
{
  berr_t err = BERR_INIT;
  if (units_parse_rfc3339 (s, ns, &err) == 0)
    return 0;
  berr_release (&err);
  char *end;
  double v = strtod (s, &end);
  if (*s && *end == '\0')
    {
      *ns = (int64_t)(v * 1e9);
      return 0;
    }
  int64_t d;
  if (units_parse_duration (s, &d, &err) == 0)
    {
      *ns = now_ns () - d;
      return 0;
    }
  berr_release (&err);
  return -1;
}

int prune_networks (struct berth_ctx *ctx, char **filters, bool report)
{
  int64_t until = 0;
  cleanup_strv char **labels = NULL;
  for (size_t i = 0; filters && filters[i]; i++)
    {
      if (str_has_prefix (filters[i], "label=") || str_has_prefix (filters[i], "label!="))
        strv_push (&labels, filters[i]);
      else if (str_has_prefix (filters[i], "until="))
        {
          if (parse_until (filters[i] + 6, &until) < 0)
            return cli_errorf ("invalid filter 'until=%s'", filters[i] + 6);
        }
      else
        {
          const char *eq = strchr (filters[i], '=');
          if (eq == NULL)
            return cli_errorf ("bad format of filter (expected name=value)");
          fprintf (stderr, "Error response from daemon: invalid filter '%.*s'\n",
                   (int)(eq - filters[i]), filters[i]);
          return 1;
        }
    }
  struct engine *e;
  if (ctx_engine (ctx, &e) < 0)
    return 1;
  cleanup_strv char **removed = NULL;
  berr_t err = BERR_INIT;
  if (network_prune (e, until, labels, &removed, &err) < 0)
    return daemon_error (&err);
  if (report && removed && removed[0])
    {
      printf ("Deleted Networks:\n");
      for (size_t i = 0; removed[i]; i++)
        printf ("%s\n", removed[i]);
      printf ("\n");
    }
  return 0;
}

int cmd_network_prune (int argc, char **argv, struct berth_ctx *ctx)
{
  bool force = false;
  cleanup_strv char **filters = NULL;
  const struct opt opts[] = {
    { "filter", 0, OPT_STRINGS, &filters, "filter",
      "Provide filter values (e.g. \"until=<timestamp>\")" },
    { "force", 'f', OPT_BOOL, &force, NULL, "Do not prompt for confirmation" },
    { NULL, 0, 0, NULL, NULL, NULL },
  };
  const struct cmd_spec spec
      = { "network prune [OPTIONS]", "Remove all unused networks", NULL, opts, 0, 0, NULL };
  cleanup_free char **args = NULL;
  int r = opts_parse (&spec, ctx->cmdpath, argc, argv, &args);
  if (r)
    return r < 0 ? 0 : r;
  if (!force
      && !cli_confirm ("WARNING! This will remove all custom networks not used by at least one "
                       "container."))
    return 0;
  return prune_networks (ctx, filters, true);
}
