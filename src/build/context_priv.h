/* context_priv.h — the parts of the build context that fetch and unpack (context_fetch.c,
 * context_git.c), used by context.c. */
#ifndef BERTH_BUILD_CONTEXT_PRIV_H
#define BERTH_BUILD_CONTEXT_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

/* How many leading bytes the sniffers look at: two tar blocks, as the docker CLI peeks. */
#define CTX_PEEK_SIZE 1024

/* Read up to CTX_PEEK_SIZE bytes (fewer only at EOF) into buf; returns the count or -1. */
ssize_t ctx_peek (int fd, unsigned char *buf, berr_t *err);

/* Whether the leading bytes are a tar archive or a compressed stream (gzip, bzip2, xz, zstd),
 * the docker CLI's test for "a context or a Dockerfile": any compression magic, else a tar
 * header that parses. */
int ctx_is_archive (const unsigned char *buf, size_t len, bool *out, berr_t *err);

/* Unpack the (possibly compressed) tar made of pre (the peeked bytes) followed by the rest of
 * fd into the directory rootfd. Every entry is resolved inside rootfd; names are made relative,
 * entries that climb out ("../x") are refused; directories, regular files, symlinks and
 * hardlinks are created (modes and mtimes kept), other types skipped. max_size bounds the
 * bytes of file data (0: none). *raw receives the bytes read from pre+fd, fd drained to EOF. */
int ctx_unpack (const unsigned char *pre, size_t pre_len, int fd, int rootfd, uint64_t max_size,
                uint64_t *raw, berr_t *err);

/* GET (or HEAD) url with libcurl: redirects followed, http/https only, connect and stall
 * timeouts. The body goes to fd (-1: discarded), at most max bytes (0: no bound). *status is
 * the HTTP status, *status_text (may be NULL) the reason phrase line "404 Not Found",
 * *content_type (may be NULL) the Content-Type or NULL. Transport errors are returned as
 * errors; HTTP statuses are not. */
int ctx_http_get (const char *url, bool head, int fd, uint64_t max, long *status,
                  char **status_text, char **content_type, berr_t *err);

/* Docker's classification of a CONTEXT argument. */
bool ctx_is_url (const char *s);
bool ctx_is_git_url (const char *s);

/* Clone the git repository named by spec ("URL#ref:subdir") into dir (which must not exist);
 * *ctxdir receives the absolute context directory (dir or a subdirectory of it). */
int ctx_git_clone (const char *spec, const char *dir, char **ctxdir, berr_t *err);

#endif
