/* test_certjson.c — the project's root CA: state/cert.json as FLARE's
 * provisioning writes it, or rootCA.pem + rootCA.key.
 *
 * Independent sources: tests/vectors/flare/ (made by FLARE's own code: a
 * cert.json with a PKCS#1 key, CN=example_project, and a token it signed)
 * and tests/vectors/keys/ (OpenSSL-made keys and an EC CA, README.md). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "test_util.h"

#include <mbedtls/pk.h>
#include <mbedtls/x509_crt.h>

#include "tkr_port_posix.h"
#include "tokenroll/certjson.h"
#include "tokenroll/error.h"
#include "tokenroll/json.h"
#include "tokenroll/jwt.h"
#include "tokenroll/key.h"

#define VEC "tests/vectors/"
#define SCRATCH (2 * TKR_CERTJSON_MAX)

static tkr_posix_t port_ctx = {TKR_LOG_ERROR, -1};
static tkr_port_t port;
static tkr_ca_t ca;
static tkr_diag_t diag;
static tkr_jwt_t jwt;
static char scratch[SCRATCH];
static char json[TKR_CERTJSON_MAX];
static char dir[64];

/* dir/name := the content of the vector file src */
static void copy_in(const char *name, const char *src)
{
    static char buf[TKR_CERTJSON_MAX];
    char path[256];
    size_t n = read_file(src, buf, sizeof(buf));

    assert_true(snprintf(path, sizeof(path), "%s/%s", dir, name) < (int)sizeof(path));
    write_file(path, buf, n);
}

static void make_dir(void)
{
    strcpy(dir, "/tmp/tkr_certjson_XXXXXX");
    assert_non_null(mkdtemp(dir));
}

static void remove_dir(void)
{
    char cmd[128];
    assert_true(snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir) < (int)sizeof(cmd));
    assert_int_equal(system(cmd), 0);
}

static int all_zero(const char *buf, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++)
        if (buf[i] != 0)
            return 0;
    return 1;
}

static int ends_with(const char *s, const char *tail)
{
    size_t a = strlen(s), b = strlen(tail);
    return a >= b && strcmp(s + a - b, tail) == 0;
}

/* {"root_cert": <cert file>, "root_pri_key": <key file>} as FLARE writes it
 * (either member left out when its path is NULL). */
static size_t cert_json(const char *cert_path, const char *key_path)
{
    static char cert[8192], key[8192];
    tkr_jsonw_t w;
    size_t n = 0;

    tkr_jsonw_init(&w, json, sizeof(json), TKR_JSONW_ASCII);
    tkr_jsonw_obj_begin(&w);
    if (cert_path != NULL) {
        read_file(cert_path, cert, sizeof(cert));
        tkr_jsonw_key(&w, "root_cert");
        tkr_jsonw_str(&w, cert);
    }
    if (key_path != NULL) {
        read_file(key_path, key, sizeof(key));
        tkr_jsonw_key(&w, "root_pri_key");
        tkr_jsonw_str(&w, key);
    }
    tkr_jsonw_obj_end(&w);
    assert_int_equal(tkr_jsonw_finish(&w, &n), 0);
    return n;
}

static int parse_json(size_t n)
{
    tkr_ca_free(&ca);
    tkr_ca_init(&ca);
    tkr_diag_clear(&diag);
    return tkr_certjson_parse(&ca, scratch, sizeof(scratch), json, n, &port, &diag);
}

static int load_dir(const char *d)
{
    tkr_ca_free(&ca);
    tkr_ca_init(&ca);
    tkr_diag_clear(&diag);
    return tkr_certjson_load(&ca, scratch, sizeof(scratch), d, &port, &diag);
}

static void expect_what(const char *needle)
{
    if (strstr(diag.msg, needle) == NULL)
        fail_msg("\"%s\" does not mention %s", diag.msg, needle);
}

static int setup(void **state)
{
    (void)state;
    tkr_port_posix_init(&port, &port_ctx);
    tkr_ca_init(&ca);
    tkr_jwt_init(&jwt);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    tkr_ca_free(&ca);
    tkr_jwt_free(&jwt);
    return 0;
}

