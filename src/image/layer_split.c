/* layer_split.c — the tar-split: an uncompressed layer tar kept as its headers plus references to
 * the unpacked files, so `save` can replay the exact bytes (same diff_id) without the layer being
 * stored twice.
 *
 * File format: the magic "BSPL1\n", then records:
 *   'R' <u32 len> <len bytes>                  bytes of the tar stream kept verbatim
 *   'F' <u64 size> <u32 pathlen> <path bytes>  size bytes of data: the file at path (in the layer)
 * Integers are little-endian. Records follow the stream order; together they are the tar. */
#include "image/layer_split.h"

#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "image/layer.h"
#include "util/fs.h"

static const char magic[] = "BSPL1\n";
#define MAGIC_LEN 6
#define MAX_PATH_RECORD 65536
#define COPY_BUF (1 << 20)

void split_init (struct split *sp, int fd, int blob_fd, int root)
{
  memset (sp, 0, sizeof *sp);
  sp->state = SPLIT_ACTIVE;
  sp->fd = fd;
  sp->blob_fd = blob_fd;
  sp->root = root;
  sbuf_init (&sp->pend);
}

void split_release (struct split *sp) { sbuf_release (&sp->pend); }

static int put (struct split *sp, const void *data, size_t len, berr_t *err)
{
  if (!sp->started)
    {
      sp->started = true;
      if (fs_write_all (sp->fd, magic, MAGIC_LEN) < 0)
        return berr_set (err, errno, "write tar-split");
    }
  if (len && fs_write_all (sp->fd, data, len) < 0)
    return berr_set (err, errno, "write tar-split");
  return 0;
}

/* Write pend bytes below upto as R records (each at most 1 GiB: the length is a u32). */
static int flush_upto (struct split *sp, uint64_t upto, berr_t *err)
{
  if (upto <= sp->pend_off || sp->pend.len == 0)
    return 0;
  size_t n = (size_t)(upto - sp->pend_off);
  if (n > sp->pend.len)
    n = sp->pend.len;
  for (size_t done = 0; done < n;)
    {
      size_t k = n - done > (1u << 30) ? (1u << 30) : n - done;
      uint32_t le = htole32 ((uint32_t)k);
      if (put (sp, "R", 1, err) < 0 || put (sp, &le, sizeof le, err) < 0
          || put (sp, sp->pend.buf + done, k, err) < 0)
        return -1;
      done += k;
    }
  memmove (sp->pend.buf, sp->pend.buf + n, sp->pend.len - n);
  sp->pend.len -= n;
  sp->pend_off += n;
  return 0;
}

/* The tar reader is past these bytes, and none of them is a recorded file's data (those are
 * never buffered): headers, padding, data of entries that are not kept as files. Writing them
 * out now keeps the buffer to about the reader's read-ahead, whatever the entries hold. */
int split_consumed (struct split *sp, uint64_t consumed, berr_t *err)
{
  if (sp->state != SPLIT_ACTIVE)
    return 0;
  return flush_upto (sp, consumed, err);
}

void split_tail (struct split *sp) { sp->tail = true; }

int split_feed (struct split *sp, const void *buf, size_t len, uint64_t off, berr_t *err)
{
  if (sp->state == SPLIT_MATERIALIZED)
    {
      if (fs_write_all (sp->blob_fd, buf, len) < 0)
        return berr_set (err, errno, "write blob");
      return 0;
    }
  if (sp->state != SPLIT_ACTIVE)
    return 0;
  const char *p = buf;
  if (off < sp->skip_to)
    {
      uint64_t drop = sp->skip_to - off;
      if (drop >= len)
        return 0;
      p += drop;
      len -= (size_t)drop;
      off += drop;
    }
  if (sp->pend.len == 0)
    sp->pend_off = off;
  sbuf_add (&sp->pend, p, len);
  /* After the end of the archive everything is kept as it comes. */
  if (sp->tail)
    return flush_upto (sp, sp->pend_off + sp->pend.len, err);
  return 0;
}

