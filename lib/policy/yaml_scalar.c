/* yaml_scalar.c — YAML 1.1 scalars as PyYAML resolves and constructs them.
 *
 * The resolver mirrors PyYAML 6's Resolver (resolver.py): the regular
 * expressions below are its implicit resolvers, tried in its order for the
 * scalar's first character (bool, float, int, merge, null, timestamp,
 * value). Construction mirrors SafeConstructor: integers are arbitrary
 * precision (Python int), floats are doubles; the JSON text of both is
 * what json.dumps writes for the Python value. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tokenroll/error.h"
#include "utf8.h"
#include "yaml_int.h"

/* CPython 3.11 refuses to convert integers of more decimal digits than
 * this to or from text (sys.int_info.default_max_str_digits). */
#define PY_INT_MAX_DIGITS 4300

static int dig(char c) { return c >= '0' && c <= '9'; }
static int dig_(char c) { return dig(c) || c == '_'; }

tkr_ynode_t *tkr_ynode_new(tkr_arena_t *a, tkr_yaml_kind_t kind, int line, int column)
{
    tkr_ynode_t *y = tkr_arena_alloc(a, sizeof(*y));

    if (y == NULL)
        return NULL;
    y->n.kind = kind;
    y->n.line = line;
    y->n.column = column;
    y->weight = 1;
    return y;
}

/* ---- the resolver's regular expressions ---- */

/* ":" [0-5]?[0-9] at s[i]: bytes consumed, 0 when it does not match. Taking
 * two digits whenever possible is what the regex does too: a third digit
 * could never be followed by ':' or '.'. */
static size_t sexa_seg(const char *s, size_t n, size_t i)
{
    if (i >= n || s[i] != ':')
        return 0;
    if (i + 2 < n && s[i + 1] >= '0' && s[i + 1] <= '5' && dig(s[i + 2]))
        return 3;
    if (i + 1 < n && dig(s[i + 1]))
        return 2;
    return 0;
}

static size_t skip_sign(const char *s, size_t n)
{
    return n > 0 && (s[0] == '-' || s[0] == '+') ? 1 : 0;
}

static int all_in(const char *s, size_t from, size_t n, const char *set)
{
    size_t i;
    if (from >= n)
        return 0;
    for (i = from; i < n; i++)
        if (s[i] == '\0' || strchr(set, s[i]) == NULL)
            return 0;
    return 1;
}

/* [-+]?0b[0-1_]+ | [-+]?0[0-7_]+ | [-+]?(?:0|[1-9][0-9_]*) |
 * [-+]?0x[0-9a-fA-F_]+ | [-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+ */
int tkr_yaml_is_int(const char *s, size_t n)
{
    size_t i = skip_sign(s, n), j, k;

    if (i >= n)
        return 0;
    if (s[i] == '0') {
        if (n - i == 1)
            return 1;
        if (s[i + 1] == 'b')
            return all_in(s, i + 2, n, "01_");
        if (s[i + 1] == 'x')
            return all_in(s, i + 2, n, "0123456789abcdefABCDEF_");
        return all_in(s, i + 1, n, "01234567_");
    }
    if (s[i] < '1' || s[i] > '9')
        return 0;
    for (j = i + 1; j < n && dig_(s[j]); j++)
        ;
    if (j == n)
        return 1;
    while (j < n && (k = sexa_seg(s, n, j)) != 0)
        j += k;
    return j == n;
}

static size_t exp_part(const char *s, size_t n, size_t i)
{
    size_t j;
    if (i < n && (s[i] == 'e' || s[i] == 'E') && i + 1 < n &&
        (s[i + 1] == '-' || s[i + 1] == '+')) {
        for (j = i + 2; j < n && dig(s[j]); j++)
            ;
        if (j > i + 2)
            return j;
    }
    return i;
}

static int word3(const char *s, size_t n, size_t i, const char *lo, const char *ti, const char *up)
{
    size_t l = strlen(lo);
    if (n - i != l)
        return 0;
    return memcmp(s + i, lo, l) == 0 || memcmp(s + i, ti, l) == 0 || memcmp(s + i, up, l) == 0;
}

/* [-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?
 * | \.[0-9][0-9_]*(?:[eE][-+][0-9]+)?
 * | [-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*
 * | [-+]?\.(?:inf|Inf|INF) | \.(?:nan|NaN|NAN) */
