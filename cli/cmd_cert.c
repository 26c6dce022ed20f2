/* cmd_cert.c — `tokenroll cert`: look into a certificate or a PVXS keychain
 * (`cert info`, as PVXS's `pvxcert -f`). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <mbedtls/platform_util.h>
#include <mbedtls/x509.h>
#include <mbedtls/x509_crt.h>

#include "cli.h"
#include "p12.h"
#include "remote.h"
#include "tokenroll/authjwt.h"
#include "tokenroll/error.h"
#include "tokenroll/json.h"

#define RULE_DOUBLE "============================================"
#define RULE_SINGLE "--------------------------------------------"

/* Largest certificate or keychain file read. */
#define CERT_FILE_MAX (1024 * 1024)

/* "Sat Mar 08 15:23:21 2025 UTC", as PVXS prints dates. */
void cli_pvxs_time(char out[40], int64_t t)
{
    struct tm tm;
    time_t tt = (time_t)t;

    if (gmtime_r(&tt, &tm) == NULL ||
        strftime(out, 40, "%a %b %d %H:%M:%S %Y UTC", &tm) == 0)
        snprintf(out, 40, "%lld", (long long)t);
}

/* The certificates of path: PEM, DER or a PKCS#12 keychain (opened
 * with password, NULL for the empty one). Prints the error. */
static int load_certs(mbedtls_x509_crt *crt, const char *path, const char *password)
{
    size_t len;
    char *buf = cli_read_file(path, CERT_FILE_MAX, &len), *pem;
    const char *why = NULL;
    int rc;

    if (buf == NULL)
        return cli_fail("cannot read %s: %s", path, cli_io_error());
    if (strstr(buf, "-----BEGIN CERTIFICATE-----") != NULL) {
        rc = mbedtls_x509_crt_parse(crt, (const unsigned char *)buf, len + 1);
        free(buf);
        return rc == 0 ? 0 : cli_fail("%s: a PEM certificate does not parse", path);
    }
    if (mbedtls_x509_crt_parse_der(crt, (const unsigned char *)buf, len) == 0) {
        free(buf);
        return 0;
    }
    pem = cli_p12_certs_pem((const unsigned char *)buf, len, password, &why);
    free(buf);
    if (pem == NULL)
        return cli_fail("%s: not a certificate (PEM, DER) or a PKCS#12 keychain "
                        "(%s)", path, why);
    rc = mbedtls_x509_crt_parse(crt, (const unsigned char *)pem, strlen(pem) + 1);
    free(pem);
    return rc == 0 ? 0 : cli_fail("%s: the keychain's certificate does not parse", path);
}

typedef struct {
    char id[TKR_AUTHJWT_CERT_ID_MAX];
    char subject[1024];
    char issuer[1024];
    int64_t not_before, not_after;
} details_t;

static int describe(details_t *d, const mbedtls_x509_crt *crt, const char *path)
{
    int rc = tkr_authjwt_cert_id(d->id, sizeof(d->id), crt);

    if (rc != 0)
        return cli_fail("%s: no usable serial number (%s)", path, tkr_strerror(rc));
    if (mbedtls_x509_dn_gets(d->subject, sizeof(d->subject), &crt->subject) < 0 ||
        mbedtls_x509_dn_gets(d->issuer, sizeof(d->issuer), &crt->issuer) < 0)
        return cli_fail("%s: the certificate's names are too long to print", path);
    d->not_before = cli_x509_epoch(&crt->valid_from);
    d->not_after = cli_x509_epoch(&crt->valid_to);
    return 0;
}

static void print_details(const details_t *d)
{
    char from[40], to[40];

    cli_pvxs_time(from, d->not_before);
    cli_pvxs_time(to, d->not_after);
    printf("Certificate Details:\n" RULE_DOUBLE "\n"
           "Certificate ID : %s\n"
           "Entity Subject : %s\n"
           "Issuer Subject : %s\n"
           "Valid From     : %s\n"
           "Expires On     : %s\n" RULE_SINGLE "\n",
           d->id, d->subject, d->issuer, from, to);
}

/* The service's answer about a certificate (GET /api/v1/cert/<id>). */
typedef struct {
    int have;
    char status[16];
    int64_t issued, expires;
    int64_t revoked_at;          /* 0 unless REVOKED */
} status_t;

