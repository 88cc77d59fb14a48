/* builder_run.c — RUN: a container on the parent image (the engine's runtime, networks and
 * mounts), its output streamed into the build's, its upper directory the new layer. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "build/builder_int.h"
#include "build/copy.h"
#include "build/runmount.h"
#include "container/commit.h"
#include "util/fs.h"
#include "util/json.h"
#include "util/log.h"

char **builder_run_args (struct builder *b, struct stage *st, char ***history_args);

/* sha256 of an empty tar (two zero blocks... as layer_diff writes it): a RUN that changed
 * nothing has no layer (empty_layer in the history), as Docker's legacy builder does. */
static bool layer_is_empty (const struct ingest_layer *l)
{
  return l->size == 0 && l->tar_size <= 1024;
}

static int cmp_str (const void *a, const void *b)
{
  return strcmp (*(const char *const *)a, *(const char *const *)b);
}

/* The shell-form command with its heredocs: the shell reads them itself, except the form that is
 * nothing but a heredoc (RUN <<EOF), whose body is the script. */
static char *shell_script (const struct df_node *n)
{
  const char *cmd = n->n_args ? n->args[0].value : "";
  if (n->n_heredocs == 0)
    return xstrdup (cmd);
  const struct df_heredoc *h = &n->heredocs[0];
  /* "<<EOF", "<<-EOF", "<<'EOF'", "<<\"EOF\"" alone */
  const char *p = cmd;
  while (*p == ' ' || *p == '\t')
    p++;
  if (str_has_prefix (p, "<<"))
    {
      p += 2;
      if (*p == '-')
        p++;
      size_t nl = strlen (h->name);
      const char *q = p;
      char quote = (*q == '\'' || *q == '"') ? *q++ : 0;
      if (strncmp (q, h->name, nl) == 0)
        {
          q += nl;
          if (quote && *q == quote)
            q++;
          while (*q == ' ' || *q == '\t')
            q++;
          if (*q == '\0' && n->n_heredocs == 1)
            return h->chomp ? df_heredoc_chomp (h->content ? h->content : "")
                            : xstrdup (h->content ? h->content : "");
        }
    }
  struct sbuf s;
  sbuf_init (&s);
  sbuf_adds (&s, cmd);
  sbuf_addc (&s, '\n');
  for (size_t i = 0; i < n->n_heredocs; i++)
    {
      const char *c = n->heredocs[i].content ? n->heredocs[i].content : "";
      sbuf_adds (&s, c);
      if (*c && c[strlen (c) - 1] != '\n')
        sbuf_addc (&s, '\n');
      sbuf_addf (&s, "%s\n", n->heredocs[i].name);
    }
  return sbuf_detach (&s);
}

struct from_arg
{
  struct builder *b;
  struct stage *st;
};

static char *mount_from (void *arg, const char *from, berr_t *err)
{
  struct from_arg *fa = arg;
  char *path = NULL;
  if (builder_from_rootfs (fa->b, fa->st, from, &path, err) < 0)
    return NULL;
  return path;
}

