/* test_authjwt.c — the JWT authenticator's rules.
 *
 * Sources: the EPICS PVXS JWT quick start (its settings table, its issuer's
 * answers, its tokens' claims), RFC 8259 §7 (escaping), RFC 3986 §2
 * (percent-encoding), RFC 7519 §4.1 (claims), RFC 8725 §3.1 (alg pinning),
 * and format_ref.h, the response format's definition run by brute force. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "test_util.h"

#include "format_ref.h"
#include "tkr_port_posix.h"
#include "tokenroll/authjwt.h"
#include "tokenroll/b64url.h"
#include "tokenroll/certwrite.h"
#include "tokenroll/error.h"
#include "tokenroll/jwks.h"
#include "tokenroll/jwt.h"

#include <mbedtls/x509_crt.h>

#define VEC "tests/vectors/"
#define FMT(buf, ...) assert_true(snprintf(buf, sizeof(buf), __VA_ARGS__) < (int)sizeof(buf))

/* The quick start's settings and its issuer's answers, verbatim. */
#define SEED_FORMAT "{ *, \"valid\": \"#response#\" }"
#define SEED_VALID                                                              \
    "{\"claims\":{\"aud\":\"default\",\"exp\":1755150736,\"iat\":1755147136,"   \
    "\"iss\":\"http://localhost:8080/default\",\"jti\":\"c40d1fc2-40f2-4bf9-"   \
    "a84a-fff5fadea38a\",\"nbf\":1755147136,\"sub\":\"softioc\"},\"header\":{"  \
    "\"alg\":\"RS256\",\"kid\":\"demo-key-1\",\"typ\":\"JWT\"},\"valid\":true}"
#define SEED_ISS "http://localhost:8080/default"
#define SEED_URI "http://localhost:8080/default/verify"
#define SEED_NOW 1755147200

/* The diagnostics of the last call: pass WHY, read dg.msg and dg.name. */
static tkr_diag_t dg;
#define WHY (tkr_diag_clear(&dg), &dg)

static tkr_posix_t port_ctx = {TKR_LOG_ERROR, -1};
static tkr_port_t port;
static tkr_authjwt_format_t fmt;
static tkr_jwt_t jwt;
static mbedtls_pk_context rsa_a, rsa_b, p256_a, p384;

static int setup(void **state)
{
    (void)state;
    tkr_port_posix_init(&port, &port_ctx);
    load_key_with(&rsa_a, VEC "keys/rsa2048_a.pem", &port);
    load_key_with(&rsa_b, VEC "keys/rsa2048_b.pem", &port);
    load_key_with(&p256_a, VEC "keys/p256_a.pem", &port);
    load_key_with(&p384, VEC "keys/p384.pem", &port);
    tkr_jwt_init(&jwt);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    mbedtls_pk_free(&rsa_a);
    mbedtls_pk_free(&rsa_b);
    mbedtls_pk_free(&p256_a);
    mbedtls_pk_free(&p384);
    tkr_jwt_free(&jwt);
    return 0;
}

static int compile(const char *format)
{
    return tkr_authjwt_format_compile(&fmt, format, strlen(format), NULL);
}

/* The verifier's verdict on body under format (status 200). */
static int verdict(const char *format, const char *body)
{
    assert_int_equal(compile(format), 0);
    return tkr_authjwt_response_check(&fmt, 0, 200, body, strlen(body), NULL);
}

/* The capture as a string, or "(no match)". */
static const char *capture(const char *format, const char *body)
{
    static char out[512];
    size_t off, n;

    assert_int_equal(compile(format), 0);
    if (tkr_authjwt_format_match(&fmt, body, strlen(body), &off, &n) != 0)
        return "(no match)";
    assert_true(off + n <= strlen(body) && n < sizeof(out));
    memcpy(out, body + off, n);
    out[n] = '\0';
    return out;
}

/* ---- the response format: the quick start ---- */

static void test_seed_settings_accept_seed_issuer_valid_true_unquoted(void **state)
{
    (void)state;
    assert_string_equal(capture(SEED_FORMAT, SEED_VALID), "true");
    assert_int_equal(verdict(SEED_FORMAT, SEED_VALID), 0);
}

static void test_seed_settings_deny_seed_issuer_valid_false(void **state)
{
    (void)state;
    /* What the issuer answers for a bad token: jsonify(valid=False, error=..) */
    assert_int_equal(verdict(SEED_FORMAT, "{\"error\":\"Signature verification "
                                          "failed\",\"valid\":false}"),
                     TKR_E_DENIED);
    /* Flask may pretty-print; whitespace is ignored on both sides. */
    assert_int_equal(verdict(SEED_FORMAT, "{\n  \"error\": \"Signature has "
                                          "expired\",\n  \"valid\": false\n}\n"),
                     TKR_E_DENIED);
    assert_int_equal(verdict(SEED_FORMAT, "{\n  \"claims\": {\"sub\": \"x\"},\n"
                                          "  \"valid\": true\n}\n"),
                     0);
}

static void test_seed_table_payload_format(void **state)
{
    const char *f = "{ \"payload\": { * },\n  \"valid\": #response# }";

    (void)state;
    assert_int_equal(verdict(f, "{\"payload\":{\"sub\":\"a\",\"n\":{\"x\":1}},"
                                "\"valid\":true}"), 0);
    assert_int_equal(verdict(f, "{\"payload\":{},\"valid\":\"OK\"}"), 0);
    assert_int_equal(verdict(f, "{\"payload\":{\"sub\":\"a\"},\"valid\":false}"),
                     TKR_E_DENIED);
    assert_int_equal(verdict(f, "{\"data\":{},\"valid\":true}"), TKR_E_NO_MATCH);
}

static void test_seed_table_default_raw_response(void **state)
{
    static const char *const yes[] = {"valid", "ok", "true", "t", "yes", "y", "1",
                                      "VALID", "Ok", "TRUE", "T", "Yes", "Y",
                                      "true\n", "  yes ", "\"true\"", "\"OK\"\r\n"};
    static const char *const no[] = {"false", "no", "0", "", "   ", "invalid",
                                     "truee", "yess", "tru", "1.0", "\"\"",
                                     "\"true", "true\"", "{\"valid\":true}",
                                     "valid!", "okay", "-1", "null"};
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
        if (verdict("#response#", yes[i]) != 0)
            fail_msg("'%s' should be valid", yes[i]);
    }
    for (i = 0; i < sizeof(no) / sizeof(no[0]); i++) {
        if (verdict("#response#", no[i]) != TKR_E_DENIED)
            fail_msg("'%s' should be denied", no[i]);
    }
}

static void test_word_valid_ignores_whitespace_inside(void **state)
{
    (void)state;
    assert_int_equal(tkr_authjwt_word_valid("t r u e", 7), 1);
    assert_int_equal(tkr_authjwt_word_valid("YeS", 3), 1);
    assert_int_equal(tkr_authjwt_word_valid("yes\0", 4), 0);
    assert_int_equal(tkr_authjwt_word_valid("validvalid", 10), 0);
    assert_int_equal(tkr_authjwt_word_valid(NULL, 0), 0);
}

/* ---- the response format: semantics ---- */

static void test_quotes_around_capture_optional_both_ways(void **state)
{
    (void)state;
    assert_string_equal(capture("{\"v\":\"#response#\"}", "{\"v\":\"yes\"}"), "yes");
    assert_string_equal(capture("{\"v\":\"#response#\"}", "{\"v\":yes}"), "yes");
    assert_string_equal(capture("{\"v\":#response#}", "{\"v\":\"yes\"}"), "yes");
    assert_string_equal(capture("{\"v\":#response#}", "{\"v\":yes}"), "yes");
    /* one pair only */
    assert_string_equal(capture("{\"v\":#response#}", "{\"v\":\"\"yes\"\"}"), "\"yes\"");
}

static void test_unbalanced_quotes_are_literal(void **state)
{
    (void)state;
    /* A quote on one side of the capture is ordinary text. */
    assert_string_equal(capture("{\"v\":\"#response#}", "{\"v\":\"true}"), "true");
    assert_string_equal(capture("{\"v\":\"#response#}", "{\"v\":true}"), "(no match)");
    assert_string_equal(capture("{\"v\":#response#\"}", "{\"v\":true\"}"), "true");
    /* A quote on one side of the answer is not stripped: not a valid word. */
    assert_int_equal(verdict("{\"v\":\"#response#\"}", "{\"v\":\"true}"), TKR_E_DENIED);
    assert_int_equal(verdict("{\"v\":\"#response#\"}", "{\"v\":true\"}"), TKR_E_DENIED);
    /* A lone quote in the format elsewhere is literal too. */
    assert_string_equal(capture("\"{\"v\":#response#}", "\"{\"v\":1}"), "1");
    assert_string_equal(capture("\"{\"v\":#response#}", "{\"v\":1}"), "(no match)");
}

