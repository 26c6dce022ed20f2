/* test_certwrite.c — the certificate writer: calendar maths, the SAN's
 * form (IP parsing), the participant profiles, clamping to the issuer,
 * and private keys as PEM.
 *
 * Oracles: the C library's gmtime_r for the calendar (a different
 * algorithm), mbedTLS's certificate parser for what was written, and the
 * DER bytes of each GeneralName (RFC 5280 §4.2.1.6) for the SAN. */
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

#include <mbedtls/oid.h>
#include <mbedtls/pk.h>
#include <mbedtls/x509_crt.h>

#include "compat.h"
#include "tkr_port_posix.h"
#include "tokenroll/certwrite.h"
#include "tokenroll/csr.h"
#include "tokenroll/error.h"
#include "tokenroll/key.h"

#define VEC "tests/vectors/"

static tkr_posix_t port_ctx = {TKR_LOG_ERROR, -1};
static tkr_port_t port;
static mbedtls_pk_context leaf_key;
static tkr_signer_t ca_key; /* the CA's key, as certificates are signed */
static mbedtls_x509_crt ca, leaf;
static char pem[8192];

static int setup(void **state)
{
    (void)state;
    tkr_port_posix_init(&port, &port_ctx);
    {
        char key[4096];
        size_t n = read_file(VEC "keys/p256_a.pem", key, sizeof(key));
        tkr_signer_init(&ca_key);
        assert_int_equal(tkr_signer_load_mbedtls(&ca_key, (const uint8_t *)key, n + 1, &port), 0);
    }
    load_key_with(&leaf_key, VEC "keys/p256_b.pem", &port);
    mbedtls_x509_crt_init(&ca);
    mbedtls_x509_crt_init(&leaf);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    tkr_signer_free(&ca_key);
    mbedtls_pk_free(&leaf_key);
    mbedtls_x509_crt_free(&ca);
    mbedtls_x509_crt_free(&leaf);
    return 0;
}

/* ---- calendar ---- */

static void expect_time(int64_t t, const char *want)
{
    char got[15];

    tkr_time_x509(got, t);
    if (strcmp(got, want) != 0)
        fail_msg("%lld: got %s, want %s", (long long)t, got, want);
}

static void test_time_x509_fixed_points(void **state)
{
    (void)state;
    expect_time(0, "19700101000000");
    expect_time(-1, "19691231235959");
    expect_time(951782400, "20000229000000");     /* 2000 is a leap year */
    expect_time(951868799, "20000229235959");
    expect_time(951868800, "20000301000000");
    expect_time(4107542400, "21000301000000");    /* 2100 is not */
    expect_time(4107542399, "21000228235959");
    expect_time(1767225600, "20260101000000");
    expect_time(-2208988800, "19000101000000");
    expect_time(253402300799, "99991231235959");  /* GeneralizedTime's last */
}

