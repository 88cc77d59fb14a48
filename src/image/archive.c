/* archive.c — docker-archive and OCI-archive load and save.
 *
 * Load is one pass over the outer tar: small entries (JSON documents) are kept in memory, large
 * ones are applied as layers into the staging area while their raw bytes are hashed and copied to
 * a staged blob. Only at the end, when manifest.json or index.json is known, do we decide which
 * entries are the images' configs and layers and verify every digest. Then one store commit. */
#include "archive.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "image/config.h"
#include "image/layer.h"
#include "image/ref.h"
#include "util/fs.h"
#include "util/json.h"
#include "util/lazylib.h"
#include "util/log.h"

#define MAX_MEMORY (256u << 20) /* JSON documents kept in memory, all together */
#define MAX_ENTRIES (1u << 20)  /* entries in an archive */
#define MAX_NAMES (256u << 20)  /* bytes of entry names, all together */
#define MAX_IMAGES 10000        /* images (manifests) in one load */
#define MAX_JSON_DOC (64u << 20)

enum entry_kind
{
  ENTRY_MEM,
  ENTRY_STAGED,
  ENTRY_LINK,
};

struct entry
{
  char *name;
  enum entry_kind kind;
  /* ENTRY_MEM */
  char *data;
  size_t len;
  /* ENTRY_STAGED: raw bytes in blob_path; applied into dir_path when it was a tar */
  char *blob_path;
  char *split_path;
  char *dir_path;
  bool applied;
  char *apply_error;
  struct layer_apply_result res;
  /* ENTRY_LINK */
  char *target;
  /* set once used as a layer (after verification) */
  bool layer_ready;
};

struct load_ctx
{
  struct store *s;
  const struct load_opts *opts;
  struct entry *entries;
  size_t n, cap;
  size_t mem_total;
  size_t name_bytes;
  /* Open-addressing index over entries by name: slots hold entry index + 1, 0 = empty. */
  uint32_t *slots;
  size_t nslots;
  /* OCI indexes and manifests already followed (digests), so a hostile index that names the
   * same thing many times does not multiply the work. */
  char **seen;
};

static void load_ctx_release (struct load_ctx *c)
{
  for (size_t i = 0; i < c->n; i++)
    {
      struct entry *e = &c->entries[i];
      free (e->name);
      free (e->data);
      free (e->blob_path);
      free (e->split_path);
      free (e->dir_path);
      free (e->apply_error);
      free (e->target);
    }
  free (c->entries);
  free (c->slots);
  strv_free (c->seen);
}

/* "./a//b/" -> "a/b"; rejects nothing (names are only looked up, never used as paths). */
static char *normalize_name (const char *name)
{
  struct sbuf b;
  sbuf_init (&b);
  const char *p = name;
  while (*p)
    {
      while (*p == '/')
        p++;
      const char *q = p;
      while (*q && *q != '/')
        q++;
      size_t l = (size_t)(q - p);
      if (l == 0)
        break;
      if (l == 1 && p[0] == '.')
        ;
      else if (l == 2 && p[0] == '.' && p[1] == '.')
        {
          char *slash = b.len ? strrchr (b.buf, '/') : NULL;
          b.len = slash ? (size_t)(slash - b.buf) : 0;
          if (b.buf)
            b.buf[b.len] = '\0';
        }
      else
        {
          if (b.len)
            sbuf_addc (&b, '/');
          sbuf_add (&b, p, l);
        }
      p = q;
    }
  return sbuf_detach (&b);
}

static size_t name_hash (const char *s)
{
  size_t h = 1469598103934665603ull; /* FNV-1a */
  for (; *s; s++)
    h = (h ^ (unsigned char)*s) * 1099511628211ull;
  return h;
}

/* The slot for name: where it is, or the empty slot where it would go. */
static uint32_t *slot_for (struct load_ctx *c, const char *name)
{
  size_t mask = c->nslots - 1;
  for (size_t i = name_hash (name) & mask;; i = (i + 1) & mask)
    if (c->slots[i] == 0 || strcmp (c->entries[c->slots[i] - 1].name, name) == 0)
      return &c->slots[i];
}

static void grow_slots (struct load_ctx *c)
{
  free (c->slots);
  c->nslots = c->nslots ? c->nslots * 2 : 64;
  c->slots = xcalloc (c->nslots, sizeof *c->slots);
  for (size_t i = 0; i < c->n; i++)
    *slot_for (c, c->entries[i].name) = (uint32_t)(i + 1);
}

static struct entry *lookup (struct load_ctx *c, const char *name)
{
  if (c->nslots == 0)
    return NULL;
  uint32_t v = *slot_for (c, name);
  return v ? &c->entries[v - 1] : NULL;
}

/* The entry for name, new or reset: a later entry with the same name replaces the earlier one,
 * as tar extraction would. NULL when the archive has too many entries or too long names. */
static struct entry *add_entry (struct load_ctx *c, const char *name, berr_t *err)
{
  struct entry *e = lookup (c, name);
  if (e)
    {
      free (e->data);
      free (e->target);
      free (e->apply_error);
      free (e->blob_path);
      free (e->split_path);
      free (e->dir_path);
      char *nm = e->name;
      memset (e, 0, sizeof *e);
      e->name = nm;
      return e;
    }
  c->name_bytes += strlen (name) + 1;
  if (c->n >= MAX_ENTRIES || c->name_bytes > MAX_NAMES)
    {
      berr_setk (err, BERR_INVALID, 0, "invalid archive: more than %u entries or %u MiB of names",
                 MAX_ENTRIES, MAX_NAMES >> 20);
      return NULL;
    }
  if (c->n == c->cap)
    {
      c->cap = c->cap ? c->cap * 2 : 32;
      c->entries = xrealloc (c->entries, c->cap * sizeof *c->entries);
    }
  if ((c->n + 1) * 2 > c->nslots)
    grow_slots (c);
  e = &c->entries[c->n];
  memset (e, 0, sizeof *e);
  e->name = xstrdup (name);
  *slot_for (c, name) = (uint32_t)(++c->n);
  return e;
}

static struct entry *find_entry (struct load_ctx *c, const char *name)
{
  cleanup_free char *n = normalize_name (name);
  for (int hops = 0; hops < 16; hops++)
    {
      struct entry *found = lookup (c, n);
      if (found == NULL || found->kind != ENTRY_LINK)
        return found;
      free (n);
      n = xstrdup (found->target);
    }
  return NULL;
}

struct outer_reader
{
  struct archive *a;
};