static void test_capture_is_shortest_last_member_wins(void **state)
{
    (void)state;
    /* A nested "valid" earlier in the answer does not decide. */
    assert_string_equal(capture(SEED_FORMAT, "{\"claims\":{\"x\":1,\"valid\":true},"
                                             "\"valid\":false}"), "false");
    assert_int_equal(verdict(SEED_FORMAT, "{\"claims\":{\"x\":1,\"valid\":true},"
                                          "\"valid\":false}"), TKR_E_DENIED);
    /* A star after the capture: the value up to the first comma. */
    assert_string_equal(capture("{\"valid\": #response#, *}",
                                "{\"valid\":true,\"x\":{\"a\":1},\"y\":2}"), "true");
    /* Stars on both sides: the shortest between the two pieces. */
    assert_string_equal(capture("*<v>#response#</v>*",
                                "a<v>long</v><v>x<v>ok</v>b</v>"), "ok");
    /* Equal lengths: the first. */
    assert_string_equal(capture("*<#response#>*", "<ab><cd>"), "ab");
}

static void test_format_is_anchored_at_both_ends(void **state)
{
    (void)state;
    assert_string_equal(capture("{\"v\":#response#}", "{\"v\":1}x"), "(no match)");
    assert_string_equal(capture("{\"v\":#response#}", "x{\"v\":1}"), "(no match)");
    assert_string_equal(capture("{\"v\":#response#}", "{\"v\":1"), "(no match)");
    assert_string_equal(capture("{\"v\":#response#}", ""), "(no match)");
    assert_string_equal(capture("#response#", ""), "");
    /* Text before and after the capture must not overlap. */
    assert_string_equal(capture("ab#response#ba", "aba"), "(no match)");
    assert_string_equal(capture("ab#response#ba", "abba"), "");
    assert_int_equal(verdict(SEED_FORMAT, "<html><body>valid: true</body></html>"),
                     TKR_E_NO_MATCH);
}

static void test_whitespace_ignored_in_format_and_response(void **state)
{
    (void)state;
    assert_string_equal(capture("\t{ \"valid\" :\n #response# \r}\n",
                                "{\"valid\":true}"), "true");
    assert_string_equal(capture("{\"valid\":#response#}",
                                " { \"valid\" : \t true \n } \n"), "true");
    /* "# response #" with spaces is still the capture (all whitespace goes). */
    assert_string_equal(capture("{\"v\":# response #}", "{\"v\":1}"), "1");
}

static void test_compile_refusals(void **state)
{
    char big[TKR_AUTHJWT_FORMAT_MAX + 16];

    (void)state;
    assert_int_equal(tkr_authjwt_format_compile(&fmt, "{\"v\":true}", 10, WHY),
                     TKR_E_INVALID_ARG);
    assert_non_null(strstr(dg.msg, "no #response#"));
    assert_int_equal(compile(""), TKR_E_INVALID_ARG);
    assert_int_equal(tkr_authjwt_format_compile(&fmt, "#response##response#", 20, WHY),
                     TKR_E_INVALID_ARG);
    assert_non_null(strstr(dg.msg, "more than one"));
    assert_int_equal(compile("{\"a\":#response#,\"b\":#response#}"), TKR_E_INVALID_ARG);
    assert_int_equal(compile("#response#response#"), TKR_E_INVALID_ARG);
    assert_int_equal(tkr_authjwt_format_compile(&fmt, "*#response#", 11, WHY),
                     TKR_E_INVALID_ARG);
    assert_non_null(strstr(dg.msg, "'*'"));
    assert_int_equal(compile("#response#*"), TKR_E_INVALID_ARG);
    assert_int_equal(compile("{*\"#response#\"}"), TKR_E_INVALID_ARG);
    assert_int_equal(compile("{* #response#}"), TKR_E_INVALID_ARG);
    assert_int_equal(tkr_authjwt_format_compile(&fmt, "#response#\0x", 12, WHY),
                     TKR_E_INVALID_ARG);
    assert_non_null(strstr(dg.msg, "NUL"));
    /* Length counts what is left once whitespace goes and stars collapse. */
    memset(big, 'x', sizeof(big));
    memcpy(big, "#response#", 10);
    assert_int_equal(tkr_authjwt_format_compile(&fmt, big, TKR_AUTHJWT_FORMAT_MAX, NULL), 0);
    assert_int_equal(tkr_authjwt_format_compile(&fmt, big, TKR_AUTHJWT_FORMAT_MAX + 1, WHY),
                     TKR_E_TOO_LARGE);
    memset(big + 10, ' ', sizeof(big) - 10);
    assert_int_equal(tkr_authjwt_format_compile(&fmt, big, sizeof(big), NULL), 0);
    memset(big + 10, '*', sizeof(big) - 10);
    big[10] = 'x';
    assert_int_equal(tkr_authjwt_format_compile(&fmt, big, sizeof(big), NULL), 0);
    assert_int_equal(tkr_authjwt_format_compile(NULL, "#response#", 10, NULL),
                     TKR_E_INVALID_ARG);
}

/* Many stars, long near-miss pieces, megabytes of answer: the time stays
 * linear. A backtracking glob (or a naive search per piece) needs
 * n x m steps here: hundreds of millions, seconds; we take a few n. */
static void test_adversarial_formats_run_in_linear_time(void **state)
{
    static char resp[4 << 20];
    char f[TKR_AUTHJWT_FORMAT_MAX + 1];
    size_t i, o = 0, off, n;
    clock_t t0;
    double secs;

    (void)state;
    memset(resp, 'a', sizeof(resp));
    /* 1: a*a*a*...*a#response#b : 120 stars before the capture */
    for (i = 0; i < 120; i++) {
        f[o++] = 'a';
        f[o++] = '*';
    }
    memcpy(f + o, "a#response#b", 13);
    t0 = clock();
    assert_int_equal(compile(f), 0);
    assert_int_equal(tkr_authjwt_format_match(&fmt, resp, sizeof(resp), &off, &n),
                     TKR_E_NO_MATCH);
    resp[sizeof(resp) - 1] = 'b';
    assert_int_equal(tkr_authjwt_format_match(&fmt, resp, sizeof(resp), &off, &n), 0);
    assert_int_equal(n, 0);  /* the last 'a' borders the 'b' */
    /* 2: long pieces that almost match everywhere: x*aaa...ab*aaa...ab#response#c */
    o = 0;
    f[o++] = 'x';
    f[o++] = '*';
    for (i = 0; i < 100; i++)
        f[o++] = 'a';
    f[o++] = 'b';
    f[o++] = '*';
    for (i = 0; i < 100; i++)
        f[o++] = 'a';
    memcpy(f + o, "b#response#c", 13);
    resp[0] = 'x';
    resp[sizeof(resp) - 1] = 'c';
    assert_int_equal(compile(f), 0);
    assert_int_equal(tkr_authjwt_format_match(&fmt, resp, sizeof(resp), &off, &n),
                     TKR_E_NO_MATCH);
    /* 3: stars on both sides of the capture, every position a candidate */
    assert_int_equal(compile("*a#response#a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a"), 0);
    resp[0] = 'a';
    resp[sizeof(resp) - 1] = 'a';
    assert_int_equal(tkr_authjwt_format_match(&fmt, resp, sizeof(resp), &off, &n), 0);
    assert_int_equal(n, 0);
    secs = (double)(clock() - t0) / CLOCKS_PER_SEC;
    print_message("    5 matches over 4 MiB each: %.3f s CPU\n", secs);
    assert_true(secs < 3.0);
}

/* Best of three CPU times of one failing match over resp with the piece
 * x* a^L b #response# c: a search that is not linear in the response for
 * any format pays L times more for L = 200 than for L = 8. */
static double piece_search_secs(const char *resp, size_t len, size_t L)
{
    char f[TKR_AUTHJWT_FORMAT_MAX + 1];
    double best = 1e9;
    size_t i, off, n;
    int run;

    f[0] = 'x';
    f[1] = '*';
    for (i = 0; i < L; i++)
        f[2 + i] = 'a';
    memcpy(f + 2 + L, "b#response#c", 13);
    assert_int_equal(compile(f), 0);
    for (run = 0; run < 3; run++) {
        clock_t t0 = clock();
        double t;
        assert_int_equal(tkr_authjwt_format_match(&fmt, resp, len, &off, &n),
                         TKR_E_NO_MATCH);
        t = (double)(clock() - t0) / CLOCKS_PER_SEC;
        if (t < best)
            best = t;
    }
    return best;
}

static void test_match_time_does_not_grow_with_piece_length(void **state)
{
    static char resp[4 << 20];
    double short_piece, long_piece;

    (void)state;
    memset(resp, 'a', sizeof(resp));
    resp[0] = 'x';
    resp[sizeof(resp) - 1] = 'c';
    short_piece = piece_search_secs(resp, sizeof(resp), 8);
    long_piece = piece_search_secs(resp, sizeof(resp), 200);
    print_message("    4 MiB, piece of 8: %.4f s, piece of 200: %.4f s\n",
                  short_piece, long_piece);
    assert_true(long_piece < 4 * short_piece + 0.01);
}

