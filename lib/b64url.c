/* b64url.c — strict base64url (RFC 4648 §5, no padding as RFC 7515 §2). */
#include "tokenroll/b64url.h"
#include "tokenroll/error.h"

static const char alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* 0..63, or -1 for every byte outside the URL-safe alphabet. Branches
 * rather than a table: keeps .rodata small on the device. */
static int sextet(unsigned char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '-')
        return 62;
    if (c == '_')
        return 63;
    return -1;
}

int tkr_b64url_encode(char *out, size_t out_size, size_t *out_len,
                      const uint8_t *in, size_t in_len)
{
    size_t need, i, o;

    if (out_len == NULL || (in == NULL && in_len != 0))
        return TKR_E_INVALID_ARG;
    if (in_len > ((size_t)-1 / 4) - 2)
        return TKR_E_TOO_LARGE;
    need = TKR_B64URL_ENCODED_LEN(in_len);
    *out_len = need;
    if (out == NULL || out_size < need)
        return TKR_E_BUFFER_TOO_SMALL;

    /* Last group first: the output of group g lands at 4g, at or past its
     * own input at 3g, so with in == out every group is read before its
     * bytes are overwritten and the encoding can happen in place. */
    i = in_len - in_len % 3;
    o = i / 3 * 4;
    if (in_len - i == 1) {
        uint32_t v = (uint32_t)in[i] << 16;
        out[o] = alphabet[(v >> 18) & 63];
        out[o + 1] = alphabet[(v >> 12) & 63];
    } else if (in_len - i == 2) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;
        out[o] = alphabet[(v >> 18) & 63];
        out[o + 1] = alphabet[(v >> 12) & 63];
        out[o + 2] = alphabet[(v >> 6) & 63];
    }
    while (i > 0) {
        uint32_t v;
        i -= 3;
        o -= 4;
        v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
        out[o] = alphabet[(v >> 18) & 63];
        out[o + 1] = alphabet[(v >> 12) & 63];
        out[o + 2] = alphabet[(v >> 6) & 63];
        out[o + 3] = alphabet[v & 63];
    }
    if (need < out_size)
        out[need] = '\0';
    return 0;
}

static int bad(tkr_diag_t *d, size_t at, const char *msg)
{
    if (d != NULL) {
        d->offset = at;
        d->has_offset = 1;
    }
    return tkr_diag(d, TKR_E_BASE64, NULL, msg);
}

int tkr_b64url_decode(uint8_t *out, size_t out_size, size_t *out_len,
                      const char *in, size_t in_len, tkr_diag_t *diag)
{
    size_t i, o = 0, need;
    uint32_t acc = 0;
    unsigned bits = 0;

    if (out_len == NULL || (in == NULL && in_len != 0))
        return TKR_E_INVALID_ARG;
    /* One leftover character carries 6 bits: never a whole byte. */
    if (in_len % 4 == 1) {
        /* A stray character is the likelier cause: name it if there is one. */
        for (i = 0; i < in_len; i++)
            if (sextet((unsigned char)in[i]) < 0)
                return bad(diag, i, "not a base64url character");
        return bad(diag, in_len - 1, "a length of 1 mod 4");
    }
    need = TKR_B64URL_DECODED_LEN(in_len);
    *out_len = need;
    if (out != NULL && out_size < need)
        return TKR_E_BUFFER_TOO_SMALL;

    /* The size query (out == NULL) validates too: a length is only
     * reported for text that is the one canonical encoding. */
    for (i = 0; i < in_len; i++) {
        int v = sextet((unsigned char)in[i]);
        if (v < 0)
            return bad(diag, i, "not a base64url character");
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (out != NULL)
                out[o++] = (uint8_t)(acc >> bits);
        }
    }
    /* Canonical form: the bits past the last byte must be zero, otherwise
     * two encodings would decode to the same bytes. */
    if (bits != 0 && (acc & ((1u << bits) - 1)) != 0)
        return bad(diag, in_len - 1, "non-zero bits after the last byte");
    return 0;
}
