/* bench_batch.c — the CA signer's backends, side by side, in one run:
 *
 *   - raw sign rate of each backend (tkr_signer_sign, one thread), beside
 *     `openssl speed` and mbedTLS's own mbedtls_pk_sign: the limit;
 *   - `tokenroll token batch -n 2000` tokens/s per backend (all cores);
 *   - certificates/s through tkr_cert_write_pem per backend (one thread);
 * for an RSA-2048 and a P-256 CA. The PKCS#11 backend runs on SoftHSM2 in
 * a throwaway token when softhsm2-util is installed.
 *
 * The figures are ratios to baselines measured in the same run, next to
 * the figure; nothing here asserts a speed. In-process rates are per
 * second of thread CPU time (as `openssl speed` counts by default), signer
 * and baseline alternating in rounds (median ratio); the baseline of a
 * batch is taken right before and after it. The baseline of a backend is its
 * own library's raw sign loop: mbedtls_pk_sign, or EVP_PKEY_sign for
 * OpenSSL and for SoftHSM2 (which signs with libcrypto). The goal line
 * compares the OpenSSL backend's batch with cores x that rate (goal:
 * >= 0.90): its wall-time tokens/s, which only an idle machine can show,
 * and its tokens per CPU second, which the load of others cannot change;
 * the load average is printed beside them.
 *
 * usage: bench_batch [SECONDS] — run from the repository root; the
 * tokenroll binary is taken from beside this program's folder. */
#include <libgen.h>
#include <limits.h>
#include <sys/resource.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <mbedtls/md.h>
#include <mbedtls/pk.h>
#include <mbedtls/version.h>

#if defined(TKR_WITH_OPENSSL)
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#endif

#include "compat.h"
#include "tkr_p11_posix.h"
#include "tkr_port_posix.h"
#include "tokenroll/certjson.h"
#include "tokenroll/certwrite.h"
#include "tokenroll/csr.h"
#include "tokenroll/error.h"
#include "tokenroll/key.h"
#include "tokenroll/pkcs11.h"
#include "tokenroll/port.h"
#include "tokenroll/signer.h"

#define TOKENS 2000
#define SOFTHSM "/usr/lib/softhsm/libsofthsm2.so"

static tkr_port_t port;
static char dir[] = "/tmp/tkr-bench-XXXXXX";
static char tr[PATH_MAX + 32];
static int have_hsm;

enum { B_MBEDTLS, B_OPENSSL, B_PKCS11, NB };
static const char *const bname[NB] = {"mbedtls", "openssl", "pkcs11"};
enum { K_RSA, K_EC, NK };
static const char *const kname[NK] = {"RSA-2048", "P-256"};
static const char *const kdir[NK] = {"rsa", "ec"};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* CPU seconds of the calling thread: in-process rates count the work
 * done, not the share of the machine this process was given. */
static double cpu_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int sh(const char *cmd)
{
    int rc = system(cmd);
    if (rc != 0)
        fprintf(stderr, "bench_batch: failed (%d): %s\n", rc, cmd);
    return rc;
}

static void die(const char *what)
{
    fprintf(stderr, "bench_batch: %s\n", what);
    exit(1);
}

/* The sign rate (ops/s) that `openssl speed` reports for alg. */
static double openssl_speed(const char *alg, const char *row)
{
    char cmd[256], line[512];
    double rate = 0;
    FILE *p;

    snprintf(cmd, sizeof(cmd), "openssl speed -seconds 2 %s 2>/dev/null", alg);
    if ((p = popen(cmd, "r")) == NULL)
        return 0;
    while (fgets(line, sizeof(line), p) != NULL) {
        double a, b, s, v;
        char *at = strstr(line, row);
        /* "rsa 2048 bits 0.000373s 0.000020s 2679.6 49937.6"
         * " 256 bits ecdsa (nistp256)   0.0000s   0.0001s  40000.0  13000.0":
         * the figures follow the row's name */
        if (at != NULL && sscanf(at + strlen(row), " %lfs %lfs %lf %lf", &a, &b, &s, &v) == 4)
            rate = s;
    }
    pclose(p);
    return rate;
}

/* ---- keys and workspaces ---- */

