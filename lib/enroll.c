/* enroll.c — the device's boot-time enrollment (tokenroll/enroll.h).
 *
 * Device-side: every buffer is in the caller's tkr_enroll_t, text is put
 * together by hand (no printf family), storage, clocks, sleep and log come
 * from the port. */
#include <string.h>

#include <mbedtls/oid.h>
#include <mbedtls/platform_util.h>
#include <mbedtls/x509.h>

#include "cc.h"
#include "compat.h"
#include "tokenroll/enroll.h"
#include "tokenroll/error.h"
#include "tokenroll/json.h"
#include "json_int.h"
#include "utf8.h"
#include "tokenroll/subject.h"
#include "tokenroll/token.h"

#define COMMIT_NAME "enrollment.commit"
#define PENDING_NAME "pending.key"
#define ROOT_NAME "rootCA.pem"
#define COMMIT_MAGIC "tokenroll-commit 1 "
/* Seconds the device clock may be behind the service's: for the token's
 * dates, and for a certificate's notBefore (FLARE's service issues from
 * the second it signs, without backdating). */
#define CLOCK_LEEWAY 60

_Static_assert(TKR_ENROLL_COMMIT_MAX <= TKR_ENROLL_BODY_MAX,
               "the commit blob is built in the body buffer");

/* ---- text without printf ---- */

typedef struct {
    char *b;
    size_t size, len;
} str_t;

static void s_init(str_t *s, char *b, size_t size)
{
    s->b = b;
    s->size = size;
    s->len = 0;
    b[0] = '\0';
}

/* Appends what fits; the text stays NUL-terminated (log lines may be cut). */
static void s_add(str_t *s, const char *t)
{
    while (t != NULL && *t != '\0' && s->len + 1 < s->size)
        s->b[s->len++] = *t++;
    s->b[s->len] = '\0';
}

/* Strictly: the whole of s[0..n) is decimal. */
static int s_dec(const char *s, size_t n, size_t *v)
{
    size_t x = 0, i;

    if (n == 0 || n > 9)
        return TKR_E_INVALID_ARG;
    for (i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return TKR_E_INVALID_ARG;
        x = x * 10 + (size_t)(s[i] - '0');
    }
    *v = x;
    return 0;
}

static void say(tkr_enroll_t *e, const tkr_port_t *port, int level,
                const char *a, const char *b, const char *c)
{
    str_t s;

    s_init(&s, e->line, sizeof(e->line));
    s_add(&s, a);
    s_add(&s, b);
    s_add(&s, c);
    tkr_port_log_str(port, level, e->line);
}

/* The result's message: the words a and b, or with TKR_DIAG_TEXT 0 the
 * code rc as text (the macro keeps the words out of the image). */
static void set_msg_(tkr_enroll_result_t *res, int rc, const char *a, const char *b)
{
    str_t s;

    s_init(&s, res->message, sizeof(res->message));
#if TKR_DIAG_TEXT
    (void)rc;
    s_add(&s, a);
    s_add(&s, b);
#else
    (void)a;
    (void)b;
    s_add(&s, tkr_strerror(rc));
#endif
}
#define set_msg(res, rc, a, b) set_msg_((res), (rc), TKR_TEXT(a), TKR_TEXT(b))

/* ---- storage ---- */

/* dir + "/" + name into e->path. */
static const char *path_of(tkr_enroll_t *e, const char *dir, const char *name)
{
    str_t s;

    s_init(&s, e->path, sizeof(e->path));
    if (dir != NULL && dir[0] != '\0') {
        s_add(&s, dir);
        if (dir[strlen(dir) - 1] != '/')
            s_add(&s, "/");
    }
    s_add(&s, name);
    return e->path;
}

static int path_fits(const char *dir, const char *name)
{
    return (dir != NULL ? strlen(dir) : 0) + strlen(name) + 2 <= TKR_PATH_MAX;
}

/* A stored text blob into buf, NUL-terminated. */
static int read_text(tkr_enroll_t *e, const tkr_port_t *port, const char *dir,
                     const char *name, char *buf, size_t size)
{
    size_t len = 0;
    int rc;

    if (port->store_read == NULL)
        return TKR_E_INVALID_ARG;
    rc = port->store_read(port->ctx, path_of(e, dir, name), (uint8_t *)buf,
                          size - 1, &len);
    if (rc != 0)
        return rc;
    buf[len] = '\0';
    return strlen(buf) == len ? 0 : TKR_E_CERT; /* no NUL inside PEM */
}

static int write_text(tkr_enroll_t *e, const tkr_port_t *port, const char *dir,
                      const char *name, const char *text, size_t len, unsigned flags)
{
    return port->store_write(port->ctx, path_of(e, dir, name),
                             (const uint8_t *)text, len, flags) == 0
               ? 0 : TKR_E_IO;
}

/* A stored PEM key into key (initialised by the caller), its text left
 * in buf for the caller to keep or wipe. */
