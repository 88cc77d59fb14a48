/* store_volume.c — volume rows and their directories (see the volumes section of store.h). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store.h"
#include "store_int.h"
#include "util/fs.h"
#include "util/json.h"
#include "util/log.h"

void volume_row_free (struct volume_row *v)
{
  if (v == NULL)
    return;
  free (v->name);
  free (v->driver);
  if (v->labels)
    json_decref (v->labels);
  if (v->options)
    json_decref (v->options);
  free (v);
}

void volume_rows_free (struct volume_row **v, size_t n)
{
  for (size_t i = 0; i < n; i++)
    volume_row_free (v[i]);
  free (v);
}

char *store_volume_dir (struct store *s, const char *name)
{
  return xasprintf ("%s/volumes/%s", s->root, name);
}

static const char volume_cols[]
    = "SELECT name, driver, created, labels, options, anonymous FROM volumes ";

static json_t *col_object (sqlite3_stmt *st, int i)
{
  const char *t = col_text (st, i);
  json_t *j = t ? json_loads (t, 0, NULL) : NULL;
  if (json_is_object (j))
    return j;
  if (j)
    json_decref (j);
  return json_object ();
}

static struct volume_row *volume_from_row (sqlite3_stmt *st)
{
  struct volume_row *v = xzalloc (sizeof *v);
  v->name = xstrdup (col_text (st, 0));
  v->driver = xstrdup (col_text (st, 1));
  v->created_ns = sqlite3_column_int64 (st, 2);
  v->labels = col_object (st, 3);
  v->options = col_object (st, 4);
  v->anonymous = sqlite3_column_int (st, 5) != 0;
  return v;
}

/* 0 found (*out set), 1 not found, -1 error. */
static int find_volume (struct store *s, const char *name, struct volume_row **out, berr_t *err)
{
  cleanup_free char *sql = xasprintf ("%s WHERE name = ?", volume_cols);
  cleanup_stmt sqlite3_stmt *st = db_prep (s, sql, err);
  if (st == NULL)
    return -1;
  bind_text (st, 1, name);
  int rc = sqlite3_step (st);
  if (rc == SQLITE_ROW)
    {
      *out = volume_from_row (st);
      return 0;
    }
  if (rc != SQLITE_DONE)
    return db_err (s, err, "get volume");
  return 1;
}

int store_volume_get (struct store *s, const char *name, struct volume_row **out, berr_t *err)
{
  int r = find_volume (s, name, out, err);
  if (r == 1)
    return berr_setk (err, BERR_NOT_FOUND, 0, "get %s: no such volume", name);
  return r;
}

int store_volume_list (struct store *s, struct volume_row ***out, size_t *n, berr_t *err)
{
  cleanup_free char *sql = xasprintf ("%s ORDER BY name", volume_cols);
  cleanup_stmt sqlite3_stmt *st = db_prep (s, sql, err);
  if (st == NULL)
    return -1;
  size_t cap = 16, len = 0;
  struct volume_row **v = xcalloc (cap, sizeof *v);
  int rc;
  while ((rc = sqlite3_step (st)) == SQLITE_ROW)
    {
      if (len == cap)
        v = xrealloc (v, (cap *= 2) * sizeof *v);
      v[len++] = volume_from_row (st);
    }
  if (rc != SQLITE_DONE)
    {
      volume_rows_free (v, len);
      return db_err (s, err, "list volumes");
    }
  *out = v;
  *n = len;
  return 0;
}

static int string_column (struct store *s, const char *sql, const char *arg, char ***out,
                          berr_t *err)
{
  cleanup_stmt sqlite3_stmt *st = db_prep (s, sql, err);
  if (st == NULL)
    return -1;
  bind_text (st, 1, arg);
  char **v = xzalloc (sizeof *v);
  int rc;
  while ((rc = sqlite3_step (st)) == SQLITE_ROW)
    strv_push (&v, col_text (st, 0));
  if (rc != SQLITE_DONE)
    {
      strv_free (v);
      return db_err (s, err, "volume references");
    }
  *out = v;
  return 0;
}

int store_volume_users (struct store *s, const char *name, char ***ids, berr_t *err)
{
  return string_column (s,
                        "SELECT cv.container_id FROM container_volumes cv "
                        "LEFT JOIN containers c ON c.id = cv.container_id "
                        "WHERE cv.volume = ? ORDER BY c.created, cv.container_id",
                        name, ids, err);
}

