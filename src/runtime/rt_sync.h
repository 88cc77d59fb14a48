/* rt_sync.h — the messages on the SOCK_SEQPACKET socket between rt_spawn/rt_exec and the
 * process they create.  Shared with the trampoline, which is built without libc: only
 * fixed-size integer types here. */
#ifndef BERTH_RT_SYNC_H
#define BERTH_RT_SYNC_H

#include <stdint.h>

enum rt_sync_type
{
  RT_SYNC_GO = 1,     /* parent -> child: cgroup and id maps are in place, go on */
  RT_SYNC_ERROR,      /* child -> parent: errnum, kind, message follows the header */
  RT_SYNC_PTY,        /* child -> parent: the pty master, as SCM_RIGHTS */
  RT_SYNC_EXEC,       /* child -> parent: setup done, about to exec the trampoline */
  RT_SYNC_EXEC_ERRNO, /* trampoline -> parent: execve of the payload failed with errnum */
  RT_SYNC_PID,        /* exec helper -> parent: value is the new process's pid */
  RT_SYNC_HOOK,       /* child -> parent: run the hooks of stage `value` now; answered by GO */
};

struct rt_sync_msg
{
  int32_t type;
  int32_t errnum;
  int32_t kind;
  int32_t value;
  /* RT_SYNC_ERROR: the message text follows, not NUL-terminated */
};

#define RT_SYNC_MSG_MAX 4096

#endif
