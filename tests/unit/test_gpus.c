/* test_gpus.c — docker's --gpus: the value syntax against docker/cli's opts.GpuOpts (its own test
 * vectors plus the error paths of encoding/csv and strconv.Atoi it goes through), the Engine API
 * form, device selection, the ld.so.cache reader on caches written by the host's ldconfig in all
 * three layouts, and spec generation against tests/fixtures/fake-nvidia.sh (needs root: mknod). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dlfcn.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gpu/gpus.h"
#include "util/fs.h"
#include "util/json.h"

#define VER "535.104.05"
#define LIBDIR "/usr/lib/x86_64-linux-gnu"

static char *joined (char *const *v)
{
  struct sbuf b;
  if (!v)
    return xstrdup ("<null>");
  sbuf_init (&b);
  sbuf_adds (&b, "");
  for (size_t i = 0; v[i]; i++)
    sbuf_addf (&b, "%s%s", i ? "," : "", v[i]);
  return sbuf_detach (&b);
}

/* ---------- parse ---------- */

struct parse_ok
{
  const char *in;
  const char *driver;
  int count;
  const char *ids; /* joined, "<null>" for none */
  const char *caps;
  const char *opts;
};

static const struct parse_ok parse_ok[] = {
  /* docker/cli opts/gpus_test.go TestGpusOptAll */
  { "all", "", -1, "<null>", "gpu", "<null>" },
  { "-1", "", -1, "<null>", "gpu", "<null>" },
  { "count=all", "", -1, "<null>", "gpu", "<null>" },
  { "count=-1", "", -1, "<null>", "gpu", "<null>" },
  /* TestGpusOpts */
  { "driver=nvidia,\"capabilities=compute,utility\",\"options=foo=bar,baz=qux\"", "nvidia", 1,
    "<null>", "compute,utility,gpu", "foo=bar,baz=qux" },
  { "1,driver=nvidia,\"capabilities=compute,utility\",\"options=foo=bar,baz=qux\"", "nvidia", 1,
    "<null>", "compute,utility,gpu", "foo=bar,baz=qux" },
  { "count=1,driver=nvidia,\"capabilities=compute,utility\",\"options=foo=bar,baz=qux\"", "nvidia",
    1, "<null>", "compute,utility,gpu", "foo=bar,baz=qux" },
  { "driver=nvidia,\"capabilities=compute,utility\",\"options=foo=bar,baz=qux\",count=1", "nvidia",
    1, "<null>", "compute,utility,gpu", "foo=bar,baz=qux" },
  /* the forms of `docker run --gpus` documentation */
  { "2", "", 2, "<null>", "gpu", "<null>" },
  { "\"device=0,1\"", "", 0, "0,1", "gpu", "<null>" },
  { "device=1", "", 0, "1", "gpu", "<null>" },
  { "device=GPU-3a23c669-1f69-c64e-cf85-44e9b07e7a2a", "", 0,
    "GPU-3a23c669-1f69-c64e-cf85-44e9b07e7a2a", "gpu", "<null>" },
  { "capabilities=utility", "", 1, "<null>", "utility,gpu", "<null>" },
  { "\"capabilities=compute,utility\",all", "", -1, "<null>", "compute,utility,gpu", "<null>" },
  /* the corners of the Go code */
  { "0", "", 0, "<null>", "gpu", "<null>" },
  { "+3", "", 3, "<null>", "gpu", "<null>" },
  { "count=2,1", "", 1, "<null>", "gpu", "<null>" }, /* the bare value is not checked as "count" */
  { "\"all\"", "", -1, "<null>", "gpu", "<null>" },
  { "\nall", "", -1, "<null>", "gpu", "<null>" },
  { "all\nthis line is not read\"", "", -1, "<null>", "gpu", "<null>" },
  { "all\r\n", "", -1, "<null>", "gpu", "<null>" },
  { "device=", "", 0, "", "gpu", "<null>" },
  { "\"device=0,\"\"x\"\"\"", "", 0, "0,\"x\"", "gpu", "<null>" },
  { "driver=nvidia", "nvidia", 1, "<null>", "gpu", "<null>" },
  { "driver=", "", 1, "<null>", "gpu", "<null>" },
  { "capabilities=", "", 1, "<null>", ",gpu", "<null>" },
  { "options=a", "", 1, "<null>", "gpu", "a=" },
  { "\"options=a=1,a=2\"", "", 1, "<null>", "gpu", "a=2" },
};

