/* image.c — image verbs: images, load, save, import, tag, rmi, inspect, history, image prune. */
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "cli/cli.h"
#include "volume/volume.h"
#include "image/archive.h"
#include "image/config.h"
#include "image/import.h"
#include "image/ref.h"
#include "util/fs.h"
#include "util/json.h"
#include "util/lazylib.h"
#include "util/units.h"

/* ---------------- images ---------------- */

struct image_filters
{
  int dangling; /* -1 unset, 0 false, 1 true */
  char **references;
  char **labels;
  int64_t before; /* created-before (ns), 0 unset */
  int64_t since;
};

static void image_filters_release (struct image_filters *f)
{
  strv_free (f->references);
  strv_free (f->labels);
}

static int parse_image_filters (struct berth_ctx *ctx, char **filters, struct image_filters *f,
                                bool allow_until)
{
  f->dangling = -1;
  for (size_t i = 0; filters && filters[i]; i++)
    {
      char *eq = strchr (filters[i], '=');
      if (eq == NULL)
        return cli_errorf ("bad format of filter (expected name=value)");
      cleanup_free char *key = xstrndup (filters[i], (size_t)(eq - filters[i]));
      const char *val = eq + 1;
      if (strcmp (key, "dangling") == 0)
        {
          if (strcasecmp (val, "true") == 0 || strcmp (val, "1") == 0)
            f->dangling = 1;
          else if (strcasecmp (val, "false") == 0 || strcmp (val, "0") == 0)
            f->dangling = 0;
          else
            return cli_errorf ("invalid filter 'dangling=%s'", val);
        }
      else if (strcmp (key, "reference") == 0)
        strv_push (&f->references, val);
      else if (strcmp (key, "label") == 0)
        strv_push (&f->labels, val);
      else if (strcmp (key, "before") == 0 || strcmp (key, "since") == 0)
        {
          struct store *s;
          if (ctx_store (ctx, &s) < 0)
            return 1;
          struct image_rec *rec = NULL;
          berr_t err = BERR_INIT;
          if (store_image_lookup (s, val, &rec, &err) < 0)
            return cli_error (&err);
          if (key[0] == 'b')
            f->before = rec->created ? rec->created : 1;
          else
            f->since = rec->created;
          image_rec_free (rec);
        }
      else if (allow_until && strcmp (key, "until") == 0)
        ; /* handled by prune */
      else
        return cli_errorf ("invalid filter '%s'", key);
    }
  return 0;
}

/* Open the store and list its images; on failure the filters are released and an exit code
 * returned. */
static int list_images (struct berth_ctx *ctx, struct image_filters *f, struct store **s,
                        struct image_rec ***recs, size_t *n)
{
  berr_t err = BERR_INIT;
  if (ctx_store (ctx, s) < 0)
    {
      image_filters_release (f);
      return 1;
    }
  if (store_image_list (*s, recs, n, &err) < 0)
    {
      image_filters_release (f);
      return cli_error (&err);
    }
  return 0;
}

static bool labels_match (struct store *s, const char *id, char **labels)
{
  if (labels == NULL)
    return true;
  json_t *config = NULL;
  berr_t err = BERR_INIT;
  if (store_image_config (s, id, &config, &err) < 0)
    {
      berr_release (&err);
      return false;
    }
  json_t *l = json_object_get (json_object_get (config, "config"), "Labels");
  bool ok = true;
  for (size_t i = 0; labels[i] && ok; i++)
    {
      char *eq = strchr (labels[i], '=');
      cleanup_free char *k
          = eq ? xstrndup (labels[i], (size_t)(eq - labels[i])) : xstrdup (labels[i]);
      const char *v = json_get_str (l, k);
      ok = v != NULL && (eq == NULL || strcmp (v, eq + 1) == 0);
    }
  json_decref (config);
  return ok;
}

/* Docker matches reference filters against the familiar name, with and without the tag. */
static bool reference_matches (char **patterns, const char *familiar_tag)
{
  if (patterns == NULL)
    return true;
  cleanup_free char *repo = xstrdup (familiar_tag);
  char *slash = strrchr (repo, '/');
  char *colon = strrchr (slash ? slash : repo, ':');
  if (colon)
    *colon = '\0';
  for (size_t i = 0; patterns[i]; i++)
    {
      if (fnmatch (patterns[i], familiar_tag, FNM_PATHNAME) == 0)
        return true;
      if (strchr (patterns[i], ':') == NULL && fnmatch (patterns[i], repo, FNM_PATHNAME) == 0)
        return true;
    }
  return false;
}

static char *fmt_created_at (int64_t ns)
{
  time_t t = (time_t)(ns / 1000000000LL);
  struct tm tm;
  localtime_r (&t, &tm);
  char buf[64];
  strftime (buf, sizeof buf, "%Y-%m-%d %H:%M:%S %z %Z", &tm);
  return xstrdup (buf);
}

