/* gpus.c — docker's --gpus: the value syntax (docker/cli opts.GpuOpts), its Engine API form
 * (DeviceRequest), and the choice of CDI devices a request names. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gpu/gpus.h"
#include "util/json.h"

void gpu_request_clear (struct gpu_request *r)
{
  free (r->driver);
  strv_free (r->device_ids);
  strv_free (r->capabilities);
  strv_free (r->options);
  memset (r, 0, sizeof (*r));
}

/* ---------- one CSV record, as Go's encoding/csv reads it ---------- */

/* Go's csv.Reader with its defaults (comma ',', no lazy quotes, no space trimming): empty lines
 * before the record are skipped, a quoted field may hold commas, doubled quotes and newlines, a
 * quote inside an unquoted field is an error. Columns are 1-based byte offsets, as Go ≥ 1.17
 * reports them. Only the first record is read, the rest of the input ignored (as docker does). */
static int csv_read_record (const char *in, char ***fields, berr_t *err)
{
  cleanup_strv char **out = NULL;
  cleanup_sbuf struct sbuf f;
  const char *p = in;
  int line = 1, col = 1, start_line;

  sbuf_init (&f);
  /* Skip empty lines ("\n", "\r\n"); nothing left is io.EOF. */
  for (;;)
    {
      if (*p == '\n')
        p++, line++;
      else if (p[0] == '\r' && p[1] == '\n')
        p += 2, line++;
      else
        break;
    }
  if (*p == '\0' || (p[0] == '\r' && p[1] == '\0'))
    return berr_setk (err, BERR_INVALID, 0, "EOF");
  start_line = line;

  for (;;)
    {
      sbuf_reset (&f);
      if (*p != '"')
        {
          size_t n = strcspn (p, ",\n");
          const char *q = memchr (p, '"', n);
          size_t keep = n;

          if (q)
            {
              int c = col + (int)(q - p);
              if (start_line != line)
                return berr_setk (err, BERR_INVALID, 0,
                                  "record on line %d; parse error on line %d, column %d: bare \" "
                                  "in non-quoted-field",
                                  start_line, line, c);
              return berr_setk (err, BERR_INVALID, 0,
                                "parse error on line %d, column %d: bare \" in non-quoted-field",
                                line, c);
            }
          /* A "\r\n" line end (or a trailing "\r" at the end) is not part of the field. */
          if (keep > 0 && p[keep - 1] == '\r' && (p[keep] == '\n' || p[keep] == '\0'))
            keep--;
          sbuf_add (&f, p, keep);
          strv_push (&out, f.len ? f.buf : "");
          if (p[n] == ',')
            {
              p += n + 1;
              col += (int)n + 1;
              continue;
            }
          break;
        }

      /* Quoted field. */
      p++, col++;
      for (;;)
        {
          const char *q = strchr (p, '"');
          if (q)
            {
              for (const char *s = p; s < q; s++)
                {
                  if (*s == '\n')
                    line++, col = 1;
                  else
                    col++;
                }
              sbuf_add (&f, p, (size_t)(q - p));
              col++;
              p = q + 1;
              if (*p == '"')
                {
                  sbuf_addc (&f, '"');
                  p++, col++;
                  continue;
                }
              if (*p == ',')
                {
                  p++, col++;
                  strv_push (&out, f.len ? f.buf : "");
                  goto next_field;
                }
              if (*p == '\n' || *p == '\0' || (p[0] == '\r' && (p[1] == '\n' || p[1] == '\0')))
                {
                  strv_push (&out, f.len ? f.buf : "");
                  goto done;
                }
              if (start_line != line)
                return berr_setk (err, BERR_INVALID, 0,
                                  "record on line %d; parse error on line %d, column %d: "
                                  "extraneous or missing \" in quoted-field",
                                  start_line, line, col - 1);
              return berr_setk (err, BERR_INVALID, 0,
                                "parse error on line %d, column %d: extraneous or missing \" in "
                                "quoted-field",
                                line, col - 1);
            }
          /* No closing quote: the field runs to the end of the input. */
          for (const char *s = p; *s; s++)
            {
              if (*s == '\n' && s[1] != '\0')
                line++, col = 1;
              else
                col++;
            }
          if (start_line != line)
            return berr_setk (err, BERR_INVALID, 0,
                              "record on line %d; parse error on line %d, column %d: extraneous "
                              "or missing \" in quoted-field",
                              start_line, line, col);
          return berr_setk (err, BERR_INVALID, 0,
                            "parse error on line %d, column %d: extraneous or missing \" in "
                            "quoted-field",
                            line, col);
        }
    next_field:;
    }
done:
  *fields = steal_pointer (&out);
  if (!*fields)
    *fields = xzalloc (sizeof (char *));
  return 0;
}

