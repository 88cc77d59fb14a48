/* client.c — registry configuration, sessions, and the API calls that move small documents:
 * ping, manifests, tags, blob existence, mounts, uploads. Streamed blob reads: client_blob.c. */
#include <arpa/inet.h>
#include <ctype.h>
#include <string.h>

#include "registry/client_int.h"
#include "util/digest.h"
#include "util/json.h"
#include "util/lazylib.h"
#include "util/log.h"

#define HUB_HOST "registry-1.docker.io"
#define HUB_KEY "https://index.docker.io/v1/"
#define TAGS_MAX 100000

/* Every manifest and index type berth reads (manifest.h's list, kept here so the client does not
 * depend on the manifest parser's object file). */
static const char accept_types[]
    = "application/vnd.docker.distribution.manifest.v2+json, "
      "application/vnd.docker.distribution.manifest.list.v2+json, "
      "application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json";

/* ---- configuration ---- */

static int cfg_strv (const json_t *config, const char *key, char ***out, berr_t *err)
{
  json_t *v = json_object_get (config, key);
  if (v == NULL || json_is_null (v))
    return 0;
  if (!json_is_array (v))
    return berr_setk (err, BERR_INVALID, 0, "config: %s must be a list of strings", key);
  size_t i;
  json_t *x;
  json_array_foreach (v, i, x)
  {
    if (!json_is_string (x))
      return berr_setk (err, BERR_INVALID, 0, "config: %s must be a list of strings", key);
    strv_push (out, json_string_value (x));
  }
  return 0;
}

static int cfg_int (const json_t *config, const char *key, int *out, berr_t *err)
{
  json_t *v = json_object_get (config, key);
  if (v == NULL || json_is_null (v))
    return 0;
  if (!json_is_integer (v) || json_integer_value (v) < 1 || json_integer_value (v) > 1000000)
    return berr_setk (err, BERR_INVALID, 0, "config: %s must be a positive integer", key);
  *out = (int)json_integer_value (v);
  return 0;
}

int reg_config_load (const json_t *config, struct reg_config *cfg, berr_t *err)
{
  memset (cfg, 0, sizeof *cfg);
  cfg->max_attempts = 5;
  cfg->max_downloads = 3;
  cfg->max_uploads = 5;
  cfg->connect_timeout_s = 30;
  cfg->low_speed_time_s = 30;
  cfg->docker_config_dir = creds_default_dir ();
  if (config && !json_is_object (config))
    config = NULL;
  int tmp;
  if (config)
    {
      json_t *v;
      if (cfg_strv (config, "insecure-registries", &cfg->insecure, err) < 0
          || cfg_strv (config, "registry-mirrors", &cfg->mirrors, err) < 0
          || cfg_int (config, "max-download-attempts", &cfg->max_attempts, err) < 0
          || cfg_int (config, "max-concurrent-downloads", &cfg->max_downloads, err) < 0
          || cfg_int (config, "max-concurrent-uploads", &cfg->max_uploads, err) < 0
          || cfg_int (config, "push-chunk-size", &cfg->push_chunk_size, err) < 0)
        goto fail;
      if (cfg->push_chunk_size < 0)
        {
          berr_setk (err, BERR_INVALID, 0, "config: push-chunk-size must not be negative");
          goto fail;
        }
      if ((v = json_object_get (config, "registry-certs-dir")) && !json_is_null (v))
        {
          if (!json_is_string (v))
            {
              berr_setk (err, BERR_INVALID, 0, "config: registry-certs-dir must be a string");
              goto fail;
            }
          cfg->certs_dir = xstrdup (json_string_value (v));
        }
      if ((v = json_object_get (config, "push-compression")) && !json_is_null (v))
        {
          const char *c = json_is_string (v) ? json_string_value (v) : NULL;
          if (c == NULL || (strcmp (c, "gzip") != 0 && strcmp (c, "zstd") != 0))
            {
              berr_setk (err, BERR_INVALID, 0,
                         "config: push-compression must be \"gzip\" or \"zstd\"");
              goto fail;
            }
          cfg->push_compression = xstrdup (c);
        }
      tmp = 0;
      if (cfg_int (config, "registry-connect-timeout", &tmp, err) < 0)
        goto fail;
      if (tmp)
        cfg->connect_timeout_s = tmp;
      tmp = 0;
      if (cfg_int (config, "registry-stall-timeout", &tmp, err) < 0)
        goto fail;
      if (tmp)
        cfg->low_speed_time_s = tmp;
    }
  for (size_t i = 0; cfg->mirrors && cfg->mirrors[i]; i++)
    if (!str_has_prefix (cfg->mirrors[i], "https://")
        && !str_has_prefix (cfg->mirrors[i], "http://"))
      {
        berr_setk (err, BERR_INVALID, 0, "config: registry-mirrors: %s is not an http(s) URL",
                   cfg->mirrors[i]);
        goto fail;
      }
  if (cfg->certs_dir == NULL)
    cfg->certs_dir = xstrdup ("/etc/docker/certs.d");
  if (cfg->push_compression == NULL)
    cfg->push_compression = xstrdup ("gzip");
  return 0;
fail:
  reg_config_release (cfg);
  return -1;
}

