/* spec.c — the OCI runtime spec flattened into struct rt_cfg, in the parent, before clone.
 *
 * Everything the child needs is decided here: flags parsed, names turned into numbers, paths
 * checked.  Strings point into the spec, which outlives the child's setup. */
#include "rt_internal.h"

#include <errno.h>
#include <linux/sched.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <fcntl.h>
#include <pthread.h>
#include <unistd.h>

#include "runtime/cgroup.h"
#include "util/log.h"

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif
#ifndef MS_NOSYMFOLLOW
#define MS_NOSYMFOLLOW 256
#endif

static int invalid (berr_t *err, const char *fmt, ...) PRINTF_LIKE (2, 3);
static int invalid (berr_t *err, const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  cleanup_free char *m = xvasprintf (fmt, ap);
  va_end (ap);
  return berr_setk (err, BERR_INVALID, 0, "invalid runtime spec: %s", m);
}

static const char *str_member (const json_t *o, const char *key)
{
  json_t *v = json_object_get (o, key);
  return json_is_string (v) ? json_string_value (v) : NULL;
}

/* A JSON array of strings as a NULL-terminated vector of pointers into the spec. */
static int str_array (const json_t *arr, const char *what, char ***out, berr_t *err)
{
  *out = NULL;
  if (arr == NULL || json_is_null (arr))
    return 0;
  if (!json_is_array (arr))
    return invalid (err, "%s must be an array of strings", what);
  size_t n = json_array_size (arr);
  char **v = xcalloc (n + 1, sizeof *v);
  for (size_t i = 0; i < n; i++)
    {
      json_t *s = json_array_get (arr, i);
      if (!json_is_string (s))
        {
          free (v);
          return invalid (err, "%s[%zu] must be a string", what, i);
        }
      v[i] = (char *)json_string_value (s);
    }
  *out = v;
  return 0;
}

static int get_uint (const json_t *o, const char *key, uint64_t max, uint64_t *out, bool *present,
                     berr_t *err)
{
  json_t *v = json_object_get (o, key);
  if (present)
    *present = false;
  if (v == NULL || json_is_null (v))
    return 0;
  if (!json_is_integer (v) || json_integer_value (v) < 0 || (uint64_t)json_integer_value (v) > max)
    return invalid (err, "%s must be an integer between 0 and %llu", key, (unsigned long long)max);
  *out = (uint64_t)json_integer_value (v);
  if (present)
    *present = true;
  return 0;
}

/* ---- mount options ------------------------------------------------------------------------ */

struct mount_opt
{
  const char *name;
  bool clear;
  unsigned long flag;
  bool propagation;
};

static const struct mount_opt mount_opts[] = {
  { "defaults", false, 0, false },
  { "ro", false, MS_RDONLY, false },
  { "rw", true, MS_RDONLY, false },
  { "nosuid", false, MS_NOSUID, false },
  { "suid", true, MS_NOSUID, false },
  { "nodev", false, MS_NODEV, false },
  { "dev", true, MS_NODEV, false },
  { "noexec", false, MS_NOEXEC, false },
  { "exec", true, MS_NOEXEC, false },
  { "sync", false, MS_SYNCHRONOUS, false },
  { "async", true, MS_SYNCHRONOUS, false },
  { "dirsync", false, MS_DIRSYNC, false },
  { "remount", false, MS_REMOUNT, false },
  { "mand", false, MS_MANDLOCK, false },
  { "nomand", true, MS_MANDLOCK, false },
  { "atime", true, MS_NOATIME, false },
  { "noatime", false, MS_NOATIME, false },
  { "diratime", true, MS_NODIRATIME, false },
  { "nodiratime", false, MS_NODIRATIME, false },
  { "relatime", false, MS_RELATIME, false },
  { "norelatime", true, MS_RELATIME, false },
  { "strictatime", false, MS_STRICTATIME, false },
  { "nostrictatime", true, MS_STRICTATIME, false },
  { "lazytime", false, MS_LAZYTIME, false },
  { "nolazytime", true, MS_LAZYTIME, false },
  { "nosymfollow", false, MS_NOSYMFOLLOW, false },
  { "symfollow", true, MS_NOSYMFOLLOW, false },
  { "bind", false, MS_BIND, false },
  { "rbind", false, MS_BIND | MS_REC, false },
  { "private", false, MS_PRIVATE, true },
  { "rprivate", false, MS_PRIVATE | MS_REC, true },
  { "shared", false, MS_SHARED, true },
  { "rshared", false, MS_SHARED | MS_REC, true },
  { "slave", false, MS_SLAVE, true },
  { "rslave", false, MS_SLAVE | MS_REC, true },
  { "unbindable", false, MS_UNBINDABLE, true },
  { "runbindable", false, MS_UNBINDABLE | MS_REC, true },
};