static void workspace(int k)
{
    char cmd[4 * PATH_MAX];
    FILE *f;

    snprintf(cmd, sizeof(cmd), "%s/p.yml", dir);
    if ((f = fopen(cmd, "w")) == NULL)
        die("cannot write p.yml");
    fputs("api_version: 3\nname: bench\nparticipants:\n  - name: s.example\n    type: server\n"
          "    org: o\n    fed_learn_port: 8002\n    admin_port: 8003\n", f);
    fclose(f);
    snprintf(cmd, sizeof(cmd), "%s provision -p %s/p.yml -w %s/%s --key-type %s --signer mbedtls >/dev/null",
             tr, dir, dir, kdir[k], k == K_RSA ? "rsa" : "ec");
    if (sh(cmd) != 0)
        exit(1);
}

/* The workspace's CA: certificate parsed, key text into key/len. */
static void load_ca(int k, tkr_ca_t *ca, char *key, size_t size)
{
    static char buf[2 * TKR_CERTJSON_MAX];
    char path[PATH_MAX];
    FILE *f;

    snprintf(path, sizeof(path), "%s/%s/bench", dir, kdir[k]);
    tkr_ca_init(ca);
    ca->key_text = key;
    ca->key_text_size = size;
    if (tkr_certjson_load(ca, buf, sizeof(buf), path, &port, NULL) != 0 || ca->key_len == 0)
        die("cannot load the benchmark CA");
    ca->key_text = NULL;
    /* the same key as a file, for --ca-key and softhsm2-util */
    snprintf(path, sizeof(path), "%s/%s.key", dir, kdir[k]);
    if ((f = fopen(path, "w")) == NULL || fwrite(key, 1, strlen(key), f) != strlen(key))
        die("cannot write the key file");
    fclose(f);
}

static void softhsm(void)
{
    char cmd[4 * PATH_MAX];
    int k;

    if (system("command -v softhsm2-util >/dev/null 2>&1") != 0 || access(SOFTHSM, R_OK) != 0) {
        printf("pkcs11: skipped (softhsm2 not installed)\n");
        return;
    }
    snprintf(cmd, sizeof(cmd), "mkdir -p %s/hsm && printf 'directories.tokendir = %s/hsm\\n"
             "objectstore.backend = file\\nlog.level = ERROR\\n' > %s/softhsm2.conf", dir, dir, dir);
    if (sh(cmd) != 0)
        return;
    snprintf(cmd, sizeof(cmd), "%s/softhsm2.conf", dir);
    setenv("SOFTHSM2_CONF", cmd, 1);
    if (sh("softhsm2-util --init-token --free --label bench --pin 1234 --so-pin 123456 >/dev/null") != 0)
        return;
    for (k = 0; k < NK; k++) {
        /* softhsm2-util reads PKCS#8 only */
        snprintf(cmd, sizeof(cmd), "openssl pkcs8 -topk8 -nocrypt -in %s/%s.key -out %s/%s.p8 && "
                 "softhsm2-util --import %s/%s.p8 --token bench --label %s --id 0%d --pin 1234 >/dev/null",
                 dir, kdir[k], dir, kdir[k], dir, kdir[k], kdir[k], k + 1);
        if (sh(cmd) != 0)
            return;
    }
    have_hsm = 1;
}

static void uri(char *out, size_t size, int k)
{
    snprintf(out, size, "pkcs11:token=bench;object=%s?module-path=" SOFTHSM "&pin-value=1234", kdir[k]);
}

/* ---- in-process figures ---- */

typedef struct {
    void *module;
    tkr_p11_token_t tok;
} hsm_t;

/* A signer of backend b over the CA of key type k. */
static int open_signer(tkr_signer_t *s, hsm_t *h, int b, int k, const char *key)
{
    char u[512], why[256];
    tkr_p11_uri_t pu;
    void *fl;

    tkr_signer_init(s);
    memset(h, 0, sizeof(*h));
    if (b == B_MBEDTLS)
        return tkr_signer_load_mbedtls(s, (const uint8_t *)key, strlen(key) + 1, &port);
    if (b == B_OPENSSL) {
#if defined(TKR_WITH_OPENSSL)
        return tkr_signer_load_openssl(s, (const uint8_t *)key, strlen(key));
#else
        return TKR_E_UNSUPPORTED;
#endif
    }
    if (!have_hsm)
        return TKR_E_UNSUPPORTED;
    uri(u, sizeof(u), k);
    if (tkr_p11_uri_parse(&pu, u, strlen(u), NULL) != 0 ||
        tkr_p11_posix_load(&h->module, &fl, SOFTHSM, why, sizeof(why)) != 0 ||
        tkr_p11_token_open(&h->tok, fl, &pu, "1234", 4, NULL) != 0)
        return TKR_E_CRYPTO;
    return tkr_signer_load_pkcs11(s, &h->tok, NULL);
}

