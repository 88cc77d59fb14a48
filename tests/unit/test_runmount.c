/* RUN --mount: the --mount and --secret parsers against BuildKit's behaviour (a table), and
 * prepare/release of each mount type in a private temp tree: the JSON the container code
 * accepts, cache directories, sharing modes (a child process for "locked"), paths that try to
 * leave their root, secrets files and modes, and nothing left behind (files or mounts).
 * The prepare tests mount things and are skipped when not run as root. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include "build/runmount.h"
#include "container/spec.h"
#include "util/digest.h"
#include "util/fs.h"
#include "util/json.h"
#include "util/util.h"
#include "volume/volspec.h"

/* ------------------------------------------------------------------------- parse table */

struct pcase
{
  const char *value;
  const char *workdir;
  const char *err; /* expected error text (exact), or NULL */
  enum run_mount_type type;
  const char *target, *source, *from, *id, *sharing, *env;
  bool readonly, required;
  int mode;
  int64_t uid, gid, size;
};

#define OK(v, ...)                                                                                 \
  {                                                                                                \
    .value = v, .workdir = "/w", __VA_ARGS__                                                       \
  }
#define BAD(v, e)                                                                                  \
  {                                                                                                \
    .value = v, .workdir = "/", .err = e                                                           \
  }

static const struct pcase pcases[] = {
  OK ("target=/a", .type = RUN_MOUNT_BIND, .target = "/a", .readonly = true, .mode = -1, .uid = -1,
      .gid = -1),
  OK ("type=bind,source=x,target=/a,from=stage,rw", .type = RUN_MOUNT_BIND, .target = "/a",
      .source = "x", .from = "stage", .readonly = false, .mode = -1, .uid = -1, .gid = -1),
  OK ("type=bind,src=x,dst=rel/./d/", .type = RUN_MOUNT_BIND, .target = "/w/rel/d", .source = "x",
      .readonly = true, .mode = -1, .uid = -1, .gid = -1),
  OK ("destination=/a,ro=false", .type = RUN_MOUNT_BIND, .target = "/a", .readonly = false,
      .mode = -1, .uid = -1, .gid = -1),
  OK ("target=/a,readwrite=true", .type = RUN_MOUNT_BIND, .target = "/a", .readonly = false,
      .mode = -1, .uid = -1, .gid = -1),
  OK ("target=/a,readwrite=1,readonly", .type = RUN_MOUNT_BIND, .target = "/a", .readonly = true,
      .mode = -1, .uid = -1, .gid = -1),
  OK ("type=cache,target=/root/.cache/", .type = RUN_MOUNT_CACHE, .target = "/root/.cache",
      .id = "/root/.cache", .sharing = "shared", .readonly = false, .mode = 0755, .uid = 0,
      .gid = 0),
  OK ("type=cache,target=c", .type = RUN_MOUNT_CACHE, .target = "/w/c", .id = "c",
      .sharing = "shared", .mode = 0755, .uid = 0, .gid = 0),
  OK ("type=cache,target=/c,id=x,sharing=LOCKED,mode=0700,uid=1000,gid=1001,ro",
      .type = RUN_MOUNT_CACHE, .target = "/c", .id = "x", .sharing = "locked", .readonly = true,
      .mode = 0700, .uid = 1000, .gid = 1001),
  OK ("type=cache,target=/c,from=s,source=sub,sharing=private", .type = RUN_MOUNT_CACHE,
      .target = "/c", .source = "sub", .from = "s", .id = "/c", .sharing = "private", .mode = 0755,
      .uid = 0, .gid = 0),
  OK ("TYPE=Cache,Target=/C", .type = RUN_MOUNT_CACHE, .target = "/C", .id = "/C",
      .sharing = "shared", .mode = 0755, .uid = 0, .gid = 0),
  OK ("type=tmpfs,target=/t,size=64m", .type = RUN_MOUNT_TMPFS, .target = "/t", .readonly = false,
      .mode = -1, .uid = -1, .gid = -1, .size = 64 << 20),
  OK ("type=tmpfs,target=/t", .type = RUN_MOUNT_TMPFS, .target = "/t", .mode = -1, .uid = -1,
      .gid = -1),
  OK ("type=secret,id=tok", .type = RUN_MOUNT_SECRET, .target = "/run/secrets/tok", .id = "tok",
      .readonly = true, .mode = 0400, .uid = 0, .gid = 0),
  OK ("type=secret,target=/etc/k.pem,mode=0440,uid=5,gid=6", .type = RUN_MOUNT_SECRET,
      .target = "/etc/k.pem", .id = "k.pem", .readonly = true, .mode = 0440, .uid = 5, .gid = 6),
  OK ("type=secret,source=abc,required", .type = RUN_MOUNT_SECRET, .target = "/run/secrets/abc",
      .id = "abc", .readonly = true, .required = true, .mode = 0400, .uid = 0, .gid = 0),
  OK ("type=secret,id=a,required=false", .type = RUN_MOUNT_SECRET, .target = "/run/secrets/a",
      .id = "a", .readonly = true, .mode = 0400, .uid = 0, .gid = 0),
  OK ("type=secret,id=a,env=TOKEN", .type = RUN_MOUNT_SECRET, .id = "a", .env = "TOKEN",
      .readonly = true, .mode = 0400, .uid = 0, .gid = 0),
  OK ("type=secret,id=a,env=TOKEN,target=/x", .type = RUN_MOUNT_SECRET, .target = "/x", .id = "a",
      .env = "TOKEN", .readonly = true, .mode = 0400, .uid = 0, .gid = 0),
  OK ("\"type=bind\",\"target=/a,b\"\"c\"", .type = RUN_MOUNT_BIND, .target = "/a,b\"c",
      .readonly = true, .mode = -1, .uid = -1, .gid = -1),
  BAD ("type=foo,target=/a", "unsupported mount type \"foo\""),
  BAD ("target=/a,foo=bar", "unexpected key 'foo' in 'foo=bar'"),
  BAD ("target=/a,bogus", "invalid field 'bogus' must be a key=value pair"),
  BAD ("target=/a,required", "unexpected key 'required' for mount type 'bind'"),
  BAD ("required,type=secret,id=a", "unexpected key 'required' for mount type 'bind'"),
  BAD ("target=/a,size=1m", "unexpected key 'size' for mount type 'bind'"),
  BAD ("type=cache,target=/a,env=X", "unexpected key 'env' for mount type 'cache'"),
  BAD ("type=tmpfs,target=/a,size=xx", "invalid value for size: xx"),
  BAD ("type=cache,target=/a,mode=999", "invalid value 999 for mode"),
  BAD ("type=cache,target=/a,uid=-1", "invalid value -1 for uid"),
  BAD ("type=cache,target=/a,gid=x", "invalid value x for gid"),
  BAD ("type=bind,target=/a,mode=0755", "mode not allowed for \"bind\" type mounts"),
  BAD ("type=tmpfs,target=/a,uid=1", "uid not allowed for \"tmpfs\" type mounts"),
  BAD ("type=tmpfs,target=/a,gid=1", "gid not allowed for \"tmpfs\" type mounts"),
  BAD ("type=cache,target=/a,sharing=nope", "unsupported sharing value \"nope\""),
  BAD ("type=bind,target=/a,sharing=locked", "invalid cache sharing set for bind mount"),
  BAD ("type=secret,from=x,id=a", "secret mount should not have a from"),
  BAD ("type=secret,id=a,sharing=locked", "secret mount should not define sharing"),
  BAD ("type=secret", "invalid secret mount. one of source, target required"),
  BAD ("type=secret,id=a,source=b", "both source and id can't be set"),
  BAD ("type=secret,id=a,required=maybe", "invalid value for required: maybe"),
  BAD ("type=bind,target=/a,ro=maybe", "invalid value for ro: maybe"),
  BAD ("type=bind,target=/a,rw=2", "invalid value for rw: 2"),
  BAD ("type=bind,target=/", "invalid mount target \"/\""),
  BAD ("type=bind,target=/..", "invalid mount target \"/\""),
  BAD ("type=ssh", "mount type \"ssh\" is not supported by berth"),
  BAD ("", "failed to parse csv mounts: EOF"),
  BAD ("target=/a\"b",
       "failed to parse csv mounts: parse error on line 1, column 10: bare \" in non-quoted-field"),
  BAD ("\"target=/a", "failed to parse csv mounts: parse error on line 1, column 11: extraneous "
                      "or missing \" in quoted-field"),
};

