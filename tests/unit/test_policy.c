/* test_policy.c — the enrollment policy: validation with positions, the
 * built-in default against FLARE's own token, evaluation with FLARE's
 * semantics (CertService.evaluate_policy) plus the token's roles and
 * source_ips claims, and the glob, CIDR and duration helpers.
 *
 * Compatibility vectors: tests/vectors/flare/fixed_site-1.jwt and
 * fixed_admin.jwt were minted by FLARE's TokenService with the default
 * policy; their "policy" claim is what json.dumps(yaml.safe_load()) wrote.
 * The custom policy is the token-command document's "Custom Policy". */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tokenroll/b64url.h"
#include "tokenroll/envref.h"
#include "tokenroll/error.h"
#include "tokenroll/json.h"
#include "tokenroll/jwt.h"
#include "tokenroll/policy.h"
#include "tokenroll/token.h"
#include "policy/arena.h"

static const char custom_policy[] =
    "metadata:\n"
    "  project: \"my-federation\"\n"
    "  description: \"Production enrollment policy\"\n"
    "  version: \"1.0\"\n"
    "\n"
    "token:\n"
    "  validity: 7d\n"
    "  max_uses: 1\n"
    "\n"
    "site:\n"
    "  name_pattern: \"hospital-*\"\n"
    "\n"
    "user:\n"
    "  allowed_roles:\n"
    "    - lead\n"
    "    - member\n"
    "    - org_admin\n"
    "  default_role: lead\n"
    "\n"
    "approval:\n"
    "  method: policy\n"
    "  rules:\n"
    "    - name: \"internal-auto-approve\"\n"
    "      description: \"Auto-approve from internal network\"\n"
    "      match:\n"
    "        site_name_pattern: \"hospital-*\"\n"
    "        source_ips:\n"
    "          - \"10.0.0.0/8\"\n"
    "          - \"172.16.0.0/12\"\n"
    "      action: approve\n"
    "\n"
    "    - name: \"external-pending\"\n"
    "      description: \"Require manual approval for external\"\n"
    "      match:\n"
    "        site_name_pattern: \"*\"\n"
    "      action: pending\n"
    "\n"
    "notifications:\n"
    "  enabled: true\n"
    "  channels:\n"
    "    email:\n"
    "      enabled: true\n";

static tkr_jwt_t jwt;

static void load(tkr_policy_t *p, const char *yaml)
{
    tkr_diag_t err;
    int rc;

    tkr_policy_init(p);
    rc = tkr_policy_load_yaml(p, yaml, strlen(yaml), "p.yaml", &err);
    if (rc != 0)
        fail_msg("policy failed (%d) at %d:%d: %s\n--\n%s", rc, err.line, err.column, err.msg, yaml);
}

/* The policy must be refused at line:column with `what` in the message. */
static void refused(const char *yaml, int rc, int line, int column, const char *what)
{
    tkr_policy_t p;
    tkr_diag_t err;
    int got;

    tkr_policy_init(&p);
    got = tkr_policy_load_yaml(&p, yaml, strlen(yaml), "bad.yaml", &err);
    if (got != rc || err.line != line || err.column != column || strstr(err.msg, what) == NULL)
        fail_msg("got %d at %d:%d \"%s\"; want %d at %d:%d with \"%s\"\n--\n%s", got, err.line,
                 err.column, err.msg, rc, line, column, what, yaml);
    assert_string_equal(err.file, "bad.yaml");
    assert_null(p.json);
    assert_null(p.arena);
}

typedef struct {
    const char *name, *type, *ip, *role;
    tkr_policy_action_t action;
    const char *rule;
} case_t;

static void decide_all(const tkr_policy_t *p, const case_t *c, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        tkr_policy_request_t req;
        tkr_policy_decision_t d;
        memset(&req, 0, sizeof(req));
        req.name = c[i].name;
        if (c[i].type != NULL)
            assert_int_equal(tkr_subject_type_parse(c[i].type, &req.type), 0);
        req.ip = c[i].ip;
        req.role = c[i].role;
        assert_int_equal(tkr_policy_eval(p, &req, &d), 0);
        if (d.action != c[i].action || strcmp(d.rule, c[i].rule) != 0)
            fail_msg("case %zu (%s, %s, %s, %s): got %s/%s, want %s/%s", i, c[i].name,
                     c[i].type ? c[i].type : "-", c[i].ip ? c[i].ip : "-",
                     c[i].role ? c[i].role : "-", tkr_policy_action_name(d.action), d.rule,
                     tkr_policy_action_name(c[i].action), c[i].rule);
    }
}

static char *read_vector(const char *path)
{
    FILE *f = fopen(path, "rb");
    char *buf;
    size_t n;

    assert_non_null(f);
    buf = calloc(1, 65536);
    assert_non_null(buf);
    n = fread(buf, 1, 65535, f);
    fclose(f);
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r' || buf[n - 1] == ' '))
        buf[--n] = '\0';
    return buf;
}

/* ---- the built-in default against FLARE ---- */

static void check_claim_equals_default(const char *vector)
{
    char *tok = read_vector(vector);
    const char *raw;
    size_t len;
    int t;
    tkr_policy_t p;

    tkr_jwt_init(&jwt);
    assert_int_equal(tkr_jwt_parse(&jwt, tok, strlen(tok), NULL), 0);
    t = tkr_jwt_claim(&jwt, "policy");
    assert_true(t > 0);
    raw = tkr_json_raw(&jwt.doc, &len, t);
    tkr_policy_init(&p);
    assert_int_equal(tkr_policy_load_default(&p), 0);
    assert_int_equal(p.json_len, len);
    assert_memory_equal(p.json, raw, len);
    tkr_policy_free(&p);
    free(tok);
}

static void test_default_policy_json_is_flare_claim_byte_for_byte(void **state)
{
    (void)state;
    check_claim_equals_default("tests/vectors/flare/fixed_site-1.jwt");
    check_claim_equals_default("tests/vectors/flare/fixed_admin.jwt");
}

static void test_default_policy_model(void **state)
{
    tkr_policy_t p;

    (void)state;
    tkr_policy_init(&p);
    assert_int_equal(tkr_policy_load_default(&p), 0);
    assert_string_equal(p.project, "nvflare-default");
    assert_string_equal(p.version, "1.0");
    assert_true(p.validity == 7 * 86400);
    assert_true(p.max_uses == 1);
    assert_string_equal(p.site_name_pattern, "*");
    assert_int_equal(p.n_allowed_roles, 3);
    assert_string_equal(p.allowed_roles[0], "lead");
    assert_string_equal(p.allowed_roles[2], "org_admin");
    assert_string_equal(p.default_role, "lead");
    assert_string_equal(p.approval_method, "policy");
    assert_int_equal(p.n_rules, 1);
    assert_string_equal(p.rules[0].name, "auto-approve-all");
    assert_int_equal(p.rules[0].action, TKR_ACTION_APPROVE);
    assert_null(p.rules[0].site_name_pattern);
    assert_null(p.rules[0].source_ips);
    assert_int_equal(p.notifications_enabled, 0);
    tkr_policy_free(&p);
    tkr_policy_free(&p);
}

static void test_claim_loads_back_to_the_same_json_and_model(void **state)
{
    static tkr_json_tok_t toks[512];
    tkr_policy_t a, b;
    tkr_json_t doc;
    tkr_diag_t err;

    (void)state;
    load(&a, custom_policy);
    assert_int_equal(tkr_json_parse(&doc, toks, 512, a.json, a.json_len, NULL), 0);
    tkr_policy_init(&b);
    assert_int_equal(tkr_policy_load_json(&b, &doc, 0, &err), 0);
    assert_int_equal(a.json_len, b.json_len);
    assert_memory_equal(a.json, b.json, a.json_len);
    assert_int_equal(b.n_rules, 2);
    assert_int_equal(b.rules[0].n_source_ips, 2);
    assert_int_equal(b.rules[1].action, TKR_ACTION_PENDING);
    assert_string_equal(b.site_name_pattern, "hospital-*");
    assert_int_equal(b.notifications_enabled, 1);
    assert_int_equal(b.email_enabled, 1);
    assert_int_equal(a.rules[0].line, 23);
    assert_int_equal(a.rules[0].column, 7);
    assert_int_equal(b.rules[0].line, 0); /* JSON has no lines */
    tkr_policy_free(&a);
    tkr_policy_free(&b);
}

