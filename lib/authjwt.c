/* authjwt.c — the JWT authenticator's rules: the verifier's response format,
 * the verification request, local signature checks, and the claims that
 * become the certificate. See tokenroll/authjwt.h for the contract. */
#include <string.h>

#include <mbedtls/bignum.h>
#include <mbedtls/md.h>

#include "tokenroll/authjwt.h"
#include "tokenroll/certwrite.h"
#include "tokenroll/error.h"
#include "utf8.h"

#define CAPTURE "#response#"
#define CAPTURE_LEN (sizeof(CAPTURE) - 1)

_Static_assert(TKR_AUTHJWT_FORMAT_MAX <= 256,
               "the KMP failure tables hold piece lengths in a byte");

/* The reason for a failure into diag (NULL: not wanted); name is the
 * claim or setting at fault, or NULL. */
static void say(tkr_diag_t *diag, const char *name, const char *msg)
{
    (void)tkr_diag(diag, 0, name, msg);
}

/* The whitespace the format and the response both ignore (C's isspace in
 * the "C" locale, without depending on the locale). */
static int is_ws(int c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' ||
           c == '\f';
}

/* ---- the response format ---- */

/* Knuth-Morris-Pratt over one literal piece x[0..n), read backwards when
 * rev is set (for the pieces after the capture, searched right to left).
 * fail[i] is the length of the longest proper border of the piece's first
 * i + 1 characters; n <= TKR_AUTHJWT_FORMAT_MAX keeps it within a byte. */
typedef struct {
    const char *x;
    const uint8_t *fail;
    size_t n;
    size_t q;                /* characters of the piece matched so far */
    int rev;
} kmp_t;

static char piece_at(const char *x, size_t n, size_t i, int rev)
{
    return rev ? x[n - 1 - i] : x[i];
}

static void kmp_table(uint8_t *fail, const char *x, size_t n, int rev)
{
    size_t i, k = 0;

    if (n == 0)
        return;
    fail[0] = 0;
    for (i = 1; i < n; i++) {
        char c = piece_at(x, n, i, rev);
        while (k > 0 && piece_at(x, n, k, rev) != c)
            k = fail[k - 1];
        if (piece_at(x, n, k, rev) == c)
            k++;
        fail[i] = (uint8_t)k;
    }
}

static void kmp_init(kmp_t *m, const char *x, const uint8_t *fail, size_t n,
                     int rev)
{
    m->x = x;
    m->fail = fail;
    m->n = n;
    m->q = 0;
    m->rev = rev;
}

/* Feed one character; 1 when an occurrence of the piece ends with it. */
static int kmp_step(kmp_t *m, int c)
{
    while (m->q > 0 && (unsigned char)piece_at(m->x, m->n, m->q, m->rev) != c)
        m->q = m->fail[m->q - 1];
    if ((unsigned char)piece_at(m->x, m->n, m->q, m->rev) == c)
        m->q++;
    if (m->q == m->n) {
        m->q = m->fail[m->n - 1];
        return 1;
    }
    return 0;
}

/* A cursor over the response's non-whitespace characters within [lo, hi).
 * count is how many it has consumed. */
typedef struct {
    const char *s;
    size_t i, lo, hi;
    size_t count;
} cur_t;

static void cur_init(cur_t *c, const char *s, size_t at, size_t lo, size_t hi)
{
    c->s = s;
    c->i = at;
    c->lo = lo;
    c->hi = hi;
    c->count = 0;
}

/* Next character forward, or -1 at hi. */
static int cur_fwd(cur_t *c)
{
    while (c->i < c->hi) {
        unsigned char ch = (unsigned char)c->s[c->i++];
        if (!is_ws(ch)) {
            c->count++;
            return ch;
        }
    }
    return -1;
}

/* Next character backward (c->i then indexes it), or -1 at lo. */
static int cur_back(cur_t *c)
{
    while (c->i > c->lo) {
        unsigned char ch = (unsigned char)c->s[--c->i];
        if (!is_ws(ch)) {
            c->count++;
            return ch;
        }
    }
    return -1;
}

/* Raw index of the next non-whitespace character, without consuming it. */
static size_t cur_peek(const cur_t *c)
{
    size_t i = c->i;

    while (i < c->hi && is_ws((unsigned char)c->s[i]))
        i++;
    return i;
}

/* Move c just past the first occurrence of the piece; 0 if there is none. */
static int search_fwd(cur_t *c, const char *x, const uint8_t *fail, size_t n)
{
    kmp_t m;
    int ch;

    kmp_init(&m, x, fail, n, 0);
    while ((ch = cur_fwd(c)) >= 0)
        if (kmp_step(&m, ch))
            return 1;
    return 0;
}

/* Move c back onto the first character of the last occurrence. */
static int search_back(cur_t *c, const char *x, const uint8_t *fail, size_t n)
{
    kmp_t m;
    int ch;

    kmp_init(&m, x, fail, n, 1);
    while ((ch = cur_back(c)) >= 0)
        if (kmp_step(&m, ch))
            return 1;
    return 0;
}

