/* test_service.c — the service handlers over the in-memory store, with the
 * port's clock pinned: what the end-to-end suite cannot reach quickly
 * (pending requests expiring), and the rules at the edges of the request
 * format. The CA is FLARE's cert.json vector; the CSR is openssl's. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "test_util.h"

#include <mbedtls/x509_crt.h>

#include "../store_mem.h"
#include "tkr_port_posix.h"
#include "tokenroll/authjwt.h"
#include "tokenroll/certjson.h"
#include "tokenroll/error.h"
#include "tokenroll/json.h"
#include "tokenroll/csr.h"
#include "tokenroll/key.h"
#include "tokenroll/signer.h"
#include "tokenroll/policy.h"
#include "tokenroll/service.h"
#include "tokenroll/token.h"

#define NOW 1767225600 /* 2026-01-01 */

static tkr_posix_t port_ctx = {TKR_LOG_ERROR, -1};
static tkr_port_t port;
static tkr_ca_t ca;
static tkr_signer_t signer;
static char ca_pem[4096], csr_json[4096], csr2_json[4096];
static tkr_policy_t policy;
static mem_store_t mem;
static tkr_store_t store = {&mem_store_ops, &mem};
static tkr_service_t svc;
static char body[16384];
/* NULL: requests through tkr_service_handle; else through this worker. */
static tkr_service_worker_t *worker;

/* A PEM file as the inside of a JSON string. */
static void pem_json(const char *path, char *out)
{
    char pem[4096];
    size_t i, o = 0;

    read_file(path, pem, sizeof(pem));
    for (i = 0; pem[i] != '\0'; i++) {
        if (pem[i] == '\n') {
            out[o++] = '\\';
            out[o++] = 'n';
        } else {
            out[o++] = pem[i];
        }
    }
    out[o] = '\0';
}

static int setup(void **state)
{
    static char scratch[2 * TKR_CERTJSON_MAX];

    (void)state;
    port_ctx.fixed_now = NOW;
    tkr_port_posix_init(&port, &port_ctx);
    tkr_ca_init(&ca);
    tkr_signer_init(&signer);
    if (tkr_certjson_load(&ca, scratch, sizeof(scratch), "tests/vectors/flare", &port, NULL) != 0)
        return -1;
    {
        static char pem[4096];
        size_t len;
        if (tkr_key_write_pem(pem, sizeof(pem), &len, &ca.key, NULL) != 0 ||
            tkr_signer_load_mbedtls(&signer, (const uint8_t *)pem, len + 1, &port) != 0)
            return -1;
    }
    read_file("tests/vectors/flare/rootCA.pem", ca_pem, sizeof(ca_pem));
    pem_json("tests/vectors/csr/p256.csr", csr_json);
    pem_json("tests/vectors/csr/p384.csr", csr2_json);
    tkr_policy_init(&policy);
    if (tkr_policy_load_default(&policy) != 0)
        return -1;
    svc.ca = &ca;
    svc.ca_pem = ca_pem;
    svc.store = &store;
    svc.port = &port;
    svc.api_key = "k";
    svc.policy = &policy;
    svc.cert_days = 365;
    svc.pending_timeout = 86400;
    svc.retry_after = 60;
    svc.leeway = 60;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    mem_store_reset(&mem);
    tkr_policy_free(&policy);
    tkr_signer_free(&signer);
    tkr_ca_free(&ca);
    return 0;
}

static int reset(void **state)
{
    (void)state;
    mem_store_reset(&mem);
    port_ctx.fixed_now = NOW;
    svc.api_key = "k";
    return 0;
}

static void mint(char *out, size_t size, const char *sub, tkr_subject_type_t type,
                 const char *policy_json)
{
    tkr_token_claims_t c;
    size_t len;

    memset(&c, 0, sizeof(c));
    c.subject = sub;
    c.issued_at = NOW;
    c.validity = 30 * 86400;
    c.issuer = ca.cn;
    c.type = type;
    c.policy = policy_json ? policy_json : policy.json;
    c.policy_len = strlen(c.policy);
    c.max_uses = 1;
    assert_int_equal(tkr_token_mint(out, size, &len, NULL, &signer, &c, &port), 0);
}

