/* test_http.c — the HTTP client: response parser and URL (RFC 9112), and
 * whole exchanges against real peers on loopback: python3's http.server
 * (TLS by the ssl module) for framings and errors, openssl s_server for
 * TLS versions and the maximum fragment length. Certificates are made by
 * the openssl command for each run. */
#define _GNU_SOURCE /* memmem */
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "test_util.h"
#include "tkr_port_posix.h"
#include "tokenroll/error.h"
#include "tokenroll/http.h"

/* ---- parser ---- */

static int parse_all(const char *text, tkr_http_response_t *r, int eof,
                     uint8_t *buf, size_t size)
{
    size_t n = strlen(text);
    int done = 0, rc;

    assert_true(n <= size);
    memcpy(buf, text, n);
    rc = tkr_http_response_parse(r, &done, buf, n, eof);
    if (rc == 0 && !done)
        return 1;
    return rc;
}

static void assert_body(const tkr_http_response_t *r, const char *body)
{
    assert_int_equal(r->body_len, strlen(body));
    assert_memory_equal(r->body, body, r->body_len);
}

static void test_parse_content_length(void **state)
{
    uint8_t b[256];
    tkr_http_response_t r;
    (void)state;

    assert_int_equal(parse_all("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n"
                               "X-A:  b \r\n\r\nhello", &r, 0, b, sizeof(b)), 0);
    assert_int_equal(r.status, 200);
    assert_int_equal(r.retry_after, -1);
    assert_body(&r, "hello");
    /* Bytes after the declared length are not body. */
    assert_int_equal(parse_all("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhello",
                               &r, 0, b, sizeof(b)), 0);
    assert_body(&r, "he");
}

static void test_parse_needs_more_then_completes(void **state)
{
    const char *t = "HTTP/1.1 201 Created\r\nContent-Length: 5\r\n\r\nhello";
    uint8_t b[256];
    tkr_http_response_t r;
    size_t i;
    int done;
    (void)state;

    memcpy(b, t, strlen(t));
    /* Every prefix: incomplete (nothing changed), and at EOF an error. */
    for (i = 0; i < strlen(t); i++) {
        assert_int_equal(tkr_http_response_parse(&r, &done, b, i, 0), 0);
        assert_int_equal(done, 0);
        assert_int_equal(tkr_http_response_parse(&r, &done, b, i, 1), TKR_E_HTTP);
    }
    assert_int_equal(tkr_http_response_parse(&r, &done, b, i, 0), 0);
    assert_int_equal(done, 1);
    assert_int_equal(r.status, 201);
}

