/* auth.c — WWW-Authenticate challenges, Basic credentials and Bearer tokens cached per scope.
 *
 * The registry announces its scheme in a 401; until then requests go out anonymously. A token
 * realm is only ever learnt from the registry's own 401, and basic credentials are sent to a
 * realm on another host only over https. */
#include <ctype.h>
#include <string.h>

#include "registry/client_int.h"
#include "util/json.h"
#include "util/log.h"

#define TOKEN_CACHE_MAX 64

/* ---- base64 ---- */

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

char *base64_encode (const void *data, size_t len)
{
  const unsigned char *p = data;
  char *out = xmalloc ((len + 2) / 3 * 4 + 1);
  size_t o = 0;
  for (size_t i = 0; i < len; i += 3)
    {
      unsigned v = (unsigned)p[i] << 16;
      if (i + 1 < len)
        v |= (unsigned)p[i + 1] << 8;
      if (i + 2 < len)
        v |= p[i + 2];
      out[o++] = b64[(v >> 18) & 63];
      out[o++] = b64[(v >> 12) & 63];
      out[o++] = i + 1 < len ? b64[(v >> 6) & 63] : '=';
      out[o++] = i + 2 < len ? b64[v & 63] : '=';
    }
  out[o] = '\0';
  return out;
}

char *base64_decode (const char *s, size_t *len)
{
  size_t n = strlen (s);
  char *out = xmalloc (n / 4 * 3 + 4);
  size_t o = 0;
  unsigned v = 0;
  int bits = 0;
  size_t pad = 0;
  for (size_t i = 0; i < n; i++)
    {
      char c = s[i];
      if (c == '=')
        {
          pad++;
          continue;
        }
      if (pad > 0)
        goto bad;
      const char *q = c ? strchr (b64, c) : NULL;
      int d;
      if (q)
        d = (int)(q - b64);
      else if (c == '-')
        d = 62;
      else if (c == '_')
        d = 63;
      else if (c == '\n' || c == '\r')
        continue;
      else
        goto bad;
      v = (v << 6) | (unsigned)d;
      bits += 6;
      if (bits >= 8)
        {
          bits -= 8;
          out[o++] = (char)((v >> bits) & 0xff);
        }
    }
  if (pad > 2)
    goto bad;
  out[o] = '\0';
  *len = o;
  return out;
bad:
  free (out);
  return NULL;
}

/* ---- challenges ---- */

void auth_challenge_release (struct auth_challenge *c)
{
  free (c->scheme);
  free (c->realm);
  free (c->service);
  free (c->scope);
  memset (c, 0, sizeof *c);
}

static bool is_tchar (char c)
{
  return isalnum ((unsigned char)c) || (c && strchr ("!#$%&'*+-.^_`|~", c));
}

static void skip_ws (const char **p)
{
  while (**p == ' ' || **p == '\t')
    (*p)++;
}

int auth_parse_challenge (const char *value, struct auth_challenge *out, berr_t *err)
{
  memset (out, 0, sizeof *out);
  const char *p = value;
  skip_ws (&p);
  const char *st = p;
  while (is_tchar (*p))
    p++;
  if (p == st)
    return berr_set (err, 0, "malformed WWW-Authenticate header: %s", value);
  out->scheme = xstrndup (st, (size_t)(p - st));
  for (char *q = out->scheme; *q; q++)
    *q = (char)tolower ((unsigned char)*q);
  for (;;)
    {
      skip_ws (&p);
      while (*p == ',')
        {
          p++;
          skip_ws (&p);
        }
      if (*p == '\0')
        break;
      const char *ns = p;
      while (is_tchar (*p))
        p++;
      size_t nlen = (size_t)(p - ns);
      skip_ws (&p);
      if (nlen == 0 || *p != '=')
        break; /* the next challenge ("…, Basic realm=…") or token68: stop at the first */
      p++;
      skip_ws (&p);
      cleanup_sbuf struct sbuf v;
      sbuf_init (&v);
      if (*p == '"')
        {
          p++;
          while (*p && *p != '"')
            {
              if (*p == '\\' && p[1])
                p++;
              sbuf_addc (&v, *p++);
            }
          if (*p != '"')
            {
              auth_challenge_release (out);
              return berr_set (err, 0, "malformed WWW-Authenticate header (unterminated quote): %s",
                               value);
            }
          p++;
        }
      else
        {
          while (*p && *p != ',' && *p != ' ' && *p != '\t')
            sbuf_addc (&v, *p++);
        }
      char **slot = NULL;
      if (nlen == 5 && strncasecmp (ns, "realm", 5) == 0)
        slot = &out->realm;
      else if (nlen == 7 && strncasecmp (ns, "service", 7) == 0)
        slot = &out->service;
      else if (nlen == 5 && strncasecmp (ns, "scope", 5) == 0)
        slot = &out->scope;
      if (slot)
        {
          free (*slot);
          *slot = sbuf_detach (&v);
        }
    }
  return 0;
}

