/* The CMP pattern (0x0B) flag word written to $cc by cmp/addcc/tst/btst at .b/.s/.l, including the
 * addcc V quirk (V always uses the subtraction formula) and C only for add/sub; other al values and a
 * non-$cc destination via hand-encoded words. docs/hardware/isa.md §2.6 (table + consequences). */
#include "ft900_test.h"

/* §2.5 results for the ops used by the CMP pattern */
static unsigned alu(unsigned al, unsigned a, unsigned b)
{
    unsigned len = (b >> 5) & 15, pos = b & 31, v;
    if (!len) len = 16;
    switch (al) {
    case 0x0: return a + b;
    case 0x1: return (b & 31) ? (a >> (b & 31)) | (a << (32 - (b & 31))) : a;
    case 0x2: return a - b;
    case 0x4: return a & b;
    case 0x6: return a ^ b;
    case 0x8: return a << (b & 31);
    case 0xc:
        v = (a >> pos) & ((1u << len) - 1);
        return (v & (1u << (len - 1))) ? v | ~((1u << len) - 1) : v;
    }
    return 0xdeadbeef;
}

/* §2.6 */
static unsigned ref_flags(unsigned al, unsigned dw, unsigned a, unsigned b)
{
    unsigned n = dw == 0 ? 8 : dw == 1 ? 16 : 32;
    unsigned long long mask = (1ull << n) - 1;
    unsigned long long ra = a & mask, rb = b & mask;
    unsigned result = alu(al, a, b);
    unsigned z = (result & mask) == 0;
    unsigned c = 0;
    if (al == 0) c = ((ra + rb) >> n) & 1;
    if (al == 2) c = ((ra - rb) >> n) & 1;
    unsigned s = (result >> (n - 1)) & 1;
    unsigned an = (a >> (n - 1)) & 1, bn = (b >> (n - 1)) & 1;
    unsigned v = (s != an) && (an != bn);
    unsigned ge = s == v, gt = ge && !z, above = !c && !z;
    return z | c << 1 | v << 2 | s << 3 | ge << 4 | gt << 5 | above << 6;
}

static const unsigned vals[] = {
    0, 1, 2, 5, 0x7f, 0x80, 0x81, 0xfe, 0xff, 0x100, 0x708, 0x8fe, 0x7fff, 0x8000, 0x8001, 0xffff,
    0x10000, 0x12345678, 0x7fffffff, 0x80000000, 0x80000001, 0xfffffffe, 0xffffffff, 0xffffff9c, 100,
    36, 0x23, 0xf0, 0x0f,
};
#define NV (sizeof vals / sizeof vals[0])