/* One request; returns the status, the body in resp (freed by the caller). */
static int call(tkr_service_resp_t *resp, const char *method, const char *path,
                const char *auth, const char *text)
{
    tkr_service_req_t req;

    memset(&req, 0, sizeof(req));
    req.method = method;
    req.path = path;
    req.body = text;
    req.body_len = text ? strlen(text) : 0;
    req.authorization = auth;
    req.client_ip = "192.0.2.1";
    tkr_service_resp_init(resp);
    if (worker != NULL)
        assert_int_equal(tkr_service_handle_worker(&svc, worker, &req, resp), 0);
    else
        assert_int_equal(tkr_service_handle(&svc, &signer, &req, resp), 0);
    assert_non_null(resp->body);
    return resp->status;
}

static int enroll_csr(tkr_service_resp_t *resp, const char *token, const char *csr,
                      const char *meta)
{
    snprintf(body, sizeof(body), "{\"token\":\"%s\",\"csr\":\"%s\",\"metadata\":%s}", token,
             csr, meta);
    return call(resp, "POST", "/api/v1/enroll", NULL, body);
}

static int enroll(tkr_service_resp_t *resp, const char *token, const char *meta)
{
    return enroll_csr(resp, token, csr_json, meta);
}

/* The member key of a response body, as a string. */
static void member(const tkr_service_resp_t *r, const char *key, char *out, size_t size)
{
    tkr_json_tok_t tok[64];
    tkr_json_t doc;

    assert_int_equal(tkr_json_parse(&doc, tok, 64, r->body, r->len, NULL), 0);
    assert_int_equal(tkr_json_get_str(&doc, out, size, NULL, tkr_json_find(&doc, 0, key)), 0);
}

/* name enrolled (approved at once) with a fresh token (tok) and the first
 * CSR; its certificate into cert. */
static void enrolled(const char *name, char *tok, size_t tok_size, char *cert, size_t size)
{
    char meta[128];
    tkr_service_resp_t r;

    mint(tok, tok_size, name, TKR_SUBJECT_CLIENT, NULL);
    snprintf(meta, sizeof(meta), "{\"name\":\"%s\"}", name);
    assert_int_equal(enroll(&r, tok, meta), 200);
    member(&r, "certificate", cert, size);
    tkr_service_resp_free(&r);
}

/* A device whose power failed after an auto-approved enrollment, before it
 * stored the answer, asks again with the same token and key: it gets the
 * certificate it was issued, and nothing more is spent or signed. Another
 * key, or another token, for the name stays a conflict. */
static void test_retry_after_auto_approval_gets_the_same_certificate(void **state)
{
    char tok[4096], tok2[4096], first[4096], again[4096];
    tkr_service_resp_t r;

    (void)state;
    enrolled("site-r", tok, sizeof(tok), first, sizeof(first));
    assert_int_equal(enroll(&r, tok, "{\"name\":\"site-r\"}"), 200);
    member(&r, "certificate", again, sizeof(again));
    assert_non_null(strstr(r.body, "\"ca_cert\""));
    tkr_service_resp_free(&r);
    assert_string_equal(again, first);
    assert_int_equal(mem.ntok, 1);
    assert_true(mem.tok[0].uses == 1);
    assert_int_equal(mem.nent, 1);
    /* another key with the same token */
    assert_int_equal(enroll_csr(&r, tok, csr2_json, "{\"name\":\"site-r\"}"), 409);
    tkr_service_resp_free(&r);
    /* the same key with another token for the name */
    mint(tok2, sizeof(tok2), "site-r", TKR_SUBJECT_CLIENT, NULL);
    assert_int_equal(enroll(&r, tok2, "{\"name\":\"site-r\"}"), 409);
    tkr_service_resp_free(&r);
    assert_int_equal(mem.nent, 1);
    assert_int_equal(mem.ntok, 1);
}

/* Revocation: the admin route by certificate id, for an enrolled
 * certificate; the status says REVOKED; again is the same answer; the
 * device's retry no longer gets the certificate. */