/* Random formats and answers over a small alphabet, against the reference:
 * match or not, and the capture's exact place. */
static void test_matcher_agrees_with_brute_force_definition(void **state)
{
    static const char palpha[] = "ab\"* ";
    static const char ralpha[] = "ab\" ";
    char f[40], r[40];
    unsigned long x = 12345;
    ref_result_t ref;
    size_t i, fn, rn, off, n, cases, matched = 0, compiled = 0;

    (void)state;
    for (cases = 0; cases < 300000; cases++) {
        size_t before, after;
        x = x * 6364136223846793005ul + 1442695040888963407ul;
        before = (x >> 33) % 6;
        after = (x >> 40) % 6;
        fn = 0;
        for (i = 0; i < before; i++) {
            x = x * 6364136223846793005ul + 1442695040888963407ul;
            f[fn++] = palpha[(x >> 33) % 5];
        }
        memcpy(f + fn, "#response#", 10);
        fn += 10;
        for (i = 0; i < after; i++) {
            x = x * 6364136223846793005ul + 1442695040888963407ul;
            f[fn++] = palpha[(x >> 33) % 5];
        }
        x = x * 6364136223846793005ul + 1442695040888963407ul;
        rn = (x >> 33) % 14;
        for (i = 0; i < rn; i++) {
            x = x * 6364136223846793005ul + 1442695040888963407ul;
            r[i] = ralpha[(x >> 33) % 4];
        }
        ref_match(&ref, f, fn, r, rn);
        if (tkr_authjwt_format_compile(&fmt, f, fn, NULL) != 0) {
            if (ref.compiles)
                fail_msg("format '%.*s' refused, the reference accepts it", (int)fn, f);
            continue;
        }
        if (!ref.compiles)
            fail_msg("format '%.*s' accepted, the reference refuses it", (int)fn, f);
        compiled++;
        if (tkr_authjwt_format_match(&fmt, r, rn, &off, &n) != 0) {
            if (ref.matches)
                fail_msg("'%.*s' ~ '%.*s': no match, reference has one", (int)fn, f, (int)rn, r);
            continue;
        }
        if (!ref.matches)
            fail_msg("'%.*s' ~ '%.*s': match, reference has none", (int)fn, f, (int)rn, r);
        matched++;
        {
            /* compact position and text of our capture */
            char got[40];
            size_t k, pos = 0, gn = 0;
            for (k = 0; k < off; k++)
                pos += !ref_ws(r[k]);
            gn = ref_compact(got, r + off, n);
            if (pos != ref.a || gn != ref.b - ref.a ||
                memcmp(got, ref.text + ref.a, gn) != 0)
                fail_msg("'%.*s' ~ '%.*s': capture at %zu len %zu, reference %zu..%zu",
                         (int)fn, f, (int)rn, r, pos, gn, ref.a, ref.b);
        }
    }
    print_message("    %zu formats compiled, %zu answers matched\n", compiled, matched);
    assert_true(compiled > 100000 && matched > 10000);
}

static void test_response_code_mode_and_status(void **state)
{
    (void)state;
    assert_int_equal(compile(SEED_FORMAT), 0);
    /* USE_RESPONSE_CODE: 200 alone is valid, the body is not read. */
    assert_int_equal(tkr_authjwt_response_check(&fmt, 1, 200, "", 0, NULL), 0);
    assert_int_equal(tkr_authjwt_response_check(NULL, 1, 200, NULL, 0, NULL), 0);
    assert_int_equal(tkr_authjwt_response_check(&fmt, 1, 401, "true", 4, NULL),
                     TKR_E_DENIED);
    assert_int_equal(tkr_authjwt_response_check(&fmt, 1, 204, "", 0, NULL),
                     TKR_E_DENIED);
    /* Format mode: a non-200 status is a refusal whatever the body says. */
    assert_int_equal(tkr_authjwt_response_check(&fmt, 0, 400, SEED_VALID,
                                                strlen(SEED_VALID), NULL),
                     TKR_E_DENIED);
    assert_int_equal(tkr_authjwt_response_check(&fmt, 0, 200, SEED_VALID,
                                                strlen(SEED_VALID), NULL), 0);
    assert_int_equal(tkr_authjwt_response_check(NULL, 0, 200, "true", 4, NULL),
                     TKR_E_INVALID_ARG);
}

/* ---- the request ---- */

static void test_request_body_default_is_the_raw_token(void **state)
{
    char out[256];
    size_t n;

    (void)state;
    assert_int_equal(tkr_authjwt_request_body(out, sizeof(out), &n, NULL, "aa.bb.cc", 8, "k"), 0);
    assert_string_equal(out, "aa.bb.cc");
    assert_int_equal(n, 8);
    assert_int_equal(tkr_authjwt_request_body(out, sizeof(out), &n, "", "aa.bb.cc", 8, NULL), 0);
    assert_string_equal(out, "aa.bb.cc");
}

static void test_request_body_substitutes_json_escaped(void **state)
{
    char out[256];
    size_t n;

    (void)state;
    assert_int_equal(tkr_authjwt_request_body(out, sizeof(out), &n,
                         "{ \"token\": \"#token#\", \"kid\": \"#kid#\", \"t2\": \"#token#\" }",
                         "a.b.c", 5, "k\"1\\\n\x01"), 0);
    assert_string_equal(out, "{ \"token\": \"a.b.c\", \"kid\": \"k\\\"1\\\\\\u000A\\u0001\", "
                             "\"t2\": \"a.b.c\" }");
    /* only the exact markers */
    assert_int_equal(tkr_authjwt_request_body(out, sizeof(out), &n, "#TOKEN# #token #kid",
                                              "t", 1, "k"), 0);
    assert_string_equal(out, "#TOKEN# #token #kid");
}

static void test_request_query_for_get(void **state)
{
    char out[256];
    size_t n;

    (void)state;
    /* bare #token#: what the quick start's issuer reads (request.args["token"]) */
    assert_int_equal(tkr_authjwt_request_query(out, sizeof(out), &n, "#token#",
                                               "ey.J-_.x~", 9, "k"), 0);
    assert_string_equal(out, "token=ey.J-_.x~");
    assert_int_equal(tkr_authjwt_request_query(out, sizeof(out), &n, NULL,
                                               "a+b/c=d&e f", 11, NULL), 0);
    assert_string_equal(out, "token=a%2Bb%2Fc%3Dd%26e%20f");
    assert_int_equal(tkr_authjwt_request_query(out, sizeof(out), &n, "  #token#\n",
                                               "t", 1, NULL), 0);
    assert_string_equal(out, "token=t");
    /* a format with '=': substituted, values fully encoded, structure kept */
    assert_int_equal(tkr_authjwt_request_query(out, sizeof(out), &n,
                                               "jwt=#token#&kid=#kid#&x=a b",
                                               "a=b", 3, "k&1"), 0);
    assert_string_equal(out, "jwt=a%3Db&kid=k%261&x=a%20b");
    /* a JSON format has no query form: the header carries the token */
    assert_int_equal(tkr_authjwt_request_query(out, sizeof(out), &n,
                                               "{\"token\":\"#token#\"}", "t", 1, NULL), 0);
    assert_string_equal(out, "");
    assert_int_equal(n, 0);
}

static void test_request_short_buffer_reports_needed_length(void **state)
{
    char out[8];
    size_t n = 0;

    (void)state;
    assert_int_equal(tkr_authjwt_request_query(out, sizeof(out), &n, NULL,
                                               "abcdef", 6, NULL), TKR_E_BUFFER_TOO_SMALL);
    assert_int_equal(n, 12);
    assert_string_equal(out, "");
    assert_int_equal(tkr_authjwt_request_body(out, 7, &n, NULL, "abcdefg", 7, NULL),
                     TKR_E_BUFFER_TOO_SMALL);
    assert_int_equal(n, 7);
    assert_int_equal(tkr_authjwt_request_body(out, 8, &n, NULL, "abcdefg", 7, NULL), 0);
    assert_int_equal(tkr_authjwt_request_body(NULL, 0, &n, NULL, "abc", 3, NULL),
                     TKR_E_BUFFER_TOO_SMALL);
    assert_int_equal(n, 3);
    assert_int_equal(tkr_authjwt_request_body(out, 8, NULL, NULL, "abc", 3, NULL),
                     TKR_E_INVALID_ARG);
}

/* ---- local verification ---- */

static char tok[8192];

