/* ref.c — Docker image references with distribution/reference's grammar and normalization:
 *
 *   reference := name [ ":" tag ] [ "@" digest ]
 *   name      := [ domain "/" ] path-component ( "/" path-component )*
 *   domain    := host [ ":" port ]        host := domain-name | "[" ipv6 "]"
 *
 * Upstream matches this with one anchored regular expression; here each production has a small
 * matcher, and the string is cut into parts first. The cut is unambiguous: "@" can only start the
 * digest (no other part may contain it), a ":" after the last "/" can only start the tag (paths
 * never contain ":", and a domain is always followed by "/"), and the domain can only be the first
 * "/"-separated component. Upstream's optional domain group is greedy, so that component is the
 * domain whenever it is a valid host and the rest is a valid path. */
#include "ref.h"

#include <stdlib.h>
#include <string.h>

#define REPO_NAME_MAX 255 /* RepositoryNameTotalLengthMax, applies to the path only */
#define TAG_MAX 128
#define SHA256_HEX_LEN 64
#define DEFAULT_DOMAIN "docker.io"
#define LEGACY_DEFAULT_DOMAIN "index.docker.io"
#define OFFICIAL_PREFIX "library/"
#define DEFAULT_TAG "latest"

static const char msg_invalid_format[] = "invalid reference format";
static const char msg_name_empty[] = "repository name must have at least one component";

static bool is_digit (char c) { return c >= '0' && c <= '9'; }

static bool is_lower_alnum (char c) { return (c >= 'a' && c <= 'z') || is_digit (c); }

