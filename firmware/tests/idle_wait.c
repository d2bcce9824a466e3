/*
 * idle_wait - sys_wait_for_interrupt(): each call returns after exactly one interrupt (here
 * the 1 ms tick), with every register the caller keeps intact; millis() advances one per call.
 * The Rust test also checks that the simulator skips the idle time (few instructions run).
 */
#include "ft900_interrupt.h"
#include "ft900_sys.h"
#include "ft900_timer.h"
#include "testlib.h"

#define WAITS 200u

static volatile uint32_t hook_calls;

static void tick_hook(void)
{
    hook_calls++;
}

int main(void)
{
    test_begin("idle_wait");
    timer_tick_configure();
    timer_tick_set_hook(tick_hook);
    interrupt_enable_globally();
    timer_start_mask(1u << TIMER_A);

    /* Align to a tick, then wait WAITS times: one tick per wait, none missed or extra. */
    sys_wait_for_interrupt();
    uint32_t start = millis(), calls = hook_calls, early = 0;
    for (uint32_t i = 0; i < WAITS; i++) {
        uint32_t before = hook_calls;
        sys_wait_for_interrupt();
        if (hook_calls != before + 1)
            early++;
    }
    uint32_t elapsed = millis() - start, handled = hook_calls - calls;
    CHECK(elapsed == WAITS, "%lu waits took %lu ms (one tick each)", (unsigned long)WAITS,
          (unsigned long)elapsed);
    CHECK(handled == WAITS, "the tick handler ran %lu times during %lu waits",
          (unsigned long)handled, (unsigned long)WAITS);
    CHECK(early == 0, "%lu waits returned without exactly one interrupt", (unsigned long)early);
    return test_end();
}
