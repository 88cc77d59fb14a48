/* cp_tar.c — cp's two halves on a tree: the tar of a path (cp_fs_archive) and the extraction of
 * a tar into a directory (cp_fs_extract).
 *
 * Both only touch the tree through fds from cp_resolve or from openat2(RESOLVE_IN_ROOT) of one
 * name below such an fd. File contents are read by reopening the O_PATH fd whose type was
 * checked (never a second lookup by name: a container could put a device node or a FIFO there
 * in between), and written into files created with O_CREAT | O_EXCL | O_NOFOLLOW relative to the
 * parent's fd. Ownership and modes are set on fds, or with AT_SYMLINK_NOFOLLOW relative to the
 * parent's fd, never through a path the kernel would resolve again. */
#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "container/cp_int.h"
#include "image/layer.h"
#include "util/fs.h"
#include "util/lazylib.h"

static void cleanup_entryp (struct archive_entry **e)
{
  if (*e)
    archive_entry_free (*e);
}
#define cleanup_entry __attribute__ ((cleanup (cleanup_entryp)))

/* ======================================================================================== */
/* Archive                                                                                    */

struct hardlink
{
  dev_t dev;
  ino_t ino;
  char *name;
};

struct arch
{
  struct cp_fs *fs;
  struct archive *a;
  struct cp_sink *sink;
  berr_t sink_err;
  char *buf;
  struct hardlink *links;
  size_t n_links, cap_links;
};

static la_ssize_t arch_write_cb (struct archive *a, void *cookie, const void *buf, size_t len)
{
  struct arch *x = cookie;
  if (berr_is_set (&x->sink_err))
    return (la_ssize_t)len; /* failed already; the end marker written on free goes nowhere */
  if (x->sink->write (x->sink->cookie, buf, len) < 0)
    {
      berr_set (&x->sink_err, errno, "write archive");
      archive_set_error (a, errno, "write archive");
      return -1;
    }
  x->sink->bytes += len;
  return (la_ssize_t)len;
}

static int arch_fail (struct arch *x, berr_t *err, const char *what, const char *name)
{
  if (berr_is_set (&x->sink_err))
    {
      berr_move (err, &x->sink_err);
      return -1;
    }
  return berr_set (err, 0, "%s %s: %s", what, name, archive_error_string (x->a));
}

static const char *link_lookup (struct arch *x, const struct stat *st)
{
  for (size_t i = 0; i < x->n_links; i++)
    if (x->links[i].dev == st->st_dev && x->links[i].ino == st->st_ino)
      return x->links[i].name;
  return NULL;
}

static void link_remember (struct arch *x, const struct stat *st, const char *name)
{
  if (x->n_links == x->cap_links)
    {
      x->cap_links = x->cap_links ? x->cap_links * 2 : 16;
      x->links = xrealloc (x->links, x->cap_links * sizeof *x->links);
    }
  x->links[x->n_links++] = (struct hardlink){ st->st_dev, st->st_ino, xstrdup (name) };
}

static int cmp_str (const void *a, const void *b)
{
  return strcmp (*(char *const *)a, *(char *const *)b);
}

static int arch_object (struct arch *x, int fd, const struct stat *st, const char *tarname,
                        const char *cpath, berr_t *err);

static int arch_file_data (struct arch *x, int fd, const struct stat *st, const char *cpath,
                           berr_t *err)
{
  /* The O_PATH fd was checked to be a regular file: reopen that very inode. */
  cleanup_close int rfd = cp_reopen (fd, O_RDONLY | O_NOCTTY);
  if (rfd < 0)
    return berr_set (err, errno, "open %s", cpath);
  int64_t left = st->st_size;
  while (left > 0)
    {
      size_t want = left < CP_IO_BUF ? (size_t)left : CP_IO_BUF;
      ssize_t n = read (rfd, x->buf, want);
      if (n < 0)
        {
          if (errno == EINTR)
            continue;
          return berr_set (err, errno, "read %s", cpath);
        }
      if (n == 0)
        break; /* shrank since fstat: libarchive pads the entry with zeros */
      if (archive_write_data (x->a, x->buf, (size_t)n) < 0)
        return arch_fail (x, err, "write", cpath);
      left -= n;
    }
  return 0;
}

