/* bench_enroll.c — where an enrollment's CPU goes, without TLS or a
 * database: the three public-key operations (token verify, CSR verify,
 * certificate signature) one by one, and the whole enroll handler
 * (tkr_service_handle over an in-memory store), for an RSA-2048 and a P-256
 * CA. Rates are per core and on all cores (the service's thread pool is
 * sized to the cores); serve.sh puts the HTTPS figures beside these.
 *
 * usage: bench_enroll [SECONDS] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <mbedtls/pk.h>
#include <mbedtls/version.h>
#include <mbedtls/x509_crt.h>
#include <mbedtls/x509_csr.h>

#include "../store_mem.h"
#include "serve.h"
#include "tkr_port_posix.h"
#include "tokenroll/certjson.h"
#include "tokenroll/certwrite.h"
#include "tokenroll/csr.h"
#include "tokenroll/issue.h"
#include "tokenroll/key.h"
#include "tokenroll/policy.h"
#include "tokenroll/service.h"
#include "tokenroll/signer.h"
#include "tokenroll/token.h"

static tkr_port_t port;
static double seconds = 0.5;
static long cores = 1;

static double cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what)
{
    fprintf(stderr, "bench_enroll: %s failed\n", what);
    exit(1);
}

typedef struct {
    const char *label;
    mbedtls_pk_context ca_key;
    tkr_signer_t mbed, fast;     /* fast: OpenSSL where built in */
    int have_fast;
    tkr_ca_t ca;
    char ca_pem[4096];
    char token[4096];            /* one pattern token, many uses */
    tkr_jwt_alg_t alg;
} ca_t;

static char csr_pem[2048];
static char csr_json[2048];       /* the same, newlines escaped for JSON */
static char body[8192];

static void report(const char *what, const char *ca, long n, double t)
{
    double per = t / (double)n;
    printf("  %-30s %-6s %8.3f ms  %7.0f/s per core  %7.0f/s on %ld cores\n", what, ca,
           per * 1e3, 1.0 / per, (double)cores / per, cores);
}

static void make_ca(ca_t *c, tkr_key_type_t kt, const char *label)
{
    tkr_cert_spec_t spec;
    tkr_token_claims_t cl;
    tkr_policy_t pol;
    size_t len;
    static const char policy_json[] = "{\"token\":{\"max_uses\":1000000000}}";

    c->label = label;
    mbedtls_pk_init(&c->ca_key);
    if (tkr_key_generate(&c->ca_key, kt, &port, NULL) != 0)
        die("CA key generation");
    {
        static char pem[4096];
        size_t pl;
        tkr_signer_init(&c->mbed);
        tkr_signer_init(&c->fast);
        if (tkr_key_write_pem(pem, sizeof(pem), &pl, &c->ca_key, NULL) != 0 ||
            tkr_signer_load_mbedtls(&c->mbed, (const uint8_t *)pem, pl + 1, &port) != 0)
            die("mbedTLS signer");
#if defined(TKR_WITH_OPENSSL)
        c->have_fast = tkr_signer_load_openssl(&c->fast, (const uint8_t *)pem, pl + 1) == 0;
#endif
    }
    memset(&spec, 0, sizeof(spec));
    spec.signer = &c->mbed; /* self-signed */
    spec.cn = "bench-ca";
    spec.not_before = time(NULL) - 3600;
    spec.not_after = time(NULL) + 3650 * 86400L;
    spec.usage = TKR_CERT_CA;
    if (tkr_cert_write_pem(c->ca_pem, sizeof(c->ca_pem), &len, &spec, &port, NULL) != 0)
        die("CA certificate");
    {
        static char key_pem[4096];
        size_t kl;
        tkr_ca_init(&c->ca);
        if (tkr_key_write_pem(key_pem, sizeof(key_pem), &kl, &c->ca_key, NULL) != 0 ||
            tkr_ca_load_pem(&c->ca, c->ca_pem, len + 1, key_pem, kl + 1, &port, NULL) != 0)
            die("CA load");
    }
    if (tkr_key_default_alg(&c->ca_key, &c->alg) != 0)
        die("CA alg");
    tkr_policy_init(&pol);
    memset(&cl, 0, sizeof(cl));
    cl.subject = "dev-*";
    cl.issued_at = -1;
    cl.validity = 86400;
    cl.issuer = "bench-ca";
    cl.type = TKR_SUBJECT_PATTERN;
    cl.policy = policy_json;
    cl.policy_len = strlen(policy_json);
    cl.max_uses = 1000000000;
    if (tkr_token_mint(c->token, sizeof(c->token), &len, NULL, &c->mbed, &cl, &port) != 0)
        die("token mint");
}