struct parse_bad
{
  const char *in;
  const char *msg;
};

static const struct parse_bad parse_bad[] = {
  { "", "EOF" },
  { "\n\n", "EOF" },
  { "foo", "invalid count (foo): value must be either \"all\" or an integer: invalid syntax" },
  { "count=", "invalid count (): value must be either \"all\" or an integer: invalid syntax" },
  { "count=two",
    "invalid count (two): value must be either \"all\" or an integer: invalid syntax" },
  { "1.5", "invalid count (1.5): value must be either \"all\" or an integer: invalid syntax" },
  { "-", "invalid count (-): value must be either \"all\" or an integer: invalid syntax" },
  { "99999999999999999999", "invalid count (99999999999999999999): value must be either \"all\" or "
                            "an integer: value out of "
                            "range" },
  /* unquoted, the comma splits the value and "utility" becomes a count */
  { "capabilities=compute,utility",
    "invalid count (utility): value must be either \"all\" or an integer: invalid syntax" },
  { "all,all", "gpu request key 'all' can be specified only once" },
  { "1,count=2", "gpu request key 'count' can be specified only once" },
  { "driver=a,driver=b", "gpu request key 'driver' can be specified only once" },
  { "foo=bar", "unexpected key 'foo' in 'foo=bar'" },
  { "all,mode=x", "unexpected key 'mode' in 'mode=x'" },
  /* unquoted, "1" becomes a count beside the device ids: the daemon's refusal */
  { "device=0,1", "cannot set both Count and DeviceIDs on device request" },
  { "count=1,device=0", "cannot set both Count and DeviceIDs on device request" },
  { "a\"b", "parse error on line 1, column 2: bare \" in non-quoted-field" },
  { "all,x\"", "parse error on line 1, column 6: bare \" in non-quoted-field" },
  { "\"all", "parse error on line 1, column 5: extraneous or missing \" in quoted-field" },
  { "\"a\"b", "parse error on line 1, column 3: extraneous or missing \" in quoted-field" },
  { "\n\"a\"b", "parse error on line 2, column 3: extraneous or missing \" in quoted-field" },
  { "\"a\nb\"x", "record on line 1; parse error on line 2, column 2: extraneous or missing \" in "
                 "quoted-field" },
  { "\"options=\"\"x\"",
    "failed to read gpu options: parse error on line 1, column 3: extraneous or missing \" in "
    "quoted-field" },
};

static void test_parse_ok (void **state)
{
  (void)state;
  for (size_t i = 0; i < ARRAY_SIZE (parse_ok); i++)
    {
      const struct parse_ok *c = &parse_ok[i];
      cleanup_berr berr_t err = BERR_INIT;
      struct gpu_request r;
      cleanup_free char *ids = NULL, *caps = NULL, *opts = NULL;

      if (gpu_request_parse (c->in, &r, &err) < 0)
        fail_msg ("parse '%s': %s", c->in, err.msg);
      ids = joined (r.device_ids);
      caps = joined (r.capabilities);
      opts = joined (r.options);
      if (strcmp (r.driver, c->driver) || r.count != c->count || strcmp (ids, c->ids)
          || strcmp (caps, c->caps) || strcmp (opts, c->opts))
        fail_msg ("parse '%s': driver '%s' count %d ids '%s' caps '%s' opts '%s'", c->in, r.driver,
                  r.count, ids, caps, opts);
      gpu_request_clear (&r);
    }
  print_message ("# %zu valid --gpus values\n", ARRAY_SIZE (parse_ok));
}

static void test_parse_bad (void **state)
{
  (void)state;
  for (size_t i = 0; i < ARRAY_SIZE (parse_bad); i++)
    {
      const struct parse_bad *c = &parse_bad[i];
      cleanup_berr berr_t err = BERR_INIT;
      struct gpu_request r;

      if (gpu_request_parse (c->in, &r, &err) == 0)
        fail_msg ("parse '%s' succeeded", c->in);
      if (strcmp (err.msg, c->msg) != 0)
        fail_msg ("parse '%s': got \"%s\", want \"%s\"", c->in, err.msg, c->msg);
      assert_int_equal (err.kind, BERR_INVALID);
      assert_null (r.driver);
      assert_null (r.capabilities);
    }
  print_message ("# %zu invalid --gpus values\n", ARRAY_SIZE (parse_bad));
}

/* ---------- JSON ---------- */

