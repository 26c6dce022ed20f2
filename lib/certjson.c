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

int tkr_ca_load_pem(tkr_ca_t *ca, const char *cert_pem, size_t cert_len,
                    const char *key_pem, size_t key_len,
                    const tkr_port_t *port, tkr_diag_t *diag)
{
    int rc;

    if (ca == NULL || cert_pem == NULL || (key_pem == NULL && ca->key_text == NULL))
        return TKR_E_INVALID_ARG;
    rc = mbedtls_x509_crt_parse(&ca->cert, (const unsigned char *)cert_pem, cert_len);
    if (rc != 0) {
        if (diag != NULL)
            diag->mbedtls = rc;
        return tkr_diag(diag, TKR_E_CERT, "root_cert", "the root certificate does not parse");
    }
    /* A leaf certificate would sign tokens fine, but nothing it issues
     * could ever chain: refuse it here, where the mistake is made. */
    if (!tkr_compat_crt_is_ca(&ca->cert))
        return tkr_diag(diag, TKR_E_CERT, "root_cert",
                        "the root certificate is not a CA (basicConstraints CA:TRUE missing)");
    if (ca->key_text != NULL) {
        /* The key's text is handed over, not parsed (see tkr_ca_t). */
        subject_cn(ca);
        ca->key_len = 0;
        if (key_pem == NULL || key_len == 0)
            return 0;
        if (key_len >= ca->key_text_size)
            return tkr_diag(diag, TKR_E_TOO_LARGE, "root_pri_key",
                            "the root private key is too large");
        memcpy(ca->key_text, key_pem, key_len);
        /* key_len counts a PEM text's NUL: keep the text's own length */
        ca->key_len = key_pem[key_len - 1] == '\0' ? key_len - 1 : key_len;
        ca->key_text[ca->key_len] = '\0';
        return 0;
    }
    rc = tkr_key_parse_private(&ca->key, (const uint8_t *)key_pem, key_len, port,
                               diag);
    if (rc != 0)
        return tkr_diag(diag, rc, "root_pri_key",
                        "the root private key does not parse (RSA or EC, PKCS#1, SEC1 or "
                        "unencrypted PKCS#8 expected)");
    if (tkr_key_check_pair(&ca->cert.pk, &ca->key, port, diag) != 0)
        return tkr_diag(diag, TKR_E_KEY_MISMATCH, "root_pri_key",
                        "the private key does not belong to the root certificate");
    subject_cn(ca);
    return 0;
}

static int pem_member(const tkr_json_t *doc, const char *name, char *out, size_t size,
                      size_t *len, tkr_diag_t *diag)
{
    int key = strcmp(name, "root_pri_key") == 0;
    int t = tkr_json_find(doc, 0, name), rc;

    if (t < 0)
        return tkr_diag(diag, TKR_E_NOT_FOUND, name,
                        key ? "\"root_pri_key\" is missing" : "\"root_cert\" is missing");
    rc = tkr_json_get_str(doc, out, size, len, t);
    /* the caller's scratch, not the file, is at fault */
    if (rc == TKR_E_BUFFER_TOO_SMALL)
        return tkr_diag(diag, rc, name, "the scratch buffer is too small for the PEM texts");
    if (rc != 0)
        return tkr_diag(diag, TKR_E_TYPE, name,
                        key ? "\"root_pri_key\" is not a PEM string"
                            : "\"root_cert\" is not a PEM string");
    return 0;
}

