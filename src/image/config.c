/* config.c — image config views: created time, diff_ids, inspect, history. */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "image/ref.h"
#include "util/fs.h"
#include "util/json.h"
#include "util/units.h"

const char *image_host_arch (void)
{
#if defined(__x86_64__)
  return "amd64";
#elif defined(__aarch64__)
  return "arm64";
#elif defined(__i386__)
  return "386";
#elif defined(__powerpc64__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
  return "ppc64le";
#elif defined(__s390x__)
  return "s390x";
#elif defined(__riscv) && __riscv_xlen == 64
  return "riscv64";
#else
  return "unknown";
#endif
}

int64_t image_config_created (json_t *config)
{
  const char *c = json_get_str (config, "created");
  int64_t ns = 0;
  berr_t e = BERR_INIT;
  if (c == NULL || units_parse_rfc3339 (c, &ns, &e) < 0)
    {
      berr_release (&e);
      return 0;
    }
  return ns;
}

int image_config_diff_ids (json_t *config, char ***diff_ids, berr_t *err)
{
  if (!json_is_object (config))
    return berr_setk (err, BERR_INVALID, 0, "config is not a JSON object");
  json_t *rootfs = json_object_get (config, "rootfs");
  const char *type = json_get_str (rootfs, "type");
  if (type == NULL || strcmp (type, "layers") != 0)
    return berr_setk (err, BERR_INVALID, 0, "rootfs.type must be \"layers\"");
  json_t *ids = json_object_get (rootfs, "diff_ids");
  if (ids != NULL && !json_is_null (ids) && !json_is_array (ids))
    return berr_setk (err, BERR_INVALID, 0, "rootfs.diff_ids must be an array");
  char **v = xcalloc (json_array_size (ids) + 1, sizeof (char *));
  size_t i;
  json_t *d;
  json_array_foreach (ids, i, d)
  {
    const char *s = json_string_value (d);
    if (digest_check (s, err) < 0)
      {
        strv_free (v);
        return berr_wrap (err, "rootfs.diff_ids[%zu]", i);
      }
    v[i] = xstrdup (s);
  }
  *diff_ids = v;
  return 0;
}

void image_split_tag (const char *full, char **repo, char **tag)
{
  cleanup_free char *fam = ref_familiarize (full);
  /* The tag is after the last ':' that follows the last '/'. */
  char *slash = strrchr (fam, '/');
  char *colon = strrchr (slash ? slash : fam, ':');
  char *at = strchr (fam, '@');
  if (at)
    {
      *repo = xstrndup (fam, (size_t)(at - fam));
      *tag = xstrdup ("<none>");
      return;
    }
  if (colon)
    {
      *repo = xstrndup (fam, (size_t)(colon - fam));
      *tag = xstrdup (colon + 1);
    }
  else
    {
      *repo = xstrdup (fam);
      *tag = xstrdup ("<none>");
    }
}

static json_t *copy_or (json_t *obj, const char *key, json_t *dflt)
{
  json_t *v = json_object_get (obj, key);
  if (v)
    {
      json_decref (dflt);
      return json_deep_copy (v);
    }
  return dflt;
}

/* Docker's image inspect "Config" (container.Config shape with the image's values). */
static json_t *inspect_config (json_t *cc)
{
  json_t *c = json_object ();
  json_object_set_new (c, "Hostname", json_string (""));
  json_object_set_new (c, "Domainname", json_string (""));
  json_object_set_new (c, "User", copy_or (cc, "User", json_string ("")));
  json_object_set_new (c, "AttachStdin", json_false ());
  json_object_set_new (c, "AttachStdout", json_false ());
  json_object_set_new (c, "AttachStderr", json_false ());
  if (json_object_get (cc, "ExposedPorts"))
    json_object_set_new (c, "ExposedPorts", copy_or (cc, "ExposedPorts", NULL));
  json_object_set_new (c, "Tty", json_false ());
  json_object_set_new (c, "OpenStdin", json_false ());
  json_object_set_new (c, "StdinOnce", json_false ());
  json_object_set_new (c, "Env", copy_or (cc, "Env", json_null ()));
  json_object_set_new (c, "Cmd", copy_or (cc, "Cmd", json_null ()));
  if (json_object_get (cc, "Healthcheck"))
    json_object_set_new (c, "Healthcheck", copy_or (cc, "Healthcheck", NULL));
  if (json_object_get (cc, "ArgsEscaped"))
    json_object_set_new (c, "ArgsEscaped", copy_or (cc, "ArgsEscaped", NULL));
  json_object_set_new (c, "Image", json_string (""));
  json_object_set_new (c, "Volumes", copy_or (cc, "Volumes", json_null ()));
  json_object_set_new (c, "WorkingDir", copy_or (cc, "WorkingDir", json_string ("")));
  json_object_set_new (c, "Entrypoint", copy_or (cc, "Entrypoint", json_null ()));
  json_object_set_new (c, "OnBuild", copy_or (cc, "OnBuild", json_null ()));
  json_object_set_new (c, "Labels", copy_or (cc, "Labels", json_null ()));
  if (json_object_get (cc, "StopSignal"))
    json_object_set_new (c, "StopSignal", copy_or (cc, "StopSignal", NULL));
  if (json_object_get (cc, "Shell"))
    json_object_set_new (c, "Shell", copy_or (cc, "Shell", NULL));
  return c;
}