static ssize_t outer_read (void *cookie, void *buf, size_t len)
{
  struct outer_reader *r = cookie;
  la_ssize_t n = archive_read_data (r->a, buf, len);
  if (n < 0)
    {
      errno = EIO;
      return -1;
    }
  return n;
}

struct mem_reader
{
  const char *data;
  size_t len, off;
};

static ssize_t mem_read (void *cookie, void *buf, size_t len)
{
  struct mem_reader *m = cookie;
  size_t n = m->len - m->off;
  if (n > len)
    n = len;
  memcpy (buf, m->data + m->off, n);
  m->off += n;
  return (ssize_t)n;
}

/* Apply an entry as a layer into the staging area. Its bytes are kept as a staged blob, or for
 * an uncompressed tar as a tar-split (headers only; the contents are the unpacked files). */
static int stage_layer (struct load_ctx *c, struct entry *e, layer_read_fn rd, void *cookie,
                        berr_t *err)
{
  cleanup_close int bfd = -1, sfd = -1;
  if (store_stage_file (c->s, "blob", &e->blob_path, &bfd, err) < 0
      || store_stage_file (c->s, "split", &e->split_path, &sfd, err) < 0
      || store_stage_dir (c->s, "layer", &e->dir_path, err) < 0)
    return -1;
  cleanup_close int dfd = open (e->dir_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0)
    return berr_set (err, errno, "open %s", e->dir_path);
  struct layer_apply_opts lo = { .max_size = c->opts ? c->opts->max_layer_size : 0,
                                 .blob_fd = bfd,
                                 .use_split = true,
                                 .split_fd = sfd };
  e->kind = ENTRY_STAGED;
  berr_t aerr = BERR_INIT;
  if (layer_apply (rd, cookie, dfd, &lo, &e->res, &aerr) == 0)
    {
      e->applied = true;
      return 0;
    }
  /* Not a layer, or a broken one: decided later, when we know whether it was meant as one. */
  e->apply_error = xstrdup (aerr.msg);
  berr_release (&aerr);
  return 0;
}

/* An entry that was meant as a layer (or a document) but could not be applied. */
static int entry_unusable (struct entry *e, berr_t *err)
{
  return berr_setk (err, BERR_INVALID, 0, "layer %s: %s", e->name,
                    e->apply_error ? e->apply_error : "not a tar archive");
}

/* A reader that first hands back bytes already read from the entry (the sniffed prefix). */
struct peek_reader
{
  struct archive *a;
  char buf[16];
  size_t len, off;
};

static ssize_t peek_read (void *cookie, void *buf, size_t len)
{
  struct peek_reader *r = cookie;
  if (r->off < r->len)
    {
      size_t k = r->len - r->off < len ? r->len - r->off : len;
      memcpy (buf, r->buf + r->off, k);
      r->off += k;
      return (ssize_t)k;
    }
  struct outer_reader o = { r->a };
  return outer_read (&o, buf, len);
}

/* An entry named "blobs/sha256/<hex>" (Docker 25+ and OCI layouts) whose hex is the diff_id of a
 * layer the store already has is that uncompressed layer, if its bytes hash to it: then it is
 * only hashed, not unpacked again. Returns 1 when it was handled (reused, or marked unusable on a
 * digest mismatch), 0 when it is not such an entry, -1 on a read error. */
static int reuse_stored_layer (struct load_ctx *c, struct entry *e, struct peek_reader *pr,
                               berr_t *err)
{
  const char *slash = strrchr (e->name, '/');
  const char *hex = slash ? slash + 1 : e->name;
  if (slash == NULL || slash - e->name < 6 || strncmp (slash - 6, "sha256", 6) != 0
      || strlen (hex) != DIGEST_HEX_LEN || !str_is_hex (hex, DIGEST_HEX_LEN))
    return 0;
  char d[DIGEST_STR_LEN];
  snprintf (d, sizeof d, "sha256:%s", hex);
  struct layer_info li;
  berr_t lerr = BERR_INIT;
  int r = store_layer_get (c->s, d, &li, &lerr);
  berr_release (&lerr);
  if (r != 0)
    return 0;
  struct sha256 h;
  sha256_init (&h);
  uint64_t n = 0;
  cleanup_free char *buf = xmalloc (1 << 20);
  for (;;)
    {
      ssize_t k = peek_read (pr, buf, 1 << 20);
      if (k < 0)
        {
          sha256_release (&h);
          layer_info_release (&li);
          return berr_setk (err, BERR_INVALID, 0, "invalid archive: %s",
                            archive_error_string (pr->a));
        }
      if (k == 0)
        break;
      sha256_update (&h, buf, (size_t)k);
      n += (uint64_t)k;
    }
  char got[DIGEST_STR_LEN];
  sha256_final (&h, got);
  e->kind = ENTRY_STAGED;
  memset (&e->res, 0, sizeof e->res);
  memcpy (e->res.digest, got, DIGEST_STR_LEN);
  if (strcmp (got, d) != 0)
    e->apply_error = xasprintf ("filesystem layer verification failed: digest %s", got);
  else
    {
      log_debug ("layer %s is already stored: verified, not unpacked again", d);
      e->applied = true;
      memcpy (e->res.diff_id, d, DIGEST_STR_LEN);
      e->res.size = e->res.tar_size = n;
      e->res.content_size = (uint64_t)li.size;
      snprintf (e->res.compression, sizeof e->res.compression, "none");
    }
  layer_info_release (&li);
  return 1;
}

/* One regular file of the archive. JSON documents (configs, manifests, indexes: they start with
 * '{' or '[') are kept in memory; anything else is applied as a layer at once, streaming, so a
 * layer is read exactly once whatever its size. Which entries really are layers and configs is
 * decided later, from manifest.json or index.json. */