static const struct mount_opt *mount_opt_find (const char *name)
{
  for (size_t i = 0; i < ARRAY_SIZE (mount_opts); i++)
    if (strcmp (mount_opts[i].name, name) == 0)
      return &mount_opts[i];
  return NULL;
}

static int parse_propagation (const char *s, unsigned long *out, berr_t *err)
{
  const struct mount_opt *o = mount_opt_find (s);
  if (o == NULL || !o->propagation)
    return invalid (err, "unknown rootfsPropagation \"%s\"", s);
  *out = o->flag;
  return 0;
}

static bool path_is_under (const char *path, const char *dir)
{
  size_t n = strlen (dir);
  return strncmp (path, dir, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

static int parse_mount (const json_t *jm, size_t idx, struct rt_mount *m, berr_t *err)
{
  if (!json_is_object (jm))
    return invalid (err, "mounts[%zu] must be an object", idx);
  m->dest = str_member (jm, "destination");
  m->source = str_member (jm, "source");
  m->type = str_member (jm, "type");
  if (m->dest == NULL || m->dest[0] != '/')
    return invalid (err, "mounts[%zu].destination must be an absolute path", idx);
  if (m->type && (strcmp (m->type, "bind") == 0 || strcmp (m->type, "rbind") == 0))
    {
      m->is_bind = true;
      m->flags |= MS_BIND | (strcmp (m->type, "rbind") == 0 ? MS_REC : 0);
    }
  cleanup_sbuf struct sbuf data;
  sbuf_init (&data);
  json_t *opts = json_object_get (jm, "options");
  if (opts && !json_is_array (opts))
    return invalid (err, "mounts[%zu].options must be an array", idx);
  size_t i;
  json_t *jo;
  json_array_foreach (opts, i, jo)
  {
    const char *o = json_string_value (jo);
    if (o == NULL)
      return invalid (err, "mounts[%zu].options[%zu] must be a string", idx, i);
    if (strcmp (o, "idmap") == 0 || strcmp (o, "ridmap") == 0)
      return berr_setk (err, BERR_INVALID, EOPNOTSUPP, "mount %s: option %s", m->dest, o);
    if (strcmp (o, "tmpcopyup") == 0)
      continue; /* a crun/runc extension berth does not implement; harmless to skip */
    const struct mount_opt *mo = mount_opt_find (o);
    if (mo == NULL)
      {
        if (data.len)
          sbuf_addc (&data, ',');
        sbuf_adds (&data, o);
        continue;
      }
    if (mo->propagation)
      m->propagation = mo->flag;
    else if (mo->clear)
      {
        m->flags &= ~mo->flag;
        m->clear_flags |= mo->flag;
      }
    else
      {
        m->flags |= mo->flag;
        m->clear_flags &= ~mo->flag;
      }
  }
  if (m->flags & MS_BIND)
    m->is_bind = true;
  if (data.len)
    m->data = sbuf_detach (&data);
  if (m->is_bind)
    {
      struct stat st;
      if (m->source == NULL || m->source[0] != '/')
        return invalid (err, "mounts[%zu]: bind source must be an absolute path", idx);
      if (stat (m->source, &st) < 0)
        return berr_set (err, errno, "mount %s to %s: stat %s", m->source, m->dest, m->source);
      m->source_is_dir = S_ISDIR (st.st_mode);
    }
  else if (m->type == NULL)
    return invalid (err, "mounts[%zu] (%s) has no type", idx, m->dest);
  /* CVE-2019-16884: nothing but a proc filesystem on /proc, and only file binds under it
   * (lxcfs-style); a mount there could fake the files the runtime writes. */
  if (strcmp (m->dest, "/proc") == 0 && (m->type == NULL || strcmp (m->type, "proc") != 0))
    return berr_setk (err, BERR_INVALID, 0,
                      "mount %s to /proc: only a proc filesystem may be "
                      "mounted on /proc",
                      m->source ? m->source : m->type);
  if (path_is_under (m->dest, "/proc") && strcmp (m->dest, "/proc") != 0
      && !(m->is_bind && !m->source_is_dir))
    return berr_setk (err, BERR_INVALID, 0, "mount %s to %s: only files may be bound under /proc",
                      m->source ? m->source : m->type, m->dest);
  return 0;
}

/* ---- devices ------------------------------------------------------------------------------ */

static int parse_device (const json_t *jd, size_t idx, struct rt_device *d, berr_t *err)
{
  d->path = str_member (jd, "path");
  const char *type = str_member (jd, "type");
  if (d->path == NULL || !str_has_prefix (d->path, "/dev/") || strstr (d->path, "/../"))
    return invalid (err, "linux.devices[%zu].path must be an absolute path under /dev", idx);
  if (type == NULL || strlen (type) != 1)
    return invalid (err, "linux.devices[%zu].type must be c, b, u or p", idx);
  switch (type[0])
    {
    case 'c':
    case 'u':
      d->mode = S_IFCHR;
      break;
    case 'b':
      d->mode = S_IFBLK;
      break;
    case 'p':
      d->mode = S_IFIFO;
      break;
    default:
      return invalid (err, "linux.devices[%zu].type must be c, b, u or p", idx);
    }
  uint64_t major = 0, minor = 0, mode = 0666, uid = 0, gid = 0;
  bool has_mode;
  if (get_uint (jd, "major", UINT32_MAX, &major, NULL, err) < 0
      || get_uint (jd, "minor", UINT32_MAX, &minor, NULL, err) < 0
      || get_uint (jd, "fileMode", 07777, &mode, &has_mode, err) < 0
      || get_uint (jd, "uid", UINT32_MAX, &uid, NULL, err) < 0
      || get_uint (jd, "gid", UINT32_MAX, &gid, NULL, err) < 0)
    return berr_wrap (err, "linux.devices[%zu]", idx);
  if (!has_mode)
    mode = 0666;
  d->mode |= (mode_t)mode;
  d->dev = makedev ((unsigned)major, (unsigned)minor);
  d->uid = (uid_t)uid;
  d->gid = (gid_t)gid;
  return 0;
}

/* ---- capabilities and limits -------------------------------------------------------------- */

uint64_t rt_caps_bounding_mask (int cap_last)
{
  uint64_t m = 0;
  for (int c = 0; c <= cap_last && c < 64; c++)
    if (prctl (PR_CAPBSET_READ, c, 0, 0, 0) == 1)
      m |= 1ULL << c;
  return m;
}

static int read_cap_last (void)
{
  static int cached = -1;
  if (cached >= 0)
    return cached;
  int last = CAP_LAST_CAP;
  cleanup_close int fd = open ("/proc/sys/kernel/cap_last_cap", O_RDONLY | O_CLOEXEC);
  char buf[16];
  ssize_t n = fd >= 0 ? read (fd, buf, sizeof buf - 1) : -1;
  if (n > 0)
    {
      buf[n] = '\0';
      last = atoi (buf);
    }
  if (last > 63)
    last = 63;
  cached = last;
  return last;
}

static int parse_caps (const json_t *jc, struct rt_cfg *c, berr_t *err)
{
  static const char *const sets[RT_CAP_NSETS]
      = { "bounding", "effective", "permitted", "inheritable", "ambient" };
  c->has_caps = true;
  for (int s = 0; s < RT_CAP_NSETS; s++)
    {
      json_t *arr = json_object_get (jc, sets[s]);
      if (arr == NULL || json_is_null (arr))
        continue;
      if (!json_is_array (arr))
        return invalid (err, "process.capabilities.%s must be an array", sets[s]);
      size_t i;
      json_t *jn;
      json_array_foreach (arr, i, jn)
      {
        const char *name = json_string_value (jn);
        cap_value_t v;
        if (name == NULL || !str_has_prefix (name, "CAP_") || cap_from_name (name, &v) < 0)
          return berr_setk (err, BERR_INVALID, 0,
                            "unknown capability \"%s\" in process.capabilities.%s",
                            name ? name : "?", sets[s]);
        /* Newer than this kernel: it cannot be granted, and nothing could use it. */
        if (v > c->cap_last)
          {
            log_debug ("runtime: %s is not known to this kernel, skipped", name);
            continue;
          }
        c->caps[s] |= 1ULL << v;
      }
    }
  return 0;
}

static const struct
{
  const char *name;
  int res;
} rlimit_names[] = {
  { "RLIMIT_AS", RLIMIT_AS },
  { "RLIMIT_CORE", RLIMIT_CORE },
  { "RLIMIT_CPU", RLIMIT_CPU },
  { "RLIMIT_DATA", RLIMIT_DATA },
  { "RLIMIT_FSIZE", RLIMIT_FSIZE },
  { "RLIMIT_LOCKS", RLIMIT_LOCKS },
  { "RLIMIT_MEMLOCK", RLIMIT_MEMLOCK },
  { "RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE },
  { "RLIMIT_NICE", RLIMIT_NICE },
  { "RLIMIT_NOFILE", RLIMIT_NOFILE },
  { "RLIMIT_NPROC", RLIMIT_NPROC },
  { "RLIMIT_RSS", RLIMIT_RSS },
  { "RLIMIT_RTPRIO", RLIMIT_RTPRIO },
  { "RLIMIT_RTTIME", RLIMIT_RTTIME },
  { "RLIMIT_SIGPENDING", RLIMIT_SIGPENDING },
  { "RLIMIT_STACK", RLIMIT_STACK },
};

/* rlimits are uint64 in the spec, but jansson's integers are signed 64-bit: "unlimited" shows
 * up as -1 (how Go encoders that cast write it) or as a real beyond 2^63. */
static int rlimit_value (const json_t *o, const char *key, uint64_t *out)
{
  json_t *v = json_object_get (o, key);
  if (json_is_integer (v))
    *out = json_integer_value (v) < 0 ? RLIM_INFINITY : (uint64_t)json_integer_value (v);
  else if (json_is_real (v) && json_real_value (v) >= 9.2e18)
    *out = RLIM_INFINITY;
  else
    return -1;
  return 0;
}

static int parse_rlimits (const json_t *arr, struct rt_cfg *c, berr_t *err)
{
  if (arr == NULL || json_is_null (arr))
    return 0;
  if (!json_is_array (arr))
    return invalid (err, "process.rlimits must be an array");
  c->rlimits = xcalloc (json_array_size (arr) + 1, sizeof *c->rlimits);
  size_t i;
  json_t *jr;
  json_array_foreach (arr, i, jr)
  {
    const char *type = str_member (jr, "type");
    struct rt_rlimit *r = &c->rlimits[c->nrlimits];
    size_t k;
    for (k = 0; type && k < ARRAY_SIZE (rlimit_names); k++)
      if (strcmp (type, rlimit_names[k].name) == 0)
        break;
    if (type == NULL || k == ARRAY_SIZE (rlimit_names))
      return invalid (err, "unknown rlimit \"%s\"", type ? type : "?");
    uint64_t hard, soft;
    if (rlimit_value (jr, "hard", &hard) < 0 || rlimit_value (jr, "soft", &soft) < 0)
      return invalid (err, "process.rlimits %s: hard and soft must be numbers", type);
    r->resource = rlimit_names[k].res;
    r->name = rlimit_names[k].name;
    r->rl.rlim_cur = soft;
    r->rl.rlim_max = hard;
    if (soft > hard)
      return berr_setk (err, BERR_INVALID, 0,
                        "rlimit %s: soft limit %llu is above the hard limit %llu", type,
                        (unsigned long long)soft, (unsigned long long)hard);
    c->nrlimits++;
  }
  return 0;
}

/* ---- process ------------------------------------------------------------------------------ */

static int parse_process (const json_t *p, struct rt_cfg *c, berr_t *err)
{
  if (!json_is_object (p))
    return invalid (err, "process must be an object");
  if (str_array (json_object_get (p, "args"), "process.args", &c->argv, err) < 0)
    return -1;
  if (c->argv == NULL || c->argv[0] == NULL || c->argv[0][0] == '\0')
    return invalid (err, "process.args must not be empty");
  if (str_array (json_object_get (p, "env"), "process.env", &c->envp, err) < 0)
    return -1;
  if (c->envp == NULL)
    c->envp = xcalloc (1, sizeof (char *));
  for (char **e = c->envp; *e; e++)
    if (str_has_prefix (*e, "PATH="))
      c->path_env = *e + 5;
  c->cwd = str_member (p, "cwd");
  if (c->cwd == NULL || c->cwd[0] == '\0')
    c->cwd = "/";
  if (c->cwd[0] != '/')
    return invalid (err, "process.cwd \"%s\" must be an absolute path", c->cwd);
  c->terminal = json_is_true (json_object_get (p, "terminal"));
  json_t *cs = json_object_get (p, "consoleSize");
  if (json_is_object (cs))
    {
      uint64_t h = 0, w = 0;
      if (get_uint (cs, "height", UINT16_MAX, &h, NULL, err) < 0
          || get_uint (cs, "width", UINT16_MAX, &w, NULL, err) < 0)
        return berr_wrap (err, "process.consoleSize");
      c->has_winsize = true;
      c->winsize.ws_row = (unsigned short)h;
      c->winsize.ws_col = (unsigned short)w;
    }
  json_t *u = json_object_get (p, "user");
  uint64_t v = 0;
  bool has_umask = false;
  if (u && (get_uint (u, "uid", UINT32_MAX - 1, &v, NULL, err) < 0))
    return berr_wrap (err, "process.user");
  c->uid = (uid_t)v;
  v = 0;
  if (u && (get_uint (u, "gid", UINT32_MAX - 1, &v, NULL, err) < 0))
    return berr_wrap (err, "process.user");
  c->gid = (gid_t)v;
  v = 022;
  if (u && (get_uint (u, "umask", 0777, &v, &has_umask, err) < 0))
    return berr_wrap (err, "process.user");
  c->umask = has_umask ? (mode_t)v : 022;
  json_t *ag = u ? json_object_get (u, "additionalGids") : NULL;
  if (json_is_array (ag))
    {
      c->groups = xcalloc (json_array_size (ag) + 1, sizeof *c->groups);
      size_t i;
      json_t *jg;
      json_array_foreach (ag, i, jg)
      {
        if (!json_is_integer (jg) || json_integer_value (jg) < 0
            || json_integer_value (jg) >= UINT32_MAX)
          return invalid (err, "process.user.additionalGids[%zu] must be a gid", i);
        c->groups[c->ngroups++] = (gid_t)json_integer_value (jg);
      }
    }
  json_t *jc = json_object_get (p, "capabilities");
  if (json_is_object (jc) && parse_caps (jc, c, err) < 0)
    return -1;
  c->no_new_privs = json_is_true (json_object_get (p, "noNewPrivileges"));
  json_t *oom = json_object_get (p, "oomScoreAdj");
  if (oom && !json_is_null (oom))
    {
      if (!json_is_integer (oom) || json_integer_value (oom) < -1000
          || json_integer_value (oom) > 1000)
        return invalid (err, "process.oomScoreAdj must be between -1000 and 1000");
      c->has_oom_score_adj = true;
      c->oom_score_adj = (int)json_integer_value (oom);
    }
  return parse_rlimits (json_object_get (p, "rlimits"), c, err);
}

/* ---- namespaces --------------------------------------------------------------------------- */

static const struct
{
  const char *name;
  int flag;
  const char *proc; /* /proc/<pid>/ns/<proc> */
} ns_types[] = {
  { "user", CLONE_NEWUSER, "user" },       { "mount", CLONE_NEWNS, "mnt" },
  { "pid", CLONE_NEWPID, "pid" },          { "network", CLONE_NEWNET, "net" },
  { "ipc", CLONE_NEWIPC, "ipc" },          { "uts", CLONE_NEWUTS, "uts" },
  { "cgroup", CLONE_NEWCGROUP, "cgroup" }, { "time", CLONE_NEWTIME, "time" },
};

static int parse_namespaces (const json_t *arr, struct rt_cfg *c, berr_t *err)
{
  size_t i;
  json_t *jn;
  bool has_mount = false;
  json_array_foreach (arr, i, jn)
  {
    const char *type = str_member (jn, "type");
    const char *path = str_member (jn, "path");
    size_t k;
    for (k = 0; type && k < ARRAY_SIZE (ns_types); k++)
      if (strcmp (type, ns_types[k].name) == 0)
        break;
    if (type == NULL || k == ARRAY_SIZE (ns_types))
      return invalid (err, "unknown namespace type \"%s\"", type ? type : "?");
    int flag = ns_types[k].flag;
    if (flag == CLONE_NEWNS)
      has_mount = true;
    if (path == NULL || path[0] == '\0')
      {
        if (flag == CLONE_NEWCGROUP)
          c->new_cgroupns = true;
        else
          c->clone_flags |= (unsigned long)flag;
        continue;
      }
    /* Joining a user or mount namespace would need a different order of everything (and a
     * pivot_root in a shared mount namespace moves every process in it): Docker never asks. */
    if (flag == CLONE_NEWUSER || flag == CLONE_NEWNS)
      return berr_setk (err, BERR_INVALID, EOPNOTSUPP, "join %s namespace %s", type, path);
    int fd = open (path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
      return berr_set (err, errno, "open %s namespace %s", type, path);
    if (flag == CLONE_NEWPID)
      {
        if (c->pid_join_fd >= 0)
          close (c->pid_join_fd);
        c->pid_join_fd = fd;
        continue;
      }
    if (c->njoins == ARRAY_SIZE (c->joins))
      {
        close (fd);
        return invalid (err, "too many namespaces");
      }
    c->joins[c->njoins++] = (struct rt_ns_join){ flag, fd, ns_types[k].name };
  }
  if (!has_mount)
    return invalid (err, "linux.namespaces must include a mount namespace");
  return 0;
}

static int parse_id_map (const json_t *arr, const char *what, char **out, berr_t *err)
{
  if (arr == NULL || json_is_null (arr))
    return 0;
  if (!json_is_array (arr))
    return invalid (err, "linux.%s must be an array", what);
  cleanup_sbuf struct sbuf b;
  sbuf_init (&b);
  size_t i;
  json_t *jm;
  json_array_foreach (arr, i, jm)
  {
    uint64_t cid = 0, hid = 0, size = 0;
    if (get_uint (jm, "containerID", UINT32_MAX, &cid, NULL, err) < 0
        || get_uint (jm, "hostID", UINT32_MAX, &hid, NULL, err) < 0
        || get_uint (jm, "size", UINT32_MAX, &size, NULL, err) < 0)
      return berr_wrap (err, "linux.%s[%zu]", what, i);
    sbuf_addf (&b, "%llu %llu %llu\n", (unsigned long long)cid, (unsigned long long)hid,
               (unsigned long long)size);
  }
  *out = b.len ? sbuf_detach (&b) : NULL;
  return 0;
}

/* Only sysctls that live in a namespace the container owns may be set: anything else would
 * change the host (runtime-spec config-linux.md "sysctl"; Docker validates the same list). */
static int check_sysctl (const struct rt_cfg *c, const char *key, berr_t *err)
{
  static const char *const ipc_keys[]
      = { "kernel.msgmax", "kernel.msgmnb", "kernel.msgmni", "kernel.sem",
          "kernel.shmall", "kernel.shmmax", "kernel.shmmni", "kernel.shm_rmid_forced" };
  bool new_ipc = c->clone_flags & CLONE_NEWIPC;
  bool net = c->clone_flags & CLONE_NEWNET;
  for (size_t i = 0; i < c->njoins; i++)
    if (c->joins[i].type == CLONE_NEWNET)
      net = true;
  for (size_t i = 0; i < ARRAY_SIZE (ipc_keys); i++)
    if (strcmp (key, ipc_keys[i]) == 0 && new_ipc)
      return 0;
  if (str_has_prefix (key, "fs.mqueue.") && new_ipc)
    return 0;
  if (str_has_prefix (key, "net.") && net)
    return 0;
  if ((strcmp (key, "kernel.hostname") == 0 || strcmp (key, "kernel.domainname") == 0)
      && (c->clone_flags & CLONE_NEWUTS))
    return 0;
  return berr_setk (err, BERR_INVALID, 0,
                    "sysctl \"%s\" is not in a separate kernel namespace of the container", key);
}

static int parse_sysctls (const json_t *obj, struct rt_cfg *c, berr_t *err)
{
  if (obj == NULL || json_is_null (obj))
    return 0;
  if (!json_is_object (obj))
    return invalid (err, "linux.sysctl must be an object");
  c->sysctls = xcalloc (json_object_size (obj) + 1, sizeof *c->sysctls);
  const char *key;
  json_t *jv;
  json_object_foreach ((json_t *)obj, key, jv)
  {
    if (!json_is_string (jv))
      return invalid (err, "linux.sysctl \"%s\" must be a string", key);
    if (key[0] == '\0' || strstr (key, "..") || key[0] == '/' || key[0] == '.')
      return invalid (err, "bad sysctl name \"%s\"", key);
    if (check_sysctl (c, key, err) < 0)
      return -1;
    struct rt_sysctl *s = &c->sysctls[c->nsysctls++];
    s->key = key;
    s->value = json_string_value (jv);
    s->path = xasprintf ("/proc/sys/%s", key);
    for (char *p = s->path + 10; *p; p++)
      if (*p == '.')
        *p = '/';
  }
  return 0;
}

/* The host's cgroup hierarchies, for "cgroup" mounts on a v1 or hybrid host: read once per
 * process (they do not move while berth runs), shared by every cfg. */
static struct rt_cgroup_hier *host_hiers;
static size_t host_nhiers;
static int host_cgroup_mode;
static pthread_once_t host_hiers_once = PTHREAD_ONCE_INIT;

static void read_cgroup_hiers (void)
{
  host_cgroup_mode = (int)cgroup_detect_mode ("/sys/fs/cgroup");
  if (host_cgroup_mode != CGROUP_MODE_V1 && host_cgroup_mode != CGROUP_MODE_HYBRID)
    return;
  cleanup_fclose FILE *f = fopen ("/proc/self/mountinfo", "re");
  if (f == NULL)
    return;
  cleanup_free char *line = NULL;
  size_t cap = 0;
  while (getline (&line, &cap, f) > 0)
    {
      /* id parent maj:min root mountpoint opts [optional...] - fstype source superopts */
      char *sep = strstr (line, " - ");
      if (sep == NULL)
        continue;
      char fstype[32], source[256], super[512];
      if (sscanf (sep + 3, "%31s %255s %511s", fstype, source, super) < 3)
        super[0] = '\0';
      bool v2 = strcmp (fstype, "cgroup2") == 0;
      if (!v2 && strcmp (fstype, "cgroup") != 0)
        continue;
      char mnt[4096];
      if (sscanf (line, "%*s %*s %*s %*s %4095s", mnt) != 1
          || !str_has_prefix (mnt, "/sys/fs/cgroup/"))
        continue;
      cleanup_sbuf struct sbuf key;
      sbuf_init (&key);
      if (!v2)
        {
          char *save = NULL;
          for (char *o = strtok_r (super, ",", &save); o; o = strtok_r (NULL, ",", &save))
            {
              if (strcmp (o, "rw") == 0 || strcmp (o, "ro") == 0
                  || (strchr (o, '=') && !str_has_prefix (o, "name=")))
                continue;
              if (key.len)
                sbuf_addc (&key, ',');
              sbuf_adds (&key, o);
            }
        }
      host_hiers = xrealloc (host_hiers, (host_nhiers + 1) * sizeof *host_hiers);
      struct rt_cgroup_hier *h = &host_hiers[host_nhiers++];
      h->mountpoint = xstrdup (mnt);
      h->name = xstrdup (mnt + strlen ("/sys/fs/cgroup/"));
      h->key = sbuf_detach (&key);
    }
}

int rt_cfg_init (struct rt_cfg *c, const json_t *spec, const json_t *process, bool for_exec,
                 berr_t *err)
{
  memset (c, 0, sizeof *c);
  c->pid_join_fd = -1;
  c->sync_fd = -1;
  c->tramp_fd = -1;
  c->stdio[0] = c->stdio[1] = c->stdio[2] = -1;
  c->is_exec = for_exec;
  c->cap_last = read_cap_last ();
  if (!json_is_object (spec))
    return invalid (err, "the spec must be a JSON object");
  if (process == NULL)
    process = json_object_get (spec, "process");
  if (process == NULL)
    return invalid (err, "no process");
  if (parse_process (process, c, err) < 0)
    return -1;

  json_t *jlinux = json_object_get (spec, "linux");
  json_t *sc = json_object_get (jlinux, "seccomp");
  if (json_is_object (sc))
    {
      json_t *flags = json_object_get (sc, "flags");
      size_t i;
      json_t *jf;
      json_array_foreach (flags, i, jf)
      {
        const char *f = json_string_value (jf);
        if (f && strcmp (f, "SECCOMP_FILTER_FLAG_TSYNC") == 0)
          c->seccomp_flags |= SECCOMP_FILTER_FLAG_TSYNC;
        else if (f && strcmp (f, "SECCOMP_FILTER_FLAG_LOG") == 0)
          c->seccomp_flags |= SECCOMP_FILTER_FLAG_LOG;
        else if (f && strcmp (f, "SECCOMP_FILTER_FLAG_SPEC_ALLOW") == 0)
          c->seccomp_flags |= SECCOMP_FILTER_FLAG_SPEC_ALLOW;
        else
          return invalid (err, "unknown linux.seccomp flag \"%s\"", f ? f : "?");
      }
    }
  if (for_exec)
    return 0;

  json_t *root = json_object_get (spec, "root");
  c->rootfs = str_member (root, "path");
  if (c->rootfs == NULL || c->rootfs[0] != '/')
    return invalid (err, "root.path must be an absolute path");
  c->root_readonly = json_is_true (json_object_get (root, "readonly"));
  c->hostname = str_member (spec, "hostname");
  c->domainname = str_member (spec, "domainname");

  json_t *ns = json_object_get (jlinux, "namespaces");
  if (!json_is_array (ns))
    return invalid (err, "linux.namespaces must be an array");
  if (parse_namespaces (ns, c, err) < 0)
    return -1;
  if ((c->hostname && c->hostname[0]) || (c->domainname && c->domainname[0]))
    if (!(c->clone_flags & CLONE_NEWUTS))
      return berr_setk (err, BERR_INVALID, 0,
                        "setting the hostname needs a new UTS namespace (linux.namespaces)");
  if (c->clone_flags & CLONE_NEWUSER)
    {
      if (parse_id_map (json_object_get (jlinux, "uidMappings"), "uidMappings", &c->uid_map, err)
              < 0
          || parse_id_map (json_object_get (jlinux, "gidMappings"), "gidMappings", &c->gid_map, err)
                 < 0)
        return -1;
    }

  c->rootfs_propagation = MS_PRIVATE | MS_REC;
  const char *prop = str_member (jlinux, "rootfsPropagation");
  if (prop && prop[0] && parse_propagation (prop, &c->rootfs_propagation, err) < 0)
    return -1;

  json_t *mounts = json_object_get (spec, "mounts");
  if (mounts && !json_is_array (mounts))
    return invalid (err, "mounts must be an array");
  c->mounts = xcalloc (json_array_size (mounts) + 1, sizeof *c->mounts);
  size_t i;
  json_t *jm;
  bool want_cgroup_hiers = false;
  json_array_foreach (mounts, i, jm)
  {
    if (parse_mount (jm, i, &c->mounts[c->nmounts], err) < 0)
      {
        c->nmounts++; /* so release frees its data */
        return -1;
      }
    if (c->mounts[c->nmounts].type && strcmp (c->mounts[c->nmounts].type, "cgroup") == 0)
      want_cgroup_hiers = true;
    c->nmounts++;
  }
  if (want_cgroup_hiers)
    {
      pthread_once (&host_hiers_once, read_cgroup_hiers);
      c->cgroup_mode = host_cgroup_mode;
      c->cg_hiers = host_hiers;
      c->ncg_hiers = host_nhiers;
    }

  json_t *devs = json_object_get (jlinux, "devices");
  if (devs && !json_is_array (devs))
    return invalid (err, "linux.devices must be an array");
  c->devices = xcalloc (json_array_size (devs) + 1, sizeof *c->devices);
  json_t *jd;
  json_array_foreach (devs, i, jd)
  {
    if (parse_device (jd, i, &c->devices[c->ndevices], err) < 0)
      return -1;
    c->ndevices++;
  }
  if (str_array (json_object_get (jlinux, "maskedPaths"), "linux.maskedPaths", &c->masked, err) < 0
      || str_array (json_object_get (jlinux, "readonlyPaths"), "linux.readonlyPaths", &c->readonly,
                    err)
             < 0)
    return -1;
  return parse_sysctls (json_object_get (jlinux, "sysctl"), c, err);
}

void rt_cfg_release (struct rt_cfg *c)
{
  free (c->argv);
  free (c->envp);
  free (c->groups);
  free (c->rlimits);
  for (size_t i = 0; i < c->nmounts; i++)
    free (c->mounts[i].data);
  free (c->mounts);
  free (c->devices);
  free (c->masked);
  free (c->readonly);
  for (size_t i = 0; i < c->nsysctls; i++)
    free (c->sysctls[i].path);
  free (c->sysctls);
  for (size_t i = 0; i < c->njoins; i++)
    close (c->joins[i].fd);
  if (c->pid_join_fd >= 0)
    close (c->pid_join_fd);
  free (c->uid_map);
  free (c->gid_map);
  seccomp_prog_release (&c->seccomp);
  memset (c, 0, sizeof *c);
}
