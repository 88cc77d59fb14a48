/* system.c — version, info, system df. */
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "cli/cli.h"
#include "config.h"
#include "runtime/cgroup.h"
#include "util/json.h"
#include "util/units.h"

static const char *go_arch (const char *machine)
{
  if (strcmp (machine, "x86_64") == 0)
    return "amd64";
  if (strcmp (machine, "aarch64") == 0)
    return "arm64";
  return machine;
}

int cmd_version (int argc, char **argv, struct berth_ctx *ctx)
{
  const char *format = NULL;
  const struct opt opts[] = {
    { "format", 'f', OPT_STRING, &format, "string", "Format output using a custom template" },
    { NULL, 0, 0, NULL, NULL, NULL },
  };
  const struct cmd_spec spec
      = { "version [OPTIONS]", "Show the berth version information", NULL, opts, 0, 0, NULL };
  cleanup_free char **args = NULL;
  int r = opts_parse (&spec, ctx->cmdpath, argc, argv, &args);
  if (r)
    return r < 0 ? 0 : r;
  struct utsname u;
  uname (&u);
  cleanup_free char *osarch = xasprintf ("linux/%s", go_arch (u.machine));
  cleanup_json json_t *v
      = json_pack ("{s:{s:s, s:s, s:s, s:s, s:s}}", "Client", "Version", BERTH_VERSION, "GitCommit",
                   BERTH_GIT_COMMIT, "Os", "linux", "Arch", go_arch (u.machine), "Platform",
                   "berth (daemonless)");
  if (format)
    {
      cleanup_json json_t *objs = json_array ();
      json_array_append (objs, v);
      return print_inspect (objs, format);
    }
  printf ("Client: berth\n"
          " Version:           %s\n"
          " Git commit:        %s\n"
          " OS/Arch:           %s\n"
          " Context:           daemonless (no server: every command acts on the store directly)\n",
          BERTH_VERSION, BERTH_GIT_COMMIT, osarch);
  return 0;
}

static char *os_pretty_name (void)
{
  FILE *f = fopen ("/etc/os-release", "re");
  if (f == NULL)
    return xstrdup ("Linux");
  char line[512];
  char *name = NULL;
  while (fgets (line, sizeof line, f))
    if (str_has_prefix (line, "PRETTY_NAME="))
      {
        char *v = line + 12;
        v[strcspn (v, "\n")] = '\0';
        if (*v == '"')
          {
            v++;
            char *q = strrchr (v, '"');
            if (q)
              *q = '\0';
          }
        name = xstrdup (v);
        break;
      }
  fclose (f);
  return name ? name : xstrdup ("Linux");
}

static int64_t mem_total (void)
{
  long pages = sysconf (_SC_PHYS_PAGES), psz = sysconf (_SC_PAGESIZE);
  return pages > 0 && psz > 0 ? (int64_t)pages * psz : 0;
}

