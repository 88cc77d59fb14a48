/* test_pull.c — image_pull against Debian's docker-registry on 127.0.0.1: a plain pull and the
 * re-pull that is up to date, an index with two platforms, pull by digest, --all-tags, and the
 * verification failures B1 (blob bytes changed on the registry's disk) and B2 (diff_ids that do
 * not match), after which nothing is tagged and the layers that did verify stay usable. Also
 * pull_progress_line's texts. Skipped when docker-registry is not installed. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "image/config.h"
#include "registry/manifest.h"
#include "registry/pull.h"
#include "util/fs.h"
#include "util/json.h"
#include "util/util.h"

static char tmpdir[] = "/tmp/berth-pulltest-XXXXXX";
static pid_t reg_pid = -1;
static char domain[64];
static struct reg_config cfg;
static struct reg_session *sess;

/* ---- building images in memory ---- */

struct blob
{
  unsigned char *data;
  size_t len;
  char digest[DIGEST_STR_LEN];
};

static void blob_free (struct blob *b) { free (b->data); }

/* A gzip'ed tar of one file; diff_id receives the sha256 of the tar. */
static void make_layer (const char *name, const char *content, struct blob *out,
                        char diff_id[DIGEST_STR_LEN])
{
  size_t cap = 1 << 20, used = 0;
  unsigned char *tar = xmalloc (cap);
  struct archive *a = archive_write_new ();
  archive_write_set_format_pax_restricted (a);
  assert_int_equal (archive_write_open_memory (a, tar, cap, &used), ARCHIVE_OK);
  struct archive_entry *e = archive_entry_new ();
  archive_entry_set_pathname (e, name);
  archive_entry_set_filetype (e, AE_IFREG);
  archive_entry_set_perm (e, 0644);
  archive_entry_set_size (e, (la_int64_t)strlen (content));
  archive_write_header (a, e);
  archive_write_data (a, content, strlen (content));
  archive_entry_free (e);
  archive_write_close (a);
  archive_write_free (a);
  sha256_digest (tar, used, diff_id);

  size_t gcap = used + 1024, gused = 0;
  unsigned char *gz = xmalloc (gcap);
  a = archive_write_new ();
  archive_write_set_format_raw (a);
  archive_write_add_filter_gzip (a);
  assert_int_equal (archive_write_open_memory (a, gz, gcap, &gused), ARCHIVE_OK);
  e = archive_entry_new ();
  archive_entry_set_filetype (e, AE_IFREG);
  archive_write_header (a, e);
  archive_write_data (a, tar, used);
  archive_entry_free (e);
  archive_write_close (a);
  archive_write_free (a);
  free (tar);
  out->data = gz;
  out->len = gused;
  sha256_digest (gz, gused, out->digest);
}

struct memsrc
{
  const unsigned char *data;
  size_t len, pos;
};

static ssize_t mem_read (void *c, void *buf, size_t len)
{
  struct memsrc *m = c;
  size_t n = m->len - m->pos < len ? m->len - m->pos : len;
  memcpy (buf, m->data + m->pos, n);
  m->pos += n;
  return (ssize_t)n;
}

static int mem_rewind (void *c)
{
  ((struct memsrc *)c)->pos = 0;
  return 0;
}

static void push_blob (const char *repo, const struct blob *b)
{
  struct memsrc m = { b->data, b->len, 0 };
  struct reg_upload up = { b->digest, (int64_t)b->len, mem_read, mem_rewind, &m, 0, NULL, NULL };
  berr_t err = BERR_INIT;
  if (reg_blob_upload (sess, repo, &up, &err) < 0)
    fail_msg ("upload: %s", err.msg);
}

static void blob_of_string (const char *s, struct blob *b)
{
  b->len = strlen (s);
  b->data = (unsigned char *)xstrdup (s);
  sha256_digest (b->data, b->len, b->digest);
}

/* Push an image of two layers to repo:tag; arch names the config's platform; bad_diff makes the
 * second diff_id wrong (B2). config_digest/manifest digest returned. */
