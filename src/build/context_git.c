/* context_git.c — git repositories as build contexts, cloned with git(1) the way the docker
 * CLI does it: "git init", "remote add origin", one fetch of the ref, "checkout", submodules.
 * git runs through fork/exec (never a shell) with no terminal prompts, stdin on /dev/null and
 * file:// transports refused (a repository's submodules must not read the host's files). */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "build/context_priv.h"
#include "util/fs.h"
#include "util/log.h"

extern char **environ;

bool ctx_is_url (const char *s)
{
  return str_has_prefix (s, "http://") || str_has_prefix (s, "https://");
}

/* An http(s) URL is a git repository when its path ends in ".git" (a fragment may follow);
 * "git://", "git@" and the legacy "github.com/" prefix always are. */
bool ctx_is_git_url (const char *s)
{
  if (ctx_is_url (s))
    {
      const char *git = strstr (s, ".git");
      for (; git; git = strstr (git + 1, ".git"))
        if (git[4] == '\0' || (git[4] == '#' && git[5] != '\0'))
          return true;
    }
  return str_has_prefix (s, "git://") || str_has_prefix (s, "github.com/")
         || str_has_prefix (s, "git@");
}

struct git_repo
{
  char *remote;
  char *ref; /* NULL: the remote's default branch */
  char *subdir;
};

