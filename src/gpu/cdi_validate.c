/* cdi_validate.c — the CDI schema (specs-go/config.go) and its version rules
 * (specs-go/version.go): every field known, the required ones present, names in the grammar of
 * pkg/parser, paths absolute, and a cdiVersion at least as new as the features the spec uses. */
#include <string.h>

#include "gpu/cdi_internal.h"

#define V(a, b, c) ((a)*10000 + (b)*100 + (c))

struct need
{
  int version;
  char why[160];
};

static void require (struct need *n, int version, const char *fmt, const char *arg)
{
  if (version <= n->version)
    return;
  n->version = version;
  snprintf (n->why, sizeof n->why, fmt, arg ? arg : "");
}

static int bad (berr_t *err, const char *fmt, ...) PRINTF_LIKE (2, 3);
static int bad (berr_t *err, const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  char *m = xvasprintf (fmt, ap);
  va_end (ap);
  berr_setk (err, BERR_INVALID, 0, "%s", m);
  free (m);
  return -1;
}

/* The versions the reference accepts; returns the code or -1. */
static int parse_version (const char *s)
{
  static const char *const known[] = { "0.1.0", "0.2.0", "0.3.0", "0.4.0", "0.5.0",
                                       "0.6.0", "0.7.0", "0.8.0", "1.0.0", "1.1.0" };
  if (s[0] == 'v')
    s++;
  for (size_t i = 0; i < sizeof known / sizeof *known; i++)
    if (strcmp (s, known[i]) == 0)
      return V (known[i][0] - '0', known[i][2] - '0', known[i][4] - '0');
  return -1;
}

/* "ctx.key" for nested messages; a context too long to matter is cut. */
static void subctx (char *buf, size_t n, const char *ctx, const char *key)
{
  if (snprintf (buf, n, "%s.%s", ctx, key) >= (int)n)
    buf[n - 1] = '\0';
}

