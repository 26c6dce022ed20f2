/* fuzz_cidr.c — libFuzzer harness for what a device matches against a
 * token: addresses, CIDR blocks (lib/cidr.c) and shell patterns
 * (lib/glob.c).
 *
 * The input is an address or block text; split at its first newline it is
 * also a pattern and a name. Invariants (abort on violation):
 *   - tkr_ip_parse gives 4 or 16 bytes, and agrees with tkr_ip_valid;
 *   - a parsed block formats within TKR_CIDR_STR_MAX, its text parses back
 *     to the same block (one form per block), its host bits are zero, and
 *     it contains its own network address; one byte short of the text is
 *     TKR_E_BUFFER_TOO_SMALL;
 *   - an address parses as a block of the full prefix that contains it;
 *   - "*" matches every name, a pattern tkr_glob_check accepts and that has
 *     no special character matches exactly itself, and tkr_glob_problem
 *     names a reason exactly when tkr_glob_check refuses.
 * Texts are heap copies of the exact length so ASan sees any overread. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tokenroll/cidr.h"
#include "tokenroll/error.h"
#include "tokenroll/glob.h"

#include "fuzz_check.h"

static char *copy(const uint8_t *p, size_t n)
{
    char *s = malloc(n + 1);

    CHECK(s != NULL);
    memcpy(s, p, n);
    s[n] = '\0';
    return s;
}

static void block(const char *s, size_t n)
{
    char text[TKR_CIDR_STR_MAX], *exact;
    tkr_cidr_t c, again;
    size_t len, i;
    unsigned bits;

    if (tkr_cidr_parse(&c, s, n) != 0)
        return;
    CHECK(c.family == 4 || c.family == 6);
    CHECK(c.prefix <= (c.family == 4 ? 32u : 128u));
    for (i = 0; i < 16; i++) {
        bits = i * 8 >= c.prefix ? 0 : c.prefix - (unsigned)i * 8;
        if (bits < 8)
            CHECK((c.addr[i] & (0xffu >> bits)) == 0);
    }
    CHECK(tkr_cidr_format(text, sizeof(text), &c) == 0);
    len = strlen(text);
    CHECK(tkr_cidr_parse(&again, text, len) == 0);
    CHECK(again.family == c.family && again.prefix == c.prefix &&
          memcmp(again.addr, c.addr, 16) == 0);
    exact = malloc(len);
    CHECK(exact != NULL);
    CHECK(tkr_cidr_format(exact, len, &c) == TKR_E_BUFFER_TOO_SMALL);
    free(exact);
    /* the network address is inside its own block */
    *strchr(text, '/') = '\0';
    CHECK(tkr_cidr_contains(&c, text) == 1);
}

static void address(const char *s, size_t n)
{
    uint8_t a[16];
    size_t len = 99;
    tkr_cidr_t c;
    int rc = tkr_ip_parse(a, &len, s, n);

    CHECK(rc == 0 || rc == TKR_E_POLICY);
    if (rc != 0) {
        CHECK(len == 0);
        if (strlen(s) == n)
            CHECK(!tkr_ip_valid(s));
        return;
    }
    CHECK(len == 4 || len == 16);
    CHECK(strlen(s) == n); /* no NUL inside an address */
    CHECK(tkr_ip_valid(s));
    CHECK(tkr_cidr_parse(&c, s, n) == 0);
    CHECK(c.prefix == (c.family == 4 ? 32u : 128u));
    CHECK(tkr_cidr_contains(&c, s) == 1);
}

static void patterns(const char *pattern, const char *name)
{
    const char *why = tkr_glob_problem(pattern);
    int ok = tkr_glob_check(pattern) == 0;

    CHECK(why != NULL);
    CHECK(tkr_glob_match("*", name) == 1);
    (void)tkr_glob_match(pattern, name);
    if (ok && strpbrk(pattern, "*?[\\") == NULL) {
        CHECK(tkr_glob_match(pattern, pattern) == 1);
        CHECK(tkr_glob_match(pattern, name) == (strcmp(pattern, name) == 0));
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = copy(data, size), *pattern, *name;
    const uint8_t *nl = memchr(data, '\n', size);
    size_t k = nl != NULL ? (size_t)(nl - data) : size;

    block(s, size);
    address(s, size);
    pattern = copy(data, k);
    name = copy(data + (k < size ? k + 1 : size), k < size ? size - k - 1 : 0);
    patterns(pattern, name);
    free(pattern);
    free(name);
    free(s);
    return 0;
}