int tkr_certjson_parse(tkr_ca_t *ca, char *buf, size_t buf_size,
                       const char *json, size_t len, const tkr_port_t *port,
                       tkr_diag_t *diag)
{
    tkr_json_tok_t tok[CERTJSON_TOKENS];
    tkr_json_t doc;
    size_t cl = 0, kl = 0;
    int rc;

    if (ca == NULL || buf == NULL || json == NULL)
        return TKR_E_INVALID_ARG;
    rc = tkr_json_parse(&doc, tok, CERTJSON_TOKENS, json, len, diag);
    if (rc == 0 && tkr_json_type(&doc, 0) != TKR_JSON_OBJECT)
        rc = TKR_E_TYPE;
    if (rc != 0)
        return tkr_diag(diag, rc, NULL, "not a JSON object");
    rc = pem_member(&doc, "root_cert", buf, buf_size, &cl, diag);
    if (rc == 0) {
        rc = pem_member(&doc, "root_pri_key", buf + cl + 1, buf_size - cl - 1, &kl, diag);
        /* tkr_json_get_str left a NUL after each: PEM lengths count it */
        if (rc == TKR_E_NOT_FOUND && ca->key_text != NULL) { /* key kept elsewhere */
            if (diag != NULL) /* not a failure: take back what was said */
                diag->msg[0] = diag->name[0] = '\0';
            rc = tkr_ca_load_pem(ca, buf, cl + 1, NULL, 0, port, diag);
        } else if (rc == 0) {
            rc = tkr_ca_load_pem(ca, buf, cl + 1, buf + cl + 1, kl + 1, port, diag);
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

/* *none = 1 when there is no rootCA.pem either: no CA at all. */
static int load_pair(tkr_ca_t *ca, char *buf, size_t buf_size, const char *dir,
                     const tkr_port_t *port, int *none, tkr_diag_t *diag)
{
    char key_path[TKR_PATH_MAX];
    size_t cl, kl, half = buf_size / 2;
    int rc;

    snprintf(ca->source, sizeof(ca->source), "%s/rootCA.pem", dir);
    snprintf(key_path, sizeof(key_path), "%s/rootCA.key", dir);
    rc = read_file(port, ca->source, buf, half, &cl);
    *none = rc == TKR_E_NOT_FOUND;
    if (rc == TKR_E_NOT_FOUND)
        return rc;
    if (rc != 0)
        return tkr_diag(diag, rc, "rootCA.pem",
                        rc == TKR_E_BUFFER_TOO_SMALL ? "file too large" : "cannot read the file");
    rc = read_file(port, key_path, buf + half, buf_size - half, &kl);
    if (rc == TKR_E_NOT_FOUND && ca->key_text != NULL) /* key kept elsewhere */
        return tkr_ca_load_pem(ca, buf, cl + 1, NULL, 0, port, diag);
    if (rc != 0) {
        memcpy(ca->source, key_path, sizeof(ca->source));
        return tkr_diag(diag, rc, "rootCA.key",
                        rc == TKR_E_NOT_FOUND ? "rootCA.key is missing beside rootCA.pem"
                                              : "cannot read rootCA.key");
    }
    /* read_file left a NUL after each text: PEM lengths count it */
    return tkr_ca_load_pem(ca, buf, cl + 1, buf + half, kl + 1, port, diag);
}

int tkr_certjson_load(tkr_ca_t *ca, char *buf, size_t buf_size,
                      const char *dir, const tkr_port_t *port, tkr_diag_t *diag)
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
            tkr_diag(diag, rc, names[i],
                     rc == TKR_E_BUFFER_TOO_SMALL ? "file too large" : "cannot read the file");
            break;
        }
        rc = tkr_certjson_parse(ca, buf, buf_size / 2, buf + buf_size / 2,
                                len, port, diag);
        break;
    }
    if (rc == TKR_E_NOT_FOUND && i == sizeof(names) / sizeof(names[0])) {
        int none;
        rc = load_pair(ca, buf, buf_size, dir, port, &none, diag);
        if (none) {
            snprintf(ca->source, sizeof(ca->source), "%s", dir);
            tkr_diag(diag, rc, "state/cert.json",
                     "no state/cert.json, cert.json or rootCA.pem + rootCA.key");
        }
    }
    if (diag != NULL && rc != 0)
        diag->file = ca->source;
    mbedtls_platform_zeroize(buf, buf_size);
    return rc;
}
