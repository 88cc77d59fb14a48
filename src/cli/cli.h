/* cli.h — the command line: argv -> request -> one core call -> output and exit code.
 * Printing and exit codes live only under src/cli. */
#ifndef BERTH_CLI_H
#define BERTH_CLI_H

#include <jansson.h>

#include "store/store.h"
#include "util/err.h"

/* Docker's exit codes. */
#define EXIT_ENGINE 125 /* flag errors, engine errors in run */
#define EXIT_CANNOT_EXEC 126
#define EXIT_NOT_FOUND 127

struct berth_ctx
{
  const char *root;
  const char *runroot;
  const char *config_path;
  json_t *config;          /* berth's config file, or an empty object */
  uint64_t max_layer_size; /* from config "max-layer-size"; 0 = no bound */
  bool no_sync;            /* config "sync": false */
  struct store *store;     /* opened on first use */
  const char *cmdpath;     /* "berth images" for messages */
};

/* Open the store on first use (errors are printed; returns -1). */
int ctx_store (struct berth_ctx *ctx, struct store **out);

/* Print "Error: <msg>" and return the exit code for it (1). */
int cli_error (berr_t *err);
/* Print a formatted error and return 1. */
int cli_errorf (const char *fmt, ...) PRINTF_LIKE (1, 2);

/* ---- flags (docker/pflag conventions) ---- */
enum opt_type
{
  OPT_BOOL,
  OPT_STRING,
  OPT_STRINGS, /* repeatable, collected into a strv */
  OPT_INT,
  OPT_FUNC, /* a typed value (pflag's Value): ptr is a const struct opt_func * */
};

struct opt
{
  const char *name; /* long name without "--" */
  char shorthand;   /* 0 for none */
  enum opt_type type;
  void *ptr;           /* bool*, const char**, char***, long*, const struct opt_func* */
  const char *metavar; /* "string", "filter", "list", "int" */
  const char *help;    /* NULL: a hidden flag (accepted, not listed in --help) */
};

/* OPT_FUNC: set() checks and stores one value. On error it returns -1 with *msg (heap) saying
 * why; opts_parse prints pflag's `invalid argument "V" for "-m, --memory" flag: <msg>`. */
struct opt_func
{
  int (*set) (void *data, const char *value, char **msg);
  void *data;
  bool is_bool; /* like OPT_BOOL: no value unless written --flag=value; set() gets "true" */
};

struct cmd_spec
{
  const char *use; /* "images [OPTIONS] [REPOSITORY[:TAG]]" */
  const char *short_help;
  const char *aliases;    /* "berth image ls, berth image list, berth images" or NULL */
  const struct opt *opts; /* terminated by an entry with name NULL */
  int min_args;
  int max_args;          /* -1: unlimited */
  const char *args_desc; /* for "requires at least 1 argument" wording: NULL -> generic */
};

/* Parse argv[1..]; positional arguments are left in *args (NULL-terminated array to free, its
 * strings pointing into argv). Returns 0 to go on, -1 when help was printed (exit 0), or an exit
 * code > 0 after printing a usage error (125 for flags, 1 for the argument count). */
int opts_parse (const struct cmd_spec *spec, const char *cmdpath, int argc, char **argv,
                char ***args);
void opts_print_help (const struct cmd_spec *spec, const char *cmdpath, FILE *out);
/* opts_parse with options: OPTS_STOP_AT_FIRST_ARG ends the flags at the first positional
 * argument, as pflag's SetInterspersed(false) does for docker run/create/exec: in
 * `run -it img sh -c 'ls -l'` the -l belongs to the command. */
#define OPTS_STOP_AT_FIRST_ARG 0x1u
int opts_parse_flags (const struct cmd_spec *spec, const char *cmdpath, int argc, char **argv,
                      char ***args, unsigned flags);
/* Go's strconv.Quote, for messages that print a value with %q (caller frees). */
char *opts_quote (const char *s);

