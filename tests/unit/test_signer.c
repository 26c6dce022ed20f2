/* test_signer.c — the CA signer: its backends, the certificate check, the
 * ECDSA signature formats, certificates written through it.
 *
 * Independent sources: keys made by OpenSSL (tests/vectors/keys/README.md),
 * FLARE's CA and token (tests/vectors/flare/), RFC 8017's RSASSA-PKCS1-v1_5
 * (deterministic: equal keys give equal bytes) checked with mbedTLS's
 * verify, and certificates parsed back by mbedTLS. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "test_util.h"

#include <mbedtls/md.h>
#include <mbedtls/x509_crt.h>

#include "compat.h"
#include "tkr_port_posix.h"
#include "tokenroll/certjson.h"
#include "tokenroll/certwrite.h"
#include "tokenroll/error.h"
#include "tokenroll/jwt.h"
#include "tokenroll/signer.h"
#include "tokenroll/token.h"

#define VEC "tests/vectors/"

static tkr_posix_t port_ctx = {TKR_LOG_ERROR, -1};
static tkr_port_t port;
static char pem[8192];
static size_t pem_len;
static tkr_jwt_t jwt;

/* The backends this build has: every loader takes the same key text. */
typedef int (*load_fn)(tkr_signer_t *, const char *, size_t);

static int load_mbed(tkr_signer_t *s, const char *p, size_t n)
{
    return tkr_signer_load_mbedtls(s, (const uint8_t *)p, n + 1, &port);
}
#if defined(TKR_WITH_OPENSSL)
static int load_ossl(tkr_signer_t *s, const char *p, size_t n)
{
    return tkr_signer_load_openssl(s, (const uint8_t *)p, n);
}
static const load_fn loaders[] = {load_mbed, load_ossl};
#else
static const load_fn loaders[] = {load_mbed};
#endif
#define NLOADERS (sizeof(loaders) / sizeof(loaders[0]))

static void load(tkr_signer_t *s, load_fn f, const char *path)
{
    pem_len = read_file(path, pem, sizeof(pem));
    tkr_signer_init(s);
    assert_int_equal(f(s, pem, pem_len), 0);
}

static void load_cert(mbedtls_x509_crt *crt, const char *path)
{
    pem_len = read_file(path, pem, sizeof(pem));
    mbedtls_x509_crt_init(crt);
    assert_int_equal(mbedtls_x509_crt_parse(crt, (const unsigned char *)pem, pem_len + 1), 0);
}

/* RFC 8017 §8.2: PKCS#1 v1.5 signatures are deterministic, so every
 * backend must produce FLARE's token byte for byte. */
static void test_every_backend_mints_flares_rs256_bytes(void **st)
{
    static char want[TKR_JWT_MAX + 1], tok[TKR_JWT_MAX + 1], claims[4096];
    tkr_signer_t s;
    size_t i, len, cl;

    (void)st;
    /* The claims of fixed_site-1.jwt, signed again. */
    read_file(VEC "flare/fixed_site-1.jwt", want, sizeof(want));
    want[strcspn(want, "\r\n")] = '\0';
    assert_int_equal(tkr_jwt_parse(&jwt, want, strlen(want), NULL), 0);
    memcpy(claims, jwt.claims, jwt.claims_len);
    cl = jwt.claims_len;
    for (i = 0; i < NLOADERS; i++) {
        load(&s, loaders[i], VEC "keys/flare_rootCA.key");
        assert_int_equal(s.alg, TKR_JWT_RS256);
        assert_int_equal(tkr_signer_jwt(tok, sizeof(tok), &len, &s, NULL, claims, cl, &port), 0);
        assert_string_equal(tok, want);
        tkr_signer_free(&s);
    }
}

