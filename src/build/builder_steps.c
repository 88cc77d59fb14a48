/* builder_steps.c — the instructions: the metadata ones (ENV, LABEL, ARG, CMD, ENTRYPOINT,
 * EXPOSE, VOLUME, USER, STOPSIGNAL, HEALTHCHECK, SHELL, MAINTAINER, ONBUILD), WORKDIR and
 * COPY/ADD. History lines are written the way Docker's legacy builder writes them, so `history`
 * reads the same. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "build/builder_int.h"
#include "build/copy.h"
#include "util/fs.h"
#include "util/json.h"
#include "util/units.h"

int builder_process_arg (struct builder *b, struct stage *st, struct df_node *n, char ***created,
                         berr_t *err);

static json_t *cfg_copy (struct stage *st)
{
  json_t *c = json_object_get (st->config, "config");
  return c ? json_deep_copy (c) : json_object ();
}

/* Go's %q of a string slice: ["a" "b c"] */
static void add_quoted_list (struct sbuf *s, json_t *arr)
{
  sbuf_addc (s, '[');
  size_t i;
  json_t *x;
  json_array_foreach (arr, i, x)
  {
    cleanup_free char *q = json_dumps (x, JSON_ENCODE_ANY);
    sbuf_addf (s, "%s%s", i ? " " : "", q);
  }
  sbuf_addc (s, ']');
}

static void env_set (json_t *cfg, const char *k, const char *v)
{
  json_t *env = json_object_get (cfg, "Env");
  if (!json_is_array (env))
    {
      env = json_array ();
      json_object_set_new (cfg, "Env", env);
    }
  size_t kl = strlen (k);
  cleanup_free char *kv = xasprintf ("%s=%s", k, v);
  size_t i;
  json_t *x;
  json_array_foreach (env, i, x)
  {
    const char *s = json_string_value (x);
    if (s && strncmp (s, k, kl) == 0 && (s[kl] == '=' || s[kl] == '\0'))
      {
        json_array_set_new (env, i, json_string (kv));
        return;
      }
  }
  json_array_append_new (env, json_string (kv));
}

static int fail (struct builder *b, struct df_node *n, berr_t *err)
{
  return berr_wrap (err, "%s:%d", b->ctx->dockerfile_name, n->start_line);
}

/* ENV and LABEL: key/value/separator triples, all expanded against the state before the line. */
static int step_env_label (struct builder *b, struct stage *st, struct df_node *n, bool env,
                           berr_t *err)
{
  json_t *cfg = cfg_copy (st);
  struct sbuf hist;
  sbuf_init (&hist);
  sbuf_adds (&hist, env ? "/bin/sh -c #(nop)  ENV" : "/bin/sh -c #(nop)  LABEL");
  json_t *labels = NULL;
  if (!env)
    {
      labels = json_object_get (cfg, "Labels");
      if (!json_is_object (labels))
        {
          labels = json_object ();
          json_object_set_new (cfg, "Labels", labels);
        }
    }
  cleanup_strv char **kv = stage_expand_env (b, st);
  struct shell_env senv = { .kv = kv };
  for (size_t i = 0; i + 1 < n->n_args; i += 3)
    {
      cleanup_free char *k = NULL, *v = NULL;
      if (shell_process_word (n->args[i].value, &senv, b->escape, &k, NULL, err) < 0
          || shell_process_word (n->args[i + 1].value, &senv, b->escape, &v, NULL, err) < 0)
        {
          sbuf_release (&hist);
          json_decref (cfg);
          return fail (b, n, err);
        }
      if (*k == '\0')
        {
          sbuf_release (&hist);
          json_decref (cfg);
          berr_setk (err, BERR_INVALID, 0, "%s names can not be blank", env ? "ENV" : "LABEL");
          return fail (b, n, err);
        }
      if (env)
        env_set (cfg, k, v);
      else
        json_object_set_new (labels, k, json_string (v));
      sbuf_addf (&hist, " %s=%s", k, v);
    }
  cleanup_free char *created = sbuf_detach (&hist);
  return step_commit_meta (b, st, cfg, created, NULL, err) < 0 ? fail (b, n, err) : 0;
}

