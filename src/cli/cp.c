/* cp.c — `berth cp` / `berth container cp`: copy files between a container and the local
 * filesystem, following docker/cli's cp.go: which side is the container, "-" for a tar on
 * stdin/stdout, -L, -a, -q, the destination rules, and its messages. The copying itself is
 * src/container/cp.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/fs.h"
#include "cli/cli.h"
#include "container/container.h"
#include "container/cp.h"
#include "util/units.h"

struct cp_args
{
  bool follow_link, archive, quiet;
  const char *container; /* as the user wrote it */
  const char *src, *dst;
};

/* docker/cli splitCpArg: "CONTAINER:PATH", unless the argument is an absolute local path or a
 * relative one starting with "." (so "./a:b" is a local file). */
static void split_arg (const char *arg, char **ctr, const char **path)
{
  *ctr = NULL;
  *path = arg;
  if (arg[0] == '/')
    return;
  const char *colon = strchr (arg, ':');
  if (colon == NULL || arg[0] == '.')
    return;
  *ctr = xstrndup (arg, (size_t)(colon - arg));
  *path = colon + 1;
}

/* Errors the daemon reports in Docker carry its prefix. */
static int daemon_error (berr_t *err)
{
  fprintf (stderr, "Error response from daemon: %s\n", err->msg ? err->msg : "error");
  berr_release (err);
  return 1;
}

static void print_copied (const struct cp_args *a, uint64_t bytes, const char *to)
{
  if (a->quiet)
    return;
  char buf[UNITS_BUFSZ];
  fprintf (stderr, "Successfully copied %s to %s\n",
           units_human_size_prec ((double)bytes, 3, buf, sizeof buf), to);
}

/* Docker's ValidateOutputPath for a local destination. */
static int validate_output_path (const char *path)
{
  cleanup_free char *clean = fs_path_clean (path);
  char *slash = strrchr (clean, '/');
  cleanup_free char *dir
      = slash ? (slash == clean ? xstrdup ("/") : xstrndup (clean, (size_t)(slash - clean)))
              : xstrdup (".");
  struct stat st;
  if (strcmp (dir, ".") != 0 && stat (dir, &st) < 0 && errno == ENOENT)
    return cli_errorf ("invalid output path: directory \"%s\" does not exist", dir);
  if (stat (path, &st) < 0)
    {
      if (errno == ENOENT)
        return 0;
      return cli_errorf ("stat %s: %s", path, strerror (errno));
    }
  if (S_ISDIR (st.st_mode) || S_ISREG (st.st_mode))
    return 0;
  return cli_errorf ("invalid output path: \"%s\" must be a directory or a regular file: %s", path,
                     S_ISCHR (st.st_mode) || S_ISBLK (st.st_mode) ? "got a device"
                                                                  : "got an irregular file");
}

/* A container path that does not exist, in Docker's words. */
static int not_found (const struct cp_args *a, const char *path, berr_t *err)
{
  if (err->kind == BERR_NOT_FOUND)
    {
      berr_release (err);
      fprintf (stderr, "Error response from daemon: Could not find the file %s in container %s\n",
               path, a->container);
      return 1;
    }
  return daemon_error (err);
}

static int copy_from_container (const struct cp_args *a, struct engine *e, struct container_rec *c)
{
  berr_t err = BERR_INIT;
  cleanup_free char *dst = NULL;
  bool to_stdout = strcmp (a->dst, "-") == 0;
  if (!to_stdout)
    {
      dst = cp_path_abs_local (a->dst);
      if (validate_output_path (dst) != 0)
        return 1;
    }
  struct cp_session s;
  if (cp_session_open (e, c, &s, &err) < 0)
    return daemon_error (&err);
  int rc = 0;
  struct cp_info si = { 0 }, di = { 0 };
  cleanup_free char *dst_dir = NULL, *top = NULL;
  if (cp_container_source_info (s.fs, a->src, a->follow_link, &si, &err) < 0)
    rc = not_found (a, si.path, &err);
  else if (to_stdout)
    {
      /* The raw archive, named as the daemon names it (no rename for -L, as Docker). */
      struct cp_sink sink = cp_sink_fd (STDOUT_FILENO);
      if (cp_fs_archive (s.fs, si.path, NULL, &sink, &err) < 0)
        rc = daemon_error (&err);
    }
  else if (cp_host_dest_info (dst, &di, &err) < 0
           || cp_prepare (&si, &di, &dst_dir, &top, &err) < 0)
    rc = cli_error (&err);
  else
    {
      struct cp_extract_opts o = { .copy_uid_gid = a->archive };
      struct cp_result res;
      if (cp_copy_out (s.fs, si.path, top, dst_dir, &o, &res, &err) < 0)
        rc = res.container_error ? daemon_error (&err) : cli_error (&err);
      else
        print_copied (a, res.tar_bytes, dst);
    }
  cp_info_release (&si);
  cp_info_release (&di);
  cp_session_close (e, &s);
  return rc;
}