static int arch_dir (struct arch *x, int fd, const char *tarname, const char *cpath, berr_t *err)
{
  cleanup_close int dfd = openat (fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0)
    return berr_set (err, errno, "open %s", cpath);
  int lfd = dup (dfd);
  if (lfd < 0)
    return berr_set (err, errno, "dup");
  DIR *d = fdopendir (lfd);
  if (d == NULL)
    {
      close (lfd);
      return berr_set (err, errno, "read %s", cpath);
    }
  cleanup_closedir DIR *dir = d;
  cleanup_strv char **names = xzalloc (sizeof (char *));
  size_t n = 0;
  struct dirent *de;
  errno = 0;
  while ((de = readdir (dir)) != NULL)
    {
      if (strcmp (de->d_name, ".") == 0 || strcmp (de->d_name, "..") == 0)
        continue;
      strv_push (&names, de->d_name);
      n++;
      errno = 0;
    }
  if (errno != 0)
    return berr_set (err, errno, "read %s", cpath);
  qsort (names, n, sizeof *names, cmp_str);
  for (size_t i = 0; i < n; i++)
    {
      cleanup_free char *ccpath = cp_path_join (cpath, names[i]);
      cleanup_free char *ctar = xasprintf ("%s/%s", tarname, names[i]);
      int m = cp_mount_at (x->fs, ccpath);
      cleanup_close int cfd = -1;
      if (m >= 0)
        {
          if (x->fs->mounts[m].fd < 0)
            return berr_set (err, x->fs->mounts[m].errnum, "open mount %s", ccpath);
          cfd = fcntl (x->fs->mounts[m].fd, F_DUPFD_CLOEXEC, 3);
        }
      else
        cfd = fs_open_in_root (dfd, names[i], O_PATH | O_NOFOLLOW, 0);
      if (cfd < 0)
        {
          if (errno == ENOENT)
            continue; /* removed while we read the directory */
          return berr_set (err, errno, "open %s", ccpath);
        }
      struct stat cst;
      if (fstat (cfd, &cst) < 0)
        return berr_set (err, errno, "stat %s", ccpath);
      if (arch_object (x, cfd, &cst, ctar, ccpath, err) < 0)
        return -1;
    }
  return 0;
}

static int arch_object (struct arch *x, int fd, const struct stat *st, const char *tarname,
                        const char *cpath, berr_t *err)
{
  if (S_ISSOCK (st->st_mode))
    return 0; /* tar has no sockets (Docker skips them too) */
  cleanup_entry struct archive_entry *e = archive_entry_new ();
  if (e == NULL)
    abort ();
  cleanup_free char *name = S_ISDIR (st->st_mode) ? xasprintf ("%s/", tarname) : NULL;
  archive_entry_copy_pathname (e, name ? name : tarname);
  archive_entry_set_uid (e, st->st_uid);
  archive_entry_set_gid (e, st->st_gid);
  archive_entry_set_perm (e, st->st_mode & 07777);
  /* Whole seconds, as Docker's tar writes them. */
  archive_entry_set_mtime (e, st->st_mtim.tv_sec, 0);
  bool data = false;
  switch (st->st_mode & S_IFMT)
    {
    case S_IFREG:
      archive_entry_set_filetype (e, AE_IFREG);
      if (st->st_nlink > 1)
        {
          const char *first = link_lookup (x, st);
          if (first)
            {
              archive_entry_copy_hardlink (e, first);
              archive_entry_set_size (e, 0);
              break;
            }
          link_remember (x, st, tarname);
        }
      archive_entry_set_size (e, st->st_size);
      data = st->st_size > 0;
      break;
    case S_IFDIR:
      archive_entry_set_filetype (e, AE_IFDIR);
      break;
    case S_IFLNK:
      {
        char target[PATH_MAX];
        ssize_t n = readlinkat (fd, "", target, sizeof target - 1);
        if (n < 0)
          return berr_set (err, errno, "readlink %s", cpath);
        target[n] = '\0';
        archive_entry_set_filetype (e, AE_IFLNK);
        archive_entry_copy_symlink (e, target);
        break;
      }
    case S_IFCHR:
    case S_IFBLK:
      archive_entry_set_filetype (e, S_ISCHR (st->st_mode) ? AE_IFCHR : AE_IFBLK);
      archive_entry_set_rdevmajor (e, major (st->st_rdev));
      archive_entry_set_rdevminor (e, minor (st->st_rdev));
      break;
    case S_IFIFO:
      archive_entry_set_filetype (e, AE_IFIFO);
      break;
    default:
      return 0;
    }
  /* ARCHIVE_WARN: e.g. a name not valid in the locale, written as raw bytes. */
  if (archive_write_header (x->a, e) < ARCHIVE_WARN)
    return arch_fail (x, err, "write header of", cpath);
  if (data && arch_file_data (x, fd, st, cpath, err) < 0)
    return -1;
  if (S_ISDIR (st->st_mode))
    return arch_dir (x, fd, tarname, cpath, err);
  return 0;
}

