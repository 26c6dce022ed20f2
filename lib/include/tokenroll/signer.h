/* tokenroll/signer.h — every use of a CA private key.
 *
 * A signer signs a digest with the CA key and tells its public key and the
 * JWS algorithm that key signs tokens with (RS256, ES256, ES384). Tokens
 * (tkr_signer_jwt) and certificates (certwrite) go through it, so the key
 * may live in mbedTLS memory, in OpenSSL's libcrypto, or in an HSM behind
 * PKCS#11, and once the signer is loaded no caller holds key material.
 *
 * Backends:
 *   - mbedTLS key from PEM/DER text (this file; every build, the device's
 *     only one);
 *   - OpenSSL libcrypto EVP_PKEY (host builds, signer_openssl.c);
 *   - PKCS#11 token key (host builds, tokenroll/pkcs11.h).
 *
 * Signature format: RSA keys give PKCS#1 v1.5 signatures (RFC 8017 §8.2),
 * EC keys give the raw r||s of JWS (RFC 7518 §3.4), each scalar
 * left-padded to the curve size; tkr_signer_ecdsa_to_der turns that into
 * the DER Ecdsa-Sig-Value X.509 wants (RFC 5480 §2.2.3).
 *
 * Threads: a signer context is used by one thread at a time. Threads that
 * sign in parallel each load their own context (each has its own RSA
 * blinding state, EVP_PKEY or PKCS#11 session); nothing is locked inside. */
#ifndef TOKENROLL_SIGNER_H
#define TOKENROLL_SIGNER_H

#include <stddef.h>
#include <stdint.h>

#include <mbedtls/md.h>
#include <mbedtls/pk.h>
#include <mbedtls/x509_crt.h>

#include "jwt.h"
#include "port.h"

/* What a backend provides. sign() writes the signature in the format above
 * for a digest made with alg's hash (SHA-256, or SHA-384 for ES384);
 * free() releases ctx. Backends outside lib/ may fill one in to plug in
 * another key store. */
typedef struct tkr_signer_ops {
    const char *name; /* "mbedtls", "openssl", "pkcs11" */
    int (*sign)(void *ctx, uint8_t *sig, size_t sig_size, size_t *sig_len,
                tkr_jwt_alg_t alg, const uint8_t *hash, size_t hlen,
                const tkr_port_t *port);
    void (*free)(void *ctx);
} tkr_signer_ops_t;

typedef struct {
    const tkr_signer_ops_t *ops; /* NULL until a backend is loaded */
    void *ctx;                   /* the backend's state, owned */
    mbedtls_pk_context pub;      /* the signing key's public half */
    mbedtls_pk_context key;      /* mbedTLS backend: the private key */
    tkr_jwt_alg_t alg;           /* RS256, ES256 or ES384 */
} tkr_signer_t;

/* Largest signature: RSA-4096, or P-384 r||s (96 bytes). */
#define TKR_SIGNER_SIG_MAX 512
/* Largest DER Ecdsa-Sig-Value for P-384 (2 * 49 + 8). */
#define TKR_SIGNER_ECDSA_DER_MAX 112

void tkr_signer_init(tkr_signer_t *s);
/* Releases the backend (wiping an mbedTLS key); s is then as after init. */
void tkr_signer_free(tkr_signer_t *s);

/* mbedTLS backend: parse a private key (PKCS#1, SEC1 or unencrypted PKCS#8,
 * PEM or DER; PEM text must have its NUL counted in len).
 * TKR_E_KEY when it does not parse, TKR_E_KEY_ALG when tokenroll cannot
 * sign with it (RSA under 2048 bits, curves other than P-256/P-384). */
int tkr_signer_load_mbedtls(tkr_signer_t *s, const uint8_t *key, size_t len,
                            const tkr_port_t *port);

/* Attach a backend whose public key is the DER SubjectPublicKeyInfo spki.
 * On success s owns ctx (ops->free releases it); on failure the caller
 * still does. For backends implemented outside this file. */
int tkr_signer_attach(tkr_signer_t *s, const tkr_signer_ops_t *ops, void *ctx,
                      const uint8_t *spki, size_t spki_len);

/* Refuse a signer that is not the certificate's key: the public keys must
 * be equal, and a test signature made through the backend must verify under
 * the certificate's key (so a token object whose public half was paired
 * wrongly is caught too). TKR_E_KEY_MISMATCH otherwise. */
int tkr_signer_check_cert(tkr_signer_t *s, const mbedtls_x509_crt *cert,
                          const tkr_port_t *port);

/* Sign the digest hash[0..hlen) of md, which must be tkr_signer_md(s)
 * (one hash per key keeps tokens and certificates on one profile); else
 * TKR_E_KEY_ALG. sig receives the signature in the format above. */
int tkr_signer_sign(tkr_signer_t *s, uint8_t *sig, size_t sig_size,
                    size_t *sig_len, mbedtls_md_type_t md, const uint8_t *hash,
                    size_t hlen, const tkr_port_t *port);

/* The digest the key signs with: SHA-256 for RSA and P-256, SHA-384 for
 * P-384. */
mbedtls_md_type_t tkr_signer_md(const tkr_signer_t *s);

/* Bytes of one signature: the modulus for RSA, r||s for EC; 0 before a
 * backend is loaded. */
size_t tkr_signer_sig_len(const tkr_signer_t *s);

/* Name of the loaded backend, "none" before one is loaded. */
const char *tkr_signer_backend(const tkr_signer_t *s);

/* A compact JWS over claims (used byte for byte), signed by the CA key
 * under its algorithm: {"alg":..,"kid":..,"typ":"JWT"}, as tkr_jwt_sign
 * writes it, so both give the same bytes for the same RSA key. */
int tkr_signer_jwt(char *out, size_t out_size, size_t *out_len,
                   tkr_signer_t *s, const char *kid, const char *claims,
                   size_t claims_len, const tkr_port_t *port);

/* Raw r||s (2n bytes) as DER Ecdsa-Sig-Value, and back (n is the scalar
 * size: 32 or 48). */
int tkr_signer_ecdsa_to_der(uint8_t *der, size_t der_size, size_t *der_len,
                            const uint8_t *raw, size_t raw_len);
int tkr_signer_ecdsa_to_raw(uint8_t *raw, size_t n, const uint8_t *der,
                            size_t der_len);

#if defined(TKR_WITH_OPENSSL)
/* OpenSSL backend (host builds made with OPENSSL=1): the same key formats
 * as tkr_signer_load_mbedtls. Signing runs in libcrypto. */
int tkr_signer_load_openssl(tkr_signer_t *s, const uint8_t *key, size_t len);
#endif

#endif
