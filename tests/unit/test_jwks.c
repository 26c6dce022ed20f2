/* test_jwks.c — JSON Web Key Sets (RFC 7517) to verification keys.
 *
 * Independent sources: RFC 7517 Appendices A.1, A.2 and B, RFC 7515 A.3
 * (tests/vectors/rfc7515, rfc7517), and RFC 7638 §3.1, whose thumbprint of
 * the A.1 RSA key pins the exact modulus and exponent that must be loaded.
 * Keys of the round trips: tests/vectors/keys/. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "test_util.h"

#include <mbedtls/base64.h>
#include <mbedtls/bignum.h>
#include <mbedtls/md.h>
#include <mbedtls/pk.h>
#include <mbedtls/rsa.h>
#include <mbedtls/x509_crt.h>

#include "tkr_port_posix.h"
#include "tokenroll/b64url.h"
#include "tokenroll/error.h"
#include "tokenroll/json.h"
#include "tokenroll/jwks.h"
#include "tokenroll/jwt.h"
#include "tokenroll/key.h"

#define VEC "tests/vectors/"

/* snprintf into an array, failing the test on truncation */
#define FMT(buf, ...) assert_true(snprintf(buf, sizeof(buf), __VA_ARGS__) < (int)sizeof(buf))

static tkr_posix_t port_ctx = {TKR_LOG_ERROR, -1};
static tkr_port_t port;
static tkr_jwks_t set;
static tkr_jwt_t jwt;
static char text[16384];
static char token[8192];
static mbedtls_pk_context rsa_a, rsa_b, p256_a, p256_b, p384, p384_b;

/* A.1's RSA key (also RFC 7638 §3.1's example), n as in the RFC. */
static const char a1_n[] =
    "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aP"
    "FFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93"
    "lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZ"
    "Hzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3X"
    "PksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw";

/* A.1's EC key coordinates. */
static const char a1_x[] = "MKBCTNIcKUSDii11ySs3526iDZ8AiTo7Tu6KPAqv7D4";
static const char a1_y[] = "4Etl6SRW2YiLUrN5vfvVHuhp7x8PxltmWWlbbM4IFyM";

static void load_key(mbedtls_pk_context *pk, const char *path)
{
    load_key_with(pk, path, &port);
}

static int parse_set(const char *json)
{
    tkr_jwks_free(&set);
    tkr_jwks_init(&set);
    return tkr_jwks_parse(&set, json, strlen(json), NULL);
}

static int parse_file(const char *path)
{
    size_t n = read_file(path, text, sizeof(text));
    tkr_jwks_free(&set);
    tkr_jwks_init(&set);
    return tkr_jwks_parse(&set, text, n, NULL);
}

/* Select from set into a fresh key; the key is freed again. */
static int select_rc(const char *kid, tkr_jwt_alg_t alg)
{
    mbedtls_pk_context pk;
    int rc;

    mbedtls_pk_init(&pk);
    rc = tkr_jwks_select(&set, &pk, alg, kid, NULL);
    mbedtls_pk_free(&pk);
    return rc;
}

static int key_rc(int i, tkr_jwt_alg_t *alg)
{
    mbedtls_pk_context pk;
    tkr_jwt_alg_t ignored;
    int rc;

    mbedtls_pk_init(&pk);
    rc = tkr_jwks_key(&set, &pk, alg != NULL ? alg : &ignored, i, NULL);
    mbedtls_pk_free(&pk);
    return rc;
}

static int one_key(const char *jwk_members)
{
    static char json[sizeof(text) + 32];
    FMT(json, "{\"keys\":[{%s}]}", jwk_members);
    return parse_set(json);
}

/* base64url of an mbedTLS integer, minimal (Base64urlUInt, RFC 7518 §2). */
static void b64_mpi(char *out, size_t size, const mbedtls_mpi *v)
{
    uint8_t bin[600];
    size_t n = mbedtls_mpi_size(v), len;

    assert_true(n <= sizeof(bin));
    assert_int_equal(mbedtls_mpi_write_binary(v, bin, n), 0);
    assert_int_equal(tkr_b64url_encode(out, size, &len, bin, n), 0);
}

/* The JWK of a public key, written from mbedTLS's own view of the key. */
static void jwk_of(char *out, size_t size, mbedtls_pk_context *pk, const char *kid,
                   const char *alg)
{
    char a[800], b[800], extra[128] = "";

    if (alg != NULL)
        FMT(extra, ",\"alg\":\"%s\"", alg);
    if (mbedtls_pk_get_type(pk) == MBEDTLS_PK_RSA) {
        mbedtls_mpi n, e;
        mbedtls_mpi_init(&n);
        mbedtls_mpi_init(&e);
        assert_int_equal(mbedtls_rsa_export(mbedtls_pk_rsa(*pk), &n, NULL, NULL, NULL, &e), 0);
        b64_mpi(a, sizeof(a), &n);
        b64_mpi(b, sizeof(b), &e);
        assert_true(snprintf(out, size, "{\"kty\":\"RSA\",\"kid\":\"%s\",\"n\":\"%s\",\"e\":\"%s\"%s}",
                 kid, a, b, extra) < (int)size);
        mbedtls_mpi_free(&n);
        mbedtls_mpi_free(&e);
    } else {
        /* SubjectPublicKeyInfo ends with the uncompressed point 04||X||Y */
        unsigned char der[200];
        size_t c = (mbedtls_pk_get_bitlen(pk) + 7) / 8, len;
        int n = mbedtls_pk_write_pubkey_der(pk, der, sizeof(der));
        const unsigned char *pt = der + sizeof(der) - (2 * c + 1);

        assert_true(n > 0);
        assert_int_equal(pt[0], 0x04);
        assert_int_equal(tkr_b64url_encode(a, sizeof(a), &len, pt + 1, c), 0);
        assert_int_equal(tkr_b64url_encode(b, sizeof(b), &len, pt + 1 + c, c), 0);
        assert_true(snprintf(out, size,
                 "{\"kty\":\"EC\",\"crv\":\"%s\",\"kid\":\"%s\",\"x\":\"%s\",\"y\":\"%s\"%s}",
                 c == 32 ? "P-256" : "P-384", kid, a, b, extra) < (int)size);
    }
}

/* Same public key? Compared as DER SubjectPublicKeyInfo. */
static int same_public_key(mbedtls_pk_context *x, mbedtls_pk_context *y)
{
    unsigned char a[800], b[800];
    int na = mbedtls_pk_write_pubkey_der(x, a, sizeof(a));
    int nb = mbedtls_pk_write_pubkey_der(y, b, sizeof(b));

    return na > 0 && na == nb &&
           memcmp(a + sizeof(a) - na, b + sizeof(b) - nb, (size_t)na) == 0;
}