static void test_time_x509_agrees_with_gmtime(void **state)
{
    int64_t t;
    uint64_t x = 0x9E3779B97F4A7C15u;
    int i;
    (void)state;

    for (i = 0; i < 20000; i++) {
        struct tm tm;
        time_t tt;
        char want[32];
        /* xorshift over 1900..9999, plus every day around the epoch */
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        t = i < 4000 ? (int64_t)(i - 2000) * 86399 : -2208988800LL + (int64_t)(x % 255611289600u);
        tt = (time_t)t;
        assert_non_null(gmtime_r(&tt, &tm));
        snprintf(want, sizeof(want), "%04d%02d%02d%02d%02d%02d", tm.tm_year + 1900,
                 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
        expect_time(t, want);
    }
}

/* ---- certificates ---- */

static void write_ca(int64_t not_after)
{
    tkr_cert_spec_t s;
    size_t len;

    memset(&s, 0, sizeof(s));
    s.signer = &ca_key; /* subject_key NULL: self-signed */
    s.cn = "test_project";
    s.not_before = 1767225600;
    s.not_after = not_after;
    s.usage = TKR_CERT_CA;
    assert_int_equal(tkr_cert_write_pem(pem, sizeof(pem), &len, &s, &port, NULL), 0);
    assert_int_equal(len, strlen(pem));
    mbedtls_x509_crt_free(&ca);
    mbedtls_x509_crt_init(&ca);
    assert_int_equal(mbedtls_x509_crt_parse(&ca, (const unsigned char *)pem, len + 1), 0);
}

static int write_leaf(tkr_subject_type_t type, const char *san, const char *role,
                      int64_t not_after)
{
    tkr_cert_spec_t s;
    size_t len;
    int rc;

    memset(&s, 0, sizeof(s));
    s.subject_key = &leaf_key;
    s.signer = &ca_key;
    s.issuer = &ca;
    s.cn = "site-1";
    s.org = "org";
    s.san = san;
    s.not_before = 1767225600;
    s.not_after = not_after;
    if ((rc = tkr_cert_profile(&s, type, role)) != 0)
        return rc;
    if ((rc = tkr_cert_write_pem(pem, sizeof(pem), &len, &s, &port, NULL)) != 0)
        return rc;
    mbedtls_x509_crt_free(&leaf);
    mbedtls_x509_crt_init(&leaf);
    assert_int_equal(mbedtls_x509_crt_parse(&leaf, (const unsigned char *)pem, len + 1), 0);
    return 0;
}

/* 1 when the leaf's DER holds tag, length and value contiguously. */
static int der_has(unsigned char tag, const void *v, size_t n)
{
    const unsigned char *p = leaf.raw.p;
    size_t i;

    for (i = 0; i + 2 + n <= leaf.raw.len; i++)
        if (p[i] == tag && p[i + 1] == n && memcmp(p + i + 2, v, n) == 0)
            return 1;
    return 0;
}

static void test_san_form_follows_the_value(void **state)
{
    static const uint8_t v4[4] = {192, 0, 2, 1};
    static const uint8_t v6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 9};
    static const uint8_t mapped[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 0, 0, 1};
    (void)state;

    write_ca(1767225600 + 400 * 86400);
    assert_int_equal(write_leaf(TKR_SUBJECT_SERVER, "192.0.2.1", NULL, 1767225600 + 86400), 0);
    assert_true(der_has(0x87, v4, 4));
    assert_int_equal(write_leaf(TKR_SUBJECT_SERVER, "2001:db8::9", NULL, 1767225600 + 86400), 0);
    assert_true(der_has(0x87, v6, 16));
    /* written as an IPv6 address, kept as one */
    assert_int_equal(write_leaf(TKR_SUBJECT_SERVER, "::ffff:10.0.0.1", NULL, 1767225600 + 86400), 0);
    assert_true(der_has(0x87, mapped, 16));
    assert_int_equal(write_leaf(TKR_SUBJECT_ADMIN, "a@example.com", "lead", 1767225600 + 86400), 0);
    assert_true(der_has(0x81, "a@example.com", 13));
    assert_int_equal(write_leaf(TKR_SUBJECT_SERVER, "server.example.com", NULL, 1767225600 + 86400), 0);
    assert_true(der_has(0x82, "server.example.com", 18));
    /* not an address (a leading zero is ambiguous): a DNS name */
    assert_int_equal(write_leaf(TKR_SUBJECT_SERVER, "010.0.0.1", NULL, 1767225600 + 86400), 0);
    assert_true(der_has(0x82, "010.0.0.1", 9));
    assert_int_equal(write_leaf(TKR_SUBJECT_SERVER, "1.2.3", NULL, 1767225600 + 86400), 0);
    assert_true(der_has(0x82, "1.2.3", 5));
}

/* The value of the first attribute oid in a parsed name, or NULL. */
static const mbedtls_x509_buf *name_value(const mbedtls_x509_name *n, const char *oid,
                                          size_t oid_len)
{
    for (; n != NULL; n = n->next)
        if (n->oid.len == oid_len && memcmp(n->oid.p, oid, oid_len) == 0)
            return &n->val;
    return NULL;
}

/* Names go into the certificate byte for byte, whatever RFC 4514 would
 * escape (mbedTLS 2.28's DN text parser refused "#" and friends: the
 * service answered 500 for a name such as "site-p#"), and the issuer is
 * the CA's subject as encoded. */
