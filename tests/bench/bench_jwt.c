/* bench_jwt.c — what tokenroll's JWT layer costs on top of mbedTLS.
 *
 * Every figure is a ratio to a baseline measured in the same run, because
 * absolute times say more about the machine than about the code:
 *
 *   parse    tkr_jwt_parse of a FLARE enrollment token (fixed_site-1.jwt,
 *            RS256, ~1.2 KB) against tkr_b64url_decode of its payload
 *            segment alone: the one step no parser can skip.
 *   verify   tkr_jwt_verify_sig against mbedtls_pk_verify of the same
 *            digest and signature (DER for ECDSA, which is what mbedTLS
 *            takes natively; tokenroll converts from JWS r||s each time).
 *   sign     tkr_jwt_sign of the same claims against mbedtls_pk_sign of
 *            their digest.
 *
 * Keys are fresh each run (RSA-2048, P-256) from the POSIX port's RNG.
 * Operations run in alternating rounds (A, B, A, B, ...), timed in thread
 * CPU time, and the figure is the median of the per-round ratios, so
 * frequency scaling or a noisy neighbour that hits one round does not move
 * it. Nothing here asserts
 * a time; the program fails only when an operation itself fails.
 *
 * Usage: bench_jwt [SECONDS_PER_MEASUREMENT] (default 0.5); run from the
 * repository root (the token is read from tests/vectors/flare). */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <mbedtls/ecp.h>
#include <mbedtls/pk.h>
#include <mbedtls/platform.h>
#include <mbedtls/rsa.h>
#include <mbedtls/version.h>

#include "compat.h"
#include "tkr_port_posix.h"
#include "tokenroll/b64url.h"
#include "tokenroll/error.h"
#include "tokenroll/jwt.h"

#define TOKEN_PATH "tests/vectors/flare/fixed_site-1.jwt"
#define ROUNDS 10

/* ---- timing ---- */

/* The budget of a round is wall time (CLOCK_MONOTONIC), so a run takes as
 * long as asked whatever the load; the figures use the thread's CPU time,
 * so time spent descheduled behind other processes (a parallel build on the
 * same cores) is not charged to whichever side happened to be running. */
typedef struct {
    double wall, cpu;
} stamp_t;

static stamp_t stamp(void)
{
    struct timespec w, c;
    stamp_t s;

    clock_gettime(CLOCK_MONOTONIC, &w);
    if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c) != 0)
        c = w;
    s.wall = (double)w.tv_sec + (double)w.tv_nsec * 1e-9;
    s.cpu = (double)c.tv_sec + (double)c.tv_nsec * 1e-9;
    return s;
}

typedef int (*op_fn)(void *arg);

typedef struct {
    const char *name;
    op_fn fn;
    void *arg;
    double ns[ROUNDS]; /* CPU ns/op in each round */
} side_t;

static void die(const char *what, int rc)
{
    fprintf(stderr, "bench_jwt: %s failed: %d (%s)\n", what, rc,
            rc < 0 && rc >= TKR_E_LAST ? tkr_strerror(rc) : "mbedTLS code");
    exit(1);
}

/* CPU ns/op of one side over about `budget` wall seconds, in batches that
 * grow until a batch is long enough for the clock to resolve it. */
static double run_side(const side_t *s, double budget)
{
    long batch = 1, ops = 0, i;
    stamp_t t0 = stamp(), t;
    int rc;

    do {
        for (i = 0; i < batch; i++)
            if ((rc = s->fn(s->arg)) != 0)
                die(s->name, rc);
        ops += batch;
        t = stamp();
        if (t.wall - t0.wall < budget / 64)
            batch *= 2;
    } while (t.wall - t0.wall < budget);
    return (t.cpu - t0.cpu) * 1e9 / (double)ops;
}

