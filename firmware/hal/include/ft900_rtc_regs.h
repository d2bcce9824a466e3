/*
 * ft900_rtc_regs.h - real-time clocks: rev B's counter at RTC_BASE (AN_324 section 20) and
 * rev C's calendar at RTCC_BASE (the SDK's ft900_rtc_registers.h). 32-bit registers.
 *
 * The registers (RTC_CCVR ... RTC_COMP_VERSION; RTCC_TIME ... RTCC_MISC), their reset values
 * and fields (RTC_CCR_EN, RTCC_CTRL_WRST, RTCC_STA_A1INT, ...) come from the generated
 * ft900_regs.h.
 */
#ifndef FT900_RTC_REGS_H
#define FT900_RTC_REGS_H

#include "ft900_io.h"
#include "ft900_regs.h"

#define RTC_COMP_VERSION_VALUE RTC_COMP_VERSION_RESET /* "2.03*" */
#define RTC_COUNTS_PER_SECOND  32u         /* rev B: 32.768 kHz / 1024 */

/* RTCC_STA: every status bit. */
#define RTCC_STA_ALL        0x7Cu
/* Alarm registers: bit 7 of each byte masks that field; byte 3 bit 6 selects the week day. */
#define RTCC_ALARM_MASK(i)  (0x80u << (8 * (i)))

#endif /* FT900_RTC_REGS_H */
