/* jwks.c — RFC 7517 key sets to mbedTLS public keys.
 *
 * A JWK is turned into a DER SubjectPublicKeyInfo and handed to
 * mbedtls_pk_parse_public_key, which validates the RSA modulus and checks
 * EC points are on the curve; this also keeps version differences out. */
#include <string.h>

#include <mbedtls/asn1write.h>
#include <mbedtls/oid.h>
#include <mbedtls/pk.h>

#include "tokenroll/b64url.h"
#include "tokenroll/error.h"
#include "tokenroll/jwks.h"
#include "tokenroll/key.h"

#define RSA_N_MAX 512          /* 4096-bit modulus */
#define RSA_E_MAX 8
#define SPKI_BUF (RSA_N_MAX + RSA_E_MAX + 64)

typedef struct {
    tkr_key_family_t family;
    tkr_jwt_alg_t alg;      /* from "alg", or UNKNOWN when absent */
} jwk_meta_t;

void tkr_jwks_init(tkr_jwks_t *set)
{
    if (set != NULL)
        memset(set, 0, sizeof(*set));
}

void tkr_jwks_free(tkr_jwks_t *set)
{
    if (set != NULL)
        memset(set, 0, sizeof(*set));
}

int tkr_jwks_parse(tkr_jwks_t *set, const char *json, size_t len)
{
    int rc, i, n;

    if (set == NULL || json == NULL)
        return TKR_E_INVALID_ARG;
    rc = tkr_json_parse(&set->doc, set->tok, TKR_JWKS_TOKENS, json, len, NULL);
    if (rc != 0)
        return rc;
    if (tkr_json_type(&set->doc, 0) != TKR_JSON_OBJECT)
        return TKR_E_TYPE;
    set->keys = tkr_json_find(&set->doc, 0, "keys");
    if (set->keys < 0) {
        /* A bare JWK is a set of one. */
        if (tkr_json_find(&set->doc, 0, "kty") < 0)
            return TKR_E_NOT_FOUND;
        set->keys = -1;
        return 0;
    }
    if (tkr_json_type(&set->doc, set->keys) != TKR_JSON_ARRAY)
        return TKR_E_TYPE;
    n = tkr_json_count(&set->doc, set->keys);
    for (i = 0; i < n; i++)
        if (tkr_json_type(&set->doc, tkr_json_child(&set->doc, set->keys, i)) !=
            TKR_JSON_OBJECT)
            return TKR_E_TYPE;
    return 0;
}

int tkr_jwks_count(const tkr_jwks_t *set)
{
    if (set == NULL || set->doc.ntok == 0)
        return 0;
    if (set->keys < 0)
        return 1;
    return tkr_json_count(&set->doc, set->keys);
}

static int key_tok(const tkr_jwks_t *set, int i)
{
    if (i < 0 || i >= tkr_jwks_count(set))
        return TKR_E_NOT_FOUND;
    return set->keys < 0 ? 0 : tkr_json_child(&set->doc, set->keys, i);
}

static int member_is(const tkr_json_t *doc, int k, const char *name,
                     const char *value)
{
    int t = tkr_json_find(doc, k, name);
    return t >= 0 && tkr_json_str_eq(doc, t, value);
}

/* The family binds (key.c's rule); a JWK's "alg" narrows it to one. */
static int allows(const jwk_meta_t *m, tkr_jwt_alg_t alg)
{
    return tkr_key_family_allows(m->family, alg) &&
           (m->alg == TKR_JWT_ALG_UNKNOWN || m->alg == alg);
}

static int meta(const tkr_json_t *doc, int k, jwk_meta_t *m)
{
    static const char *const private_members[] = {"d", "p", "q", "dp", "dq",
                                                  "qi", "oth", "k"};
    size_t i;
    int t;

    for (i = 0; i < sizeof(private_members) / sizeof(private_members[0]); i++)
        if (tkr_json_find(doc, k, private_members[i]) >= 0)
            return TKR_E_KEY;
    t = tkr_json_find(doc, k, "use");
    if (t >= 0 && !tkr_json_str_eq(doc, t, "sig"))
        return TKR_E_KEY_ALG;
    if (member_is(doc, k, "kty", "RSA"))
        m->family = TKR_KEY_FAMILY_RSA;
    else if (member_is(doc, k, "kty", "EC") && member_is(doc, k, "crv", "P-256"))
        m->family = TKR_KEY_FAMILY_P256;
    else if (member_is(doc, k, "kty", "EC") && member_is(doc, k, "crv", "P-384"))
        m->family = TKR_KEY_FAMILY_P384;
    else
        return TKR_E_UNSUPPORTED;
    m->alg = TKR_JWT_ALG_UNKNOWN;
    t = tkr_json_find(doc, k, "alg");
    if (t >= 0) {
        char name[16];
        size_t n;
        if (tkr_json_type(doc, t) != TKR_JSON_STRING)
            return TKR_E_KEY;
        /* By value, like "kty" and "crv" (and the token header's alg). */
        if (tkr_json_get_str(doc, name, sizeof(name), &n, t) == 0)
            m->alg = tkr_jwt_alg_from_name(name, n);
        if (m->alg == TKR_JWT_ALG_UNKNOWN)
            return TKR_E_KEY_ALG; /* e.g. RS512: not for us */
        /* "alg" narrows the family; it cannot move the key to another. */
        if (!allows(m, m->alg))
            return TKR_E_KEY_ALG;
    }
    return 0;
}