static int setup(void **state)
{
    (void)state;
    tkr_port_posix_init(&port, &port_ctx);
    load_key(&rsa_a, VEC "keys/rsa2048_a.pem");
    load_key(&rsa_b, VEC "keys/rsa2048_b.pem");
    load_key(&p256_a, VEC "keys/p256_a.pem");
    load_key(&p256_b, VEC "keys/p256_b.pem");
    load_key(&p384, VEC "keys/p384.pem");
    load_key(&p384_b, VEC "keys/p384_b.pem");
    tkr_jwks_init(&set);
    tkr_jwt_init(&jwt);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    mbedtls_pk_free(&rsa_a);
    mbedtls_pk_free(&rsa_b);
    mbedtls_pk_free(&p256_a);
    mbedtls_pk_free(&p256_b);
    mbedtls_pk_free(&p384);
    mbedtls_pk_free(&p384_b);
    tkr_jwks_free(&set);
    tkr_jwt_free(&jwt);
    return 0;
}

/* ---- RFC 7517 Appendix A.1 ---- */

static void test_rfc7517_a1_public_set_parses_and_rsa_key_selected_by_kid(void **state)
{
    mbedtls_pk_context pk;
    tkr_jwt_alg_t alg = TKR_JWT_ALG_UNKNOWN;
    (void)state;

    assert_int_equal(parse_file(VEC "rfc7517/a1_public.jwks"), 0);
    assert_int_equal(tkr_jwks_count(&set), 2);
    mbedtls_pk_init(&pk);
    assert_int_equal(tkr_jwks_select(&set, &pk, TKR_JWT_RS256, "2011-04-29", NULL), 0);
    assert_int_equal(mbedtls_pk_get_type(&pk), MBEDTLS_PK_RSA);
    assert_int_equal(mbedtls_pk_get_bitlen(&pk), 2048);
    assert_int_equal(tkr_key_check_alg(&pk, TKR_JWT_RS256), 0);
    mbedtls_pk_free(&pk);
    /* the key's "alg" is what tkr_jwks_key reports */
    assert_int_equal(key_rc(1, &alg), 0);
    assert_int_equal(alg, TKR_JWT_RS256);
    /* "alg":"RS256" binds it: not for PS256 */
    assert_int_equal(select_rc("2011-04-29", TKR_JWT_PS256), TKR_E_KEY_ALG);
    assert_int_equal(key_rc(2, NULL), TKR_E_NOT_FOUND);
    assert_int_equal(key_rc(-1, NULL), TKR_E_NOT_FOUND);
}

/* RFC 7638 §3.1: SHA-256 of {"e":..,"kty":"RSA","n":..} of this very key,
 * computed here from the modulus and exponent mbedTLS ended up with. */
static void test_rfc7517_a1_rsa_key_has_rfc7638_thumbprint(void **state)
{
    mbedtls_pk_context pk;
    mbedtls_mpi n, e;
    char nb[400], eb[16], canon[600], tp[64];
    uint8_t hash[32];
    size_t len;
    (void)state;

    assert_int_equal(parse_file(VEC "rfc7517/a1_public.jwks"), 0);
    mbedtls_pk_init(&pk);
    mbedtls_mpi_init(&n);
    mbedtls_mpi_init(&e);
    assert_int_equal(tkr_jwks_select(&set, &pk, TKR_JWT_RS256, "2011-04-29", NULL), 0);
    assert_int_equal(mbedtls_rsa_export(mbedtls_pk_rsa(pk), &n, NULL, NULL, NULL, &e), 0);
    b64_mpi(nb, sizeof(nb), &n);
    b64_mpi(eb, sizeof(eb), &e);
    assert_string_equal(nb, a1_n);
    FMT(canon, "{\"e\":\"%s\",\"kty\":\"RSA\",\"n\":\"%s\"}", eb, nb);
    assert_int_equal(mbedtls_md(mbedtls_md_info_from_type(MBEDTLS_MD_SHA256),
                                (unsigned char *)canon, strlen(canon), hash),
                     0);
    assert_int_equal(tkr_b64url_encode(tp, sizeof(tp), &len, hash, 32), 0);
    assert_string_equal(tp, "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs");
    mbedtls_mpi_free(&n);
    mbedtls_mpi_free(&e);
    mbedtls_pk_free(&pk);
}

/* A.1's EC key says "use":"enc": never a verification key. */
static void test_rfc7517_a1_ec_key_for_encryption_is_refused(void **state)
{
    (void)state;
    assert_int_equal(parse_file(VEC "rfc7517/a1_public.jwks"), 0);
    assert_int_equal(select_rc("1", TKR_JWT_ES256), TKR_E_KEY_ALG);
    assert_int_equal(key_rc(0, NULL), TKR_E_KEY_ALG);
    /* the same key with "use":"sig" or no "use" loads */
    FMT(text, "{\"keys\":[{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"%s\","
             "\"y\":\"%s\",\"use\":\"sig\",\"kid\":\"1\"}]}", a1_x, a1_y);
    assert_int_equal(parse_set(text), 0);
    assert_int_equal(select_rc("1", TKR_JWT_ES256), 0);
    FMT(text, "{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"%s\",\"y\":\"%s\"}",
             a1_x, a1_y);
    assert_int_equal(parse_set(text), 0);
    assert_int_equal(select_rc(NULL, TKR_JWT_ES256), 0);
}

static void test_use_other_than_sig_is_refused(void **state)
{
    (void)state;
    FMT(text, "\"kty\":\"RSA\",\"kid\":\"r\",\"use\":\"enc\",\"n\":\"%s\","
             "\"e\":\"AQAB\"", a1_n);
    assert_int_equal(one_key(text), 0);
    assert_int_equal(select_rc("r", TKR_JWT_RS256), TKR_E_KEY_ALG);
    assert_int_equal(select_rc(NULL, TKR_JWT_RS256), TKR_E_NOT_FOUND);
    FMT(text, "\"kty\":\"RSA\",\"kid\":\"r\",\"use\":\"SIG\",\"n\":\"%s\","
             "\"e\":\"AQAB\"", a1_n);
    assert_int_equal(one_key(text), 0);
    assert_int_equal(select_rc("r", TKR_JWT_RS256), TKR_E_KEY_ALG);
    FMT(text, "\"kty\":\"RSA\",\"kid\":\"r\",\"use\":[\"sig\"],\"n\":\"%s\","
             "\"e\":\"AQAB\"", a1_n);
    assert_int_equal(one_key(text), 0);
    assert_int_equal(select_rc("r", TKR_JWT_RS256), TKR_E_KEY_ALG);
}

/* ---- selection without a kid ---- */

static void test_select_without_kid_single_usable_key(void **state)
{
    mbedtls_pk_context pk, ref;
    (void)state;

    /* A.1: the EC key is for encryption, so the RSA key is the only one */
    assert_int_equal(parse_file(VEC "rfc7517/a1_public.jwks"), 0);
    mbedtls_pk_init(&pk);
    mbedtls_pk_init(&ref);
    assert_int_equal(tkr_jwks_select(&set, &pk, TKR_JWT_RS256, NULL, NULL), 0);
    assert_int_equal(tkr_jwks_select(&set, &ref, TKR_JWT_RS256, "2011-04-29", NULL), 0);
    assert_true(same_public_key(&pk, &ref));
    mbedtls_pk_free(&pk);
    mbedtls_pk_init(&pk);
    assert_int_equal(tkr_jwks_select(&set, &pk, TKR_JWT_RS256, "", NULL), 0);
    assert_true(same_public_key(&pk, &ref));
    /* no usable key for ES256 at all */
    assert_int_equal(select_rc(NULL, TKR_JWT_ES256), TKR_E_NOT_FOUND);
    mbedtls_pk_free(&pk);
    mbedtls_pk_free(&ref);
}

