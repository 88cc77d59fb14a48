/* gpus_discover.c — a CDI spec for the host's NVIDIA driver, built the way `nvidia-ctk cdi
 * generate` builds one, without NVML: GPUs and their UUIDs from /proc/driver/nvidia, device
 * nodes from /dev, the driver's libraries from the loader cache, its tools from the usual bin
 * directories.
 *
 * The loader cache in the container. nvidia-ctk adds a createContainer hook running its own
 * `update-ldcache` tool. berth ships no such tool, and a hook running the image's ldconfig would
 * fail in images without one (busybox, distroless) and with a read-only root or a non-root user.
 * Instead every library is also bind-mounted at the path of its cache entry, which is the
 * SONAME link (libcuda.so.1 -> libcuda.so.535.104.05): dlopen("libcuda.so.1") then finds it in
 * the standard directories whatever the image's own cache says. What this does not give is an
 * entry in the image's `ldconfig -p` (tools that grep it, like Triton's libcuda lookup, need
 * LD_LIBRARY_PATH or an ldconfig run by the user). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "gpu/gpus.h"
#include "util/fs.h"
#include "util/json.h"

#define LDCACHE_MAX (64u << 20)
#define PROC_FILE_MAX (1u << 16)

/* Libraries nvidia-ctk mounts although their names do not end in the driver version. */
static const char *const extra_lib_prefixes[] = { "libnvidia-nvvm70.so." };

static const char *const binaries[] = { "nvidia-smi", "nvidia-debugdump", "nvidia-persistenced",
                                        "nvidia-cuda-mps-control", "nvidia-cuda-mps-server" };
static const char *const bin_dirs[]
    = { "/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin" };

static const char *const control_nodes[]
    = { "nvidiactl", "nvidia-uvm", "nvidia-uvm-tools", "nvidia-modeset" };

struct gpu_dev
{
  unsigned minor;
  char *uuid; /* "GPU-…" or NULL */
  char *bus;  /* the /proc/driver/nvidia/gpus entry, or NULL */
};

/* ---------- the driver version ---------- */

/* "NVRM version: NVIDIA UNIX x86_64 Kernel Module  535.104.05  Sat Aug 19 …" (or "… Open Kernel
 * Module for x86_64  535.104.05  Release Build …"): the first token of digits and dots with at
 * least one dot. */
static char *driver_version (const char *proc_driver)
{
  cleanup_free char *path = xasprintf ("%s/version", proc_driver);
  cleanup_free char *data = NULL;
  cleanup_berr berr_t err = BERR_INIT;
  size_t len;
  char *line, *eol;

  if (fs_read_file (path, PROC_FILE_MAX, &data, &len, &err) < 0)
    return NULL;
  for (line = data; line && *line; line = eol ? eol + 1 : NULL)
    {
      eol = strchr (line, '\n');
      if (eol)
        *eol = '\0';
      if (!str_has_prefix (line, "NVRM version:"))
        continue;
      for (char *t = line + strlen ("NVRM version:"); *t;)
        {
          size_t n = strcspn (t, " \t");
          size_t digits = strspn (t, "0123456789.");
          if (n > 0 && digits == n && n < 32 && t[0] != '.' && t[n - 1] != '.'
              && memchr (t, '.', n))
            return xstrndup (t, n);
          t += n;
          t += strspn (t, " \t");
        }
    }
  return NULL;
}

/* ---------- GPUs ---------- */

static int cmp_str (const void *a, const void *b)
{
  return strcmp (*(char *const *)a, *(char *const *)b);
}

static int cmp_dev_minor (const void *a, const void *b)
{
  const struct gpu_dev *x = a, *y = b;
  return x->minor < y->minor ? -1 : x->minor > y->minor;
}

static char *trimmed (const char *s)
{
  size_t n;
  s += strspn (s, " \t");
  n = strlen (s);
  while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
    n--;
  return xstrndup (s, n);
}

/* Is dev_dir/name a character device of the NVIDIA major? */
static bool char_node (const char *dev_dir, const char *name, struct stat *st)
{
  cleanup_free char *p = xasprintf ("%s/%s", dev_dir, name);
  return lstat (p, st) == 0 && S_ISCHR (st->st_mode);
}