static void push_image (const char *repo, const char *tag, const char *arch, const char *salt,
                        bool bad_diff, char cfg_digest[DIGEST_STR_LEN], struct blob *man_out,
                        char layer_digests[2][DIGEST_STR_LEN])
{
  struct blob l[2], c;
  char diff[2][DIGEST_STR_LEN];
  cleanup_free char *c1 = xasprintf ("one %s\n", salt);
  cleanup_free char *c2 = xasprintf ("two %s\n", salt);
  make_layer ("one.txt", c1, &l[0], diff[0]);
  make_layer ("two.txt", c2, &l[1], diff[1]);
  if (bad_diff)
    snprintf (diff[1], sizeof diff[1], "sha256:%064d", 0);
  for (int i = 0; i < 2; i++)
    {
      push_blob (repo, &l[i]);
      if (layer_digests)
        memcpy (layer_digests[i], l[i].digest, DIGEST_STR_LEN);
    }
  cleanup_free char *cj
      = xasprintf ("{\"architecture\":\"%s\",\"os\":\"linux\",\"rootfs\":{\"type\":"
                   "\"layers\",\"diff_ids\":[\"%s\",\"%s\"]}}",
                   arch, diff[0], diff[1]);
  blob_of_string (cj, &c);
  push_blob (repo, &c);
  cleanup_free char *mj = xasprintf (
      "{\"schemaVersion\":2,\"mediaType\":\"" MT_DOCKER_MANIFEST
      "\",\"config\":{\"mediaType\":\"" MT_DOCKER_CONFIG
      "\",\"size\":%zu,\"digest\":\"%s\"},\"layers\":[{\"mediaType\":\"" MT_DOCKER_LAYER_GZIP
      "\",\"size\":%zu,\"digest\":\"%s\"},{\"mediaType\":\"" MT_DOCKER_LAYER_GZIP
      "\",\"size\":%zu,\"digest\":\"%s\"}]}",
      c.len, c.digest, l[0].len, l[0].digest, l[1].len, l[1].digest);
  struct blob m;
  blob_of_string (mj, &m);
  berr_t err = BERR_INIT;
  if (tag && reg_manifest_put (sess, repo, tag, MT_DOCKER_MANIFEST, mj, strlen (mj), &err) < 0)
    fail_msg ("manifest put: %s", err.msg);
  if (!tag
      && reg_manifest_put (sess, repo, m.digest, MT_DOCKER_MANIFEST, mj, strlen (mj), &err) < 0)
    fail_msg ("manifest put: %s", err.msg);
  memcpy (cfg_digest, c.digest, DIGEST_STR_LEN);
  if (man_out)
    *man_out = m;
  else
    blob_free (&m);
  blob_free (&c);
  blob_free (&l[0]);
  blob_free (&l[1]);
}

/* ---- registry and store ---- */

static int setup (void **state)
{
  (void)state;
  if (access ("/usr/bin/docker-registry", X_OK) != 0)
    return 0;
  assert_non_null (mkdtemp (tmpdir));
  int sock = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl (0x7f000001) };
  bind (sock, (struct sockaddr *)&sa, sizeof sa);
  socklen_t sl = sizeof sa;
  getsockname (sock, (struct sockaddr *)&sa, &sl);
  int port = ntohs (sa.sin_port);
  close (sock);
  cleanup_free char *cfgp = xasprintf ("%s/config.yml", tmpdir);
  cleanup_free char *yml = xasprintf ("version: 0.1\nlog: {level: error}\nstorage: {filesystem: "
                                      "{rootdirectory: %s/data}, delete: {enabled: true}}\n"
                                      "http: {addr: 127.0.0.1:%d}\n",
                                      tmpdir, port);
  berr_t err = BERR_INIT;
  assert_int_equal (fs_write_atomic (cfgp, yml, strlen (yml), 0600, &err), 0);
  reg_pid = fork ();
  if (reg_pid == 0)
    {
      int devnull = open ("/dev/null", O_WRONLY);
      dup2 (devnull, 1);
      dup2 (devnull, 2);
      execl ("/usr/bin/docker-registry", "docker-registry", "serve", cfgp, (char *)NULL);
      _exit (127);
    }
  snprintf (domain, sizeof domain, "127.0.0.1:%d", port);
  assert_int_equal (reg_config_load (NULL, &cfg, &err), 0);
  assert_int_equal (reg_session_open (&cfg, domain, &sess, &err), 0);
  int rc = -1;
  for (int i = 0; i < 100 && rc < 0; i++)
    {
      rc = reg_ping (sess, NULL, &err);
      if (rc < 0)
        {
          berr_release (&err);
          usleep (50000);
        }
    }
  assert_int_equal (rc, 0);
  return 0;
}

