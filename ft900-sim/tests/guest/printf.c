/* libc coverage through newlib's printf family: integers of every width and base, padding and
 * precision, strings and chars, long long and double conversions (this newlib build prints %lld as a
 * 32-bit value and supports floating point: whatever the reference prints is compared byte for byte),
 * snprintf into buffers (self-checked for the C89 conversions), puts/putchar/fputs, stderr (libgloss
 * write() ignores the fd, so it also goes to the console). */
#include "ft900_test.h"
#include <string.h>
#include <stdlib.h>
#include <limits.h>

static char buf[256];

#define SNCHECK(expect, ...) do { snprintf(buf, sizeof buf, __VA_ARGS__); ft_checks++; \
    printf("%-36s [%s]", #__VA_ARGS__, buf); \
    if (strcmp(buf, expect)) { printf("  MISMATCH: expected [%s]", expect); ft_failures++; } printf("\n"); } while (0)

int main(void)
{
    SNCHECK("42", "%d", 42);
    SNCHECK("-2147483648", "%d", INT_MIN);
    SNCHECK("2147483647", "%i", INT_MAX);
    SNCHECK("4294967295", "%u", UINT_MAX);
    SNCHECK("deadbeef DEADBEEF", "%x %X", 0xdeadbeefu, 0xdeadbeefu);
    SNCHECK("0x1f 017", "%#x %#o", 31, 15);
    SNCHECK("[   42] [42   ] [00042]", "[%5d] [%-5d] [%05d]", 42, 42, 42);
    SNCHECK("+7 -7  7", "%+d %+d % d", 7, -7, 7);
    SNCHECK("00012", "%.5d", 12);
    SNCHECK("abc|  abc|abc  |ab", "%s|%5s|%-5s|%.2s", "abc", "abc", "abc", "abc");
    SNCHECK("x%y", "%c%%%c", 'x', 'y');
    SNCHECK("123456789", "%ld", 123456789L);
    SNCHECK("-12", "%hd", (short)-12);
    SNCHECK("(null)", "%s", (char *)0);
    SNCHECK("0x1234", "%p", (void *)0x1234);
    SNCHECK("-1", "%d", (signed char)0xff);
    /* whatever this newlib does with these, both simulators must print the same */
    printf("%%lld: %lld %llu %llx\n", -1234567890123LL, 18446744073709551615ULL, 0x123456789abcdefULL);
    printf("%%f: %f %.3f %10.4f %-10.2f|\n", 3.14159265358979, -2.5, 1e6 / 7, 0.005);
    printf("%%e/%%g: %e %E %g %g %g %G\n", 12345.678, 1e-10, 0.0001, 1e20, 100.0, 1e-5);
    printf("special: %f %f %f\n", 1.0 / 0.0, -1.0 / 0.0, 0.0 / 0.0);
    printf("float arg: %f %.1f\n", (double)1.25f, (double)(float)(1.0 / 3));
    printf("%*d|%-*d|%.*f\n", 6, 7, 6, 7, 2, 2.71828);
    printf("%5c|%-5c|\n", 'a', 'b');
    /* strtol / atoi / strtod round trips */
    CHECK("strtol hex", strtol("0x7fffffff", 0, 16), 0x7fffffff);
    CHECK("strtol base 0 octal", strtol("0777", 0, 0), 0777);
    CHECK("strtoul", strtoul("4000000000", 0, 10), 4000000000u);
    CHECK("atoi negative", atoi("  -98765xyz"), -98765);
    CHECK("strtod*1000", (int)(strtod("3.25e2", 0) * 1000), 325000);
    CHECK("atof", (int)(atof("-0.125") * 8), -1);
    /* puts / putchar / fputs / fprintf(stderr) / fwrite */
    puts("puts line");
    putchar('P'); putchar('\n');
    fputs("fputs line\n", stdout);
    fflush(stdout);
    fprintf(stderr, "to stderr (console too)\n");
    fwrite("fwrite!\n", 1, 8, stdout);
    int n = printf("%s=%d\n", "count", 12345);
    CHECK("printf return value", n, 12);
    /* a long line and many lines (buffering) */
    for (int i = 0; i < 40; i++)
        printf("%02d:%08x:%s%c", i, i * 0x01010101u, i % 3 ? "abc" : "", i % 8 == 7 ? '\n' : ' ');
    printf("\n");
    memset(buf, '=', 200);
    buf[200] = 0;
    puts(buf);
    return ft_done("printf");
}
