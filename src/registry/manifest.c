/* manifest.c — strict parsing of manifests and indexes, and platform selection. */
#include <stdlib.h>
#include <string.h>

#include "image/config.h"
#include "registry/manifest.h"
#include "util/json.h"
#include "util/util.h"

#define MT_SCHEMA1 "application/vnd.docker.distribution.manifest.v1+json"
#define MT_SCHEMA1_SIGNED "application/vnd.docker.distribution.manifest.v1+prettyjws"

/* Schema 1 types are asked for too: a registry that only has schema 1 then says so, and the
 * user gets Docker's "not supported" message instead of a confusing 404. */
const char manifest_accept[]
    = MT_OCI_INDEX ", " MT_DOCKER_LIST ", " MT_OCI_MANIFEST ", " MT_DOCKER_MANIFEST
                   ", " MT_SCHEMA1_SIGNED ", " MT_SCHEMA1;

static void desc_release (struct manifest_desc *d)
{
  free (d->media_type);
  strv_free (d->urls);
  free (d->os);
  free (d->arch);
  free (d->variant);
  memset (d, 0, sizeof *d);
}

void manifest_release (struct manifest *m)
{
  if (m == NULL)
    return;
  free (m->media_type);
  desc_release (&m->config);
  for (size_t i = 0; i < m->nlayers; i++)
    desc_release (&m->layers[i]);
  free (m->layers);
  for (size_t i = 0; i < m->nentries; i++)
    desc_release (&m->entries[i]);
  free (m->entries);
  memset (m, 0, sizeof *m);
}

static bool is_index_type (const char *t)
{
  return strcmp (t, MT_OCI_INDEX) == 0 || strcmp (t, MT_DOCKER_LIST) == 0;
}

static bool is_manifest_type (const char *t)
{
  return strcmp (t, MT_OCI_MANIFEST) == 0 || strcmp (t, MT_DOCKER_MANIFEST) == 0;
}

static bool is_schema1_type (const char *t)
{
  return t && (strcmp (t, MT_SCHEMA1) == 0 || strcmp (t, MT_SCHEMA1_SIGNED) == 0);
}

bool manifest_layer_type_ok (const char *t)
{
  static const char *const ok[] = {
    MT_DOCKER_LAYER_GZIP,
    MT_OCI_LAYER,
    MT_OCI_LAYER_GZIP,
    MT_OCI_LAYER_ZSTD,
    "application/vnd.docker.image.rootfs.diff.tar",
    "application/vnd.docker.image.rootfs.diff.tar.zstd",
  };
  if (t == NULL)
    return false;
  for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
    if (strcmp (t, ok[i]) == 0)
      return true;
  return false;
}

