/* libFuzzer target: layer tars. Apply the input (any compression) into a fresh directory, with
 * a small size bound, then remove it. Must never crash, leak, or write outside the directory
 * (the directory's parent is checked to hold nothing else afterwards). Run as root. */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "image/layer.h"
#include "util/fs.h"

static char base[64];

struct src
{
  const uint8_t *p;
  size_t n, off;
};

static ssize_t rd (void *cookie, void *buf, size_t len)
{
  struct src *s = cookie;
  size_t k = s->n - s->off < len ? s->n - s->off : len;
  memcpy (buf, s->p + s->off, k);
  s->off += k;
  return (ssize_t)k;
}

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  if (base[0] == '\0')
    {
      snprintf (base, sizeof base, "/tmp/berth-fuzz-layer-XXXXXX");
      if (mkdtemp (base) == NULL)
        abort ();
    }
  char root[128];
  snprintf (root, sizeof root, "%s/root", base);
  if (mkdir (root, 0755) < 0)
    abort ();
  int dfd = open (root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  struct src s = { data, size, 0 };
  struct layer_apply_opts o = { 1 << 20, -1, false, -1 };
  struct layer_apply_result res;
  berr_t err = BERR_INIT;
  (void)layer_apply (rd, &s, dfd, &o, &res, &err);
  berr_release (&err);
  close (dfd);
  if (fs_rm_rf (root, &err) < 0)
    abort ();
  /* nothing may have appeared beside the root */
  if (rmdir (base) < 0)
    abort ();
  if (mkdir (base, 0700) < 0)
    abort ();
  return 0;
}