static void check_str (const char *what, const char *value, const char *got, const char *want)
{
  if ((got == NULL) != (want == NULL) || (got && strcmp (got, want) != 0))
    fail_msg ("%s: %s = \"%s\", want \"%s\"", value, what, got ? got : "(null)",
              want ? want : "(null)");
}

static void test_parse_table (void **state)
{
  (void)state;
  for (size_t i = 0; i < ARRAY_SIZE (pcases); i++)
    {
      const struct pcase *c = &pcases[i];
      struct run_mount m;
      berr_t err = BERR_INIT;
      int rc = run_mount_parse (c->value, c->workdir, &m, &err);
      if (c->err)
        {
          if (rc == 0)
            fail_msg ("%s: parsed, want error \"%s\"", c->value, c->err);
          check_str ("error", c->value, err.msg, c->err);
          berr_release (&err);
          continue;
        }
      if (rc < 0)
        fail_msg ("%s: %s", c->value, err.msg);
      assert_int_equal (m.type, c->type);
      check_str ("target", c->value, m.target, c->target);
      check_str ("source", c->value, m.source, c->source);
      check_str ("from", c->value, m.from, c->from);
      check_str ("id", c->value, m.id, c->id);
      check_str ("sharing", c->value, m.sharing, c->sharing);
      check_str ("env", c->value, m.env, c->env);
      if (m.readonly != c->readonly || m.required != c->required)
        fail_msg ("%s: readonly %d required %d", c->value, m.readonly, m.required);
      if (m.mode != c->mode || m.uid != c->uid || m.gid != c->gid || m.size != c->size)
        fail_msg ("%s: mode %o uid %lld gid %lld size %lld", c->value, (unsigned)m.mode,
                  (long long)m.uid, (long long)m.gid, (long long)m.size);
      run_mount_clear (&m);
    }
}

/* ------------------------------------------------------------------------- --secret */