/* ---------- --gpus ---------- */

/* strconv.Atoi, its error reason wrapped as docker's CLI wraps it (the text docker 28.2.2 gives,
 * as captured in tests/unit/test_runopts_cases.h; docker 20.10 said "count must be an integer:
 * strconv.Atoi: …"). Go's int is 64 bits; berth's count is an int, so a value beyond
 * INT_MIN..INT_MAX is reported as out of range. */
static int parse_count (const char *s, int *count, berr_t *err)
{
  const char *d = s;
  long long v = 0;
  bool neg = false, range = false;

  if (strcmp (s, "all") == 0)
    {
      *count = -1;
      return 0;
    }
  if (*d == '+' || *d == '-')
    neg = *d++ == '-';
  if (*d == '\0')
    goto syntax;
  for (; *d; d++)
    {
      if (*d < '0' || *d > '9')
        goto syntax;
      if (!range)
        {
          v = v * 10 + (*d - '0');
          if (v > (long long)INT_MAX + 1)
            range = true;
        }
    }
  if (range || (!neg && v > INT_MAX))
    return berr_setk (err, BERR_INVALID, 0,
                      "invalid count (%s): value must be either \"all\" or an integer: value out "
                      "of range",
                      s);
  *count = (int)(neg ? -v : v);
  return 0;
syntax:
  return berr_setk (err, BERR_INVALID, 0,
                    "invalid count (%s): value must be either \"all\" or an integer: invalid "
                    "syntax",
                    s);
}

/* strings.Split(val, ","): never empty; "" gives [""]. */
static char **split_commas (const char *val)
{
  char **v = NULL;
  for (const char *p = val;;)
    {
      const char *c = strchr (p, ',');
      if (!c)
        {
          strv_push (&v, p);
          return v;
        }
      strv_push_take (&v, xstrndup (p, (size_t)(c - p)));
      p = c + 1;
    }
}

