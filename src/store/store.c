/* store.c — see store.h for the design. */
#include "store.h"
#include "store_int.h"

#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "image/ref.h"
#include "util/fs.h"
#include "util/json.h"
#include "util/log.h"

#define SCHEMA_VERSION 5

static const char schema[]
    = "CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);"
      "CREATE TABLE IF NOT EXISTS layers("
      "  diff_id TEXT PRIMARY KEY, blob TEXT, media_type TEXT, blob_size INTEGER NOT NULL,"
      "  tar_size INTEGER NOT NULL, size INTEGER NOT NULL, added INTEGER NOT NULL,"
      "  split INTEGER NOT NULL DEFAULT 0);"
      "CREATE INDEX IF NOT EXISTS layers_blob ON layers(blob);"
      "CREATE TABLE IF NOT EXISTS images("
      "  id TEXT PRIMARY KEY, created INTEGER NOT NULL, added INTEGER NOT NULL,"
      "  last_tag_time INTEGER NOT NULL DEFAULT 0, parent TEXT, manifest TEXT);"
      "CREATE TABLE IF NOT EXISTS image_layers("
      "  image_id TEXT NOT NULL REFERENCES images(id) ON DELETE CASCADE,"
      "  idx INTEGER NOT NULL, diff_id TEXT NOT NULL REFERENCES layers(diff_id),"
      "  PRIMARY KEY(image_id, idx));"
      "CREATE INDEX IF NOT EXISTS image_layers_diff ON image_layers(diff_id);"
      "CREATE TABLE IF NOT EXISTS tags("
      "  name TEXT PRIMARY KEY, image_id TEXT NOT NULL REFERENCES images(id) ON DELETE CASCADE,"
      "  added INTEGER NOT NULL);"
      "CREATE INDEX IF NOT EXISTS tags_image ON tags(image_id);"
      "CREATE TABLE IF NOT EXISTS repo_digests("
      "  name TEXT PRIMARY KEY,"
      "  image_id TEXT NOT NULL REFERENCES images(id) ON DELETE CASCADE);"
      "CREATE INDEX IF NOT EXISTS repo_digests_image ON repo_digests(image_id);"
      /* version 2: containers and volumes */
      "CREATE TABLE IF NOT EXISTS containers("
      "  id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE, image_id TEXT NOT NULL,"
      "  created INTEGER NOT NULL, config TEXT NOT NULL, state TEXT NOT NULL);"
      "CREATE INDEX IF NOT EXISTS containers_image ON containers(image_id);"
      "CREATE TABLE IF NOT EXISTS volumes("
      "  name TEXT PRIMARY KEY, driver TEXT NOT NULL, created INTEGER NOT NULL,"
      "  labels TEXT NOT NULL DEFAULT '{}', options TEXT NOT NULL DEFAULT '{}',"
      "  anonymous INTEGER NOT NULL DEFAULT 0);"
      "CREATE TABLE IF NOT EXISTS container_volumes("
      "  container_id TEXT NOT NULL REFERENCES containers(id) ON DELETE CASCADE,"
      "  volume TEXT NOT NULL REFERENCES volumes(name),"
      "  PRIMARY KEY(container_id, volume));"
      "CREATE INDEX IF NOT EXISTS container_volumes_volume ON container_volumes(volume);"
      /* version 3: networks and the running containers' endpoints on them */
      "CREATE TABLE IF NOT EXISTS networks("
      "  id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE, driver TEXT NOT NULL,"
      "  scope TEXT NOT NULL DEFAULT 'local', created INTEGER NOT NULL, bridge TEXT UNIQUE,"
      "  subnet TEXT, gateway TEXT, ip_range TEXT, mtu INTEGER NOT NULL DEFAULT 0,"
      "  internal INTEGER NOT NULL DEFAULT 0, attachable INTEGER NOT NULL DEFAULT 0,"
      "  builtin INTEGER NOT NULL DEFAULT 0, labels TEXT NOT NULL DEFAULT '{}',"
      "  options TEXT NOT NULL DEFAULT '{}');"
      "CREATE TABLE IF NOT EXISTS endpoints("
      "  network_id TEXT NOT NULL REFERENCES networks(id),"
      "  container_id TEXT NOT NULL REFERENCES containers(id) ON DELETE CASCADE,"
      "  ip TEXT NOT NULL, mac TEXT, host_ifname TEXT, aliases TEXT NOT NULL DEFAULT '[]',"
      "  ports TEXT, created INTEGER NOT NULL,"
      "  PRIMARY KEY(network_id, container_id), UNIQUE(network_id, ip));"
      "CREATE INDEX IF NOT EXISTS endpoints_container ON endpoints(container_id);"
      /* version 4: the build cache (store_build.c). The foreign key takes a row away with its
       * image in the transaction that deletes the image, wherever that happens. */
      "CREATE TABLE IF NOT EXISTS build_cache("
      "  key TEXT PRIMARY KEY,"
      "  image_id TEXT NOT NULL REFERENCES images(id) ON DELETE CASCADE,"
      "  created INTEGER, last_used INTEGER);"
      "CREATE INDEX IF NOT EXISTS build_cache_image ON build_cache(image_id);"
      "CREATE INDEX IF NOT EXISTS images_parent ON images(parent);"
      /* version 5: registry blobs (store_registry.c): compressed blobs known for a layer, and
       * the repositories ("host/path") where each is known to exist, for push and pull. */
      "CREATE TABLE IF NOT EXISTS blob_map("
      "  digest TEXT PRIMARY KEY,"
      "  diff_id TEXT NOT NULL REFERENCES layers(diff_id) ON DELETE CASCADE, media_type TEXT NOT "
      "NULL,"
      "  size INTEGER NOT NULL, sources TEXT NOT NULL DEFAULT '[]');"
      "CREATE INDEX IF NOT EXISTS blob_map_diff ON blob_map(diff_id);";

static void undo_own_intents (struct store *s);

/* ---------- sqlite helpers ---------- */

int db_err (struct store *s, berr_t *err, const char *what)
{
  return berr_set (err, 0, "store: %s: %s", what, sqlite3_errmsg (s->db));
}

int db_exec (struct store *s, const char *sql, berr_t *err)
{
  char *msg = NULL;
  if (sqlite3_exec (s->db, sql, NULL, NULL, &msg) != SQLITE_OK)
    {
      berr_set (err, 0, "store: %s", msg ? msg : sqlite3_errmsg (s->db));
      sqlite3_free (msg);
      return -1;
    }
  return 0;
}

void cleanup_stmtp (sqlite3_stmt **st)
{
  if (*st)
    sqlite3_finalize (*st);
  *st = NULL;
}

sqlite3_stmt *db_prep (struct store *s, const char *sql, berr_t *err)
{
  sqlite3_stmt *st = NULL;
  if (sqlite3_prepare_v2 (s->db, sql, -1, &st, NULL) != SQLITE_OK)
    {
      db_err (s, err, "prepare");
      return NULL;
    }
  return st;
}

void bind_text (sqlite3_stmt *st, int i, const char *v)
{
  if (v)
    sqlite3_bind_text (st, i, v, -1, SQLITE_TRANSIENT);
  else
    sqlite3_bind_null (st, i);
}

const char *col_text (sqlite3_stmt *st, int i)
{
  const unsigned char *t = sqlite3_column_text (st, i);
  return t ? (const char *)t : NULL;
}

int db_begin_write (struct store *s, berr_t *err) { return db_exec (s, "BEGIN IMMEDIATE", err); }

void db_rollback (struct store *s) { sqlite3_exec (s->db, "ROLLBACK", NULL, NULL, NULL); }

/* ---------- staging area and crash recovery ---------- */

static int stage_write_intent (struct store *s, const char *relpath, berr_t *err)
{
  cleanup_free char *line = xasprintf ("%s\n", relpath);
  if (fs_write_all (s->intent_fd, line, strlen (line)) < 0 || fdatasync (s->intent_fd) < 0)
    return berr_set (err, errno, "store: write intent");
  return 0;
}

