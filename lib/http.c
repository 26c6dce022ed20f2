/* http.c — HTTP/1.1 client (RFC 9110, RFC 9112): URL, request head,
 * response parser, and the exchange over a transport.
 *
 * The parser runs on the bytes received so far each time more arrive, and
 * changes nothing until the response is complete, so it needs no state
 * between reads; a response is at most the caller's buffer, so the repeated
 * scan is cheap next to TLS. Device-side: no heap, no printf family. */
#include <string.h>

#include "cc.h"
#include "tokenroll/error.h"
#include "tokenroll/http.h"
#include "utf8.h"

/* ---- small text helpers (no locale, no libc formatting) ---- */

static int lower(int c)
{
    return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c;
}

static int ieq(const uint8_t *a, size_t n, const char *b)
{
    size_t i;

    if (strlen(b) != n)
        return 0;
    for (i = 0; i < n; i++)
        if (lower(a[i]) != lower((unsigned char)b[i]))
            return 0;
    return 1;
}

static int is_digit(int c)
{
    return c >= '0' && c <= '9';
}

/* tchar of RFC 9110 §5.6.2. */
static int is_tchar(int c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c) ||
           (c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

/* Decimal digits a[0..n) into *v; no sign, no overflow past 2^53. */
static int parse_dec(const uint8_t *a, size_t n, uint64_t *v)
{
    uint64_t x = 0;
    size_t i;

    if (n == 0 || n > 15)
        return TKR_E_HTTP;
    for (i = 0; i < n; i++) {
        if (!is_digit(a[i]))
            return TKR_E_HTTP;
        x = x * 10 + (uint64_t)(a[i] - '0');
    }
    *v = x;
    return 0;
}

/* Offset of the next CRLF at or after i, or len when there is none yet. */
static size_t find_crlf(const uint8_t *b, size_t i, size_t len)
{
    for (; i + 1 < len; i++)
        if (b[i] == '\r' && b[i + 1] == '\n')
            return i;
    return len;
}

/* ---- response head ---- */

typedef struct {
    size_t end;          /* offset of the body */
    int status;
    int chunked;
    int has_length;
    uint64_t length;
    int64_t retry_after;
} head_t;

/* Status line "HTTP/1.x SSS reason". */
static int status_line(const uint8_t *b, size_t n, int *status)
{
    int k, v = 0;

    if (n < 12 || memcmp(b, "HTTP/1.", 7) != 0 || (b[7] != '0' && b[7] != '1') ||
        b[8] != ' ' || (n > 12 && b[12] != ' '))
        return TKR_E_HTTP;
    for (k = 9; k < 12; k++) {
        if (!is_digit(b[k]))
            return TKR_E_HTTP;
        v = v * 10 + (b[k] - '0');
    }
    *status = v;
    /* RFC 9110 §15: the classes are 1xx to 5xx. */
    return *status < 100 || *status > 599 ? TKR_E_HTTP : 0;
}

/* One header field line. noinline: inlined into the response parser it
 * costs the Cortex-M4 image 36 bytes more than the call. */
TKR_NOINLINE static int header_line(head_t *h, const uint8_t *b, size_t n)
{
    /* The fields we read; any other is skipped. */
    static const char *const names[] = {"content-length", "transfer-encoding",
                                        "retry-after"};
    size_t c = 0, v, e, k;
    uint64_t x;

    while (c < n && b[c] != ':') {
        if (!is_tchar(b[c]))
            return TKR_E_HTTP; /* also refuses obs-fold (leading space) */
        c++;
    }
    if (c == 0 || c == n)
        return TKR_E_HTTP;
    for (v = c + 1; v < n && (b[v] == ' ' || b[v] == '\t'); v++)
        ;
    for (e = n; e > v && (b[e - 1] == ' ' || b[e - 1] == '\t'); e--)
        ;
    for (k = v; k < e; k++)
        if (b[k] == 0 || b[k] == '\r' || b[k] == '\n')
            return TKR_E_HTTP;
    for (k = 0; k < 3 && !ieq(b, c, names[k]); k++)
        ;
    if (k == 0) {
        if (parse_dec(b + v, e - v, &x) != 0)
            return TKR_E_HTTP;
        /* Two different lengths are a smuggling attempt (RFC 9112 §6.3). */
        if (h->has_length && h->length != x)
            return TKR_E_HTTP;
        h->has_length = 1;
        h->length = x;
    } else if (k == 1) {
        if (!ieq(b + v, e - v, "chunked") || h->chunked)
            return TKR_E_UNSUPPORTED;
        h->chunked = 1;
    } else if (k == 2) {
        /* delta-seconds only; an HTTP-date is rare and reads as absent. */
        if (parse_dec(b + v, e - v, &x) == 0)
            h->retry_after = (int64_t)x;
    }
    return 0;
}

/* Parse the head starting at b[0]. 1 when it is not complete yet. */
static int parse_head(head_t *h, const uint8_t *b, size_t len)
{
    size_t i, e;
    int rc;

    memset(h, 0, sizeof(*h));
    h->retry_after = -1;
    e = find_crlf(b, 0, len);
    if (e == len) {
        /* Refuse early what can never become a status line. */
        size_t k = len < 7 ? len : 7;
        return memcmp(b, "HTTP/1.", k) == 0 ? 1 : TKR_E_HTTP;
    }
    if ((rc = status_line(b, e, &h->status)) != 0)
        return rc;
    for (i = e + 2;;) {
        e = find_crlf(b, i, len);
        if (e == len)
            return 1;
        if (e == i)
            break;
        if ((rc = header_line(h, b + i, e - i)) != 0)
            return rc;
        i = e + 2;
    }
    if (h->chunked && h->has_length)
        return TKR_E_HTTP;
    h->end = e + 2;
    return 0;
}

/* ---- chunked body (RFC 9112 §7.1) ---- */

#define CHUNK_LINE_MAX 256

/* Walk the chunks in b[0..len). 1: incomplete. 0: complete, *out_len the
 * decoded size; with compact set, the data is moved down to b[0]. The
 * decoded bytes never overtake the encoded ones, so moving in place is
 * safe. */
static int chunks(uint8_t *b, size_t len, int compact, size_t *out_len)
{
    size_t i = 0, o = 0, e, k;
    uint64_t size;
    int d;

    for (;;) {
        /* A size line (with extensions) longer than CHUNK_LINE_MAX is an
         * error whether or not its CRLF has arrived yet, so the verdict
         * does not depend on how the bytes were split into reads. */
        e = find_crlf(b, i, len);
        if (e == len)
            return len - i > CHUNK_LINE_MAX + 1 ? TKR_E_HTTP : 1;
        if (e - i > CHUNK_LINE_MAX)
            return TKR_E_HTTP;
        size = 0;
        for (k = i; k < e && (d = tkr_hex_digit((char)b[k])) >= 0; k++) {
            if (size > (UINT64_MAX >> 8))
                return TKR_E_HTTP;
            size = size * 16 + (uint64_t)d;
        }
        if (k == i)
            return TKR_E_HTTP;
        /* Extensions (";name=value") are allowed and ignored. */
        while (k < e && (b[k] == ' ' || b[k] == '\t'))
            k++;
        if (k < e && b[k] != ';')
            return TKR_E_HTTP;
        i = e + 2;
        if (size == 0)
            break;
        /* A size past the buffer waits for bytes that cannot come; the
         * exchange stops there with TKR_E_TOO_LARGE. */
        if (size > len - i || len - i - (size_t)size < 2)
            return 1;
        if (b[i + size] != '\r' || b[i + size + 1] != '\n')
            return TKR_E_HTTP;
        if (compact)
            memmove(b + o, b + i, (size_t)size);
        o += (size_t)size;
        i += (size_t)size + 2;
    }
    /* Trailer fields, then the empty line. */
    for (;;) {
        e = find_crlf(b, i, len);
        if (e == len)
            return 1;
        if (e == i)
            break;
        i = e + 2;
    }
    *out_len = o;
    return 0;
}

int tkr_http_response_parse(tkr_http_response_t *resp, int *done, uint8_t *buf,
                            size_t len, int eof)
{
    head_t h;
    size_t off = 0, body_len = 0;
    int rc;

    if (resp == NULL || done == NULL || (buf == NULL && len > 0))
        return TKR_E_INVALID_ARG;
    *done = 0;
    for (;;) {
        rc = parse_head(&h, buf + off, len - off);
        if (rc == 1)
            return eof ? TKR_E_HTTP : 0;
        if (rc != 0)
            return rc;
        /* 1xx are interim (100 Continue, 103 Early Hints): the answer
         * follows. 101 would switch protocols, which we never ask for. */
        if (h.status >= 200)
            break;
        if (h.status == 101)
            return TKR_E_HTTP;
        off += h.end;
    }
    off += h.end;
    if (h.status == 204 || h.status == 304) {
        body_len = 0;
    } else if (h.chunked) {
        rc = chunks(buf + off, len - off, 0, &body_len);
        if (rc == 1)
            return eof ? TKR_E_HTTP : 0;
        if (rc != 0)
            return rc;
        (void)chunks(buf + off, len - off, 1, &body_len);
    } else if (h.has_length) {
        if (h.length > len - off)
            return eof ? TKR_E_HTTP : 0;
        body_len = (size_t)h.length;
    } else {
        /* Framed by the end of the stream. */
        if (!eof)
            return 0;
        body_len = len - off;
    }
    resp->status = h.status;
    resp->retry_after = h.retry_after;
    resp->body = buf + off;
    resp->body_len = body_len;
    *done = 1;
    return 0;
}

/* ---- URL ---- */

/* target: the URL names one resource, and its path may end in a query. */
static int url_parse(tkr_http_url_t *u, const char *url, int target)
{
    const char *p, *host, *host_end, *end, *query;
    size_t n, root;
    uint64_t port;

    if (u == NULL || url == NULL)
        return TKR_E_INVALID_ARG;
    memset(u, 0, sizeof(*u));
    if (strncmp(url, "https://", 8) == 0) {
        u->tls = 1;
        u->port = 443;
        p = url + 8;
    } else if (strncmp(url, "http://", 7) == 0) {
        u->port = 80;
        p = url + 7;
    } else {
        return TKR_E_INVALID_ARG;
    }
    if (*p == '[') {
        host = p + 1;
        host_end = strchr(host, ']');
        if (host_end == NULL)
            return TKR_E_INVALID_ARG;
        p = host_end + 1;
    } else {
        host = p;
        while (*p != '\0' && *p != ':' && *p != '/' && *p != '?')
            p++;
        host_end = p;
    }
    n = (size_t)(host_end - host);
    if (n == 0)
        return TKR_E_INVALID_ARG;
    if (n >= sizeof(u->host))
        return TKR_E_TOO_LARGE;
    for (end = host; end < host_end; end++) {
        unsigned char c = (unsigned char)*end;
        /* Letters, digits, '-', '.', and ':' inside IPv6 brackets; '@'
         * (user info), '%' and the rest have no place in a service URL. */
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c) ||
              c == '-' || c == '.' || (c == ':' && host[-1] == '[')))
            return TKR_E_INVALID_ARG;
    }
    memcpy(u->host, host, n);
    if (*p == ':') {
        const char *d = ++p;
        while (is_digit((unsigned char)*p))
            p++;
        if (parse_dec((const uint8_t *)d, (size_t)(p - d), &port) != 0 ||
            port == 0 || port > 65535)
            return TKR_E_INVALID_ARG;
        u->port = (uint16_t)port;
    }
    query = target ? strchr(p, '?') : NULL;
    if (*p != '\0' && *p != '/' && p != query)
        return TKR_E_INVALID_ARG;
    n = strlen(p);
    /* A prefix loses its trailing '/'; a whole target is kept as it is,
     * from "/" on. */
    while (!target && n > 0 && p[n - 1] == '/')
        n--;
    root = target && *p != '/';
    if (root + n >= sizeof(u->path))
        return TKR_E_TOO_LARGE;
    for (end = p; end < p + n; end++)
        if ((unsigned char)*end <= ' ' || (*end == '?' && query == NULL) || *end == '#' ||
            (unsigned char)*end >= 0x7f)
            return TKR_E_INVALID_ARG;
    if (root)
        u->path[0] = '/';
    memcpy(u->path + root, p, n);
    return 0;
}

