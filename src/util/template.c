/* template.c — printing template values as Go does (fmt's %v and Sprintf, encoding/json), and
 * Docker's --format formatter on top of the template engine.
 *
 * Parsing is in template_parse.c, execution and the template functions in template_exec.c. */
#include "template_int.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "tabwriter.h"

int tmpl_utf8_decode (const char *s, size_t len, unsigned *rune)
{
  const unsigned char *u = (const unsigned char *)s;
  unsigned r;
  int n;

  if (u[0] < 0x80)
    {
      *rune = u[0];
      return 1;
    }
  if (u[0] >= 0xc2 && u[0] <= 0xdf)
    n = 2, r = u[0] & 0x1f;
  else if (u[0] >= 0xe0 && u[0] <= 0xef)
    n = 3, r = u[0] & 0x0f;
  else if (u[0] >= 0xf0 && u[0] <= 0xf4)
    n = 4, r = u[0] & 0x07;
  else
    goto bad;
  if ((size_t)n > len)
    goto bad;
  for (int i = 1; i < n; i++)
    {
      if ((u[i] & 0xc0) != 0x80)
        goto bad;
      r = (r << 6) | (u[i] & 0x3f);
    }
  /* overlong forms, surrogates and values past U+10FFFF are invalid */
  if ((n == 3 && r < 0x800) || (n == 4 && (r < 0x10000 || r > 0x10ffff))
      || (r >= 0xd800 && r < 0xe000))
    goto bad;
  *rune = r;
  return n;
bad:
  *rune = 0xfffd;
  return 1;
}

void tmpl_utf8_encode (struct sbuf *out, unsigned r)
{
  char b[4];
  if (r < 0x80)
    sbuf_addc (out, (char)r);
  else if (r < 0x800)
    {
      b[0] = (char)(0xc0 | (r >> 6));
      b[1] = (char)(0x80 | (r & 0x3f));
      sbuf_add (out, b, 2);
    }
  else if (r < 0x10000)
    {
      b[0] = (char)(0xe0 | (r >> 12));
      b[1] = (char)(0x80 | ((r >> 6) & 0x3f));
      b[2] = (char)(0x80 | (r & 0x3f));
      sbuf_add (out, b, 3);
    }
  else
    {
      b[0] = (char)(0xf0 | (r >> 18));
      b[1] = (char)(0x80 | ((r >> 12) & 0x3f));
      b[2] = (char)(0x80 | ((r >> 6) & 0x3f));
      b[3] = (char)(0x80 | (r & 0x3f));
      sbuf_add (out, b, 4);
    }
}

static size_t rune_count (const char *s, size_t len)
{
  size_t n = 0;
  for (size_t i = 0; i < len; n++)
    {
      unsigned r;
      i += (size_t)tmpl_utf8_decode (s + i, len - i, &r);
    }
  return n;
}

void tmpl_add_location (struct sbuf *out, const char *src, size_t pos)
{
  size_t line = 1, line_start = 0;
  for (size_t i = 0; i < pos && src[i]; i++)
    if (src[i] == '\n')
      line++, line_start = i + 1;
  sbuf_addf (out, "template: :%zu:%zu: ", line, pos - line_start);
}

/* The Go type a JSON value would have after encoding/json decoded it into interface{} (with
 * integers kept as int), for messages such as %!d(string=x). */
const char *tmpl_type_name (json_t *v)
{
  switch (json_typeof (v))
    {
    case JSON_STRING:
      return "string";
    case JSON_INTEGER:
      return "int";
    case JSON_REAL:
      return "float64";
    case JSON_TRUE:
    case JSON_FALSE:
      return "bool";
    case JSON_ARRAY:
      return "[]interface {}";
    case JSON_OBJECT:
      return "map[string]interface {}";
    default:
      return "<nil>";
    }
}

/* Floats: the shortest decimal digits that read back as the same double (what Go's strconv
 * produces with precision -1), then laid out as strconv's %e / %f. */

struct digits
{
  char d[24];
  int nd; /* number of digits */
  int dp; /* decimal point position: value = 0.d * 10^dp */
};

