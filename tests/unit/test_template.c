/* Tests for the --format engine: the Go text/template subset (template.h), Go's tabwriter as
 * docker/cli uses it (tabwriter.h) and the formatter that combines them.
 *
 * Expected strings are what Go / Docker print for the same template and data; table outputs are
 * written one line per source line so that their column alignment can be checked by eye. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/tabwriter.h"
#include "util/template.h"

static json_t *J (const char *text)
{
  json_error_t je;
  json_t *j = json_loads (text, JSON_DECODE_ANY, &je);
  if (j == NULL)
    {
      print_error ("bad test JSON %s: %s\n", text, je.text);
      fail ();
    }
  return j;
}

/* Parse and execute; fails the test on any error. */
static void check (const char *src, const char *data, const char *expected)
{
  berr_t err = BERR_INIT;
  json_t *d = data ? J (data) : NULL;
  struct tmpl *t = tmpl_parse (src, &err);
  struct sbuf out;

  if (t == NULL)
    {
      print_error ("template %s: unexpected parse error: %s\n", src, err.msg);
      fail ();
    }
  sbuf_init (&out);
  if (tmpl_exec (t, d, &out, &err) < 0)
    {
      print_error ("template %s: unexpected exec error: %s\n", src, err.msg);
      fail ();
    }
  if (strcmp (out.buf ? out.buf : "", expected) != 0)
    print_error ("template: %s\n", src);
  assert_string_equal (out.buf ? out.buf : "", expected);
  sbuf_release (&out);
  tmpl_free (t);
  json_decref (d);
}

static void assert_contains (const char *msg, const char *want, const char *src)
{
  if (msg == NULL || strstr (msg, want) == NULL)
    {
      print_error ("template %s: error \"%s\" lacks \"%s\"\n", src, msg ? msg : "(none)", want);
      fail ();
    }
}

static void check_parse_error (const char *src, const char *want)
{
  berr_t err = BERR_INIT;
  struct tmpl *t = tmpl_parse (src, &err);
  if (t != NULL)
    {
      print_error ("template %s: parsed, expected error %s\n", src, want);
      tmpl_free (t);
      fail ();
    }
  assert_int_equal (err.kind, BERR_INVALID);
  assert_contains (err.msg, want, src);
  berr_release (&err);
}

static void check_exec_error (const char *src, const char *data, const char *want)
{
  berr_t err = BERR_INIT;
  json_t *d = J (data);
  struct tmpl *t = tmpl_parse (src, &err);
  struct sbuf out;

  if (t == NULL)
    {
      print_error ("template %s: unexpected parse error: %s\n", src, err.msg);
      fail ();
    }
  sbuf_init (&out);
  assert_int_equal (tmpl_exec (t, d, &out, &err), -1);
  assert_contains (err.msg, want, src);
  berr_release (&err);
  sbuf_release (&out);
  tmpl_free (t);
  json_decref (d);
}

/* Fields, dot and "<no value>" */

static void test_fields (void **state)
{
  const char *img
      = "{\"Repository\":\"busybox\",\"Tag\":\"latest\",\"Config\":{\"User\":\"nobody\","
        "\"Labels\":{\"maintainer\":\"me\"}},\"Nil\":null}";
  check ("hello", "{}", "hello");
  check ("", "{}", "");
  check ("{{.Repository}}:{{.Tag}}", img, "busybox:latest");
  check ("{{.Config.User}}", img, "nobody");
  check ("{{.Config.Labels.maintainer}}", img, "me");
  check ("{{.Missing}}", img, "<no value>");
  check ("{{.Config.Missing}}", img, "<no value>");
  check ("{{.Missing.Deeper.Still}}", img, "<no value>");
  check ("{{.Nil}}", img, "<no value>");
  check ("{{.Nil.Field}}", img, "<no value>");
  check ("{{.}}", "\"just a string\"", "just a string");
  check ("{{.}}", "{\"b\":1,\"a\":\"x\"}", "map[a:x b:1]");
  check ("[{{.}}]", "null", "[<no value>]");
  check ("{{.A}}", NULL, "<no value>");
  check ("{{ .Tag }}", img, "latest");
  check ("{{.Tag}}\n{{.Repository}}\n", img, "latest\nbusybox\n");
}

static void test_field_errors (void **state)
{
  check_exec_error ("{{.Tag.Name}}", "{\"Tag\":\"latest\"}",
                    "template: :1:2: executing \"\" at <.Tag.Name>: can't evaluate field Name in "
                    "type string");
  check_exec_error ("{{.L.X}}", "{\"L\":[1]}", "can't evaluate field X in type []interface {}");
  check_exec_error ("{{.N.X}}", "{\"N\":1}", "can't evaluate field X in type int");
  check_exec_error ("{{.A 1}}", "{\"A\":{}}", "A is not a method but has arguments");
  check_exec_error ("{{1 | .A}}", "{\"A\":{}}", "A is not a method but has arguments");
}

/* How values print: Go's fmt %v */

static void test_print_values (void **state)
{
  check ("{{.}}", "42", "42");
  check ("{{.}}", "-7", "-7");
  check ("{{.}}", "1.5", "1.5");
  check ("{{.}}", "2.0", "2");
  check ("{{.}}", "10000000", "10000000");
  check ("{{.}}", "1000000.0", "1e+06");
  check ("{{.}}", "123456.0", "123456");
  check ("{{.}}", "1234567.0", "1.234567e+06");
  check ("{{.}}", "123456789.0", "1.23456789e+08");
  check ("{{.}}", "0.0001", "0.0001");
  check ("{{.}}", "0.00001", "1e-05");
  check ("{{.}}", "0.1", "0.1");
  check ("{{.}}", "-2.5", "-2.5");
  check ("{{.}}", "0.0", "0");
  check ("{{.}}", "true", "true");
  check ("{{.}}", "false", "false");
  check ("{{.}}", "[\"a\",1,true,null,1.5]", "[a 1 true <nil> 1.5]");
  check ("{{.}}", "[]", "[]");
  check ("{{.}}", "{}", "map[]");
  check ("{{.}}", "{\"b\":[\"x\",\"y\"],\"a\":1,\"c\":{\"z\":null}}",
         "map[a:1 b:[x y] c:map[z:<nil>]]");
  check ("{{.}}", "[[1,2],[]]", "[[1 2] []]");
}

