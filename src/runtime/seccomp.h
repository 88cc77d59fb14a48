/* seccomp.h — seccomp profiles: Docker's default profile as data, Docker-format profile files
 * (--security-opt seccomp=FILE), and compilation to BPF with libseccomp.
 *
 * The engine puts the resolved profile into the OCI spec (linux.seccomp: defaultAction,
 * defaultErrnoRet, architectures, syscalls[{names, action, errnoRet, args[{index, value,
 * valueTwo, op}]}]) so an external runtime can run the same spec.  The built-in runtime compiles
 * it in the parent (cached by content hash) and the child only installs the program. */
#ifndef BERTH_SECCOMP_H
#define BERTH_SECCOMP_H

#include <jansson.h>
#include <linux/filter.h>
#include <stddef.h>

#include "util/err.h"

/* Docker's default profile (moby profiles/seccomp default), resolved for a container whose
 * capability set is caps (CAP_ names: rules "includes.caps" apply only when the cap is present)
 * and for the host's architecture, in OCI linux.seccomp form.  New reference to a new object. */
json_t *seccomp_docker_default (char *const *caps);
/* A profile in Docker's JSON format (what --security-opt seccomp=FILE reads; defaultAction,
 * archMap or architectures, syscalls with includes/excludes on caps, arches and minKernel),
 * resolved the same way.  Errors name the problem (BERR_INVALID).  A profile with neither
 * defaultAction nor syscalls gives *out == NULL: Docker runs such a container unconfined. */
int seccomp_from_docker_json (const char *text, char *const *caps, json_t **out, berr_t *err);

struct seccomp_prog
{
  struct sock_filter *filter; /* heap */
  unsigned short len;
};
/* Compile an OCI linux.seccomp object. cache_dir (may be NULL) keeps programs keyed by the
 * sha256 of the canonical JSON, so the second start skips libseccomp entirely. */
int seccomp_compile (const json_t *oci, const char *cache_dir, struct seccomp_prog *out,
                     berr_t *err);
void seccomp_prog_release (struct seccomp_prog *p);
/* Install in the calling process (child side, after fork: no allocation).  flags are
 * SECCOMP_FILTER_FLAG_*; returns 0 or -errno. */
int seccomp_install (const struct seccomp_prog *p, unsigned int flags);

#endif
