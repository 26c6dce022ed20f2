/* test_json.c — the strict JSON reader (RFC 8259) and the writer.
 *
 * Reader: the accepted texts are RFC 8259 §13's examples; every rejection
 * names the RFC 8259 rule it enforces. Writer: the expected strings are
 * CPython 3.11's json module output (json.dumps with separators=(",", ":"),
 * ensure_ascii True/False, and indent=2), produced once by running
 * /usr/bin/python3 on the same documents and pasted here as literals. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tokenroll/error.h"
#include "tokenroll/json.h"

#define NTOK 256

static tkr_json_tok_t toks[NTOK];

static int parse_n(tkr_json_t *doc, const char *js, size_t len)
{
    return tkr_json_parse(doc, toks, NTOK, js, len, NULL);
}

static int parse(tkr_json_t *doc, const char *js)
{
    return parse_n(doc, js, strlen(js));
}

/* Parse must fail with rc; the diagnostics' offset must be off unless off
 * is (size_t)-1. */
static void reject_at(const char *js, size_t len, int rc, size_t off)
{
    tkr_json_t doc;
    tkr_diag_t d;
    int got;

    tkr_diag_clear(&d);
    got = tkr_json_parse(&doc, toks, NTOK, js, len, &d);
    if (got != rc)
        fail_msg("\"%.*s\": expected %d (%s), got %d (%s)", (int)len, js, rc,
                 tkr_strerror(rc), got, tkr_strerror(got));
    if (off != (size_t)-1 && (!d.has_offset || d.offset != off))
        fail_msg("\"%.*s\": offset %zu (%s), expected %zu", (int)len, js, d.offset,
                 d.has_offset ? "set" : "unset", off);
    /* limits have no place in the text */
    if ((rc == TKR_E_TOO_LARGE || rc == TKR_E_JSON_TOKENS) && d.has_offset)
        fail_msg("\"%.*s\": an offset for a size limit", (int)len, js);
}

static void reject_rc(const char *js, int rc)
{
    reject_at(js, strlen(js), rc, (size_t)-1);
}

static void reject(const char *js) { reject_rc(js, TKR_E_JSON); }
static void reject_dup(const char *js) { reject_rc(js, TKR_E_JSON_DUPLICATE); }
static void reject_utf8(const char *js) { reject_rc(js, TKR_E_UTF8); }

static void accept(const char *js)
{
    tkr_json_t doc;
    tkr_diag_t d;
    int rc;

    tkr_diag_clear(&d);
    rc = tkr_json_parse(&doc, toks, NTOK, js, strlen(js), &d);
    if (rc != 0)
        fail_msg("\"%s\": rejected with %d (%s) at %zu", js, rc,
                 tkr_strerror(rc), d.offset);
}

static int64_t i64_at(const tkr_json_t *doc, int t)
{
    int64_t v = 0;
    assert_int_equal(tkr_json_get_i64(doc, &v, t), 0);
    return v;
}

/* ---- reader: what must be accepted ---- */

/* RFC 8259 §13, first example (an object). */
static const char rfc8259_image[] =
    "{\n"
    "  \"Image\": {\n"
    "      \"Width\":  800,\n"
    "      \"Height\": 600,\n"
    "      \"Title\":  \"View from 15th Floor\",\n"
    "      \"Thumbnail\": {\n"
    "          \"Url\":    \"http://www.example.com/image/481989943\",\n"
    "          \"Height\": 125,\n"
    "          \"Width\":  100\n"
    "      },\n"
    "      \"Animated\" : false,\n"
    "      \"IDs\": [116, 943, 234, 38793]\n"
    "    }\n"
    "}\n";

/* RFC 8259 §13, second example (an array of two objects). */
static const char rfc8259_zips[] =
    "[\n"
    "  {\n"
    "     \"precision\": \"zip\",\n"
    "     \"Latitude\":  37.7668,\n"
    "     \"Longitude\": -122.3959,\n"
    "     \"Address\":   \"\",\n"
    "     \"City\":      \"SAN FRANCISCO\",\n"
    "     \"State\":     \"CA\",\n"
    "     \"Zip\":       \"94107\",\n"
    "     \"Country\":   \"US\"\n"
    "  },\n"
    "  {\n"
    "     \"precision\": \"zip\",\n"
    "     \"Latitude\":  37.371991,\n"
    "     \"Longitude\": -122.026020,\n"
    "     \"Address\":   \"\",\n"
    "     \"City\":      \"SUNNYVALE\",\n"
    "     \"State\":     \"CA\",\n"
    "     \"Zip\":       \"94085\",\n"
    "     \"Country\":   \"US\"\n"
    "  }\n"
    "]\n";

static void test_parse_accepts_rfc8259_s13_image_example(void **state)
{
    tkr_json_t doc;
    int img, thumb, ids, t, v;
    char title[64];
    (void)state;

    assert_int_equal(parse(&doc, rfc8259_image), 0);
    assert_int_equal(tkr_json_type(&doc, 0), TKR_JSON_OBJECT);
    assert_int_equal(tkr_json_count(&doc, 0), 1);
    img = tkr_json_find(&doc, 0, "Image");
    assert_true(img > 0);
    assert_int_equal(tkr_json_count(&doc, img), 6);
    assert_int_equal(i64_at(&doc, tkr_json_find(&doc, img, "Width")), 800);
    assert_int_equal(i64_at(&doc, tkr_json_find(&doc, img, "Height")), 600);
    assert_int_equal(tkr_json_get_str(&doc, title, sizeof(title), NULL,
                                      tkr_json_find(&doc, img, "Title")),
                     0);
    assert_string_equal(title, "View from 15th Floor");
    thumb = tkr_json_find(&doc, img, "Thumbnail");
    assert_int_equal(i64_at(&doc, tkr_json_find(&doc, thumb, "Width")), 100);
    assert_int_equal(i64_at(&doc, tkr_json_find(&doc, thumb, "Height")), 125);
    t = tkr_json_find(&doc, img, "Animated");
    assert_int_equal(tkr_json_type(&doc, t), TKR_JSON_BOOL);
    v = 1;
    assert_int_equal(tkr_json_get_bool(&doc, &v, t), 0);
    assert_int_equal(v, 0);
    ids = tkr_json_find(&doc, img, "IDs");
    assert_int_equal(tkr_json_type(&doc, ids), TKR_JSON_ARRAY);
    assert_int_equal(tkr_json_count(&doc, ids), 4);
    assert_int_equal(i64_at(&doc, tkr_json_child(&doc, ids, 0)), 116);
    assert_int_equal(i64_at(&doc, tkr_json_child(&doc, ids, 3)), 38793);
    assert_int_equal(tkr_json_child(&doc, ids, 4), TKR_E_NOT_FOUND);
}

static void test_parse_accepts_rfc8259_s13_array_example(void **state)
{
    tkr_json_t doc;
    int second, t;
    size_t n;
    const char *raw;
    (void)state;

    assert_int_equal(parse(&doc, rfc8259_zips), 0);
    assert_int_equal(tkr_json_type(&doc, 0), TKR_JSON_ARRAY);
    assert_int_equal(tkr_json_count(&doc, 0), 2);
    second = tkr_json_child(&doc, 0, 1);
    assert_int_equal(tkr_json_type(&doc, second), TKR_JSON_OBJECT);
    assert_true(tkr_json_str_eq(&doc, tkr_json_find(&doc, second, "City"),
                                "SUNNYVALE"));
    t = tkr_json_find(&doc, second, "Longitude");
    assert_int_equal(tkr_json_type(&doc, t), TKR_JSON_NUMBER);
    raw = tkr_json_raw(&doc, &n, t);
    assert_int_equal(n, strlen("-122.026020"));
    assert_memory_equal(raw, "-122.026020", n);
    /* a fraction is a number, but not an integer */
    assert_int_equal(tkr_json_get_i64(&doc, &(int64_t){0}, t), TKR_E_TYPE);
    assert_true(tkr_json_str_eq(&doc, tkr_json_find(&doc, second, "Address"), ""));
}