/* ---- credentials ---- */

void auth_load_creds (struct reg_session *s)
{
  if (s->creds_loaded)
    return;
  s->creds_loaded = true;
  if (s->config_dir == NULL)
    return;
  berr_t e = BERR_INIT;
  int r = creds_get (s->config_dir, s->creds_key, &s->creds, &e);
  if (r < 0)
    {
      log_warn ("credentials for %s: %s", s->creds_key, e.msg);
      berr_release (&e);
    }
}

static char *basic_header (const struct creds *c)
{
  cleanup_free char *up = xasprintf ("%s:%s", c->username, c->password ? c->password : "");
  cleanup_free char *b = base64_encode (up, strlen (up));
  return xasprintf ("Authorization: Basic %s", b);
}

/* ---- tokens ---- */

static const char *scope_key (const char *scope) { return scope ? scope : ""; }

/* ---- scope sets: "repository:a:pull,push repository:b:pull" ---- */

struct scope_item
{
  char *resource; /* "repository:a" */
  char **actions; /* "pull", "push" */
};

static void scope_items_free (struct scope_item *v, size_t n)
{
  for (size_t i = 0; i < n; i++)
    {
      free (v[i].resource);
      strv_free (v[i].actions);
    }
  free (v);
}

/* Parse a scope set; items with the same resource are merged. */
static struct scope_item *scope_parse (const char *scope, size_t *n)
{
  struct scope_item *v = NULL;
  *n = 0;
  if (scope == NULL)
    return NULL;
  cleanup_free char *copy = xstrdup (scope);
  char *save = NULL;
  for (char *t = strtok_r (copy, " ", &save); t; t = strtok_r (NULL, " ", &save))
    {
      char *colon = strrchr (t, ':');
      const char *actions = "";
      if (colon && colon != t && strchr (t, ':') != colon)
        {
          *colon = '\0';
          actions = colon + 1;
        }
      size_t i;
      for (i = 0; i < *n; i++)
        if (strcmp (v[i].resource, t) == 0)
          break;
      if (i == *n)
        {
          v = xrealloc (v, (*n + 1) * sizeof *v);
          v[i] = (struct scope_item){ xstrdup (t), NULL };
          (*n)++;
        }
      cleanup_free char *acts = xstrdup (actions);
      char *save2 = NULL;
      for (char *a = strtok_r (acts, ",", &save2); a; a = strtok_r (NULL, ",", &save2))
        if (!strv_contains (v[i].actions, a))
          strv_push (&v[i].actions, a);
    }
  return v;
}

static char *scope_format (struct scope_item *v, size_t n)
{
  struct sbuf b;
  sbuf_init (&b);
  for (size_t i = 0; i < n; i++)
    {
      if (i > 0)
        sbuf_addc (&b, ' ');
      sbuf_adds (&b, v[i].resource);
      if (v[i].actions)
        {
          sbuf_addc (&b, ':');
          /* pull before push, as registries write it */
          bool first = true;
          for (int pass = 0; pass < 2; pass++)
            for (size_t k = 0; v[i].actions[k]; k++)
              {
                bool is_pull = strcmp (v[i].actions[k], "pull") == 0;
                if ((pass == 0) != is_pull)
                  continue;
                if (!first)
                  sbuf_addc (&b, ',');
                sbuf_adds (&b, v[i].actions[k]);
                first = false;
              }
        }
    }
  return sbuf_detach (&b);
}

/* The union of two scope sets (either may be NULL); NULL when both are empty. */
static char *scope_merge (const char *a, const char *b)
{
  if ((a == NULL || *a == '\0') && (b == NULL || *b == '\0'))
    return NULL;
  cleanup_free char *both = xasprintf ("%s %s", a ? a : "", b ? b : "");
  size_t n;
  struct scope_item *v = scope_parse (both, &n);
  char *r = scope_format (v, n);
  scope_items_free (v, n);
  return r;
}