static void test_secret_parse (void **state)
{
  (void)state;
  setenv ("RMTEST_SET", "v", 1);
  unsetenv ("RMTEST_UNSET");
  static const struct
  {
    const char *value, *id, *src, *env, *err;
  } cases[] = {
    { "id=a,src=/f", "a", "/f", NULL, NULL },
    { "id=a,source=/f", "a", "/f", NULL, NULL },
    { "ID=a,SRC=/f", "a", "/f", NULL, NULL },
    { "id=a,env=VAR", "a", NULL, "VAR", NULL },
    { "type=env,id=a,src=VAR", "a", NULL, "VAR", NULL },
    { "type=env,id=a", "a", NULL, "a", NULL },
    { "type=file,id=RMTEST_SET", "RMTEST_SET", "RMTEST_SET", NULL, NULL },
    { "id=RMTEST_SET", "RMTEST_SET", NULL, "RMTEST_SET", NULL },
    { "id=RMTEST_UNSET", "RMTEST_UNSET", "RMTEST_UNSET", NULL, NULL },
    { "src=/path/to/file.txt", "file.txt", "/path/to/file.txt", NULL, NULL },
    { "env=TOKEN", "TOKEN", NULL, "TOKEN", NULL },
    { "id=a,foo=b", NULL, NULL, NULL, "unexpected key 'foo' in 'foo=b'" },
    { "type=ssh,id=a", NULL, NULL, NULL, "unsupported secret type \"ssh\"" },
    { "id", NULL, NULL, NULL, "invalid field 'id' must be a key=value pair" },
    { "type=file", NULL, NULL, NULL, "secret ID missing" },
    { "", NULL, NULL, NULL, "failed to parse csv secret: EOF" },
  };
  for (size_t i = 0; i < ARRAY_SIZE (cases); i++)
    {
      struct build_secret s;
      berr_t err = BERR_INIT;
      int rc = build_secret_parse (cases[i].value, &s, &err);
      if (cases[i].err)
        {
          if (rc == 0)
            fail_msg ("%s: parsed", cases[i].value);
          check_str ("error", cases[i].value, err.msg, cases[i].err);
          berr_release (&err);
          continue;
        }
      if (rc < 0)
        fail_msg ("%s: %s", cases[i].value, err.msg);
      check_str ("id", cases[i].value, s.id, cases[i].id);
      check_str ("src", cases[i].value, s.src, cases[i].src);
      check_str ("env", cases[i].value, s.env, cases[i].env);
      struct build_secret *v = xmalloc (sizeof *v);
      *v = s;
      build_secrets_free (v, 1);
    }
}

/* ------------------------------------------------------------------------- prepare fixture */

struct fx
{
  char base[64];
  char *ctx, *cache, *tmp, *stage, *secret;
  struct run_mounts_env env;
  struct build_secret secrets[3];
};

static char *stage_fn (void *arg, const char *from, berr_t *err)
{
  struct fx *f = arg;
  if (strcmp (from, "stage") == 0)
    return xstrdup (f->stage);
  berr_setk (err, BERR_NOT_FOUND, 0, "stage %s not found", from);
  return NULL;
}

static void write_file (const char *path, const char *content)
{
  berr_t err = BERR_INIT;
  if (fs_write_atomic (path, content, strlen (content), 0644, &err) < 0)
    fail_msg ("%s", err.msg);
}

static char *read_text (const char *path)
{
  char *buf = NULL;
  size_t len;
  berr_t err = BERR_INIT;
  if (fs_read_file (path, 1 << 20, &buf, &len, &err) < 0)
    {
      berr_release (&err);
      return NULL;
    }
  return buf;
}

static int setup (void **state)
{
  if (geteuid () != 0)
    return 0;
  struct fx *f = xzalloc (sizeof *f);
  snprintf (f->base, sizeof f->base, "/tmp/rmtest-XXXXXX");
  if (mkdtemp (f->base) == NULL)
    return -1;
  f->ctx = xasprintf ("%s/ctx", f->base);
  f->cache = xasprintf ("%s/cache", f->base);
  f->tmp = xasprintf ("%s/tmp", f->base);
  f->stage = xasprintf ("%s/stage", f->base);
  const char *dirs[] = { f->ctx, f->tmp, f->stage };
  for (size_t i = 0; i < ARRAY_SIZE (dirs); i++)
    mkdir (dirs[i], 0755);
  cleanup_free char *sub = xasprintf ("%s/sub", f->ctx);
  mkdir (sub, 0755);
  cleanup_free char *hello = xasprintf ("%s/sub/hello", f->ctx);
  write_file (hello, "hello");
  cleanup_free char *f1 = xasprintf ("%s/f1", f->ctx);
  write_file (f1, "file one");
  cleanup_free char *esc = xasprintf ("%s/esc", f->ctx);
  if (symlink ("/", esc) < 0)
    return -1;
  cleanup_free char *seed = xasprintf ("%s/seed", f->stage);
  mkdir (seed, 0755);
  cleanup_free char *seedf = xasprintf ("%s/seed/s.txt", f->stage);
  write_file (seedf, "seeded");
  cleanup_free char *seedl = xasprintf ("%s/seed/link", f->stage);
  if (symlink ("s.txt", seedl) < 0)
    return -1;
  cleanup_free char *sx = xasprintf ("%s/x", f->stage);
  write_file (sx, "from stage");
  f->secret = xasprintf ("%s/secret.txt", f->base);
  write_file (f->secret, "s3cret");
  f->secrets[0] = (struct build_secret){ "tok", f->secret, NULL };
  f->secrets[1] = (struct build_secret){ "envsec", NULL, "RMTEST_SECRET" };
  f->secrets[2] = (struct build_secret){ "unsetenv", NULL, "RMTEST_SECRET_UNSET" };
  setenv ("RMTEST_SECRET", "from-env", 1);
  unsetenv ("RMTEST_SECRET_UNSET");
  f->env = (struct run_mounts_env){ .cache_root = f->cache,
                                    .context_dir = f->ctx,
                                    .tmpdir = f->tmp,
                                    .secrets = f->secrets,
                                    .n_secrets = 3,
                                    .from_fn = stage_fn,
                                    .from_arg = f };
  *state = f;
  return 0;
}

