/* FFU pattern (0x1E): udiv/umod/div/mod (incl. INT_MIN / -1; never division by zero, which crashes
 * the reference), mul/muluh, strcmp/memcpy/strlen/memset/stpcpy at .b/.s/.l, streamout to the
 * console port. docs/hardware/isa.md §2.8, §2.11. */
#include "ft900_test.h"
#include <string.h>

static unsigned char ram[256] __attribute__((aligned(4)));

static const unsigned dvals[] = {0, 1, 2, 3, 7, 10, 100, 0x7fffffff, 0x80000000, 0x80000001,
                                 0xfffffff9, 0xfffffffe, 0xffffffff, 0x12345678, 0xabcdef01, 0x10000};
#define ND (sizeof dvals / sizeof dvals[0])

int main(void)
{
    /* §2.11 */
    CHECK("mul 12345678^2", ASM_RR("mul.l", 0x12345678, 0x12345678), 0x1df4d840);
    CHECK("muluh 12345678^2", ASM_RR("muluh.l", 0x12345678, 0x12345678), 0x014b66dc);
    CHECK("muluh ffffffff^2", ASM_RR("muluh.l", 0xffffffff, 0xffffffff), 0xfffffffe);
    CHECK("mul imm -3", ASM_RI("mul.l", 7, -3), (unsigned)-21);
    CHECK("div -7/2", ASM_RR("div.l", -7, 2), (unsigned)-3);
    CHECK("mod -7%2", ASM_RR("mod.l", -7, 2), (unsigned)-1);
    CHECK("div INT_MIN/-1", ASM_RR("div.l", 0x80000000u, -1), 0x80000000);
    CHECK("mod INT_MIN%-1", ASM_RR("mod.l", 0x80000000u, -1), 0);
    CHECK("div.l imm 10", ASM_RI("div.l", 12345, 10), 1234);
    CHECK("udiv ffffffff/10", ASM_RI("udiv.l", 0xffffffff, 10), 429496729);
    CHECK("umod ffffffff%10", ASM_RI("umod.l", 0xffffffff, 10), 5);
    CHECK("udiv.b ignores dw", ASM_RR("udiv.b", 0x10000, 2), 0x8000);

    /* sweep (divisors never zero) */
    unsigned bad = 0, sum = 0;
    for (unsigned i = 0; i < ND; i++)
        for (unsigned j = 0; j < ND; j++) {
            unsigned a = dvals[i], b = dvals[j], r;
            unsigned long long p = (unsigned long long)a * b;
            r = ASM_RR("mul.l", a, b); sum = sum * 31 + r; bad += r != (unsigned)p;
            r = ASM_RR("muluh.l", a, b); sum = sum * 31 + r; bad += r != (unsigned)(p >> 32);
            if (b == 0)
                continue;
            r = ASM_RR("udiv.l", a, b); sum = sum * 31 + r; bad += r != a / b;
            r = ASM_RR("umod.l", a, b); sum = sum * 31 + r; bad += r != a % b;
            int sa = (int)a, sb = (int)b;
            unsigned q = (sa == (int)0x80000000 && sb == -1) ? 0x80000000 : (unsigned)(sa / sb);
            unsigned m = (sa == (int)0x80000000 && sb == -1) ? 0 : (unsigned)(sa % sb);
            r = ASM_RR("div.l", a, b); sum = sum * 31 + r; bad += r != q;
            r = ASM_RR("mod.l", a, b); sum = sum * 31 + r; bad += r != m;
        }
    ft_failures += bad;
    SHOW("divide/multiply sweep checksum", sum);
    CHECK("divide/multiply sweep mismatches", bad, 0);

    /* strings */
    static char s1[16] = "abc", s2[16] = "abd", s3[16] = "abc", s4[16] = "", s5[16] = "ab\xff";
    CHECK("strcmp abc,abd", ASM_RR("strcmp.b", s1, s2), 0xffffffff);
    CHECK("strcmp abd,abc", ASM_RR("strcmp.l", s2, s1), 1);
    CHECK("strcmp abc,abc", ASM_RR("strcmp.s", s1, s3), 0);
    CHECK("strcmp abc,\"\"", ASM_RR("strcmp.b", s1, s4), 'a');
    CHECK("strcmp abc,ab\\xff (unsigned bytes)", ASM_RR("strcmp.b", s1, s5), (unsigned)('c' - 0xff));
#define STRLEN(sz, s) ({ unsigned _r; __asm__ volatile("strlen." sz " %0,%1" : "=r"(_r) : "r"(s) : "memory"); _r; })
    CHECK("strlen.b abc", STRLEN("b", s1), 3);
    CHECK("strlen.s abc", STRLEN("s", s1), 3);
    CHECK("strlen.l abc", STRLEN("l", s1), 3);
    CHECK("strlen.b empty", STRLEN("b", s4), 0);
    CHECK("strlen.b odd address", STRLEN("b", s5 + 1), 2);

    /* memset §2.11: memset.s r0(=4),r1(=0xAA),8 then memset.b r0,r1(=0x55),5 */
    memset(ram, 0, sizeof ram);
    __asm__ volatile("memset.s %0,%1,8" : : "r"(ram + 4), "r"(0xAA) : "memory");
    __asm__ volatile("memset.b %0,%1,5" : : "r"(ram + 4), "r"(0x55) : "memory");
    CHECK("memset word@4", *(unsigned *)(ram + 4), 0x55555555);
    CHECK("memset word@8", *(unsigned *)(ram + 8), 0xaaaaaa55);
    CHECK("memset word@12 untouched", *(unsigned *)(ram + 12), 0);
    __asm__ volatile("memset.l %0,%1,%2" : : "r"(ram + 16), "r"(0x1234567f), "r"(7) : "memory");
    CHECK("memset.l count 7 (bytes, low byte)", *(unsigned *)(ram + 16), 0x7f7f7f7f);
    CHECK("memset.l count 7 tail", *(unsigned *)(ram + 20), 0x007f7f7f);
    /* count is masked to 15 bits: 0x18004 -> 4 */
    __asm__ volatile("memset.b %0,%1,%2" : : "r"(ram + 32), "r"(0x11), "r"(0x18004) : "memory");
    CHECK("memset count & 0x7fff", *(unsigned *)(ram + 32), 0x11111111);
    CHECK("memset count & 0x7fff tail", *(unsigned *)(ram + 36), 0);

    /* memcpy: rd = destination (unchanged), r1 = source, count */
    for (int i = 0; i < 64; i++)
        ram[64 + i] = (unsigned char)(i * 3 + 1);
    {
        unsigned d = (unsigned)(ram + 128), d0 = d;
        __asm__ volatile("memcpy.b %0,%1,%2" : "+r"(d) : "r"(ram + 64), "r"(13) : "memory");
        CHECK("memcpy leaves rd", d, d0);
        CHECK("memcpy 13 bytes", memcmp(ram + 128, ram + 64, 13), 0);
        CHECK("memcpy stops", ram[128 + 13], 0);
        __asm__ volatile("memcpy.l %0,%1,90" : : "r"(ram + 160), "r"(ram + 64) : "memory");
        CHECK("memcpy.l imm 90 (bytes)", memcmp(ram + 160, ram + 64, 64), 0);
        /* overlapping, ascending copy (propagates) */
        ram[200] = 'x';
        __asm__ volatile("memcpy.b %0,%1,%2" : : "r"(ram + 201), "r"(ram + 200), "r"(10) : "memory");
        CHECK("memcpy overlap ascending", ram[210], 'x');
    }
    /* stpcpy: copy incl. NUL, rd = d + strlen */
    {
        static char dst[32];
        unsigned d = (unsigned)dst;
        __asm__ volatile("stpcpy.b %0,%1" : "+r"(d) : "r"("hello") : "memory");
        CHECK("stpcpy returns end", d - (unsigned)dst, 5);
        CHECK("stpcpy copied", strcmp(dst, "hello"), 0);
        d = (unsigned)dst + 5;
        __asm__ volatile("stpcpy.l %0,%1" : "+r"(d) : "r"(", world") : "memory");
        CHECK("stpcpy append", strcmp(dst, "hello, world"), 0);
        CHECK("stpcpy append end", d - (unsigned)dst, 12);
    }
    /* streamout: write memory to a fixed port; 0x10000 = console */
    {
        static const char msg[] = "streamout.b to the console\n";
        printf("[");
        fflush(stdout);
        __asm__ volatile("streamout.b %0,%1,%2" : : "r"(0x10000), "r"(msg), "r"(sizeof msg - 1) : "memory");
        static const unsigned words[] = {'S', 'T', 'R', '\n'};
        __asm__ volatile("streamout.l %0,%1,%2" : : "r"(0x10000), "r"(words), "r"(sizeof words) : "memory");
        static const unsigned short halves[] = {0x4100 | 'h', 0x4200 | 'a', '\n'};
        __asm__ volatile("streamout.s %0,%1,%2" : : "r"(0x10000), "r"(halves), "r"(sizeof halves) : "memory");
        /* streamout to the debug port prints "Debug write" lines */
        static const unsigned dbg[] = {0xdeadbeef, 0x12345678};
        __asm__ volatile("streamout.l %0,%1,8" : : "r"(0x1fff8), "r"(dbg) : "memory");
        printf("]\n");
    }
    /* C library routines compiled to FFU ops by GCC */
    {
        static char buf[64];
        strcpy(buf, "The quick brown fox");
        CHECK("C strlen", strlen(buf), 19);
        memset(buf + 4, '*', 5);
        CHECK("C memset/strcmp", strcmp(buf, "The ***** brown fox"), 0);
        struct big { int a[10]; } x = {{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}}, y;
        y = x;
        CHECK("struct copy", y.a[9] + y.a[0], 11);
        volatile unsigned num = 1000000007u, den = 97;
        CHECK("C unsigned divide", num / den, 1000000007u / 97);
        CHECK("C unsigned modulo", num % den, 1000000007u % 97);
        volatile int sn = -1000000007, sd = 97;
        CHECK("C signed divide", sn / sd, -1000000007 / 97);
        CHECK("C signed modulo", sn % sd, -1000000007 % 97);
    }
    return ft_done("ffu");
}
