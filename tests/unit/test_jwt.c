/* test_jwt.c — compact JWS parse, verify, sign (RFC 7515, 7518, 7519) and
 * the attacks of RFC 8725 and the JWT CVE history.
 *
 * Independent sources: RFC 7515 Appendix A.2 (RS256, its exact signature)
 * and A.3 (ES256) in tests/vectors/rfc7515/; curve orders from SEC 2; the
 * OpenSSL command line as a second implementation for PS256 and ES256.
 * Attack tokens are built here with mbedTLS directly, so the signature on
 * a forged header is genuine and only the property under test is wrong.
 * Test keys: tests/vectors/keys/ (README.md there says how they were made). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>

#include "test_util.h"

#include <mbedtls/asn1.h>
#include <mbedtls/asn1write.h>
#include <mbedtls/bignum.h>
#include <mbedtls/ecp.h>
#include <mbedtls/md.h>
#include <mbedtls/pk.h>
#include <mbedtls/rsa.h>

#include "compat.h"
#include "tkr_port_posix.h"
#include "tokenroll/b64url.h"
#include "tokenroll/error.h"
#include "tokenroll/json.h"
#include "tokenroll/jwks.h"
#include "tokenroll/jwt.h"
#include "tokenroll/key.h"
#include "tokenroll/signer.h"
#include "tokenroll/token.h"

#define VEC "tests/vectors/"
#define TOKEN_MAX (TKR_JWT_MAX + 64)

static tkr_posix_t port_ctx = {TKR_LOG_ERROR, -1};
static tkr_port_t port;
static tkr_jwt_t jwt;          /* large: kept static */
static tkr_jwks_t jwks;

/* Keys shared by the tests, loaded once. */
static mbedtls_pk_context rsa_a, rsa_b, rsa_1024, p256_a, p256_b, p384, p384_b, p521;

/* SEC 2 v2 §2.4.2 and §2.5.1: the group orders n of P-256 and P-384. */
static const char p256_n_hex[] =
    "FFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551";
static const char p384_n_hex[] =
    "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFC7634D81F4372DDF"
    "581A0DB248B0A77AECEC196ACCC52973";

/* ---- helpers ---- */

static void load_key(mbedtls_pk_context *pk, const char *path)
{
    load_key_with(pk, path, &port);
}

static void hex_to_bin(const char *hex, uint8_t *out, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++) {
        unsigned v;
        assert_int_equal(sscanf(hex + 2 * i, "%2x", &v), 1);
        out[i] = (uint8_t)v;
    }
}

/* base64url of in, appended at out + *pos. */
static void put_b64(char *out, size_t size, size_t *pos, const void *in,
                    size_t len)
{
    size_t n;
    assert_int_equal(tkr_b64url_encode(out + *pos, size - *pos, &n,
                                       (const uint8_t *)in, len),
                     0);
    *pos += n;
    out[*pos] = '\0';
}

static void put_str(char *out, size_t size, size_t *pos, const char *s)
{
    size_t n = strlen(s);
    assert_true(*pos + n < size);
    memcpy(out + *pos, s, n + 1);
    *pos += n;
}

/* "b64(header).b64(payload)" */
static size_t signing_input(char *out, size_t size, const char *header,
                            const char *payload)
{
    size_t pos = 0;
    put_b64(out, size, &pos, header, strlen(header));
    put_str(out, size, &pos, ".");
    put_b64(out, size, &pos, payload, strlen(payload));
    return pos;
}

typedef enum { K_RS, K_PS, K_ES, K_HS } kind_t;

/* DER ECDSA-Sig-Value to JWS r||s of n bytes each. */
static void der_to_raw(const uint8_t *der, size_t der_len, uint8_t *raw, size_t n)
{
    unsigned char *p = (unsigned char *)der, *end = p + der_len;
    size_t len;
    mbedtls_mpi r, s;

    mbedtls_mpi_init(&r);
    mbedtls_mpi_init(&s);
    assert_int_equal(mbedtls_asn1_get_tag(&p, end, &len, MBEDTLS_ASN1_CONSTRUCTED |
                                                             MBEDTLS_ASN1_SEQUENCE),
                     0);
    assert_int_equal(mbedtls_asn1_get_mpi(&p, end, &r), 0);
    assert_int_equal(mbedtls_asn1_get_mpi(&p, end, &s), 0);
    assert_int_equal(mbedtls_mpi_write_binary(&r, raw, n), 0);
    assert_int_equal(mbedtls_mpi_write_binary(&s, raw + n, n), 0);
    mbedtls_mpi_free(&r);
    mbedtls_mpi_free(&s);
}

/* JWS r||s to DER, for verifiers that want DER (mbedTLS, OpenSSL). */
static size_t raw_to_der(const uint8_t *raw, size_t n, uint8_t *der, size_t size)
{
    unsigned char *p = der + size;
    mbedtls_mpi r, s;
    int len = 0;

    mbedtls_mpi_init(&r);
    mbedtls_mpi_init(&s);
    assert_int_equal(mbedtls_mpi_read_binary(&r, raw, n), 0);
    assert_int_equal(mbedtls_mpi_read_binary(&s, raw + n, n), 0);
    len += mbedtls_asn1_write_mpi(&p, der, &s);
    len += mbedtls_asn1_write_mpi(&p, der, &r);
    len += mbedtls_asn1_write_len(&p, der, (size_t)len);
    len += mbedtls_asn1_write_tag(&p, der, MBEDTLS_ASN1_CONSTRUCTED |
                                              MBEDTLS_ASN1_SEQUENCE);
    memmove(der, p, (size_t)len);
    mbedtls_mpi_free(&r);
    mbedtls_mpi_free(&s);
    return (size_t)len;
}

/* Signature over input as JWS wants it, made with mbedTLS directly. */
static size_t sign_with(mbedtls_pk_context *pk, kind_t kind, mbedtls_md_type_t md,
                        const char *input, size_t len, uint8_t *sig)
{
    const mbedtls_md_info_t *info = mbedtls_md_info_from_type(md);
    uint8_t hash[64], der[MBEDTLS_PK_SIGNATURE_MAX_SIZE];
    size_t hlen = mbedtls_md_get_size(info), sig_len = 0;

    assert_int_equal(mbedtls_md(info, (const unsigned char *)input, len, hash), 0);
    switch (kind) {
    case K_RS:
        assert_int_equal(tkr_compat_pk_sign(pk, md, hash, hlen, sig, TKR_JWT_SIG_MAX,
                                            &sig_len, tkr_port_rng, &port),
                         0);
        return sig_len;
    case K_PS:
        assert_int_equal(tkr_compat_rsa_pss_sign(mbedtls_pk_rsa(*pk), tkr_port_rng,
                                                 &port, md, hash, (unsigned)hlen, sig),
                         0);
        return mbedtls_pk_get_len(pk);
    case K_ES: {
        size_t n = (mbedtls_pk_get_bitlen(pk) + 7) / 8;
        assert_int_equal(tkr_compat_pk_sign(pk, md, hash, hlen, der, sizeof(der),
                                            &sig_len, tkr_port_rng, &port),
                         0);
        der_to_raw(der, sig_len, sig, n);
        return 2 * n;
    }
    default:
        fail();
    }
    return 0;
}

/* A complete token: header and payload JSON as given, signed by pk. */
static size_t craft(char *out, size_t size, mbedtls_pk_context *pk, kind_t kind,
                    mbedtls_md_type_t md, const char *header, const char *payload)
{
    uint8_t sig[TKR_JWT_SIG_MAX];
    size_t pos = signing_input(out, size, header, payload);
    size_t n = sign_with(pk, kind, md, out, pos, sig);

    put_str(out, size, &pos, ".");
    put_b64(out, size, &pos, sig, n);
    return pos;
}

/* The same with an explicit signature (attacks on the signature). */
static size_t with_sig(char *out, size_t size, const char *header,
                       const char *payload, const uint8_t *sig, size_t n)
{
    size_t pos = signing_input(out, size, header, payload);
    put_str(out, size, &pos, ".");
    if (n > 0)
        put_b64(out, size, &pos, sig, n);
    return pos;
}

/* Replace the payload segment of token t (in place) by b64(payload),
 * keeping its header and signature; returns the new length. */
static size_t swap_payload(char *t, const char *payload)
{
    char sig[1024];
    char *d1 = strchr(t, '.'), *d2 = strrchr(t, '.');
    size_t pos = (size_t)(d1 + 1 - t);

    assert_true(strlen(d2) < sizeof(sig));
    strcpy(sig, d2);
    put_b64(t, TOKEN_MAX, &pos, payload, strlen(payload));
    put_str(t, TOKEN_MAX, &pos, sig);
    return pos;
}

static int parse_str(const char *token)
{
    return tkr_jwt_parse(&jwt, token, strlen(token), NULL);
}

/* Parse claims under a dummy ES256 header and signature: for claim checks,
 * which do not look at the signature. */
static int parse_claims(const char *payload)
{
    static const uint8_t sig[64] = {1};
    char tok[4096];
    size_t n = with_sig(tok, sizeof(tok), "{\"alg\":\"ES256\"}", payload, sig, 64);
    return tkr_jwt_parse(&jwt, tok, n, NULL);
}

static int claims_at(const char *payload, const tkr_jwt_rules_t *rules, int64_t now)
{
    int rc = parse_claims(payload);
    if (rc != 0)
        fail_msg("claims %s: parse %d", payload, rc);
    return tkr_jwt_check_claims(&jwt, rules, now, NULL);
}

/* Decode JWK member name of object obj in doc into out (exact length). */
static size_t jwk_member(const tkr_json_t *doc, const char *name, uint8_t *out,
                         size_t size)
{
    size_t n, len;
    int t = tkr_json_find(doc, 0, name);
    const char *raw;

    assert_true(t > 0);
    raw = tkr_json_raw(doc, &n, t);
    assert_int_equal(tkr_b64url_decode(out, size, &len, raw, n, NULL), 0);
    return len;
}

/* RFC 7515 A.2.1's RSA key, built from its JWK integers. */
static void rfc7515_a2_key(mbedtls_pk_context *pk, int with_private)
{
    static char text[4096];
    static tkr_json_tok_t tok[32];
    tkr_json_t doc;
    uint8_t n[256], e[4], d[256], p[128], q[128];
    size_t nl, el, dl, pl, ql;
    mbedtls_rsa_context *rsa;

    size_t len = read_file(VEC "rfc7515/a2_key.jwk", text, sizeof(text));
    assert_int_equal(tkr_json_parse(&doc, tok, 32, text, len, NULL), 0);
    nl = jwk_member(&doc, "n", n, sizeof(n));
    el = jwk_member(&doc, "e", e, sizeof(e));
    dl = jwk_member(&doc, "d", d, sizeof(d));
    pl = jwk_member(&doc, "p", p, sizeof(p));
    ql = jwk_member(&doc, "q", q, sizeof(q));
    assert_int_equal(nl, 256);
    mbedtls_pk_init(pk);
    assert_int_equal(mbedtls_pk_setup(pk, mbedtls_pk_info_from_type(MBEDTLS_PK_RSA)), 0);
    rsa = mbedtls_pk_rsa(*pk);
    if (with_private) {
        assert_int_equal(mbedtls_rsa_import_raw(rsa, n, nl, p, pl, q, ql, d, dl, e, el), 0);
        assert_int_equal(mbedtls_rsa_complete(rsa), 0);
        assert_int_equal(mbedtls_rsa_check_privkey(rsa), 0);
    } else {
        assert_int_equal(mbedtls_rsa_import_raw(rsa, n, nl, NULL, 0, NULL, 0, NULL, 0, e, el), 0);
        assert_int_equal(mbedtls_rsa_complete(rsa), 0);
        assert_int_equal(mbedtls_rsa_check_pubkey(rsa), 0);
    }
}

static char tok[TOKEN_MAX];
static char tok2[TOKEN_MAX];

static int setup(void **state)
{
    (void)state;
    tkr_port_posix_init(&port, &port_ctx);
    load_key(&rsa_a, VEC "keys/rsa2048_a.pem");
    load_key(&rsa_b, VEC "keys/rsa2048_b.pem");
    load_key(&rsa_1024, VEC "keys/rsa1024.pem");
    load_key(&p256_a, VEC "keys/p256_a.pem");
    load_key(&p256_b, VEC "keys/p256_b.pem");
    load_key(&p384, VEC "keys/p384.pem");
    load_key(&p384_b, VEC "keys/p384_b.pem");
    load_key(&p521, VEC "keys/p521.pem");
    tkr_jwt_init(&jwt);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    mbedtls_pk_free(&rsa_a);
    mbedtls_pk_free(&rsa_b);
    mbedtls_pk_free(&rsa_1024);
    mbedtls_pk_free(&p256_a);
    mbedtls_pk_free(&p256_b);
    mbedtls_pk_free(&p384);
    mbedtls_pk_free(&p384_b);
    mbedtls_pk_free(&p521);
    tkr_jwt_free(&jwt);
    return 0;
}

