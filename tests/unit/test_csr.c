/* test_csr.c — key generation and PKCS#10 requests: the request parses,
 * names what was asked, is signed by the key it carries (mbedTLS and
 * openssl both check), and failures leave nothing half made. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <mbedtls/oid.h>
#include <mbedtls/x509_csr.h>

#include "compat.h"
#include "test_util.h"
#include "tkr_port_posix.h"
#include "tokenroll/csr.h"
#include "tokenroll/error.h"

static tkr_posix_t ctx = {TKR_LOG_ERROR, -1};
static tkr_port_t port;
static char pem[TKR_CSR_PEM_MAX];

static int setup(void **state)
{
    (void)state;
    tkr_port_posix_init(&port, &ctx);
    return 0;
}

/* The value of attribute oid in a parsed name, or NULL. */
static const mbedtls_x509_name *find_name(const mbedtls_x509_name *n,
                                          const char *oid, size_t oid_len)
{
    for (; n != NULL; n = n->next)
        if (n->oid.len == oid_len && memcmp(n->oid.p, oid, oid_len) == 0)
            return n;
    return NULL;
}

static void assert_name(const mbedtls_x509_name *names, const char *oid,
                        size_t oid_len, const char *want)
{
    const mbedtls_x509_name *n = find_name(names, oid, oid_len);

    assert_non_null(n);
    assert_int_equal(n->val.tag, MBEDTLS_ASN1_UTF8_STRING);
    assert_int_equal(n->val.len, strlen(want));
    assert_memory_equal(n->val.p, want, n->val.len);
}

/* Writes a request for key and checks it with mbedTLS: names, and the
 * signature over the request info by the key inside. */
static void write_and_check(mbedtls_pk_context *key)
{
    tkr_csr_subject_t subj = {"site-1", "Hospital A", "Radiology", "lead"};
    mbedtls_x509_csr csr;
    unsigned char hash[32];
    size_t n;

    assert_int_equal(tkr_csr_write_pem(pem, sizeof(pem), &n, key, &subj, &port, NULL), 0);
    assert_int_equal(n, strlen(pem));
    assert_non_null(strstr(pem, "-----BEGIN CERTIFICATE REQUEST-----"));
    mbedtls_x509_csr_init(&csr);
    assert_int_equal(mbedtls_x509_csr_parse(&csr, (const unsigned char *)pem, n + 1), 0);
    assert_name(&csr.subject, MBEDTLS_OID_AT_CN, MBEDTLS_OID_SIZE(MBEDTLS_OID_AT_CN), "site-1");
    assert_name(&csr.subject, MBEDTLS_OID_AT_ORGANIZATION,
                MBEDTLS_OID_SIZE(MBEDTLS_OID_AT_ORGANIZATION), "Hospital A");
    assert_name(&csr.subject, MBEDTLS_OID_AT_ORG_UNIT,
                MBEDTLS_OID_SIZE(MBEDTLS_OID_AT_ORG_UNIT), "Radiology");
    assert_name(&csr.subject, MBEDTLS_OID_PKCS9 "\x02", MBEDTLS_OID_SIZE(MBEDTLS_OID_PKCS9 "\x02"),
                "lead");
    /* CN first, as FLARE's client and certwrite order them. */
    assert_memory_equal(csr.subject.oid.p, MBEDTLS_OID_AT_CN, 3);
    assert_int_equal(mbedtls_md(mbedtls_md_info_from_type(MBEDTLS_MD_SHA256), csr.cri.p,
                                csr.cri.len, hash),
                     0);
    assert_int_equal(mbedtls_pk_verify(&csr.pk, MBEDTLS_MD_SHA256, hash, sizeof(hash),
                                       csr.TKR_PRIV(sig).p, csr.TKR_PRIV(sig).len),
                     0);
    assert_int_equal(mbedtls_pk_get_type(&csr.pk), mbedtls_pk_get_type(key));
    mbedtls_x509_csr_free(&csr);
}

/* Generate, check type and size, write a request and check it, and read
 * the stored key back as the same key. */
static void key_and_request(tkr_key_type_t type, mbedtls_pk_type_t pk_type,
                            size_t bits, const char *pem_label)
{
    mbedtls_pk_context key, back;
    char kpem[TKR_KEY_PEM_MAX], small[32];
    size_t n;

    mbedtls_pk_init(&key);
    assert_int_equal(tkr_key_generate(&key, type, &port, NULL), 0);
    assert_int_equal(mbedtls_pk_get_type(&key), pk_type);
    assert_int_equal(mbedtls_pk_get_bitlen(&key), bits);
    write_and_check(&key);
    assert_int_equal(tkr_key_write_pem(kpem, sizeof(kpem), &n, &key, NULL), 0);
    assert_non_null(strstr(kpem, pem_label));
    assert_int_equal(tkr_key_write_pem(small, sizeof(small), &n, &key, NULL), TKR_E_BUFFER_TOO_SMALL);
    mbedtls_pk_init(&back);
    assert_int_equal(tkr_key_parse_private(&back, (const uint8_t *)kpem, strlen(kpem) + 1, &port, NULL),
                     0);
    assert_int_equal(tkr_key_check_pair(&key, &back, &port, NULL), 0);
    mbedtls_pk_free(&back);
    mbedtls_pk_free(&key);
}

