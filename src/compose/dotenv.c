/* dotenv.c — .env files as compose-go reads them.
 *
 * KEY=VALUE or KEY: VALUE per statement, an optional "export " first; '#' starts a comment line,
 * and " #" an inline comment in an unquoted value.  Single quotes are literal; double quotes
 * take C-like escapes and may span lines; unquoted and double-quoted values are substituted
 * (${V} …) with the caller's lookup first and the file's earlier variables second.  A bare KEY
 * line takes KEY's value from the lookup, or is left out. */
#include <string.h>

#include "compose/interp.h"
#include "util/fs.h"

struct dlook
{
  compose_lookup_fn lookup;
  void *ldata;
  struct cnode *vars;
  const struct cnode *base;
};

static const char *dlookup (const char *name, void *data)
{
  struct dlook *d = data;
  const char *v = d->lookup ? d->lookup (name, d->ldata) : NULL;
  if (v == NULL)
    v = compose_lookup_map (name, d->vars);
  if (v == NULL && d->base)
    v = compose_lookup_map (name, (void *)d->base);
  return v;
}

static bool key_char (unsigned char c)
{
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'
         || c == '.' || c == '-' || c == '[' || c == ']' || c >= 0x80;
}

/* Double-quoted escapes; "\$" becomes "$$" so substitution keeps it as a literal "$". */
static void unescape_double (const char *s, size_t n, struct sbuf *out)
{
  for (size_t i = 0; i < n; i++)
    {
      if (s[i] != '\\' || i + 1 >= n)
        {
          sbuf_addc (out, s[i]);
          continue;
        }
      char c = s[++i];
      switch (c)
        {
        case 'a':
          sbuf_addc (out, '\a');
          break;
        case 'b':
          sbuf_addc (out, '\b');
          break;
        case 'f':
          sbuf_addc (out, '\f');
          break;
        case 'n':
          sbuf_addc (out, '\n');
          break;
        case 'r':
          sbuf_addc (out, '\r');
          break;
        case 't':
          sbuf_addc (out, '\t');
          break;
        case 'v':
          sbuf_addc (out, '\v');
          break;
        case '\\':
          sbuf_addc (out, '\\');
          break;
        case '"':
          sbuf_addc (out, '"');
          break;
        case '$':
          sbuf_adds (out, "$$");
          break;
        case '0':
          {
            int v = 0, k = 0;
            while (k < 3 && i + 1 < n && s[i + 1] >= '0' && s[i + 1] <= '7')
              v = v * 8 + (s[++i] - '0'), k++;
            sbuf_addc (out, (char)v);
            break;
          }
        default:
          sbuf_addc (out, '\\');
          sbuf_addc (out, c);
        }
    }
}