/* ---- output helpers (format.c) ---- */
/* "2 weeks ago" from ns since the epoch. */
char *fmt_since (int64_t ns);
/* Docker's decimal size with 3 significant digits, "4.26MB" (images, history). */
char *fmt_size (int64_t bytes);
/* units.HumanSize, 4 significant digits (system df, prune totals). */
char *fmt_size4 (int64_t bytes);
/* Docker's stringutils.Ellipsis: at most max runes, the last one "…" when cut. */
char *fmt_ellipsis (const char *s, size_t max);
/* Docker's "Are you sure you want to continue? [y/N]" after a warning. */
bool cli_confirm (const char *warning);
extern int64_t prune_reclaimed_before;
int cmd_system_prune (int argc, char **argv, struct berth_ctx *ctx);
/* Remove unused volumes (anonymous only unless all); prints Docker's report unless reclaimed is
 * given. Implemented with the volume commands. */
int prune_volumes (struct berth_ctx *ctx, bool all, char **labels, int64_t *reclaimed);
/* 12-hex short ID of "sha256:<hex>" (or of a bare hex). */
char *fmt_short_id (const char *id);
/* Print rows through --format (table/json/template) or the default table format.
 * Returns an exit code. */
int print_rows (json_t *rows, const char *format, const char *default_table, json_t *headers);
/* Print inspect output: a JSON array (4-space indent) or, with a format, the template per object.
 */
int print_inspect (json_t *objs, const char *format);

/* ---- verbs ---- */
typedef int (*cmd_fn) (int argc, char **argv, struct berth_ctx *ctx);

int cmd_build (int argc, char **argv, struct berth_ctx *ctx);
int cmd_images (int argc, char **argv, struct berth_ctx *ctx);
int cmd_load (int argc, char **argv, struct berth_ctx *ctx);
int cmd_pull (int argc, char **argv, struct berth_ctx *ctx);
/* Pull reference with Docker's progress on out (run/create/build: stderr or the build output),
 * then "Digest:" and "Status:" lines unless quiet; id (may be NULL) receives the image ID.
 * Errors are printed; returns -1. */
int cli_pull_image (struct berth_ctx *ctx, const char *reference, const char *platform, FILE *out,
                    bool quiet, char id[DIGEST_STR_LEN]);
int cmd_save (int argc, char **argv, struct berth_ctx *ctx);
int cmd_import (int argc, char **argv, struct berth_ctx *ctx);
int cmd_tag (int argc, char **argv, struct berth_ctx *ctx);
int cmd_push (int argc, char **argv, struct berth_ctx *ctx);
int cmd_rmi (int argc, char **argv, struct berth_ctx *ctx);
int cmd_image_inspect (int argc, char **argv, struct berth_ctx *ctx);
int cmd_inspect (int argc, char **argv, struct berth_ctx *ctx);
int cmd_history (int argc, char **argv, struct berth_ctx *ctx);
int cmd_image_prune (int argc, char **argv, struct berth_ctx *ctx);
/* Set by system prune: image prune then also prunes the build cache (before its total). */
extern bool prune_build_cache_too;
/* builder.c: prune the build cache (all: every row, else only dangling cache; until_ns: rows last
 * used before, 0 any); prints Docker's "Deleted build cache objects:" section; reclaimed grows.
 * Returns an exit code. */
int prune_build_cache (struct berth_ctx *ctx, bool all, int64_t until_ns, int64_t *reclaimed);
int cmd_builder_prune (int argc, char **argv, struct berth_ctx *ctx);
int cmd_version (int argc, char **argv, struct berth_ctx *ctx);
/* berth compose (src/cli/compose.c) */
int cmd_compose (int argc, char **argv, struct berth_ctx *ctx);
int cmd_info (int argc, char **argv, struct berth_ctx *ctx);
int cmd_system_df (int argc, char **argv, struct berth_ctx *ctx);
int cmd_volume_create (int argc, char **argv, struct berth_ctx *ctx);
int cmd_volume_ls (int argc, char **argv, struct berth_ctx *ctx);
int cmd_volume_inspect (int argc, char **argv, struct berth_ctx *ctx);
int cmd_volume_rm (int argc, char **argv, struct berth_ctx *ctx);
int cmd_volume_prune (int argc, char **argv, struct berth_ctx *ctx);
int cmd_network_create (int argc, char **argv, struct berth_ctx *ctx);
int cmd_network_ls (int argc, char **argv, struct berth_ctx *ctx);
int cmd_network_inspect (int argc, char **argv, struct berth_ctx *ctx);
int cmd_network_rm (int argc, char **argv, struct berth_ctx *ctx);
int cmd_network_prune (int argc, char **argv, struct berth_ctx *ctx);
/* Append the inspect JSON of one network to out; -1 with err (BERR_NOT_FOUND when there is no
 * such network). */
