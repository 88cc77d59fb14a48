/* test_cp.c — `berth cp`'s core (src/container/cp.h): Docker's path rules, the tar names of each
 * SRC form, each DEST form both ways, ownership with and without -a, mounts, overwrite rules,
 * special files, and the escapes: symlinks to "/" or "../../..", hostile tar names, and a
 * container racing renameat2(RENAME_EXCHANGE) of a directory with a symlink to "/" while cp
 * runs (CVE-2018-15664).
 *
 * Every test works in its own mkdtemp directory: "rootfs" plays the container's root, "host"
 * holds a sentinel file that no copy may read or change (the escapes aim at it), "src" and "out"
 * are the host side, "vol" a volume's source. Ownership and device tests need root. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "container/cp.h"
#include "util/fs.h"
#include "util/json.h"
#include "util/util.h"

#define SECRET "HOST-SECRET"
#define MTIME 1500000000

struct fx
{
  char tmp[64];
  char root[128], host[128], src[128], out[128], vol[128];
  const char *hostrel; /* host without its leading "/" */
  struct cp_fs *fs;
};

static void put (const char *dir, const char *rel, const char *content, mode_t mode);

static int setup (void **state)
{
  struct fx *f = xzalloc (sizeof *f);
  snprintf (f->tmp, sizeof f->tmp, "/tmp/berth-cp-XXXXXX");
  if (mkdtemp (f->tmp) == NULL)
    return -1;
  snprintf (f->root, sizeof f->root, "%s/rootfs", f->tmp);
  snprintf (f->host, sizeof f->host, "%s/host", f->tmp);
  snprintf (f->src, sizeof f->src, "%s/src", f->tmp);
  snprintf (f->out, sizeof f->out, "%s/out", f->tmp);
  snprintf (f->vol, sizeof f->vol, "%s/vol", f->tmp);
  const char *dirs[] = { f->root, f->host, f->src, f->out, f->vol };
  for (size_t i = 0; i < ARRAY_SIZE (dirs); i++)
    if (mkdir (dirs[i], 0755) < 0)
      return -1;
  f->hostrel = f->host + 1;
  put (f->host, "secret", SECRET, 0644);
  berr_t lerr = BERR_INIT;
  if (cp_fs_open_container (f->root, NULL, false, &f->fs, &lerr) < 0)
    return -1;
  *state = f;
  return 0;
}

static int teardown (void **state)
{
  struct fx *f = *state;
  cp_fs_free (f->fs);
  berr_t lerr = BERR_INIT;
  int r = fs_rm_rf (f->tmp, &lerr);
  berr_release (&lerr);
  free (f);
  return r;
}

static bool is_root (void) { return geteuid () == 0; }

/* ---- files ---- */

static void mkdirs (const char *dir, const char *rel)
{
  cleanup_free char *p = xasprintf ("%s/%s", dir, rel);
  berr_t lerr = BERR_INIT;
  if (fs_mkdir_p (p, 0755, &lerr) < 0)
    fail_msg ("mkdir %s: %s", p, lerr.msg);
}

