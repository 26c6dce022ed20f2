/* cmd_enrollment.c — `tokenroll enrollment list|info|approve|reject|enrolled`
 * (FLARE's `nvflare enrollment`), the admin's view of the certificate
 * service's pending and enrolled participants, over its API; and `tokenroll
 * cert api-key`, a new key for the service's admin routes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mbedtls/platform_util.h>

#include "cli.h"
#include "remote.h"
#include "tokenroll/b64url.h"
#include "tokenroll/error.h"
#include "tokenroll/json.h"
#include "tokenroll/policy.h"

#define ANSWER_MAX (1u << 20)
#define TOKENS_MAX 16384

static const char enrollment_usage[] =
    "usage: tokenroll enrollment list [--type T] [--json]\n"
    "       tokenroll enrollment info NAME [--type T] [--json]\n"
    "       tokenroll enrollment approve (NAME | --pattern GLOB) [--type T] [--json]\n"
    "       tokenroll enrollment reject NAME [--reason R] [--type T] [--json]\n"
    "       tokenroll enrollment enrolled [--type T] [--json]\n"
    "  common: [--cert-service URL] [--api-key KEY] [--ca-cert FILE] [-c CA_PATH]\n"
    "\n"
    "Requests waiting for approval, and participants enrolled, at the certificate\n"
    "service (NVFLARE_CERT_SERVICE_URL, NVFLARE_API_KEY).\n"
    "  --type T        client, server, relay or admin (default: client for\n"
    "                  info/approve/reject, all for list/enrolled)\n"
    "  --pattern GLOB  approve every pending request whose name matches\n"
    "  --reason R      why a request is rejected (kept by the service)\n"
    "  --ca-cert FILE  root CA for TLS (default: the workspace's from -c or\n"
    "                  NVFLARE_CA_PATH, else startup/rootCA.pem)\n"
    "  --json          print the service's answer as JSON\n";

static const cli_opt_t enrollment_opts[] = {
    {"cert-service", 0, OPT_VALUE, "cert_service"},
    {"api-key", 0, OPT_VALUE, "api_key"},
    {"ca-cert", 0, OPT_VALUE, "ca_cert"},
    {"ca_path", 'c', OPT_VALUE, "ca-path"},
    {"type", 't', OPT_VALUE, NULL},
    {"pattern", 0, OPT_VALUE, NULL},
    {"reason", 0, OPT_VALUE, NULL},
    {"json", 0, OPT_FLAG, NULL},
    {NULL, 0, 0, NULL},
};

typedef struct {
    cli_remote_t r;
    uint8_t *buf;
    tkr_http_response_t resp;
    tkr_json_tok_t *tok;
    tkr_json_t doc;
    int json;
} ctx_t;

static int call(ctx_t *c, const char *method, const char *path, const char *body)
{
    return cli_remote_call(&c->r, method, path, body, c->buf, ANSWER_MAX, &c->resp);
}

static int parse(ctx_t *c)
{
    if (tkr_json_parse(&c->doc, c->tok, TOKENS_MAX, (const char *)c->resp.body,
                       c->resp.body_len, NULL) != 0 ||
        tkr_json_type(&c->doc, 0) != TKR_JSON_OBJECT)
        return cli_fail("the certificate service's answer is not a JSON object");
    return 0;
}

/* The answer as pretty JSON on stdout. */
static int print_json(ctx_t *c)
{
    return cli_remote_print_json(&c->resp);
}

/* A member as text for a table: strings as they are, numbers raw, null and
 * absent as "-". Control characters never reach the terminal. */
static const char *field(ctx_t *c, int obj, const char *key, char *out, size_t size)
{
    int t = tkr_json_find(&c->doc, obj, key);
    size_t n = 0, i;
    const char *raw;

    snprintf(out, size, "-");
    if (t < 0)
        return out;
    switch (tkr_json_type(&c->doc, t)) {
    case TKR_JSON_STRING:
        if (tkr_json_get_str(&c->doc, out, size, NULL, t) != 0)
            snprintf(out, size, "?");
        break;
    case TKR_JSON_NUMBER:
    case TKR_JSON_BOOL:
        raw = tkr_json_raw(&c->doc, &n, t);
        snprintf(out, size, "%.*s", (int)n, raw);
        break;
    default:
        break;
    }
    for (i = 0; out[i] != '\0'; i++)
        if ((unsigned char)out[i] < 0x20 || out[i] == 0x7f)
            out[i] = '?';
    return out;
}

