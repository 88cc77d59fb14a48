/* dockerfile_instr.c — the checks BuildKit makes when it turns an AST node into an instruction
 * (argument counts, allowed flags, ONBUILD triggers) and COPY/ADD's split into destination, path
 * sources and heredoc sources. */
#include <stdlib.h>
#include <string.h>

#include "build/dockerfile.h"
#include "util/util.h"

static const char *const known[][8] = {
  { "add", "chown", "chmod", "link", "keep-git-dir", "checksum", "exclude", "unpack" },
  { "copy", "from", "chown", "chmod", "link", "parents", "exclude", NULL },
  { "run", "mount", "network", "security", "device", NULL },
  { "from", "platform", NULL },
  { "healthcheck", "interval", "timeout", "start-period", "start-interval", "retries", NULL },
  { "arg", NULL },
  { "cmd", NULL },
  { "entrypoint", NULL },
  { "env", NULL },
  { "expose", NULL },
  { "label", NULL },
  { "maintainer", NULL },
  { "onbuild", NULL },
  { "shell", NULL },
  { "stopsignal", NULL },
  { "user", NULL },
  { "volume", NULL },
  { "workdir", NULL },
};

static const char *const *instruction_flags (const char *keyword)
{
  for (size_t i = 0; i < ARRAY_SIZE (known); i++)
    if (strcmp (known[i][0], keyword) == 0)
      return known[i] + 1;
  return NULL;
}

static char *upper (const char *s)
{
  char *u = xstrdup (s);
  for (char *p = u; *p; p++)
    if (*p >= 'a' && *p <= 'z')
      *p = (char)(*p - 'a' + 'A');
  return u;
}

/* The instruction word as written (for "unknown instruction: FOO"). */
static char *written_keyword (const struct df_node *n)
{
  const char *p = n->original;
  while (*p == ' ' || *p == '\t')
    p++;
  return xstrndup (p, strcspn (p, " \t\v\f\r"));
}

static bool arg_is_heredoc (const struct df_node *n, const char *arg)
{
  struct df_heredoc h;
  berr_t err = BERR_INIT;
  int r = df_parse_heredoc (arg, &h, &err);
  berr_release (&err);
  if (r != 1)
    return false;
  bool found = false;
  for (size_t i = 0; i < n->n_heredocs && !found; i++)
    found = strcmp (n->heredocs[i].name, h.name) == 0;
  df_heredoc_clear (&h);
  return found;
}

int df_instruction_check (const struct df_node *n, berr_t *err)
{
  const char *const *flags = instruction_flags (n->keyword);
  if (flags == NULL)
    {
      cleanup_free char *w = written_keyword (n);
      return berr_setk (err, BERR_INVALID, 0, "unknown instruction: %s", w);
    }
  cleanup_free char *kw = upper (n->keyword);
  const char *k = n->keyword;
  if (strcmp (k, "maintainer") == 0 || strcmp (k, "workdir") == 0 || strcmp (k, "user") == 0
      || strcmp (k, "stopsignal") == 0)
    {
      if (n->n_args != 1)
        return berr_setk (err, BERR_INVALID, 0, "%s requires exactly one argument", kw);
    }
  else if (strcmp (k, "env") == 0 || strcmp (k, "label") == 0 || strcmp (k, "healthcheck") == 0
           || strcmp (k, "expose") == 0 || strcmp (k, "volume") == 0)
    {
      if (n->n_args == 0)
        return berr_setk (err, BERR_INVALID, 0, "%s requires at least one argument", kw);
    }
  else if (strcmp (k, "onbuild") == 0)
    {
      if (n->sub == NULL)
        return berr_setk (err, BERR_INVALID, 0, "%s requires at least one argument", kw);
      if (strcmp (n->sub->keyword, "onbuild") == 0)
        return berr_setk (err, BERR_INVALID, 0,
                          "Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed");
      if (strcmp (n->sub->keyword, "from") == 0 || strcmp (n->sub->keyword, "maintainer") == 0)
        {
          cleanup_free char *sk = upper (n->sub->keyword);
          return berr_setk (err, BERR_INVALID, 0, "%s isn't allowed as an ONBUILD trigger", sk);
        }
      if (df_instruction_check (n->sub, err) < 0)
        return -1;
    }
  else if (strcmp (k, "add") == 0 || strcmp (k, "copy") == 0)
    {
      if (n->n_args < 2)
        return berr_setk (err, BERR_INVALID, 0,
                          "%s requires at least two arguments, but only one was provided. "
                          "Destination could not be determined",
                          kw);
      if (!n->json && arg_is_heredoc (n, n->args[n->n_args - 1].value))
        return berr_setk (err, BERR_INVALID, 0, "%s cannot accept a heredoc as a destination", kw);
    }
  for (size_t i = 0; n->flags && n->flags[i]; i++)
    {
      const char *f = n->flags[i];
      size_t len = strcspn (f + 2, "=");
      bool ok = false;
      for (size_t j = 0; flags[j] && !ok; j++)
        ok = strlen (flags[j]) == len && strncmp (flags[j], f + 2, len) == 0;
      if (!ok)
        return berr_setk (err, BERR_INVALID, 0, "unknown flag: %.*s", (int)len + 2, f);
    }
  return 0;
}

int df_copy_sources (const struct df_node *n, char **dest, char ***paths,
                     struct df_heredoc **contents, size_t *n_contents, berr_t *err)
{
  *dest = NULL;
  *paths = xcalloc (1, sizeof (char *));
  *contents = NULL;
  *n_contents = 0;
  if (df_instruction_check (n, err) < 0)
    {
      strv_free (*paths);
      *paths = NULL;
      return -1;
    }
  for (size_t i = 0; i + 1 < n->n_args; i++)
    {
      const char *a = n->args[i].value;
      struct df_heredoc h;
      berr_t herr = BERR_INIT;
      int r = n->json ? 0 : df_parse_heredoc (a, &h, &herr);
      berr_release (&herr);
      const struct df_heredoc *body = NULL;
      for (size_t j = 0; r == 1 && j < n->n_heredocs && body == NULL; j++)
        if (strcmp (n->heredocs[j].name, h.name) == 0)
          body = &n->heredocs[j];
      if (r == 1)
        df_heredoc_clear (&h);
      if (body == NULL)
        {
          strv_push (paths, a);
          continue;
        }
      *contents = xrealloc (*contents, (*n_contents + 1) * sizeof **contents);
      struct df_heredoc *c = &(*contents)[(*n_contents)++];
      *c = *body;
      c->name = xstrdup (body->name);
      c->content = body->chomp ? df_heredoc_chomp (body->content) : xstrdup (body->content);
    }
  *dest = xstrdup (n->args[n->n_args - 1].value);
  return 0;
}
