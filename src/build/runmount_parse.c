/* runmount_parse.c — the text forms: RUN --mount values (BuildKit's Dockerfile frontend,
 * instructions.parseMount + the dispatcher's defaults) and `build --secret` values (buildx
 * parseSecret plus the secrets provider's id-only lookup). Error texts follow upstream. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "build/runmount.h"
#include "util/fs.h"
#include "util/units.h"

void run_mount_clear (struct run_mount *m)
{
  if (m == NULL)
    return;
  free (m->target);
  free (m->source);
  free (m->from);
  free (m->id);
  free (m->sharing);
  free (m->env);
  memset (m, 0, sizeof *m);
}

void build_secrets_free (struct build_secret *v, size_t n)
{
  if (v == NULL)
    return;
  for (size_t i = 0; i < n; i++)
    {
      free (v[i].id);
      free (v[i].src);
      free (v[i].env);
    }
  free (v);
}

/* The first record as Go's encoding/csv Reader reads it (comma separator, RFC 4180 quoting,
 * LazyQuotes off, leading spaces kept). Errors carry Go's text. */
static int csv_record (const char *s, char ***out, berr_t *err)
{
  char **fields = xzalloc (sizeof (char *));
  const char *p = s;
  if (*p == '\0' || *p == '\n' || (p[0] == '\r' && p[1] == '\n'))
    {
      strv_free (fields);
      return berr_setk (err, BERR_INVALID, 0, "EOF");
    }
  for (;;)
    {
      struct sbuf f;
      sbuf_init (&f);
      if (*p == '"')
        {
          const char *q = p + 1;
          for (;;)
            {
              if (*q == '\0')
                {
                  sbuf_release (&f);
                  strv_free (fields);
                  return berr_setk (err, BERR_INVALID, 0,
                                    "parse error on line 1, column %zu: extraneous or missing \" "
                                    "in quoted-field",
                                    (size_t)(q - s) + 1);
                }
              if (*q == '"')
                {
                  if (q[1] == '"')
                    {
                      sbuf_addc (&f, '"');
                      q += 2;
                      continue;
                    }
                  if (q[1] == ',' || q[1] == '\0' || q[1] == '\n' || (q[1] == '\r' && q[2] == '\n'))
                    {
                      q++;
                      break;
                    }
                  sbuf_release (&f);
                  strv_free (fields);
                  return berr_setk (err, BERR_INVALID, 0,
                                    "parse error on line 1, column %zu: extraneous or missing \" "
                                    "in quoted-field",
                                    (size_t)(q - s) + 2);
                }
              sbuf_addc (&f, *q++);
            }
          p = q;
        }
      else
        {
          const char *q = p;
          while (*q && *q != ',' && *q != '\n' && !(q[0] == '\r' && q[1] == '\n'))
            {
              if (*q == '"')
                {
                  sbuf_release (&f);
                  strv_free (fields);
                  return berr_setk (err, BERR_INVALID, 0,
                                    "parse error on line 1, column %zu: bare \" in "
                                    "non-quoted-field",
                                    (size_t)(q - s) + 1);
                }
              q++;
            }
          sbuf_add (&f, p, (size_t)(q - p));
          p = q;
        }
      strv_push_take (&fields, f.buf ? sbuf_detach (&f) : xstrdup (""));
      if (*p != ',')
        break;
      p++;
    }
  *out = fields;
  return 0;
}

/* strconv.ParseBool */
static int parse_bool (const char *s, bool *out)
{
  static const char *const t[] = { "1", "t", "T", "TRUE", "true", "True" };
  static const char *const f[] = { "0", "f", "F", "FALSE", "false", "False" };
  for (size_t i = 0; i < ARRAY_SIZE (t); i++)
    {
      if (strcmp (s, t[i]) == 0)
        return *out = true, 0;
      if (strcmp (s, f[i]) == 0)
        return *out = false, 0;
    }
  return -1;
}

/* strconv.ParseUint(s, base, 32) */
static int parse_u32 (const char *s, int base, int64_t *out)
{
  if (s[0] == '\0' || s[0] == '+' || s[0] == '-' || s[0] == ' ')
    return -1;
  errno = 0;
  char *end = NULL;
  unsigned long long v = strtoull (s, &end, base);
  if (errno || *end || v > 0xffffffffULL)
    return -1;
  *out = (int64_t)v;
  return 0;
}

static void str_lower (char *s)
{
  for (; *s; s++)
    if (*s >= 'A' && *s <= 'Z')
      *s = (char)(*s - 'A' + 'a');
}

