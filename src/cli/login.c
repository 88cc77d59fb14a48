/* login.c — berth login, berth logout: Docker's config.json credentials (creds.h), checked
 * against the registry with reg_ping first. Messages follow docker 20.10's CLI. */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "cli/cli.h"
#include "registry/creds.h"
#include "registry/registry.h"
#include "util/fs.h"

#define HUB_KEY "https://index.docker.io/v1/"

/* "https://host:5000/v2/" -> "host:5000" (Docker's ConvertToHostname) */
static char *server_hostname (const char *server)
{
  const char *s = server;
  if (strncasecmp (s, "https://", 8) == 0)
    s += 8;
  else if (strncasecmp (s, "http://", 7) == 0)
    s += 7;
  return xstrndup (s, strcspn (s, "/"));
}

static bool is_hub (const char *host)
{
  return strcmp (host, "docker.io") == 0 || strcmp (host, "index.docker.io") == 0
         || strcmp (host, "registry-1.docker.io") == 0;
}

static char *read_line (FILE *f)
{
  char *line = NULL;
  size_t cap = 0;
  ssize_t n = getline (&line, &cap, f);
  if (n < 0)
    {
      free (line);
      return NULL;
    }
  while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
    line[--n] = '\0';
  return line;
}

static char *read_password_tty (void)
{
  struct termios old, quiet;
  bool restore = tcgetattr (STDIN_FILENO, &old) == 0;
  if (restore)
    {
      quiet = old;
      quiet.c_lflag &= ~(tcflag_t)ECHO;
      quiet.c_lflag |= ECHONL;
      tcsetattr (STDIN_FILENO, TCSAFLUSH, &quiet);
    }
  char *pw = read_line (stdin);
  if (restore)
    tcsetattr (STDIN_FILENO, TCSAFLUSH, &old);
  else
    fputc ('\n', stdout);
  return pw;
}

static int fail (const char *fmt, ...) PRINTF_LIKE (1, 2);
static int fail (const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  vfprintf (stderr, fmt, ap);
  va_end (ap);
  fputc ('\n', stderr);
  return 1;
}

static int open_session (struct berth_ctx *ctx, const char *host, struct reg_config *cfg,
                         struct reg_session **s, berr_t *err)
{
  if (reg_config_load (ctx->config, cfg, err) < 0)
    return -1;
  if (reg_session_open (cfg, host, s, err) < 0)
    {
      reg_config_release (cfg);
      return -1;
    }
  return 0;
}

/* Check the credentials against the registry and store them. 0, or 1 after printing why. */
static int login_with (struct berth_ctx *ctx, const char *host, const char *user,
                       const char *password, bool quiet_fail)
{
  struct reg_config cfg;
  struct reg_session *s = NULL;
  berr_t err = BERR_INIT;
  if (open_session (ctx, host, &cfg, &s, &err) < 0)
    return fail ("Error: %s", err.msg);
  cleanup_free char *ident = NULL;
  int rc = reg_session_set_credentials (s, user, password, &err);
  if (rc == 0)
    rc = reg_ping (s, &ident, &err);
  cleanup_free char *key = xstrdup (reg_session_creds_key (s));
  reg_session_free (s);
  if (rc < 0)
    {
      if (quiet_fail)
        fprintf (stderr, "Login did not succeed, error: Error response from daemon: %s\n", err.msg);
      else
        fprintf (stderr, "Error response from daemon: %s\n", err.msg);
      berr_release (&err);
      reg_config_release (&cfg);
      return 1;
    }
  /* an identity token replaces the password, as Docker stores it */
  struct creds c = { (char *)user, ident ? NULL : (char *)password, ident };
  cleanup_free char *where = NULL;
  rc = creds_store (cfg.docker_config_dir, key, &c, &where, &err);
  reg_config_release (&cfg);
  if (rc < 0)
    {
      fprintf (stderr, "Error saving credentials: %s\n", err.msg);
      berr_release (&err);
      return 1;
    }
  if (where && ident == NULL)
    fprintf (stderr,
             "WARNING! Your password will be stored unencrypted in %s.\n"
             "Configure a credential helper to remove this warning. See\n"
             "https://docs.docker.com/engine/reference/commandline/login/#credentials-store\n\n",
             where);
  printf ("Login Succeeded\n");
  return 0;
}

