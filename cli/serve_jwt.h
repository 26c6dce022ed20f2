/* serve_jwt.h — the JWT authenticator's settings and I/O in tokenroll
 * serve (serve_jwt.c). */
#ifndef TKR_SERVE_JWT_H
#define TKR_SERVE_JWT_H

#include <stdint.h>

#include "cli.h"
#include "tokenroll/authjwt.h"

typedef struct serve_jwt serve_jwt_t;

/* serve's options for the authenticator (spliced into its option table). */
#define SERVE_JWT_OPTS                                         \
    {"jwt-key", 0, OPT_MULTI, NULL},                           \
    {"jwt-jwks", 0, OPT_VALUE, NULL},                          \
    {"jwt-jwks-refetch", 0, OPT_VALUE, NULL},                  \
    {"jwt-trusted-uri", 0, OPT_VALUE, NULL},                   \
    {"jwt-request-format", 0, OPT_VALUE, NULL},                \
    {"jwt-request-method", 0, OPT_VALUE, NULL},                \
    {"jwt-response-format", 0, OPT_VALUE, NULL},               \
    {"jwt-use-response-code", 0, OPT_VALUE, NULL},             \
    {"jwt-issuer", 0, OPT_VALUE, NULL},                        \
    {"jwt-audience", 0, OPT_VALUE, NULL},                      \
    {"jwt-leeway", 0, OPT_VALUE, NULL},                        \
    {"jwt-max-days", 0, OPT_VALUE, NULL},                      \
    {"jwt-verify-ca", 0, OPT_VALUE, NULL},                     \
    {"jwt-allow-http", 0, OPT_FLAG, NULL},                     \
    {"jwt-timeout", 0, OPT_VALUE, NULL}

#define SERVE_JWT_USAGE                                                          \
    "JWT authenticator (POST /api/v1/authn/jwt), enabled by any of:\n"            \
    "  --jwt-trusted-uri URI     ask this verifier (EPICS_AUTH_JWT_TRUSTED_URI)\n"  \
    "  --jwt-request-format F    #token#, #kid# substituted (EPICS_AUTH_JWT_REQUEST_FORMAT)\n" \
    "  --jwt-request-method M    POST (default) or GET (EPICS_AUTH_JWT_REQUEST_METHOD)\n" \
    "  --jwt-response-format F   e.g. '{ *, \"valid\": \"#response#\" }'\n"        \
    "                            (EPICS_AUTH_JWT_RESPONSE_FORMAT)\n"              \
    "  --jwt-use-response-code Y 200 alone means valid (EPICS_AUTH_JWT_USE_RESPONSE_CODE)\n" \
    "  --jwt-key [ALG:]PEM       verify here with this key (repeatable)\n"        \
    "  --jwt-jwks FILE|URL       verify here with this key set\n"                 \
    "  --jwt-jwks-refetch S      read it again for an unknown kid at most every\n" \
    "                            S seconds (default 60)\n"                       \
    "  --jwt-issuer ISS          the iss tokens must carry (required for keys)\n" \
    "  --jwt-audience AUD        an aud tokens must carry\n"                      \
    "  --jwt-leeway S            clock skew for exp/nbf (default 60)\n"           \
    "  --jwt-max-days N          longest certificate (default --cert-days)\n"     \
    "  --jwt-verify-ca PEM       root for an https verifier or JWKS URL\n"        \
    "  --jwt-allow-http          plain http to a host other than loopback\n"      \
    "  --jwt-timeout S           verifier and JWKS requests (default 10)\n"

/* Read the settings from a (flags) and the environment. 0 with *out NULL
 * when the authenticator is not enabled; 0 with *out set; or an exit code
 * (the error printed). */
int serve_jwt_open(serve_jwt_t **out, const cli_args_t *a, const tkr_port_t *port,
                   int64_t max_validity);
void serve_jwt_close(serve_jwt_t *sj);

/* What the service's handler passes to tkr_authjwt_authenticate. */
const tkr_authjwt_cfg_t *serve_jwt_cfg(const serve_jwt_t *sj);
/* "trusted URI" or "local keys", for the start-up line. */
const char *serve_jwt_mode(const serve_jwt_t *sj);

#endif
