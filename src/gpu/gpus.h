/* gpus.h — docker's --gpus: the request syntax, and the NVIDIA devices it names, through CDI
 * when a spec lists them, else generated from the host driver the way `nvidia-ctk cdi generate`
 * would (device nodes, the driver's libraries from the ldconfig cache, its binaries).
 * See ../shared/research/gpu-dl.md §2. */
#ifndef BERTH_GPU_GPUS_H
#define BERTH_GPU_GPUS_H

#include <jansson.h>
#include <stdbool.h>

#include "util/err.h"

/* One --gpus value, as docker's opts.GpuOpts parses it: "all", "2", "device=0,1",
 * "\"device=0,1\"", "count=2,capabilities=utility,compute", "driver=nvidia,…". */
struct gpu_request
{
  char *driver;       /* "" or "nvidia" */
  int count;          /* -1: all; 0: not given (devices are) */
  char **device_ids;  /* "0", "1", "GPU-<uuid>", or NULL */
  char **capabilities; /* ["gpu"] and any given ("compute", "utility", …) */
};
void gpu_request_clear (struct gpu_request *r);
/* Parse one --gpus value; errors as docker's ("invalid count …", "cannot set both Count and
 * DeviceIDs on device request", "unexpected key 'x' in 'x=y'"). */
int gpu_request_parse (const char *value, struct gpu_request *out, berr_t *err);
/* The Engine API form: HostConfig.DeviceRequests[] entry {Driver, Count, DeviceIDs,
 * Capabilities: [[...]], Options: {}}. */
json_t *gpu_request_to_json (const struct gpu_request *r);
int gpu_request_from_json (const json_t *j, struct gpu_request *out, berr_t *err);

/* Where the host's NVIDIA driver is looked for (tests point these at a fake layout). */
struct gpu_host
{
  const char *dev_dir;      /* "/dev" */
  const char *ldcache;      /* "/etc/ld.so.cache" */
  const char *driver_root;  /* "/" : binaries searched in <root>/usr/bin, <root>/bin, … */
  const char *proc_driver;  /* "/proc/driver/nvidia" (version, gpus/<bus>/information) */
};

/* A CDI spec (JSON, kind "nvidia.com/gpu", one device per GPU by index and UUID, and "all")
 * generated from the host driver: /dev/nvidia* nodes (ctl, uvm, uvm-tools, modeset, per GPU),
 * the libraries of the driver version from the ldconfig cache (libcuda, libnvidia-ml, …),
 * nvidia-smi and friends, and a createContainer hook that runs ldconfig in the container (or
 * an equivalent), NVIDIA_VISIBLE_DEVICES=void. No driver: BERR_NOT_FOUND with docker's
 * message "could not select device driver \"\" with capabilities: [[gpu]]". */
int gpu_generate_spec (const struct gpu_host *host, json_t **spec, berr_t *err);

/* The CDI device names a request selects from the devices a registry knows ("nvidia.com/gpu=0",
 * …, or "nvidia.com/gpu=all" for all): count N takes the first N by index; an unknown id is an
 * error naming it. known: the qualified names available. */
int gpu_select (const struct gpu_request *r, char *const *known, char ***devices, berr_t *err);

#endif
