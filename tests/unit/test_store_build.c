/* Unit tests for src/store/store_build.c: the build cache, parents, usage, prune, migration. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store/store.h"
#include "util/fs.h"

static char *root;
#define RUNROOT "/tmp/berth-test-runroot"

static int setup (void **state)
{
  (void)state;
  char tmpl[] = "/tmp/berth-test-sbuild-XXXXXX";
  if (mkdtemp (tmpl) == NULL)
    return -1;
  root = xstrdup (tmpl);
  return 0;
}

static int teardown (void **state)
{
  (void)state;
  berr_t err = BERR_INIT;
  fs_rm_rf (root, &err);
  berr_release (&err);
  free (root);
  return 0;
}

/* An image as a build step makes it: the parent's layers plus one of its own (one file holding
 * content, so the layer's size is strlen (content)). */
struct img
{
  char id[DIGEST_STR_LEN];
  char *diff_ids[8];
  char diffs[8][DIGEST_STR_LEN];
};

static void add_step (struct store *s, const struct img *parent, const char *content,
                      const char *tag, const char *cache_key, struct img *out)
{
  berr_t err = BERR_INIT;
  memset (out, 0, sizeof *out);
  size_t n = 0;
  for (; parent && parent->diff_ids[n]; n++)
    {
      memcpy (out->diffs[n], parent->diffs[n], DIGEST_STR_LEN);
      out->diff_ids[n] = out->diffs[n];
    }
  sha256_digest (content, strlen (content), out->diffs[n]);
  out->diff_ids[n] = out->diffs[n];
  cleanup_free char *dir = NULL, *cfgp = NULL;
  int cfd = -1;
  assert_int_equal (store_stage_dir (s, "layer", &dir, &err), 0);
  cleanup_free char *f = xasprintf ("%s/file", dir);
  assert_int_equal (fs_write_atomic (f, content, strlen (content), 0644, &err), 0);
  cleanup_free char *cfg = xasprintf ("{\"created\":\"2024-01-02T03:04:05Z\",\"comment\":\"%s\","
                                      "\"parent\":\"%s\"}",
                                      content, parent ? parent->id : "");
  sha256_digest (cfg, strlen (cfg), out->id);
  assert_int_equal (store_stage_file (s, "json", &cfgp, &cfd, &err), 0);
  assert_int_equal (write (cfd, cfg, strlen (cfg)), (ssize_t)strlen (cfg));
  close (cfd);
  struct ingest_layer l = { 0 };
  memcpy (l.diff_id, out->diffs[n], DIGEST_STR_LEN);
  l.staged_dir = dir;
  l.media_type = (char *)"application/vnd.oci.image.layer.v1.tar";
  l.tar_size = l.size = (int64_t)strlen (content);
  char *tags[] = { (char *)tag, NULL };
  struct ingest_image im = { 0 };
  memcpy (im.id, out->id, DIGEST_STR_LEN);
  im.staged_config = cfgp;
  im.created = 1;
  im.diff_ids = out->diff_ids;
  im.tags = tag ? tags : NULL;
  im.parent = parent ? (char *)parent->id : NULL;
  im.cache_key = (char *)cache_key;
  assert_int_equal (store_commit (s, &l, 1, &im, 1, NULL, NULL, &err), 0);
}

static bool image_exists (struct store *s, const char *id)
{
  struct image_rec *r = NULL;
  berr_t err = BERR_INIT;
  if (store_image_get (s, id, &r, &err) < 0)
    {
      berr_release (&err);
      return false;
    }
  image_rec_free (r);
  return true;
}

/* One integer from the database, through a connection of our own. */
static int64_t db_int (const char *sql)
{
  cleanup_free char *p = xasprintf ("%s/berth.db", root);
  sqlite3 *db = NULL;
  assert_int_equal (sqlite3_open (p, &db), SQLITE_OK);
  sqlite3_stmt *st = NULL;
  assert_int_equal (sqlite3_prepare_v2 (db, sql, -1, &st, NULL), SQLITE_OK);
  assert_int_equal (sqlite3_step (st), SQLITE_ROW);
  int64_t v = sqlite3_column_int64 (st, 0);
  sqlite3_finalize (st);
  sqlite3_close (db);
  return v;
}

