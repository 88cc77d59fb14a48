/* template_exec.c — executing a parsed template over JSON data, and the template functions.
 *
 * Values are jansson references; JSON null stands for both null and Go's "no value" (a missing
 * map key), which Go's own evaluation never tells apart once a pipeline has produced it.
 * Every evaluation step returns a new reference. Variables live on a stack that control
 * structures cut back when they end, as in Go's exec.go, so a variable declared inside an if
 * or a range iteration disappears at its end while an assignment to an outer one survives. */
#include "template_int.h"

#include <string.h>

/* Go sets no bound on execution, but {{range 2000000000}}…{{end}} (ranging over an integer)
 * would then run for minutes and buffer gigabytes: one execution stops with an error past these
 * many walked nodes or this much output. Real --format templates stay far below both. */
enum
{
  TMPL_MAX_STEPS = 1 << 22,
  TMPL_MAX_OUTPUT = 1 << 26,
};

enum
{
  WALK_OK = 0,
  WALK_BREAK = 1,
  WALK_CONTINUE = 2,
};

struct tvar
{
  const char *name;
  json_t *val;
};

struct exec
{
  const struct tmpl *t;
  struct sbuf *out;
  struct tvar *vars;
  size_t nvars, cap;
  bool header;
  berr_t *err;
  size_t steps;     /* nodes walked */
  size_t out_start; /* out->len when the execution began */
};

/* A function's complaint; type errors are reported without Go's "error calling f:" prefix,
 * as Go finds them while converting arguments rather than inside the call. */
struct fcall
{
  struct exec *ex;
  char *msg;
  bool type_error;
  size_t bad_arg;       /* with type_error: which argument */
  const char *expected; /* with type_error: the Go type wanted */
};

typedef int (*tfunc_fn) (struct fcall *c, json_t **args, size_t n, json_t **res);

static void cleanup_jsonp_ (json_t **j)
{
  json_decref (*j);
  *j = NULL;
}
#define cleanup_value __attribute__ ((cleanup (cleanup_jsonp_)))

static json_t *nil (void) { return json_null (); }

/* Go's context for an execution error: the node's text, spaces squeezed, cut at 20 bytes. */
static int PRINTF_LIKE (3, 4)
    ex_error (struct exec *ex, const struct tnode *n, const char *fmt, ...)
{
  struct sbuf b;
  va_list ap;
  const char *src = ex->t->src;
  size_t shown = 0;

  sbuf_init (&b);
  tmpl_add_location (&b, src, n->pos);
  sbuf_adds (&b, "executing \"\" at <");
  for (size_t i = n->pos; i < n->end && shown < 20; i++)
    {
      bool sp = strchr (" \t\r\n", src[i]) != NULL;
      if (sp && i > n->pos && strchr (" \t\r\n", src[i - 1]))
        continue;
      sbuf_addc (&b, sp ? ' ' : src[i]);
      shown++;
    }
  if (shown == 20 && n->end - n->pos > 20)
    sbuf_adds (&b, "...");
  sbuf_adds (&b, ">: ");
  va_start (ap, fmt);
  sbuf_vaddf (&b, fmt, ap);
  va_end (ap);
  berr_setk (ex->err, BERR_INVALID, 0, "%s", b.buf);
  sbuf_release (&b);
  return -1;
}

static int PRINTF_LIKE (2, 3) fc_error (struct fcall *c, const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  free (c->msg);
  c->msg = xvasprintf (fmt, ap);
  va_end (ap);
  return -1;
}

static int fc_type_error (struct fcall *c, json_t **args, size_t i, const char *expected)
{
  c->type_error = true;
  c->bad_arg = i;
  c->expected = expected;
  if (json_is_null (args[i]))
    return fc_error (c, "invalid value; expected %s", expected);
  return fc_error (c, "wrong type for value; expected %s; got %s", expected,
                   tmpl_type_name (args[i]));
}

/* Variables */

static void var_push (struct exec *ex, const char *name, json_t *val)
{
  if (ex->nvars == ex->cap)
    {
      ex->cap = ex->cap ? ex->cap * 2 : 16;
      ex->vars = xrealloc (ex->vars, ex->cap * sizeof *ex->vars);
    }
  ex->vars[ex->nvars++] = (struct tvar){ name, json_incref (val) };
}

static void var_pop (struct exec *ex, size_t mark)
{
  while (ex->nvars > mark)
    json_decref (ex->vars[--ex->nvars].val);
}

static struct tvar *var_find (struct exec *ex, const char *name)
{
  for (size_t i = ex->nvars; i-- > 0;)
    if (strcmp (ex->vars[i].name, name) == 0)
      return &ex->vars[i];
  return NULL;
}

