/* fuzz_response_format.c — libFuzzer harness for the JWT authenticator's
 * response format (EPICS_AUTH_JWT_RESPONSE_FORMAT) and request builders.
 *
 * Input: one byte L, then the format (the next L bytes, fewer when the input
 * is shorter), then the verifier's answer (the rest). Invariants (abort on
 * violation):
 *   - the format compiles exactly when the reference (tests/unit/
 *     format_ref.h, the rules run by brute force) accepts it;
 *   - a compiled format matches an answer exactly when the reference finds a
 *     match, and the capture is the reference's: same place, same text (for
 *     answers up to the reference's size); it always lies inside the answer;
 *   - tkr_authjwt_response_check agrees with match + word_valid, and a
 *     status other than 200 is always a refusal;
 *   - the request builders (the input as token, the format as request
 *     format) report the same length to a size query as they write, and a
 *     buffer one byte short is refused.
 * Every buffer is heap-allocated at its exact size so ASan sees overruns. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tokenroll/authjwt.h"
#include "tokenroll/error.h"

#include "../tests/unit/format_ref.h"
#include "fuzz_check.h"

static tkr_authjwt_format_t fmt;
static ref_result_t ref;

static int is_ws(char c)
{
    return ref_ws(c);
}

static void check_builder(int query, const char *format, const char *tok,
                          size_t tok_len)
{
    size_t need = 0, got = 0;
    char *out;
    int rc;

    rc = query ? tkr_authjwt_request_query(NULL, 0, &need, format, tok, tok_len, "k\"&")
               : tkr_authjwt_request_body(NULL, 0, &need, format, tok, tok_len, "k\"&");
    CHECK(rc == TKR_E_BUFFER_TOO_SMALL);
    out = malloc(need + 1);
    CHECK(out != NULL);
    rc = query ? tkr_authjwt_request_query(out, need + 1, &got, format, tok, tok_len, "k\"&")
               : tkr_authjwt_request_body(out, need + 1, &got, format, tok, tok_len, "k\"&");
    CHECK(rc == 0 && got == need && out[got] == '\0');
    rc = query ? tkr_authjwt_request_query(out, need, &got, format, tok, tok_len, "k\"&")
               : tkr_authjwt_request_body(out, need, &got, format, tok, tok_len, "k\"&");
    CHECK(rc == TKR_E_BUFFER_TOO_SMALL && got == need);
    free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t flen, rlen, off = 0, n = 0, i, pos;
    char *f, *r, *fz;
    int rc, mrc;

    if (size == 0)
        return 0;
    flen = data[0];
    if (flen > size - 1)
        flen = size - 1;
    rlen = size - 1 - flen;
    f = malloc(flen + 1);
    r = malloc(rlen + 1);
    CHECK(f != NULL && r != NULL);
    memcpy(f, data + 1, flen);
    memcpy(r, data + 1 + flen, rlen);

    rc = tkr_authjwt_format_compile(&fmt, f, flen, NULL);
    ref_match(&ref, f, flen, r, rlen <= REF_TEXT_MAX ? rlen : 0);
    CHECK((rc == 0) == (ref.compiles != 0));
    if (rc == 0) {
        mrc = tkr_authjwt_format_match(&fmt, r, rlen, &off, &n);
        CHECK(mrc == 0 || mrc == TKR_E_NO_MATCH);
        if (mrc == 0)
            CHECK(off <= rlen && n <= rlen - off);
        if (rlen <= REF_TEXT_MAX) {
            char *got = malloc(n + 1);
            size_t gn;
            CHECK(got != NULL);
            CHECK((mrc == 0) == (ref.matches != 0));
            if (mrc == 0) {
                for (pos = 0, i = 0; i < off; i++)
                    pos += !is_ws(r[i]);
                gn = ref_compact(got, r + off, n);
                CHECK(pos == ref.a && gn == ref.b - ref.a &&
                      memcmp(got, ref.text + ref.a, gn) == 0);
            }
            free(got);
        }
        rc = tkr_authjwt_response_check(&fmt, 0, 200, r, rlen, NULL);
        if (mrc != 0)
            CHECK(rc == TKR_E_NO_MATCH);
        else
            CHECK(rc == (tkr_authjwt_word_valid(r + off, n) ? 0 : TKR_E_DENIED));
        CHECK(tkr_authjwt_response_check(&fmt, 0, 201, r, rlen, NULL) == TKR_E_DENIED);
    }

    /* The builders: the format as request format (NUL-terminated at its
     * first NUL), the answer as token. */
    fz = malloc(flen + 1);
    CHECK(fz != NULL);
    memcpy(fz, f, flen);
    fz[flen] = '\0';
    check_builder(0, fz, r, rlen);
    check_builder(1, fz, r, rlen);
    free(fz);
    free(f);
    free(r);
    return 0;
}
