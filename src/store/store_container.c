/* store_container.c — container rows: Docker's config and state as JSON, names unique. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "store.h"
#include "store_int.h"
#include "util/json.h"

void container_rec_free (struct container_rec *c)
{
  if (c == NULL)
    return;
  free (c->id);
  free (c->name);
  free (c->image_id);
  json_decref (c->config);
  json_decref (c->state);
  free (c);
}

void container_recs_free (struct container_rec **v, size_t n)
{
  for (size_t i = 0; i < n; i++)
    container_rec_free (v[i]);
  free (v);
}

static const char container_cols[] = "SELECT id, name, image_id, created, config, state "
                                     "FROM containers ";

static json_t *col_json (sqlite3_stmt *st, int i)
{
  const char *t = col_text (st, i);
  json_t *j = t ? json_loads (t, 0, NULL) : NULL;
  return j ? j : json_object ();
}

static struct container_rec *container_from_row (sqlite3_stmt *st)
{
  struct container_rec *c = xzalloc (sizeof *c);
  c->id = xstrdup (col_text (st, 0));
  c->name = xstrdup (col_text (st, 1));
  c->image_id = xstrdup (col_text (st, 2));
  c->created_ns = sqlite3_column_int64 (st, 3);
  c->config = col_json (st, 4);
  c->state = col_json (st, 5);
  return c;
}

static int name_conflict (struct store *s, const char *name, berr_t *err)
{
  cleanup_stmt sqlite3_stmt *st = db_prep (s, "SELECT id FROM containers WHERE name = ?", err);
  if (st == NULL)
    return -1;
  bind_text (st, 1, name);
  if (sqlite3_step (st) == SQLITE_ROW)
    return berr_setk (err, BERR_CONFLICT, 0,
                      "Conflict. The container name \"/%s\" is already in use by container "
                      "\"%s\". You have to remove (or rename) that container to be able to "
                      "reuse that name.",
                      name, col_text (st, 0));
  return 0;
}

int store_container_add (struct store *s, const struct container_rec *c, berr_t *err)
{
  if (db_begin_write (s, err) < 0)
    return -1;
  if (name_conflict (s, c->name, err) < 0)
    {
      db_rollback (s);
      return -1;
    }
  cleanup_free char *config = json_dump_compact (c->config);
  cleanup_free char *state = json_dump_compact (c->state);
  {
    cleanup_stmt sqlite3_stmt *st
        = db_prep (s,
                   "INSERT INTO containers(id, name, image_id, created, config, state) "
                   "VALUES (?, ?, ?, ?, ?, ?)",
                   err);
    if (st == NULL)
      {
        db_rollback (s);
        return -1;
      }
    bind_text (st, 1, c->id);
    bind_text (st, 2, c->name);
    bind_text (st, 3, c->image_id);
    sqlite3_bind_int64 (st, 4, c->created_ns);
    bind_text (st, 5, config);
    bind_text (st, 6, state);
    if (sqlite3_step (st) != SQLITE_DONE)
      {
        db_err (s, err, "add container");
        db_rollback (s);
        return -1;
      }
  }
  return db_exec (s, "COMMIT", err);
}

int store_container_lookup (struct store *s, const char *name_or_id, struct container_rec **out,
                            berr_t *err)
{
  const char *name = name_or_id[0] == '/' ? name_or_id + 1 : name_or_id;
  if (name_or_id[0] == '\0')
    return berr_setk (err, BERR_NOT_FOUND, 0, "No such container: %s", name_or_id);
  /* Docker: full ID first, then the exact name, then a unique ID prefix. */
  {
    cleanup_free char *sql
        = xasprintf ("%s WHERE id = ?1 OR name = ?2 ORDER BY id = ?1 DESC", container_cols);
    cleanup_stmt sqlite3_stmt *st = db_prep (s, sql, err);
    if (st == NULL)
      return -1;
    bind_text (st, 1, name_or_id);
    bind_text (st, 2, name);
    if (sqlite3_step (st) == SQLITE_ROW)
      {
        *out = container_from_row (st);
        return 0;
      }
  }
  if (name_or_id[0] != '/' && str_is_hex (name_or_id, strlen (name_or_id)))
    {
      cleanup_free char *sql
          = xasprintf ("%s WHERE substr(id, 1, ?2) = ?1 LIMIT 2", container_cols);
      cleanup_stmt sqlite3_stmt *st = db_prep (s, sql, err);
      if (st == NULL)
        return -1;
      bind_text (st, 1, name_or_id);
      sqlite3_bind_int (st, 2, (int)strlen (name_or_id));
      if (sqlite3_step (st) == SQLITE_ROW)
        {
          struct container_rec *c = container_from_row (st);
          if (sqlite3_step (st) == SQLITE_ROW)
            {
              container_rec_free (c);
              return berr_setk (err, BERR_INVALID, 0, "multiple IDs found with provided prefix: %s",
                                name_or_id);
            }
          *out = c;
          return 0;
        }
    }
  return berr_setk (err, BERR_NOT_FOUND, 0, "No such container: %s", name_or_id);
}

