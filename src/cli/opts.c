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

static int set_value (const struct opt *o, const char *v, const char *cmdpath, const char *shown)
{
  switch (o->type)
    {
    case OPT_BOOL:
      if (parse_bool (v, (bool *)o->ptr) < 0)
        {
          fprintf (stderr,
                   "invalid argument \"%s\" for \"%s\" flag: strconv.ParseBool: parsing "
                   "\"%s\": invalid syntax",
                   v, shown, v);
          fprintf (stderr, "\nSee '%s --help'.\n", cmdpath);
          return EXIT_ENGINE;
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
            fprintf (stderr,
                     "invalid argument \"%s\" for \"%s\" flag: strconv.ParseInt: parsing "
                     "\"%s\": invalid syntax",
                     v, shown, v);
            fprintf (stderr, "\nSee '%s --help'.\n", cmdpath);
            return EXIT_ENGINE;
          }
        *(long *)o->ptr = n;
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
  char **pos = xcalloc ((size_t)argc + 1, sizeof (char *));
  size_t np = 0;
  bool flags_done = false;
  for (int i = 1; i < argc; i++)
    {
      char *a = argv[i];
      if (flags_done || a[0] != '-' || a[1] == '\0')
        {
          pos[np++] = a;
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
              free (pos);
              return usage_error (cmdpath, "unknown flag: %s", a);
            }
          cleanup_free char *shown = xstrndup (name, len);
          const char *v;
          if (eq)
            v = eq + 1;
          else if (o->type == OPT_BOOL)
            v = "true";
          else if (i + 1 < argc)
            v = argv[++i];
          else
            {
              free (pos);
              cleanup_free char *flag = xasprintf ("--%s", shown);
              return usage_error (cmdpath, "flag needs an argument: %s", flag);
            }
          cleanup_free char *shown2 = xasprintf ("--%s", shown);
          int r = set_value (o, v, cmdpath, shown2);
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
          char shown[8];
          snprintf (shown, sizeof shown, "-%c", *p);
          if (o->type == OPT_BOOL)
            {
              if (p[1] == '=')
                {
                  int r = set_value (o, p + 2, cmdpath, shown);
                  if (r)
                    {
                      free (pos);
                      return r;
                    }
                  break;
                }
              *(bool *)o->ptr = true;
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
          int r = set_value (o, v, cmdpath, shown);
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
  size_t width = 0;
  char lines[64][96];
  size_t n = 0;
  for (const struct opt *o = spec->opts; o && o->name && n < 64; o++, n++)
    {
      const char *mv = o->type == OPT_BOOL ? "" : o->metavar ? o->metavar : "string";
      if (o->shorthand)
        snprintf (lines[n], sizeof lines[n], "  -%c, --%s%s%s", o->shorthand, o->name,
                  mv[0] ? " " : "", mv);
      else
        snprintf (lines[n], sizeof lines[n], "      --%s%s%s", o->name, mv[0] ? " " : "", mv);
      if (strlen (lines[n]) > width)
        width = strlen (lines[n]);
    }
  for (size_t i = 0; i < n; i++)
    fprintf (out, "%-*s   %s\n", (int)width, lines[i], spec->opts[i].help);
  (void)cmdpath;
}