/* CMD, ENTRYPOINT, SHELL, and HEALTHCHECK's command: exec form or the shell's. */
static json_t *command_args (struct stage *st, struct df_node *n, size_t from)
{
  json_t *a = json_array ();
  if (n->json)
    {
      for (size_t i = from; i < n->n_args; i++)
        json_array_append_new (a, json_stringn (n->args[i].value, n->args[i].len));
      return a;
    }
  json_t *shell = json_object_get (json_object_get (st->config, "config"), "Shell");
  if (json_is_array (shell) && json_array_size (shell) > 0)
    json_array_extend (a, shell);
  else
    {
      json_array_append_new (a, json_string ("/bin/sh"));
      json_array_append_new (a, json_string ("-c"));
    }
  if (from < n->n_args)
    json_array_append_new (a, json_string (n->args[from].value));
  return a;
}

static int step_cmd (struct builder *b, struct stage *st, struct df_node *n, berr_t *err)
{
  bool entry = strcmp (n->keyword, "entrypoint") == 0;
  json_t *cfg = cfg_copy (st);
  json_t *args = command_args (st, n, 0);
  struct sbuf h;
  sbuf_init (&h);
  sbuf_adds (&h, entry ? "/bin/sh -c #(nop)  ENTRYPOINT " : "/bin/sh -c #(nop)  CMD ");
  add_quoted_list (&h, args);
  json_object_set_new (cfg, entry ? "Entrypoint" : "Cmd", args);
  if (entry && !st->cmd_set)
    json_object_set_new (cfg, "Cmd", json_null ());
  if (!entry)
    st->cmd_set = true;
  cleanup_free char *created = sbuf_detach (&h);
  return step_commit_meta (b, st, cfg, created, NULL, err) < 0 ? fail (b, n, err) : 0;
}

/* Each argument expanded and split (EXPOSE, VOLUME's word form). */
static int expand_words (struct builder *b, struct stage *st, struct df_node *n, char ***out,
                         berr_t *err)
{
  cleanup_strv char **kv = stage_expand_env (b, st);
  struct shell_env senv = { .kv = kv };
  char **all = xcalloc (1, sizeof (char *));
  for (size_t i = 0; i < n->n_args; i++)
    {
      char **w = NULL;
      if (n->json)
        {
          char *one = NULL;
          if (shell_process_word (n->args[i].value, &senv, b->escape, &one, NULL, err) < 0)
            {
              strv_free (all);
              return -1;
            }
          strv_push_take (&all, one);
          continue;
        }
      if (shell_process_words (n->args[i].value, &senv, b->escape, &w, NULL, err) < 0)
        {
          strv_free (all);
          return -1;
        }
      for (size_t j = 0; w[j]; j++)
        strv_push (&all, w[j]);
      strv_free (w);
    }
  *out = all;
  return 0;
}

static int step_expose (struct builder *b, struct stage *st, struct df_node *n, berr_t *err)
{
  cleanup_strv char **words = NULL;
  if (expand_words (b, st, n, &words, err) < 0)
    return fail (b, n, err);
  json_t *cfg = cfg_copy (st);
  json_t *ports = json_object_get (cfg, "ExposedPorts");
  if (!json_is_object (ports))
    {
      ports = json_object ();
      json_object_set_new (cfg, "ExposedPorts", ports);
    }
  struct sbuf h;
  sbuf_init (&h);
  sbuf_adds (&h, "/bin/sh -c #(nop)  EXPOSE");
  for (size_t i = 0; words[i]; i++)
    {
      const char *w = words[i];
      const char *slash = strchr (w, '/');
      cleanup_free char *num = slash ? xstrndup (w, (size_t)(slash - w)) : xstrdup (w);
      cleanup_free char *proto = xstrdup (slash ? slash + 1 : "tcp");
      for (char *p = proto; *p; p++)
        if (*p >= 'A' && *p <= 'Z')
          *p = (char)(*p - 'A' + 'a');
      char *end;
      long lo = strtol (num, &end, 10), hi = lo;
      if (*end == '-')
        hi = strtol (end + 1, &end, 10);
      if (end == num || *end || lo < 0 || hi > 65535 || hi < lo
          || (strcmp (proto, "tcp") && strcmp (proto, "udp") && strcmp (proto, "sctp")))
        {
          sbuf_release (&h);
          json_decref (cfg);
          berr_setk (err, BERR_INVALID, 0, "invalid containerPort: %s", w);
          return fail (b, n, err);
        }
      for (long p = lo; p <= hi; p++)
        {
          cleanup_free char *k = xasprintf ("%ld/%s", p, proto);
          json_object_set_new (ports, k, json_object ());
        }
      sbuf_addf (&h, " %s", w);
    }
  cleanup_free char *created = sbuf_detach (&h);
  return step_commit_meta (b, st, cfg, created, NULL, err) < 0 ? fail (b, n, err) : 0;
}

