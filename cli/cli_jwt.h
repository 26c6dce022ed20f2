/* cli_jwt.h — JWT helpers the token and service commands share with
 * `tokenroll jwt`. */
#ifndef TKR_CLI_JWT_H
#define TKR_CLI_JWT_H

#include <stdio.h>

#include <mbedtls/pk.h>

#include "tokenroll/json.h"
#include "tokenroll/jwt.h"

/* Parse a token given as a string or a file; prints the error. */
int cli_jwt_load(tkr_jwt_t *out, const char *arg, const char *what);

/* A JSON value: bare strings when `bare`, else JSON with writer flags. */
void cli_print_json(FILE *f, const tkr_json_t *doc, int t, int bare, unsigned flags);

/* --key loading: public (or the public half of a private key), or private. */
int cli_load_key(mbedtls_pk_context *pk, const char *path, int want_private);

#endif
