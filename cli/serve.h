/* serve.h — what `tokenroll serve` takes from its host-specific parts. */
#ifndef TKR_CLI_SERVE_H
#define TKR_CLI_SERVE_H

#include "tokenroll/issue.h"

/* The fastest CSR signature check this build has (OpenSSL's libcrypto),
 * or NULL for mbedTLS's. */
const tkr_csr_verifier_t *cli_csr_verifier(void);

#endif
