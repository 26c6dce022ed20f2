/* tokenroll/enroll.h — the device's enrollment at boot (DESIGN.md, "Device
 * enrollment"), as one call.
 *
 * tkr_enroll_run:
 *   1. Already enrolled? <base>.crt chains to rootCA.pem, holds the key in
 *      <base>.key, names us (when neither the configuration nor a token
 *      says who we are, any name) and is valid by the port clock: report it
 *      and send nothing. (A commit left half-applied by a power cut is first
 *      rolled forward, see below.)
 *   2. Before any traffic the token must decode, be unexpired by the port
 *      clock and name us (sub == name, or sub a glob matching name for a
 *      `pattern` token), and its subject type must be ours.
 *   3. The key: the pending key of our own earlier request when there is
 *      one (so an approved request's certificate, issued for that key, is
 *      ours to take), else a new one, stored as pending (0600) before it is
 *      sent anywhere. The CSR: CN = name, O = org, OU = type, role.
 *   4. POST <service>/api/v1/enroll {"token","csr","metadata"} over TLS
 *      verified against rootCA.pem (http:// only with insecure_http).
 *   5. 200: the certificate must chain to rootCA.pem, hold our public key
 *      and name us; the returned CA must be that root. Then commit.
 *      202: wait (Retry-After, else exponential backoff, plus jitter) and
 *      ask again, up to the deadline. 4xx: stop with the service's message.
 *      Network, TLS transport or 5xx failures: retry with backoff.
 *
 * Commit: key, certificate and CA are first written together as one blob
 * (enrollment.commit, secret), which the port stores atomically; then the
 * three files are written from it, certificate last, and the blob is
 * removed. A power cut before the blob lands leaves the old state; after,
 * the next run (step 1) finishes the job from the blob. So a reader that
 * runs tkr_enroll_run first (start.sh does) never sees a key and a
 * certificate that do not belong together.
 *
 * Files (blob names through the port; dir + "/" + name, or name alone when
 * dir is empty, as on a flash store): client.crt/client.key (server.* for
 * a server, as FLARE's client writes them), rootCA.pem, pending.key,
 * enrollment.commit.
 *
 * Device-side: no heap of its own (mbedTLS allocates for keys, X.509 and
 * TLS), no printf family; every OS service comes from the port and the
 * caller's TCP transport. The token and the key never reach the log. */
#ifndef TOKENROLL_ENROLL_H
#define TOKENROLL_ENROLL_H

#include <stddef.h>
#include <stdint.h>

#include <mbedtls/pk.h>
#include <mbedtls/x509_crt.h>

#include "config.h"
#include "csr.h"
#include "http.h"
#include "jwt.h"
#include "port.h"
#include "tls.h"
#include "token.h"
#include "transport.h"

/* A certificate or CA as PEM (an RSA-4096 certificate is about 2 KB). */
#define TKR_ENROLL_PEM_MAX 4096
/* The request body: the token, the CSR (JSON-escaped) and the metadata. */
#define TKR_ENROLL_BODY_MAX (TKR_JWT_MAX + 2 * TKR_CSR_PEM_MAX + 1024)
/* The service's message kept for the caller (4xx, 202). */
#define TKR_ENROLL_MSG_MAX 256
/* The commit blob: a header line, a key, a certificate and the CA. */
#define TKR_ENROLL_COMMIT_MAX (64 + TKR_KEY_PEM_MAX + 2 * TKR_ENROLL_PEM_MAX)

typedef struct {
    const char *dir;          /* startup folder ("" on a flat store) */
    const char *name;         /* our name; NULL: the token's sub (not for
                                 pattern tokens) */
    const char *type;         /* client, server, relay, admin; NULL: the
                                 token's subject type, else client */
    const char *org;          /* O; NULL is sent as null */
    const char *role;         /* users' role; NULL is sent as null */
    tkr_key_type_t key_type;  /* for a new key */
    const char *token;        /* the enrollment token text */
    size_t token_len;
    const char *service_url;  /* https://host[:port][/prefix] */
    int insecure_http;        /* allow http:// (loopback tests only) */
    uint16_t max_frag_len;    /* TLS max fragment, 0 = default */
    uint32_t request_timeout_ms; /* one request; 0 = 30 s */
    uint32_t wait_s;          /* give up pending or unreachable after this */
} tkr_enroll_cfg_t;

typedef enum {
    TKR_ENROLL_ENROLLED = 0,  /* certificate stored now */
    TKR_ENROLL_ALREADY,       /* a valid certificate was there */
    TKR_ENROLL_PENDING,       /* still pending at the deadline */
    TKR_ENROLL_REJECTED,      /* the service said no (4xx) */
    TKR_ENROLL_UNREACHABLE,   /* network/TLS/5xx until the deadline */
    TKR_ENROLL_FAILED         /* anything else (the return code says) */
} tkr_enroll_outcome_t;

typedef struct {
    tkr_enroll_outcome_t outcome;
    int http_status;                 /* last status seen, 0 for none */
    int attempts;                    /* requests sent */
    int last_error;                  /* last transport error (TKR_E_*) */
    char message[TKR_ENROLL_MSG_MAX];  /* the service's words, or ours */
    char request_id[64];             /* of a pending request */
    char cert_path[TKR_PATH_MAX];    /* where the certificate is */
    char name[256];                  /* the name enrolled */
    const char *tls_problem;         /* why TLS failed, or NULL */
} tkr_enroll_result_t;

