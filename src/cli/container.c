/* container.c — container verbs: ps, start, stop, restart, kill, rm, wait, pause, unpause,
 * rename, container prune, logs, attach, and inspect of containers. run/create are in run.c,
 * exec in exec.c. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "container/container.h"
#include "monitor/logfile.h"
#include "net/attach.h"
#include "util/fs.h"
#include "util/json.h"
#include "util/signals.h"
#include "util/units.h"

static char *find_in_path (const char *name)
{
  const char *path = getenv ("PATH");
  if (path == NULL || path[0] == '\0')
    path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
  cleanup_free char *copy = xstrdup (path);
  char *save = NULL;
  for (char *d = strtok_r (copy, ":", &save); d; d = strtok_r (NULL, ":", &save))
    {
      char *p = xasprintf ("%s/%s", d, name);
      if (access (p, X_OK) == 0)
        return p;
      free (p);
    }
  return NULL;
}

int ctx_engine (struct berth_ctx *ctx, struct engine **out)
{
  static struct engine e;
  static char self[PATH_MAX], monitor[PATH_MAX + 32];
  static char *init;
  struct store *s;
  if (ctx_store (ctx, &s) < 0)
    return -1;
  if (e.store == NULL)
    {
      ssize_t n = readlink ("/proc/self/exe", self, sizeof self - 1);
      if (n < 0)
        return cli_errorf ("cannot find berth's own binary: %s", strerror (errno)), -1;
      self[n] = '\0';
      const char *env = getenv ("BERTH_MONITOR");
      if (env && env[0])
        snprintf (monitor, sizeof monitor, "%s", env);
      else
        {
          char *slash = strrchr (self, '/');
          snprintf (monitor, sizeof monitor, "%.*s/berth-monitor", (int)(slash - self), self);
        }
      const char *inits[] = { "docker-init", "tini-static" };
      for (size_t i = 0; i < ARRAY_SIZE (inits) && init == NULL; i++)
        init = find_in_path (inits[i]);
      /* Container state is reconciled from the processes themselves after a crash, so its
       * transactions need not wait for the disk (WAL, synchronous=NORMAL: still atomic and
       * consistent, possibly not the very last change after a power loss). Image ingest sets
       * its own durability in the store. */
      store_set_metadata_sync (s, false);
      e.store = s;
      e.root = ctx->root;
      e.runroot = ctx->runroot;
      /* Passed on to the monitor's exit command only when there is a file to read. */
      e.config_path
          = ctx->config_path && access (ctx->config_path, R_OK) == 0 ? ctx->config_path : NULL;
      e.self_exe = self;
      e.monitor_exe = monitor;
      e.init_exe = init;
      e.cgroup_root = json_get_str (ctx->config, "cgroup-root");
      e.cgroup_parent = json_get_str (ctx->config, "cgroup-parent");
      const char *v;
      e.bridge_name = (v = json_get_str (ctx->config, "bridge-name")) ? v : "berth0";
      e.bridge_subnet = (v = json_get_str (ctx->config, "bridge-subnet")) ? v : "10.210.0.0/16";
      e.network_pool = (v = json_get_str (ctx->config, "network-pool")) ? v : "10.211.0.0/16";
      json_t *pp = json_object_get (ctx->config, "network-pool-prefix");
      e.network_pool_prefix = json_is_integer (pp) ? (int)json_integer_value (pp) : 24;
      e.nft_table = (v = json_get_str (ctx->config, "nft-table")) ? v : "berth";
      json_t *cdi = json_object_get (ctx->config, "cdi-spec-dirs");
      e.cdi_spec_dirs = json_is_array (cdi) ? json_to_strv (cdi) : NULL;
      e.nvidia_driver_root = json_get_str (ctx->config, "nvidia-driver-root");
    }
  *out = &e;
  return 0;
}

/* Docker prints errors of multi-container verbs per container and exits 1 at the end. */
static int each_error (berr_t *err)
{
  fprintf (stderr, "Error response from daemon: %s\n", err->msg ? err->msg : "error");
  berr_release (err);
  return 1;
}

/* ---------- ps ---------- */

static int64_t parse_time_field (const json_t *state, const char *key)
{
  const char *t = json_get_str ((json_t *)state, key);
  int64_t ns = 0;
  berr_t e = BERR_INIT;
  if (t == NULL || str_has_prefix (t, "0001-") || units_parse_rfc3339 (t, &ns, &e) < 0)
    {
      berr_release (&e);
      return 0;
    }
  return ns;
}

static char *human_since (int64_t ns)
{
  char buf[64];
  int64_t secs = (now_ns () - ns) / 1000000000LL;
  return xstrdup (units_human_duration (secs < 0 ? 0 : secs, buf, sizeof buf));
}

/* Docker's State.String(). */
char *container_status_text (const struct container_rec *c)
{
  json_t *s = c->state;
  const char *status = container_status (c);
  if (json_is_true (json_object_get (s, "Running")))
    {
      if (json_is_true (json_object_get (s, "Restarting")))
        {
          cleanup_free char *ago = human_since (parse_time_field (s, "FinishedAt"));
          return xasprintf ("Restarting (%lld) %s ago",
                            (long long)json_integer_value (json_object_get (s, "ExitCode")), ago);
        }
      cleanup_free char *up = human_since (parse_time_field (s, "StartedAt"));
      const char *health = json_get_str (json_object_get (s, "Health"), "Status");
      cleanup_free char *h = NULL;
      if (health && strcmp (health, "starting") == 0)
        h = xstrdup (" (health: starting)");
      else if (health && health[0])
        h = xasprintf (" (%s)", health);
      return xasprintf ("Up %s%s%s", up,
                        json_is_true (json_object_get (s, "Paused")) ? " (Paused)" : "",
                        h ? h : "");
    }
  if (strcmp (status, "removing") == 0)
    return xstrdup ("Removal In Progress");
  if (strcmp (status, "dead") == 0)
    return xstrdup ("Dead");
  if (strcmp (status, "created") == 0)
    return xstrdup ("Created");
  int64_t fin = parse_time_field (s, "FinishedAt");
  if (fin == 0)
    return xstrdup ("");
  cleanup_free char *ago = human_since (fin);
  return xasprintf ("Exited (%lld) %s ago",
                    (long long)json_integer_value (json_object_get (s, "ExitCode")), ago);
}

