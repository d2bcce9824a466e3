/*
 * uart.c - UART driver. See ft900_uart.h.
 *
 * Open sequence (AN_324 section 13, as the FT9xx driver does it): clock enable, pad
 * functions, ICR[CPR] = prescaler 1 (M = 1), ICR[TCR] = 4 samples per bit, LCR.DLAB = 1,
 * divisor, LCR = 8N1, MCR = RTS, FCR = FIFO enable + reset both FIFOs, flush a stale byte.
 */
#include "ft900_uart.h"
#include "ft900_format.h"
#include "ft900_interrupt.h"
#include "ft900_sys.h"

#define SAMPLES_PER_BIT 4u
#define FIFO_DEPTH      16u

struct uart_port {
    uint32_t base;
    uint8_t opened;
    uint8_t irq_mode;
    uint8_t ier;
    volatile uint8_t rx_ring[UART_RX_RING];
    volatile uint8_t tx_ring[UART_TX_RING];
    volatile uint16_t rx_head, rx_tail; /* head: written by the ISR */
    volatile uint16_t tx_head, tx_tail; /* tail: advanced by the ISR */
    struct uart_stats stats;
};

static struct uart_port ports[2]; /* in .bss: the rings need no RAM image */

#define REG(p, off) UART_REG((p)->base, (off))

static void icr_write(struct uart_port *p, uint8_t index, uint8_t value)
{
    REG(p, UART_SPR) = index;
    REG(p, UART_ICR) = value;
}

uint16_t uart_divisor(uint32_t baud)
{
    if (baud == 0)
        return 0;
    uint32_t unit = SAMPLES_PER_BIT * baud;
    uint32_t d = (UART_CLOCK_HZ + unit / 2u) / unit;
    if (d == 0 || d > 0xFFFFu)
        return 0;
    return (uint16_t)d;
}

int uart_open(unsigned port, uint32_t baud)
{
    uint16_t div = uart_divisor(baud);
    if (port > UART1 || div == 0)
        return -1;
    struct uart_port *p = &ports[port];
    p->base = port == UART0 ? UART0_BASE : UART1_BASE;

    if (port == UART0) {
        sys_clock_enable(CLKCFG_UART0_ENA);
        sys_pad_function(PIN_UART0_TXD, PAD_FUNC_UART0);
        sys_pad_function(PIN_UART0_RXD, PAD_FUNC_UART0);
    } else {
        sys_clock_enable(CLKCFG_UART1_ENA);
        sys_pad_function(PIN_UART1_TXD, PAD_FUNC_UART1);
        sys_pad_function(PIN_UART1_RXD, PAD_FUNC_UART1);
    }

    p->irq_mode = 0;
    p->ier = 0;
    REG(p, UART_LCR) = 0;
    REG(p, UART_IER) = 0;
    icr_write(p, UART_IDX_CPR, 1u << 3); /* prescaler M = 1 (used only with MCR[7]) */
    icr_write(p, UART_IDX_TCR, SAMPLES_PER_BIT);
    REG(p, UART_LCR) = UART_LCR_DLAB;
    REG(p, UART_DLL) = (uint8_t)div;
    REG(p, UART_DLM) = (uint8_t)(div >> 8);
    REG(p, UART_LCR) = UART_LCR_8BITS;
    REG(p, UART_MCR) = UART_MCR_RTS;
    REG(p, UART_FCR) = UART_FCR_ENABLE | UART_FCR_RX_RESET | UART_FCR_TX_RESET;
    if (REG(p, UART_LSR) & UART_LSR_DR)
        (void)REG(p, UART_RBR);
    p->rx_head = p->rx_tail = 0;
    p->tx_head = p->tx_tail = 0;
    p->opened = 1;
    return 0;
}

int uart_is_open(unsigned port)
{
    return port <= UART1 && ports[port].opened;
}

/* ---- interrupt mode ---- */