/* ---- FLARE's cert.json ---- */

static void test_flare_cert_json_loads(void **state)
{
    static char pem[4096];
    mbedtls_x509_crt ref;
    size_t n = read_file(VEC "flare/cert.json", json, sizeof(json));
    size_t pl = read_file(VEC "flare/rootCA.pem", pem, sizeof(pem));
    (void)state;

    memset(scratch, 0x55, sizeof(scratch));
    assert_int_equal(parse_json(n), 0);
    assert_string_equal(ca.cn, "example_project");
    assert_int_equal(mbedtls_pk_get_type(&ca.key), MBEDTLS_PK_RSA);
    assert_int_equal(mbedtls_pk_get_bitlen(&ca.key), 2048);
    assert_int_equal(tkr_key_check_pair(&ca.cert.pk, &ca.key, &port, NULL), 0);
    assert_string_equal(diag.msg, "");
    /* the certificate is the one FLARE also wrote as rootCA.pem */
    mbedtls_x509_crt_init(&ref);
    assert_int_equal(mbedtls_x509_crt_parse(&ref, (const unsigned char *)pem, pl + 1), 0);
    assert_int_equal(ref.raw.len, ca.cert.raw.len);
    assert_memory_equal(ref.raw.p, ca.cert.raw.p, ref.raw.len);
    mbedtls_x509_crt_free(&ref);
    /* the scratch held the private key: wiped */
    assert_true(all_zero(scratch, sizeof(scratch)));
}

/* fixed_site-1.jwt: FLARE's TokenService, this CA, iat 1767225600,
 * exp = iat + 7 days (vectors/flare/README.md). */
static void test_flare_token_verifies_with_ca_public_key(void **state)
{
    static const struct {
        const char *file, *sub, *type;
    } toks[] = {
        {VEC "flare/fixed_site-1.jwt", "site-1", "client"},
        {VEC "flare/fixed_admin.jwt", "admin@example.com", "admin"},
    };
    static char text[8192];
    tkr_jwt_rules_t rules = {TKR_CLAIM_EXP | TKR_CLAIM_IAT | TKR_CLAIM_ISS | TKR_CLAIM_SUB |
                                 TKR_CLAIM_JTI,
                             "example_project", NULL, NULL, 0};
    size_t i, n;
    int64_t iat = 0, exp = 0;
    (void)state;

    n = read_file(VEC "flare/cert.json", json, sizeof(json));
    assert_int_equal(parse_json(n), 0);
    for (i = 0; i < sizeof(toks) / sizeof(toks[0]); i++) {
        n = read_file(toks[i].file, text, sizeof(text));
        while (n > 0 && (text[n - 1] == '\n' || text[n - 1] == '\r'))
            n--;
        rules.sub = toks[i].sub;
        assert_int_equal(tkr_jwt_parse(&jwt, text, n, NULL), 0);
        assert_int_equal(jwt.alg, TKR_JWT_RS256);
        assert_int_equal(tkr_json_get_i64(&jwt.doc, &iat, tkr_jwt_claim(&jwt, "iat")), 0);
        assert_int_equal(tkr_json_get_i64(&jwt.doc, &exp, tkr_jwt_claim(&jwt, "exp")), 0);
        assert_true(iat == 1767225600);
        assert_true(exp == 1767830400);
        assert_true(tkr_json_str_eq(&jwt.doc, tkr_jwt_claim(&jwt, "subject_type"),
                                    toks[i].type));
        assert_int_equal(tkr_json_type(&jwt.doc, tkr_jwt_claim(&jwt, "policy")),
                         TKR_JSON_OBJECT);
        assert_int_equal(tkr_jwt_verify(&jwt, TKR_JWT_RS256, &ca.cert.pk, &rules, iat, NULL), 0);
        assert_int_equal(tkr_jwt_verify(&jwt, TKR_JWT_RS256, &ca.cert.pk, &rules, exp - 1, NULL), 0);
        assert_int_equal(tkr_jwt_verify(&jwt, TKR_JWT_RS256, &ca.cert.pk, &rules, exp, NULL),
                         TKR_E_EXPIRED);
        assert_int_equal(tkr_jwt_verify(&jwt, TKR_JWT_RS256, &ca.cert.pk, &rules, iat - 1, NULL),
                         TKR_E_IAT_FUTURE);
        /* the private key held by the CA verifies as well */
        assert_int_equal(tkr_jwt_verify_sig(&jwt, TKR_JWT_RS256, &ca.key), 0);
        assert_int_equal(tkr_jwt_verify_sig(&jwt, TKR_JWT_ES256, &ca.cert.pk), TKR_E_JWT_ALG);
    }
    assert_true(tkr_json_str_eq(&jwt.doc, tkr_jwt_claim(&jwt, "jti"),
                                "00000000-0000-4000-8000-000000000002"));
    rules.iss = "another_project";
    assert_int_equal(tkr_jwt_verify(&jwt, TKR_JWT_RS256, &ca.cert.pk, &rules, iat, NULL), TKR_E_ISS);
}

