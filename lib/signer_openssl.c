/* signer_openssl.c — the CA signer on OpenSSL's libcrypto (host builds).
 *
 * Why: an RSA-2048 private-key operation costs several times less in
 * libcrypto than in mbedTLS, and it is the one operation behind every
 * token and certificate the CA signs. EVP APIs only (OpenSSL 3.0, nothing
 * deprecated). The key never leaves the EVP_PKEY; only its public half is
 * handed to mbedTLS, for checks and certificate fields. */
#include <string.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "jwt_int.h"
#include "tokenroll/error.h"
#include "tokenroll/key.h"
#include "tokenroll/signer.h"

typedef struct {
    EVP_PKEY *pkey;
    EVP_PKEY_CTX *ctx;  /* initialised once for signing, reused per call */
} ossl_signer_t;

static void ossl_free(void *p)
{
    ossl_signer_t *o = p;

    if (o == NULL)
        return;
    EVP_PKEY_CTX_free(o->ctx);
    EVP_PKEY_free(o->pkey); /* libcrypto clears the key material */
    OPENSSL_free(o);
}

static int ossl_sign(void *p, uint8_t *sig, size_t sig_size, size_t *sig_len,
                     tkr_jwt_alg_t alg, const uint8_t *hash, size_t hlen,
                     const tkr_port_t *port)
{
    ossl_signer_t *o = p;
    unsigned char der[TKR_SIGNER_ECDSA_DER_MAX];
    size_t len;

    (void)port; /* libcrypto draws its own randomness (ECDSA, blinding) */
    if (alg == TKR_JWT_RS256) {
        len = sig_size;
        if (EVP_PKEY_sign(o->ctx, sig, &len, hash, hlen) != 1)
            goto fail;
        *sig_len = len;
        return 0;
    }
    len = sizeof(der);
    if (EVP_PKEY_sign(o->ctx, der, &len, hash, hlen) != 1)
        goto fail;
    *sig_len = 2 * tkr_jwt_ec_len(alg);
    if (*sig_len > sig_size)
        return TKR_E_BUFFER_TOO_SMALL;
    return tkr_signer_ecdsa_to_raw(sig, *sig_len / 2, der, len);
fail:
    ERR_clear_error();
    return TKR_E_CRYPTO;
}

static const tkr_signer_ops_t ossl_ops = {"openssl", ossl_sign, ossl_free};

/* Encrypted keys are refused rather than prompted for: the CA key is read
 * by batch jobs and services, never at a terminal. */
static int no_passphrase(char *buf, int size, int rwflag, void *u)
{
    (void)buf, (void)size, (void)rwflag, (void)u;
    return -1;
}

static EVP_PKEY *parse_key(const uint8_t *key, size_t len)
{
    EVP_PKEY *pkey = NULL;

    if (tkr_key_is_pem(key, len)) {
        BIO *bio = BIO_new_mem_buf(key, (int)len);
        if (bio != NULL)
            pkey = PEM_read_bio_PrivateKey(bio, NULL, no_passphrase, NULL);
        BIO_free(bio);
    } else if (len <= 0x7FFFFFFF) {
        const unsigned char *p = key;
        pkey = d2i_AutoPrivateKey(NULL, &p, (long)len);
    }
    return pkey;
}

int tkr_signer_load_openssl(tkr_signer_t *s, const uint8_t *key, size_t len)
{
    ossl_signer_t *o;
    unsigned char *spki = NULL;
    const EVP_MD *md;
    int n, rc = TKR_E_KEY;

    if (s == NULL || key == NULL || s->ops != NULL || len > 0x7FFFFFFF)
        return TKR_E_INVALID_ARG;
    if ((o = OPENSSL_zalloc(sizeof(*o))) == NULL)
        return TKR_E_CRYPTO;
    if ((o->pkey = parse_key(key, len)) == NULL)
        goto fail;
    if ((n = i2d_PUBKEY(o->pkey, &spki)) <= 0)
        goto fail;
    /* The public half decides the algorithm, as for the other backends. */
    if ((rc = tkr_signer_attach(s, &ossl_ops, o, spki, (size_t)n)) != 0)
        goto fail;
    md = s->alg == TKR_JWT_ES384 ? EVP_sha384() : EVP_sha256();
    if ((o->ctx = EVP_PKEY_CTX_new_from_pkey(NULL, o->pkey, NULL)) == NULL ||
        EVP_PKEY_sign_init(o->ctx) != 1 ||
        (s->alg == TKR_JWT_RS256 &&
         EVP_PKEY_CTX_set_rsa_padding(o->ctx, RSA_PKCS1_PADDING) != 1) ||
        EVP_PKEY_CTX_set_signature_md(o->ctx, md) != 1) {
        OPENSSL_free(spki);
        tkr_signer_free(s); /* frees o too: s owns it now */
        ERR_clear_error();
        return TKR_E_CRYPTO;
    }
    OPENSSL_free(spki);
    return 0;
fail:
    OPENSSL_free(spki);
    ossl_free(o);
    ERR_clear_error();
    return rc;
}
