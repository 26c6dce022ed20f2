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
#include "utf8.h"

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

/* Put "keys[i]." before the member name a helper left in d->name, so the
 * report names the key as well; a bare JWK (keys < 0) has no index. */
static int at_key(tkr_diag_t *d, int rc, const tkr_jwks_t *set, int i)
{
    char pre[5 + TKR_DEC_TEXT_MAX + 2], num[TKR_DEC_TEXT_MAX];
    const char *digits;
    size_t n, len, room;

    if (d == NULL || set->keys < 0 || i < 0)
        return rc;
    digits = tkr_dec_text(num, (size_t)i);
    n = strlen(digits);
    memcpy(pre, "keys[", 5);
    memcpy(pre + 5, digits, n);
    n += 5;
    pre[n++] = ']';
    if (d->name[0] != '\0')
        pre[n++] = '.';
    len = strlen(d->name);
    room = sizeof(d->name) - 1;
    if (n > room)
        return rc;
    if (len > room - n)
        len = room - n;
    memmove(d->name + n, d->name, len);
    memcpy(d->name, pre, n);
    d->name[n + len] = '\0';
    return rc;
}

int tkr_jwks_parse(tkr_jwks_t *set, const char *json, size_t len,
                   tkr_diag_t *diag)
{
    int rc, i, n;

    if (set == NULL || json == NULL)
        return TKR_E_INVALID_ARG;
    rc = tkr_json_parse(&set->doc, set->tok, TKR_JWKS_TOKENS, json, len, diag);
    if (rc != 0)
        return rc;
    if (tkr_json_type(&set->doc, 0) != TKR_JSON_OBJECT)
        return tkr_diag(diag, TKR_E_TYPE, NULL, "not a JSON object");
    set->keys = tkr_json_find(&set->doc, 0, "keys");
    if (set->keys < 0) {
        /* A bare JWK is a set of one. */
        if (tkr_json_find(&set->doc, 0, "kty") < 0)
            return tkr_diag(diag, TKR_E_NOT_FOUND, "keys",
                            "neither a key set (\"keys\") nor a key (\"kty\")");
        set->keys = -1;
        return 0;
    }
    if (tkr_json_type(&set->doc, set->keys) != TKR_JSON_ARRAY)
        return tkr_diag(diag, TKR_E_TYPE, "keys", "not an array");
    n = tkr_json_count(&set->doc, set->keys);
    for (i = 0; i < n; i++)
        if (tkr_json_type(&set->doc, tkr_json_child(&set->doc, set->keys, i)) !=
            TKR_JSON_OBJECT)
        {
            tkr_diag(diag, TKR_E_TYPE, "", "not a JSON object");
            return at_key(diag, TKR_E_TYPE, set, i);
        }
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

static int meta(const tkr_json_t *doc, int k, jwk_meta_t *m, tkr_diag_t *d)
{
    static const char *const private_members[] = {"d", "p", "q", "dp", "dq",
                                                  "qi", "oth", "k"};
    size_t i;
    int t;

    for (i = 0; i < sizeof(private_members) / sizeof(private_members[0]); i++)
        if (tkr_json_find(doc, k, private_members[i]) >= 0)
            return tkr_diag(d, TKR_E_KEY, private_members[i],
                            "private key material in a public key set");
    t = tkr_json_find(doc, k, "use");
    if (t >= 0 && !tkr_json_str_eq(doc, t, "sig"))
        return tkr_diag(d, TKR_E_KEY_ALG, "use", "not \"sig\"");
    if (member_is(doc, k, "kty", "RSA"))
        m->family = TKR_KEY_FAMILY_RSA;
    else if (member_is(doc, k, "kty", "EC") && member_is(doc, k, "crv", "P-256"))
        m->family = TKR_KEY_FAMILY_P256;
    else if (member_is(doc, k, "kty", "EC") && member_is(doc, k, "crv", "P-384"))
        m->family = TKR_KEY_FAMILY_P384;
    else
        return tkr_diag(d, TKR_E_UNSUPPORTED, "kty",
                        "not RSA, or EC on P-256 or P-384");
    m->alg = TKR_JWT_ALG_UNKNOWN;
    t = tkr_json_find(doc, k, "alg");
    if (t >= 0) {
        char name[16];
        size_t n;
        if (tkr_json_type(doc, t) != TKR_JSON_STRING)
            return tkr_diag(d, TKR_E_KEY, "alg", "not a string");
        /* By value, like "kty" and "crv" (and the token header's alg). */
        if (tkr_json_get_str(doc, name, sizeof(name), &n, t) == 0)
            m->alg = tkr_jwt_alg_from_name(name, n);
        if (m->alg == TKR_JWT_ALG_UNKNOWN)
            return tkr_diag(d, TKR_E_KEY_ALG, "alg", /* e.g. RS512 */
                            "not RS256, PS256, ES256 or ES384");
        /* "alg" narrows the family; it cannot move the key to another. */
        if (!allows(m, m->alg))
            return tkr_diag(d, TKR_E_KEY_ALG, "alg", "not one for this key type");
    }
    return 0;
}

/* Strict base64url member into buf; exact length when want > 0. */
static int b64_member(const tkr_json_t *doc, int k, const char *name,
                      uint8_t *buf, size_t size, size_t *len, size_t want,
                      tkr_diag_t *d)
{
    int t = tkr_json_find(doc, k, name);
    const char *raw;
    size_t n;

    if (t < 0)
        return tkr_diag(d, TKR_E_KEY, name, "missing");
    if (tkr_json_type(doc, t) != TKR_JSON_STRING)
        return tkr_diag(d, TKR_E_KEY, name, "not a string");
    raw = tkr_json_raw(doc, &n, t);
    if (tkr_b64url_decode(buf, size, len, raw, n, NULL) != 0 || *len == 0)
        return tkr_diag(d, TKR_E_KEY, name, "not base64url of a fitting length");
    if (want > 0 && *len != want)
        return tkr_diag(d, TKR_E_KEY, name, "not the curve's coordinate length");
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
                    size_t size, unsigned char **p, tkr_diag_t *d)
{
    uint8_t e[RSA_E_MAX + 2];
    size_t nl, el;
    int len, w;

    /* n is decoded into the front of der and moved into place by
     * write_uint: one buffer for the modulus, not two. */
    if (b64_member(doc, k, "e", e, sizeof(e), &el, 0, d) != 0 ||
        b64_member(doc, k, "n", der, RSA_N_MAX + 2, &nl, 0, d) != 0)
        return TKR_E_KEY;
    /* Base64urlUInt is minimal: no leading zero octets (RFC 7518 §2). */
    if (nl > RSA_N_MAX || der[0] == 0)
        return tkr_diag(d, TKR_E_KEY, "n", "too long, or a leading zero octet");
    if (el > RSA_E_MAX || e[0] == 0)
        return tkr_diag(d, TKR_E_KEY, "e", "too long, or a leading zero octet");
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
                   unsigned char *der, size_t size, unsigned char **p,
                   tkr_diag_t *d)
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
    if (b64_member(doc, k, "x", *p + 1, c, &xl, c, d) != 0 ||
        b64_member(doc, k, "y", *p + 1 + c, c, &yl, c, d) != 0)
        return TKR_E_KEY;
    len = wrap_spki(p, der, (int)(1 + 2 * c), MBEDTLS_OID_EC_ALG_UNRESTRICTED,
                    MBEDTLS_OID_SIZE(MBEDTLS_OID_EC_ALG_UNRESTRICTED), curve,
                    curve_len);
    return len < 0 ? TKR_E_KEY : len;
}

