/* tokenroll/authjwt.h — the JWT authenticator: a token issued by an external
 * identity provider, exchanged for a certificate (the EPICS PVXS "authnjwt"
 * workflow).
 *
 * The service accepts such a token only once it is verified, in one of two
 * ways:
 *   - locally, against keys the service is configured with (PEM keys, each
 *     pinned to one algorithm, or a JWKS), or
 *   - by asking the provider: a request built from EPICS_AUTH_JWT_REQUEST_*
 *     is sent to a trusted verification URI, and its answer is read through
 *     EPICS_AUTH_JWT_RESPONSE_FORMAT (or its status code alone).
 * Then, in both modes, the registered claims are checked and mapped to the
 * certificate: CN = sub, O = the host of iss, validity nbf..exp.
 *
 * No heap of its own: every buffer is the caller's or sized here. Sending the
 * request is the caller's (the http client), so this module stays free of
 * I/O and can be tested byte for byte. */
#ifndef TOKENROLL_AUTHJWT_H
#define TOKENROLL_AUTHJWT_H

#include <stddef.h>
#include <stdint.h>

#include <mbedtls/pk.h>
#include <mbedtls/x509_crt.h>

#include "config.h"
#include "error.h"
#include "jwks.h"
#include "jwt.h"

/* Longest sub accepted as a Common Name: X.520's ub-common-name, 64, counted
 * in bytes of UTF-8 as the service counts enrollment names, with NUL. */
#define TKR_AUTHJWT_CN_MAX 65
/* Host of iss (RFC 1035: 253 characters), with NUL. */
#define TKR_AUTHJWT_HOST_MAX 256

/* Clock-skew leeway for exp and nbf when the service sets none (seconds). */
#define TKR_AUTHJWT_LEEWAY_DEFAULT 60

/* ---- the response format ---- */

/* A compiled EPICS_AUTH_JWT_RESPONSE_FORMAT.
 *
 * Grammar: the format is literal text in which whitespace is ignored, '*'
 * matches any text, and "#response#" (exactly once) captures the verifier's
 * answer. Quotes on both sides of the capture are optional in the response:
 * '"#response#"' accepts "true" and true alike. A '*' right next to the
 * capture is refused: it would make the capture's extent arbitrary.
 *
 * Semantics: the whole response (whitespace removed) must match the whole
 * format. When several matches exist, the capture is the shortest one
 * (the first of equals): for '{ *, "valid": "#response#" }' that is the
 * value of the last "valid" member, and for '{"valid": #response#, *}' the
 * value up to the first comma.
 *
 * Cost: matching is linear in the response for any format. The format is
 * split at its '*' into literal pieces; the pieces before the capture are
 * found left to right, those after it right to left (leftmost first, which
 * is optimal for '*'-only globs), each with a Knuth-Morris-Pratt automaton
 * whose failure table is built here, once. The two pieces bordering the
 * capture are then searched in one forward sweep by two cursors, the second
 * trailing the first by the length of the piece after the capture, which
 * finds the shortest capture without storing candidates. Every byte of the
 * response is read at most four times: O(n + m), no backtracking. */
typedef struct {
    char pat[TKR_AUTHJWT_FORMAT_MAX + 1]; /* compacted, '*' between pieces,
                                             the capture and its optional
                                             quotes removed; NUL-terminated */
    size_t len;                           /* bytes in pat */
    size_t cap;                           /* where the capture sits in pat */
    uint8_t fail[TKR_AUTHJWT_FORMAT_MAX]; /* KMP failure table per piece */
} tkr_authjwt_format_t;

/* Compile text[0..len). TKR_E_INVALID_ARG when it has no "#response#",
 * more than one, or a '*' next to it; TKR_E_TOO_LARGE over
 * TKR_AUTHJWT_FORMAT_MAX. diag (may be NULL) says why. */
int tkr_authjwt_format_compile(tkr_authjwt_format_t *f, const char *text,
                               size_t len, tkr_diag_t *diag);

/* Match resp[0..len) against f. On success *cap_off and *cap_len give the
 * capture inside resp, surrounding whitespace and one pair of quotes
 * removed. TKR_E_NO_MATCH when the response does not have the format. */
int tkr_authjwt_format_match(const tkr_authjwt_format_t *f, const char *resp,
                             size_t len, size_t *cap_off, size_t *cap_len);

/* 1 when s[0..len), whitespace ignored, is valid|ok|true|t|yes|y|1 in any
 * case; else 0. */
int tkr_authjwt_word_valid(const char *s, size_t len);

/* The verifier's answer: status and body. With use_response_code, status
 * 200 alone means valid. Otherwise the status must be 200 and the body
 * must match f with a capture that tkr_authjwt_word_valid accepts.
 * 0 when valid; TKR_E_DENIED when the verifier says the token is not valid
 * (another status, or a capture such as "false"); TKR_E_NO_MATCH when the
 * body does not have the format. diag says why. */
