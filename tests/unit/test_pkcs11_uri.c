/* test_pkcs11_uri.c — RFC 7512 PKCS#11 URIs: the examples of §3 and the
 * grammar of §2.3, and what a strict parser refuses. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "tokenroll/error.h"
#include "tokenroll/pkcs11.h"

static tkr_p11_uri_t u;

static int parse(const char *s)
{
    tkr_diag_t d;
    int rc;

    tkr_diag_clear(&d);
    rc = tkr_p11_uri_parse(&u, s, strlen(s), &d);
    /* every failure says why; success says nothing */
    if (rc != 0)
        assert_true(d.msg[0] != '\0');
    else
        assert_true(d.msg[0] == '\0');
    return rc;
}

static void test_rfc7512_s3_empty_uri_matches_everything(void **st)
{
    (void)st;
    assert_int_equal(parse("pkcs11:"), 0);
    assert_int_equal(u.has, 0);
    assert_int_equal(parse("PKCS11:"), 0); /* RFC 3986 §3.1: schemes are case-insensitive */
}

static void test_rfc7512_s3_object_and_type(void **st)
{
    (void)st;
    assert_int_equal(parse("pkcs11:object=my-pubkey;type=public"), 0);
    assert_int_equal(u.has, TKR_P11_OBJECT | TKR_P11_TYPE);
    assert_string_equal(u.object, "my-pubkey");
    assert_string_equal(u.type, "public");
    assert_int_equal(parse("pkcs11:object=my-key;type=private?pin-source=file:/etc/token"), 0);
    assert_string_equal(u.pin_source, "file:/etc/token");
}

static void test_rfc7512_s3_full_token_example(void **st)
{
    static const uint8_t id[] = {0x69, 0x95, 0x3e, 0x5c, 0xf4, 0xbd, 0xec, 0x91};

    (void)st;
    assert_int_equal(parse("pkcs11:token=The%20Software%20PKCS%2311%20Softtoken;"
                           "manufacturer=Snake%20Oil,%20Inc.;model=1.0;object=my-certificate;"
                           "type=cert;id=%69%95%3E%5C%F4%BD%EC%91;serial="
                           "?pin-source=file:/etc/token_pin"),
                     0);
    assert_string_equal(u.token, "The Software PKCS#11 Softtoken");
    assert_string_equal(u.manufacturer, "Snake Oil, Inc.");
    assert_string_equal(u.model, "1.0");
    assert_string_equal(u.serial, "");
    assert_true(u.has & TKR_P11_SERIAL);
    assert_int_equal(u.id_len, sizeof(id));
    assert_memory_equal(u.id, id, sizeof(id));
    assert_string_equal(u.pin_source, "file:/etc/token_pin");
}

static void test_rfc7512_s3_module_and_pin_attributes(void **st)
{
    (void)st;
    assert_int_equal(parse("pkcs11:object=my-sign-key;type=private?module-name=mypkcs11"), 0);
    assert_string_equal(u.module_name, "mypkcs11");
    assert_int_equal(parse("pkcs11:object=my-sign-key;type=private?module-path=/mnt/libmypkcs11.so.1"), 0);
    assert_string_equal(u.module_path, "/mnt/libmypkcs11.so.1");
    assert_int_equal(parse("pkcs11:token=Software%20PKCS%2311%20softtoken;"
                           "manufacturer=Snake%20Oil,%20Inc.?pin-value=the-pin"), 0);
    assert_string_equal(u.pin_value, "the-pin");
    /* '&' splits the query; '/' and '?' may stand in it unescaped */
    assert_int_equal(parse("pkcs11:object=a?module-path=/usr/lib/x.so&pin-source=file:/p?q"), 0);
    assert_string_equal(u.module_path, "/usr/lib/x.so");
    assert_string_equal(u.pin_source, "file:/p?q");
}

static void test_rfc7512_s3_slot_and_library_attributes(void **st)
{
    (void)st;
    assert_int_equal(parse("pkcs11:slot-description=Sun%20Metaslot"), 0);
    assert_string_equal(u.slot_description, "Sun Metaslot");
    assert_int_equal(parse("pkcs11:library-manufacturer=Snake%20Oil,%20Inc.;"
                           "library-description=Soft%20Token%20Library;library-version=1.23"), 0);
    assert_string_equal(u.lib_manufacturer, "Snake Oil, Inc.");
    assert_string_equal(u.lib_description, "Soft Token Library");
    assert_int_equal(u.lib_major, 1);
    assert_int_equal(u.lib_minor, 23);
    assert_true(u.lib_has_minor);
    assert_int_equal(parse("pkcs11:token=My%20token%25%20created%20by%20Joe;library-version=3;"
                           "id=%01%02%03%Ba%dd%Ef%0F?pin-value=hunter2"), 0);
    assert_string_equal(u.token, "My token% created by Joe");
    assert_int_equal(u.lib_major, 3);
    assert_false(u.lib_has_minor);
    assert_int_equal(u.id_len, 7);
    assert_int_equal(u.id[3], 0xba);
    assert_int_equal(parse("pkcs11:slot-id=4294967296;slot-manufacturer=ACME"), 0);
    assert_int_equal(u.slot_id, 4294967296ul);
}

