/* cdi_internal.h — what the CDI files share: the YAML reader, the spec validator and the
 * registry's layout (cdi.c) used by the edit merger (cdi_apply.c). */
#ifndef BERTH_GPU_CDI_INTERNAL_H
#define BERTH_GPU_CDI_INTERNAL_H

#include <jansson.h>

#include "gpu/cdi.h"

/* Parse one YAML (or JSON) document into a jansson value; BERR_INVALID "line L column C: why". */
int cdi_yaml_parse (const char *data, size_t len, json_t **out, berr_t *err);

/* Check a spec against the CDI schema and its cdiVersion (unknown fields, required fields,
 * names, paths, the minimum version the features used need).  BERR_INVALID. */
int cdi_spec_validate (const json_t *spec, berr_t *err);
/* One of the OCI hook lists a CDI hook may name (prestart, createRuntime, ...). */
bool cdi_hook_name_valid (const char *name);

struct cdi_spec
{
  char *source; /* file path, or the name given to cdi_registry_add */
  int priority;
  json_t *json;
};

struct cdi_device
{
  char *qname; /* vendor/class=name */
  struct cdi_spec *spec;
  json_t *dev; /* borrowed from spec->json */
};

struct cdi_registry
{
  struct cdi_spec **specs;
  size_t nspecs;
  struct cdi_device *devs;
  size_t ndevs;
  char **errors;
  int next_priority;
};

/* The device of a qualified name, or NULL. */
const struct cdi_device *cdi_registry_find (const struct cdi_registry *r, const char *qname);

#endif
