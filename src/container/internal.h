/* internal.h — shared between the files of src/container. */
#ifndef BERTH_CONTAINER_INTERNAL_H
#define BERTH_CONTAINER_INTERNAL_H

#include "container/container.h"

static inline void cleanup_image_recp (struct image_rec **r)
{
  if (*r)
    image_rec_free (*r);
}
#define cleanup_image_rec __attribute__ ((cleanup (cleanup_image_recp)))

static inline void cleanup_container_recp (struct container_rec **r)
{
  if (*r)
    container_rec_free (*r);
}
#define cleanup_container_rec __attribute__ ((cleanup (cleanup_container_recp)))

/* flock'ed fd on $root/containers/<id>/lock (close to unlock). */
int container_lock (struct engine *e, const char *id, berr_t *err);
/* This boot's id (/proc/sys/kernel/random/boot_id), "" if unknown. */
char *boot_id (void);
json_t *state_new (void);
char *time_now_rfc3339 (void);
bool container_monitor_alive (const struct container_rec *c);
/* The monitor's exit file ($runroot/<id>/exit) into res; -1 if absent or unreadable. */
int read_exit_file (struct engine *e, const char *id, struct monitor_result *res);
/* Record the exit and release the container's resources; the caller holds the lock and c's
 * state is current. allow_restart applies the restart policy (not for reconciliation). */
int cleanup_locked (struct engine *e, struct container_rec *c, const struct monitor_result *res,
                    bool allow_restart, berr_t *err);
/* Remove a stopped container; the caller holds its lock. */
int container_remove_locked (struct engine *e, struct container_rec *c, bool volumes, berr_t *err);

#endif
