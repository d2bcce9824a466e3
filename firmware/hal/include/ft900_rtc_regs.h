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

#endif /* FT900_RTC_REGS_H */
