/* http.c — libmicrohttpd glue: requests in, service responses out. */
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <microhttpd.h>

#include "http.h"
#include "tls_openssl.h"
#include "tokenroll/error.h"

struct cli_http {
    struct MHD_Daemon *d;
    cli_http_cfg_t cfg;
    struct sockaddr_storage addr;
#if defined(TKR_WITH_OPENSSL)
    cli_tls_key_t *key; /* the handshake signs with libcrypto */
#endif
};

/* One request's state across libmicrohttpd's calls. */
typedef struct {
    char *body;
    size_t len, cap;
    int too_large;
    struct timespec start;
} conn_t;

static double ms_since(const struct timespec *t0)
{
    struct timespec t;

    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)(t.tv_sec - t0->tv_sec) * 1e3 + (double)(t.tv_nsec - t0->tv_nsec) / 1e6;
}

static const char *query(void *arg, const char *key)
{
    return MHD_lookup_connection_value(arg, MHD_GET_ARGUMENT_KIND, key);
}

static void client_ip(struct MHD_Connection *c, char *out, size_t size)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    const struct sockaddr *sa = ci != NULL ? ci->client_addr : NULL;

    out[0] = '\0';
    if (sa == NULL)
        return;
    if (sa->sa_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, out,
                  (socklen_t)size);
    else if (sa->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, out,
                  (socklen_t)size);
}

static enum MHD_Result send_resp(struct MHD_Connection *c, tkr_service_resp_t *r)
{
    struct MHD_Response *mr;
    enum MHD_Result ok;
    char ra[24];

    mr = MHD_create_response_from_buffer(r->len, r->body, MHD_RESPMEM_MUST_FREE);
    if (mr == NULL)
        return MHD_NO;
    r->body = NULL; /* libmicrohttpd frees it */
    MHD_add_response_header(mr, MHD_HTTP_HEADER_CONTENT_TYPE,
                            r->content_type ? r->content_type : "application/json");
    if (r->retry_after > 0) {
        snprintf(ra, sizeof(ra), "%lld", (long long)r->retry_after);
        MHD_add_response_header(mr, MHD_HTTP_HEADER_RETRY_AFTER, ra);
    }
    ok = MHD_queue_response(c, (unsigned)r->status, mr);
    MHD_destroy_response(mr);
    return ok;
}

/* A response the server makes itself (413, 500). */
static enum MHD_Result plain_error(struct MHD_Connection *c, unsigned status,
                                   const char *json)
{
    tkr_service_resp_t r;
    size_t n = strlen(json);

    tkr_service_resp_init(&r);
    if ((r.body = malloc(n + 1)) == NULL)
        return MHD_NO;
    memcpy(r.body, json, n + 1);
    r.len = n;
    r.status = (int)status;
    return send_resp(c, &r);
}

