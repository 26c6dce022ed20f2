/* test_yaml.c — YAML 1.1 loading and the JSON a token signs for it.
 *
 * Every expected JSON string below is the output of Debian's PyYAML 6.0
 * under /usr/bin/python3 (3.11):
 *     json.dumps(yaml.safe_load(text), separators=(',', ':'))
 * produced once and pasted here as a literal, so each test states what
 * FLARE's token service would sign for the same text. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tokenroll/error.h"
#include "tokenroll/yaml.h"

/* YAML text -> compact JSON, or the load error. */
static void expect_json(const char *yaml, const char *json)
{
    tkr_yaml_doc_t doc;
    tkr_diag_t err;
    char out[4096];
    size_t len = 0, need = 0;
    int rc;

    tkr_yaml_init(&doc);
    rc = tkr_yaml_load(&doc, yaml, strlen(yaml), "t.yaml", &err);
    if (rc != 0)
        fail_msg("load failed (%d) at %d:%d: %s\n--\n%s", rc, err.line, err.column, err.msg, yaml);
    assert_int_equal(tkr_yaml_to_json(NULL, 0, &need, doc.root), TKR_E_BUFFER_TOO_SMALL);
    rc = tkr_yaml_to_json(out, sizeof(out), &len, doc.root);
    assert_int_equal(rc, 0);
    assert_int_equal(len, need);
    assert_int_equal(len, strlen(json));
    assert_string_equal(out, json);
    tkr_yaml_free(&doc);
}

/* Loading must fail with rc at line:column, the message holding `what`. */
static void expect_error(const char *yaml, int rc, int line, int column, const char *what)
{
    tkr_yaml_doc_t doc;
    tkr_diag_t err;
    int got;

    tkr_yaml_init(&doc);
    got = tkr_yaml_load(&doc, yaml, strlen(yaml), "bad.yaml", &err);
    if (got != rc || err.line != line || err.column != column || strstr(err.msg, what) == NULL)
        fail_msg("got %d at %d:%d \"%s\"; want %d at %d:%d with \"%s\"\n--\n%s", got, err.line,
                 err.column, err.msg, rc, line, column, what, yaml);
    assert_string_equal(err.file, "bad.yaml");
    assert_null(doc.root);
    assert_null(doc.arena);
}

static void test_yaml11_bool_words(void **state)
{
    (void)state;
    expect_json("[yes, Yes, YES, no, No, NO, true, True, TRUE, false, False, FALSE, on, On, ON, "
                "off, Off, OFF, y, n, yEs, oN]",
                "[true,true,true,false,false,false,true,true,true,false,false,false,true,true,"
                "true,false,false,false,\"y\",\"n\",\"yEs\",\"oN\"]");
}

static void test_yaml11_float_needs_a_dot_and_signed_exponent(void **state)
{
    (void)state;
    expect_json("[1.0, \"1.0\", 1e3, 1.0e+3, 1.0e3, .5, -.5, +1.5, 1., 1_000.5, .inf, -.Inf, "
                "+.INF, .NaN, 1:30.5, 1e16, 1.0e+16, 0.1, 1.5e-07, 0.0001, 0.00001, -0.0, "
                "100000000000000000.0, 1234567890123456.7]",
                "[1.0,\"1.0\",\"1e3\",1000.0,\"1.0e3\",0.5,\"-.5\",1.5,1.0,1000.5,Infinity,"
                "-Infinity,Infinity,NaN,90.5,\"1e16\",1e+16,0.1,1.5e-07,0.0001,1e-05,-0.0,1e+17,"
                "1234567890123456.8]");
}

static void test_yaml11_int_bases_octal_and_base60(void **state)
{
    (void)state;
    expect_json("[0x1F, 017, 0o17, 0b101, 1:30, 190:20:30, -0, +12, 1_000, 08, 0_7, "
                "123456789012345678901234567890, -0x_1f, 0, 00, 9223372036854775807, "
                "-9223372036854775808, 9223372036854775808]",
                "[31,15,\"0o17\",5,90,685230,0,12,1000,\"08\",7,123456789012345678901234567890,"
                "-31,0,0,9223372036854775807,-9223372036854775808,9223372036854775808]");
}

