/* tokenroll/csr.h — the device's key pair and its certificate request.
 *
 * Device-side: compiles under the device mbedTLS configuration
 * (port/baremetal/tkr_mbedtls_device.h) and allocates nothing itself
 * (mbedTLS does, from its pool). The request is PKCS#10 (RFC 2986), signed
 * with SHA-256 by the key it carries. The service takes the subject from
 * the token, never from the request (DESIGN.md), so the names here are
 * what FLARE's client puts there, for a human reading the request. */
#ifndef TOKENROLL_CSR_H
#define TOKENROLL_CSR_H

#include <stddef.h>

#include <mbedtls/pk.h>

#include "error.h"
#include "port.h"

/* EC P-256 is the default: a smaller key, faster on an MCU. RSA-2048 for
 * parity with FLARE's own client. */
typedef enum { TKR_KEY_EC_P256 = 0, TKR_KEY_RSA_2048 } tkr_key_type_t;

/* PEM sizes to give tkr_key_write_pem / tkr_csr_write_pem (with NUL). */
#define TKR_KEY_PEM_MAX 2048  /* RSA-2048 PKCS#1 is about 1.7 KB */
#define TKR_CSR_PEM_MAX 2048  /* RSA-2048 request with all names ~1.3 KB */

/* Subject of the request. cn is required; the others may be NULL. */
typedef struct {
    const char *cn;    /* site or user name */
    const char *org;   /* O */
    const char *ou;    /* OU */
    const char *role;  /* unstructuredName (PKCS#9), where FLARE puts a
                          user's role */
} tkr_csr_subject_t;

/* Generate a key pair into pk (initialised by the caller and empty) from
 * the port's entropy. TKR_E_ENTROPY when the source fails, TKR_E_CRYPTO
 * otherwise. RSA-2048 generation takes seconds on a Cortex-M4; an mbedTLS
 * built without MBEDTLS_GENPRIME (port/baremetal/tkr_mbedtls_device.h)
 * answers TKR_E_UNSUPPORTED for it, pk untouched.
 *
 * The three functions here fill diag (may be NULL) on failure:
 * diag->mbedtls with mbedTLS's code, diag->name with the subject field at
 * fault ("cn", "org", "ou", "role"). */
int tkr_key_generate(mbedtls_pk_context *pk, tkr_key_type_t type,
                     const tkr_port_t *port, tkr_diag_t *diag);

/* Private key as PEM (PKCS#1 for RSA, SEC1 for EC, as FLARE writes them),
 * NUL-terminated; *out_len excludes the NUL. TKR_E_BUFFER_TOO_SMALL when
 * out is short (TKR_KEY_PEM_MAX always fits), TKR_E_CRYPTO otherwise (an
 * empty or unsupported key). */
int tkr_key_write_pem(char *out, size_t out_size, size_t *out_len,
                      mbedtls_pk_context *pk, tkr_diag_t *diag);

/* Write a PEM certificate request for key, signed by key, into out
 * (NUL-terminated; *out_len excludes the NUL). TKR_E_INVALID_ARG for a
 * missing or empty cn or a name mbedTLS cannot hold, TKR_E_BUFFER_TOO_SMALL
 * when out is short (TKR_CSR_PEM_MAX always fits), TKR_E_CRYPTO otherwise. */
int tkr_csr_write_pem(char *out, size_t out_size, size_t *out_len,
                      mbedtls_pk_context *key, const tkr_csr_subject_t *subject,
                      const tkr_port_t *port, tkr_diag_t *diag);

#endif
