/* seccomp_profile.h — resolving Docker-format seccomp profiles for a given host.
 *
 * seccomp.h's seccomp_docker_default and seccomp_from_docker_json resolve for the running host;
 * these variants take the host as a parameter so that other architectures and kernels can be
 * tested here. */
#ifndef BERTH_SECCOMP_PROFILE_H
#define BERTH_SECCOMP_PROFILE_H

#include <jansson.h>
#include <stdbool.h>

#include "util/err.h"

struct seccomp_host
{
  /* Docker's (libseccomp's) native name: "amd64", "x86", "arm64", "arm", "s390x", "ppc64le",
   * "riscv64", …; NULL when unknown (no arch-specific rules, no archMap expansion). */
  const char *arch;
  bool has_kernel; /* false: uname's release did not parse */
  unsigned int kernel, major;
};

/* The architecture berth was built for (as Docker uses its own GOARCH) and uname's release. */
void seccomp_host_detect (struct seccomp_host *h);
/* The SCMP_ARCH_ name for a native name ("amd64" -> "SCMP_ARCH_X86_64"); NULL if unknown. */
const char *seccomp_arch_scmp_name (const char *native);

json_t *seccomp_docker_default_for (char *const *caps, const struct seccomp_host *h);
/* *out is NULL (and 0 returned) for a profile with neither defaultAction nor syscalls, which
 * Docker takes to mean "unconfined". */
int seccomp_from_docker_json_for (const char *text, char *const *caps, const struct seccomp_host *h,
                                  json_t **out, berr_t *err);

#endif
