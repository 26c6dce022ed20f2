/* json_write.c — JSON into a caller buffer, separators inserted here.
 *
 * Errors are sticky: after the first one every call is a no-op and
 * tkr_jsonw_finish reports it, so building a document needs one check. */
#include <string.h>

#include "tokenroll/error.h"
#include "tokenroll/json.h"
#include "json_int.h"
#include "utf8.h"

void tkr_jsonw_init(tkr_jsonw_t *w, char *buf, size_t size, unsigned flags)
{
    memset(w, 0, sizeof(*w));
    w->buf = buf;
    w->size = size;
    w->flags = flags;
    if (buf == NULL || size == 0)
        w->err = TKR_E_INVALID_ARG;
}

/* Past the end of the buffer the writer keeps counting, so finish can say
 * how much the document needs; any other error stops it. */
static void put(tkr_jsonw_t *w, const char *s, size_t n)
{
    if (w->err != 0 && w->err != TKR_E_BUFFER_TOO_SMALL)
        return;
    if (w->err == 0 && w->size - w->len <= n) /* keep a byte for the NUL */
        w->err = TKR_E_BUFFER_TOO_SMALL;
    if (w->err == 0)
        memcpy(w->buf + w->len, s, n);
    w->len += n;
}

static void putc_(tkr_jsonw_t *w, char c) { put(w, &c, 1); }

/* Depth d uses bit d of need_comma and in_object. */
_Static_assert(TKR_JSON_DEPTH_MAX < 64, "TKR_JSON_DEPTH_MAX must fit the writer's bit sets");

/* A real error replaces a buffer shortage: the document is wrong, and no
 * bigger buffer would help. */
static void set_err(tkr_jsonw_t *w, int rc)
{
    if (w->err == 0 || w->err == TKR_E_BUFFER_TOO_SMALL)
        w->err = rc;
}

/* 1 while the writer still works (writing, or only counting). */
static int live(const tkr_jsonw_t *w)
{
    return w->err == 0 || w->err == TKR_E_BUFFER_TOO_SMALL;
}

static void newline(tkr_jsonw_t *w, unsigned depth)
{
    unsigned i;
    putc_(w, '\n');
    for (i = 0; i < depth; i++)
        put(w, "  ", 2);
}

/* Called before every value and key: the comma and, in pretty mode, the
 * line break that Python's indent=2 puts there. Refuses what would not be
 * JSON: a key outside an object or right after another key, a value in an
 * object without its key, a second value at the top level. */
static void separate(tkr_jsonw_t *w, int is_key)
{
    uint64_t bit = (uint64_t)1 << w->depth;
    int in_obj = (w->in_object & bit) != 0;

    if (w->after_key) {
        if (is_key) {
            set_err(w, TKR_E_JSON);
            return;
        }
        w->after_key = 0;
        return;
    }
    if (is_key != in_obj || (w->depth == 0 && (w->need_comma & bit))) {
        set_err(w, TKR_E_JSON);
        return;
    }
    if (w->need_comma & bit)
        putc_(w, ',');
    if ((w->flags & TKR_JSONW_PRETTY) && w->depth > 0)
        newline(w, w->depth);
    w->need_comma |= bit;
}

/* The reader accepts TKR_JSON_DEPTH_MAX levels; so does the writer, so
 * that any parsed document can be re-emitted. */
static void open_(tkr_jsonw_t *w, char c)
{
    uint64_t bit;

    separate(w, 0);
    putc_(w, c);
    if (w->depth >= TKR_JSON_DEPTH_MAX) {
        set_err(w, TKR_E_JSON_DEPTH);
        return;
    }
    w->depth++;
    bit = (uint64_t)1 << w->depth;
    w->need_comma &= ~bit;
    if (c == '{')
        w->in_object |= bit;
    else
        w->in_object &= ~bit;
}

