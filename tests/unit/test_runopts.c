/* test_runopts.c — `run`/`create` flags against docker's behaviour: the docker/cli envfile vectors
 * and go-connections port-spec vectors ($CONFORMANCE_DIR), go-units' ulimit vectors, a table of
 * argv → body fragments and error texts (expected values taken from docker 28.2.2's CLI, which
 * sent its create request to a stub daemon) and two complete bodies compared key by key and in
 * order. The value parsers on their own: test_runopts_values.c. Every mismatch is printed as a
 * "# FAIL" line. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/runopts.h"
#include "cli/runopts_int.h"
#include "util/fs.h"
#include "util/json.h"

static const char *conf_dir;

/* ---- helpers ---- */

/* JSON written with ' for " (the expected values contain no quote characters of their own). */
static json_t *sq_json (const char *s)
{
  cleanup_free char *d = xstrdup (s);
  for (char *p = d; *p; p++)
    if (*p == '\'')
      *p = '"';
  json_error_t e;
  json_t *j = json_loads (d, JSON_DECODE_ANY, &e);
  if (!j)
    printf ("# bad expected JSON: %s: %s\n", e.text, d);
  return j;
}

struct captured
{
  int rc;
  char *out; /* stdout */
  char *err; /* stderr */
};

static char *slurp_fd (int fd)
{
  struct sbuf b;
  char buf[4096];
  ssize_t n;
  sbuf_init (&b);
  lseek (fd, 0, SEEK_SET);
  while ((n = read (fd, buf, sizeof buf)) > 0)
    sbuf_add (&b, buf, (size_t)n);
  return b.buf ? sbuf_detach (&b) : xstrdup ("");
}

/* runopts_parse with stdout and stderr captured. */
static void parse_captured (const char *const *argv, struct run_request *req, struct captured *c)
{
  int argc = 0;
  while (argv[argc])
    argc++;
  bool is_run = strcmp (argv[0], "run") == 0;
  char **args = strv_dup ((char *const *)argv);
  FILE *o = tmpfile (), *e = tmpfile ();
  fflush (stdout);
  fflush (stderr);
  int so = dup (1), se = dup (2);
  dup2 (fileno (o), 1);
  dup2 (fileno (e), 2);
  c->rc = runopts_parse (argc, args, is_run ? "berth run" : "berth create", is_run, req);
  fflush (stdout);
  fflush (stderr);
  dup2 (so, 1);
  dup2 (se, 2);
  close (so);
  close (se);
  c->out = slurp_fd (fileno (o));
  c->err = slurp_fd (fileno (e));
  fclose (o);
  fclose (e);
  strv_free (args);
}

static void captured_release (struct captured *c)
{
  free (c->out);
  free (c->err);
}

/* The first line of a message, without a "berth: " prefix. */
static char *first_line (const char *s)
{
  if (str_has_prefix (s, "berth: "))
    s += 7;
  return xstrndup (s, strcspn (s, "\n"));
}

/* Follow "A/B/C" through objects. */
static json_t *at_path (json_t *j, const char *path)
{
  cleanup_free char *p = xstrdup (path);
  char *save = NULL;
  for (char *t = strtok_r (p, "/", &save); t && j; t = strtok_r (NULL, "/", &save))
    j = json_object_get (j, t);
  return j;
}

static int count_cases, count_passed;

/* ---- conformance: docker-cli envfile ---- */

struct lookup_map
{
  json_t *map;
};

static bool map_lookup (void *ud, const char *key, const char **value)
{
  json_t *v = json_object_get (((struct lookup_map *)ud)->map, key);
  *value = json_string_value (v);
  return *value != NULL;
}

/* "\"foo=\" + \"a\" * (65536 + 42)" → foo=aaaa…: prefix, repeated string, summed count. */
static char *generate_content (const char *gen)
{
  const char *q1 = strchr (gen, '"'), *q2 = q1 ? strchr (q1 + 1, '"') : NULL;
  const char *q3 = q2 ? strchr (q2 + 1, '"') : NULL, *q4 = q3 ? strchr (q3 + 1, '"') : NULL;
  if (!q4)
    return NULL;
  long count = 0;
  for (const char *p = q4 + 1; *p;)
    {
      char *end;
      if (*p >= '0' && *p <= '9')
        {
          count += strtol (p, &end, 10);
          p = end;
        }
      else
        p++;
    }
  struct sbuf b;
  sbuf_init (&b);
  sbuf_add (&b, q1 + 1, (size_t)(q2 - q1 - 1));
  for (long i = 0; i < count; i++)
    sbuf_add (&b, q3 + 1, (size_t)(q4 - q3 - 1));
  return sbuf_detach (&b);
}

