/* fuzz_csr.c — libFuzzer harness for the CSR check (tkr_csr_check).
 *
 * The input is tried as DER (raw bytes) and as PEM (a NUL-terminated
 * copy). Invariants (abort on violation):
 *   - a failure always names its reason;
 *   - an accepted request has an allowed key (EC P-256/P-384, RSA
 *     2048-4096), a SHA-2 signature, a computable key fingerprint, and is
 *     accepted again from a copy of its own DER (parsing is deterministic);
 *   - the input's bytes are never written. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <mbedtls/pk.h>
#include <mbedtls/x509_csr.h>

#include "compat.h"
#include "tokenroll/error.h"
#include "tokenroll/issue.h"

#include "fuzz_check.h"

static void one(const uint8_t *buf, size_t len)
{
    mbedtls_x509_csr csr, again;
    tkr_diag_t why;
    char fp[65];
    int rc;

    mbedtls_x509_csr_init(&csr);
    tkr_diag_clear(&why);
    rc = tkr_csr_check(&csr, buf, len, &why);
    if (rc != 0) {
        CHECK(why.msg[0] != '\0' && strcmp(why.name, "csr") == 0);
        CHECK(rc == TKR_E_CERT || rc == TKR_E_KEY_ALG || rc == TKR_E_UNSUPPORTED ||
              rc == TKR_E_SIGNATURE || rc == TKR_E_TOO_LARGE || rc == TKR_E_CRYPTO);
    } else {
        mbedtls_pk_type_t t = mbedtls_pk_get_type(&csr.pk);
        size_t bits = mbedtls_pk_get_bitlen(&csr.pk);
        mbedtls_ecp_group_id g = tkr_compat_pk_curve(&csr.pk);
        CHECK((t == MBEDTLS_PK_RSA && bits >= 2048 && bits <= 4096) ||
              g == MBEDTLS_ECP_DP_SECP256R1 || g == MBEDTLS_ECP_DP_SECP384R1);
        CHECK(why.msg[0] == '\0');
        CHECK(tkr_pubkey_fingerprint(fp, &csr.pk) == 0 && strlen(fp) == 64);
        mbedtls_x509_csr_init(&again);
        CHECK(tkr_csr_check(&again, csr.raw.p, csr.raw.len, NULL) == 0);
        mbedtls_x509_csr_free(&again);
    }
    mbedtls_x509_csr_free(&csr);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *copy = malloc(size + 1);

    if (copy == NULL)
        return 0;
    memcpy(copy, data, size);
    one(copy, size);
    CHECK(memcmp(copy, data, size) == 0);
    copy[size] = '\0';
    one(copy, size + 1);
    free(copy);
    return 0;
}
