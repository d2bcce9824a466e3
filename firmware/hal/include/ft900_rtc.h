/*
 * ft900_rtc.h - the real-time clock as Unix seconds, on both FT900 revisions
 * (docs/hardware/revisions.md):
 *   rev B: the legacy counter at 0x10280 (AN_324 section 20), 32 counts per second (seconds
 *          with 5 fractional bits). It is not battery-backed and powers on at 0, stopped; the
 *          driver keeps the Unix time of count 0 in RAM.
 *   rev C: the calendar RTC at 0x10900 (battery-backed BCD counters, years 1900..2099), read
 *          through a manual refresh and written through WRST transfers as the SDK does.
 * The driver checks the revision (HIPID) at every call, like the SDK's sys_check_ft900_revB().
 */
#ifndef FT900_RTC_H
#define FT900_RTC_H

#include <stdint.h>
#include "ft900_rtc_regs.h"

typedef void (*rtc_callback_t)(uint32_t seconds);

/* Enables counting and sets the clock to Unix time `seconds` (the next second one second
   later). */
void rtc_start(uint32_t seconds);
void rtc_stop(void);
/* Sets the clock to `seconds` (counting continues; the next second one second later). */
void rtc_set(uint32_t seconds);
/* The clock in Unix seconds (rev B: 0 at power-on until rtc_start; rev C: the battery-backed
   calendar). */
uint32_t rtc_read(void);
/* Interrupt (IRQ 19, priority 19) when the clock reaches `seconds`; `cb` runs in the
   interrupt with the clock's value. Returns 0 or -1 for a null callback. */
int rtc_set_match(uint32_t seconds, rtc_callback_t cb);
/* Disables the match interrupt. */
void rtc_clear_match(void);

/* Calendar <-> Unix time (UTC), as the rev C RTC stores it: RTC_TIME / RTC_DATE images. */
void rtc_calendar_from_unix(uint32_t seconds, uint32_t *time, uint32_t *date);
/* Returns 0 and the Unix time, or -1 for a calendar that is not a valid date. */
int rtc_calendar_to_unix(uint32_t time, uint32_t date, uint32_t *seconds);

#endif /* FT900_RTC_H */
