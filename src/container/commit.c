/* commit.c — a container's changes (upper/ against its image's layers): Docker's `diff` listing,
 * the layer for `commit` (copied) and for a build's RUN step (upper/ renamed), both without the
 * stubs the runtime made as mount targets (see commit.h). */
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "container/commit.h"
#include "container/internal.h"
#include "image/config.h"
#include "image/layer.h"
#include "util/fs.h"
#include "util/json.h"
#include "util/log.h"

/* ---------- the image's layers ---------- */

struct lowers
{
  int *fds; /* layer diff dirs, the top layer first */
  size_t n;
};

static void lowers_release (struct lowers *l)
{
  for (size_t i = 0; i < l->n; i++)
    if (l->fds[i] >= 0)
      close (l->fds[i]);
  free (l->fds);
  l->fds = NULL;
  l->n = 0;
}

static int lowers_open (struct engine *e, const struct container_rec *c, struct lowers *l,
                        berr_t *err)
{
  struct image_rec *img_raw = NULL;
  if (store_image_get (e->store, c->image_id, &img_raw, err) < 0)
    return berr_wrap (err, "container %.12s", c->id);
  cleanup_image_rec struct image_rec *img = img_raw;
  size_t n = strv_len (img->diff_ids);
  l->fds = xcalloc (n ? n : 1, sizeof (int));
  for (size_t i = 0; i < n; i++)
    {
      cleanup_free char *dir = store_layer_dir (e->store, img->diff_ids[n - 1 - i]);
      int fd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      if (fd < 0)
        return berr_set (err, errno, "open layer %s", dir);
      l->fds[l->n++] = fd;
    }
  return 0;
}

static bool is_whiteout (const struct stat *st)
{
  return S_ISCHR (st->st_mode) && st->st_rdev == makedev (0, 0);
}

static bool dir_is_opaque (int dfd)
{
  char v[2];
  return fgetxattr (dfd, "trusted.overlay.opaque", v, sizeof v) == 1 && v[0] == 'y';
}

/* Whether the image (its layers merged as overlayfs merges them) has rel ("etc/hosts"): 1 with
 * *st the visible object's lstat, 0 not, -1 error. Whiteouts hide, opaque directories hide what
 * lower layers hold beneath them, a non-directory hides every path through it. */
