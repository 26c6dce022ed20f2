/* cmd_serve.c — `tokenroll serve`: the certificate service.
 *
 * Settings come from flags, then the environment, then a configuration file
 * in the format of FLARE's own service (cert_service_config.yaml), read
 * unchanged; flags win. The handlers are the library's (tokenroll/
 * service.h); this file gathers the settings, opens the store, loads the CA
 * and runs the HTTPS server until SIGINT or SIGTERM. */
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <mbedtls/platform_util.h>

#include "cli.h"
#include "cli_ca.h"
#include "http.h"
#include "notify.h"
#include "serve.h"
#include "serve_jwt.h"
#include "store.h"
#include "tokenroll/certjson.h"
#include "tokenroll/certwrite.h"
#include "tokenroll/csr.h"
#include "tokenroll/envref.h"
#include "tokenroll/error.h"
#include "tokenroll/key.h"
#include "tokenroll/policy.h"
#include "tokenroll/service.h"
#include "tokenroll/yaml.h"

#define DAY 86400
#define PEM_MAX 16384
#define TEXT 1024

typedef struct {
    char config[TEXT];
    char api_key[TEXT];
    char data_dir[TEXT];
    char project_name[256];
    char host[256];
    long port;
    char tls_cert[TEXT], tls_key[TEXT];
    char ca_path[TEXT];                  /* a provisioned workspace */
    char ca_cert[TEXT], ca_key[TEXT];    /* or a certificate and key */
    long ca_days;
    char policy[TEXT];
    char db[TEXT];
    long pending_timeout, cleanup_interval;
    int audit_enabled;
    char audit_log[TEXT];
    long cert_days;
    long threads;
    long timeout;                        /* idle connection timeout, s */
    int insecure_http;
} settings_t;

/* A connection that sends nothing for this long is dropped (a stalled or
 * slow client holds no worker: libmicrohttpd polls its sockets). */
#define TIMEOUT_DEFAULT 30

typedef struct {
    tkr_service_t svc;
    tkr_store_t store;
    cli_ca_key_t key;                    /* where the CA key is; its text is
                                            wiped once the signers hold it */
    tkr_ca_t ca;                         /* ca.cert/ca.key of a configuration */
    tkr_policy_t policy;
    cli_verifier_t verifier;             /* tokens' and requests' signatures */
    char ca_pem[PEM_MAX];
    /* One signer per worker (a signer serves one thread at a time):
     * borrowed for a request, given back after it. */
    tkr_signer_t *signers;
    int *idle;
    int nsigners, nidle;
    pthread_mutex_t signer_mu;
    pthread_cond_t signer_cv;
    FILE *audit;
    pthread_mutex_t audit_mu;
} serve_t;

/* ---- the configuration file ---- */

static const char *env_get(void *ctx, const char *name)
{
    (void)ctx;
    return getenv(name);
}

/* ${NAME} references, expanded where a value is used; an unset variable is
 * an error, never an empty string (an empty API key would disable the admin
 * routes, an empty path would point somewhere unexpected). */
static const tkr_envref_env_t process_env = {env_get, NULL};

static int cfg_where(const char *file, const tkr_yaml_node_t *n, const char *msg,
                     const char *key)
{
    return cli_fail("%s:%d:%d: %s%s", file, n->line, n->column, key, msg);
}

static int cfg_str(const char *file, const tkr_yaml_node_t *n, const char *key,
                   char *out, size_t size)
{
    tkr_diag_t err;
    size_t len;
    int rc;

    if (n->kind == TKR_YAML_NULL)
        return 0;
    if (n->kind == TKR_YAML_INT) {
        snprintf(out, size, "%s", n->str);
        return 0;
    }
    if (n->kind != TKR_YAML_STR)
        return cfg_where(file, n, " must be a string", key);
    memset(&err, 0, sizeof(err));
    rc = tkr_envref_expand_node(out, size, &len, n, &process_env, file, key, &err);
    if (rc == TKR_E_BUFFER_TOO_SMALL)
        return cfg_where(file, n, " is too long", key);
    if (rc != 0)
        return cli_fail("%s:%d:%d: %s", file, err.line, err.column,
                        err.msg[0] ? err.msg : tkr_strerror(rc));
    return 0;
}

static int cfg_int(const char *file, const tkr_yaml_node_t *n, const char *key,
                   long min, long max, long *out)
{
    char buf[64];
    int64_t v;

    if (n->kind == TKR_YAML_NULL)
        return 0;
    if (n->kind == TKR_YAML_STR) {
        /* "${PORT}" and the like. */
        if (cfg_str(file, n, key, buf, sizeof(buf)) != 0)
            return CLI_EXIT_FAIL;
        if (cli_parse_i64(buf, min, max, &v) != 0)
            return cfg_where(file, n, " must be an integer in range", key);
        *out = (long)v;
        return 0;
    }
    if (n->kind != TKR_YAML_INT || n->i < min || n->i > max)
        return cfg_where(file, n, " must be an integer in range", key);
    *out = (long)n->i;
    return 0;
}