int compose_dotenv_parse (const char *data, size_t len, compose_lookup_fn lookup, void *ldata,
                          const struct cnode *base, struct cnode **out, berr_t *err)
{
  /* CRLF to LF, and no BOM. */
  cleanup_sbuf struct sbuf src;
  sbuf_init (&src);
  if (len >= 3 && memcmp (data, "\xef\xbb\xbf", 3) == 0)
    data += 3, len -= 3;
  for (size_t i = 0; i < len; i++)
    if (!(data[i] == '\r' && i + 1 < len && data[i + 1] == '\n'))
      sbuf_addc (&src, data[i]);
  sbuf_adds (&src, "");
  const char *s = src.buf;
  cleanup_cnode struct cnode *vars = cnode_new (CN_MAP);
  struct dlook dl = { lookup, ldata, vars, base };
  unsigned line = 1;
  size_t i = 0, n = src.len;
  while (i < n)
    {
      /* Statement start: skip blank space and comment lines. */
      if (s[i] == '\n')
        {
          line++, i++;
          continue;
        }
      if (s[i] == ' ' || s[i] == '\t' || s[i] == '\r')
        {
          i++;
          continue;
        }
      if (s[i] == '#')
        {
          while (i < n && s[i] != '\n')
            i++;
          continue;
        }
      if (strncmp (s + i, "export", 6) == 0 && (s[i + 6] == ' ' || s[i + 6] == '\t'))
        {
          i += 6;
          while (s[i] == ' ' || s[i] == '\t')
            i++;
        }
      size_t ks = i;
      while (i < n && key_char ((unsigned char)s[i]))
        i++;
      cleanup_free char *key = xstrndup (s + ks, i - ks);
      if (s[i] == ' ' || s[i] == '\t')
        {
          while (s[i] == ' ' || s[i] == '\t')
            i++;
          if (s[i] != '=' && s[i] != ':' && s[i] != '\n' && s[i] != '\0')
            return berr_setk (err, BERR_INVALID, 0, "line %u: key cannot contain a space", line);
        }
      if (s[i] == '\n' || s[i] == '\0')
        {
          /* A bare KEY: inherited from the lookup, or nothing. */
          const char *v = lookup ? lookup (key, ldata) : NULL;
          if (v && *key)
            cnode_set (vars, key, cnode_str (v));
          if (s[i] == '\0' && i < n)
            return berr_setk (err, BERR_INVALID, 0, "line %u: unexpected NUL byte", line);
          continue;
        }
      if (s[i] != '=' && s[i] != ':')
        {
          size_t e = i;
          while (e < n && s[e] != '\n')
            e++;
          cleanup_free char *rest = xstrndup (s + ks, e - ks);
          return berr_setk (err, BERR_INVALID, 0,
                            "line %u: unexpected character \"%c\" in variable name \"%s\"", line,
                            s[i], rest);
        }
      i++;
      while (s[i] == ' ' || s[i] == '\t')
        i++;
      cleanup_free char *value = NULL;
      if (s[i] == '\'' || s[i] == '"')
        {
          char q = s[i];
          size_t vs = ++i;
          unsigned lines = 0;
          while (i < n && s[i] != q)
            {
              if (s[i] == '\\' && i + 1 < n)
                i++;
              lines += s[i++] == '\n';
            }
          if (i >= n)
            return berr_setk (err, BERR_INVALID, 0, "line %u: unterminated quoted value", line);
          if (q == '\'')
            {
              /* Literal, but for the escaped quote itself. */
              cleanup_sbuf struct sbuf u;
              sbuf_init (&u);
              for (size_t k = vs; k < i; k++)
                if (!(s[k] == '\\' && s[k + 1] == '\'' && k + 1 < i))
                  sbuf_addc (&u, s[k]);
              value = sbuf_detach (&u);
            }
          else
            {
              cleanup_sbuf struct sbuf u;
              sbuf_init (&u);
              unescape_double (s + vs, i - vs, &u);
              sbuf_adds (&u, "");
              if (compose_substitute (u.buf, dlookup, &dl, &value, err) < 0)
                return berr_wrap (err, "line %u", line);
            }
          line += lines;
          i++;
        }
      else
        {
          size_t vs = i;
          while (i < n && s[i] != '\n')
            i++;
          size_t ve = i;
          /* " #" starts an inline comment. */
          for (size_t k = vs; k < ve; k++)
            if (s[k] == '#' && k > vs && (s[k - 1] == ' ' || s[k - 1] == '\t'))
              {
                ve = k;
                break;
              }
          while (ve > vs && (s[ve - 1] == ' ' || s[ve - 1] == '\t'))
            ve--;
          cleanup_free char *raw = xstrndup (s + vs, ve - vs);
          if (compose_substitute (raw, dlookup, &dl, &value, err) < 0)
            return berr_wrap (err, "line %u", line);
        }
      /* Names cannot start with a digit; compose drops such lines. */
      if (!(key[0] >= '0' && key[0] <= '9'))
        cnode_set (vars, key, cnode_str (value));
    }
  *out = steal_pointer (&vars);
  return 0;
}

int compose_dotenv_read (const char *path, compose_lookup_fn lookup, void *ldata,
                         const struct cnode *base, struct cnode **out, berr_t *err)
{
  cleanup_free char *data = NULL;
  size_t len = 0;
  if (fs_read_file (path, 16 << 20, &data, &len, err) < 0)
    return -1;
  if (compose_dotenv_parse (data, len, lookup, ldata, base, out, err) < 0)
    return berr_wrap (err, "failed to read %s", path);
  return 0;
}
