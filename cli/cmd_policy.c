/* cmd_policy.c — `tokenroll policy check|eval|yaml2json`: validate an
 * enrollment policy, decide a request the way the certificate service
 * will, and show the JSON a token signs for a YAML file. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_jwt.h"
#include "tokenroll/envref.h"
#include "tokenroll/error.h"
#include "tokenroll/json.h"
#include "tokenroll/jwt.h"
#include "tokenroll/policy.h"
#include "tokenroll/yaml.h"

/* One token per process: static, since tkr_jwt_t is ~25 KiB. */
static tkr_jwt_t jwt;

static const char usage[] =
    "usage: tokenroll policy <check|eval|yaml2json> ...\n"
    "\n"
    "  check FILE [--json-claim]      validate a policy; print its model\n"
    "  check --token TOKEN|FILE       validate the policy a token carries\n"
    "  eval FILE --name N [...]       decide an enrollment request\n"
    "  yaml2json FILE                 any YAML document as the JSON a token signs\n"
    "\n"
    "FILE is a YAML file, '-' for standard input, or 'default' for the built-in\n"
    "default policy (write ./default for a file of that name).\n"
    "Run 'tokenroll policy <command> --help' for a command's options.\n";

/* ---- loading ---- */

static int report(const char *file, int rc, const tkr_diag_t *err)
{
    const char *msg = err->msg[0] ? err->msg : tkr_strerror(rc);

    if (err->line > 0)
        return cli_fail("%s:%d:%d: %s", file, err->line, err->column, msg);
    return cli_fail("%s: %s", file, msg);
}

static char *read_input(const char *file, size_t *len)
{
    char *text = cli_read_file(strcmp(file, "-") == 0 ? "/dev/stdin" : file,
                               TKR_YAML_LEN_MAX, len);
    if (text == NULL)
        cli_fail("cannot read %s: %s", file, cli_io_error());
    return text;
}

static int load_file(tkr_policy_t *p, const char *file)
{
    tkr_diag_t err;
    size_t len;
    char *text;
    int rc;

    memset(&err, 0, sizeof(err));
    if (strcmp(file, "default") == 0) {
        rc = tkr_policy_load_default(p);
        return rc == 0 ? 0 : cli_fail("the built-in policy failed to load: %s", tkr_strerror(rc));
    }
    if ((text = read_input(file, &len)) == NULL)
        return CLI_EXIT_FAIL;
    rc = tkr_policy_load_yaml(p, text, len, file, &err);
    free(text);
    return rc == 0 ? 0 : report(file, rc, &err);
}

/* The policy claim of a token (signature not checked: this is a viewer). */
static int load_token(tkr_policy_t *p, const char *arg)
{
    tkr_diag_t err;
    int rc, t;

    if ((rc = cli_jwt_load(&jwt, arg, "token")) != 0)
        return rc;
    t = tkr_jwt_claim(&jwt, "policy");
    if (t < 0)
        return cli_fail("the token has no policy claim");
    if (tkr_json_type(&jwt.doc, t) != TKR_JSON_OBJECT)
        return cli_fail("the token's policy claim is not a JSON object");
    memset(&err, 0, sizeof(err));
    rc = tkr_policy_load_json(p, &jwt.doc, t, &err);
    return rc == 0 ? 0 : report("token policy claim", rc, &err);
}

/* ---- environment references ---- */

/* The process environment, for ${NAME} references (the library reads
 * none itself). */
static const char *env_get(void *ctx, const char *name)
{
    (void)ctx;
    return getenv(name);
}

static void env_warn(void *ctx, const tkr_diag_t *w)
{
    const char *file = ctx;

    if (w->line > 0)
        fprintf(stderr, "Warning: %s:%d:%d: %s\n", file, w->line, w->column, w->msg);
    else
        fprintf(stderr, "Warning: %s: %s\n", file, w->msg);
}

/* Unset variables and references that stay text: warnings; an expanded
 * value that would be invalid written literally: an error. */
static int check_env(const tkr_policy_t *p, const char *file)
{
    const tkr_envref_env_t env = {env_get, NULL};
    tkr_diag_t err;
    int rc = tkr_policy_check_env(p, &env, file, env_warn, (void *)file, &err);

    return rc == 0 ? 0 : report(file, rc, &err);
}

/* ---- check ---- */

