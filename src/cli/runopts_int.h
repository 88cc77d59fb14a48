/* runopts_int.h — the value parsers behind runopts.c, each the counterpart of one docker/cli,
 * go-units, go-connections or Go standard library function (named in the comment), with that
 * function's error texts. Shared with the unit tests. */
#ifndef BERTH_RUNOPTS_INT_H
#define BERTH_RUNOPTS_INT_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "util/err.h"

/* ---- Go standard library (runopts_values.c) ---- */

enum
{
  GO_NUM_OK = 0,
  GO_NUM_SYNTAX = -1,
  GO_NUM_RANGE = -2,
};
/* strconv.ParseInt(s, base, 64); base 0 takes 0x/0o/0b/0 prefixes and '_' separators as pflag's
 * int flags do. Returns GO_NUM_*. */
int go_parse_int (const char *s, int base, int64_t *out);
/* "strconv.<fn>: parsing \"s\": invalid syntax" / "…: value out of range" for a GO_NUM_* code. */
char *go_num_error (const char *fn, const char *s, int code);
/* strconv.ParseUint(s, base, 64). */
int go_parse_uint (const char *s, int base, uint64_t *out);
/* net.ParseIP: 16 bytes out (IPv4 as ::ffff:a.b.c.d); *is4 when it was dotted IPv4 or
 * IPv4-mapped (To4() != nil). False when s is no address. */
bool go_parse_ip (const char *s, unsigned char ip[16], bool *is4);
/* net.IP.String() of go_parse_ip's result (caller frees). */
char *go_ip_string (const unsigned char ip[16]);
/* net.ParseMAC: 6, 8 or 20 octets in xx:xx…, xx-xx… or xxxx.xxxx… form. */
bool go_parse_mac (const char *s);
/* encoding/csv Reader.Read of the first record; error texts as Go's ("parse error on line 1,
 * column 2: bare \" in non-quoted-field", "EOF"). */
int go_csv_record (const char *s, char ***fields, berr_t *err);

/* ---- docker/cli opts and go-units (runopts_values.c) ---- */

/* opts.ParseCPUs: a rational number of CPUs → nano CPUs ("1.5", "3/2", "1e-1"). */
int parse_nano_cpus (const char *s, int64_t *out, berr_t *err);
/* units.ParseUlimit "name=soft[:hard]" → {"Name","Hard","Soft"}. */
int parse_ulimit (const char *s, json_t **out, berr_t *err);
/* opts.ParseRestartPolicy "name[:count]" → {"Name","MaximumRetryCount"} (syntax only;
 * runopts_verify checks the name and count as the daemon does). */
int parse_restart_policy (const char *s, json_t **out, berr_t *err);
/* opts.GpuOpts.Set → a DeviceRequest {"Driver","Count","DeviceIDs","Capabilities","Options"}:
 * the core's parser (gpu_request_parse_flag, src/gpu/gpus.h) and its API form. */
int parse_gpus (const char *s, json_t **out, berr_t *err);
/* ---- runopts_validate.c ---- */

/* kvfile (--env-file, --label-file): "KEY=VALUE" lines; a bare KEY is looked up with lookup (if
 * not NULL) and dropped when not found. Errors as kvfile's, without the file name. */
typedef bool (*kv_lookup_fn) (void *ud, const char *key, const char **value);
int kvfile_parse_buf (const char *data, size_t len, kv_lookup_fn lookup, void *ud, char ***out,
                      berr_t *err);
/* kvfile.Parse: "open X: no such file or directory", "invalid env file (X): …". */
int kvfile_parse_file (const char *path, kv_lookup_fn lookup, void *ud, char ***out, berr_t *err);

/* Flag validators (opts.Validate*): 0, or -1 with the flag error text. Some normalise: *out is
 * then a new string (else NULL). */
int validate_env (const char *v, char **out, berr_t *err);
int validate_label (const char *v, berr_t *err);
int validate_extra_host (const char *v, char **out, berr_t *err);
int validate_ip_address (const char *v, char **out, berr_t *err);
int validate_dns_search (const char *v, char **out, berr_t *err);
int validate_sysctl (const char *v, berr_t *err);
int validate_link (const char *v, berr_t *err);
int validate_attach (const char *v, char **out, berr_t *err);
int validate_device_cgroup_rule (const char *v, berr_t *err);
/* --device: validateLinuxPath + parseLinuxDevice → {"PathOnHost","PathInContainer",
 * "CgroupPermissions"}. */
int parse_linux_device (const char *v, json_t **out, berr_t *err);
/* CDI device names ("vendor.com/class=name") go to a "cdi" DeviceRequest instead. */
bool is_cdi_device_name (const char *v);
/* --device-read-bps etc.: "/dev/x:rate" → {"Path","Rate"}; --blkio-weight-device → {"Path",
 * "Weight"}. */
