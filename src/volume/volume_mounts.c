/* volume_mounts.c — a container's mounts, resolved from HostConfig and Config.Volumes the way
 * Docker's create does (moby registerMountPoints + the image-volume pass), see volume.h. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/fs.h"
#include "util/json.h"
#include "volume/volspec.h"
#include "volume/volume.h"

struct resolver
{
  struct store *s;
  const char *volume_driver; /* HostConfig.VolumeDriver or NULL */
  json_t *entries;
  char **dests;        /* destinations taken by binds and --mount entries */
  char **tmpfs_dests;  /* cleaned HostConfig.Tmpfs keys */
  char **names;        /* volumes the container uses */
  char **created_anon; /* anonymous volumes created by this call */
};

static void resolver_release (struct resolver *r)
{
  if (r->entries)
    json_decref (r->entries);
  strv_free (r->dests);
  strv_free (r->tmpfs_dests);
  strv_free (r->names);
  strv_free (r->created_anon);
}

static int take_destination (struct resolver *r, const char *dest, berr_t *err)
{
  if (strv_contains (r->dests, dest) || strv_contains (r->tmpfs_dests, dest))
    return berr_setk (err, BERR_INVALID, 0, "Duplicate mount point: %s", dest);
  strv_push (&r->dests, dest);
  return 0;
}

/* The named volume (created on first use), or a new anonymous one when name is "". */
static int use_volume (struct resolver *r, const char *name, const char *driver,
                       const json_t *labels, const json_t *options, struct volume_rec **out,
                       berr_t *err)
{
  if (driver == NULL || driver[0] == '\0')
    driver = r->volume_driver;
  if (name[0] != '\0')
    {
      berr_t e = BERR_INIT;
      if (volume_get (r->s, name, out, &e) == 0)
        {
          /* Docker only ever uses the local driver here: a name taken is the volume. */
          if (!strv_contains (r->names, name))
            strv_push (&r->names, name);
          return 0;
        }
      if (e.kind != BERR_NOT_FOUND)
        {
          berr_move (err, &e);
          return -1;
        }
      berr_release (&e);
    }
  if (volume_create (r->s, name, driver, labels, options, out, err) < 0)
    return -1;
  if (name[0] == '\0')
    strv_push (&r->created_anon, (*out)->name);
  if (!strv_contains (r->names, (*out)->name))
    strv_push (&r->names, (*out)->name);
  return 0;
}

static json_t *options_array (const char *first, ...)
{
  json_t *a = json_array ();
  va_list ap;
  va_start (ap, first);
  for (const char *o = first; o; o = va_arg (ap, const char *))
    if (o[0])
      json_array_append_new (a, json_string (o));
  va_end (ap);
  return a;
}

/* The mount of a volume made with driver options type/device/o: that filesystem itself. */
static void driver_mount (json_t *entry, const struct volume_rec *v, bool rw)
{
  const char *type = json_get_str (v->options, "type");
  const char *device = json_get_str (v->options, "device");
  const char *o = json_get_str (v->options, "o");
  json_t *opts = json_array ();
  bool bind = false;
  if (o && o[0])
    {
      cleanup_free char *copy = xstrdup (o);
      char *save = NULL;
      for (char *t = strtok_r (copy, ",", &save); t; t = strtok_r (NULL, ",", &save))
        {
          if (strcmp (t, "bind") == 0 || strcmp (t, "rbind") == 0)
            bind = true;
          if (!rw && (strcmp (t, "rw") == 0 || strcmp (t, "ro") == 0))
            continue;
          json_array_append_new (opts, json_string (t));
        }
    }
  if (!rw)
    json_array_append_new (opts, json_string ("ro"));
  if (bind)
    json_array_append_new (opts, json_string ("rprivate"));
  json_object_set_new (entry, "Options", opts);
  json_object_set_new (entry, "OCIType", json_string (bind ? "bind" : type));
  json_object_set_new (entry, "OCISource", json_string (device));
}

/* A volume's Source for a subpath: the real path of <_data>/<subpath>, resolved inside the
 * volume so a symlink there cannot point the mount elsewhere. */
