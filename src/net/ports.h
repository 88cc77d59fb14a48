/* ports.h — published ports: Docker's HostConfig.PortBindings resolved into concrete bindings
 * and reserved by binding real sockets on the host, so a port another program (or another
 * container) holds fails the start with Docker's message and nothing is started, and a port is
 * never given to two containers.  The sockets are held for the container's lifetime by whoever
 * watches it (the monitor, or the foreground `run`); they are bound, not listening: the traffic
 * itself is DNATed by the kernel (nft.h), so no user-space copy sits in the data path. */
#ifndef BERTH_NET_PORTS_H
#define BERTH_NET_PORTS_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "util/err.h"

struct port_binding
{
  char proto[8];      /* "tcp", "udp", "sctp" */
  uint16_t ctr_port;  /* container port */
  char host_ip[64];   /* as given: "" (all), "0.0.0.0", "127.0.0.1", "::1"… */
  uint16_t host_port; /* the port actually reserved (chosen when the spec left it open) */
  int fd;             /* the reserving socket, O_CLOEXEC; -1 once released */
};

struct port_set
{
  struct port_binding *v;
  size_t n;
};

/* Reserve every binding of PortBindings ({"80/tcp":[{"HostIp":"","HostPort":"8080"}],…}; a
 * HostPort of "" or "0" means any free port, "8000-8010" the first free one of the range).
 * exposed_all adds ExposedPorts not in PortBindings with a free port each (-P is already folded
 * into PortBindings by the caller; this is for Config.ExposedPorts when PublishAllPorts).
 * A port in use: BERR_CONFLICT "Bind for 0.0.0.0:8080 failed: port is already allocated"; on
 * any error nothing stays reserved.  IPv6 host addresses are reserved too (they are not
 * forwarded: nft.h is IPv4).
 * An all-addresses binding ("") also reserves [::] on the same port where the host has IPv6:
 * it comes back as two entries, host_ip "" and "::" (as Docker 28 lists "0.0.0.0" and "::").
 * Fixed ports are reserved first, then ranges, then free ports; a range that is full is
 * BERR_CONFLICT "Bind for 0.0.0.0:8000-8010 failed: all ports are allocated". */
int ports_reserve (json_t *port_bindings, json_t *exposed_ports, bool publish_all,
                   struct port_set *out, berr_t *err);
/* Close the sockets (the reservation ends) and free. */
void ports_release (struct port_set *s);
/* Docker's NetworkSettings.Ports for these bindings plus exposed-but-unpublished ports (null):
 * {"80/tcp":[{"HostIp":"0.0.0.0","HostPort":"8080"}], "443/tcp":null}. */
json_t *ports_json (const struct port_set *s, json_t *exposed_ports);
/* The bindings back from ports_json's shape (for a running container's recorded state): fds
 * are -1. */
int ports_from_json (json_t *ports, struct port_set *out, berr_t *err);

#endif