static bool is_letter (char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
static bool is_alnum (char c) { return is_letter (c) || (c >= '0' && c <= '9'); }

/* Vendor and class: a letter first, a letter or digit last, [A-Za-z0-9_.-] between. */
static bool valid_qualifier_part (const char *s, size_t n)
{
  if (n == 0 || !is_letter (s[0]) || !is_alnum (s[n - 1]))
    return false;
  for (size_t i = 1; i + 1 < n; i++)
    if (!is_alnum (s[i]) && s[i] != '_' && s[i] != '.' && s[i] != '-')
      return false;
  return true;
}

/* Device name: a letter or digit first and last, [A-Za-z0-9_.:-] between (MIG names "0:1"). */
static bool valid_device_name (const char *s, size_t n)
{
  if (n == 0 || !is_alnum (s[0]) || !is_alnum (s[n - 1]))
    return false;
  for (size_t i = 1; i + 1 < n; i++)
    if (!is_alnum (s[i]) && s[i] != '_' && s[i] != '.' && s[i] != ':' && s[i] != '-')
      return false;
  return true;
}

static bool valid_kind (const char *kind)
{
  const char *slash = strchr (kind, '/');
  return slash && valid_qualifier_part (kind, (size_t)(slash - kind))
         && valid_qualifier_part (slash + 1, strlen (slash + 1));
}

bool cdi_is_qualified_name (const char *s)
{
  if (s == NULL || s[0] == '/')
    return false;
  const char *eq = strchr (s, '=');
  if (eq == NULL)
    return false;
  const char *slash = memchr (s, '/', (size_t)(eq - s));
  return slash && valid_qualifier_part (s, (size_t)(slash - s))
         && valid_qualifier_part (slash + 1, (size_t)(eq - slash - 1))
         && valid_device_name (eq + 1, strlen (eq + 1));
}

static int check_fields (const json_t *obj, const char *ctx, const char *const *allowed,
                         berr_t *err)
{
  if (!json_is_object (obj))
    return bad (err, "%s: must be an object", ctx);
  const char *k;
  json_t *v;
  json_object_foreach ((json_t *)obj, k, v)
  {
    size_t i = 0;
    while (allowed[i] && strcmp (allowed[i], k) != 0)
      i++;
    if (allowed[i] == NULL)
      return bad (err, "%s: unknown field \"%s\"", ctx, k);
  }
  return 0;
}

/* A member that must be a string when present (required: must be present and non-empty). */
static int get_string (const json_t *obj, const char *key, const char *ctx, bool required,
                       const char **out, berr_t *err)
{
  json_t *v = json_object_get (obj, key);
  *out = NULL;
  if (v == NULL || json_is_null (v))
    {
      if (required)
        return bad (err, "%s: missing required field \"%s\"", ctx, key);
      return 0;
    }
  if (!json_is_string (v))
    return bad (err, "%s.%s: must be a string", ctx, key);
  *out = json_string_value (v);
  if (required && **out == '\0')
    return bad (err, "%s: field \"%s\" is empty", ctx, key);
  return 0;
}

static int check_strings (const json_t *arr, const char *ctx, bool env, berr_t *err)
{
  if (arr == NULL || json_is_null (arr))
    return 0;
  if (!json_is_array (arr))
    return bad (err, "%s: must be an array of strings", ctx);
  size_t i;
  json_t *v;
  json_array_foreach (arr, i, v)
  {
    if (!json_is_string (v))
      return bad (err, "%s[%zu]: must be a string", ctx, i);
    if (env)
      {
        const char *s = json_string_value (v);
        const char *eq = strchr (s, '=');
        if (eq == NULL || eq == s)
          return bad (err, "%s[%zu]: invalid environment variable \"%s\" (want KEY=VALUE)", ctx, i,
                      s);
      }
  }
  return 0;
}

static int check_annotations (const json_t *a, const char *ctx, struct need *need, berr_t *err)
{
  if (a == NULL || json_is_null (a))
    return 0;
  if (!json_is_object (a))
    return bad (err, "%s.annotations: must be an object of strings", ctx);
  const char *k;
  json_t *v;
  json_object_foreach ((json_t *)a, k, v)
  {
    if (!json_is_string (v))
      return bad (err, "%s.annotations.%s: must be a string", ctx, k);
  }
  if (json_object_size (a) > 0)
    require (need, V (0, 6, 0), "annotations%s", NULL);
  return 0;
}

static int check_uint (const json_t *obj, const char *key, const char *ctx, json_int_t max,
                       bool *present, berr_t *err)
{
  json_t *v = json_object_get (obj, key);
  if (present)
    *present = v && !json_is_null (v);
  if (v == NULL || json_is_null (v))
    return 0;
  if (!json_is_integer (v) || json_integer_value (v) < 0 || json_integer_value (v) > max)
    return bad (err, "%s.%s: must be an integer from 0 to %lld", ctx, key, (long long)max);
  return 0;
}

static int check_device_node (const json_t *d, const char *ctx, struct need *need, berr_t *err)
{
  static const char *const fields[] = { "path",     "hostPath",    "type", "major", "minor",
                                        "fileMode", "permissions", "uid",  "gid",   NULL };
  const char *path, *host, *type, *perm;
  if (check_fields (d, ctx, fields, err) < 0 || get_string (d, "path", ctx, true, &path, err) < 0
      || get_string (d, "hostPath", ctx, false, &host, err) < 0
      || get_string (d, "type", ctx, false, &type, err) < 0
      || get_string (d, "permissions", ctx, false, &perm, err) < 0)
    return -1;
  if (path[0] != '/')
    return bad (err, "%s.path: \"%s\" is not an absolute path", ctx, path);
  if (host)
    {
      if (host[0] != '/')
        return bad (err, "%s.hostPath: \"%s\" is not an absolute path", ctx, host);
      require (need, V (0, 5, 0), "device node hostPath%s", NULL);
    }
  if (type && *type
      && (strlen (type) != 1
          || (type[0] != 'c' && type[0] != 'b' && type[0] != 'u' && type[0] != 'p')))
    return bad (err, "%s.type: invalid device type \"%s\" (want b, c, u or p)", ctx, type);
  if (perm && strcmp (perm, "none") != 0)
    for (const char *p = perm; *p; p++)
      if (*p != 'r' && *p != 'w' && *p != 'm')
        return bad (err, "%s.permissions: invalid device permissions \"%s\" (want r, w, m)", ctx,
                    perm);
  bool has_mode;
  if (check_uint (d, "major", ctx, UINT32_MAX, NULL, err) < 0
      || check_uint (d, "minor", ctx, UINT32_MAX, NULL, err) < 0
      || check_uint (d, "fileMode", ctx, 07777, &has_mode, err) < 0
      || check_uint (d, "uid", ctx, UINT32_MAX - 1, NULL, err) < 0
      || check_uint (d, "gid", ctx, UINT32_MAX - 1, NULL, err) < 0)
    return -1;
  return 0;
}

static int check_mount (const json_t *m, const char *ctx, struct need *need, berr_t *err)
{
  static const char *const fields[] = { "hostPath", "containerPath", "options", "type", NULL };
  const char *host, *cpath, *type;
  if (check_fields (m, ctx, fields, err) < 0
      || get_string (m, "hostPath", ctx, true, &host, err) < 0
      || get_string (m, "containerPath", ctx, true, &cpath, err) < 0
      || get_string (m, "type", ctx, false, &type, err) < 0)
    return -1;
  if (cpath[0] != '/')
    return bad (err, "%s.containerPath: \"%s\" is not an absolute path", ctx, cpath);
  bool bind
      = type == NULL || *type == '\0' || strcmp (type, "bind") == 0 || strcmp (type, "rbind") == 0;
  if (bind && host[0] != '/')
    return bad (err, "%s.hostPath: \"%s\" is not an absolute path", ctx, host);
  if (type && *type)
    require (need, V (0, 4, 0), "mount type%s", NULL);
  char octx[256];
  subctx (octx, sizeof octx, ctx, "options");
  return check_strings (json_object_get (m, "options"), octx, false, err);
}

static const char *const hook_names[]
    = { "prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop",
        NULL };

bool cdi_hook_name_valid (const char *name)
{
  for (size_t i = 0; hook_names[i]; i++)
    if (strcmp (hook_names[i], name) == 0)
      return true;
  return false;
}

static int check_hook (const json_t *h, const char *ctx, berr_t *err)
{
  static const char *const fields[] = { "hookName", "path", "args", "env", "timeout", NULL };
  const char *name, *path;
  if (check_fields (h, ctx, fields, err) < 0
      || get_string (h, "hookName", ctx, true, &name, err) < 0
      || get_string (h, "path", ctx, true, &path, err) < 0)
    return -1;
  if (!cdi_hook_name_valid (name))
    return bad (err, "%s.hookName: invalid hook name \"%s\"", ctx, name);
  if (path[0] != '/')
    return bad (err, "%s.path: \"%s\" is not an absolute path", ctx, path);
  char sctx[256];
  subctx (sctx, sizeof sctx, ctx, "args");
  if (check_strings (json_object_get (h, "args"), sctx, false, err) < 0)
    return -1;
  subctx (sctx, sizeof sctx, ctx, "env");
  if (check_strings (json_object_get (h, "env"), sctx, true, err) < 0)
    return -1;
  json_t *t = json_object_get (h, "timeout");
  if (t && !json_is_null (t)
      && (!json_is_integer (t) || json_integer_value (t) <= 0
          || json_integer_value (t) > INT32_MAX))
    return bad (err, "%s.timeout: must be a positive number of seconds", ctx);
  return 0;
}

static int check_intel_rdt (const json_t *r, const char *ctx, berr_t *err)
{
  static const char *const fields[]
      = { "closID", "l3CacheSchema", "memBwSchema", "schemata", "enableMonitoring", NULL };
  const char *s;
  if (check_fields (r, ctx, fields, err) < 0 || get_string (r, "closID", ctx, false, &s, err) < 0
      || get_string (r, "l3CacheSchema", ctx, false, &s, err) < 0
      || get_string (r, "memBwSchema", ctx, false, &s, err) < 0)
    return -1;
  char sctx[256];
  subctx (sctx, sizeof sctx, ctx, "schemata");
  if (check_strings (json_object_get (r, "schemata"), sctx, false, err) < 0)
    return -1;
  json_t *m = json_object_get (r, "enableMonitoring");
  if (m && !json_is_null (m) && !json_is_boolean (m))
    return bad (err, "%s.enableMonitoring: must be a boolean", ctx);
  return 0;
}

/* Each element of an array member, checked by fn with the context "ctx.key[i]". */
#define EACH(obj, key, ctx, ...)                                                                   \
  do                                                                                               \
    {                                                                                              \
      json_t *arr_ = json_object_get ((obj), (key));                                               \
      if (arr_ && !json_is_null (arr_) && !json_is_array (arr_))                                   \
        return bad (err, "%s.%s: must be an array", (ctx), (key));                                 \
      size_t i_;                                                                                   \
      json_t *el;                                                                                  \
      json_array_foreach (arr_, i_, el)                                                            \
      {                                                                                            \
        char ectx[256];                                                                            \
        if (snprintf (ectx, sizeof ectx, "%s.%s[%zu]", (ctx), (key), i_) >= (int)sizeof ectx)      \
          ectx[sizeof ectx - 1] = '\0';                                                            \
        __VA_ARGS__;                                                                               \
      }                                                                                            \
    }                                                                                              \
  while (0)

static int check_edits (const json_t *e, const char *ctx, struct need *need, berr_t *err)
{
  static const char *const fields[] = { "env",      "deviceNodes",    "mounts",     "hooks",
                                        "intelRdt", "additionalGids", "netDevices", NULL };
  if (check_fields (e, ctx, fields, err) < 0)
    return -1;
  char sctx[256];
  subctx (sctx, sizeof sctx, ctx, "env");
  if (check_strings (json_object_get (e, "env"), sctx, true, err) < 0)
    return -1;
  EACH (e, "deviceNodes", ctx, if (check_device_node (el, ectx, need, err) < 0) return -1);
  EACH (e, "mounts", ctx, if (check_mount (el, ectx, need, err) < 0) return -1);
  EACH (e, "hooks", ctx, if (check_hook (el, ectx, err) < 0) return -1);
  EACH (e, "additionalGids", ctx, {
    if (!json_is_integer (el) || json_integer_value (el) < 0
        || json_integer_value (el) > UINT32_MAX - 1)
      return bad (err, "%s: must be a group id", ectx);
    require (need, V (0, 7, 0), "additionalGids%s", NULL);
  });
  json_t *rdt = json_object_get (e, "intelRdt");
  if (rdt && !json_is_null (rdt))
    {
      subctx (sctx, sizeof sctx, ctx, "intelRdt");
      if (check_intel_rdt (rdt, sctx, err) < 0)
        return -1;
      require (need, V (0, 7, 0), "intelRdt%s", NULL);
    }
  EACH (e, "netDevices", ctx, {
    static const char *const nfields[] = { "hostInterfaceName", "name", NULL };
    const char *s;
    if (check_fields (el, ectx, nfields, err) < 0
        || get_string (el, "hostInterfaceName", ectx, true, &s, err) < 0
        || get_string (el, "name", ectx, true, &s, err) < 0)
      return -1;
    require (need, V (1, 1, 0), "netDevices%s", NULL);
  });
  return 0;
}

static bool edits_empty (const json_t *e)
{
  const char *k;
  json_t *v;
  json_object_foreach ((json_t *)e, k, v)
  {
    if ((json_is_array (v) && json_array_size (v) > 0) || json_is_object (v))
      return false;
  }
  return true;
}

int cdi_spec_validate (const json_t *spec, berr_t *err)
{
  static const char *const fields[]
      = { "cdiVersion", "kind", "annotations", "devices", "containerEdits", NULL };
  const char *version, *kind;
  if (check_fields (spec, "spec", fields, err) < 0
      || get_string (spec, "cdiVersion", "spec", true, &version, err) < 0
      || get_string (spec, "kind", "spec", true, &kind, err) < 0)
    return -1;
  int ver = parse_version (version);
  if (ver < 0)
    return bad (err, "spec: unsupported cdiVersion \"%s\"", version);
  if (!valid_kind (kind))
    return bad (err, "spec: invalid kind \"%s\" (want vendor/class)", kind);
  struct need need = { V (0, 1, 0), "" };
  if (strchr (strchr (kind, '/') + 1, '.'))
    require (&need, V (0, 6, 0), "a dot in the class of kind \"%s\"", kind);
  if (check_annotations (json_object_get (spec, "annotations"), "spec", &need, err) < 0)
    return -1;
  json_t *ce = json_object_get (spec, "containerEdits");
  if (ce && !json_is_null (ce) && check_edits (ce, "spec.containerEdits", &need, err) < 0)
    return -1;
  json_t *devs = json_object_get (spec, "devices");
  if (devs == NULL || json_is_null (devs))
    return bad (err, "spec: missing required field \"devices\"");
  if (!json_is_array (devs))
    return bad (err, "spec.devices: must be an array");
  if (json_array_size (devs) == 0)
    return bad (err, "spec: no devices");
  size_t i;
  json_t *d;
  json_array_foreach (devs, i, d)
  {
    static const char *const dfields[] = { "name", "annotations", "containerEdits", NULL };
    char ctx[64];
    snprintf (ctx, sizeof ctx, "spec.devices[%zu]", i);
    const char *name;
    if (check_fields (d, ctx, dfields, err) < 0
        || get_string (d, "name", ctx, true, &name, err) < 0)
      return -1;
    if (!valid_device_name (name, strlen (name)))
      return bad (err, "%s: invalid device name \"%s\"", ctx, name);
    if (name[0] >= '0' && name[0] <= '9')
      require (&need, V (0, 5, 0), "device name \"%s\" starting with a digit", name);
    for (size_t j = 0; j < i; j++)
      if (strcmp (json_string_value (json_object_get (json_array_get (devs, j), "name")), name)
          == 0)
        return bad (err, "spec: device \"%s\" defined twice", name);
    if (check_annotations (json_object_get (d, "annotations"), ctx, &need, err) < 0)
      return -1;
    json_t *de = json_object_get (d, "containerEdits");
    char ectx[96];
    subctx (ectx, sizeof ectx, ctx, "containerEdits");
    if (de == NULL || json_is_null (de))
      return bad (err, "%s: missing required field \"containerEdits\"", ctx);
    if (check_edits (de, ectx, &need, err) < 0)
      return -1;
    if (edits_empty (de))
      return bad (err, "%s: device \"%s\" has no container edits", ctx, name);
  }
  if (ver < need.version)
    return bad (err, "spec: cdiVersion %s is too low: %s needs at least v%d.%d.%d", version,
                need.why, need.version / 10000, need.version / 100 % 100, need.version % 100);
  return 0;
}