static bool is_alpha (char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

static bool is_alnum (char c) { return is_alpha (c) || is_digit (c); }

static bool is_xdigit (char c)
{
  return is_digit (c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* Go's \w */
static bool is_word (char c) { return is_alnum (c) || c == '_'; }

static bool has_upper (const char *s, size_t n)
{
  for (size_t i = 0; i < n; i++)
    if (s[i] >= 'A' && s[i] <= 'Z')
      return true;
  return false;
}

static char *ascii_lower (const char *s)
{
  char *l = xstrdup (s);
  for (char *p = l; *p; p++)
    if (*p >= 'A' && *p <= 'Z')
      *p = (char)(*p - 'A' + 'a');
  return l;
}

/* path-component := [a-z0-9]+ ( separator [a-z0-9]+ )*   separator := [._] | "__" | "-"+ */
static bool match_path_component (const char *p, size_t n)
{
  size_t i = 0;
  for (;;)
    {
      size_t start = i;
      while (i < n && is_lower_alnum (p[i]))
        i++;
      if (i == start)
        return false;
      if (i == n)
        return true;
      if (p[i] == '.')
        i++;
      else if (p[i] == '_')
        i += (i + 1 < n && p[i + 1] == '_') ? 2 : 1;
      else if (p[i] == '-')
        while (i < n && p[i] == '-')
          i++;
      else
        return false;
    }
}

/* remote-name := path-component ( "/" path-component )* */
static bool match_remote_name (const char *p, size_t n)
{
  size_t start = 0;
  for (size_t i = 0; i <= n; i++)
    if (i == n || p[i] == '/')
      {
        if (!match_path_component (p + start, i - start))
          return false;
        start = i + 1;
      }
  return true;
}

/* domain-component := [a-zA-Z0-9] | [a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9] */
static bool match_domain_component (const char *p, size_t n)
{
  if (n == 0 || !is_alnum (p[0]) || !is_alnum (p[n - 1]))
    return false;
  for (size_t i = 1; i + 1 < n; i++)
    if (!is_alnum (p[i]) && p[i] != '-')
      return false;
  return true;
}

/* domain := ( domain-component ( "." domain-component )* | "[" [a-fA-F0-9:]+ "]" ) [ ":" [0-9]+ ]
 * IPv6 zones ("%eth0") and embedded IPv4 are deliberately not hosts. */
static bool match_domain (const char *p, size_t n)
{
  size_t host_len;

  if (n > 0 && p[0] == '[')
    {
      size_t i = 1;
      while (i < n && (is_xdigit (p[i]) || p[i] == ':'))
        i++;
      if (i == 1 || i >= n || p[i] != ']')
        return false;
      host_len = i + 1;
    }
  else
    {
      const char *colon = memchr (p, ':', n);
      size_t start = 0;
      host_len = colon ? (size_t)(colon - p) : n;
      for (size_t i = 0; i <= host_len; i++)
        if (i == host_len || p[i] == '.')
          {
            if (!match_domain_component (p + start, i - start))
              return false;
            start = i + 1;
          }
    }

  if (host_len == n)
    return true;
  if (p[host_len] != ':' || host_len + 1 == n)
    return false;
  for (size_t i = host_len + 1; i < n; i++)
    if (!is_digit (p[i]))
      return false;
  return true;
}

/* tag := [\w][\w.-]{0,127} */
static bool match_tag (const char *p, size_t n)
{
  if (n == 0 || n > TAG_MAX || !is_word (p[0]))
    return false;
  for (size_t i = 1; i < n; i++)
    if (!is_word (p[i]) && p[i] != '.' && p[i] != '-')
      return false;
  return true;
}

/* The reference grammar's digest:
 * [A-Za-z][A-Za-z0-9]*([-_+.][A-Za-z][A-Za-z0-9]*)* ":" [0-9a-fA-F]{32,} */
static bool match_digest_pattern (const char *p, size_t n)
{
  size_t i = 0;
  for (;;)
    {
      if (i >= n || !is_alpha (p[i]))
        return false;
      i++;
      while (i < n && is_alnum (p[i]))
        i++;
      if (i < n && (p[i] == '-' || p[i] == '_' || p[i] == '+' || p[i] == '.'))
        {
          i++;
          continue;
        }
      break;
    }
  if (i >= n || p[i] != ':')
    return false;
  i++;
  if (n - i < 32)
    return false;
  for (; i < n; i++)
    if (!is_xdigit (p[i]))
      return false;
  return true;
}

/* go-digest's DigestRegexp: [a-z0-9]+([.+_-][a-z0-9]+)* ":" [a-zA-Z0-9=_-]+ */
static bool match_go_digest_pattern (const char *p, size_t n)
{
  size_t i = 0;
  for (;;)
    {
      size_t start = i;
      while (i < n && is_lower_alnum (p[i]))
        i++;
      if (i == start)
        return false;
      if (i < n && (p[i] == '.' || p[i] == '+' || p[i] == '_' || p[i] == '-'))
        {
          i++;
          continue;
        }
      break;
    }
  if (i >= n || p[i] != ':' || i + 1 == n)
    return false;
  for (i++; i < n; i++)
    if (!is_alnum (p[i]) && p[i] != '=' && p[i] != '_' && p[i] != '-')
      return false;
  return true;
}

static bool is_lower_hex (const char *s, size_t n)
{
  for (size_t i = 0; i < n; i++)
    if (!is_digit (s[i]) && !(s[i] >= 'a' && s[i] <= 'f'))
      return false;
  return true;
}

/* go-digest's Digest.Validate with only sha256 registered, as Docker builds it. */
static int validate_digest (const char *d, size_t n, berr_t *err)
{
  const char *colon = memchr (d, ':', n);
  if (colon == NULL || colon == d || (size_t)(colon - d) + 1 == n)
    return berr_setk (err, BERR_INVALID, 0, "invalid checksum digest format");

  size_t alg_len = (size_t)(colon - d);
  const char *enc = colon + 1;
  size_t enc_len = n - alg_len - 1;
  if (alg_len != strlen ("sha256") || memcmp (d, "sha256", alg_len) != 0)
    {
      if (!match_go_digest_pattern (d, n))
        return berr_setk (err, BERR_INVALID, 0, "invalid checksum digest format");
      return berr_setk (err, BERR_INVALID, 0, "unsupported digest algorithm");
    }
  if (enc_len != SHA256_HEX_LEN)
    return berr_setk (err, BERR_INVALID, 0, "invalid checksum digest length");
  if (!is_lower_hex (enc, enc_len))
    return berr_setk (err, BERR_INVALID, 0, "invalid checksum digest format");
  return 0;
}

/* Where the parts of a syntactically valid reference lie in the string. The name is always the
 * prefix s[0, name_len); the path follows the domain and its "/" when domain_len > 0. */
struct ref_parts
{
  size_t name_len;
  size_t domain_len;
  const char *tag;
  size_t tag_len;
  const char *digest;
  size_t digest_len;
};

static bool match_reference (const char *s, struct ref_parts *rp)
{
  size_t len = strlen (s);
  const char *at = memchr (s, '@', len);
  size_t rest = at ? (size_t)(at - s) : len;

  memset (rp, 0, sizeof *rp);
  if (at)
    {
      rp->digest = at + 1;
      rp->digest_len = len - rest - 1;
      if (!match_digest_pattern (rp->digest, rp->digest_len))
        return false;
    }

  rp->name_len = rest;
  const char *slash = memrchr (s, '/', rest);
  const char *colon = memrchr (s, ':', rest);
  if (colon && (slash == NULL || colon > slash))
    {
      rp->tag = colon + 1;
      rp->tag_len = rest - (size_t)(colon - s) - 1;
      if (!match_tag (rp->tag, rp->tag_len))
        return false;
      rp->name_len = (size_t)(colon - s);
    }

  const char *first = memchr (s, '/', rp->name_len);
  if (first)
    {
      size_t dlen = (size_t)(first - s);
      if (match_domain (s, dlen) && match_remote_name (first + 1, rp->name_len - dlen - 1))
        {
          rp->domain_len = dlen;
          return true;
        }
    }
  return match_remote_name (s, rp->name_len);
}

/* Parse: the raw grammar, no normalization. */
int ref_parse (const char *s, struct image_ref *out, berr_t *err)
{
  struct ref_parts rp;

  memset (out, 0, sizeof *out);
  if (*s == '\0')
    return berr_setk (err, BERR_INVALID, 0, msg_name_empty);
  if (!match_reference (s, &rp))
    {
      cleanup_free char *lower = ascii_lower (s);
      /* Valid once lower-cased: the repository name has upper case in it. */
      if (strcmp (lower, s) != 0 && match_reference (lower, &rp))
        return berr_setk (err, BERR_INVALID, 0, "repository name must be lowercase");
      return berr_setk (err, BERR_INVALID, 0, msg_invalid_format);
    }

  size_t path_off = rp.domain_len ? rp.domain_len + 1 : 0;
  if (rp.name_len - path_off > REPO_NAME_MAX)
    return berr_setk (err, BERR_INVALID, 0, "repository name must not be more than %d characters",
                      REPO_NAME_MAX);
  if (rp.digest && validate_digest (rp.digest, rp.digest_len, err) < 0)
    return -1;

  if (rp.domain_len)
    out->domain = xstrndup (s, rp.domain_len);
  out->path = xstrndup (s + path_off, rp.name_len - path_off);
  if (rp.tag)
    out->tag = xstrndup (rp.tag, rp.tag_len);
  if (rp.digest)
    out->digest = xstrndup (rp.digest, rp.digest_len);
  return 0;
}

/* splitDockerDomain: which part of a familiar name is the registry. The first component is a
 * domain when it is "localhost", has a "." or ":", or has upper case (namespaces cannot);
 * otherwise the name lives on Docker Hub, where single components get "library/". */
static void split_docker_domain (const char *name, char **domain, char **remainder)
{
  const char *slash = strchr (name, '/');
  const char *remote;

  if (slash == NULL)
    {
      *domain = xstrdup (DEFAULT_DOMAIN);
      *remainder = xasprintf ("%s%s", OFFICIAL_PREFIX, name);
      return;
    }

  size_t dlen = (size_t)(slash - name);
  remote = slash + 1;
  if (dlen == strlen (LEGACY_DEFAULT_DOMAIN) && memcmp (name, LEGACY_DEFAULT_DOMAIN, dlen) == 0)
    *domain = xstrdup (DEFAULT_DOMAIN);
  else if ((dlen == strlen ("localhost") && memcmp (name, "localhost", dlen) == 0)
           || memchr (name, '.', dlen) || memchr (name, ':', dlen) || has_upper (name, dlen))
    *domain = xstrndup (name, dlen);
  else
    {
      *domain = xstrdup (DEFAULT_DOMAIN);
      remote = name;
    }

  if (strcmp (*domain, DEFAULT_DOMAIN) == 0 && strchr (remote, '/') == NULL)
    *remainder = xasprintf ("%s%s", OFFICIAL_PREFIX, remote);
  else
    *remainder = xstrdup (remote);
}

int ref_parse_normalized (const char *s, struct image_ref *out, berr_t *err)
{
  cleanup_free char *domain = NULL;
  cleanup_free char *remainder = NULL;
  cleanup_free char *full = NULL;

  memset (out, 0, sizeof *out);
  if (ref_is_full_id (s))
    return berr_setk (err, BERR_INVALID, 0,
                      "invalid repository name (%s), cannot specify 64-byte hexadecimal strings",
                      s);

  split_docker_domain (s, &domain, &remainder);
  /* Upstream checks up to the first ":", which may be inside a digest; kept as is. */
  size_t remote_len = strcspn (remainder, ":");
  if (has_upper (remainder, remote_len))
    return berr_setk (err, BERR_INVALID, 0,
                      "invalid reference format: repository name (%.*s) must be lowercase",
                      (int)remote_len, remainder);

  full = xasprintf ("%s/%s", domain, remainder);
  return ref_parse (full, out, err);
}

void ref_tag_name_only (struct image_ref *r)
{
  if (r->path && r->tag == NULL && r->digest == NULL)
    r->tag = xstrdup (DEFAULT_TAG);
}

int ref_parse_docker (const char *s, struct image_ref *out, berr_t *err)
{
  if (ref_parse_normalized (s, out, err) < 0)
    return -1;
  if (out->tag && out->digest)
    {
      /* Both given: the digest is what pins the image, the tag is dropped. */
      free (out->tag);
      out->tag = NULL;
    }
  ref_tag_name_only (out);
  return 0;
}

int ref_parse_any (const char *s, struct image_ref *out, berr_t *err)
{
  cleanup_berr berr_t ignored = BERR_INIT;

  memset (out, 0, sizeof *out);
  if (ref_is_full_id (s))
    {
      out->digest = xasprintf ("sha256:%s", s);
      return 0;
    }
  if (validate_digest (s, strlen (s), &ignored) == 0)
    {
      out->digest = xstrdup (s);
      return 0;
    }
  return ref_parse_normalized (s, out, err);
}

void ref_release (struct image_ref *r)
{
  free (r->domain);
  free (r->path);
  free (r->tag);
  free (r->digest);
  memset (r, 0, sizeof *r);
}

int ref_with_tag (struct image_ref *r, const char *tag, berr_t *err)
{
  if (r->path == NULL)
    return berr_setk (err, BERR_INVALID, 0, "reference %s has no name", r->digest ? r->digest : "");
  if (!match_tag (tag, strlen (tag)))
    return berr_setk (err, BERR_INVALID, 0, "invalid tag format");
  free (r->tag);
  r->tag = xstrdup (tag);
  return 0;
}

int ref_with_digest (struct image_ref *r, const char *digest, berr_t *err)
{
  if (r->path == NULL)
    return berr_setk (err, BERR_INVALID, 0, "reference %s has no name", r->digest ? r->digest : "");
  if (!match_digest_pattern (digest, strlen (digest)))
    return berr_setk (err, BERR_INVALID, 0, "invalid digest format");
  free (r->digest);
  r->digest = xstrdup (digest);
  return 0;
}

static void add_suffixes (struct sbuf *b, const struct image_ref *r)
{
  if (r->tag)
    sbuf_addf (b, ":%s", r->tag);
  if (r->digest)
    sbuf_addf (b, "@%s", r->digest);
}

static void add_name (struct sbuf *b, const char *domain, const char *path)
{
  if (domain && *domain)
    sbuf_addf (b, "%s/", domain);
  sbuf_adds (b, path);
}

char *ref_name (const struct image_ref *r)
{
  cleanup_sbuf struct sbuf b = { NULL, 0, 0 };

  sbuf_init (&b);
  if (r->path)
    add_name (&b, r->domain, r->path);
  return sbuf_detach (&b);
}

char *ref_string (const struct image_ref *r)
{
  cleanup_sbuf struct sbuf b = { NULL, 0, 0 };

  if (r->path == NULL)
    return xstrdup (r->digest ? r->digest : "");
  sbuf_init (&b);
  add_name (&b, r->domain, r->path);
  add_suffixes (&b, r);
  return sbuf_detach (&b);
}

/* familiarizeName: Docker Hub's domain is dropped, and so is "library/" when exactly one
 * component follows it ("library/a/b" keeps its prefix). */
static void familiar_name_parts (const struct image_ref *r, const char **domain, const char **path)
{
  *domain = r->domain;
  *path = r->path;
  if (r->domain && strcmp (r->domain, DEFAULT_DOMAIN) == 0)
    {
      *domain = NULL;
      if (str_has_prefix (r->path, OFFICIAL_PREFIX)
          && strchr (r->path + strlen (OFFICIAL_PREFIX), '/') == NULL)
        *path = r->path + strlen (OFFICIAL_PREFIX);
    }
}

char *ref_familiar_name (const struct image_ref *r)
{
  cleanup_sbuf struct sbuf b = { NULL, 0, 0 };
  const char *domain, *path;

  sbuf_init (&b);
  if (r->path == NULL)
    return sbuf_detach (&b);
  familiar_name_parts (r, &domain, &path);
  add_name (&b, domain, path);
  return sbuf_detach (&b);
}

char *ref_familiar (const struct image_ref *r)
{
  cleanup_sbuf struct sbuf b = { NULL, 0, 0 };
  const char *domain, *path;

  if (r->path == NULL)
    return ref_string (r);
  sbuf_init (&b);
  familiar_name_parts (r, &domain, &path);
  add_name (&b, domain, path);
  add_suffixes (&b, r);
  return sbuf_detach (&b);
}

char *ref_familiarize (const char *full)
{
  cleanup_berr berr_t err = BERR_INIT;
  struct image_ref r;
  char *s;

  if (ref_parse_normalized (full, &r, &err) < 0)
    return xstrdup (full);
  s = ref_familiar (&r);
  ref_release (&r);
  return s;
}

bool ref_is_full_id (const char *s)
{
  return strlen (s) == SHA256_HEX_LEN && is_lower_hex (s, SHA256_HEX_LEN);
}

bool ref_is_id_prefix (const char *s)
{
  if (str_has_prefix (s, "sha256:"))
    s += strlen ("sha256:");
  size_t n = strlen (s);
  return n >= 1 && n <= SHA256_HEX_LEN && is_lower_hex (s, n);
}

/* ---- Go's path.Match, which FamiliarMatch uses ---------------------------------------------
 *
 * pattern := term*   term := "*" (any run of non-"/") | "?" (one non-"/" character)
 *          | "[" ["^"] range+ "]" | "\" c | c      range := c | c "-" c   (c may be "\" escaped)
 *
 * The pattern is cut into chunks, each a run of stars followed by star-free text; a chunk after a
 * star is tried at the first position where it matches, as upstream does. A malformed pattern is
 * an error even when the name already failed to match. */

enum
{
  GLOB_BAD = -1,
  GLOB_NOMATCH = 0,
  GLOB_MATCH = 1,
};

#define RUNE_ERROR 0xFFFDu

/* Decode one UTF-8 character; an invalid or truncated sequence is one byte of U+FFFD. */
static size_t utf8_decode (const unsigned char *s, size_t n, uint32_t *r, bool *valid)
{
  uint32_t c;
  size_t len;
  uint32_t min;

  *valid = false;
  *r = RUNE_ERROR;
  if (n == 0)
    return 0;
  if (s[0] < 0x80)
    {
      *r = s[0];
      *valid = true;
      return 1;
    }
  if ((s[0] & 0xE0) == 0xC0)
    c = s[0] & 0x1F, len = 2, min = 0x80;
  else if ((s[0] & 0xF0) == 0xE0)
    c = s[0] & 0x0F, len = 3, min = 0x800;
  else if ((s[0] & 0xF8) == 0xF0)
    c = s[0] & 0x07, len = 4, min = 0x10000;
  else
    return 1;
  if (n < len)
    return 1;
  for (size_t i = 1; i < len; i++)
    {
      if ((s[i] & 0xC0) != 0x80)
        return 1;
      c = (c << 6) | (s[i] & 0x3F);
    }
  if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
    return 1;
  *r = c;
  *valid = true;
  return len;
}

/* One end of a class range: a character other than "-" and "]", or an escaped one. The class must
 * go on after it. */
static int glob_class_char (const char *c, size_t n, size_t *i, uint32_t *r)
{
  bool valid;

  if (*i >= n || c[*i] == '-' || c[*i] == ']')
    return GLOB_BAD;
  if (c[*i] == '\\')
    {
      (*i)++;
      if (*i >= n)
        return GLOB_BAD;
    }
  *i += utf8_decode ((const unsigned char *)c + *i, n - *i, r, &valid);
  if (!valid)
    return GLOB_BAD;
  if (*i >= n)
    return GLOB_BAD;
  return 0;
}

/* Match the star-free chunk c[0, n) at the start of s; *used is how much of s it took. */
static int glob_match_chunk (const char *c, size_t n, const char *s, size_t slen, size_t *used)
{
  size_t i = 0, j = 0;
  bool failed = false;
  bool valid;

  while (i < n)
    {
      if (!failed && j == slen)
        failed = true;
      switch (c[i])
        {
        case '[':
          {
            uint32_t r = 0, lo, hi;
            bool negated = false, in_class = false;
            int nranges = 0;

            if (!failed)
              j += utf8_decode ((const unsigned char *)s + j, slen - j, &r, &valid);
            i++;
            if (i < n && c[i] == '^')
              {
                negated = true;
                i++;
              }
            for (;;)
              {
                if (i < n && c[i] == ']' && nranges > 0)
                  {
                    i++;
                    break;
                  }
                if (glob_class_char (c, n, &i, &lo) < 0)
                  return GLOB_BAD;
                hi = lo;
                if (c[i] == '-')
                  {
                    i++;
                    if (glob_class_char (c, n, &i, &hi) < 0)
                      return GLOB_BAD;
                  }
                if (lo <= r && r <= hi)
                  in_class = true;
                nranges++;
              }
            if (in_class == negated)
              failed = true;
            break;
          }
        case '?':
          if (!failed)
            {
              uint32_t r;
              if (s[j] == '/')
                failed = true;
              j += utf8_decode ((const unsigned char *)s + j, slen - j, &r, &valid);
            }
          i++;
          break;
        case '\\':
          i++;
          if (i >= n)
            return GLOB_BAD;
          __attribute__ ((fallthrough));
        default:
          if (!failed)
            {
              if (c[i] != s[j])
                failed = true;
              j++;
            }
          i++;
          break;
        }
    }
  if (failed)
    return GLOB_NOMATCH;
  *used = j;
  return GLOB_MATCH;
}

/* Take the next chunk off *pat: leading stars, then text up to a "*" outside a class. */
static void glob_next_chunk (const char **pat, bool *star, const char **chunk, size_t *chunk_len)
{
  const char *p = *pat;
  bool in_class = false;
  size_t i;

  *star = false;
  while (*p == '*')
    {
      p++;
      *star = true;
    }
  for (i = 0; p[i]; i++)
    {
      if (p[i] == '\\')
        {
          if (p[i + 1])
            i++;
        }
      else if (p[i] == '[')
        in_class = true;
      else if (p[i] == ']')
        in_class = false;
      else if (p[i] == '*' && !in_class)
        break;
    }
  *chunk = p;
  *chunk_len = i;
  *pat = p + i;
}

static int glob_match (const char *pattern, const char *name)
{
  const char *p = pattern;
  const char *s = name;
  size_t slen = strlen (name);

  while (*p)
    {
      bool star, found = false;
      const char *chunk;
      size_t clen, used = 0;
      int r;

      glob_next_chunk (&p, &star, &chunk, &clen);
      if (star && clen == 0)
        return memchr (s, '/', slen) == NULL ? GLOB_MATCH : GLOB_NOMATCH;

      r = glob_match_chunk (chunk, clen, s, slen, &used);
      /* The last chunk must use up the name. */
      if (r == GLOB_MATCH && (used == slen || *p))
        {
          s += used;
          slen -= used;
          continue;
        }
      if (r == GLOB_BAD)
        return GLOB_BAD;
      if (star)
        for (size_t k = 0; k < slen && s[k] != '/'; k++)
          {
            r = glob_match_chunk (chunk, clen, s + k + 1, slen - k - 1, &used);
            if (r == GLOB_MATCH)
              {
                if (*p == '\0' && used != slen - k - 1)
                  continue;
                s += k + 1 + used;
                slen -= k + 1 + used;
                found = true;
                break;
              }
            if (r == GLOB_BAD)
              return GLOB_BAD;
          }
      if (found)
        continue;

      while (*p)
        {
          glob_next_chunk (&p, &star, &chunk, &clen);
          if (glob_match_chunk (chunk, clen, "", 0, &used) == GLOB_BAD)
            return GLOB_BAD;
        }
      return GLOB_NOMATCH;
    }
  return slen == 0 ? GLOB_MATCH : GLOB_NOMATCH;
}

int ref_familiar_match (const char *pattern, const struct image_ref *r, bool *matched, berr_t *err)
{
  cleanup_free char *familiar = ref_familiar (r);
  int m = glob_match (pattern, familiar);

  *matched = false;
  if (m == GLOB_BAD)
    return berr_setk (err, BERR_INVALID, 0, "syntax error in pattern");
  if (m == GLOB_NOMATCH && r->path)
    {
      cleanup_free char *name = ref_familiar_name (r);
      m = glob_match (pattern, name);
    }
  *matched = m == GLOB_MATCH;
  return 0;
}

int ref_tag_target (const char *s, char **full, berr_t *err)
{
  struct image_ref ref = { 0 };
  if (ref_parse_normalized (s, &ref, err) < 0)
    return -1;
  if (ref.digest)
    {
      ref_release (&ref);
      berr_setk (err, BERR_INVALID, 0, "refusing to create a tag with a digest reference");
      return -2;
    }
  if (ref.tag == NULL)
    ref.tag = xstrdup ("latest");
  *full = ref_string (&ref);
  ref_release (&ref);
  return 0;
}