static int read_file_entry (struct load_ctx *c, struct archive *a, struct entry *e, int64_t size,
                            berr_t *err)
{
  struct peek_reader pr = { .a = a };
  while (pr.len < sizeof pr.buf)
    {
      la_ssize_t n = archive_read_data (a, pr.buf + pr.len, sizeof pr.buf - pr.len);
      if (n < 0)
        return berr_setk (err, BERR_INVALID, 0, "invalid archive: %s", archive_error_string (a));
      if (n == 0)
        break;
      pr.len += (size_t)n;
    }
  size_t i = 0;
  while (i < pr.len && strchr (" \t\r\n", pr.buf[i]))
    i++;
  bool json = pr.len == 0 || (i < pr.len && (pr.buf[i] == '{' || pr.buf[i] == '['));
  if (!json)
    {
      int r = reuse_stored_layer (c, e, &pr, err);
      if (r != 0)
        return r < 0 ? -1 : 0;
      return stage_layer (c, e, peek_read, &pr, err);
    }
  if (size < 0 || (uint64_t)size > MAX_JSON_DOC || c->mem_total + (size_t)size > MAX_MEMORY)
    return berr_setk (err, BERR_INVALID, 0,
                      "invalid archive: JSON documents over %u MiB (this one: %lld bytes)",
                      MAX_MEMORY >> 20, (long long)size);
  e->kind = ENTRY_MEM;
  e->data = xmalloc ((size_t)size + 1);
  size_t got = pr.len < (size_t)size ? pr.len : (size_t)size;
  memcpy (e->data, pr.buf, got);
  while (got < (size_t)size)
    {
      la_ssize_t n = archive_read_data (a, e->data + got, (size_t)size - got);
      if (n <= 0)
        break;
      got += (size_t)n;
    }
  if (got != (size_t)size)
    return berr_setk (err, BERR_INVALID, 0, "invalid archive: truncated: %s",
                      archive_error_string (a) ? archive_error_string (a) : "short read");
  e->data[got] = '\0';
  e->len = got;
  c->mem_total += got;
  return 0;
}

static int read_outer (struct load_ctx *c, int fd, berr_t *err)
{
  struct archive *a = archive_read_new ();
  layer_add_filters (a);
  archive_read_support_format_tar (a);
  archive_read_support_format_gnutar (a);
  if (archive_read_open_fd (a, fd, 1 << 20) != ARCHIVE_OK)
    {
      berr_setk (err, BERR_INVALID, 0, "invalid archive: %s", archive_error_string (a));
      archive_read_free (a);
      return -1;
    }
  int ret = 0;
  size_t nfiles = 0;
  for (;;)
    {
      struct archive_entry *ae;
      int r = archive_read_next_header (a, &ae);
      if (r == ARCHIVE_EOF)
        break;
      if (r < ARCHIVE_WARN)
        {
          ret = berr_setk (err, BERR_INVALID, 0, "invalid archive: %s", archive_error_string (a));
          break;
        }
      cleanup_free char *name = normalize_name (archive_entry_pathname (ae));
      if (name[0] == '\0')
        continue;
      const char *hl = archive_entry_hardlink (ae);
      mode_t type = archive_entry_filetype (ae);
      if (hl)
        {
          struct entry *e = add_entry (c, name, err);
          if (e == NULL)
            {
              ret = -1;
              break;
            }
          e->kind = ENTRY_LINK;
          e->target = normalize_name (hl);
          continue;
        }
      if (type == AE_IFLNK)
        {
          const char *t = archive_entry_symlink (ae);
          cleanup_free char *dir = xstrdup (name);
          char *slash = strrchr (dir, '/');
          if (slash)
            *slash = '\0';
          else
            dir[0] = '\0';
          cleanup_free char *joined
              = t[0] == '/' ? xstrdup (t) : xasprintf ("%s%s%s", dir, dir[0] ? "/" : "", t);
          struct entry *e = add_entry (c, name, err);
          if (e == NULL)
            {
              ret = -1;
              break;
            }
          e->kind = ENTRY_LINK;
          e->target = normalize_name (joined);
          continue;
        }
      if (type != AE_IFREG)
        continue;
      nfiles++;
      struct entry *e = add_entry (c, name, err);
      if (e == NULL)
        {
          ret = -1;
          break;
        }
      if (read_file_entry (c, a, e, archive_entry_size (ae), err) < 0)
        {
          ret = berr_wrap (err, "archive entry %s", name);
          break;
        }
    }
  archive_read_free (a);
  if (ret == 0 && nfiles == 0)
    ret = berr_setk (err, BERR_INVALID, 0, "invalid archive: it contains no files");
  return ret;
}

/* The raw bytes of an entry (memory or staged file), for JSON documents. */
static int entry_bytes (struct entry *e, char **data, size_t *len, berr_t *err)
{
  if (e->kind == ENTRY_MEM)
    {
      *data = xmalloc (e->len + 1);
      memcpy (*data, e->data, e->len);
      (*data)[e->len] = '\0';
      *len = e->len;
      return 0;
    }
  if (!e->applied || e->res.split)
    return berr_setk (err, BERR_INVALID, 0, "%s is not a JSON document", e->name);
  return fs_read_file (e->blob_path, MAX_JSON_DOC, data, len, err);
}

static void entry_digest (struct entry *e, char out[DIGEST_STR_LEN])
{
  if (e->kind == ENTRY_MEM)
    sha256_digest (e->data, e->len, out);
  else
    memcpy (out, e->res.digest, DIGEST_STR_LEN);
}

static const char *compression_media_type (const char *compression)
{
  if (strcmp (compression, "gzip") == 0)
    return "application/vnd.oci.image.layer.v1.tar+gzip";
  if (strcmp (compression, "zstd") == 0)
    return "application/vnd.oci.image.layer.v1.tar+zstd";
  if (strcmp (compression, "none") == 0)
    return "application/vnd.oci.image.layer.v1.tar";
  return "application/octet-stream"; /* bzip2/xz: not an OCI layer type; kept as received */
}

/* Make sure entry e is an applied layer; small (in-memory) entries are applied now. */
static int entry_as_layer (struct load_ctx *c, struct entry *e, berr_t *err)
{
  if (e->kind == ENTRY_MEM)
    {
      struct mem_reader m = { e->data, e->len, 0 };
      if (stage_layer (c, e, mem_read, &m, err) < 0)
        return -1;
      free (e->data);
      e->data = NULL;
    }
  if (e->kind != ENTRY_STAGED)
    return berr_setk (err, BERR_INVALID, 0, "layer %s: not a file", e->name);
  if (!e->applied)
    return entry_unusable (e, err);
  return 0;
}

/* Ingest arrays being built. */
struct ingest
{
  struct ingest_layer *layers;
  size_t nlayers;
  struct ingest_image *images;
  size_t nimages;
};

static void ingest_release (struct ingest *in)
{
  for (size_t i = 0; i < in->nlayers; i++)
    free (in->layers[i].media_type);
  free (in->layers);
  for (size_t i = 0; i < in->nimages; i++)
    {
      struct ingest_image *im = &in->images[i];
      free (im->staged_config);
      free (im->staged_manifest);
      free (im->manifest);
      free (im->parent);
      strv_free (im->diff_ids);
      strv_free (im->tags);
      strv_free (im->digests);
    }
  free (in->images);
}

