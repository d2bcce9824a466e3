/*
 * ft900_uart_regs.h - UART0/UART1, 16C550-compatible with 650/750/950 extensions
 * (AN_324 section 13). Byte registers. AN_324 calls the two blocks "UART 1/UART 2";
 * this firmware numbers them 0 and 1 like the pins and MSC0CFG bits.
 *
 * Bases (UART0_BASE, UART1_BASE), register offsets (UART_RBR, UART_LCR, ...), indexed
 * registers (UART_IDX_ACR, ...), reset values and bit fields (UART_LSR_THRE, ...) come from
 * the generated ft900_regs.h. Which register an offset reaches depends on LCR (AN_324).
 */
#ifndef FT900_UART_REGS_H
#define FT900_UART_REGS_H

#include "ft900_io.h"
#include "ft900_regs.h"

#define UART_REG(base, off) FT900_REG8((base) + (off))

/* UART_ISR interrupt identification values (Tables 13.8/13.9); bit 0 = 1: nothing pending. */
#define UART_ISR_ID_MASK    0x3Fu
#define UART_ISR_LINE       0x06u
#define UART_ISR_RX         0x04u
#define UART_ISR_RX_TIMEOUT 0x0Cu
#define UART_ISR_TX         0x02u
#define UART_ISR_MODEM      0x00u

/* UART_FCR RX trigger level values (Table 13.10). */
#define UART_FCR_RX_TRIG_1  0x00u

/* UART_LCR values (Table 13.15). */
#define UART_LCR_8BITS      0x03u
#define UART_LCR_2STOP      0x04u

/* Baud-rate clock: the 100 MHz peripheral clock. */
#define UART_CLOCK_HZ       100000000u

#endif /* FT900_UART_REGS_H */
