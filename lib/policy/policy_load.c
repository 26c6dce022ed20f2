/* policy_load.c — the enrollment policy model, from YAML or from a token's
 * JSON claim, validated in one pass over the document tree.
 *
 * Both inputs become the same tree (yaml.h), so the service evaluates
 * exactly the model the admin's file produced: the claim is the tree
 * written as JSON, and reading it back gives the same tree again. Every
 * message names the key path (approval.rules[1].match.source_ips[0]) and
 * what was expected; YAML errors also carry the line and column. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy_int.h"
#include "tokenroll/error.h"
#include "tokenroll/policy.h"
#include "yaml_int.h"

const char tkr_policy_default_yaml[] =
    "metadata:\n"
    "  project: \"nvflare-default\"\n"
    "  description: \"Built-in default policy for quick start\"\n"
    "  version: \"1.0\"\n"
    "\n"
    "token:\n"
    "  validity: 7d\n"
    "  max_uses: 1\n"
    "\n"
    "site:\n"
    "  name_pattern: \"*\"\n"
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
    "    - name: \"auto-approve-all\"\n"
    "      description: \"Auto-approve all enrollment requests\"\n"
    "      match: {}\n"
    "      action: approve\n"
    "\n"
    "notifications:\n"
    "  enabled: false\n";

static const char *const default_roles[] = {"lead", "member", "org_admin"};

typedef struct {
    tkr_policy_t *p;
    tkr_arena_t *a;
    tkr_diag_t *err;
    const char *file;
} vctx_t;

/* Schema errors carry the node's position. */
#define bad(c, n, ...) tkr_yaml_bad((c)->err, (c)->file, (n), 0, __VA_ARGS__)

static void show_node(char *out, size_t size, const tkr_yaml_node_t *n)
{
    if (n->kind == TKR_YAML_STR || n->kind == TKR_YAML_INT || n->kind == TKR_YAML_FLOAT)
        tkr_yaml_show(out, size, n->str, n->len, 60);
    else
        snprintf(out, size, "%s", tkr_yaml_kind_name(n));
}

static int want_map(vctx_t *v, const tkr_yaml_node_t *n, const char *path)
{
    if (n->kind != TKR_YAML_MAP)
        return bad(v, n, "%s: expected a mapping, found %s", path, tkr_yaml_kind_name(n));
    return 0;
}

/* Every key a string from allowed (NULL-terminated). */
static int check_keys(vctx_t *v, const tkr_yaml_node_t *map, const char *path,
                      const char *const *allowed)
{
    size_t i, j, k;
    char list[200], what[80];

    for (i = 0; i < map->n; i++) {
        const tkr_yaml_node_t *key = map->keys[i];
        int ok = 0;
        if (key->kind == TKR_YAML_STR)
            for (j = 0; allowed[j] != NULL; j++)
                if (strlen(allowed[j]) == key->len && memcmp(allowed[j], key->str, key->len) == 0)
                    ok = 1;
        if (ok)
            continue;
        list[0] = '\0';
        for (j = 0; allowed[j] != NULL; j++) {
            k = strlen(list);
            snprintf(list + k, sizeof(list) - k, "%s%s",
                     j == 0 ? "" : allowed[j + 1] == NULL ? " or " : ", ", allowed[j]);
        }
        show_node(what, sizeof(what), key);
        return bad(v, key, "%s: unknown key %s (expected %s)", path, what, list);
    }
    return 0;
}

/* A string member: *out stays as it was when the key is absent. */
static int get_str(vctx_t *v, const tkr_yaml_node_t *map, const char *key, const char *path,
                   char **out)
{
    const tkr_yaml_node_t *n = tkr_yaml_get(map, key);

    if (n == NULL)
        return 0;
    if (n->kind != TKR_YAML_STR)
        return bad(v, n, "%s.%s: expected a string, found %s", path, key, tkr_yaml_kind_name(n));
    *out = n->str;
    return 0;
}

