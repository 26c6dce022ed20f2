/* tokenroll/policy.h — the enrollment policy (DESIGN.md, "Enrollment
 * policy"): one model, loaded from YAML (the admin's file) or from JSON
 * (a token's signed "policy" claim), validated completely, and evaluated
 * with FLARE's semantics. Admin/service side; allocates. */
#ifndef TOKENROLL_POLICY_H
#define TOKENROLL_POLICY_H

#include <stddef.h>
#include <stdint.h>

#include "json.h"
#include "yaml.h"

typedef enum {
    TKR_ACTION_REJECT = 0,
    TKR_ACTION_APPROVE,
    TKR_ACTION_PENDING
} tkr_policy_action_t;

/* Address block; family 4 or 6, addr in network order, prefix bits. */
typedef struct {
    int family;
    uint8_t addr[16];
    unsigned prefix;
} tkr_cidr_t;

typedef struct {
    char *name;
    char *description;
    char *site_name_pattern;     /* NULL: any name */
    tkr_cidr_t *source_ips;      /* NULL/0: any address */
    size_t n_source_ips;
    tkr_policy_action_t action;
    char *message;
    char **notify;
    size_t n_notify;
} tkr_policy_rule_t;

typedef struct {
    char *project, *description, *version;   /* metadata */
    int64_t validity;            /* token.validity in seconds (default 7d) */
    int64_t max_uses;            /* token.max_uses (default 1) */
    char *site_name_pattern;     /* site.name_pattern (default "*") */
    char **allowed_roles;        /* user.allowed_roles */
    size_t n_allowed_roles;
    char *default_role;          /* user.default_role */
    char *approval_method;       /* approval.method (default "policy") */
    tkr_policy_rule_t *rules;
    size_t n_rules;
    int notifications_enabled;
    /* The document itself as compact ASCII JSON (what a token signs). */
    char *json;
    size_t json_len;
    void *arena;
} tkr_policy_t;

/* What an enrollment request presents. */
typedef struct {
    const char *name;            /* enrollment name (site or user) */
    const char *type;            /* client, admin, relay, server */
    const char *ip;              /* source address, NULL when unknown */
    const char *role;            /* requested role (admin type), or NULL */
    /* The token's own roles / source_ips claims (NULL/0 when absent). */
    const char *const *token_roles;
    size_t n_token_roles;
    const char *const *token_source_ips;
    size_t n_token_source_ips;
} tkr_policy_request_t;

typedef struct {
    tkr_policy_action_t action;
    const char *rule;            /* rule name, "role-constraint", "default",
                                    "default-deny", "token-roles",
                                    "token-source-ips" */
    const char *message;         /* the rule's message, may be NULL */
} tkr_policy_decision_t;

void tkr_policy_init(tkr_policy_t *p);
void tkr_policy_free(tkr_policy_t *p);

/* Parse a duration "<n>[smhdw]" into seconds; -1 when malformed. */
int64_t tkr_policy_duration(const char *s, size_t len);

/* Load and validate from YAML text (file names it in errors).
 * TKR_E_YAML / TKR_E_POLICY with err filled (file, line, column, message:
 * unknown key, wrong type, bad duration, bad glob, bad CIDR, missing or
 * unknown action, default_role outside allowed_roles, ...). */
int tkr_policy_load_yaml(tkr_policy_t *p, const char *text, size_t len,
                         const char *file, tkr_yaml_err_t *err);

/* Load and validate the same model from JSON value t of doc (a token's
 * "policy" claim). err->line is 0; err->msg names the member path. */
int tkr_policy_load_json(tkr_policy_t *p, const tkr_json_t *doc, int t,
                         tkr_yaml_err_t *err);

/* The built-in default policy of the token-command document. */
int tkr_policy_load_default(tkr_policy_t *p);

/* Decide a request. Roles first (admin type: requested role, or the
 * policy's default role, must be in allowed_roles, else reject
 * "role-constraint"; and in the token's roles claim when present, else
 * reject "token-roles"); token source_ips claim (ip must be inside one,
 * else reject "token-source-ips"); then rules: none -> approve "default";
 * first rule whose conditions all hold wins; empty match matches all; no
 * match -> reject "default-deny". */
int tkr_policy_eval(const tkr_policy_t *p, const tkr_policy_request_t *req,
                    tkr_policy_decision_t *d);

/* Helpers shared with the service. */
int tkr_cidr_parse(tkr_cidr_t *c, const char *s, size_t len);
/* 1 when ip (text) is inside c, 0 when not or unparsable. */
int tkr_cidr_contains(const tkr_cidr_t *c, const char *ip);
/* Shell glob (fnmatch without flags, case-sensitive): 1 on match. */
int tkr_glob_match(const char *pattern, const char *name);
/* 0 when pattern is a well-formed glob (brackets closed, ...). */
int tkr_glob_check(const char *pattern);

const char *tkr_policy_action_name(tkr_policy_action_t a);

#endif
