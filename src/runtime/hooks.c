/* hooks.c — OCI lifecycle hooks (config.json "hooks"): each one a program run with the
 * container's state JSON on its stdin, exactly its own argv and env (never the container's or
 * berth's environment: CVE-2025-23266 was a createContainer hook that inherited LD_PRELOAD from
 * the container), and an optional timeout after which it is killed.
 *
 * Every hook is started by rt_spawn's parent side, which may have threads: between fork and
 * exec the hook's process makes only syscalls.  The stages that belong in the container
 * (createContainer before pivot_root, startContainer before the payload's exec) are asked for
 * by the child over the sync socket; the hook process then joins the child's namespaces, so
 * its path resolves in the host's filesystem view for createContainer (the mount namespace is
 * not pivoted yet) and in the container's for startContainer.
 *
 * Where each stage runs: prestart, then createRuntime, in berth's namespaces once the child is
 * in its namespaces and cgroup (after the network prestart callback), before it mounts
 * anything; createContainer after all mounts and /dev, just before pivot_root; startContainer
 * after the masked/read-only paths, before the user, capabilities and seccomp are applied and
 * the payload is executed; poststart after rt_spawn saw the exec (failures are warnings);
 * poststop through rt_run_poststop_hooks.  Not exact: createContainer/startContainer hooks join
 * the ipc, uts, net and mount namespaces but not the pid, cgroup or user namespace, nor the
 * container's cgroup (for a rootless user namespace they would need the mapping). */
#include "rt_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "util/fs.h"
#include "util/json.h"
#include "util/log.h"

static const char *const stage_names[RT_HOOK_NSTAGES]
    = { "prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop" };

const char *rt_hook_stage_name (int stage)
{
  return stage >= 0 && stage < RT_HOOK_NSTAGES ? stage_names[stage] : "?";
}

static int invalid (berr_t *err, const char *fmt, ...) PRINTF_LIKE (2, 3);
static int invalid (berr_t *err, const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  char *m = xvasprintf (fmt, ap);
  va_end (ap);
  berr_setk (err, BERR_INVALID, 0, "%s", m);
  free (m);
  return -1;
}

/* A strv of pointers into the spec's strings (NULL-terminated; not the strings themselves). */
static int str_ptrs (json_t *arr, const char *ctx, char ***out, berr_t *err)
{
  *out = NULL;
  if (arr == NULL || json_is_null (arr))
    return 0;
  if (!json_is_array (arr))
    return invalid (err, "%s must be an array of strings", ctx);
  char **v = xcalloc (json_array_size (arr) + 1, sizeof *v);
  size_t i;
  json_t *s;
  json_array_foreach (arr, i, s)
  {
    if (!json_is_string (s))
      {
        free (v);
        return invalid (err, "%s[%zu] must be a string", ctx, i);
      }
    v[i] = (char *)json_string_value (s);
  }
  *out = v;
  return 0;
}

int rt_hooks_parse (const json_t *spec, struct rt_hooks *h, berr_t *err)
{
  memset (h, 0, sizeof *h);
  json_t *hooks = json_object_get (spec, "hooks");
  if (hooks == NULL || json_is_null (hooks))
    return 0;
  if (!json_is_object (hooks))
    return invalid (err, "hooks must be an object");
  const char *key;
  json_t *list;
  json_object_foreach (hooks, key, list)
  {
    int stage = 0;
    while (stage < RT_HOOK_NSTAGES && strcmp (stage_names[stage], key) != 0)
      stage++;
    if (stage == RT_HOOK_NSTAGES)
      return invalid (err, "hooks: unknown hook kind \"%s\"", key);
    if (!json_is_array (list))
      return invalid (err, "hooks.%s must be an array", key);
    h->n[stage] = json_array_size (list);
    h->h[stage] = xcalloc (h->n[stage] + 1, sizeof *h->h[stage]);
    size_t i;
    json_t *jh;
    json_array_foreach (list, i, jh)
    {
      struct rt_hook *o = &h->h[stage][i];
      char ctx[64];
      snprintf (ctx, sizeof ctx, "hooks.%s[%zu]", key, i);
      o->path = json_get_str (jh, "path");
      if (o->path == NULL || o->path[0] != '/')
        return invalid (err, "%s.path must be an absolute path", ctx);
      char sub[80];
      snprintf (sub, sizeof sub, "%s.args", ctx);
      if (str_ptrs (json_object_get (jh, "args"), sub, &o->argv, err) < 0)
        return -1;
      snprintf (sub, sizeof sub, "%s.env", ctx);
      if (str_ptrs (json_object_get (jh, "env"), sub, &o->envp, err) < 0)
        return -1;
      json_t *t = json_object_get (jh, "timeout");
      if (t && !json_is_null (t))
        {
          if (!json_is_integer (t) || json_integer_value (t) <= 0
              || json_integer_value (t) > INT32_MAX / 1000)
            return invalid (err, "%s.timeout must be a positive number of seconds", ctx);
          o->timeout = (int)json_integer_value (t);
        }
      /* no args: the path alone is argv[0], as runc and crun do */
      if (o->argv == NULL || o->argv[0] == NULL)
        {
          free (o->argv);
          o->argv = xcalloc (2, sizeof *o->argv);
          o->argv[0] = (char *)o->path;
        }
      if (o->envp == NULL)
        o->envp = xcalloc (1, sizeof *o->envp);
    }
  }
  return 0;
}