static void test_revoke_route(void **state)
{
    char tok[4096], cert[4096], id[TKR_AUTHJWT_CERT_ID_MAX], path[160], t1[32];
    tkr_service_resp_t r;
    mbedtls_x509_crt crt;
    size_t audits;

    (void)state;
    enrolled("site-v", tok, sizeof(tok), cert, sizeof(cert));
    mbedtls_x509_crt_init(&crt);
    assert_int_equal(mbedtls_x509_crt_parse(&crt, (const unsigned char *)cert,
                                            strlen(cert) + 1), 0);
    assert_int_equal(tkr_authjwt_cert_id(id, sizeof(id), &crt), 0);
    mbedtls_x509_crt_free(&crt);
    snprintf(path, sizeof(path), "/api/v1/cert/%s/revoke", id);

    assert_int_equal(call(&r, "POST", path, "Bearer wrong", "{\"reason\":\"x\"}"), 401);
    tkr_service_resp_free(&r);
    assert_int_equal(call(&r, "GET", path, "Bearer k", NULL), 405);
    tkr_service_resp_free(&r);
    assert_int_equal(call(&r, "POST", path, "Bearer k", "{\"reason\":\"a\\nb\"}"), 400);
    tkr_service_resp_free(&r);
    {
        char unknown[160];
        snprintf(unknown, sizeof(unknown), "/api/v1/cert/%.8s:12345/revoke", id);
        assert_int_equal(call(&r, "POST", unknown, "Bearer k", NULL), 404);
        tkr_service_resp_free(&r);
    }
    audits = mem.audits;
    port_ctx.fixed_now = NOW + 10;
    assert_int_equal(call(&r, "POST", path, "Bearer k", "{\"reason\":\"key lost\"}"), 200);
    assert_non_null(strstr(r.body, "\"status\":\"REVOKED\""));
    assert_non_null(strstr(r.body, "\"revocation_reason\":\"key lost\""));
    snprintf(t1, sizeof(t1), "\"revoked_at\":%d", NOW + 10);
    assert_non_null(strstr(r.body, t1));
    tkr_service_resp_free(&r);
    assert_int_equal(mem.audits, audits + 1);
    /* again, later, another reason: the first revocation stands */
    port_ctx.fixed_now = NOW + 20;
    assert_int_equal(call(&r, "POST", path, "Bearer k", "{\"reason\":\"other\"}"), 200);
    assert_non_null(strstr(r.body, t1));
    assert_non_null(strstr(r.body, "key lost"));
    tkr_service_resp_free(&r);
    assert_int_equal(mem.audits, audits + 1);
    snprintf(path, sizeof(path), "/api/v1/cert/%s", id);
    assert_int_equal(call(&r, "GET", path, NULL, NULL), 200);
    assert_non_null(strstr(r.body, "\"status\":\"REVOKED\""));
    tkr_service_resp_free(&r);
    /* the device's retry: refused now */
    assert_int_equal(enroll(&r, tok, "{\"name\":\"site-v\"}"), 403);
    assert_non_null(strstr(r.body, "revoked"));
    tkr_service_resp_free(&r);
}

static void test_pending_request_expires(void **state)
{
    static const char hold[] =
        "{\"approval\":{\"method\":\"policy\",\"rules\":[{\"name\":\"hold\",\"action\":\"pending\"}]}}";
    char tok[4096];
    tkr_service_resp_t r;

    (void)state;
    mint(tok, sizeof(tok), "site-p", TKR_SUBJECT_CLIENT, hold);
    assert_int_equal(enroll(&r, tok, "{\"name\":\"site-p\"}"), 202);
    assert_true(r.retry_after == 60);
    tkr_service_resp_free(&r);
    /* Two days later: past the one-day pending timeout. */
    port_ctx.fixed_now = NOW + 2 * 86400;
    assert_int_equal(enroll(&r, tok, "{\"name\":\"site-p\"}"), 403);
    assert_non_null(strstr(r.body, "expired"));
    tkr_service_resp_free(&r);
    assert_int_equal(call(&r, "POST", "/api/v1/pending/site-p/approve", "Bearer k", NULL), 410);
    tkr_service_resp_free(&r);
    assert_int_equal(call(&r, "GET", "/api/v1/pending", "Bearer k", NULL), 200);
    assert_string_equal(r.body, "{\"pending\":[]}");
    tkr_service_resp_free(&r);
    assert_int_equal(mem.nent, 0);
}

