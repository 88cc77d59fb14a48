/* pull.c — image_pull: reference, manifest (and index), config, layers, one commit. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "image/config.h"
#include "image/ref.h"
#include "registry/pull_int.h"
#include "util/fs.h"
#include "util/json.h"
#include "util/log.h"
#include "util/util.h"

/* Config blobs are small JSON documents; this bound keeps a hostile one from filling memory. */
#define CONFIG_MAX (32u << 20)

void pull_result_release (struct pull_result *r)
{
  if (r == NULL)
    return;
  free (r->name);
  r->name = NULL;
}

char *pull_progress_line (const struct reg_progress *p)
{
  static const char *const text[] = {
    [RP_WAITING] = "Waiting",
    [RP_PULLING_FS] = "Pulling fs layer",
    [RP_ALREADY_EXISTS] = "Already exists",
    [RP_VERIFYING] = "Verifying Checksum",
    [RP_DOWNLOAD_DONE] = "Download complete",
    [RP_PULL_COMPLETE] = "Pull complete",
    [RP_PREPARING] = "Preparing",
    [RP_PUSHED] = "Pushed",
    [RP_LAYER_EXISTS] = "Layer already exists",
  };
  if (p->state == RP_MESSAGE || p->id == NULL)
    return xstrdup (p->message ? p->message : "");
  if (p->state == RP_MOUNTED)
    return xasprintf ("%s: Mounted from %s", p->id, p->message ? p->message : "");
  if (p->state == RP_RETRYING)
    return xasprintf ("%s: %s", p->id, p->message ? p->message : "Retrying");
  if ((size_t)p->state < sizeof text / sizeof text[0] && text[p->state])
    return xasprintf ("%s: %s", p->id, text[p->state]);
  /* Downloading / Extracting / Pushing with counts: docker leaves them out of a pipe. */
  if (p->current > 0 || p->total > 0)
    return NULL;
  return xasprintf ("%s: %s", p->id,
                    p->state == RP_DOWNLOADING  ? "Downloading"
                    : p->state == RP_EXTRACTING ? "Extracting"
                                                : "Pushing");
}

void pull_emit (struct pull_ctx *c, const char *id, enum reg_progress_state st, uint64_t cur,
                uint64_t total, const char *msg)
{
  if (c->o->progress == NULL)
    return;
  struct reg_progress p = { .id = id, .state = st, .current = cur, .total = total, .message = msg };
  pthread_mutex_lock (&c->prog_mu);
  c->o->progress (c->o->cookie, &p);
  pthread_mutex_unlock (&c->prog_mu);
}

/* GET a blob whole into memory (the config), bounded by its descriptor and CONFIG_MAX, digest
 * verified. */
static int fetch_small_blob (struct pull_ctx *c, const struct manifest_desc *d, char **out,
                             size_t *len, berr_t *err)
{
  if (d->size > (int64_t)CONFIG_MAX)
    return berr_setk (err, BERR_INVALID, 0, "config %s: %" PRId64 " bytes, more than %u", d->digest,
                      d->size, CONFIG_MAX);
  struct reg_blob_reader *r = NULL;
  if (reg_blob_open (c->sess, c->repo, d->digest, d->size, &r, err) < 0)
    return -1;
  size_t cap = (size_t)d->size + 1, n = 0;
  cleanup_free char *buf = xmalloc (cap + 1);
  for (;;)
    {
      ssize_t k = reg_blob_read (r, buf + n, cap - n);
      if (k < 0)
        {
          reg_blob_error (r, err);
          reg_blob_close (r);
          return -1;
        }
      if (k == 0)
        break;
      n += (size_t)k;
      if (n >= cap)
        break;
    }
  reg_blob_close (r);
  char got[DIGEST_STR_LEN];
  sha256_digest (buf, n, got);
  if (n != (size_t)d->size || strcmp (got, d->digest) != 0)
    return berr_setk (err, BERR_CORRUPT, 0,
                      "image config verification failed for digest %s: got %s (%zu bytes)",
                      d->digest, got, n);
  buf[n] = '\0';
  *out = steal_pointer (&buf);
  *len = n;
  return 0;
}

