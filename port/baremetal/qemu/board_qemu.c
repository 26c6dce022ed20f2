/* board_qemu.c — the board functions of tkr_port_baremetal.h for QEMU's
 * mps2-an386, for tests only: the "flash" is a RAM array with NOR
 * semantics (erase to 0xFF, programming clears bits), the clock and the
 * console are ARM semihosting, and the RNG is a fixed xorshift because the
 * board has no TRNG. A real board must never take this RNG. */
#include <stdint.h>
#include <string.h>

#include "qemu_board.h"
#include "tkr_port_baremetal.h"

uint8_t qemu_flash[QEMU_FLASH_SIZE];

/* ARM semihosting call: bkpt 0xAB with the operation in r0, the argument
 * in r1; the result comes back in r0. */
static int semihost(int op, const void *arg)
{
    register int r0 __asm__("r0") = op;
    register const void *r1 __asm__("r1") = arg;
    __asm__ volatile("bkpt 0xab" : "+r"(r0) : "r"(r1) : "memory");
    return r0;
}

void qemu_puts(const char *s)
{
    semihost(0x04, s); /* SYS_WRITE0 */
}

void qemu_exit(int ok)
{
    /* SYS_EXIT: ADP_Stopped_ApplicationExit ends QEMU with status 0, any
     * other reason with 1. */
    semihost(0x18, (const void *)(uintptr_t)(ok ? 0x20026 : 0x20024));
    for (;;)
        ;
}

int board_rng_read(uint8_t *out, size_t len)
{
    static uint64_t x = 0x2545F4914F6CDD1Du;
    size_t i;

    for (i = 0; i < len; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        out[i] = (uint8_t)(x >> 24);
    }
    return 0;
}

int64_t qemu_wall_seconds(void)
{
    return (int64_t)(uint32_t)semihost(0x11, 0); /* SYS_TIME */
}

int64_t qemu_now = -1;

int64_t board_rtc_seconds(void)
{
    return qemu_now;
}

uint32_t board_tick_ms(void)
{
    return (uint32_t)semihost(0x10, 0) * 10u; /* SYS_CLOCK: centiseconds */
}

int board_flash_read(uint32_t addr, void *buf, size_t len)
{
    if (addr > QEMU_FLASH_SIZE || len > QEMU_FLASH_SIZE - addr)
        return -1;
    memcpy(buf, qemu_flash + addr, len);
    return 0;
}

int board_flash_write(uint32_t addr, const void *data, size_t len)
{
    const uint8_t *d = data;
    size_t i;

    if (addr > QEMU_FLASH_SIZE || len > QEMU_FLASH_SIZE - addr)
        return -1;
    for (i = 0; i < len; i++)
        qemu_flash[addr + i] &= d[i];
    return 0;
}

int board_flash_erase(uint32_t addr, size_t len)
{
    if (addr > QEMU_FLASH_SIZE || len > QEMU_FLASH_SIZE - addr)
        return -1;
    memset(qemu_flash + addr, 0xFF, len);
    return 0;
}

void board_log(int level, const char *msg)
{
    (void)level;
    qemu_puts("log: ");
    qemu_puts(msg);
    qemu_puts("\n");
}