static int teardown (void **state)
{
  struct fx *f = *state;
  if (f == NULL)
    return 0;
  /* A failed test may have left its mounts: detach them before removing anything. */
  cleanup_fclose FILE *fp = fopen ("/proc/self/mountinfo", "re");
  char line[4096];
  cleanup_strv char **points = xzalloc (sizeof (char *));
  while (fp && fgets (line, sizeof line, fp))
    {
      char mp[4096];
      if (sscanf (line, "%*s %*s %*s %*s %4095s", mp) == 1 && str_has_prefix (mp, f->base))
        strv_push (&points, mp);
    }
  for (size_t i = strv_len (points); i-- > 0;)
    umount2 (points[i], MNT_DETACH);
  berr_t err = BERR_INIT;
  fs_rm_rf (f->base, &err);
  berr_release (&err);
  free (f->secret);
  free (f->ctx);
  free (f->cache);
  free (f->tmp);
  free (f->stage);
  free (f);
  return 0;
}

#define NEED_ROOT(state)                                                                           \
  do                                                                                               \
    {                                                                                              \
      if (geteuid () != 0 || *(state) == NULL)                                                     \
        skip ();                                                                                   \
    }                                                                                              \
  while (0)

/* Mount points under base in this process's mount table. */
static int mounts_under (const char *base)
{
  cleanup_fclose FILE *fp = fopen ("/proc/self/mountinfo", "re");
  assert_non_null (fp);
  char line[4096];
  int n = 0;
  size_t bl = strlen (base);
  while (fgets (line, sizeof line, fp))
    {
      /* field 5 is the mount point */
      char *p = line;
      for (int i = 0; i < 4 && p; i++)
        p = strchr (p, ' ') ? strchr (p, ' ') + 1 : NULL;
      if (p && strncmp (p, base, bl) == 0 && (p[bl] == '/' || p[bl] == ' '))
        n++;
    }
  return n;
}

static size_t dir_entries (const char *path)
{
  cleanup_closedir DIR *d = opendir (path);
  if (d == NULL)
    return 0;
  size_t n = 0;
  struct dirent *de;
  while ((de = readdir (d)))
    if (strcmp (de->d_name, ".") && strcmp (de->d_name, ".."))
      n++;
  return n;
}

static void assert_clean (struct fx *f)
{
  assert_int_equal (mounts_under (f->base), 0);
  assert_int_equal (dir_entries (f->tmp), 0);
}

static void parse1 (const char *value, struct run_mount *m)
{
  berr_t err = BERR_INIT;
  if (run_mount_parse (value, "/", m, &err) < 0)
    fail_msg ("%s: %s", value, err.msg);
}

struct prepared
{
  json_t *mounts;
  char **env;
  struct run_mounts *rm;
};

static int prep (struct fx *f, const char *const *values, struct prepared *out, berr_t *err)
{
  size_t n = 0;
  while (values[n])
    n++;
  struct run_mount *m = xcalloc (n ? n : 1, sizeof *m);
  for (size_t i = 0; i < n; i++)
    parse1 (values[i], &m[i]);
  memset (out, 0, sizeof *out);
  int rc = run_mounts_prepare (&f->env, m, n, &out->mounts, &out->env, &out->rm, err);
  for (size_t i = 0; i < n; i++)
    run_mount_clear (&m[i]);
  free (m);
  return rc;
}

static void prep_ok (struct fx *f, const char *const *values, struct prepared *out)
{
  berr_t err = BERR_INIT;
  if (prep (f, values, out, &err) < 0)
    fail_msg ("prepare %s: %s", values[0], err.msg);
}

static void unprep (struct prepared *p)
{
  run_mounts_release (p->rm);
  json_decref (p->mounts);
  strv_free (p->env);
}

static const char *entry_str (json_t *mounts, size_t i, const char *key)
{
  return json_string_value (json_object_get (json_array_get (mounts, i), key));
}

/* The entry is a valid Engine-API Mount object (HostConfig.Mounts) with these fields. */
static void check_entry (json_t *e, const char *type, const char *dest, bool rw)
{
  assert_string_equal (json_string_value (json_object_get (e, "Type")), type);
  assert_string_equal (json_string_value (json_object_get (e, "Destination")), dest);
  assert_string_equal (json_string_value (json_object_get (e, "Target")), dest);
  assert_int_equal (json_is_true (json_object_get (e, "RW")), rw);
  assert_int_equal (json_is_true (json_object_get (e, "ReadOnly")), !rw);
  struct mount_point mp = { 0 };
  berr_t err = BERR_INIT;
  if (volspec_parse_mount_obj (e, &mp, &err) < 0)
    fail_msg ("volspec_parse_mount_obj: %s", err.msg);
  assert_string_equal (mp.destination, dest);
  assert_int_equal (mp.rw, rw);
  mount_point_release (&mp);
}