static const char claims_ok[] =
    "{\"iss\":\"https://idp.example\",\"sub\":\"site-1\",\"aud\":\"svc\","
    "\"iat\":1000,\"nbf\":1000,\"exp\":2000,\"jti\":\"j1\"}";

/* ---- RFC 7515 Appendix A ---- */

/* A.1's payload bytes, as the RFC lists them (CRLF line breaks). */
static const char rfc7515_payload[] =
    "{\"iss\":\"joe\",\r\n \"exp\":1300819380,\r\n \"http://example.com/is_root\":true}";

static void test_rfc7515_a2_rs256_token_verifies(void **state)
{
    mbedtls_pk_context pub;
    size_t n = read_file(VEC "rfc7515/a2.jws", tok, sizeof(tok));
    int64_t exp = 0;
    int t, b = 0;
    (void)state;

    rfc7515_a2_key(&pub, 0);
    assert_int_equal(tkr_jwt_parse(&jwt, tok, n, NULL), 0);
    assert_int_equal(jwt.alg, TKR_JWT_RS256);
    assert_string_equal(jwt.alg_name, "RS256");
    assert_int_equal(jwt.header_len, strlen("{\"alg\":\"RS256\"}"));
    assert_memory_equal(jwt.header, "{\"alg\":\"RS256\"}", jwt.header_len);
    assert_int_equal(jwt.claims_len, strlen(rfc7515_payload));
    assert_memory_equal(jwt.claims, rfc7515_payload, jwt.claims_len);
    assert_int_equal(jwt.sig_len, 256);
    assert_int_equal(tkr_jwt_verify_sig(&jwt, TKR_JWT_RS256, &pub), 0);
    assert_int_equal(tkr_json_get_i64(&jwt.doc, &exp, tkr_jwt_claim(&jwt, "exp")), 0);
    assert_true(exp == 1300819380);
    t = tkr_jwt_claim(&jwt, "http://example.com/is_root");
    assert_int_equal(tkr_json_get_bool(&jwt.doc, &b, t), 0);
    assert_int_equal(b, 1);
    assert_true(tkr_json_str_eq(&jwt.doc, tkr_jwt_claim(&jwt, "iss"), "joe"));
    /* valid until exp, expired at it */
    assert_int_equal(tkr_jwt_verify(&jwt, TKR_JWT_RS256, &pub, NULL, 1300819379, NULL), 0);
    assert_int_equal(tkr_jwt_verify(&jwt, TKR_JWT_RS256, &pub, NULL, 1300819380, NULL),
                     TKR_E_EXPIRED);
    /* under another key, or another pin, it does not */
    assert_int_equal(tkr_jwt_verify_sig(&jwt, TKR_JWT_RS256, &rsa_a), TKR_E_SIGNATURE);
    assert_int_equal(tkr_jwt_verify_sig(&jwt, TKR_JWT_PS256, &pub), TKR_E_JWT_ALG);
    mbedtls_pk_free(&pub);
}

static void test_rfc7515_a2_signature_reproduced_with_rfc_private_key(void **state)
{
    mbedtls_pk_context priv;
    char octets[4096], *p, *end;
    uint8_t expect[256], sig[TKR_JWT_SIG_MAX];
    size_t n = read_file(VEC "rfc7515/a2.jws", tok, sizeof(tok)), k = 0, sl;
    const char *dot2 = strrchr(tok, '.');
    char enc[400];
    (void)state;

    /* A.2.1's signature octets, in the RFC's decimal notation */
    read_file(VEC "rfc7515/a2_signature_octets.txt", octets, sizeof(octets));
    for (p = octets; *p != '\0'; p = end) {
        unsigned long v;
        while (*p != '\0' && (*p < '0' || *p > '9'))
            p++;
        if (*p == '\0')
            break;
        v = strtoul(p, &end, 10);
        assert_true(v < 256 && k < sizeof(expect));
        expect[k++] = (uint8_t)v;
    }
    assert_int_equal(k, 256);

    rfc7515_a2_key(&priv, 1);
    /* RS256 is deterministic: the RFC's signing input gives its signature */
    sl = sign_with(&priv, K_RS, MBEDTLS_MD_SHA256, tok, (size_t)(dot2 - tok), sig);
    assert_int_equal(sl, 256);
    assert_memory_equal(sig, expect, 256);
    /* and its base64url is the RFC's third segment */
    assert_int_equal(tkr_b64url_encode(enc, sizeof(enc), &sl, sig, 256), 0);
    assert_int_equal(sl, n - (size_t)(dot2 + 1 - tok));
    assert_memory_equal(enc, dot2 + 1, sl);

    /* tkr_jwt_sign writes its own header, so its token differs from the
     * RFC's; it must still verify under the RFC key. */
    assert_int_equal(tkr_jwt_sign(tok2, sizeof(tok2), &n, &priv, TKR_JWT_RS256, NULL,
                                  rfc7515_payload, strlen(rfc7515_payload), &port),
                     0);
    assert_int_equal(tkr_jwt_parse(&jwt, tok2, n, NULL), 0);
    assert_int_equal(tkr_jwt_verify_sig(&jwt, TKR_JWT_RS256, &priv), 0);
    mbedtls_pk_free(&priv);
}

static void test_rfc7515_a3_es256_token_verifies_with_rfc_jwk(void **state)
{
    static char jwk[1024];
    mbedtls_pk_context pub;
    size_t n = read_file(VEC "rfc7515/a3.jws", tok, sizeof(tok));
    size_t jl = read_file(VEC "rfc7515/a3_public.jwk", jwk, sizeof(jwk));
    (void)state;

    mbedtls_pk_init(&pub);
    tkr_jwks_init(&jwks);
    assert_int_equal(tkr_jwks_parse(&jwks, jwk, jl, NULL), 0);
    assert_int_equal(tkr_jwks_select(&jwks, &pub, TKR_JWT_ES256, NULL, NULL), 0);
    assert_int_equal(tkr_jwt_parse(&jwt, tok, n, NULL), 0);
    assert_int_equal(jwt.alg, TKR_JWT_ES256);
    assert_int_equal(jwt.claims_len, strlen(rfc7515_payload));
    assert_memory_equal(jwt.claims, rfc7515_payload, jwt.claims_len);
    assert_int_equal(jwt.sig_len, 64);
    assert_int_equal(tkr_jwt_verify_sig(&jwt, TKR_JWT_ES256, &pub), 0);
    assert_int_equal(tkr_jwt_verify_sig(&jwt, TKR_JWT_ES256, &p256_a), TKR_E_SIGNATURE);

    /* another payload ("joe" -> "jof") under the RFC's header and signature */
    n = swap_payload(tok, "{\"iss\":\"jof\",\r\n \"exp\":1300819380,\r\n "
                          "\"http://example.com/is_root\":true}");
    assert_int_equal(tkr_jwt_parse(&jwt, tok, n, NULL), 0);
    assert_int_equal(tkr_jwt_verify_sig(&jwt, TKR_JWT_ES256, &pub), TKR_E_SIGNATURE);
    mbedtls_pk_free(&pub);
    tkr_jwks_free(&jwks);
}

/* ---- sign / verify round trips ---- */

static void round_trip(mbedtls_pk_context *key, mbedtls_pk_context *other,
                       tkr_jwt_alg_t alg, const char *header, size_t sig_len)
{
    size_t n = 0, hl;
    char hdr_b64[128];
    tkr_jwt_rules_t rules = {TKR_CLAIM_EXP | TKR_CLAIM_ISS, "https://idp.example",
                             "site-1", "svc", 0};

    assert_int_equal(tkr_jwt_sign(tok, sizeof(tok), &n, key, alg, "k1", claims_ok,
                                  strlen(claims_ok), &port),
                     0);
    assert_int_equal(n, strlen(tok));
    /* header bytes: {"alg":..,"kid":"k1","typ":"JWT"} as PyJWT writes them */
    assert_int_equal(tkr_b64url_encode(hdr_b64, sizeof(hdr_b64), &hl,
                                       (const uint8_t *)header, strlen(header)),
                     0);
    assert_memory_equal(tok, hdr_b64, hl);
    assert_int_equal(tok[hl], '.');

    assert_int_equal(tkr_jwt_parse(&jwt, tok, n, NULL), 0);
    assert_int_equal(jwt.alg, alg);
    assert_string_equal(jwt.kid, "k1");
    assert_int_equal(jwt.claims_len, strlen(claims_ok));
    assert_memory_equal(jwt.claims, claims_ok, jwt.claims_len);
    assert_int_equal(jwt.sig_len, sig_len);
    assert_int_equal(tkr_jwt_verify_sig(&jwt, alg, key), 0);
    assert_int_equal(tkr_jwt_verify(&jwt, alg, key, &rules, 1500, NULL), 0);
    assert_int_equal(tkr_jwt_verify_sig(&jwt, alg, other), TKR_E_SIGNATURE);

    /* other claims under the same header and signature: refused */
    n = swap_payload(tok, "{\"iss\":\"https://idp.example\",\"sub\":\"site-2\",\"aud\":\"svc\","
                          "\"iat\":1000,\"nbf\":1000,\"exp\":2000,\"jti\":\"j1\"}");
    assert_int_equal(tkr_jwt_parse(&jwt, tok, n, NULL), 0);
    assert_int_equal(tkr_jwt_verify_sig(&jwt, alg, key), TKR_E_SIGNATURE);
}

static void test_sign_verify_round_trip_rs256(void **state)
{
    size_t n1, n2;
    (void)state;
    round_trip(&rsa_a, &rsa_b, TKR_JWT_RS256,
               "{\"alg\":\"RS256\",\"kid\":\"k1\",\"typ\":\"JWT\"}", 256);
    /* RS256 is deterministic: same inputs, same bytes */
    assert_int_equal(tkr_jwt_sign(tok, sizeof(tok), &n1, &rsa_b, TKR_JWT_RS256, NULL,
                                  claims_ok, strlen(claims_ok), &port),
                     0);
    assert_int_equal(tkr_jwt_sign(tok2, sizeof(tok2), &n2, &rsa_b, TKR_JWT_RS256, NULL,
                                  claims_ok, strlen(claims_ok), &port),
                     0);
    assert_int_equal(n1, n2);
    assert_memory_equal(tok, tok2, n1);
}

static void test_sign_verify_round_trip_ps256(void **state)
{
    (void)state;
    round_trip(&rsa_b, &rsa_a, TKR_JWT_PS256,
               "{\"alg\":\"PS256\",\"kid\":\"k1\",\"typ\":\"JWT\"}", 256);
}

static void test_sign_verify_round_trip_es256(void **state)
{
    (void)state;
    round_trip(&p256_a, &p256_b, TKR_JWT_ES256,
               "{\"alg\":\"ES256\",\"kid\":\"k1\",\"typ\":\"JWT\"}", 64);
}

static void test_sign_verify_round_trip_es384(void **state)
{
    (void)state;
    round_trip(&p384, &p384_b, TKR_JWT_ES384,
               "{\"alg\":\"ES384\",\"kid\":\"k1\",\"typ\":\"JWT\"}", 96);
}

/* The signatures tkr_jwt_sign makes verify with mbedTLS's plain API:
 * PKCS#1 v1.5 for RS256, DER-wrapped r||s for ES256/ES384. */
