/* port.c — small adapters from the port interface to what callers need.
 * Device-side: nothing here formats text (see port_log.c for that). */
#include <mbedtls/entropy.h>

#include "tokenroll/error.h"
#include "tokenroll/port.h"
#include "tokenroll/transport.h"

int tkr_port_rng(void *p_port, unsigned char *out, size_t len)
{
    const tkr_port_t *port = p_port;

    if (port == NULL || port->entropy == NULL)
        return MBEDTLS_ERR_ENTROPY_SOURCE_FAILED;
    if (port->entropy(port->ctx, out, len) != 0)
        return MBEDTLS_ERR_ENTROPY_SOURCE_FAILED;
    return 0;
}

int64_t tkr_port_time(const tkr_port_t *port)
{
    if (port == NULL || port->wall_time == NULL)
        return -1;
    return port->wall_time(port->ctx);
}

void tkr_port_log_str(const tkr_port_t *port, int level, const char *msg)
{
    if (port == NULL || port->log == NULL || msg == NULL)
        return;
    port->log(port->ctx, level, msg);
}

int tkr_transport_send_all(const tkr_transport_t *t, const uint8_t *buf,
                           size_t len, uint32_t timeout_ms)
{
    if (t == NULL || t->send == NULL || (buf == NULL && len > 0))
        return TKR_E_INVALID_ARG;
    while (len > 0) {
        int n = t->send(t->ctx, buf, len, timeout_ms);
        if (n < 0)
            return n;
        /* A transport that reports progress it did not make would spin
         * here forever; 0 and overlong counts are its bugs, not ours. */
        if (n == 0 || (size_t)n > len)
            return TKR_E_NET;
        buf += n;
        len -= (size_t)n;
    }
    return 0;
}