/* End of the piece starting at i: the next '*' before end, or end. */
static size_t piece_end(const char *p, size_t i, size_t end)
{
    while (i < end && p[i] != '*')
        i++;
    return i;
}

/* Start of the piece ending at i: just after the previous '*' at or after
 * begin, or begin. */
static size_t piece_start(const char *p, size_t i, size_t begin)
{
    while (i > begin && p[i - 1] != '*')
        i--;
    return i;
}

int tkr_authjwt_format_compile(tkr_authjwt_format_t *f, const char *text,
                               size_t len, tkr_diag_t *diag)
{
    size_t i, n = 0, cap = 0, found = 0;

    if (f == NULL || (text == NULL && len != 0))
        return TKR_E_INVALID_ARG;
    memset(f, 0, sizeof(*f));
    for (i = 0; i < len; i++) {
        char c = text[i];
        if (is_ws((unsigned char)c))
            continue;
        if (c == '\0') {
            say(diag, NULL, "the response format contains a NUL byte");
            return TKR_E_INVALID_ARG;
        }
        if (c == '*' && n > 0 && f->pat[n - 1] == '*')
            continue;   /* "**" matches what "*" does */
        if (n == TKR_AUTHJWT_FORMAT_MAX) {
            say(diag, NULL, "the response format is too long");
            return TKR_E_TOO_LARGE;
        }
        f->pat[n++] = c;
    }
    for (i = 0; i + CAPTURE_LEN <= n; i++) {
        if (memcmp(f->pat + i, CAPTURE, CAPTURE_LEN) == 0) {
            if (found++ == 0)
                cap = i;
        }
    }
    if (found != 1) {
        say(diag, NULL, found == 0 ? "the response format has no #response#"
                                : "the response format has more than one "
                                  "#response#");
        memset(f, 0, sizeof(*f));
        return TKR_E_INVALID_ARG;
    }
    memmove(f->pat + cap, f->pat + cap + CAPTURE_LEN, n - cap - CAPTURE_LEN);
    n -= CAPTURE_LEN;
    /* Quotes on both sides are optional in the response: drop them here,
     * and the matcher strips one pair from the capture instead. */
    if (cap > 0 && cap < n && f->pat[cap - 1] == '"' && f->pat[cap] == '"') {
        memmove(f->pat + cap - 1, f->pat + cap + 1, n - cap - 1);
        cap--;
        n -= 2;
    }
    if ((cap > 0 && f->pat[cap - 1] == '*') || (cap < n && f->pat[cap] == '*')) {
        say(diag, NULL, "a '*' next to #response# leaves the capture undefined");
        memset(f, 0, sizeof(*f));
        return TKR_E_INVALID_ARG;
    }
    f->pat[n] = '\0';
    f->len = n;
    f->cap = cap;
    /* Pieces before the capture are searched forward; after it, the first
     * piece forward (in the sweep) and the others backward. */
    for (i = 0; i < cap; i = piece_end(f->pat, i, cap) + 1)
        kmp_table(f->fail + i, f->pat + i, piece_end(f->pat, i, cap) - i, 0);
    for (i = cap; i < n; i = piece_end(f->pat, i, n) + 1)
        kmp_table(f->fail + i, f->pat + i, piece_end(f->pat, i, n) - i,
                  i != cap);
    return 0;
}

/* The capture between the two pieces bordering it, found in one sweep of
 * [lo, hi): the lead cursor looks for the piece after the capture (s0),
 * the lag cursor trails it by |s0| characters and looks for the piece
 * before the capture (pk). When s0 is found, the lag has read exactly the
 * text before s0, so its last pk is the closest one: the shortest capture
 * ending there. Either piece may be absent (anchored by the caller):
 * then *a or *b is already set. */
static int sweep(const char *resp, size_t lo, size_t hi,
                 const char *pk, const uint8_t *pk_fail, size_t pk_len,
                 const char *s0, const uint8_t *s0_fail, size_t s0_len,
                 size_t *a, size_t *b)
{
    cur_t lead, lag;
    kmp_t mk, ms;
    size_t last_a = 0, last_a_count = 0, best = (size_t)-1;
    int have_a = 0, ch;

    cur_init(&lead, resp, lo, lo, hi);
    cur_init(&lag, resp, lo, lo, hi);
    if (pk_len > 0)
        kmp_init(&mk, pk, pk_fail, pk_len, 0);
    if (s0_len > 0)
        kmp_init(&ms, s0, s0_fail, s0_len, 0);
    if (s0_len == 0) {
        /* Only pk moves: its last occurrence before hi. */
        while ((ch = cur_fwd(&lag)) >= 0)
            if (kmp_step(&mk, ch)) {
                *a = lag.i;
                have_a = 1;
            }
        return have_a;
    }
    if (pk_len == 0) {
        last_a = *a;
        have_a = 1;
    }
    while ((ch = cur_fwd(&lead)) >= 0) {
        if (lead.count > s0_len) {
            int lc = cur_fwd(&lag);
            if (pk_len > 0 && kmp_step(&mk, lc)) {
                last_a = lag.i;
                last_a_count = lag.count;
                have_a = 1;
            }
        }
        if (kmp_step(&ms, ch) && have_a) {
            size_t gap = lag.count - last_a_count;
            if (pk_len == 0) {
                *b = cur_peek(&lag);
                return 1;   /* fixed start: the first s0 is the shortest */
            }
            if (gap < best) {
                best = gap;
                *a = last_a;
                *b = cur_peek(&lag);
            }
        }
    }
    return best != (size_t)-1;
}

