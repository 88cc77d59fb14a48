/* runopts_validate.c — docker/cli's flag validators (opts.Validate*), env/label files (kvfile),
 * device specifications and -v as the CLI reads it, each with upstream's error texts. */
#include <errno.h>
#include <fcntl.h>
#include <regex.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/fs.h"
#include "cli/cli.h"
#include "cli/runopts_int.h"
#include "util/json.h"
#include "util/units.h"

static char lower (char c) { return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c; }
static bool is_digit (char c) { return c >= '0' && c <= '9'; }
static bool is_alpha (char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
static bool is_alnum (char c) { return is_alpha (c) || is_digit (c); }

/* ---- kvfile ---- */

static bool utf8_valid (const unsigned char *s, size_t n)
{
  size_t i = 0;
  while (i < n)
    {
      unsigned c = s[i];
      size_t len;
      uint32_t cp;
      if (c < 0x80)
        {
          i++;
          continue;
        }
      if (c >= 0xc2 && c <= 0xdf)
        len = 2, cp = c & 0x1f;
      else if (c >= 0xe0 && c <= 0xef)
        len = 3, cp = c & 0x0f;
      else if (c >= 0xf0 && c <= 0xf4)
        len = 4, cp = c & 0x07;
      else
        return false;
      if (i + len > n)
        return false;
      for (size_t k = 1; k < len; k++)
        {
          if ((s[i + k] & 0xc0) != 0x80)
            return false;
          cp = cp << 6 | (s[i + k] & 0x3f);
        }
      if ((len == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff)))
          || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)))
        return false;
      i += len;
    }
  return true;
}

/* Length of a Unicode white-space character (unicode.IsSpace) at s, or 0. */
static size_t space_len (const unsigned char *s, size_t n)
{
  if (n >= 1 && (s[0] == ' ' || (s[0] >= '\t' && s[0] <= '\r')))
    return 1;
  if (n >= 2 && s[0] == 0xc2 && (s[1] == 0x85 || s[1] == 0xa0))
    return 2;
  if (n >= 3 && s[0] == 0xe1 && s[1] == 0x9a && s[2] == 0x80) /* U+1680 */
    return 3;
  if (n >= 3 && s[0] == 0xe2 && s[1] == 0x80
      && (s[2] <= 0x8a || s[2] == 0xa8 || s[2] == 0xa9
          || s[2] == 0xaf)) /* U+2000-200A,2028,2029,202F */
    return 3;
  if (n >= 3 && s[0] == 0xe2 && s[1] == 0x81 && s[2] == 0x9f) /* U+205F */
    return 3;
  if (n >= 3 && s[0] == 0xe3 && s[1] == 0x80 && s[2] == 0x80) /* U+3000 */
    return 3;
  return 0;
}

/* bufio.Scanner's default buffer: a line longer than this is an error. */
#define KV_MAX_LINE (64 * 1024)

int kvfile_parse_buf (const char *data, size_t len, kv_lookup_fn lookup, void *ud, char ***out,
                      berr_t *err)
{
  cleanup_strv char **lines = xcalloc (1, sizeof (char *));
  size_t pos = 0;

  for (int lineno = 1; pos < len; lineno++)
    {
      const char *nl = memchr (data + pos, '\n', len - pos);
      size_t n = nl ? (size_t)(nl - (data + pos)) : len - pos;
      const unsigned char *l = (const unsigned char *)data + pos;
      pos += n + (nl ? 1 : 0);
      if (n >= KV_MAX_LINE)
        return berr_setk (err, BERR_INVALID, 0, "bufio.Scanner: token too long");
      if (n > 0 && l[n - 1] == '\r')
        n--;
      if (!utf8_valid (l, n))
        {
          struct sbuf b;
          sbuf_init (&b);
          for (size_t i = 0; i < n; i++)
            sbuf_addf (&b, "%s%u", i ? " " : "", l[i]);
          berr_setk (err, BERR_INVALID, 0, "invalid utf8 bytes at line %d: [%s]", lineno,
                     b.buf ? b.buf : "");
          sbuf_release (&b);
          return -1;
        }
      if (lineno == 1 && n >= 3 && l[0] == 0xef && l[1] == 0xbb && l[2] == 0xbf)
        l += 3, n -= 3;
      size_t sp;
      while ((sp = space_len (l, n)) > 0)
        l += sp, n -= sp;
      if (n == 0 || l[0] == '#')
        continue;
      if (memchr (l, '\0', n))
        /* Go would pass it on; a C string cannot hold it, and no environment can either. */
        return berr_setk (err, BERR_INVALID, 0, "line %d contains a NUL byte", lineno);
      cleanup_free char *line = xstrndup ((const char *)l, n);
      char *eq = strchr (line, '=');
      cleanup_free char *key = eq ? xstrndup (line, (size_t)(eq - line)) : xstrdup (line);
      if (*key == '\0')
        return berr_setk (err, BERR_INVALID, 0, "no variable name on line '%s'", line);
      if (strpbrk (key, " \t"))
        return berr_setk (err, BERR_INVALID, 0, "variable '%s' contains whitespaces", key);
      if (eq)
        {
          strv_push (&lines, line);
          continue;
        }
      const char *value;
      if (lookup && lookup (ud, line, &value))
        strv_push_take (&lines, xasprintf ("%s=%s", key, value));
    }
  *out = steal_pointer (&lines);
  return 0;
}

