/* test_compose_load.c — loading projects: YAML (anchors, merge keys, the alias bound), errors
 * with file:line:col, discovery and -f merging, names, .env and env_file, profiles, the
 * cross-service checks, the typed model; and the conformance corpus's loader files, schema keys
 * and the full example. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <unistd.h>

#include "compose/compose.h"
#include "compose/interp.h"
#include "compose_conf.h"
#include "util/fs.h"

#define FULL_EXAMPLE_FLOOR 62
#define DOCKER_CLI_FLOOR 37

static char *g_dir;
static char *g_env[] = { (char *)"HOME=/home/tester", (char *)"PATH=/bin", NULL };

static void put (const char *name, const char *text)
{
  cleanup_berr berr_t err = BERR_INIT;
  cleanup_free char *p = xasprintf ("%s/%s", g_dir, name);
  cleanup_free char *d = xstrdup (p);
  *strrchr (d, '/') = '\0';
  assert_int_equal (fs_mkdir_p (d, 0755, &err), 0);
  assert_int_equal (fs_write_atomic (p, text, strlen (text), 0644, &err), 0);
}

static int setup (void **state)
{
  (void)state;
  char tmpl[] = "/tmp/berth-compose-XXXXXX";
  assert_non_null (mkdtemp (tmpl));
  g_dir = xasprintf ("%s/My Project", tmpl);
  cleanup_berr berr_t err = BERR_INIT;
  assert_int_equal (fs_mkdir_p (g_dir, 0755, &err), 0);
  return 0;
}

static int teardown (void **state)
{
  (void)state;
  cleanup_berr berr_t err = BERR_INIT;
  cleanup_free char *top = xstrdup (g_dir);
  *strrchr (top, '/') = '\0';
  fs_rm_rf (top, &err);
  free (g_dir);
  return 0;
}

/* Load with files (NULL-terminated, relative to g_dir) or discovery. */
static int load (const char *const *files, const char *pname, char **profiles,
                 struct compose_project **p, berr_t *err)
{
  cleanup_strv char **fv = NULL;
  for (size_t i = 0; files && files[i]; i++)
    strv_push (&fv, files[i]);
  struct compose_options o = {
    .files = fv, .project_name = pname, .profiles = profiles, .environ = g_env, .cwd = g_dir
  };
  return compose_project_load (&o, p, err);
}

static char *load_error (const char *text)
{
  put ("bad.yaml", text);
  const char *files[] = { "bad.yaml", NULL };
  struct compose_project *p = NULL;
  berr_t err = BERR_INIT;
  int r = load (files, "t", NULL, &p, &err);
  if (r == 0)
    {
      compose_project_free (p);
      return xstrdup ("(loaded)");
    }
  return err.msg;
}

#define assert_error(text, want)                                                                   \
  do                                                                                               \
    {                                                                                              \
      cleanup_free char *_m = load_error (text);                                                   \
      if (strcmp (_m, want) != 0)                                                                  \
        printf ("# got: %s\n", _m);                                                                \
      assert_string_equal (_m, want);                                                              \
    }                                                                                              \
  while (0)

static void test_yaml_anchors_merge (void **state)
{
  (void)state;
  const char *y = "x-base: &base\n  a: 1\n  b: 2\nx-more: &more\n  c: 3\n  b: 9\n"
                  "one:\n  <<: *base\n  b: 5\ntwo:\n  <<: [*more, *base]\nlist: &l [1, 2]\n"
                  "copy: *l\n";
  cleanup_cnode struct cnode *n = NULL;
  cleanup_berr berr_t err = BERR_INIT;
  assert_int_equal (cnode_parse_yaml (y, strlen (y), "f.yml", &n, &err), 0);
  assert_string_equal (cnode_text (cnode_get (cnode_get (n, "one"), "a")), "1");
  assert_string_equal (cnode_text (cnode_get (cnode_get (n, "one"), "b")), "5");
  /* In a list, earlier maps win. */
  assert_string_equal (cnode_text (cnode_get (cnode_get (n, "two"), "b")), "9");
  assert_string_equal (cnode_text (cnode_get (cnode_get (n, "two"), "a")), "1");
  assert_int_equal (cnode_get (n, "copy")->n, 2);
  /* An alias's copy keeps the anchored node's position. */
  assert_int_equal (cnode_get (n, "copy")->line, 12);
  assert_int_equal (cnode_get (n, "one")->line, 8);
  assert_int_equal (cnode_get (n, "one")->col, 3);
}