/* Does a token for scope set `have` serve a request for `want`? */
static bool scope_covers (const char *have, const char *want)
{
  if (strcmp (have, scope_key (want)) == 0)
    return true;
  if (want == NULL || *want == '\0')
    return false;
  size_t nh, nw;
  struct scope_item *h = scope_parse (have, &nh);
  struct scope_item *w = scope_parse (want, &nw);
  bool ok = true;
  for (size_t i = 0; ok && i < nw; i++)
    {
      size_t j;
      for (j = 0; j < nh; j++)
        if (strcmp (h[j].resource, w[i].resource) == 0)
          break;
      if (j == nh)
        ok = false;
      for (size_t k = 0; ok && w[i].actions && w[i].actions[k]; k++)
        ok = strv_contains (h[j].actions, w[i].actions[k]);
    }
  scope_items_free (h, nh);
  scope_items_free (w, nw);
  return ok;
}

/* under s->lock */
static char *token_lookup (struct reg_session *s, const char *scope)
{
  int64_t now = now_ns ();
  for (size_t i = 0; i < s->ntokens; i++)
    if (s->tokens[i].expiry_ns > now && scope_covers (s->tokens[i].scope, scope))
      return xstrdup (s->tokens[i].token);
  return NULL;
}

/* Forget every token that could have been sent for scope (it was refused). */
static void token_drop_covering (struct reg_session *s, const char *scope)
{
  for (size_t i = 0; i < s->ntokens;)
    if (scope_covers (s->tokens[i].scope, scope))
      {
        free (s->tokens[i].scope);
        free (s->tokens[i].token);
        s->tokens[i] = s->tokens[--s->ntokens];
      }
    else
      i++;
}

static void token_drop (struct reg_session *s, const char *scope)
{
  for (size_t i = 0; i < s->ntokens; i++)
    if (strcmp (s->tokens[i].scope, scope_key (scope)) == 0)
      {
        free (s->tokens[i].scope);
        free (s->tokens[i].token);
        s->tokens[i] = s->tokens[--s->ntokens];
        return;
      }
}

static void token_store (struct reg_session *s, const char *scope, const char *tok, int64_t expiry)
{
  token_drop (s, scope);
  if (s->ntokens >= TOKEN_CACHE_MAX)
    {
      free (s->tokens[0].scope);
      free (s->tokens[0].token);
      memmove (s->tokens, s->tokens + 1, (s->ntokens - 1) * sizeof *s->tokens);
      s->ntokens--;
    }
  s->tokens = xrealloc (s->tokens, (s->ntokens + 1) * sizeof *s->tokens);
  s->tokens[s->ntokens++]
      = (struct reg_token){ xstrdup (scope_key (scope)), xstrdup (tok), expiry };
}

static void add_param (struct sbuf *b, const char *name, const char *value)
{
  if (b->len > 0)
    sbuf_addc (b, '&');
  sbuf_adds (b, name);
  sbuf_addc (b, '=');
  for (const unsigned char *p = (const unsigned char *)value; *p; p++)
    {
      if (isalnum (*p) || strchr ("-._~", *p))
        sbuf_addc (b, (char)*p);
      else
        sbuf_addf (b, "%%%02X", *p);
    }
}

static void add_scopes (struct sbuf *b, const char *scope)
{
  if (scope == NULL || *scope == '\0')
    return;
  cleanup_free char *copy = xstrdup (scope);
  char *save = NULL;
  for (char *t = strtok_r (copy, " ", &save); t; t = strtok_r (NULL, " ", &save))
    add_param (b, "scope", t);
}

static int token_error (const struct http_resp *r, const char *realm, berr_t *err)
{
  /* token servers answer {"details": "…"} (Docker Hub) or registry-style errors */
  if (r->body.len > 0 && !r->body_truncated)
    {
      berr_t e = BERR_INIT;
      json_t *j = json_parse_buf (r->body.buf, r->body.len, "token error", &e);
      berr_release (&e);
      const char *d = j ? json_get_str (j, "details") : NULL;
      if (d)
        {
          berr_set (err, 0, "%s%s", r->status == 401 ? "unauthorized: " : "", d);
          json_decref (j);
          return -1;
        }
      if (j)
        json_decref (j);
    }
  if (r->status == 401)
    {
      http_status_error (r, err);
      if (strcmp (err->msg, "unauthorized: authentication required") == 0)
        return berr_set (err, 0, "unauthorized: incorrect username or password");
      return -1;
    }
  http_status_error (r, err);
  return berr_wrap (err, "token from %s", realm);
}

