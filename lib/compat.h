/* compat.h — the one place that knows mbedTLS 2.28 from 3.6.
 *
 * Every version difference the library meets is wrapped here; no other file
 * tests MBEDTLS_VERSION_MAJOR. Private to lib/ (and cli/, which links the
 * same mbedTLS). */
#ifndef TKR_COMPAT_H
#define TKR_COMPAT_H

#include <mbedtls/version.h> /* pulls the config header in both versions */
#include <mbedtls/ecp.h>
#include <mbedtls/pk.h>
#include <mbedtls/rsa.h>
#include <mbedtls/x509_crt.h>
#include <mbedtls/bignum.h>

#include <string.h>

#if MBEDTLS_VERSION_MAJOR >= 3
#define TKR_MBEDTLS3 1
#define TKR_PRIV(f) MBEDTLS_PRIVATE(f)
#else
#define TKR_MBEDTLS3 0
#define TKR_PRIV(f) f
#endif

typedef int (*tkr_rng_fn)(void *, unsigned char *, size_t);

/* 3.x added the signature buffer size. */
static inline int tkr_compat_pk_sign(mbedtls_pk_context *pk,
                                     mbedtls_md_type_t md,
                                     const unsigned char *hash, size_t hlen,
                                     unsigned char *sig, size_t sig_size,
                                     size_t *sig_len, tkr_rng_fn f_rng,
                                     void *p_rng)
{
#if TKR_MBEDTLS3
    return mbedtls_pk_sign(pk, md, hash, hlen, sig, sig_size, sig_len,
                           f_rng, p_rng);
#else
    (void)sig_size;
    return mbedtls_pk_sign(pk, md, hash, hlen, sig, sig_len, f_rng, p_rng);
#endif
}

/* 3.x wants an RNG for blinding while it checks the key. */
static inline int tkr_compat_pk_parse_key(mbedtls_pk_context *pk,
                                          const unsigned char *key,
                                          size_t keylen, tkr_rng_fn f_rng,
                                          void *p_rng)
{
#if TKR_MBEDTLS3
    return mbedtls_pk_parse_key(pk, key, keylen, NULL, 0, f_rng, p_rng);
#else
    (void)f_rng;
    (void)p_rng;
    return mbedtls_pk_parse_key(pk, key, keylen, NULL, 0);
#endif
}

static inline int tkr_compat_pk_check_pair(const mbedtls_pk_context *pub,
                                           const mbedtls_pk_context *prv,
                                           tkr_rng_fn f_rng, void *p_rng)
{
#if TKR_MBEDTLS3
    return mbedtls_pk_check_pair(pub, prv, f_rng, p_rng);
#else
    (void)f_rng;
    (void)p_rng;
    return mbedtls_pk_check_pair(pub, prv);
#endif
}

/* 2.28 takes a mode (public/private) that 3.x removed. */
static inline int tkr_compat_rsa_pss_verify(mbedtls_rsa_context *rsa,
                                            mbedtls_md_type_t md,
                                            const unsigned char *hash,
                                            unsigned int hlen,
                                            int salt_len,
                                            const unsigned char *sig)
{
#if !defined(MBEDTLS_PKCS1_V21)
    /* A device configuration without PSS (port/baremetal). */
    (void)rsa; (void)md; (void)hash; (void)hlen; (void)salt_len; (void)sig;
    return MBEDTLS_ERR_RSA_BAD_INPUT_DATA;
#elif TKR_MBEDTLS3
    return mbedtls_rsa_rsassa_pss_verify_ext(rsa, md, hlen, hash, md,
                                             salt_len, sig);
#else
    return mbedtls_rsa_rsassa_pss_verify_ext(rsa, NULL, NULL,
                                             MBEDTLS_RSA_PUBLIC, md, hlen,
                                             hash, md, salt_len, sig);
#endif
}

/* PSS signature with salt = hash length (RFC 7518 §3.5). 2.28's
 * rsassa_pss_sign already uses the hash length; 3.x says so explicitly. */
static inline int tkr_compat_rsa_pss_sign(mbedtls_rsa_context *rsa,
                                          tkr_rng_fn f_rng, void *p_rng,
                                          mbedtls_md_type_t md,
                                          const unsigned char *hash,
                                          unsigned int hlen,
                                          unsigned char *sig)
{
#if !defined(MBEDTLS_PKCS1_V21)
    (void)rsa; (void)f_rng; (void)p_rng; (void)md; (void)hash; (void)hlen; (void)sig;
    return MBEDTLS_ERR_RSA_BAD_INPUT_DATA;
#elif TKR_MBEDTLS3
    int rc = mbedtls_rsa_set_padding(rsa, MBEDTLS_RSA_PKCS_V21, md);
    if (rc != 0)
        return rc;
    rc = mbedtls_rsa_rsassa_pss_sign_ext(rsa, f_rng, p_rng, md, hlen, hash,
                                         (int)hlen, sig);
    mbedtls_rsa_set_padding(rsa, MBEDTLS_RSA_PKCS_V15, MBEDTLS_MD_NONE);
    return rc;
#else
    int rc;
    mbedtls_rsa_set_padding(rsa, MBEDTLS_RSA_PKCS_V21, (int)md);
    rc = mbedtls_rsa_rsassa_pss_sign(rsa, f_rng, p_rng, MBEDTLS_RSA_PRIVATE,
                                     md, hlen, hash, sig);
    mbedtls_rsa_set_padding(rsa, MBEDTLS_RSA_PKCS_V15, 0);
    return rc;
#endif
}

