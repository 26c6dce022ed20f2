/* tokenroll/policy.h — the enrollment policy (DESIGN.md, "Enrollment
 * policy"): one model, loaded from YAML (the admin's file) or from JSON
 * (a token's signed "policy" claim), validated completely, and evaluated
 * with FLARE's semantics. Admin/service side; allocates (one arena per
 * policy: tkr_policy_free releases everything).
 *
 * Schema (every key optional; unknown keys are errors):
 *   metadata:      project, description (strings), version (string, or a
 *                  number such as an unquoted 1.0, kept as written in the
 *                  YAML; from a JSON claim, as the claim writes it)
 *   token:         validity (duration "<n>[smhdw]", > 0), max_uses (int >= 1)
 *   site:          name_pattern (glob)
 *   user:          allowed_roles (non-empty list of strings), default_role
 *                  (one of them)
 *   approval:      method ("policy" or "manual": FLARE's files use both,
 *                  and in both the rules decide), rules: list of
 *                  {name, description, match (absent, null or {} match
 *                  all; else site_name_pattern (glob) and/or source_ips
 *                  (non-empty list of CIDRs)), action (approve,
 *                  pending or reject; required), message, notify (list of
 *                  strings)}
 *   notifications: enabled (bool), channels: {email: {enabled,
 *                  smtp_config (a mapping of scalars, or a string)},
 *                  webhook: {enabled, url (http:// or https://)}}
 * Every string, key or value, is free of NUL (YAML "\0", JSON \u0000),
 * from a file and from a claim alike.
 *
 * Environment references (envref.h): ${NAME} in a string value names an
 * environment variable. The notification settings a service uses when it
 * sends (notifications.channels.email.smtp_config, its string or its
 * values; notifications.channels.webhook.url; approval.rules[].notify)
 * are expanded there, with the service's environment, and nowhere else:
 * the model and the token's "policy" claim keep the text as written, so
 * a token stays byte-identical with FLARE's and the signed rules never
 * depend on the environment of whoever reads them. In any other value a
 * reference is text (tkr_policy_check_env warns). A malformed reference is
 * an error in every value.
 *
 * A missing section takes the built-in default policy's values, except
 * approval: without rules every request is approved (rule "default"), as
 * FLARE evaluates it. Every key of the document must be a string.
 * site.name_pattern is validated and kept for whoever mints tokens;
 * tkr_policy_eval does not apply it (FLARE's service does not either). */
#ifndef TOKENROLL_POLICY_H
#define TOKENROLL_POLICY_H

#include <stddef.h>
#include <stdint.h>

#include "cidr.h"
#include "envref.h"
#include "error.h"
#include "glob.h"
#include "json.h"
#include "subject.h"
#include "token.h"
#include "yaml.h"

/* token.validity when the policy does not say: 7 days, as FLARE. */
#define TKR_POLICY_VALIDITY_DEFAULT (7 * 86400)

typedef enum {
    TKR_ACTION_REJECT = 0,
    TKR_ACTION_APPROVE,
    TKR_ACTION_PENDING
} tkr_policy_action_t;

typedef struct {
    char *name;                  /* "unnamed" when the rule has none */
    char *description;           /* NULL when absent */
    char *site_name_pattern;     /* NULL: any name */
    tkr_cidr_t *source_ips;      /* NULL/0: any address */
    size_t n_source_ips;
    tkr_policy_action_t action;
    char *message;               /* NULL when absent */
    char **notify;
    size_t n_notify;
    int line, column;            /* where the rule is (0 from JSON) */
} tkr_policy_rule_t;

