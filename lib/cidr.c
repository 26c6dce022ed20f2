/* cidr.c — IPv4 and IPv6 address blocks (RFC 4632, RFC 4291 §2.2-2.3),
 * parsed here so lib/ needs no inet_pton.
 *
 * Accepted as Python's ipaddress.ip_network(s, strict=False) accepts them
 * (host bits may be set; they are cleared), except that IPv4 octets with
 * a leading zero are refused (010 reads as 8 in some parsers and 10 in
 * others). An address written IPv4-mapped (::ffff:a.b.c.d, or in hex) is
 * the IPv4 address: a dual-stack socket reports IPv4 clients that way, and
 * a policy's 10.0.0.0/8 must still match them; a mapped block of prefix
 * 96 or more becomes the IPv4 block. Zone indexes (%eth0) are refused. */
#include <string.h>

#include "tokenroll/error.h"
#include "tokenroll/cidr.h"
#include "utf8.h"

static const uint8_t mapped_prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

static int parse_v4(const char *s, size_t n, uint8_t out[4])
{
    size_t i = 0, part;

    for (part = 0; part < 4; part++) {
        unsigned v = 0, nd = 0;
        if (part > 0) {
            if (i >= n || s[i] != '.')
                return -1;
            i++;
        }
        while (i < n && s[i] >= '0' && s[i] <= '9') {
            if (nd == 1 && v == 0)
                return -1; /* leading zero */
            v = v * 10 + (unsigned)(s[i] - '0');
            if (++nd > 3 || v > 255)
                return -1;
            i++;
        }
        if (nd == 0)
            return -1;
        out[part] = (uint8_t)v;
    }
    return i == n ? 0 : -1;
}

/* Groups before and after "::" (or all eight), the last possibly dotted. */
static int parse_v6(const char *s, size_t n, uint8_t out[16])
{
    uint16_t head[8], tail[8];
    size_t nh = 0, nt = 0, i = 0, k;
    int gap = 0;
    uint16_t *cur = head;
    size_t *ncur = &nh;

    if (n < 2)
        return -1;
    if (s[0] == ':') {
        if (s[1] != ':')
            return -1;
        gap = 1;
        cur = tail;
        ncur = &nt;
        i = 2;
        if (i == n)
            goto assemble;
    }
    for (;;) {
        size_t start = i;
        unsigned v = 0;
        while (i < n && tkr_hex_digit(s[i]) >= 0 && i - start < 5)
            v = v * 16 + (unsigned)tkr_hex_digit(s[i++]);
        if (i < n && s[i] == '.') {
            /* Dotted IPv4 in the last 32 bits. */
            uint8_t q[4];
            if (nh + nt + 2 > (gap ? 7u : 8u) || parse_v4(s + start, n - start, q) != 0)
                return -1;
            cur[(*ncur)++] = (uint16_t)(q[0] << 8 | q[1]);
            cur[(*ncur)++] = (uint16_t)(q[2] << 8 | q[3]);
            i = n;
            break;
        }
        if (i == start || i - start > 4 || nh + nt == 8)
            return -1;
        cur[(*ncur)++] = (uint16_t)v;
        if (i == n)
            break;
        if (s[i] != ':')
            return -1;
        i++;
        if (i < n && s[i] == ':') {
            if (gap)
                return -1;
            gap = 1;
            cur = tail;
            ncur = &nt;
            i++;
            if (i == n)
                break;
        } else if (i == n) {
            return -1; /* trailing single ':' */
        }
    }
assemble:
    if (gap ? nh + nt > 7 : nh != 8)
        return -1;
    memset(out, 0, 16);
    for (k = 0; k < nh; k++) {
        out[2 * k] = (uint8_t)(head[k] >> 8);
        out[2 * k + 1] = (uint8_t)head[k];
    }
    for (k = 0; k < nt; k++) {
        out[16 - 2 * (nt - k)] = (uint8_t)(tail[k] >> 8);
        out[16 - 2 * (nt - k) + 1] = (uint8_t)tail[k];
    }
    return 0;
}

int tkr_ip_parse(uint8_t out[16], size_t *out_len, const char *s, size_t len)
{
    if (out == NULL || out_len == NULL || s == NULL)
        return TKR_E_INVALID_ARG;
    *out_len = 0;
    if (len == 0 || len > 45 || memchr(s, '\0', len) != NULL)
        return TKR_E_POLICY;
    if (memchr(s, ':', len) == NULL) {
        memset(out, 0, 16);
        if (parse_v4(s, len, out) != 0)
            return TKR_E_POLICY;
        *out_len = 4;
        return 0;
    }
    if (parse_v6(s, len, out) != 0)
        return TKR_E_POLICY;
    *out_len = 16;
    return 0;
}

/* An address: family 4 or 6, IPv4-mapped IPv6 folded into IPv4. */
static int parse_addr(const char *s, size_t n, int *family, uint8_t a[16])
{
    size_t len;

    if (tkr_ip_parse(a, &len, s, n) != 0)
        return -1;
    *family = len == 4 ? 4 : 6;
    if (len == 16 && memcmp(a, mapped_prefix, 12) == 0) {
        memmove(a, a + 12, 4);
        memset(a + 4, 0, 12);
        *family = 4;
    }
    return 0;
}

