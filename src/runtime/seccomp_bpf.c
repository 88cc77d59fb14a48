/* seccomp_bpf.c — OCI linux.seccomp -> a BPF program (libseccomp), cached by content, and its
 * installation in the child.
 *
 * The compile runs in the parent, so the child only makes one seccomp() call.  Compiling
 * Docker's ~360-rule profile costs milliseconds; the cache file (keyed by the canonical JSON,
 * plus the libseccomp version and the native architecture, which change the output) turns
 * that into one small read. */
#include "runtime/seccomp.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "util/fs.h"
#include "util/log.h"

static void ctx_cleanup (scmp_filter_ctx *c)
{
  if (*c)
    seccomp_release (*c);
}

static int parse_action (const char *name, const json_t *errno_ret, uint32_t default_errno,
                         uint32_t *out, berr_t *err)
{
  uint32_t eno = default_errno;
  if (json_is_integer (errno_ret))
    eno = (uint32_t)json_integer_value (errno_ret);
  if (name == NULL)
    return berr_setk (err, BERR_INVALID, 0, "seccomp: missing action");
  if (strcmp (name, "SCMP_ACT_ALLOW") == 0)
    *out = SCMP_ACT_ALLOW;
  else if (strcmp (name, "SCMP_ACT_ERRNO") == 0)
    *out = SCMP_ACT_ERRNO (eno);
  else if (strcmp (name, "SCMP_ACT_KILL") == 0 || strcmp (name, "SCMP_ACT_KILL_THREAD") == 0)
    *out = SCMP_ACT_KILL_THREAD;
  else if (strcmp (name, "SCMP_ACT_KILL_PROCESS") == 0)
    *out = SCMP_ACT_KILL_PROCESS;
  else if (strcmp (name, "SCMP_ACT_TRAP") == 0)
    *out = SCMP_ACT_TRAP;
  else if (strcmp (name, "SCMP_ACT_TRACE") == 0)
    *out = SCMP_ACT_TRACE (eno);
  else if (strcmp (name, "SCMP_ACT_LOG") == 0)
    *out = SCMP_ACT_LOG;
  else if (strcmp (name, "SCMP_ACT_NOTIFY") == 0)
    return berr_setk (err, BERR_INVALID, EOPNOTSUPP, "seccomp: SCMP_ACT_NOTIFY");
  else
    return berr_setk (err, BERR_INVALID, 0, "seccomp: unknown action \"%s\"", name);
  return 0;
}

static int parse_op (const char *name, enum scmp_compare *out)
{
  static const struct
  {
    const char *name;
    enum scmp_compare op;
  } ops[] = {
    { "SCMP_CMP_NE", SCMP_CMP_NE },
    { "SCMP_CMP_LT", SCMP_CMP_LT },
    { "SCMP_CMP_LE", SCMP_CMP_LE },
    { "SCMP_CMP_EQ", SCMP_CMP_EQ },
    { "SCMP_CMP_GE", SCMP_CMP_GE },
    { "SCMP_CMP_GT", SCMP_CMP_GT },
    { "SCMP_CMP_MASKED_EQ", SCMP_CMP_MASKED_EQ },
  };
  for (size_t i = 0; name && i < ARRAY_SIZE (ops); i++)
    if (strcmp (name, ops[i].name) == 0)
      {
        *out = ops[i].op;
        return 0;
      }
  return -1;
}

static uint64_t json_u64 (const json_t *v)
{
  if (json_is_integer (v))
    return (uint64_t)json_integer_value (v);
  if (json_is_real (v))
    return (uint64_t)json_real_value (v);
  return 0;
}

/* One syscall entry: the same conditions for every name.  Several conditions on one argument
 * index cannot be ANDed by libseccomp, and in Docker's profiles they mean "any of": one rule
 * per condition then; otherwise one rule with all of them. */
