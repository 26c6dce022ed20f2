/* test_net.h — a loopback TCP listener for the transport tests. */
#ifndef TKR_TEST_NET_H
#define TKR_TEST_NET_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "tokenroll/error.h"
#include "tokenroll/transport.h"

/* A listening socket on 127.0.0.1 and an ephemeral port (in *port_out). */
static inline int listener(uint16_t *port_out)
{
    struct sockaddr_in a;
    socklen_t al = sizeof(a);
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    assert_true(fd >= 0);
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(listen(fd, 4), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &al), 0);
    *port_out = ntohs(a.sin_port);
    return fd;
}

static inline long elapsed_ms(const struct timespec *t0)
{
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (long)(t1.tv_sec - t0->tv_sec) * 1000 + (t1.tv_nsec - t0->tv_nsec) / 1000000;
}

/* What every TCP transport must do, against a loopback peer: refuse I/O
 * while closed, connect (once), send all, receive, time out on silence and
 * on a peer that stops reading, see an orderly close as 0, and close
 * twice harmlessly. *fd is the transport's socket (-1 when closed). */
static inline void check_tcp_transport(const tkr_transport_t *t, const int *fd)
{
    static uint8_t chunk[65536];
    uint16_t p;
    int lfd = listener(&p), peer, rc = 0, i;
    uint8_t buf[16];
    struct timespec t0;

    assert_int_equal(t->send(t->ctx, (const uint8_t *)"x", 1, 10), TKR_E_INVALID_ARG);
    assert_int_equal(t->recv(t->ctx, buf, sizeof(buf), 10), TKR_E_INVALID_ARG);
    assert_int_equal(t->connect(t->ctx, "127.0.0.1", p, 2000), 0);
    assert_int_equal(t->connect(t->ctx, "127.0.0.1", p, 2000), TKR_E_INVALID_ARG);
    peer = accept(lfd, NULL, NULL);
    assert_true(peer >= 0);
    assert_int_equal(tkr_transport_send_all(t, (const uint8_t *)"ping", 4, 2000), 0);
    assert_int_equal(read(peer, buf, sizeof(buf)), 4);
    assert_memory_equal(buf, "ping", 4);
    assert_int_equal(write(peer, "pong", 4), 4);
    assert_int_equal(t->recv(t->ctx, buf, sizeof(buf), 2000), 4);
    assert_memory_equal(buf, "pong", 4);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    assert_int_equal(t->recv(t->ctx, buf, sizeof(buf), 100), TKR_E_TIMEOUT);
    assert_true(elapsed_ms(&t0) >= 90);
    close(peer);
    assert_int_equal(t->recv(t->ctx, buf, sizeof(buf), 1000), 0); /* orderly close */
    t->close(t->ctx);
    assert_int_equal(*fd, -1);
    t->close(t->ctx);

    /* A peer that does not read: the send side fills up and times out
     * instead of blocking. */
    assert_int_equal(t->connect(t->ctx, "127.0.0.1", p, 2000), 0);
    peer = accept(lfd, NULL, NULL);
    assert_true(peer >= 0);
    for (i = 0; i < 4096 && rc >= 0; i++)
        rc = t->send(t->ctx, chunk, sizeof(chunk), 50);
    assert_int_equal(rc, TKR_E_TIMEOUT);
    t->close(t->ctx);
    close(peer);
    close(lfd);
}

/* Nobody listening, or a name that does not resolve: TKR_E_NET, closed. */
static inline void check_tcp_refused(const tkr_transport_t *t, const int *fd)
{
    uint16_t p;
    int lfd = listener(&p);

    close(lfd); /* nobody listens there now */
    assert_int_equal(t->connect(t->ctx, "127.0.0.1", p, 1000), TKR_E_NET);
    assert_int_equal(t->connect(t->ctx, "no-such-host.invalid", 443, 1000), TKR_E_NET);
    assert_int_equal(*fd, -1);
}

#endif
