/* qemu_board.h — what the QEMU test firmware shares with its board file. */
#ifndef TKR_QEMU_BOARD_H
#define TKR_QEMU_BOARD_H

#include <stdint.h>

#define QEMU_SECTOR 4096u
/* Seven blobs of two slots (fw_areas in fw_main.c). */
#define QEMU_FLASH_SIZE (7u * 2u * QEMU_SECTOR)

extern uint8_t qemu_flash[QEMU_FLASH_SIZE];
extern int64_t qemu_now;

void qemu_puts(const char *s);
void qemu_exit(int ok);
/* The host's clock, Unix seconds (semihosting SYS_TIME). */
int64_t qemu_wall_seconds(void);

#endif