int tkr_http_url_parse(tkr_http_url_t *u, const char *url)
{
    return url_parse(u, url, 0);
}

int tkr_http_url_parse_target(tkr_http_url_t *u, const char *url)
{
    return url_parse(u, url, 1);
}

/* ---- request head ---- */

typedef struct {
    uint8_t *b;
    size_t size, len;
    int over;
} out_t;

static void put(out_t *o, const char *s, size_t n)
{
    if (o->over || n > o->size - o->len) {
        o->over = 1;
        return;
    }
    memcpy(o->b + o->len, s, n);
    o->len += n;
}

static void puts_(out_t *o, const char *s)
{
    put(o, s, strlen(s));
}

/* Header values and the path go on the wire as given: a CR or LF would
 * let them add headers of their own. */
static int clean(const char *s)
{
    for (; s != NULL && *s != '\0'; s++)
        if (*s == '\r' || *s == '\n')
            return 0;
    return 1;
}

static int write_head(out_t *o, const tkr_http_req_t *r)
{
    const tkr_http_url_t *u = r->url;
    char d[TKR_DEC_TEXT_MAX];

    if (!clean(r->method) || !clean(r->path) || !clean(r->bearer) ||
        r->path[0] != '/')
        return TKR_E_INVALID_ARG;
    puts_(o, r->method);
    puts_(o, " ");
    puts_(o, u->path);
    puts_(o, r->path);
    puts_(o, " HTTP/1.1\r\nHost: ");
    if (strchr(u->host, ':') != NULL) {
        puts_(o, "[");
        puts_(o, u->host);
        puts_(o, "]");
    } else {
        puts_(o, u->host);
    }
    if (u->port != (u->tls ? 443 : 80)) {
        puts_(o, ":");
        puts_(o, tkr_dec_text(d, u->port));
    }
    puts_(o, "\r\nUser-Agent: tokenroll\r\nAccept: application/json\r\n"
             "Connection: close\r\n");
    if (r->bearer != NULL) {
        puts_(o, "Authorization: Bearer ");
        puts_(o, r->bearer);
        puts_(o, "\r\n");
    }
    if (r->body != NULL) {
        puts_(o, "Content-Type: application/json\r\nContent-Length: ");
        puts_(o, tkr_dec_text(d, r->body_len));
        puts_(o, "\r\n");
    }
    puts_(o, "\r\n");
    return o->over ? TKR_E_BUFFER_TOO_SMALL : 0;
}