static void rx_take(struct uart_port *p)
{
    while (REG(p, UART_LSR) & UART_LSR_DR) {
        uint8_t c = REG(p, UART_RBR);
        p->stats.rx_bytes++;
        uint16_t next = (uint16_t)((p->rx_head + 1u) & (UART_RX_RING - 1u));
        if (next == p->rx_tail) {
            p->stats.rx_dropped++;
        } else {
            p->rx_ring[p->rx_head] = c;
            p->rx_head = next;
        }
    }
}

static void line_status(struct uart_port *p)
{
    uint8_t lsr = REG(p, UART_LSR); /* reading clears OE/PE/FE/BI */
    if (lsr & UART_LSR_OE)
        p->stats.rx_overruns++;
    if (lsr & (UART_LSR_PE | UART_LSR_FE | UART_LSR_BI))
        p->stats.rx_errors++;
}

/* THR (and the TX FIFO) is empty: move up to a FIFO's worth from the ring. */
static void tx_refill(struct uart_port *p)
{
    unsigned n = 0;
    while (n < FIFO_DEPTH && p->tx_tail != p->tx_head) {
        REG(p, UART_THR) = p->tx_ring[p->tx_tail];
        p->tx_tail = (uint16_t)((p->tx_tail + 1u) & (UART_TX_RING - 1u));
        p->stats.tx_bytes++;
        n++;
    }
    if (p->tx_tail == p->tx_head && (p->ier & UART_IER_TX)) {
        p->ier &= (uint8_t)~UART_IER_TX;
        REG(p, UART_IER) = p->ier;
    }
}

static void uart_isr(struct uart_port *p)
{
    p->stats.interrupts++;
    for (unsigned guard = 0; guard < 8; guard++) {
        uint8_t id = REG(p, UART_ISR) & UART_ISR_ID_MASK;
        if (id & UART_ISR_NONE)
            break;
        switch (id) {
        case UART_ISR_LINE:
            line_status(p);
            rx_take(p);
            break;
        case UART_ISR_RX:
        case UART_ISR_RX_TIMEOUT:
            rx_take(p);
            break;
        case UART_ISR_TX:
            tx_refill(p);
            break;
        case UART_ISR_MODEM:
            (void)REG(p, UART_MSR);
            break;
        default:
            /* Enhanced-mode sources are never enabled here. */
            return;
        }
    }
}

static void uart0_isr(void)
{
    uart_isr(&ports[0]);
}

static void uart1_isr(void)
{
    uart_isr(&ports[1]);
}

int uart_enable_interrupts(unsigned port)
{
    if (port > UART1 || !ports[port].opened)
        return -1;
    struct uart_port *p = &ports[port];
    uint8_t s = interrupt_save();
    p->rx_head = p->rx_tail = 0;
    p->tx_head = p->tx_tail = 0;
    p->irq_mode = 1;
    rx_take(p); /* bytes that arrived before */
    p->ier = UART_IER_RX | UART_IER_LINE;
    REG(p, UART_IER) = p->ier;
    if (port == UART0) {
        interrupt_attach(IRQ_UART0, IRQ_UART0, uart0_isr);
        MSC0CFG |= MSC0CFG_UART0_INTSEL;
    } else {
        interrupt_attach(IRQ_UART1, IRQ_UART1, uart1_isr);
        MSC0CFG |= MSC0CFG_UART1_INTSEL;
    }
    interrupt_restore(s);
    return 0;
}

/* ---- output ---- */

static void putc_polled(struct uart_port *p, uint8_t c)
{
    while (!(REG(p, UART_LSR) & UART_LSR_THRE))
        ;
    REG(p, UART_THR) = c;
    p->stats.tx_bytes++;
}

/* The ring is full and the handler cannot drain it (interrupts masked or we are inside a
   handler that blocks it): move one byte from the ring to the transmitter by polling. */
