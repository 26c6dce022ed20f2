/* signer.c — the CA signer interface and its mbedTLS backend. */
#include <string.h>

#include <mbedtls/asn1.h>
#include <mbedtls/asn1write.h>
#include <mbedtls/bignum.h>
#include <mbedtls/platform_util.h>

#include "compat.h"
#include "jwt_int.h"
#include "tokenroll/error.h"
#include "tokenroll/key.h"
#include "tokenroll/signer.h"

/* DER SubjectPublicKeyInfo of an RSA-4096 or P-384 key fits. */
#define SPKI_MAX 600

void tkr_signer_init(tkr_signer_t *s)
{
    if (s == NULL)
        return;
    memset(s, 0, sizeof(*s));
    mbedtls_pk_init(&s->pub);
    mbedtls_pk_init(&s->key);
}

void tkr_signer_free(tkr_signer_t *s)
{
    if (s == NULL)
        return;
    if (s->ops != NULL && s->ops->free != NULL && s->ctx != NULL)
        s->ops->free(s->ctx);
    mbedtls_pk_free(&s->pub);
    mbedtls_pk_free(&s->key); /* mbedTLS zeroizes the key material */
    tkr_signer_init(s);
}

/* ---- the mbedTLS backend: the key lives in s->key ---- */

static int mbedtls_sign(void *ctx, uint8_t *sig, size_t sig_size,
                        size_t *sig_len, tkr_jwt_alg_t alg,
                        const uint8_t *hash, size_t hlen,
                        const tkr_port_t *port)
{
    return tkr_jwt_pk_signature(sig, sig_size, sig_len, ctx, alg, hash, hlen,
                                port);
}

static const tkr_signer_ops_t mbedtls_ops = {"mbedtls", mbedtls_sign, NULL};

/* The context a backend's sign() gets: the mbedTLS key is inside the
 * signer, so a signer copied by value still finds it. */
static void *backend_ctx(tkr_signer_t *s)
{
    return s->ops == &mbedtls_ops ? (void *)&s->key : s->ctx;
}

static int spki_der(const mbedtls_pk_context *pk, unsigned char buf[SPKI_MAX],
                    const unsigned char **der, size_t *len)
{
    int n = mbedtls_pk_write_pubkey_der((mbedtls_pk_context *)pk, buf, SPKI_MAX);

    if (n <= 0)
        return TKR_E_KEY;
    *der = buf + SPKI_MAX - n;
    *len = (size_t)n;
    return 0;
}

/* The algorithm a public key signs tokens with, refusing what tokenroll
 * does not sign with (small RSA, other curves). */
static int key_alg(const mbedtls_pk_context *pk, tkr_jwt_alg_t *alg)
{
    int rc = tkr_key_default_alg(pk, alg);

    if (rc == 0)
        rc = tkr_key_check_alg(pk, *alg);
    return rc;
}

int tkr_signer_load_mbedtls(tkr_signer_t *s, const uint8_t *key, size_t len,
                            const tkr_port_t *port)
{
    unsigned char buf[SPKI_MAX];
    const unsigned char *der;
    size_t der_len;
    int rc;

    if (s == NULL || key == NULL || s->ops != NULL)
        return TKR_E_INVALID_ARG;
    if ((rc = tkr_key_parse_private(&s->key, key, len, port, NULL)) != 0 ||
        (rc = key_alg(&s->key, &s->alg)) != 0)
        goto fail;
    /* mbedTLS has no pk copy: the public half goes through DER. */
    if ((rc = spki_der(&s->key, buf, &der, &der_len)) != 0)
        goto fail;
    if (mbedtls_pk_parse_public_key(&s->pub, der, der_len) != 0) {
        rc = TKR_E_KEY;
        goto fail;
    }
    s->ops = &mbedtls_ops;
    return 0;
fail:
    tkr_signer_free(s);
    return rc;
}

int tkr_signer_attach(tkr_signer_t *s, const tkr_signer_ops_t *ops, void *ctx,
                      const uint8_t *spki, size_t spki_len)
{
    int rc;

    if (s == NULL || ops == NULL || ops->sign == NULL || spki == NULL ||
        s->ops != NULL)
        return TKR_E_INVALID_ARG;
    if (mbedtls_pk_parse_public_key(&s->pub, spki, spki_len) != 0)
        rc = TKR_E_KEY;
    else
        rc = key_alg(&s->pub, &s->alg);
    if (rc != 0) {
        mbedtls_pk_free(&s->pub);
        mbedtls_pk_init(&s->pub);
        return rc;
    }
    s->ops = ops;
    s->ctx = ctx;
    return 0;
}

