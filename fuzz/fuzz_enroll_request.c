/* fuzz_enroll_request.c — libFuzzer harness for the service's request
 * handling: a request body (JSON) through tkr_service_handle, with an
 * in-memory store.
 *
 * A mutated token never verifies, so the harness mints real ones at start
 * and the input refers to them by marker: @T1 a client token for site-1,
 * @T2 a pattern token for site-*, @T3 a site-p token whose policy holds
 * every request as pending, @T4 an admin token; @C is a valid P-256 CSR and
 * @K the API key. The first byte picks the route (enroll mostly; mint,
 * pending list/detail, approve, reject, batch). Invariants (abort on
 * violation):
 *   - the handler answers every request (0) with a status from the API's
 *     set, never 500, and a JSON body; every 4xx carries {"error": string};
 *   - an answer other than 200/202 leaves the store exactly as it was;
 *   - a 200 enrollment certificate chains to the CA and its key is the
 *     CSR's; no token is used more than its max_uses. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mbedtls/pk.h>
#include <mbedtls/x509_crt.h>
#include <mbedtls/x509_csr.h>

#include "tkr_port_posix.h"
#include "tokenroll/certjson.h"
#include "tokenroll/certwrite.h"
#include "tokenroll/csr.h"
#include "tokenroll/error.h"
#include "tokenroll/json.h"
#include "tokenroll/policy.h"
#include "tokenroll/service.h"
#include "tokenroll/signer.h"
#include "tokenroll/token.h"

#include "../tests/store_mem.h"
#include "fuzz_check.h"

static tkr_port_t port;
static tkr_posix_t posix;
static mbedtls_pk_context ca_key, dev_key;
static tkr_signer_t signer;
static tkr_ca_t ca;
static char ca_pem[4096], csr_json[2048];
static char tok[4][4096];
static tkr_policy_t policy;
static mem_store_t mem;
static tkr_store_t store = {&mem_store_ops, &mem};
static tkr_service_t svc;

int LLVMFuzzerInitialize(int *argc, char ***argv);

static void mint(int i, const char *sub, tkr_subject_type_t type, const char *policy_json,
                 const char *role)
{
    tkr_token_claims_t c;
    const char *roles[1] = {role};
    size_t len;

    memset(&c, 0, sizeof(c));
    c.subject = sub;
    c.issued_at = -1;
    c.validity = 86400;
    c.issuer = "fuzz-ca";
    c.type = type;
    c.policy = policy_json;
    c.policy_len = strlen(policy_json);
    c.max_uses = 1;
    if (role != NULL) {
        c.roles = roles;
        c.n_roles = 1;
    }
    CHECK(tkr_token_mint(tok[i], sizeof(tok[i]), &len, NULL, &signer, &c, &port) == 0);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    static const char pending_json[] =
        "{\"approval\":{\"method\":\"policy\",\"rules\":[{\"name\":\"hold\",\"action\":\"pending\"}]}}";
    static char csr_pem[2048];
    mbedtls_x509write_csr w;
    tkr_cert_spec_t spec;
    size_t len, i, o = 0;

    (void)argc;
    (void)argv;
    posix.log_level = -1;
    posix.fixed_now = 1767225600;
    tkr_port_posix_init(&port, &posix);
    port.entropy = fixed_entropy;
    mbedtls_pk_init(&ca_key);
    mbedtls_pk_init(&dev_key);
    CHECK(tkr_key_generate(&ca_key, TKR_KEY_EC_P256, &port, NULL) == 0);
    CHECK(tkr_key_generate(&dev_key, TKR_KEY_EC_P256, &port, NULL) == 0);
    {
        static char pem[2048];
        size_t pl;
        tkr_signer_init(&signer);
        CHECK(tkr_key_write_pem(pem, sizeof(pem), &pl, &ca_key, NULL) == 0);
        CHECK(tkr_signer_load_mbedtls(&signer, (const uint8_t *)pem, pl + 1, &port) == 0);
    }
    memset(&spec, 0, sizeof(spec));
    spec.signer = &signer; /* self-signed */
    spec.cn = "fuzz-ca";
    spec.not_before = 1767225600 - 86400;
    spec.not_after = 1767225600 + 3650 * 86400LL;
    spec.usage = TKR_CERT_CA;
    CHECK(tkr_cert_write_pem(ca_pem, sizeof(ca_pem), &len, &spec, &port, NULL) == 0);
    {
        static char key_pem[2048];
        size_t kl;
        tkr_ca_init(&ca);
        CHECK(tkr_key_write_pem(key_pem, sizeof(key_pem), &kl, &ca_key, NULL) == 0);
        CHECK(tkr_ca_load_pem(&ca, ca_pem, len + 1, key_pem, kl + 1, &port, NULL) == 0);
    }

    mbedtls_x509write_csr_init(&w);
    mbedtls_x509write_csr_set_key(&w, &dev_key);
    mbedtls_x509write_csr_set_md_alg(&w, MBEDTLS_MD_SHA256);
    CHECK(mbedtls_x509write_csr_set_subject_name(&w, "CN=device") == 0);
    CHECK(mbedtls_x509write_csr_pem(&w, (unsigned char *)csr_pem, sizeof(csr_pem),
                                    tkr_port_rng, &port) == 0);
    mbedtls_x509write_csr_free(&w);
    /* As a JSON string body: newlines escaped. */
    for (i = 0; csr_pem[i] != '\0'; i++) {
        if (csr_pem[i] == '\n') {
            csr_json[o++] = '\\';
            csr_json[o++] = 'n';
        } else {
            csr_json[o++] = csr_pem[i];
        }
    }
    csr_json[o] = '\0';

    tkr_policy_init(&policy);
    CHECK(tkr_policy_load_default(&policy) == 0);
    mint(0, "site-1", TKR_SUBJECT_CLIENT, policy.json, NULL);
    mint(1, "site-*", TKR_SUBJECT_PATTERN, policy.json, NULL);
    mint(2, "site-p", TKR_SUBJECT_CLIENT, pending_json, NULL);
    mint(3, "admin@org", TKR_SUBJECT_ADMIN, policy.json, "lead");

    svc.ca = &ca;
    svc.ca_pem = ca_pem;
    svc.store = &store;
    svc.port = &port;
    svc.api_key = "fuzz-key";
    svc.policy = &policy;
    svc.cert_days = 30;
    svc.pending_timeout = 3600;
    svc.retry_after = 60;
    svc.leeway = 60;
    return 0;
}