int cmd_info (int argc, char **argv, struct berth_ctx *ctx)
{
  const char *format = NULL;
  const struct opt opts[] = {
    { "format", 'f', OPT_STRING, &format, "string", "Format output using a custom template" },
    { NULL, 0, 0, NULL, NULL, NULL },
  };
  const struct cmd_spec spec = { "info [OPTIONS]",
                                 "Display system-wide information",
                                 "berth system info, berth info",
                                 opts,
                                 0,
                                 0,
                                 NULL };
  cleanup_free char **args = NULL;
  int r = opts_parse (&spec, ctx->cmdpath, argc, argv, &args);
  if (r)
    return r < 0 ? 0 : r;
  struct store *s;
  if (ctx_store (ctx, &s) < 0)
    return 1;
  int64_t nimages = 0;
  berr_t err = BERR_INIT;
  if (store_count_images (s, &nimages, &err) < 0)
    return cli_error (&err);
  struct utsname u;
  uname (&u);
  enum cgroup_mode cm = cgroup_detect_mode ("/sys/fs/cgroup");
  const char *cgv = cm == CGROUP_MODE_V2 ? "2" : cm == CGROUP_MODE_NONE ? "" : "1";
  cleanup_free char *os = os_pretty_name ();
  cleanup_json json_t *info = json_pack (
      "{s:i, s:i, s:i, s:i, s:I, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:i, s:I, s:s, "
      "s:s, s:s, s:s, s:s}",
      "Containers", 0, "ContainersRunning", 0, "ContainersPaused", 0, "ContainersStopped", 0,
      "Images", (json_int_t)nimages, "ServerVersion", BERTH_VERSION, "Driver", "overlay",
      "CgroupDriver", "cgroupfs", "CgroupVersion", cgv, "CgroupMode", cgroup_mode_name (cm),
      "KernelVersion", u.release, "OperatingSystem", os, "OSType", "linux", "Architecture",
      u.machine, "NCPU", (int)sysconf (_SC_NPROCESSORS_ONLN), "MemTotal", (json_int_t)mem_total (),
      "DockerRootDir", ctx->root, "RunRoot", ctx->runroot, "ConfigFile", ctx->config_path, "Name",
      u.nodename, "DefaultRuntime", "berth");
  if (format)
    {
      cleanup_json json_t *objs = json_array ();
      json_array_append (objs, info);
      return print_inspect (objs, format);
    }
  char mem[32];
  units_bytes_size ((double)mem_total (), mem, sizeof mem);
  printf ("Client: berth\n"
          " Version:    %s\n"
          "\n"
          "Server: (daemonless)\n"
          " Containers: 0\n"
          "  Running: 0\n"
          "  Paused: 0\n"
          "  Stopped: 0\n"
          " Images: %lld\n"
          " Server Version: %s\n"
          " Storage Driver: overlay\n"
          "  Backing Filesystem: layers unpacked once, shared through overlayfs lower dirs\n"
          " Cgroup Driver: cgroupfs\n"
          " Cgroup Version: %s\n"
          " Cgroup Mode: %s\n"
          " Kernel Version: %s\n"
          " Operating System: %s\n"
          " OSType: linux\n"
          " Architecture: %s\n"
          " CPUs: %ld\n"
          " Total Memory: %s\n"
          " Name: %s\n"
          " Berth Root Dir: %s\n"
          " Berth Run Root: %s\n"
          " Config File: %s\n",
          BERTH_VERSION, (long long)nimages, BERTH_VERSION, cgv[0] ? cgv : "none",
          cgroup_mode_name (cm), u.release, os, u.machine, sysconf (_SC_NPROCESSORS_ONLN), mem,
          u.nodename, ctx->root, ctx->runroot, ctx->config_path);
  return 0;
}

int cmd_system_df (int argc, char **argv, struct berth_ctx *ctx)
{
  const char *format = NULL;
  bool verbose = false;
  const struct opt opts[] = {
    { "format", 0, OPT_STRING, &format, "string", "Format output using a custom template" },
    { "verbose", 'v', OPT_BOOL, &verbose, NULL, "Show detailed information on space usage" },
    { NULL, 0, 0, NULL, NULL, NULL },
  };
  const struct cmd_spec spec
      = { "system df [OPTIONS]", "Show berth disk usage", NULL, opts, 0, 0, NULL };
  cleanup_free char **args = NULL;
  int r = opts_parse (&spec, ctx->cmdpath, argc, argv, &args);
  if (r)
    return r < 0 ? 0 : r;
  struct store *s;
  if (ctx_store (ctx, &s) < 0)
    return 1;
  int64_t nimages = 0, total = 0;
  berr_t err = BERR_INIT;
  if (store_count_images (s, &nimages, &err) < 0 || store_layers_total (s, &total, NULL, &err) < 0)
    return cli_error (&err);
  cleanup_free char *size = fmt_size4 (total);
  /* Nothing uses images yet (no containers), so all of it is reclaimable. */
  cleanup_free char *recl = total ? xasprintf ("%s (100%%)", size) : xstrdup ("0B");
  cleanup_json json_t *rows = json_pack (
      "[{s:s, s:s, s:s, s:s, s:s}, {s:s, s:s, s:s, s:s, s:s}, {s:s, s:s, s:s, s:s, s:s},"
      " {s:s, s:s, s:s, s:s, s:s}]",
      "Type", "Images", "TotalCount", "", "Active", "0", "Size", size, "Reclaimable", recl, "Type",
      "Containers", "TotalCount", "0", "Active", "0", "Size", "0B", "Reclaimable", "0B", "Type",
      "Local Volumes", "TotalCount", "0", "Active", "0", "Size", "0B", "Reclaimable", "0B", "Type",
      "Build Cache", "TotalCount", "0", "Active", "0", "Size", "0B", "Reclaimable", "0B");
  char cnt[32];
  snprintf (cnt, sizeof cnt, "%lld", (long long)nimages);
  json_object_set_new (json_array_get (rows, 0), "TotalCount", json_string (cnt));
  cleanup_json json_t *headers
      = json_pack ("{s:s, s:s, s:s, s:s, s:s}", "Type", "TYPE", "TotalCount", "TOTAL", "Active",
                   "ACTIVE", "Size", "SIZE", "Reclaimable", "RECLAIMABLE");
  if (format && strcmp (format, "table") == 0)
    format = NULL;
  int rc = print_rows (rows, format,
                       "table {{.Type}}\t{{.TotalCount}}\t{{.Active}}\t{{.Size}}\t{{.Reclaimable}}",
                       headers);
  if (rc == 0 && verbose && format == NULL)
    {
      char *av[] = { (char *)"images", NULL };
      printf ("\nImages space usage:\n\n");
      fflush (stdout);
      return cmd_images (1, av, ctx);
    }
  return rc;
}