int tkr_authjwt_format_match(const tkr_authjwt_format_t *f, const char *resp,
                             size_t len, size_t *cap_off, size_t *cap_len)
{
    const char *p;
    size_t i, st, cap, n, p0_end, pk_off, s0_end, sj_off, a, b;
    cur_t c;

    if (f == NULL || (resp == NULL && len != 0) || cap_off == NULL ||
        cap_len == NULL)
        return TKR_E_INVALID_ARG;
    p = f->pat;
    cap = f->cap;
    n = f->len;
    *cap_off = *cap_len = 0;

    /* Before the capture: p0 anchored at the start, then p1..p(k-1) each at
     * its first occurrence. pk is left to the sweep. */
    cur_init(&c, resp, 0, 0, len);
    p0_end = piece_end(p, 0, cap);
    for (i = 0; i < p0_end; i++)
        if (cur_fwd(&c) != (unsigned char)p[i])
            return TKR_E_NO_MATCH;
    pk_off = piece_start(p, cap, 0);
    for (i = p0_end + 1; i < pk_off; i = piece_end(p, i, cap) + 1)
        if (!search_fwd(&c, p + i, f->fail + i, piece_end(p, i, cap) - i))
            return TKR_E_NO_MATCH;
    a = c.i;

    /* After it: sj anchored at the end, then s(j-1)..s1 each at its last
     * occurrence, never reaching back into the text matched above. */
    cur_init(&c, resp, len, a, len);
    sj_off = piece_start(p, n, cap);
    for (i = n; i > sj_off; i--)
        if (cur_back(&c) != (unsigned char)p[i - 1])
            return TKR_E_NO_MATCH;
    s0_end = piece_end(p, cap, n);
    for (i = sj_off; i > s0_end + 1; i = st) {
        st = piece_start(p, i - 1, s0_end + 1);
        if (!search_back(&c, p + st, f->fail + st, i - 1 - st))
            return TKR_E_NO_MATCH;
    }
    b = c.i;

    if (p0_end < cap || s0_end < n) {
        /* pk or s0 float between a and b (a piece that is also anchored
         * has been matched above and takes no part here). */
        size_t lo = a, hi = b;
        int k_any = p0_end < cap, j_any = s0_end < n;
        if (!sweep(resp, lo, hi, p + pk_off, f->fail + pk_off,
                   k_any ? cap - pk_off : 0, p + cap, f->fail + cap,
                   j_any ? s0_end - cap : 0, &a, &b))
            return TKR_E_NO_MATCH;
    }

    /* The capture, its whitespace and one pair of quotes removed. */
    while (a < b && is_ws((unsigned char)resp[a]))
        a++;
    while (b > a && is_ws((unsigned char)resp[b - 1]))
        b--;
    if (b - a >= 2 && resp[a] == '"' && resp[b - 1] == '"') {
        a++;
        b--;
    }
    *cap_off = a;
    *cap_len = b - a;
    return 0;
}

int tkr_authjwt_word_valid(const char *s, size_t len)
{
    static const char *const words[] = {"valid", "ok", "true", "t",
                                        "yes", "y", "1"};
    char w[8];
    size_t i, n = 0;

    if (s == NULL)
        return 0;
    for (i = 0; i < len; i++) {
        char ch = s[i];
        if (is_ws((unsigned char)ch))
            continue;
        if (n == sizeof(w) - 1 || ch == '\0')
            return 0;
        w[n++] = (ch >= 'A' && ch <= 'Z') ? (char)(ch - 'A' + 'a') : ch;
    }
    w[n] = '\0';
    for (i = 0; i < sizeof(words) / sizeof(words[0]); i++)
        if (strcmp(w, words[i]) == 0)
            return 1;
    return 0;
}

int tkr_authjwt_response_check(const tkr_authjwt_format_t *f,
                               int use_response_code, int status,
                               const char *body, size_t len, tkr_diag_t *diag)
{
    size_t off, n;

    if (!use_response_code && (f == NULL || (body == NULL && len != 0)))
        return TKR_E_INVALID_ARG;
    if (status != 200) {
        say(diag, NULL, "the verifier did not answer 200");
        return TKR_E_DENIED;
    }
    if (use_response_code)
        return 0;
    if (tkr_authjwt_format_match(f, body, len, &off, &n) != 0) {
        say(diag, NULL, "the verifier's answer does not have the response format");
        return TKR_E_NO_MATCH;
    }
    if (!tkr_authjwt_word_valid(body + off, n)) {
        say(diag, NULL, "the verifier says the token is not valid");
        return TKR_E_DENIED;
    }
    return 0;
}

