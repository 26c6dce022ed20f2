/* json_read.c — jsmn tokenizes; a second pass proves the text is RFC 8259.
 *
 * jsmn (even with JSMN_STRICT) accepts missing commas and colons, values as
 * keys in some positions, trailing garbage, bad numbers and raw control
 * bytes. Rather than patch its state machine, validate() walks the token
 * tree in document order and checks every byte between and inside tokens,
 * so anything jsmn let through that is not exactly JSON is refused. */
#include <string.h>

#include "tokenroll/error.h"
#include "tokenroll/json.h"
#include "cc.h"
#include "json_int.h"
#include "utf8.h"

/* ---- string contents ---- */

static int hex4(const char *s, size_t i, size_t end, uint32_t *v)
{
    size_t k;

    if (end - i < 4)
        return -1;
    *v = 0;
    for (k = 0; k < 4; k++) {
        int h = tkr_hex_digit(s[i + k]);
        if (h < 0)
            return -1;
        *v = (*v << 4) | (uint32_t)h;
    }
    return 0;
}

/* Next scalar value of a string body s[*i..end), decoding escapes.
 * Returns 0, TKR_E_JSON (bad escape or raw control byte) or TKR_E_UTF8
 * (bad UTF-8, lone surrogate). Used both to validate and to read. */
static int next_cp(const char *s, size_t end, size_t *i, uint32_t *cp)
{
    unsigned char c = (unsigned char)s[*i];
    uint32_t lo;

    if (c < 0x20)
        return TKR_E_JSON;
    if (c >= 0x80)
        return tkr_utf8_decode(s, end, i, cp) == 0 ? 0 : TKR_E_UTF8;
    if (c != '\\') {
        *cp = c;
        (*i)++;
        return 0;
    }
    if (end - *i < 2)
        return TKR_E_JSON;
    if (s[*i + 1] != 'u') {
        /* The two-character escapes: each letter, then what it stands
         * for. A table rather than a switch: less code on a device. */
        static const char two[] = "\"\"\\\\//b\bf\fn\nr\rt\t";
        size_t k;

        for (k = 0; k + 1 < sizeof(two); k += 2)
            if (s[*i + 1] == two[k]) {
                *cp = (unsigned char)two[k + 1];
                *i += 2;
                return 0;
            }
        return TKR_E_JSON;
    }
    if (hex4(s, *i + 2, end, cp) != 0)
        return TKR_E_JSON;
    *i += 6;
    if (*cp >= 0xDC00 && *cp <= 0xDFFF)
        return TKR_E_UTF8;
    if (*cp < 0xD800 || *cp > 0xDBFF)
        return 0;
    /* A high surrogate must be followed by an escaped low one. */
    if (end - *i < 6 || s[*i] != '\\' || s[*i + 1] != 'u' ||
        hex4(s, *i + 2, end, &lo) != 0 || lo < 0xDC00 || lo > 0xDFFF)
        return TKR_E_UTF8;
    *cp = 0x10000 + ((*cp - 0xD800) << 10) + (lo - 0xDC00);
    *i += 6;
    return 0;
}

static int check_string(const char *s, size_t start, size_t end, size_t *err)
{
    size_t i = start;
    uint32_t cp;

    while (i < end) {
        size_t at = i;
        int rc = next_cp(s, end, &i, &cp);
        if (rc != 0) {
            *err = at;
            return rc;
        }
    }
    return 0;
}

/* Compare two validated string bodies by value (escapes decoded).
 * noinline: 16 bytes less of the Cortex-M4 image than inlined. */
TKR_NOINLINE static int same_string(const char *s, const tkr_json_tok_t *a,
                                                 const tkr_json_tok_t *b)
{
    size_t i = (size_t)a->start, j = (size_t)b->start;
    size_t ea = (size_t)a->end, eb = (size_t)b->end;
    uint32_t x, y;

    if (ea - i == eb - j && memcmp(s + i, s + j, ea - i) == 0)
        return 1;
    if (memchr(s + i, '\\', ea - i) == NULL && memchr(s + j, '\\', eb - j) == NULL)
        return 0;
    while (i < ea && j < eb) {
        if (next_cp(s, ea, &i, &x) != 0 || next_cp(s, eb, &j, &y) != 0)
            return 0;
        if (x != y)
            return 0;
    }
    return i == ea && j == eb;
}