/* Strict base64url member into buf; exact length when want > 0. */
static int b64_member(const tkr_json_t *doc, int k, const char *name,
                      uint8_t *buf, size_t size, size_t *len, size_t want)
{
    int t = tkr_json_find(doc, k, name);
    const char *raw;
    size_t n;

    if (t < 0 || tkr_json_type(doc, t) != TKR_JSON_STRING)
        return TKR_E_KEY;
    raw = tkr_json_raw(doc, &n, t);
    if (tkr_b64url_decode(buf, size, len, raw, n) != 0 || *len == 0)
        return TKR_E_KEY;
    if (want > 0 && *len != want)
        return TKR_E_KEY;
    return 0;
}

/* Write DER INTEGER of an unsigned big-endian value (Base64urlUInt). v is
 * read before anything is written, so it may overlap the space the INTEGER
 * goes to. */
static int write_uint(unsigned char **p, unsigned char *start,
                      const uint8_t *v, size_t n)
{
    int len = 0, w, pad = (v[0] & 0x80) != 0;

    if (*p - start < (ptrdiff_t)n + 1)
        return -1;
    *p -= n;
    memmove(*p, v, n); /* v may lie in the same buffer (rsa_spki) */
    len = (int)n;
    if (pad) {
        *--(*p) = 0;
        len++;
    }
    if ((w = mbedtls_asn1_write_len(p, start, (size_t)len)) < 0)
        return w;
    len += w;
    if ((w = mbedtls_asn1_write_tag(p, start, MBEDTLS_ASN1_INTEGER)) < 0)
        return w;
    return len + w;
}

/* SEQUENCE { AlgorithmIdentifier, BIT STRING { key } } around the key
 * bytes already written at *p (len bytes). */
static int wrap_spki(unsigned char **p, unsigned char *start, int len,
                     const char *oid, size_t oid_len, const char *param,
                     size_t param_len)
{
    int w, alg_len;

    if (*p - start < 1)
        return -1;
    *--(*p) = 0; /* no unused bits */
    len++;
    if ((w = mbedtls_asn1_write_len(p, start, (size_t)len)) < 0 ||
        (len += w, w = mbedtls_asn1_write_tag(p, start, MBEDTLS_ASN1_BIT_STRING)) < 0)
        return -1;
    len += w;
    if (param != NULL) {
        if ((alg_len = mbedtls_asn1_write_oid(p, start, param, param_len)) < 0)
            return -1;
    } else {
        if ((alg_len = mbedtls_asn1_write_null(p, start)) < 0)
            return -1;
    }
    if ((w = mbedtls_asn1_write_algorithm_identifier(p, start, oid, oid_len,
                                                     (size_t)alg_len)) < 0)
        return -1;
    len += w;
    if ((w = mbedtls_asn1_write_len(p, start, (size_t)len)) < 0)
        return -1;
    len += w;
    if ((w = mbedtls_asn1_write_tag(p, start, MBEDTLS_ASN1_CONSTRUCTED |
                                                  MBEDTLS_ASN1_SEQUENCE)) < 0)
        return -1;
    return len + w;
}

static int rsa_spki(const tkr_json_t *doc, int k, unsigned char *der,
                    size_t size, unsigned char **p)
{
    uint8_t e[RSA_E_MAX + 2];
    size_t nl, el;
    int len, w;

    /* n is decoded into the front of der and moved into place by
     * write_uint: one buffer for the modulus, not two. */
    if (b64_member(doc, k, "e", e, sizeof(e), &el, 0) != 0 ||
        b64_member(doc, k, "n", der, RSA_N_MAX + 2, &nl, 0) != 0)
        return TKR_E_KEY;
    /* Base64urlUInt is minimal: no leading zero octets (RFC 7518 §2). */
    if (nl > RSA_N_MAX || el > RSA_E_MAX || der[0] == 0 || e[0] == 0)
        return TKR_E_KEY;
    *p = der + size;
    if ((len = write_uint(p, der, e, el)) < 0 ||
        (w = write_uint(p, der, der, nl)) < 0)
        return TKR_E_KEY;
    len += w;
    if ((w = mbedtls_asn1_write_len(p, der, (size_t)len)) < 0)
        return TKR_E_KEY;
    len += w;
    if ((w = mbedtls_asn1_write_tag(p, der, MBEDTLS_ASN1_CONSTRUCTED |
                                                MBEDTLS_ASN1_SEQUENCE)) < 0)
        return TKR_E_KEY;
    len += w;
    len = wrap_spki(p, der, len, MBEDTLS_OID_PKCS1_RSA,
                    MBEDTLS_OID_SIZE(MBEDTLS_OID_PKCS1_RSA), NULL, 0);
    return len < 0 ? TKR_E_KEY : len;
}

