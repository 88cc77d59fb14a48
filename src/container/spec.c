/* spec.c — Docker's container configuration -> an OCI runtime spec (moby daemon/oci_linux.go
 * createSpec and its options), and the process object of `exec`.
 *
 * One config.json serves the built-in runtime, runc and crun alike, so only runtime-spec 1.0.2
 * fields are written.  Mounts are in spec_mounts.c, devices and cgroup limits in
 * spec_devices.c, users in user.c, the image merge in merge.c. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <linux/capability.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "container/spec_int.h"
#include "runtime/caps.h"
#include "runtime/seccomp.h"
#include "util/fs.h"
#include "util/json.h"
#include "util/util.h"

#define DEFAULT_PATH "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
#define SECCOMP_FILE_MAX (4u << 20)
/* Annotation keeping HostConfig.GroupAdd, so `exec -u` resolves groups as `run` did. */
#define ANNOTATION_GROUP_ADD "berth.group-add"

/* ----------------------------------------------------------------------------- accessors */

const char *spec_str (const json_t *obj, const char *key)
{
  return json_string_value (json_object_get (obj, key));
}

int64_t spec_int (const json_t *obj, const char *key)
{
  json_t *v = json_object_get (obj, key);
  if (json_is_integer (v))
    return json_integer_value (v);
  if (json_is_real (v))
    return (int64_t)json_real_value (v);
  return 0;
}

bool spec_bool (const json_t *obj, const char *key)
{
  return json_is_true (json_object_get (obj, key));
}

int spec_strv (const json_t *obj, const char *key, char ***out, berr_t *err)
{
  *out = NULL;
  json_t *arr = json_object_get (obj, key);
  if (arr == NULL || json_is_null (arr))
    return 0;
  /* Docker's strslice: a lone string stands for a one-element list. */
  if (json_is_string (arr))
    {
      strv_push (out, json_string_value (arr));
      return 0;
    }
  if (!json_is_array (arr))
    return berr_setk (err, BERR_INVALID, 0, "%s: not a list", key);
  size_t i;
  json_t *v;
  json_array_foreach (arr, i, v)
  {
    if (!json_is_string (v))
      {
        strv_free (*out);
        *out = NULL;
        return berr_setk (err, BERR_INVALID, 0, "%s: not a list of strings", key);
      }
    strv_push (out, json_string_value (v));
  }
  return 0;
}

static size_t env_key_len (const char *s)
{
  const char *eq = strchr (s, '=');
  return eq ? (size_t)(eq - s) : strlen (s);
}

void spec_env_apply (char ***env, char *const *overrides)
{
  for (size_t i = 0; overrides && overrides[i]; i++)
    {
      const char *o = overrides[i];
      bool unset = strchr (o, '=') == NULL;
      size_t kl = env_key_len (o);
      size_t n = strv_len (*env);
      bool done = false;
      for (size_t k = 0; k < n; k++)
        {
          char *e = (*env)[k];
          if (env_key_len (e) != kl || strncmp (e, o, kl) != 0)
            continue;
          if (unset)
            {
              free (e);
              memmove (&(*env)[k], &(*env)[k + 1], (n - k) * sizeof (char *));
              n--;
              k--;
            }
          else
            {
              free (e);
              (*env)[k] = xstrdup (o);
            }
          done = true;
          if (!unset)
            break;
        }
      if (!done && !unset)
        strv_push (env, o);
    }
}

/* ---------------------------------------------------------------------------- modes */

static bool is_container_mode (const char *mode)
{
  return mode && str_has_prefix (mode, "container:") && mode[strlen ("container:")] != '\0';
}

static bool host_is_cgroup2 (void)
{
  struct statfs s;
  return statfs ("/sys/fs/cgroup", &s) == 0 && s.f_type == 0x63677270; /* CGROUP2_SUPER_MAGIC */
}