static int parse_request (const char *value, bool daemon_checks, struct gpu_request *out,
                          berr_t *err)
{
  cleanup_strv char **fields = NULL;
  cleanup_strv char **seen = NULL;
  struct gpu_request r = { 0 };
  bool have_ids = false;

  memset (out, 0, sizeof (*out));
  if (csv_read_record (value, &fields, err) < 0)
    return -1;

  for (size_t i = 0; fields[i]; i++)
    {
      const char *field = fields[i];
      const char *eq = strchr (field, '=');
      cleanup_free char *key = eq ? xstrndup (field, (size_t)(eq - field)) : xstrdup (field);
      const char *val = eq ? eq + 1 : NULL;

      if (strv_contains (seen, key))
        {
          berr_setk (err, BERR_INVALID, 0, "gpu request key '%s' can be specified only once", key);
          goto fail;
        }
      strv_push (&seen, key);

      if (!eq)
        {
          /* A bare value is a count ("all", "2"); it also counts as "count" being given. */
          if (!strv_contains (seen, "count"))
            strv_push (&seen, "count");
          if (parse_count (key, &r.count, err) < 0)
            goto fail;
          continue;
        }
      if (strcmp (key, "driver") == 0)
        {
          free (r.driver);
          r.driver = xstrdup (val);
        }
      else if (strcmp (key, "count") == 0)
        {
          if (parse_count (val, &r.count, err) < 0)
            goto fail;
        }
      else if (strcmp (key, "device") == 0)
        {
          strv_free (r.device_ids);
          r.device_ids = split_commas (val);
          have_ids = true;
        }
      else if (strcmp (key, "capabilities") == 0)
        {
          strv_free (r.capabilities);
          r.capabilities = split_commas (val);
          strv_push (&r.capabilities, "gpu");
        }
      else if (strcmp (key, "options") == 0)
        {
          cleanup_strv char **opts = NULL;
          if (csv_read_record (val, &opts, err) < 0)
            {
              berr_wrap (err, "failed to read gpu options");
              goto fail;
            }
          strv_free (r.options);
          r.options = NULL;
          /* ConvertKVStringsToMap: "k" alone is k="" ; a later key wins. */
          for (size_t j = 0; opts[j]; j++)
            {
              const char *oeq = strchr (opts[j], '=');
              char *kv = oeq ? xstrdup (opts[j]) : xasprintf ("%s=", opts[j]);
              size_t klen = (size_t)(strchr (kv, '=') - kv);
              for (size_t k = 0; r.options && r.options[k]; k++)
                if (strncmp (r.options[k], kv, klen + 1) == 0)
                  {
                    free (r.options[k]);
                    for (size_t m = k; r.options[m]; m++)
                      r.options[m] = r.options[m + 1];
                    break;
                  }
              strv_push_take (&r.options, kv);
            }
        }
      else
        {
          berr_setk (err, BERR_INVALID, 0, "unexpected key '%s' in '%s'", key, field);
          goto fail;
        }
    }

  if (!strv_contains (seen, "count") && !have_ids)
    r.count = 1;
  if (!r.driver)
    r.driver = xstrdup ("");
  if (!r.capabilities)
    strv_push (&r.capabilities, "gpu");
  /* The CLI accepts this; the daemon refuses it when the container starts. berth has no daemon
   * between the two, so it is refused here, with the daemon's words. */
  if (daemon_checks && r.count != 0 && have_ids)
    {
      berr_setk (err, BERR_INVALID, 0, "cannot set both Count and DeviceIDs on device request");
      goto fail;
    }
  *out = r;
  return 0;
fail:
  gpu_request_clear (&r);
  return -1;
}

int gpu_request_parse (const char *value, struct gpu_request *out, berr_t *err)
{
  return parse_request (value, true, out, err);
}

int gpu_request_parse_flag (const char *value, struct gpu_request *out, berr_t *err)
{
  return parse_request (value, false, out, err);
}

/* ---------- Engine API form ---------- */

json_t *gpu_request_to_json (const struct gpu_request *r)
{
  json_t *j = json_object ();
  json_t *caps = json_array ();
  json_t *opts = json_object ();

  json_object_set_new (j, "Driver", json_string (r->driver ? r->driver : ""));
  json_object_set_new (j, "Count", json_integer (r->count));
  json_object_set_new (j, "DeviceIDs",
                       r->device_ids ? json_from_strv (r->device_ids) : json_null ());
  json_array_append_new (caps, json_from_strv (r->capabilities));
  json_object_set_new (j, "Capabilities", caps);
  for (size_t i = 0; r->options && r->options[i]; i++)
    {
      const char *eq = strchr (r->options[i], '=');
      cleanup_free char *k
          = eq ? xstrndup (r->options[i], (size_t)(eq - r->options[i])) : xstrdup (r->options[i]);
      json_object_set_new (opts, k, json_string (eq ? eq + 1 : ""));
    }
  json_object_set_new (j, "Options", opts);
  return j;
}