/* ---- the exchange ---- */

static uint64_t now_ms(const tkr_port_t *port)
{
    return port != NULL && port->mono_ms != NULL ? port->mono_ms(port->ctx) : 0;
}

/* What is left of the deadline; at least 1 ms while it is not over, 0 after. */
static uint32_t remaining(const tkr_http_t *h, uint64_t deadline)
{
    uint64_t now;

    if (h->port == NULL || h->port->mono_ms == NULL)
        return h->timeout_ms;
    now = now_ms(h->port);
    return now >= deadline ? 0 : (uint32_t)(deadline - now);
}

static int exchange(tkr_http_t *h, const tkr_transport_t *t, uint8_t *buf,
                    size_t size, tkr_http_response_t *resp,
                    const tkr_http_req_t *req, uint64_t deadline)
{
    out_t o = {buf, size, 0, 0};
    size_t len = 0;
    uint32_t ms;
    int rc, done = 0, n;

    if ((rc = write_head(&o, req)) != 0)
        return rc;
    if ((ms = remaining(h, deadline)) == 0)
        return TKR_E_TIMEOUT;
    if ((rc = t->connect(t->ctx, req->url->host, req->url->port, ms)) != 0)
        return rc;
    if ((ms = remaining(h, deadline)) == 0)
        return TKR_E_TIMEOUT;
    rc = tkr_transport_send_all(t, buf, o.len, ms);
    if (rc == 0 && req->body != NULL && req->body_len > 0) {
        if ((ms = remaining(h, deadline)) == 0)
            return TKR_E_TIMEOUT;
        rc = tkr_transport_send_all(t, req->body, req->body_len, ms);
    }
    if (rc != 0)
        return rc;
    for (;;) {
        if (len == size)
            return TKR_E_TOO_LARGE;
        if ((ms = remaining(h, deadline)) == 0)
            return TKR_E_TIMEOUT;
        n = t->recv(t->ctx, buf + len, size - len, ms);
        if (n < 0)
            return n;
        len += (size_t)n;
        rc = tkr_http_response_parse(resp, &done, buf, len, n == 0);
        if (rc != 0 || done)
            return rc;
    }
}

