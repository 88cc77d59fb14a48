/* test_creds.c — Docker's config.json credentials: auths, credHelpers/credsStore through a fake
 * docker-credential-test helper, Docker Hub key spellings, and keys berth must keep. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "registry/creds.h"
#include "util/fs.h"
#include "util/json.h"

static char dir[] = "/tmp/berth-credtest-XXXXXX";

static void write_file (const char *name, const char *content, mode_t mode)
{
  cleanup_free char *p = xasprintf ("%s/%s", dir, name);
  berr_t err = BERR_INIT;
  assert_int_equal (fs_write_atomic (p, content, strlen (content), mode, &err), 0);
}

static json_t *read_config (void)
{
  cleanup_free char *p = xasprintf ("%s/config.json", dir);
  char *data;
  size_t len;
  berr_t err = BERR_INIT;
  assert_int_equal (fs_read_file (p, 1 << 20, &data, &len, &err), 0);
  json_t *j = json_parse_buf (data, len, "config", &err);
  free (data);
  assert_non_null (j);
  return j;
}

static int setup (void **state arg_unused)
{
  if (mkdtemp (dir) == NULL)
    return -1;
  /* the fake helper keeps one secret per server in $dir/store/<sanitised key> */
  cleanup_free char *bin = xasprintf ("%s/bin", dir);
  mkdir (bin, 0700);
  cleanup_free char *script = xasprintf (
      "#!/bin/sh\n"
      "store=%s/store; mkdir -p \"$store\"\n"
      "case \"$1\" in\n"
      "store) in=$(cat); key=$(printf '%%s' \"$in\" | sed "
      "'s/.*\"ServerURL\":\"\\([^\"]*\\)\".*/\\1/' "
      "| tr -c 'a-zA-Z0-9\\n' _); printf '%%s' \"$in\" > \"$store/$key\"; "
      "echo \"$1\" >> %s/calls;;\n"
      "get) key=$(cat | tr -c 'a-zA-Z0-9\\n' _); echo \"$1\" >> %s/calls; "
      "if [ -f \"$store/$key\" ]; then cat \"$store/$key\"; else echo 'credentials not found in "
      "native keychain'; exit 1; fi;;\n"
      "erase) key=$(cat | tr -c 'a-zA-Z0-9\\n' _); echo \"$1\" >> %s/calls; "
      "if [ -f \"$store/$key\" ]; then rm \"$store/$key\"; else echo 'credentials not found in "
      "native keychain'; exit 1; fi;;\n"
      "*) echo unknown; exit 2;;\n"
      "esac\n",
      dir, dir, dir, dir);
  write_file ("bin/docker-credential-test", script, 0755);
  write_file ("bin/docker-credential-broken", "#!/bin/sh\necho 'keychain locked'\nexit 3\n", 0755);
  cleanup_free char *path = xasprintf ("%s:%s", bin, getenv ("PATH") ? getenv ("PATH") : "/bin");
  setenv ("PATH", path, 1);
  return 0;
}

static int teardown (void **state arg_unused)
{
  berr_t err = BERR_INIT;
  fs_rm_rf (dir, &err);
  berr_release (&err);
  return 0;
}

static void test_default_dir (void **state arg_unused)
{
  setenv ("DOCKER_CONFIG", "/x/y", 1);
  cleanup_free char *a = creds_default_dir ();
  assert_string_equal (a, "/x/y");
  unsetenv ("DOCKER_CONFIG");
  setenv ("HOME", "/home/u", 1);
  cleanup_free char *b = creds_default_dir ();
  assert_string_equal (b, "/home/u/.docker");
}

