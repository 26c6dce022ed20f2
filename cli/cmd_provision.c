/* cmd_provision.c — `tokenroll provision -p project.yml [-w WORKSPACE]`:
 * the root CA in <workspace>/<name>/state/cert.json and startup kits for
 * the server and admin users under prod_NN/, as FLARE's provisioning lays
 * them out. A second run reuses the root CA and makes the next prod_NN. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <mbedtls/platform_util.h>

#include "cli.h"
#include "cli_ca.h"
#include "tokenroll/certjson.h"
#include "tokenroll/certwrite.h"
#include "tokenroll/csr.h"
#include "tokenroll/error.h"
#include "tokenroll/json.h"
#include "tokenroll/project.h"

#define PEM_MAX 8192
#define DAY 86400

typedef struct {
    const tkr_project_t *proj;
    tkr_key_type_t key_type;
    int64_t now, ca_days, cert_days;
    cli_ca_key_t key;        /* the root CA: certificate and key */
    tkr_signer_t signer;
    char root_pem[PEM_MAX];
    char dir[4096];          /* <workspace>/<name> */
} prov_t;

static int write_in(const char *dir, const char *name, const char *data,
                    size_t len, int secret)
{
    char path[4096];

    if (cli_join(path, sizeof(path), dir, name) != 0)
        return cli_fail("cannot write %s/%s: %s", cli_show(dir), name, strerror(ENAMETOOLONG));
    return cli_out_write(path, data, len, secret ? CLI_OUT_SECRET : 0);
}

/* cert.json as FLARE writes it: {"root_cert": PEM, "root_pri_key": PEM};
 * without root_pri_key when the key is kept outside the workspace. */
static int write_cert_json(prov_t *pv, const char *cert, const char *key)
{
    static char buf[3 * PEM_MAX];
    char state[4096];
    tkr_jsonw_t w;
    size_t len;
    int rc;

    tkr_jsonw_init(&w, buf, sizeof(buf), 0);
    tkr_jsonw_obj_begin(&w);
    tkr_jsonw_key(&w, "root_cert");
    tkr_jsonw_str(&w, cert);
    if (key != NULL) {
        tkr_jsonw_key(&w, "root_pri_key");
        tkr_jsonw_str(&w, key);
    }
    tkr_jsonw_obj_end(&w);
    if (tkr_jsonw_finish(&w, &len) != 0)
        return cli_fail("cert.json does not fit in memory");
    if (cli_mkdirs(pv->dir, 0755) != 0 ||
        cli_join(state, sizeof(state), pv->dir, "state") != 0 || cli_mkdirs(state, 0700) != 0)
        return cli_fail("cannot create %s/state: %s", cli_show(pv->dir), strerror(errno));
    rc = write_in(state, "cert.json", buf, len, 1);
    mbedtls_platform_zeroize(buf, sizeof(buf));
    return rc;
}

/* A key given with --ca-key (or TOKENROLL_CA_KEY) stays where it is: the
 * root is self-signed with it and cert.json gets root_cert only. Else a
 * new key is made and kept in cert.json, as FLARE does. */
static int new_root(prov_t *pv, const cli_args_t *a, int external)
{
    static char key_pem[PEM_MAX];
    mbedtls_pk_context key;
    cli_ca_key_t given;
    tkr_signer_t signer;
    tkr_cert_spec_t spec;
    size_t len = 0;
    char why[400];
    tkr_diag_t d;
    int rc;

    mbedtls_pk_init(&key);
    tkr_diag_clear(&d);
    cli_ca_key_init(&given);
    tkr_signer_init(&signer);
    memset(&spec, 0, sizeof(spec));
    spec.signer = &signer; /* subject_key NULL: the signer's own key */
    spec.cn = pv->proj->name;
    spec.not_before = pv->now;
    spec.not_after = pv->now + pv->ca_days * DAY;
    spec.usage = TKR_CERT_CA;
    if (external) {
        rc = cli_ca_key_open(&given, a, NULL);
        if (rc == 0)
            rc = cli_ca_key_signer(&given, &signer);
    } else if ((rc = tkr_key_generate(&key, pv->key_type, cli_port(), &d)) != 0 ||
               (rc = tkr_key_write_pem(key_pem, sizeof(key_pem), &len, &key, &d)) != 0 ||
               (rc = tkr_signer_load_mbedtls(&signer, (const uint8_t *)key_pem, len + 1,
                                             cli_port())) != 0) {
        rc = cli_fail("cannot create the root CA key: %s",
                      cli_diag_text(why, sizeof(why), rc, &d));
    }
    if (rc == 0 && (rc = tkr_cert_write_pem(pv->root_pem, sizeof(pv->root_pem), &len, &spec,
                                            cli_port(), &d)) != 0)
        rc = cli_fail("cannot create the root CA certificate: %s",
                      cli_diag_text(why, sizeof(why), rc, &d));
    if (rc == 0)
        rc = write_cert_json(pv, pv->root_pem, external ? NULL : key_pem);
    mbedtls_platform_zeroize(key_pem, sizeof(key_pem));
    mbedtls_pk_free(&key);
    tkr_signer_free(&signer);
    cli_ca_key_free(&given);
    return rc;
}

