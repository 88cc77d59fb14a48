/* client_int.h — what the registry client's files (http.c, auth.c, client*.c) share. */
#ifndef BERTH_REGISTRY_CLIENT_INT_H
#define BERTH_REGISTRY_CLIENT_INT_H

#define CURL_DISABLE_TYPECHECK 1
#include <curl/curl.h>
#include <pthread.h>

#include "registry/creds.h"
#include "registry/registry.h"
#include "util/util.h"

#define REG_ERRBODY_MAX (64u << 10)
#define REG_TOKEN_MAX (1u << 20)
#define REG_MAX_REDIRECTS 10
#define MANIFEST_BODY_MAX (4u << 20)

enum reg_auth_kind
{
  AUTH_UNKNOWN, /* no 401 seen yet: requests go out without Authorization */
  AUTH_NONE,
  AUTH_BASIC,
  AUTH_BEARER,
};

struct reg_token
{
  char *scope;
  char *token;
  int64_t expiry_ns;
};

struct reg_endpoint
{
  char *base; /* "https://host:port" */
  bool tls_noverify;
  bool mirror; /* docker.io mirrors: read requests only */
};

struct reg_session
{
  char *domain;    /* as given: "docker.io", "localhost:5000" */
  char *host;      /* the registry's authority: "registry-1.docker.io", "localhost:5000" */
  char *creds_key; /* config.json key */
  char *certs_dir;
  char *config_dir;
  int max_attempts;
  long connect_timeout_s;
  long low_speed_time_s;
  long retry_first_ms, retry_max_ms;
  /* Set once the registry has answered anything: before that, a host that does not resolve or
   * refuses connections is an error at once (as docker pull), not retried. */
  bool contacted;

  struct reg_endpoint *eps;
  size_t neps;
  int ep_read, ep_write; /* chosen endpoint index, -1 until a request got an HTTP answer */

  pthread_mutex_t lock;      /* everything below and the endpoint choice */
  pthread_mutex_t auth_lock; /* serialises token fetches */
  CURLSH *share;
  pthread_mutex_t share_locks[CURL_LOCK_DATA_LAST];
  CURL **pool;
  size_t npool;

  struct creds creds;
  bool creds_loaded;
  enum reg_auth_kind auth;
  char *realm;
  char *service;
  struct reg_token *tokens;
  size_t ntokens;
  char *extra_scopes;   /* reg_session_add_scope */
  unsigned auth_gen;    /* bumped whenever the auth state changes (a new token, a scheme) */
  char *identity_token; /* a refresh token the token server returned */
  bool want_identity;   /* ping from login: ask for an offline token */

  bool tls_loaded;
  struct sbuf ca_blob; /* system CAs + certs.d *.crt, when certs.d has any */
  char *client_cert;
  char *client_key;
};

/* ---- http.c ---- */
struct http_resp
{
  long status;
  char *reason;
  struct sbuf body;
  bool body_truncated;
  char *location;
  char *content_type;
  char *docker_digest;
  char *www_auth;
  char *link;
  char *content_range;
  int64_t content_length; /* -1 when absent */
  char *url;              /* the URL that gave this answer (after redirects) */
  bool unreachable;       /* no answer: the host did not resolve or refused the connection */
};
void http_resp_release (struct http_resp *r);

struct http_req
{
  const char *method;
  const char *path;  /* "/v2/…" appended to the endpoint's base, or */
  const char *url;   /* an absolute URL (an upload's Location) */
  const char *scope; /* auth scope; NULL: the request carries no token scope */
  const char *accept;
  const char *content_type;
  const void *body; /* in-memory body */
  size_t body_len;
  bool has_body;
  const struct reg_upload *up; /* streamed body: up_len bytes from up->read_fn */
  int64_t up_len;
  uint64_t up_base;          /* bytes sent before this request (progress) */
  const char *content_range; /* "Content-Range" value for a PATCH chunk */
  size_t max_body;           /* 2xx bodies larger than this are an error */
  bool follow;               /* follow redirects (GET/HEAD) */
  bool no_retry;             /* the body cannot be sent again */
  bool no_auth;              /* token requests: no session auth, only authz below */
  const char *authz;         /* an explicit "Authorization: …" line (sent to home only) */
  const char *home;          /* the host authz may reach; default the registry endpoint's */
};

/* One request with endpoint choice, auth, redirects and retries. Any HTTP status is returned in
 * resp (the caller decides); -1 only for transport failures, bounds, and auth failures. */
int http_do (struct reg_session *s, const struct http_req *rq, struct http_resp *resp, berr_t *err);
void http_share_init (struct reg_session *s);
void http_share_free (struct reg_session *s);
size_t http_header_cb (char *p, size_t size, size_t nmemb, void *u);
/* A handle from the session's pool, set up with the session's share, TLS and timeouts. */
CURL *http_handle_get (struct reg_session *s, const char *url);
void http_handle_put (struct reg_session *s, CURL *c);
/* The endpoint base to use (choosing by probing is done by http_do). */
const char *http_base (struct reg_session *s, bool write);
/* Turn a non-2xx answer into Docker's message: "manifest unknown: manifest unknown"; 404 gives
 * BERR_NOT_FOUND. Returns -1. */
int http_status_error (const struct http_resp *r, berr_t *err);
/* The host[:port] of a URL (lowercase, default port dropped); caller frees. */
char *url_authority (const char *url);
/* "scheme://authority" (lower case, default port dropped): what credentials are bound to, so
 * https://host and http://host are different places (credentials never go in clear text to a
 * host they were not meant for in clear text). */
char *url_origin (const char *url);
/* The origin of the registry itself (its first endpoint that is not a mirror): where requests
 * may carry its credentials. */
char *http_registry_origin (struct reg_session *s, bool write);
bool url_is_https (const char *url);
/* The host name of a URL without the port ("[::1]" kept bracketed); caller frees. */
char *url_hostname (const char *url);
/* Resolve a Location against the URL it came from; caller frees. */
char *url_resolve (const char *base, const char *loc);
bool curl_code_transient (CURLcode c);
bool http_status_transient (long status);
void http_backoff (struct reg_session *s, int attempt);
/* Format Go's url.Error-like prefix: `Get "URL"` */
const char *http_method_word (const char *method);

/* ---- client.c ---- */
/* "repository:<repo>:pull" or ":pull,push" (caller frees) */
char *reg_scope (const char *repo, bool push);

/* ---- auth.c ---- */
struct auth_challenge
{
  char *scheme; /* "bearer", "basic" (lowercase) */
  char *realm;
  char *service;
  char *scope;
};
void auth_challenge_release (struct auth_challenge *c);
/* Parse one WWW-Authenticate value. */
int auth_parse_challenge (const char *value, struct auth_challenge *out, berr_t *err);
/* The Authorization header line for a request to the registry's own host ("Authorization: …"),
 * or NULL (caller frees). */
char *auth_header (struct reg_session *s, const char *scope, unsigned *gen, berr_t *err, int *rc);
/* React to a 401 from the registry host: learn the scheme, fetch a token. gen: the auth_gen
 * auth_header gave for the refused request; when another thread has changed the auth state
 * since, the request is simply retried. 0: retry the request, -1: error. */
int auth_handle_401 (struct reg_session *s, const struct http_resp *r, const char *scope,
                     unsigned gen, berr_t *err);
void auth_load_creds (struct reg_session *s);
char *base64_encode (const void *data, size_t len);
/* NULL when invalid. */
char *base64_decode (const char *s, size_t *len);

#endif
