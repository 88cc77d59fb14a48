/* spec_devices.c — devices and cgroup limits of the spec, as Docker writes them (moby
 * daemon/oci_linux.go WithDevices/WithResources, daemon/pkg/oci devices and defaults,
 * containerd's HostDevices for --privileged).
 *
 * The device cgroup starts from "deny everything" and allows the nodes every container gets
 * (null, zero, full, random, urandom, tty, console, ptmx, the pts slaves, tun) plus mknod of any
 * node; /dev/fuse is explicitly denied unless a --device or rule allows it afterwards.  The
 * order is Docker's list followed by the rules runc appends to every container: the fuse deny
 * must come before the mknod wildcards, since cgroup v1 cannot remove one device from a
 * wildcard exception (runc refuses such a list). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "container/spec_int.h"
#include "util/json.h"
#include "util/util.h"

/* major/minor -1: the wildcard "*", written as an absent field (OCI: "all"). */
static json_t *cgroup_rule (bool allow, const char *type, long long major, long long minor,
                            const char *access)
{
  json_t *r = json_object ();
  json_object_set_new (r, "allow", json_boolean (allow));
  json_object_set_new (r, "type", json_string (type));
  if (major >= 0)
    json_object_set_new (r, "major", json_integer (major));
  if (minor >= 0)
    json_object_set_new (r, "minor", json_integer (minor));
  json_object_set_new (r, "access", json_string (access));
  return r;
}

static void default_rules (json_t *rules)
{
  static const struct
  {
    const char *type;
    int major, minor;
  } allowed[] = {
    { "c", 1, 5 },    /* /dev/zero */
    { "c", 1, 3 },    /* /dev/null */
    { "c", 1, 9 },    /* /dev/urandom */
    { "c", 1, 8 },    /* /dev/random */
    { "c", 5, 0 },    /* /dev/tty */
    { "c", 5, 1 },    /* /dev/console */
    { NULL, 0, 0 },   /* deny /dev/fuse here: after a wildcard it would punch a hole (v1) */
    { "c", -1, -1 },  /* mknod of any char node (m only, below) */
    { "b", -1, -1 },  /* mknod of any block node */
    { "c", 1, 7 },    /* /dev/full */
    { "c", 136, -1 }, /* /dev/pts/N */
    { "c", 5, 2 },    /* /dev/ptmx */
    { "c", 10, 200 }, /* /dev/net/tun */
  };
  json_array_append_new (rules, cgroup_rule (false, "a", -1, -1, "rwm"));
  for (size_t i = 0; i < ARRAY_SIZE (allowed); i++)
    {
      if (!allowed[i].type)
        {
          json_array_append_new (rules, cgroup_rule (false, "c", 10, 229, "rwm"));
          continue;
        }
      bool mknod_only = allowed[i].major < 0;
      json_array_append_new (rules, cgroup_rule (true, allowed[i].type, allowed[i].major,
                                                 allowed[i].minor, mknod_only ? "m" : "rwm"));
    }
}

static bool valid_access (const char *s)
{
  size_t n = strlen (s);
  if (n < 1 || n > 3)
    return false;
  for (size_t i = 0; i < n; i++)
    if (s[i] != 'r' && s[i] != 'w' && s[i] != 'm')
      return false;
  return true;
}

static bool parse_dev_num (const char *s, size_t len, long long *v)
{
  if (len == 1 && s[0] == '*')
    {
      *v = -1;
      return true;
    }
  if (len == 0 || len > 18)
    return false;
  long long acc = 0;
  for (size_t i = 0; i < len; i++)
    {
      if (s[i] < '0' || s[i] > '9')
        return false;
      acc = acc * 10 + (s[i] - '0');
    }
  *v = acc;
  return true;
}

int spec_parse_cgroup_rule (const char *rule, json_t **out, berr_t *err)
{
  /* "TYPE MAJOR:MINOR ACCESS" with TYPE a|b|c, numbers or '*', ACCESS from r, w, m. */
  const char *p = rule;
  if (!(p[0] == 'a' || p[0] == 'b' || p[0] == 'c') || p[1] != ' ')
    goto bad;
  char type[2] = { p[0], '\0' };
  p += 2;
  const char *colon = strchr (p, ':');
  const char *space = colon ? strchr (colon, ' ') : NULL;
  if (!colon || !space)
    goto bad;
  long long major, minor;
  if (!parse_dev_num (p, (size_t)(colon - p), &major))
    goto bad;
  if (!parse_dev_num (colon + 1, (size_t)(space - colon - 1), &minor))
    goto bad;
  if (!valid_access (space + 1))
    goto bad;
  *out = cgroup_rule (true, type, major, minor, space + 1);
  return 0;
bad:
  return berr_setk (err, BERR_INVALID, 0, "invalid device cgroup rule format: '%s'", rule);
}

