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
#include "tokenroll/jwt.h"
#include "tokenroll/policy.h"
#include "tokenroll/token.h"

typedef struct {
    char scheme[16];
    char host[256];          /* without brackets: identity, admin_host */
    char addr[260];          /* host as it goes before ":port": [v6] bracketed */
    long port, admin_port;   /* admin_port 0 when not given */
} endpoint_t;

typedef struct {
    const char *name, *type, *org, *role, *listen_host, *service, *ca_path;
    char *token;             /* checked enrollment token (heap), or NULL */
    long listen_port;
    endpoint_t ep;
} pkg_t;

/* A DNS name or IPv4 address: letters, digits, '-', '.', '_'; not starting
 * with '-' (it would read as an option wherever it is passed on). */
static int valid_host(const char *h)
{
    size_t i, n = strlen(h);

    if (n == 0 || n > 253 || h[0] == '-')
        return 0;
    for (i = 0; i < n; i++) {
        char c = h[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '.' || c == '_'))
            return 0;
    }
    return 1;
}

/* The inside of [...]: hex digits, ':' and '.' (IPv4-mapped), with a ':'. */
static int valid_ipv6(const char *h)
{
    size_t i, n = strlen(h);

    if (n < 2 || n > 45 || strchr(h, ':') == NULL)
        return 0;
    for (i = 0; i < n; i++) {
        char c = h[i];
        if (!((c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') || (c >= '0' && c <= '9') ||
              c == ':' || c == '.'))
            return 0;
    }
    return 1;
}

/* Digits only: strtol would also take " 1" and "+1". */
static int parse_port(const char *s, size_t n, long *out)
{
    long v = 0;
    size_t i;

    if (n == 0 || n > 5)
        return -1;
    for (i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    if (v < 1 || v > 65535)
        return -1;
    *out = v;
    return 0;
}

/* scheme://host:port[:admin_port], host may be [IPv6]. */
static int parse_endpoint(endpoint_t *ep, const char *s)
{
    const char *p = strstr(s, "://"), *h, *colon, *second;
    size_t n;
    int v6 = 0;

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
        v6 = 1;
    } else {
        colon = strchr(h, ':');
        if (colon == NULL)
            return -1;
        n = (size_t)(colon - h);
    }
    if (n == 0 || n >= sizeof(ep->host))
        return -1;
    memcpy(ep->host, h, n);
    if (v6 ? !valid_ipv6(ep->host) : !valid_host(ep->host))
        return -1;
    snprintf(ep->addr, sizeof(ep->addr), v6 ? "[%s]" : "%s", ep->host);
    second = strchr(colon + 1, ':');
    if (parse_port(colon + 1, second ? (size_t)(second - colon - 1) : strlen(colon + 1),
                   &ep->port) != 0)
        return -1;
    if (second != NULL && parse_port(second + 1, strlen(second + 1), &ep->admin_port) != 0)
        return -1;
    return 0;
}

/* Names end up in JSON files, a readme, folder names and certificates:
 * printable, no leading '-', from a plain set of characters. */
static int check_name(const char *opt, const char *s, size_t max, const char *extra)
{
    size_t i, n = strlen(s);

    if (n == 0 || n > max)
        return cli_fail("%s must be 1..%zu characters", opt, max);
    if (s[0] == '-')
        return cli_fail("%s \"%s\" starts with '-'", opt, cli_show(s));
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c >= 0x7f)
            return cli_fail("%s holds a control or non-ASCII character (byte %zu)", opt, i + 1);
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              strchr("-._@+", c) != NULL || (extra != NULL && strchr(extra, c) != NULL)))
            return cli_fail("%s \"%s\": '%c' is not allowed (letters, digits and -._@+%s)",
                            opt, cli_show(s), c, extra != NULL ? extra : "");
    }
    return 0;
}