static bool is_mount_point (const char *path) { return mounts_under (path) > 0; }

/* ------------------------------------------------------------------------- bind */

static void test_bind_ro (void **state)
{
  NEED_ROOT (state);
  struct fx *f = *state;
  const char *v[] = { "type=bind,source=sub,target=/m", "target=/whole", NULL };
  struct prepared p;
  prep_ok (f, v, &p);
  assert_int_equal (json_array_size (p.mounts), 2);
  assert_int_equal (strv_len (p.env), 0);
  check_entry (json_array_get (p.mounts, 0), "bind", "/m", false);
  check_entry (json_array_get (p.mounts, 1), "bind", "/whole", false);
  const char *src = entry_str (p.mounts, 0, "Source");
  assert_true (str_has_prefix (src, f->tmp));
  assert_true (is_mount_point (src));
  cleanup_free char *hello = xasprintf ("%s/hello", src);
  cleanup_free char *txt = read_text (hello);
  assert_non_null (txt);
  assert_string_equal (txt, "hello");
  cleanup_free char *whole = xasprintf ("%s/f1", entry_str (p.mounts, 1, "Source"));
  cleanup_free char *t1 = read_text (whole);
  assert_string_equal (t1, "file one");
  json_t *opts = json_object_get (json_array_get (p.mounts, 0), "Options");
  assert_string_equal (json_string_value (json_array_get (opts, 0)), "rbind");
  assert_string_equal (json_string_value (json_array_get (opts, 1)), "ro");
  unprep (&p);
  assert_clean (f);
}

static void test_bind_escape (void **state)
{
  NEED_ROOT (state);
  struct fx *f = *state;
  /* "../../etc" stays in the context, where there is no etc. */
  const char *v1[] = { "type=bind,source=../../etc,target=/m", NULL };
  struct prepared p;
  berr_t err = BERR_INIT;
  assert_int_equal (prep (f, v1, &p, &err), -1);
  assert_non_null (strstr (err.msg, "not found"));
  berr_release (&err);
  assert_clean (f);
  /* A symlink to / is the context's root. */
  const char *v2[] = { "type=bind,source=esc,target=/m", NULL };
  prep_ok (f, v2, &p);
  const char *src = entry_str (p.mounts, 0, "Source");
  cleanup_free char *f1 = xasprintf ("%s/f1", src);
  cleanup_free char *passwd = xasprintf ("%s/etc/passwd", src);
  assert_int_equal (access (f1, F_OK), 0);
  assert_int_equal (access (passwd, F_OK), -1);
  unprep (&p);
  assert_clean (f);
}

static void test_bind_rw (void **state)
{
  NEED_ROOT (state);
  struct fx *f = *state;
  const char *v[] = { "type=bind,source=sub,target=/m,rw", "source=f1,target=/f,rw", NULL };
  struct prepared p;
  prep_ok (f, v, &p);
  check_entry (json_array_get (p.mounts, 0), "bind", "/m", true);
  check_entry (json_array_get (p.mounts, 1), "bind", "/f", true);
  const char *dir = entry_str (p.mounts, 0, "Source");
  cleanup_free char *newf = xasprintf ("%s/new", dir);
  cleanup_free char *hello = xasprintf ("%s/hello", dir);
  write_file (newf, "x");
  write_file (hello, "changed");
  cleanup_free char *orig_new = xasprintf ("%s/sub/new", f->ctx);
  cleanup_free char *orig_hello = xasprintf ("%s/sub/hello", f->ctx);
  assert_int_equal (access (orig_new, F_OK), -1);
  cleanup_free char *t = read_text (orig_hello);
  assert_string_equal (t, "hello");
  const char *file = entry_str (p.mounts, 1, "Source");
  cleanup_free char *t2 = read_text (file);
  assert_string_equal (t2, "file one");
  write_file (file, "overwritten");
  cleanup_free char *orig_f1 = xasprintf ("%s/f1", f->ctx);
  cleanup_free char *t3 = read_text (orig_f1);
  assert_string_equal (t3, "file one");
  unprep (&p);
  assert_clean (f);
}

static void test_bind_from (void **state)
{
  NEED_ROOT (state);
  struct fx *f = *state;
  const char *v[] = { "from=stage,source=x,target=/x", NULL };
  struct prepared p;
  prep_ok (f, v, &p);
  check_entry (json_array_get (p.mounts, 0), "bind", "/x", false);
  cleanup_free char *t = read_text (entry_str (p.mounts, 0, "Source"));
  assert_string_equal (t, "from stage");
  unprep (&p);
  assert_clean (f);
  const char *bad[] = { "target=/ok", "from=nostage,target=/x", NULL };
  berr_t err = BERR_INIT;
  assert_int_equal (prep (f, bad, &p, &err), -1);
  assert_string_equal (err.msg, "mount /x: stage nostage not found");
  berr_release (&err);
  assert_clean (f);
}