static void ingest_add_layer (struct load_ctx *c, struct ingest *in, struct entry *e)
{
  for (size_t i = 0; i < in->nlayers; i++)
    if (strcmp (in->layers[i].diff_id, e->res.diff_id) == 0)
      return;
  in->layers = xrealloc (in->layers, (in->nlayers + 1) * sizeof *in->layers);
  struct ingest_layer *l = &in->layers[in->nlayers++];
  memset (l, 0, sizeof *l);
  memcpy (l->diff_id, e->res.diff_id, DIGEST_STR_LEN);
  l->staged_dir = e->dir_path;
  if (e->res.split)
    l->staged_split = e->split_path; /* no blob: the tar is replayed from the split */
  else
    {
      memcpy (l->blob, e->res.digest, DIGEST_STR_LEN);
      l->staged_blob = e->blob_path;
    }
  l->media_type = xstrdup (compression_media_type (e->res.compression));
  l->blob_size = (int64_t)e->res.size;
  l->tar_size = (int64_t)e->res.tar_size;
  l->size = (int64_t)e->res.content_size;
  (void)c;
}

/* Stage the config bytes as a blob file for the commit. */
static int stage_bytes (struct store *s, const char *data, size_t len, char **path, berr_t *err)
{
  cleanup_close int fd = -1;
  if (store_stage_file (s, "json", path, &fd, err) < 0)
    return -1;
  if (fs_write_all (fd, data, len) < 0 || fsync (fd) < 0)
    return berr_set (err, errno, "write %s", *path);
  return 0;
}

/* Add one image given its config entry and its layer entries (in order). expected_layer_digests
 * (OCI) are the digests the manifest claims for each layer entry's raw bytes. */
static int add_image (struct load_ctx *c, struct ingest *in, struct entry *cfg_entry,
                      const char *expected_config_digest, struct entry **layers, size_t nlayers,
                      char **tags, const char *manifest_digest, const char *manifest_data,
                      size_t manifest_len, berr_t *err)
{
  cleanup_free char *cfg = NULL;
  size_t cfglen = 0;
  if (entry_bytes (cfg_entry, &cfg, &cfglen, err) < 0)
    return berr_wrap (err, "image config %s", cfg_entry->name);
  char id[DIGEST_STR_LEN];
  sha256_digest (cfg, cfglen, id);
  if (expected_config_digest && strcmp (id, expected_config_digest) != 0)
    return berr_setk (err, BERR_CORRUPT, 0,
                      "image config verification failed: %s has digest %s, expected %s",
                      cfg_entry->name, id, expected_config_digest);
  cleanup_json json_t *config = json_parse_buf (cfg, cfglen, cfg_entry->name, err);
  if (config == NULL)
    return -1;
  cleanup_strv char **diff_ids = NULL;
  if (image_config_diff_ids (config, &diff_ids, err) < 0)
    return berr_wrap (err, "image config %s", cfg_entry->name);
  if (strv_len (diff_ids) != nlayers)
    return berr_setk (err, BERR_CORRUPT, 0,
                      "layers from manifest don't match image configuration: %zu layers in the "
                      "manifest, %zu diff_ids in %s",
                      nlayers, strv_len (diff_ids), cfg_entry->name);
  for (size_t i = 0; i < nlayers; i++)
    {
      struct entry *e = layers[i];
      if (entry_as_layer (c, e, err) < 0)
        return -1;
      if (strcmp (e->res.diff_id, diff_ids[i]) != 0)
        return berr_setk (err, BERR_CORRUPT, 0,
                          "layers from manifest don't match image configuration: layer %s has "
                          "diff_id %s, the config says %s",
                          e->name, e->res.diff_id, diff_ids[i]);
      ingest_add_layer (c, in, e);
    }
  in->images = xrealloc (in->images, (in->nimages + 1) * sizeof *in->images);
  struct ingest_image *im = &in->images[in->nimages++];
  memset (im, 0, sizeof *im);
  memcpy (im->id, id, DIGEST_STR_LEN);
  im->created = image_config_created (config);
  im->diff_ids = steal_pointer (&diff_ids);
  im->tags = strv_dup (tags);
  if (stage_bytes (c->s, cfg, cfglen, &im->staged_config, err) < 0)
    return -1;
  if (manifest_digest)
    {
      im->manifest = xstrdup (manifest_digest);
      if (stage_bytes (c->s, manifest_data, manifest_len, &im->staged_manifest, err) < 0)
        return -1;
    }
  return 0;
}

/* Normalize a RepoTags entry to a full tag name. */
static int full_tag (const char *tag, char **out, berr_t *err)
{
  struct image_ref ref = { 0 };
  if (ref_parse_normalized (tag, &ref, err) < 0)
    return berr_wrap (err, "invalid tag %s", tag);
  if (ref.digest)
    {
      ref_release (&ref);
      return berr_setk (err, BERR_INVALID, 0, "invalid tag %s: a digest is not a tag", tag);
    }
  if (ref.tag == NULL)
    ref.tag = xstrdup ("latest");
  *out = ref_string (&ref);
  ref_release (&ref);
  return 0;
}

/* Names that claim a digest ("blobs/sha256/<hex>") must have it. */
static int check_claimed_digest (struct entry *e, const char *path, berr_t *err)
{
  const char *p = strstr (path, "sha256/");
  if (p == NULL)
    return 0;
  p += 7;
  if (strlen (p) != DIGEST_HEX_LEN || !str_is_hex (p, DIGEST_HEX_LEN))
    return 0;
  if (e->kind == ENTRY_STAGED && !e->applied)
    return entry_unusable (e, err);
  char got[DIGEST_STR_LEN];
  entry_digest (e, got);
  if (strcmp (got + 7, p) != 0)
    return berr_setk (err, BERR_CORRUPT, 0,
                      "filesystem layer verification failed for %s: its digest is %s", path, got);
  return 0;
}