static void test_yaml11_null_forms(void **state)
{
    (void)state;
    expect_json("[~, null, Null, NULL, nUll, \"~\", \"\", !!null \"\"]",
                "[null,null,null,null,\"nUll\",\"~\",\"\",null]");
    expect_json("a:\nb: ~\n", "{\"a\":null,\"b\":null}");
}

static void test_empty_document_is_null(void **state)
{
    (void)state;
    expect_json("", "null");
    expect_json("# only a comment\n", "null");
    expect_json("---\n", "null");
}

static void test_strings_escape_as_python_json_ascii(void **state)
{
    (void)state;
    expect_json("[\"tab\\there\", 'it''s', \"\\u00e9\\U0001F600\", caf\xc3\xa9, \"\\x7f\", "
                "\"a\\\"b\\\\c\", \"\\0\", \"\\/\"]",
                "[\"tab\\there\",\"it's\",\"\\u00e9\\ud83d\\ude00\",\"caf\\u00e9\",\"\\u007f\","
                "\"a\\\"b\\\\c\",\"\\u0000\",\"/\"]");
}

static void test_multiline_literal_folded_and_plain(void **state)
{
    (void)state;
    expect_json("lit: |\n  line one\n  line two\nfold: >\n  folded\n  text\n\n  para\n"
                "plain: a\n  b\nkeep: |+\n  x\n\nstrip: |-\n  y\n",
                "{\"lit\":\"line one\\nline two\\n\",\"fold\":\"folded text\\npara\\n\","
                "\"plain\":\"a b\",\"keep\":\"x\\n\\n\",\"strip\":\"y\"}");
}

static void test_anchors_and_aliases_expand(void **state)
{
    (void)state;
    expect_json("base: &b {x: 1, y: [1, 2]}\nuse: *b\nitem: &s hello\nref: *s\n",
                "{\"base\":{\"x\":1,\"y\":[1,2]},\"use\":{\"x\":1,\"y\":[1,2]},\"item\":\"hello\","
                "\"ref\":\"hello\"}");
}

static void test_merge_keys_follow_pyyaml_order(void **state)
{
    (void)state;
    /* m2: a list merges its later maps first, earlier values win;
     * m3: an own key keeps its place and its value. */
    expect_json("a: &a {x: 1, y: 1}\nb: &b {y: 2, z: 2}\nm1:\n  <<: *a\n  w: 0\n"
                "m2:\n  <<: [*a, *b]\nm3:\n  x: 9\n  <<: *a\nm4:\n  <<: *a\n  <<: *b\n",
                "{\"a\":{\"x\":1,\"y\":1},\"b\":{\"y\":2,\"z\":2},\"m1\":{\"x\":1,\"y\":1,\"w\":0},"
                "\"m2\":{\"y\":1,\"z\":2,\"x\":1},\"m3\":{\"x\":9,\"y\":1},"
                "\"m4\":{\"x\":1,\"y\":2,\"z\":2}}");
}

static void test_non_string_keys_as_json_dumps_writes_them(void **state)
{
    (void)state;
    expect_json("1: int\n1.5: float\nno: bool\n~: null\n\"2\": str\n.inf: inf\n0x10: hex\n",
                "{\"1\":\"int\",\"1.5\":\"float\",\"false\":\"bool\",\"null\":null,\"2\":\"str\","
                "\"Infinity\":\"inf\",\"16\":\"hex\"}");
}

static void test_explicit_tags(void **state)
{
    (void)state;
    expect_json("[!!str 123, !!int \"42\", !!float 1, ! yes, !!bool \"on\", !!null x, "
                "!!float 1e3, !!str yes]",
                "[\"123\",42,1.0,true,true,null,1000.0,\"yes\"]");
}

