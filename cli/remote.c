/* remote.c — calls to the certificate service's API for the admin
 * commands, over the library's one HTTP client. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <mbedtls/platform_util.h>

#include "cli.h"
#include "remote.h"
#include "tkr_port_posix.h"
#include "tokenroll/error.h"
#include "tokenroll/json.h"
#include "tokenroll/tls.h"

#define PEM_MAX 16384

int cli_remote_open(cli_remote_t *r, const char *url, const char *api_key,
                    const char *ca_cert, const char *ca_path)
{
    struct stat st;

    memset(r, 0, sizeof(*r));
    if (url == NULL)
        url = getenv("NVFLARE_CERT_SERVICE_URL");
    if (api_key == NULL)
        api_key = getenv("NVFLARE_API_KEY");
    if (url == NULL || url[0] == '\0')
        return cli_fail("the certificate service URL is required: --cert-service URL "
                        "or NVFLARE_CERT_SERVICE_URL");
    if (api_key == NULL || api_key[0] == '\0')
        return cli_fail("the API key is required: --api-key KEY or NVFLARE_API_KEY "
                        "(the service's api_key)");
    if (snprintf(r->url_text, sizeof(r->url_text), "%s", url) >= (int)sizeof(r->url_text) ||
        tkr_http_url_parse(&r->url, url) != 0)
        return cli_fail("--cert-service must be https://HOST[:PORT], not %s", url);
    if (snprintf(r->api_key, sizeof(r->api_key), "%s", api_key) >= (int)sizeof(r->api_key) ||
        strpbrk(api_key, "\r\n") != NULL)
        return cli_fail("the API key is too long or holds a line break");
    if (!r->url.tls)
        return cli_fail("the certificate service must be reached over https://, not %s", url);
    /* The TLS root: given, the workspace's CA, or the kit's. */
    if (ca_cert != NULL) {
        r->ca_pem = cli_read_file(ca_cert, PEM_MAX, NULL);
        if (r->ca_pem == NULL)
            return cli_fail("cannot read --ca-cert %s: %s", ca_cert, cli_io_error());
        return 0;
    }
    if (ca_path == NULL)
        ca_path = getenv("NVFLARE_CA_PATH");
    if (ca_path != NULL && ca_path[0] != '\0') {
        tkr_ca_t ca;
        int rc = cli_load_ca(&ca, ca_path);
        if (rc == 0 && (r->ca_pem = malloc(PEM_MAX)) != NULL &&
            cli_cert_pem(r->ca_pem, PEM_MAX, &ca.cert) != 0)
            rc = cli_fail("cannot encode the root certificate of %s", ca_path);
        tkr_ca_free(&ca);
        return rc;
    }
    if (stat("startup/rootCA.pem", &st) == 0) {
        r->ca_pem = cli_read_file("startup/rootCA.pem", PEM_MAX, NULL);
        if (r->ca_pem != NULL)
            return 0;
    }
    return cli_fail("no root CA to trust the certificate service with: --ca-cert FILE, "
                    "or -c/NVFLARE_CA_PATH pointing to the provisioned workspace");
}

void cli_remote_close(cli_remote_t *r)
{
    free(r->ca_pem);
    mbedtls_platform_zeroize(r->api_key, sizeof(r->api_key));
    r->ca_pem = NULL;
}

/* The service's {"error": "..."}, or "" when the body has none. */
void cli_remote_error_text(const tkr_http_response_t *resp, char *out, size_t size)
{
    tkr_json_tok_t tok[32];
    tkr_json_t doc;
    size_t i;
    int t;

    out[0] = '\0';
    if (tkr_json_parse(&doc, tok, 32, (const char *)resp->body, resp->body_len, NULL) != 0 ||
        (t = tkr_json_find(&doc, 0, "error")) < 0 ||
        tkr_json_get_str(&doc, out, size, NULL, t) != 0) {
        out[0] = '\0';
        return;
    }
    for (i = 0; out[i] != '\0'; i++)
        if ((unsigned char)out[i] < 0x20 || out[i] == 0x7f)
            out[i] = '?';
}

