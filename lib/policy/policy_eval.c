/* policy_eval.c — decide an enrollment request as FLARE's certificate
 * service does (CertService.evaluate_policy), with the token's own roles
 * and source_ips claims enforced first; and the request a token's claims
 * make. */
#include <string.h>

#include "tokenroll/error.h"
#include "tokenroll/policy.h"
#include "tokenroll/token.h"
#include "arena.h"

static int in_list(const char *const *list, size_t n, const char *s)
{
    size_t i;
    for (i = 0; i < n; i++)
        if (list[i] != NULL && strcmp(list[i], s) == 0)
            return 1;
    return 0;
}

static int decide(tkr_policy_decision_t *d, tkr_policy_action_t a, const char *rule,
                  const char *message)
{
    d->action = a;
    d->rule = rule;
    d->message = message;
    return 0;
}

static int rule_matches(const tkr_policy_rule_t *r, const tkr_policy_request_t *req)
{
    size_t i;

    if (r->site_name_pattern != NULL && !tkr_glob_match(r->site_name_pattern, req->name))
        return 0;
    if (r->source_ips != NULL) {
        /* FLARE: a rule with source_ips needs the address, and a match. */
        if (req->ip == NULL)
            return 0;
        for (i = 0; i < r->n_source_ips; i++)
            if (tkr_cidr_contains(&r->source_ips[i], req->ip))
                return 1;
        return 0;
    }
    return 1;
}

int tkr_policy_eval(const tkr_policy_t *p, const tkr_policy_request_t *req,
                    tkr_policy_decision_t *d)
{
    const char *role;
    size_t i;

    if (p == NULL || req == NULL || d == NULL || req->name == NULL ||
        req->type == TKR_SUBJECT_PATTERN || tkr_subject_type_name(req->type) == NULL)
        return TKR_E_INVALID_ARG;

    if (req->type == TKR_SUBJECT_ADMIN) {
        role = req->role != NULL && req->role[0] != '\0' ? req->role : p->default_role;
        if (role == NULL ||
            !in_list((const char *const *)p->allowed_roles, p->n_allowed_roles, role))
            return decide(d, TKR_ACTION_REJECT, "role-constraint",
                          "Role is not in the policy's user.allowed_roles");
        if (req->token_roles != NULL && !in_list(req->token_roles, req->n_token_roles, role))
            return decide(d, TKR_ACTION_REJECT, "token-roles",
                          "Role is not granted by the token (roles claim)");
    }
    if (req->token_source_ips != NULL) {
        int inside = 0;
        for (i = 0; req->ip != NULL && !inside && i < req->n_token_source_ips; i++) {
            tkr_cidr_t c;
            const char *s = req->token_source_ips[i];
            if (s != NULL && tkr_cidr_parse(&c, s, strlen(s)) == 0 && tkr_cidr_contains(&c, req->ip))
                inside = 1;
        }
        if (!inside)
            return decide(d, TKR_ACTION_REJECT, "token-source-ips",
                          "Source address is not in the token's source_ips");
    }
    if (p->n_rules == 0)
        return decide(d, TKR_ACTION_APPROVE, "default", "No rules defined, defaulting to approve");
    for (i = 0; i < p->n_rules; i++)
        if (rule_matches(&p->rules[i], req))
            return decide(d, p->rules[i].action, p->rules[i].name, p->rules[i].message);
    return decide(d, TKR_ACTION_REJECT, "default-deny", "No matching rule found");
}

/* A claim that is a list of strings, copied into a; NULL when absent or
 * null (tkr_token_str_array's rule). */
static int claim_strings(tkr_arena_t *a, const tkr_jwt_t *jwt, const char *name,
                         const char *const **out, size_t *n, tkr_diag_t *diag)
{
    static const char *const none[1] = {NULL};
    int t, i, cnt, rc;
    const char **v;
    size_t len;

    *out = NULL;
    *n = 0;
    if ((rc = tkr_token_str_array(jwt, name, &t, diag)) != 0 || t < 0)
        return rc;
    cnt = tkr_json_count(&jwt->doc, t);
    if (cnt == 0) {
        *out = none; /* present and empty: allows nothing */
        return 0;
    }
    if ((v = tkr_arena_alloc(a, (size_t)cnt * sizeof(*v))) == NULL)
        return TKR_E_NO_MEMORY;
    for (i = 0; i < cnt; i++) {
        int e = tkr_json_child(&jwt->doc, t, i);
        char *s;
        /* The unescaped text is never longer than the raw one. */
        tkr_json_raw(&jwt->doc, &len, e);
        if ((s = tkr_arena_alloc(a, len + 1)) == NULL)
            return TKR_E_NO_MEMORY;
        if (tkr_json_get_str(&jwt->doc, s, len + 1, NULL, e) != 0)
            return tkr_diag(diag, TKR_E_CLAIM_TYPE, name, "must be a list of strings");
        v[i] = s;
    }
    *out = (const char *const *)v;
    *n = (size_t)cnt;
    return 0;
}

int tkr_policy_request_from_token(tkr_policy_request_t *req, const tkr_jwt_t *jwt,
                                  tkr_diag_t *diag)
{
    tkr_arena_t *a;
    int rc;

    if (req == NULL || jwt == NULL || req->arena != NULL)
        return TKR_E_INVALID_ARG;
    if ((a = tkr_arena_new()) == NULL)
        return TKR_E_NO_MEMORY;
    req->arena = a;
    rc = claim_strings(a, jwt, "roles", &req->token_roles, &req->n_token_roles, diag);
    if (rc == 0)
        rc = claim_strings(a, jwt, "source_ips", &req->token_source_ips,
                           &req->n_token_source_ips, diag);
    if (rc != 0)
        tkr_policy_request_free(req);
    return rc;
}

void tkr_policy_request_free(tkr_policy_request_t *req)
{
    if (req == NULL)
        return;
    tkr_arena_free(req->arena);
    req->arena = NULL;
    req->token_roles = req->token_source_ips = NULL;
    req->n_token_roles = req->n_token_source_ips = 0;
}
