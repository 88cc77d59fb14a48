/* ahash.h — SHA-256 on a second thread, over a ring of read buffers.
 *
 * Loading a layer reads every byte once and must hash all of them; on these 2-core machines
 * hashing beside the unpacking (instead of before it) takes the hash off the critical path.
 * The reader fills the ring's buffers in order (ahash_buffer, then ahash_submit) and may keep
 * reading a submitted buffer: the hasher only reads it too, and a buffer is handed out again only
 * after it is hashed and AHASH_SLOTS - 1 newer ones were handed out. If the thread cannot be
 * started, hashing happens in ahash_submit instead. */
#ifndef BERTH_AHASH_H
#define BERTH_AHASH_H

#include <pthread.h>

#include "util/digest.h"

#define AHASH_SLOTS 4

struct ahash
{
  struct sha256 sha;
  size_t slot_size;
  unsigned char *buf[AHASH_SLOTS];
  size_t len[AHASH_SLOTS];
  bool filled[AHASH_SLOTS];
  unsigned next_fill, next_hash;
  bool threaded, stop;
  pthread_t thread;
  pthread_mutex_t mu;
  pthread_cond_t cv;
};

void ahash_init (struct ahash *h, size_t slot_size);
/* The next buffer to read into (slot_size bytes); waits until it is free. */
unsigned char *ahash_buffer (struct ahash *h);
/* The buffer from ahash_buffer now holds len bytes to hash. */
void ahash_submit (struct ahash *h, size_t len);
/* Wait for everything submitted, stop the thread, out = "sha256:<hex>". */
void ahash_final (struct ahash *h, char out[DIGEST_STR_LEN]);
/* Stop and free (after ahash_final, or instead of it on an error path). */
void ahash_release (struct ahash *h);

#endif
