/* port_baremetal.c — tkr_port_t for a microcontroller (template).
 *
 * Copy this file into the firmware and provide the board_* functions of
 * tkr_port_baremetal.h. Places marked INTEGRATOR: are where a board usually
 * differs. Nothing here allocates or touches stdio. */
#include <limits.h>
#include <string.h>

#include "tkr_port_baremetal.h"
#include "tokenroll/error.h"

#if defined(TKR_PORT_LWIP)
/* lwIP 2.x BSD-style API, called by its lwip_* names so the build does not
 * depend on LWIP_COMPAT_SOCKETS. Needs LWIP_SOCKET, LWIP_DNS and
 * LWIP_SOCKET_SELECT (all default on). */
#include "lwip/netdb.h"
#include "lwip/sockets.h"
#endif

#if TKR_BM_FLASH_UNIT < 1 || TKR_BM_FLASH_UNIT > 32 || \
    (TKR_BM_FLASH_UNIT & (TKR_BM_FLASH_UNIT - 1)) != 0
#error "TKR_BM_FLASH_UNIT must be a power of two from 1 to 32"
#endif

/* ---- entropy and clocks ---- */

static int bm_entropy(void *ctx, uint8_t *out, size_t len)
{
    (void)ctx;
    return board_rng_read(out, len) == 0 ? 0 : TKR_E_ENTROPY;
}

static int64_t bm_wall(void *ctx)
{
    int64_t t = board_rtc_seconds();

    (void)ctx;
    /* INTEGRATOR: an RTC that keeps local time must be converted to UTC
     * here; token exp/iat are UTC seconds. */
    return t < 0 ? -1 : t;
}

/* Widen the 32-bit tick: a wrap shows as the counter going down. Not safe
 * to call from two threads at once; the library calls it from the one
 * thread that runs the enrollment. */
static uint64_t bm_mono(void *ctx)
{
    tkr_baremetal_t *bm = ctx;
    uint32_t now = board_tick_ms();

    if (bm == NULL)
        return now;
    if (now < bm->tick_last)
        bm->tick_high++;
    bm->tick_last = now;
    return ((uint64_t)bm->tick_high << 32) | now;
}

/* Busy-waits on the tick; a board with a low-power mode puts WFI in the
 * loop. */
static void bm_sleep(void *ctx, uint32_t ms)
{
    uint64_t end = bm_mono(ctx) + ms;

    while (bm_mono(ctx) < end)
        ;
}

/* ---- blob storage: two slots per blob, commit word last ----
 *
 * NOR flash cannot be rewritten in place: replacing a blob means erasing
 * and programming, and a power cut can stop either half way. Each blob
 * therefore owns two slots. A write always goes to the slot that does NOT
 * hold the current copy, so the current copy is untouched until the new one
 * is complete; the newer of two complete copies wins by sequence number.
 *
 * Slot layout (offsets in the slot):
 *     0  header: magic, seq, len, flags, crc   (32 bytes, 0xFF padded)
 *    32  commit word                            (own 32-byte program unit)
 *    64  data
 *
 * Programming order is data, header, commit word. The commit word is the
 * only thing that makes a slot count, and it is programmed only after the
 * flash has reported the rest programmed, so a slot with a commit word
 * never has a torn header or torn data behind it. It sits in its own
 * program unit so no other write can disturb it once set. The CRC over
 * header and data is the second line: it rejects a slot whose erase was
 * cut short (old commit word, half-erased data) and any bit rot.
 *
 * Removal writes a tombstone (a committed record with no data) into the
 * free slot rather than erasing: erasing the current slot first would
 * leave the *previous* version in the other slot as the newest valid
 * copy, and a power cut there would bring an old key back from the dead.
 */

