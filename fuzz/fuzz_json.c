/* fuzz_json.c — libFuzzer harness for the strict JSON reader and the writer.
 *
 * Reader (input as a JSON text):
 *   - on failure the diagnostics' offset lies inside the text; on success the document
 *     parses again into a token array of exactly ntok slots (heap, so ASan
 *     sees a write past max_toks) and fails with TKR_E_JSON_TOKENS with one
 *     slot less;
 *   - every token is walked with the typed getters, each checked against an
 *     independent reference: get_str yields valid UTF-8 that str_eq accepts
 *     and no longer than the raw text, get_i64 agrees with strtoll, get_bool
 *     with the literal, count/child/skip describe the same tree, and find
 *     returns the value of each key (keys are unique: duplicates are refused);
 *   - the document re-emitted by tkr_jsonw_value (compact, ASCII, pretty,
 *     ASCII+pretty) re-parses, and re-emitting that gives the compact text
 *     again byte for byte (idempotence); ASCII output is 7-bit.
 * Writer (input as arbitrary bytes):
 *   - tkr_jsonw_strn succeeds exactly on valid UTF-8, matches a reference
 *     escaper of Python's json.dumps byte for byte in both modes, and reads
 *     back through the reader to the same bytes;
 *   - a key and an integer written into an object are found again. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tokenroll/error.h"
#include "tokenroll/json.h"

#include "fuzz_check.h"

#define MAX_TOK 4096

static tkr_json_tok_t toks[MAX_TOK];
static tkr_json_tok_t toks_re[MAX_TOK];

/* Deepest nesting seen by walk(): 1 for a flat object or array. */
static unsigned levels;

/* ---- independent references ---- */

/* Strict UTF-8 (RFC 3629): no overlongs, surrogates or values > U+10FFFF.
 * Returns the number of scalar values, or -1. */
static long utf8_count(const unsigned char *s, size_t n)
{
    size_t i = 0;
    long cps = 0;

    while (i < n) {
        unsigned char c = s[i];
        size_t len, k;
        uint32_t v, min;

        if (c < 0x80) {
            i++;
            cps++;
            continue;
        }
        if (c >= 0xC2 && c <= 0xDF) {
            len = 2; v = c & 0x1Fu; min = 0x80;
        } else if (c >= 0xE0 && c <= 0xEF) {
            len = 3; v = c & 0x0Fu; min = 0x800;
        } else if (c >= 0xF0 && c <= 0xF4) {
            len = 4; v = c & 0x07u; min = 0x10000;
        } else {
            return -1;
        }
        if (n - i < len)
            return -1;
        for (k = 1; k < len; k++) {
            if ((s[i + k] & 0xC0) != 0x80)
                return -1;
            v = (v << 6) | (s[i + k] & 0x3Fu);
        }
        if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
            return -1;
        i += len;
        cps++;
    }
    return cps;
}

/* Decode one scalar value of already validated UTF-8. */
static uint32_t utf8_next(const unsigned char *s, size_t *i)
{
    unsigned char c = s[*i];
    size_t len = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4, k;
    uint32_t v = len == 1 ? c : len == 2 ? (c & 0x1Fu) : len == 3 ? (c & 0x0Fu)
                                                                  : (c & 0x07u);

    for (k = 1; k < len; k++)
        v = (v << 6) | (s[*i + k] & 0x3Fu);
    *i += len;
    return v;
}

/* json.dumps(s, ensure_ascii=ascii) of a valid UTF-8 string, quotes
 * included. out must hold 12 bytes per input byte + 3. */
