/* client_blob.c — streamed blob reads, pulled by the consumer.
 *
 * reg_blob_read is called from layer_apply's read callback, so the transfer is driven from
 * inside it: each reader owns a curl multi handle and runs curl_multi_perform/poll until the
 * write callback has put bytes into the caller's buffer. The callback writes straight into that
 * buffer; what does not fit goes to a spill buffer, and past SPILL_MAX the transfer pauses, so
 * memory stays bounded however slowly the consumer reads.
 *
 * A transfer that fails mid-stream (reset, stall, 5xx) is restarted from the registry URL with
 * "Range: bytes=N-"; a server that ignores the range and answers 200 has its first N bytes
 * dropped. Redirects (blob storage) are followed without credentials. */
#include <errno.h>
#include <string.h>

#include "registry/client_int.h"
#include "util/digest.h"
#include "util/log.h"

#define SPILL_MAX (4u << 20)

struct reg_blob_reader
{
  struct reg_session *s;
  char *path;
  char *scope;
  char *digest;
  char *home; /* origin of the registry endpoint ("" for a mirror: no credentials) */
  int64_t size;
  uint64_t delivered;

  CURLM *multi;
  CURL *easy;
  struct curl_slist *hdrs;
  char *url;
  bool running;
  bool done;
  CURLcode result;
  char ebuf[CURL_ERROR_SIZE];
  struct http_resp resp;
  bool streaming; /* a 2xx answer's headers are complete */
  bool paused;
  bool too_long;
  bool bad_range;
  bool bad_digest;
  uint64_t start; /* the offset this transfer asked for */
  uint64_t skip;  /* bytes still to drop (200 answer to a range request) */
  int attempts;   /* failed attempts so far */
  int redirects;
  bool authed;
  unsigned auth_gen;

  char *dst;
  size_t dst_len;
  size_t dst_got;
  struct sbuf spill;
  size_t spill_off;

  bool eof;
  bool failed;
  berr_t err;
};

static size_t blob_write_cb (char *p, size_t size, size_t nmemb, void *u)
{
  struct reg_blob_reader *r = u;
  size_t n = size * nmemb;
  long st = r->resp.status;
  if (st < 200 || st >= 300)
    {
      if (st >= 300 && st < 400)
        return n;
      size_t room = REG_ERRBODY_MAX - r->resp.body.len;
      if (n > room)
        {
          sbuf_add (&r->resp.body, p, room);
          r->resp.body_truncated = true;
          return 0;
        }
      sbuf_add (&r->resp.body, p, n);
      return n;
    }
  if (r->bad_range || r->bad_digest)
    return 0;
  size_t pending = r->spill.len - r->spill_off;
  if (pending >= SPILL_MAX && (r->dst == NULL || r->dst_got == r->dst_len))
    {
      r->paused = true;
      return CURL_WRITEFUNC_PAUSE;
    }
  size_t orig = n;
  if (r->skip > 0)
    {
      size_t k = r->skip < n ? (size_t)r->skip : n;
      r->skip -= k;
      p += k;
      n -= k;
    }
  if (n == 0)
    return orig;
  if (r->delivered + n > (uint64_t)r->size)
    {
      r->too_long = true;
      return 0;
    }
  r->delivered += n;
  if (r->dst && r->dst_got < r->dst_len)
    {
      size_t k = r->dst_len - r->dst_got;
      if (k > n)
        k = n;
      memcpy (r->dst + r->dst_got, p, k);
      r->dst_got += k;
      p += k;
      n -= k;
    }
  if (n > 0)
    {
      if (r->spill_off > 0 && r->spill_off == r->spill.len)
        {
          sbuf_reset (&r->spill);
          r->spill_off = 0;
        }
      sbuf_add (&r->spill, p, n);
    }
  return orig;
}

static size_t blob_header_cb (char *p, size_t size, size_t nmemb, void *u)
{
  struct reg_blob_reader *r = u;
  size_t n = size * nmemb;
  http_header_cb (p, size, nmemb, &r->resp);
  if ((n == 2 && p[0] == '\r') || (n == 1 && p[0] == '\n'))
    {
      long st = r->resp.status;
      if (st >= 200 && st < 300)
        {
          r->streaming = true;
          /* blob storage behind a redirect does not send it; the registry must not lie */
          if (r->resp.docker_digest && strcmp (r->resp.docker_digest, r->digest) != 0)
            r->bad_digest = true;
          if (r->start > 0 && st == 206)
            {
              /* "bytes N-M/T": must start where we asked */
              const char *cr = r->resp.content_range;
              unsigned long long a = 0;
              if (cr == NULL || sscanf (cr, "bytes %llu-", &a) != 1 || a != r->start)
                r->bad_range = true;
            }
          else if (r->start > 0)
            r->skip = r->start;
        }
    }
  return n;
}