static int var_set (struct exec *ex, const struct tnode *n, const char *name, json_t *val)
{
  struct tvar *v = var_find (ex, name);
  if (v == NULL)
    return ex_error (ex, n, "undefined variable: %s", name);
  json_decref (v->val);
  v->val = json_incref (val);
  return 0;
}

/* Go's truth: false, 0, "", null and empty collections are false. */
static bool is_true (json_t *v)
{
  switch (json_typeof (v))
    {
    case JSON_TRUE:
      return true;
    case JSON_INTEGER:
      return json_integer_value (v) != 0;
    case JSON_REAL:
      return json_real_value (v) != 0;
    case JSON_STRING:
      return json_string_length (v) > 0;
    case JSON_ARRAY:
      return json_array_size (v) > 0;
    case JSON_OBJECT:
      return json_object_size (v) > 0;
    default:
      return false;
    }
}

/* Functions */

static int need_string (struct fcall *c, json_t **args, size_t i)
{
  return json_is_string (args[i]) ? 0 : fc_type_error (c, args, i, "string");
}

static int need_int (struct fcall *c, json_t **args, size_t i, long long *out)
{
  if (!json_is_integer (args[i]))
    return fc_type_error (c, args, i, "int");
  *out = json_integer_value (args[i]);
  return 0;
}

static int fn_not (struct fcall *c, json_t **a, size_t n, json_t **res)
{
  *res = json_boolean (!is_true (a[0]));
  return 0;
}

static int fn_len (struct fcall *c, json_t **a, size_t n, json_t **res)
{
  json_t *v = a[0];
  if (json_is_string (v))
    *res = json_integer ((json_int_t)json_string_length (v));
  else if (json_is_array (v))
    *res = json_integer ((json_int_t)json_array_size (v));
  else if (json_is_object (v))
    *res = json_integer ((json_int_t)json_object_size (v));
  else if (json_is_null (v))
    return fc_error (c, "len of nil pointer");
  else
    return fc_error (c, "len of type %s", tmpl_type_name (v));
  return 0;
}

static int fn_index (struct fcall *c, json_t **a, size_t n, json_t **res)
{
  json_t *item = a[0];
  for (size_t i = 1; i < n; i++)
    {
      json_t *ix = a[i];
      if (json_is_null (item))
        break; /* Go would fail on an untyped nil; Docker's typed nil maps give a zero value */
      if (json_is_object (item))
        {
          if (!json_is_string (ix))
            return fc_error (c, "value has type %s; should be string", tmpl_type_name (ix));
          item = json_object_getn (item, json_string_value (ix), json_string_length (ix));
          if (item == NULL)
            item = nil ();
          continue;
        }
      if (!json_is_array (item) && !json_is_string (item))
        return fc_error (c, "can't index item of type %s", tmpl_type_name (item));
      if (!json_is_integer (ix))
        return fc_error (c, "cannot index slice/array with type %s", tmpl_type_name (ix));
      long long k = json_integer_value (ix);
      size_t len = json_is_array (item) ? json_array_size (item) : json_string_length (item);
      if (k < 0 || (unsigned long long)k >= len)
        return fc_error (c, "index out of range: %lld", k);
      if (json_is_string (item))
        {
          *res = json_integer ((unsigned char)json_string_value (item)[k]);
          return 0;
        }
      item = json_array_get (item, (size_t)k);
    }
  *res = json_incref (item);
  return 0;
}

/* Sprint: a space between operands when neither is a string; Sprintln: always, and a newline. */
static void sprint (struct sbuf *b, json_t **a, size_t n, bool ln)
{
  for (size_t i = 0; i < n; i++)
    {
      if (i > 0 && (ln || (!json_is_string (a[i]) && !json_is_string (a[i - 1]))))
        sbuf_addc (b, ' ');
      tmpl_print_v (b, a[i]);
    }
  if (ln)
    sbuf_addc (b, '\n');
}

static json_t *sbuf_to_string (struct sbuf *b)
{
  json_t *s = json_stringn_nocheck (b->buf ? b->buf : "", b->len);
  sbuf_release (b);
  return s;
}

static int fn_print (struct fcall *c, json_t **a, size_t n, json_t **res)
{
  struct sbuf b;
  sbuf_init (&b);
  sprint (&b, a, n, false);
  *res = sbuf_to_string (&b);
  return 0;
}

static int fn_println (struct fcall *c, json_t **a, size_t n, json_t **res)
{
  struct sbuf b;
  sbuf_init (&b);
  sprint (&b, a, n, true);
  *res = sbuf_to_string (&b);
  return 0;
}

