/* store_build.c — the legacy builder's cache: table build_cache maps a step's cache key to the
 * image that step produced (see store.h). Rows are written by store_commit and go with their image
 * through the foreign key, so a hit always names an image that exists. */
#include "store.h"
#include "store_int.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "util/log.h"
#include "util/util.h"

/* A row is "old" for an until filter by its last use (a hit refreshes it), else its creation. */
#define OLD_ENOUGH "(?1 = 0 OR COALESCE(last_used, created, 0) < ?1)"

int store_build_cache_get (struct store *s, const char *key, char id[DIGEST_STR_LEN], berr_t *err)
{
  char found[DIGEST_STR_LEN] = "";
  bool image_exists = false;
  {
    cleanup_stmt sqlite3_stmt *st
        = db_prep (s,
                   "SELECT b.image_id, i.id IS NOT NULL FROM build_cache b "
                   "LEFT JOIN images i ON i.id = b.image_id WHERE b.key = ?",
                   err);
    if (st == NULL)
      return -1;
    bind_text (st, 1, key);
    int r = sqlite3_step (st);
    if (r == SQLITE_DONE)
      return 1;
    if (r != SQLITE_ROW)
      return db_err (s, err, "build cache lookup");
    snprintf (found, sizeof found, "%s", col_text (st, 0) ? col_text (st, 0) : "");
    image_exists = sqlite3_column_int (st, 1) != 0;
  }
  if (!image_exists)
    {
      /* Only with foreign keys off at some point (an older berth, a hand edit): drop it. */
      if (exec_bind (s, "DELETE FROM build_cache WHERE key = ?", err, 1, 's', key) < 0)
        return -1;
      return 1;
    }
  if (exec_bind (s, "UPDATE build_cache SET last_used = ?2 WHERE key = ?1 AND image_id = ?3", err,
                 3, 's', key, 'i', now_ns (), 's', found)
      < 0)
    return -1;
  if (sqlite3_changes (s->db) == 0)
    return 1; /* pruned or replaced since the lookup */
  snprintf (id, DIGEST_STR_LEN, "%s", found);
  return 0;
}

int store_build_cache_put (struct store *s, const char *key, const char *id, berr_t *err)
{
  if (key == NULL || key[0] == '\0')
    return berr_setk (err, BERR_INVALID, 0, "build cache: empty key");
  if (db_begin_write (s, err) < 0)
    return -1;
  if (!row_exists (s, "SELECT 1 FROM images WHERE id = ?", id))
    {
      db_rollback (s);
      return berr_setk (err, BERR_NOT_FOUND, 0, "No such image: %s", id);
    }
  int64_t now = now_ns ();
  if (exec_bind (s,
                 "INSERT OR REPLACE INTO build_cache(key, image_id, created, last_used) "
                 "VALUES (?, ?, ?, ?)",
                 err, 4, 's', key, 's', id, 'i', now, 'i', now)
      < 0)
    {
      db_rollback (s);
      return -1;
    }
  if (db_exec (s, "COMMIT", err) < 0)
    {
      db_rollback (s);
      return -1;
    }
  return 0;
}

/* Run a query whose rows are one text column into a NULL-terminated vector. */
static int query_strv (struct store *s, const char *sql, int64_t arg, char ***out, berr_t *err)
{
  cleanup_stmt sqlite3_stmt *st = db_prep (s, sql, err);
  if (st == NULL)
    return -1;
  if (sqlite3_bind_parameter_count (st) > 0)
    sqlite3_bind_int64 (st, 1, arg);
  cleanup_strv char **v = NULL;
  int r;
  while ((r = sqlite3_step (st)) == SQLITE_ROW)
    if (col_text (st, 0))
      strv_push (&v, col_text (st, 0));
  if (r != SQLITE_DONE)
    return db_err (s, err, "query");
  *out = steal_pointer (&v);
  return 0;
}

int store_image_parents (struct store *s, char ***ids, berr_t *err)
{
  *ids = NULL;
  return query_strv (s,
                     "SELECT DISTINCT parent FROM images WHERE parent IS NOT NULL "
                     "AND parent IN (SELECT id FROM images) ORDER BY parent",
                     0, ids, err);
}