static void test_auths (void **state arg_unused)
{
  berr_t err = BERR_INIT;
  struct creds c;
  {
    cleanup_free char *p = xasprintf ("%s/config.json", dir);
    unlink (p);
  }
  assert_int_equal (creds_get (dir, "localhost:5000", &c, &err), 1);
  write_file ("config.json",
              "{\"psFormat\": \"table {{.ID}}\", \"auths\": {\"other:1\": {\"auth\": "
              "\"YTpi\"}}, \"HttpHeaders\": {\"X\": \"y\"}}",
              0644);
  struct creds in = { "alice", "s3cr:et", NULL };
  char *where = NULL;
  assert_int_equal (creds_store (dir, "localhost:5000", &in, &where, &err), 0);
  cleanup_free char *cfgpath = xasprintf ("%s/config.json", dir);
  assert_string_equal (where, cfgpath);
  free (where);
  struct stat st;
  assert_int_equal (stat (cfgpath, &st), 0);
  assert_int_equal (st.st_mode & 0777, 0600);
  json_t *j = read_config ();
  assert_string_equal (json_get_str (j, "psFormat"), "table {{.ID}}");
  assert_non_null (json_object_get (j, "HttpHeaders"));
  json_t *auths = json_object_get (j, "auths");
  assert_string_equal (json_get_str (json_object_get (auths, "other:1"), "auth"), "YTpi");
  assert_string_equal (json_get_str (json_object_get (auths, "localhost:5000"), "auth"),
                       "YWxpY2U6czNjcjpldA==");
  json_decref (j);
  assert_int_equal (creds_get (dir, "localhost:5000", &c, &err), 0);
  assert_string_equal (c.username, "alice");
  assert_string_equal (c.password, "s3cr:et");
  creds_release (&c);
  /* a stored "http://host:port/" key matches too */
  assert_int_equal (creds_get (dir, "http://other:1/", &c, &err), 0);
  assert_string_equal (c.username, "a");
  assert_string_equal (c.password, "b");
  creds_release (&c);
  assert_int_equal (creds_erase (dir, "localhost:5000", &err), 0);
  assert_int_equal (creds_erase (dir, "localhost:5000", &err), 1);
  assert_int_equal (creds_get (dir, "localhost:5000", &c, &err), 1);
  j = read_config ();
  assert_non_null (json_object_get (json_object_get (j, "auths"), "other:1"));
  json_decref (j);
  /* identity tokens */
  write_file ("config.json",
              "{\"auths\": {\"https://index.docker.io/v1/\": {\"auth\": \"Ym9iOg==\", "
              "\"identitytoken\": \"tok\"}}}",
              0600);
  assert_int_equal (creds_get (dir, "docker.io", &c, &err), 0);
  assert_string_equal (c.username, "bob");
  assert_string_equal (c.identity_token, "tok");
  creds_release (&c);
  /* broken files */
  write_file ("config.json", "{\"auths\": ", 0600);
  assert_int_equal (creds_get (dir, "x", &c, &err), -1);
  berr_release (&err);
  write_file ("config.json", "{\"auths\": {\"x\": {\"auth\": \"bm9jb2xvbg==\"}}}", 0600);
  assert_int_equal (creds_get (dir, "x", &c, &err), -1);
  assert_non_null (strstr (err.msg, "invalid auth configuration"));
  berr_release (&err);
  write_file ("config.json", "", 0600);
  assert_int_equal (creds_get (dir, "x", &c, &err), 1);
}

