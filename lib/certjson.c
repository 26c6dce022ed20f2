/* certjson.c — the root CA from state/cert.json or rootCA.pem + rootCA.key. */
#include <stdio.h>
#include <string.h>

#include <mbedtls/oid.h>
#include <mbedtls/platform_util.h>

#include "compat.h"
#include "tokenroll/certjson.h"
#include "tokenroll/error.h"
#include "tokenroll/json.h"
#include "tokenroll/key.h"

#define CERTJSON_TOKENS 64

void tkr_ca_init(tkr_ca_t *ca)
{
    if (ca == NULL)
        return;
    memset(ca, 0, sizeof(*ca));
    mbedtls_x509_crt_init(&ca->cert);
    mbedtls_pk_init(&ca->key);
}

void tkr_ca_free(tkr_ca_t *ca)
{
    if (ca == NULL)
        return;
    mbedtls_x509_crt_free(&ca->cert);
    mbedtls_pk_free(&ca->key);
    memset(ca, 0, sizeof(*ca));
}

static void subject_cn(tkr_ca_t *ca)
{
    const mbedtls_x509_name *n;

    ca->cn[0] = '\0';
    for (n = &ca->cert.subject; n != NULL; n = n->next) {
        if (MBEDTLS_OID_CMP(MBEDTLS_OID_AT_CN, &n->oid) == 0 &&
            n->val.len < sizeof(ca->cn)) {
            memcpy(ca->cn, n->val.p, n->val.len);
            ca->cn[n->val.len] = '\0';
            return;
        }
    }
}

/* len counts the text without terminator; text[len] must be NUL, which
 * mbedTLS requires to recognise PEM. */
int tkr_ca_load_pem(tkr_ca_t *ca, const char *cert_pem, size_t cert_len,
                    const char *key_pem, size_t key_len,
                    const tkr_port_t *port)
{
    int rc;

    if (ca == NULL || cert_pem == NULL || (key_pem == NULL && ca->key_text == NULL))
        return TKR_E_INVALID_ARG;
    if (mbedtls_x509_crt_parse(&ca->cert, (const unsigned char *)cert_pem,
                               cert_len + 1) != 0) {
        ca->what = "the root certificate does not parse";
        return TKR_E_CERT;
    }
    /* A leaf certificate would sign tokens fine, but nothing it issues
     * could ever chain: refuse it here, where the mistake is made. */
    if (!tkr_compat_crt_is_ca(&ca->cert)) {
        ca->what = "the root certificate is not a CA (basicConstraints CA:TRUE missing)";
        return TKR_E_CERT;
    }
    subject_cn(ca);
    if (ca->key_text != NULL) {
        ca->key_len = 0;
        if (key_pem == NULL)
            return 0;
        if (key_len >= ca->key_text_size) {
            ca->what = "the root private key is too large";
            return TKR_E_TOO_LARGE;
        }
        memcpy(ca->key_text, key_pem, key_len);
        ca->key_text[key_len] = '\0';
        ca->key_len = key_len;
        return 0;
    }
    rc = tkr_key_parse_private(&ca->key, (const uint8_t *)key_pem,
                               key_len + 1, port);
    if (rc != 0) {
        ca->what = "the root private key does not parse (RSA or EC, PKCS#1, SEC1 or "
                   "unencrypted PKCS#8 expected)";
        return rc;
    }
    if (tkr_key_check_pair(&ca->cert.pk, &ca->key, port) != 0) {
        ca->what = "the private key does not belong to the root certificate";
        return TKR_E_KEY_MISMATCH;
    }
    return 0;
}

static int pem_member(tkr_ca_t *ca, const tkr_json_t *doc, const char *name,
                      char *out, size_t size, size_t *len)
{
    int t = tkr_json_find(doc, 0, name), rc;

    if (t < 0) {
        ca->what = strcmp(name, "root_cert") == 0
                       ? "\"root_cert\" is missing"
                       : "\"root_pri_key\" is missing";
        return TKR_E_NOT_FOUND;
    }
    rc = tkr_json_get_str(doc, out, size, len, t);
    if (rc == TKR_E_BUFFER_TOO_SMALL) {
        /* the caller's scratch, not the file, is at fault */
        ca->what = "the scratch buffer is too small for the PEM texts";
        return rc;
    }
    if (rc != 0) {
        ca->what = strcmp(name, "root_cert") == 0
                       ? "\"root_cert\" is not a PEM string"
                       : "\"root_pri_key\" is not a PEM string";
        return TKR_E_TYPE;
    }
    return 0;
}