void reg_config_release (struct reg_config *cfg)
{
  strv_free (cfg->insecure);
  strv_free (cfg->mirrors);
  free (cfg->certs_dir);
  free (cfg->docker_config_dir);
  free (cfg->push_compression);
  memset (cfg, 0, sizeof *cfg);
}

/* ---- sessions ---- */

static bool is_hub (const char *d)
{
  return strcmp (d, "docker.io") == 0 || strcmp (d, "index.docker.io") == 0
         || strcmp (d, HUB_HOST) == 0;
}

/* host part of "host:port" / "[v6]:port" */
static char *host_only (const char *hostport)
{
  if (hostport[0] == '[')
    {
      const char *e = strchr (hostport, ']');
      return e ? xstrndup (hostport + 1, (size_t)(e - hostport - 1)) : xstrdup (hostport);
    }
  const char *c = strchr (hostport, ':');
  if (c && strchr (c + 1, ':') == NULL)
    return xstrndup (hostport, (size_t)(c - hostport));
  return xstrdup (hostport);
}

static bool cidr_contains (const char *cidr, const char *host)
{
  const char *slash = strchr (cidr, '/');
  if (slash == NULL)
    return false;
  cleanup_free char *net = xstrndup (cidr, (size_t)(slash - cidr));
  char *end;
  long bits = strtol (slash + 1, &end, 10);
  unsigned char a[16], b[16];
  size_t n;
  if (inet_pton (AF_INET, net, a) == 1 && inet_pton (AF_INET, host, b) == 1)
    n = 4;
  else if (inet_pton (AF_INET6, net, a) == 1 && inet_pton (AF_INET6, host, b) == 1)
    n = 16;
  else
    return false;
  if (*end || bits < 0 || bits > (long)n * 8)
    return false;
  for (long i = 0; i < bits; i++)
    {
      unsigned mask = 0x80u >> (i % 8);
      if ((a[i / 8] & mask) != (b[i / 8] & mask))
        return false;
    }
  return true;
}

static bool host_insecure (const struct reg_config *cfg, const char *hostport)
{
  cleanup_free char *h = host_only (hostport);
  if (strcmp (h, "localhost") == 0 || strcmp (h, "::1") == 0 || cidr_contains ("127.0.0.0/8", h))
    return true;
  for (size_t i = 0; cfg->insecure && cfg->insecure[i]; i++)
    {
      const char *e = cfg->insecure[i];
      if (strcasecmp (e, hostport) == 0 || strcasecmp (e, h) == 0 || cidr_contains (e, h))
        return true;
    }
  return false;
}

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static void curl_init_once (void) { curl_global_init (CURL_GLOBAL_DEFAULT); }

static void add_ep (struct reg_session *s, const char *base, bool noverify, bool mirror)
{
  s->eps = xrealloc (s->eps, (s->neps + 1) * sizeof *s->eps);
  char *b = xstrdup (base);
  size_t l = strlen (b);
  while (l > 0 && b[l - 1] == '/')
    b[--l] = '\0';
  s->eps[s->neps++] = (struct reg_endpoint){ b, noverify, mirror };
}