static int load_key(tkr_enroll_t *e, const tkr_port_t *port, const char *dir,
                    const char *name, char *buf, size_t size,
                    mbedtls_pk_context *key)
{
    int rc = read_text(e, port, dir, name, buf, size);

    if (rc == 0 && tkr_compat_pk_parse_key(key, (const unsigned char *)buf,
                                           strlen(buf) + 1, tkr_port_rng,
                                           (void *)port) != 0)
        rc = TKR_E_KEY;
    return rc;
}

/* noinline: inlined at each call, it costs the device image 20 bytes. */
TKR_NOINLINE static const char *base_of(const char *type)
{
    return type != NULL && strcmp(type, "server") == 0 ? "server" : "client";
}

/* base + ".crt" / ".key" */
static void file_name(char out[16], const char *base, const char *ext)
{
    str_t s;

    s_init(&s, out, 16);
    s_add(&s, base);
    s_add(&s, ext);
}

/* ---- certificates ---- */

/* Seconds since the epoch of a certificate time (days from the civil
 * calendar, proleptic Gregorian). The days in 32 bits: X.509 years are
 * 0..9999 (mbedTLS checks), so every term is small, and a 32-bit MCU then
 * needs no 64-bit division; only the last multiply is 64-bit. */
static int64_t crt_time(const mbedtls_x509_time *t)
{
    int32_t m = t->mon, y = t->year - (m <= 2);
    int32_t era = (y >= 0 ? y : y - 399) / 400;
    int32_t yoe = y - era * 400;
    int32_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + t->day - 1;
    int32_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;

    return (int64_t)(era * 146097 + doe - 719468) * 86400 +
           t->hour * 3600 + t->min * 60 + t->sec;
}

static int cn_is(const mbedtls_x509_crt *crt, const char *name)
{
    const mbedtls_x509_name *n;
    size_t len = strlen(name);

    for (n = &crt->subject; n != NULL; n = n->next)
        if (n->oid.p != NULL && MBEDTLS_OID_CMP(MBEDTLS_OID_AT_CN, &n->oid) == 0)
            return n->val.len == len && memcmp(n->val.p, name, len) == 0;
    return 0;
}

int tkr_enroll_check_cert(const char *cert_pem, mbedtls_x509_crt *root,
                          mbedtls_pk_context *key, const char *name,
                          int64_t now, const tkr_port_t *port)
{
    mbedtls_x509_crt crt;
    uint32_t flags = 0;
    int rc;

    if (cert_pem == NULL || root == NULL || key == NULL)
        return TKR_E_INVALID_ARG;
    mbedtls_x509_crt_init(&crt);
    if (mbedtls_x509_crt_parse(&crt, (const unsigned char *)cert_pem,
                               strlen(cert_pem) + 1) != 0) {
        rc = TKR_E_CERT;
        goto out;
    }
    /* The time is ours to check, by the port clock: mask mbedTLS's. */
    rc = mbedtls_x509_crt_verify(&crt, root, NULL, NULL, &flags, NULL, NULL);
    flags &= ~(uint32_t)(MBEDTLS_X509_BADCERT_EXPIRED | MBEDTLS_X509_BADCERT_FUTURE);
    if ((rc != 0 && flags != 0) || (rc != 0 && rc != MBEDTLS_ERR_X509_CERT_VERIFY_FAILED)) {
        rc = TKR_E_CERT;
        goto out;
    }
    if (now >= 0 && (now + CLOCK_LEEWAY < crt_time(&crt.valid_from) ||
                     now >= crt_time(&crt.valid_to))) {
        rc = TKR_E_CERT;
        goto out;
    }
    if (tkr_compat_pk_check_pair(&crt.pk, key, tkr_port_rng, (void *)port) != 0) {
        rc = TKR_E_KEY_MISMATCH;
        goto out;
    }
    rc = name == NULL || cn_is(&crt, name) ? 0 : TKR_E_SUB;
out:
    mbedtls_x509_crt_free(&crt);
    return rc;
}

/* ---- commit ---- */

int tkr_enroll_commit(tkr_enroll_t *e, const char *dir, const char *base,
                      const char *key_pem, const char *cert_pem,
                      const char *ca_pem, const tkr_port_t *port)
{
    str_t s;
    size_t kl, cl, al;
    char d[TKR_DEC_TEXT_MAX];
    int rc;

    if (e == NULL || base == NULL || key_pem == NULL || cert_pem == NULL ||
        ca_pem == NULL || port == NULL || port->store_write == NULL ||
        port->store_remove == NULL)
        return TKR_E_INVALID_ARG;
    kl = strlen(key_pem);
    cl = strlen(cert_pem);
    al = strlen(ca_pem);
    if (kl + cl + al + 64 > sizeof(e->body))
        return TKR_E_TOO_LARGE;
    /* Header: magic, base, the three lengths; then the three texts. */
    s_init(&s, (char *)e->body, sizeof(e->body));
    s_add(&s, COMMIT_MAGIC);
    s_add(&s, base);
    s_add(&s, " ");
    s_add(&s, tkr_dec_text(d, kl));
    s_add(&s, " ");
    s_add(&s, tkr_dec_text(d, cl));
    s_add(&s, " ");
    s_add(&s, tkr_dec_text(d, al));
    s_add(&s, "\n");
    s_add(&s, key_pem);
    s_add(&s, cert_pem);
    s_add(&s, ca_pem);
    rc = port->store_write(port->ctx, path_of(e, dir, COMMIT_NAME), e->body,
                           s.len, TKR_STORE_SECRET);
    mbedtls_platform_zeroize(e->body, s.len);
    if (rc != 0)
        return TKR_E_IO;
    return tkr_enroll_recover(e, dir, port);
}

