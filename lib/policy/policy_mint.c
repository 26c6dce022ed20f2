/* policy_mint.c — the rules an admin's mint request must meet, shared by
 * `tokenroll token generate|batch` and the service's token endpoint. */
#include <string.h>

#include "tokenroll/error.h"
#include "tokenroll/policy.h"

/* FLARE's built-in default role, for a policy that names none. */
#define FALLBACK_ROLE "lead"

static int role_allowed(const tkr_policy_t *p, const char *role)
{
    size_t i;

    if (p->n_allowed_roles == 0)
        return 1;
    for (i = 0; i < p->n_allowed_roles; i++)
        if (strcmp(p->allowed_roles[i], role) == 0)
            return 1;
    return 0;
}

int tkr_policy_mint_claims(tkr_token_claims_t *c, tkr_mint_request_t *r,
                           const tkr_policy_t *p, tkr_diag_t *diag)
{
    int rc;

    if (c == NULL || r == NULL || p == NULL || tkr_subject_type_name(r->type) == NULL)
        return TKR_E_INVALID_ARG;
    c->type = r->type;
    c->roles = NULL;
    c->n_roles = 0;
    if (r->type != TKR_SUBJECT_ADMIN) {
        if (r->role != NULL)
            return tkr_diag(diag, TKR_E_INVALID_ARG, "role", "is for user (admin) tokens only");
    } else {
        if (r->role == NULL)
            r->role = p->default_role != NULL ? p->default_role : FALLBACK_ROLE;
        if (!role_allowed(p, r->role))
            return tkr_diag(diag, TKR_E_POLICY, "role", "is not allowed by the policy");
        c->roles = &r->role;
        c->n_roles = 1;
    }
    if ((rc = tkr_token_source_ips_check(r->source_ips, r->n_source_ips, diag)) != 0)
        return rc;
    c->source_ips = r->n_source_ips > 0 ? r->source_ips : NULL;
    c->n_source_ips = r->n_source_ips;
    if (r->validity < 0)
        return tkr_diag(diag, TKR_E_INVALID_ARG, "validity", "must be longer than 0");
    c->validity = r->validity > 0   ? r->validity
                  : p->validity > 0 ? p->validity
                                    : TKR_POLICY_VALIDITY_DEFAULT;
    c->policy = p->json;
    c->policy_len = p->json_len;
    c->max_uses = p->max_uses > 0 ? p->max_uses : 1;
    return 0;
}

int tkr_policy_mint_subject(const tkr_policy_t *p, tkr_subject_type_t type,
                            const char *subject, tkr_diag_t *diag)
{
    int rc;

    if (p == NULL)
        return TKR_E_INVALID_ARG;
    if ((rc = tkr_token_subject_check(subject, type, diag)) != 0)
        return rc;
    if (type == TKR_SUBJECT_ADMIN || type == TKR_SUBJECT_PATTERN ||
        p->site_name_pattern == NULL || tkr_glob_match(p->site_name_pattern, subject))
        return 0;
    return tkr_diag(diag, TKR_E_POLICY, "sub", "does not match the policy's site.name_pattern");
}