int tkr_yaml_is_float(const char *s, size_t n)
{
    size_t i = skip_sign(s, n), j, k;

    if (n == 0)
        return 0;
    if (s[0] == '.' && word3(s, n, 0, ".nan", ".NaN", ".NAN"))
        return 1;
    if (i < n && word3(s, n, i, ".inf", ".Inf", ".INF"))
        return 1;
    if (i == 0 && s[0] == '.' && n > 1 && dig(s[1])) {
        for (j = 2; j < n && dig_(s[j]); j++)
            ;
        return exp_part(s, n, j) == n;
    }
    if (i >= n || !dig(s[i]))
        return 0;
    for (j = i + 1; j < n && dig_(s[j]); j++)
        ;
    if (j < n && s[j] == '.') {
        for (j++; j < n && dig_(s[j]); j++)
            ;
        return exp_part(s, n, j) == n;
    }
    if (j < n && s[j] == ':') {
        while (j < n && (k = sexa_seg(s, n, j)) != 0)
            j += k;
        if (j < n && s[j] == '.') {
            for (j++; j < n && dig_(s[j]); j++)
                ;
            return j == n;
        }
    }
    return 0;
}

static size_t digits(const char *s, size_t n, size_t i, size_t min, size_t max)
{
    size_t j = i;
    while (j < n && j - i < max && dig(s[j]))
        j++;
    return j - i >= min ? j : 0;
}

/* [0-9]{4}-[0-9]{2}-[0-9]{2}
 * | [0-9]{4}-[0-9]{1,2}-[0-9]{1,2}(?:[Tt]|[ \t]+)[0-9]{1,2}:[0-9]{2}:[0-9]{2}
 *   (?:\.[0-9]*)?(?:[ \t]*(?:Z|[-+][0-9]{1,2}(?::[0-9]{2})?))? */
static int is_timestamp(const char *s, size_t n)
{
    size_t j, t;

    if (n == 10 && digits(s, n, 0, 4, 4) == 4 && s[4] == '-' &&
        digits(s, n, 5, 2, 2) == 7 && s[7] == '-' && digits(s, n, 8, 2, 2) == 10)
        return 1;
    if ((j = digits(s, n, 0, 4, 4)) == 0 || j >= n || s[j] != '-')
        return 0;
    if ((j = digits(s, n, j + 1, 1, 2)) == 0 || j >= n || s[j] != '-')
        return 0;
    if ((j = digits(s, n, j + 1, 1, 2)) == 0 || j >= n)
        return 0;
    if (s[j] == 'T' || s[j] == 't') {
        j++;
    } else if (s[j] == ' ' || s[j] == '\t') {
        while (j < n && (s[j] == ' ' || s[j] == '\t'))
            j++;
    } else {
        return 0;
    }
    if ((j = digits(s, n, j, 1, 2)) == 0 || j >= n || s[j] != ':')
        return 0;
    if ((j = digits(s, n, j + 1, 2, 2)) == 0 || j >= n || s[j] != ':')
        return 0;
    if ((j = digits(s, n, j + 1, 2, 2)) == 0)
        return 0;
    if (j < n && s[j] == '.')
        for (j++; j < n && dig(s[j]); j++)
            ;
    if (j == n)
        return 1;
    t = j;
    while (t < n && (s[t] == ' ' || s[t] == '\t'))
        t++;
    if (t < n && s[t] == 'Z')
        return t + 1 == n;
    if (t < n && (s[t] == '-' || s[t] == '+')) {
        if ((t = digits(s, n, t + 1, 1, 2)) == 0)
            return 0;
        if (t == n)
            return 1;
        return s[t] == ':' && digits(s, n, t + 1, 2, 2) == n;
    }
    return 0;
}

static int is_word(const char *s, size_t n, const char *w)
{
    return strlen(w) == n && memcmp(s, w, n) == 0;
}

static int is_bool(const char *s, size_t n)
{
    static const char *const w[] = {"yes", "Yes", "YES", "no", "No", "NO",
                                    "true", "True", "TRUE", "false", "False", "FALSE",
                                    "on", "On", "ON", "off", "Off", "OFF"};
    size_t i;
    for (i = 0; i < sizeof(w) / sizeof(w[0]); i++)
        if (is_word(s, n, w[i]))
            return 1;
    return 0;
}

static int is_null(const char *s, size_t n)
{
    return n == 0 || is_word(s, n, "~") || is_word(s, n, "null") ||
           is_word(s, n, "Null") || is_word(s, n, "NULL");
}

