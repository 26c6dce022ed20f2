/* http.h — the service's HTTP(S) server on libmicrohttpd.
 *
 * It only moves bytes: every request is handed, once its body is in, to a
 * handler taking the library's transport-agnostic request and response
 * (tokenroll/service.h). Limits: the body (413 beyond it), connection
 * timeouts, and a thread pool; TLS by GnuTLS inside libmicrohttpd, with
 * the handshake's signature made by libcrypto on OpenSSL builds
 * (tls_openssl.h). */
#ifndef TKR_CLI_HTTP_H
#define TKR_CLI_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include "tokenroll/service.h"

typedef int (*cli_http_handler)(void *arg, const tkr_service_req_t *req,
                                tkr_service_resp_t *resp);

typedef struct {
    const char *host;            /* address or name to bind */
    uint16_t port;               /* 0: any free port */
    const char *cert_pem;        /* server certificate chain, PEM; NULL with
                                    key_pem NULL: plain HTTP */
    const char *key_pem;
    unsigned threads;            /* thread pool size, >= 1 */
    unsigned timeout_s;          /* idle connection timeout */
    size_t body_max;             /* larger bodies get 413 */
    int log;                     /* one line per request on stderr */
    cli_http_handler handle;
    void *arg;
} cli_http_cfg_t;

typedef struct cli_http cli_http_t;

/* Start serving; *out is the running server. err gets a one-line reason. */
int cli_http_start(cli_http_t **out, const cli_http_cfg_t *cfg, char *err,
                   size_t err_size);
/* The port actually bound (useful with port 0). */
uint16_t cli_http_port(const cli_http_t *h);
void cli_http_stop(cli_http_t *h);

#endif