#define SLOT_MAGIC     0x424b5254u /* "TRKB" */
#define SLOT_COMMIT    0x21544d43u /* "CMT!" */
#define SLOT_TOMBSTONE 0x1u
#define HDR_SIZE       32u
#define COMMIT_OFF     32u
#define DATA_OFF       TKR_BM_SLOT_OVERHEAD
/* One program call for the commit word: at least the word, at least a unit. */
#define COMMIT_LEN     (TKR_BM_FLASH_UNIT < 4 ? 4u : (unsigned)TKR_BM_FLASH_UNIT)
#define CRC_INIT       0xffffffffu

typedef struct {
    uint32_t magic;
    uint32_t seq;
    uint32_t len;
    uint32_t flags;
    uint32_t crc;   /* CRC-32 (IEEE) of the four words above, then the data */
    uint32_t pad[3];
} slot_hdr_t;

_Static_assert(sizeof(slot_hdr_t) == HDR_SIZE, "slot header is 32 bytes");

/* Bitwise CRC-32: no 1 KiB table in flash for a check run a few times a
 * boot. */
static uint32_t crc32_update(uint32_t crc, const uint8_t *p, size_t n)
{
    unsigned k;

    while (n-- > 0) {
        crc ^= (uint32_t)*p++;
        for (k = 0; k < 8; k++)
            crc = (crc >> 1) ^ (0xedb88320u & (0u - (crc & 1u)));
    }
    return crc;
}

static uint32_t hdr_crc(const slot_hdr_t *h)
{
    return crc32_update(CRC_INIT, (const uint8_t *)h,
                        4 * sizeof(uint32_t));
}

static const tkr_bm_area_t *find_area(const tkr_baremetal_t *bm,
                                      const char *name)
{
    size_t i;

    if (bm == NULL || name == NULL || bm->areas == NULL)
        return NULL;
    for (i = 0; i < bm->n_areas; i++)
        if (bm->areas[i].name != NULL && strcmp(bm->areas[i].name, name) == 0)
            return &bm->areas[i];
    return NULL;
}

static uint32_t slot_addr(const tkr_bm_area_t *a, unsigned slot)
{
    return a->addr + (uint32_t)slot * a->slot_size;
}

static size_t slot_capacity(const tkr_bm_area_t *a)
{
    return a->slot_size > DATA_OFF ? (size_t)(a->slot_size - DATA_OFF) : 0;
}

/* 1 when the slot holds a committed, intact record (header in *h), 0 when
 * it does not, TKR_E_IO when the flash cannot be read: an unreadable slot
 * must not be mistaken for an empty one, or the older slot would win. */
static int slot_load(const tkr_bm_area_t *a, unsigned slot, slot_hdr_t *h)
{
    uint8_t chunk[64];
    uint32_t base = slot_addr(a, slot), commit, crc;
    size_t off, n;

    if (board_flash_read(base, h, sizeof(*h)) != 0 ||
        board_flash_read(base + COMMIT_OFF, &commit, sizeof(commit)) != 0)
        return TKR_E_IO;
    if (commit != SLOT_COMMIT || h->magic != SLOT_MAGIC ||
        h->len > slot_capacity(a))
        return 0;
    crc = hdr_crc(h);
    for (off = 0; off < h->len; off += n) {
        n = h->len - off < sizeof(chunk) ? h->len - off : sizeof(chunk);
        if (board_flash_read(base + DATA_OFF + (uint32_t)off, chunk, n) != 0)
            return TKR_E_IO;
        crc = crc32_update(crc, chunk, n);
    }
    return ~crc == h->crc ? 1 : 0;
}

/* The slot holding the newest valid record in *cur (-1 when neither
 * does), its header in *h. Sequence numbers compare modulo 2^32. */
static int newest(const tkr_bm_area_t *a, int *cur, slot_hdr_t *h)
{
    slot_hdr_t h0, h1;
    int v0 = slot_load(a, 0, &h0), v1 = slot_load(a, 1, &h1);

    if (v0 < 0 || v1 < 0)
        return TKR_E_IO;
    *cur = -1;
    if (v0 && (!v1 || (int32_t)(h0.seq - h1.seq) > 0)) {
        *cur = 0;
        *h = h0;
    } else if (v1) {
        *cur = 1;
        *h = h1;
    }
    return 0;
}