/* ---- primitives: true, false, null, RFC 8259 §6 numbers ---- */

static int is_digit(char c) { return c >= '0' && c <= '9'; }

/* Past the run of digits at s[i]; i itself when there is none. */
static size_t digits(const char *s, size_t i, size_t end)
{
    while (i < end && is_digit(s[i]))
        i++;
    return i;
}

static int check_number(const char *s, size_t i, size_t end)
{
    size_t d;

    if (i < end && s[i] == '-')
        i++;
    if (i >= end)
        return -1;
    if (s[i] == '0') {
        i++;                    /* no leading zeros: "01" is not a number */
    } else if ((d = digits(s, i, end)) > i) {
        i = d;
    } else {
        return -1;
    }
    if (i < end && s[i] == '.') {
        i++;
        if ((d = digits(s, i, end)) == i)
            return -1;
        i = d;
    }
    if (i < end && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < end && (s[i] == '+' || s[i] == '-'))
            i++;
        if ((d = digits(s, i, end)) == i)
            return -1;
        i = d;
    }
    return i == end ? 0 : -1;
}

static int word_is(const char *s, size_t start, size_t end, const char *w)
{
    size_t n = strlen(w);
    return end - start == n && memcmp(s + start, w, n) == 0;
}

static int check_primitive(const char *s, size_t start, size_t end)
{
    static const char *const words[] = {"true", "false", "null"};
    size_t k;

    for (k = 0; k < 3; k++)
        if (word_is(s, start, end, words[k]))
            return 0;
    return check_number(s, start, end);
}

/* ---- structure ---- */

typedef struct {
    tkr_json_t *doc;
    int next;       /* next unvisited token */
    size_t pos;     /* next unvisited byte */
    size_t err_off; /* where a failure was found */
} walk_t;

static int fail(walk_t *w, int rc, size_t at)
{
    w->err_off = at;
    return rc;
}

static void skip_ws(walk_t *w)
{
    const char *s = w->doc->js;
    while (w->pos < w->doc->len &&
           (s[w->pos] == ' ' || s[w->pos] == '\t' || s[w->pos] == '\n' ||
            s[w->pos] == '\r'))
        w->pos++;
}

/* True when the byte at the cursor is c; consumes it. */
static int expect(walk_t *w, char c)
{
    skip_ws(w);
    if (w->pos < w->doc->len && w->doc->js[w->pos] == c) {
        w->pos++;
        return 1;
    }
    return 0;
}

static int scalar(walk_t *w, const tkr_json_tok_t *t)
{
    size_t start = (size_t)t->start, end = (size_t)t->end, err;
    int rc;

    if (t->type == TKR_TOK_STRING) {
        if (w->pos + 1 != start || w->doc->js[w->pos] != '"')
            return fail(w, TKR_E_JSON, w->pos);
        rc = check_string(w->doc->js, start, end, &err);
        if (rc != 0)
            return fail(w, rc, err);
        w->pos = end + 1;
    } else {
        if (w->pos != start)
            return fail(w, TKR_E_JSON, w->pos);
        if (check_primitive(w->doc->js, start, end) != 0)
            return fail(w, TKR_E_JSON, start);
        w->pos = end;
    }
    w->next++;
    return 0;
}

/* Keys seen so far in this object are the string tokens between the
 * object's first child and `key`, stepping over each member's value. */
static int duplicate(const tkr_json_t *doc, int obj, int key)
{
    int k = obj + 1;

    while (k < key) {
        if (same_string(doc->js, &doc->tok[k], &doc->tok[key]))
            return 1;
        k = tkr_json_skip(doc, k + 1);
    }
    return 0;
}

