/* project.c — FLARE's project.yml (api_version 3), checked as `nvflare
 * provision` checks it (nvflare/lighter/provision.py, entity.py), plus
 * what provision lets through and fails on later: unknown keys, ports out
 * of range, a missing server.
 *
 * Names follow FLARE's name_check patterns: a server or overseer is a host
 * name, a client or relay [A-Za-z0-9_-]+, an admin an e-mail address, an
 * org [A-Za-z0-9_]+. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "tokenroll/error.h"
#include "tokenroll/project.h"
#include "tokenroll/subject.h"
#include "yaml_int.h"

typedef struct {
    tkr_project_t *p;
    tkr_diag_t *err;
    const char *file;
    tkr_arena_t *a;
} pctx_t;

/* Schema errors carry the node's position (1:1 for the document itself). */
#define bad(c, n, ...) tkr_yaml_bad((c)->err, (c)->file, (n), 1, __VA_ARGS__)

static int in(const char *s, size_t n, const char *const *list)
{
    size_t i;
    for (i = 0; list[i] != NULL; i++)
        if (strlen(list[i]) == n && memcmp(list[i], s, n) == 0)
            return 1;
    return 0;
}

static int is_alnum(char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9');
}

static int all_of(const char *s, const char *extra)
{
    if (*s == '\0')
        return 0;
    for (; *s; s++)
        if (!is_alnum(*s) && strchr(extra, *s) == NULL)
            return 0;
    return 1;
}

/* FLARE's host_name pattern: dot-separated labels of letters, digits and
 * inner hyphens. */
static int is_host(const char *s)
{
    size_t len = 0;
    const char *label = s;

    if (*s == '\0')
        return 0;
    for (;; s++) {
        if (*s == '.' || *s == '\0') {
            if (len == 0 || label[0] == '-' || s[-1] == '-')
                return 0;
            if (*s == '\0')
                return 1;
            label = s + 1;
            len = 0;
        } else if (is_alnum(*s) || *s == '-') {
            len++;
        } else {
            return 0;
        }
    }
}

/* FLARE's e-mail pattern: [A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z|]{2,} */
static int is_email(const char *s)
{
    const char *at = strchr(s, '@'), *dot, *p;

    if (at == NULL || at == s)
        return 0;
    for (p = s; p < at; p++)
        if (!is_alnum(*p) && strchr("._%+-", *p) == NULL)
            return 0;
    dot = strrchr(at + 1, '.');
    if (dot == NULL || dot == at + 1 || strlen(dot + 1) < 2)
        return 0;
    for (p = at + 1; p < dot; p++)
        if (!is_alnum(*p) && strchr(".-", *p) == NULL)
            return 0;
    for (p = dot + 1; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || *p == '|'))
            return 0;
    return 1;
}

static int get_str(pctx_t *c, const tkr_yaml_node_t *map, const char *key, const char *path,
                   int required, char **out)
{
    const tkr_yaml_node_t *n = tkr_yaml_get(map, key);

    if (n == NULL) {
        if (required)
            return bad(c, map, "%s: missing %s", path, key);
        return 0;
    }
    if (n->kind != TKR_YAML_STR || n->len == 0)
        return bad(c, n, "%s.%s: expected a non-empty string, found %s", path, key,
                   n->kind == TKR_YAML_STR ? "an empty string" : tkr_yaml_kind_name(n));
    *out = n->str;
    return 0;
}

static int get_port(pctx_t *c, const tkr_yaml_node_t *map, const char *key, const char *path,
                    int *out)
{
    const tkr_yaml_node_t *n = tkr_yaml_get(map, key);

    if (n == NULL)
        return bad(c, map, "%s: a server needs %s (a port, 1..65535)", path, key);
    if (n->kind != TKR_YAML_INT || (n->flags & TKR_YAML_BIG) || n->i < 1 || n->i > 65535)
        return bad(c, n, "%s.%s: expected a port number 1..65535, found %s", path, key,
                   n->kind == TKR_YAML_INT ? n->str : tkr_yaml_kind_name(n));
    *out = (int)n->i;
    return 0;
}