static void test_parse_accepts_rfc8259_grammar_corners(void **state)
{
    (void)state;
    accept("{}");
    accept("[]");
    accept(" \t\r\n[ \t\r\n] \t\r\n");
    accept("[0, -0, 0.5, -0.0, 1e10, 1E+2, 1e-2, -1.5e-3, 10, 123456789]");
    accept("[true, false, null]");
    accept("[\"\", \"\\\"\\\\\\/\\b\\f\\n\\r\\t\", \"\\u00e9\\u00E9\", \"\\uD83D\\uDE00\"]");
    accept("[\"\x7f\"]");                       /* DEL is not a control char (§7) */
    accept("[\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"]"); /* valid UTF-8 */
    accept("[\"\xf4\x8f\xbf\xbf\"]");           /* U+10FFFF */
    accept("{\"a\":{\"a\":1},\"b\":{\"a\":2}}");   /* same key, other objects */
    accept("[{\"a\":1},{\"a\":1}]");
    accept("{\"a\":[],\"b\":{},\"c\":[[],{}]}");
}

/* ---- reader: what must be rejected ---- */

static void test_parse_rejects_trailing_data(void **state)
{
    (void)state;
    reject_at("{} x", 4, TKR_E_JSON, 3);
    reject_at("{}{}", 4, TKR_E_JSON, 2);
    reject_at("[]]", 3, TKR_E_JSON, 2);
    reject_at("[] []", 5, TKR_E_JSON, 3);
    reject_at("{}\0", 3, TKR_E_JSON, 2);       /* a NUL is data too */
    reject_at("{},", 3, TKR_E_JSON, 2);
    reject("{}\"x\"");
    reject("[1]2");
}

static void test_parse_rejects_missing_comma(void **state)
{
    (void)state;
    reject_at("{\"a\":1 \"b\":2}", 13, TKR_E_JSON, 7);
    reject_at("[1 2]", 5, TKR_E_JSON, 3);
    reject("[\"a\" \"b\"]");
    reject("[[] []]");
    reject("[{} {}]");
    reject("{\"a\":{} \"b\":1}");
}

static void test_parse_rejects_missing_colon(void **state)
{
    (void)state;
    reject("{\"a\" 1}");
    reject_at("{\"a\"}", 5, TKR_E_JSON, 4);
    reject("{\"a\",\"b\"}");
    reject("{\"a\"::1}");
    reject("{\"a\":1,\"b\"}");
    reject("[1:2]");
    reject("[\"a\":1]");
}

static void test_parse_rejects_trailing_comma_in_object(void **state)
{
    (void)state;
    reject_at("{\"a\":1,}", 8, TKR_E_JSON, 7);
    reject("{,}");
    reject("{,\"a\":1}");
    reject("{\"a\":1,,\"b\":2}");
}

static void test_parse_rejects_trailing_comma_in_array(void **state)
{
    (void)state;
    reject_at("[1,]", 4, TKR_E_JSON, 3);
    reject("[,]");
    reject("[,1]");
    reject("[1,,2]");
    reject("[[],]");
}

static void test_parse_rejects_duplicate_key_top_level(void **state)
{
    (void)state;
    /* the offset: the first byte of the second "a" key's text */
    reject_at("{\"a\":1,\"a\":2}", 13, TKR_E_JSON_DUPLICATE, 8);
    reject_dup("{\"a\":1,\"b\":2,\"a\":3}");
    reject_dup("{\"\":1,\"\":2}");
    reject_dup("{\"exp\":1,\"exp\":\"x\"}");
}

static void test_parse_rejects_duplicate_key_nested(void **state)
{
    (void)state;
    reject_dup("{\"x\":{\"b\":1,\"c\":2,\"b\":3}}");
    reject_dup("[{\"a\":1},{\"a\":1,\"a\":1}]");
    reject_dup("{\"x\":[{\"y\":{\"z\":1,\"z\":2}}]}");
    reject_dup("{\"a\":{\"a\":1},\"a\":{\"a\":2}}");
}

static void test_parse_rejects_duplicate_keys_differing_only_by_escaping(void **state)
{
    (void)state;
    reject_at("{\"a\":1,\"\\u0061\":2}", 18, TKR_E_JSON_DUPLICATE, 8);
    reject_dup("{\"\\u0061\":1,\"a\":2}");
    reject_dup("{\"/\":1,\"\\/\":2}");
    reject_dup("{\"\xc3\xa9\":1,\"\\u00e9\":2}");
    reject_dup("{\"\\u00E9\":1,\"\\u00e9\":2}");
    reject_dup("{\"\xf0\x9f\x98\x80\":1,\"\\ud83d\\ude00\":2}");
    reject_dup("{\"alg\":\"RS256\",\"\\u0061lg\":\"none\"}");
    /* same prefix, different value: not duplicates */
    accept("{\"a\":1,\"\\u0061b\":2}");
    accept("{\"ab\":1,\"a\":2}");
}

static void test_parse_rejects_bad_escapes(void **state)
{
    (void)state;
    reject_at("[\"\\x\"]", 6, TKR_E_JSON, (size_t)-1);
    reject("[\"\\u12G4\"]");
    reject("[\"\\u12\"]");
    reject("[\"\\u\"]");
    reject("[\"\\'\"]");
    reject("[\"\\U0041\"]");
    reject("[\"\\0\"]");
    reject("[\"\\a\"]");
    reject("[\"\\\"]");
    reject("{\"\\x\":1}");
}

static void test_parse_rejects_lone_high_surrogate(void **state)
{
    (void)state;
    reject_utf8("[\"\\uD83D\"]");
    reject_utf8("[\"\\uD83Dx\"]");
    reject_utf8("[\"\\uD83D\\u0041\"]");
    reject_utf8("[\"\\uD83D\\uD83D\"]");
    reject_utf8("[\"\\uDBFF\"]");
    reject_utf8("[\"\\uD800\\n\"]");
    reject_utf8("{\"\\uD83D\":1}");
}

static void test_parse_rejects_lone_low_surrogate(void **state)
{
    (void)state;
    reject_at("[\"\\uDE00\"]", 10, TKR_E_UTF8, 2);
    reject_utf8("[\"\\uDC00\"]");
    reject_utf8("[\"\\uDFFF\\uD83D\"]");
    reject_utf8("[\"a\\uDE00\\uD83D\"]");
}

static void test_parse_rejects_invalid_utf8(void **state)
{
    (void)state;
    reject_at("[\"a\xc0\x80\"]", 7, TKR_E_UTF8, 3);   /* overlong NUL */
    reject_utf8("[\"\xc1\xbf\"]");                          /* overlong '\x7f' */
    reject_utf8("[\"\xe0\x80\xaf\"]");                      /* overlong '/' */
    reject_utf8("[\"\xf0\x80\x80\xaf\"]");                  /* overlong '/' */
    reject_utf8("[\"\xed\xa0\x80\"]");                      /* UTF-8 surrogate D800 */
    reject_utf8("[\"\xed\xbf\xbf\"]");                      /* UTF-8 surrogate DFFF */
    reject_utf8("[\"\xf5\x80\x80\x80\"]");                  /* past U+10FFFF */
    reject_utf8("[\"\xf4\x90\x80\x80\"]");                  /* U+110000 */
    reject_utf8("[\"\xe2\x82\"]");                          /* truncated */
    reject("[\"\xe2\x82");     /* and unterminated */
    reject_utf8("[\"\x80\"]");                              /* lone continuation */
    reject_utf8("[\"\xfe\"]");
    reject_utf8("[\"\xff\"]");
    reject_utf8("[\"\xc3\x28\"]");                          /* bad continuation */
    reject_utf8("{\"\xc0\x80\":1}");                        /* in a key */
}

static void test_parse_rejects_raw_control_char_in_string(void **state)
{
    (void)state;
    reject_at("[\"ab\x01\"]", 7, TKR_E_JSON, 4);
    reject("[\"\n\"]");
    reject("[\"\t\"]");
    reject("[\"\r\"]");
    reject("[\"\x1f\"]");
    reject_at("[\"a\0b\"]", 7, TKR_E_JSON, (size_t)-1);
    reject("{\"a\x01\":1}");
}