static int get_bool(vctx_t *v, const tkr_yaml_node_t *map, const char *key, const char *path,
                    int *out)
{
    const tkr_yaml_node_t *n = tkr_yaml_get(map, key);

    if (n == NULL)
        return 0;
    if (n->kind != TKR_YAML_BOOL)
        return bad(v, n, "%s.%s: expected true or false, found %s", path, key, tkr_yaml_kind_name(n));
    *out = n->i != 0;
    return 0;
}

/* A list of non-empty strings. */
static int get_str_list(vctx_t *v, const tkr_yaml_node_t *n, const char *path, char ***out,
                        size_t *count)
{
    size_t i;

    if (n->kind != TKR_YAML_SEQ)
        return bad(v, n, "%s: expected a list of strings, found %s", path, tkr_yaml_kind_name(n));
    *out = tkr_arena_alloc(v->a, (n->n ? n->n : 1) * sizeof(char *));
    if (*out == NULL)
        return tkr_arena_error(v->a);
    for (i = 0; i < n->n; i++) {
        const tkr_yaml_node_t *s = n->items[i];
        if (s->kind != TKR_YAML_STR)
            return bad(v, s, "%s[%zu]: expected a string, found %s", path, i, tkr_yaml_kind_name(s));
        if (s->len == 0)
            return bad(v, s, "%s[%zu]: expected a non-empty string", path, i);
        (*out)[i] = s->str;
    }
    *count = n->n;
    return 0;
}

static char *dup(vctx_t *v, const char *s)
{
    return tkr_arena_strndup(v->a, s, strlen(s));
}

/* ---- sections ---- */

static int metadata(vctx_t *v, const tkr_yaml_node_t *m)
{
    static const char *const keys[] = {"project", "description", "version", NULL};
    const tkr_yaml_node_t *ver;
    int rc;

    if ((rc = want_map(v, m, "metadata")) != 0 || (rc = check_keys(v, m, "metadata", keys)) != 0 ||
        (rc = get_str(v, m, "project", "metadata", &v->p->project)) != 0 ||
        (rc = get_str(v, m, "description", "metadata", &v->p->description)) != 0)
        return rc;
    ver = tkr_yaml_get(m, "version");
    if (ver == NULL)
        return 0;
    /* An unquoted 1.0 is a float to YAML 1.1: kept as the text written. */
    if (ver->kind == TKR_YAML_FLOAT && (ver->f != ver->f || ver->f - ver->f != 0))
        return bad(v, ver, "metadata.version: expected a string or a finite number, found %s",
                   TKR_CYNODE(ver)->json);
    if (ver->kind != TKR_YAML_STR && ver->kind != TKR_YAML_INT && ver->kind != TKR_YAML_FLOAT)
        return bad(v, ver, "metadata.version: expected a string or a number, found %s",
                   tkr_yaml_kind_name(ver));
    v->p->version = ver->str;
    return 0;
}

static int token(vctx_t *v, const tkr_yaml_node_t *m)
{
    static const char *const keys[] = {"validity", "max_uses", NULL};
    const tkr_yaml_node_t *n;
    char what[80];
    int rc;

    if ((rc = want_map(v, m, "token")) != 0 || (rc = check_keys(v, m, "token", keys)) != 0)
        return rc;
    if ((n = tkr_yaml_get(m, "validity")) != NULL) {
        int64_t s = n->kind == TKR_YAML_STR ? tkr_policy_duration(n->str, n->len) : -1;
        show_node(what, sizeof(what), n);
        if (s < 0)
            return bad(v, n, "token.validity: %s is not a duration (expected a number and "
                             "s, m, h, d or w, e.g. 7d or 24h)", what);
        if (s == 0)
            return bad(v, n, "token.validity: %s must be longer than 0", what);
        v->p->validity = s;
    }
    if ((n = tkr_yaml_get(m, "max_uses")) != NULL) {
        if (n->kind != TKR_YAML_INT)
            return bad(v, n, "token.max_uses: expected an integer of at least 1, found %s",
                       tkr_yaml_kind_name(n));
        if (n->i < 1 || (n->flags & TKR_YAML_BIG))
            return bad(v, n, "token.max_uses: expected an integer of at least 1, found %s",
                       TKR_CYNODE(n)->json);
        v->p->max_uses = n->i;
    }
    return 0;
}

