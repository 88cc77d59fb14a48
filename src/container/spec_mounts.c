/* spec_mounts.c — the spec's mounts, as Docker lays them out (moby daemon/oci_linux.go
 * withMounts, daemon/pkg/oci/defaults.go): the default filesystems first (minus those a user
 * mount replaces, and everything under /dev when /dev itself is user-mounted), the init binary,
 * then the user's mounts sorted by depth so /a is mounted before /a/b, with the engine's
 * /etc/{resolv.conf,hostname,hosts} and a shared /dev/shm among them. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "container/spec_int.h"
#include "util/json.h"
#include "util/util.h"

#define DEFAULT_SHM_SIZE 67108864LL /* 64 MiB, Docker's DefaultShmSize */

static json_t *mount_new (const char *dest, const char *type, const char *source,
                          const char *const *opts)
{
  json_t *o = json_array ();
  for (size_t i = 0; opts && opts[i]; i++)
    json_array_append_new (o, json_string (opts[i]));
  return json_pack ("{s:s, s:s, s:s, s:o}", "destination", dest, "type", type, "source", source,
                    "options", o);
}

static json_t *mount_new_strv (const char *dest, const char *type, const char *source,
                               char *const *opts)
{
  return mount_new (dest, type, source, (const char *const *)opts);
}

static const char *mount_dest (const json_t *m)
{
  return json_string_value (json_object_get (m, "destination"));
}

static bool has_opt (const json_t *m, const char *opt)
{
  size_t i;
  json_t *o;
  json_array_foreach (json_object_get (m, "options"), i, o)
  {
    if (strcmp (json_string_value (o), opt) == 0)
      return true;
  }
  return false;
}

static void drop_opt (json_t *m, const char *opt)
{
  json_t *opts = json_object_get (m, "options");
  for (size_t i = 0; i < json_array_size (opts);)
    if (strcmp (json_string_value (json_array_get (opts, i)), opt) == 0)
      json_array_remove (opts, i);
    else
      i++;
}

/* ------------------------------------------------------------------ tmpfs option merging */

struct mflag
{
  const char *name;
  int key; /* options with the same key collide; the last one given wins */
};

/* Keys: one per mount flag; every propagation mode shares one key. */
enum
{
  K_PROPAGATION = 1,
  K_RDONLY,
  K_NOSUID,
  K_NODEV,
  K_NOEXEC,
  K_SYNC,
  K_DIRSYNC,
  K_REMOUNT,
  K_MAND,
  K_NOATIME,
  K_NODIRATIME,
  K_BIND,
  K_RBIND,
  K_RELATIME,
  K_STRICTATIME,
};

static const struct mflag mflags[] = {
  { "ro", K_RDONLY },
  { "rw", K_RDONLY },
  { "suid", K_NOSUID },
  { "nosuid", K_NOSUID },
  { "dev", K_NODEV },
  { "nodev", K_NODEV },
  { "exec", K_NOEXEC },
  { "noexec", K_NOEXEC },
  { "sync", K_SYNC },
  { "async", K_SYNC },
  { "dirsync", K_DIRSYNC },
  { "remount", K_REMOUNT },
  { "mand", K_MAND },
  { "nomand", K_MAND },
  { "atime", K_NOATIME },
  { "noatime", K_NOATIME },
  { "diratime", K_NODIRATIME },
  { "nodiratime", K_NODIRATIME },
  { "bind", K_BIND },
  { "rbind", K_RBIND },
  { "unbindable", K_PROPAGATION },
  { "runbindable", K_PROPAGATION },
  { "private", K_PROPAGATION },
  { "rprivate", K_PROPAGATION },
  { "shared", K_PROPAGATION },
  { "rshared", K_PROPAGATION },
  { "slave", K_PROPAGATION },
  { "rslave", K_PROPAGATION },
  { "relatime", K_RELATIME },
  { "norelatime", K_RELATIME },
  { "strictatime", K_STRICTATIME },
  { "nostrictatime", K_STRICTATIME },
};

