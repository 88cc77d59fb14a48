/* pull_layers.c — the layers of a pull, fetched in parallel and committed one by one.
 *
 * Each blob is streamed once: the registry's bytes go through layer_apply, which hashes them
 * (digest), copies them to a staged blob file (kept for a push of the same digest), decompresses,
 * hashes the tar (diff_id) and unpacks into a staged directory. Only when both hashes match the
 * manifest and the config is the layer committed. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "image/layer.h"
#include "registry/pull_int.h"
#include "util/fs.h"
#include "util/lazylib.h"
#include "util/log.h"
#include "util/util.h"

struct job
{
  const struct manifest_desc *d;
  const char *diff_id;
  char id[13]; /* short id for progress */
  bool present;
};

struct pool
{
  struct pull_ctx *c;
  /* Set by the first failure: the other workers stop reading mid-blob instead of finishing
   * downloads whose image cannot be committed anyway. */
  atomic_bool cancel;
  struct job *jobs;
  size_t njobs;
  pthread_mutex_t mu; /* next, failed, err */
  size_t next;
  bool failed;
  berr_t err;
};

/* The stream from the registry, counted for progress. */
struct counted
{
  struct pull_ctx *c;
  atomic_bool *cancel;
  struct job *j;
  struct reg_blob_reader *r;
  uint64_t done;
  struct timespec last;
  bool read_failed;
};

static int64_t ms_since (const struct timespec *t)
{
  struct timespec now;
  clock_gettime (CLOCK_MONOTONIC, &now);
  return (now.tv_sec - t->tv_sec) * 1000 + (now.tv_nsec - t->tv_nsec) / 1000000;
}

static ssize_t counted_read (void *cookie, void *buf, size_t len)
{
  struct counted *k = cookie;
  if (atomic_load (k->cancel))
    {
      errno = ECANCELED;
      return -1;
    }
  ssize_t n = reg_blob_read (k->r, buf, len);
  if (n < 0)
    {
      k->read_failed = true;
      return n;
    }
  k->done += (uint64_t)n;
  /* A redraw every 100 ms is what a terminal can show; more only costs. */
  if (n > 0 && k->c->o->progress && ms_since (&k->last) >= 100)
    {
      clock_gettime (CLOCK_MONOTONIC, &k->last);
      pull_emit (k->c, k->j->id, RP_DOWNLOADING, k->done, (uint64_t)k->j->d->size, NULL);
    }
  return n;
}

/* 0 found (and recorded for this repository), 1 not stored. B2 when the stored layer for the
 * blob has another diff_id than the config says. Called with store_mu held. */
static int find_stored (struct pull_ctx *c, struct job *j, berr_t *err)
{
  struct layer_info li = { 0 };
  int r = store_layer_by_blob (c->s, j->d->digest, &li, err);
  if (r != 0)
    return r;
  char stored[DIGEST_STR_LEN];
  memcpy (stored, li.diff_id, DIGEST_STR_LEN);
  layer_info_release (&li);
  if (strcmp (stored, j->diff_id) != 0)
    return berr_setk (err, BERR_CORRUPT, 0,
                      "layers from manifest don't match image configuration: blob %s is layer "
                      "%s, the config says %s",
                      j->d->digest, stored, j->diff_id);
  if (store_blob_map_put (c->s, j->d->digest, j->diff_id, j->d->media_type, j->d->size, c->source,
                          err)
      < 0)
    return -1;
  return 0;
}

/* The unpacker failed on bytes the registry sent in full: when they are not the blob the
 * manifest names, that is the error to report (B1), not the decompressor's complaint. The
 * staged copy holds exactly what was read. */
static bool blob_mismatch (int bfd, const struct manifest_desc *d, berr_t *err)
{
  struct stat st;
  if (fstat (bfd, &st) < 0 || st.st_size != d->size)
    return false;
  struct sha256 h;
  char buf[1 << 16], got[DIGEST_STR_LEN];
  off_t off = 0;
  ssize_t n;
  sha256_init (&h);
  while ((n = pread (bfd, buf, sizeof buf, off)) > 0)
    {
      sha256_update (&h, buf, (size_t)n);
      off += n;
    }
  sha256_final (&h, got);
  if (n < 0 || strcmp (got, d->digest) == 0)
    return false;
  char *why = steal_pointer (&err->msg);
  berr_setk (err, BERR_CORRUPT, 0,
             "filesystem layer verification failed for digest %s: got %s (%s)", d->digest, got,
             why ? why : "");
  free (why);
  return true;
}