void rt_hooks_release (struct rt_hooks *h)
{
  for (int s = 0; s < RT_HOOK_NSTAGES; s++)
    {
      for (size_t i = 0; i < h->n[s]; i++)
        {
          free (h->h[s][i].argv);
          free (h->h[s][i].envp);
        }
      free (h->h[s]);
    }
  memset (h, 0, sizeof *h);
}

char *rt_hook_state (const json_t *spec, const char *id, const char *bundle, const char *status,
                     pid_t pid)
{
  const char *ver = json_get_str ((json_t *)spec, "ociVersion");
  json_t *st = json_pack ("{s:s, s:s, s:s}", "ociVersion", ver ? ver : "1.0.2", "id", id ? id : "",
                          "status", status);
  if (pid > 0)
    json_object_set_new (st, "pid", json_integer (pid));
  json_object_set_new (st, "bundle", json_string (bundle ? bundle : ""));
  /* not in the OCI state, but NVIDIA's hooks look for it before reading <bundle>/config.json */
  const char *root = json_get_str (json_object_get (spec, "root"), "path");
  if (root)
    json_object_set_new (st, "root", json_string (root));
  json_t *ann = json_object_get (spec, "annotations");
  if (json_is_object (ann) && json_object_size (ann) > 0)
    json_object_set (st, "annotations", ann);
  char *s = json_dump_compact (st);
  json_decref (st);
  return s;
}