static void write_strs(tkr_jsonw_t *w, char *const *v, size_t n)
{
    size_t i;
    tkr_jsonw_arr_begin(w);
    for (i = 0; i < n; i++)
        tkr_jsonw_str(w, v[i]);
    tkr_jsonw_arr_end(w);
}

static void write_rule(tkr_jsonw_t *w, const tkr_policy_rule_t *r)
{
    char cidr[TKR_CIDR_STR_MAX];
    size_t i;

    tkr_jsonw_obj_begin(w);
    tkr_jsonw_key(w, "name");
    tkr_jsonw_str(w, r->name);
    tkr_jsonw_key(w, "description");
    tkr_jsonw_str(w, r->description);
    tkr_jsonw_key(w, "match");
    tkr_jsonw_obj_begin(w);
    if (r->site_name_pattern != NULL) {
        tkr_jsonw_key(w, "site_name_pattern");
        tkr_jsonw_str(w, r->site_name_pattern);
    }
    if (r->source_ips != NULL) {
        tkr_jsonw_key(w, "source_ips");
        tkr_jsonw_arr_begin(w);
        for (i = 0; i < r->n_source_ips; i++)
            if (tkr_cidr_format(cidr, sizeof(cidr), &r->source_ips[i]) == 0)
                tkr_jsonw_str(w, cidr);
        tkr_jsonw_arr_end(w);
    }
    tkr_jsonw_obj_end(w);
    tkr_jsonw_key(w, "action");
    tkr_jsonw_str(w, tkr_policy_action_name(r->action));
    tkr_jsonw_key(w, "message");
    tkr_jsonw_str(w, r->message);
    tkr_jsonw_key(w, "notify");
    write_strs(w, r->notify, r->n_notify);
    tkr_jsonw_obj_end(w);
}

/* The model with every default filled in, as pretty JSON. */
static int write_model(char *buf, size_t size, const tkr_policy_t *p)
{
    tkr_jsonw_t w;
    size_t i;

    tkr_jsonw_init(&w, buf, size, TKR_JSONW_PRETTY);
    tkr_jsonw_obj_begin(&w);
    tkr_jsonw_key(&w, "metadata");
    tkr_jsonw_obj_begin(&w);
    tkr_jsonw_key(&w, "project");
    tkr_jsonw_str(&w, p->project);
    tkr_jsonw_key(&w, "description");
    tkr_jsonw_str(&w, p->description);
    tkr_jsonw_key(&w, "version");
    tkr_jsonw_str(&w, p->version);
    tkr_jsonw_obj_end(&w);
    tkr_jsonw_key(&w, "token");
    tkr_jsonw_obj_begin(&w);
    tkr_jsonw_key(&w, "validity_seconds");
    tkr_jsonw_i64(&w, p->validity);
    tkr_jsonw_key(&w, "max_uses");
    tkr_jsonw_i64(&w, p->max_uses);
    tkr_jsonw_obj_end(&w);
    tkr_jsonw_key(&w, "site");
    tkr_jsonw_obj_begin(&w);
    tkr_jsonw_key(&w, "name_pattern");
    tkr_jsonw_str(&w, p->site_name_pattern);
    tkr_jsonw_obj_end(&w);
    tkr_jsonw_key(&w, "user");
    tkr_jsonw_obj_begin(&w);
    tkr_jsonw_key(&w, "allowed_roles");
    write_strs(&w, p->allowed_roles, p->n_allowed_roles);
    tkr_jsonw_key(&w, "default_role");
    tkr_jsonw_str(&w, p->default_role);
    tkr_jsonw_obj_end(&w);
    tkr_jsonw_key(&w, "approval");
    tkr_jsonw_obj_begin(&w);
    tkr_jsonw_key(&w, "method");
    tkr_jsonw_str(&w, p->approval_method);
    tkr_jsonw_key(&w, "rules");
    tkr_jsonw_arr_begin(&w);
    for (i = 0; i < p->n_rules; i++)
        write_rule(&w, &p->rules[i]);
    tkr_jsonw_arr_end(&w);
    tkr_jsonw_obj_end(&w);
    tkr_jsonw_key(&w, "notifications");
    tkr_jsonw_obj_begin(&w);
    tkr_jsonw_key(&w, "enabled");
    tkr_jsonw_bool(&w, p->notifications_enabled);
    tkr_jsonw_key(&w, "email_enabled");
    tkr_jsonw_bool(&w, p->email_enabled);
    tkr_jsonw_key(&w, "webhook_enabled");
    tkr_jsonw_bool(&w, p->webhook_enabled);
    tkr_jsonw_key(&w, "webhook_url");
    tkr_jsonw_str(&w, p->webhook_url);
    tkr_jsonw_obj_end(&w);
    tkr_jsonw_obj_end(&w);
    return tkr_jsonw_finish(&w, NULL);
}