/* A token whose policy approves at once meets a name with history: the
 * service signs before it reads the store, and the store's refusal sends
 * it to that history. A request waiting for the name answers (202 for its
 * own key, 409 for another) and the token stays unspent; once the request
 * is rejected, the same token enrolls the name, and what is stored is
 * what was answered. */
static void test_approving_token_meets_a_waiting_request(void **state)
{
    static const char hold[] =
        "{\"approval\":{\"method\":\"policy\",\"rules\":[{\"name\":\"hold\",\"action\":\"pending\"}]}}";
    char tok[4096], fast[4096], cert[4096];
    tkr_service_resp_t r;

    (void)state;
    mint(tok, sizeof(tok), "site-h", TKR_SUBJECT_CLIENT, hold);
    assert_int_equal(enroll(&r, tok, "{\"name\":\"site-h\"}"), 202);
    tkr_service_resp_free(&r);
    mint(fast, sizeof(fast), "site-h", TKR_SUBJECT_CLIENT, NULL);
    assert_int_equal(enroll(&r, fast, "{\"name\":\"site-h\"}"), 202);
    tkr_service_resp_free(&r);
    assert_int_equal(enroll_csr(&r, fast, csr2_json, "{\"name\":\"site-h\"}"), 409);
    assert_non_null(strstr(r.body, "already pending"));
    tkr_service_resp_free(&r);
    assert_int_equal(mem.nent, 0);
    assert_int_equal(call(&r, "POST", "/api/v1/pending/site-h/reject", "Bearer k", NULL), 200);
    tkr_service_resp_free(&r);
    assert_int_equal(enroll_csr(&r, fast, csr2_json, "{\"name\":\"site-h\"}"), 200);
    member(&r, "certificate", cert, sizeof(cert));
    tkr_service_resp_free(&r);
    assert_int_equal(mem.nent, 1);
    assert_string_equal(mem.ent[0]->cert, cert);
    assert_int_equal(enroll_csr(&r, fast, csr2_json, "{\"name\":\"site-h\"}"), 200);
    member(&r, "certificate", cert, sizeof(cert));
    tkr_service_resp_free(&r);
    assert_string_equal(mem.ent[0]->cert, cert);
}

static void test_admin_routes_closed_without_api_key(void **state)
{
    tkr_service_resp_t r;

    (void)state;
    svc.api_key = NULL;
    assert_int_equal(call(&r, "GET", "/api/v1/enrolled", "Bearer ", NULL), 403);
    tkr_service_resp_free(&r);
    svc.api_key = "k";
    assert_int_equal(call(&r, "GET", "/api/v1/enrolled", "Bearer kk", NULL), 401);
    tkr_service_resp_free(&r);
    assert_int_equal(call(&r, "GET", "/api/v1/enrolled", "Bearer k", NULL), 200);
    tkr_service_resp_free(&r);
}

static void test_user_alias_takes_policy_default_role(void **state)
{
    char tok[4096];
    tkr_service_resp_t r;
    tkr_store_entity_t e;

    (void)state;
    mint(tok, sizeof(tok), "a@org.example", TKR_SUBJECT_ADMIN, NULL);
    assert_int_equal(enroll(&r, tok, "{\"name\":\"a@org.example\",\"type\":\"user\",\"org\":null}"), 200);
    tkr_service_resp_free(&r);
    assert_int_equal(mem_enrolled_get(&mem, "a@org.example", "admin", &e), 0);
    assert_string_equal(e.role, "lead");
}

static void test_null_metadata_fields_and_default_type(void **state)
{
    char tok[4096];
    tkr_service_resp_t r;

    (void)state;
    mint(tok, sizeof(tok), "site-1", TKR_SUBJECT_CLIENT, NULL);
    assert_int_equal(enroll(&r, tok, "{\"name\":\"site-1\",\"type\":null,\"org\":null,\"role\":null}"),
                     200);
    assert_non_null(strstr(r.body, "\"ca_cert\""));
    tkr_service_resp_free(&r);
}

