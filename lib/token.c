/* token.c — mint and read FLARE enrollment tokens. */
#include <string.h>

#include "jwt_int.h"
#include "tokenroll/cidr.h"
#include "tokenroll/error.h"
#include "tokenroll/glob.h"
#include "tokenroll/json.h"
#include "tokenroll/key.h"
#include "tokenroll/token.h"
#include "json_int.h"
#include "utf8.h"

int tkr_uuid_v4(char out[TKR_UUID_LEN + 1], const tkr_port_t *port)
{
    static const char hex[] = "0123456789abcdef";
    uint8_t b[16];
    size_t i, o = 0;

    if (out == NULL || port == NULL)
        return TKR_E_INVALID_ARG;
    if (port->entropy == NULL)
        return TKR_E_UNSUPPORTED;
    if (port->entropy(port->ctx, b, sizeof(b)) != 0)
        return TKR_E_ENTROPY;
    b[6] = (uint8_t)((b[6] & 0x0F) | 0x40); /* version 4 */
    b[8] = (uint8_t)((b[8] & 0x3F) | 0x80); /* variant 10 */
    for (i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            out[o++] = '-';
        out[o++] = hex[b[i] >> 4];
        out[o++] = hex[b[i] & 15];
    }
    out[o] = '\0';
    return 0;
}

int tkr_uuid_valid(const char *s)
{
    size_t i;

    if (s == NULL || strlen(s) != TKR_UUID_LEN)
        return 0;
    for (i = 0; i < TKR_UUID_LEN; i++) {
        char c = s[i];
        int dash = i == 8 || i == 13 || i == 18 || i == 23;
        if (dash ? c != '-'
                 : !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
                     (c >= 'A' && c <= 'F')))
            return 0;
    }
    return 1;
}

static void string_list(tkr_jsonw_t *w, const char *key,
                        const char *const *v, size_t n)
{
    size_t i;

    tkr_jsonw_key(w, key);
    tkr_jsonw_arr_begin(w);
    for (i = 0; i < n; i++)
        tkr_jsonw_str(w, v[i]);
    tkr_jsonw_arr_end(w);
}

int tkr_token_claims_json(char *out, size_t out_size, size_t *out_len,
                          char jti_out[TKR_UUID_LEN + 1], const tkr_token_claims_t *c,
                          const tkr_port_t *port)
{
    char jti[TKR_UUID_LEN + 1];
    int64_t iat;
    tkr_jsonw_t w;
    int rc;

    if (out == NULL || out_len == NULL || c == NULL || c->subject == NULL ||
        c->issuer == NULL || c->policy == NULL || c->validity <= 0 ||
        c->max_uses < 1 || tkr_subject_type_name(c->type) == NULL)
        return TKR_E_INVALID_ARG;
    if (c->jti != NULL) {
        if (!tkr_uuid_valid(c->jti))
            return TKR_E_INVALID_ARG;
        memcpy(jti, c->jti, sizeof(jti));
    } else if ((rc = tkr_uuid_v4(jti, port)) != 0) {
        return rc;
    }
    iat = c->issued_at >= 0 ? c->issued_at : tkr_port_time(port);
    if (iat < 0 || iat > INT64_MAX - c->validity)
        return TKR_E_INVALID_ARG;

    tkr_jsonw_init(&w, out, out_size, TKR_JSONW_ASCII);
    tkr_jsonw_obj_begin(&w);
    tkr_jsonw_key(&w, "jti");
    tkr_jsonw_str(&w, jti);
    tkr_jsonw_key(&w, "sub");
    tkr_jsonw_str(&w, c->subject);
    tkr_jsonw_key(&w, "iat");
    tkr_jsonw_i64(&w, iat);
    tkr_jsonw_key(&w, "exp");
    tkr_jsonw_i64(&w, iat + c->validity);
    tkr_jsonw_key(&w, "iss");
    tkr_jsonw_str(&w, c->issuer);
    tkr_jsonw_key(&w, "subject_type");
    tkr_jsonw_str(&w, tkr_subject_type_name(c->type));
    tkr_jsonw_key(&w, "policy");
    tkr_jsonw_raw(&w, c->policy, c->policy_len);
    tkr_jsonw_key(&w, "max_uses");
    tkr_jsonw_i64(&w, c->max_uses);
    if (c->roles != NULL)
        string_list(&w, "roles", c->roles, c->n_roles);
    if (c->source_ips != NULL)
        string_list(&w, "source_ips", c->source_ips, c->n_source_ips);
    tkr_jsonw_obj_end(&w);
    rc = tkr_jsonw_finish(&w, out_len);
    if (rc == 0 && jti_out != NULL)
        memcpy(jti_out, jti, sizeof(jti));
    return rc;
}

