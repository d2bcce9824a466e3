/*
 * ft900_uart.h - UART0/UART1 driver (AN_324 section 13): 8N1, 16-byte FIFOs, polled or
 * interrupt-driven I/O, and a small printf.
 */
#ifndef FT900_UART_H
#define FT900_UART_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include "ft900_uart_regs.h"

#define UART0 0u
#define UART1 1u

/* Ring sizes of the interrupt-driven mode (powers of two). */
#define UART_RX_RING 128u
#define UART_TX_RING 256u

struct uart_stats {
    uint32_t rx_bytes;      /* bytes taken from the receiver */
    uint32_t rx_dropped;    /* received while the RX ring was full */
    uint32_t rx_overruns;   /* LSR.OE seen: the hardware FIFO overflowed */
    uint32_t rx_errors;     /* parity/framing/break */
    uint32_t tx_bytes;      /* bytes written to THR */
    uint32_t interrupts;    /* handler invocations */
};

/* Divisor for `baud` with 4 samples per bit at 100 MHz, rounded to nearest
   (115200 -> 217, 9600 -> 2604). 0 if the rate is out of range. */
uint16_t uart_divisor(uint32_t baud);

/* Clock on, pads set, 8N1 at `baud`, FIFOs on and flushed, polled mode.
   Returns 0 or -1 (bad port or rate). */
int uart_open(unsigned port, uint32_t baud);

/* 1 once uart_open() succeeded for `port`. */
int uart_is_open(unsigned port);

/* Interrupt-driven mode: received bytes go to a ring (RX data and line-status interrupts),
   output goes through a ring drained by the THR-empty interrupt. Routes the UART's interrupt
   (MSC0CFG INTSEL) to IRQ 13/14 at the default priority; the caller enables interrupts
   globally. */
int uart_enable_interrupts(unsigned port);

void uart_putc(unsigned port, char c);
void uart_write(unsigned port, const void *buf, size_t len);
void uart_puts(unsigned port, const char *s);
/* Next received byte, or -1 if there is none now. */
int uart_try_getc(unsigned port);
/* Waits for a byte. */
int uart_getc(unsigned port);
/* Bytes received and not read yet (interrupt mode: in the ring). */
unsigned uart_rx_available(unsigned port);
/* Waits until every byte written has left the transmitter (THR and shift register empty). */
void uart_flush(unsigned port);

int uart_vprintf(unsigned port, const char *fmt, va_list ap);
int uart_printf(unsigned port, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int uart_printf_pm(unsigned port, const __flash__ char *fmt, ...);
/* Every uart_printf() with a literal format keeps that format in program memory: RAM is the
   FT900's scarce resource (64 KiB, and .rodata is copied into it), the formats of the log lines
   are ~3 KiB. The macro puts the literal into a __flash__ array (section ._pm.fmt, which
   startup/ft900.ld keeps in program memory: -fdata-sections alone would give it .rodata) and calls
   uart_printf_pm(); the dead call keeps the compiler's format checking (folded away, its
   literal with it). A format that is not a literal does not compile here: call (uart_printf)
   with parentheses for that. */
#define uart_printf(port, fmt, ...)                                                            \
    __extension__({                                                                           \
        static const __flash__ char uart_fmt_[] __attribute__((section("._pm.fmt"))) = fmt;   \
        if (0)                                                                                \
            (uart_printf)(port, fmt, ##__VA_ARGS__);                                          \
        uart_printf_pm(port, uart_fmt_, ##__VA_ARGS__);                                       \
    })

void uart_get_stats(unsigned port, struct uart_stats *out);

#endif /* FT900_UART_H */