static bool check_error (const char *what, const char *got, json_t *c)
{
  const char *contains = json_string_value (json_object_get (c, "error_contains"));
  const char *equals = json_string_value (json_object_get (c, "error_equals"));
  if (!got)
    {
      printf ("# FAIL %s: no error, want %s\n", what, contains ? contains : equals);
      return false;
    }
  if ((contains && !strstr (got, contains)) || (equals && strcmp (got, equals) != 0))
    {
      printf ("# FAIL %s: error \"%s\", want %s \"%s\"\n", what, got,
              contains ? "one containing" : "exactly", contains ? contains : equals);
      return false;
    }
  return true;
}

static void test_envfile_conformance (void **state)
{
  (void)state;
  cleanup_free char *dir = xasprintf ("%s/docker-cli/envfile", conf_dir);
  cleanup_free char *path = xasprintf ("%s/cases.json", dir);
  berr_t err = BERR_INIT;
  cleanup_free char *data = NULL;
  size_t len;
  int cases = 0, passed = 0;

  assert_int_equal (fs_read_file (path, 1 << 20, &data, &len, &err), 0);
  cleanup_json json_t *doc = json_parse_buf (data, len, path, &err);
  assert_non_null (doc);
  size_t i;
  json_t *c;
  json_array_foreach (json_object_get (doc, "reader_cases"), i, c)
  {
    const char *test = json_string_value (json_object_get (c, "test"));
    const char *content = json_string_value (json_object_get (c, "content"));
    cleanup_free char *generated = NULL;
    if (!content)
      content = generated
          = generate_content (json_string_value (json_object_get (c, "content_generator")));
    assert_non_null (content);
    struct lookup_map lm = { json_object_get (c, "lookup") };
    cleanup_strv char **lines = NULL;
    berr_t e = BERR_INIT;
    int r = kvfile_parse_buf (content, strlen (content),
                              json_is_object (lm.map) ? map_lookup : NULL, &lm, &lines, &e);
    bool ok;
    cases++;
    if (json_object_get (c, "expected_lines"))
      {
        json_t *want = json_object_get (c, "expected_lines");
        cleanup_json json_t *got = r == 0 ? json_from_strv (lines) : NULL;
        ok = r == 0 && json_equal (got, want);
        if (!ok)
          printf ("# FAIL envfile %s: rc %d %s\n", test, r, e.msg ? e.msg : "wrong lines");
      }
    else
      ok = r < 0 && check_error (test, e.msg, c);
    passed += ok;
    berr_release (&e);
  }

  cleanup_free char *cwd = getcwd (NULL, 0);
  assert_int_equal (chdir (dir), 0);
  json_array_foreach (json_object_get (doc, "file_cases"), i, c)
  {
    const char *test = json_string_value (json_object_get (c, "test"));
    const char *argv[16] = { "create", json_string_value (json_object_get (c, "flag")),
                             json_string_value (json_object_get (c, "file")) };
    size_t n = 3, k;
    json_t *x;
    json_array_foreach (json_object_get (c, "extra_flags"), k, x)
    {
      argv[n++] = json_string_value (x);
    }
    argv[n++] = "busybox";
    struct run_request req;
    struct captured cap;
    parse_captured (argv, &req, &cap);
    json_t *want_env = json_object_get (c, "expected_env");
    json_t *want_labels = json_object_get (c, "expected_labels");
    bool ok;
    cases++;
    if (want_env || want_labels)
      {
        json_t *cfg = json_object_get (req.body, "Config");
        ok = cap.rc == 0 && (!want_env || json_equal (json_object_get (cfg, "Env"), want_env))
             && (!want_labels || json_equal (json_object_get (cfg, "Labels"), want_labels));
        if (!ok)
          printf ("# FAIL envfile %s (%s): rc %d %s\n", test, argv[2], cap.rc, cap.err);
      }
    else
      {
        cleanup_free char *msg = first_line (cap.err);
        ok = cap.rc == EXIT_ENGINE && check_error (test, msg, c);
      }
    passed += ok;
    captured_release (&cap);
    run_request_release (&req);
  }
  assert_int_equal (chdir (cwd), 0);
  printf ("# docker-cli envfile: %d/%d\n", passed, cases);
  count_cases += cases;
  count_passed += passed;
  assert_int_equal (passed, cases);
  assert_true (cases >= 14);
}

/* ---- conformance: go-connections port specs ---- */