/* A member's key and its colon, in object self. */
static int member_key(walk_t *w, int self)
{
    int key = w->next, rc;

    skip_ws(w);
    if (key >= w->doc->ntok || w->doc->tok[key].type != TKR_TOK_STRING)
        return fail(w, TKR_E_JSON, w->pos);
    rc = scalar(w, &w->doc->tok[key]);
    if (rc != 0)
        return rc;
    if (duplicate(w->doc, self, key))
        return fail(w, TKR_E_JSON_DUPLICATE, (size_t)w->doc->tok[key].start);
    if (!expect(w, ':'))
        return fail(w, TKR_E_JSON, w->pos);
    return 0;
}

/* After an opening bracket (first) or after a value: close every
 * container whose closing bracket follows, then step over the comma (and
 * key) to the next value. 1: a value follows; 0: the root is closed. */
static int next_member(walk_t *w, const int *open, unsigned *depth, int first)
{
    while (*depth > 0) {
        int self = open[*depth - 1];
        const tkr_json_tok_t *t = &w->doc->tok[self];

        if (expect(w, t->type == TKR_TOK_OBJECT ? '}' : ']')) {
            if (w->pos != (size_t)t->end)
                return fail(w, TKR_E_JSON, w->pos);
            (*depth)--;
            first = 0;
            continue;
        }
        if (!first && !expect(w, ','))
            return fail(w, TKR_E_JSON, w->pos);
        if (t->type == TKR_TOK_OBJECT) {
            int rc = member_key(w, self);
            return rc != 0 ? rc : 1;
        }
        return 1;
    }
    return 0;
}

/* The whole tree, without recursion: the open containers are a stack of
 * token indices, TKR_JSON_DEPTH_MAX ints (128 bytes at depth 32), so the
 * stack cost no longer grows with the nesting of hostile input. */
static int validate(walk_t *w)
{
    int open[TKR_JSON_DEPTH_MAX], rc;
    unsigned depth = 0;

    for (;;) {
        const tkr_json_tok_t *t;
        int first = 0;

        skip_ws(w);
        if (w->next >= w->doc->ntok)
            return fail(w, TKR_E_JSON, w->pos);
        t = &w->doc->tok[w->next];
        switch (t->type) {
        case TKR_TOK_OBJECT:
        case TKR_TOK_ARRAY:
            if (w->pos != (size_t)t->start)
                return fail(w, TKR_E_JSON, w->pos);
            if (depth >= TKR_JSON_DEPTH_MAX)
                return fail(w, TKR_E_JSON_DEPTH, w->pos);
            open[depth++] = w->next;
            w->pos = (size_t)t->start + 1;
            w->next++;
            first = 1;
            break;
        case TKR_TOK_STRING:
        case TKR_TOK_PRIMITIVE:
            if ((rc = scalar(w, t)) != 0)
                return rc;
            break;
        default:
            return fail(w, TKR_E_JSON, w->pos);
        }
        rc = next_member(w, open, &depth, first);
        if (rc <= 0)
            return rc;
    }
}

static int parse(tkr_json_t *doc, tkr_json_tok_t *toks, size_t max_toks,
                 const char *js, size_t len, size_t *err_off)
{
    walk_t w;
    int rc;

    if (doc == NULL || toks == NULL || (js == NULL && len != 0))
        return TKR_E_INVALID_ARG;
    memset(doc, 0, sizeof(*doc));
    doc->js = js;
    doc->len = len;
    doc->tok = toks;
    if (len > TKR_JSON_LEN_MAX)
        return TKR_E_TOO_LARGE;
    if (max_toks > 0x7fffffff)
        max_toks = 0x7fffffff;

    rc = tkr_json_tokenize(toks, (unsigned)max_toks, js, len, &doc->ntok,
                           err_off);
    if (rc != 0)
        return rc;
    if (doc->ntok == 0 ||
        (toks[0].type != TKR_TOK_OBJECT && toks[0].type != TKR_TOK_ARRAY)) {
        *err_off = 0;
        return TKR_E_JSON;
    }

    w.doc = doc;
    w.next = 0;
    w.pos = 0;
    w.err_off = 0;
    rc = validate(&w);
    if (rc == 0) {
        skip_ws(&w);
        if (w.pos != len || w.next != doc->ntok)
            rc = fail(&w, TKR_E_JSON, w.pos);
    }
    *err_off = w.err_off;
    return rc;
}

