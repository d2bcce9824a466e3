/*
 * health.h - the watchdog, the main loop's progress, and the stack guard.
 *
 * The watchdog (AN_324 section 14; hal/timer.c) runs from the first lines of main() with a
 * timeout of 2^HEALTH_WDT_EXPONENT cycles (2.68 s at 100 MHz): its first expiry without a kick
 * enters the watchdog vector, whose handler notes it in .noinit; the second, 2.68 s later,
 * resets the chip. It is kicked from app_idle() (every wait loop of the firmware calls it, and
 * the main loop does on every pass) through health_poll(), but only while
 *   - the main loop reported progress (health_progress(): a pass of the main loop, a step of the
 *     boot sequence, a new attempt of an upload) less than HEALTH_PROGRESS_MAX_MS ago, and
 *   - the stack guard word is intact (sys_stack_guard_ok()).
 * So a loop that spins without idling (a hang) is reset after 5.4 s, a wait that never ends
 * (every wait of the firmware has its own timeout, so this is a bug) after at most
 * HEALTH_PROGRESS_MAX_MS + 5.4 s, and a stack overflow as soon as it is seen: reported on UART0
 * ("ERROR stack overflow ..."), then the same reset. Every HEALTH_REPORT_MS it prints the stack's
 * high-water mark ("health: stack high-water N of M bytes, uptime T ms"), so that a device in the
 * field shows how close its stack came to the guard. Work that takes long without idling (the TLS
 * handshake's signature checks, ~0.5 s each) stays well inside the 2.68 s.
 */
#ifndef APP_HEALTH_H
#define APP_HEALTH_H

#include <stdint.h>

#define HEALTH_WDT_EXPONENT     28u         /* 2^28 cycles = 2.68 s to the first expiry */
#define HEALTH_PROGRESS_MAX_MS  180000u     /* the longest legitimate pass (an upload's
                                               5 attempts with their timeouts and backoffs) */
#define HEALTH_REPORT_MS        600000u     /* "health: stack high-water ..." every 10 min */

/* Starts the watchdog and attaches its handler. Returns 1 if the previous run ended in a
   watchdog reset (the handler's note in .noinit, cleared here). */
int health_init(void);
/* The main loop made progress now. */
void health_progress(void);
/* Kicks the watchdog if progress is recent and the stack guard intact (see above). */
void health_poll(void);
/* Reports `why` on UART0 and stops kicking: the watchdog resets the chip (never returns). */
void health_reset(const char *why) __attribute__((noreturn));

#endif /* APP_HEALTH_H */
