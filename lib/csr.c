/* csr.c — key generation and PKCS#10 requests, on the device. */
#include <string.h>

#include <mbedtls/asn1write.h>
#include <mbedtls/base64.h>
#include <mbedtls/ecp.h>
#include <mbedtls/oid.h>
#include <mbedtls/pk.h>
#include <mbedtls/rsa.h>
#include <mbedtls/x509_csr.h>

#include "compat.h"
#include "tokenroll/csr.h"
#include "tokenroll/error.h"
#include "x509_int.h"

/* PKCS#9 unstructuredName, 1.2.840.113549.1.9.2. mbedTLS names no macro
 * for it. */
#define OID_UNSTRUCTURED_NAME MBEDTLS_OID_PKCS9 "\x02"

/* The port's RNG, remembering whether it failed: mbedTLS folds the RNG's
 * error into its own key-generation code, and a broken TRNG must be told
 * apart from a crypto fault. */
typedef struct {
    const tkr_port_t *port;
    int failed;
} keygen_rng_t;

static int keygen_rng(void *p, unsigned char *out, size_t len)
{
    keygen_rng_t *r = p;
    int rc = tkr_port_rng((void *)r->port, out, len);

    if (rc != 0)
        r->failed = 1;
    return rc;
}

int tkr_key_generate(mbedtls_pk_context *pk, tkr_key_type_t type,
                     const tkr_port_t *port, tkr_diag_t *diag)
{
    keygen_rng_t rng = {port, 0};
    int rc;

    if (pk == NULL || port == NULL ||
        (type != TKR_KEY_EC_P256 && type != TKR_KEY_RSA_2048))
        return TKR_E_INVALID_ARG;
    if (type == TKR_KEY_RSA_2048) {
#if defined(MBEDTLS_GENPRIME)
        if ((rc = mbedtls_pk_setup(pk, mbedtls_pk_info_from_type(MBEDTLS_PK_RSA))) != 0)
            goto fail;
        rc = mbedtls_rsa_gen_key(mbedtls_pk_rsa(*pk), keygen_rng, &rng, 2048,
                                 65537);
#else
        /* A device build without prime generation (the Cortex-M4 image
         * leaves it out: ~2 KB of flash for a key type it never uses). */
        return tkr_diag(diag, TKR_E_UNSUPPORTED, NULL,
                        "RSA key generation is not in this build");
#endif
    } else {
        if ((rc = mbedtls_pk_setup(pk, mbedtls_pk_info_from_type(MBEDTLS_PK_ECKEY))) != 0)
            goto fail;
        rc = mbedtls_ecp_gen_key(MBEDTLS_ECP_DP_SECP256R1, mbedtls_pk_ec(*pk),
                                 keygen_rng, &rng);
    }
    if (rc == 0)
        return 0;
fail:
    if (diag != NULL)
        diag->mbedtls = rc;
    /* Leave pk as the caller gave it: empty, not half set up. */
    mbedtls_pk_free(pk);
    mbedtls_pk_init(pk);
    return tkr_diag(diag, rng.failed ? TKR_E_ENTROPY : TKR_E_CRYPTO, NULL,
                    rng.failed ? "the entropy source failed"
                               : "key generation failed");
}

int tkr_key_write_pem(char *out, size_t out_size, size_t *out_len,
                      mbedtls_pk_context *pk, tkr_diag_t *diag)
{
    if (out == NULL || out_len == NULL || pk == NULL)
        return TKR_E_INVALID_ARG;
    return tkr_x509_pem_result(
        mbedtls_pk_write_key_pem(pk, (unsigned char *)out, out_size), out,
        out_len, diag);
}

int tkr_x509_pem_result(int mbedtls_rc, const char *out, size_t *out_len,
                        tkr_diag_t *diag)
{
    if (mbedtls_rc != 0 && diag != NULL)
        diag->mbedtls = mbedtls_rc;
    if (mbedtls_rc == MBEDTLS_ERR_ASN1_BUF_TOO_SMALL ||
        mbedtls_rc == MBEDTLS_ERR_BASE64_BUFFER_TOO_SMALL)
        return TKR_E_BUFFER_TOO_SMALL;
    if (mbedtls_rc != 0)
        return tkr_diag(diag, TKR_E_CRYPTO, NULL, "mbedTLS could not write it");
    *out_len = strlen(out);
    return 0;
}