static int stage_bytes (struct pull_ctx *c, const char *data, size_t len, char **path, berr_t *err)
{
  cleanup_close int fd = -1;
  if (store_stage_file (c->s, "json", path, &fd, err) < 0)
    return -1;
  if (fs_write_all (fd, data, len) < 0)
    return berr_set (err, errno, "write %s", *path);
  return 0;
}

/* The image the tag points at, when it carries a repo digest of this repository. */
static bool local_repo_digest (struct store *s, const char *tagname, const char *name,
                               char digest[DIGEST_STR_LEN], char id[DIGEST_STR_LEN])
{
  struct image_rec *rec = NULL;
  berr_t e = BERR_INIT;
  bool found = false;
  if (store_image_lookup (s, tagname, &rec, &e) == 0 && strv_contains (rec->tags, tagname))
    {
      size_t nl = strlen (name);
      for (size_t i = 0; rec->digests && rec->digests[i]; i++)
        if (strncmp (rec->digests[i], name, nl) == 0 && rec->digests[i][nl] == '@'
            && digest_is_valid (rec->digests[i] + nl + 1))
          {
            snprintf (digest, DIGEST_STR_LEN, "%s", rec->digests[i] + nl + 1);
            memcpy (id, rec->id, DIGEST_STR_LEN);
            found = true;
            break;
          }
    }
  berr_release (&e);
  image_rec_free (rec);
  return found;
}

static bool has_repo_digest (struct store *s, const char *name_at_digest, char id[DIGEST_STR_LEN])
{
  struct image_rec *rec = NULL;
  berr_t e = BERR_INIT;
  bool found = store_image_lookup (s, name_at_digest, &rec, &e) == 0
               && strv_contains (rec->digests, name_at_digest);
  if (found)
    memcpy (id, rec->id, DIGEST_STR_LEN);
  berr_release (&e);
  image_rec_free (rec);
  return found;
}

/* Manifest GET, following an index to this platform's manifest. top receives the digest of
 * what the reference named (Docker's "Digest:"), m/mbody the image manifest itself. */
static int get_manifest (struct pull_ctx *c, const struct image_ref *ref, const char *fullname,
                         char top[DIGEST_STR_LEN], struct manifest *m, struct reg_manifest *mbody,
                         bool *from_index, berr_t *err)
{
  const char *reference = ref->digest ? ref->digest : ref->tag;
  struct reg_manifest rm = { 0 };
  *from_index = false;
  if (reg_manifest_get (c->sess, c->repo, reference, false, &rm, err) < 0)
    {
      if (err->kind == BERR_NOT_FOUND)
        {
          cleanup_free char *fam = ref_familiarize (fullname);
          char *why = steal_pointer (&err->msg);
          berr_setk (err, BERR_NOT_FOUND, 0, "manifest for %s not found: %s", fam, why);
          free (why);
          return -1;
        }
      return -1;
    }
  memcpy (top, rm.digest, DIGEST_STR_LEN);
  if (manifest_is_schema1 (rm.body, rm.len, rm.media_type))
    {
      reg_manifest_release (&rm);
      return berr_setk (err, BERR_INVALID, 0,
                        "Docker Image Format v1 and Docker Image manifest version 2, schema 1 "
                        "support has been removed. Suggest the author of %s to upgrade the image "
                        "to the OCI Format or Docker Image manifest v2, schema 2. More information "
                        "at https://docs.docker.com/go/deprecated-image-specs/",
                        fullname);
    }
  if (manifest_parse (rm.body, rm.len, rm.media_type, m, err) < 0)
    {
      reg_manifest_release (&rm);
      return berr_wrap (err, "%s", fullname);
    }
  if (m->kind == MANIFEST_IMAGE)
    {
      *mbody = rm;
      return 0;
    }
  const struct manifest_desc *pick;
  if (manifest_select (m, c->o->platform, &pick, err) < 0)
    {
      reg_manifest_release (&rm);
      manifest_release (m);
      return -1;
    }
  char want[DIGEST_STR_LEN];
  memcpy (want, pick->digest, DIGEST_STR_LEN);
  reg_manifest_release (&rm);
  manifest_release (m);
  /* By digest: the client checks the body against it. Nested indexes are not followed. */
  if (reg_manifest_get (c->sess, c->repo, want, false, &rm, err) < 0)
    return -1;
  if (strcmp (rm.digest, want) != 0)
    {
      reg_manifest_release (&rm);
      return berr_setk (err, BERR_CORRUPT, 0, "manifest verification failed for digest %s", want);
    }
  if (manifest_parse (rm.body, rm.len, rm.media_type, m, err) < 0 || m->kind != MANIFEST_IMAGE)
    {
      if (berr_is_set (err) == false)
        berr_setk (err, BERR_INVALID, 0, "manifest %s: an index inside an index", want);
      manifest_release (m);
      reg_manifest_release (&rm);
      return -1;
    }
  *mbody = rm;
  *from_index = true;
  return 0;
}