static const char *const tmpfs_data_keys[]
    = { "size", "mode", "uid", "gid", "nr_inodes", "nr_blocks", "mpol" };

static int flag_key (const char *opt)
{
  for (size_t i = 0; i < ARRAY_SIZE (mflags); i++)
    if (strcmp (mflags[i].name, opt) == 0)
      return mflags[i].key;
  return 0;
}

static bool is_propagation (const char *opt) { return flag_key (opt) == K_PROPAGATION; }

int spec_merge_tmpfs_options (char *const *opts, char ***out, berr_t *err)
{
  size_t n = strv_len (opts);
  /* Walk backwards keeping the first (= last given) option of each flag or data key. */
  bool seen_flag[K_STRICTATIME + 1] = { false };
  char **keys_seen = NULL;
  char **rev = NULL;
  for (size_t i = n; i-- > 0;)
    {
      const char *o = opts[i];
      if (strcmp (o, "defaults") == 0)
        continue;
      int k = flag_key (o);
      if (k)
        {
          if (!seen_flag[k])
            {
              seen_flag[k] = true;
              strv_push (&rev, o);
            }
          continue;
        }
      const char *eq = strchr (o, '=');
      bool valid = false;
      cleanup_free char *key = eq ? xstrndup (o, (size_t)(eq - o)) : NULL;
      for (size_t j = 0; key && j < ARRAY_SIZE (tmpfs_data_keys); j++)
        valid = valid || strcmp (key, tmpfs_data_keys[j]) == 0;
      if (!valid)
        {
          strv_free (keys_seen);
          strv_free (rev);
          return berr_setk (err, BERR_INVALID, 0, "invalid tmpfs option \"%s\"", o);
        }
      if (!strv_contains (keys_seen, key))
        {
          strv_push (&keys_seen, key);
          strv_push (&rev, o);
        }
    }
  strv_free (keys_seen);
  char **res = xcalloc (strv_len (rev) + 1, sizeof (char *));
  size_t m = strv_len (rev);
  for (size_t i = 0; i < m; i++)
    res[i] = rev[m - 1 - i];
  free (rev);
  *out = res;
  return 0;
}

/* --------------------------------------------------------------- propagation of bind sources */

/* The optional fields ("shared:N master:M") of the mount holding path (moby getSourceMount:
 * the longest matching mount point, the later entry on ties). */
static int source_mount_optional (const char *path, char **mountpoint, char **optional, berr_t *err)
{
  cleanup_free char *real = realpath (path, NULL);
  if (!real)
    return berr_setk (err, BERR_INVALID, errno, "bind source %s", path);
  cleanup_fclose FILE *f = fopen ("/proc/self/mountinfo", "re");
  if (!f)
    return berr_set (err, errno, "open /proc/self/mountinfo");
  cleanup_free char *line = NULL;
  size_t cap = 0;
  size_t best = 0;
  bool found = false;
  while (getline (&line, &cap, f) > 0)
    {
      /* id parent maj:min root mountpoint options [optional...] - fstype source superopts */
      char *save = NULL;
      char *fields[6] = { NULL };
      char *tok = strtok_r (line, " ", &save);
      for (int i = 0; i < 6 && tok; i++)
        {
          fields[i] = tok;
          tok = i < 5 ? strtok_r (NULL, " ", &save) : NULL;
        }
      if (!fields[5])
        continue;
      char *rest = save; /* optional fields, then " - fstype …" */
      char *sep = rest ? strstr (rest, "- ") : NULL;
      if (rest && sep && (sep == rest || sep[-1] == ' '))
        *sep = '\0';
      /* Mount points are octal-escaped (\040 for a space). */
      char mp[PATH_MAX];
      size_t k = 0;
      for (const char *s = fields[4]; *s && k + 1 < sizeof mp; s++)
        if (s[0] == '\\' && s[1] >= '0' && s[1] <= '7' && s[2] && s[3])
          {
            mp[k++] = (char)(((s[1] - '0') << 6) | ((s[2] - '0') << 3) | (s[3] - '0'));
            s += 3;
          }
        else
          mp[k++] = *s;
      mp[k] = '\0';
      size_t ml = strlen (mp);
      bool parent = strcmp (mp, "/") == 0
                    || (strncmp (real, mp, ml) == 0 && (real[ml] == '\0' || real[ml] == '/'));
      if (!parent || ml < best)
        continue;
      best = ml;
      found = true;
      free (*mountpoint);
      free (*optional);
      *mountpoint = xstrdup (mp);
      *optional = xstrdup (rest ? rest : "");
    }
  if (!found)
    return berr_setk (err, BERR_INVALID, 0, "Can't find mount point of %s", path);
  return 0;
}