static int image_lookup (const struct lowers *lw, const char *rel, struct stat *st, berr_t *err)
{
  cleanup_free char *copy = xstrdup (rel);
  cleanup_free char **comps = xcalloc (strlen (rel) + 2, sizeof (char *));
  size_t nc = 0;
  char *save = NULL;
  for (char *p = strtok_r (copy, "/", &save); p; p = strtok_r (NULL, "/", &save))
    comps[nc++] = p;
  if (nc == 0)
    return 0;
  for (size_t i = 0; i < lw->n; i++)
    {
      cleanup_close int owned = -1;
      int cur = lw->fds[i];
      bool opaque = false;
      for (size_t j = 0; j < nc; j++)
        {
          struct stat s;
          if (fstatat (cur, comps[j], &s, AT_SYMLINK_NOFOLLOW) < 0)
            {
              if (errno == ENOENT || errno == ENOTDIR)
                break;
              return berr_set (err, errno, "stat /%s in the image", rel);
            }
          if (is_whiteout (&s))
            return 0;
          if (j == nc - 1)
            {
              *st = s;
              return 1;
            }
          if (!S_ISDIR (s.st_mode))
            return 0;
          int sub = openat (cur, comps[j], O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
          if (sub < 0)
            return berr_set (err, errno, "open /%s in the image", rel);
          if (owned >= 0)
            close (owned);
          owned = sub;
          cur = sub;
          if (dir_is_opaque (sub))
            opaque = true;
        }
      if (opaque)
        return 0;
    }
  return 0;
}

/* ---------- mount stubs ---------- */

struct changes_ctx
{
  struct engine *e;
  int upper; /* upper/ */
  struct lowers lw;
  char **skip; /* stubs and stub-only directories, relative ("etc/hosts"), deepest first */
};

static void changes_ctx_release (struct changes_ctx *x)
{
  if (x->upper >= 0)
    close (x->upper);
  x->upper = -1;
  lowers_release (&x->lw);
  strv_free (x->skip);
  x->skip = NULL;
}

/* Whose mount targets are stubs: as Docker's init layer, the engine's own — /proc, /sys, /dev
 * and below, the /etc files, the init binary —, and a build step's RUN --mount targets (listed
 * in the container's label berth.build.run-mounts). Volume, -v, --mount and --tmpfs targets are
 * changes of the container, in `diff` and in a commit, as in Docker. */
static bool engine_stub (const char *rel, json_t *run_mounts)
{
  static const char *const files[]
      = { "etc/hosts", "etc/hostname", "etc/resolv.conf", "sbin/docker-init", NULL };
  for (size_t i = 0; files[i]; i++)
    if (strcmp (rel, files[i]) == 0)
      return true;
  static const char *const trees[] = { "proc", "sys", "dev", NULL };
  for (size_t i = 0; trees[i]; i++)
    {
      size_t l = strlen (trees[i]);
      if (strncmp (rel, trees[i], l) == 0 && (rel[l] == '\0' || rel[l] == '/'))
        return true;
    }
  size_t i;
  json_t *m;
  json_array_foreach (run_mounts, i, m)
  {
    const char *t = json_string_value (m);
    if (t && strcmp (t + (*t == '/'), rel) == 0)
      return true;
  }
  return false;
}

/* The stub candidates among the mount destinations of the container's runtime spec, relative
 * and clean. */
static int mount_destinations (struct engine *e, const struct container_rec *c, char ***out,
                               berr_t *err)
{
  const char *rm_label = json_get_str (
      json_object_get (json_object_get (c->config, "Config"), "Labels"), "berth.build.run-mounts");
  cleanup_json json_t *run_mounts = rm_label ? json_loads (rm_label, 0, NULL) : NULL;
  *out = xzalloc (sizeof (char *));
  cleanup_free char *dir = container_dir (e, c->id);
  cleanup_free char *path = xasprintf ("%s/config.json", dir);
  cleanup_free char *data = NULL;
  size_t len = 0;
  if (fs_read_file (path, 16 << 20, &data, &len, err) < 0)
    {
      if (err->errnum == ENOENT)
        {
          berr_release (err); /* never started: the runtime made nothing */
          return 0;
        }
      return -1;
    }
  cleanup_json json_t *spec = json_parse_buf (data, len, path, err);
  if (spec == NULL)
    return -1;
  size_t i;
  json_t *m;
  json_array_foreach (json_object_get (spec, "mounts"), i, m)
  {
    const char *d = json_get_str (m, "destination");
    if (d == NULL)
      continue;
    cleanup_free char *abs = xasprintf ("/%s", d);
    cleanup_free char *clean = fs_path_clean (abs);
    if (strcmp (clean, "/") != 0 && !strv_contains (*out, clean + 1)
        && engine_stub (clean + 1, run_mounts))
      strv_push (out, clean + 1);
  }
  return 0;
}

/* Open rel under upper/ without following anything (CVE-2024-23652: a process may have put a
 * symlink where a stub was). */
static int open_beneath (int dirfd, const char *rel, int flags)
{
  struct open_how how
      = { .flags = (uint64_t)(flags | O_NOFOLLOW | O_CLOEXEC),
          .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS };
  return (int)syscall (SYS_openat2, dirfd, rel, &how, sizeof how);
}

/* Entries of an open directory (without "." and ".."), NULL on error. */
static char **dir_entries (int dfd)
{
  int fd2 = openat (dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd2 < 0)
    return NULL;
  cleanup_closedir DIR *d = fdopendir (fd2);
  if (d == NULL)
    {
      close (fd2);
      return NULL;
    }
  char **v = xzalloc (sizeof (char *));
  struct dirent *de;
  while ((de = readdir (d)))
    if (strcmp (de->d_name, ".") != 0 && strcmp (de->d_name, "..") != 0)
      strv_push (&v, de->d_name);
  return v;
}

static size_t depth (const char *rel)
{
  size_t n = 1;
  for (const char *p = rel; *p; p++)
    n += *p == '/';
  return n;
}

static int cmp_deeper_first (const void *a, const void *b)
{
  const char *x = *(char *const *)a, *y = *(char *const *)b;
  size_t dx = depth (x), dy = depth (y);
  if (dx != dy)
    return dx > dy ? -1 : 1;
  return strcmp (x, y);
}

static bool all_skipped (char **skip, const char *rel, char **names)
{
  for (size_t i = 0; names[i]; i++)
    {
      cleanup_free char *p = xasprintf ("%s/%s", rel, names[i]);
      if (!strv_contains (skip, p))
        return false;
    }
  return true;
}

/* The stubs (a mount destination present in upper/ as an empty regular file or an empty
 * directory, absent from the image) and the directories that hold only stubs (made for them,
 * or copied up from the image with the same type, mode and owner; never opaque ones). */
static int find_stubs (struct changes_ctx *x, const struct container_rec *c, berr_t *err)
{
  cleanup_strv char **dests = NULL;
  if (mount_destinations (x->e, c, &dests, err) < 0)
    return -1;
  x->skip = xzalloc (sizeof (char *));
  cleanup_strv char **parents = xzalloc (sizeof (char *));
  for (size_t i = 0; dests[i]; i++)
    {
      cleanup_close int fd = open_beneath (x->upper, dests[i], O_PATH);
      if (fd < 0)
        continue; /* absent, or reached through a symlink: not a stub */
      struct stat st, ist;
      if (fstat (fd, &st) < 0)
        return berr_set (err, errno, "stat /%s", dests[i]);
      bool candidate = false;
      if (S_ISREG (st.st_mode))
        candidate = st.st_size == 0;
      else if (S_ISDIR (st.st_mode))
        {
          cleanup_close int dfd = openat (fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
          cleanup_strv char **names = dfd >= 0 ? dir_entries (dfd) : NULL;
          if (names && names[0] == NULL && !dir_is_opaque (dfd))
            candidate = true;
          else if (names && names[0])
            strv_push (&parents, dests[i]); /* may hold only nested stubs */
        }
      if (!candidate)
        continue;
      int r = image_lookup (&x->lw, dests[i], &ist, err);
      if (r < 0)
        return -1;
      if (r == 0)
        strv_push (&x->skip, dests[i]);
    }
  /* Every directory above a stub, deepest first, so that a parent sees its children's verdict. */
  for (size_t i = 0; x->skip[i]; i++)
    {
      cleanup_free char *a = xstrdup (x->skip[i]);
      for (char *s = strrchr (a, '/'); s; s = strrchr (a, '/'))
        {
          *s = '\0';
          if (!strv_contains (parents, a))
            strv_push (&parents, a);
        }
    }
  size_t np = strv_len (parents);
  qsort (parents, np, sizeof (char *), cmp_deeper_first);
  for (size_t i = 0; i < np; i++)
    {
      cleanup_close int dfd = open_beneath (x->upper, parents[i], O_RDONLY | O_DIRECTORY);
      if (dfd < 0 || dir_is_opaque (dfd))
        continue;
      cleanup_strv char **names = dir_entries (dfd);
      if (names == NULL || !all_skipped (x->skip, parents[i], names))
        continue;
      struct stat st, ist;
      if (fstat (dfd, &st) < 0)
        return berr_set (err, errno, "stat /%s", parents[i]);
      int r = image_lookup (&x->lw, parents[i], &ist, err);
      if (r < 0)
        return -1;
      /* The copy-up of a directory keeps its metadata; the stub made in it changed only its
       * times. */
      if (r == 1
          && (!S_ISDIR (ist.st_mode) || ist.st_mode != st.st_mode || ist.st_uid != st.st_uid
              || ist.st_gid != st.st_gid))
        continue;
      strv_push (&x->skip, parents[i]);
    }
  size_t ns = strv_len (x->skip);
  qsort (x->skip, ns, sizeof (char *), cmp_deeper_first);
  return 0;
}

/* A stub is left out only while it is still the empty object the runtime made: a process may
 * have replaced it with something else, which then is a change like any other. */
static bool skip_entry (void *cookie, const char *rel, const struct stat *st)
{
  struct changes_ctx *x = cookie;
  if (!strv_contains (x->skip, rel))
    return false;
  return S_ISDIR (st->st_mode) || (S_ISREG (st->st_mode) && st->st_size == 0);
}

static int changes_ctx_open (struct engine *e, const struct container_rec *c, struct changes_ctx *x,
                             berr_t *err)
{
  x->e = e;
  x->upper = -1;
  cleanup_free char *dir = container_dir (e, c->id);
  cleanup_free char *upper = xasprintf ("%s/upper", dir);
  x->upper = open (upper, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (x->upper < 0)
    {
      if (errno != ENOENT)
        return berr_set (err, errno, "open %s", upper);
      /* Created, never started: no changes. */
      if (mkdir (upper, 0755) < 0 && errno != EEXIST)
        return berr_set (err, errno, "create %s", upper);
      x->upper = open (upper, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (x->upper < 0)
        return berr_set (err, errno, "open %s", upper);
    }
  if (lowers_open (e, c, &x->lw, err) < 0)
    return -1;
  return find_stubs (x, c, err);
}

#define cleanup_changes_ctx __attribute__ ((cleanup (changes_ctx_release)))

/* ---------- diff ---------- */

void container_changes_free (struct container_change *v, size_t n)
{
  for (size_t i = 0; i < n; i++)
    free (v[i].path);
  free (v);
}

struct change_list
{
  struct container_change *v;
  size_t n, cap;
};

static void change_add (struct change_list *l, const char *rel, char kind)
{
  if (l->n == l->cap)
    {
      l->cap = l->cap ? 2 * l->cap : 32;
      l->v = xrealloc (l->v, l->cap * sizeof *l->v);
    }
  l->v[l->n].path = xasprintf ("/%s", rel);
  l->v[l->n].kind = kind;
  l->n++;
}

static int cmp_str (const void *a, const void *b)
{
  return strcmp (*(char *const *)a, *(char *const *)b);
}

/* Walk dfd (rel: its path, "" for upper/ itself) in name order, each directory followed by its
 * contents, which is the order of a sorted path listing component by component. */
static int diff_walk (struct changes_ctx *x, int dfd, const char *rel, struct change_list *out,
                      berr_t *err)
{
  cleanup_strv char **names = dir_entries (dfd);
  if (names == NULL)
    return berr_set (err, errno, "read /%s", rel);
  size_t n = strv_len (names);
  qsort (names, n, sizeof (char *), cmp_str);
  for (size_t i = 0; i < n; i++)
    {
      cleanup_free char *p = *rel ? xasprintf ("%s/%s", rel, names[i]) : xstrdup (names[i]);
      struct stat st, ist;
      if (fstatat (dfd, names[i], &st, AT_SYMLINK_NOFOLLOW) < 0)
        {
          if (errno == ENOENT)
            continue; /* removed meanwhile (a running container) */
          return berr_set (err, errno, "stat /%s", p);
        }
      if (skip_entry (x, p, &st))
        continue;
      if (is_whiteout (&st))
        {
          change_add (out, p, 'D');
          continue;
        }
      int r = image_lookup (&x->lw, p, &ist, err);
      if (r < 0)
        return -1;
      change_add (out, p, r ? 'C' : 'A');
      if (!S_ISDIR (st.st_mode))
        continue;
      cleanup_close int sub
          = openat (dfd, names[i], O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (sub < 0)
        {
          if (errno == ENOENT)
            continue;
          return berr_set (err, errno, "open /%s", p);
        }
      if (diff_walk (x, sub, p, out, err) < 0)
        return -1;
    }
  return 0;
}

int container_diff (struct engine *e, struct container_rec *c, struct container_change **out,
                    size_t *n, berr_t *err)
{
  *out = NULL;
  *n = 0;
  cleanup_changes_ctx struct changes_ctx x = { .upper = -1 };
  if (changes_ctx_open (e, c, &x, err) < 0)
    return berr_wrap (err, "diff %.12s", c->id);
  struct change_list l = { 0 };
  if (diff_walk (&x, x.upper, "", &l, err) < 0)
    {
      container_changes_free (l.v, l.n);
      return berr_wrap (err, "diff %.12s", c->id);
    }
  *out = l.v;
  *n = l.n;
  return 0;
}

/* ---------- the layer ---------- */

void ingest_layer_release (struct ingest_layer *l)
{
  if (l->staged_dir)
    {
      /* Still there when store_commit did not take it (failure, or the layer was stored
       * already). */
      berr_t e2 = BERR_INIT;
      if (access (l->staged_dir, F_OK) == 0 && fs_rm_rf (l->staged_dir, &e2) < 0)
        log_warn ("remove %s: %s", l->staged_dir, e2.msg);
      berr_release (&e2);
    }
  free (l->staged_dir);
  free (l->staged_blob);
  free (l->staged_split);
  free (l->media_type);
  memset (l, 0, sizeof *l);
}

static int write_nothing (void *cookie, const void *buf, size_t len)
{
  (void)cookie;
  (void)buf;
  (void)len;
  return 0;
}

/* Remove the stubs, deepest first, each only while it is still an empty file or an empty
 * directory reached without a symlink. */
static int remove_stubs (struct changes_ctx *x, berr_t *err)
{
  for (size_t i = 0; x->skip[i]; i++)
    {
      const char *rel = x->skip[i];
      const char *slash = strrchr (rel, '/');
      cleanup_free char *parent = slash ? xstrndup (rel, (size_t)(slash - rel)) : xstrdup (".");
      const char *base = slash ? slash + 1 : rel;
      cleanup_close int pfd = slash ? open_beneath (x->upper, parent, O_RDONLY | O_DIRECTORY)
                                    : openat (x->upper, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      if (pfd < 0)
        continue;
      struct stat st, pst;
      if (fstatat (pfd, base, &st, AT_SYMLINK_NOFOLLOW) < 0 || fstat (pfd, &pst) < 0)
        continue;
      if (S_ISREG (st.st_mode) && st.st_size == 0)
        {
          if (unlinkat (pfd, base, 0) < 0 && errno != ENOENT)
            return berr_set (err, errno, "remove the mount stub /%s", rel);
        }
      else if (S_ISDIR (st.st_mode))
        {
          /* Fails on a directory something was put in: it stays, with its contents. */
          if (unlinkat (pfd, base, AT_REMOVEDIR) < 0 && errno != ENOENT && errno != ENOTEMPTY
              && errno != EEXIST)
            return berr_set (err, errno, "remove the mount stub /%s", rel);
        }
      /* The parent's times as the container left them: the layer is the same as a copy. */
      struct timespec ts[2] = { pst.st_atim, pst.st_mtim };
      if (futimens (pfd, ts) < 0)
        return berr_set (err, errno, "restore the times of /%s", slash ? parent : "");
    }
  return 0;
}

/* SOURCE_DATE_EPOCH: no mtime in the layer newer than clamp. */
static int clamp_tree (int dfd, const char *rel, int64_t clamp, berr_t *err)
{
  cleanup_strv char **names = dir_entries (dfd);
  if (names == NULL)
    return berr_set (err, errno, "read /%s", rel);
  for (size_t i = 0; names[i]; i++)
    {
      cleanup_free char *p = *rel ? xasprintf ("%s/%s", rel, names[i]) : xstrdup (names[i]);
      struct stat st;
      if (fstatat (dfd, names[i], &st, AT_SYMLINK_NOFOLLOW) < 0)
        return berr_set (err, errno, "stat /%s", p);
      if (S_ISDIR (st.st_mode))
        {
          cleanup_close int sub
              = openat (dfd, names[i], O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
          if (sub < 0)
            return berr_set (err, errno, "open /%s", p);
          if (clamp_tree (sub, p, clamp, err) < 0)
            return -1;
        }
      if (st.st_mtim.tv_sec > clamp || (st.st_mtim.tv_sec == clamp && st.st_mtim.tv_nsec > 0))
        {
          struct timespec ts[2] = { { .tv_nsec = UTIME_OMIT }, { .tv_sec = clamp } };
          if (utimensat (dfd, names[i], ts, AT_SYMLINK_NOFOLLOW) < 0)
            return berr_set (err, errno, "set the mtime of /%s", p);
        }
    }
  return 0;
}

static int capture_consume (struct changes_ctx *x, const char *upper, int64_t clamp,
                            struct ingest_layer *out, berr_t *err)
{
  if (remove_stubs (x, err) < 0)
    return -1;
  strv_free (x->skip);
  x->skip = xzalloc (sizeof (char *));
  if (clamp >= 0 && clamp_tree (x->upper, "", clamp, err) < 0)
    return -1;
  struct layer_diff_opts o = { 0 };
  uint64_t tar_size = 0;
  if (layer_diff_filtered (x->upper, &o, write_nothing, NULL, out->diff_id, &tar_size, err) < 0)
    return -1;
  cleanup_free char *staged = NULL;
  if (store_stage_dir (x->e->store, "layer", &staged, err) < 0)
    return -1;
  /* rename(2) replaces the empty staged directory: nothing is copied. */
  if (rename (upper, staged) < 0)
    {
      int saved = errno;
      rmdir (staged);
      return berr_set (err, saved, "move %s into the store", upper);
    }
  out->staged_dir = steal_pointer (&staged);
  out->tar_size = (int64_t)tar_size;
  out->size = (int64_t)o.content_size;
  return 0;
}

/* The producer side of the copy: the filtered tar of upper/ into a socket. */
struct producer
{
  struct changes_ctx *x;
  int fd;
  char diff_id[DIGEST_STR_LEN];
  uint64_t tar_size, content_size;
  berr_t err;
  int rc;
};

static int send_all (void *cookie, const void *buf, size_t len)
{
  int fd = *(int *)cookie;
  const char *p = buf;
  while (len > 0)
    {
      /* MSG_NOSIGNAL: a consumer that gave up must not kill us with SIGPIPE. */
      ssize_t n = send (fd, p, len, MSG_NOSIGNAL);
      if (n < 0)
        {
          if (errno == EINTR)
            continue;
          return -1;
        }
      p += n;
      len -= (size_t)n;
    }
  return 0;
}

static void *producer_main (void *arg)
{
  struct producer *p = arg;
  struct layer_diff_opts o = { .skip = skip_entry, .skip_cookie = p->x };
  p->rc
      = layer_diff_filtered (p->x->upper, &o, send_all, &p->fd, p->diff_id, &p->tar_size, &p->err);
  p->content_size = o.content_size;
  shutdown (p->fd, SHUT_WR);
  return NULL;
}

static int capture_copy (struct changes_ctx *x, struct ingest_layer *out, berr_t *err)
{
  cleanup_free char *staged = NULL;
  if (store_stage_dir (x->e->store, "commit", &staged, err) < 0)
    return -1;
  out->staged_dir = xstrdup (staged); /* removed by ingest_layer_release on failure */
  cleanup_close int dfd = open (staged, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0)
    return berr_set (err, errno, "open %s", staged);
  int sv[2];
  if (socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
    return berr_set (err, errno, "socketpair");
  cleanup_close int rfd = sv[0];
  struct producer p = { .x = x, .fd = sv[1], .err = BERR_INIT };
  pthread_t th;
  int e = pthread_create (&th, NULL, producer_main, &p);
  if (e != 0)
    {
      close (sv[1]);
      return berr_set (err, e, "start the layer writer");
    }
  struct layer_apply_opts ao = { .blob_fd = -1, .split_fd = -1 };
  struct layer_apply_result res;
  berr_t aerr = BERR_INIT;
  int ar = layer_apply_fd (rfd, dfd, &ao, &res, &aerr);
  /* Unblock the writer if the apply stopped early. */
  shutdown (rfd, SHUT_RDWR);
  pthread_join (th, NULL);
  close (sv[1]);
  if (p.rc < 0)
    {
      berr_release (&aerr);
      berr_move (err, &p.err);
      return -1;
    }
  berr_release (&p.err);
  if (ar < 0)
    {
      berr_move (err, &aerr);
      return -1;
    }
  if (strcmp (res.diff_id, p.diff_id) != 0)
    return berr_setk (err, BERR_CORRUPT, 0, "layer copy: diff_id %s, wrote %s", res.diff_id,
                      p.diff_id);
  /* What `save` will make of the staged directory must be this very tar. */
  char again[DIGEST_STR_LEN];
  if (layer_diff (dfd, write_nothing, NULL, again, NULL, err) < 0)
    return -1;
  if (strcmp (again, p.diff_id) != 0)
    return berr_setk (err, BERR_CORRUPT, 0,
                      "layer copy: the copied tree gives diff_id %s instead of %s", again,
                      p.diff_id);
  memcpy (out->diff_id, p.diff_id, DIGEST_STR_LEN);
  out->tar_size = (int64_t)p.tar_size;
  out->size = (int64_t)p.content_size;
  return 0;
}

int container_capture_layer (struct engine *e, struct container_rec *c, bool consume,
                             int64_t clamp_mtime, struct ingest_layer *out, berr_t *err)
{
  memset (out, 0, sizeof *out);
  if (consume && container_is_running (c))
    return berr_setk (err, BERR_CONFLICT, 0, "capture the layer of %.12s: container is running",
                      c->id);
  cleanup_changes_ctx struct changes_ctx x = { .upper = -1 };
  if (changes_ctx_open (e, c, &x, err) < 0)
    return berr_wrap (err, "capture the layer of %.12s", c->id);
  cleanup_free char *dir = container_dir (e, c->id);
  cleanup_free char *upper = xasprintf ("%s/upper", dir);
  int r
      = consume ? capture_consume (&x, upper, clamp_mtime, out, err) : capture_copy (&x, out, err);
  if (r < 0)
    {
      ingest_layer_release (out);
      return berr_wrap (err, "capture the layer of %.12s", c->id);
    }
  return 0;
}

/* ---------- commit ---------- */

/* Docker's history line for a commit: the container's command (Config.Cmd) joined by spaces;
 * Path and Args when there is no Cmd. */
static char *commit_created_by (const struct container_rec *c)
{
  json_t *cmd = json_object_get (json_object_get (c->config, "Config"), "Cmd");
  struct sbuf b;
  sbuf_init (&b);
  size_t i;
  json_t *v;
  if (json_array_size (cmd) > 0)
    json_array_foreach (cmd, i, v)
    {
      if (i)
        sbuf_addc (&b, ' ');
      sbuf_adds (&b, json_string_value (v) ? json_string_value (v) : "");
    }
  else
    {
      const char *path = json_get_str (c->config, "Path");
      sbuf_adds (&b, path ? path : "");
      json_array_foreach (json_object_get (c->config, "Args"), i, v)
      {
        sbuf_addc (&b, ' ');
        sbuf_adds (&b, json_string_value (v) ? json_string_value (v) : "");
      }
    }
  return sbuf_detach (&b);
}

int container_commit (struct engine *e, struct container_rec *c, const struct commit_opts *o,
                      char id[DIGEST_STR_LEN], berr_t *err)
{
  cleanup_json json_t *parent = NULL;
  if (store_image_config (e->store, c->image_id, &parent, err) < 0)
    return berr_wrap (err, "commit %.12s", c->id);
  json_t *cc = o->config ? o->config : json_object_get (c->config, "Config");
  bool paused_here = false;
  if (o->pause && container_is_running (c) && !json_is_true (json_object_get (c->state, "Paused")))
    {
      if (container_pause (e, c, true, err) < 0)
        return berr_wrap (err, "commit %.12s: pause", c->id);
      paused_here = true;
    }
  struct ingest_layer layer;
  int r = container_capture_layer (e, c, false, -1, &layer, err);
  if (paused_here)
    {
      berr_t e2 = BERR_INIT;
      if (container_pause (e, c, false, &e2) < 0)
        {
          if (r == 0)
            {
              ingest_layer_release (&layer);
              berr_move (err, &e2);
              return berr_wrap (err, "commit %.12s: unpause", c->id);
            }
          berr_release (&e2);
        }
    }
  if (r < 0)
    return berr_wrap (err, "commit %.12s", c->id);
  cleanup_free char *created_by = commit_created_by (c);
  int64_t now = now_ns ();
  cleanup_json json_t *config
      = image_config_child (parent, cc, layer.diff_id, created_by, o->comment, o->author, now);
  cleanup_free char *staged = NULL;
  cleanup_strv char **diff_ids = NULL;
  if (image_config_diff_ids (config, &diff_ids, err) < 0
      || image_config_stage (e->store, config, &staged, id, err) < 0)
    {
      ingest_layer_release (&layer);
      return berr_wrap (err, "commit %.12s", c->id);
    }
  char *tags[] = { (char *)o->tag, NULL };
  struct ingest_image im = { 0 };
  memcpy (im.id, id, DIGEST_STR_LEN);
  im.staged_config = staged;
  im.created = image_config_created (config);
  im.diff_ids = diff_ids;
  im.tags = o->tag ? tags : NULL;
  im.parent = c->image_id;
  r = store_commit (e->store, &layer, 1, &im, 1, NULL, NULL, err);
  ingest_layer_release (&layer);
  if (r < 0)
    return berr_wrap (err, "commit %.12s", c->id);
  return 0;
}
