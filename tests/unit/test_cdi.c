/* test_cdi.c — the CDI library (src/gpu/cdi*.c): spec files in JSON and YAML written to a temp
 * dir, every validation rule, directory priorities and conflicts, the "unresolvable" error, and
 * cdi_apply on an OCI spec with a fake NVIDIA node made with mknod (major 195). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "gpu/cdi.h"
#include "util/fs.h"
#include "util/json.h"

static char *g_dir;

static void write_file (const char *dir, const char *name, const char *text)
{
  cleanup_berr berr_t err = BERR_INIT;
  cleanup_free char *d = xasprintf ("%s/%s", g_dir, dir);
  assert_int_equal (fs_mkdir_p (d, 0755, &err), 0);
  cleanup_free char *p = xasprintf ("%s/%s", d, name);
  assert_int_equal (fs_write_atomic (p, text, strlen (text), 0644, &err), 0);
}

static char *dir_path (const char *dir) { return xasprintf ("%s/%s", g_dir, dir); }

static struct cdi_registry *load (const char *d1, const char *d2)
{
  cleanup_free char *p1 = dir_path (d1);
  cleanup_free char *p2 = d2 ? dir_path (d2) : NULL;
  char *dirs[] = { p1, p2, NULL };
  struct cdi_registry *r = NULL;
  cleanup_berr berr_t err = BERR_INIT;
  assert_int_equal (cdi_registry_load (dirs, &r, &err), 0);
  return r;
}

static bool errors_contain (struct cdi_registry *r, const char *a, const char *b)
{
  for (char *const *e = cdi_errors (r); e && *e; e++)
    if (strstr (*e, a) && (b == NULL || strstr (*e, b)))
      return true;
  return false;
}

static void test_names (void **state)
{
  assert_true (cdi_is_qualified_name ("nvidia.com/gpu=0"));
  assert_true (cdi_is_qualified_name ("nvidia.com/gpu=all"));
  assert_true (cdi_is_qualified_name ("nvidia.com/gpu=GPU-1234-abcd"));
  assert_true (cdi_is_qualified_name ("nvidia.com/mig=0:1"));
  assert_true (cdi_is_qualified_name ("a/b=c"));
  assert_true (cdi_is_qualified_name ("vendor_x.io/class.v2=dev_1.x"));
  assert_false (cdi_is_qualified_name ("/dev/nvidia0"));
  assert_false (cdi_is_qualified_name ("nvidia.com/gpu"));
  assert_false (cdi_is_qualified_name ("nvidia.com=0"));
  assert_false (cdi_is_qualified_name ("1nvidia.com/gpu=0"));
  assert_false (cdi_is_qualified_name ("nvidia.com-/gpu=0"));
  assert_false (cdi_is_qualified_name ("nvidia.com/gpu-=0"));
  assert_false (cdi_is_qualified_name ("nvidia.com/gpu=:0"));
  assert_false (cdi_is_qualified_name ("nvidia.com/gpu=0:"));
  assert_false (cdi_is_qualified_name ("nvidia.com/gpu="));
  assert_false (cdi_is_qualified_name ("nvidia.com/g pu=0"));
  assert_false (cdi_is_qualified_name ("nvidia.com/gpu=a/b"));
  assert_false (cdi_is_qualified_name (""));
}

static const char YAML_SPEC[] = "---\n"
                                "cdiVersion: \"0.6.0\"\n"
                                "kind: example.com/fpga\n"
                                "annotations:\n"
                                "  owner: test\n"
                                "containerEdits:\n"
                                "  env:\n"
                                "  - FPGA=1\n"
                                "devices:\n"
                                "- name: \"0\"\n"
                                "  containerEdits:\n"
                                "    deviceNodes:\n"
                                "    - path: /dev/fpga0\n"
                                "      type: c\n"
                                "      major: 240\n"
                                "      minor: 7\n"
                                "      fileMode: 0640\n"
                                "      permissions: rw\n"
                                "- name: card1\n"
                                "  containerEdits:\n"
                                "    env: [\"CARD=1\", 'Q=yes: no']\n"
                                "    mounts:\n"
                                "    - {hostPath: /opt/lib, containerPath: /usr/lib/fpga, options: "
                                "[ro, bind]}\n";

static const char JSON_SPEC[]
    = "{\"cdiVersion\":\"0.5.0\",\"kind\":\"example.com/gpu\",\n"
      " \"devices\":[{\"name\":\"0\",\"containerEdits\":{\"env\":[\"GPU=0\"]}},\n"
      "             {\"name\":\"all\",\"containerEdits\":{\"env\":[\"GPU=all\"]}}],\n"
      " \"containerEdits\":{\"env\":[\"FAKE_GPU=1\"]}}";

static void test_parse_json_yaml (void **state)
{
  write_file ("p1", "gpu.json", JSON_SPEC);
  write_file ("p1", "fpga.yaml", YAML_SPEC);
  write_file ("p1", "ignored.txt", "not a spec");
  write_file ("p1/sub", "nested.json", JSON_SPEC); /* subdirectories are not scanned */
  struct cdi_registry *r = load ("p1", "missing-dir");
  assert_null (cdi_errors (r)[0]);
  cleanup_strv char **names = cdi_device_names (r);
  assert_int_equal (strv_len (names), 4);
  assert_string_equal (names[0], "example.com/fpga=0");
  assert_string_equal (names[1], "example.com/fpga=card1");
  assert_string_equal (names[2], "example.com/gpu=0");
  assert_string_equal (names[3], "example.com/gpu=all");

  /* the YAML values came through with their types: 0640 is YAML 1.1 octal, quoted "yes: no"
   * stays a string, flow mappings work */
  cleanup_json json_t *spec = json_pack ("{s:{s:[s]}}", "process", "env", "PATH=/bin");
  char *devs[] = { "example.com/fpga=0", "example.com/fpga=card1", NULL };
  cleanup_berr berr_t err = BERR_INIT;
  assert_int_equal (cdi_apply (r, devs, spec, &err), 0);
  json_t *d = json_array_get (json_object_get (json_object_get (spec, "linux"), "devices"), 0);
  assert_int_equal (json_integer_value (json_object_get (d, "fileMode")), 0640);
  assert_int_equal (json_integer_value (json_object_get (d, "major")), 240);
  assert_string_equal (json_get_str (d, "type"), "c");
  json_t *env = json_object_get (json_object_get (spec, "process"), "env");
  assert_int_equal (json_array_size (env), 4);
  assert_string_equal (json_string_value (json_array_get (env, 1)), "FPGA=1");
  assert_string_equal (json_string_value (json_array_get (env, 3)), "Q=yes: no");
  json_t *rule = json_array_get (
      json_object_get (json_object_get (json_object_get (spec, "linux"), "resources"), "devices"),
      0);
  assert_string_equal (json_get_str (rule, "access"), "rw");
  json_t *m = json_array_get (json_object_get (spec, "mounts"), 0);
  assert_string_equal (json_get_str (m, "source"), "/opt/lib");
  assert_string_equal (json_get_str (m, "destination"), "/usr/lib/fpga");
  assert_int_equal (json_array_size (json_object_get (m, "options")), 2);
  assert_null (json_object_get (m, "type"));
  cdi_registry_free (r);
}