static char *command_of (const struct container_rec *c)
{
  json_t *config = json_object_get (c->config, "Config");
  struct sbuf b;
  sbuf_init (&b);
  size_t i;
  json_t *v;
  bool first = true;
  const char *keys[] = { "Entrypoint", "Cmd" };
  for (size_t k = 0; k < 2; k++)
    json_array_foreach (json_object_get (config, keys[k]), i, v)
    {
      if (!first)
        sbuf_addc (&b, ' ');
      sbuf_adds (&b, json_string_value (v) ? json_string_value (v) : "");
      first = false;
    }
  char *s = sbuf_detach (&b);
  return s ? s : xstrdup ("");
}

/* Go's strconv.Quote for the COMMAND column. */
static char *go_quote (const char *s)
{
  struct sbuf b;
  sbuf_init (&b);
  sbuf_addc (&b, '"');
  for (const unsigned char *p = (const unsigned char *)s; *p; p++)
    {
      if (*p == '"' || *p == '\\')
        sbuf_addf (&b, "\\%c", *p);
      else if (*p == '\n')
        sbuf_adds (&b, "\\n");
      else if (*p == '\t')
        sbuf_adds (&b, "\\t");
      else if (*p < 0x20 || *p == 0x7f)
        sbuf_addf (&b, "\\x%02x", *p);
      else
        sbuf_addc (&b, (char)*p);
    }
  sbuf_addc (&b, '"');
  return sbuf_detach (&b);
}

static char *created_at (int64_t ns)
{
  time_t t = (time_t)(ns / 1000000000LL);
  struct tm tm;
  localtime_r (&t, &tm);
  char buf[80];
  strftime (buf, sizeof buf, "%Y-%m-%d %H:%M:%S %z %Z", &tm);
  return xstrdup (buf);
}

static json_t *labels_of (const struct container_rec *c)
{
  json_t *l = json_object_get (json_object_get (c->config, "Config"), "Labels");
  return json_is_object (l) ? l : NULL;
}

/* Published ports of running containers, by container id (one query for the whole listing). */
static json_t *ports_by_container (struct engine *e)
{
  json_t *out = json_object ();
  struct endpoint_row **eps = NULL;
  size_t n = 0;
  berr_t err = BERR_INIT;
  if (store_endpoint_list (e->store, NULL, NULL, &eps, &n, &err) < 0)
    {
      berr_release (&err);
      return out;
    }
  for (size_t i = 0; i < n; i++)
    if (json_object_size (eps[i]->ports) > 0)
      {
        json_t *have = json_object_get (out, eps[i]->container_id);
        if (have)
          json_object_update (have, eps[i]->ports);
        else
          json_object_set (out, eps[i]->container_id, eps[i]->ports);
      }
  endpoint_rows_free (eps, n);
  return out;
}

static json_t *ps_row (struct engine *e, const struct container_rec *c, bool no_trunc, bool size,
                       const json_t *ports_of)
{
  cleanup_free char *cmd = command_of (c);
  cleanup_free char *cut = no_trunc ? xstrdup (cmd) : fmt_ellipsis (cmd, 20);
  cleanup_free char *quoted = go_quote (cut);
  cleanup_free char *since = fmt_since (c->created_ns);
  cleanup_free char *at = created_at (c->created_ns);
  cleanup_free char *status = container_status_text (c);
  const char *image = json_get_str (json_object_get (c->config, "Config"), "Image");
  cleanup_free char *short_img = NULL;
  if (image == NULL)
    image = c->image_id;
  if (!no_trunc && str_has_prefix (image, "sha256:"))
    image = short_img = fmt_short_id (image);
  struct sbuf lb;
  sbuf_init (&lb);
  const char *k;
  json_t *v;
  json_t *labels = labels_of (c);
  json_object_foreach (labels, k, v)
  {
    if (lb.len)
      sbuf_addc (&lb, ',');
    sbuf_addf (&lb, "%s=%s", k, json_string_value (v) ? json_string_value (v) : "");
  }
  cleanup_free char *labels_s = sbuf_detach (&lb);
  struct sbuf mb;
  sbuf_init (&mb);
  size_t i;
  json_t *m;
  json_array_foreach (json_object_get (c->config, "Mounts"), i, m)
  {
    const char *name = json_get_str (m, "Name");
    if (mb.len)
      sbuf_addc (&mb, ',');
    sbuf_adds (&mb, name && name[0] ? name : json_get_str (m, "Source"));
  }
  cleanup_free char *mounts_s = sbuf_detach (&mb);
  const char *netmode = json_get_str (json_object_get (c->config, "HostConfig"), "NetworkMode");
  struct sbuf nb;
  sbuf_init (&nb);
  json_object_foreach (json_object_get (c->config, "Networks"), k, v)
  {
    if (nb.len)
      sbuf_addc (&nb, ',');
    sbuf_adds (&nb, k);
  }
  cleanup_free char *nets_s = sbuf_detach (&nb);
  if (nets_s && nets_s[0])
    netmode = nets_s;
  /* Exposed ports that are not published show too ("80/tcp"), as Docker's. */
  cleanup_json json_t *ports = json_object ();
  json_t *pub = container_is_running (c) ? json_object_get (ports_of, c->id) : NULL;
  if (pub)
    json_object_update (ports, pub);
  if (container_is_running (c))
    json_object_foreach (json_object_get (json_object_get (c->config, "Config"), "ExposedPorts"), k,
                         v)
    {
      cleanup_free char *key = strchr (k, '/') ? xstrdup (k) : xasprintf ("%s/tcp", k);
      if (!json_object_get (ports, key))
        json_object_set_new (ports, key, json_null ());
    }
  cleanup_free char *ports_s = net_ports_summary (ports);
  cleanup_free char *id = no_trunc ? xstrdup (c->id) : xstrndup (c->id, 12);
  json_t *row = json_pack (
      "{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:o}", "ID", id, "Image",
      image, "Command", quoted, "CreatedAt", at, "RunningFor", since, "Ports", ports_s, "State",
      container_status (c), "Status", status, "Names", c->name, "Labels", labels_s ? labels_s : "",
      "Mounts", mounts_s ? mounts_s : "", "Networks", netmode ? netmode : "none", "LocalVolumes",
      "0", "LabelMap", labels ? json_incref (labels) : json_object ());
  if (size)
    {
      cleanup_free char *dir = container_dir (e, c->id);
      cleanup_free char *upper = xasprintf ("%s/upper", dir);
      int64_t rw = fs_tree_size (upper);
      struct image_rec *img = NULL;
      berr_t err = BERR_INIT;
      int64_t virt = rw < 0 ? 0 : rw;
      if (store_image_get (e->store, c->image_id, &img, &err) == 0)
        {
          virt += img->size;
          image_rec_free (img);
        }
      berr_release (&err);
      cleanup_free char *a = fmt_size (rw < 0 ? 0 : rw);
      cleanup_free char *b = fmt_size (virt);
      json_object_set_new (row, "Size", json_sprintf ("%s (virtual %s)", a, b));
    }
  return row;
}

