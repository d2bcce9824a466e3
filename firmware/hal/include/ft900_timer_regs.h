/*
 * ft900_timer_regs.h - timers A-D and watchdog, base 0x10340 (AN_324 section 14).
 * Byte registers. Timer t: A = 0, B = 1, C = 2, D = 3.
 */
#ifndef FT900_TIMER_REGS_H
#define FT900_TIMER_REGS_H

#include "ft900_io.h"

#define TIMER_BASE          0x10340u

#define TIMER_CONTROL_0     FT900_REG8(0x10340)
#define TIMER_CONTROL_1     FT900_REG8(0x10341)
#define TIMER_CONTROL_2     FT900_REG8(0x10342)
#define TIMER_CONTROL_3     FT900_REG8(0x10343)
#define TIMER_CONTROL_4     FT900_REG8(0x10344)
#define TIMER_INT           FT900_REG8(0x10345)
#define TIMER_SELECT        FT900_REG8(0x10346)
#define TIMER_WDG           FT900_REG8(0x10347)
#define TIMER_WRITE_LS      FT900_REG8(0x10348)
#define TIMER_WRITE_MS      FT900_REG8(0x10349)
#define TIMER_PRESC_LS      FT900_REG8(0x1034A)
#define TIMER_PRESC_MS      FT900_REG8(0x1034B)
#define TIMER_READ_LS       FT900_REG8(0x1034C)
#define TIMER_READ_MS       FT900_REG8(0x1034D)

/* TIMER_CONTROL_0 (Table 14.3). */
#define TIMER_CONTROL_0_SOFT_RESET  0x01u
#define TIMER_CONTROL_0_BLOCK_EN    0x02u
/* TIMER_CONTROL_1 (Table 14.4): start/stop, self-clearing. */
#define TIMER_START(t)              (1u << (t))
#define TIMER_STOP(t)               (1u << (4 + (t)))
/* TIMER_CONTROL_2 (Table 14.5). */
#define TIMER_PRESC_EN(t)           (1u << (4 + (t)))
#define TIMER_WDG_INT_IEN           0x08u
#define TIMER_WDG_INT               0x04u
#define TIMER_CLEAR_WDG             0x02u
#define TIMER_START_WDG             0x01u
/* TIMER_CONTROL_3 (Table 14.6). */
#define TIMER_DIR_UP(t)             (1u << (4 + (t)))
#define TIMER_ONE_SHOT(t)           (1u << (t))
/* TIMER_CONTROL_4 (Table 14.7). */
#define TIMER_CLEAR(t)              (1u << (t))
#define TIMER_PRESC_CLEAR           0x10u   /* rev B: the shared prescaler */
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
