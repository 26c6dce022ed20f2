/* jwt_int.h — pieces shared by jwt_verify.c and jwt_sign.c. Internal. */
#ifndef TKR_JWT_INT_H
#define TKR_JWT_INT_H

#include <mbedtls/md.h>

#include "tokenroll/jwt.h"

/* Hash of an algorithm: SHA-384 for ES384, SHA-256 for the rest. */
mbedtls_md_type_t tkr_jwt_md(tkr_jwt_alg_t alg, size_t *hlen);

/* Bytes of one ECDSA scalar for an algorithm (RFC 7518 §3.4): 32 or 48. */
size_t tkr_jwt_ec_len(tkr_jwt_alg_t alg);

/* The signature of a JWS over hash with a plain mbedTLS key: PKCS#1 v1.5,
 * PSS, or raw r||s for ECDSA (RFC 7518 §3). */
int tkr_jwt_pk_signature(uint8_t *sig, size_t sig_size, size_t *sig_len,
                         mbedtls_pk_context *key, tkr_jwt_alg_t alg,
                         const uint8_t *hash, size_t hlen,
                         const tkr_port_t *port);

/* Signs the digest of a JWS signing input under alg. */
typedef int (*tkr_jws_sign_fn)(void *ctx, uint8_t *sig, size_t sig_size,
                               size_t *sig_len, tkr_jwt_alg_t alg,
                               const uint8_t *hash, size_t hlen,
                               const tkr_port_t *port);

/* header.claims.signature with the header of tkr_jwt_sign and the
 * signature from sign: one framing for plain keys and for signers. */
int tkr_jws_frame(char *out, size_t out_size, size_t *out_len,
                  tkr_jwt_alg_t alg, const char *kid, const char *claims,
                  size_t claims_len, tkr_jws_sign_fn sign, void *sign_ctx,
                  const tkr_port_t *port);

#endif