static void test_sign_output_verifies_with_plain_mbedtls(void **state)
{
    static const struct {
        mbedtls_pk_context *key;
        tkr_jwt_alg_t alg;
        mbedtls_md_type_t md;
    } cases[] = {
        {&rsa_a, TKR_JWT_RS256, MBEDTLS_MD_SHA256},
        {&p256_b, TKR_JWT_ES256, MBEDTLS_MD_SHA256},
        {&p384, TKR_JWT_ES384, MBEDTLS_MD_SHA384},
    };
    size_t i;
    (void)state;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const mbedtls_md_info_t *info = mbedtls_md_info_from_type(cases[i].md);
        uint8_t hash[64], sig[TKR_JWT_SIG_MAX], der[160];
        size_t n, sl, dl;
        char *dot2;

        assert_int_equal(tkr_jwt_sign(tok, sizeof(tok), &n, cases[i].key, cases[i].alg,
                                      NULL, "{}", 2, &port),
                         0);
        dot2 = strrchr(tok, '.');
        assert_int_equal(mbedtls_md(info, (unsigned char *)tok, (size_t)(dot2 - tok), hash), 0);
        assert_int_equal(tkr_b64url_decode(sig, sizeof(sig), &sl, dot2 + 1, strlen(dot2 + 1), NULL), 0);
        if (cases[i].alg == TKR_JWT_RS256) {
            assert_int_equal(mbedtls_pk_verify(cases[i].key, cases[i].md, hash,
                                               mbedtls_md_get_size(info), sig, sl),
                             0);
        } else {
            dl = raw_to_der(sig, sl / 2, der, sizeof(der));
            assert_int_equal(mbedtls_pk_verify(cases[i].key, cases[i].md, hash,
                                               mbedtls_md_get_size(info), der, dl),
                             0);
        }
    }
}

static int write_bin(const char *path, const void *data, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (f == NULL)
        return -1;
    fwrite(data, 1, n, f);
    return fclose(f);
}

/* OpenSSL as a second implementation: PS256 must use a salt of the hash
 * length (RFC 7518 §3.5), ES256 must be r||s of 32 bytes each. */
static void test_sign_ps256_es256_verify_with_openssl(void **state)
{
    char dir[] = "/tmp/tkr_jwt_XXXXXX", cmd[1024], path[256];
    unsigned char pem[2048];
    uint8_t sig[TKR_JWT_SIG_MAX], der[160];
    size_t n, sl, dl;
    char *dot2;
    (void)state;

    need_tool("openssl version");
    assert_non_null(mkdtemp(dir));

    /* PS256 */
    assert_int_equal(tkr_jwt_sign(tok, sizeof(tok), &n, &rsa_a, TKR_JWT_PS256, NULL,
                                  claims_ok, strlen(claims_ok), &port),
                     0);
    dot2 = strrchr(tok, '.');
    assert_int_equal(tkr_b64url_decode(sig, sizeof(sig), &sl, dot2 + 1, strlen(dot2 + 1), NULL), 0);
    assert_int_equal(mbedtls_pk_write_pubkey_pem(&rsa_a, pem, sizeof(pem)), 0);
    snprintf(path, sizeof(path), "%s/rsa.pub", dir);
    assert_int_equal(write_bin(path, pem, strlen((char *)pem)), 0);
    snprintf(path, sizeof(path), "%s/ps.in", dir);
    assert_int_equal(write_bin(path, tok, (size_t)(dot2 - tok)), 0);
    snprintf(path, sizeof(path), "%s/ps.sig", dir);
    assert_int_equal(write_bin(path, sig, sl), 0);
    snprintf(cmd, sizeof(cmd),
             "openssl dgst -sha256 -sigopt rsa_padding_mode:pss -sigopt rsa_pss_saltlen:32 "
             "-verify %s/rsa.pub -signature %s/ps.sig %s/ps.in >/dev/null 2>&1",
             dir, dir, dir);
    assert_int_equal(system(cmd), 0);
    /* control: the same check with another salt length must fail */
    snprintf(cmd, sizeof(cmd),
             "openssl dgst -sha256 -sigopt rsa_padding_mode:pss -sigopt rsa_pss_saltlen:20 "
             "-verify %s/rsa.pub -signature %s/ps.sig %s/ps.in >/dev/null 2>&1",
             dir, dir, dir);
    assert_int_not_equal(system(cmd), 0);

    /* ES256 */
    assert_int_equal(tkr_jwt_sign(tok, sizeof(tok), &n, &p256_a, TKR_JWT_ES256, NULL,
                                  claims_ok, strlen(claims_ok), &port),
                     0);
    dot2 = strrchr(tok, '.');
    assert_int_equal(tkr_b64url_decode(sig, sizeof(sig), &sl, dot2 + 1, strlen(dot2 + 1), NULL), 0);
    assert_int_equal(sl, 64);
    dl = raw_to_der(sig, 32, der, sizeof(der));
    assert_int_equal(mbedtls_pk_write_pubkey_pem(&p256_a, pem, sizeof(pem)), 0);
    snprintf(path, sizeof(path), "%s/ec.pub", dir);
    assert_int_equal(write_bin(path, pem, strlen((char *)pem)), 0);
    snprintf(path, sizeof(path), "%s/es.in", dir);
    assert_int_equal(write_bin(path, tok, (size_t)(dot2 - tok)), 0);
    snprintf(path, sizeof(path), "%s/es.sig", dir);
    assert_int_equal(write_bin(path, der, dl), 0);
    snprintf(cmd, sizeof(cmd),
             "openssl dgst -sha256 -verify %s/ec.pub -signature %s/es.sig %s/es.in "
             ">/dev/null 2>&1",
             dir, dir, dir);
    assert_int_equal(system(cmd), 0);

    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
}

static void test_sign_rejects_key_alg_mismatch(void **state)
{
    size_t n;
    (void)state;

    assert_int_equal(tkr_jwt_sign(tok, sizeof(tok), &n, &rsa_a, TKR_JWT_ES256, NULL,
                                  "{}", 2, &port),
                     TKR_E_KEY_ALG);
    assert_int_equal(tkr_jwt_sign(tok, sizeof(tok), &n, &p256_a, TKR_JWT_RS256, NULL,
                                  "{}", 2, &port),
                     TKR_E_KEY_ALG);
    assert_int_equal(tkr_jwt_sign(tok, sizeof(tok), &n, &p256_a, TKR_JWT_ES384, NULL,
                                  "{}", 2, &port),
                     TKR_E_KEY_ALG);
    assert_int_equal(tkr_jwt_sign(tok, sizeof(tok), &n, &p384, TKR_JWT_ES256, NULL,
                                  "{}", 2, &port),
                     TKR_E_KEY_ALG);
    /* RFC 7518 §3.3: RSA keys of at least 2048 bits */
    assert_int_equal(tkr_jwt_sign(tok, sizeof(tok), &n, &rsa_1024, TKR_JWT_RS256, NULL,
                                  "{}", 2, &port),
                     TKR_E_KEY_ALG);
    assert_int_equal(tkr_jwt_sign(tok, sizeof(tok), &n, &p521, TKR_JWT_ES256, NULL,
                                  "{}", 2, &port),
                     TKR_E_KEY_ALG);
    assert_int_equal(tkr_jwt_sign(tok, sizeof(tok), &n, &rsa_a, TKR_JWT_ALG_UNKNOWN,
                                  NULL, "{}", 2, &port),
                     TKR_E_KEY_ALG);
}

/* tkr_token_mint builds the claims inside out and encodes them in place:
 * the token is byte for byte what tkr_token_claims_json + tkr_jwt_sign
 * give, a short out is TKR_E_BUFFER_TOO_SMALL with nothing half written,
 * and claims over TKR_JWT_PAYLOAD_MAX are TKR_E_TOO_LARGE. */
static void test_token_mint_in_place_matches_two_step_signing(void **state)
{
    static char claims[TKR_JWT_PAYLOAD_MAX + 2], big[TKR_JWT_MAX * 2];
    static char policy[TKR_JWT_PAYLOAD_MAX], pem[4096];
    tkr_token_claims_t c;
    tkr_signer_t ca; /* rsa_a, as the CA's signer */
    size_t n, cn, n2, size;
    (void)state;
    n = read_file(VEC "keys/rsa2048_a.pem", pem, sizeof(pem));
    tkr_signer_init(&ca);
    assert_int_equal(tkr_signer_load_mbedtls(&ca, (const uint8_t *)pem, n + 1, &port), 0);
    memset(&c, 0, sizeof(c));
    c.jti = "0b7e4a52-5c6e-4c4b-9d1a-2f8a1c3e5d70";
    c.subject = "site-1";
    c.issued_at = 1767225600;
    c.validity = 86400;
    c.issuer = "proj";
    c.type = TKR_SUBJECT_CLIENT;
    c.policy = "{\"metadata\":{\"project\":\"p\"}}";
    c.policy_len = strlen(c.policy);
    c.max_uses = 1;
    assert_int_equal(tkr_token_mint(tok, sizeof(tok), &n, NULL, &ca, &c, &port), 0);
    assert_int_equal(tkr_token_claims_json(claims, sizeof(claims), &cn, NULL, &c, &port), 0);
    assert_int_equal(tkr_jwt_sign(tok2, sizeof(tok2), &n2, &rsa_a, TKR_JWT_RS256, NULL, claims,
                                  cn, &port),
                     0);
    assert_int_equal(n, n2); /* RS256 is deterministic */
    assert_memory_equal(tok, tok2, n + 1);
    assert_int_equal(tkr_jwt_parse(&jwt, tok, n, NULL), 0);
    assert_int_equal(tkr_jwt_verify_sig(&jwt, TKR_JWT_RS256, &rsa_a), 0);
    for (size = 0; size <= n; size += (size < n - 8 ? 29 : 1)) {
        memset(tok2, 'x', sizeof(tok2));
        n2 = 7;
        assert_int_equal(tkr_token_mint(tok2, size, &n2, NULL, &ca, &c, &port),
                         TKR_E_BUFFER_TOO_SMALL);
        /* the length needed, once the header fits */
        assert_int_equal(n2, size > (size_t)(strchr(tok, '.') - tok) + 1 ? n : 0);
        assert_int_equal(tok2[size], 'x');
        if (size > 0)
            assert_int_equal(tok2[0], '\0');
    }
    /* A policy whose claims cannot fit a verifier's TKR_JWT_PAYLOAD_MAX. */
    policy[0] = '"';
    memset(policy + 1, 'p', sizeof(policy) - 3);
    policy[sizeof(policy) - 2] = '"';
    c.policy = policy;
    c.policy_len = sizeof(policy) - 1;
    assert_int_equal(tkr_token_mint(big, sizeof(big), &n, NULL, &ca, &c, &port),
                     TKR_E_TOO_LARGE);
    assert_int_equal(big[0], '\0');
    tkr_signer_free(&ca);
}

static void test_sign_buffer_too_small_and_bad_kid(void **state)
{
    size_t n = 0, need, size, hdr;
    char kid[TKR_KID_MAX + 1];
    (void)state;

    assert_int_equal(tkr_jwt_sign(tok, sizeof(tok), &need, &p256_a, TKR_JWT_ES256, "k",
                                  claims_ok, strlen(claims_ok), &port),
                     0);
    hdr = (size_t)(strchr(tok, '.') - tok) + 1;
    for (size = 0; size <= need + 1; size += (size < need - 4 ? 17 : 1)) {
        int rc;
        memset(tok2, 'x', sizeof(tok2));
        rc = tkr_jwt_sign(tok2, size, &n, &p256_a, TKR_JWT_ES256, "k", claims_ok,
                          strlen(claims_ok), &port);
        if (size <= need) {
            assert_int_equal(rc, TKR_E_BUFFER_TOO_SMALL);
            /* the length needed, once the header fits */
            assert_int_equal(n, size > hdr ? need : 0);
            assert_int_equal(tok2[size], 'x'); /* nothing past the buffer */
            if (size > 0)
                assert_int_equal(tok2[0], '\0');
        } else {
            assert_int_equal(rc, 0);
            assert_int_equal(n, need);
        }
    }
    memset(kid, 'k', TKR_KID_MAX);
    kid[TKR_KID_MAX] = '\0';
    assert_int_equal(tkr_jwt_sign(tok, sizeof(tok), &n, &p256_a, TKR_JWT_ES256, kid,
                                  "{}", 2, &port),
                     TKR_E_INVALID_ARG);
    kid[TKR_KID_MAX - 1] = '\0';
    assert_int_equal(tkr_jwt_sign(tok, sizeof(tok), &n, &p256_a, TKR_JWT_ES256, kid,
                                  "{}", 2, &port),
                     0);
    assert_int_equal(tkr_jwt_parse(&jwt, tok, n, NULL), 0);
    assert_string_equal(jwt.kid, kid);
}

/* ---- RFC 8725 §2.1 / §3.1: algorithm confusion ---- */

static void expect_never_verifies(const char *token)
{
    static const tkr_jwt_alg_t pins[] = {TKR_JWT_RS256, TKR_JWT_PS256, TKR_JWT_ES256,
                                         TKR_JWT_ES384, TKR_JWT_ALG_UNKNOWN};
    mbedtls_pk_context *keys[] = {&rsa_a, &p256_a, &p384};
    size_t i, k;
    int rc = parse_str(token);

    if (rc != 0)
        return; /* refused outright */
    for (i = 0; i < sizeof(pins) / sizeof(pins[0]); i++)
        for (k = 0; k < 3; k++) {
            rc = tkr_jwt_verify_sig(&jwt, pins[i], keys[k]);
            assert_int_not_equal(rc, 0);
        }
}