static void test_select_without_kid_two_usable_keys_is_not_found(void **state)
{
    char a[1024], b[1024];
    (void)state;

    jwk_of(a, sizeof(a), &rsa_a, "a", NULL);
    jwk_of(b, sizeof(b), &rsa_b, "b", NULL);
    FMT(text, "{\"keys\":[%s,%s]}", a, b);
    assert_int_equal(parse_set(text), 0);
    /* the token must not pick between them */
    assert_int_equal(select_rc(NULL, TKR_JWT_RS256), TKR_E_NOT_FOUND);
    assert_int_equal(select_rc("", TKR_JWT_RS256), TKR_E_NOT_FOUND);
    assert_int_equal(select_rc("a", TKR_JWT_RS256), 0);
    assert_int_equal(select_rc("b", TKR_JWT_RS256), 0);
    /* keys of other families do not count */
    jwk_of(b, sizeof(b), &p256_a, "b", NULL);
    FMT(text, "{\"keys\":[%s,%s]}", a, b);
    assert_int_equal(parse_set(text), 0);
    assert_int_equal(select_rc(NULL, TKR_JWT_RS256), 0);
    assert_int_equal(select_rc(NULL, TKR_JWT_ES256), 0);
    assert_int_equal(select_rc(NULL, TKR_JWT_ES384), TKR_E_NOT_FOUND);
}

static void test_select_kid_bound_to_rsa_for_es256_is_key_alg(void **state)
{
    (void)state;
    assert_int_equal(parse_file(VEC "rfc7517/a1_public.jwks"), 0);
    assert_int_equal(select_rc("2011-04-29", TKR_JWT_ES256), TKR_E_KEY_ALG);
    assert_int_equal(select_rc("2011-04-29", TKR_JWT_ES384), TKR_E_KEY_ALG);
    assert_int_equal(select_rc("2011-04-29", TKR_JWT_ALG_UNKNOWN), TKR_E_KEY_ALG);
    /* and an EC key's kid asked for RSA */
    FMT(text, "{\"kty\":\"EC\",\"crv\":\"P-256\",\"kid\":\"e\",\"x\":\"%s\","
             "\"y\":\"%s\"}", a1_x, a1_y);
    assert_int_equal(parse_set(text), 0);
    assert_int_equal(select_rc("e", TKR_JWT_RS256), TKR_E_KEY_ALG);
    assert_int_equal(select_rc("e", TKR_JWT_ES384), TKR_E_KEY_ALG);
}

static void test_select_unknown_kid_is_not_found(void **state)
{
    (void)state;
    assert_int_equal(parse_file(VEC "rfc7517/a1_public.jwks"), 0);
    assert_int_equal(select_rc("2011-04-30", TKR_JWT_RS256), TKR_E_NOT_FOUND);
    assert_int_equal(select_rc("2011-04-2", TKR_JWT_RS256), TKR_E_NOT_FOUND);
    assert_int_equal(select_rc("2011-04-299", TKR_JWT_RS256), TKR_E_NOT_FOUND);
    /* a kid in the token but none in the set: not guessed either */
    FMT(text, "\"kty\":\"RSA\",\"n\":\"%s\",\"e\":\"AQAB\"", a1_n);
    assert_int_equal(one_key(text), 0);
    assert_int_equal(select_rc("x", TKR_JWT_RS256), TKR_E_NOT_FOUND);
    assert_int_equal(select_rc(NULL, TKR_JWT_RS256), 0);
}

static void test_kid_is_compared_by_value(void **state)
{
    (void)state;
    FMT(text, "\"kty\":\"RSA\",\"kid\":\"a\\/b\\u00e9\",\"n\":\"%s\","
             "\"e\":\"AQAB\"", a1_n);
    assert_int_equal(one_key(text), 0);
    assert_int_equal(select_rc("a/b\xc3\xa9", TKR_JWT_RS256), 0);
    assert_int_equal(select_rc("a\\/b\\u00e9", TKR_JWT_RS256), TKR_E_NOT_FOUND);
    /* a non-string kid matches nothing */
    FMT(text, "\"kty\":\"RSA\",\"kid\":5,\"n\":\"%s\",\"e\":\"AQAB\"", a1_n);
    assert_int_equal(one_key(text), 0);
    assert_int_equal(select_rc("5", TKR_JWT_RS256), TKR_E_NOT_FOUND);
}

/* ---- what makes a key unusable ---- */

static void test_key_with_alg_rs512_is_unusable(void **state)
{
    (void)state;
    FMT(text, "\"kty\":\"RSA\",\"kid\":\"r\",\"alg\":\"RS512\",\"n\":\"%s\","
             "\"e\":\"AQAB\"", a1_n);
    assert_int_equal(one_key(text), 0);
    assert_int_equal(key_rc(0, NULL), TKR_E_KEY_ALG);
    assert_int_equal(select_rc("r", TKR_JWT_RS256), TKR_E_KEY_ALG);
    assert_int_equal(select_rc(NULL, TKR_JWT_RS256), TKR_E_NOT_FOUND);
    /* "alg":"PS256" narrows the RSA key to PS256 */
    FMT(text, "\"kty\":\"RSA\",\"kid\":\"r\",\"alg\":\"PS256\",\"n\":\"%s\","
             "\"e\":\"AQAB\"", a1_n);
    assert_int_equal(one_key(text), 0);
    assert_int_equal(select_rc("r", TKR_JWT_PS256), 0);
    assert_int_equal(select_rc("r", TKR_JWT_RS256), TKR_E_KEY_ALG);
    assert_int_equal(select_rc(NULL, TKR_JWT_RS256), TKR_E_NOT_FOUND);
    /* an "alg" that contradicts the key type */
    FMT(text, "\"kty\":\"RSA\",\"kid\":\"r\",\"alg\":\"ES256\",\"n\":\"%s\","
             "\"e\":\"AQAB\"", a1_n);
    assert_int_equal(one_key(text), 0);
    assert_int_equal(select_rc("r", TKR_JWT_ES256), TKR_E_KEY_ALG);
    /* ... is refused when the key is loaded, not reported as ES256 */
    assert_int_equal(key_rc(0, NULL), TKR_E_KEY_ALG);
    assert_int_equal(select_rc("r", TKR_JWT_RS256), TKR_E_KEY_ALG);
    /* "alg" that is not a string, and "alg" escaped (compared by value) */
    FMT(text, "\"kty\":\"RSA\",\"kid\":\"r\",\"alg\":256,\"n\":\"%s\","
             "\"e\":\"AQAB\"", a1_n);
    assert_int_equal(one_key(text), 0);
    assert_int_equal(select_rc("r", TKR_JWT_RS256), TKR_E_KEY);
    FMT(text, "\"kty\":\"RSA\",\"kid\":\"r\",\"alg\":\"\\u0052S256\","
             "\"n\":\"%s\",\"e\":\"AQAB\"", a1_n);
    assert_int_equal(one_key(text), 0);
    assert_int_equal(select_rc("r", TKR_JWT_RS256), 0);
    assert_int_equal(select_rc("r", TKR_JWT_PS256), TKR_E_KEY_ALG);
}

