/*
 * nested_irq - priorities and nesting of the interrupt controller, seen from handlers that
 * append a letter to a log when they start (upper case) and end (lower case):
 *
 *   T/t  timer C (one-shot, 20 cycles), IRQ 17, priority 17 (2 when remapped)
 *   U/u  UART1 THR-empty interrupt (raised by setting ETBEI while THR is empty), IRQ 14
 *   E    Ethernet MD_INT (MDIO transaction done), IRQ 3 (logs only its start)
 *
 *   A  no nesting: U raised inside T waits for T's end           -> "TtUu"
 *   B  nesting:    U (higher) interrupts T                        -> "TUut"
 *   C  nesting:    T (lower) raised inside U waits                -> "UuTt"
 *   D  nesting, IRQ 17 moved to priority 2: T interrupts U        -> "UTtu"
 *   E  critical section: U raised while masked runs at restore    -> "" then "U"
 *   F  nesting 2 levels: T, U nested; E (highest) waits for U     -> "TUuEt"
 *   G  nesting 3 levels: E nests a third level                     -> "TUEut"
 */
#include <string.h>
#include "ft900_eth_regs.h"
#include "ft900_interrupt.h"
#include "ft900_sys.h"
#include "ft900_timer.h"
#include "testlib.h"

#define SPIN 300

static volatile char log_buf[16];
static volatile unsigned log_len;
static volatile char phase;

static void log_put(char c)
{
    if (log_len < sizeof log_buf - 1)
        log_buf[log_len++] = c;
}

static void spin(void)
{
    for (volatile int i = 0; i < SPIN; i++)
        ;
}

static void raise_timer(void)
{
    timer_setup(TIMER_C, 20, TIMER_FLAG_ONE_SHOT);
    timer_start(TIMER_C);
}

static void raise_uart(void)
{
    UART_REG(UART1_BASE, UART_IER) = UART_IER_TX;
}

static void raise_eth(void)
{
    ETH_INT_STATUS = ETH_INT_MD;
    ETH_INT_ENABLE = ETH_INT_MD;
    ETH_MNG_ADDR = ETH_PHY_ADDRESS;
    ETH_MNG_CNTL = ETH_MNG_CNTL_PHY_REG_OF(1) | ETH_MNG_CNTL_START; /* read BMSR */
}

static void timer_c_done(void)
{
    log_put('T');
    if (phase == 'A' || phase == 'B' || phase == 'F' || phase == 'G') {
        raise_uart();
        spin();
        if (phase == 'F' || phase == 'G')
            spin();
    }
    log_put('t');
}

static void uart1_isr(void)
{
    log_put('U');
    UART_REG(UART1_BASE, UART_IER) = 0;
    (void)UART_REG(UART1_BASE, UART_ISR);
    if (phase == 'C' || phase == 'D') {
        raise_timer();
        spin();
    } else if (phase == 'F' || phase == 'G') {
        raise_eth();
        spin();
        spin();
    }
    log_put('u');
}

static void eth_isr(void)
{
    log_put('E');
    ETH_INT_ENABLE = 0;
    ETH_INT_STATUS = ETH_INT_MD;
    ETH_MNG_CNTL = 0;
}

static void run_phase(char name, void (*trigger)(void), const char *expect)
{
    phase = name;
    log_len = 0;
    memset((void *)log_buf, 0, sizeof log_buf);
    trigger();
    size_t want = strlen(expect);
    for (unsigned i = 0; i < 100000u && log_len < want; i++)
        ;
    spin();
    log_buf[log_len] = '\0';
    CHECK(strcmp((const char *)log_buf, expect) == 0, "phase %c: order %s (expected %s)", name,
          (const char *)log_buf, expect);
}

int main(void)
{
    test_begin("nested_irq");

    /* Sources: timer C, UART1 (not connected; only its THR-empty interrupt is used), the
       Ethernet MAC's MDIO (MAC clock on, fastest MDC). */
    timer_block_init();
    timer_attach(TIMER_C, timer_c_done);
    uart_open(UART1, 115200);
    interrupt_attach(IRQ_UART1, IRQ_UART1, uart1_isr);
    MSC0CFG |= MSC0CFG_UART1_INTSEL;
    sys_clock_enable(CLKCFG_MAC_ENA);
    ETH_MNG_DIV = 0;
    interrupt_attach(IRQ_ETH, IRQ_ETH, eth_isr);
    interrupt_enable_globally();

    interrupt_disable_nesting();
    run_phase('A', raise_timer, "TtUu");

    CHECK(interrupt_enable_nesting(2) == 0 && IRQ_CTRL_NEST == 0x81,
          "nesting on, 2 levels (IRQ control byte %02x)", IRQ_CTRL_NEST);
    run_phase('B', raise_timer, "TUut");
    run_phase('C', raise_uart, "UuTt");

    interrupt_set_priority(IRQ_TIMERS, 2);
    CHECK(IRQ_ASSIGN(IRQ_TIMERS) == 2 && vector_table[17] != vector_table[2],
          "IRQ 17 assigned priority %u", IRQ_ASSIGN(IRQ_TIMERS));
    run_phase('D', raise_uart, "UTtu");
    interrupt_set_priority(IRQ_TIMERS, IRQ_TIMERS);

    /* Critical section: nothing runs while masked; the pending request runs at restore. */
    phase = 'E';
    log_len = 0;
    uint8_t s = interrupt_save();
    raise_uart();
    spin();
    unsigned during = log_len;
    uint8_t mask_inside = IRQ_CTRL_MASK;
    interrupt_restore(s);
    spin();
    CHECK(during == 0 && log_len == 2 && mask_inside == 0x80 && s == 0,
          "critical section held the interrupt back (%u entries inside, %u after)", during,
          log_len);

    run_phase('F', raise_timer, "TUuEt");
    interrupt_enable_nesting(3);
    run_phase('G', raise_timer, "TUEut");

    interrupt_disable_nesting();
    CHECK(interrupt_depth() == 0, "handler depth back to 0 (%u)", interrupt_depth());
    CHECK(interrupt_spurious_count() == 0, "no spurious interrupts (%lu, last slot %u)",
          interrupt_spurious_count(), interrupt_spurious_last());
    return test_end();
}