static int load_docker_manifest (struct load_ctx *c, struct ingest *in, struct entry *me,
                                 berr_t *err)
{
  cleanup_json json_t *m = json_parse_buf (me->data, me->len, "manifest.json", err);
  if (m == NULL)
    return -1;
  if (!json_is_array (m))
    return berr_setk (err, BERR_INVALID, 0, "invalid archive: manifest.json is not an array");
  size_t i;
  json_t *item;
  json_array_foreach (m, i, item)
  {
    const char *cfgname = json_get_str (item, "Config");
    json_t *jl = json_object_get (item, "Layers");
    if (cfgname == NULL || !json_is_array (jl))
      return berr_setk (err, BERR_INVALID, 0,
                        "invalid archive: manifest.json entry %zu lacks Config or Layers", i);
    struct entry *ce = find_entry (c, cfgname);
    if (ce == NULL)
      return berr_setk (err, BERR_INVALID, 0, "invalid archive: config %s is missing", cfgname);
    /* "<hex>.json" (legacy) and "blobs/sha256/<hex>" name the config digest. */
    char expect[DIGEST_STR_LEN] = "";
    {
      cleanup_free char *base = normalize_name (cfgname);
      char *b = strrchr (base, '/');
      b = b ? b + 1 : base;
      if (str_has_suffix (b, ".json"))
        b[strlen (b) - 5] = '\0';
      if (strlen (b) == DIGEST_HEX_LEN && str_is_hex (b, DIGEST_HEX_LEN))
        snprintf (expect, sizeof expect, "sha256:%s", b);
    }
    size_t nl = json_array_size (jl);
    cleanup_free struct entry **les = xcalloc (nl + 1, sizeof *les);
    for (size_t k = 0; k < nl; k++)
      {
        const char *ln = json_string_value (json_array_get (jl, k));
        if (ln == NULL)
          return berr_setk (err, BERR_INVALID, 0,
                            "invalid archive: bad layer path in manifest.json");
        les[k] = find_entry (c, ln);
        if (les[k] == NULL)
          return berr_setk (err, BERR_INVALID, 0, "invalid archive: layer %s is missing", ln);
        if (check_claimed_digest (les[k], ln, err) < 0)
          return -1;
      }
    cleanup_strv char **tags = NULL;
    json_t *rt = json_object_get (item, "RepoTags");
    size_t k;
    json_t *t;
    json_array_foreach (rt, k, t)
    {
      if (!json_is_string (t))
        continue;
      char *full = NULL;
      if (full_tag (json_string_value (t), &full, err) < 0)
        return -1;
      strv_push_take (&tags, full);
    }
    if (add_image (c, in, ce, expect[0] ? expect : NULL, les, nl, tags, NULL, NULL, 0, err) < 0)
      return -1;
  }
  return 0;
}

/* Resolve a descriptor to its entry and verify digest and size. */
static struct entry *desc_entry (struct load_ctx *c, json_t *desc, const char *what, berr_t *err)
{
  const char *d = json_get_str (desc, "digest");
  if (digest_check (d, err) < 0)
    {
      berr_wrap (err, "%s descriptor", what);
      return NULL;
    }
  cleanup_free char *path = xasprintf ("blobs/sha256/%s", digest_hex (d));
  struct entry *e = find_entry (c, path);
  if (e == NULL)
    {
      berr_setk (err, BERR_INVALID, 0, "invalid archive: %s blob %s is missing", what, d);
      return NULL;
    }
  if (e->kind == ENTRY_STAGED && !e->applied)
    {
      entry_unusable (e, err);
      return NULL;
    }
  char got[DIGEST_STR_LEN];
  entry_digest (e, got);
  if (strcmp (got, d) != 0)
    {
      berr_setk (err, BERR_CORRUPT, 0, "%s verification failed: blob %s has digest %s", what, d,
                 got);
      return NULL;
    }
  json_t *sz = json_object_get (desc, "size");
  uint64_t have = e->kind == ENTRY_MEM ? e->len : e->res.size;
  if (!json_is_integer (sz) || json_integer_value (sz) < 0
      || (uint64_t)json_integer_value (sz) != have)
    {
      berr_setk (err, BERR_CORRUPT, 0,
                 "%s verification failed: blob %s has size %" PRIu64
                 ", the descriptor says %" JSON_INTEGER_FORMAT,
                 what, d, have, json_is_integer (sz) ? json_integer_value (sz) : (json_int_t)-1);
      return NULL;
    }
  return e;
}

static bool is_manifest_type (const char *mt)
{
  return mt
         && (strcmp (mt, "application/vnd.oci.image.manifest.v1+json") == 0
             || strcmp (mt, "application/vnd.docker.distribution.manifest.v2+json") == 0);
}

static bool is_index_type (const char *mt)
{
  return mt
         && (strcmp (mt, "application/vnd.oci.image.index.v1+json") == 0
             || strcmp (mt, "application/vnd.docker.distribution.manifest.list.v2+json") == 0);
}

static int load_oci_index (struct load_ctx *c, struct ingest *in, json_t *index, int depth,
                           const char *inherited_name, berr_t *err);

static int load_oci_manifest (struct load_ctx *c, struct ingest *in, json_t *desc, const char *name,
                              berr_t *err)
{
  /* The same manifest named again (another tag, or a hostile index repeating it): one image. */
  const char *mdig = json_get_str (desc, "digest");
  for (size_t i = 0; mdig && i < in->nimages; i++)
    if (in->images[i].manifest && strcmp (in->images[i].manifest, mdig) == 0)
      {
        if (name && !strv_contains (in->images[i].tags, name))
          strv_push (&in->images[i].tags, name);
        return 0;
      }
  if (in->nimages >= MAX_IMAGES)
    return berr_setk (err, BERR_INVALID, 0, "invalid archive: more than %d images", MAX_IMAGES);
  struct entry *me = desc_entry (c, desc, "manifest", err);
  if (me == NULL)
    return -1;
  cleanup_free char *mdata = NULL;
  size_t mlen = 0;
  if (entry_bytes (me, &mdata, &mlen, err) < 0)
    return -1;
  cleanup_json json_t *m = json_parse_buf (mdata, mlen, "manifest", err);
  if (m == NULL)
    return -1;
  /* CVE-2021-41190: a document must not be both a manifest and an index. */
  if (json_object_get (m, "manifests"))
    return berr_setk (err, BERR_INVALID, 0, "manifest %s is ambiguous: it has \"manifests\"",
                      json_get_str (desc, "digest"));
  const char *bmt = json_get_str (m, "mediaType");
  const char *dmt = json_get_str (desc, "mediaType");
  if (bmt && dmt && strcmp (bmt, dmt) != 0)
    return berr_setk (err, BERR_INVALID, 0,
                      "manifest %s: media type %s does not match its descriptor (%s)",
                      json_get_str (desc, "digest"), bmt, dmt);
  json_t *cfgd = json_object_get (m, "config");
  json_t *jl = json_object_get (m, "layers");
  if (!json_is_object (cfgd) || !json_is_array (jl))
    return berr_setk (err, BERR_INVALID, 0, "manifest %s lacks config or layers",
                      json_get_str (desc, "digest"));
  struct entry *ce = desc_entry (c, cfgd, "image config", err);
  if (ce == NULL)
    return -1;
  size_t nl = json_array_size (jl);
  cleanup_free struct entry **les = xcalloc (nl + 1, sizeof *les);
  for (size_t k = 0; k < nl; k++)
    {
      les[k] = desc_entry (c, json_array_get (jl, k), "filesystem layer", err);
      if (les[k] == NULL)
        return -1;
    }
  cleanup_strv char **tags = NULL;
  if (name)
    strv_push (&tags, name);
  return add_image (c, in, ce, json_get_str (cfgd, "digest"), les, nl, tags,
                    json_get_str (desc, "digest"), mdata, mlen, err);
}

