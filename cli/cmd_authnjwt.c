/* cmd_authnjwt.c — `tokenroll authnjwt`: exchange an identity provider's JWT
 * for a certificate (the PVXS quick start's authnjwt) and keep it in a PVXS
 * keychain (PKCS#12). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <mbedtls/pk.h>
#include <mbedtls/platform_util.h>
#include <mbedtls/x509_crt.h>

#include "cli.h"
#include "p12.h"
#include "remote.h"
#include "tokenroll/authjwt.h"
#include "tokenroll/certwrite.h"
#include "tokenroll/csr.h"
#include "tokenroll/enroll.h"
#include "tokenroll/error.h"
#include "tokenroll/http.h"
#include "tokenroll/json.h"
#include "tokenroll/jwt.h"

static const char usage[] =
    "usage: tokenroll authnjwt [-u client|server|ioc] [--token-file FILE]\n"
    "                          --service URL [--ca-cert FILE] [--insecure-http]\n"
    "\n"
    "Exchange a JWT from an identity provider for a certificate: a new key\n"
    "pair, a certificate request and the token go to the certificate\n"
    "service's JWT authenticator (POST /api/v1/authn/jwt), and the key, the\n"
    "certificate and the CA are kept in a PKCS#12 keychain (mode 0600) where\n"
    "PVXS looks for it:\n"
    "  client:      $EPICS_PVA_TLS_KEYCHAIN, else\n"
    "               ${XDG_CONFIG_HOME:-~/.config}/pva/1.3/client.p12\n"
    "  server, ioc: $EPICS_PVAS_TLS_KEYCHAIN, else .../pva/1.3/server.p12\n"
    "Its password is the first line of $EPICS_PVA_TLS_KEYCHAIN_PWD_FILE\n"
    "(servers, IOCs: $EPICS_PVAS_TLS_KEYCHAIN_PWD_FILE), as PVXS reads it;\n"
    "empty when unset. A build without OpenSSL (OPENSSL=0) cannot write\n"
    "PKCS#12 and stops before anything is asked of the service.\n"
    "\n"
    "  -u, --usage U     client (default), server, or ioc (both)\n"
    "  --token-file FILE the JWT (default: $EPICS_AUTH_JWT_FILE)\n"
    "  --service URL     the certificate service, https://host:port\n"
    "  --ca-cert FILE    the root CA that the service's TLS certificate\n"
    "                    chains to (and the keychain's CA)\n"
    "  --insecure-http   allow an http:// service URL (loopback tests)\n";

static const cli_opt_t opts[] = {
    {"usage", 'u', OPT_VALUE, NULL},
    {"token-file", 0, OPT_VALUE, NULL},
    {"service", 0, OPT_VALUE, NULL},
    {"ca-cert", 0, OPT_VALUE, NULL},
    {"insecure-http", 0, OPT_FLAG, NULL},
    {NULL, 0, 0, NULL},
};

/* Where PVXS looks for the keychain of this usage. */
static int keychain_path(char *out, size_t size, int server)
{
    const char *v = getenv(server ? "EPICS_PVAS_TLS_KEYCHAIN" : "EPICS_PVA_TLS_KEYCHAIN");
    const char *base = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");
    int n;

    if (v != NULL && v[0] != '\0')
        n = snprintf(out, size, "%s", v);
    else if (base != NULL && base[0] != '\0')
        n = snprintf(out, size, "%s/pva/1.3/%s.p12", base, server ? "server" : "client");
    else if (home != NULL && home[0] != '\0')
        n = snprintf(out, size, "%s/.config/pva/1.3/%s.p12", home,
                     server ? "server" : "client");
    else
        return cli_fail("no keychain location: set %s, XDG_CONFIG_HOME or HOME",
                        server ? "EPICS_PVAS_TLS_KEYCHAIN" : "EPICS_PVA_TLS_KEYCHAIN");
    if (n < 0 || (size_t)n >= size)
        return cli_fail("the keychain path is too long");
    return 0;
}

/* The keychain's password: the first line (no line end) of the file PVXS
 * reads it from for this usage, "" when none is configured. Heap, NULL when
 * the file cannot be read (printed). */
static char *keychain_password(int server)
{
    const char *env = server ? "EPICS_PVAS_TLS_KEYCHAIN_PWD_FILE"
                             : "EPICS_PVA_TLS_KEYCHAIN_PWD_FILE";
    const char *f = getenv(env);
    char *pw;

    if (f == NULL || f[0] == '\0') {
        if ((pw = strdup("")) == NULL)
            cli_fail("out of memory");
        return pw;
    }
    if ((pw = cli_read_password_file(f)) == NULL)
        cli_fail("%s %s: cannot read the keychain password: %s", env, f, cli_io_error());
    return pw;
}

