/* runopts_verify.c — the checks dockerd makes on a create request before it makes anything
 * (moby daemon/container.go verifyContainerSettings, daemon_unix.go
 * verifyPlatformContainerSettings, parseSecurityOpt), limited to those that need no daemon
 * state. Messages are the daemon's, so scripts that look for them keep working. */
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/capability.h>

#include "util/fs.h"
#include "cli/runopts.h"
#include "cli/runopts_int.h"
#include "util/json.h"
#include "util/signals.h"

#define MIN_MEMORY (6 * 1024 * 1024) /* moby linuxMinMemory */
#define MIN_DURATION 1000000LL       /* containertypes.MinimumDuration: 1ms */

static int64_t geti (json_t *o, const char *k)
{
  return json_integer_value (json_object_get (o, k));
}
static const char *gets (json_t *o, const char *k)
{
  const char *s = json_string_value (json_object_get (o, k));
  return s ? s : "";
}

static int check_caps (json_t *list, const char *what, berr_t *err)
{
  size_t i;
  json_t *v;
  json_array_foreach (list, i, v)
  {
    const char *c = json_string_value (v);
    cap_value_t cv;
    if (c == NULL || strcmp (c, "ALL") == 0)
      continue;
    cleanup_free char *l = xstrdup (c);
    for (char *p = l; *p; p++)
      if (*p >= 'A' && *p <= 'Z')
        *p = (char)(*p - 'A' + 'a');
    if (!str_has_prefix (l, "cap_") || cap_from_name (l, &cv) != 0)
      return berr_setk (err, BERR_INVALID, 0, "invalid %s: unknown capability: \"%s\"", what, c);
  }
  return 0;
}

static int check_security_opts (json_t *list, berr_t *err)
{
  size_t i;
  json_t *v;
  json_array_foreach (list, i, v)
  {
    const char *o = json_string_value (v);
    if (!o || strcmp (o, "no-new-privileges") == 0 || strcmp (o, "writable-cgroups") == 0
        || strcmp (o, "disable") == 0)
      continue;
    const char *sep = strchr (o, '=');
    if (!sep)
      sep = strchr (o, ':');
    if (!sep)
      return berr_setk (err, BERR_INVALID, 0, "invalid --security-opt 1: \"%s\"", o);
    size_t kl = (size_t)(sep - o);
    const char *val = sep + 1;
    if ((kl == 5 && strncmp (o, "label", 5) == 0) || (kl == 8 && strncmp (o, "apparmor", 8) == 0)
        || (kl == 7 && strncmp (o, "seccomp", 7) == 0))
      continue;
    if ((kl == 17 && strncmp (o, "no-new-privileges", 17) == 0)
        || (kl == 16 && strncmp (o, "writable-cgroups", 16) == 0))
      {
        static const char *const b[]
            = { "1", "t", "T", "TRUE", "true", "True", "0", "f", "F", "FALSE", "false", "False" };
        for (size_t k = 0; k < ARRAY_SIZE (b); k++)
          if (strcmp (b[k], val) == 0)
            goto next;
      }
    return berr_setk (err, BERR_INVALID, 0, "invalid --security-opt 2: \"%s\"", o);
  next:;
  }
  return 0;
}

static int host_cpus (void)
{
  cpu_set_t set;
  if (sched_getaffinity (0, sizeof set, &set) == 0)
    return CPU_COUNT (&set);
  return 1;
}

static bool ipc_mode_ok (const char *m)
{
  return !*m || strcmp (m, "none") == 0 || strcmp (m, "private") == 0 || strcmp (m, "host") == 0
         || strcmp (m, "shareable") == 0 || str_has_prefix (m, "container:");
}

