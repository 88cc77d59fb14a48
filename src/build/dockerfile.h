/* dockerfile.h — the Dockerfile parser: text → AST, as BuildKit's frontend/dockerfile/parser.
 * Nothing is unquoted or expanded here; that is the build engine's job (shell expansion). */
#ifndef BERTH_BUILD_DOCKERFILE_H
#define BERTH_BUILD_DOCKERFILE_H

#include <stdbool.h>
#include <stddef.h>

#include "util/err.h"

/* One argument. Values may hold NUL bytes (a JSON "\u0000"), hence the length. */
struct df_word
{
  char *value; /* always NUL-terminated too */
  size_t len;
};

struct df_heredoc
{
  char *name;
  unsigned fd;
  bool expand;
  bool chomp;
  char *content; /* raw body lines with their newlines, tabs kept even with chomp */
};

struct df_node
{
  char *keyword;  /* lower-cased ("from", "run", …); "" never: an instruction always has one */
  char *original; /* the logical line after continuation joining */
  char **flags;   /* strv of leading "--x=y" words (quotes removed), or NULL */
  struct df_word *args;
  size_t n_args;
  bool json;           /* exec (JSON array) form */
  struct df_node *sub; /* ONBUILD's nested instruction, else NULL */
  int start_line;      /* 1-based */
  int end_line;
  struct df_heredoc *heredocs;
  size_t n_heredocs;
  char **comments; /* comment lines right before the instruction, or NULL */
};

struct df_directive
{
  char *name; /* lower-cased: syntax, escape, check */
  char *value;
  int line;
};

struct df_warning
{
  char *short_text;
  char *detail;
  char *url;
  int line;
};

struct df_result
{
  struct df_node *nodes;
  size_t n_nodes;
  int start_line; /* of the first instruction */
  int end_line;   /* of the last */
  char escape;    /* '\\' or '`' */
  struct df_directive *directives;
  size_t n_directives;
  struct df_warning *warnings;
  size_t n_warnings;
};

/* Parse buf (len bytes). name is used in messages ("Dockerfile:3: …"). On success *out is set
 * (free with df_result_free). */
int df_parse (const char *name, const char *buf, size_t len, struct df_result **out, berr_t *err);
void df_result_free (struct df_result *r);

/* BuildKit's Node.Dump of the root plus a final "\n" (the `result` files). Caller frees. */
char *df_dump (const struct df_result *r);
/* One instruction's dump, without the surrounding parentheses. Caller frees. */
char *df_node_dump (const struct df_node *n);

/* Parser directives alone (BuildKit's DirectiveParser.ParseAll): the `# name=value` block at
 * the top of buf; only syntax, escape and check are returned. */
int df_parse_directives (const char *buf, size_t len, struct df_directive **out, size_t *n,
                         berr_t *err);
/* DetectSyntax (key "syntax", any_format true: also `//syntax=` and a JSON {"syntax": …} file)
 * and ParseDirective (any_format false). 1 when found: *value is the first word, *cmdline the
 * whole value, *line its 1-based line; 0 when not (all NULL). A BOM and a #! line are skipped. */
int df_find_directive (const char *buf, size_t len, const char *key, bool any_format, char **value,
                       char **cmdline, int *line);
void df_directives_free (struct df_directive *d, size_t n);

/* What BuildKit checks when it turns a node into an instruction: known keyword, argument
 * counts, known flags, ONBUILD triggers, no heredoc as a COPY/ADD destination. */
int df_instruction_check (const struct df_node *n, berr_t *err);
/* COPY/ADD (checked as above): the destination, the path sources (strv) and the heredoc
 * sources (name = the heredoc's name, content chomped where `<<-`). */
int df_copy_sources (const struct df_node *n, char **dest, char ***paths,
                     struct df_heredoc **contents, size_t *n_contents, berr_t *err);

/* The building blocks, exposed for the tests and the build engine. */
/* Raw word split (quotes and escapes kept), as BuildKit's parseWords. strv, caller frees. */
char **df_parse_words (const char *s, char escape);
/* ENV/LABEL arguments: key, value, sep triples. keyword is used in the error. */
int df_parse_name_val (const char *rest, const char *keyword, char escape, struct df_word **out,
                       size_t *n_out, berr_t *err);
/* Exec form: 1 and the strings when rest is a JSON array of strings; 0 when it is not JSON
 * (shell form); -1 with err when it is a JSON array holding something else. */
int df_parse_json_array (const char *rest, struct df_word **out, size_t *n_out, berr_t *err);
void df_words_free (struct df_word *w, size_t n);

/* Heredocs. A word such as `<<EOF`, `3<<-'EOF'`: 1 and *out filled (content empty), 0 when the
 * word is no heredoc, -1 when its terminator cannot be lexed (an open quote). */
int df_parse_heredoc (const char *word, struct df_heredoc *out, berr_t *err);
/* The heredocs a logical instruction line opens, in order (contents empty). */
int df_heredocs_from_line (const char *line, struct df_heredoc **out, size_t *n, berr_t *err);
/* `<<-`: every line's leading tabs removed (the build engine applies it to the content). */
char *df_heredoc_chomp (const char *content);
void df_heredoc_clear (struct df_heredoc *h);
void df_heredocs_free (struct df_heredoc *h, size_t n);

#endif