/* Split a commit blob into its parts: the base name (NUL-terminated in
 * place) and the three texts, t[k] of n[k] bytes. */
static int split_commit(char *b, size_t len, const char **base,
                        const char *t[3], size_t n[3])
{
    size_t m = sizeof(COMMIT_MAGIC) - 1, i, start, k;
    char *p;

    if (len < m || memcmp(b, COMMIT_MAGIC, m) != 0)
        return TKR_E_IO;
    p = memchr(b, '\n', len);
    if (p == NULL)
        return TKR_E_IO;
    *p = '\0';
    i = m;
    start = i;
    while (b[i] != ' ' && b[i] != '\0')
        i++;
    if (b[i] != ' ')
        return TKR_E_IO;
    b[i] = '\0';
    *base = b + start;
    if (strcmp(*base, "client") != 0 && strcmp(*base, "server") != 0)
        return TKR_E_IO;
    for (k = 0; k < 3; k++) {
        start = ++i;
        while (b[i] != ' ' && b[i] != '\0')
            i++;
        if (s_dec(b + start, i - start, &n[k]) != 0 || (k < 2 && b[i] != ' '))
            return TKR_E_IO;
    }
    start = (size_t)(p - b) + 1;
    if (n[0] + n[1] + n[2] != len - start)
        return TKR_E_IO;
    t[0] = b + start;
    t[1] = t[0] + n[0];
    t[2] = t[1] + n[1];
    return 0;
}

int tkr_enroll_recover(tkr_enroll_t *e, const char *dir, const tkr_port_t *port)
{
    const char *base, *t[3]; /* key, certificate, CA */
    size_t n[3], k;
    char f[16];
    size_t len = 0;
    int rc;

    if (e == NULL || port == NULL || port->store_read == NULL ||
        port->store_write == NULL || port->store_remove == NULL)
        return TKR_E_INVALID_ARG;
    rc = port->store_read(port->ctx, path_of(e, dir, COMMIT_NAME), e->body,
                          sizeof(e->body), &len);
    if (rc == TKR_E_NOT_FOUND)
        return 0;
    if (rc != 0)
        return TKR_E_IO;
    rc = split_commit((char *)e->body, len, &base, t, n);
    if (rc != 0) {
        /* Not ours or damaged: the port stores atomically, so this is not
         * a torn write. Leave it for a human. */
        mbedtls_platform_zeroize(e->body, len);
        return rc;
    }
    /* Key first, certificate last: until the certificate is replaced the
     * blob is still there and this runs again. */
    for (k = 0, rc = 0; k < 3 && rc == 0; k++) {
        static const uint8_t part[3] = {0, 2, 1}; /* key, CA, certificate */
        size_t i = part[k];
        file_name(f, base, i == 0 ? ".key" : ".crt");
        rc = write_text(e, port, dir, i == 2 ? ROOT_NAME : f, t[i], n[i],
                        i == 0 ? TKR_STORE_SECRET : 0);
    }
    mbedtls_platform_zeroize(e->body, sizeof(e->body));
    if (rc != 0)
        return rc;
    /* The pending key before the blob: once the blob is gone nothing
     * would remove it. */
    if (port->store_remove(port->ctx, path_of(e, dir, PENDING_NAME)) != 0 ||
        port->store_remove(port->ctx, path_of(e, dir, COMMIT_NAME)) != 0)
        return TKR_E_IO;
    return 0;
}

/* ---- the request and the answer ---- */

/* Bytes into a str_t, which counts on past its end so the caller learns
 * the size needed; once a piece does not fit, no later one does. */
static void s_put(void *ctx, const char *t, size_t n)
{
    str_t *s = ctx;

    if (s->len + n < s->size)
        memcpy(s->b + s->len, t, n);
    s->len += n;
}

/* The request's shape is fixed, so it is written here as literal text and
 * only the values go through the JSON escaper: the bytes tkr_jsonw would
 * write (compact, UTF-8 kept), without its structure bookkeeping. Absent
 * org and role are null, as FLARE's own client sends them. */