static void log_line(const char *method, const char *route, int status,
                     const char *name, double ms)
{
    char when[32];
    time_t now = time(NULL);
    struct tm tm;

    gmtime_r(&now, &tm);
    strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
    /* Never the body, the query or a header: tokens and keys live there. */
    fprintf(stderr, "%s %s %s %d %s %.1fms\n", when, method, route, status,
            name[0] ? name : "-", ms);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c,
                                  const char *url, const char *method,
                                  const char *version, const char *upload,
                                  size_t *upload_size, void **con_cls)
{
    cli_http_t *h = cls;
    conn_t *st = *con_cls;
    tkr_service_req_t req;
    tkr_service_resp_t resp;
    char ip[INET6_ADDRSTRLEN + 1];
    enum MHD_Result ok;

    (void)version;
    if (st == NULL) {
        const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
                                                     MHD_HTTP_HEADER_CONTENT_LENGTH);
        if ((st = calloc(1, sizeof(*st))) == NULL)
            return MHD_NO;
        clock_gettime(CLOCK_MONOTONIC, &st->start);
        *con_cls = st;
        /* Refuse a declared oversize body before reading it. */
        if (cl != NULL && strtoull(cl, NULL, 10) > h->cfg.body_max)
            st->too_large = 1;
        return MHD_YES;
    }
    if (*upload_size != 0) {
        if (!st->too_large && st->len + *upload_size > h->cfg.body_max)
            st->too_large = 1;
        if (!st->too_large) {
            if (st->len + *upload_size + 1 > st->cap) {
                size_t cap = st->cap ? st->cap : 4096;
                char *b;
                while (cap < st->len + *upload_size + 1)
                    cap *= 2;
                if ((b = realloc(st->body, cap)) == NULL)
                    return MHD_NO;
                st->body = b;
                st->cap = cap;
            }
            memcpy(st->body + st->len, upload, *upload_size);
            st->len += *upload_size;
            st->body[st->len] = '\0';
        }
        *upload_size = 0;
        return MHD_YES;
    }
    if (st->too_large) {
        char msg[96];
        snprintf(msg, sizeof(msg), "{\"error\":\"request body over %zu bytes\"}",
                 h->cfg.body_max);
        ok = plain_error(c, MHD_HTTP_CONTENT_TOO_LARGE, msg);
        if (h->cfg.log)
            log_line(method, "-", 413, "", ms_since(&st->start));
        return ok;
    }
    client_ip(c, ip, sizeof(ip));
    memset(&req, 0, sizeof(req));
    req.method = method;
    req.path = url;
    req.query = query;
    req.query_arg = c;
    req.body = st->body;
    req.body_len = st->len;
    req.authorization = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
                                                    MHD_HTTP_HEADER_AUTHORIZATION);
    req.client_ip = ip[0] ? ip : NULL;
    tkr_service_resp_init(&resp);
    if (h->cfg.handle(h->cfg.arg, &req, &resp) != 0 || resp.body == NULL) {
        tkr_service_resp_free(&resp);
        return plain_error(c, MHD_HTTP_INTERNAL_SERVER_ERROR,
                           "{\"error\":\"internal error\"}");
    }
    if (h->cfg.log)
        log_line(method, resp.route[0] ? resp.route : "-", resp.status, resp.name,
                 ms_since(&st->start));
    ok = send_resp(c, &resp);
    tkr_service_resp_free(&resp);
    return ok;
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode why)
{
    conn_t *st = *con_cls;

    (void)cls;
    (void)c;
    (void)why;
    if (st != NULL) {
        free(st->body);
        free(st);
        *con_cls = NULL;
    }
}

static void on_mhd_error(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    /* libmicrohttpd's own messages (TLS handshake failures, ...). */
    fputs("http: ", stderr);
    vfprintf(stderr, fmt, ap);
}

static int resolve(cli_http_t *h, char *err, size_t err_size)
{
    struct addrinfo hints, *res = NULL;
    char port[8];
    int rc;

    memset(&hints, 0, sizeof(hints));
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    snprintf(port, sizeof(port), "%u", h->cfg.port);
    rc = getaddrinfo(h->cfg.host, port, &hints, &res);
    if (rc != 0 || res == NULL) {
        snprintf(err, err_size, "cannot resolve listen address %s: %s", h->cfg.host,
                 gai_strerror(rc));
        return TKR_E_NET;
    }
    memcpy(&h->addr, res->ai_addr, res->ai_addrlen);
    freeaddrinfo(res);
    return 0;
}

/* GnuTLS's priorities for the service. Every device opens a fresh TLS
 * connection, so the handshake is most of what one enrollment costs the
 * server. GnuTLS's NORMAL picks TLS_AES_256_GCM_SHA384, whose SHA-384 key
 * schedule and transcript hashing took about a quarter of the server's CPU
 * per handshake here; AES-128-GCM and ChaCha20-Poly1305 with SHA-256 are
 * as sound for this use and much cheaper, so the server's order wins.
 * Only ECDHE (X25519 first, then the NIST curves) with AEAD suites, over
 * TLS 1.3 and 1.2: forward secrecy, and no costly finite-field DHE. */
