/* cmd_enroll.c — `tokenroll enroll`: the device's enrollment from its
 * startup kit, the library's tkr_enroll_run with the inputs found where
 * FLARE's client looks for them. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <mbedtls/platform_util.h>

#include "cli.h"
#include "tkr_port_posix.h"
#include "tokenroll/enroll.h"
#include "tokenroll/error.h"
#include "tokenroll/json.h"

/* Exit codes of this command (documented in its usage). Usage mistakes are
 * 1 here, not 2: 2 means "still pending". */
#define EXIT_ENROLLED 0
#define EXIT_FAILED 1
#define EXIT_PENDING 2
#define EXIT_REJECTED 3
#define EXIT_UNREACHABLE 4

static const char enroll_usage[] =
    "usage: tokenroll enroll [--startup DIR] [--name N] [--type client|server|relay|admin]\n"
    "                        [--org O] [--role R] [--service URL]\n"
    "                        [--token T | --token-file F] [--key-type ec|rsa]\n"
    "                        [--wait SECONDS] [--json]\n"
    "\n"
    "Enroll this participant: generate its key pair, send a certificate request\n"
    "with the one-time token to the certificate service and store the signed\n"
    "certificate in the startup folder (client.crt/client.key, server.* for a\n"
    "server). Does nothing when a valid certificate is already there.\n"
    "  --startup DIR   startup folder of the kit (default: startup)\n"
    "  --name N        participant name (default: the token's subject)\n"
    "  --type T        default: from the kit's fed_*.json, else the token\n"
    "  --org, --role   organization; role (users)\n"
    "  --service URL   certificate service (NVFLARE_CERT_SERVICE_URL, else\n"
    "                  startup/enrollment.json cert_service_url)\n"
    "  --token T       token text or file (NVFLARE_ENROLLMENT_TOKEN, else\n"
    "                  startup/enrollment_token); --token-file F: a file\n"
    "  --key-type      ec (P-256, default) or rsa (RSA-2048)\n"
    "  --wait SECONDS  wait this long for approval or for the service (default 300)\n"
    "  --json          print the outcome as JSON\n"
    "The service is trusted through startup/rootCA.pem only.\n"
    "Exit: 0 enrolled or already enrolled, 2 still pending at the deadline,\n"
    "3 rejected (HTTP 403), 4 service unreachable, 1 anything else.\n";

static const cli_opt_t enroll_opts[] = {
    {"startup", 0, OPT_VALUE, NULL},
    {"name", 'n', OPT_VALUE, NULL},
    {"type", 't', OPT_VALUE, NULL},
    {"org", 0, OPT_VALUE, NULL},
    {"role", 0, OPT_VALUE, NULL},
    {"service", 0, OPT_VALUE, "cert-service"},
    {"token", 0, OPT_VALUE, NULL},
    {"token-file", 0, OPT_VALUE, NULL},
    {"key-type", 0, OPT_VALUE, NULL},
    {"wait", 0, OPT_VALUE, NULL},
    {"json", 0, OPT_FLAG, NULL},
    {"insecure-http", 0, OPT_FLAG, NULL}, /* loopback tests only */
    {"now", 0, OPT_VALUE, NULL},          /* pinned clock, for tests */
    {"max-frag-len", 0, OPT_VALUE, NULL},
    {NULL, 0, 0, NULL},
};

static int json_out;

/* The library's lines: progress on stdout (stderr with --json, whose
 * stdout is the JSON alone), warnings on stderr; its error lines are left
 * out because the command prints the one "Error:" line itself. */
static void enroll_log(void *ctx, int level, const char *msg)
{
    (void)ctx;
    if (level == TKR_LOG_INFO)
        fprintf(json_out ? stderr : stdout, "%s\n", msg);
    else if (level == TKR_LOG_WARN)
        fprintf(stderr, "Warning: %s\n", msg);
}

static char *file_in(const char *dir, const char *name, size_t max)
{
    char p[TKR_PATH_MAX];

    if (cli_join(p, sizeof(p), dir, name) != 0)
        return NULL;
    return cli_read_file(p, max, NULL);
}

static int exists_in(const char *dir, const char *name)
{
    char p[TKR_PATH_MAX];
    struct stat st;

    return cli_join(p, sizeof(p), dir, name) == 0 && stat(p, &st) == 0;
}

/* cert_service_url of startup/enrollment.json, copied into out. */
static int service_from_kit(const char *dir, char *out, size_t size)
{
    tkr_json_tok_t tok[64];
    tkr_json_t doc;
    size_t len = 0;
    char *text = file_in(dir, "enrollment.json", 65536);
    int rc = TKR_E_NOT_FOUND, t;

    if (text == NULL)
        return rc;
    len = strlen(text);
    if (tkr_json_parse(&doc, tok, 64, text, len, NULL) == 0 &&
        (t = tkr_json_find(&doc, 0, "cert_service_url")) >= 0)
        rc = tkr_json_get_str(&doc, out, size, NULL, t);
    else
        rc = TKR_E_JSON;
    free(text);
    return rc;
}