int kvfile_parse_file (const char *path, kv_lookup_fn lookup, void *ud, char ***out, berr_t *err)
{
  cleanup_close int fd = open (path, O_RDONLY | O_CLOEXEC);
  cleanup_free char *data = NULL;
  size_t len = 0, cap = 0;

  if (fd < 0)
    return berr_setk (err, errno == ENOENT ? BERR_NOT_FOUND : BERR_INVALID, 0, "open %s: %s", path,
                      errno == ENOENT ? "no such file or directory" : strerror (errno));
  for (;;)
    {
      if (len == cap)
        {
          cap = cap ? cap * 2 : 4096;
          data = xrealloc (data, cap);
        }
      ssize_t r = read (fd, data + len, cap - len);
      if (r < 0 && errno == EINTR)
        continue;
      if (r < 0)
        return berr_setk (err, BERR_INVALID, 0, "read %s: %s", path, strerror (errno));
      if (r == 0)
        break;
      len += (size_t)r;
    }
  if (kvfile_parse_buf (data ? data : "", len, lookup, ud, out, err) < 0)
    return berr_wrap (err, "invalid env file (%s)", path);
  return 0;
}

/* ---- validators ---- */

int validate_env (const char *v, char **out, berr_t *err)
{
  const char *eq = strchr (v, '=');
  *out = NULL;
  if (v[0] == '\0' || eq == v)
    return berr_setk (err, BERR_INVALID, 0, "invalid environment variable: %s", v);
  if (eq)
    return 0;
  const char *val = getenv (v);
  if (val)
    *out = xasprintf ("%s=%s", v, val);
  return 0;
}

int validate_label (const char *v, berr_t *err)
{
  const char *eq = strchr (v, '=');
  size_t n = eq ? (size_t)(eq - v) : strlen (v);
  const char *k = v;
  while (n > 0 && (*k == ' ' || *k == '\t'))
    k++, n--;
  if (n == 0)
    return berr_setk (err, BERR_INVALID, 0, "invalid label '%s': empty name", v);
  if (memchr (k, ' ', n) || memchr (k, '\t', n))
    return berr_setk (err, BERR_INVALID, 0, "label '%.*s' contains whitespaces", (int)n, k);
  return 0;
}

/* strings.TrimSpace for ASCII white space (what appears in flags). */
static char *trim_space (const char *s)
{
  while (*s == ' ' || (*s >= '\t' && *s <= '\r'))
    s++;
  size_t n = strlen (s);
  while (n > 0 && (s[n - 1] == ' ' || (s[n - 1] >= '\t' && s[n - 1] <= '\r')))
    n--;
  return xstrndup (s, n);
}

int validate_ip_address (const char *v, char **out, berr_t *err)
{
  cleanup_free char *t = trim_space (v);
  unsigned char ip[16];
  bool is4;
  if (!go_parse_ip (t, ip, &is4))
    return berr_setk (err, BERR_INVALID, 0, "IP address is not correctly formatted: %s", v);
  *out = go_ip_string (ip);
  return 0;
}

int validate_extra_host (const char *v, char **out, berr_t *err)
{
  const char *sep = strchr (v, '=');
  if (!sep)
    sep = strchr (v, ':');
  cleanup_free char *q = opts_quote (v);
  if (!sep || sep == v || memchr (v, ':', (size_t)(sep - v)))
    return berr_setk (err, BERR_INVALID, 0, "bad format for add-host: %s", q);
  cleanup_free char *host = xstrndup (v, (size_t)(sep - v));
  cleanup_free char *addr = xstrdup (sep + 1);
  if (strcmp (addr, "host-gateway") != 0)
    {
      size_t n = strlen (addr);
      if (n > 2 && addr[0] == '[' && addr[n - 1] == ']')
        {
          memmove (addr, addr + 1, n - 2);
          addr[n - 2] = '\0';
        }
      cleanup_free char *norm = NULL;
      berr_t e2 = BERR_INIT;
      if (validate_ip_address (addr, &norm, &e2) < 0)
        {
          berr_release (&e2);
          cleanup_free char *qa = opts_quote (addr);
          return berr_setk (err, BERR_INVALID, 0, "invalid IP address in add-host: %s", qa);
        }
    }
  *out = xasprintf ("%s:%s", host, addr);
  return 0;
}