/* ---- the verification request ---- */

/* An output that keeps counting past its end, so a short buffer still
 * learns the size it needs. */
typedef struct {
    char *buf;
    size_t size;
    size_t len;
} sink_t;

static void put(sink_t *o, const char *s, size_t n)
{
    if (o->buf != NULL && o->len < o->size) {
        size_t room = o->size - o->len;
        memcpy(o->buf + o->len, s, n < room ? n : room);
    }
    o->len += n;
}

static int finish(sink_t *o, size_t *out_len)
{
    if (out_len != NULL)
        *out_len = o->len;
    if (o->buf == NULL || o->len >= o->size) {
        if (o->buf != NULL && o->size > 0)
            o->buf[0] = '\0';
        return TKR_E_BUFFER_TOO_SMALL;
    }
    o->buf[o->len] = '\0';
    return 0;
}

static const char hex_upper[] = "0123456789ABCDEF";

/* RFC 8259 §7: quote, backslash and control characters escaped. */
static void put_json(sink_t *o, const char *s, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch == '"' || ch == '\\') {
            char e[2] = {'\\', (char)ch};
            put(o, e, 2);
        } else if (ch < 0x20) {
            char e[6] = {'\\', 'u', '0', '0', hex_upper[ch >> 4],
                         hex_upper[ch & 0xf]};
            put(o, e, 6);
        } else {
            put(o, (const char *)&ch, 1);
        }
    }
}

/* RFC 3986 §2.3 unreserved characters. */
static int unreserved(unsigned char ch)
{
    return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
           (ch >= '0' && ch <= '9') || ch == '-' || ch == '.' || ch == '_' ||
           ch == '~';
}

/* Percent-encode everything but the unreserved set and keep[]. */
static void put_url(sink_t *o, const char *s, size_t n, const char *keep)
{
    size_t i;

    for (i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (unreserved(ch) || (ch != '\0' && strchr(keep, ch) != NULL)) {
            put(o, (const char *)&ch, 1);
        } else {
            char e[3] = {'%', hex_upper[ch >> 4], hex_upper[ch & 0xf]};
            put(o, e, 3);
        }
    }
}

typedef void (*put_fn)(sink_t *o, const char *s, size_t n, const char *keep);

static void put_json_fn(sink_t *o, const char *s, size_t n, const char *keep)
{
    (void)keep;
    put_json(o, s, n);
}

static void put_raw_fn(sink_t *o, const char *s, size_t n, const char *keep)
{
    (void)keep;
    put(o, s, n);
}

/* format with #token# and #kid# replaced through value(), the rest through
 * literal(). */
static void substitute(sink_t *o, const char *format, const char *token,
                       size_t token_len, const char *kid, put_fn value,
                       put_fn literal, const char *keep)
{
    size_t i = 0, n = strlen(format);

    while (i < n) {
        if (n - i >= 7 && memcmp(format + i, "#token#", 7) == 0) {
            value(o, token, token_len, "");
            i += 7;
        } else if (n - i >= 5 && memcmp(format + i, "#kid#", 5) == 0) {
            value(o, kid, strlen(kid), "");
            i += 5;
        } else {
            literal(o, format + i, 1, keep);
            i++;
        }
    }
}

/* The bare "#token#" format, surrounding whitespace allowed. */
static int bare_token_format(const char *format)
{
    size_t n;

    while (is_ws((unsigned char)*format))
        format++;
    if (strncmp(format, "#token#", 7) != 0)
        return 0;
    for (n = 7; format[n] != '\0'; n++)
        if (!is_ws((unsigned char)format[n]))
            return 0;
    return 1;
}

int tkr_authjwt_request_body(char *out, size_t out_size, size_t *out_len,
                             const char *format, const char *token,
                             size_t token_len, const char *kid)
{
    sink_t o = {out, out_size, 0};

    if (out_len == NULL || token == NULL)
        return TKR_E_INVALID_ARG;
    if (format == NULL || format[0] == '\0')
        format = "#token#";
    substitute(&o, format, token, token_len, kid != NULL ? kid : "",
               put_json_fn, put_raw_fn, "");
    return finish(&o, out_len);
}

int tkr_authjwt_request_query(char *out, size_t out_size, size_t *out_len,
                              const char *format, const char *token,
                              size_t token_len, const char *kid)
{
    sink_t o = {out, out_size, 0};

    if (out_len == NULL || token == NULL)
        return TKR_E_INVALID_ARG;
    if (format == NULL || format[0] == '\0' || bare_token_format(format)) {
        put(&o, "token=", 6);
        put_url(&o, token, token_len, "");
    } else if (strchr(format, '=') != NULL) {
        substitute(&o, format, token, token_len, kid != NULL ? kid : "",
                   put_url, put_url, "=&");
    }
    return finish(&o, out_len);
}

