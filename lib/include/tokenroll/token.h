/* tokenroll/token.h — FLARE enrollment tokens (DESIGN.md, "Enrollment
 * token"): minting on the admin side, reading on the service side.
 *
 * Claims, in this order: jti, sub, iat, exp, iss, subject_type, policy,
 * max_uses, roles, source_ips — compact, ASCII-escaped JSON, exactly as
 * FLARE's PyJWT-based token service writes them, so with the same key,
 * jti and iat an RS256 token is byte-identical to FLARE's. */
#ifndef TOKENROLL_TOKEN_H
#define TOKENROLL_TOKEN_H

#include <stddef.h>
#include <stdint.h>

#include "jwt.h"
#include "port.h"
#include "signer.h"

typedef enum {
    TKR_SUBJECT_CLIENT = 0,
    TKR_SUBJECT_ADMIN,
    TKR_SUBJECT_RELAY,
    TKR_SUBJECT_SERVER,
    TKR_SUBJECT_PATTERN
} tkr_subject_type_t;

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

/* Random UUID v4 (RFC 9562 §5.4) from the port's entropy, lowercase. */
int tkr_uuid_v4(char out[TKR_UUID_LEN + 1], const tkr_port_t *port);

/* 1 when s is a canonical lowercase-or-uppercase 8-4-4-4-12 UUID. */
int tkr_uuid_valid(const char *s);

/* Write the claims JSON (no signing): what tkr_token_mint signs. */
int tkr_token_claims_json(char *out, size_t out_size, size_t *out_len,
                          const tkr_token_claims_t *c, const tkr_port_t *port,
                          char jti_out[TKR_UUID_LEN + 1]);

/* Mint a token signed by the CA's signer (RS256 for RSA, ES256/ES384 for
 * EC). jti_out (may be NULL) receives the token id. */
int tkr_token_mint(char *out, size_t out_size, size_t *out_len,
                   tkr_signer_t *ca, const tkr_token_claims_t *c,
                   const tkr_port_t *port, char jti_out[TKR_UUID_LEN + 1]);

/* "client", "admin", ... ; and the reverse, which also accepts "user" for
 * admin. -1 for unknown names. */
const char *tkr_subject_type_name(tkr_subject_type_t t);
int tkr_subject_type_parse(const char *s, tkr_subject_type_t *t);

/* The claims of a parsed enrollment token, as views into jwt->doc. */
typedef struct {
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
 * where it matters). TKR_E_CLAIM_TYPE for claims of the wrong type,
 * TKR_E_CLAIM_MISSING when jti or sub is absent. */
int tkr_token_read(tkr_token_info_t *info, const tkr_jwt_t *jwt);

#endif
