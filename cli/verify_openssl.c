/* verify_openssl.c — the service's signature checks on OpenSSL's libcrypto
 * (tokenroll/jwt.h, tkr_sig_verifier_t): every enrollment verifies a token
 * under the CA key and a request under its own key, and libcrypto verifies
 * P-256 about ten times faster than mbedTLS here.
 *
 * Decoding the key costs OpenSSL 3 more than the verification itself
 * (d2i_PUBKEY goes through its generic decoders: about 160 us, against
 * 90 us for a P-256 verify), so the CA key, under which every token is
 * checked, is decoded once, and a request's EC key is built from its
 * point on a copy of its curve's parameters (about 9 us). */
#include <string.h>

#include "serve.h"

#if defined(TKR_WITH_OPENSSL)
#include <pthread.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/x509.h>

/* The DER of an uncompressed EC SubjectPublicKeyInfo up to the point:
 * SEQUENCE { SEQUENCE { id-ecPublicKey, namedCurve }, BIT STRING 00 04.. }.
 * A key with one of these heads is the curve's point and nothing else. */
static const uint8_t p256_head[] = {
    0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d,
    0x02, 0x01, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01,
    0x07, 0x03, 0x42, 0x00};
static const uint8_t p384_head[] = {
    0x30, 0x76, 0x30, 0x10, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02,
    0x01, 0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22, 0x03, 0x62, 0x00};

/* The curves' parameters alone, made once: a request's key is a copy of
 * one with its point set, which costs libcrypto about a third of building
 * the key from the curve's name (25 us here, most of it making the group).
 * Setting the point checks that it is on the curve. */
static EVP_PKEY *curve_p256, *curve_p384;
static pthread_once_t curves_once = PTHREAD_ONCE_INIT;

static EVP_PKEY *curve(const char *group)
{
    EVP_PKEY_CTX *c = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
    EVP_PKEY *key = NULL;
    OSSL_PARAM ps[2];

    ps[0] = OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, (char *)group, 0);
    ps[1] = OSSL_PARAM_construct_end();
    if (c == NULL || EVP_PKEY_fromdata_init(c) != 1 ||
        EVP_PKEY_fromdata(c, &key, EVP_PKEY_KEY_PARAMETERS, ps) != 1)
        key = NULL;
    EVP_PKEY_CTX_free(c);
    return key;
}

static void make_curves(void)
{
    curve_p256 = curve("prime256v1");
    curve_p384 = curve("secp384r1");
}

static EVP_PKEY *ec_from_point(EVP_PKEY *const *params, const uint8_t *pt, size_t len)
{
    EVP_PKEY *key;

    pthread_once(&curves_once, make_curves);
    if (*params == NULL || (key = EVP_PKEY_dup(*params)) == NULL)
        return NULL;
    if (EVP_PKEY_set1_encoded_public_key(key, pt, len) != 1) {
        EVP_PKEY_free(key);
        return NULL;
    }
    return key;
}

/* A key from its SubjectPublicKeyInfo; an EC point is checked to be on its
 * curve, as d2i_PUBKEY does. */
static EVP_PKEY *decode(const uint8_t *spki, size_t len)
{
    const unsigned char *p = spki;

    if (len == sizeof(p256_head) + 65 && memcmp(spki, p256_head, sizeof(p256_head)) == 0)
        return ec_from_point(&curve_p256, spki + sizeof(p256_head), 65);
    if (len == sizeof(p384_head) + 97 && memcmp(spki, p384_head, sizeof(p384_head)) == 0)
        return ec_from_point(&curve_p384, spki + sizeof(p384_head), 97);
    return d2i_PUBKEY(NULL, &p, (long)len);
}

static int ossl_verify(void *ctx, mbedtls_md_type_t md, const uint8_t *spki,
                       size_t spki_len, const uint8_t *hash, size_t hash_len,
                       const uint8_t *sig, size_t sig_len)
{
    const cli_verifier_t *cv = ctx;
    const EVP_MD *h = md == MBEDTLS_MD_SHA256   ? EVP_sha256()
                      : md == MBEDTLS_MD_SHA384 ? EVP_sha384()
                      : md == MBEDTLS_MD_SHA512 ? EVP_sha512()
                                                : NULL;
    int pinned = cv->key != NULL && spki_len == cv->spki_len &&
                 memcmp(spki, cv->spki, spki_len) == 0;
    EVP_PKEY *key = h == NULL ? NULL : pinned ? cv->key : decode(spki, spki_len);
    EVP_PKEY_CTX *c = key != NULL ? EVP_PKEY_CTX_new(key, NULL) : NULL;
    /* The hash is already made; its length must be md's, as a signature
     * over a digest of another size means nothing. RSA keys verify
     * PKCS#1 v1.5, OpenSSL's default padding. */
    int ok = c != NULL && hash_len == (size_t)EVP_MD_size(h) &&
             EVP_PKEY_verify_init(c) == 1 && EVP_PKEY_CTX_set_signature_md(c, h) == 1 &&
             EVP_PKEY_verify(c, sig, sig_len, hash, hash_len) == 1;

    EVP_PKEY_CTX_free(c);
    if (!pinned)
        EVP_PKEY_free(key);
    return ok ? 0 : -1;
}

int cli_verifier_init(cli_verifier_t *cv, mbedtls_pk_context *pin)
{
    uint8_t der[sizeof(cv->spki)];
    int n;

    memset(cv, 0, sizeof(*cv));
    cv->v.verify = ossl_verify;
    cv->v.ctx = cv;
    if (pin == NULL)
        return 0;
    /* mbedTLS writes DER backwards, from the end of the buffer. */
    n = mbedtls_pk_write_pubkey_der(pin, der, sizeof(der));
    if (n <= 0)
        return TKR_E_KEY;
    memcpy(cv->spki, der + sizeof(der) - (size_t)n, (size_t)n);
    cv->spki_len = (size_t)n;
    cv->key = decode(cv->spki, cv->spki_len);
    return cv->key != NULL ? 0 : TKR_E_KEY;
}

void cli_verifier_free(cli_verifier_t *cv)
{
    EVP_PKEY_free(cv->key);
    memset(cv, 0, sizeof(*cv));
}

#else /* make OPENSSL=0: mbedTLS checks the signatures */

int cli_verifier_init(cli_verifier_t *cv, mbedtls_pk_context *pin)
{
    (void)pin;
    memset(cv, 0, sizeof(*cv));
    return 0;
}

void cli_verifier_free(cli_verifier_t *cv)
{
    memset(cv, 0, sizeof(*cv));
}

#endif