static void test_rfc7512_s3_utf8_and_escaped_separators(void **st)
{
    (void)st;
    assert_int_equal(parse("pkcs11:token=A%20name%20with%20a%20substring%20%25%3B;"
                           "object=my-certificate;type=cert"), 0);
    assert_string_equal(u.token, "A name with a substring %;");
    /* §3's UTF-8 example is 34 bytes: more than a CK_TOKEN_INFO label
     * holds (32), so as token= it could match nothing and is refused;
     * as an object label it decodes. */
    assert_int_equal(parse("pkcs11:token=Name%20with%20a%20small%20A%20with%20acute:%20%C3%A1;"
                           "object=my-certificate;type=cert"), TKR_E_INVALID_ARG);
    assert_int_equal(parse("pkcs11:object=Name%20with%20a%20small%20A%20with%20acute:%20%C3%A1;"
                           "type=cert"), 0);
    assert_string_equal(u.object, "Name with a small A with acute: \xc3\xa1");
}

static void test_malformed_uris_are_refused(void **st)
{
    static const char *const bad[] = {
        "",                                   /* no scheme */
        "pkcs12:token=a",
        "pkcs11",
        "pkcs11:token",                       /* no '=' */
        "pkcs11:=a",                          /* no name */
        "pkcs11:token=a;;object=b",           /* empty attribute */
        "pkcs11:token=a;",                    /* trailing separator */
        "pkcs11:token=a?",                    /* empty query */
        "pkcs11:token=a?pin-value=1&",
        "pkcs11:token=a;token=b",             /* repeated */
        "pkcs11:tokn=a",                      /* unknown */
        "pkcs11:vendor-aaa=value-a",          /* RFC 7512 §2.4: matches nothing */
        "pkcs11:token=a?pin-sourc=file:/p",   /* a typo must not pass */
        "pkcs11:token=a%2",                   /* cut escape */
        "pkcs11:token=a%",
        "pkcs11:token=a%g0",                  /* not hex */
        "pkcs11:token=a b",                   /* space must be %20 */
        "pkcs11:token=a/b",                   /* '/' only in the query */
        "pkcs11:token=a%00b",                 /* NUL in a text value */
        "pkcs11:module-path=/x.so",           /* query attribute in the path */
        "pkcs11:?token=a",                    /* path attribute in the query */
        "pkcs11:slot-id=12a",
        "pkcs11:slot-id=",
        "pkcs11:slot-id=99999999999999999999999",
        "pkcs11:library-version=1.2.3",
        "pkcs11:library-version=.2",
        "pkcs11:library-version=256",
        "pkcs11:token=123456789012345678901234567890123", /* 33 > CK_TOKEN_INFO label */
        "pkcs11:serial=12345678901234567",    /* 17 > 16 */
    };
    size_t i;

    (void)st;
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        memset(&u, 0x55, sizeof(u));
        if (parse(bad[i]) != TKR_E_INVALID_ARG)
            fail_msg("accepted: %s", bad[i]);
        /* nothing half-parsed is left behind (a pin-value included) */
        assert_int_equal(u.has, 0);
        assert_int_equal(u.pin_value[0], 0);
    }
}

static void test_limits_and_embedded_nul(void **st)
{
    static char big[TKR_P11_URI_MAX + 2];
    tkr_diag_t d;

    (void)st;
    memcpy(big, "pkcs11:object=", 14);
    memset(big + 14, 'a', sizeof(big) - 15);
    tkr_diag_clear(&d);
    assert_int_equal(tkr_p11_uri_parse(&u, big, sizeof(big) - 1, &d), TKR_E_INVALID_ARG);
    assert_string_equal(d.msg, "the URI is too long");
    assert_int_equal(tkr_p11_uri_parse(&u, "pkcs11:token=a\0b", 16, &d), TKR_E_INVALID_ARG);
    /* the attribute at fault is named */
    tkr_diag_clear(&d);
    assert_int_equal(tkr_p11_uri_parse(&u, "pkcs11:token=a;objekt=b", 23, &d), TKR_E_INVALID_ARG);
    assert_string_equal(d.name, "objekt");
    assert_string_equal(d.msg, "unknown attribute");
    /* the id is bytes: a %00 is allowed there, and 64 fit */
    assert_int_equal(parse("pkcs11:id=%00%01"), 0);
    assert_int_equal(u.id_len, 2);
    assert_int_equal(tkr_p11_uri_parse(NULL, "pkcs11:", 7, NULL), TKR_E_INVALID_ARG);
    assert_int_equal(tkr_p11_uri_parse(&u, "pkcs11:x", 8, NULL), TKR_E_INVALID_ARG);
    assert_true(tkr_p11_is_uri("Pkcs11:object=a"));
    assert_false(tkr_p11_is_uri("/etc/pkcs11:key"));
    assert_false(tkr_p11_is_uri("pkcs1"));
    assert_false(tkr_p11_is_uri(NULL));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc7512_s3_empty_uri_matches_everything),
        cmocka_unit_test(test_rfc7512_s3_object_and_type),
        cmocka_unit_test(test_rfc7512_s3_full_token_example),
        cmocka_unit_test(test_rfc7512_s3_module_and_pin_attributes),
        cmocka_unit_test(test_rfc7512_s3_slot_and_library_attributes),
        cmocka_unit_test(test_rfc7512_s3_utf8_and_escaped_separators),
        cmocka_unit_test(test_malformed_uris_are_refused),
        cmocka_unit_test(test_limits_and_embedded_nul),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