static void test_node_values_and_lookup(void **state)
{
    static const char y[] = "version: 1.0\nn: 0x10\nbig: 99999999999999999999\nb: on\ns: \"x\"\n";
    tkr_yaml_doc_t doc;
    const tkr_yaml_node_t *n;

    (void)state;
    tkr_yaml_init(&doc);
    assert_int_equal(tkr_yaml_load(&doc, y, strlen(y), "v.yaml", NULL), 0);
    n = tkr_yaml_get(doc.root, "version");
    assert_non_null(n);
    assert_int_equal(n->kind, TKR_YAML_FLOAT);
    assert_string_equal(n->str, "1.0"); /* the text as written */
    assert_true(n->f == 1.0);
    assert_int_equal(n->line, 1);
    assert_int_equal(n->column, 10);
    n = tkr_yaml_get(doc.root, "n");
    assert_int_equal(n->kind, TKR_YAML_INT);
    assert_int_equal(n->i, 16);
    assert_int_equal(n->flags & TKR_YAML_BIG, 0);
    n = tkr_yaml_get(doc.root, "big");
    assert_int_equal(n->flags & TKR_YAML_BIG, TKR_YAML_BIG);
    assert_true(n->i == INT64_MAX);
    n = tkr_yaml_get(doc.root, "b");
    assert_int_equal(n->kind, TKR_YAML_BOOL);
    assert_int_equal(n->i, 1);
    n = tkr_yaml_get(doc.root, "s");
    assert_int_equal(n->kind, TKR_YAML_STR);
    assert_int_equal(n->line, 5);
    assert_null(tkr_yaml_get(doc.root, "missing"));
    assert_null(tkr_yaml_get(n, "s")); /* not a mapping */
    tkr_yaml_free(&doc);
    tkr_yaml_free(&doc); /* twice is harmless */
}

static void test_date_is_an_error_with_position(void **state)
{
    (void)state;
    expect_error("a: 1\nwhen: 2024-01-01\n", TKR_E_POLICY, 2, 7, "timestamp");
    expect_error("- 2001-12-14t21:59:43.10-05:00\n", TKR_E_POLICY, 1, 3, "date");
    expect_error("x: !!timestamp 2001-12-14\n", TKR_E_POLICY, 1, 4, "timestamp");
}

static void test_duplicate_key_is_an_error(void **state)
{
    (void)state;
    expect_error("a: 1\nb: 2\na: 3\n", TKR_E_POLICY, 3, 1, "duplicate key \"a\"");
    /* Python's 1 == 1.0 == True: the same dict key. */
    expect_error("1: a\n1.0: b\n", TKR_E_POLICY, 2, 1, "duplicate key");
    expect_error("yes: a\n1: b\n", TKR_E_POLICY, 2, 1, "duplicate key");
    /* A merged key may be overridden: that is what << is for. */
    expect_json("a: &a {x: 1}\nb:\n  <<: *a\n  x: 2\n", "{\"a\":{\"x\":1},\"b\":{\"x\":2}}");
}

static void test_structures_json_cannot_hold_are_errors(void **state)
{
    (void)state;
    expect_error("? [a, b]\n: c\n", TKR_E_POLICY, 1, 3, "must be a scalar");
    expect_error("a: &x [*x]\n", TKR_E_POLICY, 1, 8, "recursive");
    expect_error("a: *nope\n", TKR_E_POLICY, 1, 4, "undefined alias");
    expect_error("a: &x 1\nb: &x 2\n", TKR_E_POLICY, 2, 4, "duplicate anchor");
    expect_error("a: 1\n---\nb: 2\n", TKR_E_POLICY, 2, 1, "single document");
    expect_error("a: !!binary aGVsbG8=\n", TKR_E_POLICY, 1, 4, "no JSON form");
    expect_error("a: !!set {x}\n", TKR_E_POLICY, 1, 4, "not supported");
    expect_error("a: !custom x\n", TKR_E_POLICY, 1, 4, "not supported");
    expect_error("a: <<\n", TKR_E_POLICY, 1, 4, "merge key");
    expect_error("a: =\n", TKR_E_POLICY, 1, 4, "value key");
    expect_error("<<: 1\n", TKR_E_POLICY, 1, 5, "mapping or a list of mappings");
    expect_error("a: 0b_\n", TKR_E_POLICY, 1, 4, "no digits");
    expect_error("a: !!int x\n", TKR_E_POLICY, 1, 4, "!!int");
}

