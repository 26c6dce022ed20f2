/* fuzz_jwks.c — libFuzzer harness for JSON Web Key Sets (RFC 7517).
 *
 * The input is a JWKS document or a bare JWK. After tkr_jwks_parse, every
 * index is loaded with tkr_jwks_key and every algorithm is selected with no
 * kid, an empty kid, an unknown kid and each key's own kid. Invariants
 * (abort on violation):
 *   - a loaded key is of the family its "kty"/"crv" name and its reported
 *     algorithm belongs to that family; its public numbers are exactly the
 *     base64url members (n, e or x, y) of the JWK; a key carrying private
 *     members (d, p, q, dp, dq, qi, oth, k) or a "use" other than "sig"
 *     never loads;
 *   - indexes outside the set give TKR_E_NOT_FOUND;
 *   - select with a kid returns the first key with that kid, or
 *     TKR_E_KEY_ALG when that key is bound to another algorithm, and never a
 *     different key; select without a kid succeeds only when exactly one key
 *     fits the algorithm, and then returns that key. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mbedtls/ecp.h>
#include <mbedtls/pk.h>
#include <mbedtls/rsa.h>

#include "tokenroll/b64url.h"
#include "tokenroll/error.h"
#include "tokenroll/json.h"
#include "tokenroll/jwks.h"
#include "tokenroll/jwt.h"
#include "tokenroll/key.h"

#include "fuzz_check.h"

#define MAX_KEYS 64     /* keys checked one by one; selection still runs */
#define KID_SELECTS 16  /* keys whose kid is also selected by */
#define DER_MAX 1200

typedef struct {
    int loaded;                 /* tkr_jwks_key returned 0 */
    tkr_jwt_alg_t alg;          /* what it reported */
    int has_alg;                /* the JWK carries "alg" */
    int has_kid;
    char kid[TKR_KID_MAX];
    unsigned char der[DER_MAX]; /* SubjectPublicKeyInfo, at the end */
    int der_len;
} ref_key_t;

static tkr_jwks_t set;
static ref_key_t ref[MAX_KEYS];

static const tkr_jwt_alg_t algs[] = {TKR_JWT_RS256, TKR_JWT_PS256,
                                     TKR_JWT_ES256, TKR_JWT_ES384};

static int jwk_tok(int i)
{
    return set.keys < 0 ? 0 : tkr_json_child(&set.doc, set.keys, i);
}

/* Base64url member of key k, decoded into a fresh buffer. */
static uint8_t *member(int k, const char *name, size_t *len)
{
    int t = tkr_json_find(&set.doc, k, name);
    const char *raw;
    size_t n, need;
    uint8_t *out;

    if (t < 0 || tkr_json_type(&set.doc, t) != TKR_JSON_STRING)
        return NULL;
    raw = tkr_json_raw(&set.doc, &n, t);
    if (tkr_b64url_decode(NULL, 0, &need, raw, n, NULL) != 0)
        return NULL;
    out = malloc(need + 1);
    CHECK(out != NULL);
    if (tkr_b64url_decode(out, need + 1, len, raw, n, NULL) != 0) {
        free(out);
        return NULL;
    }
    return out;
}

static int same_family(tkr_jwt_alg_t a, tkr_jwt_alg_t b)
{
    int ra = a == TKR_JWT_RS256 || a == TKR_JWT_PS256;
    int rb = b == TKR_JWT_RS256 || b == TKR_JWT_PS256;
    return ra == rb && (ra || a == b);
}

