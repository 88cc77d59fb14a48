/* push.c — image_push: choose the manifest, move the blobs (in parallel), PUT the manifest. */
#include "registry/push.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "image/ref.h"
#include "registry/manifest.h"
#include "registry/push_int.h"
#include "util/lazylib.h"
#include "util/log.h"
#include "util/util.h"

/* One blob to get into the repository. */
struct job
{
  /* what */
  char digest[DIGEST_STR_LEN]; /* "" until a compression made it */
  int64_t size;
  const char *media_type;
  char *own_media_type;
  char short_id[13]; /* progress id: the diff_id's, as Docker shows */
  char diff_id[DIGEST_STR_LEN];
  bool record; /* store a blob_map row for it after success */
  /* where from */
  char *path;                     /* a file holding exactly the blob */
  const char *mem;                /* or these bytes (the config) */
  bool compress;                  /* or make it from the layer */
  struct layer_info li;           /* for compress */
  char *stage_path;               /* compress: the staged file */
  int stage_fd;                   /* compress: open on stage_path */
  char candidate[DIGEST_STR_LEN]; /* compress: a digest this layer compressed to before */
  char **mount_from;              /* repositories of this registry that have the blob */
  /* outcome */
  int rc;
  berr_t err;
};

struct push_ctx
{
  struct store *s;
  struct reg_session *rs;
  const char *domain, *repo; /* "localhost:5000", "team/app" */
  const struct push_opts *o;
  enum push_comp_kind kind;
  pthread_mutex_t lock; /* progress events and the job queue */
  struct job **jobs;
  size_t njobs, next;
};

static void progress (struct push_ctx *c, const char *id, enum reg_progress_state st, uint64_t cur,
                      uint64_t total, const char *msg)
{
  if (c->o->progress == NULL)
    return;
  struct reg_progress p = { id, st, cur, total, msg };
  pthread_mutex_lock (&c->lock);
  c->o->progress (c->o->cookie, &p);
  pthread_mutex_unlock (&c->lock);
}

static void job_free (struct job *j)
{
  if (j == NULL)
    return;
  free (j->path);
  free (j->own_media_type);
  if (j->stage_fd >= 0)
    close (j->stage_fd);
  if (j->stage_path)
    unlink (j->stage_path);
  free (j->stage_path);
  layer_info_release (&j->li);
  strv_free (j->mount_from);
  berr_release (&j->err);
  free (j);
}

static struct job *job_new (const char *diff_id)
{
  struct job *j = xzalloc (sizeof *j);
  j->stage_fd = -1;
  const char *id = diff_id ? diff_id : "";
  if (digest_is_valid (id))
    {
      memcpy (j->diff_id, id, DIGEST_STR_LEN);
      memcpy (j->short_id, digest_hex (id), 12);
    }
  return j;
}

/* ---- moving one blob ---- */

struct upload_src
{
  struct push_ctx *c;
  struct job *j;
  int fd;
  off_t off;
  uint64_t shown;
};

static ssize_t src_read (void *cookie, void *buf, size_t len)
{
  struct upload_src *u = cookie;
  if (u->j->mem)
    {
      size_t left = (size_t)u->j->size - (size_t)u->off;
      size_t n = len < left ? len : left;
      memcpy (buf, u->j->mem + u->off, n);
      u->off += (off_t)n;
      return (ssize_t)n;
    }
  ssize_t n;
  do
    n = pread (u->fd, buf, len, u->off);
  while (n < 0 && errno == EINTR);
  if (n > 0)
    u->off += n;
  return n;
}

static int src_rewind (void *cookie)
{
  struct upload_src *u = cookie;
  u->off = 0;
  return 0;
}

static void src_progress (void *cookie, uint64_t sent)
{
  struct upload_src *u = cookie;
  /* Every 512 KiB is plenty for a progress bar. */
  if (sent < u->shown + (512u << 10) && sent != (uint64_t)u->j->size)
    return;
  u->shown = sent;
  progress (u->c, u->j->short_id, RP_PUSHING, sent, (uint64_t)u->j->size, NULL);
}

