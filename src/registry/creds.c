/* creds.c — Docker's config.json credentials: "auths", "credsStore", "credHelpers".
 *
 * The file belongs to the user and to Docker as much as to berth: every key berth does not
 * touch is written back as it was, and the file is replaced atomically with mode 0600. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "registry/client_int.h"
#include "util/fs.h"
#include "util/json.h"

#define HUB_KEY "https://index.docker.io/v1/"
#define CONFIG_MAX (16u << 20)
#define HELPER_OUT_MAX (1u << 20)

extern char **environ;

void creds_release (struct creds *c)
{
  free (c->username);
  if (c->password)
    explicit_bzero (c->password, strlen (c->password));
  free (c->password);
  free (c->identity_token);
  memset (c, 0, sizeof *c);
}

char *creds_default_dir (void)
{
  const char *d = getenv ("DOCKER_CONFIG");
  if (d && *d)
    return xstrdup (d);
  const char *home = getenv ("HOME");
  return xasprintf ("%s/.docker", home && *home ? home : "/root");
}

/* "https://index.docker.io/v1/" -> "index.docker.io"; "http://h:5000/" -> "h:5000". Every Docker
 * Hub spelling becomes "index.docker.io". */
static char *key_normalize (const char *k)
{
  if (strncasecmp (k, "https://", 8) == 0)
    k += 8;
  else if (strncasecmp (k, "http://", 7) == 0)
    k += 7;
  char *n = xstrndup (k, strcspn (k, "/"));
  for (char *p = n; *p; p++)
    *p = (char)tolower ((unsigned char)*p);
  if (strcmp (n, "docker.io") == 0 || strcmp (n, "registry-1.docker.io") == 0
      || strcmp (n, "index.docker.io") == 0)
    {
      free (n);
      n = xstrdup ("index.docker.io");
    }
  return n;
}

static bool key_match (const char *a, const char *b)
{
  cleanup_free char *x = key_normalize (a);
  cleanup_free char *y = key_normalize (b);
  return strcmp (x, y) == 0;
}

/* The key as stored: Docker Hub's is always the v1 URL. */
static char *key_canonical (const char *k)
{
  cleanup_free char *n = key_normalize (k);
  if (strcmp (n, "index.docker.io") == 0)
    return xstrdup (HUB_KEY);
  return xstrdup (k);
}

static int config_read (const char *dir, json_t **out, char **path_out, berr_t *err)
{
  char *path = xasprintf ("%s/config.json", dir);
  *path_out = path;
  char *data = NULL;
  size_t len;
  *out = NULL;
  berr_t e = BERR_INIT;
  if (fs_read_file (path, CONFIG_MAX, &data, &len, &e) < 0)
    {
      if (e.errnum == ENOENT)
        {
          berr_release (&e);
          *out = json_object ();
          return 1;
        }
      berr_move (err, &e);
      return -1;
    }
  size_t i = 0;
  while (i < len && isspace ((unsigned char)data[i]))
    i++;
  if (i == len)
    *out = json_object ();
  else
    *out = json_parse_buf (data, len, path, err);
  free (data);
  if (*out == NULL)
    return -1;
  if (!json_is_object (*out))
    {
      json_decref (*out);
      *out = NULL;
      return berr_set (err, 0, "%s: not a JSON object", path);
    }
  return 0;
}

static int config_write (const char *dir, const char *path, json_t *cfg, berr_t *err)
{
  if (fs_mkdir_p (dir, 0700, err) < 0)
    return -1;
  char *s = json_dumps (cfg, JSON_INDENT (1) | JSON_PRESERVE_ORDER);
  if (s == NULL)
    return berr_set (err, ENOMEM, "encode %s", path);
  /* Docker indents with tabs: keep the file looking like Docker's */
  cleanup_sbuf struct sbuf b;
  sbuf_init (&b);
  bool line_start = true;
  for (const char *p = s; *p; p++)
    {
      if (*p == '\n')
        line_start = true;
      else if (line_start && *p == ' ')
        {
          sbuf_addc (&b, '\t');
          continue;
        }
      else
        line_start = false;
      sbuf_addc (&b, *p);
    }
  sbuf_addc (&b, '\n');
  free (s);
  return fs_write_atomic (path, b.buf, b.len, 0600, err);
}