static int fn_printf (struct fcall *c, json_t **a, size_t n, json_t **res)
{
  struct sbuf b;
  if (need_string (c, a, 0) < 0)
    return -1;
  sbuf_init (&b);
  tmpl_sprintf (&b, json_string_value (a[0]), json_string_length (a[0]), a + 1, n - 1);
  *res = sbuf_to_string (&b);
  return 0;
}

/* Comparison classes as Go's basicKind: bool, number (int and real compare numerically),
 * string; anything else cannot be ordered. */
enum kind
{
  K_NIL,
  K_BOOL,
  K_NUM,
  K_STRING,
  K_OTHER,
};

static enum kind kind_of (json_t *v)
{
  if (json_is_null (v))
    return K_NIL;
  if (json_is_boolean (v))
    return K_BOOL;
  if (json_is_number (v))
    return K_NUM;
  if (json_is_string (v))
    return K_STRING;
  return K_OTHER;
}

static int compare_strings (json_t *a, json_t *b)
{
  size_t la = json_string_length (a), lb = json_string_length (b);
  int r = memcmp (json_string_value (a), json_string_value (b), la < lb ? la : lb);
  return r != 0 ? r : (la > lb) - (la < lb);
}

static int compare_numbers (json_t *a, json_t *b)
{
  if (json_is_integer (a) && json_is_integer (b))
    {
      json_int_t x = json_integer_value (a), y = json_integer_value (b);
      return (x > y) - (x < y);
    }
  double x = json_number_value (a), y = json_number_value (b);
  return (x > y) - (x < y);
}

static int equal (struct fcall *c, json_t *a, json_t *b, bool *out)
{
  enum kind ka = kind_of (a), kb = kind_of (b);
  if (ka != kb)
    {
      if (ka != K_NIL && kb != K_NIL)
        return fc_error (c, "incompatible types for comparison");
      *out = false;
      return 0;
    }
  switch (ka)
    {
    case K_NIL:
      *out = true;
      break;
    case K_BOOL:
      *out = json_is_true (a) == json_is_true (b);
      break;
    case K_NUM:
      *out = compare_numbers (a, b) == 0;
      break;
    case K_STRING:
      *out = compare_strings (a, b) == 0;
      break;
    default:
      return fc_error (c, "non-comparable type %s", tmpl_type_name (a));
    }
  return 0;
}

static int fn_eq (struct fcall *c, json_t **a, size_t n, json_t **res)
{
  if (n < 2)
    return fc_error (c, "missing argument for comparison");
  for (size_t i = 1; i < n; i++)
    {
      bool eq;
      if (equal (c, a[0], a[i], &eq) < 0)
        return -1;
      if (eq)
        {
          *res = json_true ();
          return 0;
        }
    }
  *res = json_false ();
  return 0;
}

static int fn_ne (struct fcall *c, json_t **a, size_t n, json_t **res)
{
  bool eq;
  if (equal (c, a[0], a[1], &eq) < 0)
    return -1;
  *res = json_boolean (!eq);
  return 0;
}

static int less (struct fcall *c, json_t *a, json_t *b, bool *out)
{
  enum kind ka = kind_of (a), kb = kind_of (b);
  if (ka == K_NUM && kb == K_NUM)
    *out = compare_numbers (a, b) < 0;
  else if (ka == K_STRING && kb == K_STRING)
    *out = compare_strings (a, b) < 0;
  else if (ka != K_NUM && ka != K_STRING)
    return fc_error (c, "invalid type for comparison");
  else if (kb != K_NUM && kb != K_STRING)
    return fc_error (c, "invalid type for comparison");
  else
    return fc_error (c, "incompatible types for comparison");
  return 0;
}

static int fn_lt (struct fcall *c, json_t **a, size_t n, json_t **res)
{
  bool r;
  if (less (c, a[0], a[1], &r) < 0)
    return -1;
  *res = json_boolean (r);
  return 0;
}

static int fn_le (struct fcall *c, json_t **a, size_t n, json_t **res)
{
  bool lt, eq;
  if (less (c, a[0], a[1], &lt) < 0 || equal (c, a[0], a[1], &eq) < 0)
    return -1;
  *res = json_boolean (lt || eq);
  return 0;
}

static int fn_gt (struct fcall *c, json_t **a, size_t n, json_t **res)
{
  bool r;
  if (fn_le (c, a, n, res) < 0)
    return -1;
  r = !json_is_true (*res);
  json_decref (*res);
  *res = json_boolean (r);
  return 0;
}

static int fn_ge (struct fcall *c, json_t **a, size_t n, json_t **res)
{
  bool r;
  if (fn_lt (c, a, n, res) < 0)
    return -1;
  r = !json_is_true (*res);
  json_decref (*res);
  *res = json_boolean (r);
  return 0;
}