/* containerd's DeviceFromPath: the node itself (lstat: a symlink is not a device), char,
 * block or fifo, and never major 0. */
static json_t *device_from_path (const char *host_path, const char *ctr_path, int *errnum)
{
  struct stat st;
  if (lstat (host_path, &st) < 0)
    {
      *errnum = errno;
      return NULL;
    }
  const char *type;
  if (S_ISCHR (st.st_mode))
    type = "c";
  else if (S_ISBLK (st.st_mode))
    type = "b";
  else if (S_ISFIFO (st.st_mode))
    type = "p";
  else
    {
      *errnum = ENODEV;
      return NULL;
    }
  if (major (st.st_rdev) == 0)
    {
      *errnum = ENODEV;
      return NULL;
    }
  return json_pack ("{s:s, s:s, s:I, s:I, s:I, s:I, s:I}", "path", ctr_path, "type", type, "major",
                    (json_int_t)major (st.st_rdev), "minor", (json_int_t)minor (st.st_rdev),
                    "fileMode", (json_int_t)(st.st_mode & 0777), "uid", (json_int_t)st.st_uid,
                    "gid", (json_int_t)st.st_gid);
}

static json_t *allow_device (const json_t *dev, const char *access)
{
  return cgroup_rule (true, json_string_value (json_object_get (dev, "type")),
                      json_integer_value (json_object_get (dev, "major")),
                      json_integer_value (json_object_get (dev, "minor")), access);
}

/* Every device node under a host directory, for --device DIR (Docker walks it whole). */
static int by_name (const struct dirent **a, const struct dirent **b);

static void walk_devices (const char *host_dir, const char *ctr_dir, const char *access,
                          json_t *devs, json_t *rules, int depth)
{
  if (depth > 16)
    return;
  struct dirent **list = NULL;
  int count = scandir (host_dir, &list, NULL, by_name);
  for (int i = 0; i < count; i++)
    {
      cleanup_free struct dirent *de = list[i];
      if (strcmp (de->d_name, ".") == 0 || strcmp (de->d_name, "..") == 0)
        continue;
      cleanup_free char *hp = xasprintf ("%s/%s", host_dir, de->d_name);
      cleanup_free char *cp = xasprintf ("%s/%s", ctr_dir, de->d_name);
      struct stat st;
      if (lstat (hp, &st) < 0)
        continue;
      if (S_ISDIR (st.st_mode))
        {
          walk_devices (hp, cp, access, devs, rules, depth + 1);
          continue;
        }
      int e;
      json_t *dev = device_from_path (hp, cp, &e);
      if (!dev)
        continue;
      if (rules)
        json_array_append_new (rules, allow_device (dev, access));
      json_array_append_new (devs, dev);
    }
  free (list);
}

/* One --device mapping (moby DevicesFromPath): a node, a symlink to one, or a directory of
 * nodes. */
static int device_mapping (const char *host, const char *ctr, const char *access, json_t *devs,
                           json_t *rules, berr_t *err)
{
  cleanup_free char *resolved = NULL;
  struct stat st;
  if (lstat (host, &st) == 0 && S_ISLNK (st.st_mode))
    resolved = realpath (host, NULL);
  const char *path = resolved ? resolved : host;
  int e = 0;
  json_t *dev = device_from_path (path, ctr, &e);
  if (dev)
    {
      if (rules)
        json_array_append_new (rules, allow_device (dev, access));
      json_array_append_new (devs, dev);
      return 0;
    }
  size_t before = json_array_size (devs);
  if (e == ENODEV && stat (path, &st) == 0 && S_ISDIR (st.st_mode))
    walk_devices (path, ctr, access, devs, rules, 0);
  if (json_array_size (devs) > before)
    return 0;
  return berr_setk (err, BERR_INVALID, e == ENODEV ? 0 : e,
                    "error gathering device information while adding custom device \"%s\"%s", host,
                    e == ENODEV ? ": not a device node" : "");
}

static int by_name (const struct dirent **a, const struct dirent **b)
{
  return strcmp ((*a)->d_name, (*b)->d_name);
}

/* containerd's HostDevices: everything under /dev except the per-container filesystems
 * (pts, shm, mqueue, fd, …) and console, in name order as Go's ReadDir gives them. */
