/* test_issue.c — CSR proof of possession and the issued certificate's
 * profile. The requests are made by openssl (tests/vectors/csr/make.sh);
 * the CA is FLARE's cert.json vector. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "test_util.h"

#include <mbedtls/oid.h>
#include <mbedtls/x509_crt.h>
#include <mbedtls/x509_csr.h>

#include "compat.h"
#include "tkr_port_posix.h"
#include "tokenroll/certjson.h"
#include "tokenroll/certwrite.h"
#include "tokenroll/error.h"
#include "tokenroll/csr.h"
#include "tokenroll/issue.h"
#include "tokenroll/signer.h"

#define V "tests/vectors/csr/"

static tkr_posix_t port_ctx = {TKR_LOG_ERROR, -1};
static tkr_port_t port;

static int check_file(const char *path)
{
    static char buf[TKR_ISSUE_CSR_MAX + 16];
    mbedtls_x509_csr csr;
    size_t n = read_file(path, buf, sizeof(buf));
    tkr_diag_t why;
    int rc;

    mbedtls_x509_csr_init(&csr);
    tkr_diag_clear(&why);
    /* PEM wants its NUL counted; DER must not have it. */
    rc = tkr_csr_check(&csr, (const uint8_t *)buf, strstr(path, ".der") ? n : n + 1, &why);
    if (rc != 0)
        assert_true(why.msg[0] != '\0');
    mbedtls_x509_csr_free(&csr);
    return rc;
}

static void test_csr_accepts_p256_p384_rsa2048(void **state)
{
    (void)state;
    assert_int_equal(check_file(V "p256.csr"), 0);
    assert_int_equal(check_file(V "p384.csr"), 0);
    assert_int_equal(check_file(V "rsa2048.csr"), 0);
}

static void test_csr_refuses_other_keys(void **state)
{
    (void)state;
    assert_int_equal(check_file(V "p521.csr"), TKR_E_KEY_ALG);
    assert_int_equal(check_file(V "rsa1024.csr"), TKR_E_KEY_ALG);
    /* mbedTLS does not parse Ed25519 keys at all. */
    assert_int_equal(check_file(V "ed25519.csr"), TKR_E_CERT);
}

static void test_csr_refuses_sha1(void **state)
{
    (void)state;
    assert_int_equal(check_file(V "p256_sha1.csr"), TKR_E_UNSUPPORTED);
}

static void test_csr_rfc2986_signature_by_another_key_fails(void **state)
{
    (void)state;
    assert_int_equal(check_file(V "rsa2048_other_key_sig.der"), TKR_E_SIGNATURE);
    assert_int_equal(check_file(V "rsa2048_tampered.der"), TKR_E_SIGNATURE);
}

static void test_csr_refuses_garbage_and_oversize(void **state)
{
    static char big[TKR_ISSUE_CSR_MAX + 2];
    mbedtls_x509_csr csr;

    (void)state;
    mbedtls_x509_csr_init(&csr);
    assert_int_equal(tkr_csr_check(&csr, (const uint8_t *)"hello", 6, NULL), TKR_E_CERT);
    memset(big, 'A', sizeof(big));
    assert_int_equal(tkr_csr_check(&csr, (const uint8_t *)big, sizeof(big), NULL), TKR_E_TOO_LARGE);
    mbedtls_x509_csr_free(&csr);
}

/* A stand-in host verifier: records what it was given, answers `answer`. */
typedef struct {
    int calls, answer;
    mbedtls_md_type_t md;
    size_t spki_len, hash_len, sig_len;
} spy_t;

static int spy_verify(void *ctx, mbedtls_md_type_t md, const uint8_t *spki, size_t spki_len,
                      const uint8_t *hash, size_t hash_len, const uint8_t *sig, size_t sig_len)
{
    spy_t *s = ctx;
    (void)spki;
    (void)hash;
    (void)sig;
    s->calls++;
    s->md = md;
    s->spki_len = spki_len;
    s->hash_len = hash_len;
    s->sig_len = sig_len;
    return s->answer;
}