static void drain_one(struct uart_port *p)
{
    uint8_t s = interrupt_save();
    if (p->tx_tail != p->tx_head) {
        uint8_t c = p->tx_ring[p->tx_tail];
        p->tx_tail = (uint16_t)((p->tx_tail + 1u) & (UART_TX_RING - 1u));
        putc_polled(p, c);
    }
    interrupt_restore(s);
}

void uart_putc(unsigned port, char c)
{
    if (port > UART1)
        return;
    struct uart_port *p = &ports[port];
    if (!p->irq_mode) {
        putc_polled(p, (uint8_t)c);
        return;
    }
    for (;;) {
        uint16_t next = (uint16_t)((p->tx_head + 1u) & (UART_TX_RING - 1u));
        if (next != p->tx_tail)
            break;
        if (interrupt_globally_masked() || interrupt_depth() > 0)
            drain_one(p);
    }
    uint8_t s = interrupt_save();
    p->tx_ring[p->tx_head] = (uint8_t)c;
    p->tx_head = (uint16_t)((p->tx_head + 1u) & (UART_TX_RING - 1u));
    if (!(p->ier & UART_IER_TX)) {
        /* Enabling the THR-empty interrupt while THR is empty raises it at once. */
        p->ier |= UART_IER_TX;
        REG(p, UART_IER) = p->ier;
    }
    interrupt_restore(s);
}

void uart_write(unsigned port, const void *buf, size_t len)
{
    const char *b = buf;
    for (size_t i = 0; i < len; i++)
        uart_putc(port, b[i]);
}

void uart_puts(unsigned port, const char *s)
{
    while (*s)
        uart_putc(port, *s++);
}

void uart_flush(unsigned port)
{
    if (port > UART1)
        return;
    struct uart_port *p = &ports[port];
    if (p->irq_mode) {
        while (p->tx_tail != p->tx_head) {
            if (interrupt_globally_masked() || interrupt_depth() > 0)
                drain_one(p);
        }
    }
    while ((REG(p, UART_LSR) & (UART_LSR_THRE | UART_LSR_TEMT)) !=
           (UART_LSR_THRE | UART_LSR_TEMT))
        ;
}

/* ---- input ---- */

int uart_try_getc(unsigned port)
{
    if (port > UART1)
        return -1;
    struct uart_port *p = &ports[port];
    if (!p->irq_mode) {
        if (!(REG(p, UART_LSR) & UART_LSR_DR))
            return -1;
        p->stats.rx_bytes++;
        return REG(p, UART_RBR);
    }
    if (p->rx_tail == p->rx_head)
        return -1;
    int c = p->rx_ring[p->rx_tail];
    p->rx_tail = (uint16_t)((p->rx_tail + 1u) & (UART_RX_RING - 1u));
    return c;
}

int uart_getc(unsigned port)
{
    int c;
    while ((c = uart_try_getc(port)) < 0)
        ;
    return c;
}

unsigned uart_rx_available(unsigned port)
{
    if (port > UART1)
        return 0;
    struct uart_port *p = &ports[port];
    if (!p->irq_mode)
        return (REG(p, UART_LSR) & UART_LSR_DR) ? 1u : 0u;
    return (unsigned)((p->rx_head - p->rx_tail) & (UART_RX_RING - 1u));
}

/* ---- printf ---- */

static void out_uart(void *ctx, char c)
{
    uart_putc((unsigned)(uintptr_t)ctx, c);
}

int uart_vprintf(unsigned port, const char *fmt, va_list ap)
{
    return fmt_vformat(out_uart, (void *)(uintptr_t)port, fmt, ap);
}

int uart_printf_pm(unsigned port, const __flash__ char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = fmt_vformat_pm(out_uart, (void *)(uintptr_t)port, fmt, ap);
    va_end(ap);
    return n;
}

int (uart_printf)(unsigned port, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = uart_vprintf(port, fmt, ap);
    va_end(ap);
    return n;
}

void uart_get_stats(unsigned port, struct uart_stats *out)
{
    if (port > UART1)
        return;
    uint8_t s = interrupt_save();
    *out = ports[port].stats;
    interrupt_restore(s);
}
