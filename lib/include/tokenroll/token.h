/* tokenroll/token.h — FLARE enrollment tokens (DESIGN.md, "Enrollment
 * token"): minting on the admin side, verifying against the root CA and
 * reading on the service side, one implementation for the admin commands,
 * the service and the device. The rules that need a policy (role, site
 * pattern, validity) are tokenroll/policy.h's tkr_policy_mint_*.
 *
 * Claims, in this order: jti, sub, iat, exp, iss, subject_type, policy,
 * max_uses, roles, source_ips — compact, ASCII-escaped JSON, exactly as
 * FLARE's PyJWT-based token service writes them, so with the same key,
 * jti and iat an RS256 token is byte-identical to FLARE's. */
#ifndef TOKENROLL_TOKEN_H
#define TOKENROLL_TOKEN_H

#include <stddef.h>
#include <stdint.h>

#include <mbedtls/pk.h>

#include "certjson.h"
#include "error.h"
#include "jwt.h"
#include "port.h"
#include "subject.h"
#include "signer.h"

#define TKR_UUID_LEN 36

typedef struct {
    const char *jti;             /* UUID text, or NULL for a random v4 */
    const char *subject;         /* site name, e-mail, or glob (pattern) */
    int64_t issued_at;           /* seconds; negative = the port clock */
    int64_t validity;            /* seconds, > 0 */
    const char *issuer;          /* the root CA certificate's CN */
    tkr_subject_type_t type;
    const char *policy;          /* the policy as compact JSON (signed as is) */
    size_t policy_len;
    int64_t max_uses;            /* >= 1 */
    const char *const *roles;    /* admin tokens; NULL = no roles claim */
    size_t n_roles;
    const char *const *source_ips; /* NULL = no source_ips claim */
    size_t n_source_ips;
} tkr_token_claims_t;

/* Random UUID v4 (RFC 9562 §5.4) from the port's entropy, lowercase.
 * TKR_E_UNSUPPORTED without an entropy hook, TKR_E_ENTROPY when it fails. */
int tkr_uuid_v4(char out[TKR_UUID_LEN + 1], const tkr_port_t *port);

/* 1 when s is a canonical lowercase-or-uppercase 8-4-4-4-12 UUID. */
int tkr_uuid_valid(const char *s);

/* Write the claims JSON (no signing): what tkr_token_mint signs. */
int tkr_token_claims_json(char *out, size_t out_size, size_t *out_len,
                          char jti_out[TKR_UUID_LEN + 1], const tkr_token_claims_t *c,
                          const tkr_port_t *port);

/* Mint a token signed by the CA's signer (RS256 for RSA, ES256/ES384 for
 * EC). jti_out (may be NULL) receives the token id. TKR_E_TOO_LARGE when
 * the claims pass TKR_JWT_PAYLOAD_MAX; TKR_E_BUFFER_TOO_SMALL with
 * *out_len the token's length, as tkr_jwt_sign reports it. */
int tkr_token_mint(char *out, size_t out_size, size_t *out_len,
                   char jti_out[TKR_UUID_LEN + 1], tkr_signer_t *ca,
                   const tkr_token_claims_t *c, const tkr_port_t *port);

/* Longest subject: FLARE's names and e-mails, and a certificate CN. */
#define TKR_SUBJECT_MAX 255

/* The subject a token may name: 1..TKR_SUBJECT_MAX bytes, no control
 * character, and for TKR_SUBJECT_PATTERN a well-formed glob. Checked when
 * minting, so no token is signed that the service would refuse.
 * TKR_E_INVALID_ARG with diag->name "sub" and diag->msg the problem
 * ("must be 1..255 characters", "contains a control character", "is not
 * a valid glob pattern: <why>"). */
int tkr_token_subject_check(const char *subject, tkr_subject_type_t type,
                            tkr_diag_t *diag);

/* Every entry a CIDR or an address (what the source_ips claim holds).
 * TKR_E_POLICY with diag->name "source_ips[i]" for the first that is not. */
int tkr_token_source_ips_check(const char *const *ips, size_t n,
                               tkr_diag_t *diag);

/* An optional list-of-strings claim (roles, source_ips), one rule for the
 * token reader and the policy request: *out is its token index, or -1
 * when the claim is absent *or null* (FLARE's service reads claims with
 * .get(), so a JSON null is None there: no restriction). Anything else
 * but an array of strings is TKR_E_CLAIM_TYPE with diag->name the claim.
 * An empty array is present: it allows nothing. */
int tkr_token_str_array(const tkr_jwt_t *jwt, const char *name, int *out,
                        tkr_diag_t *diag);

/* An enrollment token against the project's root CA: the signature under
 * the CA key's algorithm (RS256 for RSA, ES256/ES384 for EC), iss equal to
 * the CA's CN, exp present and now < exp. No enrollment state is looked
 * at: call this before revealing anything about a token. Codes as
 * tkr_jwt_verify's; diag->name names the claim at fault. */
int tkr_token_verify(const tkr_jwt_t *jwt, tkr_ca_t *ca, int64_t now,
                     tkr_diag_t *diag);
/* The same with the signature checked by v (jwt.h; NULL: mbedTLS). */
int tkr_token_verify_with(const tkr_jwt_t *jwt, tkr_ca_t *ca,
                          const tkr_sig_verifier_t *v, int64_t now,
                          tkr_diag_t *diag);

/* Whether a token admits participant `name` of type `type` (never
 * pattern): a pattern token any client whose name its glob matches; any
 * other token exactly its own subject and type. TKR_E_SUB with diag->name
 * "subject_type" when the type differs, "sub" when the name does;
 * TKR_E_CLAIM_MISSING ("subject_type") for a token without a type. */
struct tkr_token_info;
int tkr_token_admits(const struct tkr_token_info *info, const char *name,
                     tkr_subject_type_t type, tkr_diag_t *diag);

/* The claims of a parsed enrollment token: the short strings copied, the
 * rest as token indexes into jwt->doc (valid while jwt is). */
typedef struct tkr_token_info {
    char jti[64];
    char subject[256];
    char issuer[256];
    tkr_subject_type_t type;
    int has_type;
    int64_t iat, exp;
    int has_iat, has_exp;
    int64_t max_uses;            /* 1 when absent */
    int policy;                  /* token index in jwt->doc, or -1 */
    int roles;                   /* array token index, or -1 */
    int source_ips;              /* array token index, or -1 */
    int policy_project;          /* string token index, or -1 */
    int policy_version;          /* token index (string or number), or -1 */
} tkr_token_info_t;

/* Read a token's claims (no signature check: call tkr_jwt_verify first
 * where it matters). TKR_E_CLAIM_TYPE for claims of the wrong type (a
 * string too long for its field included), TKR_E_CLAIM_MISSING when jti
 * or sub is absent. Built with TKR_DEVICE_LEAN 1 (tokenroll/config.h) it
 * reads jti, sub, iss, subject_type, iat and exp only: max_uses is 1 and
 * policy, roles, source_ips and the policy's metadata are -1. */
int tkr_token_read(tkr_token_info_t *info, const tkr_jwt_t *jwt);

#endif