/* Sorted by PCI bus id, which is NVML's default order and so the index nvidia-smi shows. */
static void gpus_from_proc (const char *proc_driver, struct gpu_dev **devs, size_t *n)
{
  cleanup_free char *dir = xasprintf ("%s/gpus", proc_driver);
  cleanup_closedir DIR *d = opendir (dir);
  cleanup_strv char **names = NULL;
  struct dirent *de;

  if (!d)
    return;
  while ((de = readdir (d)))
    if (de->d_name[0] != '.')
      strv_push (&names, de->d_name);
  if (!names)
    return;
  qsort (names, strv_len (names), sizeof (char *), cmp_str);
  for (size_t i = 0; names[i]; i++)
    {
      cleanup_free char *path = xasprintf ("%s/%s/information", dir, names[i]);
      cleanup_free char *data = NULL;
      cleanup_berr berr_t err = BERR_INIT;
      struct gpu_dev g = { .minor = UINT_MAX };
      size_t len;

      if (fs_read_file (path, PROC_FILE_MAX, &data, &len, &err) < 0)
        continue;
      for (char *line = data, *eol; line && *line; line = eol ? eol + 1 : NULL)
        {
          eol = strchr (line, '\n');
          if (eol)
            *eol = '\0';
          if (str_has_prefix (line, "Device Minor:"))
            {
              char *end;
              unsigned long m;
              errno = 0;
              m = strtoul (line + strlen ("Device Minor:"), &end, 10);
              if (!errno && m < 255 && end != line + strlen ("Device Minor:"))
                g.minor = (unsigned)m;
            }
          else if (str_has_prefix (line, "GPU UUID:") && !g.uuid)
            {
              g.uuid = trimmed (line + strlen ("GPU UUID:"));
              /* Only a plain "GPU-<hex and dashes>" becomes a device name. */
              if (!str_has_prefix (g.uuid, "GPU-")
                  || strspn (g.uuid + 4, "0123456789abcdefABCDEF-") != strlen (g.uuid + 4)
                  || strlen (g.uuid) < 5)
                {
                  free (g.uuid);
                  g.uuid = NULL;
                }
            }
        }
      if (g.minor == UINT_MAX)
        {
          free (g.uuid);
          continue;
        }
      g.bus = xstrdup (names[i]);
      *devs = xrealloc (*devs, (*n + 1) * sizeof (**devs));
      (*devs)[(*n)++] = g;
    }
}

static void gpu_devs_free (struct gpu_dev *devs, size_t n)
{
  for (size_t i = 0; i < n; i++)
    {
      free (devs[i].uuid);
      free (devs[i].bus);
    }
  free (devs);
}

/* The GPUs with a node in dev_dir: those /proc lists (in its order), else every nvidiaN node. */
static void find_gpus (const struct gpu_host *host, struct gpu_dev **out, size_t *nout)
{
  struct gpu_dev *devs = NULL;
  size_t n = 0, kept = 0;
  struct stat st;

  gpus_from_proc (host->proc_driver, &devs, &n);
  if (n == 0)
    {
      cleanup_closedir DIR *d = opendir (host->dev_dir);
      struct dirent *de;
      while (d && (de = readdir (d)))
        {
          const char *num = de->d_name + strlen ("nvidia");
          char *end;
          unsigned long m;
          if (!str_has_prefix (de->d_name, "nvidia") || *num < '0' || *num > '9')
            continue;
          errno = 0;
          m = strtoul (num, &end, 10);
          if (*end || errno || m >= 255)
            continue;
          devs = xrealloc (devs, (n + 1) * sizeof (*devs));
          devs[n++] = (struct gpu_dev){ .minor = (unsigned)m };
        }
      if (n > 0)
        qsort (devs, n, sizeof (*devs), cmp_dev_minor);
    }
  for (size_t i = 0; i < n; i++)
    {
      cleanup_free char *name = xasprintf ("nvidia%u", devs[i].minor);
      if (char_node (host->dev_dir, name, &st))
        devs[kept++] = devs[i];
      else
        {
          free (devs[i].uuid);
          free (devs[i].bus);
        }
    }
  *out = devs;
  *nout = kept;
}

static json_t *node_json (const char *dev_dir, const char *name, const struct stat *st)
{
  json_t *j = json_object ();
  json_object_set_new (j, "path", json_sprintf ("/dev/%s", name));
  json_object_set_new (j, "hostPath", json_sprintf ("%s/%s", dev_dir, name));
  json_object_set_new (j, "type", json_string ("c"));
  json_object_set_new (j, "major", json_integer (major (st->st_rdev)));
  json_object_set_new (j, "minor", json_integer (minor (st->st_rdev)));
  return j;
}

/* ---------- files under the driver root ---------- */

/* The host path of what an open fd names. */
static char *fd_path (int fd)
{
  char link[64], buf[PATH_MAX];
  ssize_t n;

  snprintf (link, sizeof (link), "/proc/self/fd/%d", fd);
  n = readlink (link, buf, sizeof (buf) - 1);
  if (n <= 0)
    return NULL;
  buf[n] = '\0';
  return xstrdup (buf);
}