static int add_syscall_rules (scmp_filter_ctx ctx, const json_t *entry, uint32_t def_action,
                              uint32_t def_errno, berr_t *err)
{
  uint32_t action;
  if (parse_action (json_string_value (json_object_get (entry, "action")),
                    json_object_get (entry, "errnoRet"), def_errno, &action, err)
      < 0)
    return -1;
  if (action == def_action)
    return 0; /* libseccomp refuses a rule that repeats the default, and it would change nothing */
  json_t *args = json_object_get (entry, "args");
  size_t nargs = json_is_array (args) ? json_array_size (args) : 0;
  if (nargs > 6 * 8)
    return berr_setk (err, BERR_INVALID, 0, "seccomp: too many argument conditions");
  struct scmp_arg_cmp cmp[48];
  bool same_index = false;
  for (size_t i = 0; i < nargs; i++)
    {
      json_t *a = json_array_get (args, i);
      enum scmp_compare op;
      if (parse_op (json_string_value (json_object_get (a, "op")), &op) < 0)
        return berr_setk (err, BERR_INVALID, 0, "seccomp: unknown operator \"%s\"",
                          json_string_value (json_object_get (a, "op")) ?: "?");
      uint64_t index = json_u64 (json_object_get (a, "index"));
      if (index > 5)
        return berr_setk (err, BERR_INVALID, 0, "seccomp: argument index %llu out of range",
                          (unsigned long long)index);
      cmp[i] = (struct scmp_arg_cmp){ (unsigned)index, op, json_u64 (json_object_get (a, "value")),
                                      json_u64 (json_object_get (a, "valueTwo")) };
      for (size_t j = 0; j < i; j++)
        if (cmp[j].arg == cmp[i].arg)
          same_index = true;
    }
  json_t *names = json_object_get (entry, "names");
  const char *single = json_string_value (json_object_get (entry, "name"));
  size_t nnames = json_is_array (names) ? json_array_size (names) : 0;
  for (size_t k = 0; k < nnames + (single ? 1 : 0); k++)
    {
      const char *name = k < nnames ? json_string_value (json_array_get (names, k)) : single;
      if (name == NULL)
        continue;
      int nr = seccomp_syscall_resolve_name (name);
      if (nr == __NR_SCMP_ERROR)
        {
          /* unknown to this libseccomp or architecture: Docker skips these too */
          log_debug ("seccomp: syscall %s unknown here, skipped", name);
          continue;
        }
      int r = 0;
      if (nargs == 0)
        r = seccomp_rule_add (ctx, action, nr, 0);
      else if (!same_index)
        r = seccomp_rule_add_array (ctx, action, nr, (unsigned)nargs, cmp);
      else
        for (size_t i = 0; i < nargs && r == 0; i++)
          r = seccomp_rule_add_array (ctx, action, nr, 1, &cmp[i]);
      if (r < 0)
        return berr_set (err, -r, "seccomp: add a rule for %s", name);
    }
  return 0;
}

static int compile_bpf (const json_t *oci, struct seccomp_prog *out, berr_t *err)
{
  uint32_t def_errno = EPERM;
  json_t *de = json_object_get (oci, "defaultErrnoRet");
  if (json_is_integer (de))
    def_errno = (uint32_t)json_integer_value (de);
  uint32_t def_action;
  if (parse_action (json_string_value (json_object_get (oci, "defaultAction")), NULL, def_errno,
                    &def_action, err)
      < 0)
    return berr_wrap (err, "seccomp defaultAction");
  __attribute__ ((cleanup (ctx_cleanup))) scmp_filter_ctx ctx = seccomp_init (def_action);
  if (ctx == NULL)
    return berr_set (err, EINVAL, "seccomp_init");
  /* a binary tree instead of a linear scan: Docker's allowlist is long */
  (void)seccomp_attr_set (ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2);
  json_t *arches = json_object_get (oci, "architectures");
  size_t i;
  json_t *ja;
  json_array_foreach (arches, i, ja)
  {
    const char *a = json_string_value (ja);
    if (a == NULL || !str_has_prefix (a, "SCMP_ARCH_"))
      return berr_setk (err, BERR_INVALID, 0, "seccomp: bad architecture \"%s\"", a ? a : "?");
    char lower[32];
    size_t n = 0;
    for (const char *p = a + 10; *p && n < sizeof lower - 1; p++)
      lower[n++] = (char)(*p >= 'A' && *p <= 'Z' ? *p - 'A' + 'a' : *p);
    lower[n] = '\0';
    uint32_t token = seccomp_arch_resolve_name (lower);
    if (token == 0)
      continue; /* not known to this libseccomp */
    int r = seccomp_arch_add (ctx, token);
    if (r < 0 && r != -EEXIST)
      return berr_set (err, -r, "seccomp: add architecture %s", a);
  }
  json_t *syscalls = json_object_get (oci, "syscalls");
  json_t *js;
  json_array_foreach (syscalls, i, js)
  {
    if (add_syscall_rules (ctx, js, def_action, def_errno, err) < 0)
      return -1;
  }
  cleanup_close int fd = memfd_create ("berth-seccomp", MFD_CLOEXEC);
  if (fd < 0)
    return berr_set (err, errno, "memfd_create");
  int r = seccomp_export_bpf (ctx, fd);
  if (r < 0)
    return berr_set (err, -r, "seccomp: export the BPF program");
  off_t size = lseek (fd, 0, SEEK_END);
  if (size <= 0 || size % (off_t)sizeof (struct sock_filter) != 0
      || size / (off_t)sizeof (struct sock_filter) > BPF_MAXINSNS)
    return berr_set (err, E2BIG, "seccomp: the BPF program has %lld bytes", (long long)size);
  out->filter = xmalloc ((size_t)size);
  out->len = (unsigned short)(size / (off_t)sizeof (struct sock_filter));
  if (pread (fd, out->filter, (size_t)size, 0) != size)
    {
      seccomp_prog_release (out);
      return berr_set (err, errno, "seccomp: read back the BPF program");
    }
  return 0;
}

