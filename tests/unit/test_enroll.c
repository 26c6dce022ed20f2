/* test_enroll.c — the device flow's parts: request body, the service's
 * answers, the certificate checks (certificates made by openssl), the
 * commit with a power cut at every storage step, and the checks that must
 * stop the flow before any traffic (FLARE's own token, a pinned clock and a
 * transport that counts connections). */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "test_util.h"
#include "tokenroll/enroll.h"
#include "tokenroll/error.h"

/* ---- a port with an in-memory blob store that can lose power ---- */

#define SLOTS 16
typedef struct {
    char name[SLOTS][TKR_PATH_MAX];
    uint8_t *data[SLOTS];
    size_t len[SLOTS];
    unsigned flags[SLOTS];
    int ops;        /* store writes and removes so far */
    int cut_at;     /* the op that never happens (power cut); -1: none */
    int64_t now;
    uint64_t mono;
    int connects;
} mem_t;

static int find(mem_t *m, const char *name)
{
    int i;
    for (i = 0; i < SLOTS; i++)
        if (m->data[i] != NULL && strcmp(m->name[i], name) == 0)
            return i;
    return -1;
}

static int m_read(void *ctx, const char *name, uint8_t *buf, size_t size, size_t *len)
{
    mem_t *m = ctx;
    int i = find(m, name);
    if (i < 0)
        return TKR_E_NOT_FOUND;
    if (m->len[i] > size)
        return TKR_E_BUFFER_TOO_SMALL;
    memcpy(buf, m->data[i], m->len[i]);
    *len = m->len[i];
    return 0;
}

/* A cut op fails and so does every later one: the device is off. */
static int powered(mem_t *m)
{
    if (m->cut_at >= 0 && m->ops >= m->cut_at)
        return 0;
    m->ops++;
    return 1;
}

static int m_write(void *ctx, const char *name, const uint8_t *d, size_t len, unsigned flags)
{
    mem_t *m = ctx;
    int i = find(m, name);
    if (!powered(m))
        return TKR_E_IO;
    if (i < 0)
        for (i = 0; i < SLOTS && m->data[i] != NULL; i++)
            ;
    assert_true(i < SLOTS);
    free(m->data[i]);
    m->data[i] = malloc(len + 1);
    memcpy(m->data[i], d, len);
    m->len[i] = len;
    m->flags[i] = flags;
    snprintf(m->name[i], TKR_PATH_MAX, "%s", name);
    return 0;
}

static int m_remove(void *ctx, const char *name)
{
    mem_t *m = ctx;
    int i = find(m, name);
    if (!powered(m))
        return TKR_E_IO;
    if (i >= 0) {
        free(m->data[i]);
        m->data[i] = NULL;
    }
    return 0;
}

static int64_t m_wall(void *ctx) { return ((mem_t *)ctx)->now; }
static uint64_t m_mono(void *ctx) { return ((mem_t *)ctx)->mono; }
static void m_sleep(void *ctx, uint32_t ms) { ((mem_t *)ctx)->mono += ms; }

static int m_entropy(void *ctx, uint8_t *out, size_t len)
{
    FILE *f = fopen("/dev/urandom", "rb");
    (void)ctx;
    assert_int_equal(fread(out, 1, len, f), len);
    fclose(f);
    return 0;
}

static void mem_port(tkr_port_t *p, mem_t *m)
{
    memset(m, 0, sizeof(*m));
    m->cut_at = -1;
    memset(p, 0, sizeof(*p));
    p->ctx = m;
    p->entropy = m_entropy;
    p->wall_time = m_wall;
    p->mono_ms = m_mono;
    p->sleep_ms = m_sleep;
    p->store_read = m_read;
    p->store_write = m_write;
    p->store_remove = m_remove;
}

static void mem_free(mem_t *m)
{
    int i;
    for (i = 0; i < SLOTS; i++)
        free(m->data[i]);
}

static const char *get(mem_t *m, const char *name)
{
    int i = find(m, name);
    if (i < 0)
        return NULL;
    m->data[i][m->len[i]] = '\0';
    return (const char *)m->data[i];
}

static void put(mem_t *m, const char *name, const char *text)
{
    int cut = m->cut_at;
    m->cut_at = -1;
    assert_int_equal(m_write(m, name, (const uint8_t *)text, strlen(text), 0), 0);
    m->cut_at = cut;
}