struct root
{
  int fd;
  char *real; /* the root's host path, no trailing slash ("" for "/") */
};

/* Resolve path inside the root (symlinks stay inside). On success *host is the host path of
 * the file and *inner its path relative to the root (what the container sees). */
static bool resolve_in_root (const struct root *r, const char *path, int want_fmt, char **host,
                             char **inner)
{
  cleanup_close int fd = fs_open_in_root (r->fd, path, O_PATH | O_CLOEXEC, 0);
  cleanup_free char *h = NULL;
  struct stat st;
  size_t rl = strlen (r->real);

  if (fd < 0 || fstat (fd, &st) < 0 || (st.st_mode & S_IFMT) != (mode_t)want_fmt)
    return false;
  h = fd_path (fd);
  if (!h || strncmp (h, r->real, rl) != 0 || (h[rl] != '/' && h[rl] != '\0'))
    return false;
  *inner = xstrdup (h[rl] ? h + rl : "/");
  *host = steal_pointer (&h);
  return true;
}

static json_t *mount_json (const char *host, const char *container)
{
  json_t *j = json_object ();
  json_t *opts = json_array ();
  json_object_set_new (j, "hostPath", json_string (host));
  json_object_set_new (j, "containerPath", json_string (container));
  json_array_append_new (opts, json_string ("ro"));
  json_array_append_new (opts, json_string ("nosuid"));
  json_array_append_new (opts, json_string ("nodev"));
  json_array_append_new (opts, json_string ("bind"));
  json_object_set_new (j, "options", opts);
  return j;
}

static void add_mount (json_t *mounts, char ***seen, const char *host, const char *container)
{
  if (strv_contains (*seen, container))
    return;
  strv_push (seen, container);
  json_array_append_new (mounts, mount_json (host, container));
}

static bool driver_library (const char *file, const char *version)
{
  cleanup_free char *suffix = xasprintf (".so.%s", version);
  if (str_has_suffix (file, suffix))
    return true;
  for (size_t i = 0; i < ARRAY_SIZE (extra_lib_prefixes); i++)
    if (str_has_prefix (file, extra_lib_prefixes[i]))
      return true;
  return false;
}

static int add_libraries (const struct gpu_host *host, const struct root *r, const char *version,
                          json_t *mounts, char ***seen, berr_t *err)
{
  cleanup_free char *data = NULL;
  struct gpu_ldcache_entry *e = NULL;
  size_t len, n = 0;

  if (fs_read_file (host->ldcache, LDCACHE_MAX, &data, &len, err) < 0)
    return berr_wrap (err, "read %s", host->ldcache);
  if (gpu_ldcache_parse (data, len, &e, &n, err) < 0)
    return berr_wrap (err, "%s", host->ldcache);

  for (size_t i = 0; i < n; i++)
    {
      cleanup_free char *lib_host = NULL, *lib_inner = NULL;
      cleanup_free char *dir = NULL, *dir_host = NULL, *dir_inner = NULL, *link = NULL;
      const char *slash = strrchr (e[i].value, '/');

      if (!gpu_ldcache_native (e[i].flags) || e[i].value[0] != '/')
        continue;
      if (!resolve_in_root (r, e[i].value, S_IFREG, &lib_host, &lib_inner))
        continue;
      if (!driver_library (strrchr (lib_inner, '/') + 1, version))
        continue;
      add_mount (mounts, seen, lib_host, lib_inner);

      /* The cache entry's own path (the SONAME link), with its directory resolved so that
       * /lib/x86_64-linux-gnu and /usr/lib/x86_64-linux-gnu on a merged-/usr host are one. */
      dir = slash == e[i].value ? xstrdup ("/")
                                : xstrndup (e[i].value, (size_t)(slash - e[i].value));
      if (!resolve_in_root (r, dir, S_IFDIR, &dir_host, &dir_inner))
        continue;
      link = xasprintf ("%s/%s", strcmp (dir_inner, "/") ? dir_inner : "", slash + 1);
      add_mount (mounts, seen, lib_host, link);
    }
  gpu_ldcache_free (e, n);
  return 0;
}

static void add_binaries (const struct root *r, json_t *mounts, char ***seen)
{
  for (size_t b = 0; b < ARRAY_SIZE (binaries); b++)
    for (size_t d = 0; d < ARRAY_SIZE (bin_dirs); d++)
      {
        cleanup_free char *path = xasprintf ("%s/%s", bin_dirs[d], binaries[b]);
        cleanup_free char *h = NULL, *inner = NULL;
        if (!resolve_in_root (r, path, S_IFREG, &h, &inner))
          continue;
        add_mount (mounts, seen, h, path);
        break;
      }
}