/* Every key of map must be one of allowed (NULL-terminated). */
static int cfg_keys(const char *file, const tkr_yaml_node_t *map, const char *section,
                    const char *const *allowed)
{
    size_t i, k;

    if (map->kind != TKR_YAML_MAP)
        return cfg_where(file, map, " must be a mapping", section);
    for (i = 0; i < map->n; i++) {
        for (k = 0; allowed[k] != NULL; k++)
            if (strcmp(map->keys[i]->str, allowed[k]) == 0)
                break;
        if (allowed[k] == NULL)
            return cli_fail("%s:%d:%d: unknown key '%s%s%s'", file, map->keys[i]->line,
                            map->keys[i]->column, section, section[0] ? "." : "",
                            map->keys[i]->str);
    }
    return 0;
}

static int read_config(settings_t *s, const char *file)
{
    static const char *const top[] = {"api_key", "data_dir", "project_name", "server",
                                      "ca", "policy", "storage", "pending", "audit", NULL};
    static const char *const server[] = {"host", "port", "tls", NULL};
    static const char *const tls[] = {"cert", "key", NULL};
    static const char *const ca[] = {"cert", "key", "valid_days", NULL};
    static const char *const policy[] = {"file", NULL};
    static const char *const storage[] = {"type", "path", "connection", NULL};
    static const char *const pending[] = {"timeout", "cleanup_interval", NULL};
    static const char *const audit[] = {"enabled", "log_file", NULL};
    tkr_yaml_doc_t doc;
    tkr_diag_t err;
    const tkr_yaml_node_t *r, *n, *m;
    size_t len;
    char *text = cli_read_file(file, 1u << 20, &len);
    char type[32] = "", path[TEXT - 8] = "", conn[TEXT] = "";
    int rc = CLI_EXIT_FAIL;

    if (text == NULL)
        return cli_fail("cannot read configuration %s: %s", file, cli_io_error());
    tkr_yaml_init(&doc);
    memset(&err, 0, sizeof(err));
    if (tkr_yaml_load(&doc, text, len, file, &err) != 0) {
        rc = cli_fail("%s:%d:%d: %s", file, err.line, err.column, err.msg);
        goto out;
    }
    r = doc.root;
    if (r != NULL && tkr_yaml_check_strings(r, TKR_YAML_NO_NUL | TKR_YAML_ENVREFS, file, &err) != 0) {
        rc = cli_fail("%s:%d:%d: %s", file, err.line, err.column, err.msg);
        goto out;
    }
    if (r == NULL) {
        rc = 0;
        goto out;
    }
    if (cfg_keys(file, r, "", top) != 0)
        goto out;
    {
        /* Flags win: a value is taken from the file only where the command
         * line left it unset. The first problem stops the walk. */
        int bad = 0;
#define SET_STR2(field, node, key)                                             \
        if (!bad && (node) != NULL && s->field[0] == '\0' &&                   \
            cfg_str(file, node, key, s->field, sizeof(s->field)) != 0)         \
            bad = 1
#define SET_INT2(field, node, key, lo, hi)                                     \
        if (!bad && (node) != NULL && s->field < 0 &&                          \
            cfg_int(file, node, key, lo, hi, &s->field) != 0)                  \
            bad = 1
        SET_STR2(api_key, tkr_yaml_get(r, "api_key"), "api_key");
        SET_STR2(data_dir, tkr_yaml_get(r, "data_dir"), "data_dir");
        SET_STR2(project_name, tkr_yaml_get(r, "project_name"), "project_name");
        if (!bad && (n = tkr_yaml_get(r, "server")) != NULL && n->kind != TKR_YAML_NULL) {
            bad = cfg_keys(file, n, "server", server) != 0;
            SET_STR2(host, tkr_yaml_get(n, "host"), "server.host");
            SET_INT2(port, tkr_yaml_get(n, "port"), "server.port", 0, 65535);
            if (!bad && (m = tkr_yaml_get(n, "tls")) != NULL && m->kind != TKR_YAML_NULL) {
                bad = cfg_keys(file, m, "server.tls", tls) != 0;
                SET_STR2(tls_cert, tkr_yaml_get(m, "cert"), "server.tls.cert");
                SET_STR2(tls_key, tkr_yaml_get(m, "key"), "server.tls.key");
            }
        }
        if (!bad && (n = tkr_yaml_get(r, "ca")) != NULL && n->kind != TKR_YAML_NULL) {
            bad = cfg_keys(file, n, "ca", ca) != 0;
            SET_STR2(ca_cert, tkr_yaml_get(n, "cert"), "ca.cert");
            SET_STR2(ca_key, tkr_yaml_get(n, "key"), "ca.key");
            SET_INT2(ca_days, tkr_yaml_get(n, "valid_days"), "ca.valid_days", 1, 36500);
        }
        if (!bad && (n = tkr_yaml_get(r, "policy")) != NULL && n->kind != TKR_YAML_NULL) {
            bad = cfg_keys(file, n, "policy", policy) != 0;
            SET_STR2(policy, tkr_yaml_get(n, "file"), "policy.file");
        }
        if (!bad && (n = tkr_yaml_get(r, "storage")) != NULL && n->kind != TKR_YAML_NULL) {
            bad = cfg_keys(file, n, "storage", storage) != 0;
            if (!bad && (m = tkr_yaml_get(n, "type")) != NULL)
                bad = cfg_str(file, m, "storage.type", type, sizeof(type)) != 0;
            if (!bad && (m = tkr_yaml_get(n, "path")) != NULL)
                bad = cfg_str(file, m, "storage.path", path, sizeof(path)) != 0;
            if (!bad && (m = tkr_yaml_get(n, "connection")) != NULL)
                bad = cfg_str(file, m, "storage.connection", conn, sizeof(conn)) != 0;
            if (!bad && type[0] != '\0' && strcmp(type, "sqlite") != 0 &&
                strcmp(type, "postgresql") != 0)
                bad = cfg_where(file, n, " type must be sqlite or postgresql", "storage") != 0;
            if (!bad && strcmp(type, "postgresql") == 0 && conn[0] == '\0')
                bad = cfg_where(file, n, ": postgresql needs a connection", "storage") != 0;
            if (!bad && s->db[0] == '\0') {
                if (strcmp(type, "postgresql") == 0)
                    snprintf(s->db, sizeof(s->db), "%s", conn);
                else if (path[0] != '\0')
                    snprintf(s->db, sizeof(s->db), "sqlite:%s", path);
            }
        }
        if (!bad && (n = tkr_yaml_get(r, "pending")) != NULL && n->kind != TKR_YAML_NULL) {
            bad = cfg_keys(file, n, "pending", pending) != 0;
            SET_INT2(pending_timeout, tkr_yaml_get(n, "timeout"), "pending.timeout", 1,
                     3650L * DAY);
            SET_INT2(cleanup_interval, tkr_yaml_get(n, "cleanup_interval"),
                     "pending.cleanup_interval", 1, 30L * DAY);
        }
        if (!bad && (n = tkr_yaml_get(r, "audit")) != NULL && n->kind != TKR_YAML_NULL) {
            bad = cfg_keys(file, n, "audit", audit) != 0;
            if (!bad && (m = tkr_yaml_get(n, "enabled")) != NULL) {
                if (m->kind != TKR_YAML_BOOL)
                    bad = cfg_where(file, m, " must be true or false", "audit.enabled") != 0;
                else if (s->audit_enabled < 0)
                    s->audit_enabled = (int)m->i;
            }
            SET_STR2(audit_log, tkr_yaml_get(n, "log_file"), "audit.log_file");
        }
#undef SET_STR2
#undef SET_INT2
        rc = bad ? CLI_EXIT_FAIL : 0;
    }
out:
    tkr_yaml_free(&doc);
    free(text);
    return rc;
}