static void test_json_claim_errors_name_the_member_path(void **state)
{
    static const char bad[] = "{\"token\":{\"validity\":\"7x\"}}";
    static const char bad2[] = "{\"approval\":{\"rules\":[{\"name\":\"r\",\"action\":\"yes\"}]}}";
    static tkr_json_tok_t toks[64];
    tkr_policy_t p;
    tkr_json_t doc;
    tkr_diag_t err;

    (void)state;
    tkr_policy_init(&p);
    assert_int_equal(tkr_json_parse(&doc, toks, 64, bad, strlen(bad), NULL), 0);
    assert_int_equal(tkr_policy_load_json(&p, &doc, 0, &err), TKR_E_POLICY);
    assert_int_equal(err.line, 0);
    assert_non_null(strstr(err.msg, "token.validity"));
    assert_int_equal(tkr_json_parse(&doc, toks, 64, bad2, strlen(bad2), NULL), 0);
    assert_int_equal(tkr_policy_load_json(&p, &doc, 0, &err), TKR_E_POLICY);
    assert_non_null(strstr(err.msg, "approval.rules[0].action"));
    assert_null(p.arena);
}

/* ---- validation: every kind of error, with its position ---- */

static void test_unknown_keys_are_errors(void **state)
{
    (void)state;
    refused("metadata:\n  project: x\nfoo: 1\n", TKR_E_POLICY, 3, 1, "unknown key \"foo\"");
    refused("metadata:\n  projct: x\n", TKR_E_POLICY, 2, 3,
            "metadata: unknown key \"projct\" (expected project, description or version)");
    refused("approval:\n  rules:\n    - name: a\n      acton: approve\n", TKR_E_POLICY, 4, 7,
            "approval.rules[0]: unknown key \"acton\"");
    refused("approval:\n  rules:\n    - action: approve\n      match:\n        source_ip: [\"10.0.0.0/8\"]\n",
            TKR_E_POLICY, 5, 9, "unknown key \"source_ip\"");
    refused("notifications:\n  channels:\n    sms: {enabled: true}\n", TKR_E_POLICY, 3, 5,
            "expected email or webhook");
}

static void test_wrong_types_are_errors(void **state)
{
    (void)state;
    refused("token:\n  max_uses: one\n", TKR_E_POLICY, 2, 13, "expected an integer");
    refused("token:\n  max_uses: 0\n", TKR_E_POLICY, 2, 13, "at least 1");
    refused("token:\n  max_uses: yes\n", TKR_E_POLICY, 2, 13, "found a boolean");
    refused("user:\n  allowed_roles: lead\n", TKR_E_POLICY, 2, 18, "expected a list of strings");
    refused("user:\n  allowed_roles: [lead, 1]\n", TKR_E_POLICY, 2, 25, "allowed_roles[1]: expected a string");
    refused("user:\n  allowed_roles: []\n", TKR_E_POLICY, 2, 18, "at least one role");
    refused("metadata: [a]\n", TKR_E_POLICY, 1, 11, "metadata: expected a mapping");
    refused("metadata:\n  project: 12\n", TKR_E_POLICY, 2, 12, "expected a string, found an integer");
    refused("metadata:\n  version: .inf\n", TKR_E_POLICY, 2, 12, "finite number");
    refused("notifications:\n  enabled: \"yes\"\n", TKR_E_POLICY, 2, 12, "expected true or false");
    refused("approval:\n  rules: {}\n", TKR_E_POLICY, 2, 10, "expected a list of rules");
    refused("approval:\n  rules:\n    - approve\n", TKR_E_POLICY, 3, 7, "expected a mapping");
    refused("approval:\n  rules:\n    - action: pending\n      notify: admin@example.com\n",
            TKR_E_POLICY, 4, 15, "notify: expected a list of strings");
    refused("notifications:\n  channels:\n    webhook:\n      url: ftp://x\n", TKR_E_POLICY, 4, 12,
            "not an http:// or https:// URL");
    refused("notifications:\n  channels:\n    email:\n      smtp_config: {host: [a]}\n",
            TKR_E_POLICY, 4, 27, "expected a string, number or boolean");
    refused("- a\n", TKR_E_POLICY, 1, 1, "must be a mapping");
    refused("", TKR_E_POLICY, 1, 1, "empty");
}

static void test_bad_durations_are_errors(void **state)
{
    (void)state;
    refused("token:\n  validity: 7x\n", TKR_E_POLICY, 2, 13, "\"7x\" is not a duration");
    refused("token:\n  validity: 3600\n", TKR_E_POLICY, 2, 13, "not a duration");
    refused("token:\n  validity: d\n", TKR_E_POLICY, 2, 13, "not a duration");
    refused("token:\n  validity: 0d\n", TKR_E_POLICY, 2, 13, "longer than 0");
    refused("token:\n  validity: -1d\n", TKR_E_POLICY, 2, 13, "not a duration");
}

static void test_bad_globs_are_errors(void **state)
{
    (void)state;
    refused("site:\n  name_pattern: \"hospital-[\"\n", TKR_E_POLICY, 2, 17, "not a valid glob");
    refused("site:\n  name_pattern: \"\"\n", TKR_E_POLICY, 2, 17, "empty");
    refused("approval:\n  rules:\n    - action: approve\n      match:\n        site_name_pattern: \"[^a]*\"\n",
            TKR_E_POLICY, 5, 28, "[!...]");
    refused("approval:\n  rules:\n    - action: approve\n      match: {site_name_pattern: \"[z-a]\"}\n",
            TKR_E_POLICY, 4, 34, "runs backwards");
    refused("site:\n  name_pattern: \"site\\\\\"\n", TKR_E_POLICY, 2, 17, "lone");
}

static void test_bad_cidrs_are_errors(void **state)
{
    static const char head[] = "approval:\n  rules:\n    - action: approve\n      match:\n        source_ips:\n";
    static const char *const bad[] = {"10.0.0.0/33", "10.0.0.256/8", "010.0.0.0/8", "10.0.0/8",
                                      "10.0.0.0/", "10.0.0.0/08", "2001:db8::/129", "2001:db8:::1/64",
                                      "fe80::1%eth0", "1:2:3:4:5:6:7:8:9", "::1::", "hospital",
                                      "10.0.0.0/8 ", "1:2:3:4:5:6:7:8::/64"};
    char yaml[512];
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        snprintf(yaml, sizeof(yaml), "%s          - \"%s\"\n", head, bad[i]);
        refused(yaml, TKR_E_POLICY, 6, 13, "is not a CIDR");
    }
    snprintf(yaml, sizeof(yaml), "%s          - 10\n", head);
    refused(yaml, TKR_E_POLICY, 6, 13, "expected a CIDR string");
    refused("approval:\n  rules:\n    - action: approve\n      match:\n        source_ips: []\n",
            TKR_E_POLICY, 5, 21, "never match");
}

static void test_missing_or_unknown_action_is_an_error(void **state)
{
    (void)state;
    refused("approval:\n  rules:\n    - name: first\n      action: approve\n    - name: second\n"
            "      match: {}\n",
            TKR_E_POLICY, 5, 7, "approval.rules[1] (\"second\"): missing action");
    refused("approval:\n  rules:\n    - name: r\n      action: aprove\n", TKR_E_POLICY, 4, 15,
            "unknown action \"aprove\" (expected approve, pending or reject)");
    refused("approval:\n  rules:\n    - name: r\n      action: yes\n", TKR_E_POLICY, 4, 15,
            "unknown action a boolean");
}

static void test_default_role_outside_allowed_roles_is_an_error(void **state)
{
    (void)state;
    refused("user:\n  allowed_roles: [lead, member]\n  default_role: org_admin\n", TKR_E_POLICY, 3,
            17, "\"org_admin\" is not one of user.allowed_roles (lead, member)");
    /* Without allowed_roles, the default roles apply. */
    refused("user:\n  default_role: researcher\n", TKR_E_POLICY, 2, 17,
            "(lead, member, org_admin)");
}

static void test_yaml_errors_reach_the_caller_with_position(void **state)
{
    (void)state;
    refused("metadata:\n  version: 2024-01-01\n", TKR_E_POLICY, 2, 12, "timestamp");
    refused("token: {validity: 7d\n", TKR_E_YAML, 2, 1, "expected ',' or '}'");
    refused("token:\n  validity: 7d\n  validity: 8d\n", TKR_E_POLICY, 3, 3, "duplicate key");
}

static void test_versions_numbers_and_defaults(void **state)
{
    tkr_policy_t p;

    (void)state;
    load(&p, "metadata:\n  version: 1.0\n");
    assert_string_equal(p.version, "1.0"); /* kept as written */
    assert_string_equal(p.json, "{\"metadata\":{\"version\":1.0}}"); /* PyYAML's float */
    assert_true(p.validity == 7 * 86400);
    assert_string_equal(p.default_role, "lead");
    assert_int_equal(p.n_rules, 0);
    tkr_policy_free(&p);
    load(&p, "metadata:\n  version: 2\ntoken:\n  validity: 24h\n  max_uses: 5\n"
             "user:\n  allowed_roles: [member, lead]\n");
    assert_string_equal(p.version, "2");
    assert_true(p.validity == 86400);
    assert_true(p.max_uses == 5);
    assert_string_equal(p.default_role, "member"); /* the first allowed role */
    tkr_policy_free(&p);
    load(&p, "approval:\n  rules:\n    - action: reject\n      match:\n");
    assert_string_equal(p.rules[0].name, "unnamed");
    assert_null(p.rules[0].site_name_pattern);
    tkr_policy_free(&p);
}