int main(void)
{
    /* §2.6 "Consequences" table */
    CHECK("cmp.l -100,100", CC_RR("cmp.l", -100, 100), 0x48);
    CHECK("cmp.l 5,5", CC_RR("cmp.l", 5, 5), 0x11);
    CHECK("cmp.l 1,2", CC_RR("cmp.l", 1, 2), 0x0a);
    CHECK("cmp.l 80000000,1", CC_RR("cmp.l", 0x80000000u, 1), 0x44);
    CHECK("cmp.l 2,1", CC_RR("cmp.l", 2, 1), 0x70);
    CHECK("cmp.b 8fe,708", CC_RR("cmp.b", 0x8fe, 0x708), 0x48);
    CHECK("addcc.l ffffffff,1 (V quirk)", CC_RR("addcc.l", 0xffffffffu, 1), 0x07);
    CHECK("addcc.l 7fffffff,1 (no V)", CC_RR("addcc.l", 0x7fffffffu, 1), 0x48);
    CHECK("tst.l f0,0f", CC_RR("tst.l", 0xf0, 0x0f), 0x11);
    CHECK("btst.l 8,(1<<5)|3", CC_RI("btst.l", 8, (1 << 5) | 3), 0x48);
    /* immediate forms */
    CHECK("cmp.l 0,imm 0", CC_RI("cmp.l", 0, 0), 0x11);
    CHECK("cmp.l 5,imm -1", CC_RI("cmp.l", 5, -1), 0x32);
    CHECK("cmp.b 0x100,imm 0", CC_RI("cmp.b", 0x100, 0), 0x11);
    CHECK("cmp.s 0x18000,imm 1", CC_RI("cmp.s", 0x18000, 1), 0x44);
    CHECK("tst.l 7 imm 7", CC_RI("tst.l", 0x10007, 7), 0x70);
    CHECK("addcc.b ff,imm 1", CC_RI("addcc.b", 0xff, 1), 0x07);
    CHECK("addcc.s 8000,8000", CC_RR("addcc.s", 0x8000, 0x8000), 0x13);
    CHECK("btst.l bit 31 of -1", CC_RI("btst.l", 0xffffffffu, (1 << 5) | 31), 0x48);

    /* Other al values through hand-encoded CMP words: 0x5DE08020|al = "cmp-pattern.l $r30,$r1,$r2" */
    {
        unsigned r_ror, r_xor, r_ashl, r_cc3, r_unchanged;
        __asm__ volatile("move.l $r1,%2\n\tmove.l $r2,%3\n\t"
                         ".long 0x5DE08021\n\tmove.l %0,$cc\n\t"    /* al=1 ror */
                         ".long 0x5DE08026\n\tmove.l %1,$cc"        /* al=6 xor */
                         : "=&r"(r_ror), "=&r"(r_xor)
                         : "r"(0x80000001u), "r"(1u)
                         : "$r1", "$r2", "$cc");
        CHECK("cmp-pattern al=ror 80000001,1", r_ror, ref_flags(1, 2, 0x80000001u, 1));
        CHECK("cmp-pattern al=xor 80000001,1", r_xor, ref_flags(6, 2, 0x80000001u, 1));
        __asm__ volatile("move.l $r1,%1\n\tmove.l $r2,%2\n\t"
                         ".long 0x5DE08028\n\tmove.l %0,$cc"        /* al=8 ashl */
                         : "=&r"(r_ashl)
                         : "r"(0x40000000u), "r"(1u)
                         : "$r1", "$r2", "$cc");
        CHECK("cmp-pattern al=ashl 40000000,1", r_ashl, ref_flags(8, 2, 0x40000000u, 1));
        /* destination r3 instead of $cc: 0x5C308022 = cmp.l with rd=3, r1=1, r2=2 */
        __asm__ volatile("move.l $r1,%2\n\tmove.l $r2,%3\n\tldk.l $cc,0x5a5a\n\t"
                         ".long 0x5C308022\n\tmove.l %0,$r3\n\tmove.l %1,$cc"
                         : "=&r"(r_cc3), "=&r"(r_unchanged)
                         : "r"(1u), "r"(2u)
                         : "$r1", "$r2", "$r3", "$cc");
        CHECK("cmp.l with rd=r3", r_cc3, 0x0a);
        CHECK("$cc untouched by rd=r3", r_unchanged, 0x5a5a);
    }

    /* Sweep against the §2.6 formula */
    unsigned sum = 0, bad = 0;
    for (unsigned i = 0; i < NV; i++)
        for (unsigned j = 0; j < NV; j++) {
            unsigned a = vals[i], b = vals[j], r;
#define FL(op, al, dw) r = CC_RR(op, a, b); sum = sum * 33 + r; \
            if (r != ref_flags(al, dw, a, b)) { bad++; printf("  %s %08x,%08x -> %02x expected %02x\n", op, a, b, r, ref_flags(al, dw, a, b)); }
            FL("cmp.b", 2, 0) FL("cmp.s", 2, 1) FL("cmp.l", 2, 2)
            FL("addcc.b", 0, 0) FL("addcc.s", 0, 1) FL("addcc.l", 0, 2)
            FL("tst.b", 4, 0) FL("tst.s", 4, 1) FL("tst.l", 4, 2)
            FL("btst.b", 0xc, 0) FL("btst.s", 0xc, 1) FL("btst.l", 0xc, 2)
        }
    ft_failures += bad;
    SHOW("flag sweep checksum", sum);
    CHECK("flag sweep mismatches", bad, 0);
    return ft_done("flags");
}