static void test_hub_keys (void **state arg_unused)
{
  berr_t err = BERR_INIT;
  write_file ("config.json", "{}", 0600);
  struct creds in = { "hub", "pw", NULL };
  assert_int_equal (creds_store (dir, "docker.io", &in, NULL, &err), 0);
  json_t *j = read_config ();
  json_t *auths = json_object_get (j, "auths");
  assert_int_equal (json_object_size (auths), 1);
  assert_non_null (json_object_get (auths, "https://index.docker.io/v1/"));
  json_decref (j);
  const char *spellings[] = { "docker.io",
                              "index.docker.io",
                              "registry-1.docker.io",
                              "https://index.docker.io/v1/",
                              "https://index.docker.io/v1",
                              "http://index.docker.io",
                              NULL };
  for (size_t i = 0; spellings[i]; i++)
    {
      struct creds c;
      assert_int_equal (creds_get (dir, spellings[i], &c, &err), 0);
      assert_string_equal (c.username, "hub");
      creds_release (&c);
    }
  /* an old-style key is replaced, not duplicated */
  write_file ("config.json", "{\"auths\": {\"index.docker.io\": {\"auth\": \"eDp5\"}}}", 0600);
  assert_int_equal (creds_store (dir, "https://index.docker.io/v1/", &in, NULL, &err), 0);
  j = read_config ();
  auths = json_object_get (j, "auths");
  assert_int_equal (json_object_size (auths), 1);
  assert_non_null (json_object_get (auths, "https://index.docker.io/v1/"));
  json_decref (j);
  assert_int_equal (creds_erase (dir, "docker.io", &err), 0);
  struct creds c;
  assert_int_equal (creds_get (dir, "index.docker.io", &c, &err), 1);
}

static void test_helpers (void **state arg_unused)
{
  berr_t err = BERR_INIT;
  write_file ("config.json",
              "{\"credHelpers\": {\"localhost:5000\": \"test\"}, \"credsStore\": \"broken\"}",
              0600);
  struct creds in = { "carol", "pw\"x", NULL };
  char *where = (char *)"unset";
  assert_int_equal (creds_store (dir, "localhost:5000", &in, &where, &err), 0);
  assert_null (where);
  json_t *j = read_config ();
  json_t *e = json_object_get (json_object_get (j, "auths"), "localhost:5000");
  assert_true (json_is_object (e));
  assert_int_equal (json_object_size (e), 0);
  json_decref (j);
  struct creds c;
  assert_int_equal (creds_get (dir, "localhost:5000", &c, &err), 0);
  assert_string_equal (c.username, "carol");
  assert_string_equal (c.password, "pw\"x");
  creds_release (&c);
  assert_int_equal (creds_erase (dir, "localhost:5000", &err), 0);
  assert_int_equal (creds_get (dir, "localhost:5000", &c, &err), 1);
  assert_int_equal (creds_erase (dir, "localhost:5000", &err), 1);
  /* identity token through the helper */
  struct creds tok = { "dave", NULL, "idtok" };
  assert_int_equal (creds_store (dir, "localhost:5000", &tok, NULL, &err), 0);
  assert_int_equal (creds_get (dir, "localhost:5000", &c, &err), 0);
  assert_null (c.username);
  assert_string_equal (c.identity_token, "idtok");
  creds_release (&c);
  /* other hosts go to credsStore, which fails here: the helper's message is in the error */
  assert_int_equal (creds_get (dir, "quay.io", &c, &err), -1);
  assert_non_null (strstr (err.msg, "keychain locked"));
  berr_release (&err);
  /* credsStore with the working helper, Docker Hub key */
  write_file ("config.json", "{\"credsStore\": \"test\"}", 0600);
  struct creds hub = { "erin", "pw", NULL };
  assert_int_equal (creds_store (dir, "docker.io", &hub, NULL, &err), 0);
  assert_int_equal (creds_get (dir, "https://index.docker.io/v1/", &c, &err), 0);
  assert_string_equal (c.username, "erin");
  creds_release (&c);
  cleanup_free char *stored = xasprintf ("%s/store/https___index_docker_io_v1_", dir);
  assert_int_equal (access (stored, F_OK), 0);
  /* a missing helper program is an error */
  write_file ("config.json", "{\"credsStore\": \"nosuchhelper\"}", 0600);
  assert_int_equal (creds_get (dir, "x", &c, &err), -1);
  berr_release (&err);
}

int main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_default_dir),
    cmocka_unit_test (test_auths),
    cmocka_unit_test (test_hub_keys),
    cmocka_unit_test (test_helpers),
  };
  return cmocka_run_group_tests (tests, setup, teardown);
}