static void transfer_stop (struct reg_blob_reader *r)
{
  if (r->easy)
    {
      curl_multi_remove_handle (r->multi, r->easy);
      curl_easy_setopt (r->easy, CURLOPT_HTTPHEADER, NULL);
      http_handle_put (r->s, r->easy);
      r->easy = NULL;
    }
  curl_slist_free_all (r->hdrs);
  r->hdrs = NULL;
  r->running = false;
  r->paused = false;
}

static int transfer_start (struct reg_blob_reader *r)
{
  transfer_stop (r);
  cleanup_free char *origin = url_origin (r->url);
  bool home = strcmp (origin, r->home) == 0;
  if (home)
    {
      int rc = 0;
      char *authz = auth_header (r->s, r->scope, &r->auth_gen, &r->err, &rc);
      if (rc < 0)
        return -1;
      if (authz)
        r->hdrs = curl_slist_append (r->hdrs, authz);
      free (authz);
    }
  r->start = r->delivered;
  r->skip = 0;
  if (r->start > 0)
    {
      char range[64];
      snprintf (range, sizeof range, "Range: bytes=%llu-", (unsigned long long)r->start);
      r->hdrs = curl_slist_append (r->hdrs, range);
    }
  r->easy = http_handle_get (r->s, r->url);
  if (r->easy == NULL)
    return berr_set (&r->err, ENOMEM, "curl handle");
  curl_easy_setopt (r->easy, CURLOPT_HTTPHEADER, r->hdrs);
  curl_easy_setopt (r->easy, CURLOPT_HTTPGET, 1L);
  curl_easy_setopt (r->easy, CURLOPT_HEADERFUNCTION, blob_header_cb);
  curl_easy_setopt (r->easy, CURLOPT_HEADERDATA, r);
  curl_easy_setopt (r->easy, CURLOPT_WRITEFUNCTION, blob_write_cb);
  curl_easy_setopt (r->easy, CURLOPT_WRITEDATA, r);
  curl_easy_setopt (r->easy, CURLOPT_ERRORBUFFER, r->ebuf);
  r->ebuf[0] = '\0';
  http_resp_release (&r->resp);
  r->resp.content_length = -1;
  r->resp.url = xstrdup (r->url);
  r->streaming = false;
  r->too_long = false;
  r->bad_range = false;
  r->bad_digest = false;
  r->done = false;
  CURLMcode mc = curl_multi_add_handle (r->multi, r->easy);
  if (mc != CURLM_OK)
    return berr_set (&r->err, 0, "curl: %s", curl_multi_strerror (mc));
  r->running = true;
  return 0;
}

static const char *blob_url_for_msg (struct reg_blob_reader *r) { return r->url; }

/* The transfer ended: decide between end of stream, a redirect, a retry, or an error.
 * Returns 1 when the reader should keep pumping (a new transfer started), 0 at a clean end, -1
 * on error. */