/* ---- evaluation ---- */

static void test_eval_flare_custom_policy(void **state)
{
    static const case_t c[] = {
        {"hospital-1", NULL, "10.1.2.3", NULL, TKR_ACTION_APPROVE, "internal-auto-approve"},
        {"hospital-1", "client", "172.31.255.255", NULL, TKR_ACTION_APPROVE, "internal-auto-approve"},
        {"hospital-1", "client", "172.32.0.1", NULL, TKR_ACTION_PENDING, "external-pending"},
        {"hospital-1", "client", "8.8.8.8", NULL, TKR_ACTION_PENDING, "external-pending"},
        /* a rule with source_ips needs the address */
        {"hospital-1", "client", NULL, NULL, TKR_ACTION_PENDING, "external-pending"},
        /* both conditions of a rule must hold: name and address */
        {"clinic-1", "client", "10.0.0.1", NULL, TKR_ACTION_PENDING, "external-pending"},
        {"hospital-2", "relay", "10.9.9.9", NULL, TKR_ACTION_APPROVE, "internal-auto-approve"},
    };
    tkr_policy_t p;

    (void)state;
    load(&p, custom_policy);
    decide_all(&p, c, sizeof(c) / sizeof(c[0]));
    tkr_policy_free(&p);
}

static void test_eval_first_match_fall_through_and_default_deny(void **state)
{
    static const char y[] =
        "approval:\n  rules:\n"
        "    - {name: block-test, match: {site_name_pattern: \"test-*\"}, action: reject, message: no tests}\n"
        "    - {name: prod, match: {site_name_pattern: \"*-prod\"}, action: approve}\n"
        "    - {name: staging, match: {site_name_pattern: \"*staging*\"}, action: pending}\n"
        "    - {name: exact, match: {site_name_pattern: hospital-1}, action: approve}\n"
        "    - {name: also-prod, match: {site_name_pattern: \"*-prod\"}, action: reject}\n";
    static const case_t c[] = {
        {"test-prod", NULL, NULL, NULL, TKR_ACTION_REJECT, "block-test"},  /* first match wins */
        {"site-prod", NULL, NULL, NULL, TKR_ACTION_APPROVE, "prod"},       /* falls through one */
        {"-prod", NULL, NULL, NULL, TKR_ACTION_APPROVE, "prod"},
        {"site-prod-2", NULL, NULL, NULL, TKR_ACTION_REJECT, "default-deny"},
        {"eu-staging-1", NULL, NULL, NULL, TKR_ACTION_PENDING, "staging"},
        {"staging", NULL, NULL, NULL, TKR_ACTION_PENDING, "staging"},
        {"Staging", NULL, NULL, NULL, TKR_ACTION_REJECT, "default-deny"},  /* case-sensitive */
        {"hospital-1", NULL, NULL, NULL, TKR_ACTION_APPROVE, "exact"},
        {"hospital-10", NULL, NULL, NULL, TKR_ACTION_REJECT, "default-deny"},
        {"hospital-", NULL, NULL, NULL, TKR_ACTION_REJECT, "default-deny"},
    };
    tkr_policy_t p;
    tkr_policy_request_t req;
    tkr_policy_decision_t d;

    (void)state;
    load(&p, y);
    decide_all(&p, c, sizeof(c) / sizeof(c[0]));
    memset(&req, 0, sizeof(req));
    req.name = "test-1";
    assert_int_equal(tkr_policy_eval(&p, &req, &d), 0);
    assert_string_equal(d.message, "no tests");
    req.name = "nobody";
    assert_int_equal(tkr_policy_eval(&p, &req, &d), 0);
    assert_string_equal(d.message, "No matching rule found");
    tkr_policy_free(&p);
}

static void test_eval_no_rules_approves_and_empty_match_matches_all(void **state)
{
    static const case_t c[] = {{"anything", NULL, NULL, NULL, TKR_ACTION_APPROVE, "default"}};
    static const case_t c2[] = {{"anything", NULL, "::1", NULL, TKR_ACTION_PENDING, "all"}};
    tkr_policy_t p;

    (void)state;
    load(&p, "approval:\n  method: policy\n  rules: []\n");
    decide_all(&p, c, 1);
    tkr_policy_free(&p);
    load(&p, "metadata: {project: x}\n");
    decide_all(&p, c, 1);
    tkr_policy_free(&p);
    load(&p, "approval:\n  rules:\n    - {name: all, match: {}, action: pending}\n");
    decide_all(&p, c2, 1);
    tkr_policy_free(&p);
}

static void test_eval_ip_ranges_v4_v6_and_cgnat(void **state)
{
    static const char y[] =
        "approval:\n  rules:\n"
        "    - {name: cgnat, match: {source_ips: [100.64.0.0/10]}, action: approve}\n"
        "    - {name: v6, match: {source_ips: [\"2001:db8::/32\", \"fd00::/8\"]}, action: pending}\n"
        "    - {name: lan, match: {source_ips: [192.168.1.77/24]}, action: approve}\n";
    static const case_t c[] = {
        {"s", NULL, "100.64.0.1", NULL, TKR_ACTION_APPROVE, "cgnat"},
        {"s", NULL, "100.127.255.255", NULL, TKR_ACTION_APPROVE, "cgnat"},
        {"s", NULL, "100.128.0.0", NULL, TKR_ACTION_REJECT, "default-deny"},
        {"s", NULL, "100.63.255.255", NULL, TKR_ACTION_REJECT, "default-deny"},
        {"s", NULL, "::ffff:100.64.1.1", NULL, TKR_ACTION_APPROVE, "cgnat"}, /* IPv4-mapped */
        {"s", NULL, "::ffff:6440:0101", NULL, TKR_ACTION_APPROVE, "cgnat"},
        {"s", NULL, "2001:db8::1", NULL, TKR_ACTION_PENDING, "v6"},
        {"s", NULL, "2001:DB8:ffff:ffff:ffff:ffff:ffff:ffff", NULL, TKR_ACTION_PENDING, "v6"},
        {"s", NULL, "2001:db9::1", NULL, TKR_ACTION_REJECT, "default-deny"},
        {"s", NULL, "fdab::1:2", NULL, TKR_ACTION_PENDING, "v6"},
        {"s", NULL, "192.168.1.200", NULL, TKR_ACTION_APPROVE, "lan"}, /* host bits cleared */
        {"s", NULL, "192.168.2.1", NULL, TKR_ACTION_REJECT, "default-deny"},
        {"s", NULL, "not-an-ip", NULL, TKR_ACTION_REJECT, "default-deny"},
        {"s", NULL, NULL, NULL, TKR_ACTION_REJECT, "default-deny"},
    };
    tkr_policy_t p;

    (void)state;
    load(&p, y);
    decide_all(&p, c, sizeof(c) / sizeof(c[0]));
    tkr_policy_free(&p);
}

static void test_eval_roles_for_users_only(void **state)
{
    static const case_t c[] = {
        {"admin@example.com", "admin", NULL, "lead", TKR_ACTION_APPROVE, "auto-approve-all"},
        {"admin@example.com", "user", NULL, "member", TKR_ACTION_APPROVE, "auto-approve-all"},
        {"admin@example.com", "admin", NULL, NULL, TKR_ACTION_APPROVE, "auto-approve-all"},
        {"admin@example.com", "admin", NULL, "researcher", TKR_ACTION_REJECT, "role-constraint"},
        {"admin@example.com", "admin", NULL, "project_admin", TKR_ACTION_REJECT, "role-constraint"},
        /* clients, relays and servers have no role to check */
        {"site-1", "client", NULL, "researcher", TKR_ACTION_APPROVE, "auto-approve-all"},
        {"relay-1", "relay", NULL, "researcher", TKR_ACTION_APPROVE, "auto-approve-all"},
        {"server1", "server", NULL, "nobody", TKR_ACTION_APPROVE, "auto-approve-all"},
    };
    tkr_policy_t p;

    (void)state;
    tkr_policy_init(&p);
    assert_int_equal(tkr_policy_load_default(&p), 0);
    decide_all(&p, c, sizeof(c) / sizeof(c[0]));
    tkr_policy_free(&p);
}

