/*
 * timer.c - timers, system tick and watchdog. See ft900_timer.h.
 */
#include "ft900_timer.h"
#include "ft900_interrupt.h"
#include "ft900_sys.h"

static uint8_t block_ready;
static timer_callback_t callbacks[4];
static timer_callback_t tick_hook;
static volatile uint32_t tick_ms;

void timer_block_init(void)
{
    if (block_ready)
        return;
    TIMER_CONTROL_0 = TIMER_CONTROL_0_SOFT_RESET;
    TIMER_CONTROL_0 = TIMER_CONTROL_0_BLOCK_EN;
    block_ready = 1;
}

void timer_prescaler_set(uint16_t divisor)
{
    if (sys_is_rev_b()) {
        /* One prescaler shared by the four timers. */
        TIMER_CONTROL_4 = TIMER_PRESC_CLEAR;
        TIMER_PRESC_LS = (uint8_t)divisor;
        TIMER_PRESC_MS = (uint8_t)(divisor >> 8);
        return;
    }
    /* Rev C: each timer has its own prescaler, written through write_sel; give all four the
       same divisor so that timers sharing "the" prescaler stay in step, as on rev B. */
    uint8_t s = interrupt_save();
    uint8_t select = TIMER_SELECT;
    for (unsigned t = TIMER_A; t <= TIMER_D; t++) {
        TIMER_SELECT = (uint8_t)((select & ~3u) | TIMER_SELECT_WRITE(t));
        TIMER_CONTROL_4 = (uint8_t)TIMER_PRESC_CLEAR_REV_C(t);
        TIMER_PRESC_LS = (uint8_t)divisor;
        TIMER_PRESC_MS = (uint8_t)(divisor >> 8);
    }
    TIMER_SELECT = select;
    interrupt_restore(s);
}

void timer_setup(unsigned t, uint16_t start_value, unsigned flags)
{
    if (t > TIMER_D)
        return;
    timer_block_init();
    uint8_t s = interrupt_save();
    TIMER_CONTROL_1 = (uint8_t)TIMER_STOP(t);
    TIMER_SELECT = (uint8_t)((TIMER_SELECT & ~3u) | TIMER_SELECT_WRITE(t));
    TIMER_WRITE_LS = (uint8_t)start_value;
    TIMER_WRITE_MS = (uint8_t)(start_value >> 8);

    uint8_t c3 = TIMER_CONTROL_3 & (uint8_t)~(TIMER_DIR_UP(t) | TIMER_ONE_SHOT(t));
    if (flags & TIMER_FLAG_UP)
        c3 |= TIMER_DIR_UP(t);
    if (flags & TIMER_FLAG_ONE_SHOT)
        c3 |= TIMER_ONE_SHOT(t);
    TIMER_CONTROL_3 = c3;

    /* CONTROL_2 also holds the watchdog's RW1C flag and self-clearing kick bits: write back
       without the flag so that a pending watchdog expiry stays visible. */
    uint8_t c2 = TIMER_CONTROL_2 & (uint8_t)~(TIMER_PRESC_EN(t) | TIMER_WDG_INT);
    if (flags & TIMER_FLAG_PRESCALED)
        c2 |= TIMER_PRESC_EN(t);
    TIMER_CONTROL_2 = c2;
    interrupt_restore(s);
}

void timer_start(unsigned t)
{
    TIMER_CONTROL_1 = (uint8_t)TIMER_START(t);
}

void timer_stop(unsigned t)
{
    TIMER_CONTROL_1 = (uint8_t)TIMER_STOP(t);
}

void timer_start_mask(unsigned mask)
{
    TIMER_CONTROL_1 = (uint8_t)(mask & 0x0Fu);
}

uint16_t timer_read(unsigned t)
{
    uint8_t s = interrupt_save();
    TIMER_SELECT = (uint8_t)((TIMER_SELECT & 3u) | TIMER_SELECT_READ(t));
    uint8_t ls = TIMER_READ_LS;
    uint8_t ms = TIMER_READ_MS;
    interrupt_restore(s);
    return (uint16_t)(ls | (ms << 8));
}

/* IRQ 17: acknowledge every enabled timer whose roll-over is pending (TIMER_INT pending bits
   are RW1C; the enable bits must be written back as they are), then run the callbacks. */
static void timer_isr(void)
{
    uint8_t v = TIMER_INT;
    uint8_t enabled = v & TIMER_INT_ALL_ENABLE;
    uint8_t due = v & (uint8_t)(enabled >> 1);
    TIMER_INT = (uint8_t)(enabled | due);
    for (unsigned t = 0; t < 4; t++) {
        if ((due & TIMER_INT_PENDING(t)) && callbacks[t])
            callbacks[t]();
    }
}

int timer_attach(unsigned t, timer_callback_t cb)
{
    if (t > TIMER_D)
        return -1;
    uint8_t s = interrupt_save();
    callbacks[t] = cb;
    uint8_t enabled = TIMER_INT & TIMER_INT_ALL_ENABLE;
    if (cb) {
        /* Enable t and drop a stale pending roll-over of t only. */
        TIMER_INT = (uint8_t)(enabled | TIMER_INT_ENABLE(t) | TIMER_INT_PENDING(t));
        if (vector_table[IRQ_ASSIGN(IRQ_TIMERS) & IRQ_PRIORITY_MASK] != timer_isr)
            interrupt_attach(IRQ_TIMERS, IRQ_TIMERS, timer_isr);
    } else {
        TIMER_INT = (uint8_t)(enabled & ~TIMER_INT_ENABLE(t));
    }
    interrupt_restore(s);
    return 0;
}

static void tick_isr(void)
{
    tick_ms++;
    if (tick_hook)
        tick_hook();
}

void timer_tick_configure(void)
{
    timer_block_init();
    timer_prescaler_set(TIMER_TICK_PRESCALER);
    timer_setup(TIMER_A, TIMER_TICK_COUNT, TIMER_FLAG_UP | TIMER_FLAG_PRESCALED);
    tick_ms = 0;
    timer_attach(TIMER_A, tick_isr);
}

void timer_tick_init(void)
{
    timer_tick_configure();
    timer_start(TIMER_A);
}

void timer_tick_set_hook(timer_callback_t hook)
{
    tick_hook = hook;
}

uint32_t millis(void)
{
    return tick_ms;
}

void delay_ms(uint32_t ms)
{
    uint32_t start = tick_ms;
    while (tick_ms - start <= ms)
        ;
}

void wdt_init(unsigned exponent)
{
    uint8_t s = interrupt_save();
    TIMER_WDG = (uint8_t)(exponent & 0x1Fu);
    uint8_t c2 = TIMER_CONTROL_2 & (uint8_t)~TIMER_WDG_INT;
    TIMER_CONTROL_2 = c2 | TIMER_CLEAR_WDG;
    TIMER_CONTROL_2 = c2 | TIMER_WDG_INT_IEN | TIMER_START_WDG;
    interrupt_restore(s);
}

void wdt_kick(void)
{
    uint8_t s = interrupt_save();
    TIMER_CONTROL_2 = (uint8_t)((TIMER_CONTROL_2 & ~TIMER_WDG_INT) | TIMER_CLEAR_WDG);
    interrupt_restore(s);
}