static int strv_from_json_strict (const json_t *a, const char *what, char ***out, berr_t *err)
{
  size_t i;
  json_t *v;

  *out = NULL;
  if (!a || json_is_null (a))
    return 0;
  if (!json_is_array (a))
    return berr_setk (err, BERR_INVALID, 0, "DeviceRequest.%s: not an array", what);
  *out = xzalloc (sizeof (char *));
  json_array_foreach (a, i, v)
  {
    if (!json_is_string (v))
      {
        strv_free (*out);
        *out = NULL;
        return berr_setk (err, BERR_INVALID, 0, "DeviceRequest.%s[%zu]: not a string", what, i);
      }
    strv_push (out, json_string_value (v));
  }
  return 0;
}

int gpu_request_from_json (const json_t *j, struct gpu_request *out, berr_t *err)
{
  struct gpu_request r = { 0 };
  const json_t *v;

  memset (out, 0, sizeof (*out));
  if (!json_is_object (j))
    return berr_setk (err, BERR_INVALID, 0, "DeviceRequest: not an object");

  v = json_object_get (j, "Driver");
  if (v && !json_is_null (v) && !json_is_string (v))
    return berr_setk (err, BERR_INVALID, 0, "DeviceRequest.Driver: not a string");
  r.driver = xstrdup (json_is_string (v) ? json_string_value (v) : "");

  v = json_object_get (j, "Count");
  if (v && !json_is_null (v))
    {
      json_int_t c;
      if (!json_is_integer (v))
        goto bad_count;
      c = json_integer_value (v);
      if (c < INT_MIN || c > INT_MAX)
        goto bad_count;
      r.count = (int)c;
    }

  if (strv_from_json_strict (json_object_get (j, "DeviceIDs"), "DeviceIDs", &r.device_ids, err) < 0)
    goto fail;

  /* Capabilities is an OR-list of AND-lists; berth keeps the first AND-list, which is all that
   * docker's CLI and compose ever send. */
  v = json_object_get (j, "Capabilities");
  if (v && !json_is_null (v))
    {
      if (!json_is_array (v))
        {
          berr_setk (err, BERR_INVALID, 0, "DeviceRequest.Capabilities: not an array");
          goto fail;
        }
      if (json_array_size (v) > 0
          && strv_from_json_strict (json_array_get (v, 0), "Capabilities[0]", &r.capabilities, err)
                 < 0)
        goto fail;
    }
  if (!r.capabilities)
    r.capabilities = xzalloc (sizeof (char *));

  v = json_object_get (j, "Options");
  if (v && !json_is_null (v))
    {
      const char *k;
      json_t *ov;
      if (!json_is_object (v))
        {
          berr_setk (err, BERR_INVALID, 0, "DeviceRequest.Options: not an object");
          goto fail;
        }
      json_object_foreach ((json_t *)v, k, ov)
      {
        if (!json_is_string (ov))
          {
            berr_setk (err, BERR_INVALID, 0, "DeviceRequest.Options.%s: not a string", k);
            goto fail;
          }
        strv_push_take (&r.options, xasprintf ("%s=%s", k, json_string_value (ov)));
      }
    }
  *out = r;
  return 0;

bad_count:
  berr_setk (err, BERR_INVALID, 0, "DeviceRequest.Count: not an integer");
fail:
  gpu_request_clear (&r);
  return -1;
}

/* ---------- choosing devices ---------- */

#define GPU_KIND "nvidia.com/gpu"

/* The NVIDIA driver's capability set in moby (daemon/nvidia_linux.go). */
static const char *const nvidia_caps[]
    = { "gpu", "nvidia", "compute", "compat32", "graphics", "utility", "video", "display" };

