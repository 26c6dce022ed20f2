/* yaml_check.c — every string of a tree, with its key path: one walk for
 * the rule every schema document follows (tkr_yaml_check_strings) and for
 * the policy's environment references (policy_env.c). */
#include <stdio.h>
#include <string.h>

#include "tokenroll/envref.h"
#include "tokenroll/error.h"
#include "yaml_int.h"

typedef struct {
    tkr_yaml_str_fn fn;
    void *ctx;
    char path[TKR_YAML_PATH_MAX];
} walk_t;

/* Append ".key" or "[i]" to the path; the length before, to restore. */
static size_t path_push(walk_t *w, const tkr_yaml_node_t *key, size_t idx)
{
    size_t was = strlen(w->path), room = sizeof(w->path) - was;

    if (key == NULL)
        snprintf(w->path + was, room, "[%zu]", idx);
    else if (key->kind == TKR_YAML_STR)
        snprintf(w->path + was, room, "%s%.*s", was ? "." : "",
                 (int)(key->len > 60 ? 60 : key->len), key->str);
    else
        snprintf(w->path + was, room, "%s%s", was ? "." : "",
                 key->kind == TKR_YAML_NULL ? "null" : key->str != NULL ? key->str : "?");
    return was;
}

static int walk(walk_t *w, const tkr_yaml_node_t *n)
{
    size_t i, was;
    int rc;

    switch (n->kind) {
    case TKR_YAML_STR:
        return w->fn(w->ctx, n, w->path, 0);
    case TKR_YAML_SEQ:
    case TKR_YAML_MAP:
        for (i = 0; i < n->n; i++) {
            if (n->kind == TKR_YAML_MAP && n->keys[i]->kind == TKR_YAML_STR &&
                (rc = w->fn(w->ctx, n->keys[i], w->path, 1)) != 0)
                return rc;
            was = path_push(w, n->kind == TKR_YAML_MAP ? n->keys[i] : NULL, i);
            rc = walk(w, n->items[i]);
            w->path[was] = '\0';
            if (rc != 0)
                return rc;
        }
        return 0;
    default:
        return 0;
    }
}

int tkr_yaml_walk_strings(const tkr_yaml_node_t *root, tkr_yaml_str_fn fn, void *ctx)
{
    walk_t w;

    if (root == NULL)
        return 0;
    w.fn = fn;
    w.ctx = ctx;
    w.path[0] = '\0';
    return walk(&w, root);
}

typedef struct {
    unsigned flags;
    const char *file;
    tkr_diag_t *err;
} rule_t;

static int check_str(void *ctx, const tkr_yaml_node_t *n, const char *path, int is_key)
{
    const rule_t *r = ctx;
    const char *at = path[0] ? path : "the document", *nul, *from;
    tkr_envref_t ref;
    size_t pos = 0;
    char what[80];
    int rc;

    if ((r->flags & TKR_YAML_NO_NUL) && (nul = memchr(n->str, '\0', n->len)) != NULL) {
        /* The text just before it, from a character boundary. */
        from = nul - n->str > 24 ? nul - 24 : n->str;
        while (from < nul && ((unsigned char)*from & 0xC0) == 0x80)
            from++;
        tkr_yaml_show(what, sizeof(what), from, (size_t)(nul - from), 24);
        return tkr_yaml_bad(r->err, r->file, n, 0, "%s: the %s %s holds a NUL character "
                            "(\\0, \\u0000) after %s, which no string here may hold", at,
                            is_key ? "key" : "string", is_key ? "name" : "value", what);
    }
    if (!(r->flags & TKR_YAML_ENVREFS) || is_key)
        return 0;
    while ((rc = tkr_envref_next(n->str, n->len, &pos, &ref)) == 1)
        ;
    if (rc != 0) {
        tkr_yaml_show(what, sizeof(what), n->str + ref.start, ref.end - ref.start, 60);
        return tkr_yaml_bad(r->err, r->file, n, 0, "%s: malformed environment reference %s: %s",
                            at, what, ref.why);
    }
    return 0;
}

int tkr_yaml_check_strings(const tkr_yaml_node_t *root, unsigned flags, const char *file,
                           tkr_diag_t *err)
{
    rule_t r;

    r.flags = flags;
    r.file = file;
    r.err = err;
    return tkr_yaml_walk_strings(root, check_str, &r);
}
