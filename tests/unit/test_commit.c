/* Unit tests for src/container/commit.c: diff kinds against layers with whiteouts and opaque
 * directories, the mount stubs (left out only while they are the runtime's empty objects, never
 * followed), and both ways of capturing the layer (copy and rename) giving the same diff_id.
 * Needs root (whiteouts are 0/0 character devices, opaque dirs trusted.* xattrs). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "container/commit.h"
#include "image/config.h"
#include "image/layer.h"
#include "util/fs.h"

static char *root;
static struct store *store;
static struct engine eng;

static int setup (void **state)
{
  (void)state;
  if (geteuid () != 0)
    return 0;
  char tmpl[] = "/tmp/berth-test-commit-XXXXXX";
  if (mkdtemp (tmpl) == NULL)
    return -1;
  root = xstrdup (tmpl);
  cleanup_free char *rr = xasprintf ("%s/run", root);
  berr_t err = BERR_INIT;
  if (store_open (root, rr, &store, &err) < 0)
    return -1;
  store_set_sync (store, false);
  eng = (struct engine){ .store = store, .root = root, .runroot = rr };
  return 0;
}

static int teardown (void **state)
{
  (void)state;
  if (root == NULL)
    return 0;
  store_close (store);
  berr_t err = BERR_INIT;
  fs_rm_rf (root, &err);
  berr_release (&err);
  free (root);
  root = NULL;
  return 0;
}

/* ---- building trees: "d path", "f path content", "e path" (empty file), "w path" (whiteout),
 * "o path" (opaque dir), "l path target" (symlink); every mtime then set to T0 ---- */

#define T0 1700000000

