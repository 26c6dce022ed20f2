/* port_posix.c — tkr_port_t and a TCP tkr_transport_t for POSIX systems. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#if defined(__linux__)
#include <sys/random.h>
#endif

#include "tkr_port_posix.h"
#include "tokenroll/error.h"

static int posix_entropy(void *ctx, uint8_t *out, size_t len)
{
    (void)ctx;
    while (len > 0) {
#if defined(__linux__)
        ssize_t n = getrandom(out, len, 0);
#else
        ssize_t n = getentropy(out, len > 256 ? 256 : len) == 0
                        ? (ssize_t)(len > 256 ? 256 : len) : -1;
#endif
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return TKR_E_ENTROPY;
        }
        out += n;
        len -= (size_t)n;
    }
    return 0;
}

static int64_t posix_wall(void *ctx)
{
    const tkr_posix_t *p = ctx;
    struct timespec ts;

    if (p != NULL && p->fixed_now >= 0)
        return p->fixed_now;
    if (clock_gettime(CLOCK_REALTIME, &ts) != 0)
        return -1;
    return (int64_t)ts.tv_sec;
}

static uint64_t posix_mono(void *ctx)
{
    struct timespec ts;
    (void)ctx;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static int posix_read(void *ctx, const char *name, uint8_t *buf, size_t size,
                      size_t *len)
{
    struct stat st;
    size_t got = 0;
    int fd, rc = 0;

    (void)ctx;
    fd = open(name, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT || errno == ENOTDIR ? TKR_E_NOT_FOUND : TKR_E_IO;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return TKR_E_IO;
    }
    if ((uint64_t)st.st_size > size) {
        close(fd);
        return TKR_E_BUFFER_TOO_SMALL;
    }
    for (;;) {
        ssize_t n = read(fd, buf + got, size - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            rc = TKR_E_IO;
            break;
        }
        if (n == 0)
            break;
        got += (size_t)n;
        if (got == size) {
            /* Full buffer: anything more means the file grew past it. */
            char extra;
            if (read(fd, &extra, 1) > 0)
                rc = TKR_E_BUFFER_TOO_SMALL;
            break;
        }
    }
    close(fd);
    if (rc == 0)
        *len = got;
    return rc;
}

static int write_all(int fd, const uint8_t *data, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, data, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            if (n == 0)
                errno = EIO;
            return -1;
        }
        data += n;
        len -= (size_t)n;
    }
    return 0;
}

/* The rename is only durable once the directory entry is on disk. */
static int sync_dir(const char *name)
{
    char tmp[4096];
    int fd, rc;

    if (strlen(name) >= sizeof(tmp))
        return -1;
    strcpy(tmp, name);
    fd = open(dirname(tmp), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    rc = fsync(fd);
    close(fd);
    return rc;
}

static int posix_write(void *ctx, const char *name, const uint8_t *data,
                       size_t len, unsigned flags)
{
    char tmp[4096];
    int fd;

    (void)ctx;
    if (snprintf(tmp, sizeof(tmp), "%s.tmp.XXXXXX", name) >= (int)sizeof(tmp))
        return TKR_E_INVALID_ARG;
    fd = mkstemp(tmp); /* created 0600 */
    if (fd < 0)
        return TKR_E_IO;
    /* errno is kept across the cleanup: callers name the cause. */
    if ((!(flags & TKR_STORE_SECRET) && fchmod(fd, 0644) != 0) ||
        write_all(fd, data, len) != 0 || fsync(fd) != 0) {
        int e = errno;
        close(fd);
        unlink(tmp);
        errno = e;
        return TKR_E_IO;
    }
    if (close(fd) != 0 || rename(tmp, name) != 0) {
        int e = errno;
        unlink(tmp);
        errno = e;
        return TKR_E_IO;
    }
    return sync_dir(name) == 0 ? 0 : TKR_E_IO;
}

static int posix_remove(void *ctx, const char *name)
{
    (void)ctx;
    if (unlink(name) != 0 && errno != ENOENT)
        return TKR_E_IO;
    return 0;
}

static void posix_sleep(void *ctx, uint32_t ms)
{
    struct timespec ts = {(time_t)(ms / 1000u), (long)(ms % 1000u) * 1000000L};
    (void)ctx;
    /* Interrupted early is fine: the caller reads the clock again. */
    nanosleep(&ts, NULL);
}

/* ---- TCP transport ---- */

static int wait_fd(int fd, short events, uint32_t timeout_ms)
{
    struct pollfd p = {fd, events, 0};
    int n;

    do
        n = poll(&p, 1, (int)(timeout_ms > 0x7fffffff ? 0x7fffffff : timeout_ms));
    while (n < 0 && errno == EINTR);
    if (n == 0)
        return TKR_E_TIMEOUT;
    return n < 0 ? TKR_E_NET : 0;
}

/* Non-blocking connect bounded by poll; the socket stays non-blocking, as
 * send and recv wait in poll themselves. 0 with *out set, or TKR_E_*. */
static int try_connect(const struct addrinfo *ai, uint32_t timeout_ms, int *out)
{
    int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
    int err = 0, rc;
    socklen_t el = sizeof(err);

    if (fd < 0)
        return TKR_E_NET;
    if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) != 0) {
        close(fd);
        return TKR_E_NET;
    }
    if (connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
        rc = errno == EINPROGRESS ? wait_fd(fd, POLLOUT, timeout_ms) : TKR_E_NET;
        if (rc == 0 && (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el) != 0 || err != 0))
            rc = TKR_E_NET;
        if (rc != 0) {
            close(fd);
            return rc;
        }
    }
    *out = fd;
    return 0;
}