json_t *image_inspect_json (struct store *s, const struct image_rec *rec, json_t *config)
{
  json_t *o = json_object ();
  json_object_set_new (o, "Id", json_string (rec->id));
  json_t *tags = json_array ();
  for (size_t i = 0; rec->tags && rec->tags[i]; i++)
    {
      char *f = ref_familiarize (rec->tags[i]);
      json_array_append_new (tags, json_string (f));
      free (f);
    }
  json_object_set_new (o, "RepoTags", tags);
  json_t *digests = json_array ();
  for (size_t i = 0; rec->digests && rec->digests[i]; i++)
    {
      char *f = ref_familiarize (rec->digests[i]);
      json_array_append_new (digests, json_string (f));
      free (f);
    }
  json_object_set_new (o, "RepoDigests", digests);
  json_object_set_new (o, "Parent", json_string (rec->parent ? rec->parent : ""));
  json_object_set_new (o, "Comment", copy_or (config, "comment", json_string ("")));
  char buf[64];
  json_object_set_new (o, "Created",
                       json_string (rec->created
                                        ? units_rfc3339_nano (rec->created, buf, sizeof buf)
                                        : "0001-01-01T00:00:00Z"));
  json_object_set_new (o, "DockerVersion", copy_or (config, "docker_version", json_string ("")));
  json_object_set_new (o, "Author", copy_or (config, "author", json_string ("")));
  json_object_set_new (o, "Config", inspect_config (json_object_get (config, "config")));
  json_object_set_new (o, "Architecture", copy_or (config, "architecture", json_string ("")));
  if (json_object_get (config, "variant"))
    json_object_set_new (o, "Variant", copy_or (config, "variant", NULL));
  json_object_set_new (o, "Os", copy_or (config, "os", json_string ("")));
  if (json_object_get (config, "os.version"))
    json_object_set_new (o, "OsVersion", copy_or (config, "os.version", NULL));
  json_object_set_new (o, "Size", json_integer (rec->size));
  /* The overlay lower dirs, top layer first, as Docker's overlay2 GraphDriver shows them. */
  struct sbuf lower;
  sbuf_init (&lower);
  size_t n = strv_len (rec->diff_ids);
  for (size_t i = n; i > 1; i--)
    {
      char *d = store_layer_dir (s, rec->diff_ids[i - 2]);
      if (lower.len)
        sbuf_addc (&lower, ':');
      sbuf_adds (&lower, d);
      free (d);
    }
  json_t *gd = json_object ();
  json_t *data = json_object ();
  if (n > 0)
    {
      char *top = store_layer_dir (s, rec->diff_ids[n - 1]);
      if (lower.len)
        json_object_set_new (data, "LowerDir", json_string (lower.buf));
      json_object_set_new (data, "UpperDir", json_string (top));
      free (top);
    }
  sbuf_release (&lower);
  json_object_set_new (gd, "Data", data);
  json_object_set_new (gd, "Name", json_string ("overlay"));
  json_object_set_new (o, "GraphDriver", gd);
  json_t *rootfs = json_object ();
  json_object_set_new (rootfs, "Type", json_string ("layers"));
  json_object_set_new (rootfs, "Layers", json_from_strv (rec->diff_ids));
  json_object_set_new (o, "RootFS", rootfs);
  json_t *meta = json_object ();
  if (rec->last_tag_time)
    json_object_set_new (meta, "LastTagTime",
                         json_string (units_rfc3339_nano (rec->last_tag_time, buf, sizeof buf)));
  else
    json_object_set_new (meta, "LastTagTime", json_string ("0001-01-01T00:00:00Z"));
  json_object_set_new (o, "Metadata", meta);
  return o;
}

