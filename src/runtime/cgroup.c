#include "cgroup.h"

#include <linux/magic.h>
#include <stdio.h>
#include <sys/vfs.h>

enum cgroup_mode cgroup_detect_mode (const char *root)
{
  struct statfs st;
  if (statfs (root, &st) < 0)
    return CGROUP_MODE_NONE;
  if (st.f_type == CGROUP2_SUPER_MAGIC)
    return CGROUP_MODE_V2;
  if (st.f_type != TMPFS_MAGIC)
    return CGROUP_MODE_NONE;
  char unified[4096];
  snprintf (unified, sizeof unified, "%s/unified", root);
  if (statfs (unified, &st) == 0 && st.f_type == CGROUP2_SUPER_MAGIC)
    return CGROUP_MODE_HYBRID;
  return CGROUP_MODE_V1;
}

const char *cgroup_mode_name (enum cgroup_mode m)
{
  switch (m)
    {
    case CGROUP_MODE_V1:
      return "v1";
    case CGROUP_MODE_HYBRID:
      return "hybrid";
    case CGROUP_MODE_V2:
      return "v2";
    default:
      return "none";
    }
}
