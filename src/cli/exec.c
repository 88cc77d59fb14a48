/* exec.c — docker exec: a new process in a running container's namespaces and cgroup, with the
 * container's security settings; this process relays its stdio. Also the monitor's healthcheck
 * command, which is an exec whose result is recorded in the container's state. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli/cli.h"
#include "container/container.h"
#include "container/spec.h"
#include "monitor/monitor.h"
#include "runtime/runtime.h"
#include "util/fs.h"
#include "util/json.h"
#include "util/units.h"

/* Flags of exec that take a value, for finding where CONTAINER starts (flags stop there). */
static const char *const value_flags[]
    = { "-e", "--env", "--env-file", "-u", "--user", "-w", "--workdir", "--detach-keys", NULL };

static int first_positional (int argc, char **argv)
{
  for (int i = 1; i < argc; i++)
    {
      const char *a = argv[i];
      if (strcmp (a, "--") == 0)
        return i + 1;
      if (a[0] != '-' || a[1] == '\0')
        return i;
      if (strchr (a, '=') != NULL)
        continue;
      for (size_t k = 0; value_flags[k]; k++)
        if (strcmp (a, value_flags[k]) == 0)
          {
            i++;
            break;
          }
      /* Combined short flags ending in a value flag: "-itu" then the value. */
      if (a[1] != '-' && strlen (a) > 2 && strchr ("euw", a[strlen (a) - 1]))
        i++;
    }
  return argc;
}

struct exec_req
{
  char *const *args; /* CMD... */
  char **env;
  const char *user, *workdir, *detach_keys;
  bool tty, interactive, detach, privileged;
};

static int exec_in (struct engine *e, struct container_rec *c, const struct exec_req *q,
                    int *exit_code, berr_t *err)
{
  if (!container_is_running (c))
    return berr_setk (err, BERR_CONFLICT, 0, "container %s is not running", c->id);
  if (json_is_true (json_object_get (c->state, "Paused")))
    return berr_setk (err, BERR_CONFLICT, 0,
                      "Container %s is paused, unpause the container before exec", c->id);
  cleanup_free char *dir = container_dir (e, c->id);
  cleanup_free char *spec_path = xasprintf ("%s/config.json", dir);
  cleanup_free char *text = NULL, *cache = NULL;
  size_t len = 0;
  if (fs_read_file (spec_path, 64 << 20, &text, &len, err) < 0)
    return -1;
  cleanup_json json_t *spec = json_parse_buf (text, len, spec_path, err);
  if (spec == NULL)
    return -1;
  const char *rootfs = json_get_str (json_object_get (spec, "root"), "path");
  cleanup_json json_t *process = NULL;
  if (spec_exec_process (spec, rootfs, q->args, q->env, q->user, q->workdir, q->tty, q->privileged,
                         &process, err)
      < 0)
    return -1;
  struct cgroup *cg = NULL;
  berr_t e2 = BERR_INIT;
  if (container_open_cgroup (e, c->id, &cg, &e2) < 0)
    berr_release (&e2);
  int in[2] = { -1, -1 }, out[2] = { -1, -1 }, errp[2] = { -1, -1 };
  int ret = -1;
  struct rt_io io = { .stdin_fd = -1, .stdout_fd = -1, .stderr_fd = -1, .pty_master = -1 };
  if (!q->detach)
    {
      if (!q->tty && (pipe2 (out, O_CLOEXEC) < 0 || pipe2 (errp, O_CLOEXEC) < 0))
        {
          berr_set (err, errno, "pipe");
          goto out;
        }
      if (q->interactive && !q->tty && pipe2 (in, O_CLOEXEC) < 0)
        {
          berr_set (err, errno, "pipe");
          goto out;
        }
      io.stdin_fd = in[0];
      io.stdout_fd = out[1];
      io.stderr_fd = errp[1];
      if (q->tty && isatty (1))
        io.has_winsize = ioctl (1, TIOCGWINSZ, &io.winsize) == 0;
    }
  pid_t target = (pid_t)json_integer_value (json_object_get (c->state, "Pid"));
  cache = xasprintf ("%s/cache", e->root);
  struct rt_exec_opts xo = {
    .spec = spec,
    .process = process,
    .privileged = q->privileged,
    .target = target,
    .target_pidfd = -1,
    .io = &io,
    .cg = cg,
    .cache_dir = cache,
  };
  struct rt_proc proc = { .pid = -1, .pidfd = -1 };
  if (rt_exec (&xo, &proc, err) < 0)
    goto out;
  /* The process has its ends now. */
  if (in[0] >= 0)
    close (in[0]), in[0] = -1;
  if (out[1] >= 0)
    close (out[1]), out[1] = -1;
  if (errp[1] >= 0)
    close (errp[1]), errp[1] = -1;
  if (q->detach)
    {
      /* Not our business any more: the container's init reaps it once we are gone. */
      if (proc.pidfd >= 0)
        close (proc.pidfd);
      *exit_code = 0;
      ret = 0;
      goto out;
    }
  struct monitor_opts mo = {
    .pid = proc.pid,
    .pidfd = proc.pidfd,
    .out_fd = out[0],
    .err_fd = errp[0],
    .in_fd = in[1],
    .pty_fd = io.pty_master,
    .log = NULL,
    .attach_listen_fd = -1,
    .local_in = q->interactive ? 0 : -1,
    .local_out = 1,
    .local_err = 2,
    .local_tty = q->tty && isatty (0),
    .detach_keys = q->detach_keys,
    .sig_proxy = !q->tty,
  };
  struct monitor_result res = { 0 };
  ret = monitor_run (&mo, &res, err);
  if (ret == 0)
    *exit_code = res.detached ? 0 : res.exit_code;
  if (io.pty_master >= 0)
    close (io.pty_master);
  if (proc.pidfd >= 0)
    close (proc.pidfd);
out:
  for (int k = 0; k < 2; k++)
    {
      if (in[k] >= 0)
        close (in[k]);
      if (out[k] >= 0)
        close (out[k]);
      if (errp[k] >= 0)
        close (errp[k]);
    }
  cgroup_free (cg);
  return ret;
}