static void db_run (const char *sql)
{
  cleanup_free char *p = xasprintf ("%s/berth.db", root);
  sqlite3 *db = NULL;
  assert_int_equal (sqlite3_open (p, &db), SQLITE_OK);
  char *msg = NULL;
  int r = sqlite3_exec (db, sql, NULL, NULL, &msg);
  if (r != SQLITE_OK)
    fail_msg ("%s: %s", sql, msg);
  sqlite3_close (db);
}

static void add_container (struct store *s, const char *id, const char *name, const char *image)
{
  struct container_rec c = { 0 };
  c.id = (char *)id;
  c.name = (char *)name;
  c.image_id = (char *)image;
  c.created_ns = 1;
  c.config = json_pack ("{s:{s:s}}", "Config", "Image", image);
  c.state = json_pack ("{s:s, s:b}", "Status", "created", "Running", 0);
  berr_t err = BERR_INIT;
  assert_int_equal (store_container_add (s, &c, &err), 0);
  json_decref (c.config);
  json_decref (c.state);
}

static void test_put_get_miss (void **state)
{
  (void)state;
  struct store *s = NULL;
  berr_t err = BERR_INIT;
  assert_int_equal (store_open (root, RUNROOT, &s, &err), 0);
  struct img base;
  add_step (s, NULL, "base", "docker.io/library/base:1", NULL, &base);
  char id[DIGEST_STR_LEN] = "";
  assert_int_equal (store_build_cache_get (s, "k1", id, &err), 1);
  assert_int_equal (store_build_cache_put (s, "k1", base.id, &err), 0);
  db_run ("UPDATE build_cache SET last_used = 5");
  assert_int_equal (store_build_cache_get (s, "k1", id, &err), 0);
  assert_string_equal (id, base.id);
  /* a hit refreshes last_used */
  assert_true (db_int ("SELECT last_used FROM build_cache WHERE key = 'k1'") > 5);
  assert_int_equal (store_build_cache_get (s, "k2", id, &err), 1);
  /* put on a missing image, an empty key */
  assert_int_equal (
      store_build_cache_put (
          s, "k2", "sha256:1111111111111111111111111111111111111111111111111111111111111111", &err),
      -1);
  assert_int_equal (err.kind, BERR_NOT_FOUND);
  berr_release (&err);
  assert_int_equal (store_build_cache_put (s, "", base.id, &err), -1);
  assert_int_equal (err.kind, BERR_INVALID);
  berr_release (&err);
  /* replace */
  struct img other;
  add_step (s, NULL, "other", "docker.io/library/other:1", NULL, &other);
  assert_int_equal (store_build_cache_put (s, "k1", other.id, &err), 0);
  assert_int_equal (store_build_cache_get (s, "k1", id, &err), 0);
  assert_string_equal (id, other.id);
  assert_int_equal (db_int ("SELECT COUNT(*) FROM build_cache"), 1);
  store_close (s);
}

static void test_commit_key_and_removal (void **state)
{
  (void)state;
  struct store *s = NULL;
  berr_t err = BERR_INIT;
  assert_int_equal (store_open (root, RUNROOT, &s, &err), 0);
  struct img base, step;
  add_step (s, NULL, "base", "docker.io/library/base:1", NULL, &base);
  add_step (s, &base, "step-one", NULL, "key-step", &step);
  char id[DIGEST_STR_LEN] = "";
  assert_int_equal (store_build_cache_get (s, "key-step", id, &err), 0);
  assert_string_equal (id, step.id);
  struct image_rec *rec = NULL;
  assert_int_equal (store_image_get (s, step.id, &rec, &err), 0);
  assert_string_equal (rec->parent, base.id);
  image_rec_free (rec);
  /* The same key committed again with another image replaces the row. */
  struct img step2;
  add_step (s, &base, "step-one-again", NULL, "key-step", &step2);
  assert_int_equal (store_build_cache_get (s, "key-step", id, &err), 0);
  assert_string_equal (id, step2.id);
  /* rmi takes the row with the image */
  cleanup_strv char **lines = NULL;
  assert_int_equal (store_image_remove (s, step2.id, false, true, &lines, NULL, &err), 0);
  assert_int_equal (store_build_cache_get (s, "key-step", id, &err), 1);
  assert_int_equal (db_int ("SELECT COUNT(*) FROM build_cache"), 0);
  /* so does store_image_delete_id */
  assert_int_equal (store_build_cache_put (s, "again", step.id, &err), 0);
  cleanup_strv char **l2 = NULL;
  assert_int_equal (store_image_delete_id (s, step.id, true, &l2, NULL, &err), 0);
  assert_int_equal (store_build_cache_get (s, "again", id, &err), 1);
  assert_true (image_exists (s, base.id));
  store_close (s);
}

