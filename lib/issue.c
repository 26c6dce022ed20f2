/* issue.c — certification requests in, certificates out (CA side). */
#include <string.h>

#include <mbedtls/md.h>
#include <mbedtls/pk.h>
#include <mbedtls/platform_util.h>
#include <mbedtls/x509_crt.h>
#include <mbedtls/x509_csr.h>

#include "compat.h"
#include "tokenroll/certwrite.h"
#include "tokenroll/error.h"
#include "tokenroll/issue.h"

static void hex(char *out, const uint8_t *in, size_t n)
{
    static const char digits[] = "0123456789abcdef";
    size_t i;

    for (i = 0; i < n; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 15];
    }
    out[2 * n] = '\0';
}

/* The request's problems all concern one input, the CSR. */
static int set_why(tkr_diag_t *d, const char *msg, int rc)
{
    return tkr_diag(d, rc, "csr", msg);
}

/* The keys a device may enroll: what FLARE's clients generate and what
 * every TLS stack the project talks to accepts. */
static int key_allowed(const mbedtls_pk_context *pk, tkr_diag_t *why)
{
    mbedtls_pk_type_t t = mbedtls_pk_get_type(pk);
    size_t bits = mbedtls_pk_get_bitlen(pk);
    mbedtls_ecp_group_id g = tkr_compat_pk_curve(pk);

    if (t == MBEDTLS_PK_RSA) {
        if (bits < 2048 || bits > 4096)
            return set_why(why, "RSA key must have 2048 to 4096 bits", TKR_E_KEY_ALG);
        return 0;
    }
    if (g == MBEDTLS_ECP_DP_SECP256R1 || g == MBEDTLS_ECP_DP_SECP384R1)
        return 0;
    return set_why(why, "key must be EC P-256, EC P-384 or RSA 2048-4096",
                   TKR_E_KEY_ALG);
}

int tkr_csr_check(mbedtls_x509_csr *csr, const uint8_t *buf, size_t len,
                  tkr_diag_t *why)
{
    return tkr_csr_check_with(csr, buf, len, NULL, why);
}

int tkr_csr_check_with(mbedtls_x509_csr *csr, const uint8_t *buf, size_t len,
                       const tkr_sig_verifier_t *v, tkr_diag_t *why)
{
    uint8_t hash[MBEDTLS_MD_MAX_SIZE];
    const mbedtls_md_info_t *md;
    mbedtls_md_type_t md_type;
    mbedtls_pk_type_t sig_pk;
    int rc;

    if (csr == NULL || buf == NULL)
        return set_why(why, "no request", TKR_E_INVALID_ARG);
    if (len > TKR_ISSUE_CSR_MAX + 1) /* PEM counts its NUL */
        return set_why(why, "request too large", TKR_E_TOO_LARGE);
    if ((rc = mbedtls_x509_csr_parse(csr, buf, len)) != 0) {
        if (why != NULL)
            why->mbedtls = rc;
        return set_why(why, "not a PKCS#10 certification request", TKR_E_CERT);
    }
    if ((rc = key_allowed(&csr->pk, why)) != 0)
        return rc;
    md_type = csr->TKR_PRIV(sig_md);
    sig_pk = csr->TKR_PRIV(sig_pk);
    if (md_type != MBEDTLS_MD_SHA256 && md_type != MBEDTLS_MD_SHA384 &&
        md_type != MBEDTLS_MD_SHA512)
        return set_why(why, "request signed with a hash other than SHA-256/384/512",
                       TKR_E_UNSUPPORTED);
    /* The signature algorithm must be the key's own (no RSA signature
     * claimed for an EC key); PSS is not offered by FLARE clients. */
    if ((sig_pk == MBEDTLS_PK_ECDSA) != (mbedtls_pk_get_type(&csr->pk) != MBEDTLS_PK_RSA) ||
        (sig_pk != MBEDTLS_PK_ECDSA && sig_pk != MBEDTLS_PK_RSA))
        return set_why(why, "request signature algorithm does not match its key",
                       TKR_E_KEY_ALG);
    md = mbedtls_md_info_from_type(md_type);
    if (md == NULL || mbedtls_md(md, csr->cri.p, csr->cri.len, hash) != 0)
        return set_why(why, "hashing the request failed", TKR_E_CRYPTO);
    if (v != NULL && v->verify != NULL)
        rc = tkr_sig_verify_with(v, &csr->pk, md_type, hash, mbedtls_md_get_size(md),
                                 csr->TKR_PRIV(sig).p, csr->TKR_PRIV(sig).len);
    else
        rc = mbedtls_pk_verify(&csr->pk, md_type, hash, mbedtls_md_get_size(md),
                               csr->TKR_PRIV(sig).p, csr->TKR_PRIV(sig).len);
    if (rc != 0)
        return set_why(why, "request signature does not verify with its own key "
                            "(no proof of possession)", TKR_E_SIGNATURE);
    return 0;
}