static int print_model(const tkr_policy_t *p)
{
    size_t size = 8192 + p->json_len * 8;
    char *buf;
    int rc;

    for (;;) {
        if ((buf = malloc(size)) == NULL)
            return cli_fail("out of memory");
        rc = write_model(buf, size, p);
        if (rc != TKR_E_BUFFER_TOO_SMALL || size > (64u << 20))
            break;
        free(buf);
        size *= 2;
    }
    if (rc == 0)
        puts(buf);
    free(buf);
    return rc == 0 ? 0 : cli_fail("cannot print the policy: %s", tkr_strerror(rc));
}

static const char check_usage[] =
    "usage: tokenroll policy check FILE [--json-claim]\n"
    "       tokenroll policy check --token TOKEN|FILE [--json-claim]\n"
    "\n"
    "Validate an enrollment policy completely (unknown keys, types, durations,\n"
    "glob patterns, CIDRs, actions, roles). Exit 0 and print the policy's model\n"
    "with every default filled in (approval.method included), as JSON; exit 1\n"
    "with \"Error: FILE:LINE:COLUMN: message\" at the first problem.\n"
    "${NAME} references in the notification settings are checked with this\n"
    "environment, expanded as the service will expand them: an expanded value\n"
    "must be valid as if written literally; a variable that is not set is a\n"
    "\"Warning: FILE:LINE:COLUMN: ...\" and the check still succeeds. The\n"
    "token's claim (--json-claim) keeps the text as written.\n"
    "  --json-claim      print instead the policy as a token's \"policy\" claim\n"
    "                    carries it: compact ASCII JSON, keys in file order,\n"
    "                    byte-identical to Python's\n"
    "                    json.dumps(yaml.safe_load(FILE), separators=(',', ':'))\n"
    "  --token TOKEN     check the policy claim of a token (string or file;\n"
    "                    the signature is not verified)\n"
    "FILE may be '-' (standard input) or 'default' (the built-in policy).\n";

static int policy_check(int argc, char **argv)
{
    static const cli_opt_t opts[] = {{"json-claim", 0, OPT_FLAG, NULL},
                                     {"token", 0, OPT_VALUE, NULL},
                                     {NULL, 0, 0, NULL}};
    tkr_policy_t p;
    cli_args_t a;
    int rc = cli_parse(&a, opts, check_usage, argc, argv);

    if (rc != 0)
        return rc < 0 ? 0 : rc;
    if (cli_get(&a, "token") != NULL ? a.npos != 0 : a.npos != 1)
        return cli_usage_fail(&a, "expected one FILE, or --token");
    tkr_policy_init(&p);
    rc = cli_get(&a, "token") != NULL ? load_token(&p, cli_get(&a, "token"))
                                      : load_file(&p, a.pos[0]);
    if (rc == 0)
        rc = check_env(&p, cli_get(&a, "token") != NULL ? "token policy claim" : a.pos[0]);
    if (rc == 0) {
        if (cli_has(&a, "json-claim")) {
            fwrite(p.json, 1, p.json_len, stdout);
            putchar('\n');
        } else {
            rc = print_model(&p);
        }
    }
    tkr_policy_free(&p);
    return rc;
}

/* ---- eval ---- */

static const char eval_usage[] =
    "usage: tokenroll policy eval (FILE | --token TOKEN|FILE) --name NAME\n"
    "                             [--type client|admin|relay|server] [--ip ADDR]\n"
    "                             [--role ROLE] [--token-roles R ...]\n"
    "                             [--token-source-ips CIDR ...] [--json]\n"
    "\n"
    "Decide an enrollment request as the certificate service will: roles (admin\n"
    "type only), the token's roles and source_ips claims, then the rules in\n"
    "order (first match wins; no rules: approve; no match: reject). Prints the\n"
    "action, the deciding rule and its message; exits 0 whatever the action.\n"
    "  --name NAME              the enrollment name (site name or user e-mail)\n"
    "  --type T                 client (default), admin (or user), relay, server\n"
    "  --ip ADDR                the request's source address (IPv4 or IPv6)\n"
    "  --role ROLE              requested role (admin; default: the policy's)\n"
    "  --token-roles R ...      the token's roles claim\n"
    "  --token-source-ips C ... the token's source_ips claim\n"
    "  --token TOKEN            take the policy, roles and source_ips from a\n"
    "                           token's claims (signature not verified)\n"
    "  --json                   print {\"action\", \"rule\", \"message\"}\n";