static void test_yaml_errors (void **state)
{
  (void)state;
  cleanup_cnode struct cnode *n = NULL;
  berr_t err = BERR_INIT;
  const char *dup = "a: 1\nb: 2\na: 3\n";
  assert_int_equal (cnode_parse_yaml (dup, strlen (dup), "d.yml", &n, &err), -1);
  assert_string_equal (err.msg, "d.yml:3:1: mapping key \"a\" already defined at line 1");
  berr_release (&err);
  /* Billion laughs: 9^9 nodes if expanded. */
  struct sbuf b;
  sbuf_init (&b);
  sbuf_adds (&b, "a: &a [x,x,x,x,x,x,x,x,x]\n");
  for (char c = 'b'; c <= 'j'; c++)
    sbuf_addf (&b, "%c: &%c [*%c,*%c,*%c,*%c,*%c,*%c,*%c,*%c,*%c]\n", c, c, c - 1, c - 1, c - 1,
               c - 1, c - 1, c - 1, c - 1, c - 1, c - 1);
  assert_int_equal (cnode_parse_yaml (b.buf, b.len, "bl.yml", &n, &err), -1);
  assert_non_null (strstr (err.msg, "aliases expand too much"));
  berr_release (&err);
  sbuf_release (&b);
  const char *bad = "services:\n  a:\n    image: x\n   bad: [\n";
  assert_int_equal (cnode_parse_yaml (bad, strlen (bad), "s.yml", &n, &err), -1);
  assert_true (str_has_prefix (err.msg, "s.yml:4:"));
  berr_release (&err);
  const char *unk = "a: *nope\n";
  assert_int_equal (cnode_parse_yaml (unk, strlen (unk), "u.yml", &n, &err), -1);
  berr_release (&err);
}

static void test_load_errors (void **state)
{
  (void)state;
  assert_error ("services:\n  web:\n    image: x\n    foo: bar\n",
                "bad.yaml:4:5: services.web Additional property foo is not allowed");
  assert_error ("servics:\n  web:\n    image: x\n",
                "bad.yaml:1:1: Additional property servics is not allowed");
  assert_error ("services:\n  a:\n    image: x\n    tty: maybe\n",
                "bad.yaml:4:10: services.a.tty must be a boolean");
  assert_error ("services:\n  a:\n    image: x\n    ports:\n      - \"80:99999\"\n",
                "bad.yaml:5:9: services.a.ports[0]: invalid port 80:99999: Invalid "
                "containerPort: 99999");
  assert_error ("services:\n  a:\n    image: x\n    depends_on: [b]\n  b:\n    image: x\n"
                "    depends_on: [a]\n",
                "bad.yaml:7:17: dependency cycle detected: a -> b -> a");
  assert_error ("services:\n  a:\n    image: x\n    depends_on: [nope]\n",
                "bad.yaml:4:18: service \"a\" depends on undefined service \"nope\": invalid "
                "compose project");
  assert_error ("services:\n  a:\n    image: x\n    ports: [\"8080:80\"]\n  b:\n    image: x\n"
                "    ports:\n      - \"127.0.0.1:8080:81\"\n",
                "bad.yaml:8:9: services.b.ports[0]: host port 127.0.0.1:8080/tcp is already "
                "published by service \"a\"");
  assert_error ("services:\n  a:\n    image: x\n    networks: [front]\n",
                "bad.yaml:4:16: service \"a\" refers to undefined network front: invalid "
                "compose project");
  assert_error ("services:\n  a:\n    image: x\n    volumes: [\"data:/data\"]\n",
                "bad.yaml:4:15: service \"a\" refers to undefined volume data: invalid compose "
                "project");
  assert_error ("services:\n  a:\n    command: x\n",
                "bad.yaml:3:5: service \"a\" has neither an image nor a build context "
                "specified: invalid compose project");
  assert_error ("services:\n  a:\n    image: ${X:?X must be set}\n",
                "bad.yaml:3:12: error while interpolating services.a.image: required variable "
                "X is missing a value: X must be set");
  assert_error ("services:\n  a:\n    image: x\n    healthcheck:\n      interval: soon\n",
                "bad.yaml:5:17: services.a.healthcheck.interval: invalid duration soon");
  assert_error ("services:\n  a:\n    image: x\n    shm_size: lots\n",
                "bad.yaml:4:15: services.a.shm_size: invalid size lots: invalid size: 'lots'");
  assert_error ("services:\n  a:\n    image: x\n    ulimits:\n      nofile: {soft: 10, hard: 5}\n",
                "bad.yaml:5:15: services.a.ulimits.nofile: soft limit 10 is above the hard "
                "limit 5");
  assert_error ("services:\n  a:\n    image: x\n    scale: 2\n    deploy: {replicas: 3}\n",
                "bad.yaml:4:12: services.a: can't set distinct values on 'scale' and "
                "'deploy.replicas'");
}

