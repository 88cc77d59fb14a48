/* volume.c — named volumes: Docker's local driver rules over the store's volume rows. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "util/json.h"
#include "volume/volume.h"

void volume_rec_free (struct volume_rec *v)
{
  if (v == NULL)
    return;
  free (v->name);
  free (v->driver);
  free (v->mountpoint);
  if (v->labels)
    json_decref (v->labels);
  if (v->options)
    json_decref (v->options);
  free (v);
}

static struct volume_rec *rec_from_row (struct store *s, struct volume_row *r)
{
  struct volume_rec *v = xzalloc (sizeof *v);
  v->name = steal_pointer (&r->name);
  v->driver = steal_pointer (&r->driver);
  v->created_ns = r->created_ns;
  v->labels = steal_pointer (&r->labels);
  v->options = steal_pointer (&r->options);
  v->anonymous = r->anonymous;
  cleanup_free char *dir = store_volume_dir (s, v->name);
  v->mountpoint = xasprintf ("%s/_data", dir);
  volume_row_free (r);
  return v;
}

int volume_validate_name (const char *name, berr_t *err)
{
  size_t n = strlen (name);
  if (n == 1)
    return berr_setk (err, BERR_INVALID, 0,
                      "create %s: volume name is too short, names should be at least two "
                      "alphanumeric characters",
                      name);
  bool ok = n >= 2;
  for (size_t i = 0; ok && i < n; i++)
    {
      char c = name[i];
      bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
      ok = alnum || (i > 0 && (c == '_' || c == '.' || c == '-'));
    }
  if (!ok)
    return berr_setk (err, BERR_INVALID, 0,
                      "create %s: \"%s\" includes invalid characters for a local volume name, "
                      "only \"[a-zA-Z0-9][a-zA-Z0-9_.-]\" are allowed. If you intended to pass a "
                      "host directory, use absolute path",
                      name, name);
  return 0;
}

char *volume_random_name (void)
{
  unsigned char rnd[32];
  int fd = open ("/dev/urandom", O_RDONLY | O_CLOEXEC);
  if (fd < 0 || read (fd, rnd, sizeof rnd) != (ssize_t)sizeof rnd)
    abort (); /* no randomness: nothing sensible to fall back on */
  close (fd);
  char *out = xmalloc (65);
  for (size_t i = 0; i < sizeof rnd; i++)
    snprintf (out + 2 * i, 3, "%02x", rnd[i]);
  return out;
}

/* The local driver's options: type, device, o (mount(8)'s -t, the device, -o).  Docker refuses
 * unknown keys and wants type and device together, o only with both. */
static int validate_local_options (const char *name, const json_t *options, berr_t *err)
{
  if (options == NULL)
    return 0;
  if (!json_is_object (options))
    return berr_setk (err, BERR_INVALID, 0, "create %s: driver options must be an object", name);
  const char *k;
  json_t *v;
  json_object_foreach ((json_t *)options, k, v)
  {
    if (strcmp (k, "size") == 0)
      return berr_setk (err, BERR_INVALID, 0,
                        "create %s: quota size requested but no quota support", name);
    if (strcmp (k, "type") != 0 && strcmp (k, "device") != 0 && strcmp (k, "o") != 0)
      return berr_setk (err, BERR_INVALID, 0, "create %s: invalid option key: \"%s\"", name, k);
    if (!json_is_string (v))
      return berr_setk (err, BERR_INVALID, 0, "create %s: option %s must be a string", name, k);
  }
  static const struct
  {
    const char *opt, *needs[2];
  } mandatory[] = { { "device", { "type", NULL } },
                    { "type", { "device", NULL } },
                    { "o", { "device", "type" } } };
  for (size_t i = 0; i < ARRAY_SIZE (mandatory); i++)
    {
      if (json_object_get (options, mandatory[i].opt) == NULL)
        continue;
      for (size_t j = 0; j < 2 && mandatory[i].needs[j]; j++)
        if (json_object_get (options, mandatory[i].needs[j]) == NULL)
          return berr_setk (err, BERR_INVALID, 0, "create %s: missing required option: \"%s\"",
                            name, mandatory[i].needs[j]);
    }
  return 0;
}

int volume_create (struct store *s, const char *name, const char *driver, const json_t *labels,
                   const json_t *options, struct volume_rec **out, berr_t *err)
{
  bool anonymous = name == NULL || name[0] == '\0';
  cleanup_free char *nm = anonymous ? volume_random_name () : xstrdup (name);
  if (driver == NULL || driver[0] == '\0')
    driver = "local";
  if (strcmp (driver, "local") != 0)
    return berr_setk (err, BERR_NOT_FOUND, 0,
                      "create %s: error looking up volume plugin %s: plugin \"%s\" not found", nm,
                      driver, driver);
  if (!anonymous && volume_validate_name (nm, err) < 0)
    return -1;
  if (labels && !json_is_object (labels))
    return berr_setk (err, BERR_INVALID, 0, "create %s: labels must be an object", nm);
  if (validate_local_options (nm, options, err) < 0)
    return -1;
  json_t *lab = labels ? json_deep_copy (labels) : json_object ();
  if (anonymous)
    json_object_set_new (lab, VOLUME_ANONYMOUS_LABEL, json_string (""));
  struct volume_row row = {
    .name = nm,
    .driver = (char *)driver,
    .created_ns = now_ns (),
    .labels = lab,
    .options = options ? json_deep_copy (options) : json_object (),
    .anonymous = anonymous,
  };
  struct volume_row *got = NULL;
  int r = store_volume_create (s, &row, &got, err);
  json_decref (row.labels);
  json_decref (row.options);
  if (r < 0)
    return berr_wrap (err, "create %s", nm);
  *out = rec_from_row (s, got);
  return 0;
}

