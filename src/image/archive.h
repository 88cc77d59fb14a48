/* archive.h — image archives: docker-archive (as `docker save` writes it, legacy and Docker 25+
 * layouts) and OCI image layouts in a tar (as `skopeo copy ... oci-archive:` writes them). */
#ifndef BERTH_ARCHIVE_H
#define BERTH_ARCHIVE_H

#include "store/store.h"

struct load_opts
{
  uint64_t max_layer_size; /* 0: no bound beyond free space */
};

/* Load every image in the archive read from fd (plain, gzip, bzip2, xz or zstd compressed).
 * lines receives Docker's messages: "Loaded image: busybox:latest", "Loaded image ID: sha256:…",
 * and "The image X already exists, renaming the old one with ID … to empty string". */
int archive_load (struct store *s, int fd, const struct load_opts *opts, char ***lines,
                  berr_t *err);

enum save_format
{
  SAVE_DOCKER_ARCHIVE, /* manifest.json + repositories + OCI layout, like Docker 25+ */
  SAVE_OCI_ARCHIVE,    /* OCI layout only */
};
/* Write the named images (references or IDs) to out_fd as a tar. */
int archive_save (struct store *s, char *const *names, enum save_format format, int out_fd,
                  berr_t *err);

#endif