static void test_rfc7517_a2_private_keys_are_refused(void **state)
{
    (void)state;
    assert_int_equal(parse_file(VEC "rfc7517/a2_private.jwks"), 0);
    assert_int_equal(tkr_jwks_count(&set), 2);
    assert_int_equal(key_rc(0, NULL), TKR_E_KEY);
    assert_int_equal(key_rc(1, NULL), TKR_E_KEY);
    assert_int_equal(select_rc("2011-04-29", TKR_JWT_RS256), TKR_E_KEY);
    assert_int_equal(select_rc("1", TKR_JWT_ES256), TKR_E_KEY);
    assert_int_equal(select_rc(NULL, TKR_JWT_RS256), TKR_E_NOT_FOUND);
    /* RFC 7515 A.3's private JWK as well */
    assert_int_equal(parse_file(VEC "rfc7515/a3_key.jwk"), 0);
    assert_int_equal(select_rc(NULL, TKR_JWT_ES256), TKR_E_NOT_FOUND);
    assert_int_equal(key_rc(0, NULL), TKR_E_KEY);
}

static void test_each_private_member_is_refused(void **state)
{
    static const char *const members[] = {"d", "p", "q", "dp", "dq", "qi", "oth", "k"};
    size_t i;
    (void)state;

    for (i = 0; i < sizeof(members) / sizeof(members[0]); i++) {
        FMT(text, "\"kty\":\"RSA\",\"kid\":\"r\",\"n\":\"%s\","
                 "\"e\":\"AQAB\",\"%s\":\"AQAB\"", a1_n, members[i]);
        assert_int_equal(one_key(text), 0);
        assert_int_equal(select_rc("r", TKR_JWT_RS256), TKR_E_KEY);
    }
    /* symmetric keys (RFC 7517 A.3) carry "k": refused too */
    assert_int_equal(parse_set("{\"keys\":[{\"kty\":\"oct\",\"kid\":\"h\","
                               "\"k\":\"GawgguFyGrWKav7AX4VKUg\"}]}"),
                     0);
    assert_int_equal(select_rc("h", TKR_JWT_RS256), TKR_E_KEY);
}

static void test_unsupported_key_types_and_curves(void **state)
{
    (void)state;
    assert_int_equal(one_key("\"kty\":\"OKP\",\"kid\":\"o\",\"crv\":\"Ed25519\","
                             "\"x\":\"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo\""),
                     0);
    assert_int_equal(key_rc(0, NULL), TKR_E_UNSUPPORTED);
    assert_int_equal(select_rc("o", TKR_JWT_ES256), TKR_E_KEY_ALG);
    assert_int_equal(select_rc(NULL, TKR_JWT_ES256), TKR_E_NOT_FOUND);
    assert_int_equal(one_key("\"kty\":\"EC\",\"kid\":\"e\",\"crv\":\"P-521\","
                             "\"x\":\"AA\",\"y\":\"AA\""),
                     0);
    assert_int_equal(key_rc(0, NULL), TKR_E_UNSUPPORTED);
    assert_int_equal(select_rc("e", TKR_JWT_ES256), TKR_E_KEY_ALG);
    assert_int_equal(one_key("\"kty\":1,\"kid\":\"e\""), 0);
    assert_int_equal(key_rc(0, NULL), TKR_E_UNSUPPORTED);
    assert_int_equal(one_key("\"kid\":\"e\""), 0);
    assert_int_equal(key_rc(0, NULL), TKR_E_UNSUPPORTED);
    assert_int_equal(one_key("\"kty\":\"rsa\",\"kid\":\"e\""), 0);
    assert_int_equal(key_rc(0, NULL), TKR_E_UNSUPPORTED);
}

/* ---- malformed key material ---- */

static void test_ec_coordinate_of_wrong_length_is_refused(void **state)
{
    char x33[64], x31[64];
    uint8_t raw[33];
    size_t len;
    (void)state;

    /* RFC 7518 §6.2.1.2: x and y are the full field size, 32 bytes */
    assert_int_equal(tkr_b64url_decode(raw, sizeof(raw), &len, a1_x, strlen(a1_x), NULL), 0);
    assert_int_equal(len, 32);
    memmove(raw + 1, raw, 32);
    raw[0] = 0;
    assert_int_equal(tkr_b64url_encode(x33, sizeof(x33), &len, raw, 33), 0);
    assert_int_equal(tkr_b64url_encode(x31, sizeof(x31), &len, raw + 2, 31), 0);
    FMT(text, "\"kty\":\"EC\",\"crv\":\"P-256\",\"kid\":\"e\",\"x\":\"%s\","
             "\"y\":\"%s\"", x33, a1_y);
    assert_int_equal(one_key(text), 0);
    assert_int_equal(select_rc("e", TKR_JWT_ES256), TKR_E_KEY);
    FMT(text, "\"kty\":\"EC\",\"crv\":\"P-256\",\"kid\":\"e\",\"x\":\"%s\","
             "\"y\":\"%s\"", x31, a1_y);
    assert_int_equal(one_key(text), 0);
    assert_int_equal(select_rc("e", TKR_JWT_ES256), TKR_E_KEY);
    FMT(text, "\"kty\":\"EC\",\"crv\":\"P-256\",\"kid\":\"e\",\"x\":\"%s\","
             "\"y\":\"%s\"", a1_x, x33);
    assert_int_equal(one_key(text), 0);
    assert_int_equal(select_rc("e", TKR_JWT_ES256), TKR_E_KEY);
    /* P-256 coordinates labelled P-384 */
    FMT(text, "\"kty\":\"EC\",\"crv\":\"P-384\",\"kid\":\"e\",\"x\":\"%s\","
             "\"y\":\"%s\"", a1_x, a1_y);
    assert_int_equal(one_key(text), 0);
    assert_int_equal(select_rc("e", TKR_JWT_ES384), TKR_E_KEY);
    /* missing coordinates */
    FMT(text, "\"kty\":\"EC\",\"crv\":\"P-256\",\"kid\":\"e\",\"x\":\"%s\"",
             a1_x);
    assert_int_equal(one_key(text), 0);
    assert_int_equal(select_rc("e", TKR_JWT_ES256), TKR_E_KEY);
}

