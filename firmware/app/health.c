/*
 * health.c - the watchdog, progress and the stack guard (see health.h).
 */
#include "health.h"

#include "ft900_interrupt.h"
#include "ft900_sys.h"
#include "ft900_timer.h"
#include "ft900_timer_regs.h"
#include "ft900_uart.h"
#include "keep.h"

#define NOTE_WATCHDOG 0x57D06F1Du

static uint32_t note KEEP;      /* NOTE_WATCHDOG: the watchdog's first expiry was seen */
static uint32_t last_progress_ms;
static uint32_t last_report_ms;
static uint8_t stopped;         /* health_reset() or a stack overflow: no more kicks */

/* First expiry: note it (the reset follows at the second, unless the main loop recovers and
   kicks) and clear the flag, as the SDK's default handler does. */
static void on_watchdog(void)
{
    note = NOTE_WATCHDOG;
    TIMER_CONTROL_2 = (uint8_t)(TIMER_CONTROL_2 | TIMER_WDG_INT);
}

int health_init(void)
{
    int was_watchdog = note == NOTE_WATCHDOG;
    note = 0;
    interrupt_set_watchdog_handler(on_watchdog);
    wdt_init(HEALTH_WDT_EXPONENT);
    last_progress_ms = millis();
    last_report_ms = millis();
    return was_watchdog;
}

void health_progress(void)
{
    last_progress_ms = millis();
    note = 0; /* a noted first expiry that was recovered from is no reset cause */
}

void health_poll(void)
{
    if (stopped)
        return;
    if (!sys_stack_guard_ok()) {
        stopped = 1;
        uart_printf(UART0, "ERROR stack overflow: the guard word at the stack's limit was "
                    "overwritten (high-water %u of %u bytes); resetting by the watchdog\n",
                    (unsigned)sys_stack_high_water(), (unsigned)sys_stack_size());
        return;
    }
    if (millis() - last_progress_ms >= HEALTH_PROGRESS_MAX_MS) {
        stopped = 1;
        uart_printf(UART0, "ERROR watchdog: no progress for %u ms; resetting\n",
                    (unsigned)(millis() - last_progress_ms));
        return;
    }
    wdt_kick();
    if (millis() - last_report_ms >= HEALTH_REPORT_MS) {
        last_report_ms = millis();
        uart_printf(UART0, "health: stack high-water %u of %u bytes, uptime %u ms\n",
                    (unsigned)sys_stack_high_water(), (unsigned)sys_stack_size(),
                    (unsigned)last_report_ms);
    }
}

void health_reset(const char *why)
{
    stopped = 1;
    uart_printf(UART0, "ERROR %s: resetting by the watchdog\n", why);
    uart_flush(UART0);
    for (;;)
        sys_wait_for_interrupt();
}
