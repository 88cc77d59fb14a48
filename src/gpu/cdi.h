/* cdi.h — the Container Device Interface (CDI spec v0.1.0–1.1.0): spec files from /etc/cdi and
 * /var/run/cdi (JSON and YAML), qualified device names vendor/class=name, and the container
 * edits they carry (env, device nodes, mounts, hooks, additionalGids) applied to an OCI runtime
 * spec exactly as the reference implementation (tags.cncf.io/container-device-interface) does.
 * See ../shared/research/gpu-dl.md §1. */
#ifndef BERTH_GPU_CDI_H
#define BERTH_GPU_CDI_H

#include <jansson.h>
#include <stdbool.h>

#include "util/err.h"

struct cdi_registry;

/* Load every *.json / *.yaml spec of the directories, in order: a later directory's device of
 * the same qualified name wins; the same name twice at the same priority drops both (recorded as
 * an error). Unparseable or invalid files are skipped, their errors recorded (cdi_errors).
 * dirs NULL: {"/etc/cdi", "/var/run/cdi"}. Missing directories are fine. */
int cdi_registry_load (char *const *dirs, struct cdi_registry **out, berr_t *err);
/* Add one spec given as JSON (a generated one: --gpus without a spec file), at the highest
 * priority. Validated like a file. */
int cdi_registry_add (struct cdi_registry *r, json_t *spec, const char *source, berr_t *err);
void cdi_registry_free (struct cdi_registry *r);
/* Errors met while loading ("<file>: <why>"), strv owned by the registry. */
char *const *cdi_errors (const struct cdi_registry *r);
/* Every qualified device name, sorted (for `berth info`). New strv. */
char **cdi_device_names (const struct cdi_registry *r);

/* Is s a qualified CDI device name (vendor/class=name, the grammar of pkg/parser)? */
bool cdi_is_qualified_name (const char *s);

/* Apply the edits of the named devices to an OCI runtime spec (config.json object): the
 * spec-level edits of each spec file once, then each device's, merged as Cache.InjectDevices
 * does (env replaced in place by key, device nodes completed from the host with lstat and given
 * device-cgroup rules, mounts replacing the same containerPath and stably sorted by depth,
 * hooks appended by hookName, additionalGids appended). Any unknown name: BERR_NOT_FOUND
 * "unresolvable CDI devices NAME[, NAME…]" and spec untouched. */
int cdi_apply (struct cdi_registry *r, char *const *devices, json_t *oci_spec, berr_t *err);

#endif