static int glob(vctx_t *v, const tkr_yaml_node_t *map, const char *key, const char *path,
                char **out)
{
    const tkr_yaml_node_t *n = tkr_yaml_get(map, key);
    char what[80];
    int rc;

    if (n == NULL)
        return 0;
    if ((rc = get_str(v, map, key, path, out)) != 0)
        return rc;
    if (tkr_glob_check(*out) != 0) {
        show_node(what, sizeof(what), n);
        return bad(v, n, "%s.%s: %s is not a valid glob pattern: %s", path, key, what,
                   tkr_glob_problem(*out));
    }
    return 0;
}

static int site(vctx_t *v, const tkr_yaml_node_t *m)
{
    static const char *const keys[] = {"name_pattern", NULL};
    int rc;

    if ((rc = want_map(v, m, "site")) != 0 || (rc = check_keys(v, m, "site", keys)) != 0)
        return rc;
    return glob(v, m, "name_pattern", "site", &v->p->site_name_pattern);
}

static int user(vctx_t *v, const tkr_yaml_node_t *m)
{
    static const char *const keys[] = {"allowed_roles", "default_role", NULL};
    const tkr_yaml_node_t *n;
    int rc;

    if ((rc = want_map(v, m, "user")) != 0 || (rc = check_keys(v, m, "user", keys)) != 0)
        return rc;
    if ((n = tkr_yaml_get(m, "allowed_roles")) != NULL) {
        if ((rc = get_str_list(v, n, "user.allowed_roles", &v->p->allowed_roles,
                               &v->p->n_allowed_roles)) != 0)
            return rc;
        if (v->p->n_allowed_roles == 0)
            return bad(v, n, "user.allowed_roles: expected at least one role");
        /* Without default_role, the first allowed role. */
        v->p->default_role = v->p->allowed_roles[0];
    }
    return get_str(v, m, "default_role", "user", &v->p->default_role);
}

static int match(vctx_t *v, const tkr_yaml_node_t *m, const char *path, tkr_policy_rule_t *r)
{
    static const char *const keys[] = {"site_name_pattern", "source_ips", NULL};
    const tkr_yaml_node_t *n;
    char sub[128], what[80];
    size_t i;
    int rc;

    if (m->kind == TKR_YAML_NULL) /* "match:" with nothing: as {} */
        return 0;
    if ((rc = want_map(v, m, path)) != 0 || (rc = check_keys(v, m, path, keys)) != 0 ||
        (rc = glob(v, m, "site_name_pattern", path, &r->site_name_pattern)) != 0)
        return rc;
    if ((n = tkr_yaml_get(m, "source_ips")) == NULL)
        return 0;
    snprintf(sub, sizeof(sub), "%s.source_ips", path);
    if (n->kind != TKR_YAML_SEQ)
        return bad(v, n, "%s: expected a list of CIDRs (e.g. [\"10.0.0.0/8\"]), found %s", sub,
                   tkr_yaml_kind_name(n));
    if (n->n == 0)
        return bad(v, n, "%s: the list is empty, so the rule could never match; remove the key "
                         "to match any address", sub);
    r->source_ips = tkr_arena_alloc(v->a, n->n * sizeof(tkr_cidr_t));
    if (r->source_ips == NULL)
        return tkr_arena_error(v->a);
    for (i = 0; i < n->n; i++) {
        const tkr_yaml_node_t *s = n->items[i];
        if (s->kind != TKR_YAML_STR)
            return bad(v, s, "%s[%zu]: expected a CIDR string such as \"10.0.0.0/8\", found %s",
                       sub, i, tkr_yaml_kind_name(s));
        if (tkr_cidr_parse(&r->source_ips[i], s->str, s->len) != 0) {
            show_node(what, sizeof(what), s);
            return bad(v, s, "%s[%zu]: %s is not a CIDR (expected an IPv4 or IPv6 address with "
                             "an optional /prefix, e.g. 10.0.0.0/8 or 2001:db8::/32)", sub, i, what);
        }
    }
    r->n_source_ips = n->n;
    return 0;
}

