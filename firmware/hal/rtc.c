/*
 * rtc.c - real-time clock driver for both FT900 revisions. See ft900_rtc.h.
 */
#include "ft900_rtc.h"
#include "ft900_interrupt.h"
#include "ft900_sys.h"

static rtc_callback_t match_cb;
/* Rev B: Unix time of counter value 0. */
static uint32_t rev_b_epoch;

/* ---- calendar arithmetic (UTC, proleptic Gregorian) ---------------------------------- */

static uint32_t bcd(uint32_t v) { return ((v / 10u) << 4) | (v % 10u); }
static uint32_t unbcd(uint32_t b) { return (b >> 4) * 10u + (b & 0xFu); }

/* Days since 1970-01-01 of y-m-d (H. Hinnant's days_from_civil, for years >= 1900). */
static int32_t days_from_civil(int32_t y, uint32_t m, uint32_t d)
{
    y -= m <= 2u;
    int32_t era = y / 400;
    uint32_t yoe = (uint32_t)(y - era * 400);
    uint32_t doy = (153u * (m > 2u ? m - 3u : m + 9u) + 2u) / 5u + d - 1u;
    uint32_t doe = yoe * 365u + yoe / 4u - yoe / 100u + doy;
    return era * 146097 + (int32_t)doe - 719468;
}

void rtc_calendar_from_unix(uint32_t seconds, uint32_t *time, uint32_t *date)
{
    uint32_t days = seconds / 86400u, sod = seconds % 86400u;
    uint32_t z = days + 719468u;
    uint32_t era = z / 146097u;
    uint32_t doe = z - era * 146097u;
    uint32_t yoe = (doe - doe / 1460u + doe / 36524u - doe / 146096u) / 365u;
    uint32_t doy = doe - (365u * yoe + yoe / 4u - yoe / 100u);
    uint32_t mp = (5u * doy + 2u) / 153u;
    uint32_t d = doy - (153u * mp + 2u) / 5u + 1u;
    uint32_t m = mp < 10u ? mp + 3u : mp - 9u;
    uint32_t y = yoe + era * 400u + (m <= 2u);
    uint32_t years = (y - 1900u) % 200u;           /* tm_year as the SDK stores it */
    uint32_t wday = (days + 4u) % 7u + 1u;          /* 1..7, Sunday = 1 */
    *time = bcd(sod % 60u) | bcd(sod / 60u % 60u) << 8 | bcd(sod / 3600u) << 16;
    *date = wday | bcd(d) << 8 | (bcd(m) | (years >= 100u ? 0x80u : 0u)) << 16
            | bcd(years % 100u) << 24;
}

int rtc_calendar_to_unix(uint32_t time, uint32_t date, uint32_t *seconds)
{
    uint32_t s = unbcd(time & 0x7Fu), mi = unbcd(time >> 8 & 0x7Fu), hb = time >> 16 & 0xFFu;
    uint32_t h;
    if (hb & 0x40u) { /* 12-hour mode, bit 5 = PM */
        h = unbcd(hb & 0x1Fu) % 12u + ((hb & 0x20u) ? 12u : 0u);
    } else {
        h = unbcd(hb & 0x3Fu);
    }
    uint32_t d = unbcd(date >> 8 & 0x3Fu), mb = date >> 16 & 0xFFu, m = unbcd(mb & 0x1Fu);
    int32_t y = 1900 + (int32_t)unbcd(date >> 24) + ((mb & 0x80u) ? 100 : 0);
    if (s > 59u || mi > 59u || h > 23u || m < 1u || m > 12u || d < 1u || d > 31u || y < 1970)
        return -1;
    *seconds = (uint32_t)days_from_civil(y, m, d) * 86400u + h * 3600u + mi * 60u + s;
    return 0;
}

/* ---- rev C: the calendar RTC, driven as the SDK's rtc.c drives it --------------------- */

static void rtcc_wait_transfer(void)
{
    while (RTCC_CTRL & RTCC_CTRL_WRST)
        ;
}