int tkr_certjson_parse(tkr_ca_t *ca, char *buf, size_t buf_size,
                       const char *json, size_t len, const tkr_port_t *port)
{
    tkr_json_tok_t tok[CERTJSON_TOKENS];
    tkr_json_t doc;
    size_t cl = 0, kl = 0;
    int rc;

    if (ca == NULL || buf == NULL || json == NULL)
        return TKR_E_INVALID_ARG;
    rc = tkr_json_parse(&doc, tok, CERTJSON_TOKENS, json, len);
    if (rc == 0 && tkr_json_type(&doc, 0) != TKR_JSON_OBJECT)
        rc = TKR_E_TYPE;
    if (rc != 0) {
        ca->what = "not a JSON object";
        return rc;
    }
    rc = pem_member(ca, &doc, "root_cert", buf, buf_size, &cl);
    if (rc == 0) {
        rc = pem_member(ca, &doc, "root_pri_key", buf + cl + 1,
                        buf_size - cl - 1, &kl);
        if (rc == TKR_E_NOT_FOUND && ca->key_text != NULL) { /* key kept elsewhere */
            ca->what = NULL;
            rc = tkr_ca_load_pem(ca, buf, cl, NULL, 0, port);
        } else if (rc == 0) {
            rc = tkr_ca_load_pem(ca, buf, cl, buf + cl + 1, kl, port);
        }
    }
    mbedtls_platform_zeroize(buf, buf_size);
    return rc;
}

static int read_file(const tkr_port_t *port, const char *path, char *buf,
                     size_t size, size_t *len)
{
    int rc;

    if (size < 2)
        return TKR_E_BUFFER_TOO_SMALL;
    rc = port->store_read(port->ctx, path, (uint8_t *)buf, size - 1, len);
    if (rc == 0)
        buf[*len] = '\0';
    return rc;
}

static int load_pair(tkr_ca_t *ca, char *buf, size_t buf_size,
                     const char *dir, const tkr_port_t *port)
{
    char key_path[TKR_PATH_MAX];
    size_t cl, kl, half = buf_size / 2;
    int rc;

    snprintf(ca->source, sizeof(ca->source), "%s/rootCA.pem", dir);
    snprintf(key_path, sizeof(key_path), "%s/rootCA.key", dir);
    rc = read_file(port, ca->source, buf, half, &cl);
    if (rc != 0 && rc != TKR_E_NOT_FOUND)
        ca->what = rc == TKR_E_BUFFER_TOO_SMALL ? "file too large"
                                                : "cannot read the file";
    if (rc == 0) {
        rc = read_file(port, key_path, buf + half, buf_size - half, &kl);
        if (rc == TKR_E_NOT_FOUND && ca->key_text != NULL)
            return tkr_ca_load_pem(ca, buf, cl, NULL, 0, port);
        if (rc != 0) {
            memcpy(ca->source, key_path, sizeof(ca->source));
            ca->what = rc == TKR_E_NOT_FOUND ? "rootCA.key is missing beside rootCA.pem"
                                             : "cannot read rootCA.key";
            return rc;
        }
        rc = tkr_ca_load_pem(ca, buf, cl, buf + half, kl, port);
    }
    return rc;
}

int tkr_certjson_load(tkr_ca_t *ca, char *buf, size_t buf_size,
                      const char *dir, const tkr_port_t *port)
{
    static const char *const names[] = {"state/cert.json", "cert.json"};
    size_t i, len;
    int rc = TKR_E_NOT_FOUND;

    if (ca == NULL || buf == NULL || dir == NULL || port == NULL)
        return TKR_E_INVALID_ARG;
    if (port->store_read == NULL)
        return TKR_E_UNSUPPORTED;
    for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        snprintf(ca->source, sizeof(ca->source), "%s/%s", dir, names[i]);
        rc = read_file(port, ca->source, buf + buf_size / 2,
                       buf_size - buf_size / 2, &len);
        if (rc == TKR_E_NOT_FOUND)
            continue;
        if (rc != 0) {
            ca->what = rc == TKR_E_BUFFER_TOO_SMALL ? "file too large"
                                                    : "cannot read the file";
            break;
        }
        rc = tkr_certjson_parse(ca, buf, buf_size / 2, buf + buf_size / 2,
                                len, port);
        break;
    }
    if (rc == TKR_E_NOT_FOUND && i == sizeof(names) / sizeof(names[0])) {
        rc = load_pair(ca, buf, buf_size, dir, port);
        if (rc == TKR_E_NOT_FOUND && ca->what == NULL) {
            snprintf(ca->source, sizeof(ca->source), "%s", dir);
            ca->what = "no state/cert.json, cert.json or rootCA.pem + rootCA.key";
        }
    }
    mbedtls_platform_zeroize(buf, buf_size);
    return rc;
}