char *cp_default_top (const char *path)
{
  cleanup_free char *dir = NULL;
  char *base = NULL;
  cp_path_split (path[0] ? path : "/", &dir, &base);
  if (strcmp (base, "/") == 0)
    {
      free (base);
      base = xstrdup (".");
    }
  return base;
}

int cp_fs_archive (struct cp_fs *fs, const char *path, const char *top, struct cp_sink *sink,
                   berr_t *err)
{
  if (lazy_archive_load (err) < 0)
    return -1;
  struct cp_loc loc;
  if (cp_resolve (fs, path, 0, &loc) < 0)
    {
      int e = errno;
      cp_loc_release (&loc);
      return berr_setk (err, e == ENOENT ? BERR_NOT_FOUND : BERR_GENERIC, e, "%s", path);
    }
  if (loc.fd < 0)
    {
      cp_loc_release (&loc);
      return berr_setk (err, BERR_NOT_FOUND, ENOENT, "%s", path);
    }
  cleanup_free char *deftop = top ? NULL : cp_default_top (path);
  struct arch x = { .fs = fs, .sink = sink };
  x.buf = xmalloc (CP_IO_BUF);
  x.a = archive_write_new ();
  if (x.a == NULL)
    abort ();
  int ret = 0;
  /* Restricted PAX: plain ustar headers unless a name, size or id needs more; the stream ends
   * right after its two zero blocks, as Go's archive/tar ends Docker's. */
  if (archive_write_set_format_pax_restricted (x.a) != ARCHIVE_OK
      || archive_write_add_filter_none (x.a) != ARCHIVE_OK
      || archive_write_set_bytes_in_last_block (x.a, 1) != ARCHIVE_OK
      || archive_write_open (x.a, &x, NULL, arch_write_cb, NULL) != ARCHIVE_OK)
    ret = arch_fail (&x, err, "open", "tar writer");
  if (ret == 0)
    ret = arch_object (&x, loc.fd, &loc.st, top ? top : deftop, loc.path, err);
  if (ret == 0 && archive_write_close (x.a) != ARCHIVE_OK)
    ret = arch_fail (&x, err, "close", "tar writer");
  archive_write_free (x.a);
  for (size_t i = 0; i < x.n_links; i++)
    free (x.links[i].name);
  free (x.links);
  free (x.buf);
  berr_release (&x.sink_err);
  cp_loc_release (&loc);
  return ret;
}

/* ======================================================================================== */
/* Extract                                                                                    */

struct dir_time
{
  char *path;
  int64_t mtime;
};

struct ext
{
  int fd; /* the tar */
  struct cp_fs *fs;
  const struct cp_extract_opts *o;
  char *base; /* the extraction directory, resolved */
  struct archive *a;
  char *buf, *inbuf;
  /* the parent directory of the previous entry */
  char *pkey;
  int pfd;
  char *ppath;
  int pmount;
  struct dir_time *dirs;
  size_t n_dirs, cap_dirs;
};

