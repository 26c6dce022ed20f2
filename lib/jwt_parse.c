/* jwt_parse.c — split and decode a compact JWS (RFC 7515 §7.1). */
#include <string.h>

#include <mbedtls/md.h>
#include <mbedtls/platform_util.h>

#include "json_int.h"
#include "jwt_int.h"
#include "tokenroll/b64url.h"
#include "tokenroll/error.h"
#include "tokenroll/jwt.h"

static const char *const alg_names[] = {NULL, "RS256", "PS256", "ES256", "ES384"};

const char *tkr_jwt_alg_name(tkr_jwt_alg_t alg)
{
    if ((unsigned)alg >= sizeof(alg_names) / sizeof(alg_names[0]))
        return NULL;
    return alg_names[alg];
}

tkr_jwt_alg_t tkr_jwt_alg_from_name(const char *name, size_t len)
{
    unsigned i;

    if (name == NULL)
        return TKR_JWT_ALG_UNKNOWN;
    for (i = 1; i < sizeof(alg_names) / sizeof(alg_names[0]); i++)
        if (strlen(alg_names[i]) == len && memcmp(alg_names[i], name, len) == 0)
            return (tkr_jwt_alg_t)i;
    return TKR_JWT_ALG_UNKNOWN;
}

void tkr_jwt_init(tkr_jwt_t *jwt)
{
    if (jwt != NULL)
        memset(jwt, 0, sizeof(*jwt));
}

void tkr_jwt_free(tkr_jwt_t *jwt)
{
    if (jwt != NULL)
        mbedtls_platform_zeroize(jwt, sizeof(*jwt));
}

/* Forget a previous token: wipe only what it used, since a full wipe of
 * the ~25 KiB context would dominate the cost of parsing a small token. */
static void reset(tkr_jwt_t *jwt)
{
    mbedtls_platform_zeroize(jwt->header, jwt->header_len);
    mbedtls_platform_zeroize(jwt->claims, jwt->claims_len);
    mbedtls_platform_zeroize(jwt->sig, jwt->sig_len);
    mbedtls_platform_zeroize(jwt->digest, sizeof(jwt->digest));
    jwt->header_len = jwt->claims_len = jwt->sig_len = 0;
    jwt->signing_input_len = 0;
    memset(&jwt->hdr, 0, sizeof(jwt->hdr));
    memset(&jwt->doc, 0, sizeof(jwt->doc));
    jwt->alg = TKR_JWT_ALG_UNKNOWN;
    jwt->alg_name[0] = '\0';
    jwt->kid[0] = '\0';
}

/* Decode one segment, which starts at token offset at, into buf
 * (NUL-terminated for the JSON parser). */
static int segment(uint8_t *buf, size_t size, size_t *len,
                   const char *token, size_t at, size_t n, tkr_diag_t *d)
{
    int rc;

    if (TKR_B64URL_DECODED_LEN(n) >= size)
        return tkr_diag(d, TKR_E_TOO_LARGE, NULL, "decodes to more than fits");
    rc = tkr_b64url_decode(buf, size, len, token + at, n, d);
    if (rc == 0)
        buf[*len] = 0;
    else if (d != NULL && d->has_offset)
        d->offset += at; /* from the segment to the whole token */
    return rc;
}

/* A JSON error's offset is in the decoded bytes; report the token
 * character that carries the first bit of that byte (byte b starts at bit
 * 8b, in character 8b/6), so every offset from here is in the token. */
static int json_in_token(tkr_diag_t *d, int rc, size_t at)
{
    if (d != NULL && d->has_offset)
        d->offset = at + d->offset / 3 * 4 + d->offset % 3 * 4 / 3;
    return tkr_diag(d, rc, NULL, "the decoded segment is not valid JSON");
}

static int read_header(tkr_jwt_t *jwt, tkr_diag_t *d)
{
    int rc;
    size_t n;

    rc = tkr_json_parse(&jwt->hdr, jwt->htok, TKR_JWT_HEADER_TOKENS,
                        jwt->header, jwt->header_len, d);
    if (rc != 0)
        return json_in_token(d, rc, 0);
    if (tkr_json_type(&jwt->hdr, 0) != TKR_JSON_OBJECT)
        return tkr_diag(d, TKR_E_JWT_HEADER, NULL, "not a JSON object");
    /* We implement no extension, so any "crit" must fail (§4.1.11). */
    if (tkr_json_find(&jwt->hdr, 0, "crit") >= 0)
        return tkr_diag(d, TKR_E_JWT_CRIT, "header.crit",
                        "no extension is understood");

    rc = tkr_json_member_str(&jwt->hdr, 0, "alg", jwt->alg_name,
                             sizeof(jwt->alg_name), &n);
    if (rc == TKR_E_NOT_FOUND || rc == TKR_E_TYPE)
        return tkr_diag(d, TKR_E_JWT_HEADER, "header.alg",
                        "missing or not a string");
    /* By value, as every other member: "\u0045S256" is "ES256", so the
     * algorithm and the name reported for it can never disagree. A name
     * that does not unescape (too long, \u0000) is no algorithm of ours. */
    if (rc == 0) {
        jwt->alg = tkr_jwt_alg_from_name(jwt->alg_name, n);
    } else {
        memcpy(jwt->alg_name, "?", 2);
        jwt->alg = TKR_JWT_ALG_UNKNOWN;
    }

    rc = tkr_json_member_str(&jwt->hdr, 0, "kid", jwt->kid, sizeof(jwt->kid), NULL);
    if (rc != 0 && rc != TKR_E_NOT_FOUND)
        return tkr_diag(d, TKR_E_JWT_HEADER, "header.kid",
                        "not a string that fits");
    return 0;
}