/* Sign claims with key under alg (kid may be NULL) and parse into jwt. */
static void make(mbedtls_pk_context *key, tkr_jwt_alg_t alg, const char *kid,
                 const char *claims)
{
    size_t n;

    assert_int_equal(tkr_jwt_sign(tok, sizeof(tok), &n, key, alg, kid, claims,
                                  strlen(claims), &port), 0);
    tkr_jwt_free(&jwt);
    tkr_jwt_init(&jwt);
    assert_int_equal(tkr_jwt_parse(&jwt, tok, n, NULL), 0);
}

/* A token with a hand-made header (alg none, HS256, ...) and signature. */
static void make_raw(const char *header, const char *claims, const char *sig)
{
    char h[512], c[512];
    size_t hn, cn;

    assert_int_equal(tkr_b64url_encode(h, sizeof(h), &hn, (const uint8_t *)header,
                                       strlen(header)), 0);
    assert_int_equal(tkr_b64url_encode(c, sizeof(c), &cn, (const uint8_t *)claims,
                                       strlen(claims)), 0);
    FMT(tok, "%.*s.%.*s.%s", (int)hn, h, (int)cn, c, sig);
    tkr_jwt_free(&jwt);
    tkr_jwt_init(&jwt);
    assert_int_equal(tkr_jwt_parse(&jwt, tok, strlen(tok), NULL), 0);
}

#define CLAIMS "{\"sub\":\"softioc\",\"iss\":\"" SEED_ISS "\",\"exp\":2000000000}"

static void test_local_keys_are_pinned_to_their_algorithm(void **state)
{
    tkr_authjwt_key_t keys[3] = {
        {&rsa_a, TKR_JWT_PS256, NULL},
        {&p256_a, TKR_JWT_ES256, NULL},
        {&p384, TKR_JWT_ES384, NULL},
    };

    (void)state;
    make(&rsa_a, TKR_JWT_PS256, NULL, CLAIMS);
    assert_int_equal(tkr_authjwt_verify_local(&jwt, keys, 3, NULL, NULL), 0);
    make(&p256_a, TKR_JWT_ES256, NULL, CLAIMS);
    assert_int_equal(tkr_authjwt_verify_local(&jwt, keys, 3, NULL, NULL), 0);
    make(&p384, TKR_JWT_ES384, NULL, CLAIMS);
    assert_int_equal(tkr_authjwt_verify_local(&jwt, keys, 3, NULL, NULL), 0);
    /* The same RSA key under RS256: its pin is PS256. */
    make(&rsa_a, TKR_JWT_RS256, NULL, CLAIMS);
    assert_int_equal(tkr_authjwt_verify_local(&jwt, keys, 3, NULL, WHY), TKR_E_JWT_ALG);
    assert_non_null(strstr(dg.msg, "pinned"));
    keys[0].alg = TKR_JWT_RS256;
    assert_int_equal(tkr_authjwt_verify_local(&jwt, keys, 3, NULL, NULL), 0);
    /* Signed by another key of the right type. */
    make(&rsa_b, TKR_JWT_RS256, NULL, CLAIMS);
    assert_int_equal(tkr_authjwt_verify_local(&jwt, keys, 3, NULL, WHY), TKR_E_SIGNATURE);
    /* No key at all. */
    assert_int_equal(tkr_authjwt_verify_local(&jwt, NULL, 0, NULL, WHY), TKR_E_NOT_FOUND);
}

static void test_local_bad_signature_is_refused(void **state)
{
    tkr_authjwt_key_t key = {&rsa_a, TKR_JWT_RS256, NULL};
    char *dot;

    (void)state;
    make(&rsa_a, TKR_JWT_RS256, NULL, CLAIMS);
    dot = strrchr(tok, '.');
    dot[5] = dot[5] == 'A' ? 'B' : 'A';
    tkr_jwt_free(&jwt);
    tkr_jwt_init(&jwt);
    assert_int_equal(tkr_jwt_parse(&jwt, tok, strlen(tok), NULL), 0);
    assert_int_equal(tkr_authjwt_verify_local(&jwt, &key, 1, NULL, NULL), TKR_E_SIGNATURE);
}

static void test_local_alg_none_and_hs256_refused_before_any_key(void **state)
{
    tkr_authjwt_key_t key = {&rsa_a, TKR_JWT_RS256, NULL};

    (void)state;
    /* with an empty signature the parser refuses it before any key */
    {
        tkr_jwt_t bare;
        char t2[512];
        tkr_jwt_init(&bare);
        make_raw("{\"alg\":\"none\"}", CLAIMS, "AAAA");
        FMT(t2, "%.*s", (int)(strrchr(tok, '.') + 1 - tok), tok);
        assert_int_equal(tkr_jwt_parse(&bare, t2, strlen(t2), NULL), TKR_E_JWT_FORMAT);
        tkr_jwt_free(&bare);
    }
    make_raw("{\"alg\":\"none\",\"typ\":\"JWT\"}", CLAIMS, "AAAA");
    assert_int_equal(tkr_authjwt_verify_local(&jwt, &key, 1, NULL, WHY), TKR_E_JWT_ALG);
    assert_non_null(strstr(dg.msg, "none"));
    /* HS256 "signed" with the public key's bytes: the classic confusion */
    make_raw("{\"alg\":\"HS256\",\"typ\":\"JWT\"}", CLAIMS,
             "c2lnbmF0dXJlLWJ5dGVzLWxvb2stcmVhbC0zMi1ieXRlcw");
    assert_int_equal(tkr_authjwt_verify_local(&jwt, &key, 1, NULL, NULL), TKR_E_JWT_ALG);
    make_raw("{\"alg\":\"RS512\"}", CLAIMS, "AAAA");
    assert_int_equal(tkr_authjwt_verify_local(&jwt, &key, 1, NULL, NULL), TKR_E_JWT_ALG);
}

static void test_local_jwks_selects_by_kid(void **state)
{
    static char set_json[4096];
    tkr_jwks_t set;
    mbedtls_mpi n, e;
    uint8_t nb[256], eb[4];
    char n64[400], e64[8];
    size_t nl, el;

    (void)state;
    /* a JWKS like the issuer's /.well-known/jwks.json, from rsa_a */
    mbedtls_mpi_init(&n);
    mbedtls_mpi_init(&e);
    assert_int_equal(mbedtls_rsa_export(mbedtls_pk_rsa(rsa_a), &n, NULL, NULL, NULL, &e), 0);
    assert_int_equal(mbedtls_mpi_write_binary(&n, nb, 256), 0);
    assert_int_equal(mbedtls_mpi_write_binary(&e, eb, 3), 0);
    assert_int_equal(tkr_b64url_encode(n64, sizeof(n64), &nl, nb, 256), 0);
    assert_int_equal(tkr_b64url_encode(e64, sizeof(e64), &el, eb, 3), 0);
    mbedtls_mpi_free(&n);
    mbedtls_mpi_free(&e);
    FMT(set_json, "{\"keys\":[{\"kty\":\"RSA\",\"kid\":\"demo-key-1\",\"alg\":\"RS256\","
                  "\"use\":\"sig\",\"n\":\"%.*s\",\"e\":\"%.*s\"}]}",
        (int)nl, n64, (int)el, e64);
    tkr_jwks_init(&set);
    assert_int_equal(tkr_jwks_parse(&set, set_json, strlen(set_json), NULL), 0);

    make(&rsa_a, TKR_JWT_RS256, "demo-key-1", CLAIMS);
    assert_int_equal(tkr_authjwt_verify_local(&jwt, NULL, 0, &set, NULL), 0);
    /* unknown kid: NOT_FOUND, so the caller may refresh the set */
    make(&rsa_a, TKR_JWT_RS256, "demo-key-2", CLAIMS);
    assert_int_equal(tkr_authjwt_verify_local(&jwt, NULL, 0, &set, NULL), TKR_E_NOT_FOUND);
    /* right kid, other alg than the key's */
    make(&rsa_a, TKR_JWT_PS256, "demo-key-1", CLAIMS);
    assert_int_equal(tkr_authjwt_verify_local(&jwt, NULL, 0, &set, NULL), TKR_E_JWT_ALG);
    /* right kid, other signer */
    make(&rsa_b, TKR_JWT_RS256, "demo-key-1", CLAIMS);
    assert_int_equal(tkr_authjwt_verify_local(&jwt, NULL, 0, &set, NULL), TKR_E_SIGNATURE);
    tkr_jwks_free(&set);
}

static void test_local_pem_key_with_kid_only_for_that_kid(void **state)
{
    tkr_authjwt_key_t keys[2] = {
        {&rsa_b, TKR_JWT_RS256, "other"},
        {&rsa_a, TKR_JWT_RS256, "mine"},
    };

    (void)state;
    make(&rsa_a, TKR_JWT_RS256, "mine", CLAIMS);
    assert_int_equal(tkr_authjwt_verify_local(&jwt, keys, 2, NULL, NULL), 0);
    make(&rsa_a, TKR_JWT_RS256, "other", CLAIMS);
    assert_int_equal(tkr_authjwt_verify_local(&jwt, keys, 2, NULL, NULL), TKR_E_SIGNATURE);
    make(&rsa_a, TKR_JWT_RS256, NULL, CLAIMS);   /* no kid: every key is tried */
    assert_int_equal(tkr_authjwt_verify_local(&jwt, keys, 2, NULL, NULL), 0);
}

