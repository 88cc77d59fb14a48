/* runmount.c — preparing and releasing the mounts of one RUN --mount step.
 *
 * Every host path handed to the container is a mount the engine made in the step's tmpdir:
 * the source is resolved inside its root (the context, a stage, a cache directory) with openat2
 * RESOLVE_IN_ROOT, and the resulting fd is bind-mounted onto a fresh directory or file in
 * tmpdir at once ("pinned"). The container, started later by another process, binds that pin;
 * whatever happens to the original path after the pin (a symlink swapped in by a concurrent step
 * sharing the cache, CVE-2024-23651) cannot redirect it, because the pin refers to the inode
 * that was resolved, not to a path. The residual window is between openat2 and the bind of
 * /proc/self/fd/N: none, since both act on the same open file.
 *
 * Cache sharing uses flock(2) on <cache_root>/<hex>.lock (beside the directory, out of the
 * container's reach): "locked" holds it exclusively (blocking), "shared" holds it shared
 * (waiting only for an exclusive holder), "private" tries it exclusively without blocking and,
 * when another build holds it in any mode, uses a fresh directory in tmpdir removed at release.
 * Locks of several caches are taken in the order of the mounts: two builds naming the same two
 * locked caches in opposite orders can deadlock (as they could in BuildKit). A flock belongs
 * to the open file: a process forked after prepare that does not exec (the lock fds are
 * O_CLOEXEC) keeps the lock until it exits. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "build/runmount.h"
#include "util/digest.h"
#include "util/fs.h"
#include "util/json.h"
#include "util/log.h"
#include "volume/volspec.h"

/* BuildKit's limit on one secret's size. */
#define SECRET_MAX (500 * 1024)

enum act_kind
{
  ACT_UNMOUNT, /* umount2(path, MNT_DETACH) */
  ACT_RMTREE,  /* fs_rm_rf(path) */
  ACT_CLOSE,   /* close(fd): drops a cache lock */
};

struct act
{
  enum act_kind kind;
  char *path;
  int fd;
};

/* What release undoes, newest first. */
struct run_mounts
{
  struct act *acts;
  size_t n, cap;
  char *dir; /* <tmpdir>/runmount-XXXXXX: everything this step creates */
  unsigned seq;
  char *secrets_dir; /* the tmpfs for secret files, once made */
};

static void push_act (struct run_mounts *rm, enum act_kind kind, const char *path, int fd)
{
  if (rm->n == rm->cap)
    {
      rm->cap = rm->cap ? rm->cap * 2 : 8;
      rm->acts = xrealloc (rm->acts, rm->cap * sizeof *rm->acts);
    }
  rm->acts[rm->n++] = (struct act){ kind, path ? xstrdup (path) : NULL, fd };
}

void run_mounts_release (struct run_mounts *rm)
{
  if (rm == NULL)
    return;
  for (size_t i = rm->n; i-- > 0;)
    {
      struct act *a = &rm->acts[i];
      switch (a->kind)
        {
        case ACT_UNMOUNT:
          if (umount2 (a->path, MNT_DETACH) < 0 && errno != EINVAL && errno != ENOENT)
            log_warn ("RUN --mount: unmount %s: %s", a->path, strerror (errno));
          break;
        case ACT_RMTREE:
          {
            berr_t e = BERR_INIT;
            if (fs_rm_rf (a->path, &e) < 0)
              log_warn ("RUN --mount: %s", e.msg);
            berr_release (&e);
          }
          break;
        case ACT_CLOSE:
          close (a->fd);
          break;
        }
      free (a->path);
    }
  free (rm->acts);
  free (rm->dir);
  free (rm->secrets_dir);
  free (rm);
}

static char *scratch_path (struct run_mounts *rm, const char *what)
{
  return xasprintf ("%s/%u-%s", rm->dir, rm->seq++, what);
}

/* ------------------------------------------------------------------------- resolution */

static char *fd_path (int fd)
{
  char link[64], buf[PATH_MAX];
  snprintf (link, sizeof link, "/proc/self/fd/%d", fd);
  ssize_t n = readlink (link, buf, sizeof buf - 1);
  if (n < 0)
    return NULL;
  buf[n] = '\0';
  return xstrdup (buf);
}

/* sub (NULL: the root itself) inside rootfd; directories created on the way when mkdir. The
 * result is checked once more against the root's own path: openat2 already guarantees it, the
 * check guards against a kernel without RESOLVE_IN_ROOT semantics slipping through. */
