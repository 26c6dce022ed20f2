/* fuzz_jwt.c — libFuzzer harness for compact JWS parsing and verification.
 *
 * The input is a token (no trailing newline). Invariants (abort on
 * violation):
 *   - parse either fails with a documented code and leaves the context
 *     reset (nothing of a rejected token is usable), or yields NUL-terminated
 *     header and claims within their limits whose base64url re-encoding is
 *     the token's own segments byte for byte, a JSON object header without
 *     "crit", the alg and kid as written (unescaped), and the digest of the
 *     signing input;
 *   - parsing into a context that held another token gives the same result
 *     (no state leaks from one token to the next);
 *   - tkr_jwt_check_claims agrees with a reference model (128-bit time
 *     arithmetic, strcmp on unescaped strings) for several clocks and rules,
 *     including rules taken from the token itself;
 *   - tkr_jwt_verify_sig under every pin reports JWT_ALG / KEY_ALG /
 *     SIG_LEN exactly when the reference says so, and NEVER returns 0 for the
 *     "no-token" keys below, made once with openssl and whose private halves
 *     were discarded: no valid signature by them exists, so a 0 is a forgery;
 *   - re-signing the claims (ES256, a key generated at start-up) gives a
 *     token that parses back to the same claims and kid and verifies, and
 *     stops verifying when one signature bit flips.
 * The "seed" keys signed some corpus tokens (flare_*.jwt with FLARE's CA);
 * they reach the verify-success paths and are not expected to fail. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mbedtls/ecp.h>
#include <mbedtls/md.h>
#include <mbedtls/pk.h>

#include "tokenroll/b64url.h"
#include "tokenroll/error.h"
#include "tokenroll/json.h"
#include "tokenroll/jwt.h"
#include "tokenroll/key.h"
#include "tokenroll/port.h"
#include "tkr_port_posix.h"

#include "fuzz_check.h"

/* ---- keys ---- */

/* No-token keys: verification with them must never succeed. */
static const char nt_rsa2048[] =
    "-----BEGIN PUBLIC KEY-----\n"
    "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA9OvgLKzEoxO6WMzu8+Fh\n"
    "3q4woJ4Ulb3cZrtfzS+OaUdIR/HdXPL623cYgVMzykKkj0504/tDOcgUEfLEhN4M\n"
    "Zz5mabC1vHmSOSfBXAPobKdj7hWcYP53cxnI3CDIQ9udKa/TgEb+FUVNPfCsRdf+\n"
    "raL4elS6N+351sxBz7kmyrQdkEtQ817+5OWW8tbNrEu9XfYlwcY/5TLSxNd/gMMn\n"
    "Bmhr+yL2iz8/obo14QdXj2qwCRs9e1miBaD1hZNPadkW7ZG8aKdYfTlIcsDryiPp\n"
    "lk/+a1Qd0f7RifjX5XrUAJup1xBEYON7qDoIuzulJ6JD4vf1drxDHJxa6Dgwdd/0\n"
    "ZQIDAQAB\n"
    "-----END PUBLIC KEY-----\n";
static const char nt_p256[] =
    "-----BEGIN PUBLIC KEY-----\n"
    "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEpyYq+J58yJ582A+Y/Vuz6ynmOfP4\n"
    "80o4RPfYYST/J0Im6CwYVvs6sgfGn1hQ2ZLxYYuguNuhFs2X2+StxVqelA==\n"
    "-----END PUBLIC KEY-----\n";
static const char nt_p384[] =
    "-----BEGIN PUBLIC KEY-----\n"
    "MHYwEAYHKoZIzj0CAQYFK4EEACIDYgAE0i0a2rWi/UhzwihqEMY6iBC5KEP0fdZm\n"
    "8obC+emhpPdMmgTe7H3+ftPOlBY1aCQ7emqpjPx6XCbP96qwChuiGHTk9A5CV6Rg\n"
    "bM5pamGnNV0MnfYlLNr7AjTAdsfs+iZY\n"
    "-----END PUBLIC KEY-----\n";

