/* A first guest program: build it for the reference simulator's conventions and run it.
 *
 *   ft32-elf-gcc -msim -O2 examples/hello.c -o hello.elf
 *   cargo run --release -p ft900-host -- run --stats hello.elf
 */
#include <stdio.h>
#include <string.h>

static unsigned fib(unsigned n) { return n < 2 ? n : fib(n - 1) + fib(n - 2); }

int main(void)
{
    char greeting[32];
    strcpy(greeting, "hello from the FT32");
    printf("%s: fib(20) = %u, %d bytes of RAM\n", greeting, fib(20), 64 * 1024);
    return 0;
}