/* Rows of a conformance TSV: comments and the header skipped; fields split at tabs. */
static char ***read_tsv (const char *path)
{
  cleanup_free char *data = NULL;
  size_t len;
  berr_t err = BERR_INIT;
  assert_int_equal (fs_read_file (path, 1 << 20, &data, &len, &err), 0);
  char ***rows = xcalloc (1, sizeof (char **));
  size_t n = 0;
  bool header = true;
  for (char *line = data; line && *line;)
    {
      char *nl = strchr (line, '\n');
      if (nl)
        *nl = '\0';
      if (*line != '#')
        {
          if (header)
            header = false;
          else
            {
              char **f = NULL;
              for (char *p = line;;)
                {
                  char *tab = strchr (p, '\t');
                  strv_push_take (&f, tab ? xstrndup (p, (size_t)(tab - p)) : xstrdup (p));
                  if (!tab)
                    break;
                  p = tab + 1;
                }
              rows = xrealloc (rows, (n + 2) * sizeof (char **));
              rows[n++] = f;
              rows[n] = NULL;
            }
        }
      line = nl ? nl + 1 : NULL;
    }
  return rows;
}

static void free_tsv (char ***rows)
{
  for (char ***r = rows; *r; r++)
    strv_free (*r);
  free (rows);
}

static int cmp_json_str (const void *a, const void *b)
{
  cleanup_free char *x = json_dumps (*(json_t *const *)a, JSON_COMPACT);
  cleanup_free char *y = json_dumps (*(json_t *const *)b, JSON_COMPACT);
  return strcmp (x, y);
}

static json_t *sorted_array (json_t *a)
{
  size_t n = json_array_size (a);
  json_t **v = xcalloc (n + 1, sizeof (json_t *));
  for (size_t i = 0; i < n; i++)
    v[i] = json_array_get (a, i);
  qsort (v, n, sizeof (json_t *), cmp_json_str);
  json_t *out = json_array ();
  for (size_t i = 0; i < n; i++)
    json_array_append (out, v[i]);
  free (v);
  return out;
}

/* "error" alone: any error; "error: msg": exactly msg. */
static bool expect_failure (const char *want, const char *got)
{
  if (!str_has_prefix (want, "error"))
    return false;
  if (strcmp (want, "error") == 0)
    return true;
  return got && strcmp (want + 7, got) == 0;
}

static bool port_part_case (char **row)
{
  const char *fn = row[0], *in = row[1], *want = row[2];
  berr_t e = BERR_INIT;
  bool ok = false;
  char buf[64];

  if (strcmp (fn, "ParsePort") == 0)
    {
      int p;
      if (nat_parse_port (in, &p, &e) == 0)
        {
          snprintf (buf, sizeof buf, "%d", p);
          ok = strcmp (buf, want) == 0;
        }
      else
        ok = expect_failure (want, e.msg);
    }
  else if (strcmp (fn, "SplitProtoPort") == 0)
    {
      cleanup_free char *proto = NULL, *port = NULL;
      nat_split_proto_port (in, &proto, &port);
      cleanup_json json_t *w = json_loads (want, 0, NULL);
      cleanup_json json_t *g = json_pack ("[s, s]", proto, port);
      ok = w && json_equal (w, g);
    }
  else if (strcmp (fn, "ParsePortRange") == 0)
    {
      int a, b;
      if (nat_parse_port_range (in, &a, &b, &e) == 0)
        {
          cleanup_json json_t *w = json_loads (want, 0, NULL);
          cleanup_json json_t *g = json_pack ("[i, i]", a, b);
          ok = w && json_equal (w, g);
        }
      else
        ok = expect_failure (want, e.msg);
    }
  else if (str_has_prefix (fn, "NewPort("))
    {
      cleanup_free char *proto = xstrndup (fn + 8, strcspn (fn + 8, ")"));
      cleanup_free char *p = NULL;
      if (nat_new_port (proto, in, &p, &e) == 0)
        ok = strcmp (p, want) == 0;
      else
        ok = expect_failure (want, e.msg);
    }
  if (!ok)
    printf ("# FAIL port-spec %s(\"%s\"): want %s, got %s\n", fn, in, want,
            e.msg ? e.msg : "a different value");
  berr_release (&e);
  return ok;
}

