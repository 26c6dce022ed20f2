/* tokenroll/certwrite.h — X.509 v3 certificates (key pairs: csr.h).
 *
 * One writer for every certificate tokenroll makes (the provisioned root CA,
 * server and admin certificates, and certificates the service issues), so
 * the profile — basicConstraints, keyUsage, extendedKeyUsage, SKI/AKI, SAN,
 * a random serial of 127 bits — is decided in one place (RFC 5280 §4). */
#ifndef TOKENROLL_CERTWRITE_H
#define TOKENROLL_CERTWRITE_H

#include <stddef.h>
#include <stdint.h>

#include <mbedtls/pk.h>
#include <mbedtls/x509_crt.h>

#include "error.h"
#include "port.h"
#include "signer.h"
#include "subject.h"

/* usage bits */
#define TKR_CERT_CA     0x1u  /* CA:TRUE critical, keyCertSign + cRLSign */
#define TKR_CERT_SERVER 0x2u  /* serverAuth */
#define TKR_CERT_CLIENT 0x4u  /* clientAuth */

/* Largest certificate written (DER bytes): RSA-4096 subject and issuer
 * keys with every extension fit. */
#define TKR_CERT_DER_MAX 2560

typedef struct {
    mbedtls_pk_context *subject_key;   /* the key certified (public part
                                          used); NULL: the signer's own key
                                          (a self-signed root) */
    tkr_signer_t *signer;              /* the issuer's key: signs */
    const mbedtls_x509_crt *issuer;    /* NULL: self-signed root */
    const char *cn;                    /* subject CN (required) */
    const char *org;                   /* subject O, or NULL */
    const char *role;                  /* subject unstructuredName, or NULL */
    const char *san;                   /* SAN: DNS name, IP address or e-mail
                                          (chosen by its form), or NULL */
    int64_t not_before, not_after;     /* seconds since the epoch */
    unsigned usage;                    /* TKR_CERT_* */
} tkr_cert_spec_t;

/* A participant's certificate profile, one rule for provisioning and the
 * service: server -> serverAuth; relay -> serverAuth + clientAuth (it
 * listens and connects); client, admin -> clientAuth. The role goes into
 * the subject (unstructuredName) for admin only. Sets spec->usage and
 * spec->role; TKR_E_INVALID_ARG for pattern (a family of names, never
 * one certificate). */
int tkr_cert_profile(tkr_cert_spec_t *spec, tkr_subject_type_t type,
                     const char *role);

/* Write the certificate as PEM into out (NUL-terminated), signed through
 * spec->signer with its key's hash (SHA-256; SHA-384 for a P-384 CA). The
 * caller has checked the signer against spec->issuer
 * (tkr_signer_check_cert). A not_after past the issuer's own is clamped to
 * it. On failure diag (may be NULL) names the field at fault in diag->name
 * ("subject", "issuer", "not_after", "san", "signature", ...) and holds
 * mbedTLS's code in diag->mbedtls when it had one. */
int tkr_cert_write_pem(char *out, size_t out_size, size_t *out_len,
                       const tkr_cert_spec_t *spec, const tkr_port_t *port,
                       tkr_diag_t *diag);

/* What the writer knows of the certificate it has just written: its
 * serial, its end of validity (after the clamp to the issuer's) and the
 * SHA-256 of its DER. The issuer records them without parsing the
 * certificate back. */
typedef struct {
    uint8_t serial[16];
    int64_t not_after;
    uint8_t sha256[32];
} tkr_cert_written_t;

/* tkr_cert_write_pem, and when written is not NULL, what it wrote. */
int tkr_cert_write_pem_info(char *out, size_t out_size, size_t *out_len,
                            const tkr_cert_spec_t *spec, const tkr_port_t *port,
                            tkr_diag_t *diag, tkr_cert_written_t *written);

/* "YYYYMMDDhhmmss" for t (UTC), as mbedtls_x509write_crt_set_validity wants;
 * proleptic Gregorian, no OS call. */
void tkr_time_x509(char out[15], int64_t t);

/* The reverse: seconds since the epoch of a parsed certificate time. */
int64_t tkr_x509_epoch(const mbedtls_x509_time *t);

#endif
