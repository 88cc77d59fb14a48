/* builder.c — the build engine's frame: the Dockerfile into stages, build args, the order of the
 * work, the build cache, committing results and the final tags. The instructions themselves are
 * in builder_steps.c (metadata, COPY/ADD, WORKDIR) and builder_run.c (RUN). */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "build/builder_int.h"
#include "image/config.h"
#include "image/ref.h"
#include "registry/pull.h"
#include "util/fs.h"
#include "util/json.h"
#include "util/log.h"

/* Build args Docker knows without an ARG line; never recorded in the history. */
static const char *const proxy_args[]
    = { "HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "FTP_PROXY", "ftp_proxy",
        "NO_PROXY",   "no_proxy",   "ALL_PROXY",   "all_proxy",   NULL };

void bout (struct builder *b, const char *fmt, ...)
{
  if (b->o->quiet || b->o->out_fd < 0)
    return;
  va_list ap;
  va_start (ap, fmt);
  cleanup_free char *s = xvasprintf (fmt, ap);
  va_end (ap);
  (void)fs_write_all (b->o->out_fd, s, strlen (s));
}

int64_t mono_ns (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

void bout_step (struct builder *b, const char *original)
{
  b->step++;
  b->step_t0 = mono_ns ();
  if (b->tty)
    bout (b, "\033[1;34mStep %d/%d :\033[0m \033[1m%s\033[0m\n", b->step, b->total, original);
  else
    bout (b, "Step %d/%d : %s\n", b->step, b->total, original);
}

void bout_result (struct builder *b, const char *id)
{
  if (b->tty)
    bout (b, " ---> \033[32m%s\033[0m \033[2m(%.2fs)\033[0m\n", id,
          (double)(mono_ns () - b->step_t0) / 1e9);
  else
    bout (b, " ---> %s\n", id);
}

const char *short_id (const char *id)
{
  static __thread char buf[13];
  if (str_has_prefix (id, "sha256:"))
    id += 7;
  snprintf (buf, sizeof buf, "%.12s", id);
  return buf;
}

int64_t build_now (struct builder *b)
{
  return b->epoch >= 0 ? b->epoch * 1000000000LL : now_ns ();
}

/* "K=V" lists: the value of K (NULL when absent or "K" without value). */
static const char *kv_get (char *const *v, const char *k, bool *present)
{
  size_t kl = strlen (k);
  const char *found = NULL;
  if (present)
    *present = false;
  for (size_t i = 0; v && v[i]; i++)
    if (strncmp (v[i], k, kl) == 0 && (v[i][kl] == '=' || v[i][kl] == '\0'))
      {
        if (present)
          *present = true;
        found = v[i][kl] == '=' ? v[i] + kl + 1 : NULL;
      }
  return found;
}

static void kv_set (char ***v, const char *k, const char *val)
{
  size_t kl = strlen (k);
  char *nv = val ? xasprintf ("%s=%s", k, val) : xstrdup (k);
  for (size_t i = 0; *v && (*v)[i]; i++)
    if (strncmp ((*v)[i], k, kl) == 0 && ((*v)[i][kl] == '=' || (*v)[i][kl] == '\0'))
      {
        free ((*v)[i]);
        (*v)[i] = nv;
        return;
      }
  strv_push_take (v, nv);
}

char **stage_expand_env (struct builder *b, struct stage *st)
{
  char **v = NULL;
  if (st == NULL)
    {
      for (size_t i = 0; b->meta_args && b->meta_args[i]; i++)
        if (strchr (b->meta_args[i], '='))
          strv_push (&v, b->meta_args[i]);
      return v ? v : xcalloc (1, sizeof (char *));
    }
  for (size_t i = 0; st->args && st->args[i]; i++)
    if (strchr (st->args[i], '='))
      strv_push (&v, st->args[i]);
  json_t *env = json_object_get (json_object_get (st->config, "config"), "Env");
  size_t i;
  json_t *x;
  json_array_foreach (env, i, x) if (json_is_string (x)) strv_push (&v, json_string_value (x));
  return v ? v : xcalloc (1, sizeof (char *));
}

int expand_word (struct builder *b, struct stage *st, const char *word, char **out, berr_t *err)
{
  cleanup_strv char **kv = stage_expand_env (b, st);
  struct shell_env env = { .kv = kv };
  return shell_process_word (word, &env, b->escape, out, NULL, err);
}

const char *node_flag (const struct df_node *n, const char *name)
{
  size_t l = strlen (name);
  const char *found = NULL;
  for (size_t i = 0; n->flags && n->flags[i]; i++)
    {
      const char *f = n->flags[i] + 2;
      if (strncmp (f, name, l) == 0 && (f[l] == '=' || f[l] == '\0'))
        found = f[l] == '=' ? f + l + 1 : "";
    }
  return found;
}

struct stage *stage_find (struct builder *b, const char *name, size_t before)
{
  cleanup_free char *low = xstrdup (name);
  for (char *p = low; *p; p++)
    if (*p >= 'A' && *p <= 'Z')
      *p = (char)(*p - 'A' + 'a');
  for (size_t i = 0; i < before && i < b->n_stages; i++)
    if (b->stages[i].name && strcmp (b->stages[i].name, low) == 0)
      return &b->stages[i];
  char *end;
  unsigned long idx = strtoul (name, &end, 10);
  if (*name && *end == '\0' && idx < before && idx < b->n_stages)
    return &b->stages[idx];
  return NULL;
}

/* ---------- cache and results ---------- */

void step_key (struct builder *b, struct stage *st, const char *created_by, const char *extra,
               char key[DIGEST_STR_LEN])
{
  struct sbuf s;
  sbuf_init (&s);
  sbuf_addf (&s, "berth-build-v1\n%s\n%s\n%s\n", st->id[0] ? st->id : "scratch", created_by,
             extra ? extra : "");
  /* The platform is the host's; a different config for the same parent cannot happen except
   * through the parent id, which the key holds. */
  sha256_digest (s.buf, s.len, key);
  sbuf_release (&s);
}

static int stage_adopt (struct builder *b, struct stage *st, const char *id, berr_t *err)
{
  json_t *cfg = NULL;
  if (store_image_config_unverified (b->s, id, &cfg, err) < 0)
    return -1;
  json_decref (st->config);
  st->config = cfg;
  memcpy (st->id, id, DIGEST_STR_LEN);
  st->scratch_base = false;
  return 0;
}

int step_cache_try (struct builder *b, struct stage *st, const char *key, berr_t *err)
{
  if (b->o->no_cache)
    return 0;
  char id[DIGEST_STR_LEN];
  /* Pending results (this build) first. */
  for (size_t i = 0; i < b->n_images; i++)
    if (b->images[i].cache_key && strcmp (b->images[i].cache_key, key) == 0)
      {
        /* the same step made by this build in another stage: commit it, then reuse it */
        if (builder_flush (b, err) < 0)
          return -1;
        break;
      }
  int r = store_build_cache_get (b->s, key, id, err);
  if (r != 0)
    return r < 0 ? -1 : 0;
  if (stage_adopt (b, st, id, err) < 0)
    return -1;
  bout (b, " ---> Using cache\n");
  bout_result (b, short_id (id));
  return 1;
}

int step_record (struct builder *b, struct stage *st, struct ingest_layer *layer, json_t *newcfg,
                 const char *created_by, const char *key, berr_t *err)
{
  int64_t now = build_now (b);
  json_t *full = image_config_child (st->id[0] || !st->scratch_base ? st->config : NULL, newcfg,
                                     layer ? layer->diff_id : NULL, created_by, NULL, NULL, now);
  json_t *author = json_object_get (st->config, "author");
  if (author && !json_object_get (full, "author"))
    json_object_set (full, "author", author);
  if (st->config == NULL || st->scratch_base)
    {
      /* scratch: keep what FROM scratch set up (os/arch) */
      json_object_set_new (full, "os", json_string ("linux"));
      json_object_set_new (full, "architecture", json_string (image_host_arch ()));
    }
  cleanup_free char *staged = NULL;
  char id[DIGEST_STR_LEN];
  if (image_config_stage (b->s, full, &staged, id, err) < 0)
    {
      json_decref (full);
      return -1;
    }
  cleanup_strv char **diff_ids = NULL;
  if (image_config_diff_ids (full, &diff_ids, err) < 0)
    {
      json_decref (full);
      return -1;
    }
  b->images = xrealloc (b->images, (b->n_images + 1) * sizeof *b->images);
  struct ingest_image *im = &b->images[b->n_images++];
  memset (im, 0, sizeof *im);
  memcpy (im->id, id, DIGEST_STR_LEN);
  im->staged_config = steal_pointer (&staged);
  im->created = now;
  im->diff_ids = steal_pointer (&diff_ids);
  im->parent = st->id[0] ? xstrdup (st->id) : NULL;
  im->cache_key = key ? xstrdup (key) : NULL;
  if (layer)
    {
      b->layers = xrealloc (b->layers, (b->n_layers + 1) * sizeof *b->layers);
      b->layers[b->n_layers++] = *layer;
      memset (layer, 0, sizeof *layer);
    }
  json_decref (st->config);
  st->config = full;
  memcpy (st->id, id, DIGEST_STR_LEN);
  st->scratch_base = false;
  bout_result (b, short_id (id));
  return 0;
}

int step_commit_meta (struct builder *b, struct stage *st, json_t *newcfg, const char *created_by,
                      const char *key_extra, berr_t *err)
{
  char key[DIGEST_STR_LEN];
  step_key (b, st, created_by, key_extra, key);
  int r = step_cache_try (b, st, key, err);
  if (r != 0)
    {
      json_decref (newcfg);
      return r < 0 ? -1 : 0;
    }
  r = step_record (b, st, NULL, newcfg, created_by, key, err);
  json_decref (newcfg);
  return r;
}

static void pending_release (struct builder *b)
{
  for (size_t i = 0; i < b->n_layers; i++)
    builder_layer_release (&b->layers[i]);
  free (b->layers);
  b->layers = NULL;
  b->n_layers = 0;
  for (size_t i = 0; i < b->n_images; i++)
    {
      struct ingest_image *im = &b->images[i];
      if (im->staged_config)
        unlink (im->staged_config);
      free (im->staged_config);
      strv_free (im->diff_ids);
      free (im->parent);
      free (im->cache_key);
    }
  free (b->images);
  b->images = NULL;
  b->n_images = 0;
}

int builder_flush (struct builder *b, berr_t *err)
{
  if (b->n_images == 0 && b->n_layers == 0)
    return 0;
  int r = store_commit (b->s, b->layers, b->n_layers, b->images, b->n_images, NULL, NULL, err);
  if (r == 0)
    {
      /* store_commit moved the staged files; nothing is left to remove. */
      for (size_t i = 0; i < b->n_layers; i++)
        {
          free (b->layers[i].staged_dir);
          b->layers[i].staged_dir = NULL;
          free (b->layers[i].staged_blob);
          b->layers[i].staged_blob = NULL;
          free (b->layers[i].staged_split);
          b->layers[i].staged_split = NULL;
        }
      for (size_t i = 0; i < b->n_images; i++)
        {
          free (b->images[i].staged_config);
          b->images[i].staged_config = NULL;
        }
    }
  pending_release (b);
  return r;
}

/* ---------- stages and build args ---------- */

static int fail_at (struct builder *b, struct df_node *n, berr_t *err)
{
  return berr_wrap (err, "%s:%d", b->ctx->dockerfile_name, n->start_line);
}

/* ARG lines: "K=V" words (values expanded in the scope so far) or "K". */
static int process_arg (struct builder *b, struct stage *st, struct df_node *n, char ***created,
                        berr_t *err)
{
  for (size_t i = 0; i < n->n_args; i++)
    {
      const char *w = n->args[i].value;
      const char *eq = strchr (w, '=');
      cleanup_free char *k = eq ? xstrndup (w, (size_t)(eq - w)) : xstrdup (w);
      cleanup_free char *v = NULL;
      if (*k == '\0')
        return berr_setk (err, BERR_INVALID, 0, "ARG names can not be blank");
      if (eq && expand_word (b, st, eq + 1, &v, err) < 0)
        return -1;
      bool given;
      const char *bv = kv_get (b->build_args, k, &given);
      const char *val = v;
      if (given)
        {
          val = bv;
          if (!strv_contains (b->used_args, k))
            strv_push (&b->used_args, k);
        }
      else if (!eq && st)
        {
          /* A stage's bare ARG takes the global one's value. */
          bool meta;
          const char *mv = kv_get (b->meta_args, k, &meta);
          if (meta)
            val = mv;
        }
      kv_set (st ? &st->args : &b->meta_args, k, val);
      if (created)
        {
          /* history shows the declaration as written, expanded: "ARG USER=nobody" */
          if (eq)
            strv_push_take (created, xasprintf ("%s=%s", k, v ? v : ""));
          else
            strv_push (created, k);
        }
    }
  return 0;
}

static int setup_stages (struct builder *b, berr_t *err)
{
  struct df_result *df = b->df;
  size_t i = 0;
  for (; i < df->n_nodes && strcmp (df->nodes[i].keyword, "from") != 0; i++)
    {
      struct df_node *n = &df->nodes[i];
      if (strcmp (n->keyword, "arg") != 0)
        {
          berr_setk (err, BERR_INVALID, 0, "no build stage in current context");
          return fail_at (b, n, err);
        }
      if (process_arg (b, NULL, n, NULL, err) < 0)
        return fail_at (b, n, err);
    }
  if (i == df->n_nodes)
    return berr_setk (err, BERR_INVALID, 0, "%s: no build stage in current context",
                      b->ctx->dockerfile_name);
  for (; i < df->n_nodes; i++)
    {
      struct df_node *n = &df->nodes[i];
      if (strcmp (n->keyword, "from") == 0)
        {
          b->stages = xrealloc (b->stages, (b->n_stages + 1) * sizeof *b->stages);
          struct stage *st = &b->stages[b->n_stages];
          memset (st, 0, sizeof *st);
          st->index = b->n_stages++;
          st->from = n;
          st->first = i + 1;
          st->end = df->n_nodes;
          if (st->index > 0)
            b->stages[st->index - 1].end = i;
          if (n->n_args != 1 && n->n_args != 3)
            {
              berr_setk (err, BERR_INVALID, 0, "FROM requires either one or three arguments");
              return fail_at (b, n, err);
            }
          if (n->n_args == 3)
            {
              if (strcasecmp (n->args[1].value, "as") != 0)
                {
                  berr_setk (err, BERR_INVALID, 0, "FROM requires either one or three arguments");
                  return fail_at (b, n, err);
                }
              cleanup_free char *name = NULL;
              if (expand_word (b, NULL, n->args[2].value, &name, err) < 0)
                return fail_at (b, n, err);
              for (char *p = name; *p; p++)
                if (*p >= 'A' && *p <= 'Z')
                  *p = (char)(*p - 'A' + 'a');
              /* BuildKit: ^[a-z][a-z0-9-_.]*$ */
              bool ok = name[0] >= 'a' && name[0] <= 'z';
              for (char *p = name; ok && *p; p++)
                ok = (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || strchr ("-_.", *p);
              if (!ok)
                {
                  berr_setk (err, BERR_INVALID, 0,
                             "invalid name for build stage: \"%s\", name can't start with a "
                             "number or contain symbols",
                             name);
                  return fail_at (b, n, err);
                }
              for (size_t j = 0; j < st->index; j++)
                if (b->stages[j].name && strcmp (b->stages[j].name, name) == 0)
                  {
                    berr_setk (err, BERR_INVALID, 0, "duplicate name %s", name);
                    return fail_at (b, n, err);
                  }
              st->name = steal_pointer (&name);
            }
        }
    }
  return 0;
}

/* Stages a stage needs: its FROM (an earlier stage by name), COPY --from, RUN --mount from=. */
static void mark_needed (struct builder *b, struct stage *st)
{
  if (st->needed)
    return;
  st->needed = true;
  berr_t e = BERR_INIT;
  cleanup_free char *base = NULL;
  if (expand_word (b, NULL, st->from->args[0].value, &base, &e) == 0)
    {
      struct stage *dep = stage_find (b, base, st->index);
      if (dep && strchr (base, ':') == NULL)
        mark_needed (b, dep);
    }
  berr_release (&e);
  for (size_t i = st->first; i < st->end; i++)
    {
      struct df_node *n = &b->df->nodes[i];
      const char *from = NULL;
      if (strcmp (n->keyword, "copy") == 0)
        from = node_flag (n, "from");
      if (from)
        {
          cleanup_free char *x = NULL;
          if (expand_word (b, NULL, from, &x, &e) == 0)
            {
              struct stage *dep = stage_find (b, x, st->index);
              if (dep)
                mark_needed (b, dep);
            }
          berr_release (&e);
        }
      if (strcmp (n->keyword, "run") == 0)
        for (size_t f = 0; n->flags && n->flags[f]; f++)
          {
            if (!str_has_prefix (n->flags[f], "--mount="))
              continue;
            /* from=NAME anywhere in the CSV */
            cleanup_free char *copy = xstrdup (n->flags[f] + 8);
            for (char *tok = strtok (copy, ","); tok; tok = strtok (NULL, ","))
              if (str_has_prefix (tok, "from="))
                {
                  struct stage *dep = stage_find (b, tok + 5, st->index);
                  if (dep)
                    mark_needed (b, dep);
                }
          }
    }
}

/* FROM: the base image (or an earlier stage, or scratch), and its ONBUILD triggers. */

/* A FROM image from the registry: docker's piped pull lines go to the step output. */
static void builder_pull_progress (void *cookie, const struct reg_progress *p)
{
  cleanup_free char *line = pull_progress_line (p);
  if (line)
    bout (cookie, "%s\n", line);
}

static int builder_pull (struct builder *b, const char *base, berr_t *err)
{
  struct pull_opts po = { .cfg = b->o->reg,
                          .platform = b->o->platform,
                          .progress = b->o->quiet ? NULL : builder_pull_progress,
                          .cookie = b };
  struct pull_result res;
  if (image_pull (b->s, base, &po, &res, err) < 0)
    return -1;
  cleanup_free char *fam = ref_familiarize (res.name);
  if (!b->o->quiet)
    bout (b, "Digest: %s\nStatus: %s for %s\n", res.digest,
          res.up_to_date ? "Image is up to date" : "Downloaded newer image", fam);
  pull_result_release (&res);
  return 0;
}

static int step_from (struct builder *b, struct stage *st, berr_t *err)
{
  struct df_node *n = st->from;
  const char *platform = node_flag (n, "platform");
  if (platform && *platform)
    {
      cleanup_free char *p = NULL;
      if (expand_word (b, NULL, platform, &p, err) < 0)
        return -1;
      cleanup_free char *want = xasprintf ("linux/%s", image_host_arch ());
      if (strcmp (p, want) != 0 && strcmp (p, "linux") != 0)
        return berr_setk (err, BERR_INVALID, 0,
                          "FROM --platform=%s: only the native platform (%s) can be built here", p,
                          want);
    }
  cleanup_free char *base = NULL;
  if (expand_word (b, NULL, n->args[0].value, &base, err) < 0)
    return -1;
  if (*base == '\0')
    return berr_setk (err, BERR_INVALID, 0, "base name (%s) should not be blank", n->args[0].value);
  struct stage *dep = strchr (base, ':') ? NULL : stage_find (b, base, st->index);
  if (dep)
    {
      /* The stage's result may still be pending: take it from memory. */
      st->config = json_deep_copy (dep->config);
      memcpy (st->id, dep->id, DIGEST_STR_LEN);
      st->scratch_base = dep->id[0] == '\0';
      bout_result (b, dep->id[0] ? short_id (dep->id) : "scratch");
    }
  else if (strcmp (base, "scratch") == 0)
    {
      st->scratch_base = true;
      st->config = json_pack ("{s:s, s:s, s:{}, s:{s:s, s:[]}}", "architecture", image_host_arch (),
                              "os", "linux", "config", "rootfs", "type", "layers", "diff_ids");
      bout_result (b, "scratch");
    }
  else
    {
      struct image_rec *rec = NULL;
      bool pulled = b->o->pull && b->o->reg;
      if (pulled && builder_pull (b, base, err) < 0)
        return -1;
      int lr = store_image_lookup (b->s, base, &rec, err);
      if (lr < 0 && err->kind == BERR_NOT_FOUND && b->o->reg && !pulled)
        {
          berr_release (err);
          if (builder_pull (b, base, err) < 0)
            return -1;
          lr = store_image_lookup (b->s, base, &rec, err);
        }
      if (lr < 0)
        {
          if (err->kind == BERR_NOT_FOUND && b->o->reg == NULL)
            {
              berr_release (err);
              struct image_ref ref = { 0 };
              if (ref_parse_docker (base, &ref, err) < 0)
                return -1;
              cleanup_free char *fam = ref_familiar_name (&ref);
              ref_release (&ref);
              return berr_setk (err, BERR_NOT_FOUND, 0,
                                "pull access denied for %s: the image is not in the local store "
                                "and berth cannot pull from a registry yet",
                                fam);
            }
          return -1;
        }
      int r = stage_adopt (b, st, rec->id, err);
      image_rec_free (rec);
      if (r < 0)
        return -1;
      bout_result (b, short_id (st->id));
    }

  /* ONBUILD triggers of the base run now, and the result carries none. */
  json_t *cfg = json_object_get (st->config, "config");
  json_t *triggers = json_object_get (cfg, "OnBuild");
  if (json_is_array (triggers) && json_array_size (triggers) > 0)
    {
      json_t *trig = json_deep_copy (triggers);
      json_object_set_new (cfg, "OnBuild", json_null ());
      size_t nt = json_array_size (trig);
      bout (b, "# Executing %zu build trigger%s\n", nt, nt == 1 ? "" : "s");
      size_t i;
      json_t *t;
      int r = 0;
      json_array_foreach (trig, i, t)
      {
        const char *text = json_string_value (t);
        if (!text)
          continue;
        struct df_result *tr = NULL;
        if (df_parse ("ONBUILD", text, strlen (text), &tr, err) < 0)
          {
            r = -1;
            break;
          }
        for (size_t k = 0; k < tr->n_nodes && r == 0; k++)
          {
            struct df_node *tn = &tr->nodes[k];
            if (strcmp (tn->keyword, "onbuild") == 0 || strcmp (tn->keyword, "from") == 0
                || strcmp (tn->keyword, "maintainer") == 0)
              r = berr_setk (err, BERR_INVALID, 0, "%s isn't allowed as an ONBUILD trigger",
                             tn->keyword);
            else if ((r = df_instruction_check (tn, err)) == 0)
              r = step_dispatch (b, st, tn, err);
          }
        df_result_free (tr);
        if (r < 0)
          break;
      }
      json_decref (trig);
      if (r < 0)
        return -1;
    }
  return 0;
}

static const int cancel_signals[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT };

/* A cancel signal that arrived outside a RUN (they are blocked during the build). */
static int check_canceled (struct builder *b, berr_t *err)
{
  sigset_t set, pending;
  sigemptyset (&set);
  for (size_t i = 0; i < sizeof cancel_signals / sizeof cancel_signals[0]; i++)
    sigaddset (&set, cancel_signals[i]);
  if (!b->canceled && sigpending (&pending) == 0)
    for (size_t i = 0; i < sizeof cancel_signals / sizeof cancel_signals[0]; i++)
      if (sigismember (&pending, cancel_signals[i]))
        {
          struct timespec zero = { 0, 0 };
          int sig = sigtimedwait (&set, NULL, &zero);
          b->canceled = true;
          return berr_setk (err, BERR_EXEC, 0, "the build was canceled (%s)",
                            strsignal (sig > 0 ? sig : cancel_signals[i]));
        }
  if (b->canceled)
    return berr_setk (err, BERR_EXEC, 0, "the build was canceled");
  return 0;
}

static int run_stage (struct builder *b, struct stage *st, berr_t *err)
{
  bout_step (b, st->from->original);
  if (step_from (b, st, err) < 0)
    return fail_at (b, st->from, err);
  for (size_t i = st->first; i < st->end; i++)
    {
      struct df_node *n = &b->df->nodes[i];
      if (check_canceled (b, err) < 0)
        return -1;
      bout_step (b, n->original);
      if (step_dispatch (b, st, n, err) < 0)
        return -1;
    }
  st->done = true;
  return 0;
}

static void builder_free (struct builder *b)
{
  pending_release (b);
  for (size_t i = b->mounts ? strv_len (b->mounts) : 0; i > 0; i--)
    builder_unmount (b, b->mounts[i - 1]);
  strv_free (b->mounts);
  for (size_t i = 0; i < b->n_stages; i++)
    {
      free (b->stages[i].name);
      json_decref (b->stages[i].config);
      strv_free (b->stages[i].args);
      free (b->stages[i].rootfs);
    }
  free (b->stages);
  if (b->scratch)
    {
      berr_t e = BERR_INIT;
      if (fs_rm_rf (b->scratch, &e) < 0)
        log_warn ("build: %s", e.msg);
      berr_release (&e);
      free (b->scratch);
    }
  strv_free (b->meta_args);
  strv_free (b->build_args);
  strv_free (b->used_args);
  if (b->df)
    df_result_free (b->df);
}

int build_run (struct engine *e, const struct build_opts *o, char id[DIGEST_STR_LEN], berr_t *err)
{
  struct builder b = { .e = e, .s = e->store, .o = o, .ctx = o->context, .epoch = -1 };
  b.tty = !o->quiet && o->out_fd >= 0
          && (o->progress == BUILD_PROGRESS_TTY
              || (o->progress == BUILD_PROGRESS_AUTO && isatty (o->out_fd)));
  int ret = -1;
  bool mask_set = false;
  int build_lock = -1;
  sigset_t cancel, old_mask;

  if (o->platform && *o->platform)
    {
      cleanup_free char *want = xasprintf ("linux/%s", image_host_arch ());
      if (strcmp (o->platform, want) != 0 && strcmp (o->platform, "linux") != 0)
        return berr_setk (err, BERR_INVALID, 0,
                          "--platform %s: only the native platform (%s) can be built here",
                          o->platform, want);
    }
  for (size_t i = 0; o->build_args && o->build_args[i]; i++)
    {
      const char *a = o->build_args[i];
      const char *eq = strchr (a, '=');
      if (eq)
        {
          cleanup_free char *k = xstrndup (a, (size_t)(eq - a));
          kv_set (&b.build_args, k, eq + 1);
        }
      else if (getenv (a))
        kv_set (&b.build_args, a, getenv (a));
    }
  const char *sde = kv_get (b.build_args, "SOURCE_DATE_EPOCH", NULL);
  if (sde == NULL)
    sde = getenv ("SOURCE_DATE_EPOCH");
  if (sde && *sde)
    {
      char *end;
      long long v = strtoll (sde, &end, 10);
      if (*end || v < 0)
        return berr_setk (err, BERR_INVALID, 0, "invalid SOURCE_DATE_EPOCH: %s", sde);
      b.epoch = v;
    }

  /* BuildKit's automatic platform args: global, imported into a stage by a bare ARG. */
  {
    const char *arch = image_host_arch ();
    cleanup_free char *plat = xasprintf ("linux/%s", arch);
    const char *const pre[][2]
        = { { "TARGETPLATFORM", plat }, { "TARGETOS", "linux" },   { "TARGETARCH", arch },
            { "TARGETVARIANT", "" },    { "BUILDPLATFORM", plat }, { "BUILDOS", "linux" },
            { "BUILDARCH", arch },      { "BUILDVARIANT", "" } };
    for (size_t i = 0; i < sizeof pre / sizeof pre[0]; i++)
      kv_set (&b.meta_args, pre[i][0], pre[i][1]);
  }
  struct build_context *ctx = o->context;
  if (df_parse (ctx->dockerfile_name, ctx->dockerfile, ctx->dockerfile_len, &b.df, err) < 0)
    goto out;
  b.escape = b.df->escape;
  for (size_t i = 0; i < b.df->n_nodes; i++)
    if (df_instruction_check (&b.df->nodes[i], err) < 0)
      {
        fail_at (&b, &b.df->nodes[i], err);
        goto out;
      }
  if (setup_stages (&b, err) < 0)
    goto out;

  struct stage *target = &b.stages[b.n_stages - 1];
  if (o->target && *o->target)
    {
      target = NULL;
      for (size_t i = 0; i < b.n_stages; i++)
        if (b.stages[i].name && strcasecmp (b.stages[i].name, o->target) == 0)
          target = &b.stages[i];
      if (!target)
        {
          berr_setk (err, BERR_INVALID, 0, "failed to reach build target %s in Dockerfile",
                     o->target);
          goto out;
        }
    }
  mark_needed (&b, target);
  /* --label: one more LABEL step at the end of the target stage, as the legacy builder does. */
  struct df_result *labels = NULL;
  if (o->labels && o->labels[0])
    {
      struct sbuf l;
      sbuf_init (&l);
      sbuf_adds (&l, "LABEL");
      for (size_t i = 0; o->labels[i]; i++)
        {
          const char *eq = strchr (o->labels[i], '=');
          cleanup_free char *k
              = eq ? xstrndup (o->labels[i], (size_t)(eq - o->labels[i])) : xstrdup (o->labels[i]);
          json_t *kj = json_string (k), *vj = json_string (eq ? eq + 1 : "");
          cleanup_free char *ks = json_dumps (kj, JSON_ENCODE_ANY);
          cleanup_free char *vs = json_dumps (vj, JSON_ENCODE_ANY);
          json_decref (kj);
          json_decref (vj);
          sbuf_addf (&l, " %s=%s", ks, vs);
        }
      sbuf_addc (&l, '\n');
      if (df_parse ("--label", l.buf, l.len, &labels, err) < 0)
        {
          sbuf_release (&l);
          goto out;
        }
      sbuf_release (&l);
    }
  for (size_t i = 0; i < b.n_stages; i++)
    if (b.stages[i].needed)
      b.total += 1 + (int)(b.stages[i].end - b.stages[i].first);
  if (labels)
    b.total += (int)labels->n_nodes;

  /* Cancel signals are taken, not fatal, while the build runs: a RUN's container is killed
   * (monitor kill_on_signal), other steps stop at the next step; then everything is undone. */
  sigemptyset (&cancel);
  for (size_t i = 0; i < sizeof cancel_signals / sizeof cancel_signals[0]; i++)
    sigaddset (&cancel, cancel_signals[i]);
  pthread_sigmask (SIG_BLOCK, &cancel, &old_mask);
  mask_set = true;
  build_lock = store_build_lock (b.s, err);
  if (build_lock < 0)
    goto out_labels;
  if (store_stage_dir (b.s, "build", &b.scratch, err) < 0)
    goto out_labels;
  if (ctx->size > 0 || ctx->dir)
    {
      char sz[32];
      /* Docker prints the bytes it sent; berth reads the context in place. */
      double v = (double)ctx->size;
      const char *u = "B";
      if (v >= 1000)
        v /= 1000, u = "kB";
      if (v >= 1000)
        v /= 1000, u = "MB";
      if (v >= 1000)
        v /= 1000, u = "GB";
      snprintf (sz, sizeof sz, "%.4g%s", v, u);
      bout (&b, "Sending build context to Docker daemon  %s\n", sz);
    }

  for (size_t i = 0; i < b.n_stages; i++)
    {
      struct stage *st = &b.stages[i];
      if (!st->needed)
        continue;
      if (run_stage (&b, st, err) < 0)
        goto out_labels;
      if (st == target)
        break;
    }
  if (labels)
    for (size_t i = 0; i < labels->n_nodes; i++)
      {
        bout_step (&b, labels->nodes[i].original);
        if (step_dispatch (&b, target, &labels->nodes[i], err) < 0)
          goto out_labels;
      }
  if (check_canceled (&b, err) < 0 || builder_flush (&b, err) < 0)
    goto out_labels;
  if (target->id[0] == '\0')
    {
      /* FROM scratch with nothing else: an image with no layers, as Docker makes one. */
      json_t *cfg = json_incref (json_object_get (target->config, "config"));
      if (step_record (&b, target, NULL, cfg, "", NULL, err) < 0)
        {
          json_decref (cfg);
          goto out_labels;
        }
      json_decref (cfg);
      if (builder_flush (&b, err) < 0)
        goto out_labels;
    }

  /* Build args nobody declared. */
  {
    struct sbuf unused;
    sbuf_init (&unused);
    for (size_t i = 0; b.build_args && b.build_args[i]; i++)
      {
        cleanup_free char *k = xstrndup (b.build_args[i], strcspn (b.build_args[i], "="));
        bool proxy = false;
        for (size_t p = 0; proxy_args[p]; p++)
          proxy = proxy || strcmp (proxy_args[p], k) == 0;
        if (!proxy && strcmp (k, "SOURCE_DATE_EPOCH") != 0 && !strv_contains (b.used_args, k))
          sbuf_addf (&unused, "%s%s", unused.len ? " " : "", k);
      }
    if (unused.len)
      bout (&b, "[Warning] One or more build-args [%s] were not consumed\n", unused.buf);
    sbuf_release (&unused);
  }

  memcpy (id, target->id, DIGEST_STR_LEN);
  bout (&b, "Successfully built %s\n", short_id (id));
  for (size_t i = 0; o->tags && o->tags[i]; i++)
    {
      char old[DIGEST_STR_LEN];
      if (store_tag (b.s, id, o->tags[i], old, err) < 0)
        goto out_labels;
      cleanup_free char *fam = ref_familiarize (o->tags[i]);
      bout (&b, "Successfully tagged %s\n", fam);
    }
  ret = 0;
out_labels:
  if (labels)
    df_result_free (labels);
out:
  builder_free (&b);
  if (build_lock >= 0)
    close (build_lock);
  if (mask_set)
    {
      /* a cancel that came in: consumed here, the build reports it */
      struct timespec zero = { 0, 0 };
      while (sigtimedwait (&cancel, NULL, &zero) > 0)
        ;
      pthread_sigmask (SIG_SETMASK, &old_mask, NULL);
    }
  return ret;
}

/* used by builder_steps.c for ARG */
int builder_process_arg (struct builder *b, struct stage *st, struct df_node *n, char ***created,
                         berr_t *err);
int builder_process_arg (struct builder *b, struct stage *st, struct df_node *n, char ***created,
                         berr_t *err)
{
  return process_arg (b, st, n, created, err);
}

bool builder_is_proxy_arg (const char *k);
bool builder_is_proxy_arg (const char *k)
{
  for (size_t p = 0; proxy_args[p]; p++)
    if (strcmp (proxy_args[p], k) == 0)
      return true;
  return false;
}

/* Build args usable in RUN without an ARG line: the proxy ones. */
char **builder_run_args (struct builder *b, struct stage *st, char ***history_args);
char **builder_run_args (struct builder *b, struct stage *st, char ***history_args)
{
  char **v = NULL;
  for (size_t i = 0; st->args && st->args[i]; i++)
    if (strchr (st->args[i], '='))
      {
        strv_push (&v, st->args[i]);
        strv_push (history_args, st->args[i]);
      }
  for (size_t i = 0; b->build_args && b->build_args[i]; i++)
    {
      cleanup_free char *k = xstrndup (b->build_args[i], strcspn (b->build_args[i], "="));
      bool declared;
      kv_get (st->args, k, &declared);
      if (!declared && builder_is_proxy_arg (k))
        {
          strv_push (&v, b->build_args[i]);
          if (!strv_contains (b->used_args, k))
            strv_push (&b->used_args, k);
        }
    }
  return v;
}
