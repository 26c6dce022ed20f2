/* p12.h — PVXS keychains (PKCS#12), host builds only. */
#ifndef TKR_CLI_P12_H
#define TKR_CLI_P12_H

#include <stddef.h>

/* 0 when this build can write PKCS#12 files; else -1 with *why saying
 * why not (static text). Checked before any work whose result would be
 * lost without a keychain to keep it in. */
int cli_p12_can_write(const char **why);

/* A PKCS#12 file (DER, heap, *out owned by the caller) holding the private
 * key key_pem, its certificate cert_pem and the CA certificates in ca_pem
 * (NULL for none), under password (NULL or "" for the empty password that
 * PVXS opens a keychain with when no password file is configured).
 * 0, or -1 with *why a short reason (static text). */
int cli_p12_make(unsigned char **out, size_t *out_len, const char *key_pem,
                 const char *cert_pem, const char *ca_pem, const char *password,
                 const char **why);

/* The certificates of a PKCS#12 file as PEM text, the entity's first,
 * then its chain (heap, NUL-terminated), opened with password (NULL or ""
 * for the empty one). NULL with *why when it is not such a file or the
 * password does not open it. */
char *cli_p12_certs_pem(const unsigned char *der, size_t len, const char *password,
                        const char **why);

#endif