mbedtls_md_type_t tkr_signer_md(const tkr_signer_t *s)
{
    size_t hlen;

    if (s == NULL || s->ops == NULL)
        return MBEDTLS_MD_NONE;
    return tkr_jwt_md(s->alg, &hlen);
}

size_t tkr_signer_sig_len(const tkr_signer_t *s)
{
    if (s == NULL || s->ops == NULL)
        return 0;
    return s->alg == TKR_JWT_RS256 ? mbedtls_pk_get_len(&s->pub)
                                   : 2 * tkr_jwt_ec_len(s->alg);
}

const char *tkr_signer_backend(const tkr_signer_t *s)
{
    return s != NULL && s->ops != NULL ? s->ops->name : "none";
}

int tkr_signer_sign(tkr_signer_t *s, uint8_t *sig, size_t sig_size,
                    size_t *sig_len, mbedtls_md_type_t md, const uint8_t *hash,
                    size_t hlen, const tkr_port_t *port)
{
    size_t want;

    if (s == NULL || s->ops == NULL || sig == NULL || sig_len == NULL ||
        hash == NULL)
        return TKR_E_INVALID_ARG;
    if (md != tkr_jwt_md(s->alg, &want))
        return TKR_E_KEY_ALG;
    if (hlen != want)
        return TKR_E_INVALID_ARG;
    /* Room for the signature, and for ECDSA the DER form a backend may
     * write first (two INTEGERs of n + 1 bytes in a SEQUENCE). */
    if (sig_size < (s->alg == TKR_JWT_RS256 ? mbedtls_pk_get_len(&s->pub)
                                            : 2 * tkr_jwt_ec_len(s->alg) + 9))
        return TKR_E_BUFFER_TOO_SMALL;
    return s->ops->sign(backend_ctx(s), sig, sig_size, sig_len, s->alg, hash,
                        hlen, port);
}

/* Verify sig (this interface's format) over hash with the public key pk. */
static int verify(mbedtls_pk_context *pk, tkr_jwt_alg_t alg,
                  mbedtls_md_type_t md, const uint8_t *hash, size_t hlen,
                  const uint8_t *sig, size_t sig_len)
{
    uint8_t der[TKR_SIGNER_ECDSA_DER_MAX];
    size_t der_len;

    if (alg == TKR_JWT_RS256)
        return mbedtls_pk_verify(pk, md, hash, hlen, sig, sig_len) == 0
                   ? 0 : TKR_E_SIGNATURE;
    if (tkr_signer_ecdsa_to_der(der, sizeof(der), &der_len, sig, sig_len) != 0)
        return TKR_E_SIGNATURE;
    return mbedtls_pk_verify(pk, md, hash, hlen, der, der_len) == 0
               ? 0 : TKR_E_SIGNATURE;
}

/* SHA-256 of a key's DER SubjectPublicKeyInfo, written into scratch: two
 * keys compare by digest, so one scratch buffer serves both. */
static int spki_digest(const mbedtls_pk_context *pk, unsigned char scratch[SPKI_MAX],
                       uint8_t digest[32])
{
    const unsigned char *der;
    size_t len;

    if (spki_der(pk, scratch, &der, &len) != 0 ||
        mbedtls_md(mbedtls_md_info_from_type(MBEDTLS_MD_SHA256), der, len, digest) != 0)
        return TKR_E_KEY;
    return 0;
}

int tkr_signer_check_cert(tkr_signer_t *s, const mbedtls_x509_crt *cert,
                          const tkr_port_t *port)
{
    /* One scratch for both public keys, then for the test signature: the
     * device's stack budget is 1 KiB a frame. */
    unsigned char scratch[SPKI_MAX > TKR_SIGNER_SIG_MAX ? SPKI_MAX : TKR_SIGNER_SIG_MAX];
    uint8_t mine[32], theirs[32], hash[48];
    size_t hlen, sig_len = 0;
    mbedtls_md_type_t md;
    int rc;

    if (s == NULL || s->ops == NULL || cert == NULL)
        return TKR_E_INVALID_ARG;
    if (spki_digest(&s->pub, scratch, mine) != 0 ||
        spki_digest(&cert->pk, scratch, theirs) != 0)
        return TKR_E_KEY;
    if (memcmp(mine, theirs, sizeof(mine)) != 0)
        return TKR_E_KEY_MISMATCH;
    /* The public halves agree; now prove the private half is theirs. */
    md = tkr_jwt_md(s->alg, &hlen);
    if (tkr_port_rng((void *)port, hash, hlen) != 0)
        return TKR_E_ENTROPY;
    rc = tkr_signer_sign(s, scratch, sizeof(scratch), &sig_len, md, hash, hlen, port);
    if (rc != 0)
        return rc;
    if (verify((mbedtls_pk_context *)&cert->pk, s->alg, md, hash, hlen, scratch,
               sig_len) != 0)
        return TKR_E_KEY_MISMATCH;
    return 0;
}

