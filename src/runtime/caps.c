/* caps.c — capability names and the rules Docker uses to turn --cap-add, --cap-drop and
 * --privileged into the container's capability set. */
#include "caps.h"

#include <ctype.h>
#include <errno.h>
#include <linux/capability.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>

/* The names the kernel headers define (include/uapi/linux/capability.h).  A kernel newer than
 * this table may know more; those have no name here and are never granted, because an OCI
 * spec can only list capabilities by name. */
static const char *const cap_names[] = {
  [CAP_CHOWN] = "CAP_CHOWN",
  [CAP_DAC_OVERRIDE] = "CAP_DAC_OVERRIDE",
  [CAP_DAC_READ_SEARCH] = "CAP_DAC_READ_SEARCH",
  [CAP_FOWNER] = "CAP_FOWNER",
  [CAP_FSETID] = "CAP_FSETID",
  [CAP_KILL] = "CAP_KILL",
  [CAP_SETGID] = "CAP_SETGID",
  [CAP_SETUID] = "CAP_SETUID",
  [CAP_SETPCAP] = "CAP_SETPCAP",
  [CAP_LINUX_IMMUTABLE] = "CAP_LINUX_IMMUTABLE",
  [CAP_NET_BIND_SERVICE] = "CAP_NET_BIND_SERVICE",
  [CAP_NET_BROADCAST] = "CAP_NET_BROADCAST",
  [CAP_NET_ADMIN] = "CAP_NET_ADMIN",
  [CAP_NET_RAW] = "CAP_NET_RAW",
  [CAP_IPC_LOCK] = "CAP_IPC_LOCK",
  [CAP_IPC_OWNER] = "CAP_IPC_OWNER",
  [CAP_SYS_MODULE] = "CAP_SYS_MODULE",
  [CAP_SYS_RAWIO] = "CAP_SYS_RAWIO",
  [CAP_SYS_CHROOT] = "CAP_SYS_CHROOT",
  [CAP_SYS_PTRACE] = "CAP_SYS_PTRACE",
  [CAP_SYS_PACCT] = "CAP_SYS_PACCT",
  [CAP_SYS_ADMIN] = "CAP_SYS_ADMIN",
  [CAP_SYS_BOOT] = "CAP_SYS_BOOT",
  [CAP_SYS_NICE] = "CAP_SYS_NICE",
  [CAP_SYS_RESOURCE] = "CAP_SYS_RESOURCE",
  [CAP_SYS_TIME] = "CAP_SYS_TIME",
  [CAP_SYS_TTY_CONFIG] = "CAP_SYS_TTY_CONFIG",
  [CAP_MKNOD] = "CAP_MKNOD",
  [CAP_LEASE] = "CAP_LEASE",
  [CAP_AUDIT_WRITE] = "CAP_AUDIT_WRITE",
  [CAP_AUDIT_CONTROL] = "CAP_AUDIT_CONTROL",
  [CAP_SETFCAP] = "CAP_SETFCAP",
  [CAP_MAC_OVERRIDE] = "CAP_MAC_OVERRIDE",
  [CAP_MAC_ADMIN] = "CAP_MAC_ADMIN",
  [CAP_SYSLOG] = "CAP_SYSLOG",
  [CAP_WAKE_ALARM] = "CAP_WAKE_ALARM",
  [CAP_BLOCK_SUSPEND] = "CAP_BLOCK_SUSPEND",
  [CAP_AUDIT_READ] = "CAP_AUDIT_READ",
  [38] = "CAP_PERFMON",
  [39] = "CAP_BPF",
  [40] = "CAP_CHECKPOINT_RESTORE",
};

/* Docker's defaults (moby daemon/pkg/oci/caps/defaults.go), in Docker's order. */
static const char *const docker_default[] = {
  "CAP_CHOWN",
  "CAP_DAC_OVERRIDE",
  "CAP_FSETID",
  "CAP_FOWNER",
  "CAP_MKNOD",
  "CAP_NET_RAW",
  "CAP_SETGID",
  "CAP_SETUID",
  "CAP_SETFCAP",
  "CAP_SETPCAP",
  "CAP_NET_BIND_SERVICE",
  "CAP_SYS_CHROOT",
  "CAP_KILL",
  "CAP_AUDIT_WRITE",
  NULL,
};

#define NCAPS ((int)ARRAY_SIZE (cap_names))

/* Docker's normal form: upper case, "CAP_" prefixed unless it already is.  "ALL" stays. */
static char *normalize (const char *name)
{
  char *up = xstrdup (name);
  for (char *p = up; *p; p++)
    *p = (char)toupper ((unsigned char)*p);
  if (strcmp (up, "ALL") == 0 || str_has_prefix (up, "CAP_"))
    return up;
  char *pref = xasprintf ("CAP_%s", up);
  free (up);
  return pref;
}

int caps_from_name (const char *name)
{
  if (name == NULL || *name == '\0')
    return -1;
  cleanup_free char *n = normalize (name);
  for (int i = 0; i < NCAPS; i++)
    if (cap_names[i] && strcmp (cap_names[i], n) == 0)
      return i;
  return -1;
}