/* RFC 6838 as the OCI schema spells it: type "/" subtype, restricted characters. */
static bool media_type_ok (const char *t)
{
  const char *slash = strchr (t, '/');
  if (slash == NULL)
    return false;
  for (int part = 0; part < 2; part++)
    {
      const char *p = part == 0 ? t : slash + 1;
      const char *end = part == 0 ? slash : p + strlen (p);
      if (end - p < 1 || end - p > 127)
        return false;
      for (const char *c = p; c < end; c++)
        {
          bool alnum
              = (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9');
          if (!alnum && (c == p || strchr ("!#$&^_.+-", *c) == NULL))
            return false;
        }
    }
  return true;
}

/* annotations: an object of strings, when present. */
static int check_annotations (json_t *j, const char *what, berr_t *err)
{
  json_t *a = json_object_get (j, "annotations");
  const char *k;
  json_t *v;
  if (a == NULL || json_is_null (a))
    return 0;
  if (!json_is_object (a))
    return berr_setk (err, BERR_INVALID, 0, "%s: annotations is not an object", what);
  json_object_foreach (a, k, v) if (!json_is_string (v)) return berr_setk (
      err, BERR_INVALID, 0, "%s: annotation \"%s\" is not a string", what, k);
  return 0;
}

/* A descriptor: mediaType (string), digest (strict), size (integer >= 0); urls and platform
 * when present must have the right types. what names it in errors ("layers[2]"). */
static int parse_desc (json_t *j, const char *what, bool with_platform, struct manifest_desc *d,
                       berr_t *err)
{
  if (!json_is_object (j))
    return berr_setk (err, BERR_INVALID, 0, "%s: not an object", what);
  json_t *mt = json_object_get (j, "mediaType");
  json_t *dg = json_object_get (j, "digest");
  json_t *sz = json_object_get (j, "size");
  if (!json_is_string (mt))
    return berr_setk (err, BERR_INVALID, 0, "%s: mediaType missing or not a string", what);
  if (!media_type_ok (json_string_value (mt)))
    return berr_setk (err, BERR_INVALID, 0, "%s: invalid mediaType \"%s\"", what,
                      json_string_value (mt));
  if (check_annotations (j, what, err) < 0)
    return -1;
  if (!json_is_string (dg) || digest_check (json_string_value (dg), err) < 0)
    {
      if (!json_is_string (dg))
        berr_setk (err, BERR_INVALID, 0, "digest missing");
      return berr_wrap (err, "%s", what);
    }
  if (!json_is_integer (sz) || json_integer_value (sz) < 0)
    return berr_setk (err, BERR_INVALID, 0, "%s: size missing or negative", what);
  d->media_type = xstrdup (json_string_value (mt));
  snprintf (d->digest, sizeof d->digest, "%s", json_string_value (dg));
  d->size = json_integer_value (sz);

  json_t *urls = json_object_get (j, "urls");
  if (urls && !json_is_null (urls))
    {
      size_t i;
      json_t *u;
      if (!json_is_array (urls))
        return berr_setk (err, BERR_INVALID, 0, "%s: urls is not an array", what);
      json_array_foreach (urls, i, u) if (!json_is_string (u)) return berr_setk (
          err, BERR_INVALID, 0, "%s: urls[%zu] is not a string", what, i);
      d->urls = json_to_strv (urls);
    }
  if (!with_platform)
    return 0;
  json_t *p = json_object_get (j, "platform");
  if (p == NULL || json_is_null (p))
    return 0;
  if (!json_is_object (p))
    return berr_setk (err, BERR_INVALID, 0, "%s: platform is not an object", what);
  static const char *const keys[] = { "os", "architecture", "variant" };
  char **dst[] = { &d->os, &d->arch, &d->variant };
  for (size_t k = 0; k < 3; k++)
    {
      json_t *v = json_object_get (p, keys[k]);
      if (v == NULL || json_is_null (v))
        continue;
      if (!json_is_string (v))
        return berr_setk (err, BERR_INVALID, 0, "%s: platform.%s is not a string", what, keys[k]);
      *dst[k] = xstrdup (json_string_value (v));
    }
  if (d->os == NULL || d->arch == NULL)
    return berr_setk (err, BERR_INVALID, 0, "%s: platform needs os and architecture", what);
  return 0;
}

static int parse_into (json_t *root, const char *content_type, struct manifest *m, berr_t *err)
{
  if (!json_is_object (root))
    return berr_setk (err, BERR_INVALID, 0, "not a JSON object");

  json_t *sv = json_object_get (root, "schemaVersion");
  if (is_schema1_type (content_type) || is_schema1_type (json_get_str (root, "mediaType"))
      || (json_is_integer (sv) && json_integer_value (sv) == 1))
    return berr_setk (err, BERR_INVALID, 0,
                      "Docker Image Format v1 and Docker Image manifest version 2, schema 1 "
                      "support has been removed. Suggest the author of the image to upgrade the "
                      "image to the OCI Format or Docker Image manifest v2, schema 2. More "
                      "information at https://docs.docker.com/go/deprecated-image-specs/");
  if (!json_is_integer (sv) || json_integer_value (sv) != 2)
    return berr_setk (err, BERR_INVALID, 0, "unsupported schemaVersion");

  json_t *jmt = json_object_get (root, "mediaType");
  if (jmt && !json_is_string (jmt))
    return berr_setk (err, BERR_INVALID, 0, "mediaType is not a string");
  const char *own = json_string_value (jmt);
  json_t *manifests = json_object_get (root, "manifests");
  json_t *layers = json_object_get (root, "layers");
  json_t *config = json_object_get (root, "config");

  /* CVE-2021-41190: a document that reads as both an index and a manifest is refused. */
  if (manifests && (layers || config))
    return berr_setk (err, BERR_INVALID, 0,
                      "ambiguous document: it has both \"manifests\" and \"layers\"/\"config\"");
  if (!manifests && !config)
    return berr_setk (err, BERR_INVALID, 0, "neither an image manifest nor an index");
  m->kind = manifests ? MANIFEST_INDEX : MANIFEST_IMAGE;

  /* The type it claims and the type it came as must agree; a generic Content-Type
   * (application/json, octet-stream) defers to the document. */
  const char *ct = content_type;
  if (ct && !is_index_type (ct) && !is_manifest_type (ct))
    ct = NULL;
  if (own && ct && strcmp (own, ct) != 0)
    return berr_setk (err, BERR_INVALID, 0,
                      "mediaType in manifest should be '%s' not '%s' (the Content-Type)", own, ct);
  const char *type = own ? own : ct;
  if (type == NULL) /* OCI lets mediaType out; the structure tells which one it is */
    type = m->kind == MANIFEST_INDEX ? MT_OCI_INDEX : MT_OCI_MANIFEST;
  if (m->kind == MANIFEST_INDEX && !is_index_type (type))
    return berr_setk (err, BERR_INVALID, 0, "mediaType '%s' does not name an index", type);
  if (m->kind == MANIFEST_IMAGE && !is_manifest_type (type))
    return berr_setk (err, BERR_INVALID, 0, "mediaType '%s' does not name an image manifest", type);
  m->media_type = xstrdup (type);
  if (check_annotations (root, "manifest", err) < 0)
    return -1;
  json_t *subject = json_object_get (root, "subject");
  if (subject && !json_is_null (subject))
    {
      struct manifest_desc sd = { 0 };
      int r = parse_desc (subject, "subject", false, &sd, err);
      desc_release (&sd);
      if (r < 0)
        return -1;
    }
  json_t *at = json_object_get (root, "artifactType");
  if (at && !(json_is_string (at) && media_type_ok (json_string_value (at))))
    return berr_setk (err, BERR_INVALID, 0, "invalid artifactType");

  char what[48];
  size_t i;
  json_t *e;
  if (m->kind == MANIFEST_INDEX)
    {
      if (!json_is_array (manifests))
        return berr_setk (err, BERR_INVALID, 0, "manifests is not an array");
      if (json_array_size (manifests) > MANIFEST_MAX_ENTRIES)
        return berr_setk (err, BERR_INVALID, 0, "index has %zu entries, more than %d",
                          json_array_size (manifests), MANIFEST_MAX_ENTRIES);
      m->entries = xzalloc ((json_array_size (manifests) + 1) * sizeof *m->entries);
      json_array_foreach (manifests, i, e)
      {
        snprintf (what, sizeof what, "manifests[%zu]", i);
        m->nentries = i + 1;
        if (parse_desc (e, what, true, &m->entries[i], err) < 0)
          return -1;
      }
      return 0;
    }

  if (parse_desc (config, "config", false, &m->config, err) < 0)
    return -1;
  if (layers == NULL)
    layers = json_array (); /* never happens with valid input; an empty list is checked below */
  else
    json_incref (layers);
  cleanup_json json_t *lref = layers;
  if (!json_is_array (layers))
    return berr_setk (err, BERR_INVALID, 0, "layers is not an array");
  if (json_array_size (layers) > MANIFEST_MAX_LAYERS)
    return berr_setk (err, BERR_INVALID, 0, "manifest has %zu layers, more than %d",
                      json_array_size (layers), MANIFEST_MAX_LAYERS);
  m->layers = xzalloc ((json_array_size (layers) + 1) * sizeof *m->layers);
  json_array_foreach (layers, i, e)
  {
    snprintf (what, sizeof what, "layers[%zu]", i);
    m->nlayers = i + 1;
    if (parse_desc (e, what, false, &m->layers[i], err) < 0)
      return -1;
  }
  return 0;
}

int manifest_parse (const char *body, size_t len, const char *content_type, struct manifest *out,
                    berr_t *err)
{
  json_error_t je;

  memset (out, 0, sizeof *out);
  if (len > MANIFEST_MAX)
    return berr_setk (err, BERR_INVALID, 0, "manifest: %zu bytes, more than the limit of %u", len,
                      MANIFEST_MAX);
  /* Duplicate keys are another way to make two readers see two documents. */
  cleanup_json json_t *root = json_loadb (body, len, JSON_REJECT_DUPLICATES, &je);
  if (root == NULL)
    return berr_setk (err, BERR_INVALID, 0, "manifest: invalid JSON: %s (line %d column %d)",
                      je.text, je.line, je.column);
  if (parse_into (root, content_type, out, err) < 0)
    {
      manifest_release (out);
      return berr_wrap (err, "manifest");
    }
  return 0;
}

bool manifest_is_schema1 (const char *body, size_t len, const char *content_type)
{
  if (is_schema1_type (content_type))
    return true;
  cleanup_json json_t *root = json_loadb (body, len, 0, NULL);
  json_t *sv = json_object_get (root, "schemaVersion");
  return json_is_integer (sv) && json_integer_value (sv) == 1;
}

/* containerd's normalization: arm64 means v8, arm without variant means v7; amd64's v1 is
 * amd64. */
static const char *norm_variant (const char *arch, const char *variant)
{
  if (variant && *variant)
    {
      if (strcmp (arch, "amd64") == 0 && strcmp (variant, "v1") == 0)
        return "";
      return variant;
    }
  if (strcmp (arch, "arm64") == 0)
    return "v8";
  if (strcmp (arch, "arm") == 0)
    return "v7";
  return "";
}

static const char *norm_arch (const char *a)
{
  if (strcmp (a, "x86_64") == 0 || strcmp (a, "x86-64") == 0)
    return "amd64";
  if (strcmp (a, "aarch64") == 0)
    return "arm64";
  if (strcmp (a, "armhf") == 0 || strcmp (a, "armel") == 0)
    return "arm";
  if (strcmp (a, "i386") == 0)
    return "386";
  return a;
}

int manifest_select (const struct manifest *index, const char *platform,
                     const struct manifest_desc **out, berr_t *err)
{
  cleanup_free char *os = NULL;
  const char *arch, *variant = NULL;
  cleanup_free char *copy = NULL;

  *out = NULL;
  if (platform == NULL || *platform == '\0')
    {
      os = xstrdup ("linux");
      arch = image_host_arch ();
    }
  else
    {
      copy = xstrdup (platform);
      char *a = strchr (copy, '/');
      if (a == NULL)
        return berr_setk (err, BERR_INVALID, 0,
                          "\"%s\": unknown operating system or architecture: invalid argument",
                          platform);
      *a++ = '\0';
      char *v = strchr (a, '/');
      if (v)
        {
          *v++ = '\0';
          if (strchr (v, '/'))
            return berr_setk (err, BERR_INVALID, 0,
                              "\"%s\": unknown operating system or architecture: invalid argument",
                              platform);
          variant = v;
        }
      os = xstrdup (copy);
      for (char *c = os; *c; c++)
        if (*c >= 'A' && *c <= 'Z')
          *c = (char)(*c - 'A' + 'a');
      arch = a;
    }
  arch = norm_arch (arch);
  const char *want_variant = norm_variant (arch, variant);

  /* arm falls back to older variants (v7 runs v6 and v5 code); a variant asked for explicitly
   * still accepts an entry with none only when it normalizes to the same one. */
  static const char *const arm_order[] = { "v8", "v7", "v6", "v5", NULL };
  size_t start = 0;
  bool fallback = strcmp (arch, "arm") == 0;
  if (fallback)
    {
      while (arm_order[start] && strcmp (arm_order[start], want_variant) != 0)
        start++;
      if (arm_order[start] == NULL)
        fallback = false;
    }
  for (size_t pass = start;; pass++)
    {
      const char *v = fallback ? arm_order[pass] : want_variant;
      if (v == NULL)
        break;
      for (size_t i = 0; i < index->nentries; i++)
        {
          const struct manifest_desc *e = &index->entries[i];
          if (e->os == NULL || e->arch == NULL || strcmp (e->os, os) != 0)
            continue;
          const char *ea = norm_arch (e->arch);
          if (strcmp (ea, arch) != 0 || strcmp (norm_variant (ea, e->variant), v) != 0)
            continue;
          if (!is_manifest_type (e->media_type))
            continue; /* nested indexes are not followed (depth bound: B5) */
          *out = e;
          return 0;
        }
      if (!fallback)
        break;
    }
  if (variant)
    return berr_setk (err, BERR_NOT_FOUND, 0,
                      "no matching manifest for %s/%s/%s in the manifest list entries", os, arch,
                      variant);
  return berr_setk (err, BERR_NOT_FOUND, 0,
                    "no matching manifest for %s/%s in the manifest list entries", os, arch);
}