/* Clean an entry name; -1 for an absolute name or one with a ".." component. "" -> ".". */
static int clean_entry_name (const char *name, char **out)
{
  if (name[0] == '/')
    return -1;
  struct sbuf b;
  sbuf_init (&b);
  const char *p = name;
  while (*p)
    {
      while (*p == '/')
        p++;
      const char *s = p;
      while (*p && *p != '/')
        p++;
      size_t cl = (size_t)(p - s);
      if (cl == 0 || (cl == 1 && s[0] == '.'))
        continue;
      if (cl == 2 && s[0] == '.' && s[1] == '.')
        {
          sbuf_release (&b);
          return -1;
        }
      if (b.len)
        sbuf_addc (&b, '/');
      sbuf_add (&b, s, cl);
    }
  if (b.len == 0)
    sbuf_adds (&b, ".");
  *out = sbuf_detach (&b);
  return 0;
}

/* Docker's checks before it writes: a read-only mount, or a read-only rootfs outside mounts. */
static int writable (const struct cp_fs *fs, int mount, berr_t *err)
{
  if (mount >= 0)
    {
      if (!fs->mounts[mount].rw)
        return berr_setk (err, BERR_INVALID, 0, "mounted volume is marked read-only");
      return 0;
    }
  if (fs->readonly_root)
    return berr_setk (err, BERR_INVALID, 0, "container rootfs is marked read-only");
  return 0;
}

/* Who owns what cp creates: see cp_extract_opts. */
static bool owner_for (struct ext *x, struct archive_entry *e, uid_t *uid, gid_t *gid)
{
  if (x->o->copy_uid_gid)
    {
      *uid = (uid_t)archive_entry_uid (e);
      *gid = (gid_t)archive_entry_gid (e);
      return true;
    }
  if (x->fs->host)
    return false;
  *uid = 0;
  *gid = 0;
  return true;
}

static mode_t perm_for (struct ext *x, struct archive_entry *e, mode_t type)
{
  mode_t perm = archive_entry_perm (e) & 07777;
  if (x->fs->host && !x->o->copy_uid_gid && type != AE_IFDIR)
    {
      /* The copy now belongs to whoever runs berth: a setuid bit would hand the container's
       * chosen binary that user's rights (GNU cp drops these bits too when it cannot keep the
       * owner), and a device node stays readable by that user only. */
      perm &= ~(mode_t)(S_ISUID | S_ISGID);
      if (type == AE_IFCHR || type == AE_IFBLK)
        perm &= 0700;
    }
  return perm;
}

/* Owner and mode of a regular file or directory opened for real. */
static int set_owner_mode_fd (struct ext *x, int fd, struct archive_entry *e, mode_t type,
                              const char *cpath, berr_t *err)
{
  uid_t uid;
  gid_t gid;
  if (owner_for (x, e, &uid, &gid) && fchown (fd, uid, gid) < 0)
    return berr_set (err, errno, "chown %s", cpath);
  /* After chown, which clears setuid bits. */
  if (fchmod (fd, perm_for (x, e, type)) < 0)
    return berr_set (err, errno, "chmod %s", cpath);
  return 0;
}

/* Owner (and, for special files, mode and times) of what pfd/name holds now, if it is still of
 * the type we created: through an O_PATH fd, never following a symlink. */
static int set_attrs_path (struct ext *x, int pfd, const char *name, struct archive_entry *e,
                           mode_t type, const char *cpath, berr_t *err)
{
  cleanup_close int fd = fs_open_in_root (pfd, name, O_PATH | O_NOFOLLOW, 0);
  struct stat st;
  if (fd < 0 || fstat (fd, &st) < 0)
    return berr_set (err, errno, "open %s", cpath);
  if ((st.st_mode & S_IFMT) != type)
    return berr_set (err, 0, "%s changed while it was extracted", cpath);
  uid_t uid;
  gid_t gid;
  if (owner_for (x, e, &uid, &gid)
      && fchownat (fd, "", uid, gid, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) < 0)
    return berr_set (err, errno, "chown %s", cpath);
  if (type != S_IFLNK)
    {
      char proc[64];
      snprintf (proc, sizeof proc, "/proc/self/fd/%d", fd);
      if (chmod (proc, perm_for (x, e, type)) < 0)
        return berr_set (err, errno, "chmod %s", cpath);
    }
  struct timespec ts[2] = { { archive_entry_mtime (e), 0 }, { archive_entry_mtime (e), 0 } };
  if (utimensat (pfd, name, ts, AT_SYMLINK_NOFOLLOW) < 0 && errno != EOPNOTSUPP)
    return berr_set (err, errno, "set times of %s", cpath);
  return 0;
}