/* The content hash of a context path (COPY's: names, modes, content), for a bind's key. */
static int context_hash (struct builder *b, const char *source, char out[DIGEST_STR_LEN],
                         berr_t *err)
{
  cleanup_close int root = open (b->ctx->dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (root < 0)
    return berr_set (err, errno, "open %s", b->ctx->dir);
  char *srcs[] = { (char *)(source && *source ? source : "."), NULL };
  struct copy_request req = {
    .src_root = root,
    .from_context = true,
    .ignore = b->ctx->ignore,
    .sources = srcs,
    .dest = "/mnt/",
    .tmpdir = b->scratch,
    .instr = "RUN --mount",
  };
  struct copy_job *job = NULL;
  if (copy_prepare (&req, &job, err) < 0)
    return -1;
  int r = copy_job_hash (job, out, err);
  copy_job_free (job);
  return r;
}

static void set_blocking (int fd)
{
  int fl = fcntl (fd, F_GETFL);
  if (fl >= 0 && (fl & O_NONBLOCK))
    (void)fcntl (fd, F_SETFL, fl & ~O_NONBLOCK);
}

int step_run (struct builder *b, struct stage *st, struct df_node *n, berr_t *err)
{
  json_t *cfg = json_object_get (st->config, "config");
  cleanup_strv char **secret_env = NULL;
  cleanup_free char *tmp = NULL, *cache_root = NULL;
  /* The command. */
  json_t *argv = json_array ();
  if (n->json)
    for (size_t i = 0; i < n->n_args; i++)
      json_array_append_new (argv, json_stringn (n->args[i].value, n->args[i].len));
  else
    {
      json_t *shell = json_object_get (cfg, "Shell");
      if (json_is_array (shell) && json_array_size (shell) > 0)
        json_array_extend (argv, shell);
      else
        {
          json_array_append_new (argv, json_string ("/bin/sh"));
          json_array_append_new (argv, json_string ("-c"));
        }
      cleanup_free char *script = shell_script (n);
      json_array_append_new (argv, json_string (script));
    }
  struct sbuf cmdline;
  sbuf_init (&cmdline);
  {
    size_t i;
    json_t *x;
    json_array_foreach (argv, i, x)
        sbuf_addf (&cmdline, "%s%s", i ? " " : "", json_string_value (x));
  }

  /* Build args in scope go into the environment (ENV wins) and, sorted, into the history. */
  cleanup_strv char **hist_args = NULL;
  cleanup_strv char **run_args = builder_run_args (b, st, &hist_args);
  json_t *env = json_array ();
  {
    json_t *ienv = json_object_get (cfg, "Env");
    size_t i;
    json_t *x;
    json_array_foreach (ienv, i, x) json_array_append (env, x);
    for (size_t a = 0; run_args && run_args[a]; a++)
      {
        size_t kl = strcspn (run_args[a], "=");
        bool set = false;
        json_array_foreach (ienv, i, x)
        {
          const char *s = json_string_value (x);
          set = set || (s && strncmp (s, run_args[a], kl) == 0 && (s[kl] == '=' || !s[kl]));
        }
        if (!set)
          json_array_append_new (env, json_string (run_args[a]));
      }
  }
  struct sbuf created;
  sbuf_init (&created);
  size_t nh = hist_args ? strv_len (hist_args) : 0;
  if (nh)
    {
      qsort (hist_args, nh, sizeof (char *), cmp_str);
      sbuf_addf (&created, "|%zu", nh);
      for (size_t i = 0; i < nh; i++)
        sbuf_addf (&created, " %s", hist_args[i]);
      sbuf_addc (&created, ' ');
    }
  sbuf_adds (&created, cmdline.buf);

  /* Flags. */
  struct sbuf extra;
  sbuf_init (&extra);
  const char *network = node_flag (n, "network");
  if (network == NULL)
    network = b->o->network && *b->o->network ? b->o->network : "default";
  if (strcmp (network, "default") && strcmp (network, "none") && strcmp (network, "host")
      && node_flag (n, "network"))
    {
      berr_setk (err, BERR_INVALID, 0, "RUN --network=%s: must be default, none or host", network);
      goto fail_early;
    }
  if (node_flag (n, "security") && strcmp (node_flag (n, "security"), "sandbox") != 0)
    {
      berr_setk (err, BERR_INVALID, 0,
                 "RUN --security=%s: not allowed (berth builds do not grant the "
                 "security.insecure entitlement)",
                 node_flag (n, "security"));
      goto fail_early;
    }
  if (node_flag (n, "device"))
    {
      berr_setk (err, BERR_INVALID, 0, "RUN --device is not supported");
      goto fail_early;
    }
  sbuf_addf (&extra, "network=%s\n", network);
  size_t n_mounts = 0;
  struct run_mount *mounts = NULL;
  const char *workdir = json_get_str (cfg, "WorkingDir");
  for (size_t i = 0; n->flags && n->flags[i]; i++)
    if (str_has_prefix (n->flags[i], "--mount="))
      {
        mounts = xrealloc (mounts, (n_mounts + 1) * sizeof *mounts);
        cleanup_free char *val = NULL;
        if (expand_word (b, st, n->flags[i] + 8, &val, err) < 0
            || run_mount_parse (val, workdir && *workdir ? workdir : "/", &mounts[n_mounts], err)
                   < 0)
          {
            for (size_t j = 0; j < n_mounts; j++)
              run_mount_clear (&mounts[j]);
            free (mounts);
            goto fail_early;
          }
        n_mounts++;
        sbuf_addf (&extra, "mount=%s\n", val);
        /* a bind from a stage or image: its content is part of the input */
        struct run_mount *m = &mounts[n_mounts - 1];
        if (m->from && (m->type == RUN_MOUNT_BIND || m->type == RUN_MOUNT_CACHE))
          {
            struct stage *dep = stage_find (b, m->from, st->index);
            struct image_rec *rec = NULL;
            berr_t e2 = BERR_INIT;
            if (dep)
              sbuf_addf (&extra, "from-id=%s\n", dep->id);
            else if (store_image_lookup (b->s, m->from, &rec, &e2) == 0)
              {
                sbuf_addf (&extra, "from-id=%s\n", rec->id);
                image_rec_free (rec);
              }
            berr_release (&e2);
          }
        else if (m->type == RUN_MOUNT_BIND)
          {
            /* a bind of the context: the content of what is bound, as COPY hashes it */
            char h[DIGEST_STR_LEN];
            if (context_hash (b, m->source, h, err) < 0)
              {
                for (size_t j = 0; j < n_mounts; j++)
                  run_mount_clear (&mounts[j]);
                free (mounts);
                goto fail_early;
              }
            sbuf_addf (&extra, "context=%s\n", h);
          }
      }

  char key[DIGEST_STR_LEN];
  step_key (b, st, created.buf, extra.buf, key);
  sbuf_release (&extra);
  int r = step_cache_try (b, st, key, err);
  if (r != 0)
    {
      for (size_t j = 0; j < n_mounts; j++)
        run_mount_clear (&mounts[j]);
      free (mounts);
      json_decref (argv);
      json_decref (env);
      sbuf_release (&cmdline);
      sbuf_release (&created);
      return r < 0 ? berr_wrap (err, "%s:%d", b->ctx->dockerfile_name, n->start_line) : 0;
    }

  int ret = -1;
  struct run_mounts *rm = NULL;
  json_t *mjson = NULL;
  struct container_rec *c = NULL;
  struct ingest_layer layer = { 0 };
  bool have_layer = false;
  int devnull = -1;
  cache_root = xasprintf ("%s/build/cache", b->e->root);
  if (st->id[0] == '\0')
    {
      berr_setk (err, BERR_INVALID, 0,
                 "RUN needs a shell or program in the image: this stage is FROM scratch with no "
                 "files (the command '%s' cannot run)",
                 cmdline.buf);
      goto out;
    }
  if (builder_flush (b, err) < 0)
    goto out;
  tmp = builder_tmp (b, "run");
  if (mkdir (tmp, 0700) < 0)
    {
      berr_set (err, errno, "create %s", tmp);
      goto out;
    }
  if (n_mounts)
    {
      if (fs_mkdir_p (cache_root, 0700, err) < 0)
        goto out;
      struct from_arg fa = { b, st };
      struct run_mounts_env menv = {
        .cache_root = cache_root,
        .context_dir = b->ctx->dir,
        .tmpdir = tmp,
        .secrets = b->o->secrets,
        .n_secrets = b->o->n_secrets,
        .from_fn = mount_from,
        .from_arg = &fa,
      };
      if (run_mounts_prepare (&menv, mounts, n_mounts, &mjson, &secret_env, &rm, err) < 0)
        goto out;
      for (size_t i = 0; secret_env && secret_env[i]; i++)
        json_array_append_new (env, json_string (secret_env[i]));
    }

  json_t *ccfg = json_pack ("{s:s, s:O, s:[], s:O, s:b, s:b, s:b, s:{s:[s]}}", "Image", st->id,
                            "Cmd", argv, "Entrypoint", "Env", env, "AttachStdin", 0, "AttachStdout",
                            1, "AttachStderr", 1, "Healthcheck", "Test", "NONE");
  if (n_mounts)
    {
      /* RUN --mount targets are stubs to leave out of the layer (container/commit.c). */
      json_t *targets = json_array ();
      for (size_t j = 0; j < n_mounts; j++)
        if (mounts[j].target)
          json_array_append_new (targets, json_string (mounts[j].target));
      cleanup_free char *t = json_dumps (targets, JSON_COMPACT);
      json_decref (targets);
      json_object_set_new (ccfg, "Labels", json_pack ("{s:s}", "berth.build.run-mounts", t));
    }
  const char *user = json_get_str (cfg, "User");
  if (user && *user)
    json_object_set_new (ccfg, "User", json_string (user));
  if (workdir && *workdir)
    json_object_set_new (ccfg, "WorkingDir", json_string (workdir));
  json_t *hc = json_pack ("{s:s}", "NetworkMode", network);
  if (mjson)
    json_object_set (hc, "Mounts", mjson);
  if (b->o->add_hosts && b->o->add_hosts[0])
    json_object_set_new (hc, "ExtraHosts", json_from_strv (b->o->add_hosts));
  json_t *body = json_pack ("{s:o, s:o}", "Config", ccfg, "HostConfig", hc);
  r = container_create (b->e, body, &c, err);
  json_decref (body);
  if (r < 0)
    goto out;
  bout (b, " ---> Running in %.12s\n", c->id);

  devnull = open ("/dev/null", O_RDWR | O_CLOEXEC);
  struct start_opts so = {
    .foreground = true,
    .local_in = devnull,
    .local_out = b->o->quiet || b->o->out_fd < 0 ? devnull : b->o->out_fd,
    .local_err = b->o->quiet || b->o->err_fd < 0 ? devnull : b->o->err_fd,
    .sig_proxy = true,
    .cancel_on_signal = true,
    .attach_stdout = true,
    .attach_stderr = true,
  };
  struct tty_view *view = NULL;
  int view_out = -1, view_err = -1;
  if (b->tty && tty_view_start (b, cmdline.buf, &view_out, &view_err, &view, err) == 0)
    {
      so.local_out = view_out;
      so.local_err = view_err;
    }
  berr_release (err);
  struct monitor_result res = { 0 };
  r = container_start (b->e, c, &so, &res, err);
  if (view)
    {
      close (view_out);
      close (view_err);
      tty_view_finish (view);
    }
  if (b->o->out_fd >= 0)
    set_blocking (b->o->out_fd);
  if (b->o->err_fd >= 0)
    set_blocking (b->o->err_fd);
  if (r < 0)
    goto out;
  if (res.interrupted)
    {
      berr_setk (err, BERR_EXEC, 0, "the build was canceled (%s)", strsignal (res.interrupted));
      b->canceled = true;
      /* nothing of a canceled step is kept */
      berr_t e2 = BERR_INIT;
      container_remove (b->e, c, true, true, &e2);
      berr_release (&e2);
      container_rec_free (c);
      c = NULL;
      goto out;
    }
  if (res.exit_code != 0)
    {
      berr_setk (err, BERR_EXEC, 0, "The command '%s' returned a non-zero code: %d", cmdline.buf,
                 res.exit_code);
      if (secret_env && secret_env[0])
        {
          /* its config holds the secrets given as environment variables: never kept */
          berr_t e2 = BERR_INIT;
          container_remove (b->e, c, true, true, &e2);
          berr_release (&e2);
          container_rec_free (c);
          c = NULL;
        }
      else if (!b->o->force_rm)
        {
          container_rec_free (c);
          c = NULL; /* kept for inspection, as Docker keeps it */
        }
      goto out;
    }
  /* Re-read: the start changed its state. */
  struct container_rec *fresh = NULL;
  if (container_get (b->e, c->id, &fresh, err) < 0)
    goto out;
  container_rec_free (c);
  c = fresh;
  bool consume = b->o->rm || b->o->force_rm;
  if (container_capture_layer (b->e, c, consume, b->epoch, &layer, err) < 0)
    goto out;
  have_layer = true;
  if (consume)
    {
      berr_t e2 = BERR_INIT;
      if (container_remove (b->e, c, true, true, &e2) < 0)
        log_warn ("build: remove intermediate container %.12s: %s", c->id, e2.msg);
      berr_release (&e2);
      bout (b, "Removing intermediate container %.12s\n", c->id);
    }
  container_rec_free (c);
  c = NULL;
  if (rm)
    {
      run_mounts_release (rm);
      rm = NULL;
    }
  {
    json_t *keep = json_deep_copy (cfg ? cfg : json_object ());
    bool empty = layer_is_empty (&layer);
    r = step_record (b, st, empty ? NULL : &layer, keep, created.buf, key, err);
    json_decref (keep);
  }
  if (r < 0)
    goto out;
  ret = 0;
out:
  if (devnull >= 0)
    close (devnull);
  if (c && b->o->force_rm)
    {
      berr_t e2 = BERR_INIT;
      container_remove (b->e, c, true, true, &e2);
      berr_release (&e2);
      bout (b, "Removing intermediate container %.12s\n", c->id);
    }
  container_rec_free (c);
  if (rm)
    run_mounts_release (rm);
  json_decref (mjson);
  if (have_layer)
    builder_layer_release (&layer);
  for (size_t j = 0; j < n_mounts; j++)
    run_mount_clear (&mounts[j]);
  free (mounts);
  json_decref (argv);
  json_decref (env);
  sbuf_release (&cmdline);
  sbuf_release (&created);
  if (ret < 0 && err->kind != BERR_EXEC)
    berr_wrap (err, "%s:%d", b->ctx->dockerfile_name, n->start_line);
  return ret;

fail_early:
  json_decref (argv);
  json_decref (env);
  sbuf_release (&cmdline);
  sbuf_release (&created);
  sbuf_release (&extra);
  return berr_wrap (err, "%s:%d", b->ctx->dockerfile_name, n->start_line);
}