static int teardown (void **state)
{
  (void)state;
  if (reg_pid > 0)
    {
      kill (reg_pid, SIGTERM);
      waitpid (reg_pid, NULL, 0);
      reg_session_free (sess);
      reg_config_release (&cfg);
      berr_t err = BERR_INIT;
      fs_rm_rf (tmpdir, &err);
      berr_release (&err);
    }
  return 0;
}

static struct store *open_store (const char *name)
{
  cleanup_free char *root = xasprintf ("%s/%s/root", tmpdir, name);
  cleanup_free char *run = xasprintf ("%s/%s/run", tmpdir, name);
  struct store *s;
  berr_t err = BERR_INIT;
  if (store_open (root, run, &s, &err) < 0)
    fail_msg ("store_open: %s", err.msg);
  store_set_sync (s, false);
  return s;
}

struct events
{
  int complete, exists, downloading, messages;
  char last_message[200];
};

static void on_event (void *cookie, const struct reg_progress *p)
{
  struct events *ev = cookie;
  if (p->state == RP_PULL_COMPLETE)
    ev->complete++;
  else if (p->state == RP_ALREADY_EXISTS)
    ev->exists++;
  else if (p->state == RP_DOWNLOADING)
    ev->downloading++;
  else if (p->state == RP_MESSAGE)
    {
      ev->messages++;
      snprintf (ev->last_message, sizeof ev->last_message, "%s", p->message);
    }
}

#define NEED_REGISTRY()                                                                            \
  do                                                                                               \
    {                                                                                              \
      if (reg_pid <= 0)                                                                            \
        skip ();                                                                                   \
    }                                                                                              \
  while (0)

static void test_pull_and_repull (void **state)
{
  (void)state;
  NEED_REGISTRY ();
  char cfgd[DIGEST_STR_LEN], layers[2][DIGEST_STR_LEN];
  struct blob man;
  push_image ("t/basic", "v1", image_host_arch (), "basic", false, cfgd, &man, layers);
  struct store *s = open_store ("basic");
  struct events ev = { 0 };
  struct pull_opts o = { .cfg = &cfg, .progress = on_event, .cookie = &ev };
  struct pull_result res;
  berr_t err = BERR_INIT;
  cleanup_free char *ref = xasprintf ("%s/t/basic:v1", domain);
  if (image_pull (s, ref, &o, &res, &err) < 0)
    fail_msg ("pull: %s", err.msg);
  assert_string_equal (res.id, cfgd);
  assert_string_equal (res.digest, man.digest);
  assert_string_equal (res.name, ref);
  assert_false (res.up_to_date);
  assert_int_equal (ev.complete, 2);
  assert_int_equal (ev.exists, 0);
  cleanup_free char *first = xasprintf ("v1: Pulling from t/basic");
  assert_int_equal (ev.messages, 1);
  assert_string_equal (ev.last_message, first);

  struct image_rec *rec;
  assert_int_equal (store_image_lookup (s, ref, &rec, &err), 0);
  cleanup_free char *rd = xasprintf ("%s/t/basic@%s", domain, man.digest);
  assert_true (strv_contains (rec->digests, rd));
  /* The layer is unpacked and its compressed blob kept under its digest. */
  cleanup_free char *ldir = store_layer_dir (s, rec->diff_ids[1]);
  cleanup_free char *f = xasprintf ("%s/two.txt", ldir);
  cleanup_free char *content = NULL;
  size_t len;
  assert_int_equal (fs_read_file (f, 1024, &content, &len, &err), 0);
  assert_memory_equal (content, "two basic\n", len);
  assert_true (store_blob_exists (s, layers[1]));
  struct blob_map_row *rows;
  size_t nrows;
  assert_int_equal (store_blob_map_list (s, rec->diff_ids[0], &rows, &nrows, &err), 0);
  assert_int_equal (nrows, 1);
  cleanup_free char *src = xasprintf ("%s/t/basic", domain);
  assert_true (strv_contains (rows[0].sources, src));
  blob_map_rows_free (rows, nrows);
  image_rec_free (rec);
  pull_result_release (&res);

  /* Again: one HEAD, nothing downloaded. */
  memset (&ev, 0, sizeof ev);
  assert_int_equal (image_pull (s, ref, &o, &res, &err), 0);
  assert_true (res.up_to_date);
  assert_string_equal (res.digest, man.digest);
  assert_int_equal (ev.complete + ev.exists + ev.downloading, 0);
  pull_result_release (&res);

  /* By digest: present, so up to date without a request. */
  assert_int_equal (image_pull (s, rd, &o, &res, &err), 0);
  assert_true (res.up_to_date);
  pull_result_release (&res);
  blob_free (&man);
  store_close (s);
}