static void test_parents_and_children (void **state)
{
  (void)state;
  struct store *s = NULL;
  berr_t err = BERR_INIT;
  assert_int_equal (store_open (root, RUNROOT, &s, &err), 0);
  struct img base, s1, s2, s3;
  add_step (s, NULL, "base", "docker.io/library/base:1", NULL, &base);
  add_step (s, &base, "s1", NULL, "k1", &s1);
  add_step (s, &s1, "s2", NULL, "k2", &s2);
  add_step (s, &s2, "s3", "docker.io/library/app:1", "k3", &s3);
  cleanup_strv char **parents = NULL;
  assert_int_equal (store_image_parents (s, &parents, &err), 0);
  assert_int_equal (strv_len (parents), 3);
  for (size_t i = 1; i < 3; i++)
    assert_true (strcmp (parents[i - 1], parents[i]) < 0);
  const char *want[] = { base.id, s1.id, s2.id };
  for (size_t k = 0; k < 3; k++)
    {
      bool found = false;
      for (size_t i = 0; parents[i]; i++)
        found |= strcmp (parents[i], want[k]) == 0;
      assert_true (found);
    }
  /* An image with a child: by ID a conflict, prune leaves it alone. */
  cleanup_strv char **lines = NULL;
  assert_int_equal (store_image_remove (s, s2.id, false, true, &lines, NULL, &err), -1);
  assert_int_equal (err.kind, BERR_CONFLICT);
  assert_non_null (strstr (err.msg, "image has dependent child images"));
  berr_release (&err);
  assert_int_equal (store_image_delete_id (s, s2.id, false, &lines, NULL, &err), 1);
  /* Untagging the top by name deletes it and prunes its untagged parents, not the base. */
  assert_int_equal (store_image_remove (s, "app:1", false, true, &lines, NULL, &err), 0);
  assert_false (image_exists (s, s3.id));
  assert_false (image_exists (s, s2.id));
  assert_false (image_exists (s, s1.id));
  assert_true (image_exists (s, base.id));
  bool del_s1 = false;
  for (size_t i = 0; lines[i]; i++)
    {
      cleanup_free char *want_line = xasprintf ("Deleted: %s", s1.id);
      del_s1 |= strcmp (lines[i], want_line) == 0;
    }
  assert_true (del_s1);
  strv_free (parents);
  parents = NULL;
  assert_int_equal (store_image_parents (s, &parents, &err), 0);
  assert_null (parents);
  /* Untagging a named parent by name keeps it for its child. */
  add_step (s, &base, "c1", "docker.io/library/child:1", NULL, &s1);
  strv_free (lines);
  lines = NULL;
  assert_int_equal (store_image_remove (s, "base:1", false, true, &lines, NULL, &err), 0);
  assert_string_equal (lines[0], "Untagged: base:1");
  assert_null (lines[1]);
  assert_true (image_exists (s, base.id));
  store_close (s);
}