static void test_verify_rejects_alg_none(void **state)
{
    static const uint8_t junk[4] = {1, 2, 3, 4};
    uint8_t sig[TKR_JWT_SIG_MAX];
    size_t sl;
    (void)state;

    /* the unsecured JWS of RFC 7519 §6.1: empty signature */
    with_sig(tok, sizeof(tok), "{\"alg\":\"none\"}", claims_ok, NULL, 0);
    assert_int_equal(parse_str(tok), TKR_E_JWT_FORMAT);
    expect_never_verifies(tok);
    /* with a signature attached: parses, but no pin accepts it */
    with_sig(tok, sizeof(tok), "{\"alg\":\"none\"}", claims_ok, junk, 4);
    assert_int_equal(parse_str(tok), 0);
    assert_int_equal(jwt.alg, TKR_JWT_ALG_UNKNOWN);
    assert_string_equal(jwt.alg_name, "none");
    assert_int_equal(tkr_jwt_verify_sig(&jwt, TKR_JWT_RS256, &rsa_a), TKR_E_JWT_ALG);
    assert_int_equal(tkr_jwt_verify(&jwt, TKR_JWT_RS256, &rsa_a, NULL, 1500, NULL), TKR_E_JWT_ALG);
    expect_never_verifies(tok);
    /* a genuine RS256 signature over the "none" header changes nothing */
    signing_input(tok, sizeof(tok), "{\"alg\":\"none\"}", claims_ok);
    sl = sign_with(&rsa_a, K_RS, MBEDTLS_MD_SHA256, tok, strlen(tok), sig);
    with_sig(tok, sizeof(tok), "{\"alg\":\"none\"}", claims_ok, sig, sl);
    assert_int_equal(parse_str(tok), 0);
    assert_int_equal(tkr_jwt_verify_sig(&jwt, TKR_JWT_RS256, &rsa_a), TKR_E_JWT_ALG);
    expect_never_verifies(tok);
}

static void test_verify_rejects_alg_none_case_variants(void **state)
{
    static const char *const hdrs[] = {"{\"alg\":\"None\"}", "{\"alg\":\"nOnE\"}",
                                       "{\"alg\":\"NONE\"}", "{\"alg\":\"none \"}",
                                       "{\"alg\":\"\"}"};
    static const uint8_t junk[8] = {9};
    size_t i;
    (void)state;

    for (i = 0; i < sizeof(hdrs) / sizeof(hdrs[0]); i++) {
        with_sig(tok, sizeof(tok), hdrs[i], claims_ok, NULL, 0);
        assert_int_equal(parse_str(tok), TKR_E_JWT_FORMAT);
        with_sig(tok, sizeof(tok), hdrs[i], claims_ok, junk, sizeof(junk));
        assert_int_equal(parse_str(tok), 0);
        assert_int_equal(jwt.alg, TKR_JWT_ALG_UNKNOWN);
        assert_int_equal(tkr_jwt_verify_sig(&jwt, TKR_JWT_RS256, &rsa_a), TKR_E_JWT_ALG);
        expect_never_verifies(tok);
    }
}

/* CVE-2015-9235 and kin: HS256 keyed with the verifier's RSA public key. */
static void test_verify_rejects_hs256_keyed_with_rsa_public_key_pem(void **state)
{
    unsigned char pem[2048];
    uint8_t mac[32];
    size_t n;
    (void)state;

    assert_int_equal(mbedtls_pk_write_pubkey_pem(&rsa_a, pem, sizeof(pem)), 0);
    n = signing_input(tok, sizeof(tok), "{\"alg\":\"HS256\",\"typ\":\"JWT\"}", claims_ok);
    assert_int_equal(mbedtls_md_hmac(mbedtls_md_info_from_type(MBEDTLS_MD_SHA256), pem,
                                     strlen((char *)pem), (unsigned char *)tok, n, mac),
                     0);
    with_sig(tok, sizeof(tok), "{\"alg\":\"HS256\",\"typ\":\"JWT\"}", claims_ok, mac, 32);
    assert_int_equal(parse_str(tok), 0);
    assert_string_equal(jwt.alg_name, "HS256");
    assert_int_equal(tkr_jwt_verify_sig(&jwt, TKR_JWT_RS256, &rsa_a), TKR_E_JWT_ALG);
    assert_int_equal(tkr_jwt_verify(&jwt, TKR_JWT_RS256, &rsa_a, NULL, 1500, NULL), TKR_E_JWT_ALG);
    expect_never_verifies(tok);
    /* the alg names are exact: no HMAC, no other RSA or EC hash */
    assert_int_equal(tkr_jwt_alg_from_name("HS256", 5), TKR_JWT_ALG_UNKNOWN);
    assert_int_equal(tkr_jwt_alg_from_name("RS512", 5), TKR_JWT_ALG_UNKNOWN);
    assert_int_equal(tkr_jwt_alg_from_name("ES512", 5), TKR_JWT_ALG_UNKNOWN);
    assert_int_equal(tkr_jwt_alg_from_name("rs256", 5), TKR_JWT_ALG_UNKNOWN);
    assert_int_equal(tkr_jwt_alg_from_name("RS2560", 6), TKR_JWT_ALG_UNKNOWN);
    assert_int_equal(tkr_jwt_alg_from_name("RS25", 4), TKR_JWT_ALG_UNKNOWN);
    assert_int_equal(tkr_jwt_alg_from_name("RS256", 5), TKR_JWT_RS256);
    assert_int_equal(tkr_jwt_alg_from_name("ES384", 5), TKR_JWT_ES384);
    assert_string_equal(tkr_jwt_alg_name(TKR_JWT_PS256), "PS256");
    assert_null(tkr_jwt_alg_name(TKR_JWT_ALG_UNKNOWN));
    assert_null(tkr_jwt_alg_name((tkr_jwt_alg_t)99));
}

static void test_verify_rejects_rs512_header_against_rs256_pin(void **state)
{
    (void)state;
    craft(tok, sizeof(tok), &rsa_a, K_RS, MBEDTLS_MD_SHA512, "{\"alg\":\"RS512\"}", claims_ok);
    assert_int_equal(parse_str(tok), 0);
    assert_int_equal(jwt.alg, TKR_JWT_ALG_UNKNOWN);
    assert_int_equal(tkr_jwt_verify_sig(&jwt, TKR_JWT_RS256, &rsa_a), TKR_E_JWT_ALG);
    expect_never_verifies(tok);
}

static void test_verify_rejects_substitution_between_pinned_algs(void **state)
{
    (void)state;
    /* genuine PS256 token, pin RS256 (and the other way round) */
    craft(tok, sizeof(tok), &rsa_a, K_PS, MBEDTLS_MD_SHA256, "{\"alg\":\"PS256\"}", claims_ok);
    assert_int_equal(parse_str(tok), 0);
    assert_int_equal(tkr_jwt_verify_sig(&jwt, TKR_JWT_PS256, &rsa_a), 0);
    assert_int_equal(tkr_jwt_verify_sig(&jwt, TKR_JWT_RS256, &rsa_a), TKR_E_JWT_ALG);
    craft(tok, sizeof(tok), &rsa_a, K_RS, MBEDTLS_MD_SHA256, "{\"alg\":\"RS256\"}", claims_ok);
    assert_int_equal(parse_str(tok), 0);
    assert_int_equal(tkr_jwt_verify_sig(&jwt, TKR_JWT_RS256, &rsa_a), 0);
    assert_int_equal(tkr_jwt_verify_sig(&jwt, TKR_JWT_PS256, &rsa_a), TKR_E_JWT_ALG);
    /* RS256 signature relabelled PS256: the pin matches, the padding not */
    craft(tok, sizeof(tok), &rsa_a, K_RS, MBEDTLS_MD_SHA256, "{\"alg\":\"PS256\"}", claims_ok);
    assert_int_equal(parse_str(tok), 0);
    assert_int_equal(tkr_jwt_verify_sig(&jwt, TKR_JWT_PS256, &rsa_a), TKR_E_SIGNATURE);
    /* ES256 signature relabelled ES384 */
    craft(tok, sizeof(tok), &p384, K_ES, MBEDTLS_MD_SHA256, "{\"alg\":\"ES384\"}", claims_ok);
    assert_int_equal(parse_str(tok), 0);
    assert_int_equal(tkr_jwt_verify_sig(&jwt, TKR_JWT_ES384, &p384), TKR_E_SIGNATURE);
    assert_int_equal(tkr_jwt_verify_sig(&jwt, TKR_JWT_ES256, &p384), TKR_E_JWT_ALG);
}

static void test_verify_rejects_key_of_wrong_type_for_pin(void **state)
{
    (void)state;
    /* header and pin ES256, but the key is RSA */
    craft(tok, sizeof(tok), &p256_a, K_ES, MBEDTLS_MD_SHA256, "{\"alg\":\"ES256\"}", claims_ok);
    assert_int_equal(parse_str(tok), 0);
    assert_int_equal(tkr_jwt_verify_sig(&jwt, TKR_JWT_ES256, &rsa_a), TKR_E_KEY_ALG);
    assert_int_equal(tkr_jwt_verify_sig(&jwt, TKR_JWT_ES256, &p384), TKR_E_KEY_ALG);
    assert_int_equal(tkr_jwt_verify_sig(&jwt, TKR_JWT_ES256, &p521), TKR_E_KEY_ALG);
    assert_int_equal(tkr_jwt_verify_sig(&jwt, TKR_JWT_ES256, &p256_a), 0);
    /* header and pin RS256, but the key is EC */
    craft(tok, sizeof(tok), &rsa_a, K_RS, MBEDTLS_MD_SHA256, "{\"alg\":\"RS256\"}", claims_ok);
    assert_int_equal(parse_str(tok), 0);
    assert_int_equal(tkr_jwt_verify_sig(&jwt, TKR_JWT_RS256, &p256_a), TKR_E_KEY_ALG);
    /* RFC 7518 §3.3: a 1024-bit RSA key is refused even if it signed */
    craft(tok, sizeof(tok), &rsa_1024, K_RS, MBEDTLS_MD_SHA256, "{\"alg\":\"RS256\"}",
          claims_ok);
    assert_int_equal(parse_str(tok), 0);
    assert_int_equal(tkr_jwt_verify_sig(&jwt, TKR_JWT_RS256, &rsa_1024), TKR_E_KEY_ALG);
}

static void test_parse_rejects_crit_header(void **state)
{
    (void)state;
    craft(tok, sizeof(tok), &rsa_a, K_RS, MBEDTLS_MD_SHA256,
          "{\"alg\":\"RS256\",\"crit\":[\"exp\"],\"exp\":1}", claims_ok);
    assert_int_equal(parse_str(tok), TKR_E_JWT_CRIT);
    craft(tok, sizeof(tok), &rsa_a, K_RS, MBEDTLS_MD_SHA256,
          "{\"alg\":\"RS256\",\"crit\":[]}", claims_ok);
    assert_int_equal(parse_str(tok), TKR_E_JWT_CRIT);
    /* RFC 7797 unencoded payload needs crit: refused the same way */
    craft(tok, sizeof(tok), &rsa_a, K_RS, MBEDTLS_MD_SHA256,
          "{\"alg\":\"RS256\",\"b64\":false,\"crit\":[\"b64\"]}", claims_ok);
    assert_int_equal(parse_str(tok), TKR_E_JWT_CRIT);
    craft(tok, sizeof(tok), &rsa_a, K_RS, MBEDTLS_MD_SHA256,
          "{\"alg\":\"RS256\",\"\\u0063rit\":[\"x\"]}", claims_ok);
    assert_int_equal(parse_str(tok), TKR_E_JWT_CRIT);
}

/* ---- ECDSA signature shape (RFC 7518 §3.4; CVE-2022-21449) ---- */

static void es256_valid_sig(uint8_t sig[64])
{
    size_t n = signing_input(tok, sizeof(tok), "{\"alg\":\"ES256\"}", claims_ok);
    assert_int_equal(sign_with(&p256_a, K_ES, MBEDTLS_MD_SHA256, tok, n, sig), 64);
    with_sig(tok, sizeof(tok), "{\"alg\":\"ES256\"}", claims_ok, sig, 64);
    assert_int_equal(parse_str(tok), 0);
    assert_int_equal(tkr_jwt_verify_sig(&jwt, TKR_JWT_ES256, &p256_a), 0);
}

