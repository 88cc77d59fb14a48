/* store_registry.c — what the registry client keeps in the store: compressed blobs known for
 * each layer (table blob_map) and per-blob locks between concurrent pulls. */
#include "store.h"
#include "store_int.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/json.h"
#include "util/util.h"

int store_layer_by_blob (struct store *s, const char *digest, struct layer_info *out, berr_t *err)
{
  if (digest_check (digest, err) < 0)
    return -1;
  cleanup_stmt sqlite3_stmt *st = db_prep (
      s,
      "SELECT diff_id, blob, media_type, blob_size, tar_size, size, split FROM layers "
      "WHERE blob = ?1 UNION ALL "
      "SELECT l.diff_id, l.blob, l.media_type, l.blob_size, l.tar_size, l.size, l.split "
      "FROM blob_map b JOIN layers l ON l.diff_id = b.diff_id WHERE b.digest = ?1 LIMIT 1",
      err);
  if (st == NULL)
    return -1;
  bind_text (st, 1, digest);
  int r = sqlite3_step (st);
  if (r == SQLITE_DONE)
    return 1;
  if (r != SQLITE_ROW)
    return db_err (s, err, "layer lookup by blob");
  layer_from_row (st, out);
  return 0;
}

static json_t *sources_of (struct store *s, const char *digest)
{
  cleanup_stmt sqlite3_stmt *st
      = db_prep (s, "SELECT sources FROM blob_map WHERE digest = ?", NULL);
  if (st == NULL)
    return json_array ();
  bind_text (st, 1, digest);
  if (sqlite3_step (st) != SQLITE_ROW || col_text (st, 0) == NULL)
    return json_array ();
  json_t *a = json_loads (col_text (st, 0), 0, NULL);
  if (!json_is_array (a))
    {
      json_decref (a);
      return json_array ();
    }
  return a;
}

int store_blob_map_put (struct store *s, const char *digest, const char *diff_id,
                        const char *media_type, int64_t size, const char *source, berr_t *err)
{
  if (digest_check (digest, err) < 0 || digest_check (diff_id, err) < 0)
    return -1;
  if (db_begin_write (s, err) < 0)
    return -1;
  if (!row_exists (s, "SELECT 1 FROM layers WHERE diff_id = ?", diff_id))
    {
      db_rollback (s);
      return berr_setk (err, BERR_NOT_FOUND, 0, "store: layer %s is not stored", diff_id);
    }
  json_t *src = sources_of (s, digest);
  bool have = false;
  size_t i;
  json_t *v;
  json_array_foreach (src, i, v)
  {
    if (source && json_is_string (v) && strcmp (json_string_value (v), source) == 0)
      have = true;
  }
  if (source && !have)
    json_array_append_new (src, json_string (source));
  /* Keep the list short: the most recent repositories are the useful mount sources. */
  while (json_array_size (src) > 16)
    json_array_remove (src, 0);
  cleanup_free char *srcs = json_dumps (src, JSON_COMPACT);
  json_decref (src);
  if (exec_bind (s,
                 "INSERT INTO blob_map(digest, diff_id, media_type, size, sources) "
                 "VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT(digest) DO UPDATE SET "
                 "diff_id = ?2, media_type = ?3, size = ?4, sources = ?5",
                 err, 5, 's', digest, 's', diff_id, 's', media_type, 'i', size, 's', srcs)
      < 0)
    {
      db_rollback (s);
      return -1;
    }
  return db_exec (s, "COMMIT", err);
}

void blob_map_rows_free (struct blob_map_row *v, size_t n)
{
  for (size_t i = 0; i < n; i++)
    {
      free (v[i].media_type);
      strv_free (v[i].sources);
    }
  free (v);
}

int store_blob_map_list (struct store *s, const char *diff_id, struct blob_map_row **out, size_t *n,
                         berr_t *err)
{
  *out = NULL;
  *n = 0;
  cleanup_stmt sqlite3_stmt *st = db_prep (s,
                                           "SELECT digest, media_type, size, sources FROM blob_map "
                                           "WHERE diff_id = ? ORDER BY rowid DESC",
                                           err);
  if (st == NULL)
    return -1;
  bind_text (st, 1, diff_id);
  struct blob_map_row *v = NULL;
  size_t cnt = 0;
  int r;
  while ((r = sqlite3_step (st)) == SQLITE_ROW)
    {
      v = xrealloc (v, (cnt + 1) * sizeof *v);
      struct blob_map_row *row = &v[cnt++];
      memset (row, 0, sizeof *row);
      snprintf (row->digest, sizeof row->digest, "%s", col_text (st, 0));
      row->media_type = xstrdup (col_text (st, 1) ? col_text (st, 1) : "");
      row->size = sqlite3_column_int64 (st, 2);
      row->sources = NULL;
      json_t *a = json_loads (col_text (st, 3) ? col_text (st, 3) : "[]", 0, NULL);
      size_t i;
      json_t *e;
      json_array_foreach (a, i, e)
      {
        if (json_is_string (e))
          strv_push (&row->sources, json_string_value (e));
      }
      json_decref (a);
      if (row->sources == NULL)
        row->sources = xzalloc (sizeof (char *));
    }
  if (r != SQLITE_DONE)
    {
      blob_map_rows_free (v, cnt);
      return db_err (s, err, "blob map");
    }
  *out = v;
  *n = cnt;
  return 0;
}