static void done (struct push_ctx *c, struct job *j, enum reg_progress_state st, const char *msg)
{
  if (j->short_id[0])
    progress (c, j->short_id, st, 0, 0, msg);
}

/* 1 when the repository has the blob already or it was mounted there. */
static int try_present (struct push_ctx *c, struct job *j, const char *digest, berr_t *err)
{
  int r = reg_blob_exists (c->rs, c->repo, digest, NULL, err);
  if (r < 0)
    return -1;
  if (r == 1)
    {
      done (c, j, RP_LAYER_EXISTS, NULL);
      return 1;
    }
  for (size_t i = 0; j->mount_from && j->mount_from[i]; i++)
    {
      const char *from = j->mount_from[i];
      /* A failed mount is no failure: the upload follows. */
      berr_t e = BERR_INIT;
      r = reg_blob_mount (c->rs, c->repo, digest, from, &e);
      if (r < 0)
        log_debug ("mount %s from %s: %s", digest, from, e.msg);
      berr_release (&e);
      if (r == 1)
        {
          done (c, j, RP_MOUNTED, from);
          return 1;
        }
    }
  return 0;
}

static int run_job (struct push_ctx *c, struct job *j, berr_t *err)
{
  if (j->compress)
    {
      /* A digest this layer had before: when the repository has it (or can mount it), there
       * is nothing to compress. */
      if (j->candidate[0])
        {
          int r = try_present (c, j, j->candidate, err);
          if (r != 0)
            {
              memcpy (j->digest, j->candidate, DIGEST_STR_LEN);
              return r < 0 ? -1 : 0;
            }
        }
      if (push_compress_layer (c->s, &j->li, c->kind, j->stage_fd, j->digest, &j->size, err) < 0)
        return berr_wrap (err, "compress layer %s", j->diff_id);
      if (strcmp (j->digest, j->candidate) != 0)
        {
          strv_free (j->mount_from);
          j->mount_from = NULL;
        }
    }
  if (!j->compress || strcmp (j->digest, j->candidate) != 0)
    {
      int r = try_present (c, j, j->digest, err);
      if (r != 0)
        return r < 0 ? -1 : 0;
    }
  struct upload_src u = { .c = c, .j = j, .fd = -1 };
  cleanup_close int fd = -1;
  if (j->compress)
    u.fd = j->stage_fd;
  else if (j->path)
    {
      fd = open (j->path, O_RDONLY | O_CLOEXEC);
      if (fd < 0)
        return berr_set (err, errno, "open %s", j->path);
      u.fd = fd;
    }
  struct reg_upload up
      = { .digest = j->digest,
          .size = j->size,
          .read_fn = src_read,
          .rewind_fn = src_rewind,
          .cookie = &u,
          .chunk_size = c->o->chunk_size ? c->o->chunk_size : (size_t)c->o->cfg->push_chunk_size,
          .progress = src_progress,
          .progress_cookie = &u };
  if (reg_blob_upload (c->rs, c->repo, &up, err) < 0)
    return -1;
  done (c, j, RP_PUSHED, NULL);
  return 0;
}

static void *worker (void *arg)
{
  struct push_ctx *c = arg;
  for (;;)
    {
      pthread_mutex_lock (&c->lock);
      struct job *j = c->next < c->njobs ? c->jobs[c->next++] : NULL;
      pthread_mutex_unlock (&c->lock);
      if (j == NULL)
        return NULL;
      j->rc = run_job (c, j, &j->err);
    }
}