static double median(const double *v, int n)
{
    double s[ROUNDS], x;
    int i, j;

    for (i = 0; i < n; i++) {
        x = v[i];
        for (j = i; j > 0 && s[j - 1] > x; j--)
            s[j] = s[j - 1];
        s[j] = x;
    }
    return n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

typedef struct {
    double a_ns, b_ns; /* medians over the rounds */
    double ratio;      /* median of the per-round ratios a/b */
} result_t;

/* A against B in alternating rounds, `each` seconds per side in all. The
 * figure is the median of the per-round ratios: each round compares two
 * neighbours in time, and the median drops rounds that a burst of other
 * load hit on one side only. */
static result_t compare(side_t *a, side_t *b, double each)
{
    double ratios[ROUNDS];
    result_t res;
    int r, rc;

    /* One warm-up call each: page faults and lazy tables out of the way. */
    if ((rc = a->fn(a->arg)) != 0)
        die(a->name, rc);
    if ((rc = b->fn(b->arg)) != 0)
        die(b->name, rc);
    for (r = 0; r < ROUNDS; r++) {
        a->ns[r] = run_side(a, each / ROUNDS);
        b->ns[r] = run_side(b, each / ROUNDS);
        ratios[r] = a->ns[r] / b->ns[r];
    }
    res.a_ns = median(a->ns, ROUNDS);
    res.b_ns = median(b->ns, ROUNDS);
    res.ratio = median(ratios, ROUNDS);
    return res;
}

static void report_ns(const char *title, const side_t *a, const side_t *b,
                      result_t r)
{
    printf("%-14s %-22s %10.0f ns/op | baseline %-26s %10.0f ns/op | ratio %5.2f\n",
           title, a->name, r.a_ns, b->name, r.b_ns, r.ratio);
}

static void report_ops(const char *title, const side_t *a, const side_t *b,
                       result_t r)
{
    printf("%-14s %-22s %10.1f ops/s | baseline %-26s %10.1f ops/s | overhead %5.3fx\n",
           title, a->name, 1e9 / r.a_ns, b->name, 1e9 / r.b_ns, r.ratio);
}

/* ---- peak heap inside mbedTLS ---- */

#if defined(MBEDTLS_PLATFORM_MEMORY) && \
    !(defined(MBEDTLS_PLATFORM_CALLOC_MACRO) && defined(MBEDTLS_PLATFORM_FREE_MACRO))
#define HAVE_HEAP_COUNT 1
/* Each block carries its size in front, so free can subtract it. */
#define HDR sizeof(max_align_t)
static size_t heap_cur, heap_peak;

static void *count_calloc(size_t n, size_t size)
{
    unsigned char *p;
    size_t total;

    if (size != 0 && n > (SIZE_MAX - HDR) / size)
        return NULL;
    total = n * size;
    p = calloc(1, HDR + total);
    if (p == NULL)
        return NULL;
    memcpy(p, &total, sizeof(total));
    heap_cur += total;
    if (heap_cur > heap_peak)
        heap_peak = heap_cur;
    return p + HDR;
}

static void count_free(void *q)
{
    unsigned char *p;
    size_t total;

    if (q == NULL)
        return;
    p = (unsigned char *)q - HDR;
    memcpy(&total, p, sizeof(total));
    heap_cur -= total;
    free(p);
}

/* Bytes mbedTLS holds at most during one call, above what it held before. */
static size_t heap_of(op_fn fn, void *arg)
{
    size_t base = heap_cur;
    int rc;

    heap_peak = heap_cur;
    if ((rc = fn(arg)) != 0)
        die("heap probe", rc);
    return heap_peak - base;
}
#else
#define HAVE_HEAP_COUNT 0
#endif

/* ---- the operations ---- */

typedef struct {
    const char *token;
    size_t token_len;
    const char *payload; /* the middle segment of token */
    size_t payload_len;
} parse_arg_t;

static tkr_jwt_t g_parse_jwt; /* ~25 KiB: static, as jwt.h advises */
static uint8_t g_decoded[TKR_JWT_PAYLOAD_MAX];

static int op_parse(void *p)
{
    const parse_arg_t *a = p;
    return tkr_jwt_parse(&g_parse_jwt, a->token, a->token_len, NULL);
}

static int op_b64_payload(void *p)
{
    const parse_arg_t *a = p;
    size_t n;
    return tkr_b64url_decode(g_decoded, sizeof(g_decoded), &n, a->payload,
                             a->payload_len, NULL);
}

typedef struct {
    mbedtls_pk_context pk;
    tkr_jwt_alg_t alg;
    const tkr_port_t *port;
    const char *claims;
    size_t claims_len;
    tkr_jwt_t jwt;          /* a token signed by pk, parsed */
    unsigned char der[MBEDTLS_PK_SIGNATURE_MAX_SIZE]; /* ECDSA DER of jwt.digest */
    size_t der_len;
    char out[TKR_JWT_MAX];
    unsigned char sig[MBEDTLS_PK_SIGNATURE_MAX_SIZE];
} key_arg_t;

static int op_tkr_verify(void *p)
{
    key_arg_t *k = p;
    return tkr_jwt_verify_sig(&k->jwt, k->alg, &k->pk);
}

static int op_raw_verify(void *p)
{
    key_arg_t *k = p;
    const unsigned char *sig = k->alg == TKR_JWT_RS256 ? k->jwt.sig : k->der;
    size_t len = k->alg == TKR_JWT_RS256 ? k->jwt.sig_len : k->der_len;

    return mbedtls_pk_verify(&k->pk, MBEDTLS_MD_SHA256, k->jwt.digest, 32,
                             sig, len);
}

static int op_tkr_sign(void *p)
{
    key_arg_t *k = p;
    size_t n;
    return tkr_jwt_sign(k->out, sizeof(k->out), &n, &k->pk, k->alg, NULL,
                        k->claims, k->claims_len, k->port);
}

static int op_raw_sign(void *p)
{
    key_arg_t *k = p;
    size_t n;
    return tkr_compat_pk_sign(&k->pk, MBEDTLS_MD_SHA256, k->jwt.digest, 32,
                              k->sig, sizeof(k->sig), &n, tkr_port_rng,
                              (void *)k->port);
}

/* Key, a token it signed over claims, and the DER form of an ECDSA
 * signature for the raw baseline. */
static void key_setup(key_arg_t *k, tkr_jwt_alg_t alg, const tkr_port_t *port,
                      const char *claims, size_t claims_len)
{
    size_t n;
    int rc;

    memset(k, 0, sizeof(*k));
    k->alg = alg;
    k->port = port;
    k->claims = claims;
    k->claims_len = claims_len;
    mbedtls_pk_init(&k->pk);
    tkr_jwt_init(&k->jwt);
    if (alg == TKR_JWT_RS256) {
        rc = mbedtls_pk_setup(&k->pk, mbedtls_pk_info_from_type(MBEDTLS_PK_RSA));
        if (rc == 0)
            rc = mbedtls_rsa_gen_key(mbedtls_pk_rsa(k->pk), tkr_port_rng,
                                     (void *)port, 2048, 65537);
    } else {
        rc = mbedtls_pk_setup(&k->pk, mbedtls_pk_info_from_type(MBEDTLS_PK_ECKEY));
        if (rc == 0)
            rc = mbedtls_ecp_gen_key(MBEDTLS_ECP_DP_SECP256R1,
                                     mbedtls_pk_ec(k->pk), tkr_port_rng,
                                     (void *)port);
    }
    if (rc != 0)
        die("key generation", rc);
    if ((rc = tkr_jwt_sign(k->out, sizeof(k->out), &n, &k->pk, alg, NULL,
                           claims, claims_len, port)) != 0)
        die("tkr_jwt_sign (setup)", rc);
    if ((rc = tkr_jwt_parse(&k->jwt, k->out, n, NULL)) != 0)
        die("tkr_jwt_parse (setup, NULL)", rc);
    if (alg != TKR_JWT_RS256 &&
        (rc = tkr_compat_pk_sign(&k->pk, MBEDTLS_MD_SHA256, k->jwt.digest, 32,
                                 k->der, sizeof(k->der), &k->der_len,
                                 tkr_port_rng, (void *)port)) != 0)
        die("mbedtls_pk_sign (setup)", rc);
}

static void key_free(key_arg_t *k)
{
    tkr_jwt_free(&k->jwt);
    mbedtls_pk_free(&k->pk);
}

/* ---- main ---- */

static size_t read_token(char *buf, size_t size)
{
    FILE *f = fopen(TOKEN_PATH, "rb");
    size_t n;

    if (f == NULL) {
        fprintf(stderr, "bench_jwt: cannot open %s (run from the repository root)\n",
                TOKEN_PATH);
        exit(1);
    }
    n = fread(buf, 1, size - 1, f);
    fclose(f);
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r' ||
                     buf[n - 1] == ' '))
        n--;
    buf[n] = '\0';
    return n;
}