/* ---- the CA ---- */

/* FLARE's service makes its root CA at first start when data_dir has
 * none: rootCA.pem (0644) and rootCA.key (0600), CN = project_name. */
static int first_start_ca(const settings_t *s, const char *cert, const char *key)
{
    static char cert_pem[PEM_MAX], key_pem[PEM_MAX];
    mbedtls_pk_context pk;
    tkr_signer_t signer;
    tkr_cert_spec_t spec;
    int64_t now = tkr_port_time(cli_port());
    size_t cl = 0, kl = 0;
    tkr_diag_t d;
    int rc;

    if (cli_mkdirs(s->data_dir, 0700) != 0)
        return cli_fail("cannot create %s: %s", s->data_dir, strerror(errno));
    mbedtls_pk_init(&pk);
    tkr_signer_init(&signer);
    tkr_diag_clear(&d);
    memset(&spec, 0, sizeof(spec));
    spec.signer = &signer; /* subject_key NULL: self-signed */
    spec.cn = s->project_name[0] ? s->project_name : "NVFlare";
    spec.not_before = now;
    spec.not_after = now + (s->ca_days > 0 ? s->ca_days : 3650) * (int64_t)DAY;
    spec.usage = TKR_CERT_CA;
    if (tkr_key_generate(&pk, TKR_KEY_RSA_2048, cli_port(), &d) != 0 ||
        tkr_key_write_pem(key_pem, sizeof(key_pem), &kl, &pk, &d) != 0 ||
        tkr_signer_load_mbedtls(&signer, (const uint8_t *)key_pem, kl + 1, cli_port()) != 0 ||
        tkr_cert_write_pem(cert_pem, sizeof(cert_pem), &cl, &spec, cli_port(), &d) != 0)
        rc = cli_fail("cannot create the root CA%s%s", d.msg[0] ? ": " : "", d.msg);
    else if ((rc = cli_out_write(key, key_pem, kl, CLI_OUT_SECRET)) == 0)
        rc = cli_out_write(cert, cert_pem, cl, 0);
    mbedtls_platform_zeroize(key_pem, sizeof(key_pem));
    tkr_signer_free(&signer);
    mbedtls_pk_free(&pk);
    if (rc == 0)
        fprintf(stderr, "Created root CA \"%s\" in %s\n", spec.cn, s->data_dir);
    return rc;
}