static int load(const tkr_json_t *doc, int k, const jwk_meta_t *m,
                mbedtls_pk_context *pk, tkr_diag_t *d)
{
    unsigned char der[SPKI_BUF], *p = NULL;
    int len = m->family == TKR_KEY_FAMILY_RSA
                  ? rsa_spki(doc, k, der, sizeof(der), &p, d)
                  : ec_spki(doc, k, m->family, der, sizeof(der), &p, d);
    if (len < 0) {
        /* The members decoded but their DER would not build: blame them. */
        if (d != NULL && d->name[0] == '\0')
            tkr_diag(d, len, m->family == TKR_KEY_FAMILY_RSA ? "n" : "x",
                     "does not encode as a key");
        return len;
    }
    mbedtls_pk_free(pk);
    mbedtls_pk_init(pk);
    /* mbedTLS checks the modulus or that the point is on the curve. */
    if ((len = mbedtls_pk_parse_public_key(pk, p, (size_t)len)) != 0) {
        if (d != NULL)
            d->mbedtls = len;
        return tkr_diag(d, TKR_E_KEY, m->family == TKR_KEY_FAMILY_RSA ? "n" : "x",
                        "not a valid public key");
    }
    return 0;
}

int tkr_jwks_key(const tkr_jwks_t *set, mbedtls_pk_context *pk,
                 tkr_jwt_alg_t *alg, int i, tkr_diag_t *diag)
{
    jwk_meta_t m;
    int k = key_tok(set, i), rc;

    if (pk == NULL || alg == NULL)
        return TKR_E_INVALID_ARG;
    if (k < 0)
        return tkr_diag(diag, k, NULL, "no key with that index");
    if ((rc = meta(&set->doc, k, &m, diag)) != 0 ||
        (rc = load(&set->doc, k, &m, pk, diag)) != 0)
        return at_key(diag, rc, set, i);
    *alg = m.alg != TKR_JWT_ALG_UNKNOWN ? m.alg : tkr_key_family_alg(m.family);
    return 0;
}