static size_t py_dumps_str(char *out, const unsigned char *s, size_t n,
                           int ascii)
{
    static const char hex[] = "0123456789abcdef";
    size_t i = 0, o = 0;

    out[o++] = '"';
    while (i < n) {
        size_t start = i;
        uint32_t cp = utf8_next(s, &i);
        const char *esc = NULL;

        switch (cp) {
        case '"': esc = "\\\""; break;
        case '\\': esc = "\\\\"; break;
        case '\n': esc = "\\n"; break;
        case '\r': esc = "\\r"; break;
        case '\t': esc = "\\t"; break;
        case '\b': esc = "\\b"; break;
        case '\f': esc = "\\f"; break;
        default: break;
        }
        if (esc != NULL) {
            out[o++] = esc[0];
            out[o++] = esc[1];
        } else if (cp < 0x20 || (ascii && cp >= 0x7f)) {
            uint32_t units[2];
            int nu = 1, u;
            if (cp >= 0x10000) {
                units[0] = 0xD800 + ((cp - 0x10000) >> 10);
                units[1] = 0xDC00 + ((cp - 0x10000) & 0x3FF);
                nu = 2;
            } else {
                units[0] = cp;
            }
            for (u = 0; u < nu; u++) {
                out[o++] = '\\';
                out[o++] = 'u';
                out[o++] = hex[(units[u] >> 12) & 15];
                out[o++] = hex[(units[u] >> 8) & 15];
                out[o++] = hex[(units[u] >> 4) & 15];
                out[o++] = hex[units[u] & 15];
            }
        } else {
            memcpy(out + o, s + start, i - start);
            o += i - start;
        }
    }
    out[o++] = '"';
    return o;
}

static int has_u0000(const char *s, size_t n)
{
    size_t i;

    for (i = 0; i + 6 <= n; i++)
        if (memcmp(s + i, "\\u0000", 6) == 0)
            return 1;
    return 0;
}

/* ---- reader walk ---- */

static void check_scalar_getters_refuse(const tkr_json_t *doc, int t)
{
    int64_t v;
    int b;

    if (tkr_json_type(doc, t) != TKR_JSON_NUMBER)
        CHECK(tkr_json_get_i64(doc, &v, t) == TKR_E_TYPE);
    if (tkr_json_type(doc, t) != TKR_JSON_BOOL)
        CHECK(tkr_json_get_bool(doc, &b, t) == TKR_E_TYPE);
}

static void check_string(const tkr_json_t *doc, int t)
{
    size_t rawlen = 0, olen = (size_t)-1;
    const char *raw = tkr_json_raw(doc, &rawlen, t);
    char *out = malloc(rawlen + 1);
    int rc;

    CHECK(out != NULL);
    CHECK(raw == doc->js + doc->tok[t].start);
    CHECK(raw > doc->js && raw[-1] == '"' && raw[rawlen] == '"');
    CHECK(tkr_json_count(doc, t) == TKR_E_TYPE);
    CHECK(tkr_json_child(doc, t, 0) == TKR_E_TYPE);
    CHECK(tkr_json_find(doc, t, "") == TKR_E_TYPE);
    CHECK(tkr_json_get_str(doc, out, 0, &olen, t) == TKR_E_INVALID_ARG);

    /* Unescaping never grows the text: \uXXXX (6) -> at most 3 bytes,
     * a surrogate pair (12) -> 4, two-character escapes -> 1. */
    rc = tkr_json_get_str(doc, out, rawlen + 1, &olen, t);
    if (rc != 0) {
        /* Only an embedded U+0000 is refused once the text is valid. */
        CHECK(rc == TKR_E_UTF8);
        CHECK(has_u0000(raw, rawlen));
        CHECK(out[0] == '\0');       /* never a truncated string */
        free(out);
        return;
    }
    CHECK(olen <= rawlen);
    CHECK(out[olen] == '\0' && strlen(out) == olen);
    CHECK(utf8_count((const unsigned char *)out, olen) >= 0);
    if (memchr(raw, '\\', rawlen) == NULL)
        CHECK(olen == rawlen && memcmp(out, raw, rawlen) == 0);
    CHECK(tkr_json_str_eq(doc, t, out) == 1);
    if (olen > 0) {
        char save = out[olen - 1];
        out[olen - 1] = '\0';
        CHECK(tkr_json_str_eq(doc, t, out) == 0);
        out[olen - 1] = save;
        /* Too small by one (the terminator): refused, output emptied. */
        CHECK(tkr_json_get_str(doc, out, olen, NULL, t) ==
              TKR_E_BUFFER_TOO_SMALL);
        CHECK(out[0] == '\0');
    }
    free(out);
}