int tkr_pubkey_fingerprint(char out[65], mbedtls_pk_context *pk)
{
    uint8_t der[1200], hash[32];
    int n;

    if (out == NULL || pk == NULL)
        return TKR_E_INVALID_ARG;
    /* Written at the end of the buffer, as mbedTLS writes DER. */
    n = mbedtls_pk_write_pubkey_der(pk, der, sizeof(der));
    if (n <= 0)
        return TKR_E_KEY;
    if (mbedtls_md(mbedtls_md_info_from_type(MBEDTLS_MD_SHA256),
                   der + sizeof(der) - (size_t)n, (size_t)n, hash) != 0)
        return TKR_E_CRYPTO;
    hex(out, hash, sizeof(hash));
    return 0;
}

int tkr_issued_describe(tkr_issued_t *issued, const uint8_t *pem, size_t len)
{
    mbedtls_x509_crt crt;
    uint8_t hash[32];
    size_t n;
    int rc = 0;

    if (issued == NULL || pem == NULL)
        return TKR_E_INVALID_ARG;
    mbedtls_x509_crt_init(&crt);
    if (mbedtls_x509_crt_parse(&crt, pem, len) != 0) {
        rc = TKR_E_CERT;
        goto out;
    }
    n = crt.serial.len;
    if (n > (sizeof(issued->serial) - 1) / 2) {
        rc = TKR_E_CERT;
        goto out;
    }
    hex(issued->serial, crt.serial.p, n);
    if (mbedtls_md(mbedtls_md_info_from_type(MBEDTLS_MD_SHA256), crt.raw.p,
                   crt.raw.len, hash) != 0) {
        rc = TKR_E_CRYPTO;
        goto out;
    }
    hex(issued->fingerprint, hash, sizeof(hash));
    issued->not_after = tkr_x509_epoch(&crt.valid_to);
out:
    mbedtls_x509_crt_free(&crt);
    return rc;
}

int tkr_issue_cert(char *out, size_t out_size, size_t *out_len,
                   tkr_issued_t *issued, const tkr_issue_req_t *req,
                   const mbedtls_x509_crt *ca, tkr_signer_t *signer,
                   const tkr_port_t *port)
{
    tkr_cert_spec_t spec;
    tkr_cert_written_t written;
    int rc;

    if (out == NULL || out_len == NULL || issued == NULL || req == NULL ||
        req->key == NULL || req->name == NULL || ca == NULL || signer == NULL ||
        (req->not_after > 0 ? req->not_after <= req->not_before ||
                                  (req->usage & ~(TKR_CERT_CLIENT | TKR_CERT_SERVER)) != 0 ||
                                  req->usage == 0
                            : req->days <= 0) ||
        req->type == TKR_SUBJECT_PATTERN)
        return TKR_E_INVALID_ARG;
    memset(&spec, 0, sizeof(spec));
    spec.subject_key = req->key;
    spec.signer = signer;
    spec.issuer = ca;
    spec.cn = req->name;
    spec.org = req->org != NULL && req->org[0] != '\0' ? req->org : NULL;
    spec.role = req->type == TKR_SUBJECT_ADMIN && req->role != NULL &&
                        req->role[0] != '\0' ? req->role : NULL;
    spec.san = req->name;
    spec.not_before = req->now - TKR_ISSUE_BACKDATE;
    spec.not_after = req->now + req->days * 86400;
    /* Servers and relays also accept connections. */
    spec.usage = TKR_CERT_CLIENT;
    if (req->type == TKR_SUBJECT_SERVER || req->type == TKR_SUBJECT_RELAY)
        spec.usage |= TKR_CERT_SERVER;
    if (req->not_after > 0) {
        spec.not_before = req->not_before;
        spec.not_after = req->not_after;
        spec.usage = req->usage;
        spec.san = NULL;
    }
    /* The record's fields come from the writer, which knows them: parsing
     * the certificate back cost as much as the rest of it but the
     * signature. */
    rc = tkr_cert_write_pem_info(out, out_size, out_len, &spec, port, NULL, &written);
    if (rc != 0)
        return rc;
    hex(issued->serial, written.serial, sizeof(written.serial));
    hex(issued->fingerprint, written.sha256, sizeof(written.sha256));
    issued->not_after = written.not_after;
    return 0;
}
