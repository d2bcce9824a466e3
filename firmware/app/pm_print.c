/*
 * pm_print.c - see pm_print.h.
 */
#include <stdarg.h>

#include "ft900_uart.h"
#include "pm_print.h"

void pm_printf(const __flash__ char *fmt, ...)
{
    char buf[PM_PRINT_MAX];
    unsigned n = 0;
    while (n + 1u < sizeof buf && fmt[n] != '\0') {
        buf[n] = fmt[n];
        n++;
    }
    buf[n] = '\0';
    va_list ap;
    va_start(ap, fmt);
    uart_vprintf(UART0, buf, ap);
    va_end(ap);
}