static void test_token_mint_goes_through_the_signer(void **st)
{
    static char tok[TKR_JWT_MAX + 1];
    tkr_token_claims_t c;
    mbedtls_x509_crt crt;
    tkr_signer_t s;
    size_t len;

    (void)st;
    memset(&c, 0, sizeof(c));
    c.jti = "00000000-0000-4000-8000-000000000009";
    c.subject = "site-9";
    c.issued_at = 1767225600;
    c.validity = 3600;
    c.issuer = "tokenroll_test_ec_ca";
    c.policy = "{}";
    c.policy_len = 2;
    c.max_uses = 1;
    load_cert(&crt, VEC "keys/ec_ca.pem");
    load(&s, loaders[NLOADERS - 1], VEC "keys/ec_ca.key");
    assert_int_equal(tkr_token_mint(tok, sizeof(tok), &len, NULL, &s, &c, &port), 0);
    assert_int_equal(tkr_jwt_parse(&jwt, tok, len, NULL), 0);
    assert_int_equal(jwt.alg, TKR_JWT_ES256);
    assert_int_equal(tkr_jwt_verify_sig(&jwt, TKR_JWT_ES256, &crt.pk), 0);
    tkr_signer_free(&s);
    mbedtls_x509_crt_free(&crt);
}

/* Every backend, every key type: the signature verifies under the key's
 * public half (DER for ECDSA after conversion), for the hash of its alg. */
static void test_every_backend_signs_what_the_public_key_verifies(void **st)
{
    static const struct { const char *key; tkr_jwt_alg_t alg; size_t hlen; } k[] = {
        {VEC "keys/rsa2048_a.pem", TKR_JWT_RS256, 32},
        {VEC "keys/rsa2048_b.pem", TKR_JWT_RS256, 32},
        {VEC "keys/p256_a.pem", TKR_JWT_ES256, 32},
        {VEC "keys/p256_b.pem", TKR_JWT_ES256, 32},
        {VEC "keys/p384.pem", TKR_JWT_ES384, 48},
    };
    uint8_t hash[48], sig[TKR_SIGNER_SIG_MAX], der[TKR_SIGNER_ECDSA_DER_MAX];
    size_t i, j, sl, dl;

    (void)st;
    memset(hash, 0x5a, sizeof(hash));
    for (i = 0; i < NLOADERS; i++)
        for (j = 0; j < sizeof(k) / sizeof(k[0]); j++) {
            tkr_signer_t s;
            mbedtls_md_type_t md = k[j].hlen == 48 ? MBEDTLS_MD_SHA384 : MBEDTLS_MD_SHA256;
            load(&s, loaders[i], k[j].key);
            assert_int_equal(s.alg, k[j].alg);
            assert_int_equal(tkr_signer_md(&s), md);
            assert_int_equal(tkr_signer_sign(&s, sig, sizeof(sig), &sl, md, hash, k[j].hlen, &port), 0);
            if (k[j].alg == TKR_JWT_RS256) {
                assert_int_equal(sl, 256);
                assert_int_equal(mbedtls_pk_verify(&s.pub, md, hash, k[j].hlen, sig, sl), 0);
            } else {
                assert_int_equal(sl, 2 * k[j].hlen);
                assert_int_equal(tkr_signer_ecdsa_to_der(der, sizeof(der), &dl, sig, sl), 0);
                assert_int_equal(mbedtls_pk_verify(&s.pub, md, hash, k[j].hlen, der, dl), 0);
                sig[3] ^= 1;
                assert_int_equal(tkr_signer_ecdsa_to_der(der, sizeof(der), &dl, sig, sl), 0);
                assert_int_not_equal(mbedtls_pk_verify(&s.pub, md, hash, k[j].hlen, der, dl), 0);
            }
            /* one hash per key */
            assert_int_equal(tkr_signer_sign(&s, sig, sizeof(sig), &sl,
                                             md == MBEDTLS_MD_SHA256 ? MBEDTLS_MD_SHA384
                                                                     : MBEDTLS_MD_SHA256,
                                             hash, k[j].hlen, &port),
                             TKR_E_KEY_ALG);
            tkr_signer_free(&s);
            assert_string_equal(tkr_signer_backend(&s), "none");
        }
}

static void test_keys_tokenroll_cannot_sign_with_are_refused(void **st)
{
    static const char *const bad[] = {VEC "keys/rsa1024.pem", VEC "keys/p521.pem"};
    size_t i, j;

    (void)st;
    for (i = 0; i < NLOADERS; i++)
        for (j = 0; j < 2; j++) {
            tkr_signer_t s;
            pem_len = read_file(bad[j], pem, sizeof(pem));
            tkr_signer_init(&s);
            assert_int_equal(loaders[i](&s, pem, pem_len), TKR_E_KEY_ALG);
            assert_null(s.ops);
            tkr_signer_free(&s);
        }
}

