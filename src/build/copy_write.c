/* copy_write.c — the copy of a prepared COPY/ADD job into a root filesystem, and ADD's archive
 * extraction.
 *
 * Everything in the destination is reached from dst_root with openat2 RESOLVE_IN_ROOT, so a
 * symlink in the image (/usr/local -> /../../etc) is followed as the container would see it and
 * never leads out. Below the target directory, entries are created relative to the fd of their
 * parent directory, never by path. An existing entry is replaced unless both are directories
 * (then they merge), as Docker's untar does; a final destination component that is a symlink is
 * replaced, not written through.
 *
 * Archives (ADD) are extracted as Docker does it, chrooted into the destination directory: the
 * destination directory is the root for every entry (RESOLVE_IN_ROOT), so "../x" entries are
 * refused and a symlink planted by one entry cannot carry a later write out of it. Entries keep
 * their owners (Docker applies --chown to copied files, not to extracted ones). */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#include "build/copy_int.h"
#include "image/layer.h"
#include "util/fs.h"
#include "util/lazylib.h"
#include "util/log.h"

struct hardlink
{
  dev_t dev;
  ino_t ino;
  char *path; /* in the destination root */
};

struct wctx
{
  struct copy_job *j;
  int root;
  int64_t clamp;
  bool chown_set;
  uid_t uid;
  gid_t gid;
  struct hardlink *links;
  size_t n_links;
  char **created; /* directories created on the way, touched at the end when clamping */
};

/* ---- --chown: names looked up in the rootfs's /etc/passwd and /etc/group ---- */

static bool parse_id (const char *s, unsigned long *out)
{
  if (s[0] == '\0' || strspn (s, "0123456789") != strlen (s) || strlen (s) > 10)
    return false;
  unsigned long v = strtoul (s, NULL, 10);
  if (v > 0xffffffffUL)
    return false;
  *out = v;
  return true;
}

/* Field 3 (the id) of the line of file whose field 1 is name. 0 found, 1 not found. */
static int lookup_name (int root, const char *file, const char *name, unsigned long *id,
                        berr_t *err)
{
  cleanup_close int fd = fs_open_in_root (root, file, O_RDONLY, 0);
  if (fd < 0)
    return berr_set (err, errno, "open %s", file);
  cleanup_free char *text = NULL;
  size_t len;
  if (fs_read_fd (fd, 64 << 20, &text, &len, err) < 0)
    return -1;
  char *save = NULL;
  for (char *line = strtok_r (text, "\n", &save); line; line = strtok_r (NULL, "\n", &save))
    {
      char *f[4] = { NULL };
      char *p = line;
      for (int i = 0; i < 4 && p; i++)
        {
          f[i] = p;
          p = strchr (p, ':');
          if (p)
            *p++ = '\0';
        }
      if (f[2] && strcmp (f[0], name) == 0 && parse_id (f[2], id))
        return 0;
    }
  return 1;
}

/* Docker's legacy builder: "user" alone means user:user; numbers need no files. */
static int resolve_chown (struct wctx *w, int lookup_root, berr_t *err)
{
  const char *spec = w->j->chown;
  if (spec == NULL)
    return 0;
  cleanup_free char *user = xstrdup (spec);
  char *colon = strchr (user, ':');
  const char *group = user;
  if (colon)
    {
      *colon = '\0';
      group = colon + 1;
    }
  const char *pre = "unable to convert uid/gid chown string to host mapping";
  unsigned long uid, gid;
  if (!parse_id (user, &uid))
    {
      int r = lookup_name (lookup_root, "/etc/passwd", user, &uid, err);
      if (r < 0)
        return berr_wrap (err, "%s: can't find uid for user %s", pre, user);
      if (r > 0)
        return berr_setk (err, BERR_INVALID, 0, "%s: can't find uid for user %s: no such user: %s",
                          pre, user, user);
    }
  if (!parse_id (group, &gid))
    {
      int r = lookup_name (lookup_root, "/etc/group", group, &gid, err);
      if (r < 0)
        return berr_wrap (err, "%s: can't find gid for group %s", pre, group);
      if (r > 0)
        return berr_setk (err, BERR_INVALID, 0,
                          "%s: can't find gid for group %s: no such group: %s", pre, group, group);
    }
  w->chown_set = true;
  w->uid = (uid_t)uid;
  w->gid = (gid_t)gid;
  return 0;
}

