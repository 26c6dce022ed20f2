/* fw_online.h — the online mode of the QEMU enrollment firmware, and the
 * console helpers it shares with fw_main.c. */
#ifndef TKR_FW_ONLINE_H
#define TKR_FW_ONLINE_H

#include <stdint.h>

#include "tkr_port_baremetal.h"
#include "tokenroll/enroll.h"

/* Where the test loads a startup kit (-device loader,file=KIT,addr=...,
 * force-raw=on): 2 MB into the code SRAM, far above the image. */
#define FW_KIT_ADDR 0x00200000u

/* Both are linked into enroll-fw-online.elf only; weak, so that in the
 * budgeted image (fw_main.c alone) they stay undefined, i.e. null.
 *
 * 1 when a startup kit is loaded at FW_KIT_ADDR: the firmware then
 * enrolls online instead of running the offline self-test. */
__attribute__((weak)) int fw_kit_present(void);

/* The online mode (fw_online.c): the kit into the flash store, then
 * tkr_enroll_run over the UART stream. 0 when every step held. ws is the
 * firmware's static workspace. */
__attribute__((weak)) int fw_online(tkr_enroll_t *ws);

/* fw_main.c: the flash store's blob table, for both modes; */
#define FW_N_AREAS 7
extern const tkr_bm_area_t fw_areas[FW_N_AREAS];

/* "PASS: what" or "FAIL: what: error", returning rc; a
 * labelled decimal; the stack's high-water mark in bytes. */
int step(const char *what, int rc);
void put_u(const char *label, uint32_t v, const char *unit);
uint32_t fw_stack_used(void);

#endif