/* Plain reads: archive_read_open_fd would drain a pipe to its end when we stop early. */
static la_ssize_t ext_read_cb (struct archive *a, void *cookie, const void **buf)
{
  struct ext *x = cookie;
  for (;;)
    {
      ssize_t n = read (x->fd, x->inbuf, CP_IO_BUF);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        archive_set_error (a, errno, "read: %s", strerror (errno));
      *buf = x->inbuf;
      return n;
    }
}

static int ext_write_data (struct ext *x, int fd, const char *cpath, berr_t *err)
{
  for (;;)
    {
      la_ssize_t n = archive_read_data (x->a, x->buf, CP_IO_BUF);
      if (n == 0)
        return 0;
      if (n < 0)
        return berr_set (err, 0, "read archive: %s", archive_error_string (x->a));
      if (fs_write_all (fd, x->buf, (size_t)n) < 0)
        return berr_set (err, errno, "write %s", cpath);
    }
}

static void ext_forget_parent (struct ext *x)
{
  free (x->pkey);
  free (x->ppath);
  if (x->pfd >= 0)
    close (x->pfd);
  x->pkey = x->ppath = NULL;
  x->pfd = -1;
}

/* Create the missing directories of rel (below the base) like Docker's untar does for entries
 * whose parents were not in the archive: 0755, root's in a container. */
static int ext_mkdirs (struct ext *x, const char *rel, berr_t *err)
{
  cleanup_free char *work = xstrdup (rel);
  cleanup_sbuf struct sbuf prefix;
  sbuf_init (&prefix);
  char *save = NULL;
  for (char *c = strtok_r (work, "/", &save); c; c = strtok_r (NULL, "/", &save))
    {
      if (prefix.len)
        sbuf_addc (&prefix, '/');
      sbuf_adds (&prefix, c);
      cleanup_free char *path = cp_path_join (x->base, prefix.buf);
      struct cp_loc l;
      if (cp_resolve (x->fs, path, CP_FOLLOW_LAST, &l) < 0)
        return berr_set (err, errno, "%s", path);
      if (l.fd >= 0)
        {
          bool dir = S_ISDIR (l.st.st_mode);
          cp_loc_release (&l);
          if (!dir)
            return berr_set (err, ENOTDIR, "%s", path);
          continue;
        }
      if (writable (x->fs, l.mount, err) < 0)
        {
          cp_loc_release (&l);
          return -1;
        }
      if (mkdirat (l.parent, l.name, 0755) < 0 && errno != EEXIST)
        {
          berr_set (err, errno, "mkdir %s", l.path);
          cp_loc_release (&l);
          return -1;
        }
      if (!x->fs->host)
        {
          cleanup_close int dfd
              = fs_open_in_root (l.parent, l.name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW, 0);
          if (dfd < 0 || fchown (dfd, 0, 0) < 0 || fchmod (dfd, 0755) < 0)
            {
              berr_set (err, errno, "mkdir %s", l.path);
              cp_loc_release (&l);
              return -1;
            }
        }
      cp_loc_release (&l);
    }
  return 0;
}

/* The directory entry rel (below the base; "" for the base) lives in: x->pfd, x->ppath,
 * x->pmount. Consecutive entries in one directory reuse the fd. */