static bool port_spec_case (char **row)
{
  const char *spec = row[0], *want = row[1];
  struct port_mapping *m = NULL;
  size_t n = 0;
  berr_t e = BERR_INIT;
  bool ok;

  if (nat_parse_port_spec (spec, &m, &n, &e) == 0)
    {
      cleanup_json json_t *got = json_array ();
      for (size_t i = 0; i < n; i++)
        json_array_append_new (got,
                               json_pack ("[s, s, s]", m[i].port, m[i].host_ip, m[i].host_port));
      port_mappings_free (m, n);
      cleanup_json json_t *w = json_loads (want, 0, NULL);
      cleanup_json json_t *ws = w ? sorted_array (w) : NULL;
      cleanup_json json_t *gs = sorted_array (got);
      ok = ws && json_equal (ws, gs);
      if (!ok)
        {
          cleanup_free char *g = json_dumps (got, JSON_COMPACT);
          printf ("# FAIL port-spec ParsePortSpec(\"%s\"): got %s, want %s\n", spec, g, want);
        }
    }
  else
    {
      ok = expect_failure (want, e.msg);
      if (!ok)
        printf ("# FAIL port-spec ParsePortSpec(\"%s\"): error \"%s\", want %s\n", spec, e.msg,
                want);
    }
  berr_release (&e);
  return ok;
}

static void test_port_spec_conformance (void **state)
{
  (void)state;
  cleanup_free char *parts = xasprintf ("%s/port-spec/port_parts.tsv", conf_dir);
  cleanup_free char *specs = xasprintf ("%s/port-spec/port_spec.tsv", conf_dir);
  int cases = 0, passed = 0;
  char ***rows = read_tsv (parts);
  for (char ***r = rows; *r; r++, cases++)
    passed += strv_len (*r) >= 3 && port_part_case (*r);
  free_tsv (rows);
  rows = read_tsv (specs);
  for (char ***r = rows; *r; r++, cases++)
    passed += strv_len (*r) >= 2 && port_spec_case (*r);
  free_tsv (rows);
  printf ("# port-spec: %d/%d\n", passed, cases);
  count_cases += cases;
  count_passed += passed;
  assert_true (cases >= 70);
  assert_int_equal (passed, cases);
}

/* ---- conformance: go-units ulimits ---- */

static void test_ulimit_conformance (void **state)
{
  (void)state;
  cleanup_free char *path = xasprintf ("%s/go-units/ulimit.json", conf_dir);
  cleanup_free char *data = NULL;
  size_t len, i;
  berr_t err = BERR_INIT;
  int cases = 0, passed = 0;
  json_t *c;

  assert_int_equal (fs_read_file (path, 1 << 20, &data, &len, &err), 0);
  cleanup_json json_t *doc = json_parse_buf (data, len, path, &err);
  assert_non_null (doc);
  json_array_foreach (json_object_get (doc, "cases"), i, c)
  {
    const char *in = json_string_value (json_object_get (c, "input"));
    json_t *want = json_object_get (c, "expected");
    const char *want_str = json_string_value (json_object_get (c, "expected_string"));
    json_t *got = NULL;
    berr_t e = BERR_INIT;
    bool ok;
    int r = parse_ulimit (in, &got, &e);
    cases++;
    if (want_str)
      {
        cleanup_free char *s
            = r == 0 ? xasprintf ("%s=%lld:%lld", json_string_value (json_object_get (got, "Name")),
                                  (long long)json_integer_value (json_object_get (got, "Soft")),
                                  (long long)json_integer_value (json_object_get (got, "Hard")))
                     : NULL;
        ok = s && strcmp (s, want_str) == 0;
      }
    else if (json_is_string (want))
      ok = r < 0 && e.msg;
    else
      ok = r == 0 && json_equal (got, want);
    if (!ok)
      printf ("# FAIL ulimit \"%s\": rc %d %s\n", in, r, e.msg ? e.msg : "");
    passed += ok;
    json_decref (got);
    berr_release (&e);
  }
  printf ("# go-units ulimit: %d/%d\n", passed, cases);
  count_cases += cases;
  count_passed += passed;
  assert_true (cases > 0);
  assert_int_equal (passed, cases);
}

/* ---- argv → request ---- */

struct argv_case
{
  const char *argv[32];
  int rc;           /* what runopts_parse returns */
  const char *err;  /* the first line of its message (without "berth: "), or NULL */
  const char *json; /* {'Path/To/Key': value} in the body; '<absent>' for a missing key */
};

#include "test_runopts_cases.h"