/* ---- metadata ---- */

static struct timespec clamp_ts (const struct wctx *w, struct timespec t)
{
  if (w->clamp >= 0 && t.tv_sec >= w->clamp)
    {
      t.tv_sec = w->clamp;
      t.tv_nsec = 0;
    }
  return t;
}

static void owner_of (const struct wctx *w, const struct stat *st, uid_t *uid, gid_t *gid)
{
  if (w->chown_set)
    *uid = w->uid, *gid = w->gid;
  else if (w->j->from_context)
    *uid = 0, *gid = 0;
  else
    *uid = st->st_uid, *gid = st->st_gid;
}

static mode_t perm_of (const struct wctx *w, const struct stat *st)
{
  return w->j->has_chmod ? w->j->chmod : (st->st_mode & 07777);
}

static bool xattr_copyable (const char *name)
{
  return !str_has_prefix (name, "trusted.overlay.") && !str_has_prefix (name, "user.overlay.");
}

static void copy_xattrs (int sfd, int dfd, const char *what)
{
  char names[65536];
  ssize_t n = flistxattr (sfd, names, sizeof names);
  if (n <= 0)
    return;
  for (char *p = names; p < names + n; p += strlen (p) + 1)
    {
      if (!xattr_copyable (p))
        continue;
      char val[65536];
      ssize_t vl = fgetxattr (sfd, p, val, sizeof val);
      if (vl < 0 || fsetxattr (dfd, p, val, (size_t)vl, 0) < 0)
        log_debug ("copy: %s: xattr %s: %s", what, p, strerror (errno));
    }
}

/* Owner, then xattrs and mode (chown clears setuid and security.capability), then times, on
 * an fd of a file or directory; xattr_src (or -1) is the source to copy xattrs from. */
static int set_meta_fd (struct wctx *w, int fd, int xattr_src, uid_t uid, gid_t gid, mode_t perm,
                        struct timespec mtime, const char *what, berr_t *err)
{
  if (fchown (fd, uid, gid) < 0)
    return berr_set (err, errno, "chown %s", what);
  if (xattr_src >= 0)
    copy_xattrs (xattr_src, fd, what);
  if (fchmod (fd, perm) < 0)
    return berr_set (err, errno, "chmod %s", what);
  struct timespec ts[2] = { clamp_ts (w, mtime), clamp_ts (w, mtime) };
  if (futimens (fd, ts) < 0)
    return berr_set (err, errno, "set times of %s", what);
  return 0;
}

/* The same for an entry that cannot be opened (symlink, device, fifo) at pfd/name. */
static int set_meta_at (struct wctx *w, int pfd, const char *name, bool is_link, uid_t uid,
                        gid_t gid, mode_t perm, struct timespec mtime, berr_t *err)
{
  if (fchownat (pfd, name, uid, gid, AT_SYMLINK_NOFOLLOW) < 0)
    return berr_set (err, errno, "chown %s", name);
  if (!is_link && fchmodat (pfd, name, perm, 0) < 0)
    return berr_set (err, errno, "chmod %s", name);
  struct timespec ts[2] = { clamp_ts (w, mtime), clamp_ts (w, mtime) };
  if (utimensat (pfd, name, ts, AT_SYMLINK_NOFOLLOW) < 0)
    return berr_set (err, errno, "set times of %s", name);
  return 0;
}

/* ---- the destination ---- */

/* Open (O_RDONLY | O_DIRECTORY) the directory path inside the root, creating what is missing:
 * 0755, owned by root, or by the --chown user with chowned (Docker creates a file's parents
 * with MkdirAllAndChownNew and the --chown identity, a directory's or an archive's with root). */