static int ec_spki(const tkr_json_t *doc, int k, tkr_key_family_t family,
                   unsigned char *der, size_t size, unsigned char **p)
{
    size_t c = family == TKR_KEY_FAMILY_P384 ? 48 : 32, xl, yl;
    const char *curve = family == TKR_KEY_FAMILY_P384 ? MBEDTLS_OID_EC_GRP_SECP384R1
                                           : MBEDTLS_OID_EC_GRP_SECP256R1;
    size_t curve_len = family == TKR_KEY_FAMILY_P384
                           ? MBEDTLS_OID_SIZE(MBEDTLS_OID_EC_GRP_SECP384R1)
                           : MBEDTLS_OID_SIZE(MBEDTLS_OID_EC_GRP_SECP256R1);
    int len;

    if (size < 1 + 2 * c)
        return TKR_E_KEY;
    /* The uncompressed point 04||x||y is decoded where it goes, at the end
     * of der. Coordinates are the full field size (RFC 7518 §6.2.1.2). */
    *p = der + size - (1 + 2 * c);
    (*p)[0] = 0x04;
    if (b64_member(doc, k, "x", *p + 1, c, &xl, c) != 0 ||
        b64_member(doc, k, "y", *p + 1 + c, c, &yl, c) != 0)
        return TKR_E_KEY;
    len = wrap_spki(p, der, (int)(1 + 2 * c), MBEDTLS_OID_EC_ALG_UNRESTRICTED,
                    MBEDTLS_OID_SIZE(MBEDTLS_OID_EC_ALG_UNRESTRICTED), curve,
                    curve_len);
    return len < 0 ? TKR_E_KEY : len;
}

static int load(const tkr_json_t *doc, int k, const jwk_meta_t *m,
                mbedtls_pk_context *pk)
{
    unsigned char der[SPKI_BUF], *p = NULL;
    int len = m->family == TKR_KEY_FAMILY_RSA ? rsa_spki(doc, k, der, sizeof(der), &p)
                                   : ec_spki(doc, k, m->family, der,
                                             sizeof(der), &p);
    if (len < 0)
        return len;
    mbedtls_pk_free(pk);
    mbedtls_pk_init(pk);
    if (mbedtls_pk_parse_public_key(pk, p, (size_t)len) != 0)
        return TKR_E_KEY;
    return 0;
}

int tkr_jwks_key(const tkr_jwks_t *set, mbedtls_pk_context *pk,
                 tkr_jwt_alg_t *alg, int i)
{
    jwk_meta_t m;
    int k = key_tok(set, i), rc;

    if (pk == NULL || alg == NULL)
        return TKR_E_INVALID_ARG;
    if (k < 0)
        return k;
    if ((rc = meta(&set->doc, k, &m)) != 0)
        return rc;
    if ((rc = load(&set->doc, k, &m, pk)) != 0)
        return rc;
    *alg = m.alg != TKR_JWT_ALG_UNKNOWN ? m.alg : tkr_key_family_alg(m.family);
    return 0;
}

int tkr_jwks_select(const tkr_jwks_t *set, mbedtls_pk_context *pk,
                    tkr_jwt_alg_t alg, const char *kid)
{
    int i, n = tkr_jwks_count(set), found = -1, usable = 0, rc;
    jwk_meta_t m;

    if (pk == NULL)
        return TKR_E_INVALID_ARG;
    for (i = 0; i < n; i++) {
        int k = key_tok(set, i);
        if (kid != NULL && kid[0] != '\0') {
            if (!member_is(&set->doc, k, "kid", kid))
                continue;
            if ((rc = meta(&set->doc, k, &m)) != 0)
                return rc == TKR_E_UNSUPPORTED ? TKR_E_KEY_ALG : rc;
            if (!allows(&m, alg))
                return TKR_E_KEY_ALG;
            return load(&set->doc, k, &m, pk);
        }
        if (meta(&set->doc, k, &m) == 0 && allows(&m, alg)) {
            usable++;
            found = k;
        }
    }
    /* Without a kid, guessing between several keys would let the token
     * pick; only an unambiguous set is accepted. */
    if ((kid != NULL && kid[0] != '\0') || usable != 1)
        return TKR_E_NOT_FOUND;
    (void)meta(&set->doc, found, &m);
    return load(&set->doc, found, &m, pk);
}

int tkr_jwks_select_any(const tkr_jwks_t *set, mbedtls_pk_context *pk,
                        tkr_jwt_alg_t *alg, const char *kid)
{
    int i, n = tkr_jwks_count(set);

    if (pk == NULL || alg == NULL)
        return TKR_E_INVALID_ARG;
    if (kid == NULL || kid[0] == '\0')
        return n == 1 ? tkr_jwks_key(set, pk, alg, 0) : TKR_E_NOT_FOUND;
    for (i = 0; i < n; i++)
        if (member_is(&set->doc, key_tok(set, i), "kid", kid))
            return tkr_jwks_key(set, pk, alg, i);
    return TKR_E_NOT_FOUND;
}