int cli_remote_print_json(const tkr_http_response_t *resp)
{
    size_t size = resp->body_len * 3 + 64, n, ntok = resp->body_len / 2 + 16;
    char *out = malloc(size);
    tkr_json_tok_t *tok = malloc(ntok * sizeof(*tok));
    tkr_json_t doc;
    tkr_jsonw_t w;
    int rc = TKR_E_NO_MEMORY;

    if (out != NULL && tok != NULL)
        rc = tkr_json_parse(&doc, tok, ntok, (const char *)resp->body, resp->body_len, NULL);
    if (rc == 0) {
        tkr_jsonw_init(&w, out, size - 1, TKR_JSONW_PRETTY);
        tkr_jsonw_value(&w, &doc, 0);
        rc = tkr_jsonw_finish(&w, &n);
    }
    if (rc == 0)
        printf("%s\n", out);
    free(out);
    free(tok);
    return rc == 0 ? 0 : cli_fail("cannot print the service's answer: %s", tkr_strerror(rc));
}

int cli_remote_open_public(cli_remote_t *r, const char *url, const char *ca_cert,
                           int insecure_http)
{
    memset(r, 0, sizeof(*r));
    if (url == NULL || url[0] == '\0')
        return cli_fail("the certificate service URL is required: --service URL");
    if (snprintf(r->url_text, sizeof(r->url_text), "%s", url) >= (int)sizeof(r->url_text) ||
        tkr_http_url_parse(&r->url, url) != 0)
        return cli_fail("--service must be https://HOST[:PORT], not %s", url);
    if (!r->url.tls && !insecure_http)
        return cli_fail("the certificate service must be reached over https://, not %s "
                        "(--insecure-http for a loopback test)", url);
    r->insecure_http = !r->url.tls;
    if (r->url.tls && ca_cert == NULL)
        return cli_fail("--ca-cert FILE is required: the root CA the service's TLS "
                        "certificate chains to");
    if (ca_cert != NULL && (r->ca_pem = cli_read_file(ca_cert, PEM_MAX, NULL)) == NULL)
        return cli_fail("cannot read --ca-cert %s: %s", ca_cert, cli_io_error());
    return 0;
}

void cli_client_init(cli_client_t *c, const tkr_port_t *port, const char *ca_pem,
                     int insecure_http, uint32_t timeout_ms)
{
    tkr_posix_tcp_init(&c->tcp, &c->conn);
    tkr_tls_init(&c->tls);
    memset(&c->h, 0, sizeof(c->h));
    c->h.port = port;
    c->h.tcp = &c->tcp;
    c->h.tls = &c->tls;
    c->h.ca_pem = ca_pem;
    c->h.insecure_http = insecure_http;
    c->h.timeout_ms = timeout_ms;
}

void cli_client_free(cli_client_t *c)
{
    tkr_tls_free(&c->tls);
}

int cli_remote_exchange(cli_remote_t *r, const char *method, const char *path,
                        const char *body, uint8_t *buf, size_t size,
                        tkr_http_response_t *resp)
{
    cli_client_t c;
    tkr_http_req_t req;
    int rc;

    cli_client_init(&c, cli_port(), r->ca_pem, r->insecure_http, 30000);
    memset(&req, 0, sizeof(req));
    req.method = method;
    req.url = &r->url;
    req.path = path;
    req.bearer = r->api_key[0] != '\0' ? r->api_key : NULL;
    req.body = (const uint8_t *)body;
    req.body_len = body != NULL ? strlen(body) : 0;
    rc = tkr_http_request(&c.h, buf, size, resp, &req);
    if (rc == TKR_E_TLS) {
        rc = cli_fail("cannot connect to the certificate service at %s: TLS: %s",
                      r->url_text, tkr_tls_problem(&c.tls));
    } else if (rc == TKR_E_CERT) {
        rc = cli_fail("the root CA given for the certificate service holds no certificate");
    } else if (rc == TKR_E_NET || rc == TKR_E_TIMEOUT) {
        rc = cli_fail("cannot connect to the certificate service at %s: %s. "
                      "Check the URL and that the service is running",
                      r->url_text, rc == TKR_E_NET ? "connection failed" : "timed out");
    } else if (rc != 0) {
        rc = cli_fail("the certificate service at %s gave no usable answer: %s",
                      r->url_text, tkr_strerror(rc));
    }
    cli_client_free(&c);
    return rc;
}

int cli_remote_call(cli_remote_t *r, const char *method, const char *path,
                    const char *body, uint8_t *buf, size_t size,
                    tkr_http_response_t *resp)
{
    char msg[512];
    int rc = cli_remote_exchange(r, method, path, body, buf, size, resp);

    if (rc != 0)
        return rc;
    if (resp->status == 401)
        return cli_fail("authentication failed: the certificate service refused the API key "
                        "(HTTP 401). Check --api-key or NVFLARE_API_KEY");
    if (resp->status == 403) {
        cli_remote_error_text(resp, msg, sizeof(msg));
        return cli_fail("access denied by the certificate service (HTTP 403)%s%s",
                        msg[0] ? ": " : "", msg);
    }
    if (resp->status < 200 || resp->status > 299) {
        cli_remote_error_text(resp, msg, sizeof(msg));
        return cli_fail("the certificate service answered HTTP %d%s%s", resp->status,
                        msg[0] ? ": " : "", msg);
    }
    return 0;
}