/* The tokens FLARE minted with its built-in policy, same CA: signatures. */
static void test_flare_minted_tokens_verify_with_ca_public_key(void **state)
{
    static const char *const files[] = {
        VEC "flare/token_client_site-1.jwt", VEC "flare/token_admin.jwt",
        VEC "flare/token_relay_24h.jwt", VEC "flare/token_pattern.jwt",
    };
    static char text[8192];
    size_t i, n;
    (void)state;

    n = read_file(VEC "flare/cert.json", json, sizeof(json));
    assert_int_equal(parse_json(n), 0);
    for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        n = read_file(files[i], text, sizeof(text));
        while (n > 0 && (text[n - 1] == '\n' || text[n - 1] == '\r'))
            n--;
        assert_int_equal(tkr_jwt_parse(&jwt, text, n, NULL), 0);
        assert_int_equal(tkr_jwt_verify_sig(&jwt, TKR_JWT_RS256, &ca.cert.pk), 0);
    }
}

/* ---- key forms ---- */

static void test_cert_json_with_pkcs8_and_ec_keys_loads(void **state)
{
    (void)state;
    assert_int_equal(parse_json(cert_json(VEC "flare/rootCA.pem",
                                          VEC "keys/flare_rootCA_pkcs8.key")),
                     0);
    assert_string_equal(ca.cn, "example_project");
    assert_int_equal(parse_json(cert_json(VEC "keys/ec_ca.pem", VEC "keys/ec_ca.key")), 0);
    assert_string_equal(ca.cn, "tokenroll_test_ec_ca");
    assert_int_equal(mbedtls_pk_get_type(&ca.key), MBEDTLS_PK_ECKEY);
    assert_int_equal(parse_json(cert_json(VEC "keys/ec_ca.pem", VEC "keys/ec_ca_sec1.key")), 0);
    assert_string_equal(ca.cn, "tokenroll_test_ec_ca");
}

static void test_encrypted_key_is_refused(void **state)
{
    (void)state;
    assert_int_equal(parse_json(cert_json(VEC "keys/ec_ca.pem", VEC "keys/ec_ca_encrypted.key")),
                     TKR_E_KEY);
    expect_what("encrypted");
}

/* ---- errors, each with the diagnostics saying what is wrong ---- */

static void test_missing_root_pri_key_is_named(void **state)
{
    (void)state;
    memset(scratch, 0x55, sizeof(scratch));
    assert_int_equal(parse_json(cert_json(VEC "flare/rootCA.pem", NULL)), TKR_E_NOT_FOUND);
    expect_what("root_pri_key");
    assert_true(all_zero(scratch, sizeof(scratch)));
}

static void test_missing_root_cert_is_named(void **state)
{
    (void)state;
    assert_int_equal(parse_json(cert_json(NULL, VEC "keys/flare_rootCA.key")), TKR_E_NOT_FOUND);
    expect_what("root_cert");
    assert_int_equal(parse_json(cert_json(NULL, NULL)), TKR_E_NOT_FOUND);
    expect_what("root_cert");
}