int cmd_system_prune (int argc, char **argv, struct berth_ctx *ctx)
{
  bool all = false, force = false, volumes = false;
  cleanup_strv char **filters = NULL;
  const struct opt opts[] = {
    { "all", 'a', OPT_BOOL, &all, NULL, "Remove all unused images not just dangling ones" },
    { "filter", 0, OPT_STRINGS, &filters, "filter",
      "Provide filter values (e.g. \"label=<key>=<value>\")" },
    { "force", 'f', OPT_BOOL, &force, NULL, "Do not prompt for confirmation" },
    { "volumes", 0, OPT_BOOL, &volumes, NULL, "Prune anonymous volumes" },
    { NULL, 0, 0, NULL, NULL, NULL },
  };
  const struct cmd_spec spec
      = { "system prune [OPTIONS]", "Remove unused data", NULL, opts, 0, 0, NULL };
  cleanup_free char **args = NULL;
  int r = opts_parse (&spec, ctx->cmdpath, argc, argv, &args);
  if (r)
    return r < 0 ? 0 : r;
  if (!force)
    {
      cleanup_free char *w = xasprintf (
          "WARNING! This will remove:\n  - all stopped containers\n  - all networks not used by "
          "at least one container\n%s  - %s\n  - unused build cache\n",
          volumes ? "  - all anonymous volumes not used by at least one container\n" : "",
          all ? "all images without at least one container associated to them"
              : "all dangling images");
      if (!cli_confirm (w))
        return 0;
    }
  cleanup_strv char **labels = NULL;
  for (size_t i = 0; filters && filters[i]; i++)
    if (str_has_prefix (filters[i], "label="))
      strv_push (&labels, filters[i] + 6);
  int64_t reclaimed = 0;
  int rc = prune_containers (ctx, labels, 0, false, &reclaimed);
  if (volumes)
    {
      int64_t v = 0;
      rc |= prune_volumes (ctx, false, labels, &v);
      reclaimed += v;
    }
  prune_reclaimed_before = reclaimed;
  char *av[8] = { (char *)"image prune", (char *)"-f" };
  int ac = 2;
  if (all)
    av[ac++] = (char *)"-a";
  for (size_t i = 0; filters && filters[i] && ac < 7; i++)
    if (str_has_prefix (filters[i], "label=") || str_has_prefix (filters[i], "until="))
      {
        av[ac++] = (char *)"--filter";
        if (ac < 7)
          av[ac++] = filters[i];
      }
  av[ac] = NULL;
  rc |= cmd_image_prune (ac, av, ctx);
  return rc;
}