static void test_usage (void **state)
{
  (void)state;
  struct store *s = NULL;
  berr_t err = BERR_INIT;
  assert_int_equal (store_open (root, RUNROOT, &s, &err), 0);
  int64_t entries = -1, size = -1, recl = -1;
  assert_int_equal (store_build_cache_usage (s, &entries, &size, &recl, &err), 0);
  assert_int_equal (entries, 0);
  assert_int_equal (size, 0);
  assert_int_equal (recl, 0);
  struct img base, s1, s2;
  add_step (s, NULL, "base-layer", "docker.io/library/base:1", NULL, &base); /* 10 bytes */
  add_step (s, &base, "four", NULL, "k1", &s1);                              /* 4 */
  add_step (s, &s1, "eight-xx", NULL, "k2", &s2);                            /* 8 */
  assert_int_equal (store_build_cache_usage (s, &entries, &size, &recl, &err), 0);
  assert_int_equal (entries, 2);
  assert_int_equal (size, 12); /* the base layer is the tagged base's */
  assert_int_equal (recl, 12);
  add_container (s, "cccc111111111111111111111111111111111111111111111111111111111111", "c1",
                 s1.id);
  assert_int_equal (store_build_cache_usage (s, &entries, &size, &recl, &err), 0);
  assert_int_equal (size, 12);
  assert_int_equal (recl, 8);
  /* Tagging the top makes the whole chain an image's, not the cache's. */
  char old[DIGEST_STR_LEN];
  assert_int_equal (store_tag (s, s2.id, "docker.io/library/app:1", old, &err), 0);
  assert_int_equal (store_build_cache_usage (s, &entries, &size, &recl, &err), 0);
  assert_int_equal (entries, 2);
  assert_int_equal (size, 0);
  assert_int_equal (recl, 0);
  store_close (s);
}

static bool has_line (char **lines, const char *id)
{
  cleanup_free char *want = xasprintf ("Deleted: %s", id);
  for (size_t i = 0; lines && lines[i]; i++)
    if (strcmp (lines[i], want) == 0)
      return true;
  return false;
}

static void test_prune (void **state)
{
  (void)state;
  struct store *s = NULL;
  berr_t err = BERR_INIT;
  assert_int_equal (store_open (root, RUNROOT, &s, &err), 0);
  struct img base, a1, a2, t1, t2, u1, u2;
  add_step (s, NULL, "base", "docker.io/library/base:1", "kb", &base);
  /* a failed build: an untagged chain */
  add_step (s, &base, "a1-layer", NULL, "ka1", &a1); /* 8 */
  add_step (s, &a1, "a2-layer-x", NULL, "ka2", &a2); /* 10 */
  /* a finished build: tagged at the top */
  add_step (s, &base, "t1", NULL, "kt1", &t1);
  add_step (s, &t1, "t2", "docker.io/library/app:1", "kt2", &t2);
  /* a chain whose middle a container uses */
  add_step (s, &base, "u1", NULL, "ku1", &u1);
  add_step (s, &u1, "u2-layer", NULL, "ku2", &u2); /* 8 */
  add_container (s, "dddd111111111111111111111111111111111111111111111111111111111111", "user",
                 u1.id);
  cleanup_strv char **lines = NULL;
  int64_t reclaimed = 0;
  assert_int_equal (store_build_cache_prune_ex (s, false, 0, &lines, &reclaimed, &err), 0);
  assert_int_equal (strv_len (lines), 3);
  assert_true (has_line (lines, a1.id));
  assert_true (has_line (lines, a2.id));
  assert_true (has_line (lines, u2.id));
  assert_int_equal (reclaimed, 8 + 10 + 8);
  assert_false (image_exists (s, a1.id));
  assert_false (image_exists (s, a2.id));
  assert_false (image_exists (s, u2.id));
  const struct img *kept[] = { &base, &t1, &t2, &u1 };
  for (size_t i = 0; i < ARRAY_SIZE (kept); i++)
    assert_true (image_exists (s, kept[i]->id));
  /* without -a the rows of kept images stay */
  char id[DIGEST_STR_LEN];
  assert_int_equal (store_build_cache_get (s, "kt1", id, &err), 0);
  assert_int_equal (store_build_cache_get (s, "ka1", id, &err), 1);
  assert_int_equal (db_int ("SELECT COUNT(*) FROM build_cache"), 4);
  /* -a: nothing more to delete, but every row goes */
  strv_free (lines);
  lines = NULL;
  reclaimed = 0;
  assert_int_equal (store_build_cache_prune (s, 0, &lines, &reclaimed, &err), 0);
  assert_null (lines);
  assert_int_equal (reclaimed, 0);
  assert_int_equal (db_int ("SELECT COUNT(*) FROM build_cache"), 0);
  for (size_t i = 0; i < ARRAY_SIZE (kept); i++)
    assert_true (image_exists (s, kept[i]->id));
  /* The layers of deleted images are gone from disk. */
  cleanup_free char *ldir = xasprintf ("%s/layers/%s", root, digest_hex (a2.diffs[2]));
  struct stat st;
  assert_int_equal (lstat (ldir, &st), -1);
  store_close (s);
}

