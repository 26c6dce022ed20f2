/* lwip/sockets.h (test shim) — lwIP's lwip_* socket names over the host's
 * BSD sockets, so the bare-metal port's lwIP transport is compiled and run
 * against a real loopback peer in make check. Only what the port calls. */
#ifndef TKR_TEST_LWIP_SOCKETS_H
#define TKR_TEST_LWIP_SOCKETS_H

#include <fcntl.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <unistd.h>

#define lwip_socket socket
#define lwip_connect connect
#define lwip_getsockopt getsockopt
#define lwip_close close
#define lwip_send send
#define lwip_recv recv
#define lwip_select select

/* lwIP's fcntl takes an int third argument and knows only O_NONBLOCK. */
static inline int lwip_fcntl(int fd, int cmd, int val)
{
    return fcntl(fd, cmd, val);
}

#endif
