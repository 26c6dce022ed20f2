/* tkr_port_posix.h — the port interface on Linux and macOS.
 *
 * getrandom(2) (or /dev/urandom), clock_gettime, files written to a temp
 * file, fsync'd, renamed over the target and the directory fsync'd, and BSD
 * sockets with poll(2) timeouts. Blob names are file paths. */
#ifndef TKR_PORT_POSIX_H
#define TKR_PORT_POSIX_H

#include <stdint.h>

#include "tokenroll/port.h"

typedef struct {
    int log_level;      /* lines above this level are dropped */
    int64_t fixed_now;  /* >= 0: wall clock pinned here (tests, replay) */
} tkr_posix_t;

/* Fill port with the POSIX hooks over ctx (owned by the caller). */
void tkr_port_posix_init(tkr_port_t *port, tkr_posix_t *ctx);

#endif