static int resolve_in (int rootfd, const char *sub, bool mkdir, berr_t *err)
{
  cleanup_free char *clean = fs_path_clean (sub ? sub : "/");
  cleanup_close int fd = -1;
  if (strcmp (clean, "/") == 0 || strcmp (clean, ".") == 0)
    fd = fcntl (rootfd, F_DUPFD_CLOEXEC, 3);
  else if (mkdir)
    fd = fs_mkdir_in_root (rootfd, clean, 0755);
  else
    fd = fs_open_in_root (rootfd, clean, O_PATH, 0);
  if (fd < 0)
    {
      if (errno == ENOENT)
        return berr_setk (err, BERR_NOT_FOUND, 0, "\"%s\": not found", clean);
      return berr_set (err, errno, "resolve \"%s\"", clean);
    }
  cleanup_free char *root = fd_path (rootfd);
  cleanup_free char *got = fd_path (fd);
  if (!root || !got)
    return berr_set (err, errno, "resolve \"%s\"", clean);
  size_t rl = strlen (root);
  bool inside = strcmp (root, "/") == 0
                || (strncmp (got, root, rl) == 0 && (got[rl] == '\0' || got[rl] == '/'));
  if (!inside)
    return berr_setk (err, BERR_INVALID, 0, "\"%s\" resolves outside of its root", clean);
  return steal_fd (&fd);
}