int tkr_enroll_request_body(char *out, size_t out_size, size_t *out_len,
                            const char *token, size_t token_len,
                            const char *csr_pem, const char *name,
                            const char *type, const char *org,
                            const char *role)
{
    static const char *const keys[] = {"{\"token\":", ",\"csr\":", ",\"metadata\":{\"name\":",
                                       ",\"type\":", ",\"org\":", ",\"role\":"};
    const char *v[] = {token, csr_pem, name, type, org, role};
    str_t s;
    size_t i;
    int rc = 0;

    if (out == NULL || out_size < 2 || token == NULL || csr_pem == NULL ||
        name == NULL || type == NULL)
        return TKR_E_INVALID_ARG;
    /* One byte kept back, as before: out_size - 2 bytes of text at most. */
    s.b = out;
    s.size = out_size - 1;
    s.len = 0;
    for (i = 0; i < sizeof(keys) / sizeof(keys[0]) && rc == 0; i++) {
        s_put(&s, keys[i], strlen(keys[i]));
        if (v[i] == NULL)
            s_put(&s, "null", 4);
        else
            rc = tkr_json_escape(s_put, &s, v[i], i == 0 ? token_len : strlen(v[i]), 0);
    }
    s_put(&s, "}}", 2);
    if (rc == 0 && s.len >= s.size)
        rc = TKR_E_BUFFER_TOO_SMALL;
    out[rc == 0 ? s.len : 0] = '\0';
    if (out_len != NULL)
        *out_len = rc == 0 || rc == TKR_E_BUFFER_TOO_SMALL ? s.len : 0;
    return rc;
}

/* A string member into out, printable ASCII only (it goes to logs and
 * terminals); absent or not a string leaves out empty. */
static void copy_text(const tkr_json_t *doc, int obj, const char *key,
                      char *out, size_t size)
{
    size_t n = 0, i;
    int t = tkr_json_find(doc, obj, key);

    out[0] = '\0';
    if (t < 0 || tkr_json_type(doc, t) != TKR_JSON_STRING)
        return;
    if (tkr_json_get_str(doc, out, size, &n, t) != 0) {
        /* Too long: keep what fits of the raw text. */
        const char *raw = tkr_json_raw(doc, &n, t);
        if (n >= size)
            n = size - 1;
        memcpy(out, raw, n);
        out[n] = '\0';
    }
    for (i = 0; out[i] != '\0'; i++)
        if ((unsigned char)out[i] < 0x20 || (unsigned char)out[i] > 0x7e)
            out[i] = '?';
}

int tkr_enroll_parse_answer(tkr_enroll_answer_t *ans, char *cert, char *ca,
                            tkr_json_tok_t *tok, size_t n_tok, int status,
                            const uint8_t *body, size_t len)
{
    tkr_json_t doc;
    int rc, i;

    if (ans == NULL || tok == NULL || (body == NULL && len > 0))
        return TKR_E_INVALID_ARG;
    memset(ans, 0, sizeof(*ans));
    ans->status = status;
    rc = tkr_json_parse(&doc, tok, n_tok, (const char *)body, len, NULL);
    if (rc == 0 && tkr_json_type(&doc, 0) != TKR_JSON_OBJECT)
        rc = TKR_E_TYPE;
    if (status != 200) {
        /* The status decides; the words are a courtesy. */
        if (rc == 0) {
            copy_text(&doc, 0, status == 202 ? "message" : "error",
                      ans->message, sizeof(ans->message));
            if (status == 202)
                copy_text(&doc, 0, "request_id", ans->request_id,
                          sizeof(ans->request_id));
        }
        return 0;
    }
    if (rc != 0)
        return rc;
    if (cert == NULL || ca == NULL)
        return TKR_E_INVALID_ARG;
    /* The two members the same way, certificate first. */
    for (i = 0; i < 2; i++)
        if ((rc = tkr_json_member_str(&doc, 0, i == 0 ? "certificate" : "ca_cert",
                                      i == 0 ? cert : ca, TKR_ENROLL_PEM_MAX,
                                      NULL)) != 0)
            return rc == TKR_E_BUFFER_TOO_SMALL ? TKR_E_TOO_LARGE : rc;
    ans->certificate = cert;
    ans->ca_cert = ca;
    return 0;
}

/* ---- the flow ---- */

void tkr_enroll_init(tkr_enroll_t *e)
{
    memset(e, 0, sizeof(*e));
    tkr_jwt_init(&e->jwt);
    mbedtls_pk_init(&e->key);
    mbedtls_x509_crt_init(&e->root);
    tkr_tls_init(&e->tls);
}

void tkr_enroll_free(tkr_enroll_t *e)
{
    if (e == NULL)
        return;
    tkr_jwt_free(&e->jwt);
    mbedtls_pk_free(&e->key);
    mbedtls_x509_crt_free(&e->root);
    tkr_tls_free(&e->tls);
    mbedtls_platform_zeroize(e->key_pem, sizeof(e->key_pem));
    mbedtls_platform_zeroize(e->body, sizeof(e->body));
    mbedtls_platform_zeroize(e->resp, sizeof(e->resp));
}

