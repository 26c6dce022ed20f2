/* port_log.c — printf-style logging over the port's log hook. Host builds
 * only: vsnprintf drags the C library's whole formatter into a firmware,
 * so device objects log preformatted text through tkr_port_log_str. */
#include <stdarg.h>
#include <stdio.h>

#include "tokenroll/port.h"

void tkr_port_log(const tkr_port_t *port, int level, const char *fmt, ...)
{
    char line[256];
    va_list ap;

    if (port == NULL || port->log == NULL || fmt == NULL)
        return;
    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    port->log(port->ctx, level, line);
}
