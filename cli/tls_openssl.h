/* tls_openssl.h — the HTTPS server's handshake signatures on libcrypto.
 *
 * Every device opens a fresh TLS connection, so each enrollment costs the
 * server one signature with its TLS key. GnuTLS (nettle) takes about
 * 1.85 ms for an RSA-2048 signature here, libcrypto about 0.4 ms: on hosts
 * built with OpenSSL the server's certificate chain goes to GnuTLS through
 * its certificate callback, with a GnuTLS private key whose signing
 * callback hands the hash to libcrypto. The rest of TLS stays GnuTLS's.
 *
 * One server key per process: GnuTLS's certificate callback carries no
 * argument of its own, so the key it returns is the one last put in use. */
#ifndef TKR_CLI_TLS_OPENSSL_H
#define TKR_CLI_TLS_OPENSSL_H

#include <stddef.h>

#include <gnutls/abstract.h>

typedef struct cli_tls_key cli_tls_key_t;

/* Load the server's certificate chain and its private key (PEM, RSA or
 * EC), check that they match, and make them the key the certificate
 * callback returns. err gets a one-line reason. */
int cli_tls_key_load(cli_tls_key_t **out, const char *cert_pem, const char *key_pem,
                     char *err, size_t err_size);
void cli_tls_key_free(cli_tls_key_t *k);

/* libmicrohttpd's MHD_OPTION_HTTPS_CERT_CALLBACK: the chain and key loaded
 * last, for every connection. */
gnutls_certificate_retrieve_function2 cli_tls_retrieve;

#endif