static int fn_json (struct fcall *c, json_t **a, size_t n, json_t **res)
{
  struct sbuf b;
  sbuf_init (&b);
  tmpl_json_encode (&b, a[0]);
  *res = sbuf_to_string (&b);
  return 0;
}

static int fn_split (struct fcall *c, json_t **a, size_t n, json_t **res)
{
  if (need_string (c, a, 0) < 0 || need_string (c, a, 1) < 0)
    return -1;
  const char *s = json_string_value (a[0]), *sep = json_string_value (a[1]);
  size_t len = json_string_length (a[0]), seplen = json_string_length (a[1]);
  json_t *arr = json_array ();
  if (seplen == 0)
    {
      /* strings.Split with an empty separator: one element per UTF-8 sequence */
      for (size_t i = 0; i < len;)
        {
          unsigned r;
          int k = tmpl_utf8_decode (s + i, len - i, &r);
          json_array_append_new (arr, json_stringn_nocheck (s + i, (size_t)k));
          i += (size_t)k;
        }
      *res = arr;
      return 0;
    }
  size_t start = 0;
  for (size_t i = 0; i + seplen <= len;)
    {
      if (memcmp (s + i, sep, seplen) == 0)
        {
          json_array_append_new (arr, json_stringn_nocheck (s + start, i - start));
          i += seplen;
          start = i;
        }
      else
        i++;
    }
  json_array_append_new (arr, json_stringn_nocheck (s + start, len - start));
  *res = arr;
  return 0;
}

static int fn_join (struct fcall *c, json_t **a, size_t n, json_t **res)
{
  struct sbuf b;
  size_t i;
  json_t *e;
  if (!json_is_array (a[0]) && !json_is_null (a[0]))
    return fc_type_error (c, a, 0, "[]string");
  if (need_string (c, a, 1) < 0)
    return -1;
  sbuf_init (&b);
  json_array_foreach (a[0], i, e)
  {
    if (i > 0)
      sbuf_add (&b, json_string_value (a[1]), json_string_length (a[1]));
    tmpl_print_v (&b, e);
  }
  *res = sbuf_to_string (&b);
  return 0;
}

enum case_map
{
  CASE_LOWER,
  CASE_UPPER,
  CASE_TITLE,
};

static int map_case (struct fcall *c, json_t **a, enum case_map how, json_t **res)
{
  json_t *v = a[0];
  if (need_string (c, a, 0) < 0)
    return -1;
  size_t len = json_string_length (v);
  char *s = xmalloc (len + 1);
  bool after_sep = true;
  memcpy (s, json_string_value (v), len + 1);
  for (size_t i = 0; i < len; i++)
    {
      unsigned char ch = (unsigned char)s[i];
      bool word = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9')
                  || ch == '_' || ch >= 0x80;
      if (how == CASE_LOWER && ch >= 'A' && ch <= 'Z')
        s[i] = (char)(ch + 32);
      else if ((how == CASE_UPPER || (how == CASE_TITLE && after_sep)) && ch >= 'a' && ch <= 'z')
        s[i] = (char)(ch - 32);
      /* strings.Title: a word starts after any ASCII character that is not a letter, digit or
       * '_'; the bytes of a multi-byte character never start one. */
      after_sep = !word;
    }
  *res = json_stringn_nocheck (s, len);
  free (s);
  return 0;
}

static int fn_lower (struct fcall *c, json_t **a, size_t n, json_t **res)
{
  return map_case (c, a, CASE_LOWER, res);
}

static int fn_upper (struct fcall *c, json_t **a, size_t n, json_t **res)
{
  return map_case (c, a, CASE_UPPER, res);
}

static int fn_title (struct fcall *c, json_t **a, size_t n, json_t **res)
{
  return map_case (c, a, CASE_TITLE, res);
}

/* Docker's truncate: the first n bytes (Go slices strings by bytes). */
static int fn_truncate (struct fcall *c, json_t **a, size_t n, json_t **res)
{
  long long k = 0;
  if (need_string (c, a, 0) < 0 || need_int (c, a, 1, &k) < 0)
    return -1;
  size_t len = json_string_length (a[0]);
  if (k < 0)
    return fc_error (c, "runtime error: slice bounds out of range [:%lld]", k);
  *res = json_stringn_nocheck (json_string_value (a[0]), (size_t)k < len ? (size_t)k : len);
  return 0;
}