static void test_parse_rejects_leading_zeros(void **state)
{
    (void)state;
    reject_at("[01]", 4, TKR_E_JSON, 1);
    reject("[-01]");
    reject("[00]");
    reject("[00.5]");
    reject("[-00]");
    reject("{\"exp\":0123}");
}

static void test_parse_rejects_malformed_numbers(void **state)
{
    (void)state;
    reject("[-]");
    reject("[1.]");
    reject("[.5]");
    reject("[+1]");
    reject("[1e]");
    reject("[1e+]");
    reject("[1E-]");
    reject("[1.e5]");
    reject("[--1]");
    reject("[- 1]");
    reject("[0x10]");
    reject("[1_000]");
    reject("[1.5.2]");
    reject("[1e5e5]");
    reject("[1 .5]");
}

static void test_parse_rejects_nan_and_infinity(void **state)
{
    (void)state;
    reject("[NaN]");
    reject("[nan]");
    reject("[Infinity]");
    reject("[-Infinity]");
    reject("[inf]");
    reject("{\"exp\":NaN}");
}

static void test_parse_rejects_bad_literals(void **state)
{
    (void)state;
    reject("[True]");
    reject("[tru]");
    reject("[truex]");
    reject("[nul]");
    reject("[NULL]");
    reject("[falsey]");
    reject("[undefined]");
}

static void test_parse_rejects_single_quotes(void **state)
{
    (void)state;
    reject("{'a':1}");
    reject("['a']");
    reject("{\"a\":'b'}");
}

static void test_parse_rejects_non_string_keys(void **state)
{
    (void)state;
    reject("{1:2}");
    reject("{true:1}");
    reject("{null:1}");
    reject("{{}:1}");
    reject("{[]:1}");
    reject("{a:1}");
}

static void test_parse_rejects_unclosed_and_unbalanced(void **state)
{
    (void)state;
    reject("{\"a\":1");
    reject("[1");
    reject("[\"abc");
    reject("[\"abc]");
    reject("[}");
    reject("{]");
    reject("[[]");
    reject("]");
    reject("}");
}

static void test_parse_rejects_non_json_whitespace(void **state)
{
    (void)state;
    reject("\v{}");
    reject("{}\f");
    reject("[1,\xc2\xa0" "2]");   /* NO-BREAK SPACE */
    reject("\xef\xbb\xbf{}");    /* a BOM is not whitespace either */
}

static void test_parse_depth_32_accepted_33_rejected(void **state)
{
    char js[2 * 40 + 1];
    int depth;
    (void)state;

    for (depth = 1; depth <= 34; depth++) {
        int i;
        for (i = 0; i < depth; i++) {
            js[i] = '[';
            js[2 * depth - 1 - i] = ']';
        }
        if (depth <= TKR_JSON_DEPTH_MAX) {
            tkr_json_t doc;
            assert_int_equal(parse_n(&doc, js, (size_t)(2 * depth)), 0);
        } else {
            reject_at(js, (size_t)(2 * depth), TKR_E_JSON_DEPTH,
                      TKR_JSON_DEPTH_MAX); /* the 33rd '[' */
        }
    }
    assert_int_equal(TKR_JSON_DEPTH_MAX, 32);
}

static void test_parse_depth_counts_objects_and_arrays(void **state)
{
    /* 32 levels alternating objects and arrays, then one more */
    char js[512];
    size_t n = 0;
    int i;
    tkr_json_t doc;
    (void)state;

    for (i = 0; i < 33; i++)
        n += (size_t)sprintf(js + n, i % 2 ? "[" : "{\"k\":");
    js[n++] = '1';
    for (i = 32; i >= 0; i--)
        js[n++] = i % 2 ? ']' : '}';
    assert_int_equal(parse_n(&doc, js, n), TKR_E_JSON_DEPTH);
    /* the innermost container removed: 32 levels */
    n = 0;
    for (i = 0; i < 32; i++)
        n += (size_t)sprintf(js + n, i % 2 ? "[" : "{\"k\":");
    js[n++] = '1';
    for (i = 31; i >= 0; i--)
        js[n++] = i % 2 ? ']' : '}';
    assert_int_equal(parse_n(&doc, js, n), 0);
}

static void test_parse_rejects_non_container_root(void **state)
{
    (void)state;
    reject("\"a\"");
    reject("1");
    reject("true");
    reject("null");
    reject("");
    reject("   ");
}

static void test_parse_reports_too_few_tokens(void **state)
{
    tkr_json_t doc;
    tkr_json_tok_t few[4];
    (void)state;

    /* [1,2,3] needs 4 tokens */
    assert_int_equal(tkr_json_parse(&doc, few, 3, "[1,2,3]", 7, NULL), TKR_E_JSON_TOKENS);
    assert_int_equal(tkr_json_parse(&doc, few, 4, "[1,2,3]", 7, NULL), 0);
    assert_int_equal(doc.ntok, 4);
    /* {"a":[1]} needs 4 tokens too: object, key, array, number */
    assert_int_equal(tkr_json_parse(&doc, few, 3, "{\"a\":[1]}", 9, NULL),
                     TKR_E_JSON_TOKENS);
    assert_int_equal(tkr_json_parse(&doc, few, 0, "[]", 2, NULL), TKR_E_JSON_TOKENS);
}

static void test_parse_rejects_text_over_size_limit(void **state)
{
    tkr_json_t doc;
    size_t n = (size_t)TKR_JSON_LEN_MAX + 1, i;
    char *js = malloc(n);
    (void)state;

    assert_non_null(js);
    js[0] = '[';
    for (i = 1; i < n - 1; i++)
        js[i] = ' ';
    js[n - 1] = ']';
    assert_int_equal(parse_n(&doc, js, n), TKR_E_TOO_LARGE);
    assert_int_equal(parse_n(&doc, js + 1, n - 1), TKR_E_JSON); /* "  ...]" */
    js[1] = '[';
    assert_int_equal(parse_n(&doc, js + 1, n - 1), 0);           /* "[ ...]" */
    free(js);
}

static void test_parse_invalid_arguments(void **state)
{
    tkr_json_t doc;
    (void)state;

    assert_int_equal(tkr_json_parse(NULL, toks, NTOK, "{}", 2, NULL), TKR_E_INVALID_ARG);
    assert_int_equal(tkr_json_parse(&doc, NULL, NTOK, "{}", 2, NULL), TKR_E_INVALID_ARG);
    assert_int_equal(tkr_json_parse(&doc, toks, NTOK, NULL, 2, NULL), TKR_E_INVALID_ARG);
}

/* ---- getters ---- */

static void test_find_compares_keys_after_unescaping(void **state)
{
    tkr_json_t doc;
    const char *js = "{\"a\\u0062c\":1,\"\\\"q\\\"\":2,\"\\/\":3,\"\\u00e9\":4,"
                     "\"k\":\"abc\",\"n\":{\"inner\":5},\"nul\\u0000\":6}";
    (void)state;

    assert_int_equal(parse(&doc, js), 0);
    assert_int_equal(i64_at(&doc, tkr_json_find(&doc, 0, "abc")), 1);
    assert_int_equal(i64_at(&doc, tkr_json_find(&doc, 0, "\"q\"")), 2);
    assert_int_equal(i64_at(&doc, tkr_json_find(&doc, 0, "/")), 3);
    assert_int_equal(i64_at(&doc, tkr_json_find(&doc, 0, "\xc3\xa9")), 4);
    /* neither prefixes, values, nested keys nor a key cut at its NUL */
    assert_int_equal(tkr_json_find(&doc, 0, "ab"), TKR_E_NOT_FOUND);
    assert_int_equal(tkr_json_find(&doc, 0, "abcd"), TKR_E_NOT_FOUND);
    assert_int_equal(tkr_json_find(&doc, 0, "inner"), TKR_E_NOT_FOUND);
    assert_int_equal(tkr_json_find(&doc, 0, "nul"), TKR_E_NOT_FOUND);
    assert_int_equal(tkr_json_find(&doc, 0, "ABC"), TKR_E_NOT_FOUND);
    assert_int_equal(i64_at(&doc, tkr_json_find(&doc, tkr_json_find(&doc, 0, "n"),
                                                "inner")),
                     5);
    /* only objects have keys */
    assert_int_equal(tkr_json_find(&doc, tkr_json_find(&doc, 0, "k"), "a"),
                     TKR_E_TYPE);
    assert_int_equal(parse(&doc, "[\"abc\"]"), 0);
    assert_int_equal(tkr_json_find(&doc, 0, "abc"), TKR_E_TYPE);
}

