/* volspec.c — Docker's mount specifications: `-v`, `--mount`, `--tmpfs` and tmpfs options.
 *
 * Two layers, as in Docker: the CLI turns `--mount CSV` into an Engine-API Mount object
 * (volspec_parse_mount_opt, docker/cli's rules and messages), and the daemon turns `-v SPEC`
 * strings and Mount objects into mount points (moby's Linux parser: volspec_parse_bind,
 * volspec_parse_mount_obj).  Error texts follow upstream so users and scripts see the same. */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/fs.h"
#include "util/json.h"
#include "util/units.h"
#include "volume/volspec.h"

void mount_point_release (struct mount_point *m)
{
  if (m == NULL)
    return;
  free (m->type);
  free (m->source);
  free (m->destination);
  free (m->name);
  free (m->driver);
  free (m->mode);
  free (m->propagation);
  if (m->spec)
    json_decref (m->spec);
  memset (m, 0, sizeof *m);
}

/* ---------------- small helpers ---------------- */

static const char *nz (const char *s) { return s ? s : ""; }

static bool is_space (char c)
{
  return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

/* strings.TrimSpace into a new string. */
static char *trim_dup (const char *s, size_t len)
{
  while (len > 0 && is_space (*s))
    s++, len--;
  while (len > 0 && is_space (s[len - 1]))
    len--;
  return xstrndup (s, len);
}

static void str_lower (char *s)
{
  for (; *s; s++)
    if (*s >= 'A' && *s <= 'Z')
      *s = (char)(*s - 'A' + 'a');
}

/* The object at key, created when missing (a Go "ensureXOptions"). */
static json_t *ensure_obj (json_t *parent, const char *key)
{
  json_t *o = json_object_get (parent, key);
  if (!json_is_object (o))
    {
      o = json_object ();
      json_object_set_new (parent, key, o);
    }
  return o;
}

static const char *obj_str (const json_t *o, const char *key)
{
  return json_get_str ((json_t *)o, key);
}

static bool obj_true (const json_t *o, const char *key)
{
  return json_is_true (json_object_get (o, key));
}

/* An optional sub-object: NULL when absent or null. */
static const json_t *obj_sub (const json_t *o, const char *key)
{
  const json_t *v = json_object_get (o, key);
  return json_is_object (v) ? v : NULL;
}

/* ---------------- modes (`-v SRC:DST:MODE`) ---------------- */

static const char *const propagation_modes[]
    = { "private", "rprivate", "slave", "rslave", "shared", "rshared", NULL };

static bool in_list (const char *const *list, const char *s, size_t len)
{
  for (size_t i = 0; list[i]; i++)
    if (strlen (list[i]) == len && strncmp (list[i], s, len) == 0)
      return true;
  return false;
}

struct mode_info
{
  bool readonly;
  bool copy_set; /* "nocopy" given */
  const char *propagation;
};

/* moby's linuxValidMountMode + ReadWrite + getCopyMode + GetPropagation in one pass: each
 * comma-separated word is one of rw/ro, z/Z, a propagation, nocopy, a consistency, and each kind
 * appears at most once. */
static bool parse_mode (const char *mode, struct mode_info *mi)
{
  static const char *const rw[] = { "rw", "ro", NULL };
  static const char *const label[] = { "z", "Z", NULL };
  static const char *const copy[] = { "nocopy", NULL };
  static const char *const consistency[] = { "consistent", "cached", "delegated", NULL };
  memset (mi, 0, sizeof *mi);
  if (mode[0] == '\0')
    return true;
  int n_rw = 0, n_label = 0, n_prop = 0, n_copy = 0, n_cons = 0;
  const char *p = mode;
  for (;;)
    {
      const char *comma = strchr (p, ',');
      size_t len = comma ? (size_t)(comma - p) : strlen (p);
      if (in_list (rw, p, len))
        {
          n_rw++;
          if (len == 2 && strncmp (p, "ro", 2) == 0)
            mi->readonly = true;
        }
      else if (in_list (label, p, len))
        n_label++;
      else if (in_list (propagation_modes, p, len))
        {
          n_prop++;
          for (size_t i = 0; propagation_modes[i]; i++)
            if (strlen (propagation_modes[i]) == len && strncmp (propagation_modes[i], p, len) == 0)
              mi->propagation = propagation_modes[i];
        }
      else if (in_list (copy, p, len))
        {
          n_copy++;
          mi->copy_set = true;
        }
      else if (in_list (consistency, p, len))
        n_cons++;
      else
        return false;
      if (comma == NULL)
        break;
      p = comma + 1;
    }
  return n_rw <= 1 && n_label <= 1 && n_prop <= 1 && n_copy <= 1 && n_cons <= 1;
}

/* ---------------- daemon-side validation (moby validateMountConfig) ---------------- */

static int PRINTF_LIKE (3, 4) mount_config_err (berr_t *err, const char *type, const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  cleanup_free char *msg = xvasprintf (fmt, ap);
  va_end (ap);
  return berr_setk (err, BERR_INVALID, 0, "invalid mount config for type \"%s\": %s", type, msg);
}

static bool path_is_root (const char *p)
{
  cleanup_free char *c = fs_path_clean (p);
  return strcmp (c, "/") == 0;
}

/* Engine API "Mode" of TmpfsOptions and "SizeBytes": integers (jansson reals are rejected). */
static int tmpfs_numbers (const json_t *topts, int64_t *size, unsigned *mode, berr_t *err)
{
  *size = 0;
  *mode = 0;
  if (topts == NULL)
    return 0;
  json_t *sz = json_object_get (topts, "SizeBytes");
  json_t *md = json_object_get (topts, "Mode");
  if ((sz && !json_is_null (sz) && !json_is_integer (sz))
      || (md && !json_is_null (md) && !json_is_integer (md)))
    return berr_setk (err, BERR_INVALID, 0, "TmpfsOptions: SizeBytes and Mode must be integers");
  if (json_is_integer (sz))
    *size = json_integer_value (sz);
  if (json_is_integer (md))
    {
      json_int_t m = json_integer_value (md);
      if (m < 0 || m > 07777)
        return berr_setk (err, BERR_INVALID, 0, "invalid tmpfs mode: %lld", (long long)m);
      *mode = (unsigned)m;
    }
  if (*size < 0)
    return berr_setk (err, BERR_INVALID, 0, "invalid tmpfs size: %lld", (long long)*size);
  return 0;
}

char *volspec_tmpfs_data (int64_t size_bytes, unsigned mode, bool readonly)
{
  struct sbuf b;
  sbuf_init (&b);
  if (readonly)
    sbuf_adds (&b, "ro");
  if (mode != 0)
    sbuf_addf (&b, "%smode=%o", b.len ? "," : "", mode);
  if (size_bytes != 0)
    {
      /* The largest binary suffix that divides the size evenly, else plain bytes. */
      static const struct
      {
        const char *suffix;
        int64_t div;
      } units[] = { { "g", 1LL << 30 }, { "m", 1LL << 20 }, { "k", 1LL << 10 } };
      int64_t v = size_bytes;
      const char *suffix = "";
      for (size_t i = 0; i < ARRAY_SIZE (units); i++)
        if (size_bytes % units[i].div == 0)
          {
            v = size_bytes / units[i].div;
            suffix = units[i].suffix;
            break;
          }
      sbuf_addf (&b, "%ssize=%lld%s", b.len ? "," : "", (long long)v, suffix);
    }
  return b.buf ? sbuf_detach (&b) : xstrdup ("");
}

int volspec_tmpfs_options_data (const json_t *topts, bool readonly, char **data, berr_t *err)
{
  int64_t size;
  unsigned mode;
  if (tmpfs_numbers (topts, &size, &mode, err) < 0)
    return -1;
  cleanup_free char *base = volspec_tmpfs_data (size, mode, readonly);
  struct sbuf b;
  sbuf_init (&b);
  sbuf_adds (&b, base);
  json_t *list = topts ? json_object_get (topts, "Options") : NULL;
  size_t i;
  json_t *o;
  json_array_foreach (list, i, o)
  {
    /* Flags are one-element arrays; only exec/noexec may be chosen per mount. */
    const char *flag = json_is_array (o) && json_array_size (o) == 1
                           ? json_string_value (json_array_get (o, 0))
                           : NULL;
    if (flag == NULL || (strcmp (flag, "exec") != 0 && strcmp (flag, "noexec") != 0))
      {
        cleanup_free char *dump = json_dump_compact (o);
        sbuf_release (&b);
        return berr_setk (err, BERR_INVALID, 0, "invalid tmpfs option %s", dump);
      }
    sbuf_addf (&b, "%s%s", b.len ? "," : "", flag);
  }
  *data = b.buf ? sbuf_detach (&b) : xstrdup ("");
  return 0;
}

/* Flags of mount(8) options that MergeTmpfsOptions knows, with a kind: options of one kind
 * cancel each other (ro/rw, exec/noexec …; all propagation modes are one kind). */
static int flag_kind (const char *o)
{
  static const struct
  {
    const char *name;
    int kind;
  } flags[] = {
    { "ro", 1 },          { "rw", 1 },           { "suid", 2 },         { "nosuid", 2 },
    { "dev", 3 },         { "nodev", 3 },        { "exec", 4 },         { "noexec", 4 },
    { "sync", 5 },        { "async", 5 },        { "dirsync", 6 },      { "remount", 7 },
    { "mand", 8 },        { "nomand", 8 },       { "atime", 9 },        { "noatime", 9 },
    { "diratime", 10 },   { "nodiratime", 10 },  { "bind", 11 },        { "rbind", 12 },
    { "unbindable", 13 }, { "runbindable", 13 }, { "private", 13 },     { "rprivate", 13 },
    { "shared", 13 },     { "rshared", 13 },     { "slave", 13 },       { "rslave", 13 },
    { "relatime", 14 },   { "norelatime", 14 },  { "strictatime", 15 }, { "nostrictatime", 15 },
  };
  for (size_t i = 0; i < ARRAY_SIZE (flags); i++)
    if (strcmp (flags[i].name, o) == 0)
      return flags[i].kind;
  return 0;
}

int volspec_tmpfs_oci_options (const char *data, char ***options, berr_t *err)
{
  static const char *const data_keys[]
      = { "size", "mode", "uid", "gid", "nr_inodes", "nr_blocks", "mpol", NULL };
  cleanup_strv char **all = NULL;
  strv_push (&all, "noexec");
  strv_push (&all, "nosuid");
  strv_push (&all, "nodev");
  strv_push (&all, "rprivate");
  if (data && data[0])
    {
      cleanup_free char *copy = xstrdup (data);
      /* Go's strings.Split keeps empty fields: an empty one is an invalid option. */
      for (char *p = copy;;)
        {
          char *comma = strchr (p, ',');
          if (comma)
            *comma = '\0';
          strv_push (&all, p);
          if (comma == NULL)
            break;
          p = comma + 1;
        }
    }
  size_t n = strv_len (all);
  bool kinds[16] = { false };
  cleanup_strv char **keys = NULL; /* data keys already taken */
  bool *keep = xcalloc (n ? n : 1, sizeof *keep);
  /* From the end: the last option of each kind or key wins, in its place. */
  for (size_t k = n; k-- > 0;)
    {
      const char *o = all[k];
      if (strcmp (o, "defaults") == 0)
        continue;
      int kind = flag_kind (o);
      if (kind)
        {
          if (!kinds[kind])
            keep[k] = kinds[kind] = true;
          continue;
        }
      const char *eq = strchr (o, '=');
      cleanup_free char *key = eq ? xstrndup (o, (size_t)(eq - o)) : NULL;
      if (key == NULL || !in_list (data_keys, key, strlen (key)))
        {
          free (keep);
          if (eq)
            return berr_setk (err, BERR_INVALID, 0, "invalid tmpfs option [\"%s\" \"%s\"]", key,
                              eq + 1);
          return berr_setk (err, BERR_INVALID, 0, "invalid tmpfs option [\"%s\"]", o);
        }
      if (!strv_contains (keys, key))
        {
          strv_push (&keys, key);
          keep[k] = true;
        }
    }
  char **out = xcalloc (n + 1, sizeof *out);
  size_t w = 0;
  for (size_t k = 0; k < n; k++)
    if (keep[k])
      out[w++] = xstrdup (all[k]);
  free (keep);
  *options = out;
  return 0;
}

/* moby's validateMountConfigImpl. */
static int validate_mount (const json_t *m, bool check_bind_source, berr_t *err)
{
  const char *type = nz (obj_str (m, "Type"));
  const char *source = nz (obj_str (m, "Source"));
  const char *target = nz (obj_str (m, "Target"));
  bool readonly = obj_true (m, "ReadOnly");
  const json_t *bind = obj_sub (m, "BindOptions");
  const json_t *vol = obj_sub (m, "VolumeOptions");
  const json_t *tmpfs = obj_sub (m, "TmpfsOptions");
  const json_t *image = obj_sub (m, "ImageOptions");

  if (target[0] == '\0')
    return mount_config_err (err, type, "field Target must not be empty");
  if (path_is_root (target))
    return mount_config_err (err, type, "invalid specification: destination can't be '/'");
  if (target[0] != '/')
    return mount_config_err (err, type, "invalid mount path: '%s' mount path must be absolute",
                             target);
  if (strcmp (type, "bind") == 0)
    {
      if (source[0] == '\0')
        return mount_config_err (err, type, "field Source must not be empty");
      const char *prop = bind ? obj_str (bind, "Propagation") : NULL;
      if (prop && prop[0] && !in_list (propagation_modes, prop, strlen (prop)))
        return mount_config_err (err, type, "invalid propagation mode: %s", prop);
      if (vol)
        return mount_config_err (err, type, "field VolumeOptions must not be specified");
      if (image)
        return mount_config_err (err, type, "field ImageOptions must not be specified");
      if (tmpfs)
        return mount_config_err (err, type, "field TmpfsOptions must not be specified");
      if (source[0] != '/')
        return mount_config_err (err, type, "invalid mount path: '%s' mount path must be absolute",
                                 source);
      if (check_bind_source && !(bind && obj_true (bind, "CreateMountpoint")))
        {
          struct stat st;
          if (stat (source, &st) < 0)
            {
              if (errno == ENOENT || errno == ENOTDIR)
                return mount_config_err (err, type, "bind source path does not exist: %s", source);
              return mount_config_err (err, type, "stat %s: %s", source, strerror (errno));
            }
        }
    }
  else if (strcmp (type, "volume") == 0)
    {
      if (bind)
        return mount_config_err (err, type, "field BindOptions must not be specified");
      if (image)
        return mount_config_err (err, type, "field ImageOptions must not be specified");
      if (tmpfs)
        return mount_config_err (err, type, "field TmpfsOptions must not be specified");
      bool anonymous = source[0] == '\0';
      const char *sub = vol ? obj_str (vol, "Subpath") : NULL;
      if (sub && sub[0])
        {
          if (anonymous)
            return mount_config_err (err, type,
                                     "must not set Subpath when using anonymous volumes");
          cleanup_free char *c = fs_path_clean (sub);
          if (sub[0] == '/' || strcmp (c, "..") == 0 || str_has_prefix (c, "../"))
            return mount_config_err (err, type,
                                     "subpath must be a relative path within the volume");
        }
      if (readonly && anonymous)
        return mount_config_err (err, type,
                                 "must not set ReadOnly mode when using anonymous volumes");
    }
  else if (strcmp (type, "tmpfs") == 0)
    {
      if (bind)
        return mount_config_err (err, type, "field BindOptions must not be specified");
      if (vol)
        return mount_config_err (err, type, "field VolumeOptions must not be specified");
      if (image)
        return mount_config_err (err, type, "field ImageOptions must not be specified");
      if (source[0])
        return mount_config_err (err, type, "field Source must not be specified");
      cleanup_free char *data = NULL;
      berr_t e = BERR_INIT;
      if (volspec_tmpfs_options_data (tmpfs, readonly, &data, &e) < 0)
        {
          mount_config_err (err, type, "%s", e.msg);
          berr_release (&e);
          return -1;
        }
    }
  else if (strcmp (type, "image") == 0)
    return mount_config_err (err, type, "image mounts are not supported by berth");
  else
    return mount_config_err (err, type, "mount type unknown");
  return 0;
}

/* moby's parseMountSpec: a validated Mount object → mount point (takes the object). */
static int mount_point_from_spec (json_t *spec, bool check_bind_source, struct mount_point *out,
                                  berr_t *err)
{
  if (validate_mount (spec, check_bind_source, err) < 0)
    {
      json_decref (spec);
      return -1;
    }
  struct mount_point mp = { 0 };
  const char *type = obj_str (spec, "Type");
  const char *source = nz (obj_str (spec, "Source"));
  mp.type = xstrdup (type);
  mp.destination = fs_path_clean (obj_str (spec, "Target"));
  mp.rw = !obj_true (spec, "ReadOnly");
  mp.mode = xstrdup ("");
  mp.name = xstrdup ("");
  mp.driver = xstrdup ("");
  if (strcmp (type, "volume") == 0)
    {
      mp.source = xstrdup ("");
      free (mp.name);
      mp.name = xstrdup (source);
      mp.copy_data = true;
      const json_t *vol = obj_sub (spec, "VolumeOptions");
      const json_t *drv = vol ? obj_sub (vol, "DriverConfig") : NULL;
      if (drv && obj_str (drv, "Name"))
        {
          free (mp.driver);
          mp.driver = xstrdup (obj_str (drv, "Name"));
        }
      if (vol && obj_true (vol, "NoCopy"))
        mp.copy_data = false;
      mp.propagation = xstrdup ("");
    }
  else if (strcmp (type, "bind") == 0)
    {
      mp.source = fs_path_clean (source);
      const json_t *bind = obj_sub (spec, "BindOptions");
      const char *prop = bind ? obj_str (bind, "Propagation") : NULL;
      mp.propagation = xstrdup (prop && prop[0] ? prop : "rprivate");
    }
  else
    {
      mp.source = xstrdup ("");
      mp.propagation = xstrdup ("");
    }
  mp.spec = spec;
  *out = mp;
  return 0;
}

int volspec_parse_mount_obj (const json_t *mount, struct mount_point *out, berr_t *err)
{
  if (!json_is_object (mount))
    return berr_setk (err, BERR_INVALID, 0, "invalid mount: not an object");
  return mount_point_from_spec (json_deep_copy (mount), true, out, err);
}

/* ---------------- `-v SPEC` (moby ParseMountRaw, Linux) ---------------- */

static int err_invalid_spec (berr_t *err, const char *raw)
{
  return berr_setk (err, BERR_INVALID, 0, "invalid volume specification: '%s'", raw);
}

int volspec_parse_bind_driver (const char *raw, const char *driver, struct mount_point *out,
                               berr_t *err)
{
  /* At most 4 fields: four or more colons is never valid. */
  char *parts[4] = { NULL };
  size_t nparts = 0;
  cleanup_free char *copy = xstrdup (raw);
  for (char *p = copy; nparts < 4;)
    {
      parts[nparts++] = p;
      char *colon = nparts < 4 ? strchr (p, ':') : NULL;
      if (colon == NULL)
        break;
      *colon = '\0';
      p = colon + 1;
    }
  if (parts[0][0] == '\0')
    return err_invalid_spec (err, raw);
  const char *source = "", *target = "", *mode = "";
  struct mode_info mi;
  switch (nparts)
    {
    case 1:
      target = parts[0];
      break;
    case 2:
      /* "/foo:rw" is a destination with a mode but no source: not a volume spec. */
      if (parse_mode (parts[1], &mi))
        return err_invalid_spec (err, raw);
      source = parts[0];
      target = parts[1];
      break;
    case 3:
      source = parts[0];
      target = parts[1];
      mode = parts[2];
      break;
    default:
      return err_invalid_spec (err, raw);
    }
  if (!parse_mode (mode, &mi))
    return berr_setk (err, BERR_INVALID, 0, "invalid mode: %s", mode);

  bool is_bind = source[0] == '/';
  json_t *spec = json_object ();
  json_object_set_new (spec, "Type", json_string (is_bind ? "bind" : "volume"));
  if (source[0])
    json_object_set_new (spec, "Source", json_string (source));
  json_object_set_new (spec, "Target", json_string (target));
  if (mi.readonly)
    json_object_set_new (spec, "ReadOnly", json_true ());
  if (driver && driver[0] && !is_bind)
    json_object_set_new (ensure_obj (ensure_obj (spec, "VolumeOptions"), "DriverConfig"), "Name",
                         json_string (driver));
  if (mi.copy_set)
    json_object_set_new (ensure_obj (spec, "VolumeOptions"), "NoCopy", json_true ());
  if (mi.propagation)
    json_object_set_new (ensure_obj (spec, "BindOptions"), "Propagation",
                         json_string (mi.propagation));

  berr_t e = BERR_INIT;
  if (mount_point_from_spec (spec, false, out, &e) < 0)
    {
      berr_setk (err, BERR_INVALID, 0, "invalid volume specification: '%s': %s", raw, e.msg);
      berr_release (&e);
      return -1;
    }
  free (out->mode);
  out->mode = xstrdup (mode);
  return 0;
}

int volspec_parse_bind (const char *spec, struct mount_point *out, berr_t *err)
{
  return volspec_parse_bind_driver (spec, NULL, out, err);
}

/* ---------------- `--tmpfs DEST[:OPTS]` ---------------- */

int volspec_parse_tmpfs (const char *spec, char **dest, char **opts, berr_t *err)
{
  const char *colon = strchr (spec, ':');
  cleanup_free char *d = colon ? xstrndup (spec, (size_t)(colon - spec)) : xstrdup (spec);
  const char *o = colon ? colon + 1 : "";
  if (path_is_root (d))
    return berr_setk (err, BERR_INVALID, 0, "invalid specification: destination can't be '/'");
  if (d[0] != '/')
    return berr_setk (err, BERR_INVALID, 0, "invalid mount path: '%s' mount path must be absolute",
                      d);
  cleanup_strv char **check = NULL;
  if (volspec_tmpfs_oci_options (o, &check, err) < 0)
    return -1;
  *dest = steal_pointer (&d);
  *opts = xstrdup (o);
  return 0;
}

/* ---------------- `--mount CSV` (docker/cli opts.MountOpt.Set) ---------------- */

/* One CSV record as Go's encoding/csv reads it (comma separator, RFC 4180 quotes, no lazy
 * quotes). */
static int csv_fields (const char *s, char ***out, berr_t *err)
{
  cleanup_strv char **fields = xzalloc (sizeof (char *));
  const char *p = s;
  for (;;)
    {
      struct sbuf f;
      sbuf_init (&f);
      if (*p == '"')
        {
          p++;
          for (;;)
            {
              if (*p == '\0')
                {
                  sbuf_release (&f);
                  return berr_setk (err, BERR_INVALID, 0,
                                    "parse error on line 1, column %zu: extraneous or missing \" "
                                    "in quoted-field",
                                    (size_t)(p - s) + 1);
                }
              if (*p == '"')
                {
                  if (p[1] == '"')
                    {
                      sbuf_addc (&f, '"');
                      p += 2;
                      continue;
                    }
                  p++;
                  if (*p != ',' && *p != '\0')
                    {
                      sbuf_release (&f);
                      return berr_setk (err, BERR_INVALID, 0,
                                        "parse error on line 1, column %zu: extraneous or missing "
                                        "\" in quoted-field",
                                        (size_t)(p - s) + 1);
                    }
                  break;
                }
              sbuf_addc (&f, *p++);
            }
        }
      else
        {
          for (; *p && *p != ','; p++)
            {
              if (*p == '"')
                {
                  sbuf_release (&f);
                  return berr_setk (err, BERR_INVALID, 0,
                                    "parse error on line 1, column %zu: bare \" in "
                                    "non-quoted-field",
                                    (size_t)(p - s) + 1);
                }
              sbuf_addc (&f, *p);
            }
        }
      strv_push_take (&fields, f.buf ? sbuf_detach (&f) : xstrdup (""));
      if (*p == '\0')
        break;
      p++; /* the comma */
    }
  *out = steal_pointer (&fields);
  return 0;
}

static int parse_bool_value (const char *key, const char *val, bool has_value, bool *out,
                             berr_t *err)
{
  if (!has_value)
    {
      *out = true;
      return 0;
    }
  cleanup_free char *l = xstrdup (val);
  str_lower (l);
  if (strcmp (l, "true") == 0 || strcmp (l, "1") == 0)
    *out = true;
  else if (strcmp (l, "false") == 0 || strcmp (l, "0") == 0)
    *out = false;
  else
    return berr_setk (err, BERR_INVALID, 0,
                      "invalid value for '%s': invalid boolean value (\"%s\"): must be one of "
                      "\"true\", \"1\", \"false\", or \"0\" (default \"true\")",
                      key, val);
  return 0;
}

/* "k=v" into a map; an empty key leaves the map as it was (docker/cli setValueOnMap). */
static void set_value_on_map (json_t *parent, const char *mapkey, const char *kv)
{
  const char *eq = strchr (kv, '=');
  cleanup_free char *k = eq ? xstrndup (kv, (size_t)(eq - kv)) : xstrdup (kv);
  if (k[0] == '\0')
    return;
  json_object_set_new (ensure_obj (parent, mapkey), k, json_string (eq ? eq + 1 : ""));
}

static bool parse_octal_u32 (const char *s, unsigned *out)
{
  if (*s == '\0')
    return false;
  uint64_t v = 0;
  for (; *s; s++)
    {
      if (*s < '0' || *s > '7')
        return false;
      v = v * 8 + (uint64_t)(*s - '0');
      if (v > 0xffffffffULL)
        return false;
    }
  *out = (unsigned)v;
  return true;
}

/* filepath.Abs: join with the working directory and clean. */
static char *abs_path (const char *p)
{
  char cwd[4096];
  if (getcwd (cwd, sizeof cwd) == NULL)
    return xstrdup (p);
  cleanup_free char *j = xasprintf ("%s/%s", cwd, p);
  return fs_path_clean (j);
}

int volspec_parse_mount_opt (const char *csv, json_t **mount, berr_t *err)
{
  cleanup_free char *value = trim_dup (csv, strlen (csv));
  if (value[0] == '\0')
    return berr_setk (err, BERR_INVALID, 0, "value is empty");
  cleanup_strv char **fields = NULL;
  if (csv_fields (value, &fields, err) < 0)
    return -1;

  cleanup_json json_t *m = json_object ();
  cleanup_free char *type = xstrdup ("volume");
  cleanup_free char *source = NULL, *target = NULL, *consistency = NULL;
  bool readonly = false;
  for (size_t i = 0; fields[i]; i++)
    {
      const char *field = fields[i];
      const char *eq = strchr (field, '=');
      bool has_value = eq != NULL;
      cleanup_free char *key = has_value ? xstrndup (field, (size_t)(eq - field)) : xstrdup (field);
      const char *val = has_value ? eq + 1 : "";
      cleanup_free char *tk = trim_dup (key, strlen (key));
      if (strcmp (tk, key) != 0)
        return berr_setk (err, BERR_INVALID, 0,
                          "invalid option '%s' in '%s': option should not have whitespace", tk,
                          field);
      if (has_value)
        {
          cleanup_free char *tv = trim_dup (val, strlen (val));
          if (tv[0] == '\0')
            return berr_setk (err, BERR_INVALID, 0, "invalid value for '%s': value is empty", key);
          if (strcmp (tv, val) != 0)
            return berr_setk (err, BERR_INVALID, 0,
                              "invalid value for '%s' in '%s': value should not have whitespace",
                              key, field);
        }
      str_lower (key);
      bool is_bool_key = strcmp (key, "readonly") == 0 || strcmp (key, "ro") == 0
                         || strcmp (key, "volume-nocopy") == 0
                         || strcmp (key, "bind-nonrecursive") == 0
                         || strcmp (key, "bind-create-src") == 0;
      if (!has_value && !is_bool_key)
        return berr_setk (err, BERR_INVALID, 0, "invalid field '%s' must be a key=value pair",
                          field);
      bool b;
      if (strcmp (key, "type") == 0)
        {
          free (type);
          type = xstrdup (val);
          str_lower (type);
        }
      else if (strcmp (key, "source") == 0 || strcmp (key, "src") == 0)
        {
          free (source);
          /* A relative bind source ("./dir", "..") is taken from the client's working
           * directory; volume names never start with a dot. */
          source = val[0] == '.' ? abs_path (val) : xstrdup (val);
        }
      else if (strcmp (key, "target") == 0 || strcmp (key, "dst") == 0
               || strcmp (key, "destination") == 0)
        {
          free (target);
          target = xstrdup (val);
        }
      else if (strcmp (key, "readonly") == 0 || strcmp (key, "ro") == 0)
        {
          if (parse_bool_value (key, val, has_value, &readonly, err) < 0)
            return -1;
        }
      else if (strcmp (key, "consistency") == 0)
        {
          free (consistency);
          consistency = xstrdup (val);
          str_lower (consistency);
        }
      else if (strcmp (key, "bind-propagation") == 0)
        {
          cleanup_free char *l = xstrdup (val);
          str_lower (l);
          json_object_set_new (ensure_obj (m, "BindOptions"), "Propagation", json_string (l));
        }
      else if (strcmp (key, "bind-nonrecursive") == 0)
        {
          if (parse_bool_value (key, val, has_value, &b, err) < 0)
            return -1;
          json_object_set_new (ensure_obj (m, "BindOptions"), "NonRecursive", json_boolean (b));
        }
      else if (strcmp (key, "bind-recursive") == 0)
        {
          if (strcmp (val, "enabled") == 0)
            ;
          else if (strcmp (val, "disabled") == 0)
            json_object_set_new (ensure_obj (m, "BindOptions"), "NonRecursive", json_true ());
          else if (strcmp (val, "writable") == 0)
            json_object_set_new (ensure_obj (m, "BindOptions"), "ReadOnlyNonRecursive",
                                 json_true ());
          else if (strcmp (val, "readonly") == 0)
            json_object_set_new (ensure_obj (m, "BindOptions"), "ReadOnlyForceRecursive",
                                 json_true ());
          else
            return berr_setk (err, BERR_INVALID, 0,
                              "invalid value for %s: %s (must be \"enabled\", \"disabled\", "
                              "\"writable\", or \"readonly\")",
                              key, val);
        }
      else if (strcmp (key, "bind-create-src") == 0)
        {
          if (parse_bool_value (key, val, has_value, &b, err) < 0)
            return -1;
          json_object_set_new (ensure_obj (m, "BindOptions"), "CreateMountpoint", json_boolean (b));
        }
      else if (strcmp (key, "volume-subpath") == 0)
        json_object_set_new (ensure_obj (m, "VolumeOptions"), "Subpath", json_string (val));
      else if (strcmp (key, "volume-nocopy") == 0)
        {
          if (parse_bool_value (key, val, has_value, &b, err) < 0)
            return -1;
          json_object_set_new (ensure_obj (m, "VolumeOptions"), "NoCopy", json_boolean (b));
        }
      else if (strcmp (key, "volume-label") == 0)
        set_value_on_map (ensure_obj (m, "VolumeOptions"), "Labels", val);
      else if (strcmp (key, "volume-driver") == 0)
        json_object_set_new (ensure_obj (ensure_obj (m, "VolumeOptions"), "DriverConfig"), "Name",
                             json_string (val));
      else if (strcmp (key, "volume-opt") == 0)
        set_value_on_map (ensure_obj (ensure_obj (m, "VolumeOptions"), "DriverConfig"), "Options",
                          val);
      else if (strcmp (key, "image-subpath") == 0)
        json_object_set_new (ensure_obj (m, "ImageOptions"), "Subpath", json_string (val));
      else if (strcmp (key, "tmpfs-size") == 0)
        {
          int64_t sz;
          berr_t e = BERR_INIT;
          if (units_ram_in_bytes (val, &sz, &e) < 0)
            {
              berr_release (&e);
              return berr_setk (err, BERR_INVALID, 0, "invalid value for %s: %s", key, val);
            }
          json_object_set_new (ensure_obj (m, "TmpfsOptions"), "SizeBytes", json_integer (sz));
        }
      else if (strcmp (key, "tmpfs-mode") == 0)
        {
          unsigned mode;
          if (!parse_octal_u32 (val, &mode))
            return berr_setk (err, BERR_INVALID, 0, "invalid value for %s: %s", key, val);
          json_object_set_new (ensure_obj (m, "TmpfsOptions"), "Mode", json_integer (mode));
        }
      else
        return berr_setk (err, BERR_INVALID, 0, "unknown option '%s' in '%s'", key, field);
    }

  if (type[0] == '\0')
    return berr_setk (err, BERR_INVALID, 0, "type is required");
  if (target == NULL || target[0] == '\0')
    return berr_setk (err, BERR_INVALID, 0, "target is required");
  static const struct
  {
    const char *key, *prefix, *type;
  } owners[] = { { "BindOptions", "bind", "bind" },
                 { "VolumeOptions", "volume", "volume" },
                 { "ImageOptions", "image", "image" },
                 { "TmpfsOptions", "tmpfs", "tmpfs" } };
  for (size_t i = 0; i < ARRAY_SIZE (owners); i++)
    if (json_object_get (m, owners[i].key) && strcmp (type, owners[i].type) != 0)
      return berr_setk (err, BERR_INVALID, 0, "cannot mix '%s-*' options with mount type '%s'",
                        owners[i].prefix, type);
  json_t *bo = json_object_get (m, "BindOptions");
  if (bo)
    {
      if (obj_true (bo, "ReadOnlyNonRecursive") && !readonly)
        return berr_setk (err, BERR_INVALID, 0,
                          "option 'bind-recursive=writable' requires 'readonly' to be specified "
                          "in conjunction");
      if (obj_true (bo, "ReadOnlyForceRecursive"))
        {
          if (!readonly)
            return berr_setk (err, BERR_INVALID, 0,
                              "option 'bind-recursive=readonly' requires 'readonly' to be "
                              "specified in conjunction");
          if (strcmp (nz (obj_str (bo, "Propagation")), "rprivate") != 0)
            return berr_setk (err, BERR_INVALID, 0,
                              "option 'bind-recursive=readonly' requires "
                              "'bind-propagation=rprivate' to be specified in conjunction");
        }
    }

  json_t *out = json_object ();
  json_object_set_new (out, "Type", json_string (type));
  if (source && source[0])
    json_object_set_new (out, "Source", json_string (source));
  json_object_set_new (out, "Target", json_string (target));
  if (readonly)
    json_object_set_new (out, "ReadOnly", json_true ());
  if (consistency)
    json_object_set_new (out, "Consistency", json_string (consistency));
  json_object_update (out, m);
  *mount = out;
  return 0;
}