int reg_session_open (const struct reg_config *cfg, const char *domain, struct reg_session **out,
                      berr_t *err)
{
  if (domain == NULL || *domain == '\0' || strpbrk (domain, "/?#@ \t\r\n\\\""))
    return berr_setk (err, BERR_INVALID, 0, "invalid registry host \"%s\"", domain ? domain : "");
  if (lazy_curl_load (err) < 0)
    return -1;
  pthread_once (&curl_once, curl_init_once);
  struct reg_session *s = xzalloc (sizeof *s);
  pthread_mutex_init (&s->lock, NULL);
  pthread_mutex_init (&s->auth_lock, NULL);
  s->domain = xstrdup (domain);
  s->max_attempts = cfg->max_attempts > 0 ? cfg->max_attempts : 5;
  s->connect_timeout_s = cfg->connect_timeout_s > 0 ? cfg->connect_timeout_s : 30;
  s->low_speed_time_s = cfg->low_speed_time_s > 0 ? cfg->low_speed_time_s : 30;
  s->retry_first_ms = 500;
  s->retry_max_ms = 8000;
  s->certs_dir = cfg->certs_dir ? xstrdup (cfg->certs_dir) : NULL;
  s->config_dir = cfg->docker_config_dir ? xstrdup (cfg->docker_config_dir) : NULL;
  s->ep_read = s->ep_write = -1;
  if (is_hub (domain))
    {
      s->host = xstrdup (HUB_HOST);
      s->creds_key = xstrdup (HUB_KEY);
      for (size_t i = 0; cfg->mirrors && cfg->mirrors[i]; i++)
        add_ep (s, cfg->mirrors[i], false, true);
      add_ep (s, "https://" HUB_HOST, false, false);
    }
  else
    {
      s->host = xstrdup (domain);
      for (char *p = s->host; *p; p++)
        *p = (char)tolower ((unsigned char)*p);
      s->creds_key = xstrdup (domain);
      bool insecure = host_insecure (cfg, s->host);
      cleanup_free char *https = xasprintf ("https://%s", s->host);
      add_ep (s, https, insecure, false);
      if (insecure)
        {
          cleanup_free char *http = xasprintf ("http://%s", s->host);
          add_ep (s, http, false, false);
        }
    }
  http_share_init (s);
  *out = s;
  return 0;
}

void reg_session_free (struct reg_session *s)
{
  if (s == NULL)
    return;
  http_share_free (s);
  for (size_t i = 0; i < s->neps; i++)
    free (s->eps[i].base);
  free (s->eps);
  for (size_t i = 0; i < s->ntokens; i++)
    {
      free (s->tokens[i].scope);
      free (s->tokens[i].token);
    }
  free (s->tokens);
  creds_release (&s->creds);
  free (s->realm);
  free (s->service);
  free (s->identity_token);
  free (s->extra_scopes);
  sbuf_release (&s->ca_blob);
  free (s->client_cert);
  free (s->client_key);
  free (s->domain);
  free (s->host);
  free (s->creds_key);
  free (s->certs_dir);
  free (s->config_dir);
  pthread_mutex_destroy (&s->lock);
  pthread_mutex_destroy (&s->auth_lock);
  free (s);
}

int reg_session_set_credentials (struct reg_session *s, const char *username, const char *password,
                                 berr_t *err)
{
  if (username == NULL || *username == '\0')
    return berr_setk (err, BERR_INVALID, 0, "username is empty");
  pthread_mutex_lock (&s->lock);
  creds_release (&s->creds);
  s->creds.username = xstrdup (username);
  s->creds.password = xstrdup (password ? password : "");
  s->creds_loaded = true;
  pthread_mutex_unlock (&s->lock);
  return 0;
}

const char *reg_session_creds_key (struct reg_session *s) { return s->creds_key; }

void reg_session_set_retry_delay (struct reg_session *s, long first_ms, long max_ms)
{
  s->retry_first_ms = first_ms > 0 ? first_ms : 1;
  s->retry_max_ms = max_ms >= s->retry_first_ms ? max_ms : s->retry_first_ms;
}

