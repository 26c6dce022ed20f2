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

/* A JSON value: bare strings when `bare`, else JSON with writer flags.
 * Printed through cli_put_text: claims come from unverified tokens. */
void cli_print_json(FILE *f, const tkr_json_t *doc, int t, int bare, unsigned flags);

/* Text from a token, with control characters (C0, DEL, C1) written as
 * \u00XX, so a claim cannot drive the terminal; JSON stays valid JSON
 * (its own C0 escapes are already there). */
void cli_put_text(FILE *f, const char *s);

/* Build a JSON document with fill(w, arg) into a buffer that grows until
 * it fits, then print it with cli_put_text, then `end`. 0, or the
 * message printed and CLI_EXIT_FAIL. */
int cli_emit_json(FILE *f, unsigned flags, void (*fill)(tkr_jsonw_t *w, const void *arg),
                  const void *arg, const char *end);

/* --key loading: public (or the public half of a private key), or private. */
int cli_load_key(mbedtls_pk_context *pk, const char *path, int want_private);

#endif
