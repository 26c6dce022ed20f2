/* serve.h — what `tokenroll serve` takes from its host-specific parts. */
#ifndef TKR_CLI_SERVE_H
#define TKR_CLI_SERVE_H

#include "tokenroll/issue.h"

/* The fastest signature check this build has for tokens and requests:
 * OpenSSL's libcrypto, or, in an OPENSSL=0 build, v.verify NULL (mbedTLS
 * checks them). One verifier serves every thread. */
typedef struct {
    tkr_sig_verifier_t v;    /* what the service is given */
    uint8_t spki[600];       /* the pinned key (the CA's), DER */
    size_t spki_len;
    void *key;               /* ... decoded once (EVP_PKEY) */
} cli_verifier_t;

/* pin (may be NULL): a key many signatures will be checked under, decoded
 * here once. TKR_E_KEY when it cannot be. */
int cli_verifier_init(cli_verifier_t *cv, mbedtls_pk_context *pin);
void cli_verifier_free(cli_verifier_t *cv);

#endif