/* The name an index descriptor carries, as a full tag, or NULL. */
static char *descriptor_name (json_t *desc)
{
  json_t *ann = json_object_get (desc, "annotations");
  const char *n = json_get_str (ann, "io.containerd.image.name");
  if (n == NULL)
    {
      n = json_get_str (ann, "org.opencontainers.image.ref.name");
      /* A bare tag ("latest") names no repository. */
      if (n && strchr (n, ':') == NULL && strchr (n, '/') == NULL)
        n = NULL;
    }
  if (n == NULL)
    return NULL;
  berr_t e = BERR_INIT;
  char *full = NULL;
  if (full_tag (n, &full, &e) < 0)
    {
      log_warn ("ignoring invalid image name %s in index.json", n);
      berr_release (&e);
      return NULL;
    }
  return full;
}

static bool platform_matches (json_t *desc)
{
  json_t *p = json_object_get (desc, "platform");
  if (p == NULL)
    return true;
  const char *os = json_get_str (p, "os");
  const char *arch = json_get_str (p, "architecture");
#if defined(__x86_64__)
  const char *host_arch = "amd64";
#elif defined(__aarch64__)
  const char *host_arch = "arm64";
#else
  const char *host_arch = "";
#endif
  return (os == NULL || strcmp (os, "linux") == 0)
         && (arch == NULL || strcmp (arch, host_arch) == 0);
}

static int load_oci_index (struct load_ctx *c, struct ingest *in, json_t *index, int depth,
                           const char *inherited_name, berr_t *err)
{
  if (depth > 4)
    return berr_setk (err, BERR_INVALID, 0, "invalid archive: indexes nested too deeply");
  if (json_object_get (index, "layers") || json_object_get (index, "config"))
    return berr_setk (err, BERR_INVALID, 0, "index is ambiguous: it has \"layers\" or \"config\"");
  json_t *ms = json_object_get (index, "manifests");
  if (!json_is_array (ms))
    return berr_setk (err, BERR_INVALID, 0, "invalid archive: index has no manifests");
  size_t i;
  json_t *d;
  bool picked_nested = false;
  json_array_foreach (ms, i, d)
  {
    const char *mt = json_get_str (d, "mediaType");
    cleanup_free char *name = descriptor_name (d);
    const char *use = name ? name : inherited_name;
    if (is_manifest_type (mt))
      {
        if (!platform_matches (d))
          continue;
        if (depth > 0 && picked_nested)
          continue;
        if (load_oci_manifest (c, in, d, use, err) < 0)
          return -1;
        picked_nested = depth > 0;
      }
    else if (is_index_type (mt))
      {
        const char *idig = json_get_str (d, "digest");
        if (idig && strv_contains (c->seen, idig))
          continue; /* followed already: a repeat adds nothing */
        if (idig)
          strv_push (&c->seen, idig);
        struct entry *ie = desc_entry (c, d, "index", err);
        if (ie == NULL)
          return -1;
        cleanup_free char *data = NULL;
        size_t len = 0;
        if (entry_bytes (ie, &data, &len, err) < 0)
          return -1;
        cleanup_json json_t *sub = json_parse_buf (data, len, "index", err);
        if (sub == NULL || load_oci_index (c, in, sub, depth + 1, use, err) < 0)
          return -1;
      }
    else
      log_debug ("skipping descriptor of media type %s", mt ? mt : "(none)");
  }
  return 0;
}

static int print_results (struct store *s, struct ingest *in, struct tag_move *moved, size_t nmoved,
                          char ***lines)
{
  (void)s;
  for (size_t i = 0; i < nmoved; i++)
    {
      cleanup_free char *fam = ref_familiarize (moved[i].tag);
      strv_push_take (lines, xasprintf ("The image %s already exists, renaming the old one with ID "
                                        "%s to empty string",
                                        fam, moved[i].old_id));
    }
  for (size_t i = 0; i < in->nimages; i++)
    {
      struct ingest_image *im = &in->images[i];
      if (im->tags == NULL || im->tags[0] == NULL)
        {
          strv_push_take (lines, xasprintf ("Loaded image ID: %s", im->id));
          continue;
        }
      for (size_t k = 0; im->tags[k]; k++)
        {
          cleanup_free char *fam = ref_familiarize (im->tags[k]);
          strv_push_take (lines, xasprintf ("Loaded image: %s", fam));
        }
    }
  return 0;
}

int archive_load (struct store *s, int fd, const struct load_opts *opts, char ***lines, berr_t *err)
{
  if (lazy_archive_load (err) < 0)
    return berr_wrap (err, "load");
  struct load_ctx c = { .s = s, .opts = opts };
  struct ingest in = { 0 };
  int ret = read_outer (&c, fd, err);
  if (ret == 0)
    {
      struct entry *me = find_entry (&c, "manifest.json");
      struct entry *ie = find_entry (&c, "index.json");
      if (me && me->kind == ENTRY_MEM)
        ret = load_docker_manifest (&c, &in, me, err);
      else if (ie && ie->kind == ENTRY_MEM)
        {
          json_t *idx = json_parse_buf (ie->data, ie->len, "index.json", err);
          ret = idx ? load_oci_index (&c, &in, idx, 0, NULL, err) : -1;
          if (idx)
            json_decref (idx);
        }
      else
        ret = berr_setk (err, BERR_INVALID, 0,
                         "invalid archive: neither manifest.json nor index.json found (is this "
                         "an image archive from `docker save` or an OCI archive?)");
      if (ret == 0 && in.nimages == 0)
        ret = berr_setk (err, BERR_INVALID, 0, "invalid archive: no images for this platform");
    }
  if (ret == 0)
    {
      struct tag_move *moved = NULL;
      size_t nmoved = 0;
      ret = store_commit (s, in.layers, in.nlayers, in.images, in.nimages, &moved, &nmoved, err);
      if (ret == 0)
        print_results (s, &in, moved, nmoved, lines);
      tag_moves_free (moved, nmoved);
    }
  ingest_release (&in);
  load_ctx_release (&c);
  return ret;
}

/* ---------------- save ---------------- */

struct save_image
{
  char id[DIGEST_STR_LEN];
  char **tags; /* full names */
  struct image_rec *rec;
};

