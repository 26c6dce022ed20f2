/* yaml_json.c — a YAML tree as the JSON Python writes for it, and a JSON
 * value (a token's policy claim) as a tree.
 *
 * Writing follows json.dumps(obj, separators=(',', ':')) with its defaults
 * (ensure_ascii, allow_nan): strings escape '"', '\\', \b \f \n \r \t,
 * other controls and everything outside ' '..'~' as \uXXXX (astral
 * characters as surrogate pairs); keys that are not strings are written as
 * Python converts them (true, false, null, the int's digits, the float's
 * repr). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json_int.h"
#include "tokenroll/error.h"
#include "yaml_int.h"

typedef struct {
    char *buf;        /* NULL: count only */
    size_t size;
    size_t len;
    int err;
} out_t;

static void put(out_t *o, const char *s, size_t n)
{
    if (o->buf != NULL && o->len + n < o->size)
        memcpy(o->buf + o->len, s, n);
    o->len += n;
}

static void putc_(out_t *o, char c) { put(o, &c, 1); }

static void put_o(void *ctx, const char *s, size_t n) { put((out_t *)ctx, s, n); }

static void put_str(out_t *o, const char *s, size_t n)
{
    int rc = tkr_json_escape(put_o, o, s, n, 1);

    if (rc != 0)
        o->err = rc;
}

static void put_scalar(out_t *o, const tkr_yaml_node_t *n, int as_key)
{
    const tkr_ynode_t *y = TKR_CYNODE(n);

    if (n->kind == TKR_YAML_STR) {
        put_str(o, n->str, n->len);
        return;
    }
    if (as_key)
        putc_(o, '"');
    switch (n->kind) {
    case TKR_YAML_NULL: put(o, "null", 4); break;
    case TKR_YAML_BOOL: put(o, n->i ? "true" : "false", n->i ? 4 : 5); break;
    case TKR_YAML_INT:
    case TKR_YAML_FLOAT:
        if (y->json == NULL) {
            o->err = TKR_E_INVALID_ARG;
            return;
        }
        put(o, y->json, y->json_len);
        break;
    default:
        o->err = TKR_E_INVALID_ARG;
        return;
    }
    if (as_key)
        putc_(o, '"');
}

static void emit(out_t *o, const tkr_yaml_node_t *n, unsigned depth)
{
    size_t i;

    if (o->err != 0)
        return;
    if (depth > TKR_YAML_DEPTH_MAX + 1) {
        o->err = TKR_E_TOO_LARGE;
        return;
    }
    switch (n->kind) {
    case TKR_YAML_SEQ:
        putc_(o, '[');
        for (i = 0; i < n->n && o->err == 0; i++) {
            if (i > 0)
                putc_(o, ',');
            emit(o, n->items[i], depth + 1);
        }
        putc_(o, ']');
        break;
    case TKR_YAML_MAP:
        putc_(o, '{');
        for (i = 0; i < n->n && o->err == 0; i++) {
            if (i > 0)
                putc_(o, ',');
            if (n->keys[i]->kind == TKR_YAML_SEQ || n->keys[i]->kind == TKR_YAML_MAP) {
                o->err = TKR_E_INVALID_ARG;
                return;
            }
            put_scalar(o, n->keys[i], 1);
            putc_(o, ':');
            emit(o, n->items[i], depth + 1);
        }
        putc_(o, '}');
        break;
    default:
        put_scalar(o, n, 0);
    }
}

int tkr_yaml_to_json(char *out, size_t out_size, size_t *out_len,
                     const tkr_yaml_node_t *node)
{
    out_t o = {out, out_size, 0, 0};

    if (out_len == NULL)
        return TKR_E_INVALID_ARG;
    *out_len = 0;
    if (node == NULL)
        put(&o, "null", 4);
    else
        emit(&o, node, 0);
    if (o.err != 0)
        return o.err;
    *out_len = o.len;
    if (out == NULL || o.len >= out_size)
        return TKR_E_BUFFER_TOO_SMALL;
    out[o.len] = '\0';
    return 0;
}

/* ---- JSON -> tree ---- */

/* path: the member path so far ("approval.rules[0].name"), for messages;
 * each level appends to it and cuts it back. */
