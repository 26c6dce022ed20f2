/* bench_batch.c — `tokenroll token batch -n 2000` tokens/s beside the
 * ceiling the hardware allows: raw RSA-2048 mbedtls_pk_sign ops/s on one
 * core, times the number of cores, measured in the same run. The ratio is
 * the figure; nothing here asserts a speed.
 *
 * usage: bench_batch [SECONDS] — run from the repository root; the
 * tokenroll binary is taken from beside this program's folder. */
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <mbedtls/md.h>
#include <mbedtls/pk.h>
#include <mbedtls/version.h>

#include "compat.h"
#include "tkr_port_posix.h"
#include "tokenroll/certwrite.h"
#include "tokenroll/csr.h"
#include "tokenroll/port.h"

#define TOKENS 2000

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double raw_rsa_sign_rate(const tkr_port_t *port, double seconds)
{
    mbedtls_pk_context pk;
    unsigned char hash[32] = {1}, sig[MBEDTLS_PK_SIGNATURE_MAX_SIZE];
    size_t sig_len;
    double start, t;
    long n = 0;

    mbedtls_pk_init(&pk);
    if (tkr_key_generate(&pk, TKR_KEY_RSA_2048, port, NULL) != 0) {
        fprintf(stderr, "bench_batch: key generation failed\n");
        exit(1);
    }
    start = now_s();
    do {
        if (tkr_compat_pk_sign(&pk, MBEDTLS_MD_SHA256, hash, sizeof(hash), sig,
                               sizeof(sig), &sig_len, tkr_port_rng, (void *)port) != 0) {
            fprintf(stderr, "bench_batch: raw sign failed\n");
            exit(1);
        }
        n++;
        t = now_s() - start;
    } while (t < seconds);
    mbedtls_pk_free(&pk);
    return (double)n / t;
}

static int sh(const char *cmd)
{
    int rc = system(cmd);
    if (rc != 0)
        fprintf(stderr, "bench_batch: failed (%d): %s\n", rc, cmd);
    return rc;
}

int main(int argc, char **argv)
{
    double seconds = argc > 1 ? atof(argv[1]) : 0.5, raw, t0, batch;
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    char self[PATH_MAX], tr[PATH_MAX + 32], dir[] = "/tmp/tkr-bench-XXXXXX", cmd[4 * PATH_MAX];
    tkr_posix_t pctx = {TKR_LOG_WARN, -1};
    tkr_port_t port;
    FILE *f;

    tkr_port_posix_init(&port, &pctx);
    if (realpath(argv[0], self) == NULL || mkdtemp(dir) == NULL)
        return 1;
    snprintf(tr, sizeof(tr), "%s/../tokenroll", dirname(self));
    snprintf(cmd, sizeof(cmd), "%s/p.yml", dir);
    if ((f = fopen(cmd, "w")) == NULL)
        return 1;
    fputs("api_version: 3\nname: bench\nparticipants:\n  - name: s.example\n    type: server\n"
          "    org: o\n    fed_learn_port: 8002\n    admin_port: 8003\n", f);
    fclose(f);
    snprintf(cmd, sizeof(cmd), "%s provision -p %s/p.yml -w %s >/dev/null", tr, dir, dir);
    if (sh(cmd) != 0)
        return 1;

    raw = raw_rsa_sign_rate(&port, seconds * 2 < 1 ? 1 : seconds * 2);
    snprintf(cmd, sizeof(cmd), "%s token batch -n %d -c %s/bench -o %s/t.csv 2>/dev/null",
             tr, TOKENS, dir, dir);
    t0 = now_s();
    if (sh(cmd) != 0)
        return 1;
    batch = TOKENS / (now_s() - t0);
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    sh(cmd);

    printf("mbedTLS %s, %ld cores\n", MBEDTLS_VERSION_STRING, cores);
    printf("token batch -n %d   %8.1f tokens/s | raw RSA-2048 sign %7.1f ops/s x %ld cores = %8.1f | ratio %.2f\n",
           TOKENS, batch, raw, cores, raw * (double)cores, batch / (raw * (double)cores));
    return 0;
}