static void check_number(const tkr_json_t *doc, int t)
{
    size_t rawlen = 0;
    const char *raw = tkr_json_raw(doc, &rawlen, t);
    char *copy = malloc(rawlen + 1), *end = NULL;
    int64_t v = 0;
    long long ref;
    int rc, frac;

    CHECK(copy != NULL);
    memcpy(copy, raw, rawlen);
    copy[rawlen] = '\0';
    frac = strpbrk(copy, ".eE") != NULL;
    rc = tkr_json_get_i64(doc, &v, t);
    if (frac) {
        /* "1e2" or "2.5" is another number: TKR_E_TYPE, as json.h says,
         * however long its integer part. */
        CHECK(rc == TKR_E_TYPE);
    } else {
        errno = 0;
        ref = strtoll(copy, &end, 10);
        CHECK(end == copy + rawlen);
        if (errno == ERANGE) {
            CHECK(rc == TKR_E_RANGE);
        } else {
            CHECK(rc == 0);
            CHECK(v == (int64_t)ref);
        }
    }
    free(copy);
}

/* Walk value t, checking the tree structure; returns the index after it. */
static int walk(const tkr_json_t *doc, int t, unsigned depth)
{
    tkr_json_type_t ty = tkr_json_type(doc, t);
    size_t rawlen = 0;
    const char *raw = tkr_json_raw(doc, &rawlen, t);
    int n, i, c, b;

    CHECK(depth <= TKR_JSON_DEPTH_MAX);
    CHECK(ty >= TKR_JSON_OBJECT && ty <= TKR_JSON_NULL);
    CHECK(raw != NULL && raw >= doc->js && raw + rawlen <= doc->js + doc->len);
    check_scalar_getters_refuse(doc, t);

    switch (ty) {
    case TKR_JSON_STRING:
        check_string(doc, t);
        CHECK(tkr_json_skip(doc, t) == t + 1);
        return t + 1;
    case TKR_JSON_NUMBER:
        check_number(doc, t);
        CHECK(tkr_json_skip(doc, t) == t + 1);
        return t + 1;
    case TKR_JSON_BOOL:
        CHECK(tkr_json_get_bool(doc, &b, t) == 0);
        CHECK(rawlen == (b ? 4u : 5u));
        CHECK(memcmp(raw, b ? "true" : "false", rawlen) == 0);
        return t + 1;
    case TKR_JSON_NULL:
        CHECK(rawlen == 4 && memcmp(raw, "null", 4) == 0);
        return t + 1;
    default:
        break;
    }

    if (depth + 1 > levels)
        levels = depth + 1;
    n = tkr_json_count(doc, t);
    CHECK(n >= 0 && n == doc->tok[t].size);
    CHECK(raw[0] == (ty == TKR_JSON_OBJECT ? '{' : '['));
    CHECK(raw[rawlen - 1] == (ty == TKR_JSON_OBJECT ? '}' : ']'));
    CHECK(tkr_json_child(doc, t, n) == TKR_E_NOT_FOUND);
    CHECK(tkr_json_child(doc, t, -1) == TKR_E_NOT_FOUND);
    if (ty != TKR_JSON_OBJECT)
        CHECK(tkr_json_find(doc, t, "") == TKR_E_TYPE);
    c = t + 1;
    for (i = 0; i < n; i++) {
        CHECK(tkr_json_child(doc, t, i) == c);
        if (ty == TKR_JSON_OBJECT) {
            CHECK(tkr_json_type(doc, c) == TKR_JSON_STRING);
            c = walk(doc, c, depth);
        }
        /* Children lie inside the parent's text. */
        CHECK(doc->tok[c].start > doc->tok[t].start &&
              doc->tok[c].end < doc->tok[t].end);
        c = walk(doc, c, depth + 1);
    }
    CHECK(tkr_json_skip(doc, t) == c);

    /* Keys are unique, so find() lands on each key's own value. */
    if (ty == TKR_JSON_OBJECT) {
        for (i = 0; i < n; i++) {
            int key = tkr_json_child(doc, t, i);
            size_t klen;
            const char *kraw = tkr_json_raw(doc, &klen, key);
            char *k = malloc(klen + 1);
            CHECK(k != NULL);
            (void)kraw;
            if (tkr_json_get_str(doc, k, klen + 1, NULL, key) == 0)
                CHECK(tkr_json_find(doc, t, k) == key + 1);
            free(k);
        }
    }
    return c;
}

/* ---- writer ---- */

static int emit(const tkr_json_t *doc, unsigned flags, char *buf, size_t size,
                size_t *len)
{
    tkr_jsonw_t w;

    tkr_jsonw_init(&w, buf, size, flags);
    tkr_jsonw_value(&w, doc, 0);
    return tkr_jsonw_finish(&w, len);
}