static void bench_key(const char *alg_name, tkr_jwt_alg_t alg,
                      const tkr_port_t *port, const char *claims,
                      size_t claims_len, double each)
{
    static key_arg_t k; /* holds a tkr_jwt_t and a token buffer: ~45 KiB */
    char title[32];
    side_t tv = {"tkr_jwt_verify_sig", op_tkr_verify, &k, {0}};
    side_t rv = {"mbedtls_pk_verify", op_raw_verify, &k, {0}};
    side_t ts = {"tkr_jwt_sign", op_tkr_sign, &k, {0}};
    side_t rs = {"mbedtls_pk_sign", op_raw_sign, &k, {0}};
    result_t r;

    key_setup(&k, alg, port, claims, claims_len);
    if (alg != TKR_JWT_RS256) {
        rv.name = "mbedtls_pk_verify (DER)";
        rs.name = "mbedtls_pk_sign (DER)";
    }
    r = compare(&tv, &rv, each);
    snprintf(title, sizeof(title), "%s verify", alg_name);
    report_ops(title, &tv, &rv, r);
    r = compare(&ts, &rs, each);
    snprintf(title, sizeof(title), "%s sign", alg_name);
    report_ops(title, &ts, &rs, r);
#if HAVE_HEAP_COUNT
    printf("%-14s peak mbedTLS heap: verify %zu bytes (raw %zu), sign %zu bytes (raw %zu)\n",
           alg_name, heap_of(op_tkr_verify, &k), heap_of(op_raw_verify, &k),
           heap_of(op_tkr_sign, &k), heap_of(op_raw_sign, &k));
#endif
    key_free(&k);
}