static void test_csr_host_verifier_decides_the_signature(void **state)
{
    static char buf[TKR_ISSUE_CSR_MAX + 16];
    mbedtls_x509_csr csr;
    spy_t spy = {0, -1, MBEDTLS_MD_NONE, 0, 0, 0};
    tkr_sig_verifier_t v = {spy_verify, &spy};
    size_t n = read_file(V "p384.csr", buf, sizeof(buf));

    (void)state;
    mbedtls_x509_csr_init(&csr);
    assert_int_equal(tkr_csr_check_with(&csr, (const uint8_t *)buf, n + 1, &v, NULL),
                     TKR_E_SIGNATURE);
    assert_int_equal(spy.calls, 1);
    assert_int_equal(spy.md, MBEDTLS_MD_SHA384);
    assert_int_equal(spy.spki_len, 120); /* P-384 SubjectPublicKeyInfo */
    assert_int_equal(spy.hash_len, 48); /* the SHA-384 of the request info */
    mbedtls_x509_csr_free(&csr);
    /* Key and hash rules still come first: a P-521 request never reaches it. */
    n = read_file(V "p521.csr", buf, sizeof(buf));
    mbedtls_x509_csr_init(&csr);
    spy.answer = 0;
    assert_int_equal(tkr_csr_check_with(&csr, (const uint8_t *)buf, n + 1, &v, NULL),
                     TKR_E_KEY_ALG);
    assert_int_equal(spy.calls, 1);
    mbedtls_x509_csr_free(&csr);
}

/* ---- issuing ---- */

static tkr_ca_t ca;
static tkr_signer_t signer;

/* FLARE's CA, its key behind an mbedTLS signer as the service holds it. */
static int ca_setup(void **state)
{
    static char scratch[2 * TKR_CERTJSON_MAX], pem[4096];
    size_t len;
    (void)state;
    tkr_ca_init(&ca);
    tkr_signer_init(&signer);
    if (tkr_certjson_load(&ca, scratch, sizeof(scratch), "tests/vectors/flare", &port, NULL) != 0 ||
        tkr_key_write_pem(pem, sizeof(pem), &len, &ca.key, NULL) != 0 ||
        tkr_signer_load_mbedtls(&signer, (const uint8_t *)pem, len + 1, &port) != 0)
        return -1;
    return tkr_signer_check_cert(&signer, &ca.cert, &port);
}

static int ca_teardown(void **state)
{
    (void)state;
    tkr_signer_free(&signer);
    tkr_ca_free(&ca);
    return 0;
}

/* The subject's unstructuredName (PKCS#9, 1.2.840.113549.1.9.2) equals v;
 * read from the parsed name, as mbedTLS versions print it differently. */
static int has_role(const mbedtls_x509_crt *crt, const char *v)
{
    static const char oid[] = MBEDTLS_OID_PKCS9 "\x02";
    const mbedtls_x509_name *n;
    for (n = &crt->subject; n != NULL; n = n->next)
        if (n->oid.len == sizeof(oid) - 1 && memcmp(n->oid.p, oid, n->oid.len) == 0)
            return n->val.len == strlen(v) && memcmp(n->val.p, v, n->val.len) == 0;
    return 0;
}

static int has_eku(const mbedtls_x509_crt *crt, const char *oid, size_t len)
{
    const mbedtls_x509_sequence *s;
    for (s = &crt->ext_key_usage; s != NULL; s = s->next)
        if (s->buf.len == len && memcmp(s->buf.p, oid, len) == 0)
            return 1;
    return 0;
}