static void test_index_platforms (void **state)
{
  (void)state;
  NEED_REGISTRY ();
  char c_amd[DIGEST_STR_LEN], c_arm[DIGEST_STR_LEN];
  struct blob m_amd, m_arm;
  push_image ("t/multi", NULL, "amd64", "multi", false, c_amd, &m_amd, NULL);
  push_image ("t/multi", NULL, "arm64", "multi", false, c_arm, &m_arm, NULL);
  cleanup_free char *ij
      = xasprintf ("{\"schemaVersion\":2,\"mediaType\":\"" MT_OCI_INDEX "\",\"manifests\":["
                   "{\"mediaType\":\"" MT_DOCKER_MANIFEST
                   "\",\"size\":%zu,\"digest\":\"%s\",\"platform\":{\"os\":"
                   "\"linux\",\"architecture\":\"amd64\"}},"
                   "{\"mediaType\":\"" MT_DOCKER_MANIFEST
                   "\",\"size\":%zu,\"digest\":\"%s\",\"platform\":{\"os\":"
                   "\"linux\",\"architecture\":\"arm64\",\"variant\":\"v8\"}}]}",
                   m_amd.len, m_amd.digest, m_arm.len, m_arm.digest);
  berr_t err = BERR_INIT;
  assert_int_equal (
      reg_manifest_put (sess, "t/multi", "latest", MT_OCI_INDEX, ij, strlen (ij), &err), 0);
  char idx_digest[DIGEST_STR_LEN];
  sha256_digest (ij, strlen (ij), idx_digest);

  struct store *s = open_store ("multi");
  struct events ev = { 0 };
  struct pull_opts o
      = { .cfg = &cfg, .platform = "linux/arm64", .progress = on_event, .cookie = &ev };
  struct pull_result res;
  cleanup_free char *ref = xasprintf ("%s/t/multi", domain);
  if (image_pull (s, ref, &o, &res, &err) < 0)
    fail_msg ("pull: %s", err.msg);
  assert_string_equal (res.id, c_arm);
  assert_string_equal (res.digest, idx_digest); /* what the tag names */
  pull_result_release (&res);
  /* The two platforms share their layers: the other one finds them stored. */
  o.platform = "linux/amd64";
  memset (&ev, 0, sizeof ev);
  assert_int_equal (image_pull (s, ref, &o, &res, &err), 0);
  assert_string_equal (res.id, c_amd);
  assert_false (res.up_to_date);
  assert_int_equal (ev.exists, 2);
  assert_int_equal (ev.complete, 0);
  pull_result_release (&res);
  o.platform = "linux/s390x";
  assert_int_equal (image_pull (s, ref, &o, &res, &err), -1);
  assert_string_equal (err.msg,
                       "no matching manifest for linux/s390x in the manifest list entries");
  berr_release (&err);

  /* --all-tags */
  assert_int_equal (reg_manifest_put (sess, "t/multi", "arm", MT_DOCKER_MANIFEST,
                                      (const char *)m_arm.data, m_arm.len, &err),
                    0);
  struct pull_result *all;
  size_t n;
  o.platform = NULL;
  memset (&ev, 0, sizeof ev);
  assert_int_equal (image_pull_all_tags (s, ref, &o, &all, &n, &err), 0);
  assert_int_equal (n, 2);
  cleanup_free char *dline = xasprintf ("Digest: %s", all[n - 1].digest);
  assert_string_equal (ev.last_message, dline);
  for (size_t i = 0; i < n; i++)
    pull_result_release (&all[i]);
  free (all);
  cleanup_free char *tagged = xasprintf ("%s/t/multi:latest", domain);
  assert_int_equal (image_pull_all_tags (s, tagged, &o, &all, &n, &err), -1);
  berr_release (&err);
  blob_free (&m_amd);
  blob_free (&m_arm);
  store_close (s);
}

