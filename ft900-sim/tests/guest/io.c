/* gdb-sim I/O ports: console input by reading 0x10000 (host stdin, EOF = 0xFFFFFFFF), console output
 * by stores of any width to 0x10000 (low byte), the debug port 0x1FFF8 ("Debug write %08x"), writes
 * to unknown ports (ignored with a message on stderr), reads of 0x10000 at .b/.s widths.
 * The differential suite feeds the same bytes to both simulators' stdin. docs/hardware/memory-map.md §3. */
#include "ft900_test.h"

#define CON_L (*(volatile unsigned *)0x10000)
#define CON_S (*(volatile unsigned short *)0x10000)
#define CON_B (*(volatile unsigned char *)0x10000)
#define DEBUG_PORT (*(volatile unsigned *)0x1FFF8)

int main(void)
{
    fflush(stdout);
    CON_L = 0x41424344; /* prints 'D' */
    CON_S = 0x0a45;     /* 'E' */
    CON_B = '\n';
    CON_L = 0x100 | '!';
    CON_B = '\n';
    DEBUG_PORT = 0xcafebabe;
    DEBUG_PORT = 0;
    *(volatile unsigned char *)0x1FFF8 = 0x7f; /* a byte store to the debug port */
    *(volatile unsigned *)0x1FFF0 = 0x1234;    /* unknown port: ignored */
    *(volatile unsigned *)0x1FFF4 = 99;        /* writing the cycle counter: ignored */
    *(volatile unsigned *)0x10004 = 5;         /* unknown port (write): ignored */

    /* read stdin through the console port until EOF */
    unsigned n = 0, sum = 0, c, lines = 0;
    char first[40];
    while ((c = CON_L) != 0xffffffff && n < 10000) {
        if (n < sizeof first - 1)
            first[n] = (char)c;
        if (c == '\n')
            lines++;
        sum = sum * 31 + c;
        n++;
    }
    first[n < sizeof first - 1 ? n : sizeof first - 1] = 0;
    SHOW("stdin bytes", n);
    SHOW("stdin lines", lines);
    SHOW("stdin checksum", sum);
    printf("stdin starts with [%s]\n", first);
    CHECK("read at EOF again", CON_L, 0xffffffff);
    SHOW("byte read at EOF", CON_B);
    SHOW("half read at EOF", CON_S);
    /* libgloss read() is a stub: getchar() sees EOF without touching the port */
    SHOW("getchar()", (unsigned)getchar());
    return ft_done("io");
}