/* Ask the realm for a token. Called with s->auth_lock held, s->lock not held. */
static int token_fetch (struct reg_session *s, const char *scope, const char *query_scope,
                        berr_t *err)
{
  pthread_mutex_lock (&s->lock);
  auth_load_creds (s);
  cleanup_free char *realm = s->realm ? xstrdup (s->realm) : NULL;
  cleanup_free char *service = s->service ? xstrdup (s->service) : NULL;
  cleanup_free char *user = s->creds.username ? xstrdup (s->creds.username) : NULL;
  cleanup_free char *pass = s->creds.password ? xstrdup (s->creds.password) : NULL;
  cleanup_free char *ident = s->creds.identity_token ? xstrdup (s->creds.identity_token) : NULL;
  bool want_identity = s->want_identity;
  /* the session's extra scopes ride along on every token (one token for a whole push) */
  cleanup_free char *merged_q = scope_merge (query_scope, s->extra_scopes);
  cleanup_free char *merged_key = s->extra_scopes ? scope_merge (scope, s->extra_scopes) : NULL;
  if (merged_key)
    scope = merged_key;
  query_scope = merged_q;
  pthread_mutex_unlock (&s->lock);
  if (realm == NULL)
    return berr_set (err, 0, "the registry asked for a token but named no realm");
  if (strncasecmp (realm, "https://", 8) != 0 && strncasecmp (realm, "http://", 7) != 0)
    return berr_set (err, 0, "token realm %s is not an http(s) URL", realm);
  cleanup_free char *realm_host = url_origin (realm);
  /* basic credentials travel to the registry's own host (any port: a token server beside the
   * registry), or over https to another one */
  cleanup_free char *realm_name = url_hostname (realm);
  bool creds_ok = url_is_https (realm);
  for (size_t i = 0; !creds_ok && i < s->neps; i++)
    {
      cleanup_free char *h = url_hostname (s->eps[i].base);
      creds_ok = !s->eps[i].mirror && strcmp (h, realm_name) == 0;
    }
  if (user && !creds_ok && want_identity)
    return berr_set (err, 0,
                     "unauthorized: not sending credentials to token realm %s: another host "
                     "over plain http",
                     realm);
  cleanup_sbuf struct sbuf q;
  sbuf_init (&q);
  struct http_resp r = { 0 };
  struct http_req rq = { 0 };
  cleanup_free char *url = NULL;
  cleanup_free char *authz = NULL;
  rq.no_auth = true;
  rq.home = realm_host;
  rq.follow = false;
  rq.max_body = REG_TOKEN_MAX;
  if (ident && creds_ok)
    {
      /* OAuth2 refresh: the identity token login stored */
      add_param (&q, "grant_type", "refresh_token");
      add_param (&q, "refresh_token", ident);
      if (service)
        add_param (&q, "service", service);
      add_param (&q, "client_id", "berth");
      if (query_scope && *query_scope)
        add_param (&q, "scope", query_scope);
      rq.method = "POST";
      rq.url = realm;
      rq.body = q.buf;
      rq.body_len = q.len;
      rq.has_body = true;
      rq.content_type = "application/x-www-form-urlencoded";
    }
  else
    {
      if (service)
        add_param (&q, "service", service);
      add_scopes (&q, query_scope);
      if (want_identity && user)
        {
          add_param (&q, "offline_token", "true");
          add_param (&q, "client_id", "berth");
        }
      url = xasprintf ("%s%s%s", realm, strchr (realm, '?') ? "&" : "?", q.buf);
      rq.method = "GET";
      rq.url = url;
      if (user && creds_ok)
        {
          struct creds c = { user, pass, NULL };
          authz = basic_header (&c);
          rq.authz = authz;
        }
      else if (user)
        log_warn ("not sending credentials to token realm %s: another host over plain http", realm);
    }
  if (http_do (s, &rq, &r, err) < 0)
    {
      http_resp_release (&r);
      return berr_wrap (err, "token from %s", realm);
    }
  if (r.status != 200)
    {
      int rc = token_error (&r, realm, err);
      http_resp_release (&r);
      return rc;
    }
  json_t *j = json_parse_buf (r.body.buf, r.body.len, "token reply", err);
  http_resp_release (&r);
  if (j == NULL)
    return berr_wrap (err, "token from %s", realm);
  const char *tok = json_get_str (j, "token");
  if (tok == NULL || *tok == '\0')
    tok = json_get_str (j, "access_token");
  if (tok == NULL || *tok == '\0')
    {
      json_decref (j);
      return berr_set (err, 0, "token from %s: the reply has no token", realm);
    }
  json_int_t exp = 60;
  json_t *ej = json_object_get (j, "expires_in");
  if (json_is_integer (ej) && json_integer_value (ej) > exp)
    exp = json_integer_value (ej);
  if (exp > 86400) /* a day at most: no overflow below, and no token kept forever */
    exp = 86400;
  const char *refresh = json_get_str (j, "refresh_token");
  pthread_mutex_lock (&s->lock);
  /* 10 s of margin so a token does not expire in flight */
  token_store (s, scope, tok, now_ns () + ((int64_t)exp - 10) * 1000000000LL);
  s->auth_gen++;
  if (refresh && *refresh)
    {
      free (s->identity_token);
      s->identity_token = xstrdup (refresh);
    }
  pthread_mutex_unlock (&s->lock);
  json_decref (j);
  return 0;
}

