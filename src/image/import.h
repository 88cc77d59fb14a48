/* import.h — `berth import`: a root filesystem tarball becomes a one-layer image. */
#ifndef BERTH_IMPORT_H
#define BERTH_IMPORT_H

#include <jansson.h>

#include "store/store.h"

struct import_opts
{
  const char *tag;     /* full tag name or NULL */
  char **changes;      /* Dockerfile instructions: CMD ENTRYPOINT ENV EXPOSE LABEL ONBUILD
                          STOPSIGNAL USER VOLUME WORKDIR */
  const char *message; /* history comment; default "Imported from <source>" */
  const char *source;  /* for the default comment: "-", a path or a URL */
  uint64_t max_layer_size;
};

/* Import the tar read from fd; id receives "sha256:<hex>". */
int image_import (struct store *s, int fd, const struct import_opts *opts, char id[DIGEST_STR_LEN],
                  berr_t *err);
/* Apply `--change` instructions to a container config object (exposed for tests and commit). */
int image_apply_changes (json_t *container_config, char *const *changes, berr_t *err);

#endif
