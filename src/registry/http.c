/* http.c — one registry request over libcurl: endpoint choice, TLS set-up, authentication,
 * redirects followed by hand, bounded bodies and retries with backoff.
 *
 * Handles come from a per-session pool and share one CURLSH (connections, DNS, TLS sessions),
 * so threads working on the same registry reuse the same keep-alive or HTTP/2 connections. */
#include <ctype.h>
#include <errno.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "registry/client_int.h"
#include "util/fs.h"
#include "util/json.h"
#include "util/log.h"

void http_resp_release (struct http_resp *r)
{
  free (r->reason);
  sbuf_release (&r->body);
  free (r->location);
  free (r->content_type);
  free (r->docker_digest);
  free (r->www_auth);
  free (r->link);
  free (r->content_range);
  free (r->url);
  memset (r, 0, sizeof *r);
}

static void resp_reset (struct http_resp *r)
{
  char *url = r->url;
  r->url = NULL;
  http_resp_release (r);
  r->url = url;
  r->content_length = -1;
}

/* ---- URLs ---- */

bool url_is_https (const char *url) { return strncasecmp (url, "https://", 8) == 0; }

static const char *url_after_scheme (const char *url)
{
  const char *p = strstr (url, "://");
  return p ? p + 3 : url;
}

char *url_authority (const char *url)
{
  const char *a = url_after_scheme (url);
  size_t n = strcspn (a, "/?#");
  char *auth = xstrndup (a, n);
  char *at = strrchr (auth, '@');
  if (at)
    memmove (auth, at + 1, strlen (at + 1) + 1);
  for (char *p = auth; *p; p++)
    *p = (char)tolower ((unsigned char)*p);
  const char *defport = url_is_https (url) ? ":443" : ":80";
  if (str_has_suffix (auth, defport))
    auth[strlen (auth) - strlen (defport)] = '\0';
  return auth;
}

char *url_origin (const char *url)
{
  cleanup_free char *a = url_authority (url);
  return xasprintf ("%s://%s", url_is_https (url) ? "https" : "http", a);
}

char *url_hostname (const char *url)
{
  char *a = url_authority (url);
  char *end = a[0] == '[' ? strchr (a, ']') : strrchr (a, ':');
  if (end && a[0] == '[')
    end[1] = '\0';
  else if (end)
    *end = '\0';
  return a;
}

char *url_resolve (const char *base, const char *loc)
{
  const char *colon = strchr (loc, ':');
  if (colon && colon > loc && strncmp (colon, "://", 3) == 0
      && strcspn (loc, "/?#") > (size_t)(colon - loc))
    return xstrdup (loc);
  size_t scheme_len = (size_t)(url_after_scheme (base) - base);
  if (strncmp (loc, "//", 2) == 0)
    return xasprintf ("%.*s%s", (int)(scheme_len - 2), base, loc);
  const char *a = base + scheme_len;
  size_t alen = strcspn (a, "/?#");
  if (loc[0] == '/')
    return xasprintf ("%.*s%s", (int)(scheme_len + alen), base, loc);
  /* relative path: replace the last segment of base's path */
  const char *path = a + alen;
  size_t plen = strcspn (path, "?#");
  size_t dir = plen;
  while (dir > 0 && path[dir - 1] != '/')
    dir--;
  if (dir == 0)
    return xasprintf ("%.*s/%s", (int)(scheme_len + alen), base, loc);
  return xasprintf ("%.*s%s", (int)(path - base + dir), base, loc);
}

/* ---- handles ---- */

static void share_lock (CURL *c arg_unused, curl_lock_data data, curl_lock_access a arg_unused,
                        void *u)
{
  struct reg_session *s = u;
  pthread_mutex_lock (&s->share_locks[data]);
}

static void share_unlock (CURL *c arg_unused, curl_lock_data data, void *u)
{
  struct reg_session *s = u;
  pthread_mutex_unlock (&s->share_locks[data]);
}