static const char *type_name (enum run_mount_type t)
{
  static const char *const names[] = { "bind", "cache", "tmpfs", "secret" };
  return names[t];
}

static void set_str (char **dst, const char *v)
{
  free (*dst);
  *dst = xstrdup (v);
}

static char *path_base (const char *p)
{
  cleanup_free char *c = fs_path_clean (p);
  const char *slash = strrchr (c, '/');
  if (slash && slash[1])
    return xstrdup (slash + 1);
  return xstrdup (slash ? "/" : c);
}

/* One key=value field (or a bare flag) into m. */
static int parse_field (const char *field, struct run_mount *m, bool *ro_auto, bool *has_mode,
                        bool *has_uid, bool *has_gid, berr_t *err)
{
  const char *eq = strchr (field, '=');
  cleanup_free char *key = eq ? xstrndup (field, (size_t)(eq - field)) : xstrdup (field);
  str_lower (key);
  const char *value = eq ? eq + 1 : NULL;

  if (value == NULL)
    {
      if (strcmp (key, "readonly") == 0 || strcmp (key, "ro") == 0)
        m->readonly = true;
      else if (strcmp (key, "readwrite") == 0 || strcmp (key, "rw") == 0)
        m->readonly = false;
      else if (strcmp (key, "required") == 0)
        {
          if (m->type != RUN_MOUNT_SECRET)
            return berr_setk (err, BERR_INVALID, 0, "unexpected key '%s' for mount type '%s'", key,
                              type_name (m->type));
          m->required = true;
          return 0;
        }
      else
        return berr_setk (err, BERR_INVALID, 0, "invalid field '%s' must be a key=value pair",
                          field);
      *ro_auto = false;
      return 0;
    }

  bool b;
  if (strcmp (key, "type") == 0)
    {
      cleanup_free char *t = xstrdup (value);
      str_lower (t);
      if (strcmp (t, "bind") == 0)
        m->type = RUN_MOUNT_BIND;
      else if (strcmp (t, "cache") == 0)
        m->type = RUN_MOUNT_CACHE;
      else if (strcmp (t, "tmpfs") == 0)
        m->type = RUN_MOUNT_TMPFS;
      else if (strcmp (t, "secret") == 0)
        m->type = RUN_MOUNT_SECRET;
      else if (strcmp (t, "ssh") == 0)
        return berr_setk (err, BERR_INVALID, 0, "mount type \"ssh\" is not supported by berth");
      else
        return berr_setk (err, BERR_INVALID, 0, "unsupported mount type \"%s\"", value);
    }
  else if (strcmp (key, "from") == 0)
    set_str (&m->from, value);
  else if (strcmp (key, "source") == 0 || strcmp (key, "src") == 0)
    set_str (&m->source, value);
  else if (strcmp (key, "target") == 0 || strcmp (key, "dst") == 0
           || strcmp (key, "destination") == 0)
    set_str (&m->target, value);
  else if (strcmp (key, "readonly") == 0 || strcmp (key, "ro") == 0)
    {
      if (parse_bool (value, &b) < 0)
        return berr_setk (err, BERR_INVALID, 0, "invalid value for %s: %s", key, value);
      m->readonly = b;
      *ro_auto = false;
    }
  else if (strcmp (key, "readwrite") == 0 || strcmp (key, "rw") == 0)
    {
      if (parse_bool (value, &b) < 0)
        return berr_setk (err, BERR_INVALID, 0, "invalid value for %s: %s", key, value);
      m->readonly = !b;
      *ro_auto = false;
    }
  else if (strcmp (key, "required") == 0)
    {
      if (m->type != RUN_MOUNT_SECRET)
        return berr_setk (err, BERR_INVALID, 0, "unexpected key '%s' for mount type '%s'", key,
                          type_name (m->type));
      if (parse_bool (value, &b) < 0)
        return berr_setk (err, BERR_INVALID, 0, "invalid value for %s: %s", key, value);
      m->required = b;
    }
  else if (strcmp (key, "size") == 0)
    {
      if (m->type != RUN_MOUNT_TMPFS)
        return berr_setk (err, BERR_INVALID, 0, "unexpected key '%s' for mount type '%s'", key,
                          type_name (m->type));
      berr_t e = BERR_INIT;
      if (units_ram_in_bytes (value, &m->size, &e) < 0)
        {
          berr_release (&e);
          return berr_setk (err, BERR_INVALID, 0, "invalid value for %s: %s", key, value);
        }
    }
  else if (strcmp (key, "id") == 0)
    set_str (&m->id, value);
  else if (strcmp (key, "sharing") == 0)
    {
      cleanup_free char *s = xstrdup (value);
      str_lower (s);
      if (strcmp (s, "shared") != 0 && strcmp (s, "private") != 0 && strcmp (s, "locked") != 0)
        return berr_setk (err, BERR_INVALID, 0, "unsupported sharing value \"%s\"", value);
      set_str (&m->sharing, s);
    }
  else if (strcmp (key, "mode") == 0)
    {
      int64_t v;
      if (parse_u32 (value, 8, &v) < 0)
        return berr_setk (err, BERR_INVALID, 0, "invalid value %s for mode", value);
      m->mode = (int)v;
      *has_mode = true;
    }
  else if (strcmp (key, "uid") == 0 || strcmp (key, "gid") == 0)
    {
      int64_t v;
      if (parse_u32 (value, 10, &v) < 0)
        return berr_setk (err, BERR_INVALID, 0, "invalid value %s for %s", value, key);
      if (key[0] == 'u')
        m->uid = v, *has_uid = true;
      else
        m->gid = v, *has_gid = true;
    }
  else if (strcmp (key, "env") == 0)
    {
      if (m->type != RUN_MOUNT_SECRET)
        return berr_setk (err, BERR_INVALID, 0, "unexpected key '%s' for mount type '%s'", key,
                          type_name (m->type));
      set_str (&m->env, value);
    }
  else
    return berr_setk (err, BERR_INVALID, 0, "unexpected key '%s' in '%s'", key, field);
  return 0;
}

