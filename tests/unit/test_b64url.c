/* test_b64url.c — strict base64url (RFC 4648 §5, no padding per RFC 7515 §2).
 *
 * Expected encodings come from RFC 4648 §10 (translated to the URL alphabet
 * without padding) and, for the random round trips, from mbedTLS's own
 * standard-alphabet encoder, an implementation independent of ours. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <mbedtls/base64.h>

#include "tkr_port_posix.h"
#include "tokenroll/b64url.h"
#include "tokenroll/error.h"

static int decode_str(const char *in, uint8_t *out, size_t size, size_t *len)
{
    return tkr_b64url_decode(out, size, len, in, strlen(in), NULL);
}

/* RFC 4648 §10: BASE64("foobar") and its prefixes, '=' padding removed. */
static const struct {
    const char *plain;
    const char *enc;
} rfc4648[] = {
    {"", ""},
    {"f", "Zg"},
    {"fo", "Zm8"},
    {"foo", "Zm9v"},
    {"foob", "Zm9vYg"},
    {"fooba", "Zm9vYmE"},
    {"foobar", "Zm9vYmFy"},
};

static void test_encode_rfc4648_s10_vectors(void **state)
{
    size_t i;
    (void)state;

    for (i = 0; i < sizeof(rfc4648) / sizeof(rfc4648[0]); i++) {
        char out[16];
        size_t len = 99;
        memset(out, 'x', sizeof(out));
        assert_int_equal(tkr_b64url_encode(out, sizeof(out), &len,
                                           (const uint8_t *)rfc4648[i].plain,
                                           strlen(rfc4648[i].plain)),
                         0);
        assert_int_equal(len, strlen(rfc4648[i].enc));
        assert_memory_equal(out, rfc4648[i].enc, len);
        assert_int_equal(out[len], '\0');
    }
}

static void test_decode_rfc4648_s10_vectors(void **state)
{
    size_t i;
    (void)state;

    for (i = 0; i < sizeof(rfc4648) / sizeof(rfc4648[0]); i++) {
        uint8_t out[16];
        size_t len = 99;
        assert_int_equal(decode_str(rfc4648[i].enc, out, sizeof(out), &len), 0);
        assert_int_equal(len, strlen(rfc4648[i].plain));
        assert_memory_equal(out, rfc4648[i].plain, len);
    }
}

/* 0xfb 0xff is "+/8=" in the standard alphabet: '+' -> '-', '/' -> '_'. */
static void test_encode_uses_url_alphabet(void **state)
{
    static const uint8_t in[] = {0xfb, 0xff};
    char out[8];
    uint8_t back[4];
    size_t len;
    (void)state;

    assert_int_equal(tkr_b64url_encode(out, sizeof(out), &len, in, 2), 0);
    assert_int_equal(len, 3);
    assert_memory_equal(out, "-_8", 3);
    assert_int_equal(decode_str("-_8", back, sizeof(back), &len), 0);
    assert_int_equal(len, 2);
    assert_memory_equal(back, in, 2);
}

/* Standard base64 by mbedTLS, turned into base64url without padding. */
static size_t reference_b64url(char *out, size_t size, const uint8_t *in,
                               size_t n)
{
    size_t olen = 0, i, k = 0;

    assert_int_equal(mbedtls_base64_encode((unsigned char *)out, size, &olen,
                                           in, n),
                     0);
    for (i = 0; i < olen; i++) {
        if (out[i] == '=')
            break;
        out[k++] = out[i] == '+' ? '-' : out[i] == '/' ? '_' : out[i];
    }
    return k;
}

static void test_round_trip_lengths_0_to_64_random_bytes(void **state)
{
    tkr_port_t port;
    tkr_posix_t ctx = {TKR_LOG_ERROR, -1};
    size_t n;
    (void)state;

    tkr_port_posix_init(&port, &ctx);
    for (n = 0; n <= 64; n++) {
        uint8_t in[64], back[64];
        char enc[100], ref[100];
        size_t len, rlen, dlen, i;
        int round;

        for (round = 0; round < 8; round++) {
            if (n > 0)
                assert_int_equal(port.entropy(port.ctx, in, n), 0);
            assert_int_equal(tkr_b64url_encode(enc, sizeof(enc), &len, in, n), 0);
            /* ceil(4n/3) characters, no padding */
            assert_int_equal(len, (4 * n + 2) / 3);
            assert_int_equal(len, TKR_B64URL_ENCODED_LEN(n));
            rlen = reference_b64url(ref, sizeof(ref), in, n);
            assert_int_equal(len, rlen);
            assert_memory_equal(enc, ref, len);
            for (i = 0; i < len; i++)
                assert_non_null(strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                       "abcdefghijklmnopqrstuvwxyz0123456789-_",
                                       enc[i]));
            assert_int_equal(tkr_b64url_decode(NULL, 0, &dlen, enc, len, NULL), 0);
            assert_int_equal(dlen, n);
            assert_true(dlen <= TKR_B64URL_DECODED_MAX(len));
            assert_int_equal(tkr_b64url_decode(back, n, &dlen, enc, len, NULL), 0);
            assert_int_equal(dlen, n);
            if (n > 0)
                assert_memory_equal(back, in, n);
        }
    }
}

