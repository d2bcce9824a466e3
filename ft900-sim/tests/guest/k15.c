/* k15 offsets of ldi/sti/exi (register + offset addressing) with the XOR-on-bit-7 encoding:
 * ±127, ±128, ±200, ±1000 through the assembler and as hand-encoded words (including fields the
 * assembler never produces, e.g. 0x100 = +256 and 0x7E00 = -512). docs/hardware/isa.md §2.3, §1.5. */
#include "ft900_test.h"

static unsigned char buf[4096] __attribute__((aligned(4)));
#define BASE (buf + 2048)

static unsigned rd8(int off) { return BASE[off]; }
static unsigned rd16(int off) { unsigned a = (unsigned)(BASE + off) & ~1u; return *(unsigned short *)a; }
static unsigned rd32(int off) { unsigned a = (unsigned)(BASE + off) & ~3u; return *(unsigned *)a; }

static void fill(void)
{
    for (int i = 0; i < (int)sizeof buf; i++)
        buf[i] = (unsigned char)(i * 37 + 11);
}

/* assembler-encoded forms */
#define LDI(sz, off) ({ unsigned _r; __asm__ volatile("ldi." sz " %0,%1," #off : "=r"(_r) : "r"(BASE) : "memory"); _r; })
#define STI(sz, off, v) __asm__ volatile("sti." sz " %0," #off ",%1" : : "r"(BASE), "r"((unsigned)(v)) : "memory")
#define EXI(sz, off, v) ({ unsigned _r = (v); __asm__ volatile("exi." sz " %0,%1," #off : "+r"(_r) : "r"(BASE) : "memory"); _r; })

/* hand-encoded: base in $r2, data in $r1; `word` already contains the k15 field */
#define RAW_LOAD(word) ({ unsigned _r; __asm__ volatile("move.l $r2,%1\n\t.long " #word "\n\tmove.l %0,$r1" \
    : "=r"(_r) : "r"(BASE) : "$r1", "$r2", "memory"); _r; })
#define RAW_STORE(word, v) __asm__ volatile("move.l $r2,%0\n\tmove.l $r1,%1\n\t.long " #word \
    : : "r"(BASE), "r"((unsigned)(v)) : "$r1", "$r2", "memory")

int main(void)
{
    fill();
    /* loads, assembler encoding */
#define L3(off) \
    CHECK("ldi.b " #off, LDI("b", off), rd8(off)); \
    CHECK("ldi.s " #off, LDI("s", off), rd16(off)); \
    CHECK("ldi.l " #off, LDI("l", off), rd32(off));
    L3(0) L3(4) L3(-4) L3(127) L3(-127) L3(128) L3(-128) L3(200) L3(-200) L3(1000) L3(-1000) L3(255) L3(-255) L3(129)

    /* loads, hand-encoded words (ldi.l $r1,$r2,k = 0xAC110000|field; .s 0xAA11…; .b 0xA811…) */
    CHECK("raw ldi.l +127 (0x07F)", RAW_LOAD(0xAC11007F), rd32(127));
    CHECK("raw ldi.l -127 (0x081)", RAW_LOAD(0xAC110081), rd32(-127));
    CHECK("raw ldi.l +128 (0x7F80)", RAW_LOAD(0xAC117F80), rd32(128));
    CHECK("raw ldi.l -128 (0x080)", RAW_LOAD(0xAC110080), rd32(-128));
    CHECK("raw ldi.l +200 (0x7FC8)", RAW_LOAD(0xAC117FC8), rd32(200));
    CHECK("raw ldi.l -200 (0x7F38)", RAW_LOAD(0xAC117F38), rd32(-200));
    CHECK("raw ldi.l +256 (0x100)", RAW_LOAD(0xAC110100), rd32(256));
    CHECK("raw ldi.l -512 (0x7E00)", RAW_LOAD(0xAC117E00), rd32(-512));
    CHECK("raw ldi.l -4 (0x0FC)", RAW_LOAD(0xAC1100FC), rd32(-4));
    CHECK("raw ldi.b -1 (0x0FF)", RAW_LOAD(0xA81100FF), rd8(-1));
    CHECK("raw ldi.b +129 (0x7F81)", RAW_LOAD(0xA8117F81), rd8(129));
    CHECK("raw ldi.s -2 (0x0FE)", RAW_LOAD(0xAA1100FE), rd16(-2));
    CHECK("raw ldi.s +201 (0x7FC9) ignores bit 0", RAW_LOAD(0xAA117FC9), rd16(200));

    /* stores: sti.<sz> base,off,data  (base in the r_d field, data in r_1) */
    fill();
    STI("l", 200, 0x11223344);
    CHECK("sti.l +200", rd32(200), 0x11223344);
    STI("l", -200, 0x55667788);
    CHECK("sti.l -200", rd32(-200), 0x55667788);
    STI("s", 128, 0xabcd1234);
    CHECK("sti.s +128", rd16(128), 0x1234);
    STI("b", -128, 0xa5);
    CHECK("sti.b -128", rd8(-128), 0xa5);
    STI("b", 127, 0x5a);
    CHECK("sti.b +127", rd8(127), 0x5a);
    {
        unsigned keep = rd8(128);
        STI("l", 127, 0xdeadbeef); /* unaligned .l: the low address bits are ignored */
        CHECK("sti.l +127 -> +124", rd32(124), 0xdeadbeef);
        CHECK("sti.l +127 left +128 alone", rd8(128), keep);
    }
    /* hand-encoded sti.l $r2,k,$r1 = 0xB4208000|field */
    RAW_STORE(0xB4208000 | 0x7F38, 0xcafef00d);
    CHECK("raw sti.l -200", rd32(-200), 0xcafef00d);
    RAW_STORE(0xB4208000 | 0x7F80, 0x0badf00d);
    CHECK("raw sti.l +128", rd32(128), 0x0badf00d);
    RAW_STORE(0xB4208000 | 0x0100, 0x01020304);
    CHECK("raw sti.l +256", rd32(256), 0x01020304);
    RAW_STORE(0xB4208000 | 0x7E00, 0x05060708);
    CHECK("raw sti.l -512", rd32(-512), 0x05060708);

    /* exchanges */
    fill();
    {
        unsigned before = rd32(200);
        unsigned old = EXI("l", 200, 0x99887766);
        CHECK("exi.l +200 old", old, before);
        CHECK("exi.l +200 new", rd32(200), 0x99887766);
        before = rd16(-128);
        old = EXI("s", -128, 0x1234fedc);
        CHECK("exi.s -128 old", old, before);
        CHECK("exi.s -128 new", rd16(-128), 0xfedc);
        before = rd8(-1);
        old = EXI("b", -1, 0xffffff80);
        CHECK("exi.b -1 old", old, before);
        CHECK("exi.b -1 new", rd8(-1), 0x80);
        /* hand-encoded exi.l $r1,$r2,-200 = 0xEC117F38 */
        unsigned r;
        before = rd32(-200);
        __asm__ volatile("move.l $r2,%1\n\tldk.l $r1,0x3c3c\n\t.long 0xEC117F38\n\tmove.l %0,$r1"
                         : "=r"(r) : "r"(BASE) : "$r1", "$r2", "memory");
        CHECK("raw exi.l -200 old", r, before);
        CHECK("raw exi.l -200 new", rd32(-200), 0x3c3c);
    }
    return ft_done("k15");
}