static void test_discovery_override_merge (void **state)
{
  (void)state;
  put ("compose.yaml", "services:\n  web:\n    image: web:1\n    command: [a, b]\n"
                       "    ports: [\"8080:80\", \"9090:90\"]\n    dns: [1.1.1.1]\n"
                       "    environment: {A: \"1\", B: \"2\"}\n"
                       "    volumes: [\"./data:/data\", \"logs:/logs\"]\n"
                       "volumes:\n  logs: {}\n");
  put ("compose.override.yaml", "services:\n  web:\n    command: c\n"
                                "    ports: [\"8080:80\", \"7070:70\"]\n    dns: [8.8.8.8]\n"
                                "    environment: [B=3, C=4]\n"
                                "    volumes: [\"./other:/data:ro\"]\n");
  put ("docker-compose.yml", "services: {ignored: {image: x}}\n");
  struct compose_project *p = NULL;
  cleanup_berr berr_t err = BERR_INIT;
  assert_int_equal (load (NULL, NULL, NULL, &p, &err), 0);
  assert_string_equal (p->name, "myproject");
  assert_int_equal (strv_len (p->config_files), 2);
  const struct compose_service *w = compose_service_find (p, "web");
  assert_non_null (w);
  assert_null (compose_service_find (p, "ignored"));
  /* command replaced, ports appended without the duplicate, dns appended, environment merged by
   * key, volumes merged by target. */
  assert_int_equal (strv_len (w->command), 1);
  assert_string_equal (w->command[0], "c");
  assert_int_equal (w->nports, 3);
  assert_string_equal (w->ports[2].published, "7070");
  assert_int_equal (strv_len (w->dns), 2);
  assert_int_equal (strv_len (w->environment), 3);
  assert_string_equal (w->environment[1], "B=3");
  assert_int_equal (w->nmounts, 2);
  cleanup_free char *other = xasprintf ("%s/other", g_dir);
  assert_string_equal (w->mounts[0].source, other);
  assert_true (w->mounts[0].read_only);
  assert_string_equal (w->mounts[1].type, "volume");
  assert_int_equal (p->nvolumes, 1);
  assert_string_equal (p->volumes[0].name, "myproject_logs");
  assert_int_equal (p->nnetworks, 1);
  assert_string_equal (p->networks[0].name, "myproject_default");
  compose_project_free (p);
  cleanup_free char *f1 = xasprintf ("%s/compose.yaml", g_dir);
  cleanup_free char *f2 = xasprintf ("%s/compose.override.yaml", g_dir);
  cleanup_free char *f3 = xasprintf ("%s/docker-compose.yml", g_dir);
  unlink (f1);
  unlink (f2);
  unlink (f3);
}

static void test_names (void **state)
{
  (void)state;
  cleanup_free char *a = compose_normalize_project_name ("My App.v2");
  assert_string_equal (a, "myappv2");
  cleanup_free char *b = compose_normalize_project_name ("_-x_Y");
  assert_string_equal (b, "x_y");
  assert_true (compose_project_name_valid ("a-b_c9"));
  assert_false (compose_project_name_valid ("-ab"));
  assert_false (compose_project_name_valid ("Ab"));
  put ("n.yaml", "name: from-file\nservices:\n  a:\n    image: \"${COMPOSE_PROJECT_NAME}:1\"\n");
  const char *files[] = { "n.yaml", NULL };
  struct compose_project *p = NULL;
  cleanup_berr berr_t err = BERR_INIT;
  assert_int_equal (load (files, NULL, NULL, &p, &err), 0);
  assert_string_equal (p->name, "from-file");
  assert_string_equal (p->services[0].image, "from-file:1");
  compose_project_free (p);
  assert_int_equal (load (files, "cli", NULL, &p, &err), 0);
  assert_string_equal (p->name, "cli");
  assert_string_equal (p->services[0].image, "cli:1");
  compose_project_free (p);
  assert_int_equal (load (files, "Bad", NULL, &p, &err), -1);
  assert_non_null (strstr (err.msg, "invalid project name \"Bad\""));
}

/* Shapes compose-go gives whatever the loader options: file modes as "0" + octal, deploy
 * policy durations in Go's spelling, create_host_path printed only when false. */