static int es256_with(const uint8_t *sig, size_t n)
{
    with_sig(tok, sizeof(tok), "{\"alg\":\"ES256\"}", claims_ok, sig, n);
    assert_int_equal(parse_str(tok), 0);
    return tkr_jwt_verify_sig(&jwt, TKR_JWT_ES256, &p256_a);
}

static void test_verify_rejects_ecdsa_r_s_zero(void **state)
{
    uint8_t sig[64] = {0};
    (void)state;
    assert_int_equal(es256_with(sig, 64), TKR_E_SIGNATURE);
    es256_valid_sig(sig);
    memset(sig, 0, 32);                       /* r = 0, s genuine */
    assert_int_equal(es256_with(sig, 64), TKR_E_SIGNATURE);
    es256_valid_sig(sig);
    memset(sig + 32, 0, 32);                  /* s = 0, r genuine */
    assert_int_equal(es256_with(sig, 64), TKR_E_SIGNATURE);
}

static void test_verify_rejects_ecdsa_r_or_s_equal_to_order(void **state)
{
    uint8_t sig[64], n[32], good[64];
    mbedtls_ecp_group grp;
    mbedtls_mpi order;
    (void)state;

    hex_to_bin(p256_n_hex, n, 32);
    /* the constant is the curve's order (cross-check with mbedTLS) */
    mbedtls_ecp_group_init(&grp);
    mbedtls_mpi_init(&order);
    assert_int_equal(mbedtls_ecp_group_load(&grp, MBEDTLS_ECP_DP_SECP256R1), 0);
    assert_int_equal(mbedtls_mpi_read_binary(&order, n, 32), 0);
    assert_int_equal(mbedtls_mpi_cmp_mpi(&order, &grp.N), 0);
    mbedtls_ecp_group_free(&grp);
    mbedtls_mpi_free(&order);

    es256_valid_sig(good);
    memcpy(sig, good, 64);
    memcpy(sig, n, 32);                       /* r = n */
    assert_int_equal(es256_with(sig, 64), TKR_E_SIGNATURE);
    memcpy(sig, good, 64);
    memcpy(sig + 32, n, 32);                  /* s = n */
    assert_int_equal(es256_with(sig, 64), TKR_E_SIGNATURE);
    memcpy(sig, n, 32);                       /* r = s = n */
    assert_int_equal(es256_with(sig, 64), TKR_E_SIGNATURE);
    memset(sig, 0xff, 64);                    /* both above n */
    assert_int_equal(es256_with(sig, 64), TKR_E_SIGNATURE);
}

static void test_verify_rejects_es384_r_equal_to_order(void **state)
{
    uint8_t sig[96], n[48];
    size_t len;
    (void)state;

    hex_to_bin(p384_n_hex, n, 48);
    len = signing_input(tok, sizeof(tok), "{\"alg\":\"ES384\"}", claims_ok);
    assert_int_equal(sign_with(&p384, K_ES, MBEDTLS_MD_SHA384, tok, len, sig), 96);
    with_sig(tok, sizeof(tok), "{\"alg\":\"ES384\"}", claims_ok, sig, 96);
    assert_int_equal(parse_str(tok), 0);
    assert_int_equal(tkr_jwt_verify_sig(&jwt, TKR_JWT_ES384, &p384), 0);
    memcpy(sig, n, 48);
    with_sig(tok, sizeof(tok), "{\"alg\":\"ES384\"}", claims_ok, sig, 96);
    assert_int_equal(parse_str(tok), 0);
    assert_int_equal(tkr_jwt_verify_sig(&jwt, TKR_JWT_ES384, &p384), TKR_E_SIGNATURE);
}

static void test_verify_rejects_truncated_signature(void **state)
{
    uint8_t sig[TKR_JWT_SIG_MAX];
    size_t n;
    (void)state;

    es256_valid_sig(sig);
    assert_int_equal(es256_with(sig, 63), TKR_E_JWT_SIG_LEN);
    assert_int_equal(es256_with(sig, 32), TKR_E_JWT_SIG_LEN);
    assert_int_equal(es256_with(sig, 1), TKR_E_JWT_SIG_LEN);

    n = signing_input(tok, sizeof(tok), "{\"alg\":\"RS256\"}", claims_ok);
    n = sign_with(&rsa_a, K_RS, MBEDTLS_MD_SHA256, tok, n, sig);
    with_sig(tok, sizeof(tok), "{\"alg\":\"RS256\"}", claims_ok, sig, n - 1);
    assert_int_equal(parse_str(tok), 0);
    assert_int_equal(tkr_jwt_verify_sig(&jwt, TKR_JWT_RS256, &rsa_a), TKR_E_JWT_SIG_LEN);
}

static void test_verify_rejects_overlong_signature(void **state)
{
    uint8_t sig[TKR_JWT_SIG_MAX + 8], longer[TKR_JWT_SIG_MAX + 8];
    size_t n;
    (void)state;

    es256_valid_sig(sig);
    sig[64] = 0;
    assert_int_equal(es256_with(sig, 65), TKR_E_JWT_SIG_LEN);    /* extra byte */
    longer[0] = 0;                                                /* same integers, */
    memcpy(longer + 1, sig, 64);                                  /* one more byte  */
    assert_int_equal(es256_with(longer, 65), TKR_E_JWT_SIG_LEN);
    memcpy(longer, sig, 64);
    memcpy(longer + 64, sig, 64);
    assert_int_equal(es256_with(longer, 128), TKR_E_JWT_SIG_LEN);

    n = signing_input(tok, sizeof(tok), "{\"alg\":\"RS256\"}", claims_ok);
    n = sign_with(&rsa_a, K_RS, MBEDTLS_MD_SHA256, tok, n, sig);
    sig[n] = 0;
    with_sig(tok, sizeof(tok), "{\"alg\":\"RS256\"}", claims_ok, sig, n + 1);
    assert_int_equal(parse_str(tok), 0);
    assert_int_equal(tkr_jwt_verify_sig(&jwt, TKR_JWT_RS256, &rsa_a), TKR_E_JWT_SIG_LEN);
    /* a leading zero keeps the RSA integer's value: still refused */
    longer[0] = 0;
    memcpy(longer + 1, sig, n);
    with_sig(tok, sizeof(tok), "{\"alg\":\"RS256\"}", claims_ok, longer, n + 1);
    assert_int_equal(parse_str(tok), 0);
    assert_int_equal(tkr_jwt_verify_sig(&jwt, TKR_JWT_RS256, &rsa_a), TKR_E_JWT_SIG_LEN);
    /* more than any supported key can sign: refused while parsing */
    memset(longer, 1, sizeof(longer));
    with_sig(tok, sizeof(tok), "{\"alg\":\"RS256\"}", claims_ok, longer, TKR_JWT_SIG_MAX + 1);
    assert_int_equal(parse_str(tok), TKR_E_JWT_SIG_LEN);
}

static void test_verify_rejects_der_encoded_ecdsa_signature(void **state)
{
    const mbedtls_md_info_t *info = mbedtls_md_info_from_type(MBEDTLS_MD_SHA256);
    uint8_t hash[32], der[MBEDTLS_PK_SIGNATURE_MAX_SIZE];
    size_t n, dl = 0;
    (void)state;

    n = signing_input(tok, sizeof(tok), "{\"alg\":\"ES256\"}", claims_ok);
    assert_int_equal(mbedtls_md(info, (unsigned char *)tok, n, hash), 0);
    assert_int_equal(tkr_compat_pk_sign(&p256_a, MBEDTLS_MD_SHA256, hash, 32, der,
                                        sizeof(der), &dl, tkr_port_rng, &port),
                     0);
    /* the DER form verifies with mbedTLS, so only its shape is wrong */
    assert_int_equal(mbedtls_pk_verify(&p256_a, MBEDTLS_MD_SHA256, hash, 32, der, dl), 0);
    assert_int_not_equal(dl, 64);
    assert_int_equal(es256_with(der, dl), TKR_E_JWT_SIG_LEN);
}

static void test_verify_checks_signature_before_claims(void **state)
{
    uint8_t sig[64];
    tkr_jwt_rules_t rules = {0, NULL, NULL, "svc", 0};
    (void)state;

    es256_valid_sig(sig);
    sig[10] ^= 1;
    with_sig(tok, sizeof(tok), "{\"alg\":\"ES256\"}", claims_ok, sig, 64);
    assert_int_equal(parse_str(tok), 0);
    /* expired and forged: the forgery is what is reported */
    assert_int_equal(tkr_jwt_verify(&jwt, TKR_JWT_ES256, &p256_a, &rules, 5000, NULL),
                     TKR_E_SIGNATURE);
    sig[10] ^= 1;
    with_sig(tok, sizeof(tok), "{\"alg\":\"ES256\"}", claims_ok, sig, 64);
    assert_int_equal(parse_str(tok), 0);
    assert_int_equal(tkr_jwt_verify(&jwt, TKR_JWT_ES256, &p256_a, &rules, 5000, NULL),
                     TKR_E_EXPIRED);
    assert_int_equal(tkr_jwt_verify(&jwt, TKR_JWT_ES256, &p256_a, &rules, 1500, NULL), 0);
}

static void test_signature_covers_the_header(void **state)
{
    char *dot2;
    (void)state;

    /* a valid signature moved under another header (another kid) */
    craft(tok, sizeof(tok), &rsa_a, K_RS, MBEDTLS_MD_SHA256,
          "{\"alg\":\"RS256\",\"kid\":\"a\"}", claims_ok);
    dot2 = strrchr(tok, '.');
    signing_input(tok2, sizeof(tok2), "{\"alg\":\"RS256\",\"kid\":\"b\"}", claims_ok);
    strcat(tok2, dot2);
    assert_int_equal(parse_str(tok2), 0);
    assert_string_equal(jwt.kid, "b");
    assert_int_equal(tkr_jwt_verify_sig(&jwt, TKR_JWT_RS256, &rsa_a), TKR_E_SIGNATURE);
    assert_int_equal(parse_str(tok), 0);
    assert_int_equal(tkr_jwt_verify_sig(&jwt, TKR_JWT_RS256, &rsa_a), 0);
}

/* ---- parse: duplicate and mistyped members ---- */

static void test_parse_rejects_duplicate_claims(void **state)
{
    (void)state;
    craft(tok, sizeof(tok), &p256_a, K_ES, MBEDTLS_MD_SHA256, "{\"alg\":\"ES256\"}",
          "{\"exp\":1,\"exp\":9999999999}");
    assert_int_equal(parse_str(tok), TKR_E_JSON_DUPLICATE);
    craft(tok, sizeof(tok), &p256_a, K_ES, MBEDTLS_MD_SHA256, "{\"alg\":\"ES256\"}",
          "{\"sub\":\"a\",\"\\u0073ub\":\"admin\"}");
    assert_int_equal(parse_str(tok), TKR_E_JSON_DUPLICATE);
    /* and duplicate header members: {"alg":"ES256","alg":"none"} */
    craft(tok, sizeof(tok), &p256_a, K_ES, MBEDTLS_MD_SHA256,
          "{\"alg\":\"ES256\",\"alg\":\"none\"}", claims_ok);
    assert_int_equal(parse_str(tok), TKR_E_JSON_DUPLICATE);
    craft(tok, sizeof(tok), &p256_a, K_ES, MBEDTLS_MD_SHA256,
          "{\"alg\":\"ES256\",\"kid\":\"a\",\"kid\":\"b\"}", claims_ok);
    assert_int_equal(parse_str(tok), TKR_E_JSON_DUPLICATE);
}

static void test_parse_rejects_header_not_an_object(void **state)
{
    (void)state;
    craft(tok, sizeof(tok), &p256_a, K_ES, MBEDTLS_MD_SHA256, "[\"ES256\"]", claims_ok);
    assert_int_equal(parse_str(tok), TKR_E_JWT_HEADER);
    craft(tok, sizeof(tok), &p256_a, K_ES, MBEDTLS_MD_SHA256, "[{\"alg\":\"ES256\"}]",
          claims_ok);
    assert_int_equal(parse_str(tok), TKR_E_JWT_HEADER);
    /* a JSON string as the whole header is no JSON text we accept */
    craft(tok, sizeof(tok), &p256_a, K_ES, MBEDTLS_MD_SHA256, "\"ES256\"", claims_ok);
    assert_int_equal(parse_str(tok), TKR_E_JSON);
    craft(tok, sizeof(tok), &p256_a, K_ES, MBEDTLS_MD_SHA256, "not json", claims_ok);
    assert_int_equal(parse_str(tok), TKR_E_JSON);
    /* claims must be an object too */
    craft(tok, sizeof(tok), &p256_a, K_ES, MBEDTLS_MD_SHA256, "{\"alg\":\"ES256\"}", "[1]");
    assert_int_equal(parse_str(tok), TKR_E_TYPE);
    craft(tok, sizeof(tok), &p256_a, K_ES, MBEDTLS_MD_SHA256, "{\"alg\":\"ES256\"}", "{");
    assert_int_equal(parse_str(tok), TKR_E_JSON);
}