static int ext_parent (struct ext *x, const char *rel, berr_t *err)
{
  if (x->pkey && strcmp (x->pkey, rel) == 0)
    return 0;
  ext_forget_parent (x);
  cleanup_free char *path = rel[0] ? cp_path_join (x->base, rel) : xstrdup (x->base);
  struct cp_loc l;
  int r = cp_resolve (x->fs, path, CP_FOLLOW_LAST, &l);
  if ((r < 0 && errno == ENOENT) || (r == 0 && l.fd < 0))
    {
      if (r == 0)
        cp_loc_release (&l);
      if (ext_mkdirs (x, rel, err) < 0)
        return -1;
      r = cp_resolve (x->fs, path, CP_FOLLOW_LAST, &l);
      if (r == 0 && l.fd < 0)
        {
          cp_loc_release (&l);
          errno = ENOENT;
          r = -1;
        }
    }
  if (r < 0)
    return berr_set (err, errno, "%s", path);
  if (!S_ISDIR (l.st.st_mode))
    {
      cp_loc_release (&l);
      return berr_set (err, ENOTDIR, "%s", path);
    }
  x->pkey = xstrdup (rel);
  x->pfd = steal_fd (&l.fd);
  x->ppath = steal_pointer (&l.path);
  x->pmount = l.mount;
  cp_loc_release (&l);
  return 0;
}

static void remember_dir_time (struct ext *x, const char *cpath, int64_t mtime)
{
  if (x->n_dirs == x->cap_dirs)
    {
      x->cap_dirs = x->cap_dirs ? x->cap_dirs * 2 : 32;
      x->dirs = xrealloc (x->dirs, x->cap_dirs * sizeof *x->dirs);
    }
  x->dirs[x->n_dirs++] = (struct dir_time){ xstrdup (cpath), mtime };
}