static void close_(tkr_jsonw_t *w, char c)
{
    int had = (w->need_comma >> w->depth) & 1;
    int in_obj = (w->in_object >> w->depth) & 1;

    /* '}' must close an object and ']' an array: "{]" is not JSON */
    if (w->depth == 0 || w->after_key || in_obj != (c == '}')) {
        set_err(w, TKR_E_JSON);
        return;
    }
    w->depth--;
    if ((w->flags & TKR_JSONW_PRETTY) && had)
        newline(w, w->depth);
    putc_(w, c);
}

void tkr_jsonw_obj_begin(tkr_jsonw_t *w) { open_(w, '{'); }
void tkr_jsonw_obj_end(tkr_jsonw_t *w) { close_(w, '}'); }
void tkr_jsonw_arr_begin(tkr_jsonw_t *w) { open_(w, '['); }
void tkr_jsonw_arr_end(tkr_jsonw_t *w) { close_(w, ']'); }

static void put_u(tkr_json_put_fn emit, void *ctx, uint32_t u)
{
    static const char hexdig[] = "0123456789abcdef";
    char e[6] = {'\\', 'u', hexdig[(u >> 12) & 15], hexdig[(u >> 8) & 15],
                 hexdig[(u >> 4) & 15], hexdig[u & 15]};
    emit(ctx, e, 6);
}

void tkr_json_escape_cp(tkr_json_put_fn emit, void *ctx, uint32_t cp, int ascii)
{
    /* The two-character escapes: each character, then its letter after
     * the backslash. A table rather than a switch: less code on a device. */
    static const char two[] = "\"\"\\\\\nn\rr\tt\bb\ff";
    char enc[4];
    size_t k;

    for (k = 0; k + 1 < sizeof(two); k += 2)
        if (cp == (unsigned char)two[k]) {
            enc[0] = '\\';
            enc[1] = two[k + 1];
            emit(ctx, enc, 2);
            return;
        }
    if (cp < 0x20) {
        put_u(emit, ctx, cp);
    } else if (ascii && cp >= 0x7f) {
        if (cp >= 0x10000) {
            cp -= 0x10000;
            put_u(emit, ctx, 0xD800 + (cp >> 10));
            put_u(emit, ctx, 0xDC00 + (cp & 0x3FF));
        } else {
            put_u(emit, ctx, cp);
        }
    } else {
        emit(ctx, enc, tkr_utf8_encode(enc, cp));
    }
}

int tkr_json_escape(tkr_json_put_fn emit, void *ctx, const char *s, size_t n, int ascii)
{
    size_t i = 0, run;
    uint32_t cp;

    emit(ctx, "\"", 1);
    while (i < n) {
        for (run = i; run < n && (unsigned char)s[run] >= 0x20 &&
                      (unsigned char)s[run] < 0x7f && s[run] != '"' && s[run] != '\\';
             run++)
            ;
        if (run > i) {
            emit(ctx, s + i, run - i);
            i = run;
            continue;
        }
        if (tkr_utf8_decode(s, n, &i, &cp) != 0)
            return TKR_E_UTF8;
        tkr_json_escape_cp(emit, ctx, cp, ascii);
    }
    emit(ctx, "\"", 1);
    return 0;
}

static void put_w(void *ctx, const char *s, size_t n) { put((tkr_jsonw_t *)ctx, s, n); }

static void string_body(tkr_jsonw_t *w, const char *s, size_t len)
{
    int rc = tkr_json_escape(put_w, w, s, len, (w->flags & TKR_JSONW_ASCII) != 0);

    if (rc != 0)
        set_err(w, rc);
}

void tkr_jsonw_key(tkr_jsonw_t *w, const char *key)
{
    if (key == NULL) {
        set_err(w, TKR_E_INVALID_ARG);
        return;
    }
    separate(w, 1);
    string_body(w, key, strlen(key));
    if (w->flags & TKR_JSONW_PRETTY)
        put(w, ": ", 2);
    else
        putc_(w, ':');
    w->after_key = 1;
}

