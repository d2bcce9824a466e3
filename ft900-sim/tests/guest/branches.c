/* TOC / TOCI patterns: every jmpc condition mnemonic after cmp (taken and not taken), callc, jmpx/callx
 * on $r28, $r29 and $cc bits, jmpi/calli/jmpic/callic through registers. docs/hardware/isa.md §2.4, §2.7. */
#include "ft900_test.h"

/* mark_fn: r0 = 0x77; used as a call target. */
__asm__(".text\n\t.p2align 2\n\t.global mark_fn\nmark_fn:\n\tldk.l $r0,0x77\n\treturn\n");

#define JTEST(cond, a, b) ({ unsigned _t; __asm__ volatile( \
    "cmp.l %1,%2\n\tldk.l %0,1\n\tjmpc " cond ",1f\n\tldk.l %0,0\n1:" \
    : "=&r"(_t) : "r"((unsigned)(a)), "r"((unsigned)(b)) : "$cc"); _t; })

/* callc: returns 0x77 when the call was made, 0 otherwise */
#define CTEST(cond, a, b) ({ unsigned _t; __asm__ volatile( \
    "cmp.l %1,%2\n\tldk.l $r0,0\n\tcallc " cond ",mark_fn\n\tmove.l %0,$r0" \
    : "=&r"(_t) : "r"((unsigned)(a)), "r"((unsigned)(b)) : "$r0", "$cc"); _t; })

/* jmpx bit,$r28,v */
#define XTEST28(bit, v, val) ({ unsigned _t; __asm__ volatile( \
    "move.l $r28,%1\n\tldk.l %0,1\n\tjmpx " #bit ",$r28," #v ",1f\n\tldk.l %0,0\n1:" \
    : "=&r"(_t) : "r"((unsigned)(val)) : "$r28"); _t; })
/* jmpx bit,$r29,v -- $r29 is the frame pointer: save and restore it around the test */
#define XTEST29(bit, v, val) ({ unsigned _t, _s; __asm__ volatile( \
    "move.l %1,$r29\n\tmove.l $r29,%2\n\tldk.l %0,1\n\tjmpx " #bit ",$r29," #v ",1f\n\tldk.l %0,0\n1:\tmove.l $r29,%1" \
    : "=&r"(_t), "=&r"(_s) : "r"((unsigned)(val))); _t; })
#define XTEST30(bit, v, val) ({ unsigned _t; __asm__ volatile( \
    "move.l $cc,%1\n\tldk.l %0,1\n\tjmpx " #bit ",$cc," #v ",1f\n\tldk.l %0,0\n1:" \
    : "=&r"(_t) : "r"((unsigned)(val)) : "$cc"); _t; })

static const unsigned vals[] = {0, 1, 2, 5, 100, 0x7fffffff, 0x80000000, 0x80000001, 0xfffffffe, 0xffffffff, 0xffffff9c, 0x12345678};
#define NV (sizeof vals / sizeof vals[0])

static unsigned fails;
static void expect(const char *cond, unsigned a, unsigned b, unsigned got, unsigned want)
{
    if (got != want) {
        fails++;
        printf("  jmpc %s after cmp %08x,%08x: taken=%u expected %u\n", cond, a, b, got, want);
    }
}

