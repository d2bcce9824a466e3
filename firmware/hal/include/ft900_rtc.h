/*
 * ft900_rtc.h - the legacy real-time clock at 0x10280 (AN_324 section 20), counting seconds.
 */
#ifndef FT900_RTC_H
#define FT900_RTC_H

#include <stdint.h>
#include "ft900_rtc_regs.h"

typedef void (*rtc_callback_t)(uint32_t seconds);

/* Enables counting and loads `seconds`. */
void rtc_start(uint32_t seconds);
void rtc_stop(void);
/* Loads a new counter value (counting continues). */
void rtc_set(uint32_t seconds);
uint32_t rtc_read(void);
/* Interrupt (IRQ 19, priority 19) when the counter reaches `seconds`; `cb` runs in the
   interrupt with the counter value. Returns 0 or -1 for a null callback. */
int rtc_set_match(uint32_t seconds, rtc_callback_t cb);
/* Disables the match interrupt. */
void rtc_clear_match(void);

#endif /* FT900_RTC_H */