static void test_get_str_unescapes_to_utf8(void **state)
{
    tkr_json_t doc;
    char out[64];
    size_t len = 0;
    (void)state;

    assert_int_equal(parse(&doc, "[\"a\\\"b\\\\c\\/d\\b\\f\\n\\r\\t\","
                                 "\"\\u00e9\\u20AC\","
                                 "\"\\uD83D\\uDE00\","
                                 "\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\","
                                 "\"\\u007f\\u0001\"]"),
                     0);
    assert_int_equal(tkr_json_get_str(&doc, out, sizeof(out), &len,
                                      tkr_json_child(&doc, 0, 0)),
                     0);
    assert_int_equal(len, 12);
    assert_memory_equal(out, "a\"b\\c/d\b\f\n\r\t", 13);
    assert_int_equal(tkr_json_get_str(&doc, out, sizeof(out), &len,
                                      tkr_json_child(&doc, 0, 1)),
                     0);
    assert_string_equal(out, "\xc3\xa9\xe2\x82\xac");
    assert_int_equal(len, 5);
    /* U+1F600 from its UTF-16 surrogate pair: F0 9F 98 80 */
    assert_int_equal(tkr_json_get_str(&doc, out, sizeof(out), &len,
                                      tkr_json_child(&doc, 0, 2)),
                     0);
    assert_int_equal(len, 4);
    assert_memory_equal(out, "\xf0\x9f\x98\x80", 5);
    assert_int_equal(tkr_json_get_str(&doc, out, sizeof(out), &len,
                                      tkr_json_child(&doc, 0, 3)),
                     0);
    assert_string_equal(out, "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80");
    assert_int_equal(tkr_json_get_str(&doc, out, sizeof(out), &len,
                                      tkr_json_child(&doc, 0, 4)),
                     0);
    assert_string_equal(out, "\x7f\x01");
}

static void test_get_str_rejects_escaped_nul(void **state)
{
    tkr_json_t doc;
    char out[16];
    (void)state;

    assert_int_equal(parse(&doc, "[\"a\\u0000b\",\"\\u0000\"]"), 0);
    assert_int_equal(tkr_json_get_str(&doc, out, sizeof(out), NULL,
                                      tkr_json_child(&doc, 0, 0)),
                     TKR_E_UTF8);
    assert_int_equal(tkr_json_get_str(&doc, out, sizeof(out), NULL,
                                      tkr_json_child(&doc, 0, 1)),
                     TKR_E_UTF8);
    assert_false(tkr_json_str_eq(&doc, tkr_json_child(&doc, 0, 0), "a"));
    /* nothing of the string before the NUL is left behind */
    assert_int_equal(parse(&doc, "[\"abc\\u0000\"]"), 0);
    memset(out, 'x', sizeof(out));
    assert_int_equal(tkr_json_get_str(&doc, out, sizeof(out), NULL, 1), TKR_E_UTF8);
    assert_int_equal(out[0], '\0');
}

static void test_get_str_buffer_and_type_errors(void **state)
{
    tkr_json_t doc;
    char out[8];
    size_t len = 77;
    (void)state;

    assert_int_equal(parse(&doc, "[\"abcd\",1,\"\\u00e9\"]"), 0);
    assert_int_equal(tkr_json_get_str(&doc, out, 4, &len, 1), TKR_E_BUFFER_TOO_SMALL);
    assert_int_equal(out[0], '\0');
    assert_int_equal(len, 77);
    assert_int_equal(tkr_json_get_str(&doc, out, 5, &len, 1), 0);
    assert_int_equal(len, 4);
    assert_string_equal(out, "abcd");
    /* U+00E9 needs 2 bytes + NUL */
    assert_int_equal(tkr_json_get_str(&doc, out, 2, &len, 3), TKR_E_BUFFER_TOO_SMALL);
    assert_int_equal(tkr_json_get_str(&doc, out, 3, &len, 3), 0);
    assert_int_equal(tkr_json_get_str(&doc, out, sizeof(out), &len, 2), TKR_E_TYPE);
    assert_int_equal(tkr_json_get_str(&doc, out, sizeof(out), &len, 0), TKR_E_TYPE);
    assert_int_equal(tkr_json_get_str(&doc, out, sizeof(out), &len, 99), TKR_E_TYPE);
    assert_int_equal(tkr_json_get_str(&doc, out, 0, &len, 1), TKR_E_INVALID_ARG);
}

static void test_get_i64_range_and_type(void **state)
{
    tkr_json_t doc;
    int64_t v = 0;
    (void)state;

    assert_int_equal(parse(&doc, "[9223372036854775807,-9223372036854775808,"
                                 "9223372036854775808,-9223372036854775809,"
                                 "0,-0,1.0,1e3,\"1\",true,null,"
                                 "18446744073709551616,"
                                 "99999999999999999999999,-1,1E3,0.0]"),
                     0);
    assert_int_equal(tkr_json_get_i64(&doc, &v, tkr_json_child(&doc, 0, 0)), 0);
    assert_true(v == INT64_MAX);
    assert_int_equal(tkr_json_get_i64(&doc, &v, tkr_json_child(&doc, 0, 1)), 0);
    assert_true(v == INT64_MIN);
    assert_int_equal(tkr_json_get_i64(&doc, &v, tkr_json_child(&doc, 0, 2)), TKR_E_RANGE);
    assert_int_equal(tkr_json_get_i64(&doc, &v, tkr_json_child(&doc, 0, 3)), TKR_E_RANGE);
    assert_int_equal(tkr_json_get_i64(&doc, &v, tkr_json_child(&doc, 0, 4)), 0);
    assert_true(v == 0);
    v = 5;
    assert_int_equal(tkr_json_get_i64(&doc, &v, tkr_json_child(&doc, 0, 5)), 0);
    assert_true(v == 0);
    assert_int_equal(tkr_json_get_i64(&doc, &v, tkr_json_child(&doc, 0, 6)), TKR_E_TYPE);
    assert_int_equal(tkr_json_get_i64(&doc, &v, tkr_json_child(&doc, 0, 7)), TKR_E_TYPE);
    assert_int_equal(tkr_json_get_i64(&doc, &v, tkr_json_child(&doc, 0, 8)), TKR_E_TYPE);
    assert_int_equal(tkr_json_get_i64(&doc, &v, tkr_json_child(&doc, 0, 9)), TKR_E_TYPE);
    assert_int_equal(tkr_json_get_i64(&doc, &v, tkr_json_child(&doc, 0, 10)), TKR_E_TYPE);
    assert_int_equal(tkr_json_get_i64(&doc, &v, tkr_json_child(&doc, 0, 11)), TKR_E_RANGE);
    assert_int_equal(tkr_json_get_i64(&doc, &v, tkr_json_child(&doc, 0, 12)), TKR_E_RANGE);
    assert_int_equal(tkr_json_get_i64(&doc, &v, tkr_json_child(&doc, 0, 13)), 0);
    assert_true(v == -1);
    assert_int_equal(tkr_json_get_i64(&doc, &v, tkr_json_child(&doc, 0, 14)), TKR_E_TYPE);
    assert_int_equal(tkr_json_get_i64(&doc, &v, tkr_json_child(&doc, 0, 15)), TKR_E_TYPE);
    assert_int_equal(tkr_json_get_i64(&doc, &v, 0), TKR_E_TYPE);
    /* not an integer, whatever the size of its integer part */
    assert_int_equal(parse(&doc, "[99999999999999999999.5,-99999999999999999999e1,"
                                 "9223372036854775808.0]"),
                     0);
    assert_int_equal(tkr_json_get_i64(&doc, &v, 1), TKR_E_TYPE);
    assert_int_equal(tkr_json_get_i64(&doc, &v, 2), TKR_E_TYPE);
    assert_int_equal(tkr_json_get_i64(&doc, &v, 3), TKR_E_TYPE);
}

