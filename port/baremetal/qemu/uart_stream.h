/* uart_stream.h — a tkr_transport_t over a CMSDK APB UART, polled.
 *
 * On QEMU's mps2-an386 the UART's character device can be a TCP socket
 * (-chardev socket,...,host=H,port=P -serial chardev:ID): the bytes the
 * firmware writes to the UART are then the TCP stream to H:P, and TLS runs
 * end to end in the firmware. QEMU opens that socket before the machine
 * starts and never reopens it, so the stream is one connection per run:
 * the first connect only enables the UART (host and port are QEMU's
 * command line, not ours), and any later one fails with TKR_E_NET.
 *
 * The UART has no end-of-stream signal: a peer that closes shows as
 * silence, so recv ends in TKR_E_TIMEOUT, never 0. The HTTP client frames
 * its answer (Content-Length, chunked) and does not wait for the close. */
#ifndef TKR_UART_STREAM_H
#define TKR_UART_STREAM_H

#include <stdint.h>

#include "tokenroll/transport.h"

/* UART0 of mps2-an386 (and of the AN385/AN386 FPGA images). */
#define UART_STREAM_UART0 0x40004000u

typedef struct {
    uintptr_t base;   /* the UART's registers */
    int state;        /* private: 0 unused, 1 connected, 2 closed */
    uint32_t rx_bytes, tx_bytes;  /* counts, for the test's report */
    int overrun;      /* at close: the UART flagged a byte lost either way */
    /* Optional, for measurements: a free-running up-counter. When set,
     * opened and closed hold its value at connect and close, and waited
     * the time spent polling for the peer (a byte to arrive, room to
     * send), which is the peer's time, not the firmware's work. */
    uint32_t (*clock)(void);
    uint32_t opened, closed, waited;
} uart_stream_t;

/* Fill t with the UART hooks over u (owned by the caller), unconnected,
 * without a clock. */
void uart_stream_init(tkr_transport_t *t, uart_stream_t *u, uintptr_t base);

#endif