/* ---- local verification ---- */

int tkr_authjwt_verify_local(const tkr_jwt_t *jwt,
                             const tkr_authjwt_key_t *keys, size_t nkeys,
                             const tkr_jwks_t *jwks, tkr_diag_t *diag)
{
    size_t i;
    int rc, tried = 0, wrong_alg = 0;

    if (jwt == NULL || (keys == NULL && nkeys != 0))
        return TKR_E_INVALID_ARG;
    /* "none", HS* and anything else unknown never reach a key. */
    if (jwt->alg == TKR_JWT_ALG_UNKNOWN) {
        say(diag, NULL, "the token's alg is not RS256, PS256, ES256 or ES384 "
                     "(none and HS* are refused)");
        return TKR_E_JWT_ALG;
    }
    for (i = 0; i < nkeys; i++) {
        if (keys[i].pk == NULL)
            continue;
        if (keys[i].kid != NULL && jwt->kid[0] != '\0' &&
            strcmp(keys[i].kid, jwt->kid) != 0)
            continue;
        if (keys[i].alg != jwt->alg) {
            wrong_alg = 1;
            continue;
        }
        tried = 1;
        if (tkr_jwt_verify_sig(jwt, keys[i].alg, keys[i].pk) == 0)
            return 0;
    }
    if (jwks != NULL) {
        mbedtls_pk_context pk;
        tkr_jwt_alg_t alg = TKR_JWT_ALG_UNKNOWN;

        mbedtls_pk_init(&pk);
        rc = tkr_jwks_select_any(jwks, &pk, &alg,
                                 jwt->kid[0] != '\0' ? jwt->kid : NULL, NULL);
        if (rc == 0) {
            if (alg != jwt->alg) {
                wrong_alg = 1;
            } else {
                tried = 1;
                rc = tkr_jwt_verify_sig(jwt, alg, &pk);
            }
        }
        mbedtls_pk_free(&pk);
        if (rc == 0 && alg == jwt->alg)
            return 0;
    }
    if (tried) {
        say(diag, NULL, "the token's signature does not verify");
        return TKR_E_SIGNATURE;
    }
    if (wrong_alg) {
        say(diag, NULL, "the token's alg is not the one its key is pinned to");
        return TKR_E_JWT_ALG;
    }
    say(diag, NULL, "no configured key matches the token's kid and alg");
    return TKR_E_NOT_FOUND;
}

/* ---- claims and the certificate ---- */

/* sub as a Common Name: 1..64 bytes (the caller's buffer bounds it), none
 * of them part of a control character (C0, DEL, C1), so what is printed is
 * what was certified. */
static int printable_name(const char *s, size_t n)
{
    size_t i = 0;
    uint32_t cp;

    if (n == 0)
        return 0;
    while (i < n) {
        if (tkr_utf8_decode(s, n, &i, &cp) != 0)
            return 0;
        if (cp < 0x20 || (cp >= 0x7f && cp <= 0x9f))
            return 0;
    }
    return 1;
}

static int host_char(char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
           (ch >= '0' && ch <= '9') || ch == '-' || ch == '.' || ch == '_';
}

/* Host of an URL "scheme://[user@]host[:port][/...]" ([v6] without its
 * brackets), or iss itself when it is a bare host name. */
static int iss_host(char *out, size_t size, const char *iss)
{
    const char *h = strstr(iss, "://"), *end, *at;
    size_t n, i;
    int v6 = 0;

    if (h == NULL) {
        h = iss;
        end = h + strlen(h);
    } else {
        for (i = 0; iss + i < h; i++) {    /* RFC 3986 §3.1 scheme */
            char ch = iss[i];
            if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                  (i > 0 && ((ch >= '0' && ch <= '9') || ch == '+' ||
                             ch == '-' || ch == '.'))))
                return TKR_E_ISS;
        }
        if (h == iss)
            return TKR_E_ISS;
        h += 3;
        end = h + strcspn(h, "/?#");
        at = NULL;
        for (i = 0; h + i < end; i++)
            if (h[i] == '@')
                at = h + i;
        if (at != NULL)
            h = at + 1;
        if (*h == '[') {
            const char *close = memchr(h, ']', (size_t)(end - h));
            if (close == NULL)
                return TKR_E_ISS;
            h++;
            end = close;
            v6 = 1;
        } else {
            const char *colon = memchr(h, ':', (size_t)(end - h));
            if (colon != NULL)
                end = colon;
        }
    }
    n = (size_t)(end - h);
    /* The host becomes the certificate's O, of at most 64 bytes (X.520). */
    if (n == 0 || n >= size || n > 64)
        return TKR_E_ISS;
    for (i = 0; i < n; i++)
        if (!host_char(h[i]) && !(v6 && h[i] == ':'))
            return TKR_E_ISS;
    memcpy(out, h, n);
    out[n] = '\0';
    return 0;
}

