/* cmd_cert.c — `tokenroll cert`: look into a certificate or a PVXS keychain
 * (`cert info`, as PVXS's `pvxcert -f`). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <mbedtls/x509.h>
#include <mbedtls/x509_crt.h>

#include "cli.h"
#include "p12.h"
#include "tokenroll/authjwt.h"
#include "tokenroll/error.h"
#include "tokenroll/json.h"

#define RULE_DOUBLE "============================================"
#define RULE_SINGLE "--------------------------------------------"

/* Largest certificate or keychain file read. */
#define CERT_FILE_MAX (1024 * 1024)

/* Seconds since the epoch of an X.509 time (UTC). */
static int64_t x509_epoch(const mbedtls_x509_time *t)
{
    struct tm tm;

    memset(&tm, 0, sizeof(tm));
    tm.tm_year = t->year - 1900;
    tm.tm_mon = t->mon - 1;
    tm.tm_mday = t->day;
    tm.tm_hour = t->hour;
    tm.tm_min = t->min;
    tm.tm_sec = t->sec;
    return (int64_t)timegm(&tm);
}

/* "Sat Mar 08 15:23:21 2025 UTC", as PVXS prints dates. */
void cli_pvxs_time(char out[40], int64_t t)
{
    struct tm tm;
    time_t tt = (time_t)t;

    if (gmtime_r(&tt, &tm) == NULL ||
        strftime(out, 40, "%a %b %d %H:%M:%S %Y UTC", &tm) == 0)
        snprintf(out, 40, "%lld", (long long)t);
}

/* The certificates of path: PEM, DER or a PKCS#12 keychain (empty
 * password). Prints the error. */
static int load_certs(mbedtls_x509_crt *crt, const char *path)
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
    pem = cli_p12_certs_pem((const unsigned char *)buf, len, &why);
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
    d->not_before = x509_epoch(&crt->valid_from);
    d->not_after = x509_epoch(&crt->valid_to);
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

static int print_json(const details_t *d)
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
    tkr_jsonw_obj_end(&w);
    if (tkr_jsonw_finish(&w, &n) != 0)
        return cli_fail("the certificate's details do not fit the JSON output");
    printf("%s\n", buf);
    return 0;
}

static const char info_usage[] =
    "usage: tokenroll cert info FILE [--json]\n"
    "\n"
    "Print a certificate's details as PVXS's pvxcert -f does. FILE is a\n"
    "certificate (PEM or DER) or a PKCS#12 keychain (empty password), whose\n"
    "first certificate is the one described.\n"
    "\n"
    "  --json   the details as a JSON object\n";

static int cert_info(int argc, char **argv)
{
    static const cli_opt_t spec[] = {
        {"json", 0, OPT_FLAG, NULL},
        {NULL, 0, 0, NULL},
    };
    cli_args_t a;
    mbedtls_x509_crt crt;
    details_t d;
    int rc;

    if ((rc = cli_parse(&a, spec, info_usage, argc, argv)) != 0)
        return rc < 0 ? 0 : rc;
    if (a.npos != 1)
        return cli_usage_fail(&a, a.npos == 0 ? "FILE is required"
                                              : "one FILE only");
    mbedtls_x509_crt_init(&crt);
    rc = load_certs(&crt, a.pos[0]);
    if (rc == 0)
        rc = describe(&d, &crt, a.pos[0]);
    mbedtls_x509_crt_free(&crt);
    if (rc != 0)
        return rc;
    if (cli_has(&a, "json"))
        return print_json(&d);
    print_details(&d);
    return 0;
}

static const char usage[] =
    "usage: tokenroll cert info FILE [--json]\n"
    "\n"
    "  info   a certificate's or a PVXS keychain's details\n";

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
    fprintf(stderr, "Error: unknown cert command '%s'\n%s", argv[0], usage);
    return CLI_EXIT_USAGE;
}
