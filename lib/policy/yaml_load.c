/* yaml_load.c — compose a YAML document from libyaml's events, as PyYAML's
 * Composer and SafeConstructor would build it.
 *
 * libyaml gives the syntax (events with tags, styles and marks); this file
 * gives the meaning: scalars resolved (yaml_scalar.c), anchors registered
 * when their node starts (so an alias inside its own anchor is caught as
 * recursive), merge keys flattened as SafeConstructor.flatten_mapping does
 * (merged pairs first, in the order PyYAML lists them, then the mapping's
 * own pairs; a later pair keeps the earlier key's position and takes its
 * value, as a Python dict does). */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "tokenroll/error.h"
#include "yaml_int.h"

#define TAG_PREFIX "tag:yaml.org,2002:"

typedef struct {
    tkr_ynode_t *node;           /* SEQ or MAP under construction */
    tkr_yaml_node_t **v;         /* SEQ: items; MAP: key, value, key, ... */
    size_t n, cap;
} frame_t;

typedef struct {
    char *name;
    tkr_ynode_t *node;
} anchor_t;

/* Where a non-plain scalar lies, in characters (libyaml's marks count
 * characters, not bytes). */
typedef struct {
    size_t start, end;
    int block;
} span_t;

typedef struct {
    tkr_arena_t *arena;
    const char *file;
    const char *text;
    tkr_diag_t *err;
    frame_t st[TKR_YAML_DEPTH_MAX];
    size_t depth;
    anchor_t *anch;              /* open-addressing table */
    size_t anch_cap, anch_n;
    tkr_yaml_node_t *root;
    int have_root;
    span_t *spans;               /* quoted and block scalars, in text order */
    size_t nspans, capspans;
    size_t bom;                  /* bytes of a UTF-8 byte order mark */
} loader_t;