int tkr_token_mint(char *out, size_t out_size, size_t *out_len,
                   char jti_out[TKR_UUID_LEN + 1], tkr_signer_t *ca,
                   const tkr_token_claims_t *c, const tkr_port_t *port)
{
    size_t len, pos, room;
    int rc;

    if (ca == NULL || ca->ops == NULL || out == NULL || out_len == NULL)
        return TKR_E_INVALID_ARG;
    *out_len = 0;
    if ((rc = tkr_jwt_sign_header(out, out_size, &pos, ca->alg, NULL)) != 0)
        return rc;
    /* The claims are written where their encoding goes and encoded in
     * place: out is the only buffer, nothing of TKR_JWT_PAYLOAD_MAX on the
     * stack. Claims a verifier could not hold are TKR_E_TOO_LARGE. */
    room = out_size - pos;
    if (room > TKR_JWT_PAYLOAD_MAX + 1)
        room = TKR_JWT_PAYLOAD_MAX + 1;
    rc = tkr_token_claims_json(out + pos, room, &len, jti_out, c, port);
    if (rc != 0) {
        out[0] = '\0';
        /* The writer counted what the claims need: past what a verifier
         * holds they are too large, else the buffer is short by a length
         * known now. */
        if (rc == TKR_E_BUFFER_TOO_SMALL && len > TKR_JWT_PAYLOAD_MAX)
            return TKR_E_TOO_LARGE;
        if (rc == TKR_E_BUFFER_TOO_SMALL)
            *out_len = tkr_jwt_token_len(pos, len, tkr_signer_sig_len(ca));
        return rc;
    }
    return tkr_signer_jwt_finish(out, out_size, out_len, pos, ca,
                                 (const uint8_t *)out + pos, len, port);
}

/* ---- checking ---- */

int tkr_token_subject_check(const char *subject, tkr_subject_type_t type,
                            tkr_diag_t *diag)
{
    size_t i, n = subject != NULL ? strlen(subject) : 0;
    char why[160];

    if (n == 0 || n > TKR_SUBJECT_MAX)
        return tkr_diag(diag, TKR_E_INVALID_ARG, "sub", "must be 1..255 characters");
    for (i = 0; i < n; i++)
        if ((unsigned char)subject[i] < 0x20 || subject[i] == 0x7f)
            return tkr_diag(diag, TKR_E_INVALID_ARG, "sub", "contains a control character");
    if (type == TKR_SUBJECT_PATTERN && tkr_glob_check(subject) != 0) {
        strcpy(why, "is not a valid glob pattern: ");
        strncat(why, tkr_glob_problem(subject), sizeof(why) - strlen(why) - 1);
        return tkr_diag(diag, TKR_E_INVALID_ARG, "sub", why);
    }
    return 0;
}

/* "base[i]" into out, without a formatter (device builds have none). */
static void indexed_name(char out[32], const char *base, size_t i)
{
    char d[TKR_DEC_TEXT_MAX];
    const char *digits = tkr_dec_text(d, i);
    size_t k = strlen(base), n = strlen(digits);

    memcpy(out, base, k);
    out[k++] = '[';
    memcpy(out + k, digits, n);
    k += n;
    out[k++] = ']';
    out[k] = '\0';
}

