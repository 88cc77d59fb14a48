/* template_int.h — internals shared by template.c (value printing, printf, JSON, formatter),
 * template_parse.c (lexer and parser) and template_exec.c (evaluation and functions).
 * Not a public interface: include template.h instead. */
#ifndef BERTH_TEMPLATE_INT_H
#define BERTH_TEMPLATE_INT_H

#include "template.h"

enum tnode_type
{
  TN_LIST,     /* kids: the nodes in order */
  TN_TEXT,     /* str/str_len: literal text */
  TN_ACTION,   /* pipe; prints its value unless it declares variables */
  TN_IF,       /* pipe, list, else_list (NULL when absent) */
  TN_RANGE,    /* pipe, list, else_list */
  TN_WITH,     /* pipe, list, else_list */
  TN_BREAK,    /* {{break}} inside range */
  TN_CONTINUE, /* {{continue}} inside range */
  TN_PIPELINE, /* kids: commands; decl/is_assign: variables set from the result */
  TN_COMMAND,  /* kids: operands; kids[0] is the function, field or value */
  TN_FIELD,    /* fields: .A.B on dot */
  TN_VARIABLE, /* str: "$x"; fields: optional .A.B chain on its value */
  TN_CHAIN,    /* kids[0]: a parenthesized pipeline; fields: .A.B on its value */
  TN_DOT,
  TN_NIL,
  TN_BOOL,   /* bval */
  TN_NUMBER, /* is_int/ival, fval; is_float: evaluates to a real rather than an integer */
  TN_STRING, /* str/str_len: the unquoted bytes */
  TN_IDENT,  /* str: a function name */
  TN_ELSE,   /* parser-internal markers, never in a finished tree */
  TN_END,
};

struct tnode
{
  enum tnode_type type;
  size_t pos, end; /* source span, for error messages */
  struct tnode **kids;
  size_t nkids;
  char *str;
  size_t str_len;
  char **fields;
  struct tnode *pipe, *list, *else_list;
  char **decl;
  bool is_assign;
  bool bval;
  bool is_int, is_float;
  long long ival;
  double fval;
};

struct tmpl
{
  char *src;
  struct tnode *root;
};

void tnode_free (struct tnode *n);

/* "template: :LINE:COL: " prefix as Go writes it: COL is the byte offset within the line. */
void tmpl_add_location (struct sbuf *out, const char *src, size_t pos);

/* template_exec.c: whether name is a template function (checked at parse time, like Go). */
bool tmpl_func_exists (const char *name);

/* template.c: printing like Go's fmt. */
const char *tmpl_type_name (json_t *v);
/* %v of one value; JSON null prints as "<nil>" (the action level prints "<no value>" itself). */
void tmpl_print_v (struct sbuf *out, json_t *v);
/* fmt.Sprintf with Go's verbs and its %!v(...) error notation. */
void tmpl_sprintf (struct sbuf *out, const char *fmt, size_t fmt_len, json_t **args, size_t nargs);
/* strconv.Quote: a double-quoted Go string literal. */
void tmpl_go_quote (struct sbuf *out, const char *s, size_t len);
/* Decode one UTF-8 rune at s (len > 0); invalid bytes decode as U+FFFD of size 1. */
int tmpl_utf8_decode (const char *s, size_t len, unsigned *rune);
void tmpl_utf8_encode (struct sbuf *out, unsigned rune);

#endif