int inspect_network (struct berth_ctx *ctx, const char *name, json_t *out, berr_t *err);
/* Remove unused custom networks (filters: until=, label=, label!=); prints Docker's
 * "Deleted Networks:" report when report is true. Returns an exit code. */
int prune_networks (struct berth_ctx *ctx, char **filters, bool report);

/* containers (container.c, run.c, exec.c) */
struct engine;
struct container_rec;
/* The engine for this invocation (opens the store). Errors are printed; returns -1. */
int ctx_engine (struct berth_ctx *ctx, struct engine **out);
/* Attach local stdio to a running container's monitor; consumes c. Returns the exit code. */
int attach_container (struct engine *e, struct container_rec *c, bool no_stdin, bool sig_proxy,
                      const char *detach_keys);
int prune_containers (struct berth_ctx *ctx, char **labels, int64_t until, bool report,
                      int64_t *reclaimed);
/* Append the inspect JSON of each container found to out; names not found go to missing. */
int inspect_containers (struct berth_ctx *ctx, char **names, json_t *out, bool size,
                        char ***missing);
char *container_status_text (const struct container_rec *c);
int cmd_run (int argc, char **argv, struct berth_ctx *ctx);
int cmd_create (int argc, char **argv, struct berth_ctx *ctx);
int cmd_start (int argc, char **argv, struct berth_ctx *ctx);
int cmd_ps (int argc, char **argv, struct berth_ctx *ctx);
int cmd_stop (int argc, char **argv, struct berth_ctx *ctx);
int cmd_restart (int argc, char **argv, struct berth_ctx *ctx);
int cmd_kill (int argc, char **argv, struct berth_ctx *ctx);
int cmd_rm (int argc, char **argv, struct berth_ctx *ctx);
int cmd_wait (int argc, char **argv, struct berth_ctx *ctx);
int cmd_pause (int argc, char **argv, struct berth_ctx *ctx);
int cmd_unpause (int argc, char **argv, struct berth_ctx *ctx);
int cmd_rename (int argc, char **argv, struct berth_ctx *ctx);
int cmd_port (int argc, char **argv, struct berth_ctx *ctx);
int cmd_network_connect (int argc, char **argv, struct berth_ctx *ctx);
int cmd_network_disconnect (int argc, char **argv, struct berth_ctx *ctx);
int cmd_container_netns (int argc, char **argv, struct berth_ctx *ctx);
int cmd_logs (int argc, char **argv, struct berth_ctx *ctx);
int cmd_attach (int argc, char **argv, struct berth_ctx *ctx);
int cmd_container_prune (int argc, char **argv, struct berth_ctx *ctx);
int cmd_container_inspect (int argc, char **argv, struct berth_ctx *ctx);
int cmd_container_cleanup (int argc, char **argv, struct berth_ctx *ctx);
int cmd_top (int argc, char **argv, struct berth_ctx *ctx);
int cmd_stats (int argc, char **argv, struct berth_ctx *ctx);
int cmd_update (int argc, char **argv, struct berth_ctx *ctx);
int cmd_exec (int argc, char **argv, struct berth_ctx *ctx);
int cmd_container_healthcheck (int argc, char **argv, struct berth_ctx *ctx);
int cmd_cp (int argc, char **argv, struct berth_ctx *ctx);
int cmd_commit (int argc, char **argv, struct berth_ctx *ctx);
int cmd_diff (int argc, char **argv, struct berth_ctx *ctx);
int cmd_login (int argc, char **argv, struct berth_ctx *ctx);
int cmd_logout (int argc, char **argv, struct berth_ctx *ctx);

/* fvbommel/sortorder.NaturalLess: digit runs compare as numbers ("v2" before "v10"). */
bool cli_natural_less (const char *a, const char *b);
/* "k1=v1,k2=v2" with the keys sorted. */
char *cli_labels_string (json_t *labels);

#endif