/* --platform given for a plain manifest: the config must be for it (Docker's check). */
static int check_platform (const char *platform, json_t *config, const char *fullname, berr_t *err)
{
  if (platform == NULL || *platform == '\0')
    return 0;
  const char *os = json_get_str (config, "os");
  const char *arch = json_get_str (config, "architecture");
  const char *variant = json_get_str (config, "variant");
  cleanup_free char *actual = xasprintf ("%s/%s%s%s", os ? os : "", arch ? arch : "",
                                         variant ? "/" : "", variant ? variant : "");
  size_t al = strlen (actual);
  if (strcmp (actual, platform) == 0
      || (strncmp (actual, platform, al) == 0 && platform[al] == '/' && variant == NULL))
    return 0;
  return berr_setk (err, BERR_INVALID, 0,
                    "image with reference %s was found but does not match the specified "
                    "platform: wanted %s, actual: %s",
                    fullname, platform, actual);
}

/* With --platform, an image stored for another platform is no reason to stop early. */
static bool local_platform_ok (struct store *s, const char *id, const char *platform,
                               const char *fullname)
{
  if (platform == NULL || *platform == '\0')
    return true;
  cleanup_json json_t *config = NULL;
  berr_t e = BERR_INIT;
  bool ok = store_image_config_unverified (s, id, &config, &e) == 0
            && check_platform (platform, config, fullname, &e) == 0;
  berr_release (&e);
  return ok;
}

static int pull_ref (struct store *s, struct image_ref *ref, const struct pull_opts *o,
                     struct pull_result *res, berr_t *err)
{
  cleanup_free char *name = ref_name (ref);
  cleanup_free char *fullname = ref_string (ref);
  cleanup_free char *source = xasprintf ("%s/%s", ref->domain, ref->path);
  struct pull_ctx c = { .s = s, .o = o, .repo = ref->path, .source = source };
  struct manifest m = { 0 };
  struct reg_manifest mbody = { 0 };
  cleanup_free char *cfg = NULL;
  size_t cfglen = 0;
  cleanup_strv char **diff_ids = NULL;
  struct ingest_image im = { 0 };
  cleanup_json json_t *config = NULL;
  int ret = -1;

  memset (res, 0, sizeof *res);
  res->name = xstrdup (fullname);
  pthread_mutex_init (&c.store_mu, NULL);
  pthread_mutex_init (&c.prog_mu, NULL);

  cleanup_free char *head
      = xasprintf ("%s: Pulling from %s", ref->digest ? ref->digest : ref->tag, ref->path);
  /* Docker says "Pulling from" once the manifest is known to exist. */