static int put_file(const char *dir, const char *name, const char *text, size_t len,
                    int secret)
{
    char path[4096];

    if (cli_join(path, sizeof(path), dir, name) != 0)
        return cli_fail("cannot write %s/%s: %s", cli_show(dir), name, strerror(ENAMETOOLONG));
    return cli_out_write(path, text, len, secret ? CLI_OUT_SECRET : 0);
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

    snprintf(sp, sizeof(sp), "%s:%ld:%ld", k->ep.addr, k->ep.port,
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
        snprintf(target, sizeof(target), "%s:%ld", k->ep.addr, k->ep.port);
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
    if (rc == 0 && k->token != NULL)
        rc = put_file(startup, "enrollment_token", k->token, strlen(k->token), 1);
    return rc;
}

/* The kit's token must be one enrollment token for this participant: a
 * wrong file (a CA's cert.json, a whole tokens.csv) must never be copied
 * into a kit that is handed out. Returns a heap copy in *out. */
static int kit_token(char **out, const char *arg, const char *name, const char *type)
{
    static tkr_jwt_t jwt;
    tkr_token_info_t ti;
    tkr_subject_type_t want = TKR_SUBJECT_CLIENT;
    char *tok = cli_read_token(arg, "token"), why[400];
    tkr_diag_t d;
    int rc;

    if (tok == NULL)
        return CLI_EXIT_FAIL;
    tkr_jwt_init(&jwt);
    tkr_diag_clear(&d);
    rc = tkr_jwt_parse(&jwt, tok, strlen(tok), &d);
    if (rc != 0) {
        rc = cli_fail("--token %s is not one enrollment token (a compact JWT): %s: %s",
                      cli_show(arg), tkr_strerror(rc),
                      cli_diag_text(why, sizeof(why), rc, &d));
    } else if ((rc = tkr_token_read(&ti, &jwt)) != 0 || !ti.has_type) {
        rc = cli_fail("--token %s is a JWT but not an enrollment token: %s", cli_show(arg),
                      rc ? tkr_strerror(rc) : "no subject_type claim");
    } else {
        tkr_participant_type_parse(type, &want);
        tkr_diag_clear(&d);
        rc = tkr_token_admits(&ti, name, want, &d);
        if (rc != 0 && strcmp(d.name, "subject_type") == 0)
            rc = cli_fail("--token is a %s token, but this is a %s kit",
                          tkr_subject_type_name(ti.type), type);
        else if (rc != 0)
            rc = cli_fail("--token is for \"%s\", not for \"%s\"", cli_show(ti.subject), name);
        else if (ti.has_exp && ti.exp <= tkr_port_time(cli_port())) {
            char iso[32];
            cli_iso_time(iso, ti.exp);
            fprintf(stderr, "Warning: the token expired at %s; the site cannot enroll with it\n",
                    iso);
        }
    }
    tkr_jwt_free(&jwt);
    if (rc != 0) {
        mbedtls_platform_zeroize(tok, strlen(tok));
        free(tok);
        return rc;
    }
    *out = tok;
    return 0;
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
        "# Starts this participant. It always runs the enrollment first, which\n"
        "# returns at once when a valid certificate is there, finishes a commit a\n"
        "# power cut interrupted, and otherwise enrolls: the token comes from\n"
        "# NVFLARE_ENROLLMENT_TOKEN or startup/enrollment_token, the service from\n"
        "# NVFLARE_CERT_SERVICE_URL or startup/enrollment.json.\n"
        "# Exit: 0 enrolled, 2 pending, 3 rejected, 4 service unreachable, 1 other.\n"
        "set -euo pipefail\n"
        "DIR=$(cd \"$(dirname \"$0\")\" && pwd)\n"
        "exec tokenroll enroll --startup \"$DIR\" \"$@\"\n";
    char readme[2048], path[4096];
    int n, rc;

    rc = put_file(startup, "start.sh", start_sh, sizeof(start_sh) - 1, 0);
    if (rc == 0 && cli_join(path, sizeof(path), startup, "start.sh") != 0)
        rc = cli_fail("cannot write %s/start.sh: %s", cli_show(startup), strerror(ENAMETOOLONG));
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
                 k->type, k->name, k->org, k->ep.scheme, k->ep.addr, k->ep.port,
                 strcmp(k->type, "admin") == 0 ? "Role: " : "",
                 strcmp(k->type, "admin") == 0 ? k->role : "",
                 strcmp(k->type, "admin") == 0 ? "\n" : "");
    if (rc == 0 && (n < 0 || (size_t)n >= sizeof(readme)))
        rc = cli_fail("readme.txt does not fit in %zu bytes", sizeof(readme));
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
    char local[4096];
    size_t i;
    int rc = 0;

    if (cli_join(local, sizeof(local), dir, "local") != 0 || cli_mkdirs(local, 0755) != 0)
        return cli_fail("cannot create %s/local: %s", cli_show(dir), strerror(errno));
    for (i = 0; rc == 0 && i < sizeof(files) / sizeof(files[0]); i++)
        rc = put_file(local, files[i].name, files[i].text, strlen(files[i].text), 0);
    return rc;
}