static void test_json (void **state)
{
  static const struct
  {
    const char *in, *json;
  } cases[] = {
    { "all", "{\"Driver\":\"\",\"Count\":-1,\"DeviceIDs\":null,\"Capabilities\":[[\"gpu\"]],"
             "\"Options\":{}}" },
    { "\"device=0,GPU-1\"", "{\"Driver\":\"\",\"Count\":0,\"DeviceIDs\":[\"0\",\"GPU-1\"],"
                            "\"Capabilities\":[[\"gpu\"]],\"Options\":{}}" },
    { "driver=nvidia,\"capabilities=compute,utility\",\"options=foo=bar\"",
      "{\"Driver\":\"nvidia\",\"Count\":1,\"DeviceIDs\":null,\"Capabilities\":[[\"compute\","
      "\"utility\",\"gpu\"]],\"Options\":{\"foo\":\"bar\"}}" },
  };
  (void)state;
  for (size_t i = 0; i < ARRAY_SIZE (cases); i++)
    {
      cleanup_berr berr_t err = BERR_INIT;
      struct gpu_request r, back;
      cleanup_json json_t *j = NULL, *j2 = NULL;
      cleanup_free char *s = NULL, *s2 = NULL;

      assert_int_equal (gpu_request_parse (cases[i].in, &r, &err), 0);
      j = gpu_request_to_json (&r);
      s = json_dumps (j, JSON_COMPACT | JSON_PRESERVE_ORDER);
      assert_string_equal (s, cases[i].json);
      if (gpu_request_from_json (j, &back, &err) < 0)
        fail_msg ("%s", err.msg);
      j2 = gpu_request_to_json (&back);
      s2 = json_dumps (j2, JSON_COMPACT | JSON_PRESERVE_ORDER);
      assert_string_equal (s2, s);
      gpu_request_clear (&r);
      gpu_request_clear (&back);
    }

  /* What compose or an API client may send: missing members, nulls. */
  {
    cleanup_berr berr_t err = BERR_INIT;
    cleanup_json json_t *j = json_loads ("{\"Count\":2,\"Capabilities\":null}", 0, NULL);
    struct gpu_request r;
    assert_int_equal (gpu_request_from_json (j, &r, &err), 0);
    assert_string_equal (r.driver, "");
    assert_int_equal (r.count, 2);
    assert_null (r.device_ids);
    assert_non_null (r.capabilities);
    assert_null (r.capabilities[0]);
    gpu_request_clear (&r);
  }
  {
    static const char *bad[] = {
      "[]",
      "{\"Driver\":1}",
      "{\"Count\":\"all\"}",
      "{\"Count\":1.5}",
      "{\"Count\":99999999999}",
      "{\"DeviceIDs\":\"0\"}",
      "{\"DeviceIDs\":[0]}",
      "{\"Capabilities\":[\"gpu\"]}",
      "{\"Capabilities\":\"gpu\"}",
      "{\"Options\":[]}",
      "{\"Options\":{\"a\":1}}",
    };
    for (size_t i = 0; i < ARRAY_SIZE (bad); i++)
      {
        cleanup_berr berr_t err = BERR_INIT;
        cleanup_json json_t *j = json_loads (bad[i], 0, NULL);
        struct gpu_request r;
        assert_non_null (j);
        if (gpu_request_from_json (j, &r, &err) == 0)
          fail_msg ("from_json %s succeeded", bad[i]);
        assert_int_equal (err.kind, BERR_INVALID);
      }
  }
}

/* ---------- select ---------- */

static char *select_str (const char *value, char *const *known, berr_t *err)
{
  struct gpu_request r;
  char **dev = NULL;
  char *s;
  if (gpu_request_parse (value, &r, err) < 0)
    return NULL;
  if (gpu_select (&r, known, &dev, err) < 0)
    {
      assert_null (dev);
      gpu_request_clear (&r);
      return NULL;
    }
  gpu_request_clear (&r);
  s = joined (dev);
  strv_free (dev);
  return s;
}

