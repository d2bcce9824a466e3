/* Data-memory access: lda/sta/exa (absolute) and ldi/sti/exi (register) at .b/.s/.l, zero
 * extension of narrow loads, the alignment rule (.s ignores address bit 0, .l bits 1..0), the
 * 17-bit address truncation (biased 0x800000 pointers, wrapped pointers).
 * docs/hardware/isa.md §1.3, §1.4, §1.5, §2.3, §2.4, §2.11. */
#include "ft900_test.h"

unsigned gw[8] __attribute__((aligned(4))) = {0x12345678, 0xabcdef01, 0x8899aabb, 0xccddeeff, 0, 0, 0, 0};
volatile unsigned gx __attribute__((aligned(4)));

#define LDA(sz, sym) ({ unsigned _r; __asm__ volatile("lda." sz " %0," sym : "=r"(_r) : : "memory"); _r; })
#define STA(sz, sym, v) __asm__ volatile("sta." sz " " sym ",%0" : : "r"((unsigned)(v)) : "memory")
#define EXA(sz, sym, v) ({ unsigned _r = (v); __asm__ volatile("exa." sz " %0," sym : "+r"(_r) : : "memory"); _r; })
#define LDI(sz, p) ({ unsigned _r; __asm__ volatile("ldi." sz " %0,%1,0" : "=r"(_r) : "r"(p) : "memory"); _r; })
#define STI(sz, p, v) __asm__ volatile("sti." sz " %0,0,%1" : : "r"(p), "r"((unsigned)(v)) : "memory")
#define EXI(sz, p, v) ({ unsigned _r = (v); __asm__ volatile("exi." sz " %0,%1,0" : "+r"(_r) : "r"(p) : "memory"); _r; })

static void reset(void)
{
    gw[0] = 0x12345678; gw[1] = 0xabcdef01; gw[2] = 0x8899aabb; gw[3] = 0xccddeeff;
    gw[4] = gw[5] = gw[6] = gw[7] = 0;
}

int main(void)
{
    /* absolute loads, zero-extended, and the alignment rule */
    CHECK("lda.l gw", LDA("l", "gw"), 0x12345678);
    CHECK("lda.s gw", LDA("s", "gw"), 0x5678);
    CHECK("lda.b gw", LDA("b", "gw"), 0x78);
    CHECK("lda.b gw+3", LDA("b", "gw+3"), 0x12);
    CHECK("lda.s gw+2", LDA("s", "gw+2"), 0x1234);
    CHECK("lda.s gw+3 (bit 0 ignored)", LDA("s", "gw+3"), 0x1234);
    CHECK("lda.l gw+1 (bits 1..0 ignored)", LDA("l", "gw+1"), 0x12345678);
    CHECK("lda.l gw+7", LDA("l", "gw+7"), 0xabcdef01);
    CHECK("lda.b gw+4 (zero-extend)", LDA("b", "gw+7"), 0xab);
    CHECK("lda.s gw+6 (zero-extend)", LDA("s", "gw+6"), 0xabcd);

    /* absolute stores */
    STA("b", "gw+1", 0xffffffa5);
    CHECK("sta.b gw+1", gw[0], 0x1234a578);
    STA("s", "gw+3", 0x7777beef); /* bit 0 ignored: writes gw+2 */
    CHECK("sta.s gw+3", gw[0], 0xbeefa578);
    STA("l", "gw+6", 0xfeedface); /* writes gw+4 */
    CHECK("sta.l gw+6", gw[1], 0xfeedface);
    CHECK("sta.l gw+6 left gw[2]", gw[2], 0x8899aabb);

    /* exa: read then write, at the given size; §2.11 RAM[100]=0xABCDEF01, r0=0x12345678 */
    reset();
    gw[4] = 0xabcdef01;
    CHECK("exa.l old", EXA("l", "gw+16", 0x12345678), 0xabcdef01);
    CHECK("exa.l new", gw[4], 0x12345678);
    CHECK("exa.s old", EXA("s", "gw+18", 0xaaaa5555), 0x1234);
    CHECK("exa.s new", gw[4], 0x55555678);
    CHECK("exa.b old", EXA("b", "gw+17", 0x1ff), 0x56);
    CHECK("exa.b new", gw[4], 0x5555ff78);
    CHECK("exa.l unaligned old", EXA("l", "gw+19", 7), 0x5555ff78);
    CHECK("exa.l unaligned new", gw[4], 7);

    /* register-indirect */
    reset();
    unsigned char *p = (unsigned char *)gw;
    CHECK("ldi.l", LDI("l", p), 0x12345678);
    CHECK("ldi.l +2 rounds", LDI("l", p + 2), 0x12345678);
    CHECK("ldi.s +1 rounds", LDI("s", p + 1), 0x5678);
    CHECK("ldi.s +5", LDI("s", p + 5), 0xef01);
    CHECK("ldi.b +7", LDI("b", p + 7), 0xab);
    /* §2.11: word 0x12345678, sti.b at +1 of 0xF0 gives 0x1234F078 */
    STI("b", p + 1, 0xf0);
    CHECK("sti.b +1", gw[0], 0x1234f078);
    STI("s", p + 6, 0x13579bdf);
    CHECK("sti.s +6", gw[1], 0x9bdfef01);
    STI("s", p + 7, 0x2468); /* rounds to +6 */
    CHECK("sti.s +7 rounds", gw[1], 0x2468ef01);
    STI("l", p + 11, 0x01020304); /* rounds to +8 */
    CHECK("sti.l +11 rounds", gw[2], 0x01020304);
    CHECK("exi.l", EXI("l", p + 12, 0x0f0f0f0f), 0xccddeeff);
    CHECK("exi.l new", gw[3], 0x0f0f0f0f);
    CHECK("exi.s +13 rounds", EXI("s", p + 13, 0xffff), 0x0f0f);
    CHECK("exi.s new", gw[3], 0x0f0fffff);
    CHECK("exi.b +15", EXI("b", p + 15, 0x80), 0x0f);
    CHECK("exi.b new", gw[3], 0x800fffff);

    /* 17-bit address truncation: a pointer with the ELF RAM bias (0x800000) or other high bits
       still addresses the same RAM byte */
    reset();
    {
        unsigned a = (unsigned)&gw[1];
        CHECK("ldi.l via 0x800000|addr", LDI("l", a | 0x800000), 0xabcdef01);
        CHECK("ldi.l via 0xfffe0000|addr", LDI("l", a | 0xfffe0000u), 0xabcdef01);
        CHECK("ldi.l via 0x12340000+addr", LDI("l", (a + 0x12340000u) & ~0x10000u), 0xabcdef01);
        STI("l", a | 0x800000, 0x600df00d);
        CHECK("sti.l via biased pointer", gw[1], 0x600df00d);
        /* lda with an absolute, biased address in the instruction (assembler keeps the low 17 bits) */
        CHECK("lda.l gw+0x800000 symbol", LDA("l", "gw+4"), 0x600df00d);
    }

    /* ordinary C accesses of all widths (compiler-generated code) */
    {
        volatile signed char sc = -5;
        volatile unsigned char uc = 250;
        volatile short ss = -30000;
        volatile unsigned short us = 60000;
        int acc = sc + uc + ss + us;
        CHECK("C narrow loads (sign/zero extension)", acc, -5 + 250 - 30000 + 60000);
        gx = 0;
        ((volatile unsigned char *)&gx)[2] = 0x77;
        ((volatile unsigned short *)&gx)[0] = 0x1234;
        CHECK("C narrow stores", gx, 0x00771234);
    }
    return ft_done("mem");
}