static void test_eval_token_roles_and_source_ips_claims(void **state)
{
    static const char *const lead[] = {"lead"}, *const member[] = {"member"};
    static const char *const nets[] = {"10.0.0.0/8", "2001:db8::/32"};
    tkr_policy_request_t req;
    tkr_policy_decision_t d;
    tkr_policy_t p;

    (void)state;
    tkr_policy_init(&p);
    assert_int_equal(tkr_policy_load_default(&p), 0);
    memset(&req, 0, sizeof(req));
    req.name = "admin@example.com";
    req.type = TKR_SUBJECT_ADMIN;
    req.role = "lead";
    req.token_roles = lead;
    req.n_token_roles = 1;
    assert_int_equal(tkr_policy_eval(&p, &req, &d), 0);
    assert_int_equal(d.action, TKR_ACTION_APPROVE);
    req.token_roles = member;
    assert_int_equal(tkr_policy_eval(&p, &req, &d), 0);
    assert_int_equal(d.action, TKR_ACTION_REJECT);
    assert_string_equal(d.rule, "token-roles");
    req.n_token_roles = 0; /* a claim present but empty allows nothing */
    assert_int_equal(tkr_policy_eval(&p, &req, &d), 0);
    assert_string_equal(d.rule, "token-roles");
    req.token_roles = NULL; /* absent: not checked */
    assert_int_equal(tkr_policy_eval(&p, &req, &d), 0);
    assert_int_equal(d.action, TKR_ACTION_APPROVE);

    memset(&req, 0, sizeof(req));
    req.name = "site-1";
    req.token_source_ips = nets;
    req.n_token_source_ips = 2;
    req.ip = "10.20.30.40";
    assert_int_equal(tkr_policy_eval(&p, &req, &d), 0);
    assert_int_equal(d.action, TKR_ACTION_APPROVE);
    req.ip = "2001:db8:1::5";
    assert_int_equal(tkr_policy_eval(&p, &req, &d), 0);
    assert_int_equal(d.action, TKR_ACTION_APPROVE);
    req.ip = "192.168.0.1";
    assert_int_equal(tkr_policy_eval(&p, &req, &d), 0);
    assert_int_equal(d.action, TKR_ACTION_REJECT);
    assert_string_equal(d.rule, "token-source-ips");
    req.ip = NULL;
    assert_int_equal(tkr_policy_eval(&p, &req, &d), 0);
    assert_string_equal(d.rule, "token-source-ips");
    /* roles are ignored for clients, even against the token's claim */
    req.ip = "10.0.0.1";
    req.role = "researcher";
    req.token_roles = lead;
    req.n_token_roles = 1;
    assert_int_equal(tkr_policy_eval(&p, &req, &d), 0);
    assert_int_equal(d.action, TKR_ACTION_APPROVE);

    req.type = TKR_SUBJECT_PATTERN;
    assert_int_equal(tkr_policy_eval(&p, &req, &d), TKR_E_INVALID_ARG);
    req.type = (tkr_subject_type_t)7;
    assert_int_equal(tkr_policy_eval(&p, &req, &d), TKR_E_INVALID_ARG);
    req.type = TKR_SUBJECT_CLIENT;
    req.name = NULL;
    assert_int_equal(tkr_policy_eval(&p, &req, &d), TKR_E_INVALID_ARG);
    tkr_policy_free(&p);
}

/* ---- FLARE's own example policies (tests/vectors/flare/policies) ---- */

#define FP "tests/vectors/flare/policies/"

static void load_file(tkr_policy_t *p, const char *path)
{
    char *text = read_vector(path);
    tkr_diag_t err;
    int rc;

    tkr_policy_init(p);
    rc = tkr_policy_load_yaml(p, text, strlen(text), path, &err);
    if (rc != 0)
        fail_msg("%s refused (%d) at %d:%d: %s", path, rc, err.line, err.column, err.msg);
    free(text);
}

/* The token's policy claim, loaded as the service loads it. */
static void load_claim(tkr_policy_t *p, const char *token_path, const char **raw, size_t *len)
{
    char *tok = read_vector(token_path);
    tkr_diag_t err;
    int t;

    tkr_jwt_init(&jwt);
    assert_int_equal(tkr_jwt_parse(&jwt, tok, strlen(tok), NULL), 0);
    free(tok);
    t = tkr_jwt_claim(&jwt, "policy");
    assert_true(t > 0);
    *raw = tkr_json_raw(&jwt.doc, len, t);
    tkr_policy_init(p);
    if (tkr_policy_load_json(p, &jwt.doc, t, &err) != 0)
        fail_msg("%s: claim refused: %s", token_path, err.msg);
}

static void test_flare_example_policies_load_unchanged(void **state)
{
    tkr_policy_t p;

    (void)state;
    load_file(&p, FP "auto_approve.yaml");
    assert_string_equal(p.approval_method, "policy");
    assert_string_equal(p.default_role, "researcher");
    assert_int_equal(p.n_rules, 1);
    assert_null(p.smtp_config);
    tkr_policy_free(&p);

    load_file(&p, FP "hospital_network.yaml");
    assert_true(p.validity == 14 * 86400);
    assert_int_equal(p.n_allowed_roles, 3);
    assert_int_equal(p.n_rules, 5);
    assert_string_equal(p.rules[3].notify[0], "network-admin@healthcare.org");
    /* references kept as written: expanded only where used */
    assert_string_equal(p.webhook_url, "${SLACK_WEBHOOK_URL}");
    assert_non_null(p.smtp_config);
    assert_int_equal(p.smtp_config->kind, TKR_YAML_STR);
    assert_string_equal(p.smtp_config->str, "${SMTP_CONFIG_PATH}");
    assert_int_equal(p.smtp_config->line, 69);
    assert_int_equal(p.smtp_config->column, 20);
    assert_int_equal(p.webhook_enabled, 1);
    tkr_policy_free(&p);

    load_file(&p, FP "ip_whitelist.yaml");
    assert_string_equal(p.webhook_url, "${WEBHOOK_URL}");
    assert_int_equal(p.webhook_enabled, 0);
    assert_int_equal(p.rules[0].n_source_ips, 3);
    assert_int_equal(p.rules[1].n_source_ips, 2);
    assert_null(p.rules[2].source_ips);
    tkr_policy_free(&p);

    load_file(&p, FP "manual_approval.yaml");
    assert_string_equal(p.approval_method, "manual");
    assert_true(p.validity == 30 * 86400);
    assert_int_equal(p.rules[0].action, TKR_ACTION_PENDING);
    assert_null(p.webhook_url);
    tkr_policy_free(&p);
}

/* FLARE's TokenService signed json.dumps(yaml.safe_load(file)): the same
 * bytes, ${...} and all, and the claim loads back to the same model. */
static void test_flare_tokens_carry_our_claim_byte_for_byte(void **state)
{
    static const char *const pairs[][2] = {
        {FP "ip_whitelist.yaml", FP "fixed_ip_whitelist_dc-01.jwt"},
        {FP "hospital_network.yaml", FP "fixed_hospital_network_hospital-7.jwt"},
        {FP "manual_approval.yaml", FP "fixed_manual_approval_admin.jwt"},
    };
    tkr_policy_t p, q;
    const char *raw;
    size_t i, len;

    (void)state;
    for (i = 0; i < 3; i++) {
        load_file(&p, pairs[i][0]);
        load_claim(&q, pairs[i][1], &raw, &len);
        if (p.json_len != len || memcmp(p.json, raw, len) != 0)
            fail_msg("%s: claim differs from %s\nours:  %s\nFLARE: %.*s", pairs[i][0],
                     pairs[i][1], p.json, (int)len, raw);
        assert_int_equal(q.json_len, len);
        assert_string_equal(q.approval_method, p.approval_method);
        assert_int_equal(q.n_rules, p.n_rules);
        if (p.webhook_url != NULL)
            assert_string_equal(q.webhook_url, p.webhook_url);
        tkr_policy_free(&p);
        tkr_policy_free(&q);
    }
}

static const char *dash(const char *s) { return strcmp(s, "-") == 0 ? NULL : s; }

static void expect_row(const tkr_policy_t *p, const char *where, char *const *f)
{
    tkr_policy_request_t req;
    tkr_policy_decision_t d;
    const char *msg = dash(f[7]);

    memset(&req, 0, sizeof(req));
    req.name = f[1];
    assert_int_equal(tkr_subject_type_parse(f[2], &req.type), 0);
    req.ip = dash(f[3]);
    req.role = dash(f[4]);
    assert_int_equal(tkr_policy_eval(p, &req, &d), 0);
    if (strcmp(tkr_policy_action_name(d.action), f[5]) != 0 || strcmp(d.rule, f[6]) != 0 ||
        (strcmp(f[7], "*") != 0 &&
         (msg == NULL ? d.message != NULL : d.message == NULL || strcmp(d.message, msg) != 0)))
        fail_msg("%s: %s %s %s %s: got %s/%s/%s, want %s/%s/%s", where, f[1], f[2], f[3], f[4],
                 tkr_policy_action_name(d.action), d.rule, d.message ? d.message : "-", f[5],
                 f[6], f[7]);
}

/* tests/vectors/policy/flare_decisions.tsv: expected decisions written
 * from the rules; each evaluated on the file and, where FLARE minted a
 * token from it, on that token's claim. */