static int rule(vctx_t *v, const tkr_yaml_node_t *m, size_t idx, tkr_policy_rule_t *r)
{
    static const char *const keys[] = {"name", "description", "match", "action",
                                       "message", "notify", NULL};
    const tkr_yaml_node_t *n;
    char path[64], sub[96], what[80];
    int rc;

    snprintf(path, sizeof(path), "approval.rules[%zu]", idx);
    r->line = m->line;
    r->column = m->column;
    if ((rc = want_map(v, m, path)) != 0 || (rc = check_keys(v, m, path, keys)) != 0 ||
        (rc = get_str(v, m, "name", path, &r->name)) != 0 ||
        (rc = get_str(v, m, "description", path, &r->description)) != 0 ||
        (rc = get_str(v, m, "message", path, &r->message)) != 0)
        return rc;
    if (r->name == NULL && (r->name = dup(v, "unnamed")) == NULL)
        return tkr_arena_error(v->a);
    if ((n = tkr_yaml_get(m, "match")) != NULL) {
        snprintf(sub, sizeof(sub), "%s.match", path);
        if ((rc = match(v, n, sub, r)) != 0)
            return rc;
    }
    if ((n = tkr_yaml_get(m, "notify")) != NULL) {
        snprintf(sub, sizeof(sub), "%s.notify", path);
        if ((rc = get_str_list(v, n, sub, &r->notify, &r->n_notify)) != 0)
            return rc;
    }
    n = tkr_yaml_get(m, "action");
    if (n == NULL)
        return bad(v, m, "%s (\"%.40s\"): missing action (expected approve, pending or reject)",
                   path, r->name);
    if (n->kind == TKR_YAML_STR && strcmp(n->str, "approve") == 0 && n->len == 7) {
        r->action = TKR_ACTION_APPROVE;
    } else if (n->kind == TKR_YAML_STR && strcmp(n->str, "pending") == 0 && n->len == 7) {
        r->action = TKR_ACTION_PENDING;
    } else if (n->kind == TKR_YAML_STR && strcmp(n->str, "reject") == 0 && n->len == 6) {
        r->action = TKR_ACTION_REJECT;
    } else {
        show_node(what, sizeof(what), n);
        return bad(v, n, "%s.action: unknown action %s (expected approve, pending or reject)",
                   path, what);
    }
    return 0;
}

static int approval(vctx_t *v, const tkr_yaml_node_t *m)
{
    static const char *const keys[] = {"method", "rules", NULL};
    const tkr_yaml_node_t *n;
    size_t i;
    int rc;

    if ((rc = want_map(v, m, "approval")) != 0 || (rc = check_keys(v, m, "approval", keys)) != 0)
        return rc;
    if ((n = tkr_yaml_get(m, "method")) != NULL) {
        char what[80];
        if ((rc = get_str(v, m, "method", "approval", &v->p->approval_method)) != 0)
            return rc;
        /* FLARE's files use both; its service lets the rules decide
         * either way (a manual policy's rules say pending). */
        if (strcmp(v->p->approval_method, "policy") != 0 &&
            strcmp(v->p->approval_method, "manual") != 0) {
            show_node(what, sizeof(what), n);
            return bad(v, n, "approval.method: unknown method %s (expected policy or manual)",
                       what);
        }
    }
    if ((n = tkr_yaml_get(m, "rules")) == NULL)
        return 0;
    if (n->kind != TKR_YAML_SEQ)
        return bad(v, n, "approval.rules: expected a list of rules, found %s", tkr_yaml_kind_name(n));
    v->p->rules = tkr_arena_alloc(v->a, (n->n ? n->n : 1) * sizeof(tkr_policy_rule_t));
    if (v->p->rules == NULL)
        return tkr_arena_error(v->a);
    for (i = 0; i < n->n; i++)
        if ((rc = rule(v, n->items[i], i, &v->p->rules[i])) != 0)
            return rc;
    v->p->n_rules = n->n;
    return 0;
}

