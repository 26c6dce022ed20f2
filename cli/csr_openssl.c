/* csr_openssl.c — the service's CSR signature check on OpenSSL's libcrypto
 * (tokenroll/issue.h, tkr_csr_verifier_t): the proof of possession is one
 * of the three public-key operations of every enrollment, and libcrypto
 * verifies P-256 about ten times faster than mbedTLS here. */
#include "serve.h"

#if defined(TKR_WITH_OPENSSL)
#include <openssl/evp.h>
#include <openssl/x509.h>

static int ossl_verify(void *ctx, mbedtls_md_type_t md, const uint8_t *spki,
                       size_t spki_len, const uint8_t *tbs, size_t tbs_len,
                       const uint8_t *sig, size_t sig_len)
{
    const unsigned char *p = spki;
    const EVP_MD *h = md == MBEDTLS_MD_SHA256   ? EVP_sha256()
                      : md == MBEDTLS_MD_SHA384 ? EVP_sha384()
                      : md == MBEDTLS_MD_SHA512 ? EVP_sha512()
                                                : NULL;
    EVP_PKEY *key = h != NULL ? d2i_PUBKEY(NULL, &p, (long)spki_len) : NULL;
    EVP_MD_CTX *m = key != NULL ? EVP_MD_CTX_new() : NULL;
    int ok = m != NULL && EVP_DigestVerifyInit(m, NULL, h, NULL, key) == 1 &&
             EVP_DigestVerify(m, sig, sig_len, tbs, tbs_len) == 1;

    (void)ctx;
    EVP_MD_CTX_free(m);
    EVP_PKEY_free(key);
    return ok ? 0 : -1;
}

static const tkr_csr_verifier_t openssl_verifier = {ossl_verify, NULL};

const tkr_csr_verifier_t *cli_csr_verifier(void)
{
    return &openssl_verifier;
}

#else /* make OPENSSL=0: mbedTLS checks the requests */

const tkr_csr_verifier_t *cli_csr_verifier(void)
{
    return NULL;
}

#endif