int validate_dns_search (const char *v, char **out, berr_t *err)
{
  /* opts.validateDomain's expression, POSIX-spelled; its "(:?" groups allow a stray ':' before
   * each label, as upstream's (a typo for "(?:") does. */
  static const char re_src[]
      = "^(:?(:?[a-zA-Z0-9]|(:?[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]))"
        "(:?\\.(:?[a-zA-Z0-9]|(:?[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])))*)\\.?[[:space:]]*$";
  const char *s = v;
  size_t n;
  regex_t re;
  regmatch_t m[2];

  while (*s == ' ')
    s++;
  n = strlen (s);
  while (n > 0 && s[n - 1] == ' ')
    n--;
  cleanup_free char *t = xstrndup (s, n);
  if (strcmp (t, ".") == 0)
    {
      *out = steal_pointer (&t);
      return 0;
    }
  bool alpha = false;
  for (const char *p = t; *p; p++)
    alpha |= is_alpha (*p);
  if (!alpha)
    return berr_setk (err, BERR_INVALID, 0, "%s is not a valid domain", t);
  if (regcomp (&re, re_src, REG_EXTENDED) != 0)
    return berr_setk (err, BERR_GENERIC, 0, "internal error: bad domain expression");
  int r = regexec (&re, t, 2, m, 0);
  regfree (&re);
  if (r != 0 || m[1].rm_so < 0 || m[1].rm_eo - m[1].rm_so >= 255)
    return berr_setk (err, BERR_INVALID, 0, "%s is not a valid domain", t);
  *out = xstrndup (t + m[1].rm_so, (size_t)(m[1].rm_eo - m[1].rm_so));
  return 0;
}

int validate_sysctl (const char *v, berr_t *err)
{
  static const char *const allowed[]
      = { "kernel.msgmax", "kernel.msgmnb", "kernel.msgmni", "kernel.sem",
          "kernel.shmall", "kernel.shmmax", "kernel.shmmni", "kernel.shm_rmid_forced" };
  const char *eq = strchr (v, '=');
  if (eq && eq != v)
    {
      cleanup_free char *k = xstrndup (v, (size_t)(eq - v));
      for (size_t i = 0; i < ARRAY_SIZE (allowed); i++)
        if (strcmp (allowed[i], k) == 0)
          return 0;
      if (str_has_prefix (k, "net.") || str_has_prefix (k, "fs.mqueue."))
        return 0;
    }
  return berr_setk (err, BERR_INVALID, 0, "sysctl '%s' is not allowed", v);
}

int validate_link (const char *v, berr_t *err)
{
  if (*v == '\0')
    return berr_setk (err, BERR_INVALID, 0, "empty string specified for links");
  const char *c = strchr (v, ':');
  if (c && strchr (c + 1, ':'))
    return berr_setk (err, BERR_INVALID, 0, "bad format for links: %s", v);
  return 0;
}

int validate_attach (const char *v, char **out, berr_t *err)
{
  cleanup_free char *l = xstrdup (v);
  for (char *p = l; *p; p++)
    *p = lower (*p);
  if (strcmp (l, "stdin") && strcmp (l, "stdout") && strcmp (l, "stderr"))
    return berr_setk (err, BERR_INVALID, 0, "valid streams are STDIN, STDOUT and STDERR");
  *out = steal_pointer (&l);
  return 0;
}

int validate_device_cgroup_rule (const char *v, berr_t *err)
{
  regex_t re;
  if (regcomp (&re, "^[acb] ([0-9]+|\\*):([0-9]+|\\*) [rwm]{1,3}$", REG_EXTENDED | REG_NOSUB) != 0)
    return berr_setk (err, BERR_GENERIC, 0, "internal error: bad cgroup rule expression");
  int r = regexec (&re, v, 0, NULL, 0);
  regfree (&re);
  if (r != 0)
    return berr_setk (err, BERR_INVALID, 0, "invalid device cgroup format '%s'", v);
  return 0;
}