#define TLS_PRIORITY                                                                  \
    "NORMAL:%SERVER_PRECEDENCE:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2:-CIPHER-ALL:"       \
    "+AES-128-GCM:+CHACHA20-POLY1305:+AES-256-GCM:-MAC-ALL:+AEAD:-KX-ALL:+ECDHE-ECDSA:" \
    "+ECDHE-RSA:-GROUP-ALL:+GROUP-X25519:+GROUP-SECP256R1:+GROUP-SECP384R1"

int cli_http_start(cli_http_t **out, const cli_http_cfg_t *cfg, char *err,
                   size_t err_size)
{
    cli_http_t *h = calloc(1, sizeof(*h));
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG;
    int tls = cfg->cert_pem != NULL && cfg->key_pem != NULL;

    *out = NULL;
    if (h == NULL) {
        snprintf(err, err_size, "out of memory");
        return TKR_E_NO_MEMORY;
    }
    h->cfg = *cfg;
    if (resolve(h, err, err_size) != 0) {
        free(h);
        return TKR_E_NET;
    }
    if (h->addr.ss_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    /* poll, not epoll: with epoll, libmicrohttpd 0.9.75 retried every
     * connection still in its TLS handshake on each turn of its loop (about
     * 60 recv() failing with EAGAIN per connection), and the TLS floor cost
     * 1.9-2.2 ms of CPU per answer against 0.55-0.9 ms with poll. */
    if (MHD_is_feature_supported(MHD_FEATURE_POLL) == MHD_YES)
        flags |= MHD_USE_POLL;
    if (tls)
        flags |= MHD_USE_TLS;
#if defined(TKR_WITH_OPENSSL)
    if (tls && cli_tls_key_load(&h->key, cfg->cert_pem, cfg->key_pem, err, err_size) != 0) {
        free(h);
        return TKR_E_INVALID_ARG;
    }
#endif
    /* Plain HTTP ends the options before the first TLS one. */
    h->d = MHD_start_daemon(
        flags, cfg->port, NULL, NULL, on_request, h,
        MHD_OPTION_EXTERNAL_LOGGER, on_mhd_error, NULL,
        MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&h->addr,
        MHD_OPTION_THREAD_POOL_SIZE, (unsigned)(cfg->threads ? cfg->threads : 1),
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)cfg->timeout_s,
        MHD_OPTION_LISTEN_BACKLOG_SIZE, (unsigned)1024,
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL,
        tls ? MHD_OPTION_HTTPS_PRIORITIES : MHD_OPTION_END, TLS_PRIORITY,
#if defined(TKR_WITH_OPENSSL)
        MHD_OPTION_HTTPS_CERT_CALLBACK, cli_tls_retrieve,
#else
        MHD_OPTION_HTTPS_MEM_KEY, cfg->key_pem,
        MHD_OPTION_HTTPS_MEM_CERT, cfg->cert_pem,
#endif
        MHD_OPTION_END);
    if (h->d == NULL) {
        snprintf(err, err_size, "cannot listen on %s:%u (address in use, or the "
                 "TLS certificate/key unusable)", cfg->host, cfg->port);
#if defined(TKR_WITH_OPENSSL)
        cli_tls_key_free(h->key);
#endif
        free(h);
        return TKR_E_NET;
    }
    *out = h;
    return 0;
}

uint16_t cli_http_port(const cli_http_t *h)
{
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(h->d, MHD_DAEMON_INFO_BIND_PORT);
    return di != NULL ? di->port : 0;
}

void cli_http_stop(cli_http_t *h)
{
    if (h == NULL)
        return;
    MHD_stop_daemon(h->d);
#if defined(TKR_WITH_OPENSSL)
    cli_tls_key_free(h->key);
#endif
    free(h);
}