int gpu_error_no_driver (const struct gpu_request *r, berr_t *err)
{
  cleanup_sbuf struct sbuf caps;

  sbuf_init (&caps);
  if (!r || !r->capabilities)
    sbuf_adds (&caps, "gpu");
  else
    for (size_t i = 0; r->capabilities[i]; i++)
      sbuf_addf (&caps, "%s%s", i ? " " : "", r->capabilities[i]);
  return berr_setk (err, BERR_NOT_FOUND, 0,
                    "could not select device driver \"%s\" with capabilities: [[%s]]",
                    r && r->driver ? r->driver : "", caps.len ? caps.buf : "");
}

static bool request_matches_nvidia (const struct gpu_request *r)
{
  if (r->driver && r->driver[0] && strcmp (r->driver, "nvidia") != 0)
    return false;
  for (size_t i = 0; r->capabilities && r->capabilities[i]; i++)
    {
      bool ok = false;
      for (size_t k = 0; k < ARRAY_SIZE (nvidia_caps); k++)
        ok = ok || strcmp (r->capabilities[i], nvidia_caps[k]) == 0;
      if (!ok)
        return false;
    }
  return true;
}

/* The index of a known device named by a plain decimal ("nvidia.com/gpu=3"), or -1. */
static long known_index (const char *name)
{
  const char *n;
  char *end;
  long v;

  if (!str_has_prefix (name, GPU_KIND "="))
    return -1;
  n = name + strlen (GPU_KIND "=");
  if (*n < '0' || *n > '9')
    return -1;
  errno = 0;
  v = strtol (n, &end, 10);
  if (*end || errno || v > INT_MAX)
    return -1;
  return v;
}

int gpu_select (const struct gpu_request *r, char *const *known, char ***devices, berr_t *err)
{
  cleanup_strv char **sel = NULL;
  cleanup_strv char **missing = NULL;

  *devices = NULL;
  if (!request_matches_nvidia (r))
    return gpu_error_no_driver (r, err);
  if (r->count != 0 && r->device_ids)
    return berr_setk (err, BERR_INVALID, 0,
                      "cannot set both Count and DeviceIDs on device request");
  sel = xzalloc (sizeof (char *));

  if (r->device_ids)
    {
      for (size_t i = 0; r->device_ids[i]; i++)
        {
          const char *id = r->device_ids[i];
          cleanup_free char *q = strchr (id, '=') ? xstrdup (id) : xasprintf (GPU_KIND "=%s", id);
          if (!strv_contains (known, q))
            {
              if (!strv_contains (missing, q))
                strv_push (&missing, q);
            }
          else if (!strv_contains (sel, q))
            strv_push (&sel, q);
        }
    }
  else if (r->count < 0)
    {
      if (strv_contains (known, GPU_KIND "=all"))
        strv_push (&sel, GPU_KIND "=all");
      else
        for (long idx = 0;; idx++)
          {
            cleanup_free char *q = xasprintf (GPU_KIND "=%ld", idx);
            if (!strv_contains (known, q))
              break;
            strv_push (&sel, q);
          }
      if (strv_len (sel) == 0)
        return gpu_error_no_driver (r, err);
    }
  else if (r->count > 0)
    {
      /* The first N by index, as moby's NVIDIA_VISIBLE_DEVICES=0,…,N-1. */
      long have = 0;
      for (size_t i = 0; known && known[i]; i++)
        if (known_index (known[i]) >= 0)
          have++;
      if (have == 0)
        return gpu_error_no_driver (r, err);
      for (long idx = 0; idx < r->count; idx++)
        {
          cleanup_free char *q = xasprintf (GPU_KIND "=%ld", idx);
          if (strv_contains (known, q))
            strv_push (&sel, q);
          else
            strv_push (&missing, q);
        }
    }

  if (missing)
    {
      cleanup_sbuf struct sbuf m;
      sbuf_init (&m);
      for (size_t i = 0; missing[i]; i++)
        sbuf_addf (&m, "%s%s", i ? ", " : "", missing[i]);
      return berr_setk (err, BERR_NOT_FOUND, 0, "unresolvable CDI devices %s", m.buf);
    }
  *devices = steal_pointer (&sel);
  return 0;
}