/* Docker's pad: spaces before and after a non-empty string. */
static int fn_pad (struct fcall *c, json_t **a, size_t n, json_t **res)
{
  long long left = 0, right = 0;
  struct sbuf b;
  if (need_string (c, a, 0) < 0 || need_int (c, a, 1, &left) < 0 || need_int (c, a, 2, &right) < 0)
    return -1;
  if (json_string_length (a[0]) == 0)
    {
      *res = json_incref (a[0]);
      return 0;
    }
  if (left < 0 || right < 0)
    return fc_error (c, "strings: negative Repeat count");
  sbuf_init (&b);
  for (long long i = 0; i < left; i++)
    sbuf_addc (&b, ' ');
  sbuf_add (&b, json_string_value (a[0]), json_string_length (a[0]));
  for (long long i = 0; i < right; i++)
    sbuf_addc (&b, ' ');
  *res = sbuf_to_string (&b);
  return 0;
}

/* Docker's HeaderFunctions: the header row shows the column title untouched. */
static int fn_header_identity (struct fcall *c, json_t **a, size_t n, json_t **res)
{
  long long ignored;
  if (need_string (c, a, 0) < 0)
    return -1;
  if (n == 2 && !json_is_string (a[1]) && need_int (c, a, 1, &ignored) < 0)
    return -1;
  *res = json_incref (a[0]);
  return 0;
}

static const struct tfunc
{
  const char *name;
  int min_args, max_args; /* max_args -1: variadic */
  tfunc_fn fn;
  bool header_identity;
} funcs[] = {
  { "and", 1, -1, NULL, false },
  { "or", 1, -1, NULL, false },
  { "not", 1, 1, fn_not, false },
  { "len", 1, 1, fn_len, false },
  { "index", 1, -1, fn_index, false },
  { "print", 0, -1, fn_print, false },
  { "printf", 1, -1, fn_printf, false },
  { "println", 0, -1, fn_println, false },
  { "eq", 1, -1, fn_eq, false },
  { "ne", 2, 2, fn_ne, false },
  { "lt", 2, 2, fn_lt, false },
  { "le", 2, 2, fn_le, false },
  { "gt", 2, 2, fn_gt, false },
  { "ge", 2, 2, fn_ge, false },
  { "json", 1, 1, fn_json, true },
  { "split", 2, 2, fn_split, true },
  { "join", 2, 2, fn_join, true },
  { "title", 1, 1, fn_title, true },
  { "lower", 1, 1, fn_lower, true },
  { "upper", 1, 1, fn_upper, true },
  { "truncate", 2, 2, fn_truncate, true },
  { "pad", 3, 3, fn_pad, false },
};

static const struct tfunc *func_find (const char *name)
{
  for (size_t i = 0; i < ARRAY_SIZE (funcs); i++)
    if (strcmp (funcs[i].name, name) == 0)
      return &funcs[i];
  return NULL;
}

bool tmpl_func_exists (const char *name) { return func_find (name) != NULL; }

/* Evaluation */

static int eval_pipeline (struct exec *ex, json_t *dot, const struct tnode *pipe, json_t **out);
static int eval_arg (struct exec *ex, json_t *dot, const struct tnode *n, json_t **out);

static int not_a_function (struct exec *ex, const struct tnode *cmd, bool has_final)
{
  if (cmd->nkids > 1 || has_final)
    {
      const struct tnode *first = cmd->kids[0];
      return ex_error (ex, first, "can't give argument to non-function %.*s",
                       (int)(first->end - first->pos), ex->t->src + first->pos);
    }
  return 0;
}

/* One field of a chain: objects give their member (or null); null gives null. */
static int eval_field (struct exec *ex, const struct tnode *n, const char *name, bool has_args,
                       json_t *receiver, json_t **out)
{
  if (json_is_null (receiver))
    {
      *out = nil ();
      return 0;
    }
  if (!json_is_object (receiver))
    return ex_error (ex, n, "can't evaluate field %s in type %s", name, tmpl_type_name (receiver));
  if (has_args)
    return ex_error (ex, n, "%s is not a method but has arguments", name);
  json_t *v = json_object_get (receiver, name);
  *out = v ? json_incref (v) : nil ();
  return 0;
}

static int eval_field_chain (struct exec *ex, const struct tnode *n, json_t *receiver,
                             bool has_args, json_t **out)
{
  cleanup_value json_t *cur = json_incref (receiver);
  for (size_t i = 0; n->fields[i]; i++)
    {
      json_t *next = NULL;
      if (eval_field (ex, n, n->fields[i], has_args && !n->fields[i + 1], cur, &next) < 0)
        return -1;
      json_decref (cur);
      cur = next;
    }
  *out = steal_pointer (&cur);
  return 0;
}