static int read_env_file (const char *path, char ***env)
{
  cleanup_free char *data = NULL;
  size_t len = 0;
  berr_t err = BERR_INIT;
  if (fs_read_file (path, 64 << 20, &data, &len, &err) < 0)
    return cli_error (&err);
  char *save = NULL;
  for (char *line = strtok_r (data, "\n", &save); line; line = strtok_r (NULL, "\n", &save))
    {
      while (*line == ' ' || *line == '\t')
        line++;
      if (*line == '\0' || *line == '#')
        continue;
      if (strchr (line, '=') == NULL)
        {
          const char *v = getenv (line);
          if (v)
            strv_push_take (env, xasprintf ("%s=%s", line, v));
          continue;
        }
      strv_push (env, line);
    }
  return 0;
}

int cmd_exec (int argc, char **argv, struct berth_ctx *ctx)
{
  bool detach = false, interactive = false, tty = false, privileged = false;
  const char *user = NULL, *workdir = NULL, *detach_keys = NULL;
  cleanup_strv char **env = NULL, **env_files = NULL;
  const struct opt opts[] = {
    { "detach", 'd', OPT_BOOL, &detach, NULL, "Detached mode: run command in the background" },
    { "detach-keys", 0, OPT_STRING, &detach_keys, "string",
      "Override the key sequence for detaching a container" },
    { "env", 'e', OPT_STRINGS, &env, "list", "Set environment variables" },
    { "env-file", 0, OPT_STRINGS, &env_files, "list", "Read in a file of environment variables" },
    { "interactive", 'i', OPT_BOOL, &interactive, NULL, "Keep STDIN open even if not attached" },
    { "privileged", 0, OPT_BOOL, &privileged, NULL, "Give extended privileges to the command" },
    { "tty", 't', OPT_BOOL, &tty, NULL, "Allocate a pseudo-TTY" },
    { "user", 'u', OPT_STRING, &user, "string",
      "Username or UID (format: \"<name|uid>[:<group|gid>]\")" },
    { "workdir", 'w', OPT_STRING, &workdir, "string", "Working directory inside the container" },
    { NULL, 0, 0, NULL, NULL, NULL },
  };
  const struct cmd_spec spec = { "exec [OPTIONS] CONTAINER COMMAND [ARG...]",
                                 "Execute a command in a running container",
                                 "berth container exec, berth exec",
                                 opts,
                                 0,
                                 0,
                                 NULL };
  int pos = first_positional (argc, argv);
  cleanup_free char **flag_args = NULL;
  int r = opts_parse (&spec, ctx->cmdpath, pos, argv, &flag_args);
  if (r)
    return r < 0 ? 0 : r;
  if (argc - pos < 2)
    {
      fprintf (stderr,
               "\"%s\" requires at least 2 arguments.\nSee '%s --help'.\n\nUsage:  berth %s\n\n"
               "%s\n",
               ctx->cmdpath, ctx->cmdpath, spec.use, spec.short_help);
      return 1;
    }
  cleanup_strv char **all_env = NULL;
  for (size_t i = 0; env_files && env_files[i]; i++)
    if ((r = read_env_file (env_files[i], &all_env)) != 0)
      return r;
  for (size_t i = 0; env && env[i]; i++)
    {
      if (strchr (env[i], '=') == NULL)
        {
          const char *v = getenv (env[i]);
          if (v)
            strv_push_take (&all_env, xasprintf ("%s=%s", env[i], v));
          continue;
        }
      strv_push (&all_env, env[i]);
    }
  if (tty && interactive && !isatty (0))
    return cli_errorf ("the input device is not a TTY");
  struct engine *e;
  if (ctx_engine (ctx, &e) < 0)
    return 1;
  berr_t err = BERR_INIT;
  struct container_rec *c = NULL;
  if (container_get (e, argv[pos], &c, &err) < 0)
    return cli_error (&err);
  struct exec_req q = {
    .args = argv + pos + 1,
    .env = all_env,
    .user = user,
    .workdir = workdir,
    .detach_keys = detach_keys,
    .tty = tty,
    .interactive = interactive,
    .detach = detach,
    .privileged = privileged,
  };
  int code = 0;
  r = exec_in (e, c, &q, &code, &err);
  container_rec_free (c);
  if (r < 0)
    {
      /* Docker: any failure to start the process is 126, "not found" included. */
      int rc = err.kind == BERR_EXEC ? EXIT_CANNOT_EXEC : 1;
      fprintf (stderr, "%s%s\n",
               err.kind == BERR_EXEC ? "OCI runtime exec failed: " : "Error: ", err.msg);
      berr_release (&err);
      return rc;
    }
  return code;
}