static int step_volume (struct builder *b, struct stage *st, struct df_node *n, berr_t *err)
{
  cleanup_strv char **words = NULL;
  if (expand_words (b, st, n, &words, err) < 0)
    return fail (b, n, err);
  json_t *cfg = cfg_copy (st);
  json_t *vols = json_object_get (cfg, "Volumes");
  if (!json_is_object (vols))
    {
      vols = json_object ();
      json_object_set_new (cfg, "Volumes", vols);
    }
  struct sbuf h;
  sbuf_init (&h);
  sbuf_adds (&h, "/bin/sh -c #(nop)  VOLUME [");
  for (size_t i = 0; words[i]; i++)
    {
      if (*words[i] == '\0')
        {
          sbuf_release (&h);
          json_decref (cfg);
          berr_setk (err, BERR_INVALID, 0, "VOLUME specified can not be an empty string");
          return fail (b, n, err);
        }
      json_object_set_new (vols, words[i], json_object ());
      sbuf_addf (&h, "%s%s", i ? " " : "", words[i]);
    }
  sbuf_addc (&h, ']');
  cleanup_free char *created = sbuf_detach (&h);
  return step_commit_meta (b, st, cfg, created, NULL, err) < 0 ? fail (b, n, err) : 0;
}

static bool valid_signal (const char *s)
{
  char *end;
  long v = strtol (s, &end, 10);
  if (*s && *end == '\0')
    return v > 0 && v < 65;
  const char *name = str_has_prefix (s, "SIG") ? s + 3 : s;
  static const char *const names[]
      = { "HUP",   "INT",  "QUIT", "ILL",  "TRAP", "ABRT", "BUS",    "FPE",    "KILL",
          "USR1",  "SEGV", "USR2", "PIPE", "ALRM", "TERM", "STKFLT", "CHLD",   "CONT",
          "STOP",  "TSTP", "TTIN", "TTOU", "URG",  "XCPU", "XFSZ",   "VTALRM", "PROF",
          "WINCH", "IO",   "PWR",  "SYS",  "POLL", "IOT",  NULL };
  for (size_t i = 0; names[i]; i++)
    if (strcasecmp (names[i], name) == 0)
      return true;
  return str_has_prefix (name, "RTMIN") || str_has_prefix (name, "RTMAX");
}

/* USER, STOPSIGNAL, MAINTAINER: one expanded word. */
static int step_one_word (struct builder *b, struct stage *st, struct df_node *n, berr_t *err)
{
  cleanup_free char *v = NULL;
  if (strcmp (n->keyword, "maintainer") == 0)
    v = xstrdup (n->args[0].value);
  else if (expand_word (b, st, n->args[0].value, &v, err) < 0)
    return fail (b, n, err);
  json_t *cfg = cfg_copy (st);
  cleanup_free char *created = NULL;
  if (strcmp (n->keyword, "user") == 0)
    {
      json_object_set_new (cfg, "User", json_string (v));
      created = xasprintf ("/bin/sh -c #(nop)  USER %s", v);
    }
  else if (strcmp (n->keyword, "stopsignal") == 0)
    {
      if (!valid_signal (v))
        {
          json_decref (cfg);
          berr_setk (err, BERR_INVALID, 0, "Invalid signal: %s", v);
          return fail (b, n, err);
        }
      json_object_set_new (cfg, "StopSignal", json_string (v));
      created = xasprintf ("/bin/sh -c #(nop)  STOPSIGNAL %s", v);
    }
  else
    {
      json_object_set_new (st->config, "author", json_string (v));
      created = xasprintf ("/bin/sh -c #(nop)  MAINTAINER %s", v);
    }
  return step_commit_meta (b, st, cfg, created, NULL, err) < 0 ? fail (b, n, err) : 0;
}

static int step_shell (struct builder *b, struct stage *st, struct df_node *n, berr_t *err)
{
  if (!n->json)
    {
      berr_setk (err, BERR_INVALID, 0, "SHELL requires the arguments to be in JSON form");
      return fail (b, n, err);
    }
  if (n->n_args == 0)
    {
      berr_setk (err, BERR_INVALID, 0, "SHELL requires at least one argument");
      return fail (b, n, err);
    }
  json_t *cfg = cfg_copy (st);
  json_t *args = command_args (st, n, 0);
  struct sbuf h;
  sbuf_init (&h);
  sbuf_adds (&h, "/bin/sh -c #(nop)  SHELL ");
  add_quoted_list (&h, args);
  json_object_set_new (cfg, "Shell", args);
  cleanup_free char *created = sbuf_detach (&h);
  return step_commit_meta (b, st, cfg, created, NULL, err) < 0 ? fail (b, n, err) : 0;
}