static int smtp_config(vctx_t *v, const tkr_yaml_node_t *n)
{
    const char *path = "notifications.channels.email.smtp_config";
    size_t i;

    if (n->kind == TKR_YAML_STR)
        return 0;
    if (n->kind != TKR_YAML_MAP)
        return bad(v, n, "%s: expected a mapping (host, port, ...) or a string, found %s", path,
                   tkr_yaml_kind_name(n));
    /* The mailer's own settings: any names, scalar values. */
    for (i = 0; i < n->n; i++) {
        const tkr_yaml_node_t *k = n->keys[i], *val = n->items[i];
        if (k->kind != TKR_YAML_STR)
            return bad(v, k, "%s: keys must be strings, found %s", path, tkr_yaml_kind_name(k));
        if (val->kind == TKR_YAML_SEQ || val->kind == TKR_YAML_MAP ||
            (val->kind == TKR_YAML_FLOAT && (val->f != val->f || val->f - val->f != 0)))
            return bad(v, val, "%s.%.40s: expected a string, number or boolean, found %s", path,
                       k->str, tkr_yaml_kind_name(val));
    }
    return 0;
}

static int notifications(vctx_t *v, const tkr_yaml_node_t *m)
{
    static const char *const keys[] = {"enabled", "channels", NULL};
    static const char *const ch_keys[] = {"email", "webhook", NULL};
    static const char *const email_keys[] = {"enabled", "smtp_config", NULL};
    static const char *const hook_keys[] = {"enabled", "url", NULL};
    const tkr_yaml_node_t *ch, *n, *s;
    int rc;

    if ((rc = want_map(v, m, "notifications")) != 0 ||
        (rc = check_keys(v, m, "notifications", keys)) != 0 ||
        (rc = get_bool(v, m, "enabled", "notifications", &v->p->notifications_enabled)) != 0)
        return rc;
    if ((ch = tkr_yaml_get(m, "channels")) == NULL)
        return 0;
    if ((rc = want_map(v, ch, "notifications.channels")) != 0 ||
        (rc = check_keys(v, ch, "notifications.channels", ch_keys)) != 0)
        return rc;
    if ((n = tkr_yaml_get(ch, "email")) != NULL) {
        const char *path = "notifications.channels.email";
        if ((rc = want_map(v, n, path)) != 0 || (rc = check_keys(v, n, path, email_keys)) != 0 ||
            (rc = get_bool(v, n, "enabled", path, &v->p->email_enabled)) != 0)
            return rc;
        if ((s = tkr_yaml_get(n, "smtp_config")) != NULL && (rc = smtp_config(v, s)) != 0)
            return rc;
        v->p->smtp_config = s;
    }
    if ((n = tkr_yaml_get(ch, "webhook")) != NULL) {
        const char *path = "notifications.channels.webhook";
        char what[80];
        if ((rc = want_map(v, n, path)) != 0 || (rc = check_keys(v, n, path, hook_keys)) != 0 ||
            (rc = get_bool(v, n, "enabled", path, &v->p->webhook_enabled)) != 0 ||
            (rc = get_str(v, n, "url", path, &v->p->webhook_url)) != 0)
            return rc;
        s = tkr_yaml_get(n, "url");
        if (s != NULL && !tkr_policy_url_ok(s->str, s->len, 1)) {
            show_node(what, sizeof(what), s);
            return bad(v, s, "%s.url: %s is not an http:// or https:// URL", path, what);
        }
    }
    return 0;
}