/* ---- names ---- */

static int check_repo (const char *repo, berr_t *err)
{
  size_t n = strlen (repo);
  if (n == 0 || n > 255 || repo[0] == '/' || repo[n - 1] == '/' || strstr (repo, "//")
      || strstr (repo, ".."))
    return berr_setk (err, BERR_INVALID, 0, "invalid repository name \"%s\"", repo);
  for (const char *p = repo; *p; p++)
    if (!(islower ((unsigned char)*p) || isdigit ((unsigned char)*p) || strchr ("._-/", *p)))
      return berr_setk (err, BERR_INVALID, 0, "invalid repository name \"%s\"", repo);
  return 0;
}

static int check_reference (const char *ref, berr_t *err)
{
  if (strchr (ref, ':'))
    return digest_check (ref, err);
  size_t n = strlen (ref);
  if (n == 0 || n > 128 || ref[0] == '.' || ref[0] == '-')
    return berr_setk (err, BERR_INVALID, 0, "invalid tag \"%s\"", ref);
  for (const char *p = ref; *p; p++)
    if (!(isalnum ((unsigned char)*p) || *p == '_' || *p == '.' || *p == '-'))
      return berr_setk (err, BERR_INVALID, 0, "invalid tag \"%s\"", ref);
  return 0;
}

char *reg_scope (const char *repo, bool push)
{
  return xasprintf ("repository:%s:%s", repo, push ? "pull,push" : "pull");
}

/* ---- ping ---- */

int reg_ping (struct reg_session *s, char **identity_token, berr_t *err)
{
  if (identity_token)
    {
      *identity_token = NULL;
      pthread_mutex_lock (&s->lock);
      s->want_identity = true;
      pthread_mutex_unlock (&s->lock);
    }
  /* login's check: an unreachable registry is reported at once, as docker login does */
  struct http_req rq
      = { .method = "GET", .path = "/v2/", .follow = true, .max_body = 1u << 20, .no_retry = true };
  struct http_resp r = { 0 };
  int rc = http_do (s, &rq, &r, err);
  cleanup_free char *url = xasprintf ("%s/v2/", http_base (s, false));
  if (rc < 0)
    {
      /* auth failures are already "unauthorized: …"; say which request, as docker login does */
      if (!str_has_prefix (err->msg, "Get \""))
        berr_wrap (err, "Get \"%s\"", url);
      http_resp_release (&r);
      return -1;
    }
  if (r.status != 200)
    {
      http_status_error (&r, err);
      http_resp_release (&r);
      return berr_wrap (err, "Get \"%s\"", url);
    }
  http_resp_release (&r);
  if (identity_token)
    {
      pthread_mutex_lock (&s->lock);
      *identity_token = s->identity_token ? xstrdup (s->identity_token) : NULL;
      pthread_mutex_unlock (&s->lock);
    }
  return 0;
}

/* ---- manifests ---- */

void reg_manifest_release (struct reg_manifest *m)
{
  free (m->body);
  free (m->media_type);
  memset (m, 0, sizeof *m);
}

static char *strip_params (const char *ct)
{
  if (ct == NULL)
    return NULL;
  size_t n = strcspn (ct, ";");
  while (n > 0 && (ct[n - 1] == ' ' || ct[n - 1] == '\t'))
    n--;
  return xstrndup (ct, n);
}