static void test_garbage_and_encrypted_keys_do_not_load(void **st)
{
    size_t i;

    (void)st;
    for (i = 0; i < NLOADERS; i++) {
        tkr_signer_t s;
        tkr_signer_init(&s);
        pem_len = read_file(VEC "flare/rootCA.pem", pem, sizeof(pem));
        assert_int_equal(loaders[i](&s, pem, pem_len), TKR_E_KEY);
        /* never a prompt: an encrypted key is refused */
        pem_len = read_file(VEC "keys/ec_ca_encrypted.key", pem, sizeof(pem));
        assert_int_equal(loaders[i](&s, pem, pem_len), TKR_E_KEY);
        assert_int_equal(loaders[i](&s, "", 0), TKR_E_KEY);
        tkr_signer_free(&s);
    }
}

static void test_check_cert_accepts_the_pair_and_refuses_others(void **st)
{
    mbedtls_x509_crt flare, ec;
    size_t i;

    (void)st;
    load_cert(&flare, VEC "flare/rootCA.pem");
    load_cert(&ec, VEC "keys/ec_ca.pem");
    for (i = 0; i < NLOADERS; i++) {
        tkr_signer_t s;
        load(&s, loaders[i], VEC "keys/flare_rootCA.key");
        assert_int_equal(tkr_signer_check_cert(&s, &flare, &port), 0);
        assert_int_equal(tkr_signer_check_cert(&s, &ec, &port), TKR_E_KEY_MISMATCH);
        tkr_signer_free(&s);
        load(&s, loaders[i], VEC "keys/ec_ca_sec1.key");
        assert_int_equal(tkr_signer_check_cert(&s, &ec, &port), 0);
        assert_int_equal(tkr_signer_check_cert(&s, &flare, &port), TKR_E_KEY_MISMATCH);
        tkr_signer_free(&s);
        load(&s, loaders[i], VEC "keys/rsa2048_a.pem");
        assert_int_equal(tkr_signer_check_cert(&s, &flare, &port), TKR_E_KEY_MISMATCH);
        tkr_signer_free(&s);
    }
    mbedtls_x509_crt_free(&flare);
    mbedtls_x509_crt_free(&ec);
}

/* A backend whose public key claims to be the CA's but which signs with
 * another key: the test signature in check_cert catches it. */
static tkr_signer_t impostor_inner;

static int impostor_sign(void *ctx, uint8_t *sig, size_t size, size_t *len,
                         tkr_jwt_alg_t alg, const uint8_t *hash, size_t hlen,
                         const tkr_port_t *p)
{
    (void)ctx, (void)alg;
    return tkr_signer_sign(&impostor_inner, sig, size, len, MBEDTLS_MD_SHA256, hash, hlen, p);
}

static void test_check_cert_catches_a_backend_whose_halves_differ(void **st)
{
    static const tkr_signer_ops_t ops = {"impostor", impostor_sign, NULL};
    unsigned char spki[600];
    mbedtls_x509_crt flare;
    tkr_signer_t s;
    int n;

    (void)st;
    load_cert(&flare, VEC "flare/rootCA.pem");
    load(&impostor_inner, load_mbed, VEC "keys/rsa2048_a.pem");
    n = mbedtls_pk_write_pubkey_der(&flare.pk, spki, sizeof(spki));
    assert_true(n > 0);
    tkr_signer_init(&s);
    assert_int_equal(tkr_signer_attach(&s, &ops, NULL, spki + sizeof(spki) - n, (size_t)n), 0);
    assert_string_equal(tkr_signer_backend(&s), "impostor");
    assert_int_equal(tkr_signer_check_cert(&s, &flare, &port), TKR_E_KEY_MISMATCH);
    tkr_signer_free(&s);
    tkr_signer_free(&impostor_inner);
    mbedtls_x509_crt_free(&flare);
}

