/* attach.h — a container's place on its networks, for src/container: what a start prepares
 * (addresses, published ports, the veths made in the new network namespace), what a stop
 * releases, the container's /etc/hosts, and NetworkSettings for inspect.
 *
 * A container's networks are its configuration: "Networks" in its record ({name: endpoint
 * settings}, normalized at create from NetworkMode and NetworkingConfig), with
 * HostConfig.NetworkMode naming the primary one (the default route, the published ports).
 * Modes host, none and container:<x> have no endpoints. */
#ifndef BERTH_NET_ATTACH_H
#define BERTH_NET_ATTACH_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "container/container.h"
#include "net/netlink.h"
#include "net/ports.h"
#include "store/store.h"

static inline void network_row_freep (struct network_row **n)
{
  if (*n)
    network_row_free (*n);
}

struct net_ep
{
  struct network_row *net;
  char ip[16];
  uint32_t ip4, gateway;
  int prefix;
  uint8_t mac[6];
  char host_ifname[16], ifname[16];
};

enum net_kind
{
  NET_KIND_NONE,      /* own namespace, loopback only */
  NET_KIND_HOST,      /* the host's namespace */
  NET_KIND_CONTAINER, /* another container's namespace */
  NET_KIND_BRIDGE,    /* own namespace, veths on bridges */
};

struct net_plan
{
  enum net_kind kind;
  struct net_ep *eps;
  size_t neps;
  struct port_set ports;
  bool allocated; /* endpoint rows are in the store */
};

/* At create: normalize HostConfig.NetworkMode ("default" → "bridge") and build the record's
 * "Networks" from it and NetworkingConfig.EndpointsConfig; unknown networks and impossible
 * settings are errors (Docker's messages), so nothing is created. */
int net_create_config (struct engine *e, json_t *body, json_t **networks, berr_t *err);

/* At start, before anything is mounted: look up and realize the networks, reserve published
 * ports (a port in use fails here), check links, allocate addresses. */
int net_plan_prepare (struct engine *e, struct container_rec *c, struct net_plan *p, berr_t *err);
/* rt_spawn_opts.prestart: configure the new network namespace (arg: the plan). */
int net_plan_prestart (pid_t pid, int netns_fd, void *arg, berr_t *err);
/* The start failed: give the addresses back and drop the port reservations. */
void net_plan_abort (struct engine *e, struct container_rec *c, struct net_plan *p);
/* The container runs (its state is saved): publish its ports, tell its peers. */
int net_plan_started (struct engine *e, struct container_rec *c, struct net_plan *p, berr_t *err);
/* Free the plan; the port sockets are closed (the monitor holds its own copies). */
void net_plan_free (struct net_plan *p);
/* The sockets holding published ports, for the monitor to keep (NULL-free list, count in *n). */
int *net_plan_port_fds (const struct net_plan *p, size_t *n);

/* With an external runtime (--runtime crun|runc) the namespace is configured by a
 * createRuntime hook, `berth container-netns ID`, reading the OCI state on stdin: this adds it
 * to the spec; net_setup_from_store is what the hook runs (from the endpoint rows the start
 * allocated). */
int net_plan_add_hook (struct engine *e, struct container_rec *c, const struct net_plan *p,
                       json_t *spec);
int net_setup_from_store (struct engine *e, const char *id, pid_t pid, berr_t *err);
/* Remove endpoint rows of containers that are neither running nor starting (a start killed
 * before it recorded anything); the caller holds the network lock. */
int net_gc_endpoints (struct engine *e);

/* The container stopped: remove its veths and addresses, its ports, and tell its peers. */
int net_container_release (struct engine *e, struct container_rec *c, berr_t *err);

/* The container's /etc/hosts: localhost lines, its own addresses, the containers on its user
 * networks (name, aliases, short id), its links and ExtraHosts. host_net: start from the
 * host's /etc/hosts instead. */
char *net_hosts_render (struct engine *e, const struct container_rec *c, bool host_net);

/* Rewrite a running container's /etc/hosts in place (it is bind-mounted). */
int net_rewrite_hosts (struct engine *e, const struct container_rec *c, berr_t *err);

/* A link "name:alias" (or Docker's "/name:/self/alias") → name and alias. */
void net_split_link (const char *s, char **name, char **alias);

/* Docker's NetworkSettings. */
json_t *net_settings_json (struct engine *e, const struct container_rec *c);
/* "0.0.0.0:8080->80/tcp, 443/tcp" for ps. */
char *net_ports_summary (const json_t *ports);

#endif