static void close_signer(tkr_signer_t *s, hsm_t *h)
{
    tkr_signer_free(s);
    tkr_p11_token_close(&h->tok);
    tkr_p11_posix_unload(h->module);
}

static double sign_rate(tkr_signer_t *s, double seconds)
{
    uint8_t hash[32] = {1}, sig[TKR_SIGNER_SIG_MAX];
    size_t len;
    double start = cpu_s(), t;
    long n = 0;

    do {
        if (tkr_signer_sign(s, sig, sizeof(sig), &len, MBEDTLS_MD_SHA256, hash, 32, &port) != 0)
            die("sign failed");
        n++;
        t = cpu_s() - start;
    } while (t < seconds);
    return (double)n / t;
}

static double cert_rate(tkr_signer_t *s, const tkr_ca_t *ca, mbedtls_pk_context *leaf,
                        double seconds)
{
    static char out[8192];
    tkr_cert_spec_t spec;
    double start = cpu_s(), t;
    size_t len;
    long n = 0;

    memset(&spec, 0, sizeof(spec));
    spec.subject_key = leaf;
    spec.signer = s;
    spec.issuer = &ca->cert;
    spec.cn = "site-1";
    spec.san = "site-1";
    spec.not_before = tkr_port_time(&port);
    spec.not_after = spec.not_before + 86400;
    spec.usage = TKR_CERT_CLIENT;
    do {
        if (tkr_cert_write_pem(out, sizeof(out), &len, &spec, &port, NULL) != 0)
            die("certificate failed");
        n++;
        t = cpu_s() - start;
    } while (t < seconds);
    return (double)n / t;
}

/* A backend's own library signing in a loop, without the signer: the
 * baseline. One context, made once. */
typedef struct {
    int b;
    mbedtls_pk_context pk;
#if defined(TKR_WITH_OPENSSL)
    EVP_PKEY *pkey;
    EVP_PKEY_CTX *ctx;
#endif
} base_t;

static void base_open(base_t *x, int b, const char *key)
{
    memset(x, 0, sizeof(*x));
    x->b = b == B_MBEDTLS ? B_MBEDTLS : B_OPENSSL;
    mbedtls_pk_init(&x->pk);
    if (x->b == B_MBEDTLS) {
        if (tkr_key_parse_private(&x->pk, (const uint8_t *)key, strlen(key) + 1, &port, NULL) != 0)
            die("key parse failed");
        return;
    }
#if defined(TKR_WITH_OPENSSL)
    {
        BIO *bio = BIO_new_mem_buf(key, (int)strlen(key));
        x->pkey = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
        BIO_free(bio);
        if (x->pkey == NULL || (x->ctx = EVP_PKEY_CTX_new_from_pkey(NULL, x->pkey, NULL)) == NULL ||
            EVP_PKEY_sign_init(x->ctx) != 1 ||
            EVP_PKEY_CTX_set_signature_md(x->ctx, EVP_sha256()) != 1)
            die("EVP key failed");
    }
#endif
}

static void base_close(base_t *x)
{
    mbedtls_pk_free(&x->pk);
#if defined(TKR_WITH_OPENSSL)
    EVP_PKEY_CTX_free(x->ctx);
    EVP_PKEY_free(x->pkey);
#endif
}