/* Already enrolled: <base>.crt and <base>.key present and right. */
static int already(tkr_enroll_t *e, const tkr_enroll_cfg_t *cfg,
                   const char *name, const char *base, int64_t now,
                   const tkr_port_t *port)
{
    char f[16];
    mbedtls_pk_context key;
    int rc;

    file_name(f, base, ".crt");
    if (read_text(e, port, cfg->dir, f, e->cert_pem, sizeof(e->cert_pem)) != 0)
        return 0;
    file_name(f, base, ".key");
    mbedtls_pk_init(&key);
    rc = load_key(e, port, cfg->dir, f, e->key_pem, sizeof(e->key_pem), &key);
    mbedtls_platform_zeroize(e->key_pem, sizeof(e->key_pem));
    if (rc == 0)
        rc = tkr_enroll_check_cert(e->cert_pem, &e->root, &key, name, now, port);
    mbedtls_pk_free(&key);
    return rc == 0;
}

/* The token, decoded once for the already-enrolled check and the
 * pre-flight: 0, or the failure and at which stage (0 no token, 1 its
 * encoding, 2 its claims). noinline: inlined, the decoder and the claims
 * reader swell tkr_enroll_run by more than the call costs (64 bytes of
 * the Cortex-M4 image). */
TKR_NOINLINE static int read_token(tkr_enroll_t *e, const tkr_enroll_cfg_t *cfg,
                                                int *stage)
{
    int rc;

    *stage = 0;
    if (cfg->token == NULL || cfg->token_len == 0)
        return TKR_E_NOT_FOUND;
    *stage = 1;
    if ((rc = tkr_jwt_parse(&e->jwt, cfg->token, cfg->token_len, NULL)) != 0)
        return rc;
    *stage = 2;
    return tkr_token_read(&e->info, &e->jwt);
}

/* The token's checks before any traffic (read_token's verdict first);
 * resolves name and type. */
static int preflight(tkr_enroll_t *e, tkr_enroll_result_t *res,
                     const tkr_enroll_cfg_t *cfg, int64_t now, int tok_rc,
                     int tok_stage, const char **name, const char **type)
{
    tkr_token_info_t *info = &e->info;
#if !TKR_DEVICE_LEAN
    tkr_jwt_rules_t rules;
#endif
    tkr_subject_type_t ours;
#if TKR_DIAG_TEXT
    tkr_diag_t d;
#endif
    size_t n;
    int rc;

    (void)tok_stage; /* only chooses a sentence */
    if (tok_rc != 0) {
        set_msg(res, tok_rc,
                tok_stage == 0   ? "no enrollment token"
                : tok_stage == 1 ? "the enrollment token does not decode: "
                                 : "the enrollment token's claims are not a FLARE token's: ",
                tok_stage == 0 ? "" : tkr_strerror(tok_rc));
        return tok_rc;
    }
    if (now < 0) {
        set_msg(res, TKR_E_EXPIRED, "the clock is not set: cannot check the token's expiry", "");
        return TKR_E_EXPIRED;
    }
#if TKR_DEVICE_LEAN
    /* exp and iat as tkr_jwt_check_claims checks them, from the claims
     * tkr_token_read has typed (sub is required there); the service checks
     * the rest. */
    rc = !info->has_exp ? TKR_E_CLAIM_MISSING
         : info->exp <= now - CLOCK_LEEWAY ? TKR_E_EXPIRED
         : info->has_iat && info->iat > now + CLOCK_LEEWAY ? TKR_E_IAT_FUTURE : 0;
#else
    memset(&rules, 0, sizeof(rules));
    rules.required = TKR_CLAIM_EXP | TKR_CLAIM_SUB;
    rules.leeway = CLOCK_LEEWAY;
    rc = tkr_jwt_check_claims(&e->jwt, &rules, now, NULL);
#endif
    if (rc != 0) {
        set_msg(res, rc, rc == TKR_E_EXPIRED ? "the enrollment token has expired"
                                         : "the enrollment token is not valid now: ",
                rc == TKR_E_EXPIRED ? "" : tkr_strerror(rc));
        return rc;
    }
    /* Name: ours, or the token's subject (a pattern names nobody). */
    if (cfg->name != NULL) {
        *name = cfg->name;
    } else if (info->has_type && info->type == TKR_SUBJECT_PATTERN) {
        set_msg(res, TKR_E_INVALID_ARG, "a pattern token needs the participant's name", "");
        return TKR_E_INVALID_ARG;
    } else {
        *name = info->subject;
    }
    n = strlen(*name);
    if (n == 0 || n >= sizeof(res->name)) {
        set_msg(res, TKR_E_INVALID_ARG, "the participant's name is empty or too long", "");
        return TKR_E_INVALID_ARG;
    }
    memmove(res->name, *name, n + 1);
    *name = res->name;
    /* Type: ours, or the token's (a pattern token enrolls clients). */
    if (cfg->type != NULL) {
        if (tkr_participant_type_parse(cfg->type, &ours) != 0) {
            set_msg(res, TKR_E_INVALID_ARG, "unknown participant type ", cfg->type);
            return TKR_E_INVALID_ARG;
        }
    } else {
        ours = info->has_type && info->type != TKR_SUBJECT_PATTERN ? info->type
                                                                   : TKR_SUBJECT_CLIENT;
    }
#if TKR_DIAG_TEXT
    tkr_diag_clear(&d);
    if ((rc = tkr_token_admits(info, *name, ours, &d)) != 0) {
        if (rc == TKR_E_CLAIM_MISSING)
            set_msg(res, rc, "the enrollment token has no subject_type", "");
        else if (strcmp(d.name, "subject_type") == 0)
            set_msg(res, rc, "the enrollment token is for a ", tkr_subject_type_name(info->type));
        else if (info->type == TKR_SUBJECT_PATTERN)
            set_msg(res, rc, "the enrollment token's pattern does not match ", *name);
        else
            set_msg(res, rc, "the enrollment token is for another participant than ", *name);
        return rc;
    }
#else
    /* Without text the message is the code: no diagnostics to pick it. */
    if ((rc = tkr_token_admits(info, *name, ours, NULL)) != 0) {
        set_msg(res, rc, "", "");
        return rc;
    }
#endif
    *type = tkr_subject_type_name(ours);
    return 0;
}

