/* spec_int.h — shared between spec.c, spec_mounts.c, spec_devices.c and user.c. */
#ifndef BERTH_SPEC_INT_H
#define BERTH_SPEC_INT_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "container/spec.h"
#include "util/err.h"

/* The namespace modes of HostConfig, parsed once. */
enum ipc_kind
{
  IPC_PRIVATE, /* "", "private", "shareable" */
  IPC_NONE,
  IPC_HOST,
  IPC_CONTAINER,
};

struct spec_modes
{
  enum ipc_kind ipc;
  bool ipc_shareable;
  bool pid_host, pid_container;
  bool uts_host;
  bool net_host, net_container, net_none;
  bool cgroupns_private;
  bool privileged;
  bool readonly_rootfs;
};

/* HostConfig / Config accessors that treat absent, null and wrong types as zero values. */
const char *spec_str (const json_t *obj, const char *key);
int64_t spec_int (const json_t *obj, const char *key);
bool spec_bool (const json_t *obj, const char *key);
/* A JSON array of strings as a strv (NULL when absent or empty); non-strings are an error. */
int spec_strv (const json_t *obj, const char *key, char ***out, berr_t *err);

/* Docker's ReplaceOrAppendEnvValues: overrides replace by name, "NAME" alone removes NAME. */
void spec_env_apply (char ***env, char *const *overrides);

/* linux.devices and linux.resources.devices: Docker's defaults, --device, --device-cgroup-rule,
 * and every host device for privileged. */
int spec_add_devices (const json_t *hc, bool privileged, json_t *linux_obj, json_t *resources,
                      berr_t *err);
/* Parse one "c 1:3 rwm" rule into an OCI device cgroup entry. */
int spec_parse_cgroup_rule (const char *rule, json_t **out, berr_t *err);
/* memory, cpu, pids and blockIO of linux.resources. */
int spec_add_resources (const json_t *hc, json_t *resources, berr_t *err);

/* The mounts array; may set linux.rootfsPropagation. */
int spec_build_mounts (const struct spec_input *in, const struct spec_modes *m, json_t *spec,
                       berr_t *err);
/* Docker's MergeTmpfsOptions: later options win per flag and per data key; errors on unknown. */
int spec_merge_tmpfs_options (char *const *opts, char ***out, berr_t *err);

/* The user resolution on an open rootfs directory (O_PATH is enough). */
int spec_resolve_user_at (int rootfd, const char *user, char *const *group_add, json_t **user_obj,
                          berr_t *err);

#endif
