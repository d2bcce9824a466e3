/* ALU pattern (0x08): every al operation, register and immediate operands, shift-count masking,
 * ror with negative counts, ldl, bins (zeros / "insert ones" immediates and the register form),
 * bexts/bextu (len 0 = 16), flip, dw ignored by ALU ops, ldk. docs/hardware/isa.md §2.3, §2.5, §2.11. */
#include "ft900_test.h"

/* Reference semantics from §2.5, written in plain C. */
static unsigned ref_ror(unsigned a, unsigned b) { b &= 31; return b ? (a >> b) | (a << (32 - b)) : a; }
static unsigned ref_ashl(unsigned a, unsigned b) { return a << (b & 31); }
static unsigned ref_lshr(unsigned a, unsigned b) { return a >> (b & 31); }
static unsigned ref_ashr(unsigned a, unsigned b) { return (unsigned)((int)a >> (b & 31)); }
static unsigned field_len(unsigned b) { unsigned len = (b >> 5) & 15; return len ? len : 16; }
static unsigned ref_bextu(unsigned a, unsigned b)
{
    unsigned len = field_len(b);
    return (a >> (b & 31)) & ((1u << len) - 1);
}
static unsigned ref_bexts(unsigned a, unsigned b)
{
    unsigned len = field_len(b);
    unsigned v = ref_bextu(a, b);
    return (v & (1u << (len - 1))) ? v | ~((1u << len) - 1) : v;
}
static unsigned ref_bins(unsigned a, unsigned b)
{
    unsigned pos = b & 31, len = field_len(b);
    unsigned mask = ((1u << len) - 1) << pos;
    return (a & ~mask) | (((b >> 10) << pos) & mask);
}
static unsigned ref_flip(unsigned a, unsigned b)
{
    static const unsigned m[5] = {0x55555555, 0x33333333, 0x0f0f0f0f, 0x00ff00ff, 0x0000ffff};
    for (int k = 0; k < 5; k++)
        if (b & (1u << k)) {
            unsigned s = 1u << k;
            a = ((a & m[k]) << s) | ((a >> s) & m[k]);
        }
    return a;
}

static const unsigned vals[] = {
    0, 1, 2, 3, 4, 7, 15, 16, 31, 32, 33, 63, 64, 255, 256, 0x3ff, 0x400, 0x7fff, 0x8000, 0xffff,
    0x10000, 0x12345678, 0x7fffffff, 0x80000000, 0x80000001, 0xabcdef01, 0xfffffffe, 0xffffffff,
    0xffffffe0, 0xfffffc00, 0x264, 0x8dd1 << 10 | 16,
};
#define NV (sizeof vals / sizeof vals[0])

