/* opts.c — flag parsing with docker's (pflag's) conventions:
 * --name=value, --name value, -n value, -nvalue, combined booleans (-aq), --bool=false,
 * flags interspersed with arguments, "--" ends the flags; -h/--help everywhere.
 * Flag errors print "unknown flag: --x" + "See 'berth X --help'." and exit 125, as docker does. */
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

static const struct opt *find_long (const struct opt *opts, const char *name, size_t len)
{
  for (const struct opt *o = opts; o && o->name; o++)
    if (strlen (o->name) == len && strncmp (o->name, name, len) == 0)
      return o;
  return NULL;
}

static const struct opt *find_short (const struct opt *opts, char c)
{
  for (const struct opt *o = opts; o && o->name; o++)
    if (o->shorthand == c)
      return o;
  return NULL;
}

static int usage_error (const char *cmdpath, const char *fmt, const char *a)
{
  fprintf (stderr, fmt, a);
  fprintf (stderr, "\nSee '%s --help'.\n", cmdpath);
  return EXIT_ENGINE;
}

static int parse_bool (const char *v, bool *out)
{
  if (strcmp (v, "true") == 0 || strcmp (v, "1") == 0 || strcmp (v, "t") == 0
      || strcmp (v, "T") == 0 || strcmp (v, "TRUE") == 0 || strcmp (v, "True") == 0)
    *out = true;
  else if (strcmp (v, "false") == 0 || strcmp (v, "0") == 0 || strcmp (v, "f") == 0
           || strcmp (v, "F") == 0 || strcmp (v, "FALSE") == 0 || strcmp (v, "False") == 0)
    *out = false;
  else
    return -1;
  return 0;
}

char *opts_quote (const char *s)
{
  struct sbuf b;
  sbuf_init (&b);
  sbuf_addc (&b, '"');
  for (const unsigned char *p = (const unsigned char *)s; *p; p++)
    {
      switch (*p)
        {
        case '"':
          sbuf_adds (&b, "\\\"");
          break;
        case '\\':
          sbuf_adds (&b, "\\\\");
          break;
        case '\a':
          sbuf_adds (&b, "\\a");
          break;
        case '\b':
          sbuf_adds (&b, "\\b");
          break;
        case '\f':
          sbuf_adds (&b, "\\f");
          break;
        case '\n':
          sbuf_adds (&b, "\\n");
          break;
        case '\r':
          sbuf_adds (&b, "\\r");
          break;
        case '\t':
          sbuf_adds (&b, "\\t");
          break;
        case '\v':
          sbuf_adds (&b, "\\v");
          break;
        default:
          /* Bytes >= 0x80 pass through: Go keeps printable UTF-8 as it is. */
          if (*p < 0x20 || *p == 0x7f)
            sbuf_addf (&b, "\\x%02x", *p);
          else
            sbuf_addc (&b, (char)*p);
        }
    }
  sbuf_addc (&b, '"');
  return sbuf_detach (&b);
}

/* pflag names a flag "-m, --memory" when it has a shorthand, else "--memory". */
static char *flag_display (const struct opt *o)
{
  if (o->shorthand)
    return xasprintf ("-%c, --%s", o->shorthand, o->name);
  return xasprintf ("--%s", o->name);
}

static int invalid_argument (const struct opt *o, const char *v, const char *cmdpath,
                             const char *why)
{
  cleanup_free char *q = opts_quote (v);
  cleanup_free char *shown = flag_display (o);
  fprintf (stderr, "invalid argument %s for \"%s\" flag: %s", q, shown, why);
  fprintf (stderr, "\nSee '%s --help'.\n", cmdpath);
  return EXIT_ENGINE;
}

static bool takes_no_value (const struct opt *o)
{
  return o->type == OPT_BOOL || (o->type == OPT_FUNC && ((const struct opt_func *)o->ptr)->is_bool);
}

static int set_value (const struct opt *o, const char *v, const char *cmdpath)
{
  switch (o->type)
    {
    case OPT_BOOL:
      if (parse_bool (v, (bool *)o->ptr) < 0)
        {
          cleanup_free char *q = opts_quote (v);
          cleanup_free char *why = xasprintf ("strconv.ParseBool: parsing %s: invalid syntax", q);
          return invalid_argument (o, v, cmdpath, why);
        }
      return 0;
    case OPT_STRING:
      *(const char **)o->ptr = v;
      return 0;
    case OPT_STRINGS:
      strv_push ((char ***)o->ptr, v);
      return 0;
    case OPT_INT:
      {
        char *end;
        long n = strtol (v, &end, 10);
        if (*v == '\0' || *end)
          {
            cleanup_free char *q = opts_quote (v);
            cleanup_free char *why = xasprintf ("strconv.ParseInt: parsing %s: invalid syntax", q);
            return invalid_argument (o, v, cmdpath, why);
          }
        *(long *)o->ptr = n;
        return 0;
      }
    case OPT_FUNC:
      {
        const struct opt_func *f = o->ptr;
        cleanup_free char *why = NULL;
        if (f->set (f->data, v, &why) < 0)
          return invalid_argument (o, v, cmdpath, why ? why : "invalid value");
        return 0;
      }
    }
  return 0;
}