static void test_parse_rejects_alg_not_a_string(void **state)
{
    static const char *const hdrs[] = {
        "{\"alg\":256}", "{\"alg\":null}", "{\"alg\":[\"ES256\"]}",
        "{\"alg\":{\"v\":\"ES256\"}}", "{\"alg\":true}", "{}", "{\"typ\":\"JWT\"}",
        "{\"ALG\":\"ES256\"}",
    };
    size_t i;
    (void)state;

    for (i = 0; i < sizeof(hdrs) / sizeof(hdrs[0]); i++) {
        craft(tok, sizeof(tok), &p256_a, K_ES, MBEDTLS_MD_SHA256, hdrs[i], claims_ok);
        assert_int_equal(parse_str(tok), TKR_E_JWT_HEADER);
    }
}

static void test_parse_rejects_kid_not_a_string(void **state)
{
    static const char *const hdrs[] = {
        "{\"alg\":\"ES256\",\"kid\":1}",
        "{\"alg\":\"ES256\",\"kid\":[\"a\"]}",
        "{\"alg\":\"ES256\",\"kid\":null}",
        "{\"alg\":\"ES256\",\"kid\":{}}",
        "{\"alg\":\"ES256\",\"kid\":\"a\\u0000b\"}",
    };
    char hdr[TKR_KID_MAX + 64];
    size_t i;
    (void)state;

    for (i = 0; i < sizeof(hdrs) / sizeof(hdrs[0]); i++) {
        craft(tok, sizeof(tok), &p256_a, K_ES, MBEDTLS_MD_SHA256, hdrs[i], claims_ok);
        assert_int_equal(parse_str(tok), TKR_E_JWT_HEADER);
    }
    /* longer than TKR_KID_MAX - 1 bytes */
    i = (size_t)snprintf(hdr, sizeof(hdr), "{\"alg\":\"ES256\",\"kid\":\"");
    memset(hdr + i, 'k', TKR_KID_MAX);
    strcpy(hdr + i + TKR_KID_MAX, "\"}");
    craft(tok, sizeof(tok), &p256_a, K_ES, MBEDTLS_MD_SHA256, hdr, claims_ok);
    assert_int_equal(parse_str(tok), TKR_E_JWT_HEADER);
    strcpy(hdr + i + TKR_KID_MAX - 1, "\"}");
    craft(tok, sizeof(tok), &p256_a, K_ES, MBEDTLS_MD_SHA256, hdr, claims_ok);
    assert_int_equal(parse_str(tok), 0);
    assert_int_equal(strlen(jwt.kid), TKR_KID_MAX - 1);
}

/* The header's alg is compared by value, like every other JSON string. */
static void test_parse_reads_escaped_alg_by_value(void **state)
{
    (void)state;
    craft(tok, sizeof(tok), &p256_a, K_ES, MBEDTLS_MD_SHA256,
          "{\"alg\":\"\\u0045S256\"}", claims_ok);
    assert_int_equal(parse_str(tok), 0);
    assert_string_equal(jwt.alg_name, "ES256");
    assert_int_equal(jwt.alg, TKR_JWT_ES256);
    assert_int_equal(tkr_jwt_verify_sig(&jwt, TKR_JWT_ES256, &p256_a), 0);
    /* but never loosened: case and trailing bytes still matter */
    craft(tok, sizeof(tok), &p256_a, K_ES, MBEDTLS_MD_SHA256,
          "{\"alg\":\"\\u0065S256\"}", claims_ok);
    assert_int_equal(parse_str(tok), 0);
    assert_int_equal(jwt.alg, TKR_JWT_ALG_UNKNOWN);
    craft(tok, sizeof(tok), &p256_a, K_ES, MBEDTLS_MD_SHA256,
          "{\"alg\":\"ES256\\u0000\"}", claims_ok);
    /* a name with a NUL is no name of ours: parsed, but no algorithm, and
     * a pinned verification refuses it on the header */
    assert_int_equal(parse_str(tok), 0);
    assert_int_equal(jwt.alg, TKR_JWT_ALG_UNKNOWN);
    assert_string_equal(jwt.alg_name, "?");
    assert_int_equal(tkr_jwt_verify_sig(&jwt, TKR_JWT_ES256, &p256_a), TKR_E_JWT_ALG);
}

/* ---- parse: strict base64url and the three-segment form ---- */

static const char lax_header[] = "{\"alg\":\"RS256\",\"x\":\"\x3f\x3f\x3f>>>~~~\x3f\x3f\x3f>>>~~~\"}";
static const char lax_payload[] = "{\"sub\":\"\x3f\x3f\x3f>>>~~~\x3f\x3f\x3f>>>~~~\",\"exp\":2000}";

/* Segment i of tok: start offset and length. */
static void segment(const char *t, int i, size_t *start, size_t *len)
{
    const char *d1 = strchr(t, '.'), *d2 = strchr(d1 + 1, '.');
    const char *s = i == 0 ? t : i == 1 ? d1 + 1 : d2 + 1;
    const char *e = i == 0 ? d1 : i == 1 ? d2 : t + strlen(t);
    *start = (size_t)(s - t);
    *len = (size_t)(e - s);
}

static int parse_edit(const char *base, size_t at, size_t cut, const char *insert)
{
    size_t n = strlen(base), k = strlen(insert);
    memcpy(tok2, base, at);
    memcpy(tok2 + at, insert, k);
    memcpy(tok2 + at + k, base + at + cut, n - at - cut + 1);
    return parse_str(tok2);
}

static void test_parse_rejects_lax_base64url_in_each_segment(void **state)
{
    int i;
    (void)state;

    craft(tok, sizeof(tok), &rsa_a, K_RS, MBEDTLS_MD_SHA256, lax_header, lax_payload);
    assert_int_equal(parse_str(tok), 0);
    assert_int_equal(tkr_jwt_verify_sig(&jwt, TKR_JWT_RS256, &rsa_a), 0);
    for (i = 0; i < 3; i++) {
        size_t s, n, k;
        char std[2] = {0, 0};
        segment(tok, i, &s, &n);
        /* the same bytes in the standard alphabet: '-' -> '+', '_' -> '/' */
        for (k = s; k < s + n && tok[k] != '-' && tok[k] != '_'; k++)
            ;
        assert_true(k < s + n); /* the segment has one to translate */
        std[0] = tok[k] == '-' ? '+' : '/';
        assert_int_equal(parse_edit(tok, k, 1, std), TKR_E_BASE64);
        /* padding, as standard base64 would write it */
        assert_int_equal(parse_edit(tok, s + n, 0, n % 4 == 2 ? "==" : "="), TKR_E_BASE64);
        assert_int_equal(parse_edit(tok, s + n, 0, "="), TKR_E_BASE64);
        /* whitespace inside or around the segment */
        assert_int_equal(parse_edit(tok, s + n / 2, 0, " "), TKR_E_BASE64);
        assert_int_equal(parse_edit(tok, s + n / 2, 0, "\n"), TKR_E_BASE64);
        assert_int_equal(parse_edit(tok, s + n / 2, 0, "\r\n"), TKR_E_BASE64);
        assert_int_equal(parse_edit(tok, s, 0, " "), TKR_E_BASE64);
        assert_int_equal(parse_edit(tok, s + n, 0, "\t"), TKR_E_BASE64);
    }
    /* the untouched token still parses: only the edits were refused */
    assert_int_equal(parse_str(tok), 0);
}

static void test_parse_rejects_trailing_data_after_signature(void **state)
{
    size_t n;
    (void)state;

    n = craft(tok, sizeof(tok), &rsa_a, K_RS, MBEDTLS_MD_SHA256, "{\"alg\":\"RS256\"}",
              claims_ok);
    assert_int_equal(parse_edit(tok, n, 0, "."), TKR_E_JWT_FORMAT);
    assert_int_equal(parse_edit(tok, n, 0, ".eyJ9"), TKR_E_JWT_FORMAT);
    assert_int_equal(parse_edit(tok, n, 0, ".a.b"), TKR_E_JWT_FORMAT);
    assert_int_equal(parse_edit(tok, n, 0, "\n"), TKR_E_BASE64);
    assert_int_equal(parse_edit(tok, n, 0, " "), TKR_E_BASE64);
    assert_int_equal(parse_edit(tok, 0, 0, " "), TKR_E_BASE64);
    /* two more signature bytes decode, but are not the key's size */
    assert_int_equal(parse_edit(tok, n, 0, "AA"), 0);
    assert_int_equal(tkr_jwt_verify_sig(&jwt, TKR_JWT_RS256, &rsa_a), TKR_E_JWT_SIG_LEN);
}

static void test_parse_rejects_empty_segments(void **state)
{
    static const char *const bad[] = {
        "", ".", "..", "...", "abc", "eyJhbGciOiJFUzI1NiJ9",
        "eyJhbGciOiJFUzI1NiJ9.e30", ".e30.AAAA", "eyJhbGciOiJFUzI1NiJ9..AAAA",
        "eyJhbGciOiJFUzI1NiJ9.e30.",
    };
    size_t i;
    (void)state;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(parse_str(bad[i]), TKR_E_JWT_FORMAT);
    /* the last one with a signature is a well-formed token */
    assert_int_equal(parse_str("eyJhbGciOiJFUzI1NiJ9.e30.AAAA"), 0);
}

/* A 1 MiB token is refused on its length: only its first page is mapped,
 * so reading past it (even to look for a '.') would crash the test. */