static int parse_modes (const struct spec_input *in, struct spec_modes *m, berr_t *err)
{
  const json_t *hc = in->host_config;
  memset (m, 0, sizeof *m);
  m->privileged = spec_bool (hc, "Privileged");
  m->readonly_rootfs = spec_bool (hc, "ReadonlyRootfs");

  const char *ipc = spec_str (hc, "IpcMode");
  ipc = ipc ? ipc : "";
  if (!ipc[0] || strcmp (ipc, "private") == 0)
    m->ipc = IPC_PRIVATE;
  else if (strcmp (ipc, "shareable") == 0)
    {
      m->ipc = IPC_PRIVATE;
      m->ipc_shareable = true;
    }
  else if (strcmp (ipc, "none") == 0)
    m->ipc = IPC_NONE;
  else if (strcmp (ipc, "host") == 0)
    m->ipc = IPC_HOST;
  else if (is_container_mode (ipc))
    m->ipc = IPC_CONTAINER;
  else
    return berr_setk (err, BERR_INVALID, 0, "invalid IPC mode: %s", ipc);

  const char *pid = spec_str (hc, "PidMode");
  pid = pid ? pid : "";
  m->pid_host = strcmp (pid, "host") == 0;
  m->pid_container = is_container_mode (pid);
  if (pid[0] && !m->pid_host && !m->pid_container)
    return berr_setk (err, BERR_INVALID, 0, "invalid PID mode: %s", pid);

  const char *uts = spec_str (hc, "UTSMode");
  uts = uts ? uts : "";
  m->uts_host = strcmp (uts, "host") == 0;
  if (uts[0] && !m->uts_host)
    return berr_setk (err, BERR_INVALID, 0, "invalid UTS mode: %s", uts);

  const char *net = spec_str (hc, "NetworkMode");
  net = net ? net : "";
  m->net_host = strcmp (net, "host") == 0;
  m->net_none = strcmp (net, "none") == 0;
  m->net_container = str_has_prefix (net, "container:");
  if (m->net_container && !is_container_mode (net))
    return berr_setk (err, BERR_INVALID, 0, "invalid network mode: %s", net);

  /* Docker's default: a private cgroup namespace on cgroup v2 hosts, the host's on v1. */
  const char *cgns = spec_str (hc, "CgroupnsMode");
  cgns = cgns ? cgns : "";
  if (!cgns[0])
    m->cgroupns_private = host_is_cgroup2 ();
  else if (strcmp (cgns, "private") == 0)
    m->cgroupns_private = true;
  else if (strcmp (cgns, "host") != 0)
    return berr_setk (err, BERR_INVALID, 0, "invalid cgroup namespace mode: %s", cgns);
  return 0;
}

/* --------------------------------------------------------------------- security options */

struct secopts
{
  bool no_new_privs;
  bool systempaths_unconfined;
  char *seccomp; /* the seccomp= value: "unconfined", "builtin", a JSON profile or a file */
};

static int parse_security_opts (const json_t *hc, struct secopts *s, berr_t *err)
{
  memset (s, 0, sizeof *s);
  cleanup_strv char **opts = NULL;
  if (spec_strv (hc, "SecurityOpt", &opts, err) < 0)
    return -1;
  for (size_t i = 0; opts && opts[i]; i++)
    {
      const char *o = opts[i];
      if (strcmp (o, "systempaths=unconfined") == 0)
        {
          s->systempaths_unconfined = true;
          continue;
        }
      if (strcmp (o, "no-new-privileges") == 0)
        {
          s->no_new_privs = true;
          continue;
        }
      if (strcmp (o, "disable") == 0) /* label=disable shorthand: no SELinux here */
        continue;
      /* "key=value", or the old "key:value". */
      const char *sep = strchr (o, '=');
      if (!sep)
        sep = strchr (o, ':');
      if (!sep)
        return berr_setk (err, BERR_INVALID, 0, "invalid --security-opt 1: \"%s\"", o);
      size_t kl = (size_t)(sep - o);
      const char *v = sep + 1;
      if (kl == 5 && strncmp (o, "label", kl) == 0)
        continue; /* SELinux labels: nothing to do without SELinux */
      else if (kl == 8 && strncmp (o, "apparmor", kl) == 0)
        continue; /* no AppArmor in berth's runtime */
      else if (kl == 7 && strncmp (o, "seccomp", kl) == 0)
        {
          free (s->seccomp);
          s->seccomp = xstrdup (v);
        }
      else if (kl == 17 && strncmp (o, "no-new-privileges", kl) == 0)
        {
          /* Go's strconv.ParseBool */
          static const char *const t[] = { "1", "t", "T", "true", "TRUE", "True" };
          static const char *const f[] = { "0", "f", "F", "false", "FALSE", "False" };
          bool known = false;
          for (size_t k = 0; k < ARRAY_SIZE (t); k++)
            if (strcmp (v, t[k]) == 0)
              known = s->no_new_privs = true;
          for (size_t k = 0; k < ARRAY_SIZE (f); k++)
            if (strcmp (v, f[k]) == 0)
              {
                known = true;
                s->no_new_privs = false;
              }
          if (!known)
            return berr_setk (err, BERR_INVALID, 0, "invalid --security-opt 2: \"%s\"", o);
        }
      else
        return berr_setk (err, BERR_INVALID, 0, "invalid --security-opt 2: \"%s\"", o);
    }
  return 0;
}