  /* By digest: present means up to date, no request needed. */
  if (ref->digest)
    {
      cleanup_free char *nd = xasprintf ("%s@%s", name, ref->digest);
      if (has_repo_digest (s, nd, res->id))
        {
          snprintf (res->digest, sizeof res->digest, "%s", ref->digest);
          res->up_to_date = true;
          pull_emit (&c, NULL, RP_MESSAGE, 0, 0, head);
          ret = 0;
          goto out;
        }
    }

  if (reg_session_open (o->cfg, ref->domain, &c.sess, err) < 0)
    goto out;

  /* By tag, when the store has this tag with a repo digest: one HEAD tells whether it moved. */
  char local[DIGEST_STR_LEN], local_id[DIGEST_STR_LEN];
  if (!ref->digest && local_repo_digest (s, fullname, name, local, local_id)
      && local_platform_ok (s, local_id, o->platform, fullname))
    {
      struct reg_manifest hm = { 0 };
      berr_t herr = BERR_INIT;
      if (reg_manifest_get (c.sess, c.repo, ref->tag, true, &hm, &herr) == 0
          && strcmp (hm.digest, local) == 0)
        {
          memcpy (res->digest, local, DIGEST_STR_LEN);
          memcpy (res->id, local_id, DIGEST_STR_LEN);
          res->up_to_date = true;
          pull_emit (&c, NULL, RP_MESSAGE, 0, 0, head);
          reg_manifest_release (&hm);
          ret = 0;
          goto out;
        }
      if (berr_is_set (&herr))
        log_debug ("pull: HEAD %s: %s", fullname, herr.msg);
      berr_release (&herr);
      reg_manifest_release (&hm);
    }

  bool from_index;
  if (get_manifest (&c, ref, fullname, res->digest, &m, &mbody, &from_index, err) < 0)
    goto out;
  pull_emit (&c, NULL, RP_MESSAGE, 0, 0, head);
  for (size_t i = 0; i < m.nlayers; i++)
    if (!manifest_layer_type_ok (m.layers[i].media_type))
      {
        berr_setk (err, BERR_INVALID, 0, "layer %s: unsupported media type %s%s",
                   m.layers[i].digest, m.layers[i].media_type,
                   m.layers[i].urls ? " (foreign layers are not fetched)" : "");
        goto out;
      }
  if (fetch_small_blob (&c, &m.config, &cfg, &cfglen, err) < 0)
    goto out;
  config = json_parse_buf (cfg, cfglen, "image config", err);
  if (config == NULL)
    goto out;
  if (image_config_diff_ids (config, &diff_ids, err) < 0)
    {
      berr_wrap (err, "image config %s", m.config.digest);
      goto out;
    }
  if (strv_len (diff_ids) != m.nlayers)
    {
      berr_setk (err, BERR_CORRUPT, 0,
                 "layers from manifest don't match image configuration: %zu layers in the "
                 "manifest, %zu diff_ids in config %s",
                 m.nlayers, strv_len (diff_ids), m.config.digest);
      goto out;
    }
  if (!from_index && check_platform (o->platform, config, fullname, err) < 0)
    goto out;

  if (pull_layers (&c, &m, diff_ids, err) < 0)
    goto out;