/* ------------------------------------------------------------------------- cache */

static char *cache_dir (struct fx *f, const char *id)
{
  char d[DIGEST_STR_LEN];
  sha256_digest (id, strlen (id), d);
  return xasprintf ("%s/%s", f->cache, d + 7);
}

static void same_inode (const char *a, const char *b)
{
  struct stat sa, sb;
  assert_int_equal (stat (a, &sa), 0);
  assert_int_equal (stat (b, &sb), 0);
  assert_true (sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino);
}

static void test_cache_basic (void **state)
{
  NEED_ROOT (state);
  struct fx *f = *state;
  const char *v[] = { "type=cache,target=/c,id=myid,uid=123,gid=456,mode=0750", NULL };
  struct prepared p;
  prep_ok (f, v, &p);
  check_entry (json_array_get (p.mounts, 0), "bind", "/c", true);
  cleanup_free char *dir = cache_dir (f, "myid");
  struct stat st;
  assert_int_equal (stat (dir, &st), 0);
  assert_int_equal (st.st_mode & 07777, 0750);
  assert_int_equal (st.st_uid, 123);
  assert_int_equal (st.st_gid, 456);
  const char *src = entry_str (p.mounts, 0, "Source");
  assert_true (str_has_prefix (src, f->tmp));
  same_inode (src, dir);
  cleanup_free char *w = xasprintf ("%s/kept", src);
  write_file (w, "persist");
  unprep (&p);
  assert_clean (f);
  /* Persisted; mode and owner only on creation. */
  const char *v2[] = { "type=cache,target=/c,id=myid,mode=0700,ro", NULL };
  prep_ok (f, v2, &p);
  check_entry (json_array_get (p.mounts, 0), "bind", "/c", false);
  cleanup_free char *kept = xasprintf ("%s/kept", entry_str (p.mounts, 0, "Source"));
  cleanup_free char *t = read_text (kept);
  assert_string_equal (t, "persist");
  assert_int_equal (stat (dir, &st), 0);
  assert_int_equal (st.st_mode & 07777, 0750);
  unprep (&p);
  assert_clean (f);
  /* The default id is the target. */
  const char *v3[] = { "type=cache,target=/var/cache/apt", NULL };
  prep_ok (f, v3, &p);
  cleanup_free char *d3 = cache_dir (f, "/var/cache/apt");
  assert_int_equal (stat (d3, &st), 0);
  assert_int_equal (st.st_mode & 07777, 0755);
  unprep (&p);
  assert_clean (f);
}

static void test_cache_subpath (void **state)
{
  NEED_ROOT (state);
  struct fx *f = *state;
  const char *v[] = { "type=cache,target=/c,id=sp,source=../../etc", NULL };
  struct prepared p;
  prep_ok (f, v, &p);
  cleanup_free char *dir = cache_dir (f, "sp");
  cleanup_free char *inner = xasprintf ("%s/etc", dir);
  same_inode (entry_str (p.mounts, 0, "Source"), inner);
  unprep (&p);
  assert_clean (f);

  /* A symlink in the cache pointing at / resolves to the cache's root. */
  cleanup_free char *link = xasprintf ("%s/up", dir);
  assert_int_equal (symlink ("/", link), 0);
  const char *v2[] = { "type=cache,target=/c,id=sp,source=up/etc", NULL };
  prep_ok (f, v2, &p);
  same_inode (entry_str (p.mounts, 0, "Source"), inner);
  unprep (&p);
  assert_clean (f);

  /* CVE-2024-23651: after prepare, the subpath swapped for a symlink to the host's /etc does
   * not change what the container gets. */
  const char *v3[] = { "type=cache,target=/c,id=sp,source=swap", NULL };
  prep_ok (f, v3, &p);
  cleanup_free char *swap = xasprintf ("%s/swap", dir);
  cleanup_free char *gone = xasprintf ("%s/gone", dir);
  assert_int_equal (rename (swap, gone), 0);
  assert_int_equal (symlink ("/etc", swap), 0);
  cleanup_free char *passwd = xasprintf ("%s/passwd", entry_str (p.mounts, 0, "Source"));
  assert_int_equal (access (passwd, F_OK), -1);
  same_inode (entry_str (p.mounts, 0, "Source"), gone);
  unprep (&p);
  assert_clean (f);
}

static void test_cache_from (void **state)
{
  NEED_ROOT (state);
  struct fx *f = *state;
  const char *v[] = { "type=cache,target=/c,id=seeded,from=stage,source=seed", NULL };
  struct prepared p;
  prep_ok (f, v, &p);
  const char *src = entry_str (p.mounts, 0, "Source");
  cleanup_free char *s = xasprintf ("%s/s.txt", src);
  cleanup_free char *t = read_text (s);
  assert_string_equal (t, "seeded");
  cleanup_free char *l = xasprintf ("%s/link", src);
  char target[64] = { 0 };
  assert_int_equal (readlink (l, target, sizeof target - 1), 5);
  assert_string_equal (target, "s.txt");
  unprep (&p);
  assert_clean (f);
}

