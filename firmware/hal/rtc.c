/*
 * rtc.c - real-time clock driver. See ft900_rtc.h.
 */
#include "ft900_rtc.h"
#include "ft900_interrupt.h"

static rtc_callback_t match_cb;

void rtc_start(uint32_t seconds)
{
    RTC_CCR = (RTC_CCR & ~RTC_CCR_WEN) | RTC_CCR_EN;
    RTC_CLR = seconds;
}

void rtc_stop(void)
{
    RTC_CCR &= ~RTC_CCR_EN;
}

void rtc_set(uint32_t seconds)
{
    RTC_CLR = seconds;
}

uint32_t rtc_read(void)
{
    return RTC_CCVR;
}

static void rtc_isr(void)
{
    if (RTC_STAT & 1u) {
        (void)RTC_EOI; /* reading clears the match interrupt */
        if (match_cb)
            match_cb(RTC_CCVR);
    }
}

int rtc_set_match(uint32_t seconds, rtc_callback_t cb)
{
    if (cb == 0)
        return -1;
    uint8_t s = interrupt_save();
    match_cb = cb;
    RTC_CMR = seconds;
    (void)RTC_EOI;
    interrupt_attach(IRQ_RTC, IRQ_RTC, rtc_isr);
    RTC_CCR = (RTC_CCR & ~RTC_CCR_MASK) | RTC_CCR_IEN;
    interrupt_restore(s);
    return 0;
}

void rtc_clear_match(void)
{
    RTC_CCR &= ~RTC_CCR_IEN;
    (void)RTC_EOI;
}