int ensure_stage (struct store *s, berr_t *err)
{
  if (s->stage)
    return 0;
  cleanup_free char *tmpdir = xasprintf ("%s/tmp", s->root);
  cleanup_close int tmpfd = open (tmpdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (tmpfd < 0)
    return berr_set (err, errno, "store: open %s", tmpdir);
  /* The lock file appears already locked: created unnamed, flock'ed, then linked in. A cleaner
   * in another process can therefore never see it unlocked while we are alive. */
  cleanup_close int lfd = openat (tmpfd, ".", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
  if (lfd < 0)
    return berr_set (err, errno, "store: create lock");
  if (flock (lfd, LOCK_EX) < 0)
    return berr_set (err, errno, "store: flock");
  for (int tries = 0;; tries++)
    {
      unsigned char rnd[6];
      int ufd = open ("/dev/urandom", O_RDONLY | O_CLOEXEC);
      if (ufd < 0 || read (ufd, rnd, sizeof rnd) != (ssize_t)sizeof rnd)
        {
          if (ufd >= 0)
            close (ufd);
          return berr_set (err, errno, "store: random");
        }
      close (ufd);
      char id[32];
      snprintf (id, sizeof id, "%02x%02x%02x%02x%02x%02x", rnd[0], rnd[1], rnd[2], rnd[3], rnd[4],
                rnd[5]);
      cleanup_free char *lname = xasprintf ("%s.lock", id);
      cleanup_free char *procpath = xasprintf ("/proc/self/fd/%d", lfd);
      if (linkat (AT_FDCWD, procpath, tmpfd, lname, AT_SYMLINK_FOLLOW) < 0)
        {
          if (errno == EEXIST && tries < 10)
            continue;
          return berr_set (err, errno, "store: link lock");
        }
      if (mkdirat (tmpfd, id, 0700) < 0)
        {
          int e = errno;
          unlinkat (tmpfd, lname, 0);
          return berr_set (err, e, "store: mkdir staging");
        }
      s->stage = xasprintf ("%s/%s", tmpdir, id);
      break;
    }
  cleanup_free char *ipath = xasprintf ("%s/intents", s->stage);
  s->intent_fd = open (ipath, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (s->intent_fd < 0 || fsync (s->intent_fd) < 0 || fs_fsync_dir (s->stage, err) < 0)
    {
      int e = errno;
      berr_release (err);
      /* Leave nothing that looks like a live area: the lock goes with lfd. */
      if (s->intent_fd >= 0)
        close (s->intent_fd);
      s->intent_fd = -1;
      berr_t ignore = BERR_INIT;
      fs_rm_rf (s->stage, &ignore);
      berr_release (&ignore);
      cleanup_free char *lock = xasprintf ("%s.lock", s->stage);
      unlink (lock);
      free (s->stage);
      s->stage = NULL;
      return berr_set (err, e, "store: create %s", ipath);
    }
  s->stage_lock = steal_fd (&lfd);
  return 0;
}

int store_stage_dir (struct store *s, const char *prefix, char **path, berr_t *err)
{
  if (ensure_stage (s, err) < 0)
    return -1;
  char *p = xasprintf ("%s/%s-%d", s->stage, prefix, s->stage_seq++);
  if (mkdir (p, 0755) < 0)
    {
      free (p);
      return berr_set (err, errno, "store: mkdir staging dir");
    }
  *path = p;
  return 0;
}

int store_stage_file (struct store *s, const char *prefix, char **path, int *fd, berr_t *err)
{
  if (ensure_stage (s, err) < 0)
    return -1;
  char *p = xasprintf ("%s/%s-%d", s->stage, prefix, s->stage_seq++);
  int f = open (p, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (f < 0)
    {
      free (p);
      return berr_set (err, errno, "store: create staging file");
    }
  *path = p;
  *fd = f;
  return 0;
}

/* 1 when the query (one text parameter) returns a row, 0 when not, -1 on error. */
static int row_query (struct store *s, const char *sql, const char *arg)
{
  berr_t e = BERR_INIT;
  cleanup_stmt sqlite3_stmt *st = db_prep (s, sql, &e);
  if (st == NULL)
    {
      berr_release (&e);
      return -1;
    }
  bind_text (st, 1, arg);
  int r = sqlite3_step (st);
  return r == SQLITE_ROW ? 1 : r == SQLITE_DONE ? 0 : -1;
}

bool row_exists (struct store *s, const char *sql, const char *arg)
{
  return row_query (s, sql, arg) == 1;
}

/* Is the path (relative to root) referenced by any row? */
static bool path_referenced (struct store *s, const char *rel)
{
  const char *hex;
  const char *sql;
  if (str_has_prefix (rel, "layers/"))
    {
      hex = rel + strlen ("layers/");
      sql = "SELECT 1 FROM layers WHERE diff_id = 'sha256:' || ?1";
    }
  else if (str_has_prefix (rel, "blobs/sha256/"))
    {
      hex = rel + strlen ("blobs/sha256/");
      sql = "SELECT 1 FROM layers WHERE blob = 'sha256:' || ?1 UNION ALL "
            "SELECT 1 FROM images WHERE id = 'sha256:' || ?1 OR manifest = 'sha256:' || ?1";
    }
  else
    return true; /* unknown kind of path: never delete */
  /* "<hex>" or "<hex>/diff" */
  if (strlen (hex) < DIGEST_HEX_LEN || !str_is_hex (hex, DIGEST_HEX_LEN)
      || (hex[DIGEST_HEX_LEN] != '\0' && hex[DIGEST_HEX_LEN] != '/'))
    return true;
  char hexbuf[DIGEST_HEX_LEN + 1];
  memcpy (hexbuf, hex, DIGEST_HEX_LEN);
  hexbuf[DIGEST_HEX_LEN] = '\0';
  /* On error, say "referenced": a path is never deleted on a guess. */
  return row_query (s, sql, hexbuf) != 0;
}

/* Remove every path named in an intents file that no row references (under the write lock). */
static void undo_intents (struct store *s, int ifd)
{
  cleanup_free char *buf = NULL;
  berr_t e = BERR_INIT;
  if (fs_read_fd (ifd, 1 << 24, &buf, NULL, &e) < 0)
    {
      berr_release (&e);
      return;
    }
  char *save = NULL;
  for (char *line = strtok_r (buf, "\n", &save); line; line = strtok_r (NULL, "\n", &save))
    {
      if (strstr (line, "..") || line[0] == '/')
        continue;
      if (path_referenced (s, line))
        continue;
      /* A layer goes as a whole: layers/<hex>, not just its diff/. */
      if (str_has_prefix (line, "layers/") && strlen (line) > 7 + DIGEST_HEX_LEN)
        line[7 + DIGEST_HEX_LEN] = '\0';
      cleanup_free char *abs = xasprintf ("%s/%s", s->root, line);
      log_debug ("store: removing uncommitted %s", abs);
      if (fs_rm_rf (abs, &e) < 0)
        berr_release (&e);
    }
}

#define STAGE_ID_LEN 12

/* Staging areas are named <12 hex> (a directory) and <12 hex>.lock. Anything else in tmp/ is not
 * berth's to remove. id receives the 12 hex digits. */
static bool stage_entry_id (const char *name, char id[STAGE_ID_LEN + 1])
{
  size_t l = strlen (name);
  if (!(l == STAGE_ID_LEN || (l == STAGE_ID_LEN + 5 && strcmp (name + STAGE_ID_LEN, ".lock") == 0))
      || !str_is_hex (name, STAGE_ID_LEN))
    return false;
  memcpy (id, name, STAGE_ID_LEN);
  id[STAGE_ID_LEN] = '\0';
  return true;
}

/* Is the staging area id abandoned? Its lock file is missing or not held by anyone. */
static bool stage_is_dead (struct store *s, int tmpfd, const char *id)
{
  if (s->stage && strcmp (s->stage + strlen (s->stage) - STAGE_ID_LEN, id) == 0)
    return false; /* ours */
  char lname[STAGE_ID_LEN + 6];
  snprintf (lname, sizeof lname, "%s.lock", id);
  cleanup_close int lfd = openat (tmpfd, lname, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
  return lfd < 0 || flock (lfd, LOCK_EX | LOCK_NB) == 0;
}

/* Remove the staging areas of dead processes, undoing whatever they renamed into place
 * without committing. Called under the write lock. */
static int recover_dead_stages (struct store *s, int tmpfd, berr_t *err)
{
  cleanup_closedir DIR *d = fdopendir (fcntl (tmpfd, F_DUPFD_CLOEXEC, 3));
  if (d == NULL)
    return berr_set (err, errno, "store: read tmp");
  rewinddir (d); /* the dup shares its offset with tmpfd, which was read already */
  struct dirent *de;
  while ((de = readdir (d)))
    {
      char id[STAGE_ID_LEN + 1];
      if (!stage_entry_id (de->d_name, id) || !stage_is_dead (s, tmpfd, id))
        continue;
      /* Hold the dead area's lock while undoing it, so two recoveries never overlap. */
      char lname[STAGE_ID_LEN + 6];
      snprintf (lname, sizeof lname, "%s.lock", id);
      cleanup_free char *ipath = xasprintf ("%s/intents", id);
      cleanup_close int ifd = openat (tmpfd, ipath, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
      if (ifd >= 0)
        undo_intents (s, ifd);
      berr_t e = BERR_INIT;
      /* A dead build may have left mounts there (overlays, binds of the context, caches). */
      cleanup_free char *rel_area = xasprintf ("%s/tmp/%s", s->root, id);
      cleanup_free char *area = realpath (rel_area, NULL);
      if (area == NULL)
        area = xstrdup (rel_area);
      if (fs_unmount_under (area, &e) < 0)
        berr_release (&e);
      if (fs_rm_rf_at (tmpfd, id, &e) < 0)
        {
          /* something is still mounted: keep the area (and its lock file) for a later try */
          log_warn ("store: cannot remove the dead staging area %s: %s", area, e.msg);
          berr_release (&e);
          continue;
        }
      unlinkat (tmpfd, lname, 0);
    }
  return 0;
}

/* Cheap check at open: is any staging area in tmp/ abandoned? Only then take the write lock. */
static int startup_cleanup (struct store *s, berr_t *err)
{
  cleanup_free char *tmpdir = xasprintf ("%s/tmp", s->root);
  cleanup_close int tmpfd = open (tmpdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (tmpfd < 0)
    return berr_set (err, errno, "store: open %s", tmpdir);
  bool dead = false;
  {
    cleanup_closedir DIR *d = fdopendir (fcntl (tmpfd, F_DUPFD_CLOEXEC, 3));
    if (d == NULL)
      return berr_set (err, errno, "store: read %s", tmpdir);
    struct dirent *de;
    char id[STAGE_ID_LEN + 1];
    while (!dead && (de = readdir (d)))
      dead = stage_entry_id (de->d_name, id) && stage_is_dead (s, tmpfd, id);
  }
  if (!dead)
    return 0;
  if (db_begin_write (s, err) < 0)
    return -1;
  recover_dead_stages (s, tmpfd, err);
  return db_exec (s, "COMMIT", err);
}

static int migrate (struct store *s, berr_t *err)
{
  cleanup_stmt sqlite3_stmt *st = NULL;
  int version = 0;
  if (sqlite3_prepare_v2 (s->db, "SELECT value FROM meta WHERE key = 'schema_version'", -1, &st,
                          NULL)
          == SQLITE_OK
      && sqlite3_step (st) == SQLITE_ROW)
    version = atoi (col_text (st, 0) ? col_text (st, 0) : "0");
  if (version == SCHEMA_VERSION)
    return 0;
  if (version > SCHEMA_VERSION)
    return berr_set (err, 0,
                     "store: %s/berth.db has schema version %d, newer than this berth supports "
                     "(%d)",
                     s->root, version, SCHEMA_VERSION);
  if (db_begin_write (s, err) < 0)
    return -1;
  if (db_exec (s, schema, err) < 0)
    {
      db_rollback (s);
      return -1;
    }
  cleanup_free char *sql = xasprintf (
      "INSERT OR REPLACE INTO meta(key, value) VALUES ('schema_version', '%d')", SCHEMA_VERSION);
  if (db_exec (s, sql, err) < 0)
    {
      db_rollback (s);
      return -1;
    }
  return db_exec (s, "COMMIT", err);
}

int store_open (const char *root, const char *runroot, struct store **out, berr_t *err)
{
  /* The store removes abandoned staging areas in <root>/tmp: a root of "" or "/" would make
   * that the host's /tmp. */
  if (root == NULL || root[0] == '\0' || strspn (root, "/") == strlen (root))
    return berr_setk (err, BERR_INVALID, 0,
                      "invalid root \"%s\": berth's root must be a directory of its own",
                      root ? root : "");
  cleanup_free struct store *s = xzalloc (sizeof *s);
  s->stage_lock = -1;
  s->intent_fd = -1;
  s->sync = true;
  s->root = xstrdup (root);
  s->runroot = xstrdup (runroot);
  static const char *const dirs[]
      = { "", "/blobs/sha256", "/layers", "/tmp", "/containers", "/volumes" };
  for (size_t i = 0; i < ARRAY_SIZE (dirs); i++)
    {
      cleanup_free char *p = xasprintf ("%s%s", root, dirs[i]);
      if (mkdir (p, 0710) < 0 && errno != EEXIST)
        {
          if (errno == ENOENT && fs_mkdir_p (p, 0710, err) == 0)
            continue;
          berr_release (err);
          int e = errno;
          free (s->root);
          free (s->runroot);
          return berr_set (err, e, "store: create %s", p);
        }
    }
  cleanup_free char *dbpath = xasprintf ("%s/berth.db", root);
  if (sqlite3_open_v2 (dbpath, &s->db,
                       SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL)
      != SQLITE_OK)
    {
      berr_set (err, 0, "store: open %s: %s", dbpath,
                s->db ? sqlite3_errmsg (s->db) : "out of memory");
      sqlite3_close (s->db);
      free (s->root);
      free (s->runroot);
      return -1;
    }
  struct store *sp = steal_pointer (&s);
  sqlite3_busy_timeout (sp->db, 120000);
  /* Every berth command is a short process. By default the last connection to close
   * checkpoints the WAL into the database and resets it, and the next writer then syncs a new
   * WAL header: two disk flushes per command for nothing. Commits are as durable without it;
   * the WAL is checkpointed automatically once it grows (1000 pages). */
  sqlite3_db_config (sp->db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, NULL);
  if (db_exec (sp, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;", err)
          < 0
      || migrate (sp, err) < 0 || startup_cleanup (sp, err) < 0)
    {
      store_close (sp);
      return -1;
    }
  *out = sp;
  return 0;
}

void store_close (struct store *s)
{
  if (s == NULL)
    return;
  struct stat st;
  if (s->intent_fd >= 0 && fstat (s->intent_fd, &st) == 0 && st.st_size > 0 && s->db)
    undo_own_intents (s);
  if (s->db)
    sqlite3_close (s->db);
  if (s->stage)
    {
      /* Everything committed has been renamed away; what remains is ours to drop. */
      berr_t e = BERR_INIT;
      if (fs_rm_rf (s->stage, &e) < 0)
        berr_release (&e);
      cleanup_free char *lock = xasprintf ("%s.lock", s->stage);
      unlink (lock);
    }
  if (s->intent_fd >= 0)
    close (s->intent_fd);
  if (s->stage_lock >= 0)
    close (s->stage_lock);
  free (s->stage);
  free (s->root);
  free (s->runroot);
  free (s);
}

void store_set_sync (struct store *s, bool sync)
{
  s->sync = sync;
  sqlite3_exec (s->db, sync ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL", NULL, NULL,
                NULL);
}

void store_set_metadata_sync (struct store *s, bool full)
{
  sqlite3_exec (s->db, full ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL", NULL, NULL,
                NULL);
}

const char *store_root (struct store *s) { return s->root; }

const char *store_runroot (struct store *s) { return s->runroot; }

/* ---------- blobs and layers ---------- */

char *store_blob_path (struct store *s, const char *digest)
{
  return xasprintf ("%s/blobs/sha256/%s", s->root, digest_hex (digest));
}

bool store_blob_exists (struct store *s, const char *digest)
{
  if (!digest_is_valid (digest))
    return false;
  cleanup_free char *p = store_blob_path (s, digest);
  return access (p, F_OK) == 0;
}

int store_blob_read (struct store *s, const char *digest, size_t max, char **data, size_t *len,
                     berr_t *err)
{
  if (digest_check (digest, err) < 0)
    return -1;
  cleanup_free char *p = store_blob_path (s, digest);
  size_t n = 0;
  if (fs_read_file (p, max, data, &n, err) < 0)
    return -1;
  char got[DIGEST_STR_LEN];
  sha256_digest (*data, n, got);
  if (strcmp (got, digest) != 0)
    {
      free (*data);
      *data = NULL;
      return berr_setk (err, BERR_CORRUPT, 0, "store: blob %s is corrupt (content is %s)", digest,
                        got);
    }
  if (len)
    *len = n;
  return 0;
}

void layer_info_release (struct layer_info *l)
{
  free (l->media_type);
  l->media_type = NULL;
}

void layer_from_row (sqlite3_stmt *st, struct layer_info *out)
{
  memset (out, 0, sizeof *out);
  snprintf (out->diff_id, sizeof out->diff_id, "%s", col_text (st, 0));
  if (col_text (st, 1))
    snprintf (out->blob, sizeof out->blob, "%s", col_text (st, 1));
  out->media_type = xstrdup (col_text (st, 2));
  out->blob_size = sqlite3_column_int64 (st, 3);
  out->tar_size = sqlite3_column_int64 (st, 4);
  out->size = sqlite3_column_int64 (st, 5);
  out->split = sqlite3_column_int (st, 6) != 0;
}

int store_layer_get (struct store *s, const char *diff_id, struct layer_info *out, berr_t *err)
{
  cleanup_stmt sqlite3_stmt *st = db_prep (
      s,
      "SELECT diff_id, blob, media_type, blob_size, tar_size, size, split FROM layers WHERE "
      "diff_id = ?",
      err);
  if (st == NULL)
    return -1;
  bind_text (st, 1, diff_id);
  int r = sqlite3_step (st);
  if (r == SQLITE_DONE)
    return 1;
  if (r != SQLITE_ROW)
    return db_err (s, err, "layer lookup");
  layer_from_row (st, out);
  return 0;
}

char *store_layer_dir (struct store *s, const char *diff_id)
{
  return xasprintf ("%s/layers/%s/diff", s->root, digest_hex (diff_id));
}

char *store_layer_split_path (struct store *s, const char *diff_id)
{
  return xasprintf ("%s/layers/%s/tar-split", s->root, digest_hex (diff_id));
}

/* ---------- images ---------- */

void image_rec_free (struct image_rec *r)
{
  if (r == NULL)
    return;
  free (r->parent);
  strv_free (r->tags);
  strv_free (r->digests);
  strv_free (r->diff_ids);
  free (r);
}

void image_recs_free (struct image_rec **v, size_t n)
{
  for (size_t i = 0; i < n; i++)
    image_rec_free (v[i]);
  free (v);
}

/* Fill tags/digests/layers of the given records from one query each. */
static int fill_image_details (struct store *s, struct image_rec **recs, size_t n,
                               const char *only_id, berr_t *err)
{
  static const char *const sqls[3] = {
    "SELECT image_id, name FROM tags%s ORDER BY image_id, name",
    "SELECT image_id, name FROM repo_digests%s ORDER BY image_id, name",
    "SELECT image_id, diff_id FROM image_layers%s ORDER BY image_id, idx",
  };
  for (int k = 0; k < 3; k++)
    {
      cleanup_free char *sql = xasprintf (sqls[k], only_id ? " WHERE image_id = ?1" : "");
      cleanup_stmt sqlite3_stmt *st = db_prep (s, sql, err);
      if (st == NULL)
        return -1;
      if (only_id)
        bind_text (st, 1, only_id);
      size_t lo = 0;
      int r;
      while ((r = sqlite3_step (st)) == SQLITE_ROW)
        {
          const char *id = col_text (st, 0);
          /* recs are sorted by id in this helper's callers (binary search). */
          size_t a = 0, b = n;
          (void)lo;
          while (a < b)
            {
              size_t m = (a + b) / 2;
              int c = strcmp (recs[m]->id, id);
              if (c == 0)
                {
                  a = m;
                  b = m;
                  break;
                }
              if (c < 0)
                a = m + 1;
              else
                b = m;
            }
          if (a >= n || strcmp (recs[a]->id, id) != 0)
            continue;
          char ***v = k == 0 ? &recs[a]->tags : k == 1 ? &recs[a]->digests : &recs[a]->diff_ids;
          strv_push (v, col_text (st, 1));
        }
      if (r != SQLITE_DONE)
        return db_err (s, err, "image details");
    }
  return 0;
}

static const char image_cols[]
    = "SELECT i.id, i.created, i.added, i.last_tag_time, i.parent,"
      " (SELECT COALESCE(SUM(l.size), 0) FROM image_layers il JOIN layers l ON l.diff_id = "
      "il.diff_id WHERE il.image_id = i.id) FROM images i";

static struct image_rec *image_from_row (sqlite3_stmt *st)
{
  struct image_rec *r = xzalloc (sizeof *r);
  snprintf (r->id, sizeof r->id, "%s", col_text (st, 0));
  r->created = sqlite3_column_int64 (st, 1);
  r->added = sqlite3_column_int64 (st, 2);
  r->last_tag_time = sqlite3_column_int64 (st, 3);
  r->parent = xstrdup (col_text (st, 4));
  r->size = sqlite3_column_int64 (st, 5);
  return r;
}

static int cmp_rec_id (const void *a, const void *b)
{
  return strcmp ((*(struct image_rec *const *)a)->id, (*(struct image_rec *const *)b)->id);
}

static int cmp_rec_created_desc (const void *a, const void *b)
{
  const struct image_rec *x = *(struct image_rec *const *)a, *y = *(struct image_rec *const *)b;
  if (x->created != y->created)
    return x->created > y->created ? -1 : 1;
  return strcmp (x->id, y->id);
}

int store_image_list (struct store *s, struct image_rec ***out, size_t *n, berr_t *err)
{
  cleanup_stmt sqlite3_stmt *st = db_prep (s, image_cols, err);
  if (st == NULL)
    return -1;
  struct image_rec **v = NULL;
  size_t cnt = 0, cap = 0;
  int r;
  while ((r = sqlite3_step (st)) == SQLITE_ROW)
    {
      if (cnt == cap)
        {
          cap = cap ? cap * 2 : 16;
          v = xrealloc (v, cap * sizeof *v);
        }
      v[cnt++] = image_from_row (st);
    }
  if (r != SQLITE_DONE)
    {
      image_recs_free (v, cnt);
      return db_err (s, err, "list images");
    }
  if (cnt)
    qsort (v, cnt, sizeof *v, cmp_rec_id);
  if (fill_image_details (s, v, cnt, NULL, err) < 0)
    {
      image_recs_free (v, cnt);
      return -1;
    }
  if (cnt)
    qsort (v, cnt, sizeof *v, cmp_rec_created_desc);
  *out = v;
  *n = cnt;
  return 0;
}

int store_image_get (struct store *s, const char *id, struct image_rec **out, berr_t *err)
{
  cleanup_free char *sql = xasprintf ("%s WHERE i.id = ?", image_cols);
  cleanup_stmt sqlite3_stmt *st = db_prep (s, sql, err);
  if (st == NULL)
    return -1;
  bind_text (st, 1, id);
  int r = sqlite3_step (st);
  if (r == SQLITE_DONE)
    return berr_setk (err, BERR_NOT_FOUND, 0, "No such image: %s", id);
  if (r != SQLITE_ROW)
    return db_err (s, err, "image lookup");
  struct image_rec *rec = image_from_row (st);
  if (fill_image_details (s, &rec, 1, rec->id, err) < 0)
    {
      image_rec_free (rec);
      return -1;
    }
  *out = rec;
  return 0;
}

/* Resolve a user-supplied name to an image id; 1 when not found. */
static int resolve_image_id (struct store *s, const char *name, char id[DIGEST_STR_LEN],
                             berr_t *err)
{
  /* A full ID, with or without "sha256:". */
  if (ref_is_full_id (name) || (str_has_prefix (name, "sha256:") && ref_is_full_id (name + 7)))
    {
      const char *hex = str_has_prefix (name, "sha256:") ? name + 7 : name;
      snprintf (id, DIGEST_STR_LEN, "sha256:%s", hex);
      cleanup_stmt sqlite3_stmt *st = db_prep (s, "SELECT 1 FROM images WHERE id = ?", err);
      if (st == NULL)
        return -1;
      bind_text (st, 1, id);
      if (sqlite3_step (st) == SQLITE_ROW)
        return 0;
      if (str_has_prefix (name, "sha256:"))
        return 1;
    }
  /* A reference: tag or digest. */
  struct image_ref ref = { 0 };
  berr_t perr = BERR_INIT;
  if (ref_parse_docker (name, &ref, &perr) == 0)
    {
      cleanup_free char *full = ref_string (&ref);
      const char *sql = ref.digest ? "SELECT image_id FROM repo_digests WHERE name = ?"
                                   : "SELECT image_id FROM tags WHERE name = ?";
      if (ref.digest && ref.tag)
        {
          /* name:tag@digest — the digest decides. */
          cleanup_free char *nm = ref_name (&ref);
          free (full);
          full = xasprintf ("%s@%s", nm, ref.digest);
        }
      ref_release (&ref);
      cleanup_stmt sqlite3_stmt *st = db_prep (s, sql, err);
      if (st == NULL)
        return -1;
      bind_text (st, 1, full);
      if (sqlite3_step (st) == SQLITE_ROW)
        {
          snprintf (id, DIGEST_STR_LEN, "%s", col_text (st, 0));
          return 0;
        }
    }
  berr_release (&perr);
  /* A unique ID prefix. */
  if (ref_is_id_prefix (name))
    {
      const char *hex = str_has_prefix (name, "sha256:") ? name + 7 : name;
      cleanup_free char *pat = xasprintf ("sha256:%s*", hex);
      cleanup_stmt sqlite3_stmt *st
          = db_prep (s, "SELECT id FROM images WHERE id GLOB ? LIMIT 2", err);
      if (st == NULL)
        return -1;
      bind_text (st, 1, pat);
      if (sqlite3_step (st) == SQLITE_ROW)
        {
          snprintf (id, DIGEST_STR_LEN, "%s", col_text (st, 0));
          if (sqlite3_step (st) == SQLITE_ROW)
            return berr_setk (err, BERR_INVALID, 0, "multiple IDs found with provided prefix: %s",
                              hex);
          return 0;
        }
    }
  return 1;
}

int store_image_lookup (struct store *s, const char *name, struct image_rec **out, berr_t *err)
{
  char id[DIGEST_STR_LEN];
  int r = resolve_image_id (s, name, id, err);
  if (r < 0)
    return -1;
  if (r == 1)
    return berr_setk (err, BERR_NOT_FOUND, 0, "No such image: %s", name);
  return store_image_get (s, id, out, err);
}

int store_image_config (struct store *s, const char *id, json_t **out, berr_t *err)
{
  cleanup_free char *data = NULL;
  size_t len = 0;
  if (store_blob_read (s, id, 64 << 20, &data, &len, err) < 0)
    return berr_wrap (err, "image config");
  json_t *j = json_parse_buf (data, len, "image config", err);
  if (j == NULL)
    return -1;
  *out = j;
  return 0;
}

int store_image_config_unverified (struct store *s, const char *id, json_t **out, berr_t *err)
{
  if (digest_check (id, err) < 0)
    return -1;
  cleanup_free char *p = store_blob_path (s, id);
  cleanup_free char *data = NULL;
  size_t len = 0;
  if (fs_read_file (p, 64 << 20, &data, &len, err) < 0)
    return berr_wrap (err, "image config");
  json_t *j = json_parse_buf (data, len, "image config", err);
  if (j == NULL)
    return -1;
  *out = j;
  return 0;
}

int store_count_images (struct store *s, int64_t *n, berr_t *err)
{
  cleanup_stmt sqlite3_stmt *st = db_prep (s, "SELECT COUNT(*) FROM images", err);
  if (st == NULL)
    return -1;
  if (sqlite3_step (st) != SQLITE_ROW)
    return db_err (s, err, "count images");
  *n = sqlite3_column_int64 (st, 0);
  return 0;
}

int store_layers_total (struct store *s, int64_t *total, int64_t *count, berr_t *err)
{
  cleanup_stmt sqlite3_stmt *st
      = db_prep (s, "SELECT COALESCE(SUM(size), 0), COUNT(*) FROM layers", err);
  if (st == NULL)
    return -1;
  if (sqlite3_step (st) != SQLITE_ROW)
    return db_err (s, err, "layer totals");
  *total = sqlite3_column_int64 (st, 0);
  if (count)
    *count = sqlite3_column_int64 (st, 1);
  return 0;
}

/* ---------- commit ---------- */

void tag_moves_free (struct tag_move *m, size_t n)
{
  for (size_t i = 0; i < n; i++)
    free (m[i].tag);
  free (m);
}

/* Move a staged path into place (under the write lock). An existing target nobody references is
 * a crash leftover and is replaced. */
static int place (struct store *s, const char *staged, const char *rel, bool is_dir, berr_t *err)
{
  cleanup_free char *dst = xasprintf ("%s/%s", s->root, rel);
  if (stage_write_intent (s, rel, err) < 0)
    return -1;
  if (is_dir)
    {
      /* layers/<hex>/diff: create layers/<hex> then rename the staged dir to .../diff */
      cleanup_free char *parent = xstrdup (dst);
      *strrchr (parent, '/') = '\0';
      if (mkdir (parent, 0700) < 0 && errno != EEXIST)
        return berr_set (err, errno, "store: mkdir %s", parent);
      if (rename (staged, dst) < 0)
        {
          if (errno != ENOTEMPTY && errno != EEXIST)
            return berr_set (err, errno, "store: rename %s", dst);
          if (fs_rm_rf (dst, err) < 0)
            return -1;
          if (rename (staged, dst) < 0)
            return berr_set (err, errno, "store: rename %s", dst);
        }
      return 0;
    }
  if (rename (staged, dst) < 0)
    return berr_set (err, errno, "store: rename %s", dst);
  return 0;
}

int exec_bind (struct store *s, const char *sql, berr_t *err, int n, ...)
{
  cleanup_stmt sqlite3_stmt *st = db_prep (s, sql, err);
  if (st == NULL)
    return -1;
  va_list ap;
  va_start (ap, n);
  for (int i = 1; i <= n; i++)
    {
      int type = va_arg (ap, int);
      if (type == 's')
        bind_text (st, i, va_arg (ap, const char *));
      else
        sqlite3_bind_int64 (st, i, va_arg (ap, int64_t));
    }
  va_end (ap);
  if (sqlite3_step (st) != SQLITE_DONE)
    return db_err (s, err, "write");
  return 0;
}

/* Point a tag at an image inside an open transaction. */
static int tag_in_txn (struct store *s, const char *image_id, const char *name,
                       char old_id[DIGEST_STR_LEN], berr_t *err)
{
  old_id[0] = '\0';
  {
    cleanup_stmt sqlite3_stmt *st = db_prep (s, "SELECT image_id FROM tags WHERE name = ?", err);
    if (st == NULL)
      return -1;
    bind_text (st, 1, name);
    if (sqlite3_step (st) == SQLITE_ROW)
      snprintf (old_id, DIGEST_STR_LEN, "%s", col_text (st, 0));
  }
  int64_t now = now_ns ();
  if (exec_bind (s,
                 "INSERT INTO tags(name, image_id, added) VALUES (?1, ?2, ?3) "
                 "ON CONFLICT(name) DO UPDATE SET image_id = ?2, added = ?3",
                 err, 3, 's', name, 's', image_id, 'i', now)
          < 0
      || exec_bind (s, "UPDATE images SET last_tag_time = ?2 WHERE id = ?1", err, 2, 's', image_id,
                    'i', now)
             < 0)
    return -1;
  if (strcmp (old_id, image_id) == 0)
    old_id[0] = '\0';
  return 0;
}

static int commit_locked (struct store *s, struct ingest_layer *layers, size_t nlayers,
                          struct ingest_image *images, size_t nimages, struct tag_move **moved,
                          size_t *nmoved, berr_t *err)
{
  int64_t now = now_ns ();
  for (size_t i = 0; i < nlayers; i++)
    {
      struct ingest_layer *l = &layers[i];
      if (row_exists (s, "SELECT 1 FROM layers WHERE diff_id = ?", l->diff_id))
        continue; /* stored meanwhile by someone else (or earlier in this list) */
      if (l->staged_dir == NULL)
        return berr_set (err, 0, "store: layer %s vanished while loading; try again", l->diff_id);
      cleanup_free char *rel = xasprintf ("layers/%s/diff", digest_hex (l->diff_id));
      if (place (s, l->staged_dir, rel, true, err) < 0)
        return -1;
      bool has_blob = l->staged_blob && l->blob[0];
      if (has_blob)
        {
          cleanup_free char *brel = xasprintf ("blobs/sha256/%s", digest_hex (l->blob));
          if (place (s, l->staged_blob, brel, false, err) < 0)
            return -1;
        }
      else if (l->staged_split)
        {
          /* The intent for layers/<hex>/diff already covers layers/<hex> as a whole. */
          cleanup_free char *dst = store_layer_split_path (s, l->diff_id);
          if (rename (l->staged_split, dst) < 0)
            return berr_set (err, errno, "store: rename %s", dst);
        }
      if (s->sync)
        {
          cleanup_free char *ldir = xasprintf ("%s/layers/%s", s->root, digest_hex (l->diff_id));
          if (fs_fsync_dir (ldir, err) < 0)
            return -1;
        }
      if (exec_bind (s,
                     "INSERT INTO layers(diff_id, blob, media_type, blob_size, tar_size, size, "
                     "added, split) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                     err, 8, 's', l->diff_id, 's', has_blob ? l->blob : NULL, 's', l->media_type,
                     'i', l->blob_size, 'i', l->tar_size, 'i', l->size, 'i', now, 'i',
                     (int64_t)(!has_blob && l->staged_split != NULL))
          < 0)
        return -1;
    }
  for (size_t i = 0; i < nimages; i++)
    {
      struct ingest_image *im = &images[i];
      for (size_t k = 0; im->diff_ids && im->diff_ids[k]; k++)
        if (!row_exists (s, "SELECT 1 FROM layers WHERE diff_id = ?", im->diff_ids[k]))
          return berr_set (err, 0, "store: layer %s is missing; try again", im->diff_ids[k]);
      if (!row_exists (s, "SELECT 1 FROM images WHERE id = ?", im->id))
        {
          cleanup_free char *crel = xasprintf ("blobs/sha256/%s", digest_hex (im->id));
          if (im->staged_config && place (s, im->staged_config, crel, false, err) < 0)
            return -1;
          if (im->staged_manifest && im->manifest)
            {
              cleanup_free char *mrel = xasprintf ("blobs/sha256/%s", digest_hex (im->manifest));
              if (place (s, im->staged_manifest, mrel, false, err) < 0)
                return -1;
            }
          if (exec_bind (s,
                         "INSERT INTO images(id, created, added, parent, manifest) VALUES (?, ?, "
                         "?, ?, ?)",
                         err, 5, 's', im->id, 'i', im->created, 'i', now, 's', im->parent, 's',
                         im->manifest)
              < 0)
            return -1;
          for (size_t k = 0; im->diff_ids && im->diff_ids[k]; k++)
            if (exec_bind (s, "INSERT INTO image_layers(image_id, idx, diff_id) VALUES (?, ?, ?)",
                           err, 3, 's', im->id, 'i', (int64_t)k, 's', im->diff_ids[k])
                < 0)
              return -1;
        }
      for (size_t k = 0; im->tags && im->tags[k]; k++)
        {
          char old[DIGEST_STR_LEN];
          if (tag_in_txn (s, im->id, im->tags[k], old, err) < 0)
            return -1;
          if (old[0] && moved)
            {
              *moved = xrealloc (*moved, (*nmoved + 1) * sizeof **moved);
              (*moved)[*nmoved].tag = xstrdup (im->tags[k]);
              memcpy ((*moved)[*nmoved].old_id, old, DIGEST_STR_LEN);
              (*nmoved)++;
            }
        }
      for (size_t k = 0; im->digests && im->digests[k]; k++)
        if (exec_bind (s,
                       "INSERT INTO repo_digests(name, image_id) VALUES (?1, ?2) "
                       "ON CONFLICT(name) DO UPDATE SET image_id = ?2",
                       err, 2, 's', im->digests[k], 's', im->id)
            < 0)
          return -1;
      if (im->cache_key
          && exec_bind (s,
                        "INSERT OR REPLACE INTO build_cache(key, image_id, created, last_used) "
                        "VALUES (?, ?, ?, ?)",
                        err, 4, 's', im->cache_key, 's', im->id, 'i', now, 'i', now)
                 < 0)
        return -1;
    }
  return 0;
}

static void undo_own_intents (struct store *s)
{
  berr_t e = BERR_INIT;
  cleanup_free char *ipath = xasprintf ("%s/intents", s->stage);
  cleanup_close int ifd = open (ipath, O_RDONLY | O_CLOEXEC);
  if (ifd >= 0 && db_begin_write (s, &e) == 0)
    {
      undo_intents (s, ifd);
      if (db_exec (s, "COMMIT", &e) < 0)
        db_rollback (s);
    }
  berr_release (&e);
  if (ftruncate (s->intent_fd, 0) < 0)
    log_debug ("store: truncate intents: %s", strerror (errno));
}

int store_commit (struct store *s, struct ingest_layer *layers, size_t nlayers,
                  struct ingest_image *images, size_t nimages, struct tag_move **moved,
                  size_t *nmoved, berr_t *err)
{
  if (moved)
    {
      *moved = NULL;
      *nmoved = 0;
    }
  if (ensure_stage (s, err) < 0)
    return -1;
  /* Staged data reaches the disk before any row can point at it: one syncfs for everything
   * (per-file fsync of thousands of unpacked files would cost far more). */
  if (s->sync && (nlayers > 0 || nimages > 0))
    {
      cleanup_close int rfd = open (s->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      if (rfd < 0 || syncfs (rfd) < 0)
        return berr_set (err, errno, "store: syncfs %s", s->root);
    }
  if (db_begin_write (s, err) < 0)
    return -1;
  if (commit_locked (s, layers, nlayers, images, nimages, moved, nmoved, err) < 0)
    {
      db_rollback (s);
      /* Anything already renamed into place is now unreferenced: the intents undo it. */
      undo_own_intents (s);
      return -1;
    }
  /* The renames must be on disk before the rows that name them. */
  if (s->sync)
    {
      static const char *const dirs[] = { "layers", "blobs/sha256" };
      for (size_t i = 0; i < ARRAY_SIZE (dirs); i++)
        {
          cleanup_free char *d = xasprintf ("%s/%s", s->root, dirs[i]);
          if (fs_fsync_dir (d, err) < 0)
            {
              db_rollback (s);
              undo_own_intents (s);
              return -1;
            }
        }
    }
  if (db_exec (s, "COMMIT", err) < 0)
    {
      db_rollback (s);
      undo_own_intents (s);
      return -1;
    }
  /* Committed: the intents are satisfied. */
  if (ftruncate (s->intent_fd, 0) < 0)
    log_debug ("store: truncate intents: %s", strerror (errno));
  return 0;
}

int store_tag (struct store *s, const char *image_id, const char *full_name,
               char old_id[DIGEST_STR_LEN], berr_t *err)
{
  if (db_begin_write (s, err) < 0)
    return -1;
  if (!row_exists (s, "SELECT 1 FROM images WHERE id = ?", image_id))
    {
      db_rollback (s);
      return berr_setk (err, BERR_NOT_FOUND, 0, "No such image: %s", image_id);
    }
  if (tag_in_txn (s, image_id, full_name, old_id, err) < 0)
    {
      db_rollback (s);
      return -1;
    }
  return db_exec (s, "COMMIT", err);
}

/* ---------- removal ---------- */

/* Chain ID of the first n+1 diff_ids (OCI image-spec config.md). */
static void chain_id (char **diff_ids, size_t n, char out[DIGEST_STR_LEN])
{
  snprintf (out, DIGEST_STR_LEN, "%s", diff_ids[0]);
  for (size_t i = 1; i <= n; i++)
    {
      cleanup_free char *cat = xasprintf ("%s %s", out, diff_ids[i]);
      sha256_digest (cat, strlen (cat), out);
    }
}

/* Delete an image row and any layers and blobs that nothing references any more.
 * Runs inside the write transaction; filesystem removal happens after COMMIT through the
 * returned list of paths. */
int delete_image_locked (struct store *s, const char *id, char ***lines, char ***paths,
                         int64_t *reclaimed, berr_t *err)
{
  struct image_rec *rec = NULL;
  if (store_image_get (s, id, &rec, err) < 0)
    return -1;
  char manifest[DIGEST_STR_LEN] = "";
  {
    cleanup_stmt sqlite3_stmt *st = db_prep (s, "SELECT manifest FROM images WHERE id = ?", err);
    if (st == NULL)
      {
        image_rec_free (rec);
        return -1;
      }
    bind_text (st, 1, id);
    if (sqlite3_step (st) == SQLITE_ROW && col_text (st, 0))
      snprintf (manifest, sizeof manifest, "%s", col_text (st, 0));
  }
  for (size_t k = 0; rec->tags && rec->tags[k]; k++)
    {
      cleanup_free char *fam = ref_familiarize (rec->tags[k]);
      strv_push_take (lines, xasprintf ("Untagged: %s", fam));
    }
  for (size_t k = 0; rec->digests && rec->digests[k]; k++)
    {
      cleanup_free char *fam = ref_familiarize (rec->digests[k]);
      strv_push_take (lines, xasprintf ("Untagged: %s", fam));
    }
  if (exec_bind (s, "DELETE FROM images WHERE id = ?", err, 1, 's', id) < 0)
    {
      image_rec_free (rec);
      return -1;
    }
  strv_push_take (lines, xasprintf ("Deleted: %s", id));
  strv_push_take (paths, xasprintf ("blobs/sha256/%s", digest_hex (id)));
  /* Queued always: remove_paths removes only what no row references any more. */
  if (manifest[0] && digest_is_valid (manifest))
    strv_push_take (paths, xasprintf ("blobs/sha256/%s", digest_hex (manifest)));
  size_t nl = strv_len (rec->diff_ids);
  for (size_t k = 0; k < nl; k++)
    {
      const char *d = rec->diff_ids[k];
      if (row_exists (s, "SELECT 1 FROM image_layers WHERE diff_id = ?", d))
        continue;
      struct layer_info li;
      int r = store_layer_get (s, d, &li, err);
      if (r < 0)
        {
          image_rec_free (rec);
          return -1;
        }
      if (r == 1)
        continue;
      if (exec_bind (s, "DELETE FROM layers WHERE diff_id = ?", err, 1, 's', d) < 0)
        {
          layer_info_release (&li);
          image_rec_free (rec);
          return -1;
        }
      char cid[DIGEST_STR_LEN];
      chain_id (rec->diff_ids, k, cid);
      strv_push_take (lines, xasprintf ("Deleted: %s", cid));
      strv_push_take (paths, xasprintf ("layers/%s", digest_hex (d)));
      if (li.blob[0] && !row_exists (s, "SELECT 1 FROM layers WHERE blob = ?", li.blob))
        strv_push_take (paths, xasprintf ("blobs/sha256/%s", digest_hex (li.blob)));
      if (reclaimed)
        *reclaimed += li.size;
      layer_info_release (&li);
    }
  image_rec_free (rec);
  return 0;
}

/* After COMMIT: remove files whose rows are gone. A crash in between leaves unreferenced files;
 * the intents written before COMMIT let the next berth remove them. */
/* After COMMIT: remove the files whose rows are gone. Under the write lock again, and only what
 * no row references by now — a load committed in between may have brought a layer back. The
 * paths are moved into this process's staging area (a rename, so the lock is held briefly) and
 * deleted after the lock is released; if we die first, recovery deletes the area. A crash before
 * this point leaves unreferenced files that the intents written before COMMIT let the next berth
 * remove. */
static void remove_paths (struct store *s, char **paths)
{
  berr_t e = BERR_INIT;
  cleanup_strv char **moved = NULL;
  if (db_begin_write (s, &e) < 0)
    {
      log_warn ("%s", e.msg);
      berr_release (&e);
      return;
    }
  for (size_t i = 0; paths && paths[i]; i++)
    {
      if (path_referenced (s, paths[i]))
        continue;
      cleanup_free char *abs = xasprintf ("%s/%s", s->root, paths[i]);
      char *gc = xasprintf ("%s/gc-%d", s->stage, s->stage_seq++);
      if (rename (abs, gc) == 0)
        strv_push_take (&moved, gc);
      else
        {
          if (errno != ENOENT)
            log_warn ("store: remove %s: %s", abs, strerror (errno));
          free (gc);
        }
    }
  if (db_exec (s, "COMMIT", &e) < 0)
    {
      log_warn ("%s", e.msg);
      berr_release (&e);
      db_rollback (s);
    }
  if (s->intent_fd >= 0 && ftruncate (s->intent_fd, 0) < 0)
    log_debug ("store: truncate intents: %s", strerror (errno));
  for (size_t i = 0; moved && moved[i]; i++)
    if (fs_rm_rf (moved[i], &e) < 0)
      {
        log_warn ("%s", e.msg);
        berr_release (&e);
      }
}

int finish_removal (struct store *s, char **paths, berr_t *err)
{
  for (size_t i = 0; paths && paths[i]; i++)
    if (stage_write_intent (s, paths[i], err) < 0)
      {
        db_rollback (s);
        return -1;
      }
  if (db_exec (s, "COMMIT", err) < 0)
    {
      db_rollback (s);
      return -1;
    }
  remove_paths (s, paths);
  return 0;
}

/* A container using the image (a running one first): its id in cid, or false. */
bool image_in_use (struct store *s, const char *id, char cid[65], bool *running)
{
  berr_t e = BERR_INIT;
  cleanup_stmt sqlite3_stmt *st
      = db_prep (s,
                 "SELECT id, coalesce(json_extract(state, '$.Running'), 0) FROM containers "
                 "WHERE image_id = ? ORDER BY 2 DESC LIMIT 1",
                 &e);
  if (st == NULL)
    {
      berr_release (&e);
      return false;
    }
  bind_text (st, 1, id);
  if (sqlite3_step (st) != SQLITE_ROW)
    return false;
  snprintf (cid, 65, "%s", col_text (st, 0));
  *running = sqlite3_column_int (st, 1) != 0;
  return true;
}

/* The parent of an image ("" when none). */
static void image_parent (struct store *s, const char *id, char parent[DIGEST_STR_LEN])
{
  parent[0] = '\0';
  berr_t e = BERR_INIT;
  cleanup_stmt sqlite3_stmt *st = db_prep (s, "SELECT parent FROM images WHERE id = ?", &e);
  if (st == NULL)
    {
      berr_release (&e);
      return;
    }
  bind_text (st, 1, id);
  if (sqlite3_step (st) == SQLITE_ROW && col_text (st, 0))
    snprintf (parent, DIGEST_STR_LEN, "%s", col_text (st, 0));
}

bool image_has_children (struct store *s, const char *id)
{
  return row_exists (s, "SELECT 1 FROM images WHERE parent = ?", id);
}

int prune_parents_locked (struct store *s, const char *parent, char ***lines, char ***paths,
                          int64_t *reclaimed, berr_t *err)
{
  char cur[DIGEST_STR_LEN];
  snprintf (cur, sizeof cur, "%s", parent ? parent : "");
  /* Docker's prune after a delete: the parent goes too while it has no name, no other child and
   * no container; the first one that stays ends the walk. */
  while (cur[0])
    {
      char cid[65];
      bool running;
      if (!row_exists (s, "SELECT 1 FROM images WHERE id = ?", cur)
          || row_exists (s, "SELECT 1 FROM tags WHERE image_id = ?", cur)
          || row_exists (s, "SELECT 1 FROM repo_digests WHERE image_id = ?", cur)
          || image_has_children (s, cur) || image_in_use (s, cur, cid, &running))
        return 0;
      char next[DIGEST_STR_LEN];
      image_parent (s, cur, next);
      if (delete_image_locked (s, cur, lines, paths, reclaimed, err) < 0)
        return -1;
      memcpy (cur, next, sizeof cur);
    }
  return 0;
}

int store_image_delete_id (struct store *s, const char *id, bool only_if_dangling, char ***lines,
                           int64_t *reclaimed, berr_t *err)
{
  cleanup_strv char **paths = NULL;
  if (ensure_stage (s, err) < 0 || db_begin_write (s, err) < 0)
    return -1;
  /* Checked again under the lock: it may have been tagged (or deleted) since it was listed. */
  char cid[65];
  bool running;
  if (!row_exists (s, "SELECT 1 FROM images WHERE id = ?", id)
      || (only_if_dangling && row_exists (s, "SELECT 1 FROM tags WHERE image_id = ?", id))
      || image_in_use (s, id, cid, &running) || image_has_children (s, id))
    {
      db_rollback (s);
      return 1;
    }
  char parent[DIGEST_STR_LEN];
  image_parent (s, id, parent);
  if (delete_image_locked (s, id, lines, &paths, reclaimed, err) < 0
      || prune_parents_locked (s, parent, lines, &paths, reclaimed, err) < 0)
    {
      db_rollback (s);
      return -1;
    }
  return finish_removal (s, paths, err);
}

int store_image_remove (struct store *s, const char *name, bool force, bool prune, char ***lines,
                        int64_t *reclaimed, berr_t *err)
{
  cleanup_strv char **paths = NULL;
  if (ensure_stage (s, err) < 0 || db_begin_write (s, err) < 0)
    return -1;
  char id[DIGEST_STR_LEN];
  int r = resolve_image_id (s, name, id, err);
  if (r != 0)
    {
      db_rollback (s);
      if (r == 1)
        return berr_setk (err, BERR_NOT_FOUND, 0, "No such image: %s", name);
      return -1;
    }
  struct image_rec *rec = NULL;
  if (store_image_get (s, id, &rec, err) < 0)
    {
      db_rollback (s);
      return -1;
    }
  size_t ntags = strv_len (rec->tags);
  /* Was the image named by a reference (tag or digest) rather than by ID? */
  bool by_ref = false;
  cleanup_free char *full = NULL;
  {
    struct image_ref ref = { 0 };
    berr_t e = BERR_INIT;
    bool id_like = ref_is_id_prefix (name)
                   && str_has_prefix (id + 7, str_has_prefix (name, "sha256:") ? name + 7 : name);
    if (!id_like && ref_parse_docker (name, &ref, &e) == 0)
      {
        by_ref = true;
        if (ref.digest)
          {
            cleanup_free char *nm = ref_name (&ref);
            full = xasprintf ("%s@%s", nm, ref.digest);
          }
        else
          full = ref_string (&ref);
        ref_release (&ref);
      }
    berr_release (&e);
  }
  int ret = 0;
  char cid[65];
  bool running = false;
  bool in_use = image_in_use (s, id, cid, &running);
  /* Docker: removing the last tag of a repository also removes that repository's digest
   * references ("Untagged: busybox@sha256:…"); the image goes when no name is left. */
  cleanup_strv char **repo_digests = NULL;
  if (by_ref && strchr (full, '@') == NULL)
    {
      struct image_ref fr = { 0 };
      berr_t e = BERR_INIT;
      if (ref_parse (full, &fr, &e) == 0)
        {
          cleanup_free char *nm = ref_name (&fr);
          bool other_tag = false;
          for (size_t k = 0; rec->tags && rec->tags[k]; k++)
            {
              struct image_ref tr = { 0 };
              if (strcmp (rec->tags[k], full) == 0 || ref_parse (rec->tags[k], &tr, &e) < 0)
                continue;
              cleanup_free char *tn = ref_name (&tr);
              ref_release (&tr);
              other_tag |= strcmp (tn, nm) == 0;
            }
          size_t nl = strlen (nm);
          for (size_t k = 0; !other_tag && rec->digests && rec->digests[k]; k++)
            if (strncmp (rec->digests[k], nm, nl) == 0 && rec->digests[k][nl] == '@')
              strv_push (&repo_digests, rec->digests[k]);
          ref_release (&fr);
        }
      berr_release (&e);
    }
  if (by_ref && (ntags + strv_len (rec->digests) > 1 + strv_len (repo_digests)))
    {
      /* Other names remain: just untag this one (and its repository's digests). */
      cleanup_free char *fam = ref_familiarize (full);
      if (exec_bind (s, "DELETE FROM tags WHERE name = ?", err, 1, 's', full) < 0
          || exec_bind (s, "DELETE FROM repo_digests WHERE name = ?", err, 1, 's', full) < 0)
        ret = -1;
      else
        strv_push_take (lines, xasprintf ("Untagged: %s", fam));
      for (size_t k = 0; ret == 0 && repo_digests && repo_digests[k]; k++)
        {
          cleanup_free char *dfam = ref_familiarize (repo_digests[k]);
          if (exec_bind (s, "DELETE FROM repo_digests WHERE name = ?", err, 1, 's', repo_digests[k])
              < 0)
            ret = -1;
          else
            strv_push_take (lines, xasprintf ("Untagged: %s", dfam));
        }
    }
  else if (!by_ref && ntags > 1 && !force)
    {
      char short_id[13];
      snprintf (short_id, sizeof short_id, "%.12s", id + 7);
      ret = berr_setk (err, BERR_CONFLICT, 0,
                       "conflict: unable to delete %s (must be forced) - image is referenced in "
                       "multiple repositories",
                       short_id);
    }
  else if (in_use && (by_ref ? !force : (running || !force)))
    {
      char short_id[13];
      snprintf (short_id, sizeof short_id, "%.12s", id + 7);
      if (by_ref)
        {
          cleanup_free char *fam = ref_familiarize (full);
          ret = berr_setk (err, BERR_CONFLICT, 0,
                           "conflict: unable to remove repository reference \"%s\" (must force) "
                           "- container %.12s is using its referenced image %s",
                           fam, cid, short_id);
        }
      else
        ret = berr_setk (err, BERR_CONFLICT, 0,
                         "conflict: unable to delete %s (%s) - image is being used by %s "
                         "container %.12s",
                         short_id, running ? "cannot be forced" : "must be forced",
                         running ? "running" : "stopped", cid);
    }
  else if (in_use)
    {
      /* Forced, used by a stopped container: the names go, the image stays for the container
       * (its rootfs is built from these layers). */
      for (size_t k = 0; rec->tags && rec->tags[k]; k++)
        {
          cleanup_free char *fam = ref_familiarize (rec->tags[k]);
          strv_push_take (lines, xasprintf ("Untagged: %s", fam));
        }
      if (exec_bind (s, "DELETE FROM tags WHERE image_id = ?", err, 1, 's', id) < 0
          || exec_bind (s, "DELETE FROM repo_digests WHERE image_id = ?", err, 1, 's', id) < 0)
        ret = -1;
    }
  else if (image_has_children (s, id))
    {
      /* Docker: by ID a hard conflict; by name the name goes and the image stays as the
       * (untagged) parent of its children. */
      if (by_ref)
        {
          cleanup_free char *fam = ref_familiarize (full);
          if (exec_bind (s, "DELETE FROM tags WHERE image_id = ?", err, 1, 's', id) < 0
              || exec_bind (s, "DELETE FROM repo_digests WHERE image_id = ?", err, 1, 's', id) < 0)
            ret = -1;
          else
            strv_push_take (lines, xasprintf ("Untagged: %s", fam));
        }
      else
        ret = berr_setk (err, BERR_CONFLICT, 0,
                         "conflict: unable to delete %.12s (cannot be forced) - image has "
                         "dependent child images",
                         id + 7);
    }
  else
    {
      char parent[DIGEST_STR_LEN];
      image_parent (s, id, parent);
      ret = delete_image_locked (s, id, lines, &paths, reclaimed, err);
      if (ret == 0 && prune)
        ret = prune_parents_locked (s, parent, lines, &paths, reclaimed, err);
    }
  image_rec_free (rec);
  if (ret < 0)
    {
      db_rollback (s);
      return -1;
    }
  return finish_removal (s, paths, err);
}