int tkr_http_request(tkr_http_t *h, uint8_t *buf, size_t size,
                     tkr_http_response_t *resp, const tkr_http_req_t *req)
{
    tkr_transport_t tls_t;
    const tkr_transport_t *t;
    uint64_t deadline;
    int rc;

    if (h == NULL || buf == NULL || resp == NULL || req == NULL ||
        req->url == NULL || req->method == NULL || req->path == NULL ||
        h->tcp == NULL || h->tcp->connect == NULL ||
        (req->body == NULL && req->body_len > 0))
        return TKR_E_INVALID_ARG;
    memset(resp, 0, sizeof(*resp));
    resp->retry_after = -1;
    deadline = now_ms(h->port) + h->timeout_ms;
    if (req->url->tls) {
        if (h->tls == NULL || h->ca_pem == NULL)
            return TKR_E_INVALID_ARG;
        tkr_tls_free(h->tls);
        rc = tkr_tls_setup(h->tls, h->tcp, h->ca_pem, h->max_frag_len, h->port);
        if (rc != 0)
            return rc;
        tkr_tls_transport(&tls_t, h->tls);
        t = &tls_t;
    } else {
        /* Plain HTTP carries the token in the clear: loopback tests only. */
        if (!h->insecure_http)
            return TKR_E_INVALID_ARG;
        t = h->tcp;
    }
    rc = exchange(h, t, buf, size, resp, req, deadline);
    if (t->close != NULL)
        t->close(t->ctx);
    if (req->url->tls) {
        /* Give mbedTLS's record buffers back now (a device's heap peak),
         * keeping why a handshake failed for the caller's message. */
        int mrc = h->tls->mbedtls_rc;
        uint32_t flags = h->tls->verify_flags;
        tkr_tls_free(h->tls);
        h->tls->mbedtls_rc = mrc;
        h->tls->verify_flags = flags;
    }
    return rc;
}