tkr_res_t tkr_yaml_resolve(const char *s, size_t n)
{
    char c;

    if (n == 0)
        return TKR_RES_NULL;
    c = s[0];
    if (strchr("yYnNtTfFoO", c) != NULL) {
        if (is_bool(s, n))
            return TKR_RES_BOOL;
        if ((c == 'n' || c == 'N') && is_null(s, n))
            return TKR_RES_NULL;
        return TKR_RES_STR;
    }
    if (c == '-' || c == '+' || c == '.' || dig(c)) {
        if (tkr_yaml_is_float(s, n))
            return TKR_RES_FLOAT;
        if (c != '.' && tkr_yaml_is_int(s, n))
            return TKR_RES_INT;
        if (dig(c) && is_timestamp(s, n))
            return TKR_RES_TIMESTAMP;
        return TKR_RES_STR;
    }
    if (c == '<')
        return is_word(s, n, "<<") ? TKR_RES_MERGE : TKR_RES_STR;
    if (c == '~')
        return n == 1 ? TKR_RES_NULL : TKR_RES_STR;
    if (c == '=')
        return n == 1 ? TKR_RES_VALUE : TKR_RES_STR;
    return TKR_RES_STR;
}

int tkr_yaml_bool_value(const char *s, size_t n)
{
    static const char *const t[] = {"yes", "true", "on"}, *const f[] = {"no", "false", "off"};
    char low[6];
    size_t i;

    if (n == 0 || n > 5)
        return -1;
    for (i = 0; i < n; i++)
        low[i] = (char)(s[i] >= 'A' && s[i] <= 'Z' ? s[i] - 'A' + 'a' : s[i]);
    low[n] = '\0';
    for (i = 0; i < 3; i++) {
        if (strcmp(low, t[i]) == 0)
            return 1;
        if (strcmp(low, f[i]) == 0)
            return 0;
    }
    return -1;
}

/* ---- integers: Python ints, base 10^9 limbs ---- */

#define LIMB 1000000000u
#define LIMBS ((PY_INT_MAX_DIGITS + 8) / 9 + 4)

typedef struct {
    uint32_t d[LIMBS];   /* little-endian */
    size_t n;
} big_t;

static int big_muladd(big_t *b, uint32_t mul, uint32_t add)
{
    uint64_t carry = add;
    size_t i;

    for (i = 0; i < b->n; i++) {
        uint64_t v = (uint64_t)b->d[i] * mul + carry;
        b->d[i] = (uint32_t)(v % LIMB);
        carry = v / LIMB;
    }
    while (carry != 0) {
        if (b->n == LIMBS)
            return -1;
        b->d[b->n++] = (uint32_t)(carry % LIMB);
        carry /= LIMB;
    }
    return 0;
}

/* Python's int(s[0..n), base) for the digit strings PyYAML passes (no
 * sign, no underscores). Refuses what CPython refuses: no digits, a digit
 * outside the base, more than 4300 digits in base 10. */
static int big_parse(big_t *b, const char *s, size_t n, unsigned base, const char **why)
{
    size_t i;
    int v;

    if (n == 0) {
        *why = "no digits after the base prefix";
        return -1;
    }
    if (base == 10 && n > PY_INT_MAX_DIGITS) {
        *why = "integer has more than 4300 digits";
        return -1;
    }
    /* Bound the work before it starts: leading zeros aside, 4300 decimal
     * digits are at most 14286 binary, 4763 octal or 3572 hex digits. */
    for (i = 0; i < n && s[i] == '0'; i++)
        ;
    if (n - i > (base == 2 ? 14300u : base == 8 ? 4800u : 4310u)) {
        *why = "integer has more than 4300 digits";
        return -1;
    }
    for (i = 0; i < n; i++) {
        v = tkr_hex_digit(s[i]);
        if (v < 0 || (unsigned)v >= base) {
            *why = "digit outside the integer's base";
            return -1;
        }
        if (big_muladd(b, base, (uint32_t)v) != 0) {
            *why = "integer has more than 4300 digits";
            return -1;
        }
    }
    return 0;
}

