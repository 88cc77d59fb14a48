/* store_int.h — the store's insides, shared by the files of src/store (images in store.c,
 * containers in store_container.c, volumes in store_volume.c, networks and endpoints in
 * store_network.c).  Not for use outside src/store. */
#ifndef BERTH_STORE_INT_H
#define BERTH_STORE_INT_H

#include <sqlite3.h>

#include "store.h"

struct store
{
  char *root;
  char *runroot;
  sqlite3 *db;
  /* This process's staging area (created on first use). */
  char *stage;    /* <root>/tmp/<id> */
  int stage_lock; /* flock'ed fd on <root>/tmp/<id>.lock */
  int stage_seq;
  int intent_fd; /* <stage>/intents, append-only */
  bool sync;     /* flush staged data before commits (config "sync", default true) */
};

int db_err (struct store *s, berr_t *err, const char *what);
int db_exec (struct store *s, const char *sql, berr_t *err);
void cleanup_stmtp (sqlite3_stmt **st);
#define cleanup_stmt __attribute__ ((cleanup (cleanup_stmtp)))
sqlite3_stmt *db_prep (struct store *s, const char *sql, berr_t *err);
void bind_text (sqlite3_stmt *st, int i, const char *v);
const char *col_text (sqlite3_stmt *st, int i);
/* A layers row (diff_id, blob, media_type, blob_size, tar_size, size, split) into *out. */
void layer_from_row (sqlite3_stmt *st, struct layer_info *out);
/* BEGIN IMMEDIATE: writers serialize here (busy timeout). */
int db_begin_write (struct store *s, berr_t *err);
void db_rollback (struct store *s);

/* Shared with store_build.c (defined in store.c). */
int ensure_stage (struct store *s, berr_t *err);
/* 1 when the query (one text parameter) returns a row. */
bool row_exists (struct store *s, const char *sql, const char *arg);
/* Run one statement; n parameters given as pairs ('s', const char *) or ('i', int64_t). */
int exec_bind (struct store *s, const char *sql, berr_t *err, int n, ...);
/* Inside a write transaction: delete the image row (its tags, digests, layer references and
 * build-cache rows go by cascade) and the layers nothing else uses; the files to remove after
 * COMMIT are queued in paths. reclaimed (may be NULL) grows by the layers' sizes. */
int delete_image_locked (struct store *s, const char *id, char ***lines, char ***paths,
                         int64_t *reclaimed, berr_t *err);
/* Delete the untagged, childless, unused ancestors starting at parent (Docker's prune). */
int prune_parents_locked (struct store *s, const char *parent, char ***lines, char ***paths,
                          int64_t *reclaimed, berr_t *err);
/* Write the intents for paths, COMMIT, then remove the files (rolls back on failure). */
int finish_removal (struct store *s, char **paths, berr_t *err);
/* A container created from the image: its id (a running one first). */
bool image_in_use (struct store *s, const char *id, char cid[65], bool *running);
bool image_has_children (struct store *s, const char *id);

#endif
