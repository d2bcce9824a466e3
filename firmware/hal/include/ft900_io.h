/*
 * ft900_io.h - register access helpers for the FT900 (FT32 CPU).
 *
 * Data-space addresses are used raw (0x10000 and up for I/O). The CPU truncates data
 * addresses to 17 bits, so these are exactly the addresses AN_324 lists.
 */
#ifndef FT900_IO_H
#define FT900_IO_H

#include <stdint.h>

#define FT900_REG8(addr)  (*(volatile uint8_t *)(uintptr_t)(addr))
#define FT900_REG16(addr) (*(volatile uint16_t *)(uintptr_t)(addr))
#define FT900_REG32(addr) (*(volatile uint32_t *)(uintptr_t)(addr))

/* Compiler barrier: memory accesses are not moved across it. */
#define FT900_BARRIER() __asm__ volatile("" ::: "memory")

/* One `nop` (add.b $r0,$r0,0). */
#define FT900_NOP() __asm__ volatile("nop")

#endif /* FT900_IO_H */