static void test_ec_point_not_on_curve_is_refused(void **state)
{
    char y_bad[64];
    uint8_t raw[32];
    size_t len;
    (void)state;

    assert_int_equal(tkr_b64url_decode(raw, sizeof(raw), &len, a1_y, strlen(a1_y), NULL), 0);
    raw[31] ^= 1;
    assert_int_equal(tkr_b64url_encode(y_bad, sizeof(y_bad), &len, raw, 32), 0);
    FMT(text, "\"kty\":\"EC\",\"crv\":\"P-256\",\"kid\":\"e\",\"x\":\"%s\","
             "\"y\":\"%s\"", a1_x, y_bad);
    assert_int_equal(one_key(text), 0);
    assert_int_equal(select_rc("e", TKR_JWT_ES256), TKR_E_KEY);
    assert_int_equal(select_rc(NULL, TKR_JWT_ES256), TKR_E_KEY);
    /* (0, 0) is not on P-256 either */
    FMT(text, "\"kty\":\"EC\",\"crv\":\"P-256\",\"kid\":\"e\","
             "\"x\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\","
             "\"y\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\"");
    assert_int_equal(one_key(text), 0);
    assert_int_equal(select_rc("e", TKR_JWT_ES256), TKR_E_KEY);
    /* the untouched point loads: the edit is what was refused */
    FMT(text, "\"kty\":\"EC\",\"crv\":\"P-256\",\"kid\":\"e\",\"x\":\"%s\","
             "\"y\":\"%s\"", a1_x, a1_y);
    assert_int_equal(one_key(text), 0);
    assert_int_equal(select_rc("e", TKR_JWT_ES256), 0);
}

static void test_rsa_integers_with_leading_zero_are_refused(void **state)
{
    uint8_t raw[257];
    char n0[400];
    size_t len;
    (void)state;

    /* Base64urlUInt is minimal (RFC 7518 §2): no leading zero octet */
    assert_int_equal(tkr_b64url_decode(raw + 1, 256, &len, a1_n, strlen(a1_n), NULL), 0);
    assert_int_equal(len, 256);
    raw[0] = 0;
    assert_int_equal(tkr_b64url_encode(n0, sizeof(n0), &len, raw, 257), 0);
    FMT(text, "\"kty\":\"RSA\",\"kid\":\"r\",\"n\":\"%s\",\"e\":\"AQAB\"", n0);
    assert_int_equal(one_key(text), 0);
    assert_int_equal(select_rc("r", TKR_JWT_RS256), TKR_E_KEY);
    /* e = 00 01 00 01 */
    FMT(text, "\"kty\":\"RSA\",\"kid\":\"r\",\"n\":\"%s\",\"e\":\"AAEAAQ\"",
             a1_n);
    assert_int_equal(one_key(text), 0);
    assert_int_equal(select_rc("r", TKR_JWT_RS256), TKR_E_KEY);
    /* e = 1 is no RSA key */
    FMT(text, "\"kty\":\"RSA\",\"kid\":\"r\",\"n\":\"%s\",\"e\":\"AQ\"", a1_n);
    assert_int_equal(one_key(text), 0);
    assert_int_equal(select_rc("r", TKR_JWT_RS256), TKR_E_KEY);
    /* missing or empty n */
    assert_int_equal(one_key("\"kty\":\"RSA\",\"kid\":\"r\",\"e\":\"AQAB\""), 0);
    assert_int_equal(select_rc("r", TKR_JWT_RS256), TKR_E_KEY);
    assert_int_equal(one_key("\"kty\":\"RSA\",\"kid\":\"r\",\"n\":\"\",\"e\":\"AQAB\""), 0);
    assert_int_equal(select_rc("r", TKR_JWT_RS256), TKR_E_KEY);
    assert_int_equal(one_key("\"kty\":\"RSA\",\"kid\":\"r\",\"n\":5,\"e\":\"AQAB\""), 0);
    assert_int_equal(select_rc("r", TKR_JWT_RS256), TKR_E_KEY);
}

static void test_lax_base64url_in_key_material_is_refused(void **state)
{
    char n_std[400];
    size_t i;
    (void)state;

    /* padding */
    FMT(text, "\"kty\":\"RSA\",\"kid\":\"r\",\"n\":\"%s\",\"e\":\"AQAB=\"", a1_n);
    assert_int_equal(one_key(text), 0);
    assert_int_equal(select_rc("r", TKR_JWT_RS256), TKR_E_KEY);
    /* the standard alphabet */
    strcpy(n_std, a1_n);
    for (i = 0; n_std[i] != '\0'; i++)
        n_std[i] = n_std[i] == '-' ? '+' : n_std[i] == '_' ? '/' : n_std[i];
    assert_true(strcmp(n_std, a1_n) != 0);
    FMT(text, "\"kty\":\"RSA\",\"kid\":\"r\",\"n\":\"%s\",\"e\":\"AQAB\"", n_std);
    assert_int_equal(one_key(text), 0);
    assert_int_equal(select_rc("r", TKR_JWT_RS256), TKR_E_KEY);
    /* an escape inside the value: the text is not base64url */
    FMT(text, "\"kty\":\"RSA\",\"kid\":\"r\",\"n\":\"%s\",\"e\":\"\\u0041QAB\"",
             a1_n);
    assert_int_equal(one_key(text), 0);
    assert_int_equal(select_rc("r", TKR_JWT_RS256), TKR_E_KEY);
}

static void test_malformed_sets_are_refused(void **state)
{
    (void)state;
    assert_int_equal(parse_set("{\"keys\":[1]}"), TKR_E_TYPE);
    assert_int_equal(parse_set("{\"keys\":[{},\"x\"]}"), TKR_E_TYPE);
    assert_int_equal(parse_set("{\"keys\":{}}"), TKR_E_TYPE);
    assert_int_equal(parse_set("{\"keys\":\"x\"}"), TKR_E_TYPE);
    assert_int_equal(parse_set("[]"), TKR_E_TYPE);
    assert_int_equal(parse_set("{}"), TKR_E_NOT_FOUND);
    assert_int_equal(parse_set("not json"), TKR_E_JSON);
    assert_int_equal(parse_set("{\"keys\":[],\"keys\":[]}"), TKR_E_JSON_DUPLICATE);
    /* an empty set parses and offers nothing */
    assert_int_equal(parse_set("{\"keys\":[]}"), 0);
    assert_int_equal(tkr_jwks_count(&set), 0);
    assert_int_equal(select_rc(NULL, TKR_JWT_RS256), TKR_E_NOT_FOUND);
    assert_int_equal(key_rc(0, NULL), TKR_E_NOT_FOUND);
}

/* ---- RFC 7515 A.3 and RFC 7517 Appendix B ---- */