static void host_devices (const char *dir, json_t *devs, int depth)
{
  if (depth > 16)
    return;
  struct dirent **list = NULL;
  int count = scandir (dir, &list, NULL, by_name);
  for (int i = 0; i < count; i++)
    {
      cleanup_free struct dirent *de = list[i];
      const char *n = de->d_name;
      if (strcmp (n, ".") == 0 || strcmp (n, "..") == 0)
        continue;
      cleanup_free char *p = xasprintf ("%s/%s", dir, n);
      struct stat st;
      if (lstat (p, &st) < 0)
        continue;
      if (S_ISDIR (st.st_mode))
        {
          static const char *const skip[]
              = { "pts", "shm", "fd", "mqueue", ".lxc", ".lxd-mounts", ".udev" };
          bool skipped = false;
          for (size_t k = 0; k < ARRAY_SIZE (skip); k++)
            skipped = skipped || strcmp (n, skip[k]) == 0;
          if (!skipped)
            host_devices (p, devs, depth + 1);
          continue;
        }
      if (strcmp (n, "console") == 0)
        continue;
      int e;
      json_t *dev = device_from_path (p, p, &e);
      if (!dev)
        continue;
      if (strcmp (json_string_value (json_object_get (dev, "type")), "p") == 0)
        {
          json_decref (dev);
          continue;
        }
      json_array_append_new (devs, dev);
    }
  free (list);
}

int spec_add_devices (const json_t *hc, bool privileged, json_t *linux_obj, json_t *resources,
                      berr_t *err)
{
  json_t *devs = json_array ();
  json_t *rules = json_array ();
  json_object_set_new (linux_obj, "devices", devs);
  json_object_set_new (resources, "devices", rules);

  if (privileged)
    {
      host_devices ("/dev", devs, 0);
      json_array_append_new (rules, cgroup_rule (true, "a", -1, -1, "rwm"));
    }
  else
    default_rules (rules);

  json_t *mappings = json_object_get (hc, "Devices");
  size_t i;
  json_t *m;
  json_array_foreach (mappings, i, m)
  {
    const char *host = spec_str (m, "PathOnHost");
    const char *ctr = spec_str (m, "PathInContainer");
    const char *perms = spec_str (m, "CgroupPermissions");
    if (!host || !host[0])
      return berr_setk (err, BERR_INVALID, 0, "device mapping without PathOnHost");
    if (!ctr || !ctr[0])
      ctr = host;
    if (!perms || !perms[0])
      perms = "rwm";
    if (!valid_access (perms))
      return berr_setk (err, BERR_INVALID, 0, "invalid device cgroup permissions \"%s\" for %s",
                        perms, host);
    if (ctr[0] != '/')
      return berr_setk (err, BERR_INVALID, 0, "%s is not an absolute path", ctr);
    /* Privileged already has the host's /dev; only renamed nodes are added, and the device
     * cgroup allows everything anyway. */
    if (privileged && strcmp (host, ctr) == 0)
      continue;
    if (device_mapping (host, ctr, perms, devs, privileged ? NULL : rules, err) < 0)
      return -1;
  }

  if (!privileged)
    {
      json_t *crules = json_object_get (hc, "DeviceCgroupRules");
      json_t *r;
      json_array_foreach (crules, i, r)
      {
        const char *s = json_string_value (r);
        json_t *rule;
        if (!s)
          return berr_setk (err, BERR_INVALID, 0, "invalid device cgroup rule format");
        if (spec_parse_cgroup_rule (s, &rule, err) < 0)
          return -1;
        json_array_append_new (rules, rule);
      }
    }
  return 0;
}

/* ---------------------------------------------------------------------------- resources */

static void set_pos (json_t *obj, const char *key, int64_t v)
{
  if (v > 0)
    json_object_set_new (obj, key, json_integer (v));
}

static int throttle_devices (const json_t *hc, const char *hkey, const char *vkey, const char *okey,
                             json_t *blkio, berr_t *err)
{
  json_t *list = json_object_get (hc, hkey);
  if (!json_is_array (list) || json_array_size (list) == 0)
    return 0;
  json_t *out = json_array ();
  json_object_set_new (blkio, okey, out);
  size_t i;
  json_t *d;
  json_array_foreach (list, i, d)
  {
    const char *path = spec_str (d, "Path");
    struct stat st;
    if (!path || stat (path, &st) < 0)
      return berr_setk (err, BERR_INVALID, path ? errno : 0, "stat %s", path ? path : "(none)");
    json_t *e = json_pack ("{s:I, s:I}", "major", (json_int_t)major (st.st_rdev), "minor",
                           (json_int_t)minor (st.st_rdev));
    json_object_set_new (e, strcmp (vkey, "Weight") == 0 ? "weight" : "rate",
                         json_integer (spec_int (d, vkey)));
    json_array_append_new (out, e);
  }
  return 0;
}

