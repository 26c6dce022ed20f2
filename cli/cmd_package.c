/* cmd_package.c — `tokenroll package`: a generic startup kit, without key or
 * certificate, that a site turns into its own by enrolling with a token. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <mbedtls/platform_util.h>

#include "cli.h"
#include "tokenroll/certjson.h"
#include "tokenroll/error.h"
#include "tokenroll/json.h"
#include "tokenroll/subject.h"

typedef struct {
    char scheme[16];
    char host[256];
    long port, admin_port;   /* admin_port 0 when not given */
} endpoint_t;

typedef struct {
    const char *name, *type, *org, *role, *listen_host, *service, *token, *ca_path;
    long listen_port;
    endpoint_t ep;
} pkg_t;

static int valid_host(const char *h)
{
    size_t i, n = strlen(h);

    if (n == 0 || n > 253)
        return 0;
    for (i = 0; i < n; i++) {
        char c = h[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '.' || c == '_' || c == ':'))
            return 0;
    }
    return 1;
}

static int parse_port(const char *s, size_t n, long *out)
{
    char buf[8];
    int64_t v;

    if (n == 0 || n >= sizeof(buf))
        return -1;
    memcpy(buf, s, n);
    buf[n] = '\0';
    if (cli_parse_i64(buf, 1, 65535, &v) != 0)
        return -1;
    *out = (long)v;
    return 0;
}

/* scheme://host:port[:admin_port], host may be [IPv6]. */
static int parse_endpoint(endpoint_t *ep, const char *s)
{
    const char *p = strstr(s, "://"), *h, *colon, *second;
    size_t n;

    memset(ep, 0, sizeof(*ep));
    if (p == NULL || p == s || (size_t)(p - s) >= sizeof(ep->scheme))
        return -1;
    memcpy(ep->scheme, s, (size_t)(p - s));
    if (strcmp(ep->scheme, "grpc") != 0 && strcmp(ep->scheme, "tcp") != 0 &&
        strcmp(ep->scheme, "http") != 0 && strcmp(ep->scheme, "https") != 0)
        return -1;
    h = p + 3;
    if (*h == '[') {
        const char *end = strchr(h, ']');
        if (end == NULL || end[1] != ':')
            return -1;
        n = (size_t)(end - h - 1);
        colon = end + 1;
        h++;
    } else {
        colon = strchr(h, ':');
        if (colon == NULL)
            return -1;
        n = (size_t)(colon - h);
    }
    if (n == 0 || n >= sizeof(ep->host))
        return -1;
    memcpy(ep->host, h, n);
    if (!valid_host(ep->host))
        return -1;
    second = strchr(colon + 1, ':');
    if (parse_port(colon + 1, second ? (size_t)(second - colon - 1) : strlen(colon + 1),
                   &ep->port) != 0)
        return -1;
    if (second != NULL && parse_port(second + 1, strlen(second + 1), &ep->admin_port) != 0)
        return -1;
    return 0;
}

static int put_file(const char *dir, const char *name, const char *text, size_t len,
                    int secret)
{
    char path[1400];
    int rc;

    cli_join(path, sizeof(path), dir, name);
    rc = cli_write_file(path, text, len, secret);
    return rc == 0 ? 0 : cli_fail("cannot write %s: %s", path, tkr_strerror(rc));
}

static int put_json(const char *dir, const char *name, tkr_jsonw_t *w)
{
    size_t len;

    if (tkr_jsonw_finish(w, &len) != 0)
        return cli_fail("%s does not fit", name);
    w->buf[len++] = '\n';
    return put_file(dir, name, w->buf, len, 0);
}

static void overseer(tkr_jsonw_t *w, const pkg_t *k)
{
    char sp[300];

    snprintf(sp, sizeof(sp), "%s:%ld:%ld", k->ep.host, k->ep.port,
             k->ep.admin_port ? k->ep.admin_port : k->ep.port);
    tkr_jsonw_key(w, "overseer_agent");
    tkr_jsonw_obj_begin(w);
    tkr_jsonw_key(w, "path");
    tkr_jsonw_str(w, "nvflare.ha.dummy_overseer_agent.DummyOverseerAgent");
    tkr_jsonw_key(w, "overseer_exists");
    tkr_jsonw_bool(w, 0);
    tkr_jsonw_key(w, "args");
    tkr_jsonw_obj_begin(w);
    tkr_jsonw_key(w, "sp_end_point");
    tkr_jsonw_str(w, sp);
    tkr_jsonw_obj_end(w);
    tkr_jsonw_obj_end(w);
}