int store_build_cache_usage (struct store *s, int64_t *entries, int64_t *size, int64_t *reclaimable,
                             berr_t *err)
{
  {
    cleanup_stmt sqlite3_stmt *st = db_prep (s, "SELECT COUNT(*) FROM build_cache", err);
    if (st == NULL)
      return -1;
    if (sqlite3_step (st) != SQLITE_ROW)
      return db_err (s, err, "build cache count");
    *entries = sqlite3_column_int64 (st, 0);
  }
  /* b: build results and their ancestors; ub: those without a name; the layers counted are the
   * ones only ub images reference, reclaimable unless a container's image has them. */
  cleanup_stmt sqlite3_stmt *st = db_prep (
      s,
      "WITH RECURSIVE b(id) AS ("
      "  SELECT image_id FROM build_cache"
      "  UNION SELECT i.parent FROM images i JOIN b ON i.id = b.id WHERE i.parent IS NOT NULL),"
      " ub(id) AS (SELECT id FROM b WHERE id IN (SELECT id FROM images)"
      "  AND id NOT IN (SELECT image_id FROM tags) AND id NOT IN (SELECT image_id FROM "
      "repo_digests)),"
      " cl(diff_id) AS (SELECT diff_id FROM image_layers GROUP BY diff_id"
      "  HAVING SUM(image_id NOT IN (SELECT id FROM ub)) = 0),"
      " used(diff_id) AS (SELECT il.diff_id FROM image_layers il"
      "  JOIN containers c ON c.image_id = il.image_id)"
      " SELECT COALESCE(SUM(l.size), 0),"
      "  COALESCE(SUM(CASE WHEN l.diff_id IN (SELECT diff_id FROM used) THEN 0 ELSE l.size END), "
      "0)"
      " FROM layers l WHERE l.diff_id IN (SELECT diff_id FROM cl)",
      err);
  if (st == NULL)
    return -1;
  if (sqlite3_step (st) != SQLITE_ROW)
    return db_err (s, err, "build cache usage");
  *size = sqlite3_column_int64 (st, 0);
  *reclaimable = sqlite3_column_int64 (st, 1);
  return 0;
}

int store_build_cache_active (struct store *s, int64_t *active, berr_t *err)
{
  cleanup_stmt sqlite3_stmt *st = db_prep (
      s, "SELECT COUNT(*) FROM build_cache WHERE image_id IN (SELECT image_id FROM containers)",
      err);
  if (st == NULL)
    return -1;
  if (sqlite3_step (st) != SQLITE_ROW)
    return db_err (s, err, "build cache active");
  *active = sqlite3_column_int64 (st, 0);
  return 0;
}

/* Can a build result go: no name, no child, no container? */
static bool prunable (struct store *s, const char *id)
{
  char cid[65];
  bool running;
  return row_exists (s, "SELECT 1 FROM images WHERE id = ?", id)
         && !row_exists (s, "SELECT 1 FROM tags WHERE image_id = ?", id)
         && !row_exists (s, "SELECT 1 FROM repo_digests WHERE image_id = ?", id)
         && !image_has_children (s, id) && !image_in_use (s, id, cid, &running);
}

static int prune_locked (struct store *s, bool all, int64_t until_ns, char ***lines, char ***paths,
                         int64_t *reclaimed, berr_t *err)
{
  /* The images of the selected rows, except those another (kept) row still points at. */
  cleanup_strv char **cands = NULL;
  if (query_strv (s,
                  "SELECT DISTINCT image_id FROM build_cache WHERE " OLD_ENOUGH
                  " AND image_id NOT IN (SELECT image_id FROM build_cache WHERE NOT " OLD_ENOUGH
                  ") ORDER BY image_id",
                  until_ns, &cands, err)
      < 0)
    return -1;
  size_t n = strv_len (cands);
  cleanup_free bool *done = xzalloc ((n + 1) * sizeof *done);
  /* Leaves first: deleting a step's image may leave its parent step childless. */
  for (bool progress = true; progress;)
    {
      progress = false;
      for (size_t i = 0; i < n; i++)
        {
          if (done[i] || !prunable (s, cands[i]))
            continue;
          cleanup_strv char **scratch = NULL;
          if (delete_image_locked (s, cands[i], &scratch, paths, reclaimed, err) < 0)
            return -1;
          strv_push_take (lines, xasprintf ("Deleted: %s", cands[i]));
          done[i] = true;
          progress = true;
        }
    }
  /* Rows whose image was deleted went with it; -a drops the others too (their images stay). */
  if (all)
    {
      cleanup_stmt sqlite3_stmt *st = db_prep (s, "DELETE FROM build_cache WHERE " OLD_ENOUGH, err);
      if (st == NULL)
        return -1;
      sqlite3_bind_int64 (st, 1, until_ns);
      if (sqlite3_step (st) != SQLITE_DONE)
        return db_err (s, err, "build cache prune");
    }
  return 0;
}