int cmd_login (int argc, char **argv, struct berth_ctx *ctx)
{
  const char *user = NULL, *password = NULL;
  bool password_stdin = false;
  const struct opt opts[] = {
    { "password", 'p', OPT_STRING, &password, "string", "Password" },
    { "password-stdin", 0, OPT_BOOL, &password_stdin, NULL, "Take the password from stdin" },
    { "username", 'u', OPT_STRING, &user, "string", "Username" },
    { NULL, 0, 0, NULL, NULL, NULL },
  };
  const struct cmd_spec spec = { "login [OPTIONS] [SERVER]",
                                 "Log in to a Docker registry.\nIf no server is specified, the "
                                 "default is defined by the daemon.",
                                 NULL,
                                 opts,
                                 0,
                                 1,
                                 NULL };
  cleanup_free char **args = NULL;
  int r = opts_parse (&spec, ctx->cmdpath, argc, argv, &args);
  if (r)
    return r < 0 ? 0 : r;
  cleanup_free char *pw_buf = NULL;
  if (password && *password)
    {
      fprintf (stderr,
               "WARNING! Using --password via the CLI is insecure. Use --password-stdin.\n");
      if (password_stdin)
        return fail ("--password and --password-stdin are mutually exclusive");
    }
  if (password_stdin)
    {
      if (user == NULL || *user == '\0')
        return fail ("Must provide --username with --password-stdin");
      size_t len;
      berr_t err = BERR_INIT;
      if (fs_read_fd (STDIN_FILENO, 1u << 20, &pw_buf, &len, &err) < 0)
        return fail ("%s", err.msg);
      if (len > 0 && pw_buf[len - 1] == '\n')
        pw_buf[--len] = '\0';
      if (len > 0 && pw_buf[len - 1] == '\r')
        pw_buf[--len] = '\0';
      password = pw_buf;
    }
  if (user && *user == '\0')
    user = NULL;
  if (password && *password == '\0')
    password = NULL;

  cleanup_free char *host = server_hostname (args[0] ? args[0] : "docker.io");
  if (*host == '\0' || is_hub (host))
    {
      free (host);
      host = xstrdup ("docker.io");
    }
  cleanup_free char *cfgdir = creds_default_dir ();
  const char *key = is_hub (host) ? HUB_KEY : host;

  /* no flags: the stored credentials first, as docker does */
  struct creds stored = { 0 };
  berr_t err = BERR_INIT;
  if (user == NULL && password == NULL)
    {
      if (creds_get (cfgdir, key, &stored, &err) < 0)
        berr_release (&err);
      if (stored.username && stored.password && *stored.username && *stored.password)
        {
          printf ("Authenticating with existing credentials...\n");
          fflush (stdout);
          if (login_with (ctx, host, stored.username, stored.password, true) == 0)
            {
              creds_release (&stored);
              return 0;
            }
        }
    }

  cleanup_free char *user_buf = NULL;
  cleanup_free char *pw_prompt = NULL;
  if ((user == NULL || password == NULL) && !isatty (STDIN_FILENO))
    {
      creds_release (&stored);
      return fail ("Error: Cannot perform an interactive login from a non TTY device");
    }
  if (user == NULL)
    {
      if (stored.username && *stored.username)
        printf ("Username (%s): ", stored.username);
      else
        printf ("Username: ");
      fflush (stdout);
      user_buf = read_line (stdin);
      char *u = user_buf ? user_buf : xstrdup ("");
      user_buf = u;
      while (*u && isspace ((unsigned char)*u))
        u++;
      size_t n = strlen (u);
      while (n > 0 && isspace ((unsigned char)u[n - 1]))
        u[--n] = '\0';
      if (*u == '\0' && stored.username)
        {
          free (user_buf);
          user_buf = xstrdup (stored.username);
          u = user_buf;
        }
      if (*u == '\0')
        {
          creds_release (&stored);
          return fail ("Error: Non-null Username Required");
        }
      user = u;
    }
  creds_release (&stored);
  if (password == NULL)
    {
      printf ("Password: ");
      fflush (stdout);
      pw_prompt = read_password_tty ();
      if (pw_prompt == NULL || *pw_prompt == '\0')
        return fail ("Error: Password Required");
      password = pw_prompt;
    }
  return login_with (ctx, host, user, password, false);
}

int cmd_logout (int argc, char **argv, struct berth_ctx *ctx arg_unused)
{
  const struct opt opts[] = { { NULL, 0, 0, NULL, NULL, NULL } };
  const struct cmd_spec spec = { "logout [SERVER]",
                                 "Log out from a Docker registry.\nIf no server is specified, the "
                                 "default is defined by the daemon.",
                                 NULL,
                                 opts,
                                 0,
                                 1,
                                 NULL };
  cleanup_free char **args = NULL;
  int r = opts_parse (&spec, ctx->cmdpath, argc, argv, &args);
  if (r)
    return r < 0 ? 0 : r;
  cleanup_free char *host = args[0] ? server_hostname (args[0]) : xstrdup (HUB_KEY);
  if (args[0] && is_hub (host))
    {
      free (host);
      host = xstrdup (HUB_KEY);
    }
  cleanup_free char *cfgdir = creds_default_dir ();
  berr_t err = BERR_INIT;
  int listed = creds_listed (cfgdir, host, &err);
  if (listed < 0)
    return fail ("%s", err.msg);
  if (listed == 0)
    {
      printf ("Not logged in to %s\n", host);
      return 0;
    }
  printf ("Removing login credentials for %s\n", host);
  fflush (stdout);
  if (creds_erase (cfgdir, host, &err) < 0)
    {
      fprintf (stderr, "WARNING: could not erase credentials: %s\n", err.msg);
      berr_release (&err);
    }
  return 0;
}
