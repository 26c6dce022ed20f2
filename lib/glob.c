/* glob.c — shell patterns for enrollment names (POSIX fnmatch without
 * flags, case-sensitive), written here so lib/ calls no OS function.
 *
 * `*` any run of characters (also '/' and a leading '.': FLARE matches
 * names, not paths), `?` one character, `[abc]`, `[a-z]`, `[!a-z]` one
 * character in or out of the set (a ']' first in the set is literal),
 * `\x` the character x. Characters are UTF-8 code points; bytes that are
 * not UTF-8 count one each.
 *
 * tkr_glob_check refuses what would be matched literally by accident or
 * read differently by FLARE's Python fnmatch: an unclosed '[', a trailing
 * '\', a reversed range, "[^...]" (negation for glibc, the character '^'
 * for Python) and "[[:class:]]" (POSIX-only). Python's fnmatch has no
 * escapes: a pattern with '\' means something else there; site names
 * never need one. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "tokenroll/error.h"
#include "tokenroll/glob.h"
#include "utf8.h"

/* A byte that is not UTF-8 counts as a character of its own, numbered past
 * U+10FFFF so it never equals the code point with the same value (the stray
 * byte 0x87 is not U+0087). */
#define STRAY_BYTE 0x110000u

/* Next character of s at *i (a code point, or a stray byte). */
static uint32_t next_cp(const char *s, size_t n, size_t *i)
{
    uint32_t cp;
    if (tkr_utf8_decode(s, n, i, &cp) == 0)
        return cp;
    return STRAY_BYTE + (unsigned char)s[(*i)++];
}

/* Bracket expression at p[*j] (just after '['). Returns 1 when it is well
 * formed, setting *match for character c and *j past the ']'; 0 when the
 * '[' is unclosed (then it is an ordinary character). */
static int bracket(const char *p, size_t pn, size_t *j, uint32_t c, int *match)
{
    size_t k = *j;
    int neg = 0, in = 0, first = 1;
    uint32_t lo, hi;

    if (k < pn && (p[k] == '!' || p[k] == '^')) {
        neg = 1;
        k++;
    }
    for (;;) {
        if (k >= pn)
            return 0;
        if (p[k] == ']' && !first)
            break;
        first = 0;
        if (p[k] == '\\' && k + 1 < pn)
            k++;
        lo = next_cp(p, pn, &k);
        hi = lo;
        if (k + 1 < pn && p[k] == '-' && p[k + 1] != ']') {
            k++;
            if (p[k] == '\\' && k + 1 < pn)
                k++;
            hi = next_cp(p, pn, &k);
        }
        if (c >= lo && c <= hi)
            in = 1;
    }
    *j = k + 1;
    *match = in != neg;
    return 1;
}

int tkr_glob_match(const char *pattern, const char *name)
{
    size_t pn, sn, pi = 0, si = 0, star_p = SIZE_MAX, star_s = 0;

    if (pattern == NULL || name == NULL)
        return 0;
    pn = strlen(pattern);
    sn = strlen(name);
    /* Greedy with one backtrack point: the last '*' seen takes one more
     * character whenever what follows it fails (O(len(p) * len(s))). */
    while (si < sn || pi < pn) {
        if (pi < pn) {
            char pc = pattern[pi];
            size_t np = pi + 1, ns = si;
            int ok = 0, m;
            uint32_t c;

            if (pc == '*') {
                star_p = pi++;
                star_s = si;
                continue;
            }
            if (si < sn) {
                c = next_cp(name, sn, &ns);
                if (pc == '?') {
                    ok = 1;
                } else if (pc == '[' && bracket(pattern, pn, &np, c, &m)) {
                    ok = m;
                } else {
                    size_t q = pi;
                    if (pc == '\\' && pi + 1 < pn)
                        q++;
                    np = q;
                    ok = next_cp(pattern, pn, &np) == c;
                }
                if (ok) {
                    pi = np;
                    si = ns;
                    continue;
                }
            }
        }
        if (star_p == SIZE_MAX || star_s >= sn)
            return 0;
        next_cp(name, sn, &star_s);
        pi = star_p + 1;
        si = star_s;
    }
    return 1;
}

/* Well-formedness with the reason for the first problem (NULL when fine). */
static const char *problem(const char *pattern)
{
    size_t n = strlen(pattern), i = 0, k;
    uint32_t lo, hi;
    int first;

    if (n == 0)
        return "the pattern is empty";
    while (i < n) {
        if (pattern[i] == '\\') {
            if (i + 1 >= n)
                return "the pattern ends in a lone '\\'";
            i++;
            next_cp(pattern, n, &i);
            continue;
        }
        if (pattern[i] != '[') {
            next_cp(pattern, n, &i);
            continue;
        }
        k = i + 1;
        if (k < n && pattern[k] == '^')
            return "use [!...] for a negated set ('[^' means '^' to FLARE's Python fnmatch)";
        if (k < n && pattern[k] == '!')
            k++;
        first = 1;
        for (;;) {
            if (k >= n)
                return "a '[' is not closed by ']'";
            if (pattern[k] == ']' && !first)
                break;
            if (pattern[k] == '[' && k + 1 < n &&
                (pattern[k + 1] == ':' || pattern[k + 1] == '=' || pattern[k + 1] == '.'))
                return "character classes ([:alpha:] ...) are not supported";
            first = 0;
            if (pattern[k] == '\\' && ++k >= n)
                return "a '[' is not closed by ']'";
            lo = next_cp(pattern, n, &k);
            if (k + 1 < n && pattern[k] == '-' && pattern[k + 1] != ']') {
                k++;
                if (pattern[k] == '\\' && ++k >= n)
                    return "a '[' is not closed by ']'";
                hi = next_cp(pattern, n, &k);
                if (hi < lo)
                    return "a range in [...] runs backwards (write a-z, not z-a)";
            }
        }
        i = k + 1;
    }
    return NULL;
}

int tkr_glob_check(const char *pattern)
{
    if (pattern == NULL)
        return TKR_E_INVALID_ARG;
    return problem(pattern) == NULL ? 0 : TKR_E_POLICY;
}

const char *tkr_glob_problem(const char *pattern)
{
    const char *why;

    if (pattern == NULL)
        return "no pattern";
    why = problem(pattern);
    return why != NULL ? why : "the pattern is well formed";
}