static void test_select (void **state)
{
  char *known[] = { "nvidia.com/gpu=0",      "nvidia.com/gpu=GPU-aaaa", "nvidia.com/gpu=1",
                    "nvidia.com/gpu=GPU-bb", "nvidia.com/gpu=all",      NULL };
  char *known_noall[] = { "nvidia.com/gpu=1", "nvidia.com/gpu=0", "other.com/x=2", NULL };
  char *none[] = { NULL };
  static const struct
  {
    const char *value;
    int which; /* 0 known, 1 known_noall, 2 none */
    const char *want;
    const char *err;
  } cases[] = {
    { "all", 0, "nvidia.com/gpu=all", NULL },
    { "all", 1, "nvidia.com/gpu=0,nvidia.com/gpu=1", NULL },
    { "1", 0, "nvidia.com/gpu=0", NULL },
    { "2", 0, "nvidia.com/gpu=0,nvidia.com/gpu=1", NULL },
    { "2", 1, "nvidia.com/gpu=0,nvidia.com/gpu=1", NULL },
    { "0", 0, "", NULL },
    { "3", 0, NULL, "unresolvable CDI devices nvidia.com/gpu=2" },
    { "\"device=1,GPU-aaaa\"", 0, "nvidia.com/gpu=1,nvidia.com/gpu=GPU-aaaa", NULL },
    { "\"device=0,0\"", 0, "nvidia.com/gpu=0", NULL },
    { "device=all", 0, "nvidia.com/gpu=all", NULL },
    { "\"device=7,0,GPU-zz\"", 0, NULL,
      "unresolvable CDI devices nvidia.com/gpu=7, nvidia.com/gpu=GPU-zz" },
    { "driver=nvidia,\"capabilities=compute,utility\",all", 0, "nvidia.com/gpu=all", NULL },
    { "driver=amd,all", 0, NULL,
      "could not select device driver \"amd\" with capabilities: [[gpu]]" },
    { "capabilities=tpu,all", 0, NULL,
      "could not select device driver \"\" with capabilities: [[tpu gpu]]" },
    { "all", 2, NULL, "could not select device driver \"\" with capabilities: [[gpu]]" },
    { "1", 2, NULL, "could not select device driver \"\" with capabilities: [[gpu]]" },
    { "device=0", 2, NULL, "unresolvable CDI devices nvidia.com/gpu=0" },
  };
  (void)state;
  for (size_t i = 0; i < ARRAY_SIZE (cases); i++)
    {
      cleanup_berr berr_t err = BERR_INIT;
      char *const *k = cases[i].which == 0 ? known : cases[i].which == 1 ? known_noall : none;
      cleanup_free char *got = select_str (cases[i].value, k, &err);
      if (cases[i].want)
        {
          if (!got)
            fail_msg ("select '%s': %s", cases[i].value, err.msg);
          if (strcmp (got, cases[i].want))
            fail_msg ("select '%s': got %s want %s", cases[i].value, got, cases[i].want);
        }
      else
        {
          if (got)
            fail_msg ("select '%s' gave %s", cases[i].value, got);
          if (strcmp (err.msg, cases[i].err))
            fail_msg ("select '%s': got \"%s\" want \"%s\"", cases[i].value, err.msg, cases[i].err);
          assert_true (err.kind == BERR_NOT_FOUND);
        }
    }

  /* Count and ids together from the API: refused at selection, as the daemon refuses it. */
  {
    cleanup_berr berr_t err = BERR_INIT;
    char *ids[] = { "0", NULL };
    char *caps[] = { "gpu", NULL };
    struct gpu_request r = { .driver = "", .count = 1, .device_ids = ids, .capabilities = caps };
    char **dev = NULL;
    assert_int_equal (gpu_select (&r, known, &dev, &err), -1);
    assert_string_equal (err.msg, "cannot set both Count and DeviceIDs on device request");
  }
}

/* ---------- the fake driver ---------- */

static bool have_root_tools (void)
{
  if (geteuid () != 0)
    {
      print_message ("# skipped: needs root (mknod, ldconfig -r)\n");
      return false;
    }
  return true;
}

static char *make_fake (const char *env)
{
  const char *src = getenv ("BERTH_SOURCE_DIR");
  char tmpl[] = "/tmp/berth-test-gpus-XXXXXX";
  char *dir = mkdtemp (tmpl);
  cleanup_free char *cmd = NULL;
  char exe[4096];
  if (src == NULL)
    {
      /* <source>/<build>/tests/unit/test_gpus, when run by hand */
      ssize_t n = readlink ("/proc/self/exe", exe, sizeof exe - 1);
      if (n > 0)
        {
          exe[n] = '\0';
          for (int up = 0; up < 4; up++)
            {
              char *slash = strrchr (exe, '/');
              if (slash)
                *slash = '\0';
            }
          src = exe;
        }
    }

  assert_non_null (src);
  assert_non_null (dir);
  cmd = xasprintf ("%s %s/tests/fixtures/fake-nvidia.sh %s >/dev/null", env ? env : "", src, dir);
  if (system (cmd) != 0)
    fail_msg ("%s failed", cmd);
  return xstrdup (dir);
}

