/* gpu_apply.c — a container's device requests (HostConfig.DeviceRequests: --gpus, and --device
 * vendor/class=name as Driver "cdi") turned into CDI edits on its OCI spec at start. NVIDIA
 * requests use the nvidia.com/gpu devices of the CDI specs when there are any, else a spec
 * generated from the host's driver (gpus_discover.c). */
#include <string.h>

#include "gpu/cdi.h"
#include "gpu/gpus.h"
#include "util/json.h"
#include "util/log.h"

static bool has_gpu_cap (const struct gpu_request *r)
{
  for (size_t i = 0; r->capabilities && r->capabilities[i]; i++)
    if (strcmp (r->capabilities[i], "gpu") == 0)
      return true;
  return false;
}

int gpu_apply_device_requests (const json_t *host_config, json_t *oci_spec, char *const *cdi_dirs,
                               const struct gpu_host *host, berr_t *err)
{
  json_t *reqs = json_object_get (host_config, "DeviceRequests");
  if (!json_is_array (reqs) || json_array_size (reqs) == 0)
    return 0;
  struct cdi_registry *reg = NULL;
  cleanup_strv char **devices = NULL;
  int ret = -1;
  size_t i;
  json_t *j;
  json_array_foreach (reqs, i, j)
  {
    const char *driver = json_get_str (j, "Driver");
    if (driver && strcmp (driver, "cdi") == 0)
      {
        json_t *ids = json_object_get (j, "DeviceIDs");
        size_t k;
        json_t *id;
        json_array_foreach (ids, k, id) if (json_is_string (id))
            strv_push (&devices, json_string_value (id));
        continue;
      }
    struct gpu_request r = { 0 };
    if (gpu_request_from_json (j, &r, err) < 0)
      goto out;
    if ((r.driver && *r.driver && strcmp (r.driver, "nvidia") != 0) || !has_gpu_cap (&r))
      {
        gpu_error_no_driver (&r, err);
        gpu_request_clear (&r);
        goto out;
      }
    if (reg == NULL && cdi_registry_load (cdi_dirs, &reg, err) < 0)
      {
        gpu_request_clear (&r);
        goto out;
      }
    cleanup_strv char **known = NULL;
    {
      cleanup_strv char **all = cdi_device_names (reg);
      for (size_t k = 0; all && all[k]; k++)
        if (str_has_prefix (all[k], "nvidia.com/gpu="))
          strv_push (&known, all[k]);
    }
    if (known == NULL)
      {
        /* no CDI spec for NVIDIA GPUs: build one from the host's driver, as nvidia-ctk would */
        json_t *spec = NULL;
        if (gpu_generate_spec (host, &spec, err) < 0)
          {
            /* Docker's message names the request's driver and capabilities */
            berr_release (err);
            gpu_error_no_driver (&r, err);
            gpu_request_clear (&r);
            goto out;
          }
        int a = cdi_registry_add (reg, spec, "berth: generated from the host's NVIDIA driver", err);
        json_decref (spec);
        if (a < 0)
          {
            gpu_request_clear (&r);
            goto out;
          }
        cleanup_strv char **all = cdi_device_names (reg);
        for (size_t k = 0; all && all[k]; k++)
          if (str_has_prefix (all[k], "nvidia.com/gpu="))
            strv_push (&known, all[k]);
      }
    cleanup_strv char **sel = NULL;
    int s = gpu_select (&r, known, &sel, err);
    gpu_request_clear (&r);
    if (s < 0)
      goto out;
    for (size_t k = 0; sel && sel[k]; k++)
      if (!strv_contains (devices, sel[k]))
        strv_push (&devices, sel[k]);
  }
  if (devices == NULL)
    {
      ret = 0;
      goto out;
    }
  if (reg == NULL && cdi_registry_load (cdi_dirs, &reg, err) < 0)
    goto out;
  for (char *const *e = cdi_errors (reg); e && *e; e++)
    log_debug ("cdi: %s", *e);
  ret = cdi_apply (reg, devices, oci_spec, err);
out:
  if (reg)
    cdi_registry_free (reg);
  return ret;
}