/* Issue for the CSR file's key and parse the result. */
static void issue(mbedtls_x509_crt *crt, tkr_issued_t *is, const char *csr_path,
                  const char *name, tkr_subject_type_t type, const char *role,
                  int64_t now, int64_t days)
{
    static char buf[TKR_ISSUE_CSR_MAX + 16], pem[TKR_ISSUE_PEM_MAX];
    mbedtls_x509_csr csr;
    tkr_issue_req_t req = {NULL, name, "org-a", role, type, now, days, 0, 0, 0};
    size_t n = read_file(csr_path, buf, sizeof(buf)), len = 0;

    mbedtls_x509_csr_init(&csr);
    assert_int_equal(tkr_csr_check(&csr, (const uint8_t *)buf, n + 1, NULL), 0);
    req.key = &csr.pk;
    assert_int_equal(tkr_issue_cert(pem, sizeof(pem), &len, is, &req, &ca.cert, &signer, &port), 0);
    assert_int_equal(len, strlen(pem));
    mbedtls_x509_crt_init(crt);
    assert_int_equal(mbedtls_x509_crt_parse(crt, (const uint8_t *)pem, len + 1), 0);
    /* The certified key is the request's. */
    assert_int_equal(mbedtls_pk_get_type(&crt->pk), mbedtls_pk_get_type(&csr.pk));
    /* The record, taken from the writer, is what the certificate says. */
    {
        tkr_issued_t parsed;
        assert_int_equal(tkr_issued_describe(&parsed, (const uint8_t *)pem, len + 1), 0);
        assert_string_equal(is->serial, parsed.serial);
        assert_string_equal(is->fingerprint, parsed.fingerprint);
        assert_true(is->not_after == parsed.not_after);
    }
    mbedtls_x509_csr_free(&csr);
}

static void test_issue_client_profile_from_token_not_csr(void **state)
{
    mbedtls_x509_crt crt;
    tkr_issued_t is;
    char dn[256];
    uint32_t flags = 0;
    const int64_t now = 1767225600; /* 2026-01-01 */

    (void)state;
    /* The CSR says CN=site-1, O=ignored-org; the certificate must not. */
    issue(&crt, &is, V "p256.csr", "hospital-7", TKR_SUBJECT_CLIENT, "lead", now, 365);
    assert_true(mbedtls_x509_dn_gets(dn, sizeof(dn), &crt.subject) > 0);
    assert_string_equal(dn, "CN=hospital-7, O=org-a");
    assert_int_equal(mbedtls_x509_crt_verify(&crt, &ca.cert, NULL, NULL, &flags, NULL, NULL) == 0 ||
                         flags == MBEDTLS_X509_BADCERT_EXPIRED,
                     1);
    assert_false(tkr_compat_crt_is_ca(&crt));
    assert_true(has_eku(&crt, MBEDTLS_OID_CLIENT_AUTH, MBEDTLS_OID_SIZE(MBEDTLS_OID_CLIENT_AUTH)));
    assert_false(has_eku(&crt, MBEDTLS_OID_SERVER_AUTH, MBEDTLS_OID_SIZE(MBEDTLS_OID_SERVER_AUTH)));
    assert_int_equal(mbedtls_x509_crt_check_key_usage(&crt, MBEDTLS_X509_KU_DIGITAL_SIGNATURE), 0);
    assert_int_not_equal(mbedtls_x509_crt_check_key_usage(&crt, MBEDTLS_X509_KU_KEY_ENCIPHERMENT), 0);
    /* 16 bytes, positive, as hex in the record. */
    assert_int_equal(crt.serial.len, 16);
    assert_true((crt.serial.p[0] & 0x80) == 0);
    assert_int_equal(strlen(is.serial), 32);
    assert_int_equal(strlen(is.fingerprint), 64);
    /* Five minutes back, 365 days on. */
    assert_true(tkr_x509_epoch(&crt.valid_from) == now - 300);
    assert_true(tkr_x509_epoch(&crt.valid_to) == now + 365 * 86400);
    assert_true(is.not_after == now + 365 * 86400);
    /* SAN: one dNSName [2] holding the name. */
    assert_int_equal(crt.subject_alt_names.buf.tag, MBEDTLS_ASN1_CONTEXT_SPECIFIC | 2);
    assert_int_equal(crt.subject_alt_names.buf.len, strlen("hospital-7"));
    assert_memory_equal(crt.subject_alt_names.buf.p, "hospital-7", strlen("hospital-7"));
    assert_null(crt.subject_alt_names.next);
    mbedtls_x509_crt_free(&crt);
}