static void rm_fake (char *dir)
{
  cleanup_berr berr_t err = BERR_INIT;
  if (fs_rm_rf (dir, &err) < 0)
    fail_msg ("%s", err.msg);
  free (dir);
}

static void read_cache (const char *path, struct gpu_ldcache_entry **e, size_t *n)
{
  cleanup_free char *data = NULL;
  cleanup_berr berr_t err = BERR_INIT;
  size_t len;
  assert_int_equal (fs_read_file (path, 1 << 24, &data, &len, &err), 0);
  if (gpu_ldcache_parse (data, len, e, n, &err) < 0)
    fail_msg ("%s: %s", path, err.msg);
}

static void test_ldcache (void **state)
{
  static const char *formats[] = { "new", "old", "compat" };
  char *dir;
  (void)state;
  if (!have_root_tools ())
    skip ();
  dir = make_fake (NULL);

  for (size_t f = 0; f < ARRAY_SIZE (formats); f++)
    {
      cleanup_free char *cmd = xasprintf (
          "ldconfig -r %s -c %s -C /etc/cache.%s -f /etc/ld.so.conf", dir, formats[f], formats[f]);
      cleanup_free char *path = xasprintf ("%s/etc/cache.%s", dir, formats[f]);
      cleanup_free char *head = NULL;
      cleanup_berr berr_t err = BERR_INIT;
      struct gpu_ldcache_entry *e = NULL;
      size_t n = 0, len, found = 0;

      assert_int_equal (system (cmd), 0);
      /* The layout is the one asked for. */
      assert_int_equal (fs_read_file (path, 1 << 24, &head, &len, &err), 0);
      if (strcmp (formats[f], "new") == 0)
        assert_memory_equal (head, "glibc-ld.so.cache1.1", 20);
      else
        assert_memory_equal (head, "ld.so-1.7.0", 11);
      if (strcmp (formats[f], "compat") == 0)
        assert_non_null (memmem (head, len, "glibc-ld.so.cache1.1", 20));

      read_cache (path, &e, &n);
      assert_int_equal (n, 4);
      for (size_t i = 0; i < n; i++)
        {
          cleanup_free char *want = xasprintf (LIBDIR "/%s", e[i].key);
          assert_string_equal (e[i].value, want);
          assert_true (gpu_ldcache_native (e[i].flags));
          found += strcmp (e[i].key, "libcuda.so.1") == 0
                   || strcmp (e[i].key, "libnvidia-ml.so.1") == 0
                   || strcmp (e[i].key, "libnotnvidia.so.1") == 0
                   || strcmp (e[i].key, "libcuda.so") == 0;
        }
      assert_int_equal (found, 4);
      gpu_ldcache_free (e, n);

      /* Every truncation and a sweep of corrupted bytes: an error or a parse, never a read
       * outside the buffer (the ASan build checks that). */
      for (size_t cut = 0; cut < len; cut++)
        {
          cleanup_berr berr_t e2 = BERR_INIT;
          char *copy = xmalloc (cut ? cut : 1);
          memcpy (copy, head, cut);
          if (gpu_ldcache_parse (copy, cut, &e, &n, &e2) == 0)
            gpu_ldcache_free (e, n);
          free (copy);
        }
      for (size_t at = 0; at < len && at < 200; at++)
        for (int v = 0; v < 256; v += 51)
          {
            cleanup_berr berr_t e2 = BERR_INIT;
            char *copy = xmalloc (len);
            memcpy (copy, head, len);
            copy[at] = (char)v;
            if (gpu_ldcache_parse (copy, len, &e, &n, &e2) == 0)
              gpu_ldcache_free (e, n);
            free (copy);
          }
    }

  {
    cleanup_berr berr_t err = BERR_INIT;
    struct gpu_ldcache_entry *e;
    size_t n;
    assert_int_equal (gpu_ldcache_parse ("hello world", 11, &e, &n, &err), -1);
    assert_string_equal (err.msg, "ld.so.cache: not a glibc loader cache");
    assert_int_equal (err.kind, BERR_CORRUPT);
  }
  {
    /* A new header claiming more entries than the file holds. */
    char buf[48 + 24] = "glibc-ld.so.cache1.1";
    cleanup_berr berr_t err = BERR_INIT;
    struct gpu_ldcache_entry *e;
    size_t n;
    uint32_t big = 0x10000000;
    memcpy (buf + 20, &big, 4);
    assert_int_equal (gpu_ldcache_parse (buf, sizeof (buf), &e, &n, &err), -1);
    assert_non_null (strstr (err.msg, "overruns"));
  }
  rm_fake (dir);
}