int reg_manifest_get (struct reg_session *s, const char *repo, const char *reference,
                      bool head_only, struct reg_manifest *out, berr_t *err)
{
  memset (out, 0, sizeof *out);
  if (check_repo (repo, err) < 0 || check_reference (reference, err) < 0)
    return -1;
  cleanup_free char *path = xasprintf ("/v2/%s/manifests/%s", repo, reference);
  cleanup_free char *scope = reg_scope (repo, false);
  struct http_req rq = { .method = head_only ? "HEAD" : "GET",
                         .path = path,
                         .scope = scope,
                         .accept = accept_types,
                         .follow = true,
                         .max_body = MANIFEST_BODY_MAX };
  struct http_resp r = { 0 };
  if (http_do (s, &rq, &r, err) < 0)
    goto fail;
  if (r.status != 200)
    {
      http_status_error (&r, err);
      goto fail;
    }
  if (r.docker_digest && !digest_is_valid (r.docker_digest))
    {
      berr_setk (err, BERR_CORRUPT, 0, "invalid Docker-Content-Digest \"%s\"", r.docker_digest);
      goto fail;
    }
  out->media_type = strip_params (r.content_type);
  if (head_only)
    {
      if (r.docker_digest)
        snprintf (out->digest, sizeof out->digest, "%s", r.docker_digest);
      else if (strchr (reference, ':'))
        snprintf (out->digest, sizeof out->digest, "%s", reference);
      out->len = r.content_length > 0 ? (size_t)r.content_length : 0;
      http_resp_release (&r);
      return 0;
    }
  sha256_digest (r.body.buf ? r.body.buf : "", r.body.len, out->digest);
  if (strchr (reference, ':') && strcmp (reference, out->digest) != 0)
    {
      berr_setk (err, BERR_CORRUPT, 0, "manifest verification failed for digest %s: got %s",
                 reference, out->digest);
      goto fail;
    }
  if (r.docker_digest && strcmp (r.docker_digest, out->digest) != 0)
    {
      berr_setk (err, BERR_CORRUPT, 0,
                 "manifest %s: digest mismatch: Docker-Content-Digest %s, content %s", reference,
                 r.docker_digest, out->digest);
      goto fail;
    }
  out->len = r.body.len;
  out->body = r.body.buf ? sbuf_detach (&r.body) : xstrdup ("");
  http_resp_release (&r);
  return 0;
fail:
  http_resp_release (&r);
  reg_manifest_release (out);
  return -1;
}

int reg_manifest_put (struct reg_session *s, const char *repo, const char *reference,
                      const char *media_type, const char *body, size_t len, berr_t *err)
{
  if (check_repo (repo, err) < 0 || check_reference (reference, err) < 0)
    return -1;
  char dg[DIGEST_STR_LEN];
  sha256_digest (body, len, dg);
  if (strchr (reference, ':') && strcmp (dg, reference) != 0)
    return berr_setk (err, BERR_INVALID, 0, "manifest digest %s does not match reference %s", dg,
                      reference);
  cleanup_free char *path = xasprintf ("/v2/%s/manifests/%s", repo, reference);
  cleanup_free char *scope = reg_scope (repo, true);
  struct http_req rq = { .method = "PUT",
                         .path = path,
                         .scope = scope,
                         .content_type = media_type,
                         .body = body,
                         .body_len = len,
                         .has_body = true,
                         .max_body = REG_ERRBODY_MAX };
  struct http_resp r = { 0 };
  int rc = -1;
  if (http_do (s, &rq, &r, err) < 0)
    goto out;
  if (r.status != 201 && r.status != 200 && r.status != 202)
    {
      http_status_error (&r, err);
      goto out;
    }
  if (r.docker_digest && strcmp (r.docker_digest, dg) != 0)
    {
      berr_setk (err, BERR_CORRUPT, 0,
                 "manifest put: the registry answered digest %s for a manifest of digest %s",
                 r.docker_digest, dg);
      goto out;
    }
  rc = 0;
out:
  http_resp_release (&r);
  return rc;
}

/* Link: </v2/x/tags/list?last=y&n=100>; rel="next" */
static char *link_next (const char *link)
{
  if (link == NULL)
    return NULL;
  const char *lt = strchr (link, '<');
  const char *gt = lt ? strchr (lt, '>') : NULL;
  if (gt == NULL || strstr (gt, "next") == NULL)
    return NULL;
  return xstrndup (lt + 1, (size_t)(gt - lt - 1));
}