static int seccomp_for (const struct secopts *so, bool privileged, char *const *caps, json_t **out,
                        berr_t *err)
{
  *out = NULL;
  const char *v = so->seccomp;
  if (privileged || (v && strcmp (v, "unconfined") == 0))
    return 0;
  if (!v || !v[0] || strcmp (v, "builtin") == 0)
    {
      *out = seccomp_docker_default (caps);
      return 0;
    }
  /* Docker's CLI sends the file's content; a path is read here for callers that do not. */
  const char *p = v;
  while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
    p++;
  if (*p == '{')
    {
      if (seccomp_from_docker_json (v, caps, out, err) < 0)
        return berr_wrap (err, "seccomp profile");
      return 0;
    }
  cleanup_free char *text = NULL;
  if (fs_read_file (v, SECCOMP_FILE_MAX, &text, NULL, err) < 0)
    return berr_wrap (err, "opening seccomp profile (%s) failed", v);
  if (seccomp_from_docker_json (text, caps, out, err) < 0)
    return berr_wrap (err, "seccomp profile %s", v);
  return 0;
}

/* ---------------------------------------------------------------------------- process */

static char *hostname_default (const char *id) { return id ? xstrndup (id, 12) : xstrdup (""); }

static int build_args (const struct spec_input *in, const struct spec_modes *m, json_t **out,
                       berr_t *err)
{
  cleanup_strv char **ep = NULL, **cmd = NULL;
  if (spec_strv (in->config, "Entrypoint", &ep, err) < 0
      || spec_strv (in->config, "Cmd", &cmd, err) < 0)
    return -1;
  /* `--entrypoint ""` arrives as [""] and means none. */
  if (strv_len (ep) == 1 && ep[0][0] == '\0')
    {
      strv_free (ep);
      ep = NULL;
    }
  json_t *args = json_array ();
  /* --init only makes sense as pid 1 of a private pid namespace, as in Docker. */
  if (spec_bool (in->host_config, "Init") && !m->pid_host && !m->pid_container)
    {
      if (!in->init_path)
        {
          json_decref (args);
          return berr_setk (err, BERR_INVALID, 0,
                            "--init: the init binary (docker-init) was not found");
        }
      json_array_append_new (args, json_string ("/sbin/docker-init"));
      json_array_append_new (args, json_string ("--"));
    }
  size_t before = json_array_size (args);
  for (size_t i = 0; ep && ep[i]; i++)
    json_array_append_new (args, json_string (ep[i]));
  for (size_t i = 0; cmd && cmd[i]; i++)
    json_array_append_new (args, json_string (cmd[i]));
  if (json_array_size (args) == before)
    {
      json_decref (args);
      return berr_setk (err, BERR_INVALID, 0, "No command specified");
    }
  *out = args;
  return 0;
}

