/* key.c — key loading and the key-type/algorithm binding. */
#include <string.h>

#include <mbedtls/pk.h>
#include <mbedtls/platform_util.h>
#include <mbedtls/x509_crt.h>

#include "compat.h"
#include "tokenroll/error.h"
#include "tokenroll/key.h"

static int from_certificate(mbedtls_pk_context *pk, const uint8_t *buf,
                            size_t len, int *mret)
{
    mbedtls_x509_crt crt;
    int rc = TKR_E_KEY;

    mbedtls_x509_crt_init(&crt);
    if ((*mret = mbedtls_x509_crt_parse(&crt, buf, len)) != 0)
        goto out;
    /* mbedTLS has no pk copy; the certificate's own SubjectPublicKeyInfo
     * bytes (in the parsed copy) are parsed again, with no buffer here. */
    if ((*mret = mbedtls_pk_parse_public_key(pk, crt.pk_raw.p,
                                             crt.pk_raw.len)) == 0)
        rc = 0;
out:
    mbedtls_x509_crt_free(&crt);
    return rc;
}

int tkr_key_parse_public(mbedtls_pk_context *pk, const uint8_t *buf, size_t len,
                         tkr_diag_t *diag)
{
    int mret, cret, rc;

    if (pk == NULL || buf == NULL)
        return TKR_E_INVALID_ARG;
    mret = mbedtls_pk_parse_public_key(pk, buf, len);
    if (mret == 0)
        return 0;
    mbedtls_pk_free(pk);
    mbedtls_pk_init(pk);
    /* The key parser's code is the one reported: a certificate is only the
     * fallback, and its parser's complaint about a bare key says little. */
    rc = from_certificate(pk, buf, len, &cret);
    if (rc != 0 && diag != NULL)
        diag->mbedtls = mret;
    return rc == 0 ? 0 : tkr_diag(diag, rc, NULL,
                                   "not a public key or certificate");
}

int tkr_key_is_pem(const uint8_t *buf, size_t len)
{
    size_t i;

    for (i = 0; buf != NULL && i + 10 <= len; i++)
        if (memcmp(buf + i, "-----BEGIN", 10) == 0)
            return 1;
    return 0;
}

int tkr_key_parse_private(mbedtls_pk_context *pk, const uint8_t *buf,
                          size_t len, const tkr_port_t *port,
                          tkr_diag_t *diag)
{
    int mret;

    if (pk == NULL || buf == NULL)
        return TKR_E_INVALID_ARG;
    mret = tkr_compat_pk_parse_key(pk, buf, len, tkr_port_rng, (void *)port);
    if (mret == 0)
        return 0;
    if (diag != NULL)
        diag->mbedtls = mret;
    return tkr_diag(diag, TKR_E_KEY, NULL, "not an unencrypted private key");
}

tkr_key_family_t tkr_key_family(const mbedtls_pk_context *pk)
{
    if (pk == NULL)
        return TKR_KEY_FAMILY_NONE;
    switch (mbedtls_pk_get_type(pk)) {
    case MBEDTLS_PK_RSA:
        return TKR_KEY_FAMILY_RSA;
    case MBEDTLS_PK_ECKEY:
    case MBEDTLS_PK_ECDSA:
        switch (tkr_compat_pk_curve(pk)) {
        case MBEDTLS_ECP_DP_SECP256R1: return TKR_KEY_FAMILY_P256;
        case MBEDTLS_ECP_DP_SECP384R1: return TKR_KEY_FAMILY_P384;
        default: return TKR_KEY_FAMILY_NONE;
        }
    default:
        return TKR_KEY_FAMILY_NONE;
    }
}

tkr_jwt_alg_t tkr_key_family_alg(tkr_key_family_t f)
{
    switch (f) {
    case TKR_KEY_FAMILY_RSA: return TKR_JWT_RS256;
    case TKR_KEY_FAMILY_P256: return TKR_JWT_ES256;
    case TKR_KEY_FAMILY_P384: return TKR_JWT_ES384;
    default: return TKR_JWT_ALG_UNKNOWN;
    }
}

int tkr_key_family_allows(tkr_key_family_t f, tkr_jwt_alg_t alg)
{
    switch (alg) {
    case TKR_JWT_RS256:
    case TKR_JWT_PS256: return f == TKR_KEY_FAMILY_RSA;
    case TKR_JWT_ES256: return f == TKR_KEY_FAMILY_P256;
    case TKR_JWT_ES384: return f == TKR_KEY_FAMILY_P384;
    default: return 0;
    }
}

int tkr_key_default_alg(const mbedtls_pk_context *pk, tkr_jwt_alg_t *alg)
{
    if (pk == NULL || alg == NULL)
        return TKR_E_INVALID_ARG;
    *alg = tkr_key_family_alg(tkr_key_family(pk));
    return *alg == TKR_JWT_ALG_UNKNOWN ? TKR_E_KEY_ALG : 0;
}

int tkr_key_check_alg(const mbedtls_pk_context *pk, tkr_jwt_alg_t alg)
{
    tkr_key_family_t f;

    if (pk == NULL)
        return TKR_E_INVALID_ARG;
    f = tkr_key_family(pk);
    if (!tkr_key_family_allows(f, alg))
        return TKR_E_KEY_ALG;
    /* RFC 7518 §3.3: RSA keys of 2048 bits or more. */
    if (f == TKR_KEY_FAMILY_RSA && mbedtls_pk_get_bitlen(pk) < 2048)
        return TKR_E_KEY_ALG;
    return 0;
}

int tkr_key_check_pair(const mbedtls_pk_context *pub,
                       const mbedtls_pk_context *priv, const tkr_port_t *port,
                       tkr_diag_t *diag)
{
    int mret;

    if (pub == NULL || priv == NULL)
        return TKR_E_INVALID_ARG;
    mret = tkr_compat_pk_check_pair(pub, priv, tkr_port_rng, (void *)port);
    if (mret == 0)
        return 0;
    if (diag != NULL)
        diag->mbedtls = mret;
    return TKR_E_KEY_MISMATCH;
}
