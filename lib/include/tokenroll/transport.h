/* tokenroll/transport.h — a byte stream the HTTP client runs on.
 *
 * As in coreHTTP, the network is a small struct of function pointers the
 * caller fills: one tkr_transport_t is one connection. A TCP transport
 * comes with the port (port/posix: BSD sockets; port/baremetal: lwIP); a
 * TLS transport wraps another transport (its ctx holds the lower one and
 * the TLS session, its send/recv call the lower send/recv), so the HTTP
 * client is the same code over plain TCP and over TLS.
 *
 * Every call takes its own timeout in milliseconds, so a caller can spend
 * one deadline across several calls; a transport never blocks longer.
 *
 * connect and close are part of the interface so that a layer can open its
 * lower layer (TLS connects TCP, then handshakes with the same host name)
 * and the client can open the connection a URL names. A transport handed
 * over already connected may leave connect NULL; close may be NULL when
 * there is nothing to release. */
#ifndef TOKENROLL_TRANSPORT_H
#define TOKENROLL_TRANSPORT_H

#include <stddef.h>
#include <stdint.h>

typedef struct tkr_transport {
    void *ctx;   /* the connection's state, owned by the caller */

    /* Send up to len bytes, waiting at most timeout_ms for room. Returns
     * the count sent (> 0; a short count is not an error), TKR_E_TIMEOUT
     * when nothing could be sent in time, or TKR_E_NET. */
    int (*send)(void *ctx, const uint8_t *buf, size_t len,
                uint32_t timeout_ms);

    /* Receive up to len bytes, waiting at most timeout_ms for the first.
     * Returns the count (> 0), 0 when the peer closed the stream in order,
     * TKR_E_TIMEOUT when nothing came in time, or TKR_E_NET. */
    int (*recv)(void *ctx, uint8_t *buf, size_t len, uint32_t timeout_ms);

    /* Open the connection to host:port (name or address literal) within
     * timeout_ms. TKR_E_NET when the name does not resolve or nobody
     * accepts, TKR_E_TIMEOUT, TKR_E_INVALID_ARG when already connected. */
    int (*connect)(void *ctx, const char *host, uint16_t port,
                   uint32_t timeout_ms);

    /* Release the connection; calling it on a closed transport is fine. */
    void (*close)(void *ctx);
} tkr_transport_t;

/* Send all of buf[0..len), calling t->send until done; each call waits at
 * most timeout_ms. 0, or the first error (TKR_E_TIMEOUT, TKR_E_NET). */
int tkr_transport_send_all(const tkr_transport_t *t, const uint8_t *buf,
                           size_t len, uint32_t timeout_ms);

#endif