void http_share_init (struct reg_session *s)
{
  for (size_t i = 0; i < CURL_LOCK_DATA_LAST; i++)
    pthread_mutex_init (&s->share_locks[i], NULL);
  s->share = curl_share_init ();
  if (s->share == NULL)
    return;
  curl_share_setopt (s->share, CURLSHOPT_LOCKFUNC, share_lock);
  curl_share_setopt (s->share, CURLSHOPT_UNLOCKFUNC, share_unlock);
  curl_share_setopt (s->share, CURLSHOPT_USERDATA, s);
  curl_share_setopt (s->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
  curl_share_setopt (s->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
  curl_share_setopt (s->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_CONNECT);
}

void http_share_free (struct reg_session *s)
{
  for (size_t i = 0; i < s->npool; i++)
    curl_easy_cleanup (s->pool[i]);
  free (s->pool);
  s->pool = NULL;
  s->npool = 0;
  if (s->share)
    curl_share_cleanup (s->share);
  s->share = NULL;
  for (size_t i = 0; i < CURL_LOCK_DATA_LAST; i++)
    pthread_mutex_destroy (&s->share_locks[i]);
}

/* certs.d/<host:port>/: *.crt are extra CAs (added to the system bundle), *.cert + *.key a
 * client pair. Loaded once, under s->lock. */
static void tls_load (struct reg_session *s)
{
  if (s->tls_loaded)
    return;
  s->tls_loaded = true;
  sbuf_init (&s->ca_blob);
  if (s->certs_dir == NULL)
    return;
  cleanup_free char *dir = xasprintf ("%s/%s", s->certs_dir, s->host);
  cleanup_closedir DIR *d = opendir (dir);
  if (d == NULL)
    return;
  struct dirent *de;
  char **crts = NULL;
  while ((de = readdir (d)) != NULL)
    {
      if (str_has_suffix (de->d_name, ".crt"))
        strv_push (&crts, de->d_name);
      else if (str_has_suffix (de->d_name, ".cert") && s->client_cert == NULL)
        {
          size_t n = strlen (de->d_name) - 5;
          cleanup_free char *key = xasprintf ("%s/%.*s.key", dir, (int)n, de->d_name);
          if (access (key, R_OK) == 0)
            {
              s->client_cert = xasprintf ("%s/%s", dir, de->d_name);
              s->client_key = steal_pointer (&key);
            }
          else
            log_warn ("%s/%s has no matching .key file: not used", dir, de->d_name);
        }
    }
  if (crts == NULL)
    return;
  static const char *const bundles[]
      = { "/etc/ssl/certs/ca-certificates.crt", "/etc/pki/tls/certs/ca-bundle.crt", NULL };
  for (size_t i = 0; bundles[i]; i++)
    {
      char *data;
      size_t len;
      berr_t e = BERR_INIT;
      if (fs_read_file (bundles[i], 16u << 20, &data, &len, &e) == 0)
        {
          sbuf_add (&s->ca_blob, data, len);
          sbuf_addc (&s->ca_blob, '\n');
          free (data);
          break;
        }
      berr_release (&e);
    }
  for (size_t i = 0; crts[i]; i++)
    {
      cleanup_free char *p = xasprintf ("%s/%s", dir, crts[i]);
      char *data;
      size_t len;
      berr_t e = BERR_INIT;
      if (fs_read_file (p, 1u << 20, &data, &len, &e) < 0)
        {
          log_warn ("%s", e.msg);
          berr_release (&e);
          continue;
        }
      sbuf_add (&s->ca_blob, data, len);
      sbuf_addc (&s->ca_blob, '\n');
      free (data);
    }
  strv_free (crts);
}

static bool endpoint_noverify (struct reg_session *s, const char *url)
{
  cleanup_free char *a = url_authority (url);
  for (size_t i = 0; i < s->neps; i++)
    if (s->eps[i].tls_noverify && url_is_https (s->eps[i].base))
      {
        cleanup_free char *b = url_authority (s->eps[i].base);
        if (strcmp (a, b) == 0)
          return true;
      }
  return false;
}

CURL *http_handle_get (struct reg_session *s, const char *url)
{
  CURL *c = NULL;
  pthread_mutex_lock (&s->lock);
  tls_load (s);
  if (s->npool > 0)
    c = s->pool[--s->npool];
  pthread_mutex_unlock (&s->lock);
  if (c == NULL)
    c = curl_easy_init ();
  else
    curl_easy_reset (c);
  if (c == NULL)
    return NULL;
  if (s->share)
    curl_easy_setopt (c, CURLOPT_SHARE, s->share);
  curl_easy_setopt (c, CURLOPT_URL, url);
  curl_easy_setopt (c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt (c, CURLOPT_CONNECTTIMEOUT, s->connect_timeout_s);
  curl_easy_setopt (c, CURLOPT_LOW_SPEED_LIMIT, 1L);
  curl_easy_setopt (c, CURLOPT_LOW_SPEED_TIME, s->low_speed_time_s);
  curl_easy_setopt (c, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2TLS);
  curl_easy_setopt (c, CURLOPT_TCP_KEEPALIVE, 1L);
  curl_easy_setopt (c, CURLOPT_BUFFERSIZE, 512L * 1024);
  curl_easy_setopt (c, CURLOPT_UPLOAD_BUFFERSIZE, 512L * 1024);
  curl_easy_setopt (c, CURLOPT_USERAGENT, "berth/1.0 (docker-compatible)");
  curl_easy_setopt (c, CURLOPT_PROTOCOLS_STR, "http,https");
  if (url_is_https (url))
    {
      if (s->ca_blob.len > 0)
        {
          struct curl_blob blob = { s->ca_blob.buf, s->ca_blob.len, CURL_BLOB_NOCOPY };
          curl_easy_setopt (c, CURLOPT_CAINFO_BLOB, &blob);
        }
      if (s->client_cert)
        {
          curl_easy_setopt (c, CURLOPT_SSLCERT, s->client_cert);
          curl_easy_setopt (c, CURLOPT_SSLKEY, s->client_key);
        }
      if (endpoint_noverify (s, url))
        {
          curl_easy_setopt (c, CURLOPT_SSL_VERIFYPEER, 0L);
          curl_easy_setopt (c, CURLOPT_SSL_VERIFYHOST, 0L);
        }
    }
  return c;
}

void http_handle_put (struct reg_session *s, CURL *c)
{
  if (c == NULL)
    return;
  pthread_mutex_lock (&s->lock);
  if (s->npool < 16)
    {
      s->pool = xrealloc (s->pool, (s->npool + 1) * sizeof *s->pool);
      s->pool[s->npool++] = c;
      c = NULL;
    }
  pthread_mutex_unlock (&s->lock);
  if (c)
    curl_easy_cleanup (c);
}

/* ---- callbacks ---- */

struct body_src
{
  const struct http_req *rq;
  size_t pos; /* memory body */
  int64_t sent;
  bool failed;
  berr_t err;
};

static size_t read_cb (char *buf, size_t size, size_t nmemb, void *u)
{
  struct body_src *b = u;
  size_t want = size * nmemb;
  const struct http_req *rq = b->rq;
  if (rq->up == NULL)
    {
      size_t n = rq->body_len - b->pos;
      if (n > want)
        n = want;
      memcpy (buf, (const char *)rq->body + b->pos, n);
      b->pos += n;
      return n;
    }
  int64_t left = rq->up_len - b->sent;
  if (left <= 0)
    return 0;
  if ((int64_t)want > left)
    want = (size_t)left;
  ssize_t n = rq->up->read_fn (rq->up->cookie, buf, want);
  if (n < 0)
    {
      b->failed = true;
      berr_set (&b->err, 0, "reading the blob to upload failed");
      return CURL_READFUNC_ABORT;
    }
  if (n == 0)
    {
      b->failed = true;
      berr_set (&b->err, 0, "blob to upload ended after %lld of %lld bytes",
                (long long)(rq->up_base + (uint64_t)b->sent), (long long)rq->up->size);
      return CURL_READFUNC_ABORT;
    }
  b->sent += n;
  if (rq->up->progress)
    rq->up->progress (rq->up->progress_cookie, rq->up_base + (uint64_t)b->sent);
  return (size_t)n;
}

struct sink
{
  struct http_resp *r;
  size_t max_body;
  bool too_big;
  long os_errno; /* of a failed connect */
};

static size_t write_cb (char *p, size_t size, size_t nmemb, void *u)
{
  struct sink *k = u;
  size_t n = size * nmemb;
  struct http_resp *r = k->r;
  if (r->status >= 300 && r->status < 400)
    return n;
  size_t max = (r->status >= 200 && r->status < 300) ? k->max_body : REG_ERRBODY_MAX;
  if (r->body.len + n > max)
    {
      if (r->status >= 200 && r->status < 300)
        k->too_big = true;
      size_t room = max - r->body.len;
      sbuf_add (&r->body, p, room);
      r->body_truncated = true;
      return 0;
    }
  sbuf_add (&r->body, p, n);
  return n;
}

static char *header_value (const char *line, size_t len, const char *name)
{
  size_t nl = strlen (name);
  if (len <= nl || strncasecmp (line, name, nl) != 0 || line[nl] != ':')
    return NULL;
  const char *v = line + nl + 1;
  const char *end = line + len;
  while (v < end && (*v == ' ' || *v == '\t'))
    v++;
  while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' ' || end[-1] == '\t'))
    end--;
  return xstrndup (v, (size_t)(end - v));
}

static void set_header (char **slot, char *v)
{
  if (v == NULL)
    return;
  free (*slot);
  *slot = v;
}

size_t http_header_cb (char *p, size_t size, size_t nmemb, void *u)
{
  struct http_resp *r = u;
  size_t n = size * nmemb;
  if (n >= 5 && strncmp (p, "HTTP/", 5) == 0)
    {
      resp_reset (r);
      const char *sp = memchr (p, ' ', n);
      if (sp)
        {
          r->status = strtol (sp + 1, NULL, 10);
          const char *rs = memchr (sp + 1, ' ', n - (size_t)(sp + 1 - p));
          if (rs)
            {
              size_t rl = n - (size_t)(rs + 1 - p);
              while (rl > 0 && (rs[rl] == '\r' || rs[rl] == '\n' || rs[rl] == '\0'))
                rl--;
              r->reason = xstrndup (rs + 1, rl);
              r->reason[strcspn (r->reason, "\r\n")] = '\0';
            }
        }
      return n;
    }
  char *v;
  if ((v = header_value (p, n, "Location")))
    set_header (&r->location, v);
  else if ((v = header_value (p, n, "Content-Type")))
    set_header (&r->content_type, v);
  else if ((v = header_value (p, n, "Docker-Content-Digest")))
    set_header (&r->docker_digest, v);
  else if ((v = header_value (p, n, "WWW-Authenticate")))
    {
      /* several challenges may come in several headers: keep the Bearer one when there is one */
      if (r->www_auth == NULL || strncasecmp (v, "bearer", 6) == 0)
        set_header (&r->www_auth, v);
      else
        free (v);
    }
  else if ((v = header_value (p, n, "Link")))
    set_header (&r->link, v);
  else if ((v = header_value (p, n, "Content-Range")))
    set_header (&r->content_range, v);
  else if ((v = header_value (p, n, "Content-Length")))
    {
      r->content_length = strtoll (v, NULL, 10);
      free (v);
    }
  return n;
}

/* ---- errors, retries ---- */

bool curl_code_transient (CURLcode c)
{
  switch (c)
    {
    case CURLE_COULDNT_CONNECT:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
    case CURLE_SSL_CONNECT_ERROR:
      return true;
    default:
      return false;
    }
}

bool http_status_transient (long st) { return st == 408 || st == 429 || (st >= 500 && st <= 599); }

void http_backoff (struct reg_session *s, int attempt)
{
  long ms = s->retry_first_ms;
  for (int i = 1; i < attempt && ms < s->retry_max_ms; i++)
    ms *= 2;
  if (ms > s->retry_max_ms)
    ms = s->retry_max_ms;
  struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
  while (nanosleep (&ts, &ts) < 0 && errno == EINTR)
    ;
}

const char *http_method_word (const char *m)
{
  if (strcmp (m, "GET") == 0)
    return "Get";
  if (strcmp (m, "HEAD") == 0)
    return "Head";
  if (strcmp (m, "PUT") == 0)
    return "Put";
  if (strcmp (m, "POST") == 0)
    return "Post";
  if (strcmp (m, "PATCH") == 0)
    return "Patch";
  if (strcmp (m, "DELETE") == 0)
    return "Delete";
  return m;
}

/* "MANIFEST_UNKNOWN" -> "manifest unknown", as the distribution error codes print. */
static void add_code (struct sbuf *b, const char *code)
{
  for (const char *p = code; *p; p++)
    sbuf_addc (b, *p == '_' ? ' ' : (char)tolower ((unsigned char)*p));
}

int http_status_error (const struct http_resp *r, berr_t *err)
{
  cleanup_sbuf struct sbuf m;
  sbuf_init (&m);
  if (r->body.len > 0 && !r->body_truncated)
    {
      berr_t e = BERR_INIT;
      json_t *j = json_parse_buf (r->body.buf, r->body.len, "error body", &e);
      berr_release (&e);
      json_t *errs = j ? json_object_get (j, "errors") : NULL;
      size_t n = json_is_array (errs) ? json_array_size (errs) : 0;
      for (size_t i = 0; i < n; i++)
        {
          json_t *x = json_array_get (errs, i);
          const char *code = json_get_str (x, "code");
          const char *msg = json_get_str (x, "message");
          if (code == NULL && msg == NULL)
            continue;
          if (m.len > 0)
            sbuf_adds (&m, "\n");
          if (code)
            add_code (&m, code);
          if (code && msg && *msg)
            sbuf_adds (&m, ": ");
          if (msg)
            sbuf_adds (&m, msg);
        }
      if (m.len > 0 && n > 1)
        {
          char *joined = sbuf_detach (&m);
          sbuf_addf (&m, "errors:\n%s\n", joined);
          free (joined);
        }
      if (j)
        json_decref (j);
    }
  if (m.len == 0)
    {
      if (r->status == 401)
        sbuf_adds (&m, "unauthorized: authentication required");
      else if (r->status == 404)
        sbuf_adds (&m, "not found");
      else
        sbuf_addf (&m, "received unexpected HTTP status: %ld %s", r->status,
                   r->reason ? r->reason : "");
    }
  int kind = r->status == 404 ? BERR_NOT_FOUND : BERR_GENERIC;
  return berr_setk (err, kind, 0, "%s", m.buf);
}

/* ---- the request ---- */

const char *http_base (struct reg_session *s, bool write)
{
  pthread_mutex_lock (&s->lock);
  int i = write ? s->ep_write : s->ep_read;
  pthread_mutex_unlock (&s->lock);
  if (i >= 0)
    return s->eps[i].base;
  for (size_t j = 0; j < s->neps; j++)
    if (!(write && s->eps[j].mirror))
      return s->eps[j].base;
  return s->eps[0].base;
}

char *http_registry_origin (struct reg_session *s, bool write)
{
  pthread_mutex_lock (&s->lock);
  int chosen = write ? s->ep_write : s->ep_read;
  pthread_mutex_unlock (&s->lock);
  if (chosen >= 0 && !s->eps[chosen].mirror)
    return url_origin (s->eps[chosen].base);
  for (size_t i = 0; i < s->neps; i++)
    if (!s->eps[i].mirror)
      return url_origin (s->eps[i].base);
  return xstrdup ("");
}

static bool is_write (const char *m) { return strcmp (m, "GET") != 0 && strcmp (m, "HEAD") != 0; }

static int rewind_body (const struct http_req *rq, struct body_src *b)
{
  if (rq->up && b->sent > 0)
    {
      if (rq->up->rewind_fn == NULL || rq->up->rewind_fn (rq->up->cookie) < 0)
        return -1;
    }
  b->pos = 0;
  b->sent = 0;
  b->failed = false;
  berr_release (&b->err);
  return 0;
}

/* One exchange with one URL. Returns the CURLcode; the answer is in resp. */
static CURLcode http_once (struct reg_session *s, const char *method, const char *url,
                           const struct http_req *rq, const char *authz, struct body_src *src,
                           struct http_resp *resp, struct sink *sink, char *ebuf)
{
  CURL *c = http_handle_get (s, url);
  if (c == NULL)
    return CURLE_OUT_OF_MEMORY;
  struct curl_slist *h = NULL;
  cleanup_free char *acc = rq->accept ? xasprintf ("Accept: %s", rq->accept) : NULL;
  cleanup_free char *ct
      = rq->content_type ? xasprintf ("Content-Type: %s", rq->content_type) : NULL;
  cleanup_free char *cr
      = rq->content_range ? xasprintf ("Content-Range: %s", rq->content_range) : NULL;
  if (acc)
    h = curl_slist_append (h, acc);
  if (ct)
    h = curl_slist_append (h, ct);
  if (cr)
    h = curl_slist_append (h, cr);
  if (authz)
    h = curl_slist_append (h, authz);
  h = curl_slist_append (h, "Expect:");
  curl_easy_setopt (c, CURLOPT_HTTPHEADER, h);
  bool body = rq->has_body || rq->up;
  int64_t blen = rq->up ? rq->up_len : (int64_t)rq->body_len;
  if (strcmp (method, "HEAD") == 0)
    curl_easy_setopt (c, CURLOPT_NOBODY, 1L);
  else if (strcmp (method, "GET") == 0)
    curl_easy_setopt (c, CURLOPT_HTTPGET, 1L);
  else if (strcmp (method, "POST") == 0)
    {
      curl_easy_setopt (c, CURLOPT_POST, 1L);
      curl_easy_setopt (c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)(body ? blen : 0));
      if (body)
        {
          curl_easy_setopt (c, CURLOPT_READFUNCTION, read_cb);
          curl_easy_setopt (c, CURLOPT_READDATA, src);
        }
      else
        curl_easy_setopt (c, CURLOPT_POSTFIELDS, "");
    }
  else if (strcmp (method, "PUT") == 0 || strcmp (method, "PATCH") == 0)
    {
      curl_easy_setopt (c, CURLOPT_UPLOAD, 1L);
      curl_easy_setopt (c, CURLOPT_INFILESIZE_LARGE, (curl_off_t)(body ? blen : 0));
      curl_easy_setopt (c, CURLOPT_READFUNCTION, read_cb);
      curl_easy_setopt (c, CURLOPT_READDATA, src);
      if (strcmp (method, "PATCH") == 0)
        curl_easy_setopt (c, CURLOPT_CUSTOMREQUEST, "PATCH");
    }
  else
    curl_easy_setopt (c, CURLOPT_CUSTOMREQUEST, method);
  curl_easy_setopt (c, CURLOPT_HEADERFUNCTION, http_header_cb);
  curl_easy_setopt (c, CURLOPT_HEADERDATA, resp);
  curl_easy_setopt (c, CURLOPT_WRITEFUNCTION, write_cb);
  curl_easy_setopt (c, CURLOPT_WRITEDATA, sink);
  curl_easy_setopt (c, CURLOPT_ERRORBUFFER, ebuf);
  ebuf[0] = '\0';
  free (resp->url);
  resp->url = xstrdup (url);
  resp_reset (resp);
  sink->too_big = false;
  CURLcode rc = curl_easy_perform (c);
  sink->os_errno = 0;
  if (rc == CURLE_COULDNT_CONNECT)
    curl_easy_getinfo (c, CURLINFO_OS_ERRNO, &sink->os_errno);
  long st = 0;
  curl_easy_getinfo (c, CURLINFO_RESPONSE_CODE, &st);
  if (st)
    {
      resp->status = st;
      __atomic_store_n (&s->contacted, true, __ATOMIC_RELAXED);
    }
  curl_easy_setopt (c, CURLOPT_HTTPHEADER, NULL);
  curl_slist_free_all (h);
  http_handle_put (s, c);
  /* a deliberately cut error body is still an answer */
  if (rc == CURLE_WRITE_ERROR && resp->body_truncated && !sink->too_big)
    rc = CURLE_OK;
  return rc;
}