static void shortest_digits (double v, struct digits *g)
{
  char buf[40];
  const char *e;
  int p;

  for (p = 1; p < 17; p++)
    {
      snprintf (buf, sizeof buf, "%.*e", p - 1, v);
      if (strtod (buf, NULL) == v)
        break;
    }
  snprintf (buf, sizeof buf, "%.*e", p - 1, v);
  g->nd = 0;
  for (e = buf; *e && *e != 'e'; e++)
    if (*e >= '0' && *e <= '9')
      g->d[g->nd++] = *e;
  g->dp = atoi (e + 1) + 1;
  while (g->nd > 1 && g->d[g->nd - 1] == '0')
    g->nd--;
}

static void layout_e (struct sbuf *out, const struct digits *g, int prec, char e, bool zero)
{
  int exp = zero ? 0 : g->dp - 1;
  sbuf_addc (out, g->d[0]);
  if (prec > 0)
    {
      sbuf_addc (out, '.');
      for (int i = 1; i <= prec; i++)
        sbuf_addc (out, i < g->nd ? g->d[i] : '0');
    }
  sbuf_addf (out, "%c%c%02d", e, exp < 0 ? '-' : '+', exp < 0 ? -exp : exp);
}

static void layout_f (struct sbuf *out, const struct digits *g, int prec)
{
  if (g->dp > 0)
    for (int i = 0; i < g->dp; i++)
      sbuf_addc (out, i < g->nd ? g->d[i] : '0');
  else
    sbuf_addc (out, '0');
  if (prec > 0)
    {
      sbuf_addc (out, '.');
      for (int i = 0; i < prec; i++)
        {
          int j = g->dp + i;
          sbuf_addc (out, j >= 0 && j < g->nd ? g->d[j] : '0');
        }
    }
}

/* strconv.FormatFloat (|v|, verb, prec) for verbs e E f F g G; prec -1 is "shortest". */
static void format_float_abs (struct sbuf *out, double v, char verb, int prec)
{
  v = fabs (v);
  if (isinf (v))
    {
      sbuf_adds (out, "Inf");
      return;
    }
  if (isnan (v))
    {
      sbuf_adds (out, "NaN");
      return;
    }
  if (prec >= 0)
    {
      char cfmt[8] = "%.*";
      cfmt[3] = verb == 'F' ? 'f' : verb;
      cfmt[4] = '\0';
      sbuf_addf (out, cfmt, prec, v);
      return;
    }
  struct digits g;
  shortest_digits (v, &g);
  char e = (verb == 'E' || verb == 'G') ? 'E' : 'e';
  bool use_e = verb == 'e' || verb == 'E';
  if (verb == 'g' || verb == 'G')
    use_e = g.dp - 1 < -4 || g.dp - 1 >= 6;
  if (use_e)
    layout_e (out, &g, g.nd - 1, e, v == 0);
  else
    layout_f (out, &g, g.nd > g.dp ? g.nd - g.dp : 0);
}

/* Printing with a verb: Go's fmt for the values JSON can hold. */

struct spec
{
  bool minus, plus, space, zero, sharp;
  int wid, prec; /* -1: absent */
};

static const struct spec default_spec = { false, false, false, false, false, -1, -1 };

static void pad (struct sbuf *out, const struct spec *sp, const char *s, size_t len)
{
  size_t runes = rune_count (s, len);
  size_t n = sp->wid > 0 && (size_t)sp->wid > runes ? (size_t)sp->wid - runes : 0;
  if (!sp->minus)
    for (size_t i = 0; i < n; i++)
      sbuf_addc (out, sp->zero ? '0' : ' ');
  sbuf_add (out, s, len);
  if (sp->minus)
    for (size_t i = 0; i < n; i++)
      sbuf_addc (out, ' ');
}

static void pad_sbuf (struct sbuf *out, const struct spec *sp, struct sbuf *tmp)
{
  pad (out, sp, tmp->buf ? tmp->buf : "", tmp->len);
  sbuf_release (tmp);
}