typedef struct {
    char *project, *description, *version;   /* metadata; NULL when absent */
    int64_t validity;            /* token.validity in seconds (default 7d) */
    int64_t max_uses;            /* token.max_uses (default 1) */
    char *site_name_pattern;     /* site.name_pattern (default "*") */
    char **allowed_roles;        /* user.allowed_roles (default lead,
                                    member, org_admin) */
    size_t n_allowed_roles;
    char *default_role;          /* user.default_role (default lead, or the
                                    first allowed role) */
    char *approval_method;       /* approval.method (default "policy") */
    tkr_policy_rule_t *rules;
    size_t n_rules;
    int notifications_enabled;   /* notifications.enabled (default 0) */
    int email_enabled;           /* notifications.channels.email.enabled */
    int webhook_enabled;         /* notifications.channels.webhook.enabled */
    char *webhook_url;           /* NULL when absent; as written (may hold
                                    ${...}: tkr_policy_webhook_url) */
    /* notifications.channels.email.smtp_config as written (a string or a
     * mapping of scalars); NULL when absent. */
    const tkr_yaml_node_t *smtp_config;
    const tkr_yaml_node_t *doc;  /* the whole document, as written */
    /* The document itself as compact ASCII JSON (what a token signs):
     * byte-identical to FLARE's json.dumps(yaml.safe_load(file)). */
    char *json;
    size_t json_len;
    void *arena;
} tkr_policy_t;

/* What an enrollment request presents. */
typedef struct {
    const char *name;            /* enrollment name (site or user) */
    tkr_subject_type_t type;     /* client (0, the default), admin, relay,
                                    server; never pattern */
    const char *ip;              /* source address, NULL when unknown */
    const char *role;            /* requested role (admin type), or NULL for
                                    the policy's default role */
    /* The token's own roles / source_ips claims: NULL when the claim is
     * absent. A claim that is present but empty is a non-NULL pointer with
     * a count of 0, and allows nothing. */
    const char *const *token_roles;
    size_t n_token_roles;
    const char *const *token_source_ips;
    size_t n_token_source_ips;
    void *arena;                 /* storage of tkr_policy_request_from_token */
} tkr_policy_request_t;

typedef struct {
    tkr_policy_action_t action;
    const char *rule;            /* rule name, "role-constraint", "default",
                                    "default-deny", "token-roles",
                                    "token-source-ips" */
    const char *message;         /* the rule's message, may be NULL */
} tkr_policy_decision_t;

void tkr_policy_init(tkr_policy_t *p);
/* Releases everything the policy holds; p is initialised again. */
void tkr_policy_free(tkr_policy_t *p);

/* Parse a duration "<n>[smhdw]" into seconds; -1 when malformed or when
 * the seconds overflow int64_t. "0s" is 0 (the policy loader refuses it). */
int64_t tkr_policy_duration(const char *s, size_t len);

/* Load and validate from YAML text (file names it in errors).
 * TKR_E_YAML / TKR_E_POLICY / TKR_E_TOO_LARGE / TKR_E_NO_MEMORY with err
 * filled (file, pointing at the caller's file, line,
 * column, message naming the key path and what was expected: unknown
 * key, wrong type, bad duration, bad glob, bad CIDR, missing or unknown
 * action, default_role outside allowed_roles, ...). p must be initialised;
 * on failure it holds nothing. err may be NULL. */
int tkr_policy_load_yaml(tkr_policy_t *p, const char *text, size_t len,
                         const char *file, tkr_diag_t *err);

/* Load and validate the same model from JSON value t of doc (a token's
 * "policy" claim). err->line is 0; err->msg names the member path.
 * p->json is the value re-written compactly (for a claim FLARE wrote,
 * the claim's own bytes). */
int tkr_policy_load_json(tkr_policy_t *p, const tkr_json_t *doc, int t,
                         tkr_diag_t *err);

/* The built-in default policy of the token-command document. */
int tkr_policy_load_default(tkr_policy_t *p);

/* The default policy's YAML text (as the token-command document prints
 * it; tests/vectors/flare/default_policy.yaml). */
extern const char tkr_policy_default_yaml[];

/* A warning: where (file, line, column; 0 from a claim) and what. */
typedef void (*tkr_policy_warn_fn)(void *ctx, const tkr_diag_t *w);

/* Check the environment references of a loaded policy against env (NULL:
 * nothing is set), as the service will expand them. A value the service
 * expands is validated expanded, as if written literally: a webhook URL
 * must be http:// or https://, a notify recipient non-empty; when invalid,
 * TKR_E_POLICY with err at the value's position. A variable that is not
 * set is a warning (the value cannot be used until it is), and so is a
 * reference in a value that is never expanded (the text is used as
 * written); warn (may be NULL) is called for each, in document order.
 * file names the policy in messages (NULL from a claim). 0 otherwise. */
