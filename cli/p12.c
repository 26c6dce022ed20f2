/* p12.c — PVXS keychains: PKCS#12 files, made and read with OpenSSL (a
 * host-only part; the device never writes PKCS#12).
 *
 * PVXS opens its keychain with OpenSSL's PKCS12_parse and an empty password
 * unless a password file is configured (EPICS_PVA_TLS_KEYCHAIN_PWD_FILE,
 * EPICS_PVAS_TLS_KEYCHAIN_PWD_FILE), so that is what is written: the
 * private key, the entity certificate and the CA chain, under OpenSSL's
 * default PBES2 (AES-256-CBC, PBKDF2) with that password, integrity-
 * protected by a SHA-256 MAC. */
#include <stdlib.h>
#include <string.h>

#include "p12.h"

#if defined(TKR_WITH_OPENSSL)

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/x509.h>

static void free_chain(STACK_OF(X509) *chain)
{
    if (chain != NULL)
        sk_X509_pop_free(chain, X509_free);
}

int cli_p12_can_write(const char **why)
{
    *why = NULL;
    return 0;
}

int cli_p12_make(unsigned char **out, size_t *out_len, const char *key_pem,
                 const char *cert_pem, const char *ca_pem, const char *password,
                 const char **why)
{
    BIO *b = NULL;
    EVP_PKEY *key = NULL;
    X509 *cert = NULL, *ca;
    STACK_OF(X509) *chain = NULL;
    PKCS12 *p12 = NULL;
    unsigned char *der = NULL, *p;
    int n, rc = -1;

    *out = NULL;
    *out_len = 0;
    if (password == NULL)
        password = "";
    *why = "cannot read the private key";
    if ((b = BIO_new_mem_buf(key_pem, -1)) == NULL ||
        (key = PEM_read_bio_PrivateKey(b, NULL, NULL, NULL)) == NULL)
        goto done;
    BIO_free(b);
    *why = "cannot read the certificate";
    if ((b = BIO_new_mem_buf(cert_pem, -1)) == NULL ||
        (cert = PEM_read_bio_X509(b, NULL, NULL, NULL)) == NULL)
        goto done;
    *why = "the certificate is not for the private key";
    if (X509_check_private_key(cert, key) != 1)
        goto done;
    if ((chain = sk_X509_new_null()) == NULL)
        goto done;
    if (ca_pem != NULL) {
        BIO_free(b);
        *why = "cannot read the CA certificate";
        if ((b = BIO_new_mem_buf(ca_pem, -1)) == NULL)
            goto done;
        while ((ca = PEM_read_bio_X509(b, NULL, NULL, NULL)) != NULL) {
            if (sk_X509_push(chain, ca) <= 0) {
                X509_free(ca);
                goto done;
            }
        }
        ERR_clear_error();   /* the end of the PEM text */
        if (sk_X509_num(chain) == 0)
            goto done;
    }
    *why = "OpenSSL cannot make the PKCS#12 file";
    p12 = PKCS12_create(password, NULL, key, cert, chain, 0, 0, 0, 0, 0);
    if (p12 == NULL || (n = i2d_PKCS12(p12, NULL)) <= 0 ||
        (der = malloc((size_t)n)) == NULL)
        goto done;
    p = der;
    if (i2d_PKCS12(p12, &p) != n)
        goto done;
    *out = der;
    *out_len = (size_t)n;
    der = NULL;
    *why = NULL;
    rc = 0;
done:
    free(der);
    PKCS12_free(p12);
    free_chain(chain);
    X509_free(cert);
    EVP_PKEY_free(key);
    BIO_free(b);
    ERR_clear_error();
    return rc;
}

/* Append crt as PEM to the growing text *buf. */
static int append_pem(char **buf, size_t *len, X509 *crt)
{
    BIO *b = BIO_new(BIO_s_mem());
    char *data, *grown;
    long n;
    int rc = -1;

    if (b == NULL || PEM_write_bio_X509(b, crt) != 1)
        goto done;
    n = BIO_get_mem_data(b, &data);
    if (n <= 0 || (grown = realloc(*buf, *len + (size_t)n + 1)) == NULL)
        goto done;
    memcpy(grown + *len, data, (size_t)n);
    *len += (size_t)n;
    grown[*len] = '\0';
    *buf = grown;
    rc = 0;
done:
    BIO_free(b);
    return rc;
}

char *cli_p12_certs_pem(const unsigned char *der, size_t len, const char *password,
                        const char **why)
{
    const unsigned char *p = der;
    PKCS12 *p12 = NULL;
    EVP_PKEY *key = NULL;
    X509 *cert = NULL;
    STACK_OF(X509) *chain = NULL;
    char *text = NULL;
    size_t tlen = 0;
    int i, ok = 0;

    *why = "not a PKCS#12 file";
    if (len > 0x7fffffff ||
        (p12 = d2i_PKCS12(NULL, &p, (long)len)) == NULL || p != der + len)
        goto done;
    *why = password != NULL && password[0] != '\0'
               ? "the password does not open it"
               : "cannot open it with an empty password (a locked keychain: --password-file)";
    if (PKCS12_parse(p12, password != NULL ? password : "", &key, &cert, &chain) != 1)
        goto done;
    *why = "it holds no certificate";
    if (cert == NULL || append_pem(&text, &tlen, cert) != 0)
        goto done;
    for (i = 0; chain != NULL && i < sk_X509_num(chain); i++)
        if (append_pem(&text, &tlen, sk_X509_value(chain, i)) != 0)
            goto done;
    *why = NULL;
    ok = 1;
done:
    if (!ok) {
        free(text);
        text = NULL;
    }
    free_chain(chain);
    X509_free(cert);
    EVP_PKEY_free(key);
    PKCS12_free(p12);
    ERR_clear_error();
    return text;
}

#else /* built with OPENSSL=0: no PKCS#12 */

#define NO_P12 "this tokenroll was built without OpenSSL (OPENSSL=0): no PKCS#12"

int cli_p12_can_write(const char **why)
{
    *why = NO_P12;
    return -1;
}

int cli_p12_make(unsigned char **out, size_t *out_len, const char *key_pem,
                 const char *cert_pem, const char *ca_pem, const char *password,
                 const char **why)
{
    (void)key_pem;
    (void)cert_pem;
    (void)ca_pem;
    (void)password;
    *out = NULL;
    *out_len = 0;
    *why = NO_P12;
    return -1;
}

char *cli_p12_certs_pem(const unsigned char *der, size_t len, const char *password,
                        const char **why)
{
    (void)der;
    (void)len;
    (void)password;
    *why = NO_P12;
    return NULL;
}

#endif