struct ps_filters
{
  char **status, **name, **label, **ancestor, **id, **exited, **before, **since, **volume, **health;
};

static void ps_filters_release (struct ps_filters *f)
{
  char ***all[] = { &f->status, &f->name,   &f->label, &f->ancestor, &f->id,
                    &f->exited, &f->before, &f->since, &f->volume,   &f->health };
  for (size_t i = 0; i < ARRAY_SIZE (all); i++)
    strv_free (*all[i]);
}

static int parse_ps_filters (char **in, struct ps_filters *f)
{
  static const char *const statuses[]
      = { "created", "restarting", "running", "removing", "paused", "exited", "dead" };
  for (size_t i = 0; in && in[i]; i++)
    {
      const char *eq = strchr (in[i], '=');
      if (eq == NULL)
        return cli_errorf ("bad format of filter (expected name=value)");
      cleanup_free char *key = xstrndup (in[i], (size_t)(eq - in[i]));
      const char *val = eq + 1;
      char ***dst = NULL;
      if (strcmp (key, "status") == 0)
        {
          bool ok = false;
          for (size_t k = 0; k < ARRAY_SIZE (statuses); k++)
            ok |= strcmp (val, statuses[k]) == 0;
          if (!ok)
            return cli_errorf ("invalid filter 'status=%s'", val);
          dst = &f->status;
        }
      else if (strcmp (key, "name") == 0)
        dst = &f->name;
      else if (strcmp (key, "label") == 0)
        dst = &f->label;
      else if (strcmp (key, "ancestor") == 0)
        dst = &f->ancestor;
      else if (strcmp (key, "id") == 0)
        dst = &f->id;
      else if (strcmp (key, "exited") == 0)
        {
          char *end;
          errno = 0;
          strtol (val, &end, 10);
          if (*val == '\0' || *end || errno)
            return cli_errorf ("invalid filter 'exited=%s'", val);
          dst = &f->exited;
        }
      else if (strcmp (key, "before") == 0)
        dst = &f->before;
      else if (strcmp (key, "since") == 0)
        dst = &f->since;
      else if (strcmp (key, "volume") == 0)
        dst = &f->volume;
      else if (strcmp (key, "health") == 0)
        dst = &f->health;
      else if (strcmp (key, "network") == 0 || strcmp (key, "publish") == 0
               || strcmp (key, "expose") == 0 || strcmp (key, "isolation") == 0
               || strcmp (key, "is-task") == 0)
        continue; /* accepted; nothing here has networks/ports to match yet */
      else
        return cli_errorf ("invalid filter '%s'", key);
      strv_push (dst, val);
    }
  return 0;
}

static bool label_match (json_t *labels, char **want)
{
  for (size_t i = 0; want && want[i]; i++)
    {
      const char *eq = strchr (want[i], '=');
      cleanup_free char *k = eq ? xstrndup (want[i], (size_t)(eq - want[i])) : xstrdup (want[i]);
      json_t *v = json_object_get (labels, k);
      if (v == NULL)
        return false;
      if (eq && strcmp (json_string_value (v) ? json_string_value (v) : "", eq + 1) != 0)
        return false;
    }
  return true;
}

/* Docker's name filter is a regular expression match; a substring covers the common use. */
static bool any_substr (const char *s, char **v)
{
  if (v == NULL)
    return true;
  for (size_t i = 0; v[i]; i++)
    if (strstr (s, v[i][0] == '/' ? v[i] + 1 : v[i]))
      return true;
  return false;
}