static void test_token_without_enrollment_claims_is_401(void **state)
{
    char tok[4096];
    char claims[256];
    size_t len;
    tkr_service_resp_t r;
    tkr_jwt_alg_t alg;

    (void)state;
    /* A genuine CA signature over claims that are not an enrollment token. */
    snprintf(claims, sizeof(claims),
             "{\"jti\":\"00000000-0000-4000-8000-000000000009\",\"sub\":\"site-1\",\"iat\":%d,"
             "\"exp\":%d,\"iss\":\"%s\"}", NOW, NOW + 3600, ca.cn);
    assert_int_equal(tkr_key_default_alg(&ca.key, &alg), 0);
    assert_int_equal(tkr_jwt_sign(tok, sizeof(tok), &len, &ca.key, alg, NULL, claims,
                                  strlen(claims), &port), 0);
    assert_int_equal(enroll(&r, tok, "{\"name\":\"site-1\"}"), 401);
    assert_non_null(strstr(r.body, "subject_type"));
    tkr_service_resp_free(&r);
    assert_int_equal(mem.ntok, 0);
}

static void test_bad_names_and_types_are_400(void **state)
{
    char tok[4096];
    tkr_service_resp_t r;

    (void)state;
    mint(tok, sizeof(tok), "site-1", TKR_SUBJECT_CLIENT, NULL);
    assert_int_equal(enroll(&r, tok, "{\"name\":\"\"}"), 400);
    tkr_service_resp_free(&r);
    assert_int_equal(enroll(&r, tok, "{\"name\":\"a/b\"}"), 400);
    tkr_service_resp_free(&r);
    assert_int_equal(enroll(&r, tok, "{\"name\":\"site-1\",\"type\":\"pattern\"}"), 400);
    tkr_service_resp_free(&r);
    assert_int_equal(enroll(&r, tok, "{\"name\":\"site-1\",\"org\":7}"), 400);
    tkr_service_resp_free(&r);
    /* An O of 65 bytes (X.520 allows 64) or with a control character is
     * the request's fault, said before the token is looked at: not a
     * failed signature (500). */
    /* 65 bytes */
    assert_int_equal(enroll(&r, tok, "{\"name\":\"site-1\",\"org\":\"o,123456789012345678901234567890123456789012345678901234567890123\"}"), 400);
    assert_non_null(strstr(r.body, "metadata.org must be at most 64"));
    tkr_service_resp_free(&r);
    assert_int_equal(enroll(&r, tok, "{\"name\":\"site-1\",\"org\":\"a\\nb\"}"), 400);
    tkr_service_resp_free(&r);
    assert_int_equal(enroll(&r, "x", "{\"name\":\"site-1\",\"org\":\"ACME, Inc./Lab 7\"}"), 401);
    tkr_service_resp_free(&r);
    assert_int_equal(enroll(&r, tok, "[]"), 400);
    tkr_service_resp_free(&r);
    assert_int_equal(mem.ntok, 0);
    /* 64 bytes, a comma and a slash: the certificate's O as given. */
    assert_int_equal(enroll(&r, tok, "{\"name\":\"site-1\",\"org\":\"o,/1234567890123456789012345678901234567890123456789012345678901\"}"), 200);
    tkr_service_resp_free(&r);
    assert_int_equal(mem.nent, 1);
    assert_string_equal(mem.ent[0]->org, "o,/1234567890123456789012345678901234567890123456789012345678901");
}

/* ---- the JWT authenticator's route, with a verifier of our own ---- */

static int verifier_status = 200;
static const char *verifier_answer;

static int fake_verifier(void *arg, const tkr_authjwt_call_t *c, int *status,
                         const char **answer, size_t *len)
{
    (void)arg;
    (void)c;
    *status = verifier_status;
    *answer = verifier_answer;
    *len = strlen(verifier_answer);
    return 0;
}

/* A token of an identity provider (signed by the CA key here: in trusted
 * mode the service reads its claims, the verifier vouches for it). */