/* Directory times last: creating entries inside changed them. */
static int apply_dir_times (struct ext *x, berr_t *err)
{
  for (size_t i = x->n_dirs; i > 0; i--)
    {
      struct dir_time *d = &x->dirs[i - 1];
      struct cp_loc l;
      if (cp_resolve (x->fs, d->path, 0, &l) < 0)
        return berr_set (err, errno, "%s", d->path);
      if (l.fd < 0 || !S_ISDIR (l.st.st_mode) || l.mount_root)
        {
          cp_loc_release (&l);
          continue;
        }
      cleanup_close int dfd = openat (l.fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      cp_loc_release (&l);
      struct timespec ts[2] = { { d->mtime, 0 }, { d->mtime, 0 } };
      if (dfd < 0 || futimens (dfd, ts) < 0)
        return berr_set (err, errno, "set times of %s", d->path);
    }
  return 0;
}

static int ext_hardlink (struct ext *x, struct archive_entry *e, const char *leaf,
                         const char *cpath, const struct stat *existing, berr_t *err)
{
  cleanup_free char *trel = NULL;
  if (clean_entry_name (archive_entry_hardlink (e), &trel) < 0)
    return berr_setk (err, BERR_INVALID, 0, "invalid hard link %s -> %s: outside of %s", cpath,
                      archive_entry_hardlink (e), x->base);
  cleanup_free char *tpath
      = strcmp (trel, ".") == 0 ? xstrdup (x->base) : cp_path_join (x->base, trel);
  struct cp_loc t;
  if (cp_resolve (x->fs, tpath, 0, &t) < 0)
    return berr_set (err, errno, "hard link %s -> %s", cpath, tpath);
  if (t.fd < 0 || t.parent < 0 || t.mount_root || S_ISDIR (t.st.st_mode))
    {
      int e2 = t.fd < 0 ? ENOENT : t.mount_root ? EXDEV : EPERM;
      cp_loc_release (&t);
      return berr_set (err, e2, "hard link %s -> %s", cpath, tpath);
    }
  if (existing && existing->st_dev == t.st.st_dev && existing->st_ino == t.st.st_ino)
    {
      cp_loc_release (&t);
      return 0; /* already that file */
    }
  if (existing && unlinkat (x->pfd, leaf, 0) < 0 && errno != ENOENT)
    {
      berr_set (err, errno, "remove %s", cpath);
      cp_loc_release (&t);
      return -1;
    }
  /* flags 0: a symlink is linked as itself, never followed. */
  int r = linkat (t.parent, t.name, x->pfd, leaf, 0);
  int saved = errno;
  cp_loc_release (&t);
  if (r < 0)
    return berr_set (err, saved, "hard link %s -> %s", cpath, tpath);
  return 0;
}

static int ext_entry (struct ext *x, struct archive_entry *e, berr_t *err)
{
  const char *raw = archive_entry_pathname (e);
  if (raw == NULL)
    return berr_setk (err, BERR_INVALID, 0, "archive entry with an unreadable name");
  cleanup_free char *rel = NULL;
  if (clean_entry_name (raw, &rel) < 0)
    return berr_setk (err, BERR_INVALID, 0, "invalid archive entry \"%s\": outside of %s", raw,
                      x->base);
  const char *hl = archive_entry_hardlink (e);
  mode_t type = hl ? AE_IFREG : archive_entry_filetype (e);
  bool is_dir = type == AE_IFDIR;
  if (strcmp (rel, ".") == 0)
    {
      /* The archive of a "/." path: its top is the directory extracted into. */
      if (is_dir)
        return 0;
      return berr_set (err, 0, "cannot overwrite directory \"%s\" with non-directory \"%s\"",
                       x->base, x->base);
    }
  char *slash = strrchr (rel, '/');
  const char *leaf = slash ? slash + 1 : rel;
  if (slash)
    *slash = '\0';
  if (ext_parent (x, slash ? rel : "", err) < 0)
    return -1;
  cleanup_free char *cpath = cp_path_join (x->ppath, leaf);
  int m = cp_mount_at (x->fs, cpath);
  if (writable (x->fs, m >= 0 ? m : x->pmount, err) < 0)
    return -1;

  struct stat st;
  bool exists;
  if (m >= 0)
    {
      if (x->fs->mounts[m].fd < 0)
        return berr_set (err, x->fs->mounts[m].errnum, "open mount %s", cpath);
      exists = fstat (x->fs->mounts[m].fd, &st) == 0;
    }
  else
    {
      exists = fstatat (x->pfd, leaf, &st, AT_SYMLINK_NOFOLLOW) == 0;
      if (!exists && errno != ENOENT)
        return berr_set (err, errno, "stat %s", cpath);
    }
  if (exists)
    {
      /* Docker's NoOverwriteDirNonDir, both ways. */
      if (S_ISDIR (st.st_mode) && !is_dir)
        return berr_set (err, 0, "cannot overwrite directory \"%s\" with non-directory \"%s\"",
                         cpath, x->base);
      if (!S_ISDIR (st.st_mode) && is_dir)
        return berr_set (err, 0, "cannot overwrite non-directory \"%s\" with directory \"%s\"",
                         cpath, x->base);
      if (!S_ISDIR (st.st_mode) && m >= 0)
        return berr_set (err, EBUSY, "cannot replace mount point %s", cpath);
    }

  if (hl)
    return ext_hardlink (x, e, leaf, cpath, exists ? &st : NULL, err);
  if (exists && !is_dir && unlinkat (x->pfd, leaf, 0) < 0 && errno != ENOENT)
    return berr_set (err, errno, "remove %s", cpath);

  switch (type)
    {
    case AE_IFDIR:
      {
        if (m >= 0)
          return 0; /* a mount's root keeps its owner and mode: they belong to the host */
        if (!exists && mkdirat (x->pfd, leaf, 0700) < 0)
          return berr_set (err, errno, "mkdir %s", cpath);
        cleanup_close int dfd
            = fs_open_in_root (x->pfd, leaf, O_RDONLY | O_DIRECTORY | O_NOFOLLOW, 0);
        if (dfd < 0)
          return berr_set (err, errno, "open %s", cpath);
        if (set_owner_mode_fd (x, dfd, e, AE_IFDIR, cpath, err) < 0)
          return -1;
        remember_dir_time (x, cpath, archive_entry_mtime (e));
        return 0;
      }
    case AE_IFREG:
      {
        cleanup_close int fd = fs_open_in_root (
            x->pfd, leaf, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_NOCTTY, 0600);
        if (fd < 0)
          return berr_set (err, errno, "create %s", cpath);
        if (ext_write_data (x, fd, cpath, err) < 0)
          return -1;
        if (set_owner_mode_fd (x, fd, e, AE_IFREG, cpath, err) < 0)
          return -1;
        struct timespec ts[2] = { { archive_entry_mtime (e), 0 }, { archive_entry_mtime (e), 0 } };
        if (futimens (fd, ts) < 0)
          return berr_set (err, errno, "set times of %s", cpath);
        return 0;
      }
    case AE_IFLNK:
      {
        const char *target = archive_entry_symlink (e);
        if (target == NULL)
          return berr_setk (err, BERR_INVALID, 0, "symlink %s without a target", cpath);
        /* Stored as written: it is never followed by cp, and inside a container it resolves
         * in the container's own root. */
        if (symlinkat (target, x->pfd, leaf) < 0)
          return berr_set (err, errno, "symlink %s", cpath);
        return set_attrs_path (x, x->pfd, leaf, e, S_IFLNK, cpath, err);
      }
    case AE_IFCHR:
    case AE_IFBLK:
    case AE_IFIFO:
      {
        mode_t t = type == AE_IFCHR ? S_IFCHR : type == AE_IFBLK ? S_IFBLK : S_IFIFO;
        if (mknodat (x->pfd, leaf, t | 0600, t == S_IFIFO ? 0 : archive_entry_rdev (e)) < 0)
          return berr_set (err, errno, "mknod %s", cpath);
        return set_attrs_path (x, x->pfd, leaf, e, t, cpath, err);
      }
    default:
      return 0; /* sockets and the like: nothing to create */
    }
}

int cp_fs_extract (struct cp_fs *fs, const char *dir, int tar_fd, const struct cp_extract_opts *o,
                   berr_t *err)
{
  if (lazy_archive_load (err) < 0)
    return -1;
  static const struct cp_extract_opts defaults = { 0 };
  struct cp_loc l;
  /* The extraction point: every symlink followed inside the tree, as Docker resolves it. */
  int e = cp_resolve (fs, dir, CP_FOLLOW_LAST, &l) < 0 ? errno : 0;
  if (e == 0 && l.fd < 0)
    e = ENOENT;
  if (e != 0)
    {
      cp_loc_release (&l);
      if (e == ENOTDIR)
        return berr_setk (err, BERR_INVALID, 0, "extraction point is not a directory");
      return berr_setk (err, e == ENOENT ? BERR_NOT_FOUND : BERR_GENERIC, e, "%s", dir);
    }
  if (!S_ISDIR (l.st.st_mode))
    {
      cp_loc_release (&l);
      return berr_setk (err, BERR_INVALID, 0, "extraction point is not a directory");
    }
  if (writable (fs, l.mount, err) < 0)
    {
      cp_loc_release (&l);
      return -1;
    }
  struct ext x = { .fd = tar_fd, .fs = fs, .o = o ? o : &defaults, .pfd = -1 };
  x.base = steal_pointer (&l.path);
  cp_loc_release (&l);
  x.buf = xmalloc (CP_IO_BUF);
  x.inbuf = xmalloc (CP_IO_BUF);
  x.a = archive_read_new ();
  if (x.a == NULL)
    abort ();
  archive_read_support_format_tar (x.a); /* ustar, pax, gnu, v7 */
  archive_read_support_format_empty (x.a);
  layer_add_filters (x.a); /* built-in decompressors only, never an external program */
  int ret = 0;
  if (archive_read_open (x.a, &x, NULL, ext_read_cb, NULL) != ARCHIVE_OK)
    ret = berr_setk (err, BERR_INVALID, 0, "read archive: %s", archive_error_string (x.a));
  while (ret == 0)
    {
      struct archive_entry *ae;
      int r = archive_read_next_header (x.a, &ae);
      if (r == ARCHIVE_EOF)
        break;
      if (r < ARCHIVE_WARN)
        {
          ret = berr_setk (err, BERR_INVALID, 0, "read archive: %s", archive_error_string (x.a));
          break;
        }
      ret = ext_entry (&x, ae, err);
    }
  if (ret == 0)
    ret = apply_dir_times (&x, err);
  archive_read_free (x.a);
  ext_forget_parent (&x);
  for (size_t i = 0; i < x.n_dirs; i++)
    free (x.dirs[i].path);
  free (x.dirs);
  free (x.buf);
  free (x.inbuf);
  free (x.base);
  return ret;
}