int tkr_token_source_ips_check(const char *const *ips, size_t n, tkr_diag_t *diag)
{
    char name[32];
    size_t i;
    tkr_cidr_t c;

    if (ips == NULL && n > 0)
        return TKR_E_INVALID_ARG;
    for (i = 0; i < n; i++)
        if (ips[i] == NULL || tkr_cidr_parse(&c, ips[i], strlen(ips[i])) != 0) {
            indexed_name(name, "source_ips", i);
            return tkr_diag(diag, TKR_E_POLICY, name, "is not a CIDR");
        }
    return 0;
}

int tkr_token_verify(const tkr_jwt_t *jwt, tkr_ca_t *ca, int64_t now,
                     tkr_diag_t *diag)
{
    return tkr_token_verify_with(jwt, ca, NULL, now, diag);
}

int tkr_token_verify_with(const tkr_jwt_t *jwt, tkr_ca_t *ca,
                          const tkr_sig_verifier_t *v, int64_t now,
                          tkr_diag_t *diag)
{
    tkr_jwt_rules_t rules = {TKR_CLAIM_EXP, NULL, NULL, NULL, 0};
    tkr_jwt_alg_t alg;
    int rc;

    if (jwt == NULL || ca == NULL)
        return TKR_E_INVALID_ARG;
    if ((rc = tkr_key_default_alg(&ca->cert.pk, &alg)) != 0)
        return tkr_diag(diag, rc, NULL, "the CA key cannot verify tokens");
    rules.iss = ca->cn;
    /* Signature first: nothing about a forged token's claims is told. */
    if ((rc = tkr_jwt_verify_sig_with(jwt, alg, &ca->cert.pk, v)) != 0)
        return rc;
    return tkr_jwt_check_claims(jwt, &rules, now, diag);
}

int tkr_token_admits(const tkr_token_info_t *info, const char *name,
                     tkr_subject_type_t type, tkr_diag_t *diag)
{
    if (info == NULL || name == NULL || type == TKR_SUBJECT_PATTERN ||
        tkr_subject_type_name(type) == NULL)
        return TKR_E_INVALID_ARG;
    if (!info->has_type)
        return tkr_diag(diag, TKR_E_CLAIM_MISSING, "subject_type", "the token names no type");
    if (info->type != type && !(info->type == TKR_SUBJECT_PATTERN && type == TKR_SUBJECT_CLIENT))
        return tkr_diag(diag, TKR_E_SUB, "subject_type", "the token is for another type");
    if (info->type == TKR_SUBJECT_PATTERN ? !tkr_glob_match(info->subject, name)
                                          : strcmp(info->subject, name) != 0)
        return tkr_diag(diag, TKR_E_SUB, "sub", "the token is for another name");
    return 0;
}

/* ---- reading ---- */

/* The claims are an object (tkr_jwt_parse checks): TKR_E_NOT_FOUND is
 * the one way a claim can be absent. */
static int copy_str(const tkr_jwt_t *jwt, const char *name, char *out,
                    size_t size, int required)
{
    int rc = tkr_json_member_str(&jwt->doc, 0, name, out, size, NULL);

    if (rc == TKR_E_NOT_FOUND)
        return required ? TKR_E_CLAIM_MISSING : 0;
    return rc != 0 ? TKR_E_CLAIM_TYPE : 0;
}

static int date(const tkr_jwt_t *jwt, const char *name, int64_t *v, int *has)
{
    int t = tkr_jwt_claim(jwt, name);

    *has = 0;
    if (t < 0)
        return 0;
    if (tkr_json_get_i64(&jwt->doc, v, t) != 0)
        return TKR_E_CLAIM_TYPE;
    *has = 1;
    return 0;
}