static int in_roles(char *const *list, size_t n, const char *role)
{
    size_t i;
    for (i = 0; i < n; i++)
        if (strcmp(list[i], role) == 0)
            return 1;
    return 0;
}

/* Validate the whole tree into v->p (defaults first, then each section). */
static int build(vctx_t *v, const tkr_yaml_node_t *root)
{
    static const char *const keys[] = {"metadata", "token", "site", "user",
                                       "approval", "notifications", NULL};
    static const struct {
        const char *key;
        int (*fn)(vctx_t *, const tkr_yaml_node_t *);
    } sections[] = {{"metadata", metadata}, {"token", token}, {"site", site},
                    {"user", user}, {"approval", approval}, {"notifications", notifications}};
    tkr_policy_t *p = v->p;
    const tkr_yaml_node_t *n;
    size_t i, len;
    int rc;

    if (root == NULL) {
        tkr_yaml_set_err(v->err, v->file, 1, 1,
                         "the policy is empty (expected a mapping with metadata, token, site, "
                         "user, approval, notifications)");
        return TKR_E_POLICY;
    }
    if (root->kind != TKR_YAML_MAP)
        return bad(v, root, "the policy must be a mapping (metadata, token, site, user, "
                            "approval, notifications), found %s", tkr_yaml_kind_name(root));
    /* One rule for every string, from a file or from a claim: no NUL, and
     * every ${...} well formed. */
    if ((rc = tkr_yaml_check_strings(root, TKR_YAML_NO_NUL | TKR_YAML_ENVREFS, v->file,
                                     v->err)) != 0 ||
        (rc = check_keys(v, root, "policy", keys)) != 0)
        return rc;
    p->doc = root;

    p->validity = TKR_POLICY_VALIDITY_DEFAULT;
    p->max_uses = 1;
    p->allowed_roles = tkr_arena_alloc(v->a, sizeof(default_roles));
    if (p->allowed_roles == NULL || (p->site_name_pattern = dup(v, "*")) == NULL ||
        (p->approval_method = dup(v, "policy")) == NULL)
        return tkr_arena_error(v->a);
    for (i = 0; i < 3; i++)
        if ((p->allowed_roles[i] = dup(v, default_roles[i])) == NULL)
            return tkr_arena_error(v->a);
    p->n_allowed_roles = 3;
    p->default_role = p->allowed_roles[0];

    for (i = 0; i < sizeof(sections) / sizeof(sections[0]); i++)
        if ((n = tkr_yaml_get(root, sections[i].key)) != NULL && (rc = sections[i].fn(v, n)) != 0)
            return rc;

    if (!in_roles(p->allowed_roles, p->n_allowed_roles, p->default_role)) {
        char list[160] = "";
        const tkr_yaml_node_t *at = tkr_yaml_get(tkr_yaml_get(root, "user"), "default_role");
        for (i = 0; i < p->n_allowed_roles; i++) {
            len = strlen(list);
            snprintf(list + len, sizeof(list) - len, "%s%s", i ? ", " : "", p->allowed_roles[i]);
        }
        return bad(v, at, "user.default_role: \"%.40s\" is not one of user.allowed_roles (%s)",
                   p->default_role, list);
    }

    /* The claim: the document as FLARE's json.dumps writes it. */
    rc = tkr_yaml_to_json(NULL, 0, &len, root);
    if (rc != TKR_E_BUFFER_TOO_SMALL)
        return rc == 0 ? TKR_E_INVALID_ARG : rc;
    p->json = tkr_arena_alloc(v->a, len + 1);
    if (p->json == NULL)
        return tkr_arena_error(v->a);
    rc = tkr_yaml_to_json(p->json, len + 1, &p->json_len, root);
    if (rc != 0)
        return rc;
    if (p->json_len > TKR_JSON_LEN_MAX)
        return bad(v, root, "the policy's JSON form is larger than %d bytes", TKR_JSON_LEN_MAX);
    return 0;
}