static void test_flare_policies_decide_as_their_rules_say(void **state)
{
    static const char *const tokens[][2] = {
        {"ip_whitelist", FP "fixed_ip_whitelist_dc-01.jwt"},
        {"hospital_network", FP "fixed_hospital_network_hospital-7.jwt"},
        {"manual_approval", FP "fixed_manual_approval_admin.jwt"},
    };
    FILE *f = fopen("tests/vectors/policy/flare_decisions.tsv", "r");
    char line[512], path[128], *fld[8], *s;
    size_t i, rows = 0, on_claims = 0, k;
    tkr_policy_t p, q;
    const char *raw;
    size_t len;

    (void)state;
    assert_non_null(f);
    while (fgets(line, sizeof(line), f) != NULL) {
        if (line[0] == '#' || line[0] == '\n')
            continue;
        line[strcspn(line, "\r\n")] = '\0';
        for (k = 0, s = line; k < 8; k++) {
            fld[k] = s;
            s = strchr(s, '\t');
            if (s == NULL && k < 7)
                fail_msg("row %zu has %zu columns", rows + 1, k + 1);
            if (s != NULL)
                *s++ = '\0';
        }
        snprintf(path, sizeof(path), FP "%s.yaml", fld[0]);
        load_file(&p, path);
        expect_row(&p, path, fld);
        tkr_policy_free(&p);
        for (i = 0; i < 3; i++)
            if (strcmp(tokens[i][0], fld[0]) == 0) {
                load_claim(&q, tokens[i][1], &raw, &len);
                expect_row(&q, tokens[i][1], fld);
                tkr_policy_free(&q);
                on_claims++;
            }
        rows++;
    }
    fclose(f);
    assert_true(rows >= 50);
    assert_true(on_claims >= 40);
}

static void test_approval_method_policy_or_manual(void **state)
{
    tkr_policy_t p;

    (void)state;
    load(&p, "approval:\n  method: manual\n  rules:\n    - {name: r, action: approve}\n");
    assert_string_equal(p.approval_method, "manual");
    /* the rules decide, whatever the method */
    {
        static const case_t c[] = {{"site-1", NULL, NULL, NULL, TKR_ACTION_APPROVE, "r"}};
        decide_all(&p, c, 1);
    }
    tkr_policy_free(&p);
    load(&p, "approval:\n  method: policy\n");
    assert_string_equal(p.approval_method, "policy");
    tkr_policy_free(&p);
    refused("approval:\n  method: automatic\n", TKR_E_POLICY, 2, 11,
            "approval.method: unknown method \"automatic\" (expected policy or manual)");
    refused("approval:\n  method: Manual\n", TKR_E_POLICY, 2, 11, "unknown method \"Manual\"");
    refused("approval:\n  method: 1\n", TKR_E_POLICY, 2, 11, "expected a string");
    refused("approval:\n  methods: manual\n", TKR_E_POLICY, 2, 3, "unknown key \"methods\"");
}

/* ---- NUL: never in a policy string, from YAML or from JSON ---- */

static void claim_refused(const char *json, int rc, const char *what)
{
    static tkr_json_tok_t toks[128];
    tkr_policy_t p;
    tkr_json_t doc;
    tkr_diag_t err;
    int got;

    tkr_policy_init(&p);
    assert_int_equal(tkr_json_parse(&doc, toks, 128, json, strlen(json), NULL), 0);
    got = tkr_policy_load_json(&p, &doc, 0, &err);
    if (got != rc || strstr(err.msg, what) == NULL)
        fail_msg("claim %s: got %d \"%s\", want %d with \"%s\"", json, got, err.msg, rc, what);
    assert_int_equal(err.line, 0);
    assert_null(p.arena);
}

static void test_nul_is_refused_in_every_string_from_yaml_and_json(void **state)
{
    char *seed;
    tkr_policy_t p;
    tkr_diag_t err;

    (void)state;
    refused("metadata:\n  description: \"a\\0b\"\n", TKR_E_POLICY, 2, 16,
            "metadata.description: the string value holds a NUL character");
    refused("metadata:\n  \"proj\\0ect\": x\n", TKR_E_POLICY, 2, 3, "the key name holds a NUL");
    refused("notifications:\n  channels:\n    email:\n      smtp_config:\n        from: \"x\\0\"\n",
            TKR_E_POLICY, 5, 15, "notifications.channels.email.smtp_config.from: the string");
    refused("approval:\n  rules:\n    - action: pending\n      notify: [a, \"\\0\"]\n",
            TKR_E_POLICY, 4, 19, "approval.rules[0].notify[1]: the string");
    refused("site:\n  name_pattern: \"h\\x00*\"\n", TKR_E_POLICY, 2, 17, "NUL");
    refused("metadata:\n  version: !!str \"1\\0\"\n", TKR_E_POLICY, 2, 12, "NUL");

    /* The same documents as claims: refused with the member path. */
    claim_refused("{\"metadata\":{\"description\":\"a\\u0000b\"}}", TKR_E_POLICY,
                  "metadata.description: the string holds \\u0000 (NUL)");
    claim_refused("{\"metadata\":{\"proj\\u0000ect\":\"x\"}}", TKR_E_POLICY, "metadata: ");
    claim_refused("{\"approval\":{\"rules\":[{\"action\":\"pending\",\"notify\":[\"a\",\"\\u0000\"]}]}}",
                  TKR_E_POLICY, "approval.rules[0].notify[1]: ");

    /* The regression seed: "\0" inside smtp_config's from_address. */
    seed = read_vector("fuzz/corpus/policy/regress-nul_roundtrip.yaml");
    tkr_policy_init(&p);
    assert_int_equal(tkr_policy_load_yaml(&p, seed, strlen(seed), "seed.yaml", &err), TKR_E_POLICY);
    assert_int_equal(err.line, 13);
    assert_int_equal(err.column, 23);
    assert_non_null(strstr(err.msg, "smtp_config.from_address"));
    assert_null(p.arena);
    free(seed);
}

/* Every other control character is fine on both sides: what loads from
 * YAML loads back from its claim, byte for byte. */
static void test_control_characters_round_trip_through_the_claim(void **state)
{
    static tkr_json_tok_t toks[64];
    tkr_policy_t a, b;
    tkr_json_t doc;
    tkr_diag_t err;

    (void)state;
    load(&a, "metadata:\n  description: \"\\x01\\t\\e\\x7f\\u2028 \\U0001F600\"\n");
    assert_int_equal(tkr_json_parse(&doc, toks, 64, a.json, a.json_len, NULL), 0);
    tkr_policy_init(&b);
    assert_int_equal(tkr_policy_load_json(&b, &doc, 0, &err), 0);
    assert_string_equal(a.description, b.description);
    assert_memory_equal(a.json, b.json, a.json_len);
    tkr_policy_free(&a);
    tkr_policy_free(&b);
}

/* ---- ${NAME} environment references ---- */

typedef struct {
    const char *const *kv; /* name, value, name, value, ..., NULL */
    int calls;
} table_env_t;

static const char *table_get(void *ctx, const char *name)
{
    table_env_t *t = ctx;
    size_t i;

    t->calls++;
    for (i = 0; t->kv[i] != NULL; i += 2)
        if (strcmp(t->kv[i], name) == 0)
            return t->kv[i + 1];
    return NULL;
}

typedef struct {
    int n;
    tkr_diag_t w[8];
} warns_t;

static void collect(void *ctx, const tkr_diag_t *w)
{
    warns_t *ws = ctx;
    if (ws->n < 8)
        ws->w[ws->n] = *w;
    ws->n++;
}

static const char env_policy[] =
    "metadata:\n"
    "  description: \"built by ${USER}\"\n"                     /* 2:16, never expanded */
    "approval:\n"
    "  rules:\n"
    "    - name: r\n"
    "      action: pending\n"
    "      notify: [\"${ADMIN}\", ops@example.com]\n"            /* 7:16 */
    "notifications:\n"
    "  enabled: true\n"
    "  channels:\n"
    "    email:\n"
    "      smtp_config:\n"
    "        host: \"${SMTP_HOST}\"\n"                             /* 13:15 */
    "        port: 587\n"
    "    webhook:\n"
    "      url: \"${HOOK}\"\n";                                    /* 16:12 */

static int check_with(const tkr_policy_t *p, const char *const *kv, warns_t *ws,
                      tkr_diag_t *err)
{
    table_env_t t = {kv, 0};
    tkr_envref_env_t env = {table_get, &t};

    memset(ws, 0, sizeof(*ws));
    return tkr_policy_check_env(p, &env, "env.yaml", collect, ws, err);
}

