/* tokenroll/port.h — everything the library needs from the platform.
 *
 * The library never calls the OS. The integrator fills a tkr_port_t with
 * function pointers (as coreHTTP does with its transport interface) and
 * passes it to every call that needs time, randomness, storage, the network
 * or a log line. `ctx` is the integrator's own state, handed back to every
 * hook. Hooks that a build does not need may be NULL; the library checks
 * before calling. Without entropy, what needs randomness fails
 * (TKR_E_UNSUPPORTED where the library draws it itself, as for a token id;
 * TKR_E_CRYPTO or TKR_E_ENTROPY where mbedTLS draws it through
 * tkr_port_rng); without wall_time the time reads -1, so every time check
 * fails; without storage, what reads it is TKR_E_UNSUPPORTED; without log,
 * nothing is logged.
 *
 * Implementations: port/posix (Linux, macOS) and port/baremetal (template). */
#ifndef TOKENROLL_PORT_H
#define TOKENROLL_PORT_H

#include <stddef.h>
#include <stdint.h>

/* store_write flags */
#define TKR_STORE_SECRET 0x1u  /* readable by the owner only (0600) */

/* log levels */
#define TKR_LOG_ERROR 0
#define TKR_LOG_WARN  1
#define TKR_LOG_INFO  2
#define TKR_LOG_DEBUG 3

typedef struct tkr_port {
    void *ctx;

    /* Fill out[0..len) with bytes from a cryptographically secure source.
     * Returns 0, or TKR_E_ENTROPY. */
    int (*entropy)(void *ctx, uint8_t *out, size_t len);

    /* Wall-clock seconds since the Unix epoch; negative when the clock is
     * not set (a device before NTP), which makes every time check fail. */
    int64_t (*wall_time)(void *ctx);

    /* Milliseconds from an arbitrary origin, never going backwards. */
    uint64_t (*mono_ms)(void *ctx);

    /* Read the whole blob `name` into buf. TKR_E_NOT_FOUND when absent,
     * TKR_E_BUFFER_TOO_SMALL when it does not fit (nothing partial is
     * returned as success). */
    int (*store_read)(void *ctx, const char *name,
                      uint8_t *buf, size_t size, size_t *len);

    /* Replace blob `name` atomically: after a power cut the old content or
     * the new one is there, never a mix. TKR_STORE_SECRET restricts it to
     * the owner. */
    int (*store_write)(void *ctx, const char *name,
                       const uint8_t *data, size_t len, unsigned flags);

    /* Remove blob `name`; removing an absent blob succeeds. */
    int (*store_remove)(void *ctx, const char *name);

    /* Open a TCP connection; *handle identifies it to the calls below. */
    int (*net_connect)(void *ctx, int *handle, const char *host,
                       uint16_t port, uint32_t timeout_ms);

    /* Send up to len bytes: returns the count sent (> 0) or a TKR_E_*. */
    int (*net_send)(void *ctx, int handle, const uint8_t *buf, size_t len);

    /* Receive up to len bytes: the count (> 0), 0 on orderly close,
     * TKR_E_TIMEOUT when nothing came within timeout_ms, or a TKR_E_*. */
    int (*net_recv)(void *ctx, int handle, uint8_t *buf, size_t len,
                    uint32_t timeout_ms);

    void (*net_close)(void *ctx, int handle);

    /* One log line, no trailing newline. Never receives key material or a
     * whole token: the library logs token ids and error names only. */
    void (*log)(void *ctx, int level, const char *msg);
} tkr_port_t;

/* mbedTLS-style RNG callback over port->entropy: pass the port as p_rng. */
int tkr_port_rng(void *p_port, unsigned char *out, size_t len);

/* Wall time from the port, or -1 when there is no clock hook. */
int64_t tkr_port_time(const tkr_port_t *port);

/* printf-style log through port->log; a no-op without a log hook. The line
 * is truncated at 256 bytes. */
void tkr_port_log(const tkr_port_t *port, int level, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

#endif
