#include "util/ahash.h"

#include <stdlib.h>
#include <string.h>

static void *hasher (void *arg)
{
  struct ahash *h = arg;
  pthread_mutex_lock (&h->mu);
  for (;;)
    {
      unsigned k = h->next_hash % AHASH_SLOTS;
      while (!h->filled[k] && !h->stop)
        pthread_cond_wait (&h->cv, &h->mu);
      if (!h->filled[k])
        break; /* stopped with nothing left */
      pthread_mutex_unlock (&h->mu);
      sha256_update (&h->sha, h->buf[k], h->len[k]);
      pthread_mutex_lock (&h->mu);
      h->filled[k] = false;
      h->next_hash++;
      pthread_cond_broadcast (&h->cv);
    }
  pthread_mutex_unlock (&h->mu);
  return NULL;
}

void ahash_init (struct ahash *h, size_t slot_size)
{
  memset (h, 0, sizeof *h);
  h->slot_size = slot_size;
  sha256_init (&h->sha);
  for (int i = 0; i < AHASH_SLOTS; i++)
    h->buf[i] = xmalloc (slot_size);
  pthread_mutex_init (&h->mu, NULL);
  pthread_cond_init (&h->cv, NULL);
  h->threaded = pthread_create (&h->thread, NULL, hasher, h) == 0;
}

unsigned char *ahash_buffer (struct ahash *h)
{
  unsigned k = h->next_fill % AHASH_SLOTS;
  if (h->threaded)
    {
      pthread_mutex_lock (&h->mu);
      while (h->filled[k])
        pthread_cond_wait (&h->cv, &h->mu);
      pthread_mutex_unlock (&h->mu);
    }
  return h->buf[k];
}

void ahash_submit (struct ahash *h, size_t len)
{
  unsigned k = h->next_fill % AHASH_SLOTS;
  if (!h->threaded)
    {
      sha256_update (&h->sha, h->buf[k], len);
      h->next_fill++;
      return;
    }
  pthread_mutex_lock (&h->mu);
  h->len[k] = len;
  h->filled[k] = true;
  h->next_fill++;
  pthread_cond_broadcast (&h->cv);
  pthread_mutex_unlock (&h->mu);
}

static void stop_thread (struct ahash *h)
{
  if (!h->threaded)
    return;
  pthread_mutex_lock (&h->mu);
  h->stop = true;
  pthread_cond_broadcast (&h->cv);
  pthread_mutex_unlock (&h->mu);
  pthread_join (h->thread, NULL);
  h->threaded = false;
}

void ahash_final (struct ahash *h, char out[DIGEST_STR_LEN])
{
  /* The thread drains every filled slot before it sees stop. */
  stop_thread (h);
  sha256_final (&h->sha, out);
}

void ahash_release (struct ahash *h)
{
  stop_thread (h);
  sha256_release (&h->sha);
  for (int i = 0; i < AHASH_SLOTS; i++)
    {
      free (h->buf[i]);
      h->buf[i] = NULL;
    }
  pthread_mutex_destroy (&h->mu);
  pthread_cond_destroy (&h->cv);
}