static void test_syntax_errors_carry_line_and_column(void **state)
{
    (void)state;
    expect_error("a: [1, 2\n", TKR_E_YAML, 2, 1, "expected ',' or ']'");
    expect_error("a: b\n c: d\n", TKR_E_YAML, 2, 3, "mapping values are not allowed");
    expect_error("a: @x\n", TKR_E_YAML, 1, 4, "cannot start any token");
    /* PyYAML refuses tabs between tokens; so do we. */
    expect_error("a:\t1\n", TKR_E_YAML, 1, 3, "tab");
    expect_error("a: [1,\t2]\n", TKR_E_YAML, 1, 7, "tab");
    expect_json("a: \"x\ty\" # tab\tin comment\nb: |\n  z\tw\n", "{\"a\":\"x\\ty\",\"b\":\"z\\tw\\n\"}");
    expect_error("a: \"\xff\"\n", TKR_E_YAML, 1, 5, "UTF-8");
    /* libyaml counts characters, not bytes: multi-byte text before a
     * quoted tab must not shift the spans. */
    expect_json("a: \"\xc3\xa9\xc3\xa9\xc3\xa9\"\nb: \"x\ty\"\n",
                "{\"a\":\"\\u00e9\\u00e9\\u00e9\",\"b\":\"x\\ty\"}");
    expect_error("\xc3\xa9: \xc3\xa9\na:\t1\n", TKR_E_YAML, 2, 3, "tab");
    /* PyYAML wants a space between a block header and its comment. */
    expect_error("a: |#c\n  x\n", TKR_E_YAML, 1, 4, "block scalar indicator");
    expect_json("a: |2- # c\n   x\n", "{\"a\":\" x\"}");
}

static void test_utf16_and_bom_inputs(void **state)
{
    static const char le[] = "\xff\xfe" "a\0:\0 \0\x3d\xd8\x00\xde";     /* a: U+1F600 */
    static const char be[] = "\xfe\xff" "\0a\0:\0 \0\"\0\t\0\"";     /* a: "<tab>" */
    static const char lone[] = "\xff\xfe" "a\0:\0 \0\x00\xd8";          /* a lone surrogate */
    tkr_yaml_doc_t doc;
    tkr_diag_t err;
    char out[64];
    size_t len;

    (void)state;
    tkr_yaml_init(&doc);
    assert_int_equal(tkr_yaml_load(&doc, le, sizeof(le) - 1, "le.yaml", &err), 0);
    assert_int_equal(tkr_yaml_to_json(out, sizeof(out), &len, doc.root), 0);
    assert_string_equal(out, "{\"a\":\"\\ud83d\\ude00\"}");
    tkr_yaml_free(&doc);
    assert_int_equal(tkr_yaml_load(&doc, be, sizeof(be) - 1, "be.yaml", &err), 0);
    assert_int_equal(tkr_yaml_to_json(out, sizeof(out), &len, doc.root), 0);
    assert_string_equal(out, "{\"a\":\"\\t\"}");
    tkr_yaml_free(&doc);
    assert_int_equal(tkr_yaml_load(&doc, lone, sizeof(lone) - 1, "bad.yaml", &err), TKR_E_YAML);
    assert_non_null(strstr(err.msg, "UTF-16"));
    expect_json("\xef\xbb\xbf" "a: \"\tb\"\n", "{\"a\":\"\\tb\"}");
}

