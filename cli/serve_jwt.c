/* serve_jwt.c — the JWT authenticator inside tokenroll serve: its settings
 * (flags, and the PVXS EPICS_AUTH_JWT_* environment), its keys and JWKS
 * cache, and the verification request it sends to a trusted URI through
 * the project's http client. The rules themselves are the library's
 * (tokenroll/authjwt.h). */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli.h"
#include "remote.h"
#include "serve_jwt.h"
#include "tkr_port_posix.h"
#include "tokenroll/error.h"
#include "tokenroll/http.h"
#include "tokenroll/key.h"
#include "tokenroll/tls.h"

/* An answer of the verifier or a JWKS larger than this is refused. */
#define ANSWER_MAX (64 * 1024)
/* A JWKS is fetched again for an unknown kid at most this often (s), by
 * default; --jwt-jwks-refetch changes it. */
#define JWKS_REFETCH_DEFAULT 60
#define KEYS_MAX 16

struct serve_jwt {
    tkr_authjwt_cfg_t cfg;
    tkr_authjwt_format_t fmt;
    const tkr_port_t *port;
    /* the trusted URI, split for the http client */
    tkr_http_url_t verify_url;
    char verify_path[TKR_HTTP_PATH_MAX];
    char *trusted_uri, *request_format, *issuer, *audience;
    char *tls_ca;                      /* roots for https peers, PEM */
    int allow_http;
    uint32_t timeout_ms;
    /* PEM keys */
    mbedtls_pk_context pk[KEYS_MAX];
    tkr_authjwt_key_t keys[KEYS_MAX];
    size_t nkeys;
    /* the JWKS, file or URL, and when it was last read */
    char *jwks_src;
    int jwks_url;
    tkr_http_url_t jwks_http;
    char jwks_path[TKR_HTTP_PATH_MAX];
    char *jwks_text;
    tkr_jwks_t *jwks;
    int64_t jwks_at;
    int64_t jwks_refetch;              /* seconds between two fetches, at least */
    /* Local verification is serialised: mbedTLS key contexts cache values
     * on first use, and the set may be replaced by a refresh. */
    pthread_mutex_t mu;
    pthread_key_t answer_key;          /* per-thread answer buffer */
};

/* ---- settings ---- */

/* A flag, else the environment variable, else NULL. */
static const char *setting(const cli_args_t *a, const char *flag, const char *env)
{
    const char *v = cli_get(a, flag);

    if (v == NULL && env != NULL && (v = getenv(env)) != NULL && v[0] == '\0')
        v = NULL;
    return v;
}

static char *dup_or_null(const char *s)
{
    return s != NULL ? strdup(s) : NULL;
}

/* YES/TRUE/1 (any case) -> 1, NO/FALSE/0 or unset -> 0, else -1. */
static int yes_no(const char *v)
{
    if (v == NULL || strcasecmp(v, "no") == 0 || strcasecmp(v, "false") == 0 ||
        strcmp(v, "0") == 0)
        return 0;
    if (strcasecmp(v, "yes") == 0 || strcasecmp(v, "true") == 0 || strcmp(v, "1") == 0)
        return 1;
    return -1;
}

static int loopback(const char *host)
{
    return strcmp(host, "localhost") == 0 || strncmp(host, "127.", 4) == 0 ||
           strcmp(host, "::1") == 0;
}

/* Split an http(s) URL with a path into what the http client takes: the
 * origin as its URL, the path (no query, no fragment) kept apart. */