static void test_env_references_checked_expanded_and_warned(void **state)
{
    static const char *const all[] = {"ADMIN", "sec@example.com", "SMTP_HOST", "smtp.example.com",
                                      "HOOK", "https://hooks.example.com/T0/B1", "USER", "x", NULL};
    static const char *const no_hook[] = {"ADMIN", "a@b.c", "SMTP_HOST", "h", NULL};
    static const char *const ftp_hook[] = {"ADMIN", "a@b.c", "SMTP_HOST", "h", "HOOK",
                                           "ftp://hooks.example.com", NULL};
    static const char *const empty_admin[] = {"ADMIN", "", "SMTP_HOST", "h", "HOOK", "http://h",
                                              NULL};
    tkr_policy_t p;
    tkr_diag_t err;
    warns_t ws;

    (void)state;
    load(&p, env_policy);
    /* The claim and the model keep the text as written. */
    assert_non_null(strstr(p.json, "\"url\":\"${HOOK}\""));
    assert_non_null(strstr(p.json, "\"notify\":[\"${ADMIN}\",\"ops@example.com\"]"));
    assert_string_equal(p.webhook_url, "${HOOK}");
    assert_string_equal(p.rules[0].notify[0], "${ADMIN}");

    /* All set and valid: only the reference that stays text is a warning. */
    assert_int_equal(check_with(&p, all, &ws, &err), 0);
    assert_int_equal(ws.n, 1);
    assert_int_equal(ws.w[0].line, 2);
    assert_int_equal(ws.w[0].column, 16);
    assert_string_equal(ws.w[0].file, "env.yaml");
    assert_non_null(strstr(ws.w[0].msg, "metadata.description: ${USER} is not expanded here"));

    /* Unset: a warning at the value, and still 0. */
    assert_int_equal(check_with(&p, no_hook, &ws, &err), 0);
    assert_int_equal(ws.n, 2);
    assert_int_equal(ws.w[1].line, 16);
    assert_int_equal(ws.w[1].column, 12);
    assert_non_null(strstr(ws.w[1].msg,
                           "notifications.channels.webhook.url: ${HOOK} is not set in the environment"));
    /* No environment at all: every expanded reference is unset. */
    memset(&ws, 0, sizeof(ws));
    assert_int_equal(tkr_policy_check_env(&p, NULL, "env.yaml", collect, &ws, &err), 0);
    assert_int_equal(ws.n, 4);
    assert_int_equal(ws.w[1].line, 7);
    assert_non_null(strstr(ws.w[1].msg, "approval.rules[0].notify[0]: ${ADMIN} is not set"));
    assert_int_equal(ws.w[2].line, 13);
    assert_non_null(strstr(ws.w[2].msg, "smtp_config.host: ${SMTP_HOST} is not set"));

    /* Set, but invalid once expanded: an error at the value. */
    assert_int_equal(check_with(&p, ftp_hook, &ws, &err), TKR_E_POLICY);
    assert_int_equal(err.line, 16);
    assert_int_equal(err.column, 12);
    assert_non_null(strstr(err.msg, "expands to \"ftp://hooks.example.com\", which is not an http"));
    assert_int_equal(check_with(&p, empty_admin, &ws, &err), TKR_E_POLICY);
    assert_int_equal(err.line, 7);
    assert_non_null(strstr(err.msg, "approval.rules[0].notify[0]: expands to an empty string"));
    tkr_policy_free(&p);
}

static void test_env_webhook_url_as_the_service_sends_it(void **state)
{
    static const char *const set[] = {"HOST", "hooks.example.com", "PATH_", "${HOST}", NULL};
    static const char *const ftp[] = {"HOST", "x", "SCHEME", "ftp", NULL};
    table_env_t t = {set, 0};
    tkr_envref_env_t env = {table_get, &t};
    tkr_policy_t p;
    tkr_diag_t err;
    char url[64];
    size_t len;

    (void)state;
    load(&p, "notifications:\n  channels:\n    webhook:\n      url: https://${HOST}/a/${PATH_}\n");
    assert_int_equal(tkr_policy_webhook_url(&p, &env, url, sizeof(url), &len, &err), 0);
    /* one pass: a value holding ${...} is not expanded again */
    assert_string_equal(url, "https://hooks.example.com/a/${HOST}");
    assert_int_equal(len, strlen(url));
    assert_int_equal(tkr_policy_webhook_url(&p, &env, url, 10, &len, &err), TKR_E_BUFFER_TOO_SMALL);
    assert_int_equal(len, strlen("https://hooks.example.com/a/${HOST}"));
    assert_int_equal(tkr_policy_webhook_url(&p, NULL, url, sizeof(url), &len, &err), TKR_E_NOT_FOUND);
    assert_int_equal(err.line, 4);
    assert_int_equal(err.column, 12);
    assert_non_null(strstr(err.msg, "${HOST} is not set in the environment"));
    tkr_policy_free(&p);

    load(&p, "notifications:\n  channels:\n    webhook:\n      url: \"${SCHEME}://${HOST}\"\n");
    t.kv = ftp;
    assert_int_equal(tkr_policy_webhook_url(&p, &env, url, sizeof(url), &len, &err), TKR_E_POLICY);
    assert_non_null(strstr(err.msg, "expands to \"ftp://x\""));
    tkr_policy_free(&p);

    load(&p, "notifications:\n  enabled: false\n");
    assert_int_equal(tkr_policy_webhook_url(&p, &env, url, sizeof(url), &len, &err), TKR_E_NOT_FOUND);
    assert_non_null(strstr(err.msg, "no webhook URL"));
    tkr_policy_free(&p);
}

static void test_env_malformed_references_are_errors_everywhere(void **state)
{
    static const char *const bad[][2] = {
        {"\"${HOOK\"", "without a closing"}, {"\"${}\"", "name is empty"},
        {"\"${1X}\"", "not starting with a digit"}, {"\"${A-B}\"", "letters, digits and '_'"},
        {"\"${URL:-https://x}\"", "no default values"}, {"\"https://${ HOST}\"", "letters"},
    };
    char yaml[256];
    size_t i;
    tkr_policy_t p;

    (void)state;
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        snprintf(yaml, sizeof(yaml), "notifications:\n  channels:\n    webhook:\n      url: %s\n",
                 bad[i][0]);
        refused(yaml, TKR_E_POLICY, 4, 12, bad[i][1]);
        snprintf(yaml, sizeof(yaml), "metadata:\n  description: %s\n", bad[i][0]);
        refused(yaml, TKR_E_POLICY, 2, 16, "metadata.description: malformed environment reference");
    }
    refused("approval:\n  rules:\n    - action: pending\n      notify: [\"${}\"]\n", TKR_E_POLICY,
            4, 16, "approval.rules[0].notify[0]: malformed environment reference \"${}\"");
    /* What can be judged before expansion still is. */
    refused("notifications:\n  channels:\n    webhook:\n      url: \"ftp://${HOST}\"\n",
            TKR_E_POLICY, 4, 12, "not an http:// or https:// URL");
    refused("notifications:\n  channels:\n    webhook:\n      url: \"https//${HOST}\"\n",
            TKR_E_POLICY, 4, 12, "not an http:// or https:// URL");
    load(&p, "notifications:\n  channels:\n    webhook:\n      url: \"http${S}://${HOST}\"\n");
    tkr_policy_free(&p);
    /* A '$' without '{' is text. */
    load(&p, "notifications:\n  channels:\n    email:\n      smtp_config: {password: \"pa$$w$rd\"}\n");
    tkr_policy_free(&p);
    /* The claim side agrees. */
    claim_refused("{\"notifications\":{\"channels\":{\"webhook\":{\"url\":\"${HOOK\"}}}}", TKR_E_POLICY,
                  "notifications.channels.webhook.url: malformed environment reference");
}

/* ---- helpers ---- */

static void test_duration(void **state)
{
    (void)state;
    assert_true(tkr_policy_duration("7d", 2) == 604800);
    assert_true(tkr_policy_duration("30m", 3) == 1800);
    assert_true(tkr_policy_duration("24h", 3) == 86400);
    assert_true(tkr_policy_duration("2w", 2) == 1209600);
    assert_true(tkr_policy_duration("10s", 3) == 10);
    assert_true(tkr_policy_duration("0s", 2) == 0);
    assert_true(tkr_policy_duration("7", 1) == -1);
    assert_true(tkr_policy_duration("d", 1) == -1);
    assert_true(tkr_policy_duration("7D", 2) == -1);
    assert_true(tkr_policy_duration("-1d", 3) == -1);
    assert_true(tkr_policy_duration(" 7d", 3) == -1);
    assert_true(tkr_policy_duration("1.5h", 4) == -1);
    assert_true(tkr_policy_duration("99999999999999999999w", 21) == -1);
    assert_true(tkr_policy_duration("15250284452472w", 15) == -1); /* * 604800 overflows */
    assert_true(tkr_policy_duration(NULL, 0) == -1);
}

