/* builder_int.h — shared between the files of the build engine (builder*.c). */
#ifndef BERTH_BUILD_BUILDER_INT_H
#define BERTH_BUILD_BUILDER_INT_H

#include <jansson.h>

#include "build/build.h"
#include "build/dockerfile.h"
#include "build/shell.h"
#include "store/store.h"

struct stage
{
  size_t index;
  char *name;              /* lower-cased AS name, or NULL */
  struct df_node *from;    /* its FROM */
  size_t first, end;       /* instructions: nodes [first, end) after the FROM */
  bool needed;             /* on the way to the target */
  bool done;               /* built (id, config final) */
  bool scratch_base;       /* FROM scratch and nothing with a layer yet */
  char id[DIGEST_STR_LEN]; /* current image ("" for scratch before any step) */
  json_t *config;          /* current full image config (owned) */
  char **args;             /* ARGs declared in this stage: "K=V" (value) or "K" (none) */
  bool cmd_set;            /* CMD given in this stage (ENTRYPOINT keeps it) */
  char *rootfs;            /* read-only view of its layers for --from, or NULL */
  bool rootfs_mounted;     /* rootfs is a mount of ours (else a layer directory) */
};

struct builder
{
  struct engine *e;
  struct store *s;
  const struct build_opts *o;
  struct build_context *ctx;
  struct df_result *df;
  char escape;
  char **meta_args;  /* ARGs before the first FROM, resolved: "K=V" or "K" */
  char **build_args; /* --build-arg resolved: "K=V" */
  char **used_args;  /* build-arg names some ARG consumed */
  struct stage *stages;
  size_t n_stages;
  int step, total;
  char *scratch; /* this build's private directory in the staging area */
  int seq;
  int64_t epoch; /* SOURCE_DATE_EPOCH, or -1 */
  /* results not in the store yet (committed together before the next step that needs them) */
  struct ingest_layer *layers;
  size_t n_layers;
  struct ingest_image *images;
  size_t n_images;
  char **mounts;   /* our mounts to take down at the end (deepest last) */
  bool canceled;   /* SIGINT/SIGTERM/SIGHUP/SIGQUIT arrived: stop at the next step */
  bool tty;        /* the live view: colours, step times, RUN output framed */
  int64_t step_t0; /* when the current step began (ns, monotonic) */
};

/* Output (nothing with -q). */
void bout (struct builder *b, const char *fmt, ...) __attribute__ ((format (printf, 2, 3)));
/* A step's header and its result line (" ---> id", with the step's time on a terminal). */
void bout_step (struct builder *b, const char *original);
void bout_result (struct builder *b, const char *id);
/* The live view of a RUN (builder_tty.c): a thread that frames the container's output read from
 * two pipes and keeps a status line with the elapsed time. */
struct tty_view;
int tty_view_start (struct builder *b, const char *what, int *out_w, int *err_w,
                    struct tty_view **out, berr_t *err);
void tty_view_finish (struct tty_view *v);
int64_t mono_ns (void);
/* The first 12 hex digits of an id ("sha256:…" or bare). */
const char *short_id (const char *id);

/* The variables of an expansion in the stage: its ARGs with values, then the image's Env (ENV
 * wins over ARG). NULL-terminated strv, caller frees. */
char **stage_expand_env (struct builder *b, struct stage *st);
int expand_word (struct builder *b, struct stage *st, const char *word, char **out, berr_t *err);

/* Time of new images: SOURCE_DATE_EPOCH or now. */
int64_t build_now (struct builder *b);

/* A metadata-only step: the stage's config object changed into newcfg, with history created_by.
 * Looks the cache up first. Takes newcfg. */
int step_commit_meta (struct builder *b, struct stage *st, json_t *newcfg, const char *created_by,
                      const char *key_extra, berr_t *err);
/* Cache: the key of a step, a lookup that moves the stage to the cached image (1 hit, 0 miss). */
void step_key (struct builder *b, struct stage *st, const char *created_by, const char *extra,
               char key[DIGEST_STR_LEN]);
int step_cache_try (struct builder *b, struct stage *st, const char *key, berr_t *err);
/* Record a new image for the stage: layer (may be NULL = empty layer) and new config. */
int step_record (struct builder *b, struct stage *st, struct ingest_layer *layer, json_t *newcfg,
                 const char *created_by, const char *key, berr_t *err);
/* Commit the pending images and layers to the store. */
int builder_flush (struct builder *b, berr_t *err);

/* Filesystem helpers (builder_fs.c). */
char *builder_tmp (struct builder *b, const char *what);
/* Layer directories of an image, topmost first (strv). */
int image_layer_dirs (struct builder *b, const char *image_id, char ***dirs, berr_t *err);
/* Mount an overlay of the image's layers with upper/work at target (lowers only: read-only). */
int builder_mount_overlay (struct builder *b, char **lowers, const char *upper, const char *work,
                           const char *target, berr_t *err);
void builder_unmount (struct builder *b, const char *target);
/* A directory holding the image's (or stage's) root filesystem, read-only, for --from. */
int builder_image_rootfs (struct builder *b, const char *image_id, char **path, berr_t *err);
/* The upper directory of a step -> a staged layer (diff_id, sizes). 1 when it holds nothing
 * (no layer). */
int builder_layer_from_dir (struct builder *b, const char *dir, struct ingest_layer *out,
                            berr_t *err);
void builder_layer_release (struct ingest_layer *l);

/* Steps (builder_steps.c, builder_run.c). */
int step_dispatch (struct builder *b, struct stage *st, struct df_node *n, berr_t *err);
int step_run (struct builder *b, struct stage *st, struct df_node *n, berr_t *err);
int step_copy (struct builder *b, struct stage *st, struct df_node *n, berr_t *err);
int step_workdir (struct builder *b, struct stage *st, struct df_node *n, berr_t *err);
/* Find a stage by name or index, only those before `before`; NULL when none. */
struct stage *stage_find (struct builder *b, const char *name, size_t before);
/* The rootfs of a --from value: an earlier stage, else an image. */
int builder_from_rootfs (struct builder *b, struct stage *st, const char *from, char **path,
                         berr_t *err);
/* A flag's value ("--from=x" -> "x"), NULL when absent. */
const char *node_flag (const struct df_node *n, const char *name);

#endif