static bool optional_has (const char *optional, const char *prefix)
{
  size_t n = strlen (prefix);
  for (const char *p = optional; p && *p;)
    {
      while (*p == ' ')
        p++;
      if (strncmp (p, prefix, n) == 0)
        return true;
      p = strchr (p, ' ');
    }
  return false;
}

/* Docker refuses a shared (slave) bind whose source mount is not shared (or a slave), and
 * raises the rootfs propagation so the mount events can flow. */
static int check_propagation (const char *prop, const char *source, json_t *linux_obj, berr_t *err)
{
  bool shared = strcmp (prop, "shared") == 0 || strcmp (prop, "rshared") == 0;
  bool slave = strcmp (prop, "slave") == 0 || strcmp (prop, "rslave") == 0;
  if (!shared && !slave)
    return 0;
  cleanup_free char *mp = NULL, *optional = NULL;
  if (source_mount_optional (source, &mp, &optional, err) < 0)
    return -1;
  const char *root = json_string_value (json_object_get (linux_obj, "rootfsPropagation"));
  root = root ? root : "";
  if (shared)
    {
      if (!optional_has (optional, "shared:"))
        return berr_setk (err, BERR_INVALID, 0,
                          "path %s is mounted on %s but it is not a shared mount", source, mp);
      if (strcmp (root, "shared") != 0 && strcmp (root, "rshared") != 0)
        json_object_set_new (linux_obj, "rootfsPropagation", json_string ("shared"));
      return 0;
    }
  if (!optional_has (optional, "shared:") && !optional_has (optional, "master:"))
    return berr_setk (err, BERR_INVALID, 0,
                      "path %s is mounted on %s but it is not a shared or slave mount", source, mp);
  if (strcmp (root, "shared") != 0 && strcmp (root, "rshared") != 0 && strcmp (root, "slave") != 0
      && strcmp (root, "rslave") != 0)
    json_object_set_new (linux_obj, "rootfsPropagation", json_string ("rslave"));
  return 0;
}

/* ------------------------------------------------------------------------------ user mounts */

/* runc lets only these /proc files be bind targets (lxcfs-style overrides). */
static bool proc_target_ok (const char *dest)
{
  static const char *const ok[] = { "/proc/cpuinfo", "/proc/diskstats",
                                    "/proc/meminfo", "/proc/stat",
                                    "/proc/swaps",   "/proc/uptime",
                                    "/proc/loadavg", "/proc/slabinfo",
                                    "/proc/net/dev", "/proc/sys/kernel/ns_last_pid" };
  for (size_t i = 0; i < ARRAY_SIZE (ok); i++)
    if (strcmp (dest, ok[i]) == 0)
      return true;
  return false;
}

static int check_dest (const char *dest, berr_t *err)
{
  if (!dest || dest[0] != '/')
    return berr_setk (err, BERR_INVALID, 0, "invalid mount destination \"%s\": not absolute",
                      dest ? dest : "");
  if ((strcmp (dest, "/proc") == 0 || str_has_prefix (dest, "/proc/")) && !proc_target_ok (dest))
    return berr_setk (err, BERR_INVALID, 0,
                      "invalid mount destination \"%s\": cannot be mounted on or under /proc",
                      dest);
  return 0;
}