static void test_verification_failures (void **state)
{
  (void)state;
  NEED_REGISTRY ();
  char cfgd[DIGEST_STR_LEN], layers[2][DIGEST_STR_LEN];
  struct store *s = open_store ("faults");
  struct pull_opts o = { .cfg = &cfg };
  struct pull_result res;
  berr_t err = BERR_INIT;

  /* B2: the second layer's diff_id is not what the config says. */
  push_image ("t/b2", "x", image_host_arch (), "b2", true, cfgd, NULL, layers);
  cleanup_free char *ref = xasprintf ("%s/t/b2:x", domain);
  assert_int_equal (image_pull (s, ref, &o, &res, &err), -1);
  assert_non_null (strstr (err.msg, "layers from manifest don't match image configuration"));
  berr_release (&err);
  struct image_rec *rec = NULL;
  assert_int_equal (store_image_lookup (s, ref, &rec, &err), -1);
  berr_release (&err);
  /* The first layer verified and stays, usable by the next pull; the second is not stored. */
  struct layer_info li;
  assert_int_equal (store_layer_by_blob (s, layers[0], &li, &err), 0);
  layer_info_release (&li);
  assert_int_equal (store_layer_by_blob (s, layers[1], &li, &err), 1);

  /* B1: a blob's bytes changed on the registry's disk (same size). */
  char cfg2[DIGEST_STR_LEN], l2[2][DIGEST_STR_LEN];
  push_image ("t/b1", "x", image_host_arch (), "b1", false, cfg2, NULL, l2);
  cleanup_free char *path = xasprintf ("%s/data/docker/registry/v2/blobs/sha256/%.2s/%s/data",
                                       tmpdir, digest_hex (l2[1]), digest_hex (l2[1]));
  cleanup_free char *data = NULL;
  size_t len;
  assert_int_equal (fs_read_file (path, 1 << 20, &data, &len, &err), 0);
  data[len - 10] ^= 0x55; /* inside the gzip trailer's CRC/size: still a gzip stream to read */
  assert_int_equal (fs_write_atomic (path, data, len, 0644, &err), 0);
  cleanup_free char *ref1 = xasprintf ("%s/t/b1:x", domain);
  assert_int_equal (image_pull (s, ref1, &o, &res, &err), -1);
  cleanup_free char *want = xasprintf ("verification failed for digest %s", l2[1]);
  printf ("# B1: %s\n", err.msg);
  if (strstr (err.msg, want) == NULL)
    fail_msg ("not B1's message: %s", err.msg);
  berr_release (&err);
  assert_int_equal (store_image_lookup (s, ref1, &rec, &err), -1);
  berr_release (&err);
  assert_int_equal (store_layer_by_blob (s, l2[1], &li, &err), 1);

  /* Not there at all: Docker's words. */
  cleanup_free char *nope = xasprintf ("%s/t/nope", domain);
  assert_int_equal (image_pull (s, nope, &o, &res, &err), -1);
  cleanup_free char *nf = xasprintf ("manifest for %s/t/nope:latest not found", domain);
  assert_non_null (strstr (err.msg, nf));
  berr_release (&err);
  store_close (s);
}

static void test_progress_lines (void **state)
{
  (void)state;
  struct reg_progress p = { "abcdefabcdef", RP_PULL_COMPLETE, 0, 0, NULL };
  char *l = pull_progress_line (&p);
  assert_string_equal (l, "abcdefabcdef: Pull complete");
  free (l);
  p.state = RP_DOWNLOADING;
  p.current = 5;
  p.total = 10;
  assert_null (pull_progress_line (&p));
  p.state = RP_MOUNTED;
  p.message = "library/busybox";
  l = pull_progress_line (&p);
  assert_string_equal (l, "abcdefabcdef: Mounted from library/busybox");
  free (l);
  struct reg_progress m = { NULL, RP_MESSAGE, 0, 0, "latest: Pulling from library/busybox" };
  l = pull_progress_line (&m);
  assert_string_equal (l, "latest: Pulling from library/busybox");
  free (l);
}

int main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_progress_lines),
    cmocka_unit_test (test_pull_and_repull),
    cmocka_unit_test (test_index_platforms),
    cmocka_unit_test (test_verification_failures),
  };
  return cmocka_run_group_tests (tests, setup, teardown);
}