/* The digest of the signing input is taken now, so the caller's token
 * buffer need not outlive the parse. */
static int digest(tkr_jwt_t *jwt, const char *token, size_t len)
{
    size_t hlen;
    const mbedtls_md_info_t *info = mbedtls_md_info_from_type(tkr_jwt_md(jwt->alg, &hlen));

    jwt->signing_input_len = len;
    if (jwt->alg == TKR_JWT_ALG_UNKNOWN)
        return 0;
    if (info == NULL || mbedtls_md(info, (const unsigned char *)token, len,
                                   jwt->digest) != 0)
        return TKR_E_CRYPTO;
    return 0;
}

/* The token's shape: exactly two dots, no empty segment. Sets *p1 and *p2
 * to the offsets of the payload and the signature. */
static int split(const char *token, size_t len, size_t *p1, size_t *p2,
                 tkr_diag_t *d)
{
    const char *d1 = memchr(token, '.', len), *d2 = NULL, *d3 = NULL;

    if (d1 != NULL)
        d2 = memchr(d1 + 1, '.', len - (size_t)(d1 + 1 - token));
    if (d2 != NULL)
        d3 = memchr(d2 + 1, '.', len - (size_t)(d2 + 1 - token));
    if (d1 == NULL || d2 == NULL || d3 != NULL) {
        if (d != NULL) {
            d->offset = d3 != NULL ? (size_t)(d3 - token) : len;
            d->has_offset = 1;
        }
        return tkr_diag(d, TKR_E_JWT_FORMAT, NULL,
                        d3 != NULL ? "more than two '.'" : "fewer than two '.'");
    }
    *p1 = (size_t)(d1 + 1 - token);
    *p2 = (size_t)(d2 + 1 - token);
    /* An empty signature is an unsecured JWS: never accepted. */
    if (*p1 == 1 || *p2 == *p1 + 1 || *p2 == len) {
        if (d != NULL) {
            d->offset = *p1 == 1 ? 0 : *p2 == *p1 + 1 ? *p1 : len;
            d->has_offset = 1;
        }
        return tkr_diag(d, TKR_E_JWT_FORMAT,
                        *p1 == 1 ? "header" : *p2 == *p1 + 1 ? "payload"
                                                             : "signature",
                        "empty segment");
    }
    return 0;
}

int tkr_jwt_parse(tkr_jwt_t *jwt, const char *token, size_t len,
                  tkr_diag_t *diag)
{
    size_t p1 = 0, p2 = 0;
    const char *part = "header";
    int rc;

    if (jwt == NULL || token == NULL)
        return TKR_E_INVALID_ARG;
    reset(jwt);
    if (len > TKR_JWT_MAX)
        return tkr_diag(diag, TKR_E_TOO_LARGE, NULL, "longer than TKR_JWT_MAX");
    if ((rc = split(token, len, &p1, &p2, diag)) != 0)
        return rc;

    rc = segment((uint8_t *)jwt->header, sizeof(jwt->header),
                 &jwt->header_len, token, 0, p1 - 1, diag);
    if (rc == 0)
        rc = read_header(jwt, diag);
    if (rc == 0) {
        part = "payload";
        rc = segment((uint8_t *)jwt->claims, sizeof(jwt->claims),
                     &jwt->claims_len, token, p1, p2 - p1 - 1, diag);
    }
    if (rc == 0 && (rc = tkr_json_parse(&jwt->doc, jwt->ctok,
                                        TKR_JWT_CLAIM_TOKENS, jwt->claims,
                                        jwt->claims_len, diag)) != 0)
        rc = json_in_token(diag, rc, p1);
    if (rc == 0 && tkr_json_type(&jwt->doc, 0) != TKR_JSON_OBJECT)
        rc = tkr_diag(diag, TKR_E_TYPE, NULL, "not a JSON object");
    if (rc == 0) {
        part = "signature";
        if (TKR_B64URL_DECODED_LEN(len - p2) > sizeof(jwt->sig))
            rc = tkr_diag(diag, TKR_E_JWT_SIG_LEN, NULL,
                          "longer than any signature of ours");
        else if ((rc = tkr_b64url_decode(jwt->sig, sizeof(jwt->sig),
                                         &jwt->sig_len, token + p2, len - p2,
                                         diag)) != 0 && diag != NULL)
            diag->offset += p2;
    }
    if (rc == 0) {
        part = NULL; /* the hash, not the token */
        rc = digest(jwt, token, p2 - 1);
    }
    if (rc != 0) {
        /* Name the part unless a more precise name (header.alg) is set. */
        if (diag != NULL && diag->name[0] == '\0' && part != NULL)
            tkr_diag(diag, rc, part, NULL);
        reset(jwt);
    }
    return rc;
}

int tkr_jwt_claim(const tkr_jwt_t *jwt, const char *name)
{
    if (jwt == NULL || name == NULL || jwt->doc.ntok == 0)
        return TKR_E_NOT_FOUND;
    return tkr_json_find(&jwt->doc, 0, name);
}
