/* test_enroll_lean.c — the enrollment flow as `make cross-m4` builds it
 * (TKR_DEVICE_LEAN 1, tokenroll/config.h): token.c and enroll.c are
 * compiled here with that setting, every test of test_enroll.c runs
 * against them, and the reading the device leaves to the service is
 * shown to be left out. */
#define _GNU_SOURCE
#define TKR_DEVICE_LEAN 1
#include "token.c"
#include "enroll.c"

static void test_token_read_leaves_the_rest(void **state);
#define ENROLL_MORE_TESTS cmocka_unit_test(test_token_read_leaves_the_rest),
#include "test_enroll.c"

/* FLARE's token carries a policy; the device build does not read it, nor
 * roles or source_ips, and max_uses stays 1. What the flow needs is read. */
static void test_token_read_leaves_the_rest(void **state)
{
    static tkr_jwt_t jwt;
    tkr_token_info_t info;
    (void)state;

    read_file("tests/vectors/flare/fixed_site-1.jwt", site1_jwt, sizeof(site1_jwt));
    tkr_jwt_init(&jwt);
    assert_int_equal(tkr_jwt_parse(&jwt, site1_jwt, strlen(site1_jwt), NULL), 0);
    assert_true(tkr_jwt_claim(&jwt, "policy") >= 0);
    assert_int_equal(tkr_token_read(&info, &jwt), 0);
    assert_string_equal(info.subject, "site-1");
    assert_true(info.has_type && info.type == TKR_SUBJECT_CLIENT);
    assert_true(info.has_exp && info.has_iat);
    assert_int_equal(info.exp - info.iat, 7 * 86400);
    assert_int_equal(info.policy, -1);
    assert_int_equal(info.roles, -1);
    assert_int_equal(info.source_ips, -1);
    assert_int_equal(info.policy_project, -1);
    assert_int_equal(info.policy_version, -1);
    assert_int_equal(info.max_uses, 1);
    tkr_jwt_free(&jwt);
}
