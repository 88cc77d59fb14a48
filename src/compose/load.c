/* load.c — a project from its files: discovery, .env, per-file parsing, interpolation and
 * normalisation, merging, the project name, then what needs the whole project (env_file,
 * profiles, default network, resource names) and the cross-service checks.  Nothing here
 * touches the engine. */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "compose/compose.h"
#include "compose/interp.h"
#include "compose/model_int.h"
#include "util/fs.h"

extern char **environ;

char *compose_normalize_project_name (const char *s)
{
  struct sbuf b;
  sbuf_init (&b);
  sbuf_adds (&b, "");
  for (const char *p = s; *p; p++)
    {
      char c = (char)tolower ((unsigned char)*p);
      if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-')
        {
          if (b.len == 0 && (c == '_' || c == '-'))
            continue;
          sbuf_addc (&b, c);
        }
    }
  return sbuf_detach (&b);
}

bool compose_project_name_valid (const char *s)
{
  if (*s == '\0' || !((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= '0' && s[0] <= '9')))
    return false;
  for (const char *p = s; *p; p++)
    if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_' || *p == '-'))
      return false;
  return true;
}

static bool file_exists (const char *p)
{
  struct stat st;
  return stat (p, &st) == 0 && S_ISREG (st.st_mode);
}

static char *abs_path (const char *cwd, const char *p)
{
  if (p[0] == '/')
    return fs_path_clean (p);
  cleanup_free char *j = xasprintf ("%s/%s", cwd, p);
  return fs_path_clean (j);
}

static char *dir_of (const char *p)
{
  const char *sl = strrchr (p, '/');
  if (sl == NULL)
    return xstrdup (".");
  if (sl == p)
    return xstrdup ("/");
  return xstrndup (p, (size_t)(sl - p));
}

/* compose.yaml … docker-compose.yml in dir or the nearest parent that has one, plus its
 * override file. */
static int discover (const char *start, char ***files, berr_t *err)
{
  static const char *const names[]
      = { "compose.yaml", "compose.yml", "docker-compose.yaml", "docker-compose.yml" };
  static const char *const overrides[]
      = { "compose.override.yaml", "compose.override.yml", "docker-compose.override.yaml",
          "docker-compose.override.yml" };
  cleanup_free char *dir = xstrdup (start);
  for (;;)
    {
      for (size_t i = 0; i < ARRAY_SIZE (names); i++)
        {
          cleanup_free char *p = xasprintf ("%s/%s", strcmp (dir, "/") ? dir : "", names[i]);
          if (!file_exists (p))
            continue;
          strv_push (files, p);
          /* The override that goes with the name found: compose.* with compose.override.*. */
          for (size_t k = (i < 2 ? 0 : 2); k < (i < 2 ? 2 : 4); k++)
            {
              cleanup_free char *o
                  = xasprintf ("%s/%s", strcmp (dir, "/") ? dir : "", overrides[k]);
              if (file_exists (o))
                {
                  strv_push (files, o);
                  break;
                }
            }
          return 0;
        }
      if (strcmp (dir, "/") == 0)
        break;
      char *up = dir_of (dir);
      free (dir);
      dir = up;
    }
  return berr_setk (err, BERR_NOT_FOUND, 0, "no configuration file provided: not found");
}

static char **split_list (const char *s, char sep)
{
  char **v = NULL;
  cleanup_free char *copy = xstrdup (s);
  char *save = NULL;
  char seps[2] = { sep, 0 };
  for (char *t = strtok_r (copy, seps, &save); t; t = strtok_r (NULL, seps, &save))
    {
      while (*t == ' ')
        t++;
      if (*t)
        strv_push (&v, t);
    }
  return v;
}