int tkr_policy_check_env(const tkr_policy_t *p, const tkr_envref_env_t *env,
                         const char *file, tkr_policy_warn_fn warn, void *ctx,
                         tkr_diag_t *err);

/* The webhook URL as a service sends to it: notifications.channels.
 * webhook.url with env's values in, NUL-terminated, checked to be http://
 * or https://. TKR_E_NOT_FOUND when the policy has no URL or a variable is
 * not set, TKR_E_POLICY when the expanded URL is not http(s),
 * TKR_E_BUFFER_TOO_SMALL (*out_len: the length needed); err says which.
 * err may be NULL. */
int tkr_policy_webhook_url(const tkr_policy_t *p, const tkr_envref_env_t *env,
                           char *out, size_t out_size, size_t *out_len,
                           tkr_diag_t *err);

/* Decide a request. Roles first (admin type: requested role, or the
 * policy's default role, must be in allowed_roles, else reject
 * "role-constraint"; and in the token's roles claim when present, else
 * reject "token-roles"; other types ignore roles); token source_ips claim
 * (when present, ip must be inside one, else reject "token-source-ips");
 * then rules: none -> approve "default"; first rule whose conditions all
 * hold wins (site_name_pattern on name; source_ips needs ip inside one,
 * an unknown ip never matches); empty match matches all; no match ->
 * reject "default-deny". d->rule and d->message point into p or to
 * static text. TKR_E_INVALID_ARG for a NULL name or a type that is not a
 * participant's (pattern). */
int tkr_policy_eval(const tkr_policy_t *p, const tkr_policy_request_t *req,
                    tkr_policy_decision_t *d);

const char *tkr_policy_action_name(tkr_policy_action_t a);

/* The token's side of a request: its roles and source_ips claims, copied
 * unescaped into storage req owns (tkr_policy_request_free releases it).
 * An absent claim leaves the field NULL; a present but empty one is
 * non-NULL with a count of 0. name, type, ip and role stay the caller's:
 * the service takes them from the request, checked against the token.
 * TKR_E_CLAIM_TYPE with diag name "roles" or "source_ips" when a claim is
 * not a list of strings; TKR_E_NO_MEMORY. req must be zeroed or filled by
 * the caller, with arena NULL. */
int tkr_policy_request_from_token(tkr_policy_request_t *req, const tkr_jwt_t *jwt,
                                  tkr_diag_t *diag);
/* Releases what tkr_policy_request_from_token copied; the token fields
 * are NULL again. */
void tkr_policy_request_free(tkr_policy_request_t *req);

/* ---- minting under a policy ---- */

/* An admin's choices for one mint (the flags of `token generate`, the
 * fields of POST /api/v1/token), before the policy has its say. */
typedef struct {
    tkr_subject_type_t type;
    const char *role;            /* admin: the requested role; NULL = the
                                    policy's default_role, else "lead" */
    int64_t validity;            /* seconds; 0 = the policy's token.validity */
    const char *const *source_ips; /* NULL/0: no source_ips claim */
    size_t n_source_ips;
} tkr_mint_request_t;

/* The mint-time rules, so no token is signed that the service would
 * refuse: a role only for admin tokens (TKR_E_INVALID_ARG, diag name
 * "role"), one the policy's allowed_roles holds (TKR_E_POLICY, diag name
 * "role"); source_ips all CIDRs (TKR_E_POLICY, diag name "source_ips[i]");
 * validity >= 0 (TKR_E_INVALID_ARG, "validity"). Fills c's type, roles,
 * source_ips, validity, policy and max_uses; subject, issuer, jti and
 * issued_at stay the caller's. r->role is resolved in place and c->roles
 * points at it: r must outlive c. */
int tkr_policy_mint_claims(tkr_token_claims_t *c, tkr_mint_request_t *r,
                           const tkr_policy_t *p, tkr_diag_t *diag);

/* One subject under the same rules: tkr_token_subject_check, then the
 * policy's site.name_pattern for a token that names one site (client,
 * relay, server): a token for any other site could never be used.
 * TKR_E_POLICY with diag name "sub" when the pattern refuses it. */
int tkr_policy_mint_subject(const tkr_policy_t *p, tkr_subject_type_t type,
                            const char *subject, tkr_diag_t *diag);

#endif