static char **container_env (const json_t *config, bool tty, berr_t *err, int *ret)
{
  char **env = NULL;
  strv_push (&env, DEFAULT_PATH);
  const char *h = spec_str (config, "Hostname");
  strv_push_take (&env, xasprintf ("HOSTNAME=%s", h ? h : ""));
  if (tty)
    strv_push (&env, "TERM=xterm");
  cleanup_strv char **cenv = NULL;
  *ret = spec_strv (config, "Env", &cenv, err);
  spec_env_apply (&env, cenv);
  return env;
}

static const char *const ulimit_names[]
    = { "as",   "core",   "cpu",   "data", "fsize",  "locks",  "memlock",    "msgqueue",
        "nice", "nofile", "nproc", "rss",  "rtprio", "rttime", "sigpending", "stack" };

static int build_rlimits (const json_t *hc, json_t **out, berr_t *err)
{
  json_t *rl = json_array ();
  bool has_nofile = false;
  size_t i;
  json_t *u;
  json_array_foreach (json_object_get (hc, "Ulimits"), i, u)
  {
    const char *name = spec_str (u, "Name");
    bool known = false;
    for (size_t k = 0; name && k < ARRAY_SIZE (ulimit_names); k++)
      known = known || strcmp (name, ulimit_names[k]) == 0;
    if (!known)
      {
        json_decref (rl);
        return berr_setk (err, BERR_INVALID, 0, "invalid ulimit type: %s", name ? name : "");
      }
    int64_t soft = spec_int (u, "Soft"), hard = spec_int (u, "Hard");
    /* -1 is "unlimited" (RLIM_INFINITY); compare as the unsigned values the kernel sees. */
    if ((uint64_t)soft > (uint64_t)hard)
      {
        json_decref (rl);
        return berr_setk (err, BERR_INVALID, 0,
                          "ulimit soft limit must be less than or equal to hard limit: %lld > "
                          "%lld",
                          (long long)soft, (long long)hard);
      }
    char type[32];
    size_t tl = (size_t)snprintf (type, sizeof type, "RLIMIT_%s", name);
    for (size_t k = 7; k < tl && k < sizeof type; k++)
      type[k] = (char)toupper ((unsigned char)type[k]);
    if (strcmp (name, "nofile") == 0)
      has_nofile = true;
    json_array_append_new (rl, json_pack ("{s:s, s:I, s:I}", "type", type, "hard", (json_int_t)hard,
                                          "soft", (json_int_t)soft));
  }
  /* The daemon default of Docker installs (systemd's containerd unit): NOFILE 1024:524288,
   * merged under the container's own list as Docker merges --default-ulimit. Without
   * CAP_SYS_RESOURCE a hard limit cannot be raised, so the default stays within the host's
   * (an explicit --ulimit above it is an error that says so). */
  if (!has_nofile)
    {
      struct rlimit host;
      json_int_t hard = 524288, soft = 1024;
      if (getrlimit (RLIMIT_NOFILE, &host) == 0 && host.rlim_max != RLIM_INFINITY
          && (json_int_t)host.rlim_max < hard
          && !(caps_host_bounding () & (1ULL << CAP_SYS_RESOURCE)))
        hard = (json_int_t)host.rlim_max;
      if (soft > hard)
        soft = hard;
      json_array_append_new (
          rl, json_pack ("{s:s, s:I, s:I}", "type", "RLIMIT_NOFILE", "hard", hard, "soft", soft));
    }
  *out = rl;
  return 0;
}

static json_t *caps_object (char *const *caps)
{
  json_t *list = json_from_strv (caps);
  if (!list)
    list = json_array ();
  json_t *c = json_pack ("{s:O, s:O, s:[], s:O, s:[]}", "bounding", list, "effective", list,
                         "inheritable", "permitted", list, "ambient");
  json_decref (list);
  return c;
}

/* ----------------------------------------------------------------------- linux section */

static bool sysctl_exists (const char *name)
{
  cleanup_free char *p = xasprintf ("/proc/sys/%s", name);
  for (char *c = p + strlen ("/proc/sys/"); *c; c++)
    if (*c == '.')
      *c = '/';
  return access (p, F_OK) == 0;
}