static void test_issue_server_rsa_and_admin_role(void **state)
{
    mbedtls_x509_crt crt;
    tkr_issued_t is;
    char dn[256];

    (void)state;
    issue(&crt, &is, V "rsa2048.csr", "10.1.2.3", TKR_SUBJECT_SERVER, "lead", 1767225600, 30);
    assert_true(has_eku(&crt, MBEDTLS_OID_CLIENT_AUTH, MBEDTLS_OID_SIZE(MBEDTLS_OID_CLIENT_AUTH)));
    assert_true(has_eku(&crt, MBEDTLS_OID_SERVER_AUTH, MBEDTLS_OID_SIZE(MBEDTLS_OID_SERVER_AUTH)));
    assert_int_equal(mbedtls_x509_crt_check_key_usage(&crt, MBEDTLS_X509_KU_KEY_ENCIPHERMENT), 0);
    /* A server is no user: no role in its subject. */
    assert_true(mbedtls_x509_dn_gets(dn, sizeof(dn), &crt.subject) > 0);
    assert_false(has_role(&crt, "lead"));
    /* An address gets an iPAddress [7] SAN of 4 bytes. */
    assert_int_equal(crt.subject_alt_names.buf.tag, MBEDTLS_ASN1_CONTEXT_SPECIFIC | 7);
    assert_int_equal(crt.subject_alt_names.buf.len, 4);
    mbedtls_x509_crt_free(&crt);

    issue(&crt, &is, V "p384.csr", "admin@org.example", TKR_SUBJECT_ADMIN, "lead", 1767225600, 30);
    assert_true(has_role(&crt, "lead"));
    mbedtls_x509_crt_free(&crt);
}

static void test_issue_never_outlives_the_ca(void **state)
{
    mbedtls_x509_crt crt;
    tkr_issued_t is;

    (void)state;
    issue(&crt, &is, V "p256.csr", "site-1", TKR_SUBJECT_CLIENT, NULL, 1767225600, 365 * 100);
    assert_true(tkr_x509_epoch(&crt.valid_to) == tkr_x509_epoch(&ca.cert.valid_to));
    mbedtls_x509_crt_free(&crt);
}

static void test_issue_refuses_pattern_type(void **state)
{
    char pem[64];
    size_t len;
    tkr_issued_t is;
    mbedtls_pk_context pk;
    tkr_issue_req_t req = {&pk, "site-*", NULL, NULL, TKR_SUBJECT_PATTERN, 0, 1, 0, 0, 0};

    (void)state;
    mbedtls_pk_init(&pk);
    assert_int_equal(tkr_issue_cert(pem, sizeof(pem), &len, &is, &req, &ca.cert, &signer, &port),
                     TKR_E_INVALID_ARG);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_csr_accepts_p256_p384_rsa2048),
        cmocka_unit_test(test_csr_refuses_other_keys),
        cmocka_unit_test(test_csr_refuses_sha1),
        cmocka_unit_test(test_csr_rfc2986_signature_by_another_key_fails),
        cmocka_unit_test(test_csr_refuses_garbage_and_oversize),
        cmocka_unit_test(test_csr_host_verifier_decides_the_signature),
        cmocka_unit_test(test_issue_client_profile_from_token_not_csr),
        cmocka_unit_test(test_issue_server_rsa_and_admin_role),
        cmocka_unit_test(test_issue_never_outlives_the_ca),
        cmocka_unit_test(test_issue_refuses_pattern_type),
    };

    tkr_port_posix_init(&port, &port_ctx);
    return cmocka_run_group_tests(tests, ca_setup, ca_teardown);
}