static void test_compose_go_shapes (void **state)
{
  (void)state;
  put ("shapes.yaml", "services:\n"
                      "  a:\n"
                      "    image: x\n"
                      "    volumes: [\"./d:/d\", {type: bind, source: ./e, target: /e,\n"
                      "              bind: {create_host_path: false}}]\n"
                      "    secrets: [{source: s, mode: 288}, {source: s, target: t, mode: 0440}]\n"
                      "    build: {context: ., secrets: [{source: s, mode: \"0400\"}]}\n"
                      "    deploy:\n"
                      "      update_config: {delay: 90s, monitor: 3600}\n"
                      "      restart_policy: {delay: 0s, window: 1500ms}\n"
                      "secrets:\n"
                      "  s: {file: ./s}\n");
  const char *files[] = { "shapes.yaml", NULL };
  struct compose_project *p = NULL;
  cleanup_berr berr_t err = BERR_INIT;
  assert_int_equal (load (files, "t", NULL, &p, &err), 0);
  struct cnode *a = cnode_get (cnode_get (p->tree, "services"), "a");
  struct cnode *sec = cnode_get (a, "secrets");
  assert_string_equal (cnode_text (cnode_get (sec->items[0], "mode")), "0440");
  assert_string_equal (cnode_text (cnode_get (sec->items[1], "mode")), "0440");
  struct cnode *bsec = cnode_get (cnode_get (a, "build"), "secrets");
  assert_string_equal (cnode_text (cnode_get (bsec->items[0], "mode")), "0400");
  struct cnode *dep = cnode_get (a, "deploy");
  assert_string_equal (cnode_text (cnode_get (cnode_get (dep, "update_config"), "delay")), "1m30s");
  assert_string_equal (cnode_text (cnode_get (cnode_get (dep, "update_config"), "monitor")),
                       "1h0m0s");
  assert_string_equal (cnode_text (cnode_get (cnode_get (dep, "restart_policy"), "delay")), "0s");
  assert_string_equal (cnode_text (cnode_get (cnode_get (dep, "restart_policy"), "window")),
                       "1.5s");
  struct cnode *vols = cnode_get (a, "volumes");
  assert_null (cnode_get (cnode_get (vols->items[0], "bind"), "create_host_path"));
  assert_string_equal (
      cnode_text (cnode_get (cnode_get (vols->items[1], "bind"), "create_host_path")), "false");
  /* The typed model keeps the defaults. */
  const struct compose_service *s = compose_service_find (p, "a");
  assert_int_equal (s->nsecrets, 2);
  assert_int_equal (s->secrets[0].mode, 0440);
  assert_int_equal (s->nmounts, 2);
  assert_true (s->mounts[0].create_host_path);
  assert_false (s->mounts[1].create_host_path);
  /* Without skip_normalization (the CLI's default) the default network and names are there. */
  assert_string_equal (
      cnode_text (cnode_get (cnode_get (cnode_get (p->tree, "networks"), "default"), "name")),
      "t_default");
  compose_project_free (p);
  cleanup_free char *m1
      = load_error ("services:\n  a:\n    image: x\n    secrets: [{source: s, mode: \"0899\"}]\n"
                    "secrets:\n  s: {file: ./s}\n");
  assert_non_null (strstr (m1, "invalid file mode 0899"));
  cleanup_free char *m2
      = load_error ("services:\n  a:\n    image: x\n    deploy: {update_config: {delay: soon}}\n");
  assert_non_null (strstr (m2, "invalid duration soon"));
  cleanup_free char *m3
      = load_error ("services:\n  a:\n    image: x\n    deploy: {restart_policy: {windows: 1s}}\n");
  assert_non_null (strstr (m3, "Additional property windows is not allowed"));
}