/* As the service checks a token: parse, then tkr_token_verify_with (the
 * signature under the CA key through v, NULL for mbedTLS; iss, exp). */
static void bench_token_verify(ca_t *c, const tkr_sig_verifier_t *v, const char *what)
{
    static tkr_jwt_t jwt;
    double t0 = cpu_now(), t;
    long n = 0;

    do {
        if (tkr_jwt_parse(&jwt, c->token, strlen(c->token), NULL) != 0 ||
            tkr_token_verify_with(&jwt, &c->ca, v, time(NULL), NULL) != 0)
            die("token verify");
        n++;
    } while ((t = cpu_now() - t0) < seconds);
    report(what, c->label, n, t);
}

static void bench_csr_verify(const tkr_sig_verifier_t *v, const char *what)
{
    double t0 = cpu_now(), t;
    long n = 0;

    do {
        mbedtls_x509_csr csr;
        mbedtls_x509_csr_init(&csr);
        if (tkr_csr_check_with(&csr, (const uint8_t *)csr_pem, strlen(csr_pem) + 1, v, NULL) != 0)
            die("CSR check");
        mbedtls_x509_csr_free(&csr);
        n++;
    } while ((t = cpu_now() - t0) < seconds);
    report(what, "-", n, t);
}

static void bench_issue(ca_t *c, tkr_signer_t *sg, const char *what)
{
    static char pem[TKR_ISSUE_PEM_MAX];
    mbedtls_x509_csr csr;
    tkr_issue_req_t req = {NULL, "dev-1", NULL, NULL, TKR_SUBJECT_CLIENT, 0, 365, 0, 0, 0};
    tkr_issued_t is;
    double t0, t;
    size_t len;
    long n = 0;

    mbedtls_x509_csr_init(&csr);
    if (tkr_csr_check(&csr, (const uint8_t *)csr_pem, strlen(csr_pem) + 1, NULL) != 0)
        die("CSR check");
    req.key = &csr.pk;
    req.now = time(NULL);
    t0 = cpu_now();
    do {
        if (tkr_issue_cert(pem, sizeof(pem), &len, &is, &req, &c->ca.cert, sg, &port) != 0)
            die("issue");
        n++;
    } while ((t = cpu_now() - t0) < seconds);
    mbedtls_x509_csr_free(&csr);
    report(what, c->label, n, t);
}

static void bench_handler(ca_t *c, tkr_signer_t *sg, const tkr_sig_verifier_t *v,
                          const char *what)
{
    static mem_store_t mem;
    tkr_store_t store = {&mem_store_ops, &mem};
    tkr_service_t svc;
    tkr_service_req_t req;
    tkr_service_worker_t wk;
    double t0, t;
    long n = 0;

    /* As served: a worker keeps its parsed policies and work space. */
    tkr_service_worker_init(&wk, sg);
    memset(&svc, 0, sizeof(svc));
    svc.ca = &c->ca;
    svc.ca_pem = c->ca_pem;
    svc.store = &store;
    svc.port = &port;
    svc.cert_days = 365;
    svc.pending_timeout = 3600;
    svc.retry_after = 60;
    svc.leeway = 60;
    svc.verifier = v;
    memset(&req, 0, sizeof(req));
    req.method = "POST";
    req.path = "/api/v1/enroll";
    req.body = body;
    req.client_ip = "127.0.0.1";
    t0 = cpu_now();
    do {
        tkr_service_resp_t resp;
        snprintf(body, sizeof(body),
                 "{\"token\":\"%s\",\"csr\":\"%s\",\"metadata\":{\"name\":\"dev-%ld\"}}",
                 c->token, csr_json, n);
        /* The in-memory store holds 64 entities. */
        if (n % 60 == 0)
            mem_store_reset(&mem);
        req.body_len = strlen(body);
        tkr_service_resp_init(&resp);
        if (tkr_service_handle_worker(&svc, &wk, &req, &resp) != 0 || resp.status != 200) {
            fprintf(stderr, "%s\n", resp.body ? resp.body : "");
            die("enroll handler");
        }
        tkr_service_resp_free(&resp);
        n++;
    } while ((t = cpu_now() - t0) < seconds);
    mem_store_reset(&mem);
    tkr_service_worker_free(&wk);
    report(what, c->label, n, t);
}

