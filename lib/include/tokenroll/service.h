/* tokenroll/service.h — the certificate service's handlers, without HTTP.
 *
 * A request (method, path, query, body, the Authorization header and the
 * client's address) goes in, a response (status, JSON body, Retry-After)
 * comes out; the HTTP server around it (cli/http.c) only moves bytes. The
 * routes and their rules are DESIGN.md's "Certificate service — HTTP API":
 *
 *   POST /api/v1/enroll                  token in the body
 *   POST /api/v1/token                   API key: mint tokens
 *   GET  /api/v1/pending[/<name>]        API key
 *   POST /api/v1/pending/<name>/approve|reject, /approve_batch, /reject_batch
 *   GET  /api/v1/enrolled                API key
 *   GET  /api/v1/ca-cert, /api/v1/ca-info, /health
 *   GET  /api/v1/cert/<issuer-id>:<serial>   VALID, EXPIRED or REVOKED;
 *        the id as PVXS prints it (tkr_authjwt_cert_id: the issuer's Name
 *        hashed, the serial in decimal)
 *   POST /api/v1/cert/<issuer-id>:<serial>/revoke   API key, {"reason"}
 *   POST /api/v1/authn/jwt               an identity provider's JWT and a
 *        CSR: the JWT authenticator (tokenroll/authjwt.h)
 *
 * Enrollment checks, in this order, and nothing about enrollment state is
 * revealed before the token passes: the token's signature (algorithm pinned
 * to the CA key's) and claims (exp, iat, jti, sub, subject_type, policy
 * required; iss = the CA's CN); the name and type against sub and
 * subject_type (a glob for pattern tokens); the CSR's proof of possession;
 * the token's source_ips and roles and the policy (approve, pending or
 * reject); then the store. A token use is spent only together with an
 * issued certificate or a recorded pending request.
 *
 * Host side: allocates (the response body, per-request work space). One
 * tkr_service_t serves every thread; the CA signer is per call (see
 * tkr_service_handle). */
#ifndef TOKENROLL_SERVICE_H
#define TOKENROLL_SERVICE_H

#include <stddef.h>
#include <stdint.h>

#include <mbedtls/pk.h>
#include <mbedtls/x509_crt.h>

#include "authjwt.h"
#include "certjson.h"
#include "config.h"
#include "envref.h"
#include "issue.h"
#include "jwt.h"
#include "policy.h"
#include "port.h"
#include "signer.h"
#include "store.h"

typedef struct {
    tkr_ca_t *ca;                /* the root CA: its certificate and CN
                                    (tokens' iss); the private key is not
                                    used from here */
    const char *ca_pem;          /* the certificate, PEM, for responses */
    tkr_store_t *store;
    const tkr_port_t *port;
    const char *api_key;         /* NULL or "": admin routes answer 403 */
    const tkr_policy_t *policy;  /* for minting: the service's policy */
    int64_t cert_days;           /* validity of issued certificates */
    int64_t pending_timeout;     /* seconds a pending request waits */
    int64_t retry_after;         /* seconds, in a 202's Retry-After */
    int64_t leeway;              /* clock skew tolerated on tokens, s */
    /* Checks token and CSR signatures faster than mbedTLS (jwt.h); NULL:
     * mbedTLS. */
    const tkr_sig_verifier_t *verifier;
    /* Called with each audit line (JSON, no newline) after the store has
     * it; NULL: the store only. */
    void (*audit)(void *arg, const char *line);
    void *audit_arg;
    /* Notifications: on each pending and rejected enrollment (and an
     * administrator's reject of a pending one, to the same receivers), a
     * JSON body is queued in the store for the token policy's webhook
     * (notifications.channels.webhook, ${NAME} resolved through notify_env)
     * and for each http(s) URL in the deciding rule's notify list; a
     * sender delivers them (the service never waits for one). NULL: none
     * are queued. */
    const tkr_envref_env_t *notify_env;
    /* The JWT authenticator (POST /api/v1/authn/jwt); NULL: 501. */
    const tkr_authjwt_cfg_t *jwt;
} tkr_service_t;

typedef struct {
    const char *method;          /* "GET", "POST", ... */
    const char *path;            /* percent-decoded, without the query */
    /* Value of a query parameter, or NULL; query may be NULL. */
    const char *(*query)(void *arg, const char *key);
    void *query_arg;
    const char *body;            /* may be NULL when body_len is 0 */
    size_t body_len;
    const char *authorization;   /* the header's value, or NULL */
    const char *client_ip;       /* text address, or NULL */
} tkr_service_req_t;

typedef struct {
    int status;                  /* HTTP status */
    char *body;                  /* NUL-terminated, owned */
    size_t len;
    const char *content_type;    /* static text */
    int64_t retry_after;         /* seconds; 0: no Retry-After header */
    char route[48];              /* the route's pattern, for the log */
    char name[TKR_STORE_NAME_MAX]; /* the enrollment name, for the log */
} tkr_service_resp_t;

void tkr_service_resp_init(tkr_service_resp_t *resp);
void tkr_service_resp_free(tkr_service_resp_t *resp);

/* Answer one request. ca_key is a CA signer for this call's use only
 * (tokenroll/signer.h: one context per thread). Returns 0
 * with resp filled (every failure the client caused or the service met is
 * a response: 4xx/5xx with {"error": "..."}), or TKR_E_NO_MEMORY when not
 * even an error response could be built. */
int tkr_service_handle(const tkr_service_t *svc, tkr_signer_t *ca_key,
                       const tkr_service_req_t *req, tkr_service_resp_t *resp);

#endif