static void test_env_and_interpolation (void **state)
{
  (void)state;
  put (".env", "TAG=3.1\nexport PORT=8080 # the port\nGREETING=\"hello\\nworld\"\n");
  put ("web.env", "FROM_FILE=yes\nOVERRIDDEN=file\n");
  put ("i.yaml", "services:\n  web:\n    image: \"app:${TAG}\"\n"
                 "    ports: [\"${PORT}:80\"]\n    env_file: web.env\n"
                 "    environment:\n      OVERRIDDEN: env\n      LIT: \"$$HOME\"\n"
                 "      ${TAG}: key-not-interpolated\n      HOME:\n"
                 "    labels: [\"g=${GREETING}\"]\n    stop_grace_period: 90s\n"
                 "    shm_size: 2gb\n    healthcheck:\n      test: [\"CMD\", \"true\"]\n"
                 "      interval: 1500ms\n      retries: 3\n");
  const char *files[] = { "i.yaml", NULL };
  struct compose_project *p = NULL;
  cleanup_berr berr_t err = BERR_INIT;
  assert_int_equal (load (files, "t", NULL, &p, &err), 0);
  const struct compose_service *w = &p->services[0];
  assert_string_equal (w->image, "app:3.1");
  assert_string_equal (w->ports[0].published, "8080");
  assert_true (strv_contains (w->environment, "FROM_FILE=yes"));
  assert_true (strv_contains (w->environment, "OVERRIDDEN=env"));
  assert_true (strv_contains (w->environment, "LIT=$HOME"));
  assert_true (strv_contains (w->environment, "${TAG}=key-not-interpolated"));
  assert_true (strv_contains (w->environment, "HOME=/home/tester"));
  assert_string_equal (w->labels[0], "g=hello\nworld");
  assert_int_equal (w->stop_grace_period_ns, 90000000000LL);
  assert_int_equal (w->shm_size, 2147483648LL);
  assert_int_equal (w->healthcheck.interval_ns, 1500000000LL);
  assert_int_equal (w->healthcheck.retries, 3);
  assert_string_equal (cnode_text (cnode_get (cnode_get (w->node, "healthcheck"), "interval")),
                       "1.5s");
  compose_project_free (p);
  cleanup_free char *envp = xasprintf ("%s/.env", g_dir);
  unlink (envp);
}

static void test_profiles_and_order (void **state)
{
  (void)state;
  put ("p.yaml", "services:\n  web:\n    image: w\n    depends_on:\n      db:\n"
                 "        condition: service_healthy\n"
                 "  db:\n    image: d\n    profiles: [backend]\n"
                 "  debug:\n    image: b\n    profiles: [debug]\n"
                 "  gpu:\n    image: g\n    profiles: [debug]\n    deploy:\n      resources:\n"
                 "        reservations:\n          devices:\n            - driver: nvidia\n"
                 "              count: all\n              capabilities: [gpu]\n");
  const char *files[] = { "p.yaml", NULL };
  struct compose_project *p = NULL;
  cleanup_berr berr_t err = BERR_INIT;
  assert_int_equal (load (files, "t", NULL, &p, &err), 0);
  /* db is kept because web depends on it; debug and gpu are dropped. */
  assert_int_equal (p->nservices, 2);
  assert_non_null (compose_service_find (p, "db"));
  assert_int_equal (strv_len (p->disabled_services), 2);
  assert_int_equal (strv_len (p->defined_profiles), 2);
  const struct compose_service **order = NULL;
  assert_int_equal (compose_start_order (p, &order, &err), 0);
  assert_string_equal (order[0]->name, "db");
  assert_string_equal (order[1]->name, "web");
  free (order);
  assert_int_equal (compose_service_find (p, "web")->depends_on[0].condition, COMPOSE_DEP_HEALTHY);
  compose_project_free (p);
  char *prof[] = { (char *)"debug", NULL };
  assert_int_equal (load (files, "t", prof, &p, &err), 0);
  assert_int_equal (p->nservices, 4);
  const struct compose_service *g = compose_service_find (p, "gpu");
  assert_int_equal (g->ndevice_requests, 1);
  assert_int_equal (g->device_requests[0].count, -1);
  assert_string_equal (g->device_requests[0].capabilities[0], "gpu");
  compose_project_free (p);
}

static void test_shell_split (void **state)
{
  (void)state;
  char **w = NULL;
  cleanup_berr berr_t err = BERR_INIT;
  assert_int_equal (compose_shell_split ("sh -c 'echo \"a b\"' x\\ y \"q\\\"z\"", &w, &err), 0);
  assert_int_equal (strv_len (w), 5);
  assert_string_equal (w[2], "echo \"a b\"");
  assert_string_equal (w[3], "x y");
  assert_string_equal (w[4], "q\"z");
  strv_free (w);
  assert_int_equal (compose_shell_split ("echo 'open", &w, &err), -1);
}

static void test_emit_roundtrip (void **state)
{
  (void)state;
  put ("r.yaml", "services:\n  web:\n    image: w\n    command: [\"3000\", \"yes\", \"a: b\"]\n"
                 "    tty: true\n    labels: {multi: \"l1\\nl2\\n\"}\n");
  const char *files[] = { "r.yaml", NULL };
  struct compose_project *p = NULL;
  cleanup_berr berr_t err = BERR_INIT;
  assert_int_equal (load (files, "t", NULL, &p, &err), 0);
  cleanup_free char *y = NULL;
  assert_int_equal (cnode_emit_yaml (p->tree, &y, &err), 0);
  /* What config prints reads back to the same model. */
  cleanup_cnode struct cnode *back = NULL;
  assert_int_equal (cnode_parse_yaml (y, strlen (y), "out", &back, &err), 0);
  cleanup_json json_t *a = cnode_to_json (p->tree);
  cleanup_json json_t *b = cnode_to_json (back);
  assert_true (json_equal (a, b));
  assert_non_null (strstr (y, "\"3000\""));
  compose_project_free (p);
}