static json_t *image_row (const struct image_rec *r, const char *repo, const char *tag,
                          const char *digest, bool no_trunc)
{
  cleanup_free char *id = no_trunc ? xstrdup (r->id) : fmt_short_id (r->id);
  cleanup_free char *since = fmt_since (r->created);
  cleanup_free char *at = fmt_created_at (r->created);
  cleanup_free char *size = fmt_size (r->size);
  return json_pack ("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "ID", id,
                    "Repository", repo, "Tag", tag, "Digest", digest, "CreatedSince", since,
                    "CreatedAt", at, "Size", size, "VirtualSize", size, "SharedSize", "N/A",
                    "UniqueSize", "N/A", "Containers", "N/A");
}

static const char *digest_for_repo (const struct image_rec *r, const char *repo_full)
{
  size_t l = strlen (repo_full);
  for (size_t i = 0; r->digests && r->digests[i]; i++)
    if (strncmp (r->digests[i], repo_full, l) == 0 && r->digests[i][l] == '@')
      return r->digests[i] + l + 1;
  return NULL;
}

int cmd_images (int argc, char **argv, struct berth_ctx *ctx)
{
  bool all = false, quiet = false, digests = false, no_trunc = false;
  cleanup_strv char **filters = NULL;
  const char *format = NULL;
  const struct opt opts[] = {
    { "all", 'a', OPT_BOOL, &all, NULL, "Show all images (default hides intermediate images)" },
    { "digests", 0, OPT_BOOL, &digests, NULL, "Show digests" },
    { "filter", 'f', OPT_STRINGS, &filters, "filter",
      "Filter output based on conditions provided" },
    { "format", 0, OPT_STRING, &format, "string",
      "Format output using a custom template:\n'table':            Print output in table format "
      "with column headers (default)\n'table TEMPLATE':   Print output in table format using the "
      "given Go template\n'json':             Print in JSON format\n'TEMPLATE':         Print "
      "output using the given Go template" },
    { "no-trunc", 0, OPT_BOOL, &no_trunc, NULL, "Don't truncate output" },
    { "quiet", 'q', OPT_BOOL, &quiet, NULL, "Only show image IDs" },
    { NULL, 0, 0, NULL, NULL, NULL },
  };
  const struct cmd_spec spec = { "images [OPTIONS] [REPOSITORY[:TAG]]",
                                 "List images",
                                 "berth image ls, berth image list, berth images",
                                 opts,
                                 0,
                                 1,
                                 NULL };
  cleanup_free char **args = NULL;
  int r = opts_parse (&spec, ctx->cmdpath, argc, argv, &args);
  if (r)
    return r < 0 ? 0 : r;
  struct image_filters f = { 0 };
  if ((r = parse_image_filters (ctx, filters, &f, false)) != 0)
    {
      image_filters_release (&f);
      return r;
    }
  if (args[0])
    strv_push (&f.references, args[0]);
  struct store *s;
  struct image_rec **recs = NULL;
  size_t n = 0;
  if ((r = list_images (ctx, &f, &s, &recs, &n)) != 0)
    return r;
  /* Untagged images that are another image's parent (build steps) are intermediate: hidden
   * without -a, and never dangling (Docker lists dangling ones from the images with no child). */
  cleanup_strv char **parents = NULL;
  {
    berr_t err = BERR_INIT;
    if (store_image_parents (s, &parents, &err) < 0)
      {
        image_recs_free (recs, n);
        image_filters_release (&f);
        return cli_error (&err);
      }
  }
  cleanup_json json_t *rows = json_array ();
  for (size_t i = 0; i < n; i++)
    {
      struct image_rec *rec = recs[i];
      bool dangling = rec->tags == NULL;
      bool intermediate = dangling && rec->digests == NULL && strv_contains (parents, rec->id);
      if (intermediate && (!all || f.dangling == 1))
        continue;
      if (f.dangling == 1 && !dangling)
        continue;
      if (f.dangling == 0 && dangling)
        continue;
      if (f.before && rec->created >= f.before)
        continue;
      if (f.since && rec->created <= f.since)
        continue;
      if (!labels_match (s, rec->id, f.labels))
        continue;
      if (dangling)
        {
          if (f.references)
            continue;
          /* Repository from a repo digest if there is one. */
          cleanup_free char *repo = NULL;
          const char *dg = "<none>";
          if (rec->digests)
            {
              cleanup_free char *fam = ref_familiarize (rec->digests[0]);
              char *at = strchr (fam, '@');
              repo = at ? xstrndup (fam, (size_t)(at - fam)) : xstrdup (fam);
              dg = strchr (rec->digests[0], '@') + 1;
            }
          json_array_append_new (rows,
                                 image_row (rec, repo ? repo : "<none>", "<none>", dg, no_trunc));
          continue;
        }
      for (size_t k = 0; rec->tags[k]; k++)
        {
          cleanup_free char *fam = ref_familiarize (rec->tags[k]);
          if (!reference_matches (f.references, fam))
            continue;
          cleanup_free char *repo = NULL, *tag = NULL;
          image_split_tag (rec->tags[k], &repo, &tag);
          cleanup_free char *full_repo
              = xstrndup (rec->tags[k], (size_t)(strrchr (rec->tags[k], ':') - rec->tags[k]));
          const char *dg = digest_for_repo (rec, full_repo);
          json_array_append_new (rows, image_row (rec, repo, tag, dg ? dg : "<none>", no_trunc));
        }
    }
  image_recs_free (recs, n);
  image_filters_release (&f);
  cleanup_json json_t *headers = json_pack (
      "{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "ID", "IMAGE ID", "Repository",
      "REPOSITORY", "Tag", "TAG", "Digest", "DIGEST", "CreatedSince", "CREATED", "CreatedAt",
      "CREATED AT", "Size", "SIZE", "VirtualSize", "VIRTUAL SIZE", "SharedSize", "SHARED SIZE",
      "UniqueSize", "UNIQUE SIZE", "Containers", "CONTAINERS");
  if (quiet)
    return print_rows (rows, "{{.ID}}", NULL, headers);
  const char *dflt = digests ? "table {{.Repository}}\t{{.Tag}}\t{{.Digest}}\t{{.ID}}\t{{."
                               "CreatedSince}}\t{{.Size}}"
                             : "table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{."
                               "Size}}";
  if (format && strcmp (format, "table") == 0)
    format = NULL;
  return print_rows (rows, format, dflt, headers);
}

