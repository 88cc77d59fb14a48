/* copy_int.h — what copy.c, copy_write.c, copy_fetch.c and copy_match.c share. */
#ifndef BERTH_BUILD_COPY_INT_H
#define BERTH_BUILD_COPY_INT_H

#include <sys/stat.h>

#include "build/copy.h"

/* One file or directory below a resolved source, in depth-first order (parents first). */
struct copy_entry
{
  char *sub; /* path below the source ("" for the source itself) */
  struct stat st;
  char *link;    /* symlink target */
  bool implicit; /* a directory excluded by .dockerignore that holds re-included files */
};

enum copy_src_kind
{
  COPY_SRC_PATH,   /* a file or directory under src_root */
  COPY_SRC_INLINE, /* a heredoc */
  COPY_SRC_URL,    /* ADD: a downloaded file (in tmpdir) */
};

struct copy_src
{
  int kind;
  char *given; /* the source as written, for messages */
  char *name;  /* the name a file gets inside a destination directory */
  char *rel;   /* PATH: the resolved path relative to src_root ("." for the root) */
  int fd;      /* PATH: O_PATH fd of the resolved source; URL: the downloaded file */
  bool is_dir;
  bool archive; /* ADD: a local tar archive, extracted */
  struct copy_entry *entries;
  size_t n_entries;
  char *content; /* INLINE: a copy */
  size_t len;
  int64_t mtime;               /* URL: Last-Modified, or the download time */
  char digest[DIGEST_STR_LEN]; /* URL: the downloaded bytes */
};

struct copy_job
{
  int src_root;
  bool from_context;
  bool add;
  char *instr;
  char *dest;      /* absolute, cleaned, trailing '/' kept */
  bool dest_slash; /* the destination as written ended in '/' */
  char *chown;
  bool has_chmod;
  mode_t chmod;
  struct copy_src *srcs;
  size_t n_srcs;
  uint64_t files, bytes;
};

/* copy_fetch.c: download url into tmpdir (at most max bytes), fill src (fd, name, mtime,
 * digest), verify checksum when given. */
int copy_fetch_url (const char *url, const char *tmpdir, const char *checksum, uint64_t max,
                    struct copy_src *src, berr_t *err);
/* The file name a URL gives ("" when it has none: path empty or ending in '/'). New string. */
char *copy_url_filename (const char *url);
bool copy_is_url (const char *s);
/* The filename parameter of a Content-Disposition header value ("" when none). New string. */
char *copy_disposition_filename (const char *v);

/* copy_write.c */
int copy_write_job (struct copy_job *j, int dst_root, int lookup_root, int64_t clamp_mtime,
                    berr_t *err);
/* Whether fd (a regular file) holds a tar archive, maybe compressed; false on any error. */
bool copy_is_archive (int fd);

/* copy_match.c: whether s has an unescaped '*', '?' or '['. */
bool copy_has_wildcards (const char *s);

/* copy.c: a regular file of a PATH source opened for reading (sub "": the source). */
int copy_open_src_file (const struct copy_src *s, const char *sub);

/* openat2 RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS: path below dirfd, nothing followed. */
int copy_open_beneath (int dirfd, const char *path, int flags);

#endif
