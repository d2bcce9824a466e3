/*
 * pm_print.h - log lines whose format stays in program memory. On the FT900, C pointers
 * address RAM, so every string literal (.rodata) is copied into RAM at start-up; the long
 * format strings of rare events (a poison item, the time taken from the server) live in PM
 * instead and are copied onto the stack only while they are printed.
 *
 *     PM_PRINTF("time: %u from the server's Date\n", (unsigned)t);
 */
#ifndef APP_PM_PRINT_H
#define APP_PM_PRINT_H

#define PM_PRINT_MAX 160u /* longest format, NUL included (longer ones are cut) */

/* uart_printf(UART0, fmt, ...) with fmt in program memory. */
void pm_printf(const __flash__ char *fmt, ...);

#define PM_PRINTF(text, ...)                                                                  \
    do {                                                                                      \
        static const __flash__ char pm_fmt_[] __attribute__((section("._pm.fmt"))) = text;  \
        _Static_assert(sizeof(text) <= PM_PRINT_MAX, "format longer than PM_PRINT_MAX");     \
        pm_printf(pm_fmt_, ##__VA_ARGS__);                                                    \
    } while (0)

#endif /* APP_PM_PRINT_H */
