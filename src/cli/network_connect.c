/* network_connect.c — `network connect`, `network disconnect` and `port`. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "container/container.h"
#include "net/attach.h"
#include "net/network.h"
#include "util/json.h"

int cmd_network_connect (int argc, char **argv, struct berth_ctx *ctx)
{
  char **aliases = NULL, **links = NULL, **driver_opts = NULL;
  const char *ip = NULL, *ip6 = NULL;
  const struct opt opts[] = {
    { "alias", 0, OPT_STRINGS, &aliases, "strings", "Add network-scoped alias for the container" },
    { "driver-opt", 0, OPT_STRINGS, &driver_opts, "strings", "driver options for the network" },
    { "ip", 0, OPT_STRING, &ip, "string", "IPv4 address (e.g., \"172.30.100.104\")" },
    { "ip6", 0, OPT_STRING, &ip6, "string", "IPv6 address (e.g., \"2001:db8::33\")" },
    { "link", 0, OPT_STRINGS, &links, "list", "Add link to another container" },
    { NULL, 0, 0, NULL, NULL, NULL },
  };
  const struct cmd_spec spec = { "network connect [OPTIONS] NETWORK CONTAINER",
                                 "Connect a container to a network",
                                 NULL,
                                 opts,
                                 2,
                                 2,
                                 NULL };
  cleanup_free char **args = NULL;
  int r = opts_parse (&spec, ctx->cmdpath, argc, argv, &args);
  cleanup_strv char **a_ = aliases, **l_ = links, **d_ = driver_opts;
  if (r)
    return r < 0 ? 0 : r;
  if (ip6)
    return cli_errorf ("IPv6 is not supported by berth's networks");
  struct engine *e;
  if (ctx_engine (ctx, &e) < 0)
    return 1;
  json_t *ep = json_object ();
  if (aliases)
    json_object_set_new (ep, "Aliases", json_from_strv (aliases));
  if (links)
    json_object_set_new (ep, "Links", json_from_strv (links));
  if (ip)
    json_object_set_new (ep, "IPAMConfig", json_pack ("{s:s}", "IPv4Address", ip));
  if (driver_opts)
    {
      json_t *d = json_object ();
      for (size_t i = 0; driver_opts[i]; i++)
        {
          const char *eq = strchr (driver_opts[i], '=');
          if (eq)
            {
              cleanup_free char *k = xstrndup (driver_opts[i], (size_t)(eq - driver_opts[i]));
              json_object_set_new (d, k, json_string (eq + 1));
            }
        }
      json_object_set_new (ep, "DriverOpts", d);
    }
  berr_t err = BERR_INIT;
  r = container_network_connect (e, args[1], args[0], ep, &err);
  json_decref (ep);
  if (r < 0)
    return cli_error (&err);
  return 0;
}

int cmd_network_disconnect (int argc, char **argv, struct berth_ctx *ctx)
{
  bool force = false;
  const struct opt opts[] = {
    { "force", 'f', OPT_BOOL, &force, NULL, "Force the container to disconnect from a network" },
    { NULL, 0, 0, NULL, NULL, NULL },
  };
  const struct cmd_spec spec = { "network disconnect [OPTIONS] NETWORK CONTAINER",
                                 "Disconnect a container from a network",
                                 NULL,
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
  if (container_network_disconnect (e, args[1], args[0], force, &err) < 0)
    return cli_error (&err);
  return 0;
}

/* ---------- port ---------- */

static void print_bindings (const char *key, const json_t *list, bool with_key)
{
  size_t i;
  json_t *b;
  json_array_foreach (list, i, b)
  {
    const char *hip = json_get_str (b, "HostIp");
    const char *hport = json_get_str (b, "HostPort");
    hip = hip && hip[0] ? hip : "0.0.0.0";
    bool v6 = strchr (hip, ':') != NULL;
    if (with_key)
      printf ("%s -> ", key);
    printf (v6 ? "[%s]:%s\n" : "%s:%s\n", hip, hport ? hport : "");
  }
}

int cmd_port (int argc, char **argv, struct berth_ctx *ctx)
{
  const struct opt opts[] = { { NULL, 0, 0, NULL, NULL, NULL } };
  const struct cmd_spec spec = { "port CONTAINER [PRIVATE_PORT[/PROTO]]",
                                 "List port mappings or a specific mapping for the container",
                                 "berth container port, berth port",
                                 opts,
                                 1,
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
  cleanup_json json_t *ns = net_settings_json (e, c);
  json_t *ports = json_object_get (ns, "Ports");
  int rc = 0;
  if (args[1])
    {
      const char *slash = strchr (args[1], '/');
      cleanup_free char *key = slash ? xstrdup (args[1]) : xasprintf ("%s/tcp", args[1]);
      char *end = NULL;
      long pn = strtol (key, &end, 10);
      if (end == key || *end != '/' || pn < 1 || pn > 65535)
        rc = cli_errorf ("invalid port (%s): invalid syntax", args[1]);
      else
        {
          json_t *list = json_object_get (ports, key);
          if (json_array_size (list) > 0)
            print_bindings (key, list, false);
          else
            rc = cli_errorf ("No public port '%s' published for %s", key, args[0]);
        }
    }
  else
    {
      /* Docker sorts by port number, then protocol. */
      const char *k;
      json_t *v;
      cleanup_strv char **keys = NULL;
      json_object_foreach (ports, k, v)
      {
        if (json_array_size (v) > 0)
          strv_push (&keys, k);
      }
      size_t n = strv_len (keys);
      for (size_t i = 0; i + 1 < n; i++)
        for (size_t j = i + 1; j < n; j++)
          {
            int a = atoi (keys[i]), b = atoi (keys[j]);
            if (a > b || (a == b && strcmp (keys[i], keys[j]) > 0))
              {
                char *t = keys[i];
                keys[i] = keys[j];
                keys[j] = t;
              }
          }
      for (size_t i = 0; i < n; i++)
        print_bindings (keys[i], json_object_get (ports, keys[i]), true);
    }
  container_rec_free (c);
  return rc;
}

/* ---------- container-netns: the createRuntime hook for external runtimes ---------- */

int cmd_container_netns (int argc, char **argv, struct berth_ctx *ctx)
{
  if (argc != 2)
    return cli_errorf ("usage: berth container-netns ID (the OCI state on stdin)");
  struct engine *e;
  if (ctx_engine (ctx, &e) < 0)
    return 1;
  json_error_t jerr;
  cleanup_json json_t *state = json_loadf (stdin, 0, &jerr);
  json_t *pid = json_object_get (state, "pid");
  if (!json_is_integer (pid) || json_integer_value (pid) <= 0)
    return cli_errorf ("container-netns: no pid in the OCI state on stdin");
  berr_t err = BERR_INIT;
  if (net_setup_from_store (e, argv[1], (pid_t)json_integer_value (pid), &err) < 0)
    return cli_error (&err);
  return 0;
}