static void set_times (int dfd)
{
  cleanup_closedir DIR *d = fdopendir (openat (dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  assert_non_null (d);
  struct dirent *de;
  struct timespec ts[2] = { { .tv_sec = T0 }, { .tv_sec = T0 } };
  while ((de = readdir (d)))
    {
      if (strcmp (de->d_name, ".") == 0 || strcmp (de->d_name, "..") == 0)
        continue;
      if (de->d_type == DT_DIR)
        {
          int sub = openat (dfd, de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
          assert_true (sub >= 0);
          set_times (sub);
          close (sub);
        }
      assert_int_equal (utimensat (dfd, de->d_name, ts, AT_SYMLINK_NOFOLLOW), 0);
    }
}

static void build_tree (const char *dir, const char *const *spec)
{
  assert_int_equal (mkdir (dir, 0755) == 0 || errno == EEXIST, 1);
  for (size_t i = 0; spec[i]; i++)
    {
      char kind = spec[i][0];
      char path[512], arg[512] = "";
      assert_true (sscanf (spec[i] + 2, "%511s %511s", path, arg) >= 1);
      cleanup_free char *p = xasprintf ("%s/%s", dir, path);
      switch (kind)
        {
        case 'd':
        case 'o':
          assert_int_equal (mkdir (p, 0755), 0);
          if (kind == 'o')
            assert_int_equal (setxattr (p, "trusted.overlay.opaque", "y", 1, 0), 0);
          break;
        case 'f':
        case 'e':
          {
            berr_t err = BERR_INIT;
            assert_int_equal (fs_write_atomic (p, arg, strlen (arg), 0644, &err), 0);
            break;
          }
        case 'w':
          assert_int_equal (mknod (p, S_IFCHR | 0, makedev (0, 0)), 0);
          break;
        case 'l':
          assert_int_equal (symlink (arg, p), 0);
          break;
        default:
          fail ();
        }
    }
  int fd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  assert_true (fd >= 0);
  set_times (fd);
  close (fd);
}

static int write_nothing (void *cookie, const void *buf, size_t len)
{
  (void)cookie;
  (void)buf;
  (void)len;
  return 0;
}

static void dir_diff_id (const char *dir, char id[DIGEST_STR_LEN])
{
  int fd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    fail_msg ("open %s: %s", dir, strerror (errno));
  berr_t err = BERR_INIT;
  assert_int_equal (layer_diff (fd, write_nothing, NULL, id, NULL, &err), 0);
  close (fd);
}

/* An image of the given layers (bottom first), each a tree spec. */
static void make_image (const char *const *const *layers, size_t n, char id[DIGEST_STR_LEN])
{
  berr_t err = BERR_INIT;
  struct ingest_layer *ls = xcalloc (n, sizeof *ls);
  char **diff_ids = xcalloc (n + 1, sizeof (char *));
  json_t *ids = json_array ();
  for (size_t i = 0; i < n; i++)
    {
      char *dir = NULL;
      assert_int_equal (store_stage_dir (store, "layer", &dir, &err), 0);
      assert_int_equal (rmdir (dir), 0);
      build_tree (dir, layers[i]);
      dir_diff_id (dir, ls[i].diff_id);
      ls[i].staged_dir = dir;
      diff_ids[i] = ls[i].diff_id;
      json_array_append_new (ids, json_string (ls[i].diff_id));
    }
  json_t *cfg = json_pack ("{s:s, s:s, s:s, s:{s:[s]}, s:{s:s, s:o}}", "architecture", "amd64",
                           "os", "linux", "created", "2024-01-02T03:04:05Z", "config", "Cmd", "sh",
                           "rootfs", "type", "layers", "diff_ids", ids);
  cleanup_free char *staged = NULL;
  assert_int_equal (image_config_stage (store, cfg, &staged, id, &err), 0);
  struct ingest_image im = { 0 };
  memcpy (im.id, id, DIGEST_STR_LEN);
  im.staged_config = staged;
  im.created = image_config_created (cfg);
  im.diff_ids = diff_ids;
  assert_int_equal (store_commit (store, ls, n, &im, 1, NULL, NULL, &err), 0);
  for (size_t i = 0; i < n; i++)
    free (ls[i].staged_dir);
  free (ls);
  free (diff_ids);
  json_decref (cfg);
}

/* A stopped container of image id whose upper/ is the tree and whose runtime spec mounts
 * dests. */
static struct container_rec *make_container (const char *image_id, const char *hexchar,
                                             const char *const *upper, const char *const *dests)
{
  struct container_rec *c = xzalloc (sizeof *c);
  c->id = xzalloc (65);
  memset (c->id, hexchar[0], 64);
  c->name = xstrdup ("c");
  c->image_id = xstrdup (image_id);
  /* A build step's container: its non-engine mount targets are RUN --mount stubs (for a plain
   * container they would be changes, as volumes and binds are in Docker). */
  c->config
      = json_pack ("{s:{s:[s,s,s], s:{s:s}}}", "Config", "Cmd", "sh", "-c", "echo hi", "Labels",
                   "berth.build.run-mounts", "[\"/data/sub\",\"/tt\",\"/keep\",\"/outfile\"]");
  c->state = json_pack ("{s:b}", "Running", 0);
  cleanup_free char *dir = container_dir (&eng, c->id);
  berr_t err = BERR_INIT;
  assert_int_equal (fs_mkdir_p (dir, 0700, &err), 0);
  cleanup_free char *up = xasprintf ("%s/upper", dir);
  build_tree (up, upper);
  json_t *mounts = json_array ();
  for (size_t i = 0; dests[i]; i++)
    json_array_append_new (mounts,
                           json_pack ("{s:s, s:s}", "destination", dests[i], "type", "bind"));
  json_t *spec = json_pack ("{s:o}", "mounts", mounts);
  cleanup_free char *data = json_dumps (spec, JSON_COMPACT);
  json_decref (spec);
  cleanup_free char *cj = xasprintf ("%s/config.json", dir);
  assert_int_equal (fs_write_atomic (cj, data, strlen (data), 0644, &err), 0);
  return c;
}

static const char *const layer1[] = { "d etc",
                                      "f etc/passwd root",
                                      "f etc/group wheel",
                                      "f etc/hostname x",
                                      "d opt",
                                      "f opt/a old",
                                      "d var",
                                      "d var/lib",
                                      "f var/lib/x old",
                                      NULL };
static const char *const layer2[] = { "d opt", "w opt/a", "d var", "o var/lib", NULL };

static const char *const dests[]
    = { "/proc",    "/etc/hosts", "/etc/resolv.conf", "/etc/hostname", "/data/sub", "/tt", "/keep",
        "/outfile", NULL };

static char *outside; /* a host directory a symlink in upper/ points at */

static struct container_rec *evil_container (const char *image_id, const char *hexchar)
{
  cleanup_free char *tt = xasprintf ("l tt %s", outside);
  cleanup_free char *hosts = xasprintf ("l etc/hosts %s/victim", outside);
  const char *const upper[] = {
    "d etc",
    "f etc/passwd changed",
    "w etc/group",
    hosts,               /* a stub replaced by a symlink out: a change, never followed */
    "e etc/resolv.conf", /* a stub */
    "e etc/hostname",    /* empty, but the image has it: a change */
    "d opt",
    "f opt/a new", /* whited out below: added */
    "d var",
    "d var/lib",
    "f var/lib/x new", /* the opaque dir below hides the old one: added */
    "d data",          /* only holds a stub: not a change */
    "d data/sub",
    tt,       /* a stub dir replaced by a symlink out */
    "d keep", /* a mount target something was put in */
    "f keep/f data",
    "e outfile", /* never mind the name: an empty stub file */
    NULL,
  };
  return make_container (image_id, hexchar, upper, dests);
}

static void setup_outside (void)
{
  outside = xasprintf ("%s/outside", root);
  assert_int_equal (mkdir (outside, 0755), 0);
  cleanup_free char *v = xasprintf ("%s/victim", outside);
  berr_t err = BERR_INIT;
  assert_int_equal (fs_write_atomic (v, "secret", 6, 0644, &err), 0);
}

static void check_outside (void)
{
  cleanup_free char *v = xasprintf ("%s/victim", outside);
  cleanup_free char *data = NULL;
  size_t len = 0;
  berr_t err = BERR_INIT;
  assert_int_equal (fs_read_file (v, 100, &data, &len, &err), 0);
  assert_int_equal (len, 6);
  struct stat st;
  assert_int_equal (stat (outside, &st), 0);
}

static void test_diff (void **state)
{
  (void)state;
  if (root == NULL)
    skip ();
  setup_outside ();
  const char *const *layers[] = { layer1, layer2 };
  char img[DIGEST_STR_LEN];
  make_image (layers, 2, img);
  struct container_rec *c = evil_container (img, "a");
  struct container_change *v = NULL;
  size_t n = 0;
  berr_t err = BERR_INIT;
  assert_int_equal (container_diff (&eng, c, &v, &n, &err), 0);
  struct sbuf b;
  sbuf_init (&b);
  for (size_t i = 0; i < n; i++)
    sbuf_addf (&b, "%c %s\n", v[i].kind, v[i].path);
  cleanup_free char *got = sbuf_detach (&b);
  assert_string_equal (got, "C /etc\n"
                            "D /etc/group\n"
                            "C /etc/hostname\n"
                            "A /etc/hosts\n"
                            "C /etc/passwd\n"
                            "A /keep\n"
                            "A /keep/f\n"
                            "C /opt\n"
                            "A /opt/a\n"
                            "A /tt\n"
                            "C /var\n"
                            "C /var/lib\n"
                            "A /var/lib/x\n");
  container_changes_free (v, n);
  check_outside ();
  container_rec_free (c);
  free (outside);
}

/* Both ways of capturing give the same layer; the rename leaves the symlinks in place and
 * removes only the stubs. */
static void test_capture (void **state)
{
  (void)state;
  if (root == NULL)
    skip ();
  setup_outside ();
  const char *const *layers[] = { layer1, layer2 };
  char img[DIGEST_STR_LEN];
  make_image (layers, 2, img);
  struct container_rec *a = evil_container (img, "b");
  struct container_rec *b = evil_container (img, "c");
  berr_t err = BERR_INIT;
  struct ingest_layer copy, moved;
  assert_int_equal (container_capture_layer (&eng, a, false, -1, &copy, &err), 0);
  assert_int_equal (container_capture_layer (&eng, b, true, -1, &moved, &err), 0);
  assert_string_equal (copy.diff_id, moved.diff_id);
  assert_int_equal (copy.tar_size, moved.tar_size);
  /* passwd "changed" + opt/a "new" + var/lib/x "new" + keep/f "data" */
  assert_int_equal (copy.size, 7 + 3 + 3 + 4);
  assert_int_equal (moved.size, copy.size);
  char again[DIGEST_STR_LEN];
  dir_diff_id (moved.staged_dir, again);
  assert_string_equal (again, moved.diff_id);
  dir_diff_id (copy.staged_dir, again);
  assert_string_equal (again, copy.diff_id);

  /* The copy left a's upper/ alone; the rename took b's. */
  cleanup_free char *adir = container_dir (&eng, a->id);
  cleanup_free char *bdir = container_dir (&eng, b->id);
  cleanup_free char *astub = xasprintf ("%s/upper/etc/resolv.conf", adir);
  cleanup_free char *bup = xasprintf ("%s/upper", bdir);
  struct stat st;
  assert_int_equal (lstat (astub, &st), 0);
  assert_int_equal (lstat (bup, &st), -1);
  const char *gone[] = { "etc/resolv.conf", "data", "outfile" };
  const char *kept[] = { "etc/hosts", "tt", "keep/f", "etc/hostname", "etc/group" };
  for (size_t i = 0; i < 3; i++)
    {
      cleanup_free char *p = xasprintf ("%s/%s", moved.staged_dir, gone[i]);
      assert_int_equal (lstat (p, &st), -1);
    }
  for (size_t i = 0; i < 5; i++)
    {
      cleanup_free char *p = xasprintf ("%s/%s", moved.staged_dir, kept[i]);
      assert_int_equal (lstat (p, &st), 0);
      cleanup_free char *q = xasprintf ("%s/%s", copy.staged_dir, kept[i]);
      assert_int_equal (lstat (q, &st), 0);
    }
  cleanup_free char *tt = xasprintf ("%s/tt", moved.staged_dir);
  assert_int_equal (lstat (tt, &st), 0);
  assert_true (S_ISLNK (st.st_mode));
  check_outside ();

  /* The layer commits; releasing after that leaves nothing staged behind. */
  char did[DIGEST_STR_LEN];
  memcpy (did, moved.diff_id, DIGEST_STR_LEN);
  assert_int_equal (store_commit (store, &moved, 1, NULL, 0, NULL, NULL, &err), 0);
  cleanup_free char *staged = xstrdup (moved.staged_dir);
  cleanup_free char *cstaged = xstrdup (copy.staged_dir);
  ingest_layer_release (&moved);
  ingest_layer_release (&copy);
  assert_int_equal (lstat (staged, &st), -1);
  assert_int_equal (lstat (cstaged, &st), -1); /* not committed: removed */
  cleanup_free char *ldir = store_layer_dir (store, did);
  dir_diff_id (ldir, again);
  assert_string_equal (again, did);

  /* The rename is refused while the container runs. */
  json_object_set_new (a->state, "Running", json_true ());
  assert_int_equal (container_capture_layer (&eng, a, true, -1, &copy, &err), -1);
  assert_int_equal (err.kind, BERR_CONFLICT);
  berr_release (&err);
  container_rec_free (a);
  container_rec_free (b);
  free (outside);
}

/* SOURCE_DATE_EPOCH: nothing newer than the clamp, older mtimes untouched. */
static void test_clamp (void **state)
{
  (void)state;
  if (root == NULL)
    skip ();
  const char *const *layers[] = { layer1 };
  char img[DIGEST_STR_LEN];
  make_image (layers, 1, img);
  const char *const upper[] = { "d etc", "f etc/new x", "d tmp", NULL };
  const char *const none[] = { NULL };
  struct container_rec *c = make_container (img, "d", upper, none);
  cleanup_free char *dir = container_dir (&eng, c->id);
  cleanup_free char *tmp = xasprintf ("%s/upper/tmp", dir);
  struct timespec old[2] = { { .tv_sec = 1000 }, { .tv_sec = 1000 } };
  assert_int_equal (utimensat (AT_FDCWD, tmp, old, 0), 0);
  berr_t err = BERR_INIT;
  struct ingest_layer l;
  assert_int_equal (container_capture_layer (&eng, c, true, 5000, &l, &err), 0);
  struct stat st;
  cleanup_free char *f = xasprintf ("%s/etc/new", l.staged_dir);
  assert_int_equal (lstat (f, &st), 0);
  assert_int_equal (st.st_mtim.tv_sec, 5000);
  cleanup_free char *t = xasprintf ("%s/tmp", l.staged_dir);
  assert_int_equal (lstat (t, &st), 0);
  assert_int_equal (st.st_mtim.tv_sec, 1000);
  ingest_layer_release (&l);
  container_rec_free (c);
}

int main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown (test_diff, setup, teardown),
    cmocka_unit_test_setup_teardown (test_capture, setup, teardown),
    cmocka_unit_test_setup_teardown (test_clamp, setup, teardown),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