static int build_sysctls (const json_t *hc, const struct spec_modes *m, json_t **out, berr_t *err)
{
  json_t *sys = json_object ();
  /* Docker's defaults for a network namespace of the container's own: unprivileged ping and
   * low ports, which its capabilities allow anyway. */
  if (!m->net_host && !m->net_container)
    {
      if (sysctl_exists ("net.ipv4.ping_group_range"))
        json_object_set_new (sys, "net.ipv4.ping_group_range", json_string ("0 2147483647"));
      if (sysctl_exists ("net.ipv4.ip_unprivileged_port_start"))
        json_object_set_new (sys, "net.ipv4.ip_unprivileged_port_start", json_string ("0"));
    }
  static const char *const ipc_names[]
      = { "kernel.msgmax", "kernel.msgmnb", "kernel.msgmni", "kernel.sem",
          "kernel.shmall", "kernel.shmmax", "kernel.shmmni", "kernel.shm_rmid_forced" };
  json_t *given = json_object_get (hc, "Sysctls");
  const char *k;
  json_t *v;
  json_object_foreach (given, k, v)
  {
    bool ipc = str_has_prefix (k, "fs.mqueue.");
    for (size_t i = 0; i < ARRAY_SIZE (ipc_names); i++)
      ipc = ipc || strcmp (k, ipc_names[i]) == 0;
    bool net = str_has_prefix (k, "net.");
    const char *why = NULL;
    if (!ipc && !net)
      why = "is not in a separate kernel namespace";
    else if (ipc && m->ipc == IPC_HOST)
      why = "is not allowed in the hosts ipc namespace";
    else if (net && m->net_host)
      why = "is not allowed in the hosts network namespace";
    else if (!json_is_string (v))
      why = "needs a string value";
    if (why)
      {
        json_decref (sys);
        return berr_setk (err, BERR_INVALID, 0, "sysctl \"%s\" %s", k, why);
      }
    json_object_set (sys, k, v);
  }
  *out = sys;
  return 0;
}

static void add_thermal_throttle (json_t *masked)
{
  /* Every possible CPU's thermal_throttle directory that exists (GHSA-6fw5-f8r9-fgfm). */
  cleanup_free char *possible = NULL;
  berr_t e = BERR_INIT;
  if (fs_read_file ("/sys/devices/system/cpu/possible", 4096, &possible, NULL, &e) < 0)
    {
      berr_release (&e);
      return;
    }
  for (char *p = possible; *p;)
    {
      char *end;
      long a = strtol (p, &end, 10);
      if (end == p)
        break;
      long b = a;
      if (*end == '-')
        {
          p = end + 1;
          b = strtol (p, &end, 10);
          if (end == p)
            break;
        }
      for (long c = a; c <= b && c - a < 65536; c++)
        {
          char path[96];
          snprintf (path, sizeof path, "/sys/devices/system/cpu/cpu%ld/thermal_throttle", c);
          struct stat st;
          if (stat (path, &st) == 0)
            json_array_append_new (masked, json_string (path));
        }
      p = end;
      while (*p == ',' || *p == '\n' || *p == ' ')
        p++;
    }
}

static void build_paths (const json_t *hc, const struct spec_modes *m, const struct secopts *so,
                         json_t *linux_obj)
{
  static const char *const masked[] = { "/proc/acpi",
                                        "/proc/asound",
                                        "/proc/interrupts",
                                        "/proc/kcore",
                                        "/proc/keys",
                                        "/proc/latency_stats",
                                        "/proc/sched_debug",
                                        "/proc/scsi",
                                        "/proc/timer_list",
                                        "/proc/timer_stats",
                                        "/sys/devices/virtual/powercap",
                                        "/sys/firmware" };
  static const char *const ro[]
      = { "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger" };
  json_t *mp = json_array (), *rp = json_array ();
  if (!m->privileged && !so->systempaths_unconfined)
    {
      json_t *given_m = json_object_get (hc, "MaskedPaths");
      json_t *given_r = json_object_get (hc, "ReadonlyPaths");
      if (json_is_array (given_m))
        json_array_extend (mp, given_m);
      else
        {
          for (size_t i = 0; i < ARRAY_SIZE (masked); i++)
            json_array_append_new (mp, json_string (masked[i]));
          add_thermal_throttle (mp);
        }
      if (json_is_array (given_r))
        json_array_extend (rp, given_r);
      else
        for (size_t i = 0; i < ARRAY_SIZE (ro); i++)
          json_array_append_new (rp, json_string (ro[i]));
    }
  json_object_set_new (linux_obj, "maskedPaths", mp);
  json_object_set_new (linux_obj, "readonlyPaths", rp);
}