/* The pending key, or a new one stored as pending before use. */
static int get_key(tkr_enroll_t *e, const tkr_enroll_cfg_t *cfg,
                   const tkr_port_t *port, int *reused)
{
    size_t n;
    int rc;

    *reused = 0;
    if (load_key(e, port, cfg->dir, PENDING_NAME, e->key_pem, sizeof(e->key_pem),
                 &e->key) == 0) {
        *reused = 1;
        return 0;
    }
    mbedtls_pk_free(&e->key);
    mbedtls_pk_init(&e->key);
    if ((rc = tkr_key_generate(&e->key, cfg->key_type, port, NULL)) != 0)
        return rc;
    if ((rc = tkr_key_write_pem(e->key_pem, sizeof(e->key_pem), &n, &e->key, NULL)) != 0)
        return rc;
    return write_text(e, port, cfg->dir, PENDING_NAME, e->key_pem, n, TKR_STORE_SECRET);
}

static uint64_t mono(const tkr_port_t *port)
{
    return port->mono_ms != NULL ? port->mono_ms(port->ctx) : 0;
}

/* Wait before the next attempt: Retry-After when the service gave one,
 * else the backoff, plus up to a quarter more at random so a fleet that
 * booted together does not come back together. 0 when the deadline does
 * not leave room for another attempt. */
static int wait_next(const tkr_port_t *port, uint64_t deadline,
                     int64_t retry_after, uint32_t *backoff_s)
{
    /* In 32 bits (the wait is at most five minutes): a 32-bit MCU then
     * needs no 64-bit multiply or divide. */
    uint32_t ms = retry_after > 300 ? 300000u
                  : retry_after >= 0 ? (uint32_t)retry_after * 1000u
                                     : *backoff_s * 1000u;
    uint8_t r = 0;
    uint64_t now = mono(port);

    if (port->sleep_ms == NULL || port->mono_ms == NULL)
        return 0;
    if (port->entropy != NULL && port->entropy(port->ctx, &r, 1) == 0)
        ms += (ms / 4 * r) >> 8;
    if (ms > 300000u)
        ms = 300000u;
    if (now >= deadline)
        return 0;
    /* A wait that would pass the deadline ends at it, for one last try. */
    if (now + ms > deadline)
        ms = (uint32_t)(deadline - now);
    port->sleep_ms(port->ctx, ms);
    if (*backoff_s < 60)
        *backoff_s *= 2;
    return 1;
}

/* A key made by this run that no service ever answered for goes again, so
 * a run that reached nobody leaves the folder as it found it. A key some
 * service answered for stays: its request may be waiting for approval. */
static void drop_unsent_key(tkr_enroll_t *e, const tkr_enroll_result_t *res,
                            const tkr_enroll_cfg_t *cfg, const tkr_port_t *port,
                            int reused)
{
    if (!reused && res->http_status == 0)
        (void)port->store_remove(port->ctx, path_of(e, cfg->dir, PENDING_NAME));
}

static int store_answer(tkr_enroll_t *e, tkr_enroll_result_t *res,
                        const tkr_enroll_cfg_t *cfg, const char *name,
                        const char *base, int64_t now, const tkr_port_t *port)
{
    mbedtls_x509_crt ca;
    char f[16];
    int rc;

    /* The CA the service returns must be the root we trust. */
    mbedtls_x509_crt_init(&ca);
    rc = mbedtls_x509_crt_parse(&ca, (const unsigned char *)e->resp_ca,
                                strlen(e->resp_ca) + 1);
    if (rc != 0 || ca.raw.len != e->root.raw.len ||
        memcmp(ca.raw.p, e->root.raw.p, ca.raw.len) != 0) {
        mbedtls_x509_crt_free(&ca);
        set_msg(res, TKR_E_CERT, "the service returned another CA than rootCA.pem", "");
        return TKR_E_CERT;
    }
    mbedtls_x509_crt_free(&ca);
    rc = tkr_enroll_check_cert(e->cert_pem, &e->root, &e->key, name, now, port);
    if (rc != 0) {
        set_msg(res, rc, rc == TKR_E_KEY_MISMATCH
                         ? "the issued certificate does not hold our key"
                         : rc == TKR_E_SUB ? "the issued certificate names someone else"
                                           : "the issued certificate does not chain to rootCA.pem",
                "");
        return rc == TKR_E_SUB || rc == TKR_E_KEY_MISMATCH ? rc : TKR_E_CERT;
    }
    rc = tkr_enroll_commit(e, cfg->dir, base, e->key_pem, e->cert_pem,
                           e->resp_ca, port);
    if (rc != 0) {
        set_msg(res, rc, "cannot store the certificate: ", tkr_strerror(rc));
        return rc;
    }
    file_name(f, base, ".crt");
    path_of(e, cfg->dir, f);
    memcpy(res->cert_path, e->path, sizeof(res->cert_path));
    return 0;
}