int split_header (struct split *sp, uint64_t data_start, berr_t *err)
{
  if (sp->state != SPLIT_ACTIVE)
    return 0;
  return flush_upto (sp, data_start, err);
}

int split_file (struct split *sp, const char *path, uint64_t data_start, uint64_t size, berr_t *err)
{
  if (sp->state != SPLIT_ACTIVE)
    return 0;
  if (flush_upto (sp, data_start, err) < 0)
    return -1;
  size_t pl = strlen (path);
  if (pl >= MAX_PATH_RECORD)
    return split_materialize (sp, err);
  uint64_t le_size = htole64 (size);
  uint32_t le_pl = htole32 ((uint32_t)pl);
  if (put (sp, "F", 1, err) < 0 || put (sp, &le_size, sizeof le_size, err) < 0
      || put (sp, &le_pl, sizeof le_pl, err) < 0 || put (sp, path, pl, err) < 0)
    return -1;
  sp->skip_to = data_start + size;
  /* Drop the file's bytes the reader has already handed over. */
  if (sp->pend.len)
    {
      uint64_t end = sp->pend_off + sp->pend.len;
      uint64_t keep_from = sp->skip_to < end ? sp->skip_to : end;
      size_t drop = (size_t)(keep_from - sp->pend_off);
      memmove (sp->pend.buf, sp->pend.buf + drop, sp->pend.len - drop);
      sp->pend.len -= drop;
      sp->pend_off = keep_from;
    }
  sp->file_open = true;
  return 0;
}

void split_file_done (struct split *sp) { sp->file_open = false; }

static int blob_write (void *cookie, const void *buf, size_t len)
{
  return fs_write_all (*(int *)cookie, buf, len);
}

int split_materialize (struct split *sp, berr_t *err)
{
  if (sp->state != SPLIT_ACTIVE)
    return 0;
  /* The current file's bytes were partly dropped and are not on disk yet: nothing can be
   * rebuilt. The caller checks for replacements before a file's data starts, so this is a bug. */
  if (sp->file_open)
    return berr_set (err, 0, "tar-split: cannot materialize in the middle of a file");
  if (lseek (sp->fd, 0, SEEK_SET) < 0 || ftruncate (sp->blob_fd, 0) < 0
      || lseek (sp->blob_fd, 0, SEEK_SET) < 0)
    return berr_set (err, errno, "tar-split: rewind");
  struct stat st;
  if (fstat (sp->fd, &st) < 0)
    return berr_set (err, errno, "tar-split: stat");
  if (st.st_size > 0 && layer_split_replay (sp->fd, sp->root, blob_write, &sp->blob_fd, err) < 0)
    return berr_wrap (err, "tar-split: materialize");
  if (sp->pend.len && fs_write_all (sp->blob_fd, sp->pend.buf, sp->pend.len) < 0)
    return berr_set (err, errno, "write blob");
  sbuf_release (&sp->pend);
  if (ftruncate (sp->fd, 0) < 0)
    return berr_set (err, errno, "tar-split: truncate");
  sp->state = SPLIT_MATERIALIZED;
  return 0;
}

int split_finish (struct split *sp, berr_t *err)
{
  if (sp->state != SPLIT_ACTIVE)
    return 0;
  /* An empty stream still gets a valid (empty) split. */
  if (put (sp, NULL, 0, err) < 0)
    return -1;
  return flush_upto (sp, sp->pend_off + sp->pend.len, err);
}

/* ---- replay ---- */

struct reader
{
  int fd;
  char *buf;
  size_t len, off;
};

static int rd_exact (struct reader *r, void *out, size_t n, berr_t *err)
{
  char *o = out;
  while (n > 0)
    {
      if (r->off == r->len)
        {
          ssize_t got = read (r->fd, r->buf, COPY_BUF);
          if (got < 0 && errno == EINTR)
            continue;
          if (got < 0)
            return berr_set (err, errno, "read tar-split");
          if (got == 0)
            return berr_setk (err, BERR_CORRUPT, 0, "tar-split is truncated");
          r->len = (size_t)got;
          r->off = 0;
        }
      size_t k = r->len - r->off < n ? r->len - r->off : n;
      memcpy (o, r->buf + r->off, k);
      r->off += k;
      o += k;
      n -= k;
    }
  return 0;
}

