/* context.c — the build context: which kind CONTEXT is (in the docker CLI's order: "-", an
 * existing path, a git URL, an http(s) URL), where the Dockerfile is, which .dockerignore
 * applies, and how big the context is as docker would send it.
 *
 * A directory is used in place. Everything else lands in a private temporary directory:
 * archives unpacked (context_fetch.c), repositories cloned (context_git.c), a lone Dockerfile
 * written into an otherwise empty directory (as the docker CLI does, so the context holds it). */
#include "build/context.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "build/context_priv.h"
#include "util/fs.h"
#include "util/log.h"

/* Far above any real Dockerfile or .dockerignore, small enough to hold in memory. */
#define DOCKERFILE_MAX (64u << 20)

static const char PREPARE[] = "unable to prepare context";

/* Go's error texts are strerror in lower case ("no such file or directory"). */
static char *go_strerror (int errnum)
{
  char *s = xstrdup (strerror (errnum));
  if (s[0] >= 'A' && s[0] <= 'Z' && !(s[1] >= 'A' && s[1] <= 'Z'))
    s[0] = (char)(s[0] - 'A' + 'a');
  return s;
}

static char *abs_path (const char *p)
{
  if (p[0] == '/')
    return fs_path_clean (p);
  char cwd[PATH_MAX];
  if (getcwd (cwd, sizeof cwd) == NULL)
    return fs_path_clean (p);
  cleanup_free char *j = xasprintf ("%s/%s", cwd, p);
  return fs_path_clean (j);
}

/* filepath.EvalSymlinks on an absolute, clean path, with its error wording: the first
 * component that does not exist is named ("lstat /ctx/sub: no such file or directory"). */
static int eval_symlinks (const char *path, char **out, berr_t *err)
{
  cleanup_free char *work = xstrdup (path);
  cleanup_free char *resolved = xstrdup ("");
  char *save = NULL;
  for (char *comp = strtok_r (work, "/", &save); comp; comp = strtok_r (NULL, "/", &save))
    {
      char *cand = xasprintf ("%s/%s", resolved, comp);
      struct stat st;
      if (lstat (cand, &st) < 0)
        {
          cleanup_free char *why = go_strerror (errno);
          berr_setk (err, BERR_NOT_FOUND, 0, "lstat %s: %s", cand, why);
          free (cand);
          return -1;
        }
      if (S_ISLNK (st.st_mode))
        {
          char *real = realpath (cand, NULL);
          if (real == NULL)
            {
              cleanup_free char *why = go_strerror (errno);
              berr_setk (err, BERR_NOT_FOUND, 0, "lstat %s: %s", cand, why);
              free (cand);
              return -1;
            }
          free (cand);
          cand = strcmp (real, "/") == 0 ? xstrdup ("") : xstrdup (real);
          free (real);
        }
      free (resolved);
      resolved = cand;
    }
  *out = resolved[0] ? steal_pointer (&resolved) : xstrdup ("/");
  return 0;
}

/* target relative to base (both absolute and clean), or NULL when it is outside base. */
static char *rel_inside (const char *base, const char *target)
{
  if (strcmp (base, target) == 0)
    return xstrdup (".");
  if (strcmp (base, "/") == 0)
    return xstrdup (target + 1);
  size_t n = strlen (base);
  if (strncmp (base, target, n) == 0 && target[n] == '/')
    return xstrdup (target + n + 1);
  return NULL;
}

static int read_fd_all (int fd, char **out, size_t *len, const char *what, berr_t *err)
{
  if (fs_read_fd (fd, DOCKERFILE_MAX, out, len, err) < 0)
    return berr_wrap (err, "failed to read %s", what);
  return 0;
}

static int check_not_empty (struct build_context *c, berr_t *err)
{
  if (c->dockerfile_len == 0)
    return berr_setk (err, BERR_INVALID, 0, "the Dockerfile (%s) cannot be empty",
                      c->dockerfile_name);
  return 0;
}