/* mkdir -p of path's folder, private (the keychain holds a key). */
static int make_parent(const char *path)
{
    char dir[TKR_PATH_MAX];
    char *slash;

    if (strlen(path) >= sizeof(dir))
        return cli_fail("the keychain path is too long");
    strcpy(dir, path);
    slash = strrchr(dir, '/');
    if (slash == NULL || slash == dir)
        return 0;
    *slash = '\0';
    if (cli_mkdirs(dir, 0700) != 0)
        return cli_fail("cannot create %s: %s", dir, strerror(errno));
    return 0;
}

/* The exchange's state: large, so static. */
static struct {
    tkr_jwt_t jwt;
    cli_remote_t r;
    char key_pem[TKR_KEY_PEM_MAX];
    char csr_pem[TKR_CSR_PEM_MAX];
    char body[TKR_JWT_MAX + TKR_CSR_PEM_MAX + 256];
    uint8_t resp[TKR_HTTP_RESPONSE_MAX];
    char cert_pem[TKR_ENROLL_PEM_MAX];
    char ca_pem_resp[TKR_ENROLL_PEM_MAX];
    tkr_json_tok_t tok[64];
} ws;

static int request_body(size_t *len, const char *token, const char *usage_name)
{
    tkr_jsonw_t w;

    tkr_jsonw_init(&w, ws.body, sizeof(ws.body), 0);
    tkr_jsonw_obj_begin(&w);
    tkr_jsonw_key(&w, "jwt");
    tkr_jsonw_str(&w, token);
    tkr_jsonw_key(&w, "csr");
    tkr_jsonw_str(&w, ws.csr_pem);
    tkr_jsonw_key(&w, "usage");
    tkr_jsonw_str(&w, usage_name);
    tkr_jsonw_obj_end(&w);
    return tkr_jsonw_finish(&w, len);
}

