/* model_int.h — between the loader's stages. */
#ifndef BERTH_COMPOSE_MODEL_INT_H
#define BERTH_COMPOSE_MODEL_INT_H

#include "compose/compose.h"

/* Whole-project steps on the merged, normalised tree: env_file, profiles, default network,
 * resource names, cross-service checks, canonical key order.  The options' skip_consistency
 * and skip_normalization are honoured here. */
int compose_finalize (struct compose_project *p, struct cnode *tree, const struct cnode *env,
                      const struct compose_options *o, berr_t *err);
/* Every service key of the Compose Specification, in `docker compose config`'s order
 * (normalize.c: the keys a service may have; finalize.c: the order they are printed in). */
extern const char *const compose_service_keys[];
/* The typed structs from p->tree. */
int compose_build_model (struct compose_project *p, berr_t *err);

#endif