static void test_cache_private (void **state)
{
  NEED_ROOT (state);
  struct fx *f = *state;
  const char *v[] = { "type=cache,target=/c,id=priv,sharing=private", NULL };
  struct prepared a, b;
  prep_ok (f, v, &a);
  /* flock locks belong to the open file: a second preparer in this process conflicts just as
   * another build would. */
  prep_ok (f, v, &b);
  cleanup_free char *dir = cache_dir (f, "priv");
  same_inode (entry_str (a.mounts, 0, "Source"), dir);
  struct stat sb, sd;
  assert_int_equal (stat (entry_str (b.mounts, 0, "Source"), &sb), 0);
  assert_int_equal (stat (dir, &sd), 0);
  assert_true (sb.st_ino != sd.st_ino);
  assert_int_equal (sb.st_mode & 07777, 0755);
  unprep (&b);
  unprep (&a);
  assert_clean (f);
  /* Shared users coexist. */
  const char *s[] = { "type=cache,target=/c,id=sh", NULL };
  prep_ok (f, s, &a);
  prep_ok (f, s, &b);
  same_inode (entry_str (a.mounts, 0, "Source"), entry_str (b.mounts, 0, "Source"));
  unprep (&b);
  unprep (&a);
  assert_clean (f);
}

static void test_cache_locked (void **state)
{
  NEED_ROOT (state);
  struct fx *f = *state;
  const char *v[] = { "type=cache,target=/c,id=lk,sharing=locked", NULL };
  /* The child is forked before the parent takes the lock: a child forked after it would share
   * the parent's open lock file, and with it the lock. */
  int go[2], done[2];
  assert_int_equal (pipe2 (go, O_CLOEXEC), 0);
  assert_int_equal (pipe2 (done, O_CLOEXEC), 0);
  pid_t pid = fork ();
  assert_true (pid >= 0);
  if (pid == 0)
    {
      alarm (30);
      close (go[1]);
      close (done[0]);
      char c;
      if (read (go[0], &c, 1) != 1)
        _exit (4);
      struct prepared cp;
      berr_t err = BERR_INIT;
      if (prep (f, v, &cp, &err) < 0)
        _exit (2);
      if (write (done[1], "A", 1) != 1)
        _exit (3);
      unprep (&cp);
      _exit (0);
    }
  close (go[0]);
  close (done[1]);
  struct prepared p;
  prep_ok (f, v, &p);
  assert_int_equal (write (go[1], "G", 1), 1);
  close (go[1]);
  struct pollfd pfd = { .fd = done[0], .events = POLLIN };
  /* The child must still be waiting for the lock. */
  int early = poll (&pfd, 1, 500);
  unprep (&p);
  int late = poll (&pfd, 1, 10000);
  char c = 0;
  ssize_t got = late == 1 ? read (done[0], &c, 1) : -1;
  close (done[0]);
  if (late != 1)
    kill (pid, SIGKILL);
  int status;
  assert_int_equal (waitpid (pid, &status, 0), pid);
  assert_int_equal (early, 0);
  assert_int_equal (late, 1);
  assert_int_equal (got, 1);
  assert_true (WIFEXITED (status) && WEXITSTATUS (status) == 0);
  assert_clean (f);
}

/* ------------------------------------------------------------------------- tmpfs */

static void test_tmpfs (void **state)
{
  (void)state;
  struct fx f0 = { 0 };
  f0.env.tmpdir = "/tmp";
  const char *v[] = { "type=tmpfs,target=/t,size=64m", "type=tmpfs,target=/u", NULL };
  struct prepared p;
  prep_ok (&f0, v, &p);
  json_t *e = json_array_get (p.mounts, 0);
  check_entry (e, "tmpfs", "/t", true);
  assert_int_equal (
      json_integer_value (json_object_get (json_object_get (e, "TmpfsOptions"), "SizeBytes")),
      64 << 20);
  cleanup_strv char **opts = json_to_strv (json_object_get (e, "Options"));
  assert_true (strv_contains (opts, "size=64m"));
  assert_true (strv_contains (opts, "exec"));
  assert_false (strv_contains (opts, "noexec"));
  check_entry (json_array_get (p.mounts, 1), "tmpfs", "/u", true);
  unprep (&p);
}

/* ------------------------------------------------------------------------- secrets */

static void test_secrets (void **state)
{
  NEED_ROOT (state);
  struct fx *f = *state;
  const char *v[] = { "type=secret,id=tok",
                      "type=secret,id=tok,target=/etc/t,mode=0440,uid=5,gid=6",
                      "type=secret,id=envsec,env=MYVAR",
                      "type=secret,id=envsec,env=ALSO,target=/e",
                      "type=secret,id=missing",
                      "type=secret,id=unsetenv",
                      NULL };
  struct prepared p;
  prep_ok (f, v, &p);
  assert_int_equal (json_array_size (p.mounts), 3);
  check_entry (json_array_get (p.mounts, 0), "bind", "/run/secrets/tok", false);
  check_entry (json_array_get (p.mounts, 1), "bind", "/etc/t", false);
  check_entry (json_array_get (p.mounts, 2), "bind", "/e", false);
  assert_int_equal (strv_len (p.env), 2);
  assert_string_equal (p.env[0], "MYVAR=from-env");
  assert_string_equal (p.env[1], "ALSO=from-env");
  struct stat st;
  const char *s0 = entry_str (p.mounts, 0, "Source");
  assert_int_equal (stat (s0, &st), 0);
  assert_int_equal (st.st_mode & 07777, 0400);
  assert_int_equal (st.st_uid, 0);
  cleanup_free char *t0 = read_text (s0);
  assert_string_equal (t0, "s3cret");
  const char *s1 = entry_str (p.mounts, 1, "Source");
  assert_int_equal (stat (s1, &st), 0);
  assert_int_equal (st.st_mode & 07777, 0440);
  assert_int_equal (st.st_uid, 5);
  assert_int_equal (st.st_gid, 6);
  cleanup_free char *t2 = read_text (entry_str (p.mounts, 2, "Source"));
  assert_string_equal (t2, "from-env");
  /* Secret files live on a tmpfs, never on the store's disk. */
  struct statfs sf;
  assert_int_equal (statfs (s0, &sf), 0);
  assert_true (sf.f_type == 0x01021994);
  assert_true (str_has_prefix (s0, f->tmp));
  unprep (&p);
  assert_clean (f);
}

