/* json_int.h — what the JSON writer borrows from the reader, and the one
 * string escaper every JSON writer of the library uses. Internal. */
#ifndef TKR_JSON_INT_H
#define TKR_JSON_INT_H

#include "tokenroll/json.h"

/* Token kinds, numbered as jsmn numbers them (json_tok.c checks). */
enum {
    TKR_TOK_OBJECT = 1,
    TKR_TOK_ARRAY = 2,
    TKR_TOK_STRING = 3,
    TKR_TOK_PRIMITIVE = 4
};

/* jsmn (strict, parent links) over js[0..len) into toks[0..max_toks):
 * 0 with the count in *ntok, TKR_E_JSON_TOKENS when toks is too small, or
 * TKR_E_JSON with the offending offset in *err_off. Syntax only: the
 * checks jsmn lacks are json_read.c's. */
int tkr_json_tokenize(tkr_json_tok_t *toks, unsigned max_toks, const char *js,
                      size_t len, int *ntok, size_t *err_off);

/* Next scalar value of string token t, from byte offset *i (start at
 * doc->tok[t].start); advances *i. 0 or TKR_E_JSON / TKR_E_UTF8. */
int tkr_json_next_cp(const tkr_json_t *doc, int t, size_t *i, uint32_t *cp);

/* Member key of object obj as a string into out (tkr_json_get_str):
 * TKR_E_NOT_FOUND when absent (TKR_E_TYPE when obj is no object), out
 * then empty; else tkr_json_get_str's result (TKR_E_TYPE when the value
 * is not a string). */
int tkr_json_member_str(const tkr_json_t *doc, int obj, const char *key,
                        char *out, size_t size, size_t *len);

/* Where escaped text goes: n bytes of s. */
typedef void (*tkr_json_put_fn)(void *ctx, const char *s, size_t n);

/* One scalar value as Python's json module writes it inside a string:
 * '"' '\\' \b \f \n \r \t, other controls as \u00XX, and with ascii
 * everything from U+007F on as \uXXXX (astral ones as surrogate pairs). */
void tkr_json_escape_cp(tkr_json_put_fn emit, void *ctx, uint32_t cp, int ascii);

/* s[0..n) as a quoted JSON string, escaped as above; runs of plain ASCII
 * go out in one call. TKR_E_UTF8 (output stopped) for invalid UTF-8. */
int tkr_json_escape(tkr_json_put_fn emit, void *ctx, const char *s, size_t n, int ascii);

#endif