static int eval_variable (struct exec *ex, const struct tnode *n, bool has_args, json_t **out)
{
  struct tvar *v = var_find (ex, n->str);
  if (v == NULL)
    return ex_error (ex, n, "undefined variable: %s", n->str);
  if (n->fields == NULL)
    {
      *out = json_incref (v->val);
      return 0;
    }
  return eval_field_chain (ex, n, v->val, has_args, out);
}

static int eval_chain (struct exec *ex, json_t *dot, const struct tnode *n, bool has_args,
                       json_t **out)
{
  cleanup_value json_t *base = NULL;
  if (n->kids[0]->type == TN_NIL)
    return ex_error (ex, n, "indirection through explicit nil in %.*s", (int)(n->end - n->pos),
                     ex->t->src + n->pos);
  if (eval_arg (ex, dot, n->kids[0], &base) < 0)
    return -1;
  return eval_field_chain (ex, n, base, has_args, out);
}

static json_t *number_value (const struct tnode *n)
{
  if (n->is_float || !n->is_int)
    return json_real (n->fval);
  return json_integer (n->ival);
}

static int eval_function (struct exec *ex, json_t *dot, const struct tnode *ident,
                          const struct tnode *cmd, json_t *final, json_t **out);

/* An argument: any operand, evaluated without arguments of its own. */
static int eval_arg (struct exec *ex, json_t *dot, const struct tnode *n, json_t **out)
{
  switch (n->type)
    {
    case TN_DOT:
      *out = json_incref (dot);
      return 0;
    case TN_NIL:
      *out = nil ();
      return 0;
    case TN_FIELD:
      return eval_field_chain (ex, n, dot, false, out);
    case TN_VARIABLE:
      return eval_variable (ex, n, false, out);
    case TN_CHAIN:
      return eval_chain (ex, dot, n, false, out);
    case TN_PIPELINE:
      return eval_pipeline (ex, dot, n, out);
    case TN_IDENT:
      return eval_function (ex, dot, n, NULL, NULL, out);
    case TN_BOOL:
      *out = json_boolean (n->bval);
      return 0;
    case TN_NUMBER:
      *out = number_value (n);
      return 0;
    case TN_STRING:
      *out = json_stringn_nocheck (n->str, n->str_len);
      return 0;
    default:
      return ex_error (ex, n, "can't handle node as an argument");
    }
}

/* Go reports a bad argument where it is written: a literal as "expected integer; found 1.5",
 * a value from the data as "wrong type for value; ...". */
static void arg_type_error (struct exec *ex, const struct tnode *cmd, const struct tnode *where,
                            const struct fcall *c)
{
  const struct tnode *arg = cmd && c->bad_arg + 1 < cmd->nkids ? cmd->kids[c->bad_arg + 1] : NULL;
  if (arg && (arg->type == TN_NUMBER || arg->type == TN_STRING || arg->type == TN_BOOL))
    ex_error (ex, arg, "expected %s; found %.*s",
              strcmp (c->expected, "int") == 0 ? "integer" : c->expected,
              (int)(arg->end - arg->pos), ex->t->src + arg->pos);
  else
    ex_error (ex, arg ? arg : where, "%s", c->msg);
}

/* Call a function; cmd is NULL for a bare function name used as an argument. final is the
 * previous pipeline stage's value, passed as the last argument, or NULL. */
static int eval_function (struct exec *ex, json_t *dot, const struct tnode *ident,
                          const struct tnode *cmd, json_t *final, json_t **out)
{
  const struct tfunc *f = func_find (ident->str);
  const struct tnode *where = cmd ? cmd : ident;
  size_t nargs = cmd ? cmd->nkids - 1 : 0;
  size_t nin = nargs + (final != NULL);

  if (f->max_args < 0 && nin < (size_t)f->min_args)
    return ex_error (ex, ident, "wrong number of args for %s: want at least %d got %zu", f->name,
                     f->min_args, nargs);
  if (f->max_args >= 0 && nin != (size_t)f->max_args)
    return ex_error (ex, ident, "wrong number of args for %s: want %d got %zu", f->name,
                     f->max_args, nin);

  if (f->fn == NULL)
    {
      /* and/or stop at the first argument that decides, returning that argument. */
      bool is_or = f->name[0] == 'o';
      json_t *v = NULL;
      for (size_t i = 0; i < nargs; i++)
        {
          json_decref (v);
          if (eval_arg (ex, dot, cmd->kids[i + 1], &v) < 0)
            return -1;
          if (is_true (v) == is_or)
            {
              *out = v;
              return 0;
            }
        }
      if (final)
        {
          json_decref (v);
          v = json_incref (final);
        }
      *out = v;
      return 0;
    }

  json_t **args = xcalloc (nin, sizeof *args);
  struct fcall c = { ex, NULL, false, 0, NULL };
  int ret = 0;
  size_t got = 0;
  for (; got < nargs; got++)
    if (eval_arg (ex, dot, cmd->kids[got + 1], &args[got]) < 0)
      {
        ret = -1;
        break;
      }
  if (ret == 0 && final)
    args[got++] = json_incref (final);
  if (ret == 0)
    {
      tfunc_fn fn = ex->header && f->header_identity ? fn_header_identity : f->fn;
      *out = NULL;
      if (fn (&c, args, nin, out) < 0)
        {
          if (c.type_error)
            arg_type_error (ex, cmd, where, &c);
          else
            ex_error (ex, where, "error calling %s: %s", f->name, c.msg);
          ret = -1;
        }
    }
  for (size_t i = 0; i < got; i++)
    json_decref (args[i]);
  free (args);
  free (c.msg);
  return ret;
}