/* ---------- healthchecks (run by the monitor) ---------- */

struct health_update
{
  int exit_code;
  char *output;
  int64_t start_ns, end_ns;
  int retries;
};

static int record_health (json_t *state, void *arg, berr_t *err)
{
  (void)err;
  struct health_update *u = arg;
  json_t *h = json_object_get (state, "Health");
  if (!json_is_object (h))
    {
      h = json_pack ("{s:s, s:i, s:[]}", "Status", "starting", "FailingStreak", 0, "Log");
      json_object_set_new (state, "Health", h);
    }
  char s[64], f[64];
  json_t *entry
      = json_pack ("{s:s, s:s, s:i, s:s}", "Start", units_rfc3339_nano (u->start_ns, s, sizeof s),
                   "End", units_rfc3339_nano (u->end_ns, f, sizeof f), "ExitCode", u->exit_code,
                   "Output", u->output ? u->output : "");
  json_t *log = json_object_get (h, "Log");
  json_array_append_new (log, entry);
  while (json_array_size (log) > 5) /* Docker keeps the last five */
    json_array_remove (log, 0);
  json_int_t streak = json_integer_value (json_object_get (h, "FailingStreak"));
  if (u->exit_code == 0)
    {
      json_object_set_new (h, "Status", json_string ("healthy"));
      json_object_set_new (h, "FailingStreak", json_integer (0));
    }
  else
    {
      streak++;
      json_object_set_new (h, "FailingStreak", json_integer (streak));
      if (streak >= u->retries)
        json_object_set_new (h, "Status", json_string ("unhealthy"));
    }
  return 0;
}

int cmd_container_healthcheck (int argc, char **argv, struct berth_ctx *ctx)
{
  if (argc != 2)
    return cli_errorf ("usage: container-healthcheck ID");
  struct engine *e;
  if (ctx_engine (ctx, &e) < 0)
    return 1;
  berr_t err = BERR_INIT;
  struct container_rec *c = NULL;
  if (container_get (e, argv[1], &c, &err) < 0)
    return cli_error (&err);
  json_t *hc = json_object_get (json_object_get (c->config, "Config"), "Healthcheck");
  json_t *test = json_object_get (hc, "Test");
  const char *kind = json_string_value (json_array_get (test, 0));
  cleanup_strv char **args = NULL;
  if (kind && strcmp (kind, "CMD-SHELL") == 0 && json_array_size (test) >= 2)
    {
      /* Docker runs CMD-SHELL with the container's shell: /bin/sh -c. */
      args = xzalloc (sizeof (char *));
      strv_push (&args, "/bin/sh");
      strv_push (&args, "-c");
      strv_push (&args, json_string_value (json_array_get (test, 1)));
    }
  else if (kind && strcmp (kind, "CMD") == 0 && json_array_size (test) >= 2)
    {
      args = xzalloc (sizeof (char *));
      for (size_t i = 1; i < json_array_size (test); i++)
        strv_push (&args, json_string_value (json_array_get (test, i)));
    }
  else
    {
      container_rec_free (c);
      return 0;
    }
  json_int_t retries = json_integer_value (json_object_get (hc, "Retries"));
  /* Capture the output in an anonymous file (never blocks however much is written); Docker
   * keeps up to 4 KiB of it. */
  int tmp = open ("/tmp", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
  if (tmp < 0)
    {
      container_rec_free (c);
      return cli_errorf ("healthcheck output: %s", strerror (errno));
    }
  int saved1 = dup (1), saved2 = dup (2);
  dup2 (tmp, 1);
  dup2 (tmp, 2);
  struct exec_req q = { .args = args };
  struct health_update u = { .start_ns = now_ns (), .retries = retries > 0 ? (int)retries : 3 };
  int code = 0;
  int r = exec_in (e, c, &q, &code, &err);
  fflush (stdout);
  dup2 (saved1, 1);
  dup2 (saved2, 2);
  close (saved1);
  close (saved2);
  char buf[4097];
  ssize_t n = pread (tmp, buf, sizeof buf - 1, 0);
  close (tmp);
  buf[n > 0 ? n : 0] = '\0';
  u.end_ns = now_ns ();
  u.exit_code = r < 0 ? -1 : code;
  u.output = r < 0 ? err.msg : buf;
  berr_t e2 = BERR_INIT;
  if (store_container_update (e->store, c->id, record_health, &u, &e2) < 0)
    berr_release (&e2);
  berr_release (&err);
  container_rec_free (c);
  return u.exit_code == 0 ? 0 : 1;
}