static void test_get_bool(void **state)
{
    tkr_json_t doc;
    int v = -1;
    (void)state;

    assert_int_equal(parse(&doc, "[true,false,1,\"true\",null]"), 0);
    assert_int_equal(tkr_json_get_bool(&doc, &v, 1), 0);
    assert_int_equal(v, 1);
    assert_int_equal(tkr_json_get_bool(&doc, &v, 2), 0);
    assert_int_equal(v, 0);
    assert_int_equal(tkr_json_get_bool(&doc, &v, 3), TKR_E_TYPE);
    assert_int_equal(tkr_json_get_bool(&doc, &v, 4), TKR_E_TYPE);
    assert_int_equal(tkr_json_get_bool(&doc, &v, 5), TKR_E_TYPE);
    assert_int_equal(tkr_json_type(&doc, 5), TKR_JSON_NULL);
}

static void test_count_child_skip_over_nested_values(void **state)
{
    tkr_json_t doc;
    int a, c, last, d;
    (void)state;

    assert_int_equal(parse(&doc, "{\"a\":[1,[2,3],{\"b\":4}],\"c\":{\"d\":[]},\"e\":5}"), 0);
    assert_int_equal(tkr_json_count(&doc, 0), 3);
    /* child of an object is its i-th key; the value follows it */
    assert_true(tkr_json_str_eq(&doc, tkr_json_child(&doc, 0, 0), "a"));
    assert_true(tkr_json_str_eq(&doc, tkr_json_child(&doc, 0, 1), "c"));
    assert_true(tkr_json_str_eq(&doc, tkr_json_child(&doc, 0, 2), "e"));
    assert_int_equal(tkr_json_child(&doc, 0, 3), TKR_E_NOT_FOUND);
    assert_int_equal(tkr_json_child(&doc, 0, -1), TKR_E_NOT_FOUND);
    a = tkr_json_child(&doc, 0, 0) + 1;
    assert_int_equal(tkr_json_count(&doc, a), 3);
    assert_int_equal(tkr_json_type(&doc, tkr_json_child(&doc, a, 1)), TKR_JSON_ARRAY);
    assert_int_equal(tkr_json_count(&doc, tkr_json_child(&doc, a, 1)), 2);
    assert_int_equal(i64_at(&doc, tkr_json_child(&doc, tkr_json_child(&doc, a, 1), 1)), 3);
    assert_int_equal(i64_at(&doc, tkr_json_find(&doc, tkr_json_child(&doc, a, 2), "b")), 4);
    /* skipping "a"'s value lands on the key "c" */
    c = tkr_json_skip(&doc, a);
    assert_true(tkr_json_str_eq(&doc, c, "c"));
    d = tkr_json_find(&doc, c + 1, "d");
    assert_int_equal(tkr_json_count(&doc, d), 0);
    assert_int_equal(tkr_json_child(&doc, d, 0), TKR_E_NOT_FOUND);
    last = tkr_json_find(&doc, 0, "e");
    assert_int_equal(tkr_json_skip(&doc, last), doc.ntok);
    assert_int_equal(tkr_json_skip(&doc, 0), doc.ntok);
    assert_int_equal(tkr_json_count(&doc, last), TKR_E_TYPE);
    assert_int_equal(tkr_json_child(&doc, last, 0), TKR_E_TYPE);
}

static void test_type_reports_each_kind(void **state)
{
    tkr_json_t doc;
    (void)state;

    assert_int_equal(parse(&doc, "[{},[],\"s\",-1.5,true,false,null]"), 0);
    assert_int_equal(tkr_json_type(&doc, 0), TKR_JSON_ARRAY);
    assert_int_equal(tkr_json_type(&doc, 1), TKR_JSON_OBJECT);
    assert_int_equal(tkr_json_type(&doc, 2), TKR_JSON_ARRAY);
    assert_int_equal(tkr_json_type(&doc, 3), TKR_JSON_STRING);
    assert_int_equal(tkr_json_type(&doc, 4), TKR_JSON_NUMBER);
    assert_int_equal(tkr_json_type(&doc, 5), TKR_JSON_BOOL);
    assert_int_equal(tkr_json_type(&doc, 6), TKR_JSON_BOOL);
    assert_int_equal(tkr_json_type(&doc, 7), TKR_JSON_NULL);
    assert_int_equal(tkr_json_type(&doc, 8), 0);
    assert_int_equal(tkr_json_type(&doc, -1), 0);
}

static void test_str_eq_and_raw(void **state)
{
    tkr_json_t doc;
    size_t n;
    const char *raw;
    (void)state;

    assert_int_equal(parse(&doc, "[\"a\\u0062\",\"\",1]"), 0);
    assert_true(tkr_json_str_eq(&doc, 1, "ab"));
    assert_false(tkr_json_str_eq(&doc, 1, "a"));
    assert_false(tkr_json_str_eq(&doc, 1, "abc"));
    assert_false(tkr_json_str_eq(&doc, 1, NULL));
    assert_true(tkr_json_str_eq(&doc, 2, ""));
    assert_false(tkr_json_str_eq(&doc, 3, "1")); /* a number is not a string */
    raw = tkr_json_raw(&doc, &n, 1);
    assert_int_equal(n, 7);
    assert_memory_equal(raw, "a\\u0062", 7);
    assert_null(tkr_json_raw(&doc, &n, 9));
    assert_int_equal(n, 0);
}

/* ---- writer ---- */

/* The document of the writer tests, as Python would build it:
 * {"ctl": "\x00\x01\x1f\x7f", "quote": "\"\\/", "ws": "\b\f\n\r\t",
 *  "uni": "é€😀", "empty_obj": {}, "empty_arr": [],
 *  "nested": {"a": [{}, [], [[]], {"b": {}}]},
 *  "ints": [-1, 0, 1, -2**63, 2**63 - 1], "lit": [True, False, None],
 *  "é€": "key"} */
static void write_doc(tkr_jsonw_t *w)
{
    tkr_jsonw_obj_begin(w);
    tkr_jsonw_key(w, "ctl");
    tkr_jsonw_strn(w, "\x00\x01\x1f\x7f", 4);
    tkr_jsonw_key(w, "quote");
    tkr_jsonw_str(w, "\"\\/");
    tkr_jsonw_key(w, "ws");
    tkr_jsonw_str(w, "\b\f\n\r\t");
    tkr_jsonw_key(w, "uni");
    tkr_jsonw_str(w, "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80");
    tkr_jsonw_key(w, "empty_obj");
    tkr_jsonw_obj_begin(w);
    tkr_jsonw_obj_end(w);
    tkr_jsonw_key(w, "empty_arr");
    tkr_jsonw_arr_begin(w);
    tkr_jsonw_arr_end(w);
    tkr_jsonw_key(w, "nested");
    tkr_jsonw_obj_begin(w);
    tkr_jsonw_key(w, "a");
    tkr_jsonw_arr_begin(w);
    tkr_jsonw_obj_begin(w);
    tkr_jsonw_obj_end(w);
    tkr_jsonw_arr_begin(w);
    tkr_jsonw_arr_end(w);
    tkr_jsonw_arr_begin(w);
    tkr_jsonw_arr_begin(w);
    tkr_jsonw_arr_end(w);
    tkr_jsonw_arr_end(w);
    tkr_jsonw_obj_begin(w);
    tkr_jsonw_key(w, "b");
    tkr_jsonw_obj_begin(w);
    tkr_jsonw_obj_end(w);
    tkr_jsonw_obj_end(w);
    tkr_jsonw_arr_end(w);
    tkr_jsonw_obj_end(w);
    tkr_jsonw_key(w, "ints");
    tkr_jsonw_arr_begin(w);
    tkr_jsonw_i64(w, -1);
    tkr_jsonw_i64(w, 0);
    tkr_jsonw_i64(w, 1);
    tkr_jsonw_i64(w, INT64_MIN);
    tkr_jsonw_i64(w, INT64_MAX);
    tkr_jsonw_arr_end(w);
    tkr_jsonw_key(w, "lit");
    tkr_jsonw_arr_begin(w);
    tkr_jsonw_bool(w, 1);
    tkr_jsonw_bool(w, 0);
    tkr_jsonw_null(w);
    tkr_jsonw_arr_end(w);
    tkr_jsonw_key(w, "\xc3\xa9\xe2\x82\xac");
    tkr_jsonw_str(w, "key");
    tkr_jsonw_obj_end(w);
}