static void tls_files(tkr_jsonw_t *w, const char *base)
{
    char key[32], crt[32];

    snprintf(key, sizeof(key), "%s.key", base);
    snprintf(crt, sizeof(crt), "%s.crt", base);
    tkr_jsonw_key(w, "ssl_private_key");
    tkr_jsonw_str(w, key);
    tkr_jsonw_key(w, "ssl_cert");
    tkr_jsonw_str(w, crt);
    tkr_jsonw_key(w, "ssl_root_cert");
    tkr_jsonw_str(w, "rootCA.pem");
}

static void servers(tkr_jsonw_t *w, const pkg_t *k)
{
    tkr_jsonw_key(w, "servers");
    tkr_jsonw_arr_begin(w);
    tkr_jsonw_obj_begin(w);
    tkr_jsonw_key(w, "service");
    tkr_jsonw_obj_begin(w);
    tkr_jsonw_key(w, "scheme");
    tkr_jsonw_str(w, k->ep.scheme);
    tkr_jsonw_obj_end(w);
    tkr_jsonw_key(w, "identity");
    tkr_jsonw_str(w, k->ep.host);
    tkr_jsonw_obj_end(w);
    tkr_jsonw_arr_end(w);
}

/* fed_client.json / fed_relay.json / fed_admin.json / fed_server.json in the
 * layout FLARE's provisioning writes. */
static int fed_json(const char *startup, const pkg_t *k)
{
    static char buf[8192];
    char name[32];
    tkr_jsonw_t w;
    char target[300];

    tkr_jsonw_init(&w, buf, sizeof(buf) - 1, TKR_JSONW_PRETTY);
    tkr_jsonw_obj_begin(&w);
    tkr_jsonw_key(&w, "format_version");
    tkr_jsonw_i64(&w, 2);
    if (strcmp(k->type, "admin") == 0) {
        tkr_jsonw_key(&w, "admin");
        tkr_jsonw_obj_begin(&w);
        tkr_jsonw_key(&w, "username");
        tkr_jsonw_str(&w, k->name);
        tkr_jsonw_key(&w, "with_ssl");
        tkr_jsonw_bool(&w, 1);
        tkr_jsonw_key(&w, "cred_type");
        tkr_jsonw_str(&w, "cert");
        tkr_jsonw_key(&w, "client_key");
        tkr_jsonw_str(&w, "client.key");
        tkr_jsonw_key(&w, "client_cert");
        tkr_jsonw_str(&w, "client.crt");
        tkr_jsonw_key(&w, "ca_cert");
        tkr_jsonw_str(&w, "rootCA.pem");
        tkr_jsonw_key(&w, "upload_dir");
        tkr_jsonw_str(&w, "transfer");
        tkr_jsonw_key(&w, "download_dir");
        tkr_jsonw_str(&w, "transfer");
        tkr_jsonw_obj_end(&w);
    } else if (strcmp(k->type, "server") == 0) {
        snprintf(target, sizeof(target), "%s:%ld", k->ep.host, k->ep.port);
        tkr_jsonw_key(&w, "servers");
        tkr_jsonw_arr_begin(&w);
        tkr_jsonw_obj_begin(&w);
        tkr_jsonw_key(&w, "name");
        tkr_jsonw_str(&w, k->name);
        tkr_jsonw_key(&w, "service");
        tkr_jsonw_obj_begin(&w);
        tkr_jsonw_key(&w, "target");
        tkr_jsonw_str(&w, target);
        tkr_jsonw_key(&w, "scheme");
        tkr_jsonw_str(&w, k->ep.scheme);
        tkr_jsonw_obj_end(&w);
        tkr_jsonw_key(&w, "admin_host");
        tkr_jsonw_str(&w, k->ep.host);
        tkr_jsonw_key(&w, "admin_port");
        tkr_jsonw_i64(&w, k->ep.admin_port ? k->ep.admin_port : k->ep.port);
        tls_files(&w, "server");
        tkr_jsonw_obj_end(&w);
        tkr_jsonw_arr_end(&w);
    } else {
        servers(&w, k);
        tkr_jsonw_key(&w, "client");
        tkr_jsonw_obj_begin(&w);
        tls_files(&w, "client");
        tkr_jsonw_key(&w, "fqsn");
        tkr_jsonw_str(&w, k->name);
        tkr_jsonw_key(&w, "is_leaf");
        tkr_jsonw_bool(&w, strcmp(k->type, "relay") != 0);
        tkr_jsonw_obj_end(&w);
        if (strcmp(k->type, "relay") == 0) {
            tkr_jsonw_key(&w, "listening_host");
            tkr_jsonw_obj_begin(&w);
            tkr_jsonw_key(&w, "scheme");
            tkr_jsonw_str(&w, k->ep.scheme);
            tkr_jsonw_key(&w, "host");
            tkr_jsonw_str(&w, k->listen_host);
            tkr_jsonw_key(&w, "port");
            tkr_jsonw_i64(&w, k->listen_port);
            tkr_jsonw_obj_end(&w);
        }
    }
    if (strcmp(k->type, "server") != 0)
        overseer(&w, k);
    tkr_jsonw_obj_end(&w);
    snprintf(name, sizeof(name), "fed_%s.json", k->type);
    return put_json(startup, name, &w);
}