static void test_yaml_rejects (void **state)
{
  write_file ("y1", "anchor.yaml",
              "cdiVersion: 0.5.0\nkind: a.com/b\ndevices:\n- name: x\n  containerEdits: &e\n"
              "    env: [A=1]\n- name: y\n  containerEdits: *e\n");
  write_file ("y1", "twodocs.yaml", "cdiVersion: 0.5.0\n---\nkind: a.com/b\n");
  write_file ("y1", "syntax.json", "{\"cdiVersion\": \"0.5.0\", \"kind\": ");
  write_file (
      "y1", "dupkey.json",
      "{\"cdiVersion\":\"0.5.0\",\"kind\":\"a.com/b\",\"kind\":\"a.com/c\",\"devices\":[]}");
  write_file ("y1", "scalar.yaml", "just a string\n");
  write_file ("y1", "empty.yaml", "");
  struct cdi_registry *r = load ("y1", NULL);
  assert_true (errors_contain (r, "anchor.yaml", "anchors are not supported"));
  assert_true (errors_contain (r, "twodocs.yaml", "only one YAML document"));
  assert_true (errors_contain (r, "syntax.json", "line "));
  assert_true (errors_contain (r, "dupkey.json", "duplicate mapping key"));
  assert_true (errors_contain (r, "scalar.yaml", "spec: must be an object"));
  assert_true (errors_contain (r, "empty.yaml", "empty document"));
  assert_int_equal (strv_len (cdi_errors (r)), 6);
  cleanup_strv char **names = cdi_device_names (r);
  assert_null (names[0]);
  cdi_registry_free (r);
}

/* An unquoted numeric device name in YAML is the string the reference makes of it; in JSON a
 * number is a type error. */
static void test_yaml_numeric_name (void **state)
{
  write_file ("n1", "num.yaml",
              "cdiVersion: 0.5.0\nkind: a.com/b\ndevices:\n- name: 7\n  containerEdits:\n"
              "    env: [A=1]\n");
  write_file ("n1", "num.json",
              "{\"cdiVersion\":\"0.5.0\",\"kind\":\"c.com/d\",\"devices\":[{\"name\":7,"
              "\"containerEdits\":{\"env\":[\"A=1\"]}}]}");
  struct cdi_registry *r = load ("n1", NULL);
  cleanup_strv char **names = cdi_device_names (r);
  assert_int_equal (strv_len (names), 1);
  assert_string_equal (names[0], "a.com/b=7");
  assert_true (errors_contain (r, "num.json", "spec.devices[0].name: must be a string"));
  cdi_registry_free (r);
}

struct vcase
{
  const char *json;
  const char *want;
};

