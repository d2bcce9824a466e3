/* Program-memory reads: lpm (absolute) and lpmi (register + k15) at .b/.s/.l, zero extension,
 * alignment rounding, k15 offsets, reading instruction words, and GCC's __flash__ address space.
 * docs/hardware/isa.md §1.4, §1.5, §2.4, §2.11. */
#include "ft900_test.h"

/* A table in PM (.text): pm_tab[0] = 0x12345678 ... */
__asm__(".text\n\t.p2align 2\n\t.global pm_tab\npm_tab:\n\t"
        ".long 0x12345678, 0xabcdef01, 0x8899aabb, 0xccddeeff\n\t"
        ".rept 60\n\t.long 0x01010101\n\t.endr\n\t"
        ".long 0xfeedface\n"
        "pm_code:\n\tldk.l $r0,0x123\n\treturn\n");

#define LPM(sz, sym) ({ unsigned _r; __asm__ volatile("lpm." sz " %0," sym : "=r"(_r)); _r; })
#define LPMI(sz, base, off) ({ unsigned _r; __asm__ volatile("lpmi." sz " %0,%1," #off : "=r"(_r) : "r"(base)); _r; })

static const __flash__ unsigned short ftab[6] = {0x1111, 0x2222, 0x8333, 0xfff4, 0x0005, 0x6666};
static const __flash__ signed char fchars[4] = {-1, -2, 3, 127};
static const __flash__ char fstr[] = "flash string";

static unsigned pm_addr(void)
{
    unsigned a;
    __asm__("ldk.l %0,pm_tab" : "=r"(a));
    return a;
}

int main(void)
{
    CHECK("lpm.l pm_tab", LPM("l", "pm_tab"), 0x12345678);
    CHECK("lpm.l pm_tab+4", LPM("l", "pm_tab+4"), 0xabcdef01);
    CHECK("lpm.s pm_tab", LPM("s", "pm_tab"), 0x5678);
    CHECK("lpm.b pm_tab", LPM("b", "pm_tab"), 0x78);
    CHECK("lpm.l pm_code (ldk.l $r0,0x123)", LPM("l", "pm_code"), 0x64000123);
    CHECK("lpm.l pm_code+4 (return)", LPM("l", "pm_code+4"), 0xa0000000);

    unsigned k = pm_addr();
    /* §2.11: lpmi.b r2,r1,0 with r1 = k..k+3 */
    CHECK("lpmi.b k+0", LPMI("b", k + 0, 0), 0x78);
    CHECK("lpmi.b k+1", LPMI("b", k + 1, 0), 0x56);
    CHECK("lpmi.b k+2", LPMI("b", k + 2, 0), 0x34);
    CHECK("lpmi.b k+3", LPMI("b", k + 3, 0), 0x12);
    CHECK("lpmi.s k+2", LPMI("s", k, 2), 0x1234);
    CHECK("lpmi.s k+3 rounds", LPMI("s", k, 3), 0x1234);
    CHECK("lpmi.l k+6 rounds", LPMI("l", k, 6), 0xabcdef01);
    CHECK("lpmi.l k+8", LPMI("l", k + 8, 0), 0x8899aabb);
    CHECK("lpmi.b k+13", LPMI("b", k, 13), 0xee);
    /* k15 offsets: pm_tab+256 holds 0xfeedface (16 + 240 bytes) */
    CHECK("lpmi.l +256", LPMI("l", k, 256), 0xfeedface);
    CHECK("lpmi.l base+384, -128", LPMI("l", k + 384, -128), 0xfeedface);
    CHECK("lpmi.l base+383, -127", LPMI("l", k + 383, -127), 0xfeedface);
    CHECK("lpmi.l base+56, +200", LPMI("l", k + 56, 200), 0xfeedface);
    CHECK("lpmi.l base+456, -200", LPMI("l", k + 456, -200), 0xfeedface);
    CHECK("lpmi.l base+129, +127", LPMI("l", k + 129, 127), 0xfeedface);
    CHECK("lpmi.s k+8, +128 (raw 0xCB00...)", LPMI("s", k + 128 + 8 - 128, 128), 0x0101);
    {
        /* hand-encoded lpmi.l $r1,$r2,-200 = 0xCC117F38 and +200 = 0xCC117FC8 */
        unsigned a, b;
        __asm__ volatile("move.l $r2,%1\n\t.long 0xCC117F38\n\tmove.l %0,$r1" : "=r"(a) : "r"(k + 456) : "$r1", "$r2");
        __asm__ volatile("move.l $r2,%1\n\t.long 0xCC117FC8\n\tmove.l %0,$r1" : "=r"(b) : "r"(k + 56) : "$r1", "$r2");
        CHECK("raw lpmi.l -200", a, 0xfeedface);
        CHECK("raw lpmi.l +200", b, 0xfeedface);
    }

    /* __flash__: the compiler reads these with lpm/lpmi */
    unsigned sum = 0;
    for (int i = 0; i < 6; i++)
        sum = sum * 7 + ftab[i];
    CHECK("__flash__ short table", sum, ((((0x1111u * 7 + 0x2222) * 7 + 0x8333) * 7 + 0xfff4) * 7 + 5) * 7 + 0x6666);
    int s = 0;
    for (int i = 0; i < 4; i++)
        s += fchars[i];
    CHECK("__flash__ signed chars", s, 127);
    unsigned n = 0;
    while (fstr[n])
        n++;
    CHECK("__flash__ string length", n, 12);
    volatile int idx = 3;
    CHECK("__flash__ indexed", ftab[idx], 0xfff4);
    return ft_done("lpm");
}
