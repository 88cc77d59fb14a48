/* runopts_values.c — value parsers for run/create flags, each behaving as the Go function named
 * in runopts_int.h (accepted forms, results and error texts). */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <regex.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/runopts_int.h"
#include "util/fs.h"
#include "util/json.h"
#include "util/units.h"

static char lower (char c) { return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c; }
static bool is_digit (char c) { return c >= '0' && c <= '9'; }
static bool is_alpha (char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
static bool is_alnum (char c) { return is_alpha (c) || is_digit (c); }

/* ---- strconv ---- */

/* strconv's underscoreOK: '_' only between digits (a base prefix counts as a digit). */
static bool underscore_ok (const char *s)
{
  char saw = '^';
  size_t i = 0, n;
  bool hex = false;

  if (*s == '+' || *s == '-')
    s++;
  n = strlen (s);
  if (n >= 2 && s[0] == '0' && (lower (s[1]) == 'b' || lower (s[1]) == 'o' || lower (s[1]) == 'x'))
    {
      i = 2;
      saw = '0';
      hex = lower (s[1]) == 'x';
    }
  for (; i < n; i++)
    {
      if (is_digit (s[i]) || (hex && lower (s[i]) >= 'a' && lower (s[i]) <= 'f'))
        {
          saw = '0';
          continue;
        }
      if (s[i] == '_')
        {
          if (saw != '0')
            return false;
          saw = '_';
          continue;
        }
      if (saw == '_')
        return false;
      saw = '!';
    }
  return saw != '_';
}

/* strconv.ParseUint(s, base, 64): returns GO_NUM_*; on overflow it stops at once, as Go does. */
static int parse_uint (const char *s, int base, uint64_t *out)
{
  const char *s0 = s;
  bool base0 = base == 0, underscores = false;
  uint64_t n = 0;

  if (*s == '\0')
    return GO_NUM_SYNTAX;
  if (base0)
    {
      base = 10;
      if (s[0] == '0')
        {
          size_t len = strlen (s);
          if (len >= 3 && lower (s[1]) == 'b')
            base = 2, s += 2;
          else if (len >= 3 && lower (s[1]) == 'o')
            base = 8, s += 2;
          else if (len >= 3 && lower (s[1]) == 'x')
            base = 16, s += 2;
          else
            base = 8, s += 1;
        }
    }
  for (; *s; s++)
    {
      int d;
      char c = *s;
      if (c == '_' && base0)
        {
          underscores = true;
          continue;
        }
      if (is_digit (c))
        d = c - '0';
      else if (lower (c) >= 'a' && lower (c) <= 'z')
        d = lower (c) - 'a' + 10;
      else
        return GO_NUM_SYNTAX;
      if (d >= base)
        return GO_NUM_SYNTAX;
      if (n > (UINT64_MAX - (uint64_t)d) / (uint64_t)base)
        return GO_NUM_RANGE;
      n = n * (uint64_t)base + (uint64_t)d;
    }
  if (underscores && !underscore_ok (s0))
    return GO_NUM_SYNTAX;
  *out = n;
  return GO_NUM_OK;
}

int go_parse_int (const char *s, int base, int64_t *out)
{
  bool neg = false;
  uint64_t un = 0;
  int r;

  if (*s == '\0')
    return GO_NUM_SYNTAX;
  if (*s == '+')
    s++;
  else if (*s == '-')
    neg = true, s++;
  r = parse_uint (s, base, &un);
  if (r == GO_NUM_SYNTAX)
    return r;
  if (r == GO_NUM_RANGE)
    return GO_NUM_RANGE;
  if (!neg && un >= (uint64_t)1 << 63)
    return GO_NUM_RANGE;
  if (neg && un > (uint64_t)1 << 63)
    return GO_NUM_RANGE;
  *out = neg ? (int64_t)(0 - un) : (int64_t)un;
  return GO_NUM_OK;
}

char *go_num_error (const char *fn, const char *s, int code)
{
  cleanup_free char *q = opts_quote (s);
  return xasprintf ("strconv.%s: parsing %s: %s", fn, q,
                    code == GO_NUM_RANGE ? "value out of range" : "invalid syntax");
}

/* ---- time.ParseDuration ---- */

/* time's quote(): non-ASCII and control bytes as \xNN. */
static char *time_quote (const char *s)
{
  struct sbuf b;
  sbuf_init (&b);
  sbuf_addc (&b, '"');
  for (const unsigned char *p = (const unsigned char *)s; *p; p++)
    {
      if (*p >= 0x80 || *p < 0x20)
        sbuf_addf (&b, "\\x%02x", *p);
      else
        {
          if (*p == '"' || *p == '\\')
            sbuf_addc (&b, '\\');
          sbuf_addc (&b, (char)*p);
        }
    }
  sbuf_addc (&b, '"');
  return sbuf_detach (&b);
}

static int duration_invalid (const char *orig, berr_t *err)
{
  cleanup_free char *q = time_quote (orig);
  return berr_setk (err, BERR_INVALID, 0, "time: invalid duration %s", q);
}

int go_parse_duration (const char *orig, int64_t *ns, berr_t *err)
{
  static const struct
  {
    const char *name;
    uint64_t ns;
  } units[] = {
    { "ns", 1ULL },
    { "us", 1000ULL },
    { "\xc2\xb5s", 1000ULL }, /* U+00B5 micro sign */
    { "\xce\xbcs", 1000ULL }, /* U+03BC Greek mu */
    { "ms", 1000000ULL },
    { "s", 1000000000ULL },
    { "m", 60ULL * 1000000000ULL },
    { "h", 3600ULL * 1000000000ULL },
  };
  const uint64_t limit = (uint64_t)1 << 63;
  const char *s = orig;
  uint64_t d = 0;
  bool neg = false;

  if (*s == '-' || *s == '+')
    neg = *s == '-', s++;
  if (strcmp (s, "0") == 0)
    {
      *ns = 0;
      return 0;
    }
  if (*s == '\0')
    return duration_invalid (orig, err);
  while (*s)
    {
      uint64_t v = 0, f = 0;
      double scale = 1;
      bool pre = false, post = false;

      if (!(*s == '.' || is_digit (*s)))
        return duration_invalid (orig, err);
      for (; is_digit (*s); s++)
        {
          pre = true;
          if (v > limit / 10)
            return duration_invalid (orig, err);
          v = v * 10 + (uint64_t)(*s - '0');
          if (v > limit)
            return duration_invalid (orig, err);
        }
      if (*s == '.')
        {
          bool overflow = false;
          s++;
          for (; is_digit (*s); s++)
            {
              post = true;
              if (overflow)
                continue;
              if (f > (limit - 1) / 10)
                {
                  overflow = true;
                  continue;
                }
              uint64_t y = f * 10 + (uint64_t)(*s - '0');
              if (y > limit)
                {
                  overflow = true;
                  continue;
                }
              f = y;
              scale *= 10;
            }
        }
      if (!pre && !post)
        return duration_invalid (orig, err);
      size_t ul = 0;
      while (s[ul] && s[ul] != '.' && !is_digit (s[ul]))
        ul++;
      if (ul == 0)
        {
          cleanup_free char *q = time_quote (orig);
          return berr_setk (err, BERR_INVALID, 0, "time: missing unit in duration %s", q);
        }
      uint64_t unit = 0;
      for (size_t i = 0; i < ARRAY_SIZE (units); i++)
        if (strlen (units[i].name) == ul && strncmp (units[i].name, s, ul) == 0)
          unit = units[i].ns;
      if (unit == 0)
        {
          cleanup_free char *u = xstrndup (s, ul);
          cleanup_free char *qu = time_quote (u);
          cleanup_free char *q = time_quote (orig);
          return berr_setk (err, BERR_INVALID, 0, "time: unknown unit %s in duration %s", qu, q);
        }
      s += ul;
      if (v > limit / unit)
        return duration_invalid (orig, err);
      v *= unit;
      if (f > 0)
        {
          v += (uint64_t)((double)f * ((double)unit / scale));
          if (v > limit)
            return duration_invalid (orig, err);
        }
      d += v;
      if (d > limit)
        return duration_invalid (orig, err);
    }
  if (neg)
    {
      *ns = (int64_t)(0 - d);
      return 0;
    }
  if (d > limit - 1)
    return duration_invalid (orig, err);
  *ns = (int64_t)d;
  return 0;
}

/* ---- net ---- */

bool go_parse_ip (const char *s, unsigned char ip[16], bool *is4)
{
  struct in_addr a4;
  static const unsigned char mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

  if (inet_pton (AF_INET, s, &a4) == 1)
    {
      memcpy (ip, mapped, 12);
      memcpy (ip + 12, &a4, 4);
      *is4 = true;
      return true;
    }
  if (inet_pton (AF_INET6, s, ip) == 1)
    {
      *is4 = memcmp (ip, mapped, 12) == 0;
      return true;
    }
  return false;
}

char *go_ip_string (const unsigned char ip[16])
{
  static const unsigned char mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
  struct sbuf b;
  int e0 = -1, e1 = -1;

  if (memcmp (ip, mapped, 12) == 0)
    return xasprintf ("%u.%u.%u.%u", ip[12], ip[13], ip[14], ip[15]);
  /* The first longest run of zero groups becomes "::", never a single group (RFC 5952). */
  for (int i = 0; i < 16; i += 2)
    {
      int j = i;
      while (j < 16 && ip[j] == 0 && ip[j + 1] == 0)
        j += 2;
      if (j > i && j - i > e1 - e0)
        {
          e0 = i;
          e1 = j;
          i = j;
        }
    }
  if (e1 - e0 <= 2)
    e0 = e1 = -1;
  sbuf_init (&b);
  for (int i = 0; i < 16; i += 2)
    {
      if (i == e0)
        {
          sbuf_adds (&b, "::");
          i = e1;
          if (i >= 16)
            break;
        }
      else if (i > 0)
        sbuf_addc (&b, ':');
      sbuf_addf (&b, "%x", (unsigned)(ip[i] << 8 | ip[i + 1]));
    }
  return sbuf_detach (&b);
}

static int hexval (char c)
{
  if (is_digit (c))
    return c - '0';
  if (lower (c) >= 'a' && lower (c) <= 'f')
    return lower (c) - 'a' + 10;
  return -1;
}

/* net's xtoi2: two hex digits, then the separator e (or the end). */
static bool xtoi2 (const char *s, size_t avail, char e)
{
  if (avail < 2 || hexval (s[0]) < 0 || hexval (s[1]) < 0)
    return false;
  return avail == 2 || s[2] == e;
}

bool go_parse_mac (const char *s)
{
  size_t len = strlen (s), n;

  if (len < 14)
    return false;
  if (s[2] == ':' || s[2] == '-')
    {
      if ((len + 1) % 3 != 0)
        return false;
      n = (len + 1) / 3;
      if (n != 6 && n != 8 && n != 20)
        return false;
      for (size_t i = 0, x = 0; i < n; i++, x += 3)
        if (!xtoi2 (s + x, len - x, s[2]))
          return false;
      return true;
    }
  if (s[4] == '.')
    {
      if ((len + 1) % 5 != 0)
        return false;
      n = 2 * (len + 1) / 5;
      if (n != 6 && n != 8 && n != 20)
        return false;
      for (size_t i = 0, x = 0; i < n; i += 2, x += 5)
        {
          if (!xtoi2 (s + x, 2, 0) || !xtoi2 (s + x + 2, len - x - 2, s[4]))
            return false;
        }
      return true;
    }
  return false;
}

/* ---- encoding/csv: one record ---- */

int go_csv_record (const char *s, char ***fields, berr_t *err)
{
  cleanup_strv char **out = NULL;
  const char *p = s;
  struct sbuf f;

  /* Blank lines are skipped; no record at all is io.EOF. */
  while (*p == '\n' || (*p == '\r' && p[1] == '\n'))
    p += *p == '\r' ? 2 : 1;
  if (*p == '\0')
    return berr_setk (err, BERR_INVALID, 0, "EOF");
  sbuf_init (&f);
  for (;;)
    {
      sbuf_reset (&f);
      if (*p == '"')
        {
          p++;
          for (;;)
            {
              if (*p == '\0')
                {
                  sbuf_release (&f);
                  return berr_setk (err, BERR_INVALID, 0,
                                    "parse error on line 1, column %zu: extraneous or missing "
                                    "\" in quoted-field",
                                    (size_t)(p - s) + 1);
                }
              if (*p == '"' && p[1] == '"')
                {
                  sbuf_addc (&f, '"');
                  p += 2;
                  continue;
                }
              if (*p == '"')
                {
                  p++;
                  break;
                }
              sbuf_addc (&f, *p++);
            }
          if (*p != ',' && *p != '\0' && *p != '\n' && !(*p == '\r' && p[1] == '\n'))
            {
              sbuf_release (&f);
              return berr_setk (err, BERR_INVALID, 0,
                                "parse error on line 1, column %zu: extraneous or missing \" in "
                                "quoted-field",
                                (size_t)(p - s) + 1);
            }
        }
      else
        {
          while (*p && *p != ',' && *p != '\n' && !(*p == '\r' && p[1] == '\n'))
            {
              if (*p == '"')
                {
                  sbuf_release (&f);
                  return berr_setk (err, BERR_INVALID, 0,
                                    "parse error on line 1, column %zu: bare \" in "
                                    "non-quoted-field",
                                    (size_t)(p - s) + 1);
                }
              sbuf_addc (&f, *p++);
            }
        }
      strv_push (&out, f.buf ? f.buf : "");
      if (*p != ',')
        break;
      p++;
    }
  sbuf_release (&f);
  *fields = steal_pointer (&out);
  return 0;
}

/* ---- docker/cli opts ---- */

static int cpus_syntax (const char *s, berr_t *err)
{
  return berr_setk (err, BERR_INVALID, 0, "failed to parse %s as a rational number", s);
}

int parse_nano_cpus (const char *s, int64_t *out, berr_t *err)
{
  /* big.Rat.SetString for the forms people write: a decimal with optional fraction and exponent,
   * or "a/b". The value times 1e9 must be an integer. */
  const char *slash = strchr (s, '/');
  unsigned __int128 nano;
  bool neg = false;

  if (slash)
    {
      int64_t a;
      uint64_t b;
      cleanup_free char *as = xstrndup (s, (size_t)(slash - s));
      if (go_parse_int (as, 0, &a) != GO_NUM_OK || parse_uint (slash + 1, 0, &b) != GO_NUM_OK
          || b == 0)
        return cpus_syntax (s, err);
      neg = a < 0;
      unsigned __int128 num = (unsigned __int128)(neg ? -(__int128)a : (__int128)a) * 1000000000u;
      if (num % b != 0)
        return berr_setk (err, BERR_INVALID, 0, "value is too precise");
      nano = num / b;
    }
  else
    {
      /* Significant digits D and a power of ten E: value = D * 10^E. */
      struct sbuf d;
      const char *p = s;
      int64_t e = 0;
      bool digits = false;
      if (*p == '+' || *p == '-')
        neg = *p++ == '-';
      sbuf_init (&d);
      for (; is_digit (*p); p++)
        {
          digits = true;
          if (d.len || *p != '0')
            sbuf_addc (&d, *p);
        }
      if (*p == '.')
        for (p++; is_digit (*p); p++)
          {
            digits = true;
            e--;
            if (d.len || *p != '0')
              sbuf_addc (&d, *p);
          }
      if (digits && (*p == 'e' || *p == 'E'))
        {
          int64_t x;
          if (go_parse_int (p + 1, 10, &x) != GO_NUM_OK || x > 1000000 || x < -1000000)
            {
              sbuf_release (&d);
              return cpus_syntax (s, err);
            }
          e += x;
          p += strlen (p);
        }
      if (!digits || *p)
        {
          sbuf_release (&d);
          return cpus_syntax (s, err);
        }
      while (d.len && d.buf[d.len - 1] == '0')
        d.buf[--d.len] = '\0', e++;
      e += 9;
      nano = 0;
      if (d.len)
        {
          if (e < 0)
            {
              sbuf_release (&d);
              return berr_setk (err, BERR_INVALID, 0, "value is too precise");
            }
          if ((int64_t)d.len + e > 19)
            {
              sbuf_release (&d);
              return berr_setk (err, BERR_INVALID, 0, "value is too large: %s", s);
            }
          for (size_t i = 0; i < d.len; i++)
            nano = nano * 10 + (unsigned)(d.buf[i] - '0');
          for (; e > 0; e--)
            nano *= 10;
        }
      sbuf_release (&d);
    }
  if (nano > (unsigned __int128)INT64_MAX)
    return berr_setk (err, BERR_INVALID, 0, "value is too large: %s", s);
  *out = neg ? -(int64_t)nano : (int64_t)nano;
  return 0;
}

int parse_ulimit (const char *s, json_t **out, berr_t *err)
{
  static const char *const names[]
      = { "core",   "cpu",   "data", "fsize",  "locks",  "memlock",    "msgqueue", "nice",
          "nofile", "nproc", "rss",  "rtprio", "rttime", "sigpending", "stack" };
  const char *eq = strchr (s, '=');
  int64_t soft, hard;
  int r;

  if (eq == NULL)
    return berr_setk (err, BERR_INVALID, 0, "invalid ulimit argument: %s", s);
  cleanup_free char *name = xstrndup (s, (size_t)(eq - s));
  bool known = false;
  for (size_t i = 0; i < ARRAY_SIZE (names); i++)
    known |= strcmp (names[i], name) == 0;
  if (!known)
    return berr_setk (err, BERR_INVALID, 0, "invalid ulimit type: %s", name);
  const char *vals = eq + 1;
  const char *colon = strchr (vals, ':');
  if (colon && strchr (colon + 1, ':'))
    return berr_setk (err, BERR_INVALID, 0,
                      "too many limit value arguments - %s, can only have up to two, "
                      "`soft[:hard]`",
                      vals);
  cleanup_free char *softs = colon ? xstrndup (vals, (size_t)(colon - vals)) : xstrdup (vals);
  if (colon)
    {
      r = go_parse_int (colon + 1, 10, &hard);
      if (r != GO_NUM_OK)
        {
          cleanup_free char *m = go_num_error ("ParseInt", colon + 1, r);
          return berr_setk (err, BERR_INVALID, 0, "%s", m);
        }
    }
  r = go_parse_int (softs, 10, &soft);
  if (r != GO_NUM_OK)
    {
      cleanup_free char *m = go_num_error ("ParseInt", softs, r);
      return berr_setk (err, BERR_INVALID, 0, "%s", m);
    }
  if (!colon)
    hard = soft;
  if (hard != -1)
    {
      if (soft == -1)
        return berr_setk (err, BERR_INVALID, 0,
                          "ulimit soft limit must be less than or equal to hard limit: soft: -1 "
                          "(unlimited), hard: %lld",
                          (long long)hard);
      if (soft > hard)
        return berr_setk (err, BERR_INVALID, 0,
                          "ulimit soft limit must be less than or equal to hard limit: %lld > "
                          "%lld",
                          (long long)soft, (long long)hard);
    }
  *out = json_pack ("{s:s, s:I, s:I}", "Name", name, "Hard", (json_int_t)hard, "Soft",
                    (json_int_t)soft);
  return 0;
}

int parse_restart_policy (const char *s, json_t **out, berr_t *err)
{
  const char *colon = strchr (s, ':');
  int64_t count = 0;

  if (*s == '\0')
    {
      *out = json_pack ("{s:s, s:i}", "Name", "", "MaximumRetryCount", 0);
      return 0;
    }
  if (colon == s)
    return berr_setk (err, BERR_INVALID, 0,
                      "invalid restart policy format: no policy provided before colon");
  if (colon && colon[1] && go_parse_int (colon + 1, 10, &count) != GO_NUM_OK)
    return berr_setk (err, BERR_INVALID, 0,
                      "invalid restart policy format: maximum retry count must be an integer");
  cleanup_free char *name = colon ? xstrndup (s, (size_t)(colon - s)) : xstrdup (s);
  *out = json_pack ("{s:s, s:I}", "Name", name, "MaximumRetryCount", (json_int_t)count);
  return 0;
}

static int gpu_count (const char *s, int64_t *out, berr_t *err)
{
  if (strcmp (s, "all") == 0)
    {
      *out = -1;
      return 0;
    }
  int r = go_parse_int (s, 10, out);
  if (r != GO_NUM_OK)
    return berr_setk (err, BERR_INVALID, 0,
                      "invalid count (%s): value must be either \"all\" or an integer: %s", s,
                      r == GO_NUM_RANGE ? "value out of range" : "invalid syntax");
  return 0;
}

static json_t *split_to_json (const char *s, char sep)
{
  json_t *a = json_array ();
  const char *p = s;
  for (;;)
    {
      const char *e = strchr (p, sep);
      size_t n = e ? (size_t)(e - p) : strlen (p);
      json_array_append_new (a, json_stringn (p, n));
      if (!e)
        break;
      p = e + 1;
    }
  return a;
}

int parse_gpus (const char *s, json_t **out, berr_t *err)
{
  cleanup_strv char **fields = NULL;
  cleanup_strv char **seen = NULL;
  cleanup_json json_t *device_ids = NULL, *caps = NULL, *options = NULL;
  cleanup_free char *driver = xstrdup ("");
  int64_t count = 0;

  if (go_csv_record (s, &fields, err) < 0)
    return -1;
  for (char **f = fields; *f; f++)
    {
      char *eq = strchr (*f, '=');
      cleanup_free char *key = eq ? xstrndup (*f, (size_t)(eq - *f)) : xstrdup (*f);
      const char *val = eq ? eq + 1 : "";
      if (strv_contains (seen, key))
        return berr_setk (err, BERR_INVALID, 0, "gpu request key '%s' can be specified only once",
                          key);
      strv_push (&seen, key);
      if (!eq)
        {
          strv_push (&seen, "count");
          if (gpu_count (key, &count, err) < 0)
            return -1;
          continue;
        }
      if (strcmp (key, "driver") == 0)
        {
          free (driver);
          driver = xstrdup (val);
        }
      else if (strcmp (key, "count") == 0)
        {
          if (gpu_count (val, &count, err) < 0)
            return -1;
        }
      else if (strcmp (key, "device") == 0)
        {
          json_decref (device_ids);
          device_ids = split_to_json (val, ',');
        }
      else if (strcmp (key, "capabilities") == 0)
        {
          json_t *c = split_to_json (val, ',');
          json_array_append_new (c, json_string ("gpu"));
          json_decref (caps);
          caps = json_pack ("[o]", c);
        }
      else if (strcmp (key, "options") == 0)
        {
          cleanup_strv char **ofs = NULL;
          berr_t e2 = BERR_INIT;
          if (go_csv_record (val, &ofs, &e2) < 0)
            {
              berr_setk (err, BERR_INVALID, 0, "failed to read gpu options: %s", e2.msg);
              berr_release (&e2);
              return -1;
            }
          json_decref (options);
          options = json_object ();
          for (char **o = ofs; *o; o++)
            {
              char *oe = strchr (*o, '=');
              cleanup_free char *k = oe ? xstrndup (*o, (size_t)(oe - *o)) : xstrdup (*o);
              json_object_set_new (options, k, json_string (oe ? oe + 1 : ""));
            }
          json_sort_object (options);
        }
      else
        return berr_setk (err, BERR_INVALID, 0, "unexpected key '%s' in '%s'", key, *f);
    }
  if (!strv_contains (seen, "count") && device_ids == NULL)
    count = 1;
  json_t *ids = device_ids ? steal_pointer (&device_ids) : json_null ();
  json_t *cp = caps ? steal_pointer (&caps) : json_pack ("[[s]]", "gpu");
  json_t *op = options ? steal_pointer (&options) : json_object ();
  *out = json_pack ("{s:s, s:I, s:o, s:o, s:o}", "Driver", driver, "Count", (json_int_t)count,
                    "DeviceIDs", ids, "Capabilities", cp, "Options", op);
  return 0;
}

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

/* Go's path.Clean. */
char *go_path_clean (const char *p)
{
  if (*p == '\0')
    return xstrdup (".");
  bool rooted = *p == '/';
  size_t n = strlen (p);
  char *out = xmalloc (n + 2);
  size_t w = 0, dotdot = 0;
  size_t r = 0;
  if (rooted)
    {
      out[w++] = '/';
      r = 1;
      dotdot = 1;
    }
  while (r < n)
    {
      if (p[r] == '/')
        r++;
      else if (p[r] == '.' && (r + 1 == n || p[r + 1] == '/'))
        r++;
      else if (p[r] == '.' && p[r + 1] == '.' && (r + 2 == n || p[r + 2] == '/'))
        {
          r += 2;
          if (w > dotdot)
            {
              w--;
              while (w > dotdot && out[w] != '/')
                w--;
            }
          else if (!rooted)
            {
              if (w > 0)
                out[w++] = '/';
              out[w++] = '.';
              out[w++] = '.';
              dotdot = w;
            }
        }
      else
        {
          if ((rooted && w != 1) || (!rooted && w != 0))
            out[w++] = '/';
          for (; r < n && p[r] != '/'; r++)
            out[w++] = p[r];
        }
    }
  if (w == 0)
    out[w++] = '.';
  out[w] = '\0';
  return out;
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
      src = go_path_clean (part[0]);
      break;
    case 2:
      if (valid_device_mode (part[1]))
        {
          container_path = part[0];
          src = go_path_clean (part[0]);
          perm = xstrdup (part[1]);
        }
      else
        {
          container_path = part[1];
          src = xstrdup (part[0]);
          dst = go_path_clean (part[1]);
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
      if (c[1] == '+' || c[1] == '-' || parse_uint (c + 1, 10, &u) != GO_NUM_OK
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
  if (c[1] == '+' || c[1] == '-' || parse_uint (c + 1, 10, &w) != GO_NUM_OK || w > 65535
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
