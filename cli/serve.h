/* serve.h — what `tokenroll serve` takes from its host-specific parts. */
#ifndef TKR_CLI_SERVE_H
#define TKR_CLI_SERVE_H

#include "tokenroll/issue.h"

/* The fastest signature check this build has for tokens and requests
 * (OpenSSL's libcrypto), or NULL for mbedTLS's. */
const tkr_sig_verifier_t *cli_sig_verifier(void);

#endif