int main(int argc, char **argv)
{
    static tkr_posix_t posix = {TKR_LOG_ERROR, -1};
    mbedtls_pk_context dev;
    mbedtls_x509write_csr w;
    ca_t rsa, ec;
    cli_verifier_t rsa_v, ec_v;

    if (argc > 1)
        seconds = atof(argv[1]);
    cores = sysconf(_SC_NPROCESSORS_ONLN);
    tkr_port_posix_init(&port, &posix);
    mbedtls_pk_init(&dev);
    mbedtls_x509write_csr_init(&w);
    if (tkr_key_generate(&dev, TKR_KEY_EC_P256, &port, NULL) != 0)
        die("device key");
    mbedtls_x509write_csr_set_key(&w, &dev);
    mbedtls_x509write_csr_set_md_alg(&w, MBEDTLS_MD_SHA256);
    if (mbedtls_x509write_csr_set_subject_name(&w, "CN=device") != 0 ||
        mbedtls_x509write_csr_pem(&w, (unsigned char *)csr_pem, sizeof(csr_pem), tkr_port_rng,
                                  &port) != 0)
        die("CSR write");
    mbedtls_x509write_csr_free(&w);
    {
        size_t i, o = 0;
        for (i = 0; csr_pem[i] != '\0'; i++) {
            if (csr_pem[i] == '\n') {
                csr_json[o++] = '\\';
                csr_json[o++] = 'n';
            } else {
                csr_json[o++] = csr_pem[i];
            }
        }
        csr_json[o] = '\0';
    }
    make_ca(&rsa, TKR_KEY_RSA_2048, "RSA");
    make_ca(&ec, TKR_KEY_EC_P256, "P-256");
    printf("enrollment CPU, no TLS and no database (mbedTLS %s, CPU time of one thread):\n",
           MBEDTLS_VERSION_STRING);
    /* As the service has them: the CA key decoded once (cli/serve.h). */
    if (cli_verifier_init(&rsa_v, &rsa.ca.cert.pk) != 0 ||
        cli_verifier_init(&ec_v, &ec.ca.cert.pk) != 0)
        die("verifier");
    bench_token_verify(&rsa, NULL, "token verify (parse+sig, mbedTLS)");
    bench_token_verify(&ec, NULL, "token verify (parse+sig, mbedTLS)");
    if (ec_v.v.verify != NULL) {
        bench_token_verify(&rsa, &rsa_v.v, "token verify (parse+sig, libcrypto)");
        bench_token_verify(&ec, &ec_v.v, "token verify (parse+sig, libcrypto)");
    }
    bench_csr_verify(NULL, "CSR verify (P-256, mbedTLS)");
    if (ec_v.v.verify != NULL)
        bench_csr_verify(&ec_v.v, "CSR verify (P-256, libcrypto)");
    bench_issue(&rsa, &rsa.mbed, "certificate, mbedTLS signer");
    bench_issue(&ec, &ec.mbed, "certificate, mbedTLS signer");
    if (rsa.have_fast && ec.have_fast) {
        bench_issue(&rsa, &rsa.fast, "certificate, OpenSSL signer");
        bench_issue(&ec, &ec.fast, "certificate, OpenSSL signer");
    }
    bench_handler(&rsa, &rsa.mbed, NULL, "enroll handler, mbedTLS only");
    bench_handler(&ec, &ec.mbed, NULL, "enroll handler, mbedTLS only");
    bench_handler(&rsa, rsa.have_fast ? &rsa.fast : &rsa.mbed, &rsa_v.v,
                  "enroll handler as served");
    bench_handler(&ec, ec.have_fast ? &ec.fast : &ec.mbed, &ec_v.v,
                  "enroll handler as served");
    cli_verifier_free(&rsa_v);
    cli_verifier_free(&ec_v);
    return 0;
}
