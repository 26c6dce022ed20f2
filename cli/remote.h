/* remote.h — the admin commands' side of the certificate service's API
 * (token generate|batch --cert-service, enrollment ...): one request over
 * the library's HTTPS client, with the API key as a bearer token and the
 * project's root CA as the only trusted root. */
#ifndef TKR_CLI_REMOTE_H
#define TKR_CLI_REMOTE_H

#include <stddef.h>
#include <stdint.h>

#include "tkr_port_posix.h"
#include "tokenroll/http.h"
#include "tokenroll/tls.h"

/* The library's HTTP(S) client over the POSIX port, its parts together:
 * one per request, on the caller's stack (it must not move once set). */
typedef struct {
    tkr_posix_tcp_t conn;
    tkr_transport_t tcp;
    tkr_tls_t tls;
    tkr_http_t h;
} cli_client_t;

/* ca_pem is the only trusted root; insecure_http admits http:// URLs. */
void cli_client_init(cli_client_t *c, const tkr_port_t *port, const char *ca_pem,
                     int insecure_http, uint32_t timeout_ms);
void cli_client_free(cli_client_t *c);

typedef struct {
    tkr_http_url_t url;
    char url_text[1024];
    char api_key[512];
    char *ca_pem;            /* heap; the TLS root */
    int insecure_http;
} cli_remote_t;

/* Resolve the service (flag, else NVFLARE_CERT_SERVICE_URL), the key
 * (flag, else NVFLARE_API_KEY) and the TLS root (ca_cert file; else the
 * CA of ca_path or NVFLARE_CA_PATH; else ./startup/rootCA.pem). Prints
 * the error and returns CLI_EXIT_FAIL when one is missing or unusable. */
int cli_remote_open(cli_remote_t *r, const char *url, const char *api_key,
                    const char *ca_cert, const char *ca_path);
void cli_remote_close(cli_remote_t *r);

/* One call: method path [body JSON]. The answer lands in buf (size caps
 * it). Returns 0 for a 2xx answer; otherwise prints one "Error: ..." line
 * (network, TLS, 401/403 key problems, the service's {"error"} text) and
 * returns CLI_EXIT_FAIL. */
int cli_remote_call(cli_remote_t *r, const char *method, const char *path,
                    const char *body, uint8_t *buf, size_t size,
                    tkr_http_response_t *resp);

/* For the routes anyone may call (authn/jwt, cert status): the service URL
 * and the TLS root, no API key; plain http:// only with insecure_http.
 * Prints the error; CLI_EXIT_FAIL. */
int cli_remote_open_public(cli_remote_t *r, const char *url, const char *ca_cert,
                           int insecure_http);

/* One exchange whatever the HTTP status (the caller judges it); network
 * and TLS failures print one "Error: ..." line and return CLI_EXIT_FAIL.
 * The API key, when set, goes as the bearer token. */
int cli_remote_exchange(cli_remote_t *r, const char *method, const char *path,
                        const char *body, uint8_t *buf, size_t size,
                        tkr_http_response_t *resp);

/* The service's {"error": "..."} text of resp ("" when none), control
 * characters replaced. */
void cli_remote_error_text(const tkr_http_response_t *resp, char *out, size_t size);

/* resp's JSON body, pretty, on stdout (the admin commands' --json).
 * Prints the error; CLI_EXIT_FAIL. */
int cli_remote_print_json(const tkr_http_response_t *resp);

/* POST /api/v1/token for names[0..n) (one "name", or "names"), of type
 * type, validity_s seconds (0: the service's default), role (NULL: the
 * policy's). tokens[i] get heap copies in the order of names. Prints the
 * error; CLI_EXIT_FAIL. */
int cli_remote_tokens(cli_remote_t *r, const char *type, const char *role,
                      int64_t validity_s, char *const *names, size_t n,
                      char **tokens);

#endif