char *auth_header (struct reg_session *s, const char *scope, unsigned *gen, berr_t *err, int *rc)
{
  *rc = 0;
  pthread_mutex_lock (&s->lock);
  *gen = s->auth_gen;
  enum reg_auth_kind kind = s->auth;
  char *h = NULL;
  if (kind == AUTH_BASIC)
    {
      auth_load_creds (s);
      if (s->creds.username)
        h = basic_header (&s->creds);
    }
  else if (kind == AUTH_BEARER)
    {
      char *tok = token_lookup (s, scope);
      if (tok)
        {
          h = xasprintf ("Authorization: Bearer %s", tok);
          free (tok);
        }
    }
  pthread_mutex_unlock (&s->lock);
  if (h || kind != AUTH_BEARER)
    return h;
  pthread_mutex_lock (&s->auth_lock);
  pthread_mutex_lock (&s->lock);
  char *tok = token_lookup (s, scope);
  pthread_mutex_unlock (&s->lock);
  if (tok == NULL && token_fetch (s, scope, scope, err) < 0)
    *rc = -1;
  else if (tok == NULL)
    {
      pthread_mutex_lock (&s->lock);
      tok = token_lookup (s, scope);
      pthread_mutex_unlock (&s->lock);
    }
  pthread_mutex_unlock (&s->auth_lock);
  if (tok)
    {
      h = xasprintf ("Authorization: Bearer %s", tok);
      free (tok);
    }
  return h;
}

int auth_handle_401 (struct reg_session *s, const struct http_resp *r, const char *scope,
                     unsigned gen, berr_t *err)
{
  if (r->www_auth == NULL)
    return http_status_error (r, err);
  struct auth_challenge ch;
  if (auth_parse_challenge (r->www_auth, &ch, err) < 0)
    return -1;
  int rc = 0;
  if (strcmp (ch.scheme, "bearer") == 0)
    {
      if (ch.realm == NULL)
        {
          auth_challenge_release (&ch);
          return berr_set (err, 0, "the registry asked for a token but named no realm");
        }
      pthread_mutex_lock (&s->auth_lock);
      pthread_mutex_lock (&s->lock);
      if (s->auth_gen != gen && s->auth == AUTH_BEARER)
        {
          /* another request refreshed the auth state meanwhile: try again with it */
          pthread_mutex_unlock (&s->lock);
          pthread_mutex_unlock (&s->auth_lock);
          auth_challenge_release (&ch);
          return 0;
        }
      s->auth = AUTH_BEARER;
      free (s->realm);
      s->realm = xstrdup (ch.realm);
      free (s->service);
      s->service = ch.service ? xstrdup (ch.service) : NULL;
      /* the token we sent (if any) was refused: fetch a new one */
      token_drop_covering (s, scope);
      pthread_mutex_unlock (&s->lock);
      rc = token_fetch (s, scope, scope ? scope : ch.scope, err);
      pthread_mutex_unlock (&s->auth_lock);
    }
  else if (strcmp (ch.scheme, "basic") == 0)
    {
      pthread_mutex_lock (&s->lock);
      auth_load_creds (s);
      bool have = s->creds.username != NULL;
      if (have && s->auth != AUTH_BASIC)
        {
          s->auth = AUTH_BASIC;
          s->auth_gen++;
        }
      pthread_mutex_unlock (&s->lock);
      if (!have)
        rc = http_status_error (r, err);
    }
  else
    rc = berr_set (err, 0, "unsupported authentication scheme %s", ch.scheme);
  auth_challenge_release (&ch);
  return rc;
}

void reg_session_add_scope (struct reg_session *s, const char *scope)
{
  if (scope == NULL || *scope == '\0')
    return;
  pthread_mutex_lock (&s->lock);
  char *m = scope_merge (s->extra_scopes, scope);
  free (s->extra_scopes);
  s->extra_scopes = m;
  pthread_mutex_unlock (&s->lock);
}