  /* Everything verified: the image, its manifest, the tag and the repo digest at once. */
  memcpy (im.id, m.config.digest, DIGEST_STR_LEN);
  im.created = image_config_created (config);
  im.diff_ids = steal_pointer (&diff_ids);
  if (!ref->digest)
    strv_push (&im.tags, fullname);
  strv_push_take (&im.digests, xasprintf ("%s@%s", name, res->digest));
  im.manifest = xstrdup (mbody.digest);
  if (stage_bytes (&c, cfg, cfglen, &im.staged_config, err) < 0
      || stage_bytes (&c, mbody.body, mbody.len, &im.staged_manifest, err) < 0)
    goto out;
  /* Was it there already, under this tag? Then nothing new came ("Image is up to date"). */
  char prev[DIGEST_STR_LEN] = "", prev_id[DIGEST_STR_LEN] = "";
  bool had = !ref->digest && local_repo_digest (s, fullname, name, prev, prev_id)
             && strcmp (prev_id, im.id) == 0;
  if (store_commit (s, NULL, 0, &im, 1, NULL, NULL, err) < 0)
    goto out;
  memcpy (res->id, im.id, DIGEST_STR_LEN);
  res->up_to_date = had && strcmp (prev, res->digest) == 0;
  ret = 0;

out:
  if (ret < 0)
    {
      /* Staged files of the image commit that did not happen. */
      if (im.staged_config)
        unlink (im.staged_config);
      if (im.staged_manifest)
        unlink (im.staged_manifest);
    }
  free (im.staged_config);
  free (im.staged_manifest);
  free (im.manifest);
  strv_free (im.diff_ids);
  strv_free (im.tags);
  strv_free (im.digests);
  manifest_release (&m);
  reg_manifest_release (&mbody);
  reg_session_free (c.sess);
  pthread_mutex_destroy (&c.store_mu);
  pthread_mutex_destroy (&c.prog_mu);
  return ret;
}

int image_pull (struct store *s, const char *reference, const struct pull_opts *o,
                struct pull_result *res, berr_t *err)
{
  struct image_ref ref = { 0 };
  memset (res, 0, sizeof *res);
  if (ref_parse_docker (reference, &ref, err) < 0)
    return -1;
  /* Layers are committed one by one before the image: the shared lock keeps store_layer_gc
   * (image prune) from taking them away in between. */
  int lfd = -1;
  if (store_pull_lock (s, &lfd, err) < 0)
    {
      ref_release (&ref);
      return -1;
    }
  int r = pull_ref (s, &ref, o, res, err);
  close (lfd);
  ref_release (&ref);
  if (r < 0)
    pull_result_release (res);
  return r;
}

int image_pull_all_tags (struct store *s, const char *repository, const struct pull_opts *o,
                         struct pull_result **results, size_t *n, berr_t *err)
{
  struct image_ref ref = { 0 };
  struct reg_session *sess = NULL;
  cleanup_strv char **tags = NULL;
  *results = NULL;
  *n = 0;
  if (ref_parse_normalized (repository, &ref, err) < 0)
    return -1;
  if (ref.tag || ref.digest)
    {
      ref_release (&ref);
      return berr_setk (err, BERR_INVALID, 0, "tag can't be used with --all-tags/-a");
    }
  int lfd = -1;
  int ret = store_pull_lock (s, &lfd, err);
  if (ret == 0)
    ret = reg_session_open (o->cfg, ref.domain, &sess, err);
  if (ret == 0)
    ret = reg_tags_list (sess, ref.path, &tags, err);
  reg_session_free (sess);
  for (size_t i = 0; ret == 0 && tags && tags[i]; i++)
    {
      if (ref_with_tag (&ref, tags[i], err) < 0)
        {
          ret = -1;
          break;
        }
      *results = xrealloc (*results, (*n + 1) * sizeof **results);
      ret = pull_ref (s, &ref, o, &(*results)[*n], err);
      if (ret == 0 && o->progress)
        {
          /* Docker's stream names each tag's digest as it goes. */
          cleanup_free char *line = xasprintf ("Digest: %s", (*results)[*n].digest);
          struct reg_progress p = { .state = RP_MESSAGE, .message = line };
          o->progress (o->cookie, &p);
        }
      if (ret == 0)
        (*n)++;
      else
        pull_result_release (&(*results)[*n]);
    }
  if (lfd >= 0)
    close (lfd);
  ref_release (&ref);
  return ret;
}