/* BuildKit's validateMount. */
static int validate (struct run_mount *m, bool ro_auto, bool has_mode, bool has_uid, bool has_gid,
                     berr_t *err)
{
  bool file_info = m->type == RUN_MOUNT_SECRET || m->type == RUN_MOUNT_CACHE;
  if (!file_info && has_mode)
    return berr_setk (err, BERR_INVALID, 0, "mode not allowed for \"%s\" type mounts",
                      type_name (m->type));
  if (!file_info && has_uid)
    return berr_setk (err, BERR_INVALID, 0, "uid not allowed for \"%s\" type mounts",
                      type_name (m->type));
  if (!file_info && has_gid)
    return berr_setk (err, BERR_INVALID, 0, "gid not allowed for \"%s\" type mounts",
                      type_name (m->type));
  if (ro_auto)
    m->readonly = !(m->type == RUN_MOUNT_CACHE || m->type == RUN_MOUNT_TMPFS);
  if (m->type == RUN_MOUNT_SECRET)
    {
      if (m->from)
        return berr_setk (err, BERR_INVALID, 0, "secret mount should not have a from");
      if (m->sharing)
        return berr_setk (err, BERR_INVALID, 0, "secret mount should not define sharing");
      if (!m->source && !m->target && !m->id)
        return berr_setk (err, BERR_INVALID, 0,
                          "invalid secret mount. one of source, target required");
      if (m->source && m->id)
        return berr_setk (err, BERR_INVALID, 0, "both source and id can't be set");
    }
  if (m->sharing && m->type != RUN_MOUNT_CACHE)
    return berr_setk (err, BERR_INVALID, 0, "invalid cache sharing set for %s mount",
                      type_name (m->type));
  return 0;
}

/* The dispatcher's part: absolute targets, the cache id, the secret's id and target. */
static int apply_defaults (struct run_mount *m, const char *workdir, berr_t *err)
{
  if (m->type == RUN_MOUNT_SECRET)
    {
      if (m->source)
        {
          /* "source" names the secret, as id does. */
          m->id = steal_pointer (&m->source);
        }
      if (m->id == NULL)
        m->id = path_base (m->target);
      if (m->target == NULL)
        {
          /* env= alone exposes the secret only as a variable. */
          if (m->env)
            goto modes;
          cleanup_free char *base = path_base (m->id);
          m->target = xasprintf ("/run/secrets/%s", base);
        }
    }
  if (m->type == RUN_MOUNT_CACHE && m->id == NULL)
    m->id = fs_path_clean (m->target ? m->target : "");
  {
    const char *t = m->target ? m->target : "";
    cleanup_free char *joined
        = t[0] == '/' ? xstrdup (t) : xasprintf ("/%s/%s", workdir ? workdir : "", t);
    char *clean = fs_path_clean (joined);
    if (strcmp (clean, "/") == 0)
      {
        free (clean);
        return berr_setk (err, BERR_INVALID, 0, "invalid mount target \"/\"");
      }
    free (m->target);
    m->target = clean;
  }
modes:
  if (m->type == RUN_MOUNT_CACHE && m->sharing == NULL)
    m->sharing = xstrdup ("shared");
  if (m->type == RUN_MOUNT_CACHE && m->mode < 0)
    m->mode = 0755;
  if (m->type == RUN_MOUNT_SECRET && m->mode < 0)
    m->mode = 0400;
  if ((m->type == RUN_MOUNT_CACHE || m->type == RUN_MOUNT_SECRET) && m->uid < 0)
    m->uid = 0;
  if ((m->type == RUN_MOUNT_CACHE || m->type == RUN_MOUNT_SECRET) && m->gid < 0)
    m->gid = 0;
  return 0;
}

