/* gpus.h — docker's --gpus: the request syntax, and the NVIDIA devices it names, through CDI
 * when a spec lists them, else generated from the host driver the way `nvidia-ctk cdi generate`
 * would (device nodes, the driver's libraries from the ldconfig cache, its binaries).
 * See ../shared/research/gpu-dl.md §2. */
#ifndef BERTH_GPU_GPUS_H
#define BERTH_GPU_GPUS_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "util/err.h"

/* One --gpus value, as docker's opts.GpuOpts parses it: "all", "2", "device=0,1",
 * "\"device=0,1\"", "count=2,capabilities=utility,compute", "driver=nvidia,…". */
struct gpu_request
{
  char *driver;        /* "" or "nvidia" */
  int count;           /* -1: all; 0: not given (devices are) */
  char **device_ids;   /* "0", "1", "GPU-<uuid>", or NULL */
  char **capabilities; /* ["gpu"] and any given ("compute", "utility", …) */
  char **options;      /* "options=k=v,…" as "k=v" strings (docker's Options map), or NULL */
};
void gpu_request_clear (struct gpu_request *r);
/* Parse one --gpus value; errors as docker 28 words them ("invalid count (x): value must be …",
 * "unexpected key 'x' in 'x=y'", the CSV reader's), and the daemon's "cannot set both Count and
 * DeviceIDs on device request" (for callers with no daemon step after them, e.g. compose). */
int gpu_request_parse (const char *value, struct gpu_request *out, berr_t *err);
/* The same, as docker's CLI flag parser: the Count-and-DeviceIDs refusal is left to the daemon
 * side (gpu_select, when the container starts), as docker leaves it. */
int gpu_request_parse_flag (const char *value, struct gpu_request *out, berr_t *err);
/* The Engine API form: HostConfig.DeviceRequests[] entry {Driver, Count, DeviceIDs,
 * Capabilities: [[...]], Options: {}}. */
json_t *gpu_request_to_json (const struct gpu_request *r);
int gpu_request_from_json (const json_t *j, struct gpu_request *out, berr_t *err);

/* Where the host's NVIDIA driver is looked for (tests point these at a fake layout). */
struct gpu_host
{
  const char *dev_dir;     /* "/dev" */
  const char *ldcache;     /* "/etc/ld.so.cache" */
  const char *driver_root; /* "/" : binaries searched in <root>/usr/bin, <root>/bin, … */
  const char *proc_driver; /* "/proc/driver/nvidia" (version, gpus/<bus>/information) */
};

/* A CDI spec (JSON, cdiVersion 0.5.0, kind "nvidia.com/gpu", one device per GPU by index and by
 * UUID, and "all") generated from the host driver: per-GPU /dev/nvidiaN nodes in the devices;
 * spec-level nvidiactl, nvidia-uvm, nvidia-uvm-tools, nvidia-modeset and the nodes of
 * /dev/nvidia-caps; the libraries of the driver version from the ldconfig cache (libcuda,
 * libnvidia-ml, …, plus libnvidia-nvvm70), each bind-mounted ro,nosuid,nodev at its own path AND at
 * the path of its cache entry (the SONAME link, libcuda.so.1), which stands in for running ldconfig
 * in the container (no hook; see gpus_discover.c); nvidia-smi and friends;
 * NVIDIA_VISIBLE_DEVICES=void. Paths from the cache and the bin directories are resolved inside
 * driver_root; host paths in the spec are the resolved ones, container paths relative to
 * driver_root. No driver (no version file, no GPU node or no nvidiactl): BERR_NOT_FOUND with
 * docker's message "could not select device driver \"\" with capabilities: [[gpu]]". An unreadable
 * or corrupt cache: an error. */
int gpu_generate_spec (const struct gpu_host *host, json_t **spec, berr_t *err);

/* The CDI device names a request selects from the devices a registry knows ("nvidia.com/gpu=0",
 * …, or "nvidia.com/gpu=all" for all): count N takes the first N by index; an unknown id is an
 * error naming it. known: the qualified names available. */
int gpu_select (const struct gpu_request *r, char *const *known, char ***devices, berr_t *err);

/* Docker's error for a request no driver can serve: BERR_NOT_FOUND "could not select device
 * driver \"<driver>\" with capabilities: [[cap cap …]]" (r NULL: the plain [[gpu]] form). */
int gpu_error_no_driver (const struct gpu_request *r, berr_t *err);

/* The glibc loader cache (/etc/ld.so.cache), both layouts: the old "ld.so-1.7.0" table (alone, or
 * followed by the new one) and the new "glibc-ld.so.cache1.1". Entries of the new table when
 * present, else of the old. Every offset and count is checked against the buffer. */
struct gpu_ldcache_entry
{
  char *key;     /* the library name ("libcuda.so.1") */
  char *value;   /* its path ("/usr/lib/x86_64-linux-gnu/libcuda.so.1") */
  int32_t flags; /* FLAG_ELF_LIBC6 | arch bits (x86-64: 0x0303) */
  uint64_t hwcap;
};
int gpu_ldcache_parse (const char *data, size_t len, struct gpu_ldcache_entry **entries, size_t *n,
                       berr_t *err);
void gpu_ldcache_free (struct gpu_ldcache_entry *entries, size_t n);
/* Does an entry's flags name a library this process can load (libc6 and the same ABI)? */
bool gpu_ldcache_native (int32_t flags);

/* At container start: apply HostConfig.DeviceRequests (--gpus, --device vendor/class=name) to
 * the OCI spec through CDI; cdi_dirs NULL: /etc/cdi, /var/run/cdi. No request: nothing. */
int gpu_apply_device_requests (const json_t *host_config, json_t *oci_spec, char *const *cdi_dirs,
                               const struct gpu_host *host, berr_t *err);

#endif