int store_blob_lock (struct store *s, const char *digest, int *fd, berr_t *err)
{
  if (digest_check (digest, err) < 0)
    return -1;
  cleanup_free char *dir = xasprintf ("%s/locks", s->root);
  if (mkdir (dir, 0700) < 0 && errno != EEXIST)
    return berr_set (err, errno, "store: mkdir %s", dir);
  cleanup_free char *path = xasprintf ("%s/%s", dir, digest_hex (digest));
  int lfd = open (path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (lfd < 0)
    return berr_set (err, errno, "store: open %s", path);
  while (flock (lfd, LOCK_EX) < 0)
    {
      if (errno == EINTR)
        continue;
      int e = errno;
      close (lfd);
      return berr_set (err, e, "store: lock %s", path);
    }
  *fd = lfd;
  return 0;
}

static int open_pull_lock (struct store *s, berr_t *err)
{
  cleanup_free char *path = xasprintf ("%s/pull.lock", s->root);
  int fd = open (path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0)
    return berr_set (err, errno, "store: open %s", path);
  return fd;
}

int store_pull_lock (struct store *s, int *fd, berr_t *err)
{
  int lfd = open_pull_lock (s, err);
  if (lfd < 0)
    return -1;
  while (flock (lfd, LOCK_SH) < 0)
    {
      if (errno == EINTR)
        continue;
      int e = errno;
      close (lfd);
      return berr_set (err, e, "store: lock pull.lock");
    }
  *fd = lfd;
  return 0;
}

int store_layer_gc (struct store *s, int64_t *reclaimed, berr_t *err)
{
  cleanup_close int lfd = open_pull_lock (s, err);
  if (lfd < 0)
    return -1;
  if (flock (lfd, LOCK_EX | LOCK_NB) < 0)
    return errno == EWOULDBLOCK ? 0 : berr_set (err, errno, "store: lock pull.lock");
  if (ensure_stage (s, err) < 0 || db_begin_write (s, err) < 0)
    return -1;
  cleanup_strv char **paths = NULL;
  {
    cleanup_stmt sqlite3_stmt *st
        = db_prep (s,
                   "SELECT diff_id, blob, size FROM layers WHERE diff_id NOT IN "
                   "(SELECT diff_id FROM image_layers)",
                   err);
    if (st == NULL)
      {
        db_rollback (s);
        return -1;
      }
    cleanup_strv char **ids = NULL;
    cleanup_strv char **blobs = NULL;
    int r;
    while ((r = sqlite3_step (st)) == SQLITE_ROW)
      {
        strv_push (&ids, col_text (st, 0));
        strv_push (&blobs, col_text (st, 1) ? col_text (st, 1) : "");
        if (reclaimed)
          *reclaimed += sqlite3_column_int64 (st, 2);
      }
    if (r != SQLITE_DONE)
      {
        db_rollback (s);
        return db_err (s, err, "layer gc");
      }
    for (size_t i = 0; ids && ids[i]; i++)
      {
        if (!digest_is_valid (ids[i]))
          continue;
        if (exec_bind (s, "DELETE FROM layers WHERE diff_id = ?", err, 1, 's', ids[i]) < 0)
          {
            db_rollback (s);
            return -1;
          }
        strv_push_take (&paths, xasprintf ("layers/%s", digest_hex (ids[i])));
        if (digest_is_valid (blobs[i])
            && !row_exists (s, "SELECT 1 FROM layers WHERE blob = ?", blobs[i]))
          strv_push_take (&paths, xasprintf ("blobs/sha256/%s", digest_hex (blobs[i])));
      }
  }
  if (paths == NULL)
    return db_exec (s, "COMMIT", err);
  return finish_removal (s, paths, err);
}

int store_image_add_digest (struct store *s, const char *image_id, const char *name_at_digest,
                            berr_t *err)
{
  if (db_begin_write (s, err) < 0)
    return -1;
  if (!row_exists (s, "SELECT 1 FROM images WHERE id = ?", image_id))
    {
      db_rollback (s);
      return berr_setk (err, BERR_NOT_FOUND, 0, "No such image: %s", image_id);
    }
  if (exec_bind (s,
                 "INSERT INTO repo_digests(name, image_id) VALUES (?1, ?2) "
                 "ON CONFLICT(name) DO UPDATE SET image_id = ?2",
                 err, 2, 's', name_at_digest, 's', image_id)
      < 0)
    {
      db_rollback (s);
      return -1;
    }
  return db_exec (s, "COMMIT", err);
}