static void print_decision(const tkr_policy_decision_t *d, int json)
{
    char buf[2048];
    tkr_jsonw_t w;

    if (!json) {
        printf("action: %s\nrule: %s\n", tkr_policy_action_name(d->action), d->rule);
        if (d->message != NULL)
            printf("message: %s\n", d->message);
        return;
    }
    tkr_jsonw_init(&w, buf, sizeof(buf), TKR_JSONW_ASCII);
    tkr_jsonw_obj_begin(&w);
    tkr_jsonw_key(&w, "action");
    tkr_jsonw_str(&w, tkr_policy_action_name(d->action));
    tkr_jsonw_key(&w, "rule");
    tkr_jsonw_str(&w, d->rule);
    tkr_jsonw_key(&w, "message");
    tkr_jsonw_str(&w, d->message);
    tkr_jsonw_obj_end(&w);
    if (tkr_jsonw_finish(&w, NULL) == 0)
        puts(buf);
}

static int policy_eval(int argc, char **argv)
{
    static const cli_opt_t opts[] = {{"name", 'n', OPT_VALUE, NULL},
                                     {"type", 't', OPT_VALUE, NULL},
                                     {"ip", 0, OPT_VALUE, NULL},
                                     {"role", 'r', OPT_VALUE, NULL},
                                     {"token-roles", 0, OPT_LIST, NULL},
                                     {"token-source-ips", 0, OPT_LIST, NULL},
                                     {"token", 0, OPT_VALUE, NULL},
                                     {"json", 0, OPT_FLAG, NULL},
                                     {NULL, 0, 0, NULL}};
    tkr_policy_request_t req;
    tkr_policy_decision_t d;
    tkr_policy_t p;
    cli_args_t a;
    char **list;
    size_t i;
    int rc = cli_parse(&a, opts, eval_usage, argc, argv), n;
    const char *token = NULL, *type;
    tkr_diag_t diag;

    if (rc != 0)
        return rc < 0 ? 0 : rc;
    token = cli_get(&a, "token");
    if (token != NULL ? a.npos != 0 : a.npos != 1)
        return cli_usage_fail(&a, "expected one FILE, or --token");
    if (cli_get(&a, "name") == NULL)
        return cli_usage_fail(&a, "--name is required");
    memset(&req, 0, sizeof(req));
    req.name = cli_get(&a, "name");
    type = cli_get(&a, "type");
    req.ip = cli_get(&a, "ip");
    req.role = cli_get(&a, "role");
    if (type != NULL && (tkr_subject_type_parse(type, &req.type) != 0 ||
                         req.type == TKR_SUBJECT_PATTERN))
        return cli_usage_fail(&a, "--type must be client, admin (or user), relay or server, not %s",
                              type);
    if (req.ip != NULL && !tkr_ip_valid(req.ip))
        return cli_usage_fail(&a, "--ip: \"%s\" is not an IPv4 or IPv6 address", req.ip);
    if (token != NULL && (cli_has(&a, "token-roles") || cli_has(&a, "token-source-ips")))
        return cli_usage_fail(&a, "--token brings its own roles and source_ips claims");

    tkr_policy_init(&p);
    rc = token != NULL ? load_token(&p, token) : load_file(&p, a.pos[0]);
    if (rc != 0)
        goto out;
    if (token != NULL) {
        tkr_diag_clear(&diag);
        rc = tkr_policy_request_from_token(&req, &jwt, &diag);
        if (rc == TKR_E_NO_MEMORY) {
            rc = cli_fail("out of memory");
            goto out;
        }
        if (rc != 0) {
            rc = cli_fail("the token's roles and source_ips claims must be lists of strings");
            goto out;
        }
    } else {
        if ((n = cli_list(&a, "token-roles", &list)) > 0) {
            req.token_roles = (const char *const *)list;
            req.n_token_roles = (size_t)n;
        }
        if ((n = cli_list(&a, "token-source-ips", &list)) > 0) {
            req.token_source_ips = (const char *const *)list;
            req.n_token_source_ips = (size_t)n;
            for (i = 0; i < (size_t)n; i++) {
                tkr_cidr_t c;
                if (tkr_cidr_parse(&c, list[i], strlen(list[i])) != 0) {
                    rc = cli_usage_fail(&a, "--token-source-ips: \"%s\" is not a CIDR", list[i]);
                    goto out;
                }
            }
        }
    }
    rc = tkr_policy_eval(&p, &req, &d);
    if (rc != 0) {
        rc = cli_fail("cannot evaluate: %s", tkr_strerror(rc));
        goto out;
    }
    print_decision(&d, cli_has(&a, "json"));
out:
    tkr_policy_request_free(&req);
    tkr_policy_free(&p);
    return rc;
}