static void idp_token(char *out, size_t size, const char *claims)
{
    size_t n;
    assert_int_equal(tkr_jwt_sign(out, size, &n, &ca.key, TKR_JWT_RS256, "demo-key-1",
                                  claims, strlen(claims), &port), 0);
}

static int authn(tkr_service_resp_t *resp, const char *token, const char *usage)
{
    snprintf(body, sizeof(body), "{\"jwt\":\"%s\",\"csr\":\"%s\",\"usage\":\"%s\"}",
             token, csr_json, usage);
    return call(resp, "POST", "/api/v1/authn/jwt", NULL, body);
}

static void test_authn_jwt_issues_records_and_reports_status(void **state)
{
    static tkr_authjwt_format_t fmt;
    static const char f[] = "{ *, \"valid\": \"#response#\" }";
    tkr_authjwt_cfg_t cfg;
    tkr_service_resp_t r;
    tkr_json_tok_t tok[16];
    tkr_json_t doc;
    mbedtls_x509_crt crt;
    char token[4096], claims[512], cert[4096], id[TKR_AUTHJWT_CERT_ID_MAX], path[128];
    size_t n;

    (void)state;
    /* disabled: 501 */
    assert_int_equal(authn(&r, "x.y.z", "client"), 501);
    tkr_service_resp_free(&r);

    memset(&cfg, 0, sizeof(cfg));
    assert_int_equal(tkr_authjwt_format_compile(&fmt, f, strlen(f), NULL), 0);
    cfg.trusted_uri = "http://localhost:8080/default/verify";
    cfg.use_get = 1;
    cfg.response_format = &fmt;
    cfg.call = fake_verifier;
    cfg.rules.leeway = 60;
    cfg.rules.max_validity = 86400;
    svc.jwt = &cfg;
    snprintf(claims, sizeof(claims),
             "{\"sub\":\"softioc\",\"iss\":\"http://localhost:8080/default\","
             "\"aud\":\"default\",\"iat\":%d,\"nbf\":%d,\"exp\":%d}", NOW - 10, NOW - 10,
             NOW + 3600);
    idp_token(token, sizeof(token), claims);

    /* the verifier says no: 401, nothing recorded */
    verifier_answer = "{\"error\":\"Signature verification failed\",\"valid\":false}";
    assert_int_equal(authn(&r, token, "server"), 401);
    assert_non_null(strstr(r.body, "not valid"));
    tkr_service_resp_free(&r);
    assert_int_equal(mem.nent, 0);
    /* bad usage and missing csr: 400 */
    verifier_answer = "{\"claims\":{},\"valid\":true}";
    assert_int_equal(authn(&r, token, "admin"), 400);
    tkr_service_resp_free(&r);
    assert_int_equal(call(&r, "POST", "/api/v1/authn/jwt", NULL, "{\"jwt\":\"a\"}"), 400);
    tkr_service_resp_free(&r);
    assert_int_equal(call(&r, "GET", "/api/v1/authn/jwt", NULL, NULL), 405);
    tkr_service_resp_free(&r);
    /* another issuer than the trusted URI's, though vouched for: 403 */
    snprintf(claims, sizeof(claims),
             "{\"sub\":\"softioc\",\"iss\":\"http://elsewhere/default\",\"exp\":%d}",
             NOW + 3600);
    idp_token(cert, sizeof(cert), claims);
    assert_int_equal(authn(&r, cert, "server"), 403);
    tkr_service_resp_free(&r);
    assert_int_equal(mem.nent, 0);

    /* vouched for: 200, the certificate from the claims, recorded with
     * its audit line */
    n = mem.audits;
    assert_int_equal(authn(&r, token, "server"), 200);
    assert_int_equal(mem.audits, n + 1);
    assert_int_equal(tkr_json_parse(&doc, tok, 16, r.body, r.len, NULL), 0);
    assert_int_equal(tkr_json_get_str(&doc, cert, sizeof(cert), &n,
                                      tkr_json_find(&doc, 0, "certificate")), 0);
    tkr_service_resp_free(&r);
    assert_int_equal(mem.nent, 1);
    assert_string_equal(mem.ent[0]->type, "jwt-server");
    mbedtls_x509_crt_init(&crt);
    assert_int_equal(mbedtls_x509_crt_parse(&crt, (const unsigned char *)cert, n + 1), 0);
    {
        char dn[256];
        assert_true(mbedtls_x509_dn_gets(dn, sizeof(dn), &crt.subject) > 0);
        assert_string_equal(dn, "CN=softioc, O=localhost");
    }
    assert_int_equal(crt.valid_to.hour * 3600 + crt.valid_to.min * 60 + crt.valid_to.sec,
                     (NOW + 3600) % 86400);
    assert_int_equal(tkr_authjwt_cert_id(id, sizeof(id), &crt), 0);
    mbedtls_x509_crt_free(&crt);
    /* its status by the id authnjwt prints */
    snprintf(path, sizeof(path), "/api/v1/cert/%s", id);
    assert_int_equal(call(&r, "GET", path, NULL, NULL), 200);
    assert_non_null(strstr(r.body, "\"status\":\"VALID\""));
    assert_non_null(strstr(r.body, "\"subject\":\"CN=softioc, O=localhost\""));
    tkr_service_resp_free(&r);
    port_ctx.fixed_now = NOW + 3601;
    assert_int_equal(call(&r, "GET", path, NULL, NULL), 200);
    assert_non_null(strstr(r.body, "\"status\":\"EXPIRED\""));
    tkr_service_resp_free(&r);
    svc.jwt = NULL;
}