/* ---------------- load / save / import ---------------- */

int cmd_load (int argc, char **argv, struct berth_ctx *ctx)
{
  const char *input = NULL;
  bool quiet = false;
  const struct opt opts[] = {
    { "input", 'i', OPT_STRING, &input, "string", "Read from tar archive file, instead of STDIN" },
    { "quiet", 'q', OPT_BOOL, &quiet, NULL, "Suppress the load output" },
    { NULL, 0, 0, NULL, NULL, NULL },
  };
  const struct cmd_spec spec = { "load [OPTIONS]",
                                 "Load an image from a tar archive or STDIN",
                                 "berth image load, berth load",
                                 opts,
                                 0,
                                 0,
                                 NULL };
  cleanup_free char **args = NULL;
  int r = opts_parse (&spec, ctx->cmdpath, argc, argv, &args);
  if (r)
    return r < 0 ? 0 : r;
  cleanup_close int fd = -1;
  if (input && strcmp (input, "-") != 0)
    {
      fd = open (input, O_RDONLY | O_CLOEXEC);
      if (fd < 0)
        return cli_errorf ("open %s: %s", input, strerror (errno));
    }
  else
    {
      if (isatty (0))
        return cli_errorf ("requested load from stdin, but stdin is empty");
      fd = dup (0);
    }
  struct store *s;
  if (ctx_store (ctx, &s) < 0)
    return 1;
  struct load_opts lo = { .max_layer_size = ctx->max_layer_size };
  cleanup_strv char **lines = NULL;
  berr_t err = BERR_INIT;
  if (archive_load (s, fd, &lo, &lines, &err) < 0)
    return cli_error (&err);
  for (size_t i = 0; lines && lines[i]; i++)
    printf ("%s\n", lines[i]);
  return 0;
}