/* Seed keys: some corpus tokens carry valid signatures by these. */
static const char seed_flare_ca[] = /* tests/vectors/flare/rootCA.pem */
    "-----BEGIN PUBLIC KEY-----\n"
    "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAyhm+hbaNUJAG1Jtg2D5S\n"
    "/nKy/MkYOmmNgngtXrK6R9YTACmJrEPIHonFH/4Uf3pFdc/f4Wd1aXp07V6dR2Zg\n"
    "cOBsZ4AamZbrdaSL+qdCSOdM/kEm2XZWbH39dwtDEmV8NvuJxvUpy7hAe0tISxnr\n"
    "gNaqx9+IYMgJ48m2dfKuqXRntnFoiQ+y3bm208GRxpTPf8kHXAgGe6fsohdTBjUg\n"
    "Y3cf/to3ted4o9JbWkL4GQlhahN7E+q3/5QYeZU+f7fItcopXAfgxi0QamGp7Zef\n"
    "Q0mnKMe0kBnT1blg1t90iX3rAKN7YKvH0gQRVFTtesDNNgqiK+agdKnN/P5LW6yW\n"
    "hwIDAQAB\n"
    "-----END PUBLIC KEY-----\n";
static const char seed_rsa2048[] =
    "-----BEGIN PUBLIC KEY-----\n"
    "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEApXPglkmcWTtZqxH91t3J\n"
    "l6Ll2iWXL8cT3Bp1o07Ldk7JFHCeLLKqhvJsbLxBJSmnj9kQqTPKl2usxx2tdyz1\n"
    "RxtMcyQq9oCRq33oYPg5OO3syzBQiGTT2KQC6lM0GcnI0rn89uxZPV5YTNdW/d7P\n"
    "ZHFJCxtq9IAVe8HFkA55XfGvK2d78Ub2gjzh0SI1sDX+tYiqlFKhASmkiXaRfAet\n"
    "TnYgLfwz1mTG10G91Rn8AnsrzwmXqoXdSUB4neBKctNIjeCX0quXaePmpltV9HW/\n"
    "HPx9EqRzEx83zDSbNvjLEfMv71YT7uqBwltcQtKWFJxvx0NaGsvTMv/V+oYVsTCI\n"
    "bQIDAQAB\n"
    "-----END PUBLIC KEY-----\n";
static const char seed_p256[] =
    "-----BEGIN PUBLIC KEY-----\n"
    "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEocPt9dQnHudJhezGeM3wBvaAgtpX\n"
    "yaCq7hdPXg12cqZDamQ1uxdJ1LYVzx6l5slznoNnq2DoBZTUh+fA5XEegA==\n"
    "-----END PUBLIC KEY-----\n";
static const char seed_p384[] =
    "-----BEGIN PUBLIC KEY-----\n"
    "MHYwEAYHKoZIzj0CAQYFK4EEACIDYgAEhkZVVm7myTu0IijeAo5O60DLbHssrDSw\n"
    "rBkDxzn0r7Q4P8edR/GQsMhGCuXSTki1u7MIMpngcGInRM42HRRcQsUS7YpjrwrD\n"
    "+nQYPVUDeARBzy+M6Jyip60yx3JAN59w\n"
    "-----END PUBLIC KEY-----\n";

/* A token signed by seed_rsa2048 (corpus rs256_kid.jwt): parsed into a
 * context before the input to catch state carried over. */
