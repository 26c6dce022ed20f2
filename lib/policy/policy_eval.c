/* policy_eval.c — decide an enrollment request as FLARE's certificate
 * service does (CertService.evaluate_policy), with the token's own roles
 * and source_ips claims enforced first. */
#include <string.h>

#include "tokenroll/error.h"
#include "tokenroll/policy.h"

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
    const char *type, *role;
    size_t i;
    int admin;

    if (p == NULL || req == NULL || d == NULL || req->name == NULL)
        return TKR_E_INVALID_ARG;
    type = req->type != NULL ? req->type : "client";
    admin = strcmp(type, "admin") == 0 || strcmp(type, "user") == 0;
    if (!admin && strcmp(type, "client") != 0 && strcmp(type, "relay") != 0 &&
        strcmp(type, "server") != 0)
        return TKR_E_INVALID_ARG;

    if (admin) {
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
