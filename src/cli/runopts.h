/* runopts.h — `berth run` / `berth create` flags → Docker's container-create request, as the
 * docker CLI builds it (docker/cli cli/command/container/opts.go parse(), run.go, create.go).
 *
 * The body uses the Engine API's field names and value conventions (Config, HostConfig,
 * NetworkingConfig), with the keys and zero values docker 28 sends, so `inspect` can show it as
 * Docker does. Map-valued fields (Labels, ExposedPorts, PortBindings, Tmpfs …) have their keys
 * sorted, as Go's encoding/json writes maps. */
#ifndef BERTH_RUNOPTS_H
#define BERTH_RUNOPTS_H

#include <jansson.h>
#include <stdbool.h>

#include "util/err.h"

struct run_request
{
  /* {"Name": "...", "Config": {...}, "HostConfig": {...}, "NetworkingConfig": {...}} */
  json_t *body;
  bool detach;       /* -d (run only) */
  bool sig_proxy;    /* --sig-proxy, default true (run only) */
  char *detach_keys; /* --detach-keys or NULL; already checked with runopts_detach_keys */
  char *cidfile;     /* --cidfile or NULL (also in HostConfig.ContainerIDFile) */
  char *pull;        /* missing|always|never */
  char *platform;    /* --platform, default $DOCKER_DEFAULT_PLATFORM, or NULL */
  bool quiet;        /* -q */
  bool rm;           /* --rm (also HostConfig.AutoRemove) */
  bool interactive;  /* -i */
  bool tty;          /* -t */
  char **args;       /* IMAGE [COMMAND [ARG...]], NULL-terminated, strings owned */
};
void run_request_release (struct run_request *r);

/* Parse argv (argv[0] = the verb). is_run adds run's own flags (-d, --sig-proxy, --detach-keys)
 * and applies -d as docker run does (no attach, StdinOnce false). Flags end at the first
 * positional argument (the image). Returns 0 to go on, -1 when help was printed (exit 0), or an
 * exit code after printing Docker's message: 125 for flag and option errors, 1 for the checks
 * docker makes after parsing ("conflicting options: cannot specify both --attach and
 * --detach", an invalid --detach-keys).
 *
 * Beyond the CLI's own checks it applies runopts_verify (the checks dockerd makes on create),
 * printing those as "berth: <msg>" + the help hint, exit 125.
 *
 * Without --network, HostConfig.NetworkMode is "default" (the engine makes it "bridge"), as
 * docker's CLI sends it. */
int runopts_parse (int argc, char **argv, const char *cmdpath, bool is_run,
                   struct run_request *out);

/* The checks dockerd makes on a create request that need no daemon state (moby
 * verifyContainerSettings / verifyPlatformContainerResources and friends): memory minimums and
 * swap, NanoCpus against CpuPeriod/CpuQuota and the host's CPU count, CFS period/quota ranges,
 * blkio weight, IPC/PID/UTS modes, ShmSize, OomScoreAdj range, restart policy, hostname length,
 * security options, --storage-opt (not supported: berth's overlay has no quota). Messages are
 * the daemon's. */
int runopts_verify (json_t *body, berr_t *err);

/* --detach-keys "ctrl-p,ctrl-q" → bytes (moby/term ToBytes). Returns the count, or -1 with
 * "Unknown character: 'x'". out must hold strlen(keys) bytes. */
int runopts_detach_keys (const char *keys, unsigned char *out, berr_t *err);

#endif