static void test_cidr_parse_and_format(void **state)
{
    static const struct {
        const char *in, *out;
    } ok[] = {
        {"10.0.0.0/8", "10.0.0.0/8"},
        {"10.1.2.3/8", "10.0.0.0/8"},
        {"10.1.2.3", "10.1.2.3/32"},
        {"0.0.0.0/0", "0.0.0.0/0"},
        {"100.64.0.0/10", "100.64.0.0/10"},
        {"2001:db8::/32", "2001:db8::/32"},
        {"2001:0DB8:0000:0000:0000:0000:0000:0001", "2001:db8::1/128"},
        {"::", "::/128"},
        {"::/0", "::/0"},
        {"::1", "::1/128"},
        {"1::", "1::/128"},
        {"1:0:0:2:0:0:0:3/128", "1:0:0:2::3/128"},
        {"1:2:3:4:5:6:7::", "1:2:3:4:5:6:7:0/128"},
        {"::ffff:10.0.0.0/104", "10.0.0.0/8"},
        {"::ffff:192.0.2.1", "192.0.2.1/32"},
        {"::ffff:0:0/96", "0.0.0.0/0"},
        {"::ffff:0:0/95", "::fffe:0:0/95"},
        {"64:ff9b::192.0.2.33/128", "64:ff9b::c000:221/128"},
    };
    tkr_cidr_t c;
    char buf[TKR_CIDR_STR_MAX];
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        if (tkr_cidr_parse(&c, ok[i].in, strlen(ok[i].in)) != 0)
            fail_msg("refused %s", ok[i].in);
        assert_int_equal(tkr_cidr_format(buf, sizeof(buf), &c), 0);
        if (strcmp(buf, ok[i].out) != 0)
            fail_msg("%s formatted as %s, want %s", ok[i].in, buf, ok[i].out);
    }
    assert_int_equal(tkr_cidr_parse(&c, "10.0.0.0/8", 10), 0);
    assert_int_equal(tkr_cidr_format(buf, 10, &c), TKR_E_BUFFER_TOO_SMALL);
    assert_int_equal(tkr_cidr_format(buf, 11, &c), 0);
    assert_int_equal(tkr_cidr_contains(&c, "10.255.255.255"), 1);
    assert_int_equal(tkr_cidr_contains(&c, "11.0.0.0"), 0);
    assert_int_equal(tkr_cidr_contains(&c, "::ffff:10.0.0.1"), 1);
    assert_int_equal(tkr_cidr_contains(&c, "::10.0.0.1"), 0); /* compatible, not mapped */
    assert_int_equal(tkr_cidr_contains(&c, "10.0.0.1/32"), 0);
    assert_int_equal(tkr_cidr_contains(&c, ""), 0);
    assert_int_equal(tkr_cidr_parse(&c, "::/0", 4), 0);
    assert_int_equal(tkr_cidr_contains(&c, "10.0.0.1"), 0); /* families stay apart */
    assert_int_equal(tkr_cidr_contains(&c, "fe80::1"), 1);
    assert_int_equal(tkr_ip_valid("fe80::1"), 1);
    assert_int_equal(tkr_ip_valid("fe80::1%eth0"), 0);
    assert_int_equal(tkr_ip_valid("1.2.3.4"), 1);
    assert_int_equal(tkr_ip_valid("1.2.3.04"), 0);
    assert_int_equal(tkr_cidr_parse(&c, "10.0.0.0/8\0x", 12), TKR_E_POLICY);
}

static void test_glob_match_and_check(void **state)
{
    static const struct {
        const char *p, *s;
        int m;
    } t[] = {
        {"*", "", 1}, {"*", "anything/at.all", 1}, {"hospital-*", "hospital-1", 1},
        {"hospital-*", "hospital-", 1}, {"hospital-*", "Hospital-1", 0}, {"*-prod", "a-prod", 1},
        {"*-prod", "a-prod-b", 0}, {"*staging*", "staging", 1}, {"*staging*", "x-staging-y", 1},
        {"site-?", "site-1", 1}, {"site-?", "site-12", 0}, {"site-[0-9]", "site-7", 1},
        {"site-[0-9]", "site-a", 0}, {"site-[!0-9]", "site-a", 1}, {"site-[!0-9]", "site-7", 0},
        {"[]]", "]", 1}, {"[!]]", "a", 1}, {"a\\*b", "a*b", 1}, {"a\\*b", "axb", 0},
        {"[a-c]*[x-z]", "bqqqy", 1}, {"*a*a*a*a*b", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 0},
        {"caf?", "caf\xc3\xa9", 1}, {"[\xc3\xa9]", "\xc3\xa9", 1}, {"a[", "a[", 1},
        /* a stray byte is not the code point of the same value (fuzz_cidr) */
        {"\xc2\x87", "\x87", 0}, {"\x87", "\xc2\x87", 0}, {"[\x80-\xff]", "\xc2\x87", 0},
        {"?", "\x87", 1}, {"\x87", "\x87", 1},
    };
    static const char *const bad[] = {"", "a[", "[z-a]", "[^a]", "a\\", "[[:alpha:]]", "[]"};
    static const char *const good[] = {"*", "hospital-*", "[!a-z]x", "\\[x\\]", "[]]", "site-??"};
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
        if (tkr_glob_match(t[i].p, t[i].s) != t[i].m)
            fail_msg("glob %s on %s: want %d", t[i].p, t[i].s, t[i].m);
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        if (tkr_glob_check(bad[i]) != TKR_E_POLICY)
            fail_msg("glob_check accepted %s", bad[i]);
    for (i = 0; i < sizeof(good) / sizeof(good[0]); i++)
        if (tkr_glob_check(good[i]) != 0)
            fail_msg("glob_check refused %s", good[i]);
    assert_int_equal(tkr_glob_match(NULL, "x"), 0);
}

/* ---- token claims -> request ---- */

/* A compact JWS around claims (not signed: tkr_jwt_parse does not look). */
static void parse_claims(const char *claims)
{
    static const char hdr[] = "{\"alg\":\"RS256\",\"typ\":\"JWT\"}";
    static char tok[4096];
    size_t n, k;

    assert_int_equal(tkr_b64url_encode(tok, sizeof(tok), &n, (const uint8_t *)hdr,
                                       strlen(hdr)), 0);
    tok[n++] = '.';
    assert_int_equal(tkr_b64url_encode(tok + n, sizeof(tok) - n, &k, (const uint8_t *)claims,
                                       strlen(claims)), 0);
    n += k;
    memcpy(tok + n, ".AAAA", 6);
    tkr_jwt_init(&jwt);
    assert_int_equal(tkr_jwt_parse(&jwt, tok, n + 5, NULL), 0);
}

static void test_request_from_token_claims(void **state)
{
    tkr_policy_request_t req;
    tkr_policy_decision_t d;
    tkr_diag_t diag;
    tkr_policy_t p;

    (void)state;
    load(&p, "user: {allowed_roles: [lead, member]}\n");
    memset(&req, 0, sizeof(req));
    parse_claims("{\"sub\":\"a@b.c\",\"roles\":[\"le\\u0061d\",\"x\"],"
                 "\"source_ips\":[\"10.0.0.0/8\"]}");
    assert_int_equal(tkr_policy_request_from_token(&req, &jwt, NULL), 0);
    assert_int_equal(req.n_token_roles, 2);
    assert_string_equal(req.token_roles[0], "lead"); /* unescaped */
    assert_string_equal(req.token_roles[1], "x");
    assert_int_equal(req.n_token_source_ips, 1);
    assert_string_equal(req.token_source_ips[0], "10.0.0.0/8");
    /* the claims now decide as the service will */
    req.name = "a@b.c";
    req.type = TKR_SUBJECT_ADMIN;
    req.ip = "10.1.1.1";
    assert_int_equal(tkr_policy_eval(&p, &req, &d), 0);
    assert_int_equal(d.action, TKR_ACTION_APPROVE);
    req.role = "member";
    assert_int_equal(tkr_policy_eval(&p, &req, &d), 0);
    assert_string_equal(d.rule, "token-roles");
    req.role = NULL;
    req.ip = "192.168.0.1";
    assert_int_equal(tkr_policy_eval(&p, &req, &d), 0);
    assert_string_equal(d.rule, "token-source-ips");
    /* twice without a free is a caller error, not a leak */
    assert_int_equal(tkr_policy_request_from_token(&req, &jwt, NULL), TKR_E_INVALID_ARG);
    tkr_policy_request_free(&req);
    assert_null(req.arena);
    assert_null(req.token_roles);
    assert_null(req.token_source_ips);
    assert_string_equal(req.name, "a@b.c"); /* the caller's fields stay */

    /* absent claims stay NULL; present but empty ones allow nothing */
    parse_claims("{\"sub\":\"s\",\"roles\":[]}");
    assert_int_equal(tkr_policy_request_from_token(&req, &jwt, NULL), 0);
    assert_non_null(req.token_roles);
    assert_int_equal(req.n_token_roles, 0);
    assert_null(req.token_source_ips);
    assert_int_equal(tkr_policy_eval(&p, &req, &d), 0);
    assert_string_equal(d.rule, "token-roles");
    tkr_policy_request_free(&req);

    /* not lists of strings */
    parse_claims("{\"sub\":\"s\",\"roles\":\"lead\"}");
    tkr_diag_clear(&diag);
    assert_int_equal(tkr_policy_request_from_token(&req, &jwt, &diag), TKR_E_CLAIM_TYPE);
    assert_string_equal(diag.name, "roles");
    assert_null(req.arena);
    parse_claims("{\"sub\":\"s\",\"source_ips\":[\"10.0.0.0/8\",7]}");
    tkr_diag_clear(&diag);
    assert_int_equal(tkr_policy_request_from_token(&req, &jwt, &diag), TKR_E_CLAIM_TYPE);
    assert_string_equal(diag.name, "source_ips");
    assert_null(req.token_roles);
    assert_int_equal(tkr_policy_request_from_token(NULL, &jwt, NULL), TKR_E_INVALID_ARG);
    tkr_policy_free(&p);
}