static void test_trim_and_comments (void **state)
{
  const char *d = "{\"A\":\"x\"}";
  check ("a  {{- .A -}}  b", d, "axb");
  check ("a  {{- .A}}  b", d, "ax  b");
  check ("a  {{.A -}}  b", d, "a  xb");
  check ("a\n\t {{- .A}}\n", d, "ax\n");
  check ("{{.A -}}\n\n  z", d, "xz");
  check ("{{-3}}", d, "-3");
  check ("{{ -3 }}", d, "-3");
  check ("a {{/* a comment */}} b", d, "a  b");
  check ("a {{- /* trimmed comment */ -}} b", d, "ab");
  check ("a{{/* multi\nline {{.A}} */}}b", d, "ab");
  check ("{{- .A -}}", d, "x");
  check ("{{.A}}{{\"-\"}}{{.A}}", d, "x-x");
  check_parse_error ("{{/* never closed", "unclosed comment");
  check_parse_error ("{{/* c */ .A}}", "comment ends before closing delimiter");
}

static void test_variables (void **state)
{
  const char *d = "{\"A\":1,\"B\":\"b\",\"L\":[\"a\",\"b\"],\"Config\":{\"User\":\"root\"}}";
  check ("{{$x := .A}}{{$x}}", d, "1");
  check ("{{$x := 5}}", d, "");
  check ("{{$x := 1}}{{if true}}{{$x = 2}}{{end}}{{$x}}", d, "2");
  check (
      "{{$found := false}}{{range .L}}{{if eq . \"b\"}}{{$found = true}}{{end}}{{end}}{{$found}}",
      d, "true");
  check ("{{with .Config}}{{.User}} {{$.B}}{{end}}", d, "root b");
  check ("{{range .L}}{{$.A}}{{end}}", d, "11");
  check ("{{$c := .Config}}{{$c.User}}", d, "root");
  check ("{{$}}", "\"top\"", "top");
  check ("{{$x := .A}}{{$y := $x}}{{$x = 3}}{{$y}}{{$x}}", d, "13");
  check ("{{if $v := .B}}[{{$v}}]{{end}}", d, "[b]");
  check ("{{$x := 1}}{{range .L}}{{$x := .}}{{$x}}{{end}}{{$x}}", d, "ab1");
  check_parse_error ("{{if true}}{{$y := 1}}{{end}}{{$y}}", "undefined variable \"$y\"");
  check_parse_error ("{{range .L}}{{$z := 1}}{{end}}{{$z}}", "undefined variable \"$z\"");
  check_parse_error ("{{$x = 1}}", "undefined variable \"$x\"");
  check_parse_error ("{{$nope}}", "template: :1:2: undefined variable \"$nope\"");
  check_exec_error ("{{$x := 1}}{{$x 2}}", d, "can't give argument to non-function $x");
}

static void test_pipelines (void **state)
{
  const char *d = "{\"A\":\"abc\",\"L\":[{\"N\":1},{\"N\":2}],\"S\":\"x\"}";
  check ("{{.A | printf \"%s!\"}}", d, "abc!");
  check ("{{.A | len}}", d, "3");
  check ("{{.A | upper | printf \"<%s>\"}}", d, "<ABC>");
  check ("{{\"abc\" | printf \"%s-%s\" \"x\"}}", d, "x-abc");
  check ("{{printf \"%d\" (len .L)}}", d, "2");
  check ("{{(index .L 1).N}}", d, "2");
  check ("{{(.L)}}", d, "[map[N:1] map[N:2]]");
  check ("{{printf \"%s%s\" (printf \"%s\" (upper .S)) .S}}", d, "Xx");
  check ("{{.S | eq \"x\"}}", d, "true");
  check_parse_error ("{{.A | 1}}", "non executable command in pipeline stage 2");
  check_parse_error ("{{.A | \"s\"}}", "non executable command in pipeline stage 2");
  check_parse_error ("{{}}", "missing value for command");
  check_parse_error ("{{(.A}}", "unclosed left paren");
  check_parse_error ("{{.A)}}", "template: :1:4: unexpected \")\" in command");
  check_parse_error ("{{)}}", "unexpected \")\" in command");
  check_parse_error ("{{\"x\".A}}", "unexpected . after term");
  check_exec_error ("{{1 2}}", d, "can't give argument to non-function 1");
  check_exec_error ("{{nil}}", d, "nil is not a command");
  check_exec_error ("{{.A | (len .A)}}", d, "can't give argument to non-function");
}

