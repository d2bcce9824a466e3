/*
 * ft900_timer_regs.h - timers A-D and watchdog (AN_324 section 14). Byte registers.
 * Timer t: A = 0, B = 1, C = 2, D = 3.
 *
 * TIMER_BASE, the registers (TIMER_CONTROL_0 ... TIMER_READ_MS, rev C's TIMER_WDG_STATUS),
 * their reset values and fields come from the generated ft900_regs.h; below are the per-timer
 * bit helpers the HAL uses.
 */
#ifndef FT900_TIMER_REGS_H
#define FT900_TIMER_REGS_H

#include "ft900_io.h"
#include "ft900_regs.h"

/* TIMER_CONTROL_1 (Table 14.4): start/stop, self-clearing. */
#define TIMER_START(t)              (1u << (t))
#define TIMER_STOP(t)               (1u << (4 + (t)))
/* TIMER_CONTROL_2 (Table 14.5). */
#define TIMER_PRESC_EN(t)           (1u << (4 + (t)))
#define TIMER_WDG_INT_IEN           TIMER_CONTROL_2_WDG_INT_IEN
#define TIMER_WDG_INT               TIMER_CONTROL_2_WDG_INT
#define TIMER_CLEAR_WDG             TIMER_CONTROL_2_CLEAR_WDG
#define TIMER_START_WDG             TIMER_CONTROL_2_START_WDG
/* TIMER_CONTROL_3 (Table 14.6). */
#define TIMER_DIR_UP(t)             (1u << (4 + (t)))
#define TIMER_ONE_SHOT(t)           (1u << (t))
/* TIMER_CONTROL_4 (Table 14.7). */
#define TIMER_CLEAR(t)              (1u << (t))
#define TIMER_PRESC_CLEAR           TIMER_CONTROL_4_PRESC_CLEAR /* rev B: the shared prescaler */
#define TIMER_PRESC_CLEAR_REV_C(t)  (0x10u << (t)) /* rev C: timer t's own prescaler */
/* TIMER_INT (Table 14.8). */
#define TIMER_INT_PENDING(t)        (1u << (2 * (t)))
#define TIMER_INT_ENABLE(t)         (1u << (2 * (t) + 1))
#define TIMER_INT_ALL_PENDING       0x55u
#define TIMER_INT_ALL_ENABLE        0xAAu
/* TIMER_SELECT (Table 14.9). */
#define TIMER_SELECT_READ(t)        ((t) << 2)
#define TIMER_SELECT_WRITE(t)       (t)

#define TIMER_A 0
#define TIMER_B 1
#define TIMER_C 2
#define TIMER_D 3

#endif /* FT900_TIMER_REGS_H */
