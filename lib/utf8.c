/* utf8.c — strict UTF-8 decode/encode. */
#include "utf8.h"

int tkr_utf8_decode(const char *s, size_t end, size_t *i, uint32_t *cp)
{
    const unsigned char *p = (const unsigned char *)s + *i;
    size_t avail = end - *i, n, k;
    uint32_t v, min;

    if (avail == 0)
        return -1;
    if (p[0] < 0x80) {
        *cp = p[0];
        *i += 1;
        return 0;
    }
    if ((p[0] & 0xE0) == 0xC0) {
        n = 2; v = p[0] & 0x1Fu; min = 0x80;
    } else if ((p[0] & 0xF0) == 0xE0) {
        n = 3; v = p[0] & 0x0Fu; min = 0x800;
    } else if ((p[0] & 0xF8) == 0xF0) {
        n = 4; v = p[0] & 0x07u; min = 0x10000;
    } else {
        return -1;
    }
    if (avail < n)
        return -1;
    for (k = 1; k < n; k++) {
        if ((p[k] & 0xC0) != 0x80)
            return -1;
        v = (v << 6) | (p[k] & 0x3Fu);
    }
    if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
        return -1;
    *cp = v;
    *i += n;
    return 0;
}

size_t tkr_utf8_encode(char out[4], uint32_t cp)
{
    /* The lead byte's marker for each length, then six bits a byte from
     * the last one back. */
    static const uint8_t lead[5] = {0, 0, 0xC0, 0xE0, 0xF0};
    size_t n = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4, k;

    for (k = n - 1; k > 0; k--) {
        out[k] = (char)(0x80 | (cp & 0x3F));
        cp >>= 6;
    }
    out[0] = (char)(lead[n] | cp);
    return n;
}

int tkr_hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

const char *tkr_dec_text(char buf[TKR_DEC_TEXT_MAX], size_t v)
{
    char *p = buf + TKR_DEC_TEXT_MAX - 1;

    *p = '\0';
    do {
        *--p = (char)('0' + v % 10);
        v /= 10;
    } while (v != 0);
    return p;
}
