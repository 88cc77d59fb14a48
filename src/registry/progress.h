/* progress.h — what pull and push report while they work, for the CLI to draw Docker's
 * per-layer lines ("a1b2c3d4e5f6: Downloading [=====>    ]  12.3MB/45.6MB", "Pull complete").
 * Events come from worker threads but the engine serializes them: the callback is never run
 * twice at once. */
#ifndef BERTH_PROGRESS_H
#define BERTH_PROGRESS_H

#include <stdint.h>

enum reg_progress_state
{
  RP_MESSAGE,        /* a whole line for the image ("Pulling from library/busybox") */
  RP_WAITING,        /* "Waiting" */
  RP_PULLING_FS,     /* "Pulling fs layer" */
  RP_ALREADY_EXISTS, /* "Already exists" */
  RP_DOWNLOADING,    /* "Downloading", current/total bytes */
  RP_VERIFYING,      /* "Verifying Checksum" */
  RP_DOWNLOAD_DONE,  /* "Download complete" */
  RP_EXTRACTING,     /* "Extracting", current/total bytes */
  RP_PULL_COMPLETE,  /* "Pull complete" */
  RP_PREPARING,      /* push: "Preparing" */
  RP_PUSHING,        /* "Pushing", current/total */
  RP_PUSHED,         /* "Pushed" */
  RP_LAYER_EXISTS,   /* "Layer already exists" */
  RP_MOUNTED,        /* "Mounted from library/busybox" (message holds the repo) */
  RP_RETRYING,       /* "Retrying in N seconds" (message holds it) */
};

struct reg_progress
{
  const char *id; /* the layer's 12-hex short digest; NULL for RP_MESSAGE */
  enum reg_progress_state state;
  uint64_t current, total;
  const char *message;
};
typedef void (*reg_progress_fn) (void *cookie, const struct reg_progress *p);

#endif