/* strconv.Quote, or QuoteToASCII when ascii (printf's %+q). */
static void go_quote (struct sbuf *out, const char *s, size_t len, bool ascii)
{
  static const char esc[] = "\a"
                            "a"
                            "\b"
                            "b"
                            "\f"
                            "f"
                            "\n"
                            "n"
                            "\r"
                            "r"
                            "\t"
                            "t"
                            "\v"
                            "v";
  sbuf_addc (out, '"');
  for (size_t i = 0; i < len;)
    {
      unsigned r;
      int n = tmpl_utf8_decode (s + i, len - i, &r);
      unsigned char c = (unsigned char)s[i];
      const char *m = c ? memchr (esc, c, sizeof esc - 1) : NULL;
      if (c == '"' || c == '\\')
        sbuf_addc (out, '\\'), sbuf_addc (out, (char)c);
      else if (m && (m - esc) % 2 == 0)
        sbuf_addc (out, '\\'), sbuf_addc (out, m[1]);
      else if (r == 0xfffd && n == 1 && c >= 0x80)
        sbuf_addf (out, "\\x%02x", c);
      else if (r < 0x20 || r == 0x7f)
        sbuf_addf (out, "\\x%02x", r);
      else if ((r >= 0x80 && r < 0xa0) || (ascii && r >= 0x80 && r < 0x10000))
        sbuf_addf (out, "\\u%04x", r);
      else if (ascii && r >= 0x10000)
        sbuf_addf (out, "\\U%08x", r);
      else
        sbuf_add (out, s + i, (size_t)n);
      i += (size_t)n;
    }
  sbuf_addc (out, '"');
}

void tmpl_go_quote (struct sbuf *out, const char *s, size_t len) { go_quote (out, s, len, false); }

static void quote_rune (struct sbuf *out, long long v, bool ascii)
{
  unsigned r = v < 0 || v > 0x10ffff || (v >= 0xd800 && v < 0xe000) ? 0xfffd : (unsigned)v;
  struct sbuf rune, q;
  if (r == '\'' || r == '"')
    {
      sbuf_adds (out, r == '\'' ? "'\\''" : "'\"'");
      return;
    }
  /* reuse the string quoting: "x" -> 'x' */
  sbuf_init (&rune);
  sbuf_init (&q);
  tmpl_utf8_encode (&rune, r);
  go_quote (&q, rune.buf, rune.len, ascii);
  sbuf_addc (out, '\'');
  sbuf_add (out, q.buf + 1, q.len - 2);
  sbuf_addc (out, '\'');
  sbuf_release (&rune);
  sbuf_release (&q);
}

static void fmt_value (struct sbuf *out, const struct spec *sp, json_t *v, int verb, int depth);

static bool verb_in (const char *set, int verb)
{
  return verb > 0 && verb < 0x80 && strchr (set, verb) != NULL;
}

static void bad_verb (struct sbuf *out, json_t *v, int verb)
{
  sbuf_adds (out, "%!");
  tmpl_utf8_encode (out, (unsigned)verb);
  sbuf_addc (out, '(');
  if (json_is_null (v))
    sbuf_adds (out, "<nil>");
  else
    {
      sbuf_addf (out, "%s=", tmpl_type_name (v));
      fmt_value (out, &default_spec, v, 'v', 0);
    }
  sbuf_addc (out, ')');
}

static void fmt_integer (struct sbuf *out, const struct spec *sp, long long v, int verb)
{
  int base = verb == 'b'                    ? 2
             : (verb == 'o' || verb == 'O') ? 8
             : (verb == 'x' || verb == 'X') ? 16
                                            : 10;
  const char *dig = verb == 'X' ? "0123456789ABCDEF" : "0123456789abcdef";
  bool neg = v < 0;
  unsigned long long u = neg ? 0 - (unsigned long long)v : (unsigned long long)v;
  char buf[80];
  int i = sizeof buf, prec = 0;
  struct spec nz = *sp;

  nz.zero = false;
  if (sp->prec >= 0)
    {
      prec = sp->prec;
      if (prec == 0 && u == 0)
        {
          pad (out, &nz, "", 0);
          return;
        }
    }
  else if (sp->zero && !sp->minus && sp->wid >= 0)
    prec = sp->wid - (neg || sp->plus || sp->space);
  if (prec > 64)
    prec = 64;
  do
    buf[--i] = dig[u % (unsigned)base];
  while ((u /= (unsigned)base) > 0);
  while ((int)sizeof buf - i < prec)
    buf[--i] = '0';
  if (sp->sharp && base == 2)
    buf[--i] = 'b', buf[--i] = '0';
  else if (sp->sharp && base == 8 && buf[i] != '0')
    buf[--i] = '0';
  else if (sp->sharp && base == 16)
    buf[--i] = (char)verb, buf[--i] = '0';
  if (verb == 'O')
    buf[--i] = 'o', buf[--i] = '0';
  if (neg)
    buf[--i] = '-';
  else if (sp->plus)
    buf[--i] = '+';
  else if (sp->space)
    buf[--i] = ' ';
  pad (out, &nz, buf + i, sizeof buf - (size_t)i);
}