static int subpath_source (const struct volume_rec *v, const char *subpath, char **out, berr_t *err)
{
  cleanup_close int root = open (v->mountpoint, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (root < 0)
    return berr_set (err, errno, "open %s", v->mountpoint);
  cleanup_free char *clean = fs_path_clean (subpath);
  cleanup_close int fd = fs_open_in_root (root, clean, O_PATH, 0);
  if (fd < 0)
    return berr_setk (err, BERR_INVALID, errno, "cannot access path %s/%s", v->mountpoint, clean);
  char link[64], real[PATH_MAX];
  snprintf (link, sizeof link, "/proc/self/fd/%d", fd);
  ssize_t n = readlink (link, real, sizeof real - 1);
  if (n < 0)
    return berr_set (err, errno, "readlink %s", link);
  real[n] = '\0';
  size_t ml = strlen (v->mountpoint);
  if (strncmp (real, v->mountpoint, ml) != 0 || (real[ml] != '/' && real[ml] != '\0'))
    return berr_setk (err, BERR_INVALID, 0, "subpath %s is outside of the volume", subpath);
  *out = xstrdup (real);
  return 0;
}

/* Docker's inspect fields of a volume mount plus berth's. */
static int add_volume_entry (struct resolver *r, const struct mount_point *mp,
                             const struct volume_rec *v, const char *mode, const char *subpath,
                             berr_t *err)
{
  cleanup_free char *source = NULL;
  if (subpath && subpath[0])
    {
      if (subpath_source (v, subpath, &source, err) < 0)
        return -1;
    }
  else
    source = xstrdup (v->mountpoint);
  json_t *e = json_pack ("{s:s, s:s, s:s, s:s, s:s, s:s, s:b, s:s}", "Type", "volume", "Name",
                         v->name, "Source", source, "Destination", mp->destination, "Driver",
                         v->driver, "Mode", mode, "RW", mp->rw, "Propagation", "");
  bool has_driver_mount = json_get_str (v->options, "type") != NULL;
  if (has_driver_mount)
    driver_mount (e, v, mp->rw);
  else
    {
      json_object_set_new (
          e, "Options",
          options_array ("rbind", mp->rw ? "" : "ro", "rprivate", (const char *)NULL));
      json_object_set_new (e, "OCIType", json_string ("bind"));
      json_object_set_new (e, "OCISource", json_string (source));
    }
  bool copy = mp->copy_data && !has_driver_mount && !(subpath && subpath[0]);
  json_object_set_new (e, "CopyData", json_boolean (copy));
  json_array_append_new (r->entries, e);
  return 0;
}

static int add_bind_entry (struct resolver *r, const struct mount_point *mp, bool create_source,
                           berr_t *err)
{
  struct stat st;
  if (create_source && stat (mp->source, &st) < 0)
    {
      if (errno != ENOENT || fs_mkdir_p (mp->source, 0755, err) < 0)
        {
          int e = errno;
          berr_release (err);
          return berr_set (err, e, "error while creating mount source path '%s'", mp->source);
        }
    }
  const json_t *bo = json_object_get (mp->spec, "BindOptions");
  bool nonrec = json_is_true (json_object_get (bo, "NonRecursive"));
  bool force_rro = json_is_true (json_object_get (bo, "ReadOnlyForceRecursive"));
  const char *ro = mp->rw ? "" : "ro";
  const char *rro = !mp->rw && force_rro ? "rro" : "";
  json_t *e = json_pack ("{s:s, s:s, s:s, s:s, s:b, s:s}", "Type", "bind", "Source", mp->source,
                         "Destination", mp->destination, "Mode", mp->mode, "RW", mp->rw,
                         "Propagation", mp->propagation);
  json_object_set_new (
      e, "Options",
      options_array (nonrec ? "bind" : "rbind", ro, rro, mp->propagation, (const char *)NULL));
  json_object_set_new (e, "OCIType", json_string ("bind"));
  json_object_set_new (e, "OCISource", json_string (mp->source));
  json_array_append_new (r->entries, e);
  return 0;
}

static int add_tmpfs_entry (struct resolver *r, const char *dest, bool rw, const char *data,
                            bool from_tmpfs_flag, berr_t *err)
{
  cleanup_strv char **opts = NULL;
  if (volspec_tmpfs_oci_options (data, &opts, err) < 0)
    return -1;
  json_t *e = json_pack ("{s:s, s:s, s:s, s:s, s:b, s:s}", "Type", "tmpfs", "Source", "",
                         "Destination", dest, "Mode", "", "RW", rw, "Propagation", "");
  json_object_set_new (e, "Options", json_from_strv (opts));
  json_object_set_new (e, "OCIType", json_string ("tmpfs"));
  json_object_set_new (e, "OCISource", json_string ("tmpfs"));
  if (from_tmpfs_flag)
    json_object_set_new (e, "HostConfigTmpfs", json_true ());
  json_array_append_new (r->entries, e);
  return 0;
}

static int resolve_binds (struct resolver *r, const json_t *binds, berr_t *err)
{
  size_t i;
  json_t *b;
  json_array_foreach (binds, i, b)
  {
    if (!json_is_string (b))
      return berr_setk (err, BERR_INVALID, 0, "HostConfig.Binds: entries must be strings");
    struct mount_point mp = { 0 };
    if (volspec_parse_bind_driver (json_string_value (b), r->volume_driver, &mp, err) < 0)
      return -1;
    int rc = take_destination (r, mp.destination, err);
    if (rc == 0 && strcmp (mp.type, "volume") == 0)
      {
        struct volume_rec *v = NULL;
        rc = use_volume (r, mp.name, mp.driver, NULL, NULL, &v, err);
        /* Local volumes get the "z" (shared SELinux label) mode when none was given. */
        if (rc == 0)
          rc = add_volume_entry (r, &mp, v, mp.mode[0] ? mp.mode : "z", NULL, err);
        volume_rec_free (v);
      }
    else if (rc == 0)
      rc = add_bind_entry (r, &mp, true, err);
    mount_point_release (&mp);
    if (rc < 0)
      return -1;
  }
  return 0;
}

static int resolve_mount_objs (struct resolver *r, const json_t *mounts, berr_t *err)
{
  size_t i;
  json_t *m;
  json_array_foreach (mounts, i, m)
  {
    struct mount_point mp = { 0 };
    if (volspec_parse_mount_obj (m, &mp, err) < 0)
      return -1;
    int rc = take_destination (r, mp.destination, err);
    if (rc == 0 && strcmp (mp.type, "volume") == 0)
      {
        const json_t *vo = json_object_get (mp.spec, "VolumeOptions");
        const json_t *dc = json_object_get (vo, "DriverConfig");
        struct volume_rec *v = NULL;
        rc = use_volume (r, mp.name, mp.driver, json_object_get (vo, "Labels"),
                         json_object_get (dc, "Options"), &v, err);
        if (rc == 0)
          rc = add_volume_entry (r, &mp, v, "z",
                                 json_string_value (json_object_get (vo, "Subpath")), err);
        volume_rec_free (v);
      }
    else if (rc == 0 && strcmp (mp.type, "bind") == 0)
      {
        const json_t *bo = json_object_get (mp.spec, "BindOptions");
        rc = add_bind_entry (r, &mp, json_is_true (json_object_get (bo, "CreateMountpoint")), err);
      }
    else if (rc == 0)
      {
        cleanup_free char *data = NULL;
        rc = volspec_tmpfs_options_data (json_object_get (mp.spec, "TmpfsOptions"), !mp.rw, &data,
                                         err);
        if (rc == 0)
          rc = add_tmpfs_entry (r, mp.destination, mp.rw, data, false, err);
      }
    mount_point_release (&mp);
    if (rc < 0)
      return -1;
  }
  return 0;
}

static int resolve_tmpfs (struct resolver *r, const json_t *tmpfs, berr_t *err)
{
  const char *dest;
  json_t *v;
  json_object_foreach ((json_t *)tmpfs, dest, v)
  {
    const char *data = json_is_string (v) ? json_string_value (v) : "";
    cleanup_free char *clean = fs_path_clean (dest);
    if (strcmp (clean, "/") == 0)
      return berr_setk (err, BERR_INVALID, 0, "invalid specification: destination can't be '/'");
    if (dest[0] != '/')
      return berr_setk (err, BERR_INVALID, 0,
                        "invalid mount path: '%s' mount path must be absolute", dest);
    if (strv_contains (r->tmpfs_dests, clean))
      return berr_setk (err, BERR_INVALID, 0, "Duplicate mount point: %s", clean);
    /* "ro" among the options makes it read-only. */
    cleanup_strv char **opts = NULL;
    if (volspec_tmpfs_oci_options (data, &opts, err) < 0)
      return -1;
    if (add_tmpfs_entry (r, clean, !strv_contains (opts, "ro"), data, true, err) < 0)
      return -1;
    strv_push (&r->tmpfs_dests, clean);
  }
  return 0;
}

static int cmp_str (const void *a, const void *b)
{
  return strcmp (*(char *const *)a, *(char *const *)b);
}

/* Config.Volumes: an anonymous volume for each destination nothing else covers. */
static int resolve_config_volumes (struct resolver *r, const json_t *volumes, berr_t *err)
{
  cleanup_strv char **dests = xzalloc (sizeof (char *));
  const char *k;
  json_t *v;
  json_object_foreach ((json_t *)volumes, k, v) strv_push (&dests, k);
  qsort (dests, strv_len (dests), sizeof (char *), cmp_str);
  for (size_t i = 0; dests[i]; i++)
    {
      cleanup_free char *clean = fs_path_clean (dests[i]);
      if (strcmp (clean, "/") == 0)
        return berr_setk (err, BERR_INVALID, 0,
                          "invalid volume specification: '%s': invalid mount config for type "
                          "\"volume\": invalid specification: destination can't be '/'",
                          dests[i]);
      if (clean[0] != '/')
        return berr_setk (err, BERR_INVALID, 0,
                          "invalid volume specification: '%s': invalid mount config for type "
                          "\"volume\": invalid mount path: '%s' mount path must be absolute",
                          dests[i], dests[i]);
      if (strv_contains (r->dests, clean) || strv_contains (r->tmpfs_dests, clean))
        continue;
      struct volume_rec *vol = NULL;
      if (use_volume (r, "", NULL, NULL, NULL, &vol, err) < 0)
        return -1;
      struct mount_point mp = { .destination = clean, .rw = true, .copy_data = true };
      int rc = add_volume_entry (r, &mp, vol, "", NULL, err);
      volume_rec_free (vol);
      if (rc < 0)
        return -1;
      strv_push (&r->dests, clean);
    }
  return 0;
}

static size_t depth (const char *p)
{
  if (strcmp (p, "/") == 0)
    return 0;
  size_t n = 0;
  for (; *p; p++)
    n += *p == '/';
  return n;
}

/* Parents before children, as the runtime must mount them. */
static int cmp_entries (const void *a, const void *b)
{
  const char *da = json_string_value (json_object_get (*(json_t *const *)a, "Destination"));
  const char *db = json_string_value (json_object_get (*(json_t *const *)b, "Destination"));
  size_t xa = depth (da), xb = depth (db);
  if (xa != xb)
    return xa < xb ? -1 : 1;
  return strcmp (da, db);
}

static json_t *sorted_entries (json_t *entries)
{
  size_t n = json_array_size (entries);
  json_t **v = xcalloc (n + 1, sizeof *v);
  for (size_t i = 0; i < n; i++)
    v[i] = json_array_get (entries, i);
  qsort (v, n, sizeof *v, cmp_entries);
  json_t *out = json_array ();
  for (size_t i = 0; i < n; i++)
    json_array_append (out, v[i]);
  free (v);
  return out;
}

int volume_resolve_mounts (struct store *s, const char *container_id, const json_t *host_config,
                           const json_t *config, json_t **mounts, berr_t *err)
{
  struct resolver r = { .s = s, .entries = json_array () };
  r.tmpfs_dests = xzalloc (sizeof (char *));
  r.dests = xzalloc (sizeof (char *));
  r.names = xzalloc (sizeof (char *));
  r.created_anon = xzalloc (sizeof (char *));
  r.volume_driver = json_get_str ((json_t *)host_config, "VolumeDriver");
  if (r.volume_driver && r.volume_driver[0] == '\0')
    r.volume_driver = NULL;

  /* The Tmpfs keys first: binds and --mount entries may not reuse them. */
  const json_t *tmpfs = json_object_get (host_config, "Tmpfs");
  const char *k;
  json_t *v;
  json_object_foreach ((json_t *)tmpfs, k, v)
  {
    cleanup_free char *c = fs_path_clean (k);
    strv_push (&r.tmpfs_dests, c);
  }
  const json_t *binds = json_object_get (host_config, "Binds");
  const json_t *objs = json_object_get (host_config, "Mounts");
  int rc = resolve_binds (&r, binds, err);
  if (rc == 0)
    rc = resolve_mount_objs (&r, objs, err);
  if (rc == 0)
    {
      strv_free (r.tmpfs_dests);
      r.tmpfs_dests = xzalloc (sizeof (char *));
      rc = resolve_tmpfs (&r, tmpfs, err);
    }
  if (rc == 0)
    rc = resolve_config_volumes (&r, json_object_get (config, "Volumes"), err);
  if (rc == 0)
    rc = store_container_set_volumes (s, container_id, r.names, err);
  if (rc < 0)
    {
      for (size_t i = 0; r.created_anon[i]; i++)
        {
          berr_t e = BERR_INIT;
          store_volume_remove (s, r.created_anon[i], &e);
          berr_release (&e);
        }
      resolver_release (&r);
      return -1;
    }
  *mounts = sorted_entries (r.entries);
  resolver_release (&r);
  return 0;
}

json_t *volume_mounts_inspect (const json_t *mounts)
{
  static const char *const own[] = { "Options", "OCIType", "OCISource", "CopyData" };
  json_t *out = json_array ();
  size_t i;
  json_t *m;
  json_array_foreach (mounts, i, m)
  {
    if (json_is_true (json_object_get (m, "HostConfigTmpfs")))
      continue;
    json_t *c = json_copy (m);
    for (size_t k = 0; k < ARRAY_SIZE (own); k++)
      json_object_del (c, own[k]);
    json_array_append_new (out, c);
  }
  return out;
}
