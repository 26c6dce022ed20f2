/* fw_online.c — the online mode of the QEMU enrollment firmware: the
 * device's whole boot-time enrollment over real TLS.
 *
 * The test loads a startup kit at FW_KIT_ADDR, as a device's kit sits in
 * its flash at the factory. The firmware copies the kit's files into its
 * two-slot flash store, reads the service URL (enrollment.json) and the
 * token (enrollment_token) back from that store, and runs tkr_enroll_run
 * with the UART as its TCP stream: QEMU connects the UART to `tokenroll
 * serve` on the host, so mbedTLS here talks TLS 1.2 with serve's GnuTLS,
 * verifying serve's certificate against the kit's rootCA.pem and the host
 * name of the URL. mbedTLS allocates from one static pool, as a device's
 * would (tkr_mbedtls_device.h); the figures printed are the pool's
 * high-water mark, the stack's, the bytes each way, and the instructions
 * of the flow's phases (under -icount).
 *
 * Kit format (written by tests/e2e/test_enroll_m4.sh): "TKRKIT1\0", then
 * per file its name and its content, each NUL-terminated, then an empty
 * name. A kit file "uart_echo" holding a byte count N replaces the
 * enrollment by a check of the stream itself: N bytes echoed back, and
 * no overrun flagged by the UART. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <mbedtls/memory_buffer_alloc.h>
#include <mbedtls/platform.h>

#include "fw_online.h"
#include "qemu_board.h"
#include "tkr_port_baremetal.h"
#include "tokenroll/enroll.h"
#include "tokenroll/error.h"
#include "tokenroll/json.h"
#include "uart_stream.h"

#define KIT_MAGIC "TKRKIT1"
#define KIT_MAX (64u * 1024u)
#define SERVICE_URL_MAX 256

/* The goals of issue 11 for the device: the test compares the printed
 * figures with them, and so does the firmware's own verdict. */
#define HEAP_GOAL (24u * 1024u)
#define STACK_GOAL (6u * 1024u)

/* mbedTLS's heap: twice the goal, so a run above it still completes and
 * prints how far above it went. */
static unsigned char heap_pool[2 * HEAP_GOAL] __attribute__((aligned(8)));
/* The allocator keeps its first block header (32 bytes on a 32-bit core)
 * at the start of the pool; everything after this offset is painted. */
#define HEAP_HEADER_ROOM 64u
#define HEAP_PAINT 0x5Au

/* Instruction counts: the CMSDK APB timer 0 of mps2-an386 counts down at
 * 25 MHz of QEMU's virtual clock. With -icount shift=0 (the test's
 * setting) one instruction is one virtual nanosecond, so a tick is 40
 * instructions, and a thousand instructions are 25 ticks. Without
 * -icount the figures are emulated time, not instructions. */
#define TIMER0 0x40000000u
#define TICKS_PER_KINSN 25u

static volatile uint32_t *timer0(uint32_t off)
{
    return (volatile uint32_t *)(uintptr_t)(TIMER0 + off);
}

static uint32_t ticks(void)
{
    return ~*timer0(0x04); /* VALUE, counting down from all ones */
}

static void ticks_start(void)
{
    *timer0(0x00) = 0;          /* CTRL: stop */
    *timer0(0x08) = 0xFFFFFFFFu; /* RELOAD */
    *timer0(0x04) = 0xFFFFFFFFu; /* VALUE */
    *timer0(0x00) = 1;          /* CTRL: enable, no interrupt */
}

static tkr_baremetal_t bm;
static tkr_port_t port;
static tkr_transport_t uart;
static uart_stream_t stream;
static char token[QEMU_SECTOR];
static char service_url[SERVICE_URL_MAX];
/* The result holds about 1.2 KB of text: static, as the workspace, so the
 * stack figure is the library's and not this harness's. */
static tkr_enroll_result_t res;

/* The transport tkr_enroll_run gets: the UART, watched for the end of
 * the TLS handshake. A TLS 1.2 client without resumption (the device
 * configuration) sends three flights: ClientHello; ClientKeyExchange,
 * ChangeCipherSpec and Finished; then application data. The third time
 * it starts sending after it received marks the handshake's end. */
static struct {
    int last_sent, flights;
    uint32_t hs_end, hs_waited;  /* ticks() and stream.waited then */
} watch;

static int watch_send(void *ctx, const uint8_t *buf, size_t len, uint32_t timeout_ms)
{
    if (!watch.last_sent && ++watch.flights == 3) {
        watch.hs_end = ticks();
        watch.hs_waited = stream.waited;
    }
    watch.last_sent = 1;
    return uart.send(ctx, buf, len, timeout_ms);
}