/* json.dumps(doc, separators=(",", ":")) */
static const char py_compact_ascii[] =
    "{\"ctl\":\"\\u0000\\u0001\\u001f\\u007f\",\"quote\":\"\\\"\\\\/\","
    "\"ws\":\"\\b\\f\\n\\r\\t\",\"uni\":\"\\u00e9\\u20ac\\ud83d\\ude00\","
    "\"empty_obj\":{},\"empty_arr\":[],\"nested\":{\"a\":[{},[],[[]],{\"b\":{}}]},"
    "\"ints\":[-1,0,1,-9223372036854775808,9223372036854775807],"
    "\"lit\":[true,false,null],\"\\u00e9\\u20ac\":\"key\"}";

/* json.dumps(doc, separators=(",", ":"), ensure_ascii=False) */
static const char py_compact_utf8[] =
    "{\"ctl\":\"\\u0000\\u0001\\u001f\x7f\",\"quote\":\"\\\"\\\\/\","
    "\"ws\":\"\\b\\f\\n\\r\\t\",\"uni\":\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\","
    "\"empty_obj\":{},\"empty_arr\":[],\"nested\":{\"a\":[{},[],[[]],{\"b\":{}}]},"
    "\"ints\":[-1,0,1,-9223372036854775808,9223372036854775807],"
    "\"lit\":[true,false,null],\"\xc3\xa9\xe2\x82\xac\":\"key\"}";

/* json.dumps(doc, indent=2) */
static const char py_pretty_ascii[] =
    "{\n"
    "  \"ctl\": \"\\u0000\\u0001\\u001f\\u007f\",\n"
    "  \"quote\": \"\\\"\\\\/\",\n"
    "  \"ws\": \"\\b\\f\\n\\r\\t\",\n"
    "  \"uni\": \"\\u00e9\\u20ac\\ud83d\\ude00\",\n"
    "  \"empty_obj\": {},\n"
    "  \"empty_arr\": [],\n"
    "  \"nested\": {\n"
    "    \"a\": [\n"
    "      {},\n"
    "      [],\n"
    "      [\n"
    "        []\n"
    "      ],\n"
    "      {\n"
    "        \"b\": {}\n"
    "      }\n"
    "    ]\n"
    "  },\n"
    "  \"ints\": [\n"
    "    -1,\n"
    "    0,\n"
    "    1,\n"
    "    -9223372036854775808,\n"
    "    9223372036854775807\n"
    "  ],\n"
    "  \"lit\": [\n"
    "    true,\n"
    "    false,\n"
    "    null\n"
    "  ],\n"
    "  \"\\u00e9\\u20ac\": \"key\"\n"
    "}";

/* json.dumps(doc, indent=2, ensure_ascii=False): py_pretty_ascii with the
 * non-ASCII characters raw. */
static const char py_pretty_utf8[] =
    "{\n"
    "  \"ctl\": \"\\u0000\\u0001\\u001f\x7f\",\n"
    "  \"quote\": \"\\\"\\\\/\",\n"
    "  \"ws\": \"\\b\\f\\n\\r\\t\",\n"
    "  \"uni\": \"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\",\n"
    "  \"empty_obj\": {},\n"
    "  \"empty_arr\": [],\n"
    "  \"nested\": {\n"
    "    \"a\": [\n"
    "      {},\n"
    "      [],\n"
    "      [\n"
    "        []\n"
    "      ],\n"
    "      {\n"
    "        \"b\": {}\n"
    "      }\n"
    "    ]\n"
    "  },\n"
    "  \"ints\": [\n"
    "    -1,\n"
    "    0,\n"
    "    1,\n"
    "    -9223372036854775808,\n"
    "    9223372036854775807\n"
    "  ],\n"
    "  \"lit\": [\n"
    "    true,\n"
    "    false,\n"
    "    null\n"
    "  ],\n"
    "  \"\xc3\xa9\xe2\x82\xac\": \"key\"\n"
    "}";

static void check_written(unsigned flags, const char *expect)
{
    char buf[1024];
    tkr_jsonw_t w;
    size_t len = 0;

    memset(buf, 'x', sizeof(buf));
    tkr_jsonw_init(&w, buf, sizeof(buf), flags);
    write_doc(&w);
    assert_int_equal(tkr_jsonw_finish(&w, &len), 0);
    assert_int_equal(len, strlen(expect));
    assert_string_equal(buf, expect);
}

static void test_writer_ascii_matches_python_json_dumps_compact(void **state)
{
    (void)state;
    check_written(TKR_JSONW_ASCII, py_compact_ascii);
}

static void test_writer_utf8_matches_python_ensure_ascii_false(void **state)
{
    (void)state;
    check_written(0, py_compact_utf8);
}

static void test_writer_pretty_matches_python_indent_2(void **state)
{
    (void)state;
    check_written(TKR_JSONW_PRETTY | TKR_JSONW_ASCII, py_pretty_ascii);
    check_written(TKR_JSONW_PRETTY, py_pretty_utf8);
}

/* json.dumps of scalars and of a top-level array of them */
static void test_writer_scalars_and_arrays_match_python(void **state)
{
    char buf[128];
    tkr_jsonw_t w;
    size_t len;
    (void)state;

    /* json.dumps("\u2028/\x7f") -> "\u2028/\u007f" */
    tkr_jsonw_init(&w, buf, sizeof(buf), TKR_JSONW_ASCII);
    tkr_jsonw_str(&w, "\xe2\x80\xa8/\x7f");
    assert_int_equal(tkr_jsonw_finish(&w, &len), 0);
    assert_string_equal(buf, "\"\\u2028/\\u007f\"");
    /* json.dumps([None, "", -5], separators=(",", ":")) -> [null,"",-5] */
    tkr_jsonw_init(&w, buf, sizeof(buf), TKR_JSONW_ASCII);
    tkr_jsonw_arr_begin(&w);
    tkr_jsonw_str(&w, NULL);
    tkr_jsonw_str(&w, "");
    tkr_jsonw_i64(&w, -5);
    tkr_jsonw_arr_end(&w);
    assert_int_equal(tkr_jsonw_finish(&w, &len), 0);
    assert_string_equal(buf, "[null,\"\",-5]");
    /* json.dumps({}, indent=2) -> {} ; json.dumps([], indent=2) -> [] */
    tkr_jsonw_init(&w, buf, sizeof(buf), TKR_JSONW_PRETTY);
    tkr_jsonw_obj_begin(&w);
    tkr_jsonw_obj_end(&w);
    assert_int_equal(tkr_jsonw_finish(&w, &len), 0);
    assert_string_equal(buf, "{}");
    /* json.dumps({"a": [1]}, indent=2) */
    tkr_jsonw_init(&w, buf, sizeof(buf), TKR_JSONW_PRETTY);
    tkr_jsonw_obj_begin(&w);
    tkr_jsonw_key(&w, "a");
    tkr_jsonw_arr_begin(&w);
    tkr_jsonw_i64(&w, 1);
    tkr_jsonw_arr_end(&w);
    tkr_jsonw_obj_end(&w);
    assert_int_equal(tkr_jsonw_finish(&w, &len), 0);
    assert_string_equal(buf, "{\n  \"a\": [\n    1\n  ]\n}");
}