static int split_url(tkr_http_url_t *u, char *path, size_t size, const char *url,
                     const char *what, int allow_http)
{
    const char *p = strstr(url, "://"), *slash;
    char origin[TKR_HTTP_HOST_MAX + 32];
    size_t n, i;

    if (p == NULL)
        return cli_fail("%s %s is not an http(s) URL", what, url);
    slash = strchr(p + 3, '/');
    n = slash != NULL ? (size_t)(slash - url) : strlen(url);
    if (n >= sizeof(origin))
        return cli_fail("%s %s: the host part is too long", what, url);
    memcpy(origin, url, n);
    origin[n] = '\0';
    if (tkr_http_url_parse(u, origin) != 0)
        return cli_fail("%s %s is not an http(s)://host[:port]/path URL", what, url);
    snprintf(path, size, "%s", slash != NULL ? slash : "/");
    if (strlen(slash != NULL ? slash : "/") >= size)
        return cli_fail("%s %s: the path is too long", what, url);
    for (i = 0; path[i] != '\0'; i++)
        if ((unsigned char)path[i] <= ' ' || path[i] == '?' || path[i] == '#' ||
            (unsigned char)path[i] >= 0x7f)
            return cli_fail("%s %s: the path may hold no query, fragment or spaces",
                            what, url);
    if (!u->tls && !loopback(u->host) && !allow_http)
        return cli_fail("%s %s is plain http to another host: use https, or "
                        "--jwt-allow-http", what, url);
    return 0;
}

/* [ALG:]FILE */
static int load_key(serve_jwt_t *sj, const char *arg)
{
    static const char *const algs[] = {"RS256:", "PS256:", "ES256:", "ES384:"};
    tkr_jwt_alg_t alg = TKR_JWT_ALG_UNKNOWN;
    const char *path = arg;
    char *pem;
    size_t i, n;
    mbedtls_pk_context *pk;

    if (sj->nkeys == KEYS_MAX)
        return cli_fail("at most %d --jwt-key", KEYS_MAX);
    for (i = 0; i < 4; i++)
        if (strncmp(arg, algs[i], 6) == 0) {
            alg = tkr_jwt_alg_from_name(arg, 5);
            path = arg + 6;
        }
    if ((pem = cli_read_file(path, 1 << 20, &n)) == NULL)
        return cli_fail("--jwt-key %s: %s", path, cli_io_error());
    pk = &sj->pk[sj->nkeys];
    mbedtls_pk_init(pk);
    if (tkr_key_parse_public(pk, (const uint8_t *)pem, n + 1, NULL) != 0) {
        free(pem);
        return cli_fail("--jwt-key %s: not a public key or certificate (PEM or DER)", path);
    }
    free(pem);
    if (alg == TKR_JWT_ALG_UNKNOWN && tkr_key_default_alg(pk, &alg) != 0)
        return cli_fail("--jwt-key %s: not an RSA, P-256 or P-384 key", path);
    if (tkr_key_check_alg(pk, alg) != 0)
        return cli_fail("--jwt-key %s: the key cannot verify %s (RSA needs 2048 bits or more)",
                        path, tkr_jwt_alg_name(alg));
    sj->keys[sj->nkeys].pk = pk;
    sj->keys[sj->nkeys].alg = alg;
    sj->keys[sj->nkeys].kid = NULL;
    sj->nkeys++;
    return 0;
}

/* ---- the per-thread answer buffer ---- */

static uint8_t *answer_buf(serve_jwt_t *sj)
{
    uint8_t *b = pthread_getspecific(sj->answer_key);

    if (b == NULL && (b = malloc(ANSWER_MAX)) != NULL &&
        pthread_setspecific(sj->answer_key, b) != 0) {
        free(b);
        b = NULL;
    }
    return b;
}

/* One GET or POST to url + path; the answer lands in this thread's buffer.
 * A TLS failure is logged with its reason (named is the URL as configured):
 * the client only learns that the verifier cannot be reached, the operator
 * needs to know that its certificate is, say, for another host. */