static int tcp_connect(void *ctx, const char *host, uint16_t port,
                       uint32_t timeout_ms)
{
    tkr_posix_tcp_t *c = ctx;
    struct addrinfo hints, *res = NULL, *ai;
    char service[8];
    int rc = TKR_E_NET;

    if (c == NULL || host == NULL || c->fd >= 0)
        return TKR_E_INVALID_ARG;
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    snprintf(service, sizeof(service), "%u", (unsigned)port);
    if (getaddrinfo(host, service, &hints, &res) != 0)
        return TKR_E_NET;
    /* Each address gets the whole timeout: a dead IPv6 route must not eat
     * the IPv4 one's time, and the list is short. */
    for (ai = res; ai != NULL && c->fd < 0; ai = ai->ai_next)
        rc = try_connect(ai, timeout_ms, &c->fd);
    freeaddrinfo(res);
    return c->fd >= 0 ? 0 : rc;
}

static int tcp_send(void *ctx, const uint8_t *buf, size_t len, uint32_t timeout_ms)
{
    const tkr_posix_tcp_t *c = ctx;
    ssize_t n;
    int rc;

    if (c == NULL || c->fd < 0 || (buf == NULL && len > 0))
        return TKR_E_INVALID_ARG;
    if ((rc = wait_fd(c->fd, POLLOUT, timeout_ms)) != 0)
        return rc;
    if (len > 0x7fffffff)
        len = 0x7fffffff; /* the count is returned as an int */
    do
        n = send(c->fd, buf, len, MSG_NOSIGNAL);
    while (n < 0 && errno == EINTR);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
        return TKR_E_TIMEOUT;
    return n <= 0 ? TKR_E_NET : (int)n;
}

static int tcp_recv(void *ctx, uint8_t *buf, size_t len, uint32_t timeout_ms)
{
    const tkr_posix_tcp_t *c = ctx;
    ssize_t n;
    int rc;

    if (c == NULL || c->fd < 0 || (buf == NULL && len > 0))
        return TKR_E_INVALID_ARG;
    if ((rc = wait_fd(c->fd, POLLIN, timeout_ms)) != 0)
        return rc;
    do
        n = recv(c->fd, buf, len > 0x7fffffff ? 0x7fffffff : len, 0);
    while (n < 0 && errno == EINTR);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
        return TKR_E_TIMEOUT;
    return n < 0 ? TKR_E_NET : (int)n;
}

static void tcp_close(void *ctx)
{
    tkr_posix_tcp_t *c = ctx;

    if (c != NULL && c->fd >= 0) {
        close(c->fd);
        c->fd = -1;
    }
}

void tkr_posix_tcp_init(tkr_transport_t *t, tkr_posix_tcp_t *conn)
{
    memset(t, 0, sizeof(*t));
    conn->fd = -1;
    t->ctx = conn;
    t->send = tcp_send;
    t->recv = tcp_recv;
    t->connect = tcp_connect;
    t->close = tcp_close;
}

/* ---- log ---- */

static void posix_log(void *ctx, int level, const char *msg)
{
    const tkr_posix_t *p = ctx;
    static const char *const names[] = {"error", "warning", "info", "debug"};

    if (p != NULL && level > p->log_level)
        return;
    fprintf(stderr, "tokenroll: %s: %s\n",
            names[level < 0 ? 0 : level > 3 ? 3 : level], msg);
}

void tkr_port_posix_init(tkr_port_t *port, tkr_posix_t *ctx)
{
    memset(port, 0, sizeof(*port));
    port->ctx = ctx;
    port->entropy = posix_entropy;
    port->wall_time = posix_wall;
    port->mono_ms = posix_mono;
    port->sleep_ms = posix_sleep;
    port->store_read = posix_read;
    port->store_write = posix_write;
    port->store_remove = posix_remove;
    port->log = posix_log;
}
