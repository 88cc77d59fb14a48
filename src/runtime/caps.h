/* caps.h — Linux capability names and Docker's capability rules. */
#ifndef BERTH_CAPS_H
#define BERTH_CAPS_H

#include <stdbool.h>
#include <stdint.h>

#include "util/err.h"

/* "CAP_SYS_ADMIN", "SYS_ADMIN", "sys_admin" -> CAP_SYS_ADMIN; -1 if unknown. */
int caps_from_name (const char *name);
/* CAP_SYS_ADMIN -> "CAP_SYS_ADMIN"; NULL if out of range. */
const char *caps_name (int cap);
/* Highest capability the running kernel knows (/proc/sys/kernel/cap_last_cap). */
int caps_last_cap (void);
/* The calling process's bounding set (CapBnd of /proc/self/status) as a mask. */
uint64_t caps_host_bounding (void);
/* Docker's 14 default capabilities, "CAP_…" names (static, NULL-terminated). */
const char *const *caps_docker_default (void);
/* Docker's rules for the container's set (moby TweakCapabilities): start from the defaults (or,
 * when privileged, every capability in the host's bounding set), add cap_add, remove cap_drop;
 * "ALL" in either list; names with or without CAP_, any case; unknown names are an error
 * (BERR_INVALID, "unknown capability: \"CAP_FOO\""). Result: sorted, de-duplicated CAP_ names.
 * An added capability the host's bounding set lacks is an error naming it. */
int caps_compute (char *const *cap_add, char *const *cap_drop, bool privileged, char ***out,
                  berr_t *err);
/* caps_compute against a given bounding set (bit N = capability N) instead of the host's, so
 * the rules can be tested for hosts unlike this one.  As in Docker: the drop list is applied
 * before the add list (a name in both is kept), "ALL" in cap_add wins over "ALL" in cap_drop,
 * and privileged ignores both lists.  Defaults, "ALL" and privileged take only what the
 * bounding set holds; the result is in capability-number order. */
int caps_compute_bounded (char *const *cap_add, char *const *cap_drop, bool privileged,
                          uint64_t bounding, char ***out, berr_t *err);

#endif
