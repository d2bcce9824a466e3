/* push/pop/link/unlink/call/return and the 16-bit stack wrap: every implicit sp update is masked to
 * 16 bits (push at sp=0 stores at 0xFFFC), explicit ALU writes to sp are not masked; push $sp pushes
 * the old sp, pop $sp keeps the popped value. docs/hardware/isa.md §1.6, §2.4, §2.11.
 * The scratch addresses used (0xFFE4..0xFFFF, crt0's reserved area above main's frame, and
 * 0xBFxx..0xC000, far below the C stack) are saved and restored. */
#include "ft900_test.h"

/* sp_probe: r6 = sp, r7 = word at [sp] (the return address) */
__asm__(".text\n\t.p2align 2\n\t.global sp_probe\nsp_probe:\n\tmove.l $r6,$sp\n\tldi.l $r7,$sp,0\n\treturn\n");

#define SAVE(a) unsigned save_##a = *(volatile unsigned *)(a)
#define RESTORE(a) (*(volatile unsigned *)(a) = save_##a)

int main(void)
{
    SAVE(0xFFFC); SAVE(0xFFF8); SAVE(0xFFF4); SAVE(0xFFF0); SAVE(0xBFFC); SAVE(0xC000);
    unsigned o0, o1, o2, o3, o4, o5;

    /* A: push at sp = 0 wraps to 0xFFFC; pop back gives 0 (§2.11) */
    __asm__ volatile("move.l $r5,$sp\n\tldk.l $sp,0\n\tldk.l $r6,0x1234\n\tpush.l $r6\n\t"
                     "move.l %0,$sp\n\tlda.l %1,0xFFFC\n\tpop.l $r7\n\tmove.l %2,$sp\n\tmove.l %3,$r7\n\t"
                     "move.l $sp,$r5"
                     : "=&r"(o0), "=&r"(o1), "=&r"(o2), "=&r"(o3) : : "$r5", "$r6", "$r7", "memory");
    CHECK("push at sp=0: sp", o0, 0xFFFC);
    CHECK("push at sp=0: [0xFFFC]", o1, 0x1234);
    CHECK("pop back: sp", o2, 0);
    CHECK("pop back: value", o3, 0x1234);

    /* B: sp = 0, r14 = 0x17566: link r14,48 -> r14 = 0xFFFC; unlink -> r14 = 0x17566, sp = 0 (§2.11) */
    __asm__ volatile("move.l $r5,$sp\n\tldk.l $sp,0\n\tldk.l $r14,0x17566\n\tlink $r14,48\n\t"
                     "move.l %0,$r14\n\tmove.l %1,$sp\n\tlda.l %2,0xFFFC\n\tunlink $r14\n\t"
                     "move.l %3,$r14\n\tmove.l %4,$sp\n\tmove.l $sp,$r5"
                     : "=&r"(o0), "=&r"(o1), "=&r"(o2), "=&r"(o3), "=&r"(o4) : : "$r5", "$r14", "memory");
    CHECK("link at sp=0: r14", o0, 0xFFFC);
    CHECK("link at sp=0: sp", o1, 0xFFCC);
    CHECK("link at sp=0: pushed r14", o2, 0x17566);
    CHECK("unlink: r14", o3, 0x17566);
    CHECK("unlink: sp", o4, 0);

    /* C: ALU writes to sp are not masked; the next implicit update is */
    __asm__ volatile("move.l $r5,$sp\n\tldk.l $sp,0x12345\n\tmove.l %0,$sp\n\t"
                     "ldk.l $sp,0\n\tadd.l $sp,$sp,-4\n\tmove.l %1,$sp\n\t"
                     "ldk.l $r6,0xabc\n\tldk.l $sp,0x1FFF8\n\tpush.l $r6\n\tmove.l %2,$sp\n\tlda.l %3,0xFFF4\n\t"
                     "ldk.l $sp,0x2FFF4\n\tpop.l $r7\n\tmove.l %4,$sp\n\tmove.l %5,$r7\n\t"
                     "move.l $sp,$r5"
                     : "=&r"(o0), "=&r"(o1), "=&r"(o2), "=&r"(o3), "=&r"(o4), "=&r"(o5) : : "$r5", "$r6", "$r7", "memory");
    CHECK("ldk.l $sp,0x12345 (not masked)", o0, 0x12345);
    CHECK("add.l $sp,0,-4 (not masked)", o1, 0xFFFFFFFC);
    CHECK("push at sp=0x1FFF8: sp", o2, 0xFFF4);
    CHECK("push at sp=0x1FFF8: [0xFFF4]", o3, 0xabc);
    CHECK("pop at sp=0x2FFF4: sp", o4, 0xFFF8);
    CHECK("pop at sp=0x2FFF4: value (17-bit address)", o5, 0xabc);

    /* D: push $sp pushes the old sp; pop $sp keeps the popped value */
    __asm__ volatile("move.l $r5,$sp\n\tldk.l $sp,0xC000\n\tpush.l $sp\n\tlda.l %0,0xBFFC\n\tmove.l %1,$sp\n\t"
                     "ldk.l $r6,0xFFE8\n\tsta.l 0xBFFC,$r6\n\tpop.l $sp\n\tmove.l %2,$sp\n\tmove.l $sp,$r5"
                     : "=&r"(o0), "=&r"(o1), "=&r"(o2) : : "$r5", "$r6", "memory");
    CHECK("push $sp stores the old sp", o0, 0xC000);
    CHECK("push $sp: sp", o1, 0xBFFC);
    CHECK("pop $sp loads the popped value", o2, 0xFFE8);

    /* E: call/return at sp = 0 */
    __asm__ volatile("move.l $r5,$sp\n\tldk.l %3,1f\n\tldk.l $sp,0\n\tcall sp_probe\n1:\tmove.l %0,$r6\n\t"
                     "move.l %1,$sp\n\tmove.l %2,$r7\n\tmove.l $sp,$r5"
                     : "=&r"(o0), "=&r"(o1), "=&r"(o2), "=&r"(o3) : : "$r5", "$r6", "$r7", "memory");
    CHECK("call at sp=0: sp in callee", o0, 0xFFFC);
    CHECK("return: sp", o1, 0);
    CHECK("call pushed the return address", o2, o3);

    /* F: unlink masks rd to 16 bits before popping */
    __asm__ volatile("move.l $r5,$sp\n\tldk.l $r6,0x5a5a\n\tsta.l 0xFFF0,$r6\n\tldk.l $r14,0x1FFF0\n\t"
                     "unlink $r14\n\tmove.l %0,$r14\n\tmove.l %1,$sp\n\tmove.l $sp,$r5"
                     : "=&r"(o0), "=&r"(o1) : : "$r5", "$r6", "$r14", "memory");
    CHECK("unlink r14=0x1FFF0: r14", o0, 0x5a5a);
    CHECK("unlink r14=0x1FFF0: sp", o1, 0xFFF4);

    /* G: link with k16 = 65535 */
    __asm__ volatile("move.l $r5,$sp\n\tldk.l $sp,0xC000\n\tldk.l $r14,0x777\n\tlink $r14,65535\n\t"
                     "move.l %0,$r14\n\tmove.l %1,$sp\n\tunlink $r14\n\tmove.l %2,$r14\n\tmove.l %3,$sp\n\tmove.l $sp,$r5"
                     : "=&r"(o0), "=&r"(o1), "=&r"(o2), "=&r"(o3) : : "$r5", "$r14", "memory");
    CHECK("link 65535: r14", o0, 0xBFFC);
    CHECK("link 65535: sp", o1, 0xBFFD);
    CHECK("unlink: r14", o2, 0x777);
    CHECK("unlink: sp", o3, 0xC000);

    /* H: a sequence of pushes and pops crossing the 0 boundary */
    __asm__ volatile("move.l $r5,$sp\n\tldk.l $sp,4\n\tldk.l $r6,0x11\n\tldk.l $r7,0x22\n\t"
                     "lda.l $r8,0\n\t" /* save RAM word 0 */
                     "push.l $r6\n\tpush.l $r7\n\tmove.l %0,$sp\n\tpop.l %1\n\tpop.l %2\n\tmove.l %3,$sp\n\t"
                     "sta.l 0,$r8\n\tmove.l $sp,$r5"
                     : "=&r"(o0), "=&r"(o1), "=&r"(o2), "=&r"(o3) : : "$r5", "$r6", "$r7", "$r8", "memory");
    CHECK("two pushes from sp=4: sp", o0, 0xFFFC);
    CHECK("pop 1", o1, 0x22);
    CHECK("pop 2", o2, 0x11);
    CHECK("pops back to sp=4", o3, 4);

    RESTORE(0xFFFC); RESTORE(0xFFF8); RESTORE(0xFFF4); RESTORE(0xFFF0); RESTORE(0xBFFC); RESTORE(0xC000);
    return ft_done("stack");
}