static void time_field(ctx_t *c, int obj, const char *key, char *out)
{
    int t = tkr_json_find(&c->doc, obj, key);
    int64_t v;

    if (t >= 0 && tkr_json_get_i64(&c->doc, &v, t) == 0)
        cli_iso_time(out, v);
    else
        snprintf(out, 32, "-");
}

/* Rows of the array member `key`, with the columns a human needs. */
static int print_table(ctx_t *c, const char *key, int enrolled)
{
    int arr = tkr_json_find(&c->doc, 0, key), i, n;
    char a[256], b[64], d[256], e[256], t1[32];

    if (arr < 0 || tkr_json_type(&c->doc, arr) != TKR_JSON_ARRAY)
        return cli_fail("the certificate service's answer has no \"%s\" list", key);
    n = tkr_json_count(&c->doc, arr);
    if (n == 0) {
        printf(enrolled ? "No enrolled participants.\n" : "No pending enrollment requests.\n");
        return 0;
    }
    if (enrolled)
        printf("%-32s %-8s %-16s %-26s %-8s %s\n", "NAME", "TYPE", "ORG", "ENROLLED", "STATUS",
               "SERIAL");
    else
        printf("%-32s %-8s %-16s %-26s %s\n", "NAME", "TYPE", "ORG", "SUBMITTED", "RULE");
    for (i = 0; i < n; i++) {
        int o = tkr_json_child(&c->doc, arr, i);
        if (o < 0 || tkr_json_type(&c->doc, o) != TKR_JSON_OBJECT)
            continue;
        time_field(c, o, enrolled ? "enrolled_at" : "created_at", t1);
        printf("%-32s %-8s %-16s %-26s ", field(c, o, "name", a, sizeof(a)),
               field(c, o, "entity_type", b, sizeof(b)), field(c, o, "org", d, sizeof(d)), t1);
        if (enrolled)
            printf("%-8s ", field(c, o, "status", b, sizeof(b)));
        printf("%s\n", field(c, o, enrolled ? "serial" : "rule", e, sizeof(e)));
    }
    return 0;
}

static void print_detail(ctx_t *c)
{
    static const char *const keys[] = {"name", "entity_type", "org", "role", "status",
                                       "rule", "source_ip", "request_id"};
    char v[512], t[32];
    size_t i;

    for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
        printf("%-12s %s\n", keys[i], field(c, 0, keys[i], v, sizeof(v)));
    time_field(c, 0, "created_at", t);
    printf("%-12s %s\n", "submitted", t);
    time_field(c, 0, "expires_at", t);
    printf("%-12s %s\n", "expires", t);
}

/* "?entity_type=T" or "". Types are one of four words: no escaping. */
static int type_query(const cli_args_t *a, char *out, size_t size, int need)
{
    const char *t = cli_get(a, "type");

    out[0] = '\0';
    if (t == NULL && need)
        t = "client";
    if (t == NULL)
        return 0;
    if (strcmp(t, "client") != 0 && strcmp(t, "server") != 0 && strcmp(t, "relay") != 0 &&
        strcmp(t, "admin") != 0)
        return cli_usage_fail(a, "--type must be client, server, relay or admin, not %s", t);
    snprintf(out, size, "?entity_type=%s", t);
    return 0;
}

/* Names go into the path: the service's names are letters, digits and
 * "-_.@"; anything else is refused here rather than escaped. */
static int name_ok(const char *n)
{
    size_t i;

    if (n == NULL || n[0] == '\0' || strlen(n) > 255)
        return 0;
    for (i = 0; n[i] != '\0'; i++)
        if (!((n[i] >= 'a' && n[i] <= 'z') || (n[i] >= 'A' && n[i] <= 'Z') ||
              (n[i] >= '0' && n[i] <= '9') || strchr("-_.@", n[i]) != NULL))
            return 0;
    return 1;
}

static int body_with(char *out, size_t size, const cli_args_t *a, const char *k,
                     const char *v, const tkr_json_t *names, int names_arr)
{
    tkr_jsonw_t w;
    size_t n;

    tkr_jsonw_init(&w, out, size - 1, 0);
    tkr_jsonw_obj_begin(&w);
    if (cli_get(a, "type") != NULL) {
        tkr_jsonw_key(&w, "entity_type");
        tkr_jsonw_str(&w, cli_get(a, "type"));
    }
    if (k != NULL) {
        tkr_jsonw_key(&w, k);
        tkr_jsonw_str(&w, v);
    }
    if (names != NULL) {
        tkr_jsonw_key(&w, "names");
        tkr_jsonw_value(&w, names, names_arr);
    }
    tkr_jsonw_obj_end(&w);
    return tkr_jsonw_finish(&w, &n);
}