static int enrollment_files(const char *startup, const pkg_t *k)
{
    static char buf[2048];
    tkr_jsonw_t w;
    int rc = 0;

    if (k->service != NULL) {
        tkr_jsonw_init(&w, buf, sizeof(buf) - 1, TKR_JSONW_PRETTY);
        tkr_jsonw_obj_begin(&w);
        tkr_jsonw_key(&w, "cert_service_url");
        tkr_jsonw_str(&w, k->service);
        tkr_jsonw_obj_end(&w);
        rc = put_json(startup, "enrollment.json", &w);
    }
    if (rc == 0 && k->token != NULL) {
        char *tok = cli_read_token(k->token, "token");
        if (tok == NULL)
            return CLI_EXIT_FAIL;
        rc = put_file(startup, "enrollment_token", tok, strlen(tok), 1);
        mbedtls_platform_zeroize(tok, strlen(tok));
        free(tok);
    }
    return rc;
}

static int root_cert(const char *startup, const char *ca_path)
{
    static char pem[8192];
    tkr_ca_t ca;
    int rc = cli_load_ca(&ca, ca_path);

    if (rc == 0 && cli_cert_pem(pem, sizeof(pem), &ca.cert) != 0)
        rc = cli_fail("cannot encode the root certificate");
    if (rc == 0)
        rc = put_file(startup, "rootCA.pem", pem, strlen(pem), 0);
    tkr_ca_free(&ca);
    return rc;
}

