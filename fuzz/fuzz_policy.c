/* fuzz_policy.c — libFuzzer harness for the YAML loader and the policy.
 *
 * The input is YAML text. Invariants (abort on violation):
 *   - tkr_yaml_load either fails with TKR_E_YAML / TKR_E_POLICY /
 *     TKR_E_TOO_LARGE and a message, or gives a tree whose JSON size query
 *     agrees with the JSON actually written, which fits an exact buffer;
 *   - tkr_policy_load_yaml either fails leaving the policy empty, with a
 *     message, or loads a policy whose own JSON (the token claim) parses
 *     with the strict JSON reader, loads again through
 *     tkr_policy_load_json, and gives back the same JSON bytes and the same
 *     model: the service evaluates exactly what the admin's file said;
 *   - both models decide a set of requests identically, and their
 *     ${NAME} references check alike under the same environment;
 *   - tkr_envref_expand on the raw text: its size query agrees with the
 *     text written, it refuses exactly what tkr_envref_next calls
 *     malformed, and with every variable set it never reports one unset.
 * The text is copied to a heap buffer of its exact size (no terminator)
 * so ASan sees any read past its end. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tokenroll/envref.h"
#include "tokenroll/error.h"
#include "tokenroll/json.h"
#include "tokenroll/policy.h"
#include "tokenroll/yaml.h"

#include "fuzz_check.h"

static int same_str(const char *a, const char *b)
{
    if (a == NULL || b == NULL)
        return a == b;
    return strcmp(a, b) == 0;
}

static int json_number(const char *s)
{
    if (s == NULL || *s == '\0')
        return 0;
    for (; *s; s++)
        if (strchr("0123456789.eE+-", *s) == NULL)
            return 0;
    return 1;
}

static void yaml_side(const char *text, size_t size)
{
    tkr_yaml_doc_t doc;
    tkr_diag_t err;
    size_t need = 0, len = 0;
    char *out;
    int rc;

    tkr_yaml_init(&doc);
    rc = tkr_yaml_load(&doc, text, size, "fuzz.yaml", &err);
    if (rc != 0) {
        CHECK(rc == TKR_E_YAML || rc == TKR_E_POLICY || rc == TKR_E_TOO_LARGE ||
              rc == TKR_E_NO_MEMORY);
        CHECK(err.msg[0] != '\0');
        CHECK(err.line >= 0 && err.column >= 0);
        CHECK(doc.root == NULL && doc.arena == NULL);
        return;
    }
    rc = tkr_yaml_to_json(NULL, 0, &need, doc.root);
    if (rc == TKR_E_TOO_LARGE) { /* emitter depth guard */
        tkr_yaml_free(&doc);
        return;
    }
    CHECK(rc == TKR_E_BUFFER_TOO_SMALL);
    CHECK(need >= 1);
    out = malloc(need + 1);
    CHECK(out != NULL);
    CHECK(tkr_yaml_to_json(out, need, &len, doc.root) == TKR_E_BUFFER_TOO_SMALL);
    CHECK(tkr_yaml_to_json(out, need + 1, &len, doc.root) == 0);
    CHECK(len == need && out[len] == '\0' && strlen(out) == len);
    free(out);
    tkr_yaml_free(&doc);
}

static void same_decisions(const tkr_policy_t *a, const tkr_policy_t *b)
{
    static const char *const names[] = {"hospital-1", "site-prod", "admin@example.com",
                                        "relay-1", "", "hospital-*"};
    static const tkr_subject_type_t types[] = {TKR_SUBJECT_CLIENT, TKR_SUBJECT_ADMIN,
                                               TKR_SUBJECT_RELAY, TKR_SUBJECT_SERVER};
    static const char *const ips[] = {NULL, "10.1.2.3", "2001:db8::1", "::ffff:172.16.0.9",
                                      "100.64.0.1", "8.8.8.8"};
    static const char *const roles[] = {NULL, "lead", "member", "researcher"};
    static const char *const troles[] = {"lead"};
    static const char *const tips[] = {"10.0.0.0/8", "2001:db8::/32"};
    size_t i, j, k;

    for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        for (j = 0; j < sizeof(ips) / sizeof(ips[0]); j++)
            for (k = 0; k < 4; k++) {
                tkr_policy_request_t req;
                tkr_policy_decision_t da, db;
                memset(&req, 0, sizeof(req));
                req.name = names[i];
                req.type = types[k];
                req.ip = ips[j];
                req.role = roles[(i + j + k) % 4];
                if ((i + j) % 3 == 0) {
                    req.token_roles = troles;
                    req.n_token_roles = 1;
                }
                if ((j + k) % 4 == 1) {
                    req.token_source_ips = tips;
                    req.n_token_source_ips = 2;
                }
                CHECK(tkr_policy_eval(a, &req, &da) == 0);
                CHECK(tkr_policy_eval(b, &req, &db) == 0);
                CHECK(da.action == db.action);
                CHECK(same_str(da.rule, db.rule));
                CHECK(same_str(da.message, db.message));
            }
}

/* Every variable set, by its name's length: a URL, a URL holding a
 * ${...} of its own (copied, never expanded again), a non-URL, or empty,
 * so the checks of expanded values both pass and fail. */
static const char *env_all(void *ctx, const char *name)
{
    static const char *const v[] = {"https://hooks.example.com/x", "https://h/${X}",
                                    "ftp://x", ""};
    (void)ctx;
    return v[strlen(name) % 4];
}

