/* test_compose_engine.c — a Compose service as the Engine-API create body (what `berth run`
 * would send for the same flags), its labels and config hash, and the image name. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "compose/engine.h"
#include "compose/engine_int.h"
#include "util/fs.h"
#include "util/json.h"

static char *g_dir;
static char *g_env[] = { (char *)"PATH=/bin", NULL };

static const char full[]
    = "services:\n"
      "  web:\n"
      "    build: .\n"
      "    command: [\"srv\", \"--port\", \"5000\"]\n"
      "    environment:\n"
      "      A: one\n"
      "      UNSET:\n"
      "    ports: [\"127.0.0.1:8080:5000\", \"9000/udp\"]\n"
      "    expose: [\"7000\"]\n"
      "    volumes: [\".:/code\", \"logs:/var/log:ro\", {type: tmpfs, target: /tmp}]\n"
      "    networks:\n"
      "      front: {aliases: [www]}\n"
      "      back: {}\n"
      "    links: [\"db:database\"]\n"
      "    healthcheck:\n"
      "      test: [\"CMD\", \"true\"]\n"
      "      interval: 2s\n"
      "      retries: 3\n"
      "    restart: on-failure:3\n"
      "    cap_add: [net_admin]\n"
      "    extra_hosts: [\"gw=10.0.0.1\"]\n"
      "    stop_grace_period: 3s\n"
      "    stop_signal: SIGINT\n"
      "    labels: {tier: front}\n"
      "    deploy:\n"
      "      resources:\n"
      "        limits: {cpus: '1.5', memory: 64M}\n"
      "        reservations:\n"
      "          devices:\n"
      "            - {driver: nvidia, count: 1, capabilities: [gpu]}\n"
      "  db:\n"
      "    image: busybox:latest\n"
      "    networks: [back]\n"
      "networks:\n"
      "  front: {}\n"
      "  back: {}\n"
      "volumes:\n"
      "  logs: {}\n";

static int setup (void **state)
{
  (void)state;
  char tmpl[] = "/tmp/berth-ceng-XXXXXX";
  assert_non_null (mkdtemp (tmpl));
  g_dir = xasprintf ("%s/demo", tmpl);
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

static struct compose_project *load_text (const char *text)
{
  cleanup_berr berr_t err = BERR_INIT;
  cleanup_free char *path = xasprintf ("%s/compose.yaml", g_dir);
  assert_int_equal (fs_write_atomic (path, text, strlen (text), 0644, &err), 0);
  char *files[] = { path, NULL };
  struct compose_options o = { .files = files, .environ = g_env, .cwd = g_dir };
  struct compose_project *p = NULL;
  int r = compose_project_load (&o, &p, &err);
  if (r < 0)
    fail_msg ("load: %s", err.msg);
  return p;
}

static json_t *body_of (const struct compose_project *p, const char *svc, int n, const char *img,
                        char hash[DIGEST_STR_LEN])
{
  struct compose_ctx c = { 0 };
  cleanup_berr berr_t err = BERR_INIT;
  json_t *b = NULL;
  const struct compose_service *s = compose_service_find (p, svc);
  assert_non_null (s);
  if (compose_service_body (&c, p, s, n, false, img, &b, hash, &err) < 0)
    fail_msg ("body: %s", err.msg);
  return b;
}

static const char *path_str (json_t *j, const char *a, const char *b)
{
  return json_string_value (json_object_get (json_object_get (j, a), b));
}

static void test_body (void **state)
{
  (void)state;
  struct compose_project *p = load_text (full);
  char hash[DIGEST_STR_LEN];
  cleanup_json json_t *b = body_of (p, "web", 2, "sha256:aaaa", hash);
  json_t *cfg = json_object_get (b, "Config"), *hc = json_object_get (b, "HostConfig");
  assert_string_equal (json_get_str (b, "Name"), "demo-web-2");
  assert_string_equal (json_get_str (cfg, "Image"), "demo-web");
  json_t *labels = json_object_get (cfg, "Labels");
  assert_string_equal (json_get_str (labels, COMPOSE_LABEL_PROJECT), "demo");
  assert_string_equal (json_get_str (labels, COMPOSE_LABEL_SERVICE), "web");
  assert_string_equal (json_get_str (labels, COMPOSE_LABEL_NUMBER), "2");
  assert_string_equal (json_get_str (labels, COMPOSE_LABEL_ONEOFF), "False");
  assert_string_equal (json_get_str (labels, COMPOSE_LABEL_HASH), digest_hex (hash));
  assert_string_equal (json_get_str (labels, "tier"), "front");
  assert_string_equal (json_get_str (labels, COMPOSE_LABEL_DEPENDS), "");
  /* env: entries without a value are left out */
  cleanup_free char *env = json_dump_compact (json_object_get (cfg, "Env"));
  assert_string_equal (env, "[\"A=one\"]");
  cleanup_free char *cmd = json_dump_compact (json_object_get (cfg, "Cmd"));
  assert_string_equal (cmd, "[\"srv\",\"--port\",\"5000\"]");
  assert_true (json_is_null (json_object_get (cfg, "Entrypoint")));
  /* ports and expose */
  json_t *pb = json_object_get (hc, "PortBindings");
  json_t *b5000 = json_array_get (json_object_get (pb, "5000/tcp"), 0);
  assert_string_equal (json_get_str (b5000, "HostIp"), "127.0.0.1");
  assert_string_equal (json_get_str (b5000, "HostPort"), "8080");
  assert_non_null (json_object_get (pb, "9000/udp"));
  assert_non_null (json_object_get (json_object_get (cfg, "ExposedPorts"), "7000/tcp"));
  /* mounts: the bind like -v, the named volume as <project>_<key>, the tmpfs */
  cleanup_free char *bind0 = xasprintf ("%s:/code", g_dir);
  assert_string_equal (json_string_value (json_array_get (json_object_get (hc, "Binds"), 0)),
                       bind0);
  json_t *mounts = json_object_get (hc, "Mounts");
  assert_int_equal (json_array_size (mounts), 2);
  json_t *m0 = json_array_get (mounts, 0), *m1 = json_array_get (mounts, 1);
  assert_string_equal (json_get_str (m0, "Type"), "volume");
  assert_string_equal (json_get_str (m0, "Source"), "demo_logs");
  assert_true (json_is_true (json_object_get (m0, "ReadOnly")));
  assert_string_equal (json_get_str (m1, "Type"), "tmpfs");
  /* networks: back sorts first; its endpoint has the service name as alias and the link */
  assert_string_equal (json_get_str (hc, "NetworkMode"), "demo_back");
  json_t *eps = json_object_get (json_object_get (b, "NetworkingConfig"), "EndpointsConfig");
  assert_int_equal (json_object_size (eps), 1);
  json_t *back = json_object_get (eps, "demo_back");
  cleanup_free char *al = json_dump_compact (json_object_get (back, "Aliases"));
  assert_string_equal (al, "[\"web\"]");
  cleanup_free char *links = json_dump_compact (json_object_get (back, "Links"));
  assert_string_equal (links, "[\"demo-db-1:database\"]");
  cleanup_json json_t *extra = NULL;
  compose_service_networks (p, compose_service_find (p, "web"), &extra);
  cleanup_free char *fal
      = json_dump_compact (json_object_get (json_object_get (extra, "demo_front"), "Aliases"));
  assert_string_equal (fal, "[\"web\",\"www\"]");
  /* the rest of run's flags */
  assert_string_equal (path_str (hc, "RestartPolicy", "Name"), "on-failure");
  assert_int_equal (json_integer_value (json_object_get (json_object_get (hc, "RestartPolicy"),
                                                         "MaximumRetryCount")),
                    3);
  assert_string_equal (json_string_value (json_array_get (json_object_get (hc, "CapAdd"), 0)),
                       "CAP_NET_ADMIN");
  assert_string_equal (json_string_value (json_array_get (json_object_get (hc, "ExtraHosts"), 0)),
                       "gw:10.0.0.1");
  assert_int_equal (json_integer_value (json_object_get (hc, "NanoCpus")), 1500000000);
  assert_int_equal (json_integer_value (json_object_get (hc, "Memory")), 64 << 20);
  assert_int_equal (json_integer_value (json_object_get (cfg, "StopTimeout")), 3);
  assert_string_equal (json_get_str (cfg, "StopSignal"), "SIGINT");
  json_t *h = json_object_get (cfg, "Healthcheck");
  assert_int_equal (json_integer_value (json_object_get (h, "Interval")), 2000000000LL);
  assert_int_equal (json_integer_value (json_object_get (h, "Retries")), 3);
  json_t *dr = json_array_get (json_object_get (hc, "DeviceRequests"), 0);
  assert_string_equal (json_get_str (dr, "Driver"), "nvidia");
  assert_int_equal (json_integer_value (json_object_get (dr, "Count")), 1);
  compose_project_free (p);
}