/* The loaded key's public numbers are the JWK's own. */
static void check_material(int k, mbedtls_pk_context *pk, tkr_jwt_alg_t native)
{
    uint8_t got[1 + 2 * 48 + 600];
    size_t a_len = 0, b_len = 0;
    uint8_t *a, *b;

    if (native == TKR_JWT_RS256) {
        a = member(k, "n", &a_len);
        b = member(k, "e", &b_len);
        CHECK(a != NULL && b != NULL && a_len > 0 && b_len > 0);
        CHECK(a[0] != 0 && b[0] != 0);     /* minimal Base64urlUInt */
        CHECK(a_len <= 512 && b_len <= 8);
        CHECK(mbedtls_pk_get_len(pk) == a_len);
        CHECK(mbedtls_rsa_export_raw(mbedtls_pk_rsa(*pk), got, a_len, NULL, 0,
                                     NULL, 0, NULL, 0, NULL, 0) == 0);
        CHECK(memcmp(got, a, a_len) == 0);
        CHECK(mbedtls_rsa_export_raw(mbedtls_pk_rsa(*pk), NULL, 0, NULL, 0,
                                     NULL, 0, NULL, 0, got, b_len) == 0);
        CHECK(memcmp(got, b, b_len) == 0);
    } else {
        size_t c = native == TKR_JWT_ES384 ? 48 : 32, olen = 0;
        mbedtls_ecp_keypair *ec = mbedtls_pk_ec(*pk);
        a = member(k, "x", &a_len);
        b = member(k, "y", &b_len);
        CHECK(a != NULL && b != NULL && a_len == c && b_len == c);
        CHECK(mbedtls_ecp_point_write_binary(&ec->grp, &ec->Q,
                                             MBEDTLS_ECP_PF_UNCOMPRESSED,
                                             &olen, got, sizeof(got)) == 0);
        CHECK(olen == 1 + 2 * c && got[0] == 0x04);
        CHECK(memcmp(got + 1, a, c) == 0 && memcmp(got + 1 + c, b, c) == 0);
    }
    free(a);
    free(b);
}

static void check_key(int i, mbedtls_pk_context *pk)
{
    static const char *const priv[] = {"d", "p", "q", "dp", "dq", "qi",
                                       "oth", "k"};
    ref_key_t *r = &ref[i];
    tkr_jwt_alg_t alg = TKR_JWT_ALG_UNKNOWN, native;
    int k = jwk_tok(i), t, rc;
    size_t p;

    CHECK(tkr_json_type(&set.doc, k) == TKR_JSON_OBJECT);
    memset(r, 0, sizeof(*r));
    r->has_alg = tkr_json_find(&set.doc, k, "alg") >= 0;
    t = tkr_json_find(&set.doc, k, "kid");
    if (t >= 0 && tkr_json_get_str(&set.doc, r->kid, sizeof(r->kid), NULL, t) == 0)
        r->has_kid = 1;

    rc = tkr_jwks_key(&set, pk, &alg, i, NULL);
    CHECK(rc == 0 || rc == TKR_E_KEY || rc == TKR_E_KEY_ALG ||
          rc == TKR_E_UNSUPPORTED);
    if (rc != 0)
        return;
    r->loaded = 1;
    r->alg = alg;
    for (p = 0; p < sizeof(priv) / sizeof(priv[0]); p++)
        CHECK(tkr_json_find(&set.doc, k, priv[p]) == TKR_E_NOT_FOUND);
    t = tkr_json_find(&set.doc, k, "use");
    if (t >= 0)
        CHECK(tkr_json_str_eq(&set.doc, t, "sig"));
    CHECK(alg == TKR_JWT_RS256 || alg == TKR_JWT_PS256 ||
          alg == TKR_JWT_ES256 || alg == TKR_JWT_ES384);
    if (!r->has_alg)
        CHECK(alg == TKR_JWT_RS256 || alg == TKR_JWT_ES256 ||
              alg == TKR_JWT_ES384);
    CHECK(tkr_key_default_alg(pk, &native) == 0);
    /* An "alg" of another family ("kty":"RSA","alg":"ES256") must make the
     * key unusable; verification refuses the pair later, but the reported
     * algorithm is wrong. Treated as not loaded for the selection model,
     * which is what tkr_jwks_select does with it. */
    if (!same_family(alg, native)) {
        CHECK(same_family(alg, native));
        r->loaded = 0;
        return;
    }
    /* Usable for its algorithm, except RSA under 2048 bits (RFC 7518 §3.3),
     * which verification refuses later. */
    rc = tkr_key_check_alg(pk, alg);
    CHECK(rc == 0 || (native == TKR_JWT_RS256 && mbedtls_pk_get_bitlen(pk) < 2048));
    check_material(k, pk, native);
    r->der_len = mbedtls_pk_write_pubkey_der(pk, r->der, sizeof(r->der));
    CHECK(r->der_len > 0);
}

static int allows(const ref_key_t *r, tkr_jwt_alg_t pin)
{
    if (!r->loaded)
        return 0;
    if (r->has_alg)
        return r->alg == pin;
    return same_family(r->alg, pin);
}