/* The existing root CA, or a new one; its certificate and signer loaded
 * either way. */
static int root_ca(prov_t *pv, const cli_args_t *a)
{
    const char *env = getenv("TOKENROLL_CA_KEY");
    int external = cli_get(a, "ca-key") != NULL || (env != NULL && env[0] != '\0');
    char path[4096];
    struct stat st;
    int rc, fresh = 0;

    if (cli_join(path, sizeof(path), pv->dir, "state/cert.json") != 0)
        return cli_fail("cannot read %s/state/cert.json: %s", cli_show(pv->dir),
                        strerror(ENAMETOOLONG));
    if (stat(path, &st) != 0) {
        if ((rc = new_root(pv, a, external)) != 0)
            return rc;
        fresh = 1;
    }
    if ((rc = cli_ca_key_open(&pv->key, a, pv->dir)) != 0 ||
        (rc = cli_ca_key_signer(&pv->key, &pv->signer)) != 0)
        return rc;
    cli_ca_key_forget(&pv->key); /* from here on only the signer holds it */
    if (cli_cert_pem(pv->root_pem, sizeof(pv->root_pem), &pv->key.ca.cert) != 0)
        return cli_fail("cannot encode the root certificate");
    printf("%s root CA \"%s\" in %s (signing with %s)\n", fresh ? "Created" : "Reusing",
           pv->key.ca.cn, path, tkr_signer_backend(&pv->signer));
    return 0;
}

/* Key + certificate for one participant into dir/startup. */
static int participant_kit(prov_t *pv, const tkr_participant_t *p, const char *dir)
{
    static char cert_pem[PEM_MAX], key_pem[PEM_MAX];
    int server = strcmp(p->type, "server") == 0;
    tkr_subject_type_t type;
    mbedtls_pk_context key;
    tkr_cert_spec_t spec;
    char startup[4096], why[400];
    size_t cl = 0, kl = 0;
    tkr_diag_t d;
    int rc;

    if (cli_join(startup, sizeof(startup), dir, "startup") != 0)
        return cli_fail("cannot create %s/startup: %s", cli_show(dir), strerror(ENAMETOOLONG));
    if (cli_mkdirs(startup, 0755) != 0)
        return cli_fail("cannot create %s: %s", cli_show(startup), strerror(errno));
    mbedtls_pk_init(&key);
    memset(&spec, 0, sizeof(spec));
    spec.subject_key = &key;
    spec.signer = &pv->signer;
    spec.issuer = &pv->key.ca.cert;
    spec.cn = p->name;
    spec.org = p->org;
    spec.san = p->name;
    spec.not_before = pv->now;
    spec.not_after = pv->now + pv->cert_days * DAY;
    /* An overseer (no participant type of ours) gets a client certificate. */
    if (tkr_participant_type_parse(p->type, &type) != 0)
        type = TKR_SUBJECT_CLIENT;
    tkr_cert_profile(&spec, type, p->role);
    tkr_diag_clear(&d);
    if ((rc = tkr_key_generate(&key, pv->key_type, cli_port(), &d)) != 0 ||
        (rc = tkr_cert_write_pem(cert_pem, sizeof(cert_pem), &cl, &spec, cli_port(),
                                 &d)) != 0 ||
        (rc = tkr_key_write_pem(key_pem, sizeof(key_pem), &kl, &key, &d)) != 0) {
        rc = cli_fail("cannot create the certificate for %s: %s", p->name,
                      cli_diag_text(why, sizeof(why), rc, &d));
    } else {
        const char *base = server ? "server" : "client";
        char name[32];
        rc = write_in(startup, "rootCA.pem", pv->root_pem, strlen(pv->root_pem), 0);
        snprintf(name, sizeof(name), "%s.crt", base);
        if (rc == 0)
            rc = write_in(startup, name, cert_pem, cl, 0);
        snprintf(name, sizeof(name), "%s.key", base);
        if (rc == 0)
            rc = write_in(startup, name, key_pem, kl, 1);
    }
    mbedtls_platform_zeroize(key_pem, sizeof(key_pem));
    mbedtls_pk_free(&key);
    return rc;
}

