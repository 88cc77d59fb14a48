/* import.c — rootfs tarball -> image, and the --change instructions shared with commit. */
#include "import.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "image/config.h"
#include "image/layer.h"
#include "util/fs.h"
#include "util/json.h"
#include "util/units.h"

/* Split the arguments of an instruction into words: quotes group, backslash escapes. */
static char **split_words (const char *s, berr_t *err)
{
  char **v = NULL;
  struct sbuf w;
  sbuf_init (&w);
  bool in_word = false;
  char quote = 0;
  for (const char *p = s;; p++)
    {
      char c = *p;
      if (c == '\0')
        {
          if (quote)
            {
              sbuf_release (&w);
              strv_free (v);
              berr_setk (err, BERR_INVALID, 0, "unterminated quote in: %s", s);
              return NULL;
            }
          if (in_word)
            strv_push_take (&v, sbuf_detach (&w));
          break;
        }
      if (quote)
        {
          if (c == quote)
            quote = 0;
          else if (c == '\\' && quote == '"' && (p[1] == '"' || p[1] == '\\'))
            sbuf_addc (&w, *++p);
          else
            sbuf_addc (&w, c);
          continue;
        }
      if (isspace ((unsigned char)c))
        {
          if (in_word)
            strv_push_take (&v, sbuf_detach (&w));
          in_word = false;
          continue;
        }
      in_word = true;
      if (c == '"' || c == '\'')
        quote = c;
      else if (c == '\\' && p[1])
        sbuf_addc (&w, *++p);
      else
        sbuf_addc (&w, c);
    }
  if (v == NULL)
    v = xcalloc (1, sizeof (char *));
  return v;
}

/* JSON exec form if the text is a JSON array of strings, else NULL. */
static json_t *parse_exec_form (const char *args)
{
  while (isspace ((unsigned char)*args))
    args++;
  if (*args != '[')
    return NULL;
  json_t *j = json_loads (args, 0, NULL);
  if (!json_is_array (j))
    {
      json_decref (j);
      return NULL;
    }
  size_t i;
  json_t *e;
  json_array_foreach (j, i, e) if (!json_is_string (e))
  {
    json_decref (j);
    return NULL;
  }
  return j;
}

static json_t *ensure_object (json_t *cfg, const char *key)
{
  json_t *o = json_object_get (cfg, key);
  if (!json_is_object (o))
    {
      o = json_object ();
      json_object_set_new (cfg, key, o);
    }
  return o;
}

/* KEY=VALUE pairs (or the legacy "KEY VALUE") into an object or an env array. */
static int apply_pairs (json_t *cfg, const char *instr, const char *args, bool env, berr_t *err)
{
  cleanup_strv char **words = split_words (args, err);
  if (words == NULL)
    return -1;
  if (words[0] == NULL)
    return berr_setk (err, BERR_INVALID, 0, "%s requires at least one argument", instr);
  cleanup_strv char **pairs = NULL;
  if (strchr (words[0], '=') == NULL)
    {
      /* Legacy form: the first word is the key, the rest of the line the value. */
      const char *rest = args;
      while (isspace ((unsigned char)*rest))
        rest++;
      rest += strcspn (rest, " \t");
      while (isspace ((unsigned char)*rest))
        rest++;
      if (*rest == '\0' && env)
        return berr_setk (err, BERR_INVALID, 0, "%s %s: missing value", instr, words[0]);
      strv_push_take (&pairs, xasprintf ("%s=%s", words[0], rest));
    }
  else
    for (size_t i = 0; words[i]; i++)
      {
        if (strchr (words[i], '=') == NULL)
          return berr_setk (err, BERR_INVALID, 0, "%s: %s is not of the form key=value", instr,
                            words[i]);
        strv_push (&pairs, words[i]);
      }
  for (size_t i = 0; pairs[i]; i++)
    {
      char *eq = strchr (pairs[i], '=');
      cleanup_free char *key = xstrndup (pairs[i], (size_t)(eq - pairs[i]));
      if (key[0] == '\0')
        return berr_setk (err, BERR_INVALID, 0, "%s: empty key", instr);
      if (env)
        {
          json_t *a = json_object_get (cfg, "Env");
          if (!json_is_array (a))
            {
              a = json_array ();
              json_object_set_new (cfg, "Env", a);
            }
          size_t k;
          json_t *e;
          bool replaced = false;
          size_t kl = strlen (key);
          json_array_foreach (a, k, e)
          {
            const char *sv = json_string_value (e);
            if (sv && strncmp (sv, key, kl) == 0 && sv[kl] == '=')
              {
                json_array_set_new (a, k, json_string (pairs[i]));
                replaced = true;
                break;
              }
          }
          if (!replaced)
            json_array_append_new (a, json_string (pairs[i]));
        }
      else
        json_object_set_new (ensure_object (cfg, "Labels"), key, json_string (eq + 1));
    }
  return 0;
}