static json_t *find_named (json_t *arr, const char *key, const char *val)
{
  size_t i;
  json_t *v;
  json_array_foreach (arr, i, v)
  {
    const char *s = json_get_str (v, key);
    if (s && strcmp (s, val) == 0)
      return v;
  }
  return NULL;
}

static struct gpu_host fake_host (const char *dir, char **bufs)
{
  bufs[0] = xasprintf ("%s/dev", dir);
  bufs[1] = xasprintf ("%s/etc/ld.so.cache", dir);
  bufs[2] = xasprintf ("%s/proc/driver/nvidia", dir);
  return (struct gpu_host){ bufs[0], bufs[1], dir, bufs[2] };
}

static void check_mount (json_t *mounts, const char *dir, const char *cpath, const char *hrel)
{
  json_t *m = find_named (mounts, "containerPath", cpath);
  cleanup_free char *host = xasprintf ("%s%s", dir, hrel);
  cleanup_free char *opts = NULL;
  if (!m)
    fail_msg ("no mount at %s", cpath);
  assert_string_equal (json_get_str (m, "hostPath"), host);
  opts = json_dumps (json_object_get (m, "options"), JSON_COMPACT);
  assert_string_equal (opts, "[\"ro\",\"nosuid\",\"nodev\",\"bind\"]");
}

static void check_node (json_t *nodes, const char *dir, const char *name, int maj, int min)
{
  cleanup_free char *path = xasprintf ("/dev/%s", name);
  cleanup_free char *host = xasprintf ("%s/dev/%s", dir, name);
  json_t *n = find_named (nodes, "path", path);
  if (!n)
    fail_msg ("no node %s", path);
  assert_string_equal (json_get_str (n, "hostPath"), host);
  assert_string_equal (json_get_str (n, "type"), "c");
  assert_int_equal (json_integer_value (json_object_get (n, "major")), maj);
  assert_int_equal (json_integer_value (json_object_get (n, "minor")), min);
}