static int same_key(mbedtls_pk_context *pk, const ref_key_t *r)
{
    unsigned char der[DER_MAX];
    int n = mbedtls_pk_write_pubkey_der(pk, der, sizeof(der));

    return n > 0 && n == r->der_len &&
           memcmp(der + sizeof(der) - n, r->der + sizeof(r->der) - n,
                  (size_t)n) == 0;
}

static void check_select(int n, const char *kid, tkr_jwt_alg_t pin)
{
    mbedtls_pk_context pk;
    tkr_diag_t d;
    int rc, i, first = -1, fits = 0, which = -1;

    mbedtls_pk_init(&pk);
    tkr_diag_clear(&d);
    rc = tkr_jwks_select(&set, &pk, pin, kid, &d);
    CHECK(rc == 0 || rc == TKR_E_NOT_FOUND || rc == TKR_E_KEY_ALG ||
          rc == TKR_E_KEY);
    /* Every refusal says why; a success says nothing. */
    CHECK(rc == 0 ? d.msg[0] == '\0' && d.mbedtls == 0 : d.msg[0] != '\0');
    if (rc == 0)
        CHECK(tkr_key_check_alg(&pk, pin) == 0 ||
              (mbedtls_pk_get_type(&pk) == MBEDTLS_PK_RSA &&
               mbedtls_pk_get_bitlen(&pk) < 2048));
    if (n > MAX_KEYS)
        goto out;

    if (kid != NULL && kid[0] != '\0') {
        for (i = 0; i < n && first < 0; i++)
            if (tkr_json_str_eq(&set.doc,
                                tkr_json_find(&set.doc, jwk_tok(i), "kid"), kid))
                first = i;
        if (first < 0) {
            CHECK(rc == TKR_E_NOT_FOUND);
        } else if (allows(&ref[first], pin)) {
            CHECK(rc == 0 && same_key(&pk, &ref[first]));
        } else if (ref[first].loaded) {
            CHECK(rc == TKR_E_KEY_ALG);
        } else {
            CHECK(rc != 0);
        }
        goto out;
    }
    for (i = 0; i < n; i++) {
        if (allows(&ref[i], pin)) {
            fits++;
            which = i;
        }
    }
    if (fits > 1)
        CHECK(rc == TKR_E_NOT_FOUND);    /* ambiguous: never a guess */
    if (rc == 0)
        CHECK(fits == 1 && same_key(&pk, &ref[which]));
out:
    mbedtls_pk_free(&pk);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    mbedtls_pk_context pk;
    tkr_jwt_alg_t alg;
    int rc, n, i, k;
    size_t a;
    tkr_diag_t d;

    tkr_jwks_init(&set);
    tkr_diag_clear(&d);
    rc = tkr_jwks_parse(&set, (const char *)data, size, &d);
    CHECK(!d.has_offset || (rc != 0 && d.offset <= size));
    if (rc != 0) {
        CHECK(rc == TKR_E_JSON || rc == TKR_E_JSON_DEPTH ||
              rc == TKR_E_JSON_DUPLICATE || rc == TKR_E_JSON_TOKENS ||
              rc == TKR_E_UTF8 || rc == TKR_E_TOO_LARGE || rc == TKR_E_TYPE ||
              rc == TKR_E_NOT_FOUND);
        tkr_jwks_free(&set);
        return 0;
    }
    n = tkr_jwks_count(&set);
    if (set.keys < 0) {
        CHECK(n == 1);
        CHECK(tkr_json_find(&set.doc, 0, "kty") >= 0);
    } else {
        CHECK(n == tkr_json_count(&set.doc, set.keys));
    }

    mbedtls_pk_init(&pk);
    CHECK(tkr_jwks_key(&set, &pk, &alg, -1, NULL) == TKR_E_NOT_FOUND);
    CHECK(tkr_jwks_key(&set, &pk, &alg, n, NULL) == TKR_E_NOT_FOUND);
    for (i = 0; i < n && i < MAX_KEYS; i++)
        check_key(i, &pk);
    mbedtls_pk_free(&pk);

    for (a = 0; a < sizeof(algs) / sizeof(algs[0]); a++) {
        check_select(n, NULL, algs[a]);
        check_select(n, "", algs[a]);
        check_select(n, "\x01no such kid", algs[a]);
        for (k = 0; k < n && k < KID_SELECTS; k++)
            if (ref[k].has_kid)
                check_select(n, ref[k].kid, algs[a]);
    }
    tkr_jwks_free(&set);
    return 0;
}