/* A parsed answer of POST /api/v1/enroll. */
typedef struct {
    int status;
    const char *certificate;  /* 200: unescaped into cert, NUL-terminated */
    const char *ca_cert;      /* 200: into ca */
    char message[TKR_ENROLL_MSG_MAX];  /* "error" (4xx/5xx) or "message" (202),
                                          control characters replaced */
    char request_id[64];      /* 202 */
} tkr_enroll_answer_t;

/* The whole workspace of one enrollment: keep it static or on a large
 * stack (about 54 KB with the defaults, most of it the decoded token and
 * the request body, which share their space). */
typedef struct {
    /* The token is decoded (jwt) only before the request body is written,
     * and the commit blob is built after the request: one buffer serves. */
    union {
        tkr_jwt_t jwt;
        uint8_t body[TKR_ENROLL_BODY_MAX];  /* request; then the commit blob */
    };
    mbedtls_pk_context key;
    mbedtls_x509_crt root;
    tkr_tls_t tls;
    tkr_http_url_t url;
    char path[TKR_PATH_MAX];
    char line[TKR_ENROLL_MSG_MAX + TKR_PATH_MAX];  /* one log line */
    char key_pem[TKR_KEY_PEM_MAX];
    char csr_pem[TKR_CSR_PEM_MAX];
    char cert_pem[TKR_ENROLL_PEM_MAX];
    char ca_pem[TKR_ENROLL_PEM_MAX];      /* rootCA.pem as stored */
    char resp_ca[TKR_ENROLL_PEM_MAX];     /* ca_cert of the answer */
    uint8_t resp[TKR_HTTP_RESPONSE_MAX];
    tkr_json_tok_t tok[32];
    tkr_token_info_t info;                /* the token's claims */
    tkr_enroll_answer_t ans;              /* the last answer */
} tkr_enroll_t;

void tkr_enroll_init(tkr_enroll_t *e);
/* Wipes the key and the token's claims. */
void tkr_enroll_free(tkr_enroll_t *e);

/* The boot-time flow above. tcp is the port's TCP transport, unconnected.
 * Returns 0 for ENROLLED and ALREADY; TKR_E_PENDING, TKR_E_REJECTED,
 * TKR_E_NET/TKR_E_TIMEOUT (unreachable), or the error that stopped it
 * (token: TKR_E_EXPIRED, TKR_E_SUB, TKR_E_JWT_*; TKR_E_TLS for a server
 * that failed verification; TKR_E_CERT for an answer that did not check;
 * TKR_E_IO for storage). res says what happened and why, in words. */
int tkr_enroll_run(tkr_enroll_t *e, tkr_enroll_result_t *res,
                   const tkr_enroll_cfg_t *cfg, tkr_transport_t *tcp,
                   const tkr_port_t *port);

/* ---- the steps, for a caller that drives its own transport ---- */

/* The request body for csr_pem and cfg's token and metadata (name and type
 * as resolved), JSON, into out. */
int tkr_enroll_request_body(char *out, size_t out_size, size_t *out_len,
                            const char *token, size_t token_len,
                            const char *csr_pem, const char *name,
                            const char *type, const char *org,
                            const char *role);


/* Read body[0..len) as the service's answer for status into ans; for 200
 * the two PEMs are unescaped into cert and ca (each TKR_ENROLL_PEM_MAX).
 * TKR_E_JSON* for a body that is not the documented object, TKR_E_TYPE or
 * TKR_E_NOT_FOUND for a 200 without both PEM strings, TKR_E_TOO_LARGE. A
 * 4xx or 202 body that does not parse still gives 0 with an empty
 * message: the status alone decides. */
int tkr_enroll_parse_answer(tkr_enroll_answer_t *ans, char *cert, char *ca,
                            tkr_json_tok_t *tok, size_t n_tok, int status,
                            const uint8_t *body, size_t len);

/* Check an issued certificate (PEM) against root: it chains to root,
 * holds key's public half, its CN is name (not checked when name is NULL),
 * and it is valid at now (port clock, allowed to be up to a minute before
 * notBefore; skipped when now < 0). 0, TKR_E_CERT (unparsable, does not
 * chain, not valid now), TKR_E_KEY_MISMATCH, TKR_E_SUB (other name). */
int tkr_enroll_check_cert(const char *cert_pem, mbedtls_x509_crt *root,
                          mbedtls_pk_context *key, const char *name,
                          int64_t now, const tkr_port_t *port);

/* Store key, certificate and CA as described above (commit blob, then the
 * files, then remove the blob). base is "client" or "server". */
int tkr_enroll_commit(tkr_enroll_t *e, const char *dir, const char *base,
                      const char *key_pem, const char *cert_pem,
                      const char *ca_pem, const tkr_port_t *port);

/* Finish a commit a power cut interrupted: 0 when there was none or it is
 * now applied, TKR_E_IO. */
int tkr_enroll_recover(tkr_enroll_t *e, const char *dir,
                       const tkr_port_t *port);

#endif