static int participant(pctx_t *c, const tkr_yaml_node_t *m, size_t idx, tkr_participant_t *pt)
{
    static const char *const keys[] = {"name", "type", "org", "role", "fed_learn_port",
                                       "admin_port", NULL};
    /* FLARE's own optional properties: accepted and left to FLARE. */
    static const char *const ignored[] = {"listening_host", "connect_to", "host_names",
                                          "default_host", "protocol", "api_root", "port",
                                          "overseer_end_point", "components",
                                          "connection_security", "enable_byoc", NULL};
    static const char *const roles[] = {"project_admin", "org_admin", "lead", "member", NULL};
    char path[48];
    size_t i;
    int rc, server, admin;
    tkr_subject_type_t kind;

    snprintf(path, sizeof(path), "participants[%zu]", idx);
    if (m->kind != TKR_YAML_MAP)
        return bad(c, m, "%s: expected a mapping (name, type, org, ...), found %s", path,
                   tkr_yaml_kind_name(m));
    pt->line = m->line;
    pt->column = m->column;
    for (i = 0; i < m->n; i++) {
        const tkr_yaml_node_t *k = m->keys[i];
        if (k->kind != TKR_YAML_STR || (!in(k->str, k->len, keys) && !in(k->str, k->len, ignored)))
            return bad(c, k, "%s: unknown key \"%.40s\" (expected name, type, org, role, "
                             "fed_learn_port, admin_port, or one of FLARE's host and connection "
                             "properties)", path, k->kind == TKR_YAML_STR ? k->str : tkr_yaml_kind_name(k));
    }
    if ((rc = get_str(c, m, "type", path, 1, &pt->type)) != 0 ||
        (rc = get_str(c, m, "name", path, 1, &pt->name)) != 0 ||
        (rc = get_str(c, m, "org", path, 1, &pt->org)) != 0 ||
        (rc = get_str(c, m, "role", path, 0, &pt->role)) != 0)
        return rc;
    /* The participant types, and FLARE's overseer (no token names one). */
    if (strcmp(pt->type, "overseer") != 0 && tkr_participant_type_parse(pt->type, &kind) != 0)
        return bad(c, tkr_yaml_get(m, "type"),
                   "%s.type: unknown type \"%.40s\" (expected server, client, admin, relay or "
                   "overseer)", path, pt->type);
    server = strcmp(pt->type, "server") == 0;
    admin = strcmp(pt->type, "admin") == 0;
    if ((server || strcmp(pt->type, "overseer") == 0) ? !is_host(pt->name)
        : admin ? !is_email(pt->name) : !all_of(pt->name, "-_"))
        return bad(c, tkr_yaml_get(m, "name"), "%s.name: \"%.60s\" is not a valid %s name "
                   "(expected %s)", path, pt->name, pt->type,
                   server || strcmp(pt->type, "overseer") == 0 ? "a host name such as server.example.com"
                   : admin ? "an e-mail address" : "letters, digits, '-' and '_'");
    if (!all_of(pt->org, "_"))
        return bad(c, tkr_yaml_get(m, "org"), "%s.org: \"%.60s\" is not a valid org (expected "
                   "letters, digits and '_')", path, pt->org);
    if (admin) {
        if (pt->role == NULL)
            return bad(c, m, "%s: admin \"%.60s\" needs a role (project_admin, org_admin, lead "
                             "or member)", path, pt->name);
        if (!in(pt->role, strlen(pt->role), roles))
            return bad(c, tkr_yaml_get(m, "role"), "%s.role: unknown role \"%.40s\" (expected "
                       "project_admin, org_admin, lead or member)", path, pt->role);
    } else if (pt->role != NULL) {
        return bad(c, tkr_yaml_get(m, "role"), "%s.role: only admin participants have a role",
                   path);
    }
    if (server) {
        if ((rc = get_port(c, m, "fed_learn_port", path, &pt->fed_learn_port)) != 0 ||
            (rc = get_port(c, m, "admin_port", path, &pt->admin_port)) != 0)
            return rc;
    } else if (tkr_yaml_get(m, "fed_learn_port") != NULL || tkr_yaml_get(m, "admin_port") != NULL) {
        const tkr_yaml_node_t *n = tkr_yaml_get(m, "fed_learn_port");
        return bad(c, n ? n : tkr_yaml_get(m, "admin_port"),
                   "%s: only the server has fed_learn_port and admin_port", path);
    }
    return 0;
}

static int builders(pctx_t *c, const tkr_yaml_node_t *n)
{
    size_t i, j;
    char path[48];

    if (n->kind != TKR_YAML_SEQ)
        return bad(c, n, "builders: expected a list of {path, args}, found %s", tkr_yaml_kind_name(n));
    for (i = 0; i < n->n; i++) {
        const tkr_yaml_node_t *b = n->items[i], *pth;
        snprintf(path, sizeof(path), "builders[%zu]", i);
        if (b->kind != TKR_YAML_MAP)
            return bad(c, b, "%s: expected a mapping with path and args, found %s", path,
                       tkr_yaml_kind_name(b));
        for (j = 0; j < b->n; j++) {
            const tkr_yaml_node_t *k = b->keys[j];
            if (k->kind != TKR_YAML_STR || (strcmp(k->str, "path") != 0 && strcmp(k->str, "args") != 0))
                return bad(c, k, "%s: unknown key \"%.40s\" (expected path or args)", path,
                           k->kind == TKR_YAML_STR ? k->str : tkr_yaml_kind_name(k));
        }
        pth = tkr_yaml_get(b, "path");
        if (pth == NULL)
            return bad(c, b, "%s: missing path (a Python class such as "
                             "nvflare.lighter.impl.workspace.WorkspaceBuilder)", path);
        if (pth->kind != TKR_YAML_STR || pth->len == 0)
            return bad(c, pth, "%s.path: expected a class path string, found %s", path,
                       tkr_yaml_kind_name(pth));
    }
    c->p->n_builders = n->n;
    return 0;
}