/* The redirect and authentication chain for one attempt. *transient says whether a failure may
 * be retried. */
static int http_exchange (struct reg_session *s, const struct http_req *rq, const char *start,
                          const char *home, struct http_resp *resp, bool *transient, berr_t *err)
{
  cleanup_free char *url = xstrdup (start);
  const char *method = rq->method;
  bool authed = false;
  int redirects = 0;
  struct body_src src = { rq, 0, 0, false, BERR_INIT };
  struct sink sink = { resp, rq->max_body ? rq->max_body : MANIFEST_BODY_MAX, false, 0 };
  char ebuf[CURL_ERROR_SIZE];
  *transient = false;
  for (;;)
    {
      cleanup_free char *host = url_authority (url);
      cleanup_free char *origin = url_origin (url);
      bool same = strcmp (origin, home) == 0;
      cleanup_free char *authz = NULL;
      unsigned gen = 0;
      if (same && rq->no_auth)
        authz = rq->authz ? xstrdup (rq->authz) : NULL;
      else if (same)
        {
          int arc = 0;
          authz = auth_header (s, rq->scope, &gen, err, &arc);
          if (arc < 0)
            return -1;
        }
      CURLcode rc = http_once (s, method, url, rq, authz, &src, resp, &sink, ebuf);
      if (src.failed)
        {
          berr_move (err, &src.err);
          return -1;
        }
      if (sink.too_big)
        {
          berr_set (err, 0, "%s \"%s\": response body exceeds the limit of %zu bytes",
                    http_method_word (method), url, sink.max_body);
          return -1;
        }
      if (rc != CURLE_OK)
        {
          *transient = curl_code_transient (rc);
          resp->unreachable = rc == CURLE_COULDNT_RESOLVE_HOST || rc == CURLE_COULDNT_CONNECT;
          if (rc == CURLE_OPERATION_TIMEDOUT && resp->status == 0)
            berr_set (err, ETIMEDOUT, "%s \"%s\"", http_method_word (method), url);
          else if (rc == CURLE_COULDNT_CONNECT && sink.os_errno > 0)
            {
              /* Go's wording, which docker prints: "dial tcp H:P: connect: connection refused" */
              char msg[128];
              snprintf (msg, sizeof msg, "%s", strerror ((int)sink.os_errno));
              msg[0] = (char)tolower ((unsigned char)msg[0]);
              berr_set (err, 0, "%s \"%s\": dial tcp %s: connect: %s", http_method_word (method),
                        url, host, msg);
            }
          else if (rc == CURLE_COULDNT_RESOLVE_HOST)
            {
              /* Go's "dial tcp: lookup H: no such host" */
              cleanup_free char *name = xstrdup (host);
              char *colon = name[0] == '[' ? NULL : strrchr (name, ':');
              if (colon)
                *colon = '\0';
              berr_set (err, 0, "%s \"%s\": dial tcp: lookup %s: no such host",
                        http_method_word (method), url, name);
            }
          else
            berr_set (err, 0, "%s \"%s\": %s", http_method_word (method), url,
                      ebuf[0] ? ebuf : curl_easy_strerror (rc));
          return -1;
        }
      if (resp->status == 401)
        {
          if (!same)
            return berr_set (err, 0,
                             "%s \"%s\": unauthorized: authentication asked by %s, a redirect "
                             "target that is not the registry",
                             http_method_word (method), url, host);
          if (authed || rq->no_auth)
            return 0;
          if (auth_handle_401 (s, resp, rq->scope, gen, err) < 0)
            return -1;
          authed = true;
          if (rewind_body (rq, &src) < 0)
            return berr_set (err, 0, "%s \"%s\": cannot resend the body after authentication",
                             http_method_word (method), url);
          continue;
        }
      if (rq->follow && resp->location
          && (resp->status == 301 || resp->status == 302 || resp->status == 303
              || resp->status == 307 || resp->status == 308))
        {
          if (++redirects > REG_MAX_REDIRECTS)
            return berr_set (err, 0, "%s \"%s\": stopped after %d redirects",
                             http_method_word (method), start, REG_MAX_REDIRECTS);
          char *next = url_resolve (url, resp->location);
          free (url);
          url = next;
          if (resp->status == 303)
            method = "GET";
          continue;
        }
      return 0;
    }
}

