/* compose_up.c — `berth compose` up, down, create, start, stop, restart, kill, rm, ps, ls,
 * pause, unpause. */
#include "cli/compose_cli.h"

const struct compose_subcmd compose_lifecycle_cmds[] = {
  { NULL, NULL, NULL },
};
