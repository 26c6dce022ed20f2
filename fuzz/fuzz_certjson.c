/* fuzz_certjson.c — libFuzzer harness for the root CA loaders and key
 * parsing.
 *
 * The input is used as (1) a state/cert.json document, (2) the text of both
 * rootCA.pem and rootCA.key (a combined PEM file holds both), and (3) a
 * public and a private key, PEM (NUL-terminated copy) and DER (raw bytes).
 * Invariants (abort on violation):
 *   - tkr_certjson_parse leaves no PEM text in the caller's scratch buffer
 *     (wholly wiped, or untouched when it failed before using it), never
 *     writes past it (exact-size heap buffer) and, given half the room,
 *     fails only with TKR_E_BUFFER_TOO_SMALL / TKR_E_TYPE or as before;
 *   - every failure names its reason in the diagnostics;
 *   - a loaded CA has a NUL-terminated CN, its key is the certificate's, and
 *     a token it signs verifies under the certificate's public key;
 *   - a parsed public key survives a DER round trip unchanged;
 *   - a parsed private key whose halves agree signs a token that verifies
 *     under that same key, for the algorithm it defaults to. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mbedtls/pk.h>
#include <mbedtls/x509_crt.h>

#include "tokenroll/certjson.h"
#include "tokenroll/error.h"
#include "tokenroll/jwt.h"
#include "tokenroll/key.h"
#include "tokenroll/port.h"
#include "tkr_port_posix.h"

#include "fuzz_check.h"

static tkr_port_t port;
static tkr_diag_t diag;
static tkr_posix_t posix;

int LLVMFuzzerInitialize(int *argc, char ***argv);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    posix.log_level = -1;
    posix.fixed_now = 1767225600;
    tkr_port_posix_init(&port, &posix);
    port.entropy = fixed_entropy;
    return 0;
}

/* No PEM text left behind: the scratch is either untouched (a failure
 * before anything was copied into it) or wholly wiped. */
static int wiped_or_untouched(const char *p, size_t n, char fill)
{
    size_t i, zero = 0, same = 0;

    for (i = 0; i < n; i++) {
        zero += p[i] == 0;
        same += p[i] == fill;
    }
    return zero == n || same == n;
}

/* Sign a small token with priv under its default algorithm and verify it
 * with pub. Skipped for keys tokenroll does not sign with (P-521, RSA
 * under 2048 bits) and for RSA keys over TKR_JWT_SIG_MAX. */
static void sign_and_verify(mbedtls_pk_context *priv, mbedtls_pk_context *pub)
{
    static const char claims[] = "{\"sub\":\"site-1\",\"iat\":1767225600}";
    static char tok[2048];
    static tkr_jwt_t jwt;
    tkr_jwt_alg_t alg;
    size_t len = 0;
    int rc;

    if (tkr_key_default_alg(priv, &alg) != 0)
        return;
    rc = tkr_jwt_sign(tok, sizeof(tok), &len, priv, alg, "k", claims,
                      sizeof(claims) - 1, &port);
    if (tkr_key_check_alg(priv, alg) != 0) {
        CHECK(rc == TKR_E_KEY_ALG);
        return;
    }
    if (rc == TKR_E_BUFFER_TOO_SMALL &&
        mbedtls_pk_get_len(priv) > TKR_JWT_SIG_MAX)
        return;
    CHECK(rc == 0);
    CHECK(tkr_jwt_parse(&jwt, tok, len, NULL) == 0);
    CHECK(jwt.alg == alg);
    CHECK(tkr_jwt_verify_sig(&jwt, alg, pub) == 0);
    if (alg == TKR_JWT_RS256) {
        /* PS256 with the same key: the other RSA padding. */
        rc = tkr_jwt_sign(tok, sizeof(tok), &len, priv, TKR_JWT_PS256, NULL,
                          claims, sizeof(claims) - 1, &port);
        CHECK(rc == 0);
        CHECK(tkr_jwt_parse(&jwt, tok, len, NULL) == 0);
        CHECK(tkr_jwt_verify_sig(&jwt, TKR_JWT_PS256, pub) == 0);
        CHECK(tkr_jwt_verify_sig(&jwt, TKR_JWT_RS256, pub) == TKR_E_JWT_ALG);
    }
}

static void check_ca(const tkr_ca_t *ca)
{
    tkr_ca_t *c = (tkr_ca_t *)ca;

    CHECK(memchr(ca->cn, 0, sizeof(ca->cn)) != NULL);
    CHECK(tkr_key_check_pair(&c->cert.pk, &c->key, &port, NULL) == 0);
    sign_and_verify(&c->key, &c->cert.pk);
}

#define FILL_A ((char)0x7f)  /* DEL: never part of a PEM */
#define FILL_B ((char)0x01)