int run_mount_parse (const char *value, const char *workdir, struct run_mount *out, berr_t *err)
{
  cleanup_strv char **fields = NULL;
  if (csv_record (value, &fields, err) < 0)
    return berr_wrap (err, "failed to parse csv mounts");
  struct run_mount m = { .type = RUN_MOUNT_BIND, .mode = -1, .uid = -1, .gid = -1 };
  bool ro_auto = true, has_mode = false, has_uid = false, has_gid = false;
  for (size_t i = 0; fields[i]; i++)
    if (parse_field (fields[i], &m, &ro_auto, &has_mode, &has_uid, &has_gid, err) < 0)
      {
        run_mount_clear (&m);
        return -1;
      }
  if (validate (&m, ro_auto, has_mode, has_uid, has_gid, err) < 0
      || apply_defaults (&m, workdir, err) < 0)
    {
      run_mount_clear (&m);
      return -1;
    }
  *out = m;
  return 0;
}

int build_secret_parse (const char *value, struct build_secret *out, berr_t *err)
{
  cleanup_strv char **fields = NULL;
  if (csv_record (value, &fields, err) < 0)
    return berr_wrap (err, "failed to parse csv secret");
  struct build_secret s = { 0 };
  cleanup_free char *type = NULL;
  int rc = 0;
  for (size_t i = 0; fields[i] && rc == 0; i++)
    {
      const char *eq = strchr (fields[i], '=');
      if (eq == NULL)
        {
          rc = berr_setk (err, BERR_INVALID, 0, "invalid field '%s' must be a key=value pair",
                          fields[i]);
          break;
        }
      cleanup_free char *key = xstrndup (fields[i], (size_t)(eq - fields[i]));
      str_lower (key);
      const char *v = eq + 1;
      if (strcmp (key, "type") == 0)
        {
          if (strcmp (v, "file") != 0 && strcmp (v, "env") != 0)
            rc = berr_setk (err, BERR_INVALID, 0, "unsupported secret type \"%s\"", v);
          else
            set_str (&type, v);
        }
      else if (strcmp (key, "id") == 0)
        set_str (&s.id, v);
      else if (strcmp (key, "source") == 0 || strcmp (key, "src") == 0)
        set_str (&s.src, v);
      else if (strcmp (key, "env") == 0)
        set_str (&s.env, v);
      else
        rc = berr_setk (err, BERR_INVALID, 0, "unexpected key '%s' in '%s'", key, fields[i]);
    }
  if (rc == 0 && type && strcmp (type, "env") == 0 && s.env == NULL)
    {
      s.env = s.src;
      s.src = NULL;
    }
  if (rc == 0 && s.id == NULL)
    {
      /* The provider names an unnamed secret after its file or variable. */
      if (s.src)
        s.id = path_base (s.src);
      else if (s.env)
        s.id = xstrdup (s.env);
      else
        rc = berr_setk (err, BERR_INVALID, 0, "secret ID missing");
    }
  if (rc == 0 && s.src == NULL && s.env == NULL)
    {
      /* "id=x" alone: the variable x when the build's environment has it, else the file x. */
      if (type && strcmp (type, "file") == 0)
        s.src = xstrdup (s.id);
      else if ((type && strcmp (type, "env") == 0) || getenv (s.id) != NULL)
        s.env = xstrdup (s.id);
      else
        s.src = xstrdup (s.id);
    }
  if (rc < 0)
    {
      free (s.id);
      free (s.src);
      free (s.env);
      return -1;
    }
  *out = s;
  return 0;
}