static void add_ns (json_t *list, const char *type, const char *path)
{
  json_t *ns = json_pack ("{s:s}", "type", type);
  if (path)
    json_object_set_new (ns, "path", json_string (path));
  json_array_append_new (list, ns);
}

static int build_namespaces (const struct spec_input *in, const struct spec_modes *m, json_t **out,
                             berr_t *err)
{
  json_t *ns = json_array ();
  add_ns (ns, "mount", NULL);
  if (!m->net_host)
    {
      if (m->net_container && !in->net_ns_path)
        {
          json_decref (ns);
          return berr_setk (err, BERR_INVALID, 0, "network %s: no namespace path given",
                            spec_str (in->host_config, "NetworkMode"));
        }
      add_ns (ns, "network", in->net_ns_path);
    }
  if (!m->uts_host)
    add_ns (ns, "uts", in->uts_ns_path);
  if (!m->pid_host)
    {
      if (m->pid_container && !in->pid_ns_path)
        {
          json_decref (ns);
          return berr_setk (err, BERR_INVALID, 0, "failed to join PID namespace: no path for %s",
                            spec_str (in->host_config, "PidMode"));
        }
      add_ns (ns, "pid", in->pid_ns_path);
    }
  if (m->ipc != IPC_HOST)
    {
      if (m->ipc == IPC_CONTAINER && !in->ipc_ns_path)
        {
          json_decref (ns);
          return berr_setk (err, BERR_INVALID, 0, "failed to join IPC namespace: no path for %s",
                            spec_str (in->host_config, "IpcMode"));
        }
      add_ns (ns, "ipc", in->ipc_ns_path);
    }
  if (m->cgroupns_private)
    add_ns (ns, "cgroup", NULL);
  *out = ns;
  return 0;
}

/* Docker's create-time checks that need the namespace modes: a hostname cannot be chosen for a
 * UTS namespace that is not the container's.  The engine fills Hostname when none is given, as
 * Docker does (the short id, or the host's name with --network host), so those values do not
 * count as chosen. */
static int check_hostname (const struct spec_input *in, const struct spec_modes *m, berr_t *err)
{
  const char *h = spec_str (in->config, "Hostname");
  if (!h || !h[0])
    return 0;
  cleanup_free char *dflt = hostname_default (in->id);
  char host[256] = "";
  if (gethostname (host, sizeof host - 1) < 0)
    host[0] = '\0';
  if (strcmp (h, dflt) == 0 || (host[0] && strcmp (h, host) == 0))
    return 0;
  if (m->uts_host)
    return berr_setk (err, BERR_INVALID, 0, "conflicting options: hostname and the UTS mode");
  if (m->net_container)
    return berr_setk (err, BERR_INVALID, 0, "conflicting options: hostname and the network mode");
  return 0;
}

/* -------------------------------------------------------------------------------- build */