static int make_tmpdir (struct build_context *c, const struct build_context_opts *o, berr_t *err)
{
  const char *parent = o->tmp_parent;
  if (parent == NULL || parent[0] == '\0')
    parent = getenv ("TMPDIR");
  if (parent == NULL || parent[0] == '\0')
    parent = "/tmp";
  if (fs_mkdir_p (parent, 0700, err) < 0)
    return -1;
  char *t = xasprintf ("%s/build-context-XXXXXX", parent);
  if (mkdtemp (t) == NULL)
    {
      berr_set (err, errno, "create temporary directory in %s", parent);
      free (t);
      return -1;
    }
  c->tmpdir = t;
  return 0;
}

/* The lone Dockerfile from stdin or a URL: written into an empty context directory. */
static int context_from_text (struct build_context *c, const unsigned char *pre, size_t pre_len,
                              int fd, berr_t *err)
{
  struct sbuf b;
  sbuf_init (&b);
  sbuf_add (&b, pre, pre_len);
  char buf[65536];
  for (;;)
    {
      ssize_t n = read (fd, buf, sizeof buf);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        {
          sbuf_release (&b);
          return berr_set (err, errno, "failed to read Dockerfile");
        }
      if (n == 0)
        break;
      if (b.len + (size_t)n > DOCKERFILE_MAX)
        {
          sbuf_release (&b);
          return berr_setk (err, BERR_INVALID, 0, "failed to read Dockerfile: too large");
        }
      sbuf_add (&b, buf, (size_t)n);
    }
  c->dockerfile_len = b.len;
  c->dockerfile = sbuf_detach (&b);
  c->dockerfile_name = xstrdup ("Dockerfile");
  c->dir = xasprintf ("%s/context", c->tmpdir);
  if (mkdir (c->dir, 0755) < 0)
    return berr_set (err, errno, "mkdir %s", c->dir);
  cleanup_free char *path = xasprintf ("%s/Dockerfile", c->dir);
  cleanup_close int out = open (path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (out < 0 || fs_write_all (out, c->dockerfile, c->dockerfile_len) < 0)
    return berr_set (err, errno, "write %s", path);
  return 0;
}

/* The Dockerfile of an unpacked archive: resolved inside the context, as the daemon does. */
static int dockerfile_in_root (struct build_context *c, const char *name, berr_t *err)
{
  cleanup_free char *clean = fs_path_clean (name);
  cleanup_close int fd = fs_open_in_root (c->dirfd, clean, O_RDONLY, 0);
  if (fd < 0 && errno == ENOENT && strcmp (clean, "Dockerfile") == 0)
    {
      fd = fs_open_in_root (c->dirfd, "dockerfile", O_RDONLY, 0);
      if (fd >= 0)
        {
          free (clean);
          clean = xstrdup ("dockerfile");
        }
    }
  if (fd < 0 && errno == ENOENT)
    return berr_setk (err, BERR_NOT_FOUND, 0, "Cannot locate specified Dockerfile: %s", name);
  if (fd < 0)
    return berr_set (err, errno, "failed to read Dockerfile %s", name);
  if (read_fd_all (fd, &c->dockerfile, &c->dockerfile_len, "Dockerfile", err) < 0)
    return -1;
  c->dockerfile_name = clean[0] == '/' ? xstrdup (clean + 1) : steal_pointer (&clean);
  return 0;
}

/* The Dockerfile of a directory (or a checkout): -f is already absolute. Returns the path it
 * was named by (before symlinks) in *named, for <Dockerfile>.dockerignore. */
static int dockerfile_in_dir (struct build_context *c, const char *given, const char *as_given,
                              bool outside_ok, bool *outside, char **named, berr_t *err)
{
  cleanup_free char *path = NULL;
  if (given)
    path = xstrdup (given);
  else
    {
      path = xasprintf ("%s/Dockerfile", c->dir);
      struct stat st;
      cleanup_free char *alt = xasprintf ("%s/dockerfile", c->dir);
      if (lstat (path, &st) < 0 && errno == ENOENT && lstat (alt, &st) == 0)
        {
          free (path);
          path = steal_pointer (&alt);
        }
    }
  cleanup_free char *real = NULL;
  if (eval_symlinks (path, &real, err) < 0)
    return berr_wrap (err, "%s: unable to evaluate symlinks in Dockerfile path", PREPARE);
  cleanup_free char *rel = rel_inside (c->dir, real);
  *outside = rel == NULL;
  if (rel == NULL && !outside_ok)
    return berr_setk (err, BERR_INVALID, 0,
                      "%s: the Dockerfile (%s) must be within the build context", PREPARE,
                      as_given ? as_given : path);
  cleanup_close int fd = open (real, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    {
      cleanup_free char *why = go_strerror (errno);
      return berr_setk (err, BERR_INVALID, 0, "unable to open Dockerfile: open %s: %s", real, why);
    }
  if (read_fd_all (fd, &c->dockerfile, &c->dockerfile_len, "Dockerfile", err) < 0)
    return -1;
  c->dockerfile_name = rel ? steal_pointer (&rel) : xstrdup (given);
  *named = steal_pointer (&path);
  return 0;
}

/* .dockerignore: "<Dockerfile>.dockerignore" beside the Dockerfile (BuildKit's rule) wins over
 * the context root's. df_ignore: the first, an absolute path, or a path inside the context
 * (in_root), or NULL. */
static int load_ignore (struct build_context *c, const char *df_ignore, bool in_root, berr_t *err)
{
  cleanup_close int fd = -1;
  if (df_ignore)
    {
      fd = in_root ? fs_open_in_root (c->dirfd, df_ignore, O_RDONLY, 0)
                   : open (df_ignore, O_RDONLY | O_CLOEXEC);
      if (fd < 0 && errno != ENOENT && errno != ENOTDIR)
        return berr_set (err, errno, "error reading %s", df_ignore);
    }
  if (fd < 0)
    {
      fd = fs_open_in_root (c->dirfd, ".dockerignore", O_RDONLY, 0);
      if (fd < 0 && errno != ENOENT)
        return berr_set (err, errno, "error reading .dockerignore");
    }
  if (fd < 0)
    {
      c->ignore_patterns = xzalloc (sizeof (char *));
      return 0;
    }
  cleanup_free char *buf = NULL;
  size_t len = 0;
  if (fs_read_fd (fd, DOCKERFILE_MAX, &buf, &len, err) < 0
      || di_read_patterns (buf, len, &c->ignore_patterns, err) < 0)
    return berr_wrap (err, "error reading .dockerignore");
  if (c->ignore_patterns[0] != NULL
      && di_matcher_new ((const char *const *)c->ignore_patterns, &c->ignore, err) < 0)
    return -1;
  return 0;
}

/* Size: the bytes of the tar the docker CLI would send (Go's archive/tar: USTAR headers, PAX
 * only for what USTAR cannot hold, data in 512-byte blocks, two zero blocks at the end). */

static uint64_t blocks (uint64_t n) { return (n + 511) / 512 * 512; }

static bool is_ascii (const char *s)
{
  for (; *s; s++)
    if ((unsigned char)*s >= 0x80)
      return false;
  return true;
}

static bool ustar_name_fits (const char *name)
{
  size_t len = strlen (name);
  if (!is_ascii (name))
    return false;
  if (len <= 100)
    return true;
  size_t lim = len;
  if (lim > 156)
    lim = 156;
  else if (name[lim - 1] == '/')
    lim--;
  ssize_t i = -1;
  for (size_t k = 0; k < lim; k++)
    if (name[k] == '/')
      i = (ssize_t)k;
  if (i <= 0)
    return false;
  size_t nlen = len - (size_t)i - 1;
  return nlen > 0 && nlen <= 100 && (size_t)i <= 155;
}

static size_t pax_record_len (const char *key, size_t vlen)
{
  size_t n = strlen (key) + vlen + 3;
  size_t digits = 1;
  for (size_t t = n; t >= 10; t /= 10)
    digits++;
  n += digits;
  size_t d2 = 1;
  for (size_t t = n; t >= 10; t /= 10)
    d2++;
  return n + (d2 > digits);
}

static uint64_t tar_entry_size (const char *name, const char *link, uint64_t data)
{
  size_t pax = 0;
  if (!ustar_name_fits (name))
    pax += pax_record_len ("path", strlen (name));
  if (link && (strlen (link) > 100 || !is_ascii (link)))
    pax += pax_record_len ("linkpath", strlen (link));
  if (data > 077777777777ull)
    pax += pax_record_len ("size", 20);
  return 512 + blocks (data) + (pax ? 512 + blocks (pax) : 0);
}

struct inode_seen
{
  dev_t dev;
  ino_t ino;
  char *path;
};

struct walk
{
  di_matcher_t *m;
  size_t npat;
  uint64_t total;
  struct inode_seen *seen;
  size_t nseen;
};

static int walk_dir (struct walk *w, int dfd, const char *rel, const bool *pinfo, berr_t *err)
{
  /* a new open file: the caller's may be O_PATH, and readdir moves the offset */
  int fd = openat (dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    return berr_set (err, errno, "no permission to read from '%s'", rel[0] ? rel : ".");
  cleanup_closedir DIR *d = fdopendir (fd);
  if (d == NULL)
    {
      close (fd);
      return berr_set (err, errno, "opendir %s", rel[0] ? rel : ".");
    }
  struct dirent *de;
  while ((errno = 0, de = readdir (d)) != NULL)
    {
      if (strcmp (de->d_name, ".") == 0 || strcmp (de->d_name, "..") == 0)
        continue;
      cleanup_free char *path
          = rel[0] ? xasprintf ("%s/%s", rel, de->d_name) : xstrdup (de->d_name);
      struct stat st;
      if (fstatat (dirfd (d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
        return berr_set (err, errno, "can't stat '%s'", path);
      bool ignored = false;
      cleanup_free bool *info = NULL;
      if (w->m)
        {
          info = xcalloc (w->npat ? w->npat : 1, sizeof (bool));
          if (di_matches_parent_info (w->m, path, pinfo, info, &ignored, err) < 0)
            return -1;
        }
      bool isdir = S_ISDIR (st.st_mode);
      if (ignored
          && (!isdir || !di_matcher_has_exclusions (w->m) || !di_dir_may_reinclude (w->m, path)))
        continue;
      if (!ignored)
        {
          if (isdir)
            {
              cleanup_free char *dname = xasprintf ("%s/", path);
              w->total += tar_entry_size (dname, NULL, 0);
            }
          else if (S_ISLNK (st.st_mode))
            {
              char target[PATH_MAX];
              ssize_t n = readlinkat (dirfd (d), de->d_name, target, sizeof target - 1);
              target[n < 0 ? 0 : n] = '\0';
              w->total += tar_entry_size (path, target, 0);
            }
          else if (S_ISREG (st.st_mode))
            {
              const char *first = NULL;
              if (st.st_nlink > 1)
                {
                  for (size_t i = 0; i < w->nseen && !first; i++)
                    if (w->seen[i].dev == st.st_dev && w->seen[i].ino == st.st_ino)
                      first = w->seen[i].path;
                  if (!first)
                    {
                      w->seen = xrealloc (w->seen, (w->nseen + 1) * sizeof *w->seen);
                      w->seen[w->nseen++]
                          = (struct inode_seen){ st.st_dev, st.st_ino, xstrdup (path) };
                    }
                }
              w->total += first ? tar_entry_size (path, first, 0)
                                : tar_entry_size (path, NULL, (uint64_t)st.st_size);
            }
          else if (!S_ISSOCK (st.st_mode))
            w->total += tar_entry_size (path, NULL, 0);
        }
      if (isdir)
        {
          cleanup_close int sub
              = openat (dirfd (d), de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
          if (sub < 0)
            return berr_set (err, errno, "no permission to read from '%s'", path);
          if (walk_dir (w, sub, path, info, err) < 0)
            return -1;
        }
    }
  if (errno != 0)
    return berr_set (err, errno, "readdir %s", rel[0] ? rel : ".");
  return 0;
}

/* keep_df: the Dockerfile's path in the context, always sent (TrimBuildFilesFromExcludes);
 * extra_df: the Dockerfile came from elsewhere and the CLI adds it under a random name,
 * listing that name in .dockerignore. */
static int compute_size (struct build_context *c, const char *keep_df, bool extra_df, berr_t *err)
{
  struct walk w = { 0 };
  cleanup_strv char **pats = NULL;
  int ret = 0;
  if (c->ignore)
    {
      pats = strv_dup (c->ignore_patterns);
      strv_push (&pats, "!.dockerignore");
      if (keep_df)
        {
          cleanup_free char *k = xasprintf ("!%s", keep_df);
          strv_push (&pats, k);
        }
      ret = di_matcher_new ((const char *const *)pats, &w.m, err);
      if (ret == 0)
        w.npat = di_matcher_count (w.m);
    }
  if (ret == 0)
    ret = walk_dir (&w, c->dirfd, "", NULL, err);
  for (size_t i = 0; i < w.nseen; i++)
    free (w.seen[i].path);
  free (w.seen);
  di_matcher_free (w.m);
  if (ret < 0)
    return berr_wrap (err, "error checking context");
  if (extra_df)
    {
      /* ".dockerfile." and 20 hex digits */
      w.total += 512 + blocks (c->dockerfile_len);
      struct stat st;
      size_t added = 1 + 32 + 1;
      if (fstatat (c->dirfd, ".dockerignore", &st, AT_SYMLINK_NOFOLLOW) == 0
          && S_ISREG (st.st_mode))
        w.total += blocks ((uint64_t)st.st_size + added) - blocks ((uint64_t)st.st_size);
      else
        w.total += 512 + blocks (strlen (".dockerignore\n") + added);
    }
  c->size = w.total + 1024;
  return 0;
}

static int open_dirfd (struct build_context *c, berr_t *err)
{
  c->dirfd = open (c->dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (c->dirfd < 0)
    return berr_set (err, errno, "open %s", c->dir);
  return 0;
}

static int read_stdin_dockerfile (struct build_context *c, const struct build_context_opts *o,
                                  berr_t *err)
{
  if (read_fd_all (o->stdin_fd, &c->dockerfile, &c->dockerfile_len, "Dockerfile from stdin", err)
      < 0)
    return -1;
  c->dockerfile_name = xstrdup ("Dockerfile");
  return 0;
}

/* A directory used in place, or a checkout (git: -f relative to the context, never outside). */
static int open_dir (struct build_context *c, const struct build_context_opts *o, bool git,
                     berr_t *err)
{
  if (open_dirfd (c, err) < 0)
    return -1;
  const char *df = o->dockerfile;
  cleanup_free char *named = NULL;
  bool outside = false;
  if (df && strcmp (df, "-") == 0)
    {
      if (read_stdin_dockerfile (c, o, err) < 0)
        return -1;
      outside = true;
    }
  else
    {
      cleanup_free char *given = NULL;
      if (df && git)
        {
          cleanup_free char *j = xasprintf ("%s/%s", c->dir, df);
          given = fs_path_clean (j);
        }
      else if (df)
        given = abs_path (df);
      if (dockerfile_in_dir (c, given, df, !git, &outside, &named, err) < 0)
        return -1;
      if (outside)
        {
          free (c->dockerfile_name);
          c->dockerfile_name = xstrdup (df);
        }
    }
  if (check_not_empty (c, err) < 0)
    return -1;
  cleanup_free char *df_ignore = named ? xasprintf ("%s.dockerignore", named) : NULL;
  if (load_ignore (c, df_ignore, false, err) < 0)
    return -1;
  return compute_size (c, outside ? NULL : c->dockerfile_name, outside, err);
}

/* stdin, a downloaded file or an archive file: a tar is unpacked, anything else is the
 * Dockerfile (except for a file named as the context, which must be an archive). */
static int open_stream (struct build_context *c, const struct build_context_opts *o, int fd,
                        const char *file, berr_t *err)
{
  unsigned char pre[CTX_PEEK_SIZE];
  ssize_t n = ctx_peek (fd, pre, err);
  if (n < 0)
    return -1;
  bool archive = false;
  if (ctx_is_archive (pre, (size_t)n, &archive, err) < 0)
    return -1;
  if (!archive)
    {
      if (file)
        return berr_setk (err, BERR_INVALID, 0, "%s: context must be a directory: %s", PREPARE,
                          file);
      if (o->dockerfile && strcmp (o->dockerfile, "-") == 0)
        return berr_setk (err, BERR_INVALID, 0, "%s: build context is not an archive", PREPARE);
      if (context_from_text (c, pre, (size_t)n, fd, err) < 0)
        return -1;
      if (open_dirfd (c, err) < 0 || check_not_empty (c, err) < 0)
        return -1;
      c->ignore_patterns = xzalloc (sizeof (char *));
      return compute_size (c, "Dockerfile", false, err);
    }
  c->dir = xasprintf ("%s/context", c->tmpdir);
  if (mkdir (c->dir, 0755) < 0)
    return berr_set (err, errno, "mkdir %s", c->dir);
  if (open_dirfd (c, err) < 0)
    return -1;
  if (ctx_unpack (pre, (size_t)n, fd, c->dirfd, o->max_size, &c->size, err) < 0)
    return -1;
  const char *df = o->dockerfile;
  if (df && strcmp (df, "-") == 0)
    {
      if (read_stdin_dockerfile (c, o, err) < 0)
        return -1;
    }
  else if (dockerfile_in_root (c, df ? df : "Dockerfile", err) < 0)
    return -1;
  if (check_not_empty (c, err) < 0)
    return -1;
  cleanup_free char *df_ignore
      = df && strcmp (df, "-") == 0 ? NULL : xasprintf ("%s.dockerignore", c->dockerfile_name);
  return load_ignore (c, df_ignore, true, err);
}

static int open_url (struct build_context *c, const struct build_context_opts *o, berr_t *err)
{
  if (make_tmpdir (c, o, err) < 0)
    return -1;
  cleanup_free char *dl = xasprintf ("%s/download", c->tmpdir);
  cleanup_close int fd = open (dl, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0)
    return berr_set (err, errno, "create %s", dl);
  long status = 0;
  cleanup_free char *text = NULL;
  if (ctx_http_get (o->spec, false, fd, o->max_size, &status, &text, NULL, err) < 0)
    return berr_wrap (err, "%s: unable to download remote context %s", PREPARE, o->spec);
  if (lseek (fd, 0, SEEK_SET) < 0)
    return berr_set (err, errno, "seek %s", dl);
  if (status >= 400)
    {
      char body[4096];
      ssize_t n = read (fd, body, sizeof body - 1);
      body[n < 0 ? 0 : n] = '\0';
      char *b = body;
      while (*b == ' ' || *b == '\n' || *b == '\r' || *b == '\t')
        b++;
      for (size_t l = strlen (b); l > 0 && strchr (" \n\r\t", b[l - 1]); l--)
        b[l - 1] = '\0';
      return berr_setk (err, status == 404 ? BERR_NOT_FOUND : BERR_GENERIC, 0,
                        "%s: unable to download remote context %s: failed to GET %s with "
                        "status %s: %s",
                        PREPARE, o->spec, o->spec, text, b);
    }
  int r = open_stream (c, o, fd, NULL, err);
  unlink (dl);
  return r;
}

static int open_git (struct build_context *c, const struct build_context_opts *o, berr_t *err)
{
  if (make_tmpdir (c, o, err) < 0)
    return -1;
  cleanup_free char *repo = xasprintf ("%s/repo", c->tmpdir);
  if (ctx_git_clone (o->spec, repo, &c->dir, err) < 0)
    return berr_wrap (err, "%s", PREPARE);
  return open_dir (c, o, true, err);
}

static int open_any (struct build_context *c, const struct build_context_opts *o, berr_t *err)
{
  const char *spec = o->spec ? o->spec : "";
  bool df_stdin = o->dockerfile && strcmp (o->dockerfile, "-") == 0;
  struct stat st;
  if (strcmp (spec, "-") == 0)
    {
      if (df_stdin)
        return berr_setk (err, BERR_INVALID, 0,
                          "invalid argument: can't use stdin for both build context and "
                          "dockerfile");
      if (make_tmpdir (c, o, err) < 0)
        return -1;
      return open_stream (c, o, o->stdin_fd, NULL, err);
    }
  if (spec[0] != '\0' && stat (spec, &st) == 0)
    {
      cleanup_free char *abs = abs_path (spec);
      cleanup_free char *real = NULL;
      if (eval_symlinks (abs, &real, err) < 0)
        return berr_wrap (err, "%s: unable to evaluate symlinks in context path", PREPARE);
      if (S_ISDIR (st.st_mode))
        {
          c->dir = steal_pointer (&real);
          return open_dir (c, o, false, err);
        }
      cleanup_close int fd = open (real, O_RDONLY | O_CLOEXEC);
      if (fd < 0)
        return berr_set (err, errno, "%s: open %s", PREPARE, real);
      if (make_tmpdir (c, o, err) < 0)
        return -1;
      return open_stream (c, o, fd, real, err);
    }
  if (ctx_is_git_url (spec))
    return open_git (c, o, err);
  if (ctx_is_url (spec))
    return open_url (c, o, err);
  return berr_setk (err, BERR_NOT_FOUND, 0, "%s: path \"%s\" not found", PREPARE, spec);
}

int build_context_open (const struct build_context_opts *o, struct build_context **out, berr_t *err)
{
  struct build_context *c = xzalloc (sizeof *c);
  c->dirfd = -1;
  if (open_any (c, o, err) < 0)
    {
      build_context_close (c);
      return -1;
    }
  *out = c;
  return 0;
}

void build_context_close (struct build_context *c)
{
  if (c == NULL)
    return;
  if (c->dirfd >= 0)
    close (c->dirfd);
  if (c->tmpdir)
    {
      cleanup_berr berr_t e = BERR_INIT;
      if (fs_rm_rf (c->tmpdir, &e) < 0)
        log_warn ("remove build context %s: %s", c->tmpdir, e.msg);
    }
  di_matcher_free (c->ignore);
  strv_free (c->ignore_patterns);
  free (c->tmpdir);
  free (c->dir);
  free (c->dockerfile_name);
  free (c->dockerfile);
  free (c);
}

bool build_context_ignored (struct build_context *c, const char *rel)
{
  if (c == NULL || c->ignore == NULL)
    return false;
  bool ignored = false;
  cleanup_berr berr_t e = BERR_INIT;
  if (di_matches (c->ignore, rel, &ignored, &e) < 0)
    {
      log_warn (".dockerignore: %s", e.msg);
      return false;
    }
  return ignored;
}
