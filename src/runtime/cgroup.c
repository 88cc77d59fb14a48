/* cgroup.c — what every cgroup driver shares: mode detection, the per-root layout (controller ->
 * mount point, from /proc/self/mountinfo, cached per process), parsing of OCI linux.resources,
 * the public entry points that dispatch to a driver, and the `none` driver. */
#include "cgroup_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>

#include "util/log.h"

#define CG_DEFAULT_ROOT "/sys/fs/cgroup"
#define CG_DEFAULT_PARENT "berth"

enum cgroup_mode cgroup_detect_mode (const char *root)
{
  struct statfs st;
  if (statfs (root, &st) < 0)
    return CGROUP_MODE_NONE;
  if (st.f_type == CGROUP2_SUPER_MAGIC)
    return CGROUP_MODE_V2;
  if (st.f_type != TMPFS_MAGIC)
    return CGROUP_MODE_NONE;
  char unified[4096];
  snprintf (unified, sizeof unified, "%s/unified", root);
  if (statfs (unified, &st) == 0 && st.f_type == CGROUP2_SUPER_MAGIC)
    return CGROUP_MODE_HYBRID;
  return CGROUP_MODE_V1;
}

const char *cgroup_mode_name (enum cgroup_mode m)
{
  switch (m)
    {
    case CGROUP_MODE_V1:
      return "v1";
    case CGROUP_MODE_HYBRID:
      return "hybrid";
    case CGROUP_MODE_V2:
      return "v2";
    default:
      return "none";
    }
}

/* ---- layout: which v1 hierarchies are mounted under the root ---- */

/* mountinfo escapes space, tab, newline and backslash as \ooo. */
static void unescape_octal (char *s)
{
  char *w = s;
  for (char *r = s; *r;)
    {
      if (r[0] == '\\' && r[1] >= '0' && r[1] <= '7' && r[2] >= '0' && r[2] <= '7' && r[3] >= '0'
          && r[3] <= '7')
        {
          *w++ = (char)(((r[1] - '0') << 6) | ((r[2] - '0') << 3) | (r[3] - '0'));
          r += 4;
        }
      else
        *w++ = *r++;
    }
  *w = '\0';
}

/* Controller names the kernel knows (first column of /proc/cgroups): super options that are
 * one of these, or name=X, name the controllers of a v1 mount; the rest are mount options. */
static char **known_controllers (void)
{
  char **v = NULL;
  cleanup_fclose FILE *f = fopen ("/proc/cgroups", "re");
  if (!f)
    return v;
  char line[256];
  while (fgets (line, sizeof line, f))
    {
      if (line[0] == '#')
        continue;
      line[strcspn (line, " \t\n")] = '\0';
      if (line[0])
        strv_push (&v, line);
    }
  return v;
}

static void layout_scan_v1 (struct cg_layout *lay)
{
  cleanup_strv char **known = known_controllers ();
  cleanup_fclose FILE *f = fopen ("/proc/self/mountinfo", "re");
  if (!f)
    return;
  size_t rootlen = strlen (lay->root);
  cleanup_free char *line = NULL;
  size_t cap = 0;
  while (getline (&line, &cap, f) > 0)
    {
      line[strcspn (line, "\n")] = '\0';
      /* id parent maj:min root mountpoint opts [optional...] - fstype source superopts */
      char *sep = strstr (line, " - ");
      if (!sep)
        continue;
      *sep = '\0';
      char *tail = sep + 3;
      char *save = NULL;
      char *fstype = strtok_r (tail, " ", &save);
      char *source = strtok_r (NULL, " ", &save);
      char *super = strtok_r (NULL, " ", &save);
      if (!fstype || !source || !super || strcmp (fstype, "cgroup") != 0)
        continue;
      char *save2 = NULL;
      char *fld = strtok_r (line, " ", &save2);
      for (int i = 0; fld && i < 4; i++)
        fld = strtok_r (NULL, " ", &save2);
      if (!fld)
        continue;
      unescape_octal (fld);
      if (strncmp (fld, lay->root, rootlen) != 0 || fld[rootlen] != '/'
          || strchr (fld + rootlen + 1, '/'))
        continue;
      char **ctrls = NULL;
      char *save3 = NULL;
      for (char *o = strtok_r (super, ",", &save3); o; o = strtok_r (NULL, ",", &save3))
        if (str_has_prefix (o, "name=") || strv_contains (known, o))
          strv_push (&ctrls, o);
      if (!ctrls)
        continue;
      /* The same hierarchy mounted twice under the root: keep the first. */
      bool dup = false;
      for (size_t i = 0; i < lay->nhiers && !dup; i++)
        dup = strv_contains (lay->hiers[i].ctrls, ctrls[0]);
      if (dup)
        {
          strv_free (ctrls);
          continue;
        }
      lay->hiers = xrealloc (lay->hiers, (lay->nhiers + 1) * sizeof *lay->hiers);
      lay->hiers[lay->nhiers].mnt = xstrdup (fld);
      lay->hiers[lay->nhiers].ctrls = ctrls;
      lay->nhiers++;
    }
}