/* Lowest sector first: it holds header and commit word, so the slot stops
 * counting before any of its data is touched. */
static int slot_erase(const tkr_bm_area_t *a, unsigned slot)
{
    uint32_t base = slot_addr(a, slot), off;

    if (a->sector_size == 0)
        return TKR_E_INVALID_ARG;
    for (off = 0; off < a->slot_size; off += a->sector_size)
        if (board_flash_erase(base + off, a->sector_size) != 0)
            return TKR_E_IO;
    return 0;
}

/* Program len bytes; a partial last unit is padded with the erased value
 * so the cells beyond len stay as the erase left them. */
static int program(uint32_t addr, const uint8_t *data, size_t len)
{
    size_t bulk = len - len % TKR_BM_FLASH_UNIT;

    if (bulk > 0 && board_flash_write(addr, data, bulk) != 0)
        return TKR_E_IO;
    if (bulk < len) {
        uint8_t tail[TKR_BM_FLASH_UNIT];

        memset(tail, 0xff, sizeof(tail));
        memcpy(tail, data + bulk, len - bulk);
        if (board_flash_write(addr + (uint32_t)bulk, tail, sizeof(tail)) != 0)
            return TKR_E_IO;
    }
    return 0;
}

static int slot_write(const tkr_bm_area_t *a, unsigned slot, uint32_t seq,
                      const uint8_t *data, size_t len, uint32_t flags)
{
    uint32_t base = slot_addr(a, slot);
    uint8_t commit[COMMIT_LEN];
    uint32_t word = SLOT_COMMIT;
    slot_hdr_t h;
    int rc;

    memset(&h, 0xff, sizeof(h));
    h.magic = SLOT_MAGIC;
    h.seq = seq;
    h.len = (uint32_t)len;
    h.flags = flags;
    h.crc = ~crc32_update(hdr_crc(&h), data, len);

    rc = slot_erase(a, slot);
    if (rc == 0 && len > 0)
        rc = program(base + DATA_OFF, data, len);
    if (rc == 0)
        rc = program(base, (const uint8_t *)&h, sizeof(h));
    if (rc != 0)
        return rc;
    memset(commit, 0xff, sizeof(commit));
    memcpy(commit, &word, sizeof(word));
    return program(base + COMMIT_OFF, commit, sizeof(commit));
}

static int bm_read(void *ctx, const char *name, uint8_t *buf, size_t size,
                   size_t *len)
{
    const tkr_bm_area_t *a = find_area(ctx, name);
    slot_hdr_t h;
    int cur, rc;

    if (len == NULL || (buf == NULL && size > 0))
        return TKR_E_INVALID_ARG;
    if (a == NULL)
        return TKR_E_NOT_FOUND;
    if ((rc = newest(a, &cur, &h)) != 0)
        return rc;
    if (cur < 0 || (h.flags & SLOT_TOMBSTONE))
        return TKR_E_NOT_FOUND;
    if (h.len > size)
        return TKR_E_BUFFER_TOO_SMALL;
    if (h.len > 0 &&
        board_flash_read(slot_addr(a, (unsigned)cur) + DATA_OFF, buf,
                         h.len) != 0)
        return TKR_E_IO;
    /* Check what is handed out, not only what was scanned: a flaky bus
     * between the two reads must not deliver unverified bytes. */
    if (~crc32_update(hdr_crc(&h), buf, h.len) != h.crc)
        return TKR_E_IO;
    *len = h.len;
    return 0;
}

static void bm_log(void *ctx, int level, const char *msg);