static int eval_command (struct exec *ex, json_t *dot, const struct tnode *cmd, json_t *final,
                         json_t **out)
{
  const struct tnode *first = cmd->kids[0];
  bool has_args = cmd->nkids > 1 || final != NULL;

  switch (first->type)
    {
    case TN_FIELD:
      return eval_field_chain (ex, first, dot, has_args, out);
    case TN_CHAIN:
      return eval_chain (ex, dot, first, has_args, out);
    case TN_IDENT:
      return eval_function (ex, dot, first, cmd, final, out);
    case TN_VARIABLE:
      if (first->fields == NULL && not_a_function (ex, cmd, final != NULL) < 0)
        return -1;
      return eval_variable (ex, first, has_args, out);
    case TN_NIL:
      return ex_error (ex, first, "nil is not a command");
    default:
      if (not_a_function (ex, cmd, final != NULL) < 0)
        return -1;
      return eval_arg (ex, dot, first, out);
    }
}

/* Evaluate the commands in turn, each receiving the previous result, then set or declare the
 * pipeline's variables. */
static int eval_pipeline (struct exec *ex, json_t *dot, const struct tnode *pipe, json_t **out)
{
  json_t *value = NULL;
  for (size_t i = 0; i < pipe->nkids; i++)
    {
      json_t *next = NULL;
      int r = eval_command (ex, dot, pipe->kids[i], value, &next);
      json_decref (value);
      if (r < 0)
        return -1;
      value = next;
    }
  for (size_t i = 0; pipe->decl && pipe->decl[i]; i++)
    {
      if (!pipe->is_assign)
        var_push (ex, pipe->decl[i], value);
      else if (var_set (ex, pipe, pipe->decl[i], value) < 0)
        {
          json_decref (value);
          return -1;
        }
    }
  *out = value;
  return 0;
}

static int walk (struct exec *ex, json_t *dot, const struct tnode *n);

static int compare_keys (const void *a, const void *b)
{
  return strcmp (*(const char *const *)a, *(const char *const *)b);
}

/* One pass of a range body: set the declared variables, walk, drop the body's variables. */
static int range_iteration (struct exec *ex, const struct tnode *n, size_t mark, json_t *index,
                            json_t *elem)
{
  char **decl = n->pipe->decl;
  size_t ndecl = strv_len (decl);
  int r = 0;

  if (ndecl > 0)
    {
      json_t *first = ndecl > 1 ? index : elem;
      if (n->pipe->is_assign)
        r = var_set (ex, n->pipe, decl[0], first);
      else
        {
          /* The declared variables sit just below mark. */
          struct tvar *v = &ex->vars[mark - ndecl];
          json_decref (v->val);
          v->val = json_incref (first);
        }
    }
  if (r == 0 && ndecl > 1)
    {
      if (n->pipe->is_assign)
        r = var_set (ex, n->pipe, decl[1], elem);
      else
        {
          struct tvar *v = &ex->vars[mark - 1];
          json_decref (v->val);
          v->val = json_incref (elem);
        }
    }
  if (r == 0)
    r = walk (ex, elem, n->list);
  var_pop (ex, mark);
  return r;
}

