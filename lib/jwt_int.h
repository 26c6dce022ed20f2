/* jwt_int.h — pieces shared by jwt_parse.c, jwt_verify.c and jwt_sign.c.
 * Internal. */
#ifndef TKR_JWT_INT_H
#define TKR_JWT_INT_H

#include <mbedtls/md.h>

#include "tokenroll/jwt.h"

/* Hash of an algorithm: SHA-384 for ES384, SHA-256 for the rest. */
mbedtls_md_type_t tkr_jwt_md(tkr_jwt_alg_t alg, size_t *hlen);

/* Bytes of one ECDSA scalar for an algorithm (RFC 7518 §3.4): 32 or 48. */
size_t tkr_jwt_ec_len(tkr_jwt_alg_t alg);

#endif