/* The root certificate and a signer per worker. The key comes from
 * --ca-key / TOKENROLL_CA_KEY (a file or a PKCS#11 URI), else from the
 * workspace (--ca-path), else from the configuration's ca.key or
 * data_dir's rootCA.key; every signer is checked against the certificate,
 * and the key's text is wiped once they are loaded. */
static int load_ca(serve_t *sv, const settings_t *s, const cli_args_t *a)
{
    char cert[TEXT + 16], key[TEXT + 16];
    const char *dir = NULL;
    int i, rc;

    if (s->ca_path[0] != '\0') {
        dir = s->ca_path;
    } else if (s->ca_cert[0] != '\0' || s->ca_key[0] != '\0') {
        char *c;
        size_t cl;
        tkr_diag_t d;

        if (s->ca_cert[0] == '\0' || s->ca_key[0] == '\0')
            return cli_fail("ca.cert and ca.key go together");
        if ((c = cli_read_file(s->ca_cert, PEM_MAX, &cl)) == NULL)
            return cli_fail("cannot read %s: %s", s->ca_cert, cli_io_error());
        char none[8];
        tkr_diag_clear(&d);
        /* The certificate only: the key is the signers' to read. */
        sv->ca.key_text = none;
        sv->ca.key_text_size = sizeof(none);
        rc = tkr_ca_load_pem(&sv->ca, c, cl + 1, NULL, 0, cli_port(), &d);
        sv->ca.key_text = NULL;
        free(c);
        if (rc != 0)
            return cli_fail("%s: %s", s->ca_cert, d.msg[0] ? d.msg : tkr_strerror(rc));
        /* The configuration names the key where --ca-key would. */
        if ((cli_get(a, "ca-key") == NULL || cli_get(a, "ca-key")[0] == '\0') &&
            setenv("TOKENROLL_CA_KEY", s->ca_key, 0) != 0)
            return cli_fail("cannot pass ca.key on");
    } else if (s->data_dir[0] != '\0') {
        struct stat st;
        snprintf(cert, sizeof(cert), "%s/rootCA.pem", s->data_dir);
        snprintf(key, sizeof(key), "%s/rootCA.key", s->data_dir);
        if (stat(cert, &st) != 0 && stat(key, &st) != 0 &&
            (rc = first_start_ca(s, cert, key)) != 0)
            return rc;
        dir = s->data_dir;
    } else {
        return cli_fail("no root CA: pass --ca-path (a provisioned workspace), or set "
                        "data_dir or ca.cert/ca.key in the configuration.\n%s", cli_ca_hint);
    }
    if ((rc = cli_ca_key_open(&sv->key, a, dir)) != 0)
        return rc;
    sv->svc.ca = dir != NULL ? &sv->key.ca : &sv->ca;
    sv->nsigners = (int)s->threads;
    sv->signers = calloc((size_t)sv->nsigners, sizeof(*sv->signers));
    sv->idle = calloc((size_t)sv->nsigners, sizeof(*sv->idle));
    if (sv->signers == NULL || sv->idle == NULL)
        return cli_fail("out of memory");
    for (i = 0; i < sv->nsigners; i++) {
        if ((rc = cli_ca_key_signer(&sv->key, &sv->signers[i])) != 0)
            return rc;
        if (dir == NULL &&
            tkr_signer_check_cert(&sv->signers[i], &sv->ca.cert, cli_port()) != 0)
            return cli_fail("%s is not the key of %s", s->ca_key, s->ca_cert);
        sv->idle[sv->nidle++] = i;
    }
    cli_ca_key_forget(&sv->key);
    return 0;
}

/* The server kit provisioning made: the newest prod_NN/<server>/startup
 * holding server.crt and server.key. */
static int find_server_kit(const char *ws, char *cert, char *key, size_t size)
{
    int nn;

    for (nn = 99; nn >= 0; nn--) {
        char prod[TEXT + 16], path[TEXT + 600];
        struct dirent *e;
        struct stat st;
        DIR *d;
        char kit[TEXT + 300];
        snprintf(path, sizeof(path), "prod_%02d", nn);
        if (cli_join(prod, sizeof(prod), ws, path) != 0 || (d = opendir(prod)) == NULL)
            continue;
        while ((e = readdir(d)) != NULL) {
            if (e->d_name[0] == '.' || cli_join(kit, sizeof(kit), prod, e->d_name) != 0 ||
                cli_join(path, sizeof(path), kit, "startup/server.crt") != 0 ||
                stat(path, &st) != 0)
                continue;
            if (cli_join(cert, size, kit, "startup/server.crt") == 0 &&
                cli_join(key, size, kit, "startup/server.key") == 0) {
                closedir(d);
                return 0;
            }
        }
        closedir(d);
    }
    return -1;
}