static int transfer_finished (struct reg_blob_reader *r)
{
  CURLcode rc = r->result;
  long st = r->resp.status;
  bool transient = false;
  transfer_stop (r);
  if (r->too_long)
    return berr_setk (&r->err, BERR_CORRUPT, 0, "Get \"%s\": blob %s is longer than %lld bytes",
                      blob_url_for_msg (r), r->digest, (long long)r->size);
  if (r->bad_digest)
    return berr_setk (&r->err, BERR_CORRUPT, 0,
                      "Get \"%s\": the registry sent Docker-Content-Digest %s for blob %s",
                      blob_url_for_msg (r), r->resp.docker_digest, r->digest);
  if (r->bad_range)
    return berr_set (&r->err, 0, "Get \"%s\": resumed at the wrong offset (Content-Range: %s)",
                     blob_url_for_msg (r), r->resp.content_range ? r->resp.content_range : "none");
  if (rc == CURLE_OK && st >= 200 && st < 300)
    {
      if (r->delivered == (uint64_t)r->size)
        return 0;
      /* a response that ended cleanly but short: the server has no more to give */
      return berr_setk (&r->err, BERR_CORRUPT, 0,
                        "Get \"%s\": blob %s ended after %llu of %lld bytes", blob_url_for_msg (r),
                        r->digest, (unsigned long long)r->delivered, (long long)r->size);
    }
  if (rc != CURLE_OK && !(rc == CURLE_WRITE_ERROR && r->resp.body_truncated))
    {
      transient = curl_code_transient (rc);
      if (rc == CURLE_OPERATION_TIMEDOUT && r->resp.status != 0)
        berr_set (&r->err, 0, "Get \"%s\": stalled: less than 1 byte/s for %ld s",
                  blob_url_for_msg (r), r->s->low_speed_time_s);
      else
        berr_set (&r->err, 0, "Get \"%s\": %s", blob_url_for_msg (r),
                  r->ebuf[0] ? r->ebuf : curl_easy_strerror (rc));
    }
  else if (st >= 300 && st < 400 && r->resp.location)
    {
      if (++r->redirects > REG_MAX_REDIRECTS)
        return berr_set (&r->err, 0, "Get \"%s\": stopped after %d redirects", blob_url_for_msg (r),
                         REG_MAX_REDIRECTS);
      char *next = url_resolve (r->url, r->resp.location);
      free (r->url);
      r->url = next;
      return transfer_start (r) < 0 ? -1 : 1;
    }
  else if (st == 401)
    {
      cleanup_free char *host = url_authority (r->url);
      cleanup_free char *origin = url_origin (r->url);
      if (strcmp (origin, r->home) != 0)
        return berr_set (&r->err, 0,
                         "Get \"%s\": unauthorized: authentication asked by %s, a redirect "
                         "target that is not the registry",
                         blob_url_for_msg (r), host);
      if (r->authed)
        {
          http_status_error (&r->resp, &r->err);
          return -1;
        }
      r->authed = true;
      if (auth_handle_401 (r->s, &r->resp, r->scope, r->auth_gen, &r->err) < 0)
        return -1;
      return transfer_start (r) < 0 ? -1 : 1;
    }
  else
    {
      transient = http_status_transient (st);
      http_status_error (&r->resp, &r->err);
      if (!transient)
        return -1;
    }
  if (!transient || ++r->attempts >= r->s->max_attempts)
    return -1;
  log_debug ("blob %s: %s; resuming at %llu (attempt %d)", r->digest, r->err.msg,
             (unsigned long long)r->delivered, r->attempts + 1);
  berr_release (&r->err);
  http_backoff (r->s, r->attempts);
  /* back to the registry: a redirect target's URL may have expired */
  free (r->url);
  r->url = xasprintf ("%s%s", http_base (r->s, false), r->path);
  r->redirects = 0;
  r->authed = false;
  return transfer_start (r) < 0 ? -1 : 1;
}

/* Drive the transfer until want_data and bytes arrived in dst, or (when !want_data) a 2xx answer
 * is streaming, or the stream ends. */
static int pump (struct reg_blob_reader *r, bool want_data)
{
  for (;;)
    {
      if (!r->running)
        return 0;
      if (r->paused && (r->spill.len - r->spill_off) < SPILL_MAX)
        {
          r->paused = false;
          curl_easy_pause (r->easy, CURLPAUSE_CONT);
        }
      int still = 0;
      CURLMcode mc = curl_multi_perform (r->multi, &still);
      if (mc != CURLM_OK)
        return berr_set (&r->err, 0, "curl: %s", curl_multi_strerror (mc));
      CURLMsg *m;
      int left;
      while ((m = curl_multi_info_read (r->multi, &left)))
        if (m->msg == CURLMSG_DONE)
          {
            r->done = true;
            r->result = m->data.result;
          }
      if (want_data ? (r->dst_got > 0 || r->spill.len > r->spill_off) : (r->streaming && !r->done))
        return 0;
      if (r->done)
        {
          int f = transfer_finished (r);
          if (f <= 0)
            {
              if (f == 0)
                r->eof = true;
              return f;
            }
          continue;
        }
      if (r->paused)
        {
          /* the spill is full and the caller wants none of it now */
          if (!want_data)
            return 0;
          continue;
        }
      mc = curl_multi_poll (r->multi, NULL, 0, 1000, NULL);
      if (mc != CURLM_OK)
        return berr_set (&r->err, 0, "curl: %s", curl_multi_strerror (mc));
    }
}