int store_container_list (struct store *s, struct container_rec ***out, size_t *n, berr_t *err)
{
  cleanup_free char *sql = xasprintf ("%s ORDER BY created DESC, id", container_cols);
  cleanup_stmt sqlite3_stmt *st = db_prep (s, sql, err);
  if (st == NULL)
    return -1;
  size_t cap = 16, len = 0;
  struct container_rec **v = xcalloc (cap, sizeof *v);
  int rc;
  while ((rc = sqlite3_step (st)) == SQLITE_ROW)
    {
      if (len == cap)
        v = xrealloc (v, (cap *= 2) * sizeof *v);
      v[len++] = container_from_row (st);
    }
  if (rc != SQLITE_DONE)
    {
      container_recs_free (v, len);
      return db_err (s, err, "list containers");
    }
  *out = v;
  *n = len;
  return 0;
}

static int save_locked (struct store *s, const char *id, const json_t *config, const json_t *state,
                        berr_t *err)
{
  cleanup_free char *cfg = config ? json_dump_compact ((json_t *)config) : NULL;
  cleanup_free char *stj = json_dump_compact ((json_t *)state);
  cleanup_stmt sqlite3_stmt *st = db_prep (
      s, "UPDATE containers SET state = ?2, config = coalesce(?3, config) WHERE id = ?1", err);
  if (st == NULL)
    return -1;
  bind_text (st, 1, id);
  bind_text (st, 2, stj);
  bind_text (st, 3, cfg);
  if (sqlite3_step (st) != SQLITE_DONE)
    return db_err (s, err, "save container");
  if (sqlite3_changes (s->db) == 0)
    return berr_setk (err, BERR_NOT_FOUND, 0, "No such container: %s", id);
  return 0;
}

int store_container_save (struct store *s, const char *id, const json_t *config,
                          const json_t *state, berr_t *err)
{
  if (db_begin_write (s, err) < 0)
    return -1;
  if (save_locked (s, id, config, state, err) < 0)
    {
      db_rollback (s);
      return -1;
    }
  return db_exec (s, "COMMIT", err);
}

int store_container_update (struct store *s, const char *id, container_state_fn fn, void *arg,
                            berr_t *err)
{
  if (db_begin_write (s, err) < 0)
    return -1;
  cleanup_json json_t *state = NULL;
  {
    cleanup_stmt sqlite3_stmt *st = db_prep (s, "SELECT state FROM containers WHERE id = ?", err);
    if (st == NULL)
      {
        db_rollback (s);
        return -1;
      }
    bind_text (st, 1, id);
    if (sqlite3_step (st) != SQLITE_ROW)
      {
        db_rollback (s);
        return berr_setk (err, BERR_NOT_FOUND, 0, "No such container: %s", id);
      }
    state = col_json (st, 0);
  }
  if (fn (state, arg, err) < 0 || save_locked (s, id, NULL, state, err) < 0)
    {
      db_rollback (s);
      return -1;
    }
  return db_exec (s, "COMMIT", err);
}

