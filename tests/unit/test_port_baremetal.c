/* test_port_baremetal.c — the bare-metal port's two-slot flash store on a
 * simulated NOR flash, with power cuts.
 *
 * The flash fake behaves as NOR does: erase sets a whole sector to 0xFF,
 * programming can only clear bits and only cells that are erased (the fake
 * fails the test when the port programs a cell twice), in units of
 * TKR_BM_FLASH_UNIT at unit-aligned addresses. A power cut at step k stops
 * the k-th erase or program call half way (an erase leaves each byte
 * somewhere between its old value and 0xFF, a program leaves a prefix of
 * units written and one unit torn) and makes every later call fail, as a
 * dead chip would; then the "reboot" reads the store again. After every
 * cut, at every step of a write, a secret write and a remove, the blob
 * reads as the old content or the new one, never anything else, and the
 * store takes the next write.
 *
 * The port is compiled into this test (it is a template, not part of the
 * library); the Makefile builds it once per program unit: 8 (default),
 * and 1, 2 and 32 (test_port_baremetal_uN), and once with TKR_PORT_LWIP
 * over a shim that maps lwIP's socket names onto the host's
 * (tests/unit/lwip/), so the lwIP TCP transport runs against a loopback
 * peer (test_port_baremetal_lwip). */
#define _GNU_SOURCE /* memmem */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../port/baremetal/port_baremetal.c"

#define SECTOR 256u
#define SLOT (4u * SECTOR)
#define BASE 0x08040000u
#define FLASH_SIZE (4u * SLOT)

static uint8_t flash[FLASH_SIZE];
static long steps;        /* erase/program calls so far */
static long cut_at = -1;  /* the step the power dies in, -1: never */
static int dead;          /* power is off: every call fails */
static int read_fails;    /* board_flash_read reports a bus error */
static uint32_t rnd_state = 1;
static uint32_t tick;
static int rng_fails;
static int64_t rtc = -1;

static uint32_t rnd(void)
{
    /* xorshift32: a seeded, repeatable source for torn bits */
    rnd_state ^= rnd_state << 13;
    rnd_state ^= rnd_state >> 17;
    rnd_state ^= rnd_state << 5;
    return rnd_state;
}

static size_t off(uint32_t addr, size_t len)
{
    assert_true(addr >= BASE && addr - BASE + len <= FLASH_SIZE);
    return addr - BASE;
}

/* ---- the board ---- */

int board_rng_read(uint8_t *out, size_t len)
{
    size_t i;
    for (i = 0; i < len; i++)
        out[i] = (uint8_t)rnd();
    return rng_fails;
}

int64_t board_rtc_seconds(void) { return rtc; }

uint32_t board_tick_ms(void) { return tick; }

int board_flash_read(uint32_t addr, void *buf, size_t len)
{
    if (dead || read_fails)
        return -1;
    memcpy(buf, flash + off(addr, len), len);
    return 0;
}

int board_flash_erase(uint32_t addr, size_t len)
{
    size_t o = off(addr, len), i;

    if (dead)
        return -1;
    assert_int_equal((addr - BASE) % SECTOR, 0);
    assert_int_equal(len % SECTOR, 0);
    if (steps++ == cut_at) {
        /* Cut mid-erase: each bit may or may not have reached 1. */
        for (i = 0; i < len; i++)
            flash[o + i] |= (uint8_t)rnd();
        dead = 1;
        return -1;
    }
    memset(flash + o, 0xff, len);
    return 0;
}

int board_flash_write(uint32_t addr, const void *data, size_t len)
{
    const uint8_t *d = data;
    size_t o = off(addr, len), i, torn_unit = (size_t)-1;

    if (dead)
        return -1;
    assert_int_equal((addr - BASE) % TKR_BM_FLASH_UNIT, 0);
    assert_int_equal(len % TKR_BM_FLASH_UNIT, 0);
    for (i = 0; i < len; i++)
        if (flash[o + i] != 0xff)
            fail_msg("programming a cell that is not erased at +0x%zx", o + i);
    if (steps++ == cut_at) {
        torn_unit = rnd() % (len / TKR_BM_FLASH_UNIT);
        dead = 1;
    }
    for (i = 0; i < len; i++) {
        size_t unit = i / TKR_BM_FLASH_UNIT;
        if (unit < torn_unit)
            flash[o + i] &= d[i];
        else if (unit == torn_unit)
            flash[o + i] &= (uint8_t)(d[i] | rnd()); /* some bits cleared */
    }
    return dead ? -1 : 0;
}

/* ---- fixture ---- */

static const tkr_bm_area_t areas[] = {
    {"client.key", BASE, SLOT, SECTOR},
    {"client.crt", BASE + 2 * SLOT, SLOT, SECTOR},
};
static tkr_baremetal_t bm;
static tkr_port_t port;