int tkr_x509_add_name(mbedtls_asn1_named_data **names, const char *oid,
                      size_t oid_len, const char *v, const char *field,
                      tkr_diag_t *d)
{
    mbedtls_asn1_named_data *nd;
    size_t n = strlen(v);

    /* X.520 upper bounds are 64 for CN/O/OU; more is a caller error. */
    if (n == 0 || n > 64)
        return tkr_diag(d, TKR_E_INVALID_ARG, field, "empty or over 64 bytes");
    nd = mbedtls_asn1_store_named_data(names, oid, oid_len,
                                       (const unsigned char *)v, n);
    if (nd == NULL)
        return tkr_diag(d, TKR_E_NO_MEMORY, field, "mbedTLS could not store it");
    nd->val.tag = MBEDTLS_ASN1_UTF8_STRING;
    return 0;
}

int tkr_x509_add_role(mbedtls_asn1_named_data **names, const char *role)
{
    mbedtls_asn1_named_data *nd;

    if (names == NULL || role == NULL)
        return TKR_E_INVALID_ARG;
    nd = mbedtls_asn1_store_named_data(names, OID_UNSTRUCTURED_NAME,
                                       MBEDTLS_OID_SIZE(OID_UNSTRUCTURED_NAME),
                                       (const unsigned char *)role,
                                       strlen(role));
    if (nd == NULL)
        return TKR_E_CRYPTO;
    nd->val.tag = MBEDTLS_ASN1_UTF8_STRING;
    return 0;
}

/* The names go straight into the request's list: no DN text to build and
 * escape, so no buffer for it on the device's stack. */
static int set_subject(mbedtls_x509write_csr *req, const tkr_csr_subject_t *s,
                       tkr_diag_t *d)
{
    /* CN, O and OU take the same checks: one loop. */
    static const char *const oid[] = {MBEDTLS_OID_AT_CN, MBEDTLS_OID_AT_ORGANIZATION,
                                      MBEDTLS_OID_AT_ORG_UNIT};
    static const char *const field[] = {"cn", "org", "ou"};
    const char *v[] = {s->cn, s->org, s->ou};
    mbedtls_asn1_named_data **names = &req->TKR_PRIV(subject);
    size_t i;
    int rc;

    _Static_assert(MBEDTLS_OID_SIZE(MBEDTLS_OID_AT_CN) == 3 &&
                       MBEDTLS_OID_SIZE(MBEDTLS_OID_AT_ORGANIZATION) == 3 &&
                       MBEDTLS_OID_SIZE(MBEDTLS_OID_AT_ORG_UNIT) == 3,
                   "the three attribute OIDs are 3 bytes");
    for (i = 0; i < 3; i++)
        if (v[i] != NULL &&
            (rc = tkr_x509_add_name(names, oid[i], 3, v[i], field[i], d)) != 0)
            return rc;
    if (s->role != NULL && (rc = tkr_x509_add_role(names, s->role)) != 0)
        return tkr_diag(d, rc, "role", "mbedTLS could not store it");
    return 0;
}

int tkr_csr_write_pem(char *out, size_t out_size, size_t *out_len,
                      mbedtls_pk_context *key, const tkr_csr_subject_t *subject,
                      const tkr_port_t *port, tkr_diag_t *diag)
{
    mbedtls_x509write_csr req;
    int rc;

    if (out == NULL || out_len == NULL || key == NULL || subject == NULL ||
        subject->cn == NULL)
        return TKR_E_INVALID_ARG;
    *out_len = 0;
    mbedtls_x509write_csr_init(&req);
    mbedtls_x509write_csr_set_md_alg(&req, MBEDTLS_MD_SHA256);
    mbedtls_x509write_csr_set_key(&req, key);
    if ((rc = set_subject(&req, subject, diag)) != 0)
        goto out;
    rc = tkr_x509_pem_result(
        mbedtls_x509write_csr_pem(&req, (unsigned char *)out, out_size,
                                  tkr_port_rng, (void *)port),
        out, out_len, diag);
out:
    mbedtls_x509write_csr_free(&req);
    if (rc != 0 && out_size > 0)
        out[0] = '\0';
    return rc;
}