/* RFC 7518 §3.4 r||s against DER (RFC 3279 §2.2.3): leading zeros go,
 * a high bit gets a 0x00, and back again gives the same bytes. */
static void test_ecdsa_formats_round_trip(void **st)
{
    uint8_t raw[64], back[64], der[TKR_SIGNER_ECDSA_DER_MAX];
    size_t dl, i;

    (void)st;
    for (i = 0; i < 64; i++)
        raw[i] = (uint8_t)(i * 37 + 1);
    raw[0] = 0x00;  /* r with a leading zero byte */
    raw[1] = 0x7f;
    raw[32] = 0x80; /* s with the high bit set */
    assert_int_equal(tkr_signer_ecdsa_to_der(der, sizeof(der), &dl, raw, 64), 0);
    assert_int_equal(der[0], 0x30);
    assert_int_equal(der[2], 0x02);
    assert_int_equal(der[3], 31);          /* r lost its zero byte */
    assert_int_equal(der[4], 0x7f);
    assert_int_equal(der[4 + 31], 0x02);
    assert_int_equal(der[4 + 32], 33);     /* s gained one */
    assert_int_equal(der[4 + 33], 0x00);
    assert_int_equal(dl, 2 + 2 + 31 + 2 + 33);
    assert_int_equal(tkr_signer_ecdsa_to_raw(back, 32, der, dl), 0);
    assert_memory_equal(back, raw, 64);
    assert_int_equal(tkr_signer_ecdsa_to_der(der, 10, &dl, raw, 64), TKR_E_BUFFER_TOO_SMALL);
    assert_int_equal(tkr_signer_ecdsa_to_der(der, sizeof(der), &dl, raw, 63), TKR_E_INVALID_ARG);
    der[1] ^= 1; /* length no longer matches */
    assert_int_not_equal(tkr_signer_ecdsa_to_raw(back, 32, der, dl), 0);
}

/* Certificates through every backend: mbedTLS parses them back, they
 * verify under the CA's key, the signature algorithm is the key's, and
 * the authority key identifier is the CA's subject key identifier. */
static void test_certificates_through_every_backend(void **st)
{
    static const struct { const char *key, *cert; const char *oid_alg; } ca[] = {
        {VEC "keys/flare_rootCA.key", VEC "flare/rootCA.pem", "RSA"},
        {VEC "keys/ec_ca.key", VEC "keys/ec_ca.pem", "ECDSA"},
    };
    static char out[8192];
    mbedtls_pk_context leaf;
    size_t i, j, len;

    (void)st;
    load_key_with(&leaf, VEC "keys/p256_a.pem", &port);
    for (i = 0; i < NLOADERS; i++)
        for (j = 0; j < 2; j++) {
            mbedtls_x509_crt issuer, crt;
            tkr_signer_t s;
            tkr_cert_spec_t spec;
            uint32_t flags = 0;

            load_cert(&issuer, ca[j].cert);
            load(&s, loaders[i], ca[j].key);
            assert_int_equal(tkr_signer_check_cert(&s, &issuer, &port), 0);
            memset(&spec, 0, sizeof(spec));
            spec.subject_key = &leaf;
            spec.signer = &s;
            spec.issuer = &issuer;
            spec.cn = "site-1";
            spec.san = "site-1.example.com";
            spec.not_before = tkr_port_time(&port) - 60; /* verify checks the clock */
            spec.not_after = spec.not_before + 86400;
            spec.usage = TKR_CERT_CLIENT;
            assert_int_equal(tkr_cert_write_pem(out, sizeof(out), &len, &spec, &port, NULL), 0);
            assert_int_equal(len, strlen(out));
            mbedtls_x509_crt_init(&crt);
            assert_int_equal(mbedtls_x509_crt_parse(&crt, (const unsigned char *)out, len + 1), 0);
            assert_int_equal(mbedtls_x509_crt_verify(&crt, &issuer, NULL, NULL, &flags, NULL, NULL), 0);
            assert_int_equal(TKR_CRT_SIG_MD(&crt), MBEDTLS_MD_SHA256);
            assert_int_equal(crt.TKR_PRIV(sig_pk),
                             ca[j].oid_alg[0] == 'R' ? MBEDTLS_PK_RSA : MBEDTLS_PK_ECDSA);
            /* one byte of the signed part changed: the signature fails */
            crt.tbs.p[crt.tbs.len / 2] ^= 1;
            {
                mbedtls_x509_crt bad;
                mbedtls_x509_crt_init(&bad);
                if (mbedtls_x509_crt_parse_der(&bad, crt.raw.p, crt.raw.len) == 0)
                    assert_int_not_equal(mbedtls_x509_crt_verify(&bad, &issuer, NULL, NULL,
                                                                 &flags, NULL, NULL), 0);
                mbedtls_x509_crt_free(&bad);
            }
            mbedtls_x509_crt_free(&crt);
            tkr_signer_free(&s);
            mbedtls_x509_crt_free(&issuer);
        }
    mbedtls_pk_free(&leaf);
}