static const char other_token[] =
    "eyJhbGciOiJSUzI1NiIsImtpZCI6InNlZWQtcnNhIiwidHlwIjoiSldUIn0.eyJqdGkiOiIw"
    "MDAwMDAwMC0wMDAwLTQwMDAtODAwMC0wMDAwMDAwMGFiY2QiLCJzdWIiOiJzaXRlLTEiLCJp"
    "YXQiOjE3NjcyMjU2MDAsImV4cCI6MTc2NzgzMDQwMCwiaXNzIjoiZXhhbXBsZV9wcm9qZWN0"
    "Iiwic3ViamVjdF90eXBlIjoiY2xpZW50IiwibWF4X3VzZXMiOjEsImF1ZCI6InRva2Vucm9s"
    "bCIsIm5iZiI6MTc2NzIyNTU0MH0.XxpNGWQusjHm0oV3e9-uVZrx-gL3fJyGxg31M6Jr1OEq"
    "eutkUywYz2hE1T8ZcdihIot2Ig6HT8gmo642r6Vt-cNsp9udyi-RTHPSVnxqYpO-mXRRfdFz"
    "TmIrelX4OPVrTysvnqXkEJnRqCWRcPJED6NrLoDwvlYocf4Glj35BO0Sq_wWhisiAheaX9le"
    "uN6VWGJE2_BD54y9-_SPRK1Ji_7Lklv9qmA5nyMSXm5QwNmPed6MAKW3T7HtFZRgJFDEcwqA"
    "hGvX8Na92afFCyg45YurNhLc-2RY8huLps2L5J7Nmgt3h5r0L11PGlpWL_JMUJWwGWV16bdX"
    "pJ7dMaM5GA";

typedef struct {
    const char *pem;
    int no_token;           /* 1: must never verify */
    size_t sig_len;         /* RSA modulus bytes, or 2 * EC scalar bytes */
    tkr_jwt_alg_t algs[2];  /* what the key can verify */
    mbedtls_pk_context pk;
} vkey_t;

static vkey_t vkeys[] = {
    {nt_rsa2048, 1, 256, {TKR_JWT_RS256, TKR_JWT_PS256}, {0}},
    {nt_p256, 1, 64, {TKR_JWT_ES256, TKR_JWT_ES256}, {0}},
    {nt_p384, 1, 96, {TKR_JWT_ES384, TKR_JWT_ES384}, {0}},
    {seed_flare_ca, 0, 256, {TKR_JWT_RS256, TKR_JWT_PS256}, {0}},
    {seed_rsa2048, 0, 256, {TKR_JWT_RS256, TKR_JWT_PS256}, {0}},
    {seed_p256, 0, 64, {TKR_JWT_ES256, TKR_JWT_ES256}, {0}},
    {seed_p384, 0, 96, {TKR_JWT_ES384, TKR_JWT_ES384}, {0}},
};
#define NKEYS (sizeof(vkeys) / sizeof(vkeys[0]))

static mbedtls_pk_context sign_key;  /* ES256, generated at start-up */
static tkr_port_t port;
static tkr_posix_t posix;

int LLVMFuzzerInitialize(int *argc, char ***argv);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    size_t i;

    (void)argc;
    (void)argv;
    posix.log_level = -1;
    posix.fixed_now = 1767225600;
    tkr_port_posix_init(&port, &posix);
    port.entropy = fixed_entropy;
    for (i = 0; i < NKEYS; i++) {
        mbedtls_pk_init(&vkeys[i].pk);
        CHECK(tkr_key_parse_public(&vkeys[i].pk,
                                   (const uint8_t *)vkeys[i].pem,
                                   strlen(vkeys[i].pem) + 1, NULL) == 0);
        CHECK(tkr_key_check_alg(&vkeys[i].pk, vkeys[i].algs[0]) == 0);
    }
    mbedtls_pk_init(&sign_key);
    CHECK(mbedtls_pk_setup(&sign_key,
                           mbedtls_pk_info_from_type(MBEDTLS_PK_ECKEY)) == 0);
    CHECK(mbedtls_ecp_gen_key(MBEDTLS_ECP_DP_SECP256R1, mbedtls_pk_ec(sign_key),
                              tkr_port_rng, &port) == 0);
    return 0;
}

/* ---- reference model of tkr_jwt_check_claims ---- */

/* Unescaped string claim into a fresh buffer; NULL when absent, not a
 * string or holding U+0000. *present tells absent from the rest. */
