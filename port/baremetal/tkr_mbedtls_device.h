/* tkr_mbedtls_device.h — mbedTLS 3.6 configuration for a tokenroll device.
 *
 * Use as MBEDTLS_CONFIG_FILE when building mbedTLS and tokenroll for the
 * MCU: -DMBEDTLS_CONFIG_FILE='"tkr_mbedtls_device.h"'. It replaces
 * mbedtls_config.h whole, so everything not listed here is off; mbedTLS's
 * own check_config.h (pulled in by build_info.h) rejects a set that does not
 * hold together, so a compile of any tokenroll file is already the check.
 *
 * What is on, and for whom: the enrollment flow and nothing more, since
 * the firmware image's flash budget (90 KB with tokenroll, `make cross-m4`
 * enforces it) is mostly mbedTLS:
 *   root and issued certificates      X.509 CRT parse, RSA PKCS#1 v1.5 and
 *   (RSA-2048 or P-256 roots)         ECDSA P-256 verification, SHA-256
 *   key pair (csr)                    ECP P-256 keygen, PK parse/write, PEM
 *   CSR (csr/enroll)                  X.509 CSR write, ECDSA sign
 *   TLS 1.2 client (tls/http)         ECDHE-ECDSA/RSA, AES-128-GCM-SHA256
 *   JWS ES256/RS256 (jwt modules)     the same primitives
 *
 * Left out to fit the budget (each measured in the image's link map):
 *   X.509 info text  MBEDTLS_X509_REMOVE_INFO: OID descriptions and the
 *              *_info() printers, ~2 KB; the device prints no certificate.
 *   P-384, SHA-384/512  ~3 KB. tokenroll serve offers P-256 for ECDHE and
 *              AES-128-GCM-SHA256; roots are RSA-2048 or P-256 (SHA-256
 *              signatures). JWS ES384 does not verify on the device.
 *   PKCS#1 v2.1  OAEP and PSS, ~2 KB: FLARE's and tokenroll's CAs sign
 *              with PKCS#1 v1.5; JWS PS256 does not verify on the device.
 *   GENPRIME   RSA key generation, ~2 KB: the device's key is EC P-256;
 *              "RSA-2048 on request" answers TKR_E_UNSUPPORTED.
 *   AES decryption, AES-192/256  MBEDTLS_BLOCK_CIPHER_NO_DECRYPT (GCM
 *              only encrypts blocks), MBEDTLS_AES_ONLY_128_BIT_KEY_LENGTH,
 *              ~2.5 KB.
 *   other suites  MBEDTLS_SSL_CIPHERSUITES lists the two the service
 *              and the device share, so mbedTLS's preference table and
 *              suite definitions shrink to them.
 *
 * What is deliberately off, and why:
 *   time       no MBEDTLS_HAVE_TIME(_DATE): the device clock is the port's
 *              wall_time hook, which may be unset before NTP; tokenroll does
 *              every validity check itself against that hook, so mbedTLS
 *              must not reach for time() behind its back. X.509 validity
 *              flags from mbedtls_x509_crt_verify are then never set.
 *   entropy    MBEDTLS_NO_PLATFORM_ENTROPY and no MBEDTLS_ENTROPY_C: every
 *              RNG callback tokenroll passes is tkr_port_rng, i.e. the
 *              board's TRNG through the port; no second entropy path exists
 *              that could be silently weaker.
 *   files      no MBEDTLS_FS_IO: keys and certificates come from the port's
 *              blob store as buffers.
 *   network    no MBEDTLS_NET_C: connections are tkr_transport_t.
 *   threads    no MBEDTLS_THREADING_C: tokenroll contexts are per caller.
 *   PSA        no MBEDTLS_PSA_CRYPTO_C: the legacy API is what tokenroll
 *              calls, and PSA would pull in its own entropy and key store.
 *
 * Memory: mbedTLS is the only allocator user in a device build (bignums,
 * X.509 chains). MBEDTLS_PLATFORM_MEMORY lets the integrator point it at a
 * static pool before the first call:
 *
 *     static unsigned char pool[24 * 1024];
 *     mbedtls_memory_buffer_alloc_init(pool, sizeof(pool));
 *
 * so the device needs no malloc of its own. The pool size comes from the
 * peak figures that `make bench` prints on the host.
 *
 * TLS for the enrollment request (tls/http modules): a TLS 1.2 client
 * only, ECDHE (P-256) with ECDSA or RSA certificates, AES-128-GCM; no TLS 1.3
 * (in 3.6 it needs PSA), no renegotiation, no session tickets or resumption
 * (one connection per boot). Record buffers: 4 KB in, 2 KB out. mbedTLS
 * asks for at most the smaller of the two as maximum fragment (RFC 6066),
 * so the device asks for 2048 (4096 is refused by
 * mbedtls_ssl_conf_max_frag_len) and needs a service that honours it; a
 * handshake message the service splits over 2 KB records is put back
 * together in the 4 KB in-buffer (mbedTLS 3.6.3 and later). Measured in
 * QEMU against `tokenroll serve` with P-256 and RSA-2048 certificates
 * (tests/e2e/test_enroll_m4.sh). */