/* ---- running ---- */

static tkr_signer_t *borrow_signer(serve_t *sv)
{
    tkr_signer_t *sg;

    pthread_mutex_lock(&sv->signer_mu);
    while (sv->nidle == 0)
        pthread_cond_wait(&sv->signer_cv, &sv->signer_mu);
    sg = &sv->signers[sv->idle[--sv->nidle]];
    pthread_mutex_unlock(&sv->signer_mu);
    return sg;
}

static void return_signer(serve_t *sv, tkr_signer_t *sg)
{
    pthread_mutex_lock(&sv->signer_mu);
    sv->idle[sv->nidle++] = (int)(sg - sv->signers);
    pthread_cond_signal(&sv->signer_cv);
    pthread_mutex_unlock(&sv->signer_mu);
}

static int handle(void *arg, const tkr_service_req_t *req, tkr_service_resp_t *resp)
{
    serve_t *sv = arg;
    tkr_signer_t *sg = borrow_signer(sv);
    int rc = tkr_service_handle(&sv->svc, sg, req, resp);

    return_signer(sv, sg);
    return rc;
}

static void audit_line(void *arg, const char *line)
{
    serve_t *sv = arg;

    pthread_mutex_lock(&sv->audit_mu);
    fprintf(sv->audit, "%s\n", line);
    fflush(sv->audit);
    pthread_mutex_unlock(&sv->audit_mu);
}

static int load_policy(tkr_policy_t *p, const char *path)
{
    tkr_diag_t err;
    size_t len;
    char *text;
    int rc;

    if (path[0] == '\0')
        return tkr_policy_load_default(p) == 0 ? 0 : cli_fail("built-in policy failed to load");
    if ((text = cli_read_file(path, 1u << 20, &len)) == NULL)
        return cli_fail("cannot read policy %s: %s", path, cli_io_error());
    memset(&err, 0, sizeof(err));
    rc = tkr_policy_load_yaml(p, text, len, path, &err);
    free(text);
    if (rc != 0)
        return cli_fail("%s:%d:%d: %s", path, err.line, err.column,
                        err.msg[0] ? err.msg : tkr_strerror(rc));
    return 0;
}

static int parse_listen(settings_t *s, const char *v)
{
    const char *colon = strrchr(v, ':');
    int64_t port;
    size_t n;

    if (colon == NULL || cli_parse_i64(colon + 1, 0, 65535, &port) != 0)
        return -1;
    n = (size_t)(colon - v);
    if (n >= 2 && v[0] == '[' && v[n - 1] == ']') {
        v++;
        n -= 2;
    }
    if (n == 0 || n >= sizeof(s->host))
        return -1;
    memcpy(s->host, v, n);
    s->host[n] = '\0';
    s->port = (long)port;
    return 0;
}

static const char serve_usage[] =
    "usage: tokenroll serve [-c CONFIG] [--ca-path DIR] [--cert FILE --key FILE]\n"
    "                       [--listen HOST:PORT] [--db URL] [--data-dir DIR]\n"
    "                       [--api-key KEY] [--policy FILE] [--cert-days N]\n"
    "                       [--pending-timeout SECONDS] [--threads N]\n"
    "                       [--timeout SECONDS] [--audit-log FILE] [--insecure-http]\n"
    "\n"
    "Run the certificate service: enrollment tokens + CSRs in, certificates out.\n"
    "  -c, --config       FLARE's cert_service_config.yaml (flags override it)\n"
    "  --ca-path DIR      provisioned workspace (NVFLARE_CA_PATH): root CA from\n"
    "                     state/cert.json, TLS from its newest server kit\n"
    "  --cert, --key      TLS certificate and key (default: the server kit)\n"
    "  --listen HOST:PORT default 127.0.0.1:8443\n"
    "  --db URL           sqlite:PATH or postgresql://USER@HOST:PORT/DB\n"
    "                     (default sqlite:DATA_DIR/enrollment.db)\n"
    "  --data-dir DIR     service data (default: the workspace's state/)\n"
    "  --api-key KEY      admin routes' key (NVFLARE_API_KEY); none: disabled\n"
    "  --policy FILE      policy for tokens minted through the API\n"
    "                     (NVFLARE_ENROLLMENT_POLICY; else built-in)\n"
    "  --cert-days N      validity of issued certificates (default 365)\n"
    "  --pending-timeout S  seconds a pending request waits (default 604800)\n"
    "  --threads N        worker threads (default: the number of cores)\n"
    "  --timeout S        drop a connection idle this long, in the handshake or\n"
    "                     mid-request (default 30)\n"
    "  --audit-log FILE   also append each decision as a JSON line here\n"
    "  --insecure-http    serve plain HTTP (only behind a TLS-terminating proxy)\n"
    "  --webhook-ca FILE  roots for https:// webhooks (default: the system's)\n"
    "  --webhook-insecure-http  allow http:// webhooks (tests on loopback)\n"
    CLI_CA_KEY_USAGE "\n" SERVE_JWT_USAGE;