static void test_argv_table (void **state)
{
  (void)state;
  int failed = 0, n = (int)ARRAY_SIZE (argv_cases);

  setenv ("RUNOPTS_TEST_SET", "yes", 1);
  for (int i = 0; i < n; i++)
    {
      const struct argv_case *c = &argv_cases[i];
      struct run_request req;
      struct captured cap;
      struct sbuf why;
      sbuf_init (&why);
      parse_captured (c->argv, &req, &cap);
      if (cap.rc != c->rc)
        sbuf_addf (&why, " rc %d, want %d;", cap.rc, c->rc);
      if (c->err)
        {
          cleanup_free char *line = first_line (cap.err);
          if (strcmp (line, c->err) != 0)
            sbuf_addf (&why, " error \"%s\", want \"%s\";", line, c->err);
        }
      else if (cap.err[0])
        sbuf_addf (&why, " unexpected message \"%s\";", cap.err);
      if (c->json && cap.rc == 0)
        {
          cleanup_json json_t *want = sq_json (c->json);
          const char *path;
          json_t *v;
          if (!want)
            sbuf_addf (&why, " bad expectation;");
          json_object_foreach (want, path, v)
          {
            json_t *got = at_path (req.body, path);
            bool absent = json_is_string (v) && strcmp (json_string_value (v), "<absent>") == 0;
            if (absent ? got != NULL : !json_equal (got, v))
              {
                cleanup_free char *g
                    = got ? json_dumps (got, JSON_COMPACT | JSON_ENCODE_ANY) : xstrdup ("<absent>");
                cleanup_free char *w = json_dumps (v, JSON_COMPACT | JSON_ENCODE_ANY);
                sbuf_addf (&why, " %s = %s, want %s;", path, g, w);
              }
          }
        }
      if (why.len)
        {
          printf ("# FAIL argv[%d] %s %s:%s\n", i, c->argv[0], c->argv[1] ? c->argv[1] : "",
                  why.buf);
          failed++;
        }
      sbuf_release (&why);
      captured_release (&cap);
      run_request_release (&req);
    }
  printf ("# runopts argv table: %d/%d\n", n - failed, n);
  assert_int_equal (failed, 0);
}

/* Two whole bodies, compared as text: every key, its value and docker's key order. */
static void expect_body (const char *const *argv, const char *want_sq)
{
  struct run_request req;
  struct captured cap;
  parse_captured (argv, &req, &cap);
  if (cap.rc != 0)
    printf ("# FAIL body: rc %d: %s\n", cap.rc, cap.err);
  assert_int_equal (cap.rc, 0);
  cleanup_json json_t *want = sq_json (want_sq);
  assert_non_null (want);
  cleanup_free char *w = json_dumps (want, JSON_COMPACT);
  cleanup_free char *g = json_dumps (req.body, JSON_COMPACT);
  if (strcmp (w, g) != 0)
    {
      size_t k = 0;
      while (w[k] && w[k] == g[k])
        k++;
      printf ("# FAIL body differs at %zu:\n#  got  …%.160s\n#  want …%.160s\n", k,
              g + (k > 40 ? k - 40 : 0), w + (k > 40 ? k - 40 : 0));
    }
  assert_string_equal (g, w);
  captured_release (&cap);
  run_request_release (&req);
}