int volume_get (struct store *s, const char *name, struct volume_rec **out, berr_t *err)
{
  struct volume_row *r = NULL;
  if (store_volume_get (s, name, &r, err) < 0)
    return -1;
  *out = rec_from_row (s, r);
  return 0;
}

int volume_list (struct store *s, struct volume_rec ***out, size_t *n, berr_t *err)
{
  struct volume_row **rows = NULL;
  size_t len = 0;
  if (store_volume_list (s, &rows, &len, err) < 0)
    return -1;
  struct volume_rec **v = xcalloc (len + 1, sizeof *v);
  for (size_t i = 0; i < len; i++)
    v[i] = rec_from_row (s, rows[i]);
  free (rows);
  *out = v;
  *n = len;
  return 0;
}

int volume_remove (struct store *s, const char *name, bool force, berr_t *err)
{
  if (store_volume_remove (s, name, err) < 0)
    {
      if (force && err->kind == BERR_NOT_FOUND)
        {
          berr_release (err);
          return 0;
        }
      return -1;
    }
  return 0;
}

int volume_users (struct store *s, const char *name, char ***ids, berr_t *err)
{
  return store_volume_users (s, name, ids, err);
}

/* Go's time.RFC3339 in local time: "2024-05-01T10:20:30+02:00", "Z" for a zero offset. */
static char *rfc3339_local (int64_t ns)
{
  time_t t = (time_t)(ns / 1000000000LL);
  struct tm tm;
  localtime_r (&t, &tm);
  char buf[64];
  strftime (buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  long off = tm.tm_gmtoff;
  if (off == 0)
    return xasprintf ("%sZ", buf);
  char sign = off < 0 ? '-' : '+';
  if (off < 0)
    off = -off;
  return xasprintf ("%s%c%02ld:%02ld", buf, sign, off / 3600, (off / 60) % 60);
}

static int cmp_key (const void *a, const void *b)
{
  return strcmp (*(const char *const *)a, *(const char *const *)b);
}

/* A Go map as encoding/json writes it: keys sorted; an empty or absent one is null. */
static json_t *go_map (json_t *o)
{
  size_t n = json_object_size (o);
  if (n == 0)
    return json_null ();
  const char **keys = xcalloc (n, sizeof *keys);
  size_t i = 0;
  const char *k;
  json_t *v;
  json_object_foreach (o, k, v) keys[i++] = k;
  qsort (keys, n, sizeof *keys, cmp_key);
  json_t *out = json_object ();
  for (i = 0; i < n; i++)
    json_object_set (out, keys[i], json_object_get (o, keys[i]));
  free (keys);
  return out;
}

json_t *volume_inspect_json (const struct volume_rec *v)
{
  cleanup_free char *created = rfc3339_local (v->created_ns);
  json_t *labels = go_map (v->labels);
  json_t *options = go_map (v->options);
  return json_pack ("{s:s, s:s, s:o, s:s, s:s, s:o, s:s}", "CreatedAt", created, "Driver",
                    v->driver, "Labels", labels, "Mountpoint", v->mountpoint, "Name", v->name,
                    "Options", options, "Scope", "local");
}

int volume_remove_anonymous (struct store *s, const char *container_id, berr_t *err)
{
  cleanup_strv char **names = NULL;
  if (store_container_volume_names (s, container_id, &names, err) < 0)
    return -1;
  cleanup_strv char **keep = xzalloc (sizeof (char *));
  cleanup_strv char **drop = xzalloc (sizeof (char *));
  for (size_t i = 0; names[i]; i++)
    {
      struct volume_row *r = NULL;
      berr_t e = BERR_INIT;
      if (store_volume_get (s, names[i], &r, &e) < 0)
        {
          berr_release (&e);
          continue;
        }
      bool anon = json_object_get (r->labels, VOLUME_ANONYMOUS_LABEL) != NULL;
      strv_push (anon ? &drop : &keep, names[i]);
      volume_row_free (r);
    }
  if (drop[0] == NULL)
    return 0;
  if (store_container_set_volumes (s, container_id, keep, err) < 0)
    return -1;
  int rc = 0;
  for (size_t i = 0; drop[i]; i++)
    {
      berr_t e = BERR_INIT;
      if (store_volume_remove (s, drop[i], &e) < 0)
        {
          /* Still used by another container (--volumes-from), or already gone: keep going. */
          if (e.kind == BERR_CONFLICT || e.kind == BERR_NOT_FOUND)
            berr_release (&e);
          else
            {
              if (rc == 0)
                berr_move (err, &e);
              berr_release (&e);
              rc = -1;
            }
        }
    }
  return rc;
}
