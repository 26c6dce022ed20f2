/* jwt_sign.c — produce a compact JWS (RFC 7515 §7.1). */
#include <string.h>

#include <mbedtls/md.h>
#include <mbedtls/pk.h>
#include <mbedtls/platform_util.h>

#include "compat.h"
#include "jwt_int.h"
#include "tokenroll/b64url.h"
#include "tokenroll/error.h"
#include "tokenroll/json.h"
#include "tokenroll/jwt.h"
#include "tokenroll/key.h"
#include "tokenroll/signer.h"

int tkr_jwt_pk_signature(uint8_t *sig, size_t sig_size, size_t *sig_len,
                         mbedtls_pk_context *key, tkr_jwt_alg_t alg,
                         const uint8_t *hash, size_t hlen,
                         const tkr_port_t *port)
{
    mbedtls_md_type_t md = tkr_jwt_md(alg, &hlen);
    unsigned char der[MBEDTLS_PK_SIGNATURE_MAX_SIZE];
    size_t der_len = 0;

    if (alg == TKR_JWT_PS256) {
        *sig_len = mbedtls_pk_get_len(key);
        if (*sig_len > sig_size)
            return TKR_E_BUFFER_TOO_SMALL;
        if (tkr_compat_rsa_pss_sign(mbedtls_pk_rsa(*key), tkr_port_rng,
                                    (void *)port, md, hash, (unsigned)hlen,
                                    sig) != 0)
            return TKR_E_CRYPTO;
        return 0;
    }
    if (alg == TKR_JWT_RS256) {
        if (mbedtls_pk_get_len(key) > sig_size)
            return TKR_E_BUFFER_TOO_SMALL;
        if (tkr_compat_pk_sign(key, md, hash, hlen, sig, sig_size, sig_len,
                               tkr_port_rng, (void *)port) != 0)
            return TKR_E_CRYPTO;
        return 0;
    }
    *sig_len = 2 * tkr_jwt_ec_len(alg);
    if (*sig_len > sig_size)
        return TKR_E_BUFFER_TOO_SMALL;
    if (tkr_compat_pk_sign(key, md, hash, hlen, der, sizeof(der), &der_len,
                           tkr_port_rng, (void *)port) != 0)
        return TKR_E_CRYPTO;
    return tkr_signer_ecdsa_to_raw(sig, tkr_jwt_ec_len(alg), der, der_len);
}

/* {"alg":..,"kid":..,"typ":"JWT"}: PyJWT sorts header members, so this
 * order gives the same bytes as PyJWT and FLARE for the same inputs. */
static int header_json(char *buf, size_t size, size_t *len,
                       tkr_jwt_alg_t alg, const char *kid)
{
    tkr_jsonw_t w;

    tkr_jsonw_init(&w, buf, size, TKR_JSONW_ASCII);
    tkr_jsonw_obj_begin(&w);
    tkr_jsonw_key(&w, "alg");
    tkr_jsonw_str(&w, tkr_jwt_alg_name(alg));
    if (kid != NULL) {
        tkr_jsonw_key(&w, "kid");
        tkr_jsonw_str(&w, kid);
    }
    tkr_jsonw_key(&w, "typ");
    tkr_jsonw_str(&w, "JWT");
    tkr_jsonw_obj_end(&w);
    return tkr_jsonw_finish(&w, len);
}

/* Append base64url of in to out at *pos. */
static int append_b64(char *out, size_t out_size, size_t *pos,
                      const uint8_t *in, size_t in_len)
{
    size_t n;
    int rc;

    if (*pos > out_size)
        return TKR_E_BUFFER_TOO_SMALL;
    rc = tkr_b64url_encode(out + *pos, out_size - *pos, &n, in, in_len);
    if (rc == 0)
        *pos += n;
    return rc;
}

/* The signature step of tkr_jwt_sign for a plain mbedTLS key. */
static int pk_sign_cb(void *ctx, uint8_t *sig, size_t sig_size,
                      size_t *sig_len, tkr_jwt_alg_t alg, const uint8_t *hash,
                      size_t hlen, const tkr_port_t *port)
{
    return tkr_jwt_pk_signature(sig, sig_size, sig_len, ctx, alg, hash, hlen,
                                port);
}

int tkr_jws_frame(char *out, size_t out_size, size_t *out_len,
                  tkr_jwt_alg_t alg, const char *kid, const char *claims,
                  size_t claims_len, tkr_jws_sign_fn sign, void *sign_ctx,
                  const tkr_port_t *port)
{
    char hdr[TKR_KID_MAX * 6 + 64];
    uint8_t hash[48], sig[TKR_JWT_SIG_MAX];
    size_t hdr_len, pos = 0, hlen, sig_len = 0;
    mbedtls_md_type_t md;
    int rc;

    if (out == NULL || out_len == NULL || claims == NULL || sign == NULL)
        return TKR_E_INVALID_ARG;
    *out_len = 0;
    if (kid != NULL && strlen(kid) >= TKR_KID_MAX)
        return TKR_E_INVALID_ARG;
    if ((rc = header_json(hdr, sizeof(hdr), &hdr_len, alg, kid)) != 0)
        return rc;

    rc = append_b64(out, out_size, &pos, (const uint8_t *)hdr, hdr_len);
    if (rc == 0 && pos + 1 < out_size)
        out[pos++] = '.';
    else if (rc == 0)
        rc = TKR_E_BUFFER_TOO_SMALL;
    if (rc == 0)
        rc = append_b64(out, out_size, &pos, (const uint8_t *)claims,
                        claims_len);
    if (rc != 0)
        goto out;

    md = tkr_jwt_md(alg, &hlen);
    if (mbedtls_md(mbedtls_md_info_from_type(md), (const unsigned char *)out,
                   pos, hash) != 0) {
        rc = TKR_E_CRYPTO;
        goto out;
    }
    rc = sign(sign_ctx, sig, sizeof(sig), &sig_len, alg, hash, hlen, port);
    if (rc != 0)
        goto out;
    if (pos + 1 >= out_size) {
        rc = TKR_E_BUFFER_TOO_SMALL;
        goto out;
    }
    out[pos++] = '.';
    rc = append_b64(out, out_size, &pos, sig, sig_len);
    if (rc == 0 && pos >= out_size)
        rc = TKR_E_BUFFER_TOO_SMALL;
out:
    mbedtls_platform_zeroize(sig, sizeof(sig));
    if (rc != 0) {
        if (out_size > 0)
            out[0] = '\0';
        return rc;
    }
    out[pos] = '\0';
    *out_len = pos;
    return 0;
}

int tkr_jwt_sign(char *out, size_t out_size, size_t *out_len,
                 mbedtls_pk_context *key, tkr_jwt_alg_t alg, const char *kid,
                 const char *claims, size_t claims_len,
                 const tkr_port_t *port)
{
    int rc;

    if (out == NULL || out_len == NULL || key == NULL || claims == NULL)
        return TKR_E_INVALID_ARG;
    *out_len = 0;
    if ((rc = tkr_key_check_alg(key, alg)) != 0)
        return rc;
    return tkr_jws_frame(out, out_size, out_len, alg, kid, claims, claims_len,
                         pk_sign_cb, key, port);
}
