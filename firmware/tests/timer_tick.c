/*
 * timer_tick - the 1 ms tick (timer A, prescaler 50, count 2000, IRQ 17) against a
 * free-running timer B on the same prescaler and against the RTC; delay_ms; the watchdog.
 *
 * Timer B counts the same 2 MHz prescaler ticks up to 50000 (continuous, no interrupt) and is
 * started with timer A in one write, so at every tick interrupt it has advanced 2000 counts
 * (100 000 cycles). The Rust test also measures the tick period in CPU cycles at the vector.
 */
#include "ft900_interrupt.h"
#include "ft900_rtc.h"
#include "ft900_sys.h"
#include "ft900_timer.h"
#include "testlib.h"

#define MEASURED_TICKS  100u
#define B_PERIOD        50000u
#define RTC_START       1000u
#define WDT_EXPONENT    21u     /* 2^21 cycles = 20.97 ms */

static volatile uint32_t b_last, b_first, b_ticks, b_min = 0xFFFFFFFFu, b_max, b_sum;
static volatile uint32_t rtc_millis[3];
static volatile uint32_t rtc_seconds[3];
static volatile unsigned rtc_matches;
static volatile int kick_from_tick;

static void tick_hook(void)
{
    if (kick_from_tick)
        wdt_kick();
    if (b_ticks > MEASURED_TICKS)
        return;
    uint32_t b = timer_read(TIMER_B);
    if (b_ticks == 0) {
        b_first = b;
    } else {
        uint32_t d = (b + B_PERIOD - b_last) % B_PERIOD;
        if (d < b_min)
            b_min = d;
        if (d > b_max)
            b_max = d;
        b_sum += d;
    }
    b_last = b;
    b_ticks++;
}

static void rtc_match(uint32_t seconds)
{
    unsigned i = rtc_matches;
    if (i < 3) {
        rtc_millis[i] = millis();
        rtc_seconds[i] = seconds;
        rtc_matches = i + 1;
        if (i + 1 < 3)
            rtc_set_match(RTC_START + i + 2, rtc_match);
    }
}

int main(void)
{
    test_begin("timer_tick");

    /* Timer A: the tick. Timer B: free-running on the same prescaler. Start both at once. */
    timer_tick_configure();
    timer_setup(TIMER_B, B_PERIOD, TIMER_FLAG_UP | TIMER_FLAG_PRESCALED);
    timer_tick_set_hook(tick_hook);
    interrupt_enable_globally();
    timer_start_mask((1u << TIMER_A) | (1u << TIMER_B));

    while (b_ticks <= MEASURED_TICKS)
        ;
    uint32_t ticks = MEASURED_TICKS;
    tprintf("timer B over %lu ticks: %lu counts (min %lu, max %lu per tick)\n", ticks, b_sum,
            b_min, b_max);
    CHECK(millis() >= MEASURED_TICKS, "millis() = %lu after %lu tick interrupts", millis(),
          ticks);
    CHECK(b_sum + 1u >= ticks * 2000u && b_sum <= ticks * 2000u + 1u,
          "timer B advanced %lu counts in %lu ticks (2000 per tick = 100000 cycles)", b_sum,
          ticks);
    CHECK(b_min >= 1999u && b_max <= 2001u, "every tick 2000 +/- 1 timer B counts (%lu..%lu)",
          b_min, b_max);

    /* RTC: two match interrupts one second apart are 1000 ticks apart. */
    uint32_t start = millis();
    rtc_start(RTC_START);
    CHECK(rtc_read() == RTC_START, "RTC loaded with %u (reads %lu)", RTC_START, rtc_read());
    if (sys_is_rev_b()) {
        CHECK(RTC_COMP_VERSION == RTC_COMP_VERSION_VALUE, "rev B RTC_COMP_VERSION = %08lx",
              RTC_COMP_VERSION);
    } else {
        /* rtc_read refreshed the wrapper: 1970-01-01 (Thursday = 5) 00:16:40, in BCD. */
        CHECK(RTCC_TIME == 0x00001640u && RTCC_DATE == 0x70010105u,
              "rev C RTC_TIME %08lx RTC_DATE %08lx", RTCC_TIME, RTCC_DATE);
    }
    rtc_set_match(RTC_START + 1, rtc_match);
    interrupt_enable_globally();
    while (rtc_matches < 3 && millis() - start < 4000u)
        ;
    rtc_clear_match();
    CHECK(rtc_matches == 3, "3 RTC match interrupts (%u)", rtc_matches);
    CHECK(rtc_seconds[0] == RTC_START + 1 && rtc_seconds[2] == RTC_START + 3,
          "RTC counted %lu, %lu, %lu", rtc_seconds[0], rtc_seconds[1], rtc_seconds[2]);
    CHECK(rtc_millis[1] - rtc_millis[0] == 1000u && rtc_millis[2] - rtc_millis[1] == 1000u,
          "1000 ticks per RTC second (%lu, %lu)", rtc_millis[1] - rtc_millis[0],
          rtc_millis[2] - rtc_millis[1]);
    CHECK(rtc_millis[0] - start >= 999u && rtc_millis[0] - start <= 1001u,
          "first RTC second after %lu ms", rtc_millis[0] - start);

    /* delay_ms waits at least the time asked, and less than one tick more. */
    uint32_t t0 = millis();
    delay_ms(10);
    uint32_t waited = millis() - t0;
    CHECK(waited >= 10u && waited <= 11u, "delay_ms(10) took %lu ticks", waited);

    /* Watchdog: kicked every millisecond it stays quiet; left alone it fires once. */
    wdt_init(WDT_EXPONENT);
    kick_from_tick = 1;
    delay_ms(60);
    CHECK(interrupt_watchdog_count() == 0, "kicked watchdog did not fire (%lu)",
          interrupt_watchdog_count());
    kick_from_tick = 0;
    wdt_kick();
    uint32_t k0 = millis();
    while (interrupt_watchdog_count() == 0 && millis() - k0 < 100u)
        ;
    uint32_t fired = millis() - k0;
    kick_from_tick = 1; /* before the second expiry would reset the chip */
    CHECK(interrupt_watchdog_count() == 1, "unkicked watchdog fired once after %lu ms", fired);
    CHECK(fired >= 20u && fired <= 22u, "watchdog timeout 2^%u cycles = 21 ms (%lu)",
          WDT_EXPONENT, fired);

    CHECK(interrupt_spurious_count() == 0, "no spurious interrupts (%lu)",
          interrupt_spurious_count());
    return test_end();
}