static int watch_recv(void *ctx, uint8_t *buf, size_t len, uint32_t timeout_ms)
{
    watch.last_sent = 0;
    return uart.recv(ctx, buf, len, timeout_ms);
}

/* newlib's exit() ends here: memory_buffer_alloc calls it when it finds
 * its block headers broken, which only a memory error can do. */
void _exit(int status);
void _exit(int status)
{
    (void)status;
    qemu_puts("FAIL: mbedTLS heap pool corrupted\n");
    qemu_exit(0);
}

static const char *kit(void)
{
    return (const char *)(uintptr_t)FW_KIT_ADDR;
}

int fw_kit_present(void)
{
    return memcmp(kit(), KIT_MAGIC, sizeof(KIT_MAGIC)) == 0;
}

/* Length of the NUL-terminated text at s, at most max. */
static size_t text_len(const char *s, size_t max)
{
    const char *z = memchr(s, '\0', max);

    return z != NULL ? (size_t)(z - s) : max;
}

/* The kit's files one after the other: *name and *data of the file at
 * *off, which moves past it. 0 at the end of the kit, 1 for a file. */
static int kit_next(size_t *off, const char **name, const char **data, size_t *len)
{
    const char *k = kit();
    size_t n;

    if (*off == 0)
        *off = sizeof(KIT_MAGIC);
    n = text_len(k + *off, KIT_MAX - *off);
    if (n == 0 || *off + n + 1 >= KIT_MAX)
        return 0;
    *name = k + *off;
    *off += n + 1;
    *data = k + *off;
    *len = text_len(*data, KIT_MAX - *off);
    *off += *len + 1;
    return *off <= KIT_MAX;
}

/* Every file of the kit into the flash store (a name without an area is
 * an error: the kit and the firmware disagree). */
static int kit_to_flash(void)
{
    const char *name, *data;
    size_t off = 0, len;
    int rc = 0, files = 0;

    while (rc == 0 && kit_next(&off, &name, &data, &len)) {
        rc = port.store_write(port.ctx, name, (const uint8_t *)data, len, 0);
        files++;
    }
    if (rc == 0 && files == 0)
        rc = TKR_E_NOT_FOUND;
    return step("startup kit copied into the flash store", rc);
}

/* The value of kit file name as a decimal, or -1 when absent. */
static long kit_number(const char *name)
{
    const char *n, *data;
    size_t off = 0, len, i;
    long v = 0;

    while (kit_next(&off, &n, &data, &len)) {
        if (strcmp(n, name) != 0)
            continue;
        for (i = 0; i < len && data[i] >= '0' && data[i] <= '9' && v < 100000000; i++)
            v = v * 10 + (data[i] - '0');
        return v;
    }
    return -1;
}

/* Blob name of the flash store into buf as NUL-terminated text. */
static int read_text(const char *name, char *buf, size_t size, size_t *len)
{
    int rc = port.store_read(port.ctx, name, (uint8_t *)buf, size - 1, len);

    buf[rc == 0 ? *len : 0] = '\0';
    return rc;
}

/* cert_service_url of enrollment.json, as the store holds it. */
static int read_service_url(tkr_enroll_t *ws)
{
    char *text = (char *)ws->resp; /* free until the request */
    tkr_json_t doc;
    size_t len = 0;
    int rc, t;

    rc = read_text("enrollment.json", text, sizeof(ws->resp), &len);
    if (rc == 0)
        rc = tkr_json_parse(&doc, ws->tok, sizeof(ws->tok) / sizeof(ws->tok[0]), text, len, NULL);
    if (rc == 0 && (t = tkr_json_find(&doc, 0, "cert_service_url")) >= 0)
        rc = tkr_json_get_str(&doc, service_url, sizeof(service_url), NULL, t);
    else if (rc == 0)
        rc = TKR_E_NOT_FOUND;
    if (step("enrollment.json read from flash: cert_service_url", rc) == 0) {
        qemu_puts("  service: ");
        qemu_puts(service_url);
        qemu_puts("\n");
    }
    return rc;
}

static int read_token(size_t *len)
{
    int rc = read_text("enrollment_token", token, sizeof(token), len);

    while (rc == 0 && *len > 0 && (token[*len - 1] == '\n' || token[*len - 1] == '\r'))
        token[--*len] = '\0';
    return step("enrollment_token read from flash", rc);
}