static int fetch_layer (struct pull_ctx *c, struct job *j, atomic_bool *cancel, berr_t *err)
{
  cleanup_free char *blob_path = NULL, *dir_path = NULL;
  cleanup_close int bfd = -1, lock_fd = -1;
  int ret = -1;

  if (store_blob_lock (c->s, j->d->digest, &lock_fd, err) < 0)
    return -1;
  /* Another pull may have committed it while we waited for the lock. */
  pthread_mutex_lock (&c->store_mu);
  int r = find_stored (c, j, err);
  if (r == 1)
    r = store_stage_file (c->s, "blob", &blob_path, &bfd, err) < 0
                || store_stage_dir (c->s, "layer", &dir_path, err) < 0
            ? -1
            : 1;
  pthread_mutex_unlock (&c->store_mu);
  if (r <= 0)
    {
      if (r == 0)
        pull_emit (c, j->id, RP_ALREADY_EXISTS, 0, 0, NULL);
      return r;
    }

  struct counted k = { .c = c, .cancel = cancel, .j = j };
  clock_gettime (CLOCK_MONOTONIC, &k.last);
  struct layer_apply_result res;
  cleanup_close int dfd = open (dir_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0)
    {
      berr_set (err, errno, "open %s", dir_path);
      goto out;
    }
  if (reg_blob_open (c->sess, c->repo, j->d->digest, j->d->size, &k.r, err) < 0)
    goto out;
  pull_emit (c, j->id, RP_DOWNLOADING, 0, (uint64_t)j->d->size, NULL);
  struct layer_apply_opts lo = { .max_size = c->o->max_layer_size, .blob_fd = bfd };
  if (layer_apply (counted_read, &k, dfd, &lo, &res, err) < 0)
    {
      /* The registry's error says more than the unpacker's "read error". */
      if (k.read_failed && !atomic_load (cancel))
        {
          berr_release (err);
          reg_blob_error (k.r, err);
        }
      if (k.read_failed || !blob_mismatch (bfd, j->d, err))
        berr_wrap (err, "%s", j->d->digest);
      goto out;
    }
  /* The reader stops at size + 1 and at a short stream; still check both hashes here. */
  pull_emit (c, j->id, RP_VERIFYING, 0, 0, NULL);
  if (strcmp (res.digest, j->d->digest) != 0 || res.size != (uint64_t)j->d->size)
    {
      berr_setk (err, BERR_CORRUPT, 0,
                 "filesystem layer verification failed for digest %s: got %s (%" PRIu64
                 " bytes, expected %" PRId64 ")",
                 j->d->digest, res.digest, res.size, j->d->size);
      goto out;
    }
  pull_emit (c, j->id, RP_DOWNLOAD_DONE, 0, 0, NULL);
  if (strcmp (res.diff_id, j->diff_id) != 0)
    {
      berr_setk (err, BERR_CORRUPT, 0,
                 "layers from manifest don't match image configuration: layer %s has diff_id %s, "
                 "the config says %s",
                 j->d->digest, res.diff_id, j->diff_id);
      goto out;
    }

  struct ingest_layer l = { .staged_dir = dir_path,
                            .staged_blob = blob_path,
                            .media_type = j->d->media_type,
                            .blob_size = (int64_t)res.size,
                            .tar_size = (int64_t)res.tar_size,
                            .size = (int64_t)res.content_size };
  memcpy (l.diff_id, res.diff_id, DIGEST_STR_LEN);
  memcpy (l.blob, res.digest, DIGEST_STR_LEN);
  pthread_mutex_lock (&c->store_mu);
  ret = store_commit (c->s, &l, 1, NULL, 0, NULL, NULL, err);
  if (ret == 0)
    ret = store_blob_map_put (c->s, j->d->digest, j->diff_id, j->d->media_type, j->d->size,
                              c->source, err);
  pthread_mutex_unlock (&c->store_mu);
  if (ret == 0)
    pull_emit (c, j->id, RP_PULL_COMPLETE, 0, 0, NULL);

out:
  if (k.r)
    reg_blob_close (k.r);
  if (ret < 0)
    {
      /* Whatever was staged and not placed goes now (the store would also reclaim it). */
      berr_t e2 = BERR_INIT;
      if (dir_path && access (dir_path, F_OK) == 0 && fs_rm_rf (dir_path, &e2) < 0)
        log_debug ("pull: %s", e2.msg);
      berr_release (&e2);
      if (blob_path)
        unlink (blob_path);
    }
  return ret;
}