static int fetch_status(status_t *st, const cli_args_t *a, const char *id)
{
    cli_remote_t r;
    tkr_http_response_t resp;
    tkr_json_tok_t tok[64];
    tkr_json_t doc;
    char path[128], msg[512];
    uint8_t *buf = malloc(8192);
    int rc, t;

    memset(st, 0, sizeof(*st));
    if (buf == NULL)
        return cli_fail("out of memory");
    rc = cli_remote_open_public(&r, cli_get(a, "service"), cli_get(a, "ca-cert"),
                                cli_has(a, "insecure-http"));
    snprintf(path, sizeof(path), "/api/v1/cert/%s", id);
    if (rc == 0)
        rc = cli_remote_exchange(&r, "GET", path, NULL, buf, 8192, &resp);
    if (rc == 0 && resp.status != 200) {
        cli_remote_error_text(&resp, msg, sizeof(msg));
        rc = cli_fail("the certificate service has no status for %s (HTTP %d)%s%s", id,
                      resp.status, msg[0] ? ": " : "", msg);
    }
    if (rc == 0 &&
        (tkr_json_parse(&doc, tok, 64, (const char *)resp.body, resp.body_len, NULL) != 0 ||
         (t = tkr_json_find(&doc, 0, "status")) < 0 ||
         tkr_json_get_str(&doc, st->status, sizeof(st->status), NULL, t) != 0 ||
         (t = tkr_json_find(&doc, 0, "status_issued")) < 0 ||
         tkr_json_get_i64(&doc, &st->issued, t) != 0 ||
         (t = tkr_json_find(&doc, 0, "status_expires")) < 0 ||
         tkr_json_get_i64(&doc, &st->expires, t) != 0))
        rc = cli_fail("the certificate service's status answer is not the documented object");
    if (rc == 0 && (t = tkr_json_find(&doc, 0, "revoked_at")) >= 0 &&
        tkr_json_get_i64(&doc, &st->revoked_at, t) != 0)
        st->revoked_at = 0;
    st->have = rc == 0;
    cli_remote_close(&r);
    free(buf);
    return rc;
}

static void print_status(const details_t *d, const status_t *st)
{
    char issued[40], expires[40], revoked[40];

    cli_pvxs_time(issued, st->issued);
    cli_pvxs_time(expires, st->expires);
    printf("\nCertificate Status:\n" RULE_DOUBLE "\n"
           "Certificate ID: %s\n"
           "Status        : %s\n",
           d->id, st->status);
    if (st->revoked_at != 0) {
        cli_pvxs_time(revoked, st->revoked_at);
        printf("Revoked On    : %s\n", revoked);
    }
    printf("Status Issued : %s\n"
           "Status Expires: %s\n" RULE_SINGLE "\n",
           issued, expires);
}

static int print_json(const details_t *d, const status_t *st)
{
    char buf[8192], iso[32];
    tkr_jsonw_t w;
    size_t n;

    tkr_jsonw_init(&w, buf, sizeof(buf), TKR_JSONW_PRETTY);
    tkr_jsonw_obj_begin(&w);
    tkr_jsonw_key(&w, "certificate");
    tkr_jsonw_obj_begin(&w);
    tkr_jsonw_key(&w, "id");
    tkr_jsonw_str(&w, d->id);
    tkr_jsonw_key(&w, "subject");
    tkr_jsonw_str(&w, d->subject);
    tkr_jsonw_key(&w, "issuer");
    tkr_jsonw_str(&w, d->issuer);
    tkr_jsonw_key(&w, "not_before");
    cli_iso_time(iso, d->not_before);
    tkr_jsonw_str(&w, iso);
    tkr_jsonw_key(&w, "not_after");
    cli_iso_time(iso, d->not_after);
    tkr_jsonw_str(&w, iso);
    tkr_jsonw_obj_end(&w);
    if (st->have) {
        tkr_jsonw_key(&w, "status");
        tkr_jsonw_obj_begin(&w);
        tkr_jsonw_key(&w, "status");
        tkr_jsonw_str(&w, st->status);
        tkr_jsonw_key(&w, "status_issued");
        cli_iso_time(iso, st->issued);
        tkr_jsonw_str(&w, iso);
        tkr_jsonw_key(&w, "status_expires");
        cli_iso_time(iso, st->expires);
        tkr_jsonw_str(&w, iso);
        if (st->revoked_at != 0) {
            tkr_jsonw_key(&w, "revoked_at");
            cli_iso_time(iso, st->revoked_at);
            tkr_jsonw_str(&w, iso);
        }
        tkr_jsonw_obj_end(&w);
    }
    tkr_jsonw_obj_end(&w);
    if (tkr_jsonw_finish(&w, &n) != 0)
        return cli_fail("the certificate's details do not fit the JSON output");
    printf("%s\n", buf);
    return 0;
}