int store_container_rename (struct store *s, const char *id, const char *new_name, berr_t *err)
{
  if (db_begin_write (s, err) < 0)
    return -1;
  if (name_conflict (s, new_name, err) < 0)
    {
      db_rollback (s);
      return -1;
    }
  cleanup_stmt sqlite3_stmt *st = db_prep (s, "UPDATE containers SET name = ?2 WHERE id = ?1", err);
  if (st == NULL)
    {
      db_rollback (s);
      return -1;
    }
  bind_text (st, 1, id);
  bind_text (st, 2, new_name);
  if (sqlite3_step (st) != SQLITE_DONE)
    {
      db_err (s, err, "rename container");
      db_rollback (s);
      return -1;
    }
  return db_exec (s, "COMMIT", err);
}

int store_container_delete (struct store *s, const char *id, berr_t *err)
{
  if (db_begin_write (s, err) < 0)
    return -1;
  cleanup_stmt sqlite3_stmt *st = db_prep (s, "DELETE FROM containers WHERE id = ?", err);
  if (st == NULL)
    {
      db_rollback (s);
      return -1;
    }
  bind_text (st, 1, id);
  if (sqlite3_step (st) != SQLITE_DONE)
    {
      db_err (s, err, "delete container");
      db_rollback (s);
      return -1;
    }
  if (sqlite3_changes (s->db) == 0)
    {
      db_rollback (s);
      return berr_setk (err, BERR_NOT_FOUND, 0, "No such container: %s", id);
    }
  return db_exec (s, "COMMIT", err);
}

int store_containers_using_image (struct store *s, const char *image_id, char ***ids, berr_t *err)
{
  cleanup_stmt sqlite3_stmt *st
      = db_prep (s, "SELECT id FROM containers WHERE image_id = ? ORDER BY created", err);
  if (st == NULL)
    return -1;
  bind_text (st, 1, image_id);
  char **v = xzalloc (sizeof *v);
  while (sqlite3_step (st) == SQLITE_ROW)
    strv_push (&v, col_text (st, 0));
  *ids = v;
  return 0;
}

int store_container_set_volumes (struct store *s, const char *id, char *const *volumes, berr_t *err)
{
  if (db_begin_write (s, err) < 0)
    return -1;
  {
    cleanup_stmt sqlite3_stmt *del
        = db_prep (s, "DELETE FROM container_volumes WHERE container_id = ?", err);
    if (del == NULL)
      {
        db_rollback (s);
        return -1;
      }
    bind_text (del, 1, id);
    if (sqlite3_step (del) != SQLITE_DONE)
      {
        db_err (s, err, "container volumes");
        db_rollback (s);
        return -1;
      }
  }
  for (size_t i = 0; volumes && volumes[i]; i++)
    {
      cleanup_stmt sqlite3_stmt *st = db_prep (
          s, "INSERT OR IGNORE INTO container_volumes(container_id, volume) VALUES (?, ?)", err);
      if (st == NULL)
        {
          db_rollback (s);
          return -1;
        }
      bind_text (st, 1, id);
      bind_text (st, 2, volumes[i]);
      if (sqlite3_step (st) != SQLITE_DONE)
        {
          db_err (s, err, "container volumes");
          db_rollback (s);
          return -1;
        }
    }
  return db_exec (s, "COMMIT", err);
}

int store_container_netns_joiners (struct store *s, const char *id, const char *name, berr_t *err)
{
  cleanup_stmt sqlite3_stmt *st = db_prep (
      s,
      "SELECT substr(json_extract(config, '$.HostConfig.NetworkMode'), 11) FROM containers "
      "WHERE json_extract(config, '$.HostConfig.NetworkMode') LIKE 'container:%' "
      "AND json_extract(state, '$.Running') AND id != ?1",
      err);
  if (st == NULL)
    return -1;
  bind_text (st, 1, id);
  int n = 0, rc;
  while ((rc = sqlite3_step (st)) == SQLITE_ROW)
    {
      const char *t = col_text (st, 0);
      if (t && t[0]
          && (strcmp (t, name) == 0 || (t[0] == '/' && strcmp (t + 1, name) == 0)
              || strncmp (id, t, strlen (t)) == 0))
        n++;
    }
  if (rc != SQLITE_DONE)
    return db_err (s, err, "list containers");
  return n;
}
