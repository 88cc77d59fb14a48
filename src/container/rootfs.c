/* rootfs.c — the container's root filesystem: an overlay of the image's layers (each unpacked
 * once in the store) with the container's upper/ and work/, mounted at merged/; and the
 * /etc/hostname, /etc/hosts and /etc/resolv.conf files the engine writes for it. */
#include <errno.h>
#include <fcntl.h>
#include <linux/mount.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "container/container.h"
#include "container/internal.h"
#include "net/attach.h"
#include "util/fs.h"
#include "util/json.h"
#include "util/log.h"

static bool is_mount_point (const char *path)
{
  struct statx a, b;
  cleanup_free char *parent = xasprintf ("%s/..", path);
  if (statx (AT_FDCWD, path, AT_NO_AUTOMOUNT, STATX_BASIC_STATS | STATX_MNT_ID, &a) < 0
      || statx (AT_FDCWD, parent, AT_NO_AUTOMOUNT, STATX_BASIC_STATS | STATX_MNT_ID, &b) < 0)
    return false;
  if (a.stx_mask & STATX_MNT_ID)
    return a.stx_mnt_id != b.stx_mnt_id;
  return a.stx_dev_major != b.stx_dev_major || a.stx_dev_minor != b.stx_dev_minor;
}

/* The new mount API takes one lower layer at a time ("lowerdir+", Linux 6.8), so deep images
 * are not bounded by the one-page option string. */