static void test_prune_until (void **state)
{
  (void)state;
  struct store *s = NULL;
  berr_t err = BERR_INIT;
  assert_int_equal (store_open (root, RUNROOT, &s, &err), 0);
  struct img base, old1, old2, young;
  add_step (s, NULL, "base", "docker.io/library/base:1", NULL, &base);
  add_step (s, &base, "old1", NULL, "ko1", &old1);
  add_step (s, &old1, "old2", NULL, "ko2", &old2);
  add_step (s, &base, "young", NULL, "ky", &young);
  db_run ("UPDATE build_cache SET last_used = 1000 WHERE key LIKE 'ko%'");
  int64_t until = now_ns () - 3600LL * 1000000000LL;
  cleanup_strv char **lines = NULL;
  assert_int_equal (store_build_cache_prune_ex (s, true, until, &lines, NULL, &err), 0);
  assert_int_equal (strv_len (lines), 2);
  assert_false (image_exists (s, old1.id));
  assert_false (image_exists (s, old2.id));
  assert_true (image_exists (s, young.id));
  char id[DIGEST_STR_LEN];
  assert_int_equal (store_build_cache_get (s, "ky", id, &err), 0);
  /* An old row's image stays while a young build result is its child; with -a the row goes. */
  struct img y2;
  add_step (s, &young, "y2", NULL, "ky2", &y2);
  db_run ("UPDATE build_cache SET last_used = 1000 WHERE key = 'ky'");
  strv_free (lines);
  lines = NULL;
  assert_int_equal (store_build_cache_prune_ex (s, true, until, &lines, NULL, &err), 0);
  assert_null (lines);
  assert_true (image_exists (s, young.id));
  assert_int_equal (store_build_cache_get (s, "ky", id, &err), 1); /* its row went (-a) */
  assert_int_equal (store_build_cache_get (s, "ky2", id, &err), 0);
  store_close (s);
}

/* The schema of version 3, as berth wrote it before the build cache. */
static const char v3_schema[]
    = "CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);"
      "CREATE TABLE layers(diff_id TEXT PRIMARY KEY, blob TEXT, media_type TEXT,"
      "  blob_size INTEGER NOT NULL, tar_size INTEGER NOT NULL, size INTEGER NOT NULL,"
      "  added INTEGER NOT NULL, split INTEGER NOT NULL DEFAULT 0);"
      "CREATE INDEX layers_blob ON layers(blob);"
      "CREATE TABLE images(id TEXT PRIMARY KEY, created INTEGER NOT NULL, added INTEGER NOT NULL,"
      "  last_tag_time INTEGER NOT NULL DEFAULT 0, parent TEXT, manifest TEXT);"
      "CREATE TABLE image_layers(image_id TEXT NOT NULL REFERENCES images(id) ON DELETE CASCADE,"
      "  idx INTEGER NOT NULL, diff_id TEXT NOT NULL REFERENCES layers(diff_id),"
      "  PRIMARY KEY(image_id, idx));"
      "CREATE INDEX image_layers_diff ON image_layers(diff_id);"
      "CREATE TABLE tags(name TEXT PRIMARY KEY,"
      "  image_id TEXT NOT NULL REFERENCES images(id) ON DELETE CASCADE, added INTEGER NOT NULL);"
      "CREATE INDEX tags_image ON tags(image_id);"
      "CREATE TABLE repo_digests(name TEXT PRIMARY KEY,"
      "  image_id TEXT NOT NULL REFERENCES images(id) ON DELETE CASCADE);"
      "CREATE INDEX repo_digests_image ON repo_digests(image_id);"
      "CREATE TABLE containers(id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE,"
      "  image_id TEXT NOT NULL, created INTEGER NOT NULL, config TEXT NOT NULL,"
      "  state TEXT NOT NULL);"
      "CREATE INDEX containers_image ON containers(image_id);"
      "CREATE TABLE volumes(name TEXT PRIMARY KEY, driver TEXT NOT NULL, created INTEGER NOT NULL,"
      "  labels TEXT NOT NULL DEFAULT '{}', options TEXT NOT NULL DEFAULT '{}',"
      "  anonymous INTEGER NOT NULL DEFAULT 0);"
      "CREATE TABLE container_volumes("
      "  container_id TEXT NOT NULL REFERENCES containers(id) ON DELETE CASCADE,"
      "  volume TEXT NOT NULL REFERENCES volumes(name), PRIMARY KEY(container_id, volume));"
      "CREATE TABLE networks(id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE, driver TEXT NOT NULL,"
      "  scope TEXT NOT NULL DEFAULT 'local', created INTEGER NOT NULL, bridge TEXT UNIQUE,"
      "  subnet TEXT, gateway TEXT, ip_range TEXT, mtu INTEGER NOT NULL DEFAULT 0,"
      "  internal INTEGER NOT NULL DEFAULT 0, attachable INTEGER NOT NULL DEFAULT 0,"
      "  builtin INTEGER NOT NULL DEFAULT 0, labels TEXT NOT NULL DEFAULT '{}',"
      "  options TEXT NOT NULL DEFAULT '{}');"
      "CREATE TABLE endpoints(network_id TEXT NOT NULL REFERENCES networks(id),"
      "  container_id TEXT NOT NULL REFERENCES containers(id) ON DELETE CASCADE,"
      "  ip TEXT NOT NULL, mac TEXT, host_ifname TEXT, aliases TEXT NOT NULL DEFAULT '[]',"
      "  ports TEXT, created INTEGER NOT NULL,"
      "  PRIMARY KEY(network_id, container_id), UNIQUE(network_id, ip));"
      "INSERT INTO meta VALUES ('schema_version', '3');"
      "INSERT INTO layers VALUES "
      "('sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa',"
      "  NULL, 'x', 0, 3, 3, 1, 0);"
      "INSERT INTO images VALUES "
      "('sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb',"
      "  1, 1, 0, NULL, NULL);"
      "INSERT INTO image_layers VALUES ("
      "  'sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb', 0,"
      "  'sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa');"
      "INSERT INTO tags VALUES ('docker.io/library/old:1',"
      "  'sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb', 1);";