static void test_rfc7515_a3_bare_jwk_is_a_set_of_one(void **state)
{
    tkr_jwt_alg_t alg = TKR_JWT_ALG_UNKNOWN;
    mbedtls_pk_context pk;
    size_t n;
    (void)state;

    assert_int_equal(parse_file(VEC "rfc7515/a3_public.jwk"), 0);
    assert_int_equal(tkr_jwks_count(&set), 1);
    assert_int_equal(key_rc(0, &alg), 0);
    assert_int_equal(alg, TKR_JWT_ES256); /* P-256 without "alg" */
    mbedtls_pk_init(&pk);
    assert_int_equal(tkr_jwks_select(&set, &pk, TKR_JWT_ES256, NULL, NULL), 0);
    n = read_file(VEC "rfc7515/a3.jws", token, sizeof(token));
    assert_int_equal(tkr_jwt_parse(&jwt, token, n, NULL), 0);
    assert_int_equal(tkr_jwt_verify_sig(&jwt, TKR_JWT_ES256, &pk), 0);
    mbedtls_pk_free(&pk);
}

static void test_rfc7517_b_rsa_key_matches_its_x5c_certificate(void **state)
{
    mbedtls_pk_context pk;
    mbedtls_x509_crt crt;
    unsigned char der[2048];
    size_t n, dl;
    const char *raw;
    int t;
    (void)state;

    assert_int_equal(parse_file(VEC "rfc7517/b_x5c.jwk"), 0);
    mbedtls_pk_init(&pk);
    mbedtls_x509_crt_init(&crt);
    assert_int_equal(tkr_jwks_select(&set, &pk, TKR_JWT_RS256, "1b94c", NULL), 0);
    assert_int_equal(mbedtls_pk_get_bitlen(&pk), 2048);
    /* the certificate (standard base64 DER) holds the same public key */
    t = tkr_json_find(&set.doc, 0, "x5c");
    assert_true(t > 0);
    raw = tkr_json_raw(&set.doc, &n, tkr_json_child(&set.doc, t, 0));
    assert_int_equal(mbedtls_base64_decode(der, sizeof(der), &dl, (const unsigned char *)raw, n), 0);
    assert_int_equal(mbedtls_x509_crt_parse_der(&crt, der, dl), 0);
    assert_true(same_public_key(&pk, &crt.pk));
    assert_false(same_public_key(&pk, &rsa_a));
    mbedtls_x509_crt_free(&crt);
    mbedtls_pk_free(&pk);
}

/* ---- a token verified through the JWKS form of its key ---- */

static void verify_via_jwks(mbedtls_pk_context *key, mbedtls_pk_context *other,
                            tkr_jwt_alg_t alg, const char *jwk_alg)
{
    static const char claims[] = "{\"sub\":\"device-7\",\"exp\":2000}";
    char k1[1024], k2[1024];
    mbedtls_pk_context pk;
    size_t n;

    jwk_of(k1, sizeof(k1), key, "signer", jwk_alg);
    jwk_of(k2, sizeof(k2), other, "other", jwk_alg);
    FMT(text, "{\"keys\":[%s,%s]}", k2, k1);
    assert_int_equal(parse_set(text), 0);

    assert_int_equal(tkr_jwt_sign(token, sizeof(token), &n, key, alg, "signer", claims,
                                  strlen(claims), &port),
                     0);
    assert_int_equal(tkr_jwt_parse(&jwt, token, n, NULL), 0);
    mbedtls_pk_init(&pk);
    assert_int_equal(tkr_jwks_select(&set, &pk, jwt.alg, jwt.kid, NULL), 0);
    assert_true(same_public_key(&pk, key));
    assert_int_equal(tkr_jwt_verify(&jwt, alg, &pk, NULL, 1000, NULL), 0);
    mbedtls_pk_free(&pk);
    /* the other key of the set does not verify it */
    mbedtls_pk_init(&pk);
    assert_int_equal(tkr_jwks_select(&set, &pk, alg, "other", NULL), 0);
    assert_int_equal(tkr_jwt_verify_sig(&jwt, alg, &pk), TKR_E_SIGNATURE);
    mbedtls_pk_free(&pk);
}

static void test_jwt_verified_through_jwks_form_rs256(void **state)
{
    (void)state;
    verify_via_jwks(&rsa_a, &rsa_b, TKR_JWT_RS256, "RS256");
    verify_via_jwks(&rsa_b, &rsa_a, TKR_JWT_RS256, NULL);
}

static void test_jwt_verified_through_jwks_form_ps256(void **state)
{
    (void)state;
    verify_via_jwks(&rsa_a, &rsa_b, TKR_JWT_PS256, "PS256");
}

static void test_jwt_verified_through_jwks_form_es256(void **state)
{
    (void)state;
    verify_via_jwks(&p256_a, &p256_b, TKR_JWT_ES256, NULL);
    verify_via_jwks(&p256_b, &p256_a, TKR_JWT_ES256, "ES256");
}

static void test_jwt_verified_through_jwks_form_es384(void **state)
{
    tkr_jwt_alg_t alg = TKR_JWT_ALG_UNKNOWN;
    char k[1024];
    (void)state;

    verify_via_jwks(&p384, &p384_b, TKR_JWT_ES384, NULL);
    verify_via_jwks(&p384_b, &p384, TKR_JWT_ES384, "ES384");
    /* a P-384 key without "alg" binds to ES384 */
    jwk_of(k, sizeof(k), &p384, "p", NULL);
    assert_int_equal(parse_set(k), 0);
    assert_int_equal(key_rc(0, &alg), 0);
    assert_int_equal(alg, TKR_JWT_ES384);
    assert_int_equal(select_rc("p", TKR_JWT_ES256), TKR_E_KEY_ALG);
}

/* ---- no pinned algorithm: the key decides ---- */

static int select_any_rc(const char *kid, tkr_jwt_alg_t *alg, mbedtls_pk_context *want)
{
    mbedtls_pk_context pk;
    int rc;

    *alg = TKR_JWT_ALG_UNKNOWN;
    mbedtls_pk_init(&pk);
    rc = tkr_jwks_select_any(&set, &pk, alg, kid, NULL);
    if (rc == 0 && want != NULL)
        assert_true(same_public_key(&pk, want));
    mbedtls_pk_free(&pk);
    return rc;
}