int main(void)
{
    unsigned x = 0x12345678, y = 0xabcdef01, four = 4;

    /* §2.11 shift vectors */
    CHECK("ashl 12345678,4", ASM_RR("ashl.l", x, four), 0x23456780);
    CHECK("lshr 12345678,4", ASM_RR("lshr.l", x, four), 0x01234567);
    CHECK("ashr 12345678,4", ASM_RR("ashr.l", x, four), 0x01234567);
    CHECK("ashl abcdef01,4", ASM_RR("ashl.l", y, four), 0xbcdef010);
    CHECK("lshr abcdef01,4", ASM_RR("lshr.l", y, four), 0x0abcdef0);
    CHECK("ashr abcdef01,4", ASM_RR("ashr.l", y, four), 0xfabcdef0);
    /* shift counts use b & 31 */
    CHECK("ashl by 32 = by 0", ASM_RR("ashl.l", x, 32), x);
    CHECK("ashl by 33 = by 1", ASM_RR("ashl.l", x, 33), 0x2468acf0);
    CHECK("lshr by 36 = by 4", ASM_RR("lshr.l", x, 36), 0x01234567);
    CHECK("ashr 80000000 by 63", ASM_RR("ashr.l", 0x80000000u, 63), 0xffffffff);
    CHECK("lshr by -1 = by 31", ASM_RR("lshr.l", 0x80000000u, -1), 1);
    CHECK("ashl imm 33", ASM_RI("ashl.l", x, 33), 0x2468acf0);
    CHECK("lshr imm -28 (=4)", ASM_RI("lshr.l", x, -28), 0x01234567);
    CHECK("ashr imm 31", ASM_RI("ashr.l", y, 31), 0xffffffff);

    /* ror */
    CHECK("ror 0", ASM_RI("ror.l", x, 0), 0x12345678);
    CHECK("ror 12", ASM_RI("ror.l", x, 12), 0x67812345);
    CHECK("ror -4", ASM_RI("ror.l", x, -4), 0x23456781);
    CHECK("ror reg 36", ASM_RR("ror.l", x, 36), 0x81234567);
    CHECK("ror reg -8", ASM_RR("ror.l", x, -8), 0x34567812);

    /* ldl */
    CHECK("ldl 0x278", ASM_RI("ldl.l", 0x12345678u >> 10, 0x278), 0x12345678);
    CHECK("ldl 1023", ASM_RI("ldl.l", 1, 1023), 0x7ff);
    CHECK("ldl reg (b & 0x3ff)", ASM_RR("ldl.l", 3, 0xfffff801), 0xc01);

    /* bextu / bexts §2.11 */
    CHECK("bextu (0<<5)|0 (len16)", ASM_RI("bextu.l", x, (0 << 5) | 0), 0x5678);
    CHECK("bextu (4<<5)|0", ASM_RI("bextu.l", x, (4 << 5) | 0), 8);
    CHECK("bextu (4<<5)|4", ASM_RI("bextu.l", x, (4 << 5) | 4), 7);
    CHECK("bextu (4<<5)|28", ASM_RI("bextu.l", x, (4 << 5) | 28), 1);
    CHECK("bextu (8<<5)|16", ASM_RI("bextu.l", x, (8 << 5) | 16), 0x34);
    CHECK("bextu -1,(6<<5)|3", ASM_RI("bextu.l", 0xffffffffu, (6 << 5) | 3), 0x3f);
    CHECK("bexts (8<<5)|0", ASM_RI("bexts.l", x, (8 << 5) | 0), 0x78);
    CHECK("bexts (0<<5)|16", ASM_RI("bexts.l", x, (0 << 5) | 16), 0x1234);
    CHECK("bexts (4<<5)|0", ASM_RI("bexts.l", x, (4 << 5) | 0), 0xfffffff8);
    CHECK("bexts (3<<5)|12", ASM_RI("bexts.l", x, (3 << 5) | 12), 0xfffffffd);
    CHECK("bexts (1<<5)|12", ASM_RI("bexts.l", x, (1 << 5) | 12), 0xffffffff);
    CHECK("bexts len16 at 24 (zero-filled top)", ASM_RI("bexts.l", 0xabcdef01u, (0 << 5) | 24), 0xab);
    CHECK("bexts len8 at 24", ASM_RI("bexts.l", 0xabcdef01u, (8 << 5) | 24), 0xffffffab);

    /* bins §2.11 */
    CHECK("bins (8<<5)|0", ASM_RI("bins.l", x, (8 << 5) | 0), 0x12345600);
    CHECK("bins (0<<5)|8", ASM_RI("bins.l", x, (0 << 5) | 8), 0x12000078);
    CHECK("bins ones (1<<9)|(3<<5)|4", ASM_RI("bins.l", 0, (1 << 9) | (3 << 5) | 4), 0x70);
    CHECK("bins ones (1<<9)|(8<<5)|0", ASM_RI("bins.l", x, (1 << 9) | (8 << 5) | 0), 0x123456ff);
    CHECK("bins ones len16 at 8", ASM_RI("bins.l", x, (1 << 9) | (0 << 5) | 8), 0x12ffff78);
    CHECK("bins reg ff,(8<<5)|8", ASM_RR("bins.l", x, (0xffu << 10) | (8 << 5) | 8), 0x1234ff78);
    CHECK("bins reg 8dd1,(0<<5)|16", ASM_RR("bins.l", x, (0x8dd1u << 10) | (0 << 5) | 16), 0x8dd15678);

    /* flip §2.11 */
    CHECK("flip 24 (byte swap)", ASM_RI("flip.l", x, 24), 0x78563412);
    CHECK("flip 31 (bit reverse)", ASM_RI("flip.l", x, 31), 0x1e6a2c48);
    CHECK("flip 16", ASM_RI("flip.l", x, 16), 0x56781234);
    CHECK("flip 8", ASM_RI("flip.l", x, 8), 0x34127856);
    CHECK("flip 1", ASM_RI("flip.l", 0x1u, 1), 0x2);

    /* simple ops, immediates -512..511 */
    CHECK("add 511", ASM_RI("add.l", 1, 511), 512);
    CHECK("add -512", ASM_RI("add.l", 0, -512), 0xfffffe00);
    CHECK("sub 24", ASM_RI("sub.l", 100, 24), 76);
    CHECK("sub reg wrap", ASM_RR("sub.l", 1, 2), 0xffffffff);
    CHECK("and -16", ASM_RI("and.l", x, -16), 0x12345670);
    CHECK("or 0x1ff", ASM_RI("or.l", x, 0x1ff), 0x123457ff);
    CHECK("xor -1 (not)", ASM_RI("xor.l", x, -1), 0xedcba987);
    CHECK("xnor reg", ASM_RR("xnor.l", x, y), ~(x ^ y));
    CHECK("xnor 0", ASM_RI("xnor.l", x, 0), ~x);
    /* dw is ignored by ALU ops: full 32-bit results */
    CHECK("add.b ff+1", ASM_RI("add.b", 0xff, 1), 0x100);
    CHECK("add.s ffff+1", ASM_RI("add.s", 0xffff, 1), 0x10000);
    CHECK("sub.b 0-1", ASM_RI("sub.b", 0, 1), 0xffffffff);
    CHECK("ashl.b 1<<9", ASM_RI("ashl.b", 1, 9), 0x200);
    CHECK("xor.s", ASM_RR("xor.s", 0x12345678, 0xffffffff), 0xedcba987);
    {
        /* §2.11: add.l r2,r2,127 twice, then -127, -128, +1 */
        unsigned r = 0, seq[5];
        __asm__ volatile("add.l %0,%0,127" : "+r"(r)); seq[0] = r;
        __asm__ volatile("add.l %0,%0,127" : "+r"(r)); seq[1] = r;
        __asm__ volatile("add.l %0,%0,-127" : "+r"(r)); seq[2] = r;
        __asm__ volatile("add.l %0,%0,-128" : "+r"(r)); seq[3] = r;
        __asm__ volatile("add.l %0,%0,1" : "+r"(r)); seq[4] = r;
        CHECK("add seq 127", seq[0], 0x7f);
        CHECK("add seq 254", seq[1], 0xfe);
        CHECK("add seq 127 again", seq[2], 0x7f);
        CHECK("add seq -1", seq[3], 0xffffffff);
        CHECK("add seq 0", seq[4], 0);
    }
    /* ldk: 20-bit signed constant, dw ignored */
    {
        unsigned a, b, c, d, e;
        __asm__ volatile("ldk.l %0,-1" : "=r"(a));
        __asm__ volatile("ldk.l %0,524287" : "=r"(b));
        __asm__ volatile("ldk.l %0,-524288" : "=r"(c));
        __asm__ volatile("ldk.b %0,-1" : "=r"(d));
        __asm__ volatile("ldk.s %0,0x12345" : "=r"(e));
        CHECK("ldk.l -1", a, 0xffffffff);
        CHECK("ldk.l 524287", b, 0x7ffff);
        CHECK("ldk.l -524288", c, 0xfff80000);
        CHECK("ldk.b -1 (dw ignored)", d, 0xffffffff);
        CHECK("ldk.s 0x12345 (dw ignored)", e, 0x12345);
        /* ldk + ldl builds a 32-bit constant */
        unsigned f;
        __asm__ volatile("ldk.l %0,0x48d15\n\tldl.l %0,%0,0x278" : "=r"(f));
        CHECK("ldk+ldl", f, 0x12345678);
    }
    /* move / nop */
    {
        unsigned m;
        __asm__ volatile("move.l %0,%1\n\tnop" : "=r"(m) : "r"(y));
        CHECK("move", m, y);
    }

    /* Sweep: register forms against the C reference implementations. */
    unsigned sum = 0;
    for (unsigned i = 0; i < NV; i++)
        for (unsigned j = 0; j < NV; j++) {
            unsigned a = vals[i], b = vals[j];
            unsigned r;
            int bad = 0;
#define SWEEP(op, ref) r = ASM_RR(op, a, b); sum = sum * 31 + r; if (r != ref(a, b)) { bad = 1; printf("  %s %08x,%08x -> %08x expected %08x\n", op, a, b, r, ref(a, b)); }
            SWEEP("ror.l", ref_ror);
            SWEEP("ashl.l", ref_ashl);
            SWEEP("lshr.l", ref_lshr);
            SWEEP("ashr.l", ref_ashr);
            SWEEP("bextu.l", ref_bextu);
            SWEEP("bexts.l", ref_bexts);
            SWEEP("bins.l", ref_bins);
            SWEEP("flip.l", ref_flip);
            r = ASM_RR("ldl.l", a, b); sum = sum * 31 + r;
            if (r != ((a << 10) | (b & 0x3ff))) bad = 1;
            r = ASM_RR("add.l", a, b) ^ ASM_RR("sub.l", a, b) ^ ASM_RR("and.l", a, b) ^ ASM_RR("or.l", a, b)
                ^ ASM_RR("xor.l", a, b) ^ ASM_RR("xnor.l", a, b);
            sum = sum * 31 + r;
            if (r != ((a + b) ^ (a - b) ^ (a & b) ^ (a | b) ^ (a ^ b) ^ ~(a ^ b))) bad = 1;
            if (bad) {
                ft_failures++;
                printf("  sweep mismatch at %08x,%08x\n", a, b);
            }
        }
    SHOW("sweep checksum", sum);
    return ft_done("alu");
}