/* The curve of an EC key; MBEDTLS_ECP_DP_NONE for other keys. */
static inline mbedtls_ecp_group_id tkr_compat_pk_curve(const mbedtls_pk_context *pk)
{
    mbedtls_pk_type_t t = mbedtls_pk_get_type(pk);
    if (t != MBEDTLS_PK_ECKEY && t != MBEDTLS_PK_ECDSA)
        return MBEDTLS_ECP_DP_NONE;
#if TKR_MBEDTLS3
    return mbedtls_ecp_keypair_get_group_id(mbedtls_pk_ec(*pk));
#else
    return mbedtls_pk_ec(*pk)->grp.id;
#endif
}

#if defined(MBEDTLS_X509_CRT_WRITE_C)
/* 3.x sets the serial from raw bytes; 2.28 only from an MPI. A device
 * build (no certificate writing) has neither. */
static inline int tkr_compat_crt_set_serial(mbedtls_x509write_cert *crt,
                                            const unsigned char *s, size_t n)
{
#if TKR_MBEDTLS3
    return mbedtls_x509write_crt_set_serial_raw(crt, (unsigned char *)s, n);
#else
    mbedtls_mpi v;
    int rc;

    mbedtls_mpi_init(&v);
    rc = mbedtls_mpi_read_binary(&v, s, n);
    if (rc == 0)
        rc = mbedtls_x509write_crt_set_serial(crt, &v);
    mbedtls_mpi_free(&v);
    return rc;
#endif
}
#endif

#if defined(MBEDTLS_X509_CRT_WRITE_C) && defined(MBEDTLS_PK_RSA_ALT_SUPPORT)
/* A stand-in issuer key for mbedtls_x509write_crt_der: an RSA_ALT key whose
 * "signature" is *(size_t *)ctx zero bytes. certwrite.c replaces the
 * signature (and the algorithm) afterwards; only the callback's signature
 * differs between 2.28 (a mode argument) and 3.x. */
static inline int tkr_compat_placeholder_sign(void *ctx,
                                              tkr_rng_fn f_rng, void *p_rng,
#if !TKR_MBEDTLS3
                                              int mode,
#endif
                                              mbedtls_md_type_t md,
                                              unsigned int hlen,
                                              const unsigned char *hash,
                                              unsigned char *sig)
{
#if !TKR_MBEDTLS3
    (void)mode;
#endif
    (void)f_rng, (void)p_rng, (void)md, (void)hlen, (void)hash;
    memset(sig, 0, *(const size_t *)ctx);
    return 0;
}

static inline size_t tkr_compat_placeholder_len(void *ctx)
{
    return *(const size_t *)ctx;
}

static inline int tkr_compat_pk_setup_placeholder(mbedtls_pk_context *pk,
                                                  size_t *sig_len)
{
    return mbedtls_pk_setup_rsa_alt(pk, sig_len, NULL,
                                    tkr_compat_placeholder_sign,
                                    tkr_compat_placeholder_len);
}
#endif

/* basicConstraints cA of a parsed certificate (private in 3.x). */
static inline int tkr_compat_crt_is_ca(const mbedtls_x509_crt *crt)
{
#if TKR_MBEDTLS3
    return mbedtls_x509_crt_get_ca_istrue(crt) == 1;
#else
    return crt->ca_istrue == 1;
#endif
}

/* Certificate fields that 3.x made private. */
#define TKR_CRT_SIG_MD(crt) ((crt)->TKR_PRIV(sig_md))

#if defined(MBEDTLS_SSL_TLS_C)
#include <mbedtls/ssl.h>
#if defined(MBEDTLS_PSA_CRYPTO_C)
#include <psa/crypto.h>
#endif

/* Nothing older than TLS 1.2 (RFC 8996); 3.x names versions, 2.28 numbers
 * them. */
static inline void tkr_compat_ssl_min_tls12(mbedtls_ssl_config *conf)
{
#if TKR_MBEDTLS3
    mbedtls_ssl_conf_min_tls_version(conf, MBEDTLS_SSL_VERSION_TLS1_2);
#else
    mbedtls_ssl_conf_min_version(conf, MBEDTLS_SSL_MAJOR_VERSION_3,
                                 MBEDTLS_SSL_MINOR_VERSION_3);
#endif
}

/* mbedTLS negotiates the maximum fragment length (RFC 6066) in TLS 1.2
 * only; its 1.3 client refuses the extension a server echoes. A client
 * that asks for a small fragment stays at 1.2. */
static inline void tkr_compat_ssl_max_tls12(mbedtls_ssl_config *conf)
{
#if TKR_MBEDTLS3
    mbedtls_ssl_conf_max_tls_version(conf, MBEDTLS_SSL_VERSION_TLS1_2);
#else
    (void)conf; /* 2.28 has no TLS 1.3 */
#endif
}

/* 3.6's TLS 1.3 runs on PSA, which must be initialised first; calling it
 * again is harmless. Builds without PSA (2.28, the device) have nothing to
 * do. */
static inline int tkr_compat_psa_init(void)
{
#if defined(MBEDTLS_PSA_CRYPTO_C)
    return psa_crypto_init() == PSA_SUCCESS ? 0 : -1;
#else
    return 0;
#endif
}

/* A read that only delivered a TLS 1.3 session ticket: read again. */
static inline int tkr_compat_ssl_read_again(int rc)
{
#if defined(MBEDTLS_ERR_SSL_RECEIVED_NEW_SESSION_TICKET)
    if (rc == MBEDTLS_ERR_SSL_RECEIVED_NEW_SESSION_TICKET)
        return 1;
#endif
    return rc == MBEDTLS_ERR_SSL_WANT_READ || rc == MBEDTLS_ERR_SSL_WANT_WRITE;
}
#endif

#endif