/* A transport that only counts: the pre-flight tests must not connect. */
static int t_connect(void *ctx, const char *h, uint16_t p, uint32_t ms)
{
    (void)h; (void)p; (void)ms;
    ((mem_t *)ctx)->connects++;
    return TKR_E_NET;
}
static int t_send(void *ctx, const uint8_t *b, size_t n, uint32_t ms)
{
    (void)ctx; (void)b; (void)n; (void)ms;
    return TKR_E_NET;
}
static int t_recv(void *ctx, uint8_t *b, size_t n, uint32_t ms)
{
    (void)ctx; (void)b; (void)n; (void)ms;
    return TKR_E_NET;
}

/* ---- certificates from openssl ---- */

static char dir[64];
static char ca_pem[4096], other_ca_pem[4096], leaf_pem[4096], leaf_key[4096],
    other_key[4096], expired_pem[4096];

static void sh(const char *fmt, ...)
{
    char cmd[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof(cmd), fmt, ap);
    va_end(ap);
    if (system(cmd) != 0)
        fail_msg("command failed: %s", cmd);
}

static void load(const char *name, char *buf)
{
    char p[128];
    snprintf(p, sizeof(p), "%s/%s", dir, name);
    read_file(p, buf, 4096);
}

static void make_certs(void)
{
    static int made;
    if (made)
        return;
    need_tool("openssl version");
    sh("cd %s && for c in ca other; do "
       "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes "
       "-keyout $c.key -out $c.crt -days 30 -subj /CN=$c-root "
       "-addext basicConstraints=critical,CA:TRUE 2>/dev/null || exit 1; done && "
       "for k in leaf otherleaf; do openssl ecparam -name prime256v1 -genkey -noout -out $k.key || exit 1; done && "
       "openssl req -new -key leaf.key -subj /CN=site-1 -out leaf.csr && "
       "openssl x509 -req -in leaf.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 10 -out leaf.crt 2>/dev/null && "
       "openssl x509 -req -in leaf.csr -CA ca.crt -CAkey ca.key -CAcreateserial "
       "-not_before 20200101000000Z -not_after 20200201000000Z -out expired.crt 2>/dev/null || "
       "openssl x509 -req -in leaf.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 1 -out expired.crt 2>/dev/null",
       dir);
    load("ca.crt", ca_pem);
    load("other.crt", other_ca_pem);
    load("leaf.crt", leaf_pem);
    load("leaf.key", leaf_key);
    load("otherleaf.key", other_key);
    load("expired.crt", expired_pem);
    made = 1;
}

static int group_setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof(dir), "/tmp/tkr-enroll.XXXXXX");
    return mkdtemp(dir) == NULL ? -1 : 0;
}