static const char info_usage[] =
    "usage: tokenroll cert info FILE [--password-file F] [--service URL [--ca-cert FILE]]\n"
    "         [--json]\n"
    "\n"
    "Print a certificate's details as PVXS's pvxcert -f does. FILE is a\n"
    "certificate (PEM or DER) or a PKCS#12 keychain, whose first certificate\n"
    "is the one described.\n"
    "\n"
    "  --password-file F a locked keychain's password: the first line of F\n"
    "                    (as EPICS_PVA_TLS_KEYCHAIN_PWD_FILE); else empty\n"
    "  --service URL     also ask the certificate service for its status\n"
    "                    (GET /api/v1/cert/<id>)\n"
    "  --ca-cert FILE    the root CA the service's TLS certificate chains to\n"
    "  --insecure-http   allow an http:// service URL (loopback tests)\n"
    "  --json            the details (and status) as a JSON object\n";

static int cert_info(int argc, char **argv)
{
    static const cli_opt_t spec[] = {
        {"json", 0, OPT_FLAG, NULL},
        {"service", 0, OPT_VALUE, NULL},
        {"ca-cert", 0, OPT_VALUE, NULL},
        {"insecure-http", 0, OPT_FLAG, NULL},
        {"password-file", 0, OPT_VALUE, NULL},
        {NULL, 0, 0, NULL},
    };
    cli_args_t a;
    mbedtls_x509_crt crt;
    const char *pwf;
    char *pw = NULL;
    details_t d;
    status_t st;
    int rc;

    if ((rc = cli_parse(&a, spec, info_usage, argc, argv)) != 0)
        return rc < 0 ? 0 : rc;
    if (a.npos != 1)
        return cli_usage_fail(&a, a.npos == 0 ? "FILE is required"
                                              : "one FILE only");
    if ((pwf = cli_get(&a, "password-file")) != NULL && (pw = cli_read_password_file(pwf)) == NULL)
        return cli_fail("cannot read the password file %s: %s", cli_show(pwf), cli_io_error());
    mbedtls_x509_crt_init(&crt);
    rc = load_certs(&crt, a.pos[0], pw);
    if (pw != NULL) {
        mbedtls_platform_zeroize(pw, strlen(pw));
        free(pw);
    }
    if (rc == 0)
        rc = describe(&d, &crt, a.pos[0]);
    mbedtls_x509_crt_free(&crt);
    if (rc != 0)
        return rc;
    memset(&st, 0, sizeof(st));
    if (cli_get(&a, "service") != NULL && (rc = fetch_status(&st, &a, d.id)) != 0 &&
        cli_has(&a, "json"))
        return rc;
    if (cli_has(&a, "json"))
        return print_json(&d, &st);
    print_details(&d);
    if (st.have)
        print_status(&d, &st);
    return rc;
}

static const char revoke_usage[] =
    "usage: tokenroll cert revoke ID [--reason R] [--json]\n"
    "         [--cert-service URL] [--api-key KEY] [--ca-cert FILE] [-c CA_PATH]\n"
    "\n"
    "Revoke a certificate the certificate service issued (enrolled or from\n"
    "the JWT authenticator). ID is its certificate id, <issuer-id>:<serial>,\n"
    "as `cert info` and `authnjwt` print it. Revoking it again changes nothing\n"
    "and succeeds. Afterwards the service's status route answers REVOKED.\n"
    "\n"
    "  --cert-service URL  the service (else NVFLARE_CERT_SERVICE_URL)\n"
    "  --api-key KEY       its admin API key (else NVFLARE_API_KEY)\n"
    "  --ca-cert FILE      root CA for TLS (default: the workspace's from -c or\n"
    "                      NVFLARE_CA_PATH, else startup/rootCA.pem)\n"
    "  --reason R          why, kept with the revocation (one line)\n"
    "  --json              print the service's answer as JSON\n";