static double base_rate(base_t *x, double seconds)
{
    unsigned char hash[32] = {1}, sig[MBEDTLS_PK_SIGNATURE_MAX_SIZE];
    size_t sig_len;
    double start = cpu_s(), t;
    long n = 0;

    do {
        int rc;
#if defined(TKR_WITH_OPENSSL)
        if (x->b == B_OPENSSL) {
            sig_len = sizeof(sig);
            rc = EVP_PKEY_sign(x->ctx, sig, &sig_len, hash, sizeof(hash)) == 1 ? 0 : -1;
        } else
#endif
            rc = tkr_compat_pk_sign(&x->pk, MBEDTLS_MD_SHA256, hash, sizeof(hash), sig,
                                    sizeof(sig), &sig_len, tkr_port_rng, (void *)&port);
        if (rc != 0)
            die("raw sign failed");
        n++;
        t = cpu_s() - start;
    } while (t < seconds);
    return (double)n / t;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

#define ROUNDS 5

/* Median over rounds of (f rate / baseline rate), alternating the two so a
 * change of load hits both; *rate gets the median rate of f. */
static double ratio_rounds(base_t *x, double (*f)(void *, double), void *arg,
                           double seconds, double *rate, double *base)
{
    double r[ROUNDS], v[ROUNDS], w[ROUNDS];
    int i;

    for (i = 0; i < ROUNDS; i++) {
        w[i] = base_rate(x, seconds / ROUNDS);
        v[i] = f(arg, seconds / ROUNDS);
        r[i] = v[i] / w[i];
    }
    qsort(r, ROUNDS, sizeof(double), cmp_double);
    qsort(v, ROUNDS, sizeof(double), cmp_double);
    qsort(w, ROUNDS, sizeof(double), cmp_double);
    *rate = v[ROUNDS / 2];
    *base = w[ROUNDS / 2];
    return r[ROUNDS / 2];
}

typedef struct {
    tkr_signer_t *s;
    const tkr_ca_t *ca;
    mbedtls_pk_context *leaf;
} cert_job_t;

static double sign_job(void *arg, double seconds)
{
    return sign_rate(((cert_job_t *)arg)->s, seconds);
}

static double cert_job(void *arg, double seconds)
{
    cert_job_t *j = arg;
    return cert_rate(j->s, j->ca, j->leaf, seconds);
}

static double child_cpu(void)
{
    struct rusage ru;

    getrusage(RUSAGE_CHILDREN, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

/* Wall tokens/s of `token batch`; *cpu gets its CPU seconds. */
static double batch_rate(int b, int k, double *cpu)
{
    char cmd[4 * PATH_MAX], key[600];
    double t0, c0;

    if (b == B_PKCS11) {
        uri(key, sizeof(key), k);
        snprintf(cmd, sizeof(cmd), "%s token batch -n %d -c %s/%s/bench --ca-key '%s' -o %s/t.csv --force 2>/dev/null",
                 tr, TOKENS, dir, kdir[k], key, dir);
    } else {
        snprintf(cmd, sizeof(cmd), "%s token batch -n %d -c %s/%s/bench --signer %s -o %s/t.csv --force 2>/dev/null",
                 tr, TOKENS, dir, kdir[k], bname[b], dir);
    }
    c0 = child_cpu();
    t0 = now_s();
    if (sh(cmd) != 0)
        exit(1);
    t0 = now_s() - t0;
    *cpu = child_cpu() - c0;
    return TOKENS / t0;
}

int main(int argc, char **argv)
{
    static char key[NK][TKR_CERTJSON_MAX];
    double seconds = argc > 1 ? atof(argv[1]) : 0.5;
    double raw[NB][NK] = {{0}}, rawr[NB][NK] = {{0}}, base[NB][NK] = {{0}};
    double certs[NB][NK] = {{0}}, certr[NB][NK] = {{0}};
    double toks[NB][NK] = {{0}}, tokw[NB][NK] = {{0}}, tokc[NB][NK] = {{0}};
    double speed_rsa, speed_ec, t = seconds * 2 < 1 ? 1 : seconds * 2;
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    tkr_posix_t pctx = {TKR_LOG_WARN, -1};
    char self[PATH_MAX], cmd[PATH_MAX + 16];
    mbedtls_pk_context leaf;
    tkr_ca_t ca[NK];
    int b, k;

    tkr_port_posix_init(&port, &pctx);
    if (realpath(argv[0], self) == NULL || mkdtemp(dir) == NULL)
        return 1;
    snprintf(tr, sizeof(tr), "%s/../tokenroll", dirname(self));
    for (k = 0; k < NK; k++) {
        workspace(k);
        load_ca(k, &ca[k], key[k], sizeof(key[k]));
    }
    softhsm();
    mbedtls_pk_init(&leaf);
    if (tkr_key_generate(&leaf, TKR_KEY_EC_P256, &port, NULL) != 0)
        die("leaf key");

    speed_rsa = openssl_speed("rsa2048", "rsa 2048 bits");
    speed_ec = openssl_speed("ecdsap256", "(nistp256)");
    for (b = 0; b < NB; b++)
        for (k = 0; k < NK; k++) {
            tkr_signer_t s;
            hsm_t h;
            base_t x;
            cert_job_t j;
            double b0, b1, bb, cpu;

#if !defined(TKR_WITH_OPENSSL)
            if (b != B_MBEDTLS)
                continue; /* no baseline (nor backend) without libcrypto */
#endif
            if (open_signer(&s, &h, b, k, key[k]) != 0) {
                close_signer(&s, &h);
                continue;
            }
            base_open(&x, b, key[k]);
            j.s = &s;
            j.ca = &ca[k];
            j.leaf = &leaf;
            rawr[b][k] = ratio_rounds(&x, sign_job, &j, t, &raw[b][k], &bb);
            certr[b][k] = ratio_rounds(&x, cert_job, &j, t, &certs[b][k], &bb);
            close_signer(&s, &h);
            b0 = base_rate(&x, t / 4);
            toks[b][k] = batch_rate(b, k, &cpu);
            b1 = base_rate(&x, t / 4);
            base[b][k] = (b0 + b1) / 2;
            tokw[b][k] = toks[b][k] / ((double)cores * base[b][k]);
            tokc[b][k] = TOKENS / (cpu * base[b][k]);
            base_close(&x);
        }

    {
        double load[3] = {0, 0, 0};
        getloadavg(load, 3);
        printf("mbedTLS %s, %ld cores, load average %.2f; openssl speed (for reference): "
               "RSA-2048 sign %.1f/s, P-256 sign %.1f/s\n", MBEDTLS_VERSION_STRING, cores, load[0],
               speed_rsa, speed_ec);
    }
    printf("baseline = the backend's own library signing in a loop, per CPU second of one thread\n"
           "(mbedtls_pk_sign; EVP_PKEY_sign for openssl and for pkcs11 on SoftHSM2)\n");
    printf("%-8s %-8s | %9s %9s %6s | %9s %6s | %10s %6s %6s\n", "backend", "CA key", "baseline",
           "sign/s", "ratio", "certs/s", "ratio", "batch/s", "wall", "cpu");
    for (b = 0; b < NB; b++)
        for (k = 0; k < NK; k++) {
            if (raw[b][k] == 0) {
                printf("%-8s %-8s | not in this build, or no SoftHSM2\n", bname[b], kname[k]);
                continue;
            }
            /* ratio: over the baseline; wall: batch over cores x baseline;
             * cpu: batch tokens over (its CPU seconds x baseline) */
            printf("%-8s %-8s | %9.1f %9.1f %6.2f | %9.1f %6.2f | %10.1f %6.2f %6.2f\n",
                   bname[b], kname[k], base[b][k], raw[b][k], rawr[b][k], certs[b][k],
                   certr[b][k], toks[b][k], tokw[b][k], tokc[b][k]);
        }
    if (toks[B_OPENSSL][K_RSA] > 0) {
        printf("goal: openssl batch -n %d RSA-2048: %.1f tokens/s = %.2f x (%ld cores x EVP %.1f/s) "
               "wall, %.2f in CPU time (goal >= 0.90: %s); %.2f x openssl speed x cores; "
               "%.1fx the mbedtls backend's batch\n",
               TOKENS, toks[B_OPENSSL][K_RSA], tokw[B_OPENSSL][K_RSA], cores, base[B_OPENSSL][K_RSA],
               tokc[B_OPENSSL][K_RSA], tokw[B_OPENSSL][K_RSA] >= 0.9 ? "met" : "not met in wall time",
               toks[B_OPENSSL][K_RSA] / ((double)cores * speed_rsa),
               toks[B_MBEDTLS][K_RSA] > 0 ? toks[B_OPENSSL][K_RSA] / toks[B_MBEDTLS][K_RSA] : 0);
    }
    mbedtls_pk_free(&leaf);
    for (k = 0; k < NK; k++)
        tkr_ca_free(&ca[k]);
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    sh(cmd);
    return 0;
}