static void power_on(void)
{
    dead = 0;
    cut_at = -1;
    read_fails = 0;
    bm.areas = areas;
    bm.n_areas = 2;
    bm.log_level = TKR_LOG_ERROR;
    tkr_port_baremetal_init(&port, &bm);
}

static int setup(void **state)
{
    (void)state;
    memset(flash, 0xff, sizeof(flash));
    steps = 0;
    rnd_state = 1;
    rng_fails = 0;
    rtc = -1;
    tick = 0;
    power_on();
    return 0;
}

static void fill(uint8_t *buf, size_t len, uint32_t seed)
{
    size_t i;
    for (i = 0; i < len; i++)
        buf[i] = (uint8_t)(seed * 131u + i * 7u + (i >> 3));
}

/* The blob reads as exactly want[0..want_len) (want NULL: absent). */
static int reads_as(const char *name, const uint8_t *want, size_t want_len)
{
    uint8_t buf[SLOT];
    size_t len = 0;
    int rc = port.store_read(port.ctx, name, buf, sizeof(buf), &len);

    if (want == NULL)
        return rc == TKR_E_NOT_FOUND;
    return rc == 0 && len == want_len && memcmp(buf, want, len) == 0;
}

/* ---- plain behaviour ---- */

static void test_round_trip_and_replace(void **state)
{
    uint8_t a[300], b[957];
    uint8_t buf[8];
    size_t len;
    (void)state;
    fill(a, sizeof(a), 1);
    fill(b, sizeof(b), 2);
    assert_true(reads_as("client.key", NULL, 0));
    assert_int_equal(port.store_write(port.ctx, "client.key", a, sizeof(a), 0), 0);
    assert_true(reads_as("client.key", a, sizeof(a)));
    assert_int_equal(port.store_write(port.ctx, "client.key", b, sizeof(b), 0), 0);
    assert_true(reads_as("client.key", b, sizeof(b)));
    assert_int_equal(port.store_write(port.ctx, "client.key", a, 1, 0), 0);
    assert_true(reads_as("client.key", a, 1));
    assert_int_equal(port.store_write(port.ctx, "client.key", NULL, 0, 0), 0);
    assert_true(reads_as("client.key", a, 0));
    /* the other blob is untouched */
    assert_true(reads_as("client.crt", NULL, 0));
    assert_int_equal(port.store_write(port.ctx, "client.key", a, sizeof(a), 0), 0);
    assert_int_equal(port.store_read(port.ctx, "client.key", buf, sizeof(buf), &len),
                     TKR_E_BUFFER_TOO_SMALL);
}

static void test_limits_and_unknown_names(void **state)
{
    uint8_t big[SLOT];
    (void)state;
    memset(big, 0x5a, sizeof(big));
    assert_int_equal(port.store_write(port.ctx, "client.key", big, SLOT - TKR_BM_SLOT_OVERHEAD + 1, 0),
                     TKR_E_TOO_LARGE);
    assert_int_equal(port.store_write(port.ctx, "client.key", big, SLOT - TKR_BM_SLOT_OVERHEAD, 0), 0);
    assert_true(reads_as("client.key", big, SLOT - TKR_BM_SLOT_OVERHEAD));
    assert_int_equal(port.store_write(port.ctx, "nosuch", big, 1, 0), TKR_E_INVALID_ARG);
    assert_true(reads_as("nosuch", NULL, 0));
    assert_int_equal(port.store_remove(port.ctx, "nosuch"), 0);
}

/* A replaced secret leaves no copy in flash; a non-secret keeps one. */
static void test_secret_replacement_erases_the_old_copy(void **state)
{
    uint8_t old[64], fresh[64];
    (void)state;
    memset(old, 0xa5, sizeof(old));
    memset(fresh, 0x3c, sizeof(fresh));
    assert_int_equal(port.store_write(port.ctx, "client.key", old, sizeof(old), TKR_STORE_SECRET), 0);
    assert_int_equal(port.store_write(port.ctx, "client.key", fresh, sizeof(fresh), TKR_STORE_SECRET), 0);
    assert_true(reads_as("client.key", fresh, sizeof(fresh)));
    assert_null(memmem(flash, 2 * SLOT, old, sizeof(old)));
    assert_int_equal(port.store_write(port.ctx, "client.crt", old, sizeof(old), 0), 0);
    assert_int_equal(port.store_write(port.ctx, "client.crt", fresh, sizeof(fresh), 0), 0);
    assert_non_null(memmem(flash + 2 * SLOT, 2 * SLOT, old, sizeof(old)));
}

