/* system.c — version, info, system df. */
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "cli/cli.h"
#include "gpu/cdi.h"
#include "config.h"
#include "container/container.h"
#include "runtime/cgroup.h"
#include "util/fs.h"
#include "volume/volume.h"
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

/* What containers and volumes hold, for info and system df. */
struct usage
{
  int64_t containers, running, paused, stopped;
  int64_t container_size, container_reclaimable;
  char **active_images;
  int64_t volumes, volumes_active, volume_size, volume_reclaimable;
};

static void usage_release (struct usage *u) { strv_free (u->active_images); }

static int collect_usage (struct berth_ctx *ctx, bool sizes, struct usage *u)
{
  memset (u, 0, sizeof *u);
  u->active_images = xzalloc (sizeof (char *));
  struct engine *e;
  if (ctx_engine (ctx, &e) < 0)
    return -1;
  berr_t err = BERR_INIT;
  struct container_rec **cs = NULL;
  size_t n = 0;
  if (container_list (e, &cs, &n, &err) < 0)
    return cli_error (&err), -1;
  for (size_t i = 0; i < n; i++)
    {
      bool running = container_is_running (cs[i]);
      bool paused = json_is_true (json_object_get (cs[i]->state, "Paused"));
      u->containers++;
      if (paused)
        u->paused++;
      else if (running)
        u->running++;
      else
        u->stopped++;
      if (!strv_contains (u->active_images, cs[i]->image_id))
        strv_push (&u->active_images, cs[i]->image_id);
      if (sizes)
        {
          cleanup_free char *dir = container_dir (e, cs[i]->id);
          cleanup_free char *upper = xasprintf ("%s/upper", dir);
          int64_t sz = fs_tree_size (upper);
          if (sz > 0)
            {
              u->container_size += sz;
              if (!running)
                u->container_reclaimable += sz;
            }
        }
    }
  container_recs_free (cs, n);
  struct volume_rec **vs = NULL;
  size_t nv = 0;
  if (volume_list (e->store, &vs, &nv, &err) < 0)
    return cli_error (&err), -1;
  for (size_t i = 0; i < nv; i++)
    {
      u->volumes++;
      cleanup_strv char **users = NULL;
      bool used = volume_users (e->store, vs[i]->name, &users, &err) == 0 && users && users[0];
      berr_release (&err);
      if (used)
        u->volumes_active++;
      if (sizes)
        {
          int64_t sz = fs_tree_size (vs[i]->mountpoint);
          if (sz > 0)
            {
              u->volume_size += sz;
              if (!used)
                u->volume_reclaimable += sz;
            }
        }
      volume_rec_free (vs[i]);
    }
  free (vs);
  return 0;
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
  struct usage cu;
  if (collect_usage (ctx, false, &cu) < 0)
    return 1;
  struct utsname u;
  uname (&u);
  enum cgroup_mode cm = cgroup_detect_mode ("/sys/fs/cgroup");
  const char *cgv = cm == CGROUP_MODE_V2 ? "2" : cm == CGROUP_MODE_NONE ? "" : "1";
  cleanup_free char *os = os_pretty_name ();
  cleanup_json json_t *info = json_pack (
      "{s:i, s:i, s:i, s:i, s:I, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:i, s:I, s:s, "
      "s:s, s:s, s:s, s:s}",
      "Containers", (int)cu.containers, "ContainersRunning", (int)cu.running, "ContainersPaused",
      (int)cu.paused, "ContainersStopped", (int)cu.stopped, "Images", (json_int_t)nimages,
      "ServerVersion", BERTH_VERSION, "Driver", "overlay", "CgroupDriver", "cgroupfs",
      "CgroupVersion", cgv, "CgroupMode", cgroup_mode_name (cm), "KernelVersion", u.release,
      "OperatingSystem", os, "OSType", "linux", "Architecture", u.machine, "NCPU",
      (int)sysconf (_SC_NPROCESSORS_ONLN), "MemTotal", (json_int_t)mem_total (), "DockerRootDir",
      ctx->root, "RunRoot", ctx->runroot, "ConfigFile", ctx->config_path, "Name", u.nodename,
      "DefaultRuntime", "berth");
  /* CDI: the spec directories and the devices they name (docker 27's info shows both). */
  json_t *cdi_cfg = json_object_get (ctx->config, "cdi-spec-dirs");
  cleanup_strv char **cdi_dirs = json_is_array (cdi_cfg) ? json_to_strv (cdi_cfg) : NULL;
  if (cdi_dirs == NULL)
    {
      strv_push (&cdi_dirs, "/etc/cdi");
      strv_push (&cdi_dirs, "/var/run/cdi");
    }
  cleanup_strv char **cdi_names = NULL;
  {
    struct cdi_registry *reg = NULL;
    berr_t e = BERR_INIT;
    if (cdi_registry_load (cdi_dirs, &reg, &e) == 0)
      {
        cdi_names = cdi_device_names (reg);
        cdi_registry_free (reg);
      }
    berr_release (&e);
  }
  json_t *discovered = json_array ();
  for (size_t i = 0; cdi_names && cdi_names[i]; i++)
    json_array_append_new (discovered,
                           json_pack ("{s:s, s:s}", "Source", "cdi", "ID", cdi_names[i]));
  json_object_set_new (info, "CDISpecDirs", json_from_strv (cdi_dirs));
  json_object_set_new (info, "DiscoveredDevices", discovered);
  if (format)
    {
      cleanup_json json_t *objs = json_array ();
      json_array_append (objs, info);
      usage_release (&cu);
      return print_inspect (objs, format);
    }
  char mem[32];
  units_bytes_size ((double)mem_total (), mem, sizeof mem);
  printf ("Client: berth\n"
          " Version:    %s\n"
          "\n"
          "Server: (daemonless)\n"
          " Containers: %lld\n"
          "  Running: %lld\n"
          "  Paused: %lld\n"
          "  Stopped: %lld\n"
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
          BERTH_VERSION, (long long)cu.containers, (long long)cu.running, (long long)cu.paused,
          (long long)cu.stopped, (long long)nimages, BERTH_VERSION, cgv[0] ? cgv : "none",
          cgroup_mode_name (cm), u.release, os, u.machine, sysconf (_SC_NPROCESSORS_ONLN), mem,
          u.nodename, ctx->root, ctx->runroot, ctx->config_path);
  printf (" CDI spec directories:\n");
  for (size_t i = 0; cdi_dirs[i]; i++)
    printf ("  %s\n", cdi_dirs[i]);
  if (cdi_names && cdi_names[0])
    {
      printf (" Discovered Devices:\n");
      for (size_t i = 0; cdi_names[i]; i++)
        printf ("  cdi: %s\n", cdi_names[i]);
    }
  usage_release (&cu);
  return 0;
}