const char *caps_name (int cap)
{
  if (cap < 0 || cap >= NCAPS)
    return NULL;
  return cap_names[cap];
}

int caps_last_cap (void)
{
  cleanup_fclose FILE *f = fopen ("/proc/sys/kernel/cap_last_cap", "re");
  int last;
  if (f && fscanf (f, "%d", &last) == 1 && last >= 0 && last < 64)
    return last;
  /* No /proc: probe the bounding set, which answers EINVAL past the last capability. */
  for (last = 0; last < 63; last++)
    if (prctl (PR_CAPBSET_READ, (unsigned long)last + 1, 0, 0, 0) < 0 && errno == EINVAL)
      return last;
  return CAP_LAST_CAP;
}

uint64_t caps_host_bounding (void)
{
  cleanup_fclose FILE *f = fopen ("/proc/self/status", "re");
  char line[256];
  while (f && fgets (line, sizeof line, f))
    {
      if (!str_has_prefix (line, "CapBnd:"))
        continue;
      char *end;
      errno = 0;
      unsigned long long v = strtoull (line + 7, &end, 16);
      if (errno == 0 && end != line + 7)
        return v;
      break;
    }
  uint64_t mask = 0;
  for (int c = 0; c < 64; c++)
    {
      int r = prctl (PR_CAPBSET_READ, (unsigned long)c, 0, 0, 0);
      if (r < 0)
        break;
      if (r == 1)
        mask |= UINT64_C (1) << c;
    }
  return mask;
}

const char *const *caps_docker_default (void) { return docker_default; }

static bool in_bounding (uint64_t bounding, int cap)
{
  return cap >= 0 && cap < 64 && (bounding & (UINT64_C (1) << cap)) != 0;
}

/* One parsed --cap-add / --cap-drop list: the capabilities named and whether "ALL" was. */
struct cap_list
{
  uint64_t mask;
  bool all;
};

static int parse_list (char *const *names, struct cap_list *l, berr_t *err)
{
  *l = (struct cap_list){ 0, false };
  for (size_t i = 0; names && names[i]; i++)
    {
      cleanup_free char *n = normalize (names[i]);
      if (strcmp (n, "ALL") == 0)
        {
          l->all = true;
          continue;
        }
      int c = caps_from_name (n);
      if (c < 0)
        return berr_setk (err, BERR_INVALID, 0, "unknown capability: \"%s\"", n);
      l->mask |= UINT64_C (1) << c;
    }
  return 0;
}

static uint64_t named_in (uint64_t bounding)
{
  uint64_t m = 0;
  for (int c = 0; c < NCAPS && c < 64; c++)
    if (cap_names[c] && in_bounding (bounding, c))
      m |= UINT64_C (1) << c;
  return m;
}

int caps_compute_bounded (char *const *cap_add, char *const *cap_drop, bool privileged,
                          uint64_t bounding, char ***out, berr_t *err)
{
  uint64_t all = named_in (bounding), set = 0;
  struct cap_list add, drop;

  *out = NULL;
  /* Docker ignores --cap-add and --cap-drop (unchecked) when privileged.  Where Docker would
   * list every capability it knows, and the runtime would then fail on one the host's bounding
   * set lacks, the grant here is what the bounding set has. */
  if (privileged)
    set = all;
  else if (strv_len (cap_add) == 0 && strv_len (cap_drop) == 0)
    {
      for (size_t i = 0; docker_default[i]; i++)
        set |= UINT64_C (1) << caps_from_name (docker_default[i]);
    }
  else
    {
      /* Docker checks the drop list before the add list, so its error comes first. */
      if (parse_list (cap_drop, &drop, err) < 0 || parse_list (cap_add, &add, err) < 0)
        return -1;
      for (int c = 0; c < 64; c++)
        if ((add.mask & (UINT64_C (1) << c)) && !in_bounding (bounding, c))
          return berr_setk (err, BERR_INVALID, 0,
                            "cannot add capability \"%s\": the host's capability bounding set "
                            "lacks it",
                            caps_name (c));
      if (add.all)
        set = all & ~drop.mask; /* "ALL" in both lists: add wins, as in Docker */
      else if (drop.all)
        set = add.mask;
      else
        {
          for (size_t i = 0; docker_default[i]; i++)
            set |= UINT64_C (1) << caps_from_name (docker_default[i]);
          set = (set & ~drop.mask) | add.mask;
        }
    }
  /* A default the bounding set lacks (say, inside another container) cannot be granted; leave it
   * out rather than fail every container at start. */
  set &= all;

  /* An empty set is an empty list, not NULL: "no capabilities" is a valid answer. */
  char **v = xzalloc (sizeof (char *));
  for (int c = 0; c < 64; c++)
    if (set & (UINT64_C (1) << c))
      strv_push (&v, caps_name (c));
  *out = v;
  return 0;
}

int caps_compute (char *const *cap_add, char *const *cap_drop, bool privileged, char ***out,
                  berr_t *err)
{
  return caps_compute_bounded (cap_add, cap_drop, privileged, caps_host_bounding (), out, err);
}
