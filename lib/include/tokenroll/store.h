/* tokenroll/store.h — what the certificate service remembers.
 *
 * The service handlers (service.h) keep their state behind this interface:
 * spent tokens, enrolled entities, pending requests and the audit trail.
 * The library only declares it; the implementations (SQLite, PostgreSQL,
 * an in-memory one for tests and fuzzing) live with the program.
 *
 * Two operations spend a token, and each does it in the same transaction
 * as the record it justifies: a token use is never counted without its
 * certificate or pending request, and a certificate or pending request is
 * never recorded without its use. Up to max_uses uses per jti are granted,
 * atomically, also across processes sharing one database. */
#ifndef TOKENROLL_STORE_H
#define TOKENROLL_STORE_H

#include <stddef.h>
#include <stdint.h>

/* Text field sizes, with the NUL. */
#define TKR_STORE_NAME_MAX 256
#define TKR_STORE_SHORT_MAX 64      /* type, role, status, jti, request id */
#define TKR_STORE_ORG_MAX 256
#define TKR_STORE_SERIAL_MAX 48     /* hex, up to 20 octets */
#define TKR_STORE_FP_MAX 65         /* SHA-256, hex */
#define TKR_STORE_IP_MAX 64
#define TKR_STORE_PEM_MAX 8192      /* a certificate or CSR, PEM */
#define TKR_STORE_REASON_MAX 256    /* a revocation's or a reject's reason */
#define TKR_STORE_NOTIFY_MAX 4096   /* a pending request's notice receivers */

/* A recorded certificate's status. */
#define TKR_CERT_VALID   "VALID"
#define TKR_CERT_REVOKED "REVOKED"

/* One token use: the token's id and how many uses it allows, and the
 * audit line of the decision it pays for (NULL: none), written in the
 * same transaction: one commit per enrollment, and no decision without
 * its line. unread is 1 when the caller enrolls without having read the
 * name's history: enroll then also refuses (TKR_E_CONFLICT, nothing
 * spent) a name with any request in pending, whatever its status, so
 * that the caller reads that history and decides. A first enrollment,
 * the common case, is then one write and no read. */
typedef struct {
    const char *jti;
    int64_t max_uses;
    const char *audit;
    int unread;
} tkr_store_use_t;

/* An issued certificate. The last five members are read back from the
 * store; of them, writes take key_fp only (the token id comes from the
 * use that pays for it). */
typedef struct {
    char name[TKR_STORE_NAME_MAX];
    char type[TKR_STORE_SHORT_MAX];
    char org[TKR_STORE_ORG_MAX];        /* "" when none */
    char role[TKR_STORE_SHORT_MAX];     /* "" when none */
    char serial[TKR_STORE_SERIAL_MAX];  /* lowercase hex */
    char fingerprint[TKR_STORE_FP_MAX]; /* SHA-256 of the DER, lowercase hex */
    int64_t not_after;
    int64_t created;
    char cert[TKR_STORE_PEM_MAX];       /* PEM */
    char key_fp[TKR_STORE_FP_MAX];      /* SHA-256 of its public key (hex), so
                                           that a device that lost the answer
                                           gets it again; "" when unknown */
    char jti[TKR_STORE_SHORT_MAX];      /* the enrollment token that paid */
    char status[TKR_STORE_SHORT_MAX];   /* TKR_CERT_VALID or _REVOKED */
    int64_t revoked_at;                 /* 0 unless revoked */
    char reason[TKR_STORE_REASON_MAX];  /* the revocation's, or "" */
} tkr_store_entity_t;

/* Pending request states. */
#define TKR_PENDING_WAITING  "pending"
#define TKR_PENDING_APPROVED "approved"
#define TKR_PENDING_REJECTED "rejected"
#define TKR_PENDING_EXPIRED  "expired"

typedef struct {
    char request_id[TKR_STORE_SHORT_MAX];
    char name[TKR_STORE_NAME_MAX];
    char type[TKR_STORE_SHORT_MAX];
    char org[TKR_STORE_ORG_MAX];
    char role[TKR_STORE_SHORT_MAX];
    char jti[TKR_STORE_SHORT_MAX];
    char source_ip[TKR_STORE_IP_MAX];
    char key_fp[TKR_STORE_FP_MAX];      /* SHA-256 of the CSR's public key */
    char status[TKR_STORE_SHORT_MAX];   /* TKR_PENDING_* */
    char rule[TKR_STORE_NAME_MAX];      /* the policy rule that decided */
    int64_t created;
    int64_t expires;
    char csr[TKR_STORE_PEM_MAX];        /* PEM */
    char cert[TKR_STORE_PEM_MAX];       /* PEM once approved, else "" */
    char notify[TKR_STORE_NOTIFY_MAX];  /* where its notices go (JSON, the
                                           service's own), "" for nowhere */
} tkr_store_pending_t;