/* With no audience configured aud is not checked (the quick start's tokens
 * carry "default" and its service names none), yet the jwt module refuses
 * an aud that names nobody it expects (RFC 7519 §4.1.3). Handing it the
 * token's own first audience leaves only the claim's form to be checked. */
static void own_audience(const tkr_jwt_t *jwt, char *out, size_t size)
{
    int t = tkr_jwt_claim(jwt, "aud");
    size_t n;

    out[0] = '\0';
    if (t >= 0 && tkr_json_type(&jwt->doc, t) == TKR_JSON_ARRAY)
        t = tkr_json_child(&jwt->doc, t, 0);
    if (t < 0 || tkr_json_type(&jwt->doc, t) != TKR_JSON_STRING ||
        tkr_json_get_str(&jwt->doc, out, size, &n, t) != 0)
        out[0] = '\0';
}

static const char *claims_why(int rc)
{
    switch (rc) {
    case TKR_E_EXPIRED: return "the token has expired";
    case TKR_E_NOT_YET_VALID: return "the token is not valid yet (nbf)";
    case TKR_E_IAT_FUTURE: return "the token was issued in the future (iat)";
    case TKR_E_CLAIM_MISSING: return "the token lacks exp, iss or sub";
    case TKR_E_CLAIM_TYPE: return "a registered claim has the wrong type";
    case TKR_E_ISS: return "the token's iss is not the configured issuer";
    case TKR_E_AUD: return "the token's aud does not contain the configured "
                           "audience";
    default: return "the token's claims are not acceptable";
    }
}

int tkr_authjwt_check_claims(tkr_authjwt_identity_t *id, const tkr_jwt_t *jwt,
                             const tkr_authjwt_rules_t *rules, int64_t now,
                             tkr_diag_t *diag)
{
    tkr_jwt_rules_t jr;
    char iss[512], aud[512];
    size_t n, il;
    int64_t exp, start, cap;
    int rc, t;

    if (id == NULL || jwt == NULL || rules == NULL || now < 0 ||
        rules->max_validity <= 0 ||
        (rules->issuer == NULL && rules->trusted_uri == NULL)) {
        say(diag, NULL, "no issuer and no trusted URI configured");
        return TKR_E_INVALID_ARG;
    }
    memset(id, 0, sizeof(*id));
    memset(&jr, 0, sizeof(jr));
    jr.required = TKR_CLAIM_EXP | TKR_CLAIM_ISS | TKR_CLAIM_SUB;
    jr.iss = rules->issuer;
    jr.aud = rules->audience;
    if (jr.aud == NULL) {
        own_audience(jwt, aud, sizeof(aud));
        if (aud[0] != '\0')
            jr.aud = aud;
    }
    jr.leeway = rules->leeway;
    if ((rc = tkr_jwt_check_claims(jwt, &jr, now, diag)) != 0) {
        say(diag, NULL, claims_why(rc));   /* diag->name: the claim */
        return rc;
    }
    t = tkr_jwt_claim(jwt, "iss");
    if (t < 0 || tkr_json_get_str(&jwt->doc, iss, sizeof(iss), &il, t) != 0 ||
        il == 0) {
        say(diag, "iss", "the token's iss is empty, too long or not text");
        return TKR_E_ISS;
    }
    if (rules->issuer == NULL &&
        (strncmp(rules->trusted_uri, iss, il) != 0 ||
         rules->trusted_uri[il] != '/')) {
        say(diag, "iss", "the trusted URI does not start with the token's iss "
                         "and '/'");
        return TKR_E_ISS;
    }
    if (iss_host(id->org, sizeof(id->org), iss) != 0) {
        say(diag, "iss", "the token's iss has no host name of 1 to 64 bytes");
        return TKR_E_ISS;
    }
    t = tkr_jwt_claim(jwt, "sub");
    if (t < 0 || tkr_json_get_str(&jwt->doc, id->cn, sizeof(id->cn), &n, t) != 0 ||
        !printable_name(id->cn, n)) {
        memset(id, 0, sizeof(*id));
        say(diag, "sub", "the token's sub must be 1 to 64 bytes of printable text");
        return TKR_E_SUB;
    }
    /* exp is an integer here (checked above); nbf and iat when present. */
    (void)tkr_json_get_i64(&jwt->doc, &exp, tkr_jwt_claim(jwt, "exp"));
    start = now;
    if ((t = tkr_jwt_claim(jwt, "nbf")) >= 0 ||
        (t = tkr_jwt_claim(jwt, "iat")) >= 0)
        (void)tkr_json_get_i64(&jwt->doc, &start, t);
    cap = now > INT64_MAX - rules->max_validity ? INT64_MAX
                                                : now + rules->max_validity;
    id->not_before = start;
    id->not_after = exp < cap ? exp : cap;
    if (id->not_after <= id->not_before) {
        memset(id, 0, sizeof(*id));
        say(diag, "exp", "the token's exp is not after its nbf");
        return TKR_E_EXPIRED;
    }
    return 0;
}