static void test_ec_p256_key_and_request(void **state)
{
    (void)state;
    key_and_request(TKR_KEY_EC_P256, MBEDTLS_PK_ECKEY, 256, "BEGIN EC PRIVATE KEY");
}

static void test_rsa_2048_key_and_request(void **state)
{
    (void)state;
    key_and_request(TKR_KEY_RSA_2048, MBEDTLS_PK_RSA, 2048, "BEGIN RSA PRIVATE KEY");
}

/* Only a short buffer is TKR_E_BUFFER_TOO_SMALL: an empty key cannot be
 * written, and that is not fixed by a bigger buffer. */
static void test_key_pem_of_an_empty_key_is_not_a_size_problem(void **state)
{
    mbedtls_pk_context key;
    char kpem[TKR_KEY_PEM_MAX];
    size_t n;
    (void)state;
    mbedtls_pk_init(&key);
    assert_int_equal(tkr_key_write_pem(kpem, sizeof(kpem), &n, &key, NULL), TKR_E_CRYPTO);
}

/* Two keys from the same port differ: the generator really draws. */
static void test_diag_names_the_field(void **state)
{
    char long_name[80];
    tkr_csr_subject_t subj = {"site-1", NULL, NULL, NULL};
    mbedtls_pk_context key;
    char kpem[TKR_KEY_PEM_MAX];
    tkr_diag_t d;
    size_t n;
    (void)state;

    memset(long_name, 'o', 65);
    long_name[65] = '\0';
    mbedtls_pk_init(&key);
    assert_int_equal(tkr_key_generate(&key, TKR_KEY_EC_P256, &port, NULL), 0);
    subj.org = long_name;
    tkr_diag_clear(&d);
    assert_int_equal(tkr_csr_write_pem(pem, sizeof(pem), &n, &key, &subj, &port, &d),
                     TKR_E_INVALID_ARG);
    assert_string_equal(d.name, "org");
    subj.org = NULL;
    subj.cn = "";
    tkr_diag_clear(&d);
    assert_int_equal(tkr_csr_write_pem(pem, sizeof(pem), &n, &key, &subj, &port, &d),
                     TKR_E_INVALID_ARG);
    assert_string_equal(d.name, "cn");
    /* a buffer too small: the mbedTLS code behind it */
    subj.cn = "site-1";
    tkr_diag_clear(&d);
    assert_int_equal(tkr_csr_write_pem(pem, 100, &n, &key, &subj, &port, &d),
                     TKR_E_BUFFER_TOO_SMALL);
    assert_int_not_equal(d.mbedtls, 0);
    mbedtls_pk_free(&key);
    /* an empty key: mbedTLS refuses to write it, and says so */
    mbedtls_pk_init(&key);
    tkr_diag_clear(&d);
    assert_int_equal(tkr_key_write_pem(kpem, sizeof(kpem), &n, &key, &d), TKR_E_CRYPTO);
    assert_int_not_equal(d.mbedtls, 0);
}

static void test_keys_differ(void **state)
{
    mbedtls_pk_context a, b;
    char pa[TKR_KEY_PEM_MAX], pb[TKR_KEY_PEM_MAX];
    size_t na, nb;
    (void)state;
    mbedtls_pk_init(&a);
    mbedtls_pk_init(&b);
    assert_int_equal(tkr_key_generate(&a, TKR_KEY_EC_P256, &port, NULL), 0);
    assert_int_equal(tkr_key_generate(&b, TKR_KEY_EC_P256, &port, NULL), 0);
    assert_int_equal(tkr_key_write_pem(pa, sizeof(pa), &na, &a, NULL), 0);
    assert_int_equal(tkr_key_write_pem(pb, sizeof(pb), &nb, &b, NULL), 0);
    assert_false(na == nb && memcmp(pa, pb, na) == 0);
    mbedtls_pk_free(&a);
    mbedtls_pk_free(&b);
}

static int broken_entropy(void *c, uint8_t *out, size_t len)
{
    (void)c;
    (void)out;
    (void)len;
    return TKR_E_ENTROPY;
}