static int bm_write(void *ctx, const char *name, const uint8_t *data,
                    size_t len, unsigned flags)
{
    const tkr_bm_area_t *a = find_area(ctx, name);
    slot_hdr_t h;
    int cur, rc;
    unsigned next;

    /* INTEGRATOR: every blob the firmware stores needs a table entry; an
     * unknown name is a configuration error, not a full disk. */
    if (a == NULL || (data == NULL && len > 0))
        return TKR_E_INVALID_ARG;
    if (len > slot_capacity(a))
        return TKR_E_TOO_LARGE;
    if ((rc = newest(a, &cur, &h)) != 0)
        return rc;
    next = cur == 0 ? 1u : 0u;
    rc = slot_write(a, next, cur < 0 ? 1u : h.seq + 1u, data, len, 0);
    if (rc != 0 || cur < 0)
        return rc;
    /* A replaced secret (an old private key) should not linger in the
     * other slot. Non-secrets keep it: one erase fewer per write. The new
     * copy is already committed, so a failure here is only logged.
     * INTEGRATOR: TKR_STORE_SECRET cannot restrict readers on an MCU;
     * keep the blob area under the chip's read-out protection. */
    if ((flags & TKR_STORE_SECRET) && slot_erase(a, (unsigned)cur) != 0)
        bm_log(ctx, TKR_LOG_WARN, "flash: stale copy of a secret not erased");
    return 0;
}

static int bm_remove(void *ctx, const char *name)
{
    const tkr_bm_area_t *a = find_area(ctx, name);
    slot_hdr_t h, other;
    int cur, rc;
    unsigned next;

    if (a == NULL)
        return 0; /* no area, so nothing stored under that name */
    if ((rc = newest(a, &cur, &h)) != 0)
        return rc;
    if (cur < 0)
        return 0;
    next = cur == 0 ? 1u : 0u;
    if (h.flags & SLOT_TOMBSTONE) {
        /* Removed already; finish the erase a power cut may have stopped. */
        rc = slot_load(a, next, &other);
        if (rc < 0)
            return rc;
        return rc == 1 ? slot_erase(a, next) : 0;
    }
    rc = slot_write(a, next, h.seq + 1u, NULL, 0, SLOT_TOMBSTONE);
    if (rc == 0)
        rc = slot_erase(a, (unsigned)cur);
    return rc;
}

/* ---- TCP transport over lwIP ---- */

#if defined(TKR_PORT_LWIP)

/* Wait until fd is readable (or writable); TKR_E_TIMEOUT after timeout_ms. */
static int wait_fd(int fd, int for_write, uint32_t timeout_ms)
{
    fd_set set;
    struct timeval tv;
    int n;

    FD_ZERO(&set);
    FD_SET(fd, &set);
    tv.tv_sec = (int)(timeout_ms / 1000u);
    tv.tv_usec = (int)(timeout_ms % 1000u) * 1000;
    n = lwip_select(fd + 1, for_write ? NULL : &set, for_write ? &set : NULL,
                    NULL, &tv);
    if (n == 0)
        return TKR_E_TIMEOUT;
    return n < 0 ? TKR_E_NET : 0;
}

/* lwIP has no connect timeout of its own: connect non-blocking, wait for
 * writability, then read the outcome from SO_ERROR. errno is not used, as
 * lwIP may or may not share the C library's. The socket stays
 * non-blocking: send and recv wait in select themselves. */
static int try_connect(const struct addrinfo *ai, uint32_t timeout_ms, int *out)
{
    int fd = lwip_socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
    int err = 0, rc = TKR_E_NET;
    socklen_t el = sizeof(err);

    if (fd < 0)
        return TKR_E_NET;
    if (lwip_fcntl(fd, F_SETFL, O_NONBLOCK) != 0)
        goto fail;
    if (lwip_connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
        if ((rc = wait_fd(fd, 1, timeout_ms)) != 0)
            goto fail;
        if (lwip_getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el) != 0 || err != 0) {
            rc = TKR_E_NET;
            goto fail;
        }
    }
    *out = fd;
    return 0;
fail:
    lwip_close(fd);
    return rc;
}

