/* bench_device.c — what a device spends on enrollment.
 *
 *   bench_device [SECONDS]      keygen (EC P-256) + CSR + request body, once
 *                               for the instruction count (run.sh runs it
 *                               under callgrind, counting inside
 *                               offline_steps only), with the peak heap
 *                               mbedTLS takes for it when the build lets
 *                               the allocator be swapped
 *   bench_device enroll DIR URL a whole tkr_enroll_run from the startup
 *                               folder DIR against the service at URL, with
 *                               mbedTLS's peak heap the same way
 *
 * The instruction count is the figure: it does not depend on the machine's
 * load, unlike a time. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mbedtls/platform.h>
#include <mbedtls/version.h>

#include "tkr_port_posix.h"
#include "tokenroll/csr.h"
#include "tokenroll/enroll.h"
#include "tokenroll/error.h"

#if defined(MBEDTLS_PLATFORM_MEMORY) && \
    !(defined(MBEDTLS_PLATFORM_CALLOC_MACRO) && defined(MBEDTLS_PLATFORM_FREE_MACRO))
#define HAVE_HEAP_COUNT 1
#define HDR sizeof(max_align_t)
static size_t heap_cur, heap_peak;

static void *count_calloc(size_t n, size_t size)
{
    unsigned char *p;
    size_t total;

    if (size != 0 && n > (SIZE_MAX - HDR) / size)
        return NULL;
    total = n * size;
    if ((p = calloc(1, HDR + total)) == NULL)
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
#else
#define HAVE_HEAP_COUNT 0
#endif

static tkr_enroll_t ws;

/* The measured region (callgrind --toggle-collect=offline_steps). */
__attribute__((noinline)) int offline_steps(tkr_enroll_t *e, const tkr_port_t *port,
                                            size_t *body_len);
__attribute__((noinline)) int offline_steps(tkr_enroll_t *e, const tkr_port_t *port,
                                            size_t *body_len)
{
    static const char token[] = "eyJhbGciOiJSUzI1NiJ9.e30.c2ln";
    tkr_csr_subject_t subj = {"site-1", "Org", "client", NULL};
    size_t n;
    int rc = tkr_key_generate(&e->key, TKR_KEY_EC_P256, port, NULL);

    if (rc == 0)
        rc = tkr_csr_write_pem(e->csr_pem, sizeof(e->csr_pem), &n, &e->key, &subj, port, NULL);
    if (rc == 0)
        rc = tkr_enroll_request_body((char *)e->body, sizeof(e->body), body_len, token,
                                     sizeof(token) - 1, e->csr_pem, "site-1", "client",
                                     "Org", NULL);
    return rc;
}

static void heap_line(const char *what)
{
#if HAVE_HEAP_COUNT
    printf("peak mbedTLS heap, %s: %zu bytes\n", what, heap_peak);
#else
    printf("peak mbedTLS heap, %s: not counted, this mbedTLS build has no "
           "MBEDTLS_PLATFORM_MEMORY (run.sh measures the process with valgrind DHAT)\n", what);
#endif
}

int main(int argc, char **argv)
{
    tkr_posix_t pctx = {TKR_LOG_ERROR, -1};
    tkr_port_t port;
    size_t len = 0;
    int rc;

#if HAVE_HEAP_COUNT
    mbedtls_platform_set_calloc_free(count_calloc, count_free);
#endif
    tkr_port_posix_init(&port, &pctx);
    tkr_enroll_init(&ws);
    if (argc == 4 && strcmp(argv[1], "enroll") == 0) {
        tkr_enroll_cfg_t cfg;
        tkr_enroll_result_t res;
        tkr_posix_tcp_t conn;
        tkr_transport_t tcp;
        static char token[TKR_JWT_MAX + 1];
        char path[TKR_PATH_MAX];
        size_t n = 0;

        snprintf(path, sizeof(path), "%s/enrollment_token", argv[2]);
        if (port.store_read(port.ctx, path, (uint8_t *)token, sizeof(token) - 1, &n) != 0) {
            fprintf(stderr, "bench_device: cannot read %s\n", path);
            return 1;
        }
        memset(&cfg, 0, sizeof(cfg));
        cfg.dir = argv[2];
        cfg.token = token;
        cfg.token_len = n;
        cfg.service_url = argv[3];
        cfg.wait_s = 5;
        tkr_posix_tcp_init(&tcp, &conn);
        rc = tkr_enroll_run(&ws, &res, &cfg, &tcp, &port);
        if (rc != 0 || res.outcome != TKR_ENROLL_ENROLLED) {
            fprintf(stderr, "bench_device: enrollment failed: %s: %s\n", tkr_strerror(rc),
                    res.message);
            return 1;
        }
        printf("bench_device: mbedTLS %s, one whole enrollment (TLS, keygen, CSR, "
               "request, checks, commit)\n", MBEDTLS_VERSION_STRING);
        heap_line("whole enrollment");
    } else {
        rc = offline_steps(&ws, &port, &len);
        if (rc != 0) {
            fprintf(stderr, "bench_device: %s\n", tkr_strerror(rc));
            return 1;
        }
        printf("bench_device: mbedTLS %s, EC P-256 keygen + CSR + request body (%zu bytes)\n",
               MBEDTLS_VERSION_STRING, len);
        heap_line("keygen + CSR + body");
    }
    tkr_enroll_free(&ws);
    return 0;
}