static void test_members_that_are_not_strings_are_named(void **state)
{
    size_t n;
    (void)state;

    n = (size_t)snprintf(json, sizeof(json), "{\"root_cert\":1,\"root_pri_key\":\"x\"}");
    assert_int_equal(parse_json(n), TKR_E_TYPE);
    expect_what("root_cert");
    n = (size_t)snprintf(json, sizeof(json), "{\"root_cert\":\"x\",\"root_pri_key\":[\"x\"]}");
    assert_int_equal(parse_json(n), TKR_E_TYPE);
    expect_what("root_pri_key");
}

static void test_key_not_matching_certificate_is_refused(void **state)
{
    (void)state;
    assert_int_equal(parse_json(cert_json(VEC "flare/rootCA.pem", VEC "keys/rsa2048_a.pem")),
                     TKR_E_KEY_MISMATCH);
    expect_what("does not belong");
    assert_int_equal(parse_json(cert_json(VEC "flare/rootCA.pem", VEC "keys/ec_ca.key")),
                     TKR_E_KEY_MISMATCH);
    assert_int_equal(parse_json(cert_json(VEC "keys/ec_ca.pem", VEC "keys/p256_a.pem")),
                     TKR_E_KEY_MISMATCH);
    assert_int_equal(parse_json(cert_json(VEC "keys/ec_ca.pem", VEC "keys/flare_rootCA.key")),
                     TKR_E_KEY_MISMATCH);
}

static void test_unparsable_certificate_or_key_is_refused(void **state)
{
    size_t n;
    (void)state;

    n = (size_t)snprintf(json, sizeof(json),
                         "{\"root_cert\":\"-----BEGIN CERTIFICATE-----\\nAAAA\\n"
                         "-----END CERTIFICATE-----\\n\",\"root_pri_key\":\"x\"}");
    assert_int_equal(parse_json(n), TKR_E_CERT);
    expect_what("certificate");
    cert_json(VEC "flare/rootCA.pem", NULL);
    /* the cert and a key that is no PEM at all */
    n = strlen(json);
    json[n - 1] = '\0';
    n = strlen(json);
    n += (size_t)snprintf(json + n, sizeof(json) - n, ",\"root_pri_key\":\"not a key\"}");
    assert_int_equal(parse_json(n), TKR_E_KEY);
    expect_what("private key");
}

static void test_text_that_is_not_a_json_object_is_refused(void **state)
{
    (void)state;
    strcpy(json, "not json");
    assert_int_equal(parse_json(strlen(json)), TKR_E_JSON);
    expect_what("JSON");
    strcpy(json, "[\"root_cert\"]");
    assert_int_equal(parse_json(strlen(json)), TKR_E_TYPE);
    expect_what("JSON object");
    strcpy(json, "{\"root_cert\":\"a\",\"root_cert\":\"b\",\"root_pri_key\":\"c\"}");
    assert_int_equal(parse_json(strlen(json)), TKR_E_JSON_DUPLICATE);
    strcpy(json, "");
    assert_int_equal(parse_json(0), TKR_E_JSON);
}

static void test_scratch_buffer_too_small_is_reported(void **state)
{
    size_t n = read_file(VEC "flare/cert.json", json, sizeof(json));
    (void)state;

    tkr_ca_free(&ca);
    tkr_ca_init(&ca);
    memset(scratch, 0x55, sizeof(scratch));
    tkr_diag_clear(&diag);
    assert_int_equal(tkr_certjson_parse(&ca, scratch, 1000, json, n, &port, &diag),
                     TKR_E_BUFFER_TOO_SMALL);
    assert_string_equal(diag.name, "root_cert");
    expect_what("scratch");
    assert_true(all_zero(scratch, 1000));
    /* the size json.h documents (the text's length) is enough */
    tkr_ca_free(&ca);
    tkr_ca_init(&ca);
    assert_int_equal(tkr_certjson_parse(&ca, scratch, n, json, n, &port, NULL), 0);
}

/* ---- finding the CA in a directory ---- */