void tkr_jsonw_strn(tkr_jsonw_t *w, const char *s, size_t len)
{
    if (s == NULL && len != 0) {
        set_err(w, TKR_E_INVALID_ARG);
        return;
    }
    separate(w, 0);
    string_body(w, s, len);
}

void tkr_jsonw_str(tkr_jsonw_t *w, const char *s)
{
    if (s == NULL) {
        tkr_jsonw_null(w);
        return;
    }
    tkr_jsonw_strn(w, s, strlen(s));
}

void tkr_jsonw_i64(tkr_jsonw_t *w, int64_t v)
{
    char tmp[21];
    size_t n = sizeof(tmp);
    uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;

    do {
        tmp[--n] = (char)('0' + (u % 10));
        u /= 10;
    } while (u != 0);
    if (v < 0)
        tmp[--n] = '-';
    separate(w, 0);
    put(w, tmp + n, sizeof(tmp) - n);
}

void tkr_jsonw_bool(tkr_jsonw_t *w, int v)
{
    separate(w, 0);
    if (v)
        put(w, "true", 4);
    else
        put(w, "false", 5);
}

void tkr_jsonw_null(tkr_jsonw_t *w)
{
    separate(w, 0);
    put(w, "null", 4);
}

void tkr_jsonw_raw(tkr_jsonw_t *w, const char *json, size_t len)
{
    separate(w, 0);
    put(w, json, len);
}

static void reemit_string(tkr_jsonw_t *w, const tkr_json_t *doc, int t)
{
    size_t i = (size_t)doc->tok[t].start;
    uint32_t cp;

    putc_(w, '"');
    while (i < (size_t)doc->tok[t].end && live(w)) {
        if (tkr_json_next_cp(doc, t, &i, &cp) != 0) {
            set_err(w, TKR_E_JSON);
            return;
        }
        tkr_json_escape_cp(put_w, w, cp, (w->flags & TKR_JSONW_ASCII) != 0);
    }
    putc_(w, '"');
}

void tkr_jsonw_value(tkr_jsonw_t *w, const tkr_json_t *doc, int t)
{
    tkr_json_type_t ty = tkr_json_type(doc, t);
    int i, n, c;
    size_t len;
    const char *raw;

    switch (ty) {
    case TKR_JSON_OBJECT:
    case TKR_JSON_ARRAY:
        n = tkr_json_count(doc, t);
        open_(w, ty == TKR_JSON_OBJECT ? '{' : '[');
        c = t + 1;
        for (i = 0; i < n && live(w); i++) {
            if (ty == TKR_JSON_OBJECT) {
                separate(w, 1);
                reemit_string(w, doc, c);
                put(w, (w->flags & TKR_JSONW_PRETTY) ? ": " : ":",
                    (w->flags & TKR_JSONW_PRETTY) ? 2 : 1);
                w->after_key = 1;
                c++;
            }
            tkr_jsonw_value(w, doc, c);
            c = tkr_json_skip(doc, c);
        }
        close_(w, ty == TKR_JSON_OBJECT ? '}' : ']');
        break;
    case TKR_JSON_STRING:
        separate(w, 0);
        reemit_string(w, doc, t);
        break;
    case TKR_JSON_NUMBER:
    case TKR_JSON_BOOL:
    case TKR_JSON_NULL:
        raw = tkr_json_raw(doc, &len, t);
        tkr_jsonw_raw(w, raw, len);
        break;
    default:
        set_err(w, TKR_E_INVALID_ARG);
    }
}

int tkr_jsonw_finish(tkr_jsonw_t *w, size_t *out_len)
{
    if (live(w) && (w->depth != 0 || w->after_key))
        set_err(w, TKR_E_JSON);
    if (w->buf != NULL && w->size > 0)
        w->buf[w->err == 0 ? w->len : 0] = '\0';
    if (out_len != NULL)
        *out_len = w->err == 0 || w->err == TKR_E_BUFFER_TOO_SMALL ? w->len : 0;
    return w->err;
}