static int apply_one (json_t *cfg, const char *line, berr_t *err)
{
  while (isspace ((unsigned char)*line))
    line++;
  size_t kl = strcspn (line, " \t");
  cleanup_free char *instr = xstrndup (line, kl);
  for (char *p = instr; *p; p++)
    *p = (char)toupper ((unsigned char)*p);
  const char *args = line + kl;
  while (isspace ((unsigned char)*args))
    args++;
  if (strcmp (instr, "CMD") == 0 || strcmp (instr, "ENTRYPOINT") == 0)
    {
      const char *key = instr[0] == 'C' ? "Cmd" : "Entrypoint";
      json_t *j = parse_exec_form (args);
      if (j == NULL)
        j = json_pack ("[s, s, s]", "/bin/sh", "-c", args);
      json_object_set_new (cfg, key, j);
      return 0;
    }
  if (strcmp (instr, "ENV") == 0)
    return apply_pairs (cfg, instr, args, true, err);
  if (strcmp (instr, "LABEL") == 0)
    return apply_pairs (cfg, instr, args, false, err);
  if (strcmp (instr, "EXPOSE") == 0 || strcmp (instr, "VOLUME") == 0)
    {
      bool expose = instr[0] == 'E';
      json_t *j = expose ? NULL : parse_exec_form (args);
      cleanup_strv char **words = j ? json_to_strv (j) : split_words (args, err);
      json_decref (j);
      if (words == NULL)
        return -1;
      if (words[0] == NULL)
        return berr_setk (err, BERR_INVALID, 0, "%s requires at least one argument", instr);
      json_t *o = ensure_object (cfg, expose ? "ExposedPorts" : "Volumes");
      for (size_t i = 0; words[i]; i++)
        {
          if (expose)
            {
              char *end;
              const char *w = words[i];
              long port = strtol (w, &end, 10);
              if (end == w || port < 0 || port > 65535
                  || (*end && strcmp (end, "/tcp") != 0 && strcmp (end, "/udp") != 0
                      && strcmp (end, "/sctp") != 0))
                return berr_setk (err, BERR_INVALID, 0, "invalid port for EXPOSE: %s", w);
              cleanup_free char *k = *end ? xstrdup (w) : xasprintf ("%s/tcp", w);
              json_object_set_new (o, k, json_object ());
            }
          else
            json_object_set_new (o, words[i], json_object ());
        }
      return 0;
    }
  if (strcmp (instr, "USER") == 0 || strcmp (instr, "WORKDIR") == 0
      || strcmp (instr, "STOPSIGNAL") == 0)
    {
      if (*args == '\0')
        return berr_setk (err, BERR_INVALID, 0, "%s requires exactly one argument", instr);
      const char *key = instr[0] == 'U' ? "User" : instr[0] == 'W' ? "WorkingDir" : "StopSignal";
      json_object_set_new (cfg, key, json_string (args));
      return 0;
    }
  if (strcmp (instr, "ONBUILD") == 0)
    {
      if (*args == '\0')
        return berr_setk (err, BERR_INVALID, 0, "ONBUILD requires at least one argument");
      json_t *a = json_object_get (cfg, "OnBuild");
      if (!json_is_array (a))
        {
          a = json_array ();
          json_object_set_new (cfg, "OnBuild", a);
        }
      json_array_append_new (a, json_string (args));
      return 0;
    }
  return berr_setk (err, BERR_INVALID, 0, "%s is not a valid change command", instr);
}

