/* tkr_port_posix.h — the port interface on Linux and macOS.
 *
 * Platform: getrandom(2) (getentropy elsewhere), clock_gettime, files
 * written to a temp file, fsync'd, renamed over the target and the
 * directory fsync'd. Blob names are file paths.
 * Transport: one TCP connection over BSD sockets, non-blocking, each call
 * bounded by poll(2). */
#ifndef TKR_PORT_POSIX_H
#define TKR_PORT_POSIX_H

#include <stdint.h>

#include "tokenroll/port.h"
#include "tokenroll/transport.h"

typedef struct {
    int log_level;      /* lines above this level are dropped */
    int64_t fixed_now;  /* >= 0: wall clock pinned here (tests, replay) */
} tkr_posix_t;

/* Fill port with the POSIX hooks over ctx (owned by the caller). */
void tkr_port_posix_init(tkr_port_t *port, tkr_posix_t *ctx);

/* One TCP connection; fd is -1 while closed. */
typedef struct {
    int fd;
} tkr_posix_tcp_t;

/* Fill t with the TCP hooks over conn (owned by the caller, alive while t
 * is used), closed: t->connect opens it, t->close releases it. */
void tkr_posix_tcp_init(tkr_transport_t *t, tkr_posix_tcp_t *conn);

#endif