/* A worker keeps parsed token policies by the claim's exact bytes:
 * policies of one length that differ in one word (approve, pending) stay
 * apart, and with more distinct policies than it keeps, the ones it
 * dropped are parsed again and still decide. */
static void test_worker_policy_cache_follows_each_token(void **state)
{
    enum { DISTINCT = TKR_SERVICE_POLICY_CACHE + 4 };
    static const char *const actions[] = {"approve", "pending", "reject"};
    static const int status[] = {200, 202, 403};
    tkr_service_worker_t wk;
    tkr_service_resp_t r;
    char pol[256], tok[4096], meta[64], sub[32];
    int pass, i, a, n = 0;

    (void)state;
    tkr_service_worker_init(&wk, &signer);
    worker = &wk;
    for (pass = 0; pass < 3; pass++) {
        for (i = 0; i < DISTINCT; i++) {
            /* Each pass gives policy i another action. */
            a = (i + pass) % 3;
            snprintf(pol, sizeof(pol),
                     "{\"metadata\":{\"description\":\"p%02d\"},\"approval\":"
                     "{\"rules\":[{\"name\":\"r\",\"action\":\"%s\"}]}}",
                     i, actions[a]);
            snprintf(sub, sizeof(sub), "site-%d", n);
            snprintf(meta, sizeof(meta), "{\"name\":\"site-%d\"}", n);
            n++;
            mint(tok, sizeof(tok), sub, TKR_SUBJECT_CLIENT, pol);
            assert_int_equal(enroll(&r, tok, meta), status[a]);
            tkr_service_resp_free(&r);
        }
    }
    worker = NULL;
    tkr_service_worker_free(&wk);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_pending_request_expires, reset),
        cmocka_unit_test_setup(test_approving_token_meets_a_waiting_request, reset),
        cmocka_unit_test_setup(test_admin_routes_closed_without_api_key, reset),
        cmocka_unit_test_setup(test_user_alias_takes_policy_default_role, reset),
        cmocka_unit_test_setup(test_null_metadata_fields_and_default_type, reset),
        cmocka_unit_test_setup(test_token_without_enrollment_claims_is_401, reset),
        cmocka_unit_test_setup(test_bad_names_and_types_are_400, reset),
        cmocka_unit_test_setup(test_authn_jwt_issues_records_and_reports_status, reset),
        cmocka_unit_test_setup(test_retry_after_auto_approval_gets_the_same_certificate, reset),
        cmocka_unit_test_setup(test_revoke_route, reset),
        cmocka_unit_test_setup(test_worker_policy_cache_follows_each_token, reset),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