static char *claim_str(const tkr_jwt_t *jwt, const char *name, int *present,
                       int *is_str)
{
    int t = tkr_jwt_claim(jwt, name);
    char *s;

    *present = t >= 0;
    *is_str = t >= 0 && tkr_json_type(&jwt->doc, t) == TKR_JSON_STRING;
    if (!*is_str)
        return NULL;
    s = malloc(jwt->claims_len + 1);
    CHECK(s != NULL);
    if (tkr_json_get_str(&jwt->doc, s, jwt->claims_len + 1, NULL, t) != 0) {
        free(s);
        return NULL;
    }
    return s;
}

static int ref_string(const tkr_jwt_t *jwt, const char *name, const char *want,
                      int mismatch)
{
    int present, is_str, rc = 0;
    char *s = claim_str(jwt, name, &present, &is_str);

    if (!present)
        rc = want != NULL ? TKR_E_CLAIM_MISSING : 0;
    else if (!is_str)
        rc = TKR_E_CLAIM_TYPE;
    else if (want != NULL && (s == NULL || strcmp(s, want) != 0))
        rc = mismatch;
    free(s);
    return rc;
}

static int ref_aud(const tkr_jwt_t *jwt, const char *want)
{
    int t = tkr_jwt_claim(jwt, "aud"), n, i, hit = 0;
    char *s = malloc(jwt->claims_len + 1);

    CHECK(s != NULL);
    if (t < 0) {
        free(s);
        return want != NULL ? TKR_E_CLAIM_MISSING : 0;
    }
    if (tkr_json_type(&jwt->doc, t) == TKR_JSON_STRING) {
        hit = want != NULL &&
              tkr_json_get_str(&jwt->doc, s, jwt->claims_len + 1, NULL, t) == 0 &&
              strcmp(s, want) == 0;
        free(s);
        return hit ? 0 : TKR_E_AUD;
    }
    if (tkr_json_type(&jwt->doc, t) != TKR_JSON_ARRAY) {
        free(s);
        return TKR_E_CLAIM_TYPE;
    }
    n = tkr_json_count(&jwt->doc, t);
    for (i = 0; i < n; i++) {
        int e = tkr_json_child(&jwt->doc, t, i);
        if (tkr_json_type(&jwt->doc, e) != TKR_JSON_STRING) {
            free(s);
            return TKR_E_CLAIM_TYPE;
        }
        if (want != NULL &&
            tkr_json_get_str(&jwt->doc, s, jwt->claims_len + 1, NULL, e) == 0 &&
            strcmp(s, want) == 0)
            hit = 1;
    }
    free(s);
    return hit ? 0 : TKR_E_AUD;
}

/* 1 present and integer, 0 absent, -1 present but not an int64. */
static int ref_numeric(const tkr_jwt_t *jwt, const char *name, int64_t *v)
{
    int t = tkr_jwt_claim(jwt, name);

    if (t < 0)
        return 0;
    return tkr_json_get_i64(&jwt->doc, v, t) == 0 ? 1 : -1;
}

static int ref_claims(const tkr_jwt_t *jwt, const tkr_jwt_rules_t *r,
                      int64_t now)
{
    static const char *const names[] = {"exp", "nbf", "iat", "iss",
                                        "sub", "aud", "jti"};
    __int128 lw, n = now;
    int64_t exp = 0, nbf = 0, iat = 0;
    int he, hn, hi, rc, present, is_str;
    unsigned i;
    char *s;

    lw = r->leeway < 0 ? 0 : r->leeway;
    if (lw > TKR_JWT_LEEWAY_MAX)
        lw = TKR_JWT_LEEWAY_MAX;
    for (i = 0; i < 7; i++)
        if ((r->required & (1u << i)) && tkr_jwt_claim(jwt, names[i]) < 0)
            return TKR_E_CLAIM_MISSING;
    he = ref_numeric(jwt, "exp", &exp);
    hn = ref_numeric(jwt, "nbf", &nbf);
    hi = ref_numeric(jwt, "iat", &iat);
    if (he < 0 || hn < 0 || hi < 0)
        return TKR_E_CLAIM_TYPE;
    s = claim_str(jwt, "jti", &present, &is_str);
    free(s);
    if (present && !is_str)
        return TKR_E_CLAIM_TYPE;
    if ((he || hn || hi) && now < 0)
        return TKR_E_INVALID_ARG;
    if (he && n >= (__int128)exp + lw)
        return TKR_E_EXPIRED;
    if (hn && n < (__int128)nbf - lw)
        return TKR_E_NOT_YET_VALID;
    if (hi && (__int128)iat > n + lw)
        return TKR_E_IAT_FUTURE;
    if ((rc = ref_string(jwt, "iss", r->iss, TKR_E_ISS)) != 0)
        return rc;
    if ((rc = ref_string(jwt, "sub", r->sub, TKR_E_SUB)) != 0)
        return rc;
    return ref_aud(jwt, r->aud);
}