static int write_entry_header (struct archive *a, const char *name, int64_t size, bool dir,
                               berr_t *err)
{
  struct archive_entry *e = archive_entry_new ();
  archive_entry_set_pathname (e, name);
  archive_entry_set_filetype (e, dir ? AE_IFDIR : AE_IFREG);
  archive_entry_set_perm (e, dir ? 0755 : 0644);
  archive_entry_set_size (e, dir ? 0 : size);
  archive_entry_set_mtime (e, 0, 0);
  int r = archive_write_header (a, e);
  archive_entry_free (e);
  if (r != ARCHIVE_OK)
    return berr_set (err, 0, "write %s: %s", name, archive_error_string (a));
  return 0;
}

static int write_bytes_entry (struct archive *a, const char *name, const void *data, size_t len,
                              berr_t *err)
{
  if (write_entry_header (a, name, (int64_t)len, false, err) < 0)
    return -1;
  if (len && archive_write_data (a, data, len) != (la_ssize_t)len)
    return berr_set (err, 0, "write %s: %s", name, archive_error_string (a));
  return 0;
}

struct tar_sink
{
  struct archive *a;
  struct sha256 h;
  uint64_t n;
};

static int sink_write (void *cookie, const void *buf, size_t len)
{
  struct tar_sink *t = cookie;
  sha256_update (&t->h, buf, len);
  t->n += len;
  if (archive_write_data (t->a, buf, len) != (la_ssize_t)len)
    return -1;
  return 0;
}

/* Write a layer (li, from the store) as an uncompressed tar whose digest is its diff_id. */
static int write_layer (struct store *s, struct archive *a, const struct layer_info *lip,
                        berr_t *err)
{
  const struct layer_info li = *lip;
  const char *diff_id = li.diff_id;
  cleanup_free char *name = xasprintf ("blobs/sha256/%s", digest_hex (diff_id));
  int ret = write_entry_header (a, name, li.tar_size, false, err);
  struct tar_sink sink = { .a = a };
  sha256_init (&sink.h);
  if (ret == 0 && li.blob[0])
    {
      /* The blob as received; decompress it when it was compressed. */
      cleanup_free char *bp = store_blob_path (s, li.blob);
      struct archive *rd = archive_read_new ();
      layer_add_filters (rd);
      archive_read_support_format_raw (rd);
      struct archive_entry *ae;
      if (archive_read_open_filename (rd, bp, 1 << 20) != ARCHIVE_OK
          || archive_read_next_header (rd, &ae) != ARCHIVE_OK)
        ret = berr_set (err, 0, "read blob %s: %s", li.blob, archive_error_string (rd));
      else
        {
          char *buf = xmalloc (1 << 20);
          la_ssize_t n;
          while ((n = archive_read_data (rd, buf, 1 << 20)) > 0)
            if (sink_write (&sink, buf, (size_t)n) < 0)
              {
                ret = berr_set (err, 0, "write layer: %s", archive_error_string (a));
                break;
              }
          if (n < 0 && ret == 0)
            ret = berr_set (err, 0, "read blob %s: %s", li.blob, archive_error_string (rd));
          free (buf);
        }
      archive_read_free (rd);
    }
  else if (ret == 0 && li.split)
    {
      cleanup_free char *dir = store_layer_dir (s, diff_id);
      cleanup_free char *sp = store_layer_split_path (s, diff_id);
      cleanup_close int dfd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      cleanup_close int sfd = open (sp, O_RDONLY | O_CLOEXEC);
      if (dfd < 0 || sfd < 0)
        ret = berr_set (err, errno, "open layer %s", diff_id);
      else
        ret = layer_split_replay (sfd, dfd, sink_write, &sink, err);
    }
  else if (ret == 0)
    {
      cleanup_free char *dir = store_layer_dir (s, diff_id);
      cleanup_close int dfd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      if (dfd < 0)
        ret = berr_set (err, errno, "open %s", dir);
      else
        ret = layer_diff (dfd, sink_write, &sink, NULL, NULL, err);
    }
  char got[DIGEST_STR_LEN];
  sha256_final (&sink.h, got);
  if (ret == 0 && (strcmp (got, diff_id) != 0 || sink.n != (uint64_t)li.tar_size))
    ret = berr_setk (err, BERR_CORRUPT, 0,
                     "layer %s in the store is corrupt: it reads back as %s (%" PRIu64 " bytes)",
                     diff_id, got, sink.n);
  return ret;
}

static int save_resolve (struct store *s, char *const *names, struct save_image **out, size_t *nout,
                         berr_t *err)
{
  struct save_image *v = NULL;
  size_t n = 0;
  for (size_t i = 0; names[i]; i++)
    {
      struct image_rec *rec = NULL;
      if (store_image_lookup (s, names[i], &rec, err) < 0)
        goto fail;
      /* A name that is a reference (not an ID) records its tag. */
      char *tag = NULL;
      if (!str_has_prefix (rec->id + 7,
                           str_has_prefix (names[i], "sha256:") ? names[i] + 7 : names[i]))
        {
          struct image_ref ref = { 0 };
          berr_t e = BERR_INIT;
          if (ref_parse_docker (names[i], &ref, &e) == 0 && ref.tag && !ref.digest)
            tag = ref_string (&ref);
          ref_release (&ref);
          berr_release (&e);
        }
      size_t k;
      for (k = 0; k < n; k++)
        if (strcmp (v[k].id, rec->id) == 0)
          break;
      if (k == n)
        {
          v = xrealloc (v, (n + 1) * sizeof *v);
          memset (&v[n], 0, sizeof v[n]);
          memcpy (v[n].id, rec->id, DIGEST_STR_LEN);
          v[n].rec = rec;
          n++;
        }
      else
        image_rec_free (rec);
      if (tag && !strv_contains (v[k].tags, tag))
        strv_push (&v[k].tags, tag);
      free (tag);
    }
  *out = v;
  *nout = n;
  return 0;
fail:
  for (size_t k = 0; k < n; k++)
    {
      image_rec_free (v[k].rec);
      strv_free (v[k].tags);
    }
  free (v);
  return -1;
}

