/* test_verify.c — the service's signature verifier on OpenSSL's libcrypto
 * (cli/verify_openssl.c): signatures made with mbedTLS verify under the
 * right key only, whether the key is the pinned one (decoded once), an EC
 * key built from its point, or one OpenSSL decodes in full (RSA); a point
 * off its curve is no key. In an OPENSSL=0 build the verifier is empty. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "test_util.h"

#include <mbedtls/md.h>
#include <mbedtls/pk.h>

#include "compat.h"
#include "serve.h"
#include "tkr_port_posix.h"
#include "tokenroll/error.h"
#include "tokenroll/jwt.h"
#include "tokenroll/key.h"

#define VEC "tests/vectors/"

static tkr_posix_t port_ctx = {TKR_LOG_ERROR, -1};
static tkr_port_t port;
static mbedtls_pk_context rsa_a, rsa_b, p256_a, p256_b, p384, p384_b;

static int setup(void **state)
{
    (void)state;
    tkr_port_posix_init(&port, &port_ctx);
    load_key_with(&rsa_a, VEC "keys/rsa2048_a.pem", &port);
    load_key_with(&rsa_b, VEC "keys/rsa2048_b.pem", &port);
    load_key_with(&p256_a, VEC "keys/p256_a.pem", &port);
    load_key_with(&p256_b, VEC "keys/p256_b.pem", &port);
    load_key_with(&p384, VEC "keys/p384.pem", &port);
    load_key_with(&p384_b, VEC "keys/p384_b.pem", &port);
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
    return 0;
}

#if defined(TKR_WITH_OPENSSL)
/* key signs a fixed message's hash; cv must accept it under key, and
 * refuse it under other, over another hash, or with a short hash. */
static void check_pair(const cli_verifier_t *cv, mbedtls_pk_context *key,
                       mbedtls_pk_context *other, mbedtls_md_type_t md)
{
    const mbedtls_md_info_t *info = mbedtls_md_info_from_type(md);
    uint8_t hash[64], sig[MBEDTLS_PK_SIGNATURE_MAX_SIZE];
    size_t hlen = mbedtls_md_get_size(info), slen = 0;

    assert_int_equal(mbedtls_md(info, (const unsigned char *)"enroll", 6, hash), 0);
    assert_int_equal(tkr_compat_pk_sign(key, md, hash, hlen, sig, sizeof(sig), &slen,
                                        tkr_port_rng, &port),
                     0);
    assert_int_equal(tkr_sig_verify_with(&cv->v, key, md, hash, hlen, sig, slen), 0);
    assert_int_equal(tkr_sig_verify_with(&cv->v, other, md, hash, hlen, sig, slen),
                     TKR_E_SIGNATURE);
    assert_int_equal(tkr_sig_verify_with(&cv->v, key, md, hash, hlen - 1, sig, slen),
                     TKR_E_SIGNATURE);
    hash[0] ^= 1;
    assert_int_equal(tkr_sig_verify_with(&cv->v, key, md, hash, hlen, sig, slen),
                     TKR_E_SIGNATURE);
}
#endif

static void test_verifies_under_the_right_key_only(void **state)
{
    cli_verifier_t cv;

    (void)state;
    assert_int_equal(cli_verifier_init(&cv, NULL), 0);
#if defined(TKR_WITH_OPENSSL)
    assert_non_null(cv.v.verify);
    check_pair(&cv, &rsa_a, &rsa_b, MBEDTLS_MD_SHA256);
    check_pair(&cv, &p256_a, &p256_b, MBEDTLS_MD_SHA256);
    check_pair(&cv, &p384, &p384_b, MBEDTLS_MD_SHA384);
    check_pair(&cv, &p256_a, &p384, MBEDTLS_MD_SHA256);
#else
    assert_null(cv.v.verify);
#endif
    cli_verifier_free(&cv);
}

/* The pinned key is used when a signature is checked under it, and never
 * in place of another key. */
static void test_pinned_key(void **state)
{
    cli_verifier_t cv;

    (void)state;
#if defined(TKR_WITH_OPENSSL)
    assert_int_equal(cli_verifier_init(&cv, &p256_a), 0);
    assert_non_null(cv.key);
    check_pair(&cv, &p256_a, &p256_b, MBEDTLS_MD_SHA256);
    check_pair(&cv, &p256_b, &p256_a, MBEDTLS_MD_SHA256);
    check_pair(&cv, &rsa_a, &p256_a, MBEDTLS_MD_SHA256);
    cli_verifier_free(&cv);
    assert_int_equal(cli_verifier_init(&cv, &rsa_a), 0);
    check_pair(&cv, &rsa_a, &rsa_b, MBEDTLS_MD_SHA256);
    check_pair(&cv, &p384, &rsa_a, MBEDTLS_MD_SHA384);
    cli_verifier_free(&cv);
#else
    assert_int_equal(cli_verifier_init(&cv, &p256_a), 0);
    assert_null(cv.v.verify);
    cli_verifier_free(&cv);
#endif
}

/* A P-256 SubjectPublicKeyInfo whose point is moved off the curve (the
 * form built from the point directly) is refused: its import fails, and
 * the signature of the real key could not verify under it anyway. */
static void test_point_off_the_curve(void **state)
{
#if defined(TKR_WITH_OPENSSL)
    cli_verifier_t cv;
    uint8_t der[200], hash[32], sig[MBEDTLS_PK_SIGNATURE_MAX_SIZE];
    size_t slen = 0;
    int n = mbedtls_pk_write_pubkey_der(&p256_a, der, sizeof(der));
    uint8_t *spki = der + sizeof(der) - n;

    (void)state;
    assert_int_equal(n, 91);
    assert_int_equal(mbedtls_md(mbedtls_md_info_from_type(MBEDTLS_MD_SHA256),
                                (const unsigned char *)"enroll", 6, hash),
                     0);
    assert_int_equal(tkr_compat_pk_sign(&p256_a, MBEDTLS_MD_SHA256, hash, 32, sig,
                                        sizeof(sig), &slen, tkr_port_rng, &port),
                     0);
    assert_int_equal(cli_verifier_init(&cv, NULL), 0);
    assert_int_equal(cv.v.verify(cv.v.ctx, MBEDTLS_MD_SHA256, spki, (size_t)n, hash, 32,
                                 sig, slen),
                     0);
    spki[n - 1] ^= 1; /* the last byte of y */
    assert_int_not_equal(cv.v.verify(cv.v.ctx, MBEDTLS_MD_SHA256, spki, (size_t)n, hash,
                                     32, sig, slen),
                         0);
    cli_verifier_free(&cv);
#else
    (void)state;
#endif
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_verifies_under_the_right_key_only),
        cmocka_unit_test(test_pinned_key),
        cmocka_unit_test(test_point_off_the_curve),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