static int from_json(tkr_arena_t *a, const tkr_json_t *doc, int t, unsigned depth,
                     char path[TKR_YAML_PATH_MAX], tkr_yaml_node_t **out, tkr_diag_t *err)
{
    tkr_ynode_t *y;
    size_t raw_len, i, cnt, was;
    const char *raw;
    const char *why;
    int rc, c;

    if (depth > TKR_YAML_DEPTH_MAX) {
        tkr_yaml_set_err(err, NULL, 0, 0, "JSON nested deeper than %d levels", TKR_YAML_DEPTH_MAX);
        return TKR_E_TOO_LARGE;
    }
    y = tkr_ynode_new(a, TKR_YAML_NULL, 0, 0);
    if (y == NULL)
        return tkr_arena_error(a);
    y->done = 1;
    *out = &y->n;
    switch (tkr_json_type(doc, t)) {
    case TKR_JSON_NULL:
        return 0;
    case TKR_JSON_BOOL:
        y->n.kind = TKR_YAML_BOOL;
        return tkr_json_get_bool(doc, &c, t) == 0 ? (y->n.i = c != 0, 0) : TKR_E_JSON;
    case TKR_JSON_STRING:
        raw = tkr_json_raw(doc, &raw_len, t);
        y->n.kind = TKR_YAML_STR;
        y->n.str = tkr_arena_alloc(a, raw_len + 1);
        if (y->n.str == NULL)
            return tkr_arena_error(a);
        rc = tkr_json_get_str(doc, y->n.str, raw_len + 1, &y->n.len, t);
        /* The reader refuses \u0000 as the YAML side refuses "\0"
         * (tkr_yaml_check_strings): no policy string holds NUL. */
        if (rc == TKR_E_UTF8) {
            tkr_yaml_set_err(err, NULL, 0, 0, "%s: the string holds \\u0000 (NUL) or a lone "
                             "surrogate, which no string here may hold",
                             path[0] ? path : "the document");
            return TKR_E_POLICY;
        }
        return rc;
    case TKR_JSON_NUMBER:
        raw = tkr_json_raw(doc, &raw_len, t);
        y->n.str = tkr_arena_strndup(a, raw, raw_len);
        y->n.len = raw_len;
        if (y->n.str == NULL)
            return tkr_arena_error(a);
        /* Python's json: a fraction or exponent makes a float. */
        if (memchr(raw, '.', raw_len) || memchr(raw, 'e', raw_len) || memchr(raw, 'E', raw_len)) {
            y->n.kind = TKR_YAML_FLOAT;
            if (tkr_yaml_set_double(a, y, strtod(y->n.str, NULL)) != 0)
                return tkr_arena_error(a);
            return 0;
        }
        y->n.kind = TKR_YAML_INT;
        if (tkr_yaml_set_int(a, y, raw, raw_len, &why) != 0) {
            tkr_yaml_set_err(err, NULL, 0, 0, "%s: number %.40s: %s",
                             path[0] ? path : "the document", y->n.str, why);
            return TKR_E_POLICY;
        }
        return 0;
    case TKR_JSON_ARRAY:
    case TKR_JSON_OBJECT:
        cnt = (size_t)tkr_json_count(doc, t);
        y->n.kind = tkr_json_type(doc, t) == TKR_JSON_ARRAY ? TKR_YAML_SEQ : TKR_YAML_MAP;
        y->n.items = tkr_arena_alloc(a, (cnt ? cnt : 1) * sizeof(*y->n.items));
        if (y->n.kind == TKR_YAML_MAP)
            y->n.keys = tkr_arena_alloc(a, (cnt ? cnt : 1) * sizeof(*y->n.keys));
        if (y->n.items == NULL || (y->n.kind == TKR_YAML_MAP && y->n.keys == NULL))
            return tkr_arena_error(a);
        c = t + 1;
        was = strlen(path);
        for (i = 0; i < cnt; i++) {
            if (y->n.kind == TKR_YAML_MAP) {
                if ((rc = from_json(a, doc, c, depth + 1, path, &y->n.keys[i], err)) != 0)
                    return rc;
                snprintf(path + was, TKR_YAML_PATH_MAX - was, "%s%.*s", was ? "." : "",
                         (int)(y->n.keys[i]->len > 60 ? 60 : y->n.keys[i]->len),
                         y->n.keys[i]->str);
                c++;
            } else {
                snprintf(path + was, TKR_YAML_PATH_MAX - was, "[%zu]", i);
            }
            rc = from_json(a, doc, c, depth + 1, path, &y->n.items[i], err);
            path[was] = '\0';
            if (rc != 0)
                return rc;
            c = tkr_json_skip(doc, c);
        }
        y->n.n = cnt;
        return 0;
    default:
        return TKR_E_JSON;
    }
}

int tkr_yaml_from_json(tkr_arena_t *a, const tkr_json_t *doc, int t,
                       tkr_yaml_node_t **out, tkr_diag_t *err)
{
    char path[TKR_YAML_PATH_MAX] = "";

    if (a == NULL || doc == NULL || out == NULL || t < 0 || t >= doc->ntok)
        return TKR_E_INVALID_ARG;
    return from_json(a, doc, t, 0, path, out, err);
}