/* The cache: <cache>/seccomp/<64-bit FNV-1a of the key>, holding the key text, a NUL, then
 * the BPF. The key (libseccomp version, arch, canonical JSON) is compared in full on load, so a
 * hash collision only costs a recompile — and no cryptographic hash is needed on the start-up
 * path (libcrypto is loaded on demand; dlopen alone costs more than the whole lookup). */
static char *cache_key (const json_t *oci)
{
  cleanup_free char *canon = json_dumps (oci, JSON_SORT_KEYS | JSON_COMPACT);
  if (canon == NULL)
    return NULL;
  const struct scmp_version *v = seccomp_version ();
  return xasprintf ("libseccomp %u.%u.%u arch %u\n%s", v->major, v->minor, v->micro,
                    seccomp_arch_native (), canon);
}

static char *cache_path (const char *key, const char *cache_dir)
{
  uint64_t h = 14695981039346656037ULL;
  for (const unsigned char *p = (const unsigned char *)key; *p; p++)
    h = (h ^ *p) * 1099511628211ULL;
  return xasprintf ("%s/seccomp/%016llx-%zu", cache_dir, (unsigned long long)h, strlen (key));
}

static int cache_load (const char *path, const char *key, struct seccomp_prog *out)
{
  cleanup_close int fd = open (path, O_RDONLY | O_CLOEXEC);
  struct stat st;
  if (fd < 0 || fstat (fd, &st) < 0 || !S_ISREG (st.st_mode))
    return -1;
  size_t klen = strlen (key) + 1;
  if ((size_t)st.st_size <= klen)
    return -1;
  size_t blen = (size_t)st.st_size - klen;
  if (blen % sizeof (struct sock_filter) || blen / sizeof (struct sock_filter) > BPF_MAXINSNS)
    return -1;
  cleanup_free char *buf = xmalloc ((size_t)st.st_size);
  if (pread (fd, buf, (size_t)st.st_size, 0) != st.st_size || memcmp (buf, key, klen) != 0)
    return -1;
  struct sock_filter *f = xmalloc (blen);
  memcpy (f, buf + klen, blen);
  out->filter = f;
  out->len = (unsigned short)(blen / sizeof (struct sock_filter));
  return 0;
}

int seccomp_compile (const json_t *oci, const char *cache_dir, struct seccomp_prog *out,
                     berr_t *err)
{
  out->filter = NULL;
  out->len = 0;
  if (!json_is_object (oci))
    return berr_setk (err, BERR_INVALID, 0, "seccomp: the profile must be an object");
  cleanup_free char *key = cache_dir ? cache_key (oci) : NULL;
  cleanup_free char *path = key ? cache_path (key, cache_dir) : NULL;
  if (path && cache_load (path, key, out) == 0)
    return 0;
  if (compile_bpf (oci, out, err) < 0)
    return -1;
  if (path)
    {
      /* A cache that cannot be written only costs time next start. */
      berr_t cerr = BERR_INIT;
      cleanup_free char *dir = xasprintf ("%s/seccomp", cache_dir);
      size_t klen = strlen (key) + 1, blen = (size_t)out->len * sizeof (struct sock_filter);
      cleanup_free char *data = xmalloc (klen + blen);
      memcpy (data, key, klen);
      memcpy (data + klen, out->filter, blen);
      if (fs_mkdir_p (dir, 0700, &cerr) < 0
          || fs_write_atomic (path, data, klen + blen, 0600, &cerr) < 0)
        {
          log_debug ("seccomp: cache not written: %s", cerr.msg);
          berr_release (&cerr);
        }
    }
  return 0;
}

void seccomp_prog_release (struct seccomp_prog *p)
{
  free (p->filter);
  p->filter = NULL;
  p->len = 0;
}

int seccomp_install (const struct seccomp_prog *p, unsigned int flags)
{
  struct sock_fprog prog = { p->len, p->filter };
  if (syscall (SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &prog) == 0)
    return 0;
  if (errno == ENOSYS && flags == 0
      && prctl (PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0) == 0)
    return 0;
  return -errno;
}