int reg_tags_list (struct reg_session *s, const char *repo, char ***tags, berr_t *err)
{
  *tags = NULL;
  if (check_repo (repo, err) < 0)
    return -1;
  cleanup_free char *path = xasprintf ("/v2/%s/tags/list", repo);
  cleanup_free char *scope = reg_scope (repo, false);
  cleanup_free char *next = NULL;
  size_t count = 0;
  for (int page = 0;; page++)
    {
      struct http_req rq
          = { .method = "GET", .scope = scope, .follow = true, .max_body = MANIFEST_BODY_MAX };
      if (next)
        rq.url = next;
      else
        rq.path = path;
      struct http_resp r = { 0 };
      if (http_do (s, &rq, &r, err) < 0)
        goto fail_r;
      if (r.status != 200)
        {
          http_status_error (&r, err);
          goto fail_r;
        }
      json_t *j = json_parse_buf (r.body.buf ? r.body.buf : "", r.body.len, "tags list", err);
      if (j == NULL)
        goto fail_r;
      json_t *arr = json_object_get (j, "tags");
      size_t i;
      json_t *x;
      json_array_foreach (arr, i, x)
      {
        if (json_is_string (x) && ++count <= TAGS_MAX)
          strv_push (tags, json_string_value (x));
      }
      json_decref (j);
      char *ln = link_next (r.link);
      char *nurl = ln ? url_resolve (r.url, ln) : NULL;
      free (ln);
      http_resp_release (&r);
      free (next);
      next = nurl;
      if (next == NULL || count >= TAGS_MAX || page > 10000)
        break;
      continue;
    fail_r:
      http_resp_release (&r);
      strv_free (*tags);
      *tags = NULL;
      return -1;
    }
  if (*tags == NULL)
    *tags = xzalloc (sizeof (char *));
  return 0;
}

/* ---- blobs ---- */

int reg_blob_exists (struct reg_session *s, const char *repo, const char *digest, int64_t *size,
                     berr_t *err)
{
  if (check_repo (repo, err) < 0 || digest_check (digest, err) < 0)
    return -1;
  cleanup_free char *path = xasprintf ("/v2/%s/blobs/%s", repo, digest);
  cleanup_free char *scope = reg_scope (repo, false);
  struct http_req rq = { .method = "HEAD", .path = path, .scope = scope, .follow = true };
  struct http_resp r = { 0 };
  int rc = -1;
  if (http_do (s, &rq, &r, err) < 0)
    goto out;
  if (r.status == 404)
    rc = 0;
  else if (r.status == 200)
    {
      if (size)
        *size = r.content_length;
      rc = 1;
    }
  else
    http_status_error (&r, err);
out:
  http_resp_release (&r);
  return rc;
}

static void cancel_upload (struct reg_session *s, const char *url, const char *scope)
{
  struct http_req rq = { .method = "DELETE", .url = url, .scope = scope };
  struct http_resp r = { 0 };
  berr_t e = BERR_INIT;
  if (http_do (s, &rq, &r, &e) < 0)
    log_debug ("cancel upload %s: %s", url, e.msg);
  berr_release (&e);
  http_resp_release (&r);
}

int reg_blob_mount (struct reg_session *s, const char *repo, const char *digest,
                    const char *from_repo, berr_t *err)
{
  if (check_repo (repo, err) < 0 || check_repo (from_repo, err) < 0
      || digest_check (digest, err) < 0)
    return -1;
  cleanup_free char *path
      = xasprintf ("/v2/%s/blobs/uploads/?mount=%s&from=%s", repo, digest, from_repo);
  cleanup_free char *scope
      = xasprintf ("repository:%s:pull,push repository:%s:pull", repo, from_repo);
  struct http_req rq = { .method = "POST", .path = path, .scope = scope };
  struct http_resp r = { 0 };
  int rc = -1;
  if (http_do (s, &rq, &r, err) < 0)
    goto out;
  if (r.status == 201)
    rc = 1;
  else if (r.status == 202)
    {
      if (r.location)
        {
          cleanup_free char *u = url_resolve (r.url, r.location);
          cleanup_free char *pscope = reg_scope (repo, true);
          cancel_upload (s, u, pscope);
        }
      rc = 0;
    }
  else
    http_status_error (&r, err);
out:
  http_resp_release (&r);
  return rc;
}