static int fail(loader_t *L, int rc, int line, int column, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static int fail(loader_t *L, int rc, int line, int column, const char *fmt, ...)
{
    char msg[220];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    tkr_yaml_set_err(L->err, L->file, line, column, "%s", msg);
    return rc;
}

#define fail_node(L, rc, n, ...) fail((L), (rc), (n)->line, (n)->column, __VA_ARGS__)

/* An allocation failed: out of memory (the host's fault), or past
 * TKR_ARENA_MAX (the document's), as the arena says. */
static int fail_mem(loader_t *L, int line, int column)
{
    int rc = tkr_arena_error(L->arena);

    return fail(L, rc, line, column, "%s", tkr_arena_why(rc));
}

static int line_of(const yaml_mark_t *m) { return (int)(m->line + 1 > 0x7fffffff ? 0x7fffffff : m->line + 1); }
static int col_of(const yaml_mark_t *m) { return (int)(m->column + 1 > 0x7fffffff ? 0x7fffffff : m->column + 1); }

static void show(char *out, size_t size, const tkr_yaml_node_t *n)
{
    char buf[32];
    switch (n->kind) {
    case TKR_YAML_STR:
        tkr_yaml_show(out, size, n->str, n->len, 40);
        return;
    case TKR_YAML_INT:
    case TKR_YAML_FLOAT:
        tkr_yaml_show(out, size, n->str, n->len, 40);
        return;
    case TKR_YAML_BOOL:
        snprintf(out, size, "%s", n->i ? "true" : "false");
        return;
    case TKR_YAML_NULL:
        snprintf(out, size, "null");
        return;
    default:
        snprintf(buf, sizeof(buf), "a %s", n->kind == TKR_YAML_SEQ ? "sequence" : "mapping");
        snprintf(out, size, "%s", buf);
    }
}

/* ---- anchors ---- */

static size_t hash(const char *s, size_t n)
{
    size_t h = 1469598103934665603u & (size_t)-1, i;
    for (i = 0; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * (size_t)1099511628211u;
    return h;
}

static anchor_t *anchor_slot(loader_t *L, const char *name)
{
    size_t n = strlen(name), i = hash(name, n) & (L->anch_cap - 1);
    while (L->anch[i].name != NULL && strcmp(L->anch[i].name, name) != 0)
        i = (i + 1) & (L->anch_cap - 1);
    return &L->anch[i];
}

static int anchor_add(loader_t *L, const char *name, tkr_ynode_t *node)
{
    anchor_t *s;

    if (L->anch_n * 2 >= L->anch_cap) {
        size_t cap = L->anch_cap ? L->anch_cap * 2 : 64, i, old = L->anch_cap;
        anchor_t *prev = L->anch;
        L->anch = calloc(cap, sizeof(anchor_t));
        if (L->anch == NULL) {
            L->anch = prev;
            return fail_mem(L, node->n.line, node->n.column);
        }
        L->anch_cap = cap;
        for (i = 0; i < old; i++)
            if (prev[i].name != NULL)
                *anchor_slot(L, prev[i].name) = prev[i];
        free(prev);
    }
    s = anchor_slot(L, name);
    s->name = tkr_arena_strndup(L->arena, name, strlen(name));
    if (s->name == NULL)
        return fail_mem(L, node->n.line, node->n.column);
    s->node = node;
    L->anch_n++;
    return 0;
}

static int register_anchor(loader_t *L, const yaml_char_t *anchor, tkr_ynode_t *node)
{
    anchor_t *s;
    char where[32];

    if (anchor == NULL)
        return 0;
    if (L->anch_cap > 0 && (s = anchor_slot(L, (const char *)anchor))->name != NULL) {
        snprintf(where, sizeof(where), "%d, column %d", s->node->n.line, s->node->n.column);
        return fail(L, TKR_E_POLICY, node->n.line, node->n.column,
                    "found duplicate anchor &%s (first occurrence at line %s)",
                    (const char *)anchor, where);
    }
    return anchor_add(L, (const char *)anchor, node);
}

/* ---- building ---- */

static uint64_t add_weight(uint64_t a, uint64_t b)
{
    return a + b < a || a + b > (uint64_t)TKR_YAML_EXPANDED_MAX + 1 ?
           (uint64_t)TKR_YAML_EXPANDED_MAX + 1 : a + b;
}

static int frame_push_value(loader_t *L, frame_t *f, tkr_yaml_node_t *v)
{
    if (f->n == f->cap) {
        size_t cap = f->cap ? f->cap * 2 : 8;
        tkr_yaml_node_t **nv = realloc(f->v, cap * sizeof(*nv));
        if (nv == NULL)
            return fail_mem(L, (v)->line, (v)->column);
        f->v = nv;
        f->cap = cap;
    }
    f->v[f->n++] = v;
    return 0;
}

static int in_key_position(const loader_t *L)
{
    return L->depth > 0 && L->st[L->depth - 1].node->n.kind == TKR_YAML_MAP &&
           L->st[L->depth - 1].n % 2 == 0;
}

/* Place a finished node: the root, an item, a key or a value. */
static int add_node(loader_t *L, tkr_ynode_t *y)
{
    tkr_yaml_node_t *n = &y->n;
    frame_t *f;
    char what[64];
    size_t i;

    if (L->depth == 0) {
        if (y->merge)
            return fail_node(L, TKR_E_POLICY, n, "the merge key << cannot be a value");
        L->root = n;
        L->have_root = 1;
        return 0;
    }
    f = &L->st[L->depth - 1];
    if (f->node->n.kind == TKR_YAML_MAP && f->n % 2 == 0) {
        /* A key: PyYAML needs it hashable, so a scalar. */
        if (n->kind == TKR_YAML_SEQ || n->kind == TKR_YAML_MAP) {
            show(what, sizeof(what), n);
            return fail_node(L, TKR_E_POLICY, n,
                             "a mapping key must be a scalar, found %s (PyYAML: unhashable key)", what);
        }
        return frame_push_value(L, f, n);
    }
    if (y->merge)
        return fail_node(L, TKR_E_POLICY, n,
                         "the merge key << cannot be a value (quote it for the text \"<<\")");
    if (f->node->n.kind == TKR_YAML_MAP && TKR_YNODE(f->v[f->n - 1])->merge) {
        /* <<: a mapping, or a list of mappings. */
        int ok = n->kind == TKR_YAML_MAP;
        if (n->kind == TKR_YAML_SEQ) {
            ok = 1;
            for (i = 0; i < n->n; i++)
                if (n->items[i]->kind != TKR_YAML_MAP)
                    ok = 0;
        }
        if (!ok)
            return fail_node(L, TKR_E_POLICY, n,
                             "the merge key << expects a mapping or a list of mappings");
    }
    return frame_push_value(L, f, n);
}

/* Every double of magnitude 2^53 or more is an integer. */
static int integral(double f)
{
    if (f >= 9007199254740992.0 || f <= -9007199254740992.0)
        return 1;
    return (double)(int64_t)f == f;
}

/* The canonical form of a key under Python's equality (1 == 1.0 == True,
 * "1" != 1): a type letter and a text. NULL for NaN, equal to nothing. */
static char *key_canon(const tkr_yaml_node_t *k, size_t *len)
{
    const tkr_ynode_t *y = TKR_CYNODE(k);
    char *c, num[400];
    size_t n = 0;

    switch (k->kind) {
    case TKR_YAML_STR:
        c = malloc(k->len + 2);
        if (c == NULL)
            return NULL;
        c[0] = 's';
        memcpy(c + 1, k->str, k->len);
        *len = k->len + 1;
        return c;
    case TKR_YAML_NULL:
        n = (size_t)snprintf(num, sizeof(num), "n");
        break;
    case TKR_YAML_BOOL:
        n = (size_t)snprintf(num, sizeof(num), "i%d", k->i ? 1 : 0);
        break;
    case TKR_YAML_INT:
        c = malloc(y->json_len + 2);
        if (c == NULL)
            return NULL;
        c[0] = 'i';
        memcpy(c + 1, y->json, y->json_len);
        *len = y->json_len + 1;
        return c;
    case TKR_YAML_FLOAT:
        if (isnan(k->f))
            return NULL;
        if (isfinite(k->f) && integral(k->f)) {
            n = (size_t)snprintf(num, sizeof(num), "i%.0f", k->f == 0 ? 0.0 : k->f);
        } else {
            n = (size_t)snprintf(num, sizeof(num), "f%s", y->json);
        }
        break;
    default:
        return NULL;
    }
    c = malloc(n + 1);
    if (c != NULL)
        memcpy(c, num, n + 1);
    *len = n;
    return c;
}

typedef struct {
    tkr_yaml_node_t *k, *v;
    int own;
} pair_t;

static int map_finish(loader_t *L, frame_t *f)
{
    tkr_yaml_node_t *m = &f->node->n, *src;
    pair_t *pl = NULL;
    char **canon = NULL;
    size_t *clen = NULL, *table = NULL, np = 0, cap = 0, i, j, k, out = 0, tcap;
    int *owned = NULL, rc = TKR_E_NO_MEMORY;
    uint64_t w = 1;

    /* The pair list PyYAML builds: merges first, then own pairs. */
    for (i = 0; i < f->n; i += 2)
        if (TKR_YNODE(f->v[i])->merge) {
            src = f->v[i + 1];
            if (src->kind == TKR_YAML_MAP)
                cap += src->n;
            else
                for (j = 0; j < src->n; j++)
                    cap += src->items[j]->n;
        } else {
            cap++;
        }
    pl = malloc((cap ? cap : 1) * sizeof(*pl));
    if (pl == NULL)
        goto out;
    for (i = 0; i < f->n; i += 2) {
        if (!TKR_YNODE(f->v[i])->merge)
            continue;
        src = f->v[i + 1];
        if (src->kind == TKR_YAML_MAP) {
            for (k = 0; k < src->n; k++)
                pl[np++] = (pair_t){src->keys[k], src->items[k], 0};
        } else {
            for (j = src->n; j-- > 0;)
                for (k = 0; k < src->items[j]->n; k++)
                    pl[np++] = (pair_t){src->items[j]->keys[k], src->items[j]->items[k], 0};
        }
    }
    for (i = 0; i < f->n; i += 2)
        if (!TKR_YNODE(f->v[i])->merge)
            pl[np++] = (pair_t){f->v[i], f->v[i + 1], 1};

    m->keys = tkr_arena_alloc(L->arena, (np ? np : 1) * sizeof(*m->keys));
    m->items = tkr_arena_alloc(L->arena, (np ? np : 1) * sizeof(*m->items));
    canon = calloc(np ? np : 1, sizeof(*canon));
    clen = calloc(np ? np : 1, sizeof(*clen));
    owned = calloc(np ? np : 1, sizeof(*owned));
    for (tcap = 16; tcap < np * 2; tcap *= 2)
        ;
    table = calloc(tcap, sizeof(*table));
    if (m->keys == NULL || m->items == NULL || canon == NULL || clen == NULL ||
        owned == NULL || table == NULL) {
        rc = fail_mem(L, m->line, m->column);
        goto out;
    }
    for (i = 0; i < np; i++) {
        size_t len = 0, slot = 0, found = 0;
        char *c = key_canon(pl[i].k, &len);
        if (c == NULL && !(pl[i].k->kind == TKR_YAML_FLOAT && isnan(pl[i].k->f))) {
            rc = fail_mem(L, m->line, m->column);
            goto out;
        }
        if (c != NULL) {
            slot = hash(c, len) & (tcap - 1);
            while (table[slot] != 0) {
                size_t e = table[slot] - 1;
                if (clen[e] == len && memcmp(canon[e], c, len) == 0) {
                    found = e + 1;
                    break;
                }
                slot = (slot + 1) & (tcap - 1);
            }
        }
        if (found) {
            size_t e = found - 1;
            free(c);
            if (pl[i].own && owned[e]) {
                char what[64], where[48];
                show(what, sizeof(what), pl[i].k);
                snprintf(where, sizeof(where), "line %d, column %d", m->keys[e]->line,
                         m->keys[e]->column);
                rc = fail_node(L, TKR_E_POLICY, pl[i].k,
                               "duplicate key %s in this mapping (first at %s)", what, where);
                goto out;
            }
            m->items[e] = pl[i].v;
            owned[e] |= pl[i].own;
            continue;
        }
        m->keys[out] = pl[i].k;
        m->items[out] = pl[i].v;
        canon[out] = c;
        clen[out] = len;
        owned[out] = pl[i].own;
        if (c != NULL)
            table[slot] = out + 1;
        out++;
    }
    m->n = out;
    for (i = 0; i < out; i++)
        w = add_weight(w, add_weight(TKR_YNODE(m->keys[i])->weight, TKR_YNODE(m->items[i])->weight));
    f->node->weight = w;
    for (i = 0; i < out; i++)
        if (TKR_YNODE(m->items[i])->height + 1 > f->node->height)
            f->node->height = TKR_YNODE(m->items[i])->height + 1;
    if (f->node->height == 0)
        f->node->height = 1;
    rc = 0;
out:
    if (canon != NULL)
        for (i = 0; i < np; i++)
            free(canon[i]);
    free(canon);
    free(clen);
    free(owned);
    free(table);
    free(pl);
    return rc;
}

static int seq_finish(loader_t *L, frame_t *f)
{
    tkr_yaml_node_t *s = &f->node->n;
    uint64_t w = 1;
    size_t i;

    s->items = tkr_arena_alloc(L->arena, (f->n ? f->n : 1) * sizeof(*s->items));
    if (s->items == NULL)
        return fail_mem(L, (s)->line, (s)->column);
    if (f->n > 0)
        memcpy(s->items, f->v, f->n * sizeof(*s->items));
    s->n = f->n;
    f->node->height = 1;
    for (i = 0; i < f->n; i++) {
        w = add_weight(w, TKR_YNODE(f->v[i])->weight);
        if (TKR_YNODE(f->v[i])->height + 1 > f->node->height)
            f->node->height = TKR_YNODE(f->v[i])->height + 1;
    }
    f->node->weight = w;
    return 0;
}

static int collection_end(loader_t *L)
{
    frame_t *f = &L->st[L->depth - 1];
    tkr_ynode_t *y = f->node;
    int rc = y->n.kind == TKR_YAML_MAP ? map_finish(L, f) : seq_finish(L, f);

    free(f->v);
    f->v = NULL;
    L->depth--;
    if (rc != 0)
        return rc;
    if (y->weight > TKR_YAML_EXPANDED_MAX)
        return fail_node(L, TKR_E_TOO_LARGE, &y->n,
                         "aliases expand this document past %d nodes and bytes "
                         "(TKR_YAML_EXPANDED_MAX)", TKR_YAML_EXPANDED_MAX);
    /* An alias can hang a deep anchor under a deep node. */
    if (y->height > TKR_YAML_DEPTH_MAX)
        return fail_node(L, TKR_E_TOO_LARGE, &y->n,
                         "nesting deeper than %d levels once aliases are expanded",
                         TKR_YAML_DEPTH_MAX);
    y->done = 1;
    return add_node(L, y);
}

static int tag_is(const yaml_char_t *tag, const char *name)
{
    return tag != NULL && strncmp((const char *)tag, TAG_PREFIX, sizeof(TAG_PREFIX) - 1) == 0 &&
           strcmp((const char *)tag + sizeof(TAG_PREFIX) - 1, name) == 0;
}

static const char *short_tag(const yaml_char_t *tag, char *buf, size_t size)
{
    const char *t = (const char *)tag;
    if (strncmp(t, TAG_PREFIX, sizeof(TAG_PREFIX) - 1) == 0)
        snprintf(buf, size, "!!%s", t + sizeof(TAG_PREFIX) - 1);
    else
        snprintf(buf, size, "%s", t);
    return buf;
}

static int collection_start(loader_t *L, const yaml_event_t *ev, tkr_yaml_kind_t kind)
{
    const yaml_char_t *tag = kind == TKR_YAML_SEQ ? ev->data.sequence_start.tag
                                                  : ev->data.mapping_start.tag;
    const yaml_char_t *anchor = kind == TKR_YAML_SEQ ? ev->data.sequence_start.anchor
                                                     : ev->data.mapping_start.anchor;
    int line = line_of(&ev->start_mark), col = col_of(&ev->start_mark), rc;
    tkr_ynode_t *y;
    char tb[64];

    if (tag != NULL && strcmp((const char *)tag, "!") != 0 &&
        !tag_is(tag, kind == TKR_YAML_SEQ ? "seq" : "map")) {
        if (tag_is(tag, "omap") || tag_is(tag, "pairs") || tag_is(tag, "set"))
            return fail(L, TKR_E_POLICY, line, col,
                        "tag %s is not supported (it has no plain JSON form)",
                        short_tag(tag, tb, sizeof(tb)));
        return fail(L, TKR_E_POLICY, line, col, "tag %s is not supported on a %s",
                    short_tag(tag, tb, sizeof(tb)), kind == TKR_YAML_SEQ ? "sequence" : "mapping");
    }
    if (L->depth == TKR_YAML_DEPTH_MAX)
        return fail(L, TKR_E_TOO_LARGE, line, col,
                    "nesting deeper than %d levels", TKR_YAML_DEPTH_MAX);
    y = tkr_ynode_new(L->arena, kind, line, col);
    if (y == NULL)
        return fail_mem(L, line, col);
    if ((rc = register_anchor(L, anchor, y)) != 0)
        return rc;
    L->st[L->depth].node = y;
    L->st[L->depth].v = NULL;
    L->st[L->depth].n = L->st[L->depth].cap = 0;
    L->depth++;
    return 0;
}

/* ---- what PyYAML's scanner refuses and libyaml lets through ----
 *
 * PyYAML refuses a tab anywhere but inside a quoted scalar, in a block
 * scalar's content and in a comment ("found character '\t' that cannot
 * start any token"), and wants a space between a block scalar's header and
 * its comment ("|#c" is an error). A file FLARE cannot read must not load
 * here either, so the text is walked again with the scalars' spans. */

static int add_span(loader_t *L, yaml_scalar_style_t style, size_t start, size_t end)
{
    if (L->nspans == L->capspans) {
        size_t cap = L->capspans ? L->capspans * 2 : 32;
        span_t *ns = realloc(L->spans, cap * sizeof(span_t));
        if (ns == NULL)
            return fail_mem(L, 0, 0);
        L->spans = ns;
        L->capspans = cap;
    }
    L->spans[L->nspans].start = start;
    L->spans[L->nspans].end = end;
    L->spans[L->nspans].block = style == YAML_LITERAL_SCALAR_STYLE || style == YAML_FOLDED_SCALAR_STYLE;
    L->nspans++;
    return 0;
}

/* A block scalar's header from byte i (its node start, maybe a tag or an
 * anchor first): the byte where the header line ends, or 0 when the
 * indicator is followed by something other than a space or line end. */
static size_t block_header(const char *t, size_t len, size_t i)
{
    size_t h = i, k;

    while (h < len && t[h] != '\n' && t[h] != '\r' &&
           !((t[h] == '|' || t[h] == '>') && (h == i || t[h - 1] == ' ' || t[h - 1] == '\t')))
        h++;
    if (h < len && (t[h] == '|' || t[h] == '>')) {
        for (k = h + 1; k < len && k < h + 3 &&
                        (t[k] == '+' || t[k] == '-' || (t[k] >= '1' && t[k] <= '9'));
             k++)
            ;
        if (k < len && t[k] != ' ' && t[k] != '\t' && t[k] != '\n' && t[k] != '\r')
            return 0;
        h = k;
    }
    while (h < len && t[h] != '\n' && t[h] != '\r')
        h++;
    return h;
}

static int check_text(loader_t *L, size_t len)
{
    const char *t = L->text;
    size_t i, ci = 0, s = 0, hdr_end = 0, line = 1, col = 1;
    int comment = 0, in_span;

    for (i = L->bom; i < len; i++) {
        unsigned char c = (unsigned char)t[i];
        if ((c & 0xC0) == 0x80)
            continue; /* inside a character: never '\t', '#' or a break */
        while (s < L->nspans && L->spans[s].end <= ci)
            s++;
        if (s < L->nspans && L->spans[s].block && L->spans[s].start == ci) {
            hdr_end = block_header(t, len, i);
            if (hdr_end == 0)
                return fail(L, TKR_E_YAML, (int)line, (int)col,
                            "expected chomping or indentation indicators, then a space or the "
                            "line's end, after the block scalar indicator");
        }
        in_span = s < L->nspans && L->spans[s].start <= ci && !(L->spans[s].block && i < hdr_end);
        if (!in_span && c == '#' && (i == L->bom || t[i - 1] == ' ' || t[i - 1] == '\t' ||
                                     t[i - 1] == '\n' || t[i - 1] == '\r')) {
            comment = 1;
        } else if (!in_span && c == '\t' && !comment) {
            return fail(L, TKR_E_YAML, (int)line, (int)col,
                        "found a tab where YAML (and PyYAML) allow only spaces; tabs may "
                        "appear only inside quotes, block scalars and comments");
        }
        if (c == '\n' || (c == '\r' && (i + 1 >= len || t[i + 1] != '\n'))) {
            line++;
            col = 1;
            comment = 0;
        } else if (c != '\r') {
            col++;
        }
        ci++;
    }
    return 0;
}

/* UTF-16 text (a BOM says which order) as UTF-8, which libyaml also reads
 * but whose bytes the checks above can walk. NULL with *bad set on a lone
 * surrogate or an odd length. */
static char *utf16_to_utf8(const unsigned char *in, size_t len, size_t *out_len, int *bad)
{
    int le = in[0] == 0xFF;
    size_t i, k = 0;
    char *out = malloc(len / 2 * 3 + 1);

    *bad = 0;
    if (out == NULL)
        return NULL;
    if (len % 2 != 0)
        goto bad;
    for (i = 2; i < len; i += 2) {
        uint32_t u = le ? (uint32_t)(in[i] | in[i + 1] << 8) : (uint32_t)(in[i] << 8 | in[i + 1]);
        if (u >= 0xD800 && u <= 0xDBFF) {
            uint32_t lo;
            if (i + 3 >= len)
                goto bad;
            lo = le ? (uint32_t)(in[i + 2] | in[i + 3] << 8) : (uint32_t)(in[i + 2] << 8 | in[i + 3]);
            if (lo < 0xDC00 || lo > 0xDFFF)
                goto bad;
            u = 0x10000 + ((u - 0xD800) << 10) + (lo - 0xDC00);
            i += 2;
        } else if (u >= 0xDC00 && u <= 0xDFFF) {
            goto bad;
        }
        if (u < 0x80) {
            out[k++] = (char)u;
        } else if (u < 0x800) {
            out[k++] = (char)(0xC0 | (u >> 6));
            out[k++] = (char)(0x80 | (u & 0x3F));
        } else if (u < 0x10000) {
            out[k++] = (char)(0xE0 | (u >> 12));
            out[k++] = (char)(0x80 | ((u >> 6) & 0x3F));
            out[k++] = (char)(0x80 | (u & 0x3F));
        } else {
            out[k++] = (char)(0xF0 | (u >> 18));
            out[k++] = (char)(0x80 | ((u >> 12) & 0x3F));
            out[k++] = (char)(0x80 | ((u >> 6) & 0x3F));
            out[k++] = (char)(0x80 | (u & 0x3F));
        }
    }
    out[k] = '\0';
    *out_len = k;
    return out;
bad:
    free(out);
    *bad = 1;
    return NULL;
}

static int scalar(loader_t *L, const yaml_event_t *ev)
{
    const char *v = (const char *)ev->data.scalar.value;
    size_t n = ev->data.scalar.length;
    const yaml_char_t *tag = ev->data.scalar.tag;
    int line = line_of(&ev->start_mark), col = col_of(&ev->start_mark), rc, b;
    tkr_res_t res;
    tkr_ynode_t *y;
    const char *why = NULL;
    char tb[64], what[64];

    if (ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE &&
        (rc = add_span(L, ev->data.scalar.style, ev->start_mark.index, ev->end_mark.index)) != 0)
        return rc;
    if (tag == NULL) {
        res = ev->data.scalar.plain_implicit ? tkr_yaml_resolve(v, n) : TKR_RES_STR;
    } else if (strcmp((const char *)tag, "!") == 0) {
        /* PyYAML resolves "! text" as if it were plain, quoted or not. */
        if (n > 0 && v[n - 1] == '\n')
            return fail(L, TKR_E_POLICY, line, col,
                        "the non-specific tag ! on a scalar ending in a line break is not supported");
        res = tkr_yaml_resolve(v, n);
    } else if (tag_is(tag, "str")) {
        res = TKR_RES_STR;
    } else if (tag_is(tag, "null")) {
        res = TKR_RES_NULL;
    } else if (tag_is(tag, "bool")) {
        if (tkr_yaml_bool_value(v, n) < 0)
            return fail(L, TKR_E_POLICY, line, col,
                        "!!bool needs yes, no, true, false, on or off");
        res = TKR_RES_BOOL;
    } else if (tag_is(tag, "int")) {
        if (!tkr_yaml_is_int(v, n))
            return fail(L, TKR_E_POLICY, line, col,
                        "!!int needs a YAML 1.1 integer (12, -3, 0x1F, 017, 0b101, 1:30)");
        res = TKR_RES_INT;
    } else if (tag_is(tag, "float")) {
        y = tkr_ynode_new(L->arena, TKR_YAML_FLOAT, line, col);
        if (y == NULL || (y->n.str = tkr_arena_strndup(L->arena, v, n)) == NULL)
            return fail_mem(L, line, col);
        y->n.len = n;
        y->weight = 1 + n;
        if (tkr_yaml_set_float(L->arena, y, v, n, 1, &why) != 0)
            return fail(L, TKR_E_POLICY, line, col, "!!float: %s", why);
        goto place;
    } else if (tag_is(tag, "merge")) {
        res = TKR_RES_MERGE;
    } else if (tag_is(tag, "timestamp")) {
        res = TKR_RES_TIMESTAMP;
    } else if (tag_is(tag, "binary") || tag_is(tag, "set") || tag_is(tag, "omap") ||
               tag_is(tag, "pairs")) {
        return fail(L, TKR_E_POLICY, line, col, "tag %s has no JSON form",
                    short_tag(tag, tb, sizeof(tb)));
    } else {
        return fail(L, TKR_E_POLICY, line, col, "tag %s is not supported on a scalar",
                    short_tag(tag, tb, sizeof(tb)));
    }

    if (res == TKR_RES_VALUE) {
        if (!in_key_position(L))
            return fail(L, TKR_E_POLICY, line, col,
                        "a plain = is YAML 1.1's value key, which PyYAML cannot construct; quote it");
        res = TKR_RES_STR;
    }
    if (res == TKR_RES_TIMESTAMP) {
        tkr_yaml_show(what, sizeof(what), v, n, 40);
        return fail(L, TKR_E_POLICY, line, col,
                    "%s is a YAML 1.1 timestamp (a date), which has no JSON form; quote it to make it a string", what);
    }
    y = tkr_ynode_new(L->arena, TKR_YAML_STR, line, col);
    if (y == NULL || (y->n.str = tkr_arena_strndup(L->arena, v, n)) == NULL)
        return fail_mem(L, line, col);
    y->n.len = n;
    y->weight = 1 + n;
    switch (res) {
    case TKR_RES_NULL:
        y->n.kind = TKR_YAML_NULL;
        break;
    case TKR_RES_BOOL:
        b = tkr_yaml_bool_value(v, n);
        y->n.kind = TKR_YAML_BOOL;
        y->n.i = b > 0;
        break;
    case TKR_RES_INT:
        y->n.kind = TKR_YAML_INT;
        if (tkr_yaml_set_int(L->arena, y, v, n, &why) != 0) {
            tkr_yaml_show(what, sizeof(what), v, n, 40);
            return fail(L, TKR_E_POLICY, line, col, "integer %s: %s", what, why);
        }
        break;
    case TKR_RES_FLOAT:
        y->n.kind = TKR_YAML_FLOAT;
        if (tkr_yaml_set_float(L->arena, y, v, n, 0, &why) != 0) {
            tkr_yaml_show(what, sizeof(what), v, n, 40);
            return fail(L, TKR_E_POLICY, line, col, "float %s: %s", what, why);
        }
        break;
    case TKR_RES_MERGE:
        y->merge = 1;
        break;
    default:
        break;
    }
place:
    y->done = 1;
    rc = register_anchor(L, ev->data.scalar.anchor, y);
    return rc != 0 ? rc : add_node(L, y);
}

static int alias(loader_t *L, const yaml_event_t *ev)
{
    const char *name = (const char *)ev->data.alias.anchor;
    int line = line_of(&ev->start_mark), col = col_of(&ev->start_mark);
    anchor_t *s = L->anch_cap > 0 ? anchor_slot(L, name) : NULL;

    if (s == NULL || s->name == NULL)
        return fail(L, TKR_E_POLICY, line, col, "found undefined alias *%s", name);
    if (!s->node->done)
        return fail(L, TKR_E_POLICY, line, col,
                    "alias *%s refers to a node that contains it (a recursive structure has no JSON form)", name);
    return add_node(L, s->node);
}

/* libyaml's error as "problem (context)", with the position PyYAML would
 * report: the problem's mark, or for bad bytes the offset's line. */
static int syntax_error(loader_t *L, const yaml_parser_t *p, size_t len)
{
    int line, col;
    char msg[220];

    if (p->error == YAML_MEMORY_ERROR)
        return fail_mem(L, 0, 0);
    if (p->error == YAML_READER_ERROR) {
        size_t i, off = p->problem_offset < len ? p->problem_offset : len;
        line = 1;
        col = 1;
        for (i = 0; i < off; i++) {
            if (L->text[i] == '\n') {
                line++;
                col = 1;
            } else if (((unsigned char)L->text[i] & 0xC0) != 0x80) {
                col++;
            }
        }
        if (p->problem_value >= 0)
            snprintf(msg, sizeof(msg), "%s (byte 0x%02x)", p->problem ? p->problem : "invalid input",
                     (unsigned)p->problem_value & 0xffu);
        else
            snprintf(msg, sizeof(msg), "%s", p->problem ? p->problem : "invalid input");
        tkr_yaml_set_err(L->err, L->file, line, col, "%s", msg);
        return TKR_E_YAML;
    }
    line = line_of(&p->problem_mark);
    col = col_of(&p->problem_mark);
    if (p->context != NULL)
        snprintf(msg, sizeof(msg), "%s %s (line %d, column %d)",
                 p->problem ? p->problem : "syntax error", p->context, line_of(&p->context_mark),
                 col_of(&p->context_mark));
    else
        snprintf(msg, sizeof(msg), "%s", p->problem ? p->problem : "syntax error");
    tkr_yaml_set_err(L->err, L->file, line, col, "%s", msg);
    return TKR_E_YAML;
}

void tkr_yaml_init(tkr_yaml_doc_t *doc)
{
    if (doc != NULL) {
        doc->root = NULL;
        doc->arena = NULL;
    }
}

void tkr_yaml_free(tkr_yaml_doc_t *doc)
{
    if (doc == NULL)
        return;
    tkr_arena_free(doc->arena);
    doc->arena = NULL;
    doc->root = NULL;
}

int tkr_yaml_load(tkr_yaml_doc_t *doc, const char *text, size_t len,
                  const char *file, tkr_diag_t *err)
{
    yaml_parser_t parser;
    yaml_event_t ev;
    loader_t *L;
    int rc = 0, docs = 0, done = 0;
    size_t i;
    char *conv = NULL;

    if (err != NULL) {
        memset(err, 0, sizeof(*err));
        err->file = file;
    }
    if (doc == NULL || (text == NULL && len != 0))
        return TKR_E_INVALID_ARG;
    doc->root = NULL;
    doc->arena = NULL;
    if (len > TKR_YAML_LEN_MAX) {
        tkr_yaml_set_err(err, file, 0, 0, "the YAML text is larger than %d bytes", TKR_YAML_LEN_MAX);
        return TKR_E_TOO_LARGE;
    }
    if (len >= 2 && (((unsigned char)text[0] == 0xFF && (unsigned char)text[1] == 0xFE) ||
                     ((unsigned char)text[0] == 0xFE && (unsigned char)text[1] == 0xFF))) {
        int bad;
        conv = utf16_to_utf8((const unsigned char *)text, len, &len, &bad);
        if (conv == NULL) {
            tkr_yaml_set_err(err, file, 1, 1, bad ? "invalid UTF-16 text" : "out of memory");
            return bad ? TKR_E_YAML : TKR_E_NO_MEMORY;
        }
        text = conv;
    }
    L = calloc(1, sizeof(*L));
    if (L == NULL || (L->arena = tkr_arena_new()) == NULL || !yaml_parser_initialize(&parser)) {
        if (L != NULL)
            tkr_arena_free(L->arena);
        free(L);
        free(conv);
        tkr_yaml_set_err(err, file, 0, 0, "out of memory");
        return TKR_E_NO_MEMORY;
    }
    L->file = file;
    L->text = text;
    L->err = err;
    if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0)
        L->bom = 3;
    yaml_parser_set_input_string(&parser, (const unsigned char *)(text ? text : ""), len);

    while (rc == 0 && !done) {
        if (!yaml_parser_parse(&parser, &ev)) {
            rc = syntax_error(L, &parser, len);
            break;
        }
        switch (ev.type) {
        case YAML_DOCUMENT_START_EVENT:
            if (++docs > 1)
                rc = fail(L, TKR_E_POLICY, line_of(&ev.start_mark), col_of(&ev.start_mark),
                          "expected a single document in the stream, but found another document");
            break;
        case YAML_STREAM_END_EVENT:
            done = 1;
            break;
        case YAML_ALIAS_EVENT:
            rc = alias(L, &ev);
            break;
        case YAML_SCALAR_EVENT:
            rc = scalar(L, &ev);
            break;
        case YAML_SEQUENCE_START_EVENT:
            rc = collection_start(L, &ev, TKR_YAML_SEQ);
            break;
        case YAML_MAPPING_START_EVENT:
            rc = collection_start(L, &ev, TKR_YAML_MAP);
            break;
        case YAML_SEQUENCE_END_EVENT:
        case YAML_MAPPING_END_EVENT:
            rc = collection_end(L);
            break;
        default:
            break;
        }
        yaml_event_delete(&ev);
    }
    yaml_parser_delete(&parser);
    if (rc == 0)
        rc = check_text(L, len);
    for (i = 0; i < L->depth; i++)
        free(L->st[i].v);
    free(L->anch);
    free(L->spans);
    free(conv);
    if (rc == 0) {
        doc->root = L->have_root ? L->root : NULL;
        doc->arena = L->arena;
    } else {
        tkr_arena_free(L->arena);
    }
    free(L);
    return rc;
}

const tkr_yaml_node_t *tkr_yaml_get(const tkr_yaml_node_t *map, const char *key)
{
    size_t i, n;

    if (map == NULL || key == NULL || map->kind != TKR_YAML_MAP)
        return NULL;
    n = strlen(key);
    for (i = 0; i < map->n; i++)
        if (map->keys[i]->kind == TKR_YAML_STR && map->keys[i]->len == n &&
            memcmp(map->keys[i]->str, key, n) == 0)
            return map->items[i];
    return NULL;
}