static void fmt_float (struct sbuf *out, const struct spec *sp, double v, int verb)
{
  struct sbuf num;
  int prec = sp->prec >= 0 ? sp->prec : (verb == 'v' || verb == 'g' || verb == 'G') ? -1 : 6;
  char sign = signbit (v) && !isnan (v) ? '-' : '+';

  sbuf_init (&num);
  format_float_abs (&num, v, verb == 'v' ? 'g' : (char)verb, prec);
  if (sp->space && sign == '+' && !sp->plus)
    sign = ' ';
  if (sp->plus || sign != '+')
    {
      if (sp->zero && !sp->minus && sp->wid > (int)num.len + 1 && isfinite (v))
        {
          sbuf_addc (out, sign);
          for (int i = 0; i < sp->wid - (int)num.len - 1; i++)
            sbuf_addc (out, '0');
          sbuf_add (out, num.buf, num.len);
          sbuf_release (&num);
          return;
        }
      struct sbuf s;
      sbuf_init (&s);
      sbuf_addc (&s, sign);
      sbuf_add (&s, num.buf, num.len);
      pad_sbuf (out, sp, &s);
    }
  else
    pad (out, sp, num.buf, num.len);
  sbuf_release (&num);
}

static void fmt_string (struct sbuf *out, const struct spec *sp, const char *s, size_t len,
                        int verb)
{
  struct sbuf tmp;
  /* the precision limits runes for %s %v %q, bytes for %x */
  if (sp->prec >= 0 && (verb == 'x' || verb == 'X'))
    len = (size_t)sp->prec < len ? (size_t)sp->prec : len;
  else if (sp->prec >= 0)
    {
      size_t i = 0;
      for (int k = 0; k < sp->prec && i < len; k++)
        {
          unsigned r;
          i += (size_t)tmpl_utf8_decode (s + i, len - i, &r);
        }
      len = i;
    }
  if (verb == 'v' || verb == 's')
    {
      pad (out, sp, s, len);
      return;
    }
  sbuf_init (&tmp);
  if (verb == 'q')
    go_quote (&tmp, s, len, sp->plus);
  else /* x, X */
    for (size_t i = 0; i < len; i++)
      sbuf_addf (&tmp, verb == 'x' ? "%02x" : "%02X", (unsigned char)s[i]);
  pad_sbuf (out, sp, &tmp);
}

static int compare_keys (const void *a, const void *b)
{
  return strcmp (*(const char *const *)a, *(const char *const *)b);
}

/* Go's printValue: arrays and maps apply the verb to each element; a null element prints as
 * "<nil>" whatever the verb. */
