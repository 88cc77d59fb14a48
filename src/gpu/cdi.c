/* cdi.c — the CDI registry: spec files from the CDI directories, validated, their devices
 * indexed by qualified name with the reference's priority rules (pkg/cdi/cache.go). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gpu/cdi_internal.h"
#include "util/fs.h"
#include "util/json.h"

/* NVIDIA's generated spec for 8 GPUs is ~100 KiB; anything near this is not a CDI spec. */
#define CDI_SPEC_MAX (16u << 20)

static void record_error (struct cdi_registry *r, const char *source, const berr_t *e)
{
  strv_push_take (&r->errors, xasprintf ("%s: %s", source, e->msg ? e->msg : "error"));
}

static struct cdi_device *find_dev (const struct cdi_registry *r, const char *qname)
{
  for (size_t i = 0; i < r->ndevs; i++)
    if (strcmp (r->devs[i].qname, qname) == 0)
      return &r->devs[i];
  return NULL;
}

const struct cdi_device *cdi_registry_find (const struct cdi_registry *r, const char *qname)
{
  return find_dev (r, qname);
}

struct conflict
{
  char *qname;
  int priority;
};

/* Index a validated spec's devices.  Same name at a higher priority: the new one replaces the
 * old.  Same priority: a conflict, both dropped (the caller removes conflicted names once all
 * files of that priority are in).  A conflicted name defined again at a higher priority is
 * resolved by that definition. */
static void index_spec (struct cdi_registry *r, struct cdi_spec *s, struct conflict **conf,
                        size_t *nconf)
{
  const char *kind = json_string_value (json_object_get (s->json, "kind"));
  size_t i;
  json_t *d;
  json_array_foreach (json_object_get (s->json, "devices"), i, d)
  {
    cleanup_free char *q
        = xasprintf ("%s=%s", kind, json_string_value (json_object_get (d, "name")));
    struct cdi_device *old = find_dev (r, q);
    if (old && old->spec->priority == s->priority)
      {
        strv_push_take (&r->errors, xasprintf ("%s: conflicting device \"%s\" (also in %s)",
                                               s->source, q, old->spec->source));
        strv_push_take (&r->errors, xasprintf ("%s: conflicting device \"%s\" (also in %s)",
                                               old->spec->source, q, s->source));
        *conf = xrealloc (*conf, (*nconf + 1) * sizeof **conf);
        (*conf)[(*nconf)++] = (struct conflict){ xstrdup (q), s->priority };
        continue;
      }
    if (old)
      {
        old->spec = s;
        old->dev = d;
        continue;
      }
    for (size_t c = 0; c < *nconf; c++)
      if ((*conf)[c].priority == s->priority && strcmp ((*conf)[c].qname, q) == 0)
        goto next; /* a third copy at the conflicted priority */
    r->devs = xrealloc (r->devs, (r->ndevs + 1) * sizeof *r->devs);
    r->devs[r->ndevs++] = (struct cdi_device){ steal_pointer (&q), s, d };
  next:;
  }
}

/* Drop names that conflicted at priority prio (called once that priority is complete). */
static void drop_conflicts (struct cdi_registry *r, struct conflict *conf, size_t nconf, int prio)
{
  for (size_t c = 0; c < nconf; c++)
    {
      if (conf[c].priority != prio)
        continue;
      struct cdi_device *d = find_dev (r, conf[c].qname);
      if (d == NULL || d->spec->priority != prio)
        continue;
      free (d->qname);
      *d = r->devs[--r->ndevs];
    }
}

static struct cdi_spec *add_spec (struct cdi_registry *r, json_t *json, const char *source,
                                  int prio)
{
  struct cdi_spec *s = xzalloc (sizeof *s);
  s->source = xstrdup (source);
  s->priority = prio;
  s->json = json;
  r->specs = xrealloc (r->specs, (r->nspecs + 1) * sizeof *r->specs);
  r->specs[r->nspecs++] = s;
  return s;
}

/* YAML reads an unquoted `name: 0` as a number; the reference (sigs.k8s.io/yaml) converts by
 * the target's type and takes it as the string "0".  Only device names get this: the other
 * string fields have no numeric spelling that a valid spec could use. */
static void yaml_names_as_strings (json_t *spec)
{
  size_t i;
  json_t *d;
  json_array_foreach (json_object_get (spec, "devices"), i, d)
  {
    json_t *n = json_object_get (d, "name");
    if (json_is_integer (n) && json_integer_value (n) >= 0)
      json_object_set_new (d, "name",
                           json_sprintf ("%" JSON_INTEGER_FORMAT, json_integer_value (n)));
  }
}