#ifndef TKR_MBEDTLS_DEVICE_H
#define TKR_MBEDTLS_DEVICE_H

/* ---- system ---- */

/* Thumb-2 multiply-accumulate in bn_mul.h: RSA is several times faster. */
#define MBEDTLS_HAVE_ASM
#define MBEDTLS_NO_PLATFORM_ENTROPY
#define MBEDTLS_PLATFORM_C
#define MBEDTLS_PLATFORM_MEMORY
#define MBEDTLS_MEMORY_BUFFER_ALLOC_C
/* Deprecated 2.x names stay out, so nothing new comes to depend on them. */
#define MBEDTLS_DEPRECATED_REMOVED

/* ---- big numbers, RSA ---- */

#define MBEDTLS_BIGNUM_C
#define MBEDTLS_RSA_C
#define MBEDTLS_PKCS1_V15
/* TKR_JWT_SIG_MAX is 512 bytes: RSA-4096 is the largest key we verify. */
#define MBEDTLS_MPI_MAX_SIZE 512
/* Window 2 instead of 3: half the precomputed powers (4 RSA-sized numbers
 * instead of 8) held during a private-key operation, for a few % of speed. */
#define MBEDTLS_MPI_WINDOW_SIZE 2

/* ---- elliptic curves ---- */

#define MBEDTLS_ECP_C
#define MBEDTLS_ECP_DP_SECP256R1_ENABLED
#define MBEDTLS_ECP_NIST_OPTIM
#define MBEDTLS_ECDSA_C
/* RFC 6979 nonces: a weak TRNG sample can then never leak the key; the
 * port RNG is still used for blinding. Needs HMAC_DRBG. */
#define MBEDTLS_ECDSA_DETERMINISTIC
#define MBEDTLS_HMAC_DRBG_C
/* Smaller comb tables and no cached table for the base point: a device
 * signs a handful of times per boot, so RAM matters more than speed. */
#define MBEDTLS_ECP_WINDOW_SIZE 2
#define MBEDTLS_ECP_FIXED_POINT_OPTIM 0

/* ---- hashes ---- */

#define MBEDTLS_MD_C
#define MBEDTLS_SHA256_C
/* The rolled-up loops: ~2 KiB less flash for a hash done a few times. */
#define MBEDTLS_SHA256_SMALLER

/* ---- encodings, keys, certificates ---- */

#define MBEDTLS_ASN1_PARSE_C
#define MBEDTLS_ASN1_WRITE_C
#define MBEDTLS_BASE64_C
#define MBEDTLS_OID_C
#define MBEDTLS_PEM_PARSE_C
#define MBEDTLS_PEM_WRITE_C
#define MBEDTLS_PK_C
#define MBEDTLS_PK_PARSE_C
#define MBEDTLS_PK_WRITE_C
#define MBEDTLS_X509_USE_C
#define MBEDTLS_X509_CRT_PARSE_C
#define MBEDTLS_X509_CREATE_C
#define MBEDTLS_X509_CSR_WRITE_C
#define MBEDTLS_X509_REMOVE_INFO

/* ---- TLS 1.2 client (tls.c) ---- */

#define MBEDTLS_SSL_TLS_C
#define MBEDTLS_SSL_CLI_C
#define MBEDTLS_SSL_PROTO_TLS1_2
#define MBEDTLS_SSL_SERVER_NAME_INDICATION
#define MBEDTLS_SSL_MAX_FRAGMENT_LENGTH
#define MBEDTLS_SSL_IN_CONTENT_LEN 4096
#define MBEDTLS_SSL_OUT_CONTENT_LEN 2048
#define MBEDTLS_KEY_EXCHANGE_ECDHE_ECDSA_ENABLED
#define MBEDTLS_KEY_EXCHANGE_ECDHE_RSA_ENABLED
#define MBEDTLS_ECDH_C
#define MBEDTLS_CIPHER_C
#define MBEDTLS_AES_C
#define MBEDTLS_GCM_C
/* ROM tables for AES instead of generating them into RAM. */
#define MBEDTLS_AES_ROM_TABLES
#define MBEDTLS_AES_FEWER_TABLES
#define MBEDTLS_AES_ONLY_128_BIT_KEY_LENGTH
#define MBEDTLS_BLOCK_CIPHER_NO_DECRYPT
#define MBEDTLS_SSL_CIPHERSUITES \
    MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, \
    MBEDTLS_TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256

#endif