static int settings_from_args(settings_t *s, const cli_args_t *a)
{
    const char *v;
    int64_t n;

    memset(s, 0, sizeof(*s));
    s->port = s->ca_days = s->pending_timeout = s->cleanup_interval = -1;
    s->cert_days = s->threads = s->timeout = -1;
    s->audit_enabled = -1;
#define FLAG_STR(field, name)                                                  \
    if ((v = cli_get(a, name)) != NULL)                                        \
    snprintf(s->field, sizeof(s->field), "%s", v)
    FLAG_STR(config, "config");
    FLAG_STR(ca_path, "ca-path");
    FLAG_STR(tls_cert, "cert");
    FLAG_STR(tls_key, "key");
    FLAG_STR(db, "db");
    FLAG_STR(data_dir, "data-dir");
    FLAG_STR(api_key, "api-key");
    FLAG_STR(policy, "policy");
    FLAG_STR(audit_log, "audit-log");
#undef FLAG_STR
    if ((v = cli_get(a, "listen")) != NULL && parse_listen(s, v) != 0)
        return cli_usage_fail(a, "--listen must be HOST:PORT, not %s", v);
    if ((v = cli_get(a, "cert-days")) != NULL) {
        if (cli_parse_i64(v, 1, 36500, &n) != 0)
            return cli_usage_fail(a, "--cert-days must be 1..36500, not %s", v);
        s->cert_days = (long)n;
    }
    if ((v = cli_get(a, "pending-timeout")) != NULL) {
        if (cli_parse_i64(v, 1, 3650L * DAY, &n) != 0)
            return cli_usage_fail(a, "--pending-timeout must be seconds, not %s", v);
        s->pending_timeout = (long)n;
    }
    if ((v = cli_get(a, "threads")) != NULL) {
        if (cli_parse_i64(v, 1, 256, &n) != 0)
            return cli_usage_fail(a, "--threads must be 1..256, not %s", v);
        s->threads = (long)n;
    }
    if ((v = cli_get(a, "timeout")) != NULL) {
        if (cli_parse_i64(v, 1, 3600, &n) != 0)
            return cli_usage_fail(a, "--timeout must be 1..3600 seconds, not %s", v);
        s->timeout = (long)n;
    }
    s->insecure_http = cli_has(a, "insecure-http");
    if ((v = cli_get(a, "now")) != NULL) {
        if (cli_parse_i64(v, 0, INT64_MAX / 2, &n) != 0)
            return cli_usage_fail(a, "--now must be seconds since the epoch, not %s", v);
        cli_set_now(n);
    }
    return 0;
}

/* Environment, then the file, then defaults, for what flags left open. */
static int settings_complete(settings_t *s)
{
    const char *e;
    long cores = sysconf(_SC_NPROCESSORS_ONLN);

    if (s->api_key[0] == '\0' && (e = getenv("NVFLARE_API_KEY")) != NULL)
        snprintf(s->api_key, sizeof(s->api_key), "%s", e);
    if (s->ca_path[0] == '\0' && s->config[0] == '\0' && (e = getenv("NVFLARE_CA_PATH")) != NULL)
        snprintf(s->ca_path, sizeof(s->ca_path), "%s", e);
    if (s->policy[0] == '\0' && (e = getenv("NVFLARE_ENROLLMENT_POLICY")) != NULL)
        snprintf(s->policy, sizeof(s->policy), "%s", e);
    if (s->config[0] != '\0' && read_config(s, s->config) != 0)
        return CLI_EXIT_FAIL;
    if (s->host[0] == '\0')
        snprintf(s->host, sizeof(s->host), "127.0.0.1");
    if (s->port < 0)
        s->port = 8443;
    if (s->data_dir[0] == '\0' && s->ca_path[0] != '\0' &&
        cli_join(s->data_dir, sizeof(s->data_dir), s->ca_path, "state") != 0)
        return cli_fail("--ca-path is too long");
    if (s->db[0] == '\0') {
        if (s->data_dir[0] == '\0')
            return cli_fail("no database: pass --db, --data-dir or --ca-path");
        if (cli_mkdirs(s->data_dir, 0700) != 0)
            return cli_fail("cannot create %s: %s", s->data_dir, strerror(errno));
        if (cli_join(s->db, sizeof(s->db) - 7, s->data_dir, "enrollment.db") != 0)
            return cli_fail("--data-dir is too long");
        memmove(s->db + 7, s->db, strlen(s->db) + 1);
        memcpy(s->db, "sqlite:", 7);
    }
    if (s->tls_cert[0] == '\0' && s->tls_key[0] == '\0' && !s->insecure_http &&
        s->ca_path[0] != '\0')
        find_server_kit(s->ca_path, s->tls_cert, s->tls_key, sizeof(s->tls_cert));
    if (!s->insecure_http && (s->tls_cert[0] == '\0' || s->tls_key[0] == '\0'))
        return cli_fail("no TLS certificate: pass --cert and --key, set server.tls in the "
                        "configuration, or --ca-path to a workspace with a server kit "
                        "(--insecure-http serves plain HTTP behind a TLS proxy)");
    if (s->cert_days < 0)
        s->cert_days = 365;
    if (s->pending_timeout < 0)
        s->pending_timeout = 7L * DAY;
    if (s->cleanup_interval < 0)
        s->cleanup_interval = 3600;
    if (s->threads < 0)
        s->threads = cores > 0 ? cores : 1;
    if (s->audit_enabled == 0)
        s->audit_log[0] = '\0';
    return 0;
}

