/* uart_stream.c — the byte-stream transport of uart_stream.h.
 *
 * The CMSDK APB UART holds one character each way. Receive: STATE.RXFULL
 * says a byte waits in DATA; reading DATA frees the buffer, and QEMU only
 * then takes the next byte from the socket (its can_receive hook), so the
 * socket's own flow control holds the rest and nothing is dropped however
 * slowly we read. Send: a write to DATA while STATE.TXFULL is set
 * overwrites the pending byte, so every write waits for TXFULL to clear.
 * Polled, no interrupts: the firmware has nothing else to do meanwhile. */
#include <stddef.h>
#include <stdint.h>

#include "tkr_port_baremetal.h"
#include "tokenroll/error.h"
#include "uart_stream.h"

#define R_DATA 0x00u
#define R_STATE 0x04u
#define R_CTRL 0x08u
#define R_BAUDDIV 0x10u
#define STATE_TXFULL 0x1u
#define STATE_RXFULL 0x2u
#define STATE_OVERRUN 0xCu /* TX and RX overrun, write 1 to clear */
#define CTRL_TX_EN 0x1u
#define CTRL_RX_EN 0x2u

/* 25 MHz APB clock / 115200 baud. QEMU ignores the rate on a socket but
 * logs a guest error for a transmitter enabled without one. */
#define BAUDDIV 217u

/* The tick is a semihosting call in QEMU (a trap out of the emulated CPU):
 * look at it once per this many register polls. */
#define POLLS_PER_TICK 256u

enum { UNUSED, CONNECTED, CLOSED };

static volatile uint32_t *reg(const uart_stream_t *u, uint32_t off)
{
    return (volatile uint32_t *)(u->base + off);
}

/* Wait until STATE & mask equals want, at most timeout_ms. 1 when it
 * does, 0 at the deadline. */
static int wait_state(uart_stream_t *u, uint32_t mask, uint32_t want,
                      uint32_t timeout_ms)
{
    uint32_t start, t0, polls = 0;
    int ok = 1;

    if ((*reg(u, R_STATE) & mask) == want)
        return 1;
    t0 = u->clock != NULL ? u->clock() : 0;
    start = board_tick_ms();
    while ((*reg(u, R_STATE) & mask) != want) {
        if (++polls % POLLS_PER_TICK == 0 && board_tick_ms() - start >= timeout_ms) {
            ok = (*reg(u, R_STATE) & mask) == want;
            break;
        }
    }
    if (u->clock != NULL)
        u->waited += u->clock() - t0;
    return ok;
}

static int uart_send(void *ctx, const uint8_t *buf, size_t len, uint32_t timeout_ms)
{
    uart_stream_t *u = ctx;
    size_t i;

    if (u == NULL || (buf == NULL && len > 0))
        return TKR_E_INVALID_ARG;
    if (u->state != CONNECTED)
        return TKR_E_NET;
    for (i = 0; i < len && i < INT32_MAX; i++) {
        /* Only the first byte may wait the whole timeout; after that a
         * short count goes back to the caller, who spends its own. */
        if (!wait_state(u, STATE_TXFULL, 0, i == 0 ? timeout_ms : 0))
            break;
        *reg(u, R_DATA) = buf[i];
    }
    u->tx_bytes += (uint32_t)i;
    return i > 0 ? (int)i : (len == 0 ? 0 : TKR_E_TIMEOUT);
}

static int uart_recv(void *ctx, uint8_t *buf, size_t len, uint32_t timeout_ms)
{
    uart_stream_t *u = ctx;
    size_t i;

    if (u == NULL || buf == NULL || len == 0)
        return TKR_E_INVALID_ARG;
    if (u->state != CONNECTED)
        return TKR_E_NET;
    for (i = 0; i < len && i < INT32_MAX; i++) {
        if (!wait_state(u, STATE_RXFULL, STATE_RXFULL, i == 0 ? timeout_ms : 0))
            break;
        buf[i] = (uint8_t)*reg(u, R_DATA);
    }
    u->rx_bytes += (uint32_t)i;
    return i > 0 ? (int)i : TKR_E_TIMEOUT;
}

static int uart_connect(void *ctx, const char *host, uint16_t port, uint32_t timeout_ms)
{
    uart_stream_t *u = ctx;

    (void)host;
    (void)port;
    (void)timeout_ms;
    if (u == NULL)
        return TKR_E_INVALID_ARG;
    if (u->state == CONNECTED)
        return TKR_E_INVALID_ARG;
    if (u->state == CLOSED) {
        board_log(TKR_LOG_ERROR, "uart: the serial stream was one connection and it is closed");
        return TKR_E_NET;
    }
    *reg(u, R_BAUDDIV) = BAUDDIV;
    *reg(u, R_STATE) = STATE_OVERRUN;
    *reg(u, R_CTRL) = CTRL_TX_EN | CTRL_RX_EN;
    u->state = CONNECTED;
    if (u->clock != NULL)
        u->opened = u->clock();
    return 0;
}

static void uart_close(void *ctx)
{
    uart_stream_t *u = ctx;

    if (u != NULL && u->state == CONNECTED) {
        /* The last byte may still wait for room in QEMU's socket: let it
         * go before the firmware moves on (or ends QEMU with it). */
        (void)wait_state(u, STATE_TXFULL, 0, 1000);
        u->state = CLOSED;
        u->overrun = (*reg(u, R_STATE) & STATE_OVERRUN) != 0;
        if (u->clock != NULL)
            u->closed = u->clock();
    }
}

void uart_stream_init(tkr_transport_t *t, uart_stream_t *u, uintptr_t base)
{
    u->base = base;
    u->state = UNUSED;
    u->rx_bytes = 0;
    u->tx_bytes = 0;
    u->clock = NULL;
    u->opened = u->closed = u->waited = 0;
    u->overrun = 0;
    t->ctx = u;
    t->send = uart_send;
    t->recv = uart_recv;
    t->connect = uart_connect;
    t->close = uart_close;
}