/* approve --pattern: the pending names that match, then one batch. */
static int approve_pattern(ctx_t *c, const cli_args_t *a, const char *glob)
{
    static char body[1 << 16];
    static char match_doc[1 << 16];
    char q[64], path[128], name[256];
    tkr_jsonw_t w;
    tkr_json_t names;
    tkr_json_tok_t ntok[1100];
    size_t n;
    int arr, i, count = 0, rc;

    if (tkr_glob_check(glob) != 0)
        return cli_usage_fail(a, "--pattern \"%s\" is not a valid glob pattern", glob);
    if ((rc = type_query(a, q, sizeof(q), 0)) != 0)
        return rc;
    snprintf(path, sizeof(path), "/api/v1/pending%s", q);
    if ((rc = call(c, "GET", path, NULL)) != 0 || (rc = parse(c)) != 0)
        return rc;
    arr = tkr_json_find(&c->doc, 0, "pending");
    if (arr < 0 || tkr_json_type(&c->doc, arr) != TKR_JSON_ARRAY)
        return cli_fail("the certificate service's answer has no \"pending\" list");
    tkr_jsonw_init(&w, match_doc, sizeof(match_doc) - 1, 0);
    tkr_jsonw_arr_begin(&w);
    for (i = 0; i < tkr_json_count(&c->doc, arr) && count < 1000; i++) {
        int o = tkr_json_child(&c->doc, arr, i), t = tkr_json_find(&c->doc, o, "name");
        if (t < 0 || tkr_json_get_str(&c->doc, name, sizeof(name), NULL, t) != 0)
            continue;
        if (tkr_glob_match(glob, name)) {
            tkr_jsonw_str(&w, name);
            count++;
        }
    }
    tkr_jsonw_arr_end(&w);
    if (tkr_jsonw_finish(&w, &n) != 0)
        return cli_fail("too many matching names");
    if (count == 0) {
        printf("No pending enrollment request matches %s.\n", glob);
        return 0;
    }
    if (tkr_json_parse(&names, ntok, 1100, match_doc, n, NULL) != 0 ||
        body_with(body, sizeof(body), a, NULL, NULL, &names, 0) != 0)
        return cli_fail("too many matching names");
    if ((rc = call(c, "POST", "/api/v1/pending/approve_batch", body)) != 0 ||
        (rc = parse(c)) != 0)
        return rc;
    if (c->json)
        return print_json(c);
    arr = tkr_json_find(&c->doc, 0, "results");
    for (i = 0; arr >= 0 && i < tkr_json_count(&c->doc, arr); i++) {
        int o = tkr_json_child(&c->doc, arr, i);
        char st[64], why[512];
        printf("%s: %s", field(c, o, "name", name, sizeof(name)),
               field(c, o, "status", st, sizeof(st)));
        if (tkr_json_find(&c->doc, o, "error") >= 0)
            printf(" (%s)", field(c, o, "error", why, sizeof(why)));
        printf("\n");
    }
    return 0;
}