/* Go's time.Duration.String for the history line: "0s", "1m30s", "1.5s", "250ms". */
static void go_duration (int64_t ns, char *buf, size_t len)
{
  if (ns == 0)
    {
      snprintf (buf, len, "0s");
      return;
    }
  if (ns < 1000000000LL)
    {
      if (ns % 1000000 == 0)
        snprintf (buf, len, "%lldms", (long long)(ns / 1000000));
      else if (ns % 1000 == 0)
        snprintf (buf, len, "%gµs", (double)ns / 1e3);
      else
        snprintf (buf, len, "%lldns", (long long)ns);
      return;
    }
  long long h = ns / 3600000000000LL, m = ns / 60000000000LL % 60;
  double sec = (double)(ns % 60000000000LL) / 1e9;
  int n = 0;
  if (h)
    n += snprintf (buf + n, len - (size_t)n, "%lldh", h);
  if (h || m)
    n += snprintf (buf + n, len - (size_t)n, "%lldm", m);
  snprintf (buf + n, len - (size_t)n, "%gs", sec);
}

static int duration_flag (struct df_node *n, const char *name, json_t *hc, const char *key,
                          berr_t *err)
{
  const char *v = node_flag (n, name);
  if (v == NULL)
    return 0;
  int64_t ns = 0;
  if (units_parse_duration (v, &ns, err) < 0)
    return berr_wrap (err, "--%s", name);
  if (ns < 0 || (ns > 0 && ns < 1000000))
    return berr_setk (err, BERR_INVALID, 0, "Interval \"%s\" cannot be less than 1ms", name);
  if (ns)
    json_object_set_new (hc, key, json_integer (ns));
  return 0;
}

static int step_healthcheck (struct builder *b, struct stage *st, struct df_node *n, berr_t *err)
{
  json_t *cfg = cfg_copy (st);
  const char *kind = n->args[0].value;
  json_t *hc = json_object ();
  cleanup_free char *created = NULL;
  if (strcasecmp (kind, "NONE") == 0)
    {
      if (n->n_args > 1 || (n->flags && n->flags[0]))
        {
          json_decref (hc);
          json_decref (cfg);
          berr_setk (err, BERR_INVALID, 0, "HEALTHCHECK NONE takes no arguments");
          return fail (b, n, err);
        }
      json_object_set_new (hc, "Test", json_pack ("[s]", "NONE"));
      created = xstrdup ("/bin/sh -c #(nop)  HEALTHCHECK NONE");
    }
  else if (strcasecmp (kind, "CMD") == 0)
    {
      if (n->n_args < 2)
        {
          json_decref (hc);
          json_decref (cfg);
          berr_setk (err, BERR_INVALID, 0, "Missing command after HEALTHCHECK CMD");
          return fail (b, n, err);
        }
      json_t *test = json_array ();
      if (n->json)
        {
          json_array_append_new (test, json_string ("CMD"));
          for (size_t i = 1; i < n->n_args; i++)
            json_array_append_new (test, json_string (n->args[i].value));
        }
      else
        {
          json_array_append_new (test, json_string ("CMD-SHELL"));
          json_array_append_new (test, json_string (n->args[1].value));
        }
      json_object_set_new (hc, "Test", test);
      if (duration_flag (n, "interval", hc, "Interval", err) < 0
          || duration_flag (n, "timeout", hc, "Timeout", err) < 0
          || duration_flag (n, "start-period", hc, "StartPeriod", err) < 0
          || duration_flag (n, "start-interval", hc, "StartInterval", err) < 0)
        {
          json_decref (hc);
          json_decref (cfg);
          return fail (b, n, err);
        }
      const char *r = node_flag (n, "retries");
      if (r)
        {
          char *end;
          long v = strtol (r, &end, 10);
          if (*r == '\0' || *end || v < 0)
            {
              json_decref (hc);
              json_decref (cfg);
              berr_setk (err, BERR_INVALID, 0, "invalid --retries value: %s", r);
              return fail (b, n, err);
            }
          if (v)
            json_object_set_new (hc, "Retries", json_integer (v));
        }
      struct sbuf h;
      sbuf_init (&h);
      /* Docker prints the whole struct (%q): every option is part of the line, and so of the
       * step's cache key. */
      sbuf_adds (&h, "/bin/sh -c #(nop)  HEALTHCHECK &{");
      add_quoted_list (&h, test);
      static const char *const keys[] = { "Interval", "Timeout", "StartPeriod", "StartInterval" };
      for (size_t k = 0; k < 4; k++)
        {
          char d[64];
          go_duration (json_integer_value (json_object_get (hc, keys[k])), d, sizeof d);
          sbuf_addf (&h, " \"%s\"", d);
        }
      json_int_t retries = json_integer_value (json_object_get (hc, "Retries"));
      if (retries >= 0x20 && retries < 0x7f && retries != '\'' && retries != '\\')
        sbuf_addf (&h, " '%c'}", (char)retries);
      else
        sbuf_addf (&h, " '\\x%02llx'}", (unsigned long long)retries & 0xff);
      created = sbuf_detach (&h);
    }
  else
    {
      json_decref (hc);
      json_decref (cfg);
      berr_setk (err, BERR_INVALID, 0, "Unknown type \"%s\" in HEALTHCHECK (try CMD)", kind);
      return fail (b, n, err);
    }
  json_object_set_new (cfg, "Healthcheck", hc);
  return step_commit_meta (b, st, cfg, created, NULL, err) < 0 ? fail (b, n, err) : 0;
}