static void fmt_value (struct sbuf *out, const struct spec *sp, json_t *v, int verb, int depth)
{
  switch (json_typeof (v))
    {
    case JSON_NULL:
      if (depth > 0 || verb == 'v')
        pad (out, sp, "<nil>", 5);
      else
        bad_verb (out, v, verb);
      return;
    case JSON_TRUE:
    case JSON_FALSE:
      if (verb == 'v' || verb == 't')
        pad (out, sp, json_is_true (v) ? "true" : "false", json_is_true (v) ? 4 : 5);
      else
        bad_verb (out, v, verb);
      return;
    case JSON_INTEGER:
      {
        long long i = json_integer_value (v);
        if (verb == 'c' || verb == 'U')
          {
            struct sbuf tmp;
            sbuf_init (&tmp);
            if (verb == 'c')
              tmpl_utf8_encode (&tmp, i < 0 || i > 0x10ffff ? 0xfffd : (unsigned)i);
            else
              sbuf_addf (&tmp, "U+%04llX", i);
            pad_sbuf (out, sp, &tmp);
          }
        else if (verb == 'q')
          {
            struct sbuf tmp;
            sbuf_init (&tmp);
            quote_rune (&tmp, i, sp->plus);
            pad_sbuf (out, sp, &tmp);
          }
        else if (verb_in ("vdboOxX", verb))
          fmt_integer (out, sp, i, verb == 'v' ? 'd' : verb);
        else
          bad_verb (out, v, verb);
        return;
      }
    case JSON_REAL:
      if (verb_in ("veEfFgG", verb))
        fmt_float (out, sp, json_real_value (v), verb);
      else
        bad_verb (out, v, verb);
      return;
    case JSON_STRING:
      if (verb_in ("vsqxX", verb))
        fmt_string (out, sp, json_string_value (v), json_string_length (v), verb);
      else
        bad_verb (out, v, verb);
      return;
    case JSON_ARRAY:
      {
        size_t i;
        json_t *e;
        sbuf_addc (out, '[');
        json_array_foreach (v, i, e)
        {
          if (i > 0)
            sbuf_addc (out, ' ');
          fmt_value (out, sp, e, verb, depth + 1);
        }
        sbuf_addc (out, ']');
        return;
      }
    case JSON_OBJECT:
      {
        size_t n = json_object_size (v), k = 0;
        const char **keys = xcalloc (n + 1, sizeof *keys);
        const char *key;
        json_t *e;
        json_object_foreach (v, key, e) keys[k++] = key;
        qsort (keys, n, sizeof *keys, compare_keys);
        sbuf_adds (out, "map[");
        for (k = 0; k < n; k++)
          {
            if (k > 0)
              sbuf_addc (out, ' ');
            json_t *ks = json_string (keys[k]);
            fmt_value (out, sp, ks, verb, depth + 1);
            json_decref (ks);
            sbuf_addc (out, ':');
            fmt_value (out, sp, json_object_get (v, keys[k]), verb, depth + 1);
          }
        sbuf_addc (out, ']');
        free (keys);
        return;
      }
    }
}

void tmpl_print_v (struct sbuf *out, json_t *v) { fmt_value (out, &default_spec, v, 'v', 0); }

/* A width or precision from '*': the argument must be an int. */
static bool star_arg (json_t **args, size_t nargs, size_t *argn, int *out)
{
  if (*argn >= nargs || !json_is_integer (args[*argn]))
    {
      (*argn)++;
      return false;
    }
  long long v = json_integer_value (args[(*argn)++]);
  if (v > 1000000 || v < -1000000)
    return false;
  *out = (int)v;
  return true;
}

static int parse_num (const char *f, size_t len, size_t *i)
{
  int n = 0;
  while (*i < len && f[*i] >= '0' && f[*i] <= '9' && n < 1000000)
    n = n * 10 + (f[(*i)++] - '0');
  return n;
}

void tmpl_sprintf (struct sbuf *out, const char *f, size_t len, json_t **args, size_t nargs)
{
  size_t argn = 0, i = 0;

  while (i < len)
    {
      const char *pct = memchr (f + i, '%', len - i);
      size_t lit = pct ? (size_t)(pct - (f + i)) : len - i;
      sbuf_add (out, f + i, lit);
      i += lit;
      if (i >= len)
        break;
      i++; /* the '%' */

      struct spec sp = default_spec;
      for (; i < len; i++)
        {
          char c = f[i];
          if (c == '#')
            sp.sharp = true;
          else if (c == '0')
            sp.zero = !sp.minus;
          else if (c == '+')
            sp.plus = true;
          else if (c == '-')
            sp.minus = true, sp.zero = false;
          else if (c == ' ')
            sp.space = true;
          else
            break;
        }
      if (i < len && f[i] == '*')
        {
          i++;
          if (!star_arg (args, nargs, &argn, &sp.wid))
            sbuf_adds (out, "%!(BADWIDTH)");
          else if (sp.wid < 0)
            sp.wid = -sp.wid, sp.minus = true, sp.zero = false;
        }
      else if (i < len && f[i] >= '0' && f[i] <= '9')
        sp.wid = parse_num (f, len, &i);
      if (i < len && f[i] == '.')
        {
          i++;
          if (i < len && f[i] == '*')
            {
              i++;
              if (!star_arg (args, nargs, &argn, &sp.prec) || sp.prec < 0)
                {
                  sp.prec = -1;
                  sbuf_adds (out, "%!(BADPREC)");
                }
            }
          else
            sp.prec = parse_num (f, len, &i);
        }
      if (i >= len)
        {
          sbuf_adds (out, "%!(NOVERB)");
          break;
        }
      unsigned verb;
      i += (size_t)tmpl_utf8_decode (f + i, len - i, &verb);
      if (verb == 'v')
        sp.plus = sp.sharp = false; /* %+v and %#v are Go-syntax forms; values print plainly */
      if (verb == '%')
        sbuf_addc (out, '%');
      else if (argn >= nargs)
        {
          sbuf_adds (out, "%!");
          tmpl_utf8_encode (out, verb);
          sbuf_adds (out, "(MISSING)");
        }
      else if (verb == 'T')
        {
          json_t *a = args[argn++];
          const char *tn = tmpl_type_name (a);
          pad (out, &sp, tn, strlen (tn));
        }
      else
        fmt_value (out, &sp, args[argn++], (int)verb, 0);
    }
  if (argn < nargs)
    {
      sbuf_adds (out, "%!(EXTRA ");
      for (size_t k = argn; k < nargs; k++)
        {
          if (k > argn)
            sbuf_adds (out, ", ");
          if (json_is_null (args[k]))
            sbuf_adds (out, "<nil>");
          else
            {
              sbuf_addf (out, "%s=", tmpl_type_name (args[k]));
              tmpl_print_v (out, args[k]);
            }
        }
      sbuf_addc (out, ')');
    }
}