int tkr_yaml_set_int(tkr_arena_t *a, tkr_ynode_t *y, const char *s, size_t n,
                     const char **why)
{
    static const char max_pos[] = "9223372036854775807", max_neg[] = "9223372036854775808";
    big_t *b;
    char *v, *out, *p;
    size_t vn = 0, i, len;
    int neg = 0, rc = -1;

    *why = "out of memory";
    b = malloc(sizeof(*b));
    v = malloc(n + 1);
    if (b == NULL || v == NULL)
        goto out;
    b->n = 0;
    for (i = 0; i < n; i++)
        if (s[i] != '_')
            v[vn++] = s[i];
    v[vn] = '\0';
    p = v;
    if (vn > 0 && (p[0] == '-' || p[0] == '+')) {
        neg = p[0] == '-';
        p++;
        vn--;
    }
    if (vn == 0) {
        *why = "no digits";
        goto out;
    }
    if (strcmp(p, "0") == 0) {
        rc = 0;
    } else if (p[0] == '0' && p[1] == 'b') {
        rc = big_parse(b, p + 2, vn - 2, 2, why);
    } else if (p[0] == '0' && p[1] == 'x') {
        rc = big_parse(b, p + 2, vn - 2, 16, why);
    } else if (p[0] == '0') {
        rc = big_parse(b, p, vn, 8, why);
    } else if (strchr(p, ':') != NULL) {
        /* Base 60: the first part is any decimal, the others 0..59. */
        char *part = p, *colon;
        rc = 0;
        while (rc == 0 && part != NULL) {
            colon = strchr(part, ':');
            len = colon ? (size_t)(colon - part) : strlen(part);
            if (part != p) {
                big_t small;
                small.n = 0;
                rc = big_parse(&small, part, len, 10, why);
                if (rc == 0 && (small.n > 1 || (small.n == 1 && small.d[0] >= 60))) {
                    *why = "base-60 part over 59";
                    rc = -1;
                }
                if (rc == 0 && big_muladd(b, 60, small.n ? small.d[0] : 0) != 0) {
                    *why = "integer has more than 4300 digits";
                    rc = -1;
                }
            } else {
                rc = big_parse(b, part, len, 10, why);
            }
            part = colon ? colon + 1 : NULL;
        }
    } else {
        rc = big_parse(b, p, vn, 10, why);
    }
    if (rc != 0)
        goto out;

    /* Decimal text: what repr(int) and json.dumps print. */
    while (b->n > 0 && b->d[b->n - 1] == 0)
        b->n--;
    rc = -1;
    if (b->n * 9 > PY_INT_MAX_DIGITS + 9) {
        *why = "integer has more than 4300 digits";
        goto out;
    }
    out = tkr_arena_alloc(a, b->n * 9 + 3);
    if (out == NULL)
        goto out;
    len = 0;
    if (b->n == 0) {
        out[len++] = '0';
        neg = 0;
    } else {
        if (neg)
            out[len++] = '-';
        len += (size_t)sprintf(out + len, "%u", (unsigned)b->d[b->n - 1]);
        for (i = b->n - 1; i-- > 0;)
            len += (size_t)sprintf(out + len, "%09u", (unsigned)b->d[i]);
    }
    if (len - (size_t)neg > PY_INT_MAX_DIGITS) {
        *why = "integer has more than 4300 digits";
        goto out;
    }
    y->json = out;
    y->json_len = len;

    /* The int64_t view, clamped. */
    {
        const char *mag = out + neg, *lim = neg ? max_neg : max_pos;
        size_t ml = len - (size_t)neg, ll = strlen(lim);
        if (ml > ll || (ml == ll && strcmp(mag, lim) > 0)) {
            y->n.flags |= TKR_YAML_BIG;
            y->n.i = neg ? INT64_MIN : INT64_MAX;
        } else {
            uint64_t u = 0;
            for (i = 0; i < ml; i++)
                u = u * 10 + (uint64_t)(mag[i] - '0');
            y->n.i = neg ? (u == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)u) : (int64_t)u;
        }
    }
    rc = 0;
out:
    free(b);
    free(v);
    return rc;
}

/* ---- floats ---- */

/* Decimal syntax Python's float() reads (after PyYAML removed '_' and
 * lowered the case): digits with an optional dot and exponent, or the
 * words inf, infinity, nan. */
static int py_float_syntax(const char *s)
{
    size_t i = 0, nd = 0;

    if (s[0] == '-' || s[0] == '+')
        i++;
    if (strcmp(s + i, "inf") == 0 || strcmp(s + i, "infinity") == 0 || strcmp(s + i, "nan") == 0)
        return 1;
    for (; dig(s[i]); i++)
        nd++;
    if (s[i] == '.')
        for (i++; dig(s[i]); i++)
            nd++;
    if (nd == 0)
        return 0;
    if (s[i] == 'e') {
        i++;
        if (s[i] == '-' || s[i] == '+')
            i++;
        if (!dig(s[i]))
            return 0;
        while (dig(s[i]))
            i++;
    }
    return s[i] == '\0';
}