int store_container_volume_names (struct store *s, const char *id, char ***names, berr_t *err)
{
  return string_column (
      s, "SELECT volume FROM container_volumes WHERE container_id = ? ORDER BY volume", id, names,
      err);
}

/* The locked part of a create: returns 0 created, 1 existed (*out set), -1 error.  On anything
 * but 0 the staged directory is still the caller's to delete. */
static int create_locked (struct store *s, const struct volume_row *v, const char *stage,
                          struct volume_row **out, berr_t *err)
{
  cleanup_free char *dst = store_volume_dir (s, v->name);
  cleanup_free char *labels = json_dump_compact (v->labels ? v->labels : json_object ());
  cleanup_free char *options = json_dump_compact (v->options ? v->options : json_object ());
  if (db_begin_write (s, err) < 0)
    return -1;
  int r = find_volume (s, v->name, out, err);
  if (r <= 0)
    {
      db_rollback (s);
      return r == 0 ? 1 : -1;
    }
  if (rename (stage, dst) < 0)
    {
      /* No row owns a directory of this name (checked under the lock): a crash leftover. */
      int e = errno;
      if ((e != EEXIST && e != ENOTEMPTY) || fs_rm_rf (dst, err) < 0 || rename (stage, dst) < 0)
        {
          if (!berr_is_set (err))
            berr_set (err, errno ? errno : e, "store: rename %s", dst);
          db_rollback (s);
          return -1;
        }
    }
  {
    cleanup_stmt sqlite3_stmt *st
        = db_prep (s,
                   "INSERT INTO volumes(name, driver, created, labels, options, anonymous) "
                   "VALUES (?, ?, ?, ?, ?, ?)",
                   err);
    if (st)
      {
        bind_text (st, 1, v->name);
        bind_text (st, 2, v->driver);
        sqlite3_bind_int64 (st, 3, v->created_ns);
        bind_text (st, 4, labels);
        bind_text (st, 5, options);
        sqlite3_bind_int (st, 6, v->anonymous);
        if (sqlite3_step (st) != SQLITE_DONE)
          db_err (s, err, "insert volume");
      }
  }
  if (berr_is_set (err) || db_exec (s, "COMMIT", err) < 0)
    {
      /* Still under the lock: take the directory back before letting go. */
      berr_t ignore = BERR_INIT;
      if (rename (dst, stage) < 0)
        fs_rm_rf (dst, &ignore);
      berr_release (&ignore);
      db_rollback (s);
      return -1;
    }
  return 0;
}

int store_volume_create (struct store *s, const struct volume_row *v, struct volume_row **out,
                         berr_t *err)
{
  /* Stage outside the lock: a directory holding an empty _data. */
  cleanup_free char *stage = NULL;
  if (store_stage_dir (s, "volume", &stage, err) < 0)
    return -1;
  cleanup_free char *data = xasprintf ("%s/_data", stage);
  int r;
  if (mkdir (data, 0755) < 0 || chmod (data, 0755) < 0 || chmod (stage, 0755) < 0)
    r = berr_set (err, errno, "store: mkdir %s", data);
  else
    r = create_locked (s, v, stage, out, err);
  berr_t ignore = BERR_INIT;
  if (r != 0)
    {
      fs_rm_rf (stage, &ignore);
      berr_release (&ignore);
      return r;
    }
  if (s->sync)
    {
      cleanup_free char *vdir = xasprintf ("%s/volumes", s->root);
      if (fs_fsync_dir (vdir, &ignore) < 0)
        {
          log_warn ("%s", ignore.msg);
          berr_release (&ignore);
        }
    }
  return find_volume (s, v->name, out, err) == 0 ? 0 : -1;
}

/* Under the write lock: move <root>/volumes/<name> into the staging area; the caller deletes
 * the returned path after COMMIT.  NULL when there was nothing to move. */
static char *move_to_trash (struct store *s, const char *name)
{
  berr_t e = BERR_INIT;
  cleanup_free char *trash = NULL;
  if (store_stage_dir (s, "trash", &trash, &e) < 0)
    {
      log_warn ("%s", e.msg);
      berr_release (&e);
      return NULL;
    }
  cleanup_free char *src = store_volume_dir (s, name);
  char *dst = xasprintf ("%s/v", trash);
  if (rename (src, dst) == 0)
    return dst;
  if (errno != ENOENT)
    log_warn ("remove volume %s: rename %s: %s", name, src, strerror (errno));
  free (dst);
  rmdir (trash);
  return NULL;
}