static int open_dir_create (struct wctx *w, const char *path, bool chowned, bool *created,
                            berr_t *err)
{
  if (created)
    *created = false;
  int fd = fs_open_in_root (w->root, path, O_RDONLY | O_DIRECTORY, 0);
  if (fd >= 0)
    return fd;
  if (errno != ENOENT)
    return berr_set (err, errno, "mkdir %s", path);
  /* Find the prefixes that are missing before creating them, to chown exactly those. */
  cleanup_strv char **missing = NULL;
  cleanup_free char *cur = xstrdup (path);
  for (;;)
    {
      cleanup_close int pfd = fs_open_in_root (w->root, cur, O_PATH, 0);
      if (pfd >= 0)
        break;
      if (errno != ENOENT)
        return berr_set (err, errno, "mkdir %s", cur);
      strv_push (&missing, cur);
      char *slash = strrchr (cur, '/');
      if (slash == NULL || slash == cur)
        break;
      *slash = '\0';
    }
  cleanup_close int made = fs_mkdir_in_root (w->root, path, 0755);
  if (made < 0)
    return berr_set (err, errno, "mkdir %s", path);
  uid_t uid = chowned && w->chown_set ? w->uid : 0;
  gid_t gid = chowned && w->chown_set ? w->gid : 0;
  for (size_t i = strv_len (missing); i-- > 0;)
    {
      cleanup_close int dfd = fs_open_in_root (w->root, missing[i], O_RDONLY | O_DIRECTORY, 0);
      if (dfd < 0)
        return berr_set (err, errno, "mkdir %s", missing[i]);
      if (fchown (dfd, uid, gid) < 0 || fchmod (dfd, 0755) < 0)
        return berr_set (err, errno, "chown %s", missing[i]);
      strv_push (&w->created, missing[i]);
    }
  if (created)
    *created = true;
  fd = fs_open_in_root (w->root, path, O_RDONLY | O_DIRECTORY, 0);
  if (fd < 0)
    return berr_set (err, errno, "open %s", path);
  return fd;
}

static char *dir_of (const char *path)
{
  const char *slash = strrchr (path, '/');
  if (slash == NULL || slash == path)
    return xstrdup ("/");
  return xstrndup (path, (size_t)(slash - path));
}

static const char *base_of (const char *path)
{
  const char *slash = strrchr (path, '/');
  return slash ? slash + 1 : path;
}

/* Make room for name in pfd: an existing entry goes unless both are directories. 1 when an
 * existing directory is kept. */