int tkr_yaml_set_double(tkr_arena_t *a, tkr_ynode_t *y, double v)
{
    char buf[32];
    size_t n = tkr_py_float_repr(buf, v);

    y->n.f = v;
    y->json = tkr_arena_strndup(a, buf, n);
    y->json_len = n;
    return y->json == NULL ? -1 : 0;
}

int tkr_yaml_set_float(tkr_arena_t *a, tkr_ynode_t *y, const char *s, size_t n,
                       int loose, const char **why)
{
    char *v, *p;
    size_t vn = 0, i;
    double value = 0, sign = 1;
    int rc = -1;

    *why = "not a float";
    if (!loose && !tkr_yaml_is_float(s, n))
        return -1;
    v = malloc(n + 1);
    if (v == NULL) {
        *why = "out of memory";
        return -1;
    }
    for (i = 0; i < n; i++)
        if (s[i] != '_')
            v[vn++] = (char)(s[i] >= 'A' && s[i] <= 'Z' ? s[i] - 'A' + 'a' : s[i]);
    v[vn] = '\0';
    if (memchr(v, '\0', vn) != NULL)
        goto out;
    p = v;
    if (p[0] == '-')
        sign = -1;
    if (p[0] == '-' || p[0] == '+')
        p++;
    if (strcmp(p, ".inf") == 0) {
        value = sign * HUGE_VAL;
    } else if (strcmp(p, ".nan") == 0) {
        value = NAN;
    } else if (strchr(p, ':') != NULL) {
        /* value += part * 60^k from the last part, as PyYAML sums. */
        char *parts[16];
        size_t np = 0, k;
        uint64_t base = 1;
        char *q = p;
        for (;;) {
            if (np == 16) {
                *why = "too many base-60 parts";
                goto out;
            }
            parts[np++] = q;
            q = strchr(q, ':');
            if (q == NULL)
                break;
            *q++ = '\0';
        }
        if (np > 11) {
            *why = "too many base-60 parts";
            goto out;
        }
        for (k = np; k-- > 0;) {
            if (!py_float_syntax(parts[k]))
                goto out;
            value += strtod(parts[k], NULL) * (double)base;
            base *= 60;
        }
        value = sign * value;
    } else {
        if (!py_float_syntax(p))
            goto out;
        value = sign * strtod(p, NULL);
    }
    rc = tkr_yaml_set_double(a, y, value);
    if (rc != 0)
        *why = "out of memory";
out:
    free(v);
    return rc;
}

/* ---- Python's repr(float) ---- */

/* digits d[0..nd) and exponent e mean d[0].d[1..] x 10^e */
static int round_trips(const char *d, int nd, int e, double v)
{
    char buf[48];
    int k = 0, i;

    buf[k++] = d[0];
    if (nd > 1) {
        buf[k++] = '.';
        for (i = 1; i < nd; i++)
            buf[k++] = d[i];
    }
    snprintf(buf + k, sizeof(buf) - (size_t)k, "e%d", e);
    return strtod(buf, NULL) == v;
}

/* The next p-digit decimal up (dir 1) or down (dir -1). */
static void step(char *d, int nd, int *e, int dir)
{
    int i;

    if (dir > 0) {
        for (i = nd - 1; i >= 0 && d[i] == '9'; i--)
            d[i] = '0';
        if (i >= 0) {
            d[i]++;
        } else {
            d[0] = '1';
            (*e)++;
        }
        return;
    }
    for (i = nd - 1; i >= 0 && d[i] == '0'; i--)
        d[i] = '9';
    if (i > 0 || d[0] != '1' || nd == 1) {
        d[i]--;
        if (d[0] == '0') { /* 1 -> 0 at nd == 1: 0.9.. below 10^e */
            for (i = 0; i < nd; i++)
                d[i] = '9';
            (*e)--;
        }
        return;
    }
    /* 1000.. -> 9999.. one decade lower */
    for (i = 0; i < nd; i++)
        d[i] = '9';
    (*e)--;
}

/* Shortest digits that read back as v (v finite, > 0): what CPython's
 * dtoa mode 0 returns. Each precision's correctly rounded candidate is
 * tried, then its two neighbours, which can read back when the rounded
 * one does not (next to a power of two the gaps are uneven). */