int tkr_authjwt_usage(unsigned *usage, const char *name)
{
    if (usage == NULL || name == NULL)
        return TKR_E_INVALID_ARG;
    if (strcmp(name, "client") == 0)
        *usage = TKR_CERT_CLIENT;
    else if (strcmp(name, "server") == 0)
        *usage = TKR_CERT_SERVER;
    else if (strcmp(name, "ioc") == 0)
        *usage = TKR_CERT_CLIENT | TKR_CERT_SERVER;
    else
        return TKR_E_INVALID_ARG;
    return 0;
}

/* ---- the whole check ---- */

static int ask_verifier(tkr_authjwt_work_t *w, const tkr_authjwt_cfg_t *cfg,
                        size_t len, tkr_diag_t *diag)
{
    tkr_authjwt_call_t c;
    const char *body = NULL;
    size_t n, blen = 0;
    int status = 0, rc;

    memset(&c, 0, sizeof(c));
    if (cfg->use_get) {
        rc = tkr_authjwt_request_query(w->req, sizeof(w->req), &n,
                                       cfg->request_format, w->token, len,
                                       w->jwt.kid);
        c.method = "GET";
        c.query = w->req;
        c.bearer = w->token;
    } else {
        rc = tkr_authjwt_request_body(w->req, sizeof(w->req), &n,
                                      cfg->request_format, w->token, len,
                                      w->jwt.kid);
        c.method = "POST";
        c.query = "";
        c.body = w->req;
        c.body_len = n;
    }
    if (rc != 0) {
        say(diag, NULL, "the verification request is too large");
        return TKR_E_TOO_LARGE;
    }
    rc = cfg->call(cfg->arg, &c, &status, &body, &blen);
    if (rc == TKR_E_TOO_LARGE) {
        say(diag, NULL, "the verifier's answer is too large");
        return rc;
    }
    if (rc != 0) {
        say(diag, NULL, "the verifier cannot be reached");
        return rc;
    }
    return tkr_authjwt_response_check(cfg->response_format,
                                      cfg->use_response_code, status, body,
                                      blen, diag);
}

static int verify_here(const tkr_authjwt_work_t *w,
                       const tkr_authjwt_cfg_t *cfg, tkr_diag_t *diag)
{
    const tkr_jwks_t *set = NULL;
    int rc;

    if (cfg->jwks != NULL && cfg->jwks(cfg->arg, 0, &set) != 0)
        set = NULL;
    rc = tkr_authjwt_verify_local(&w->jwt, cfg->keys, cfg->nkeys, set, diag);
    if (rc == TKR_E_NOT_FOUND && cfg->jwks != NULL) {
        /* A key the provider added since the set was fetched. */
        if (cfg->jwks(cfg->arg, 1, &set) != 0)
            set = NULL;
        rc = tkr_authjwt_verify_local(&w->jwt, cfg->keys, cfg->nkeys, set,
                                      diag);
    }
    return rc;
}

int tkr_authjwt_authenticate(tkr_authjwt_identity_t *id,
                             tkr_authjwt_work_t *work,
                             const tkr_authjwt_cfg_t *cfg, const char *token,
                             size_t len, int64_t now, tkr_diag_t *diag)
{
    tkr_authjwt_rules_t rules;
    int rc;

    if (id == NULL || work == NULL || cfg == NULL || token == NULL ||
        (cfg->trusted_uri != NULL && cfg->call == NULL)) {
        say(diag, NULL, "the JWT authenticator is not configured");
        return TKR_E_INVALID_ARG;
    }
    memset(id, 0, sizeof(*id));
    if (len > TKR_JWT_MAX) {
        say(diag, NULL, "the token is too large");
        return TKR_E_TOO_LARGE;
    }
    memcpy(work->token, token, len);
    work->token[len] = '\0';
    tkr_jwt_free(&work->jwt);
    tkr_jwt_init(&work->jwt);
    if ((rc = tkr_jwt_parse(&work->jwt, work->token, len, diag)) != 0) {
        say(diag, NULL, "the token is not a signed JWT (header.payload.signature)");
        return rc;
    }
    /* No provider vouches for an unsigned token, whatever it says. */
    if (strcmp(work->jwt.alg_name, "none") == 0) {
        say(diag, NULL, "the token is not signed (alg none)");
        return TKR_E_JWT_ALG;
    }
    if (cfg->trusted_uri != NULL) {
        rc = ask_verifier(work, cfg, len, diag);
    } else {
        if (cfg->lock != NULL)
            cfg->lock(cfg->arg, 1);
        rc = verify_here(work, cfg, diag);
        if (cfg->lock != NULL)
            cfg->lock(cfg->arg, 0);
    }
    if (rc != 0)
        return rc;
    rules = cfg->rules;
    rules.trusted_uri = cfg->trusted_uri;
    return tkr_authjwt_check_claims(id, &work->jwt, &rules, now, diag);
}