static int load_file (const char *path, json_t **out, berr_t *err)
{
  cleanup_free char *data = NULL;
  size_t len = 0;
  if (fs_read_file (path, CDI_SPEC_MAX, &data, &len, err) < 0)
    return -1;
  cleanup_json json_t *j = NULL;
  if (cdi_yaml_parse (data, len, &j, err) < 0)
    return -1;
  if (str_has_suffix (path, ".yaml"))
    yaml_names_as_strings (j);
  if (cdi_spec_validate (j, err) < 0)
    return -1;
  *out = steal_pointer (&j);
  return 0;
}

static int cmp_str (const void *a, const void *b)
{
  return strcmp (*(char *const *)a, *(char *const *)b);
}

static void load_dir (struct cdi_registry *r, const char *dir, int prio, struct conflict **conf,
                      size_t *nconf)
{
  cleanup_closedir DIR *d = opendir (dir);
  if (d == NULL)
    {
      if (errno != ENOENT && errno != ENOTDIR)
        strv_push_take (&r->errors, xasprintf ("%s: %s", dir, strerror (errno)));
      return;
    }
  cleanup_strv char **names = NULL;
  struct dirent *de;
  while ((de = readdir (d)))
    if (str_has_suffix (de->d_name, ".json") || str_has_suffix (de->d_name, ".yaml"))
      strv_push (&names, de->d_name);
  /* readdir order is the filesystem's: sort so that errors and conflicts read the same on
   * every run. */
  qsort (names, strv_len (names), sizeof *names, cmp_str);
  for (size_t i = 0; names && names[i]; i++)
    {
      cleanup_free char *path = xasprintf ("%s/%s", dir, names[i]);
      struct stat st;
      /* regular files (through links, as NVIDIA's refresh unit may link them); no subdirs */
      if (stat (path, &st) < 0 || !S_ISREG (st.st_mode))
        continue;
      cleanup_berr berr_t e = BERR_INIT;
      json_t *j = NULL;
      if (load_file (path, &j, &e) < 0)
        {
          record_error (r, path, &e);
          continue;
        }
      index_spec (r, add_spec (r, j, path, prio), conf, nconf);
    }
}

static void free_conflicts (struct conflict *conf, size_t n)
{
  for (size_t i = 0; i < n; i++)
    free (conf[i].qname);
  free (conf);
}

int cdi_registry_load (char *const *dirs, struct cdi_registry **out, berr_t *err)
{
  static char *const defaults[] = { (char *)"/etc/cdi", (char *)"/var/run/cdi", NULL };
  if (dirs == NULL)
    dirs = defaults;
  struct cdi_registry *r = xzalloc (sizeof *r);
  r->errors = xcalloc (1, sizeof *r->errors);
  struct conflict *conf = NULL;
  size_t nconf = 0;
  for (int i = 0; dirs[i]; i++)
    {
      load_dir (r, dirs[i], i, &conf, &nconf);
      drop_conflicts (r, conf, nconf, i);
      r->next_priority = i + 1;
    }
  free_conflicts (conf, nconf);
  *out = r;
  return 0;
}

int cdi_registry_add (struct cdi_registry *r, json_t *spec, const char *source, berr_t *err)
{
  if (cdi_spec_validate (spec, err) < 0)
    return berr_wrap (err, "CDI spec %s", source);
  int prio = r->next_priority++;
  struct conflict *conf = NULL;
  size_t nconf = 0;
  index_spec (r, add_spec (r, json_deep_copy (spec), source, prio), &conf, &nconf);
  free_conflicts (conf, nconf); /* one spec has no duplicate names: validated */
  return 0;
}

void cdi_registry_free (struct cdi_registry *r)
{
  if (r == NULL)
    return;
  for (size_t i = 0; i < r->nspecs; i++)
    {
      json_decref (r->specs[i]->json);
      free (r->specs[i]->source);
      free (r->specs[i]);
    }
  free (r->specs);
  for (size_t i = 0; i < r->ndevs; i++)
    free (r->devs[i].qname);
  free (r->devs);
  strv_free (r->errors);
  free (r);
}

char *const *cdi_errors (const struct cdi_registry *r) { return r->errors; }

char **cdi_device_names (const struct cdi_registry *r)
{
  char **v = xcalloc (r->ndevs + 1, sizeof *v);
  for (size_t i = 0; i < r->ndevs; i++)
    v[i] = xstrdup (r->devs[i].qname);
  qsort (v, r->ndevs, sizeof *v, cmp_str);
  return v;
}
