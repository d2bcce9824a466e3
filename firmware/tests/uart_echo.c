/*
 * uart_echo - interrupt-driven UART0: reads lines (fed by the host side) and prints each one
 * back as "echo: <line>" until the line "quit". Lines longer than the 16-byte hardware FIFO
 * must arrive intact (the RX interrupt empties the FIFO in time) and the output goes through
 * the THR-empty interrupt. Also checks the divisor arithmetic of the driver.
 */
#include <string.h>
#include "ft900_interrupt.h"
#include "ft900_timer.h"
#include "testlib.h"

#define LINE_MAX    120u
#define TIMEOUT_MS  5000u

int main(void)
{
    /* Receive by interrupt before printing anything: input may already be arriving. */
    uart_open(UART0, 115200);
    uart_enable_interrupts(UART0);
    timer_tick_init();
    interrupt_enable_globally();

    test_begin("uart_echo");
    CHECK(uart_divisor(115200) == 217 && uart_divisor(9600) == 2604 &&
              uart_divisor(921600) == 27,
          "baud divisors 217/2604/27 (%u/%u/%u)", uart_divisor(115200), uart_divisor(9600),
          uart_divisor(921600));
    tprintf("echo ready\n");

    char line[LINE_MAX + 1];
    unsigned len = 0, lines = 0, longest = 0, bytes = 0;
    int quit = 0;
    uint32_t start = millis();
    while (!quit && millis() - start < TIMEOUT_MS) {
        int c = uart_try_getc(UART0);
        if (c < 0)
            continue;
        bytes++;
        if (c == '\r')
            continue;
        if (c != '\n') {
            if (len < LINE_MAX)
                line[len++] = (char)c;
            continue;
        }
        line[len] = '\0';
        if (strcmp(line, "quit") == 0) {
            quit = 1;
        } else {
            tprintf("echo: %s\n", line);
            lines++;
            if (len > longest)
                longest = len;
        }
        len = 0;
    }

    struct uart_stats st;
    uart_get_stats(UART0, &st);
    tprintf("%u lines echoed, longest %u bytes, %u bytes received in %lu ms\n", lines, longest,
            bytes, millis() - start);
    CHECK(quit, "\"quit\" received before the %u ms time-out", TIMEOUT_MS);
    CHECK(lines > 0, "lines echoed (%u)", lines);
    CHECK(st.rx_overruns == 0 && st.rx_dropped == 0, "no byte lost (overruns %lu, dropped %lu)",
          st.rx_overruns, st.rx_dropped);
    CHECK(st.rx_bytes == bytes, "all %lu received bytes read", st.rx_bytes);
    CHECK(st.interrupts > 0, "UART interrupts handled (%lu)", st.interrupts);
    CHECK(interrupt_spurious_count() == 0, "no spurious interrupts (%lu)",
          interrupt_spurious_count());
    return test_end();
}