/* docker/cli's RequiresExactArgs / MinArgs / MaxArgs / RangeArgs wording. */
static void print_args_error (const struct cmd_spec *spec, const char *cmdpath)
{
  char what[128];
  int lo = spec->min_args, hi = spec->max_args;
  if (lo == hi)
    snprintf (what, sizeof what, "exactly %d argument%s", lo, lo == 1 ? "" : "s");
  else if (hi < 0)
    snprintf (what, sizeof what, "at least %d argument%s", lo, lo == 1 ? "" : "s");
  else if (lo == 0)
    snprintf (what, sizeof what, "at most %d argument%s", hi, hi == 1 ? "" : "s");
  else
    snprintf (what, sizeof what, "at least %d and at most %d arguments", lo, hi);
  fprintf (stderr, "\"%s\" requires %s.\nSee '%s --help'.\n\nUsage:  berth %s\n\n%s\n", cmdpath,
           what, cmdpath, spec->use, spec->short_help);
}

int opts_parse (const struct cmd_spec *spec, const char *cmdpath, int argc, char **argv,
                char ***args)
{
  return opts_parse_flags (spec, cmdpath, argc, argv, args, 0);
}

int opts_parse_flags (const struct cmd_spec *spec, const char *cmdpath, int argc, char **argv,
                      char ***args, unsigned flags)
{
  char **pos = xcalloc ((size_t)argc + 1, sizeof (char *));
  size_t np = 0;
  bool flags_done = false;
  for (int i = 1; i < argc; i++)
    {
      char *a = argv[i];
      if (flags_done || a[0] != '-' || a[1] == '\0')
        {
          pos[np++] = a;
          if (flags & OPTS_STOP_AT_FIRST_ARG)
            flags_done = true;
          continue;
        }
      if (strcmp (a, "--") == 0)
        {
          flags_done = true;
          continue;
        }
      if (a[1] == '-')
        {
          const char *name = a + 2;
          const char *eq = strchr (name, '=');
          size_t len = eq ? (size_t)(eq - name) : strlen (name);
          if ((len == 4 && strncmp (name, "help", 4) == 0) && !find_long (spec->opts, "help", 4))
            {
              free (pos);
              opts_print_help (spec, cmdpath, stdout);
              return -1;
            }
          const struct opt *o = find_long (spec->opts, name, len);
          if (o == NULL)
            {
              /* pflag names the flag without its "=value". */
              cleanup_free char *flag = xstrndup (a, len + 2);
              free (pos);
              return usage_error (cmdpath, "unknown flag: %s", flag);
            }
          cleanup_free char *shown = xstrndup (name, len);
          const char *v;
          if (eq)
            v = eq + 1;
          else if (takes_no_value (o))
            v = "true";
          else if (i + 1 < argc)
            v = argv[++i];
          else
            {
              free (pos);
              cleanup_free char *flag = xasprintf ("--%s", shown);
              return usage_error (cmdpath, "flag needs an argument: %s", flag);
            }
          int r = set_value (o, v, cmdpath);
          if (r)
            {
              free (pos);
              return r;
            }
          continue;
        }
      /* Short flags, possibly combined. */
      for (char *p = a + 1; *p; p++)
        {
          if (*p == 'h' && !find_short (spec->opts, 'h'))
            {
              free (pos);
              opts_print_help (spec, cmdpath, stdout);
              return -1;
            }
          const struct opt *o = find_short (spec->opts, *p);
          if (o == NULL)
            {
              char buf[64];
              snprintf (buf, sizeof buf, "'%c' in %s", *p, a);
              free (pos);
              return usage_error (cmdpath, "unknown shorthand flag: %s", buf);
            }
          if (takes_no_value (o))
            {
              int r = set_value (o, p[1] == '=' ? p + 2 : "true", cmdpath);
              if (r)
                {
                  free (pos);
                  return r;
                }
              if (p[1] == '=')
                break;
              continue;
            }
          const char *v;
          if (p[1])
            v = p[1] == '=' ? p + 2 : p + 1;
          else if (i + 1 < argc)
            v = argv[++i];
          else
            {
              char buf[64];
              snprintf (buf, sizeof buf, "'%c' in %s", *p, a);
              free (pos);
              return usage_error (cmdpath, "flag needs an argument: %s", buf);
            }
          int r = set_value (o, v, cmdpath);
          if (r)
            {
              free (pos);
              return r;
            }
          break;
        }
    }
  if ((int)np < spec->min_args || (spec->max_args >= 0 && (int)np > spec->max_args))
    {
      free (pos);
      print_args_error (spec, cmdpath);
      return 1; /* docker exits 1 for a wrong argument count */
    }
  *args = pos;
  return 0;
}

void opts_print_help (const struct cmd_spec *spec, const char *cmdpath, FILE *out)
{
  fprintf (out, "\nUsage:  berth %s\n\n%s\n", spec->use, spec->short_help);
  if (spec->aliases)
    fprintf (out, "\nAliases:\n  %s\n", spec->aliases);
  fprintf (out, "\nOptions:\n");
  size_t n = 0, width = 0;
  for (const struct opt *o = spec->opts; o && o->name; o++)
    n++;
  char **lines = xcalloc (n + 1, sizeof (char *));
  for (size_t i = 0; i < n; i++)
    {
      const struct opt *o = &spec->opts[i];
      if (o->help == NULL)
        continue;
      const char *mv = takes_no_value (o) ? "" : o->metavar ? o->metavar : "string";
      if (o->shorthand)
        lines[i] = xasprintf ("  -%c, --%s%s%s", o->shorthand, o->name, mv[0] ? " " : "", mv);
      else
        lines[i] = xasprintf ("      --%s%s%s", o->name, mv[0] ? " " : "", mv);
      if (strlen (lines[i]) > width)
        width = strlen (lines[i]);
    }
  for (size_t i = 0; i < n; i++)
    if (lines[i])
      {
        fprintf (out, "%-*s   %s\n", (int)width, lines[i], spec->opts[i].help);
        free (lines[i]);
      }
  free (lines);
  (void)cmdpath;
}
