/* tls_openssl.c — the HTTPS server's handshake signatures on libcrypto
 * (tls_openssl.h).
 *
 * GnuTLS hands an external key the bytes to sign, already hashed, with the
 * signature scheme it negotiated:
 * - RSA PKCS#1 v1.5 (TLS 1.2) arrives as GNUTLS_SIGN_RSA_RAW with the
 *   DigestInfo already wrapped around the hash: padded and signed as is;
 * - RSA-PSS (TLS 1.3, and TLS 1.2 when the client offers it) as the hash,
 *   signed with MGF1 over the same hash and a salt as long as the hash
 *   (RFC 8446 §4.2.3);
 * - ECDSA as the hash, the signature DER-encoded as TLS wants it.
 * Only the rsa_pss_rsae schemes are offered for RSA: the certificate holds
 * an rsaEncryption key, which the rsa_pss_pss schemes exclude. */
#include "tls_openssl.h"

#if defined(TKR_WITH_OPENSSL)
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "tokenroll/error.h"

/* A server chain longer than this is a configuration error. */
#define CHAIN_MAX 8

struct cli_tls_key {
    gnutls_pcert_st chain[CHAIN_MAX];
    unsigned chain_len;
    gnutls_privkey_t priv; /* GnuTLS's face of pkey */
    EVP_PKEY *pkey;
    int pk;                /* GNUTLS_PK_RSA or GNUTLS_PK_ECDSA */
};

/* The key the certificate callback returns (see the header). */
static cli_tls_key_t *in_use;

static const EVP_MD *md_of(gnutls_digest_algorithm_t h)
{
    switch (h) {
    case GNUTLS_DIG_SHA256: return EVP_sha256();
    case GNUTLS_DIG_SHA384: return EVP_sha384();
    case GNUTLS_DIG_SHA512: return EVP_sha512();
    default: return NULL;
    }
}

static int is_rsae_pss(gnutls_sign_algorithm_t s)
{
    return s == GNUTLS_SIGN_RSA_PSS_RSAE_SHA256 || s == GNUTLS_SIGN_RSA_PSS_RSAE_SHA384 ||
           s == GNUTLS_SIGN_RSA_PSS_RSAE_SHA512;
}

/* Whether this key signs with scheme s (what the handshake may choose). */
static int can_sign(const cli_tls_key_t *k, gnutls_sign_algorithm_t s)
{
    gnutls_pk_algorithm_t pk = gnutls_sign_get_pk_algorithm(s);

    if (k->pk == GNUTLS_PK_ECDSA)
        return pk == GNUTLS_PK_ECDSA && md_of(gnutls_sign_get_hash_algorithm(s)) != NULL;
    if (is_rsae_pss(s))
        return 1;
    return pk == GNUTLS_PK_RSA && md_of(gnutls_sign_get_hash_algorithm(s)) != NULL;
}

static int info(gnutls_privkey_t priv, unsigned flags, void *arg)
{
    const cli_tls_key_t *k = arg;

    (void)priv;
    if (flags & GNUTLS_PRIVKEY_INFO_PK_ALGO)
        return k->pk;
    if (flags & GNUTLS_PRIVKEY_INFO_PK_ALGO_BITS)
        return EVP_PKEY_get_bits(k->pkey);
    if (flags & GNUTLS_PRIVKEY_INFO_HAVE_SIGN_ALGO)
        return can_sign(k, (gnutls_sign_algorithm_t)GNUTLS_FLAGS_TO_SIGN_ALGO(flags));
    return -1; /* GNUTLS_PRIVKEY_INFO_SIGN_ALGO: no preference */
}

/* How libcrypto signs for scheme s: padding, and the hash it was made with. */
static int set_scheme(EVP_PKEY_CTX *ctx, const cli_tls_key_t *k, gnutls_sign_algorithm_t s)
{
    const EVP_MD *md;

    if (k->pk == GNUTLS_PK_ECDSA)
        return gnutls_sign_get_pk_algorithm(s) == GNUTLS_PK_ECDSA ? 0 : -1;
    if (s == GNUTLS_SIGN_RSA_RAW)
        return EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING) > 0 ? 0 : -1;
    if (!is_rsae_pss(s) || (md = md_of(gnutls_sign_get_hash_algorithm(s))) == NULL)
        return -1;
    return EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PSS_PADDING) > 0 &&
                   EVP_PKEY_CTX_set_signature_md(ctx, md) > 0 &&
                   EVP_PKEY_CTX_set_rsa_mgf1_md(ctx, md) > 0 &&
                   EVP_PKEY_CTX_set_rsa_pss_saltlen(ctx, RSA_PSS_SALTLEN_DIGEST) > 0
               ? 0
               : -1;
}

/* Called from the server's threads at once: everything shared is read
 * only, each signature has its own libcrypto context. */