/* A self-signed root: no subject key, the signer's own. */
static void test_self_signed_root_uses_the_signers_key(void **st)
{
    static char out[8192];
    mbedtls_x509_crt crt;
    tkr_signer_t s;
    tkr_cert_spec_t spec;
    uint32_t flags = 0;
    size_t len, i;

    (void)st;
    for (i = 0; i < NLOADERS; i++) {
        load(&s, loaders[i], VEC "keys/p384.pem");
        memset(&spec, 0, sizeof(spec));
        spec.signer = &s;
        spec.cn = "root";
        spec.not_before = tkr_port_time(&port) - 60;
        spec.not_after = spec.not_before + 86400;
        spec.usage = TKR_CERT_CA;
        assert_int_equal(tkr_cert_write_pem(out, sizeof(out), &len, &spec, &port, NULL), 0);
        mbedtls_x509_crt_init(&crt);
        assert_int_equal(mbedtls_x509_crt_parse(&crt, (const unsigned char *)out, len + 1), 0);
        assert_int_equal(mbedtls_x509_crt_verify(&crt, &crt, NULL, NULL, &flags, NULL, NULL), 0);
        /* P-384 signs with SHA-384 */
        assert_int_equal(TKR_CRT_SIG_MD(&crt), MBEDTLS_MD_SHA384);
        assert_int_equal(tkr_signer_check_cert(&s, &crt, &port), 0);
        mbedtls_x509_crt_free(&crt);
        tkr_signer_free(&s);
    }
}

/* The workspace hands the key's text to the signer instead of parsing it,
 * and a cert.json with root_cert only (an HSM-held key) loads that way,
 * while the parsing loader still refuses it. */
static void test_certjson_hands_the_key_text_to_the_signer(void **st)
{
    static char scratch[2 * TKR_CERTJSON_MAX], key[TKR_CERTJSON_MAX], doc[TKR_CERTJSON_MAX];
    char dir[] = "/tmp/tkr-signer-XXXXXX", path[64];
    tkr_diag_t diag;
    tkr_ca_t ca;
    tkr_signer_t s;
    FILE *f;
    size_t n;

    (void)st;
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/cert.json", dir);
    n = read_file(VEC "flare/cert.json", doc, sizeof(doc));
    write_file(path, doc, n);
    tkr_ca_init(&ca);
    ca.key_text = key;
    ca.key_text_size = sizeof(key);
    assert_int_equal(tkr_certjson_load(&ca, scratch, sizeof(scratch), dir, &port, &diag), 0);
    assert_string_equal(ca.cn, "example_project");
    assert_true(ca.key_len > 0 && strstr(key, "PRIVATE KEY") != NULL);
    assert_int_equal(mbedtls_pk_get_type(&ca.key), MBEDTLS_PK_NONE); /* not parsed */
    tkr_signer_init(&s);
    assert_int_equal(tkr_signer_load_mbedtls(&s, (const uint8_t *)key, ca.key_len + 1, &port), 0);
    assert_int_equal(tkr_signer_check_cert(&s, &ca.cert, &port), 0);
    tkr_signer_free(&s);
    tkr_ca_free(&ca);

    /* root_cert only */
    f = fopen(path, "w");
    assert_non_null(f);
    fputs("{\"root_cert\": \"", f);
    n = read_file(VEC "flare/rootCA.pem", doc, sizeof(doc));
    for (size_t i = 0; i < n; i++) {
        if (doc[i] == '\n')
            fputs("\\n", f); /* JSON string escape */
        else
            fputc(doc[i], f);
    }
    fputs("\"}", f);
    fclose(f);
    tkr_ca_init(&ca);
    ca.key_text = key;
    ca.key_text_size = sizeof(key);
    assert_int_equal(tkr_certjson_load(&ca, scratch, sizeof(scratch), dir, &port, &diag), 0);
    assert_int_equal(ca.key_len, 0);
    assert_string_equal(ca.cn, "example_project");
    tkr_ca_free(&ca);
    tkr_ca_init(&ca);
    assert_int_equal(tkr_certjson_load(&ca, scratch, sizeof(scratch), dir, &port, &diag), TKR_E_NOT_FOUND);
    assert_string_equal(diag.name, "root_pri_key");
    tkr_ca_free(&ca);
    /* too small a key buffer is an error, not a cut key */
    snprintf(path, sizeof(path), "%s/cert.json", dir);
    n = read_file(VEC "flare/cert.json", doc, sizeof(doc));
    write_file(path, doc, n);
    tkr_ca_init(&ca);
    ca.key_text = key;
    ca.key_text_size = 100;
    assert_int_equal(tkr_certjson_load(&ca, scratch, sizeof(scratch), dir, &port, &diag), TKR_E_TOO_LARGE);
    tkr_ca_free(&ca);
    remove(path);
    rmdir(dir);
}

