/* tokenroll/key.h — loading keys and mapping them to JWS algorithms.
 *
 * One place knows which key type may sign with which algorithm, so the rule
 * "RSA -> RS256/PS256, P-256 -> ES256, P-384 -> ES384" cannot drift between
 * signing, verifying and the JWKS code. */
#ifndef TOKENROLL_KEY_H
#define TOKENROLL_KEY_H

#include <stddef.h>

#include <mbedtls/pk.h>
#include <mbedtls/x509_crt.h>

#include "jwt.h"
#include "port.h"

/* PEM input lengths, here and in every parser of tokenroll (keys, CA
 * certificates): len counts the terminating NUL of a PEM text, as
 * mbedTLS's parsers require; DER has no terminator. (Lengths *written*,
 * out_len of the tkr_*_write_pem functions, never count the NUL.) */

/* Parse a public key from PEM or DER: SubjectPublicKeyInfo, PKCS#1
 * RSAPublicKey, or a certificate (its key is taken).
 * TKR_E_KEY when none of these parse; diag (may be NULL) gets the key
 * parser's mbedTLS code in diag->mbedtls. */
int tkr_key_parse_public(mbedtls_pk_context *pk, const uint8_t *buf, size_t len,
                         tkr_diag_t *diag);

/* 1 when buf[0..len) holds PEM text (a "-----BEGIN" line), which mbedTLS
 * wants with its NUL terminator counted in the length, and DER not. */
int tkr_key_is_pem(const uint8_t *buf, size_t len);

/* Parse a private key: PKCS#1, SEC1 or unencrypted PKCS#8, PEM or DER.
 * The port supplies randomness where mbedTLS wants it (3.x blinding).
 * TKR_E_KEY, with the mbedTLS code in diag->mbedtls (diag may be NULL). */
int tkr_key_parse_private(mbedtls_pk_context *pk, const uint8_t *buf,
                          size_t len, const tkr_port_t *port,
                          tkr_diag_t *diag);

/* Key families, as far as JWS cares: the rule below is written once, over
 * families, so a loaded key (mbedTLS) and a JWK's kty/crv (before any key
 * is built from it) obey the same binding. */
typedef enum {
    TKR_KEY_FAMILY_NONE = 0,     /* anything else: binds to no algorithm */
    TKR_KEY_FAMILY_RSA,          /* RS256, PS256 */
    TKR_KEY_FAMILY_P256,         /* ES256 */
    TKR_KEY_FAMILY_P384          /* ES384 */
} tkr_key_family_t;

/* The family of a loaded key. */
tkr_key_family_t tkr_key_family(const mbedtls_pk_context *pk);
/* The family's default algorithm (RS256, ES256, ES384); UNKNOWN for NONE. */
tkr_jwt_alg_t tkr_key_family_alg(tkr_key_family_t f);
/* 1 when a key of family f may sign or verify under alg, else 0. */
int tkr_key_family_allows(tkr_key_family_t f, tkr_jwt_alg_t alg);

/* The algorithm a key signs with by default: RSA -> RS256, P-256 -> ES256,
 * P-384 -> ES384. TKR_E_KEY_ALG for other keys. */
int tkr_key_default_alg(const mbedtls_pk_context *pk, tkr_jwt_alg_t *alg);

/* 0 when pk can sign or verify under alg, else TKR_E_KEY_ALG. RSA keys
 * must be at least 2048 bits (RFC 7518 §3.3). */
int tkr_key_check_alg(const mbedtls_pk_context *pk, tkr_jwt_alg_t alg);

/* 0 when priv is the private half of pub (e.g. a CA key and its cert),
 * else TKR_E_KEY_MISMATCH with the mbedTLS code in diag->mbedtls. */
int tkr_key_check_pair(const mbedtls_pk_context *pub,
                       const mbedtls_pk_context *priv, const tkr_port_t *port,
                       tkr_diag_t *diag);

#endif
