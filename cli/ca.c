/* ca.c — the project's root CA for every command that signs or ships it,
 * with one set of messages for what can be wrong with it. */
#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <mbedtls/platform_util.h>
#include <mbedtls/x509_crt.h>

#include "cli.h"
#include "tokenroll/error.h"

const char cli_ca_hint[] =
    "Set NVFLARE_CA_PATH or pass -c to point to the provisioned workspace,\n"
    "e.g. export NVFLARE_CA_PATH=/path/to/workspace/my_project";

/* -c given the workspace instead of <workspace>/<project>: the first
 * sub-folder holding state/cert.json, to name in the message. */
static int find_project(char *out, size_t size, const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    struct stat st;
    char path[4096];
    int rc = -1;

    if (d == NULL)
        return -1;
    while (rc != 0 && (e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.' || cli_join(out, size, dir, e->d_name) != 0 ||
            cli_join(path, sizeof(path), out, "state/cert.json") != 0)
            continue;
        if (stat(path, &st) == 0 && S_ISREG(st.st_mode))
            rc = 0;
    }
    closedir(d);
    return rc;
}

int cli_load_ca_key(tkr_ca_t *ca, const char *dir, char *key, size_t key_size)
{
    size_t size = 2 * TKR_CERTJSON_MAX;
    char *buf = malloc(size);
    tkr_diag_t d;
    int rc;

    tkr_ca_init(ca);
    if (buf == NULL)
        return cli_fail("out of memory");
    /* The key's text is handed over, never parsed here: a signer does
     * that, in the backend that will use it. */
    ca->key_text = key;
    ca->key_text_size = key_size;
    tkr_diag_clear(&d);
    rc = tkr_certjson_load(ca, buf, size, dir, cli_port(), &d);
    ca->key_text = NULL;
    free(buf);
    if (rc == TKR_E_NOT_FOUND && strcmp(d.name, "state/cert.json") == 0) {
        char project[4096];
        if (find_project(project, sizeof(project), dir) == 0)
            return cli_fail("Root CA not found in %s: it is a workspace; -c wants the "
                            "project folder inside it, <workspace>/<project name>: -c %s",
                            dir, project);
        return cli_fail("Root CA not found in %s: no state/cert.json (written by "
                        "provisioning), cert.json or rootCA.pem + rootCA.key.\n%s",
                        dir, cli_ca_hint);
    }
    if (rc != 0)
        return cli_fail("%s: %s", ca->source, d.msg[0] ? d.msg : tkr_strerror(rc));
    cli_protect_ca_files(dir);
    return 0;
}

int cli_load_ca(tkr_ca_t *ca, const char *dir)
{
    char *key = malloc(TKR_CERTJSON_MAX);
    int rc;

    if (key == NULL) {
        tkr_ca_init(ca);
        return cli_fail("out of memory");
    }
    rc = cli_load_ca_key(ca, dir, key, TKR_CERTJSON_MAX);
    mbedtls_platform_zeroize(key, TKR_CERTJSON_MAX);
    free(key);
    return rc;
}

/* Seconds since the epoch of an X.509 time (UTC). */
int64_t cli_x509_epoch(const struct mbedtls_x509_time *t)
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

int cli_check_validity(const tkr_ca_t *ca, int64_t start, int64_t validity,
                       const char *what)
{
    int64_t ca_end = cli_x509_epoch(&ca->cert.valid_to);
    char iso[32];

    if (validity <= 0 || validity > CLI_MAX_VALIDITY)
        return cli_fail("%s must be at most 10 years (3653d), not %lld seconds", what,
                        (long long)validity);
    if (start + validity > ca_end) {
        cli_iso_time(iso, ca_end);
        return cli_fail("%s would outlast the root CA, which expires at %s; choose a shorter "
                        "validity", what, iso);
    }
    return 0;
}
