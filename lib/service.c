/* service.c — the certificate service's handlers (no HTTP here). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mbedtls/md.h>
#include <mbedtls/platform_util.h>
#include <mbedtls/x509_csr.h>

#include "tokenroll/authjwt.h"
#include "tokenroll/certwrite.h"
#include "tokenroll/error.h"
#include "tokenroll/issue.h"
#include "tokenroll/json.h"
#include "tokenroll/key.h"
#include "tokenroll/service.h"
#include "tokenroll/token.h"

#define BODY_TOKENS 256

_Static_assert(TKR_ISSUE_CSR_MAX < TKR_STORE_PEM_MAX, "a pending request stores the whole CSR");
#define DAY 86400
/* Most entries of a roles or source_ips claim carried into a decision. */
#define CLAIM_LIST_MAX 64

void tkr_service_resp_init(tkr_service_resp_t *resp)
{
    memset(resp, 0, sizeof(*resp));
}

void tkr_service_resp_free(tkr_service_resp_t *resp)
{
    if (resp == NULL)
        return;
    free(resp->body);
    tkr_service_resp_init(resp);
}

/* ---- responses ---- */

/* Build a JSON body with fn into a buffer that grows until it fits. */
typedef int (*write_fn)(tkr_jsonw_t *w, void *arg);

static int respond(tkr_service_resp_t *resp, int status, write_fn fn, void *arg)
{
    size_t cap = 4096, len = 0;
    int rc;

    for (;;) {
        tkr_jsonw_t w;
        char *buf = malloc(cap);
        if (buf == NULL)
            return TKR_E_NO_MEMORY;
        tkr_jsonw_init(&w, buf, cap, 0);
        rc = fn(&w, arg);
        if (rc == 0)
            rc = tkr_jsonw_finish(&w, &len);
        if (rc == TKR_E_BUFFER_TOO_SMALL && cap < (64u << 20)) {
            free(buf);
            cap *= 4;
            continue;
        }
        if (rc != 0) {
            free(buf);
            return rc;
        }
        free(resp->body);
        resp->body = buf;
        resp->len = len;
        resp->status = status;
        resp->content_type = "application/json";
        return 0;
    }
}

static int write_error(tkr_jsonw_t *w, void *arg)
{
    tkr_jsonw_obj_begin(w);
    tkr_jsonw_key(w, "error");
    tkr_jsonw_str(w, arg);
    tkr_jsonw_obj_end(w);
    return 0;
}

/* {"error": msg}. Invalid UTF-8 from a client never reaches the text:
 * callers format only names the service has validated. */