/* Run the jobs, at most max_uploads at once; the first failure is the push's. */
static int run_jobs (struct push_ctx *c, struct job **jobs, size_t n, berr_t *err)
{
  c->jobs = jobs;
  c->njobs = n;
  c->next = 0;
  size_t nt = c->o->cfg && c->o->cfg->max_uploads > 0 ? (size_t)c->o->cfg->max_uploads : 5;
  if (nt > n)
    nt = n;
  /* The ones beyond the first nt wait for a free slot, as Docker's "Waiting" says. */
  for (size_t i = nt; i < n; i++)
    if (jobs[i]->short_id[0])
      progress (c, jobs[i]->short_id, RP_WAITING, 0, 0, NULL);
  pthread_t *t = xcalloc (nt ? nt : 1, sizeof *t);
  size_t started = 0;
  for (; started + 1 < nt; started++)
    if (pthread_create (&t[started], NULL, worker, c) != 0)
      break;
  worker (c); /* this thread works too */
  for (size_t i = 0; i < started; i++)
    pthread_join (t[i], NULL);
  free (t);
  for (size_t i = 0; i < n; i++)
    if (jobs[i]->rc < 0)
      {
        berr_move (err, &jobs[i]->err);
        return -1;
      }
  return 0;
}

/* ---- planning ---- */

/* Repositories of this registry where the blob is known ("host/path" sources), but the target. */
static char **mount_sources (struct push_ctx *c, const char *diff_id, const char *digest)
{
  char **out = NULL;
  struct blob_map_row *rows = NULL;
  size_t n = 0;
  berr_t e = BERR_INIT;
  if (!digest_is_valid (diff_id) || store_blob_map_list (c->s, diff_id, &rows, &n, &e) < 0)
    {
      berr_release (&e);
      return NULL;
    }
  size_t hl = strlen (c->domain);
  for (size_t i = 0; i < n; i++)
    if (strcmp (rows[i].digest, digest) == 0)
      for (size_t k = 0; rows[i].sources && rows[i].sources[k]; k++)
        {
          const char *src = rows[i].sources[k];
          if (strncmp (src, c->domain, hl) == 0 && src[hl] == '/' && strcmp (src + hl + 1, c->repo)
              && !strv_contains (out, src + hl + 1))
            strv_push (&out, src + hl + 1);
        }
  blob_map_rows_free (rows, n);
  return out;
}

static bool is_gzip (const char *mt)
{
  return strcmp (mt, MT_DOCKER_LAYER_GZIP) == 0 || strcmp (mt, MT_OCI_LAYER_GZIP) == 0;
}

/* The stored manifest of a pulled image, when every blob it names is here: its bytes and the
 * jobs for its blobs. 1: no such manifest (build one). */
