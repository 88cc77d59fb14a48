/* compose_cmds.c — `berth compose` logs, run, exec, top, port, images, build, pull, push. */
#include "cli/compose_cli.h"

const struct compose_subcmd compose_tool_cmds[] = {
  { NULL, NULL, NULL },
};