static void check_claims(const tkr_jwt_t *jwt)
{
    static const int64_t nows[] = {1767225600, 1767225600 + 7 * 86400,
                                   1795453433, 0, -1, 4102444800,
                                   INT64_MAX - TKR_JWT_LEEWAY_MAX, INT64_MAX};
    static const int64_t leeways[] = {0, 60, -5, TKR_JWT_LEEWAY_MAX + 1,
                                      INT64_MAX, INT64_MIN};
    int present, is_str;
    char *iss = claim_str(jwt, "iss", &present, &is_str);
    char *sub = claim_str(jwt, "sub", &present, &is_str);
    char *aud = NULL;
    int t = tkr_jwt_claim(jwt, "aud"), e;
    tkr_jwt_rules_t rules[4];
    size_t i, k;

    /* Rules naming the token's own audience: its first element. */
    e = tkr_json_type(&jwt->doc, t) == TKR_JSON_ARRAY
            ? tkr_json_child(&jwt->doc, t, 0) : t;
    if (tkr_json_type(&jwt->doc, e) == TKR_JSON_STRING) {
        aud = malloc(jwt->claims_len + 1);
        CHECK(aud != NULL);
        if (tkr_json_get_str(&jwt->doc, aud, jwt->claims_len + 1, NULL, e) != 0) {
            free(aud);
            aud = NULL;
        }
    }
    memset(rules, 0, sizeof(rules));
    rules[1].required = 0x7f;
    rules[1].iss = "example_project";
    rules[1].sub = "site-1";
    rules[1].aud = "tokenroll";
    rules[2].iss = iss;
    rules[2].sub = sub;
    rules[2].aud = aud;
    rules[3].required = TKR_CLAIM_EXP | TKR_CLAIM_SUB;
    rules[3].sub = "";

    CHECK(tkr_jwt_check_claims(jwt, NULL, nows[0], NULL) ==
          ref_claims(jwt, &rules[0], nows[0]));
    for (i = 0; i < sizeof(nows) / sizeof(nows[0]); i++) {
        for (k = 0; k < 4; k++) {
            rules[k].leeway = leeways[(i + k) % (sizeof(leeways) / sizeof(leeways[0]))];
            CHECK(tkr_jwt_check_claims(jwt, &rules[k], nows[i], NULL) ==
                  ref_claims(jwt, &rules[k], nows[i]));
        }
    }
    /* The token's own iss/sub/aud (when plain strings) always match. */
    rules[2].leeway = 0;
    {
        int rc = tkr_jwt_check_claims(jwt, &rules[2], nows[0], NULL);
        CHECK(rc != TKR_E_ISS && rc != TKR_E_SUB);
        if (aud != NULL)
            CHECK(rc != TKR_E_AUD);
    }
    free(iss);
    free(sub);
    free(aud);
}

/* ---- signature ---- */