/* The JWS signature step, through the backend. */
static int jws_sign(void *ctx, uint8_t *sig, size_t sig_size, size_t *sig_len,
                    tkr_jwt_alg_t alg, const uint8_t *hash, size_t hlen,
                    const tkr_port_t *port)
{
    tkr_signer_t *s = ctx;

    return s->ops->sign(backend_ctx(s), sig, sig_size, sig_len, alg, hash,
                        hlen, port);
}

int tkr_signer_jwt_finish(char *out, size_t out_size, size_t *out_len,
                          size_t pos, tkr_signer_t *s, const uint8_t *claims,
                          size_t claims_len, const tkr_port_t *port)
{
    if (s == NULL || s->ops == NULL) {
        if (out != NULL && out_size > 0)
            out[0] = '\0';
        return TKR_E_INVALID_ARG;
    }
    return tkr_jwt_sign_finish_with(out, out_size, out_len, pos, jws_sign, s,
                                    tkr_signer_sig_len(s), s->alg, claims,
                                    claims_len, port);
}

int tkr_signer_jwt(char *out, size_t out_size, size_t *out_len,
                   tkr_signer_t *s, const char *kid, const char *claims,
                   size_t claims_len, const tkr_port_t *port)
{
    size_t pos;
    int rc;

    if (out == NULL || out_len == NULL || s == NULL || s->ops == NULL ||
        claims == NULL)
        return TKR_E_INVALID_ARG;
    *out_len = 0;
    if ((rc = tkr_jwt_sign_header(out, out_size, &pos, s->alg, kid)) != 0)
        return rc;
    return tkr_signer_jwt_finish(out, out_size, out_len, pos, s,
                                 (const uint8_t *)claims, claims_len, port);
}

/* ---- ECDSA signature formats ---- */

int tkr_signer_ecdsa_to_der(uint8_t *der, size_t der_size, size_t *der_len,
                            const uint8_t *raw, size_t raw_len)
{
    unsigned char *p = der + der_size;
    mbedtls_mpi r, s;
    size_t n = raw_len / 2;
    int len = -1, w;

    if (der == NULL || der_len == NULL || raw == NULL || raw_len == 0 ||
        raw_len % 2 != 0)
        return TKR_E_INVALID_ARG;
    mbedtls_mpi_init(&r);
    mbedtls_mpi_init(&s);
    /* Written backwards, as mbedTLS writes DER: s, then r, then SEQUENCE. */
    if (mbedtls_mpi_read_binary(&r, raw, n) == 0 &&
        mbedtls_mpi_read_binary(&s, raw + n, n) == 0 &&
        (len = mbedtls_asn1_write_mpi(&p, der, &s)) >= 0 &&
        (w = mbedtls_asn1_write_mpi(&p, der, &r)) >= 0) {
        len += w;
        if ((w = mbedtls_asn1_write_len(&p, der, (size_t)len)) < 0)
            len = -1;
        else
            len += w;
        if (len >= 0 && (w = mbedtls_asn1_write_tag(
                             &p, der, MBEDTLS_ASN1_CONSTRUCTED |
                                          MBEDTLS_ASN1_SEQUENCE)) >= 0)
            len += w;
        else
            len = -1;
    } else {
        len = -1;
    }
    mbedtls_mpi_free(&r);
    mbedtls_mpi_free(&s);
    if (len < 0)
        return TKR_E_BUFFER_TOO_SMALL;
    memmove(der, p, (size_t)len);
    *der_len = (size_t)len;
    return 0;
}

int tkr_signer_ecdsa_to_raw(uint8_t *raw, size_t n, const uint8_t *der,
                            size_t der_len)
{
    unsigned char *p = (unsigned char *)der, *end = p + der_len;
    size_t len;
    mbedtls_mpi r, s;
    int rc = TKR_E_CRYPTO;

    if (raw == NULL || der == NULL)
        return TKR_E_INVALID_ARG;
    mbedtls_mpi_init(&r);
    mbedtls_mpi_init(&s);
    if (mbedtls_asn1_get_tag(&p, end, &len, MBEDTLS_ASN1_CONSTRUCTED |
                                                MBEDTLS_ASN1_SEQUENCE) == 0 &&
        p + len == end && mbedtls_asn1_get_mpi(&p, end, &r) == 0 &&
        mbedtls_asn1_get_mpi(&p, end, &s) == 0 && p == end &&
        mbedtls_mpi_write_binary(&r, raw, n) == 0 &&
        mbedtls_mpi_write_binary(&s, raw + n, n) == 0)
        rc = 0;
    mbedtls_mpi_free(&r);
    mbedtls_mpi_free(&s);
    return rc;
}