static int walk_range (struct exec *ex, json_t *dot, const struct tnode *n)
{
  size_t mark0 = ex->nvars;
  cleanup_value json_t *val = NULL;
  bool ran = false;
  int r = 0;

  if (eval_pipeline (ex, dot, n->pipe, &val) < 0)
    return -1;
  size_t mark = ex->nvars;

  if (json_is_array (val))
    {
      for (size_t i = 0; i < json_array_size (val) && r >= 0; i++)
        {
          json_t *idx = json_integer ((json_int_t)i);
          r = range_iteration (ex, n, mark, idx, json_array_get (val, i));
          json_decref (idx);
          ran = true;
          if (r == WALK_BREAK)
            break;
        }
    }
  else if (json_is_object (val))
    {
      size_t nkeys = json_object_size (val), k = 0;
      const char **keys = xcalloc (nkeys + 1, sizeof *keys);
      const char *key;
      json_t *v;
      json_object_foreach (val, key, v) keys[k++] = key;
      qsort (keys, nkeys, sizeof *keys, compare_keys);
      for (k = 0; k < nkeys && r >= 0; k++)
        {
          json_t *ks = json_string (keys[k]);
          r = range_iteration (ex, n, mark, ks, json_object_get (val, keys[k]));
          json_decref (ks);
          ran = true;
          if (r == WALK_BREAK)
            break;
        }
      free (keys);
    }
  else if (json_is_integer (val))
    {
      if (strv_len (n->pipe->decl) > 1)
        r = ex_error (ex, n->pipe, "can't use %lld to iterate over more than one variable",
                      (long long)json_integer_value (val));
      for (json_int_t i = 0; r >= 0 && i < json_integer_value (val); i++)
        {
          json_t *iv = json_integer (i);
          r = range_iteration (ex, n, mark, iv, iv);
          json_decref (iv);
          ran = true;
          if (r == WALK_BREAK)
            break;
        }
    }
  else if (!json_is_null (val))
    {
      struct sbuf b;
      sbuf_init (&b);
      tmpl_print_v (&b, val);
      r = ex_error (ex, n->pipe, "range can't iterate over %s", b.buf);
      sbuf_release (&b);
    }

  if (r >= 0 && !ran && n->else_list)
    r = walk (ex, dot, n->else_list);
  var_pop (ex, mark0);
  return r < 0 ? -1 : WALK_OK;
}

static int walk (struct exec *ex, json_t *dot, const struct tnode *n)
{
  if (++ex->steps > TMPL_MAX_STEPS)
    return ex_error (ex, n, "execution stopped after %d steps", TMPL_MAX_STEPS);
  if (ex->out->len - ex->out_start > TMPL_MAX_OUTPUT)
    return ex_error (ex, n, "execution stopped: output over %d bytes", TMPL_MAX_OUTPUT);
  switch (n->type)
    {
    case TN_LIST:
      for (size_t i = 0; i < n->nkids; i++)
        {
          int r = walk (ex, dot, n->kids[i]);
          if (r != WALK_OK)
            return r;
        }
      return WALK_OK;
    case TN_TEXT:
      sbuf_add (ex->out, n->str, n->str_len);
      return WALK_OK;
    case TN_ACTION:
      {
        cleanup_value json_t *v = NULL;
        if (eval_pipeline (ex, dot, n->pipe, &v) < 0)
          return -1;
        if (n->pipe->decl == NULL)
          {
            if (json_is_null (v))
              sbuf_adds (ex->out, "<no value>");
            else
              tmpl_print_v (ex->out, v);
          }
        return WALK_OK;
      }
    case TN_IF:
    case TN_WITH:
      {
        size_t mark = ex->nvars;
        cleanup_value json_t *v = NULL;
        int r = WALK_OK;
        if (eval_pipeline (ex, dot, n->pipe, &v) < 0)
          return -1;
        if (is_true (v))
          r = walk (ex, n->type == TN_WITH ? v : dot, n->list);
        else if (n->else_list)
          r = walk (ex, dot, n->else_list);
        var_pop (ex, mark);
        return r;
      }
    case TN_RANGE:
      return walk_range (ex, dot, n);
    case TN_BREAK:
      return WALK_BREAK;
    case TN_CONTINUE:
      return WALK_CONTINUE;
    default:
      return ex_error (ex, n, "unknown node");
    }
}

static int exec_common (const struct tmpl *t, json_t *data, struct sbuf *out, bool header,
                        berr_t *err)
{
  struct exec ex = { 0 };
  json_t *root = data ? data : nil ();
  int r;

  ex.t = t;
  ex.out = out;
  ex.out_start = out->len;
  ex.header = header;
  ex.err = err;
  var_push (&ex, "$", root);
  r = walk (&ex, root, t->root);
  var_pop (&ex, 0);
  free (ex.vars);
  return r < 0 ? -1 : 0;
}

int tmpl_exec (const struct tmpl *t, json_t *data, struct sbuf *out, berr_t *err)
{
  return exec_common (t, data, out, false, err);
}

int tmpl_exec_header (const struct tmpl *t, json_t *data, struct sbuf *out, berr_t *err)
{
  return exec_common (t, data, out, true, err);
}