/* encoding/json */

static void json_quote (struct sbuf *out, const char *s, size_t len)
{
  sbuf_addc (out, '"');
  for (size_t i = 0; i < len;)
    {
      unsigned char c = (unsigned char)s[i];
      unsigned r;
      int n = tmpl_utf8_decode (s + i, len - i, &r);
      if (c == '"' || c == '\\')
        sbuf_addc (out, '\\'), sbuf_addc (out, (char)c);
      else if (c == '\n')
        sbuf_adds (out, "\\n");
      else if (c == '\r')
        sbuf_adds (out, "\\r");
      else if (c == '\t')
        sbuf_adds (out, "\\t");
      else if (c == '\b')
        sbuf_adds (out, "\\b");
      else if (c == '\f')
        sbuf_adds (out, "\\f");
      else if (c < 0x20)
        sbuf_addf (out, "\\u%04x", c);
      else if (r == 0xfffd && n == 1 && c >= 0x80)
        sbuf_adds (out, "\\ufffd");
      else if (r == 0x2028 || r == 0x2029)
        sbuf_addf (out, "\\u%04x", r);
      else
        sbuf_add (out, s + i, (size_t)n);
      i += (size_t)n;
    }
  sbuf_addc (out, '"');
}

void tmpl_json_encode (struct sbuf *out, json_t *v)
{
  switch (json_typeof (v))
    {
    case JSON_OBJECT:
      {
        const char *key;
        json_t *e;
        bool first = true;
        sbuf_addc (out, '{');
        json_object_foreach (v, key, e)
        {
          if (!first)
            sbuf_addc (out, ',');
          first = false;
          json_quote (out, key, strlen (key));
          sbuf_addc (out, ':');
          tmpl_json_encode (out, e);
        }
        sbuf_addc (out, '}');
        break;
      }
    case JSON_ARRAY:
      {
        size_t i;
        json_t *e;
        sbuf_addc (out, '[');
        json_array_foreach (v, i, e)
        {
          if (i > 0)
            sbuf_addc (out, ',');
          tmpl_json_encode (out, e);
        }
        sbuf_addc (out, ']');
        break;
      }
    case JSON_STRING:
      json_quote (out, json_string_value (v), json_string_length (v));
      break;
    case JSON_INTEGER:
      sbuf_addf (out, "%lld", (long long)json_integer_value (v));
      break;
    case JSON_REAL:
      {
        /* Go: 'f' unless the magnitude is below 1e-6 or at least 1e21; e-07 shortened to e-7 */
        double d = json_real_value (v), a = fabs (d);
        bool use_e = a != 0 && (a < 1e-6 || a >= 1e21);
        size_t start;
        if (signbit (d))
          sbuf_addc (out, '-');
        start = out->len;
        format_float_abs (out, d, use_e ? 'e' : 'f', -1);
        if (use_e && out->len - start >= 4 && out->buf[out->len - 3] == '-'
            && out->buf[out->len - 2] == '0')
          {
            out->buf[out->len - 2] = out->buf[out->len - 1];
            out->buf[--out->len] = '\0';
          }
        break;
      }
    case JSON_TRUE:
      sbuf_adds (out, "true");
      break;
    case JSON_FALSE:
      sbuf_adds (out, "false");
      break;
    case JSON_NULL:
      sbuf_adds (out, "null");
      break;
    }
}