static void test_hash (void **state)
{
  (void)state;
  struct compose_project *p = load_text (full);
  char h1[DIGEST_STR_LEN], h2[DIGEST_STR_LEN], h3[DIGEST_STR_LEN], hdb[DIGEST_STR_LEN];
  json_decref (body_of (p, "web", 1, "sha256:aaaa", h1));
  json_decref (body_of (p, "web", 3, "sha256:aaaa", h2));
  json_decref (body_of (p, "web", 1, "sha256:bbbb", h3));
  json_decref (body_of (p, "db", 1, "sha256:aaaa", hdb));
  assert_string_equal (h1, h2);     /* the number is not configuration */
  assert_string_not_equal (h1, h3); /* the image is */
  assert_string_not_equal (h1, hdb);
  compose_project_free (p);

  /* Changing one service's environment changes its hash only; scale changes none. */
  cleanup_free char *changed = xstrdup (full);
  memcpy (strstr (changed, "A: one"), "A: two", 6);
  p = load_text (changed);
  char c1[DIGEST_STR_LEN], cdb[DIGEST_STR_LEN];
  json_decref (body_of (p, "web", 1, "sha256:aaaa", c1));
  json_decref (body_of (p, "db", 1, "sha256:aaaa", cdb));
  assert_string_not_equal (c1, h1);
  assert_string_equal (cdb, hdb);
  compose_project_free (p);
  cleanup_free char *scaled = xasprintf ("%s", full);
  char *pos = strstr (scaled, "  db:\n    image: busybox:latest\n");
  assert_non_null (pos);
  cleanup_free char *with_scale
      = xasprintf ("%.*s  db:\n    scale: 3\n    image: busybox:latest\n%s", (int)(pos - scaled),
                   scaled, pos + strlen ("  db:\n    image: busybox:latest\n"));
  p = load_text (with_scale);
  char sdb[DIGEST_STR_LEN];
  json_decref (body_of (p, "db", 1, "sha256:aaaa", sdb));
  assert_string_equal (sdb, hdb);
  compose_project_free (p);
}