int spec_build (const struct spec_input *in, json_t **spec_out, berr_t *err)
{
  const json_t *config = in->config, *hc = in->host_config;
  if (!json_is_object (config))
    return berr_setk (err, BERR_INVALID, 0, "spec: no container config");
  if (!in->rootfs || in->rootfs[0] != '/')
    return berr_setk (err, BERR_INVALID, 0, "spec: rootfs must be an absolute path");
  struct spec_modes m;
  if (parse_modes (in, &m, err) < 0 || check_hostname (in, &m, err) < 0)
    return -1;
  struct secopts so;
  if (parse_security_opts (hc, &so, err) < 0)
    return -1;
  cleanup_free char *seccomp_opt = so.seccomp;

  cleanup_json json_t *spec = json_object ();
  json_object_set_new (spec, "ociVersion", json_string ("1.0.2"));

  /* process */
  json_t *args = NULL;
  if (build_args (in, &m, &args, err) < 0)
    return -1;
  bool tty = spec_bool (config, "Tty");
  int ret = 0;
  cleanup_strv char **env = container_env (config, tty, err, &ret);
  if (ret < 0)
    {
      json_decref (args);
      return -1;
    }
  cleanup_strv char **group_add = NULL;
  json_t *user = NULL;
  if (spec_strv (hc, "GroupAdd", &group_add, err) < 0
      || spec_resolve_user (in->rootfs, spec_str (config, "User"), group_add, &user, err) < 0)
    {
      json_decref (args);
      return -1;
    }
  cleanup_strv char **cap_add = NULL, **cap_drop = NULL, **caps = NULL;
  json_t *rlimits = NULL;
  if (spec_strv (hc, "CapAdd", &cap_add, err) < 0 || spec_strv (hc, "CapDrop", &cap_drop, err) < 0
      || caps_compute (cap_add, cap_drop, m.privileged, &caps, err) < 0
      || build_rlimits (hc, &rlimits, err) < 0)
    {
      json_decref (args);
      json_decref (user);
      return -1;
    }
  int64_t oom = spec_int (hc, "OomScoreAdj");
  if (oom < -1000 || oom > 1000)
    {
      json_decref (args);
      json_decref (user);
      json_decref (rlimits);
      return berr_setk (err, BERR_INVALID, 0,
                        "Invalid value %lld, range for oom score adj is [-1000, 1000]",
                        (long long)oom);
    }
  const char *wd = spec_str (config, "WorkingDir");
  json_t *process = json_object ();
  json_object_set_new (process, "terminal", json_boolean (tty));
  json_t *console = json_object_get (hc, "ConsoleSize");
  if (tty && json_is_array (console) && json_array_size (console) == 2)
    {
      json_int_t h = json_integer_value (json_array_get (console, 0));
      json_int_t w = json_integer_value (json_array_get (console, 1));
      if (h > 0 || w > 0)
        json_object_set_new (process, "consoleSize",
                             json_pack ("{s:I, s:I}", "height", h, "width", w));
    }
  json_object_set_new (process, "user", user);
  json_object_set_new (process, "args", args);
  json_object_set_new (process, "env", json_from_strv (env));
  json_object_set_new (process, "cwd", json_string (wd && wd[0] ? wd : "/"));
  json_object_set_new (process, "capabilities", caps_object (caps));
  json_object_set_new (process, "rlimits", rlimits);
  json_object_set_new (process, "noNewPrivileges", json_boolean (so.no_new_privs));
  json_object_set_new (process, "oomScoreAdj", json_integer (oom));
  json_object_set_new (spec, "process", process);

  json_object_set_new (spec, "root",
                       json_pack ("{s:s, s:b}", "path", in->rootfs, "readonly", m.readonly_rootfs));
  const char *hostname = spec_str (config, "Hostname");
  if (!m.uts_host && hostname && hostname[0])
    json_object_set_new (spec, "hostname", json_string (hostname));

  json_t *linux_obj = json_object ();
  json_object_set_new (spec, "linux", linux_obj);
  json_t *ns = NULL;
  if (build_namespaces (in, &m, &ns, err) < 0)
    return -1;
  if (spec_build_mounts (in, &m, spec, err) < 0)
    {
      json_decref (ns);
      return -1;
    }

  json_t *sysctl = NULL;
  if (build_sysctls (hc, &m, &sysctl, err) < 0)
    {
      json_decref (ns);
      return -1;
    }
  /* The NIS domain name as Docker sets it: through the kernel.domainname sysctl of the UTS
   * namespace, since runc 1.1 ignores the spec's "domainname" field. */
  const char *domainname = spec_str (config, "Domainname");
  if (!m.uts_host && domainname && domainname[0])
    json_object_set_new (sysctl, "kernel.domainname", json_string (domainname));
  json_object_set_new (linux_obj, "sysctl", sysctl);

  json_t *resources = json_object ();
  json_object_set_new (linux_obj, "resources", resources);
  if (in->cgroup_path)
    json_object_set_new (linux_obj, "cgroupsPath", json_string (in->cgroup_path));
  json_object_set_new (linux_obj, "namespaces", ns);
  if (spec_add_devices (hc, m.privileged, linux_obj, resources, err) < 0
      || spec_add_resources (hc, resources, err) < 0)
    return -1;

  json_t *seccomp = NULL;
  if (seccomp_for (&so, m.privileged, caps, &seccomp, err) < 0)
    return -1;
  if (seccomp)
    json_object_set_new (linux_obj, "seccomp", seccomp);
  build_paths (hc, &m, &so, linux_obj);

  /* HostConfig.Annotations as Docker passes them, plus what `exec -u` needs later. */
  json_t *annotations = json_object ();
  const char *ak;
  json_t *av;
  json_object_foreach (json_object_get (hc, "Annotations"), ak, av)
  {
    if (json_is_string (av))
      json_object_set (annotations, ak, av);
  }
  if (group_add)
    {
      json_t *ga = json_from_strv (group_add);
      cleanup_free char *text = json_dump_compact (ga);
      json_decref (ga);
      json_object_set_new (annotations, ANNOTATION_GROUP_ADD, json_string (text));
    }
  if (json_object_size (annotations) > 0)
    json_object_set_new (spec, "annotations", annotations);
  else
    json_decref (annotations);
  *spec_out = steal_pointer (&spec);
  return 0;
}

