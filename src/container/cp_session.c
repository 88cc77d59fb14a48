/* cp_session.c — a container held still for `berth cp`: locked (start, stop and rm wait, like
 * Docker's daemon holds the container's lock while it archives or extracts), its rootfs mounted,
 * and the tree cp works in opened over it.
 *
 * A separate file from cp.c so that the cp core (and its unit tests) needs nothing of the
 * engine. */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "container/container.h"
#include "container/cp.h"
#include "container/internal.h"
#include "util/json.h"
#include "util/log.h"

/* The container's "Mounts", plus the files the engine bind-mounts at /etc (Docker's daemon
 * mounts these too when it serves a copy). */
static json_t *session_mounts (struct engine *e, struct container_rec *c)
{
  json_t *mounts = json_array ();
  json_t *given = json_object_get (c->config, "Mounts");
  if (json_is_array (given))
    json_array_extend (mounts, given);
  cleanup_free char *dir = container_dir (e, c->id);
  static const char *const files[][2] = { { "hostname", "/etc/hostname" },
                                          { "hosts", "/etc/hosts" },
                                          { "resolv.conf", "/etc/resolv.conf" } };
  for (size_t i = 0; i < ARRAY_SIZE (files); i++)
    {
      cleanup_free char *src = xasprintf ("%s/%s", dir, files[i][0]);
      if (access (src, F_OK) == 0)
        json_array_append_new (mounts, json_pack ("{s:s, s:s, s:s, s:b}", "Type", "bind", "Source",
                                                  src, "Destination", files[i][1], "RW", 1));
    }
  return mounts;
}

int cp_session_open (struct engine *e, struct container_rec *c, struct cp_session *s, berr_t *err)
{
  memset (s, 0, sizeof *s);
  s->lockfd = container_lock (e, c->id, err);
  if (s->lockfd < 0)
    return -1;
  s->id = xstrdup (c->id);
  /* Re-read under the lock: the container may have started or stopped since c was read. */
  struct container_rec *fresh = NULL;
  if (store_container_lookup (e->store, c->id, &fresh, err) < 0)
    {
      cp_session_close (e, s);
      return -1;
    }
  cleanup_container_rec struct container_rec *cur = fresh;
  bool running = container_is_running (cur);
  cleanup_free char *rootfs = NULL;
  if (container_mount_rootfs (e, cur, &rootfs, err) < 0)
    {
      cp_session_close (e, s);
      return berr_wrap (err, "mount the rootfs of %s", cur->name);
    }
  s->unmount = !running;
  cleanup_json json_t *mounts = session_mounts (e, cur);
  bool ro = json_is_true (
      json_object_get (json_object_get (cur->config, "HostConfig"), "ReadonlyRootfs"));
  if (cp_fs_open_container (rootfs, mounts, ro, &s->fs, err) < 0)
    {
      cp_session_close (e, s);
      return -1;
    }
  return 0;
}

void cp_session_close (struct engine *e, struct cp_session *s)
{
  cp_fs_free (s->fs);
  s->fs = NULL;
  if (s->unmount && s->id)
    {
      berr_t err = BERR_INIT;
      if (container_unmount_rootfs (e, s->id, &err) < 0)
        {
          log_warn ("cp: %s", err.msg);
          berr_release (&err);
        }
    }
  if (s->lockfd >= 0)
    close (s->lockfd);
  s->lockfd = -1;
  free (s->id);
  s->id = NULL;
}