static void test_parse_rejects_1mib_token_without_reading_it(void **state)
{
    size_t page = (size_t)sysconf(_SC_PAGESIZE), big = 1024 * 1024;
    char *map = mmap(NULL, big, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    size_t n;
    (void)state;

    assert_true(map != MAP_FAILED);
    n = with_sig(tok, sizeof(tok), "{\"alg\":\"ES256\"}", "{}", (const uint8_t *)"x", 1);
    memcpy(map, tok, n);
    assert_int_equal(mprotect(map + page, big - page, PROT_NONE), 0);
    assert_int_equal(tkr_jwt_parse(&jwt, map, big, NULL), TKR_E_TOO_LARGE);
    assert_int_equal(tkr_jwt_parse(&jwt, map, TKR_JWT_MAX + 1, NULL), TKR_E_TOO_LARGE);
    assert_int_equal(tkr_jwt_parse(&jwt, map, n, NULL), 0);
    munmap(map, big);
}

static void test_parse_accepts_token_of_exactly_max_length(void **state)
{
    static char payload[TKR_JWT_MAX];
    size_t hdr_chars = TKR_B64URL_ENCODED_LEN(strlen("{\"alg\":\"RS256\",\"typ\":\"JWT\"}"));
    size_t pay_chars = TKR_JWT_MAX - hdr_chars - 2 - TKR_B64URL_ENCODED_LEN(256);
    size_t pay_bytes = pay_chars / 4 * 3, n = 0, i;
    (void)state;

    assert_int_equal(pay_chars % 4, 0);
    /* {"pad":"xxx...x"} of pay_bytes bytes */
    strcpy(payload, "{\"pad\":\"");
    for (i = strlen(payload); i < pay_bytes - 2; i++)
        payload[i] = 'x';
    strcpy(payload + i, "\"}");
    assert_int_equal(strlen(payload), pay_bytes);
    assert_int_equal(tkr_jwt_sign(tok, sizeof(tok), &n, &rsa_a, TKR_JWT_RS256, NULL,
                                  payload, pay_bytes, &port),
                     0);
    assert_int_equal(n, TKR_JWT_MAX);
    assert_int_equal(tkr_jwt_parse(&jwt, tok, n, NULL), 0);
    assert_int_equal(tkr_jwt_verify_sig(&jwt, TKR_JWT_RS256, &rsa_a), 0);
    /* one more character is over the limit */
    tok[n] = 'A';
    assert_int_equal(tkr_jwt_parse(&jwt, tok, n + 1, NULL), TKR_E_TOO_LARGE);
}

static void test_failed_parse_leaves_nothing_to_verify(void **state)
{
    tkr_jwt_rules_t rules = {0, NULL, NULL, NULL, 0};
    size_t n;
    (void)state;

    n = craft(tok, sizeof(tok), &rsa_a, K_RS, MBEDTLS_MD_SHA256, "{\"alg\":\"RS256\"}",
              claims_ok);
    assert_int_equal(parse_str(tok), 0);
    assert_int_equal(tkr_jwt_verify_sig(&jwt, TKR_JWT_RS256, &rsa_a), 0);
    /* the same context, now a token whose signature does not decode */
    tok[n - 1] = '+';
    assert_int_equal(parse_str(tok), TKR_E_BASE64);
    assert_int_equal(tkr_jwt_verify_sig(&jwt, TKR_JWT_RS256, &rsa_a), TKR_E_INVALID_ARG);
    assert_int_equal(tkr_jwt_check_claims(&jwt, &rules, 1500, NULL), TKR_E_INVALID_ARG);
    assert_int_equal(jwt.claims_len, 0);
    assert_int_equal(tkr_jwt_claim(&jwt, "sub"), TKR_E_NOT_FOUND);
    /* a fresh context has nothing either */
    tkr_jwt_init(&jwt);
    assert_int_equal(tkr_jwt_verify_sig(&jwt, TKR_JWT_RS256, &rsa_a), TKR_E_INVALID_ARG);
    assert_int_equal(tkr_jwt_parse(NULL, tok, n, NULL), TKR_E_INVALID_ARG);
    assert_int_equal(tkr_jwt_parse(&jwt, NULL, n, NULL), TKR_E_INVALID_ARG);
}

/* ---- registered claims (RFC 7519 §4.1) ---- */

static void test_claims_reject_non_integer_times(void **state)
{
    static const char *const vals[] = {"\"123\"", "1.5e9", "1500000000.0", "true",
                                       "null", "[1]", "{}", "1e3",
                                       "99999999999999999999"};
    static const char *const names[] = {"exp", "nbf", "iat"};
    char payload[128];
    size_t i, k;
    (void)state;

    for (k = 0; k < 3; k++)
        for (i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
            snprintf(payload, sizeof(payload), "{\"%s\":%s}", names[k], vals[i]);
            assert_int_equal(claims_at(payload, NULL, 1000), TKR_E_CLAIM_TYPE);
        }
}

static void test_claims_exp_boundary_with_leeway(void **state)
{
    tkr_jwt_rules_t r0 = {0, NULL, NULL, NULL, 0}, r5 = {0, NULL, NULL, NULL, 5};
    (void)state;

    assert_int_equal(claims_at("{\"exp\":1000}", &r0, 999), 0);
    assert_int_equal(claims_at("{\"exp\":1000}", &r0, 1000), TKR_E_EXPIRED);
    assert_int_equal(claims_at("{\"exp\":1000}", &r5, 1004), 0);
    assert_int_equal(claims_at("{\"exp\":1000}", &r5, 1005), TKR_E_EXPIRED);
    assert_int_equal(claims_at("{\"exp\":1000}", NULL, 999), 0);
    assert_int_equal(claims_at("{\"exp\":1000}", NULL, 1000), TKR_E_EXPIRED);
    assert_int_equal(claims_at("{\"exp\":-9223372036854775808}", &r5, 0), TKR_E_EXPIRED);
    assert_int_equal(claims_at("{\"exp\":9223372036854775807}", &r5, 1000), 0);
}

static void test_claims_nbf_boundary_with_leeway(void **state)
{
    tkr_jwt_rules_t r0 = {0, NULL, NULL, NULL, 0}, r5 = {0, NULL, NULL, NULL, 5};
    (void)state;

    assert_int_equal(claims_at("{\"nbf\":1000}", &r0, 999), TKR_E_NOT_YET_VALID);
    assert_int_equal(claims_at("{\"nbf\":1000}", &r0, 1000), 0);
    assert_int_equal(claims_at("{\"nbf\":1000}", &r5, 995), 0);
    assert_int_equal(claims_at("{\"nbf\":1000}", &r5, 994), TKR_E_NOT_YET_VALID);
    assert_int_equal(claims_at("{\"nbf\":9223372036854775807}", &r5, 1000),
                     TKR_E_NOT_YET_VALID);
    assert_int_equal(claims_at("{\"nbf\":-9223372036854775808}", &r5, 1000), 0);
}

static void test_claims_iat_in_future_beyond_leeway(void **state)
{
    tkr_jwt_rules_t r0 = {0, NULL, NULL, NULL, 0}, r5 = {0, NULL, NULL, NULL, 5};
    (void)state;

    assert_int_equal(claims_at("{\"iat\":1000}", &r0, 1000), 0);
    assert_int_equal(claims_at("{\"iat\":1000}", &r0, 999), TKR_E_IAT_FUTURE);
    assert_int_equal(claims_at("{\"iat\":1000}", &r5, 995), 0);
    assert_int_equal(claims_at("{\"iat\":1000}", &r5, 994), TKR_E_IAT_FUTURE);
    assert_int_equal(claims_at("{\"iat\":1000}", &r0, 5000), 0); /* old is fine */
}

static void test_claims_leeway_is_clamped_and_never_overflows(void **state)
{
    tkr_jwt_rules_t neg = {0, NULL, NULL, NULL, -100};
    tkr_jwt_rules_t huge = {0, NULL, NULL, NULL, INT64_MAX};
    tkr_jwt_rules_t big = {0, NULL, NULL, NULL, 10};
    (void)state;

    /* a negative leeway counts as none */
    assert_int_equal(claims_at("{\"exp\":1000}", &neg, 999), 0);
    assert_int_equal(claims_at("{\"exp\":1000}", &neg, 1000), TKR_E_EXPIRED);
    /* a huge one is clamped to TKR_JWT_LEEWAY_MAX */
    assert_int_equal(claims_at("{\"exp\":1000}", &huge, 1000 + TKR_JWT_LEEWAY_MAX - 1), 0);
    assert_int_equal(claims_at("{\"exp\":1000}", &huge, 1000 + TKR_JWT_LEEWAY_MAX),
                     TKR_E_EXPIRED);
    /* the far end of the clock: no signed overflow (UBSan would abort) */
    assert_int_equal(claims_at("{\"nbf\":1000,\"iat\":1000}", &big, INT64_MAX), 0);
    assert_int_equal(claims_at("{\"exp\":9223372036854775807}", &big, INT64_MAX), 0);
    assert_int_equal(claims_at("{\"nbf\":9223372036854775807}", &huge, INT64_MAX), 0);
    /* no clock: any time claim is then unverifiable */
    assert_int_equal(claims_at("{\"exp\":1000}", &big, -1), TKR_E_INVALID_ARG);
    assert_int_equal(claims_at("{\"sub\":\"a\"}", &big, -1), 0);
}

static void test_claims_iss_and_sub_exact_match(void **state)
{
    tkr_jwt_rules_t r = {0, "https://idp.example", "site-1", NULL, 0};
    (void)state;

    assert_int_equal(claims_at("{\"iss\":\"https://idp.example\",\"sub\":\"site-1\"}", &r, 0), 0);
    /* the same values escaped are the same strings */
    assert_int_equal(claims_at("{\"iss\":\"https:\\/\\/idp.example\",\"sub\":\"site\\u002d1\"}",
                               &r, 0),
                     0);
    assert_int_equal(claims_at("{\"iss\":\"https://idp.example/\",\"sub\":\"site-1\"}", &r, 0),
                     TKR_E_ISS);
    assert_int_equal(claims_at("{\"iss\":\"https://idp.exampl\",\"sub\":\"site-1\"}", &r, 0),
                     TKR_E_ISS);
    assert_int_equal(claims_at("{\"iss\":\"HTTPS://IDP.EXAMPLE\",\"sub\":\"site-1\"}", &r, 0),
                     TKR_E_ISS);
    assert_int_equal(claims_at("{\"iss\":\"https://idp.example\\u0000x\",\"sub\":\"site-1\"}",
                               &r, 0),
                     TKR_E_ISS);
    assert_int_equal(claims_at("{\"iss\":\"https://idp.example\",\"sub\":\"site-10\"}", &r, 0),
                     TKR_E_SUB);
    assert_int_equal(claims_at("{\"iss\":\"https://idp.example\",\"sub\":\"site-\"}", &r, 0),
                     TKR_E_SUB);
    assert_int_equal(claims_at("{\"iss\":\"https://idp.example\",\"sub\":\"*\"}", &r, 0),
                     TKR_E_SUB);
    assert_int_equal(claims_at("{\"iss\":[\"https://idp.example\"],\"sub\":\"site-1\"}", &r, 0),
                     TKR_E_CLAIM_TYPE);
    assert_int_equal(claims_at("{\"iss\":\"https://idp.example\",\"sub\":1}", &r, 0),
                     TKR_E_CLAIM_TYPE);
    assert_int_equal(claims_at("{\"sub\":\"site-1\"}", &r, 0), TKR_E_CLAIM_MISSING);
    assert_int_equal(claims_at("{\"iss\":\"https://idp.example\"}", &r, 0),
                     TKR_E_CLAIM_MISSING);
    /* nothing expected: any string is fine, a non-string is not */
    assert_int_equal(claims_at("{\"iss\":\"x\",\"sub\":\"y\"}", NULL, 0), 0);
    assert_int_equal(claims_at("{\"iss\":5}", NULL, 0), TKR_E_CLAIM_TYPE);
}

static void test_claims_aud_string_and_array(void **state)
{
    tkr_jwt_rules_t r = {0, NULL, NULL, "svc", 0};
    (void)state;

    assert_int_equal(claims_at("{\"aud\":\"svc\"}", &r, 0), 0);
    assert_int_equal(claims_at("{\"aud\":[\"other\",\"svc\"]}", &r, 0), 0);
    assert_int_equal(claims_at("{\"aud\":[\"svc\"]}", &r, 0), 0);
    assert_int_equal(claims_at("{\"aud\":\"svcx\"}", &r, 0), TKR_E_AUD);
    assert_int_equal(claims_at("{\"aud\":\"sv\"}", &r, 0), TKR_E_AUD);
    assert_int_equal(claims_at("{\"aud\":[\"other\"]}", &r, 0), TKR_E_AUD);
    assert_int_equal(claims_at("{\"aud\":[]}", &r, 0), TKR_E_AUD);
    assert_int_equal(claims_at("{\"aud\":[\"svc x\",\"xsvc\"]}", &r, 0), TKR_E_AUD);
    assert_int_equal(claims_at("{\"sub\":\"a\"}", &r, 0), TKR_E_CLAIM_MISSING);
}

static void test_claims_aud_present_but_none_expected(void **state)
{
    tkr_jwt_rules_t r = {0, NULL, NULL, NULL, 0};
    (void)state;

    assert_int_equal(claims_at("{\"aud\":\"svc\"}", &r, 0), TKR_E_AUD);
    assert_int_equal(claims_at("{\"aud\":[\"svc\"]}", &r, 0), TKR_E_AUD);
    assert_int_equal(claims_at("{\"aud\":[]}", &r, 0), TKR_E_AUD);
    assert_int_equal(claims_at("{\"aud\":\"svc\"}", NULL, 0), TKR_E_AUD);
}

static void test_claims_aud_array_with_non_string_element(void **state)
{
    tkr_jwt_rules_t r = {0, NULL, NULL, "svc", 0};
    (void)state;

    assert_int_equal(claims_at("{\"aud\":[\"svc\",1]}", &r, 0), TKR_E_CLAIM_TYPE);
    assert_int_equal(claims_at("{\"aud\":[1,\"svc\"]}", &r, 0), TKR_E_CLAIM_TYPE);
    assert_int_equal(claims_at("{\"aud\":[\"svc\",[\"svc\"]]}", &r, 0), TKR_E_CLAIM_TYPE);
    assert_int_equal(claims_at("{\"aud\":[\"svc\",null]}", &r, 0), TKR_E_CLAIM_TYPE);
    assert_int_equal(claims_at("{\"aud\":5}", &r, 0), TKR_E_CLAIM_TYPE);
    assert_int_equal(claims_at("{\"aud\":{\"svc\":1}}", &r, 0), TKR_E_CLAIM_TYPE);
}

static void test_claims_required_missing(void **state)
{
    static const struct {
        unsigned bit;
        const char *present;
    } req[] = {
        {TKR_CLAIM_EXP, "{\"exp\":2000}"}, {TKR_CLAIM_NBF, "{\"nbf\":1}"},
        {TKR_CLAIM_IAT, "{\"iat\":1}"},    {TKR_CLAIM_ISS, "{\"iss\":\"i\"}"},
        {TKR_CLAIM_SUB, "{\"sub\":\"s\"}"}, {TKR_CLAIM_JTI, "{\"jti\":\"j\"}"},
    };
    tkr_jwt_rules_t r = {0, NULL, NULL, NULL, 0};
    size_t i;
    (void)state;

    for (i = 0; i < sizeof(req) / sizeof(req[0]); i++) {
        r.required = req[i].bit;
        assert_int_equal(claims_at("{\"other\":1}", &r, 1000), TKR_E_CLAIM_MISSING);
        assert_int_equal(claims_at(req[i].present, &r, 1000), 0);
    }
    r.required = TKR_CLAIM_AUD;
    r.aud = "svc";
    assert_int_equal(claims_at("{\"other\":1}", &r, 1000), TKR_E_CLAIM_MISSING);
    assert_int_equal(claims_at("{\"aud\":\"svc\"}", &r, 1000), 0);
    r.required = TKR_CLAIM_EXP | TKR_CLAIM_IAT | TKR_CLAIM_SUB;
    r.aud = NULL;
    assert_int_equal(claims_at("{\"exp\":2000,\"sub\":\"s\"}", &r, 1000), TKR_E_CLAIM_MISSING);
    assert_int_equal(claims_at("{\"exp\":2000,\"iat\":900,\"sub\":\"s\"}", &r, 1000), 0);
    /* jti, when present, is a string */
    assert_int_equal(claims_at("{\"jti\":5}", NULL, 1000), TKR_E_CLAIM_TYPE);
}

/* A failure about one claim names it in the diagnostics: the CLI and the
 * service say which claim without deriving it again. */
static void expect_named(const char *payload, const tkr_jwt_rules_t *r, int64_t now, int rc,
                         const char *name)
{
    tkr_diag_t d;

    assert_int_equal(parse_claims(payload), 0);
    tkr_diag_clear(&d);
    assert_int_equal(tkr_jwt_check_claims(&jwt, r, now, &d), rc);
    if (strcmp(d.name, name) != 0)
        fail_msg("%s: diag names \"%s\", want \"%s\"", payload, d.name, name);
}

static void test_claim_failures_name_the_claim(void **state)
{
    tkr_jwt_rules_t r = {TKR_CLAIM_EXP | TKR_CLAIM_JTI, NULL, NULL, NULL, 0};
    tkr_jwt_rules_t who = {0, "issuer", "subject", "aud-1", 0};
    (void)state;

    expect_named("{\"jti\":\"j\"}", &r, 100, TKR_E_CLAIM_MISSING, "exp");
    expect_named("{\"exp\":200}", &r, 100, TKR_E_CLAIM_MISSING, "jti");
    expect_named("{\"exp\":200,\"jti\":\"j\"}", &r, 200, TKR_E_EXPIRED, "exp");
    expect_named("{\"exp\":200,\"jti\":\"j\",\"nbf\":150}", &r, 100, TKR_E_NOT_YET_VALID,
                 "nbf");
    expect_named("{\"exp\":200,\"jti\":\"j\",\"iat\":150}", &r, 100, TKR_E_IAT_FUTURE, "iat");
    expect_named("{\"exp\":200,\"jti\":\"j\",\"nbf\":\"x\"}", &r, 100, TKR_E_CLAIM_TYPE, "nbf");
    expect_named("{\"exp\":200,\"jti\":7}", &r, 100, TKR_E_CLAIM_TYPE, "jti");
    expect_named("{\"iss\":\"other\"}", &who, 100, TKR_E_ISS, "iss");
    expect_named("{\"iss\":\"issuer\"}", &who, 100, TKR_E_CLAIM_MISSING, "sub");
    expect_named("{\"iss\":\"issuer\",\"sub\":\"subject\"}", &who, 100, TKR_E_CLAIM_MISSING,
                 "aud");
    expect_named("{\"iss\":\"issuer\",\"sub\":\"subject\",\"aud\":[\"a\"]}", &who, 100,
                 TKR_E_AUD, "aud");
    /* success names nothing */
    expect_named("{\"iss\":\"issuer\",\"sub\":\"subject\",\"aud\":\"aud-1\"}", &who, 100, 0,
                 "");
}

/* One table of registered claims for the rules, the CLI and messages. */
static void test_claim_bits_and_names(void **state)
{
    static const char *const names[] = {"exp", "nbf", "iat", "iss", "sub", "aud", "jti"};
    unsigned i, all = 0;
    (void)state;

    for (i = 0; i < 7; i++) {
        assert_string_equal(tkr_jwt_claim_name(1u << i), names[i]);
        assert_int_equal(tkr_jwt_claim_bit(names[i], strlen(names[i])), 1u << i);
        all |= 1u << i;
    }
    assert_int_equal(all, TKR_CLAIM_ALL);
    assert_int_equal(TKR_CLAIM_EXP | TKR_CLAIM_NBF | TKR_CLAIM_IAT | TKR_CLAIM_ISS |
                         TKR_CLAIM_SUB | TKR_CLAIM_AUD | TKR_CLAIM_JTI,
                     TKR_CLAIM_ALL);
    assert_null(tkr_jwt_claim_name(0));
    assert_null(tkr_jwt_claim_name(TKR_CLAIM_EXP | TKR_CLAIM_NBF));
    assert_null(tkr_jwt_claim_name(1u << 7));
    assert_int_equal(tkr_jwt_claim_bit("ex", 2), 0);
    assert_int_equal(tkr_jwt_claim_bit("expx", 3), TKR_CLAIM_EXP); /* by length */
    assert_int_equal(tkr_jwt_claim_bit("EXP", 3), 0);
    assert_int_equal(tkr_jwt_claim_bit(NULL, 3), 0);
}

/* The diagnostics name the part at fault and the offset *in the token*,
 * so a report can point at the damage without echoing the token. */
static void test_parse_diag_names_the_part_and_offset(void **state)
{
    static const struct {
        const char *tok;
        int rc;
        const char *name;
        long off; /* -1: none */
    } v[] = {
        /* a stray character in the signature */
        {"eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ4In0.ab*cd", TKR_E_BASE64, "signature", 39},
        /* non-zero bits after the payload's last byte: its last character */
        {"eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ4In.abcd", TKR_E_BASE64, "payload", 34},
        /* {"alg":"ES256",} : the '}' (byte 15) is carried by character 20 */
        {"eyJhbGciOiJFUzI1NiIsfQ.eyJzdWIiOiJ4In0.abcd", TKR_E_JSON, "header", 20},
        /* {"sub":"x",} : '}' is byte 11, character 14 of the payload */
        {"eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ4Iix9.abcd", TKR_E_JSON, "payload", 21 + 14},
        {"eyJhbGciOiJFUzI1NiJ9..abcd", TKR_E_JWT_FORMAT, "payload", 21},
        {"eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ4In0.", TKR_E_JWT_FORMAT, "signature", 37},
        {".eyJzdWIiOiJ4In0.abcd", TKR_E_JWT_FORMAT, "header", 0},
        {"a.b.c.d", TKR_E_JWT_FORMAT, "", 5},  /* the third dot */
        {"a.b", TKR_E_JWT_FORMAT, "", 3},      /* the end: a dot is missing */
        {"eyJhbGciOjF9.eyJzdWIiOiJ4In0.abcd", TKR_E_JWT_HEADER, "header.alg", -1},
        {"eyJhbGciOiJFUzI1NiIsImNyaXQiOlsiZXhwIl19.eyJzdWIiOiJ4In0.abcd",
         TKR_E_JWT_CRIT, "header.crit", -1},
    };
    size_t i;
    (void)state;

    for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        tkr_diag_t d;
        int rc;

        tkr_diag_clear(&d);
        rc = tkr_jwt_parse(&jwt, v[i].tok, strlen(v[i].tok), &d);
        if (rc != v[i].rc || strcmp(d.name, v[i].name) != 0 ||
            (v[i].off < 0 ? d.has_offset
                          : !d.has_offset || d.offset != (size_t)v[i].off))
            fail_msg("%s: rc %d name \"%s\" offset %s%zu, expected %d \"%s\" %ld",
                     v[i].tok, rc, d.name, d.has_offset ? "" : "(none) ", d.offset,
                     v[i].rc, v[i].name, v[i].off);
        assert_true(d.msg[0] != '\0');
        assert_int_equal(d.mbedtls, 0);
    }
    /* NULL diag is allowed and changes nothing */
    assert_int_equal(tkr_jwt_parse(&jwt, v[0].tok, strlen(v[0].tok), NULL), TKR_E_BASE64);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_claim_bits_and_names),
        cmocka_unit_test(test_parse_diag_names_the_part_and_offset),
        cmocka_unit_test(test_claim_failures_name_the_claim),
        cmocka_unit_test(test_rfc7515_a2_rs256_token_verifies),
        cmocka_unit_test(test_rfc7515_a2_signature_reproduced_with_rfc_private_key),
        cmocka_unit_test(test_rfc7515_a3_es256_token_verifies_with_rfc_jwk),
        cmocka_unit_test(test_sign_verify_round_trip_rs256),
        cmocka_unit_test(test_sign_verify_round_trip_ps256),
        cmocka_unit_test(test_sign_verify_round_trip_es256),
        cmocka_unit_test(test_sign_verify_round_trip_es384),
        cmocka_unit_test(test_sign_output_verifies_with_plain_mbedtls),
        cmocka_unit_test(test_sign_ps256_es256_verify_with_openssl),
        cmocka_unit_test(test_sign_rejects_key_alg_mismatch),
        cmocka_unit_test(test_sign_buffer_too_small_and_bad_kid),
        cmocka_unit_test(test_token_mint_in_place_matches_two_step_signing),
        cmocka_unit_test(test_verify_rejects_alg_none),
        cmocka_unit_test(test_verify_rejects_alg_none_case_variants),
        cmocka_unit_test(test_verify_rejects_hs256_keyed_with_rsa_public_key_pem),
        cmocka_unit_test(test_verify_rejects_rs512_header_against_rs256_pin),
        cmocka_unit_test(test_verify_rejects_substitution_between_pinned_algs),
        cmocka_unit_test(test_verify_rejects_key_of_wrong_type_for_pin),
        cmocka_unit_test(test_parse_rejects_crit_header),
        cmocka_unit_test(test_verify_rejects_ecdsa_r_s_zero),
        cmocka_unit_test(test_verify_rejects_ecdsa_r_or_s_equal_to_order),
        cmocka_unit_test(test_verify_rejects_es384_r_equal_to_order),
        cmocka_unit_test(test_verify_rejects_truncated_signature),
        cmocka_unit_test(test_verify_rejects_overlong_signature),
        cmocka_unit_test(test_verify_rejects_der_encoded_ecdsa_signature),
        cmocka_unit_test(test_verify_checks_signature_before_claims),
        cmocka_unit_test(test_signature_covers_the_header),
        cmocka_unit_test(test_parse_rejects_duplicate_claims),
        cmocka_unit_test(test_parse_rejects_header_not_an_object),
        cmocka_unit_test(test_parse_rejects_alg_not_a_string),
        cmocka_unit_test(test_parse_rejects_kid_not_a_string),
        cmocka_unit_test(test_parse_reads_escaped_alg_by_value),
        cmocka_unit_test(test_parse_rejects_lax_base64url_in_each_segment),
        cmocka_unit_test(test_parse_rejects_trailing_data_after_signature),
        cmocka_unit_test(test_parse_rejects_empty_segments),
        cmocka_unit_test(test_parse_rejects_1mib_token_without_reading_it),
        cmocka_unit_test(test_parse_accepts_token_of_exactly_max_length),
        cmocka_unit_test(test_failed_parse_leaves_nothing_to_verify),
        cmocka_unit_test(test_claims_reject_non_integer_times),
        cmocka_unit_test(test_claims_exp_boundary_with_leeway),
        cmocka_unit_test(test_claims_nbf_boundary_with_leeway),
        cmocka_unit_test(test_claims_iat_in_future_beyond_leeway),
        cmocka_unit_test(test_claims_leeway_is_clamped_and_never_overflows),
        cmocka_unit_test(test_claims_iss_and_sub_exact_match),
        cmocka_unit_test(test_claims_aud_string_and_array),
        cmocka_unit_test(test_claims_aud_present_but_none_expected),
        cmocka_unit_test(test_claims_aud_array_with_non_string_element),
        cmocka_unit_test(test_claims_required_missing),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