int tkr_json_parse(tkr_json_t *doc, tkr_json_tok_t *toks, size_t max_toks,
                   const char *js, size_t len, tkr_diag_t *diag)
{
    size_t err_off = 0;
    int rc = parse(doc, toks, max_toks, js, len, &err_off);

    /* Errors inside the text have a place; size limits have none. */
    if (diag != NULL && (rc == TKR_E_JSON || rc == TKR_E_JSON_DEPTH ||
                         rc == TKR_E_JSON_DUPLICATE || rc == TKR_E_UTF8)) {
        diag->offset = err_off;
        diag->has_offset = 1;
    }
    return rc;
}

/* ---- getters ---- */

static int valid_tok(const tkr_json_t *doc, int t)
{
    return doc != NULL && t >= 0 && t < doc->ntok;
}

tkr_json_type_t tkr_json_type(const tkr_json_t *doc, int t)
{
    char c;

    if (!valid_tok(doc, t))
        return (tkr_json_type_t)0;
    switch (doc->tok[t].type) {
    case TKR_TOK_OBJECT: return TKR_JSON_OBJECT;
    case TKR_TOK_ARRAY: return TKR_JSON_ARRAY;
    case TKR_TOK_STRING: return TKR_JSON_STRING;
    default: break;
    }
    c = doc->js[doc->tok[t].start];
    if (c == 't' || c == 'f')
        return TKR_JSON_BOOL;
    if (c == 'n')
        return TKR_JSON_NULL;
    return TKR_JSON_NUMBER;
}

int tkr_json_count(const tkr_json_t *doc, int t)
{
    tkr_json_type_t ty = tkr_json_type(doc, t);
    if (ty != TKR_JSON_OBJECT && ty != TKR_JSON_ARRAY)
        return TKR_E_TYPE;
    return doc->tok[t].size;
}

int tkr_json_skip(const tkr_json_t *doc, int t)
{
    int i = t + 1;

    if (!valid_tok(doc, t))
        return t + 1;
    if (doc->tok[t].type == TKR_TOK_STRING || doc->tok[t].type == TKR_TOK_PRIMITIVE)
        return i;
    while (i < doc->ntok && doc->tok[i].start < doc->tok[t].end)
        i++;
    return i;
}

int tkr_json_child(const tkr_json_t *doc, int arr, int i)
{
    tkr_json_type_t ty = tkr_json_type(doc, arr);
    int c, k;

    if (ty != TKR_JSON_OBJECT && ty != TKR_JSON_ARRAY)
        return TKR_E_TYPE;
    if (i < 0 || i >= doc->tok[arr].size)
        return TKR_E_NOT_FOUND;
    c = arr + 1;
    for (k = 0; k < i; k++) {
        if (ty == TKR_JSON_OBJECT)
            c = tkr_json_skip(doc, c); /* the key; its value follows */
        c = tkr_json_skip(doc, c);
    }
    return c;
}

int tkr_json_str_eq(const tkr_json_t *doc, int t, const char *s)
{
    size_t i, end, k = 0, n;
    uint32_t cp;
    char enc[4];

    if (tkr_json_type(doc, t) != TKR_JSON_STRING || s == NULL)
        return 0;
    i = (size_t)doc->tok[t].start;
    end = (size_t)doc->tok[t].end;
    n = strlen(s);
    while (i < end) {
        size_t m;
        if (next_cp(doc->js, end, &i, &cp) != 0)
            return 0;
        m = tkr_utf8_encode(enc, cp);
        if (n - k < m || memcmp(s + k, enc, m) != 0)
            return 0;
        k += m;
    }
    return k == n;
}