static int run(ctx_t *c, const cli_args_t *a, const char *verb)
{
    char q[64], path[512], body[2048], v[256];
    const char *name = a->npos > 1 ? a->pos[1] : NULL;
    int rc, decide = strcmp(verb, "approve") == 0 || strcmp(verb, "reject") == 0;

    if (strcmp(verb, "list") == 0 || strcmp(verb, "enrolled") == 0) {
        if (a->npos > 1)
            return cli_usage_fail(a, "%s takes no name", verb);
        if ((rc = type_query(a, q, sizeof(q), 0)) != 0)
            return rc;
        snprintf(path, sizeof(path), "/api/v1/%s%s", verb[0] == 'l' ? "pending" : "enrolled", q);
        if ((rc = call(c, "GET", path, NULL)) != 0 || (rc = parse(c)) != 0)
            return rc;
        return c->json ? print_json(c) : print_table(c, verb[0] == 'l' ? "pending" : "enrolled",
                                                     verb[0] == 'e');
    }
    if (strcmp(verb, "approve") == 0 && cli_get(a, "pattern") != NULL) {
        if (name != NULL)
            return cli_usage_fail(a, "give a NAME or --pattern, not both");
        return approve_pattern(c, a, cli_get(a, "pattern"));
    }
    if (strcmp(verb, "info") != 0 && !decide)
        return cli_usage_fail(a, "unknown enrollment command '%s'", verb);
    if (name == NULL || a->npos > 2)
        return cli_usage_fail(a, "%s needs one NAME", verb);
    if (!name_ok(name))
        return cli_fail("\"%s\" is not a participant name (letters, digits, - _ . @)", name);
    if (cli_get(a, "reason") != NULL && strcmp(verb, "reject") != 0)
        return cli_usage_fail(a, "--reason goes with reject");
    if ((rc = type_query(a, q, sizeof(q), 1)) != 0)
        return rc;
    if (!decide) {
        snprintf(path, sizeof(path), "/api/v1/pending/%s%s", name, q);
        if ((rc = call(c, "GET", path, NULL)) != 0 || (rc = parse(c)) != 0)
            return rc;
        if (c->json)
            return print_json(c);
        print_detail(c);
        return 0;
    }
    snprintf(path, sizeof(path), "/api/v1/pending/%s/%s", name, verb);
    if (body_with(body, sizeof(body), a, cli_get(a, "reason") ? "reason" : NULL,
                  cli_get(a, "reason"), NULL, 0) != 0)
        return cli_fail("--reason is too long or not UTF-8");
    if ((rc = call(c, "POST", path, body)) != 0 || (rc = parse(c)) != 0)
        return rc;
    if (c->json)
        return print_json(c);
    printf("%s: %s\n", name, field(c, 0, "status", v, sizeof(v)));
    return 0;
}

int cmd_enrollment(int argc, char **argv)
{
    cli_args_t a;
    ctx_t c;
    int rc = cli_parse(&a, enrollment_opts, enrollment_usage, argc, argv);

    if (rc != 0)
        return rc < 0 ? 0 : rc;
    if (a.npos < 1)
        return cli_usage_fail(&a, "an enrollment command is needed: list, info, approve, "
                                  "reject or enrolled");
    memset(&c, 0, sizeof(c));
    c.json = cli_has(&a, "json");
    if ((rc = cli_remote_open(&c.r, cli_get(&a, "cert-service"), cli_get(&a, "api-key"),
                              cli_get(&a, "ca-cert"), cli_get(&a, "ca_path"))) != 0) {
        cli_remote_close(&c.r);
        return rc;
    }
    c.buf = malloc(ANSWER_MAX);
    c.tok = malloc(TOKENS_MAX * sizeof(*c.tok));
    if (c.buf == NULL || c.tok == NULL)
        rc = cli_fail("out of memory");
    else
        rc = run(&c, &a, a.pos[0]);
    free(c.buf);
    free(c.tok);
    cli_remote_close(&c.r);
    return rc;
}

/* ---- cert api-key ---- */

int cmd_cert_api_key(int argc, char **argv)
{
    static const cli_opt_t opts[] = {{"json", 0, OPT_FLAG, NULL}, {NULL, 0, 0, NULL}};
    static const char usage[] =
        "usage: tokenroll cert api-key\n"
        "\n"
        "Print a new random API key for the certificate service's admin routes\n"
        "(32 bytes from the system's CSPRNG, base64url): set it as the service's\n"
        "api_key / NVFLARE_API_KEY and give it to the admin commands.\n";
    cli_args_t a;
    uint8_t raw[32];
    char key[TKR_B64URL_ENCODED_LEN(32) + 1];
    size_t n;
    int rc = cli_parse(&a, opts, usage, argc, argv);

    if (rc != 0)
        return rc < 0 ? 0 : rc;
    if (a.npos != 0)
        return cli_usage_fail(&a, "api-key takes no arguments");
    if (tkr_port_rng((void *)cli_port(), raw, sizeof(raw)) != 0)
        return cli_fail("the system's random source failed");
    rc = tkr_b64url_encode(key, sizeof(key), &n, raw, sizeof(raw));
    mbedtls_platform_zeroize(raw, sizeof(raw));
    if (rc != 0)
        return cli_fail("cannot encode the key");
    key[n] = '\0';
    printf("%s\n", key);
    mbedtls_platform_zeroize(key, sizeof(key));
    return 0;
}