static void test_full_bodies (void **state)
{
  (void)state;
  static const char *const create_argv[] = { "create",
                                             "--name",
                                             "web",
                                             "-i",
                                             "--init",
                                             "--runtime",
                                             "runc",
                                             "--sysctl",
                                             "net.ipv4.ip_forward=1",
                                             "--tmpfs",
                                             "/run:rw,size=1m",
                                             "--tmpfs",
                                             "/x",
                                             "--stop-signal",
                                             "SIGINT",
                                             "--stop-timeout",
                                             "5",
                                             "--health-cmd",
                                             "true",
                                             "--health-interval",
                                             "1m30s",
                                             "--health-retries",
                                             "3",
                                             "-p",
                                             "127.0.0.1:8080:80",
                                             "-p",
                                             "53/udp",
                                             "--expose",
                                             "90-91",
                                             "-v",
                                             "/data",
                                             "-v",
                                             "/a:/b:ro",
                                             "-v",
                                             "vol:/c",
                                             "--annotation",
                                             "a=b",
                                             "--ulimit",
                                             "nofile=10:20",
                                             "--ulimit",
                                             "core=1",
                                             "--device",
                                             "/dev/fuse",
                                             "--gpus",
                                             "all",
                                             "--log-driver",
                                             "json-file",
                                             "--log-opt",
                                             "max-size=1m",
                                             "--cap-add",
                                             "net_admin",
                                             "--cap-drop",
                                             "ALL",
                                             "--security-opt",
                                             "no-new-privileges",
                                             "--dns",
                                             "1.1.1.1",
                                             "--dns-search",
                                             "example.com",
                                             "--dns-option",
                                             "ndots:2",
                                             "--add-host",
                                             "db:10.0.0.5",
                                             "-l",
                                             "x=y",
                                             "-l",
                                             "a",
                                             "-e",
                                             "K=V",
                                             "-e",
                                             "E=",
                                             "-w",
                                             "/w",
                                             "-u",
                                             "1:2",
                                             "--entrypoint",
                                             "",
                                             "-h",
                                             "hn",
                                             "--domainname",
                                             "dn",
                                             "-m",
                                             "64m",
                                             "--memory-swap",
                                             "-1",
                                             "--memory-reservation",
                                             "32m",
                                             "--cpus",
                                             "0.5",
                                             "--cpu-shares",
                                             "512",
                                             "--cpuset-cpus",
                                             "0",
                                             "--pids-limit",
                                             "100",
                                             "--shm-size",
                                             "128m",
                                             "--oom-score-adj",
                                             "100",
                                             "--oom-kill-disable",
                                             "--read-only",
                                             "--group-add",
                                             "audio",
                                             "--ipc",
                                             "private",
                                             "--pid",
                                             "host",
                                             "--uts",
                                             "host",
                                             "--restart",
                                             "on-failure:3",
                                             "--cgroupns",
                                             "private",
                                             "--cgroup-parent",
                                             "mygroup",
                                             "--volumes-from",
                                             "other:ro",
                                             "--device-cgroup-rule",
                                             "c 1:3 rwm",
                                             "--mount",
                                             "type=tmpfs,dst=/y,tmpfs-size=1m",
                                             "--isolation",
                                             "default",
                                             "busybox:1.36",
                                             "sh",
                                             "-c",
                                             "echo hi",
                                             NULL };
  /* docker 28.2.2's request for the same argv (Binds in argv order: docker's is random). */
  expect_body (
      create_argv,
      "{'Name':'web','Config':{'Hostname':'hn','Domainname':'dn','User':'1:2',"
      "'AttachStdin':true,'AttachStdout':true,'AttachStderr':true,'ExposedPorts':{'53/udp':{},"
      "'80/tcp':{},'90/tcp':{},'91/tcp':{}},'Tty':false,'OpenStdin':true,'StdinOnce':true,"
      "'Env':['K=V','E='],'Cmd':['sh','-c','echo hi'],'Healthcheck':{'Test':['CMD-SHELL',"
      "'true'],'Interval':90000000000,'Retries':3},'Image':'busybox:1.36',"
      "'Volumes':{'/data':{}},'WorkingDir':'/w','Entrypoint':[''],'OnBuild':null,"
      "'Labels':{'a':'','x':'y'},'StopSignal':'SIGINT','StopTimeout':5},"
      "'HostConfig':{'Binds':['/a:/b:ro','vol:/c'],'ContainerIDFile':'',"
      "'LogConfig':{'Type':'json-file','Config':{'max-size':'1m'}},'NetworkMode':'default',"
      "'PortBindings':{'53/udp':[{'HostIp':'','HostPort':''}],'80/tcp':[{'HostIp':'127.0.0.1',"
      "'HostPort':'8080'}]},'RestartPolicy':{'Name':'on-failure','MaximumRetryCount':3},"
      "'AutoRemove':false,'VolumeDriver':'','VolumesFrom':['other:ro'],'ConsoleSize':[0,0],"
      "'Annotations':{'a':'b'},'CapAdd':['CAP_NET_ADMIN'],'CapDrop':['ALL'],"
      "'CgroupnsMode':'private','Dns':['1.1.1.1'],'DnsOptions':['ndots:2'],"
      "'DnsSearch':['example.com'],'ExtraHosts':['db:10.0.0.5'],'GroupAdd':['audio'],"
      "'IpcMode':'private','Cgroup':'','Links':null,'OomScoreAdj':100,'PidMode':'host',"
      "'Privileged':false,'PublishAllPorts':false,'ReadonlyRootfs':true,"
      "'SecurityOpt':['no-new-privileges'],'Tmpfs':{'/run':'rw,size=1m','/x':''},"
      "'UTSMode':'host','UsernsMode':'','ShmSize':134217728,"
      "'Sysctls':{'net.ipv4.ip_forward':'1'},'Runtime':'runc','Isolation':'default',"
      "'CpuShares':512,'Memory':67108864,'NanoCpus':500000000,'CgroupParent':'mygroup',"
      "'BlkioWeight':0,'BlkioWeightDevice':[],'BlkioDeviceReadBps':[],'BlkioDeviceWriteBps':[],"
      "'BlkioDeviceReadIOps':[],'BlkioDeviceWriteIOps':[],'CpuPeriod':0,'CpuQuota':0,"
      "'CpuRealtimePeriod':0,'CpuRealtimeRuntime':0,'CpusetCpus':'0','CpusetMems':'',"
      "'Devices':[{'PathOnHost':'/dev/fuse','PathInContainer':'/dev/fuse',"
      "'CgroupPermissions':'rwm'}],'DeviceCgroupRules':['c 1:3 rwm'],"
      "'DeviceRequests':[{'Driver':'','Count':-1,'DeviceIDs':null,'Capabilities':[['gpu']],"
      "'Options':{}}],'MemoryReservation':33554432,'MemorySwap':-1,'MemorySwappiness':-1,"
      "'OomKillDisable':true,'PidsLimit':100,'Ulimits':[{'Name':'core','Hard':1,'Soft':1},"
      "{'Name':'nofile','Hard':20,'Soft':10}],'CpuCount':0,'CpuPercent':0,'IOMaximumIOps':0,"
      "'IOMaximumBandwidth':0,'Mounts':[{'Type':'tmpfs','Target':'/y',"
      "'TmpfsOptions':{'SizeBytes':1048576}}],'MaskedPaths':null,'ReadonlyPaths':null,"
      "'Init':true},'NetworkingConfig':{'EndpointsConfig':{}}}"

  );
  static const char *const run_argv[] = {
    "run", "-d",      "-it",      "--rm",          "--network",         "mynet",  "--network-alias",
    "web", "--ip",    "10.1.0.5", "--mac-address", "02:42:ac:11:00:02", "--link", "db:database",
    "-P",  "busybox", NULL
  };
  expect_body (
      run_argv,
      "{'Name':'','Config':{'Hostname':'','Domainname':'','User':'','AttachStdin':false,"
      "'AttachStdout':false,'AttachStderr':false,'Tty':true,'OpenStdin':true,'StdinOnce':false,"
      "'Env':null,'Cmd':null,'Image':'busybox','Volumes':{},'WorkingDir':'','Entrypoint':null,"
      "'OnBuild':null,'Labels':{}},'HostConfig':{'Binds':null,'ContainerIDFile':'',"
      "'LogConfig':{'Type':'','Config':{}},'NetworkMode':'mynet','PortBindings':{},"
      "'RestartPolicy':{'Name':'no','MaximumRetryCount':0},'AutoRemove':true,'VolumeDriver':'',"
      "'VolumesFrom':null,'ConsoleSize':[0,0],'CapAdd':null,'CapDrop':null,'CgroupnsMode':'',"
      "'Dns':[],'DnsOptions':[],'DnsSearch':[],'ExtraHosts':null,'GroupAdd':null,'IpcMode':'',"
      "'Cgroup':'','Links':['db:database'],'OomScoreAdj':0,'PidMode':'','Privileged':false,"
      "'PublishAllPorts':true,'ReadonlyRootfs':false,'SecurityOpt':null,'UTSMode':'',"
      "'UsernsMode':'','ShmSize':0,'Isolation':'','CpuShares':0,'Memory':0,'NanoCpus':0,"
      "'CgroupParent':'','BlkioWeight':0,'BlkioWeightDevice':[],'BlkioDeviceReadBps':[],"
      "'BlkioDeviceWriteBps':[],'BlkioDeviceReadIOps':[],'BlkioDeviceWriteIOps':[],"
      "'CpuPeriod':0,'CpuQuota':0,'CpuRealtimePeriod':0,'CpuRealtimeRuntime':0,'CpusetCpus':'',"
      "'CpusetMems':'','Devices':[],'DeviceCgroupRules':null,'DeviceRequests':null,"
      "'MemoryReservation':0,'MemorySwap':0,'MemorySwappiness':-1,'OomKillDisable':false,"
      "'PidsLimit':0,'Ulimits':[],'CpuCount':0,'CpuPercent':0,'IOMaximumIOps':0,"
      "'IOMaximumBandwidth':0,'MaskedPaths':null,'ReadonlyPaths':null},"
      "'NetworkingConfig':{'EndpointsConfig':{'mynet':{'IPAMConfig':{'IPv4Address':'10.1.0.5'},"
      "'Links':['db:database'],'Aliases':['web'],'MacAddress':'02:42:ac:11:00:02',"
      "'DriverOpts':null,'GwPriority':0,'NetworkID':'','EndpointID':'','Gateway':'',"
      "'IPAddress':'','IPPrefixLen':0,'IPv6Gateway':'','GlobalIPv6Address':'',"
      "'GlobalIPv6PrefixLen':0,'DNSNames':null}}}}"

  );
}

