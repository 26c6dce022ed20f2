/* tokenroll/json.h — strict JSON reader over jsmn, and a JSON writer.
 *
 * Reader: jsmn tokenizes into the caller's token array (no heap), then a
 * validation pass accounts for every byte of the text and rejects what jsmn
 * lets through: trailing data, missing or extra commas and colons, duplicate
 * keys at any depth, bad escapes, lone surrogates, invalid UTF-8, control
 * characters in strings, leading zeros and other non-RFC 8259 numbers, and
 * nesting deeper than TKR_JSON_DEPTH_MAX. The root must be an object or an
 * array. Values are addressed by token index; strings are views into the
 * caller's text until copied out by tkr_json_get_str.
 *
 * Writer: appends to a caller buffer, inserting separators itself, with an
 * ASCII-only mode that matches Python's json.dumps(obj,
 * separators=(',', ':')) byte for byte (ensure_ascii=True). */
#ifndef TOKENROLL_JSON_H
#define TOKENROLL_JSON_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "error.h"

/* One JSON value found in the text. The layout is jsmn's token with parent
 * links, which jsmn fills in the caller's array directly (lib/json_tok.c
 * checks at compile time that the two agree); this header does not
 * include jsmn.h, so an application's own jsmn and its configuration
 * macros are its business. Read tokens through the functions below. */
typedef struct {
    int type;     /* kind in the library's numbering: use tkr_json_type */
    int start;    /* offset of the first byte (strings: after the quote) */
    int end;      /* offset past the last byte */
    int size;     /* members of an object, elements of an array */
    int parent;   /* index of the enclosing token, -1 for the root */
} tkr_json_tok_t;

typedef enum {
    TKR_JSON_OBJECT = 1,
    TKR_JSON_ARRAY,
    TKR_JSON_STRING,
    TKR_JSON_NUMBER,
    TKR_JSON_BOOL,
    TKR_JSON_NULL
} tkr_json_type_t;

typedef struct {
    const char *js;          /* the text, owned by the caller */
    size_t len;
    tkr_json_tok_t *tok;     /* caller's token array */
    int ntok;                /* tokens in use */
} tkr_json_t;

/* Parse and validate js[0..len) using toks[0..max_toks). On a failure
 * inside the text, diag (may be NULL) gets the offset of the offending
 * byte (diag->offset, has_offset).
 * TKR_E_JSON, TKR_E_JSON_DEPTH, TKR_E_JSON_DUPLICATE, TKR_E_UTF8,
 * TKR_E_JSON_TOKENS (array too small), TKR_E_TOO_LARGE (> TKR_JSON_LEN_MAX). */
int tkr_json_parse(tkr_json_t *doc, tkr_json_tok_t *toks, size_t max_toks,
                   const char *js, size_t len, tkr_diag_t *diag);

tkr_json_type_t tkr_json_type(const tkr_json_t *doc, int t);

/* Members of an object or elements of an array. */
int tkr_json_count(const tkr_json_t *doc, int t);

/* Index of the first token after value t and everything inside it. */
int tkr_json_skip(const tkr_json_t *doc, int t);

/* Value of key in object obj (keys compared after unescaping), or
 * TKR_E_NOT_FOUND / TKR_E_TYPE when obj is not an object. */
int tkr_json_find(const tkr_json_t *doc, int obj, const char *key);

/* i-th element of array arr, or i-th key of object arr (its value is the
 * next token). TKR_E_NOT_FOUND past the end. */
int tkr_json_child(const tkr_json_t *doc, int arr, int i);

/* Unescape string t into out as UTF-8 with a NUL terminator. A NUL inside
 * the string (\u0000) is TKR_E_UTF8 so C callers cannot be truncated. */
int tkr_json_get_str(const tkr_json_t *doc, char *out, size_t out_size,
                     size_t *out_len, int t);

/* Integer value: a number without fraction or exponent, in int64_t range.
 * TKR_E_TYPE for other numbers or non-numbers, TKR_E_RANGE on overflow. */
int tkr_json_get_i64(const tkr_json_t *doc, int64_t *v, int t);

int tkr_json_get_bool(const tkr_json_t *doc, int *v, int t);

/* 1 when string t equals s (after unescaping), else 0. */
int tkr_json_str_eq(const tkr_json_t *doc, int t, const char *s);

/* Raw text of value t (strings without their quotes), its length in *len.
 * Argument order, as in every reader call: the document, then outputs,
 * then the token index, then other inputs. */
const char *tkr_json_raw(const tkr_json_t *doc, size_t *len, int t);

/* ---- writer ---- */

#define TKR_JSONW_ASCII 0x1u  /* escape non-ASCII as \uXXXX (Python default) */
#define TKR_JSONW_PRETTY 0x2u /* two-space indent, ", " and ": " as Python indent=2 */

typedef struct {
    char *buf;
    size_t size;
    size_t len;
    int err;                 /* first error, sticky */
    unsigned flags;
    unsigned depth;
    uint64_t need_comma;     /* bit d: depth d already holds a value */
    uint64_t in_object;      /* bit d: the container at depth d is an object */
    int after_key;
} tkr_jsonw_t;

void tkr_jsonw_init(tkr_jsonw_t *w, char *buf, size_t size, unsigned flags);
void tkr_jsonw_obj_begin(tkr_jsonw_t *w);
void tkr_jsonw_obj_end(tkr_jsonw_t *w);
void tkr_jsonw_arr_begin(tkr_jsonw_t *w);
void tkr_jsonw_arr_end(tkr_jsonw_t *w);
void tkr_jsonw_key(tkr_jsonw_t *w, const char *key);
/* s[0..len) must be valid UTF-8 (TKR_E_UTF8 otherwise). */
void tkr_jsonw_strn(tkr_jsonw_t *w, const char *s, size_t len);
void tkr_jsonw_str(tkr_jsonw_t *w, const char *s);
void tkr_jsonw_i64(tkr_jsonw_t *w, int64_t v);
void tkr_jsonw_bool(tkr_jsonw_t *w, int v);
void tkr_jsonw_null(tkr_jsonw_t *w);
/* Already-serialized JSON, copied as is (the caller vouches for it). */
void tkr_jsonw_raw(tkr_jsonw_t *w, const char *json, size_t len);
/* Re-emit value t of doc through the writer (normalizing its spacing). */
void tkr_jsonw_value(tkr_jsonw_t *w, const tkr_json_t *doc, int t);

/* NUL-terminates and reports the length; returns the first error, e.g.
 * TKR_E_JSON_DEPTH, or TKR_E_JSON for unbalanced or mismatched nesting, a
 * key outside an object, a value in an object without its key, or a second
 * top-level value; else TKR_E_BUFFER_TOO_SMALL when the buffer was short,
 * with *out_len the length the document needs (without the NUL: give one
 * byte more). The buffer then holds an empty string. */
int tkr_jsonw_finish(tkr_jsonw_t *w, size_t *out_len);

#endif