static void expect_reject(const char *in, size_t n)
{
    uint8_t out[64];
    size_t len;

    assert_int_equal(tkr_b64url_decode(out, sizeof(out), &len, in, n, NULL),
                     TKR_E_BASE64);
    /* the size query must not vouch for it either */
    assert_int_equal(tkr_b64url_decode(NULL, 0, &len, in, n, NULL), TKR_E_BASE64);
}

static void test_decode_rejects_padding(void **state)
{
    (void)state;
    expect_reject("Zg==", 4);
    expect_reject("Zm8=", 4);
    expect_reject("Zg=", 3);
    expect_reject("Zm9vYg==", 8);
    expect_reject("=", 1);
    expect_reject("====", 4);
}

static void test_decode_rejects_whitespace(void **state)
{
    (void)state;
    expect_reject("Zm9v Yg", 7);
    expect_reject("Zm9v\nYg", 7);
    expect_reject("Zm9v\r\nYg", 8);
    expect_reject(" Zm9v", 5);
    expect_reject("Zm9v\t", 5);
    expect_reject("Zm9vYg\n", 7);
}

static void test_decode_rejects_standard_alphabet(void **state)
{
    (void)state;
    expect_reject("+/8", 3);
    expect_reject("-/8", 3);
    expect_reject("+_8", 3);
    expect_reject("Zm+v", 4);
}

static void test_decode_rejects_length_1_mod_4(void **state)
{
    (void)state;
    expect_reject("Z", 1);
    expect_reject("Zm9vY", 5);
    expect_reject("Zm9vYmFyZ", 9);
}

/* "QQ" is the canonical encoding of "A"; "QR" differs only in the 4 bits
 * past the byte and would decode to the same byte if they were ignored. */
static void test_decode_rejects_nonzero_trailing_bits(void **state)
{
    uint8_t out[4];
    size_t len;
    (void)state;

    assert_int_equal(decode_str("QQ", out, sizeof(out), &len), 0);
    assert_int_equal(len, 1);
    assert_int_equal(out[0], 'A');
    expect_reject("QR", 2);
    expect_reject("QX", 2);
    expect_reject("Q_", 2);
    /* three characters: two bytes, 2 spare bits */
    assert_int_equal(decode_str("QUE", out, sizeof(out), &len), 0);
    assert_int_equal(len, 2);
    assert_memory_equal(out, "AA", 2);
    expect_reject("QUF", 3);
    expect_reject("QUH", 3);
}

static void test_decode_rejects_nul_and_non_ascii(void **state)
{
    (void)state;
    expect_reject("Zm\0v", 4);
    expect_reject("\0\0\0\0", 4);
    expect_reject("Zm9\xc3\xa9", 5);
    expect_reject("Zm9\x80", 4);
    expect_reject("Zm9.", 4);
}

static void test_decode_size_query_with_null_out(void **state)
{
    size_t len = 0;
    (void)state;

    assert_int_equal(tkr_b64url_decode(NULL, 0, &len, "Zm9vYmE", 7, NULL), 0);
    assert_int_equal(len, 5);
    assert_int_equal(tkr_b64url_decode(NULL, 0, &len, "", 0, NULL), 0);
    assert_int_equal(len, 0);
    assert_int_equal(tkr_b64url_decode(NULL, 0, &len, "Zm9vYmFy", 8, NULL), 0);
    assert_int_equal(len, 6);
}

static void test_decode_buffer_too_small(void **state)
{
    uint8_t out[6];
    size_t len;
    (void)state;

    assert_int_equal(decode_str("Zm9vYmFy", out, 5, &len), TKR_E_BUFFER_TOO_SMALL);
    assert_int_equal(decode_str("Zm9vYmFy", out, 6, &len), 0);
    assert_int_equal(len, 6);
    assert_memory_equal(out, "foobar", 6);
    assert_int_equal(decode_str("Zg", out, 0, &len), TKR_E_BUFFER_TOO_SMALL);
}

static void test_encode_buffer_too_small(void **state)
{
    char out[8];
    size_t len = 0;
    (void)state;

    memset(out, 'x', sizeof(out));
    assert_int_equal(tkr_b64url_encode(out, 3, &len, (const uint8_t *)"foo", 3),
                     TKR_E_BUFFER_TOO_SMALL);
    assert_int_equal(len, 4); /* tells the caller what it needs */
    /* exactly the characters: no room for the terminator, none written */
    assert_int_equal(tkr_b64url_encode(out, 4, &len, (const uint8_t *)"foo", 3), 0);
    assert_int_equal(len, 4);
    assert_memory_equal(out, "Zm9vx", 5);
    assert_int_equal(tkr_b64url_encode(out, 5, &len, (const uint8_t *)"foo", 3), 0);
    assert_string_equal(out, "Zm9v");
    assert_int_equal(tkr_b64url_encode(NULL, 0, &len, (const uint8_t *)"f", 1),
                     TKR_E_BUFFER_TOO_SMALL);
    assert_int_equal(len, 2);
}

