/* layer_split.h — internal: the tar-split kept instead of a second copy of an uncompressed layer
 * (see layer_apply_opts.use_split). Used by layer.c only. */
#ifndef BERTH_LAYER_SPLIT_H
#define BERTH_LAYER_SPLIT_H

#include "util/err.h"

enum split_state
{
  SPLIT_OFF,          /* not in use: raw bytes go to the blob */
  SPLIT_ACTIVE,       /* recording */
  SPLIT_MATERIALIZED, /* given up: the tar so far was written to the blob, the rest follows */
};

struct split
{
  enum split_state state;
  int fd;            /* the split file */
  int blob_fd;       /* where to materialize */
  int root;          /* the layer being unpacked */
  struct sbuf pend;  /* stream bytes not yet written as an R record */
  uint64_t pend_off; /* stream offset of pend.buf[0] */
  uint64_t skip_to;  /* stream bytes below this belong to a recorded file: not kept */
  bool file_open;    /* a regular file's data is being extracted (no materializing now) */
  bool started;      /* the magic has been written */
  bool tail;         /* past the end of the archive: keep everything */
};

void split_init (struct split *sp, int fd, int blob_fd, int root);
void split_release (struct split *sp);
/* Stream bytes [off, off+len) as the tar reader receives them. */
int split_feed (struct split *sp, const void *buf, size_t len, uint64_t off, berr_t *err);
/* The tar reader consumed everything before data_start (a header was read). */
int split_header (struct split *sp, uint64_t data_start, berr_t *err);
/* The tar reader has consumed the stream up to consumed: what is buffered below it is kept. */
int split_consumed (struct split *sp, uint64_t consumed, berr_t *err);
/* The archive's entries are done; what follows (end blocks, trailing bytes) is all kept. */
void split_tail (struct split *sp);
/* A regular file whose data is stream bytes [data_start, data_start + size), stored at path. */
int split_file (struct split *sp, const char *path, uint64_t data_start, uint64_t size,
                berr_t *err);
void split_file_done (struct split *sp);
/* Give up: write the tar seen so far into blob_fd and continue there. */
int split_materialize (struct split *sp, berr_t *err);
/* End of the stream: flush what is pending. */
int split_finish (struct split *sp, berr_t *err);

#endif
