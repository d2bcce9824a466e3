/*
 * testlib.c - see testlib.h.
 */
#include <stdarg.h>
#include "testlib.h"
#include "ft900_interrupt.h"

static const char *test_name;
static unsigned checks, failures;

void test_begin(const char *name)
{
    test_name = name;
    checks = failures = 0;
    if (!uart_is_open(UART0))
        uart_open(UART0, 115200);
    tprintf("== %s ==\n", name);
}

void test_check(int ok, int line, const char *fmt, ...)
{
    va_list ap;
    checks++;
    if (!ok)
        failures++;
    tprintf("%s", ok ? "ok   " : "FAIL ");
    va_start(ap, fmt);
    uart_vprintf(UART0, fmt, ap);
    va_end(ap);
    if (!ok)
        tprintf(" (line %d)", line);
    tprintf("\n");
}

unsigned test_failures(void)
{
    return failures;
}

int test_end(void)
{
    if (failures == 0)
        tprintf("%s: PASS (%u checks)\n", test_name, checks);
    else
        tprintf("%s: FAIL (%u of %u checks)\n", test_name, failures, checks);
    uart_flush(UART0);
    return (int)failures;
}