static int fetch(serve_jwt_t *sj, const char *named, const tkr_http_url_t *url,
                 const char *path, const char *method, const char *bearer,
                 const char *body, size_t body_len, int *status, const char **out,
                 size_t *out_len)
{
    cli_client_t cl;
    tkr_http_req_t req;
    tkr_http_response_t r;
    uint8_t *buf = answer_buf(sj);
    int rc;

    if (buf == NULL)
        return TKR_E_NO_MEMORY;
    cli_client_init(&cl, sj->port, sj->tls_ca, !url->tls, sj->timeout_ms);
    if (!url->tls)
        cl.h.tls = NULL;
    memset(&req, 0, sizeof(req));
    req.method = method;
    req.url = url;
    req.path = path;
    req.bearer = bearer;
    req.body = (const uint8_t *)body;
    req.body_len = body_len;
    rc = tkr_http_request(&cl.h, buf, ANSWER_MAX - 1, &r, &req);
    if (rc == TKR_E_TLS)
        fprintf(stderr, "tokenroll serve: JWT authenticator: %s: TLS: %s\n", named,
                tkr_tls_problem(&cl.tls));
    cli_client_free(&cl);
    if (rc != 0)
        return rc;
    *status = r.status;
    *out = (const char *)r.body;
    *out_len = r.body_len;
    return 0;
}

/* ---- the library's hooks ---- */

static int jwt_call(void *arg, const tkr_authjwt_call_t *c, int *status,
                    const char **body, size_t *len)
{
    serve_jwt_t *sj = arg;
    size_t n = strlen(sj->verify_path) + (c->query[0] ? 1 + strlen(c->query) : 0) + 1;
    char *path = malloc(n);
    int rc;

    if (path == NULL)
        return TKR_E_NO_MEMORY;
    snprintf(path, n, "%s%s%s", sj->verify_path, c->query[0] ? "?" : "", c->query);
    rc = fetch(sj, sj->trusted_uri, &sj->verify_url, path, c->method, c->bearer, c->body,
               c->body_len, status, body, len);
    free(path);
    return rc;
}

/* Read the JWKS (file or URL) into a fresh set, replacing the old one. */
static int jwks_load(serve_jwt_t *sj)
{
    char *text = NULL;
    tkr_jwks_t *set;
    size_t n = 0;
    int status = 0, rc;

    if (sj->jwks_url) {
        const char *body;
        rc = fetch(sj, sj->jwks_src, &sj->jwks_http, sj->jwks_path, "GET", NULL, NULL, 0,
                   &status, &body, &n);
        if (rc != 0)
            return rc;
        if (status != 200)
            return TKR_E_NET;
        if ((text = malloc(n + 1)) == NULL)
            return TKR_E_NO_MEMORY;
        memcpy(text, body, n);
        text[n] = '\0';
    } else if ((text = cli_read_file(sj->jwks_src, ANSWER_MAX, &n)) == NULL) {
        return TKR_E_IO;
    }
    if ((set = malloc(sizeof(*set))) == NULL) {
        free(text);
        return TKR_E_NO_MEMORY;
    }
    tkr_jwks_init(set);
    if ((rc = tkr_jwks_parse(set, text, n, NULL)) != 0) {
        free(set);
        free(text);
        return rc;
    }
    if (sj->jwks != NULL)
        tkr_jwks_free(sj->jwks);
    free(sj->jwks);
    free(sj->jwks_text);
    sj->jwks = set;
    sj->jwks_text = text;
    return 0;
}

static void jwt_lock(void *arg, int on)
{
    serve_jwt_t *sj = arg;

    if (on)
        pthread_mutex_lock(&sj->mu);
    else
        pthread_mutex_unlock(&sj->mu);
}

/* Called under jwt_lock. */
static int jwt_jwks(void *arg, int refresh, const tkr_jwks_t **set)
{
    serve_jwt_t *sj = arg;
    int64_t now = tkr_port_time(sj->port);

    if (sj->jwks_src == NULL) {
        *set = NULL;
        return 0;
    }
    if (sj->jwks == NULL || (refresh && now - sj->jwks_at >= sj->jwks_refetch)) {
        sj->jwks_at = now;
        (void)jwks_load(sj);   /* on failure the old set stays */
    }
    *set = sj->jwks;
    return 0;
}

/* ---- what serve calls ---- */