static bool ps_match (struct engine *e, const struct container_rec *c, const struct ps_filters *f,
                      int64_t before_ns, int64_t since_ns)
{
  if (f->status && !strv_contains (f->status, container_status (c)))
    return false;
  if (!any_substr (c->name, f->name))
    return false;
  if (!label_match (labels_of (c), f->label))
    return false;
  if (f->id)
    {
      bool ok = false;
      for (size_t i = 0; f->id[i]; i++)
        ok |= str_has_prefix (c->id, f->id[i]);
      if (!ok)
        return false;
    }
  if (f->exited)
    {
      if (strcmp (container_status (c), "exited") != 0)
        return false;
      long code = (long)json_integer_value (json_object_get (c->state, "ExitCode"));
      bool ok = false;
      for (size_t i = 0; f->exited[i]; i++)
        ok |= strtol (f->exited[i], NULL, 10) == code;
      if (!ok)
        return false;
    }
  if (f->ancestor)
    {
      bool ok = false;
      for (size_t i = 0; f->ancestor[i] && !ok; i++)
        {
          struct image_rec *img = NULL;
          berr_t err = BERR_INIT;
          if (store_image_lookup (e->store, f->ancestor[i], &img, &err) == 0)
            {
              ok = strcmp (img->id, c->image_id) == 0;
              image_rec_free (img);
            }
          berr_release (&err);
        }
      if (!ok)
        return false;
    }
  if (f->volume)
    {
      bool ok = false;
      size_t i;
      json_t *m;
      json_array_foreach (json_object_get (c->config, "Mounts"), i, m)
      {
        const char *name = json_get_str (m, "Name");
        const char *dst = json_get_str (m, "Destination");
        ok |= (name && strv_contains (f->volume, name)) || (dst && strv_contains (f->volume, dst));
      }
      if (!ok)
        return false;
    }
  if (f->health)
    {
      const char *h = json_get_str (json_object_get (c->state, "Health"), "Status");
      if (!strv_contains (f->health, h ? h : "none"))
        return false;
    }
  if (before_ns && c->created_ns >= before_ns)
    return false;
  if (since_ns && c->created_ns <= since_ns)
    return false;
  return true;
}

static int64_t ref_created (struct engine *e, char **refs, berr_t *err)
{
  if (refs == NULL)
    return 0;
  struct container_rec *c = NULL;
  if (store_container_lookup (e->store, refs[0], &c, err) < 0)
    return -1;
  int64_t t = c->created_ns;
  container_rec_free (c);
  return t;
}

int cmd_ps (int argc, char **argv, struct berth_ctx *ctx)
{
  bool all = false, quiet = false, latest = false, size = false, no_trunc = false;
  const char *format = NULL, *last_s = NULL;
  cleanup_strv char **filters = NULL;
  const struct opt opts[] = {
    { "all", 'a', OPT_BOOL, &all, NULL, "Show all containers (default shows just running)" },
    { "filter", 'f', OPT_STRINGS, &filters, "filter",
      "Filter output based on conditions provided" },
    { "format", 0, OPT_STRING, &format, "string",
      "Format output using a custom template:\n'table':            Print output in table format "
      "with column headers (default)\n'table TEMPLATE':   Print output in table format using the "
      "given Go template\n'json':             Print in JSON format\n'TEMPLATE':         Print "
      "output using the given Go template" },
    { "last", 'n', OPT_STRING, &last_s, "int",
      "Show n last created containers (includes all states) (default -1)" },
    { "latest", 'l', OPT_BOOL, &latest, NULL,
      "Show the latest created container (includes all states)" },
    { "no-trunc", 0, OPT_BOOL, &no_trunc, NULL, "Don't truncate output" },
    { "quiet", 'q', OPT_BOOL, &quiet, NULL, "Only display container IDs" },
    { "size", 's', OPT_BOOL, &size, NULL, "Display total file sizes" },
    { NULL, 0, 0, NULL, NULL, NULL },
  };
  const struct cmd_spec spec = { "ps [OPTIONS]",
                                 "List containers",
                                 "berth container ls, berth container list, berth container "
                                 "ps, berth ps",
                                 opts,
                                 0,
                                 0,
                                 NULL };
  cleanup_free char **args = NULL;
  int r = opts_parse (&spec, ctx->cmdpath, argc, argv, &args);
  if (r)
    return r < 0 ? 0 : r;
  long last = -1;
  if (last_s)
    {
      char *end;
      last = strtol (last_s, &end, 10);
      if (*last_s == '\0' || *end)
        {
          fprintf (stderr,
                   "invalid argument \"%s\" for \"-n, --last\" flag: strconv.ParseInt: parsing "
                   "\"%s\": invalid syntax\nSee '%s --help'.\n",
                   last_s, last_s, ctx->cmdpath);
          return EXIT_ENGINE;
        }
    }
  if (latest)
    last = 1;
  struct ps_filters f = { 0 };
  if ((r = parse_ps_filters (filters, &f)) != 0)
    {
      ps_filters_release (&f);
      return r;
    }
  struct engine *e;
  if (ctx_engine (ctx, &e) < 0)
    {
      ps_filters_release (&f);
      return 1;
    }
  berr_t err = BERR_INIT;
  int64_t before = ref_created (e, f.before, &err);
  int64_t since = before < 0 ? 0 : ref_created (e, f.since, &err);
  if (before < 0 || since < 0)
    {
      ps_filters_release (&f);
      return cli_error (&err);
    }
  struct container_rec **cs = NULL;
  size_t n = 0;
  if (container_list (e, &cs, &n, &err) < 0)
    {
      ps_filters_release (&f);
      return cli_error (&err);
    }
  if (last > 0 || f.status || f.exited)
    all = true;
  cleanup_json json_t *rows = json_array ();
  cleanup_json json_t *ports_of = ports_by_container (e);
  long shown = 0;
  for (size_t i = 0; i < n; i++)
    {
      if (last > 0 && shown >= last)
        break;
      if (!all && !container_is_running (cs[i]))
        continue;
      if (!ps_match (e, cs[i], &f, before, since))
        continue;
      json_array_append_new (rows, ps_row (e, cs[i], no_trunc, size && !quiet, ports_of));
      shown++;
    }
  container_recs_free (cs, n);
  ps_filters_release (&f);
  cleanup_json json_t *headers = json_pack (
      "{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "ID",
      "CONTAINER ID", "Image", "IMAGE", "Command", "COMMAND", "CreatedAt", "CREATED AT",
      "RunningFor", "CREATED", "Ports", "PORTS", "State", "STATE", "Status", "STATUS", "Size",
      "SIZE", "Names", "NAMES", "Labels", "LABELS", "Mounts", "MOUNTS", "Networks", "NETWORKS",
      "LocalVolumes", "LOCAL VOLUMES", "Label", "LABEL");
  if (quiet && (format == NULL || strcmp (format, "table") == 0))
    return print_rows (rows, "{{.ID}}", NULL, headers);
  const char *dflt = size ? "table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t{{.Status}}"
                            "\t{{.Ports}}\t{{.Names}}\t{{.Size}}"
                          : "table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t{{.Status}}"
                            "\t{{.Ports}}\t{{.Names}}";
  if (format && strcmp (format, "table") == 0)
    format = NULL;
  return print_rows (rows, format, dflt, headers);
}

