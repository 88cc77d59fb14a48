/* runmount.h — RUN --mount (BuildKit's syntax) and build secrets.
 *
 * --mount=type=bind|cache|tmpfs|secret[,k=v…] (type defaults to bind):
 *   bind:   target|dst|destination, source|src (default the root of from), from (a stage name
 *           or index, or an image; default the build context), rw|readwrite (writes are
 *           discarded after the step), readonly|ro.
 *   cache:  target, id (default the target), sharing=shared|private|locked, from + source (seed
 *           from a stage), mode (0755), uid, gid (0), ro. Persists across builds under
 *           <root>/build/cache/<hash of id>/ ; CVE-2024-23651: source subpaths resolved inside
 *           the cache directory.
 *   tmpfs:  target, size.
 *   secret: id (default the target's basename), target|dst (default /run/secrets/<id>),
 *           required, mode (0400), uid, gid (0), env (expose as an environment variable instead).
 * Secrets come from `build --secret id=X,src=FILE` (or env=VAR, or type=file|env); their values
 * never go into a layer, the image config or the history. */
#ifndef BERTH_BUILD_RUNMOUNT_H
#define BERTH_BUILD_RUNMOUNT_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "util/err.h"

enum run_mount_type
{
  RUN_MOUNT_BIND,
  RUN_MOUNT_CACHE,
  RUN_MOUNT_TMPFS,
  RUN_MOUNT_SECRET,
};

struct run_mount
{
  enum run_mount_type type;
  char *target;  /* absolute after run_mount_parse (relative ones joined to the workdir) */
  char *source;  /* bind/cache: subpath inside from / the cache, or NULL */
  char *from;    /* bind/cache: stage name/index or image, NULL = context (bind) / none (cache) */
  char *id;      /* cache, secret */
  char *sharing; /* cache: "shared" (default), "private", "locked" */
  char *env;     /* secret: environment variable name, or NULL */
  bool readonly; /* bind defaults to true, cache false */
  bool required; /* secret */
  int mode;      /* -1: default */
  int64_t uid, gid; /* -1: default */
  int64_t size;     /* tmpfs bytes, 0: default */
};
void run_mount_clear (struct run_mount *m);

/* Parse one --mount value; workdir makes relative targets absolute. Errors name the key
 * ("unexpected key 'foo' in 'foo=bar'", "invalid mount type \"x\""). */
int run_mount_parse (const char *value, const char *workdir, struct run_mount *out, berr_t *err);

struct build_secret
{
  char *id;
  char *src; /* file path, or NULL */
  char *env; /* environment variable of the build command, or NULL */
};
void build_secrets_free (struct build_secret *v, size_t n);
/* Parse one `--secret` value: "id=x,src=path", "id=x,source=path", "id=x,env=VAR",
 * "type=file|env,…"; "id=x" alone reads env x when set, else file x. */
int build_secret_parse (const char *value, struct build_secret *out, berr_t *err);

/* Resolves a bind/cache `from=` to a directory on the host holding that stage's or image's
 * root filesystem (read-only), or NULL with err set. */
typedef char *(*run_mount_from_fn) (void *arg, const char *from, berr_t *err);

struct run_mounts_env
{
  const char *cache_root;  /* <root>/build/cache */
  const char *context_dir; /* the build context */
  const char *tmpdir;      /* private scratch directory for this step (secrets, rw binds) */
  const struct build_secret *secrets;
  size_t n_secrets;
  run_mount_from_fn from_fn;
  void *from_arg;
};

struct run_mounts;

/* Prepare the mounts of one RUN: *mounts receives the entries for the container's
 * HostConfig.Mounts (Docker's inspect form: {"Type":"bind"|"tmpfs","Source","Destination",
 * "RW","Options":[…]}), *env the secret env entries ("K=V") to add to the RUN's environment
 * (never to the image). A missing required secret: "secret X: not found". Locked caches are
 * held until run_mounts_release. */
int run_mounts_prepare (const struct run_mounts_env *env, const struct run_mount *m, size_t n,
                        json_t **mounts, char ***secret_env, struct run_mounts **out, berr_t *err);
/* After the step: unlock caches, drop secret files and rw-bind scratch copies. */
void run_mounts_release (struct run_mounts *rm);

#endif