static int64_t now_ms (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The hook's process, after fork: syscalls only. */
static void __attribute__ ((noreturn))
hook_child (const struct rt_hook *h, const int *nsfds, size_t nns, int in, int out, int errw)
{
  int e = 0;
  for (size_t i = 0; i < nns && e == 0; i++)
    if (setns (nsfds[i], 0) < 0)
      e = errno;
  if (e == 0 && (dup2 (in, 0) < 0 || dup2 (out, 1) < 0 || dup2 (out, 2) < 0))
    e = errno;
  if (e == 0)
    {
      /* CLOEXEC covers berth's own fds; this catches any a library left inheritable */
      syscall (SYS_close_range, 3, errw - 1, 0);
      syscall (SYS_close_range, errw + 1, ~0U, 0);
      rt_signals_reset ();
      execve (h->path, h->argv, h->envp);
      e = errno;
    }
  ssize_t w = write (errw, &e, sizeof e);
  (void)w;
  _exit (127);
}

static const char *const ns_files[] = { "ipc", "uts", "net", "mnt" }; /* mnt last: it moves / */

int rt_hook_run (const struct rt_hook *h, int stage, const char *state, pid_t ns_pid, berr_t *err)
{
  const char *sname = rt_hook_stage_name (stage);
  int nsfds[4];
  size_t nns = 0;
  int ret = -1;
  int inp[2] = { -1, -1 }, outp[2] = { -1, -1 }, errp[2] = { -1, -1 };
  pid_t pid = -1;
  int pidfd = -1;
  cleanup_sbuf struct sbuf output;
  sbuf_init (&output);
  if (ns_pid > 0)
    for (size_t i = 0; i < sizeof ns_files / sizeof *ns_files; i++)
      {
        char p[64];
        snprintf (p, sizeof p, "/proc/%d/ns/%s", (int)ns_pid, ns_files[i]);
        int fd = open (p, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
          {
            berr_set (err, errno, "%s hook %s: open %s", sname, h->path, p);
            goto out;
          }
        nsfds[nns++] = fd;
      }
  /* stdin is a socket: send (MSG_NOSIGNAL) to a hook that exits without reading gets EPIPE,
   * where a pipe would raise SIGPIPE in berth */
  if (socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, inp) < 0 || pipe2 (outp, O_CLOEXEC) < 0
      || pipe2 (errp, O_CLOEXEC) < 0)
    {
      berr_set (err, errno, "%s hook %s: pipe", sname, h->path);
      goto out;
    }
  sigset_t all, old;
  sigfillset (&all);
  pthread_sigmask (SIG_SETMASK, &all, &old);
  pid = fork ();
  if (pid == 0)
    hook_child (h, nsfds, nns, inp[0], outp[1], errp[1]);
  int fork_errno = errno;
  pthread_sigmask (SIG_SETMASK, &old, NULL);
  if (pid < 0)
    {
      berr_set (err, fork_errno, "%s hook %s: fork", sname, h->path);
      goto out;
    }
  close (steal_fd (&inp[0]));
  close (steal_fd (&outp[1]));
  close (steal_fd (&errp[1]));
  int exec_errno = 0;
  if (read (errp[0], &exec_errno, sizeof exec_errno) == (ssize_t)sizeof exec_errno)
    {
      while (waitpid (pid, NULL, 0) < 0 && errno == EINTR)
        ;
      pid = -1;
      berr_set (err, exec_errno, "%s hook %s", sname, h->path);
      goto out;
    }
  pidfd = (int)syscall (SYS_pidfd_open, pid, 0);
  /* a daemon the hook leaves behind may hold its stdout: never block on it */
  fcntl (outp[0], F_SETFL, O_NONBLOCK);
  size_t slen = strlen (state), sent = 0;
  int64_t deadline = h->timeout > 0 ? now_ms () + (int64_t)h->timeout * 1000 : -1;
  bool out_open = true, exited = false;
  int status = 0;
  while (!exited)
    {
      struct pollfd pf[3];
      nfds_t n = 0;
      int wait_ms = 100; /* without a pidfd (before 5.3), poll waitpid */
      if (pidfd >= 0)
        {
          pf[n++] = (struct pollfd){ .fd = pidfd, .events = POLLIN };
          wait_ms = -1;
        }
      if (out_open)
        pf[n++] = (struct pollfd){ .fd = outp[0], .events = POLLIN };
      if (inp[1] >= 0)
        pf[n++] = (struct pollfd){ .fd = inp[1], .events = POLLOUT };
      if (deadline >= 0)
        {
          int64_t left = deadline - now_ms ();
          if (left <= 0)
            {
              kill (pid, SIGKILL);
              while (waitpid (pid, NULL, 0) < 0 && errno == EINTR)
                ;
              pid = -1;
              berr_set (err, 0, "%s hook %s: timed out after %d s", sname, h->path, h->timeout);
              goto out;
            }
          if (wait_ms < 0 || left < wait_ms)
            wait_ms = (int)left;
        }
      if (poll (pf, n, wait_ms) < 0 && errno != EINTR)
        {
          berr_set (err, errno, "%s hook %s: poll", sname, h->path);
          goto out;
        }
      for (nfds_t i = 0; i < n; i++)
        {
          if (pf[i].fd == outp[0] && (pf[i].revents & (POLLIN | POLLHUP | POLLERR)))
            {
              char buf[4096];
              ssize_t r = read (outp[0], buf, sizeof buf);
              if (r > 0 && output.len < 65536)
                sbuf_add (&output, buf, (size_t)r);
              else if (r == 0 || (r < 0 && errno != EINTR && errno != EAGAIN))
                out_open = false;
            }
          else if (pf[i].fd == inp[1] && pf[i].revents)
            {
              ssize_t w = send (inp[1], state + sent, slen - sent, MSG_NOSIGNAL | MSG_DONTWAIT);
              if (w > 0)
                sent += (size_t)w;
              /* a hook that closes its stdin early has simply read all it wanted */
              if (sent == slen || (w < 0 && errno != EAGAIN && errno != EINTR))
                close (steal_fd (&inp[1]));
            }
        }
      if (slen == 0 && inp[1] >= 0)
        close (steal_fd (&inp[1]));
      pid_t w = waitpid (pid, &status, WNOHANG);
      if (w == pid)
        exited = true;
    }
  pid = -1;
  /* what the hook wrote before it exited is still in the pipe */
  for (;;)
    {
      char buf[4096];
      ssize_t r = read (outp[0], buf, sizeof buf);
      if (r <= 0)
        break;
      if (output.len < 65536)
        sbuf_add (&output, buf, (size_t)r);
    }
  while (output.len && (output.buf[output.len - 1] == '\n' || output.buf[output.len - 1] == ' '))
    output.buf[--output.len] = '\0';
  if (WIFEXITED (status) && WEXITSTATUS (status) == 0)
    ret = 0;
  else
    {
      const char *tail = output.len ? output.buf : "";
      if (output.len > 1024)
        tail = output.buf + output.len - 1024;
      if (WIFSIGNALED (status))
        berr_set (err, 0, "%s hook %s: killed by signal %d%s%s", sname, h->path, WTERMSIG (status),
                  *tail ? ": " : "", tail);
      else
        berr_set (err, 0, "%s hook %s: exit status %d%s%s", sname, h->path, WEXITSTATUS (status),
                  *tail ? ": " : "", tail);
    }
out:
  if (pid > 0)
    {
      kill (pid, SIGKILL);
      while (waitpid (pid, NULL, 0) < 0 && errno == EINTR)
        ;
    }
  for (size_t i = 0; i < nns; i++)
    close (nsfds[i]);
  for (int i = 0; i < 2; i++)
    {
      if (inp[i] >= 0)
        close (inp[i]);
      if (outp[i] >= 0)
        close (outp[i]);
      if (errp[i] >= 0)
        close (errp[i]);
    }
  if (pidfd >= 0)
    close (pidfd);
  return ret;
}

int rt_hooks_run (const struct rt_hooks *h, int stage, const char *state, pid_t ns_pid, berr_t *err)
{
  for (size_t i = 0; i < h->n[stage]; i++)
    if (rt_hook_run (&h->h[stage][i], stage, state, ns_pid, err) < 0)
      return -1;
  return 0;
}

int rt_child_hook (struct rt_child *ch, int stage)
{
  const struct rt_cfg *c = ch->cfg;
  /* This process holds a copy of the parent's end of the socket too, so the parent's death
   * would never show as EOF: die with it instead.  The parent's thread is inside rt_spawn,
   * waiting for us, for as long as this is set. */
  prctl (PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
  if (rt_sync_send (c->sync_fd, RT_SYNC_HOOK, 0, 0, stage, NULL, -1) < 0)
    return rt_child_fail (ch, errno, "write to the sync socket");
  struct rt_sync_msg go;
  ssize_t n;
  do
    n = recv (c->sync_fd, &go, sizeof go, 0);
  while (n < 0 && errno == EINTR);
  if (n != (ssize_t)sizeof go || go.type != RT_SYNC_GO)
    _exit (1); /* the hook failed: the parent reports it and reaps us */
  prctl (PR_SET_PDEATHSIG, 0, 0, 0, 0);
  return 0;
}

int rt_run_poststop_hooks (const json_t *spec, const char *id, const char *bundle, berr_t *err)
{
  struct rt_hooks h;
  if (rt_hooks_parse (spec, &h, err) < 0)
    {
      rt_hooks_release (&h);
      return -1;
    }
  int ret = 0;
  if (h.n[RT_HOOK_POSTSTOP])
    {
      cleanup_free char *state = rt_hook_state (spec, id, bundle, "stopped", 0);
      /* every poststop hook runs; the first failure is the one reported */
      for (size_t i = 0; i < h.n[RT_HOOK_POSTSTOP]; i++)
        {
          cleanup_berr berr_t e = BERR_INIT;
          if (rt_hook_run (&h.h[RT_HOOK_POSTSTOP][i], RT_HOOK_POSTSTOP, state, 0, &e) < 0)
            {
              if (ret == 0)
                berr_move (err, &e);
              ret = -1;
            }
        }
    }
  rt_hooks_release (&h);
  return ret;
}