/* ---- claims and the certificate ---- */

static tkr_authjwt_rules_t seed_rules(void)
{
    tkr_authjwt_rules_t r;

    memset(&r, 0, sizeof(r));
    r.trusted_uri = SEED_URI;
    r.leeway = TKR_AUTHJWT_LEEWAY_DEFAULT;
    r.max_validity = 30 * 86400;
    return r;
}

static int claims_rc(const char *claims, const tkr_authjwt_rules_t *r, int64_t now,
                     tkr_authjwt_identity_t *id)
{
    tkr_authjwt_identity_t scratch;
    make(&rsa_a, TKR_JWT_RS256, "demo-key-1", claims);
    return tkr_authjwt_check_claims(id != NULL ? id : &scratch, &jwt, r, now, WHY);
}

static void test_seed_token_maps_to_cn_and_org(void **state)
{
    tkr_authjwt_rules_t r = seed_rules();
    tkr_authjwt_identity_t id;

    (void)state;
    /* The quick start's token claims, verbatim. */
    assert_int_equal(claims_rc("{\"aud\":\"default\",\"exp\":1755150736,\"iat\":1755147136,"
                               "\"iss\":\"" SEED_ISS "\",\"jti\":\"c40d1fc2-40f2-4bf9-a84a-"
                               "fff5fadea38a\",\"nbf\":1755147136,\"sub\":\"softioc\"}",
                               &r, SEED_NOW, &id), 0);
    assert_string_equal(id.cn, "softioc");
    assert_string_equal(id.org, "localhost");
    assert_int_equal(id.not_before, 1755147136);
    assert_int_equal(id.not_after, 1755150736);
    /* the same with the issuer configured */
    r.issuer = SEED_ISS;
    r.trusted_uri = NULL;
    r.audience = "default";
    assert_int_equal(claims_rc("{\"aud\":\"default\",\"exp\":1755150736,\"nbf\":1755147136,"
                               "\"iss\":\"" SEED_ISS "\",\"sub\":\"client\"}", &r, SEED_NOW, &id), 0);
    assert_string_equal(id.cn, "client");
}

static void test_exp_and_nbf_with_leeway(void **state)
{
    tkr_authjwt_rules_t r = seed_rules();
    char c[256];

    (void)state;
    /* exp within the leeway: the certificate still gets iat..exp */
    FMT(c, "{\"sub\":\"s\",\"iss\":\"%s\",\"iat\":%d,\"exp\":%d}", SEED_ISS,
        SEED_NOW - 3600, SEED_NOW - 59);
    assert_int_equal(claims_rc(c, &r, SEED_NOW, NULL), 0);
    FMT(c, "{\"sub\":\"s\",\"iss\":\"%s\",\"iat\":%d,\"exp\":%d}", SEED_ISS,
        SEED_NOW - 3600, SEED_NOW - 60);
    assert_int_equal(claims_rc(c, &r, SEED_NOW, NULL), TKR_E_EXPIRED);
    assert_string_equal(dg.name, "exp");
    assert_non_null(strstr(dg.msg, "expired"));
    /* without nbf or iat the certificate would start now: after exp */
    FMT(c, "{\"sub\":\"s\",\"iss\":\"%s\",\"exp\":%d}", SEED_ISS, SEED_NOW - 1);
    assert_int_equal(claims_rc(c, &r, SEED_NOW, NULL), TKR_E_EXPIRED);
    FMT(c, "{\"sub\":\"s\",\"iss\":\"%s\",\"exp\":%d,\"nbf\":%d}", SEED_ISS,
        SEED_NOW + 3600, SEED_NOW + 60);
    assert_int_equal(claims_rc(c, &r, SEED_NOW, NULL), 0);
    FMT(c, "{\"sub\":\"s\",\"iss\":\"%s\",\"exp\":%d,\"nbf\":%d}", SEED_ISS,
        SEED_NOW + 3600, SEED_NOW + 61);
    assert_int_equal(claims_rc(c, &r, SEED_NOW, NULL), TKR_E_NOT_YET_VALID);
    r.leeway = 0;
    FMT(c, "{\"sub\":\"s\",\"iss\":\"%s\",\"exp\":%d}", SEED_ISS, SEED_NOW);
    assert_int_equal(claims_rc(c, &r, SEED_NOW, NULL), TKR_E_EXPIRED);
    FMT(c, "{\"sub\":\"s\",\"iss\":\"%s\",\"exp\":\"%d\"}", SEED_ISS, SEED_NOW + 10);
    assert_int_equal(claims_rc(c, &r, SEED_NOW, NULL), TKR_E_CLAIM_TYPE);
    /* exp before nbf leaves no validity */
    r.leeway = 60;
    FMT(c, "{\"sub\":\"s\",\"iss\":\"%s\",\"exp\":%d,\"nbf\":%d}", SEED_ISS,
        SEED_NOW - 10, SEED_NOW);
    assert_int_equal(claims_rc(c, &r, SEED_NOW, NULL), TKR_E_EXPIRED);
}

static void test_issuer_rules(void **state)
{
    tkr_authjwt_rules_t r = seed_rules();

    (void)state;
    /* No issuer configured: the trusted URI must start with iss + "/". */
    assert_int_equal(claims_rc("{\"sub\":\"s\",\"iss\":\"http://localhost:8080/def\","
                               "\"exp\":2000000000}", &r, SEED_NOW, NULL), TKR_E_ISS);
    assert_string_equal(dg.name, "iss");
    assert_non_null(strstr(dg.msg, "trusted URI"));
    assert_int_equal(claims_rc("{\"sub\":\"s\",\"iss\":\"http://evil.example/default\","
                               "\"exp\":2000000000}", &r, SEED_NOW, NULL), TKR_E_ISS);
    assert_int_equal(claims_rc("{\"sub\":\"s\",\"iss\":\"http://localhost:8080/default/verify\","
                               "\"exp\":2000000000}", &r, SEED_NOW, NULL), TKR_E_ISS);
    assert_int_equal(claims_rc("{\"sub\":\"s\",\"iss\":\"http://localhost:8080\","
                               "\"exp\":2000000000}", &r, SEED_NOW, NULL), 0);
    assert_int_equal(claims_rc("{\"sub\":\"s\",\"iss\":\"\",\"exp\":2000000000}",
                               &r, SEED_NOW, NULL), TKR_E_ISS);
    assert_int_equal(claims_rc("{\"sub\":\"s\",\"exp\":2000000000}", &r, SEED_NOW, NULL),
                     TKR_E_CLAIM_MISSING);
    assert_int_equal(claims_rc("{\"sub\":\"s\",\"iss\":7,\"exp\":2000000000}",
                               &r, SEED_NOW, NULL), TKR_E_CLAIM_TYPE);
    /* A configured issuer must be equal, the trusted URI then plays no part. */
    r.issuer = "https://idp.example/realm";
    assert_int_equal(claims_rc("{\"sub\":\"s\",\"iss\":\"" SEED_ISS "\","
                               "\"exp\":2000000000}", &r, SEED_NOW, NULL), TKR_E_ISS);
    assert_int_equal(claims_rc("{\"sub\":\"s\",\"iss\":\"https://idp.example/realm\","
                               "\"exp\":2000000000}", &r, SEED_NOW, NULL), 0);
    /* Neither: a configuration error. */
    r.issuer = NULL;
    r.trusted_uri = NULL;
    make(&rsa_a, TKR_JWT_RS256, NULL, CLAIMS);
    {
        tkr_authjwt_identity_t id;
        assert_int_equal(tkr_authjwt_check_claims(&id, &jwt, &r, SEED_NOW, WHY),
                         TKR_E_INVALID_ARG);
        assert_true(dg.msg[0] != '\0');
    }
}

static void test_audience_when_configured(void **state)
{
    tkr_authjwt_rules_t r = seed_rules();

    (void)state;
    assert_int_equal(claims_rc("{\"sub\":\"s\",\"iss\":\"" SEED_ISS "\",\"aud\":\"other\","
                               "\"exp\":2000000000}", &r, SEED_NOW, NULL), 0);
    r.audience = "default";
    assert_int_equal(claims_rc("{\"sub\":\"s\",\"iss\":\"" SEED_ISS "\",\"aud\":\"other\","
                               "\"exp\":2000000000}", &r, SEED_NOW, NULL), TKR_E_AUD);
    assert_int_equal(claims_rc("{\"sub\":\"s\",\"iss\":\"" SEED_ISS "\","
                               "\"exp\":2000000000}", &r, SEED_NOW, NULL), TKR_E_CLAIM_MISSING);
    assert_int_equal(claims_rc("{\"sub\":\"s\",\"iss\":\"" SEED_ISS "\",\"aud\":[\"x\",\"default\"],"
                               "\"exp\":2000000000}", &r, SEED_NOW, NULL), 0);
}