static void check_verify(const tkr_jwt_t *jwt)
{
    static const tkr_jwt_alg_t pins[] = {TKR_JWT_ALG_UNKNOWN, TKR_JWT_RS256,
                                         TKR_JWT_PS256, TKR_JWT_ES256,
                                         TKR_JWT_ES384};
    size_t k, p;

    for (k = 0; k < NKEYS; k++) {
        for (p = 0; p < sizeof(pins) / sizeof(pins[0]); p++) {
            tkr_jwt_alg_t pin = pins[p];
            int capable = pin != TKR_JWT_ALG_UNKNOWN &&
                          (pin == vkeys[k].algs[0] || pin == vkeys[k].algs[1]);
            int rc = tkr_jwt_verify_sig(jwt, pin, &vkeys[k].pk);

            if (pin == TKR_JWT_ALG_UNKNOWN || jwt->alg != pin) {
                CHECK(rc == TKR_E_JWT_ALG);
                continue;
            }
            if (!capable) {
                CHECK(rc == TKR_E_KEY_ALG);
                continue;
            }
            if (jwt->sig_len != vkeys[k].sig_len) {
                CHECK(rc == TKR_E_JWT_SIG_LEN);
                continue;
            }
            CHECK(rc == 0 || rc == TKR_E_SIGNATURE);
            if (vkeys[k].no_token)
                CHECK(rc != 0);           /* a forged signature verified */
            /* verify = verify_sig, then the claims. */
            CHECK(tkr_jwt_verify(jwt, pin, &vkeys[k].pk, NULL, 1767225600, NULL) ==
                  (rc != 0 ? rc : tkr_jwt_check_claims(jwt, NULL, 1767225600, NULL)));
        }
    }
}

/* ---- parse ---- */

static int segments(const char *tok, size_t len, size_t off[3], size_t n[3])
{
    const char *d1 = memchr(tok, '.', len), *d2;

    if (d1 == NULL)
        return -1;
    d2 = memchr(d1 + 1, '.', len - (size_t)(d1 + 1 - tok));
    if (d2 == NULL)
        return -1;
    off[0] = 0;
    n[0] = (size_t)(d1 - tok);
    off[1] = n[0] + 1;
    n[1] = (size_t)(d2 - d1 - 1);
    off[2] = (size_t)(d2 - tok) + 1;
    n[2] = len - off[2];
    return 0;
}

static void check_reencode(const char *tok, size_t off, size_t n,
                           const void *bytes, size_t blen)
{
    char *enc = malloc(n + 1);
    size_t elen = 0;

    CHECK(enc != NULL);
    CHECK(tkr_b64url_encode(enc, n + 1, &elen, bytes, blen) == 0);
    CHECK(elen == n && memcmp(enc, tok + off, n) == 0);
    free(enc);
}