int cmd_save (int argc, char **argv, struct berth_ctx *ctx)
{
  const char *output = NULL, *format = "docker-archive";
  const struct opt opts[] = {
    { "output", 'o', OPT_STRING, &output, "string", "Write to a file, instead of STDOUT" },
    { "format", 0, OPT_STRING, &format, "string",
      "Archive format: \"docker-archive\" (default) or \"oci-archive\"" },
    { NULL, 0, 0, NULL, NULL, NULL },
  };
  const struct cmd_spec spec = { "save [OPTIONS] IMAGE [IMAGE...]",
                                 "Save one or more images to a tar archive (streamed to STDOUT by "
                                 "default)",
                                 "berth image save, berth save",
                                 opts,
                                 1,
                                 -1,
                                 NULL };
  cleanup_free char **args = NULL;
  int r = opts_parse (&spec, ctx->cmdpath, argc, argv, &args);
  if (r)
    return r < 0 ? 0 : r;
  enum save_format sf;
  if (strcmp (format, "docker-archive") == 0 || strcmp (format, "docker") == 0)
    sf = SAVE_DOCKER_ARCHIVE;
  else if (strcmp (format, "oci-archive") == 0 || strcmp (format, "oci") == 0)
    sf = SAVE_OCI_ARCHIVE;
  else
    return cli_errorf ("invalid --format %s: use docker-archive or oci-archive", format);
  if (output == NULL && isatty (1))
    return cli_errorf ("cowardly refusing to save to a terminal. Use the -o flag or redirect");
  struct store *s;
  if (ctx_store (ctx, &s) < 0)
    return 1;
  berr_t err = BERR_INIT;
  if (output == NULL || strcmp (output, "-") == 0)
    return archive_save (s, args, sf, 1, &err) < 0 ? cli_error (&err) : 0;
  /* Write beside the target and rename, so a failed save never leaves a half archive. The
   * temporary name is random and created exclusively (never through a planted symlink). */
  cleanup_free char *tmp = xasprintf ("%s.berth-XXXXXX", output);
  cleanup_close int fd = mkostemp (tmp, O_CLOEXEC);
  if (fd < 0)
    return cli_errorf ("failed to save image: %s: %s", output, strerror (errno));
  if (fchmod (fd, 0644) < 0)
    {
      int e = errno;
      unlink (tmp);
      return cli_errorf ("failed to save image: %s: %s", output, strerror (e));
    }
  if (archive_save (s, args, sf, fd, &err) < 0)
    {
      unlink (tmp);
      return cli_error (&err);
    }
  if (fsync (fd) < 0 || rename (tmp, output) < 0)
    {
      int e = errno;
      unlink (tmp);
      return cli_errorf ("failed to save image: %s: %s", output, strerror (e));
    }
  return 0;
}

static size_t curl_write_fd (char *ptr, size_t size, size_t nmemb, void *userdata)
{
  int fd = *(int *)userdata;
  return fs_write_all (fd, ptr, size * nmemb) == 0 ? size * nmemb : 0;
}