static void check_reemit(const tkr_json_t *doc, size_t size)
{
    static const unsigned modes[] = {0, TKR_JSONW_ASCII, TKR_JSONW_PRETTY,
                                     TKR_JSONW_ASCII | TKR_JSONW_PRETTY};
    /* ASCII triples at most (2-byte UTF-8 -> \uXXXX); pretty adds to each
     * token a line break and indent (2 per level) before it, another
     * before a container's closing bracket, and ", " / ": ". */
    size_t cap = 3 * size + (size_t)doc->ntok * (4 * TKR_JSON_DEPTH_MAX + 8) + 16;
    char *compact = malloc(cap), *out = malloc(cap), *again = malloc(cap);
    size_t clen = 0, olen = 0, alen = 0, i;
    unsigned m;
    tkr_json_t re;
    int rc;

    CHECK(compact != NULL && out != NULL && again != NULL);
    rc = emit(doc, 0, compact, cap, &clen);
    CHECK(rc == 0);
    CHECK(clen <= size);          /* compact never grows: see above */

    for (m = 0; m < sizeof(modes) / sizeof(modes[0]); m++) {
        rc = emit(doc, modes[m], out, cap, &olen);
        CHECK(rc == 0);
        CHECK(out[olen] == '\0');
        if (modes[m] & TKR_JSONW_ASCII)
            for (i = 0; i < olen; i++)
                CHECK((unsigned char)out[i] < 0x80);
        rc = tkr_json_parse(&re, toks_re, MAX_TOK, out, olen, NULL);
        CHECK(rc == 0);
        CHECK(re.ntok == doc->ntok);
        rc = emit(&re, 0, again, cap, &alen);
        CHECK(rc == 0);
        CHECK(alen == clen && memcmp(again, compact, clen) == 0);
        if (modes[m] == 0)
            CHECK(olen == clen && memcmp(out, compact, clen) == 0);
    }
    free(compact);
    free(out);
    free(again);
}

/* Parse with exactly ntok slots (and one less) in exact-size heap arrays. */
static void check_token_budget(const tkr_json_t *doc, const char *js,
                               size_t size)
{
    size_t n = (size_t)doc->ntok;
    tkr_json_tok_t *exact = malloc(n * sizeof(*exact));
    tkr_json_t d2;
    int rc;

    CHECK(exact != NULL);
    rc = tkr_json_parse(&d2, exact, n, js, size, NULL);
    CHECK(rc == 0 && d2.ntok == doc->ntok);
    rc = tkr_json_parse(&d2, exact, n - 1, js, size, NULL);
    CHECK(rc == TKR_E_JSON_TOKENS);
    free(exact);
}

static void writer_props(const uint8_t *data, size_t size)
{
    size_t cap = 12 * size + 64, len = 0, rlen, i;
    char *out = malloc(cap), *ref = malloc(cap), *key, *got;
    long cps = utf8_count(data, size);
    unsigned ascii;
    tkr_jsonw_t w;
    tkr_json_t doc;
    int64_t v = 0, back = 0;
    int rc, t;

    CHECK(out != NULL && ref != NULL);
    for (ascii = 0; ascii < 2; ascii++) {
        tkr_jsonw_init(&w, out, cap, ascii ? TKR_JSONW_ASCII : 0);
        tkr_jsonw_arr_begin(&w);
        tkr_jsonw_strn(&w, (const char *)data, size);
        tkr_jsonw_arr_end(&w);
        rc = tkr_jsonw_finish(&w, &len);
        if (cps < 0) {
            CHECK(rc == TKR_E_UTF8);
            CHECK(len == 0 && out[0] == '\0');
            continue;
        }
        CHECK(rc == 0);
        ref[0] = '[';
        rlen = 1 + py_dumps_str(ref + 1, data, size, (int)ascii);
        ref[rlen++] = ']';
        CHECK(len == rlen && memcmp(out, ref, rlen) == 0);

        rc = tkr_json_parse(&doc, toks_re, MAX_TOK, out, len, NULL);
        CHECK(rc == 0 && doc.ntok == 2);
        got = malloc(size + 1);
        CHECK(got != NULL);
        rc = tkr_json_get_str(&doc, got, size + 1, &rlen, 1);
        if (memchr(data, 0, size) != NULL) {
            CHECK(rc == TKR_E_UTF8);
        } else {
            CHECK(rc == 0 && rlen == size && memcmp(got, data, size) == 0);
            CHECK(tkr_json_str_eq(&doc, 1, got) == 1);
        }
        free(got);
    }

    /* {"<input up to the first NUL>": <first 8 bytes as int64>} */
    key = malloc(size + 1);
    CHECK(key != NULL);
    memcpy(key, data, size);
    key[size] = '\0';
    for (i = 0; i < 8 && i < size; i++)
        v = (int64_t)(((uint64_t)v << 8) | data[i]);
    tkr_jsonw_init(&w, out, cap, TKR_JSONW_PRETTY);
    tkr_jsonw_obj_begin(&w);
    tkr_jsonw_key(&w, key);
    tkr_jsonw_i64(&w, v);
    tkr_jsonw_obj_end(&w);
    rc = tkr_jsonw_finish(&w, &len);
    if (utf8_count((const unsigned char *)key, strlen(key)) < 0) {
        CHECK(rc == TKR_E_UTF8);
    } else {
        CHECK(rc == 0);
        rc = tkr_json_parse(&doc, toks_re, MAX_TOK, out, len, NULL);
        CHECK(rc == 0 && doc.ntok == 3);
        t = tkr_json_find(&doc, 0, key);
        CHECK(t == 2);
        CHECK(tkr_json_get_i64(&doc, &back, t) == 0 && back == v);
    }
    free(key);
    free(out);
    free(ref);
}