static int plan_stored (struct push_ctx *c, const struct image_rec *im, char **body, size_t *blen,
                        char **mt, struct job ***jobs, size_t *njobs, berr_t *err)
{
  char md[DIGEST_STR_LEN];
  int r = store_image_manifest (c->s, im->id, md, err);
  if (r != 0)
    return r;
  cleanup_free char *data = NULL;
  size_t len = 0;
  berr_t e = BERR_INIT;
  if (store_blob_read (c->s, md, MANIFEST_MAX, &data, &len, &e) < 0)
    {
      berr_release (&e);
      return 1;
    }
  json_t *m = json_loadb (data, len, 0, NULL);
  json_t *cfg = json_object_get (m, "config");
  json_t *layers = json_object_get (m, "layers");
  const char *type = json_string_value (json_object_get (m, "mediaType"));
  const char *cd = json_string_value (json_object_get (cfg, "digest"));
  int ret = 1;
  struct job **v = NULL;
  size_t n = 0, li = 0;
  if (!json_is_array (layers) || json_object_get (m, "manifests") || cd == NULL
      || strcmp (cd, im->id) != 0
      || (type && strcmp (type, MT_DOCKER_MANIFEST) && strcmp (type, MT_OCI_MANIFEST)))
    goto out;
  size_t i;
  json_t *l;
  json_array_foreach (layers, i, l)
  {
    const char *d = json_string_value (json_object_get (l, "digest"));
    const char *lt = json_string_value (json_object_get (l, "mediaType"));
    json_int_t sz = json_integer_value (json_object_get (l, "size"));
    if (d == NULL || !digest_is_valid (d) || lt == NULL)
      goto out;
    const char *diff_id = im->diff_ids && li < strv_len (im->diff_ids) ? im->diff_ids[li] : NULL;
    li++;
    if (strcmp (lt, MT_DOCKER_LAYER_FOREIGN) == 0 || json_object_get (l, "urls"))
      continue; /* foreign layers are not pushed, as Docker does */
    if (!store_blob_exists (c->s, d))
      goto out;
    struct job *j = job_new (diff_id);
    memcpy (j->digest, d, DIGEST_STR_LEN);
    j->size = sz;
    j->own_media_type = xstrdup (lt);
    j->media_type = j->own_media_type;
    j->path = store_blob_path (c->s, d);
    j->mount_from = diff_id ? mount_sources (c, diff_id, d) : NULL;
    j->record = diff_id != NULL;
    v = xrealloc (v, (n + 1) * sizeof *v);
    v[n++] = j;
  }
  if (li != strv_len (im->diff_ids))
    goto out;
  *body = steal_pointer (&data);
  *blen = len;
  /* A manifest without mediaType can only be OCI's (Docker's schema 2 requires the field);
   * the config's type tells, as the pull side's parser infers it. */
  if (type == NULL)
    {
      const char *ct = json_string_value (json_object_get (cfg, "mediaType"));
      type = ct && strcmp (ct, MT_DOCKER_CONFIG) == 0 ? MT_DOCKER_MANIFEST : MT_OCI_MANIFEST;
    }
  *mt = xstrdup (type);
  *jobs = steal_pointer (&v);
  *njobs = n;
  ret = 0;
out:
  for (size_t k = 0; k < n && v; k++)
    job_free (v[k]);
  free (v);
  json_decref (m);
  return ret;
}

/* Jobs for a manifest written here: one per distinct layer. */
static int plan_build (struct push_ctx *c, const struct image_rec *im, struct job ***jobs,
                       size_t *njobs, berr_t *err)
{
  struct job **v = NULL;
  size_t n = 0;
  const char *want = c->kind == PUSH_ZSTD ? MT_OCI_LAYER_ZSTD : MT_OCI_LAYER_GZIP;
  for (size_t i = 0; im->diff_ids && im->diff_ids[i]; i++)
    {
      struct job *j = job_new (im->diff_ids[i]);
      v = xrealloc (v, (n + 1) * sizeof *v);
      v[n++] = j;
      int r = store_layer_get (c->s, im->diff_ids[i], &j->li, err);
      if (r != 0)
        {
          if (r > 0)
            berr_setk (err, BERR_NOT_FOUND, 0, "layer %s of image %s is not in the store",
                       im->diff_ids[i], im->id);
          goto fail;
        }
      j->record = true;
      const char *bmt = j->li.media_type ? j->li.media_type : "";
      bool usable
          = j->li.blob[0]
            && (is_gzip (bmt) || (c->kind == PUSH_ZSTD && strcmp (bmt, MT_OCI_LAYER_ZSTD) == 0));
      if (usable && store_blob_exists (c->s, j->li.blob))
        {
          memcpy (j->digest, j->li.blob, DIGEST_STR_LEN);
          j->size = j->li.blob_size;
          j->media_type = is_gzip (bmt)
                              ? (c->kind == PUSH_ZSTD ? MT_OCI_LAYER_GZIP : MT_DOCKER_LAYER_GZIP)
                              : MT_OCI_LAYER_ZSTD;
          j->path = store_blob_path (c->s, j->li.blob);
          j->mount_from = mount_sources (c, j->diff_id, j->digest);
          continue;
        }
      /* Compress; but first see whether the registry has what it compressed to before. Bind
       * libarchive here, before the worker threads reach for it. */
      if (lazy_archive_load (err) < 0)
        goto fail;
      j->compress = true;
      j->media_type = c->kind == PUSH_ZSTD ? MT_OCI_LAYER_ZSTD : MT_DOCKER_LAYER_GZIP;
      struct blob_map_row *rows = NULL;
      size_t nr = 0;
      if (store_blob_map_list (c->s, j->diff_id, &rows, &nr, err) < 0)
        goto fail;
      for (size_t k = 0; k < nr; k++)
        if (strcmp (rows[k].media_type, want) == 0
            || (c->kind == PUSH_GZIP && is_gzip (rows[k].media_type)))
          {
            memcpy (j->candidate, rows[k].digest, DIGEST_STR_LEN);
            j->size = rows[k].size;
            break;
          }
      blob_map_rows_free (rows, nr);
      if (j->candidate[0])
        j->mount_from = mount_sources (c, j->diff_id, j->candidate);
      if (store_stage_file (c->s, "push", &j->stage_path, &j->stage_fd, err) < 0)
        goto fail;
    }
  *jobs = v;
  *njobs = n;
  return 0;
fail:
  for (size_t k = 0; k < n; k++)
    job_free (v[k]);
  free (v);
  return -1;
}