/* ---- the corpus ---- */

static char *corpus_path (const char *rel) { return xasprintf ("%s/compose/%s", conf_dir (), rel); }

static int load_corpus (const char *rel, char **env, struct compose_project **p, berr_t *err)
{
  cleanup_free char *f = corpus_path (rel);
  char *files[] = { f, NULL };
  cleanup_free char *dir = xstrdup (f);
  *strrchr (dir, '/') = '\0';
  struct compose_options o
      = { .files = files,
          .environ = env,
          .cwd = dir,
          .skip_consistency = strstr (rel, "full-example") || strstr (rel, "schema/"),
          .skip_normalization = strstr (rel, "full-example") != NULL };
  return compose_project_load (&o, p, err);
}

static void test_corpus_loader_testdata (void **state)
{
  (void)state;
  struct
  {
    const char *file;
    const char *error; /* NULL: must load */
  } cases[] = {
    { "loader-testdata/compose-test-with-version.yaml", NULL },
    { "loader-testdata/empty.yaml", NULL },
    { "loader-testdata/compose-depends-on-cycle.yaml", "dependency cycle detected: service1 -> "
                                                       "service2 -> service3 -> service1" },
    { "loader-testdata/compose-depends-on-self.yaml",
      "dependency cycle detected: service1 -> service1" },
    { "loader-testdata/compose-depends-on-profile-no-cycle.yaml", "dependency cycle detected" },
  };
  size_t pass = 0;
  for (size_t i = 0; i < ARRAY_SIZE (cases); i++)
    {
      struct compose_project *p = NULL;
      cleanup_berr berr_t err = BERR_INIT;
      int r = load_corpus (cases[i].file, g_env, &p, &err);
      bool ok = cases[i].error ? r < 0 && strstr (err.msg, cases[i].error) != NULL : r == 0;
      if (ok && r == 0 && strstr (cases[i].file, "with-version"))
        ok = compose_service_find (p, "web") && cnode_get (p->tree, "version") == NULL
             && strcmp (p->name, "compose-test-with-version") == 0;
      if (!ok)
        printf ("# FAIL %s: %s\n", cases[i].file, err.msg ? err.msg : "(loaded)");
      pass += ok;
      compose_project_free (p);
    }
  /* include and extends are Compose features the issue leaves out: berth refuses them clearly
   * instead of ignoring them. */
  struct compose_project *p = NULL;
  cleanup_berr berr_t err = BERR_INIT;
  assert_int_equal (load_corpus ("loader-testdata/compose-include.yaml", g_env, &p, &err), -1);
  assert_non_null (strstr (err.msg, "include is not supported"));
  printf ("# corpus loader-testdata: %zu/%zu (include/extends/remote cases not in scope)\n", pass,
          ARRAY_SIZE (cases));
  assert_int_equal (pass, ARRAY_SIZE (cases));
}

/* Every key the Compose schema allows is accepted (never "Additional property"). */
static void test_corpus_schema_keys (void **state)
{
  (void)state;
  cleanup_json json_t *s = conf_load ("schema/compose-spec.json");
  assert_non_null (s);
  json_t *defs = json_object_get (s, "$defs");
  struct
  {
    const char *def;
    const char *fmt; /* %s: the key */
  } where[] = {
    { "service", "services:\n  a:\n    image: x\n    %s: null\n" },
    { "network", "services: {}\nnetworks:\n  n:\n    %s: null\n" },
    { "volume", "services: {}\nvolumes:\n  v:\n    %s: null\n" },
  };
  size_t pass = 0, total = 0;
  for (size_t w = 0; w < ARRAY_SIZE (where); w++)
    {
      const char *k;
      json_t *v;
      json_object_foreach (json_object_get (json_object_get (defs, where[w].def), "properties"), k,
                           v)
      {
        total++;
        cleanup_free char *text = xasprintf (where[w].fmt, k);
        cleanup_free char *m = load_error (text);
        bool ok = strstr (m, "Additional property") == NULL;
        if (!ok)
          printf ("# FAIL %s.%s: %s\n", where[w].def, k, m);
        pass += ok;
      }
    }
  /* using-variables.yaml: every value a variable, typed after interpolation. */
  char *env[] = { (char *)"VARIABLE=1", NULL };
  struct compose_project *p = NULL;
  cleanup_berr berr_t err = BERR_INIT;
  total++;
  int r = load_corpus ("schema/using-variables.yaml", env, &p, &err);
  if (r < 0)
    printf ("# using-variables.yaml: %s\n", err.msg);
  pass += r == 0;
  compose_project_free (p);
  printf ("# corpus schema: %zu/%zu\n", pass, total);
  assert_int_equal (pass, total);
}