/* A notification waiting to be delivered: a JSON body to POST to url. */
#define TKR_STORE_URL_MAX 2048
#define TKR_STORE_NOTICE_MAX 8192
typedef struct {
    char id[TKR_STORE_SHORT_MAX];
    char url[TKR_STORE_URL_MAX];
    char body[TKR_STORE_NOTICE_MAX];
    int64_t attempts;                   /* deliveries tried so far */
    int64_t created;
} tkr_store_notice_t;

/* Called once per listed row; a non-zero return stops the listing and
 * becomes its result. */
typedef int (*tkr_store_entity_fn)(void *arg, const tkr_store_entity_t *e);
typedef int (*tkr_store_pending_fn)(void *arg, const tkr_store_pending_t *p);

/* Every operation returns 0 or a TKR_E_*: TKR_E_SPENT when the token has no
 * use left, TKR_E_CONFLICT when the name is already enrolled (or already
 * waiting), TKR_E_NOT_FOUND for a lookup that finds nothing, TKR_E_IO when
 * the database fails. After a failure nothing has changed. Implementations
 * are safe to call from several threads at once. */
typedef struct tkr_store_ops {
    /* Spend one use of `use` (when not NULL) and record e, and use->audit
     * when there is one. */
    int (*enroll)(void *ctx, const tkr_store_use_t *use,
                  const tkr_store_entity_t *e);
    /* Spend one use of `use` and record p (status "pending"), and
     * use->audit when there is one. */
    int (*pending_add)(void *ctx, const tkr_store_use_t *use,
                       const tkr_store_pending_t *p);
    /* The latest request for name and type (any status). */
    int (*pending_get)(void *ctx, const char *name, const char *type,
                       tkr_store_pending_t *p);
    /* Requests still waiting at time now, oldest first. */
    int (*pending_list)(void *ctx, int64_t now, tkr_store_pending_fn fn,
                        void *arg);
    /* Decide a waiting request: approve with its certificate e (recorded
     * as enrolled in the same transaction), or reject (e NULL).
     * TKR_E_NOT_FOUND when request_id is not waiting any more. */
    int (*pending_decide)(void *ctx, const char *request_id,
                          const tkr_store_entity_t *e);
    /* Mark requests waiting past their expiry as expired; *n counts them. */
    int (*pending_expire)(void *ctx, int64_t now, int64_t *n);
    int (*enrolled_get)(void *ctx, const char *name, const char *type,
                        tkr_store_entity_t *e);
    int (*enrolled_list)(void *ctx, tkr_store_entity_fn fn, void *arg);
    /* The certificate with this serial (lowercase hex), enrolled or
     * issued by the JWT authenticator. */
    int (*enrolled_by_serial)(void *ctx, const char *serial,
                              tkr_store_entity_t *e);
    /* Uses counted for jti (0 when never seen). */
    int (*token_uses)(void *ctx, const char *jti, int64_t *uses);
    /* Append one audit line (JSON) at time t. */
    int (*audit)(void *ctx, int64_t t, const char *line);
    /* Queue a notification (n->id, url, body, created), due at once. */
    int (*notice_add)(void *ctx, const tkr_store_notice_t *n);
    /* Take the oldest notification due at now and hold it until
     * lease_until, so that no other sender (another thread or node) takes
     * it meanwhile; TKR_E_NOT_FOUND when none is due. */
    int (*notice_take)(void *ctx, int64_t now, int64_t lease_until,
                       tkr_store_notice_t *n);
    /* Delivered: forget it. */
    int (*notice_done)(void *ctx, const char *id);
    /* Not delivered: try again at next_at, attempts counted. */
    int (*notice_retry)(void *ctx, const char *id, int64_t attempts,
                        int64_t next_at);
    /* Record a certificate the JWT authenticator issued, and its audit
     * line (NULL: none) in the same transaction: no enrollment token is
     * spent and a name may hold several (one per exchange), so it is kept
     * by serial, with its status (VALID). */
    int (*cert_add)(void *ctx, const tkr_store_entity_t *e, const char *audit);
    /* Revoke the certificate with this serial (enrolled or issued by the
     * JWT authenticator) at time t for reason ("" for none), and write
     * audit (NULL: none) in the same transaction; e gets the record as it
     * now stands. TKR_E_CONFLICT when it was revoked already (e then holds
     * the first revocation, which stays as it was; no audit line), and
     * TKR_E_NOT_FOUND when no certificate has the serial. */
    int (*revoke)(void *ctx, const char *serial, int64_t t, const char *reason,
                  const char *audit, tkr_store_entity_t *e);
    /* pending_get and enrolled_get of one name in a single read, as an
     * enrollment asks both: *has gets TKR_STORE_HAS_PENDING and
     * TKR_STORE_HAS_ENROLLED for what was found (p and e are set only
     * then). NULL: the service calls the two. */
    int (*name_get)(void *ctx, const char *name, const char *type,
                    tkr_store_pending_t *p, tkr_store_entity_t *e, unsigned *has);
} tkr_store_ops_t;

#define TKR_STORE_HAS_PENDING  1u
#define TKR_STORE_HAS_ENROLLED 2u

typedef struct {
    const tkr_store_ops_t *ops;
    void *ctx;
} tkr_store_t;

#endif
