/* jwt_sign.c — produce a compact JWS (RFC 7515 §7.1). */
#include <string.h>

#include <mbedtls/md.h>
#include <mbedtls/pk.h>

#include "compat.h"
#include "jwt_int.h"
#include "tokenroll/b64url.h"
#include "tokenroll/error.h"
#include "tokenroll/json.h"
#include "tokenroll/jwt.h"
#include "tokenroll/key.h"
#include "tokenroll/signer.h"

/* The signature into sig[0..*sig_len), raw as JWS wants it. sig_size is
 * at least the encoded signature's length (checked by the caller), which
 * also holds the DER form mbedTLS writes for ECDSA (at most 104 bytes for
 * P-384, under the 128 characters of its raw form's encoding): sig is its
 * own scratch. */
int tkr_jwt_pk_signature(uint8_t *sig, size_t sig_size, size_t *sig_len,
                         mbedtls_pk_context *key, tkr_jwt_alg_t alg,
                         const uint8_t *hash, size_t hlen,
                         const tkr_port_t *port)
{
    mbedtls_md_type_t md = tkr_jwt_md(alg, &hlen);
    size_t der_len = 0;

    if (alg == TKR_JWT_PS256) {
        *sig_len = mbedtls_pk_get_len(key);
        if (tkr_compat_rsa_pss_sign(mbedtls_pk_rsa(*key), tkr_port_rng,
                                    (void *)port, md, hash, (unsigned)hlen,
                                    sig) != 0)
            return TKR_E_CRYPTO;
        return 0;
    }
    if (alg == TKR_JWT_RS256) {
        if (tkr_compat_pk_sign(key, md, hash, hlen, sig, sig_size, sig_len,
                               tkr_port_rng, (void *)port) != 0)
            return TKR_E_CRYPTO;
        return 0;
    }
    *sig_len = 2 * tkr_jwt_ec_len(alg);
    if (tkr_compat_pk_sign(key, md, hash, hlen, sig, sig_size, &der_len,
                           tkr_port_rng, (void *)port) != 0)
        return TKR_E_CRYPTO;
    return tkr_signer_ecdsa_to_raw(sig, tkr_jwt_ec_len(alg), sig, der_len);
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

static int fail(char *out, size_t out_size, size_t *out_len, int rc)
{
    if (out != NULL && out_size > 0)
        out[0] = '\0';
    if (out_len != NULL)
        *out_len = 0;
    return rc;
}

/* A short buffer, when the token's length is known: say it. */
static int too_small(char *out, size_t out_size, size_t *out_len, size_t need)
{
    fail(out, out_size, out_len, TKR_E_BUFFER_TOO_SMALL);
    *out_len = need;
    return TKR_E_BUFFER_TOO_SMALL;
}

size_t tkr_jwt_sig_len(const mbedtls_pk_context *key, tkr_jwt_alg_t alg)
{
    return alg == TKR_JWT_RS256 || alg == TKR_JWT_PS256 ? mbedtls_pk_get_len(key)
                                                        : 2 * tkr_jwt_ec_len(alg);
}

size_t tkr_jwt_token_len(size_t pos, size_t claims_len, size_t sig_len)
{
    return pos + TKR_B64URL_ENCODED_LEN(claims_len) + 1 + TKR_B64URL_ENCODED_LEN(sig_len);
}

int tkr_jwt_sign_header(char *out, size_t out_size, size_t *pos,
                        tkr_jwt_alg_t alg, const char *kid)
{
    size_t n;
    int rc;

    if (out == NULL || pos == NULL)
        return TKR_E_INVALID_ARG;
    *pos = 0;
    if (tkr_jwt_alg_name(alg) == NULL ||
        (kid != NULL && strlen(kid) >= TKR_KID_MAX))
        return fail(out, out_size, NULL, TKR_E_INVALID_ARG);
    if (out_size == 0)
        return TKR_E_BUFFER_TOO_SMALL;
    /* The header's JSON is written where its encoding goes, then encoded
     * in place. */
    rc = header_json(out, out_size, &n, alg, kid);
    if (rc == 0)
        rc = tkr_b64url_encode(out, out_size, &n, (const uint8_t *)out, n);
    if (rc == 0 && n + 1 >= out_size)
        rc = TKR_E_BUFFER_TOO_SMALL;
    if (rc != 0)
        return fail(out, out_size, NULL, rc);
    out[n++] = '.';
    *pos = n;
    return 0;
}

int tkr_jwt_sign_finish_with(char *out, size_t out_size, size_t *out_len,
                             size_t pos, tkr_jws_sign_fn sign, void *ctx,
                             size_t sig_len, tkr_jwt_alg_t alg,
                             const uint8_t *claims, size_t claims_len,
                             const tkr_port_t *port)
{
    uint8_t hash[48], *sig;
    size_t n, hlen, need;
    mbedtls_md_type_t md;
    int rc;

    if (out == NULL || out_len == NULL || sign == NULL || claims == NULL ||
        pos >= out_size)
        return fail(out, out_size, out_len, TKR_E_INVALID_ARG);
    if (sig_len > TKR_JWT_SIG_MAX)
        return fail(out, out_size, out_len, TKR_E_KEY_ALG);
    need = tkr_jwt_token_len(pos, claims_len, sig_len);
    rc = tkr_b64url_encode(out + pos, out_size - pos, &n, claims, claims_len);
    if (rc == TKR_E_BUFFER_TOO_SMALL)
        return too_small(out, out_size, out_len, need);
    if (rc != 0)
        return fail(out, out_size, out_len, rc);
    pos += n;

    /* Room for ".signature" and the NUL before anything is signed. */
    if (out_size - pos < 1 + TKR_B64URL_ENCODED_LEN(sig_len) + 1)
        return too_small(out, out_size, out_len, need);

    md = tkr_jwt_md(alg, &hlen);
    if (mbedtls_md(mbedtls_md_info_from_type(md), (const unsigned char *)out,
                   pos, hash) != 0)
        return fail(out, out_size, out_len, TKR_E_CRYPTO);
    out[pos++] = '.';
    /* The raw signature goes where its encoding will stand. */
    sig = (uint8_t *)out + pos;
    rc = sign(ctx, sig, out_size - pos - 1, &sig_len, alg, hash, hlen, port);
    if (rc == 0)
        rc = tkr_b64url_encode(out + pos, out_size - pos, &n, sig, sig_len);
    if (rc != 0)
        return fail(out, out_size, out_len, rc);
    pos += n;
    out[pos] = '\0';
    *out_len = pos;
    return 0;
}

/* The signature step of tkr_jwt_sign_finish for a plain mbedTLS key. */
static int pk_sign_cb(void *ctx, uint8_t *sig, size_t sig_size,
                      size_t *sig_len, tkr_jwt_alg_t alg, const uint8_t *hash,
                      size_t hlen, const tkr_port_t *port)
{
    return tkr_jwt_pk_signature(sig, sig_size, sig_len, ctx, alg, hash, hlen,
                                port);
}

int tkr_jwt_sign_finish(char *out, size_t out_size, size_t *out_len,
                        size_t pos, mbedtls_pk_context *key, tkr_jwt_alg_t alg,
                        const uint8_t *claims, size_t claims_len,
                        const tkr_port_t *port)
{
    int rc;

    if (key == NULL)
        return fail(out, out_size, out_len, TKR_E_INVALID_ARG);
    if ((rc = tkr_key_check_alg(key, alg)) != 0)
        return fail(out, out_size, out_len, rc);
    return tkr_jwt_sign_finish_with(out, out_size, out_len, pos, pk_sign_cb, key,
                                    tkr_jwt_sig_len(key, alg), alg, claims,
                                    claims_len, port);
}

int tkr_jwt_sign(char *out, size_t out_size, size_t *out_len,
                 mbedtls_pk_context *key, tkr_jwt_alg_t alg, const char *kid,
                 const char *claims, size_t claims_len,
                 const tkr_port_t *port)
{
    size_t pos;
    int rc;

    if (out == NULL || out_len == NULL || key == NULL || claims == NULL)
        return TKR_E_INVALID_ARG;
    *out_len = 0;
    if ((rc = tkr_key_check_alg(key, alg)) != 0)
        return fail(out, out_size, out_len, rc);
    if ((rc = tkr_jwt_sign_header(out, out_size, &pos, alg, kid)) != 0)
        return fail(out, out_size, out_len, rc);
    return tkr_jwt_sign_finish(out, out_size, out_len, pos, key, alg,
                               (const uint8_t *)claims, claims_len, port);
}
