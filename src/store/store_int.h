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
/* BEGIN IMMEDIATE: writers serialize here (busy timeout). */
int db_begin_write (struct store *s, berr_t *err);
void db_rollback (struct store *s);

#endif