int store_build_cache_prune_ex (struct store *s, bool all, int64_t until_ns, char ***lines,
                                int64_t *reclaimed, berr_t *err)
{
  cleanup_strv char **paths = NULL;
  if (ensure_stage (s, err) < 0 || db_begin_write (s, err) < 0)
    return -1;
  if (prune_locked (s, all, until_ns, lines, &paths, reclaimed, err) < 0)
    {
      db_rollback (s);
      return -1;
    }
  return finish_removal (s, paths, err);
}

int store_build_cache_prune (struct store *s, int64_t until_ns, char ***lines, int64_t *reclaimed,
                             berr_t *err)
{
  return store_build_cache_prune_ex (s, true, until_ns, lines, reclaimed, err);
}

int store_build_cache_list (struct store *s, json_t **out, berr_t *err)
{
  /* A record's size is the layer its step added: the image's top layer when it has more
   * layers than its parent. */
  cleanup_stmt sqlite3_stmt *st = db_prep (
      s,
      "SELECT b.image_id, COALESCE(b.created, 0), COALESCE(b.last_used, b.created, 0),"
      " COALESCE((SELECT l.size FROM image_layers il JOIN layers l ON l.diff_id = il.diff_id"
      "  WHERE il.image_id = b.image_id AND il.idx = (SELECT MAX(idx) FROM image_layers"
      "   WHERE image_id = b.image_id)"
      "  AND (SELECT COUNT(*) FROM image_layers WHERE image_id = b.image_id)"
      "   > (SELECT COUNT(*) FROM image_layers WHERE image_id = i.parent)), 0),"
      " b.image_id IN (SELECT image_id FROM containers),"
      " (SELECT COUNT(*) FROM images c WHERE c.parent = b.image_id) > 1"
      " FROM build_cache b JOIN images i ON i.id = b.image_id"
      " ORDER BY COALESCE(b.last_used, b.created, 0) DESC, b.image_id",
      err);
  if (st == NULL)
    return -1;
  json_t *rows = json_array ();
  int r;
  while ((r = sqlite3_step (st)) == SQLITE_ROW)
    json_array_append_new (
        rows, json_pack ("{s:s, s:I, s:I, s:I, s:b, s:b}", "ID", col_text (st, 0), "Created",
                         (json_int_t)sqlite3_column_int64 (st, 1), "LastUsed",
                         (json_int_t)sqlite3_column_int64 (st, 2), "Size",
                         (json_int_t)sqlite3_column_int64 (st, 3), "InUse",
                         sqlite3_column_int (st, 4), "Shared", sqlite3_column_int (st, 5)));
  if (r != SQLITE_DONE)
    {
      json_decref (rows);
      return db_err (s, err, "build cache list");
    }
  *out = rows;
  return 0;
}

/* builds hold $root/build.lock shared; a prune asks for it exclusively without waiting */
static int build_lock_fd (struct store *s)
{
  cleanup_free char *path = xasprintf ("%s/build.lock", s->root);
  return open (path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
}

int store_build_lock (struct store *s, berr_t *err)
{
  int fd = build_lock_fd (s);
  if (fd < 0)
    return berr_set (err, errno, "open %s/build.lock", s->root);
  while (flock (fd, LOCK_SH) < 0)
    if (errno != EINTR)
      {
        int saved = errno;
        close (fd);
        return berr_set (err, saved, "lock %s/build.lock", s->root);
      }
  return fd;
}

bool store_build_running (struct store *s)
{
  int fd = build_lock_fd (s);
  if (fd < 0)
    return false;
  bool busy = flock (fd, LOCK_EX | LOCK_NB) < 0 && errno == EWOULDBLOCK;
  close (fd); /* drops the lock if we got it */
  return busy;
}

bool store_image_is_build_result (struct store *s, const char *id)
{
  return row_exists (s, "SELECT 1 FROM build_cache WHERE image_id = ?", id);
}
