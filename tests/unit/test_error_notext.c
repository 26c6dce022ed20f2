/* test_error_notext.c — error.c as a flash-bound device builds it
 * (TKR_DIAG_TEXT 0, `make cross-m4`): codes as text, no sentences. The
 * source is compiled here with that setting, so the host library (with
 * text) is not involved. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#define TKR_DIAG_TEXT 0
#include "error.c"

static void test_strerror_gives_the_code(void **state)
{
    char want[16];
    int rc;
    (void)state;

    assert_string_equal(tkr_strerror(0), "0");
    assert_string_equal(tkr_strerror(TKR_E_INVALID_ARG), "-1");
    assert_string_equal(tkr_strerror(TKR_E_CERT), "-29");
    assert_string_equal(tkr_strerror(TKR_E_UNSUPPORTED), "-35");
    /* Every entry where its code says: the fixed stride holds. */
    for (rc = 0; rc >= TKR_E_LAST; rc--) {
        snprintf(want, sizeof(want), "%d", rc);
        assert_string_equal(tkr_strerror(rc), want);
    }
    assert_string_equal(tkr_strerror(TKR_E_LAST - 1), "?");
    assert_string_equal(tkr_strerror(1), "?");
}

static void test_diag_keeps_the_name_not_the_sentence(void **state)
{
    tkr_diag_t d;
    (void)state;

    tkr_diag_clear(&d);
    assert_int_equal(tkr_diag(&d, TKR_E_CLAIM_TYPE, "exp", "must be a number"),
                     TKR_E_CLAIM_TYPE);
    assert_string_equal(d.name, "exp");
    assert_string_equal(d.msg, "");
    assert_int_equal(tkr_diag(NULL, TKR_E_JSON, "x", "y"), TKR_E_JSON);
    assert_string_equal(TKR_TEXT("words"), "");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_strerror_gives_the_code),
        cmocka_unit_test(test_diag_keeps_the_name_not_the_sentence),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
