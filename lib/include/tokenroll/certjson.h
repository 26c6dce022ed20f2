/* tokenroll/certjson.h — the project's root CA, as provisioning leaves it.
 *
 * FLARE's provisioning writes <workspace>/state/cert.json holding
 * {"root_cert": PEM, "root_pri_key": PEM, ...}; older or hand-made CAs are a
 * rootCA.pem + rootCA.key pair. The key may be PKCS#1 or PKCS#8, RSA or EC.
 * Loading checks that the key is the certificate's. */
#ifndef TOKENROLL_CERTJSON_H
#define TOKENROLL_CERTJSON_H

#include <stddef.h>

#include <mbedtls/pk.h>
#include <mbedtls/x509_crt.h>

#include "config.h" /* TKR_CERTJSON_MAX, TKR_PATH_MAX */
#include "error.h"
#include "port.h"

typedef struct {
    mbedtls_x509_crt cert;
    mbedtls_pk_context key;
    char cn[65];             /* subject CN of the root certificate */
    char source[TKR_PATH_MAX]; /* the file read (tkr_certjson_load), for
                                  messages; a failed load's diag->file
                                  points here */
    /* Set by the caller before loading to take the key's text instead of
     * parsing it into `key` (a signer parses it, in its own backend): the
     * text lands here NUL-terminated, and key_len is 0 when the workspace
     * holds no key (an HSM-held CA's cert.json has root_cert only). */
    char *key_text;
    size_t key_text_size;
    size_t key_len;
} tkr_ca_t;

void tkr_ca_init(tkr_ca_t *ca);
void tkr_ca_free(tkr_ca_t *ca);

/* Every failure fills diag (may be NULL): msg says what is wrong, name
 * the member or file ("root_cert", "root_pri_key", "rootCA.key", ...),
 * mbedtls the parser's code where one failed. */

/* Load from the text of a cert.json document. buf is scratch space for the
 * unescaped PEM (at least len bytes), wiped before returning. */
int tkr_certjson_parse(tkr_ca_t *ca, char *buf, size_t buf_size,
                       const char *json, size_t len, const tkr_port_t *port,
                       tkr_diag_t *diag);

/* Load from the texts of a certificate and its key, PEM or DER. Lengths
 * follow the rule of tkr_key_parse_*: a PEM text's length counts its
 * terminating NUL, as mbedTLS requires. key_pem may be NULL when
 * ca->key_text is set. */
int tkr_ca_load_pem(tkr_ca_t *ca, const char *cert_pem, size_t cert_len,
                    const char *key_pem, size_t key_len,
                    const tkr_port_t *port, tkr_diag_t *diag);

/* Find and load the CA under dir through port storage: dir/state/cert.json,
 * else dir/cert.json, else dir/rootCA.pem with dir/rootCA.key. buf is
 * scratch (2 * TKR_CERTJSON_MAX recommended), wiped before returning.
 * TKR_E_NOT_FOUND with diag->name "state/cert.json" when the directory
 * holds no CA at all ("rootCA.key" when only the key is missing);
 * diag->file points at ca->source, the file at fault. */
int tkr_certjson_load(tkr_ca_t *ca, char *buf, size_t buf_size,
                      const char *dir, const tkr_port_t *port, tkr_diag_t *diag);

#endif
