/* pull_int.h — what pull.c and pull_layers.c share. */
#ifndef BERTH_PULL_INT_H
#define BERTH_PULL_INT_H

#include <pthread.h>

#include "registry/manifest.h"
#include "registry/pull.h"

struct pull_ctx
{
  struct store *s;
  const struct pull_opts *o;
  struct reg_session *sess;
  const char *repo;   /* "library/busybox" */
  const char *source; /* "docker.io/library/busybox" for blob_map */
  /* The store's SQLite connection and staging counter are not thread-safe: every store call
   * from a worker runs under store_mu. Progress callbacks run under prog_mu. */
  pthread_mutex_t store_mu, prog_mu;
};

void pull_emit (struct pull_ctx *c, const char *id, enum reg_progress_state st, uint64_t cur,
                uint64_t total, const char *msg);

/* Fetch the layers of a manifest the store lacks, in parallel threads; each verified layer is
 * committed on its own (so a concurrent or later pull finds it). diff_ids from the config. */
int pull_layers (struct pull_ctx *c, const struct manifest *m, char *const *diff_ids, berr_t *err);

#endif