static int build(pctx_t *c, const tkr_yaml_node_t *root)
{
    static const char *const keys[] = {"api_version", "name", "description", "participants",
                                       "builders", NULL};
    const tkr_yaml_node_t *n, *parts;
    tkr_project_t *p = c->p;
    size_t i, j;
    int rc, servers = 0, overseers = 0;

    if (root == NULL)
        return bad(c, NULL, "the project file is empty (expected api_version, name, "
                            "participants, ...)");
    if (root->kind != TKR_YAML_MAP)
        return bad(c, root, "the project file must be a mapping (api_version, name, "
                            "participants, ...), found %s", tkr_yaml_kind_name(root));
    /* Names become paths and certificate fields: no NUL anywhere. */
    if ((rc = tkr_yaml_check_strings(root, TKR_YAML_NO_NUL, c->file, c->err)) != 0)
        return rc;
    for (i = 0; i < root->n; i++) {
        const tkr_yaml_node_t *k = root->keys[i];
        if (k->kind != TKR_YAML_STR || !in(k->str, k->len, keys))
            return bad(c, k, "unknown key \"%.40s\" (expected api_version, name, description, "
                             "participants or builders)", k->kind == TKR_YAML_STR ? k->str : tkr_yaml_kind_name(k));
    }
    n = tkr_yaml_get(root, "api_version");
    if (n == NULL)
        return bad(c, root, "missing api_version (FLARE's project.yml format is 3)");
    if (n->kind != TKR_YAML_INT || n->i != 3)
        return bad(c, n, "api_version: expected 3, found %s",
                   n->kind == TKR_YAML_INT ? n->str : tkr_yaml_kind_name(n));
    p->api_version = 3;
    if ((rc = get_str(c, root, "name", "project", 1, &p->name)) != 0 ||
        (rc = get_str(c, root, "description", "project", 0, &p->description)) != 0)
        return rc;
    if (p->name[0] == '.' || p->name[0] == '-' || !all_of(p->name, "_.-") || strlen(p->name) > 64)
        return bad(c, tkr_yaml_get(root, "name"), "name: \"%.60s\" is not a safe directory "
                   "name (expected up to 64 letters, digits, '_', '-' and '.', not starting "
                   "with '.' or '-')", p->name);

    parts = tkr_yaml_get(root, "participants");
    if (parts == NULL)
        return bad(c, root, "missing participants (a list with one server)");
    if (parts->kind != TKR_YAML_SEQ)
        return bad(c, parts, "participants: expected a list, found %s", tkr_yaml_kind_name(parts));
    p->participants = tkr_arena_alloc(c->a, (parts->n ? parts->n : 1) * sizeof(tkr_participant_t));
    if (p->participants == NULL)
        return tkr_arena_error(c->a);
    for (i = 0; i < parts->n; i++) {
        tkr_participant_t *pt = &p->participants[i];
        if ((rc = participant(c, parts->items[i], i, pt)) != 0)
            return rc;
        for (j = 0; j < i; j++)
            if (strcmp(p->participants[j].name, pt->name) == 0)
                return bad(c, tkr_yaml_get(parts->items[i], "name"),
                           "participants[%zu].name: \"%.60s\" is already defined at line %d, "
                           "column %d (names must be unique)", i, pt->name,
                           p->participants[j].line, p->participants[j].column);
        if (strcmp(pt->type, "server") == 0 && ++servers > 1)
            return bad(c, parts->items[i], "participants[%zu]: a second server (exactly one is "
                       "supported)", i);
        if (strcmp(pt->type, "overseer") == 0 && ++overseers > 1)
            return bad(c, parts->items[i], "participants[%zu]: a second overseer", i);
    }
    p->n_participants = parts->n;
    if (servers == 0)
        return bad(c, parts, "participants: no server (exactly one participant of type server, "
                             "with fed_learn_port and admin_port, is needed)");
    if ((n = tkr_yaml_get(root, "builders")) != NULL && (rc = builders(c, n)) != 0)
        return rc;
    return 0;
}

void tkr_project_init(tkr_project_t *p)
{
    if (p != NULL)
        memset(p, 0, sizeof(*p));
}

void tkr_project_free(tkr_project_t *p)
{
    if (p == NULL)
        return;
    tkr_arena_free(p->arena);
    memset(p, 0, sizeof(*p));
}

int tkr_project_load(tkr_project_t *p, const char *text, size_t len,
                     const char *file, tkr_diag_t *err)
{
    tkr_yaml_doc_t doc;
    pctx_t c;
    int rc;

    if (p == NULL)
        return TKR_E_INVALID_ARG;
    tkr_project_free(p);
    tkr_yaml_init(&doc);
    rc = tkr_yaml_load(&doc, text, len, file, err);
    if (rc != 0)
        return rc;
    c.p = p;
    c.err = err;
    c.file = file;
    c.a = doc.arena;
    rc = build(&c, doc.root);
    if (rc != 0) {
        tkr_yaml_free(&doc);
        memset(p, 0, sizeof(*p));
        return rc;
    }
    p->arena = doc.arena;
    return 0;
}