/* Kits are built in a temporary folder and renamed into place, so a failed
 * run never leaves a half-made prod_NN behind. */
static int build_prod(prov_t *pv)
{
    char prod[4096], tmp[4096], kit[4096], name[24];
    size_t i;
    int n, rc = 0;

    for (n = 0; n < 100; n++) {
        struct stat st;
        snprintf(name, sizeof(name), "prod_%02d", n);
        if (cli_join(prod, sizeof(prod), pv->dir, name) != 0)
            return cli_fail("cannot create %s/%s: %s", cli_show(pv->dir), name,
                            strerror(ENAMETOOLONG));
        if (lstat(prod, &st) != 0)
            break;
    }
    if (n == 100)
        return cli_fail("%s already holds prod_00 .. prod_99", cli_show(pv->dir));
    if ((rc = cli_make_tmpdir(tmp, sizeof(tmp), pv->dir, name)) != 0)
        return rc;
    for (i = 0; rc == 0 && i < pv->proj->n_participants; i++) {
        const tkr_participant_t *p = &pv->proj->participants[i];
        if (cli_join(kit, sizeof(kit), tmp, p->name) != 0)
            rc = cli_fail("cannot create the kit of %s in %s: %s", cli_show(p->name),
                          cli_show(tmp), strerror(ENAMETOOLONG));
        else
            rc = participant_kit(pv, p, kit);
    }
    if ((rc = cli_commit_tmpdir(tmp, prod, rc)) != 0)
        return rc;
    for (i = 0; i < pv->proj->n_participants; i++)
        printf("  %s/%s/startup  (%s)\n", prod, pv->proj->participants[i].name,
               pv->proj->participants[i].type);
    return 0;
}

static const char provision_usage[] =
    "usage: tokenroll provision -p PROJECT_FILE [-w WORKSPACE] [--key-type rsa|ec]\n"
    "                           [--ca-days N] [--cert-days N]\n"
    "                           [--ca-key FILE|URI] [--signer openssl|mbedtls]\n"
    "\n"
    "Create the project's root CA (state/cert.json) and a startup kit with key\n"
    "and certificate for every participant: server, clients, relays and admin\n"
    "users (prod_NN/<name>/startup). Running it again reuses the root CA and\n"
    "writes the next prod_NN. Tokens then take -c WORKSPACE/<project name>.\n"
    "  -p, --project_file  project.yml (api_version, name, participants, ...)\n"
    "  -w, --workspace     output folder (default: workspace)\n"
    "  --key-type          rsa (RSA-2048, default, as FLARE) or ec (P-256)\n"
    "  --ca-days           root CA validity in days (default 3650)\n"
    "  --cert-days         participant certificate validity in days (default 365)\n"
    CLI_CA_KEY_USAGE
    "A new root made with --ca-key (a key file, or a key in an HSM) is self-signed\n"
    "with that key, which stays where it is: state/cert.json gets root_cert only,\n"
    "and later commands on the workspace need --ca-key (or TOKENROLL_CA_KEY).\n"
    "Interrupted (SIGINT/SIGTERM), it removes the unfinished prod_NN; a folder\n"
    "left by a run that was killed is refused until it is removed.\n";