static void test_arguments_are_checked(void **st)
{
    tkr_signer_t s;
    uint8_t sig[8], h[32] = {0};
    size_t n;
    char out[16];

    (void)st;
    tkr_signer_init(&s);
    assert_int_equal(tkr_signer_sign(&s, sig, sizeof(sig), &n, MBEDTLS_MD_SHA256, h, 32, &port),
                     TKR_E_INVALID_ARG);
    assert_int_equal(tkr_signer_jwt(out, sizeof(out), &n, &s, NULL, "{}", 2, &port),
                     TKR_E_INVALID_ARG);
    assert_int_equal(tkr_signer_load_mbedtls(NULL, h, 1, &port), TKR_E_INVALID_ARG);
    assert_int_equal(tkr_signer_md(&s), MBEDTLS_MD_NONE);
    load(&s, load_mbed, VEC "keys/p256_a.pem");
    /* loading twice into one context is a mistake, not a leak */
    assert_int_equal(tkr_signer_load_mbedtls(&s, (const uint8_t *)pem, pem_len + 1, &port),
                     TKR_E_INVALID_ARG);
    assert_int_equal(tkr_signer_sign(&s, sig, sizeof(sig), &n, MBEDTLS_MD_SHA256, h, 31, &port),
                     TKR_E_INVALID_ARG);
    assert_int_equal(tkr_signer_sign(&s, sig, sizeof(sig), &n, MBEDTLS_MD_SHA256, h, 32, &port),
                     TKR_E_BUFFER_TOO_SMALL);
    tkr_signer_free(&s);
    tkr_signer_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_backend_mints_flares_rs256_bytes),
        cmocka_unit_test(test_token_mint_goes_through_the_signer),
        cmocka_unit_test(test_every_backend_signs_what_the_public_key_verifies),
        cmocka_unit_test(test_keys_tokenroll_cannot_sign_with_are_refused),
        cmocka_unit_test(test_garbage_and_encrypted_keys_do_not_load),
        cmocka_unit_test(test_check_cert_accepts_the_pair_and_refuses_others),
        cmocka_unit_test(test_check_cert_catches_a_backend_whose_halves_differ),
        cmocka_unit_test(test_ecdsa_formats_round_trip),
        cmocka_unit_test(test_certificates_through_every_backend),
        cmocka_unit_test(test_self_signed_root_uses_the_signers_key),
        cmocka_unit_test(test_certjson_hands_the_key_text_to_the_signer),
        cmocka_unit_test(test_arguments_are_checked),
    };

    tkr_port_posix_init(&port, &port_ctx);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