int cmd_authnjwt(int argc, char **argv)
{
    cli_args_t a;
    const char *usage_name, *v, *service, *ca_file, *why = NULL;
    const tkr_port_t *port = cli_port();
    char path[TKR_PATH_MAX], id[TKR_AUTHJWT_CERT_ID_MAX], sub[TKR_AUTHJWT_CN_MAX];
    char *token = NULL, *password = NULL;
    const char *ca_pem;
    unsigned usage_bits;
    unsigned char *p12 = NULL;
    size_t n, p12_len = 0, body_len;
    mbedtls_pk_context key;
    mbedtls_x509_crt root, issued;
    tkr_http_response_t r;
    tkr_enroll_answer_t ans;
    int rc, t;

    if ((rc = cli_parse(&a, opts, usage, argc, argv)) != 0)
        return rc < 0 ? 0 : rc;
    if (a.npos != 0)
        return cli_usage_fail(&a, "unexpected argument %s", a.pos[0]);
    usage_name = cli_get(&a, "usage") != NULL ? cli_get(&a, "usage") : "client";
    if (tkr_authjwt_usage(&usage_bits, usage_name) != 0)
        return cli_usage_fail(&a, "-u must be client, server or ioc, not %s", usage_name);
    if ((service = cli_get(&a, "service")) == NULL)
        return cli_usage_fail(&a, "--service URL is required");
    ca_file = cli_get(&a, "ca-cert");
    /* Without a keychain to keep it in, a certificate would be issued for
     * a key that is then lost: stop before the service is asked. */
    if (cli_p12_can_write(&why) != 0)
        return cli_fail("cannot write the keychain: %s", why);

    v = cli_get(&a, "token-file");
    if (v == NULL && (v = getenv("EPICS_AUTH_JWT_FILE")) != NULL && v[0] == '\0')
        v = NULL;
    if (v == NULL)
        return cli_usage_fail(&a, "no token: give --token-file FILE or set EPICS_AUTH_JWT_FILE");
    if (access(v, R_OK) != 0)
        return cli_fail("cannot read the token file %s: %s", v, strerror(errno));
    if ((token = cli_read_token(v, "the token file")) == NULL)
        return CLI_EXIT_FAIL;
    tkr_jwt_init(&ws.jwt);
    if (tkr_jwt_parse(&ws.jwt, token, strlen(token), NULL) != 0 ||
        (t = tkr_jwt_claim(&ws.jwt, "sub")) < 0 ||
        tkr_json_get_str(&ws.jwt.doc, sub, sizeof(sub), &n, t) != 0 || n == 0) {
        rc = cli_fail("%s: not a JWT with a sub claim", v);
        goto done_token;
    }
    if (keychain_path(path, sizeof(path), (usage_bits & TKR_CERT_SERVER) != 0) != 0 ||
        (password = keychain_password((usage_bits & TKR_CERT_SERVER) != 0)) == NULL ||
        make_parent(path) != 0 ||
        cli_out_check(path, CLI_OUT_SECRET | CLI_OUT_FORCE) != 0) {
        rc = CLI_EXIT_FAIL;
        goto done_token;
    }
    if (cli_remote_open_public(&ws.r, service, ca_file, cli_has(&a, "insecure-http")) != 0) {
        rc = CLI_EXIT_FAIL;
        goto done_token;
    }
    ca_pem = ws.r.ca_pem;

    /* The key and its request. */
    mbedtls_pk_init(&key);
    mbedtls_x509_crt_init(&root);
    mbedtls_x509_crt_init(&issued);
    rc = tkr_key_generate(&key, TKR_KEY_EC_P256, port, NULL);
    if (rc == 0)
        rc = tkr_key_write_pem(ws.key_pem, sizeof(ws.key_pem), &n, &key, NULL);
    if (rc == 0) {
        tkr_csr_subject_t subj = {sub, NULL, NULL, NULL};
        rc = tkr_csr_write_pem(ws.csr_pem, sizeof(ws.csr_pem), &n, &key, &subj, port, NULL);
    }
    if (rc != 0) {
        rc = cli_fail("cannot make the key pair and request: %s", tkr_strerror(rc));
        goto done;
    }
    if (request_body(&body_len, token, usage_name) != 0) {
        rc = cli_fail("%s: the token is too large", v);
        goto done;
    }

    /* The exchange. */
    if (cli_remote_exchange(&ws.r, "POST", "/api/v1/authn/jwt", ws.body, ws.resp,
                            sizeof(ws.resp), &r) != 0) {
        rc = CLI_EXIT_FAIL;
        goto done;
    }
    rc = tkr_enroll_parse_answer(&ans, ws.cert_pem, ws.ca_pem_resp, ws.tok,
                                 sizeof(ws.tok) / sizeof(ws.tok[0]), r.status,
                                 r.body, r.body_len);
    if (r.status != 200) {
        rc = cli_fail("the certificate service refused the token (HTTP %d): %s",
                      r.status, ans.message[0] ? ans.message : "no reason given");
        goto done;
    }
    if (rc != 0) {
        rc = cli_fail("the certificate service's answer is not a certificate: %s",
                      tkr_strerror(rc));
        goto done;
    }
    /* It must be ours: chained to the root we trust (or, over plain http,
     * to the CA that came with it) and for our key. */
    v = ca_pem != NULL ? ca_pem : ws.ca_pem_resp;
    if (mbedtls_x509_crt_parse(&root, (const unsigned char *)v, strlen(v) + 1) != 0) {
        rc = cli_fail("the CA certificate does not parse");
        goto done;
    }
    rc = tkr_enroll_check_cert(ws.cert_pem, &root, &key, sub, -1, port);
    if (rc == 0 && mbedtls_x509_crt_parse(&issued, (const unsigned char *)ws.cert_pem,
                                          strlen(ws.cert_pem) + 1) != 0)
        rc = TKR_E_CERT;
    if (rc == 0)
        rc = tkr_authjwt_cert_id(id, sizeof(id), &issued);
    if (rc != 0) {
        rc = cli_fail("the certificate from the service is not usable: %s",
                      tkr_strerror(rc));
        goto done;
    }
    if (cli_p12_make(&p12, &p12_len, ws.key_pem, ws.cert_pem, ws.ca_pem_resp, password,
                     &why) != 0) {
        rc = cli_fail("cannot make the keychain: %s", why);
        goto done;
    }
    if ((rc = cli_out_write(path, p12, p12_len, CLI_OUT_SECRET | CLI_OUT_FORCE)) != 0)
        goto done;
    printf("Keychain file created   : %s\n", path);
    printf("Certificate identifier  : %s\n", id);
    rc = 0;
done:
    if (p12 != NULL) {
        mbedtls_platform_zeroize(p12, p12_len);
        free(p12);
    }
    mbedtls_platform_zeroize(ws.key_pem, sizeof(ws.key_pem));
    mbedtls_pk_free(&key);
    mbedtls_x509_crt_free(&root);
    mbedtls_x509_crt_free(&issued);
done_token:
    if (password != NULL) {
        mbedtls_platform_zeroize(password, strlen(password));
        free(password);
    }
    cli_remote_close(&ws.r);
    tkr_jwt_free(&ws.jwt);
    mbedtls_platform_zeroize(token, strlen(token));
    free(token);
    return rc;
}