static void test_secret_required (void **state)
{
  NEED_ROOT (state);
  struct fx *f = *state;
  /* Everything prepared before the failing mount is released. */
  const char *v[] = { "type=bind,source=sub,target=/m", "type=cache,target=/c,sharing=locked",
                      "type=secret,id=tok", "type=secret,id=nope,required", NULL };
  struct prepared p;
  berr_t err = BERR_INIT;
  assert_int_equal (prep (f, v, &p, &err), -1);
  assert_string_equal (err.msg, "secret nope: not found");
  assert_int_equal (err.kind, BERR_NOT_FOUND);
  berr_release (&err);
  assert_clean (f);
  /* The locked cache's lock went with it: it can be taken again at once. */
  const char *again[] = { "type=cache,target=/c,sharing=locked", NULL };
  prep_ok (f, again, &p);
  unprep (&p);
  const char *v2[] = { "type=secret,id=unsetenv,required=true", NULL };
  assert_int_equal (prep (f, v2, &p, &err), -1);
  assert_string_equal (err.msg, "secret unsetenv: not found");
  berr_release (&err);
  assert_clean (f);
}

/* ------------------------------------------------------------------------- the spec builder */

static void test_spec_accepts (void **state)
{
  NEED_ROOT (state);
  struct fx *f = *state;
  const char *v[] = { "type=bind,source=sub,target=/m", "type=tmpfs,target=/t,size=1m",
                      "type=cache,target=/c,id=spec", NULL };
  struct prepared p;
  prep_ok (f, v, &p);
  cleanup_json json_t *config = json_pack ("{s:[s]}", "Cmd", "true");
  cleanup_json json_t *hc = json_object ();
  struct spec_input in = { .id = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
                           .config = config,
                           .host_config = hc,
                           .rootfs = f->stage,
                           .mounts = p.mounts,
                           .cgroup_path = "berth/test" };
  json_t *spec = NULL;
  berr_t err = BERR_INIT;
  if (spec_build (&in, &spec, &err) < 0)
    fail_msg ("spec_build: %s", err.msg);
  int found = 0;
  size_t i;
  json_t *m;
  json_array_foreach (json_object_get (spec, "mounts"), i, m)
  {
    const char *dest = json_string_value (json_object_get (m, "destination"));
    cleanup_strv char **opts = json_to_strv (json_object_get (m, "options"));
    if (strcmp (dest, "/m") == 0)
      {
        found++;
        assert_string_equal (json_string_value (json_object_get (m, "source")),
                             entry_str (p.mounts, 0, "Source"));
        assert_true (strv_contains (opts, "ro"));
      }
    else if (strcmp (dest, "/t") == 0)
      {
        found++;
        assert_true (strv_contains (opts, "exec"));
        assert_false (strv_contains (opts, "noexec"));
        assert_true (strv_contains (opts, "size=1m"));
      }
    else if (strcmp (dest, "/c") == 0)
      {
        found++;
        assert_false (strv_contains (opts, "ro"));
      }
  }
  assert_int_equal (found, 3);
  json_decref (spec);
  unprep (&p);
  assert_clean (f);
}

int main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_parse_table),
    cmocka_unit_test (test_secret_parse),
    cmocka_unit_test (test_tmpfs),
    cmocka_unit_test_setup_teardown (test_bind_ro, setup, teardown),
    cmocka_unit_test_setup_teardown (test_bind_escape, setup, teardown),
    cmocka_unit_test_setup_teardown (test_bind_rw, setup, teardown),
    cmocka_unit_test_setup_teardown (test_bind_from, setup, teardown),
    cmocka_unit_test_setup_teardown (test_cache_basic, setup, teardown),
    cmocka_unit_test_setup_teardown (test_cache_subpath, setup, teardown),
    cmocka_unit_test_setup_teardown (test_cache_from, setup, teardown),
    cmocka_unit_test_setup_teardown (test_cache_private, setup, teardown),
    cmocka_unit_test_setup_teardown (test_cache_locked, setup, teardown),
    cmocka_unit_test_setup_teardown (test_secrets, setup, teardown),
    cmocka_unit_test_setup_teardown (test_secret_required, setup, teardown),
    cmocka_unit_test_setup_teardown (test_spec_accepts, setup, teardown),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