static int provision_run(prov_t *pv, const cli_args_t *a, tkr_project_t *proj)
{
    const char *file = cli_get(a, "project_file"), *ws = cli_get(a, "workspace");
    const char *kt = cli_get(a, "key-type"), *s;
    tkr_diag_t err;
    size_t len;
    char *text;
    int rc;

    if (file == NULL)
        return cli_usage_fail(a, "the following arguments are required: -p/--project_file");
    if (kt != NULL && (cli_get(a, "ca-key") != NULL ||
                       (getenv("TOKENROLL_CA_KEY") != NULL && getenv("TOKENROLL_CA_KEY")[0] != '\0')))
        return cli_usage_fail(a, "--key-type makes a new key: with --ca-key the key's own type is used");
    pv->key_type = TKR_KEY_RSA_2048;
    if (kt != NULL && strcmp(kt, "ec") == 0)
        pv->key_type = TKR_KEY_EC_P256;
    else if (kt != NULL && strcmp(kt, "rsa") != 0)
        return cli_usage_fail(a, "--key-type must be rsa or ec, not %s", kt);
    pv->ca_days = 3650;
    pv->cert_days = 365;
    if ((s = cli_get(a, "ca-days")) != NULL && cli_parse_i64(s, 1, 36500, &pv->ca_days) != 0)
        return cli_usage_fail(a, "--ca-days must be 1..36500, not %s", s);
    if ((s = cli_get(a, "cert-days")) != NULL && cli_parse_i64(s, 1, 36500, &pv->cert_days) != 0)
        return cli_usage_fail(a, "--cert-days must be 1..36500, not %s", s);
    if ((text = cli_read_file(file, 1u << 20, &len)) == NULL)
        return cli_fail("cannot read %s: %s", file, cli_io_error());
    memset(&err, 0, sizeof(err));
    rc = tkr_project_load(proj, text, len, file, &err);
    free(text);
    if (rc != 0)
        return cli_fail("%s:%d:%d: %s", err.file != NULL ? err.file : file, err.line, err.column,
                        err.msg[0] ? err.msg : tkr_strerror(rc));
    pv->proj = proj;
    pv->now = tkr_port_time(cli_port()) - 60; /* a minute of clock skew */
    if (cli_join(pv->dir, sizeof(pv->dir), ws ? ws : "workspace", proj->name) != 0)
        return cli_fail("cannot create %s/%s: %s", cli_show(ws ? ws : "workspace"),
                        cli_show(proj->name), strerror(ENAMETOOLONG));
    /* pv->dir is made with state/ when a new root is written, so a CA key
     * that fails (a wrong PIN) leaves nothing behind. A dead run's kits
     * hold private keys: have them removed, not reused. */
    if ((rc = cli_check_leftovers(pv->dir, ".prod_")) != 0)
        return rc;
    cli_catch_signals();
    if ((rc = root_ca(pv, a)) != 0 || (rc = build_prod(pv)) != 0)
        return rc;
    if (proj->n_builders > 0)
        printf("Note: %zu builder(s) in %s ignored: tokenroll writes the CA and the startup "
               "kits' keys and certificates only.\n", proj->n_builders, file);
    printf("Tokens: tokenroll token generate -s SITE -c %s\n", pv->dir);
    return 0;
}

int cmd_provision(int argc, char **argv)
{
    static const cli_opt_t opts[] = {
        {"project_file", 'p', OPT_VALUE, "project-file"},
        {"workspace", 'w', OPT_VALUE, NULL},
        {"key-type", 0, OPT_VALUE, "key_type"},
        {"ca-days", 0, OPT_VALUE, NULL},
        {"cert-days", 0, OPT_VALUE, NULL},
        CLI_CA_KEY_OPTS,
        {NULL, 0, 0, NULL}};
    static prov_t pv;
    cli_args_t a;
    tkr_project_t proj;
    int rc = cli_parse(&a, opts, provision_usage, argc, argv);

    if (rc != 0)
        return rc < 0 ? 0 : rc;
    if (a.npos != 0)
        return cli_usage_fail(&a, "unexpected argument %s", a.pos[0]);
    tkr_project_init(&proj);
    cli_ca_key_init(&pv.key);
    tkr_signer_init(&pv.signer);
    rc = provision_run(&pv, &a, &proj);
    tkr_signer_free(&pv.signer);
    cli_ca_key_free(&pv.key);
    tkr_project_free(&proj);
    return rc;
}