static int mount_overlay_fsapi (char **lowers, const char *upper, const char *work,
                                const char *target, berr_t *err)
{
  int fs = (int)syscall (SYS_fsopen, "overlay", FSOPEN_CLOEXEC);
  if (fs < 0)
    return -2;
  cleanup_close int fsfd = fs;
  for (size_t i = 0; lowers[i]; i++)
    if (syscall (SYS_fsconfig, fsfd, FSCONFIG_SET_STRING, "lowerdir+", lowers[i], 0) < 0)
      return errno == EINVAL && i == 0 ? -2 : berr_set (err, errno, "overlay lower %s", lowers[i]);
  if (upper
      && (syscall (SYS_fsconfig, fsfd, FSCONFIG_SET_STRING, "upperdir", upper, 0) < 0
          || syscall (SYS_fsconfig, fsfd, FSCONFIG_SET_STRING, "workdir", work, 0) < 0))
    return berr_set (err, errno, "overlay upper %s", upper);
  /* As Docker: no inode index (layers are shared by many mounts). */
  (void)syscall (SYS_fsconfig, fsfd, FSCONFIG_SET_STRING, "index", "off", 0);
  if (syscall (SYS_fsconfig, fsfd, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
    return berr_set (err, errno, "mount overlay at %s", target);
  int m = (int)syscall (SYS_fsmount, fsfd, FSMOUNT_CLOEXEC, upper ? 0 : MOUNT_ATTR_RDONLY);
  if (m < 0)
    return berr_set (err, errno, "mount overlay at %s", target);
  cleanup_close int mfd = m;
  if (syscall (SYS_move_mount, mfd, "", AT_FDCWD, target, MOVE_MOUNT_F_EMPTY_PATH) < 0)
    return berr_set (err, errno, "mount overlay at %s", target);
  return 0;
}

static int mount_overlay_legacy (char **lowers, const char *upper, const char *work,
                                 const char *target, berr_t *err)
{
  struct sbuf b;
  sbuf_init (&b);
  sbuf_adds (&b, "lowerdir=");
  for (size_t i = 0; lowers[i]; i++)
    {
      if (i)
        sbuf_addc (&b, ':');
      sbuf_adds (&b, lowers[i]);
    }
  if (upper)
    sbuf_addf (&b, ",upperdir=%s,workdir=%s", upper, work);
  sbuf_adds (&b, ",index=off");
  cleanup_free char *opts = sbuf_detach (&b);
  if (strlen (opts) >= 4096)
    return berr_set (err, 0, "mount overlay at %s: too many layers for this kernel", target);
  if (mount ("overlay", target, "overlay", upper ? 0 : MS_RDONLY, opts) < 0)
    return berr_set (err, errno, "mount overlay at %s", target);
  return 0;
}

int container_overlay_mount (char **lowers, const char *upper, const char *work, const char *target,
                             berr_t *err)
{
  int r = mount_overlay_fsapi (lowers, upper, work, target, err);
  if (r == -2)
    r = mount_overlay_legacy (lowers, upper, work, target, err);
  return r < 0 ? -1 : 0;
}

int container_mount_rootfs (struct engine *e, struct container_rec *c, char **path, berr_t *err)
{
  cleanup_free char *dir = container_dir (e, c->id);
  cleanup_free char *merged = xasprintf ("%s/merged", dir);
  cleanup_free char *upper = xasprintf ("%s/upper", dir);
  cleanup_free char *work = xasprintf ("%s/work", dir);
  if (is_mount_point (merged))
    {
      *path = steal_pointer (&merged);
      return 0;
    }
  const char *mk[] = { upper, work, merged };
  for (size_t i = 0; i < ARRAY_SIZE (mk); i++)
    if (mkdir (mk[i], 0755) < 0 && errno != EEXIST)
      return berr_set (err, errno, "create %s", mk[i]);

  struct image_rec *img_raw = NULL;
  if (store_image_get (e->store, c->image_id, &img_raw, err) < 0)
    return berr_wrap (err, "container %.12s", c->id);
  cleanup_image_rec struct image_rec *img = img_raw;
  cleanup_strv char **lowers = xzalloc (sizeof (char *));
  size_t n = strv_len (img->diff_ids);
  for (size_t i = n; i > 0; i--) /* the top layer first */
    strv_push_take (&lowers, store_layer_dir (e->store, img->diff_ids[i - 1]));
  if (n == 0)
    {
      /* An image without layers (scratch import): overlay still wants a lower dir. */
      cleanup_free char *empty = xasprintf ("%s/empty", dir);
      if (mkdir (empty, 0755) < 0 && errno != EEXIST)
        return berr_set (err, errno, "create %s", empty);
      strv_push (&lowers, empty);
    }
  int r = mount_overlay_fsapi (lowers, upper, work, merged, err);
  if (r == -2)
    r = mount_overlay_legacy (lowers, upper, work, merged, err);
  if (r < 0)
    return -1;
  *path = steal_pointer (&merged);
  return 0;
}

/* --ipc shareable: the container's /dev/shm is a tmpfs mounted here on the host side, so
 * containers started with --ipc container:<this> can bind the same one (Docker does the same
 * under containers/<id>/mounts/shm). */
int container_mount_shm (struct engine *e, struct container_rec *c, char **path, berr_t *err)
{
  cleanup_free char *dir = container_dir (e, c->id);
  cleanup_free char *shm = xasprintf ("%s/shm", dir);
  if (mkdir (shm, 0700) < 0 && errno != EEXIST)
    return berr_set (err, errno, "create %s", shm);
  if (!is_mount_point (shm))
    {
      json_int_t size = json_integer_value (
          json_object_get (json_object_get (c->config, "HostConfig"), "ShmSize"));
      cleanup_free char *data
          = xasprintf ("mode=1777,size=%lld", (long long)(size > 0 ? size : 64LL << 20));
      if (mount ("shm", shm, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, data) < 0)
        return berr_set (err, errno, "mount the shareable /dev/shm at %s", shm);
    }
  *path = steal_pointer (&shm);
  return 0;
}

int container_unmount_rootfs (struct engine *e, const char *id, berr_t *err)
{
  cleanup_free char *dir = container_dir (e, id);
  cleanup_free char *shm = xasprintf ("%s/shm", dir);
  if (is_mount_point (shm) && umount2 (shm, MNT_DETACH) < 0 && errno != EINVAL)
    return berr_set (err, errno, "unmount %s", shm);
  cleanup_free char *merged = xasprintf ("%s/merged", dir);
  for (int i = 0; i < 8 && is_mount_point (merged); i++)
    if (umount2 (merged, 0) < 0)
      {
        if (errno == EINVAL || errno == ENOENT)
          break;
        if (errno != EBUSY || umount2 (merged, MNT_DETACH) < 0)
          return berr_set (err, errno, "unmount %s", merged);
      }
  return 0;
}

/* ---------- /etc files ---------- */

static bool is_loopback_ns (const char *addr)
{
  return str_has_prefix (addr, "127.") || strcmp (addr, "::1") == 0;
}

/* Docker's resolv.conf: the host's, minus loopback nameservers unless the container shares the
 * host's network; Google's public servers when nothing is left; --dns* override. */
static char *resolv_conf (const json_t *hc, bool host_net)
{
  cleanup_free char *host = NULL;
  size_t len = 0;
  berr_t e = BERR_INIT;
  if (fs_read_file ("/etc/resolv.conf", 1 << 20, &host, &len, &e) < 0)
    {
      berr_release (&e);
      host = xstrdup ("");
    }
  json_t *dns = json_object_get (hc, "Dns");
  json_t *search = json_object_get (hc, "DnsSearch");
  json_t *opts = json_object_get (hc, "DnsOptions");
  struct sbuf out;
  sbuf_init (&out);
  int nameservers = 0;
  char *save = NULL;
  for (char *line = strtok_r (host, "\n", &save); line; line = strtok_r (NULL, "\n", &save))
    {
      char word[32] = "", arg[256] = "";
      sscanf (line, " %31s %255s", word, arg);
      if (strcmp (word, "nameserver") == 0)
        {
          if (json_array_size (dns) > 0 || (!host_net && is_loopback_ns (arg)))
            continue;
          nameservers++;
        }
      else if ((strcmp (word, "search") == 0 || strcmp (word, "domain") == 0)
               && json_array_size (search) > 0)
        continue;
      else if (strcmp (word, "options") == 0 && json_array_size (opts) > 0)
        continue;
      sbuf_adds (&out, line);
      sbuf_addc (&out, '\n');
    }
  size_t i;
  json_t *v;
  json_array_foreach (dns, i, v)
  {
    sbuf_addf (&out, "nameserver %s\n", json_string_value (v));
    nameservers++;
  }
  if (json_array_size (search) > 0)
    {
      sbuf_adds (&out, "search");
      json_array_foreach (search, i, v) sbuf_addf (&out, " %s", json_string_value (v));
      sbuf_addc (&out, '\n');
    }
  if (json_array_size (opts) > 0)
    {
      sbuf_adds (&out, "options");
      json_array_foreach (opts, i, v) sbuf_addf (&out, " %s", json_string_value (v));
      sbuf_addc (&out, '\n');
    }
  if (nameservers == 0 && !host_net)
    sbuf_adds (&out, "nameserver 8.8.8.8\nnameserver 8.8.4.4\n");
  return sbuf_detach (&out);
}

static int write_file (const char *path, const char *data, berr_t *err)
{
  /* Not fsync'ed: these are rewritten at every start. */
  cleanup_free char *tmp = xasprintf ("%s.tmp", path);
  cleanup_close int fd = open (tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0 || fs_write_all (fd, data, strlen (data)) < 0)
    return berr_set (err, errno, "write %s", path);
  if (rename (tmp, path) < 0)
    return berr_set (err, errno, "write %s", path);
  return 0;
}

int container_write_etc (struct engine *e, struct container_rec *c, berr_t *err)
{
  json_t *config = json_object_get (c->config, "Config");
  json_t *hc = json_object_get (c->config, "HostConfig");
  const char *netmode = json_get_str (hc, "NetworkMode");
  bool host_net = netmode && strcmp (netmode, "host") == 0;
  cleanup_free char *dir = container_dir (e, c->id);
  const char *hostname = json_get_str (config, "Hostname");
  cleanup_free char *hn_path = xasprintf ("%s/hostname", dir);
  cleanup_free char *hn = xasprintf ("%s\n", hostname ? hostname : "");
  if (write_file (hn_path, hn, err) < 0)
    return -1;

  cleanup_free char *hosts_data = net_hosts_render (e, c, host_net);
  /* --network container:X: X's hosts and resolv.conf, as Docker shares them. */
  cleanup_free char *joined_rc = NULL;
  if (netmode && str_has_prefix (netmode, "container:"))
    {
      struct container_rec *x = NULL;
      berr_t e2 = BERR_INIT;
      if (container_get (e, netmode + strlen ("container:"), &x, &e2) == 0)
        {
          cleanup_free char *xdir = container_dir (e, x->id);
          cleanup_free char *xh = xasprintf ("%s/hosts", xdir);
          cleanup_free char *xr = xasprintf ("%s/resolv.conf", xdir);
          cleanup_free char *data = NULL;
          size_t len = 0;
          if (fs_read_file (xh, 1 << 20, &data, &len, &e2) == 0)
            {
              free (hosts_data);
              hosts_data = steal_pointer (&data);
            }
          berr_release (&e2);
          if (fs_read_file (xr, 1 << 20, &joined_rc, &len, &e2) < 0)
            berr_release (&e2);
          container_rec_free (x);
        }
      berr_release (&e2);
    }
  cleanup_free char *hosts_path = xasprintf ("%s/hosts", dir);
  if (write_file (hosts_path, hosts_data, err) < 0)
    return -1;
  cleanup_free char *rc = joined_rc ? steal_pointer (&joined_rc) : resolv_conf (hc, host_net);
  cleanup_free char *rc_path = xasprintf ("%s/resolv.conf", dir);
  return write_file (rc_path, rc, err);
}
