/* lwip/netdb.h (test shim) — lwIP's resolver names over the host's. */
#ifndef TKR_TEST_LWIP_NETDB_H
#define TKR_TEST_LWIP_NETDB_H

#include <netdb.h>

#define lwip_getaddrinfo getaddrinfo
#define lwip_freeaddrinfo freeaddrinfo

#endif
