/* spec.h — Docker's container configuration -> an OCI runtime spec (config.json).
 *
 * A container is described the way Docker's inspect shows it: "Config" (Hostname, Domainname,
 * User, Env, Cmd, Entrypoint, WorkingDir, Labels, Tty, OpenStdin, StdinOnce, AttachStd*,
 * StopSignal, StopTimeout, Healthcheck, Volumes, Image, ExposedPorts) and "HostConfig" (Binds,
 * Mounts, Tmpfs, Memory, MemorySwap, MemoryReservation, NanoCpus, CpuShares, CpuQuota,
 * CpuPeriod, CpusetCpus, CpusetMems, PidsLimit, ShmSize, Ulimits[{Name,Soft,Hard}], IpcMode,
 * PidMode, UTSMode, NetworkMode, Init, RestartPolicy{Name,MaximumRetryCount}, AutoRemove,
 * Devices[{PathOnHost,PathInContainer,CgroupPermissions}], DeviceCgroupRules, Sysctls,
 * GroupAdd, OomScoreAdj, LogConfig{Type,Config}, Privileged, CapAdd, CapDrop, SecurityOpt,
 * ReadonlyRootfs, Runtime, ExtraHosts, Dns…), field names and value conventions exactly as the
 * Docker Engine API uses them — the same JSON a future `berth serve` receives. */
#ifndef BERTH_SPEC_H
#define BERTH_SPEC_H

#include <jansson.h>
#include <stdbool.h>

#include "util/err.h"

/* Docker's create-time merge of the image config into the container Config: Env (image first,
 * container values override by name), Cmd (image's unless given, and none when Entrypoint is
 * given without Cmd), Entrypoint, WorkingDir, User, Labels (image's, container's override),
 * StopSignal, Healthcheck, Volumes, ExposedPorts, OnBuild dropped.  image_config is the image's
 * "config" object (may be NULL).  Modifies config in place. */
int spec_merge_image_config (json_t *config, const json_t *image_config, berr_t *err);

struct spec_input
{
  const char *id;            /* 64-hex container id */
  const json_t *config;      /* merged Config */
  const json_t *host_config; /* HostConfig */
  const char *rootfs;        /* absolute path of the mounted rootfs */
  /* Resolved mounts in Docker's inspect "Mounts" form plus what the runtime needs:
   * [{"Type":"bind|volume|tmpfs","Source":host path,"Destination":…,"RW":bool,"Mode":…,
   *   "Propagation":…, "Options":[extra OCI options, e.g. tmpfs size=…/mode=…]}] */
  const json_t *mounts;
  /* Files the engine wrote for the container, bind-mounted into it when set (NULL: none):
   * /etc/hostname, /etc/hosts, /etc/resolv.conf. */
  const char *hostname_path, *hosts_path, *resolv_path;
  /* Namespaces shared with another container (--ipc/--pid/--network container:X): the path
   * "/proc/<pid>/ns/<type>" to join, or NULL. */
  const char *ipc_ns_path, *pid_ns_path, *net_ns_path, *uts_ns_path;
  /* --init: path on the host of the init binary to bind-mount at /sbin/docker-init and run as
   * `/sbin/docker-init -- ENTRYPOINT CMD`; NULL when not available (then --init is an error). */
  const char *init_path;
  const char *cgroup_path; /* cgroupsPath to record in the spec ("berth/<id>") */
  /* A host directory to bind at /dev/shm instead of a private tmpfs: the engine's shareable
   * shm of this container, or, for --ipc container:X, X's (required then: without it the
   * build fails, since X's /dev/shm lives only inside X's mount namespace). NULL: none. */
  const char *shm_path;
};

/* Build the spec: process (args from Entrypoint+Cmd, env, cwd, terminal, user resolved from the
 * rootfs's /etc/passwd and /etc/group read with openat2 RESOLVE_IN_ROOT — names, uid, uid:gid,
 * name:group, supplementary groups of the user plus GroupAdd —, capabilities (Docker's 14 or
 * the computed set in all of bounding/effective/permitted; inheritable and ambient empty),
 * rlimits (--ulimit, plus the daemon default NOFILE 1024:524288 unless nofile is given),
 * noNewPrivileges, oomScoreAdj), root {path, readonly}, hostname (the domain name as Docker
 * sets it: the kernel.domainname sysctl, which runc 1.1 honours and its "domainname" field
 * not), mounts (Docker's default /proc,
 * /dev, /dev/pts, /dev/shm (ShmSize, default 64 MiB), /dev/mqueue, /sys, /sys/fs/cgroup, then
 * the user's mounts, then hosts/hostname/resolv.conf), linux {namespaces, resources (memory,
 * memory swap, cpu shares/quota/period/cpus/mems, pids, devices: deny all then Docker's default
 * allow list, device cgroup rules and --device entries), devices (--device, or every host device
 * for --privileged), sysctls (Docker's namespaced allow-list: kernel.msg*, kernel.sem, kernel.shm*,
 * fs.mqueue.*, net.* only with a private network namespace), maskedPaths, readonlyPaths (both
 * empty when privileged), seccomp (Docker's default, the file of --security-opt seccomp=FILE, or
 * none for unconfined/privileged)}, annotations (HostConfig.Annotations, and "berth.group-add"
 * keeping GroupAdd for spec_exec_process).  Errors name the offending option (BERR_INVALID). */
int spec_build (const struct spec_input *in, json_t **spec, berr_t *err);

/* Resolve a Docker "user" string (name, uid, name:group, uid:gid …) against the rootfs's
 * /etc/passwd and /etc/group (read safely inside rootfs), for exec -u as well.
 * Fills an OCI process.user object {uid, gid, additionalGids}. */
int spec_resolve_user (const char *rootfs, const char *user, char *const *group_add,
                       json_t **user_obj, berr_t *err);

/* The OCI "process" object for `exec`: args, env (container env + exec's -e), cwd (-w or the
 * container's WorkingDir), user (-u or the container's User; -u is resolved in rootfs with the
 * container's --group-add), terminal, capabilities (the container's, or all the host's
 * bounding set with privileged), noNewPrivileges, rlimits and oomScoreAdj as the container's. */
int spec_exec_process (const json_t *spec, const char *rootfs, char *const *args, char *const *env,
                       const char *user, const char *workdir, bool tty, bool privileged,
                       json_t **process, berr_t *err);

#endif
