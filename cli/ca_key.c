/* ca_key.c — the CA private key of the signing commands: which key, which
 * backend, one message for each way it can be wrong. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mbedtls/platform_util.h>

#include "cli_ca.h"
#include "tkr_p11_posix.h"
#include "tokenroll/error.h"
#include "tokenroll/key.h"

#define KEY_FILE_MAX (64 * 1024)
#define PIN_FILE_MAX 1024

void cli_ca_key_init(cli_ca_key_t *k)
{
    memset(k, 0, sizeof(*k));
    tkr_ca_init(&k->ca);
    tkr_p11_token_init(&k->p11);
}

static void wipe_key(cli_ca_key_t *k)
{
    if (k->key != NULL) {
        mbedtls_platform_zeroize(k->key, k->key_len);
        free(k->key);
    }
    k->key = NULL;
    k->key_len = 0;
}

void cli_ca_key_forget(cli_ca_key_t *k)
{
    wipe_key(k);
}

void cli_ca_key_free(cli_ca_key_t *k)
{
    wipe_key(k);
    tkr_p11_token_close(&k->p11);
    tkr_p11_posix_unload(k->p11_module);
    tkr_ca_free(&k->ca);
    memset(k, 0, sizeof(*k));
}

/* The PIN from pin-value, or from the file a pin-source names (a file:
 * URI or a plain path), without its line ending. */
static int read_pin(const tkr_p11_uri_t *u, char *pin, size_t *len)
{
    const char *path = u->pin_source;
    size_t n;
    char *text;

    *len = 0;
    if (u->has & TKR_P11_PIN_VALUE) {
        n = strlen(u->pin_value);
        memcpy(pin, u->pin_value, n + 1);
        *len = n;
        return 0;
    }
    if (strncmp(path, "file://", 7) == 0)
        path += 7;
    else if (strncmp(path, "file:", 5) == 0)
        path += 5;
    else if (strchr(path, ':') != NULL && path[0] != '/' && path[0] != '.')
        return cli_fail("--ca-key: pin-source must be a file: URI or a path, not %s",
                        u->pin_source);
    if ((text = cli_read_file(path, PIN_FILE_MAX, &n)) == NULL)
        return cli_fail("--ca-key: cannot read the PIN file %s: %s", path, cli_io_error());
    while (n > 0 && (text[n - 1] == '\n' || text[n - 1] == '\r'))
        n--;
    if (n > TKR_P11_PIN_MAX) {
        mbedtls_platform_zeroize(text, n);
        free(text);
        return cli_fail("--ca-key: the PIN in %s is longer than %d bytes", path,
                        TKR_P11_PIN_MAX);
    }
    memcpy(pin, text, n);
    pin[n] = '\0';
    *len = n;
    mbedtls_platform_zeroize(text, n);
    free(text);
    return 0;
}

static int open_pkcs11(cli_ca_key_t *k, const char *arg)
{
    tkr_p11_uri_t u;
    char pin[TKR_P11_PIN_MAX + 1], why[300], rvb[24];
    tkr_diag_t d;
    size_t pin_len = 0;
    void *fl;
    int rc;

    tkr_diag_clear(&d);
    if (tkr_p11_uri_parse(&u, arg, strlen(arg), &d) != 0)
        return d.name[0] != '\0'
                   ? cli_fail("--ca-key: malformed PKCS#11 URI: %s (%s)", d.msg, d.name)
                   : cli_fail("--ca-key: malformed PKCS#11 URI: %s", d.msg);
    snprintf(k->what, sizeof(k->what), "PKCS#11 key (token=%s object=%s)",
             (u.has & TKR_P11_TOKEN) ? u.token : "*",
             (u.has & TKR_P11_OBJECT) ? u.object : "*");
    if (!(u.has & TKR_P11_MODULE_PATH)) {
        rc = cli_fail("--ca-key: the PKCS#11 URI needs module-path=/path/to/module.so");
        goto out;
    }
    if ((u.has & (TKR_P11_PIN_VALUE | TKR_P11_PIN_SOURCE)) && (rc = read_pin(&u, pin, &pin_len)) != 0)
        goto out;
    if (tkr_p11_posix_load(&k->p11_module, &fl, u.module_path, why, sizeof(why)) != 0) {
        rc = cli_fail("--ca-key: cannot load the PKCS#11 module %s: %s", u.module_path, why);
        goto out;
    }
    if (tkr_p11_token_open(&k->p11, fl, &u, (u.has & (TKR_P11_PIN_VALUE | TKR_P11_PIN_SOURCE)) ? pin : NULL,
                           pin_len, &d) != 0) {
        rc = k->p11.rv != 0 ? cli_fail("%s: %s (%s)", k->what, d.msg, tkr_p11_rv_name(k->p11.rv, rvb))
                            : cli_fail("%s: %s", k->what, d.msg);
        goto out;
    }
    rc = 0;
out:
    mbedtls_platform_zeroize(pin, sizeof(pin));
    mbedtls_platform_zeroize(&u, sizeof(u));
    return rc;
}