int spec_add_resources (const json_t *hc, json_t *resources, berr_t *err)
{
  int64_t memory = spec_int (hc, "Memory");
  int64_t swap = spec_int (hc, "MemorySwap");
  int64_t reservation = spec_int (hc, "MemoryReservation");
  if (memory > 0 && swap > 0 && swap < memory)
    return berr_setk (err, BERR_INVALID, 0,
                      "Minimum memoryswap limit should be larger than memory limit, see usage");
  if (memory == 0 && swap > 0)
    return berr_setk (err, BERR_INVALID, 0,
                      "You should always set the Memory limit when using Memoryswap limit, see "
                      "usage");
  /* Docker doubles the limit for swap when none is given; -1 leaves swap unlimited. */
  if (memory > 0 && swap == 0)
    swap = memory * 2;
  json_t *mem = json_object ();
  set_pos (mem, "limit", memory);
  set_pos (mem, "reservation", reservation);
  set_pos (mem, "swap", swap);
  json_t *swappiness = json_object_get (hc, "MemorySwappiness");
  if (json_is_integer (swappiness) && json_integer_value (swappiness) >= 0)
    {
      if (json_integer_value (swappiness) > 100)
        {
          json_decref (mem);
          return berr_setk (err, BERR_INVALID, 0,
                            "Invalid value: %lld, valid memory swappiness range is 0-100",
                            (long long)json_integer_value (swappiness));
        }
      json_object_set_new (mem, "swappiness", json_integer (json_integer_value (swappiness)));
    }
  if (json_is_boolean (json_object_get (hc, "OomKillDisable")))
    json_object_set_new (mem, "disableOOMKiller", json_boolean (spec_bool (hc, "OomKillDisable")));
  if (json_object_size (mem) > 0)
    json_object_set_new (resources, "memory", mem);
  else
    json_decref (mem);

  int64_t shares = spec_int (hc, "CpuShares");
  int64_t nano = spec_int (hc, "NanoCpus");
  int64_t period = spec_int (hc, "CpuPeriod");
  int64_t quota = spec_int (hc, "CpuQuota");
  if (shares < 0)
    return berr_setk (err, BERR_INVALID, 0,
                      "invalid CPU shares (%lld): value must be a positive integer",
                      (long long)shares);
  if (nano > 0 && period > 0)
    return berr_setk (err, BERR_INVALID, 0,
                      "Conflicting options: Nano CPUs and CPU Period cannot both be set");
  if (nano > 0 && quota > 0)
    return berr_setk (err, BERR_INVALID, 0,
                      "Conflicting options: Nano CPUs and CPU Quota cannot both be set");
  json_t *cpu = json_object ();
  set_pos (cpu, "shares", shares);
  if (nano > 0)
    {
      /* --cpus: a 100 ms period and the matching share of it. */
      json_object_set_new (cpu, "quota", json_integer (nano * 100000 / 1000000000));
      json_object_set_new (cpu, "period", json_integer (100000));
    }
  if (quota != 0)
    json_object_set_new (cpu, "quota", json_integer (quota));
  if (period != 0)
    json_object_set_new (cpu, "period", json_integer (period));
  const char *cpus = spec_str (hc, "CpusetCpus");
  const char *mems = spec_str (hc, "CpusetMems");
  if (cpus && cpus[0])
    json_object_set_new (cpu, "cpus", json_string (cpus));
  if (mems && mems[0])
    json_object_set_new (cpu, "mems", json_string (mems));
  if (json_object_size (cpu) > 0)
    json_object_set_new (resources, "cpu", cpu);
  else
    json_decref (cpu);

  int64_t pids = spec_int (hc, "PidsLimit");
  if (pids > 0)
    json_object_set_new (resources, "pids", json_pack ("{s:I}", "limit", (json_int_t)pids));

  json_t *blkio = json_object ();
  int64_t weight = spec_int (hc, "BlkioWeight");
  if (weight > 0)
    {
      if (weight < 10 || weight > 1000)
        {
          json_decref (blkio);
          return berr_setk (err, BERR_INVALID, 0, "Range of blkio weight is from 10 to 1000");
        }
      json_object_set_new (blkio, "weight", json_integer (weight));
    }
  if (throttle_devices (hc, "BlkioWeightDevice", "Weight", "weightDevice", blkio, err) < 0
      || throttle_devices (hc, "BlkioDeviceReadBps", "Rate", "throttleReadBpsDevice", blkio, err)
             < 0
      || throttle_devices (hc, "BlkioDeviceWriteBps", "Rate", "throttleWriteBpsDevice", blkio, err)
             < 0
      || throttle_devices (hc, "BlkioDeviceReadIOps", "Rate", "throttleReadIOPSDevice", blkio, err)
             < 0
      || throttle_devices (hc, "BlkioDeviceWriteIOps", "Rate", "throttleWriteIOPSDevice", blkio,
                           err)
             < 0)
    {
      json_decref (blkio);
      return -1;
    }
  if (json_object_size (blkio) > 0)
    json_object_set_new (resources, "blockIO", blkio);
  else
    json_decref (blkio);
  return 0;
}
