/* runopts_values.c — the Go standard library behaviour the flags depend on (strconv, time,
 * net, encoding/csv, path) and the typed values built on it (CPUs, ulimits, restart policies,
 * GPU requests), with Go's and docker's error texts. */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/runopts_int.h"
#include "gpu/gpus.h"
#include "util/json.h"

static char lower (char c) { return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c; }
static bool is_digit (char c) { return c >= '0' && c <= '9'; }

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
int go_parse_uint (const char *s, int base, uint64_t *out)
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
  r = go_parse_uint (s, base, &un);
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
      if (go_parse_int (as, 0, &a) != GO_NUM_OK || go_parse_uint (slash + 1, 0, &b) != GO_NUM_OK
          || b == 0)
        return cpus_syntax (s, err);
      neg = a < 0;
      unsigned __int128 num = (unsigned __int128)(neg ? -(__int128)a : (__int128)a) * 1000000000u;
      if (num % b != 0)
        return berr_setk (err, BERR_INVALID, 0, "value is too precise");
      nano = num / b;
    }
  else if (strpbrk (s, ".eE") == NULL && go_parse_int (s, 0, &(int64_t){ 0 }) == GO_NUM_OK)
    {
      /* An integer, possibly with a base prefix ("0x10") as big.Rat takes it. */
      int64_t a;
      go_parse_int (s, 0, &a);
      neg = a < 0;
      if ((neg ? -(__int128)a : (__int128)a) > INT64_MAX / 1000000000)
        return berr_setk (err, BERR_INVALID, 0, "value is too large: %s", s);
      nano = (unsigned __int128)(neg ? -(__int128)a : (__int128)a) * 1000000000u;
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

int parse_gpus (const char *s, json_t **out, berr_t *err)
{
  struct gpu_request r;
  if (gpu_request_parse_flag (s, &r, err) < 0)
    return -1;
  *out = gpu_request_to_json (&r);
  gpu_request_clear (&r);
  return 0;
}