static void jobs_free (struct job **v, size_t n)
{
  for (size_t k = 0; k < n; k++)
    job_free (v[k]);
  free (v);
}

/* The same layer twice in an image is moved once: the jobs to run. */
static struct job **distinct (struct job **v, size_t n, size_t *out_n)
{
  struct job **d = xcalloc (n ? n : 1, sizeof *d);
  size_t k = 0;
  for (size_t i = 0; i < n; i++)
    {
      bool dup = false;
      for (size_t m = 0; m < k && !dup; m++)
        dup = v[i]->compress ? (d[m]->compress && strcmp (d[m]->diff_id, v[i]->diff_id) == 0)
                             : (!d[m]->compress && strcmp (d[m]->digest, v[i]->digest) == 0);
      if (!dup)
        d[k++] = v[i];
    }
  *out_n = k;
  return d;
}

static int push_tag (struct push_ctx *c, const char *tag, const struct image_rec *im,
                     struct push_result *res, berr_t *err)
{
  cleanup_free char *cfg = NULL;
  size_t cfglen = 0;
  if (store_blob_read (c->s, im->id, 64u << 20, &cfg, &cfglen, err) < 0)
    return -1;
  char *body = NULL, *mt = NULL;
  size_t blen = 0;
  struct job **jobs = NULL;
  size_t njobs = 0;
  int r = plan_stored (c, im, &body, &blen, &mt, &jobs, &njobs, err);
  if (r < 0)
    return -1;
  bool built = r == 1;
  if (built && plan_build (c, im, &jobs, &njobs, err) < 0)
    return -1;
  int ret = -1;
  cleanup_free char *source = NULL; /* declared before the first goto out */
  /* Docker goes from the top layer down to the base: the same order for the lines and the
   * uploads. */
  for (size_t i = njobs; i-- > 0;)
    if (jobs[i]->short_id[0])
      progress (c, jobs[i]->short_id, RP_PREPARING, 0, 0, NULL);
  size_t nd = 0;
  struct job **d = distinct (jobs, njobs, &nd);
  for (size_t i = 0; i < nd / 2; i++)
    {
      struct job *t = d[i];
      d[i] = d[nd - 1 - i];
      d[nd - 1 - i] = t;
    }
  /* One token for the whole push: this repository and every mount source. */
  {
    cleanup_strv char **scopes = NULL;
    strv_push_take (&scopes, xasprintf ("repository:%s:pull,push", c->repo));
    for (size_t i = 0; i < nd; i++)
      for (size_t k = 0; d[i]->mount_from && d[i]->mount_from[k]; k++)
        {
          cleanup_free char *sc = xasprintf ("repository:%s:pull", d[i]->mount_from[k]);
          if (!strv_contains (scopes, sc))
            strv_push (&scopes, sc);
        }
    struct sbuf joined;
    sbuf_init (&joined);
    for (size_t k = 0; scopes[k]; k++)
      sbuf_addf (&joined, "%s%s", k ? " " : "", scopes[k]);
    reg_session_add_scope (c->rs, joined.buf);
    sbuf_release (&joined);
  }
  /* The config after the layers, as Docker does; no progress line of its own. */
  struct job *cj = job_new (NULL);
  memcpy (cj->digest, im->id, DIGEST_STR_LEN);
  cj->size = (int64_t)cfglen;
  cj->mem = cfg;
  if (run_jobs (c, d, nd, err) < 0 || run_jobs (c, &cj, 1, err) < 0)
    goto out;
  if (built)
    {
      bool oci = c->kind == PUSH_ZSTD;
      struct push_desc cd
          = { oci ? MT_OCI_CONFIG : MT_DOCKER_CONFIG, im->id, (int64_t)cfglen, NULL };
      struct push_desc *ld = xcalloc (njobs ? njobs : 1, sizeof *ld);
      for (size_t i = 0; i < njobs; i++)
        {
          /* A duplicate's twin ran: take the digest from it. */
          struct job *j = jobs[i];
          for (size_t m = 0; m < nd; m++)
            if (d[m] != j && d[m]->compress && j->compress
                && strcmp (d[m]->diff_id, j->diff_id) == 0)
              {
                memcpy (j->digest, d[m]->digest, DIGEST_STR_LEN);
                j->size = d[m]->size;
              }
          ld[i] = (struct push_desc){ j->media_type, j->digest, j->size, NULL };
        }
      body = push_manifest_write (oci, &cd, ld, njobs, &blen);
      mt = xstrdup (oci ? MT_OCI_MANIFEST : MT_DOCKER_MANIFEST);
      free (ld);
    }
  if (reg_manifest_put (c->rs, c->repo, tag, mt, body, blen, err) < 0)
    goto out;
  res->tag = xstrdup (tag);
  sha256_digest (body, blen, res->digest);
  res->size = (int64_t)blen;
  /* What this push learnt: the compressed blob of each layer, and that this repository has it.
   * Not part of the push's result: a failure to note it is only logged. */
  source = xasprintf ("%s/%s", c->domain, c->repo);
  for (size_t i = 0; i < nd; i++)
    if (d[i]->record && d[i]->digest[0] && d[i]->media_type)
      {
        const char *rmt = is_gzip (d[i]->media_type) ? MT_OCI_LAYER_GZIP : d[i]->media_type;
        berr_t e = BERR_INIT;
        if (store_blob_map_put (c->s, d[i]->digest, d[i]->diff_id, rmt, d[i]->size, source, &e) < 0)
          log_warn ("push: recording blob %s: %s", d[i]->digest, e.msg);
        berr_release (&e);
      }
  ret = 0;
out:
  cj->mem = NULL;
  job_free (cj);
  free (d);
  jobs_free (jobs, njobs);
  free (body);
  free (mt);
  return ret;
}