static struct cg_layout *layout_detect (const char *root)
{
  struct cg_layout *lay = xzalloc (sizeof *lay);
  lay->root = xstrdup (root);
  lay->mode = cgroup_detect_mode (root);
  switch (lay->mode)
    {
    case CGROUP_MODE_V2:
      lay->unified = xstrdup (root);
      lay->writable = access (root, W_OK) == 0;
      break;
    case CGROUP_MODE_HYBRID:
      lay->unified = xasprintf ("%s/unified", root);
      /* fallthrough */
    case CGROUP_MODE_V1:
      layout_scan_v1 (lay);
      if (lay->nhiers == 0)
        {
          lay->mode = CGROUP_MODE_NONE;
          break;
        }
      lay->writable = true;
      for (size_t i = 0; i < lay->nhiers; i++)
        if (access (lay->hiers[i].mnt, W_OK) < 0)
          lay->writable = false;
      break;
    default:
      break;
    }
  /* Once per root and process, thanks to the cache. */
  if (lay->mode != CGROUP_MODE_NONE && !lay->writable)
    log_warn ("cgroup: %s is not writable; containers run without cgroups (no limits, stats or "
              "pause)",
              root);
  return lay;
}

/* One detection per root per process: the layout does not change under a running engine, and
 * tests use a second root. */
static pthread_mutex_t layouts_lock = PTHREAD_MUTEX_INITIALIZER;
static struct cg_layout **layouts;
static size_t nlayouts;

static const struct cg_layout *layout_get (const char *root)
{
  pthread_mutex_lock (&layouts_lock);
  for (size_t i = 0; i < nlayouts; i++)
    if (strcmp (layouts[i]->root, root) == 0)
      {
        pthread_mutex_unlock (&layouts_lock);
        return layouts[i];
      }
  struct cg_layout *lay = layout_detect (root);
  layouts = xrealloc (layouts, (nlayouts + 1) * sizeof *layouts);
  layouts[nlayouts++] = lay;
  pthread_mutex_unlock (&layouts_lock);
  return lay;
}

/* ---- file helpers ---- */

int cg_write (const char *dir, const char *file, const char *val, berr_t *err)
{
  cleanup_free char *path = xasprintf ("%s/%s", dir, file);
  cleanup_close int fd = open (path, O_WRONLY | O_CLOEXEC);
  if (fd < 0)
    return berr_set (err, errno, "open %s", path);
  size_t len = strlen (val);
  ssize_t w;
  do
    w = write (fd, val, len);
  while (w < 0 && errno == EINTR);
  if (w < 0)
    return berr_set (err, errno, "write \"%s\" to %s", val, path);
  return 0;
}

int cg_writef (const char *dir, const char *file, berr_t *err, const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  cleanup_free char *val = xvasprintf (fmt, ap);
  va_end (ap);
  return cg_write (dir, file, val, err);
}

