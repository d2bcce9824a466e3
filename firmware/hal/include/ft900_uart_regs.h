/*
 * ft900_uart_regs.h - UART0/UART1, 16C550-compatible with 650/750/950 extensions
 * (AN_324 section 13). Byte registers. AN_324 calls the two blocks "UART 1/UART 2";
 * this firmware numbers them 0 and 1 like the pins and MSC0CFG bits.
 */
#ifndef FT900_UART_REGS_H
#define FT900_UART_REGS_H

#include "ft900_io.h"

#define UART0_BASE          0x10320u
#define UART1_BASE          0x10330u

#define UART_REG(base, off) FT900_REG8((base) + (off))

/* Offsets (Table 13.1). Which register an offset reaches depends on LCR (see AN_324). */
#define UART_RBR            0x0     /* read,  LCR[7] = 0 */
#define UART_THR            0x0     /* write, LCR[7] = 0 */
#define UART_DIV_LSB        0x0     /* LCR[7] = 1 */
#define UART_INT_ENABLE     0x1     /* IER, LCR[7] = 0 */
#define UART_DIV_MSB        0x1     /* LCR[7] = 1 */
#define UART_INT_STATUS     0x2     /* ISR, read */
#define UART_FCR            0x2     /* write */
#define UART_EFR            0x2     /* LCR = 0xBF */
#define UART_LCR            0x3
#define UART_MCR            0x4
#define UART_LSR            0x5     /* read */
#define UART_ICR            0x5     /* write: indexed control register data */
#define UART_MSR            0x6
#define UART_SPR            0x7     /* scratch / ICR index */

/* UART_INT_ENABLE (Table 13.7). */
#define UART_IER_RX         0x01u   /* received data available */
#define UART_IER_TX         0x02u   /* THR empty */
#define UART_IER_LINE       0x04u   /* receiver line status */
#define UART_IER_MODEM      0x08u

/* UART_INT_STATUS (Tables 13.8/13.9): bit 0 = 1 when nothing is pending. */
#define UART_ISR_NONE       0x01u
#define UART_ISR_ID_MASK    0x3Fu
#define UART_ISR_LINE       0x06u
#define UART_ISR_RX         0x04u
#define UART_ISR_RX_TIMEOUT 0x0Cu
#define UART_ISR_TX         0x02u
#define UART_ISR_MODEM      0x00u

/* UART_FCR (Table 13.10). */
#define UART_FCR_ENABLE     0x01u
#define UART_FCR_RX_RESET   0x02u
#define UART_FCR_TX_RESET   0x04u
#define UART_FCR_RX_TRIG_1  0x00u

/* UART_LCR (Table 13.15). */
#define UART_LCR_8BITS      0x03u
#define UART_LCR_2STOP      0x04u
#define UART_LCR_PARITY     0x08u
#define UART_LCR_EVEN       0x10u
#define UART_LCR_BREAK      0x40u
#define UART_LCR_DLAB       0x80u

/* UART_MCR (Table 13.16). */
#define UART_MCR_DTR        0x01u
#define UART_MCR_RTS        0x02u
#define UART_MCR_LOOPBACK   0x10u
#define UART_MCR_PRESCALER  0x80u

/* UART_LSR (Table 13.17). */
#define UART_LSR_DR         0x01u
#define UART_LSR_OE         0x02u
#define UART_LSR_PE         0x04u
#define UART_LSR_FE         0x08u
#define UART_LSR_BI         0x10u
#define UART_LSR_THRE       0x20u
#define UART_LSR_TEMT       0x40u
#define UART_LSR_RX_ERROR   0x80u

/* Indexed control registers (written through SPR = index, ICR = value). */
#define UART_IDX_ACR        0x00u
#define UART_IDX_CPR        0x01u
#define UART_IDX_TCR        0x02u
#define UART_IDX_CKS        0x03u
#define UART_IDX_TTL        0x04u
#define UART_IDX_RTL        0x05u
#define UART_IDX_CSR        0x0Cu
#define UART_IDX_RFC        0x0Fu

/* Baud-rate clock: the 100 MHz peripheral clock. */
#define UART_CLOCK_HZ       100000000u

#endif /* FT900_UART_REGS_H */