/* ---- tokens minted by the service (token generate|batch remote mode) ---- */

int cli_remote_tokens(cli_remote_t *r, const char *type, const char *role,
                      int64_t validity_s, char *const *names, size_t n,
                      char **tokens)
{
    size_t size = 256 + (role ? strlen(role) * 6 : 0), i, len;
    uint8_t *answer = NULL;
    tkr_json_tok_t *tok = NULL;
    tkr_http_response_t resp;
    tkr_jsonw_t w;
    tkr_json_t doc;
    char *body;
    int rc, arr, t;

    for (i = 0; i < n; i++)
        size += strlen(names[i]) * 6 + 4;
    if ((body = malloc(size)) == NULL)
        return cli_fail("out of memory");
    tkr_jsonw_init(&w, body, size - 1, 0);
    tkr_jsonw_obj_begin(&w);
    if (n == 1) {
        tkr_jsonw_key(&w, "name");
        tkr_jsonw_str(&w, names[0]);
    } else {
        tkr_jsonw_key(&w, "names");
        tkr_jsonw_arr_begin(&w);
        for (i = 0; i < n; i++)
            tkr_jsonw_str(&w, names[i]);
        tkr_jsonw_arr_end(&w);
    }
    tkr_jsonw_key(&w, "entity_type");
    tkr_jsonw_str(&w, type);
    if (validity_s > 0) {
        /* The API counts whole days; a shorter lifetime is one day. */
        tkr_jsonw_key(&w, "valid_days");
        tkr_jsonw_i64(&w, (validity_s + 86399) / 86400);
    }
    if (role != NULL) {
        tkr_jsonw_key(&w, "role");
        tkr_jsonw_str(&w, role);
    }
    tkr_jsonw_obj_end(&w);
    if (tkr_jsonw_finish(&w, &len) != 0) {
        free(body);
        return cli_fail("a name is not valid UTF-8");
    }
    size = 4096 + n * (TKR_JWT_MAX + 512);
    answer = malloc(size);
    tok = malloc((8 + 6 * n) * sizeof(*tok));
    if (answer == NULL || tok == NULL) {
        rc = cli_fail("out of memory");
        goto out;
    }
    if ((rc = cli_remote_call(r, "POST", "/api/v1/token", body, answer, size, &resp)) != 0)
        goto out;
    rc = -1; /* until every token is read */
    if (tkr_json_parse(&doc, tok, 8 + 6 * n, (const char *)resp.body, resp.body_len, NULL) != 0 ||
        tkr_json_type(&doc, 0) != TKR_JSON_OBJECT)
        goto out;
    if (n == 1) {
        t = tkr_json_find(&doc, 0, "token");
        if (t < 0 || (tokens[0] = malloc(TKR_JWT_MAX + 1)) == NULL ||
            tkr_json_get_str(&doc, tokens[0], TKR_JWT_MAX + 1, NULL, t) != 0)
            goto out;
    } else {
        arr = tkr_json_find(&doc, 0, "tokens");
        if (arr < 0 || tkr_json_type(&doc, arr) != TKR_JSON_ARRAY ||
            tkr_json_count(&doc, arr) != (int)n)
            goto out;
        for (i = 0; i < n; i++) {
            int o = tkr_json_child(&doc, arr, (int)i);
            int nm = tkr_json_find(&doc, o, "name");
            t = tkr_json_find(&doc, o, "token");
            /* In the order asked for, each under its own name. */
            if (nm < 0 || t < 0 || !tkr_json_str_eq(&doc, nm, names[i]) ||
                (tokens[i] = malloc(TKR_JWT_MAX + 1)) == NULL ||
                tkr_json_get_str(&doc, tokens[i], TKR_JWT_MAX + 1, NULL, t) != 0)
                goto out;
        }
    }
    rc = 0;
out:
    if (rc < 0)
        rc = cli_fail("the certificate service's answer does not hold the tokens asked for");
    if (answer != NULL)
        mbedtls_platform_zeroize(answer, size);
    free(answer);
    free(tok);
    free(body);
    return rc;
}