static int load_env (const struct compose_options *o, const char *wd, const char *cwd,
                     struct cnode *env, berr_t *err)
{
  cleanup_cnode struct cnode *proc = cnode_new (CN_MAP);
  for (char **e = o->environ ? o->environ : environ; e && *e; e++)
    {
      const char *eq = strchr (*e, '=');
      if (eq == NULL)
        continue;
      cleanup_free char *k = xstrndup (*e, (size_t)(eq - *e));
      cnode_set (proc, k, cnode_str (eq + 1));
    }
  cleanup_strv char **files = NULL;
  if (o->env_files)
    for (char **f = o->env_files; *f; f++)
      strv_push_take (&files, abs_path (cwd, *f));
  else
    {
      cleanup_free char *dot = xasprintf ("%s/.env", wd);
      struct stat st;
      if (stat (dot, &st) == 0)
        {
          if (S_ISDIR (st.st_mode))
            return berr_setk (err, BERR_INVALID, 0, "%s is a directory", dot);
          strv_push (&files, dot);
        }
    }
  for (char **f = files; f && *f; f++)
    {
      cleanup_cnode struct cnode *vars = NULL;
      if (compose_dotenv_read (*f, compose_lookup_map, proc, env, &vars, err) < 0)
        return -1;
      for (size_t i = 0; i < vars->n; i++)
        cnode_set (env, vars->ents[i].key, cnode_copy (vars->ents[i].val));
    }
  /* The process environment wins over .env. */
  for (size_t i = 0; i < proc->n; i++)
    cnode_set (env, proc->ents[i].key, cnode_copy (proc->ents[i].val));
  return 0;
}

static void free_docs (struct cnode **docs, size_t n)
{
  for (size_t i = 0; docs && i < n; i++)
    cnode_free (docs[i]);
  free (docs);
}