static void test_broken_entropy_is_reported_and_leaves_key_empty(void **state)
{
    tkr_port_t bad = port;
    mbedtls_pk_context key;
    (void)state;
    bad.entropy = broken_entropy;
    mbedtls_pk_init(&key);
    assert_int_equal(tkr_key_generate(&key, TKR_KEY_EC_P256, &bad, NULL), TKR_E_ENTROPY);
    assert_int_equal(mbedtls_pk_get_type(&key), MBEDTLS_PK_NONE);
    assert_int_equal(tkr_key_generate(&key, TKR_KEY_RSA_2048, &bad, NULL), TKR_E_ENTROPY);
    assert_int_equal(mbedtls_pk_get_type(&key), MBEDTLS_PK_NONE);
    assert_int_equal(tkr_key_generate(&key, (tkr_key_type_t)7, &port, NULL), TKR_E_INVALID_ARG);
    assert_int_equal(tkr_key_generate(NULL, TKR_KEY_EC_P256, &port, NULL), TKR_E_INVALID_ARG);
}

static void test_request_bad_names_and_small_buffer(void **state)
{
    tkr_csr_subject_t subj = {"site-1", NULL, NULL, NULL};
    mbedtls_pk_context key;
    char small[64], longname[80];
    size_t n = 99, need;
    (void)state;
    mbedtls_pk_init(&key);
    assert_int_equal(tkr_key_generate(&key, TKR_KEY_EC_P256, &port, NULL), 0);
    assert_int_equal(tkr_csr_write_pem(pem, sizeof(pem), &need, &key, &subj, &port, NULL), 0);
    assert_int_equal(tkr_csr_write_pem(small, sizeof(small), &n, &key, &subj, &port, NULL),
                     TKR_E_BUFFER_TOO_SMALL);
    assert_int_equal(n, 0);
    assert_int_equal(small[0], '\0');
    assert_int_equal(tkr_csr_write_pem(pem, need, &n, &key, &subj, &port, NULL),
                     TKR_E_BUFFER_TOO_SMALL); /* no room for the NUL */
    assert_int_equal(tkr_csr_write_pem(pem, need + 1, &n, &key, &subj, &port, NULL), 0);
    subj.cn = "";
    assert_int_equal(tkr_csr_write_pem(pem, sizeof(pem), &n, &key, &subj, &port, NULL),
                     TKR_E_INVALID_ARG);
    memset(longname, 'a', sizeof(longname) - 1);
    longname[sizeof(longname) - 1] = '\0';
    subj.cn = longname; /* X.520: a CN is at most 64 characters */
    assert_int_equal(tkr_csr_write_pem(pem, sizeof(pem), &n, &key, &subj, &port, NULL),
                     TKR_E_INVALID_ARG);
    subj.cn = NULL;
    assert_int_equal(tkr_csr_write_pem(pem, sizeof(pem), &n, &key, &subj, &port, NULL),
                     TKR_E_INVALID_ARG);
    mbedtls_pk_free(&key);
}

/* openssl as the second implementation: it verifies the self-signature
 * and reads the subject as we wrote it. */
static void test_openssl_verifies_request(void **state)
{
    tkr_csr_subject_t subj = {"admin@example.com", "Org, Inc.", NULL, "org_admin"};
    char dir[] = "/tmp/tkr_csr_XXXXXX", path[64], cmd[256], out[512];
    mbedtls_pk_context key;
    FILE *p;
    size_t n;
    (void)state;
    need_tool("openssl version");
    mbedtls_pk_init(&key);
    assert_int_equal(tkr_key_generate(&key, TKR_KEY_EC_P256, &port, NULL), 0);
    assert_int_equal(tkr_csr_write_pem(pem, sizeof(pem), &n, &key, &subj, &port, NULL), 0);
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/req.pem", dir);
    write_file(path, pem, n);
    snprintf(cmd, sizeof(cmd),
             "openssl req -in %s -verify -noout -subject -nameopt RFC2253 2>&1", path);
    p = popen(cmd, "r");
    assert_non_null(p);
    n = fread(out, 1, sizeof(out) - 1, p);
    out[n] = '\0';
    assert_int_equal(pclose(p), 0);
    assert_non_null(strstr(out, "verify OK"));
    assert_non_null(strstr(out, "CN=admin@example.com"));
    assert_non_null(strstr(out, "O=Org\\, Inc."));
    assert_non_null(strstr(out, "unstructuredName=org_admin"));
    unlink(path);
    rmdir(dir);
    mbedtls_pk_free(&key);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ec_p256_key_and_request),
        cmocka_unit_test(test_diag_names_the_field),
        cmocka_unit_test(test_rsa_2048_key_and_request),
        cmocka_unit_test(test_key_pem_of_an_empty_key_is_not_a_size_problem),
        cmocka_unit_test(test_keys_differ),
        cmocka_unit_test(test_broken_entropy_is_reported_and_leaves_key_empty),
        cmocka_unit_test(test_request_bad_names_and_small_buffer),
        cmocka_unit_test(test_openssl_verifies_request),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