#define DEV(edits) "\"devices\":[{\"name\":\"d\",\"containerEdits\":" edits "}]"
#define SPEC(ver, rest) "{\"cdiVersion\":\"" ver "\",\"kind\":\"a.com/b\"," rest "}"

static const struct vcase vcases[] = {
  { "{\"kind\":\"a.com/b\"," DEV ("{\"env\":[\"A=1\"]}") "}",
    "missing required field \"cdiVersion\"" },
  { "{\"cdiVersion\":\"0.5.0\"," DEV ("{\"env\":[\"A=1\"]}") "}",
    "missing required field \"kind\"" },
  { "{\"cdiVersion\":\"0.5.0\",\"kind\":\"a.com/b\"}", "missing required field \"devices\"" },
  { SPEC ("0.5.0", "\"devices\":[]"), "no devices" },
  { SPEC ("0.5.0", "\"extra\":1," DEV ("{\"env\":[\"A=1\"]}")), "unknown field \"extra\"" },
  { SPEC ("0.5.0", DEV ("{\"deviceNodes\":[{\"path\":\"/dev/x\",\"bogus\":1}]}")),
    "spec.devices[0].containerEdits.deviceNodes[0]: unknown field \"bogus\"" },
  { SPEC ("0.5.0", DEV ("{\"env\":[\"A=1\"],\"oops\":[]}")), "unknown field \"oops\"" },
  { SPEC ("0.5.0", "\"devices\":[{\"name\":\"d\",\"x\":1,\"containerEdits\":{\"env\":[\"A=1\"]}}]"),
    "spec.devices[0]: unknown field \"x\"" },
  { SPEC ("0.9.0", DEV ("{\"env\":[\"A=1\"]}")), "unsupported cdiVersion \"0.9.0\"" },
  { SPEC ("1.2.0", DEV ("{\"env\":[\"A=1\"]}")), "unsupported cdiVersion" },
  { "{\"cdiVersion\":\"0.3.0\",\"kind\":\"a.com/b\",\"devices\":[{\"name\":\"0\","
    "\"containerEdits\":{\"env\":[\"A=1\"]}}]}",
    "must be at least" /* replaced below: the message says "needs at least v0.5.0" */ },
  { SPEC ("0.4.0", DEV ("{\"deviceNodes\":[{\"path\":\"/dev/x\",\"hostPath\":\"/dev/y\"}]}")),
    "hostPath needs at least v0.5.0" },
  { SPEC ("0.3.0", DEV ("{\"mounts\":[{\"hostPath\":\"/a\",\"containerPath\":\"/b\","
                        "\"type\":\"bind\"}]}")),
    "mount type needs at least v0.4.0" },
  { SPEC ("0.5.0", "\"annotations\":{\"k\":\"v\"}," DEV ("{\"env\":[\"A=1\"]}")),
    "annotations needs at least v0.6.0" },
  { SPEC ("0.6.0", DEV ("{\"additionalGids\":[44]}")), "additionalGids needs at least v0.7.0" },
  { SPEC ("0.6.0", DEV ("{\"intelRdt\":{\"closID\":\"x\"}}")), "intelRdt needs at least v0.7.0" },
  { SPEC ("1.0.0", DEV ("{\"netDevices\":[{\"hostInterfaceName\":\"eth1\",\"name\":\"n0\"}]}")),
    "netDevices needs at least v1.1.0" },
  { "{\"cdiVersion\":\"0.5.0\",\"kind\":\"a.com/b.c\"," DEV ("{\"env\":[\"A=1\"]}") "}",
    "a dot in the class of kind \"a.com/b.c\" needs at least v0.6.0" },
  { "{\"cdiVersion\":\"0.5.0\",\"kind\":\"a.com\"," DEV ("{\"env\":[\"A=1\"]}") "}",
    "invalid kind \"a.com\"" },
  { "{\"cdiVersion\":\"0.5.0\",\"kind\":\"1a.com/b\"," DEV ("{\"env\":[\"A=1\"]}") "}",
    "invalid kind" },
  { SPEC ("0.5.0", "\"devices\":[{\"name\":\"-x\",\"containerEdits\":{\"env\":[\"A=1\"]}}]"),
    "invalid device name \"-x\"" },
  { SPEC ("0.5.0", "\"devices\":[{\"name\":\"d\",\"containerEdits\":{\"env\":[\"A=1\"]}},"
                   "{\"name\":\"d\",\"containerEdits\":{\"env\":[\"A=2\"]}}]"),
    "device \"d\" defined twice" },
  { SPEC ("0.5.0", "\"devices\":[{\"name\":\"d\",\"containerEdits\":{}}]"),
    "has no container edits" },
  { SPEC ("0.5.0", "\"devices\":[{\"name\":\"d\"}]"), "missing required field \"containerEdits\"" },
  { SPEC ("0.5.0", DEV ("{\"hooks\":[{\"hookName\":\"preStart\",\"path\":\"/bin/true\"}]}")),
    "invalid hook name \"preStart\"" },
  { SPEC ("0.5.0", DEV ("{\"hooks\":[{\"hookName\":\"createRuntime\",\"path\":\"bin/true\"}]}")),
    "\"bin/true\" is not an absolute path" },
  { SPEC ("0.5.0", DEV ("{\"hooks\":[{\"hookName\":\"poststop\",\"path\":\"/x\",\"timeout\":0}]}")),
    "timeout: must be a positive number" },
  { SPEC ("0.5.0",
          DEV ("{\"hooks\":[{\"hookName\":\"poststop\",\"path\":\"/x\",\"env\":[\"X\"]}]}")),
    "invalid environment variable \"X\"" },
  { SPEC ("0.5.0", DEV ("{\"hooks\":[{\"path\":\"/x\"}]}")),
    "missing required field \"hookName\"" },
  { SPEC ("0.5.0", DEV ("{\"env\":[\"NOEQUALS\"]}")), "invalid environment variable \"NOEQUALS\"" },
  { SPEC ("0.5.0", DEV ("{\"env\":[\"=v\"]}")), "invalid environment variable \"=v\"" },
  { SPEC ("0.5.0", DEV ("{\"env\":\"A=1\"}")), "env: must be an array" },
  { SPEC ("0.5.0", DEV ("{\"deviceNodes\":[{\"path\":\"dev/x\"}]}")), "is not an absolute path" },
  { SPEC ("0.5.0", DEV ("{\"deviceNodes\":[{\"path\":\"/dev/x\",\"hostPath\":\"x\"}]}")),
    "hostPath: \"x\" is not an absolute path" },
  { SPEC ("0.5.0", DEV ("{\"deviceNodes\":[{\"hostPath\":\"/dev/x\"}]}")),
    "missing required field \"path\"" },
  { SPEC ("0.5.0", DEV ("{\"deviceNodes\":[{\"path\":\"/dev/x\",\"type\":\"x\"}]}")),
    "invalid device type \"x\"" },
  { SPEC ("0.5.0", DEV ("{\"deviceNodes\":[{\"path\":\"/dev/x\",\"permissions\":\"rwx\"}]}")),
    "invalid device permissions \"rwx\"" },
  { SPEC ("0.5.0", DEV ("{\"deviceNodes\":[{\"path\":\"/dev/x\",\"fileMode\":\"0666\"}]}")),
    "fileMode: must be an integer" },
  { SPEC ("0.5.0", DEV ("{\"deviceNodes\":[{\"path\":\"/dev/x\",\"major\":-1}]}")),
    "major: must be an integer" },
  { SPEC ("0.5.0", DEV ("{\"mounts\":[{\"hostPath\":\"/a\"}]}")),
    "missing required field \"containerPath\"" },
  { SPEC ("0.5.0", DEV ("{\"mounts\":[{\"hostPath\":\"/a\",\"containerPath\":\"b\"}]}")),
    "containerPath: \"b\" is not an absolute path" },
  { SPEC ("0.5.0", DEV ("{\"mounts\":[{\"hostPath\":\"a\",\"containerPath\":\"/b\"}]}")),
    "hostPath: \"a\" is not an absolute path" },
  { SPEC ("0.7.0", DEV ("{\"additionalGids\":[-1]}")), "must be a group id" },
  { SPEC ("0.5.0", "\"containerEdits\":[]," DEV ("{\"env\":[\"A=1\"]}")),
    "spec.containerEdits: must be an object" },
};