int compose_project_load (const struct compose_options *o, struct compose_project **out,
                          berr_t *err)
{
  char cwdbuf[PATH_MAX];
  const char *cwd = o->cwd;
  if (cwd == NULL)
    {
      if (getcwd (cwdbuf, sizeof cwdbuf) == NULL)
        return berr_set (err, errno, "getcwd");
      cwd = cwdbuf;
    }
  /* The process environment alone decides COMPOSE_FILE (it names where .env is). */
  const char *compose_file = NULL;
  for (char **e = o->environ ? o->environ : environ; e && *e; e++)
    if (str_has_prefix (*e, "COMPOSE_FILE="))
      compose_file = *e + strlen ("COMPOSE_FILE=");
  cleanup_strv char **files = NULL;
  if (o->files && o->files[0])
    for (char **f = o->files; *f; f++)
      strv_push_take (&files, strcmp (*f, "-") == 0 ? xstrdup ("/dev/stdin") : abs_path (cwd, *f));
  else if (compose_file && *compose_file)
    {
      cleanup_strv char **parts = split_list (compose_file, ':');
      for (char **f = parts; f && *f; f++)
        strv_push_take (&files, abs_path (cwd, *f));
    }
  else
    {
      const char *start = o->project_dir ? o->project_dir : cwd;
      cleanup_free char *sabs = abs_path (cwd, start);
      if (discover (sabs, &files, err) < 0)
        return -1;
    }
  if (files == NULL)
    return berr_setk (err, BERR_NOT_FOUND, 0, "no configuration file provided: not found");
  /* The project directory: --project-directory, else the first file's (the current one for
   * a file read from stdin). */
  cleanup_free char *wd = o->project_dir                         ? abs_path (cwd, o->project_dir)
                          : strcmp (files[0], "/dev/stdin") == 0 ? xstrdup (cwd)
                                                                 : dir_of (files[0]);

  struct compose_project *p = xzalloc (sizeof *p);
  p->working_dir = xstrdup (wd);
  cleanup_cnode struct cnode *env = cnode_new (CN_MAP);
  cleanup_cnode struct cnode *merged = NULL;
  struct cnode **docs = NULL;
  size_t nfiles = strv_len (files);
  cleanup_free char *envname0 = NULL;
  if (load_env (o, wd, cwd, env, err) < 0)
    goto fail;

  /* Parse every file first: the project name (from the last name:) must be known before
   * interpolation, which offers it as ${COMPOSE_PROJECT_NAME}. */
  docs = xcalloc (nfiles + 1, sizeof *docs);
  for (size_t fi = 0; fi < nfiles; fi++)
    {
      const char *f = files[fi];
      cleanup_free char *data = NULL;
      size_t len = 0;
      if (fs_read_file (f, 64 << 20, &data, &len, err) < 0)
        goto fail;
      strv_push (&p->config_files, f);
      /* Errors name the file relative to the current directory when it is under it. */
      const char *shown = f;
      size_t wl = strlen (cwd);
      if (strncmp (f, cwd, wl) == 0 && f[wl] == '/')
        shown = f + wl + 1;
      if (cnode_parse_yaml (data, len, shown, &docs[fi], err) < 0)
        goto fail;
      if (docs[fi]->kind == CN_NULL)
        {
          cnode_free (docs[fi]);
          docs[fi] = cnode_new (CN_MAP);
        }
      /* The version key is obsolete: accepted and dropped. */
      if (docs[fi]->kind == CN_MAP)
        cnode_del (docs[fi], "version");
    }
  if (compose_lookup_map ("COMPOSE_PROJECT_NAME", env))
    envname0 = xstrdup (compose_lookup_map ("COMPOSE_PROJECT_NAME", env));
  if (o->project_name)
    cnode_set (env, "COMPOSE_PROJECT_NAME", cnode_str (o->project_name));
  else if (!(envname0 && *envname0))
    {
      cleanup_free char *early = NULL;
      for (size_t fi = 0; fi < nfiles; fi++)
        {
          const char *nm = cnode_text (cnode_get (docs[fi], "name"));
          char *v = NULL;
          cleanup_berr berr_t e = BERR_INIT;
          if (nm && compose_substitute (nm, compose_lookup_map, env, &v, &e) == 0)
            {
              free (early);
              early = v;
            }
        }
      if (early == NULL || *early == '\0')
        {
          free (early);
          const char *base = strrchr (wd, '/');
          early = compose_normalize_project_name (base && base[1] ? base + 1 : wd);
        }
      cnode_set (env, "COMPOSE_PROJECT_NAME", cnode_str (early));
    }
  for (size_t fi = 0; fi < nfiles; fi++)
    {
      struct cnode *doc = docs[fi];
      if (compose_interpolate (doc, compose_lookup_map, env, err) < 0)
        goto fail;
      if (compose_normalize_file (doc, wd, env, err) < 0)
        goto fail;
      if (merged == NULL)
        merged = steal_pointer (&docs[fi]);
      else
        compose_merge (merged, doc);
    }

  /* The name: -p, COMPOSE_PROJECT_NAME, name:, then the directory's. */
  const char *envname = envname0;
  const char *fname = cnode_text (cnode_get (merged, "name"));
  if (o->project_name)
    {
      if (!compose_project_name_valid (o->project_name))
        {
          berr_setk (err, BERR_INVALID, 0,
                     "invalid project name \"%s\": must consist only of lowercase alphanumeric "
                     "characters, hyphens, and underscores as well as start with a letter or "
                     "number",
                     o->project_name);
          goto fail;
        }
      p->name = xstrdup (o->project_name);
    }
  else if (envname && *envname)
    p->name = compose_normalize_project_name (envname);
  else if (fname && *fname)
    {
      if (!compose_project_name_valid (fname))
        {
          cnode_fail (err, cnode_get (merged, "name"),
                      "invalid project name \"%s\": must consist only of lowercase alphanumeric "
                      "characters, hyphens, and underscores as well as start with a letter or "
                      "number",
                      fname);
          goto fail;
        }
      p->name = xstrdup (fname);
    }
  else
    {
      const char *base = strrchr (wd, '/');
      p->name = compose_normalize_project_name (base && base[1] ? base + 1 : wd);
    }
  if (*p->name == '\0')
    {
      berr_setk (err, BERR_INVALID, 0, "project name must not be empty (set one with -p or name:)");
      goto fail;
    }

  /* Active profiles. */
  if (o->profiles)
    p->profiles = strv_dup (o->profiles);
  else
    {
      const char *cp = compose_lookup_map ("COMPOSE_PROFILES", env);
      p->profiles = cp ? split_list (cp, ',') : NULL;
    }
  for (size_t i = 0; i < env->n; i++)
    strv_push_take (&p->environment,
                    xasprintf ("%s=%s", env->ents[i].key, cnode_text (env->ents[i].val)));
  if (compose_finalize (p, merged, env, o, err) < 0)
    goto fail;
  p->tree = steal_pointer (&merged);
  if (compose_build_model (p, err) < 0)
    goto fail;
  free_docs (docs, nfiles);
  *out = p;
  return 0;
fail:
  free_docs (docs, nfiles);
  compose_project_free (p);
  return -1;
}