static int group_teardown(void **state)
{
    char cmd[128];
    (void)state;
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static void parse_key(mbedtls_pk_context *pk, const char *pem, const tkr_port_t *port)
{
    mbedtls_pk_init(pk);
    assert_int_equal(tkr_key_parse_private(pk, (const uint8_t *)pem, strlen(pem) + 1, port, NULL), 0);
}

/* ---- request and answers ---- */

static void test_request_body_as_flare_client_sends_it(void **state)
{
    char out[512];
    size_t n;
    (void)state;

    assert_int_equal(tkr_enroll_request_body(out, sizeof(out), &n, "a.b.c", 5,
                                             "-----BEGIN X-----\nQQ==\n", "site-1",
                                             "client", NULL, NULL), 0);
    assert_string_equal(out, "{\"token\":\"a.b.c\",\"csr\":\"-----BEGIN X-----\\nQQ==\\n\","
                             "\"metadata\":{\"name\":\"site-1\",\"type\":\"client\","
                             "\"org\":null,\"role\":null}}");
    assert_int_equal(n, strlen(out));
    assert_int_equal(tkr_enroll_request_body(out, sizeof(out), &n, "t", 1, "c", "a@b.org",
                                             "admin", "Org \"1\"", "lead"), 0);
    assert_string_equal(out, "{\"token\":\"t\",\"csr\":\"c\",\"metadata\":{\"name\":\"a@b.org\","
                             "\"type\":\"admin\",\"org\":\"Org \\\"1\\\"\",\"role\":\"lead\"}}");
    assert_int_equal(tkr_enroll_request_body(out, 20, &n, "t", 1, "c", "n", "client", NULL, NULL),
                     TKR_E_BUFFER_TOO_SMALL);
    /* UTF-8 kept, control characters escaped, as Python's json.dumps with
     * ensure_ascii=False writes them. */
    assert_int_equal(tkr_enroll_request_body(out, sizeof(out), &n, "t", 1, "c\t",
                                             "Z\xc3\xbcrich\x01", "client", NULL, NULL), 0);
    assert_string_equal(out, "{\"token\":\"t\",\"csr\":\"c\\t\",\"metadata\":{\"name\":"
                             "\"Z\xc3\xbcrich\\u0001\",\"type\":\"client\",\"org\":null,"
                             "\"role\":null}}");
    /* The text and its NUL need the whole buffer but one byte; short of
     * that, the size needed and an empty buffer. */
    assert_int_equal(tkr_enroll_request_body(out, sizeof(out), &n, "t", 1, "c", "n", "client",
                                             NULL, NULL), 0);
    assert_int_equal(n, 86);
    assert_int_equal(tkr_enroll_request_body(out, 88, &n, "t", 1, "c", "n", "client", NULL, NULL), 0);
    assert_int_equal(strlen(out), 86);
    assert_int_equal(tkr_enroll_request_body(out, 87, &n, "t", 1, "c", "n", "client", NULL, NULL),
                     TKR_E_BUFFER_TOO_SMALL);
    assert_int_equal(n, 86);
    assert_string_equal(out, "");
    /* Invalid UTF-8 in a value: refused, nothing written. */
    assert_int_equal(tkr_enroll_request_body(out, sizeof(out), &n, "t", 1, "c", "n\xff",
                                             "client", NULL, NULL), TKR_E_UTF8);
    assert_int_equal(n, 0);
    assert_string_equal(out, "");
}

static int answer(tkr_enroll_answer_t *a, int status, const char *body, char *cert, char *ca)
{
    tkr_json_tok_t tok[32];
    return tkr_enroll_parse_answer(a, cert, ca, tok, 32, status, (const uint8_t *)body,
                                   strlen(body));
}

static void test_answers_of_the_service(void **state)
{
    static char cert[TKR_ENROLL_PEM_MAX], ca[TKR_ENROLL_PEM_MAX];
    tkr_enroll_answer_t a;
    char big[TKR_ENROLL_PEM_MAX + 64];
    (void)state;

    assert_int_equal(answer(&a, 200, "{\"certificate\":\"C\\nX\",\"ca_cert\":\"R\"}", cert, ca), 0);
    assert_string_equal(a.certificate, "C\nX");
    assert_string_equal(a.ca_cert, "R");
    assert_int_equal(answer(&a, 200, "{\"certificate\":\"C\"}", cert, ca), TKR_E_NOT_FOUND);
    assert_int_equal(answer(&a, 200, "{\"certificate\":1,\"ca_cert\":\"R\"}", cert, ca), TKR_E_TYPE);
    assert_int_equal(answer(&a, 200, "[\"certificate\"]", cert, ca), TKR_E_TYPE);
    assert_true(answer(&a, 200, "<html>", cert, ca) < 0);
    snprintf(big, sizeof(big), "{\"certificate\":\"%0*d\",\"ca_cert\":\"R\"}", TKR_ENROLL_PEM_MAX, 0);
    assert_int_equal(answer(&a, 200, big, cert, ca), TKR_E_TOO_LARGE);

    assert_int_equal(answer(&a, 202, "{\"status\":\"pending\",\"request_id\":\"r-1\","
                                     "\"message\":\"wait for\\nit\"}", cert, ca), 0);
    assert_string_equal(a.request_id, "r-1");
    assert_string_equal(a.message, "wait for?it"); /* control characters never reach a log */
    assert_int_equal(answer(&a, 403, "{\"error\":\"rejected by policy (x) \\u00e9\"}", cert, ca), 0);
    assert_string_equal(a.message, "rejected by policy (x) ??");
    assert_int_equal(answer(&a, 502, "<html>bad gateway</html>", cert, ca), 0);
    assert_string_equal(a.message, "");
}

/* ---- certificate checks ---- */

static void test_check_cert(void **state)
{
    mbedtls_x509_crt root, other;
    mbedtls_pk_context key, wrong;
    tkr_port_t port;
    mem_t m;
    int64_t now = 0;
    (void)state;

    make_certs();
    mem_port(&port, &m);
    mbedtls_x509_crt_init(&root);
    mbedtls_x509_crt_init(&other);
    assert_int_equal(mbedtls_x509_crt_parse(&root, (const unsigned char *)ca_pem, strlen(ca_pem) + 1), 0);
    assert_int_equal(mbedtls_x509_crt_parse(&other, (const unsigned char *)other_ca_pem,
                                            strlen(other_ca_pem) + 1), 0);
    parse_key(&key, leaf_key, &port);
    parse_key(&wrong, other_key, &port);
    now = (int64_t)time(NULL);

    assert_int_equal(tkr_enroll_check_cert(leaf_pem, &root, &key, "site-1", now, &port), 0);
    assert_int_equal(tkr_enroll_check_cert(leaf_pem, &root, &key, "site-2", now, &port), TKR_E_SUB);
    assert_int_equal(tkr_enroll_check_cert(leaf_pem, &root, &key, "site-", now, &port), TKR_E_SUB);
    assert_int_equal(tkr_enroll_check_cert(leaf_pem, &root, &wrong, "site-1", now, &port),
                     TKR_E_KEY_MISMATCH);
    assert_int_equal(tkr_enroll_check_cert(leaf_pem, &other, &key, "site-1", now, &port), TKR_E_CERT);
    /* Validity by the port clock: before, inside, after. */
    assert_int_equal(tkr_enroll_check_cert(leaf_pem, &root, &key, "site-1", now + 20 * 86400, &port),
                     TKR_E_CERT);
    assert_int_equal(tkr_enroll_check_cert(leaf_pem, &root, &key, "site-1", now - 86400, &port),
                     TKR_E_CERT);
    {
        /* A device clock behind the service's: a minute before notBefore
         * is accepted (a certificate issued this second, not backdated),
         * two minutes are not. */
        mbedtls_x509_crt leaf;
        struct tm tm;
        int64_t from;
        mbedtls_x509_crt_init(&leaf);
        assert_int_equal(mbedtls_x509_crt_parse(&leaf, (const unsigned char *)leaf_pem,
                                                strlen(leaf_pem) + 1), 0);
        memset(&tm, 0, sizeof(tm));
        tm.tm_year = leaf.valid_from.year - 1900;
        tm.tm_mon = leaf.valid_from.mon - 1;
        tm.tm_mday = leaf.valid_from.day;
        tm.tm_hour = leaf.valid_from.hour;
        tm.tm_min = leaf.valid_from.min;
        tm.tm_sec = leaf.valid_from.sec;
        from = (int64_t)timegm(&tm);
        mbedtls_x509_crt_free(&leaf);
        assert_int_equal(tkr_enroll_check_cert(leaf_pem, &root, &key, "site-1", from - 60, &port), 0);
        assert_int_equal(tkr_enroll_check_cert(leaf_pem, &root, &key, "site-1", from - 61, &port),
                         TKR_E_CERT);
    }
    assert_int_equal(tkr_enroll_check_cert(expired_pem, &root, &key, "site-1", now + 2 * 86400, &port),
                     TKR_E_CERT);
    assert_int_equal(tkr_enroll_check_cert("junk", &root, &key, "site-1", now, &port), TKR_E_CERT);
    mbedtls_pk_free(&key);
    mbedtls_pk_free(&wrong);
    mbedtls_x509_crt_free(&root);
    mbedtls_x509_crt_free(&other);
    mem_free(&m);
}

/* ---- commit and power cuts ---- */

static tkr_enroll_t ws;

static void test_commit_power_cut_at_every_step(void **state)
{
    static const char *const old_key = "OLD KEY\n", *const old_crt = "OLD CRT\n";
    static const char *const new_key = "NEW KEY\n", *const new_crt = "NEW CRT\n",
                             *const new_ca = "THE CA\n";
    tkr_port_t port;
    mem_t m;
    int cut, completed = 0;
    (void)state;

    for (cut = 0; cut < 12; cut++) {
        const char *k, *c;
        int rc;

        mem_port(&port, &m);
        put(&m, "kit/client.key", old_key);
        put(&m, "kit/client.crt", old_crt);
        put(&m, "kit/rootCA.pem", new_ca);
        put(&m, "kit/pending.key", new_key);
        m.ops = 0;
        m.cut_at = cut;
        tkr_enroll_init(&ws);
        rc = tkr_enroll_commit(&ws, "kit", "client", new_key, new_crt, new_ca, &port);
        if (rc == 0) {
            completed++;
            assert_null(get(&m, "kit/enrollment.commit"));
            assert_null(get(&m, "kit/pending.key"));
        }
        /* Power back: the next run first finishes what was started. */
        m.cut_at = -1;
        assert_int_equal(tkr_enroll_recover(&ws, "kit", &port), 0);
        assert_null(get(&m, "kit/enrollment.commit"));
        k = get(&m, "kit/client.key");
        c = get(&m, "kit/client.crt");
        /* Old pair or new pair, never one of each. */
        if (strcmp(k, old_key) == 0)
            assert_string_equal(c, old_crt);
        else {
            assert_string_equal(k, new_key);
            assert_string_equal(c, new_crt);
            assert_string_equal(get(&m, "kit/rootCA.pem"), new_ca);
            assert_null(get(&m, "kit/pending.key"));
            assert_int_equal(m.flags[find(&m, "kit/client.key")], TKR_STORE_SECRET);
        }
        /* The blob itself is secret: it holds the key. */
        tkr_enroll_free(&ws);
        mem_free(&m);
    }
    assert_true(completed > 0 && completed < 12);
}

static void test_commit_refuses_foreign_blob(void **state)
{
    tkr_port_t port;
    mem_t m;
    (void)state;

    mem_port(&port, &m);
    put(&m, "enrollment.commit", "tokenroll-commit 1 client 3 3 99\nabcdef");
    tkr_enroll_init(&ws);
    assert_int_equal(tkr_enroll_recover(&ws, "", &port), TKR_E_IO);
    put(&m, "enrollment.commit", "tokenroll-commit 1 ../x 1 1 1\nabc");
    assert_int_equal(tkr_enroll_recover(&ws, "", &port), TKR_E_IO);
    assert_null(get(&m, "client.key"));
    tkr_enroll_free(&ws);
    mem_free(&m);
}

/* ---- the flow stops before any traffic ---- */

static char site1_jwt[4096];

/* A kit holding only the root CA, and FLARE's site-1 token to run with. */
static void site1_kit(tkr_port_t *port, mem_t *m)
{
    make_certs();
    read_file("tests/vectors/flare/fixed_site-1.jwt", site1_jwt, sizeof(site1_jwt));
    mem_port(port, m);
    put(m, "kit/rootCA.pem", ca_pem);
}

static int run(mem_t *m, tkr_port_t *port, tkr_enroll_result_t *res, const char *name,
               const char *type, const char *token)
{
    tkr_enroll_cfg_t cfg;
    tkr_transport_t t = {m, t_send, t_recv, t_connect, NULL};
    int rc;

    memset(&cfg, 0, sizeof(cfg));
    cfg.dir = "kit";
    cfg.name = name;
    cfg.type = type;
    cfg.token = token;
    cfg.token_len = token ? strlen(token) : 0;
    cfg.service_url = "https://localhost:1";
    cfg.wait_s = 10;
    tkr_enroll_init(&ws);
    rc = tkr_enroll_run(&ws, res, &cfg, &t, port);
    tkr_enroll_free(&ws);
    return rc;
}

static void test_preflight_refuses_before_traffic(void **state)
{
    tkr_enroll_result_t res;
    tkr_port_t port;
    mem_t m;
    (void)state;

    site1_kit(&port, &m);
    /* FLARE's token: iat 1767225600, valid 7 days. */
    m.now = 1767225600 + 8 * 86400;
    assert_int_equal(run(&m, &port, &res, NULL, NULL, site1_jwt), TKR_E_EXPIRED);
    assert_string_equal(res.message, "the enrollment token has expired");
    m.now = 1767225600 + 3600;
    assert_int_equal(run(&m, &port, &res, "site-2", NULL, site1_jwt), TKR_E_SUB);
    assert_int_equal(run(&m, &port, &res, NULL, "server", site1_jwt), TKR_E_SUB);
    assert_string_equal(res.message, "the enrollment token is for a client");
    assert_int_equal(run(&m, &port, &res, NULL, NULL, "not.a.token"), TKR_E_BASE64);
    assert_int_equal(run(&m, &port, &res, NULL, NULL, NULL), TKR_E_NOT_FOUND);
    m.now = -1; /* no clock yet: expiry cannot be checked */
    assert_int_equal(run(&m, &port, &res, NULL, NULL, site1_jwt), TKR_E_EXPIRED);
    assert_int_equal(m.connects, 0);
    /* No key was made or kept for any of them. */
    assert_null(get(&m, "kit/pending.key"));
    /* A good token does try the service, which is down: unreachable, and
     * the key made for it is gone again. */
    m.now = 1767225600 + 3600;
    assert_int_equal(run(&m, &port, &res, NULL, NULL, site1_jwt), TKR_E_NET);
    assert_int_equal(res.outcome, TKR_ENROLL_UNREACHABLE);
    assert_true(m.connects >= 2);
    assert_null(get(&m, "kit/pending.key"));
    mem_free(&m);
}

/* The token's times with the pre-flight's minute of leeway: expired from
 * exp + 60 on, and an iat more than a minute ahead of the clock refused;
 * inside the leeway the service is tried (it is down here). The same in
 * the device build (test_enroll_lean.c), which reads them from the token
 * info instead of the general claim checker. */
static void test_preflight_leeway(void **state)
{
    const int64_t iat = 1767225600, exp = iat + 7 * 86400;
    tkr_enroll_result_t res;
    tkr_port_t port;
    mem_t m;
    (void)state;

    site1_kit(&port, &m);
    m.now = exp + 60;
    assert_int_equal(run(&m, &port, &res, NULL, NULL, site1_jwt), TKR_E_EXPIRED);
    m.now = iat - 61;
    assert_int_equal(run(&m, &port, &res, NULL, NULL, site1_jwt), TKR_E_IAT_FUTURE);
    assert_int_equal(m.connects, 0);
    m.now = exp + 59;
    assert_int_equal(run(&m, &port, &res, NULL, NULL, site1_jwt), TKR_E_NET);
    assert_true(m.connects > 0);
    m.connects = 0;
    m.now = iat - 60;
    assert_int_equal(run(&m, &port, &res, NULL, NULL, site1_jwt), TKR_E_NET);
    assert_true(m.connects > 0);
    mem_free(&m);
}

static void test_already_enrolled_sends_nothing(void **state)
{
    tkr_enroll_result_t res;
    tkr_port_t port;
    mem_t m;
    (void)state;

    make_certs();
    mem_port(&port, &m);
    put(&m, "kit/rootCA.pem", ca_pem);
    put(&m, "kit/client.crt", leaf_pem);
    put(&m, "kit/client.key", leaf_key);
    m.now = (int64_t)time(NULL);
    /* No token needed once enrolled, and without a name the certificate
     * that chains and holds our key is ours; another name is not. */
    assert_int_equal(run(&m, &port, &res, "site-1", NULL, NULL), 0);
    assert_int_equal(res.outcome, TKR_ENROLL_ALREADY);
    assert_string_equal(res.cert_path, "kit/client.crt");
    assert_int_equal(run(&m, &port, &res, NULL, NULL, NULL), 0);
    assert_int_equal(res.outcome, TKR_ENROLL_ALREADY);
    assert_int_equal(run(&m, &port, &res, "site-2", NULL, NULL), TKR_E_NOT_FOUND);
    assert_int_equal(m.connects, 0);
    /* Expired by the clock, or another key: not enrolled (the token is
     * then needed, and missing). */
    m.now += 30 * 86400;
    assert_int_equal(run(&m, &port, &res, "site-1", NULL, NULL), TKR_E_NOT_FOUND);
    m.now -= 30 * 86400;
    put(&m, "kit/client.key", other_key);
    assert_int_equal(run(&m, &port, &res, "site-1", NULL, NULL), TKR_E_NOT_FOUND);
    assert_int_equal(m.connects, 0);
    mem_free(&m);
}

/* test_enroll_lean.c runs these too, with its own ENROLL_MORE_TESTS. */
#ifndef ENROLL_MORE_TESTS
#define ENROLL_MORE_TESTS
#endif

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_request_body_as_flare_client_sends_it),
        cmocka_unit_test(test_answers_of_the_service),
        cmocka_unit_test(test_check_cert),
        cmocka_unit_test(test_commit_power_cut_at_every_step),
        cmocka_unit_test(test_commit_refuses_foreign_blob),
        cmocka_unit_test(test_preflight_refuses_before_traffic),
        cmocka_unit_test(test_preflight_leeway),
        cmocka_unit_test(test_already_enrolled_sends_nothing),
        ENROLL_MORE_TESTS
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
