/* tokenroll/port.h — what the library needs from the platform.
 *
 * The library never calls the OS. The integrator fills a tkr_port_t with
 * function pointers and passes it to every call that needs time,
 * randomness, storage or a log line. `ctx` is the integrator's own state,
 * handed back to every hook. The network is not here: it is a transport
 * (tokenroll/transport.h), so TLS can sit on a TCP transport and the HTTP
 * client on either, as in coreHTTP.
 *
 * A hook a build does not need may be NULL. What its absence means is
 * stated per hook below (no entropy: every RNG call fails; no clock: the
 * time reads as unset; no log: lines are dropped); the storage hooks are
 * required by the modules that store (enroll) and those check for them.
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
     * Returns 0, or TKR_E_ENTROPY. NULL: every RNG request fails. */
    int (*entropy)(void *ctx, uint8_t *out, size_t len);

    /* Wall-clock seconds since the Unix epoch; negative when the clock is
     * not set (a device before NTP), which makes every time check fail.
     * NULL reads as "not set". */
    int64_t (*wall_time)(void *ctx);

    /* Milliseconds from an arbitrary origin, never going backwards. */
    uint64_t (*mono_ms)(void *ctx);

    /* Wait about ms milliseconds (enroll's backoff between attempts); a
     * device may sleep the core until the tick. NULL: the flow does not
     * wait, and a request still pending is reported at once. */
    void (*sleep_ms)(void *ctx, uint32_t ms);

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

    /* One log line, no trailing newline, already formatted: the library
     * formats nothing on a device (no printf family in device objects).
     * Never receives key material or a whole token: the library logs token
     * ids and error names only. NULL drops the line. */
    void (*log)(void *ctx, int level, const char *msg);
} tkr_port_t;

/* mbedTLS-style RNG callback over port->entropy: pass the port as p_rng. */
int tkr_port_rng(void *p_port, unsigned char *out, size_t len);

/* Wall time from the port, or -1 when there is no clock hook. */
int64_t tkr_port_time(const tkr_port_t *port);

/* One preformatted line through port->log; a no-op without a log hook.
 * Device-safe: no formatting, no buffer. */
void tkr_port_log_str(const tkr_port_t *port, int level, const char *msg);

/* printf-style log through port->log, truncated at 256 bytes. Host builds
 * only (lib/port_log.c): it needs vsnprintf, which device objects must not
 * pull in; device code calls tkr_port_log_str. */
void tkr_port_log(const tkr_port_t *port, int level, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

#endif