int reg_blob_open (struct reg_session *s, const char *repo, const char *digest, int64_t size,
                   struct reg_blob_reader **out, berr_t *err)
{
  if (digest_check (digest, err) < 0)
    return -1;
  if (size < 0)
    return berr_setk (err, BERR_INVALID, 0, "blob %s: negative size", digest);
  cleanup_free char *scope = reg_scope (repo, false);
  if (strpbrk (repo, "?#% \t\r\n") || repo[0] == '/' || strstr (repo, ".."))
    return berr_setk (err, BERR_INVALID, 0, "invalid repository name \"%s\"", repo);
  struct reg_blob_reader *r = xzalloc (sizeof *r);
  r->s = s;
  r->path = xasprintf ("/v2/%s/blobs/%s", repo, digest);
  r->scope = steal_pointer (&scope);
  r->digest = xstrdup (digest);
  r->size = size;
  sbuf_init (&r->spill);
  r->multi = curl_multi_init ();
  if (r->multi == NULL)
    {
      reg_blob_close (r);
      return berr_set (err, ENOMEM, "curl_multi_init");
    }
  /* the endpoint is chosen by a request through http_do; a reader uses the chosen one, probing
   * (https, then http for insecure hosts) with a HEAD first when none is chosen yet */
  pthread_mutex_lock (&s->lock);
  bool chosen = s->ep_read >= 0;
  pthread_mutex_unlock (&s->lock);
  if (!chosen)
    {
      struct http_req rq = { .method = "HEAD", .path = r->path, .scope = r->scope, .follow = true };
      struct http_resp hr = { 0 };
      /* only the transport matters here: the GET below reports a status with its body */
      int rc = http_do (s, &rq, &hr, err);
      http_resp_release (&hr);
      if (rc < 0)
        {
          reg_blob_close (r);
          return berr_wrap (err, "blob %s", digest);
        }
    }
  r->url = xasprintf ("%s%s", http_base (s, false), r->path);
  pthread_mutex_lock (&s->lock);
  bool mirror = s->ep_read >= 0 && s->eps[s->ep_read].mirror;
  pthread_mutex_unlock (&s->lock);
  /* mirrors get no credentials (see http_do) */
  r->home = mirror ? xstrdup ("") : url_origin (http_base (s, false));
  if (transfer_start (r) < 0 || pump (r, false) < 0)
    {
      berr_move (err, &r->err);
      reg_blob_close (r);
      return -1;
    }
  *out = r;
  return 0;
}

ssize_t reg_blob_read (void *reader, void *buf, size_t len)
{
  struct reg_blob_reader *r = reader;
  if (r->failed)
    return -1;
  if (len == 0)
    return 0;
  size_t pending = r->spill.len - r->spill_off;
  if (pending == 0 && r->eof)
    return 0;
  if (pending == 0)
    {
      r->dst = buf;
      r->dst_len = len;
      r->dst_got = 0;
      int rc = pump (r, true);
      r->dst = NULL;
      size_t got = r->dst_got;
      r->dst_got = 0;
      if (rc < 0)
        {
          r->failed = true;
          return -1;
        }
      if (got > 0)
        return (ssize_t)got;
      pending = r->spill.len - r->spill_off;
      if (pending == 0)
        return 0;
    }
  size_t k = pending < len ? pending : len;
  memcpy (buf, r->spill.buf + r->spill_off, k);
  r->spill_off += k;
  if (r->spill_off == r->spill.len)
    {
      sbuf_reset (&r->spill);
      r->spill_off = 0;
    }
  return (ssize_t)k;
}

void reg_blob_error (struct reg_blob_reader *r, berr_t *err)
{
  if (berr_is_set (&r->err))
    berr_setk (err, r->err.kind, 0, "%s", r->err.msg);
  else
    berr_set (err, 0, "blob %s: read failed", r->digest);
  err->errnum = r->err.errnum;
}

uint64_t reg_blob_bytes_read (struct reg_blob_reader *r)
{
  return r->delivered - (r->spill.len - r->spill_off);
}

void reg_blob_close (struct reg_blob_reader *r)
{
  if (r == NULL)
    return;
  transfer_stop (r);
  if (r->multi)
    curl_multi_cleanup (r->multi);
  http_resp_release (&r->resp);
  sbuf_release (&r->spill);
  berr_release (&r->err);
  free (r->path);
  free (r->scope);
  free (r->digest);
  free (r->home);
  free (r->url);
  free (r);
}