static int pick_backend(cli_ca_key_t *k, const cli_args_t *a, const char *arg)
{
    const char *name = cli_get(a, "signer");

#if defined(TKR_WITH_OPENSSL)
    k->backend = CLI_SIGNER_OPENSSL;
#else
    k->backend = CLI_SIGNER_MBEDTLS;
#endif
    if (arg != NULL && tkr_p11_is_uri(arg)) {
        if (name != NULL)
            return cli_usage_fail(a, "--signer is for key files: a pkcs11: key signs in its token");
        k->backend = CLI_SIGNER_PKCS11;
        return 0;
    }
    if (name == NULL || strcmp(name, "mbedtls") == 0) {
        if (name != NULL)
            k->backend = CLI_SIGNER_MBEDTLS;
        return 0;
    }
    if (strcmp(name, "openssl") != 0)
        return cli_usage_fail(a, "--signer must be openssl or mbedtls, not %s", name);
#if !defined(TKR_WITH_OPENSSL)
    return cli_usage_fail(a, "--signer openssl: this tokenroll was built without OpenSSL (OPENSSL=0)");
#else
    return 0;
#endif
}

int cli_ca_key_open(cli_ca_key_t *k, const cli_args_t *a, const char *ca_path)
{
    const char *arg = cli_get(a, "ca-key");
    tkr_signer_t s;
    int rc;

    if (arg == NULL || arg[0] == '\0')
        arg = getenv("TOKENROLL_CA_KEY");
    if (arg != NULL && arg[0] == '\0')
        arg = NULL;
    if ((rc = pick_backend(k, a, arg)) != 0)
        return rc;
    if (ca_path != NULL) {
        if ((k->key = malloc(TKR_CERTJSON_MAX)) == NULL)
            return cli_fail("out of memory");
        if ((rc = cli_load_ca_key(&k->ca, ca_path, k->key, TKR_CERTJSON_MAX)) != 0)
            return rc;
        k->key_len = k->ca.key_len;
        k->have_cert = 1;
        if (arg == NULL && k->key_len == 0)
            return cli_fail("%s holds the root certificate only (its key is kept in an HSM): "
                            "pass --ca-key pkcs11:... or set TOKENROLL_CA_KEY", k->ca.source);
        snprintf(k->what, sizeof(k->what), "the root key in %s", k->ca.source);
    }
    if (arg != NULL) {
        wipe_key(k); /* a key given on the command line wins */
        if (k->backend == CLI_SIGNER_PKCS11) {
            if ((rc = open_pkcs11(k, arg)) != 0)
                return rc;
        } else {
            if ((k->key = cli_read_file(arg, KEY_FILE_MAX, &k->key_len)) == NULL)
                return cli_fail("cannot read --ca-key %s: %s", arg, cli_io_error());
            snprintf(k->what, sizeof(k->what), "the CA key %s", arg);
        }
    } else if (ca_path == NULL) {
        return cli_fail("no CA key: pass --ca-key FILE|pkcs11:... or set TOKENROLL_CA_KEY");
    }
    /* One signer now: a bad key is one message, before any work. */
    tkr_signer_init(&s);
    rc = cli_ca_key_signer(k, &s);
    tkr_signer_free(&s);
    return rc;
}

int cli_ca_key_signer(cli_ca_key_t *k, tkr_signer_t *s)
{
    tkr_diag_t d;
    char rvb[24];
    int rc;

    tkr_diag_clear(&d);
    tkr_signer_init(s);
    switch (k->backend) {
    case CLI_SIGNER_PKCS11:
        rc = tkr_signer_load_pkcs11(s, &k->p11, &d);
        break;
#if defined(TKR_WITH_OPENSSL)
    case CLI_SIGNER_OPENSSL:
        rc = tkr_signer_load_openssl(s, (const uint8_t *)k->key, k->key_len);
        break;
#endif
    default:
        /* mbedTLS finds PEM by its NUL, which cli_read_file adds. */
        rc = tkr_signer_load_mbedtls(s, (const uint8_t *)k->key,
                                     k->key_len + (tkr_key_is_pem((const uint8_t *)k->key, k->key_len) ? 1 : 0),
                                     cli_port());
        break;
    }
    if (rc != 0 && d.msg[0] != '\0')
        return k->p11.rv != 0 && rc != TKR_E_NOT_FOUND
                   ? cli_fail("%s: %s (%s)", k->what, d.msg, tkr_p11_rv_name(k->p11.rv, rvb))
                   : cli_fail("%s: %s", k->what, d.msg);
    if (rc == TKR_E_KEY_ALG)
        return cli_fail("%s: tokenroll signs with RSA (2048 bits or more), P-256 or P-384 "
                        "keys only", k->what);
    if (rc != 0)
        return cli_fail("%s does not parse (RSA or EC; PKCS#1, SEC1 or unencrypted PKCS#8, "
                        "PEM or DER)", k->what);
    if (!k->have_cert)
        return 0;
    rc = tkr_signer_check_cert(s, &k->ca.cert, cli_port());
    if (rc == TKR_E_KEY_MISMATCH)
        return cli_fail("%s does not belong to the root certificate in %s", k->what,
                        k->ca.source);
    if (rc != 0)
        return cli_fail("%s cannot sign: %s", k->what, tkr_strerror(rc));
    return 0;
}
