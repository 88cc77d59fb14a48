/* spec.h — the short syntaxes of ports and volumes, as compose-go reads them. */
#ifndef BERTH_COMPOSE_SPEC_H
#define BERTH_COMPOSE_SPEC_H

#include "compose/node.h"

/* "[[ip:]host[-end]:]container[-end][/proto]" to a CN_SEQ of long-syntax port maps
 * {mode, host_ip, target, published, protocol}; a range of equal lengths on both sides gives one
 * entry per port, a host range against one container port stays one entry. */
int compose_parse_port (const char *spec, struct cnode **out, berr_t *err);

/* "[source:]target[:options]" to a long-syntax volume map {type, source, target, read_only,
 * bind{create_host_path, propagation, selinux}, volume{nocopy}}. */
int compose_parse_volume (const char *spec, struct cnode **out, berr_t *err);

/* The short form of a long-syntax volume ("/src:/target:rw,z,shared"); caller frees. */
char *compose_volume_string (const struct cnode *vol);

#endif
