/* format.c — output helpers shared by the verbs: sizes, times, IDs, --format. */
#include <string.h>

#include "cli/cli.h"
#include "util/template.h"
#include "util/units.h"

char *fmt_since (int64_t ns)
{
  if (ns <= 0)
    return xstrdup ("N/A");
  int64_t secs = (now_ns () - ns) / 1000000000LL;
  if (secs < 0)
    secs = 0;
  char buf[64];
  units_human_duration (secs, buf, sizeof buf);
  return xasprintf ("%s ago", buf);
}

char *fmt_size (int64_t bytes)
{
  char buf[UNITS_BUFSZ];
  return xstrdup (units_human_size_prec ((double)bytes, 3, buf, sizeof buf));
}

char *fmt_size4 (int64_t bytes)
{
  char buf[UNITS_BUFSZ];
  return xstrdup (units_human_size ((double)bytes, buf, sizeof buf));
}

char *fmt_short_id (const char *id)
{
  const char *hex = str_has_prefix (id, "sha256:") ? id + 7 : id;
  return xstrndup (hex, 12);
}

int print_rows (json_t *rows, const char *format, const char *default_table, json_t *headers)
{
  berr_t err = BERR_INIT;
  const char *f = (format && format[0]) ? format : default_table;
  struct formatter *fm = formatter_new (f, headers, &err);
  if (fm == NULL)
    {
      fprintf (stderr, "%s\n", err.msg);
      berr_release (&err);
      return EXIT_ENGINE;
    }
  size_t i;
  json_t *row;
  json_array_foreach (rows, i, row)
  {
    if (formatter_row (fm, row, &err) < 0)
      {
        formatter_free (fm);
        return cli_error (&err);
      }
  }
  int rc = formatter_finish (fm, stdout, &err) < 0 ? cli_error (&err) : 0;
  formatter_free (fm);
  return rc;
}

int print_inspect (json_t *objs, const char *format)
{
  if (format == NULL || format[0] == '\0')
    {
      char *s = json_dumps (objs, JSON_INDENT (4));
      printf ("%s\n", s);
      free (s);
      return 0;
    }
  berr_t err = BERR_INIT;
  /* Docker turns the two characters \t and \n of a command-line format into TAB and newline. */
  struct tmpl *t = NULL;
  {
    struct sbuf b;
    sbuf_init (&b);
    for (const char *p = format; *p; p++)
      {
        if (p[0] == '\\' && p[1] == 't')
          sbuf_addc (&b, '\t'), p++;
        else if (p[0] == '\\' && p[1] == 'n')
          sbuf_addc (&b, '\n'), p++;
        else
          sbuf_addc (&b, *p);
      }
    t = tmpl_parse (b.buf ? b.buf : "", &err);
    sbuf_release (&b);
  }
  if (t == NULL)
    {
      fprintf (stderr, "%s\n", err.msg);
      berr_release (&err);
      return EXIT_ENGINE;
    }
  size_t i;
  json_t *o;
  int rc = 0;
  json_array_foreach (objs, i, o)
  {
    struct sbuf out;
    sbuf_init (&out);
    if (tmpl_exec (t, o, &out, &err) < 0)
      {
        sbuf_release (&out);
        rc = cli_error (&err);
        break;
      }
    printf ("%s\n", out.buf ? out.buf : "");
    sbuf_release (&out);
  }
  tmpl_free (t);
  return rc;
}

/* Docker's stringutils.Ellipsis: at most max runes, the last one "…" when cut. */
char *fmt_ellipsis (const char *s, size_t max)
{
  size_t runes = 0;
  const unsigned char *p = (const unsigned char *)s;
  const unsigned char *cut = NULL;
  for (; *p; p++)
    if ((*p & 0xC0) != 0x80)
      {
        if (runes == max - 1)
          cut = p;
        runes++;
      }
  if (runes <= max)
    return xstrdup (s);
  return xasprintf ("%.*s…", (int)(cut - (const unsigned char *)s), s);
}

bool cli_confirm (const char *warning)
{
  fprintf (stdout, "%s\nAre you sure you want to continue? [y/N] ", warning);
  fflush (stdout);
  char buf[16] = "";
  if (fgets (buf, sizeof buf, stdin) == NULL)
    return false;
  return buf[0] == 'y' || buf[0] == 'Y';
}

static bool is_digit (char c) { return c >= '0' && c <= '9'; }

/* fvbommel/sortorder.NaturalLess, which `docker volume ls` and `network ls` sort by: digit runs
 * compare as numbers ("v2" before "v10"). */
bool cli_natural_less (const char *a, const char *b)
{
  size_t i = 0, j = 0, la = strlen (a), lb = strlen (b);
  while (i < la && j < lb)
    {
      bool da = is_digit (a[i]), db = is_digit (b[j]);
      if (da != db)
        return da;
      if (!da)
        {
          if (a[i] != b[j])
            return (unsigned char)a[i] < (unsigned char)b[j];
          i++, j++;
          continue;
        }
      while (i < la && a[i] == '0')
        i++;
      while (j < lb && b[j] == '0')
        j++;
      size_t na = i, nb = j;
      while (i < la && is_digit (a[i]))
        i++;
      while (j < lb && is_digit (b[j]))
        j++;
      if (i - na != j - nb)
        return i - na < j - nb;
      int c = strncmp (a + na, b + nb, i - na);
      if (c != 0)
        return c < 0;
      if (na != nb)
        return na < nb;
    }
  return la < lb;
}

/* "k1=v1,k2=v2", keys sorted: the Labels column of volume and network listings. */
char *cli_labels_string (json_t *labels)
{
  cleanup_strv char **parts = xzalloc (sizeof (char *));
  const char *k;
  json_t *v;
  json_object_foreach (labels, k, v)
  {
    strv_push_take (&parts, xasprintf ("%s=%s", k, json_string_value (v)));
  }
  size_t n = strv_len (parts);
  for (size_t i = 1; i < n; i++)
    for (size_t j = i; j > 0 && strcmp (parts[j - 1], parts[j]) > 0; j--)
      {
        char *t = parts[j];
        parts[j] = parts[j - 1];
        parts[j - 1] = t;
      }
  struct sbuf b;
  sbuf_init (&b);
  for (size_t i = 0; i < n; i++)
    sbuf_addf (&b, "%s%s", i ? "," : "", parts[i]);
  return b.buf ? sbuf_detach (&b) : xstrdup ("");
}