/* Removal is a tombstone: the older copy in the other slot never comes
 * back, and removing twice is fine. */
static void test_remove_does_not_resurrect(void **state)
{
    uint8_t a[40], b[40];
    (void)state;
    fill(a, sizeof(a), 3);
    fill(b, sizeof(b), 4);
    assert_int_equal(port.store_write(port.ctx, "client.key", a, sizeof(a), 0), 0);
    assert_int_equal(port.store_write(port.ctx, "client.key", b, sizeof(b), 0), 0);
    assert_int_equal(port.store_remove(port.ctx, "client.key"), 0);
    assert_true(reads_as("client.key", NULL, 0));
    power_on();
    assert_true(reads_as("client.key", NULL, 0));
    assert_int_equal(port.store_remove(port.ctx, "client.key"), 0);
    assert_null(memmem(flash, 2 * SLOT, a, sizeof(a)));
    assert_int_equal(port.store_write(port.ctx, "client.key", a, sizeof(a), 0), 0);
    assert_true(reads_as("client.key", a, sizeof(a)));
}

/* An unreadable flash is an I/O error, never "absent" (which would let an
 * older slot win or a caller think it has no key). */
static void test_read_errors_are_not_absence(void **state)
{
    uint8_t a[16], buf[32];
    size_t len;
    (void)state;
    fill(a, sizeof(a), 5);
    assert_int_equal(port.store_write(port.ctx, "client.key", a, sizeof(a), 0), 0);
    read_fails = 1;
    assert_int_equal(port.store_read(port.ctx, "client.key", buf, sizeof(buf), &len), TKR_E_IO);
    assert_int_equal(port.store_write(port.ctx, "client.key", a, sizeof(a), 0), TKR_E_IO);
    read_fails = 0;
    assert_true(reads_as("client.key", a, sizeof(a)));
}

/* Bit rot in a committed slot's data: the CRC refuses it and the older
 * copy is not served in its place when the newer one is what was read. */
static void test_corrupt_data_is_refused(void **state)
{
    uint8_t a[100], b[100];
    uint8_t *p;
    (void)state;
    fill(a, sizeof(a), 6);
    fill(b, sizeof(b), 7);
    assert_int_equal(port.store_write(port.ctx, "client.key", a, sizeof(a), 0), 0);
    assert_int_equal(port.store_write(port.ctx, "client.key", b, sizeof(b), 0), 0);
    p = memmem(flash, 2 * SLOT, b, sizeof(b));
    assert_non_null(p);
    p[50] &= 0xfe; /* a bit falls to 0 */
    if (p[50] == b[50])
        p[50] &= 0xfd;
    /* The damaged newer slot no longer counts: the previous copy is the
     * newest intact one. */
    assert_true(reads_as("client.key", a, sizeof(a)));
}

static void test_clocks_and_entropy(void **state)
{
    uint8_t b[8];
    uint64_t t1, t2, t3;
    (void)state;
    assert_int_equal(port.wall_time(port.ctx), -1);
    rtc = 1767225600;
    assert_int_equal(port.wall_time(port.ctx), 1767225600);
    tick = 0xfffffff0u;
    t1 = port.mono_ms(port.ctx);
    tick = 0x10u; /* the 32-bit tick wrapped */
    t2 = port.mono_ms(port.ctx);
    tick = 0x20u;
    t3 = port.mono_ms(port.ctx);
    assert_true(t2 > t1 && t2 - t1 == 0x20u && t3 - t2 == 0x10u);
    assert_int_equal(port.entropy(port.ctx, b, sizeof(b)), 0);
    rng_fails = 1;
    assert_int_equal(port.entropy(port.ctx, b, sizeof(b)), TKR_E_ENTROPY);
}

/* ---- power cuts ---- */

enum { OP_WRITE, OP_WRITE_SECRET, OP_REMOVE };

static int run_op(int op, const uint8_t *data, size_t len)
{
    switch (op) {
    case OP_WRITE: return port.store_write(port.ctx, "client.key", data, len, 0);
    case OP_WRITE_SECRET:
        return port.store_write(port.ctx, "client.key", data, len, TKR_STORE_SECRET);
    default: return port.store_remove(port.ctx, "client.key");
    }
}

/* From a store holding `old` (NULL: empty; prev: an older copy in the
 * other slot too), run op with a cut at every step in turn; after each
 * cut the blob must read as old or as the new content, and the store must
 * take a further write. Returns the number of cut points tried. */