/* A bind (or a volume, which is a bind of its _data directory). */
static int bind_mount (const json_t *um, json_t *linux_obj, json_t **out, berr_t *err)
{
  const char *dest = spec_str (um, "Destination");
  const char *source = spec_str (um, "Source");
  if (!source || !source[0])
    return berr_setk (err, BERR_INVALID, 0, "mount %s: no source", dest);
  cleanup_strv char **extra = NULL;
  if (spec_strv (um, "Options", &extra, err) < 0)
    return berr_wrap (err, "mount %s", dest);
  bool recursive = !spec_bool (um, "NonRecursive");
  bool ro = !spec_bool (um, "RW");
  const char *prop = spec_str (um, "Propagation");
  cleanup_strv char **rest = NULL;
  for (size_t i = 0; extra && extra[i]; i++)
    {
      const char *o = extra[i];
      if (strcmp (o, "bind") == 0)
        recursive = false;
      else if (strcmp (o, "rbind") == 0)
        ;
      else if (strcmp (o, "ro") == 0)
        ro = true;
      else if (strcmp (o, "rw") == 0)
        ;
      else if (is_propagation (o))
        prop = o;
      else if (!strv_contains (rest, o))
        strv_push (&rest, o);
    }
  if (prop && prop[0] && !is_propagation (prop))
    return berr_setk (err, BERR_INVALID, 0, "mount %s: invalid propagation mode \"%s\"", dest,
                      prop);
  if (prop && prop[0] && check_propagation (prop, source, linux_obj, err) < 0)
    return -1;
  cleanup_strv char **opts = NULL;
  strv_push (&opts, recursive ? "rbind" : "bind");
  if (ro)
    strv_push (&opts, "ro");
  if (prop && prop[0])
    strv_push (&opts, prop);
  for (size_t i = 0; rest && rest[i]; i++)
    strv_push (&opts, rest[i]);
  *out = mount_new_strv (dest, "bind", source, opts);
  return 0;
}

static int tmpfs_mount (const char *dest, char *const *extra, bool ro, json_t **out, berr_t *err)
{
  cleanup_strv char **all = NULL;
  strv_push (&all, "noexec");
  strv_push (&all, "nosuid");
  strv_push (&all, "nodev");
  strv_push (&all, "rprivate");
  for (size_t i = 0; extra && extra[i]; i++)
    strv_push (&all, extra[i]);
  if (ro)
    strv_push (&all, "ro");
  cleanup_strv char **merged = NULL;
  if (spec_merge_tmpfs_options (all, &merged, err) < 0)
    return berr_wrap (err, "tmpfs %s", dest);
  *out = mount_new_strv (dest, "tmpfs", "tmpfs", merged);
  return 0;
}

static char **split_csv (const char *s)
{
  char **v = NULL;
  cleanup_free char *copy = xstrdup (s ? s : "");
  char *save = NULL;
  for (char *t = strtok_r (copy, ",", &save); t; t = strtok_r (NULL, ",", &save))
    strv_push (&v, t);
  return v;
}

static size_t depth (const char *dest)
{
  /* Components of the cleaned path: "/" 0 separators, "/a" 1, "/a/b" 2; doubled or trailing
   * slashes do not count. */
  size_t n = 0;
  for (const char *p = dest; *p; p++)
    if (*p != '/' && (p == dest || p[-1] == '/'))
      n++;
  return n;
}

static bool user_has (json_t *user, const char *dest)
{
  size_t i;
  json_t *m;
  json_array_foreach (user, i, m)
  {
    if (strcmp (mount_dest (m), dest) == 0)
      return true;
  }
  return false;
}

static void net_mount (json_t *user, json_t *tmpfs_list, const char *path, const char *dest,
                       bool ro)
{
  if (!path || user_has (user, dest) || user_has (tmpfs_list, dest))
    return;
  const char *opts[] = { "rbind", ro ? "ro" : "rprivate", ro ? "rprivate" : NULL, NULL };
  json_array_append_new (user, mount_new (dest, "bind", path, opts));
}

static int cmp_str (const void *a, const void *b)
{
  return strcmp (*(const char *const *)a, *(const char *const *)b);
}