int tkr_json_find(const tkr_json_t *doc, int obj, const char *key)
{
    int c, k, n;

    if (tkr_json_type(doc, obj) != TKR_JSON_OBJECT)
        return TKR_E_TYPE;
    n = doc->tok[obj].size;
    c = obj + 1;
    for (k = 0; k < n; k++) {
        if (tkr_json_str_eq(doc, c, key))
            return c + 1;
        c = tkr_json_skip(doc, tkr_json_skip(doc, c));
    }
    return TKR_E_NOT_FOUND;
}

int tkr_json_get_str(const tkr_json_t *doc, char *out, size_t out_size,
                     size_t *out_len, int t)
{
    size_t i, end, o = 0;
    uint32_t cp;
    int rc;

    if (out == NULL || out_size == 0)
        return TKR_E_INVALID_ARG;
    out[0] = '\0';
    if (tkr_json_type(doc, t) != TKR_JSON_STRING)
        return TKR_E_TYPE;
    i = (size_t)doc->tok[t].start;
    end = (size_t)doc->tok[t].end;
    while (i < end) {
        char enc[4];
        size_t m;
        rc = next_cp(doc->js, end, &i, &cp);
        if (rc == 0 && cp == 0)
            rc = TKR_E_UTF8;
        if (rc != 0) {
            out[0] = '\0'; /* never a truncated string on failure */
            return rc;
        }
        m = tkr_utf8_encode(enc, cp);
        if (out_size - o <= m) {
            out[0] = '\0';
            return TKR_E_BUFFER_TOO_SMALL;
        }
        memcpy(out + o, enc, m);
        o += m;
    }
    out[o] = '\0';
    if (out_len != NULL)
        *out_len = o;
    return 0;
}

int tkr_json_member_str(const tkr_json_t *doc, int obj, const char *key,
                        char *out, size_t size, size_t *len)
{
    int t = tkr_json_find(doc, obj, key);

    if (t >= 0)
        return tkr_json_get_str(doc, out, size, len, t);
    if (out != NULL && size > 0)
        out[0] = '\0';
    return t;
}

int tkr_json_get_i64(const tkr_json_t *doc, int64_t *v, int t)
{
    size_t i, k, end;
    int neg = 0;
    uint64_t acc = 0, limit;

    if (v == NULL)
        return TKR_E_INVALID_ARG;
    if (tkr_json_type(doc, t) != TKR_JSON_NUMBER)
        return TKR_E_TYPE;
    i = (size_t)doc->tok[t].start;
    end = (size_t)doc->tok[t].end;
    if (doc->js[i] == '-') {
        neg = 1;
        i++;
    }
    /* A fraction or an exponent makes it another number, not an integer,
     * however long its integer part: TKR_E_TYPE before any range check. */
    for (k = i; k < end; k++)
        if (!is_digit(doc->js[k]))
            return TKR_E_TYPE;
    limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
    for (; i < end; i++) {
        unsigned d = (unsigned)(doc->js[i] - '0');
        if (acc > (limit - d) / 10)
            return TKR_E_RANGE;
        acc = acc * 10 + d;
    }
    if (neg)
        *v = acc == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)acc;
    else
        *v = (int64_t)acc;
    return 0;
}

int tkr_json_get_bool(const tkr_json_t *doc, int *v, int t)
{
    if (v == NULL)
        return TKR_E_INVALID_ARG;
    if (tkr_json_type(doc, t) != TKR_JSON_BOOL)
        return TKR_E_TYPE;
    *v = doc->js[doc->tok[t].start] == 't';
    return 0;
}

const char *tkr_json_raw(const tkr_json_t *doc, size_t *len, int t)
{
    if (!valid_tok(doc, t)) {
        if (len != NULL)
            *len = 0;
        return NULL;
    }
    if (len != NULL)
        *len = (size_t)(doc->tok[t].end - doc->tok[t].start);
    return doc->js + doc->tok[t].start;
}

int tkr_json_next_cp(const tkr_json_t *doc, int t, size_t *i, uint32_t *cp)
{
    return next_cp(doc->js, (size_t)doc->tok[t].end, i, cp);
}
