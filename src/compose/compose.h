/* compose.h — the Compose project model.
 *
 * Loading a project: discovery of the files, .env, interpolation, per-file syntax checks and
 * normalisation (short forms to long ones), merging in -f order, then the checks that need the
 * whole project (dependency cycles, undefined services, networks and volumes, a host port
 * published twice) and profiles.  Everything is found before anything is created.
 *
 * The result has two faces: `tree`, the normalised document (what `compose config` prints, key
 * names and shapes as the Compose Specification writes them, x- extensions kept), and the typed
 * structs below, which the reconciler walks. */
#ifndef BERTH_COMPOSE_H
#define BERTH_COMPOSE_H

#include <stdbool.h>
#include <stdint.h>

#include "compose/node.h"
#include "util/err.h"

#define COMPOSE_VERSION "2.29.0-berth"

struct compose_options
{
  char **files;             /* -f, in order; NULL: COMPOSE_FILE, else discovery */
  const char *project_name; /* -p */
  const char *project_dir;  /* --project-directory */
  char **env_files;         /* --env-file; NULL: <project dir>/.env when present */
  char **profiles;          /* --profile; NULL: COMPOSE_PROFILES */
  char **environ;           /* the process environment ("K=V"); NULL: environ */
  const char *cwd;          /* where relative -f paths start; NULL: getcwd */
  bool skip_consistency;    /* no cross-service reference/port checks (compose-go's option of
                               the same name, for its test corpus) */
  bool skip_normalization;  /* compose-go's SkipNormalization, for its test corpus: no implicit
                               default network and no name: on top-level networks and volumes.
                               The CLI never sets it; the engine needs the names. */
};

struct compose_port
{
  char *host_ip; /* NULL: all addresses */
  uint32_t target;
  char *published; /* "8080", "8080-8090" or NULL (an ephemeral port) */
  char *protocol;  /* tcp, udp, sctp */
  char *mode;      /* ingress, host */
};

struct compose_mount
{
  char *type; /* bind, volume, tmpfs, npipe, cluster, image */
  char *source;
  char *target;
  bool read_only;
  bool create_host_path;
  char *propagation;
  char *selinux;
  bool nocopy;
  int64_t tmpfs_size; /* bytes, 0: unset */
  uint32_t tmpfs_mode;
};

struct compose_net_attach
{
  char *network; /* the project's key in networks: */
  char **aliases;
  char *ipv4_address;
  char *ipv6_address;
  int priority;
};

enum compose_dep_condition
{
  COMPOSE_DEP_STARTED,
  COMPOSE_DEP_HEALTHY,
  COMPOSE_DEP_COMPLETED,
};

struct compose_dep
{
  char *service;
  enum compose_dep_condition condition;
  bool required;
  bool restart;
};

struct compose_healthcheck
{
  bool set;
  bool disable;
  char **test; /* ["CMD", …], ["CMD-SHELL", "…"] or ["NONE"] */
  int64_t interval_ns, timeout_ns, start_period_ns, start_interval_ns;
  int retries; /* -1: unset */
};

struct compose_ulimit
{
  char *name;
  int64_t soft, hard;
};

struct compose_device_request
{
  char *driver;
  int64_t count; /* -1: all */
  char **device_ids;
  char **capabilities;
};

struct compose_build
{
  char *context; /* absolute path or URL */
  char *dockerfile;
  char *dockerfile_inline;
  char *target;
  char **args;   /* "K=V" */
  char **labels; /* "K=V" */
  char **tags;
  char *network;
};

struct compose_file_ref /* configs: and secrets: of a service */
{
  char *source;
  char *target;
  char *uid, *gid;
  uint32_t mode; /* 0: default */
};

