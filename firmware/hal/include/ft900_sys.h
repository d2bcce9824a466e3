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

/* The stack (startup/crt0.S, startup/ft900.ld). crt0 paints the RAM between __stack_limit
 * (the end of .bss and .noinit) and 64 bytes below the initial stack pointer with
 * SYS_STACK_PAINT and writes SYS_STACK_GUARD into the lowest word, __stack_limit. */
#define SYS_STACK_PAINT 0x5AA55AA5u
#define SYS_STACK_GUARD 0x57ACC0DEu
/* Bytes of stack ever used: from the top of RAM down to the lowest word that lost its paint. */
uint32_t sys_stack_high_water(void);
/* Bytes between __stack_limit and the top of RAM: the stack's room. */
uint32_t sys_stack_size(void);
/* 1 while the guard word is intact; 0 once the stack reached __stack_limit (it overflowed and
   has overwritten whatever lies below: .noinit, .bss). */
int sys_stack_guard_ok(void);

#endif /* FT900_SYS_H */