/* The formatter */

enum fmt_kind
{
  FMT_TABLE,
  FMT_JSON,
  FMT_RAW,
};

struct formatter
{
  enum fmt_kind kind;
  struct tmpl *t; /* NULL for FMT_JSON */
  json_t *headers;
  struct sbuf rows;
};

struct formatter *formatter_new (const char *format, json_t *headers, berr_t *err)
{
  enum fmt_kind kind = FMT_RAW;
  const char *s = format ? format : "";
  size_t len;
  cleanup_sbuf struct sbuf body = { NULL, 0, 0 };

  /* docker/cli's preFormat: a "table" prefix, the "json" keyword, trimmed spaces, \t and \n */
  if (str_has_prefix (s, "table"))
    kind = FMT_TABLE, s += 5;
  else if (strcmp (s, "json") == 0)
    kind = FMT_JSON, s = "";
  while (*s == ' ')
    s++;
  len = strlen (s);
  while (len > 0 && s[len - 1] == ' ')
    len--;
  if (kind == FMT_TABLE && len == 0)
    {
      berr_setk (err, BERR_INVALID, 0,
                 "template parsing error: \"table\" needs a template after it");
      return NULL;
    }
  sbuf_init (&body);
  sbuf_add (&body, "", 0);
  for (size_t i = 0; i < len; i++)
    {
      if (s[i] == '\\' && i + 1 < len && (s[i + 1] == 't' || s[i + 1] == 'n'))
        sbuf_addc (&body, s[++i] == 't' ? '\t' : '\n');
      else
        sbuf_addc (&body, s[i]);
    }

  struct tmpl *t = NULL;
  if (kind != FMT_JSON)
    {
      t = tmpl_parse (body.buf, err);
      if (t == NULL)
        {
          berr_wrap (err, "template parsing error");
          return NULL;
        }
    }
  struct formatter *f = xzalloc (sizeof *f);
  f->kind = kind;
  f->t = t;
  f->headers = headers ? json_incref (headers) : json_object ();
  sbuf_init (&f->rows);
  return f;
}

int formatter_row (struct formatter *f, json_t *row, berr_t *err)
{
  size_t mark = f->rows.len;
  if (f->kind == FMT_JSON)
    tmpl_json_encode (&f->rows, row);
  else if (tmpl_exec (f->t, row, &f->rows, err) < 0)
    {
      f->rows.len = mark;
      if (f->rows.buf)
        f->rows.buf[mark] = '\0';
      return berr_wrap (err, "template parsing error");
    }
  sbuf_addc (&f->rows, '\n');
  return 0;
}

int formatter_finish (struct formatter *f, FILE *out, berr_t *err)
{
  cleanup_sbuf struct sbuf text = { NULL, 0, 0 };
  sbuf_init (&text);
  if (f->kind == FMT_TABLE)
    {
      /* docker/cli: tabwriter.NewWriter (output, 10, 1, 3, ' ', 0); the header template's
       * errors are ignored there, leaving whatever it printed before failing. */
      struct tabwriter *tw = tabwriter_new (10, 1, 3);
      cleanup_sbuf struct sbuf header = { NULL, 0, 0 };
      cleanup_berr berr_t ignored = BERR_INIT;
      sbuf_init (&header);
      tmpl_exec_header (f->t, f->headers, &header, &ignored);
      tabwriter_write (tw, header.buf ? header.buf : "", header.len);
      tabwriter_write (tw, "\n", 1);
      tabwriter_write (tw, f->rows.buf ? f->rows.buf : "", f->rows.len);
      tabwriter_flush (tw, &text);
      tabwriter_free (tw);
    }
  else
    sbuf_add (&text, f->rows.buf ? f->rows.buf : "", f->rows.len);
  sbuf_reset (&f->rows);
  if (text.len > 0 && fwrite (text.buf, 1, text.len, out) != text.len)
    return berr_set (err, errno, "write formatted output");
  if (fflush (out) != 0)
    return berr_set (err, errno, "write formatted output");
  return 0;
}

void formatter_free (struct formatter *f)
{
  if (f == NULL)
    return;
  tmpl_free (f->t);
  json_decref (f->headers);
  sbuf_release (&f->rows);
  free (f);
}
