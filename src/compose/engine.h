/* engine.h — running a Compose project on berth's engine (Docker Compose v2 semantics).
 *
 * Containers are named <project>-<service>-<n> (one-off `run` containers
 * <project>-<service>-run-<12hex>) unless container_name is set, and carry the labels below, so
 * a project is found from its containers alone (down, ps, logs work without the file when -p is
 * given). Networks are <project>_<key> (the default one <project>_default), volumes
 * <project>_<key>, both labelled com.docker.compose.project/.network/.volume; named volumes
 * survive down unless -v. The config hash is sha256 of the service's normalised model (its
 * node in project->tree as canonical JSON) plus the image ID it resolved to: up recreates a
 * container only when that hash changed (or --force-recreate), leaves the rest running.
 * Start in dependency order (compose_start_order), waiting for service_healthy /
 * service_completed_successfully conditions; stop in reverse order; stop timeouts run in
 * parallel, not one after another.
 *
 * Nothing here prints: progress goes through compose_ctx.event as compose v2's lines
 * ("Network demo_default  Created", "Container demo-web-1  Started"). */
#ifndef BERTH_COMPOSE_ENGINE_H
#define BERTH_COMPOSE_ENGINE_H

#include <jansson.h>

#include "compose/compose.h"
#include "container/container.h"
#include "registry/registry.h"
#include "util/digest.h"

#define COMPOSE_LABEL_PROJECT "com.docker.compose.project"
#define COMPOSE_LABEL_SERVICE "com.docker.compose.service"
#define COMPOSE_LABEL_NUMBER "com.docker.compose.container-number"
#define COMPOSE_LABEL_HASH "com.docker.compose.config-hash"
#define COMPOSE_LABEL_ONEOFF "com.docker.compose.oneoff"
#define COMPOSE_LABEL_WORKDIR "com.docker.compose.project.working_dir"
#define COMPOSE_LABEL_FILES "com.docker.compose.project.config_files"
#define COMPOSE_LABEL_VERSION "com.docker.compose.version"
#define COMPOSE_LABEL_NETWORK "com.docker.compose.network"
#define COMPOSE_LABEL_VOLUME "com.docker.compose.volume"
#define COMPOSE_LABEL_DEPENDS "com.docker.compose.depends_on"
#define COMPOSE_LABEL_IMAGE "com.docker.compose.image"

/* resource: "Network", "Volume", "Container", "Image"; status: "Creating", "Created",
 * "Starting", "Started", "Stopping", "Stopped", "Removing", "Removed", "Recreate",
 * "Recreated", "Running", "Waiting", "Healthy", "Exited", "Pulling", "Pulled", "Building",
 * "Built", "Error" … as compose v2 prints them. */
typedef void (*compose_event_fn) (void *cookie, const char *resource, const char *name,
                                  const char *status);

struct compose_ctx
{
  struct engine *e;
  struct store *s;
  const struct reg_config *reg; /* for pulls (NULL: no registry access) */
  const json_t *config;         /* berth's config file */
  compose_event_fn event;
  void *cookie;
};

/* ---- the project's containers ---- */
/* The containers of a project (by label), sorted by service then number; service NULL = every
 * service; oneoff: also (only when only_oneoff) the `run` containers; stopped ones included. */
int compose_containers (struct compose_ctx *c, const char *project, const char *service,
                        bool oneoff, bool only_oneoff, struct container_rec ***out, size_t *n,
                        berr_t *err);
/* Projects that have containers: [{Name, Status ("running(2)", "exited(1)"…), ConfigFiles}]
 * sorted by name (compose ls). all: also projects with only stopped containers. */
int compose_projects (struct compose_ctx *c, bool all, json_t **out, berr_t *err);

/* The Engine-API create body for one container of a service: image (or the built image's
 * name: <project>-<service> when build: and no image:), command, env, ports, mounts
 * (binds, named volumes as <project>_<key>, tmpfs), networks with aliases (the service name,
 * its aliases, the container name) and ipv4_address, links, healthcheck, restart policy,
 * resources, GPU device requests (gpu_request code), ulimits, caps … and the labels above.
 * hash receives the config hash (needs the image resolved: image_id). number: 1-based;
 * oneoff: a `run` container (then name is the generated one). */
int compose_service_body (struct compose_ctx *c, const struct compose_project *p,
                          const struct compose_service *svc, int number, bool oneoff,
                          const char *image_id, json_t **body, char hash[DIGEST_STR_LEN],
                          berr_t *err);
/* The service's image reference as it will be looked up (image:, else <project>-<service>). */
char *compose_service_image (const struct compose_project *p, const struct compose_service *svc);

/* ---- lifecycle ---- */
/* Networks and volumes of the project exist (external ones checked: "network X declared as
 * external, but could not be found"). */
int compose_ensure_resources (struct compose_ctx *c, const struct compose_project *p, berr_t *err);

enum compose_recreate
{
  COMPOSE_RECREATE_DIVERGED, /* default: only when the config hash changed */
  COMPOSE_RECREATE_FORCE,
  COMPOSE_RECREATE_NEVER,
};
struct compose_up_opts
{
  char **services; /* NULL: all (plus what they depend on) */
  bool no_deps;
  enum compose_recreate recreate;
  bool no_start;       /* create only */
  bool remove_orphans; /* containers of services no longer in the file */
  char **scale;        /* "svc=N" */
  const char *pull;    /* "missing" (default), "always", "never" */
  bool build;          /* --build: build images that have build: */
  bool no_build;
  bool wait;                       /* --wait: until running/healthy */
  int timeout;                     /* -t for recreates' stops; -1 default */
  bool detach;                     /* false: the CLI attaches to logs after start */
  struct container_rec ***started; /* out (may be NULL): the containers of the services */
  size_t *nstarted;
};
/* Create/recreate/start the project. Images are pulled (registry/pull.h) or built
 * (build/build.h) when missing, before anything is created; any error found before creation
 * leaves nothing created. */
int compose_up (struct compose_ctx *c, const struct compose_project *p,
                const struct compose_up_opts *o, berr_t *err);

struct compose_down_opts
{
  bool volumes;    /* -v: named volumes of the project and anonymous ones */
  const char *rmi; /* NULL, "local", "all" */
  bool remove_orphans;
  int timeout; /* -1: each container's own */
};
/* p may be NULL (no file: what the labels say). Stops in reverse dependency order, in
 * parallel within a level, removes containers, networks (not external), volumes with -v. */
int compose_down (struct compose_ctx *c, const char *project, const struct compose_project *p,
                  const struct compose_down_opts *o, berr_t *err);

enum compose_action
{
  COMPOSE_START,
  COMPOSE_STOP,
  COMPOSE_RESTART,
  COMPOSE_KILL,
  COMPOSE_PAUSE,
  COMPOSE_UNPAUSE,
  COMPOSE_RM, /* stopped containers only unless force; rm_volumes: -v */
};
struct compose_action_opts
{
  char **services; /* NULL: all */
  int timeout;     /* stop/restart; -1 default */
  int signal;      /* kill; 0 = SIGKILL */
  bool force, rm_volumes, stop_first;
};
int compose_act (struct compose_ctx *c, const char *project, const struct compose_project *p,
                 enum compose_action a, const struct compose_action_opts *o, berr_t *err);

#endif