static void put (const char *dir, const char *rel, const char *content, mode_t mode)
{
  cleanup_free char *p = xasprintf ("%s/%s", dir, rel);
  cleanup_free char *parent = xstrdup (p);
  *strrchr (parent, '/') = '\0';
  berr_t lerr = BERR_INIT;
  if (fs_mkdir_p (parent, 0755, &lerr) < 0)
    fail_msg ("mkdir %s: %s", parent, lerr.msg);
  int fd = open (p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  assert_true (fd >= 0);
  assert_int_equal (fs_write_all (fd, content, strlen (content)), 0);
  assert_int_equal (fchmod (fd, mode), 0);
  close (fd);
}

static void link_at (const char *dir, const char *rel, const char *target)
{
  cleanup_free char *p = xasprintf ("%s/%s", dir, rel);
  assert_int_equal (symlink (target, p), 0);
}

/* The file's contents, or NULL when it cannot be read. */
static char *get (const char *dir, const char *rel)
{
  cleanup_free char *p = xasprintf ("%s/%s", dir, rel);
  char *data = NULL;
  size_t len;
  berr_t lerr = BERR_INIT;
  if (fs_read_file (p, 1 << 20, &data, &len, &lerr) < 0)
    {
      berr_release (&lerr);
      return NULL;
    }
  return data;
}

static void assert_file (const char *dir, const char *rel, const char *content)
{
  cleanup_free char *got = get (dir, rel);
  if (got == NULL || strcmp (got, content) != 0)
    fail_msg ("%s/%s: want \"%s\", got \"%s\"", dir, rel, content, got ? got : "(unreadable)");
}

static struct stat lstat_of (const char *dir, const char *rel)
{
  cleanup_free char *p = xasprintf ("%s/%s", dir, rel);
  struct stat st;
  if (lstat (p, &st) < 0)
    fail_msg ("lstat %s: %s", p, strerror (errno));
  return st;
}

static bool exists (const char *dir, const char *rel)
{
  cleanup_free char *p = xasprintf ("%s/%s", dir, rel);
  struct stat st;
  return lstat (p, &st) == 0;
}

/* The sentinel directory holds exactly its one file, unchanged. */
static void assert_host_untouched (struct fx *f)
{
  DIR *d = opendir (f->host);
  assert_non_null (d);
  struct dirent *de;
  int n = 0;
  while ((de = readdir (d)) != NULL)
    {
      if (strcmp (de->d_name, ".") == 0 || strcmp (de->d_name, "..") == 0)
        continue;
      if (strcmp (de->d_name, "secret") != 0)
        fail_msg ("a copy wrote %s/%s on the host", f->host, de->d_name);
      n++;
    }
  closedir (d);
  assert_int_equal (n, 1);
  assert_file (f->host, "secret", SECRET);
  struct stat st = lstat_of (f->host, "secret");
  assert_int_equal (st.st_mode & 07777, 0644);
  assert_int_equal (st.st_uid, geteuid ());
}

/* ---- tars in memory ---- */

static int membuf_write (void *cookie, const void *buf, size_t len)
{
  sbuf_add (cookie, buf, len);
  return 0;
}

struct tent
{
  char *name;
  mode_t type;
  int64_t uid, gid;
  mode_t perm;
  int64_t mtime;
  char *link;     /* symlink target */
  char *hardlink; /* hard link target */
  char *data;
};

struct tarlist
{
  struct tent *v;
  size_t n;
};

static void tarlist_free (struct tarlist *l)
{
  for (size_t i = 0; i < l->n; i++)
    {
      free (l->v[i].name);
      free (l->v[i].link);
      free (l->v[i].hardlink);
      free (l->v[i].data);
    }
  free (l->v);
  memset (l, 0, sizeof *l);
}

static struct tarlist parse_tar (const char *buf, size_t len)
{
  struct tarlist l = { 0 };
  struct archive *a = archive_read_new ();
  archive_read_support_format_tar (a);
  archive_read_support_format_empty (a);
  assert_int_equal (archive_read_open_memory (a, buf, len), ARCHIVE_OK);
  struct archive_entry *e;
  int r;
  while ((r = archive_read_next_header (a, &e)) == ARCHIVE_OK)
    {
      l.v = xrealloc (l.v, (l.n + 1) * sizeof *l.v);
      struct tent *t = &l.v[l.n++];
      memset (t, 0, sizeof *t);
      t->name = xstrdup (archive_entry_pathname (e));
      t->type = archive_entry_filetype (e);
      t->uid = archive_entry_uid (e);
      t->gid = archive_entry_gid (e);
      t->perm = archive_entry_perm (e);
      t->mtime = archive_entry_mtime (e);
      if (archive_entry_symlink (e))
        t->link = xstrdup (archive_entry_symlink (e));
      if (archive_entry_hardlink (e))
        t->hardlink = xstrdup (archive_entry_hardlink (e));
      struct sbuf d;
      sbuf_init (&d);
      char chunk[4096];
      la_ssize_t n;
      while ((n = archive_read_data (a, chunk, sizeof chunk)) > 0)
        sbuf_add (&d, chunk, (size_t)n);
      t->data = sbuf_detach (&d);
    }
  assert_int_equal (r, ARCHIVE_EOF);
  archive_read_free (a);
  return l;
}

static char *names_of (const struct tarlist *l)
{
  struct sbuf b;
  sbuf_init (&b);
  for (size_t i = 0; i < l->n; i++)
    sbuf_addf (&b, "%s%s", i ? "," : "", l->v[i].name);
  return sbuf_detach (&b);
}

static const struct tent *find (const struct tarlist *l, const char *name)
{
  for (size_t i = 0; i < l->n; i++)
    if (strcmp (l->v[i].name, name) == 0)
      return &l->v[i];
  fail_msg ("no entry %s in the archive", name);
  return NULL;
}

/* cp_fs_archive into memory; returns 0/-1 (err set). */
static int archive_mem (struct cp_fs *fs, const char *path, const char *top, struct sbuf *out,
                        uint64_t *bytes, berr_t *err)
{
  sbuf_init (out);
  struct cp_sink sink = { membuf_write, out, 0 };
  int r = cp_fs_archive (fs, path, top, &sink, err);
  if (bytes)
    *bytes = sink.bytes;
  return r;
}

/* Names of the archive of path, "," separated; fails the test when archiving fails. */
static char *archive_names (struct cp_fs *fs, const char *path)
{
  struct sbuf out;
  berr_t lerr = BERR_INIT;
  if (archive_mem (fs, path, NULL, &out, NULL, &lerr) < 0)
    fail_msg ("archive %s: %s", path, lerr.msg);
  struct tarlist l = parse_tar (out.buf, out.len);
  char *names = names_of (&l);
  tarlist_free (&l);
  sbuf_release (&out);
  return names;
}

static void assert_names (struct cp_fs *fs, const char *path, const char *want)
{
  cleanup_free char *got = archive_names (fs, path);
  if (strcmp (got, want) != 0)
    fail_msg ("archive of %s: want [%s], got [%s]", path, want, got);
}

/* Building tars: libarchive keeps hostile names as given. */
struct tb
{
  struct archive *a;
  struct sbuf out;
};

static la_ssize_t tb_write_cb (struct archive *a, void *cookie, const void *buf, size_t len)
{
  sbuf_add (cookie, buf, len);
  return (la_ssize_t)len;
}

static void tb_init (struct tb *t, const char *filter)
{
  sbuf_init (&t->out);
  t->a = archive_write_new ();
  assert_int_equal (archive_write_set_format_pax_restricted (t->a), ARCHIVE_OK);
  if (filter)
    assert_int_equal (archive_write_add_filter_by_name (t->a, filter), ARCHIVE_OK);
  assert_int_equal (archive_write_open (t->a, &t->out, NULL, tb_write_cb, NULL), ARCHIVE_OK);
}

static void tb_add (struct tb *t, const char *name, mode_t type, mode_t perm, const char *data,
                    const char *link, const char *hardlink, int64_t uid)
{
  struct archive_entry *e = archive_entry_new ();
  archive_entry_copy_pathname (e, name);
  archive_entry_set_filetype (e, type);
  archive_entry_set_perm (e, perm);
  archive_entry_set_mtime (e, MTIME, 0);
  archive_entry_set_uid (e, uid);
  archive_entry_set_gid (e, uid);
  if (link)
    archive_entry_copy_symlink (e, link);
  if (hardlink)
    archive_entry_copy_hardlink (e, hardlink);
  size_t len = data ? strlen (data) : 0;
  archive_entry_set_size (e, (la_int64_t)len);
  assert_true (archive_write_header (t->a, e) >= ARCHIVE_WARN);
  if (len)
    assert_int_equal (archive_write_data (t->a, data, len), (la_ssize_t)len);
  archive_entry_free (e);
}

#define TB_FILE(t, name, data) tb_add (t, name, AE_IFREG, 0644, data, NULL, NULL, 0)
#define TB_DIR(t, name) tb_add (t, name, AE_IFDIR, 0755, NULL, NULL, NULL, 0)
#define TB_LINK(t, name, target) tb_add (t, name, AE_IFLNK, 0777, NULL, target, NULL, 0)
#define TB_HARD(t, name, target) tb_add (t, name, AE_IFREG, 0644, NULL, NULL, target, 0)

/* The tar as a readable fd (memfd at offset 0). */
static int tb_fd (struct tb *t)
{
  assert_int_equal (archive_write_close (t->a), ARCHIVE_OK);
  archive_write_free (t->a);
  int fd = memfd_create ("tar", MFD_CLOEXEC);
  assert_true (fd >= 0);
  assert_int_equal (fs_write_all (fd, t->out.buf, t->out.len), 0);
  assert_int_equal (lseek (fd, 0, SEEK_SET), 0);
  sbuf_release (&t->out);
  return fd;
}

/* Extract a tar built by the statements in ... into fs:dir; returns cp_fs_extract's result. */
#define EXTRACT(ret, fs, dir, opts, err, ...)                                                      \
  do                                                                                               \
    {                                                                                              \
      struct tb t_;                                                                                \
      tb_init (&t_, NULL);                                                                         \
      struct tb *t = &t_;                                                                          \
      __VA_ARGS__;                                                                                 \
      int fd_ = tb_fd (t);                                                                         \
      (ret) = cp_fs_extract ((fs), (dir), fd_, (opts), (err));                                     \
      close (fd_);                                                                                 \
    }                                                                                              \
  while (0)

/* ---- the CLI's two flows, as src/cli/cp.c strings them together ---- */

static int copy_in (struct fx *f, struct cp_fs *fs, const char *host_rel, const char *dst,
                    bool follow, bool archive, struct cp_result *res, berr_t *err)
{
  cleanup_free char *hp = xasprintf ("%s/%s", f->src, host_rel);
  cleanup_free char *src = cp_path_abs_local (hp);
  struct cp_info si = { 0 }, di = { 0 };
  cleanup_free char *dst_dir = NULL, *top = NULL;
  struct cp_extract_opts o = { .copy_uid_gid = archive };
  memset (res, 0, sizeof *res);
  int r = cp_container_dest_info (fs, dst, &di, err);
  if (r == 0)
    r = cp_host_source_info (src, follow, &si, err);
  if (r == 0)
    r = cp_prepare (&si, &di, &dst_dir, &top, err);
  if (r == 0)
    r = cp_copy_in (si.path, top, fs, dst_dir, &o, res, err);
  cp_info_release (&si);
  cp_info_release (&di);
  return r;
}

static int copy_out (struct fx *f, struct cp_fs *fs, const char *src, const char *host_rel,
                     bool follow, bool archive, struct cp_result *res, berr_t *err)
{
  cleanup_free char *hp = xasprintf ("%s/%s", f->out, host_rel);
  cleanup_free char *dst = cp_path_abs_local (hp);
  struct cp_info si = { 0 }, di = { 0 };
  cleanup_free char *dst_dir = NULL, *top = NULL;
  struct cp_extract_opts o = { .copy_uid_gid = archive };
  memset (res, 0, sizeof *res);
  int r = cp_container_source_info (fs, src, follow, &si, err);
  if (r == 0)
    r = cp_host_dest_info (dst, &di, err);
  if (r == 0)
    r = cp_prepare (&si, &di, &dst_dir, &top, err);
  if (r == 0)
    r = cp_copy_out (fs, si.path, top, dst_dir, &o, res, err);
  cp_info_release (&si);
  cp_info_release (&di);
  return r;
}

#define OK(expr)                                                                                   \
  do                                                                                               \
    {                                                                                              \
      berr_t e_ = BERR_INIT;                                                                       \
      berr_t *err = &e_;                                                                           \
      if ((expr) < 0)                                                                              \
        fail_msg ("%s: %s", #expr, e_.msg);                                                        \
      berr_release (&e_);                                                                          \
    }                                                                                              \
  while (0)

/* expr fails with a message containing want. */
#define FAILS(expr, want)                                                                          \
  do                                                                                               \
    {                                                                                              \
      berr_t e_ = BERR_INIT;                                                                       \
      berr_t *err = &e_;                                                                           \
      if ((expr) == 0)                                                                             \
        fail_msg ("%s: succeeded, want an error with \"%s\"", #expr, want);                        \
      if (e_.msg == NULL || strstr (e_.msg, want) == NULL)                                         \
        fail_msg ("%s: want \"%s\", got \"%s\"", #expr, want, e_.msg ? e_.msg : "(none)");         \
      berr_release (&e_);                                                                          \
    }                                                                                              \
  while (0)

/* ======================================================================================== */

static void test_path_rules (void **state)
{
  (void)state;
  static const char *const clean[][2] = {
    { "", "." },         { "/", "/" },         { "a/b/../c", "a/c" }, { "/../a", "/a" },
    { "../a", "../a" },  { "a/./b/", "a/b" },  { "//a//b", "/a/b" },  { "a/..", "." },
    { "a/../..", ".." }, { "/a/b/.", "/a/b" }, { ".", "." },          { "./a/", "a" },
  };
  for (size_t i = 0; i < ARRAY_SIZE (clean); i++)
    {
      cleanup_free char *c = fs_path_clean (clean[i][0]);
      if (strcmp (c, clean[i][1]) != 0)
        fail_msg ("clean(%s): want %s, got %s", clean[i][0], clean[i][1], c);
    }
  static const char *const split[][3] = {
    { "/a/b/.", "/a/b", "." }, { "/a/b/", "/a", "b" }, { "/a", "/", "a" },
    { "/", "/", "/" },         { "a", ".", "a" },      { "/.", "/", "." },
  };
  for (size_t i = 0; i < ARRAY_SIZE (split); i++)
    {
      cleanup_free char *d = NULL, *b = NULL;
      cp_path_split (split[i][0], &d, &b);
      if (strcmp (d, split[i][1]) != 0 || strcmp (b, split[i][2]) != 0)
        fail_msg ("split(%s): want %s %s, got %s %s", split[i][0], split[i][1], split[i][2], d, b);
    }
  static const char *const keep[][3] = {
    { "/a/b", "/a/b/.", "/a/b/." },
    { "/a/b", "/a/b/", "/a/b/" },
    { "/", "/.", "/." },
    { "/a", "/a", "/a" },
    { "/", "/", "/" },
    { "/a", "a/./", "/a/./" },
  };
  for (size_t i = 0; i < ARRAY_SIZE (keep); i++)
    {
      cleanup_free char *p = cp_path_preserve_trailing (keep[i][0], keep[i][1]);
      if (strcmp (p, keep[i][2]) != 0)
        fail_msg ("preserve(%s, %s): want %s, got %s", keep[i][0], keep[i][1], keep[i][2], p);
    }
  assert_true (cp_path_asserts_dir ("a/"));
  assert_true (cp_path_asserts_dir ("a/."));
  assert_true (cp_path_asserts_dir ("."));
  assert_false (cp_path_asserts_dir ("a"));
  assert_false (cp_path_asserts_dir ("a/.b"));

  cleanup_free char *r1 = NULL, *r2 = NULL, *r3 = NULL;
  cleanup_free char *n1 = cp_path_rebase_name ("/x/link/", "/x/real", &r1);
  assert_string_equal (r1, "/x/real/");
  assert_string_equal (n1, "link");
  cleanup_free char *n2 = cp_path_rebase_name ("/x/link", "/x/link", &r2);
  assert_null (n2);
  cleanup_free char *n3 = cp_path_rebase_name ("/x/l/.", "/x/real", &r3);
  assert_string_equal (r3, "/x/real/.");
  assert_null (n3);

  static const char *const top[][2] = { { "/etc/hostname", "hostname" },
                                        { "/d/", "d" },
                                        { "/d/.", "." },
                                        { "/", "." },
                                        { "d", "d" },
                                        { "", "." } };
  for (size_t i = 0; i < ARRAY_SIZE (top); i++)
    {
      cleanup_free char *t = cp_default_top (top[i][0]);
      if (strcmp (t, top[i][1]) != 0)
        fail_msg ("default top(%s): want %s, got %s", top[i][0], top[i][1], t);
    }

  cleanup_free char *abs = cp_path_abs_local ("/a/../b/.");
  assert_string_equal (abs, "/b/.");
  char cwd[4096];
  assert_non_null (getcwd (cwd, sizeof cwd));
  cleanup_free char *rel = cp_path_abs_local ("x/");
  cleanup_free char *want = xasprintf ("%s/x/", strcmp (cwd, "/") == 0 ? "" : cwd);
  assert_string_equal (rel, want);
}

static void prepare_case (const char *src, bool src_dir, const char *rebase, const char *dst,
                          bool dst_exists, bool dst_dir, const char *want_dir, const char *want_top,
                          const char *want_err)
{
  struct cp_info si = { (char *)src, true, src_dir, (char *)rebase };
  struct cp_info di = { (char *)dst, dst_exists, dst_dir, NULL };
  char *dir = NULL, *top = NULL;
  berr_t lerr = BERR_INIT;
  int r = cp_prepare (&si, &di, &dir, &top, &lerr);
  if (want_err)
    {
      if (r == 0 || strcmp (lerr.msg, want_err) != 0)
        fail_msg ("prepare %s -> %s: want error %s, got %s", src, dst, want_err,
                  r == 0 ? "success" : lerr.msg);
      berr_release (&lerr);
      return;
    }
  if (r < 0)
    fail_msg ("prepare %s -> %s: %s", src, dst, lerr.msg);
  assert_string_equal (dir, want_dir);
  if (want_top == NULL)
    assert_null (top);
  else
    assert_string_equal (top, want_top);
  free (dir);
  free (top);
}

static void test_prepare (void **state)
{
  (void)state;
  /* SRC is a file */
  prepare_case ("/s/f", false, NULL, "/d", true, true, "/d", NULL, NULL);
  prepare_case ("/s/f", false, NULL, "/d/x", true, false, "/d", "x", NULL);
  prepare_case ("/s/f", false, NULL, "/d/new", false, false, "/d", "new", NULL);
  prepare_case ("/s/f", false, NULL, "/d/new/", false, false, NULL, NULL, "no such directory");
  prepare_case ("/s/f", false, NULL, "/d/new/.", false, false, NULL, NULL, "no such directory");
  /* SRC is a directory */
  prepare_case ("/s/d", true, NULL, "/d", true, true, "/d", NULL, NULL);
  prepare_case ("/s/d", true, NULL, "/d/x", true, false, NULL, NULL, "cannot copy directory");
  prepare_case ("/s/d", true, NULL, "/d/new", false, false, "/d", "new", NULL);
  prepare_case ("/s/d", true, NULL, "/d/new/", false, false, "/d", "new", NULL);
  prepare_case ("/s/d/.", true, NULL, "/d", true, true, "/d", NULL, NULL);
  /* -L: the archive keeps the link's name */
  prepare_case ("/s/real", true, "lnk", "/d", true, true, "/d", "lnk", NULL);
  prepare_case ("/s/real", true, "lnk", "/d/n", false, false, "/d", "n", NULL);
}

/* A small container tree. */
static void make_tree (struct fx *f)
{
  put (f->root, "etc/hostname", "c1\n", 0644);
  put (f->root, "d/a", "A", 0600);
  put (f->root, "d/sub/b", "B", 0644);
  put (f->root, "d/hl1", "H", 0644);
  cleanup_free char *h1 = xasprintf ("%s/d/hl1", f->root);
  cleanup_free char *h2 = xasprintf ("%s/d/hl2", f->root);
  assert_int_equal (link (h1, h2), 0);
  link_at (f->root, "l", "d");
  link_at (f->root, "abs", "/etc");
}

static void test_archive_names (void **state)
{
  struct fx *f = *state;
  make_tree (f);
  assert_names (f->fs, "/etc/hostname", "hostname");
  assert_names (f->fs, "etc/hostname", "hostname");
  assert_names (f->fs, "/d", "d/,d/a,d/hl1,d/hl2,d/sub/,d/sub/b");
  assert_names (f->fs, "/d/", "d/,d/a,d/hl1,d/hl2,d/sub/,d/sub/b");
  assert_names (f->fs, "/d/.", "./,./a,./hl1,./hl2,./sub/,./sub/b");
  assert_names (f->fs, "/d/sub/..", "d/,d/a,d/hl1,d/hl2,d/sub/,d/sub/b");
  assert_names (f->fs, "/l", "l");
  /* "l/" follows the link and keeps its name, as Docker's daemon does */
  assert_names (f->fs, "/l/", "l/,l/a,l/hl1,l/hl2,l/sub/,l/sub/b");
  assert_names (f->fs, "/abs/hostname", "hostname");
  assert_names (f->fs, "/",
                "./,./abs,./d/,./d/a,./d/hl1,./d/hl2,./d/sub/,./d/sub/b,./etc/,"
                "./etc/hostname,./l");

  struct sbuf out;
  uint64_t bytes = 0;
  OK (archive_mem (f->fs, "/d", NULL, &out, &bytes, err));
  assert_int_equal (bytes, out.len);
  struct tarlist l = parse_tar (out.buf, out.len);
  assert_int_equal (find (&l, "d/")->type, AE_IFDIR);
  assert_string_equal (find (&l, "d/a")->data, "A");
  assert_int_equal (find (&l, "d/a")->perm, 0600);
  assert_null (find (&l, "d/hl1")->hardlink);
  assert_string_equal (find (&l, "d/hl2")->hardlink, "d/hl1");
  tarlist_free (&l);
  sbuf_release (&out);

  OK (archive_mem (f->fs, "/l", NULL, &out, NULL, err));
  l = parse_tar (out.buf, out.len);
  assert_int_equal (l.v[0].type, AE_IFLNK);
  assert_string_equal (l.v[0].link, "d");
  tarlist_free (&l);
  sbuf_release (&out);

  /* A renamed top, for the copy rules. */
  OK (archive_mem (f->fs, "/d/.", "renamed", &out, NULL, err));
  l = parse_tar (out.buf, out.len);
  cleanup_free char *names = names_of (&l);
  assert_string_equal (names, "renamed/,renamed/a,renamed/hl1,renamed/hl2,renamed/sub/,"
                              "renamed/sub/b");
  tarlist_free (&l);
  sbuf_release (&out);

  /* Docker's size: one 3-byte file is a 512-byte header, one data block and the 1024-byte
   * end, like Go's archive/tar writes it ("Successfully copied 2.05kB"). */
  OK (archive_mem (f->fs, "/etc/hostname", NULL, &out, &bytes, err));
  assert_int_equal (bytes, 2048);
  sbuf_release (&out);

  berr_t lerr = BERR_INIT;
  assert_int_equal (archive_mem (f->fs, "/nope", NULL, &out, NULL, &lerr), -1);
  assert_int_equal (lerr.kind, BERR_NOT_FOUND);
  berr_release (&lerr);
  sbuf_release (&out);
  FAILS (archive_mem (f->fs, "/etc/hostname/", NULL, &out, NULL, err), "Not a directory");
  sbuf_release (&out);
  FAILS (archive_mem (f->fs, "/nope/x", NULL, &out, NULL, err), "No such file");
  sbuf_release (&out);

  /* The stat that Docker's CLI asks for. */
  struct cp_stat st;
  OK (cp_fs_stat (f->fs, "/l", &st, err));
  assert_true (S_ISLNK (st.mode));
  assert_string_equal (st.link_target, "d");
  assert_string_equal (st.path, "/l");
  cp_stat_release (&st);
  OK (cp_fs_stat (f->fs, "/abs/./", &st, err));
  assert_true (S_ISDIR (st.mode));
  assert_string_equal (st.path, "/etc");
  cp_stat_release (&st);
}

/* Symlinks in the container pointing at "/", "../../..", or the host's absolute path are
 * followed inside the container only. */
static void test_escape_out (void **state)
{
  struct fx *f = *state;
  make_tree (f);
  link_at (f->root, "esc", "/");
  link_at (f->root, "rel", "../../../../../../../../../..");
  link_at (f->root, "hl", f->host);
  link_at (f->root, "etc/deep", "../../../../../../../..");
  const char *paths[]
      = { "/esc/%s/secret", "/rel/%s/secret",      "/hl/secret",          "/esc/%s",
          "/hl/",           "/etc/deep/%s/secret", "/../../../%s/secret", "/d/../../../%s/secret" };
  for (size_t i = 0; i < ARRAY_SIZE (paths); i++)
    {
      cleanup_free char *p = xasprintf (paths[i], f->hostrel);
      struct sbuf out;
      berr_t lerr = BERR_INIT;
      int r = archive_mem (f->fs, p, NULL, &out, NULL, &lerr);
      if (r == 0 && memmem (out.buf, out.len, SECRET, strlen (SECRET)))
        fail_msg ("archive of %s read the host's file", p);
      /* Nothing at that path inside the container. */
      assert_int_equal (r, -1);
      assert_int_equal (lerr.kind, BERR_NOT_FOUND);
      berr_release (&lerr);
      sbuf_release (&out);
    }
  /* The same inside the container finds the container's file, not the host's. */
  cleanup_free char *inside = xasprintf ("%s/secret", f->hostrel);
  put (f->root, inside, "CONTAINER", 0644);
  cleanup_free char *p = xasprintf ("/esc/%s/secret", f->hostrel);
  struct sbuf out;
  OK (archive_mem (f->fs, p, NULL, &out, NULL, err));
  struct tarlist l = parse_tar (out.buf, out.len);
  assert_string_equal (l.v[0].data, "CONTAINER");
  tarlist_free (&l);
  sbuf_release (&out);
  cleanup_free char *hl = xasprintf ("/hl/secret");
  OK (archive_mem (f->fs, hl, NULL, &out, NULL, err));
  l = parse_tar (out.buf, out.len);
  assert_string_equal (l.v[0].data, "CONTAINER");
  tarlist_free (&l);
  sbuf_release (&out);

  /* A whole copy of the tree to the host: the links arrive as links, never followed. */
  struct cp_result res;
  OK (copy_out (f, f->fs, "/", "all", false, false, &res, err));
  char target[256];
  cleanup_free char *esc = xasprintf ("%s/all/esc", f->out);
  ssize_t n = readlink (esc, target, sizeof target - 1);
  assert_true (n > 0);
  target[n] = '\0';
  assert_string_equal (target, "/");
  assert_file (f->out, "all/etc/hostname", "c1\n");
  assert_host_untouched (f);
}

static void test_escape_in (void **state)
{
  struct fx *f = *state;
  link_at (f->root, "esc", "/");
  link_at (f->root, "hl", f->host);
  link_at (f->root, "rel", "../../../../../../..");
  cleanup_free char *hl2 = xasprintf ("%s/secret", f->host);
  link_at (f->root, "hl2", hl2);
  int r;
  berr_t lerr = BERR_INIT;

  /* The destination leads nowhere inside the container: not found, not the host's dir. */
  cleanup_free char *via_esc = xasprintf ("/esc/%s", f->hostrel);
  EXTRACT (r, f->fs, via_esc, NULL, &lerr, TB_FILE (t, "pwn", "X"));
  assert_int_equal (r, -1);
  assert_int_equal (lerr.kind, BERR_NOT_FOUND);
  berr_release (&lerr);
  EXTRACT (r, f->fs, "/hl", NULL, &lerr, TB_FILE (t, "pwn", "X"));
  assert_int_equal (r, -1);
  berr_release (&lerr);
  assert_host_untouched (f);

  /* Once the path exists in the container, that is where things go. */
  mkdirs (f->root, f->hostrel);
  EXTRACT (r, f->fs, via_esc, NULL, &lerr, TB_FILE (t, "pwn", "X"));
  assert_int_equal (r, 0);
  cleanup_free char *pwn = xasprintf ("%s/pwn", f->hostrel);
  assert_file (f->root, pwn, "X");
  EXTRACT (r, f->fs, "/hl", NULL, &lerr, TB_FILE (t, "pwn1", "X1"));
  assert_int_equal (r, 0);
  cleanup_free char *pwn1 = xasprintf ("%s/pwn1", f->hostrel);
  assert_file (f->root, pwn1, "X1");

  /* Entries whose parents run through the links, or through links the tar itself made. */
  cleanup_free char *e2 = xasprintf ("esc/%s/pwn2", f->hostrel);
  cleanup_free char *e3 = xasprintf ("x/%s/pwn3", f->hostrel);
  cleanup_free char *e4 = xasprintf ("y/%s/pwn4", f->hostrel);
  cleanup_free char *e5 = xasprintf ("rel/%s/pwn5", f->hostrel);
  EXTRACT (r, f->fs, "/", NULL, &lerr, TB_FILE (t, e2, "2"); TB_LINK (t, "x", "/");
           TB_FILE (t, e3, "3"); TB_LINK (t, "y", "../../../../../../../../..");
           TB_FILE (t, e4, "4"); TB_FILE (t, e5, "5"));
  if (r < 0)
    fail_msg ("extract: %s", lerr.msg);
  for (int i = 2; i <= 5; i++)
    {
      cleanup_free char *rel = xasprintf ("%s/pwn%d", f->hostrel, i);
      cleanup_free char *want = xasprintf ("%d", i);
      assert_file (f->root, rel, want);
    }
  /* A symlink already in the container is replaced, not written through. */
  EXTRACT (r, f->fs, "/", NULL, &lerr, TB_FILE (t, "hl2", "OVER"));
  assert_int_equal (r, 0);
  assert_true (S_ISREG (lstat_of (f->root, "hl2").st_mode));
  assert_file (f->root, "hl2", "OVER");
  /* A hard link to a path outside: looked up inside, where there is nothing. */
  cleanup_free char *ht = xasprintf ("esc/%s/secret", f->hostrel);
  EXTRACT (r, f->fs, "/", NULL, &lerr, TB_HARD (t, "hard", ht));
  assert_int_equal (r, -1);
  berr_release (&lerr);
  /* Through a host-side copy too. */
  put (f->src, "in.txt", "IN", 0644);
  struct cp_result res;
  cleanup_free char *dst = xasprintf ("/hl/");
  OK (copy_in (f, f->fs, "in.txt", dst, false, false, &res, err));
  cleanup_free char *in = xasprintf ("%s/in.txt", f->hostrel);
  assert_file (f->root, in, "IN");
  assert_host_untouched (f);
}

static void test_dotdot_rejected (void **state)
{
  struct fx *f = *state;
  mkdirs (f->root, "a/b");
  int r;
  berr_t lerr = BERR_INIT;
  const char *bad[] = { "../evil", "a/../../evil", "/abs-evil", "a/b/../../../evil", "./../evil" };
  for (size_t i = 0; i < ARRAY_SIZE (bad); i++)
    {
      EXTRACT (r, f->fs, "/a", NULL, &lerr, TB_FILE (t, "ok", "ok"); TB_FILE (t, bad[i], "x"));
      if (r != -1 || lerr.kind != BERR_INVALID || strstr (lerr.msg, "outside") == NULL)
        fail_msg ("entry %s: want a refusal, got %s", bad[i], r == 0 ? "success" : lerr.msg);
      berr_release (&lerr);
    }
  EXTRACT (r, f->fs, "/a", NULL, &lerr, TB_HARD (t, "h", "../../host/secret"));
  assert_int_equal (r, -1);
  assert_non_null (strstr (lerr.msg, "outside"));
  berr_release (&lerr);
  EXTRACT (r, f->fs, "/a", NULL, &lerr, TB_HARD (t, "h", "/etc/passwd"));
  assert_int_equal (r, -1);
  berr_release (&lerr);
  assert_false (exists (f->tmp, "evil"));
  assert_false (exists (f->root, "evil"));
  assert_false (exists ("/", "abs-evil"));
  assert_false (exists (f->root, "a/h"));
  assert_host_untouched (f);
}

static void test_copy_in_forms (void **state)
{
  struct fx *f = *state;
  put (f->src, "f.txt", "hello", 0640);
  put (f->src, "sd/x", "X", 0644);
  put (f->src, "sd/sub/y", "Y", 0644);
  link_at (f->src, "lnk", "sd");
  mkdirs (f->root, "tmp/merge");
  mkdirs (f->root, "tmp2");
  mkdirs (f->root, "tmp/target_dir");
  put (f->root, "tmp/exist.txt", "old", 0644);
  put (f->root, "tmp/merge/keep", "K", 0644);
  link_at (f->root, "tmp/dl", "/tmp/target_dir");
  link_at (f->root, "tmp/dangling", "newfile");
  struct cp_result res;

  OK (copy_in (f, f->fs, "f.txt", "/tmp", false, false, &res, err));
  assert_file (f->root, "tmp/f.txt", "hello");
  assert_int_equal (lstat_of (f->root, "tmp/f.txt").st_mode & 07777, 0640);
  assert_int_equal (res.tar_bytes, 2048);
  OK (copy_in (f, f->fs, "f.txt", "tmp/new.txt", false, false, &res, err));
  assert_file (f->root, "tmp/new.txt", "hello");
  OK (copy_in (f, f->fs, "f.txt", "/tmp/exist.txt", false, false, &res, err));
  assert_file (f->root, "tmp/exist.txt", "hello");
  FAILS (copy_in (f, f->fs, "f.txt", "/tmp/nodir/", false, false, &res, err), "no such directory");
  OK (copy_in (f, f->fs, "sd", "/tmp", false, false, &res, err));
  assert_file (f->root, "tmp/sd/x", "X");
  assert_file (f->root, "tmp/sd/sub/y", "Y");
  OK (copy_in (f, f->fs, "sd", "/newdir", false, false, &res, err));
  assert_file (f->root, "newdir/x", "X");
  assert_file (f->root, "newdir/sub/y", "Y");
  OK (copy_in (f, f->fs, "sd/", "/newdir2/", false, false, &res, err));
  assert_file (f->root, "newdir2/x", "X");
  FAILS (copy_in (f, f->fs, "sd", "/tmp/exist.txt", false, false, &res, err),
         "cannot copy directory");
  OK (copy_in (f, f->fs, "sd/.", "/tmp/merge", false, false, &res, err));
  assert_file (f->root, "tmp/merge/x", "X");
  assert_file (f->root, "tmp/merge/sub/y", "Y");
  assert_file (f->root, "tmp/merge/keep", "K");
  /* A symlink source: itself, or with -L what it points to under its own name. */
  OK (copy_in (f, f->fs, "lnk", "/tmp", false, false, &res, err));
  assert_true (S_ISLNK (lstat_of (f->root, "tmp/lnk").st_mode));
  OK (copy_in (f, f->fs, "lnk", "/tmp2", true, false, &res, err));
  assert_true (S_ISDIR (lstat_of (f->root, "tmp2/lnk").st_mode));
  assert_file (f->root, "tmp2/lnk/x", "X");
  OK (copy_in (f, f->fs, "lnk", "/tmp2/named", true, false, &res, err));
  assert_file (f->root, "tmp2/named/sub/y", "Y");
  /* A symlink destination: where it points, even where nothing is yet. */
  OK (copy_in (f, f->fs, "f.txt", "/tmp/dl", false, false, &res, err));
  assert_file (f->root, "tmp/target_dir/f.txt", "hello");
  OK (copy_in (f, f->fs, "f.txt", "/tmp/dangling", false, false, &res, err));
  assert_file (f->root, "tmp/newfile", "hello");
  assert_true (S_ISLNK (lstat_of (f->root, "tmp/dangling").st_mode));
  /* The extraction point must exist in the container. */
  berr_t lerr = BERR_INIT;
  assert_int_equal (copy_in (f, f->fs, "f.txt", "/nope/x", false, false, &res, &lerr), -1);
  assert_int_equal (lerr.kind, BERR_NOT_FOUND);
  assert_true (res.container_error);
  berr_release (&lerr);
  /* A missing host source. */
  assert_int_equal (copy_in (f, f->fs, "nope", "/tmp", false, false, &res, &lerr), -1);
  assert_non_null (strstr (lerr.msg, "lstat"));
  assert_false (res.container_error);
  berr_release (&lerr);
  /* Straight into a file: "extraction point is not a directory". */
  int r;
  EXTRACT (r, f->fs, "/tmp/exist.txt", NULL, &lerr, TB_FILE (t, "x", "x"));
  assert_int_equal (r, -1);
  assert_string_equal (lerr.msg, "extraction point is not a directory");
  berr_release (&lerr);
  if (is_root ())
    {
      mkdirs (f->root, "dev");
      cleanup_free char *null = xasprintf ("%s/dev/null", f->root);
      assert_int_equal (mknod (null, S_IFCHR | 0666, makedev (1, 3)), 0);
      FAILS (copy_in (f, f->fs, "f.txt", "/dev/null", false, false, &res, err), "got a device");
    }
}

static void test_copy_out_forms (void **state)
{
  struct fx *f = *state;
  make_tree (f);
  put (f->out, "exists", "old", 0644);
  put (f->out, "m/keep", "K", 0644);
  mkdirs (f->out, "tdir");
  cleanup_free char *tdir = xasprintf ("%s/tdir", f->out);
  link_at (f->out, "dl", tdir);
  struct cp_result res;

  OK (copy_out (f, f->fs, "/etc/hostname", "", false, false, &res, err));
  assert_file (f->out, "hostname", "c1\n");
  assert_int_equal (res.tar_bytes, 2048);
  OK (copy_out (f, f->fs, "/etc/hostname", "newname", false, false, &res, err));
  assert_file (f->out, "newname", "c1\n");
  OK (copy_out (f, f->fs, "/etc/hostname", "exists", false, false, &res, err));
  assert_file (f->out, "exists", "c1\n");
  FAILS (copy_out (f, f->fs, "/etc/hostname", "nodir/", false, false, &res, err),
         "no such directory");
  OK (copy_out (f, f->fs, "/d", "", false, false, &res, err));
  assert_file (f->out, "d/a", "A");
  assert_file (f->out, "d/sub/b", "B");
  struct stat h1 = lstat_of (f->out, "d/hl1"), h2 = lstat_of (f->out, "d/hl2");
  assert_int_equal (h1.st_ino, h2.st_ino); /* still one file */
  OK (copy_out (f, f->fs, "/d", "dnew", false, false, &res, err));
  assert_file (f->out, "dnew/a", "A");
  FAILS (copy_out (f, f->fs, "/d", "exists", false, false, &res, err), "cannot copy directory");
  OK (copy_out (f, f->fs, "/d/.", "m", false, false, &res, err));
  assert_file (f->out, "m/a", "A");
  assert_file (f->out, "m/keep", "K");
  OK (copy_out (f, f->fs, "/l", "", false, false, &res, err));
  assert_true (S_ISLNK (lstat_of (f->out, "l").st_mode));
  OK (copy_out (f, f->fs, "/l", "lf", true, false, &res, err));
  assert_file (f->out, "lf/a", "A");
  OK (copy_out (f, f->fs, "/l", "tdir", true, false, &res, err));
  assert_file (f->out, "tdir/l/a", "A"); /* -L into a directory: under the link's name */
  OK (copy_out (f, f->fs, "/etc/hostname", "dl", false, false, &res, err));
  assert_file (f->out, "tdir/hostname", "c1\n");
  berr_t lerr = BERR_INIT;
  assert_int_equal (copy_out (f, f->fs, "/nope", "", false, false, &res, &lerr), -1);
  assert_int_equal (lerr.kind, BERR_NOT_FOUND);
  berr_release (&lerr);
  FAILS (copy_out (f, f->fs, "/etc/hostname", "missing/x", false, false, &res, err),
         "No such file");
  /* A directory over an existing file, and the reverse, inside the copy. */
  put (f->out, "clash/d/sub", "file", 0644);
  FAILS (copy_out (f, f->fs, "/d", "clash", false, false, &res, err),
         "cannot overwrite non-directory");
}

static void test_ownership (void **state)
{
  struct fx *f = *state;
  if (!is_root ())
    skip ();
  struct cp_result res;
  /* Into a container: root's, unless -a keeps the tar's ids. */
  put (f->src, "own", "o", 04755);
  cleanup_free char *own = xasprintf ("%s/own", f->src);
  assert_int_equal (lchown (own, 1234, 5678), 0);
  assert_int_equal (chmod (own, 04755), 0);
  struct timespec ts[2] = { { MTIME, 0 }, { MTIME, 0 } };
  assert_int_equal (utimensat (AT_FDCWD, own, ts, 0), 0);
  mkdirs (f->src, "odir");
  cleanup_free char *odir = xasprintf ("%s/odir", f->src);
  assert_int_equal (chown (odir, 1234, 5678), 0);
  assert_int_equal (chmod (odir, 0711), 0);
  assert_int_equal (utimensat (AT_FDCWD, odir, ts, 0), 0);
  mkdirs (f->root, "plain");
  mkdirs (f->root, "arch");
  OK (copy_in (f, f->fs, "own", "/plain", false, false, &res, err));
  OK (copy_in (f, f->fs, "odir", "/plain", false, false, &res, err));
  OK (copy_in (f, f->fs, "own", "/arch", false, true, &res, err));
  OK (copy_in (f, f->fs, "odir", "/arch", false, true, &res, err));
  struct stat st = lstat_of (f->root, "plain/own");
  assert_int_equal (st.st_uid, 0);
  assert_int_equal (st.st_gid, 0);
  assert_int_equal (st.st_mode & 07777, 04755);
  assert_int_equal (st.st_mtime, MTIME);
  st = lstat_of (f->root, "plain/odir");
  assert_int_equal (st.st_uid, 0);
  assert_int_equal (st.st_mode & 07777, 0711);
  assert_int_equal (st.st_mtime, MTIME);
  st = lstat_of (f->root, "arch/own");
  assert_int_equal (st.st_uid, 1234);
  assert_int_equal (st.st_gid, 5678);
  assert_int_equal (st.st_mode & 07777, 04755);
  st = lstat_of (f->root, "arch/odir");
  assert_int_equal (st.st_uid, 1234);
  assert_int_equal (st.st_gid, 5678);

  /* Out of a container: the caller's, setuid dropped, unless -a. */
  put (f->root, "bin/suid", "s", 04755);
  cleanup_free char *suid = xasprintf ("%s/bin/suid", f->root);
  assert_int_equal (lchown (suid, 1234, 5678), 0);
  assert_int_equal (chmod (suid, 06755), 0);
  assert_int_equal (utimensat (AT_FDCWD, suid, ts, 0), 0);
  link_at (f->root, "bin/sl", "suid");
  cleanup_free char *sl = xasprintf ("%s/bin/sl", f->root);
  assert_int_equal (lchown (sl, 1234, 5678), 0);
  OK (copy_out (f, f->fs, "/bin", "plain", false, false, &res, err));
  OK (copy_out (f, f->fs, "/bin", "arch", false, true, &res, err));
  st = lstat_of (f->out, "plain/suid");
  assert_int_equal (st.st_uid, geteuid ());
  assert_int_equal (st.st_mode & 07777, 0755);
  assert_int_equal (st.st_mtime, MTIME);
  st = lstat_of (f->out, "plain/sl");
  assert_int_equal (st.st_uid, geteuid ());
  st = lstat_of (f->out, "arch/suid");
  assert_int_equal (st.st_uid, 1234);
  assert_int_equal (st.st_gid, 5678);
  assert_int_equal (st.st_mode & 07777, 06755);
  st = lstat_of (f->out, "arch/sl");
  assert_int_equal (st.st_uid, 1234);
}

static void test_mounts (void **state)
{
  struct fx *f = *state;
  put (f->vol, "x", "VOLX", 0644);
  link_at (f->vol, "up", "../../../../../..");
  link_at (f->vol, "top", "/");
  cleanup_free char *ro = xasprintf ("%s/ro", f->tmp);
  put (ro, "r", "R", 0644);
  put (f->root, "data/decoy", "UNDER THE MOUNT", 0644);
  put (f->root, "etc/hostname", "c1", 0644);
  mkdirs (f->root, "ro");
  mkdirs (f->root, "tmp");
  link_at (f->root, "link", "/data");
  cleanup_free char *hn = xasprintf ("%s/hostname", f->tmp);
  put (f->tmp, "hostname", "fromfile", 0644);
  cleanup_json json_t *mounts = json_pack (
      "[{s:s, s:s, s:s, s:b}, {s:s, s:s, s:s, s:b}, {s:s, s:s, s:s, s:b}, {s:s, s:s, s:s}]", "Type",
      "volume", "Source", f->vol, "Destination", "/data/", "RW", 1, "Type", "bind", "Source", ro,
      "Destination", "/ro", "RW", 0, "Type", "bind", "Source", hn, "Destination", "/etc/hostname",
      "RW", 1, "Type", "tmpfs", "Source", "", "Destination", "/tmp");
  struct cp_fs *fs = NULL;
  OK (cp_fs_open_container (f->root, mounts, false, &fs, err));

  assert_names (fs, "/data", "data/,data/top,data/up,data/x");
  assert_names (fs, "/link/x", "x");
  assert_names (fs, "/",
                "./,./data/,./data/top,./data/up,./data/x,./etc/,./etc/hostname,./link,"
                "./ro/,./ro/r,./tmp/");
  struct sbuf out;
  OK (archive_mem (fs, "/etc/hostname", NULL, &out, NULL, err));
  struct tarlist l = parse_tar (out.buf, out.len);
  assert_string_equal (l.v[0].data, "fromfile");
  tarlist_free (&l);
  sbuf_release (&out);
  /* Links inside a volume resolve in the container, not on the host. */
  OK (archive_mem (fs, "/data/up/etc/hostname", NULL, &out, NULL, err));
  l = parse_tar (out.buf, out.len);
  assert_string_equal (l.v[0].data, "fromfile");
  tarlist_free (&l);
  sbuf_release (&out);
  cleanup_free char *via_top = xasprintf ("/data/top/%s/secret", f->hostrel);
  berr_t lerr = BERR_INIT;
  assert_int_equal (archive_mem (fs, via_top, NULL, &out, NULL, &lerr), -1);
  berr_release (&lerr);
  sbuf_release (&out);

  /* Writes land in the source; a read-only mount refuses them. */
  int r;
  EXTRACT (r, fs, "/data", NULL, &lerr, TB_FILE (t, "new", "N"));
  assert_int_equal (r, 0);
  assert_file (f->vol, "new", "N");
  EXTRACT (r, fs, "/link/", NULL, &lerr, TB_FILE (t, "new2", "N2"));
  assert_int_equal (r, 0);
  assert_file (f->vol, "new2", "N2");
  EXTRACT (r, fs, "/", NULL, &lerr, TB_DIR (t, "data"); TB_FILE (t, "data/new3", "N3"));
  assert_int_equal (r, 0);
  assert_file (f->vol, "new3", "N3");
  assert_false (exists (f->root, "data/new3"));
  EXTRACT (r, fs, "/ro", NULL, &lerr, TB_FILE (t, "w", "W"));
  assert_int_equal (r, -1);
  assert_string_equal (lerr.msg, "mounted volume is marked read-only");
  berr_release (&lerr);
  EXTRACT (r, fs, "/", NULL, &lerr, TB_FILE (t, "ro/w", "W"));
  assert_int_equal (r, -1);
  assert_string_equal (lerr.msg, "mounted volume is marked read-only");
  berr_release (&lerr);
  assert_false (exists (ro, "w"));
  /* A bind-mounted file cannot be replaced (Docker: device or resource busy). */
  EXTRACT (r, fs, "/etc", NULL, &lerr, TB_FILE (t, "hostname", "X"));
  assert_int_equal (r, -1);
  assert_int_equal (lerr.errnum, EBUSY);
  berr_release (&lerr);
  assert_file (f->tmp, "hostname", "fromfile");
  cp_fs_free (fs);

  /* A read-only rootfs takes writes in its volumes only. */
  OK (cp_fs_open_container (f->root, mounts, true, &fs, err));
  EXTRACT (r, fs, "/tmp", NULL, &lerr, TB_FILE (t, "w", "W"));
  assert_int_equal (r, -1);
  assert_string_equal (lerr.msg, "container rootfs is marked read-only");
  berr_release (&lerr);
  EXTRACT (r, fs, "/data", NULL, &lerr, TB_FILE (t, "w", "W"));
  assert_int_equal (r, 0);
  cp_fs_free (fs);
  assert_host_untouched (f);
}

static void test_overwrite_rules (void **state)
{
  struct fx *f = *state;
  mkdirs (f->root, "t/dir");
  put (f->root, "t/file", "F", 0644);
  int r;
  berr_t lerr = BERR_INIT;
  EXTRACT (r, f->fs, "/t", NULL, &lerr, TB_FILE (t, "dir", "x"));
  assert_int_equal (r, -1);
  assert_non_null (strstr (lerr.msg, "cannot overwrite directory \"/t/dir\" with non-directory"));
  berr_release (&lerr);
  EXTRACT (r, f->fs, "/t", NULL, &lerr, TB_DIR (t, "file"));
  assert_int_equal (r, -1);
  assert_non_null (strstr (lerr.msg, "cannot overwrite non-directory \"/t/file\" with directory"));
  berr_release (&lerr);
  EXTRACT (r, f->fs, "/t", NULL, &lerr, TB_LINK (t, "file", "dir"));
  assert_int_equal (r, 0);
  assert_true (S_ISLNK (lstat_of (f->root, "t/file").st_mode));
  /* "." is the extraction point itself: skipped, its contents merged. */
  EXTRACT (r, f->fs, "/t", NULL, &lerr, TB_DIR (t, "."); TB_FILE (t, "./merged", "M"));
  assert_int_equal (r, 0);
  assert_file (f->root, "t/merged", "M");
  /* Parents missing from the archive are made. */
  EXTRACT (r, f->fs, "/t", NULL, &lerr, TB_FILE (t, "p/q/r", "R"));
  assert_int_equal (r, 0);
  assert_file (f->root, "t/p/q/r", "R");
  assert_int_equal (lstat_of (f->root, "t/p/q").st_mode & 07777, 0755);
  /* An empty stream is an empty copy. */
  int fd = memfd_create ("empty", MFD_CLOEXEC);
  OK (cp_fs_extract (f->fs, "/t", fd, NULL, err));
  close (fd);
  /* Garbage is not. */
  fd = memfd_create ("junk", MFD_CLOEXEC);
  char junk[4096];
  memset (junk, 'j', sizeof junk);
  assert_int_equal (fs_write_all (fd, junk, sizeof junk), 0);
  lseek (fd, 0, SEEK_SET);
  FAILS (cp_fs_extract (f->fs, "/t", fd, NULL, err), "read archive");
  close (fd);
}

static void test_special_files (void **state)
{
  struct fx *f = *state;
  if (!is_root ())
    skip ();
  int r;
  berr_t lerr = BERR_INIT;
  mkdirs (f->root, "s");
  /* Hard links, devices, FIFOs, and a gzip-compressed stream (as `cp - c:/x` accepts). */
  struct tb t_;
  tb_init (&t_, "gzip");
  struct tb *t = &t_;
  TB_FILE (t, "h1", "HL");
  TB_HARD (t, "h2", "h1");
  tb_add (t, "null", AE_IFCHR, 0666, NULL, NULL, NULL, 0);
  tb_add (t, "fifo", AE_IFIFO, 0640, NULL, NULL, NULL, 0);
  int fd = tb_fd (t);
  r = cp_fs_extract (f->fs, "/s", fd, NULL, &lerr);
  close (fd);
  if (r < 0)
    fail_msg ("extract: %s", lerr.msg);
  struct stat a = lstat_of (f->root, "s/h1"), b = lstat_of (f->root, "s/h2");
  assert_int_equal (a.st_ino, b.st_ino);
  assert_true (S_ISCHR (lstat_of (f->root, "s/null").st_mode));
  assert_int_equal (lstat_of (f->root, "s/null").st_mode & 07777, 0666);
  assert_true (S_ISFIFO (lstat_of (f->root, "s/fifo").st_mode));
  assert_int_equal (lstat_of (f->root, "s/fifo").st_mode & 07777, 0640);
  /* Archiving them reads no device and no FIFO (it would block). */
  assert_names (f->fs, "/s", "s/,s/fifo,s/h1,s/h2,s/null");
  /* On the host without -a a device node stays private to its owner. */
  struct cp_result res;
  OK (copy_out (f, f->fs, "/s", "", false, false, &res, err));
  assert_int_equal (lstat_of (f->out, "s/null").st_mode & 07777, 0600);
  assert_true (S_ISFIFO (lstat_of (f->out, "s/fifo").st_mode));
}

/* The brief one-call forms. */
static void test_one_call_api (void **state)
{
  struct fx *f = *state;
  make_tree (f);
  struct sbuf out;
  sbuf_init (&out);
  struct cp_sink sink = { membuf_write, &out, 0 };
  OK (cp_from_container (f->root, NULL, "/d/sub", &sink, err));
  struct tarlist l = parse_tar (out.buf, out.len);
  cleanup_free char *names = names_of (&l);
  assert_string_equal (names, "sub/,sub/b");
  tarlist_free (&l);
  int fd = memfd_create ("t", MFD_CLOEXEC);
  assert_int_equal (fs_write_all (fd, out.buf, out.len), 0);
  lseek (fd, 0, SEEK_SET);
  mkdirs (f->root, "copy");
  OK (cp_to_container (f->root, NULL, "/copy", fd, false, err));
  close (fd);
  assert_file (f->root, "copy/sub/b", "B");
  sbuf_release (&out);
  /* And a sink that fails. */
  int p[2];
  assert_int_equal (pipe2 (p, O_CLOEXEC), 0);
  close (p[0]);
  signal (SIGPIPE, SIG_IGN);
  struct cp_sink broken = cp_sink_fd (p[1]);
  FAILS (cp_from_container (f->root, NULL, "/d", &broken, err), "write archive");
  close (p[1]);
}

/* ---- the race ---- */

struct swapper
{
  int rootfd;
  const char *a, *b;
  atomic_bool stop;
  unsigned long swaps;
};

static void *swap_main (void *arg)
{
  struct swapper *s = arg;
  while (!atomic_load (&s->stop))
    if (syscall (SYS_renameat2, s->rootfd, s->a, s->rootfd, s->b, 2 /* RENAME_EXCHANGE */) == 0)
      s->swaps++;
  return NULL;
}

/* A container swaps directory d with a symlink (to "/" or "../../..") as fast as it can while
 * cp reads and writes d/<host path>/...: every copy lands inside the container or fails. */
static void race_phase (struct fx *f, const char *dname, const char *sname, const char *target)
{
  cleanup_free char *d_in = xasprintf ("%s/%s/secret", dname, f->hostrel);
  put (f->root, d_in, "CONTAINER-D", 0644);
  cleanup_free char *r_in = xasprintf ("%s/secret", f->hostrel);
  put (f->root, r_in, "CONTAINER-ROOT", 0644);
  link_at (f->root, sname, target);
  put (f->src, "in.txt", "IN", 0644);
  int rootfd = open (f->root, O_PATH | O_DIRECTORY | O_CLOEXEC);
  assert_true (rootfd >= 0);
  struct swapper s = { .rootfd = rootfd, .a = dname, .b = sname };
  atomic_init (&s.stop, false);
  pthread_t th;
  assert_int_equal (pthread_create (&th, NULL, swap_main, &s), 0);

  cleanup_free char *secret = xasprintf ("/%s/%s/secret", dname, f->hostrel);
  cleanup_free char *dir = xasprintf ("/%s/%s", dname, f->hostrel);
  cleanup_free char *top = xasprintf ("/%s", dname);
  int seen_d = 0, seen_root = 0, failed = 0;
  for (int i = 0; i < 200; i++)
    {
      struct sbuf out;
      berr_t lerr = BERR_INIT;
      if (archive_mem (f->fs, secret, NULL, &out, NULL, &lerr) == 0)
        {
          assert_null (memmem (out.buf, out.len, SECRET, strlen (SECRET)));
          struct tarlist l = parse_tar (out.buf, out.len);
          if (l.n == 1 && strcmp (l.v[0].data, "CONTAINER-D") == 0)
            seen_d++;
          else if (l.n == 1 && strcmp (l.v[0].data, "CONTAINER-ROOT") == 0)
            seen_root++;
          else
            fail_msg ("unexpected archive of %s", secret);
          tarlist_free (&l);
        }
      else
        failed++;
      berr_release (&lerr);
      sbuf_release (&out);
      /* the whole tree, walked while it moves */
      if (archive_mem (f->fs, top, NULL, &out, NULL, &lerr) == 0)
        assert_null (memmem (out.buf, out.len, SECRET, strlen (SECRET)));
      berr_release (&lerr);
      sbuf_release (&out);
      /* writes: a tar, a host file, a copy out to the host */
      int r;
      EXTRACT (r, f->fs, dir, NULL, &lerr, TB_FILE (t, "pwned", "P"); TB_DIR (t, "pd");
               TB_FILE (t, "pd/pwned", "P"));
      (void)r;
      berr_release (&lerr);
      struct cp_result res;
      cp_copy_in (f->src, "in.txt", f->fs, dir, NULL, &res, &lerr);
      berr_release (&lerr);
      cleanup_free char *src_file = xasprintf ("%s/in.txt", f->src);
      cp_copy_in (src_file, "in2.txt", f->fs, dir, NULL, &res, &lerr);
      berr_release (&lerr);
      if (cp_copy_out (f->fs, secret, "got", f->out, NULL, &res, &lerr) == 0)
        {
          cleanup_free char *got = get (f->out, "got");
          assert_non_null (got);
          assert_string_not_equal (got, SECRET);
        }
      berr_release (&lerr);
    }
  atomic_store (&s.stop, true);
  pthread_join (th, NULL);
  close (rootfd);
  print_message ("# race %s <-> %s -> %s: %lu swaps; read d: %d, read via link: %d, failed: %d\n",
                 dname, sname, target, s.swaps, seen_d, seen_root, failed);
  assert_true (s.swaps > 0);
  assert_host_untouched (f);
  /* And what the writes made is all inside the container. */
  assert_false (exists ("/", "pwned"));
}

static void test_race_rename_exchange (void **state)
{
  struct fx *f = *state;
  race_phase (f, "d", "s", "/");
  race_phase (f, "d2", "s2", "../../../../../../../../../..");
}

int main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_path_rules),
    cmocka_unit_test (test_prepare),
    cmocka_unit_test_setup_teardown (test_archive_names, setup, teardown),
    cmocka_unit_test_setup_teardown (test_escape_out, setup, teardown),
    cmocka_unit_test_setup_teardown (test_escape_in, setup, teardown),
    cmocka_unit_test_setup_teardown (test_dotdot_rejected, setup, teardown),
    cmocka_unit_test_setup_teardown (test_copy_in_forms, setup, teardown),
    cmocka_unit_test_setup_teardown (test_copy_out_forms, setup, teardown),
    cmocka_unit_test_setup_teardown (test_ownership, setup, teardown),
    cmocka_unit_test_setup_teardown (test_mounts, setup, teardown),
    cmocka_unit_test_setup_teardown (test_overwrite_rules, setup, teardown),
    cmocka_unit_test_setup_teardown (test_special_files, setup, teardown),
    cmocka_unit_test_setup_teardown (test_one_call_api, setup, teardown),
    cmocka_unit_test_setup_teardown (test_race_rename_exchange, setup, teardown),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