struct compose_service
{
  char *name;
  struct cnode *node; /* borrowed: the normalised service in project->tree */
  char *image;
  struct compose_build *build; /* NULL: no build */
  char **command;              /* NULL: the image's; set but empty: [] */
  bool command_set;
  char **entrypoint;
  bool entrypoint_set;
  char **environment; /* "K=V"; "K" alone: no value (left unset in the container) */
  char **labels;      /* "K=V" */
  struct compose_port *ports;
  size_t nports;
  char **expose;
  struct compose_mount *mounts;
  size_t nmounts;
  struct compose_net_attach *networks;
  size_t nnetworks;
  char *network_mode;
  struct compose_dep *depends_on;
  size_t ndepends;
  char **links; /* "service[:alias]" */
  struct compose_healthcheck healthcheck;
  char *restart;
  char *working_dir, *user, *hostname, *domainname, *container_name;
  int64_t shm_size; /* bytes, 0: unset */
  char *ipc, *pid;
  bool tty, stdin_open, privileged, read_only;
  int init; /* -1 unset, 0 false, 1 true */
  struct compose_ulimit *ulimits;
  size_t nulimits;
  char **cap_add, **cap_drop;
  char **devices; /* "host[:container[:perms]]" */
  char **dns, **dns_search, **dns_opt;
  char **extra_hosts; /* "host=ip" */
  char **security_opt;
  char **tmpfs;
  char **sysctls; /* "k=v" */
  char *stop_signal;
  int64_t stop_grace_period_ns; /* -1: unset */
  char **profiles;
  int64_t replicas; /* scale / deploy.replicas; default 1 */
  double cpus_limit;
  int64_t memory_limit, memory_reservation;
  int64_t pids_limit;
  struct compose_device_request *device_requests; /* deploy.resources.reservations.devices */
  size_t ndevice_requests;
  struct compose_file_ref *configs, *secrets;
  size_t nconfigs, nsecrets;
  char *platform, *pull_policy;
};

struct compose_resource /* a top-level network, volume, config or secret */
{
  char *key;  /* the key in the file */
  char *name; /* the engine's name: name:, or <project>_<key> (external: the key) */
  bool external;
  char *driver;
  char **driver_opts; /* "k=v" */
  char **labels;      /* "k=v" */
  bool internal;      /* networks */
  bool enable_ipv6;
  char **subnets, **gateways, **ip_ranges; /* networks: ipam.config */
  char *file;                              /* configs/secrets: absolute path */
  char *environment;                       /* configs/secrets: from this variable */
  char *content;                           /* configs: inline */
};

struct compose_project
{
  char *name;
  char *working_dir;
  char **config_files;              /* absolute paths, in -f order */
  char **profiles;                  /* the active ones */
  char **environment;               /* what interpolation saw: process env over .env, "K=V" */
  struct cnode *tree;               /* the normalised document */
  struct compose_service *services; /* sorted by name; inactive profiles dropped */
  size_t nservices;
  struct compose_resource *networks, *volumes, *configs, *secrets;
  size_t nnetworks, nvolumes, nconfigs, nsecrets;
  char **disabled_services; /* in the file but not in an active profile */
  char **defined_profiles;  /* every profile a service names, sorted */
};

int compose_project_load (const struct compose_options *opts, struct compose_project **out,
                          berr_t *err);
void compose_project_free (struct compose_project *p);

/* Lowercase, only [a-z0-9_-], starting with a letter or digit ("" if nothing is left). */
char *compose_normalize_project_name (const char *s);
/* "-p"/name: validity as compose checks it. */
bool compose_project_name_valid (const char *s);

const struct compose_service *compose_service_find (const struct compose_project *p,
                                                    const char *name);
/* Services in start order (dependencies first); caller frees the array, not the services. */
int compose_start_order (const struct compose_project *p, const struct compose_service ***out,
                         berr_t *err);

/* Lower layers, exposed for tests and the fuzzer. */
struct compose_loadctx;
/* One parsed file: syntax checks and normalisation in place (paths resolved against
 * working_dir, env_file read with lookup). */
int compose_normalize_file (struct cnode *doc, const char *working_dir, const struct cnode *env,
                            berr_t *err);
/* Merge src into dst in place (dst and src normalised), Compose's rules. */
void compose_merge (struct cnode *dst, const struct cnode *src);
/* Split a command string like a POSIX shell would (quotes, backslashes), no expansion. */
int compose_shell_split (const char *s, char ***out, berr_t *err);

#endif
