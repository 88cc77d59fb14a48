/* copy.c — COPY and ADD: resolving the sources into a list of entries (copy_prepare), the cache
 * hash over them, and the job's bookkeeping. The copy itself is in copy_write.c, downloads in
 * copy_fetch.c, the wildcard matcher in copy_match.c.
 *
 * Behaviour follows Docker's legacy builder (the oracle for berth build):
 *  - a source is a path below the source root; a leading '/' is dropped and a path that climbs
 *    out of the root ("../x") is refused. A source NAMED by the user that is a symlink is
 *    followed, inside the root (Docker resolves it with FollowSymlinkInScope), and the file
 *    keeps the link's name; symlinks found while walking a directory are copied as links.
 *  - wildcards (Go filepath.Match) are matched element by element against the tree; each match
 *    is a source of its own, in lexical order; a wildcard that matches nothing is an error.
 *  - more than one resolved source needs a destination written with a trailing '/'.
 *  - .dockerignore'd files of the context do not exist (the context Docker sends lacks them).
 *  - context files belong to 0:0 unless --chown; files from a stage or image keep their owner. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "build/copy_int.h"
#include "util/fs.h"
#include "util/log.h"

/* ADD URL downloads are refused beyond this size. */
#define COPY_URL_MAX ((uint64_t)16 << 30)

int copy_open_beneath (int dirfd, const char *path, int flags)
{
  struct open_how how = { 0 };
  how.flags = (uint64_t)flags | O_CLOEXEC;
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
  if (path[0] == '\0')
    path = ".";
  for (;;)
    {
      long r = syscall (SYS_openat2, dirfd, path, &how, sizeof how);
      if (r < 0 && errno == EAGAIN)
        continue;
      return (int)r;
    }
}

static void entry_release (struct copy_entry *e)
{
  free (e->sub);
  free (e->link);
}

static void src_release (struct copy_src *s)
{
  free (s->given);
  free (s->name);
  free (s->rel);
  free (s->content);
  if (s->fd >= 0)
    close (s->fd);
  for (size_t i = 0; i < s->n_entries; i++)
    entry_release (&s->entries[i]);
  free (s->entries);
}

void copy_job_free (struct copy_job *j)
{
  if (j == NULL)
    return;
  for (size_t i = 0; i < j->n_srcs; i++)
    src_release (&j->srcs[i]);
  free (j->srcs);
  if (j->src_root >= 0)
    close (j->src_root);
  free (j->instr);
  free (j->dest);
  free (j->chown);
  free (j);
}

void copy_job_stats (const struct copy_job *j, uint64_t *files, uint64_t *bytes)
{
  if (files)
    *files = j->files;
  if (bytes)
    *bytes = j->bytes;
}

const char *copy_job_kind (const struct copy_job *j)
{
  if (j->n_srcs != 1)
    return "multi";
  return j->srcs[0].is_dir ? "dir" : "file";
}

static struct copy_src *new_src (struct copy_job *j, int kind, const char *given)
{
  j->srcs = xrealloc (j->srcs, (j->n_srcs + 1) * sizeof *j->srcs);
  struct copy_src *s = &j->srcs[j->n_srcs++];
  memset (s, 0, sizeof *s);
  s->kind = kind;
  s->fd = -1;
  s->given = xstrdup (given);
  return s;
}

static void push_entry (struct copy_src *s, const char *sub, const struct stat *st,
                        const char *link, bool implicit)
{
  s->entries = xrealloc (s->entries, (s->n_entries + 1) * sizeof *s->entries);
  struct copy_entry *e = &s->entries[s->n_entries++];
  e->sub = xstrdup (sub);
  e->st = *st;
  e->link = link ? xstrdup (link) : NULL;
  e->implicit = implicit;
}

static char *join (const char *a, const char *b)
{
  if (a[0] == '\0' || strcmp (a, ".") == 0)
    return xstrdup (b);
  return xasprintf ("%s/%s", a, b);
}

static int cmp_str (const void *a, const void *b)
{
  return strcmp (*(char *const *)a, *(char *const *)b);
}

