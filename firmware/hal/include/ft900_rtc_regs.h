/*
 * ft900_rtc_regs.h - real-time clock, base 0x10280 (AN_324 section 20). 32-bit registers.
 */
#ifndef FT900_RTC_REGS_H
#define FT900_RTC_REGS_H

#include "ft900_io.h"

#define RTC_BASE            0x10280u

#define RTC_CCVR            FT900_REG32(0x10280)   /* current counter value (RO) */
#define RTC_CMR             FT900_REG32(0x10284)   /* counter match */
#define RTC_CLR             FT900_REG32(0x10288)   /* counter load */
#define RTC_CCR             FT900_REG32(0x1028C)   /* counter control */
#define RTC_STAT            FT900_REG32(0x10290)   /* masked interrupt status (RO) */
#define RTC_RSTAT           FT900_REG32(0x10294)   /* raw interrupt status (RO) */
#define RTC_EOI             FT900_REG32(0x10298)   /* read: clears the match interrupt */
#define RTC_COMP_VERSION    FT900_REG32(0x1029C)   /* "2.03*" = 0x3230332A */

/* RTC_CCR (Table 20.5). */
#define RTC_CCR_WEN         0x08u
#define RTC_CCR_EN          0x04u
#define RTC_CCR_MASK        0x02u
#define RTC_CCR_IEN         0x01u

#define RTC_COMP_VERSION_VALUE 0x3230332Au
#define RTC_COUNTS_PER_SECOND  32u         /* rev B: 32.768 kHz / 1024 */

/* Rev C: the calendar RTC at 0x10900 (the SDK's ft900_rtc_registers.h; not in AN_324 v1.2). */
#define RTCC_BASE           0x10900u
#define RTCC_TIME           FT900_REG32(0x10900)   /* BCD ss mm hh (bit 6: 12-hour mode) */
#define RTCC_DATE           FT900_REG32(0x10904)   /* BCD weekday 1..7, date, month|century<<7, year */
#define RTCC_AALARM1        FT900_REG32(0x10908)
#define RTCC_AALARM2        FT900_REG32(0x1090C)
#define RTCC_CTRL           FT900_REG32(0x10910)
#define RTCC_STA            FT900_REG32(0x10914)   /* write 1 to clear */

/* RTCC_CTRL. */
#define RTCC_CTRL_RTCEN     0x001u
#define RTCC_CTRL_INTEN     0x002u
#define RTCC_CTRL_A1IE      0x004u
#define RTCC_CTRL_A2IE      0x008u
#define RTCC_CTRL_ARFEN     0x080u   /* auto-refresh of TIME/DATE every second */
#define RTCC_CTRL_MRFEN     0x100u   /* manual refresh, reads 1 until done */
#define RTCC_CTRL_WRST      0x200u   /* transfer written registers, reads 1 until done */
/* RTCC_STA. */
#define RTCC_STA_A1INT      0x04u
#define RTCC_STA_A2INT      0x08u
#define RTCC_STA_ALL        0x7Cu
/* Alarm registers: bit 7 of each byte masks that field; byte 3 bit 6 selects the week day. */
#define RTCC_ALARM_MASK(i)  (0x80u << (8 * (i)))

#endif /* FT900_RTC_REGS_H */