static int setup(serve_t *sv, const settings_t *s, const cli_args_t *a)
{
    char err[512];
    int rc;

    if ((rc = load_ca(sv, s, a)) != 0)
        return rc;
    if (cli_cert_pem(sv->ca_pem, sizeof(sv->ca_pem), &sv->svc.ca->cert) != 0)
        return cli_fail("cannot encode the root CA");
    if ((rc = load_policy(&sv->policy, s->policy)) != 0)
        return rc;
    if (cli_store_open(&sv->store, s->db, (int)s->threads + 1, err, sizeof(err)) != 0)
        return cli_fail("%s", err);
    if (s->audit_log[0] != '\0' && (sv->audit = fopen(s->audit_log, "a")) == NULL)
        return cli_fail("cannot open audit log %s: %s", s->audit_log, strerror(errno));
    sv->svc.ca_pem = sv->ca_pem;
    sv->svc.store = &sv->store;
    sv->svc.port = cli_port();
    sv->svc.api_key = s->api_key;
    sv->svc.policy = &sv->policy;
    sv->svc.cert_days = s->cert_days;
    sv->svc.pending_timeout = s->pending_timeout;
    sv->svc.retry_after = 60;
    sv->svc.leeway = 60;
    /* Every token is checked under the CA's key: decoded once. */
    if (cli_verifier_init(&sv->verifier, &sv->svc.ca->cert.pk) != 0)
        return cli_fail("cannot load the root CA's public key");
    sv->svc.verifier = &sv->verifier.v;
    if (sv->audit != NULL) {
        sv->svc.audit = audit_line;
        sv->svc.audit_arg = sv;
    }
    return 0;
}