int image_apply_changes (json_t *container_config, char *const *changes, berr_t *err)
{
  for (size_t i = 0; changes && changes[i]; i++)
    if (apply_one (container_config, changes[i], err) < 0)
      return berr_wrap (err, "--change \"%s\"", changes[i]);
  return 0;
}

int image_import (struct store *s, int fd, const struct import_opts *opts, char id[DIGEST_STR_LEN],
                  berr_t *err)
{
  cleanup_json json_t *cc = json_object ();
  if (image_apply_changes (cc, opts->changes, err) < 0)
    return -1;
  cleanup_free char *dir = NULL, *blob = NULL, *split = NULL;
  cleanup_close int bfd = -1, sfd = -1;
  if (store_stage_dir (s, "import", &dir, err) < 0
      || store_stage_file (s, "blob", &blob, &bfd, err) < 0
      || store_stage_file (s, "split", &split, &sfd, err) < 0)
    return -1;
  cleanup_close int dfd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0)
    return berr_set (err, errno, "open %s", dir);
  struct layer_apply_opts lo
      = { .max_size = opts->max_layer_size, .blob_fd = bfd, .use_split = true, .split_fd = sfd };
  struct layer_apply_result res;
  if (layer_apply_fd (fd, dfd, &lo, &res, err) < 0)
    return berr_wrap (err, "import");
  char now[64];
  units_rfc3339_nano (now_ns (), now, sizeof now);
  cleanup_free char *comment
      = opts->message ? xstrdup (opts->message) : xasprintf ("Imported from %s", opts->source);
  json_t *config
      = json_pack ("{s:s, s:s, s:s, s:O, s:s, s:[{s:s, s:s}], s:{s:s, s:[s]}}", "architecture",
                   image_host_arch (), "os", "linux", "created", now, "config", cc, "comment",
                   comment, "history", "created", now, "comment", comment, "rootfs", "type",
                   "layers", "diff_ids", res.diff_id);
  cleanup_free char *cfg = json_dumps (config, JSON_COMPACT);
  int64_t created = image_config_created (config);
  json_decref (config);
  sha256_digest (cfg, strlen (cfg), id);
  cleanup_free char *cfgpath = NULL;
  cleanup_close int cfd = -1;
  if (store_stage_file (s, "json", &cfgpath, &cfd, err) < 0)
    return -1;
  if (fs_write_all (cfd, cfg, strlen (cfg)) < 0 || fsync (cfd) < 0)
    return berr_set (err, errno, "write %s", cfgpath);
  struct ingest_layer l = { 0 };
  memcpy (l.diff_id, res.diff_id, DIGEST_STR_LEN);
  l.staged_dir = dir;
  if (res.split)
    l.staged_split = split;
  else
    {
      memcpy (l.blob, res.digest, DIGEST_STR_LEN);
      l.staged_blob = blob;
    }
  l.media_type
      = (char *)(strcmp (res.compression, "gzip") == 0
                     ? "application/vnd.oci.image.layer.v1.tar+gzip"
                 : strcmp (res.compression, "zstd") == 0
                     ? "application/vnd.oci.image.layer.v1.tar+zstd"
                 : strcmp (res.compression, "none") == 0 ? "application/vnd.oci.image.layer.v1.tar"
                                                         : "application/octet-stream");
  l.blob_size = (int64_t)res.size;
  l.tar_size = (int64_t)res.tar_size;
  l.size = (int64_t)res.content_size;
  char *diff_ids[] = { res.diff_id, NULL };
  char *tags[] = { (char *)opts->tag, NULL };
  struct ingest_image im = { 0 };
  memcpy (im.id, id, DIGEST_STR_LEN);
  im.staged_config = cfgpath;
  im.created = created;
  im.diff_ids = diff_ids;
  im.tags = opts->tag ? tags : NULL;
  return store_commit (s, &l, 1, &im, 1, NULL, NULL, err);
}