/* docker system df -v's last section: "Build cache usage: SIZE" and one row per record. */
static int print_build_cache (struct store *s, const char *total)
{
  berr_t err = BERR_INIT;
  cleanup_json json_t *list = NULL;
  if (store_build_cache_list (s, &list, &err) < 0)
    return cli_error (&err);
  printf ("\nBuild cache usage: %s\n\n", total);
  fflush (stdout);
  cleanup_json json_t *rows = json_array ();
  size_t i;
  json_t *r;
  json_array_foreach (list, i, r)
  {
    cleanup_free char *id = fmt_short_id (json_get_str (r, "ID"));
    cleanup_free char *size = fmt_size4 (json_integer_value (json_object_get (r, "Size")));
    cleanup_free char *created = fmt_since (json_integer_value (json_object_get (r, "Created")));
    cleanup_free char *used = fmt_since (json_integer_value (json_object_get (r, "LastUsed")));
    json_array_append_new (
        rows, json_pack ("{s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "ID", id, "CacheType", "regular",
                         "Size", size, "CreatedSince", created, "LastUsedSince", used, "UsageCount",
                         json_is_true (json_object_get (r, "InUse")) ? "1" : "0", "Shared",
                         json_is_true (json_object_get (r, "Shared")) ? "true" : "false"));
  }
  cleanup_json json_t *headers
      = json_pack ("{s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "ID", "CACHE ID", "CacheType",
                   "CACHE TYPE", "Size", "SIZE", "CreatedSince", "CREATED", "LastUsedSince",
                   "LAST USED", "UsageCount", "USAGE", "Shared", "SHARED");
  return print_rows (rows, NULL,
                     "table {{.ID}}\t{{.CacheType}}\t{{.Size}}\t{{.CreatedSince}}\t"
                     "{{.LastUsedSince}}\t{{.UsageCount}}\t{{.Shared}}",
                     headers);
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
  int64_t bc_entries = 0, bc_size = 0, bc_recl = 0, bc_active = 0;
  if (store_build_cache_usage (s, &bc_entries, &bc_size, &bc_recl, &err) < 0
      || store_build_cache_active (s, &bc_active, &err) < 0)
    return cli_error (&err);
  struct usage cu;
  if (collect_usage (ctx, true, &cu) < 0)
    return 1;
  /* Images used by a container are not reclaimable: their layers are counted once each. */
  int64_t active_size = 0;
  for (size_t i = 0; cu.active_images[i]; i++)
    {
      struct image_rec *img = NULL;
      if (store_image_get (s, cu.active_images[i], &img, &err) == 0)
        {
          active_size += img->size;
          image_rec_free (img);
        }
      berr_release (&err);
    }
  if (active_size > total)
    active_size = total;
  cleanup_free char *size = fmt_size4 (total);
  cleanup_free char *rsz = fmt_size4 (total - active_size);
  cleanup_free char *recl
      = total ? xasprintf ("%s (%lld%%)", rsz, (long long)((total - active_size) * 100 / total))
              : xstrdup ("0B");
  char c_total[32], c_active[32], v_total[32], v_active[32], i_active[32];
  snprintf (c_total, sizeof c_total, "%lld", (long long)cu.containers);
  snprintf (c_active, sizeof c_active, "%lld", (long long)(cu.running + cu.paused));
  snprintf (v_total, sizeof v_total, "%lld", (long long)cu.volumes);
  snprintf (v_active, sizeof v_active, "%lld", (long long)cu.volumes_active);
  snprintf (i_active, sizeof i_active, "%zu", strv_len (cu.active_images));
  cleanup_free char *csz = fmt_size4 (cu.container_size);
  cleanup_free char *crecl = fmt_size4 (cu.container_reclaimable);
  cleanup_free char *vsz = fmt_size4 (cu.volume_size);
  cleanup_free char *vrecl = fmt_size4 (cu.volume_reclaimable);
  /* Docker prints the build cache's reclaimable size without a percentage. */
  char b_total[32], b_active[32];
  snprintf (b_total, sizeof b_total, "%lld", (long long)bc_entries);
  snprintf (b_active, sizeof b_active, "%lld", (long long)bc_active);
  cleanup_free char *bsz = fmt_size4 (bc_size);
  cleanup_free char *brecl = fmt_size4 (bc_recl);
  usage_release (&cu);
  cleanup_json json_t *rows = json_pack (
      "[{s:s, s:s, s:s, s:s, s:s}, {s:s, s:s, s:s, s:s, s:s}, {s:s, s:s, s:s, s:s, s:s},"
      " {s:s, s:s, s:s, s:s, s:s}]",
      "Type", "Images", "TotalCount", "", "Active", i_active, "Size", size, "Reclaimable", recl,
      "Type", "Containers", "TotalCount", c_total, "Active", c_active, "Size", csz, "Reclaimable",
      crecl, "Type", "Local Volumes", "TotalCount", v_total, "Active", v_active, "Size", vsz,
      "Reclaimable", vrecl, "Type", "Build Cache", "TotalCount", b_total, "Active", b_active,
      "Size", bsz, "Reclaimable", brecl);
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
      rc = cmd_images (1, av, ctx);
      if (rc == 0)
        rc = print_build_cache (s, bsz);
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
          "at least one container\n%s  - %s\n  - %s\n",
          volumes ? "  - all anonymous volumes not used by at least one container\n" : "",
          all ? "all images without at least one container associated to them"
              : "all dangling images",
          all ? "all build cache" : "unused build cache");
      if (!cli_confirm (w))
        return 0;
    }
  cleanup_strv char **labels = NULL;
  for (size_t i = 0; filters && filters[i]; i++)
    if (str_has_prefix (filters[i], "label="))
      strv_push (&labels, filters[i] + 6);
  int64_t reclaimed = 0;
  int rc = prune_containers (ctx, labels, 0, false, &reclaimed);
  cleanup_strv char **net_filters = NULL;
  for (size_t i = 0; filters && filters[i]; i++)
    if (str_has_prefix (filters[i], "label") || str_has_prefix (filters[i], "until="))
      strv_push (&net_filters, filters[i]);
  rc |= prune_networks (ctx, net_filters, true);
  if (volumes)
    {
      int64_t v = 0;
      rc |= prune_volumes (ctx, false, labels, &v);
      reclaimed += v;
    }
  prune_reclaimed_before = reclaimed;
  prune_build_cache_too = true;
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
