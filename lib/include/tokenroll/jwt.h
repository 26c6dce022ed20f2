/* tokenroll/jwt.h — compact JWS (RFC 7515) and JWT claims (RFC 7519).
 *
 * Verification follows RFC 8725: the caller pins one algorithm and one key;
 * the header's "alg" must name exactly that algorithm, so "none", HS* keyed
 * with a public key, and algorithm substitution cannot happen. A header with
 * "crit" is rejected (we understand no extensions, RFC 7515 §4.1.11). ECDSA
 * signatures must be raw r||s of the curve's exact size with 0 < r, s < n
 * (RFC 7518 §3.4); RSA signatures must be exactly the modulus size.
 *
 * A tkr_jwt_t holds decoded copies of header, claims and signature, so the
 * token text may be freed after tkr_jwt_parse. It is large (about
 * TKR_JWT_MAX + 24 * TKR_JWT_CLAIM_TOKENS bytes): keep it static or on a
 * big enough stack. */
#ifndef TOKENROLL_JWT_H
#define TOKENROLL_JWT_H

#include <stddef.h>
#include <stdint.h>

#include <mbedtls/pk.h>

#include "config.h"
#include "error.h"
#include "json.h"
#include "port.h"

typedef enum {
    TKR_JWT_ALG_UNKNOWN = 0,
    TKR_JWT_RS256,
    TKR_JWT_PS256,
    TKR_JWT_ES256,
    TKR_JWT_ES384
} tkr_jwt_alg_t;

/* Registered claims a caller can require (bit set). */
#define TKR_CLAIM_EXP 0x01u
#define TKR_CLAIM_NBF 0x02u
#define TKR_CLAIM_IAT 0x04u
#define TKR_CLAIM_ISS 0x08u
#define TKR_CLAIM_SUB 0x10u
#define TKR_CLAIM_AUD 0x20u
#define TKR_CLAIM_JTI 0x40u
#define TKR_CLAIM_ALL 0x7Fu

/* The claim a TKR_CLAIM_* bit stands for ("exp", ...); NULL unless bit is
 * exactly one of them. */
const char *tkr_jwt_claim_name(unsigned bit);
/* The reverse for name[0..len); 0 when it is not a registered claim we
 * check. */
unsigned tkr_jwt_claim_bit(const char *name, size_t len);

typedef struct {
    char header[TKR_JWT_HEADER_MAX];
    size_t header_len;
    char claims[TKR_JWT_PAYLOAD_MAX];
    size_t claims_len;
    uint8_t sig[TKR_JWT_SIG_MAX];
    size_t sig_len;
    /* hash input: the first two segments of the caller's token */
    uint8_t digest[48];
    size_t signing_input_len;
    tkr_json_tok_t htok[TKR_JWT_HEADER_TOKENS];
    tkr_json_tok_t ctok[TKR_JWT_CLAIM_TOKENS];
    tkr_json_t hdr;          /* parsed header */
    tkr_json_t doc;          /* parsed claims; root token 0 */
    tkr_jwt_alg_t alg;       /* from the header; UNKNOWN if not supported */
    char alg_name[16];       /* the header's alg, unescaped (for messages);
                                "?" when it does not unescape or fit */
    char kid[TKR_KID_MAX];   /* empty when absent */
} tkr_jwt_t;

/* What tkr_jwt_check_claims demands. Strings NULL = not checked. */
typedef struct {
    unsigned required;       /* TKR_CLAIM_* that must be present */
    const char *iss;
    const char *sub;
    const char *aud;         /* must equal aud, or be in the aud array */
    int64_t leeway;          /* seconds of clock skew tolerated */
} tkr_jwt_rules_t;

void tkr_jwt_init(tkr_jwt_t *jwt);
/* Wipes the decoded claims and signature. */
void tkr_jwt_free(tkr_jwt_t *jwt);

/* Split, strictly decode and parse token[0..len). No signature check.
 * Leading/trailing whitespace is not stripped: callers reading files do it.
 * TKR_E_TOO_LARGE over TKR_JWT_MAX, TKR_E_JWT_FORMAT, TKR_E_BASE64,
 * TKR_E_JSON*, TKR_E_JWT_HEADER (no string alg, bad kid), TKR_E_JWT_CRIT.
 * diag (may be NULL) names the part at fault in diag->name ("header",
 * "payload", "signature", or a header member as "header.alg") and, where
 * there is one, the offset *in the token* of the character at fault (for
 * bad JSON: the character carrying the first bit of the bad byte). */
int tkr_jwt_parse(tkr_jwt_t *jwt, const char *token, size_t len,
                  tkr_diag_t *diag);

/* Check the signature with key pk, under the pinned algorithm alg.
 * TKR_E_JWT_ALG (header differs from pin), TKR_E_KEY_ALG (key cannot do
 * alg), TKR_E_JWT_SIG_LEN, TKR_E_SIGNATURE. */
int tkr_jwt_verify_sig(const tkr_jwt_t *jwt, tkr_jwt_alg_t alg,
                       mbedtls_pk_context *pk);

/* Registered claims against rules at time now (seconds since the epoch).
 * exp/nbf/iat must be integers when present (TKR_E_CLAIM_TYPE). Valid iff
 * now < exp + leeway, now >= nbf - leeway, iat <= now + leeway. A failure
 * about one claim (missing, wrong type, expired, mismatched) names it in
 * diag->name (diag may be NULL). */
int tkr_jwt_check_claims(const tkr_jwt_t *jwt, const tkr_jwt_rules_t *rules,
                         int64_t now, tkr_diag_t *diag);

/* Signature, then claims: what a relying party should call. */
int tkr_jwt_verify(const tkr_jwt_t *jwt, tkr_jwt_alg_t alg,
                   mbedtls_pk_context *pk, const tkr_jwt_rules_t *rules,
                   int64_t now, tkr_diag_t *diag);

/* Sign claims[0..claims_len) (a JSON object, used byte for byte) with key
 * under alg. Header: {"alg":..,"kid":..,"typ":"JWT"} with kid left out when
 * NULL; the members are in PyJWT's order so equal inputs give equal bytes.
 * The port supplies randomness (ECDSA, RSA blinding). out is also the only
 * workspace: header, claims and signature are built where their encodings
 * go and encoded in place, so the call needs no stack beyond a hash.
 * claims must not overlap out. TKR_E_BUFFER_TOO_SMALL sets *out_len to
 * the token's length (give one byte more for the NUL) once the header
 * fits; a buffer too small for the header itself leaves it 0. */
int tkr_jwt_sign(char *out, size_t out_size, size_t *out_len,
                 mbedtls_pk_context *key, tkr_jwt_alg_t alg, const char *kid,
                 const char *claims, size_t claims_len,
                 const tkr_port_t *port);

/* "RS256" etc.; NULL for UNKNOWN. */
const char *tkr_jwt_alg_name(tkr_jwt_alg_t alg);
/* Exact, case-sensitive lookup; UNKNOWN when not one of ours. */
tkr_jwt_alg_t tkr_jwt_alg_from_name(const char *name, size_t len);

/* Claim helpers over jwt->doc: token index of claim name or TKR_E_NOT_FOUND. */
int tkr_jwt_claim(const tkr_jwt_t *jwt, const char *name);

#endif
