/* port.c — small adapters from the port interface to what callers need. */
#include <stdarg.h>
#include <stdio.h>

#include <mbedtls/entropy.h>

#include "tokenroll/error.h"
#include "tokenroll/port.h"

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

void tkr_port_log(const tkr_port_t *port, int level, const char *fmt, ...)
{
    char line[256];
    va_list ap;

    if (port == NULL || port->log == NULL)
        return;
    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    port->log(port->ctx, level, line);
}
