/* fw_main.c — a complete enrollment firmware image for QEMU's mps2-an386
 * (Cortex-M4): port/baremetal over the QEMU board, mbedTLS 3.6 with the
 * device configuration, the library with its TLS client. It runs the
 * offline part of the device flow under semihosting and exits 0 when
 * every step holds:
 *
 *   1. key generation (EC P-256; RSA-2048 answers TKR_E_UNSUPPORTED, the
 *      image has no prime generation), the CSR, the request body;
 *   2. a recorded 200 answer of `tokenroll serve` (tests/vectors/device):
 *      HTTP parse, answer parse, the certificate checked against the root,
 *      our key and our name, then the commit into the two-slot flash store;
 *   3. tkr_enroll_run at the next "boot": already enrolled, from flash,
 *      without a single connection.
 *
 * It prints the peak of mbedTLS's heap (counted through the platform
 * allocator hooks) and the stack's high-water mark. Linked with
 * fw_online.c (enroll-fw-online.elf) and given a startup kit, it enrolls
 * online instead (fw_online.h). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <mbedtls/platform.h>

#include "fw_online.h"
#include "qemu_board.h"
#include "tkr_port_baremetal.h"
#include "tokenroll/enroll.h"
#include "tokenroll/error.h"
#include "tokenroll/http.h"
#include "tokenroll/key.h"

extern const char vec_key[], vec_token[], vec_response[], vec_response_end[], vec_root[];

/* The recording's time (its HTTP Date) plus an hour. */
#define RECORDED_AT 1795966008

/* ---- startup ---- */

extern uint32_t __data_load[], __data_start[], __data_end[], __bss_start[],
    __bss_end[], __stack_top[], __stack_limit[];
int main(void);
void Reset_Handler(void);

#define PAINT 0xA5A5A5A5u

__attribute__((noreturn)) void Reset_Handler(void)
{
    uint32_t *p, *s = __data_load;
    uint32_t *sp;

    for (p = __data_start; p < __data_end;)
        *p++ = *s++;
    for (p = __bss_start; p < __bss_end;)
        *p++ = 0;
    /* Paint the stack below us, so its deepest use can be read back. */
    __asm__ volatile("mov %0, sp" : "=r"(sp));
    for (p = __stack_limit; p < sp - 16;)
        *p++ = PAINT;
    qemu_exit(main() == 0);
    for (;;)
        ;
}

static void default_handler(void)
{
    qemu_puts("FAIL: fault\n");
    qemu_exit(0);
}

__attribute__((section(".vectors"), used)) static void (*const vectors[16])(void) = {
    (void (*)(void))__stack_top, Reset_Handler, default_handler, default_handler,
    default_handler, default_handler, default_handler, 0, 0, 0, 0,
    default_handler, default_handler, 0, default_handler, default_handler,
};

/* newlib's malloc takes its memory here: a fixed pool, so an allocation
 * past it fails instead of running into the stack. */
static uint8_t pool[64 * 1024];
static size_t pool_used;

void *_sbrk(ptrdiff_t inc);
void *_sbrk(ptrdiff_t inc)
{
    void *p = pool + pool_used;

    if (inc < 0 || (size_t)inc > sizeof(pool) - pool_used)
        return (void *)-1;
    pool_used += (size_t)inc;
    return p;
}

/* ---- heap accounting through mbedTLS's allocator hooks ---- */

static size_t heap_now, heap_peak;

static void *track_calloc(size_t n, size_t size)
{
    size_t *p;

    if (size != 0 && n > (SIZE_MAX - 8) / size)
        return NULL;
    p = calloc(1, n * size + 8);
    if (p == NULL)
        return NULL;
    p[0] = n * size;
    heap_now += p[0];
    if (heap_now > heap_peak)
        heap_peak = heap_now;
    return (uint8_t *)p + 8;
}

static void track_free(void *q)
{
    size_t *p;

    if (q == NULL)
        return;
    p = (size_t *)(void *)((uint8_t *)q - 8);
    heap_now -= p[0];
    free(p);
}

/* ---- output ---- */

