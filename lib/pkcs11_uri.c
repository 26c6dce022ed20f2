/* pkcs11_uri.c — RFC 7512 PKCS#11 URIs, strictly. */
#include <string.h>

#include <mbedtls/platform_util.h>

#include "tokenroll/error.h"
#include "tokenroll/pkcs11.h"
#include "utf8.h"

enum { F_STR, F_ID, F_SLOT, F_VERSION };

typedef struct {
    const char *name;
    unsigned bit;
    int query;      /* a query attribute (after '?') */
    int kind;
    size_t off;     /* of the field in tkr_p11_uri_t */
    size_t size;    /* of the field, terminator included */
} attr_t;

#define STR(n, b, q, f) {n, b, q, F_STR, offsetof(tkr_p11_uri_t, f), sizeof(((tkr_p11_uri_t *)0)->f)}

static const attr_t attrs[] = {
    STR("token", TKR_P11_TOKEN, 0, token),
    STR("manufacturer", TKR_P11_MANUFACTURER, 0, manufacturer),
    STR("serial", TKR_P11_SERIAL, 0, serial),
    STR("model", TKR_P11_MODEL, 0, model),
    STR("library-manufacturer", TKR_P11_LIB_MANUF, 0, lib_manufacturer),
    STR("library-description", TKR_P11_LIB_DESC, 0, lib_description),
    {"library-version", TKR_P11_LIB_VERSION, 0, F_VERSION, 0, 0},
    STR("object", TKR_P11_OBJECT, 0, object),
    STR("type", TKR_P11_TYPE, 0, type),
    {"id", TKR_P11_ID, 0, F_ID, 0, 0},
    {"slot-id", TKR_P11_SLOT_ID, 0, F_SLOT, 0, 0},
    STR("slot-description", TKR_P11_SLOT_DESC, 0, slot_description),
    STR("slot-manufacturer", TKR_P11_SLOT_MANUF, 0, slot_manufacturer),
    STR("pin-source", TKR_P11_PIN_SOURCE, 1, pin_source),
    STR("pin-value", TKR_P11_PIN_VALUE, 1, pin_value),
    STR("module-name", TKR_P11_MODULE_NAME, 1, module_name),
    STR("module-path", TKR_P11_MODULE_PATH, 1, module_path),
};

static int unreserved(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
           c == '~';
}

/* pk11-pchar / pk11-qchar without pct-encoding (RFC 7512 §2.3). */
static int plain_char(char c, int query)
{
    if (unreserved(c) || strchr(":[]@!$'()*+,", c) != NULL)
        return c != '\0';
    return query ? (c == ';' || c == '/' || c == '?' || c == '|')
                 : (c == '=' || c == '&');
}

/* Percent-decode v[0..n) into out (room for size bytes, no terminator
 * added); the decoded length, or -1. */
static long decode(uint8_t *out, size_t size, const char *v, size_t n,
                   int query, const char **what)
{
    size_t i, o = 0;

    for (i = 0; i < n; i++) {
        int c = (unsigned char)v[i];
        if (c == '%') {
            int hi, lo;
            if (i + 2 >= n) {
                *what = "a %-escape is cut short";
                return -1;
            }
            hi = tkr_hex_digit(v[i + 1]);
            lo = tkr_hex_digit(v[i + 2]);
            if (hi < 0 || lo < 0) {
                *what = "a %-escape is not two hex digits";
                return -1;
            }
            c = hi * 16 + lo;
            i += 2;
        } else if (!plain_char((char)c, query)) {
            *what = "a character outside the URI grammar (escape it as %XX)";
            return -1;
        }
        if (o == size) {
            *what = "a value is too long";
            return -1;
        }
        out[o++] = (uint8_t)c;
    }
    return (long)o;
}

static int number(const uint8_t *s, size_t n, unsigned long max,
                  unsigned long *v)
{
    size_t i;

    *v = 0;
    if (n == 0)
        return -1;
    for (i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9' || *v > (max - (s[i] - '0')) / 10)
            return -1;
        *v = *v * 10 + (unsigned long)(s[i] - '0');
    }
    return 0;
}