static void test_load_finds_state_cert_json(void **state)
{
    char sub[128];
    (void)state;

    make_dir();
    assert_true(snprintf(sub, sizeof(sub), "%s/state", dir) < (int)sizeof(sub));
    assert_int_equal(mkdir(sub, 0700), 0);
    copy_in("state/cert.json", VEC "flare/cert.json");
    memset(scratch, 0x55, sizeof(scratch));
    assert_int_equal(load_dir(dir), 0);
    assert_string_equal(ca.cn, "example_project");
    assert_true(ends_with(ca.source, "/state/cert.json"));
    assert_true(all_zero(scratch, sizeof(scratch)));
    /* state/cert.json wins over a rootCA pair beside it */
    copy_in("rootCA.pem", VEC "keys/ec_ca.pem");
    copy_in("rootCA.key", VEC "keys/ec_ca.key");
    assert_int_equal(load_dir(dir), 0);
    assert_string_equal(ca.cn, "example_project");
    remove_dir();
}

static void test_load_finds_cert_json_at_top(void **state)
{
    (void)state;
    make_dir();
    copy_in("cert.json", VEC "flare/cert.json");
    assert_int_equal(load_dir(dir), 0);
    assert_string_equal(ca.cn, "example_project");
    assert_true(ends_with(ca.source, "/cert.json"));
    remove_dir();
}

static void test_load_root_ca_pem_and_key_pair(void **state)
{
    static const struct {
        const char *cert, *key, *cn;
    } pairs[] = {
        {VEC "flare/rootCA.pem", VEC "keys/flare_rootCA.key", "example_project"},
        {VEC "flare/rootCA.pem", VEC "keys/flare_rootCA_pkcs8.key", "example_project"},
        {VEC "keys/ec_ca.pem", VEC "keys/ec_ca.key", "tokenroll_test_ec_ca"},
        {VEC "keys/ec_ca.pem", VEC "keys/ec_ca_sec1.key", "tokenroll_test_ec_ca"},
    };
    size_t i;
    (void)state;

    for (i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++) {
        make_dir();
        copy_in("rootCA.pem", pairs[i].cert);
        copy_in("rootCA.key", pairs[i].key);
        memset(scratch, 0x55, sizeof(scratch));
        assert_int_equal(load_dir(dir), 0);
        assert_string_equal(ca.cn, pairs[i].cn);
        assert_int_equal(tkr_key_check_pair(&ca.cert.pk, &ca.key, &port, NULL), 0);
        assert_true(all_zero(scratch, sizeof(scratch)));
        remove_dir();
    }
    /* a pair that does not match */
    make_dir();
    copy_in("rootCA.pem", VEC "flare/rootCA.pem");
    copy_in("rootCA.key", VEC "keys/ec_ca.key");
    assert_int_equal(load_dir(dir), TKR_E_KEY_MISMATCH);
    expect_what("does not belong");
    remove_dir();
}

static void test_load_missing_directory_is_not_found(void **state)
{
    (void)state;
    assert_int_equal(load_dir("/nonexistent/tokenroll/ca"), TKR_E_NOT_FOUND);
    expect_what("cert.json");
    /* no CA at all is told apart by a field, never by the message */
    assert_string_equal(diag.name, "state/cert.json");
    assert_string_equal(ca.source, "/nonexistent/tokenroll/ca");
    assert_ptr_equal(diag.file, ca.source);
    /* an existing but empty directory: the same */
    make_dir();
    assert_int_equal(load_dir(dir), TKR_E_NOT_FOUND);
    expect_what("rootCA.pem");
    assert_string_equal(diag.name, "state/cert.json");
    assert_string_equal(ca.source, dir);
    remove_dir();
}

static void test_load_root_ca_key_missing_beside_pem(void **state)
{
    (void)state;
    make_dir();
    copy_in("rootCA.pem", VEC "flare/rootCA.pem");
    assert_int_equal(load_dir(dir), TKR_E_NOT_FOUND);
    expect_what("rootCA.key");
    assert_string_equal(diag.name, "rootCA.key");
    assert_true(ends_with(ca.source, "/rootCA.key"));
    remove_dir();
}

static void test_load_reports_broken_cert_json_instead_of_falling_back(void **state)
{
    (void)state;
    make_dir();
    write_file(strcat(strcpy(json, dir), "/cert.json"), "{\"root_cert\":", 13);
    copy_in("rootCA.pem", VEC "flare/rootCA.pem");
    copy_in("rootCA.key", VEC "keys/flare_rootCA.key");
    assert_int_equal(load_dir(dir), TKR_E_JSON);
    assert_true(ends_with(ca.source, "/cert.json"));
    expect_what("JSON");
    remove_dir();
}