/* ---- yaml2json ---- */

static const char yaml2json_usage[] =
    "usage: tokenroll policy yaml2json FILE\n"
    "\n"
    "Print any YAML document (not only a policy) as the compact JSON a token's\n"
    "policy claim holds: YAML 1.1 scalars as PyYAML reads them (yes/on/off are\n"
    "booleans, 1.0 a float, 1e3 a string, 017 octal, ~ null), anchors and merge\n"
    "keys expanded, keys in file order, ASCII-escaped; byte-identical to\n"
    "python3 -c 'import json,sys,yaml; print(json.dumps(yaml.safe_load(\n"
    "open(sys.argv[1],\"rb\")), separators=(\",\",\":\")))' FILE\n"
    "A date, a repeated key, an unsupported tag or a syntax error is an error\n"
    "with its line and column.\n";

static int policy_yaml2json(int argc, char **argv)
{
    static const cli_opt_t opts[] = {{NULL, 0, 0, NULL}};
    tkr_yaml_doc_t doc;
    tkr_diag_t err;
    cli_args_t a;
    size_t len, jlen = 0;
    char *text, *json;
    int rc = cli_parse(&a, opts, yaml2json_usage, argc, argv);

    if (rc != 0)
        return rc < 0 ? 0 : rc;
    if (a.npos != 1)
        return cli_usage_fail(&a, "expected one FILE");
    if ((text = read_input(a.pos[0], &len)) == NULL)
        return CLI_EXIT_FAIL;
    tkr_yaml_init(&doc);
    memset(&err, 0, sizeof(err));
    rc = tkr_yaml_load(&doc, text, len, a.pos[0], &err);
    free(text);
    if (rc != 0)
        return report(a.pos[0], rc, &err);
    rc = tkr_yaml_to_json(NULL, 0, &jlen, doc.root);
    json = rc == TKR_E_BUFFER_TOO_SMALL ? malloc(jlen + 1) : NULL;
    if (json == NULL) {
        tkr_yaml_free(&doc);
        return cli_fail("%s: cannot write JSON: %s", a.pos[0],
                        tkr_strerror(rc == TKR_E_BUFFER_TOO_SMALL ? TKR_E_TOO_LARGE : rc));
    }
    rc = tkr_yaml_to_json(json, jlen + 1, &jlen, doc.root);
    if (rc == 0) {
        fwrite(json, 1, jlen, stdout);
        putchar('\n');
    }
    free(json);
    tkr_yaml_free(&doc);
    return rc == 0 ? 0 : cli_fail("%s: cannot write JSON: %s", a.pos[0], tkr_strerror(rc));
}

int cmd_policy(int argc, char **argv)
{
    static const struct {
        const char *name;
        int (*run)(int, char **);
    } subs[] = {{"check", policy_check}, {"eval", policy_eval}, {"yaml2json", policy_yaml2json}};
    size_t i;

    if (argc < 1) {
        fputs(usage, stderr);
        return CLI_EXIT_USAGE;
    }
    if (strcmp(argv[0], "-h") == 0 || strcmp(argv[0], "--help") == 0 ||
        strcmp(argv[0], "help") == 0) {
        fputs(usage, stdout);
        return 0;
    }
    for (i = 0; i < sizeof(subs) / sizeof(subs[0]); i++)
        if (strcmp(argv[0], subs[i].name) == 0)
            return subs[i].run(argc - 1, argv + 1);
    fprintf(stderr, "Error: unknown policy command '%s'\n%s", argv[0], usage);
    return CLI_EXIT_USAGE;
}
