/* fuzz_http_response.c — libFuzzer harness for the HTTP response parser.
 *
 * The input is a response as the client would receive it. Invariants:
 *   - a parse that is not complete changes nothing in the buffer (the
 *     client calls the parser again on the same bytes after every read);
 *   - a complete response has a status 200..599, and its body lies inside
 *     the bytes given;
 *   - fed in growing prefixes, as reads deliver it, the first complete
 *     parse gives the same status and body as parsing everything at once
 *     (bytes after the end of a response never change it);
 *   - an error on some prefix is never followed by success on a longer
 *     one (a response cannot become valid by arriving more slowly).
 * Every parse works on a heap copy of exactly the prefix length, so ASan
 * sees any read past what has been received. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tokenroll/error.h"
#include "tokenroll/http.h"

#include "fuzz_check.h"

typedef struct {
    int rc, done, status;
    int64_t retry_after;
    uint8_t *body;   /* malloc'd copy of the body */
    size_t body_len;
} result_t;

static void parse(result_t *out, const uint8_t *data, size_t n, int eof)
{
    uint8_t *buf = malloc(n ? n : 1);
    tkr_http_response_t r;

    CHECK(buf != NULL);
    memcpy(buf, data, n);
    memset(out, 0, sizeof(*out));
    out->rc = tkr_http_response_parse(&r, &out->done, buf, n, eof);
    if (out->rc != 0 || !out->done) {
        CHECK(memcmp(buf, data, n) == 0);
        CHECK(!(out->rc == 0 && eof && !out->done));
    } else {
        CHECK(r.status >= 200 && r.status <= 599);
        CHECK(r.body >= buf && r.body_len <= n &&
              (size_t)(r.body - buf) <= n - r.body_len);
        out->status = r.status;
        out->retry_after = r.retry_after;
        out->body_len = r.body_len;
        out->body = malloc(r.body_len ? r.body_len : 1);
        CHECK(out->body != NULL);
        memcpy(out->body, r.body, r.body_len);
    }
    free(buf);
}

static int same(const result_t *a, const result_t *b)
{
    return a->status == b->status && a->retry_after == b->retry_after &&
           a->body_len == b->body_len &&
           memcmp(a->body, b->body, a->body_len) == 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    result_t whole, at_eof, part;
    size_t k, step = size / 48 + 1;
    int failed = 0;

    if (size > 16384)
        return 0;
    parse(&whole, data, size, 0);
    parse(&at_eof, data, size, 1);
    /* More information (the end of the stream) never undoes a result. */
    if (whole.rc == 0 && whole.done)
        CHECK(at_eof.rc == 0 && at_eof.done && same(&whole, &at_eof));
    for (k = 0; k <= size; k += step) {
        parse(&part, data, k, 0);
        if (part.rc != 0) {
            failed = 1;
        } else {
            CHECK(!failed);
            if (part.done) {
                CHECK(whole.rc == 0 && whole.done && same(&part, &whole));
                free(part.body);
                break;
            }
        }
        free(part.body);
    }
    if (failed)
        CHECK(whole.rc != 0);
    free(whole.body);
    free(at_eof.body);
    return 0;
}