int tkr_authjwt_response_check(const tkr_authjwt_format_t *f,
                               int use_response_code, int status,
                               const char *body, size_t len, tkr_diag_t *diag);

/* ---- the verification request ---- */

/* The request body: format (NULL or "" = "#token#") with every "#token#"
 * and "#kid#" replaced by token[0..token_len) and kid (NULL = ""),
 * JSON-escaped. Writes a NUL; TKR_E_BUFFER_TOO_SMALL when out is short. */
int tkr_authjwt_request_body(char *out, size_t out_size, size_t *out_len,
                             const char *format, const char *token,
                             size_t token_len, const char *kid);

/* The query string of a GET request (without '?'). For the bare "#token#"
 * format (the default): "token=" and the URL-encoded token, which is what
 * the quick start's issuer reads. For a format containing '=': the format
 * with "#token#" and "#kid#" replaced by their URL-encoded values, its own
 * text percent-encoded except '=' and '&' so its key=value structure stays.
 * For any other format: empty (the token travels only in the Authorization
 * header). Writes a NUL. */
int tkr_authjwt_request_query(char *out, size_t out_size, size_t *out_len,
                              const char *format, const char *token,
                              size_t token_len, const char *kid);

/* ---- local verification ---- */

/* A configured verification key, pinned to one algorithm. */
typedef struct {
    mbedtls_pk_context *pk;
    tkr_jwt_alg_t alg;
    const char *kid;         /* NULL: used for any kid */
} tkr_authjwt_key_t;

/* Check jwt's signature against keys[0..nkeys) and, when jwks is not NULL,
 * the key of the set its kid names. The header's alg must be one of ours
 * and the pinned one of the key that verifies: "none" and HS* are refused
 * (TKR_E_JWT_ALG) before any key is tried. TKR_E_NOT_FOUND when no key
 * fits the kid and alg (the caller may refresh its JWKS and retry),
 * TKR_E_SIGNATURE when the fitting keys do not verify it. */
int tkr_authjwt_verify_local(const tkr_jwt_t *jwt,
                             const tkr_authjwt_key_t *keys, size_t nkeys,
                             const tkr_jwks_t *jwks, tkr_diag_t *diag);

/* ---- claims and the certificate ---- */

typedef struct {
    const char *issuer;      /* iss must equal it; NULL: see trusted_uri */
    const char *audience;    /* aud must contain it; NULL: not checked */
    const char *trusted_uri; /* with issuer NULL, must start with iss + "/" */
    int64_t leeway;          /* seconds for exp and nbf */
    int64_t max_validity;    /* seconds; the certificate ends by now + this */
} tkr_authjwt_rules_t;

/* What the certificate says about its holder. */
typedef struct {
    char cn[TKR_AUTHJWT_CN_MAX];      /* sub */
    char org[TKR_AUTHJWT_HOST_MAX];   /* host of iss */
    int64_t not_before;               /* nbf, else iat, else now */
    int64_t not_after;                /* exp, capped at now + max_validity */
} tkr_authjwt_identity_t;

/* Check jwt's claims at time now and map them to the certificate: exp, iss
 * and sub required; exp/nbf within leeway; iss as rules say; aud when
 * configured; sub 1..64 bytes of UTF-8 without control characters; iss an
 * URL
 * with a host (or a bare host name). TKR_E_EXPIRED, TKR_E_NOT_YET_VALID,
 * TKR_E_ISS, TKR_E_AUD, TKR_E_SUB, TKR_E_CLAIM_MISSING, TKR_E_CLAIM_TYPE;
 * TKR_E_INVALID_ARG for rules without an issuer or a trusted URI. */
int tkr_authjwt_check_claims(tkr_authjwt_identity_t *id, const tkr_jwt_t *jwt,
                             const tkr_authjwt_rules_t *rules, int64_t now,
                             tkr_diag_t *diag);

/* "client" -> TKR_CERT_CLIENT, "server" -> TKR_CERT_SERVER, "ioc" -> both
 * (tokenroll/certwrite.h bits). TKR_E_INVALID_ARG for anything else. */
int tkr_authjwt_usage(unsigned *usage, const char *name);

/* ---- the whole check ---- */

/* One verification request to the trusted URI, for the caller to send. */
typedef struct {
    const char *method;      /* "GET" or "POST" */
    const char *query;       /* without '?'; "" when none */
    const char *bearer;      /* GET: the token for Authorization: Bearer */
    const char *body;        /* POST: the body; NULL for GET */
    size_t body_len;
} tkr_authjwt_call_t;

