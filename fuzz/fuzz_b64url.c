/* fuzz_b64url.c — libFuzzer harness for the strict base64url codec.
 *
 * The input is used twice: as text to decode and as bytes to encode.
 * Invariants (abort on violation):
 *   - the size query (out == NULL) reports the exact length and, like the
 *     real decode, succeeds only on canonical text; a buffer one byte short
 *     is refused with TKR_E_BUFFER_TOO_SMALL;
 *   - decoding succeeds exactly when a reference check says the text is the
 *     one canonical encoding (alphabet, length mod 4, zero trailing bits);
 *   - a successful decode re-encodes to the identical text (one encoding per
 *     byte string: a token cannot be altered without changing its bytes);
 *   - encoding any bytes gives TKR_B64URL_ENCODED_LEN(n) characters of the
 *     URL-safe alphabet, fits an exact-size buffer (the NUL is optional) and
 *     decodes back to the same bytes.
 * Buffers are heap-allocated at their exact size so ASan sees any overrun. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tokenroll/b64url.h"
#include "tokenroll/error.h"

#include "fuzz_check.h"

static int in_alphabet(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
           (c >= '0' && c <= '9') || c == '-' || c == '_';
}

static unsigned sextet(unsigned char c)
{
    if (c >= 'A' && c <= 'Z')
        return (unsigned)(c - 'A');
    if (c >= 'a' && c <= 'z')
        return (unsigned)(c - 'a' + 26);
    if (c >= '0' && c <= '9')
        return (unsigned)(c - '0' + 52);
    return c == '-' ? 62u : 63u;
}

/* Reference predicate, written independently of lib/b64url.c: RFC 4648 §5
 * alphabet, no padding, never 1 mod 4, and the unused low bits of the last
 * character zero (RFC 4648 §3.5 canonical encoding). */
static int canonical(const uint8_t *s, size_t n)
{
    size_t i;

    if (n % 4 == 1)
        return 0;
    for (i = 0; i < n; i++)
        if (!in_alphabet(s[i]))
            return 0;
    if (n % 4 == 2)
        return (sextet(s[n - 1]) & 0x0f) == 0;  /* 12 bits carry 8 */
    if (n % 4 == 3)
        return (sextet(s[n - 1]) & 0x03) == 0;  /* 18 bits carry 16 */
    return 1;
}

static void decode_side(const uint8_t *data, size_t size)
{
    size_t need = (size_t)-1, got = (size_t)-1, elen = 0;
    uint8_t *out;
    char *enc;
    int rc, ok = canonical(data, size);
    tkr_diag_t d;

    /* The size query validates too: a length only for canonical text. */
    tkr_diag_clear(&d);
    rc = tkr_b64url_decode(NULL, 0, &need, (const char *)data, size, &d);
    CHECK((rc == 0) == ok);
    /* A rejection points at a character of the text. */
    CHECK(rc == 0 ? !d.has_offset : d.has_offset && d.offset < size);
    if (size % 4 == 1) {
        CHECK(rc == TKR_E_BASE64);
        return;
    }
    CHECK(rc == 0 || rc == TKR_E_BASE64);
    CHECK(need == (size / 4) * 3 + (size % 4 ? size % 4 - 1 : 0));
    CHECK(need <= TKR_B64URL_DECODED_MAX(size));

    /* One byte short must be refused before anything is written. */
    if (need > 0) {
        out = malloc(need - 1 > 0 ? need - 1 : 1);
        CHECK(out != NULL);
        rc = tkr_b64url_decode(out, need - 1, &got, (const char *)data, size, NULL);
        CHECK(rc == TKR_E_BUFFER_TOO_SMALL);
        free(out);
    }

    out = malloc(need > 0 ? need : 1);
    CHECK(out != NULL);
    rc = tkr_b64url_decode(out, need, &got, (const char *)data, size, NULL);
    CHECK((rc == 0) == ok);
    if (rc != 0) {
        CHECK(rc == TKR_E_BASE64);
        free(out);
        return;
    }
    CHECK(got == need);

    /* Canonical: the bytes have exactly this one encoding. */
    enc = malloc(size > 0 ? size : 1);
    CHECK(enc != NULL);
    rc = tkr_b64url_encode(enc, size, &elen, out, got);
    CHECK(rc == 0);
    CHECK(elen == size);
    CHECK(memcmp(enc, data, size) == 0);
    free(enc);
    free(out);
}

static void encode_side(const uint8_t *data, size_t size)
{
    size_t need = TKR_B64URL_ENCODED_LEN(size), elen = (size_t)-1, dlen = 0, i;
    char *enc, *enc_nul;
    uint8_t *back;
    int rc;

    /* Size query: NULL output reports the length and refuses. */
    rc = tkr_b64url_encode(NULL, 0, &elen, data, size);
    CHECK(rc == TKR_E_BUFFER_TOO_SMALL);
    CHECK(elen == need);

    if (need > 0) {
        enc = malloc(need - 1 > 0 ? need - 1 : 1);
        CHECK(enc != NULL);
        rc = tkr_b64url_encode(enc, need - 1, &elen, data, size);
        CHECK(rc == TKR_E_BUFFER_TOO_SMALL);
        free(enc);
    }

    /* Exact size: no room for the NUL, which must then not be written. */
    enc = malloc(need > 0 ? need : 1);
    CHECK(enc != NULL);
    rc = tkr_b64url_encode(enc, need, &elen, data, size);
    CHECK(rc == 0);
    CHECK(elen == need);
    for (i = 0; i < elen; i++)
        CHECK(in_alphabet((unsigned char)enc[i]));
    CHECK(canonical((const uint8_t *)enc, elen));

    /* One more byte: the same text, NUL-terminated. */
    enc_nul = malloc(need + 1);
    CHECK(enc_nul != NULL);
    rc = tkr_b64url_encode(enc_nul, need + 1, &elen, data, size);
    CHECK(rc == 0 && elen == need && enc_nul[need] == '\0');
    CHECK(memcmp(enc, enc_nul, need) == 0);
    free(enc_nul);

    back = malloc(size > 0 ? size : 1);
    CHECK(back != NULL);
    rc = tkr_b64url_decode(back, size, &dlen, enc, need, NULL);
    CHECK(rc == 0);
    CHECK(dlen == size);
    CHECK(memcmp(back, data, size) == 0);
    free(back);
    free(enc);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t n = 0;

    decode_side(data, size);
    encode_side(data, size);

    /* Argument checks: NULL input with a length, NULL length pointer. */
    CHECK(tkr_b64url_decode(NULL, 0, &n, NULL, 1, NULL) == TKR_E_INVALID_ARG);
    CHECK(tkr_b64url_decode(NULL, 0, NULL, (const char *)data, size, NULL) ==
          TKR_E_INVALID_ARG);
    CHECK(tkr_b64url_encode(NULL, 0, &n, NULL, 1) == TKR_E_INVALID_ARG);
    return 0;
}