/* The input as a program for the writer: one call per byte after the
 * first (flags). The writer must refuse exactly the sequences that are not
 * one JSON object or array (a small reference machine decides), and what
 * it accepts must parse and re-emit byte for byte. Keys are numbered so an
 * object never repeats one. */
#define OPS_MAX 512

typedef struct {
    unsigned depth;
    uint64_t in_obj;         /* bit d: the container at depth d is an object */
    uint64_t has_value;      /* bit d: depth d holds a value already */
    int after_key;
    int bad;                 /* TKR_E_JSON / TKR_E_JSON_DEPTH, first one */
} wref_t;

static void ref_fail(wref_t *r, int rc)
{
    if (r->bad == 0)
        r->bad = rc;
}

/* Before a key (is_key) or a value: what the document allows here. */
static void ref_slot(wref_t *r, int is_key)
{
    uint64_t bit = (uint64_t)1 << r->depth;

    if (r->bad != 0)
        return;
    if (r->after_key) {
        if (is_key)
            ref_fail(r, TKR_E_JSON);
        r->after_key = 0;
        return;
    }
    if (is_key != ((r->in_obj & bit) != 0) ||
        (r->depth == 0 && (r->has_value & bit)))
        ref_fail(r, TKR_E_JSON);
    r->has_value |= bit;
}

static void ref_open(wref_t *r, int obj)
{
    uint64_t bit;

    ref_slot(r, 0);
    if (r->bad != 0)
        return;
    if (r->depth >= TKR_JSON_DEPTH_MAX) {
        ref_fail(r, TKR_E_JSON_DEPTH);
        return;
    }
    r->depth++;
    bit = (uint64_t)1 << r->depth;
    r->has_value &= ~bit;
    r->in_obj = obj ? r->in_obj | bit : r->in_obj & ~bit;
}

static void ref_close(wref_t *r, int obj)
{
    if (r->bad != 0)
        return;
    if (r->depth == 0 || r->after_key ||
        (((r->in_obj >> r->depth) & 1) != 0) != (obj != 0))
        ref_fail(r, TKR_E_JSON);
    else
        r->depth--;
}