static void certjson(const char *js, size_t size)
{
    char *scratch = malloc(size > 0 ? size : 1);
    size_t half = size / 2;
    tkr_ca_t ca;
    int rc, rc2;

    CHECK(scratch != NULL);
    /* "at least len bytes" of scratch: exactly that. */
    memset(scratch, FILL_A, size > 0 ? size : 1);
    tkr_ca_init(&ca);
    tkr_diag_clear(&diag);
    rc = tkr_certjson_parse(&ca, scratch, size, js, size, &port, &diag);
    CHECK(wiped_or_untouched(scratch, size, FILL_A));
    if (rc == 0) {
        check_ca(&ca);
    } else {
        CHECK(diag.msg[0] != '\0');
        CHECK(rc == TKR_E_JSON || rc == TKR_E_JSON_DEPTH ||
              rc == TKR_E_JSON_DUPLICATE || rc == TKR_E_JSON_TOKENS ||
              rc == TKR_E_UTF8 || rc == TKR_E_TOO_LARGE || rc == TKR_E_TYPE ||
              rc == TKR_E_NOT_FOUND || rc == TKR_E_CERT || rc == TKR_E_KEY ||
              rc == TKR_E_KEY_MISMATCH);
    }
    tkr_ca_free(&ca);
    free(scratch);

    /* Half the scratch: the PEMs may no longer fit, nothing else changes. */
    if (half == 0)
        return;
    scratch = malloc(half);
    CHECK(scratch != NULL);
    memset(scratch, FILL_B, half);
    tkr_ca_init(&ca);
    rc2 = tkr_certjson_parse(&ca, scratch, half, js, size, &port, NULL);
    CHECK(wiped_or_untouched(scratch, half, FILL_B));
    /* Too small a scratch is the caller's fault and says so; a key member
     * left exactly no room is seen as an unreadable string. */
    CHECK(rc2 == rc || rc2 == TKR_E_BUFFER_TOO_SMALL || rc2 == TKR_E_TYPE);
    if (rc2 == 0)
        check_ca(&ca);
    tkr_ca_free(&ca);
    free(scratch);
}

/* rootCA.pem + rootCA.key read from one combined file. */
static void pem_pair(const char *pem, size_t size)
{
    tkr_ca_t ca;
    int rc;

    tkr_ca_init(&ca);
    tkr_diag_clear(&diag);
    rc = tkr_ca_load_pem(&ca, pem, size + 1, pem, size + 1, &port, &diag);
    if (rc == 0)
        check_ca(&ca);
    else
        CHECK(diag.msg[0] != '\0');
    tkr_ca_free(&ca);
}

static void public_key(const uint8_t *buf, size_t len)
{
    unsigned char der[1200], der2[1200];
    mbedtls_pk_context pk, again;
    tkr_jwt_alg_t alg;
    int n, n2, rc;

    mbedtls_pk_init(&pk);
    rc = tkr_key_parse_public(&pk, buf, len, NULL);
    CHECK(rc == 0 || rc == TKR_E_KEY);
    if (rc == 0) {
        rc = tkr_key_default_alg(&pk, &alg);
        CHECK(rc == 0 || rc == TKR_E_KEY_ALG);
        n = mbedtls_pk_write_pubkey_der(&pk, der, sizeof(der));
        if (n > 0) {
            mbedtls_pk_init(&again);
            CHECK(tkr_key_parse_public(&again, der + sizeof(der) - n,
                                       (size_t)n, NULL) == 0);
            n2 = mbedtls_pk_write_pubkey_der(&again, der2, sizeof(der2));
            CHECK(n2 == n && memcmp(der + sizeof(der) - n,
                                    der2 + sizeof(der2) - n2, (size_t)n) == 0);
            mbedtls_pk_free(&again);
        }
    }
    mbedtls_pk_free(&pk);
}

static void private_key(const uint8_t *buf, size_t len)
{
    mbedtls_pk_context pk;
    int rc;

    mbedtls_pk_init(&pk);
    rc = tkr_key_parse_private(&pk, buf, len, &port, NULL);
    CHECK(rc == 0 || rc == TKR_E_KEY);
    /* A key whose public half is not d*G (or n != p*q) may parse; only a
     * consistent one must sign verifiable tokens. */
    if (rc == 0 && tkr_key_check_pair(&pk, &pk, &port, NULL) == 0)
        sign_and_verify(&pk, &pk);
    mbedtls_pk_free(&pk);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);

    CHECK(text != NULL);
    memcpy(text, data, size);
    text[size] = '\0';

    certjson(text, size);
    pem_pair(text, size);
    public_key((const uint8_t *)text, size + 1);  /* PEM: NUL counted */
    private_key((const uint8_t *)text, size + 1);
    if (size > 0) {
        public_key(data, size);                     /* DER */
        private_key(data, size);
    }
    free(text);
    return 0;
}