static int open_root (const char *path, berr_t *err)
{
  int fd = open (path, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    return berr_set (err, errno, "open %s", path);
  return fd;
}

/* Bind the file or directory fd refers to onto a new node in tmpdir; *out is that node. */
static int pin (struct run_mounts *rm, int fd, bool ro, char **out, berr_t *err)
{
  struct stat st;
  if (fstat (fd, &st) < 0)
    return berr_set (err, errno, "stat mount source");
  cleanup_free char *path = scratch_path (rm, "pin");
  if (S_ISDIR (st.st_mode))
    {
      if (mkdir (path, 0700) < 0)
        return berr_set (err, errno, "create %s", path);
    }
  else
    {
      int f = open (path, O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0600);
      if (f < 0)
        return berr_set (err, errno, "create %s", path);
      close (f);
    }
  push_act (rm, ACT_RMTREE, path, -1);
  char src[64];
  snprintf (src, sizeof src, "/proc/self/fd/%d", fd);
  if (mount (src, path, NULL, MS_BIND | MS_REC, NULL) < 0)
    return berr_set (err, errno, "bind mount source onto %s", path);
  push_act (rm, ACT_UNMOUNT, path, -1);
  /* Keep the pin (and its release) from propagating to peers of a shared tmpdir. */
  (void)mount (NULL, path, NULL, MS_REC | MS_PRIVATE, NULL);
  /* A source that is only read (the context, a stage) is pinned read-only: nothing that walks
   * the staging area — a crash recovery removing it — can write through it. */
  if (ro && mount (NULL, path, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY, NULL) < 0)
    return berr_set (err, errno, "make %s read-only", path);
  *out = steal_pointer (&path);
  return 0;
}

/* ------------------------------------------------------------------------- copies */

/* Copy the tree under sdir into ddir (both directory fds): directories, regular files,
 * symlinks as symlinks, devices and fifos; modes and owners kept. Nothing is followed. */
static int copy_tree (int sdir, int ddir, int depth, berr_t *err)
{
  if (depth > 256)
    return berr_set (err, ELOOP, "copy");
  int rd = openat (sdir, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (rd < 0)
    return berr_set (err, errno, "open directory");
  cleanup_closedir DIR *d = fdopendir (rd);
  if (d == NULL)
    {
      close (rd);
      return berr_set (err, errno, "read directory");
    }
  struct dirent *de;
  while ((errno = 0, de = readdir (d)) != NULL)
    {
      const char *name = de->d_name;
      if (strcmp (name, ".") == 0 || strcmp (name, "..") == 0)
        continue;
      struct stat st;
      if (fstatat (sdir, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
        return berr_set (err, errno, "stat %s", name);
      if (S_ISDIR (st.st_mode))
        {
          if (mkdirat (ddir, name, 0700) < 0)
            return berr_set (err, errno, "create %s", name);
          cleanup_close int s = openat (sdir, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
          cleanup_close int t = openat (ddir, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
          if (s < 0 || t < 0)
            return berr_set (err, errno, "open %s", name);
          if (copy_tree (s, t, depth + 1, err) < 0)
            return berr_wrap (err, "%s", name);
        }
      else if (S_ISREG (st.st_mode))
        {
          cleanup_close int s = openat (sdir, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
          cleanup_close int t
              = openat (ddir, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
          if (s < 0 || t < 0 || fs_copy_data (s, t) < 0)
            return berr_set (err, errno, "copy %s", name);
        }
      else if (S_ISLNK (st.st_mode))
        {
          char target[PATH_MAX];
          ssize_t n = readlinkat (sdir, name, target, sizeof target - 1);
          if (n < 0)
            return berr_set (err, errno, "readlink %s", name);
          target[n] = '\0';
          if (symlinkat (target, ddir, name) < 0)
            return berr_set (err, errno, "symlink %s", name);
        }
      else if (mknodat (ddir, name, st.st_mode & S_IFMT, st.st_rdev) < 0)
        return berr_set (err, errno, "create %s", name);
      if (fchownat (ddir, name, st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW) < 0)
        return berr_set (err, errno, "chown %s", name);
      if (!S_ISLNK (st.st_mode) && fchmodat (ddir, name, st.st_mode & 07777, 0) < 0)
        return berr_set (err, errno, "chmod %s", name);
    }
  if (errno)
    return berr_set (err, errno, "read directory");
  return 0;
}

/* ------------------------------------------------------------------------- json */

/* Each entry carries both forms the engine reads: the Engine-API Mount object that
 * HostConfig.Mounts takes (Type, Source, Target, ReadOnly, BindOptions/TmpfsOptions, validated
 * by volspec_parse_mount_obj) and the resolved form of a container's "Mounts" that the spec
 * builder reads (Destination, RW, Propagation, Options). */
static json_t *bind_entry (const char *source, const char *dest, bool rw)
{
  json_t *e
      = json_pack ("{s:s, s:s, s:s, s:s, s:b, s:b, s:s, s:s, s:{s:s}}", "Type", "bind", "Source",
                   source, "Target", dest, "Destination", dest, "ReadOnly", !rw, "RW", rw, "Mode",
                   "", "Propagation", "rprivate", "BindOptions", "Propagation", "rprivate");
  json_t *opts = json_array ();
  json_array_append_new (opts, json_string ("rbind"));
  if (!rw)
    json_array_append_new (opts, json_string ("ro"));
  json_array_append_new (opts, json_string ("rprivate"));
  json_object_set_new (e, "Options", opts);
  return e;
}

static int tmpfs_entry (const char *dest, int64_t size, json_t **out, berr_t *err)
{
  /* BuildKit's tmpfs mounts allow exec; Docker's default tmpfs options say noexec. */
  cleanup_free char *base = volspec_tmpfs_data (size, 0, false);
  cleanup_free char *data = xasprintf ("%s%sexec", base, base[0] ? "," : "");
  cleanup_strv char **oci = NULL;
  if (volspec_tmpfs_oci_options (data, &oci, err) < 0)
    return -1;
  json_t *topts = json_pack ("{s:[[s]]}", "Options", "exec");
  if (size > 0)
    json_object_set_new (topts, "SizeBytes", json_integer (size));
  json_t *e = json_pack ("{s:s, s:s, s:s, s:s, s:b, s:b, s:s, s:s, s:o}", "Type", "tmpfs", "Source",
                         "", "Target", dest, "Destination", dest, "ReadOnly", 0, "RW", 1, "Mode",
                         "", "Propagation", "", "TmpfsOptions", topts);
  json_object_set_new (e, "Options", json_from_strv (oci));
  *out = e;
  return 0;
}

/* ------------------------------------------------------------------------- the types */

struct prep
{
  const struct run_mounts_env *env;
  struct run_mounts *rm;
  json_t *mounts;
  char **secret_env;
};

/* The root a bind or a cache seed reads from: the stage/image named by from, or the context. */
static int from_root (struct prep *p, const char *from, berr_t *err)
{
  if (from)
    {
      if (p->env->from_fn == NULL)
        return berr_setk (err, BERR_INVALID, 0, "from=%s: no stages or images available", from);
      cleanup_free char *dir = p->env->from_fn (p->env->from_arg, from, err);
      if (dir == NULL)
        return -1;
      return open_root (dir, err);
    }
  if (p->env->context_dir == NULL)
    return berr_setk (err, BERR_INVALID, 0, "no build context to mount");
  return open_root (p->env->context_dir, err);
}

static bool overlay_safe (const char *path) { return strpbrk (path, ",:\\") == NULL; }

static int prepare_bind (struct prep *p, const struct run_mount *m, berr_t *err)
{
  cleanup_close int root = from_root (p, m->from, err);
  if (root < 0)
    return -1;
  cleanup_close int fd = resolve_in (root, m->source, false, err);
  if (fd < 0)
    return -1;
  cleanup_free char *pinned = NULL;
  if (pin (p->rm, fd, true, &pinned, err) < 0)
    return -1;
  if (m->readonly)
    {
      json_array_append_new (p->mounts, bind_entry (pinned, m->target, false));
      return 0;
    }

  /* rw: the step may write, the writes are discarded — an overlay with a scratch upper for a
   * directory, a scratch copy for a file. */
  struct stat st;
  if (fstat (fd, &st) < 0)
    return berr_set (err, errno, "stat mount source");
  cleanup_free char *dir = scratch_path (p->rm, "rw");
  if (mkdir (dir, 0700) < 0)
    return berr_set (err, errno, "create %s", dir);
  push_act (p->rm, ACT_RMTREE, dir, -1);
  if (!S_ISDIR (st.st_mode))
    {
      cleanup_free char *copy = xasprintf ("%s/file", dir);
      cleanup_close int in = open (pinned, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
      cleanup_close int out
          = open (copy, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, st.st_mode & 07777);
      if (in < 0 || out < 0 || fs_copy_data (in, out) < 0)
        return berr_set (err, errno, "copy mount source to %s", copy);
      if (fchmod (out, st.st_mode & 07777) < 0 || fchown (out, st.st_uid, st.st_gid) < 0)
        return berr_set (err, errno, "copy mount source to %s", copy);
      json_array_append_new (p->mounts, bind_entry (copy, m->target, true));
      return 0;
    }
  cleanup_free char *upper = xasprintf ("%s/upper", dir);
  cleanup_free char *work = xasprintf ("%s/work", dir);
  cleanup_free char *merged = xasprintf ("%s/merged", dir);
  const char *mk[] = { upper, work, merged };
  for (size_t i = 0; i < ARRAY_SIZE (mk); i++)
    if (mkdir (mk[i], 0755) < 0)
      return berr_set (err, errno, "create %s", mk[i]);
  if (!overlay_safe (pinned) || !overlay_safe (dir))
    return berr_setk (err, BERR_INVALID, 0, "scratch directory %s: unusable in overlay options",
                      p->rm->dir);
  /* The overlay's root takes the source's mode and owner from the lower directory. */
  cleanup_free char *opts
      = xasprintf ("lowerdir=%s,upperdir=%s,workdir=%s,index=off", pinned, upper, work);
  if (mount ("overlay", merged, "overlay", 0, opts) < 0)
    return berr_set (err, errno, "mount overlay at %s", merged);
  push_act (p->rm, ACT_UNMOUNT, merged, -1);
  json_array_append_new (p->mounts, bind_entry (merged, m->target, true));
  return 0;
}

/* A fresh cache directory at path: mode and owner from the mount, seeded from from/source. */
static int init_cache_dir (struct prep *p, const struct run_mount *m, const char *path, berr_t *err)
{
  if (chmod (path, (mode_t)m->mode) < 0
      || chown (path, (uid_t)(m->uid < 0 ? 0 : m->uid), (gid_t)(m->gid < 0 ? 0 : m->gid)) < 0)
    return berr_set (err, errno, "cache directory %s", path);
  if (m->from == NULL)
    return 0;
  cleanup_close int root = from_root (p, m->from, err);
  if (root < 0)
    return -1;
  cleanup_close int src = resolve_in (root, m->source, false, err);
  if (src < 0)
    return berr_wrap (err, "cache from %s", m->from);
  cleanup_close int dst = open (path, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (dst < 0)
    return berr_set (err, errno, "open %s", path);
  if (copy_tree (src, dst, 0, err) < 0)
    return berr_wrap (err, "seed cache from %s", m->from);
  return 0;
}

/* <cache_root>/<hex>, created (atomically, by rename) when missing. */
static int ensure_cache_dir (struct prep *p, const struct run_mount *m, const char *path,
                             berr_t *err)
{
  struct stat st;
  if (lstat (path, &st) == 0)
    {
      if (!S_ISDIR (st.st_mode))
        return berr_setk (err, BERR_CORRUPT, 0, "cache %s: not a directory", path);
      return 0;
    }
  if (errno != ENOENT)
    return berr_set (err, errno, "stat %s", path);
  cleanup_free char *tmp = xasprintf ("%s.new-XXXXXX", path);
  if (mkdtemp (tmp) == NULL)
    return berr_set (err, errno, "create %s", tmp);
  if (init_cache_dir (p, m, tmp, err) < 0 || rename (tmp, path) < 0)
    {
      int e = errno;
      bool raced = !berr_is_set (err) && (e == EEXIST || e == ENOTEMPTY);
      berr_t ignore = BERR_INIT;
      fs_rm_rf (tmp, &ignore);
      berr_release (&ignore);
      if (berr_is_set (err))
        return -1;
      if (!raced)
        return berr_set (err, e, "create cache %s", path);
    }
  return 0;
}

static int flock_retry (int fd, int op)
{
  int r;
  while ((r = flock (fd, op)) < 0 && errno == EINTR)
    ;
  return r;
}

static int prepare_cache (struct prep *p, const struct run_mount *m, berr_t *err)
{
  const char *cache_root = p->env->cache_root;
  if (cache_root == NULL)
    return berr_setk (err, BERR_INVALID, 0, "no cache directory for cache mounts");
  if (fs_mkdir_p (cache_root, 0700, err) < 0)
    return -1;
  char digest[DIGEST_STR_LEN];
  sha256_digest (m->id, strlen (m->id), digest);
  const char *hex = digest + strlen ("sha256:");
  cleanup_free char *lock_path = xasprintf ("%s/%s.lock", cache_root, hex);
  int lock = open (lock_path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (lock < 0)
    return berr_set (err, errno, "open %s", lock_path);
  push_act (p->rm, ACT_CLOSE, NULL, lock);

  const char *sharing = m->sharing ? m->sharing : "shared";
  bool private_instance = false;
  if (strcmp (sharing, "locked") == 0)
    {
      if (flock_retry (lock, LOCK_EX) < 0)
        return berr_set (err, errno, "lock cache %s", m->id);
    }
  else if (strcmp (sharing, "private") == 0)
    {
      if (flock_retry (lock, LOCK_EX | LOCK_NB) < 0)
        {
          if (errno != EWOULDBLOCK)
            return berr_set (err, errno, "lock cache %s", m->id);
          private_instance = true;
        }
    }
  else if (flock_retry (lock, LOCK_SH) < 0)
    return berr_set (err, errno, "lock cache %s", m->id);

  cleanup_free char *dir = NULL;
  if (private_instance)
    {
      dir = scratch_path (p->rm, "cache");
      if (mkdir (dir, 0700) < 0)
        return berr_set (err, errno, "create %s", dir);
      push_act (p->rm, ACT_RMTREE, dir, -1);
      if (init_cache_dir (p, m, dir, err) < 0)
        return -1;
    }
  else
    {
      dir = xasprintf ("%s/%s", cache_root, hex);
      if (ensure_cache_dir (p, m, dir, err) < 0)
        return -1;
    }
  cleanup_close int dfd = open (dir, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (dfd < 0)
    return berr_set (err, errno, "open %s", dir);
  /* CVE-2024-23651: the subpath is resolved inside the cache and pinned right away. */
  cleanup_close int fd
      = m->from ? fcntl (dfd, F_DUPFD_CLOEXEC, 3) : resolve_in (dfd, m->source, true, err);
  if (fd < 0)
    return m->from ? berr_set (err, errno, "open %s", dir) : berr_wrap (err, "cache %s", m->id);
  cleanup_free char *pinned = NULL;
  if (pin (p->rm, fd, false, &pinned, err) < 0)
    return -1;
  json_array_append_new (p->mounts, bind_entry (pinned, m->target, !m->readonly));
  return 0;
}

static const struct build_secret *find_secret (const struct run_mounts_env *env, const char *id)
{
  for (size_t i = env->n_secrets; i-- > 0;) /* the last --secret of an id wins */
    if (env->secrets[i].id && strcmp (env->secrets[i].id, id) == 0)
      return &env->secrets[i];
  return NULL;
}

/* The secret's value, or *out NULL when the build does not provide it. */
static int secret_value (const struct build_secret *s, char **out, size_t *len, berr_t *err)
{
  *out = NULL;
  *len = 0;
  if (s == NULL)
    return 0;
  if (s->env)
    {
      const char *v = getenv (s->env);
      if (v)
        {
          *out = xstrdup (v);
          *len = strlen (v);
        }
      return 0;
    }
  if (s->src == NULL)
    return 0;
  if (fs_read_file (s->src, SECRET_MAX, out, len, err) < 0)
    return berr_wrap (err, "secret %s", s->id);
  return 0;
}

static int secrets_dir (struct prep *p, berr_t *err)
{
  if (p->rm->secrets_dir)
    return 0;
  cleanup_free char *dir = scratch_path (p->rm, "secrets");
  if (mkdir (dir, 0700) < 0)
    return berr_set (err, errno, "create %s", dir);
  push_act (p->rm, ACT_RMTREE, dir, -1);
  /* A tmpfs keeps secret values off the disk; without the privilege to mount one (never the
   * case for the engine, which runs as root) the 0700 directory in tmpdir is the fallback. */
  if (mount ("tmpfs", dir, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=0700,size=64m") == 0)
    push_act (p->rm, ACT_UNMOUNT, dir, -1);
  else if (errno != EPERM)
    return berr_set (err, errno, "mount tmpfs at %s", dir);
  p->rm->secrets_dir = steal_pointer (&dir);
  return 0;
}

static int prepare_secret (struct prep *p, const struct run_mount *m, berr_t *err)
{
  const struct build_secret *s = find_secret (p->env, m->id);
  cleanup_free char *value = NULL;
  size_t len = 0;
  if (secret_value (s, &value, &len, err) < 0)
    return -1;
  if (value == NULL)
    {
      if (m->required)
        return berr_setk (err, BERR_NOT_FOUND, 0, "secret %s: not found", m->id);
      return 0; /* an optional secret the build lacks: no mount, no variable */
    }
  if (m->env)
    strv_push_take (&p->secret_env, xasprintf ("%s=%s", m->env, value));
  if (m->target == NULL)
    return 0;
  if (secrets_dir (p, err) < 0)
    return -1;
  cleanup_free char *file = xasprintf ("%s/%u", p->rm->secrets_dir, p->rm->seq++);
  cleanup_close int fd = open (file, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0)
    return berr_set (err, errno, "create %s", file);
  if (fs_write_all (fd, value, len) < 0)
    return berr_set (err, errno, "write %s", file);
  if (fchown (fd, (uid_t)(m->uid < 0 ? 0 : m->uid), (gid_t)(m->gid < 0 ? 0 : m->gid)) < 0
      || fchmod (fd, (mode_t)(m->mode < 0 ? 0400 : m->mode)) < 0)
    return berr_set (err, errno, "secret %s", m->id);
  explicit_bzero (value, len);
  json_array_append_new (p->mounts, bind_entry (file, m->target, false));
  return 0;
}

int run_mounts_prepare (const struct run_mounts_env *env, const struct run_mount *m, size_t n,
                        json_t **mounts, char ***secret_env, struct run_mounts **out, berr_t *err)
{
  if (env->tmpdir == NULL)
    return berr_setk (err, BERR_INVALID, 0, "RUN --mount: no scratch directory");
  struct prep p = { .env = env, .mounts = json_array (), .secret_env = xzalloc (sizeof (char *)) };
  p.rm = xzalloc (sizeof *p.rm);
  p.rm->dir = xasprintf ("%s/runmount-XXXXXX", env->tmpdir);
  int rc = 0;
  if (mkdtemp (p.rm->dir) == NULL)
    rc = berr_set (err, errno, "create %s", p.rm->dir);
  else
    push_act (p.rm, ACT_RMTREE, p.rm->dir, -1);
  for (size_t i = 0; i < n && rc == 0; i++)
    {
      switch (m[i].type)
        {
        case RUN_MOUNT_BIND:
          rc = prepare_bind (&p, &m[i], err);
          break;
        case RUN_MOUNT_CACHE:
          rc = prepare_cache (&p, &m[i], err);
          break;
        case RUN_MOUNT_TMPFS:
          {
            json_t *e = NULL;
            rc = tmpfs_entry (m[i].target, m[i].size, &e, err);
            if (rc == 0)
              json_array_append_new (p.mounts, e);
          }
          break;
        case RUN_MOUNT_SECRET:
          rc = prepare_secret (&p, &m[i], err);
          break;
        }
      if (rc < 0 && m[i].type != RUN_MOUNT_SECRET)
        berr_wrap (err, "mount %s", m[i].target ? m[i].target : "");
    }
  if (rc < 0)
    {
      run_mounts_release (p.rm);
      json_decref (p.mounts);
      for (size_t i = 0; p.secret_env[i]; i++)
        explicit_bzero (p.secret_env[i], strlen (p.secret_env[i]));
      strv_free (p.secret_env);
      return -1;
    }
  *mounts = p.mounts;
  *secret_env = p.secret_env;
  *out = p.rm;
  return 0;
}