static void test_sub_must_be_present_and_printable(void **state)
{
    tkr_authjwt_rules_t r = seed_rules();
    tkr_authjwt_identity_t id;
    char c[1024], sub[400];
    size_t i;

    (void)state;
    assert_int_equal(claims_rc("{\"iss\":\"" SEED_ISS "\",\"exp\":2000000000}", &r,
                               SEED_NOW, NULL), TKR_E_CLAIM_MISSING);
    assert_int_equal(claims_rc("{\"sub\":\"\",\"iss\":\"" SEED_ISS "\",\"exp\":2000000000}",
                               &r, SEED_NOW, NULL), TKR_E_SUB);
    assert_int_equal(claims_rc("{\"sub\":\"a\\nb\",\"iss\":\"" SEED_ISS "\",\"exp\":2000000000}",
                               &r, SEED_NOW, NULL), TKR_E_SUB);
    assert_int_equal(claims_rc("{\"sub\":\"a\\u007fb\",\"iss\":\"" SEED_ISS "\",\"exp\":2000000000}",
                               &r, SEED_NOW, NULL), TKR_E_SUB);
    assert_int_equal(claims_rc("{\"sub\":\"a\\u0085b\",\"iss\":\"" SEED_ISS "\",\"exp\":2000000000}",
                               &r, SEED_NOW, NULL), TKR_E_SUB);
    assert_int_equal(claims_rc("{\"sub\":\"a\\u0000b\",\"iss\":\"" SEED_ISS "\",\"exp\":2000000000}",
                               &r, SEED_NOW, NULL), TKR_E_SUB);
    assert_int_equal(claims_rc("{\"sub\":42,\"iss\":\"" SEED_ISS "\",\"exp\":2000000000}",
                               &r, SEED_NOW, NULL), TKR_E_CLAIM_TYPE);
    /* 64 bytes: accepted; 65: refused (X.520's bound, in bytes as the
     * service counts enrollment names) */
    memset(sub, 'a', 64);
    sub[64] = '\0';
    FMT(c, "{\"sub\":\"%s\",\"iss\":\"%s\",\"exp\":2000000000}", sub, SEED_ISS);
    assert_int_equal(claims_rc(c, &r, SEED_NOW, &id), 0);
    assert_string_equal(id.cn, sub);
    strcat(sub, "x");
    FMT(c, "{\"sub\":\"%s\",\"iss\":\"%s\",\"exp\":2000000000}", sub, SEED_ISS);
    assert_int_equal(claims_rc(c, &r, SEED_NOW, &id), TKR_E_SUB);
    assert_string_equal(id.cn, "");   /* nothing half-filled */
    assert_string_equal(dg.name, "sub");
    /* 21 characters of 3 bytes fit, 22 do not */
    sub[0] = '\0';
    for (i = 0; i < 21; i++)
        strcat(sub, "\xe2\x82\xac");
    FMT(c, "{\"sub\":\"%s\",\"iss\":\"%s\",\"exp\":2000000000}", sub, SEED_ISS);
    assert_int_equal(claims_rc(c, &r, SEED_NOW, &id), 0);
    assert_string_equal(id.cn, sub);
    strcat(sub, "\xe2\x82\xac");
    FMT(c, "{\"sub\":\"%s\",\"iss\":\"%s\",\"exp\":2000000000}", sub, SEED_ISS);
    assert_int_equal(claims_rc(c, &r, SEED_NOW, &id), TKR_E_SUB);
    assert_int_equal(claims_rc("{\"sub\":\"O'Brien, J. = \\\"x\\\"\",\"iss\":\"" SEED_ISS
                               "\",\"exp\":2000000000}", &r, SEED_NOW, &id), 0);
    assert_string_equal(id.cn, "O'Brien, J. = \"x\"");
}

static void test_validity_from_nbf_iat_or_now_capped(void **state)
{
    tkr_authjwt_rules_t r = seed_rules();
    tkr_authjwt_identity_t id;
    char c[256];

    (void)state;
    FMT(c, "{\"sub\":\"s\",\"iss\":\"%s\",\"exp\":%d,\"iat\":%d}", SEED_ISS,
        SEED_NOW + 3600, SEED_NOW - 100);
    assert_int_equal(claims_rc(c, &r, SEED_NOW, &id), 0);
    assert_int_equal(id.not_before, SEED_NOW - 100);
    assert_int_equal(id.not_after, SEED_NOW + 3600);
    FMT(c, "{\"sub\":\"s\",\"iss\":\"%s\",\"exp\":%d,\"iat\":%d,\"nbf\":%d}", SEED_ISS,
        SEED_NOW + 3600, SEED_NOW - 100, SEED_NOW - 50);
    assert_int_equal(claims_rc(c, &r, SEED_NOW, &id), 0);
    assert_int_equal(id.not_before, SEED_NOW - 50);
    FMT(c, "{\"sub\":\"s\",\"iss\":\"%s\",\"exp\":%d}", SEED_ISS, SEED_NOW + 3600);
    assert_int_equal(claims_rc(c, &r, SEED_NOW, &id), 0);
    assert_int_equal(id.not_before, SEED_NOW);
    /* capped: a token good for ten years gives max_validity */
    r.max_validity = 86400;
    FMT(c, "{\"sub\":\"s\",\"iss\":\"%s\",\"exp\":%d}", SEED_ISS, SEED_NOW + 315360000);
    assert_int_equal(claims_rc(c, &r, SEED_NOW, &id), 0);
    assert_int_equal(id.not_after, SEED_NOW + 86400);
    /* and the cap cannot overflow */
    r.max_validity = INT64_MAX;
    FMT(c, "{\"sub\":\"s\",\"iss\":\"%s\",\"exp\":9223372036854775807}", SEED_ISS);
    assert_int_equal(claims_rc(c, &r, SEED_NOW, &id), 0);
    assert_true(id.not_after == INT64_MAX);
}

static void test_org_is_the_host_of_iss(void **state)
{
    static const struct { const char *iss, *org; } ok[] = {
        {"http://localhost:8080/default", "localhost"},
        {"https://Accounts.Example.com", "Accounts.Example.com"},
        {"https://user:pw@idp.example:8443/realms/x?y#z", "idp.example"},
        {"http://[::1]:8080/default", "::1"},
        {"http://127.0.0.1/default", "127.0.0.1"},
        {"idp.example", "idp.example"},
        {"https://idp-01234567890123456789012345678901234567890123456789012345.org/r", "idp-01234567890123456789012345678901234567890123456789012345.org"},
    };
    static const char *const bad[] = {
        "urn:example:issuer", "http:///default", "://host/x", "http://[::1/x",
        "http://ho st/x", "1http://host/", "http://host,O=x/", "http://@/",
        "https://idp-012345678901234567890123456789012345678901234567890123456.org/r", /* over the 64 bytes of an O */
    };
    tkr_authjwt_rules_t r = seed_rules();
    tkr_authjwt_identity_t id;
    char c[512];
    size_t i;

    (void)state;
    r.trusted_uri = NULL;
    for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        r.issuer = ok[i].iss;
        FMT(c, "{\"sub\":\"s\",\"iss\":\"%s\",\"exp\":2000000000}", ok[i].iss);
        assert_int_equal(claims_rc(c, &r, SEED_NOW, &id), 0);
        assert_string_equal(id.org, ok[i].org);
    }
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        r.issuer = bad[i];
        FMT(c, "{\"sub\":\"s\",\"iss\":\"%s\",\"exp\":2000000000}", bad[i]);
        if (claims_rc(c, &r, SEED_NOW, &id) != TKR_E_ISS)
            fail_msg("iss '%s' should have no host", bad[i]);
    }
}

static void test_usage_names(void **state)
{
    unsigned u = 0;

    (void)state;
    assert_int_equal(tkr_authjwt_usage(&u, "client"), 0);
    assert_int_equal(u, TKR_CERT_CLIENT);
    assert_int_equal(tkr_authjwt_usage(&u, "server"), 0);
    assert_int_equal(u, TKR_CERT_SERVER);
    assert_int_equal(tkr_authjwt_usage(&u, "ioc"), 0);
    assert_int_equal(u, TKR_CERT_CLIENT | TKR_CERT_SERVER);
    assert_int_equal(tkr_authjwt_usage(&u, "Server"), TKR_E_INVALID_ARG);
    assert_int_equal(tkr_authjwt_usage(&u, ""), TKR_E_INVALID_ARG);
    assert_int_equal(tkr_authjwt_usage(NULL, "ioc"), TKR_E_INVALID_ARG);
}

