/* cli_ca.h — the CA key for every command that signs.
 *
 * Where the key is: --ca-key FILE|URI, else TOKENROLL_CA_KEY, else the
 * workspace (state/cert.json's root_pri_key, or rootCA.key). Which code
 * signs with a key file: --signer openssl (the default when built in) or
 * mbedtls; a pkcs11: URI always signs in its token. The certificate always
 * comes from the workspace, and every signer is checked against it. */
#ifndef TKR_CLI_CA_H
#define TKR_CLI_CA_H

#include "cli.h"
#include "tokenroll/pkcs11.h"
#include "tokenroll/signer.h"

enum { CLI_SIGNER_MBEDTLS, CLI_SIGNER_OPENSSL, CLI_SIGNER_PKCS11 };

typedef struct {
    tkr_ca_t ca;             /* the root certificate (its key is not parsed) */
    int have_cert;
    int backend;             /* CLI_SIGNER_* */
    char *key;               /* key file text (heap, wiped when freed) */
    size_t key_len;
    char what[TKR_PATH_MAX + 64]; /* the key's origin, for messages */
    tkr_p11_token_t p11;
    void *p11_module;
} cli_ca_key_t;

/* The options every signing command takes. */
#define CLI_CA_KEY_OPTS \
    {"ca-key", 0, OPT_VALUE, "ca_key"}, {"signer", 0, OPT_VALUE, NULL}

/* Usage lines for them. */
#define CLI_CA_KEY_USAGE                                                          \
    "  --ca-key KEY      the CA private key: a PEM/DER file or a pkcs11: URI\n"   \
    "                    (RFC 7512; or TOKENROLL_CA_KEY); default: the workspace's\n" \
    "  --signer NAME     openssl (default when built in) or mbedtls, for key files\n"

void cli_ca_key_init(cli_ca_key_t *k);
void cli_ca_key_free(cli_ca_key_t *k);

/* Resolve the key from a's options and the environment, with the root
 * certificate from ca_path (NULL: no certificate yet, as for a new root).
 * Checks one signer against the certificate, so a bad key fails here with
 * one message. Prints the error; returns 0 or an exit code. */
int cli_ca_key_open(cli_ca_key_t *k, const cli_args_t *a, const char *ca_path);

/* A signer over the key for the calling thread (one per thread), checked
 * against the certificate when there is one. Prints the error. */
int cli_ca_key_signer(cli_ca_key_t *k, tkr_signer_t *s);

/* Wipe the key's text once every signer is loaded: from then on only the
 * signers hold the key (the PKCS#11 token stays open for them). */
void cli_ca_key_forget(cli_ca_key_t *k);

#endif