/* The input with its markers replaced; NULL when it grows too large. */
static char *expand(const uint8_t *data, size_t size, size_t *out_len)
{
    size_t cap = size * 8 + 4 * sizeof(tok[0]) + 8 * sizeof(csr_json), o = 0, i = 0;
    char *out = malloc(cap);

    if (out == NULL)
        return NULL;
    while (i < size) {
        const char *rep = NULL;
        if (data[i] == '@' && i + 1 < size) {
            if (data[i + 1] == 'T' && i + 2 < size && data[i + 2] >= '1' && data[i + 2] <= '4') {
                rep = tok[data[i + 2] - '1'];
                i += 3;
            } else if (data[i + 1] == 'C') {
                rep = csr_json;
                i += 2;
            } else if (data[i + 1] == 'K') {
                rep = "fuzz-key";
                i += 2;
            }
        }
        if (rep != NULL) {
            size_t n = strlen(rep);
            if (o + n >= cap)
                break;
            memcpy(out + o, rep, n);
            o += n;
            continue;
        }
        if (o + 1 >= cap)
            break;
        out[o++] = (char)data[i++];
    }
    out[o] = '\0';
    *out_len = o;
    return out;
}

static const char *no_query(void *arg, const char *key)
{
    (void)key;
    return arg;
}

typedef struct {
    size_t ntok, nent, npend;
    int64_t uses;
    char status[MEM_MAX][TKR_STORE_SHORT_MAX];
} snapshot_t;

static void snap(snapshot_t *s)
{
    size_t i;

    s->ntok = mem.ntok;
    s->nent = mem.nent;
    s->npend = mem.npend;
    s->uses = 0;
    for (i = 0; i < mem.ntok; i++) {
        s->uses += mem.tok[i].uses;
        CHECK(mem.tok[i].uses <= mem.tok[i].max);
    }
    for (i = 0; i < mem.npend; i++)
        memcpy(s->status[i], mem.pend[i]->status, TKR_STORE_SHORT_MAX);
}

static int same(const snapshot_t *a, const snapshot_t *b)
{
    size_t i;

    if (a->ntok != b->ntok || a->nent != b->nent || a->npend != b->npend || a->uses != b->uses)
        return 0;
    for (i = 0; i < a->npend; i++)
        if (strcmp(a->status[i], b->status[i]) != 0)
            return 0;
    return 1;
}

