/* jwt_verify.c — signature and registered-claim checks (RFC 7515, 7519,
 * 8725). The order matters: the signature first, so nothing about the
 * claims of a forged token is ever reported. */
#include <string.h>

#include <mbedtls/asn1write.h>
#include <mbedtls/bignum.h>
#include <mbedtls/ecp.h>
#include <mbedtls/pk.h>

#include "compat.h"
#include "jwt_int.h"
#include "tokenroll/error.h"
#include "tokenroll/jwt.h"
#include "tokenroll/key.h"

mbedtls_md_type_t tkr_jwt_md(tkr_jwt_alg_t alg, size_t *hlen)
{
    if (alg == TKR_JWT_ES384) {
        *hlen = 48;
        return MBEDTLS_MD_SHA384;
    }
    *hlen = 32;
    return MBEDTLS_MD_SHA256;
}

size_t tkr_jwt_ec_len(tkr_jwt_alg_t alg)
{
    return alg == TKR_JWT_ES384 ? 48 : 32;
}

/* 0 < v < n, as ECDSA requires of r and s (SEC 1 §4.1.4 step 1). */
static int in_range(const mbedtls_mpi *v, const mbedtls_mpi *n)
{
    return mbedtls_mpi_cmp_int(v, 0) > 0 && mbedtls_mpi_cmp_mpi(v, n) < 0;
}

/* Raw r||s (JWS form) to the DER SEQUENCE mbedTLS verifies; refuses
 * scalars outside (0, n) so r = s = 0 and r = n tricks never reach it. */
static int ec_verify(const tkr_jwt_t *jwt, tkr_jwt_alg_t alg,
                     mbedtls_pk_context *pk, const uint8_t *hash, size_t hlen)
{
    size_t n = tkr_jwt_ec_len(alg);
    unsigned char der[2 * 49 + 16], *p = der + sizeof(der);
    mbedtls_mpi r, s;
    mbedtls_ecp_group grp;
    int len = 0, w, rc = TKR_E_SIGNATURE;

    if (jwt->sig_len != 2 * n)
        return TKR_E_JWT_SIG_LEN;
    mbedtls_mpi_init(&r);
    mbedtls_mpi_init(&s);
    mbedtls_ecp_group_init(&grp);
    if (mbedtls_mpi_read_binary(&r, jwt->sig, n) != 0 ||
        mbedtls_mpi_read_binary(&s, jwt->sig + n, n) != 0 ||
        mbedtls_ecp_group_load(&grp, tkr_compat_pk_curve(pk)) != 0) {
        rc = TKR_E_CRYPTO;
        goto out;
    }
    if (!in_range(&r, &grp.N) || !in_range(&s, &grp.N))
        goto out;
    if ((w = mbedtls_asn1_write_mpi(&p, der, &s)) < 0)
        goto out;
    len += w;
    if ((w = mbedtls_asn1_write_mpi(&p, der, &r)) < 0)
        goto out;
    len += w;
    if ((w = mbedtls_asn1_write_len(&p, der, (size_t)len)) < 0)
        goto out;
    len += w;
    if ((w = mbedtls_asn1_write_tag(&p, der, MBEDTLS_ASN1_CONSTRUCTED |
                                                 MBEDTLS_ASN1_SEQUENCE)) < 0)
        goto out;
    len += w;
    if (mbedtls_pk_verify(pk, tkr_jwt_md(alg, &n), hash, hlen, p,
                          (size_t)len) == 0)
        rc = 0;
out:
    mbedtls_mpi_free(&r);
    mbedtls_mpi_free(&s);
    mbedtls_ecp_group_free(&grp);
    return rc;
}

static int rsa_verify(const tkr_jwt_t *jwt, tkr_jwt_alg_t alg,
                      mbedtls_pk_context *pk, const uint8_t *hash, size_t hlen)
{
    size_t ignored;
    mbedtls_md_type_t md = tkr_jwt_md(alg, &ignored);

    if (jwt->sig_len != mbedtls_pk_get_len(pk))
        return TKR_E_JWT_SIG_LEN;
    if (alg == TKR_JWT_PS256) {
        /* Salt length = hash length, RFC 7518 §3.5. */
        if (tkr_compat_rsa_pss_verify(mbedtls_pk_rsa(*pk), md, hash,
                                      (unsigned)hlen, (int)hlen, jwt->sig) != 0)
            return TKR_E_SIGNATURE;
        return 0;
    }
    if (mbedtls_pk_verify(pk, md, hash, hlen, jwt->sig, jwt->sig_len) != 0)
        return TKR_E_SIGNATURE;
    return 0;
}