static void test_validation (void **state)
{
  struct cdi_registry *r = NULL;
  cleanup_berr berr_t err = BERR_INIT;
  char *none[] = { NULL };
  assert_int_equal (cdi_registry_load (none, &r, &err), 0);
  for (size_t i = 0; i < sizeof vcases / sizeof *vcases; i++)
    {
      json_error_t je;
      cleanup_json json_t *j = json_loads (vcases[i].json, 0, &je);
      if (j == NULL)
        fail_msg ("case %zu: test JSON does not parse: %s", i, je.text);
      const char *want = vcases[i].want;
      if (strcmp (want, "must be at least") == 0)
        want = "cdiVersion 0.3.0 is too low: device name \"0\" starting with a digit needs at "
               "least v0.5.0";
      berr_release (&err);
      int rc = cdi_registry_add (r, j, "case", &err);
      if (rc == 0 || strstr (err.msg, want) == NULL)
        fail_msg ("case %zu: want \"%s\", got %s", i, want, rc == 0 ? "success" : err.msg);
      assert_int_equal (err.kind, BERR_INVALID);
    }
  /* the same rules reach files: recorded per file, the file skipped */
  write_file ("v1", "bad.json", vcases[4].json);
  write_file ("v1", "good.json", JSON_SPEC);
  cdi_registry_free (r);
  r = load ("v1", NULL);
  assert_true (errors_contain (r, "/v1/bad.json: ", "unknown field \"extra\""));
  assert_int_equal (strv_len (cdi_errors (r)), 1);
  cleanup_strv char **names = cdi_device_names (r);
  assert_int_equal (strv_len (names), 2);
  cdi_registry_free (r);

  /* every version the reference knows is accepted, with or without a v */
  static const char *const ok[] = { "0.1.0", "0.2.0", "0.3.0", "0.4.0", "0.5.0", "0.6.0",
                                    "0.7.0", "0.8.0", "1.0.0", "1.1.0", "v0.3.0" };
  assert_int_equal (cdi_registry_load (none, &r, &err), 0);
  for (size_t i = 0; i < sizeof ok / sizeof *ok; i++)
    {
      cleanup_json json_t *j
          = json_pack ("{s:s, s:s, s:[{s:s, s:{s:[s]}}]}", "cdiVersion", ok[i], "kind", "a.com/b",
                       "devices", "name", "d", "containerEdits", "env", "A=1");
      if (cdi_registry_add (r, j, "ok", &err) < 0)
        fail_msg ("%s: %s", ok[i], err.msg);
    }
  cdi_registry_free (r);
}