/* The corpus text with ${WORKING_DIR} and ${HOME} replaced. */
static char *fill_placeholders (const char *text, const char *dir, const char *home)
{
  struct sbuf b;
  sbuf_init (&b);
  sbuf_adds (&b, "");
  for (const char *s = text; *s;)
    if (str_has_prefix (s, "${WORKING_DIR}"))
      sbuf_adds (&b, dir), s += strlen ("${WORKING_DIR}");
    else if (str_has_prefix (s, "${HOME}"))
      sbuf_adds (&b, home), s += strlen ("${HOME}");
    else
      sbuf_addc (&b, *s++);
  return sbuf_detach (&b);
}

/* Compare want's keys (one level) with got's; count matches, name the differing keys. */
static void compare_keys (json_t *want, json_t *got, const char *prefix, size_t *match,
                          size_t *total, struct sbuf *diff)
{
  const char *k;
  json_t *v;
  json_object_foreach (want, k, v)
  {
    (*total)++;
    bool ok = json_equal (v, json_object_get (got, k));
    *match += ok;
    if (!ok)
      sbuf_addf (diff, " %s%s", prefix, k);
  }
  json_object_foreach (got, k, v) if (json_object_get (want, k) == NULL)
  {
    (*total)++;
    sbuf_addf (diff, " %s%s(extra)", prefix, k);
  }
}

/* The full example, loaded with compose-go's options for it (SkipNormalization,
 * SkipConsistencyCheck, ResolvePaths).  The reference is compose-go's YAML marshalling of the
 * project (expected.yaml): its JSON marshalling of the same struct (expected.json) differs only
 * in Go encoding/json shapes (extensions of resources and secrets are json:"-", an empty ipam is
 * still printed as {}), so services.foo, where those do not arise, is also checked against the
 * JSON. */
static void test_corpus_full_example (void **state)
{
  (void)state;
  cleanup_free char *dir = corpus_path ("full-example");
  cleanup_free char *wdenv = xasprintf ("WORKING_DIR=%s", dir);
  char *env[] = { (char *)"HOME=/home/tester", (char *)"BAR=this is a secret",
                  (char *)"QUX=qux_from_environment", wdenv, NULL };
  struct compose_project *p = NULL;
  cleanup_berr berr_t err = BERR_INIT;
  int r = load_corpus ("full-example/full-example.yml", env, &p, &err);
  if (r < 0)
    printf ("# full-example: %s\n", err.msg);
  assert_int_equal (r, 0);
  cleanup_json json_t *got = cnode_to_json (p->tree);
  if (getenv ("COMPOSE_TEST_DUMP")) /* for looking at the differences by hand */
    json_dump_file (got, getenv ("COMPOSE_TEST_DUMP"), JSON_INDENT (1));

  cleanup_free char *ypath = corpus_path ("full-example/expected.yaml");
  cleanup_free char *ytext = NULL;
  size_t ylen;
  assert_int_equal (fs_read_file (ypath, 1 << 20, &ytext, &ylen, &err), 0);
  cleanup_free char *yfixed = fill_placeholders (ytext, dir, "/home/tester");
  struct cnode *ytree = NULL;
  assert_int_equal (cnode_parse_yaml (yfixed, strlen (yfixed), ypath, &ytree, &err), 0);
  cleanup_json json_t *want = cnode_to_json (ytree);
  cnode_free (ytree);

  /* Every key of every service, and every top-level key. */
  size_t match = 0, total = 0;
  struct sbuf diff;
  sbuf_init (&diff);
  sbuf_adds (&diff, "");
  json_t *wsvcs = json_object_get (want, "services"), *gsvcs = json_object_get (got, "services");
  const char *k;
  json_t *v;
  json_object_foreach (wsvcs, k, v)
  {
    cleanup_free char *prefix = xasprintf ("services.%s.", k);
    compare_keys (v, json_object_get (gsvcs, k), prefix, &match, &total, &diff);
  }
  json_object_foreach (gsvcs, k, v) if (json_object_get (wsvcs, k) == NULL)
  {
    total++;
    sbuf_addf (&diff, " services.%s(extra)", k);
  }
  cleanup_json json_t *wtop = json_deep_copy (want), *gtop = json_deep_copy (got);
  json_object_del (wtop, "services");
  json_object_del (gtop, "services");
  compare_keys (wtop, gtop, "", &match, &total, &diff);
  printf ("# corpus full-example: %zu/%zu keys (every service's and the top level's) equal "
          "expected.yaml;%s%s\n",
          match, total, match == total ? " all equal" : " differ:", diff.buf);
  sbuf_release (&diff);

  /* services.foo against the JSON marshalling too. */
  cleanup_json json_t *wj = conf_load ("full-example/expected.json");
  assert_non_null (wj);
  cleanup_free char *wjs = json_dumps (wj, 0);
  cleanup_free char *wjfixed = fill_placeholders (wjs, dir, "/home/tester");
  cleanup_json json_t *w = json_loads (wjfixed, 0, NULL);
  assert_non_null (w);
  json_t *wfoo = json_object_get (json_object_get (w, "services"), "foo");
  json_t *gfoo = json_object_get (gsvcs, "foo");
  size_t jmatch = 0, jtotal = 0;
  json_object_foreach (wfoo, k, v)
  {
    jtotal++;
    bool ok = json_equal (v, json_object_get (gfoo, k));
    if (!ok)
      printf ("# full-example: services.foo.%s differs from expected.json\n", k);
    jmatch += ok;
  }
  printf ("# corpus full-example: %zu/%zu keys of services.foo equal expected.json\n", jmatch,
          jtotal);
  compose_project_free (p);
  assert_int_equal (jmatch, jtotal);
  /* A floor, so that a regression shows (every key matches today). */
  assert_true (match >= FULL_EXAMPLE_FLOOR);
  assert_int_equal (match, total);
}