/* credHelpers[key], else credsStore, else NULL */
static const char *config_helper (json_t *cfg, const char *key)
{
  json_t *h = json_object_get (cfg, "credHelpers");
  const char *k;
  json_t *v;
  if (json_is_object (h))
    json_object_foreach (h, k, v)
    {
      if (json_is_string (v) && key_match (k, key))
        return json_string_value (v);
    }
  const char *store = json_get_str (cfg, "credsStore");
  return store && *store ? store : NULL;
}

/* Run docker-credential-<name> <action>, input on stdin; stdout in *out. Returns the exit
 * status (>= 0) or -1. */
static int helper_run (const char *name, const char *action, const char *input, char **out,
                       berr_t *err)
{
  *out = NULL;
  for (const char *p = name; *p; p++)
    if (!(isalnum ((unsigned char)*p) || *p == '-' || *p == '_' || *p == '.'))
      return berr_set (err, 0, "invalid credential helper name \"%s\"", name);
  cleanup_free char *prog = xasprintf ("docker-credential-%s", name);
  int in[2], outp[2];
  if (pipe2 (in, O_CLOEXEC) < 0)
    return berr_set (err, errno, "pipe");
  if (pipe2 (outp, O_CLOEXEC) < 0)
    {
      close (in[0]);
      close (in[1]);
      return berr_set (err, errno, "pipe");
    }
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init (&fa);
  posix_spawn_file_actions_adddup2 (&fa, in[0], 0);
  posix_spawn_file_actions_adddup2 (&fa, outp[1], 1);
  char *argv[] = { prog, (char *)action, NULL };
  pid_t pid;
  int rc = posix_spawnp (&pid, prog, &fa, NULL, argv, environ);
  posix_spawn_file_actions_destroy (&fa);
  close (in[0]);
  close (outp[1]);
  if (rc != 0)
    {
      close (in[1]);
      close (outp[0]);
      return berr_set (err, rc, "credential helper %s", prog);
    }
  /* inputs are small (a URL or one JSON object): the write cannot block on a pipe buffer */
  /* A helper that exits without reading must not kill berth: SIGPIPE is blocked on this
   * thread only (pull workers may run helpers too) and a pending one taken away. */
  sigset_t pipe_set, old_set;
  sigemptyset (&pipe_set);
  sigaddset (&pipe_set, SIGPIPE);
  pthread_sigmask (SIG_BLOCK, &pipe_set, &old_set);
  if (fs_write_all (in[1], input, strlen (input)) < 0 && errno == EPIPE)
    {
      struct timespec zero = { 0, 0 };
      while (sigtimedwait (&pipe_set, NULL, &zero) < 0 && errno == EINTR)
        ;
    }
  close (in[1]);
  pthread_sigmask (SIG_SETMASK, &old_set, NULL);
  size_t len;
  berr_t e = BERR_INIT;
  int r = fs_read_fd (outp[0], HELPER_OUT_MAX, out, &len, &e);
  close (outp[0]);
  int status;
  while (waitpid (pid, &status, 0) < 0 && errno == EINTR)
    ;
  if (r < 0)
    {
      berr_move (err, &e);
      return berr_wrap (err, "credential helper %s", prog);
    }
  if (WIFEXITED (status))
    return WEXITSTATUS (status);
  return berr_set (err, 0, "credential helper %s %s: killed by signal %d", prog, action,
                   WTERMSIG (status));
}

static bool helper_not_found (const char *out)
{
  return out && strstr (out, "credentials not found") != NULL;
}

