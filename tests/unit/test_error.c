/* test_error.c — the return codes' names and the diagnostics record. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "tokenroll/error.h"

static void test_every_code_has_its_own_name(void **state)
{
    int rc, other;
    (void)state;

    assert_string_equal(tkr_strerror(0), "success");
    assert_string_equal(tkr_strerror(TKR_E_NO_MEMORY), "out of memory");
    assert_string_equal(tkr_strerror(TKR_E_TOO_LARGE), "input too large");
    for (rc = -1; rc >= TKR_E_LAST; rc--) {
        assert_true(strlen(tkr_strerror(rc)) > 0);
        assert_string_not_equal(tkr_strerror(rc), "unknown error");
        for (other = rc - 1; other >= TKR_E_LAST; other--)
            assert_string_not_equal(tkr_strerror(rc), tkr_strerror(other));
    }
    assert_string_equal(tkr_strerror(TKR_E_LAST - 1), "unknown error");
    assert_string_equal(tkr_strerror(1), "unknown error");
}

static void test_diag_sets_what_it_is_given(void **state)
{
    char longer[600];
    tkr_diag_t d;
    (void)state;

    memset(&d, 0x55, sizeof(d));
    tkr_diag_clear(&d);
    assert_string_equal(d.msg, "");
    assert_string_equal(d.name, "");
    assert_null(d.file);
    assert_int_equal(d.has_offset, 0);
    assert_int_equal(d.line, 0);
    assert_int_equal(d.mbedtls, 0);

    assert_int_equal(tkr_diag(&d, TKR_E_POLICY, "role", "is not allowed"), TKR_E_POLICY);
    assert_string_equal(d.name, "role");
    assert_string_equal(d.msg, "is not allowed");
    /* NULL leaves a field as it is: nested calls add, never erase */
    assert_int_equal(tkr_diag(&d, TKR_E_EXPIRED, "exp", NULL), TKR_E_EXPIRED);
    assert_string_equal(d.name, "exp");
    assert_string_equal(d.msg, "is not allowed");
    /* truncated to fit, always terminated */
    memset(longer, 'm', sizeof(longer) - 1);
    longer[sizeof(longer) - 1] = '\0';
    tkr_diag(&d, TKR_E_JSON, longer, longer);
    assert_int_equal(strlen(d.msg), sizeof(d.msg) - 1);
    assert_int_equal(strlen(d.name), sizeof(d.name) - 1);
    /* optional: without a record the code still comes back */
    assert_int_equal(tkr_diag(NULL, TKR_E_KEY, "k", "m"), TKR_E_KEY);
    tkr_diag_clear(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_code_has_its_own_name),
        cmocka_unit_test(test_diag_sets_what_it_is_given),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