static void *worker (void *arg)
{
  struct pool *p = arg;
  for (;;)
    {
      pthread_mutex_lock (&p->mu);
      if (p->failed || p->next >= p->njobs)
        {
          pthread_mutex_unlock (&p->mu);
          return NULL;
        }
      struct job *j = &p->jobs[p->next++];
      pthread_mutex_unlock (&p->mu);
      if (j->present)
        continue;
      berr_t err = BERR_INIT;
      if (fetch_layer (p->c, j, &p->cancel, &err) < 0)
        {
          /* The error is recorded before the others are told to stop, so it is the cause and
           * not one of their "canceled" that gets reported. */
          pthread_mutex_lock (&p->mu);
          if (!p->failed)
            {
              p->failed = true;
              berr_move (&p->err, &err);
            }
          pthread_mutex_unlock (&p->mu);
          atomic_store (&p->cancel, true);
          berr_release (&err);
          return NULL;
        }
    }
}

int pull_layers (struct pull_ctx *c, const struct manifest *m, char *const *diff_ids, berr_t *err)
{
  struct pool p = { .c = c, .njobs = m->nlayers };
  size_t todo = 0;

  if (lazy_archive_load (err) < 0)
    return -1;
  p.jobs = xzalloc ((m->nlayers + 1) * sizeof *p.jobs);
  atomic_init (&p.cancel, false);
  pthread_mutex_init (&p.mu, NULL);
  int ret = 0;
  /* What is stored already shows as such at once; the rest waits its turn. */
  for (size_t i = 0; i < m->nlayers && ret == 0; i++)
    {
      struct job *j = &p.jobs[i];
      j->d = &m->layers[i];
      j->diff_id = diff_ids[i];
      snprintf (j->id, sizeof j->id, "%.12s", digest_hex (j->d->digest));
      for (size_t k = 0; k < i && ret == 0; k++)
        if (strcmp (p.jobs[k].d->digest, j->d->digest) == 0)
          {
            /* the same blob twice: fetched once — and it must be the same layer twice in the
             * configuration too (B2) */
            if (strcmp (p.jobs[k].diff_id, j->diff_id) != 0)
              ret = berr_set (err, 0,
                              "layers from manifest don't match image configuration: blob %s "
                              "is layer %zu and %zu, with diff_ids %s and %s",
                              j->d->digest, k + 1, i + 1, p.jobs[k].diff_id, j->diff_id);
            j->present = true;
          }
      if (ret < 0)
        break;
      if (j->present)
        continue;
      pthread_mutex_lock (&c->store_mu);
      int r = find_stored (c, j, err);
      pthread_mutex_unlock (&c->store_mu);
      if (r < 0)
        ret = -1;
      else if (r == 0)
        {
          j->present = true;
          pull_emit (c, j->id, RP_ALREADY_EXISTS, 0, 0, NULL);
        }
      else
        pull_emit (c, j->id, RP_PULLING_FS, 0, 0, NULL);
    }
  size_t nthreads
      = (size_t)(c->o->cfg && c->o->cfg->max_downloads > 0 ? c->o->cfg->max_downloads : 3);
  for (size_t i = 0; i < m->nlayers; i++)
    if (!p.jobs[i].present && todo++ >= nthreads)
      pull_emit (c, p.jobs[i].id, RP_WAITING, 0, 0, NULL);
  if (nthreads > todo)
    nthreads = todo;

  if (ret == 0 && todo > 0)
    {
      pthread_t *th = xzalloc (nthreads * sizeof *th);
      size_t started = 0;
      /* This thread works too: one fewer to start. */
      for (size_t i = 1; i < nthreads; i++)
        {
          int e = pthread_create (&th[i], NULL, worker, &p);
          if (e != 0)
            {
              log_debug ("pull: pthread_create: %s", strerror (e));
              break;
            }
          started = i;
        }
      worker (&p);
      for (size_t i = 1; i <= started; i++)
        pthread_join (th[i], NULL);
      free (th);
      if (p.failed)
        {
          berr_move (err, &p.err);
          ret = -1;
        }
    }
  berr_release (&p.err);
  pthread_mutex_destroy (&p.mu);
  free (p.jobs);
  return ret;
}
