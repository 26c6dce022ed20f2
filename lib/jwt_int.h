/* jwt_int.h — pieces shared by jwt_parse.c, jwt_verify.c and jwt_sign.c.
 * Internal. */
#ifndef TKR_JWT_INT_H
#define TKR_JWT_INT_H

#include <mbedtls/md.h>

#include "tokenroll/jwt.h"
#include "tokenroll/signer.h"

/* Hash of an algorithm: SHA-384 for ES384, SHA-256 for the rest. */
mbedtls_md_type_t tkr_jwt_md(tkr_jwt_alg_t alg, size_t *hlen);

/* Bytes of one ECDSA scalar for an algorithm (RFC 7518 §3.4): 32 or 48. */
size_t tkr_jwt_ec_len(tkr_jwt_alg_t alg);

/* Signing in two steps, so a caller can build the claims where their
 * encoding will stand and need no claims buffer of its own (token.c):
 * tkr_jwt_sign_header writes "b64(header)." to out and the offset after
 * the dot to *pos; tkr_jwt_sign_finish encodes claims at out + pos (in
 * place when claims == out + pos, else from a disjoint buffer), signs and
 * appends ".b64(signature)". out itself is the only workspace either
 * uses. On failure out[0] is NUL and *out_len 0, except for
 * TKR_E_BUFFER_TOO_SMALL from tkr_jwt_sign_finish: *out_len is then the
 * token's length (tkr_jwt_token_len). */
/* Bytes of key's signature under alg (the modulus for RSA, r||s for
 * ECDSA), and the length of a token whose header encoding takes pos bytes
 * with its dot and whose claims take claims_len bytes (without the NUL). */
size_t tkr_jwt_sig_len(const mbedtls_pk_context *key, tkr_jwt_alg_t alg);
size_t tkr_jwt_token_len(size_t pos, size_t claims_len, size_t sig_len);

int tkr_jwt_sign_header(char *out, size_t out_size, size_t *pos,
                        tkr_jwt_alg_t alg, const char *kid);
int tkr_jwt_sign_finish(char *out, size_t out_size, size_t *out_len,
                        size_t pos, mbedtls_pk_context *key, tkr_jwt_alg_t alg,
                        const uint8_t *claims, size_t claims_len,
                        const tkr_port_t *port);

/* Signs the digest of a JWS signing input under alg: sig[0..sig_size) is
 * where the encoded signature will stand, so its size is at least the
 * encoding's (4/3 of the raw signature), room enough for DER scratch. */
typedef int (*tkr_jws_sign_fn)(void *ctx, uint8_t *sig, size_t sig_size,
                               size_t *sig_len, tkr_jwt_alg_t alg,
                               const uint8_t *hash, size_t hlen,
                               const tkr_port_t *port);

/* tkr_jwt_sign_finish with the signature from sign (a CA signer's
 * backend); sig_len is the signature's length, for the room check. */
int tkr_jwt_sign_finish_with(char *out, size_t out_size, size_t *out_len,
                             size_t pos, tkr_jws_sign_fn sign, void *ctx,
                             size_t sig_len, tkr_jwt_alg_t alg,
                             const uint8_t *claims, size_t claims_len,
                             const tkr_port_t *port);

/* The signature of a JWS over hash with a plain mbedTLS key: PKCS#1 v1.5,
 * PSS, or raw r||s for ECDSA (RFC 7518 §3), sig being its own scratch for
 * mbedTLS's DER (see tkr_jws_sign_fn). */
int tkr_jwt_pk_signature(uint8_t *sig, size_t sig_size, size_t *sig_len,
                         mbedtls_pk_context *key, tkr_jwt_alg_t alg,
                         const uint8_t *hash, size_t hlen,
                         const tkr_port_t *port);

/* The second step for a CA signer (signer.c): tkr_jwt_sign_finish under
 * the signer's algorithm, signed by its backend. */
int tkr_signer_jwt_finish(char *out, size_t out_size, size_t *out_len,
                          size_t pos, tkr_signer_t *s, const uint8_t *claims,
                          size_t claims_len, const tkr_port_t *port);

#endif