static int fail(tkr_service_resp_t *resp, int status, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
static int fail(tkr_service_resp_t *resp, int status, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    int rc;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    rc = respond(resp, status, write_error, msg);
    if (rc == TKR_E_UTF8)
        rc = respond(resp, status, write_error, "invalid request");
    return rc;
}

static void set_name(tkr_service_resp_t *resp, const char *name)
{
    snprintf(resp->name, sizeof(resp->name), "%s", name);
}

/* ---- request bodies ---- */

typedef struct {
    tkr_json_t doc;
    tkr_json_tok_t tok[BODY_TOKENS];
} body_t;

static int parse_body(body_t *b, const tkr_service_req_t *req,
                      tkr_service_resp_t *resp)
{
    tkr_diag_t diag;
    int rc;

    if (req->body_len > TKR_SERVICE_BODY_MAX)
        return fail(resp, 413, "request body over %d bytes", TKR_SERVICE_BODY_MAX), -1;
    if (req->body == NULL || req->body_len == 0)
        return fail(resp, 400, "request body must be a JSON object"), -1;
    tkr_diag_clear(&diag);
    rc = tkr_json_parse(&b->doc, b->tok, BODY_TOKENS, req->body, req->body_len, &diag);
    if (rc != 0)
        return fail(resp, 400, "malformed JSON at byte %zu: %s", diag.offset,
                    tkr_strerror(rc)), -1;
    if (tkr_json_type(&b->doc, 0) != TKR_JSON_OBJECT)
        return fail(resp, 400, "request body must be a JSON object"), -1;
    return 0;
}

/* Optional string member of object obj: absent or null gives "" (FLARE's
 * client sends "org": null). 1 when present, 0 when absent/null, -1 for a
 * wrong type or a value that does not fit. */
static int opt_str(const tkr_json_t *doc, int obj, const char *key, char *out,
                   size_t size)
{
    int t = obj >= 0 ? tkr_json_find(doc, obj, key) : -1;

    out[0] = '\0';
    if (t < 0 || tkr_json_type(doc, t) == TKR_JSON_NULL)
        return 0;
    if (tkr_json_type(doc, t) != TKR_JSON_STRING ||
        tkr_json_get_str(doc, out, size, NULL, t) != 0)
        return -1;
    return 1;
}

/* 1 when s has 1 to 64 bytes (X.520's bound for a CN or an O, which the
 * certificate will carry) and no control character, nor a '/' unless
 * slash is 1. */
static int printable_ok(const char *s, int slash)
{
    size_t i, n = strlen(s);

    if (n == 0 || n > 64)
        return 0;
    for (i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f || (s[i] == '/' && !slash))
            return 0;
    return 1;
}

/* A name a certificate may carry: printable, no '/'. */
static int name_ok(const char *s)
{
    return printable_ok(s, 0);
}

/* A revocation's or a reject's reason: optional, printable, one line. */
static int reason_ok(const char *s)
{
    for (; *s != '\0'; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            return 0;
    return 1;
}

/* The optional "reason" member of the request's body (parsed, or none:
 * ntok 0) into out. 0, or -1 with the 400 answer in resp. */
static int body_reason(const body_t *b, tkr_service_resp_t *resp, char out[TKR_STORE_REASON_MAX])
{
    out[0] = '\0';
    if (b->doc.ntok > 0 &&
        (opt_str(&b->doc, 0, "reason", out, TKR_STORE_REASON_MAX) < 0 || !reason_ok(out)))
        return fail(resp, 400, "reason must be one line of at most %d bytes",
                    TKR_STORE_REASON_MAX - 1), -1;
    return 0;
}

/* ---- the token ---- */

#define AUDIT_LINE_MAX 1024

typedef struct {
    tkr_jwt_t jwt;
    tkr_token_info_t info;
    body_t body;
    char token[TKR_JWT_MAX + 1];
    char csr[TKR_STORE_PEM_MAX];     /* a pending request keeps it whole */
    char name[TKR_STORE_NAME_MAX], type[TKR_STORE_SHORT_MAX];
    char org[TKR_STORE_ORG_MAX], role[TKR_STORE_SHORT_MAX];
    char key_fp[65];
    char cert[TKR_STORE_PEM_MAX];
    tkr_store_entity_t entity;
    tkr_store_pending_t pending;
    char audit[AUDIT_LINE_MAX];      /* the decision's line, for the store */
    tkr_service_worker_t *wk;        /* NULL: nothing kept between requests */
} enroll_ws_t;

/* The token against the CA (tkr_token_verify: signature under the CA key's
 * algorithm, iss, exp), then the claims an enrollment token must carry.
 * diag->msg says what is wrong, for the client. */
static int verify_token(const tkr_service_t *svc, enroll_ws_t *ws, int64_t now,
                        tkr_diag_t *diag)
{
    int rc;

    tkr_diag_clear(diag);
    rc = tkr_jwt_parse(&ws->jwt, ws->token, strlen(ws->token), diag);
    if (rc == 0)
        rc = tkr_token_verify_with(&ws->jwt, svc->ca, svc->verifier, now, diag);
    if (rc == 0)
        rc = tkr_token_read(&ws->info, &ws->jwt);
    if (rc != 0) {
        if (diag->msg[0] == '\0')
            tkr_diag(diag, rc, NULL, tkr_strerror(rc));
        return rc;
    }
    if (!ws->info.has_iat || tkr_jwt_claim(&ws->jwt, "jti") < 0)
        return tkr_diag(diag, TKR_E_CLAIM_MISSING, NULL, "claims iat and jti are required");
    if (ws->info.iat > now + svc->leeway)
        return tkr_diag(diag, TKR_E_IAT_FUTURE, NULL, "token issued in the future (iat)");
    if (!ws->info.has_type)
        return tkr_diag(diag, TKR_E_CLAIM_MISSING, NULL, "claim subject_type is missing");
    if (ws->info.policy < 0)
        return tkr_diag(diag, TKR_E_CLAIM_MISSING, NULL, "claim policy is missing");
    return 0;
}

/* A member only when it has a value (audit lines leave the rest out). */
static void put_some(tkr_jsonw_t *w, const char *key, const char *v)
{
    if (v != NULL && v[0] != '\0') {
        tkr_jsonw_key(w, key);
        tkr_jsonw_str(w, v);
    }
}

/* One decision's audit line (JSON, no newline) into line; 0, or -1 when
 * it does not fit. */
static int audit_line(char line[AUDIT_LINE_MAX], int64_t now, const char *event,
                      const char *name, const char *type, const char *decision,
                      const char *rule, const char *jti, const char *ip,
                      const char *serial, const char *reason)
{
    tkr_jsonw_t w;

    tkr_jsonw_init(&w, line, AUDIT_LINE_MAX, 0);
    tkr_jsonw_obj_begin(&w);
    tkr_jsonw_key(&w, "time");
    tkr_jsonw_i64(&w, now);
    tkr_jsonw_key(&w, "event");
    tkr_jsonw_str(&w, event);
    tkr_jsonw_key(&w, "name");
    tkr_jsonw_str(&w, name);
    tkr_jsonw_key(&w, "type");
    tkr_jsonw_str(&w, type);
    tkr_jsonw_key(&w, "decision");
    tkr_jsonw_str(&w, decision);
    put_some(&w, "rule", rule);
    put_some(&w, "jti", jti);
    put_some(&w, "ip", ip);
    put_some(&w, "serial", serial);
    put_some(&w, "reason", reason);
    tkr_jsonw_obj_end(&w);
    return tkr_jsonw_finish(&w, NULL) != 0 ? -1 : 0;
}

/* A line the store has already recorded, to the host's hook. */
static void audit_hook(const tkr_service_t *svc, const char *line)
{
    if (line != NULL && svc->audit != NULL)
        svc->audit(svc->audit_arg, line);
}

/* A decision's audit line, with a reason, to the store and the host's
 * hook. */
static void audit_why(const tkr_service_t *svc, const char *event, const char *name,
                      const char *type, const char *decision, const char *rule,
                      const char *jti, const char *ip, const char *serial,
                      const char *reason)
{
    char line[AUDIT_LINE_MAX];
    int64_t now = tkr_port_time(svc->port);

    if (audit_line(line, now, event, name, type, decision, rule, jti, ip, serial,
                   reason) != 0)
        return;
    svc->store->ops->audit(svc->store->ctx, now, line);
    if (svc->audit != NULL)
        svc->audit(svc->audit_arg, line);
}

static void audit(const tkr_service_t *svc, const char *event, const char *name,
                  const char *type, const char *decision, const char *rule,
                  const char *jti, const char *ip, const char *serial)
{
    audit_why(svc, event, name, type, decision, rule, jti, ip, serial, NULL);
}

typedef struct {
    const char *cert, *ca;
} cert_body_t;

static int write_cert(tkr_jsonw_t *w, void *arg)
{
    const cert_body_t *c = arg;

    tkr_jsonw_obj_begin(w);
    tkr_jsonw_key(w, "certificate");
    tkr_jsonw_str(w, c->cert);
    tkr_jsonw_key(w, "ca_cert");
    tkr_jsonw_str(w, c->ca);
    tkr_jsonw_obj_end(w);
    return 0;
}

static int answer_cert(const tkr_service_t *svc, tkr_service_resp_t *resp,
                       const char *cert)
{
    cert_body_t c = {cert, svc->ca_pem};
    return respond(resp, 200, write_cert, &c);
}

typedef struct {
    const char *request_id, *message;
} pending_body_t;

static int write_pending(tkr_jsonw_t *w, void *arg)
{
    const pending_body_t *p = arg;

    tkr_jsonw_obj_begin(w);
    tkr_jsonw_key(w, "status");
    tkr_jsonw_str(w, "pending");
    tkr_jsonw_key(w, "request_id");
    tkr_jsonw_str(w, p->request_id);
    tkr_jsonw_key(w, "message");
    tkr_jsonw_str(w, p->message);
    tkr_jsonw_obj_end(w);
    return 0;
}

static int answer_pending(const tkr_service_t *svc, tkr_service_resp_t *resp,
                          const char *request_id, const char *message)
{
    pending_body_t p = {request_id,
                        message != NULL && message[0] != '\0'
                            ? message
                            : "Enrollment request is pending approval"};
    int rc = respond(resp, 202, write_pending, &p);

    resp->retry_after = svc->retry_after;
    return rc;
}

/* ---- notifications ---- */

static void put_opt(tkr_jsonw_t *w, const char *key, const char *v)
{
    tkr_jsonw_key(w, key);
    if (v != NULL && v[0] != '\0')
        tkr_jsonw_str(w, v);
    else
        tkr_jsonw_null(w);
}

/* One event to announce. */
typedef struct {
    const char *event, *name, *type, *org, *role, *request_id, *rule, *message, *ip, *jti;
} notice_ev_t;

static void queue_one(const tkr_service_t *svc, tkr_store_notice_t *n, const char *url,
                      const notice_ev_t *ev)
{
    snprintf(n->url, sizeof(n->url), "%s", url);
    if (tkr_uuid_v4(n->id, svc->port) != 0 ||
        svc->store->ops->notice_add(svc->store->ctx, n) != 0)
        audit(svc, "notify", ev->name, ev->type, "not-queued", url, ev->jti, ev->ip, NULL);
}

/* Where a decision's notices go, from the token's policy: the webhook
 * (notifications.channels.webhook, ${NAME} resolved through notify_env)
 * and the http(s) entries of the deciding rule's notify list, with the
 * project and that whole list (e-mail addresses stay in the body for the
 * receiver: the service sends no e-mail), as JSON {"project", "notify",
 * "urls"}: a pending request keeps it, so that an administrator's later
 * reject is announced to the same receivers. out is "" when nothing is to
 * be sent. Returns the NOTICE_* problems met, for notice_audit once the
 * decision is recorded (a request that fails leaves no line). */
enum { NOTICE_EMAIL = 1, NOTICE_WEBHOOK = 2, NOTICE_TOO_MANY = 4 };

static unsigned notice_targets(const tkr_service_t *svc, const tkr_policy_t *pol,
                               const tkr_policy_decision_t *d, char *out, size_t size)
{
    unsigned problems = 0;
    const tkr_policy_rule_t *rule = NULL;
    char url[TKR_STORE_URL_MAX];
    tkr_jsonw_t w;
    size_t i, len;

    out[0] = '\0';
    if (svc->notify_env == NULL || svc->store->ops->notice_add == NULL ||
        !pol->notifications_enabled)
        return 0;
    for (i = 0; i < pol->n_rules && rule == NULL; i++)
        if (d->rule != NULL && strcmp(pol->rules[i].name, d->rule) == 0)
            rule = &pol->rules[i];
    if (pol->email_enabled)
        problems |= NOTICE_EMAIL;
    tkr_jsonw_init(&w, out, size - 1, 0);
    tkr_jsonw_obj_begin(&w);
    put_opt(&w, "project", pol->project);
    tkr_jsonw_key(&w, "notify");
    tkr_jsonw_arr_begin(&w);
    for (i = 0; rule != NULL && i < rule->n_notify; i++)
        tkr_jsonw_str(&w, rule->notify[i]);
    tkr_jsonw_arr_end(&w);
    tkr_jsonw_key(&w, "urls");
    tkr_jsonw_arr_begin(&w);
    if (pol->webhook_enabled) {
        if (tkr_policy_webhook_url(pol, svc->notify_env, url, sizeof(url), &len, NULL) == 0)
            tkr_jsonw_str(&w, url);
        else
            problems |= NOTICE_WEBHOOK;
    }
    for (i = 0; rule != NULL && i < rule->n_notify; i++)
        if (strncmp(rule->notify[i], "https://", 8) == 0 ||
            strncmp(rule->notify[i], "http://", 7) == 0)
            tkr_jsonw_str(&w, rule->notify[i]);
    tkr_jsonw_arr_end(&w);
    tkr_jsonw_obj_end(&w);
    if (tkr_jsonw_finish(&w, &len) != 0) {
        problems |= NOTICE_TOO_MANY;
        out[0] = '\0';
    }
    return problems;
}

/* The audit lines of notice_targets' problems. */
static void notice_audit(const tkr_service_t *svc, const notice_ev_t *ev, unsigned problems)
{
    if (problems & NOTICE_EMAIL)
        audit(svc, "notify", ev->name, ev->type, "email-unsupported", ev->rule, ev->jti,
              ev->ip, NULL);
    if (problems & NOTICE_WEBHOOK)
        audit(svc, "notify", ev->name, ev->type, "not-queued", "webhook url unusable", ev->jti,
              ev->ip, NULL);
    if (problems & NOTICE_TOO_MANY)
        audit(svc, "notify", ev->name, ev->type, "not-queued", "receivers too many", ev->jti,
              ev->ip, NULL);
}

/* doc's top-level member key as it is (null when absent). */
static void copy_member(tkr_jsonw_t *w, const tkr_json_t *doc, const char *key)
{
    int t = tkr_json_find(doc, 0, key);

    tkr_jsonw_key(w, key);
    if (t >= 0)
        tkr_jsonw_value(w, doc, t);
    else
        tkr_jsonw_null(w);
}

/* Queue ev's notice, a JSON body, for each URL of targets
 * (notice_targets'). The answer to the request never waits for a
 * delivery. */
static void queue_notices(const tkr_service_t *svc, const char *targets,
                          const notice_ev_t *ev, int64_t now)
{
    enum { TARGET_TOKENS = 256 };
    tkr_store_notice_t *n;
    tkr_json_tok_t *tok;
    tkr_json_t doc;
    tkr_jsonw_t w;
    size_t len;
    int urls, i;

    if (targets == NULL || targets[0] == '\0')
        return;
    n = calloc(1, sizeof(*n));
    tok = malloc(TARGET_TOKENS * sizeof(*tok));
    if (n == NULL || tok == NULL ||
        tkr_json_parse(&doc, tok, TARGET_TOKENS, targets, strlen(targets), NULL) != 0 ||
        (urls = tkr_json_find(&doc, 0, "urls")) < 0) {
        audit(svc, "notify", ev->name, ev->type, "not-queued", "receivers unreadable", ev->jti,
              ev->ip, NULL);
        free(n);
        free(tok);
        return;
    }
    n->created = now;
    tkr_jsonw_init(&w, n->body, sizeof(n->body) - 1, 0);
    tkr_jsonw_obj_begin(&w);
    tkr_jsonw_key(&w, "event");
    tkr_jsonw_str(&w, ev->event);
    tkr_jsonw_key(&w, "time");
    tkr_jsonw_i64(&w, now);
    copy_member(&w, &doc, "project");
    tkr_jsonw_key(&w, "name");
    tkr_jsonw_str(&w, ev->name);
    tkr_jsonw_key(&w, "entity_type");
    tkr_jsonw_str(&w, ev->type);
    put_opt(&w, "org", ev->org);
    put_opt(&w, "role", ev->role);
    put_opt(&w, "request_id", ev->request_id);
    put_opt(&w, "rule", ev->rule);
    put_opt(&w, "message", ev->message);
    put_opt(&w, "source_ip", ev->ip);
    copy_member(&w, &doc, "notify");
    tkr_jsonw_obj_end(&w);
    if (tkr_jsonw_finish(&w, &len) != 0) {
        audit(svc, "notify", ev->name, ev->type, "not-queued", "body too large", ev->jti,
              ev->ip, NULL);
    } else {
        for (i = 0; i < tkr_json_count(&doc, urls); i++) {
            char url[TKR_STORE_URL_MAX];
            if (tkr_json_get_str(&doc, url, sizeof(url), NULL,
                                 tkr_json_child(&doc, urls, i)) == 0)
                queue_one(svc, n, url, ev);
        }
    }
    free(tok);
    free(n);
}

/* The certificate already issued to this request's key, for a device that
 * asks again because it lost the first answer (a power cut before it
 * stored it): the enrolled certificate of the name when the same token
 * paid for it with the same key, or when the approved request had that
 * key (approved_key). 1 when resp is final (the certificate, or 403 when it
 * was revoked meanwhile), else 0. */
static int reissue(const tkr_service_t *svc, enroll_ws_t *ws, tkr_service_resp_t *resp,
                   const tkr_store_entity_t *e, int approved_key, int *rc)
{
    if (!approved_key &&
        (e->key_fp[0] == '\0' || strcmp(e->key_fp, ws->key_fp) != 0 ||
         strcmp(e->jti, ws->info.jti) != 0))
        return 0;
    if (strcmp(e->status, TKR_CERT_REVOKED) == 0)
        *rc = fail(resp, 403, "the certificate issued to %s was revoked", ws->name);
    else
        *rc = answer_cert(svc, resp, e->cert);
    return 1;
}

/* The store's answer for a name that already has history. 1 when resp is
 * final, 0 to go on with a new enrollment. */
static int known_name(const tkr_service_t *svc, enroll_ws_t *ws,
                      tkr_service_resp_t *resp, int64_t now, int *rc)
{
    const tkr_store_t *st = svc->store;
    unsigned has = 0;
    int r, approved_key = 0;

    /* One read for both when the store has it. */
    if (st->ops->name_get != NULL) {
        r = st->ops->name_get(st->ctx, ws->name, ws->type, &ws->pending, &ws->entity, &has);
        if (r != 0) {
            *rc = fail(resp, 500, "store failure");
            return 1;
        }
        r = has & TKR_STORE_HAS_PENDING ? 0 : TKR_E_NOT_FOUND;
    } else {
        r = st->ops->pending_get(st->ctx, ws->name, ws->type, &ws->pending);
    }
    if (r == 0) {
        tkr_store_pending_t *p = &ws->pending;
        int same_key = strcmp(p->key_fp, ws->key_fp) == 0;
        if (strcmp(p->status, TKR_PENDING_APPROVED) == 0 && same_key) {
            approved_key = 1;
        } else if (strcmp(p->status, TKR_PENDING_WAITING) == 0) {
            if (p->expires <= now)
                *rc = fail(resp, 403, "enrollment request %s expired", p->request_id);
            else if (same_key)
                *rc = answer_pending(svc, resp, p->request_id, NULL);
            else
                *rc = fail(resp, 409, "an enrollment request for %s is already pending",
                           ws->name);
            return 1;
        }
        if (strcmp(p->status, TKR_PENDING_REJECTED) == 0 &&
            strcmp(p->jti, ws->info.jti) == 0) {
            *rc = fail(resp, 403, "enrollment request %s was rejected", p->request_id);
            return 1;
        }
    } else if (r != TKR_E_NOT_FOUND) {
        *rc = fail(resp, 500, "store failure");
        return 1;
    }
    if (st->ops->name_get != NULL)
        r = has & TKR_STORE_HAS_ENROLLED ? 0 : TKR_E_NOT_FOUND;
    else
        r = st->ops->enrolled_get(st->ctx, ws->name, ws->type, &ws->entity);
    if (r == 0) {
        if (!reissue(svc, ws, resp, &ws->entity, approved_key, rc))
            *rc = fail(resp, 409, "%s is already enrolled", ws->name);
        return 1;
    }
    if (r != TKR_E_NOT_FOUND) {
        *rc = fail(resp, 500, "store failure");
        return 1;
    }
    if (approved_key) {
        /* Approved, yet not enrolled: the request's copy is all there is. */
        *rc = answer_cert(svc, resp, ws->pending.cert);
        return 1;
    }
    return 0;
}

static int store_failure(tkr_service_resp_t *resp, int r, const char *name)
{
    if (r == TKR_E_SPENT)
        return fail(resp, 401, "invalid token: token already used");
    if (r == TKR_E_CONFLICT)
        return fail(resp, 409, "%s is already enrolled or pending", name);
    return fail(resp, 500, "store failure");
}

/* Sign for csr's key into ws->entity, for the store. */
static int issue_entity(const tkr_service_t *svc, tkr_signer_t *ca_key, enroll_ws_t *ws,
                        mbedtls_x509_csr *csr, tkr_subject_type_t type, int64_t now)
{
    tkr_issue_req_t ir;
    tkr_issued_t is;
    tkr_store_entity_t *e = &ws->entity;
    size_t len = 0;
    int rc;

    memset(&ir, 0, sizeof(ir));
    ir.key = &csr->pk;
    ir.name = ws->name;
    ir.org = ws->org;
    ir.role = ws->role;
    ir.type = type;
    ir.now = now;
    ir.days = svc->cert_days;
    rc = tkr_issue_cert(ws->cert, sizeof(ws->cert), &len, &is, &ir, &svc->ca->cert, ca_key,
                        svc->port);
    if (rc != 0)
        return rc;
    memset(e, 0, sizeof(*e));
    snprintf(e->name, sizeof(e->name), "%s", ws->name);
    snprintf(e->type, sizeof(e->type), "%s", ws->type);
    snprintf(e->org, sizeof(e->org), "%s", ws->org);
    snprintf(e->role, sizeof(e->role), "%s", ws->role);
    snprintf(e->serial, sizeof(e->serial), "%s", is.serial);
    snprintf(e->fingerprint, sizeof(e->fingerprint), "%s", is.fingerprint);
    snprintf(e->key_fp, sizeof(e->key_fp), "%s", ws->key_fp);
    e->not_after = is.not_after;
    e->created = now;
    memcpy(e->cert, ws->cert, len + 1);
    return 0;
}

/* The token's policy claim, parsed: from the worker's slots when a claim
 * of the same bytes was parsed before, else parsed into own (and kept in
 * the least recently used slot). Only an object is kept: a string
 * token's bytes exclude its quotes, so a string and a number could share
 * them. *out points at the policy to use. */
static int token_policy(enroll_ws_t *ws, tkr_policy_t *own, const tkr_policy_t **out,
                        tkr_diag_t *diag)
{
    tkr_service_worker_t *wk = ws->wk;
    const tkr_json_t *doc = &ws->jwt.doc;
    const tkr_json_tok_t *t = &doc->tok[ws->info.policy];
    const char *text = doc->js + t->start;
    size_t i, len = (size_t)(t->end - t->start), victim = 0;
    tkr_service_policy_slot_t *slot;
    char *copy;
    int rc;

    *out = own;
    if (wk == NULL || tkr_json_type(doc, ws->info.policy) != TKR_JSON_OBJECT)
        return tkr_policy_load_json(own, doc, ws->info.policy, diag);
    wk->tick++;
    for (i = 0; i < TKR_SERVICE_POLICY_CACHE; i++) {
        slot = &wk->policies[i];
        if (slot->text != NULL && slot->len == len && memcmp(slot->text, text, len) == 0) {
            slot->used = wk->tick;
            *out = &slot->pol;
            return 0;
        }
        if (slot->used < wk->policies[victim].used)
            victim = i;
    }
    if ((rc = tkr_policy_load_json(own, doc, ws->info.policy, diag)) != 0)
        return rc;
    if ((copy = malloc(len)) == NULL)
        return 0; /* not kept: this request uses its own */
    memcpy(copy, text, len);
    slot = &wk->policies[victim];
    free(slot->text);
    tkr_policy_free(&slot->pol);
    slot->text = copy;
    slot->len = len;
    slot->pol = *own;
    slot->used = wk->tick;
    tkr_policy_init(own);
    *out = &slot->pol;
    return 0;
}

static int request_id(char out[TKR_UUID_LEN + 1], const tkr_port_t *port)
{
    return tkr_uuid_v4(out, port);
}

static int enroll(const tkr_service_t *svc, tkr_signer_t *ca_key,
                  const tkr_service_req_t *req, tkr_service_resp_t *resp,
                  enroll_ws_t *ws)
{
    int64_t now = tkr_port_time(svc->port);
    const tkr_json_t *doc = &ws->body.doc;
    tkr_subject_type_t type = TKR_SUBJECT_CLIENT, tok_type;
    tkr_policy_t own;
    const tkr_policy_t *pol = &own;
    tkr_policy_request_t pr;
    tkr_policy_decision_t d;
    tkr_diag_t diag;
    mbedtls_x509_csr csr;
    tkr_store_use_t use;
    notice_ev_t ev;
    unsigned problems;
    const char *ip = req->client_ip;
    int meta, rc, store_rc = 0;

    memset(&ev, 0, sizeof(ev));
    if (parse_body(&ws->body, req, resp) != 0)
        return 0;
    meta = tkr_json_find(doc, 0, "metadata");
    if (meta >= 0 && tkr_json_type(doc, meta) == TKR_JSON_NULL)
        meta = -1;
    if (meta >= 0 && tkr_json_type(doc, meta) != TKR_JSON_OBJECT)
        return fail(resp, 400, "metadata must be an object");
    if (opt_str(doc, 0, "token", ws->token, sizeof(ws->token)) != 1)
        return fail(resp, 400, "token is required (a string of at most %d bytes)", TKR_JWT_MAX);
    if (opt_str(doc, 0, "csr", ws->csr, sizeof(ws->csr)) != 1)
        return fail(resp, 400, "csr is required (PEM, at most %d bytes)", TKR_ISSUE_CSR_MAX);
    if (opt_str(doc, meta, "name", ws->name, sizeof(ws->name)) != 1 || !name_ok(ws->name))
        return fail(resp, 400, "metadata.name is required (1-64 printable characters, no '/')");
    set_name(resp, ws->name);
    if (opt_str(doc, meta, "type", ws->type, sizeof(ws->type)) < 0 ||
        opt_str(doc, meta, "org", ws->org, sizeof(ws->org)) < 0 ||
        opt_str(doc, meta, "role", ws->role, sizeof(ws->role)) < 0)
        return fail(resp, 400, "metadata.type, org and role must be strings or null");
    if (ws->org[0] != '\0' && !printable_ok(ws->org, 1))
        return fail(resp, 400, "metadata.org must be at most 64 printable characters");
    if (ws->type[0] != '\0' &&
        (tkr_subject_type_parse(ws->type, &type) != 0 || type == TKR_SUBJECT_PATTERN))
        return fail(resp, 400, "metadata.type must be client, admin, relay or server");
    snprintf(ws->type, sizeof(ws->type), "%s", tkr_subject_type_name(type));

    /* 1. The token: nothing about the name's state before it passes. */
    if (verify_token(svc, ws, now, &diag) != 0)
        return fail(resp, 401, "invalid token: %s", diag.msg);
    tok_type = ws->info.type;
    /* 2. Name and type (a pattern token admits the clients its glob
     * matches). */
    tkr_diag_clear(&diag);
    if (tkr_token_admits(&ws->info, ws->name, type, &diag) != 0) {
        if (strcmp(diag.name, "subject_type") == 0)
            return fail(resp, 403, "token is for a %s, not a %s",
                        tkr_subject_type_name(tok_type), ws->type);
        if (tok_type == TKR_SUBJECT_PATTERN)
            return fail(resp, 403, "token does not allow %s (pattern %s)", ws->name,
                        ws->info.subject);
        return fail(resp, 403, "token is for %s, not %s", ws->info.subject, ws->name);
    }
    /* The request's key proves possession before anything is decided. */
    mbedtls_x509_csr_init(&csr);
    tkr_diag_clear(&diag);
    rc = tkr_csr_check_with(&csr, (const uint8_t *)ws->csr, strlen(ws->csr) + 1,
                            svc->verifier, &diag);
    if (rc != 0) {
        mbedtls_x509_csr_free(&csr);
        return fail(resp, 400, "invalid CSR: %s", diag.msg);
    }
    if (tkr_pubkey_fingerprint(ws->key_fp, &csr.pk) != 0) {
        mbedtls_x509_csr_free(&csr);
        return fail(resp, 500, "cannot read the CSR's key");
    }
    /* 3, 4. The token's source_ips and roles, then the policy it carries. */
    tkr_policy_init(&own);
    memset(&pr, 0, sizeof(pr));
    tkr_diag_clear(&diag);
    if (tkr_policy_request_from_token(&pr, &ws->jwt, &diag) != 0) {
        rc = fail(resp, 401, "invalid token: %s %s", diag.name, diag.msg);
        goto out;
    }
    tkr_diag_clear(&diag);
    if (token_policy(ws, &own, &pol, &diag) != 0) {
        rc = fail(resp, 401, "invalid token: its policy is invalid: %s", diag.msg);
        goto out;
    }
    pr.name = ws->name;
    pr.type = type;
    pr.ip = ip;
    pr.role = ws->role[0] != '\0' ? ws->role : NULL;
    if (tkr_policy_eval(pol, &pr, &d) != 0) {
        rc = fail(resp, 400, "cannot evaluate the enrollment policy");
        goto out;
    }
    if (type == TKR_SUBJECT_ADMIN && ws->role[0] == '\0' && pol->default_role != NULL)
        snprintf(ws->role, sizeof(ws->role), "%s", pol->default_role);
    ev.name = ws->name;
    ev.type = ws->type;
    ev.org = ws->org;
    ev.role = ws->role;
    ev.rule = d.rule;
    ev.message = d.message;
    ev.ip = ip;
    ev.jti = ws->info.jti;
    if (d.action == TKR_ACTION_REJECT) {
        audit(svc, "enroll", ws->name, ws->type, "reject", d.rule, ws->info.jti, ip, NULL);
        ev.event = "rejected";
        notice_audit(svc, &ev, notice_targets(svc, pol, &d, ws->pending.notify,
                                              sizeof(ws->pending.notify)));
        queue_notices(svc, ws->pending.notify, &ev, now);
        rc = fail(resp, 403, "enrollment rejected by policy (%s)%s%s", d.rule,
                  d.message ? ": " : "", d.message ? d.message : "");
        goto out;
    }
    use.jti = ws->info.jti;
    use.max_uses = ws->info.max_uses;
    /* The decision's audit line goes in with what it decided. */
    use.audit = ws->audit;
    use.unread = 0;
    if (d.action == TKR_ACTION_PENDING) {
        tkr_store_pending_t *p = &ws->pending;
        /* Only now: what the store knows about the name. */
        if (known_name(svc, ws, resp, now, &rc))
            goto out;
        memset(p, 0, sizeof(*p));
        if (request_id(p->request_id, svc->port) != 0) {
            rc = fail(resp, 500, "entropy source failed");
            goto out;
        }
        snprintf(p->name, sizeof(p->name), "%s", ws->name);
        snprintf(p->type, sizeof(p->type), "%s", ws->type);
        snprintf(p->org, sizeof(p->org), "%s", ws->org);
        snprintf(p->role, sizeof(p->role), "%s", ws->role);
        snprintf(p->jti, sizeof(p->jti), "%s", ws->info.jti);
        snprintf(p->source_ip, sizeof(p->source_ip), "%s", ip ? ip : "");
        snprintf(p->key_fp, sizeof(p->key_fp), "%s", ws->key_fp);
        snprintf(p->rule, sizeof(p->rule), "%s", d.rule);
        snprintf(p->csr, sizeof(p->csr), "%s", ws->csr);
        p->created = now;
        p->expires = now + svc->pending_timeout;
        ev.event = "pending";
        ev.request_id = p->request_id;
        problems = notice_targets(svc, pol, &d, p->notify, sizeof(p->notify));
        if (audit_line(ws->audit, now, "enroll", ws->name, ws->type, "pending", d.rule,
                       ws->info.jti, ip, NULL, NULL) != 0)
            use.audit = NULL;
        store_rc = svc->store->ops->pending_add(svc->store->ctx, &use, p);
        if (store_rc != 0) {
            rc = store_failure(resp, store_rc, ws->name);
            goto out;
        }
        audit_hook(svc, use.audit);
        notice_audit(svc, &ev, problems);
        queue_notices(svc, p->notify, &ev, now);
        rc = answer_pending(svc, resp, p->request_id, d.message);
        goto out;
    }
    /* A first enrollment, the common case, is one write: the store is not
     * read before it, and refuses when the token is spent or the name has
     * any history. Then (only now) what the store knows about the name
     * answers, as it would have before the signature; a name still free
     * after all gets a new certificate, as the first one named the
     * history unread. */
    for (use.unread = 1;; use.unread = 0) {
        if (issue_entity(svc, ca_key, ws, &csr, type, now) != 0) {
            rc = fail(resp, 500, "signing the certificate failed");
            goto out;
        }
        use.audit = ws->audit;
        if (audit_line(ws->audit, now, "enroll", ws->name, ws->type, "approve", d.rule,
                       ws->info.jti, ip, ws->entity.serial, NULL) != 0)
            use.audit = NULL;
        store_rc = svc->store->ops->enroll(svc->store->ctx, &use, &ws->entity);
        if (!use.unread || (store_rc != TKR_E_SPENT && store_rc != TKR_E_CONFLICT))
            break;
        if (known_name(svc, ws, resp, now, &rc))
            goto out;
        if (store_rc == TKR_E_SPENT)
            break;
    }
    if (store_rc == TKR_E_SPENT || store_rc == TKR_E_CONFLICT) {
        /* A retry that raced its own first request (the device gave up
         * waiting and asked again): the one that won has the name, and
         * this key gets what it got. */
        if (svc->store->ops->enrolled_get(svc->store->ctx, ws->name, ws->type,
                                          &ws->entity) == 0 &&
            reissue(svc, ws, resp, &ws->entity, 0, &rc))
            goto out;
    }
    if (store_rc != 0) {
        rc = store_failure(resp, store_rc, ws->name);
        goto out;
    }
    audit_hook(svc, use.audit);
    rc = answer_cert(svc, resp, ws->cert);
out:
    tkr_policy_request_free(&pr);
    tkr_policy_free(&own);
    mbedtls_x509_csr_free(&csr);
    return rc;
}

/* ---- admin routes ---- */

/* Bearer token against the API key, in time independent of where they
 * differ. */
static int authorized(const tkr_service_t *svc, const tkr_service_req_t *req)
{
    const char *h = req->authorization, *k = svc->api_key;
    size_t i, n, kn;
    unsigned diff = 0;

    if (k == NULL || k[0] == '\0' || h == NULL || strncmp(h, "Bearer ", 7) != 0)
        return 0;
    h += 7;
    n = strlen(h);
    kn = strlen(k);
    for (i = 0; i < kn; i++)
        diff |= (unsigned)(unsigned char)k[i] ^ (unsigned)(unsigned char)(i < n ? h[i] : 0);
    return diff == 0 && n == kn;
}

/* Who a pending or enrolled row is about: the same four members in both
 * lists, an empty org or role as null (as FLARE's client sends them). */
static void write_party(tkr_jsonw_t *w, const char *name, const char *type,
                        const char *org, const char *role)
{
    tkr_jsonw_key(w, "name");
    tkr_jsonw_str(w, name);
    tkr_jsonw_key(w, "entity_type");
    tkr_jsonw_str(w, type);
    put_opt(w, "org", org);
    put_opt(w, "role", role);
}

static void write_pending_item(tkr_jsonw_t *w, const tkr_store_pending_t *p)
{
    tkr_jsonw_obj_begin(w);
    tkr_jsonw_key(w, "request_id");
    tkr_jsonw_str(w, p->request_id);
    write_party(w, p->name, p->type, p->org, p->role);
    tkr_jsonw_key(w, "source_ip");
    tkr_jsonw_str(w, p->source_ip);
    tkr_jsonw_key(w, "status");
    tkr_jsonw_str(w, p->status);
    tkr_jsonw_key(w, "rule");
    tkr_jsonw_str(w, p->rule);
    tkr_jsonw_key(w, "created_at");
    tkr_jsonw_i64(w, p->created);
    tkr_jsonw_key(w, "expires_at");
    tkr_jsonw_i64(w, p->expires);
    tkr_jsonw_obj_end(w);
}

static int list_pending_row(void *arg, const tkr_store_pending_t *p)
{
    write_pending_item(arg, p);
    return 0;
}

typedef struct {
    const tkr_service_t *svc;
    int store_rc;
} list_t;

static int write_pending_list(tkr_jsonw_t *w, void *arg)
{
    list_t *l = arg;
    const tkr_store_t *st = l->svc->store;

    tkr_jsonw_obj_begin(w);
    tkr_jsonw_key(w, "pending");
    tkr_jsonw_arr_begin(w);
    l->store_rc = st->ops->pending_list(st->ctx, tkr_port_time(l->svc->port),
                                        list_pending_row, w);
    tkr_jsonw_arr_end(w);
    tkr_jsonw_obj_end(w);
    return l->store_rc != 0 ? TKR_E_IO : 0;
}

static int list_enrolled_row(void *arg, const tkr_store_entity_t *e)
{
    tkr_jsonw_t *w = arg;

    tkr_jsonw_obj_begin(w);
    write_party(w, e->name, e->type, e->org, e->role);
    tkr_jsonw_key(w, "serial");
    tkr_jsonw_str(w, e->serial);
    tkr_jsonw_key(w, "fingerprint_sha256");
    tkr_jsonw_str(w, e->fingerprint);
    tkr_jsonw_key(w, "not_after");
    tkr_jsonw_i64(w, e->not_after);
    tkr_jsonw_key(w, "enrolled_at");
    tkr_jsonw_i64(w, e->created);
    tkr_jsonw_key(w, "status");
    tkr_jsonw_str(w, e->status[0] != '\0' ? e->status : TKR_CERT_VALID);
    tkr_jsonw_obj_end(w);
    return 0;
}

static int write_enrolled_list(tkr_jsonw_t *w, void *arg)
{
    list_t *l = arg;
    const tkr_store_t *st = l->svc->store;

    tkr_jsonw_obj_begin(w);
    tkr_jsonw_key(w, "enrolled");
    tkr_jsonw_arr_begin(w);
    l->store_rc = st->ops->enrolled_list(st->ctx, list_enrolled_row, w);
    tkr_jsonw_arr_end(w);
    tkr_jsonw_obj_end(w);
    return l->store_rc != 0 ? TKR_E_IO : 0;
}

static int write_one_pending(tkr_jsonw_t *w, void *arg)
{
    write_pending_item(w, arg);
    return 0;
}

/* entity_type from the query or a body member; client by default. */
static int entity_type(const tkr_service_req_t *req, const tkr_json_t *doc,
                       char out[TKR_STORE_SHORT_MAX])
{
    const char *q = req->query != NULL ? req->query(req->query_arg, "entity_type") : NULL;
    tkr_subject_type_t t = TKR_SUBJECT_CLIENT;

    out[0] = '\0';
    if (q != NULL)
        snprintf(out, TKR_STORE_SHORT_MAX, "%s", q);
    else if (doc != NULL && opt_str(doc, 0, "entity_type", out, TKR_STORE_SHORT_MAX) < 0)
        return -1;
    if (out[0] != '\0' && (tkr_subject_type_parse(out, &t) != 0 || t == TKR_SUBJECT_PATTERN))
        return -1;
    snprintf(out, TKR_STORE_SHORT_MAX, "%s", tkr_subject_type_name(t));
    return 0;
}

/* Approve or reject (for reason, "" for none) the waiting request of
 * name/type. 0 done; else an HTTP status with *why. A reject is announced
 * to the receivers the request's notices went to. */
static int decide(const tkr_service_t *svc, tkr_signer_t *ca_key,
                  enroll_ws_t *ws, int approve, const char *reason, const char **why)
{
    tkr_store_pending_t *p = &ws->pending;
    int64_t now = tkr_port_time(svc->port);
    tkr_subject_type_t type = TKR_SUBJECT_CLIENT;
    mbedtls_x509_csr csr;
    int r, store_rc = 0;

    r = svc->store->ops->pending_get(svc->store->ctx, ws->name, ws->type, p);
    if (r == TKR_E_NOT_FOUND || (r == 0 && strcmp(p->status, TKR_PENDING_WAITING) != 0)) {
        *why = "no pending request";
        return 404;
    }
    if (r != 0) {
        *why = "store failure";
        return 500;
    }
    if (p->expires <= now) {
        *why = "the request has expired";
        return 410;
    }
    if (!approve) {
        r = svc->store->ops->pending_decide(svc->store->ctx, p->request_id, NULL);
        if (r != 0) {
            *why = r == TKR_E_NOT_FOUND ? "no pending request" : "store failure";
            return r == TKR_E_NOT_FOUND ? 404 : 500;
        }
        audit_why(svc, "reject", p->name, p->type, "reject", "admin", p->jti, NULL, NULL,
                  reason);
        {
            notice_ev_t ev = {"rejected", p->name, p->type, p->org, p->role, p->request_id,
                              "admin", reason[0] ? reason : "rejected by an administrator",
                              p->source_ip, p->jti};
            queue_notices(svc, p->notify, &ev, now);
        }
        return 0;
    }
    snprintf(ws->org, sizeof(ws->org), "%s", p->org);
    snprintf(ws->role, sizeof(ws->role), "%s", p->role);
    snprintf(ws->key_fp, sizeof(ws->key_fp), "%s", p->key_fp);
    (void)tkr_subject_type_parse(p->type, &type);
    mbedtls_x509_csr_init(&csr);
    r = tkr_csr_check_with(&csr, (const uint8_t *)p->csr, strlen(p->csr) + 1,
                           svc->verifier, NULL);
    if (r == 0)
        r = issue_entity(svc, ca_key, ws, &csr, type, now);
    if (r == 0)
        store_rc = svc->store->ops->pending_decide(svc->store->ctx, p->request_id,
                                                   &ws->entity);
    mbedtls_x509_csr_free(&csr);
    if (r != 0) {
        *why = "signing the certificate failed";
        return 500;
    }
    if (store_rc != 0) {
        *why = store_rc == TKR_E_NOT_FOUND ? "no pending request"
               : store_rc == TKR_E_CONFLICT ? "the name is already enrolled"
                                            : "store failure";
        return store_rc == TKR_E_NOT_FOUND ? 404 : store_rc == TKR_E_CONFLICT ? 409 : 500;
    }
    audit(svc, "approve", p->name, p->type, "approve", "admin", p->jti, NULL,
          ws->entity.serial);
    return 0;
}

typedef struct {
    const char *name, *status, *serial;
} decided_t;

static int write_decided(tkr_jsonw_t *w, void *arg)
{
    const decided_t *d = arg;

    tkr_jsonw_obj_begin(w);
    tkr_jsonw_key(w, "name");
    tkr_jsonw_str(w, d->name);
    tkr_jsonw_key(w, "status");
    tkr_jsonw_str(w, d->status);
    if (d->serial != NULL) {
        tkr_jsonw_key(w, "serial");
        tkr_jsonw_str(w, d->serial);
    }
    tkr_jsonw_obj_end(w);
    return 0;
}

typedef struct {
    const tkr_service_t *svc;
    tkr_signer_t *ca_key;
    enroll_ws_t *ws;
    int approve, names;
    const char *reason;
} batch_t;

static int write_batch(tkr_jsonw_t *w, void *arg)
{
    batch_t *b = arg;
    const tkr_json_t *doc = &b->ws->body.doc;
    int i, n = tkr_json_count(doc, b->names);

    tkr_jsonw_obj_begin(w);
    tkr_jsonw_key(w, "results");
    tkr_jsonw_arr_begin(w);
    for (i = 0; i < n; i++) {
        int e = tkr_json_child(doc, b->names, i), st;
        const char *why = NULL;
        tkr_jsonw_obj_begin(w);
        tkr_jsonw_key(w, "name");
        if (tkr_json_get_str(doc, b->ws->name, sizeof(b->ws->name), NULL, e) != 0 ||
            !name_ok(b->ws->name)) {
            tkr_jsonw_null(w);
            tkr_jsonw_key(w, "error");
            tkr_jsonw_str(w, "not a valid name");
            tkr_jsonw_obj_end(w);
            continue;
        }
        tkr_jsonw_str(w, b->ws->name);
        st = decide(b->svc, b->ca_key, b->ws, b->approve, b->reason, &why);
        if (st == 0) {
            tkr_jsonw_key(w, "status");
            tkr_jsonw_str(w, b->approve ? "approved" : "rejected");
        } else {
            tkr_jsonw_key(w, "error");
            tkr_jsonw_str(w, why);
        }
        tkr_jsonw_obj_end(w);
    }
    tkr_jsonw_arr_end(w);
    tkr_jsonw_obj_end(w);
    return 0;
}

static int pending_route(const tkr_service_t *svc, tkr_signer_t *ca_key,
                         const tkr_service_req_t *req, tkr_service_resp_t *resp,
                         enroll_ws_t *ws, const char *rest)
{
    const char *slash = strchr(rest, '/');
    int post = strcmp(req->method, "POST") == 0, approve, st, rc;
    const char *why = NULL;
    char reason[TKR_STORE_REASON_MAX] = "";
    size_t n;

    /* /pending/approve_batch, /pending/reject_batch */
    if (strcmp(rest, "approve_batch") == 0 || strcmp(rest, "reject_batch") == 0) {
        batch_t b = {svc, ca_key, ws, rest[0] == 'a', -1, reason};
        snprintf(resp->route, sizeof(resp->route), "/api/v1/pending/%s", rest);
        if (!post)
            return fail(resp, 405, "use POST");
        /* Batches decide many requests; a bad body must not decide any. */
        if (parse_body(&ws->body, req, resp) != 0)
            return 0;
        b.names = tkr_json_find(&ws->body.doc, 0, "names");
        if (b.names < 0 || tkr_json_type(&ws->body.doc, b.names) != TKR_JSON_ARRAY ||
            tkr_json_count(&ws->body.doc, b.names) > TKR_SERVICE_BATCH_MAX)
            return fail(resp, 400, "names must be a list of at most %d names",
                        TKR_SERVICE_BATCH_MAX);
        if (entity_type(req, &ws->body.doc, ws->type) != 0)
            return fail(resp, 400, "entity_type must be client, admin, relay or server");
        if (!b.approve && body_reason(&ws->body, resp, reason) != 0)
            return 0;
        return respond(resp, 200, write_batch, &b);
    }
    n = slash != NULL ? (size_t)(slash - rest) : strlen(rest);
    if (n == 0 || n >= sizeof(ws->name))
        return fail(resp, 404, "no such route");
    memcpy(ws->name, rest, n);
    ws->name[n] = '\0';
    if (!name_ok(ws->name))
        return fail(resp, 400, "not a valid name");
    set_name(resp, ws->name);
    if (slash == NULL) {
        snprintf(resp->route, sizeof(resp->route), "/api/v1/pending/<name>");
        if (strcmp(req->method, "GET") != 0)
            return fail(resp, 405, "use GET");
        if (entity_type(req, NULL, ws->type) != 0)
            return fail(resp, 400, "entity_type must be client, admin, relay or server");
        rc = svc->store->ops->pending_get(svc->store->ctx, ws->name, ws->type, &ws->pending);
        if (rc == TKR_E_NOT_FOUND)
            return fail(resp, 404, "no enrollment request for %s", ws->name);
        if (rc != 0)
            return fail(resp, 500, "store failure");
        return respond(resp, 200, write_one_pending, &ws->pending);
    }
    if (strcmp(slash, "/approve") != 0 && strcmp(slash, "/reject") != 0)
        return fail(resp, 404, "no such route");
    approve = slash[1] == 'a';
    snprintf(resp->route, sizeof(resp->route), "/api/v1/pending/<name>%s", slash);
    if (!post)
        return fail(resp, 405, "use POST");
    ws->body.doc.ntok = 0;
    if (req->body_len > 0 && parse_body(&ws->body, req, resp) != 0)
        return 0;
    if (entity_type(req, req->body_len > 0 ? &ws->body.doc : NULL, ws->type) != 0)
        return fail(resp, 400, "entity_type must be client, admin, relay or server");
    if (!approve && body_reason(&ws->body, resp, reason) != 0)
        return 0;
    st = decide(svc, ca_key, ws, approve, reason, &why);
    if (st != 0)
        return fail(resp, st, "%s: %s", ws->name, why);
    {
        decided_t d = {ws->name, approve ? "approved" : "rejected",
                       approve ? ws->entity.serial : NULL};
        return respond(resp, 200, write_decided, &d);
    }
}

/* ---- minting ---- */

typedef struct {
    const tkr_service_t *svc;
    tkr_signer_t *ca_key;
    enroll_ws_t *ws;
    tkr_mint_request_t mr;
    int names;                   /* array token, or -1 for "name" */
    int rc;
    tkr_diag_t diag;
} mint_t;

/* One token under the service's policy, with the rules `token generate`
 * keeps (tkr_policy_mint_subject, tkr_policy_mint_claims). */
static int mint_one(mint_t *m, const char *name, char *out, size_t size, int64_t *exp)
{
    tkr_token_claims_t c;
    tkr_mint_request_t r = m->mr;
    size_t len = 0;
    int rc;

    memset(&c, 0, sizeof(c));
    tkr_diag_clear(&m->diag);
    if ((rc = tkr_policy_mint_subject(m->svc->policy, r.type, name, &m->diag)) != 0 ||
        (rc = tkr_policy_mint_claims(&c, &r, m->svc->policy, &m->diag)) != 0)
        return rc;
    c.subject = name;
    c.issued_at = tkr_port_time(m->svc->port);
    c.issuer = m->svc->ca->cn;
    *exp = c.issued_at + c.validity;
    rc = tkr_token_mint(out, size, &len, NULL, m->ca_key, &c, m->svc->port);
    if (rc != 0)
        tkr_diag(&m->diag, rc, NULL, tkr_strerror(rc));
    return rc;
}

static int write_minted(tkr_jsonw_t *w, void *arg)
{
    mint_t *m = arg;
    const tkr_json_t *doc = &m->ws->body.doc;
    char *tok = m->ws->token;
    int64_t exp = 0;
    int i, n;

    if (m->names < 0) {
        m->rc = mint_one(m, m->ws->name, tok, sizeof(m->ws->token), &exp);
        if (m->rc != 0)
            return m->rc;
        tkr_jsonw_obj_begin(w);
        tkr_jsonw_key(w, "token");
        tkr_jsonw_str(w, tok);
        tkr_jsonw_key(w, "subject");
        tkr_jsonw_str(w, m->ws->name);
        tkr_jsonw_key(w, "expires_at");
        tkr_jsonw_i64(w, exp);
        tkr_jsonw_obj_end(w);
        return 0;
    }
    n = tkr_json_count(doc, m->names);
    tkr_jsonw_obj_begin(w);
    tkr_jsonw_key(w, "tokens");
    tkr_jsonw_arr_begin(w);
    for (i = 0; i < n; i++) {
        int e = tkr_json_child(doc, m->names, i);
        if (tkr_json_get_str(doc, m->ws->name, sizeof(m->ws->name), NULL, e) != 0 ||
            !name_ok(m->ws->name)) {
            tkr_diag(&m->diag, 0, "names", "must be a list of names");
            return m->rc = TKR_E_INVALID_ARG;
        }
        m->rc = mint_one(m, m->ws->name, tok, sizeof(m->ws->token), &exp);
        if (m->rc != 0)
            return m->rc;
        tkr_jsonw_obj_begin(w);
        tkr_jsonw_key(w, "name");
        tkr_jsonw_str(w, m->ws->name);
        tkr_jsonw_key(w, "token");
        tkr_jsonw_str(w, tok);
        tkr_jsonw_obj_end(w);
    }
    tkr_jsonw_arr_end(w);
    tkr_jsonw_obj_end(w);
    return 0;
}

static int mint(const tkr_service_t *svc, tkr_signer_t *ca_key,
                const tkr_service_req_t *req, tkr_service_resp_t *resp,
                enroll_ws_t *ws)
{
    const tkr_json_t *doc = &ws->body.doc;
    mint_t m;
    int t, rc;
    int64_t days = 0;

    memset(&m, 0, sizeof(m));
    m.svc = svc;
    m.ca_key = ca_key;
    m.ws = ws;
    m.names = -1;
    if (svc->policy == NULL)
        return fail(resp, 500, "no policy to mint with");
    if (parse_body(&ws->body, req, resp) != 0)
        return 0;
    if ((t = tkr_json_find(doc, 0, "names")) >= 0) {
        if (tkr_json_type(doc, t) != TKR_JSON_ARRAY || tkr_json_count(doc, t) == 0 ||
            tkr_json_count(doc, t) > TKR_SERVICE_BATCH_MAX)
            return fail(resp, 400, "names must be a list of 1 to %d names",
                        TKR_SERVICE_BATCH_MAX);
        m.names = t;
    } else if (opt_str(doc, 0, "name", ws->name, sizeof(ws->name)) != 1 || !name_ok(ws->name)) {
        return fail(resp, 400, "name or names is required");
    }
    if (m.names < 0)
        set_name(resp, ws->name);
    if (opt_str(doc, 0, "entity_type", ws->type, sizeof(ws->type)) < 0 ||
        (ws->type[0] != '\0' && tkr_subject_type_parse(ws->type, &m.mr.type) != 0))
        return fail(resp, 400, "entity_type must be client, admin, relay, server or pattern");
    if (opt_str(doc, 0, "role", ws->role, sizeof(ws->role)) < 0)
        return fail(resp, 400, "role must be a string");
    m.mr.role = ws->role[0] != '\0' ? ws->role : NULL;
    t = tkr_json_find(doc, 0, "valid_days");
    if (t >= 0 && tkr_json_type(doc, t) != TKR_JSON_NULL) {
        if (tkr_json_get_i64(doc, &days, t) != 0 || days < 1 || days > 3650)
            return fail(resp, 400, "valid_days must be an integer from 1 to 3650");
        m.mr.validity = days * DAY;
    }
    rc = respond(resp, 200, write_minted, &m);
    if (rc != 0 && m.rc != 0) {
        int client = m.rc == TKR_E_POLICY || m.rc == TKR_E_INVALID_ARG;
        return fail(resp, client ? 400 : 500, "cannot mint: %s%s%s", m.diag.name,
                    m.diag.name[0] ? " " : "", m.diag.msg[0] ? m.diag.msg : tkr_strerror(m.rc));
    }
    if (rc == 0)
        audit(svc, "token", m.names < 0 ? ws->name : "(batch)",
              tkr_subject_type_name(m.mr.type), "minted", NULL, NULL, req->client_ip, NULL);
    return rc;
}

/* ---- public routes ---- */

static int write_health(tkr_jsonw_t *w, void *arg)
{
    (void)arg;
    tkr_jsonw_obj_begin(w);
    tkr_jsonw_key(w, "status");
    tkr_jsonw_str(w, "healthy");
    tkr_jsonw_obj_end(w);
    return 0;
}

static void issuer_id(const tkr_service_t *svc, char out[9]);

static int write_ca_info(tkr_jsonw_t *w, void *arg)
{
    const tkr_service_t *svc = arg;
    char dn[512];
    tkr_issued_t is;
    tkr_jwt_alg_t alg;

    memset(&is, 0, sizeof(is));
    if (mbedtls_x509_dn_gets(dn, sizeof(dn), &svc->ca->cert.subject) < 0)
        dn[0] = '\0';
    (void)tkr_issued_describe(&is, (const uint8_t *)svc->ca_pem, strlen(svc->ca_pem) + 1);
    tkr_jsonw_obj_begin(w);
    tkr_jsonw_key(w, "subject");
    tkr_jsonw_str(w, dn);
    tkr_jsonw_key(w, "common_name");
    tkr_jsonw_str(w, svc->ca->cn);
    tkr_jsonw_key(w, "serial");
    tkr_jsonw_str(w, is.serial);
    tkr_jsonw_key(w, "fingerprint_sha256");
    tkr_jsonw_str(w, is.fingerprint);
    tkr_jsonw_key(w, "not_after");
    tkr_jsonw_i64(w, is.not_after);
    tkr_jsonw_key(w, "token_alg");
    if (tkr_key_default_alg(&svc->ca->cert.pk, &alg) == 0)
        tkr_jsonw_str(w, tkr_jwt_alg_name(alg));
    else
        tkr_jsonw_null(w);
    {
        char id[9];
        issuer_id(svc, id);
        tkr_jsonw_key(w, "issuer_id");
        tkr_jsonw_str(w, id);
    }
    tkr_jsonw_obj_end(w);
    return 0;
}

/* The CA's short id in certificate status URLs (tkr_authjwt_cert_id):
 * from its subject Name, which is every certificate's issuer Name. */
static void issuer_id(const tkr_service_t *svc, char out[9])
{
    if (tkr_authjwt_issuer_id(out, svc->ca->cert.subject_raw.p,
                              svc->ca->cert.subject_raw.len) != 0)
        memset(out, '0', 8), out[8] = '\0';
}

/* How long a status answer may be relied on (PVXS's "Status Expires"). */
#define STATUS_VALIDITY 1800

typedef struct {
    const tkr_store_entity_t *e;
    const char *issuer, *status, *id;
    char subject[512];
    int64_t not_before, now;
} cert_status_t;

static int write_cert_status(tkr_jsonw_t *w, void *arg)
{
    const cert_status_t *c = arg;

    tkr_jsonw_obj_begin(w);
    tkr_jsonw_key(w, "status");
    tkr_jsonw_str(w, c->status);
    tkr_jsonw_key(w, "certificate_id");
    tkr_jsonw_str(w, c->id);
    tkr_jsonw_key(w, "issuer_id");
    tkr_jsonw_str(w, c->issuer);
    tkr_jsonw_key(w, "serial");
    tkr_jsonw_str(w, c->e->serial);
    tkr_jsonw_key(w, "name");
    tkr_jsonw_str(w, c->e->name);
    tkr_jsonw_key(w, "subject");
    tkr_jsonw_str(w, c->subject);
    tkr_jsonw_key(w, "entity_type");
    tkr_jsonw_str(w, c->e->type);
    tkr_jsonw_key(w, "fingerprint_sha256");
    tkr_jsonw_str(w, c->e->fingerprint);
    tkr_jsonw_key(w, "not_before");
    tkr_jsonw_i64(w, c->not_before);
    tkr_jsonw_key(w, "not_after");
    tkr_jsonw_i64(w, c->e->not_after);
    tkr_jsonw_key(w, "enrolled_at");
    tkr_jsonw_i64(w, c->e->created);
    if (c->e->revoked_at != 0) {
        tkr_jsonw_key(w, "revoked_at");
        tkr_jsonw_i64(w, c->e->revoked_at);
        put_opt(w, "revocation_reason", c->e->reason);
    }
    tkr_jsonw_key(w, "status_issued");
    tkr_jsonw_i64(w, c->now);
    tkr_jsonw_key(w, "status_expires");
    tkr_jsonw_i64(w, c->now + STATUS_VALIDITY);
    tkr_jsonw_obj_end(w);
    return 0;
}

/* Seconds since the epoch of an X.509 time (UTC; days from the civil
 * date, no OS call). */
static int64_t x509_epoch(const mbedtls_x509_time *t)
{
    int64_t y = t->year, m = t->mon, d = t->day, era, yoe, doy, doe;

    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = y - era * 400;
    doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return (era * 146097 + doe - 719468) * 86400 + t->hour * 3600 + t->min * 60 + t->sec;
}

/* The serial of a certificate id <issuer-id>:<decimal serial> of this
 * service's CA. 0, or an error response. */
static int cert_serial(const tkr_service_t *svc, tkr_service_resp_t *resp, const char *id,
                       char issuer[9], char serial[TKR_AUTHJWT_SERIAL_HEX_MAX])
{
    char want[9];

    issuer_id(svc, issuer);
    if (tkr_authjwt_cert_id_parse(want, serial, id) != 0)
        return fail(resp, 400, "a certificate id is <8 hex digits>:<decimal serial>"), -1;
    if (strcmp(want, issuer) != 0)
        return fail(resp, 404, "unknown issuer: this service's issuer id is %s", issuer), -1;
    return 0;
}

/* The status body of the certificate in ws->entity, known by id. */
static int answer_status(const tkr_service_t *svc, tkr_service_resp_t *resp,
                         enroll_ws_t *ws, const char *issuer, const char *id)
{
    mbedtls_x509_crt crt;
    cert_status_t c;

    set_name(resp, ws->entity.name);
    memset(&c, 0, sizeof(c));
    c.e = &ws->entity;
    c.issuer = issuer;
    c.id = id;
    c.now = tkr_port_time(svc->port);
    c.status = strcmp(ws->entity.status, TKR_CERT_REVOKED) == 0 ? "REVOKED"
               : c.now < ws->entity.not_after                  ? "VALID"
                                                                : "EXPIRED";
    mbedtls_x509_crt_init(&crt);
    if (mbedtls_x509_crt_parse(&crt, (const unsigned char *)ws->entity.cert,
                               strlen(ws->entity.cert) + 1) == 0) {
        if (mbedtls_x509_dn_gets(c.subject, sizeof(c.subject), &crt.subject) < 0)
            c.subject[0] = '\0';
        c.not_before = x509_epoch(&crt.valid_from);
    }
    mbedtls_x509_crt_free(&crt);
    return respond(resp, 200, write_cert_status, &c);
}

/* GET /api/v1/cert/<issuer-id>:<serial>, the id as tkr_authjwt_cert_id
 * writes it: VALID, EXPIRED or REVOKED, with the certificate's subject and
 * validity. */
static int cert_status(const tkr_service_t *svc, tkr_service_resp_t *resp,
                       enroll_ws_t *ws, const char *rest)
{
    char issuer[9], serial[TKR_AUTHJWT_SERIAL_HEX_MAX];
    int rc;

    if (cert_serial(svc, resp, rest, issuer, serial) != 0)
        return 0;
    rc = svc->store->ops->enrolled_by_serial(svc->store->ctx, serial, &ws->entity);
    if (rc == TKR_E_NOT_FOUND)
        return fail(resp, 404, "no certificate %s", rest);
    if (rc != 0)
        return fail(resp, 500, "store failure");
    return answer_status(svc, resp, ws, issuer, rest);
}

/* POST /api/v1/cert/<issuer-id>:<serial>/revoke {"reason"} (API key): any
 * certificate the service recorded, enrolled or from the JWT authenticator.
 * Revoking a revoked certificate answers the same 200 and keeps the first
 * revocation's time and reason: an admin whose answer was lost may simply
 * ask again. */
static int cert_revoke(const tkr_service_t *svc, const tkr_service_req_t *req,
                       tkr_service_resp_t *resp, enroll_ws_t *ws, const char *id)
{
    char issuer[9], serial[TKR_AUTHJWT_SERIAL_HEX_MAX];
    char reason[TKR_STORE_REASON_MAX];
    const char *line = ws->audit;
    int64_t now = tkr_port_time(svc->port);
    int rc;

    ws->body.doc.ntok = 0;
    if (req->body_len > 0 && parse_body(&ws->body, req, resp) != 0)
        return 0;
    if (body_reason(&ws->body, resp, reason) != 0)
        return 0;
    if (cert_serial(svc, resp, id, issuer, serial) != 0)
        return 0;
    /* Its owner, for the audit line; the revocation itself is one atomic
     * step of the store. */
    rc = svc->store->ops->enrolled_by_serial(svc->store->ctx, serial, &ws->entity);
    if (rc == 0 && audit_line(ws->audit, now, "revoke", ws->entity.name, ws->entity.type,
                              "revoked", "admin", "", req->client_ip, serial, reason) != 0)
        line = NULL;
    if (rc == 0)
        rc = svc->store->ops->revoke(svc->store->ctx, serial, now, reason, line, &ws->entity);
    if (rc == TKR_E_NOT_FOUND)
        return fail(resp, 404, "no certificate %s", id);
    if (rc != 0 && rc != TKR_E_CONFLICT)
        return fail(resp, 500, "store failure");
    if (rc == 0)
        audit_hook(svc, line);
    return answer_status(svc, resp, ws, issuer, id);
}

/* ---- the JWT authenticator ---- */

/* POST /api/v1/authn/jwt {"jwt", "csr", "usage"}: the token first (nothing
 * else is looked at before it passes), then the request's proof of
 * possession, then the certificate from the token's claims alone. */
static int authn_jwt(const tkr_service_t *svc, tkr_signer_t *ca_key,
                     const tkr_service_req_t *req, tkr_service_resp_t *resp,
                     enroll_ws_t *ws)
{
    int64_t now = tkr_port_time(svc->port);
    const tkr_json_t *doc = &ws->body.doc;
    const char *usage_name = "client";
    tkr_authjwt_identity_t id;
    tkr_authjwt_work_t *w;
    tkr_issue_req_t ir;
    tkr_issued_t is;
    tkr_store_entity_t *e = &ws->entity;
    tkr_diag_t d;
    mbedtls_x509_csr csr;
    unsigned usage = TKR_CERT_CLIENT;
    const char *line;
    size_t len = 0;
    int rc, status;

    if (svc->jwt == NULL)
        return fail(resp, 501, "the JWT authenticator is not enabled on this service");
    if (parse_body(&ws->body, req, resp) != 0)
        return 0;
    if (opt_str(doc, 0, "jwt", ws->token, sizeof(ws->token)) != 1)
        return fail(resp, 400, "jwt is required (a string of at most %d bytes)", TKR_JWT_MAX);
    if (opt_str(doc, 0, "csr", ws->csr, sizeof(ws->csr)) != 1)
        return fail(resp, 400, "csr is required (PEM, at most %d bytes)", TKR_ISSUE_CSR_MAX);
    rc = opt_str(doc, 0, "usage", ws->type, sizeof(ws->type));
    if (rc < 0 || (rc == 1 && tkr_authjwt_usage(&usage, ws->type) != 0))
        return fail(resp, 400, "usage must be client, server or ioc");
    if (rc == 1)
        usage_name = ws->type;

    /* 1. The token. Its work space is large: off the stack. */
    if ((w = malloc(sizeof(*w))) == NULL)
        return TKR_E_NO_MEMORY;
    tkr_jwt_init(&w->jwt);
    tkr_diag_clear(&d);
    rc = tkr_authjwt_authenticate(&id, w, svc->jwt, ws->token, strlen(ws->token), now, &d);
    tkr_jwt_free(&w->jwt);
    mbedtls_platform_zeroize(w, sizeof(*w));
    free(w);
    if (rc != 0) {
        status = tkr_authjwt_http_status(rc);
        audit(svc, "authn-jwt", "", usage_name, "refused", d.msg[0] ? d.msg : tkr_strerror(rc),
              "", req->client_ip, NULL);
        if (status == 500)
            return fail(resp, 500, "the JWT authenticator cannot check tokens: %s",
                        d.msg[0] ? d.msg : tkr_strerror(rc));
        return fail(resp, status, "%s: %s", status == 403 ? "token not accepted" : "invalid token",
                    d.msg[0] ? d.msg : tkr_strerror(rc));
    }
    /* A CN of 64 characters of 4 bytes each fits the store's name field. */
    memset(e, 0, sizeof(*e));
    snprintf(e->name, sizeof(e->name), "%.*s", (int)sizeof(e->name) - 1, id.cn);
    set_name(resp, e->name);
    /* 2. The request's key proves possession. */
    mbedtls_x509_csr_init(&csr);
    tkr_diag_clear(&d);
    rc = tkr_csr_check_with(&csr, (const uint8_t *)ws->csr, strlen(ws->csr) + 1,
                            svc->verifier, &d);
    if (rc != 0) {
        mbedtls_x509_csr_free(&csr);
        return fail(resp, 400, "invalid CSR: %s", d.msg[0] ? d.msg : tkr_strerror(rc));
    }
    /* 3. The certificate: CN = sub, O = the host of iss, nbf..exp. */
    memset(&ir, 0, sizeof(ir));
    ir.key = &csr.pk;
    ir.name = id.cn;
    ir.org = id.org;
    ir.type = TKR_SUBJECT_CLIENT;
    ir.now = now;
    ir.days = 1;
    ir.not_before = id.not_before;
    ir.not_after = id.not_after;
    ir.usage = usage;
    rc = tkr_issue_cert(ws->cert, sizeof(ws->cert), &len, &is, &ir, &svc->ca->cert, ca_key,
                        svc->port);
    mbedtls_x509_csr_free(&csr);
    if (rc != 0)
        return fail(resp, 500, "signing the certificate failed");
    snprintf(e->type, sizeof(e->type), "jwt-%.16s", usage_name);
    snprintf(e->org, sizeof(e->org), "%s", id.org);
    snprintf(e->serial, sizeof(e->serial), "%s", is.serial);
    snprintf(e->fingerprint, sizeof(e->fingerprint), "%s", is.fingerprint);
    e->not_after = is.not_after;
    e->created = now;
    memcpy(e->cert, ws->cert, len + 1);
    /* 4. Recorded, with its audit line in the same transaction, before it
     * is handed out: a status query finds it, and no certificate is out
     * without its line. */
    line = ws->audit;
    if (audit_line(ws->audit, now, "authn-jwt", id.cn, e->type, "issued", "", "",
                   req->client_ip, e->serial, NULL) != 0)
        line = NULL;
    if (svc->store->ops->cert_add(svc->store->ctx, e, line) != 0)
        return fail(resp, 500, "store failure");
    audit_hook(svc, line);
    return answer_cert(svc, resp, ws->cert);
}

static int text(tkr_service_resp_t *resp, const char *s, const char *type)
{
    size_t n = strlen(s);
    char *b = malloc(n + 1);

    if (b == NULL)
        return TKR_E_NO_MEMORY;
    memcpy(b, s, n + 1);
    free(resp->body);
    resp->body = b;
    resp->len = n;
    resp->status = 200;
    resp->content_type = type;
    return 0;
}

/* The admin routes' gate: 1 with the answer in resp when the request may
 * not pass. */
static int admin_refused(const tkr_service_t *svc, const tkr_service_req_t *req,
                         tkr_service_resp_t *resp, int *rc)
{
    if (svc->api_key == NULL || svc->api_key[0] == '\0')
        *rc = fail(resp, 403, "admin routes are disabled: the service has no API key");
    else if (!authorized(svc, req))
        *rc = fail(resp, 401, "invalid or missing API key");
    else
        return 0;
    return 1;
}

static int route(const tkr_service_t *svc, tkr_signer_t *ca_key,
                 const tkr_service_req_t *req, tkr_service_resp_t *resp,
                 enroll_ws_t *ws)
{
    const char *p = req->path, *m = req->method;
    int get = strcmp(m, "GET") == 0 || strcmp(m, "HEAD") == 0, post = strcmp(m, "POST") == 0;
    list_t l = {svc, 0};
    int rc;

#define ROUTE(r) snprintf(resp->route, sizeof(resp->route), "%s", r)
    if (strcmp(p, "/health") == 0) {
        ROUTE(p);
        return get ? respond(resp, 200, write_health, NULL) : fail(resp, 405, "use GET");
    }
    if (strcmp(p, "/api/v1/ca-cert") == 0) {
        ROUTE(p);
        return get ? text(resp, svc->ca_pem, "application/x-pem-file")
                   : fail(resp, 405, "use GET");
    }
    if (strcmp(p, "/api/v1/ca-info") == 0) {
        ROUTE(p);
        return get ? respond(resp, 200, write_ca_info, (void *)svc) : fail(resp, 405, "use GET");
    }
    if (strcmp(p, "/api/v1/enroll") == 0) {
        ROUTE(p);
        return post ? enroll(svc, ca_key, req, resp, ws) : fail(resp, 405, "use POST");
    }
    if (strncmp(p, "/api/v1/cert/", 13) == 0 && strchr(p + 13, '/') != NULL) {
        const char *slash = strchr(p + 13, '/');
        size_t n = (size_t)(slash - (p + 13));
        ROUTE("/api/v1/cert/<issuer-id>:<serial>/revoke");
        if (strcmp(slash, "/revoke") != 0 || n >= sizeof(ws->name))
            return fail(resp, 404, "no such route");
        if (admin_refused(svc, req, resp, &rc))
            return rc;
        if (!post)
            return fail(resp, 405, "use POST");
        memcpy(ws->name, p + 13, n);
        ws->name[n] = '\0';
        return cert_revoke(svc, req, resp, ws, ws->name);
    }
    if (strncmp(p, "/api/v1/cert/", 13) == 0) {
        ROUTE("/api/v1/cert/<issuer-id>:<serial>");
        return get ? cert_status(svc, resp, ws, p + 13) : fail(resp, 405, "use GET");
    }
    if (strcmp(p, "/api/v1/authn/jwt") == 0) {
        ROUTE(p);
        return post ? authn_jwt(svc, ca_key, req, resp, ws) : fail(resp, 405, "use POST");
    }
    if (strcmp(p, "/api/v1/token") == 0 || strcmp(p, "/api/v1/enrolled") == 0 ||
        strcmp(p, "/api/v1/pending") == 0 || strncmp(p, "/api/v1/pending/", 16) == 0) {
        ROUTE(strncmp(p, "/api/v1/pending/", 16) == 0 ? "/api/v1/pending/<name>" : p);
        if (admin_refused(svc, req, resp, &rc))
            return rc;
        if (strcmp(p, "/api/v1/token") == 0)
            return post ? mint(svc, ca_key, req, resp, ws) : fail(resp, 405, "use POST");
        if (strcmp(p, "/api/v1/enrolled") == 0) {
            if (!get)
                return fail(resp, 405, "use GET");
            rc = respond(resp, 200, write_enrolled_list, &l);
            return rc == TKR_E_IO ? fail(resp, 500, "store failure") : rc;
        }
        if (strcmp(p, "/api/v1/pending") == 0) {
            if (!get)
                return fail(resp, 405, "use GET");
            rc = respond(resp, 200, write_pending_list, &l);
            return rc == TKR_E_IO ? fail(resp, 500, "store failure") : rc;
        }
        return pending_route(svc, ca_key, req, resp, ws, p + 16);
    }
    ROUTE("(unknown)");
    return fail(resp, 404, "no such route");
#undef ROUTE
}

void tkr_service_worker_init(tkr_service_worker_t *wk, tkr_signer_t *ca_key)
{
    size_t i;

    memset(wk, 0, sizeof(*wk));
    wk->ca_key = ca_key;
    for (i = 0; i < TKR_SERVICE_POLICY_CACHE; i++)
        tkr_policy_init(&wk->policies[i].pol);
}

void tkr_service_worker_free(tkr_service_worker_t *wk)
{
    size_t i;

    if (wk == NULL)
        return;
    for (i = 0; i < TKR_SERVICE_POLICY_CACHE; i++) {
        free(wk->policies[i].text);
        tkr_policy_free(&wk->policies[i].pol);
    }
    free(wk->ws);
    tkr_service_worker_init(wk, NULL);
}

/* One request in ws (zeroed here: each request starts from nothing). */
static int handle_in(const tkr_service_t *svc, tkr_signer_t *ca_key, enroll_ws_t *ws,
                     tkr_service_worker_t *wk, const tkr_service_req_t *req,
                     tkr_service_resp_t *resp)
{
    int rc;

    memset(ws, 0, sizeof(*ws));
    ws->wk = wk;
    tkr_jwt_init(&ws->jwt);
    rc = route(svc, ca_key, req, resp, ws);
    if (rc == 0 && resp->body == NULL)
        rc = fail(resp, 500, "internal error");
    tkr_jwt_free(&ws->jwt);
    mbedtls_platform_zeroize(ws->token, sizeof(ws->token));
    return rc;
}

static int args_ok(const tkr_service_t *svc, const tkr_service_req_t *req,
                   const tkr_service_resp_t *resp)
{
    return svc != NULL && req != NULL && resp != NULL && req->method != NULL &&
           req->path != NULL;
}

int tkr_service_handle(const tkr_service_t *svc, tkr_signer_t *ca_key,
                       const tkr_service_req_t *req, tkr_service_resp_t *resp)
{
    enroll_ws_t *ws;
    int rc;

    if (!args_ok(svc, req, resp))
        return TKR_E_INVALID_ARG;
    if ((ws = malloc(sizeof(*ws))) == NULL)
        return TKR_E_NO_MEMORY;
    rc = handle_in(svc, ca_key, ws, NULL, req, resp);
    free(ws);
    return rc;
}

int tkr_service_handle_worker(const tkr_service_t *svc, tkr_service_worker_t *wk,
                              const tkr_service_req_t *req, tkr_service_resp_t *resp)
{
    if (wk == NULL || !args_ok(svc, req, resp))
        return TKR_E_INVALID_ARG;
    /* The work space (about 100 KB) is the worker's: allocated once, not
     * per request. */
    if (wk->ws == NULL && (wk->ws = malloc(sizeof(enroll_ws_t))) == NULL)
        return TKR_E_NO_MEMORY;
    return handle_in(svc, wk->ca_key, wk->ws, wk, req, resp);
}