static int hexval (char c)
{
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

/* A URL's fragment is percent-decoded (Go's url.Parse); git@ forms are taken verbatim. */
static char *unescape (const char *s)
{
  struct sbuf b;
  sbuf_init (&b);
  sbuf_adds (&b, "");
  for (; *s; s++)
    {
      if (s[0] == '%' && hexval (s[1]) >= 0 && hexval (s[2]) >= 0)
        {
          sbuf_addc (&b, (char)(hexval (s[1]) * 16 + hexval (s[2])));
          s += 2;
        }
      else
        sbuf_addc (&b, *s);
    }
  return sbuf_detach (&b);
}

static int parse_remote (const char *spec, struct git_repo *r, berr_t *err)
{
  bool transport = str_has_prefix (spec, "git@") || str_has_prefix (spec, "git://")
                   || str_has_prefix (spec, "http://") || str_has_prefix (spec, "https://")
                   || str_has_prefix (spec, "ssh://");
  cleanup_free char *url = transport ? xstrdup (spec) : xasprintf ("https://%s", spec);
  cleanup_free char *fragment = NULL;
  char *hash = strchr (url, '#');
  if (hash)
    {
      *hash = '\0';
      fragment = str_has_prefix (url, "git@") ? xstrdup (hash + 1) : unescape (hash + 1);
    }
  r->remote = xstrdup (url);
  if (fragment)
    {
      char *colon = strchr (fragment, ':');
      if (colon)
        {
          *colon = '\0';
          if (colon[1])
            r->subdir = xstrdup (colon + 1);
        }
      if (fragment[0])
        r->ref = xstrdup (fragment);
    }
  if (r->ref && r->ref[0] == '-')
    return berr_setk (err, BERR_INVALID, 0, "invalid refspec: %s", r->ref);
  return 0;
}

static bool find_in_path (const char *prog)
{
  const char *path = getenv ("PATH");
  if (path == NULL || path[0] == '\0')
    path = "/usr/local/bin:/usr/bin:/bin";
  cleanup_free char *copy = xstrdup (path);
  char *save = NULL;
  for (char *d = strtok_r (copy, ":", &save); d; d = strtok_r (NULL, ":", &save))
    {
      cleanup_free char *p = xasprintf ("%s/%s", d, prog);
      if (access (p, X_OK) == 0)
        return true;
    }
  return false;
}

/* Run "git -C dir -c protocol.file.allow=never ARGS…"; *out gets stdout and stderr together
 * (bounded), *status the wait status. */
static int run_git (const char *dir, const char *const *args, char **out, int *status, berr_t *err)
{
  const char *argv[32];
  size_t n = 0;
  argv[n++] = "git";
  argv[n++] = "-C";
  argv[n++] = dir;
  argv[n++] = "-c";
  argv[n++] = "protocol.file.allow=never";
  for (size_t i = 0; args[i] && n < ARRAY_SIZE (argv) - 1; i++)
    argv[n++] = args[i];
  argv[n] = NULL;

  /* the environment is built before fork: the child only calls async-signal-safe functions */
  cleanup_strv char **env = NULL;
  for (char **e = environ; e && *e; e++)
    if (!str_has_prefix (*e, "GIT_TERMINAL_PROMPT="))
      strv_push (&env, *e);
  strv_push (&env, "GIT_TERMINAL_PROMPT=0");

  int pipefd[2];
  if (pipe2 (pipefd, O_CLOEXEC) < 0)
    return berr_set (err, errno, "pipe");
  cleanup_close int devnull = open ("/dev/null", O_RDONLY | O_CLOEXEC);
  if (devnull < 0)
    {
      close (pipefd[0]);
      close (pipefd[1]);
      return berr_set (err, errno, "open /dev/null");
    }
  pid_t pid = fork ();
  if (pid < 0)
    {
      close (pipefd[0]);
      close (pipefd[1]);
      return berr_set (err, errno, "fork");
    }
  if (pid == 0)
    {
      if (dup2 (devnull, 0) < 0 || dup2 (pipefd[1], 1) < 0 || dup2 (pipefd[1], 2) < 0)
        _exit (127);
      /* nothing of the caller's leaks into git, CLOEXEC or not */
      close_range (3, ~0U, 0);
      execvpe ("git", (char *const *)argv, env);
      static const char msg[] = "exec git failed\n";
      ssize_t w = write (2, msg, sizeof msg - 1);
      (void)w;
      _exit (127);
    }
  close (pipefd[1]);
  struct sbuf b;
  sbuf_init (&b);
  sbuf_adds (&b, "");
  char buf[4096];
  for (;;)
    {
      ssize_t r = read (pipefd[0], buf, sizeof buf);
      if (r < 0 && errno == EINTR)
        continue;
      if (r <= 0)
        break;
      if (b.len < 64 * 1024)
        sbuf_add (&b, buf, (size_t)r);
    }
  close (pipefd[0]);
  while (waitpid (pid, status, 0) < 0)
    if (errno != EINTR)
      {
        sbuf_release (&b);
        return berr_set (err, errno, "waitpid");
      }
  /* trailing newlines make poor message middles */
  while (b.len > 0 && (b.buf[b.len - 1] == '\n' || b.buf[b.len - 1] == ' '))
    b.buf[--b.len] = '\0';
  *out = sbuf_detach (&b);
  return 0;
}

static char *status_text (int status)
{
  if (WIFEXITED (status))
    return xasprintf ("exit status %d", WEXITSTATUS (status));
  return xasprintf ("signal %d", WTERMSIG (status));
}

/* 0: git succeeded; 1: it failed (*out holds what it said, *why the exit status); -1 error. */
static int git_try (const char *dir, const char *const *args, char **out, char **why, berr_t *err)
{
  int status = 0;
  if (run_git (dir, args, out, &status, err) < 0)
    return -1;
  log_debug ("build context: git %s: %d", args[0], status);
  if (WIFEXITED (status) && WEXITSTATUS (status) == 0)
    return 0;
  if (why)
    *why = status_text (status);
  return 1;
}

/* A commit id (abbreviated or full) cannot be fetched shallowly from every server: those are
 * fetched with the whole history. */
static bool looks_like_commit (const char *ref)
{
  size_t n = strlen (ref);
  return n >= 7 && n <= 40 && str_is_hex (ref, n);
}

/* A "smart" HTTP server answers the upload-pack advertisement; the dumb protocol cannot do
 * shallow fetches. */
static bool supports_shallow (const char *remote)
{
  if (!ctx_is_url (remote))
    return true;
  cleanup_free char *url = xasprintf ("%s/info/refs?service=git-upload-pack", remote);
  for (int head = 1; head >= 0; head--)
    {
      cleanup_berr berr_t e = BERR_INIT;
      cleanup_free char *ct = NULL;
      long status = 0;
      if (ctx_http_get (url, head, -1, 16 << 20, &status, NULL, &ct, &e) < 0 || status != 200)
        continue;
      return ct && strcmp (ct, "application/x-git-upload-pack-advertisement") == 0;
    }
  return false;
}

static void repo_release (struct git_repo *r)
{
  free (r->remote);
  free (r->ref);
  free (r->subdir);
}

static int fetch_and_checkout (const char *dir, struct git_repo *r, berr_t *err)
{
  cleanup_free char *out = NULL;
  cleanup_free char *why = NULL;
  const char *ref = r->ref ? r->ref : "HEAD";
  bool commit = r->ref && looks_like_commit (r->ref);
  bool shallow = supports_shallow (r->remote);
  int rc = 1;
  if (shallow && (!commit || strlen (ref) == 40))
    {
      const char *fetch[] = { "fetch", "--depth", "1", "origin", "--", ref, NULL };
      rc = git_try (dir, fetch, &out, &why, err);
    }
  else if (!commit)
    {
      const char *fetch[] = { "fetch", "origin", "--", ref, NULL };
      rc = git_try (dir, fetch, &out, &why, err);
    }
  if (rc < 0)
    return -1;
  if (rc == 1 && commit)
    {
      /* every branch and tag, then the commit is looked up among them */
      free (out);
      free (why);
      out = why = NULL;
      const char *fetch[] = { "fetch", "--tags", "origin", NULL };
      rc = git_try (dir, fetch, &out, &why, err);
      if (rc < 0)
        return -1;
    }
  if (rc == 1)
    return berr_set (err, 0, "error fetching: %s: %s", out, why);

  free (out);
  free (why);
  out = why = NULL;
  /* "--" makes ref a revision, never a path to restore */
  const char *co[] = { "checkout", "-q", r->ref ? r->ref : "FETCH_HEAD", "--", NULL };
  rc = git_try (dir, co, &out, &why, err);
  if (rc == 1 && r->ref)
    {
      cleanup_free char *out2 = NULL;
      const char *co2[] = { "checkout", "-q", "FETCH_HEAD", "--", NULL };
      rc = git_try (dir, co2, &out2, NULL, err);
    }
  if (rc < 0)
    return -1;
  if (rc == 1)
    return berr_set (err, 0, "error checking out %s: %s: %s", ref, out, why);

  cleanup_free char *gm = xasprintf ("%s/.gitmodules", dir);
  if (access (gm, F_OK) == 0)
    {
      free (out);
      free (why);
      out = why = NULL;
      const char *sub[] = { "submodule", "update", "--init", "--recursive", "--depth=1", NULL };
      rc = git_try (dir, sub, &out, &why, err);
      if (rc < 0)
        return -1;
      if (rc == 1)
        return berr_set (err, 0, "error initializing submodules: %s: %s", out, why);
    }
  return 0;
}

static int clone_into (const char *dir, struct git_repo *r, berr_t *err)
{
  cleanup_free char *out = NULL;
  cleanup_free char *why = NULL;
  if (mkdir (dir, 0700) < 0)
    return berr_set (err, errno, "mkdir %s", dir);
  const char *init[] = { "init", "-q", NULL };
  int rc = git_try (dir, init, &out, &why, err);
  if (rc < 0)
    return -1;
  if (rc == 1)
    return berr_set (err, 0, "failed to init repo at %s: %s: %s", dir, out, why);
  free (out);
  free (why);
  out = why = NULL;
  const char *remote[] = { "remote", "add", "origin", r->remote, NULL };
  rc = git_try (dir, remote, &out, &why, err);
  if (rc < 0)
    return -1;
  if (rc == 1)
    return berr_set (err, 0, "failed add origin repo at %s: %s: %s", r->remote, out, why);
  return fetch_and_checkout (dir, r, err);
}

/* The subdirectory is resolved inside the checkout: a symlink in the repository cannot make
 * the context a directory of the host. */
static int resolve_subdir (const char *dir, const char *subdir, char **ctxdir, berr_t *err)
{
  cleanup_close int root = open (dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (root < 0)
    return berr_set (err, errno, "open %s", dir);
  cleanup_close int fd = fs_open_in_root (root, subdir, O_PATH, 0);
  if (fd < 0)
    return berr_setk (err, BERR_NOT_FOUND, errno, "error setting git context, \"%s\"", subdir);
  struct stat st;
  if (fstat (fd, &st) < 0)
    return berr_set (err, errno, "stat %s", subdir);
  cleanup_free char *proc = xasprintf ("/proc/self/fd/%d", fd);
  char real[4096];
  ssize_t n = readlink (proc, real, sizeof real - 1);
  if (n < 0)
    return berr_set (err, errno, "readlink %s", proc);
  real[n] = '\0';
  if (!S_ISDIR (st.st_mode))
    return berr_setk (err, BERR_INVALID, 0, "error setting git context, not a directory: %s", real);
  *ctxdir = xstrdup (real);
  return 0;
}

int ctx_git_clone (const char *spec, const char *dir, char **ctxdir, berr_t *err)
{
  if (!find_in_path ("git"))
    return berr_setk (err, BERR_NOT_FOUND, 0,
                      "unable to find 'git': exec: \"git\": executable file not found in $PATH");
  struct git_repo r = { 0 };
  int ret = parse_remote (spec, &r, err);
  if (ret == 0 && clone_into (dir, &r, err) < 0)
    ret = berr_wrap (err, "unable to 'git clone' to temporary context directory");
  if (ret == 0)
    {
      if (r.subdir)
        ret = resolve_subdir (dir, r.subdir, ctxdir, err);
      else
        *ctxdir = xstrdup (dir);
    }
  repo_release (&r);
  return ret;
}