static char *with_digest (const char *url, const char *digest)
{
  /* "sha256:…" with the colon escaped, after any query the registry put in the Location */
  return xasprintf ("%s%sdigest=sha256%%3A%s", url, strchr (url, '?') ? "&" : "?",
                    digest_hex (digest));
}

static int upload_once (struct reg_session *s, const char *repo, const struct reg_upload *up,
                        bool *transient, berr_t *err)
{
  cleanup_free char *path = xasprintf ("/v2/%s/blobs/uploads/", repo);
  cleanup_free char *scope = reg_scope (repo, true);
  struct http_req rq = { .method = "POST", .path = path, .scope = scope };
  struct http_resp r = { 0 };
  cleanup_free char *loc = NULL;
  cleanup_free char *purl = NULL; /* declared before the first goto: cleanup runs at out */
  int rc = -1;
  *transient = false;
  if (http_do (s, &rq, &r, err) < 0)
    goto out;
  if (r.status != 202 || r.location == NULL)
    {
      if (r.status == 202)
        berr_set (err, 0, "upload: the registry sent no Location");
      else
        http_status_error (&r, err);
      *transient = http_status_transient (r.status);
      goto out;
    }
  loc = url_resolve (r.url, r.location);
  int64_t off = 0;
  if (up->chunk_size > 0)
    while (off < up->size)
      {
        int64_t n = up->size - off;
        if (n > (int64_t)up->chunk_size)
          n = (int64_t)up->chunk_size;
        cleanup_free char *range
            = xasprintf ("%lld-%lld", (long long)off, (long long)(off + n - 1));
        struct http_req pq = { .method = "PATCH",
                               .url = loc,
                               .scope = scope,
                               .content_type = "application/octet-stream",
                               .up = up,
                               .up_len = n,
                               .up_base = (uint64_t)off,
                               .content_range = range,
                               .no_retry = true };
        http_resp_release (&r);
        if (http_do (s, &pq, &r, err) < 0)
          {
            *transient = true;
            goto out;
          }
        if (r.status != 202 && r.status != 204)
          {
            http_status_error (&r, err);
            *transient = http_status_transient (r.status);
            goto out;
          }
        off += n;
        if (r.location)
          {
            char *nl = url_resolve (r.url, r.location);
            free (loc);
            loc = nl;
          }
      }
  purl = with_digest (loc, up->digest);
  struct http_req pq = { .method = "PUT",
                         .url = purl,
                         .scope = scope,
                         .content_type = "application/octet-stream",
                         .no_retry = true };
  if (up->chunk_size == 0)
    {
      pq.up = up;
      pq.up_len = up->size;
    }
  http_resp_release (&r);
  if (http_do (s, &pq, &r, err) < 0)
    {
      *transient = true;
      goto out;
    }
  if (r.status != 201)
    {
      http_status_error (&r, err);
      *transient = http_status_transient (r.status);
      goto out;
    }
  if (r.docker_digest && strcmp (r.docker_digest, up->digest) != 0)
    {
      berr_setk (err, BERR_CORRUPT, 0, "upload: the registry stored digest %s, expected %s",
                 r.docker_digest, up->digest);
      goto out;
    }
  rc = 0;
out:
  if (rc < 0 && loc)
    cancel_upload (s, loc, scope);
  http_resp_release (&r);
  return rc;
}

int reg_blob_upload (struct reg_session *s, const char *repo, const struct reg_upload *up,
                     berr_t *err)
{
  if (check_repo (repo, err) < 0 || digest_check (up->digest, err) < 0)
    return -1;
  if (up->size < 0)
    return berr_setk (err, BERR_INVALID, 0, "upload %s: negative size", up->digest);
  for (int attempt = 1;; attempt++)
    {
      bool transient;
      berr_release (err);
      if (upload_once (s, repo, up, &transient, err) == 0)
        return 0;
      if (!transient || attempt >= s->max_attempts || up->rewind_fn == NULL
          || up->rewind_fn (up->cookie) < 0)
        return berr_wrap (err, "upload %s", up->digest);
      log_debug ("upload %s: attempt %d failed (%s), retrying", up->digest, attempt, err->msg);
      http_backoff (s, attempt);
    }
}
