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
#include "port.h"

typedef struct {
    mbedtls_x509_crt cert;
    mbedtls_pk_context key;
    char cn[65];             /* subject CN of the root certificate */
    /* For error messages: which file was read and what was wrong with it.
     * `what` is a fixed string such as "\"root_pri_key\" is missing". */
    char source[TKR_PATH_MAX];
    const char *what;
} tkr_ca_t;

void tkr_ca_init(tkr_ca_t *ca);
void tkr_ca_free(tkr_ca_t *ca);

/* Load from the text of a cert.json document. buf is scratch space for the
 * unescaped PEM (at least len bytes), wiped before returning. */
int tkr_certjson_parse(tkr_ca_t *ca, char *buf, size_t buf_size,
                       const char *json, size_t len, const tkr_port_t *port);

/* Load from PEM texts of a certificate and its key. */
int tkr_ca_load_pem(tkr_ca_t *ca, const char *cert_pem, size_t cert_len,
                    const char *key_pem, size_t key_len,
                    const tkr_port_t *port);

/* Find and load the CA under dir through port storage: dir/state/cert.json,
 * else dir/cert.json, else dir/rootCA.pem with dir/rootCA.key. buf is
 * scratch (2 * TKR_CERTJSON_MAX recommended), wiped before returning.
 * TKR_E_NOT_FOUND when none exists; ca->source and ca->what say more. */
int tkr_certjson_load(tkr_ca_t *ca, char *buf, size_t buf_size,
                      const char *dir, const tkr_port_t *port);

#endif