/* The process's CPU time (all threads), for operators and benchmarks. */
static double cpu_seconds(void)
{
    struct rusage ru;

    getrusage(RUSAGE_SELF, &ru);
    return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
           (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

static cli_notifier_t notifier;
static const tkr_envref_env_t notify_env = {env_get, NULL};

static int run(serve_t *sv, const settings_t *s)
{
    cli_http_cfg_t hc;
    cli_http_t *h = NULL;
    char err[512], *cert = NULL, *key = NULL;
    sigset_t set;
    size_t n;
    double cpu0;
    int rc;

    if (!s->insecure_http) {
        if ((cert = cli_read_file(s->tls_cert, PEM_MAX, &n)) == NULL)
            return cli_fail("cannot read TLS certificate %s: %s", s->tls_cert, cli_io_error());
        if ((key = cli_read_file(s->tls_key, PEM_MAX, &n)) == NULL) {
            free(cert);
            return cli_fail("cannot read TLS key %s: %s", s->tls_key, cli_io_error());
        }
    }
    memset(&hc, 0, sizeof(hc));
    hc.host = s->host;
    hc.port = (uint16_t)s->port;
    hc.cert_pem = cert;
    hc.key_pem = key;
    hc.threads = (unsigned)s->threads;
    hc.timeout_s = (unsigned)(s->timeout > 0 ? s->timeout : TIMEOUT_DEFAULT);
    hc.body_max = TKR_SERVICE_BODY_MAX;
    hc.log = 1;
    hc.handle = handle;
    hc.arg = sv;
    /* Signals go to sigtimedwait below, not to the server's threads. */
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);
    rc = cli_http_start(&h, &hc, err, sizeof(err));
    if (key != NULL)
        mbedtls_platform_zeroize(key, strlen(key));
    free(key);
    free(cert);
    if (rc != 0)
        return cli_fail("%s", err);
    if (sv->policy.notifications_enabled && sv->policy.email_enabled)
        fprintf(stderr, "Warning: the policy enables e-mail notifications, which tokenroll "
                        "does not send; pending and rejected requests are announced by "
                        "webhook only\n");
    if (s->insecure_http)
        fprintf(stderr, "Warning: serving plain HTTP: tokens and keys cross the network in "
                        "clear unless a TLS-terminating proxy is in front\n");
    cpu0 = cpu_seconds();
    fprintf(stderr, "tokenroll serve: listening on %s://%s:%u (%ld threads, database %s)\n",
            s->insecure_http ? "http" : "https", s->host, cli_http_port(h), s->threads,
            strncmp(s->db, "postgres", 8) == 0 ? "PostgreSQL" : "SQLite");
    for (;;) {
        struct timespec ts = {s->cleanup_interval, 0};
        int64_t expired = 0;
        int sig = sigtimedwait(&set, NULL, &ts);
        if (sig == SIGINT || sig == SIGTERM)
            break;
        if (sv->store.ops->pending_expire(sv->store.ctx, tkr_port_time(cli_port()), &expired) == 0 &&
            expired > 0)
            fprintf(stderr, "expired %lld pending request(s)\n", (long long)expired);
    }
    cli_http_stop(h);
    cli_notifier_stop(&notifier);
    fprintf(stderr, "tokenroll serve: stopped (cpu while serving: %.3f s)\n",
            cpu_seconds() - cpu0);
    return 0;
}

int cmd_serve(int argc, char **argv)
{
    static const cli_opt_t opts[] = {
        {"config", 'c', OPT_VALUE, NULL},      {"ca-path", 0, OPT_VALUE, "ca_path"},
        {"cert", 0, OPT_VALUE, NULL},          {"key", 0, OPT_VALUE, NULL},
        {"listen", 0, OPT_VALUE, NULL},        {"db", 0, OPT_VALUE, NULL},
        {"data-dir", 0, OPT_VALUE, NULL},      {"api-key", 0, OPT_VALUE, NULL},
        {"policy", 'p', OPT_VALUE, NULL},      {"cert-days", 0, OPT_VALUE, NULL},
        {"pending-timeout", 0, OPT_VALUE, NULL}, {"threads", 0, OPT_VALUE, NULL},
        {"timeout", 0, OPT_VALUE, NULL},
        {"audit-log", 0, OPT_VALUE, NULL},     {"insecure-http", 0, OPT_FLAG, NULL},
        {"now", 0, OPT_VALUE, NULL}, {"webhook-ca", 0, OPT_VALUE, NULL},
        {"webhook-insecure-http", 0, OPT_FLAG, NULL},           CLI_CA_KEY_OPTS,
        SERVE_JWT_OPTS,
        {NULL, 0, 0, NULL}};
    static serve_t sv;
    serve_jwt_t *jwt = NULL;
    settings_t s;
    cli_args_t a;
    int i;
    int rc = cli_parse(&a, opts, serve_usage, argc, argv);

    if (rc != 0)
        return rc < 0 ? 0 : rc;
    if ((rc = settings_from_args(&s, &a)) != 0)
        return rc;
    if ((rc = settings_complete(&s)) != 0)
        return rc;
    memset(&sv, 0, sizeof(sv));
    tkr_ca_init(&sv.ca);
    cli_ca_key_init(&sv.key);
    tkr_policy_init(&sv.policy);
    pthread_mutex_init(&sv.audit_mu, NULL);
    pthread_mutex_init(&sv.signer_mu, NULL);
    pthread_cond_init(&sv.signer_cv, NULL);
    /* The JWT settings first: a mistake there leaves no database behind. */
    rc = serve_jwt_open(&jwt, &a, cli_port(), s.cert_days * DAY);
    if (rc == 0)
        rc = setup(&sv, &s, &a);
    if (rc == 0 && jwt != NULL) {
        sv.svc.jwt = serve_jwt_cfg(jwt);
        fprintf(stderr, "tokenroll serve: JWT authenticator on (%s)\n", serve_jwt_mode(jwt));
    }
    if (rc == 0)
        rc = cli_notifier_start(&notifier, &sv.store, cli_get(&a, "webhook-ca"),
                                cli_has(&a, "webhook-insecure-http"));
    if (rc == 0) {
        sv.svc.notify_env = &notify_env;
        rc = run(&sv, &s);
    }
    cli_notifier_stop(&notifier);
    serve_jwt_close(jwt);
    cli_store_close(&sv.store);
    if (sv.audit != NULL)
        fclose(sv.audit);
    tkr_policy_free(&sv.policy);
    cli_verifier_free(&sv.verifier);
    if (sv.signers != NULL)
        for (i = 0; i < sv.nsigners; i++)
            tkr_signer_free(&sv.signers[i]);
    free(sv.signers);
    free(sv.idle);
    cli_ca_key_free(&sv.key);
    tkr_ca_free(&sv.ca);
    mbedtls_platform_zeroize(&s, sizeof(s));
    return rc;
}