static void test_select_any_reports_the_algorithm_the_key_binds(void **state)
{
    static const char claims[] = "{\"sub\":\"device-7\",\"exp\":2000}";
    char k[5][1024];
    mbedtls_pk_context pk;
    tkr_jwt_alg_t alg;
    size_t n;
    (void)state;

    /* RFC 7517 A.1: the RSA key says "alg":"RS256"; the EC one is for
     * encryption ("use":"enc") and so for no signature at all */
    assert_int_equal(parse_file(VEC "rfc7517/a1_public.jwks"), 0);
    assert_int_equal(select_any_rc("2011-04-29", &alg, NULL), 0);
    assert_int_equal(alg, TKR_JWT_RS256);
    assert_int_equal(select_any_rc("1", &alg, NULL), TKR_E_KEY_ALG);
    assert_int_equal(select_any_rc("nope", &alg, NULL), TKR_E_NOT_FOUND);
    /* two keys and no kid: the token must not pick */
    assert_int_equal(select_any_rc(NULL, &alg, NULL), TKR_E_NOT_FOUND);
    assert_int_equal(select_any_rc("", &alg, NULL), TKR_E_NOT_FOUND);

    /* without "alg", each family's default (key.c's rule) */
    jwk_of(k[0], sizeof(k[0]), &rsa_a, "r", NULL);
    jwk_of(k[1], sizeof(k[1]), &p256_a, "p256", NULL);
    jwk_of(k[2], sizeof(k[2]), &p384, "p384", NULL);
    jwk_of(k[3], sizeof(k[3]), &rsa_b, "pss", "PS256");
    jwk_of(k[4], sizeof(k[4]), &p256_b, "bad", "ES384"); /* alg of another family */
    FMT(text, "{\"keys\":[%s,%s,%s,%s,%s]}", k[0], k[1], k[2], k[3], k[4]);
    assert_int_equal(parse_set(text), 0);
    assert_int_equal(select_any_rc("r", &alg, &rsa_a), 0);
    assert_int_equal(alg, TKR_JWT_RS256);
    assert_int_equal(select_any_rc("p256", &alg, &p256_a), 0);
    assert_int_equal(alg, TKR_JWT_ES256);
    assert_int_equal(select_any_rc("p384", &alg, &p384), 0);
    assert_int_equal(alg, TKR_JWT_ES384);
    assert_int_equal(select_any_rc("pss", &alg, &rsa_b), 0);
    assert_int_equal(alg, TKR_JWT_PS256);
    assert_int_equal(select_any_rc("bad", &alg, NULL), TKR_E_KEY_ALG);

    /* a set of one needs no kid; the key and algorithm verify its token */
    FMT(text, "{\"keys\":[%s]}", k[2]);
    assert_int_equal(parse_set(text), 0);
    assert_int_equal(tkr_jwt_sign(token, sizeof(token), &n, &p384, TKR_JWT_ES384, NULL, claims,
                                  strlen(claims), &port),
                     0);
    assert_int_equal(tkr_jwt_parse(&jwt, token, n, NULL), 0);
    mbedtls_pk_init(&pk);
    assert_int_equal(tkr_jwks_select_any(&set, &pk, &alg, NULL, NULL), 0);
    assert_int_equal(alg, TKR_JWT_ES384);
    assert_int_equal(tkr_jwt_verify(&jwt, alg, &pk, NULL, 1000, NULL), 0);
    mbedtls_pk_free(&pk);

    mbedtls_pk_init(&pk);
    assert_int_equal(tkr_jwks_select_any(&set, NULL, &alg, NULL, NULL), TKR_E_INVALID_ARG);
    assert_int_equal(tkr_jwks_select_any(&set, &pk, NULL, NULL, NULL), TKR_E_INVALID_ARG);
    mbedtls_pk_free(&pk);
}

/* The one key-type rule both key.c and the JWKS code apply. */
static void test_key_family_binding(void **state)
{
    static const struct {
        tkr_key_family_t f;
        tkr_jwt_alg_t def;
        unsigned allows; /* bit per alg: RS256, PS256, ES256, ES384 */
    } v[] = {
        {TKR_KEY_FAMILY_RSA, TKR_JWT_RS256, 0x3},
        {TKR_KEY_FAMILY_P256, TKR_JWT_ES256, 0x4},
        {TKR_KEY_FAMILY_P384, TKR_JWT_ES384, 0x8},
        {TKR_KEY_FAMILY_NONE, TKR_JWT_ALG_UNKNOWN, 0x0},
    };
    static const tkr_jwt_alg_t algs[] = {TKR_JWT_RS256, TKR_JWT_PS256, TKR_JWT_ES256,
                                         TKR_JWT_ES384};
    mbedtls_pk_context p521;
    tkr_jwt_alg_t alg;
    size_t i, j;
    (void)state;

    for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        assert_int_equal(tkr_key_family_alg(v[i].f), v[i].def);
        for (j = 0; j < 4; j++)
            assert_int_equal(tkr_key_family_allows(v[i].f, algs[j]), (v[i].allows >> j) & 1);
        assert_int_equal(tkr_key_family_allows(v[i].f, TKR_JWT_ALG_UNKNOWN), 0);
    }
    assert_int_equal(tkr_key_family(&rsa_a), TKR_KEY_FAMILY_RSA);
    assert_int_equal(tkr_key_family(&p256_a), TKR_KEY_FAMILY_P256);
    assert_int_equal(tkr_key_family(&p384), TKR_KEY_FAMILY_P384);
    load_key(&p521, VEC "keys/p521.pem");
    assert_int_equal(tkr_key_family(&p521), TKR_KEY_FAMILY_NONE);
    assert_int_equal(tkr_key_default_alg(&p521, &alg), TKR_E_KEY_ALG);
    assert_int_equal(tkr_key_check_alg(&p521, TKR_JWT_ES256), TKR_E_KEY_ALG);
    mbedtls_pk_free(&p521);
    assert_int_equal(tkr_key_family(NULL), TKR_KEY_FAMILY_NONE);
}

static void test_invalid_arguments(void **state)
{
    mbedtls_pk_context pk;
    tkr_jwt_alg_t alg;
    (void)state;

    mbedtls_pk_init(&pk);
    assert_int_equal(tkr_jwks_parse(NULL, "{}", 2, NULL), TKR_E_INVALID_ARG);
    assert_int_equal(tkr_jwks_parse(&set, NULL, 2, NULL), TKR_E_INVALID_ARG);
    assert_int_equal(parse_file(VEC "rfc7517/a1_public.jwks"), 0);
    assert_int_equal(tkr_jwks_select(&set, NULL, TKR_JWT_RS256, NULL, NULL), TKR_E_INVALID_ARG);
    assert_int_equal(tkr_jwks_key(&set, NULL, &alg, 1, NULL), TKR_E_INVALID_ARG);
    assert_int_equal(tkr_jwks_key(&set, &pk, NULL, 1, NULL), TKR_E_INVALID_ARG);
    assert_int_equal(tkr_jwks_count(NULL), 0);
    mbedtls_pk_free(&pk);
}

/* A failure names the key and member at fault; a key mbedTLS rejects
 * carries its code. */