/* 1 at a clean end of the records, 0 when a tag was read. */
static int rd_tag (struct reader *r, char *tag, berr_t *err)
{
  if (r->off == r->len)
    {
      ssize_t got;
      do
        got = read (r->fd, r->buf, COPY_BUF);
      while (got < 0 && errno == EINTR);
      if (got < 0)
        return berr_set (err, errno, "read tar-split");
      if (got == 0)
        return 1;
      r->len = (size_t)got;
      r->off = 0;
    }
  *tag = r->buf[r->off++];
  return 0;
}

static int replay_file (struct reader *r, int dirfd, char *copy, layer_write_fn wr, void *cookie,
                        berr_t *err)
{
  uint64_t size;
  uint32_t pl;
  if (rd_exact (r, &size, sizeof size, err) < 0 || rd_exact (r, &pl, sizeof pl, err) < 0)
    return -1;
  size = le64toh (size);
  pl = le32toh (pl);
  if (pl == 0 || pl >= MAX_PATH_RECORD)
    return berr_setk (err, BERR_CORRUPT, 0, "tar-split: bad path length %u", pl);
  cleanup_free char *path = xmalloc (pl + 1);
  if (rd_exact (r, path, pl, err) < 0)
    return -1;
  path[pl] = '\0';
  cleanup_close int fd = fs_open_in_root (dirfd, path, O_RDONLY | O_NOFOLLOW, 0);
  if (fd < 0)
    return berr_set (err, errno, "tar-split: open %s", path);
  struct stat st;
  if (fstat (fd, &st) < 0 || !S_ISREG (st.st_mode) || (uint64_t)st.st_size != size)
    return berr_setk (err, BERR_CORRUPT, 0, "tar-split: %s is not the %llu-byte file recorded",
                      path, (unsigned long long)size);
  while (size > 0)
    {
      ssize_t got = read (fd, copy, size < COPY_BUF ? (size_t)size : COPY_BUF);
      if (got < 0 && errno == EINTR)
        continue;
      if (got <= 0)
        return berr_set (err, got < 0 ? errno : 0, "tar-split: read %s", path);
      if (wr (cookie, copy, (size_t)got) < 0)
        return berr_set (err, errno, "tar-split: write");
      size -= (uint64_t)got;
    }
  return 0;
}

int layer_split_replay (int split_fd, int dirfd, layer_write_fn wr, void *cookie, berr_t *err)
{
  cleanup_free char *buf = xmalloc (COPY_BUF);
  cleanup_free char *copy = xmalloc (COPY_BUF);
  struct reader r = { split_fd, buf, 0, 0 };
  char m[MAGIC_LEN];
  if (rd_exact (&r, m, MAGIC_LEN, err) < 0)
    return -1;
  if (memcmp (m, magic, MAGIC_LEN) != 0)
    return berr_setk (err, BERR_CORRUPT, 0, "not a tar-split");
  for (;;)
    {
      char tag = 0;
      int t = rd_tag (&r, &tag, err);
      if (t < 0)
        return -1;
      if (t == 1)
        return 0;
      if (tag == 'R')
        {
          uint32_t n;
          if (rd_exact (&r, &n, sizeof n, err) < 0)
            return -1;
          n = le32toh (n);
          while (n > 0)
            {
              size_t k = n < COPY_BUF ? n : COPY_BUF;
              if (rd_exact (&r, copy, k, err) < 0)
                return -1;
              if (wr (cookie, copy, k) < 0)
                return berr_set (err, errno, "tar-split: write");
              n -= (uint32_t)k;
            }
        }
      else if (tag == 'F')
        {
          if (replay_file (&r, dirfd, copy, wr, cookie, err) < 0)
            return -1;
        }
      else
        return berr_setk (err, BERR_CORRUPT, 0, "tar-split: bad record '%c'", tag);
    }
}