static void test_image_and_defaults (void **state)
{
  (void)state;
  struct compose_project *p
      = load_text ("services:\n  app:\n    image: busybox:latest\n    container_name: solo\n"
                   "    depends_on:\n      dep: {condition: service_healthy}\n"
                   "  dep:\n    image: busybox:latest\n    network_mode: none\n");
  const struct compose_service *app = compose_service_find (p, "app");
  cleanup_free char *img = compose_service_image (p, app);
  assert_string_equal (img, "busybox:latest");
  char h[DIGEST_STR_LEN];
  cleanup_json json_t *b = body_of (p, "app", 1, "sha256:aaaa", h);
  assert_string_equal (json_get_str (b, "Name"), "solo");
  json_t *hc = json_object_get (b, "HostConfig");
  assert_string_equal (json_get_str (hc, "NetworkMode"), "demo_default");
  assert_string_equal (path_str (hc, "RestartPolicy", "Name"), "no");
  assert_string_equal (json_get_str (json_object_get (json_object_get (b, "Config"), "Labels"),
                                     COMPOSE_LABEL_DEPENDS),
                       "dep:service_healthy:false");
  cleanup_json json_t *d = body_of (p, "dep", 1, "sha256:aaaa", h);
  assert_string_equal (json_get_str (json_object_get (d, "HostConfig"), "NetworkMode"), "none");
  assert_int_equal (json_object_size (json_object_get (json_object_get (d, "NetworkingConfig"),
                                                       "EndpointsConfig")),
                    0);
  /* one-off containers: <project>-<service>-run-<12 hex> */
  struct compose_ctx c = { 0 };
  cleanup_berr berr_t err = BERR_INIT;
  cleanup_json json_t *o = NULL;
  assert_int_equal (compose_service_body (&c, p, compose_service_find (p, "dep"), 1, true,
                                          "sha256:aaaa", &o, NULL, &err),
                    0);
  const char *on = json_get_str (o, "Name");
  assert_true (str_has_prefix (on, "demo-dep-run-"));
  assert_int_equal (strlen (on), strlen ("demo-dep-run-") + 12);
  compose_project_free (p);
}

int main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_body),
    cmocka_unit_test (test_hash),
    cmocka_unit_test (test_image_and_defaults),
  };
  return cmocka_run_group_tests (tests, setup, teardown);
}