static const tkr_envref_env_t full_env = {env_all, NULL};

static void envref_side(const char *text, size_t size)
{
    tkr_envref_t ref;
    size_t pos = 0, need = 0, len = 0;
    int syntax, rc;
    char *out;

    while ((syntax = tkr_envref_next(text, size, &pos, &ref)) == 1)
        CHECK(ref.start < ref.end && ref.end <= size && ref.name_len <= TKR_ENVREF_NAME_MAX);
    CHECK(syntax == 0 || syntax == TKR_E_POLICY);
    CHECK(syntax == 0 || (ref.why != NULL && ref.start < size));
    rc = tkr_envref_expand(NULL, 0, &need, text, size, &full_env, &ref);
    if (syntax != 0) {
        CHECK(rc == TKR_E_POLICY);
        return;
    }
    CHECK(rc == TKR_E_BUFFER_TOO_SMALL);
    out = malloc(need + 1);
    CHECK(out != NULL);
    CHECK(tkr_envref_expand(out, need + 1, &len, text, size, &full_env, NULL) == 0);
    CHECK(len == need && out[len] == '\0');
    free(out);
    rc = tkr_envref_expand(NULL, 0, &need, text, size, NULL, &ref);
    CHECK(rc == TKR_E_BUFFER_TOO_SMALL || rc == TKR_E_NOT_FOUND);
}

static void policy_side(const char *text, size_t size)
{
    tkr_policy_t p, q;
    tkr_diag_t err;
    tkr_json_tok_t *toks;
    tkr_json_t doc;
    size_t i, j;
    int rc;

    tkr_policy_init(&p);
    rc = tkr_policy_load_yaml(&p, text, size, "fuzz.yaml", &err);
    if (rc != 0) {
        CHECK(rc == TKR_E_YAML || rc == TKR_E_POLICY || rc == TKR_E_TOO_LARGE ||
              rc == TKR_E_NO_MEMORY);
        CHECK(err.msg[0] != '\0');
        CHECK(p.arena == NULL && p.json == NULL && p.rules == NULL);
        return;
    }
    CHECK(p.json != NULL && strlen(p.json) == p.json_len);
    CHECK(p.validity > 0 && p.max_uses >= 1);
    CHECK(p.n_allowed_roles >= 1 && p.default_role != NULL);
    CHECK(tkr_glob_check(p.site_name_pattern) == 0);

    toks = malloc((p.json_len + 1) * sizeof(*toks));
    CHECK(toks != NULL);
    rc = tkr_json_parse(&doc, toks, p.json_len + 1, p.json, p.json_len, NULL);
    CHECK(rc == 0);
    tkr_policy_init(&q);
    rc = tkr_policy_load_json(&q, &doc, 0, &err);
    CHECK(rc == 0);
    CHECK(q.json_len == p.json_len && memcmp(q.json, p.json, p.json_len) == 0);
    CHECK(q.validity == p.validity && q.max_uses == p.max_uses);
    CHECK(same_str(q.project, p.project));
    /* A numeric version keeps its YAML text (017, 1.00, 0x10); the claim
     * can only hold the number, so the reloaded text is the JSON form. */
    CHECK(same_str(q.version, p.version) || json_number(q.version));
    CHECK(same_str(q.default_role, p.default_role));
    CHECK(same_str(q.site_name_pattern, p.site_name_pattern));
    CHECK(q.n_allowed_roles == p.n_allowed_roles);
    for (i = 0; i < p.n_allowed_roles; i++)
        CHECK(same_str(q.allowed_roles[i], p.allowed_roles[i]));
    CHECK(q.n_rules == p.n_rules);
    for (i = 0; i < p.n_rules; i++) {
        const tkr_policy_rule_t *a = &p.rules[i], *b = &q.rules[i];
        CHECK(a->action == b->action && same_str(a->name, b->name));
        CHECK(same_str(a->site_name_pattern, b->site_name_pattern));
        CHECK(a->n_source_ips == b->n_source_ips);
        for (j = 0; j < a->n_source_ips; j++)
            CHECK(memcmp(&a->source_ips[j], &b->source_ips[j], sizeof(tkr_cidr_t)) == 0);
        CHECK(a->n_notify == b->n_notify);
    }
    CHECK(q.notifications_enabled == p.notifications_enabled);
    same_decisions(&p, &q);
    {
        tkr_diag_t e1, e2;
        int r1 = tkr_policy_check_env(&p, &full_env, "fuzz.yaml", NULL, NULL, &e1);
        int r2 = tkr_policy_check_env(&q, &full_env, NULL, NULL, NULL, &e2);
        CHECK(r1 == r2 && (r1 == 0 || r1 == TKR_E_POLICY));
        CHECK(r1 == 0 || (e1.msg[0] != '\0' && strcmp(e1.msg, e2.msg) == 0));
        CHECK(tkr_policy_check_env(&p, NULL, "fuzz.yaml", NULL, NULL, &e1) == 0);
    }
    tkr_policy_free(&q);
    free(toks);
    tkr_policy_free(&p);
    CHECK(p.arena == NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size ? size : 1);

    CHECK(text != NULL);
    if (size > 0)
        memcpy(text, data, size);
    yaml_side(text, size);
    policy_side(text, size);
    envref_side(text, size);
    free(text);
    return 0;
}
