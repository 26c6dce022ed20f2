/* test_port_posix.c — the POSIX port: entropy, clocks, atomic storage with
 * modes, and the TCP transport with timeouts, against a real loopback
 * peer. Every test gets its own directory and port, so any order works. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "test_net.h"
#include "test_util.h"
#include "tkr_port_posix.h"
#include "tokenroll/error.h"

static tkr_posix_t ctx = {TKR_LOG_ERROR, -1};
static tkr_port_t port;
static char dir[64];

static int setup(void **state)
{
    (void)state;
    ctx.log_level = TKR_LOG_ERROR;
    ctx.fixed_now = -1;
    tkr_port_posix_init(&port, &ctx);
    strcpy(dir, "/tmp/tkr-port-XXXXXX");
    return mkdtemp(dir) == NULL ? -1 : 0;
}

static int teardown(void **state)
{
    char cmd[128];
    (void)state;
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static void test_entropy_fills_and_differs(void **state)
{
    uint8_t a[64], b[64], zero[64] = {0};
    (void)state;
    assert_int_equal(port.entropy(port.ctx, a, sizeof(a)), 0);
    assert_int_equal(port.entropy(port.ctx, b, sizeof(b)), 0);
    assert_memory_not_equal(a, b, sizeof(a));
    assert_memory_not_equal(a, zero, sizeof(a));
}

static void test_wall_clock_is_now_and_can_be_pinned(void **state)
{
    int64_t t = port.wall_time(port.ctx);
    (void)state;
    assert_true(t > 1700000000 && t - (int64_t)time(NULL) <= 1 && (int64_t)time(NULL) - t <= 1);
    ctx.fixed_now = 1767225600;
    assert_int_equal(port.wall_time(port.ctx), 1767225600);
    ctx.fixed_now = -1;
}

static void test_monotonic_clock_advances(void **state)
{
    uint64_t a = port.mono_ms(port.ctx), b;
    (void)state;
    usleep(20000);
    b = port.mono_ms(port.ctx);
    assert_true(b >= a + 15 && b < a + 2000);
}

static void path_in(char *out, size_t size, const char *name)
{
    snprintf(out, size, "%s/%s", dir, name);
}

static int count_files(void)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int n = 0;

    assert_non_null(d);
    while ((e = readdir(d)) != NULL)
        if (e->d_name[0] != '.')
            n++;
    closedir(d);
    return n;
}

static void test_store_round_trip_replaces_atomically(void **state)
{
    char p[128], buf[64];
    size_t len;
    (void)state;
    path_in(p, sizeof(p), "blob");
    assert_int_equal(port.store_write(port.ctx, p, (const uint8_t *)"first", 5, 0), 0);
    assert_int_equal(port.store_write(port.ctx, p, (const uint8_t *)"second!", 7, 0), 0);
    assert_int_equal(port.store_read(port.ctx, p, (uint8_t *)buf, sizeof(buf), &len), 0);
    assert_int_equal(len, 7);
    assert_memory_equal(buf, "second!", 7);
    assert_int_equal(count_files(), 1); /* no temporary file left behind */
}

static void test_store_modes_secret_0600_public_0644(void **state)
{
    char s[128], p[128];
    struct stat st;
    (void)state;
    path_in(s, sizeof(s), "key.pem");
    path_in(p, sizeof(p), "cert.pem");
    assert_int_equal(port.store_write(port.ctx, s, (const uint8_t *)"k", 1, TKR_STORE_SECRET), 0);
    assert_int_equal(port.store_write(port.ctx, p, (const uint8_t *)"c", 1, 0), 0);
    assert_int_equal(stat(s, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal(stat(p, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0644);
}

static void test_store_read_missing_and_too_small(void **state)
{
    char p[128], buf[4];
    size_t len;
    (void)state;
    path_in(p, sizeof(p), "absent");
    assert_int_equal(port.store_read(port.ctx, p, (uint8_t *)buf, sizeof(buf), &len),
                     TKR_E_NOT_FOUND);
    path_in(p, sizeof(p), "big");
    assert_int_equal(port.store_write(port.ctx, p, (const uint8_t *)"0123456789", 10, 0), 0);
    assert_int_equal(port.store_read(port.ctx, p, (uint8_t *)buf, sizeof(buf), &len),
                     TKR_E_BUFFER_TOO_SMALL);
    assert_int_equal(port.store_read(port.ctx, dir, (uint8_t *)buf, sizeof(buf), &len), TKR_E_IO);
}

static void test_store_write_into_missing_folder_fails_cleanly(void **state)
{
    char p[128];
    (void)state;
    path_in(p, sizeof(p), "no/such/folder/file");
    assert_int_equal(port.store_write(port.ctx, p, (const uint8_t *)"x", 1, 0), TKR_E_IO);
}

static void test_store_remove_is_idempotent(void **state)
{
    char p[128], buf[8];
    size_t len;
    (void)state;
    path_in(p, sizeof(p), "gone");
    assert_int_equal(port.store_write(port.ctx, p, (const uint8_t *)"x", 1, 0), 0);
    assert_int_equal(port.store_remove(port.ctx, p), 0);
    assert_int_equal(port.store_remove(port.ctx, p), 0);
    assert_int_equal(port.store_read(port.ctx, p, (uint8_t *)buf, sizeof(buf), &len),
                     TKR_E_NOT_FOUND);
}

static void test_tcp_transport_contract(void **state)
{
    tkr_posix_tcp_t conn;
    tkr_transport_t t;
    (void)state;
    tkr_posix_tcp_init(&t, &conn);
    check_tcp_transport(&t, &conn.fd);
}

static void test_tcp_connect_refused_and_unresolvable(void **state)
{
    tkr_posix_tcp_t conn;
    tkr_transport_t t;
    (void)state;
    tkr_posix_tcp_init(&t, &conn);
    check_tcp_refused(&t, &conn.fd);
}

/* A transport that claims progress it did not make must not hang
 * send_all. */
static int zero_send(void *c, const uint8_t *b, size_t l, uint32_t ms)
{
    (void)c; (void)b; (void)l; (void)ms;
    return 0;
}

static void test_send_all_refuses_a_transport_without_progress(void **state)
{
    tkr_transport_t t = {NULL, zero_send, NULL, NULL, NULL};
    (void)state;
    assert_int_equal(tkr_transport_send_all(&t, (const uint8_t *)"x", 1, 10), TKR_E_NET);
    assert_int_equal(tkr_transport_send_all(&t, NULL, 0, 10), 0);
    assert_int_equal(tkr_transport_send_all(NULL, (const uint8_t *)"x", 1, 10), TKR_E_INVALID_ARG);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_entropy_fills_and_differs),
        T(test_wall_clock_is_now_and_can_be_pinned),
        T(test_monotonic_clock_advances),
        T(test_store_round_trip_replaces_atomically),
        T(test_store_modes_secret_0600_public_0644),
        T(test_store_read_missing_and_too_small),
        T(test_store_write_into_missing_folder_fails_cleanly),
        T(test_store_remove_is_idempotent),
        T(test_tcp_transport_contract),
        T(test_tcp_connect_refused_and_unresolvable),
        T(test_send_all_refuses_a_transport_without_progress),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
