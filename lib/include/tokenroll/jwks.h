/* tokenroll/jwks.h — JSON Web Key Sets (RFC 7517) for verification.
 *
 * Public keys only: RSA (n, e) and EC P-256/P-384 (x, y). A key's "kty"
 * and "crv" bind it to algorithms (RSA: RS256/PS256; P-256: ES256; P-384:
 * ES384) and its "alg", when present, narrows that to exactly one; "use",
 * when present, must be "sig". Private members (d, p, q, ...) make the key
 * unusable here: a published set must never carry them. */
#ifndef TOKENROLL_JWKS_H
#define TOKENROLL_JWKS_H

#include <stddef.h>

#include <mbedtls/pk.h>

#include "config.h" /* TKR_JWKS_TOKENS */
#include "json.h"
#include "jwt.h"

typedef struct {
    tkr_json_tok_t tok[TKR_JWKS_TOKENS];
    tkr_json_t doc;
    int keys;                /* token index of the "keys" array */
} tkr_jwks_t;

void tkr_jwks_init(tkr_jwks_t *set);
void tkr_jwks_free(tkr_jwks_t *set);

/* Parse a key set (or a single JWK object, treated as a set of one).
 * json must stay alive while set is used.
 *
 * Every function here fills diag (may be NULL) on failure: the JSON
 * offset for malformed text, else diag->name the member at fault as a
 * path ("keys[1].x", "kid"; a bare JWK has no "keys[i]." part) with
 * diag->msg saying what is wrong, and diag->mbedtls when mbedTLS
 * rejects the key built from the members. */
int tkr_jwks_parse(tkr_jwks_t *set, const char *json, size_t len,
                   tkr_diag_t *diag);

/* Number of keys in the set. */
int tkr_jwks_count(const tkr_jwks_t *set);

/* Select the key for a token with alg and header kid (NULL or "" = none),
 * and load it into pk (initialised by the caller, set up here).
 * With a kid, the key with that kid is used; without, the set must hold
 * exactly one key usable for alg. TKR_E_NOT_FOUND when none fits,
 * TKR_E_KEY_ALG when the kid's key is bound to another algorithm, TKR_E_KEY
 * for malformed key material. */
int tkr_jwks_select(const tkr_jwks_t *set, mbedtls_pk_context *pk,
                    tkr_jwt_alg_t alg, const char *kid, tkr_diag_t *diag);

/* Like tkr_jwks_select when the caller pins no algorithm: the key is chosen
 * by kid alone (or is the only key in the set), and *alg receives the one
 * it binds to: its "alg" member, else the family default (RSA -> RS256,
 * P-256 -> ES256, P-384 -> ES384). */
int tkr_jwks_select_any(const tkr_jwks_t *set, mbedtls_pk_context *pk,
                        tkr_jwt_alg_t *alg, const char *kid, tkr_diag_t *diag);

/* Load the i-th key into pk and report the algorithm it binds to
 * (for a key without "alg": the family default RS256/ES256/ES384). */
int tkr_jwks_key(const tkr_jwks_t *set, mbedtls_pk_context *pk,
                 tkr_jwt_alg_t *alg, int i, tkr_diag_t *diag);

#endif