int runopts_verify (json_t *body, berr_t *err)
{
  json_t *cfg = json_object_get (body, "Config"), *hc = json_object_get (body, "HostConfig");
  const char *s;

  /* validateContainerConfig */
  s = gets (cfg, "WorkingDir");
  if (*s)
    {
      if (*s != '/')
        return berr_setk (err, BERR_INVALID, 0,
                          "the working directory '%s' is invalid, it needs to be an absolute path",
                          s);
      char *clean = fs_path_clean (s);
      json_object_set_new (cfg, "WorkingDir", json_string (clean));
      free (clean);
    }
  s = gets (cfg, "StopSignal");
  if (*s && signal_parse (s) < 0)
    return berr_setk (err, BERR_INVALID, 0, "invalid signal: %s", s);
  size_t i;
  json_t *v;
  json_array_foreach (json_object_get (cfg, "Env"), i, v)
  {
    const char *e = json_string_value (v);
    if (e && (*e == '\0' || *e == '='))
      return berr_setk (err, BERR_INVALID, 0, "invalid environment variable: %s", e);
  }
  json_t *hcheck = json_object_get (cfg, "Healthcheck");
  if (hcheck)
    {
      static const char *const d[] = { "Interval", "Timeout", "StartPeriod", "StartInterval" };
      for (size_t k = 0; k < ARRAY_SIZE (d); k++)
        {
          int64_t ns = geti (hcheck, d[k]);
          if (ns != 0 && ns < MIN_DURATION)
            return berr_setk (err, BERR_INVALID, 0, "%s in Healthcheck cannot be less than 1ms",
                              d[k]);
          if (k == 1 && geti (hcheck, "Retries") < 0)
            return berr_setk (err, BERR_INVALID, 0, "Retries in Healthcheck cannot be negative");
        }
    }

  /* validateHostConfig */
  json_t *rp = json_object_get (hc, "RestartPolicy");
  const char *rname = gets (rp, "Name");
  int64_t retries = geti (rp, "MaximumRetryCount");
  if (json_is_true (json_object_get (hc, "AutoRemove")) && *rname && strcmp (rname, "no"))
    return berr_setk (err, BERR_INVALID, 0,
                      "can't create 'AutoRemove' container with restart policy");
  const char *port;
  json_object_foreach (json_object_get (hc, "PortBindings"), port, v)
  {
    if (strtol (port, NULL, 10) == 0)
      return berr_setk (err, BERR_INVALID, 0, "invalid port specification: \"%s\"", port);
  }
  if (strcmp (rname, "always") == 0 || strcmp (rname, "unless-stopped") == 0
      || strcmp (rname, "no") == 0)
    {
      if (retries != 0)
        return berr_setk (err, BERR_INVALID, 0,
                          "invalid restart policy: maximum retry count can only be used with "
                          "'on-failure'%s",
                          retries < 0 ? " and cannot be negative" : "");
    }
  else if (strcmp (rname, "on-failure") == 0)
    {
      if (retries < 0)
        return berr_setk (err, BERR_INVALID, 0,
                          "invalid restart policy: maximum retry count cannot be negative");
    }
  else if (*rname)
    return berr_setk (err, BERR_INVALID, 0,
                      "invalid restart policy: unknown policy '%s'; use one of 'no', 'always', "
                      "'on-failure', or 'unless-stopped'",
                      rname);
  if (check_caps (json_object_get (hc, "CapAdd"), "CapAdd", err) < 0
      || check_caps (json_object_get (hc, "CapDrop"), "CapDrop", err) < 0)
    return -1;
  s = gets (hc, "Isolation");
  if (*s && strcasecmp (s, "default") != 0)
    return berr_setk (err, BERR_INVALID, 0, "invalid isolation '%s' on linux", s);
  if (json_object_get (json_object_get (hc, "Annotations"), ""))
    return berr_setk (err, BERR_INVALID, 0,
                      "invalid Annotations: the empty string is not permitted as an annotation "
                      "key");

  /* verifyPlatformContainerSettings */
  s = gets (cfg, "Hostname");
  if (strlen (s) > 64)
    return berr_setk (err, BERR_INVALID, 0, "hostname \"%s\" is too long (maximum 64 bytes)", s);
  int64_t mem = geti (hc, "Memory"), swap = geti (hc, "MemorySwap"),
          swappiness = geti (hc, "MemorySwappiness"), resv = geti (hc, "MemoryReservation"),
          nano = geti (hc, "NanoCpus"), period = geti (hc, "CpuPeriod"),
          quota = geti (hc, "CpuQuota"), blkio = geti (hc, "BlkioWeight");
  if (mem != 0 && mem < MIN_MEMORY)
    return berr_setk (err, BERR_INVALID, 0, "Minimum memory limit allowed is 6MB");
  if (mem > 0 && swap > 0 && swap < mem)
    return berr_setk (err, BERR_INVALID, 0,
                      "Minimum memoryswap limit should be larger than memory limit, see usage");
  if (mem == 0 && swap > 0)
    return berr_setk (err, BERR_INVALID, 0,
                      "You should always set the Memory limit when using Memoryswap limit, see "
                      "usage");
  if (swappiness != -1 && (swappiness < 0 || swappiness > 100))
    return berr_setk (err, BERR_INVALID, 0,
                      "Invalid value: %lld, valid memory swappiness range is 0-100",
                      (long long)swappiness);
  if (resv > 0 && resv < MIN_MEMORY)
    return berr_setk (err, BERR_INVALID, 0, "Minimum memory reservation allowed is 6MB");
  if (mem > 0 && resv > 0 && mem < resv)
    return berr_setk (err, BERR_INVALID, 0,
                      "Minimum memory limit can not be less than memory reservation limit, see "
                      "usage");
  if (nano > 0 && period > 0)
    return berr_setk (err, BERR_CONFLICT, 0,
                      "Conflicting options: Nano CPUs and CPU Period cannot both be set");
  if (nano > 0 && quota > 0)
    return berr_setk (err, BERR_CONFLICT, 0,
                      "Conflicting options: Nano CPUs and CPU Quota cannot both be set");
  if (nano != 0)
    {
      int nc = host_cpus ();
      if (nano < 0 || nano > (int64_t)nc * 1000000000LL)
        return berr_setk (err, BERR_INVALID, 0,
                          "range of CPUs is from 0.01 to %d.00, as there are only %d CPUs "
                          "available",
                          nc, nc);
    }
  if (period != 0 && (period < 1000 || period > 1000000))
    return berr_setk (err, BERR_INVALID, 0,
                      "CPU cfs period can not be less than 1ms (i.e. 1000) or larger than 1s "
                      "(i.e. 1000000)");
  if (quota > 0 && quota < 1000)
    return berr_setk (err, BERR_INVALID, 0, "CPU cfs quota can not be less than 1ms (i.e. 1000)");
  if (blkio > 0 && (blkio < 10 || blkio > 1000))
    return berr_setk (err, BERR_INVALID, 0, "Range of blkio weight is from 10 to 1000");
  s = gets (hc, "IpcMode");
  if (!ipc_mode_ok (s))
    return berr_setk (err, BERR_INVALID, 0, "invalid IPC mode: %s", s);
  s = gets (hc, "PidMode");
  if (*s && strcmp (s, "host") && !(str_has_prefix (s, "container:") && s[10]))
    return berr_setk (err, BERR_INVALID, 0, "invalid PID mode: %s", s);
  if (geti (hc, "ShmSize") < 0)
    return berr_setk (err, BERR_INVALID, 0, "SHM size can not be less than 0");
  s = gets (hc, "UTSMode");
  if (*s && strcmp (s, "host"))
    return berr_setk (err, BERR_INVALID, 0, "invalid UTS mode: %s", s);
  int64_t oom = geti (hc, "OomScoreAdj");
  if (oom < -1000 || oom > 1000)
    return berr_setk (err, BERR_INVALID, 0,
                      "Invalid value %lld, range for oom score adj is [-1000, 1000]",
                      (long long)oom);

  /* On the way to creating it: security options, then the storage driver. */
  if (check_security_opts (json_object_get (hc, "SecurityOpt"), err) < 0)
    return -1;
  if (json_object_size (json_object_get (hc, "StorageOpt")))
    return berr_setk (err, BERR_INVALID, 0,
                      "--storage-opt is supported only for overlay over xfs with 'pquota' mount "
                      "option");
  return 0;
}