int tkr_jwt_verify_sig(const tkr_jwt_t *jwt, tkr_jwt_alg_t alg,
                       mbedtls_pk_context *pk)
{
    size_t hlen;
    int rc;

    if (jwt == NULL || pk == NULL || jwt->signing_input_len == 0)
        return TKR_E_INVALID_ARG;
    /* The pin decides; the header only has to agree with it exactly. */
    if (alg == TKR_JWT_ALG_UNKNOWN || jwt->alg != alg)
        return TKR_E_JWT_ALG;
    rc = tkr_key_check_alg(pk, alg);
    if (rc != 0)
        return rc;
    (void)tkr_jwt_md(alg, &hlen);
    if (alg == TKR_JWT_ES256 || alg == TKR_JWT_ES384)
        return ec_verify(jwt, alg, pk, jwt->digest, hlen);
    return rsa_verify(jwt, alg, pk, jwt->digest, hlen);
}

/* ---- claims ---- */

/* A NumericDate claim: absent (1), present integer (0), or an error. */
static int numeric(const tkr_jwt_t *jwt, const char *name, int64_t *v)
{
    int t = tkr_jwt_claim(jwt, name);

    if (t == TKR_E_NOT_FOUND)
        return 1;
    if (t < 0 || tkr_json_get_i64(&jwt->doc, v, t) != 0)
        return TKR_E_CLAIM_TYPE;
    return 0;
}

static int string_claim(const tkr_jwt_t *jwt, const char *name,
                        const char *want, int mismatch)
{
    int t = tkr_jwt_claim(jwt, name);

    if (t == TKR_E_NOT_FOUND)
        return want != NULL ? TKR_E_CLAIM_MISSING : 0;
    if (tkr_json_type(&jwt->doc, t) != TKR_JSON_STRING)
        return TKR_E_CLAIM_TYPE;
    if (want != NULL && !tkr_json_str_eq(&jwt->doc, t, want))
        return mismatch;
    return 0;
}

/* RFC 7519 §4.1.3: a token naming audiences must name ours, and one we
 * expect an audience in must carry it. */
static int audience(const tkr_jwt_t *jwt, const char *want)
{
    int t = tkr_jwt_claim(jwt, "aud"), n, i;

    if (t == TKR_E_NOT_FOUND)
        return want != NULL ? TKR_E_CLAIM_MISSING : 0;
    if (tkr_json_type(&jwt->doc, t) == TKR_JSON_STRING)
        return want != NULL && tkr_json_str_eq(&jwt->doc, t, want) ? 0
                                                                   : TKR_E_AUD;
    if (tkr_json_type(&jwt->doc, t) != TKR_JSON_ARRAY)
        return TKR_E_CLAIM_TYPE;
    n = tkr_json_count(&jwt->doc, t);
    for (i = 0; i < n; i++) {
        int e = tkr_json_child(&jwt->doc, t, i);
        if (tkr_json_type(&jwt->doc, e) != TKR_JSON_STRING)
            return TKR_E_CLAIM_TYPE;
    }
    for (i = 0; want != NULL && i < n; i++)
        if (tkr_json_str_eq(&jwt->doc, tkr_json_child(&jwt->doc, t, i), want))
            return 0;
    return TKR_E_AUD;
}

/* Bit i of TKR_CLAIM_* is claim_names[i]. */
static const char *const claim_names[] = {"exp", "nbf", "iat", "iss", "sub", "aud", "jti"};

const char *tkr_jwt_claim_name(unsigned bit)
{
    size_t i;

    for (i = 0; i < sizeof(claim_names) / sizeof(claim_names[0]); i++)
        if (bit == 1u << i)
            return claim_names[i];
    return NULL;
}

