/*
 * ft900_sys.h - system block: chip identification, clock enables, pad functions, delays.
 */
#ifndef FT900_SYS_H
#define FT900_SYS_H

#include <stdint.h>
#include "ft900_sys_regs.h"

/* HIPID: [31:16] model (0x0900 = FT900), [15:0] revision (rev B = 0x0000/0x0001). */
uint32_t sys_chip_id(void);
/* 1 on an FT900 (any revision): HIPID model 0x0900 (HIPID >> 20 == 0x090 as the FT900
   start-up code tests, with the low model digit 0). */
int sys_is_ft900(void);
/* 1 on revision B (the revision AN_324 v1.2 describes). */
int sys_is_rev_b(void);

/* Peripheral clock enables (CLKCFG bits). */
void sys_clock_enable(uint32_t clkcfg_bits);
void sys_clock_disable(uint32_t clkcfg_bits);

/* Sets the function field (0 = GPIO, 1..3 = special functions) of pad `pin`, keeping its
   drive, pull, Schmitt and slew settings. Returns 0 or -1 for a bad pin. */
int sys_pad_function(unsigned pin, unsigned function);

/* Busy-waits `us` microseconds: a loop of exactly 4 cycles per iteration at 100 MHz. */
void sys_delay_us(uint32_t us);

/* Idles until the next interrupt has been handled, then returns (interrupts must be enabled).
 * A busy wait on silicon (the FT32 has no wait instruction); free in the simulator, which
 * skips the idle loop to its next event. Defined in startup/crt0.S. */
void sys_wait_for_interrupt(void);

/* Ethernet block power-up as the FT900 requires it: PHY out of power-down, MAC clock on,
   PHY reset pulse (MSC0CFG.MAC_RESET_PHY) held for 10 ms. */
void sys_enable_ethernet(void);

#endif /* FT900_SYS_H */
