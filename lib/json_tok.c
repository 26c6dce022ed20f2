/* json_tok.c — the reader's one door to jsmn.
 *
 * jsmn (strict, parent links: jsmn_cfg.h; its code is jsmn.c) writes
 * straight into the caller's tkr_json_tok_t array. The asserts below
 * prove the two token layouts are the same. This file hands the array to
 * jsmn and touches a token itself only through bytes, so no function
 * accesses one object through both struct types. */
#include "jsmn_cfg.h"
#define JSMN_HEADER
#include <jsmn.h>

#include <stddef.h>
#include <string.h>

#include "json_int.h"
#include "tokenroll/error.h"

#define SAME_FIELD(f)                                                  \
    _Static_assert(offsetof(jsmntok_t, f) == offsetof(tkr_json_tok_t, f) && \
                       sizeof(((jsmntok_t *)0)->f) ==                  \
                           sizeof(((tkr_json_tok_t *)0)->f),           \
                   "jsmn token field " #f " differs from tkr_json_tok_t")
SAME_FIELD(start);
SAME_FIELD(end);
SAME_FIELD(size);
SAME_FIELD(parent);
/* The kind is an enum in jsmn: an int on hosts, one byte where the ABI
 * has short enums (arm-none-eabi). Same place; widened below if narrower. */
_Static_assert(offsetof(jsmntok_t, type) == offsetof(tkr_json_tok_t, type) &&
                   sizeof(jsmntype_t) <= sizeof(int),
               "jsmn token kind does not fit tkr_json_tok_t's");
_Static_assert(sizeof(jsmntok_t) == sizeof(tkr_json_tok_t),
               "jsmn token size differs from tkr_json_tok_t");
_Static_assert((int)JSMN_OBJECT == (int)TKR_TOK_OBJECT &&
                   (int)JSMN_ARRAY == (int)TKR_TOK_ARRAY &&
                   (int)JSMN_STRING == (int)TKR_TOK_STRING &&
                   (int)JSMN_PRIMITIVE == (int)TKR_TOK_PRIMITIVE,
               "jsmn token kinds differ from TKR_TOK_*");

int tkr_json_tokenize(tkr_json_tok_t *toks, unsigned max_toks, const char *js,
                      size_t len, int *ntok, size_t *err_off)
{
    jsmn_parser p;
    int n;

    jsmn_init(&p);
    n = jsmn_parse(&p, js, len, (jsmntok_t *)(void *)toks, max_toks);
    if (n == JSMN_ERROR_NOMEM)
        return TKR_E_JSON_TOKENS;
    if (n < 0) {
        *err_off = p.pos;
        return TKR_E_JSON;
    }
    *ntok = (int)p.toknext;
    if (sizeof(jsmntype_t) != sizeof(int)) {
        /* Widen each short-enum kind to the int the readers expect, through
         * bytes (memcpy), which may alias anything. */
        int i;
        for (i = 0; i < *ntok; i++) {
            unsigned char *raw = (unsigned char *)&toks[i];
            jsmntype_t kind;
            int v;
            memcpy(&kind, raw + offsetof(jsmntok_t, type), sizeof(kind));
            v = (int)kind;
            memcpy(raw + offsetof(tkr_json_tok_t, type), &v, sizeof(v));
        }
    }
    return 0;
}
