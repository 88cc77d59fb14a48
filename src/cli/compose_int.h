/* compose_int.h — helpers shared by compose_cmds.c and compose_run.c. All print their errors
 * and return an exit code (0 on success). */
#ifndef BERTH_COMPOSE_INT_H
#define BERTH_COMPOSE_INT_H

#include "cli/compose_cli.h"

/* Load the project; without a file (need_file false) -p / COMPOSE_PROJECT_NAME is enough and
 * *p stays NULL. *name receives the project's name. */
int ccmd_project (struct compose_cli *cc, bool need_file, struct compose_project **p, char **name);
const char *ccmd_label (const struct container_rec *c, const char *key);
/* com.docker.compose.container-number (0 when missing). */
int ccmd_number (const struct container_rec *c);
/* "no such service: x" for a name the project lacks (p NULL: no check). */
int ccmd_check_services (const struct compose_project *p, char **services);
/* The project from its file (*p), ccmd_check_services and compose_cli_ctx in one. */
int ccmd_load (struct compose_cli *cc, char **services, struct compose_ctx *c,
               struct compose_project **p);
/* ccmd_project (no file needed), ccmd_check_services and compose_cli_ctx in one: what the
 * commands that work on existing containers start with. */
int ccmd_open (struct compose_cli *cc, char **services, struct compose_ctx *c, char **project);
/* The project's containers of these services (NULL or empty: all), oneoff: with `run` ones. */
int ccmd_containers (struct compose_ctx *c, const char *project, char **services, bool oneoff,
                     struct container_rec ***out, size_t *n);
/* Build a service that has build: (tag compose_service_image and build.tags). */
int ccmd_build_service (struct compose_ctx *c, struct berth_ctx *ctx,
                        const struct compose_project *p, const struct compose_service *svc,
                        char **extra_args, bool no_cache, bool pull, bool quiet);
/* Registry access for pull/push (registry/pull.h, registry/push.h). */
int ccmd_pull_image (struct compose_ctx *c, struct berth_ctx *ctx, const char *image, bool quiet);
int ccmd_push_image (struct compose_ctx *c, struct berth_ctx *ctx, const char *image, bool quiet);
/* Whether fd 0 can be relayed (epoll refuses regular files and /dev/null): compose's -i is
 * on by default, and a stdin that cannot be watched is then simply not attached. */
bool ccmd_stdin_pollable (void);
/* compose run (compose_run.c). */
int ccmd_run (struct compose_cli *cc, int argc, char **argv);

#endif