static void delete_trash (char **paths)
{
  for (size_t i = 0; paths && paths[i]; i++)
    {
      /* paths[i] is <stage>/trash-N/v: remove the whole trash-N. */
      cleanup_free char *dir = xstrdup (paths[i]);
      *strrchr (dir, '/') = '\0';
      berr_t e = BERR_INIT;
      if (fs_rm_rf (dir, &e) < 0)
        {
          log_warn ("%s", e.msg);
          berr_release (&e);
        }
    }
}

int store_volume_remove (struct store *s, const char *name, berr_t *err)
{
  if (db_begin_write (s, err) < 0)
    return -1;
  {
    struct volume_row *v = NULL;
    int r = find_volume (s, name, &v, err);
    volume_row_free (v);
    if (r != 0)
      {
        db_rollback (s);
        return r < 0 ? -1 : berr_setk (err, BERR_NOT_FOUND, 0, "get %s: no such volume", name);
      }
  }
  cleanup_strv char **users = NULL;
  if (store_volume_users (s, name, &users, err) < 0)
    {
      db_rollback (s);
      return -1;
    }
  if (users[0])
    {
      db_rollback (s);
      struct sbuf b;
      sbuf_init (&b);
      for (size_t i = 0; users[i]; i++)
        sbuf_addf (&b, "%s%s", i ? ", " : "", users[i]);
      berr_setk (err, BERR_CONFLICT, 0, "remove %s: volume is in use - [%s]", name, b.buf);
      sbuf_release (&b);
      return -1;
    }
  {
    cleanup_stmt sqlite3_stmt *st = db_prep (s, "DELETE FROM volumes WHERE name = ?", err);
    if (st == NULL)
      {
        db_rollback (s);
        return -1;
      }
    bind_text (st, 1, name);
    if (sqlite3_step (st) != SQLITE_DONE)
      {
        db_err (s, err, "remove volume");
        db_rollback (s);
        return -1;
      }
  }
  if (db_exec (s, "COMMIT", err) < 0)
    {
      db_rollback (s);
      return -1;
    }
  /* The row is gone: the volume no longer exists for anyone.  Its directory follows, under the
   * lock again, unless a create of the same name got in between and now owns it. */
  berr_t e = BERR_INIT;
  if (db_begin_write (s, &e) < 0)
    {
      log_warn ("%s", e.msg);
      berr_release (&e);
      return 0;
    }
  cleanup_strv char **trash = NULL;
  struct volume_row *again = NULL;
  int r = find_volume (s, name, &again, &e);
  volume_row_free (again);
  if (r == 1)
    {
      char *t = move_to_trash (s, name);
      if (t)
        strv_push_take (&trash, t);
    }
  berr_release (&e);
  if (db_exec (s, "COMMIT", &e) < 0)
    {
      log_warn ("%s", e.msg);
      berr_release (&e);
      db_rollback (s);
    }
  delete_trash (trash);
  return 0;
}

/* Names berth gives volume directories: [a-zA-Z0-9][a-zA-Z0-9_.-]+.  Anything else under
 * volumes/ is not ours to delete. */
static bool is_volume_name (const char *n)
{
  if (strlen (n) < 2)
    return false;
  for (const char *p = n; *p; p++)
    {
      bool alnum = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9');
      if (!alnum && (p == n || (*p != '_' && *p != '.' && *p != '-')))
        return false;
    }
  return true;
}

int store_volume_gc (struct store *s, berr_t *err)
{
  cleanup_free char *vdir = xasprintf ("%s/volumes", s->root);
  if (db_begin_write (s, err) < 0)
    return -1;
  cleanup_strv char **trash = NULL;
  {
    cleanup_closedir DIR *d = opendir (vdir);
    if (d == NULL)
      {
        db_rollback (s);
        return berr_set (err, errno, "open %s", vdir);
      }
    struct dirent *de;
    while ((de = readdir (d)))
      {
        if (!is_volume_name (de->d_name))
          continue;
        struct volume_row *v = NULL;
        int r = find_volume (s, de->d_name, &v, err);
        volume_row_free (v);
        if (r < 0)
          {
            db_rollback (s);
            delete_trash (trash);
            return -1;
          }
        if (r == 1)
          {
            char *t = move_to_trash (s, de->d_name);
            if (t)
              strv_push_take (&trash, t);
          }
      }
  }
  if (db_exec (s, "COMMIT", err) < 0)
    {
      db_rollback (s);
      delete_trash (trash);
      return -1;
    }
  delete_trash (trash);
  return (int)strv_len (trash);
}
