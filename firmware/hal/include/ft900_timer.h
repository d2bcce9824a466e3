/*
 * ft900_timer.h - timers A-D, the 1 ms system tick, and the watchdog (AN_324 section 14).
 *
 * All four timers share IRQ 17; this driver owns that IRQ and calls one callback per timer.
 * On rev B the four timers also share one prescaler.
 */
#ifndef FT900_TIMER_H
#define FT900_TIMER_H

#include <stdint.h>
#include "ft900_timer_regs.h"

typedef void (*timer_callback_t)(void);

/* Timer configuration flags. */
#define TIMER_FLAG_UP           0x1u    /* count up (default: down) */
#define TIMER_FLAG_ONE_SHOT     0x2u    /* stop at the first roll-over (default: continuous) */
#define TIMER_FLAG_PRESCALED    0x4u    /* count prescaler ticks (default: sysclk cycles) */

/* Soft-resets the timer block and enables it; does nothing after the first call. */
void timer_block_init(void);
/* Sets the prescaler divisor of every timer (rev B: the shared prescaler; rev C: the four
   per-timer prescalers, all to the same divisor), clearing it first. */
void timer_prescaler_set(uint16_t divisor);
/* Stops timer t and sets its start value and mode; it does not start it. */
void timer_setup(unsigned t, uint16_t start_value, unsigned flags);
void timer_start(unsigned t);
void timer_stop(unsigned t);
/* Starts (or stops) several timers with one write: bit t = timer t. */
void timer_start_mask(unsigned mask);
/* Current value of timer t. */
uint16_t timer_read(unsigned t);
/* Calls `cb` from the IRQ 17 handler at each roll-over of timer t (enables its interrupt);
   a null `cb` disables the interrupt. Returns 0 or -1. */
int timer_attach(unsigned t, timer_callback_t cb);

/* The 1 ms tick: timer A counting up to 2000 prescaler ticks of 50 cycles (AN_324 / the
   FreeRTOS port's settings), interrupt IRQ 17 at priority 17. timer_tick_configure() sets
   everything up without starting timer A; timer_tick_init() also starts it. */
void timer_tick_configure(void);
void timer_tick_init(void);
#define TIMER_TICK_PRESCALER    50u
#define TIMER_TICK_COUNT        2000u
#define TIMER_TICK_CYCLES       (TIMER_TICK_PRESCALER * TIMER_TICK_COUNT)
/* Called from the tick interrupt after the millisecond counter was incremented. */
void timer_tick_set_hook(timer_callback_t hook);

/* Milliseconds since the tick started. */
uint32_t millis(void);
/* Waits at least `ms` milliseconds (needs the tick and interrupts enabled). */
void delay_ms(uint32_t ms);

/* Watchdog: timeout of 2^exponent cycles (exponent 0..31). Once started it cannot be
   stopped; an expiry calls the watchdog vector (vector_table[33]), a second expiry without a
   kick resets the chip. */
void wdt_init(unsigned exponent);
void wdt_kick(void);

#endif /* FT900_TIMER_H */