static long cut_everywhere(int op, const uint8_t *prev, size_t prev_len,
                           const uint8_t *old, size_t old_len,
                           const uint8_t *data, size_t len, uint32_t seed)
{
    long k, total;
    uint8_t after[32];

    fill(after, sizeof(after), seed + 99);
    for (k = 0;; k++) {
        int rc;
        memset(flash, 0xff, sizeof(flash));
        power_on();
        if (prev != NULL)
            assert_int_equal(port.store_write(port.ctx, "client.key", prev, prev_len, 0), 0);
        if (old != NULL)
            assert_int_equal(port.store_write(port.ctx, "client.key", old, old_len, 0), 0);
        rnd_state = seed * 2654435761u + (uint32_t)k + 1u;
        steps = 0;
        cut_at = k;
        rc = run_op(op, data, len);
        total = steps;
        power_on(); /* reboot */
        if (!(reads_as("client.key", old, old_len) ||
              reads_as("client.key", op == OP_REMOVE ? NULL : data, len)))
            fail_msg("op %d, cut at step %ld of %ld (seed %u, unit %d): neither old nor new",
                     op, k, total, seed, TKR_BM_FLASH_UNIT);
        if (k >= total) {
            /* No cut happened: the operation completed and reports it. */
            assert_int_equal(rc, 0);
            assert_true(reads_as("client.key", op == OP_REMOVE ? NULL : data, len));
            break;
        }
        /* Success despite the cut only where the new copy was already
         * committed (the cut hit the erase of a replaced secret's stale
         * slot): then it must read as new. */
        if (rc == 0)
            assert_true(reads_as("client.key", op == OP_REMOVE ? NULL : data, len));
        /* A remove cut after its tombstone: finishing it must not bring
         * the old copy back. */
        if (op == OP_REMOVE && reads_as("client.key", NULL, 0)) {
            assert_int_equal(port.store_remove(port.ctx, "client.key"), 0);
            assert_true(reads_as("client.key", NULL, 0));
        }
        assert_int_equal(port.store_write(port.ctx, "client.key", after, sizeof(after), 0), 0);
        assert_true(reads_as("client.key", after, sizeof(after)));
    }
    return k;
}

static void test_power_cut_at_every_step(void **state)
{
    uint8_t prev[200], old[333], fresh[517];
    static const size_t lens[] = {0, 1, 7, 64, 517};
    long cuts = 0;
    uint32_t seed;
    size_t i;
    (void)state;
    fill(prev, sizeof(prev), 10);
    fill(old, sizeof(old), 11);
    fill(fresh, sizeof(fresh), 12);
    for (seed = 1; seed <= 12; seed++) {
        for (i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
            /* first write into an empty store */
            cuts += cut_everywhere(OP_WRITE, NULL, 0, NULL, 0, fresh, lens[i], seed);
            /* replacing, with and without an older copy behind */
            cuts += cut_everywhere(OP_WRITE, NULL, 0, old, sizeof(old), fresh, lens[i], seed);
            cuts += cut_everywhere(OP_WRITE, prev, sizeof(prev), old, sizeof(old), fresh,
                                   lens[i], seed);
            cuts += cut_everywhere(OP_WRITE_SECRET, prev, sizeof(prev), old, sizeof(old),
                                   fresh, lens[i], seed);
        }
        cuts += cut_everywhere(OP_REMOVE, NULL, 0, old, sizeof(old), NULL, 0, seed);
        cuts += cut_everywhere(OP_REMOVE, prev, sizeof(prev), old, sizeof(old), NULL, 0, seed);
    }
    print_message("unit %d: %ld power cuts, each followed by a check and a write\n",
                  TKR_BM_FLASH_UNIT, cuts);
    assert_true(cuts > 1000);
}

#if defined(TKR_PORT_LWIP)
#include "test_net.h"

static void test_lwip_tcp_transport_contract(void **state)
{
    tkr_bm_tcp_t conn;
    tkr_transport_t t;
    (void)state;
    tkr_bm_tcp_init(&t, &conn);
    check_tcp_transport(&t, &conn.fd);
}

static void test_lwip_tcp_refused_and_unresolvable(void **state)
{
    tkr_bm_tcp_t conn;
    tkr_transport_t t;
    (void)state;
    tkr_bm_tcp_init(&t, &conn);
    check_tcp_refused(&t, &conn.fd);
}
#endif

#define T(f) cmocka_unit_test_setup_teardown(f, setup, NULL)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_round_trip_and_replace),
        T(test_limits_and_unknown_names),
        T(test_secret_replacement_erases_the_old_copy),
        T(test_remove_does_not_resurrect),
        T(test_read_errors_are_not_absence),
        T(test_corrupt_data_is_refused),
        T(test_clocks_and_entropy),
        T(test_power_cut_at_every_step),
#if defined(TKR_PORT_LWIP)
        T(test_lwip_tcp_transport_contract),
        T(test_lwip_tcp_refused_and_unresolvable),
#endif
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