static void test_writer_buffer_too_small_is_sticky(void **state)
{
    char buf[64];
    tkr_jsonw_t w;
    size_t len = 99, need = strlen("{\"abc\":[1,2,3]}");
    size_t size;
    (void)state;

    for (size = 1; size <= need + 1; size++) {
        memset(buf, 'x', sizeof(buf));
        tkr_jsonw_init(&w, buf, size, 0);
        tkr_jsonw_obj_begin(&w);
        tkr_jsonw_key(&w, "abc");
        tkr_jsonw_arr_begin(&w);
        tkr_jsonw_i64(&w, 1);
        tkr_jsonw_i64(&w, 2);
        tkr_jsonw_i64(&w, 3);
        tkr_jsonw_arr_end(&w);
        tkr_jsonw_obj_end(&w);
        if (size <= need) {
            /* the terminator needs a byte too: need + 1 is the minimum */
            assert_int_equal(tkr_jsonw_finish(&w, &len), TKR_E_BUFFER_TOO_SMALL);
            assert_int_equal(len, need); /* what it needs, without the NUL */
            assert_int_equal(buf[0], '\0');
            assert_int_equal(buf[size], 'x'); /* nothing past the buffer */
        } else {
            assert_int_equal(tkr_jsonw_finish(&w, &len), 0);
            assert_int_equal(len, need);
            assert_string_equal(buf, "{\"abc\":[1,2,3]}");
        }
    }
    /* sticky: once short, later small writes that would fit do not resume */
    tkr_jsonw_init(&w, buf, 4, 0);
    tkr_jsonw_str(&w, "long string");
    tkr_jsonw_finish(&w, &len);
    tkr_jsonw_init(&w, buf, 6, 0);
    tkr_jsonw_arr_begin(&w);
    tkr_jsonw_str(&w, "long string");
    tkr_jsonw_i64(&w, 1);
    tkr_jsonw_arr_end(&w);
    assert_int_equal(w.err, TKR_E_BUFFER_TOO_SMALL);
    assert_int_equal(tkr_jsonw_finish(&w, &len), TKR_E_BUFFER_TOO_SMALL);
    assert_int_equal(len, strlen("[\"long string\",1]"));
    assert_int_equal(buf[0], '\0');
    /* a real error outranks the shortage: no bigger buffer would help */
    tkr_jsonw_init(&w, buf, 4, 0);
    tkr_jsonw_str(&w, "long string");
    tkr_jsonw_key(&w, "k");
    assert_int_equal(tkr_jsonw_finish(&w, &len), TKR_E_JSON);
    assert_int_equal(len, 0);
}

static int build(unsigned flags, void (*fn)(tkr_jsonw_t *))
{
    char buf[128];
    tkr_jsonw_t w;
    size_t len;

    tkr_jsonw_init(&w, buf, sizeof(buf), flags);
    fn(&w);
    return tkr_jsonw_finish(&w, &len);
}

static void open_only(tkr_jsonw_t *w) { tkr_jsonw_obj_begin(w); }
static void close_only(tkr_jsonw_t *w) { tkr_jsonw_arr_end(w); }
static void extra_close(tkr_jsonw_t *w)
{
    tkr_jsonw_arr_begin(w);
    tkr_jsonw_arr_end(w);
    tkr_jsonw_arr_end(w);
}
static void dangling_key(tkr_jsonw_t *w)
{
    tkr_jsonw_obj_begin(w);
    tkr_jsonw_key(w, "a");
    tkr_jsonw_obj_end(w);
}
static void obj_closed_as_array(tkr_jsonw_t *w)
{
    tkr_jsonw_obj_begin(w);
    tkr_jsonw_arr_end(w);
}
static void arr_closed_as_object(tkr_jsonw_t *w)
{
    tkr_jsonw_arr_begin(w);
    tkr_jsonw_i64(w, 1);
    tkr_jsonw_obj_end(w);
}
static void value_without_key(tkr_jsonw_t *w)
{
    tkr_jsonw_obj_begin(w);
    tkr_jsonw_i64(w, 1);
    tkr_jsonw_obj_end(w);
}
static void key_in_array(tkr_jsonw_t *w)
{
    tkr_jsonw_arr_begin(w);
    tkr_jsonw_key(w, "a");
    tkr_jsonw_i64(w, 1);
    tkr_jsonw_arr_end(w);
}
static void key_after_key(tkr_jsonw_t *w)
{
    tkr_jsonw_obj_begin(w);
    tkr_jsonw_key(w, "a");
    tkr_jsonw_key(w, "b");
    tkr_jsonw_i64(w, 1);
    tkr_jsonw_obj_end(w);
}
static void two_roots(tkr_jsonw_t *w)
{
    tkr_jsonw_obj_begin(w);
    tkr_jsonw_obj_end(w);
    tkr_jsonw_obj_begin(w);
    tkr_jsonw_obj_end(w);
}
static void key_at_root(tkr_jsonw_t *w)
{
    tkr_jsonw_key(w, "a");
    tkr_jsonw_i64(w, 1);
}

static void test_writer_reports_unbalanced_nesting(void **state)
{
    (void)state;
    assert_int_equal(build(0, open_only), TKR_E_JSON);
    assert_int_equal(build(0, close_only), TKR_E_JSON);
    assert_int_equal(build(0, extra_close), TKR_E_JSON);
    assert_int_equal(build(0, dangling_key), TKR_E_JSON);
    assert_int_equal(build(0, obj_closed_as_array), TKR_E_JSON);
    assert_int_equal(build(0, arr_closed_as_object), TKR_E_JSON);
    assert_int_equal(build(TKR_JSONW_PRETTY, obj_closed_as_array), TKR_E_JSON);
}

static void test_writer_rejects_misplaced_keys_and_values(void **state)
{
    (void)state;
    assert_int_equal(build(0, value_without_key), TKR_E_JSON);
    assert_int_equal(build(0, key_in_array), TKR_E_JSON);
    assert_int_equal(build(0, key_after_key), TKR_E_JSON);
    assert_int_equal(build(0, two_roots), TKR_E_JSON);
    assert_int_equal(build(0, key_at_root), TKR_E_JSON);
}

static void test_writer_depth_limit_matches_reader(void **state)
{
    char buf[256];
    tkr_jsonw_t w;
    size_t len;
    int depth, i;
    (void)state;

    for (depth = 31; depth <= 33; depth++) {
        tkr_jsonw_init(&w, buf, sizeof(buf), 0);
        for (i = 0; i < depth; i++)
            tkr_jsonw_arr_begin(&w);
        for (i = 0; i < depth; i++)
            tkr_jsonw_arr_end(&w);
        if (depth <= TKR_JSON_DEPTH_MAX) {
            tkr_json_t doc;
            assert_int_equal(tkr_jsonw_finish(&w, &len), 0);
            assert_int_equal(len, (size_t)(2 * depth));
            assert_int_equal(parse_n(&doc, buf, len), 0);
        } else {
            assert_int_equal(tkr_jsonw_finish(&w, &len), TKR_E_JSON_DEPTH);
        }
    }
}

static void test_writer_rejects_invalid_utf8(void **state)
{
    static const char *const bad[] = {
        "\xc0\x80", "\xed\xa0\x80", "\xf5\x80\x80\x80", "\xe2\x82", "\x80",
        "a\xff", "\xf4\x90\x80\x80",
    };
    char buf[64];
    tkr_jsonw_t w;
    size_t i, len;
    (void)state;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        tkr_jsonw_init(&w, buf, sizeof(buf), 0);
        tkr_jsonw_str(&w, bad[i]);
        assert_int_equal(tkr_jsonw_finish(&w, &len), TKR_E_UTF8);
        tkr_jsonw_init(&w, buf, sizeof(buf), TKR_JSONW_ASCII);
        tkr_jsonw_obj_begin(&w);
        tkr_jsonw_key(&w, bad[i]);
        tkr_jsonw_i64(&w, 1);
        tkr_jsonw_obj_end(&w);
        assert_int_equal(tkr_jsonw_finish(&w, &len), TKR_E_UTF8);
        assert_int_equal(buf[0], '\0');
    }
}

static void test_writer_invalid_arguments(void **state)
{
    char buf[8];
    tkr_jsonw_t w;
    size_t len;
    (void)state;

    tkr_jsonw_init(&w, NULL, 8, 0);
    tkr_jsonw_null(&w);
    assert_int_equal(tkr_jsonw_finish(&w, &len), TKR_E_INVALID_ARG);
    tkr_jsonw_init(&w, buf, 0, 0);
    assert_int_equal(tkr_jsonw_finish(&w, &len), TKR_E_INVALID_ARG);
    tkr_jsonw_init(&w, buf, sizeof(buf), 0);
    tkr_jsonw_strn(&w, NULL, 3);
    assert_int_equal(tkr_jsonw_finish(&w, &len), TKR_E_INVALID_ARG);
}