/* Control characters from the service never reach the terminal. */
static void printable(char *s)
{
    for (; *s != '\0'; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            *s = '?';
}

/* Answers are one status object: a few KiB. */
#define REVOKE_ANSWER_MAX 16384

static int cert_revoke(int argc, char **argv)
{
    static const cli_opt_t spec[] = {
        {"cert-service", 0, OPT_VALUE, "cert_service"},
        {"api-key", 0, OPT_VALUE, "api_key"},
        {"ca-cert", 0, OPT_VALUE, "ca_cert"},
        {"ca_path", 'c', OPT_VALUE, "ca-path"},
        {"reason", 0, OPT_VALUE, NULL},
        {"json", 0, OPT_FLAG, NULL},
        {NULL, 0, 0, NULL},
    };
    char issuer[9], serial[TKR_AUTHJWT_SERIAL_HEX_MAX], path[160], body[1024];
    char name[256], when[32], why[256];
    const char *reason;
    tkr_http_response_t resp;
    cli_remote_t r;
    cli_args_t a;
    tkr_jsonw_t w;
    tkr_json_tok_t tok[64];
    tkr_json_t doc;
    uint8_t *buf;
    int64_t at = 0;
    size_t n;
    int rc, t;

    if ((rc = cli_parse(&a, spec, revoke_usage, argc, argv)) != 0)
        return rc < 0 ? 0 : rc;
    if (a.npos != 1)
        return cli_usage_fail(&a, a.npos == 0 ? "ID is required" : "one ID only");
    if (tkr_authjwt_cert_id_parse(issuer, serial, a.pos[0]) != 0)
        return cli_fail("certificate id \"%s\" is not <8 hex digits>:<decimal serial>",
                        cli_show(a.pos[0]));
    reason = cli_get(&a, "reason");
    if (reason != NULL && (strlen(reason) >= sizeof(why) || strpbrk(reason, "\r\n") != NULL))
        return cli_fail("--reason must be one line of at most %zu bytes", sizeof(why) - 1);
    tkr_jsonw_init(&w, body, sizeof(body) - 1, 0);
    tkr_jsonw_obj_begin(&w);
    if (reason != NULL) {
        tkr_jsonw_key(&w, "reason");
        tkr_jsonw_str(&w, reason);
    }
    tkr_jsonw_obj_end(&w);
    if (tkr_jsonw_finish(&w, &n) != 0)
        return cli_fail("--reason is not UTF-8");
    snprintf(path, sizeof(path), "/api/v1/cert/%s/revoke", a.pos[0]);
    if ((buf = malloc(REVOKE_ANSWER_MAX)) == NULL)
        return cli_fail("out of memory");
    rc = cli_remote_open(&r, cli_get(&a, "cert-service"), cli_get(&a, "api-key"),
                         cli_get(&a, "ca-cert"), cli_get(&a, "ca_path"));
    if (rc == 0)
        rc = cli_remote_call(&r, "POST", path, body, buf, REVOKE_ANSWER_MAX, &resp);
    if (rc == 0 && cli_has(&a, "json"))
        rc = cli_remote_print_json(&resp);
    else if (rc == 0) {
        if (tkr_json_parse(&doc, tok, 64, (const char *)resp.body, resp.body_len, NULL) != 0 ||
            (t = tkr_json_find(&doc, 0, "name")) < 0 ||
            tkr_json_get_str(&doc, name, sizeof(name), NULL, t) != 0 ||
            (t = tkr_json_find(&doc, 0, "revoked_at")) < 0 ||
            tkr_json_get_i64(&doc, &at, t) != 0) {
            rc = cli_fail("the certificate service's answer is not the documented object");
        } else {
            why[0] = '\0';
            if ((t = tkr_json_find(&doc, 0, "revocation_reason")) >= 0 &&
                tkr_json_type(&doc, t) == TKR_JSON_STRING &&
                tkr_json_get_str(&doc, why, sizeof(why), NULL, t) != 0)
                why[0] = '\0';
            printable(name);
            printable(why);
            cli_iso_time(when, at);
            printf("Certificate %s (%s) revoked at %s%s%s\n", a.pos[0], name, when,
                   why[0] ? ": " : "", why);
        }
    }
    cli_remote_close(&r);
    free(buf);
    return rc;
}

static const char usage[] =
    "usage: tokenroll cert info FILE [--service URL] [--json]\n"
    "       tokenroll cert revoke ID [--reason R] [--json]\n"
    "       tokenroll cert api-key\n"
    "\n"
    "  info      a certificate's or a PVXS keychain's details (and status)\n"
    "  revoke    revoke a certificate the service issued (admin API key)\n"
    "  api-key   a new random API key for the service's admin routes\n";

int cmd_cert(int argc, char **argv)
{
    if (argc < 1) {
        fputs(usage, stderr);
        return CLI_EXIT_USAGE;
    }
    if (strcmp(argv[0], "-h") == 0 || strcmp(argv[0], "--help") == 0) {
        fputs(usage, stdout);
        return 0;
    }
    if (strcmp(argv[0], "info") == 0)
        return cert_info(argc - 1, argv + 1);
    if (strcmp(argv[0], "revoke") == 0)
        return cert_revoke(argc - 1, argv + 1);
    if (strcmp(argv[0], "api-key") == 0)
        return cmd_cert_api_key(argc - 1, argv + 1);
    fprintf(stderr, "Error: unknown cert command '%s'\n%s", argv[0], usage);
    return CLI_EXIT_USAGE;
}