static int scripts(const char *dir, const char *startup, const pkg_t *k)
{
    static const char start_sh[] =
        "#!/usr/bin/env bash\n"
        "# Starts this participant. Without a certificate it first enrolls: the\n"
        "# token comes from NVFLARE_ENROLLMENT_TOKEN or startup/enrollment_token,\n"
        "# the service from NVFLARE_CERT_SERVICE_URL or startup/enrollment.json.\n"
        "set -euo pipefail\n"
        "DIR=$(cd \"$(dirname \"$0\")\" && pwd)\n"
        "if [ ! -f \"$DIR/client.crt\" ] && [ ! -f \"$DIR/server.crt\" ]; then\n"
        "  exec tokenroll enroll --startup \"$DIR\" \"$@\"\n"
        "fi\n"
        "echo \"certificate present in $DIR\"\n";
    char readme[2048], path[1400];
    int n, rc;

    rc = put_file(startup, "start.sh", start_sh, sizeof(start_sh) - 1, 0);
    cli_join(path, sizeof(path), startup, "start.sh");
    if (rc == 0 && chmod(path, 0755) != 0)
        rc = cli_fail("cannot chmod %s: %s", path, strerror(errno));
    n = snprintf(readme, sizeof(readme),
                 "Generic %s startup kit for %s (organization %s)\n\n"
                 "This kit holds no private key and no certificate. On first start the\n"
                 "participant generates its key pair, enrolls with its one-time token at\n"
                 "the certificate service and stores the signed certificate in startup/.\n\n"
                 "  token:   NVFLARE_ENROLLMENT_TOKEN, or startup/enrollment_token\n"
                 "  service: NVFLARE_CERT_SERVICE_URL, or startup/enrollment.json\n"
                 "  trust:   startup/rootCA.pem (copy it from the provisioned workspace\n"
                 "           if this kit was made without -c)\n\n"
                 "Server endpoint: %s://%s:%ld\n%s%s%s",
                 k->type, k->name, k->org, k->ep.scheme, k->ep.host, k->ep.port,
                 strcmp(k->type, "admin") == 0 ? "Role: " : "",
                 strcmp(k->type, "admin") == 0 ? k->role : "",
                 strcmp(k->type, "admin") == 0 ? "\n" : "");
    if (rc == 0)
        rc = put_file(dir, "readme.txt", readme, (size_t)n, 0);
    return rc;
}

static int local_defaults(const char *dir)
{
    static const struct { const char *name, *text; } files[] = {
        {"authorization.json.default", "{\n  \"format_version\": \"1.0\",\n  \"permissions\": {}\n}\n"},
        {"log_config.json.default", "{\n  \"version\": 1,\n  \"disable_existing_loggers\": false\n}\n"},
        {"privacy.json.sample", "{\n  \"scopes\": [],\n  \"default_scope\": \"public\"\n}\n"},
        {"resources.json.default", "{\n  \"format_version\": 2,\n  \"components\": []\n}\n"},
    };
    char local[1400];
    size_t i;
    int rc = 0;

    cli_join(local, sizeof(local), dir, "local");
    if (cli_mkdirs(local, 0755) != 0)
        return cli_fail("cannot create %s: %s", local, strerror(errno));
    for (i = 0; rc == 0 && i < sizeof(files) / sizeof(files[0]); i++)
        rc = put_file(local, files[i].name, files[i].text, strlen(files[i].text), 0);
    return rc;
}

static int build(const char *dir, const pkg_t *k)
{
    char startup[1400], transfer[1400];
    int rc;

    cli_join(startup, sizeof(startup), dir, "startup");
    cli_join(transfer, sizeof(transfer), dir, "transfer");
    if (cli_mkdirs(startup, 0755) != 0 || cli_mkdirs(transfer, 0755) != 0)
        return cli_fail("cannot create %s: %s", startup, strerror(errno));
    if ((rc = fed_json(startup, k)) != 0 || (rc = enrollment_files(startup, k)) != 0 ||
        (k->ca_path != NULL && (rc = root_cert(startup, k->ca_path)) != 0) ||
        (rc = scripts(dir, startup, k)) != 0 || (rc = local_defaults(dir)) != 0)
        return rc;
    return 0;
}

static const char package_usage[] =
    "usage: tokenroll package -n NAME -e ENDPOINT [-t client|relay|admin|server]\n"
    "                         [-o DIR] [--org ORG] [--role ROLE]\n"
    "                         [--listening_host H] [--listening_port P]\n"
    "                         [--cert-service URL] [--token T] [-c CA_PATH]\n"
    "\n"
    "Create a generic startup kit (no key, no certificate) for one participant.\n"
    "  -n, --name         site name, relay name or user e-mail\n"
    "  -e, --endpoint     scheme://host:port or scheme://host:fl_port:admin_port\n"
    "  -t, --type         client (default), relay, admin, server\n"
    "  -o, --output       output folder (default: ./NAME); must not exist\n"
    "  --org              organization (default: org)\n"
    "  --role             role for admin kits (default: lead)\n"
    "  --listening_host   relay listening host (default: localhost)\n"
    "  --listening_port   relay listening port (default: 8002)\n"
    "  --cert-service     certificate service URL -> startup/enrollment.json\n"
    "  --token            enrollment token (or file) -> startup/enrollment_token\n"
    "  -c, --ca_path      provisioned workspace: its rootCA.pem goes into startup/\n";