static void reemit(const char *in, unsigned flags, const char *expect)
{
    char buf[1024];
    tkr_json_t doc;
    tkr_jsonw_t w;
    size_t len;

    assert_int_equal(parse(&doc, in), 0);
    tkr_jsonw_init(&w, buf, sizeof(buf), flags);
    tkr_jsonw_value(&w, &doc, 0);
    assert_int_equal(tkr_jsonw_finish(&w, &len), 0);
    assert_string_equal(buf, expect);
    assert_int_equal(len, strlen(expect));
}

static void test_writer_value_reemits_parsed_document(void **state)
{
    (void)state;
    /* Python's own compact output is a fixed point in every mode */
    reemit(py_compact_ascii, TKR_JSONW_ASCII, py_compact_ascii);
    reemit(py_compact_ascii, 0, py_compact_utf8);
    reemit(py_compact_utf8, TKR_JSONW_ASCII, py_compact_ascii);
    reemit(py_compact_ascii, TKR_JSONW_PRETTY | TKR_JSONW_ASCII, py_pretty_ascii);
    reemit(py_pretty_utf8, 0, py_compact_utf8);
    /* spacing normalized, escapes canonical as Python's; numbers as written */
    reemit(" { \"a\" : [ 1 , -2 , 3.5e10 , true , false , null ] ,\n"
           "   \"b\" : { \"c\" : \"d\\u0022\\/\\u000A\" } , \"e\" : [ ] } ",
           TKR_JSONW_ASCII,
           "{\"a\":[1,-2,3.5e10,true,false,null],\"b\":{\"c\":\"d\\\"/\\n\"},\"e\":[]}");
    reemit(rfc8259_image, TKR_JSONW_ASCII,
           "{\"Image\":{\"Width\":800,\"Height\":600,\"Title\":\"View from 15th Floor\","
           "\"Thumbnail\":{\"Url\":\"http://www.example.com/image/481989943\","
           "\"Height\":125,\"Width\":100},\"Animated\":false,"
           "\"IDs\":[116,943,234,38793]}}");
}

static void test_writer_value_embeds_subtree(void **state)
{
    char buf[128];
    tkr_json_t doc;
    tkr_jsonw_t w;
    size_t len;
    (void)state;

    assert_int_equal(parse(&doc, "{\"keep\":{\"x\":[1,{\"y\":\"\\u00e9\"}]},\"drop\":2}"), 0);
    tkr_jsonw_init(&w, buf, sizeof(buf), TKR_JSONW_ASCII);
    tkr_jsonw_obj_begin(&w);
    tkr_jsonw_key(&w, "first");
    tkr_jsonw_i64(&w, 0);
    tkr_jsonw_key(&w, "policy");
    tkr_jsonw_value(&w, &doc, tkr_json_find(&doc, 0, "keep"));
    tkr_jsonw_key(&w, "last");
    tkr_jsonw_value(&w, &doc, tkr_json_find(&doc, 0, "drop"));
    tkr_jsonw_obj_end(&w);
    assert_int_equal(tkr_jsonw_finish(&w, &len), 0);
    assert_string_equal(buf, "{\"first\":0,\"policy\":{\"x\":[1,{\"y\":\"\\u00e9\"}]},\"last\":2}");
    /* an invalid token index is an argument error */
    tkr_jsonw_init(&w, buf, sizeof(buf), 0);
    tkr_jsonw_value(&w, &doc, 999);
    assert_int_equal(tkr_jsonw_finish(&w, &len), TKR_E_INVALID_ARG);
}

static void test_writer_raw_is_copied_verbatim(void **state)
{
    char buf[64];
    tkr_jsonw_t w;
    size_t len;
    (void)state;

    tkr_jsonw_init(&w, buf, sizeof(buf), 0);
    tkr_jsonw_obj_begin(&w);
    tkr_jsonw_key(&w, "a");
    tkr_jsonw_raw(&w, "{\"b\":1.50}", 10);
    tkr_jsonw_key(&w, "c");
    tkr_jsonw_raw(&w, "2", 1);
    tkr_jsonw_obj_end(&w);
    assert_int_equal(tkr_jsonw_finish(&w, &len), 0);
    assert_string_equal(buf, "{\"a\":{\"b\":1.50},\"c\":2}");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_accepts_rfc8259_s13_image_example),
        cmocka_unit_test(test_parse_accepts_rfc8259_s13_array_example),
        cmocka_unit_test(test_parse_accepts_rfc8259_grammar_corners),
        cmocka_unit_test(test_parse_rejects_trailing_data),
        cmocka_unit_test(test_parse_rejects_missing_comma),
        cmocka_unit_test(test_parse_rejects_missing_colon),
        cmocka_unit_test(test_parse_rejects_trailing_comma_in_object),
        cmocka_unit_test(test_parse_rejects_trailing_comma_in_array),
        cmocka_unit_test(test_parse_rejects_duplicate_key_top_level),
        cmocka_unit_test(test_parse_rejects_duplicate_key_nested),
        cmocka_unit_test(test_parse_rejects_duplicate_keys_differing_only_by_escaping),
        cmocka_unit_test(test_parse_rejects_bad_escapes),
        cmocka_unit_test(test_parse_rejects_lone_high_surrogate),
        cmocka_unit_test(test_parse_rejects_lone_low_surrogate),
        cmocka_unit_test(test_parse_rejects_invalid_utf8),
        cmocka_unit_test(test_parse_rejects_raw_control_char_in_string),
        cmocka_unit_test(test_parse_rejects_leading_zeros),
        cmocka_unit_test(test_parse_rejects_malformed_numbers),
        cmocka_unit_test(test_parse_rejects_nan_and_infinity),
        cmocka_unit_test(test_parse_rejects_bad_literals),
        cmocka_unit_test(test_parse_rejects_single_quotes),
        cmocka_unit_test(test_parse_rejects_non_string_keys),
        cmocka_unit_test(test_parse_rejects_unclosed_and_unbalanced),
        cmocka_unit_test(test_parse_rejects_non_json_whitespace),
        cmocka_unit_test(test_parse_depth_32_accepted_33_rejected),
        cmocka_unit_test(test_parse_depth_counts_objects_and_arrays),
        cmocka_unit_test(test_parse_rejects_non_container_root),
        cmocka_unit_test(test_parse_reports_too_few_tokens),
        cmocka_unit_test(test_parse_rejects_text_over_size_limit),
        cmocka_unit_test(test_parse_invalid_arguments),
        cmocka_unit_test(test_find_compares_keys_after_unescaping),
        cmocka_unit_test(test_get_str_unescapes_to_utf8),
        cmocka_unit_test(test_get_str_rejects_escaped_nul),
        cmocka_unit_test(test_get_str_buffer_and_type_errors),
        cmocka_unit_test(test_get_i64_range_and_type),
        cmocka_unit_test(test_get_bool),
        cmocka_unit_test(test_count_child_skip_over_nested_values),
        cmocka_unit_test(test_type_reports_each_kind),
        cmocka_unit_test(test_str_eq_and_raw),
        cmocka_unit_test(test_writer_ascii_matches_python_json_dumps_compact),
        cmocka_unit_test(test_writer_utf8_matches_python_ensure_ascii_false),
        cmocka_unit_test(test_writer_pretty_matches_python_indent_2),
        cmocka_unit_test(test_writer_scalars_and_arrays_match_python),
        cmocka_unit_test(test_writer_buffer_too_small_is_sticky),
        cmocka_unit_test(test_writer_reports_unbalanced_nesting),
        cmocka_unit_test(test_writer_rejects_misplaced_keys_and_values),
        cmocka_unit_test(test_writer_depth_limit_matches_reader),
        cmocka_unit_test(test_writer_rejects_invalid_utf8),
        cmocka_unit_test(test_writer_invalid_arguments),
        cmocka_unit_test(test_writer_value_reemits_parsed_document),
        cmocka_unit_test(test_writer_value_embeds_subtree),
        cmocka_unit_test(test_writer_raw_is_copied_verbatim),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