/* The names in dirfd, sorted bytewise (Go's Walk order). */
static int list_dir (int dirfd, char ***out)
{
  int fd = openat (dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    return -1;
  DIR *d = fdopendir (fd);
  if (d == NULL)
    {
      close (fd);
      return -1;
    }
  char **v = NULL;
  size_t n = 0;
  struct dirent *de;
  errno = 0;
  while ((de = readdir (d)) != NULL)
    {
      if (strcmp (de->d_name, ".") == 0 || strcmp (de->d_name, "..") == 0)
        continue;
      v = xrealloc (v, (n + 2) * sizeof *v);
      v[n++] = xstrdup (de->d_name);
      v[n] = NULL;
    }
  int saved = errno;
  closedir (d);
  if (saved)
    {
      strv_free (v);
      errno = saved;
      return -1;
    }
  if (v == NULL)
    v = xzalloc (sizeof *v);
  qsort (v, n, sizeof *v, cmp_str);
  *out = v;
  return 0;
}

static int is_ignored (struct copy_job *j, di_matcher_t *ig, const char *rel, bool *out,
                       berr_t *err)
{
  *out = false;
  if (!j->from_context || ig == NULL || strcmp (rel, ".") == 0)
    return 0;
  return di_matches (ig, rel, out, err);
}

/* Walk the directory dirfd (the source's entry sub, at ctxrel in the source root) into s. */
static int walk_dir (struct copy_job *j, di_matcher_t *ig, struct copy_src *s, int dirfd,
                     const char *sub, const char *ctxrel, int depth, berr_t *err)
{
  if (depth > 512)
    return berr_set (err, ELOOP, "%s: directory tree too deep", ctxrel);
  cleanup_strv char **names = NULL;
  if (list_dir (dirfd, &names) < 0)
    return berr_set (err, errno, "read directory %s", ctxrel);
  for (char **n = names; *n; n++)
    {
      cleanup_free char *csub = join (sub, *n);
      cleanup_free char *crel = join (ctxrel, *n);
      struct stat st;
      if (fstatat (dirfd, *n, &st, AT_SYMLINK_NOFOLLOW) < 0)
        {
          if (errno == ENOENT)
            continue;
          return berr_set (err, errno, "lstat %s", crel);
        }
      bool ignored;
      if (is_ignored (j, ig, crel, &ignored, err) < 0)
        return -1;
      if (ignored && !(S_ISDIR (st.st_mode) && di_dir_may_reinclude (ig, crel)))
        continue;
      cleanup_free char *link = NULL;
      if (S_ISLNK (st.st_mode))
        {
          link = xzalloc ((size_t)st.st_size + 2);
          ssize_t l = readlinkat (dirfd, *n, link, (size_t)st.st_size + 1);
          if (l < 0)
            return berr_set (err, errno, "readlink %s", crel);
          link[l] = '\0';
        }
      size_t before = s->n_entries;
      push_entry (s, csub, &st, link, ignored);
      if (!ignored && S_ISREG (st.st_mode))
        {
          j->files++;
          j->bytes += (uint64_t)st.st_size;
        }
      if (S_ISDIR (st.st_mode))
        {
          cleanup_close int cfd
              = openat (dirfd, *n, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
          if (cfd < 0)
            return berr_set (err, errno, "open %s", crel);
          if (walk_dir (j, ig, s, cfd, csub, crel, depth + 1, err) < 0)
            return -1;
          /* An ignored directory is only kept for what it re-includes. */
          if (ignored && s->n_entries == before + 1)
            {
              entry_release (&s->entries[before]);
              s->n_entries = before;
            }
        }
    }
  return 0;
}

/* The path of fd relative to the source root's path ("." for the root itself). */
static char *rel_of_fd (int root, int fd)
{
  char p1[64], p2[64];
  snprintf (p1, sizeof p1, "/proc/self/fd/%d", root);
  snprintf (p2, sizeof p2, "/proc/self/fd/%d", fd);
  cleanup_free char *r = realpath (p1, NULL);
  cleanup_free char *f = realpath (p2, NULL);
  if (r == NULL || f == NULL)
    return NULL;
  size_t rl = strcmp (r, "/") == 0 ? 0 : strlen (r);
  if (strncmp (f, r, rl) != 0 || (f[rl] != '/' && f[rl] != '\0'))
    return NULL;
  if (f[rl] == '\0' || strcmp (f + rl, "/") == 0)
    return xstrdup (".");
  return xstrdup (f + rl + 1);
}

static int not_found (struct copy_job *j, const char *given, berr_t *err)
{
  if (!j->from_context)
    return berr_setk (err, BERR_NOT_FOUND, 0, "%s failed: stat %s: file does not exist", j->instr,
                      given);
  return berr_setk (err, BERR_NOT_FOUND, 0,
                    "%s failed: file not found in build context or excluded by .dockerignore: "
                    "stat %s: file does not exist",
                    j->instr, given);
}

/* Whether rel, followed as the kernel would from the root, stays beneath it. */
static bool link_stays_inside (int root, const char *rel)
{
  struct open_how how
      = { .flags = O_PATH | O_CLOEXEC, .resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS };
  int fd = (int)syscall (SYS_openat2, root, rel, &how, sizeof how);
  if (fd >= 0)
    {
      close (fd);
      return true;
    }
  /* ENOENT: dangling — Docker's "not found" then. EXDEV: absolute or climbing out; Docker
   * resolves it in the root's scope, so follow it when that finds something. */
  if (errno != EXDEV)
    return true;
  fd = fs_open_in_root (root, rel, O_PATH, 0);
  if (fd < 0)
    return false;
  close (fd);
  return true;
}

/* One named (or wildcard-matched) path: followed inside the root, then walked. */
static int add_path_source (struct copy_job *j, const struct copy_request *r, const char *rel,
                            const char *given, berr_t *err)
{
  bool ignored;
  if (is_ignored (j, r->ignore, rel, &ignored, err) < 0)
    return -1;
  struct stat st;
  /* A named symlink is followed inside the root, as Docker does — unless its target lies
   * outside it (an absolute path elsewhere, or "../" climbing out): then it is copied as the
   * link it is, never as the host's file it names nor as whatever the clamped path finds. */
  {
    cleanup_close int lfd = fs_open_in_root (j->src_root, rel, O_PATH | O_NOFOLLOW, 0);
    if (lfd >= 0 && !ignored && fstat (lfd, &st) == 0 && S_ISLNK (st.st_mode)
        && !link_stays_inside (j->src_root, rel))
      {
        cleanup_free char *link = xzalloc ((size_t)st.st_size + 2);
        ssize_t l = readlinkat (lfd, "", link, (size_t)st.st_size + 1);
        if (l < 0)
          return berr_set (err, errno, "%s failed: readlink %s", j->instr, given);
        link[l] = '\0';
        struct copy_src *s = new_src (j, COPY_SRC_PATH, given);
        const char *slash = strrchr (rel, '/');
        s->name = xstrdup (slash ? slash + 1 : rel);
        s->rel = xstrdup (rel);
        s->is_dir = false;
        push_entry (s, "", &st, link, false);
        s->fd = steal_fd (&lfd);
        return 0;
      }
  }
  cleanup_close int fd = fs_open_in_root (j->src_root, rel, O_PATH, 0);
  /* An ignored directory exists only for the files an exception re-includes below it. */
  bool implicit = ignored && fd >= 0 && fstat (fd, &st) == 0 && S_ISDIR (st.st_mode)
                  && di_dir_may_reinclude (r->ignore, rel);
  if (ignored && !implicit)
    return not_found (j, given, err);
  if (fd < 0)
    {
      if (errno == ENOENT || errno == ENOTDIR || errno == ELOOP)
        return not_found (j, given, err);
      return berr_set (err, errno, "%s failed: stat %s", j->instr, given);
    }
  cleanup_free char *real = rel_of_fd (j->src_root, fd);
  if (real == NULL)
    return berr_set (err, EXDEV, "%s failed: resolve %s", j->instr, given);
  if (strcmp (real, rel) != 0 && !implicit)
    {
      if (is_ignored (j, r->ignore, real, &ignored, err) < 0)
        return -1;
      if (ignored)
        return not_found (j, given, err);
    }
  if (fstat (fd, &st) < 0)
    return berr_set (err, errno, "%s failed: stat %s", j->instr, given);
  struct copy_src *s = new_src (j, COPY_SRC_PATH, given);
  const char *slash = strrchr (rel, '/');
  s->name = xstrdup (slash ? slash + 1 : rel);
  s->rel = steal_pointer (&real);
  s->is_dir = S_ISDIR (st.st_mode);
  push_entry (s, "", &st, NULL, implicit);
  if (s->is_dir)
    {
      cleanup_close int dfd = openat (fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      if (dfd < 0)
        return berr_set (err, errno, "open %s", given);
      if (walk_dir (j, r->ignore, s, dfd, "", s->rel, 0, err) < 0)
        return berr_wrap (err, "%s failed", j->instr);
      if (implicit && s->n_entries == 1)
        {
          src_release (s);
          j->n_srcs--;
          return not_found (j, given, err);
        }
    }
  else
    {
      if (S_ISREG (st.st_mode))
        {
          j->files++;
          j->bytes += (uint64_t)st.st_size;
        }
      if (j->add && S_ISREG (st.st_mode))
        {
          char p[64];
          snprintf (p, sizeof p, "/proc/self/fd/%d", fd);
          cleanup_close int rfd = open (p, O_RDONLY | O_CLOEXEC | O_NOCTTY);
          s->archive = rfd >= 0 && copy_is_archive (rfd);
        }
    }
  s->fd = steal_fd (&fd);
  return 0;
}

/* Wildcards: the tree is matched element by element; pattern has n elements. */
static int glob_level (struct copy_job *j, const struct copy_request *r, char **elems, size_t n,
                       size_t level, int dirfd, const char *rel, const char *pattern, size_t *found,
                       berr_t *err)
{
  cleanup_strv char **names = NULL;
  if (list_dir (dirfd, &names) < 0)
    return 0; /* Go's Walk reports the error only for the root; a missing dir matches nothing */
  for (char **nm = names; *nm; nm++)
    {
      cleanup_free char *crel = join (rel, *nm);
      bool last = level + 1 == n;
      if (!last && copy_match (elems[level], *nm) == 0)
        continue;
      bool ignored;
      if (is_ignored (j, r->ignore, crel, &ignored, err) < 0)
        return -1;
      struct stat st;
      if (fstatat (dirfd, *nm, &st, AT_SYMLINK_NOFOLLOW) < 0)
        continue;
      if (last)
        {
          if (ignored || copy_match (pattern, crel) != 1)
            continue;
          if (add_path_source (j, r, crel, crel, err) < 0)
            return -1;
          (*found)++;
          continue;
        }
      if (!S_ISDIR (st.st_mode) || (ignored && !di_dir_may_reinclude (r->ignore, crel)))
        continue;
      cleanup_close int cfd = openat (dirfd, *nm, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (cfd < 0)
        continue;
      if (glob_level (j, r, elems, n, level + 1, cfd, crel, pattern, found, err) < 0)
        return -1;
    }
  return 0;
}

static int add_glob (struct copy_job *j, const struct copy_request *r, const char *pattern,
                     berr_t *err)
{
  cleanup_strv char **elems = NULL;
  cleanup_free char *work = xstrdup (pattern);
  char *save = NULL;
  for (char *t = strtok_r (work, "/", &save); t; t = strtok_r (NULL, "/", &save))
    strv_push (&elems, t);
  size_t found = 0;
  if (elems != NULL)
    {
      cleanup_close int rfd = openat (j->src_root, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      if (rfd < 0)
        return berr_set (err, errno, "%s failed: open the source root", j->instr);
      if (glob_level (j, r, elems, strv_len (elems), 0, rfd, ".", pattern, &found, err) < 0)
        return -1;
    }
  /* A wildcard that matches nothing is no error by itself: only no source at all is. */
  return 0;
}

static int add_source_word (struct copy_job *j, const struct copy_request *r, const char *word,
                            berr_t *err)
{
  if (copy_is_url (word))
    {
      if (!j->add)
        return berr_setk (err, BERR_INVALID, 0, "source can't be a URL for %s", j->instr);
      struct copy_src *s = new_src (j, COPY_SRC_URL, word);
      if (copy_fetch_url (word, r->tmpdir, r->checksum, COPY_URL_MAX, s, err) < 0)
        return berr_wrap (err, "%s failed", j->instr);
      if (s->name[0] == '\0')
        {
          if (j->dest_slash)
            return berr_setk (err, BERR_INVALID, 0,
                              "%s failed: cannot determine filename for source %s", j->instr, word);
          free (s->name);
          s->name = xstrdup ("__unnamed__");
        }
      struct stat st;
      if (fstat (s->fd, &st) == 0)
        j->bytes += (uint64_t)st.st_size;
      j->files++;
      return 0;
    }
  /* As Docker: one leading '/' and one "./" are dropped; a wildcard is matched as it stands
   * (a pattern that climbs out matches nothing); any other path must stay inside the root. */
  const char *given = word;
  if (given[0] == '/')
    given++;
  if (given[0] == '.' && given[1] == '/')
    given += 2;
  if (copy_has_wildcards (given))
    return add_glob (j, r, given, err);
  cleanup_free char *clean = fs_path_clean (given[0] ? given : ".");
  const char *rel = clean;
  while (rel[0] == '/')
    rel++;
  if (rel[0] == '\0')
    rel = ".";
  if (strcmp (rel, "..") == 0 || str_has_prefix (rel, "../"))
    return berr_setk (err, BERR_INVALID, 0,
                      "%s failed: forbidden path outside the build context: %s ()", j->instr,
                      given);
  if (given[0] == '\0')
    given = ".";
  return add_path_source (j, r, rel, given, err);
}

static int parse_chmod (const char *s, mode_t *out, berr_t *err)
{
  char *end = NULL;
  errno = 0;
  unsigned long v = s[0] ? strtoul (s, &end, 8) : 0;
  if (s[0] == '\0' || s[0] == '-' || s[0] == '+' || errno || *end || v > 07777)
    return berr_setk (err, BERR_INVALID, 0,
                      "invalid chmod parameter: '%s'. it should be octal string and between 0 "
                      "and 07777",
                      s);
  *out = (mode_t)v;
  return 0;
}

/* The destination as Docker normalises it: relative to WorkingDir, cleaned, trailing '/' kept. */
static char *normalize_dest (const char *workdir, const char *dest)
{
  cleanup_free char *joined = NULL;
  if (dest[0] == '/')
    joined = xstrdup (dest);
  else
    joined = xasprintf ("/%s/%s", workdir ? workdir : "", dest);
  return fs_path_clean (joined);
}

int copy_prepare (const struct copy_request *r, struct copy_job **out, berr_t *err)
{
  struct copy_job *j = xzalloc (sizeof *j);
  j->src_root = -1;
  j->instr = xstrdup (r->instr ? r->instr : r->add ? "ADD" : "COPY");
  j->from_context = r->from_context;
  j->add = r->add;
  const char *dest = r->dest ? r->dest : "";
  j->dest = normalize_dest (r->workdir, dest);
  j->dest_slash = str_has_suffix (dest, "/");
  int ret = -1;
  if (r->chown && r->chown[0])
    {
      const char *c1 = strchr (r->chown, ':');
      if (c1 && strchr (c1 + 1, ':'))
        {
          berr_setk (err, BERR_INVALID, 0, "invalid chown string format: %s", r->chown);
          goto out;
        }
      j->chown = xstrdup (r->chown);
    }
  if (r->chmod && r->chmod[0])
    {
      if (parse_chmod (r->chmod, &j->chmod, err) < 0)
        goto out;
      j->has_chmod = true;
    }
  size_t nsrc = strv_len (r->sources);
  if (r->checksum && r->checksum[0])
    {
      if (!r->add)
        {
          berr_setk (err, BERR_INVALID, 0, "checksum is only supported for ADD");
          goto out;
        }
      if (nsrc != 1 || r->n_inline)
        {
          berr_setk (err, BERR_INVALID, 0, "checksum can't be specified for multiple sources");
          goto out;
        }
      if (!copy_is_url (r->sources[0]))
        {
          berr_setk (err, BERR_INVALID, 0, "checksum can't be specified for non-HTTP(S) sources");
          goto out;
        }
      if (!str_has_prefix (r->checksum, "sha256:"))
        {
          berr_setk (err, BERR_INVALID, 0, "unsupported digest algorithm in checksum %s",
                     r->checksum);
          goto out;
        }
      if (!digest_is_valid (r->checksum))
        {
          berr_setk (err, BERR_INVALID, 0, "invalid checksum digest format: %s", r->checksum);
          goto out;
        }
    }
  j->src_root = fcntl (r->src_root, F_DUPFD_CLOEXEC, 3);
  if (j->src_root < 0)
    {
      berr_set (err, errno, "%s: source root", j->instr);
      goto out;
    }
  for (size_t i = 0; i < r->n_inline; i++)
    {
      struct copy_src *s = new_src (j, COPY_SRC_INLINE, r->inline_srcs[i].name);
      s->name = xstrdup (r->inline_srcs[i].name);
      s->content = xmalloc (r->inline_srcs[i].len + 1);
      memcpy (s->content, r->inline_srcs[i].content, r->inline_srcs[i].len);
      s->content[r->inline_srcs[i].len] = '\0';
      s->len = r->inline_srcs[i].len;
      j->files++;
      j->bytes += s->len;
    }
  for (size_t i = 0; i < nsrc; i++)
    if (add_source_word (j, r, r->sources[i], err) < 0)
      goto out;
  if (j->n_srcs == 0)
    {
      berr_setk (err, BERR_INVALID, 0, "%s failed: no source files were specified", j->instr);
      goto out;
    }
  if (j->n_srcs > 1 && !j->dest_slash)
    {
      berr_setk (err, BERR_INVALID, 0,
                 "When using %s with more than one source file, the destination must be a "
                 "directory and end with a /",
                 j->instr);
      goto out;
    }
  *out = steal_pointer (&j);
  ret = 0;
out:
  copy_job_free (j);
  return ret;
}

/* Open a regular file of a PATH source for reading, nothing followed below the source. */
int copy_open_src_file (const struct copy_src *s, const char *sub)
{
  if (sub[0] == '\0')
    {
      char p[64];
      snprintf (p, sizeof p, "/proc/self/fd/%d", s->fd);
      return open (p, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    }
  return copy_open_beneath (s->fd, sub, O_RDONLY | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK);
}

static int hash_fd (struct sha256 *h, int fd)
{
  char buf[65536];
  for (;;)
    {
      ssize_t n = read (fd, buf, sizeof buf);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        return -1;
      if (n == 0)
        return 0;
      sha256_update (h, buf, (size_t)n);
    }
}

static void hash_str (struct sha256 *h, const char *s)
{
  s = s ? s : "";
  sha256_update (h, s, strlen (s) + 1);
}

static void hash_fmt (struct sha256 *h, const char *fmt, ...) PRINTF_LIKE (2, 3);
static void hash_fmt (struct sha256 *h, const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  cleanup_free char *s = xvasprintf (fmt, ap);
  va_end (ap);
  hash_str (h, s);
}

int copy_job_hash (struct copy_job *j, char out[DIGEST_STR_LEN], berr_t *err)
{
  struct sha256 h;
  sha256_init (&h);
  hash_fmt (&h, "berth-copy-v1 %s", j->add ? "ADD" : "COPY");
  hash_str (&h, j->dest);
  hash_fmt (&h, "%d", j->dest_slash);
  hash_str (&h, j->chown);
  hash_fmt (&h, "%d %o", j->has_chmod, (unsigned)j->chmod);
  for (size_t i = 0; i < j->n_srcs; i++)
    {
      struct copy_src *s = &j->srcs[i];
      hash_fmt (&h, "src %d %d", s->kind, s->archive);
      hash_str (&h, s->name);
      if (s->kind == COPY_SRC_INLINE)
        {
          char d[DIGEST_STR_LEN];
          sha256_digest (s->content, s->len, d);
          hash_str (&h, d);
          continue;
        }
      if (s->kind == COPY_SRC_URL)
        {
          hash_str (&h, s->digest);
          continue;
        }
      hash_str (&h, s->rel);
      for (size_t k = 0; k < s->n_entries; k++)
        {
          const struct copy_entry *e = &s->entries[k];
          hash_str (&h, e->sub);
          hash_fmt (&h, "%o %o %d", (unsigned)(e->st.st_mode & S_IFMT),
                    (unsigned)(e->st.st_mode & 07777), e->implicit);
          if (!j->from_context)
            hash_fmt (&h, "%u:%u", (unsigned)e->st.st_uid, (unsigned)e->st.st_gid);
          if (S_ISLNK (e->st.st_mode))
            hash_str (&h, e->link);
          if (S_ISCHR (e->st.st_mode) || S_ISBLK (e->st.st_mode))
            hash_fmt (&h, "%llu", (unsigned long long)e->st.st_rdev);
          if (!S_ISREG (e->st.st_mode))
            continue;
          hash_fmt (&h, "%lld", (long long)e->st.st_size);
          cleanup_close int fd = copy_open_src_file (s, e->sub);
          if (fd < 0 || hash_fd (&h, fd) < 0)
            {
              int saved = errno;
              sha256_release (&h);
              return berr_set (err, saved, "%s: hash %s%s%s", j->instr, s->rel,
                               e->sub[0] ? "/" : "", e->sub);
            }
        }
    }
  sha256_final (&h, out);
  return 0;
}

int copy_job_run (struct copy_job *j, int dst_root, int lookup_root, int64_t clamp_mtime,
                  berr_t *err)
{
  return copy_write_job (j, dst_root, lookup_root < 0 ? dst_root : lookup_root, clamp_mtime, err);
}
