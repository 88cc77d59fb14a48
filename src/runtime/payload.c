/* payload.c — the last step: find the program like execvp would inside the container, then
 * exec it through the trampoline.
 *
 * CVE-2019-5736: a container process must never be able to reach berth's own binary through
 * /proc/<pid>/exe (re-executing "#!/proc/self/exe" and then writing to it).  So the child never
 * execs the payload itself: it execs a tiny static trampoline held in a sealed memfd, which
 * execs the payload.  Whatever then names /proc/self/exe finds the sealed trampoline, which
 * nobody can write and which refuses to do anything but exec.  The trampoline reports a failed
 * execve on the sync socket (RT_SYNC_EXEC_ERRNO); EOF on that socket means the payload runs. */
#include "rt_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "util/fs.h"

#ifndef MFD_EXEC
#define MFD_EXEC 0x0010U
#endif
#ifndef F_SEAL_EXEC
#define F_SEAL_EXEC 0x0020
#endif

/* trampoline_blob.c, generated at build time from src/runtime/trampoline/trampoline.c */
extern const unsigned char rt_trampoline_blob[];
extern const unsigned int rt_trampoline_blob_len;

static pthread_mutex_t tramp_lock = PTHREAD_MUTEX_INITIALIZER;
static int tramp_fd = -1;

static int make_trampoline_fd (berr_t *err)
{
  /* MFD_EXEC: where vm.memfd_noexec makes memfds non-executable by default, ask for it. */
  int fd = memfd_create ("berth-trampoline", MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_EXEC);
  if (fd < 0 && errno == EINVAL)
    fd = memfd_create ("berth-trampoline", MFD_CLOEXEC | MFD_ALLOW_SEALING);
  fd = rt_fd_above_stdio (fd);
  if (fd < 0)
    return berr_set (err, errno, "memfd_create for the exec trampoline");
  if (fs_write_all (fd, rt_trampoline_blob, rt_trampoline_blob_len) < 0 || fchmod (fd, 0555) < 0)
    {
      berr_set (err, errno, "write the exec trampoline");
      close (fd);
      return -1;
    }
  (void)fcntl (fd, F_ADD_SEALS, F_SEAL_EXEC); /* kernels before 6.3 do not know it */
  if (fcntl (fd, F_ADD_SEALS, F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE) < 0)
    {
      berr_set (err, errno, "seal the exec trampoline");
      close (fd);
      return -1;
    }
  return fd;
}

int rt_trampoline_fd (berr_t *err)
{
  pthread_mutex_lock (&tramp_lock);
  if (tramp_fd < 0)
    tramp_fd = make_trampoline_fd (err);
  int fd = tramp_fd;
  pthread_mutex_unlock (&tramp_lock);
  return fd;
}

/* Go's (and so Docker's) spelling of an errno: "no such file or directory". */
static const char *go_strerror (int e, char *buf, size_t len)
{
  const char *s = strerrordesc_np (e);
  if (s == NULL)
    {
      snprintf (buf, len, "errno %d", e);
      return buf;
    }
  snprintf (buf, len, "%s", s);
  if (buf[0] >= 'A' && buf[0] <= 'Z')
    buf[0] = (char)(buf[0] - 'A' + 'a');
  return buf;
}

void rt_exec_errno_message (berr_t *err, const char *argv0, int errnum)
{
  char b[128];
  berr_setk (err, BERR_EXEC, 0, "exec: \"%s\": %s", argv0, go_strerror (errnum, b, sizeof b));
  err->errnum = errnum;
}

static bool is_executable (const char *path, int *e)
{
  struct stat st;
  if (stat (path, &st) < 0)
    {
      *e = errno;
      return false;
    }
  if (S_ISDIR (st.st_mode) || !(st.st_mode & 0111))
    {
      *e = EACCES;
      return false;
    }
  return true;
}

int rt_lookup_exec (struct rt_child *ch, char *out, size_t outlen)
{
  const char *file = ch->cfg->argv[0];
  char eb[128];
  int e = 0;
  if (strchr (file, '/'))
    {
      if (!is_executable (file, &e))
        {
          if (e == EACCES)
            return rt_child_failk (ch, BERR_EXEC, e, "exec: \"%s\": permission denied", file);
          return rt_child_failk (ch, BERR_EXEC, e, "exec: \"%s\": stat %s: %s", file, file,
                                 go_strerror (e, eb, sizeof eb));
        }
      if (strlen (file) >= outlen)
        return rt_child_failk (ch, BERR_EXEC, ENAMETOOLONG, "exec: \"%s\": file name too long",
                               file);
      strcpy (out, file);
      return 0;
    }
  /* Docker's default PATH when the image sets none */
  const char *path = ch->cfg->path_env
                         ? ch->cfg->path_env
                         : "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
  for (const char *p = path;;)
    {
      const char *colon = strchr (p, ':');
      size_t dlen = colon ? (size_t)(colon - p) : strlen (p);
      int n = dlen == 0 ? snprintf (out, outlen, "./%s", file)
                        : snprintf (out, outlen, "%.*s/%s", (int)dlen, p, file);
      if (n > 0 && (size_t)n < outlen && is_executable (out, &e))
        return 0;
      if (colon == NULL)
        break;
      p = colon + 1;
    }
  return rt_child_failk (ch, BERR_EXEC, ENOENT, "exec: \"%s\": executable file not found in $PATH",
                         file);
}

int rt_exec_payload (struct rt_child *ch, const char *path)
{
  const struct rt_cfg *c = ch->cfg;
  size_t argc = 0;
  while (c->argv[argc])
    argc++;
  /* trampoline argv: error fd, program path, then the payload's own argv */
  const char *targv[argc + 3];
  char fdbuf[16];
  snprintf (fdbuf, sizeof fdbuf, "%d", c->sync_fd);
  targv[0] = fdbuf;
  targv[1] = path;
  for (size_t i = 0; i <= argc; i++)
    targv[i + 2] = c->argv[i];
  /* The sync socket must survive this exec (the trampoline reports on it) but not the next. */
  if (fcntl (c->sync_fd, F_SETFD, 0) < 0)
    return rt_child_fail (ch, errno, "clear close-on-exec on the sync socket");
  rt_signals_reset ();
  syscall (SYS_execveat, c->tramp_fd, "", targv, c->envp, AT_EMPTY_PATH);
  int e = errno;
  (void)fcntl (c->sync_fd, F_SETFD, FD_CLOEXEC);
  return rt_child_fail (ch, e, "exec the trampoline");
}