static int build(const char *dir, const pkg_t *k)
{
    char startup[4096], transfer[4096];
    int rc;

    if (cli_join(startup, sizeof(startup), dir, "startup") != 0 ||
        cli_join(transfer, sizeof(transfer), dir, "transfer") != 0)
        return cli_fail("cannot create %s/startup: %s", cli_show(dir), strerror(ENAMETOOLONG));
    if (cli_mkdirs(startup, 0755) != 0 || cli_mkdirs(transfer, 0755) != 0)
        return cli_fail("cannot create %s: %s", cli_show(startup), strerror(errno));
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
    "  -n, --name         site name, relay name or user e-mail (letters, digits,\n"
    "                     -._@+; not starting with '-')\n"
    "  -e, --endpoint     scheme://host:port or scheme://host:fl_port:admin_port;\n"
    "                     scheme grpc, tcp, http or https; host a name, an IPv4\n"
    "                     address or [IPv6]; ports 1..65535, digits only\n"
    "  -t, --type         client (default), relay, admin, server\n"
    "  -o, --output       output folder (default: ./NAME); must not exist\n"
    "  --org              organization (default: org)\n"
    "  --role             role for admin kits (default: lead)\n"
    "  --listening_host   relay listening host (default: localhost)\n"
    "  --listening_port   relay listening port (default: 8002)\n"
    "  --cert-service     certificate service URL -> startup/enrollment.json\n"
    "  --token            the participant's enrollment token (string or file holding\n"
    "                     exactly one) -> startup/enrollment_token; its subject and\n"
    "                     type must match -n and -t (a pattern token's glob must match)\n"
    "  -c, --ca_path      provisioned workspace: its rootCA.pem goes into startup/\n"
    "  -p, --project_file not supported: package makes one kit from the options\n"
    "                     above (use 'tokenroll provision' for a project file)\n";

/* The kit is built in a new hidden folder beside the target and renamed:
 * never a half-made kit, and a failure removes only that folder. */
static int package_build(const char *out, const pkg_t *k)
{
    char parent[4096], base[256], tmp[4096];
    const char *slash = strrchr(out, '/');
    int rc;

    if (slash != NULL && slash[1] == '\0')
        return cli_fail("-o %s must name the kit folder, not end with '/'", cli_show(out));
    if (slash == NULL) {
        strcpy(parent, ".");
        slash = out - 1;
    } else if ((size_t)(slash - out) >= sizeof(parent)) {
        return cli_fail("cannot create %s: %s", cli_show(out), strerror(ENAMETOOLONG));
    } else {
        memcpy(parent, out, (size_t)(slash - out));
        parent[slash == out ? 1 : slash - out] = '\0';
    }
    if (strlen(slash + 1) >= sizeof(base))
        return cli_fail("cannot create %s: %s", cli_show(out), strerror(ENAMETOOLONG));
    strcpy(base, slash + 1);
    {
        char prefix[sizeof(base) + 1];
        snprintf(prefix, sizeof(prefix), ".%s", base);
        if ((rc = cli_check_leftovers(parent, prefix)) != 0)
            return rc;
    }
    cli_catch_signals();
    if ((rc = cli_make_tmpdir(tmp, sizeof(tmp), parent, base)) != 0)
        return rc;
    return cli_commit_tmpdir(tmp, out, build(tmp, k));
}

static int package_run(const cli_args_t *a, pkg_t *k)
{
    const char *ep = cli_get(a, "endpoint"), *out = cli_get(a, "output"), *lp;
    struct stat st;
    int64_t port = 8002;
    tkr_subject_type_t kind;
    int rc;

    k->name = cli_get(a, "name");
    k->type = cli_get(a, "type") ? cli_get(a, "type") : "client";
    k->org = cli_get(a, "org") ? cli_get(a, "org") : "org";
    k->role = cli_get(a, "role") ? cli_get(a, "role") : "lead";
    k->listen_host = cli_get(a, "listening_host") ? cli_get(a, "listening_host") : "localhost";
    k->service = cli_get(a, "cert-service");
    k->ca_path = cli_get(a, "ca_path");
    if (cli_has(a, "project_file"))
        return cli_usage_fail(a, "-p/--project_file is not supported by package: give -n, -e, "
                                 "-t and --org (or run 'tokenroll provision -p')");
    if (k->name == NULL || ep == NULL)
        return cli_usage_fail(a, "the following arguments are required: -n/--name, -e/--endpoint");
    if (tkr_participant_type_parse(k->type, &kind) != 0)
        return cli_usage_fail(a, "-t must be client, relay, admin or server, not %s", k->type);
    if (k->name[0] == '\0' || strchr(k->name, '/') != NULL || strcmp(k->name, "..") == 0 ||
        strcmp(k->name, ".") == 0)
        return cli_fail("name \"%s\" cannot be a folder name", cli_show(k->name));
    if ((rc = check_name("-n/--name", k->name, 255, NULL)) != 0 ||
        (rc = check_name("--org", k->org, 64, " ")) != 0 ||
        (rc = check_name("--role", k->role, 64, NULL)) != 0)
        return rc;
    if (!valid_host(k->listen_host))
        return cli_fail("--listening_host \"%s\" is not a host name or address",
                        cli_show(k->listen_host));
    if (parse_endpoint(&k->ep, ep) != 0)
        return cli_fail("invalid endpoint \"%s\": expected scheme://host:port[:admin_port] "
                        "(scheme grpc, tcp, http or https; port 1..65535)", cli_show(ep));
    if ((lp = cli_get(a, "listening_port")) != NULL &&
        parse_port(lp, strlen(lp), &k->listen_port) != 0)
        return cli_usage_fail(a, "--listening_port must be 1..65535, not %s", lp);
    if (lp == NULL)
        k->listen_port = (long)port;
    if (out == NULL)
        out = k->name;
    if (lstat(out, &st) == 0)
        return cli_fail("%s already exists; remove it or choose another -o", cli_show(out));
    if (cli_get(a, "token") != NULL &&
        (rc = kit_token(&k->token, cli_get(a, "token"), k->name, k->type)) != 0)
        return rc;
    if ((rc = package_build(out, k)) != 0)
        return rc;
    printf("Generic %s kit for %s in %s\n", k->type, k->name, out);
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
    pkg_t k;
    int rc = cli_parse(&a, opts, package_usage, argc, argv);

    if (rc != 0)
        return rc < 0 ? 0 : rc;
    if (a.npos != 0)
        return cli_usage_fail(&a, "unexpected argument %s", a.pos[0]);
    memset(&k, 0, sizeof(k));
    rc = package_run(&a, &k);
    if (k.token != NULL) {
        mbedtls_platform_zeroize(k.token, strlen(k.token));
        free(k.token);
    }
    return rc;
}
