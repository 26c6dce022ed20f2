/* format_ref.h — the response format's definition, executed by brute force:
 * a reference for the linear matcher of lib/authjwt.c, shared by its unit
 * test and its fuzz harness.
 *
 * Written from the rules in tokenroll/authjwt.h, not from the library's
 * code: remove whitespace from both sides; the format must hold exactly one
 * "#response#"; quotes on both sides of it are optional; no '*' may touch
 * it. The response matches when P (before the capture) matches a prefix
 * T[0..a) and S (after it) the suffix T[b..n) with a <= b, each as a
 * '*'-glob (dynamic programming over every prefix and suffix at once).
 * Among all such (a, b) the capture T[a..b) is the shortest, the first of
 * equals by b. O(n * m + n^2): small inputs only. */
#ifndef TKR_FORMAT_REF_H
#define TKR_FORMAT_REF_H

#include <stddef.h>
#include <string.h>

#define REF_PAT_MAX 512
#define REF_TEXT_MAX 512

typedef struct {
    int compiles;            /* the format is acceptable */
    int matches;
    size_t a, b;             /* capture in compact response coordinates,
                                quotes stripped */
    char text[REF_TEXT_MAX]; /* the compacted response */
    size_t n;
} ref_result_t;

static int ref_ws(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' ||
           c == '\f';
}

static size_t ref_compact(char *out, const char *s, size_t n)
{
    size_t i, o = 0;

    for (i = 0; i < n; i++)
        if (!ref_ws(s[i]))
            out[o++] = s[i];
    return o;
}

/* ok[j] = 1 when glob p[0..pn) matches t[0..j), for every j in 0..tn;
 * with rev, both are read from their ends (the suffix t[tn-j..tn)). */
static void ref_glob_all(unsigned char *ok, const char *p, size_t pn,
                         const char *t, size_t tn, int rev)
{
    static unsigned char prev[REF_TEXT_MAX + 1], cur[REF_TEXT_MAX + 1];
    size_t i, j;

    memset(prev, 0, tn + 1);
    prev[0] = 1;
    for (i = 1; i <= pn; i++) {
        char pc = rev ? p[pn - i] : p[i - 1];
        for (j = 0; j <= tn; j++) {
            if (pc == '*')
                cur[j] = (unsigned char)(prev[j] || (j > 0 && cur[j - 1]));
            else
                cur[j] = (unsigned char)(j > 0 && prev[j - 1] &&
                                         (rev ? t[tn - j] : t[j - 1]) == pc);
        }
        memcpy(prev, cur, tn + 1);
    }
    memcpy(ok, prev, tn + 1);
}

static void ref_match(ref_result_t *r, const char *fmt, size_t fn,
                      const char *resp, size_t rn)
{
    static char p[REF_PAT_MAX];
    static unsigned char pre[REF_TEXT_MAX + 1], suf[REF_TEXT_MAX + 1];
    size_t pn, i, cap = 0, found = 0, P, S, a, b, best = (size_t)-1;
    const char *s;

    memset(r, 0, sizeof(*r));
    if (memchr(fmt, '\0', fn) != NULL || fn > REF_PAT_MAX || rn > REF_TEXT_MAX)
        return;
    pn = ref_compact(p, fmt, fn);
    /* stars collapse, so the length limit counts "**" once */
    {
        size_t stars_dup = 0;
        for (i = 1; i < pn; i++)
            if (p[i] == '*' && p[i - 1] == '*')
                stars_dup++;
        if (pn - stars_dup > 256)
            return;
    }
    for (i = 0; i + 10 <= pn; i++)
        if (memcmp(p + i, "#response#", 10) == 0 && found++ == 0)
            cap = i;
    if (found != 1)
        return;
    P = cap;
    s = p + cap + 10;
    S = pn - cap - 10;
    if (P > 0 && S > 0 && p[P - 1] == '"' && s[0] == '"') {
        P--;
        s++;
        S--;
    }
    if ((P > 0 && p[P - 1] == '*') || (S > 0 && s[0] == '*'))
        return;
    r->compiles = 1;
    r->n = ref_compact(r->text, resp, rn);
    ref_glob_all(pre, p, P, r->text, r->n, 0);
    ref_glob_all(suf, s, S, r->text, r->n, 1);
    for (b = 0; b <= r->n; b++) {
        if (!suf[r->n - b])
            continue;
        for (a = b + 1; a-- > 0;) {
            if (pre[a]) {
                if (b - a < best) {
                    best = b - a;
                    r->a = a;
                    r->b = b;
                    r->matches = 1;
                }
                break;
            }
        }
    }
    if (r->matches && r->b - r->a >= 2 && r->text[r->a] == '"' &&
        r->text[r->b - 1] == '"') {
        r->a++;
        r->b--;
    }
}

#endif