static void test_limits_depth_size_and_expansion(void **state)
{
    char *deep, *laughs;
    size_t i, k = 0;
    tkr_yaml_doc_t doc;
    tkr_diag_t err;

    (void)state;
    deep = malloc(2 * (TKR_YAML_DEPTH_MAX + 1) + 1);
    assert_non_null(deep);
    for (i = 0; i <= TKR_YAML_DEPTH_MAX; i++)
        deep[k++] = '[';
    for (i = 0; i <= TKR_YAML_DEPTH_MAX; i++)
        deep[k++] = ']';
    deep[k] = '\0';
    tkr_yaml_init(&doc);
    assert_int_equal(tkr_yaml_load(&doc, deep, k, "deep.yaml", &err), TKR_E_TOO_LARGE);
    assert_non_null(strstr(err.msg, "nesting"));
    /* One level less loads. */
    assert_int_equal(tkr_yaml_load(&doc, deep + 1, k - 2, "deep.yaml", &err), 0);
    tkr_yaml_free(&doc);
    free(deep);

    /* Aliases can hang a deep anchor under a deep node. */
    deep = malloc(4 * TKR_YAML_DEPTH_MAX + 64);
    assert_non_null(deep);
    k = (size_t)sprintf(deep, "a: &a ");
    for (i = 0; i < TKR_YAML_DEPTH_MAX - 1; i++)
        deep[k++] = '[';
    for (i = 0; i < TKR_YAML_DEPTH_MAX - 1; i++)
        deep[k++] = ']';
    k += (size_t)sprintf(deep + k, "\nb: [[*a]]\n");
    assert_int_equal(tkr_yaml_load(&doc, deep, k, "deep.yaml", &err), TKR_E_TOO_LARGE);
    assert_non_null(strstr(err.msg, "once aliases are expanded"));
    assert_int_equal(err.line, 2);
    free(deep);

    /* "Billion laughs": 10 aliases per level, 9 levels. */
    laughs = malloc(4096);
    assert_non_null(laughs);
    k = (size_t)sprintf(laughs, "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n");
    for (i = 1; i < 10; i++)
        k += (size_t)sprintf(laughs + k, "%c: &%c [*%c,*%c,*%c,*%c,*%c,*%c,*%c,*%c,*%c,*%c]\n",
                             (int)('a' + i), (int)('a' + i), (int)('a' + i - 1), (int)('a' + i - 1),
                             (int)('a' + i - 1), (int)('a' + i - 1), (int)('a' + i - 1),
                             (int)('a' + i - 1), (int)('a' + i - 1), (int)('a' + i - 1),
                             (int)('a' + i - 1), (int)('a' + i - 1));
    assert_int_equal(tkr_yaml_load(&doc, laughs, k, "lol.yaml", &err), TKR_E_TOO_LARGE);
    assert_non_null(strstr(err.msg, "expand"));
    free(laughs);

    assert_int_equal(tkr_yaml_load(&doc, "a", (size_t)TKR_YAML_LEN_MAX + 1, "big.yaml", &err),
                     TKR_E_TOO_LARGE);
}

static void test_to_json_buffer_rules(void **state)
{
    tkr_yaml_doc_t doc;
    char out[16];
    size_t len = 0;

    (void)state;
    tkr_yaml_init(&doc);
    assert_int_equal(tkr_yaml_load(&doc, "{a: 1}", 6, "b.yaml", NULL), 0);
    /* "{"a":1}" is 7 bytes: 7 is too small (no room for the NUL), 8 fits. */
    assert_int_equal(tkr_yaml_to_json(out, 7, &len, doc.root), TKR_E_BUFFER_TOO_SMALL);
    assert_int_equal(len, 7);
    assert_int_equal(tkr_yaml_to_json(out, 8, &len, doc.root), 0);
    assert_string_equal(out, "{\"a\":1}");
    assert_int_equal(tkr_yaml_to_json(out, 8, NULL, doc.root), TKR_E_INVALID_ARG);
    tkr_yaml_free(&doc);
    assert_int_equal(tkr_yaml_load(NULL, "a", 1, "x", NULL), TKR_E_INVALID_ARG);
    assert_int_equal(tkr_yaml_load(&doc, NULL, 1, "x", NULL), TKR_E_INVALID_ARG);
}

/* tkr_yaml_load keeps "\0" (PyYAML does; yaml2json shows it); the schema
 * loaders refuse it with tkr_yaml_check_strings, keys and values, at any
 * depth, through aliases, with the key path. */