/* Download a URL into an unlinked temporary file; returns its fd rewound. */
static int fetch_url (struct berth_ctx *ctx, const char *url)
{
  berr_t lerr = BERR_INIT;
  if (lazy_curl_load (&lerr) < 0)
    return cli_error (&lerr), -1;
  int fd = open (ctx->root, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
  if (fd < 0)
    fd = open ("/tmp", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
  if (fd < 0)
    return cli_errorf ("temporary file: %s", strerror (errno)), -1;
  CURL *c = curl_easy_init ();
  char ebuf[CURL_ERROR_SIZE] = "";
  curl_easy_setopt (c, CURLOPT_URL, url);
  curl_easy_setopt (c, CURLOPT_FOLLOWLOCATION, 1L);
  curl_easy_setopt (c, CURLOPT_MAXREDIRS, 10L);
  curl_easy_setopt (c, CURLOPT_FAILONERROR, 1L);
  curl_easy_setopt (c, CURLOPT_WRITEFUNCTION, curl_write_fd);
  curl_easy_setopt (c, CURLOPT_WRITEDATA, &fd);
  curl_easy_setopt (c, CURLOPT_ERRORBUFFER, ebuf);
  curl_easy_setopt (c, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt (c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  CURLcode rc = curl_easy_perform (c);
  curl_easy_cleanup (c);
  if (rc != CURLE_OK)
    {
      close (fd);
      cli_errorf ("import %s: %s", url, ebuf[0] ? ebuf : curl_easy_strerror (rc));
      return -1;
    }
  lseek (fd, 0, SEEK_SET);
  return fd;
}

int cmd_import (int argc, char **argv, struct berth_ctx *ctx)
{
  cleanup_strv char **changes = NULL;
  const char *message = NULL, *platform = NULL;
  const struct opt opts[] = {
    { "change", 'c', OPT_STRINGS, &changes, "list",
      "Apply Dockerfile instruction to the created image" },
    { "message", 'm', OPT_STRING, &message, "string", "Set commit message for imported image" },
    { "platform", 0, OPT_STRING, &platform, "string",
      "Set platform if server is multi-platform capable" },
    { NULL, 0, 0, NULL, NULL, NULL },
  };
  const struct cmd_spec spec = { "import [OPTIONS] file|URL|- [REPOSITORY[:TAG]]",
                                 "Import the contents from a tarball to create a filesystem image",
                                 "berth image import, berth import",
                                 opts,
                                 1,
                                 2,
                                 NULL };
  cleanup_free char **args = NULL;
  int r = opts_parse (&spec, ctx->cmdpath, argc, argv, &args);
  if (r)
    return r < 0 ? 0 : r;
  if (platform && strcmp (platform, "linux/amd64") != 0 && strcmp (platform, "linux") != 0)
    return cli_errorf ("platform %s is not supported: berth imports for linux/amd64", platform);
  cleanup_free char *tag = NULL;
  if (args[1])
    {
      struct image_ref ref = { 0 };
      berr_t err = BERR_INIT;
      if (ref_parse_normalized (args[1], &ref, &err) < 0)
        return cli_error (&err);
      if (ref.digest)
        {
          ref_release (&ref);
          return cli_errorf ("refusing to create a tag with a digest reference");
        }
      if (ref.tag == NULL)
        ref.tag = xstrdup ("latest");
      tag = ref_string (&ref);
      ref_release (&ref);
    }
  const char *src = args[0];
  cleanup_close int fd = -1;
  if (strcmp (src, "-") == 0)
    fd = dup (0);
  else if (str_has_prefix (src, "http://") || str_has_prefix (src, "https://"))
    {
      fd = fetch_url (ctx, src);
      if (fd < 0)
        return 1;
    }
  else
    {
      fd = open (src, O_RDONLY | O_CLOEXEC);
      if (fd < 0)
        return cli_errorf ("open %s: %s", src, strerror (errno));
    }
  struct store *s;
  if (ctx_store (ctx, &s) < 0)
    return 1;
  struct import_opts io = { .tag = tag,
                            .changes = changes,
                            .message = message,
                            .source = src,
                            .max_layer_size = ctx->max_layer_size };
  char id[DIGEST_STR_LEN];
  berr_t err = BERR_INIT;
  if (image_import (s, fd, &io, id, &err) < 0)
    return cli_error (&err);
  printf ("%s\n", id);
  return 0;
}

/* ---------------- tag / rmi ---------------- */

int cmd_tag (int argc, char **argv, struct berth_ctx *ctx)
{
  const struct opt opts[] = { { NULL, 0, 0, NULL, NULL, NULL } };
  const struct cmd_spec spec = { "tag SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG]",
                                 "Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE",
                                 "berth image tag, berth tag",
                                 opts,
                                 2,
                                 2,
                                 NULL };
  cleanup_free char **args = NULL;
  int r = opts_parse (&spec, ctx->cmdpath, argc, argv, &args);
  if (r)
    return r < 0 ? 0 : r;
  berr_t err = BERR_INIT;
  cleanup_free char *full = NULL;
  int tr = ref_tag_target (args[1], &full, &err);
  if (tr < 0)
    {
      if (tr == -1)
        cli_errorf ("invalid reference format: \"%s\": %s", args[1], err.msg);
      else
        cli_errorf ("%s", err.msg);
      berr_release (&err);
      return 1;
    }
  struct store *s;
  if (ctx_store (ctx, &s) < 0)
    return 1;
  struct image_rec *rec = NULL;
  if (store_image_lookup (s, args[0], &rec, &err) < 0)
    return cli_error (&err);
  char old[DIGEST_STR_LEN];
  r = store_tag (s, rec->id, full, old, &err);
  image_rec_free (rec);
  return r < 0 ? cli_error (&err) : 0;
}

int cmd_rmi (int argc, char **argv, struct berth_ctx *ctx)
{
  bool force = false, no_prune = false;
  const struct opt opts[] = {
    { "force", 'f', OPT_BOOL, &force, NULL, "Force removal of the image" },
    { "no-prune", 0, OPT_BOOL, &no_prune, NULL, "Do not delete untagged parents" },
    { NULL, 0, 0, NULL, NULL, NULL },
  };
  const struct cmd_spec spec = { "rmi [OPTIONS] IMAGE [IMAGE...]",
                                 "Remove one or more images",
                                 "berth image rm, berth image remove, berth rmi",
                                 opts,
                                 1,
                                 -1,
                                 NULL };
  cleanup_free char **args = NULL;
  int r = opts_parse (&spec, ctx->cmdpath, argc, argv, &args);
  if (r)
    return r < 0 ? 0 : r;
  struct store *s;
  if (ctx_store (ctx, &s) < 0)
    return 1;
  int rc = 0;
  for (size_t i = 0; args[i]; i++)
    {
      cleanup_strv char **lines = NULL;
      berr_t err = BERR_INIT;
      if (store_image_remove (s, args[i], force, !no_prune, &lines, NULL, &err) < 0)
        {
          rc = cli_error (&err);
          continue;
        }
      for (size_t k = 0; lines && lines[k]; k++)
        printf ("%s\n", lines[k]);
    }
  return rc;
}

/* ---------------- inspect / history ---------------- */

static int inspect_images (struct berth_ctx *ctx, char **names, const char *format)
{
  struct store *s;
  if (ctx_store (ctx, &s) < 0)
    return 1;
  cleanup_json json_t *out = json_array ();
  int rc = 0;
  cleanup_strv char **errors = NULL;
  for (size_t i = 0; names[i]; i++)
    {
      struct image_rec *rec = NULL;
      berr_t err = BERR_INIT;
      json_t *config = NULL;
      if (store_image_lookup (s, names[i], &rec, &err) < 0
          || store_image_config (s, rec->id, &config, &err) < 0)
        {
          strv_push (&errors, err.msg);
          berr_release (&err);
          image_rec_free (rec);
          rc = 1;
          continue;
        }
      json_array_append_new (out, image_inspect_json (s, rec, config));
      json_decref (config);
      image_rec_free (rec);
    }
  int prc = 0;
  if (json_array_size (out) > 0 || format == NULL)
    prc = print_inspect (out, format);
  for (size_t i = 0; errors && errors[i]; i++)
    fprintf (stderr, "Error: %s\n", errors[i]);
  return rc ? rc : prc;
}

int cmd_image_inspect (int argc, char **argv, struct berth_ctx *ctx)
{
  const char *format = NULL;
  const char *platform = NULL;
  const struct opt opts[] = {
    { "format", 'f', OPT_STRING, &format, "string",
      "Format output using a custom template:\n'json': Print in JSON format\n'TEMPLATE': Print "
      "output using the given Go template" },
    { "platform", 0, OPT_STRING, &platform, "string", "Inspect a specific platform" },
    { NULL, 0, 0, NULL, NULL, NULL },
  };
  const struct cmd_spec spec = { "image inspect [OPTIONS] IMAGE [IMAGE...]",
                                 "Display detailed information on one or more images",
                                 NULL,
                                 opts,
                                 1,
                                 -1,
                                 NULL };
  cleanup_free char **args = NULL;
  int r = opts_parse (&spec, ctx->cmdpath, argc, argv, &args);
  if (r)
    return r < 0 ? 0 : r;
  if (format && strcmp (format, "json") == 0)
    format = NULL;
  return inspect_images (ctx, args, format);
}

int cmd_inspect (int argc, char **argv, struct berth_ctx *ctx)
{
  const char *format = NULL, *type = NULL;
  bool size = false;
  const struct opt opts[] = {
    { "format", 'f', OPT_STRING, &format, "string",
      "Format output using a custom template:\n'json': Print in JSON format\n'TEMPLATE': Print "
      "output using the given Go template" },
    { "size", 's', OPT_BOOL, &size, NULL, "Display total file sizes if the type is container" },
    { "type", 0, OPT_STRING, &type, "string", "Only inspect objects of the given type" },
    { NULL, 0, 0, NULL, NULL, NULL },
  };
  const struct cmd_spec spec = { "inspect [OPTIONS] NAME|ID [NAME|ID...]",
                                 "Return low-level information on berth objects",
                                 NULL,
                                 opts,
                                 1,
                                 -1,
                                 NULL };
  cleanup_free char **args = NULL;
  int r = opts_parse (&spec, ctx->cmdpath, argc, argv, &args);
  if (r)
    return r < 0 ? 0 : r;
  if (type && strcmp (type, "image") != 0 && strcmp (type, "container") != 0
      && strcmp (type, "volume") != 0 && strcmp (type, "network") != 0)
    return cli_errorf ("\"%s\" is not a valid value for --type", type);
  if (format && strcmp (format, "json") == 0)
    format = NULL;
  if (type && strcmp (type, "image") == 0)
    return inspect_images (ctx, args, format);
  /* Docker's order: containers first, then images, networks and volumes, in the order
   * given. */
  cleanup_json json_t *out = json_array ();
  cleanup_strv char **errors = NULL;
  struct store *s;
  if (ctx_store (ctx, &s) < 0)
    return 1;
  for (size_t i = 0; args[i]; i++)
    {
      char *one[] = { args[i], NULL };
      cleanup_strv char **missing = NULL;
      if ((type == NULL || strcmp (type, "container") == 0)
          && inspect_containers (ctx, one, out, size, &missing) < 0)
        return 1;
      if (type && strcmp (type, "container") != 0)
        strv_push (&missing, args[i]);
      if (missing == NULL)
        continue;
      struct image_rec *rec = NULL;
      berr_t err = BERR_INIT;
      json_t *config = NULL;
      struct volume_rec *vol = NULL;
      if (type == NULL && store_image_lookup (s, args[i], &rec, &err) == 0
          && store_image_config (s, rec->id, &config, &err) == 0)
        {
          json_array_append_new (out, image_inspect_json (s, rec, config));
          json_decref (config);
        }
      else if ((type == NULL || strcmp (type, "network") == 0)
               && (berr_release (&err), inspect_network (ctx, args[i], out, &err) == 0))
        ;
      else if (err.msg && err.kind != BERR_NOT_FOUND
               && (type == NULL || strcmp (type, "network") == 0))
        strv_push (&errors, err.msg);
      else if ((type == NULL || strcmp (type, "volume") == 0)
               && (berr_release (&err), volume_get (s, args[i], &vol, &err) == 0))
        {
          json_array_append_new (out, volume_inspect_json (vol));
          volume_rec_free (vol);
        }
      else
        strv_push_take (&errors, xasprintf ("No such object: %s", args[i]));
      berr_release (&err);
      image_rec_free (rec);
    }
  int rc = 0;
  if (json_array_size (out) > 0 || format == NULL)
    rc = print_inspect (out, format);
  for (size_t i = 0; errors && errors[i]; i++)
    fprintf (stderr, "Error: %s\n", errors[i]);
  return errors ? 1 : rc;
}

int cmd_history (int argc, char **argv, struct berth_ctx *ctx)
{
  bool human = true, no_trunc = false, quiet = false;
  const char *format = NULL;
  const struct opt opts[] = {
    { "format", 0, OPT_STRING, &format, "string", "Format output using a custom template" },
    { "human", 'H', OPT_BOOL, &human, NULL,
      "Print sizes and dates in human readable format (default true)" },
    { "no-trunc", 0, OPT_BOOL, &no_trunc, NULL, "Don't truncate output" },
    { "quiet", 'q', OPT_BOOL, &quiet, NULL, "Only show image IDs" },
    { NULL, 0, 0, NULL, NULL, NULL },
  };
  const struct cmd_spec spec = { "history [OPTIONS] IMAGE",
                                 "Show the history of an image",
                                 "berth image history, berth history",
                                 opts,
                                 1,
                                 1,
                                 NULL };
  cleanup_free char **args = NULL;
  int r = opts_parse (&spec, ctx->cmdpath, argc, argv, &args);
  if (r)
    return r < 0 ? 0 : r;
  struct store *s;
  if (ctx_store (ctx, &s) < 0)
    return 1;
  struct image_rec *rec = NULL;
  berr_t err = BERR_INIT;
  json_t *config = NULL;
  if (store_image_lookup (s, args[0], &rec, &err) < 0
      || store_image_config (s, rec->id, &config, &err) < 0)
    {
      image_rec_free (rec);
      return cli_error (&err);
    }
  cleanup_json json_t *hist = image_history (s, rec, config);
  json_decref (config);
  image_rec_free (rec);
  cleanup_json json_t *rows = json_array ();
  size_t i;
  json_t *h;
  json_array_foreach (hist, i, h)
  {
    const char *hid = json_get_str (h, "ID");
    cleanup_free char *id
        = strcmp (hid, "<missing>") == 0 || no_trunc ? xstrdup (hid) : fmt_short_id (hid);
    int64_t created = json_integer_value (json_object_get (h, "CreatedAt"));
    int64_t size = json_integer_value (json_object_get (h, "Size"));
    cleanup_free char *by_raw = xstrdup (json_get_str (h, "CreatedBy"));
    for (char *p = by_raw; *p; p++)
      if (*p == '\t')
        *p = ' ';
    cleanup_free char *by = no_trunc ? xstrdup (by_raw) : fmt_ellipsis (by_raw, 45);
    char tbuf[64];
    cleanup_free char *since
        = human ? fmt_since (created) : xstrdup (units_rfc3339_nano (created, tbuf, sizeof tbuf));
    cleanup_free char *sz = human ? fmt_size (size) : xasprintf ("%" PRId64, size);
    json_array_append_new (
        rows, json_pack ("{s:s, s:s, s:s, s:s, s:s, s:s}", "ID", id, "CreatedSince", since,
                         "CreatedAt", units_rfc3339_nano (created, tbuf, sizeof tbuf), "CreatedBy",
                         by, "Size", sz, "Comment", json_get_str (h, "Comment")));
  }
  cleanup_json json_t *headers = json_pack (
      "{s:s, s:s, s:s, s:s, s:s, s:s}", "ID", "IMAGE", "CreatedSince", "CREATED", "CreatedAt",
      "CREATED AT", "CreatedBy", "CREATED BY", "Size", "SIZE", "Comment", "COMMENT");
  if (quiet)
    return print_rows (rows, "{{.ID}}", NULL, headers);
  if (format && strcmp (format, "table") == 0)
    format = NULL;
  return print_rows (rows, format,
                     "table {{.ID}}\t{{.CreatedSince}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}",
                     headers);
}

/* ---------------- image prune ---------------- */

/* system prune adds what it removed before the images to the one total it prints. */
int64_t prune_reclaimed_before;
bool prune_build_cache_too;

int cmd_image_prune (int argc, char **argv, struct berth_ctx *ctx)
{
  bool all = false, force = false;
  cleanup_strv char **filters = NULL;
  const struct opt opts[] = {
    { "all", 'a', OPT_BOOL, &all, NULL, "Remove all unused images, not just dangling ones" },
    { "filter", 0, OPT_STRINGS, &filters, "filter",
      "Provide filter values (e.g. \"until=<timestamp>\")" },
    { "force", 'f', OPT_BOOL, &force, NULL, "Do not prompt for confirmation" },
    { NULL, 0, 0, NULL, NULL, NULL },
  };
  const struct cmd_spec spec
      = { "image prune [OPTIONS]", "Remove unused images", NULL, opts, 0, 0, NULL };
  cleanup_free char **args = NULL;
  int r = opts_parse (&spec, ctx->cmdpath, argc, argv, &args);
  if (r)
    return r < 0 ? 0 : r;
  struct image_filters f = { 0 };
  if ((r = parse_image_filters (ctx, filters, &f, true)) != 0)
    {
      image_filters_release (&f);
      return r;
    }
  int64_t until = 0;
  for (size_t i = 0; filters && filters[i]; i++)
    if (str_has_prefix (filters[i], "until="))
      {
        const char *v = filters[i] + 6;
        char *end;
        long long secs = strtoll (v, &end, 10);
        berr_t err = BERR_INIT;
        int64_t ns;
        if (*end == '\0' && end != v)
          until = (int64_t)secs * 1000000000LL;
        else if (units_parse_rfc3339 (v, &ns, &err) == 0)
          until = ns;
        else
          {
            /* A Go duration such as "24h" or "30m": relative to now. */
            double d = strtod (v, &end);
            int64_t mult = strcmp (end, "h") == 0   ? 3600
                           : strcmp (end, "m") == 0 ? 60
                           : strcmp (end, "s") == 0 ? 1
                                                    : 0;
            berr_release (&err);
            if (end == v || mult == 0)
              {
                image_filters_release (&f);
                return cli_errorf ("invalid filter 'until=%s'", v);
              }
            until = now_ns () - (int64_t)(d * (double)mult * 1e9);
          }
      }
  if (!force
      && !cli_confirm (all ? "WARNING! This will remove all images without at least one container "
                             "associated to them."
                           : "WARNING! This will remove all dangling images."))
    {
      image_filters_release (&f);
      return 0;
    }
  struct store *s;
  struct image_rec **recs = NULL;
  size_t n = 0;
  if ((r = list_images (ctx, &f, &s, &recs, &n)) != 0)
    return r;
  berr_t err = BERR_INIT;
  cleanup_strv char **lines = NULL;
  int64_t reclaimed = prune_reclaimed_before;
  int rc = 0;
  /* An image with a child stays (store_image_delete_id returns 1); with -a its child may come
   * later in the list, so go round again while something was deleted. Untagged parents left
   * childless go with the image they parented (Docker's prune of parents). */
  cleanup_free bool *gone = xzalloc ((n + 1) * sizeof *gone);
  /* A running build stacks on its untagged results: they stay until it ends. */
  bool building = store_build_running (s);
  for (size_t i = 0; building && i < n; i++)
    gone[i] = store_image_is_build_result (s, recs[i]->id);
  for (bool progress = true; progress;)
    {
      progress = false;
      for (size_t i = 0; i < n; i++)
        {
          struct image_rec *rec = recs[i];
          if (gone[i] || (!all && rec->tags != NULL))
            continue;
          if (until && rec->created >= until)
            continue;
          if (!labels_match (s, rec->id, f.labels))
            continue;
          cleanup_strv char **l = NULL;
          int d = store_image_delete_id (s, rec->id, !all, &l, &reclaimed, &err);
          if (d < 0)
            {
              rc = cli_error (&err);
              gone[i] = true; /* reported once */
              continue;
            }
          if (d == 0)
            gone[i] = progress = true;
          for (size_t k = 0; l && l[k]; k++)
            {
              /* prune prints these in lower case */
              char *line = xstrdup (l[k]);
              line[0] = (char)(line[0] == 'U' ? 'u' : line[0] == 'D' ? 'd' : line[0]);
              strv_push_take (&lines, line);
            }
        }
    }
  image_recs_free (recs, n);
  image_filters_release (&f);
  /* Layers no image uses (left by a failed or killed pull) go too. */
  if (store_layer_gc (s, &reclaimed, &err) < 0)
    rc = cli_error (&err);
  if (lines)
    {
      printf ("Deleted Images:\n");
      for (size_t k = 0; lines[k]; k++)
        printf ("%s\n", lines[k]);
      printf ("\n");
    }
  if (prune_build_cache_too)
    rc |= prune_build_cache (ctx, all, until, &reclaimed);
  cleanup_free char *sz = fmt_size4 (reclaimed);
  printf ("Total reclaimed space: %s\n", sz);
  return rc;
}