static int helper_fail (const char *name, const char *action, const char *out, berr_t *err)
{
  cleanup_free char *msg = xstrdup (out ? out : "");
  size_t n = strlen (msg);
  while (n > 0 && isspace ((unsigned char)msg[n - 1]))
    msg[--n] = '\0';
  return berr_set (err, 0, "error %s credentials - err: docker-credential-%s %s: %s",
                   strcmp (action, "get") == 0     ? "getting"
                   : strcmp (action, "store") == 0 ? "storing"
                                                   : "erasing",
                   name, action, *msg ? msg : "failed");
}

int creds_get (const char *config_dir, const char *key, struct creds *out, berr_t *err)
{
  memset (out, 0, sizeof *out);
  json_t *cfg;
  cleanup_free char *path = NULL;
  int rc = config_read (config_dir, &cfg, &path, err);
  if (rc < 0)
    return -1;
  if (rc == 1)
    {
      json_decref (cfg);
      return 1;
    }
  const char *helper = config_helper (cfg, key);
  if (helper)
    {
      cleanup_free char *server = key_canonical (key);
      cleanup_free char *hout = NULL;
      cleanup_free char *hname = xstrdup (helper);
      json_decref (cfg);
      int st = helper_run (hname, "get", server, &hout, err);
      if (st < 0)
        return -1;
      if (st != 0)
        {
          if (helper_not_found (hout))
            return 1;
          return helper_fail (hname, "get", hout, err);
        }
      json_t *j = json_parse_buf (hout, strlen (hout), "credential helper output", err);
      if (j == NULL)
        return -1;
      const char *u = json_get_str (j, "Username");
      const char *sec = json_get_str (j, "Secret");
      if (sec == NULL || *sec == '\0')
        {
          json_decref (j);
          return 1;
        }
      if (u && strcmp (u, "<token>") == 0)
        out->identity_token = xstrdup (sec);
      else
        {
          out->username = xstrdup (u ? u : "");
          out->password = xstrdup (sec);
        }
      json_decref (j);
      return 0;
    }
  json_t *auths = json_object_get (cfg, "auths");
  const char *k;
  json_t *v;
  rc = 1;
  if (json_is_object (auths))
    json_object_foreach (auths, k, v)
    {
      if (!json_is_object (v) || !key_match (k, key))
        continue;
      const char *a = json_get_str (v, "auth");
      const char *it = json_get_str (v, "identitytoken");
      if (a && *a)
        {
          size_t len;
          cleanup_free char *dec = base64_decode (a, &len);
          char *colon = dec ? memchr (dec, ':', len) : NULL;
          if (colon == NULL)
            {
              berr_set (err, 0, "%s: invalid auth configuration for %s", path, k);
              json_decref (cfg);
              creds_release (out);
              return -1;
            }
          *colon = '\0';
          out->username = xstrdup (dec);
          out->password = xstrdup (colon + 1);
          explicit_bzero (dec, len);
          rc = 0;
        }
      else if (json_get_str (v, "username"))
        {
          out->username = xstrdup (json_get_str (v, "username"));
          const char *pw = json_get_str (v, "password");
          out->password = xstrdup (pw ? pw : "");
          rc = 0;
        }
      if (it && *it)
        {
          out->identity_token = xstrdup (it);
          rc = 0;
        }
      if (rc == 0)
        break;
    }
  json_decref (cfg);
  return rc;
}

/* Remove every "auths" entry that names the same registry as key. true if one was removed. */
static bool auths_remove (json_t *cfg, const char *key)
{
  json_t *auths = json_object_get (cfg, "auths");
  if (!json_is_object (auths))
    return false;
  bool removed = false;
  const char *k;
  json_t *v;
  void *tmp;
  json_object_foreach_safe (auths, tmp, k, v)
  {
    if (key_match (k, key))
      {
        json_object_del (auths, k);
        removed = true;
      }
  }
  return removed;
}

static json_t *auths_obj (json_t *cfg)
{
  json_t *auths = json_object_get (cfg, "auths");
  if (!json_is_object (auths))
    {
      auths = json_object ();
      json_object_set_new (cfg, "auths", auths);
    }
  return auths;
}