int tkr_jwks_select(const tkr_jwks_t *set, mbedtls_pk_context *pk,
                    tkr_jwt_alg_t alg, const char *kid, tkr_diag_t *diag)
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
            if ((rc = meta(&set->doc, k, &m, diag)) != 0)
                return at_key(diag, rc == TKR_E_UNSUPPORTED ? TKR_E_KEY_ALG : rc,
                              set, i);
            if (!allows(&m, alg)) {
                tkr_diag(diag, TKR_E_KEY_ALG, "kid",
                         "the key with this kid is not for the token's alg");
                return at_key(diag, TKR_E_KEY_ALG, set, i);
            }
            if ((rc = load(&set->doc, k, &m, pk, diag)) != 0)
                return at_key(diag, rc, set, i);
            return 0;
        }
        /* Probing: a key unfit for alg is skipped, not reported. */
        if (meta(&set->doc, k, &m, NULL) == 0 && allows(&m, alg)) {
            usable++;
            found = k;
        }
    }
    /* Without a kid, guessing between several keys would let the token
     * pick; only an unambiguous set is accepted. */
    if (kid != NULL && kid[0] != '\0')
        return tkr_diag(diag, TKR_E_NOT_FOUND, "kid", "no key with this kid");
    if (usable != 1)
        return tkr_diag(diag, TKR_E_NOT_FOUND, NULL,
                        usable == 0 ? "no key usable for the token's alg"
                                    : "several keys fit and the token has no kid");
    (void)meta(&set->doc, found, &m, NULL);
    return load(&set->doc, found, &m, pk, diag);
}

int tkr_jwks_select_any(const tkr_jwks_t *set, mbedtls_pk_context *pk,
                        tkr_jwt_alg_t *alg, const char *kid, tkr_diag_t *diag)
{
    int i, n = tkr_jwks_count(set);

    if (pk == NULL || alg == NULL)
        return TKR_E_INVALID_ARG;
    if (kid == NULL || kid[0] == '\0')
        return n == 1 ? tkr_jwks_key(set, pk, alg, 0, diag)
                      : tkr_diag(diag, TKR_E_NOT_FOUND, "kid",
                                 "the token has no kid and the set does not hold one key");
    for (i = 0; i < n; i++)
        if (member_is(&set->doc, key_tok(set, i), "kid", kid))
            return tkr_jwks_key(set, pk, alg, i, diag);
    return tkr_diag(diag, TKR_E_NOT_FOUND, "kid", "no key with this kid");
}