static int make_room (int pfd, const char *name, bool want_dir, berr_t *err)
{
  struct stat st;
  if (fstatat (pfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
    {
      if (errno == ENOENT)
        return 0;
      return berr_set (err, errno, "lstat %s", name);
    }
  if (want_dir && S_ISDIR (st.st_mode))
    return 1;
  if (fs_rm_rf_at (pfd, name, err) < 0)
    return -1;
  return 0;
}

static struct hardlink *find_link (struct wctx *w, const struct stat *st)
{
  for (size_t i = 0; i < w->n_links; i++)
    if (w->links[i].dev == st->st_dev && w->links[i].ino == st->st_ino)
      return &w->links[i];
  return NULL;
}

static void forget_links (struct wctx *w)
{
  for (size_t i = 0; i < w->n_links; i++)
    free (w->links[i].path);
  free (w->links);
  w->links = NULL;
  w->n_links = 0;
}

/* A regular file at pfd/name from sfd; dpath is its path in the root (for hardlinks). */
static int write_file (struct wctx *w, int pfd, const char *name, int sfd, const struct stat *st,
                       const char *dpath, berr_t *err)
{
  if (make_room (pfd, name, false, err) < 0)
    return -1;
  if (st->st_nlink > 1 && dpath)
    {
      struct hardlink *hl = find_link (w, st);
      if (hl)
        {
          cleanup_free char *tdir = dir_of (hl->path);
          cleanup_close int tfd = fs_open_in_root (w->root, tdir, O_PATH | O_DIRECTORY, 0);
          if (tfd >= 0 && linkat (tfd, base_of (hl->path), pfd, name, 0) == 0)
            return 0;
          log_debug ("copy: hardlink %s -> %s: %s", dpath, hl->path, strerror (errno));
        }
    }
  cleanup_close int dfd
      = openat (pfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (dfd < 0)
    return berr_set (err, errno, "create %s", name);
  if (sfd >= 0 && fs_copy_data (sfd, dfd) < 0)
    return berr_set (err, errno, "copy %s", name);
  uid_t uid;
  gid_t gid;
  owner_of (w, st, &uid, &gid);
  if (set_meta_fd (w, dfd, sfd, uid, gid, perm_of (w, st), st->st_mtim, name, err) < 0)
    return -1;
  if (st->st_nlink > 1 && dpath)
    {
      w->links = xrealloc (w->links, (w->n_links + 1) * sizeof *w->links);
      w->links[w->n_links++] = (struct hardlink){ st->st_dev, st->st_ino, xstrdup (dpath) };
    }
  return 0;
}

/* A non-directory entry of a PATH source at pfd/name. */
static int write_entry (struct wctx *w, const struct copy_src *s, const struct copy_entry *e,
                        int pfd, const char *name, const char *dpath, berr_t *err)
{
  const struct stat *st = &e->st;
  uid_t uid;
  gid_t gid;
  owner_of (w, st, &uid, &gid);
  if (S_ISREG (st->st_mode))
    {
      cleanup_close int sfd = copy_open_src_file (s, e->sub);
      if (sfd < 0)
        return berr_set (err, errno, "open %s%s%s", s->rel, e->sub[0] ? "/" : "", e->sub);
      return write_file (w, pfd, name, sfd, st, dpath, err);
    }
  if (make_room (pfd, name, false, err) < 0)
    return -1;
  if (S_ISLNK (st->st_mode))
    {
      if (symlinkat (e->link, pfd, name) < 0)
        return berr_set (err, errno, "symlink %s", name);
      return set_meta_at (w, pfd, name, true, uid, gid, 0, st->st_mtim, err);
    }
  if (S_ISCHR (st->st_mode) || S_ISBLK (st->st_mode) || S_ISFIFO (st->st_mode))
    {
      if (mknodat (pfd, name, (st->st_mode & S_IFMT) | 0600, st->st_rdev) < 0)
        return berr_set (err, errno, "mknod %s", name);
      return set_meta_at (w, pfd, name, false, uid, gid, perm_of (w, st), st->st_mtim, err);
    }
  log_debug ("copy: %s: socket skipped", name);
  return 0;
}

struct frame
{
  int fd;
  const struct copy_entry *e;
  bool existed; /* the destination directory of a directory source was already there */
};

static int finish_dir (struct wctx *w, const struct copy_src *s, struct frame *f, berr_t *err)
{
  int ret = 0;
  if (f->e)
    {
      const struct copy_entry *e = f->e;
      uid_t uid;
      gid_t gid;
      owner_of (w, &e->st, &uid, &gid);
      /* Docker untars over an existing destination directory (it takes the source's mode,
       * times and tar owner: 0:0 from the context) and leaves it out of the --chown pass. */
      if (f->existed)
        {
          uid = w->j->from_context ? 0 : e->st.st_uid;
          gid = w->j->from_context ? 0 : e->st.st_gid;
        }
      if (e->implicit)
        ret = set_meta_fd (w, f->fd, -1, uid, gid, w->j->has_chmod ? w->j->chmod : 0755,
                           (struct timespec){ time (NULL), 0 }, e->sub, err);
      else
        {
          cleanup_close int sfd = copy_open_beneath (s->fd, e->sub, O_RDONLY | O_DIRECTORY);
          ret = set_meta_fd (w, f->fd, sfd, uid, gid, perm_of (w, &e->st), e->st.st_mtim, e->sub,
                             err);
        }
    }
  close (f->fd);
  f->fd = -1;
  return ret;
}

static size_t depth_of (const char *sub)
{
  size_t d = 1;
  for (; *sub; sub++)
    d += *sub == '/';
  return d;
}

/* A directory source: its contents into the directory target (created when missing). */
static int write_dir_source (struct wctx *w, const struct copy_src *s, const char *target,
                             berr_t *err)
{
  bool created;
  int tfd = open_dir_create (w, target, false, &created, err);
  if (tfd < 0)
    return -1;
  if (created)
    {
      /* Created for the source: it is the source directory's copy, not a parent. */
      size_t n = strv_len (w->created);
      if (n > 0 && strcmp (w->created[n - 1], target) == 0)
        {
          free (w->created[n - 1]);
          w->created[n - 1] = NULL;
        }
    }
  size_t cap = 16, top = 0;
  struct frame *stack = xcalloc (cap, sizeof *stack);
  stack[top++] = (struct frame){ tfd, &s->entries[0], !created };
  int ret = 0;
  for (size_t i = 1; i < s->n_entries && ret == 0; i++)
    {
      const struct copy_entry *e = &s->entries[i];
      size_t d = depth_of (e->sub);
      while (top > d && ret == 0)
        ret = finish_dir (w, s, &stack[--top], err);
      if (ret < 0)
        break;
      if (top != d)
        {
          ret = berr_set (err, EIO, "copy %s: walk order", e->sub);
          break;
        }
      int pfd = stack[top - 1].fd;
      const char *name = base_of (e->sub);
      cleanup_free char *dpath = xasprintf ("%s/%s", strcmp (target, "/") ? target : "", e->sub);
      if (S_ISDIR (e->st.st_mode))
        {
          int kept = make_room (pfd, name, true, err);
          if (kept < 0 || (kept == 0 && mkdirat (pfd, name, 0700) < 0))
            {
              ret = kept < 0 ? -1 : berr_set (err, errno, "mkdir %s", dpath);
              break;
            }
          int cfd = openat (pfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
          if (cfd < 0)
            {
              ret = berr_set (err, errno, "open %s", dpath);
              break;
            }
          if (top == cap)
            stack = xrealloc (stack, (cap *= 2) * sizeof *stack);
          stack[top++] = (struct frame){ cfd, e, false };
        }
      else
        ret = write_entry (w, s, e, pfd, name, dpath, err);
    }
  while (top > 0)
    {
      berr_t e2 = BERR_INIT;
      if (finish_dir (w, s, &stack[--top], ret < 0 ? &e2 : err) < 0 && ret == 0)
        ret = -1;
      berr_release (&e2);
    }
  free (stack);
  return ret;
}

/* Where a file source lands: inside the destination when it is written with a trailing '/' or
 * is an existing directory (followed inside the root), else the destination itself. */
static char *file_target (struct wctx *w, const char *name)
{
  const char *dest = w->j->dest;
  bool into = w->j->dest_slash || strcmp (dest, "/") == 0;
  if (!into)
    {
      cleanup_close int fd = fs_open_in_root (w->root, dest, O_PATH | O_DIRECTORY, 0);
      into = fd >= 0;
    }
  if (into)
    return xasprintf ("%s/%s", strcmp (dest, "/") ? dest : "", name);
  return xstrdup (dest);
}

/* A single file (PATH, URL or INLINE source) at target. */
static int write_file_source (struct wctx *w, const struct copy_src *s, berr_t *err)
{
  cleanup_free char *target = file_target (w, s->name);
  cleanup_free char *parent = dir_of (target);
  cleanup_close int pfd = open_dir_create (w, parent, true, NULL, err);
  if (pfd < 0)
    return -1;
  const char *name = base_of (target);
  if (s->kind == COPY_SRC_PATH)
    return write_entry (w, s, &s->entries[0], pfd, name, target, err);
  struct stat st = { 0 };
  st.st_nlink = 1;
  if (s->kind == COPY_SRC_URL)
    {
      /* Docker: a downloaded file is 0600, dated by Last-Modified. */
      st.st_mode = S_IFREG | 0600;
      st.st_mtim.tv_sec = s->mtime;
      char p[64];
      snprintf (p, sizeof p, "/proc/self/fd/%d", s->fd);
      cleanup_close int sfd = open (p, O_RDONLY | O_CLOEXEC);
      if (sfd < 0)
        return berr_set (err, errno, "reopen the download of %s", s->given);
      return write_file (w, pfd, name, sfd, &st, NULL, err);
    }
  st.st_mode = S_IFREG | 0644;
  clock_gettime (CLOCK_REALTIME, &st.st_mtim);
  if (make_room (pfd, name, false, err) < 0)
    return -1;
  cleanup_close int dfd
      = openat (pfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (dfd < 0)
    return berr_set (err, errno, "create %s", target);
  if (fs_write_all (dfd, s->content, s->len) < 0)
    return berr_set (err, errno, "write %s", target);
  uid_t uid;
  gid_t gid;
  owner_of (w, &st, &uid, &gid);
  return set_meta_fd (w, dfd, -1, uid, gid, perm_of (w, &st), st.st_mtim, target, err);
}

/* ---- ADD: archives ---- */

static struct archive *open_reader (int fd)
{
  struct archive *a = archive_read_new ();
  layer_add_filters (a);
  archive_read_support_format_tar (a);
  archive_read_support_format_gnutar (a);
  if (archive_read_open_fd (a, fd, 65536) != ARCHIVE_OK)
    {
      archive_read_free (a);
      return NULL;
    }
  return a;
}

bool copy_is_archive (int fd)
{
  berr_t e = BERR_INIT;
  if (lazy_archive_load (&e) < 0)
    {
      berr_release (&e);
      return false;
    }
  struct archive *a = open_reader (fd);
  if (a == NULL)
    return false;
  struct archive_entry *ent;
  int r = archive_read_next_header (a, &ent);
  archive_read_free (a);
  lseek (fd, 0, SEEK_SET);
  return r == ARCHIVE_OK || r == ARCHIVE_WARN;
}

/* The archive entry's xattrs (overlay's own never), after the owner is set. */
static int apply_entry_xattrs (struct archive_entry *ent, int fd, const char *what)
{
  if (archive_entry_xattr_count (ent) == 0)
    return 0;
  const char *xname;
  const void *value;
  size_t size;
  archive_entry_xattr_reset (ent);
  while (archive_entry_xattr_next (ent, &xname, &value, &size) == ARCHIVE_OK)
    if (xname && xattr_copyable (xname) && fsetxattr (fd, xname, value, size, 0) < 0)
      log_debug ("copy: %s: xattr %s: %s", what, xname, strerror (errno));
  return 0;
}

struct dir_time
{
  char *path;
  struct timespec mtime;
};

static int extract_entry (struct wctx *w, struct archive *a, struct archive_entry *ent, int dfd,
                          const char *path, struct dir_time **dirs, size_t *n_dirs, berr_t *err)
{
  cleanup_free char *parent = dir_of (path);
  const char *name = base_of (path);
  cleanup_close int pfd = fs_mkdir_in_root (dfd, parent, 0755);
  if (pfd < 0)
    return berr_set (err, errno, "mkdir %s", parent);
  mode_t type = archive_entry_filetype (ent);
  uid_t uid = (uid_t)archive_entry_uid (ent);
  gid_t gid = (gid_t)archive_entry_gid (ent);
  mode_t perm = archive_entry_perm (ent) & 07777;
  struct timespec mt = { archive_entry_mtime (ent), archive_entry_mtime_nsec (ent) };
  const char *hl = archive_entry_hardlink (ent);
  if (hl)
    {
      cleanup_free char *t = fs_path_clean (hl);
      const char *tr = t;
      while (*tr == '/')
        tr++;
      if (strcmp (tr, "..") == 0 || str_has_prefix (tr, "../"))
        return berr_setk (err, BERR_INVALID, 0, "invalid hardlink target %s", hl);
      cleanup_free char *tfull = xasprintf ("/%s", tr);
      cleanup_free char *tdir = dir_of (tfull);
      cleanup_close int tfd = fs_open_in_root (dfd, tdir, O_PATH | O_DIRECTORY, 0);
      if (tfd < 0)
        return berr_set (err, errno, "hardlink target %s", hl);
      struct stat tst;
      if (fstatat (tfd, base_of (tfull), &tst, AT_SYMLINK_NOFOLLOW) < 0 || S_ISDIR (tst.st_mode))
        return berr_set (err, errno ? errno : EPERM, "hardlink target %s", hl);
      if (make_room (pfd, name, false, err) < 0)
        return -1;
      if (linkat (tfd, base_of (tfull), pfd, name, 0) < 0)
        return berr_set (err, errno, "link %s", hl);
      return 0;
    }
  if (type == AE_IFDIR)
    {
      int kept = make_room (pfd, name, true, err);
      if (kept < 0)
        return -1;
      if (kept == 0 && mkdirat (pfd, name, 0700) < 0)
        return berr_set (err, errno, "mkdir");
      cleanup_close int cfd = openat (pfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (cfd < 0)
        return berr_set (err, errno, "open");
      if (fchown (cfd, uid, gid) < 0 || fchmod (cfd, perm) < 0)
        return berr_set (err, errno, "chown");
      apply_entry_xattrs (ent, cfd, name);
      *dirs = xrealloc (*dirs, (*n_dirs + 1) * sizeof **dirs);
      (*dirs)[(*n_dirs)++] = (struct dir_time){ xstrdup (path), mt };
      return 0;
    }
  if (make_room (pfd, name, false, err) < 0)
    return -1;
  if (type == AE_IFREG)
    {
      cleanup_close int ffd
          = openat (pfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
      if (ffd < 0)
        return berr_set (err, errno, "create");
      const void *buf;
      size_t size;
      la_int64_t off;
      int r;
      while ((r = archive_read_data_block (a, &buf, &size, &off)) == ARCHIVE_OK)
        if (pwrite (ffd, buf, size, off) != (ssize_t)size)
          return berr_set (err, errno ? errno : EIO, "write");
      if (r != ARCHIVE_EOF)
        return berr_setk (err, BERR_INVALID, 0, "read: %s", archive_error_string (a));
      struct stat fst;
      if (fstat (ffd, &fst) == 0 && archive_entry_size_is_set (ent)
          && fst.st_size < archive_entry_size (ent)
          && ftruncate (ffd, archive_entry_size (ent)) < 0)
        return berr_set (err, errno, "truncate");
      if (set_meta_fd (w, ffd, -1, uid, gid, perm, mt, name, err) < 0)
        return -1;
      return apply_entry_xattrs (ent, ffd, name);
    }
  if (type == AE_IFLNK)
    {
      if (symlinkat (archive_entry_symlink (ent), pfd, name) < 0)
        return berr_set (err, errno, "symlink");
      return set_meta_at (w, pfd, name, true, uid, gid, 0, mt, err);
    }
  if (type == AE_IFCHR || type == AE_IFBLK || type == AE_IFIFO)
    {
      if (mknodat (pfd, name, type | 0600, archive_entry_rdev (ent)) < 0)
        return berr_set (err, errno, "mknod");
      return set_meta_at (w, pfd, name, false, uid, gid, perm, mt, err);
    }
  log_debug ("copy: archive entry %s of type %o skipped", path, (unsigned)type);
  return 0;
}

static int extract_archive (struct wctx *w, const struct copy_src *s, berr_t *err)
{
  if (lazy_archive_load (err) < 0)
    return -1;
  cleanup_close int dfd = open_dir_create (w, w->j->dest, false, NULL, err);
  if (dfd < 0)
    return -1;
  cleanup_close int sfd = copy_open_src_file (s, "");
  if (sfd < 0)
    return berr_set (err, errno, "open %s", s->given);
  struct archive *a = open_reader (sfd);
  if (a == NULL)
    return berr_setk (err, BERR_INVALID, 0, "open archive %s", s->given);
  struct dir_time *dirs = NULL;
  size_t n_dirs = 0;
  int ret = 0;
  for (;;)
    {
      struct archive_entry *ent;
      int r = archive_read_next_header (a, &ent);
      if (r == ARCHIVE_EOF)
        break;
      if (r != ARCHIVE_OK && r != ARCHIVE_WARN)
        {
          ret = berr_setk (err, BERR_INVALID, 0, "read archive %s: %s", s->given,
                           archive_error_string (a));
          break;
        }
      const char *raw = archive_entry_pathname (ent);
      cleanup_free char *clean = fs_path_clean (raw ? raw : "");
      const char *rel = clean;
      while (*rel == '/')
        rel++;
      if (strcmp (rel, "..") == 0 || str_has_prefix (rel, "../"))
        {
          ret = berr_setk (err, BERR_INVALID, 0,
                           "archive %s: entry %s is outside of the destination", s->given, raw);
          break;
        }
      if (rel[0] == '\0' || strcmp (rel, ".") == 0)
        continue; /* the destination directory itself is left as it is */
      cleanup_free char *path = xasprintf ("/%s", rel);
      if (extract_entry (w, a, ent, dfd, path, &dirs, &n_dirs, err) < 0)
        {
          ret = berr_wrap (err, "archive %s: entry %s", s->given, raw);
          break;
        }
    }
  archive_read_free (a);
  for (size_t i = 0; i < n_dirs; i++)
    {
      if (ret == 0)
        {
          cleanup_close int fd = fs_open_in_root (dfd, dirs[i].path, O_RDONLY | O_DIRECTORY, 0);
          struct timespec ts[2] = { clamp_ts (w, dirs[i].mtime), clamp_ts (w, dirs[i].mtime) };
          if (fd < 0 || futimens (fd, ts) < 0)
            log_debug ("copy: times of %s: %s", dirs[i].path, strerror (errno));
        }
      free (dirs[i].path);
    }
  free (dirs);
  return ret;
}

int copy_write_job (struct copy_job *j, int dst_root, int lookup_root, int64_t clamp_mtime,
                    berr_t *err)
{
  struct wctx w = { .j = j, .root = dst_root, .clamp = clamp_mtime };
  int ret = resolve_chown (&w, lookup_root, err);
  for (size_t i = 0; i < j->n_srcs && ret == 0; i++)
    {
      /* Docker copies each source on its own: hard links are kept within a source directory,
         never between two sources ("COPY a hardlink-of-a /d/" gives two files). */
      forget_links (&w);
      const struct copy_src *s = &j->srcs[i];
      if (s->kind == COPY_SRC_PATH && s->is_dir)
        ret = write_dir_source (&w, s, j->dest, err);
      else if (s->kind == COPY_SRC_PATH && s->archive)
        ret = extract_archive (&w, s, err);
      else
        ret = write_file_source (&w, s, err);
      if (ret < 0)
        berr_wrap (err, "%s failed", j->instr);
    }
  /* Parents created on the way are dated now; with SOURCE_DATE_EPOCH, by it. */
  size_t n = strv_len (w.created);
  for (size_t i = 0; i < n && ret == 0 && clamp_mtime >= 0; i++)
    {
      cleanup_close int fd = fs_open_in_root (dst_root, w.created[i], O_RDONLY | O_DIRECTORY, 0);
      struct timespec ts[2] = { { clamp_mtime, 0 }, { clamp_mtime, 0 } };
      if (fd >= 0)
        futimens (fd, ts);
    }
  for (size_t i = 0; i < n; i++)
    free (w.created[i]);
  free (w.created);
  forget_links (&w);
  return ret;
}