static void mask(uint8_t a[16], unsigned prefix)
{
    unsigned i;
    for (i = 0; i < 16; i++) {
        if (prefix >= 8 * (i + 1))
            continue;
        a[i] = (uint8_t)(prefix <= 8 * i ? 0 : a[i] & (0xff << (8 - (prefix - 8 * i))));
    }
}

int tkr_cidr_parse(tkr_cidr_t *c, const char *s, size_t len)
{
    const char *slash;
    size_t alen, i, n;
    unsigned prefix = 0, max;
    int family, has_prefix = 0, mapped = 0;
    uint8_t a[16];

    if (c == NULL || s == NULL)
        return TKR_E_INVALID_ARG;
    memset(c, 0, sizeof(*c));
    slash = memchr(s, '/', len);
    alen = slash ? (size_t)(slash - s) : len;
    if (memchr(s, '\0', len) != NULL)
        return TKR_E_POLICY;
    if (slash != NULL) {
        size_t pl = len - alen - 1;
        if (pl == 0 || pl > 3 || (pl > 1 && slash[1] == '0'))
            return TKR_E_POLICY;
        for (i = 0; i < pl; i++) {
            if (slash[1 + i] < '0' || slash[1 + i] > '9')
                return TKR_E_POLICY;
            prefix = prefix * 10 + (unsigned)(slash[1 + i] - '0');
        }
        has_prefix = 1;
    }
    /* Parsed unfolded first: the prefix counts IPv6 bits. */
    if (tkr_ip_parse(a, &n, s, alen) != 0)
        return TKR_E_POLICY;
    family = n == 4 ? 4 : 6;
    mapped = family == 6 && memcmp(a, mapped_prefix, 12) == 0;
    max = family == 4 ? 32 : 128;
    if (!has_prefix)
        prefix = max;
    if (prefix > max)
        return TKR_E_POLICY;
    if (family == 6 && mapped && prefix >= 96) {
        memmove(a, a + 12, 4);
        memset(a + 4, 0, 12);
        family = 4;
        prefix -= 96;
    }
    mask(a, prefix);
    c->family = family;
    memcpy(c->addr, a, 16);
    c->prefix = prefix;
    return 0;
}

int tkr_cidr_contains(const tkr_cidr_t *c, const char *ip)
{
    uint8_t a[16];
    int family;

    if (c == NULL || ip == NULL || parse_addr(ip, strlen(ip), &family, a) != 0)
        return 0;
    if (family != c->family || c->prefix > (family == 4 ? 32u : 128u))
        return 0;
    mask(a, c->prefix);
    return memcmp(a, c->addr, family == 4 ? 4 : 16) == 0;
}

int tkr_ip_valid(const char *ip)
{
    uint8_t a[16];
    int family;
    return ip != NULL && parse_addr(ip, strlen(ip), &family, a) == 0;
}

/* Decimal or lowercase hex digits of v at buf[k..]; returns the new k. */
static size_t put_num(char *buf, size_t k, unsigned v, unsigned base)
{
    char d[8];
    size_t n = 0;

    do {
        d[n++] = "0123456789abcdef"[v % base];
        v /= base;
    } while (v != 0);
    while (n > 0)
        buf[k++] = d[--n];
    return k;
}

int tkr_cidr_format(char *out, size_t out_size, const tkr_cidr_t *c)
{
    char buf[64];
    size_t k = 0;
    int i, best = -1, best_len = 0, run = -1, len = 0;

    if (out == NULL || c == NULL || (c->family != 4 && c->family != 6) ||
        c->prefix > (c->family == 4 ? 32u : 128u))
        return TKR_E_INVALID_ARG;
    if (c->family == 4) {
        for (i = 0; i < 4; i++) {
            if (i > 0)
                buf[k++] = '.';
            k = put_num(buf, k, c->addr[i], 10);
        }
    } else {
        /* RFC 5952 §4: the longest run (>= 2) of zero groups becomes "::". */
        for (i = 0; i <= 8; i++) {
            int zero = i < 8 && c->addr[2 * i] == 0 && c->addr[2 * i + 1] == 0;
            if (zero) {
                if (run < 0) {
                    run = i;
                    len = 0;
                }
                len++;
            } else if (run >= 0) {
                if (len > best_len && len >= 2) {
                    best = run;
                    best_len = len;
                }
                run = -1;
            }
        }
        for (i = 0; i < 8; i++) {
            if (i == best) {
                buf[k++] = ':';
                buf[k++] = ':';
                i += best_len - 1;
                continue;
            }
            if (i > 0 && i != best + best_len)
                buf[k++] = ':';
            k = put_num(buf, k, (unsigned)(c->addr[2 * i] << 8 | c->addr[2 * i + 1]), 16);
        }
    }
    buf[k++] = '/';
    k = put_num(buf, k, c->prefix, 10);
    if (k + 1 > out_size)
        return TKR_E_BUFFER_TOO_SMALL;
    memcpy(out, buf, k);
    out[k] = '\0';
    return 0;
}