static void test_check_strings_nul_and_references(void **state)
{
    static const char y[] =
        "a:\n"
        "  - ok\n"
        "  - {b: \"x\\0y\"}\n"
        "c: 1\n";
    static const char key[] = "m:\n  \"k\\0\": 1\n";
    static const char alias[] = "x: &v \"\\0\"\ny: [*v]\n";
    static const char refs[] = "u: \"${A}-${B_2}\"\nv: \"$HOME and pa$$\"\nw: [\"${x\"]\n";
    tkr_yaml_doc_t doc;
    tkr_diag_t err;

    (void)state;
    expect_json(y, "{\"a\":[\"ok\",{\"b\":\"x\\u0000y\"}],\"c\":1}");
    tkr_yaml_init(&doc);
    assert_int_equal(tkr_yaml_load(&doc, y, strlen(y), "t.yaml", &err), 0);
    assert_int_equal(tkr_yaml_check_strings(doc.root, 0, "t.yaml", &err), 0);
    assert_int_equal(tkr_yaml_check_strings(doc.root, TKR_YAML_NO_NUL, "t.yaml", &err), TKR_E_POLICY);
    assert_int_equal(err.line, 3);
    assert_int_equal(err.column, 9);
    assert_string_equal(err.file, "t.yaml");
    assert_non_null(strstr(err.msg, "a[1].b: the string value holds a NUL character"));
    tkr_yaml_free(&doc);

    assert_int_equal(tkr_yaml_load(&doc, key, strlen(key), "t.yaml", &err), 0);
    assert_int_equal(tkr_yaml_check_strings(doc.root, TKR_YAML_NO_NUL, "t.yaml", &err), TKR_E_POLICY);
    assert_int_equal(err.line, 2);
    assert_int_equal(err.column, 3);
    assert_non_null(strstr(err.msg, "m: the key name holds a NUL"));
    tkr_yaml_free(&doc);

    assert_int_equal(tkr_yaml_load(&doc, alias, strlen(alias), "t.yaml", &err), 0);
    assert_int_equal(tkr_yaml_check_strings(doc.root, TKR_YAML_NO_NUL, "t.yaml", &err), TKR_E_POLICY);
    assert_non_null(strstr(err.msg, "x: "));
    tkr_yaml_free(&doc);

    assert_int_equal(tkr_yaml_load(&doc, refs, strlen(refs), "t.yaml", &err), 0);
    assert_int_equal(tkr_yaml_check_strings(doc.root, TKR_YAML_NO_NUL, "t.yaml", &err), 0);
    assert_int_equal(tkr_yaml_check_strings(doc.root, TKR_YAML_ENVREFS, "t.yaml", &err), TKR_E_POLICY);
    assert_int_equal(err.line, 3);
    assert_int_equal(err.column, 5);
    assert_non_null(strstr(err.msg, "w[0]: malformed environment reference \"${x\""));
    tkr_yaml_free(&doc);
    assert_int_equal(tkr_yaml_check_strings(NULL, TKR_YAML_NO_NUL, "t.yaml", &err), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_yaml11_bool_words),
        cmocka_unit_test(test_yaml11_float_needs_a_dot_and_signed_exponent),
        cmocka_unit_test(test_yaml11_int_bases_octal_and_base60),
        cmocka_unit_test(test_yaml11_null_forms),
        cmocka_unit_test(test_empty_document_is_null),
        cmocka_unit_test(test_strings_escape_as_python_json_ascii),
        cmocka_unit_test(test_multiline_literal_folded_and_plain),
        cmocka_unit_test(test_anchors_and_aliases_expand),
        cmocka_unit_test(test_merge_keys_follow_pyyaml_order),
        cmocka_unit_test(test_non_string_keys_as_json_dumps_writes_them),
        cmocka_unit_test(test_explicit_tags),
        cmocka_unit_test(test_node_values_and_lookup),
        cmocka_unit_test(test_date_is_an_error_with_position),
        cmocka_unit_test(test_duplicate_key_is_an_error),
        cmocka_unit_test(test_structures_json_cannot_hold_are_errors),
        cmocka_unit_test(test_syntax_errors_carry_line_and_column),
        cmocka_unit_test(test_utf16_and_bom_inputs),
        cmocka_unit_test(test_limits_depth_size_and_expansion),
        cmocka_unit_test(test_to_json_buffer_rules),
        cmocka_unit_test(test_check_strings_nul_and_references),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