static int set_value(tkr_p11_uri_t *u, const attr_t *a, const char *v,
                     size_t n, const char **what)
{
    uint8_t buf[TKR_PATH_MAX];
    unsigned long x, y;
    size_t dot;
    long len;

    if (a->kind == F_ID) {
        len = decode(u->id, sizeof(u->id), v, n, a->query, what);
        if (len < 0)
            return TKR_E_INVALID_ARG;
        u->id_len = (size_t)len;
        return 0;
    }
    len = decode(buf, a->kind == F_STR ? a->size - 1 : 24, v, n, a->query, what);
    if (len < 0)
        return TKR_E_INVALID_ARG;
    if (memchr(buf, 0, (size_t)len) != NULL) {
        *what = "a value holds a NUL byte";
        return TKR_E_INVALID_ARG;
    }
    if (a->kind == F_STR) {
        char *f = (char *)u + a->off;
        memcpy(f, buf, (size_t)len);
        f[len] = '\0';
        return 0;
    }
    if (a->kind == F_SLOT) {
        if (number(buf, (size_t)len, (unsigned long)-1, &u->slot_id) != 0) {
            *what = "slot-id is not a decimal number";
            return TKR_E_INVALID_ARG;
        }
        return 0;
    }
    /* library-version: M or M.m */
    for (dot = 0; dot < (size_t)len && buf[dot] != '.'; dot++)
        ;
    if (number(buf, dot, 255, &x) != 0 ||
        (dot < (size_t)len && number(buf + dot + 1, (size_t)len - dot - 1, 255, &y) != 0)) {
        *what = "library-version is not M or M.m";
        return TKR_E_INVALID_ARG;
    }
    u->lib_major = (unsigned)x;
    u->lib_has_minor = dot < (size_t)len;
    u->lib_minor = u->lib_has_minor ? (unsigned)y : 0;
    return 0;
}

/* One name=value attribute of the path (query = 0) or the query. */
static int attribute(tkr_p11_uri_t *u, const char *s, size_t n, int query,
                     const char **what, char name[64])
{
    const char *eq = memchr(s, '=', n);
    size_t name_len, i;

    if (eq == NULL || eq == s) {
        *what = eq == NULL ? "an attribute has no '='" : "an attribute has no name";
        return TKR_E_INVALID_ARG;
    }
    name_len = (size_t)(eq - s);
    /* the attribute at fault, for the diagnostics */
    memcpy(name, s, name_len < 63 ? name_len : 63);
    name[name_len < 63 ? name_len : 63] = '\0';
    for (i = 0; i < sizeof(attrs) / sizeof(attrs[0]); i++) {
        const attr_t *a = &attrs[i];
        if (strlen(a->name) != name_len || memcmp(a->name, s, name_len) != 0)
            continue;
        if (a->query != query) {
            *what = query ? "a path attribute is in the query part"
                          : "a query attribute is in the path part";
            return TKR_E_INVALID_ARG;
        }
        if (u->has & a->bit) {
            *what = "an attribute is repeated";
            return TKR_E_INVALID_ARG;
        }
        u->has |= a->bit;
        return set_value(u, a, eq + 1, n - name_len - 1, what);
    }
    /* RFC 7512 §2.4: an unrecognised path attribute (vendor ones too)
     * matches nothing, and query ones are the consumer's call; for a CA
     * key a typo (pin-sourc=) must not pass silently either way. */
    *what = "unknown attribute";
    return TKR_E_INVALID_ARG;
}

int tkr_p11_is_uri(const char *s)
{
    static const char scheme[] = "pkcs11:";
    size_t i;

    if (s == NULL)
        return 0;
    for (i = 0; i < sizeof(scheme) - 1; i++)
        if (s[i] == '\0' || (s[i] | 0x20) != scheme[i])
            return 0;
    return 1;
}

static int parse(tkr_p11_uri_t *u, const char *uri, size_t len,
                 const char **what, char name[64])
{
    const char *p, *end;
    int query = 0, rc;

    if (len > TKR_P11_URI_MAX) {
        *what = "the URI is too long";
        return TKR_E_INVALID_ARG;
    }
    if (len < 7 || memchr(uri, 0, len) != NULL || !tkr_p11_is_uri(uri)) {
        *what = "not a pkcs11: URI";
        return TKR_E_INVALID_ARG;
    }
    p = uri + 7;
    end = uri + len;
    while (p < end) {
        const char *q = p;
        /* the path ends at '?'; ';' splits the path, '&' the query */
        while (q < end && *q != (query ? '&' : ';') && !(!query && *q == '?'))
            q++;
        if (q == p && !(q < end && *q == '?' && !query)) {
            *what = "an empty attribute";
            return TKR_E_INVALID_ARG;
        }
        if (q > p && (rc = attribute(u, p, (size_t)(q - p), query, what, name)) != 0)
            return rc;
        if (q < end && *q == '?' && !query) {
            query = 1;
            if (q + 1 == end) {
                *what = "an empty query";
                return TKR_E_INVALID_ARG;
            }
        } else if (q + 1 == end) {
            *what = "an empty attribute";
            return TKR_E_INVALID_ARG;
        }
        p = q + 1;
    }
    return 0;
}

int tkr_p11_uri_parse(tkr_p11_uri_t *u, const char *uri, size_t len,
                      tkr_diag_t *diag)
{
    const char *what = NULL;
    char name[64] = "";
    int rc;

    if (u == NULL || uri == NULL)
        return TKR_E_INVALID_ARG;
    memset(u, 0, sizeof(*u));
    rc = parse(u, uri, len, &what, name);
    if (rc != 0) {
        /* nothing half-parsed stays behind, a pin-value least of all */
        mbedtls_platform_zeroize(u, sizeof(*u));
        return tkr_diag(diag, rc, name[0] ? name : NULL, what);
    }
    return 0;
}