static void test_if (void **state)
{
  static const struct
  {
    const char *val;
    const char *want;
  } cases[] = {
    { "true", "yes" },      { "false", "no" }, { "0", "no" },    { "1", "yes" },
    { "-1", "yes" },        { "0.0", "no" },   { "0.5", "yes" }, { "\"\"", "no" },
    { "\"x\"", "yes" },     { "[]", "no" },    { "[0]", "yes" }, { "{}", "no" },
    { "{\"a\":0}", "yes" }, { "null", "no" },
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
    {
      char data[64];
      snprintf (data, sizeof data, "{\"A\":%s}", cases[i].val);
      check ("{{if .A}}yes{{else}}no{{end}}", data, cases[i].want);
    }
  check ("{{if .Missing}}yes{{else}}no{{end}}", "{}", "no");
  check ("{{if .A}}yes{{end}}", "{\"A\":false}", "");
  const char *chain
      = "{{if eq .N 1}}one{{else if eq .N 2}}two{{else if gt .N 9}}big{{else}}some{{end}}";
  check (chain, "{\"N\":1}", "one");
  check (chain, "{\"N\":2}", "two");
  check (chain, "{\"N\":5}", "some");
  check (chain, "{\"N\":10}", "big");
  check ("{{if and .A (not .B)}}x{{end}}", "{\"A\":1,\"B\":false}", "x");
  check_parse_error ("{{if}}x{{end}}", "missing value for if");
  check_parse_error ("{{if .A}}x", "unexpected EOF");
  check_parse_error ("{{else}}", "template: :1:2: unexpected {{else}}");
  check_parse_error ("{{end}}", "template: :1:2: unexpected {{end}}");
  check_parse_error ("{{if .A}}{{else}}{{else}}{{end}}", "expected end; found {{else}}");
  check_parse_error ("{{if .A}}{{else x}}{{end}}", "unexpected \"x\" in else");
}

static void test_with (void **state)
{
  const char *d = "{\"Config\":{\"User\":\"root\"},\"E\":\"\",\"B\":\"bee\"}";
  check ("{{with .Config}}{{.User}}{{end}}", d, "root");
  check ("{{with .Missing}}x{{else}}empty{{end}}", d, "empty");
  check ("{{with .E}}x{{else}}empty:{{.B}}{{end}}", d, "empty:bee");
  check ("{{with .E}}e{{else with .B}}b={{.}}{{else}}none{{end}}", d, "b=bee");
  check ("{{with .E}}e{{else with .E}}b{{else}}none{{end}}", d, "none");
  check ("{{with $u := .Config.User}}{{$u}}/{{.}}{{end}}", d, "root/root");
}

static void test_range (void **state)
{
  const char *d
      = "{\"RepoTags\":[\"busybox:latest\",\"busybox:1.36\"],\"M\":{\"b\":2,\"c\":3,\"a\":1},"
        "\"E\":[],\"EM\":{},\"N\":[1,2,3,4],\"LL\":[[\"x\",\"y\"],[\"z\"]]}";
  check ("{{range .RepoTags}}{{.}} {{end}}", d, "busybox:latest busybox:1.36 ");
  check ("{{range $i, $e := .RepoTags}}{{$i}}={{$e}};{{end}}", d,
         "0=busybox:latest;1=busybox:1.36;");
  check ("{{range $e := .RepoTags}}[{{$e}}]{{end}}", d, "[busybox:latest][busybox:1.36]");
  check ("{{range .M}}{{.}}{{end}}", d, "123");
  check ("{{range $k, $v := .M}}{{$k}}={{$v}} {{end}}", d, "a=1 b=2 c=3 ");
  check ("{{range .E}}x{{else}}empty{{end}}", d, "empty");
  check ("{{range .EM}}x{{else}}empty{{end}}", d, "empty");
  check ("{{range .Missing}}x{{else}}none{{end}}", d, "none");
  check ("{{range .N}}{{if eq . 3}}{{break}}{{end}}{{.}}{{end}}", d, "12");
  check ("{{range .N}}{{if eq . 2}}{{continue}}{{end}}{{.}}{{end}}", d, "134");
  check ("{{range 3}}{{.}}{{end}}", d, "012");
  check ("{{range $i, $l := .LL}}{{range $l}}{{$i}}{{.}} {{end}}{{end}}", d, "0x 0y 1z ");
  check ("{{$n := 0}}{{range .N}}{{$n = .}}{{end}}{{$n}}", d, "4");
  check ("{{$i := 9}}{{$e := 9}}{{range $i, $e = .RepoTags}}{{end}}{{$i}} {{$e}}", d,
         "1 busybox:1.36");
  check ("{{range .RepoTags -}}\n  {{.}}\n{{end}}", d, "busybox:latest\nbusybox:1.36\n");
  /* Ranging over a huge integer (found by the template fuzzer) stops with an error instead of
   * running for minutes; so does a loop whose output grows past 64 MiB. */
  check_exec_error ("{{range 0000000000000000001214506314}}no{{end}}", d,
                    "execution stopped after 4194304 steps");
  check_exec_error ("{{range 4000000}}{{json $}}{{end}}", d,
                    "execution stopped: output over 67108864 bytes");
  check_exec_error ("{{range .S}}{{end}}", "{\"S\":\"abc\"}", "range can't iterate over abc");
  check_parse_error ("{{range $a, $b, $c := .L}}{{end}}", "too many declarations in range");
  check_parse_error ("{{$a, $b := .L}}", "too many declarations in command");
  check_parse_error ("{{break}}", "{{break}} outside {{range}}");
  check_parse_error ("{{if true}}{{continue}}{{end}}", "{{continue}} outside {{range}}");
  check_parse_error ("{{range .L}}{{else if .A}}{{end}}", "unexpected <if> in input");
}

static void test_literals (void **state)
{
  check ("{{\"a\\tb\\n\\x41\\u00e9\\U0001F600\\\"\\\\\"}}", "{}",
         "a\tb\nA\xc3\xa9\xf0\x9f\x98\x80\"\\");
  check ("{{\"\\101\"}}", "{}", "A");
  check ("{{`raw \\n {{ \"`}}", "{}", "raw \\n {{ \"");
  check ("{{`two\nlines`}}", "{}", "two\nlines");
  check ("{{'a'}} {{'\\n'}} {{'é'}}", "{}", "97 10 233");
  check ("{{0x1F}} {{0X1f}} {{0o17}} {{017}} {{0b101}} {{1_000}} {{-5}} {{+5}}", "{}",
         "31 31 15 15 5 1000 -5 5");
  check ("{{1.5}} {{1e3}} {{.5}} {{2.0}} {{1e-7}} {{6.02e23}}", "{}",
         "1.5 1000 0.5 2 1e-07 6.02e+23");
  check ("{{true}} {{false}}", "{}", "true false");
  check ("{{print nil}}", "{}", "<nil>");
  check_parse_error ("{{\"abc}}", "unterminated quoted string");
  check_parse_error ("{{\"ab\nc\"}}", "unterminated quoted string");
  check_parse_error ("{{`abc}}", "unterminated raw quoted string");
  check_parse_error ("{{'a}}", "unterminated character constant");
  check_parse_error ("{{1x}}", "bad number syntax: \"1x\"");
  check_parse_error ("{{08}}", "illegal number syntax: \"08\"");
  check ("{{08.5}} {{0}} {{00}}", "{}", "8.5 0 0");
  check_parse_error ("{{1+2}}", "bad number syntax");
  check_parse_error ("{{1+2i}}", "complex numbers are not supported");
  check_parse_error ("{{\"\\q\"}}", "invalid syntax");
  check_parse_error ("{{\"\\'\"}}", "invalid syntax");
}

/* Functions */

static void test_json (void **state)
{
  check ("{{json .Config}}",
         "{\"Config\":{\"User\":\"\",\"Env\":[\"PATH=/usr/bin\"],\"Labels\":{\"maintainer\":\"A "
         "<a@b.c>\"},"
         "\"Cmd\":null,\"Healthy\":true,\"Size\":1.5,\"N\":7,\"Empty\":{}}}",
         "{\"User\":\"\",\"Env\":[\"PATH=/usr/bin\"],\"Labels\":{\"maintainer\":\"A <a@b.c>\"},"
         "\"Cmd\":null,\"Healthy\":true,\"Size\":1.5,\"N\":7,\"Empty\":{}}");
  check ("{{json .}}", "{\"z\":1,\"a\":2}", "{\"z\":1,\"a\":2}");
  check ("{{json .Missing}}", "{}", "null");
  check ("{{json .S}}", "{\"S\":\"x\"}", "\"x\"");
  check ("{{json .}}", "[2.0,1e21,1e20,0.000001,1e-7,-0.5,1.5e300,123456789.0]",
         "[2,1e+21,100000000000000000000,0.000001,1e-7,-0.5,1.5e+300,123456789]");
  check ("{{json .}}", "\"q\\\" b\\\\ nl\\n tab\\t cr\\r bs\\b ff\\f c\\u0001 <>& \\u2028 é\"",
         "\"q\\\" b\\\\ nl\\n tab\\t cr\\r bs\\b ff\\f c\\u0001 <>& \\u2028 é\"");
  check ("{{json \"\\xff\"}}", "{}", "\"\\ufffd\"");
  check ("{{json (split \"a:b\" \":\")}}", "{}", "[\"a\",\"b\"]");
}

static void test_json_encode (void **state)
{
  json_t *v = J ("{\"b\":[1,{\"c\":null}],\"a\":\"\\u00e9\"}");
  struct sbuf out;
  sbuf_init (&out);
  sbuf_adds (&out, "pre:");
  tmpl_json_encode (&out, v);
  assert_string_equal (out.buf, "pre:{\"b\":[1,{\"c\":null}],\"a\":\"\xc3\xa9\"}");
  sbuf_release (&out);
  json_decref (v);
}

static void test_index (void **state)
{
  const char *d
      = "{\"Config\":{\"Labels\":{\"maintainer\":\"me\",\"org.opencontainers.image.version\":"
        "\"1.0\"}},\"L\":[\"a\",[\"b\",{\"k\":\"deep\"}]],\"Nil\":null,\"S\":\"AB\"}";
  check ("{{index .Config.Labels \"maintainer\"}}", d, "me");
  check ("{{index .Config.Labels \"org.opencontainers.image.version\"}}", d, "1.0");
  check ("{{index .Config \"Labels\" \"maintainer\"}}", d, "me");
  check ("{{index .L 0}}", d, "a");
  check ("{{index .L 1 1 \"k\"}}", d, "deep");
  check ("{{index .L}}", d, "[a [b map[k:deep]]]");
  check ("{{index .Config.Labels \"nope\"}}", d, "<no value>");
  check ("{{index .Nil \"k\"}}", d, "<no value>");
  check ("{{index .S 1}}", d, "66");
  check_exec_error (
      "{{index .L 5}}", d,
      "template: :1:2: executing \"\" at <index .L 5>: error calling index: index out "
      "of range: 5");
  check_exec_error ("{{index .L -1}}", d, "index out of range: -1");
  check_exec_error ("{{index .L \"x\"}}", d, "cannot index slice/array with type string");
  check_exec_error ("{{index .Config 1}}", d, "value has type int; should be string");
  check_exec_error ("{{index 5 1}}", d, "can't index item of type int");
}

static void test_string_functions (void **state)
{
  const char *d = "{\"L\":[\"a\",\"b\",\"c\"],\"N\":[1,\"x\"],\"Ref\":\"busybox:latest\","
                  "\"ID\":\"sha256:0123456789abcdef\"}";
  check ("{{join .L \", \"}}", d, "a, b, c");
  check ("{{join .N \"-\"}}", d, "1-x");
  check ("{{join .Missing \",\"}}", d, "");
  check ("{{split .Ref \":\"}}", d, "[busybox latest]");
  check ("{{index (split .Ref \":\") 0}}", d, "busybox");
  check ("{{len (split \"\" \",\")}}", d, "1");
  check ("{{split \"a,b,,c\" \",\"}}", d, "[a b  c]");
  check ("{{split \"héj\" \"\"}}", d, "[h é j]");
  check ("{{lower \"ABC Déf\"}}", d, "abc déf");
  check ("{{upper \"abc-1\"}}", d, "ABC-1");
  check ("{{title \"hello wOrld foo_bar x-y 9z\"}}", d, "Hello WOrld Foo_bar X-Y 9z");
  check ("{{truncate .ID 12}}", d, "sha256:01234");
  check ("{{truncate \"abc\" 10}}", d, "abc");
  check ("{{truncate \"abc\" 0}}", d, "");
  check ("[{{pad \"x\" 2 3}}]", d, "[  x   ]");
  check ("[{{pad \"\" 2 3}}]", d, "[]");
  check_exec_error ("{{join \"abc\" \",\"}}", d, "at <\"abc\">: expected []string; found \"abc\"");
  check_exec_error ("{{join .Ref \",\"}}", d,
                    "at <.Ref>: wrong type for value; expected []string; got string");
  check_exec_error ("{{lower 5}}", d,
                    "template: :1:8: executing \"\" at <5>: expected string; found 5");
  check_exec_error ("{{lower .L}}", d,
                    "at <.L>: wrong type for value; expected string; got []interface {}");
  check_exec_error ("{{5 | lower}}", d,
                    "at <lower>: wrong type for value; expected string; got int");
  check_exec_error ("{{upper .Missing}}", d, "invalid value; expected string");
  check_exec_error ("{{truncate \"abc\" \"2\"}}", d, "at <\"2\">: expected integer; found \"2\"");
  check_exec_error ("{{truncate \"abc\" 1.5}}", d, "at <1.5>: expected integer; found 1.5");
  check_exec_error ("{{truncate .Ref .Ref}}", d,
                    "at <.Ref>: wrong type for value; expected int; got string");
  check_exec_error ("{{truncate \"abc\" -1}}", d, "error calling truncate");
  check_exec_error ("{{pad \"abc\" -1 0}}", d, "error calling pad: strings: negative Repeat count");
}

static void test_len_print (void **state)
{
  const char *d = "{\"S\":\"h\xc3\xa9\",\"L\":[1,2,3],\"M\":{\"a\":1}}";
  check ("{{len .S}} {{len .L}} {{len .M}}", d, "3 3 1");
  check ("{{print \"a\" 1 2 \"b\" true}}", d, "a1 2btrue");
  check ("{{print 1 2}}", d, "1 2");
  check ("{{print}}", d, "");
  check ("{{println \"a\" 1}}", d, "a 1\n");
  check ("{{print .L .M .Missing}}", d, "[1 2 3] map[a:1] <nil>");
  check_exec_error ("{{len 3}}", d, "error calling len: len of type int");
  check_exec_error ("{{len .Missing}}", d, "error calling len: len of nil pointer");
}

static void test_printf (void **state)
{
  const char *d
      = "{\"S\":\"ab\",\"L\":[\"a\",\"b\"],\"LN\":[1,\"x\",null],\"M\":{\"k\":1},\"F\":3.14159}";
  check ("{{printf \"%s|%d|%v|%q|%t\" .S 42 .L \"hi\" true}}", d, "ab|42|[a b]|\"hi\"|true");
  check ("{{printf \"%-10s|%10s|%-5d|%5d|\" .S .S 42 42}}", d,
         "ab        |        ab|42   |   42|");
  check ("{{printf \"%x %X %#x %o %#o %b %c %U %q\" 255 255 255 8 8 5 65 128512 65}}", d,
         "ff FF 0xff 10 010 101 A U+1F600 'A'");
  check ("{{printf \"%x|%X|%x\" .S .S -255}}", d, "6162|6162|-ff");
  check ("{{printf \"%+d|% d|%05d|%-05d|%.3d|%+.3d\" 5 5 -42 7 7 -7}}", d,
         "+5| 5|-0042|7    |007|-007");
  check (
      "{{printf \"%.2f|%8.3f|%08.3f|%e|%g|%G|%v\" .F .F -3.14159 1234.5678 0.00001234 1e-10 .F}}",
      d, "3.14|   3.142|-003.142|1.234568e+03|1.234e-05|1E-10|3.14159");
  check ("{{printf \"%.3g|%g|%+.1f|%6.2f%%\" 1234.5678 100000000.0 2.25 12.3456}}", d,
         "1.23e+03|1e+08|+2.2| 12.35%");
  check ("{{printf \"%5t|%-6v|%3v\" false true \"abcd\"}}", d, "false|true  |abcd");
  check ("{{printf \"%-4s|%4s|%.2s|%.1q\" \"é\" \"日\" \"héllo\" \"xyz\"}}", d,
         "é   |   日|hé|\"x\"");
  check ("{{printf \"%*d|%-*d|\" 4 7 3 1}}", d, "   7|1  |");
  check ("{{printf \"%v %s %d\" .M .L .LN}}", d, "map[k:1] [a b] [1 %!d(string=x) <nil>]");
  check ("{{printf \"%T %T %T %T %T %T %T\" 1 1.5 \"s\" true .L .M nil}}", d,
         "int float64 string bool []interface {} map[string]interface {} <nil>");
  check ("{{printf \"100%%\"}}", d, "100%");
  check ("{{printf \"%+v|%+q|%+q|%+d\" 1.5 \"é😀\" 233 1}}", d,
         "1.5|\"\\u00e9\\U0001f600\"|'\\u00e9'|+1");
  check ("{{printf \"%d\" \"x\"}}", d, "%!d(string=x)");
  check ("{{printf \"%s\" 5}} {{printf \"%s\" 1.5}} {{printf \"%d\" true}} {{printf \"%f\" 1}}", d,
         "%!s(int=5) %!s(float64=1.5) %!d(bool=true) %!f(int=1)");
  check ("{{printf \"%s %s\" \"a\"}}", d, "a %!s(MISSING)");
  check ("{{printf \"%s\" \"a\" 1 nil}}", d, "a%!(EXTRA int=1, <nil>)");
  check ("{{printf \"%v|%s\" nil .Missing}}", d, "<nil>|%!s(<nil>)");
  check ("{{printf \"abc%\"}}", d, "abc%!(NOVERB)");
  check ("{{printf \"%z\" 1}}", d, "%!z(int=1)");
  check ("{{printf \"%q\" \"a\\\"b\\n\\x01\"}}", d, "\"a\\\"b\\n\\x01\"");
  check ("{{printf \"%s\" .S | printf \"[%s]\"}}", d, "[ab]");
  check_exec_error ("{{printf 1}}", d,
                    "template: :1:9: executing \"\" at <1>: expected string; found 1");
}

static void test_comparisons (void **state)
{
  const char *d = "{\"A\":\"x\",\"N\":3,\"F\":2.5,\"B\":true,\"L\":[1]}";
  check ("{{eq .A \"x\"}} {{eq .A \"y\"}} {{eq .A \"y\" \"z\" \"x\"}} {{eq .N 3}} {{eq .B true}}",
         d, "true false true true true");
  check ("{{eq .N 3.0}} {{eq .F 2.5}} {{eq .Missing nil}} {{eq .Missing \"x\"}}", d,
         "true true true false");
  check ("{{ne .A \"x\"}} {{ne .N 4}}", d, "false true");
  check ("{{lt .N 4}} {{lt .N 3}} {{le .N 3}} {{gt .N 3}} {{ge .N 3}} {{gt .F 2}}", d,
         "true false true false true true");
  check ("{{lt \"a\" \"b\"}} {{lt \"b\" \"a\"}} {{lt \"a\" \"ab\"}} {{ge \"b\" \"b\"}}", d,
         "true false true true");
  check ("{{and 1 0 2}} {{and 1 2}} {{or 0 \"\" \"z\"}} {{or 0 \"\"}} {{or .Missing \"default\"}}",
         d, "0 2 z  default");
  check ("{{not .B}} {{not .Missing}} {{not 0}} {{not .L}}", d, "false true true false");
  /* and/or stop evaluating once the answer is known, as in Go */
  check ("{{and false (index .L 9)}} {{or true (index .L 9)}}", d, "false true");
  check ("{{.B | and true}} {{0 | or false}}", d, "true 0");
  check_exec_error ("{{eq .A 1}}", d, "error calling eq: incompatible types for comparison");
  check_exec_error ("{{eq .L .L}}", d, "non-comparable type");
  check_exec_error ("{{lt .B true}}", d, "error calling lt: invalid type for comparison");
  check_exec_error ("{{lt .A 1}}", d, "incompatible types for comparison");
  check_exec_error ("{{eq 1}}", d, "error calling eq: missing argument for comparison");
  check_exec_error ("{{1 | not 2}}", d, "wrong number of args for not: want 1 got 2");
}

static void test_arg_count_errors (void **state)
{
  const char *d = "{}";
  check_exec_error ("{{len}}", d,
                    "template: :1:2: executing \"\" at <len>: wrong number of args for len: want 1 "
                    "got 0");
  check_exec_error ("{{truncate \"a\"}}", d, "wrong number of args for truncate: want 2 got 1");
  check_exec_error ("{{pad \"a\" 1 2 3}}", d, "wrong number of args for pad: want 3 got 4");
  check_exec_error ("{{printf}}", d, "wrong number of args for printf: want at least 1 got 0");
  check_exec_error ("{{\"x\" | lower \"y\"}}", d, "wrong number of args for lower: want 1 got 2");
  check_exec_error ("\n\n  {{index}}", d, "template: :3:4: executing \"\" at <index>:");
  check_exec_error ("{{printf \"%s %s %s %s %s %s\" 1 2 3 4 5 6 | index 1 2 3}}", d,
                    "at <index 1 2 3>:");
}

static void test_parse_errors (void **state)
{
  check_parse_error ("{{.ID}", "template: :1:5: bad character U+007D '}'");
  check_parse_error ("{{.ID}x}}", "template: :1:5: bad character U+007D '}'");
  check_parse_error ("{{.ID }", "template: :1:6: unexpected \"}\" in operand");
  check_parse_error ("{{.A}} {{.B", "unclosed action");
  check_parse_error ("{{foo .}}", "template: :1:2: function \"foo\" not defined");
  check_parse_error ("{{slice .L 1}}", "function \"slice\" not defined");
  check_parse_error ("line one\nline {{if}}", "template: :2:9: missing value for if");
  check_parse_error ("{{.A:}}", "expected :=");
  check_parse_error ("{{#}}", "unexpected \"#\" in command");
  check_parse_error ("{{.A \"x\" ,}}", "unexpected \",\" in operand");
  check_parse_error ("{{.A.B\"x\"}}", "bad character U+0022 '\"'");
  check_parse_error ("{{\x01}}", "unrecognized character in action: U+0001");
  check_parse_error ("{{define \"x\"}}{{end}}", "{{define}} is not supported");
  check_parse_error ("{{template \"x\"}}", "{{template}} is not supported");
  check_parse_error ("{{if .A}}{{range .B}}{{end}}", "unexpected EOF");
  check_parse_error ("{{range $x := .L}}{{end}}{{$x}}", "undefined variable \"$x\"");
  check_parse_error ("{{3.A}}", "bad number syntax");
}

/* Docker's header row: titles pass through the string functions untouched. */
static void test_header_mode (void **state)
{
  berr_t err = BERR_INIT;
  json_t *h = J ("{\"ID\":\"IMAGE ID\",\"Labels\":\"LABELS\",\"Name\":\"NAME\",\"Size\":\"SIZE\"}");
  struct tmpl *t = tmpl_parse ("{{.ID}}\t{{json .Labels}}\t{{upper .Name}}\t{{truncate .ID 3}}\t"
                               "{{pad .Size 1 1}}\t{{split .Name \":\"}}\t{{join .Name \",\"}}\t"
                               "{{lower .Name}}|{{title .ID}}",
                               &err);
  struct sbuf out;
  assert_non_null (t);
  sbuf_init (&out);
  assert_int_equal (tmpl_exec_header (t, h, &out, &err), 0);
  assert_string_equal (out.buf,
                       "IMAGE ID\tLABELS\tNAME\tIMAGE ID\t SIZE \tNAME\tNAME\tNAME|IMAGE ID");
  /* the same template on data is not in header mode: join wants an array */
  sbuf_reset (&out);
  assert_int_equal (tmpl_exec (t, h, &out, &err), -1);
  assert_string_equal (out.buf, "IMAGE ID\t\"LABELS\"\tNAME\tIMA\t SIZE \t[NAME]\t");
  assert_contains (err.msg, "at <.Name>: wrong type for value; expected []string; got string",
                   "join");
  berr_release (&err);
  tmpl_free (t);
  t = tmpl_parse ("{{lower .Name}}|{{title .ID}}", &err);
  sbuf_reset (&out);
  assert_int_equal (tmpl_exec (t, h, &out, &err), 0);
  assert_string_equal (out.buf, "name|IMAGE ID");
  sbuf_release (&out);
  tmpl_free (t);
  json_decref (h);
}

/* tabwriter */

static char *tab (int minwidth, int padding, const char *const *chunks)
{
  struct tabwriter *tw = tabwriter_new (minwidth, 1, padding);
  struct sbuf out;
  sbuf_init (&out);
  for (size_t i = 0; chunks[i]; i++)
    tabwriter_write (tw, chunks[i], strlen (chunks[i]));
  tabwriter_flush (tw, &out);
  tabwriter_free (tw);
  return sbuf_detach (&out);
}

static void check_tab (int minwidth, int padding, const char *text, const char *expected)
{
  const char *chunks[] = { text, NULL };
  char *got = tab (minwidth, padding, chunks);
  assert_string_equal (got, expected);
  free (got);
}

static void test_tabwriter_docker (void **state)
{
  /* docker images: tabwriter.NewWriter (out, 10, 1, 3, ' ', 0) */
  check_tab (10, 3,
             "REPOSITORY\tTAG\tIMAGE ID\tCREATED\tSIZE\n"
             "busybox\tlatest\tabc123def456\t2 weeks ago\t4.26MB\n"
             "alpine\t3.19\t0123456789ab\t3 months ago\t7.38MB\n",
             "REPOSITORY   TAG       IMAGE ID       CREATED        SIZE\n"
             "busybox      latest    abc123def456   2 weeks ago    4.26MB\n"
             "alpine       3.19      0123456789ab   3 months ago   7.38MB\n");
  /* short cells still get minwidth 10; the last cell is never padded */
  check_tab (10, 3, "A\tB\tC\nx\ty\tz\n",
             "A         B         C\n"
             "x         y         z\n");
  /* no trailing newline: the last line is printed as is */
  check_tab (10, 3, "a\tb", "a         b");
  check_tab (10, 3, "", "");
  check_tab (10, 3, "no tabs at all\n", "no tabs at all\n");
  /* empty cells are padded like any other */
  check_tab (10, 3, "a\t\tc\n", "a                   c\n");
  /* a trailing tab makes the cell before it part of a column */
  check_tab (10, 3, "a\t\n", "a         \n");
}

static void test_tabwriter_blocks (void **state)
{
  /* Column 1 is two separate blocks: the third line has no tab-terminated second cell, so the
   * first two lines align among themselves and the fourth on its own. Column 0 spans all. */
  check_tab (10, 3,
             "short\tx\ty\n"
             "s\tlonger-than-ten-chars\tz\n"
             "q\tw\n"
             "r\tmid\tk\n",
             "short     x                       y\n"
             "s         longer-than-ten-chars   z\n"
             "q         w\n"
             "r         mid       k\n");
  /* Go's documentation example: b and c are in distinct columns, d and e in none */
  check_tab (0, 1,
             "aaaa\tbbb\td\n"
             "aa\tb\tdd\n"
             "a\t\n"
             "aa\tcccc\teee\n",
             "aaaa bbb d\n"
             "aa   b   dd\n"
             "a    \n"
             "aa   cccc eee\n");
  /* a line without tabs ends every block */
  check_tab (10, 3,
             "aaaaaaaaaaaa\tb\n"
             "single\n"
             "c\td\n",
             "aaaaaaaaaaaa   b\n"
             "single\n"
             "c         d\n");
  /* other parameters: minwidth 0, padding 1 */
  check_tab (0, 1, "a\tbb\tc\naaa\tb\tc\n",
             "a   bb c\n"
             "aaa b  c\n");
}

static void test_tabwriter_utf8_and_writes (void **state)
{
  /* widths are display columns: é is one, 日本 four (wide), bytes do not count */
  check_tab (0, 2, "\xc3\xa9\tx\nab\ty\n", "\xc3\xa9   x\nab  y\n");
  check_tab (0, 2, "\xe6\x97\xa5\xe6\x9c\xac\tx\nab\ty\n",
             "\xe6\x97\xa5\xe6\x9c\xac  x\n"
             "ab    y\n");
  check_tab (0, 1, "e\xcc\x81\tx\nee\ty\n", "e\xcc\x81  x\nee y\n");
  /* cells may arrive over several writes */
  const char *chunks[] = { "ab", "c\td", "\nx", "\ty\n", NULL };
  char *got = tab (0, 1, chunks);
  assert_string_equal (got, "abc d\nx   y\n");
  free (got);
  /* formfeed ends the block like a flush and prints as a newline */
  check_tab (10, 3, "aaaaaaaaaaaaaaa\tb\fc\td\n",
             "aaaaaaaaaaaaaaa   b\n"
             "c         d\n");
  /* the writer can be reused after a flush */
  struct tabwriter *tw = tabwriter_new (0, 1, 1);
  struct sbuf out;
  sbuf_init (&out);
  tabwriter_write (tw, "aaaa\tb\n", 7);
  tabwriter_flush (tw, &out);
  tabwriter_write (tw, "c\td\n", 4);
  tabwriter_flush (tw, &out);
  assert_string_equal (out.buf, "aaaa b\nc d\n");
  sbuf_release (&out);
  tabwriter_free (tw);
}

/* formatter */

static const char *images
    = "["
      "{\"Repository\":\"busybox\",\"Tag\":\"latest\",\"ID\":\"abc123def456\"},"
      "{\"Repository\":\"alpine\",\"Tag\":\"3.19\",\"ID\":\"0123456789ab\"},"
      "{\"Repository\":\"localhost:5000/my/very-long-name\",\"Tag\":\"v1.2.3-rc1\","
      "\"ID\":\"fedcba987654\"}"
      "]";
static const char *image_headers
    = "{\"Repository\":\"REPOSITORY\",\"Tag\":\"TAG\",\"ID\":\"IMAGE ID\",\"Size\":\"SIZE\"}";

/* Run the formatter over rows; returns the output, or NULL with *err set. */
static char *run_formatter (const char *format, const char *headers, const char *rows, berr_t *err)
{
  json_t *h = headers ? J (headers) : NULL;
  json_t *r = J (rows);
  struct formatter *f = formatter_new (format, h, err);
  char *buf = NULL;
  size_t len = 0;
  size_t i;
  json_t *row;

  json_decref (h);
  if (f == NULL)
    {
      json_decref (r);
      return NULL;
    }
  json_array_foreach (r, i, row)
  {
    if (formatter_row (f, row, err) < 0)
      {
        formatter_free (f);
        json_decref (r);
        return NULL;
      }
  }
  FILE *mem = open_memstream (&buf, &len);
  assert_non_null (mem);
  assert_int_equal (formatter_finish (f, mem, err), 0);
  fclose (mem);
  formatter_free (f);
  json_decref (r);
  return buf;
}

static void check_formatter (const char *format, const char *headers, const char *rows,
                             const char *expected)
{
  berr_t err = BERR_INIT;
  char *got = run_formatter (format, headers, rows, &err);
  if (got == NULL)
    {
      print_error ("format %s: unexpected error %s\n", format, err.msg);
      fail ();
    }
  assert_string_equal (got, expected);
  free (got);
}

static void test_formatter_table (void **state)
{
  /* as typed on a command line: the two characters \t */
  check_formatter ("table {{.Repository}}\\t{{.Tag}}\\t{{.ID}}", image_headers, images,
                   "REPOSITORY                         TAG          IMAGE ID\n"
                   "busybox                            latest       abc123def456\n"
                   "alpine                             3.19         0123456789ab\n"
                   "localhost:5000/my/very-long-name   v1.2.3-rc1   fedcba987654\n");
  /* real tabs, and a header wider than every cell */
  check_formatter ("table {{.ID}}\t{{.Tag}}", image_headers,
                   "[{\"ID\":\"a\",\"Tag\":\"x\"},{\"ID\":\"b\",\"Tag\":\"y\"}]",
                   "IMAGE ID   TAG\n"
                   "a          x\n"
                   "b          y\n");
  /* no rows: just the header */
  check_formatter ("table {{.Repository}}\\t{{.Tag}}", image_headers, "[]", "REPOSITORY   TAG\n");
  /* a field without a title shows Go's <no value> in the header */
  check_formatter ("table {{.ID}}\\t{{.Extra}}", image_headers, "[{\"ID\":\"x\",\"Extra\":\"e\"}]",
                   "IMAGE ID   <no value>\n"
                   "x          e\n");
  /* functions keep titles intact in the header row */
  check_formatter ("table {{truncate .ID 3}}\\t{{upper .Tag}}", image_headers,
                   "[{\"ID\":\"abcdef\",\"Tag\":\"latest\"}]",
                   "IMAGE ID   TAG\n"
                   "abc        LATEST\n");
  /* an error in the header only cuts it short, as in Docker */
  check_formatter ("table {{.ID}}\\t{{lower .Name}}", image_headers,
                   "[{\"ID\":\"abc\",\"Name\":\"Foo\"}]",
                   "IMAGE ID   \n"
                   "abc        foo\n");
  /* "table" directly followed by the template, spaces trimmed */
  check_formatter ("table{{.Tag}}  ", image_headers, "[{\"Tag\":\"t\"}]", "TAG\nt\n");
  /* no headers given at all */
  check_formatter ("table {{.ID}}\\t{{.Tag}}", NULL, "[{\"ID\":\"1\",\"Tag\":\"2\"}]",
                   "<no value>   <no value>\n"
                   "1            2\n");
}

static void test_formatter_raw_and_json (void **state)
{
  check_formatter ("{{.Repository}}:{{.Tag}}", NULL, images,
                   "busybox:latest\nalpine:3.19\nlocalhost:5000/my/very-long-name:v1.2.3-rc1\n");
  check_formatter ("{{.ID}}\\t{{.Tag}}", NULL, "[{\"ID\":\"a\",\"Tag\":\"b\"}]", "a\tb\n");
  check_formatter ("{{.ID}}\\n", NULL, "[{\"ID\":\"a\"},{\"ID\":\"b\"}]", "a\n\nb\n\n");
  check_formatter ("  {{.ID}}  ", NULL, "[{\"ID\":\"a\"}]", "a\n");
  check_formatter ("", NULL, "[{\"ID\":\"a\"},{}]", "\n\n");
  check_formatter ("json", NULL,
                   "[{\"ID\":\"a\",\"Size\":1.5,\"Labels\":{\"k\":\"v\"}},{\"ID\":\"b\"}]",
                   "{\"ID\":\"a\",\"Size\":1.5,\"Labels\":{\"k\":\"v\"}}\n{\"ID\":\"b\"}\n");
  check_formatter ("{{json .}}", NULL, "[{\"ID\":\"a\"}]", "{\"ID\":\"a\"}\n");
  check_formatter ("json", NULL, "[]", "");
}

static void test_formatter_errors (void **state)
{
  berr_t err = BERR_INIT;
  assert_null (run_formatter ("table", NULL, "[]", &err));
  assert_contains (err.msg, "\"table\" needs a template", "table");
  berr_release (&err);
  assert_null (run_formatter ("table   ", NULL, "[]", &err));
  berr_release (&err);

  assert_null (run_formatter ("{{.ID}", NULL, "[]", &err));
  assert_string_equal (err.msg, "template parsing error: template: :1:5: bad character U+007D '}'");
  assert_int_equal (err.kind, BERR_INVALID);
  berr_release (&err);

  assert_null (run_formatter ("{{index .L 1}}", NULL, "[{\"L\":[1,2]},{\"L\":[1]}]", &err));
  assert_contains (err.msg, "template parsing error: template: :1:2: executing", "index");
  assert_contains (err.msg, "index out of range: 1", "index");
  berr_release (&err);

  /* a failed row adds nothing; the rows before it are kept */
  json_t *ok = J ("{\"L\":[1,2]}"), *bad = J ("{\"L\":[1]}");
  struct formatter *f = formatter_new ("{{index .L 1}}", NULL, &err);
  char *buf = NULL;
  size_t len = 0;
  assert_non_null (f);
  assert_int_equal (formatter_row (f, ok, &err), 0);
  assert_int_equal (formatter_row (f, bad, &err), -1);
  berr_release (&err);
  FILE *mem = open_memstream (&buf, &len);
  assert_int_equal (formatter_finish (f, mem, &err), 0);
  fclose (mem);
  assert_string_equal (buf, "2\n");
  free (buf);
  formatter_free (f);
  json_decref (ok);
  json_decref (bad);
}

static void test_exec_appends (void **state)
{
  berr_t err = BERR_INIT;
  struct tmpl *t = tmpl_parse ("{{.}}", &err);
  json_t *v = json_integer (7);
  struct sbuf out;
  sbuf_init (&out);
  sbuf_adds (&out, "x=");
  assert_int_equal (tmpl_exec (t, v, &out, &err), 0);
  assert_int_equal (tmpl_exec (t, v, &out, &err), 0);
  assert_string_equal (out.buf, "x=77");
  /* output made before an error stays in the buffer */
  tmpl_free (t);
  t = tmpl_parse ("a{{index .}}{{len 1}}b", &err);
  sbuf_reset (&out);
  assert_int_equal (tmpl_exec (t, v, &out, &err), -1);
  assert_string_equal (out.buf, "a7");
  berr_release (&err);
  sbuf_release (&out);
  tmpl_free (t);
  json_decref (v);
  tmpl_free (NULL);
  formatter_free (NULL);
}

int main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_fields),
    cmocka_unit_test (test_field_errors),
    cmocka_unit_test (test_print_values),
    cmocka_unit_test (test_trim_and_comments),
    cmocka_unit_test (test_variables),
    cmocka_unit_test (test_pipelines),
    cmocka_unit_test (test_if),
    cmocka_unit_test (test_with),
    cmocka_unit_test (test_range),
    cmocka_unit_test (test_literals),
    cmocka_unit_test (test_json),
    cmocka_unit_test (test_json_encode),
    cmocka_unit_test (test_index),
    cmocka_unit_test (test_string_functions),
    cmocka_unit_test (test_len_print),
    cmocka_unit_test (test_printf),
    cmocka_unit_test (test_comparisons),
    cmocka_unit_test (test_arg_count_errors),
    cmocka_unit_test (test_parse_errors),
    cmocka_unit_test (test_header_mode),
    cmocka_unit_test (test_tabwriter_docker),
    cmocka_unit_test (test_tabwriter_blocks),
    cmocka_unit_test (test_tabwriter_utf8_and_writes),
    cmocka_unit_test (test_formatter_table),
    cmocka_unit_test (test_formatter_raw_and_json),
    cmocka_unit_test (test_formatter_errors),
    cmocka_unit_test (test_exec_appends),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