static void test_load_files_too_large_for_scratch_are_named(void **state)
{
    static char big[TKR_CERTJSON_MAX + 16];
    (void)state;

    make_dir();
    copy_in("cert.json", VEC "flare/cert.json");
    tkr_ca_free(&ca);
    tkr_ca_init(&ca);
    /* cert.json is ~3 KiB; 2 KiB of scratch cannot hold it */
    tkr_diag_clear(&diag);
    assert_int_equal(tkr_certjson_load(&ca, scratch, 2048, dir, &port, &diag),
                     TKR_E_BUFFER_TOO_SMALL);
    expect_what("too large");
    remove_dir();

    make_dir();
    memset(big, 'A', sizeof(big));
    write_file(strcat(strcpy(json, dir), "/rootCA.pem"), big, sizeof(big));
    copy_in("rootCA.key", VEC "keys/flare_rootCA.key");
    assert_int_equal(load_dir(dir), TKR_E_BUFFER_TOO_SMALL);
    expect_what("too large");
    assert_true(ends_with(ca.source, "/rootCA.pem"));
    remove_dir();
}

static void test_invalid_arguments(void **state)
{
    tkr_port_t bare;
    (void)state;

    memset(&bare, 0, sizeof(bare));
    assert_int_equal(tkr_certjson_load(NULL, scratch, sizeof(scratch), "/tmp", &port, NULL),
                     TKR_E_INVALID_ARG);
    assert_int_equal(tkr_certjson_load(&ca, NULL, sizeof(scratch), "/tmp", &port, NULL),
                     TKR_E_INVALID_ARG);
    assert_int_equal(tkr_certjson_load(&ca, scratch, sizeof(scratch), NULL, &port, NULL),
                     TKR_E_INVALID_ARG);
    assert_int_equal(tkr_certjson_load(&ca, scratch, sizeof(scratch), "/tmp", NULL, NULL),
                     TKR_E_INVALID_ARG);
    assert_int_equal(tkr_certjson_load(&ca, scratch, sizeof(scratch), "/tmp", &bare, NULL),
                     TKR_E_UNSUPPORTED);
    assert_int_equal(tkr_certjson_parse(&ca, scratch, sizeof(scratch), NULL, 0, &port, NULL),
                     TKR_E_INVALID_ARG);
    assert_int_equal(tkr_ca_load_pem(&ca, NULL, 0, "x", 2, &port, NULL), TKR_E_INVALID_ARG);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_flare_cert_json_loads),
        cmocka_unit_test(test_flare_token_verifies_with_ca_public_key),
        cmocka_unit_test(test_flare_minted_tokens_verify_with_ca_public_key),
        cmocka_unit_test(test_cert_json_with_pkcs8_and_ec_keys_loads),
        cmocka_unit_test(test_encrypted_key_is_refused),
        cmocka_unit_test(test_missing_root_pri_key_is_named),
        cmocka_unit_test(test_missing_root_cert_is_named),
        cmocka_unit_test(test_members_that_are_not_strings_are_named),
        cmocka_unit_test(test_key_not_matching_certificate_is_refused),
        cmocka_unit_test(test_unparsable_certificate_or_key_is_refused),
        cmocka_unit_test(test_text_that_is_not_a_json_object_is_refused),
        cmocka_unit_test(test_scratch_buffer_too_small_is_reported),
        cmocka_unit_test(test_load_finds_state_cert_json),
        cmocka_unit_test(test_load_finds_cert_json_at_top),
        cmocka_unit_test(test_load_root_ca_pem_and_key_pair),
        cmocka_unit_test(test_load_missing_directory_is_not_found),
        cmocka_unit_test(test_load_root_ca_key_missing_beside_pem),
        cmocka_unit_test(test_load_reports_broken_cert_json_instead_of_falling_back),
        cmocka_unit_test(test_load_files_too_large_for_scratch_are_named),
        cmocka_unit_test(test_invalid_arguments),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