int tkr_token_str_array(const tkr_jwt_t *jwt, const char *name, int *out,
                        tkr_diag_t *diag)
{
    int t, i, n;

    if (jwt == NULL || name == NULL || out == NULL)
        return TKR_E_INVALID_ARG;
    t = tkr_jwt_claim(jwt, name);
    *out = -1;
    /* null is absent, as for FLARE's service (claims.get(name) is None). */
    if (t < 0 || tkr_json_type(&jwt->doc, t) == TKR_JSON_NULL)
        return 0;
    if (tkr_json_type(&jwt->doc, t) != TKR_JSON_ARRAY)
        return tkr_diag(diag, TKR_E_CLAIM_TYPE, name, "must be a list of strings");
    n = tkr_json_count(&jwt->doc, t);
    for (i = 0; i < n; i++)
        if (tkr_json_type(&jwt->doc, tkr_json_child(&jwt->doc, t, i)) !=
            TKR_JSON_STRING)
            return tkr_diag(diag, TKR_E_CLAIM_TYPE, name,
                            "must be a list of strings");
    *out = t;
    return 0;
}

#if !TKR_DEVICE_LEAN
static void policy_meta(tkr_token_info_t *info, const tkr_jwt_t *jwt)
{
    int meta;

    info->policy_project = info->policy_version = -1;
    if (info->policy < 0)
        return;
    meta = tkr_json_find(&jwt->doc, info->policy, "metadata");
    if (meta < 0 || tkr_json_type(&jwt->doc, meta) != TKR_JSON_OBJECT)
        return;
    info->policy_project = tkr_json_find(&jwt->doc, meta, "project");
    info->policy_version = tkr_json_find(&jwt->doc, meta, "version");
    if (info->policy_project < 0)
        info->policy_project = -1;
    if (info->policy_version < 0)
        info->policy_version = -1;
}
#endif

int tkr_token_read(tkr_token_info_t *info, const tkr_jwt_t *jwt)
{
    char type[16];
    int rc, t;

    if (info == NULL || jwt == NULL || jwt->doc.ntok == 0)
        return TKR_E_INVALID_ARG;
    memset(info, 0, sizeof(*info));
    {
        /* jti and sub are required, iss and subject_type optional. */
        static const char *const name[] = {"jti", "sub", "iss", "subject_type"};
        char *out[] = {info->jti, info->subject, info->issuer, type};
        const size_t size[] = {sizeof(info->jti), sizeof(info->subject),
                               sizeof(info->issuer), sizeof(type)};
        size_t k;

        for (k = 0; k < 4; k++)
            if ((rc = copy_str(jwt, name[k], out[k], size[k], k < 2)) != 0)
                return rc;
    }
    if (type[0] != '\0') {
        if (tkr_subject_type_parse(type, &info->type) != 0)
            return TKR_E_CLAIM_TYPE;
        info->has_type = 1;
    }
    if ((rc = date(jwt, "iat", &info->iat, &info->has_iat)) != 0 ||
        (rc = date(jwt, "exp", &info->exp, &info->has_exp)) != 0)
        return rc;
    info->max_uses = 1;
#if TKR_DEVICE_LEAN
    /* The device flow reads no more; the service checks the rest. */
    (void)t;
    info->policy = info->roles = info->source_ips = -1;
    info->policy_project = info->policy_version = -1;
    return 0;
#else
    t = tkr_jwt_claim(jwt, "max_uses");
    if (t >= 0 && (tkr_json_get_i64(&jwt->doc, &info->max_uses, t) != 0 ||
                   info->max_uses < 1))
        return TKR_E_CLAIM_TYPE;
    info->policy = tkr_jwt_claim(jwt, "policy");
    if (info->policy >= 0 && tkr_json_type(&jwt->doc, info->policy) != TKR_JSON_OBJECT)
        return TKR_E_CLAIM_TYPE;
    if (info->policy < 0)
        info->policy = -1;
    if ((rc = tkr_token_str_array(jwt, "roles", &info->roles, NULL)) != 0 ||
        (rc = tkr_token_str_array(jwt, "source_ips", &info->source_ips,
                                  NULL)) != 0)
        return rc;
    policy_meta(info, jwt);
    return 0;
#endif
}