static const char *env_of (json_t *spec, const char *key)
{
  size_t i;
  json_t *v;
  json_array_foreach (json_object_get (json_object_get (spec, "process"), "env"), i, v)
  {
    const char *s = json_string_value (v);
    if (strncmp (s, key, strlen (key)) == 0 && s[strlen (key)] == '=')
      return s + strlen (key) + 1;
  }
  return NULL;
}

static void test_priorities (void **state)
{
  /* /etc/cdi-like first dir: x=1 with V=etc; /var/run/cdi-like second: x=1 with V=run */
  write_file ("pr-etc", "a.json",
              "{\"cdiVersion\":\"0.5.0\",\"kind\":\"v.com/c\",\"devices\":["
              "{\"name\":\"x\",\"containerEdits\":{\"env\":[\"V=etc\"]}},"
              "{\"name\":\"only-etc\",\"containerEdits\":{\"env\":[\"E=1\"]}}]}");
  write_file ("pr-run", "b.yaml",
              "cdiVersion: 0.5.0\nkind: v.com/c\ndevices:\n- name: x\n  containerEdits:\n"
              "    env: [V=run]\n");
  /* two files of the same dir define dup: both copies dropped, each file's error recorded */
  write_file ("pr-run", "c1.json",
              "{\"cdiVersion\":\"0.5.0\",\"kind\":\"v.com/c\",\"devices\":["
              "{\"name\":\"dup\",\"containerEdits\":{\"env\":[\"D=1\"]}},"
              "{\"name\":\"keep1\",\"containerEdits\":{\"env\":[\"K=1\"]}}]}");
  write_file ("pr-run", "c2.json",
              "{\"cdiVersion\":\"0.5.0\",\"kind\":\"v.com/c\",\"devices\":["
              "{\"name\":\"dup\",\"containerEdits\":{\"env\":[\"D=2\"]}}]}");
  /* a conflict at the lower priority is resolved by a definition at the higher one */
  write_file ("pr-etc", "d1.json",
              "{\"cdiVersion\":\"0.5.0\",\"kind\":\"v.com/c\",\"devices\":["
              "{\"name\":\"fixed\",\"containerEdits\":{\"env\":[\"F=1\"]}}]}");
  write_file ("pr-etc", "d2.json",
              "{\"cdiVersion\":\"0.5.0\",\"kind\":\"v.com/c\",\"devices\":["
              "{\"name\":\"fixed\",\"containerEdits\":{\"env\":[\"F=2\"]}}]}");
  write_file ("pr-run", "d3.json",
              "{\"cdiVersion\":\"0.5.0\",\"kind\":\"v.com/c\",\"devices\":["
              "{\"name\":\"fixed\",\"containerEdits\":{\"env\":[\"F=3\"]}}]}");
  struct cdi_registry *r = load ("pr-etc", "pr-run");
  cleanup_strv char **names = cdi_device_names (r);
  assert_int_equal (strv_len (names), 4);
  assert_string_equal (names[0], "v.com/c=fixed");
  assert_string_equal (names[1], "v.com/c=keep1");
  assert_string_equal (names[2], "v.com/c=only-etc");
  assert_string_equal (names[3], "v.com/c=x");
  assert_true (errors_contain (r, "/c1.json: conflicting device \"v.com/c=dup\"", "c2.json"));
  assert_true (errors_contain (r, "/c2.json: conflicting device \"v.com/c=dup\"", "c1.json"));
  assert_true (errors_contain (r, "/d1.json: conflicting device \"v.com/c=fixed\"", NULL));
  assert_int_equal (strv_len (cdi_errors (r)), 4);

  cleanup_json json_t *spec = json_pack ("{s:{s:[]}}", "process", "env");
  char *x[] = { "v.com/c=x", "v.com/c=fixed", NULL };
  cleanup_berr berr_t err = BERR_INIT;
  assert_int_equal (cdi_apply (r, x, spec, &err), 0);
  assert_string_equal (env_of (spec, "V"), "run");
  assert_string_equal (env_of (spec, "F"), "3");
  char *dup[] = { "v.com/c=dup", NULL };
  assert_int_equal (cdi_apply (r, dup, spec, &err), -1);
  assert_int_equal (err.kind, BERR_NOT_FOUND);

  /* cdi_registry_add: the highest priority, above both directories */
  cleanup_json json_t *gen
      = json_pack ("{s:s, s:s, s:[{s:s, s:{s:[s]}}]}", "cdiVersion", "0.5.0", "kind", "v.com/c",
                   "devices", "name", "x", "containerEdits", "env", "V=generated");
  assert_int_equal (cdi_registry_add (r, gen, "generated", &err), 0);
  cleanup_json json_t *spec2 = json_object ();
  char *xo[] = { "v.com/c=x", NULL };
  assert_int_equal (cdi_apply (r, xo, spec2, &err), 0);
  assert_string_equal (env_of (spec2, "V"), "generated");
  cdi_registry_free (r);
}