static void test_invalid_arguments(void **state)
{
    uint8_t out[4];
    size_t len;
    (void)state;

    assert_int_equal(tkr_b64url_decode(out, sizeof(out), NULL, "Zg", 2, NULL),
                     TKR_E_INVALID_ARG);
    assert_int_equal(tkr_b64url_decode(out, sizeof(out), &len, NULL, 2, NULL),
                     TKR_E_INVALID_ARG);
    assert_int_equal(tkr_b64url_encode((char *)out, sizeof(out), NULL,
                                       (const uint8_t *)"f", 1),
                     TKR_E_INVALID_ARG);
    assert_int_equal(tkr_b64url_encode((char *)out, sizeof(out), &len, NULL, 1),
                     TKR_E_INVALID_ARG);
}

static void test_size_macros(void **state)
{
    size_t n;
    (void)state;

    for (n = 0; n < 200; n++) {
        assert_int_equal(TKR_B64URL_ENCODED_LEN(n), (4 * n + 2) / 3);
        /* every valid length decodes to at most DECODED_MAX bytes */
        if (n % 4 != 1)
            assert_true((n / 4) * 3 + (n % 4 ? n % 4 - 1 : 0) <=
                        TKR_B64URL_DECODED_MAX(n));
    }
}

/* In place (in == out): the same text as into a separate buffer, for
 * every tail length, and nothing written past the encoded length + NUL. */
static void test_encode_in_place(void **state)
{
    uint8_t src[64];
    char ref[96], buf[100];
    size_t n, rn, len, i;
    (void)state;
    for (i = 0; i < sizeof(src); i++)
        src[i] = (uint8_t)(i * 37 + 11);
    for (len = 0; len <= sizeof(src); len++) {
        assert_int_equal(tkr_b64url_encode(ref, sizeof(ref), &rn, src, len), 0);
        memset(buf, '#', sizeof(buf));
        memcpy(buf, src, len);
        assert_int_equal(tkr_b64url_encode(buf, rn + 1, &n, (const uint8_t *)buf, len), 0);
        assert_int_equal(n, rn);
        assert_memory_equal(buf, ref, rn);
        assert_int_equal(buf[rn], '\0');
        assert_int_equal(buf[rn + 1], '#');
    }
}

/* A rejected text reports where: the first character outside the
 * alphabet, else (bad length, non-zero trailing bits) the last one. */
static void test_decode_diag_gives_the_offset(void **state)
{
    static const struct {
        const char *in;
        size_t off;
    } v[] = {
        {"ab*c", 2}, {"abcd=", 4}, {"ab+d", 2}, {"a b", 1},
        {"abcde", 4},  /* 1 mod 4, every character valid */
        {"QR", 1},     /* 'R' leaves non-zero bits */
        {"AAAAQR", 5},
    };
    uint8_t out[16];
    size_t i, n;
    (void)state;

    for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        tkr_diag_t d;
        tkr_diag_clear(&d);
        assert_int_equal(tkr_b64url_decode(out, sizeof(out), &n, v[i].in,
                                           strlen(v[i].in), &d), TKR_E_BASE64);
        if (!d.has_offset || d.offset != v[i].off)
            fail_msg("\"%s\": offset %zu, expected %zu", v[i].in, d.offset, v[i].off);
        assert_true(d.msg[0] != '\0');
        /* the size query reports the same */
        tkr_diag_clear(&d);
        assert_int_equal(tkr_b64url_decode(NULL, 0, &n, v[i].in, strlen(v[i].in), &d),
                         TKR_E_BASE64);
        assert_int_equal(d.offset, v[i].off);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_encode_rfc4648_s10_vectors),
        cmocka_unit_test(test_decode_diag_gives_the_offset),
        cmocka_unit_test(test_decode_rfc4648_s10_vectors),
        cmocka_unit_test(test_encode_uses_url_alphabet),
        cmocka_unit_test(test_round_trip_lengths_0_to_64_random_bytes),
        cmocka_unit_test(test_decode_rejects_padding),
        cmocka_unit_test(test_decode_rejects_whitespace),
        cmocka_unit_test(test_decode_rejects_standard_alphabet),
        cmocka_unit_test(test_decode_rejects_length_1_mod_4),
        cmocka_unit_test(test_decode_rejects_nonzero_trailing_bits),
        cmocka_unit_test(test_decode_rejects_nul_and_non_ascii),
        cmocka_unit_test(test_decode_size_query_with_null_out),
        cmocka_unit_test(test_decode_buffer_too_small),
        cmocka_unit_test(test_encode_buffer_too_small),
        cmocka_unit_test(test_invalid_arguments),
        cmocka_unit_test(test_size_macros),
        cmocka_unit_test(test_encode_in_place),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