static int copy_to_container (const struct cp_args *a, struct engine *e, struct container_rec *c)
{
  berr_t err = BERR_INIT;
  bool from_stdin = strcmp (a->src, "-") == 0;
  cleanup_free char *src = from_stdin ? NULL : cp_path_abs_local (a->src);
  struct cp_session s;
  if (cp_session_open (e, c, &s, &err) < 0)
    return daemon_error (&err);
  int rc = 0;
  struct cp_info di = { 0 }, si = { 0 };
  cleanup_free char *dst_dir = NULL, *top = NULL;
  struct cp_extract_opts o = { .copy_uid_gid = a->archive };
  struct cp_result res;
  if (cp_container_dest_info (s.fs, a->dst, &di, &err) < 0)
    {
      berr_wrap (&err, "destination \"%s:%s\" must be a directory or a regular file", a->container,
                 a->dst);
      rc = cli_error (&err);
    }
  else if (from_stdin)
    {
      if (!di.is_dir)
        rc = cli_errorf ("destination \"%s:%s\" must be a directory", a->container, a->dst);
      else if (cp_fs_extract (s.fs, di.path, STDIN_FILENO, &o, &err) < 0)
        rc = not_found (a, di.path, &err);
    }
  else if (cp_host_source_info (src, a->follow_link, &si, &err) < 0
           || cp_prepare (&si, &di, &dst_dir, &top, &err) < 0)
    rc = cli_error (&err);
  else if (cp_copy_in (si.path, top, s.fs, dst_dir, &o, &res, &err) < 0)
    rc = res.container_error ? not_found (a, dst_dir, &err) : cli_error (&err);
  else
    {
      cleanup_free char *to = xasprintf ("%s:%s", a->container, di.path);
      print_copied (a, res.tar_bytes, to);
    }
  cp_info_release (&si);
  cp_info_release (&di);
  cp_session_close (e, &s);
  return rc;
}

/* Was -q/--quiet given at all? Docker only prints its summary on a terminal unless told. */
static bool quiet_given (int argc, char **argv)
{
  for (int i = 1; i < argc; i++)
    {
      const char *a = argv[i];
      if (strcmp (a, "--") == 0)
        break;
      if (a[0] != '-' || a[1] == '\0')
        continue;
      if (a[1] == '-')
        {
          if (strcmp (a + 2, "quiet") == 0 || str_has_prefix (a + 2, "quiet="))
            return true;
        }
      else if (strchr (a + 1, 'q'))
        return true; /* every short flag of cp is a boolean: "-aq" */
    }
  return false;
}

int cmd_cp (int argc, char **argv, struct berth_ctx *ctx)
{
  struct cp_args a = { 0 };
  const struct opt opts[] = {
    { "archive", 'a', OPT_BOOL, &a.archive, NULL, "Archive mode (copy all uid/gid information)" },
    { "follow-link", 'L', OPT_BOOL, &a.follow_link, NULL, "Always follow symbol link in SRC_PATH" },
    { "quiet", 'q', OPT_BOOL, &a.quiet, NULL,
      "Suppress progress output during copy. Progress output is automatically suppressed if no "
      "terminal is attached" },
    { NULL, 0, 0, NULL, NULL, NULL },
  };
  const struct cmd_spec spec = { "cp [OPTIONS] CONTAINER:SRC_PATH DEST_PATH|-\n"
                                 "\tberth cp [OPTIONS] SRC_PATH|- CONTAINER:DEST_PATH",
                                 "Copy files/folders between a container and the local filesystem",
                                 "berth container cp, berth cp",
                                 opts,
                                 2,
                                 2,
                                 NULL };
  cleanup_free char **args = NULL;
  int r = opts_parse (&spec, ctx->cmdpath, argc, argv, &args);
  if (r)
    return r < 0 ? 0 : r;
  if (args[0][0] == '\0')
    return cli_errorf ("source can not be empty");
  if (args[1][0] == '\0')
    return cli_errorf ("destination can not be empty");
  if (!quiet_given (argc, argv))
    a.quiet = !isatty (STDOUT_FILENO);

  cleanup_free char *src_ctr = NULL, *dst_ctr = NULL;
  split_arg (args[0], &src_ctr, &a.src);
  split_arg (args[1], &dst_ctr, &a.dst);
  if (src_ctr && dst_ctr)
    return cli_errorf ("copying between containers is not supported");
  if (!src_ctr && !dst_ctr)
    return cli_errorf ("must specify at least one container source");
  a.container = src_ctr ? src_ctr : dst_ctr;

  struct engine *e;
  if (ctx_engine (ctx, &e) < 0)
    return 1;
  berr_t err = BERR_INIT;
  struct container_rec *c = NULL;
  if (container_get (e, a.container, &c, &err) < 0)
    return daemon_error (&err);
  int rc = src_ctr ? copy_from_container (&a, e, c) : copy_to_container (&a, e, c);
  container_rec_free (c);
  return rc;
}