/* Docker's order before the depth sort: binds and volumes, the engine's /etc files, a shared
 * /dev/shm, then tmpfs mounts (moby setupMounts, IpcMounts, TmpfsMounts). */
static int user_mounts (const struct spec_input *in, const struct spec_modes *m, json_t *linux_obj,
                        json_t *user, berr_t *err)
{
  cleanup_json json_t *tmpfs_list = json_array ();
  size_t i;
  json_t *um;
  json_array_foreach (in->mounts, i, um)
  {
    const char *type = spec_str (um, "Type");
    const char *dest = spec_str (um, "Destination");
    if (check_dest (dest, err) < 0)
      return -1;
    json_t *mnt = NULL;
    if (type && strcmp (type, "tmpfs") == 0)
      {
        cleanup_strv char **extra = NULL;
        if (spec_strv (um, "Options", &extra, err) < 0)
          return berr_wrap (err, "mount %s", dest);
        if (tmpfs_mount (dest, extra, !spec_bool (um, "RW"), &mnt, err) < 0)
          return -1;
        json_array_append_new (tmpfs_list, mnt);
        continue;
      }
    if (type && (strcmp (type, "bind") == 0 || strcmp (type, "volume") == 0))
      {
        if (bind_mount (um, linux_obj, &mnt, err) < 0)
          return -1;
      }
    else
      return berr_setk (err, BERR_INVALID, 0, "mount %s: unsupported type \"%s\"", dest,
                        type ? type : "");
    json_array_append_new (user, mnt);
  }

  /* --tmpfs, for callers whose mounts list does not carry them already. */
  json_t *tmpfs = json_object_get (in->host_config, "Tmpfs");
  if (json_is_object (tmpfs))
    {
      const char **keys = xcalloc (json_object_size (tmpfs) + 1, sizeof (char *));
      size_t n = 0;
      const char *k;
      json_t *v;
      json_object_foreach (tmpfs, k, v) keys[n++] = k;
      qsort (keys, n, sizeof (char *), cmp_str);
      int ret = 0;
      for (size_t j = 0; j < n && ret == 0; j++)
        {
          if (user_has (user, keys[j]) || user_has (tmpfs_list, keys[j]))
            continue;
          if ((ret = check_dest (keys[j], err)) < 0)
            break;
          cleanup_strv char **extra
              = split_csv (json_string_value (json_object_get (tmpfs, keys[j])));
          json_t *mnt = NULL;
          if ((ret = tmpfs_mount (keys[j], extra, false, &mnt, err)) == 0)
            json_array_append_new (tmpfs_list, mnt);
        }
      free (keys);
      if (ret < 0)
        return -1;
    }

  bool ro = m->readonly_rootfs;
  net_mount (user, tmpfs_list, in->resolv_path, "/etc/resolv.conf", ro);
  net_mount (user, tmpfs_list, in->hostname_path, "/etc/hostname", ro);
  net_mount (user, tmpfs_list, in->hosts_path, "/etc/hosts", ro);

  /* A /dev/shm shared with the host or prepared by the engine for another container. */
  if (!user_has (user, "/dev/shm") && !user_has (tmpfs_list, "/dev/shm") && m->ipc != IPC_NONE)
    {
      const char *shm = in->shm_path;
      if (!shm && m->ipc == IPC_HOST)
        shm = "/dev/shm";
      if (!shm && m->ipc == IPC_CONTAINER)
        return berr_setk (err, BERR_INVALID, 0,
                          "ipc %s: the /dev/shm of that container is not known",
                          spec_str (in->host_config, "IpcMode"));
      if (shm)
        {
          const char *opts[] = { "rbind", "rprivate", NULL };
          json_array_append_new (user, mount_new ("/dev/shm", "bind", shm, opts));
        }
    }
  json_array_extend (user, tmpfs_list);

  /* Stable sort by depth: parents before children, otherwise the given order. */
  size_t n = json_array_size (user);
  for (size_t a = 1; a < n; a++)
    for (size_t b = a; b > 0; b--)
      {
        json_t *x = json_array_get (user, b - 1), *y = json_array_get (user, b);
        if (depth (mount_dest (x)) <= depth (mount_dest (y)))
          break;
        json_incref (x);
        json_array_set (user, b - 1, y);
        json_array_set_new (user, b, x);
      }
  return 0;
}