static bool valid_device_mode (const char *m)
{
  bool seen[3] = { false, false, false };
  if (*m == '\0')
    return false;
  for (; *m; m++)
    {
      int k = *m == 'r' ? 0 : *m == 'w' ? 1 : *m == 'm' ? 2 : -1;
      if (k < 0 || seen[k])
        return false;
      seen[k] = true;
    }
  return true;
}

int parse_linux_device (const char *v, json_t **out, berr_t *err)
{
  size_t colons = 0;
  for (const char *p = v; *p; p++)
    colons += *p == ':';
  if (colons > 2 || *v == ':' || *v == '\0')
    return berr_setk (err, BERR_INVALID, 0, "bad format for path: %s", v);

  cleanup_strv char **part = NULL;
  for (const char *p = v;;)
    {
      const char *c = strchr (p, ':');
      strv_push_take (&part, c ? xstrndup (p, (size_t)(c - p)) : xstrdup (p));
      if (!c)
        break;
      p = c + 1;
    }
  /* validateLinuxPath: clean the container path, check the mode, require absolute paths. */
  const char *container_path;
  cleanup_free char *src = NULL, *dst = NULL, *perm = NULL;
  switch (strv_len (part))
    {
    case 1:
      container_path = part[0];
      src = fs_path_clean (part[0]);
      break;
    case 2:
      if (valid_device_mode (part[1]))
        {
          container_path = part[0];
          src = fs_path_clean (part[0]);
          perm = xstrdup (part[1]);
        }
      else
        {
          container_path = part[1];
          src = xstrdup (part[0]);
          dst = fs_path_clean (part[1]);
        }
      break;
    default:
      container_path = part[1];
      if (!valid_device_mode (part[2]))
        return berr_setk (err, BERR_INVALID, 0, "bad mode specified: %s", part[2]);
      src = xstrdup (part[0]);
      dst = xstrdup (part[1]);
      perm = xstrdup (part[2]);
      break;
    }
  if (container_path[0] != '/')
    return berr_setk (err, BERR_INVALID, 0, "%s is not an absolute path", container_path);
  *out = json_pack ("{s:s, s:s, s:s}", "PathOnHost", src, "PathInContainer", dst ? dst : src,
                    "CgroupPermissions", perm ? perm : "rwm");
  return 0;
}

static bool cdi_vendor_or_class_ok (const char *s, size_t n)
{
  if (n == 0 || !is_alpha (s[0]) || !is_alnum (s[n - 1]))
    return false;
  for (size_t i = 1; i + 1 < n; i++)
    if (!is_alnum (s[i]) && s[i] != '_' && s[i] != '-' && s[i] != '.')
      return false;
  return true;
}

bool is_cdi_device_name (const char *v)
{
  /* tags.cncf.io/container-device-interface parser.IsQualifiedName: vendor/class=name. */
  if (*v == '\0' || *v == '/')
    return false;
  const char *eq = strchr (v, '=');
  if (!eq || eq == v || eq[1] == '\0')
    return false;
  const char *slash = memchr (v, '/', (size_t)(eq - v));
  if (!slash || slash == v || slash + 1 == eq)
    return false;
  if (!cdi_vendor_or_class_ok (v, (size_t)(slash - v))
      || !cdi_vendor_or_class_ok (slash + 1, (size_t)(eq - slash - 1)))
    return false;
  const char *name = eq + 1;
  size_t n = strlen (name);
  if (!is_alnum (name[0]))
    return false;
  if (n == 1)
    return true;
  for (size_t i = 1; i + 1 < n; i++)
    if (!is_alnum (name[i]) && !strchr ("_-.:", name[i]))
      return false;
  return is_alnum (name[n - 1]);
}

int parse_throttle_device (const char *v, bool bytes, json_t **out, berr_t *err)
{
  const char *c = strchr (v, ':');
  if (!c || c == v)
    return berr_setk (err, BERR_INVALID, 0, "bad format: %s", v);
  if (!str_has_prefix (v, "/dev/"))
    return berr_setk (err, BERR_INVALID, 0, "bad format for device path: %s", v);
  cleanup_free char *path = xstrndup (v, (size_t)(c - v));
  int64_t rate;
  if (bytes)
    {
      berr_t e2 = BERR_INIT;
      int r = units_ram_in_bytes (c + 1, &rate, &e2);
      berr_release (&e2);
      if (r < 0 || rate < 0)
        return berr_setk (err, BERR_INVALID, 0,
                          "invalid rate for device: %s. The correct format is "
                          "<device-path>:<number>[<unit>]. Number must be a positive integer. "
                          "Unit is optional and can be kb, mb, or gb",
                          v);
    }
  else
    {
      uint64_t u;
      if (c[1] == '+' || c[1] == '-' || go_parse_uint (c + 1, 10, &u) != GO_NUM_OK
          || u > (uint64_t)INT64_MAX)
        return berr_setk (err, BERR_INVALID, 0,
                          "invalid rate for device: %s. The correct format is "
                          "<device-path>:<number>. Number must be a positive integer",
                          v);
      rate = (int64_t)u;
    }
  *out = json_pack ("{s:s, s:I}", "Path", path, "Rate", (json_int_t)rate);
  return 0;
}