/* ---- the whole check, with a verifier and a key set of our own ---- */

typedef struct {
    int calls;
    char method[8], query[12000], bearer[9000], body[9000];
    int rc, status;
    const char *answer;
    int jwks_calls, refreshes, locked, lock_calls;
    const tkr_jwks_t *first, *refreshed;
} fake_t;

static int fake_call(void *arg, const tkr_authjwt_call_t *c, int *status,
                     const char **body, size_t *len)
{
    fake_t *f = arg;

    f->calls++;
    FMT(f->method, "%s", c->method);
    FMT(f->query, "%s", c->query);
    FMT(f->bearer, "%s", c->bearer != NULL ? c->bearer : "(none)");
    if (c->body != NULL) {
        assert_true(c->body_len < sizeof(f->body));
        memcpy(f->body, c->body, c->body_len);
        f->body[c->body_len] = '\0';
    } else {
        FMT(f->body, "(none)");
    }
    if (f->rc != 0)
        return f->rc;
    *status = f->status;
    *body = f->answer;
    *len = strlen(f->answer);
    return 0;
}

static void fake_lock(void *arg, int on)
{
    fake_t *f = arg;

    assert_int_equal(f->locked, !on);   /* balanced, never nested */
    f->locked = on;
    f->lock_calls++;
}

static int fake_jwks(void *arg, int refresh, const tkr_jwks_t **set)
{
    fake_t *f = arg;

    assert_int_equal(f->locked, 1);     /* the set is read under the lock */
    f->jwks_calls++;
    f->refreshes += refresh;
    *set = refresh ? f->refreshed : f->first;
    return 0;
}

static tkr_authjwt_work_t work;
static tkr_authjwt_format_t seed_fmt;

static void trusted_cfg(tkr_authjwt_cfg_t *cfg, fake_t *f)
{
    memset(cfg, 0, sizeof(*cfg));
    memset(f, 0, sizeof(*f));
    assert_int_equal(tkr_authjwt_format_compile(&seed_fmt, SEED_FORMAT,
                                                strlen(SEED_FORMAT), NULL), 0);
    cfg->trusted_uri = SEED_URI;
    cfg->request_format = "#token#";
    cfg->use_get = 1;
    cfg->response_format = &seed_fmt;
    cfg->call = fake_call;
    cfg->arg = f;
    cfg->rules.leeway = 60;
    cfg->rules.max_validity = 86400;
    f->status = 200;
    f->answer = SEED_VALID;
}

#define SEED_CLAIMS "{\"aud\":\"default\",\"exp\":1755150736,\"iat\":1755147136," \
                    "\"iss\":\"" SEED_ISS "\",\"nbf\":1755147136,\"sub\":\"softioc\"}"

static int authenticate(const tkr_authjwt_cfg_t *cfg, tkr_authjwt_identity_t *id,
                        tkr_diag_t *diag)
{
    return tkr_authjwt_authenticate(id, &work, cfg, tok, strlen(tok), SEED_NOW, diag);
}

static void test_authenticate_trusted_uri_with_the_seed_settings(void **state)
{
    tkr_authjwt_cfg_t cfg;
    tkr_authjwt_identity_t id;
    fake_t f;
    char want[9000];

    (void)state;
    trusted_cfg(&cfg, &f);
    make(&rsa_a, TKR_JWT_RS256, "demo-key-1", SEED_CLAIMS);
    assert_int_equal(authenticate(&cfg, &id, NULL), 0);
    assert_string_equal(id.cn, "softioc");
    assert_string_equal(id.org, "localhost");
    assert_int_equal(id.not_before, 1755147136);
    assert_int_equal(id.not_after, 1755150736);
    /* GET: the token as the issuer reads it, and in the header */
    assert_int_equal(f.calls, 1);
    assert_string_equal(f.method, "GET");
    FMT(want, "token=%s", tok);
    assert_string_equal(f.query, want);
    assert_string_equal(f.bearer, tok);
    assert_string_equal(f.body, "(none)");
    /* POST (the default method): the format substituted, as the body */
    cfg.use_get = 0;
    cfg.request_format = "{\"token\":\"#token#\",\"kid\":\"#kid#\"}";
    assert_int_equal(authenticate(&cfg, &id, NULL), 0);
    assert_string_equal(f.method, "POST");
    FMT(want, "{\"token\":\"%s\",\"kid\":\"demo-key-1\"}", tok);
    assert_string_equal(f.body, want);
    assert_string_equal(f.bearer, "(none)");
    assert_string_equal(f.query, "");
    /* USE_RESPONSE_CODE: the status alone */
    cfg.use_response_code = 1;
    f.answer = "not json at all";
    assert_int_equal(authenticate(&cfg, &id, NULL), 0);
    f.status = 401;
    assert_int_equal(authenticate(&cfg, &id, NULL), TKR_E_DENIED);
}

static void test_authenticate_trusted_uri_refusals(void **state)
{
    tkr_authjwt_cfg_t cfg;
    tkr_authjwt_identity_t id;
    fake_t f;

    (void)state;
    trusted_cfg(&cfg, &f);
    make(&rsa_a, TKR_JWT_RS256, "demo-key-1", SEED_CLAIMS);
    f.answer = "{\"error\":\"Signature verification failed\",\"valid\":false}";
    assert_int_equal(authenticate(&cfg, &id, WHY), TKR_E_DENIED);
    assert_int_equal(tkr_authjwt_http_status(TKR_E_DENIED), 401);
    assert_string_equal(id.cn, "");
    f.answer = "<html>valid</html>";
    assert_int_equal(authenticate(&cfg, &id, WHY), TKR_E_NO_MATCH);
    assert_non_null(strstr(dg.msg, "format"));
    f.answer = SEED_VALID;
    f.rc = TKR_E_NET;
    assert_int_equal(authenticate(&cfg, &id, WHY), TKR_E_NET);
    assert_non_null(strstr(dg.msg, "reached"));
    assert_int_equal(tkr_authjwt_http_status(TKR_E_NET), 401);
    f.rc = TKR_E_TOO_LARGE;
    assert_int_equal(authenticate(&cfg, &id, WHY), TKR_E_TOO_LARGE);
    assert_non_null(strstr(dg.msg, "too large"));
    f.rc = 0;
    /* vouched for, but from another issuer than the trusted URI's */
    make(&rsa_a, TKR_JWT_RS256, "demo-key-1",
         "{\"exp\":1755150736,\"iss\":\"http://elsewhere/default\",\"sub\":\"x\"}");
    assert_int_equal(authenticate(&cfg, &id, WHY), TKR_E_ISS);
    assert_int_equal(tkr_authjwt_http_status(TKR_E_ISS), 403);
    /* expired, though the verifier says valid */
    make(&rsa_a, TKR_JWT_RS256, "demo-key-1",
         "{\"exp\":1755140000,\"iss\":\"" SEED_ISS "\",\"sub\":\"x\"}");
    assert_int_equal(authenticate(&cfg, &id, WHY), TKR_E_EXPIRED);
    /* alg none: refused before anyone is asked */
    f.calls = 0;
    make_raw("{\"alg\":\"none\"}", SEED_CLAIMS, "AAAA");
    assert_int_equal(authenticate(&cfg, &id, WHY), TKR_E_JWT_ALG);
    assert_int_equal(f.calls, 0);
    /* not a JWT */
    FMT(tok, "%s", "not-a-token");
    assert_int_equal(authenticate(&cfg, &id, WHY), TKR_E_JWT_FORMAT);
    assert_int_equal(f.calls, 0);
    assert_int_equal(tkr_authjwt_http_status(TKR_E_JWT_FORMAT), 401);
}