static int package_run(const cli_args_t *a)
{
    const char *ep = cli_get(a, "endpoint"), *out = cli_get(a, "output"), *lp;
    char tmp[1300];
    struct stat st;
    int64_t port = 8002;
    tkr_subject_type_t kind;
    pkg_t k;
    int rc;

    memset(&k, 0, sizeof(k));
    k.name = cli_get(a, "name");
    k.type = cli_get(a, "type") ? cli_get(a, "type") : "client";
    k.org = cli_get(a, "org") ? cli_get(a, "org") : "org";
    k.role = cli_get(a, "role") ? cli_get(a, "role") : "lead";
    k.listen_host = cli_get(a, "listening_host") ? cli_get(a, "listening_host") : "localhost";
    k.service = cli_get(a, "cert-service");
    k.token = cli_get(a, "token");
    k.ca_path = cli_get(a, "ca_path");
    if (k.name == NULL || ep == NULL)
        return cli_usage_fail(a, "the following arguments are required: -n/--name, -e/--endpoint");
    if (tkr_participant_type_parse(k.type, &kind) != 0)
        return cli_usage_fail(a, "-t must be client, relay, admin or server, not %s", k.type);
    if (k.name[0] == '\0' || strchr(k.name, '/') != NULL || strcmp(k.name, "..") == 0 ||
        strcmp(k.name, ".") == 0)
        return cli_fail("name \"%s\" cannot be a folder name", k.name);
    if (parse_endpoint(&k.ep, ep) != 0)
        return cli_fail("invalid endpoint \"%s\": expected scheme://host:port[:admin_port] "
                        "(scheme grpc, tcp, http or https; port 1..65535)", ep);
    if ((lp = cli_get(a, "listening_port")) != NULL && cli_parse_i64(lp, 1, 65535, &port) != 0)
        return cli_usage_fail(a, "--listening_port must be 1..65535, not %s", lp);
    k.listen_port = (long)port;
    if (out == NULL)
        out = k.name;
    if (stat(out, &st) == 0)
        return cli_fail("%s already exists; remove it or choose another -o", out);
    /* Built beside the target and renamed: never a half-made kit. */
    snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", out, (long)getpid());
    rc = build(tmp, &k);
    if (rc == 0 && rename(tmp, out) != 0)
        rc = cli_fail("cannot rename %s to %s: %s", tmp, out, strerror(errno));
    if (rc != 0) {
        cli_rmtree(tmp);
        return rc;
    }
    printf("Generic %s kit for %s in %s\n", k.type, k.name, out);
    return 0;
}

int cmd_package(int argc, char **argv)
{
    static const cli_opt_t opts[] = {
        {"name", 'n', OPT_VALUE, NULL}, {"endpoint", 'e', OPT_VALUE, NULL},
        {"type", 't', OPT_VALUE, NULL}, {"output", 'o', OPT_VALUE, NULL},
        {"org", 0, OPT_VALUE, NULL}, {"role", 0, OPT_VALUE, NULL},
        {"listening_host", 0, OPT_VALUE, "listening-host"},
        {"listening_port", 0, OPT_VALUE, "listening-port"},
        {"cert-service", 0, OPT_VALUE, "cert_service"}, {"token", 0, OPT_VALUE, NULL},
        {"ca_path", 'c', OPT_VALUE, "ca-path"}, {"project_file", 'p', OPT_VALUE, NULL},
        {NULL, 0, 0, NULL}};
    cli_args_t a;
    int rc = cli_parse(&a, opts, package_usage, argc, argv);

    if (rc != 0)
        return rc < 0 ? 0 : rc;
    if (a.npos != 0)
        return cli_usage_fail(&a, "unexpected argument %s", a.pos[0]);
    return package_run(&a);
}