int parse_weight_device (const char *v, json_t **out, berr_t *err)
{
  const char *c = strchr (v, ':');
  uint64_t w;
  if (!c || c == v)
    return berr_setk (err, BERR_INVALID, 0, "bad format: %s", v);
  if (!str_has_prefix (v, "/dev/"))
    return berr_setk (err, BERR_INVALID, 0, "bad format for device path: %s", v);
  if (c[1] == '+' || c[1] == '-' || go_parse_uint (c + 1, 10, &w) != GO_NUM_OK || w > 65535
      || (w > 0 && (w < 10 || w > 1000)))
    return berr_setk (err, BERR_INVALID, 0, "invalid weight for device: %s", v);
  cleanup_free char *path = xstrndup (v, (size_t)(c - v));
  *out = json_pack ("{s:s, s:I}", "Path", path, "Weight", (json_int_t)w);
  return 0;
}

/* ---- -v: docker/cli internal/volumespec.Parse ---- */

void cli_volume_release (struct cli_volume *v)
{
  free (v->source);
  free (v->target);
  v->source = v->target = NULL;
}

int parse_cli_volume (const char *spec, struct cli_volume *out, berr_t *err)
{
  size_t n = strlen (spec);
  memset (out, 0, sizeof *out);
  out->type = "volume";
  if (n == 0)
    return berr_setk (err, BERR_INVALID, 0, "invalid empty volume spec");
  if (n <= 2)
    {
      out->target = xstrdup (spec);
      return 0;
    }
  /* Sections split at ':', except the colon of a Windows drive letter ("c:"), which upstream
   * recognises on every platform. The options section is not checked here (the daemon does). */
  struct sbuf buf;
  sbuf_init (&buf);
  for (size_t i = 0; i <= n; i++)
    {
      char c = i < n ? spec[i] : '\0';
      if (c != '\0' && (c != ':' || (buf.len == 1 && is_alpha (buf.buf[0]))))
        {
          sbuf_addc (&buf, c);
          continue;
        }
      const char *why = NULL;
      if (buf.len == 0)
        why = "empty section between colons";
      else if (out->source == NULL && c == '\0')
        out->target = xstrdup (buf.buf);
      else if (out->source == NULL)
        out->source = xstrdup (buf.buf);
      else if (out->target == NULL)
        out->target = xstrdup (buf.buf);
      else if (c == ':')
        why = "too many colons";
      if (why)
        {
          sbuf_release (&buf);
          cli_volume_release (out);
          return berr_setk (err, BERR_INVALID, 0, "invalid spec: %s: %s", spec, why);
        }
      sbuf_reset (&buf);
    }
  sbuf_release (&buf);
  if (out->source)
    {
      const char *s = out->source;
      bool file
          = s[0] == '.' || s[0] == '/' || s[0] == '~'
            || (strlen (s) > 1 && (str_has_prefix (s, "\\\\") || (is_alpha (s[0]) && s[1] == ':')));
      out->type = file ? "bind" : "volume";
    }
  return 0;
}

/* ---- JSON ---- */

static int cmp_str (const void *a, const void *b)
{
  return strcmp (*(const char *const *)a, *(const char *const *)b);
}

void json_sort_object (json_t *obj)
{
  size_t n = json_object_size (obj), i = 0;
  if (n < 2)
    return;
  const char **keys = xcalloc (n, sizeof (char *));
  json_t **vals = xcalloc (n, sizeof (json_t *));
  const char *k;
  json_t *v;
  json_object_foreach (obj, k, v) { keys[i++] = xstrdup (k); }
  qsort (keys, n, sizeof (char *), cmp_str);
  for (i = 0; i < n; i++)
    vals[i] = json_incref (json_object_get (obj, keys[i]));
  json_object_clear (obj);
  for (i = 0; i < n; i++)
    {
      json_object_set_new (obj, keys[i], vals[i]);
      free ((char *)keys[i]);
    }
  free (keys);
  free (vals);
}
