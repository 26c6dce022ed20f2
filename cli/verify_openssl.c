/* verify_openssl.c — the service's signature checks on OpenSSL's libcrypto
 * (tokenroll/jwt.h, tkr_sig_verifier_t): every enrollment verifies a token
 * under the CA key and a request under its own key, and libcrypto verifies
 * P-256 about ten times faster than mbedTLS here. */
#include "serve.h"

#if defined(TKR_WITH_OPENSSL)
#include <openssl/evp.h>
#include <openssl/x509.h>

static int ossl_verify(void *ctx, mbedtls_md_type_t md, const uint8_t *spki,
                       size_t spki_len, const uint8_t *hash, size_t hash_len,
                       const uint8_t *sig, size_t sig_len)
{
    const unsigned char *p = spki;
    const EVP_MD *h = md == MBEDTLS_MD_SHA256   ? EVP_sha256()
                      : md == MBEDTLS_MD_SHA384 ? EVP_sha384()
                      : md == MBEDTLS_MD_SHA512 ? EVP_sha512()
                                                : NULL;
    EVP_PKEY *key = h != NULL ? d2i_PUBKEY(NULL, &p, (long)spki_len) : NULL;
    EVP_PKEY_CTX *c = key != NULL ? EVP_PKEY_CTX_new(key, NULL) : NULL;
    /* The hash is already made; its length must be md's, as a signature
     * over a digest of another size means nothing. RSA keys verify
     * PKCS#1 v1.5, OpenSSL's default padding. */
    int ok = c != NULL && hash_len == (size_t)EVP_MD_size(h) &&
             EVP_PKEY_verify_init(c) == 1 && EVP_PKEY_CTX_set_signature_md(c, h) == 1 &&
             EVP_PKEY_verify(c, sig, sig_len, hash, hash_len) == 1;

    (void)ctx;
    EVP_PKEY_CTX_free(c);
    EVP_PKEY_free(key);
    return ok ? 0 : -1;
}

static const tkr_sig_verifier_t openssl_verifier = {ossl_verify, NULL};

const tkr_sig_verifier_t *cli_sig_verifier(void)
{
    return &openssl_verifier;
}

#else /* make OPENSSL=0: mbedTLS checks the signatures */

const tkr_sig_verifier_t *cli_sig_verifier(void)
{
    return NULL;
}

#endif