unsigned tkr_jwt_claim_bit(const char *name, size_t len)
{
    size_t i;

    for (i = 0; name != NULL && i < sizeof(claim_names) / sizeof(claim_names[0]); i++)
        if (strlen(claim_names[i]) == len && memcmp(claim_names[i], name, len) == 0)
            return 1u << i;
    return 0;
}

/* The first required claim the token lacks, or NULL. */
static const char *required(const tkr_jwt_t *jwt, unsigned req)
{
    unsigned bit;

    for (bit = 1; bit & TKR_CLAIM_ALL; bit <<= 1)
        if ((req & bit) && tkr_jwt_claim(jwt, tkr_jwt_claim_name(bit)) < 0)
            return tkr_jwt_claim_name(bit);
    return NULL;
}

/* The checks; *at names the claim a failure is about. */
static int check(const tkr_jwt_t *jwt, const tkr_jwt_rules_t *rules, int64_t now,
                 const char **at)
{
    int64_t exp, nbf, iat, leeway, late;
    int rc, has_exp, has_nbf, has_iat;

    /* Clamped so the comparisons below cannot overflow. */
    leeway = rules->leeway < 0 ? 0 : rules->leeway;
    if (leeway > TKR_JWT_LEEWAY_MAX)
        leeway = TKR_JWT_LEEWAY_MAX;
    if ((*at = required(jwt, rules->required)) != NULL)
        return TKR_E_CLAIM_MISSING;
    if ((has_exp = numeric(jwt, *at = "exp", &exp)) < 0 ||
        (has_nbf = numeric(jwt, *at = "nbf", &nbf)) < 0 ||
        (has_iat = numeric(jwt, *at = "iat", &iat)) < 0)
        return TKR_E_CLAIM_TYPE;
    if ((rc = string_claim(jwt, *at = "jti", NULL, 0)) != 0)
        return rc;
    *at = NULL;
    if ((has_exp == 0 || has_nbf == 0 || has_iat == 0) && now < 0)
        return TKR_E_INVALID_ARG; /* a clock is needed and there is none */
    /* now >= exp + leeway, written so that a hostile exp cannot overflow:
     * the arithmetic is on now (>= 0 here) and the clamped leeway only,
     * and now + leeway saturates at the end of the int64_t clock. */
    late = now > INT64_MAX - leeway ? INT64_MAX : now + leeway;
    if (has_exp == 0 && exp <= now - leeway)
        return *at = "exp", TKR_E_EXPIRED;
    if (has_nbf == 0 && nbf > late)
        return *at = "nbf", TKR_E_NOT_YET_VALID;
    if (has_iat == 0 && iat > late)
        return *at = "iat", TKR_E_IAT_FUTURE;
    if ((rc = string_claim(jwt, *at = "iss", rules->iss, TKR_E_ISS)) != 0 ||
        (rc = string_claim(jwt, *at = "sub", rules->sub, TKR_E_SUB)) != 0 ||
        (*at = "aud", rc = audience(jwt, rules->aud)) != 0)
        return rc;
    *at = NULL;
    return 0;
}

int tkr_jwt_check_claims(const tkr_jwt_t *jwt, const tkr_jwt_rules_t *rules,
                         int64_t now, tkr_diag_t *diag)
{
    static const tkr_jwt_rules_t none = {0, NULL, NULL, NULL, 0};
    const char *at = NULL;
    int rc;

    if (jwt == NULL || jwt->doc.ntok == 0)
        return TKR_E_INVALID_ARG;
    rc = check(jwt, rules != NULL ? rules : &none, now, &at);
    if (rc != 0 && at != NULL)
        tkr_diag(diag, rc, at, NULL);
    return rc;
}

int tkr_jwt_verify(const tkr_jwt_t *jwt, tkr_jwt_alg_t alg,
                   mbedtls_pk_context *pk, const tkr_jwt_rules_t *rules,
                   int64_t now, tkr_diag_t *diag)
{
    int rc = tkr_jwt_verify_sig(jwt, alg, pk);
    if (rc != 0)
        return rc;
    return tkr_jwt_check_claims(jwt, rules, now, diag);
}