/* ---------- the spec ---------- */

static json_t *device_json (const char *name, json_t *nodes)
{
  json_t *d = json_object ();
  json_t *edits = json_object ();
  json_object_set_new (edits, "deviceNodes", nodes);
  json_object_set_new (d, "name", json_string (name));
  json_object_set_new (d, "containerEdits", edits);
  return d;
}

int gpu_generate_spec (const struct gpu_host *host, json_t **spec, berr_t *err)
{
  cleanup_free char *version = NULL;
  cleanup_json json_t *s = NULL;
  cleanup_strv char **seen = NULL;
  cleanup_close int rootfd = -1;
  struct root root = { -1, NULL };
  struct gpu_dev *gpus = NULL;
  size_t ngpus = 0;
  struct stat st;
  json_t *devices, *edits, *nodes, *all_nodes, *mounts, *env;
  int ret = -1;

  *spec = NULL;
  version = driver_version (host->proc_driver);
  if (version)
    find_gpus (host, &gpus, &ngpus);
  if (!version || ngpus == 0 || !char_node (host->dev_dir, "nvidiactl", &st))
    {
      gpu_devs_free (gpus, ngpus);
      return gpu_error_no_driver (NULL, err);
    }

  rootfd = open (host->driver_root, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (rootfd < 0)
    {
      berr_set (err, errno, "open driver root %s", host->driver_root);
      goto out;
    }
  root.fd = rootfd;
  root.real = fd_path (rootfd);
  if (!root.real)
    {
      berr_set (err, errno, "driver root %s", host->driver_root);
      goto out;
    }
  if (strcmp (root.real, "/") == 0)
    root.real[0] = '\0';

  s = json_object ();
  devices = json_array ();
  all_nodes = json_array ();
  json_object_set_new (s, "cdiVersion", json_string ("0.5.0"));
  json_object_set_new (s, "kind", json_string ("nvidia.com/gpu"));
  json_object_set_new (s, "devices", devices);

  for (size_t i = 0; i < ngpus; i++)
    {
      cleanup_free char *node = xasprintf ("nvidia%u", gpus[i].minor);
      cleanup_free char *idx = xasprintf ("%zu", i);
      json_t *n = json_array ();
      char_node (host->dev_dir, node, &st);
      json_array_append_new (n, node_json (host->dev_dir, node, &st));
      json_array_append_new (all_nodes, node_json (host->dev_dir, node, &st));
      json_array_append_new (devices, device_json (idx, json_deep_copy (n)));
      if (gpus[i].uuid)
        json_array_append_new (devices, device_json (gpus[i].uuid, json_deep_copy (n)));
      json_decref (n);
    }
  json_array_append_new (devices, device_json ("all", all_nodes));

  edits = json_object ();
  json_object_set_new (s, "containerEdits", edits);
  env = json_array ();
  json_array_append_new (env, json_string ("NVIDIA_VISIBLE_DEVICES=void"));
  json_object_set_new (edits, "env", env);

  nodes = json_array ();
  json_object_set_new (edits, "deviceNodes", nodes);
  for (size_t i = 0; i < ARRAY_SIZE (control_nodes); i++)
    if (char_node (host->dev_dir, control_nodes[i], &st))
      json_array_append_new (nodes, node_json (host->dev_dir, control_nodes[i], &st));
  {
    cleanup_free char *caps_dir = xasprintf ("%s/nvidia-caps", host->dev_dir);
    cleanup_closedir DIR *d = opendir (caps_dir);
    cleanup_strv char **caps = NULL;
    struct dirent *de;
    while (d && (de = readdir (d)))
      if (de->d_name[0] != '.')
        strv_push (&caps, de->d_name);
    if (caps)
      qsort (caps, strv_len (caps), sizeof (char *), cmp_str);
    for (size_t i = 0; caps && caps[i]; i++)
      {
        cleanup_free char *name = xasprintf ("nvidia-caps/%s", caps[i]);
        if (char_node (host->dev_dir, name, &st))
          json_array_append_new (nodes, node_json (host->dev_dir, name, &st));
      }
  }

  mounts = json_array ();
  json_object_set_new (edits, "mounts", mounts);
  if (add_libraries (host, &root, version, mounts, &seen, err) < 0)
    goto out;
  add_binaries (&root, mounts, &seen);

  *spec = steal_pointer (&s);
  ret = 0;
out:
  free (root.real);
  gpu_devs_free (gpus, ngpus);
  return ret;
}