int serve_jwt_open(serve_jwt_t **out, const cli_args_t *a, const tkr_port_t *port,
                   int64_t max_validity)
{
    serve_jwt_t *sj;
    const char *keys[KEYS_MAX + 1];
    const char *v;
    tkr_diag_t why;
    int64_t n;
    int i, nk, rc = CLI_EXIT_FAIL;

    *out = NULL;
    nk = cli_multi(a, "jwt-key", keys, KEYS_MAX + 1);
    if (nk > KEYS_MAX)
        return cli_fail("at most %d --jwt-key", KEYS_MAX);
    if (nk == 0 && setting(a, "jwt-jwks", NULL) == NULL &&
        setting(a, "jwt-trusted-uri", "EPICS_AUTH_JWT_TRUSTED_URI") == NULL)
        return 0;   /* not enabled */
    if ((sj = calloc(1, sizeof(*sj))) == NULL)
        return cli_fail("out of memory");
    sj->port = port;
    pthread_mutex_init(&sj->mu, NULL);
    pthread_key_create(&sj->answer_key, free);
    sj->timeout_ms = 10000;
    sj->jwks_refetch = JWKS_REFETCH_DEFAULT;
    sj->allow_http = cli_has(a, "jwt-allow-http");
    sj->cfg.arg = sj;
    sj->cfg.rules.leeway = TKR_AUTHJWT_LEEWAY_DEFAULT;
    sj->cfg.rules.max_validity = max_validity;
    if ((v = cli_get(a, "jwt-leeway")) != NULL) {
        if (cli_parse_i64(v, 0, TKR_JWT_LEEWAY_MAX, &n) != 0) {
            cli_fail("--jwt-leeway must be 0..%d seconds, not %s", TKR_JWT_LEEWAY_MAX, v);
            goto fail;
        }
        sj->cfg.rules.leeway = n;
    }
    if ((v = cli_get(a, "jwt-timeout")) != NULL) {
        if (cli_parse_i64(v, 1, 300, &n) != 0) {
            cli_fail("--jwt-timeout must be 1..300 seconds, not %s", v);
            goto fail;
        }
        sj->timeout_ms = (uint32_t)n * 1000u;
    }
    if ((v = cli_get(a, "jwt-jwks-refetch")) != NULL) {
        if (cli_parse_i64(v, 1, 86400, &n) != 0) {
            cli_fail("--jwt-jwks-refetch must be 1..86400 seconds, not %s", v);
            goto fail;
        }
        sj->jwks_refetch = n;
    }
    if ((v = cli_get(a, "jwt-max-days")) != NULL) {
        if (cli_parse_i64(v, 1, 3650, &n) != 0) {
            cli_fail("--jwt-max-days must be 1..3650, not %s", v);
            goto fail;
        }
        sj->cfg.rules.max_validity = n * 86400;
    }
    if ((v = cli_get(a, "jwt-verify-ca")) != NULL) {
        size_t len;
        if ((sj->tls_ca = cli_read_file(v, 1 << 20, &len)) == NULL) {
            cli_fail("--jwt-verify-ca %s: %s", v, cli_io_error());
            goto fail;
        }
    }
    sj->issuer = dup_or_null(cli_get(a, "jwt-issuer"));
    sj->audience = dup_or_null(cli_get(a, "jwt-audience"));
    sj->cfg.rules.issuer = sj->issuer;
    sj->cfg.rules.audience = sj->audience;

    sj->trusted_uri = dup_or_null(setting(a, "jwt-trusted-uri", "EPICS_AUTH_JWT_TRUSTED_URI"));
    if (sj->trusted_uri != NULL) {
        if (nk > 0 || cli_get(a, "jwt-jwks") != NULL) {
            cli_fail("--jwt-trusted-uri and --jwt-key/--jwt-jwks exclude each other: "
                     "the token is verified by the provider or here, not both");
            goto fail;
        }
        if (split_url(&sj->verify_url, sj->verify_path, sizeof(sj->verify_path),
                      sj->trusted_uri, "--jwt-trusted-uri", sj->allow_http) != 0)
            goto fail;
        if (sj->verify_url.tls && sj->tls_ca == NULL) {
            cli_fail("--jwt-trusted-uri %s is https: give --jwt-verify-ca FILE, the root "
                     "its certificate chains to", sj->trusted_uri);
            goto fail;
        }
        sj->request_format = dup_or_null(setting(a, "jwt-request-format",
                                                 "EPICS_AUTH_JWT_REQUEST_FORMAT"));
        v = setting(a, "jwt-request-method", "EPICS_AUTH_JWT_REQUEST_METHOD");
        if (v != NULL && strcasecmp(v, "GET") != 0 && strcasecmp(v, "POST") != 0) {
            cli_fail("the JWT request method must be GET or POST, not %s", v);
            goto fail;
        }
        sj->cfg.use_get = v != NULL && strcasecmp(v, "GET") == 0;
        v = setting(a, "jwt-response-format", "EPICS_AUTH_JWT_RESPONSE_FORMAT");
        if (v == NULL)
            v = "#response#";
        tkr_diag_clear(&why);
        if (tkr_authjwt_format_compile(&sj->fmt, v, strlen(v), &why) != 0) {
            cli_fail("the JWT response format '%s' is not usable: %s", v, why.msg);
            goto fail;
        }
        v = setting(a, "jwt-use-response-code", "EPICS_AUTH_JWT_USE_RESPONSE_CODE");
        if ((sj->cfg.use_response_code = yes_no(v)) < 0) {
            cli_fail("the JWT response-code setting must be YES, TRUE, 1, NO, FALSE or 0, "
                     "not %s", v);
            goto fail;
        }
        sj->cfg.trusted_uri = sj->trusted_uri;
        sj->cfg.request_format = sj->request_format;
        sj->cfg.response_format = &sj->fmt;
        sj->cfg.call = jwt_call;
    } else {
        if (sj->issuer == NULL) {
            cli_fail("local JWT verification needs --jwt-issuer, the iss its tokens carry");
            goto fail;
        }
        for (i = 0; i < nk; i++)
            if (load_key(sj, keys[i]) != 0)
                goto fail;
        if ((v = cli_get(a, "jwt-jwks")) != NULL) {
            sj->jwks_src = strdup(v);
            sj->jwks_url = strncmp(v, "http://", 7) == 0 || strncmp(v, "https://", 8) == 0;
            if (sj->jwks_url &&
                split_url(&sj->jwks_http, sj->jwks_path, sizeof(sj->jwks_path), v,
                          "--jwt-jwks", sj->allow_http) != 0)
                goto fail;
            if (sj->jwks_url && sj->jwks_http.tls && sj->tls_ca == NULL) {
                cli_fail("--jwt-jwks %s is https: give --jwt-verify-ca FILE", v);
                goto fail;
            }
            sj->jwks_at = tkr_port_time(port);
            if ((rc = jwks_load(sj)) != 0) {
                cli_fail("--jwt-jwks %s: cannot read the key set: %s", v, tkr_strerror(rc));
                rc = CLI_EXIT_FAIL;
                goto fail;
            }
            sj->cfg.jwks = jwt_jwks;
        }
        sj->cfg.keys = sj->keys;
        sj->cfg.nkeys = sj->nkeys;
        sj->cfg.lock = jwt_lock;
    }
    *out = sj;
    return 0;
fail:
    serve_jwt_close(sj);
    return CLI_EXIT_FAIL;
}

void serve_jwt_close(serve_jwt_t *sj)
{
    size_t i;

    if (sj == NULL)
        return;
    for (i = 0; i < sj->nkeys; i++)
        mbedtls_pk_free(&sj->pk[i]);
    if (sj->jwks != NULL)
        tkr_jwks_free(sj->jwks);
    free(sj->jwks);
    free(sj->jwks_text);
    free(sj->jwks_src);
    free(sj->trusted_uri);
    free(sj->request_format);
    free(sj->issuer);
    free(sj->audience);
    free(sj->tls_ca);
    pthread_key_delete(sj->answer_key);
    pthread_mutex_destroy(&sj->mu);
    free(sj);
}

const tkr_authjwt_cfg_t *serve_jwt_cfg(const serve_jwt_t *sj)
{
    return sj != NULL ? &sj->cfg : NULL;
}

const char *serve_jwt_mode(const serve_jwt_t *sj)
{
    return sj->trusted_uri != NULL ? "trusted URI" : "local keys";
}