static void test_parse_chunked_rfc9112_7_1(void **state)
{
    uint8_t b[512];
    tkr_http_response_t r;
    (void)state;

    assert_int_equal(parse_all("HTTP/1.1 200 OK\r\nTransfer-Encoding: Chunked\r\n\r\n"
                               "4\r\nWiki\r\n6;name=v\r\npedia \r\nE\r\nin \r\n\r\nchunks."
                               "\r\n0\r\nTrailer: x\r\n\r\n", &r, 0, b, sizeof(b)), 0);
    assert_body(&r, "Wikipedia in \r\n\r\nchunks.");
    /* Missing final CRLF, bad size, missing data CRLF. */
    assert_int_equal(parse_all("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                               "1\r\na\r\n0\r\n", &r, 0, b, sizeof(b)), 1);
    assert_int_equal(parse_all("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                               "x\r\na\r\n0\r\n\r\n", &r, 0, b, sizeof(b)), TKR_E_HTTP);
    assert_int_equal(parse_all("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                               "1\r\nab\r\n0\r\n\r\n", &r, 0, b, sizeof(b)), TKR_E_HTTP);
    assert_int_equal(parse_all("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                               "fffffffffffffffffffff\r\n", &r, 0, b, sizeof(b)), TKR_E_HTTP);
    {
        /* A chunk-size line of 300 bytes is refused, complete or not. */
        char t[512];
        int n = snprintf(t, sizeof(t), "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                                       "1;%0300d", 0);
        assert_true(n > 0 && (size_t)n < sizeof(t));
        assert_int_equal(parse_all(t, &r, 0, b, sizeof(b)), TKR_E_HTTP);
        strcat(t, "\r\na\r\n0\r\n\r\n");
        assert_int_equal(parse_all(t, &r, 0, b, sizeof(b)), TKR_E_HTTP);
    }
}

static void test_parse_close_delimited_needs_eof(void **state)
{
    uint8_t b[256];
    tkr_http_response_t r;
    (void)state;

    assert_int_equal(parse_all("HTTP/1.0 200 OK\r\n\r\nabc", &r, 0, b, sizeof(b)), 1);
    assert_int_equal(parse_all("HTTP/1.0 200 OK\r\n\r\nabc", &r, 1, b, sizeof(b)), 0);
    assert_body(&r, "abc");
}

static void test_parse_interim_and_no_body(void **state)
{
    uint8_t b[256];
    tkr_http_response_t r;
    (void)state;

    assert_int_equal(parse_all("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early\r\nLink: x\r\n\r\n"
                               "HTTP/1.1 202 Accepted\r\nRetry-After: 30\r\nContent-Length: 2\r\n\r\n{}",
                               &r, 0, b, sizeof(b)), 0);
    assert_int_equal(r.status, 202);
    assert_int_equal(r.retry_after, 30);
    assert_body(&r, "{}");
    assert_int_equal(parse_all("HTTP/1.1 204 No Content\r\n\r\n", &r, 0, b, sizeof(b)), 0);
    assert_int_equal(r.body_len, 0);
    assert_int_equal(parse_all("HTTP/1.1 101 Switching\r\n\r\n", &r, 0, b, sizeof(b)), TKR_E_HTTP);
    /* An HTTP-date Retry-After reads as absent. */
    assert_int_equal(parse_all("HTTP/1.1 503 X\r\nRetry-After: Fri, 31 Dec 1999 23:59:59 GMT\r\n"
                               "Content-Length: 0\r\n\r\n", &r, 0, b, sizeof(b)), 0);
    assert_int_equal(r.retry_after, -1);
}

static void test_parse_refuses_smuggling_and_junk(void **state)
{
    static const char *const bad[] = {
        "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nabc",
        "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: 1 2\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999\r\n\r\n",
        "HTTP/1.1 200 OK\r\nX: a\r\n folded\r\n\r\n",
        "HTTP/1.1 200 OK\r\nBad Name: a\r\n\r\n",
        "HTTP/1.1 200 OK\r\n: a\r\n\r\n",
        "HTTP/1.1 200 OK\r\nNoColon\r\n\r\n",
        "HTTP/2 200 OK\r\n\r\n",
        "HTTP/1.1 20 OK\r\n\r\n",
        "HTTP/1.1 099 X\r\n\r\n",
        "HTTP/1.1 200OK\r\n\r\n",
        "SSH-2.0-OpenSSH\r\n",
        "<html>",
    };
    uint8_t b[256];
    tkr_http_response_t r;
    size_t i;
    (void)state;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        int rc = parse_all(bad[i], &r, 1, b, sizeof(b));
        if (rc != TKR_E_HTTP)
            fail_msg("accepted (%d): %s", rc, bad[i]);
    }
    /* Equal duplicates are allowed (RFC 9112 §6.3 lets a recipient merge). */
    assert_int_equal(parse_all("HTTP/1.1 200 OK\r\nContent-Length: 1\r\ncontent-length: 1\r\n\r\na",
                               &r, 0, b, sizeof(b)), 0);
    assert_int_equal(parse_all("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
                               &r, 0, b, sizeof(b)), TKR_E_UNSUPPORTED);
    /* A head that is not HTTP fails before it is complete. */
    assert_int_equal(parse_all("GARBAGE", &r, 0, b, sizeof(b)), TKR_E_HTTP);
}

/* ---- URL ---- */

static void test_url_parse(void **state)
{
    tkr_http_url_t u;
    static const char *const bad[] = {
        "ftp://h", "https://", "https://:443", "https://u@h", "https://h:0",
        "https://h:65536", "https://h:x", "https://h?q=1", "https://h/p?q",
        "https://h/p#f", "https://[::1", "https://h h", "HTTPS://h", "https://h/a b",
    };
    size_t i;
    char longhost[300];
    (void)state;

    assert_int_equal(tkr_http_url_parse(&u, "https://cert.example.com"), 0);
    assert_int_equal(u.tls, 1);
    assert_string_equal(u.host, "cert.example.com");
    assert_int_equal(u.port, 443);
    assert_string_equal(u.path, "");
    assert_int_equal(tkr_http_url_parse(&u, "http://127.0.0.1:8080/svc/"), 0);
    assert_int_equal(u.tls, 0);
    assert_int_equal(u.port, 8080);
    assert_string_equal(u.path, "/svc");
    assert_int_equal(tkr_http_url_parse(&u, "https://[::1]:8443"), 0);
    assert_string_equal(u.host, "::1");
    assert_int_equal(u.port, 8443);
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        if (tkr_http_url_parse(&u, bad[i]) == 0)
            fail_msg("accepted %s", bad[i]);
    memset(longhost, 'a', sizeof(longhost));
    memcpy(longhost, "https://", 8);
    longhost[sizeof(longhost) - 1] = '\0';
    assert_int_equal(tkr_http_url_parse(&u, longhost), TKR_E_TOO_LARGE);
}

/* A webhook's URL names one resource: its query is kept, its path is
 * the whole target; the rest is refused as for a service URL. */
static void test_url_parse_target(void **state)
{
    tkr_http_url_t u;
    static const char *const bad[] = {
        "ftp://h/x?q", "https://?q", "https://u@h/x?q", "https://h:0/x?q", "https://h/p#f",
        "https://h/p?q#f", "https://h/p?a b", "https://h/p?\x7f", "https://h?q=\n",
        "https://h:x?q",
    };
    size_t i;
    char longq[300];
    (void)state;

    assert_int_equal(tkr_http_url_parse_target(&u, "https://hooks.example/in?key=K&x=/y?z"), 0);
    assert_int_equal(u.tls, 1);
    assert_string_equal(u.host, "hooks.example");
    assert_int_equal(u.port, 443);
    assert_string_equal(u.path, "/in?key=K&x=/y?z");
    assert_int_equal(tkr_http_url_parse_target(&u, "http://127.0.0.1:9000?token=a%2Fb"), 0);
    assert_int_equal(u.port, 9000);
    assert_string_equal(u.path, "/?token=a%2Fb");
    assert_int_equal(tkr_http_url_parse_target(&u, "https://[::1]:8443/hooks/"), 0);
    assert_string_equal(u.host, "::1");
    assert_string_equal(u.path, "/hooks/");
    assert_int_equal(tkr_http_url_parse_target(&u, "https://h"), 0);
    assert_string_equal(u.path, "/");
    /* a service URL still has no query, and keeps its prefix form */
    assert_int_equal(tkr_http_url_parse(&u, "https://h/in?key=K"), TKR_E_INVALID_ARG);
    assert_int_equal(tkr_http_url_parse(&u, "https://h"), 0);
    assert_string_equal(u.path, "");
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        if (tkr_http_url_parse_target(&u, bad[i]) == 0)
            fail_msg("accepted %s", bad[i]);
    /* the target fits the path buffer, "/" added or not */
    memset(longq, 'q', sizeof(longq));
    memcpy(longq, "https://h?", 10);
    longq[10 + TKR_HTTP_PATH_MAX - 3] = '\0';
    assert_int_equal(tkr_http_url_parse_target(&u, longq), 0);
    assert_int_equal(strlen(u.path), TKR_HTTP_PATH_MAX - 1);
    longq[10 + TKR_HTTP_PATH_MAX - 3] = 'q';
    longq[10 + TKR_HTTP_PATH_MAX - 2] = '\0';
    assert_int_equal(tkr_http_url_parse_target(&u, longq), TKR_E_TOO_LARGE);
}

/* ---- live peers ---- */

static char dir[64];
static char ca_pem[4096], other_ca_pem[4096];

static void sh(const char *fmt, ...)
{
    char cmd[2048];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(cmd, sizeof(cmd), fmt, ap);
    va_end(ap);
    if (system(cmd) != 0)
        fail_msg("command failed: %s", cmd);
}

static int group_setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof(dir), "/tmp/tkr-http.XXXXXX");
    if (mkdtemp(dir) == NULL)
        return -1;
    return 0;
}

static int group_teardown(void **state)
{
    char cmd[128];
    (void)state;
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    return system(cmd) == 0 ? 0 : -1;
}

/* CA, a server certificate for localhost, and an unrelated CA. */
static void make_certs(void)
{
    static int made;

    if (made)
        return;
    need_tool("openssl version");
    sh("cd %s && for c in ca other; do "
       "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes "
       "-keyout $c.key -out $c.crt -days 2 -subj /CN=$c-root "
       "-addext basicConstraints=critical,CA:TRUE 2>/dev/null || exit 1; done && "
       "openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout srv.key "
       "-out srv.csr -subj /CN=localhost 2>/dev/null && "
       "printf 'subjectAltName=DNS:localhost\\n' > ext && "
       "openssl x509 -req -in srv.csr -CA ca.crt -CAkey ca.key -CAcreateserial "
       "-days 2 -extfile ext -out srv.crt 2>/dev/null", dir);
    {
        char p[128];
        snprintf(p, sizeof(p), "%s/ca.crt", dir);
        read_file(p, ca_pem, sizeof(ca_pem));
        snprintf(p, sizeof(p), "%s/other.crt", dir);
        read_file(p, other_ca_pem, sizeof(other_ca_pem));
    }
    made = 1;
}

typedef struct {
    pid_t pid;
    uint16_t port;
} peer_t;

/* Start the python peer (TLS when tls) and read the port it prints. */
static void peer_start(peer_t *p, int tls)
{
    int fds[2];
    char line[64] = "";
    FILE *f;
    char crt[128], key[128];

    need_tool("python3 --version");
    make_certs();
    snprintf(crt, sizeof(crt), "%s/srv.crt", dir);
    snprintf(key, sizeof(key), "%s/srv.key", dir);
    assert_int_equal(pipe(fds), 0);
    p->pid = fork();
    assert_true(p->pid >= 0);
    if (p->pid == 0) {
        dup2(fds[1], 1);
        close(fds[0]);
        if (tls)
            execlp("python3", "python3", "tests/e2e/http_peer.py", "--cert", crt,
                   "--key", key, (char *)NULL);
        else
            execlp("python3", "python3", "tests/e2e/http_peer.py", (char *)NULL);
        _exit(127);
    }
    close(fds[1]);
    f = fdopen(fds[0], "r");
    assert_non_null(f);
    assert_non_null(fgets(line, sizeof(line), f));
    fclose(f);
    assert_int_equal(strncmp(line, "PORT ", 5), 0);
    p->port = (uint16_t)atoi(line + 5);
}

static void peer_stop(peer_t *p)
{
    kill(p->pid, SIGTERM);
    waitpid(p->pid, NULL, 0);
}

static uint16_t free_port(void)
{
    struct sockaddr_in a;
    socklen_t l = sizeof(a);
    int s = socket(AF_INET, SOCK_STREAM, 0);
    uint16_t port;

    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(s, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(getsockname(s, (struct sockaddr *)&a, &l), 0);
    port = ntohs(a.sin_port);
    close(s);
    return port;
}

typedef struct {
    tkr_port_t port;
    tkr_posix_t pctx;
    tkr_transport_t tcp;
    tkr_posix_tcp_t conn;
    tkr_tls_t tls;
    tkr_http_t h;
    tkr_http_url_t url;
    uint8_t buf[TKR_HTTP_RESPONSE_MAX];
    tkr_http_response_t r;
} client_t;

static client_t *client_new(const char *host, uint16_t p, int tls)
{
    client_t *c = calloc(1, sizeof(*c));
    char url[128];

    assert_non_null(c);
    c->pctx.log_level = -1;
    c->pctx.fixed_now = -1;
    tkr_port_posix_init(&c->port, &c->pctx);
    tkr_posix_tcp_init(&c->tcp, &c->conn);
    tkr_tls_init(&c->tls);
    c->h.port = &c->port;
    c->h.tcp = &c->tcp;
    c->h.tls = &c->tls;
    c->h.ca_pem = ca_pem;
    c->h.timeout_ms = 3000;
    snprintf(url, sizeof(url), "%s://%s:%u", tls ? "https" : "http", host, (unsigned)p);
    assert_int_equal(tkr_http_url_parse(&c->url, url), 0);
    return c;
}

static void client_free(client_t *c)
{
    tkr_tls_free(&c->tls);
    free(c);
}

static int get(client_t *c, const char *path)
{
    tkr_http_req_t req = {"GET", &c->url, path, NULL, NULL, 0};
    return tkr_http_request(&c->h, c->buf, sizeof(c->buf), &c->r, &req);
}

static void test_live_framings_over_tls(void **state)
{
    peer_t p;
    client_t *c;
    (void)state;

    peer_start(&p, 1);
    c = client_new("localhost", p.port, 1);
    assert_int_equal(get(c, "/cl"), 0);
    assert_int_equal(c->r.status, 200);
    assert_body(&c->r, "{\"ok\":true}");
    assert_int_equal(get(c, "/chunked"), 0);
    assert_body(&c->r, "{\"ok\":true}");
    assert_int_equal(get(c, "/close"), 0);
    assert_body(&c->r, "{\"ok\":true}");
    assert_int_equal(get(c, "/continue"), 0);
    assert_int_equal(c->r.status, 200);
    assert_int_equal(get(c, "/pending"), 0);
    assert_int_equal(c->r.status, 202);
    assert_int_equal(c->r.retry_after, 2);
    assert_int_equal(get(c, "/nothing"), 0);
    assert_int_equal(c->r.status, 404);
    /* The response cap: a body that fits, and one that does not. */
    assert_int_equal(get(c, "/big?n=8000"), 0);
    assert_int_equal(c->r.body_len, 8000);
    assert_int_equal(get(c, "/big?n=9000"), TKR_E_TOO_LARGE);
    client_free(c);
    peer_stop(&p);
}

static void test_live_request_bytes(void **state)
{
    peer_t p;
    client_t *c;
    const char *body = "{\"name\":\"site-1\"}";
    tkr_http_req_t req;
    char *echo;
    (void)state;

    peer_start(&p, 1);
    c = client_new("localhost", p.port, 1);
    /* A path prefix from the URL goes before the request path. */
    memset(&req, 0, sizeof(req));
    req.method = "POST";
    req.url = &c->url;
    req.path = "/echo";
    req.bearer = "k3y";
    req.body = (const uint8_t *)body;
    req.body_len = strlen(body);
    assert_int_equal(tkr_http_request(&c->h, c->buf, sizeof(c->buf), &c->r, &req), 0);
    assert_int_equal(c->r.status, 200);
    echo = strndup((const char *)c->r.body, c->r.body_len);
    assert_non_null(strstr(echo, "\"method\": \"POST\""));
    assert_non_null(strstr(echo, "\"Authorization\": \"Bearer k3y\""));
    assert_non_null(strstr(echo, "\"Content-Type\": \"application/json\""));
    assert_non_null(strstr(echo, "\"body\": \"{\\\"name\\\":\\\"site-1\\\"}\""));
    free(echo);
    /* A header value with CR LF is refused before anything is sent. */
    req.bearer = "k\r\nX-Evil: 1";
    assert_int_equal(tkr_http_request(&c->h, c->buf, sizeof(c->buf), &c->r, &req),
                     TKR_E_INVALID_ARG);
    client_free(c);
    peer_stop(&p);
}

static void test_live_plain_http_only_when_insecure(void **state)
{
    peer_t p;
    client_t *c;
    (void)state;

    peer_start(&p, 0);
    c = client_new("127.0.0.1", p.port, 0);
    assert_int_equal(get(c, "/cl"), TKR_E_INVALID_ARG);
    c->h.insecure_http = 1;
    assert_int_equal(get(c, "/chunked"), 0);
    assert_body(&c->r, "{\"ok\":true}");
    client_free(c);
    peer_stop(&p);
}

static void test_live_tls_refuses_wrong_root_and_name(void **state)
{
    peer_t p;
    client_t *c;
    (void)state;

    peer_start(&p, 1);
    c = client_new("localhost", p.port, 1);
    c->h.ca_pem = other_ca_pem;
    assert_int_equal(get(c, "/cl"), TKR_E_TLS);
    assert_string_equal(tkr_tls_problem(&c->tls),
                        "the server's certificate is not signed by the given root CA");
    client_free(c);
    /* The right root, but the certificate names localhost, not 127.0.0.1. */
    c = client_new("127.0.0.1", p.port, 1);
    assert_int_equal(get(c, "/cl"), TKR_E_TLS);
    assert_string_equal(tkr_tls_problem(&c->tls),
                        "the server's certificate does not name the host");
    /* No root at all. */
    c->h.ca_pem = "not a certificate";
    assert_int_equal(get(c, "/cl"), TKR_E_CERT);
    client_free(c);
    peer_stop(&p);
}

static void test_live_timeout_and_refused(void **state)
{
    peer_t p;
    client_t *c;
    uint16_t dead = free_port();
    (void)state;

    peer_start(&p, 1);
    c = client_new("localhost", p.port, 1);
    c->h.timeout_ms = 800;
    assert_int_equal(get(c, "/slow"), TKR_E_TIMEOUT);
    client_free(c);
    peer_stop(&p);
    c = client_new("localhost", dead, 1);
    assert_int_equal(get(c, "/cl"), TKR_E_NET);
    client_free(c);
}

/* openssl s_server -www answers "GET /" with an HTML status page. */
static void run_s_server(const char *version_flag, uint16_t mfl, int expect_ok)
{
    uint16_t port = free_port();
    pid_t pid;
    client_t *c;
    int rc = -1, i;
    char portstr[8], crt[128], key[128];

    make_certs();
    snprintf(portstr, sizeof(portstr), "%u", (unsigned)port);
    snprintf(crt, sizeof(crt), "%s/srv.crt", dir);
    snprintf(key, sizeof(key), "%s/srv.key", dir);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int nul = open("/dev/null", O_WRONLY);
        dup2(nul, 1);
        dup2(nul, 2);
        execlp("openssl", "openssl", "s_server", "-quiet", "-accept", portstr,
               "-cert", crt, "-key", key, "-www", version_flag, (char *)NULL);
        _exit(127);
    }
    c = client_new("localhost", port, 1);
    c->h.max_frag_len = mfl;
    /* s_server needs a moment to listen. */
    for (i = 0; i < 50; i++) {
        rc = get(c, "/");
        if (rc != TKR_E_NET)
            break;
        usleep(100000);
    }
    if (expect_ok) {
        assert_int_equal(rc, 0);
        assert_int_equal(c->r.status, 200);
        assert_non_null(memmem(c->r.body, c->r.body_len, "Ciphers", 7));
    } else {
        assert_int_equal(rc, TKR_E_TLS);
    }
    client_free(c);
    kill(pid, SIGTERM);
    waitpid(pid, NULL, 0);
}

static void test_openssl_s_server_tls12(void **state)
{
    (void)state;
    need_tool("openssl version");
    run_s_server("-tls1_2", 0, 1);
}

static void test_openssl_s_server_tls12_max_fragment_512(void **state)
{
    (void)state;
    need_tool("openssl version");
    run_s_server("-tls1_2", 512, 1);
}

/* TLS 1.3 where the build has it; where it has not, a 1.3-only server
 * must be refused rather than met with something older. */
static void test_openssl_s_server_tls13(void **state)
{
    (void)state;
    need_tool("openssl version");
#if defined(MBEDTLS_SSL_PROTO_TLS1_3)
    run_s_server("-tls1_3", 0, 1);
#else
    run_s_server("-tls1_3", 0, 0);
#endif
}

static void test_openssl_s_server_refuses_tls11(void **state)
{
    (void)state;
    need_tool("openssl version");
    run_s_server("-tls1_1", 0, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_content_length),
        cmocka_unit_test(test_parse_needs_more_then_completes),
        cmocka_unit_test(test_parse_chunked_rfc9112_7_1),
        cmocka_unit_test(test_parse_close_delimited_needs_eof),
        cmocka_unit_test(test_parse_interim_and_no_body),
        cmocka_unit_test(test_parse_refuses_smuggling_and_junk),
        cmocka_unit_test(test_url_parse),
        cmocka_unit_test(test_url_parse_target),
        cmocka_unit_test(test_live_framings_over_tls),
        cmocka_unit_test(test_live_request_bytes),
        cmocka_unit_test(test_live_plain_http_only_when_insecure),
        cmocka_unit_test(test_live_tls_refuses_wrong_root_and_name),
        cmocka_unit_test(test_live_timeout_and_refused),
        cmocka_unit_test(test_openssl_s_server_tls12),
        cmocka_unit_test(test_openssl_s_server_tls12_max_fragment_512),
        cmocka_unit_test(test_openssl_s_server_tls13),
        cmocka_unit_test(test_openssl_s_server_refuses_tls11),
    };
    signal(SIGPIPE, SIG_IGN);
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