/* ---------- start / stop / restart / kill / rm / pause ---------- */

typedef int (*each_fn) (struct engine *e, struct container_rec *c, void *arg, berr_t *err);

/* Run fn on each named container; print the name as given on success. */
static int for_each (struct berth_ctx *ctx, char **names, each_fn fn, void *arg, bool print)
{
  struct engine *e;
  if (ctx_engine (ctx, &e) < 0)
    return 1;
  int rc = 0;
  for (size_t i = 0; names[i]; i++)
    {
      berr_t err = BERR_INIT;
      struct container_rec *c = NULL;
      if (container_get (e, names[i], &c, &err) < 0 || fn (e, c, arg, &err) < 0)
        rc = each_error (&err);
      else if (print)
        printf ("%s\n", names[i]);
      container_rec_free (c);
      fflush (stdout);
    }
  return rc;
}

struct stop_arg
{
  int sig, timeout;
  bool restart;
};

static int do_stop (struct engine *e, struct container_rec *c, void *arg, berr_t *err)
{
  const struct stop_arg *a = arg;
  if (container_stop (e, c, a->sig, a->timeout, err) < 0)
    return -1;
  if (!a->restart)
    return 0;
  struct container_rec *fresh = NULL;
  if (container_get (e, c->id, &fresh, err) < 0)
    return -1;
  struct start_opts so = { .foreground = false };
  struct monitor_result res;
  int r = container_start (e, fresh, &so, &res, err);
  container_rec_free (fresh);
  return r < 0 ? -1 : 0;
}

static int parse_timeout (const char *s, const char *cmdpath, int *out)
{
  *out = -1;
  if (s == NULL)
    return 0;
  char *end;
  long v = strtol (s, &end, 10);
  if (*s == '\0' || *end)
    {
      fprintf (stderr,
               "invalid argument \"%s\" for \"-t, --time\" flag: strconv.ParseInt: parsing "
               "\"%s\": invalid syntax\nSee '%s --help'.\n",
               s, s, cmdpath);
      return EXIT_ENGINE;
    }
  *out = (int)v;
  return 0;
}

/* stop and restart: the same flags, restart starts again afterwards. */
static int stop_cmd (int argc, char **argv, struct berth_ctx *ctx, bool restart)
{
  const char *t = NULL, *sig = NULL;
  const struct opt opts[] = {
    { "signal", 's', OPT_STRING, &sig, "string", "Signal to send to the container" },
    { "time", 't', OPT_STRING, &t, "int", "Seconds to wait before killing the container" },
    { NULL, 0, 0, NULL, NULL, NULL },
  };
  const struct cmd_spec spec
      = { restart ? "restart [OPTIONS] CONTAINER [CONTAINER...]"
                  : "stop [OPTIONS] CONTAINER [CONTAINER...]",
          restart ? "Restart one or more containers" : "Stop one or more running containers",
          restart ? "berth container restart, berth restart" : "berth container stop, berth stop",
          opts,
          1,
          -1,
          NULL };
  cleanup_free char **args = NULL;
  int r = opts_parse (&spec, ctx->cmdpath, argc, argv, &args);
  if (r)
    return r < 0 ? 0 : r;
  struct stop_arg a = { .restart = restart };
  if ((r = parse_timeout (t, ctx->cmdpath, &a.timeout)) != 0)
    return r;
  if (sig && (a.sig = signal_parse (sig)) <= 0)
    return cli_errorf ("invalid signal: %s", sig);
  return for_each (ctx, args, do_stop, &a, true);
}

int cmd_stop (int argc, char **argv, struct berth_ctx *ctx)
{
  return stop_cmd (argc, argv, ctx, false);
}

int cmd_restart (int argc, char **argv, struct berth_ctx *ctx)
{
  return stop_cmd (argc, argv, ctx, true);
}

static int do_kill (struct engine *e, struct container_rec *c, void *arg, berr_t *err)
{
  return container_kill (e, c, *(int *)arg, err);
}

int cmd_kill (int argc, char **argv, struct berth_ctx *ctx)
{
  const char *sig = "KILL";
  const struct opt opts[] = {
    { "signal", 's', OPT_STRING, &sig, "string", "Signal to send to the container" },
    { NULL, 0, 0, NULL, NULL, NULL },
  };
  const struct cmd_spec spec = { "kill [OPTIONS] CONTAINER [CONTAINER...]",
                                 "Kill one or more running containers",
                                 "berth container kill, berth kill",
                                 opts,
                                 1,
                                 -1,
                                 NULL };
  cleanup_free char **args = NULL;
  int r = opts_parse (&spec, ctx->cmdpath, argc, argv, &args);
  if (r)
    return r < 0 ? 0 : r;
  int s = signal_parse (sig);
  if (s <= 0)
    return cli_errorf ("invalid signal: %s", sig);
  return for_each (ctx, args, do_kill, &s, true);
}