static const char *outcome_name(tkr_enroll_outcome_t o)
{
    static const char *const n[] = {"enrolled", "already_enrolled", "pending",
                                    "rejected", "unreachable", "failed"};
    return n[o];
}

static void print_json(const tkr_enroll_result_t *res)
{
    static char buf[4096];
    tkr_jsonw_t w;
    size_t n;

    tkr_jsonw_init(&w, buf, sizeof(buf) - 1, TKR_JSONW_PRETTY);
    tkr_jsonw_obj_begin(&w);
    tkr_jsonw_key(&w, "status");
    tkr_jsonw_str(&w, outcome_name(res->outcome));
    tkr_jsonw_key(&w, "name");
    tkr_jsonw_str(&w, res->name);
    tkr_jsonw_key(&w, "certificate");
    if (res->cert_path[0] != '\0')
        tkr_jsonw_str(&w, res->cert_path);
    else
        tkr_jsonw_null(&w);
    tkr_jsonw_key(&w, "http_status");
    tkr_jsonw_i64(&w, res->http_status);
    tkr_jsonw_key(&w, "attempts");
    tkr_jsonw_i64(&w, res->attempts);
    tkr_jsonw_key(&w, "request_id");
    if (res->request_id[0] != '\0')
        tkr_jsonw_str(&w, res->request_id);
    else
        tkr_jsonw_null(&w);
    tkr_jsonw_key(&w, "message");
    tkr_jsonw_str(&w, res->message);
    tkr_jsonw_obj_end(&w);
    if (tkr_jsonw_finish(&w, &n) == 0)
        printf("%s\n", buf);
}

/* What to do next, as the token-command document's troubleshooting says. */
static void print_hint(int rc, int code)
{
    const char *h = NULL;

    if (code == EXIT_UNREACHABLE)
        h = "Verify network connectivity to the certificate service and its URL "
            "(--service, NVFLARE_CERT_SERVICE_URL, startup/enrollment.json).";
    else if (rc == TKR_E_EXPIRED || rc == TKR_E_NOT_YET_VALID || rc == TKR_E_IAT_FUTURE)
        h = "Check that this machine's clock is synchronized; 'tokenroll token info -t TOKEN' "
            "shows the token's validity; an expired token needs a new one from the admin.";
    else if (rc == TKR_E_SUB)
        h = "The token must name this participant (its subject and type); ask the admin "
            "for a token for this name, or give --name.";
    if (h != NULL)
        fprintf(stderr, "%s\n", h);
}

static tkr_enroll_t ws; /* large: static, as on a device */