static int save_to_archive (struct store *s, struct archive *a, struct save_image *imgs, size_t n,
                            enum save_format format, berr_t *err)
{
  cleanup_json json_t *index_manifests = json_array ();
  cleanup_json json_t *docker_manifest = json_array ();
  cleanup_json json_t *repositories = json_object ();
  cleanup_strv char **written = NULL;
  if (write_entry_header (a, "blobs/", 0, true, err) < 0
      || write_entry_header (a, "blobs/sha256/", 0, true, err) < 0)
    return -1;
  for (size_t i = 0; i < n; i++)
    {
      struct save_image *im = &imgs[i];
      cleanup_free char *cfg = NULL;
      size_t cfglen = 0;
      if (store_blob_read (s, im->id, MAX_JSON_DOC, &cfg, &cfglen, err) < 0)
        return -1;
      cleanup_free char *cfgname = xasprintf ("blobs/sha256/%s", digest_hex (im->id));
      if (!strv_contains (written, cfgname))
        {
          if (write_bytes_entry (a, cfgname, cfg, cfglen, err) < 0)
            return -1;
          strv_push (&written, cfgname);
        }
      json_t *layers = json_array ();
      json_t *layer_paths = json_array ();
      for (size_t k = 0; im->rec->diff_ids && im->rec->diff_ids[k]; k++)
        {
          const char *d = im->rec->diff_ids[k];
          cleanup_free char *lname = xasprintf ("blobs/sha256/%s", digest_hex (d));
          struct layer_info li;
          int r = store_layer_get (s, d, &li, err);
          if (r != 0)
            {
              json_decref (layers);
              json_decref (layer_paths);
              return r < 0 ? -1 : berr_set (err, 0, "layer %s is missing from the store", d);
            }
          if (!strv_contains (written, lname))
            {
              if (write_layer (s, a, &li, err) < 0)
                {
                  layer_info_release (&li);
                  json_decref (layers);
                  json_decref (layer_paths);
                  return -1;
                }
              strv_push (&written, lname);
            }
          json_array_append_new (layers, json_pack ("{s:s, s:s, s:I}", "mediaType",
                                                    "application/vnd.oci.image.layer.v1.tar",
                                                    "digest", d, "size", (json_int_t)li.tar_size));
          json_array_append_new (layer_paths, json_string (lname));
          layer_info_release (&li);
        }
      json_t *manifest
          = json_pack ("{s:i, s:s, s:{s:s, s:s, s:I}, s:o}", "schemaVersion", 2, "mediaType",
                       "application/vnd.oci.image.manifest.v1+json", "config", "mediaType",
                       "application/vnd.oci.image.config.v1+json", "digest", im->id, "size",
                       (json_int_t)cfglen, "layers", layers);
      cleanup_free char *mdata = json_dumps (manifest, JSON_COMPACT);
      json_decref (manifest);
      char mdigest[DIGEST_STR_LEN];
      sha256_digest (mdata, strlen (mdata), mdigest);
      cleanup_free char *mname = xasprintf ("blobs/sha256/%s", digest_hex (mdigest));
      if (!strv_contains (written, mname))
        {
          if (write_bytes_entry (a, mname, mdata, strlen (mdata), err) < 0)
            {
              json_decref (layer_paths);
              return -1;
            }
          strv_push (&written, mname);
        }
      json_t *repo_tags = json_array ();
      for (size_t k = 0; im->tags && im->tags[k]; k++)
        {
          cleanup_free char *fam = ref_familiarize (im->tags[k]);
          json_array_append_new (repo_tags, json_string (fam));
          cleanup_free char *repo = NULL, *tag = NULL;
          image_split_tag (im->tags[k], &repo, &tag);
          json_t *r = json_object_get (repositories, repo);
          if (r == NULL)
            {
              r = json_object ();
              json_object_set_new (repositories, repo, r);
            }
          /* Docker maps a tag to its top layer's ID here (the config's for a layerless image). */
          size_t nd = strv_len (im->rec->diff_ids);
          json_object_set_new (r, tag,
                               json_string (digest_hex (nd ? im->rec->diff_ids[nd - 1] : im->id)));
          json_array_append_new (index_manifests,
                                 json_pack ("{s:s, s:s, s:I, s:{s:s, s:s}}", "mediaType",
                                            "application/vnd.oci.image.manifest.v1+json", "digest",
                                            mdigest, "size", (json_int_t)strlen (mdata),
                                            "annotations", "io.containerd.image.name", im->tags[k],
                                            "org.opencontainers.image.ref.name", tag));
        }
      if (im->tags == NULL)
        json_array_append_new (index_manifests,
                               json_pack ("{s:s, s:s, s:I}", "mediaType",
                                          "application/vnd.oci.image.manifest.v1+json", "digest",
                                          mdigest, "size", (json_int_t)strlen (mdata)));
      json_array_append_new (docker_manifest,
                             json_pack ("{s:s, s:o, s:o}", "Config", cfgname, "RepoTags", repo_tags,
                                        "Layers", layer_paths));
    }
  json_t *index
      = json_pack ("{s:i, s:s, s:O}", "schemaVersion", 2, "mediaType",
                   "application/vnd.oci.image.index.v1+json", "manifests", index_manifests);
  cleanup_free char *idata = json_dumps (index, JSON_COMPACT);
  json_decref (index);
  static const char layout[] = "{\"imageLayoutVersion\":\"1.0.0\"}";
  if (write_bytes_entry (a, "index.json", idata, strlen (idata), err) < 0)
    return -1;
  if (format == SAVE_DOCKER_ARCHIVE)
    {
      cleanup_free char *mdata = json_dumps (docker_manifest, JSON_COMPACT);
      if (write_bytes_entry (a, "manifest.json", mdata, strlen (mdata), err) < 0)
        return -1;
    }
  if (write_bytes_entry (a, "oci-layout", layout, strlen (layout), err) < 0)
    return -1;
  if (format == SAVE_DOCKER_ARCHIVE && json_object_size (repositories) > 0)
    {
      cleanup_free char *rdata = json_dumps (repositories, JSON_COMPACT);
      if (write_bytes_entry (a, "repositories", rdata, strlen (rdata), err) < 0)
        return -1;
    }
  return 0;
}

int archive_save (struct store *s, char *const *names, enum save_format format, int out_fd,
                  berr_t *err)
{
  if (lazy_archive_load (err) < 0)
    return berr_wrap (err, "save");
  struct save_image *imgs = NULL;
  size_t n = 0;
  if (save_resolve (s, names, &imgs, &n, err) < 0)
    return -1;
  struct archive *a = archive_write_new ();
  archive_write_set_format_pax_restricted (a);
  archive_write_set_bytes_in_last_block (a, 1);
  int ret = 0;
  if (archive_write_open_fd (a, out_fd) != ARCHIVE_OK)
    ret = berr_set (err, 0, "save: %s", archive_error_string (a));
  if (ret == 0)
    ret = save_to_archive (s, a, imgs, n, format, err);
  if (ret == 0 && archive_write_close (a) != ARCHIVE_OK)
    ret = berr_set (err, 0, "save: %s", archive_error_string (a));
  archive_write_free (a);
  for (size_t k = 0; k < n; k++)
    {
      image_rec_free (imgs[k].rec);
      strv_free (imgs[k].tags);
    }
  free (imgs);
  return ret;
}
