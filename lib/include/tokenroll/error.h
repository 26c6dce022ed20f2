/* tokenroll/error.h — return codes shared by every module, and the one
 * diagnostics record.
 *
 * Every function returns 0 or one of these negative codes. The codes name
 * the *kind* of failure so a caller can decide (retry, stop, report); an
 * mbedTLS error code is never a return value: a function that takes a
 * tkr_diag_t puts it there (diag->mbedtls) for whoever reports the
 * failure. */
#ifndef TOKENROLL_ERROR_H
#define TOKENROLL_ERROR_H

/* 1 (hosts): every error carries English words: tkr_strerror's names,
 * tkr_diag_t.msg, the enrollment result's message, the TLS problem.
 * 0 (flash-bound devices; `make cross-m4` builds with it): those words are
 * left out of the image (about 4 KB on a Cortex-M4). Codes, claim names in
 * tkr_diag_t.name and the enrollment log lines the documents name stay;
 * tkr_strerror(rc) then gives the code as decimal text ("-29"), which
 * this file names. It sizes nothing, so the link-time guard of
 * tokenroll/config.h does not spell it: objects built with either value
 * link together. It is here, not in config.h, so the ports can use it
 * without that guard. */
#ifndef TKR_DIAG_TEXT
#define TKR_DIAG_TEXT 1
#endif
#if TKR_DIAG_TEXT
#define TKR_TEXT(s) (s)
#else
#define TKR_TEXT(s) ""
#endif

#define TKR_OK                   0
#define TKR_E_INVALID_ARG       -1  /* NULL or contradictory arguments */
#define TKR_E_BUFFER_TOO_SMALL  -2  /* output does not fit the caller's buffer */
#define TKR_E_TOO_LARGE         -3  /* input over a documented size limit */
#define TKR_E_BASE64            -4  /* not strict base64url */
#define TKR_E_JSON              -5  /* malformed JSON text */
#define TKR_E_JSON_DEPTH        -6  /* nesting deeper than TKR_JSON_DEPTH_MAX */
#define TKR_E_JSON_DUPLICATE    -7  /* an object repeats a key */
#define TKR_E_JSON_TOKENS       -8  /* more JSON values than token slots */
#define TKR_E_NOT_FOUND         -9  /* key, file or JWKS entry absent */
#define TKR_E_TYPE             -10  /* JSON value of the wrong type */
#define TKR_E_RANGE            -11  /* number out of range */
#define TKR_E_JWT_FORMAT       -12  /* not header.payload.signature */
#define TKR_E_JWT_HEADER       -13  /* header lacks alg, or has bad members */
#define TKR_E_JWT_ALG          -14  /* alg differs from the pinned one */
#define TKR_E_JWT_CRIT         -15  /* header carries crit */
#define TKR_E_JWT_SIG_LEN      -16  /* signature of the wrong length */
#define TKR_E_SIGNATURE        -17  /* signature does not verify */
#define TKR_E_EXPIRED          -18  /* now >= exp + leeway */
#define TKR_E_NOT_YET_VALID    -19  /* now < nbf - leeway */
#define TKR_E_IAT_FUTURE       -20  /* iat later than now + leeway */
#define TKR_E_CLAIM_MISSING    -21  /* a required claim is absent */
#define TKR_E_CLAIM_TYPE       -22  /* a registered claim has the wrong type */
#define TKR_E_ISS              -23  /* iss differs from the expected issuer */
#define TKR_E_SUB              -24  /* sub differs from the expected subject */
#define TKR_E_AUD              -25  /* aud does not contain the audience */
#define TKR_E_KEY              -26  /* key unparsable or unusable */
#define TKR_E_KEY_ALG          -27  /* key type cannot do the algorithm */
#define TKR_E_KEY_MISMATCH     -28  /* private key does not match certificate */
#define TKR_E_CERT             -29  /* certificate unparsable or unusable */
#define TKR_E_CRYPTO           -30  /* the crypto library failed */
#define TKR_E_ENTROPY          -31  /* the port's entropy source failed */
#define TKR_E_IO               -32  /* storage read/write failed */
#define TKR_E_NET              -33  /* network failure */
#define TKR_E_TIMEOUT          -34  /* an operation ran out of time */
#define TKR_E_UNSUPPORTED      -35  /* valid but not implemented here */
#define TKR_E_UTF8             -36  /* invalid UTF-8 or lone surrogate */
#define TKR_E_POLICY           -37  /* policy document invalid */
#define TKR_E_YAML             -38  /* YAML syntax error */
#define TKR_E_NO_MEMORY        -39  /* an allocation failed (a fault of the
                                       host, not of the input) */
#define TKR_E_SPENT            -40  /* the token has no use left (max_uses) */
#define TKR_E_CONFLICT         -41  /* already enrolled, or already waiting */
#define TKR_E_HTTP             -42  /* malformed HTTP response */
#define TKR_E_TLS              -43  /* TLS handshake or certificate failure */
#define TKR_E_REJECTED         -44  /* the service refused the request (4xx) */
#define TKR_E_PENDING          -45  /* still awaiting approval at the deadline */

#define TKR_E_NO_MATCH         -46  /* text does not have the expected format */
#define TKR_E_DENIED           -47  /* a verifier said the token is not valid */

#define TKR_E_LAST             -47

/* A short, fixed English name for rc; never NULL, "unknown error" for
 * codes outside the table. Built with TKR_DIAG_TEXT 0: the code itself as
 * text ("-29"), "?" outside the table. */
const char *tkr_strerror(int rc);

/* The detail behind a code. A function that can say more than its code
 * takes an optional `tkr_diag_t *diag` (NULL: not wanted) as its last
 * argument and fills it when it fails; what it does not know stays empty
 * or zero. Clear it (tkr_diag_clear) before the call: functions only ever
 * set fields, so a caller's own context survives nested calls. The CLI prints it, a service turns it into a JSON error, and
 * neither parses text to decide anything. */
typedef struct {
    char msg[256];           /* one English sentence, "" when none */
    char name[64];           /* the claim, key, member path or argument */
    const char *file;        /* the input's name as the caller gave it, or
                                NULL; points at the caller's string */
    size_t offset;           /* byte offset in the input (has_offset) */
    int has_offset;
    int line, column;        /* 1-based; 0 when the input has no lines */
    int mbedtls;             /* the last mbedTLS error code, 0 when none */
} tkr_diag_t;

/* Empty every field. Safe with NULL. */
void tkr_diag_clear(tkr_diag_t *d);

/* Set name and msg (NULL leaves a field as it is), truncated to fit.
 * Returns rc, so a failure path reads `return tkr_diag(d, rc, ...)`. */
int tkr_diag(tkr_diag_t *d, int rc, const char *name, const char *msg);
#if !TKR_DIAG_TEXT
/* The sentence stays out of the image; the name is data callers test. */
#define tkr_diag(d, rc, name, msg) tkr_diag((d), (rc), (name), ((void)(msg), (const char *)0))
#endif

#endif
