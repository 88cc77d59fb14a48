/* cgroup.h — cgroup mode detection (v2 unified, v1 legacy, hybrid). The resource drivers come
 * with the runtime. */
#ifndef BERTH_CGROUP_H
#define BERTH_CGROUP_H

enum cgroup_mode
{
  CGROUP_MODE_NONE = 0, /* nothing mounted at /sys/fs/cgroup */
  CGROUP_MODE_V1,       /* legacy: v1 controllers only */
  CGROUP_MODE_HYBRID,   /* v1 controllers + cgroup2 at /sys/fs/cgroup/unified */
  CGROUP_MODE_V2,       /* unified */
};

/* Detect the mode of the cgroup hierarchy mounted at root (normally "/sys/fs/cgroup"). */
enum cgroup_mode cgroup_detect_mode (const char *root);
const char *cgroup_mode_name (enum cgroup_mode m);

#endif