int cg_read (const char *dir, const char *file, char **out, berr_t *err)
{
  cleanup_free char *path = xasprintf ("%s/%s", dir, file);
  cleanup_close int fd = open (path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return berr_set (err, errno, "open %s", path);
  /* Own loop rather than fs_read_fd: many cgroup files are empty, and the result must be a
   * NUL-terminated string even then. */
  cleanup_sbuf struct sbuf b;
  sbuf_init (&b);
  for (;;)
    {
      sbuf_grow (&b, 4096);
      ssize_t r = read (fd, b.buf + b.len, b.cap - b.len - 1);
      if (r < 0 && errno == EINTR)
        continue;
      if (r < 0)
        return berr_set (err, errno, "read %s", path);
      if (r == 0)
        break;
      b.len += (size_t)r;
      if (b.len > (1u << 24))
        return berr_set (err, EFBIG, "read %s", path);
    }
  b.buf[b.len] = '\0';
  *out = sbuf_detach (&b);
  return 0;
}

int cg_read_u64 (const char *dir, const char *file, uint64_t *v, berr_t *err)
{
  cleanup_free char *s = NULL;
  if (cg_read (dir, file, &s, err) < 0)
    return -1;
  if (str_has_prefix (s, "max"))
    {
      *v = UINT64_MAX;
      return 0;
    }
  char *end;
  errno = 0;
  unsigned long long n = strtoull (s, &end, 10);
  if (errno || end == s)
    return berr_set (err, 0, "%s/%s: not a number: %.40s", dir, file, s);
  *v = n;
  return 0;
}

int cg_read_key (const char *dir, const char *file, const char *key, uint64_t *v)
{
  cleanup_berr berr_t e = BERR_INIT;
  cleanup_free char *s = NULL;
  if (cg_read (dir, file, &s, &e) < 0)
    return -1;
  size_t klen = strlen (key);
  for (char *l = s; l && *l; l = strchr (l, '\n') ? strchr (l, '\n') + 1 : NULL)
    if (strncmp (l, key, klen) == 0 && l[klen] == ' ')
      {
        *v = strtoull (l + klen + 1, NULL, 10);
        return 0;
      }
  return -1;
}

bool cg_file_exists (const char *dir, const char *file)
{
  cleanup_free char *path = xasprintf ("%s/%s", dir, file);
  return access (path, F_OK) == 0;
}

/* v1's cgroup.procs still lists exited tasks until they are reaped (v2's does not); a zombie
 * holds no resources and cannot be signalled, so it does not count. */
static bool pid_is_zombie (pid_t pid)
{
  char path[64];
  snprintf (path, sizeof path, "/proc/%d/stat", (int)pid);
  char buf[512];
  cleanup_close int fd = open (path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return errno == ENOENT;
  ssize_t r = read (fd, buf, sizeof buf - 1);
  if (r <= 0)
    return false;
  buf[r] = '\0';
  char *rp = strrchr (buf, ')');
  return rp && rp[1] == ' ' && (rp[2] == 'Z' || rp[2] == 'X');
}

int cg_read_procs (const char *dir, pid_t **pids, size_t *n, berr_t *err)
{
  cleanup_free char *s = NULL;
  *pids = NULL;
  *n = 0;
  if (cg_read (dir, "cgroup.procs", &s, err) < 0)
    return -1;
  size_t cap = 0;
  for (char *p = s; *p;)
    {
      char *end;
      long v = strtol (p, &end, 10);
      if (end == p)
        break;
      p = end;
      while (*p == '\n')
        p++;
      if (pid_is_zombie ((pid_t)v))
        continue;
      if (*n == cap)
        {
          cap = cap ? cap * 2 : 16;
          *pids = xrealloc (*pids, cap * sizeof **pids);
        }
      (*pids)[(*n)++] = (pid_t)v;
    }
  return 0;
}

void cg_sleep_ms (unsigned ms)
{
  struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L };
  while (nanosleep (&ts, &ts) < 0 && errno == EINTR)
    ;
}

int cg_mkdir_group (const char *path, bool *created, berr_t *err)
{
  *created = false;
  if (mkdir (path, 0755) == 0)
    {
      *created = true;
      return 0;
    }
  if (errno != EEXIST)
    return berr_set (err, errno, "create cgroup %s", path);
  pid_t *pids = NULL;
  size_t n = 0;
  if (cg_read_procs (path, &pids, &n, err) < 0)
    return berr_wrap (err, "reuse cgroup %s", path);
  free (pids);
  if (n > 0)
    return berr_setk (err, BERR_CONFLICT, 0, "cgroup %s exists and has %zu process%s", path, n,
                      n == 1 ? "" : "es");
  return 0;
}

int cg_rmdir (const char *path, berr_t *err)
{
  for (int i = 0;; i++)
    {
      if (rmdir (path) == 0 || errno == ENOENT)
        return 0;
      /* The last task of a killed group can linger for a moment while it exits. */
      if (errno != EBUSY || i >= 50)
        return berr_set (err, errno, "remove cgroup %s", path);
      cg_sleep_ms (i < 10 ? 5 : 20);
    }
}

int cg_kill_loop (const char *dir, int sig, berr_t *err)
{
  for (int round = 0;; round++)
    {
      pid_t *pids = NULL;
      size_t n = 0;
      if (cg_read_procs (dir, &pids, &n, err) < 0)
        {
          if (err->errnum == ENOENT)
            {
              berr_release (err);
              return 0;
            }
          return -1;
        }
      for (size_t i = 0; i < n; i++)
        if (kill (pids[i], sig) < 0 && errno != ESRCH)
          {
            int e = errno;
            free (pids);
            return berr_set (err, e, "kill %d in %s", (int)pids[i], dir);
          }
      free (pids);
      /* Only SIGKILL is sure to empty the group; other signals are sent once. */
      if (n == 0 || sig != SIGKILL)
        return 0;
      if (round >= 500)
        return berr_set (err, EBUSY, "%s: %zu process%s still alive after SIGKILL", dir, n,
                         n == 1 ? "" : "es");
      cg_sleep_ms (round < 20 ? 2 : 10);
    }
}

/* ---- OCI linux.resources ---- */

static const char *json_get_str_c (const json_t *obj, const char *key)
{
  json_t *x = json_object_get (obj, key);
  return json_is_string (x) ? json_string_value (x) : NULL;
}

static int get_int (const json_t *obj, const char *key, const char *ctx, bool *has, int64_t *v,
                    berr_t *err)
{
  json_t *x = json_object_get (obj, key);
  if (!x || json_is_null (x))
    return 0;
  if (!json_is_integer (x))
    return berr_setk (err, BERR_INVALID, 0, "linux.resources.%s.%s: not an integer", ctx, key);
  *v = json_integer_value (x);
  *has = true;
  return 0;
}

static int get_uint (const json_t *obj, const char *key, const char *ctx, bool *has, uint64_t *v,
                     berr_t *err)
{
  int64_t i = 0;
  bool h = false;
  if (get_int (obj, key, ctx, &h, &i, err) < 0)
    return -1;
  if (!h)
    return 0;
  if (i < 0)
    return berr_setk (err, BERR_INVALID, 0, "linux.resources.%s.%s: negative value %lld", ctx, key,
                      (long long)i);
  *v = (uint64_t)i;
  *has = true;
  return 0;
}

/* Memory sizes: -1 means unlimited, 0 means "not set" (Docker's zero value). */
static int get_limit (const json_t *obj, const char *key, const char *ctx, bool *has, int64_t *v,
                      berr_t *err)
{
  int64_t i = 0;
  bool h = false;
  if (get_int (obj, key, ctx, &h, &i, err) < 0)
    return -1;
  if (!h || i == 0)
    return 0;
  if (i < -1)
    return berr_setk (err, BERR_INVALID, 0, "linux.resources.%s.%s: invalid value %lld", ctx, key,
                      (long long)i);
  *v = i;
  *has = true;
  return 0;
}

static int parse_devices (const json_t *arr, struct cg_res *r, berr_t *err)
{
  if (!json_is_array (arr))
    return berr_setk (err, BERR_INVALID, 0, "linux.resources.devices: not an array");
  r->has_devices = true;
  r->ndevs = json_array_size (arr);
  r->devs = xcalloc (r->ndevs ? r->ndevs : 1, sizeof *r->devs);
  for (size_t i = 0; i < r->ndevs; i++)
    {
      json_t *d = json_array_get (arr, i);
      struct cg_dev_rule *rule = &r->devs[i];
      if (!json_is_object (d))
        return berr_setk (err, BERR_INVALID, 0, "linux.resources.devices[%zu]: not an object", i);
      json_t *allow = json_object_get (d, "allow");
      if (!json_is_boolean (allow))
        return berr_setk (err, BERR_INVALID, 0,
                          "linux.resources.devices[%zu].allow: missing or not a boolean", i);
      rule->allow = json_is_true (allow);
      json_t *type = json_object_get (d, "type");
      const char *t = json_is_string (type) ? json_string_value (type) : "a";
      if (strcmp (t, "a") != 0 && strcmp (t, "c") != 0 && strcmp (t, "b") != 0)
        return berr_setk (err, BERR_INVALID, 0,
                          "linux.resources.devices[%zu].type: \"%s\" is not a, b or c", i, t);
      rule->type = t[0];
      rule->major = rule->minor = -1;
      bool h = false;
      if (get_int (d, "major", "devices", &h, &rule->major, err) < 0
          || get_int (d, "minor", "devices", &h, &rule->minor, err) < 0)
        return -1;
      if (rule->major < -1 || rule->minor < -1 || rule->major > UINT32_MAX
          || rule->minor > UINT32_MAX)
        return berr_setk (err, BERR_INVALID, 0, "linux.resources.devices[%zu]: bad major/minor", i);
      json_t *acc = json_object_get (d, "access");
      const char *a = json_is_string (acc) ? json_string_value (acc) : "rwm";
      rule->access = 0;
      for (const char *p = a; *p; p++)
        switch (*p)
          {
          case 'r':
            rule->access |= CG_ACC_READ;
            break;
          case 'w':
            rule->access |= CG_ACC_WRITE;
            break;
          case 'm':
            rule->access |= CG_ACC_MKNOD;
            break;
          default:
            return berr_setk (err, BERR_INVALID, 0,
                              "linux.resources.devices[%zu].access: \"%s\" is not made of r, w, m",
                              i, a);
          }
      if (rule->access == 0)
        rule->access = CG_ACC_ALL;
    }
  return 0;
}

static int parse_hugepages (const json_t *arr, struct cg_res *r, berr_t *err)
{
  if (!json_is_array (arr))
    return berr_setk (err, BERR_INVALID, 0, "linux.resources.hugepageLimits: not an array");
  r->nhuge = json_array_size (arr);
  r->huge = xcalloc (r->nhuge ? r->nhuge : 1, sizeof *r->huge);
  for (size_t i = 0; i < r->nhuge; i++)
    {
      json_t *h = json_array_get (arr, i);
      const char *ps = json_get_str_c (h, "pageSize");
      bool has = false;
      if (!ps || !*ps || strchr (ps, '/') || strchr (ps, '.'))
        return berr_setk (err, BERR_INVALID, 0,
                          "linux.resources.hugepageLimits[%zu].pageSize: missing or invalid", i);
      r->huge[i].pagesize = xstrdup (ps);
      if (get_uint (h, "limit", "hugepageLimits", &has, &r->huge[i].limit, err) < 0)
        return -1;
      if (!has)
        return berr_setk (err, BERR_INVALID, 0,
                          "linux.resources.hugepageLimits[%zu].limit: missing", i);
    }
  return 0;
}

int cg_res_parse (const json_t *j, struct cg_res *r, berr_t *err)
{
  memset (r, 0, sizeof *r);
  if (!j || json_is_null (j))
    return 0;
  if (!json_is_object (j))
    return berr_setk (err, BERR_INVALID, 0, "linux.resources: not an object");
  json_t *mem = json_object_get (j, "memory");
  if (mem && json_is_object (mem))
    {
      int64_t swappiness = -1;
      json_t *oom = json_object_get (mem, "disableOOMKiller");
      if (get_limit (mem, "limit", "memory", &r->has_mem_limit, &r->mem_limit, err) < 0
          || get_limit (mem, "reservation", "memory", &r->has_mem_reservation, &r->mem_reservation,
                        err)
                 < 0
          || get_limit (mem, "swap", "memory", &r->has_swap, &r->swap, err) < 0
          || get_int (mem, "swappiness", "memory", &r->has_swappiness, &swappiness, err) < 0)
        return -1;
      /* Docker's "unset" is -1; anything outside 0..100 is not a setting. */
      r->has_swappiness = r->has_swappiness && swappiness >= 0 && swappiness <= 100;
      r->swappiness = (uint64_t)swappiness;
      if (json_is_boolean (oom))
        {
          r->has_disable_oom = true;
          r->disable_oom = json_is_true (oom);
        }
    }
  else if (mem && !json_is_null (mem))
    return berr_setk (err, BERR_INVALID, 0, "linux.resources.memory: not an object");
  json_t *cpu = json_object_get (j, "cpu");
  if (cpu && json_is_object (cpu))
    {
      if (get_uint (cpu, "shares", "cpu", &r->has_shares, &r->shares, err) < 0
          || get_int (cpu, "quota", "cpu", &r->has_quota, &r->quota, err) < 0
          || get_uint (cpu, "period", "cpu", &r->has_period, &r->period, err) < 0)
        return -1;
      if (r->has_shares && r->shares == 0)
        r->has_shares = false;
      if (r->has_quota && r->quota == 0)
        r->has_quota = false;
      if (r->has_quota && r->quota < -1)
        return berr_setk (err, BERR_INVALID, 0, "linux.resources.cpu.quota: invalid value %lld",
                          (long long)r->quota);
      if (r->has_period && r->period == 0)
        r->has_period = false;
      const char *cpus = json_get_str_c (cpu, "cpus");
      const char *mems = json_get_str_c (cpu, "mems");
      if (cpus && *cpus)
        r->cpus = xstrdup (cpus);
      if (mems && *mems)
        r->mems = xstrdup (mems);
    }
  else if (cpu && !json_is_null (cpu))
    return berr_setk (err, BERR_INVALID, 0, "linux.resources.cpu: not an object");
  json_t *pids = json_object_get (j, "pids");
  if (pids && json_is_object (pids))
    {
      if (get_int (pids, "limit", "pids", &r->has_pids, &r->pids, err) < 0)
        return -1;
    }
  else if (pids && !json_is_null (pids))
    return berr_setk (err, BERR_INVALID, 0, "linux.resources.pids: not an object");
  json_t *devs = json_object_get (j, "devices");
  if (devs && !json_is_null (devs) && parse_devices (devs, r, err) < 0)
    return -1;
  json_t *bio = json_object_get (j, "blockIO");
  if (bio && json_is_object (bio))
    {
      if (get_uint (bio, "weight", "blockIO", &r->has_blkio_weight, &r->blkio_weight, err) < 0)
        return -1;
      if (r->has_blkio_weight && r->blkio_weight == 0)
        r->has_blkio_weight = false;
      if (r->has_blkio_weight && (r->blkio_weight < 10 || r->blkio_weight > 1000))
        return berr_setk (err, BERR_INVALID, 0,
                          "linux.resources.blockIO.weight: %llu is outside 10..1000",
                          (unsigned long long)r->blkio_weight);
      static const char *const unsupported[]
          = { "weightDevice", "throttleReadBpsDevice", "throttleWriteBpsDevice",
              "throttleReadIOPSDevice", "throttleWriteIOPSDevice" };
      for (size_t i = 0; i < ARRAY_SIZE (unsupported); i++)
        {
          json_t *x = json_object_get (bio, unsupported[i]);
          if (json_is_array (x) && json_array_size (x) > 0)
            log_warn ("cgroup: blockIO.%s is not supported; ignored", unsupported[i]);
        }
    }
  json_t *huge = json_object_get (j, "hugepageLimits");
  if (huge && !json_is_null (huge) && parse_hugepages (huge, r, err) < 0)
    return -1;
  return 0;
}

void cg_res_release (struct cg_res *r)
{
  free (r->cpus);
  free (r->mems);
  free (r->devs);
  for (size_t i = 0; i < r->nhuge; i++)
    free (r->huge[i].pagesize);
  free (r->huge);
  memset (r, 0, sizeof *r);
}

bool cg_res_any (const struct cg_res *r)
{
  return r->has_mem_limit || r->has_mem_reservation || r->has_swap || r->has_swappiness
         || (r->has_disable_oom && r->disable_oom) || r->has_shares || r->has_quota || r->has_period
         || r->cpus || r->mems || r->has_pids || r->has_devices || r->has_blkio_weight
         || r->nhuge > 0;
}

/* The first limit set, named the OCI way, for error messages. */
static const char *cg_res_first (const struct cg_res *r)
{
  if (r->has_mem_limit)
    return "memory.limit";
  if (r->has_mem_reservation)
    return "memory.reservation";
  if (r->has_swap)
    return "memory.swap";
  if (r->has_swappiness)
    return "memory.swappiness";
  if (r->has_disable_oom && r->disable_oom)
    return "memory.disableOOMKiller";
  if (r->has_shares)
    return "cpu.shares";
  if (r->has_quota)
    return "cpu.quota";
  if (r->has_period)
    return "cpu.period";
  if (r->cpus)
    return "cpu.cpus";
  if (r->mems)
    return "cpu.mems";
  if (r->has_pids)
    return "pids.limit";
  if (r->has_devices)
    return "devices";
  if (r->has_blkio_weight)
    return "blockIO.weight";
  if (r->nhuge)
    return "hugepageLimits";
  return NULL;
}

/* ---- the none driver: no cgroup filesystem, or not writable ---- */

static int none_create (struct cgroup *cg arg_unused, const struct cg_res *res arg_unused,
                        berr_t *err arg_unused)
{
  return 0;
}

static int none_open (struct cgroup *cg arg_unused, berr_t *err arg_unused) { return 0; }

static int none_enter (struct cgroup *cg arg_unused, pid_t pid arg_unused, berr_t *err arg_unused)
{
  return 0;
}

static int none_clone_fd (struct cgroup *cg arg_unused) { return -1; }

static int none_refuse (struct cgroup *cg, const char *what, berr_t *err)
{
  return berr_set (err, ENOTSUP, "%s: no writable cgroup filesystem at %s", what, cg->lay->root);
}

static int none_update (struct cgroup *cg, const struct cg_res *res, berr_t *err)
{
  const char *first = cg_res_first (res);
  if (!first)
    return 0;
  cleanup_free char *what = xasprintf ("cannot apply the %s limit", first);
  return none_refuse (cg, what, err);
}

static int none_freeze (struct cgroup *cg, bool frozen, berr_t *err)
{
  return none_refuse (cg, frozen ? "cannot pause" : "cannot unpause", err);
}

static bool none_is_frozen (struct cgroup *cg arg_unused) { return false; }

static int none_kill_all (struct cgroup *cg, int sig arg_unused, berr_t *err)
{
  return none_refuse (cg, "cannot list the container's processes", err);
}

static int none_pids (struct cgroup *cg, pid_t **pids, size_t *n, berr_t *err)
{
  *pids = NULL;
  *n = 0;
  return none_refuse (cg, "cannot list the container's processes", err);
}

static int none_stats (struct cgroup *cg, struct cgroup_stats *st, berr_t *err)
{
  memset (st, 0, sizeof *st);
  return none_refuse (cg, "no resource statistics", err);
}

static bool none_oom_killed (struct cgroup *cg arg_unused) { return false; }

static int none_destroy (struct cgroup *cg arg_unused, berr_t *err arg_unused) { return 0; }

const struct cgroup_driver cg_driver_none = {
  .name = "none",
  .create = none_create,
  .open = none_open,
  .enter = none_enter,
  .clone_fd = none_clone_fd,
  .update = none_update,
  .freeze = none_freeze,
  .is_frozen = none_is_frozen,
  .kill_all = none_kill_all,
  .pids = none_pids,
  .stats = none_stats,
  .oom_killed = none_oom_killed,
  .destroy = none_destroy,
};

/* ---- public entry points ---- */

/* Names become directory names in every hierarchy: no separators, no dot names. */
static bool valid_component (const char *s, size_t len)
{
  if (len == 0 || len > 255)
    return false;
  if ((len == 1 && s[0] == '.') || (len == 2 && s[0] == '.' && s[1] == '.'))
    return false;
  for (size_t i = 0; i < len; i++)
    if (s[i] == '/' || s[i] == '\n' || s[i] == '\0')
      return false;
  return true;
}

static int cg_new (const struct cgroup_opts *o, const char *name, struct cgroup **out, berr_t *err)
{
  const char *root = o && o->mount_root ? o->mount_root : CG_DEFAULT_ROOT;
  const char *parent = o && o->parent ? o->parent : CG_DEFAULT_PARENT;
  if (!name || !valid_component (name, strlen (name)))
    return berr_setk (err, BERR_INVALID, 0, "invalid cgroup name \"%s\"", name ? name : "");
  for (const char *p = parent; *p;)
    {
      size_t len = strcspn (p, "/");
      if (!valid_component (p, len))
        return berr_setk (err, BERR_INVALID, 0, "invalid cgroup parent \"%s\"", parent);
      p += len;
      if (*p == '/')
        p++;
    }
  if (!*parent)
    return berr_setk (err, BERR_INVALID, 0, "invalid cgroup parent \"\"");
  const struct cg_layout *lay = layout_get (root);
  struct cgroup *cg = xzalloc (sizeof *cg);
  cg->lay = lay;
  cg->dirfd = -1;
  cg->name = xstrdup (name);
  cg->parent = xstrdup (parent);
  cg->rel = xasprintf ("%s/%s", parent, name);
  if (!lay->writable || lay->mode == CGROUP_MODE_NONE)
    {
      cg->drv = &cg_driver_none;
      cg->mode = CGROUP_MODE_NONE;
    }
  else
    {
      cg->mode = lay->mode;
      cg->drv = lay->mode == CGROUP_MODE_V2 ? &cg_driver_v2 : &cg_driver_v1;
    }
  *out = cg;
  return 0;
}

int cgroup_create (const struct cgroup_opts *o, const char *name, const json_t *resources,
                   struct cgroup **out, berr_t *err)
{
  *out = NULL;
  struct cg_res res;
  if (cg_res_parse (resources, &res, err) < 0)
    {
      cg_res_release (&res);
      return -1;
    }
  struct cgroup *cg = NULL;
  if (cg_new (o, name, &cg, err) < 0)
    {
      cg_res_release (&res);
      return -1;
    }
  if (cg->drv == &cg_driver_none && cg_res_any (&res))
    {
      none_update (cg, &res, err);
      cg_res_release (&res);
      cgroup_free (cg);
      return berr_wrap (err, "create cgroup %s", name);
    }
  if (cg->drv->create (cg, &res, err) < 0)
    {
      cg_res_release (&res);
      cgroup_free (cg);
      return -1;
    }
  if (cg_res_any (&res) && cg->drv->update (cg, &res, err) < 0)
    {
      cleanup_berr berr_t e2 = BERR_INIT;
      cg->drv->destroy (cg, &e2);
      cg_res_release (&res);
      cgroup_free (cg);
      return berr_wrap (err, "cgroup %s", name);
    }
  cg_res_release (&res);
  *out = cg;
  return 0;
}

int cgroup_open (const struct cgroup_opts *o, const char *name, struct cgroup **out, berr_t *err)
{
  *out = NULL;
  struct cgroup *cg = NULL;
  if (cg_new (o, name, &cg, err) < 0)
    return -1;
  if (cg->drv->open (cg, err) < 0)
    {
      cgroup_free (cg);
      return -1;
    }
  *out = cg;
  return 0;
}

void cgroup_free (struct cgroup *cg)
{
  if (!cg)
    return;
  if (cg->paths)
    for (size_t i = 0; i < cg->lay->nhiers; i++)
      free (cg->paths[i]);
  free (cg->paths);
  free (cg->upath);
  if (cg->dirfd >= 0)
    close (cg->dirfd);
  free (cg->name);
  free (cg->parent);
  free (cg->rel);
  free (cg);
}

enum cgroup_mode cgroup_mode (const struct cgroup *cg) { return cg ? cg->mode : CGROUP_MODE_NONE; }

int cgroup_enter (struct cgroup *cg, pid_t pid, berr_t *err)
{
  if (cg->drv->enter (cg, pid, err) < 0)
    return berr_wrap (err, "move %d into cgroup %s", (int)pid, cg->rel);
  return 0;
}

int cgroup_clone_fd (struct cgroup *cg) { return cg ? cg->drv->clone_fd (cg) : -1; }

int cgroup_self_attach_fds (struct cgroup *cg, int **fds, size_t *n, berr_t *err)
{
  *fds = NULL;
  *n = 0;
  if (cg == NULL || cg->drv != &cg_driver_v1)
    return 0;
  int *v = xcalloc (cg->lay->nhiers + 1, sizeof *v);
  size_t k = 0;
  for (size_t i = 0; i < cg->lay->nhiers; i++)
    {
      if (cg->paths[i] == NULL)
        continue;
      cleanup_free char *path = xasprintf ("%s/tasks", cg->paths[i]);
      int fd = open (path, O_WRONLY | O_CLOEXEC);
      if (fd < 0)
        {
          int e = errno;
          for (size_t j = 0; j < k; j++)
            close (v[j]);
          free (v);
          return berr_set (err, e, "open %s", path);
        }
      v[k++] = fd;
    }
  *fds = v;
  *n = k;
  return 0;
}

int cgroup_update (struct cgroup *cg, const json_t *resources, berr_t *err)
{
  struct cg_res res;
  int ret = cg_res_parse (resources, &res, err);
  if (ret == 0 && cg_res_any (&res))
    {
      ret = cg->drv->update (cg, &res, err);
      if (ret < 0)
        berr_wrap (err, "update cgroup %s", cg->rel);
    }
  cg_res_release (&res);
  return ret;
}

int cgroup_freeze (struct cgroup *cg, bool frozen, berr_t *err)
{
  if (cg->drv->freeze (cg, frozen, err) < 0)
    return berr_wrap (err, "%s cgroup %s", frozen ? "freeze" : "thaw", cg->rel);
  return 0;
}

bool cgroup_is_frozen (struct cgroup *cg) { return cg->drv->is_frozen (cg); }

int cgroup_kill_all (struct cgroup *cg, int sig, berr_t *err)
{
  if (cg->drv->kill_all (cg, sig, err) < 0)
    return berr_wrap (err, "signal %d to cgroup %s", sig, cg->rel);
  return 0;
}

int cgroup_pids (struct cgroup *cg, pid_t **pids, size_t *n, berr_t *err)
{
  *pids = NULL;
  *n = 0;
  if (cg->drv->pids (cg, pids, n, err) < 0)
    return berr_wrap (err, "processes of cgroup %s", cg->rel);
  return 0;
}

int cgroup_stats (struct cgroup *cg, struct cgroup_stats *st, berr_t *err)
{
  memset (st, 0, sizeof *st);
  if (cg->drv->stats (cg, st, err) < 0)
    return berr_wrap (err, "statistics of cgroup %s", cg->rel);
  return 0;
}

bool cgroup_oom_killed (struct cgroup *cg) { return cg->drv->oom_killed (cg); }

int cgroup_destroy (struct cgroup *cg, berr_t *err)
{
  if (cg->drv->destroy (cg, err) < 0)
    return berr_wrap (err, "destroy cgroup %s", cg->rel);
  return 0;
}