static void shortest(double v, char d[20], int *nd, int *e)
{
    char buf[48], t[20];
    int p, i, te;

    for (p = 1; p <= 17; p++) {
        snprintf(buf, sizeof(buf), "%.*e", p - 1, v);
        d[0] = buf[0];
        for (i = 1; i < p; i++)
            d[i] = buf[i + 1];
        *e = atoi(strchr(buf, 'e') + 1);
        *nd = p;
        if (round_trips(d, p, *e, v))
            break;
        if (p == 17)
            break;
        memcpy(t, d, (size_t)p);
        te = *e;
        step(t, p, &te, 1);
        if (round_trips(t, p, te, v)) {
            memcpy(d, t, (size_t)p);
            *e = te;
            break;
        }
        memcpy(t, d, (size_t)p);
        te = *e;
        step(t, p, &te, -1);
        if (round_trips(t, p, te, v)) {
            memcpy(d, t, (size_t)p);
            *e = te;
            break;
        }
    }
    while (*nd > 1 && d[*nd - 1] == '0')
        (*nd)--;
}

size_t tkr_py_float_repr(char out[32], double v)
{
    char d[20];
    int nd, e, decpt, i;
    size_t k = 0;

    if (isnan(v))
        return (size_t)sprintf(out, "NaN");
    if (isinf(v))
        return (size_t)sprintf(out, v > 0 ? "Infinity" : "-Infinity");
    if (v == 0)
        return (size_t)sprintf(out, signbit(v) ? "-0.0" : "0.0");
    if (v < 0) {
        out[k++] = '-';
        v = -v;
    }
    shortest(v, d, &nd, &e);
    decpt = e + 1;
    if (decpt <= -4 || decpt > 16) {
        out[k++] = d[0];
        if (nd > 1) {
            out[k++] = '.';
            for (i = 1; i < nd; i++)
                out[k++] = d[i];
        }
        k += (size_t)sprintf(out + k, "e%c%02d", e < 0 ? '-' : '+', e < 0 ? -e : e);
    } else if (decpt <= 0) {
        out[k++] = '0';
        out[k++] = '.';
        for (i = 0; i < -decpt; i++)
            out[k++] = '0';
        for (i = 0; i < nd; i++)
            out[k++] = d[i];
    } else if (decpt < nd) {
        for (i = 0; i < nd; i++) {
            if (i == decpt)
                out[k++] = '.';
            out[k++] = d[i];
        }
    } else {
        for (i = 0; i < nd; i++)
            out[k++] = d[i];
        for (i = nd; i < decpt; i++)
            out[k++] = '0';
        out[k++] = '.';
        out[k++] = '0';
    }
    out[k] = '\0';
    return k;
}

/* ---- messages ---- */

void tkr_yaml_set_err(tkr_diag_t *err, const char *file, int line,
                      int column, const char *fmt, ...)
{
    va_list ap;

    if (err == NULL)
        return;
    if (file != NULL)
        err->file = file;
    err->line = line;
    err->column = column;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
    va_end(ap);
}

int tkr_yaml_bad(tkr_diag_t *err, const char *file,
                 const tkr_yaml_node_t *n, int no_node_line, const char *fmt, ...)
{
    char msg[256];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    tkr_yaml_set_err(err, file, n ? n->line : no_node_line,
                     n ? n->column : (no_node_line ? 1 : 0), "%s", msg);
    return TKR_E_POLICY;
}

const char *tkr_yaml_kind_name(const tkr_yaml_node_t *n)
{
    switch (n->kind) {
    case TKR_YAML_NULL: return "null (an empty value)";
    case TKR_YAML_BOOL: return n->i ? "a boolean (true)" : "a boolean (false)";
    case TKR_YAML_INT: return "an integer";
    case TKR_YAML_FLOAT: return "a number";
    case TKR_YAML_STR: return "a string";
    case TKR_YAML_SEQ: return "a list";
    default: return "a mapping";
    }
}

void tkr_yaml_show(char *out, size_t size, const char *s, size_t n, size_t max)
{
    size_t i, k = 0;

    if (size < 8)
        return;
    out[k++] = '"';
    for (i = 0; i < n && k + 6 < size; i++) {
        unsigned char c = (unsigned char)s[i];
        if (i == max) {
            out[k++] = '.';
            out[k++] = '.';
            out[k++] = '.';
            break;
        }
        if (c == '"' || c == '\\') {
            out[k++] = '\\';
            out[k++] = (char)c;
        } else if (c < 0x20 || c == 0x7f) {
            k += (size_t)snprintf(out + k, size - k, "\\x%02x", c);
        } else {
            out[k++] = (char)c;
        }
    }
    out[k++] = '"';
    out[k] = '\0';
}