int parse_throttle_device (const char *v, bool bytes, json_t **out, berr_t *err);
int parse_weight_device (const char *v, json_t **out, berr_t *err);

/* ---- ports (runopts_net.c): go-connections/nat ---- */

struct port_mapping
{
  char *port;      /* "80/tcp" */
  char *host_ip;   /* "" for all */
  char *host_port; /* "" for dynamic, "8080" or "8000-8010" */
};
void port_mappings_free (struct port_mapping *m, size_t n);
/* nat.ParsePort: "" → 0. */
int nat_parse_port (const char *s, int *out, berr_t *err);
/* nat.SplitProtoPort (no validation). */
void nat_split_proto_port (const char *s, char **proto, char **port);
/* nat.ParsePortRange. */
int nat_parse_port_range (const char *s, int *start, int *end, berr_t *err);
/* nat.NewPort: "1234/tcp", "1234-1240/tcp". */
int nat_new_port (const char *proto, const char *port, char **out, berr_t *err);
/* nat.ParsePortSpec: one mapping per container port. */
int nat_parse_port_spec (const char *spec, struct port_mapping **out, size_t *n, berr_t *err);

/* ---- networks (runopts_net.c): opts.NetworkOpt ---- */

struct net_attach
{
  char *target;
  char **aliases;
  json_t *driver_opts;
  char **links;
  char *ipv4, *ipv6;
  char **link_local_ips;
  char *mac;
  long gw_priority;
};
void net_attach_release (struct net_attach *n);
/* --network NAME, or the long syntax "name=x,alias=y,ip=…,ip6=…,mac-address=…,link-local-ip=…,
 * driver-opt=k=v,gw-priority=n". */
int parse_network_opt (const char *v, struct net_attach *out, berr_t *err);
/* container.NetworkMode(x).IsUserDefined(). */
bool network_is_user_defined (const char *mode);

/* ---- -v (runopts_validate.c): docker/cli internal/volumespec.Parse ---- */
struct cli_volume
{
  char *source, *target;
  const char *type; /* "bind" or "volume" */
};
int parse_cli_volume (const char *spec, struct cli_volume *out, berr_t *err);
void cli_volume_release (struct cli_volume *v);

/* ---- between runopts.c (flags) and runopts_build.c (the request) ---- */

/* What the flags collect (docker's containerOptions plus run/create's own). */
struct copts
{
  char **attach, **volumes, **tmpfs, **links, **aliases, **link_local_ips, **env, **labels,
      **cgroup_rules, **devices, **publish, **expose, **dns, **dns_search, **dns_options,
      **extra_hosts, **volumes_from, **env_files, **cap_add, **cap_drop, **group_add,
      **security_opts, **storage_opts, **label_files, **log_opts;
  json_t *mounts, *gpus, *ulimits, *sysctls, *annotations, *weight_devices, *read_bps, *write_bps,
      *read_iops, *write_iops;
  struct net_attach *nets;
  size_t n_nets;
  bool privileged, publish_all, stdin_open, tty, oom_kill_disable, read_only, no_healthcheck, rm,
      detach, sig_proxy, quiet, content_trust;
  int init; /* -1 unset: HostConfig.Init stays out (the daemon's default applies) */
  const char *pid, *uts, *userns, *cgroupns, *cidfile, *entrypoint, *hostname, *domainname, *user,
      *workdir, *mac, *ipc, *restart, *log_driver, *cgroup_parent, *volume_driver, *stop_signal,
      *isolation, *health_cmd, *runtime, *name, *detach_keys, *pull, *platform, *cpuset_cpus,
      *cpuset_mems;
  char *ip, *ip6;
  int64_t memory, memory_reservation, memory_swap, kernel_memory, shm_size, cpu_shares, cpu_period,
      cpu_quota, cpu_rt_period, cpu_rt_runtime, nano_cpus, pids_limit, swappiness, oom_score_adj,
      stop_timeout, health_retries, blkio_weight;
  bool stop_timeout_set;
  int64_t health_interval, health_timeout, health_start_period, health_start_interval;
};

/* parse(): the collected flags → {"Name","Config","HostConfig","NetworkingConfig"}; 0, or the
 * exit code after printing the message. */
int runopts_build_body (const char *cmdpath, struct copts *c, char **args, json_t **out);
/* "berth: <msg>" and docker's help hint on stderr; returns 125. */
int runopts_fail (const char *cmdpath, const char *fmt, ...) PRINTF_LIKE (2, 3);
int runopts_fail_err (const char *cmdpath, berr_t *e); /* releases e */

/* Sort the keys of a JSON object (Go writes map keys sorted). */
void json_sort_object (json_t *obj);

#endif