int spec_build_mounts (const struct spec_input *in, const struct spec_modes *m, json_t *spec,
                       berr_t *err)
{
  json_t *linux_obj = json_object_get (spec, "linux");
  json_t *user = json_array ();
  if (user_mounts (in, m, linux_obj, user, err) < 0)
    {
      json_decref (user);
      return -1;
    }

  int64_t shm_size = spec_int (in->host_config, "ShmSize");
  if (shm_size <= 0)
    shm_size = DEFAULT_SHM_SIZE;
  char shm_opt[64];
  snprintf (shm_opt, sizeof shm_opt, "size=%lld", (long long)shm_size);

  static const char *const proc_o[] = { "nosuid", "noexec", "nodev", NULL };
  static const char *const dev_o[] = { "nosuid", "strictatime", "mode=755", "size=65536k", NULL };
  static const char *const pts_o[]
      = { "nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5", NULL };
  static const char *const sys_o[] = { "nosuid", "noexec", "nodev", "ro", NULL };
  static const char *const cg_o[] = { "ro", "nosuid", "noexec", "nodev", NULL };
  static const char *const mq_o[] = { "nosuid", "noexec", "nodev", NULL };
  const char *const shm_o[] = { "nosuid", "noexec", "nodev", "mode=1777", shm_opt, NULL };
  static const char *const init_o[] = { "bind", "ro", NULL };

  json_t *all = json_array ();
  json_array_append_new (all, mount_new ("/proc", "proc", "proc", proc_o));
  json_array_append_new (all, mount_new ("/dev", "tmpfs", "tmpfs", dev_o));
  json_array_append_new (all, mount_new ("/dev/pts", "devpts", "devpts", pts_o));
  json_array_append_new (all, mount_new ("/sys", "sysfs", "sysfs", sys_o));
  json_array_append_new (all, mount_new ("/sys/fs/cgroup", "cgroup", "cgroup", cg_o));
  json_array_append_new (all, mount_new ("/dev/mqueue", "mqueue", "mqueue", mq_o));
  if (m->ipc != IPC_NONE)
    json_array_append_new (all, mount_new ("/dev/shm", "tmpfs", "shm", shm_o));
  if (in->init_path && spec_bool (in->host_config, "Init") && !m->pid_host && !m->pid_container)
    json_array_append_new (all, mount_new ("/sbin/docker-init", "bind", in->init_path, init_o));

  /* A user mount replaces the default at its destination; a user /dev replaces all of /dev. */
  bool user_dev = user_has (user, "/dev");
  json_t *mounts = json_array ();
  size_t i;
  json_t *d;
  json_array_foreach (all, i, d)
  {
    const char *dest = mount_dest (d);
    if (user_has (user, dest) || (user_dev && str_has_prefix (dest, "/dev/")))
      continue;
    if (m->readonly_rootfs && strcmp (dest, "/proc") != 0 && strcmp (dest, "/dev") != 0
        && strcmp (dest, "/dev/pts") != 0 && strcmp (dest, "/dev/shm") != 0
        && strcmp (dest, "/dev/mqueue") != 0 && !has_opt (d, "ro"))
      json_array_append_new (json_object_get (d, "options"), json_string ("ro"));
    /* Privileged containers get a writable /sys and cgroupfs. */
    if (m->privileged
        && (strcmp (dest, "/sys") == 0
            || strcmp (json_string_value (json_object_get (d, "type")), "cgroup") == 0))
      drop_opt (d, "ro");
    json_array_append (mounts, d);
  }
  json_decref (all);
  json_array_extend (mounts, user);
  json_decref (user);
  json_object_set_new (spec, "mounts", mounts);
  return 0;
}