/* Writes the control register together with WRST and waits for the transfer (write_reg). */
static void rtcc_write_ctrl(uint32_t ctrl)
{
    rtcc_wait_transfer();
    RTCC_CTRL = (ctrl & ~(RTCC_CTRL_MRFEN | RTCC_CTRL_WRST)) | RTCC_CTRL_WRST;
    rtcc_wait_transfer();
}

static void rtcc_set(uint32_t seconds, uint32_t ctrl)
{
    uint32_t t, d;
    rtc_calendar_from_unix(seconds, &t, &d);
    rtcc_wait_transfer();
    RTCC_DATE = d;
    RTCC_TIME = t;
    rtcc_write_ctrl(ctrl);
}

static uint32_t rtcc_read(void)
{
    if (!(RTCC_CTRL & RTCC_CTRL_ARFEN)) {
        RTCC_CTRL |= RTCC_CTRL_MRFEN;
        while (RTCC_CTRL & RTCC_CTRL_MRFEN)
            ;
    }
    uint32_t secs;
    return rtc_calendar_to_unix(RTCC_TIME, RTCC_DATE, &secs) == 0 ? secs : 0u;
}

/* ---- the API --------------------------------------------------------------------------- */

void rtc_start(uint32_t seconds)
{
    if (sys_is_rev_b()) {
        RTC_CCR = (RTC_CCR & ~RTC_CCR_WEN) | RTC_CCR_EN;
        RTC_CLR = 0;
        rev_b_epoch = seconds;
        return;
    }
    rtcc_set(seconds, RTCC_CTRL | RTCC_CTRL_RTCEN);
}

void rtc_stop(void)
{
    if (sys_is_rev_b())
        RTC_CCR &= ~RTC_CCR_EN;
    else
        rtcc_write_ctrl(RTCC_CTRL & ~(RTCC_CTRL_RTCEN | RTCC_CTRL_ARFEN));
}

void rtc_set(uint32_t seconds)
{
    if (sys_is_rev_b()) {
        RTC_CLR = 0;
        rev_b_epoch = seconds;
        return;
    }
    rtcc_set(seconds, RTCC_CTRL);
}

uint32_t rtc_read(void)
{
    if (sys_is_rev_b())
        return rev_b_epoch + RTC_CCVR / RTC_COUNTS_PER_SECOND;
    return rtcc_read();
}

static void rtc_isr(void)
{
    if (sys_is_rev_b()) {
        if (RTC_STAT & 1u) {
            (void)RTC_EOI; /* reading clears the match interrupt */
            if (match_cb)
                match_cb(rtc_read());
        }
        return;
    }
    if (RTCC_STA & RTCC_STA_A1INT) {
        RTCC_STA = RTCC_STA_A1INT; /* write 1 to clear */
        if (match_cb)
            match_cb(rtc_read());
    }
}

int rtc_set_match(uint32_t seconds, rtc_callback_t cb)
{
    if (cb == 0)
        return -1;
    uint8_t s = interrupt_save();
    match_cb = cb;
    interrupt_attach(IRQ_RTC, IRQ_RTC, rtc_isr);
    if (sys_is_rev_b()) {
        RTC_CMR = (seconds - rev_b_epoch) * RTC_COUNTS_PER_SECOND;
        (void)RTC_EOI;
        RTC_CCR = (RTC_CCR & ~RTC_CCR_MASK) | RTC_CCR_IEN;
    } else {
        /* Alarm 1 on date, hours, minutes and seconds (no field masked). */
        uint32_t t, d;
        rtc_calendar_from_unix(seconds, &t, &d);
        rtcc_wait_transfer();
        RTCC_AALARM1 = t | (d & 0x3F00u) << 16;
        RTCC_STA = RTCC_STA_A1INT;
        rtcc_write_ctrl(RTCC_CTRL | RTCC_CTRL_INTEN | RTCC_CTRL_A1IE);
    }
    interrupt_restore(s);
    return 0;
}

void rtc_clear_match(void)
{
    if (sys_is_rev_b()) {
        RTC_CCR &= ~RTC_CCR_IEN;
        (void)RTC_EOI;
        return;
    }
    rtcc_write_ctrl(RTCC_CTRL & ~RTCC_CTRL_A1IE);
    RTCC_STA = RTCC_STA_A1INT;
}