static int step_arg (struct builder *b, struct stage *st, struct df_node *n, berr_t *err)
{
  cleanup_strv char **created_words = NULL;
  if (builder_process_arg (b, st, n, &created_words, err) < 0)
    return fail (b, n, err);
  struct sbuf h;
  sbuf_init (&h);
  sbuf_adds (&h, "/bin/sh -c #(nop)  ARG");
  for (size_t i = 0; created_words && created_words[i]; i++)
    sbuf_addf (&h, " %s", created_words[i]);
  cleanup_free char *created = sbuf_detach (&h);
  return step_commit_meta (b, st, cfg_copy (st), created, NULL, err) < 0 ? fail (b, n, err) : 0;
}

static int step_onbuild (struct builder *b, struct stage *st, struct df_node *n, berr_t *err)
{
  json_t *cfg = cfg_copy (st);
  json_t *ob = json_object_get (cfg, "OnBuild");
  if (!json_is_array (ob))
    {
      ob = json_array ();
      json_object_set_new (cfg, "OnBuild", ob);
    }
  /* The trigger as written after ONBUILD, keyword upper-cased as Docker stores it. */
  const char *text = n->sub->original;
  while (*text == ' ' || *text == '\t')
    text++;
  size_t kl = strcspn (text, " \t");
  cleanup_free char *trig = xasprintf ("%.*s%s", (int)kl, text, text + kl);
  for (size_t i = 0; i < kl; i++)
    if (trig[i] >= 'a' && trig[i] <= 'z')
      trig[i] = (char)(trig[i] - 'a' + 'A');
  json_array_append_new (ob, json_string (trig));
  cleanup_free char *created = xasprintf ("/bin/sh -c #(nop)  ONBUILD %s", trig);
  return step_commit_meta (b, st, cfg, created, NULL, err) < 0 ? fail (b, n, err) : 0;
}

/* ---------- filesystem steps ---------- */

/* A fresh upper/work pair, and the view to change: the parent's overlay (or the upper itself
 * when the parent has no layers, or when the step is independent of it: COPY --link). */
struct fs_step
{
  char *upper, *work, *merged;
  bool mounted;
  int dst;
};

