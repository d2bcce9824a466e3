/* The gdb-sim cycle counter at DM 0x1FFF4 (= cycles / 100) seen from C: calibration loops whose
 * iteration counts depend on exact per-instruction cycle costs (docs/hardware/isa.md §2.9), and counter
 * readings around compiled code (compared exactly between the simulators). The bare-metal
 * cycles_exact.S checks every instruction class exactly. */
#include "ft900_test.h"

static inline unsigned now(void) { return *(volatile unsigned *)0x1FFF4; }

/* Iterations of `body` that fit in `ticks` counter ticks, starting right after a tick edge.
   Loop overhead: add (1) + lda (2) + cmp (1) + taken jmpc (2) = 6 cycles. */
#define CALIBRATE(body, ticks) ({                                                          \
    unsigned _n = 0, _t, _target;                                                         \
    __asm__ volatile(                                                                      \
        "lda.l %1,0x1FFF4\n"                                                               \
        "0:\tlda.l %2,0x1FFF4\n\tcmp.l %2,%1\n\tjmpc z,0b\n\t" /* wait for the next tick */ \
        "add.l %1,%2," #ticks "\n"                                                         \
        "1:\tadd.l %0,%0,1\n\t" body "\n\tlda.l %2,0x1FFF4\n\tcmp.l %2,%1\n\tjmpc b,1b"      \
        : "+r"(_n), "=&r"(_target), "=&r"(_t) : : "$cc", "$r5", "$r6", "memory");           \
    _n; })

static unsigned fib(unsigned n) { return n < 2 ? n : fib(n - 1) + fib(n - 2); }

static void check_range(const char *what, unsigned got, unsigned cycles_per_iter, unsigned ticks)
{
    unsigned ideal = ticks * 100 / cycles_per_iter;
    ft_checks++;
    printf("%-40s %u (model: %u cycles/iteration -> about %u)", what, got, cycles_per_iter, ideal);
    if (got + 2 < ideal || got > ideal + 2) {
        printf("  MISMATCH");
        ft_failures++;
    }
    printf("\n");
}

int main(void)
{
    unsigned t0 = now();
    SHOW("counter at main entry", t0);

    check_range("empty loop (6 cycles)", CALIBRATE("", 30), 6, 30);
    check_range("+4 nops (10)", CALIBRATE("nop\n\tnop\n\tnop\n\tnop", 30), 10, 30);
    check_range("+3 lda (12)", CALIBRATE("lda.l $r5,0x100\n\tlda.l $r5,0x100\n\tlda.l $r5,0x100", 30), 12, 30);
    check_range("+3 taken jmp (12)", CALIBRATE("jmp 2f\n2:\tjmp 2f\n2:\tjmp 2f\n2:", 30), 12, 30);
    check_range("+3 not-taken jmpc (9)", CALIBRATE("cmp.l $r5,$r5\n\tjmpc nz,2f\n\tjmpc nz,2f\n2:", 30), 9, 30);
    check_range("+push/pop (9)", CALIBRATE("push.l $r5\n\tpop.l $r5", 30), 9, 30);
    check_range("+3 mul (9)", CALIBRATE("mul.l $r5,$r5,$r5\n\tmul.l $r5,$r5,$r5\n\tmul.l $r5,$r5,$r5", 30), 9, 30);
    check_range("+2 sta (8)", CALIBRATE("sta.l 0x100,$r5\n\tsta.l 0x104,$r5", 30), 8, 30);
    check_range("+2 lpm (10)", CALIBRATE("lpm.l $r5,0\n\tlpm.l $r5,4", 30), 10, 30);

    /* counter deltas around compiled code: exact values are compared between the simulators */
    unsigned a = now();
    volatile unsigned f = fib(15);
    unsigned b = now();
    SHOW("fib(15)", f);
    SHOW("ticks for fib(15)", b - a);
    a = now();
    printf("a printf with %d %s\n", 42, "arguments");
    b = now();
    SHOW("ticks for one printf", b - a);
    /* the counter is monotonic and advances by at most 1 per 100 cycles */
    unsigned prev = now(), backwards = 0, jumps = 0;
    for (int i = 0; i < 2000; i++) {
        unsigned t = now();
        if (t < prev) backwards++;
        if (t > prev + 1) jumps++;
        prev = t;
    }
    CHECK("counter went backwards", backwards, 0);
    CHECK("counter skipped values in a tight loop", jumps, 0);
    SHOW("counter at end", now());
    return ft_done("cycles");
}