/* N bytes from the peer, each sent back: the peer checks they return
 * intact and in order. The buffer is larger than one TLS record, so the
 * UART is held full while the peer keeps sending. */
static int uart_echo(long n, tkr_enroll_t *ws)
{
    uint8_t *buf = ws->resp;
    long done = 0;
    int rc, got;

    rc = uart.connect(uart.ctx, "127.0.0.1", 0, 1000);
    while (rc == 0 && done < n) {
        got = uart.recv(uart.ctx, buf, sizeof(ws->resp), 20000);
        if (got <= 0) {
            rc = got < 0 ? got : TKR_E_NET;
            break;
        }
        rc = tkr_transport_send_all(&uart, buf, (size_t)got, 20000);
        done += got;
    }
    uart.close(uart.ctx);
    if (rc == 0 && stream.overrun)
        rc = TKR_E_NET;
    put_u("  echoed: ", (uint32_t)done, " bytes\n");
    return step("UART stream echoed every byte back", rc);
}

/* label, then v in eight hex digits. */
static void put_hex(const char *label, uint32_t v)
{
    char d[9];
    int i;

    for (i = 7; i >= 0; i--, v >>= 4)
        d[i] = "0123456789abcdef"[v & 0xFu];
    d[8] = '\0';
    qemu_puts(label);
    qemu_puts(d);
}

/* Bytes of the pool the allocator ever touched: the size the pool must
 * have for this run, headers and fragmentation included. */
static uint32_t heap_used(void)
{
    size_t i = sizeof(heap_pool);

    while (i > HEAP_HEADER_ROOM && heap_pool[i - 1] == HEAP_PAINT)
        i--;
    return (uint32_t)i;
}

/* The device's 2 KB out-buffer caps the maximum fragment it can ask
 * for: 4096 is the caller's error, told before any connection. */
static int fragment_limit(tkr_enroll_t *ws)
{
    size_t len = 0;
    int rc = read_text("rootCA.pem", ws->ca_pem, sizeof(ws->ca_pem), &len);

    if (rc == 0) {
        rc = tkr_tls_setup(&ws->tls, &uart, ws->ca_pem, 4096, &port) == TKR_E_INVALID_ARG
                 ? 0 : TKR_E_INVALID_ARG;
    }
    tkr_tls_free(&ws->tls);
    return step("a 4096-byte maximum fragment is refused as an argument (2 KB out-buffer)", rc);
}

/* What every boot passes: the flat store, the kit's token and service;
 * name and type come from the token. */
static void kit_cfg(tkr_enroll_cfg_t *cfg, size_t token_len)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->dir = "";
    cfg->token = token;
    cfg->token_len = token_len;
    cfg->service_url = service_url;
}

static int enroll(tkr_enroll_t *ws, size_t token_len)
{
    tkr_enroll_cfg_t cfg;
    tkr_transport_t watched;
    uint32_t start, end;
    int rc;

    kit_cfg(&cfg, token_len);
    cfg.key_type = TKR_KEY_EC_P256;
    /* The device's record buffers are 4 KB in, 2 KB out, and mbedTLS
     * offers the smaller as its maximum fragment (RFC 6066). A handshake
     * message the server splits over 2 KB records is reassembled in the
     * 4 KB in-buffer (mbedTLS >= 3.6.3). */
    cfg.max_frag_len = 2048;
    cfg.request_timeout_ms = 60000;
    /* One attempt: the serial stream is one connection, so a retry could
     * only fail to connect. */
    cfg.wait_s = 0;
    watched = uart;
    watched.send = watch_send;
    watched.recv = watch_recv;
    start = ticks();
    rc = tkr_enroll_run(ws, &res, &cfg, &watched, &port);
    end = ticks();
    if (rc == 0 && res.outcome != TKR_ENROLL_ENROLLED)
        rc = TKR_E_INVALID_ARG;
    if (rc != 0) {
        /* The image carries codes, not sentences (TKR_DIAG_TEXT 0): the
         * result's code, mbedTLS's (for its error table) and the
         * certificate verification flags (MBEDTLS_X509_BADCERT_*). */
        qemu_puts("  result: ");
        qemu_puts(res.message);
        put_hex("\n  mbedTLS: -0x", (uint32_t)-ws->tls.mbedtls_rc);
        put_hex("\n  verify flags: 0x", ws->tls.verify_flags);
        qemu_puts("\n");
    }
    step("enrolled over TLS through the UART (tkr_enroll_run)", rc);
    put_u("  attempts: ", (uint32_t)res.attempts, "\n");
    if (rc == 0) {
        put_u("kinsn before the connection (token, key pair, CSR): ",
              (stream.opened - start) / TICKS_PER_KINSN, "\n");
        put_u("kinsn on the connection (TLS handshake, HTTP), waits excluded: ",
              (stream.closed - stream.opened - stream.waited) / TICKS_PER_KINSN, "\n");
        put_u("kinsn of which the TLS handshake: ",
              (watch.hs_end - stream.opened - watch.hs_waited) / TICKS_PER_KINSN, "\n");
        put_u("kinsn after the connection (certificate checks, flash commit): ",
              (end - stream.closed) / TICKS_PER_KINSN, "\n");
        put_u("kinsn of tkr_enroll_run, waits excluded: ",
              (end - start - stream.waited) / TICKS_PER_KINSN, "\n");
    }
    return rc;
}