static void test_diag_names_key_and_member(void **state)
{
    static const char ones[] = "AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE";
    char json[1024];
    mbedtls_pk_context pk;
    tkr_jwt_alg_t alg;
    tkr_diag_t d;
    (void)state;

    mbedtls_pk_init(&pk);
    /* x of the wrong length, second key */
    snprintf(json, sizeof(json),
             "{\"keys\":[{\"kty\":\"EC\",\"crv\":\"P-256\",\"kid\":\"a\",\"x\":\"%s\",\"y\":\"%s\"},"
             "{\"kty\":\"EC\",\"crv\":\"P-256\",\"kid\":\"b\",\"x\":\"AAAA\",\"y\":\"%s\"}]}",
             a1_x, a1_y, a1_y);
    assert_int_equal(parse_set(json), 0);
    tkr_diag_clear(&d);
    assert_int_equal(tkr_jwks_select(&set, &pk, TKR_JWT_ES256, "b", &d), TKR_E_KEY);
    assert_string_equal(d.name, "keys[1].x");
    assert_true(d.msg[0] != '\0');
    tkr_diag_clear(&d);
    assert_int_equal(tkr_jwks_key(&set, &pk, &alg, 1, &d), TKR_E_KEY);
    assert_string_equal(d.name, "keys[1].x");
    /* the first key is fine: nothing reported */
    tkr_diag_clear(&d);
    assert_int_equal(tkr_jwks_select(&set, &pk, TKR_JWT_ES256, "a", &d), 0);
    assert_string_equal(d.name, "");

    /* a point not on the curve: mbedTLS says no, and says why */
    snprintf(json, sizeof(json),
             "{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"%s\",\"y\":\"%s\"}", ones, ones);
    assert_int_equal(parse_set(json), 0);
    tkr_diag_clear(&d);
    assert_int_equal(tkr_jwks_select_any(&set, &pk, &alg, NULL, &d), TKR_E_KEY);
    assert_string_equal(d.name, "x"); /* a bare JWK: no keys[i] */
    assert_int_not_equal(d.mbedtls, 0);

    /* use: enc, and private material */
    snprintf(json, sizeof(json),
             "{\"keys\":[{\"kty\":\"EC\",\"crv\":\"P-256\",\"kid\":\"a\",\"use\":\"enc\","
             "\"x\":\"%s\",\"y\":\"%s\"},{\"kty\":\"EC\",\"crv\":\"P-256\",\"kid\":\"p\","
             "\"d\":\"%s\",\"x\":\"%s\",\"y\":\"%s\"}]}",
             a1_x, a1_y, ones, a1_x, a1_y);
    assert_int_equal(parse_set(json), 0);
    tkr_diag_clear(&d);
    assert_int_equal(tkr_jwks_select(&set, &pk, TKR_JWT_ES256, "a", &d), TKR_E_KEY_ALG);
    assert_string_equal(d.name, "keys[0].use");
    tkr_diag_clear(&d);
    assert_int_equal(tkr_jwks_select(&set, &pk, TKR_JWT_ES256, "p", &d), TKR_E_KEY);
    assert_string_equal(d.name, "keys[1].d");
    tkr_diag_clear(&d);
    assert_int_equal(tkr_jwks_select(&set, &pk, TKR_JWT_ES256, "zz", &d), TKR_E_NOT_FOUND);
    assert_string_equal(d.name, "kid");

    /* the set itself: the member, or the offset in the text */
    tkr_jwks_free(&set);
    tkr_jwks_init(&set);
    tkr_diag_clear(&d);
    assert_int_equal(tkr_jwks_parse(&set, "{\"keys\":{}}", 11, &d), TKR_E_TYPE);
    assert_string_equal(d.name, "keys");
    tkr_diag_clear(&d);
    assert_int_equal(tkr_jwks_parse(&set, "{\"keys\":[{},7]}", 15, &d), TKR_E_TYPE);
    assert_string_equal(d.name, "keys[1]");
    tkr_diag_clear(&d);
    assert_int_equal(tkr_jwks_parse(&set, "{\"keys\":[}", 10, &d), TKR_E_JSON);
    assert_true(d.has_offset);
    assert_int_equal(d.offset, 9);
    mbedtls_pk_free(&pk);
}

/* A PEM that does not parse: TKR_E_KEY, and mbedTLS's own code for it. */
static void test_key_parse_reports_the_mbedtls_code(void **state)
{
    static const char bad[] = "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n";
    mbedtls_pk_context pk;
    tkr_diag_t d;
    (void)state;

    mbedtls_pk_init(&pk);
    tkr_diag_clear(&d);
    assert_int_equal(tkr_key_parse_private(&pk, (const uint8_t *)bad, sizeof(bad), &port, &d),
                     TKR_E_KEY);
    assert_true(d.mbedtls < 0);
    assert_true(d.msg[0] != '\0');
    mbedtls_pk_free(&pk);
    mbedtls_pk_init(&pk);
    tkr_diag_clear(&d);
    assert_int_equal(tkr_key_parse_public(&pk, (const uint8_t *)"junk", 4, &d), TKR_E_KEY);
    assert_true(d.mbedtls < 0);
    mbedtls_pk_free(&pk);
    mbedtls_pk_init(&pk);
    /* a key that is not the certificate's: the mismatch, with a code */
    tkr_diag_clear(&d);
    assert_int_equal(tkr_key_check_pair(&p256_a, &p256_b, &port, &d), TKR_E_KEY_MISMATCH);
    assert_true(d.mbedtls < 0);
    mbedtls_pk_free(&pk);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc7517_a1_public_set_parses_and_rsa_key_selected_by_kid),
        cmocka_unit_test(test_diag_names_key_and_member),
        cmocka_unit_test(test_key_parse_reports_the_mbedtls_code),
        cmocka_unit_test(test_rfc7517_a1_rsa_key_has_rfc7638_thumbprint),
        cmocka_unit_test(test_rfc7517_a1_ec_key_for_encryption_is_refused),
        cmocka_unit_test(test_use_other_than_sig_is_refused),
        cmocka_unit_test(test_select_without_kid_single_usable_key),
        cmocka_unit_test(test_select_without_kid_two_usable_keys_is_not_found),
        cmocka_unit_test(test_select_kid_bound_to_rsa_for_es256_is_key_alg),
        cmocka_unit_test(test_select_unknown_kid_is_not_found),
        cmocka_unit_test(test_kid_is_compared_by_value),
        cmocka_unit_test(test_key_with_alg_rs512_is_unusable),
        cmocka_unit_test(test_rfc7517_a2_private_keys_are_refused),
        cmocka_unit_test(test_each_private_member_is_refused),
        cmocka_unit_test(test_unsupported_key_types_and_curves),
        cmocka_unit_test(test_ec_coordinate_of_wrong_length_is_refused),
        cmocka_unit_test(test_ec_point_not_on_curve_is_refused),
        cmocka_unit_test(test_rsa_integers_with_leading_zero_are_refused),
        cmocka_unit_test(test_lax_base64url_in_key_material_is_refused),
        cmocka_unit_test(test_malformed_sets_are_refused),
        cmocka_unit_test(test_rfc7515_a3_bare_jwk_is_a_set_of_one),
        cmocka_unit_test(test_rfc7517_b_rsa_key_matches_its_x5c_certificate),
        cmocka_unit_test(test_jwt_verified_through_jwks_form_rs256),
        cmocka_unit_test(test_jwt_verified_through_jwks_form_ps256),
        cmocka_unit_test(test_jwt_verified_through_jwks_form_es256),
        cmocka_unit_test(test_jwt_verified_through_jwks_form_es384),
        cmocka_unit_test(test_select_any_reports_the_algorithm_the_key_binds),
        cmocka_unit_test(test_key_family_binding),
        cmocka_unit_test(test_invalid_arguments),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