void put_u(const char *label, uint32_t v, const char *unit)
{
    char d[12];
    int i = 11;

    d[i] = '\0';
    do {
        d[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v != 0);
    qemu_puts(label);
    qemu_puts(d + i);
    qemu_puts(unit);
}

int step(const char *what, int rc)
{
    qemu_puts(rc == 0 ? "PASS: " : "FAIL: ");
    qemu_puts(what);
    if (rc != 0) {
        qemu_puts(": ");
        qemu_puts(tkr_strerror(rc));
    }
    qemu_puts("\n");
    return rc;
}

/* ---- the flow ---- */

/* The last two are the online mode's kit files (fw_online.c). */
const tkr_bm_area_t fw_areas[FW_N_AREAS] = {
    {"client.key", 0 * 2 * QEMU_SECTOR, QEMU_SECTOR, QEMU_SECTOR},
    {"client.crt", 1 * 2 * QEMU_SECTOR, QEMU_SECTOR, QEMU_SECTOR},
    {"rootCA.pem", 2 * 2 * QEMU_SECTOR, QEMU_SECTOR, QEMU_SECTOR},
    {"pending.key", 3 * 2 * QEMU_SECTOR, QEMU_SECTOR, QEMU_SECTOR},
    {"enrollment.commit", 4 * 2 * QEMU_SECTOR, QEMU_SECTOR, QEMU_SECTOR},
    {"enrollment.json", 5 * 2 * QEMU_SECTOR, QEMU_SECTOR, QEMU_SECTOR},
    {"enrollment_token", 6 * 2 * QEMU_SECTOR, QEMU_SECTOR, QEMU_SECTOR},
};

static tkr_enroll_t ws; /* static RAM, as the header advises */
static tkr_baremetal_t bm;
static tkr_port_t port;
static int connects;

static int no_connect(void *ctx, const char *h, uint16_t p, uint32_t ms)
{
    (void)ctx; (void)h; (void)p; (void)ms;
    connects++;
    return TKR_E_NET;
}

static int no_io(void *ctx, const uint8_t *b, size_t n, uint32_t ms)
{
    (void)ctx; (void)b; (void)n; (void)ms;
    return TKR_E_NET;
}

static int no_recv(void *ctx, uint8_t *b, size_t n, uint32_t ms)
{
    (void)ctx; (void)b; (void)n; (void)ms;
    return TKR_E_NET;
}

static int offline_request(void)
{
    tkr_csr_subject_t subj = {"m4-device", NULL, "client", NULL};
    size_t n;
    int rc;

    /* The image leaves RSA prime generation out (tkr_mbedtls_device.h): a
     * request for an RSA key must say so, and leave the key empty. */
    rc = tkr_key_generate(&ws.key, TKR_KEY_RSA_2048, &port, NULL);
    rc = step("RSA-2048 on request: TKR_E_UNSUPPORTED in this image",
              rc == TKR_E_UNSUPPORTED && mbedtls_pk_get_type(&ws.key) == MBEDTLS_PK_NONE
                  ? 0 : TKR_E_INVALID_ARG);
    if (rc == 0)
        rc = step("EC P-256 key generated", tkr_key_generate(&ws.key, TKR_KEY_EC_P256, &port, NULL));
    if (rc == 0)
        rc = step("CSR written",
                  tkr_csr_write_pem(ws.csr_pem, sizeof(ws.csr_pem), &n, &ws.key, &subj, &port, NULL));
    if (rc == 0)
        rc = step("request body written",
                  tkr_enroll_request_body((char *)ws.body, sizeof(ws.body), &n, vec_token,
                                          strlen(vec_token), ws.csr_pem, "m4-device",
                                          "client", NULL, NULL));
    if (rc == 0)
        put_u("  request body: ", (uint32_t)n, " bytes\n");
    mbedtls_pk_free(&ws.key);
    mbedtls_pk_init(&ws.key);
    return rc;
}

static int recorded_answer(void)
{
    size_t len = (size_t)(vec_response_end - vec_response);
    tkr_http_response_t r;
    int done = 0, rc;

    if (len > sizeof(ws.resp))
        return step("recorded answer fits the response buffer", TKR_E_TOO_LARGE);
    memcpy(ws.resp, vec_response, len);
    rc = tkr_http_response_parse(&r, &done, ws.resp, len, 1);
    if (rc == 0 && (!done || r.status != 200))
        rc = TKR_E_HTTP;
    if (step("recorded HTTP 200 parsed", rc) != 0)
        return rc;
    rc = tkr_enroll_parse_answer(&ws.ans, ws.cert_pem, ws.resp_ca, ws.tok,
                                 sizeof(ws.tok) / sizeof(ws.tok[0]), r.status, r.body,
                                 r.body_len);
    if (step("answer parsed (certificate, ca_cert)", rc) != 0)
        return rc;
    rc = mbedtls_x509_crt_parse(&ws.root, (const unsigned char *)vec_root, strlen(vec_root) + 1);
    if (step("root CA parsed", rc == 0 ? 0 : TKR_E_CERT) != 0)
        return TKR_E_CERT;
    rc = tkr_key_parse_private(&ws.key, (const uint8_t *)vec_key, strlen(vec_key) + 1, &port, NULL);
    if (step("recorded key parsed", rc) != 0)
        return rc;
    rc = tkr_enroll_check_cert(ws.cert_pem, &ws.root, &ws.key, "m4-device",
                               tkr_port_time(&port), &port);
    if (step("certificate chains to the root, holds our key, names us", rc) != 0)
        return rc;
    rc = tkr_enroll_commit(&ws, "", "client", vec_key, ws.cert_pem, ws.resp_ca, &port);
    return step("key, certificate and CA committed to the flash store", rc);
}

static int next_boot(void)
{
    tkr_enroll_cfg_t cfg;
    tkr_enroll_result_t res;
    tkr_transport_t t = {NULL, no_io, no_recv, no_connect, NULL};
    int rc;

    tkr_enroll_free(&ws);
    tkr_enroll_init(&ws);
    memset(&cfg, 0, sizeof(cfg));
    cfg.dir = "";
    cfg.name = "m4-device";
    cfg.token = vec_token;
    cfg.token_len = strlen(vec_token);
    cfg.service_url = "https://localhost:8443";
    rc = tkr_enroll_run(&ws, &res, &cfg, &t, &port);
    if (rc == 0 && (res.outcome != TKR_ENROLL_ALREADY || connects != 0))
        rc = TKR_E_INVALID_ARG;
    return step("next boot: already enrolled from flash, no connection", rc);
}

uint32_t fw_stack_used(void)
{
    uint32_t *p;

    for (p = __stack_limit; p < __stack_top && *p == PAINT; p++)
        ;
    return (uint32_t)((uintptr_t)__stack_top - (uintptr_t)p);
}

int main(void)
{
    int rc;

    if (fw_kit_present != NULL && fw_kit_present())
        return fw_online(&ws);

    mbedtls_platform_set_calloc_free(track_calloc, track_free);
    memset(qemu_flash, 0xFF, sizeof(qemu_flash));
    qemu_now = RECORDED_AT + 3600;
    bm.areas = fw_areas;
    bm.n_areas = FW_N_AREAS;
    bm.log_level = TKR_LOG_INFO;
    tkr_port_baremetal_init(&port, &bm);
    tkr_enroll_init(&ws);

    rc = port.store_write(port.ctx, "rootCA.pem", (const uint8_t *)vec_root, strlen(vec_root), 0);
    if (step("rootCA.pem stored", rc) == 0)
        rc = offline_request();
    if (rc == 0)
        rc = recorded_answer();
    if (rc == 0)
        rc = next_boot();
    tkr_enroll_free(&ws);

    put_u("peak heap (mbedTLS): ", (uint32_t)heap_peak, " bytes\n");
    put_u("stack high-water: ", fw_stack_used(), " bytes\n");
    put_u("static RAM of tkr_enroll_t: ", (uint32_t)sizeof(ws), " bytes\n");
    qemu_puts(rc == 0 ? "offline enrollment flow: OK\n" : "offline enrollment flow: FAILED\n");
    return rc;
}