int cmd_enroll(int argc, char **argv)
{
    cli_args_t a;
    tkr_enroll_cfg_t cfg;
    tkr_enroll_result_t res;
    tkr_port_t port;
    tkr_posix_tcp_t conn;
    tkr_transport_t tcp;
    const char *dir, *v;
    char service[1024];
    char *token = NULL;
    int64_t wait = 300, now;
    int rc, code;

    rc = cli_parse(&a, enroll_opts, enroll_usage, argc, argv);
    if (rc != 0)
        return rc < 0 ? 0 : EXIT_FAILED;
    json_out = cli_has(&a, "json");
    memset(&cfg, 0, sizeof(cfg));
    dir = cli_get(&a, "startup") ? cli_get(&a, "startup") : "startup";
    cfg.dir = dir;
    cfg.name = cli_get(&a, "name");
    cfg.type = cli_get(&a, "type");
    cfg.org = cli_get(&a, "org");
    cfg.role = cli_get(&a, "role");
    cfg.insecure_http = cli_has(&a, "insecure-http");

    if (cfg.type != NULL && strcmp(cfg.type, "client") != 0 &&
        strcmp(cfg.type, "server") != 0 && strcmp(cfg.type, "relay") != 0 &&
        strcmp(cfg.type, "admin") != 0) {
        cli_usage_fail(&a, "--type must be client, server, relay or admin, not %s", cfg.type);
        return EXIT_FAILED;
    }
    if (cfg.type == NULL) {
        /* The kit says what it is for. */
        static const char *const types[] = {"server", "relay", "admin", "client"};
        size_t i;
        char f[32];
        for (i = 0; i < 4 && cfg.type == NULL; i++) {
            snprintf(f, sizeof(f), "fed_%s.json", types[i]);
            if (exists_in(dir, f))
                cfg.type = types[i];
        }
    }
    v = cli_get(&a, "key-type");
    if (v == NULL || strcmp(v, "ec") == 0) {
        cfg.key_type = TKR_KEY_EC_P256;
    } else if (strcmp(v, "rsa") == 0) {
        cfg.key_type = TKR_KEY_RSA_2048;
    } else {
        cli_usage_fail(&a, "--key-type must be ec or rsa, not %s", v);
        return EXIT_FAILED;
    }
    if ((v = cli_get(&a, "wait")) != NULL && cli_parse_i64(v, 0, 604800, &wait) != 0) {
        cli_usage_fail(&a, "--wait must be seconds (0..604800), not %s", v);
        return EXIT_FAILED;
    }
    cfg.wait_s = (uint32_t)wait;
    if ((v = cli_get(&a, "now")) != NULL) {
        if (cli_parse_i64(v, 0, INT64_MAX / 2, &now) != 0) {
            cli_usage_fail(&a, "--now must be seconds since the epoch, not %s", v);
            return EXIT_FAILED;
        }
        cli_set_now(now);
    }
    if ((v = cli_get(&a, "max-frag-len")) != NULL) {
        int64_t m;
        if (cli_parse_i64(v, 512, 4096, &m) != 0 || (m & (m - 1)) != 0) {
            cli_usage_fail(&a, "--max-frag-len must be 512, 1024, 2048 or 4096, not %s", v);
            return EXIT_FAILED;
        }
        cfg.max_frag_len = (uint16_t)m;
    }

    /* The service: flag, environment, kit. */
    if ((v = cli_get(&a, "service")) != NULL || (v = getenv("NVFLARE_CERT_SERVICE_URL")) != NULL) {
        snprintf(service, sizeof(service), "%s", v);
    } else if (service_from_kit(dir, service, sizeof(service)) != 0) {
        service[0] = '\0';
    }
    cfg.service_url = service[0] ? service : NULL;

    /* The token: flag, environment, kit. Only read when there is no valid
     * certificate yet is not knowable here, so a missing token is the
     * library's to report (an enrolled device needs none). */
    if (cli_has(&a, "token") && cli_has(&a, "token-file")) {
        cli_usage_fail(&a, "give --token or --token-file, not both");
        return EXIT_FAILED;
    }
    if ((v = cli_get(&a, "token")) != NULL || (v = cli_get(&a, "token-file")) != NULL) {
        if ((token = cli_read_token(v, "enrollment token")) == NULL)
            return EXIT_FAILED;
    } else if ((v = getenv("NVFLARE_ENROLLMENT_TOKEN")) != NULL && v[0] != '\0') {
        if ((token = cli_read_token(v, "NVFLARE_ENROLLMENT_TOKEN")) == NULL)
            return EXIT_FAILED;
    } else if (exists_in(dir, "enrollment_token")) {
        char p[TKR_PATH_MAX];
        cli_join(p, sizeof(p), dir, "enrollment_token");
        if ((token = cli_read_token(p, "startup/enrollment_token")) == NULL)
            return EXIT_FAILED;
    }
    cfg.token = token;
    cfg.token_len = token != NULL ? strlen(token) : 0;
    if (!exists_in(dir, "rootCA.pem")) {
        free(token);
        return cli_fail("%s/rootCA.pem is missing: the kit needs the project's root CA "
                        "to trust the certificate service", dir);
    }

    port = *cli_port();
    port.log = enroll_log;
    tkr_posix_tcp_init(&tcp, &conn);
    tkr_enroll_init(&ws);
    rc = tkr_enroll_run(&ws, &res, &cfg, &tcp, &port);
    tkr_enroll_free(&ws);
    if (token != NULL) {
        mbedtls_platform_zeroize(token, strlen(token));
        free(token);
    }
    if (json_out)
        print_json(&res);
    switch (res.outcome) {
    case TKR_ENROLL_ENROLLED:
    case TKR_ENROLL_ALREADY:
        code = rc == 0 ? EXIT_ENROLLED : EXIT_FAILED;
        break;
    case TKR_ENROLL_PENDING:
        code = rc == TKR_E_PENDING ? EXIT_PENDING : EXIT_FAILED;
        if (code == EXIT_PENDING)
            cli_fail("enrollment of %s still pending approval after %lld s%s%s%s",
                     res.name, (long long)wait, res.request_id[0] ? " (request " : "",
                     res.request_id, res.request_id[0] ? ")" : "");
        break;
    case TKR_ENROLL_REJECTED:
        /* 403 is the service's decision about this participant. A 401 (the
         * token: expired by the service's clock, bad signature, spent), 409
         * (already enrolled there) or 400 is a problem to fix, not a
         * verdict: 1, as the same token refused here before sending is. */
        code = res.http_status == 403 ? EXIT_REJECTED : EXIT_FAILED;
        cli_fail("enrollment %s by the certificate service (HTTP %d): %s",
                 code == EXIT_REJECTED ? "rejected" : "refused", res.http_status,
                 res.message);
        print_hint(rc, code);
        return code;
    case TKR_ENROLL_UNREACHABLE:
        code = rc == TKR_E_NET || rc == TKR_E_TIMEOUT ? EXIT_UNREACHABLE : EXIT_FAILED;
        if (code == EXIT_UNREACHABLE)
            cli_fail("certificate service %s unreachable after %d attempt%s: %s",
                     cfg.service_url, res.attempts, res.attempts == 1 ? "" : "s",
                     res.message);
        break;
    default:
        code = EXIT_FAILED;
        break;
    }
    if (code == EXIT_FAILED)
        cli_fail("%s", res.message[0] ? res.message : tkr_strerror(rc));
    print_hint(rc, code);
    return code;
}