json_t *image_history (struct store *s, const struct image_rec *rec, json_t *config)
{
  json_t *rows = json_array ();
  json_t *hist = json_object_get (config, "history");
  size_t nl = strv_len (rec->diff_ids);
  size_t li = 0;
  size_t i;
  json_t *h;
  if (!json_is_array (hist) || json_array_size (hist) == 0)
    {
      /* No history: one row per layer, as Docker shows. */
      for (i = 0; i < nl; i++)
        {
          struct layer_info l;
          berr_t e = BERR_INIT;
          int64_t size = 0;
          if (store_layer_get (s, rec->diff_ids[i], &l, &e) == 0)
            {
              size = l.size;
              layer_info_release (&l);
            }
          berr_release (&e);
          json_array_insert_new (rows, 0,
                                 json_pack ("{s:s, s:I, s:s, s:I, s:s, s:b}", "ID", "<missing>",
                                            "CreatedAt", (json_int_t)rec->created, "CreatedBy", "",
                                            "Size", (json_int_t)size, "Comment", "", "EmptyLayer",
                                            0));
        }
    }
  json_array_foreach (hist, i, h)
  {
    bool empty = json_is_true (json_object_get (h, "empty_layer"));
    int64_t size = 0;
    if (!empty && li < nl)
      {
        struct layer_info l;
        berr_t e = BERR_INIT;
        if (store_layer_get (s, rec->diff_ids[li], &l, &e) == 0)
          {
            size = l.size;
            layer_info_release (&l);
          }
        berr_release (&e);
        li++;
      }
    int64_t created = 0;
    const char *c = json_get_str (h, "created");
    berr_t e = BERR_INIT;
    if (c && units_parse_rfc3339 (c, &created, &e) < 0)
      berr_release (&e);
    const char *by = json_get_str (h, "created_by");
    const char *comment = json_get_str (h, "comment");
    json_array_insert_new (rows, 0,
                           json_pack ("{s:s, s:I, s:s, s:I, s:s, s:b}", "ID", "<missing>",
                                      "CreatedAt", (json_int_t)created, "CreatedBy", by ? by : "",
                                      "Size", (json_int_t)size, "Comment", comment ? comment : "",
                                      "EmptyLayer", empty));
  }
  if (json_array_size (rows) > 0)
    json_object_set_new (json_array_get (rows, 0), "ID", json_string (rec->id));
  /* As Docker: each ancestor still in the store (the parent chain a build leaves) names the row
   * of its own last history entry. */
  size_t n = json_array_size (rows);
  cleanup_free char *cur = rec->parent ? xstrdup (rec->parent) : NULL;
  for (int depth = 0; cur && depth < 1000; depth++)
    {
      struct image_rec *p = NULL;
      json_t *pc = NULL;
      berr_t e = BERR_INIT;
      if (store_image_get (s, cur, &p, &e) < 0
          || store_image_config_unverified (s, p->id, &pc, &e) < 0)
        {
          berr_release (&e);
          if (p)
            image_rec_free (p);
          break;
        }
      size_t m = json_array_size (json_object_get (pc, "history"));
      if (m > 0 && m <= n)
        json_object_set_new (json_array_get (rows, n - m), "ID", json_string (p->id));
      json_decref (pc);
      free (cur);
      cur = p->parent ? xstrdup (p->parent) : NULL;
      image_rec_free (p);
    }
  return rows;
}

json_t *image_config_child (const json_t *parent, const json_t *container_config,
                            const char *diff_id, const char *created_by, const char *comment,
                            const char *author, int64_t created_ns)
{
  json_t *c;
  if (parent)
    c = json_deep_copy (parent);
  else
    c = json_pack ("{s:s, s:s, s:{s:s, s:[]}}", "architecture", image_host_arch (), "os", "linux",
                   "rootfs", "type", "layers", "diff_ids");
  static const char *const legacy[]
      = { "container", "container_config", "docker_version", "parent", "author", "comment" };
  for (size_t i = 0; i < sizeof legacy / sizeof legacy[0]; i++)
    json_object_del (c, legacy[i]);
  json_object_set_new (c, "config",
                       container_config ? json_deep_copy (container_config) : json_object ());
  char when[64];
  units_rfc3339_nano (created_ns, when, sizeof when);
  json_object_set_new (c, "created", json_string (when));
  if (author && *author)
    json_object_set_new (c, "author", json_string (author));
  if (comment && *comment)
    json_object_set_new (c, "comment", json_string (comment));

  json_t *h = json_object_get (c, "history");
  if (!json_is_array (h))
    {
      h = json_array ();
      json_object_set_new (c, "history", h);
    }
  json_t *e = json_pack ("{s:s}", "created", when);
  if (created_by)
    json_object_set_new (e, "created_by", json_string (created_by));
  if (author && *author)
    json_object_set_new (e, "author", json_string (author));
  if (comment && *comment)
    json_object_set_new (e, "comment", json_string (comment));
  if (diff_id == NULL)
    json_object_set_new (e, "empty_layer", json_true ());
  json_array_append_new (h, e);

  json_t *rootfs = json_object_get (c, "rootfs");
  if (!json_is_object (rootfs))
    {
      rootfs = json_pack ("{s:s}", "type", "layers");
      json_object_set_new (c, "rootfs", rootfs);
    }
  json_t *ids = json_object_get (rootfs, "diff_ids");
  if (!json_is_array (ids))
    {
      ids = json_array ();
      json_object_set_new (rootfs, "diff_ids", ids);
    }
  if (diff_id)
    json_array_append_new (ids, json_string (diff_id));
  return c;
}

int image_config_stage (struct store *s, const json_t *config, char **staged,
                        char id[DIGEST_STR_LEN], berr_t *err)
{
  cleanup_free char *bytes = json_dumps (config, JSON_COMPACT);
  if (bytes == NULL)
    return berr_set (err, ENOMEM, "encode image config");
  size_t len = strlen (bytes);
  sha256_digest (bytes, len, id);
  cleanup_free char *path = NULL;
  cleanup_close int fd = -1;
  if (store_stage_file (s, "config", &path, &fd, err) < 0)
    return -1;
  if (fs_write_all (fd, bytes, len) < 0)
    return berr_set (err, errno, "write %s", path);
  *staged = steal_pointer (&path);
  return 0;
}