int main(void)
{
    unsigned sum = 0;
    for (unsigned i = 0; i < NV; i++)
        for (unsigned j = 0; j < NV; j++) {
            unsigned a = vals[i], b = vals[j];
            int sa = (int)a, sb = (int)b;
            unsigned d = a - b;
            unsigned ov = ((a ^ b) & (a ^ d)) >> 31; /* signed overflow of a-b */
            unsigned t;
#define J(c, want) t = JTEST(c, a, b); sum = sum * 3 + t; expect(c, a, b, t, want);
            J("z", a == b) J("nz", a != b)
            J("b", a < b) J("c", a < b) J("ae", a >= b) J("nc", a >= b)
            J("a", a > b) J("be", a <= b)
            J("lt", sa < sb) J("gte", sa >= sb) J("gt", sa > sb) J("lte", sa <= sb)
            J("s", d >> 31) J("ns", !(d >> 31))
            J("o", ov) J("no", !ov)
            t = CTEST("gt", a, b); sum = sum * 3 + t; expect("callc gt", a, b, t, sa > sb ? 0x77 : 0);
            t = CTEST("be", a, b); sum = sum * 3 + t; expect("callc be", a, b, t, a <= b ? 0x77 : 0);
        }
    ft_failures += fails;
    SHOW("jmpc checksum", sum);
    CHECK("jmpc/callc mismatches", fails, 0);

    /* jmpx on every bit of r28 / r29 / $cc with both polarities (§2.11: r28 = 0xAAAAA) */
    unsigned bad = 0, bits28 = 0, bits29 = 0, bits30 = 0;
#define X(bit) \
    { unsigned v1 = XTEST28(bit, 1, 0xAAAAA), v0 = XTEST28(bit, 0, 0xAAAAA); \
      unsigned w1 = XTEST29(bit, 1, 0x8000AAAAu), w0 = XTEST29(bit, 0, 0x8000AAAAu); \
      unsigned c1 = XTEST30(bit, 1, 0x12345678u), c0 = XTEST30(bit, 0, 0x12345678u); \
      bits28 |= v1 << bit; bits29 |= w1 << bit; bits30 |= c1 << bit; \
      if (v0 == v1 || w0 == w1 || c0 == c1) bad++; }
    X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7) X(8) X(9) X(10) X(11) X(12) X(13) X(14) X(15)
    X(16) X(17) X(18) X(19) X(20) X(21) X(22) X(23) X(24) X(25) X(26) X(27) X(28) X(29) X(30) X(31)
    CHECK("jmpx bits of r28", bits28, 0xAAAAA);
    CHECK("jmpx bits of r29", bits29, 0x8000AAAAu);
    CHECK("jmpx bits of $cc", bits30, 0x12345678u);
    CHECK("jmpx polarity errors", bad, 0);

    /* callx */
    {
        unsigned r;
        __asm__ volatile("ldk.l $r28,0x10\n\tldk.l $r0,0\n\tcallx 4,$r28,1,mark_fn\n\tmove.l %0,$r0" : "=r"(r) : : "$r0", "$r28");
        CHECK("callx taken", r, 0x77);
        __asm__ volatile("ldk.l $r28,0x10\n\tldk.l $r0,0\n\tcallx 4,$r28,0,mark_fn\n\tmove.l %0,$r0" : "=r"(r) : : "$r0", "$r28");
        CHECK("callx not taken", r, 0);
    }
    /* jmpi / calli / jmpic / callic */
    {
        unsigned r, tmp;
        __asm__ volatile("ldk.l %1,2f\n\tldk.l %0,1\n\tjmpi %1\n\tldk.l %0,0\n2:" : "=&r"(r), "=&r"(tmp));
        CHECK("jmpi", r, 1);
        __asm__ volatile("ldk.l %1,mark_fn\n\tldk.l $r0,0\n\tcalli %1\n\tmove.l %0,$r0" : "=&r"(r), "=&r"(tmp) : : "$r0");
        CHECK("calli", r, 0x77);
        __asm__ volatile("ldk.l %1,2f\n\tldk.l %0,1\n\tcmp.l %0,%0\n\tjmpic z,%1\n\tldk.l %0,0\n2:" : "=&r"(r), "=&r"(tmp) : : "$cc");
        CHECK("jmpic z taken", r, 1);
        __asm__ volatile("ldk.l %1,2f\n\tldk.l %0,1\n\tcmp.l %0,%0\n\tjmpic nz,%1\n\tldk.l %0,0\n2:" : "=&r"(r), "=&r"(tmp) : : "$cc");
        CHECK("jmpic nz not taken", r, 0);
        /* no assembler mnemonic for the conditional TOCI call: 0x082C0050 = callic z,$r5 and
           0x08240050 = callic nz,$r5 (jmpic word + bit 18) */
        __asm__ volatile("ldk.l $r5,mark_fn\n\tldk.l $r0,0\n\tcmp.l $r5,$r5\n\t.long 0x082C0050\n\tmove.l %0,$r0" : "=&r"(r) : : "$r0", "$r5", "$cc");
        CHECK("callic z taken", r, 0x77);
        __asm__ volatile("ldk.l $r5,mark_fn\n\tldk.l $r0,0\n\tcmp.l $r5,$r5\n\t.long 0x08240050\n\tmove.l %0,$r0" : "=&r"(r) : : "$r0", "$r5", "$cc");
        CHECK("callic nz not taken", r, 0);
    }
    /* C-level: function pointers and a computed jump through a table */
    {
        extern void mark_fn(void);
        unsigned (*fp)(void) = (unsigned (*)(void))mark_fn;
        CHECK("call through C function pointer", fp(), 0x77);
    }
    return ft_done("branches");
}