void push_results_free (struct push_result *r, size_t n)
{
  for (size_t i = 0; i < n; i++)
    free (r[i].tag);
  free (r);
}

struct tagged
{
  char *tag;
  struct image_rec *im;
};

static int tagged_cmp (const void *a, const void *b)
{
  return strcmp (((const struct tagged *)a)->tag, ((const struct tagged *)b)->tag);
}

int image_push (struct store *s, const char *name, const struct push_opts *o,
                struct push_result **results, size_t *n, berr_t *err)
{
  *results = NULL;
  *n = 0;
  struct image_ref ref = { 0 };
  if (ref_parse_normalized (name, &ref, err) < 0)
    return -1;
  int ret = -1;
  struct tagged *tl = NULL;
  size_t nt = 0;
  struct image_rec **all = NULL;
  size_t nall = 0;
  struct push_result *res = NULL;
  struct push_ctx c = { .s = s, .o = o };
  pthread_mutex_init (&c.lock, NULL);
  cleanup_free char *full = ref_name (&ref);
  cleanup_free char *familiar = ref_familiar_name (&ref);
  cleanup_free char *msg = NULL;
  if (ref.digest)
    {
      berr_setk (err, BERR_INVALID, 0, "cannot push a digest reference");
      goto out;
    }
  if (o->all_tags && ref.tag)
    {
      berr_setk (err, BERR_INVALID, 0, "tag can't be used with --all-tags/-a");
      goto out;
    }
  c.domain = ref.domain;
  c.repo = ref.path;
  const char *comp = o->cfg && o->cfg->push_compression ? o->cfg->push_compression : "gzip";
  if (strcmp (comp, "gzip") == 0)
    c.kind = PUSH_GZIP;
  else if (strcmp (comp, "zstd") == 0)
    c.kind = PUSH_ZSTD;
  else
    {
      berr_setk (err, BERR_INVALID, 0, "push-compression: unknown compression \"%s\"", comp);
      goto out;
    }
  msg = xasprintf ("The push refers to repository [%s]", full);
  progress (&c, NULL, RP_MESSAGE, 0, 0, msg);