/* --------------------------------------------------------------------------------- exec */

int spec_exec_process (const json_t *spec, const char *rootfs, char *const *args, char *const *env,
                       const char *user, const char *workdir, bool tty, bool privileged,
                       json_t **process_out, berr_t *err)
{
  json_t *base = json_object_get (spec, "process");
  if (!json_is_object (base))
    return berr_setk (err, BERR_INVALID, 0, "exec: the container's spec has no process");
  if (!args || !args[0])
    return berr_setk (err, BERR_INVALID, 0, "No exec command specified");
  /* Everything the container's process has (user, caps, rlimits, no_new_privs, oom score),
   * then what exec changes. */
  cleanup_json json_t *p = json_deep_copy (base);
  json_object_del (p, "consoleSize");
  json_object_set_new (p, "terminal", json_boolean (tty));
  json_object_set_new (p, "args", json_from_strv (args));

  cleanup_strv char **penv = json_to_strv (json_object_get (base, "env"));
  bool has_term = false;
  for (size_t i = 0; penv && penv[i]; i++)
    has_term = has_term || str_has_prefix (penv[i], "TERM=");
  if (tty && !has_term)
    {
      char *const term[] = { "TERM=xterm", NULL };
      spec_env_apply (&penv, term);
    }
  spec_env_apply (&penv, env);
  json_object_set_new (p, "env", penv ? json_from_strv (penv) : json_array ());

  if (workdir && workdir[0])
    json_object_set_new (p, "cwd", json_string (workdir));
  else if (!json_is_string (json_object_get (p, "cwd")))
    json_object_set_new (p, "cwd", json_string ("/"));

  if (user && user[0])
    {
      if (!rootfs)
        return berr_setk (err, BERR_INVALID, 0, "exec -u: the container's rootfs is not known");
      cleanup_strv char **group_add = NULL;
      const char *ga = json_string_value (
          json_object_get (json_object_get (spec, "annotations"), ANNOTATION_GROUP_ADD));
      if (ga)
        {
          cleanup_json json_t *arr = json_loads (ga, 0, NULL);
          group_add = json_to_strv (arr);
        }
      json_t *u = NULL;
      if (spec_resolve_user (rootfs, user, group_add, &u, err) < 0)
        return -1;
      json_object_set_new (p, "user", u);
    }

  if (privileged)
    {
      cleanup_strv char **all = NULL;
      if (caps_compute (NULL, NULL, true, &all, err) < 0)
        return -1;
      json_object_set_new (p, "capabilities", caps_object (all));
    }
  *process_out = steal_pointer (&p);
  return 0;
}