static void test_spec (void **state)
{
  char *dir, *bufs[3];
  struct gpu_host host;
  cleanup_json json_t *spec = NULL;
  cleanup_berr berr_t err = BERR_INIT;
  json_t *devices, *edits, *mounts, *d;
  cleanup_free char *env = NULL;
  (void)state;
  if (!have_root_tools ())
    skip ();
  dir = make_fake (NULL);
  host = fake_host (dir, bufs);

  if (gpu_generate_spec (&host, &spec, &err) < 0)
    fail_msg ("%s", err.msg);
  assert_string_equal (json_get_str (spec, "cdiVersion"), "0.5.0");
  assert_string_equal (json_get_str (spec, "kind"), "nvidia.com/gpu");

  /* Devices by index (bus order), by UUID, and "all". */
  devices = json_object_get (spec, "devices");
  assert_int_equal (json_array_size (devices), 5);
  {
    static const char *names[] = { "0", "GPU-00000001-1111-2222-3333-444455556666", "1",
                                   "GPU-00000002-1111-2222-3333-444455556666", "all" };
    for (size_t i = 0; i < 5; i++)
      assert_string_equal (json_get_str (json_array_get (devices, i), "name"), names[i]);
  }
  d = json_object_get (json_object_get (json_array_get (devices, 2), "containerEdits"),
                       "deviceNodes");
  assert_int_equal (json_array_size (d), 1);
  check_node (d, dir, "nvidia1", 195, 1);
  d = json_object_get (json_object_get (json_array_get (devices, 1), "containerEdits"),
                       "deviceNodes");
  check_node (d, dir, "nvidia0", 195, 0);
  d = json_object_get (json_object_get (json_array_get (devices, 4), "containerEdits"),
                       "deviceNodes");
  assert_int_equal (json_array_size (d), 2);
  check_node (d, dir, "nvidia0", 195, 0);
  check_node (d, dir, "nvidia1", 195, 1);

  edits = json_object_get (spec, "containerEdits");
  env = json_dumps (json_object_get (edits, "env"), JSON_COMPACT);
  assert_string_equal (env, "[\"NVIDIA_VISIBLE_DEVICES=void\"]");
  d = json_object_get (edits, "deviceNodes");
  assert_int_equal (json_array_size (d), 5);
  check_node (d, dir, "nvidiactl", 195, 255);
  check_node (d, dir, "nvidia-uvm", 511, 0);
  check_node (d, dir, "nvidia-uvm-tools", 511, 1);
  check_node (d, dir, "nvidia-modeset", 195, 254);
  check_node (d, dir, "nvidia-caps/nvidia-cap1", 510, 1);

  /* The driver's libraries at their own path and their SONAME link; not the other library;
   * the tools that exist. */
  mounts = json_object_get (edits, "mounts");
  check_mount (mounts, dir, LIBDIR "/libcuda.so." VER, LIBDIR "/libcuda.so." VER);
  check_mount (mounts, dir, LIBDIR "/libcuda.so.1", LIBDIR "/libcuda.so." VER);
  check_mount (mounts, dir, LIBDIR "/libcuda.so", LIBDIR "/libcuda.so." VER);
  check_mount (mounts, dir, LIBDIR "/libnvidia-ml.so." VER, LIBDIR "/libnvidia-ml.so." VER);
  check_mount (mounts, dir, LIBDIR "/libnvidia-ml.so.1", LIBDIR "/libnvidia-ml.so." VER);
  check_mount (mounts, dir, "/usr/bin/nvidia-smi", "/usr/bin/nvidia-smi");
  check_mount (mounts, dir, "/usr/bin/nvidia-cuda-mps-control", "/usr/bin/nvidia-cuda-mps-control");
  assert_int_equal (json_array_size (mounts), 7);
  assert_null (json_object_get (edits, "hooks"));
  json_decref (steal_pointer (&spec));

  /* The fixture itself: its libcuda loads through the SONAME link and reports the fake count;
   * its nvidia-smi lists the GPUs. */
  {
    cleanup_free char *lib = xasprintf ("%s" LIBDIR "/libcuda.so.1", dir);
    cleanup_free char *cmd = xasprintf ("%s/usr/bin/nvidia-smi -L", dir);
    void *h = dlopen (lib, RTLD_NOW | RTLD_LOCAL);
    int (*init) (unsigned), (*count) (int *), n = -1;
    char line[256];
    FILE *p;
    assert_non_null (h);
    *(void **)&init = dlsym (h, "cuInit");
    *(void **)&count = dlsym (h, "cuDeviceGetCount");
    assert_non_null (init);
    assert_non_null (count);
    assert_int_equal (init (0), 0);
    unsetenv ("FAKE_CUDA_DEVICE_COUNT");
    assert_int_equal (count (&n), 0);
    assert_int_equal (n, 2);
    setenv ("FAKE_CUDA_DEVICE_COUNT", "5", 1);
    assert_int_equal (count (&n), 0);
    assert_int_equal (n, 5);
    unsetenv ("FAKE_CUDA_DEVICE_COUNT");
    dlclose (h);
    p = popen (cmd, "r");
    assert_non_null (p);
    assert_non_null (fgets (line, sizeof (line), p));
    assert_string_equal (line,
                         "GPU 0: Fake GPU (UUID: GPU-00000001-1111-2222-3333-444455556666)\n");
    assert_non_null (fgets (line, sizeof (line), p));
    assert_null (fgets (line, sizeof (line), p));
    assert_int_equal (pclose (p), 0);
  }

  /* The open kernel module's version line, and an aarch64 one. */
  {
    static const char *lines[]
        = { "NVRM version: NVIDIA UNIX Open Kernel Module for x86_64  " VER
            "  Release Build  (dvs-builder@U16-T02-35-3)  Sat Aug 19 01:13:57 UTC 2023",
            "NVRM version: NVIDIA UNIX Open Kernel Module for aarch64  " VER "  Release Build" };
    for (size_t i = 0; i < ARRAY_SIZE (lines); i++)
      {
        cleanup_free char *vf = xasprintf ("%s/proc/driver/nvidia/version", dir);
        cleanup_free char *text = xasprintf ("%s\nGCC version:  gcc version 12.2.0\n", lines[i]);
        assert_int_equal (fs_write_atomic (vf, text, strlen (text), 0644, &err), 0);
        if (gpu_generate_spec (&host, &spec, &err) < 0)
          fail_msg ("%s", err.msg);
        mounts = json_object_get (json_object_get (spec, "containerEdits"), "mounts");
        assert_int_equal (json_array_size (mounts), 7);
        json_decref (steal_pointer (&spec));
      }
  }

  /* No loader cache: an error naming it, not a spec without libraries. */
  {
    cleanup_berr berr_t e2 = BERR_INIT;
    cleanup_free char *cmd = xasprintf ("mv %s/etc/ld.so.cache %s/etc/c.bak", dir, dir);
    cleanup_free char *back = xasprintf ("mv %s/etc/c.bak %s/etc/ld.so.cache", dir, dir);
    assert_int_equal (system (cmd), 0);
    assert_int_equal (gpu_generate_spec (&host, &spec, &e2), -1);
    assert_non_null (strstr (e2.msg, "ld.so.cache"));
    assert_int_equal (system (back), 0);
  }

  /* A driver of another version: its libraries are not these. */
  {
    cleanup_free char *cmd
        = xasprintf ("sed -i s/%s/550.54.15/ %s/proc/driver/nvidia/version", VER, dir);
    assert_int_equal (system (cmd), 0);
    assert_int_equal (gpu_generate_spec (&host, &spec, &err), 0);
    mounts = json_object_get (json_object_get (spec, "containerEdits"), "mounts");
    assert_int_equal (json_array_size (mounts), 2);
    assert_non_null (find_named (mounts, "containerPath", "/usr/bin/nvidia-smi"));
    json_decref (steal_pointer (&spec));
  }

  /* Without /proc/driver/nvidia/gpus: the nodes, by minor, no UUIDs. */
  {
    cleanup_free char *cmd = xasprintf ("rm -rf %s/proc/driver/nvidia/gpus", dir);
    assert_int_equal (system (cmd), 0);
    assert_int_equal (gpu_generate_spec (&host, &spec, &err), 0);
    devices = json_object_get (spec, "devices");
    assert_int_equal (json_array_size (devices), 3);
    assert_string_equal (json_get_str (json_array_get (devices, 0), "name"), "0");
    assert_string_equal (json_get_str (json_array_get (devices, 1), "name"), "1");
    assert_string_equal (json_get_str (json_array_get (devices, 2), "name"), "all");
    json_decref (steal_pointer (&spec));
  }

  /* No driver: no version file; no GPU node; no nvidiactl. Docker's message each time. */
  {
    static const char *breakers[] = { "mv %s/proc/driver/nvidia/version %s/v.bak",
                                      "mv %s/v.bak %s/proc/driver/nvidia/version && rm "
                                      "%s/dev/nvidia0 %s/dev/nvidia1",
                                      "mknod %s/dev/nvidia0 c 195 0 && rm %s/dev/nvidiactl" };
    for (size_t i = 0; i < ARRAY_SIZE (breakers); i++)
      {
        cleanup_berr berr_t e2 = BERR_INIT;
        cleanup_free char *cmd = xasprintf (breakers[i], dir, dir, dir, dir);
        assert_int_equal (system (cmd), 0);
        assert_int_equal (gpu_generate_spec (&host, &spec, &e2), -1);
        assert_null (spec);
        assert_string_equal (e2.msg,
                             "could not select device driver \"\" with capabilities: [[gpu]]");
        assert_int_equal (e2.kind, BERR_NOT_FOUND);
      }
  }
  for (size_t i = 0; i < 3; i++)
    free (bufs[i]);
  rm_fake (dir);
}

/* The real host: on this machine (no GPU) the no-driver error; with a driver, a spec. */
static void test_spec_host (void **state)
{
  struct gpu_host host = { "/dev", "/etc/ld.so.cache", "/", "/proc/driver/nvidia" };
  cleanup_json json_t *spec = NULL;
  cleanup_berr berr_t err = BERR_INIT;
  struct stat st;
  (void)state;
  if (stat ("/dev/nvidiactl", &st) == 0 && stat ("/proc/driver/nvidia/version", &st) == 0)
    {
      if (gpu_generate_spec (&host, &spec, &err) < 0)
        fail_msg ("%s", err.msg);
      print_message ("# host GPUs: %zu CDI devices\n",
                     json_array_size (json_object_get (spec, "devices")));
      return;
    }
  assert_int_equal (gpu_generate_spec (&host, &spec, &err), -1);
  assert_string_equal (err.msg, "could not select device driver \"\" with capabilities: [[gpu]]");
}

int main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_parse_ok),  cmocka_unit_test (test_parse_bad),
    cmocka_unit_test (test_json),      cmocka_unit_test (test_select),
    cmocka_unit_test (test_ldcache),   cmocka_unit_test (test_spec),
    cmocka_unit_test (test_spec_host),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
