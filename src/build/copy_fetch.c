/* copy_fetch.c — ADD <url>: the download (libcurl, loaded lazily) into the build's temporary
 * directory, its digest, the optional --checksum, and the file name the URL gives.
 *
 * As Docker: the file is named after the last element of the URL's path (else the
 * Content-Disposition filename); Last-Modified, when the server sends it, dates the file (else
 * the epoch); only http and https,
 * redirects followed (up to 10) on those schemes only; an HTTP error status fails. */
#define CURL_DISABLE_TYPECHECK 1
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "build/copy_int.h"
#include "util/fs.h"
#include "util/lazylib.h"

bool copy_is_url (const char *s)
{
  return str_has_prefix (s, "http://") || str_has_prefix (s, "https://");
}

static int hexval (char c)
{
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

char *copy_url_filename (const char *url)
{
  const char *p = strstr (url, "://");
  p = p ? p + 3 : url;
  size_t hostlen = strcspn (p, "/?#");
  p += hostlen;
  size_t plen = strcspn (p, "?#");
  if (plen == 0 || p[plen - 1] == '/')
    return xstrdup ("");
  const char *start = p + plen;
  while (start > p && start[-1] != '/')
    start--;
  /* The path as Go's url.URL.Path holds it: percent-decoded. */
  struct sbuf b;
  sbuf_init (&b);
  for (const char *c = start; c < p + plen; c++)
    {
      if (c[0] == '%' && c + 2 < p + plen + 1 && hexval (c[1]) >= 0 && hexval (c[2]) >= 0)
        {
          sbuf_addc (&b, (char)(hexval (c[1]) * 16 + hexval (c[2])));
          c += 2;
        }
      else
        sbuf_addc (&b, *c);
    }
  char *name = sbuf_detach (&b);
  /* A decoded '/' or a dot name cannot be a file name. */
  if (strchr (name, '/') || strcmp (name, ".") == 0 || strcmp (name, "..") == 0)
    name[0] = '\0';
  return name;
}

struct sink
{
  char *disposition; /* the last response's Content-Disposition */
  int fd;
  uint64_t size, max;
  struct sha256 h;
  bool too_big;
};

static size_t sink_write (char *ptr, size_t size, size_t nmemb, void *userdata)
{
  struct sink *k = userdata;
  size_t n = size * nmemb;
  if (k->size + n > k->max)
    {
      k->too_big = true;
      return 0;
    }
  if (fs_write_all (k->fd, ptr, n) < 0)
    return 0;
  sha256_update (&k->h, ptr, n);
  k->size += n;
  return n;
}

static size_t sink_header (char *buf, size_t size, size_t nitems, void *userdata)
{
  struct sink *k = userdata;
  size_t n = size * nitems;
  if (n >= 5 && strncmp (buf, "HTTP/", 5) == 0)
    {
      free (k->disposition); /* a new response (after a redirect) */
      k->disposition = NULL;
    }
  else if (n > 20 && strncasecmp (buf, "Content-Disposition:", 20) == 0)
    {
      free (k->disposition);
      k->disposition = xstrndup (buf + 20, n - 20);
    }
  return n;
}

/* The filename parameter of a Content-Disposition value ("" when none), as Go's
 * mime.ParseMediaType gives it: a token or a quoted string with '\\' escapes. */
char *copy_disposition_filename (const char *v)
{
  struct sbuf b;
  sbuf_init (&b);
  const char *p = strchr (v, ';');
  while (p)
    {
      p++;
      p += strspn (p, " \t");
      if (strncasecmp (p, "filename=", 9) != 0)
        {
          p = strchr (p, ';');
          continue;
        }
      p += 9;
      if (*p == '"')
        {
          for (p++; *p && *p != '"'; p++)
            {
              if (*p == '\\' && p[1])
                p++;
              sbuf_addc (&b, *p);
            }
        }
      else
        sbuf_add (&b, p, strcspn (p, "; \t\r\n"));
      break;
    }
  char *name = sbuf_detach (&b);
  size_t len = strlen (name);
  if (len == 0 || name[len - 1] == '/')
    {
      name[0] = '\0';
      return name;
    }
  char *slash = strrchr (name, '/');
  if (slash)
    memmove (name, slash + 1, strlen (slash + 1) + 1);
  if (strcmp (name, ".") == 0 || strcmp (name, "..") == 0)
    name[0] = '\0';
  return name;
}

static int tmpfile_in (const char *dir)
{
  int fd = open (dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
  if (fd >= 0 || (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL))
    return fd;
  cleanup_free char *tmpl = xasprintf ("%s/add-XXXXXX", dir);
  fd = mkostemp (tmpl, O_CLOEXEC);
  if (fd >= 0)
    unlink (tmpl);
  return fd;
}

int copy_fetch_url (const char *url, const char *tmpdir, const char *checksum, uint64_t max,
                    struct copy_src *src, berr_t *err)
{
  if (lazy_curl_load (err) < 0)
    return -1;
  cleanup_close int fd = tmpfile_in (tmpdir && tmpdir[0] ? tmpdir : "/tmp");
  if (fd < 0)
    return berr_set (err, errno, "download %s: temporary file in %s", url, tmpdir);
  struct sink k = { .fd = fd, .max = max };
  sha256_init (&k.h);
  CURL *c = curl_easy_init ();
  if (c == NULL)
    {
      sha256_release (&k.h);
      return berr_set (err, ENOMEM, "download %s: curl_easy_init", url);
    }
  char ebuf[CURL_ERROR_SIZE] = "";
  curl_easy_setopt (c, CURLOPT_URL, url);
  curl_easy_setopt (c, CURLOPT_FOLLOWLOCATION, 1L);
  curl_easy_setopt (c, CURLOPT_MAXREDIRS, 10L);
  curl_easy_setopt (c, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt (c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  curl_easy_setopt (c, CURLOPT_WRITEFUNCTION, sink_write);
  curl_easy_setopt (c, CURLOPT_WRITEDATA, &k);
  curl_easy_setopt (c, CURLOPT_HEADERFUNCTION, sink_header);
  curl_easy_setopt (c, CURLOPT_HEADERDATA, &k);
  curl_easy_setopt (c, CURLOPT_ERRORBUFFER, ebuf);
  curl_easy_setopt (c, CURLOPT_FILETIME, 1L);
  curl_easy_setopt (c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt (c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)max);
  curl_easy_setopt (c, CURLOPT_USERAGENT, "berth-build");
  CURLcode rc = curl_easy_perform (c);
  long status = 0;
  curl_off_t ftime = -1;
  curl_easy_getinfo (c, CURLINFO_RESPONSE_CODE, &status);
  curl_easy_getinfo (c, CURLINFO_FILETIME_T, &ftime);
  curl_easy_cleanup (c);
  char got[DIGEST_STR_LEN];
  sha256_final (&k.h, got);
  cleanup_free char *disposition = k.disposition;
  if (k.too_big || rc == CURLE_FILESIZE_EXCEEDED)
    return berr_setk (err, BERR_INVALID, 0, "download %s: larger than %llu bytes", url,
                      (unsigned long long)max);
  if (rc != CURLE_OK)
    return berr_set (err, 0, "download %s: %s", url, ebuf[0] ? ebuf : curl_easy_strerror (rc));
  if (status >= 400)
    return berr_setk (err, status == 404 ? BERR_NOT_FOUND : 0, 0,
                      "failed to GET %s with status %ld", url, status);
  if (checksum && checksum[0] && strcmp (checksum, got) != 0)
    return berr_setk (err, BERR_CORRUPT, 0, "digest mismatch for %s: expected %s, got %s", url,
                      checksum, got);
  if (lseek (fd, 0, SEEK_SET) < 0)
    return berr_set (err, errno, "download %s", url);
  src->name = copy_url_filename (url);
  if (src->name[0] == '\0' && disposition)
    {
      free (src->name);
      src->name = copy_disposition_filename (disposition);
    }
  src->fd = steal_fd (&fd);
  /* Docker dates the file by Last-Modified, or else the zero time, which becomes the epoch. */
  src->mtime = ftime >= 0 ? (int64_t)ftime : 0;
  memcpy (src->digest, got, sizeof got);
  return 0;
}
