/* engine_int.h — helpers shared by the compose engine's files (convert, state, up, down). */
#ifndef BERTH_COMPOSE_ENGINE_INT_H
#define BERTH_COMPOSE_ENGINE_INT_H

#include "compose/engine.h"

/* The endpoint settings of a service on one network: Aliases [service, aliases…], IPAMConfig,
 * and (first network only) Links from links:. */
json_t *compose_endpoint_json (const struct compose_project *p, const struct compose_service *svc,
                               const struct compose_net_attach *na, bool first);
/* The networks a service joins after create (all but the first): {engine name: endpoint}. */
int compose_service_networks (const struct compose_project *p, const struct compose_service *svc,
                              json_t **extra);
char *compose_strv_join (char *const *v, const char *sep);
/* A container's compose label (NULL when absent). */
const char *compose_label (const struct container_rec *c, const char *key);
int compose_number (const struct container_rec *c);
void compose_event (struct compose_ctx *c, const char *resource, const char *name,
                    const char *status);
/* Stop containers in parallel: each gets its stop signal now, then all are waited for against
 * their own deadlines (timeout < 0: each container's StopTimeout, else 10 s), SIGKILL after. */
int compose_stop_parallel (struct compose_ctx *c, struct container_rec **cs, size_t n, int timeout,
                           bool events, berr_t *err);

/* The services to act on in start order: the named ones (with what they depend on when deps),
 * or all (services NULL). Caller frees the array. */
int compose_select (const struct compose_project *p, char **services, bool deps,
                    const struct compose_service ***out, size_t *n, berr_t *err);
/* The project's containers whose service is neither in the file nor disabled by a profile. */
int compose_orphans (struct compose_ctx *c, const struct compose_project *p,
                     struct container_rec ***out, size_t *n, berr_t *err);

#endif
