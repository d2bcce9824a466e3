/*
 * The two functions the SDK's lwIP port (Source/3rdparty/lwip/src/arch) calls and the FT9xx
 * toolchain's lwIP library supplies; linked only into projects that use lwIP.
 *
 * - millis: milliseconds since the scheduler started, from the FreeRTOS tick count (the port's
 *   `sys_now` and `sys_jiffies` are built on it). Without FreeRTOS (NO_SYS builds) the project
 *   must provide its own millis() from a timer: this one is weak.
 * - sys_mbox_trypost_fromisr: lwIP 2.1's name for a post from an interrupt; the SDK's
 *   `sys_mbox_trypost` already checks whether it runs in an interrupt (uPortIsInISR) and uses
 *   xQueueSendToBackFromISR there, so this forwards to it.
 */
#include "lwip/sys.h"

#if defined(FT32_FREERTOS)
#include "FreeRTOS.h"
#include "task.h"

__attribute__((weak)) u32_t millis(void)
{
    return (u32_t)(xTaskGetTickCount() * portTICK_PERIOD_MS);
}
#endif

#if !NO_SYS
err_t sys_mbox_trypost_fromisr(sys_mbox_t *mbox, void *msg)
{
    return sys_mbox_trypost(mbox, msg);
}
#endif
