/*
 * testlib.h - helpers of the firmware tests: a named test with numbered checks, reported on
 * UART0 (115200 8N1). main() returns test_end(), the number of failed checks, which crt0
 * passes to _exit (0 = success).
 */
#ifndef TESTLIB_H
#define TESTLIB_H

#include <stdint.h>
#include "ft900_format.h"
#include "ft900_uart.h"

/* Opens UART0 (115200 8N1, polled) unless it is open already, and prints the banner
   "== <name> ==". */
void test_begin(const char *name);
/* Records one check; prints "ok   <message>" or "FAIL <message> (line N)". */
void test_check(int ok, int line, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
#define CHECK(cond, ...) test_check((cond) ? 1 : 0, __LINE__, __VA_ARGS__)
/* Prints "<name>: PASS (n checks)" or "<name>: FAIL (f of n checks)", waits until UART0 has
   sent everything, and returns the number of failed checks. */
int test_end(void);
/* Number of failed checks so far. */
unsigned test_failures(void);

#define tprintf(...) uart_printf(UART0, __VA_ARGS__)

#endif /* TESTLIB_H */