/* A relative bind source starting with "." is made absolute against the working directory. */
static void test_relative_bind (void **state)
{
  (void)state;
  cleanup_free char *cwd = getcwd (NULL, 0);
  assert_int_equal (chdir ("/tmp"), 0);
  const char *argv[]
      = { "run", "-v", ".:/x", "-v", "./a/../b:/y:ro", "-v", "~/z:/z", "busybox", NULL };
  struct run_request req;
  struct captured cap;
  parse_captured (argv, &req, &cap);
  assert_int_equal (chdir (cwd), 0);
  assert_int_equal (cap.rc, 0);
  cleanup_json json_t *want = sq_json ("['/tmp:/x','/tmp/b:/y:ro','~/z:/z']");
  assert_true (json_equal (at_path (req.body, "HostConfig/Binds"), want));
  captured_release (&cap);
  run_request_release (&req);
}

/* ---- help and the request's own fields ---- */

static void test_help_and_flags (void **state)
{
  (void)state;
  struct run_request req;
  struct captured cap;
  const char *help[] = { "run", "--help", NULL };
  parse_captured (help, &req, &cap);
  assert_int_equal (cap.rc, -1);
  assert_non_null (strstr (cap.out, "Usage:  berth run [OPTIONS] IMAGE [COMMAND] [ARG...]"));
  assert_non_null (strstr (cap.out, "      --add-host list "));
  assert_non_null (strstr (cap.out, "  -m, --memory bytes "));
  assert_non_null (strstr (cap.out, "  -d, --detach "));
  assert_non_null (strstr (cap.out, "      --network network "));
  assert_null (strstr (cap.out, "--net ")); /* hidden, as docker's */
  assert_null (strstr (cap.out, "--dns-opt "));
  captured_release (&cap);
  run_request_release (&req);

  const char *chelp[] = { "create", "--help", NULL };
  parse_captured (chelp, &req, &cap);
  assert_int_equal (cap.rc, -1);
  assert_non_null (strstr (cap.out, "Usage:  berth create [OPTIONS] IMAGE [COMMAND] [ARG...]"));
  assert_null (strstr (cap.out, "--detach"));
  assert_null (strstr (cap.out, "--sig-proxy"));
  captured_release (&cap);
  run_request_release (&req);

  /* run's request fields */
  const char *rargv[] = { "run",        "-d",          "--sig-proxy=false",
                          "-q",         "--pull",      "never",
                          "--platform", "linux/arm64", "--cidfile",
                          "/tmp/cid",   "-i",          "-t",
                          "--rm",       "img",         "cmd",
                          "--flag",     NULL };
  parse_captured (rargv, &req, &cap);
  assert_int_equal (cap.rc, 0);
  assert_true (req.detach);
  assert_false (req.sig_proxy);
  assert_true (req.quiet);
  assert_true (req.rm && req.interactive && req.tty);
  assert_string_equal (req.pull, "never");
  assert_string_equal (req.platform, "linux/arm64");
  assert_string_equal (req.cidfile, "/tmp/cid");
  assert_null (req.detach_keys);
  assert_int_equal (strv_len (req.args), 3);
  assert_string_equal (req.args[2], "--flag");
  captured_release (&cap);
  run_request_release (&req);

  const char *dargv[] = { "create", "busybox", NULL };
  setenv ("DOCKER_DEFAULT_PLATFORM", "linux/s390x", 1);
  parse_captured (dargv, &req, &cap);
  unsetenv ("DOCKER_DEFAULT_PLATFORM");
  assert_int_equal (cap.rc, 0);
  assert_false (req.detach);
  assert_true (req.sig_proxy);
  assert_string_equal (req.pull, "missing");
  assert_string_equal (req.platform, "linux/s390x");
  captured_release (&cap);
  run_request_release (&req);
}

int main (void)
{
  conf_dir = getenv ("CONFORMANCE_DIR");
  if (conf_dir == NULL)
    {
      printf ("# CONFORMANCE_DIR is not set\n");
      return 1;
    }
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_envfile_conformance), cmocka_unit_test (test_port_spec_conformance),
    cmocka_unit_test (test_ulimit_conformance),  cmocka_unit_test (test_argv_table),
    cmocka_unit_test (test_full_bodies),         cmocka_unit_test (test_relative_bind),
    cmocka_unit_test (test_help_and_flags),
  };
  int rc = cmocka_run_group_tests (tests, NULL, NULL);
  printf ("# conformance (envfile, port-spec, ulimit): %d/%d cases passed\n", count_passed,
          count_cases);
  return rc;
}