static int sign_hash(gnutls_privkey_t priv, gnutls_sign_algorithm_t s, void *arg,
                     unsigned flags, const gnutls_datum_t *hash, gnutls_datum_t *sig)
{
    const cli_tls_key_t *k = arg;
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, k->pkey, NULL);
    size_t len = 0;
    int rc = GNUTLS_E_PK_SIGN_FAILED;

    (void)priv;
    (void)flags;
    sig->data = NULL;
    if (ctx == NULL || EVP_PKEY_sign_init(ctx) <= 0 || set_scheme(ctx, k, s) != 0 ||
        EVP_PKEY_sign(ctx, NULL, &len, hash->data, hash->size) <= 0 ||
        (sig->data = gnutls_malloc(len)) == NULL)
        goto out;
    if (EVP_PKEY_sign(ctx, sig->data, &len, hash->data, hash->size) <= 0) {
        gnutls_free(sig->data);
        sig->data = NULL;
        goto out;
    }
    sig->size = (unsigned)len;
    rc = 0;
out:
    EVP_PKEY_CTX_free(ctx);
    return rc;
}

/* A server has no one to ask for a passphrase: an encrypted key fails
 * here rather than wait on a terminal. */
static int no_passphrase(char *buf, int size, int rwflag, void *arg)
{
    (void)buf;
    (void)size;
    (void)rwflag;
    (void)arg;
    return -1;
}

static EVP_PKEY *read_key(const char *pem)
{
    BIO *b = BIO_new_mem_buf(pem, -1);
    EVP_PKEY *p = b != NULL ? PEM_read_bio_PrivateKey(b, NULL, no_passphrase, NULL) : NULL;

    BIO_free(b);
    return p;
}

/* Whether the chain's first certificate holds pkey's public half. */
static int matches(const gnutls_pcert_st *leaf, EVP_PKEY *pkey)
{
    const unsigned char *p = leaf->cert.data;
    X509 *x = d2i_X509(NULL, &p, (long)leaf->cert.size);
    int ok = x != NULL && EVP_PKEY_eq(X509_get0_pubkey(x), pkey) == 1;

    X509_free(x);
    return ok;
}

int cli_tls_key_load(cli_tls_key_t **out, const char *cert_pem, const char *key_pem,
                     char *err, size_t err_size)
{
    cli_tls_key_t *k = calloc(1, sizeof(*k));
    gnutls_datum_t d;
    const char *why = NULL;

    *out = NULL;
    if (k == NULL) {
        snprintf(err, err_size, "out of memory");
        return TKR_E_NO_MEMORY;
    }
    d.data = (unsigned char *)(uintptr_t)cert_pem;
    d.size = (unsigned)strlen(cert_pem);
    k->chain_len = CHAIN_MAX;
    if (gnutls_pcert_list_import_x509_raw(k->chain, &k->chain_len, &d, GNUTLS_X509_FMT_PEM,
                                          0) < 0 || k->chain_len == 0) {
        k->chain_len = 0;
        why = "the TLS certificate is not a PEM certificate chain (at most 8)";
    } else if ((k->pkey = read_key(key_pem)) == NULL) {
        why = "the TLS key is not an unencrypted PEM private key";
    } else if (EVP_PKEY_get_base_id(k->pkey) != EVP_PKEY_RSA &&
               EVP_PKEY_get_base_id(k->pkey) != EVP_PKEY_EC) {
        why = "the TLS key is neither RSA nor EC";
    } else if (!matches(&k->chain[0], k->pkey)) {
        why = "the TLS key does not match the TLS certificate";
    } else {
        k->pk = EVP_PKEY_get_base_id(k->pkey) == EVP_PKEY_RSA ? GNUTLS_PK_RSA : GNUTLS_PK_ECDSA;
        if (gnutls_privkey_init(&k->priv) < 0 ||
            gnutls_privkey_import_ext4(k->priv, k, NULL, sign_hash, NULL, NULL, info, 0) < 0)
            why = "GnuTLS refused the TLS key";
    }
    if (why != NULL) {
        snprintf(err, err_size, "%s", why);
        cli_tls_key_free(k);
        return TKR_E_INVALID_ARG;
    }
    in_use = k;
    *out = k;
    return 0;
}

void cli_tls_key_free(cli_tls_key_t *k)
{
    unsigned i;

    if (k == NULL)
        return;
    if (in_use == k)
        in_use = NULL;
    for (i = 0; i < k->chain_len; i++)
        gnutls_pcert_deinit(&k->chain[i]);
    if (k->priv != NULL)
        gnutls_privkey_deinit(k->priv);
    EVP_PKEY_free(k->pkey);
    free(k);
}

int cli_tls_retrieve(gnutls_session_t session, const gnutls_datum_t *req_ca_rdn, int nreqs,
                     const gnutls_pk_algorithm_t *pk_algos, int pk_algos_length,
                     gnutls_pcert_st **pcert, unsigned int *pcert_length,
                     gnutls_privkey_t *privkey)
{
    (void)session;
    (void)req_ca_rdn;
    (void)nreqs;
    (void)pk_algos;
    (void)pk_algos_length;
    if (in_use == NULL)
        return -1;
    *pcert = in_use->chain;
    *pcert_length = in_use->chain_len;
    *privkey = in_use->priv;
    return 0;
}
#endif