static void check_parsed(const tkr_jwt_t *jwt, const char *tok, size_t len)
{
    size_t off[3], n[3], hlen = 0;
    const char *alg;
    uint8_t md[48];
    char kid[TKR_KID_MAX], name[sizeof(jwt->alg_name)];
    int t;

    CHECK(len <= TKR_JWT_MAX);
    CHECK(segments(tok, len, off, n) == 0);
    CHECK(memchr(tok + off[2], '.', n[2]) == NULL);
    CHECK(jwt->header_len < sizeof(jwt->header) && jwt->header[jwt->header_len] == 0);
    CHECK(jwt->claims_len < sizeof(jwt->claims) && jwt->claims[jwt->claims_len] == 0);
    CHECK(jwt->sig_len > 0 && jwt->sig_len <= sizeof(jwt->sig));
    check_reencode(tok, off[0], n[0], jwt->header, jwt->header_len);
    check_reencode(tok, off[1], n[1], jwt->claims, jwt->claims_len);
    check_reencode(tok, off[2], n[2], jwt->sig, jwt->sig_len);
    CHECK(jwt->signing_input_len == off[2] - 1);

    CHECK(tkr_json_type(&jwt->hdr, 0) == TKR_JSON_OBJECT);
    CHECK(tkr_json_type(&jwt->doc, 0) == TKR_JSON_OBJECT);
    CHECK(tkr_json_find(&jwt->hdr, 0, "crit") == TKR_E_NOT_FOUND);
    t = tkr_json_find(&jwt->hdr, 0, "alg");
    CHECK(t > 0 && tkr_json_type(&jwt->hdr, t) == TKR_JSON_STRING);
    CHECK(memchr(jwt->alg_name, 0, sizeof(jwt->alg_name)) != NULL);
    /* The algorithm is read by value, like every member: the name reported
     * and the algorithm used can never disagree ("\u0045S256" is ES256). */
    alg = tkr_jwt_alg_name(jwt->alg);
    if (tkr_json_get_str(&jwt->hdr, name, sizeof(name), &hlen, t) == 0) {
        CHECK(strcmp(name, jwt->alg_name) == 0);
        CHECK(jwt->alg == tkr_jwt_alg_from_name(name, hlen));
    } else {
        CHECK(strcmp(jwt->alg_name, "?") == 0);
        CHECK(jwt->alg == TKR_JWT_ALG_UNKNOWN);
    }
    if (jwt->alg != TKR_JWT_ALG_UNKNOWN)
        CHECK(alg != NULL && strcmp(alg, jwt->alg_name) == 0);
    CHECK(memchr(jwt->kid, 0, sizeof(jwt->kid)) != NULL);
    t = tkr_json_find(&jwt->hdr, 0, "kid");
    if (t < 0) {
        CHECK(jwt->kid[0] == '\0');
    } else {
        CHECK(tkr_json_get_str(&jwt->hdr, kid, sizeof(kid), NULL, t) == 0);
        CHECK(strcmp(kid, jwt->kid) == 0);
    }
    if (jwt->alg != TKR_JWT_ALG_UNKNOWN) {
        mbedtls_md_type_t type = jwt->alg == TKR_JWT_ES384 ? MBEDTLS_MD_SHA384
                                                           : MBEDTLS_MD_SHA256;
        const mbedtls_md_info_t *info = mbedtls_md_info_from_type(type);
        CHECK(mbedtls_md(info, (const unsigned char *)tok, off[2] - 1, md) == 0);
        CHECK(memcmp(md, jwt->digest, mbedtls_md_get_size(info)) == 0);
    }
}

static void check_reset(const tkr_jwt_t *jwt)
{
    CHECK(jwt->alg == TKR_JWT_ALG_UNKNOWN);
    CHECK(jwt->header_len == 0 && jwt->claims_len == 0 && jwt->sig_len == 0);
    CHECK(jwt->signing_input_len == 0);
    CHECK(jwt->kid[0] == '\0' && jwt->alg_name[0] == '\0');
    CHECK(jwt->doc.ntok == 0 && jwt->hdr.ntok == 0);
    CHECK(tkr_jwt_claim(jwt, "sub") == TKR_E_NOT_FOUND);
    CHECK(tkr_jwt_check_claims(jwt, NULL, 1767225600, NULL) == TKR_E_INVALID_ARG);
    CHECK(tkr_jwt_verify_sig(jwt, TKR_JWT_RS256, &vkeys[0].pk) ==
          TKR_E_INVALID_ARG);
}

static void same_parse(const tkr_jwt_t *a, const tkr_jwt_t *b)
{
    CHECK(a->alg == b->alg);
    CHECK(strcmp(a->alg_name, b->alg_name) == 0 && strcmp(a->kid, b->kid) == 0);
    CHECK(a->header_len == b->header_len &&
          memcmp(a->header, b->header, a->header_len) == 0);
    CHECK(a->claims_len == b->claims_len &&
          memcmp(a->claims, b->claims, a->claims_len) == 0);
    CHECK(a->sig_len == b->sig_len && memcmp(a->sig, b->sig, a->sig_len) == 0);
    CHECK(a->signing_input_len == b->signing_input_len);
    CHECK(memcmp(a->digest, b->digest, sizeof(a->digest)) == 0);
    CHECK(a->hdr.ntok == b->hdr.ntok && a->doc.ntok == b->doc.ntok);
}