/* The next boot: already enrolled from flash (the certificate still
 * chains, holds the stored key and names us), and no new connection: the
 * transport, used up, would refuse one. */
static int next_boot(tkr_enroll_t *ws, size_t token_len)
{
    tkr_enroll_cfg_t cfg;
    int rc;

    tkr_enroll_free(ws);
    tkr_enroll_init(ws);
    kit_cfg(&cfg, token_len);
    rc = tkr_enroll_run(ws, &res, &cfg, &uart, &port);
    if (rc == 0 && res.outcome != TKR_ENROLL_ALREADY)
        rc = TKR_E_INVALID_ARG;
    return step("next boot: already enrolled from flash, key and certificate match", rc);
}

static int dump_cert(tkr_enroll_t *ws)
{
    size_t len = 0;
    int rc = read_text("client.crt", ws->cert_pem, sizeof(ws->cert_pem), &len);

    if (rc == 0) {
        qemu_puts("client.crt in flash:\n");
        qemu_puts(ws->cert_pem);
    }
    return step("client.crt read back from the flash store", rc);
}

int fw_online(tkr_enroll_t *ws)
{
    size_t token_len = 0;
    uint32_t heap, stack;
    long echo;
    int rc, bad;

    mbedtls_memory_buffer_alloc_init(heap_pool, sizeof(heap_pool));
    memset(heap_pool + HEAP_HEADER_ROOM, HEAP_PAINT, sizeof(heap_pool) - HEAP_HEADER_ROOM);
    memset(qemu_flash, 0xFF, sizeof(qemu_flash));
    qemu_now = qemu_wall_seconds();
    bm.areas = fw_areas;
    bm.n_areas = FW_N_AREAS;
    bm.log_level = TKR_LOG_INFO;
    tkr_port_baremetal_init(&port, &bm);
    uart_stream_init(&uart, &stream, UART_STREAM_UART0);
    stream.clock = ticks;
    ticks_start();
    tkr_enroll_init(ws);

    if ((echo = kit_number("uart_echo")) >= 0)
        return uart_echo(echo, ws);
    rc = kit_to_flash();
    if (rc == 0)
        rc = read_service_url(ws);
    if (rc == 0)
        rc = read_token(&token_len);
    if (rc == 0)
        rc = fragment_limit(ws);
    if (rc == 0)
        rc = enroll(ws, token_len);
    if (rc == 0)
        rc = step("the UART flagged no overrun either way", stream.overrun ? TKR_E_NET : 0);
    if (rc == 0)
        rc = step("a second connect on the used serial stream fails (TKR_E_NET)",
                  uart.connect(uart.ctx, "localhost", 443, 1000) == TKR_E_NET ? 0 : TKR_E_NET);
    if (rc == 0)
        rc = next_boot(ws, token_len);
    if (rc == 0)
        rc = dump_cert(ws);
    tkr_enroll_free(ws);

    heap = heap_used();
    stack = fw_stack_used();
    put_u("uart stream: ", stream.tx_bytes, " bytes sent, ");
    put_u("", stream.rx_bytes, " bytes received\n");
    put_u("peak heap (mbedTLS pool high-water): ", heap, " bytes\n");
    put_u("stack high-water: ", stack, " bytes\n");
    bad = heap > HEAP_GOAL || stack > STACK_GOAL;
    qemu_puts(bad ? "FAIL: above the goals (heap 24576, stack 6144 bytes)\n"
                  : "PASS: within the goals (heap 24576, stack 6144 bytes)\n");
    qemu_puts(rc == 0 && !bad ? "online enrollment flow: OK\n" : "online enrollment flow: FAILED\n");
    return rc != 0 ? rc : (bad ? TKR_E_TOO_LARGE : 0);
}