static void test_names_are_kept_exactly(void **state)
{
    static const char cn[] = "a#b+c=d\\e,f;g<h>\"i ";
    static const char org[] = "#O=1,x";
    const mbedtls_x509_buf *v;
    tkr_cert_spec_t s;
    size_t len;
    (void)state;

    write_ca(1767225600 + 400 * 86400);
    assert_int_equal(ca.issuer_raw.len, ca.subject_raw.len);
    assert_memory_equal(ca.issuer_raw.p, ca.subject_raw.p, ca.subject_raw.len);
    memset(&s, 0, sizeof(s));
    s.subject_key = &leaf_key;
    s.signer = &ca_key;
    s.issuer = &ca;
    s.cn = cn;
    s.org = org;
    s.san = "site-1";
    s.not_before = 1767225600;
    s.not_after = 1767225600 + 86400;
    assert_int_equal(tkr_cert_profile(&s, TKR_SUBJECT_CLIENT, NULL), 0);
    assert_int_equal(tkr_cert_write_pem(pem, sizeof(pem), &len, &s, &port, NULL), 0);
    mbedtls_x509_crt_free(&leaf);
    mbedtls_x509_crt_init(&leaf);
    assert_int_equal(mbedtls_x509_crt_parse(&leaf, (const unsigned char *)pem, len + 1), 0);
    v = name_value(&leaf.subject, MBEDTLS_OID_AT_CN, MBEDTLS_OID_SIZE(MBEDTLS_OID_AT_CN));
    assert_non_null(v);
    assert_int_equal(v->len, strlen(cn));
    assert_memory_equal(v->p, cn, v->len);
    v = name_value(&leaf.subject, MBEDTLS_OID_AT_ORGANIZATION,
                   MBEDTLS_OID_SIZE(MBEDTLS_OID_AT_ORGANIZATION));
    assert_non_null(v);
    assert_int_equal(v->len, strlen(org));
    assert_memory_equal(v->p, org, v->len);
    assert_int_equal(leaf.issuer_raw.len, ca.subject_raw.len);
    assert_memory_equal(leaf.issuer_raw.p, ca.subject_raw.p, ca.subject_raw.len);
    /* X.520's upper bound for a CN */
    s.cn = "0123456789012345678901234567890123456789012345678901234567890123x";
    assert_int_equal(tkr_cert_write_pem(pem, sizeof(pem), &len, &s, &port, NULL),
                     TKR_E_INVALID_ARG);
}

static int has_eku(const char *oid, size_t len)
{
    return mbedtls_x509_crt_check_extended_key_usage(&leaf, oid, len) == 0;
}

static void test_profiles_by_participant_type(void **state)
{
    static const struct {
        tkr_subject_type_t type;
        int server, client, role;
    } v[] = {
        {TKR_SUBJECT_SERVER, 1, 0, 0},
        {TKR_SUBJECT_RELAY, 1, 1, 0},
        {TKR_SUBJECT_CLIENT, 0, 1, 0},
        {TKR_SUBJECT_ADMIN, 0, 1, 1},
    };
    tkr_cert_spec_t s;
    size_t i;
    (void)state;

    write_ca(1767225600 + 400 * 86400);
    for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        assert_int_equal(write_leaf(v[i].type, "x", "lead", 1767225600 + 86400), 0);
        if (has_eku(MBEDTLS_OID_SERVER_AUTH, MBEDTLS_OID_SIZE(MBEDTLS_OID_SERVER_AUTH)) !=
                v[i].server ||
            has_eku(MBEDTLS_OID_CLIENT_AUTH, MBEDTLS_OID_SIZE(MBEDTLS_OID_CLIENT_AUTH)) !=
                v[i].client)
            fail_msg("type %d: wrong extendedKeyUsage", (int)v[i].type);
        /* the role as a UTF8String unstructuredName, for admins only */
        assert_int_equal(der_has(0x0c, "lead", 4), v[i].role);
        assert_false(tkr_compat_crt_is_ca(&leaf));
    }
    memset(&s, 0, sizeof(s));
    assert_int_equal(tkr_cert_profile(&s, TKR_SUBJECT_PATTERN, NULL), TKR_E_INVALID_ARG);
    assert_int_equal(tkr_cert_profile(&s, (tkr_subject_type_t)9, NULL), TKR_E_INVALID_ARG);
    assert_int_equal(tkr_cert_profile(NULL, TKR_SUBJECT_CLIENT, NULL), TKR_E_INVALID_ARG);
    s.role = "stale";
    assert_int_equal(tkr_cert_profile(&s, TKR_SUBJECT_CLIENT, "lead"), 0);
    assert_null(s.role);
}