int tkr_authjwt_http_status(int rc)
{
    switch (rc) {
    case 0:
        return 200;
    case TKR_E_ISS:
    case TKR_E_AUD:
    case TKR_E_SUB:
        return 403;
    case TKR_E_INVALID_ARG:
    case TKR_E_CRYPTO:
    case TKR_E_BUFFER_TOO_SMALL:
    case TKR_E_ENTROPY:
    case TKR_E_IO:
        return 500;
    default:
        return 401;
    }
}

/* ---- certificate identifiers ---- */

static const char hex_lower[] = "0123456789abcdef";

int tkr_authjwt_issuer_id(char out[TKR_AUTHJWT_ISSUER_ID_LEN + 1],
                          const uint8_t *name_der, size_t len)
{
    uint8_t h[32];
    size_t i;

    if (out == NULL || name_der == NULL || len == 0)
        return TKR_E_INVALID_ARG;
    if (mbedtls_md(mbedtls_md_info_from_type(MBEDTLS_MD_SHA256), name_der, len,
                   h) != 0)
        return TKR_E_CRYPTO;
    for (i = 0; i < TKR_AUTHJWT_ISSUER_ID_LEN / 2; i++) {
        out[2 * i] = hex_lower[h[i] >> 4];
        out[2 * i + 1] = hex_lower[h[i] & 0xf];
    }
    out[TKR_AUTHJWT_ISSUER_ID_LEN] = '\0';
    return 0;
}

int tkr_authjwt_cert_id(char *out, size_t out_size,
                        const mbedtls_x509_crt *crt)
{
    /* mbedTLS asks for room by bit length (about bits/2 + 3 for decimal),
     * more than the digits need: write into a scratch buffer first. */
    char dec[100];
    mbedtls_mpi v;
    size_t n;
    int rc;

    if (out == NULL || crt == NULL)
        return TKR_E_INVALID_ARG;
    if (crt->serial.len == 0 || crt->serial.len > 21 ||
        (crt->serial.p[0] & 0x80) != 0 ||
        (crt->serial.len == 21 && crt->serial.p[0] != 0))
        return TKR_E_CERT;
    mbedtls_mpi_init(&v);
    rc = mbedtls_mpi_read_binary(&v, crt->serial.p, crt->serial.len);
    if (rc == 0)
        rc = mbedtls_mpi_write_string(&v, 10, dec, sizeof(dec), &n);
    mbedtls_mpi_free(&v);
    if (rc != 0)
        return TKR_E_CRYPTO;
    n = strlen(dec);
    if (out_size < TKR_AUTHJWT_ISSUER_ID_LEN + 1 + n + 1)
        return TKR_E_BUFFER_TOO_SMALL;
    if ((rc = tkr_authjwt_issuer_id(out, crt->issuer_raw.p,
                                    crt->issuer_raw.len)) != 0)
        return rc;
    out[TKR_AUTHJWT_ISSUER_ID_LEN] = ':';
    memcpy(out + TKR_AUTHJWT_ISSUER_ID_LEN + 1, dec, n + 1);
    return 0;
}

int tkr_authjwt_cert_id_parse(char issuer[TKR_AUTHJWT_ISSUER_ID_LEN + 1],
                              char serial_hex[TKR_AUTHJWT_SERIAL_HEX_MAX],
                              const char *id)
{
    mbedtls_mpi v;
    uint8_t b[20];
    size_t i, n, digits;
    int rc;

    if (issuer == NULL || serial_hex == NULL || id == NULL)
        return TKR_E_INVALID_ARG;
    for (i = 0; i < TKR_AUTHJWT_ISSUER_ID_LEN; i++)
        if (tkr_hex_digit(id[i]) < 0 || (id[i] >= 'A' && id[i] <= 'F'))
            return TKR_E_INVALID_ARG;
    if (id[i] != ':')
        return TKR_E_INVALID_ARG;
    digits = strlen(id + i + 1);
    if (digits == 0 || digits > 49 || (id[i + 1] == '0' && digits > 1) ||
        strspn(id + i + 1, "0123456789") != digits)
        return TKR_E_INVALID_ARG;
    mbedtls_mpi_init(&v);
    rc = mbedtls_mpi_read_string(&v, 10, id + i + 1);
    n = mbedtls_mpi_size(&v);
    if (rc == 0 && (n == 0 || n > sizeof(b)))
        rc = -1;
    if (rc == 0)
        rc = mbedtls_mpi_write_binary(&v, b, n);
    mbedtls_mpi_free(&v);
    if (rc != 0)
        return TKR_E_INVALID_ARG;
    memcpy(issuer, id, TKR_AUTHJWT_ISSUER_ID_LEN);
    issuer[TKR_AUTHJWT_ISSUER_ID_LEN] = '\0';
    for (i = 0; i < n; i++) {
        serial_hex[2 * i] = hex_lower[b[i] >> 4];
        serial_hex[2 * i + 1] = hex_lower[b[i] & 0xf];
    }
    serial_hex[2 * n] = '\0';
    return 0;
}