int creds_store (const char *config_dir, const char *key, const struct creds *c, char **where,
                 berr_t *err)
{
  if (where)
    *where = NULL;
  json_t *cfg;
  cleanup_free char *path = NULL;
  if (config_read (config_dir, &cfg, &path, err) < 0)
    return -1;
  cleanup_free char *ckey = key_canonical (key);
  const char *helper = config_helper (cfg, key);
  int rc;
  if (helper)
    {
      json_t *in
          = json_pack ("{s:s,s:s,s:s}", "ServerURL", ckey, "Username",
                       c->identity_token ? "<token>" : (c->username ? c->username : ""), "Secret",
                       c->identity_token ? c->identity_token : (c->password ? c->password : ""));
      char *input = json_dumps (in, JSON_COMPACT);
      json_decref (in);
      cleanup_free char *hout = NULL;
      cleanup_free char *hname = xstrdup (helper);
      int st = helper_run (hname, "store", input, &hout, err);
      explicit_bzero (input, strlen (input));
      free (input);
      if (st != 0)
        {
          json_decref (cfg);
          return st < 0 ? -1 : helper_fail (hname, "store", hout, err);
        }
      /* Docker keeps an empty entry so the registry still shows as logged in */
      auths_remove (cfg, key);
      json_object_set_new (auths_obj (cfg), ckey, json_object ());
      rc = config_write (config_dir, path, cfg, err);
    }
  else
    {
      auths_remove (cfg, key);
      json_t *e = json_object ();
      /* with an identity token the password is not kept, as Docker does */
      cleanup_free char *up = xasprintf ("%s:%s", c->username ? c->username : "",
                                         c->identity_token ? "" : (c->password ? c->password : ""));
      cleanup_free char *b = base64_encode (up, strlen (up));
      explicit_bzero (up, strlen (up));
      json_object_set_new (e, "auth", json_string (b));
      if (c->identity_token)
        json_object_set_new (e, "identitytoken", json_string (c->identity_token));
      json_object_set_new (auths_obj (cfg), ckey, e);
      rc = config_write (config_dir, path, cfg, err);
      if (rc == 0 && where)
        *where = xstrdup (path);
    }
  json_decref (cfg);
  return rc;
}

int creds_erase (const char *config_dir, const char *key, berr_t *err)
{
  json_t *cfg;
  cleanup_free char *path = NULL;
  int rc = config_read (config_dir, &cfg, &path, err);
  if (rc < 0)
    return -1;
  if (rc == 1)
    {
      json_decref (cfg);
      return 1;
    }
  bool found = false;
  const char *helper = config_helper (cfg, key);
  if (helper)
    {
      cleanup_free char *server = key_canonical (key);
      cleanup_free char *hout = NULL;
      cleanup_free char *hname = xstrdup (helper);
      int st = helper_run (hname, "erase", server, &hout, err);
      if (st < 0)
        {
          json_decref (cfg);
          return -1;
        }
      if (st != 0 && !helper_not_found (hout))
        {
          json_decref (cfg);
          return helper_fail (hname, "erase", hout, err);
        }
      found = st == 0;
    }
  if (auths_remove (cfg, key))
    {
      found = true;
      if (config_write (config_dir, path, cfg, err) < 0)
        {
          json_decref (cfg);
          return -1;
        }
    }
  json_decref (cfg);
  return found ? 0 : 1;
}

int creds_listed (const char *config_dir, const char *key, berr_t *err)
{
  json_t *cfg;
  cleanup_free char *path = NULL;
  int rc = config_read (config_dir, &cfg, &path, err);
  if (rc < 0)
    return -1;
  json_t *auths = json_object_get (cfg, "auths");
  const char *k;
  json_t *v;
  int found = 0;
  if (json_is_object (auths))
    json_object_foreach (auths, k, v)
    {
      if (key_match (k, key))
        found = 1;
    }
  json_decref (cfg);
  return found;
}
