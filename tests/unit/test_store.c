/* Unit tests for src/store: commit, lookup, tags, removal, crash recovery. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store/store.h"
#include "util/fs.h"

static char *root;

static int setup (void **state)
{
  (void)state;
  char tmpl[] = "/tmp/berth-test-store-XXXXXX";
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

static bool exists (const char *rel)
{
  cleanup_free char *p = xasprintf ("%s/%s", root, rel);
  struct stat st;
  return lstat (p, &st) == 0;
}

/* Stage a fake layer (one file) and an image config referencing it; commit with tags. */
static void add_image (struct store *s, const char *content, const char *tag,
                       char id[DIGEST_STR_LEN], char diff_id[DIGEST_STR_LEN])
{
  berr_t err = BERR_INIT;
  cleanup_free char *dir = NULL, *blob = NULL, *cfgp = NULL;
  int bfd = -1, cfd = -1;
  assert_int_equal (store_stage_dir (s, "layer", &dir, &err), 0);
  cleanup_free char *f = xasprintf ("%s/file", dir);
  assert_int_equal (fs_write_atomic (f, content, strlen (content), 0644, &err), 0);
  assert_int_equal (store_stage_file (s, "blob", &blob, &bfd, &err), 0);
  assert_int_equal (write (bfd, content, strlen (content)), (ssize_t)strlen (content));
  close (bfd);
  sha256_digest (content, strlen (content), diff_id);
  cleanup_free char *cfg = xasprintf ("{\"created\":\"2024-01-02T03:04:05Z\",\"rootfs\":{\"type\":"
                                      "\"layers\",\"diff_ids\":[\"%s\"]}}",
                                      diff_id);
  sha256_digest (cfg, strlen (cfg), id);
  assert_int_equal (store_stage_file (s, "json", &cfgp, &cfd, &err), 0);
  assert_int_equal (write (cfd, cfg, strlen (cfg)), (ssize_t)strlen (cfg));
  close (cfd);
  struct ingest_layer l = { 0 };
  memcpy (l.diff_id, diff_id, DIGEST_STR_LEN);
  memcpy (l.blob, diff_id, DIGEST_STR_LEN);
  l.staged_dir = dir;
  l.staged_blob = blob;
  l.media_type = (char *)"application/vnd.oci.image.layer.v1.tar";
  l.tar_size = l.blob_size = l.size = (int64_t)strlen (content);
  char *diffs[] = { diff_id, NULL };
  char *tags[] = { (char *)tag, NULL };
  struct ingest_image im = { 0 };
  memcpy (im.id, id, DIGEST_STR_LEN);
  im.staged_config = cfgp;
  im.created = 1;
  im.diff_ids = diffs;
  im.tags = tag ? tags : NULL;
  assert_int_equal (store_commit (s, &l, 1, &im, 1, NULL, NULL, &err), 0);
}

static void test_commit_lookup_remove (void **state)
{
  (void)state;
  struct store *s = NULL;
  berr_t err = BERR_INIT;
  assert_int_equal (store_open (root, "/tmp/berth-test-runroot", &s, &err), 0);
  char id[DIGEST_STR_LEN], diff[DIGEST_STR_LEN];
  add_image (s, "layer-one", "docker.io/library/busybox:latest", id, diff);
  cleanup_free char *lrel = xasprintf ("layers/%s/diff/file", digest_hex (diff));
  assert_true (exists (lrel));
  struct image_rec *rec = NULL;
  /* by name, by full name, by ID, by sha256:ID, by prefix */
  const char *names[]
      = { "busybox", "busybox:latest", "docker.io/library/busybox:latest", id, id + 7, NULL };
  for (int i = 0; names[i]; i++)
    {
      assert_int_equal (store_image_lookup (s, names[i], &rec, &err), 0);
      assert_string_equal (rec->id, id);
      image_rec_free (rec);
    }
  char prefix[16];
  snprintf (prefix, sizeof prefix, "%.8s", id + 7);
  assert_int_equal (store_image_lookup (s, prefix, &rec, &err), 0);
  image_rec_free (rec);
  assert_int_equal (store_image_lookup (s, "nope", &rec, &err), -1);
  assert_int_equal (err.kind, BERR_NOT_FOUND);
  assert_string_equal (err.msg, "No such image: nope");
  berr_release (&err);
  /* a second tag: rmi by tag only untags */
  char old[DIGEST_STR_LEN];
  assert_int_equal (store_tag (s, id, "docker.io/library/other:v1", old, &err), 0);
  assert_string_equal (old, "");
  char **lines = NULL;
  assert_int_equal (store_image_remove (s, "other:v1", false, true, &lines, NULL, &err), 0);
  assert_string_equal (lines[0], "Untagged: other:v1");
  assert_null (lines[1]);
  strv_free (lines);
  lines = NULL;
  /* two tags, removal by ID without force is a conflict */
  assert_int_equal (store_tag (s, id, "docker.io/library/other:v2", old, &err), 0);
  assert_int_equal (store_image_remove (s, id + 7, false, true, &lines, NULL, &err), -1);
  assert_int_equal (err.kind, BERR_CONFLICT);
  berr_release (&err);
  assert_int_equal (store_image_remove (s, id + 7, true, true, &lines, NULL, &err), 0);
  assert_int_equal (strv_len (lines), 4); /* 2 untagged, image deleted, layer deleted */
  strv_free (lines);
  assert_false (exists (lrel));
  cleanup_free char *crel = xasprintf ("blobs/sha256/%s", digest_hex (id));
  assert_false (exists (crel));
  int64_t n = -1;
  assert_int_equal (store_count_images (s, &n, &err), 0);
  assert_int_equal (n, 0);
  store_close (s);
}