struct rm_arg
{
  bool force, volumes;
};

static int do_rm (struct engine *e, struct container_rec *c, void *arg, berr_t *err)
{
  struct rm_arg *a = arg;
  return container_remove (e, c, a->force, a->volumes, err);
}

int cmd_rm (int argc, char **argv, struct berth_ctx *ctx)
{
  struct rm_arg a = { false, false };
  bool link = false;
  const struct opt opts[] = {
    { "force", 'f', OPT_BOOL, &a.force, NULL,
      "Force the removal of a running container (uses SIGKILL)" },
    { "link", 'l', OPT_BOOL, &link, NULL, "Remove the specified link" },
    { "volumes", 'v', OPT_BOOL, &a.volumes, NULL,
      "Remove anonymous volumes associated with the container" },
    { NULL, 0, 0, NULL, NULL, NULL },
  };
  const struct cmd_spec spec = { "rm [OPTIONS] CONTAINER [CONTAINER...]",
                                 "Remove one or more containers",
                                 "berth container rm, berth container remove, berth rm",
                                 opts,
                                 1,
                                 -1,
                                 NULL };
  cleanup_free char **args = NULL;
  int r = opts_parse (&spec, ctx->cmdpath, argc, argv, &args);
  if (r)
    return r < 0 ? 0 : r;
  (void)link;
  return for_each (ctx, args, do_rm, &a, true);
}

static int do_pause (struct engine *e, struct container_rec *c, void *arg, berr_t *err)
{
  return container_pause (e, c, *(bool *)arg, err);
}

static int pause_cmd (int argc, char **argv, struct berth_ctx *ctx, bool pause)
{
  const struct opt opts[] = { { NULL, 0, 0, NULL, NULL, NULL } };
  const struct cmd_spec spec
      = { pause ? "pause CONTAINER [CONTAINER...]" : "unpause CONTAINER [CONTAINER...]",
          pause ? "Pause all processes within one or more containers"
                : "Unpause all processes within one or more containers",
          pause ? "berth container pause, berth pause" : "berth container unpause, berth unpause",
          opts,
          1,
          -1,
          NULL };
  cleanup_free char **args = NULL;
  int r = opts_parse (&spec, ctx->cmdpath, argc, argv, &args);
  if (r)
    return r < 0 ? 0 : r;
  return for_each (ctx, args, do_pause, &pause, true);
}

int cmd_pause (int argc, char **argv, struct berth_ctx *ctx)
{
  return pause_cmd (argc, argv, ctx, true);
}

int cmd_unpause (int argc, char **argv, struct berth_ctx *ctx)
{
  return pause_cmd (argc, argv, ctx, false);
}