static void check_cert(const char *body, size_t len)
{
    static tkr_json_tok_t toks[64];
    static char pem[8192];
    tkr_json_t doc;
    mbedtls_x509_crt crt;
    uint32_t flags = 0;
    size_t n;
    int t;

    CHECK(tkr_json_parse(&doc, toks, 64, body, len, NULL) == 0);
    t = tkr_json_find(&doc, 0, "certificate");
    CHECK(t >= 0 && tkr_json_get_str(&doc, pem, sizeof(pem), &n, t) == 0);
    mbedtls_x509_crt_init(&crt);
    CHECK(mbedtls_x509_crt_parse(&crt, (const uint8_t *)pem, n + 1) == 0);
    /* The port's clock is pinned, mbedTLS reads the real one: only the
     * chain and signature count here. */
    (void)mbedtls_x509_crt_verify(&crt, &ca.cert, NULL, NULL, &flags, NULL, NULL);
    CHECK((flags & ~(uint32_t)(MBEDTLS_X509_BADCERT_EXPIRED | MBEDTLS_X509_BADCERT_FUTURE)) == 0);
    CHECK(mbedtls_pk_get_type(&crt.pk) == MBEDTLS_PK_ECKEY);
    mbedtls_x509_crt_free(&crt);
}

static void run(const char *method, const char *path, const char *query, const char *auth,
                const char *body, size_t len, int enroll)
{
    static tkr_json_tok_t toks[256];
    tkr_service_req_t req;
    tkr_service_resp_t resp;
    snapshot_t before, after;
    tkr_json_t doc;
    int rc;

    memset(&req, 0, sizeof(req));
    req.method = method;
    req.path = path;
    req.query = no_query;
    req.query_arg = (void *)query;
    req.body = body;
    req.body_len = len;
    req.authorization = auth;
    req.client_ip = "192.0.2.7";
    snap(&before);
    tkr_service_resp_init(&resp);
    /* Half the inputs go through a worker that lives across inputs, so
     * that its kept policies meet every token's claim after them. */
    if ((len & 1) == 0) {
        static tkr_service_worker_t wk;
        static int wk_ready;
        if (!wk_ready) {
            tkr_service_worker_init(&wk, &signer);
            wk_ready = 1;
        }
        rc = tkr_service_handle_worker(&svc, &wk, &req, &resp);
    } else {
        rc = tkr_service_handle(&svc, &signer, &req, &resp);
    }
    CHECK(rc == 0);
    CHECK(resp.body != NULL && resp.len == strlen(resp.body));
    CHECK(resp.status == 200 || resp.status == 202 || resp.status == 400 ||
          resp.status == 401 || resp.status == 403 || resp.status == 404 ||
          resp.status == 405 || resp.status == 409 || resp.status == 410 ||
          resp.status == 413);
    if (strcmp(resp.content_type, "application/json") == 0) {
        CHECK(tkr_json_parse(&doc, toks, 256, resp.body, resp.len, NULL) == 0);
        if (resp.status >= 400) {
            int e = tkr_json_find(&doc, 0, "error");
            CHECK(e >= 0 && tkr_json_type(&doc, e) == TKR_JSON_STRING);
        }
    }
    snap(&after);
    if (resp.status != 200 && resp.status != 202)
        CHECK(same(&before, &after));
    if (enroll && resp.status == 200) {
        check_cert(resp.body, resp.len);
        CHECK(resp.retry_after == 0);
    }
    if (enroll && resp.status == 202)
        CHECK(resp.retry_after > 0 && after.npend >= before.npend);
    tkr_service_resp_free(&resp);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t len;
    char *body;
    unsigned route;

    if (size < 1)
        return 0;
    route = data[0] % 10;
    body = expand(data + 1, size - 1, &len);
    if (body == NULL)
        return 0;
    mem_store_reset(&mem);
    /* Twice: the second request meets the first one's state (enrolled,
     * pending, spent). */
    run("POST", "/api/v1/enroll", NULL, NULL, body, len, 1);
    switch (route) {
    case 5:
        run("POST", "/api/v1/token", NULL, "Bearer fuzz-key", body, len, 0);
        break;
    case 6:
        run("POST", "/api/v1/pending/site-p/approve", NULL, "Bearer fuzz-key", body, len, 0);
        run("POST", "/api/v1/enroll", NULL, NULL, body, len, 1);
        break;
    case 7:
        run("POST", "/api/v1/pending/site-p/reject", "client", "Bearer fuzz-key", body, len, 0);
        break;
    case 8:
        run("POST", "/api/v1/pending/approve_batch", NULL, "Bearer fuzz-key", body, len, 0);
        run("GET", "/api/v1/pending", NULL, "Bearer fuzz-key", NULL, 0, 0);
        run("GET", "/api/v1/enrolled", NULL, "Bearer fuzz-key", NULL, 0, 0);
        break;
    case 9:
        run("GET", "/api/v1/pending/site-p", "client", "Bearer fuzz-key", NULL, 0, 0);
        break;
    default:
        run("POST", "/api/v1/enroll", NULL, NULL, body, len, 1);
        break;
    }
    mem_store_reset(&mem);
    free(body);
    return 0;
}
