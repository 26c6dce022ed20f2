/* x509_int.h — name handling shared by the request writer (csr.c) and the
 * certificate writer (certwrite.c). Internal. */
#ifndef TKR_X509_INT_H
#define TKR_X509_INT_H

#include <stddef.h>

#include <mbedtls/asn1.h>

#include "tokenroll/error.h"

/* Add one attribute (CN, O, OU) as a UTF8String of 1..64 bytes (the X.520
 * upper bound) to a name list; calls in DER order give the DER order
 * (mbedTLS writes the list head last). field names the value in the diag.
 * 0, TKR_E_INVALID_ARG (empty or too long) or TKR_E_NO_MEMORY. */
int tkr_x509_add_name(mbedtls_asn1_named_data **names, const char *oid,
                      size_t oid_len, const char *v, const char *field,
                      tkr_diag_t *d);

/* Add role as a PKCS#9 unstructuredName (UTF8String) to a name list, the
 * attribute FLARE uses for a user's role and mbedTLS's DN parser does not
 * know. 0, TKR_E_INVALID_ARG or TKR_E_CRYPTO (no memory). */
int tkr_x509_add_role(mbedtls_asn1_named_data **names, const char *role);

/* The outcome of one of mbedTLS's PEM writers (key, request, certificate)
 * into out: 0 with *out_len = strlen(out); TKR_E_BUFFER_TOO_SMALL only
 * when the output did not fit (its DER or its base64); TKR_E_CRYPTO for
 * every other failure. */
int tkr_x509_pem_result(int mbedtls_rc, const char *out, size_t *out_len,
                        tkr_diag_t *diag);

#endif