static void test_authenticate_local_jwks_refetched_once_for_unknown_kid(void **state)
{
    static char old_json[] = "{\"keys\":[]}";
    tkr_jwks_t old_set, new_set;
    tkr_authjwt_cfg_t cfg;
    tkr_authjwt_identity_t id;
    tkr_authjwt_key_t pem = {&p256_a, TKR_JWT_ES256, NULL};
    fake_t f;
    char jwk[2048];

    (void)state;
    memset(&cfg, 0, sizeof(cfg));
    memset(&f, 0, sizeof(f));
    cfg.jwks = fake_jwks;
    cfg.lock = fake_lock;
    cfg.arg = &f;
    cfg.rules.issuer = SEED_ISS;
    cfg.rules.leeway = 60;
    cfg.rules.max_validity = 86400;
    tkr_jwks_init(&old_set);
    tkr_jwks_init(&new_set);
    assert_int_equal(tkr_jwks_parse(&old_set, old_json, strlen(old_json), NULL), 0);
    {
        /* the P-384 key as a JWK with kid "new" */
        unsigned char der[200];
        int n = mbedtls_pk_write_pubkey_der(&p384, der, sizeof(der));
        const unsigned char *pt = der + sizeof(der) - 97;
        char x[80], y[80];
        size_t xl, yl;
        assert_true(n > 0 && pt[0] == 0x04);
        assert_int_equal(tkr_b64url_encode(x, sizeof(x), &xl, pt + 1, 48), 0);
        assert_int_equal(tkr_b64url_encode(y, sizeof(y), &yl, pt + 49, 48), 0);
        FMT(jwk, "{\"keys\":[{\"kty\":\"EC\",\"crv\":\"P-384\",\"kid\":\"new\","
                 "\"x\":\"%.*s\",\"y\":\"%.*s\"}]}", (int)xl, x, (int)yl, y);
    }
    assert_int_equal(tkr_jwks_parse(&new_set, jwk, strlen(jwk), NULL), 0);
    f.first = &old_set;
    f.refreshed = &new_set;

    make(&p384, TKR_JWT_ES384, "new", SEED_CLAIMS);
    assert_int_equal(authenticate(&cfg, &id, WHY), 0);
    assert_int_equal(f.refreshes, 1);
    assert_int_equal(f.lock_calls, 2);
    assert_int_equal(f.locked, 0);
    assert_string_equal(id.cn, "softioc");
    /* a kid nobody has: one refresh, then not found */
    f.refreshes = 0;
    make(&p384, TKR_JWT_ES384, "gone", SEED_CLAIMS);
    assert_int_equal(authenticate(&cfg, &id, WHY), TKR_E_NOT_FOUND);
    assert_int_equal(f.refreshes, 1);
    /* a PEM key beside the set needs no refresh */
    f.refreshes = 0;
    cfg.keys = &pem;
    cfg.nkeys = 1;
    make(&p256_a, TKR_JWT_ES256, NULL, SEED_CLAIMS);
    assert_int_equal(authenticate(&cfg, &id, WHY), 0);
    assert_int_equal(f.refreshes, 0);
    /* HS256 locally: refused */
    make_raw("{\"alg\":\"HS256\"}", SEED_CLAIMS, "c2lnbmF0dXJl");
    assert_int_equal(authenticate(&cfg, &id, WHY), TKR_E_JWT_ALG);
    /* no issuer configured locally: the service's fault */
    cfg.rules.issuer = NULL;
    make(&p256_a, TKR_JWT_ES256, NULL, SEED_CLAIMS);
    assert_int_equal(authenticate(&cfg, &id, WHY), TKR_E_INVALID_ARG);
    assert_int_equal(tkr_authjwt_http_status(TKR_E_INVALID_ARG), 500);
    tkr_jwks_free(&old_set);
    tkr_jwks_free(&new_set);
}

/* ---- certificate identifiers ---- */

/* Expected values computed with Python's cryptography package:
 * sha256(cert.issuer.public_bytes())[:4].hex() + ":" + str(cert.serial_number) */
static void test_cert_id_of_flare_certificates(void **state)
{
    static char pem[8192];
    mbedtls_x509_crt crt;
    char id[TKR_AUTHJWT_CERT_ID_MAX], issuer[9], serial[TKR_AUTHJWT_SERIAL_HEX_MAX];
    size_t n;

    (void)state;
    mbedtls_x509_crt_init(&crt);
    n = read_file(VEC "flare/flare_signed_site-1.crt", pem, sizeof(pem));
    assert_int_equal(mbedtls_x509_crt_parse(&crt, (const unsigned char *)pem, n + 1), 0);
    n = read_file(VEC "flare/rootCA.pem", pem, sizeof(pem));
    assert_int_equal(mbedtls_x509_crt_parse(&crt, (const unsigned char *)pem, n + 1), 0);
    assert_int_equal(tkr_authjwt_cert_id(id, sizeof(id), &crt), 0);
    assert_string_equal(id, "e43efa17:722306517679114050112651917597098339954633948732");
    assert_int_equal(tkr_authjwt_cert_id(id, sizeof(id), crt.next), 0);
    assert_string_equal(id, "e43efa17:478836122938059457996803302212642005228311981782");
    /* the CA's own subject names the same issuer id */
    assert_int_equal(tkr_authjwt_issuer_id(issuer, crt.next->subject_raw.p,
                                           crt.next->subject_raw.len), 0);
    assert_string_equal(issuer, "e43efa17");
    assert_int_equal(tkr_authjwt_cert_id(id, 20, &crt), TKR_E_BUFFER_TOO_SMALL);

    assert_int_equal(tkr_authjwt_cert_id_parse(issuer, serial,
                         "e43efa17:722306517679114050112651917597098339954633948732"), 0);
    assert_string_equal(issuer, "e43efa17");
    assert_string_equal(serial, "7e85582dbc1b694b3f7e94dd2c337f7929833e3c");
    assert_int_equal(tkr_authjwt_cert_id_parse(issuer, serial, "47530d89:3826361579604613180"), 0);
    assert_string_equal(serial, "3519f7956e89183c");
    assert_int_equal(tkr_authjwt_cert_id_parse(issuer, serial, "47530d89:1"), 0);
    assert_string_equal(serial, "01");
    mbedtls_x509_crt_free(&crt);
}

static void test_cert_id_parse_refusals(void **state)
{
    static const char *const bad[] = {
        "", ":1", "47530d8:1", "47530d899:1", "47530D89:1", "47530d89:", "47530d89:01",
        "47530d89:-1", "47530d89:1 ", "47530d89:0x10", "g7530d89:1", "47530d89;1",
        "47530d89:0", "47530d89:1461501637330902918203684832716283019655932542976",
        "47530d89:12345678901234567890123456789012345678901234567890",
    };
    char issuer[9], serial[TKR_AUTHJWT_SERIAL_HEX_MAX];
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        if (tkr_authjwt_cert_id_parse(issuer, serial, bad[i]) != TKR_E_INVALID_ARG)
            fail_msg("id '%s' should be refused", bad[i]);
    /* 2^160 - 1: the largest 20-byte serial */
    assert_int_equal(tkr_authjwt_cert_id_parse(issuer, serial,
                         "47530d89:1461501637330902918203684832716283019655932542975"), 0);
    assert_string_equal(serial, "ffffffffffffffffffffffffffffffffffffffff");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_seed_settings_accept_seed_issuer_valid_true_unquoted),
        cmocka_unit_test(test_seed_settings_deny_seed_issuer_valid_false),
        cmocka_unit_test(test_seed_table_payload_format),
        cmocka_unit_test(test_seed_table_default_raw_response),
        cmocka_unit_test(test_word_valid_ignores_whitespace_inside),
        cmocka_unit_test(test_quotes_around_capture_optional_both_ways),
        cmocka_unit_test(test_unbalanced_quotes_are_literal),
        cmocka_unit_test(test_capture_is_shortest_last_member_wins),
        cmocka_unit_test(test_format_is_anchored_at_both_ends),
        cmocka_unit_test(test_whitespace_ignored_in_format_and_response),
        cmocka_unit_test(test_compile_refusals),
        cmocka_unit_test(test_adversarial_formats_run_in_linear_time),
        cmocka_unit_test(test_match_time_does_not_grow_with_piece_length),
        cmocka_unit_test(test_matcher_agrees_with_brute_force_definition),
        cmocka_unit_test(test_response_code_mode_and_status),
        cmocka_unit_test(test_request_body_default_is_the_raw_token),
        cmocka_unit_test(test_request_body_substitutes_json_escaped),
        cmocka_unit_test(test_request_query_for_get),
        cmocka_unit_test(test_request_short_buffer_reports_needed_length),
        cmocka_unit_test(test_local_keys_are_pinned_to_their_algorithm),
        cmocka_unit_test(test_local_bad_signature_is_refused),
        cmocka_unit_test(test_local_alg_none_and_hs256_refused_before_any_key),
        cmocka_unit_test(test_local_jwks_selects_by_kid),
        cmocka_unit_test(test_local_pem_key_with_kid_only_for_that_kid),
        cmocka_unit_test(test_seed_token_maps_to_cn_and_org),
        cmocka_unit_test(test_exp_and_nbf_with_leeway),
        cmocka_unit_test(test_issuer_rules),
        cmocka_unit_test(test_audience_when_configured),
        cmocka_unit_test(test_sub_must_be_present_and_printable),
        cmocka_unit_test(test_validity_from_nbf_iat_or_now_capped),
        cmocka_unit_test(test_org_is_the_host_of_iss),
        cmocka_unit_test(test_usage_names),
        cmocka_unit_test(test_authenticate_trusted_uri_with_the_seed_settings),
        cmocka_unit_test(test_authenticate_trusted_uri_refusals),
        cmocka_unit_test(test_authenticate_local_jwks_refetched_once_for_unknown_kid),
        cmocka_unit_test(test_cert_id_of_flare_certificates),
        cmocka_unit_test(test_cert_id_parse_refusals),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