typedef struct {
    /* Local mode: keys and/or a JWKS. jwks() gives the current set (NULL:
     * none); with refresh set it may fetch it again first (the caller
     * limits how often), which happens once when no key has the token's
     * kid. The set stays valid until the next jwks() call. */
    const tkr_authjwt_key_t *keys;
    size_t nkeys;
    int (*jwks)(void *arg, int refresh, const tkr_jwks_t **set);

    /* Trusted-URI mode, when trusted_uri is set: call() sends c to it and
     * returns 0 with the answer's status and body (the caller's memory,
     * valid until the next call), or an error: TKR_E_TOO_LARGE for an
     * answer over its cap, TKR_E_NET, TKR_E_TIMEOUT, TKR_E_TLS... */
    const char *trusted_uri;
    const char *request_format;              /* NULL: "#token#" */
    int use_get;                             /* GET instead of POST */
    const tkr_authjwt_format_t *response_format;
    int use_response_code;
    int (*call)(void *arg, const tkr_authjwt_call_t *c, int *status,
                const char **body, size_t *body_len);

    /* Threads: when not NULL, called with 1 before and 0 after the local
     * checks (keys and set), which share mbedTLS key contexts that cache
     * values on first use and a set that jwks() may replace. */
    void (*lock)(void *arg, int on);

    void *arg;                               /* for jwks(), call(), lock() */
    tkr_authjwt_rules_t rules;               /* trusted_uri is set from above */
} tkr_authjwt_cfg_t;

/* Work space of tkr_authjwt_authenticate: the parsed token and the
 * request text (a token URL-encoded or JSON-escaped grows up to 6 times). */
typedef struct {
    tkr_jwt_t jwt;
    char token[TKR_JWT_MAX + 1];
    char req[6 * TKR_JWT_MAX];
} tkr_authjwt_work_t;

/* Authenticate token[0..len) at time now as cfg says and map it to id:
 * parse; refuse alg "none" in both modes; then either verify locally
 * (only RS256/PS256/ES256/ES384, each key's pinned algorithm) or ask the
 * trusted URI and read its answer; then the claims (tkr_authjwt_check_
 * claims). Nothing about the claims of a token is reported before its
 * signature or the verifier has vouched for it. Returns 0, or the first
 * failure and diag->msg saying why (diag->name: the claim, when one is
 * at fault); tkr_authjwt_http_status maps it to 401/403. The token itself
 * never appears in diag. */
int tkr_authjwt_authenticate(tkr_authjwt_identity_t *id,
                             tkr_authjwt_work_t *work,
                             const tkr_authjwt_cfg_t *cfg, const char *token,
                             size_t len, int64_t now, tkr_diag_t *diag);

/* The HTTP status for a failure of tkr_authjwt_authenticate: 403 when the
 * token is authentic but not for us (issuer, audience, subject), 500 for
 * the service's own faults (TKR_E_INVALID_ARG, TKR_E_CRYPTO, buffer
 * sizes), else 401: it could not be authenticated (signature, algorithm,
 * time, the verifier's refusal or silence). */
int tkr_authjwt_http_status(int rc);

/* ---- certificate identifiers ---- */

/* "<issuer-id>:<serial>", as PVXS names a certificate: the issuer id is the
 * first 4 bytes of SHA-256 over the issuer's Name (DER) in lowercase hex,
 * so a certificate alone names its CA, and the serial is in decimal. */
#define TKR_AUTHJWT_ISSUER_ID_LEN 8
/* A 20-byte serial (RFC 5280 §4.1.2.2) has at most 49 decimal digits. */
#define TKR_AUTHJWT_CERT_ID_MAX (TKR_AUTHJWT_ISSUER_ID_LEN + 1 + 49 + 1)
/* Serial as lowercase hex of its DER bytes, with NUL. */
#define TKR_AUTHJWT_SERIAL_HEX_MAX (2 * 20 + 1)

/* The issuer id of a Name (DER). */
int tkr_authjwt_issuer_id(char out[TKR_AUTHJWT_ISSUER_ID_LEN + 1],
                          const uint8_t *name_der, size_t len);

/* The identifier of crt. TKR_E_CERT for a serial that is empty, negative
 * or longer than 20 bytes. */
int tkr_authjwt_cert_id(char *out, size_t out_size,
                        const mbedtls_x509_crt *crt);

/* Split id into its issuer id and the serial as lowercase hex of its
 * minimal positive DER bytes (what a store that keys certificates by serial
 * holds). TKR_E_INVALID_ARG for anything but 8 hex digits, ':' and 1..49
 * decimal digits without a leading zero, or a serial over 20 bytes. */
int tkr_authjwt_cert_id_parse(char issuer[TKR_AUTHJWT_ISSUER_ID_LEN + 1],
                              char serial_hex[TKR_AUTHJWT_SERIAL_HEX_MAX],
                              const char *id);

#endif