  /* The tags to push, each with its image. */
  if (o->all_tags)
    {
      if (store_image_list (s, &all, &nall, err) < 0)
        goto out;
      size_t fl = strlen (full);
      for (size_t i = 0; i < nall; i++)
        for (size_t k = 0; all[i]->tags && all[i]->tags[k]; k++)
          if (strncmp (all[i]->tags[k], full, fl) == 0 && all[i]->tags[k][fl] == ':')
            {
              tl = xrealloc (tl, (nt + 1) * sizeof *tl);
              tl[nt++] = (struct tagged){ xstrdup (all[i]->tags[k] + fl + 1), all[i] };
            }
      qsort (tl, nt, sizeof *tl, tagged_cmp);
    }
  else
    {
      const char *tag = ref.tag ? ref.tag : "latest";
      cleanup_free char *want = xasprintf ("%s:%s", full, tag);
      struct image_rec *im = NULL;
      berr_t e = BERR_INIT;
      if (store_image_lookup (s, want, &im, &e) == 0)
        {
          all = xcalloc (1, sizeof *all);
          all[0] = im;
          nall = 1;
          tl = xcalloc (1, sizeof *tl);
          tl[nt++] = (struct tagged){ xstrdup (tag), im };
        }
      else if (e.kind != BERR_NOT_FOUND)
        {
          berr_move (err, &e);
          goto out;
        }
      berr_release (&e);
    }
  if (nt == 0)
    {
      berr_setk (err, BERR_NOT_FOUND, 0, "An image does not exist locally with the tag: %s",
                 familiar);
      goto out;
    }

  if (reg_session_open (o->cfg, ref.domain, &c.rs, err) < 0)
    goto out;
  res = xcalloc (nt, sizeof *res);
  for (size_t i = 0; i < nt; i++)
    {
      if (push_tag (&c, tl[i].tag, tl[i].im, &res[*n], err) < 0)
        goto out;
      /* As Docker: the pushed manifest becomes a repo digest of the image. */
      {
        cleanup_free char *rd = xasprintf ("%s/%s@%s", c.domain, c.repo, res[*n].digest);
        berr_t e = BERR_INIT;
        if (store_image_add_digest (s, tl[i].im->id, rd, &e) < 0)
          log_warn ("push: record %s: %s", rd, e.msg);
        berr_release (&e);
      }
      (*n)++;
      cleanup_free char *line
          = xasprintf ("%s: digest: %s size: %" PRId64, tl[i].tag, res[i].digest, res[i].size);
      progress (&c, NULL, RP_MESSAGE, 0, 0, line);
    }
  *results = steal_pointer (&res);
  ret = 0;
out:
  if (ret < 0)
    {
      push_results_free (res, *n);
      *n = 0;
    }
  for (size_t i = 0; i < nt; i++)
    free (tl[i].tag);
  free (tl);
  image_recs_free (all, nall);
  reg_session_free (c.rs);
  pthread_mutex_destroy (&c.lock);
  ref_release (&ref);
  return ret;
}