int main(int argc, char **argv)
{
    static char token[TKR_JWT_MAX + 1];
    static char claims[TKR_JWT_PAYLOAD_MAX];
    tkr_posix_t pctx = {TKR_LOG_WARN, -1};
    tkr_port_t port;
    parse_arg_t pa;
    const char *d1, *d2;
    size_t claims_len;
    double each = argc > 1 ? atof(argv[1]) : 0.5;
    int rc;

    if (!(each > 0.0 && each <= 10.0)) {
        fprintf(stderr, "usage: bench_jwt [SECONDS_PER_MEASUREMENT (0..10]]\n");
        return 2;
    }
#if HAVE_HEAP_COUNT
    /* Before any mbedTLS call, so every block it frees was counted. */
    mbedtls_platform_set_calloc_free(count_calloc, count_free);
#endif
    tkr_port_posix_init(&port, &pctx);

    printf("bench_jwt: mbedTLS %s; %.2f s per measurement in %d alternating rounds\n",
           MBEDTLS_VERSION_STRING, each, ROUNDS);
    printf("figure = median of per-round ratios to a baseline run alongside (thread "
           "CPU time);\nns/op and ops/s are for orientation on this machine only\n");

    pa.token_len = read_token(token, sizeof(token));
    pa.token = token;
    d1 = memchr(token, '.', pa.token_len);
    d2 = d1 != NULL ? memchr(d1 + 1, '.', pa.token_len - (size_t)(d1 + 1 - token)) : NULL;
    if (d2 == NULL)
        die("token format", TKR_E_JWT_FORMAT);
    pa.payload = d1 + 1;
    pa.payload_len = (size_t)(d2 - d1 - 1);

    /* The claims of the FLARE token are what every signing test signs. */
    tkr_jwt_init(&g_parse_jwt);
    if ((rc = tkr_jwt_parse(&g_parse_jwt, token, pa.token_len, NULL)) != 0)
        die("tkr_jwt_parse", rc);
    claims_len = g_parse_jwt.claims_len;
    memcpy(claims, g_parse_jwt.claims, claims_len);

    {
        side_t a = {"tkr_jwt_parse", op_parse, &pa, {0}};
        side_t b = {"b64url decode of payload", op_b64_payload, &pa, {0}};
        char title[40];
        result_t r = compare(&a, &b, each);

        snprintf(title, sizeof(title), "parse %zu B", pa.token_len);
        report_ns(title, &a, &b, r);
    }

    bench_key("RS256", TKR_JWT_RS256, &port, claims, claims_len, each);
    bench_key("ES256", TKR_JWT_ES256, &port, claims, claims_len, each);

#if !HAVE_HEAP_COUNT
    printf("peak mbedTLS heap: skipped, this mbedTLS build has no "
           "MBEDTLS_PLATFORM_MEMORY (mbedtls_platform_set_calloc_free)\n");
#endif
    tkr_jwt_free(&g_parse_jwt);
    return 0;
}
