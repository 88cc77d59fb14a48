/* units.c — docker/go-units sizes and durations, and Go's RFC 3339 time format. */
#include "units.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define NS_PER_SEC 1000000000LL

static bool is_digit (char c) { return c >= '0' && c <= '9'; }

static bool is_hex_digit (char c)
{
  return is_digit (c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static char ascii_lower (char c) { return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c; }

static bool equals_ci (const char *s, size_t n, const char *word)
{
  size_t wl = strlen (word);
  if (n != wl)
    return false;
  for (size_t i = 0; i < wl; i++)
    if (ascii_lower (s[i]) != word[i])
      return false;
  return true;
}

/* Go allows "_" only between digits (or right after a 0x prefix). */
static bool underscores_ok (const char *s, size_t n)
{
  char saw = '^';
  size_t i = 0;
  bool hex = false;

  if (n > 0 && (s[0] == '+' || s[0] == '-'))
    i++;
  if (n - i >= 2 && s[i] == '0' && ascii_lower (s[i + 1]) == 'x')
    {
      i += 2;
      saw = '0';
      hex = true;
    }
  for (; i < n; i++)
    {
      if (is_digit (s[i]) || (hex && is_hex_digit (s[i])))
        saw = '0';
      else if (s[i] == '_')
        {
          if (saw != '0')
            return false;
          saw = '_';
        }
      else
        {
          if (saw == '_')
            return false;
          saw = '!';
        }
    }
  return saw != '_';
}

/* strconv.ParseFloat's syntax: [+-] then "inf"/"infinity" (or an unsigned "nan"), a decimal
 * number with optional "." and e-exponent, or 0x hex mantissa with a mandatory p-exponent;
 * "_" between digits. Out of range is an error, as upstream's ErrRange. */
static bool go_parse_float (const char *s, size_t n, double *out)
{
  size_t i = 0;
  bool hex = false, digits = false, dot = false, underscores = false;
  char exp_char = 'e';

  if (n == 0)
    return false;
  if (s[0] == '+' || s[0] == '-')
    i++;
  if (equals_ci (s + i, n - i, "inf") || equals_ci (s + i, n - i, "infinity"))
    {
      *out = s[0] == '-' ? -INFINITY : INFINITY;
      return true;
    }
  if (equals_ci (s, n, "nan"))
    {
      *out = NAN;
      return true;
    }

  if (i + 2 < n && s[i] == '0' && ascii_lower (s[i + 1]) == 'x')
    {
      hex = true;
      exp_char = 'p';
      i += 2;
    }
  for (; i < n; i++)
    {
      if (s[i] == '_')
        underscores = true;
      else if (s[i] == '.')
        {
          if (dot)
            break;
          dot = true;
        }
      else if (is_digit (s[i]) || (hex && is_hex_digit (s[i])))
        digits = true;
      else
        break;
    }
  if (!digits)
    return false;
  if (i < n && ascii_lower (s[i]) == exp_char)
    {
      i++;
      if (i < n && (s[i] == '+' || s[i] == '-'))
        i++;
      if (i >= n || !is_digit (s[i]))
        return false;
      for (; i < n && (is_digit (s[i]) || s[i] == '_'); i++)
        if (s[i] == '_')
          underscores = true;
    }
  else if (hex)
    return false;
  if (i != n || (underscores && !underscores_ok (s, n)))
    return false;

  /* The syntax is Go's; the value is strtod's (correctly rounded, hex floats included). */
  cleanup_free char *clean = xmalloc (n + 1);
  size_t k = 0;
  for (i = 0; i < n; i++)
    if (s[i] != '_')
      clean[k++] = s[i];
  clean[k] = '\0';

  char *end;
  errno = 0;
  double v = strtod (clean, &end);
  if (*end != '\0' || isinf (v))
    return false;
  *out = v;
  return true;
}

/* go-units parseSize: the number ends at the last digit, "." or space (one space may separate
 * it from the suffix); the suffix is b, or k/m/g/t/p optionally followed by "b" or "ib". */
static int parse_size (const char *s, int64_t kilo, int64_t *out, berr_t *err)
{
  static const char prefixes[] = "kmgtp";
  size_t len = strlen (s);
  size_t sep = len;
  const char *sfx;
  size_t num_len, sfx_len;
  double size;

  for (size_t i = len; i-- > 0;)
    if (is_digit (s[i]) || s[i] == '.' || s[i] == ' ')
      {
        sep = i;
        break;
      }
  if (sep == len)
    return berr_setk (err, BERR_INVALID, 0, "invalid size: '%s'", s);
  num_len = s[sep] == ' ' ? sep : sep + 1;
  sfx = s + sep + 1;
  sfx_len = len - sep - 1;

  if (!go_parse_float (s, num_len, &size))
    return berr_setk (err, BERR_INVALID, 0, "invalid size: '%s'", s);
  /* Negative sizes are rejected; "-0" is not negative. */
  if (size < 0 || isnan (size) || isinf (size))
    return berr_setk (err, BERR_INVALID, 0, "invalid size: '%s'", s);

  if (sfx_len > 0)
    {
      char lower[4] = { 0 };
      const char *prefix;
      int64_t mul = 1;

      /* Go lower-cases with Unicode rules: the Kelvin sign (U+212A) becomes "k". */
      if (strcmp (sfx, "\xe2\x84\xaa") == 0)
        sfx = "k", sfx_len = 1;
      if (sfx_len > 3)
        return berr_setk (err, BERR_INVALID, 0, "invalid suffix: '%s'", sfx);
      for (size_t i = 0; i < sfx_len; i++)
        lower[i] = ascii_lower (sfx[i]);

      if (lower[0] == 'b')
        {
          if (sfx_len > 1)
            return berr_setk (err, BERR_INVALID, 0, "invalid suffix: '%s'", lower);
        }
      else
        {
          prefix = lower[0] ? strchr (prefixes, lower[0]) : NULL;
          if (prefix == NULL)
            return berr_setk (err, BERR_INVALID, 0, "invalid suffix: '%s'", lower);
          if ((sfx_len == 2 && lower[1] != 'b')
              || (sfx_len == 3 && (lower[1] != 'i' || lower[2] != 'b')))
            return berr_setk (err, BERR_INVALID, 0, "invalid suffix: '%s'", lower);
          /* One multiplication by the exact power, as upstream: rounding differs otherwise. */
          for (const char *p = prefixes; p <= prefix; p++)
            mul *= kilo;
          size *= (double)mul;
        }
    }

  /* 2^63: int64(size) has no meaningful value from here on. */
  if (size >= 9223372036854775808.0)
    return berr_setk (err, BERR_INVALID, 0, "invalid size: '%s'", s);
  *out = (int64_t)size;
  return 0;
}

int units_from_human_size (const char *s, int64_t *out, berr_t *err)
{
  return parse_size (s, 1000, out, err);
}

int units_ram_in_bytes (const char *s, int64_t *out, berr_t *err)
{
  return parse_size (s, 1024, out, err);
}

static const char *const decimal_units[] = { "B", "kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB" };
static const char *const binary_units[]
    = { "B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB", "ZiB", "YiB" };

/* CustomSize: divide by base while the size is at least base, then "%.*g" and the unit. Go
 * prints the special values as "NaN", "+Inf" and "-Inf". */
static char *custom_size (double size, double base, const char *const *units, size_t nunits,
                          int precision, char *buf, size_t buflen)
{
  size_t i = 0;

  while (size >= base && i < nunits - 1)
    {
      size /= base;
      i++;
    }
  if (isnan (size))
    snprintf (buf, buflen, "NaN%s", units[i]);
  else if (isinf (size))
    snprintf (buf, buflen, "%sInf%s", size > 0 ? "+" : "-", units[i]);
  else
    snprintf (buf, buflen, "%.*g%s", precision, size, units[i]);
  return buf;
}

char *units_human_size_prec (double size, int precision, char *buf, size_t buflen)
{
  return custom_size (size, 1000.0, decimal_units, ARRAY_SIZE (decimal_units), precision, buf,
                      buflen);
}

char *units_human_size (double size, char *buf, size_t buflen)
{
  return units_human_size_prec (size, 4, buf, buflen);
}

char *units_bytes_size (double size, char *buf, size_t buflen)
{
  return custom_size (size, 1024.0, binary_units, ARRAY_SIZE (binary_units), 4, buf, buflen);
}

char *units_human_duration (int64_t seconds, char *buf, size_t buflen)
{
  int64_t minutes, hours;

  if (seconds < 1)
    snprintf (buf, buflen, "Less than a second");
  else if (seconds == 1)
    snprintf (buf, buflen, "1 second");
  else if (seconds < 60)
    snprintf (buf, buflen, "%lld seconds", (long long)seconds);
  else if ((minutes = seconds / 60) == 1)
    snprintf (buf, buflen, "About a minute");
  else if (minutes < 60)
    snprintf (buf, buflen, "%lld minutes", (long long)minutes);
  /* Hours are rounded (upstream: int(d.Hours() + 0.5)); everything after counts from them. */
  else if ((hours = seconds / 3600 + (seconds % 3600 + 1800) / 3600) == 1)
    snprintf (buf, buflen, "About an hour");
  else if (hours < 48)
    snprintf (buf, buflen, "%lld hours", (long long)hours);
  else if (hours < 24 * 7 * 2)
    snprintf (buf, buflen, "%lld days", (long long)(hours / 24));
  else if (hours < 24 * 30 * 2)
    snprintf (buf, buflen, "%lld weeks", (long long)(hours / 24 / 7));
  else if (hours < 24 * 365 * 2)
    snprintf (buf, buflen, "%lld months", (long long)(hours / 24 / 30));
  else
    /* ... except years, which truncate the hours. */
    snprintf (buf, buflen, "%lld years", (long long)(seconds / 3600 / 24 / 365));
  return buf;
}

char *units_rfc3339_nano (int64_t ns, char *buf, size_t buflen)
{
  int64_t secs = ns / NS_PER_SEC;
  int64_t frac = ns % NS_PER_SEC;
  time_t t;
  struct tm tm;
  char digits[10];
  int nd = 9;

  if (frac < 0)
    {
      frac += NS_PER_SEC;
      secs--;
    }
  t = (time_t)secs;
  gmtime_r (&t, &tm);

  snprintf (digits, sizeof digits, "%09lld", (long long)frac);
  while (nd > 0 && digits[nd - 1] == '0')
    nd--;
  digits[nd] = '\0';
  snprintf (buf, buflen, "%04d-%02d-%02dT%02d:%02d:%02d%s%sZ", tm.tm_year + 1900, tm.tm_mon + 1,
            tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, nd ? "." : "", digits);
  return buf;
}

/* A fixed-width decimal field within [min, max]. */
static bool parse_field (const char *s, size_t width, int min, int max, int *out)
{
  int v = 0;
  for (size_t i = 0; i < width; i++)
    {
      if (!is_digit (s[i]))
        return false;
      v = v * 10 + (s[i] - '0');
    }
  if (v < min || v > max)
    return false;
  *out = v;
  return true;
}

static int days_in_month (int year, int month)
{
  static const int days[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
  bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  return month == 2 && leap ? 29 : days[month - 1];
}

int units_parse_rfc3339 (const char *s, int64_t *ns, berr_t *err)
{
  int year, month, day, hour, min, sec;
  int64_t nsec = 0, offset = 0, secs, total;
  const char *p;
  struct tm tm;

  /* Check the whole date before reading fields, so no read runs past the end of s. */
  if (strnlen (s, 19) < 19 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':'
      || s[16] != ':' || !parse_field (s, 4, 0, 9999, &year)
      || !parse_field (s + 5, 2, 1, 12, &month)
      || !parse_field (s + 8, 2, 1, days_in_month (year, month), &day)
      || !parse_field (s + 11, 2, 0, 23, &hour) || !parse_field (s + 14, 2, 0, 59, &min)
      || !parse_field (s + 17, 2, 0, 59, &sec))
    return berr_setk (err, BERR_INVALID, 0, "invalid RFC 3339 time \"%s\"", s);

  p = s + 19;
  if (p[0] == '.' && is_digit (p[1]))
    {
      int ndigits = 0;
      for (p++; is_digit (*p); p++)
        if (ndigits < 9)
          {
            nsec = nsec * 10 + (*p - '0');
            ndigits++;
          }
      for (; ndigits < 9; ndigits++)
        nsec *= 10;
    }

  if (strcmp (p, "Z") != 0)
    {
      int oh, om;
      if (strlen (p) != 6 || (p[0] != '+' && p[0] != '-') || p[3] != ':'
          || !parse_field (p + 1, 2, 0, 23, &oh) || !parse_field (p + 4, 2, 0, 59, &om))
        return berr_setk (err, BERR_INVALID, 0, "invalid RFC 3339 time \"%s\"", s);
      offset = ((int64_t)oh * 60 + om) * 60;
      if (p[0] == '-')
        offset = -offset;
    }

  memset (&tm, 0, sizeof tm);
  tm.tm_year = year - 1900;
  tm.tm_mon = month - 1;
  tm.tm_mday = day;
  tm.tm_hour = hour;
  tm.tm_min = min;
  tm.tm_sec = sec;
  secs = (int64_t)timegm (&tm) - offset;
  if (__builtin_mul_overflow (secs, NS_PER_SEC, &total)
      || __builtin_add_overflow (total, nsec, &total))
    return berr_setk (err, BERR_INVALID, 0, "time \"%s\" out of range", s);
  *ns = total;
  return 0;
}

static bool units_is_digit (char c) { return c >= '0' && c <= '9'; }

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

int units_parse_duration (const char *orig, int64_t *ns, berr_t *err)
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

      if (!(*s == '.' || units_is_digit (*s)))
        return duration_invalid (orig, err);
      for (; units_is_digit (*s); s++)
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
          for (; units_is_digit (*s); s++)
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
      while (s[ul] && s[ul] != '.' && !units_is_digit (s[ul]))
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