static void writer_ops(const uint8_t *data, size_t size)
{
    static const char small[] = "{\"a\":[1,\"b\"]}";
    tkr_json_tok_t stoks[8];
    tkr_json_t sdoc, doc;
    /* Room for the worst op: the small document pretty-printed at the
     * deepest level, six lines of up to 2 * TKR_JSON_DEPTH_MAX + 16 bytes. */
    size_t cap = OPS_MAX * 6 * (2 * TKR_JSON_DEPTH_MAX + 16) + 64, len = 0, i,
           n = size < OPS_MAX ? size : OPS_MAX;
    char *out = malloc(cap), *again = malloc(cap), key[24];
    unsigned flags, keyno = 0;
    tkr_jsonw_t w;
    wref_t r;
    int rc;

    if (size < 2)
        goto done;
    CHECK(out != NULL && again != NULL);
    CHECK(tkr_json_parse(&sdoc, stoks, 8, small, sizeof(small) - 1, NULL) == 0);
    flags = data[0] & (TKR_JSONW_ASCII | TKR_JSONW_PRETTY);
    tkr_jsonw_init(&w, out, cap, flags);
    memset(&r, 0, sizeof(r));
    /* The root is always a container: the reader takes nothing else. */
    if (data[1] & 1) {
        tkr_jsonw_obj_begin(&w);
        ref_open(&r, 1);
    } else {
        tkr_jsonw_arr_begin(&w);
        ref_open(&r, 0);
    }
    for (i = 2; i < n; i++) {
        switch (data[i] % 10) {
        case 0: tkr_jsonw_obj_begin(&w); ref_open(&r, 1); break;
        case 1: tkr_jsonw_obj_end(&w); ref_close(&r, 1); break;
        case 2: tkr_jsonw_arr_begin(&w); ref_open(&r, 0); break;
        case 3: tkr_jsonw_arr_end(&w); ref_close(&r, 0); break;
        case 4:
            snprintf(key, sizeof(key), "k%u", keyno++);
            tkr_jsonw_key(&w, key);
            ref_slot(&r, 1);
            if (r.bad == 0)
                r.after_key = 1;
            break;
        case 5: tkr_jsonw_str(&w, "s\"\xc3\xa9\n"); ref_slot(&r, 0); break;
        case 6: tkr_jsonw_i64(&w, INT64_MIN + (int64_t)data[i] * 1000003); ref_slot(&r, 0); break;
        case 7: tkr_jsonw_bool(&w, data[i] & 16); ref_slot(&r, 0); break;
        case 8: tkr_jsonw_null(&w); ref_slot(&r, 0); break;
        default:
            /* A two-level document at the current depth. */
            tkr_jsonw_value(&w, &sdoc, 0);
            ref_slot(&r, 0);
            if (r.bad == 0 && r.depth + 1 >= TKR_JSON_DEPTH_MAX)
                ref_fail(&r, TKR_E_JSON_DEPTH);
            break;
        }
    }
    rc = tkr_jsonw_finish(&w, &len);
    if (r.bad == 0 && (r.depth != 0 || r.after_key))
        r.bad = TKR_E_JSON;
    CHECK(rc == r.bad);
    if (rc != 0) {
        CHECK(len == 0 && out[0] == '\0');
        goto done;
    }
    CHECK(len < cap && out[len] == '\0');
    rc = tkr_json_parse(&doc, toks_re, MAX_TOK, out, len, NULL);
    CHECK(rc == 0);
    tkr_jsonw_init(&w, again, cap, flags);
    tkr_jsonw_value(&w, &doc, 0);
    CHECK(tkr_jsonw_finish(&w, &i) == 0);
    CHECK(i == len && memcmp(again, out, len) == 0);
done:
    free(out);
    free(again);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *js = (const char *)data;
    tkr_json_t doc;
    tkr_diag_t d;
    int rc;

    tkr_diag_clear(&d);
    rc = tkr_json_parse(&doc, toks, MAX_TOK, js, size, &d);
    if (rc != 0) {
        CHECK(rc == TKR_E_JSON || rc == TKR_E_JSON_DEPTH ||
              rc == TKR_E_JSON_DUPLICATE || rc == TKR_E_UTF8 ||
              rc == TKR_E_JSON_TOKENS || rc == TKR_E_TOO_LARGE);
        CHECK(!d.has_offset || d.offset <= size);
    } else {
        CHECK(doc.ntok > 0 && doc.ntok <= MAX_TOK);
        CHECK(tkr_json_type(&doc, 0) == TKR_JSON_OBJECT ||
              tkr_json_type(&doc, 0) == TKR_JSON_ARRAY);
        CHECK(tkr_json_type(&doc, -1) == 0);
        CHECK(tkr_json_type(&doc, doc.ntok) == 0);
        levels = 0;
        CHECK(walk(&doc, 0, 0) == doc.ntok);
        CHECK(levels >= 1 && levels <= TKR_JSON_DEPTH_MAX);
        check_token_budget(&doc, js, size);
        check_reemit(&doc, size);
    }
    writer_props(data, size);
    writer_ops(data, size);
    return 0;
}