/* Re-sign the claims, parse and verify the result, then break it. */
static void check_resign(const tkr_jwt_t *jwt)
{
    static char out[TKR_JWT_MAX + 1];
    static tkr_jwt_t back;
    const char *kid = jwt->kid[0] != '\0' ? jwt->kid : NULL;
    size_t len = 0, off[3], n[3];
    int rc;

    rc = tkr_jwt_sign(out, sizeof(out), &len, &sign_key, TKR_JWT_ES256, kid,
                      jwt->claims, jwt->claims_len, &port);
    if (rc == TKR_E_BUFFER_TOO_SMALL) {
        CHECK(out[0] == '\0');
        return;                         /* claims near the size limit */
    }
    CHECK(rc == 0);
    CHECK(len < sizeof(out) && out[len] == '\0' && strlen(out) == len);
    CHECK(tkr_jwt_parse(&back, out, len, NULL) == 0);
    CHECK(back.alg == TKR_JWT_ES256 && strcmp(back.kid, jwt->kid) == 0);
    CHECK(back.claims_len == jwt->claims_len &&
          memcmp(back.claims, jwt->claims, jwt->claims_len) == 0);
    CHECK(tkr_jwt_verify_sig(&back, TKR_JWT_ES256, &sign_key) == 0);
    CHECK(tkr_jwt_verify_sig(&back, TKR_JWT_ES256, &vkeys[1].pk) ==
          TKR_E_SIGNATURE);
    CHECK(tkr_jwt_check_claims(&back, NULL, 1767225600, NULL) ==
          tkr_jwt_check_claims(jwt, NULL, 1767225600, NULL));

    /* Flip one signature bit: the token must parse and fail to verify. */
    CHECK(segments(out, len, off, n) == 0);
    back.sig[jwt->claims_len % back.sig_len] ^= 0x01;
    CHECK(tkr_jwt_verify_sig(&back, TKR_JWT_ES256, &sign_key) != 0);
}

static tkr_jwt_t jwt_a, jwt_b;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *tok = (const char *)data;
    tkr_diag_t d;
    int rc, rc2;

    tkr_diag_clear(&d);
    rc = tkr_jwt_parse(&jwt_a, tok, size, &d);
    /* A failure's offset is in the token; a format error may point just
     * past its end (the missing dot). Never a report on success. */
    CHECK(!d.has_offset || (rc != 0 && d.offset <= size));
    CHECK(rc != 0 || (d.name[0] == '\0' && d.msg[0] == '\0'));

    /* The same token into a context that held another one. */
    CHECK(tkr_jwt_parse(&jwt_b, other_token, sizeof(other_token) - 1, NULL) == 0);
    CHECK(tkr_jwt_verify_sig(&jwt_b, TKR_JWT_RS256, &vkeys[4].pk) == 0);
    rc2 = tkr_jwt_parse(&jwt_b, tok, size, NULL);
    CHECK(rc == rc2);

    if (rc != 0) {
        CHECK(rc == TKR_E_TOO_LARGE || rc == TKR_E_JWT_FORMAT ||
              rc == TKR_E_BASE64 || rc == TKR_E_JSON ||
              rc == TKR_E_JSON_DEPTH || rc == TKR_E_JSON_DUPLICATE ||
              rc == TKR_E_JSON_TOKENS || rc == TKR_E_UTF8 ||
              rc == TKR_E_JWT_HEADER || rc == TKR_E_JWT_CRIT ||
              rc == TKR_E_JWT_SIG_LEN || rc == TKR_E_TYPE);
        if (size > TKR_JWT_MAX)
            CHECK(rc == TKR_E_TOO_LARGE);
        check_reset(&jwt_a);
        check_reset(&jwt_b);
        return 0;
    }
    same_parse(&jwt_a, &jwt_b);
    check_parsed(&jwt_a, tok, size);
    check_claims(&jwt_a);
    check_verify(&jwt_a);
    check_resign(&jwt_a);
    tkr_jwt_free(&jwt_b);
    return 0;
}