int cmd_rename (int argc, char **argv, struct berth_ctx *ctx)
{
  const struct opt opts[] = { { NULL, 0, 0, NULL, NULL, NULL } };
  const struct cmd_spec spec = { "rename CONTAINER NEW_NAME",
                                 "Rename a container",
                                 "berth container rename, berth rename",
                                 opts,
                                 2,
                                 2,
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
    return cli_error (&err);
  const char *nn = args[1][0] == '/' ? args[1] + 1 : args[1];
  int rc = 0;
  if (strcmp (nn, c->name) == 0)
    rc = cli_errorf ("Renaming a container with the same name as its current name");
  else if (store_container_rename (e->store, c->id, nn, &err) < 0)
    rc = cli_error (&err);
  container_rec_free (c);
  return rc;
}

/* ---------- wait ---------- */

int cmd_wait (int argc, char **argv, struct berth_ctx *ctx)
{
  const char *condition = NULL;
  const struct opt opts[] = {
    { "condition", 0, OPT_STRING, &condition, "string",
      "Wait until the container reaches the given condition (not-running, next-exit, removed)" },
    { NULL, 0, 0, NULL, NULL, NULL },
  };
  const struct cmd_spec spec = { "wait CONTAINER [CONTAINER...]",
                                 "Block until one or more containers stop, then print their "
                                 "exit codes",
                                 "berth container wait, berth wait",
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
      struct container_rec *c = NULL;
      int code = 0;
      if (container_get (e, args[i], &c, &err) < 0
          || container_wait (e, c->id, condition, &code, &err) < 0)
        rc = each_error (&err);
      else
        printf ("%d\n", code);
      fflush (stdout);
      container_rec_free (c);
    }
  return rc;
}

/* ---------- logs ---------- */

struct follow_arg
{
  struct engine *e;
  const char *id;
};

static bool still_running (void *arg)
{
  struct follow_arg *a = arg;
  struct container_rec *c = NULL;
  berr_t err = BERR_INIT;
  if (container_get (a->e, a->id, &c, &err) < 0)
    {
      berr_release (&err);
      return false;
    }
  bool r = container_is_running (c);
  container_rec_free (c);
  return r;
}

static int parse_log_time (const char *s, int64_t *ns)
{
  if (s == NULL)
    return 0;
  berr_t err = BERR_INIT;
  if (units_parse_rfc3339 (s, ns, &err) == 0)
    return 0;
  berr_release (&err);
  /* A Unix timestamp, or a duration relative to now ("10m", "1h30m"). */
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

int cmd_logs (int argc, char **argv, struct berth_ctx *ctx)
{
  bool follow = false, timestamps = false, details = false;
  const char *tail = "all", *since = NULL, *until = NULL;
  const struct opt opts[] = {
    { "details", 0, OPT_BOOL, &details, NULL, "Show extra details provided to logs" },
    { "follow", 'f', OPT_BOOL, &follow, NULL, "Follow log output" },
    { "since", 0, OPT_STRING, &since, "string",
      "Show logs since timestamp (e.g. \"2013-01-02T13:23:37Z\") or relative (e.g. \"42m\" for "
      "42 minutes)" },
    { "tail", 'n', OPT_STRING, &tail, "string",
      "Number of lines to show from the end of the logs (default \"all\")" },
    { "timestamps", 't', OPT_BOOL, &timestamps, NULL, "Show timestamps" },
    { "until", 0, OPT_STRING, &until, "string",
      "Show logs before a timestamp (e.g. \"2013-01-02T13:23:37Z\") or relative (e.g. \"42m\" "
      "for 42 minutes)" },
    { NULL, 0, 0, NULL, NULL, NULL },
  };
  const struct cmd_spec spec = { "logs [OPTIONS] CONTAINER",
                                 "Fetch the logs of a container",
                                 "berth container logs, berth logs",
                                 opts,
                                 1,
                                 1,
                                 NULL };
  cleanup_free char **args = NULL;
  int r = opts_parse (&spec, ctx->cmdpath, argc, argv, &args);
  if (r)
    return r < 0 ? 0 : r;
  struct log_read_opts lo = { .tail = -1, .timestamps = timestamps, .follow = follow };
  if (strcmp (tail, "all") != 0)
    {
      char *end;
      long v = strtol (tail, &end, 10);
      if (*tail && *end == '\0')
        lo.tail = v < 0 ? -1 : v;
    }
  if (parse_log_time (since, &lo.since_ns) < 0)
    return cli_errorf ("invalid value for \"since\": failed to parse value as time or "
                       "duration: \"%s\"",
                       since);
  if (parse_log_time (until, &lo.until_ns) < 0)
    return cli_errorf ("invalid value for \"until\": failed to parse value as time or "
                       "duration: \"%s\"",
                       until);
  struct engine *e;
  if (ctx_engine (ctx, &e) < 0)
    return 1;
  berr_t err = BERR_INIT;
  struct container_rec *c = NULL;
  if (container_get (e, args[0], &c, &err) < 0)
    return cli_error (&err);
  json_t *lc = json_object_get (json_object_get (c->config, "HostConfig"), "LogConfig");
  const char *type = json_get_str (lc, "Type");
  if (type && strcmp (type, "none") == 0)
    {
      container_rec_free (c);
      return cli_errorf ("configured logging driver does not support reading");
    }
  cleanup_free char *dir = container_dir (e, c->id);
  cleanup_free char *path = xasprintf ("%s/%s-json.log", dir, c->id);
  struct follow_arg fa = { e, c->id };
  lo.still_running = still_running;
  lo.arg = &fa;
  r = logfile_read (path, &lo, stdout, stderr, &err);
  container_rec_free (c);
  if (r < 0)
    return cli_error (&err);
  return 0;
}

/* ---------- attach ---------- */

int cmd_attach (int argc, char **argv, struct berth_ctx *ctx)
{
  bool no_stdin = false, sig_proxy = true;
  const char *detach_keys = NULL;
  const struct opt opts[] = {
    { "detach-keys", 0, OPT_STRING, &detach_keys, "string",
      "Override the key sequence for detaching a container" },
    { "no-stdin", 0, OPT_BOOL, &no_stdin, NULL, "Do not attach STDIN" },
    { "sig-proxy", 0, OPT_BOOL, &sig_proxy, NULL,
      "Proxy all received signals to the process (default true)" },
    { NULL, 0, 0, NULL, NULL, NULL },
  };
  const struct cmd_spec spec = { "attach [OPTIONS] CONTAINER",
                                 "Attach local standard input, output, and error streams to a "
                                 "running container",
                                 "berth container attach, berth attach",
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
    return cli_error (&err);
  return attach_container (e, c, no_stdin, sig_proxy, detach_keys);
}

int attach_container (struct engine *e, struct container_rec *c, bool no_stdin, bool sig_proxy,
                      const char *detach_keys)
{
  berr_t err = BERR_INIT;
  if (!container_is_running (c))
    {
      container_rec_free (c);
      return cli_errorf ("You cannot attach to a stopped container, start it first");
    }
  if (json_is_true (json_object_get (c->state, "Paused")))
    {
      container_rec_free (c);
      return cli_errorf ("You cannot attach to a paused container, unpause it first");
    }
  json_t *config = json_object_get (c->config, "Config");
  bool tty = json_is_true (json_object_get (config, "Tty"));
  bool open_stdin = json_is_true (json_object_get (config, "OpenStdin"));
  if (tty && !no_stdin && open_stdin && !isatty (0))
    {
      container_rec_free (c);
      return cli_errorf ("the input device is not a TTY");
    }
  cleanup_free char *path = xasprintf ("%s/%s/attach", e->runroot, c->id);
  struct attach_opts ao = {
    .socket_path = path,
    .local_in = (!no_stdin && open_stdin) ? 0 : -1,
    .local_out = 1,
    .local_err = 2,
    .local_tty = isatty (0),
    .tty = tty,
    .detach_keys = detach_keys,
    .sig_proxy = sig_proxy && !tty,
    .container_pid = (pid_t)json_integer_value (json_object_get (c->state, "Pid")),
  };
  struct monitor_result res = { 0 };
  int r = monitor_attach (&ao, &res, &err);
  if (r < 0)
    {
      container_rec_free (c);
      return cli_error (&err);
    }
  if (res.detached)
    {
      container_rec_free (c);
      return 0;
    }
  /* The monitor reports the process's status; the store has the final word. */
  int code = res.exit_code;
  struct container_rec *fresh = NULL;
  int w;
  if (container_wait_timeout (e, c->id, 5000, &w, &err) == 0)
    code = w;
  berr_release (&err);
  container_rec_free (fresh);
  container_rec_free (c);
  return code;
}

/* ---------- prune ---------- */

int cmd_container_prune (int argc, char **argv, struct berth_ctx *ctx)
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
      = { "container prune [OPTIONS]", "Remove all stopped containers", NULL, opts, 0, 0, NULL };
  cleanup_free char **args = NULL;
  int r = opts_parse (&spec, ctx->cmdpath, argc, argv, &args);
  if (r)
    return r < 0 ? 0 : r;
  cleanup_strv char **labels = NULL;
  int64_t until = 0;
  for (size_t i = 0; filters && filters[i]; i++)
    {
      if (str_has_prefix (filters[i], "label="))
        strv_push (&labels, filters[i] + 6);
      else if (str_has_prefix (filters[i], "until="))
        {
          if (parse_log_time (filters[i] + 6, &until) < 0)
            return cli_errorf ("invalid filter 'until=%s'", filters[i] + 6);
        }
      else
        return cli_errorf ("invalid filter '%s'", filters[i]);
    }
  if (!force && !cli_confirm ("WARNING! This will remove all stopped containers."))
    return 0;
  return prune_containers (ctx, labels, until, true, NULL);
}

/* Remove stopped containers; prints Docker's report when report is true. */
int prune_containers (struct berth_ctx *ctx, char **labels, int64_t until, bool report,
                      int64_t *reclaimed_out)
{
  struct engine *e;
  if (ctx_engine (ctx, &e) < 0)
    return 1;
  berr_t err = BERR_INIT;
  struct container_rec **cs = NULL;
  size_t n = 0;
  if (container_list (e, &cs, &n, &err) < 0)
    return cli_error (&err);
  int64_t reclaimed = 0;
  bool header = false;
  int rc = 0;
  for (size_t i = 0; i < n; i++)
    {
      struct container_rec *c = cs[i];
      if (container_is_running (c))
        continue;
      if (!label_match (labels_of (c), labels))
        continue;
      if (until && c->created_ns >= until)
        continue;
      cleanup_free char *dir = container_dir (e, c->id);
      cleanup_free char *upper = xasprintf ("%s/upper", dir);
      int64_t sz = fs_tree_size (upper);
      if (container_remove (e, c, false, false, &err) < 0)
        {
          rc = each_error (&err);
          continue;
        }
      reclaimed += sz > 0 ? sz : 0;
      if (report || reclaimed_out)
        {
          if (!header)
            printf ("Deleted Containers:\n");
          header = true;
          printf ("%s\n", c->id);
        }
    }
  container_recs_free (cs, n);
  if (report)
    {
      cleanup_free char *total = fmt_size4 (reclaimed);
      printf ("%sTotal reclaimed space: %s\n", header ? "\n" : "", total);
    }
  else if (header)
    printf ("\n");
  if (reclaimed_out)
    *reclaimed_out = reclaimed;
  return rc;
}

/* ---------- inspect ---------- */

int inspect_containers (struct berth_ctx *ctx, char **names, json_t *out, bool size,
                        char ***missing)
{
  struct engine *e;
  if (ctx_engine (ctx, &e) < 0)
    return -1;
  for (size_t i = 0; names[i]; i++)
    {
      berr_t err = BERR_INIT;
      struct container_rec *c = NULL;
      if (container_get (e, names[i], &c, &err) < 0)
        {
          berr_release (&err);
          strv_push (missing, names[i]);
          continue;
        }
      json_t *j = container_inspect_json (e, c);
      if (size)
        {
          cleanup_free char *dir = container_dir (e, c->id);
          cleanup_free char *upper = xasprintf ("%s/upper", dir);
          int64_t rw = fs_tree_size (upper);
          json_object_set_new (j, "SizeRw", json_integer (rw < 0 ? 0 : rw));
          struct image_rec *img = NULL;
          if (store_image_get (e->store, c->image_id, &img, &err) == 0)
            {
              json_object_set_new (j, "SizeRootFs", json_integer ((rw < 0 ? 0 : rw) + img->size));
              image_rec_free (img);
            }
          berr_release (&err);
        }
      json_array_append_new (out, j);
      container_rec_free (c);
    }
  return 0;
}

int cmd_container_inspect (int argc, char **argv, struct berth_ctx *ctx)
{
  const char *format = NULL;
  bool size = false;
  const struct opt opts[] = {
    { "format", 'f', OPT_STRING, &format, "string",
      "Format output using a custom template:\n'json': Print in JSON format\n'TEMPLATE': Print "
      "output using the given Go template" },
    { "size", 's', OPT_BOOL, &size, NULL, "Display total file sizes" },
    { NULL, 0, 0, NULL, NULL, NULL },
  };
  const struct cmd_spec spec = { "container inspect [OPTIONS] CONTAINER [CONTAINER...]",
                                 "Display detailed information on one or more containers",
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
  cleanup_json json_t *out = json_array ();
  cleanup_strv char **missing = NULL;
  if (inspect_containers (ctx, args, out, size, &missing) < 0)
    return 1;
  int rc = print_inspect (out, format);
  for (size_t i = 0; missing && missing[i]; i++)
    {
      fprintf (stderr, "Error: No such container: %s\n", missing[i]);
      rc = 1;
    }
  return rc;
}

/* ---------- hidden: the monitor's exit command ---------- */

int cmd_container_cleanup (int argc, char **argv, struct berth_ctx *ctx)
{
  if (argc != 2)
    return cli_errorf ("usage: container-cleanup ID");
  struct engine *e;
  if (ctx_engine (ctx, &e) < 0)
    return 1;
  berr_t err = BERR_INIT;
  if (container_cleanup (e, argv[1], NULL, &err) < 0)
    {
      if (err.kind == BERR_NOT_FOUND)
        {
          berr_release (&err);
          return 0;
        }
      return cli_error (&err);
    }
  return 0;
}
