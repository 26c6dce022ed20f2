/* tokenroll/http.h — one HTTP/1.1 client for the device, the admin
 * commands and the service's notifications.
 *
 * One request per connection (Connection: close), over a tkr_transport_t:
 * TLS (tokenroll/tls.h) layered on the port's TCP transport for https://,
 * the bare TCP transport for http://, which is refused unless the caller
 * says insecure (loopback tests). The client owns no memory: the caller
 * gives one buffer that holds the request head while it is sent and then
 * the whole response, whose size it caps (TKR_E_TOO_LARGE beyond it).
 * Bodies framed by Content-Length, chunked (decoded in place) or by the
 * end of the stream; 1xx interim responses are skipped. The whole exchange
 * runs under one deadline from the port's monotonic clock. */
#ifndef TOKENROLL_HTTP_H
#define TOKENROLL_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include "port.h"
#include "tls.h"
#include "transport.h"

/* Host name or address literal (RFC 1035 allows 253 characters), with NUL. */
#define TKR_HTTP_HOST_MAX 256
/* Path prefix of a service URL, with NUL. */
#define TKR_HTTP_PATH_MAX 256
/* A response buffer that holds every answer of the certificate service
 * (a certificate and the CA, PEM, in JSON, with headers). */
#define TKR_HTTP_RESPONSE_MAX 8192

/* A service URL, "https://host[:port][/prefix]". */
typedef struct {
    int tls;                      /* 1 for https */
    char host[TKR_HTTP_HOST_MAX]; /* without the brackets of an IPv6 literal */
    uint16_t port;
    char path[TKR_HTTP_PATH_MAX]; /* prefix without a trailing '/'; "" for none */
} tkr_http_url_t;

/* Parse url (NUL-terminated). http:// and https:// only; no user info,
 * query or fragment (a service URL has none); port 1-65535. TKR_E_INVALID_ARG
 * for anything else, TKR_E_TOO_LARGE when host or path are too long. */
int tkr_http_url_parse(tkr_http_url_t *u, const char *url);

/* Parse a URL that names one resource (a webhook's): as tkr_http_url_parse,
 * but a query is allowed ("https://hooks.example/in?key=K") and path is the
 * whole request target, "/" at least, query included, trailing '/' kept;
 * send it with an empty prefix. */
int tkr_http_url_parse_target(tkr_http_url_t *u, const char *url);

/* A parsed response. body points into the caller's buffer. */
typedef struct {
    int status;           /* 200..599 (1xx are skipped) */
    int64_t retry_after;  /* Retry-After in seconds; -1 when absent or a date */
    const uint8_t *body;
    size_t body_len;
} tkr_http_response_t;

/* Parse buf[0..len), the bytes received so far (eof: the peer closed the
 * stream). *done = 0: need more bytes, nothing changed. *done = 1: resp is
 * filled, a chunked body has been decoded in place inside buf. Errors:
 * TKR_E_HTTP (malformed, or a stream that ended early), TKR_E_UNSUPPORTED
 * (a transfer coding other than chunked). Strict in what it accepts: CRLF
 * line ends, no folded headers, one Content-Length, not both framings. */
int tkr_http_response_parse(tkr_http_response_t *resp, int *done, uint8_t *buf,
                            size_t len, int eof);

/* The connection a client makes: the caller's TCP transport (unconnected;
 * the client connects and closes it), and for https a tkr_tls_t the
 * client sets up over it with ca_pem as the only trusted root. */
typedef struct {
    const tkr_port_t *port;
    tkr_transport_t *tcp;
    tkr_tls_t *tls;               /* initialised (tkr_tls_init); NULL: only
                                     http:// can be used. Its mbedTLS state is
                                     released after each request; the reason
                                     a handshake failed stays readable. */
    const char *ca_pem;           /* PEM roots, NUL-terminated */
    int insecure_http;            /* allow http:// (loopback tests only) */
    uint32_t timeout_ms;          /* the whole exchange, connect to last byte */
    uint16_t max_frag_len;        /* TLS max fragment: 0 (default), 512..4096 */
} tkr_http_t;

/* One request. */
typedef struct {
    const char *method;           /* "GET", "POST" */
    const tkr_http_url_t *url;    /* where; path is appended to url->path */
    const char *path;             /* "/api/v1/enroll" */
    const char *bearer;           /* Authorization: Bearer <bearer>, or NULL */
    const uint8_t *body;          /* JSON, sent with Content-Length; or NULL */
    size_t body_len;
} tkr_http_req_t;

/* Send req and receive the answer into buf[0..size), which caps the
 * response (head and body). The head is written into buf first, so size
 * must also hold it (under 1 KB). Returns 0 with resp filled for any
 * status (the caller decides what a 4xx means), or TKR_E_INVALID_ARG (CR
 * or LF in a header value, http:// without insecure_http), TKR_E_NET,
 * TKR_E_TIMEOUT, TKR_E_TLS (handshake or certificate; the detail is in
 * h->tls), TKR_E_TOO_LARGE, TKR_E_HTTP, TKR_E_UNSUPPORTED. */
int tkr_http_request(tkr_http_t *h, uint8_t *buf, size_t size,
                     tkr_http_response_t *resp, const tkr_http_req_t *req);

#endif