static void test_shared_layer_kept (void **state)
{
  (void)state;
  struct store *s = NULL;
  berr_t err = BERR_INIT;
  assert_int_equal (store_open (root, "/tmp/berth-test-runroot", &s, &err), 0);
  char id1[DIGEST_STR_LEN], id2[DIGEST_STR_LEN], d1[DIGEST_STR_LEN], d2[DIGEST_STR_LEN];
  add_image (s, "shared", "docker.io/library/a:1", id1, d1);
  /* same layer content, different tag -> same image id: just a second tag */
  add_image (s, "shared", "docker.io/library/b:1", id2, d2);
  assert_string_equal (id1, id2);
  char **lines = NULL;
  assert_int_equal (store_image_remove (s, "a:1", false, true, &lines, NULL, &err), 0);
  strv_free (lines);
  lines = NULL;
  cleanup_free char *lrel = xasprintf ("layers/%s", digest_hex (d1));
  assert_true (exists (lrel));
  assert_int_equal (store_image_remove (s, "b:1", false, true, &lines, NULL, &err), 0);
  strv_free (lines);
  assert_false (exists (lrel));
  store_close (s);
}

/* A dead process's staging area (no lock holder) and the path it renamed into place without
 * committing are removed by the next open; committed state is untouched. */
static void test_crash_recovery (void **state)
{
  (void)state;
  struct store *s = NULL;
  berr_t err = BERR_INIT;
  assert_int_equal (store_open (root, "/tmp/berth-test-runroot", &s, &err), 0);
  char id[DIGEST_STR_LEN], diff[DIGEST_STR_LEN];
  add_image (s, "kept", "docker.io/library/kept:1", id, diff);
  store_close (s);
  const char *orphan_hex = "1111111111111111111111111111111111111111111111111111111111111111";
  cleanup_free char *orphan = xasprintf ("%s/layers/%s/diff", root, orphan_hex);
  assert_int_equal (fs_mkdir_p (orphan, 0755, &err), 0);
  cleanup_free char *dead = xasprintf ("%s/tmp/deadbeef0001", root);
  assert_int_equal (mkdir (dead, 0700), 0);
  cleanup_free char *intents = xasprintf ("%s/intents", dead);
  cleanup_free char *lines
      = xasprintf ("layers/%s/diff\nlayers/%s/diff\n", orphan_hex, digest_hex (diff));
  assert_int_equal (fs_write_atomic (intents, lines, strlen (lines), 0600, &err), 0);
  cleanup_free char *lock = xasprintf ("%s/tmp/deadbeef0001.lock", root);
  int lfd = open (lock, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
  assert_true (lfd >= 0);
  close (lfd); /* nobody holds it: the owner is dead */
  /* things in tmp/ that are not staging areas are never touched */
  cleanup_free char *foreign_dir = xasprintf ("%s/tmp/precious-dir", root);
  cleanup_free char *foreign_file = xasprintf ("%s/tmp/notes.txt", root);
  assert_int_equal (mkdir (foreign_dir, 0700), 0);
  assert_int_equal (fs_write_atomic (foreign_file, "x", 1, 0600, &err), 0);
  assert_int_equal (store_open (root, "/tmp/berth-test-runroot", &s, &err), 0);
  struct stat st;
  assert_int_equal (stat (orphan, &st), -1);
  assert_int_equal (stat (dead, &st), -1);
  assert_int_equal (stat (lock, &st), -1);
  assert_int_equal (stat (foreign_dir, &st), 0);
  assert_int_equal (stat (foreign_file, &st), 0);
  cleanup_free char *kept = xasprintf ("%s/layers/%s/diff/file", root, digest_hex (diff));
  assert_int_equal (stat (kept, &st), 0);
  struct image_rec *rec = NULL;
  assert_int_equal (store_image_lookup (s, "kept:1", &rec, &err), 0);
  image_rec_free (rec);
  store_close (s);
}

static void test_bad_roots (void **state)
{
  (void)state;
  struct store *s = NULL;
  berr_t err = BERR_INIT;
  const char *bad[] = { "", "/", "//" };
  for (size_t i = 0; i < ARRAY_SIZE (bad); i++)
    {
      assert_int_equal (store_open (bad[i], "/tmp/berth-test-runroot", &s, &err), -1);
      assert_non_null (strstr (err.msg, "invalid root"));
      berr_release (&err);
    }
}

static struct container_rec *mkrec (const char *id, const char *name, int64_t created)
{
  struct container_rec *c = xzalloc (sizeof *c);
  c->id = xstrdup (id);
  c->name = xstrdup (name);
  c->image_id = xstrdup ("sha256:1111111111111111111111111111111111111111111111111111111111111111");
  c->created_ns = created;
  c->config = json_pack ("{s:{s:s}}", "Config", "Image", "busybox");
  c->state = json_pack ("{s:s, s:b}", "Status", "created", "Running", 0);
  return c;
}

static int set_running (json_t *state, void *arg, berr_t *err)
{
  (void)arg;
  (void)err;
  json_object_set_new (state, "Status", json_string ("running"));
  return 0;
}

static void test_containers (void **state)
{
  (void)state;
  struct store *s = NULL;
  berr_t err = BERR_INIT;
  assert_int_equal (store_open (root, "/tmp/berth-test-runroot", &s, &err), 0);
  const char *id1 = "aaaa111111111111111111111111111111111111111111111111111111111111";
  const char *id2 = "aaab222222222222222222222222222222222222222222222222222222222222";
  struct container_rec *a = mkrec (id1, "web", 1), *b = mkrec (id2, "db", 2);
  assert_int_equal (store_container_add (s, a, &err), 0);
  assert_int_equal (store_container_add (s, b, &err), 0);
  /* a taken name */
  struct container_rec *dup
      = mkrec ("bbbb333333333333333333333333333333333333333333333333333333333333", "web", 3);
  assert_int_equal (store_container_add (s, dup, &err), -1);
  assert_int_equal (err.kind, BERR_CONFLICT);
  assert_non_null (strstr (err.msg, "The container name \"/web\" is already in use by container "
                                    "\"aaaa1111"));
  berr_release (&err);
  container_rec_free (dup);
  /* lookups: id, name, /name, unique prefix, ambiguous prefix, missing */
  struct container_rec *got = NULL;
  assert_int_equal (store_container_lookup (s, "web", &got, &err), 0);
  assert_string_equal (got->id, id1);
  container_rec_free (got);
  assert_int_equal (store_container_lookup (s, "/db", &got, &err), 0);
  assert_string_equal (got->id, id2);
  container_rec_free (got);
  assert_int_equal (store_container_lookup (s, "aaab", &got, &err), 0);
  assert_string_equal (got->name, "db");
  container_rec_free (got);
  assert_int_equal (store_container_lookup (s, "aaa", &got, &err), -1);
  assert_non_null (strstr (err.msg, "multiple IDs found"));
  berr_release (&err);
  assert_int_equal (store_container_lookup (s, "nope", &got, &err), -1);
  assert_int_equal (err.kind, BERR_NOT_FOUND);
  assert_string_equal (err.msg, "No such container: nope");
  berr_release (&err);
  /* newest first */
  struct container_rec **all = NULL;
  size_t n = 0;
  assert_int_equal (store_container_list (s, &all, &n, &err), 0);
  assert_int_equal (n, 2);
  assert_string_equal (all[0]->name, "db");
  container_recs_free (all, n);
  /* update, rename, image users, delete */
  assert_int_equal (store_container_update (s, id1, set_running, NULL, &err), 0);
  assert_int_equal (store_container_lookup (s, id1, &got, &err), 0);
  assert_string_equal (json_string_value (json_object_get (got->state, "Status")), "running");
  container_rec_free (got);
  assert_int_equal (store_container_rename (s, id1, "db", &err), -1);
  berr_release (&err);
  assert_int_equal (store_container_rename (s, id1, "web2", &err), 0);
  char **ids = NULL;
  assert_int_equal (store_containers_using_image (s, a->image_id, &ids, &err), 0);
  assert_int_equal (strv_len (ids), 2);
  strv_free (ids);
  assert_int_equal (store_container_delete (s, id1, &err), 0);
  assert_int_equal (store_container_delete (s, id1, &err), -1);
  assert_int_equal (err.kind, BERR_NOT_FOUND);
  berr_release (&err);
  assert_int_equal (store_container_lookup (s, "web2", &got, &err), -1);
  berr_release (&err);
  container_rec_free (a);
  container_rec_free (b);
  store_close (s);
}

int main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown (test_commit_lookup_remove, setup, teardown),
    cmocka_unit_test_setup_teardown (test_shared_layer_kept, setup, teardown),
    cmocka_unit_test_setup_teardown (test_crash_recovery, setup, teardown),
    cmocka_unit_test (test_bad_roots),
    cmocka_unit_test_setup_teardown (test_containers, setup, teardown),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
