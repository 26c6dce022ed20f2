/* tkr_port_baremetal.h — the port interface on a microcontroller (template).
 *
 * port_baremetal.c turns a handful of board functions into a tkr_port_t:
 *
 *   entropy     board_rng_read()      hardware TRNG
 *   wall_time   board_rtc_seconds()   RTC, Unix seconds, < 0 until set
 *   mono_ms     board_tick_ms()       32-bit millisecond tick, widened here
 *   store_*     board_flash_*()       named blobs in A/B flash slots
 *   log         board_log()           optional (weak no-op by default)
 *
 * and, with -DTKR_PORT_LWIP, a TCP transport (tokenroll/transport.h) over
 * lwIP's sockets: tkr_bm_tcp_init. Without lwIP, the board's own TCP stack
 * fills a tkr_transport_t the same way.
 *
 * INTEGRATOR: the board support package defines every board_* function
 * declared below except board_log. They are plain extern functions, not
 * weak defaults, on purpose: a board that forgets its RNG or clock must fail
 * to link rather than run with a stand-in.
 *
 * No heap, no stdio. The port keeps its only mutable state (the widened
 * tick) in the caller's tkr_baremetal_t, so two ports can coexist. */
#ifndef TKR_PORT_BAREMETAL_H
#define TKR_PORT_BAREMETAL_H

#include <stddef.h>
#include <stdint.h>

#include "tokenroll/port.h"
#include "tokenroll/transport.h"

/* Smallest unit the flash programs at once, in bytes (STM32F4: 1, STM32L4:
 * 8, STM32H7: 32). A power of two, at most 32. Every program call the port
 * makes is a whole number of these units at a unit-aligned address. */
#ifndef TKR_BM_FLASH_UNIT
#define TKR_BM_FLASH_UNIT 8
#endif

/* Bytes of each slot taken by the slot header and commit record. */
#define TKR_BM_SLOT_OVERHEAD 64u

/* One named blob: two slots of slot_size bytes each, slot A at addr and
 * slot B at addr + slot_size. slot_size is a whole number of erase sectors
 * (sector_size); the largest blob it holds is slot_size - TKR_BM_SLOT_OVERHEAD.
 * A device key + certificate needs about 4 KiB per blob. */
typedef struct {
    const char *name;      /* the name the library passes, e.g. "client.key" */
    uint32_t addr;         /* flash address of slot A, sector-aligned */
    uint32_t slot_size;    /* bytes per slot */
    uint32_t sector_size;  /* erase unit of this flash region */
} tkr_bm_area_t;

typedef struct {
    const tkr_bm_area_t *areas;  /* the blob table (usually const in flash) */
    size_t n_areas;
    int log_level;               /* lines above this TKR_LOG_* are dropped */
    /* Private: the 32-bit tick widened to 64 bits. */
    uint32_t tick_last;
    uint32_t tick_high;
} tkr_baremetal_t;

/* Fill port with the bare-metal hooks over ctx (owned by the caller, and
 * alive as long as the port is used). ctx->areas and n_areas are set by
 * the caller before or after; the tick state is reset here. */
void tkr_port_baremetal_init(tkr_port_t *port, tkr_baremetal_t *ctx);

/* One TCP connection over lwIP (-DTKR_PORT_LWIP); fd is -1 while closed.
 * Needs LWIP_SOCKET, LWIP_DNS and LWIP_SOCKET_SELECT (all default on). */
typedef struct {
    int fd;
} tkr_bm_tcp_t;

/* Fill t with the lwIP TCP hooks over conn (owned by the caller), closed. */
void tkr_bm_tcp_init(tkr_transport_t *t, tkr_bm_tcp_t *conn);

/* ---- INTEGRATOR: board support package ---- */

/* Fill out[0..len) from the hardware TRNG. Return 0, or non-zero when the
 * generator reports a fault (seed/clock error, failed health test); the
 * library then stops rather than use weak randomness. */
int board_rng_read(uint8_t *out, size_t len);

/* Seconds since the Unix epoch from the RTC, or a negative value while the
 * RTC has not been set (first boot, dead backup battery). */
int64_t board_rtc_seconds(void);

/* A free-running millisecond counter (e.g. HAL_GetTick / xTaskGetTickCount
 * scaled to ms). Wrapping at 2^32 is fine; the port must be asked for the
 * time at least once per wrap (49.7 days) to notice it. */
uint32_t board_tick_ms(void);

/* Read len bytes at flash address addr. 0 or non-zero on failure. */
int board_flash_read(uint32_t addr, void *buf, size_t len);

/* Program len bytes at addr, which are erased. addr and len are multiples
 * of TKR_BM_FLASH_UNIT; data may be unaligned in RAM. Returns only when the
 * cells are programmed (the atomicity scheme depends on that order). */
int board_flash_write(uint32_t addr, const void *data, size_t len);

/* Erase the sectors covering [addr, addr + len); addr and len are multiples
 * of the sector size. The port calls it one sector at a time, lowest
 * address first. */
int board_flash_erase(uint32_t addr, size_t len);

/* Optional: one log line (no newline). The default drops it. */
void board_log(int level, const char *msg);

#endif