int http_do (struct reg_session *s, const struct http_req *rq, struct http_resp *resp, berr_t *err)
{
  bool write = is_write (rq->method);
  resp->content_length = -1;
  for (int attempt = 1;; attempt++)
    {
      bool transient = false;
      int rc;
      berr_release (err);
      if (rq->url)
        {
          cleanup_free char *home = rq->home ? xstrdup (rq->home) : http_registry_origin (s, write);
          rc = http_exchange (s, rq, rq->url, home, resp, &transient, err);
        }
      else
        {
          pthread_mutex_lock (&s->lock);
          int chosen = write ? s->ep_write : s->ep_read;
          pthread_mutex_unlock (&s->lock);
          rc = -1;
          for (size_t i = chosen >= 0 ? (size_t)chosen : 0; i < s->neps; i++)
            {
              if (write && s->eps[i].mirror)
                continue;
              cleanup_free char *url = xasprintf ("%s%s", s->eps[i].base, rq->path);
              /* mirrors are anonymous pull-through caches: no credentials reach them */
              cleanup_free char *home
                  = s->eps[i].mirror ? xstrdup ("") : url_origin (s->eps[i].base);
              berr_release (err);
              rc = http_exchange (s, rq, url, home, resp, &transient, err);
              /* any HTTP answer (even a refused login) settles the endpoint */
              if ((rc == 0 || resp->status > 0) && chosen < 0)
                {
                  pthread_mutex_lock (&s->lock);
                  if (write)
                    s->ep_write = (int)i;
                  else
                    s->ep_read = (int)i;
                  pthread_mutex_unlock (&s->lock);
                }
              /* what a mirror cannot give, the registry itself may */
              if (s->eps[i].mirror && i + 1 < s->neps && (rc < 0 || resp->status >= 400))
                {
                  log_debug ("mirror %s: %s", s->eps[i].base,
                             rc < 0 ? err->msg : (resp->reason ? resp->reason : "error"));
                  continue;
                }
              if (rc == 0 || !transient || chosen >= 0)
                break;
              /* an endpoint that cannot be reached: the next one (http after https) */
              if (rq->up && rq->up->rewind_fn == NULL)
                break;
              if (rq->up && rq->up->rewind_fn (rq->up->cookie) < 0)
                break;
            }
        }
      bool retry = (rc < 0 && transient) || (rc == 0 && http_status_transient (resp->status));
      /* A registry that never answered is not there: fail at once, as docker pull does
       * (retries are for a registry that went away in the middle). */
      if (rc < 0 && resp->unreachable && !__atomic_load_n (&s->contacted, __ATOMIC_RELAXED))
        retry = false;
      if (!retry || attempt >= s->max_attempts || rq->no_retry)
        return rc;
      if (rq->up && (rq->up->rewind_fn == NULL || rq->up->rewind_fn (rq->up->cookie) < 0))
        return rc;
      log_debug ("%s %s: attempt %d failed (%s), retrying", rq->method,
                 rq->path ? rq->path : rq->url, attempt,
                 rc < 0 ? err->msg : (resp->reason ? resp->reason : "status"));
      http_backoff (s, attempt);
    }
}