static int tcp_connect(void *ctx, const char *host, uint16_t port,
                       uint32_t timeout_ms)
{
    tkr_bm_tcp_t *c = ctx;
    struct addrinfo hints, *res = NULL, *ai;
    char service[6], *p = service + sizeof(service);
    unsigned v = port;
    int rc = TKR_E_NET;

    if (c == NULL || host == NULL || c->fd >= 0)
        return TKR_E_INVALID_ARG;
    /* The port number as text without the printf family. */
    *--p = '\0';
    do
        *--p = (char)('0' + v % 10u);
    while ((v /= 10u) != 0);
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    if (lwip_getaddrinfo(host, p, &hints, &res) != 0 || res == NULL)
        return TKR_E_NET;
    for (ai = res; ai != NULL && c->fd < 0; ai = ai->ai_next)
        rc = try_connect(ai, timeout_ms, &c->fd);
    lwip_freeaddrinfo(res);
    return c->fd >= 0 ? 0 : rc;
}

static int tcp_send(void *ctx, const uint8_t *buf, size_t len,
                    uint32_t timeout_ms)
{
    const tkr_bm_tcp_t *c = ctx;
    ssize_t n;
    int rc;

    if (c == NULL || c->fd < 0 || (buf == NULL && len > 0))
        return TKR_E_INVALID_ARG;
    if ((rc = wait_fd(c->fd, 1, timeout_ms)) != 0)
        return rc;
    if (len > (size_t)INT_MAX)
        len = (size_t)INT_MAX; /* the count is returned as an int */
    n = lwip_send(c->fd, buf, len, 0);
    return n > 0 ? (int)n : TKR_E_NET;
}

static int tcp_recv(void *ctx, uint8_t *buf, size_t len, uint32_t timeout_ms)
{
    const tkr_bm_tcp_t *c = ctx;
    ssize_t n;
    int rc;

    if (c == NULL || c->fd < 0 || (buf == NULL && len > 0))
        return TKR_E_INVALID_ARG;
    if ((rc = wait_fd(c->fd, 0, timeout_ms)) != 0)
        return rc;
    if (len > (size_t)INT_MAX)
        len = (size_t)INT_MAX;
    n = lwip_recv(c->fd, buf, len, 0);
    return n < 0 ? TKR_E_NET : (int)n;
}

static void tcp_close(void *ctx)
{
    tkr_bm_tcp_t *c = ctx;

    if (c != NULL && c->fd >= 0) {
        lwip_close(c->fd);
        c->fd = -1;
    }
}

void tkr_bm_tcp_init(tkr_transport_t *t, tkr_bm_tcp_t *conn)
{
    memset(t, 0, sizeof(*t));
    conn->fd = -1;
    t->ctx = conn;
    t->send = tcp_send;
    t->recv = tcp_recv;
    t->connect = tcp_connect;
    t->close = tcp_close;
}

#endif /* TKR_PORT_LWIP */

/* ---- log ---- */

/* INTEGRATOR: define board_log (UART, RTT, a ring buffer) to see the
 * library's lines; this weak default drops them, since a device without a
 * console must still link. Compilers without weak symbols: delete it and
 * always provide board_log. */
#if defined(__GNUC__)
/* noipa: under -flto, GCC would otherwise inline this default into bm_log
 * even where the board (a non-LTO object) defines the real one. */
__attribute__((weak, noipa)) void board_log(int level, const char *msg)
{
    (void)level;
    (void)msg;
}
#endif

static void bm_log(void *ctx, int level, const char *msg)
{
    const tkr_baremetal_t *bm = ctx;

    if (bm != NULL && level > bm->log_level)
        return;
    board_log(level, msg);
}

void tkr_port_baremetal_init(tkr_port_t *port, tkr_baremetal_t *ctx)
{
    /* One constant copied in: less code than a store per member. */
    static const tkr_port_t ops = {
        .entropy = bm_entropy,
        .wall_time = bm_wall,
        .mono_ms = bm_mono,
        .sleep_ms = bm_sleep,
        .store_read = bm_read,
        .store_write = bm_write,
        .store_remove = bm_remove,
        .log = bm_log,
    };

    if (ctx != NULL) {
        ctx->tick_last = 0;
        ctx->tick_high = 0;
    }
    *port = ops;
    port->ctx = ctx;
}
