/* tokenroll/issue.h — the CA side of enrollment: check a certificate
 * request, and issue the certificate from what the token and the policy
 * allow, never from the request's own subject fields.
 *
 * Host side (the certificate service); allocation happens inside mbedTLS
 * only. */
#ifndef TOKENROLL_ISSUE_H
#define TOKENROLL_ISSUE_H

#include <stddef.h>
#include <stdint.h>

#include <mbedtls/pk.h>
#include <mbedtls/x509_crt.h>
#include <mbedtls/x509_csr.h>

#include "config.h"
#include "error.h"
#include "jwt.h"
#include "port.h"
#include "signer.h"
#include "token.h"

/* Largest issued certificate, PEM. */
#define TKR_ISSUE_PEM_MAX 4096

/* Clock skew allowance: certificates start this many seconds back. */
#define TKR_ISSUE_BACKDATE 300

/* Parse a PEM or DER certification request and check its proof of
 * possession (RFC 2986 §4.2): the signature over CertificationRequestInfo
 * must verify under the request's own public key, with SHA-256, -384 or
 * -512. Only EC P-256 / P-384 keys and RSA keys of 2048 to 4096 bits are
 * accepted. csr is initialised by the caller and filled here; PEM text must
 * have its NUL counted in len, as mbedTLS requires.
 * TKR_E_TOO_LARGE over TKR_ISSUE_CSR_MAX, TKR_E_CERT when it does not parse,
 * TKR_E_KEY_ALG for another key type or size, or a signature algorithm
 * that is not the key's, TKR_E_UNSUPPORTED for a hash other than SHA-2,
 * TKR_E_SIGNATURE when the signature does not verify. diag (may be NULL):
 * name "csr", msg the reason, mbedtls the parser's code. */
int tkr_csr_check(mbedtls_x509_csr *csr, const uint8_t *buf, size_t len,
                  tkr_diag_t *diag);

/* tkr_csr_check with the signature checked by v (jwt.h; NULL: mbedTLS).
 * Every other rule is the same. */
int tkr_csr_check_with(mbedtls_x509_csr *csr, const uint8_t *buf, size_t len,
                       const tkr_sig_verifier_t *v, tkr_diag_t *diag);

/* SHA-256 of a public key's SubjectPublicKeyInfo DER, as 64 lowercase hex
 * characters: how a pending request remembers the key it is for. */
int tkr_pubkey_fingerprint(char out[65], mbedtls_pk_context *pk);

/* What to certify: the checked request's key and the names the token and
 * policy allow. */
typedef struct {
    mbedtls_pk_context *key;           /* the request's public key */
    const char *name;                  /* CN, and the SAN (DNS or IP) */
    const char *org;                   /* O, or NULL */
    const char *role;                  /* users: unstructuredName, or NULL */
    tkr_subject_type_t type;           /* client, admin, relay, server */
    int64_t now;                       /* seconds since the epoch */
    int64_t days;                      /* validity, > 0 */
    /* The JWT authenticator's certificates (tokenroll/authjwt.h): when
     * not_after > 0, the validity is exactly not_before..not_after (days
     * and the backdate unused), usage (TKR_CERT_CLIENT/SERVER) replaces
     * the type's, and no SAN is written (sub need not be a host name). */
    int64_t not_before, not_after;
    unsigned usage;
} tkr_issue_req_t;

/* The certificate as issued, for the store. */
typedef struct {
    char serial[48];                   /* lowercase hex */
    char fingerprint[65];              /* SHA-256 of the DER, lowercase hex */
    int64_t not_after;
} tkr_issued_t;

/* Issue a certificate for req, signed through signer (the CA key, checked
 * against ca, the root certificate, with tkr_signer_check_cert): CN = name, O = org, the role in unstructuredName for
 * admins; basicConstraints CA:FALSE critical; keyUsage digitalSignature
 * (+ keyEncipherment for RSA keys); extendedKeyUsage clientAuth
 * (+ serverAuth for server and relay); SKI, AKI; a SAN for the name; a
 * random positive 16-byte serial; valid from now - TKR_ISSUE_BACKDATE
 * for `days`, never past the CA's own expiry. PEM into out. */
int tkr_issue_cert(char *out, size_t out_size, size_t *out_len,
                   tkr_issued_t *issued, const tkr_issue_req_t *req,
                   const mbedtls_x509_crt *ca, tkr_signer_t *signer,
                   const tkr_port_t *port);

/* Serial, fingerprint and expiry of a PEM certificate (NUL counted in
 * len). */
int tkr_issued_describe(tkr_issued_t *issued, const uint8_t *pem, size_t len);

#endif