void tkr_policy_init(tkr_policy_t *p)
{
    if (p != NULL)
        memset(p, 0, sizeof(*p));
}

void tkr_policy_free(tkr_policy_t *p)
{
    if (p == NULL)
        return;
    tkr_arena_free(p->arena);
    memset(p, 0, sizeof(*p));
}

static int finish(tkr_policy_t *p, tkr_arena_t *a, const tkr_yaml_node_t *root,
                  const char *file, tkr_diag_t *err)
{
    vctx_t v;
    int rc;

    memset(p, 0, sizeof(*p));
    v.p = p;
    v.a = a;
    v.err = err;
    v.file = file;
    rc = build(&v, root);
    if (rc != 0) {
        if ((rc == TKR_E_TOO_LARGE || rc == TKR_E_NO_MEMORY) && err != NULL && err->msg[0] == '\0')
            tkr_yaml_set_err(err, file, 0, 0, "%s", tkr_arena_why(rc));
        tkr_arena_free(a);
        memset(p, 0, sizeof(*p));
        return rc;
    }
    p->arena = a;
    return 0;
}

int tkr_policy_load_yaml(tkr_policy_t *p, const char *text, size_t len,
                         const char *file, tkr_diag_t *err)
{
    tkr_yaml_doc_t doc;
    int rc;

    if (p == NULL)
        return TKR_E_INVALID_ARG;
    tkr_policy_free(p);
    tkr_yaml_init(&doc);
    rc = tkr_yaml_load(&doc, text, len, file, err);
    if (rc != 0)
        return rc;
    return finish(p, doc.arena, doc.root, file, err);
}

int tkr_policy_load_json(tkr_policy_t *p, const tkr_json_t *doc, int t,
                         tkr_diag_t *err)
{
    tkr_arena_t *a;
    tkr_yaml_node_t *root = NULL;
    int rc;

    if (err != NULL)
        memset(err, 0, sizeof(*err));
    if (p == NULL || doc == NULL)
        return TKR_E_INVALID_ARG;
    tkr_policy_free(p);
    a = tkr_arena_new();
    if (a == NULL)
        return TKR_E_NO_MEMORY;
    rc = tkr_yaml_from_json(a, doc, t, &root, err);
    if (rc != 0) {
        if (err != NULL && err->msg[0] == '\0')
            tkr_yaml_set_err(err, NULL, 0, 0, "policy claim: %s", tkr_strerror(rc));
        tkr_arena_free(a);
        return rc;
    }
    return finish(p, a, root, NULL, err);
}

int tkr_policy_load_default(tkr_policy_t *p)
{
    return tkr_policy_load_yaml(p, tkr_policy_default_yaml, sizeof(tkr_policy_default_yaml) - 1,
                                "<built-in default policy>", NULL);
}

int64_t tkr_policy_duration(const char *s, size_t len)
{
    int64_t v = 0, unit;
    size_t i;

    if (s == NULL || len < 2)
        return -1;
    for (i = 0; i + 1 < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        if (v > (INT64_MAX - 9) / 10)
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    switch (s[len - 1]) {
    case 's': unit = 1; break;
    case 'm': unit = 60; break;
    case 'h': unit = 3600; break;
    case 'd': unit = 86400; break;
    case 'w': unit = 604800; break;
    default: return -1;
    }
    if (v > INT64_MAX / unit)
        return -1;
    return v * unit;
}

const char *tkr_policy_action_name(tkr_policy_action_t a)
{
    switch (a) {
    case TKR_ACTION_APPROVE: return "approve";
    case TKR_ACTION_PENDING: return "pending";
    case TKR_ACTION_REJECT: return "reject";
    default: return "unknown";
    }
}