static void test_migrate_v3 (void **state)
{
  (void)state;
  db_run (v3_schema);
  assert_int_equal (db_int ("SELECT COUNT(*) FROM sqlite_master WHERE name = 'build_cache'"), 0);
  struct store *s = NULL;
  berr_t err = BERR_INIT;
  assert_int_equal (store_open (root, RUNROOT, &s, &err), 0);
  assert_int_equal (db_int ("SELECT value FROM meta WHERE key = 'schema_version'"), 5);
  assert_int_equal (db_int ("SELECT COUNT(*) FROM sqlite_master WHERE name = 'build_cache'"), 1);
  assert_int_equal (db_int ("SELECT COUNT(*) FROM sqlite_master WHERE name = 'build_cache_image'"),
                    1);
  /* The old image is still there and the cache works on it. */
  struct image_rec *rec = NULL;
  assert_int_equal (store_image_lookup (s, "old:1", &rec, &err), 0);
  char id[DIGEST_STR_LEN];
  assert_int_equal (store_build_cache_put (s, "k", rec->id, &err), 0);
  assert_int_equal (store_build_cache_get (s, "k", id, &err), 0);
  assert_string_equal (id, rec->id);
  image_rec_free (rec);
  int64_t entries, size, recl;
  assert_int_equal (store_build_cache_usage (s, &entries, &size, &recl, &err), 0);
  assert_int_equal (entries, 1);
  assert_int_equal (size, 0); /* tagged */
  store_close (s);
  /* Opening again is a no-op. */
  assert_int_equal (store_open (root, RUNROOT, &s, &err), 0);
  assert_int_equal (db_int ("SELECT COUNT(*) FROM build_cache"), 1);
  store_close (s);
}

int main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown (test_put_get_miss, setup, teardown),
    cmocka_unit_test_setup_teardown (test_commit_key_and_removal, setup, teardown),
    cmocka_unit_test_setup_teardown (test_parents_and_children, setup, teardown),
    cmocka_unit_test_setup_teardown (test_usage, setup, teardown),
    cmocka_unit_test_setup_teardown (test_prune, setup, teardown),
    cmocka_unit_test_setup_teardown (test_prune_until, setup, teardown),
    cmocka_unit_test_setup_teardown (test_migrate_v3, setup, teardown),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