static void test_unknown_device (void **state)
{
  write_file ("u1", "gpu.json", JSON_SPEC);
  struct cdi_registry *r = load ("u1", NULL);
  cleanup_json json_t *spec = json_pack ("{s:{s:[s]}}", "process", "env", "A=1");
  cleanup_json json_t *before = json_deep_copy (spec);
  char *devs[] = { "example.com/gpu=0", "example.com/gpu=9", "nvidia.com/gpu=all", NULL };
  cleanup_berr berr_t err = BERR_INIT;
  assert_int_equal (cdi_apply (r, devs, spec, &err), -1);
  assert_int_equal (err.kind, BERR_NOT_FOUND);
  assert_string_equal (err.msg, "unresolvable CDI devices example.com/gpu=9, nvidia.com/gpu=all");
  assert_true (json_equal (spec, before));
  cdi_registry_free (r);
}

/* A fake NVIDIA: /dev/nvidia0 as c 195:0 made with mknod in the temp dir. */
static void test_apply (void **state)
{
  if (geteuid () != 0)
    skip ();
  cleanup_free char *node = xasprintf ("%s/nvidia0", g_dir);
  cleanup_free char *ctl = xasprintf ("%s/nvidiactl", g_dir);
  cleanup_free char *fifo = xasprintf ("%s/fifo", g_dir);
  assert_int_equal (mknod (node, S_IFCHR | 0660, makedev (195, 0)), 0);
  assert_int_equal (chmod (node, 0660), 0);
  assert_int_equal (mknod (ctl, S_IFCHR | 0666, makedev (195, 255)), 0);
  assert_int_equal (chmod (ctl, 0666), 0);
  assert_int_equal (mkfifo (fifo, 0600), 0);
  cleanup_free char *text = xasprintf (
      "{\"cdiVersion\":\"0.7.0\",\"kind\":\"nvidia.com/gpu\",\n"
      " \"containerEdits\":{\"env\":[\"NVIDIA_VISIBLE_DEVICES=void\",\"FAKE_CDI=1\"],\n"
      "   \"deviceNodes\":[{\"path\":\"/dev/nvidiactl\",\"hostPath\":\"%s\"}],\n"
      "   "
      "\"mounts\":[{\"hostPath\":\"/lib/libcuda.so.1\",\"containerPath\":\"/usr/lib/libcuda.so.1\","
      "\"options\":[\"ro\",\"nosuid\",\"nodev\",\"bind\"]},\n"
      "     {\"hostPath\":\"/opt\",\"containerPath\":\"/a\",\"options\":[\"rbind\"]}],\n"
      "   \"hooks\":[{\"hookName\":\"createContainer\",\"path\":\"/usr/bin/hook\","
      "\"args\":[\"hook\",\"x\"],\"env\":[\"H=1\"],\"timeout\":5}],\n"
      "   \"additionalGids\":[0,44]},\n"
      " \"devices\":[\n"
      "  {\"name\":\"0\",\"containerEdits\":{\"deviceNodes\":[{\"path\":\"/dev/nvidia0\","
      "\"hostPath\":\"%s\"}],\"env\":[\"GPU0=1\"],\"additionalGids\":[44,45]}},\n"
      "  {\"name\":\"1\",\"containerEdits\":{\"deviceNodes\":[{\"path\":\"/dev/nvidia1\","
      "\"type\":\"c\",\"major\":195,\"minor\":1,\"uid\":7,\"gid\":8}],"
      "\"hooks\":[{\"hookName\":\"createRuntime\",\"path\":\"/usr/bin/rt\"}]}},\n"
      "  {\"name\":\"nocg\",\"containerEdits\":{\"deviceNodes\":[{\"path\":\"/dev/nvidia9\","
      "\"hostPath\":\"%s\",\"permissions\":\"none\",\"fileMode\":384}]}},\n"
      "  {\"name\":\"fifo\",\"containerEdits\":{\"deviceNodes\":[{\"path\":\"/dev/myfifo\","
      "\"hostPath\":\"%s\"}]}},\n"
      "  {\"name\":\"gone\",\"containerEdits\":{\"deviceNodes\":[{\"path\":\"/dev/gone\","
      "\"hostPath\":\"%s/nope\"}]}},\n"
      "  {\"name\":\"notdev\",\"containerEdits\":{\"deviceNodes\":[{\"path\":\"/dev/file\","
      "\"hostPath\":\"/etc/passwd\"}]}}]}",
      ctl, node, node, fifo, g_dir);
  write_file ("a1", "nvidia.json", text);
  struct cdi_registry *r = load ("a1", NULL);
  assert_null (cdi_errors (r)[0]);

  cleanup_json json_t *spec = json_pack (
      "{s:{s:[s,s,s], s:{s:i, s:i, s:[i]}}, s:[{s:s, s:s, s:s}, {s:s, s:s, s:s}, {s:s, s:s, "
      "s:s}], s:{s:[{s:s, s:s, s:i, s:i}], s:{s:[{s:b, s:s}]}}, s:{s:[{s:s}]}}",
      "process", "env", "PATH=/bin", "NVIDIA_VISIBLE_DEVICES=all", "HOME=/root", "user", "uid",
      1000, "gid", 1001, "additionalGids", 45, "mounts", "destination", "/proc", "type", "proc",
      "source", "proc", "destination", "/usr/lib/libcuda.so.1", "type", "bind", "source", "/old",
      "destination", "/dev/shm", "type", "tmpfs", "source", "shm", "linux", "devices", "path",
      "/dev/nvidia0", "type", "c", "major", 1, "minor", 3, "resources", "devices", "allow", 0,
      "access", "rwm", "hooks", "createContainer", "path", "/existing");
  char *devs[] = { "nvidia.com/gpu=0", "nvidia.com/gpu=1", "nvidia.com/gpu=nocg", NULL };
  cleanup_berr berr_t err = BERR_INIT;
  if (cdi_apply (r, devs, spec, &err) < 0)
    fail_msg ("%s", err.msg);

  /* env: replaced in place, new keys appended in order, spec edits once */
  json_t *env = json_object_get (json_object_get (spec, "process"), "env");
  assert_int_equal (json_array_size (env), 5);
  assert_string_equal (json_string_value (json_array_get (env, 0)), "PATH=/bin");
  assert_string_equal (json_string_value (json_array_get (env, 1)), "NVIDIA_VISIBLE_DEVICES=void");
  assert_string_equal (json_string_value (json_array_get (env, 2)), "HOME=/root");
  assert_string_equal (json_string_value (json_array_get (env, 3)), "FAKE_CDI=1");
  assert_string_equal (json_string_value (json_array_get (env, 4)), "GPU0=1");

  /* device nodes: the old /dev/nvidia0 replaced; lstat filled type, major/minor and mode;
   * the process's uid/gid used when the node has none */
  json_t *lnx = json_object_get (spec, "linux");
  json_t *devices = json_object_get (lnx, "devices");
  assert_int_equal (json_array_size (devices), 4);
  json_t *d = json_array_get (devices, 0);
  assert_string_equal (json_get_str (d, "path"), "/dev/nvidiactl");
  assert_int_equal (json_integer_value (json_object_get (d, "minor")), 255);
  assert_int_equal (json_integer_value (json_object_get (d, "fileMode")), 0666);
  d = json_array_get (devices, 1);
  assert_string_equal (json_get_str (d, "path"), "/dev/nvidia0");
  assert_string_equal (json_get_str (d, "type"), "c");
  assert_int_equal (json_integer_value (json_object_get (d, "major")), 195);
  assert_int_equal (json_integer_value (json_object_get (d, "minor")), 0);
  assert_int_equal (json_integer_value (json_object_get (d, "fileMode")), 0660);
  assert_int_equal (json_integer_value (json_object_get (d, "uid")), 1000);
  assert_int_equal (json_integer_value (json_object_get (d, "gid")), 1001);
  d = json_array_get (devices, 2); /* type and major given: no host node needed */
  assert_string_equal (json_get_str (d, "path"), "/dev/nvidia1");
  assert_int_equal (json_integer_value (json_object_get (d, "minor")), 1);
  assert_int_equal (json_integer_value (json_object_get (d, "uid")), 7);
  assert_int_equal (json_integer_value (json_object_get (d, "gid")), 8);
  assert_null (json_object_get (d, "fileMode"));
  d = json_array_get (devices, 3);
  assert_string_equal (json_get_str (d, "path"), "/dev/nvidia9");
  assert_int_equal (json_integer_value (json_object_get (d, "fileMode")), 0600);

  /* cgroup rules: appended after the existing deny-all, none for permissions "none" */
  json_t *rules = json_object_get (json_object_get (lnx, "resources"), "devices");
  assert_int_equal (json_array_size (rules), 4);
  cleanup_free char *r1 = json_dump_compact (json_array_get (rules, 1));
  cleanup_free char *r2 = json_dump_compact (json_array_get (rules, 2));
  cleanup_free char *r3 = json_dump_compact (json_array_get (rules, 3));
  assert_string_equal (r1, "{\"allow\":true,\"type\":\"c\",\"major\":195,\"minor\":255,\"access\":"
                           "\"rwm\"}");
  assert_string_equal (
      r2, "{\"allow\":true,\"type\":\"c\",\"major\":195,\"minor\":0,\"access\":\"rwm\"}");
  assert_string_equal (
      r3, "{\"allow\":true,\"type\":\"c\",\"major\":195,\"minor\":1,\"access\":\"rwm\"}");

  /* mounts: the same containerPath replaced, then stably sorted by depth */
  json_t *mounts = json_object_get (spec, "mounts");
  assert_int_equal (json_array_size (mounts), 4);
  const char *want[] = { "/proc", "/a", "/dev/shm", "/usr/lib/libcuda.so.1" };
  for (size_t i = 0; i < 4; i++)
    assert_string_equal (json_get_str (json_array_get (mounts, i), "destination"), want[i]);
  json_t *cuda = json_array_get (mounts, 3);
  assert_string_equal (json_get_str (cuda, "source"), "/lib/libcuda.so.1");
  assert_null (json_object_get (cuda, "type"));
  assert_int_equal (json_array_size (json_object_get (cuda, "options")), 4);

  /* hooks appended by name, with their args, env and timeout */
  json_t *hooks = json_object_get (spec, "hooks");
  json_t *cc = json_object_get (hooks, "createContainer");
  assert_int_equal (json_array_size (cc), 2);
  assert_string_equal (json_get_str (json_array_get (cc, 0), "path"), "/existing");
  cleanup_free char *h = json_dump_compact (json_array_get (cc, 1));
  assert_string_equal (
      h, "{\"path\":\"/usr/bin/hook\",\"args\":[\"hook\",\"x\"],\"env\":[\"H=1\"],\"timeout\":5}");
  json_t *cr = json_object_get (hooks, "createRuntime");
  assert_int_equal (json_array_size (cr), 1);
  assert_string_equal (json_get_str (json_array_get (cr, 0), "path"), "/usr/bin/rt");

  /* additionalGids: 0 ignored, no duplicates */
  cleanup_free char *gids = json_dump_compact (json_object_get (
      json_object_get (json_object_get (spec, "process"), "user"), "additionalGids"));
  assert_string_equal (gids, "[45,44]");

  /* a fifo node: type p, no cgroup rule */
  cleanup_json json_t *s2 = json_object ();
  char *ff[] = { "nvidia.com/gpu=fifo", NULL };
  assert_int_equal (cdi_apply (r, ff, s2, &err), 0);
  json_t *fd = json_array_get (json_object_get (json_object_get (s2, "linux"), "devices"), 1);
  assert_string_equal (json_get_str (fd, "type"), "p");
  assert_int_equal (json_array_size (json_object_get (
                        json_object_get (json_object_get (s2, "linux"), "resources"), "devices")),
                    1); /* only nvidiactl from the spec-level edits */

  /* a missing host node or a regular file: an error, the spec untouched */
  static const char *const badnames[] = { "nvidia.com/gpu=gone", "nvidia.com/gpu=notdev" };
  static const char *const badmsg[] = { "CDI device node /dev/gone: lstat ",
                                        "CDI device node /dev/file: /etc/passwd is not a device" };
  for (size_t i = 0; i < 2; i++)
    {
      cleanup_json json_t *s3 = json_pack ("{s:{s:[s]}}", "process", "env", "X=1");
      cleanup_json json_t *before = json_deep_copy (s3);
      char *bad[] = { (char *)badnames[i], NULL };
      berr_release (&err);
      assert_int_equal (cdi_apply (r, bad, s3, &err), -1);
      assert_non_null (strstr (err.msg, badmsg[i]));
      assert_true (json_equal (s3, before));
    }
  cdi_registry_free (r);
}

static int setup (void **state)
{
  char tmpl[] = "/tmp/test_cdi.XXXXXX";
  assert_non_null (mkdtemp (tmpl));
  g_dir = xstrdup (tmpl);
  return 0;
}

static int teardown (void **state)
{
  cleanup_berr berr_t err = BERR_INIT;
  fs_rm_rf (g_dir, &err);
  free (g_dir);
  return 0;
}

int main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_names),        cmocka_unit_test (test_parse_json_yaml),
    cmocka_unit_test (test_yaml_rejects), cmocka_unit_test (test_validation),
    cmocka_unit_test (test_priorities),   cmocka_unit_test (test_unknown_device),
    cmocka_unit_test (test_apply),        cmocka_unit_test (test_yaml_numeric_name),
  };
  return cmocka_run_group_tests (tests, setup, teardown);
}