static int fs_step_begin (struct builder *b, struct stage *st, bool independent, struct fs_step *f,
                          berr_t *err)
{
  memset (f, 0, sizeof *f);
  f->dst = -1;
  if (builder_flush (b, err) < 0)
    return -1;
  f->upper = builder_tmp (b, "upper");
  f->work = builder_tmp (b, "work");
  f->merged = builder_tmp (b, "merged");
  if (mkdir (f->upper, 0755) < 0 || mkdir (f->work, 0700) < 0 || mkdir (f->merged, 0755) < 0)
    return berr_set (err, errno, "create the step's directories");
  cleanup_strv char **lowers = NULL;
  if (!independent && st->id[0])
    {
      if (image_layer_dirs (b, st->id, &lowers, err) < 0)
        return -1;
      if (lowers[0])
        {
          if (builder_mount_overlay (b, lowers, f->upper, f->work, f->merged, err) < 0)
            return -1;
          f->mounted = true;
        }
    }
  f->dst = open (f->mounted ? f->merged : f->upper, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (f->dst < 0)
    return berr_set (err, errno, "open %s", f->mounted ? f->merged : f->upper);
  return 0;
}

static void fs_step_end (struct builder *b, struct fs_step *f)
{
  if (f->dst >= 0)
    close (f->dst);
  f->dst = -1;
  if (f->mounted)
    builder_unmount (b, f->merged);
  f->mounted = false;
  berr_t e = BERR_INIT;
  if (f->work)
    fs_rm_rf (f->work, &e);
  berr_release (&e);
  if (f->merged)
    rmdir (f->merged);
  free (f->work);
  free (f->merged);
  f->work = f->merged = NULL;
}

static void fs_step_free (struct fs_step *f)
{
  if (f->upper)
    {
      berr_t e = BERR_INIT;
      if (access (f->upper, F_OK) == 0)
        fs_rm_rf (f->upper, &e);
      berr_release (&e);
    }
  free (f->upper);
  f->upper = NULL;
}

/* Finish a filesystem step: the upper dir as the layer (none when nothing changed). */
static int fs_step_record (struct builder *b, struct stage *st, struct fs_step *f, json_t *cfg,
                           const char *created, const char *key, berr_t *err)
{
  fs_step_end (b, f);
  struct ingest_layer layer;
  int r = builder_layer_from_dir (b, f->upper, &layer, err);
  if (r < 0)
    return -1;
  if (r == 0)
    {
      free (f->upper); /* the layer owns the directory now */
      f->upper = NULL;
    }
  r = step_record (b, st, r == 0 ? &layer : NULL, cfg, created, key, err);
  if (layer.staged_dir)
    builder_layer_release (&layer);
  return r;
}

int step_workdir (struct builder *b, struct stage *st, struct df_node *n, berr_t *err)
{
  cleanup_free char *v = NULL;
  if (expand_word (b, st, n->args[0].value, &v, err) < 0)
    return fail (b, n, err);
  json_t *cfg = cfg_copy (st);
  const char *cur = json_get_str (cfg, "WorkingDir");
  cleanup_free char *joined
      = v[0] == '/' ? xstrdup (v) : xasprintf ("%s/%s", cur && *cur ? cur : "/", v);
  cleanup_free char *path = fs_path_clean (joined);
  json_object_set_new (cfg, "WorkingDir", json_string (path));
  cleanup_free char *created = xasprintf ("/bin/sh -c #(nop) WORKDIR %s", path);
  char key[DIGEST_STR_LEN];
  step_key (b, st, created, NULL, key);
  int r = step_cache_try (b, st, key, err);
  if (r != 0)
    {
      json_decref (cfg);
      return r < 0 ? fail (b, n, err) : 0;
    }
  struct fs_step f;
  r = fs_step_begin (b, st, false, &f, err);
  if (r == 0 && strcmp (path, "/") != 0 && fs_mkdir_in_root (f.dst, path, 0755) < 0)
    r = berr_set (err, errno, "mkdir %s", path);
  if (r == 0)
    r = fs_step_record (b, st, &f, cfg, created, key, err);
  fs_step_end (b, &f);
  fs_step_free (&f);
  json_decref (cfg);
  return r < 0 ? fail (b, n, err) : 0;
}

int builder_from_rootfs (struct builder *b, struct stage *st, const char *from, char **path,
                         berr_t *err)
{
  struct stage *dep = stage_find (b, from, st->index);
  if (dep)
    {
      if (!dep->done)
        return berr_setk (err, BERR_INVALID, 0, "stage %s has not been built", from);
      if (builder_flush (b, err) < 0)
        return -1;
      if (dep->rootfs == NULL && builder_image_rootfs (b, dep->id, &dep->rootfs, err) < 0)
        return -1;
      *path = xstrdup (dep->rootfs);
      return 0;
    }
  if (strcmp (from, "scratch") == 0)
    return builder_image_rootfs (b, NULL, path, err);
  struct image_rec *rec = NULL;
  if (store_image_lookup (b->s, from, &rec, err) < 0)
    {
      if (err->kind == BERR_NOT_FOUND)
        {
          berr_release (err);
          return berr_setk (err, BERR_NOT_FOUND, 0,
                            "invalid from flag value %s: no such stage or local image", from);
        }
      return -1;
    }
  int r = builder_image_rootfs (b, rec->id, path, err);
  image_rec_free (rec);
  return r;
}

/* $VAR and ${…} in a heredoc body, nothing else (quotes stay as written). */
static int expand_heredoc (struct builder *b, struct stage *st, const char *in, char **out,
                           berr_t *err)
{
  cleanup_strv char **kv = stage_expand_env (b, st);
  struct shell_env senv = { .kv = kv };
  struct sbuf s;
  sbuf_init (&s);
  for (const char *p = in; *p;)
    {
      size_t len = 0;
      if (p[0] == '$' && p[1] == '{')
        {
          const char *c = strchr (p, '}');
          len = c ? (size_t)(c - p) + 1 : 0;
        }
      else if (p[0] == '$'
               && (p[1] == '_' || (p[1] >= 'A' && p[1] <= 'Z') || (p[1] >= 'a' && p[1] <= 'z')))
        {
          len = 2;
          while (p[len] == '_' || (p[len] >= 'A' && p[len] <= 'Z')
                 || (p[len] >= 'a' && p[len] <= 'z') || (p[len] >= '0' && p[len] <= '9'))
            len++;
        }
      if (len == 0)
        {
          sbuf_addc (&s, *p++);
          continue;
        }
      cleanup_free char *word = xstrndup (p, len);
      cleanup_free char *x = NULL;
      if (shell_process_word (word, &senv, b->escape, &x, NULL, err) < 0)
        {
          sbuf_release (&s);
          return -1;
        }
      sbuf_adds (&s, x);
      p += len;
    }
  *out = sbuf_detach (&s);
  return 0;
}

int step_copy (struct builder *b, struct stage *st, struct df_node *n, berr_t *err)
{
  bool add = strcmp (n->keyword, "add") == 0;
  const char *instr = add ? "ADD" : "COPY";
  cleanup_free char *dest_raw = NULL;
  cleanup_strv char **paths_raw = NULL;
  struct df_heredoc *docs = NULL;
  size_t n_docs = 0;
  if (df_copy_sources (n, &dest_raw, &paths_raw, &docs, &n_docs, err) < 0)
    return fail (b, n, err);
  int ret = -1;
  cleanup_free char *dest = NULL, *from = NULL, *chown = NULL, *chmod_v = NULL, *src_root = NULL;
  cleanup_free char *dl = NULL, *created = NULL, *extra = NULL;
  cleanup_strv char **paths = xcalloc (1, sizeof (char *));
  struct copy_inline *inl = n_docs ? xcalloc (n_docs, sizeof *inl) : NULL;
  char **inl_data = n_docs ? xcalloc (n_docs, sizeof (char *)) : NULL;
  struct copy_job *job = NULL;
  cleanup_close int srcfd = -1;
  json_t *cfg = NULL;
  struct fs_step f = { .dst = -1 };

  for (const char *const *unsupported = (const char *const[]){ "parents", "exclude", NULL };
       *unsupported; unsupported++)
    if (node_flag (n, *unsupported))
      {
        berr_setk (err, BERR_INVALID, 0, "%s --%s is not supported (a BuildKit labs flag)", instr,
                   *unsupported);
        goto out;
      }
  if (add && node_flag (n, "unpack"))
    {
      berr_setk (err, BERR_INVALID, 0, "ADD --unpack is not supported");
      goto out;
    }
  if (expand_word (b, st, dest_raw, &dest, err) < 0)
    goto out;
  for (size_t i = 0; paths_raw && paths_raw[i]; i++)
    {
      char *x = NULL;
      if (expand_word (b, st, paths_raw[i], &x, err) < 0)
        goto out;
      strv_push_take (&paths, x);
    }
  for (size_t i = 0; i < n_docs; i++)
    {
      const char *body = docs[i].content ? docs[i].content : "";
      if (docs[i].expand && expand_heredoc (b, st, body, &inl_data[i], err) < 0)
        goto out;
      if (!inl_data[i])
        inl_data[i] = xstrdup (body);
      inl[i].name = docs[i].name;
      inl[i].content = inl_data[i];
      inl[i].len = strlen (inl_data[i]);
    }
  const char *fv = add ? NULL : node_flag (n, "from");
  if (fv && expand_word (b, st, fv, &from, err) < 0)
    goto out;
  const char *cv = node_flag (n, "chown");
  if (cv && expand_word (b, st, cv, &chown, err) < 0)
    goto out;
  const char *mv = node_flag (n, "chmod");
  if (mv && expand_word (b, st, mv, &chmod_v, err) < 0)
    goto out;
  bool link = node_flag (n, "link") && strcmp (node_flag (n, "link"), "false") != 0;

  if (from)
    {
      if (builder_from_rootfs (b, st, from, &src_root, err) < 0)
        goto out;
      srcfd = open (src_root, O_PATH | O_DIRECTORY | O_CLOEXEC);
    }
  else
    srcfd = open (b->ctx->dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (srcfd < 0)
    {
      berr_set (err, errno, "open the %s source", instr);
      goto out;
    }
  dl = builder_tmp (b, "download");
  if (mkdir (dl, 0700) < 0)
    {
      berr_set (err, errno, "create %s", dl);
      goto out;
    }
  cfg = cfg_copy (st);
  struct copy_request req = {
    .src_root = srcfd,
    .from_context = from == NULL,
    .ignore = from ? NULL : b->ctx->ignore,
    .sources = paths,
    .inline_srcs = inl,
    .n_inline = n_docs,
    .dest = dest,
    .workdir = json_get_str (cfg, "WorkingDir"),
    .add = add,
    .chown = chown,
    .chmod = chmod_v,
    .checksum = add ? node_flag (n, "checksum") : NULL,
    .link = link,
    .tmpdir = dl,
    .instr = instr,
  };
  if (copy_prepare (&req, &job, err) < 0)
    goto out;
  char hash[DIGEST_STR_LEN];
  if (copy_job_hash (job, hash, err) < 0)
    goto out;
  /* As Docker: "COPY --chown=1:2file:<hash> in /dst " (the flag glued to the kind). */
  created = xasprintf ("/bin/sh -c #(nop) %s %s%s%s%s%s:%s in %s ", instr, chown ? "--chown=" : "",
                       chown ? chown : "", chmod_v ? " --chmod=" : "", chmod_v ? chmod_v : "",
                       copy_job_kind (job), digest_hex (hash), dest);
  extra = xasprintf ("from=%s link=%d", from ? from : "", link);
  char key[DIGEST_STR_LEN];
  step_key (b, st, created, extra, key);
  int r = step_cache_try (b, st, key, err);
  if (r != 0)
    {
      ret = r < 0 ? -1 : 0;
      goto out;
    }
  if (fs_step_begin (b, st, link, &f, err) < 0)
    goto out;
  {
    /* --link copies into an empty directory: --chown names are looked up in the parent. */
    int lookup = -1;
    cleanup_free char *parent_root = NULL;
    if (link && chown && st->id[0])
      {
        if (builder_image_rootfs (b, st->id, &parent_root, err) < 0)
          goto out;
        lookup = open (parent_root, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (lookup < 0)
          {
            berr_set (err, errno, "open %s", parent_root);
            goto out;
          }
      }
    int cr = copy_job_run (job, f.dst, lookup, b->epoch, err);
    if (lookup >= 0)
      close (lookup);
    if (cr < 0)
      goto out;
  }
  ret = fs_step_record (b, st, &f, cfg, created, key, err);
out:
  fs_step_end (b, &f);
  fs_step_free (&f);
  if (job)
    copy_job_free (job);
  json_decref (cfg);
  for (size_t i = 0; i < n_docs; i++)
    free (inl_data[i]);
  free (inl_data);
  free (inl);
  df_heredocs_free (docs, n_docs);
  return ret < 0 ? fail (b, n, err) : 0;
}

int step_dispatch (struct builder *b, struct stage *st, struct df_node *n, berr_t *err)
{
  const char *k = n->keyword;
  if (strcmp (k, "env") == 0 || strcmp (k, "label") == 0)
    return step_env_label (b, st, n, k[0] == 'e', err);
  if (strcmp (k, "cmd") == 0 || strcmp (k, "entrypoint") == 0)
    return step_cmd (b, st, n, err);
  if (strcmp (k, "expose") == 0)
    return step_expose (b, st, n, err);
  if (strcmp (k, "volume") == 0)
    return step_volume (b, st, n, err);
  if (strcmp (k, "user") == 0 || strcmp (k, "stopsignal") == 0 || strcmp (k, "maintainer") == 0)
    return step_one_word (b, st, n, err);
  if (strcmp (k, "shell") == 0)
    return step_shell (b, st, n, err);
  if (strcmp (k, "healthcheck") == 0)
    return step_healthcheck (b, st, n, err);
  if (strcmp (k, "arg") == 0)
    return step_arg (b, st, n, err);
  if (strcmp (k, "onbuild") == 0)
    return step_onbuild (b, st, n, err);
  if (strcmp (k, "workdir") == 0)
    return step_workdir (b, st, n, err);
  if (strcmp (k, "copy") == 0 || strcmp (k, "add") == 0)
    return step_copy (b, st, n, err);
  if (strcmp (k, "run") == 0)
    return step_run (b, st, n, err);
  berr_setk (err, BERR_INVALID, 0, "unknown instruction: %s", n->keyword);
  return fail (b, n, err);
}
