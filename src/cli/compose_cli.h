/* compose_cli.h — `berth compose` subcommands. compose.c parses the global options and
 * dispatches to the tables below; each table lives with its commands. */
#ifndef BERTH_COMPOSE_CLI_H
#define BERTH_COMPOSE_CLI_H

#include "cli/cli.h"
#include "compose/compose.h"
#include "compose/engine.h"

struct compose_cli
{
  struct berth_ctx *ctx;
  struct compose_options *opts; /* the global -f/-p/--project-directory/--env-file/--profile */
  bool project_name_given;      /* -p or COMPOSE_PROJECT_NAME: commands may work without a file */
};

struct compose_subcmd
{
  const char *name;
  int (*fn) (struct compose_cli *cc, int argc, char **argv); /* argv[0] is the subcommand */
  const char *help;                                          /* one line for compose --help */
};
/* up, down, create, start, stop, restart, kill, rm, ps, ls, pause, unpause (compose_up.c) */
extern const struct compose_subcmd compose_lifecycle_cmds[];
/* logs, run, exec, top, port, images, build, pull, push (compose_cmds.c) */
extern const struct compose_subcmd compose_tool_cmds[];

/* Load the project (errors printed; returns an exit code > 0 on failure, 0 on success). */
int compose_cli_load (struct compose_cli *cc, struct compose_project **out);
/* A compose_ctx on the engine, with compose v2's progress lines on stderr as the event
 * callback. Returns an exit code > 0 on failure. */
int compose_cli_ctx (struct compose_cli *cc, struct compose_ctx *out);

/* Stream the logs of these containers with compose's coloured "name  | " prefixes (colour
 * only on a terminal; no_prefix drops them). follow: until every container has stopped (or a
 * signal); tail: -1 all; timestamps. Used by `logs` and by `up` without -d (compose_cmds.c). */
struct compose_logs_opts
{
  bool follow, timestamps, no_prefix, no_color;
  long tail;
  const char *since, *until;
  /* up --abort-on-container-exit: return when the first container exits, its name in
   * *exited (caller frees). */
  bool stop_at_first_exit;
  char **exited;
};
int compose_cli_logs (struct compose_cli *cc, struct container_rec **cs, size_t n,
                      const struct compose_logs_opts *o);

#endif
