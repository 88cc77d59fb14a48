/* builder_fs.c — the build's filesystem work: overlay views of images, read-only roots for
 * --from, and a step's upper directory turned into a layer. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "build/builder_int.h"
#include "image/layer.h"
#include "util/fs.h"
#include "util/log.h"

char *builder_tmp (struct builder *b, const char *what)
{
  return xasprintf ("%s/%s%d", b->scratch, what, ++b->seq);
}

int image_layer_dirs (struct builder *b, const char *image_id, char ***dirs, berr_t *err)
{
  struct image_rec *rec = NULL;
  if (store_image_get (b->s, image_id, &rec, err) < 0)
    return -1;
  char **v = xcalloc (1, sizeof (char *));
  size_t n = strv_len (rec->diff_ids);
  for (size_t i = n; i > 0; i--)
    strv_push_take (&v, store_layer_dir (b->s, rec->diff_ids[i - 1]));
  image_rec_free (rec);
  *dirs = v;
  return 0;
}

int builder_mount_overlay (struct builder *b, char **lowers, const char *upper, const char *work,
                           const char *target, berr_t *err)
{
  if (container_overlay_mount (lowers, upper, work, target, err) < 0)
    return -1;
  strv_push (&b->mounts, target);
  return 0;
}

void builder_unmount (struct builder *b, const char *target)
{
  if (umount2 (target, MNT_DETACH) < 0 && errno != EINVAL && errno != ENOENT)
    log_warn ("build: unmount %s: %s", target, strerror (errno));
  for (size_t i = 0; b->mounts && b->mounts[i]; i++)
    if (strcmp (b->mounts[i], target) == 0)
      {
        free (b->mounts[i]);
        memmove (&b->mounts[i], &b->mounts[i + 1],
                 (strv_len (b->mounts + i + 1) + 1) * sizeof (char *));
        break;
      }
}

int builder_image_rootfs (struct builder *b, const char *image_id, char **path, berr_t *err)
{
  cleanup_strv char **lowers = NULL;
  if (image_id == NULL || *image_id == '\0')
    {
      char *empty = builder_tmp (b, "empty");
      if (mkdir (empty, 0755) < 0)
        {
          free (empty);
          return berr_set (err, errno, "create a scratch directory");
        }
      *path = empty;
      return 0;
    }
  if (image_layer_dirs (b, image_id, &lowers, err) < 0)
    return -1;
  size_t n = strv_len (lowers);
  if (n <= 1)
    {
      /* One layer is its own root; none is an empty one. */
      if (n == 1)
        {
          *path = xstrdup (lowers[0]);
          return 0;
        }
      return builder_image_rootfs (b, NULL, path, err);
    }
  cleanup_free char *target = builder_tmp (b, "from");
  if (mkdir (target, 0755) < 0)
    return berr_set (err, errno, "create %s", target);
  if (builder_mount_overlay (b, lowers, NULL, NULL, target, err) < 0)
    return -1;
  *path = steal_pointer (&target);
  return 0;
}

static int count_write (void *cookie, const void *buf, size_t len)
{
  (void)buf;
  *(uint64_t *)cookie += len;
  return 0;
}

void builder_layer_release (struct ingest_layer *l)
{
  if (l->staged_dir)
    {
      berr_t e = BERR_INIT;
      if (access (l->staged_dir, F_OK) == 0 && fs_rm_rf (l->staged_dir, &e) < 0)
        log_warn ("build: %s", e.msg);
      berr_release (&e);
    }
  free (l->staged_dir);
  free (l->staged_blob);
  free (l->staged_split);
  free (l->media_type);
  memset (l, 0, sizeof *l);
}

/* Set every mtime newer than the epoch to it (SOURCE_DATE_EPOCH), without following links. */
static int clamp_tree (int dirfd, int64_t epoch, berr_t *err)
{
  int fd = dup (dirfd);
  if (fd < 0)
    return berr_set (err, errno, "dup");
  DIR *d = fdopendir (fd);
  if (!d)
    {
      close (fd);
      return berr_set (err, errno, "opendir");
    }
  cleanup_closedir DIR *dd = d;
  rewinddir (d);
  struct dirent *de;
  while ((de = readdir (d)))
    {
      if (strcmp (de->d_name, ".") == 0 || strcmp (de->d_name, "..") == 0)
        continue;
      struct stat st;
      if (fstatat (dirfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
        return berr_set (err, errno, "stat %s", de->d_name);
      if (S_ISDIR (st.st_mode))
        {
          cleanup_close int sub
              = openat (dirfd, de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
          if (sub < 0 || clamp_tree (sub, epoch, err) < 0)
            return sub < 0 ? berr_set (err, errno, "open %s", de->d_name) : -1;
        }
      if (st.st_mtime > epoch)
        {
          struct timespec ts[2] = { { .tv_nsec = UTIME_OMIT }, { .tv_sec = epoch } };
          if (utimensat (dirfd, de->d_name, ts, AT_SYMLINK_NOFOLLOW) < 0)
            return berr_set (err, errno, "set the time of %s", de->d_name);
        }
    }
  return 0;
}

int builder_layer_from_dir (struct builder *b, const char *dir, struct ingest_layer *out,
                            berr_t *err)
{
  memset (out, 0, sizeof *out);
  cleanup_close int dfd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0)
    return berr_set (err, errno, "open %s", dir);
  {
    int fd = dup (dfd);
    DIR *d = fd >= 0 ? fdopendir (fd) : NULL;
    if (!d)
      {
        if (fd >= 0)
          close (fd);
        return berr_set (err, errno, "open %s", dir);
      }
    struct dirent *de;
    bool empty = true;
    while (empty && (de = readdir (d)))
      empty = strcmp (de->d_name, ".") == 0 || strcmp (de->d_name, "..") == 0;
    closedir (d);
    if (empty)
      return 1;
  }
  if (b->epoch >= 0)
    {
      if (clamp_tree (dfd, b->epoch, err) < 0)
        return -1;
      struct timespec ts[2] = { { .tv_nsec = UTIME_OMIT }, { .tv_sec = b->epoch } };
      (void)futimens (dfd, ts);
    }
  uint64_t n = 0, tar_size = 0;
  if (layer_diff (dfd, count_write, &n, out->diff_id, &tar_size, err) < 0)
    return berr_wrap (err, "layer of %s", dir);
  out->staged_dir = xstrdup (dir);
  out->tar_size = (int64_t)tar_size;
  out->size = fs_tree_size (dir);
  return 0;
}