static void test_validity_is_clamped_to_the_issuer(void **state)
{
    uint32_t flags = 0;
    (void)state;

    write_ca(1767225600 + 30 * 86400); /* 2026-01-31 */
    assert_int_equal(write_leaf(TKR_SUBJECT_CLIENT, NULL, NULL, 1767225600 + 365 * 86400), 0);
    assert_int_equal(leaf.valid_to.year, 2026);
    assert_int_equal(leaf.valid_to.mon, 1);
    assert_int_equal(leaf.valid_to.day, 31);
    assert_int_equal(leaf.valid_from.year, 2026);
    /* signed by the CA; only the clock may object */
    (void)mbedtls_x509_crt_verify(&leaf, &ca, NULL, NULL, &flags, NULL, NULL);
    assert_int_equal(flags & ~(uint32_t)(MBEDTLS_X509_BADCERT_EXPIRED | MBEDTLS_X509_BADCERT_FUTURE),
                     0);
    /* an empty window is refused */
    assert_int_equal(write_leaf(TKR_SUBJECT_CLIENT, NULL, NULL, 1767225600), TKR_E_INVALID_ARG);
}

/* A refused certificate names the field: an empty validity window. */
static void test_diag_names_the_field(void **state)
{
    tkr_cert_spec_t s;
    tkr_diag_t d;
    size_t len;
    (void)state;

    memset(&s, 0, sizeof(s));
    s.signer = &ca_key;
    s.cn = "test_project";
    s.not_before = 1767225600;
    s.not_after = 1767225600;
    s.usage = TKR_CERT_CA;
    tkr_diag_clear(&d);
    assert_int_equal(tkr_cert_write_pem(pem, sizeof(pem), &len, &s, &port, &d),
                     TKR_E_INVALID_ARG);
    assert_string_equal(d.name, "not_after");
    s.not_after = 1767225600 + 86400;
    tkr_diag_clear(&d);
    assert_int_equal(tkr_cert_write_pem(pem, 64, &len, &s, &port, &d),
                     TKR_E_BUFFER_TOO_SMALL);
    assert_int_not_equal(d.mbedtls, 0);
}

/* ---- private keys ---- */

static void test_key_write_pem_round_trips(void **state)
{
    static const struct {
        const char *file, *head;
    } v[] = {
        {VEC "keys/rsa2048_a.pem", "-----BEGIN RSA PRIVATE KEY-----\n"},  /* PKCS#1 */
        {VEC "keys/p256_a.pem", "-----BEGIN EC PRIVATE KEY-----\n"},      /* SEC1 */
        {VEC "keys/p384.pem", "-----BEGIN EC PRIVATE KEY-----\n"},
    };
    mbedtls_pk_context k, back;
    size_t i, len, short_len;
    (void)state;

    for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        load_key_with(&k, v[i].file, &port);
        assert_int_equal(tkr_key_write_pem(pem, sizeof(pem), &len, &k, NULL), 0);
        assert_int_equal(len, strlen(pem));
        assert_memory_equal(pem, v[i].head, strlen(v[i].head));
        mbedtls_pk_init(&back);
        assert_int_equal(tkr_key_parse_private(&back, (const uint8_t *)pem, len + 1, &port, NULL), 0);
        assert_int_equal(tkr_key_check_pair(&k, &back, &port, NULL), 0);
        mbedtls_pk_free(&back);
        /* one byte short of the text and its NUL */
        short_len = len;
        assert_int_equal(tkr_key_write_pem(pem, short_len, &len, &k, NULL), TKR_E_BUFFER_TOO_SMALL);
        assert_int_equal(tkr_key_write_pem(pem, 16, &len, &k, NULL), TKR_E_BUFFER_TOO_SMALL);
        mbedtls_pk_free(&k);
    }
    /* no key at all is not a short buffer */
    mbedtls_pk_init(&k);
    assert_int_equal(tkr_key_write_pem(pem, sizeof(pem), &len, &k, NULL), TKR_E_CRYPTO);
    assert_int_equal(tkr_key_write_pem(NULL, sizeof(pem), &len, &k, NULL), TKR_E_INVALID_ARG);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_time_x509_fixed_points),
        cmocka_unit_test(test_time_x509_agrees_with_gmtime),
        cmocka_unit_test_setup_teardown(test_san_form_follows_the_value, setup, teardown),
        cmocka_unit_test_setup_teardown(test_names_are_kept_exactly, setup, teardown),
        cmocka_unit_test_setup_teardown(test_profiles_by_participant_type, setup, teardown),
        cmocka_unit_test_setup_teardown(test_validity_is_clamped_to_the_issuer, setup, teardown),
        cmocka_unit_test_setup_teardown(test_key_write_pem_round_trips, setup, teardown),
        cmocka_unit_test_setup_teardown(test_diag_names_the_field, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