/* One rule for a null roles/source_ips claim, in the policy request and in
 * the token reader: absent, i.e. no restriction, as FLARE's service reads
 * claims with .get(). A wrong type stays an error in both. */
static void test_null_list_claim_is_absent_everywhere(void **state)
{
    static const struct {
        const char *claims;
        int rc;
    } v[] = {
        {"{\"jti\":\"j\",\"sub\":\"s\",\"roles\":null}", 0},
        {"{\"jti\":\"j\",\"sub\":\"s\",\"source_ips\":null}", 0},
        {"{\"jti\":\"j\",\"sub\":\"s\",\"roles\":null,\"source_ips\":null}", 0},
        {"{\"jti\":\"j\",\"sub\":\"s\",\"roles\":false}", TKR_E_CLAIM_TYPE},
        {"{\"jti\":\"j\",\"sub\":\"s\",\"source_ips\":{}}", TKR_E_CLAIM_TYPE},
        {"{\"jti\":\"j\",\"sub\":\"s\",\"roles\":[null]}", TKR_E_CLAIM_TYPE},
    };
    tkr_policy_request_t req;
    tkr_policy_decision_t d;
    tkr_token_info_t ti;
    tkr_policy_t p;
    size_t i;

    (void)state;
    load(&p, "user: {allowed_roles: [lead]}\n");
    for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        memset(&req, 0, sizeof(req));
        parse_claims(v[i].claims);
        assert_int_equal(tkr_policy_request_from_token(&req, &jwt, NULL), v[i].rc);
        if (v[i].rc != 0)
            continue;
        assert_null(req.token_roles);
        assert_null(req.token_source_ips);
        /* absent: the claims restrict nothing, the policy alone decides */
        req.name = "a@b.c";
        req.type = TKR_SUBJECT_ADMIN;
        req.role = "lead";
        req.ip = "192.0.2.1";
        assert_int_equal(tkr_policy_eval(&p, &req, &d), 0);
        assert_int_equal(d.action, TKR_ACTION_APPROVE);
        tkr_policy_request_free(&req);
    }
    /* the token reader, the same verdicts */
    for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        parse_claims(v[i].claims);
        memset(&ti, 0, sizeof(ti));
        assert_int_equal(tkr_token_read(&ti, &jwt), v[i].rc);
        if (v[i].rc == 0) {
            assert_int_equal(ti.roles, -1);
            assert_int_equal(ti.source_ips, -1);
        }
    }
    tkr_policy_free(&p);
}

static void test_ip_parse_keeps_the_written_form(void **state)
{
    static const uint8_t v4[4] = {192, 0, 2, 1};
    static const uint8_t mapped[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 0, 2, 1};
    static const uint8_t v6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    static const char *const bad[] = {"", "1.2.3", "1.2.3.4.5", "1.2.3.256", "01.2.3.4",
                                      "1.2.3.4/32", "::1%lo", "1::2::3", "12345::", ":1",
                                      "1:", "1:2:3:4:5:6:7:8:9", "g::1", "1.2.3.4 "};
    uint8_t a[16];
    size_t n, i;

    (void)state;
    assert_int_equal(tkr_ip_parse(a, &n, "192.0.2.1", 9), 0);
    assert_int_equal(n, 4);
    assert_memory_equal(a, v4, 4);
    /* no folding here: a certificate's SAN keeps the 16 bytes */
    assert_int_equal(tkr_ip_parse(a, &n, "::ffff:192.0.2.1", 16), 0);
    assert_int_equal(n, 16);
    assert_memory_equal(a, mapped, 16);
    assert_int_equal(tkr_ip_parse(a, &n, "2001:DB8::1", 11), 0);
    assert_int_equal(n, 16);
    assert_memory_equal(a, v6, 16);
    assert_int_equal(tkr_ip_parse(a, &n, "2001:db8:0:0:0:0:0:1", 20), 0);
    assert_memory_equal(a, v6, 16);
    assert_int_equal(tkr_ip_parse(a, &n, "::", 2), 0);
    assert_int_equal(n, 16);
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        if (tkr_ip_parse(a, &n, bad[i], strlen(bad[i])) != TKR_E_POLICY)
            fail_msg("accepted \"%s\"", bad[i]);
    assert_int_equal(n, 0);
    assert_int_equal(tkr_ip_parse(a, &n, "1.2.3.4\0", 8), TKR_E_POLICY);
    assert_int_equal(tkr_ip_parse(NULL, &n, "1.2.3.4", 7), TKR_E_INVALID_ARG);
}

/* A request too big for the arena is the input's fault; a failed
 * malloc is the host's: a service answers 413 for one and 500 for the
 * other. */
static void test_arena_says_why_an_allocation_failed(void **state)
{
    tkr_arena_t *a = tkr_arena_new();

    (void)state;
    assert_non_null(a);
    assert_non_null(tkr_arena_alloc(a, 100));
    assert_null(tkr_arena_alloc(a, (size_t)TKR_ARENA_MAX + 1));
    assert_int_equal(tkr_arena_error(a), TKR_E_TOO_LARGE);
    assert_null(tkr_arena_alloc(a, TKR_ARENA_MAX)); /* the 100 bytes count too */
    assert_int_equal(tkr_arena_error(a), TKR_E_TOO_LARGE);
    assert_null(tkr_arena_strndup(a, "x", SIZE_MAX));
    assert_int_equal(tkr_arena_error(a), TKR_E_TOO_LARGE);
    assert_string_equal(tkr_arena_why(TKR_E_NO_MEMORY), "out of memory");
    assert_non_null(strstr(tkr_arena_why(TKR_E_TOO_LARGE), "TKR_ARENA_MAX"));
    tkr_arena_free(a);
    /* no arena at all: its creation failed for want of memory */
    assert_int_equal(tkr_arena_error(NULL), TKR_E_NO_MEMORY);
    assert_string_equal(tkr_strerror(TKR_E_NO_MEMORY), "out of memory");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_default_policy_json_is_flare_claim_byte_for_byte),
        cmocka_unit_test(test_default_policy_model),
        cmocka_unit_test(test_claim_loads_back_to_the_same_json_and_model),
        cmocka_unit_test(test_json_claim_errors_name_the_member_path),
        cmocka_unit_test(test_unknown_keys_are_errors),
        cmocka_unit_test(test_wrong_types_are_errors),
        cmocka_unit_test(test_bad_durations_are_errors),
        cmocka_unit_test(test_bad_globs_are_errors),
        cmocka_unit_test(test_bad_cidrs_are_errors),
        cmocka_unit_test(test_missing_or_unknown_action_is_an_error),
        cmocka_unit_test(test_default_role_outside_allowed_roles_is_an_error),
        cmocka_unit_test(test_yaml_errors_reach_the_caller_with_position),
        cmocka_unit_test(test_versions_numbers_and_defaults),
        cmocka_unit_test(test_eval_flare_custom_policy),
        cmocka_unit_test(test_eval_first_match_fall_through_and_default_deny),
        cmocka_unit_test(test_eval_no_rules_approves_and_empty_match_matches_all),
        cmocka_unit_test(test_eval_ip_ranges_v4_v6_and_cgnat),
        cmocka_unit_test(test_eval_roles_for_users_only),
        cmocka_unit_test(test_eval_token_roles_and_source_ips_claims),
        cmocka_unit_test(test_flare_example_policies_load_unchanged),
        cmocka_unit_test(test_flare_tokens_carry_our_claim_byte_for_byte),
        cmocka_unit_test(test_flare_policies_decide_as_their_rules_say),
        cmocka_unit_test(test_approval_method_policy_or_manual),
        cmocka_unit_test(test_nul_is_refused_in_every_string_from_yaml_and_json),
        cmocka_unit_test(test_control_characters_round_trip_through_the_claim),
        cmocka_unit_test(test_env_references_checked_expanded_and_warned),
        cmocka_unit_test(test_env_webhook_url_as_the_service_sends_it),
        cmocka_unit_test(test_env_malformed_references_are_errors_everywhere),
        cmocka_unit_test(test_duration),
        cmocka_unit_test(test_cidr_parse_and_format),
        cmocka_unit_test(test_glob_match_and_check),
        cmocka_unit_test(test_request_from_token_claims),
        cmocka_unit_test(test_null_list_claim_is_absent_everywhere),
        cmocka_unit_test(test_ip_parse_keeps_the_written_form),
        cmocka_unit_test(test_arena_says_why_an_allocation_failed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