/* docker/cli's v3 stack loader output for its full example: another implementation's shapes
 * (durations, published ports as numbers …), so only a key-level count is reported, with the
 * file required to load. */
static void test_corpus_docker_cli_v3 (void **state)
{
  (void)state;
  char *env[] = { (char *)"HOME=/home/tester", (char *)"BAR=this is a secret",
                  (char *)"QUX=qux_from_environment", NULL };
  struct compose_project *p = NULL;
  cleanup_berr berr_t err = BERR_INIT;
  cleanup_free char *f = corpus_path ("docker-cli-v3/full-example.yml");
  char *files[] = { f, NULL };
  cleanup_free char *dir = corpus_path ("docker-cli-v3");
  struct compose_options o
      = { .files = files, .environ = env, .cwd = dir, .skip_consistency = true };
  int r = compose_project_load (&o, &p, &err);
  if (r < 0)
    printf ("# docker-cli-v3: %s\n", err.msg);
  assert_int_equal (r, 0);
  cleanup_json json_t *want = conf_load ("docker-cli-v3/full-example.json.golden");
  assert_non_null (want);
  cleanup_json json_t *got = cnode_to_json (p->tree);
  if (getenv ("COMPOSE_TEST_DUMP_CLI")) /* for looking at the differences by hand */
    json_dump_file (got, getenv ("COMPOSE_TEST_DUMP_CLI"), JSON_INDENT (1));
  json_t *wfoo = json_object_get (json_object_get (want, "services"), "foo");
  json_t *gfoo = json_object_get (json_object_get (got, "services"), "foo");
  size_t match = 0, total = 0;
  const char *k;
  json_t *v;
  json_object_foreach (wfoo, k, v)
  {
    total++;
    match += json_equal (v, json_object_get (gfoo, k));
  }
  printf ("# corpus docker-cli-v3: loads; %zu/%zu keys of services.foo equal docker/cli's "
          "golden JSON\n",
          match, total);
  compose_project_free (p);
  assert_true (match >= DOCKER_CLI_FLOOR);
}

int main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_yaml_anchors_merge),
    cmocka_unit_test (test_yaml_errors),
    cmocka_unit_test (test_load_errors),
    cmocka_unit_test (test_discovery_override_merge),
    cmocka_unit_test (test_names),
    cmocka_unit_test (test_env_and_interpolation),
    cmocka_unit_test (test_compose_go_shapes),
    cmocka_unit_test (test_profiles_and_order),
    cmocka_unit_test (test_shell_split),
    cmocka_unit_test (test_emit_roundtrip),
    cmocka_unit_test (test_corpus_loader_testdata),
    cmocka_unit_test (test_corpus_schema_keys),
    cmocka_unit_test (test_corpus_full_example),
    cmocka_unit_test (test_corpus_docker_cli_v3),
  };
  return cmocka_run_group_tests (tests, setup, teardown);
}
