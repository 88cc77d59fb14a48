/* network.h — networks as Docker has them: the predefined "bridge", "host" and "none", and
 * user-defined bridge networks, each a row in the store plus (for bridges) a Linux bridge and
 * rules in berth's nftables table.  The bridges are realized lazily: a network exists in the
 * store from `network create`, and its bridge is (re)made whenever something needs it (create,
 * a container start), so a reboot or a removed link heals itself. */
#ifndef BERTH_NET_NETWORK_H
#define BERTH_NET_NETWORK_H

#include <jansson.h>
#include <stdbool.h>

#include "container/container.h"
#include "store/store.h"

struct network_create_opts
{
  const char *name;
  const char *driver;   /* NULL or "bridge"; anything else: Docker's "plugin \"X\" not found" */
  const char *subnet;   /* NULL: picked from the pool */
  const char *gateway;  /* NULL: first address of the subnet */
  const char *ip_range; /* NULL: the whole subnet */
  bool internal;
  bool attachable; /* accepted, recorded */
  json_t *labels;  /* object or NULL */
  json_t *options; /* object or NULL (-o); com.docker.network.bridge.name names the bridge,
                      com.docker.network.driver.mtu sets the MTU */
};

/* Make sure the predefined networks exist in the store (ids are random, made once). */
int network_ensure_defaults (struct engine *e, berr_t *err);
int network_create (struct engine *e, const struct network_create_opts *o, struct network_row **out,
                    berr_t *err);
/* Look up by name, full id or unique id prefix (Docker's order); defaults ensured first.
 * BERR_NOT_FOUND: "network NAME not found". */
int network_get (struct engine *e, const char *name, struct network_row **out, berr_t *err);
/* Docker refuses: predefined ("bridge is a pre-defined network and cannot be removed"), active
 * endpoints ("error while removing network: network NAME id ID has active endpoints"). Deletes
 * the bridge and the network's rules. */
int network_remove (struct engine *e, const char *name, berr_t *err);
/* Docker's `network inspect` object for one network (Containers lists running endpoints). */
json_t *network_inspect_json (struct engine *e, const struct network_row *n);
/* Remove user networks no container (running or not) refers to; the removed names in
 * *removed (NULL-terminated). until_ns > 0: only those created before; labels: filter
 * expressions "label=k", "label=k=v", "label!=…" as Docker's prune. */
int network_prune (struct engine *e, int64_t until_ns, char *const *label_filters, char ***removed,
                   berr_t *err);
/* The EndpointID Docker shows for a container on a network (inspect's Containers and
 * NetworkSettings.Networks): 64 hex, derived from the two ids so every reader agrees without
 * storing it. Caller frees. */
char *network_endpoint_id (const char *network_id, const char *container_id);
/* Make the network's bridge exist and be up (cheap when it is: a marker in the runroot and the
 * link's presence), and berth's nft table current (net_sync). Nothing for host/none. */
int network_realize (struct engine *e, const struct network_row *n, berr_t *err);
/* The containers (ids) whose configuration names this network. */
int network_users (struct engine *e, const struct network_row *n, char ***ids, berr_t *err);

/* ---------- src/net/attach.c: containers on networks ---------- */

/* Rewrite berth's nftables table from the store: every bridge network, and the published ports
 * of every running container whose monitor is alive.  Serialized by the network lock. */
int net_sync (struct engine *e, berr_t *err);
/* net_sync under the network lock, for callers that do not hold it. */
int net_sync_locked (struct engine *e, berr_t *err);
/* flock'ed fd on $runroot/network.lock (close to release). */
int net_lock (struct engine *e, berr_t *err);

/* docker network connect / disconnect: update the container's configuration and, when it is
 * running, attach or detach it now. */
int container_network_connect (struct engine *e, const char *container, const char *network,
                               json_t *endpoint_config, berr_t *err);
int container_network_disconnect (struct engine *e, const char *container, const char *network,
                                  bool force, berr_t *err);

#endif