int tkr_enroll_run(tkr_enroll_t *e, tkr_enroll_result_t *res,
                   const tkr_enroll_cfg_t *cfg, tkr_transport_t *tcp,
                   const tkr_port_t *port)
{
    const char *name = NULL, *type = NULL, *base;
    tkr_http_t h;
    tkr_http_req_t req;
    tkr_http_response_t r;
    tkr_enroll_answer_t *ans = &e->ans;
    uint64_t deadline;
    uint32_t backoff = 2;
    size_t body_len = 0;
    int64_t now;
    int rc, reused = 0, tok_rc, tok_stage;
    char f[16];

    if (e == NULL || res == NULL || cfg == NULL || tcp == NULL || port == NULL)
        return TKR_E_INVALID_ARG;
    memset(res, 0, sizeof(res[0]));
    res->outcome = TKR_ENROLL_FAILED;
    if (port->store_read == NULL || port->store_write == NULL ||
        port->store_remove == NULL || !path_fits(cfg->dir, COMMIT_NAME)) {
        set_msg(res, TKR_E_INVALID_ARG, "the port has no storage, or the folder name is too long", "");
        return TKR_E_INVALID_ARG;
    }
    deadline = mono(port) + (uint64_t)cfg->wait_s * 1000u;
    now = tkr_port_time(port);

    /* A commit a power cut interrupted comes first. */
    if ((rc = tkr_enroll_recover(e, cfg->dir, port)) != 0) {
        set_msg(res, rc, "cannot finish the interrupted commit in " COMMIT_NAME, "");
        return rc;
    }
    rc = read_text(e, port, cfg->dir, ROOT_NAME, e->ca_pem, sizeof(e->ca_pem));
    if (rc == 0 && mbedtls_x509_crt_parse(&e->root, (const unsigned char *)e->ca_pem,
                                          strlen(e->ca_pem) + 1) != 0)
        rc = TKR_E_CERT;
    if (rc != 0) {
        set_msg(res, rc, "no usable root CA (" ROOT_NAME ") in the startup folder", "");
        return rc == TKR_E_NOT_FOUND ? rc : TKR_E_CERT;
    }
    /* The name and type for the already-enrolled check: given, or from the
     * token when there is one (its checks come after: a device that has
     * enrolled may have lost or spent its token). */
    name = cfg->name;
    type = cfg->type;
    tok_rc = read_token(e, cfg, &tok_stage);
    if (tok_rc == 0 && !(e->info.has_type && e->info.type == TKR_SUBJECT_PATTERN)) {
        if (name == NULL) {
            memcpy(res->name, e->info.subject, sizeof(res->name) - 1);
            name = res->name;
        }
        if (type == NULL && e->info.has_type)
            type = tkr_subject_type_name(e->info.type);
    }
    base = base_of(type);
    /* With no name given and no token to read it from, a certificate that
     * chains to our root and holds our key is ours, whatever it names. */
    if ((name != NULL || cfg->token == NULL) && already(e, cfg, name, base, now, port)) {
        file_name(f, base, ".crt");
        memcpy(res->cert_path, path_of(e, cfg->dir, f), sizeof(res->cert_path));
        if (name != NULL && name != res->name)
            memcpy(res->name, name, strlen(name) < sizeof(res->name) ? strlen(name) + 1 : 1);
        res->outcome = TKR_ENROLL_ALREADY;
        say(e, port, TKR_LOG_INFO, "Already enrolled. Certificate: ", res->cert_path, "");
        return 0;
    }

    if ((rc = preflight(e, res, cfg, now, tok_rc, tok_stage, &name, &type)) != 0) {
        say(e, port, TKR_LOG_ERROR, "Enrollment not attempted: ", res->message, "");
        return rc;
    }
    base = base_of(type);
    if (cfg->service_url == NULL || tkr_http_url_parse(&e->url, cfg->service_url) != 0) {
        set_msg(res, TKR_E_INVALID_ARG, "no usable certificate service URL", "");
        return TKR_E_INVALID_ARG;
    }
    if ((rc = get_key(e, cfg, port, &reused)) != 0) {
        set_msg(res, rc, "cannot create the key pair: ", tkr_strerror(rc));
        return rc;
    }
    {
        tkr_csr_subject_t subj = {name, cfg->org, type, cfg->role};
        size_t n;
        rc = tkr_csr_write_pem(e->csr_pem, sizeof(e->csr_pem), &n, &e->key, &subj, port, NULL);
    }
    if (rc == 0)
        rc = tkr_enroll_request_body((char *)e->body, sizeof(e->body), &body_len,
                                     cfg->token, cfg->token_len, e->csr_pem, name,
                                     type, cfg->org, cfg->role);
    if (rc != 0) {
        set_msg(res, rc, "cannot write the certificate request: ", tkr_strerror(rc));
        return rc;
    }
    say(e, port, TKR_LOG_INFO, reused ? "Enrolling " : "Enrolling ", name,
        reused ? " with the key of the pending request" : " with a new key");

    memset(&h, 0, sizeof(h));
    h.port = port;
    h.tcp = tcp;
    h.tls = &e->tls;
    h.ca_pem = e->ca_pem;
    h.insecure_http = cfg->insecure_http;
    h.timeout_ms = cfg->request_timeout_ms ? cfg->request_timeout_ms : 30000u;
    h.max_frag_len = cfg->max_frag_len;
    memset(&req, 0, sizeof(req));
    req.method = "POST";
    req.url = &e->url;
    req.path = "/api/v1/enroll";
    req.body = e->body;
    req.body_len = body_len;

    for (;;) {
        res->attempts++;
        res->tls_problem = NULL;
        rc = tkr_http_request(&h, e->resp, sizeof(e->resp), &r, &req);
        if (rc == TKR_E_INVALID_ARG || rc == TKR_E_CERT) {
            set_msg(res, rc, rc == TKR_E_CERT ? "rootCA.pem holds no usable certificate"
                                          : "plain http:// is not allowed", "");
            return rc;
        }
        if (rc == TKR_E_TLS && e->tls.verify_flags != 0) {
            /* A server we cannot trust will not become trustworthy by
             * asking again. Nothing is stored. */
            res->tls_problem = tkr_tls_problem(&e->tls);
            set_msg(res, rc, "TLS: ", res->tls_problem);
            say(e, port, TKR_LOG_ERROR, "Enrollment failed: ", res->message, "");
            drop_unsent_key(e, res, cfg, port, reused);
            return rc;
        }
        if (rc == 0) {
            res->http_status = r.status;
            rc = tkr_enroll_parse_answer(ans, e->cert_pem, e->resp_ca, e->tok,
                                         sizeof(e->tok) / sizeof(e->tok[0]),
                                         r.status, r.body, r.body_len);
            if (r.status == 200) {
                if (rc != 0) {
                    set_msg(res, TKR_E_CERT, "the service's answer is not a certificate: ",
                            tkr_strerror(rc));
                    return TKR_E_CERT;
                }
                /* Now, not at the start: an approval may have taken hours. */
                rc = store_answer(e, res, cfg, name, base, tkr_port_time(port), port);
                if (rc != 0) {
                    say(e, port, TKR_LOG_ERROR, "Enrollment failed: ", res->message, "");
                    return rc;
                }
                res->outcome = TKR_ENROLL_ENROLLED;
                say(e, port, TKR_LOG_INFO,
                    "Enrollment successful. Certificate saved to: ", res->cert_path, "");
                return 0;
            }
            if (r.status == 202) {
                memcpy(res->message, ans->message, sizeof(res->message));
                memcpy(res->request_id, ans->request_id, sizeof(res->request_id));
                res->outcome = TKR_ENROLL_PENDING;
                say(e, port, TKR_LOG_INFO, "Enrollment pending approval: ",
                    ans->message[0] ? ans->message : "waiting for an administrator", "");
                if (!wait_next(port, deadline, r.retry_after, &backoff))
                    return TKR_E_PENDING;
                continue;
            }
            if (r.status >= 400 && r.status < 500) {
                memcpy(res->message, ans->message, sizeof(res->message));
                if (res->message[0] == '\0')
                    set_msg(res, TKR_E_REJECTED, "the service refused the request", "");
                res->outcome = TKR_ENROLL_REJECTED;
                say(e, port, TKR_LOG_ERROR, "Enrollment rejected: ", res->message, "");
                /* This key's request is over; the next token starts fresh. */
                (void)port->store_remove(port->ctx, path_of(e, cfg->dir, PENDING_NAME));
                return TKR_E_REJECTED;
            }
            /* 5xx and anything else: the service is not itself; retry. */
            rc = TKR_E_NET;
            set_msg(res, rc, "the service answered with an error status", "");
        } else {
            res->last_error = rc;
            if (rc == TKR_E_TLS)
                res->tls_problem = tkr_tls_problem(&e->tls);
            set_msg(res, rc, res->tls_problem ? "TLS: " : "",
                    res->tls_problem ? res->tls_problem : tkr_strerror(rc));
        }
        res->outcome = TKR_ENROLL_UNREACHABLE;
        say(e, port, TKR_LOG_WARN, "Enrollment attempt failed: ", res->message, "");
        if (!wait_next(port, deadline, -1, &backoff)) {
            drop_unsent_key(e, res, cfg, port, reused);
            return rc == TKR_E_TIMEOUT ? TKR_E_TIMEOUT : TKR_E_NET;
        }
    }
}
