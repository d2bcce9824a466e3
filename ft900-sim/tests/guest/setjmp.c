/* setjmp/longjmp (newlib's ft32 setjmp saves the callee-saved registers, sp and the return address):
 * plain, nested, from deep recursion, longjmp(…, 0) returning 1, and volatile locals surviving. */
#include "ft900_test.h"
#include <setjmp.h>

static jmp_buf outer, inner;
static int depth_reached;

static void __attribute__((noinline)) dive(int n)
{
    volatile char pad[40];
    pad[0] = (char)n;
    depth_reached = n + pad[0] - n;
    if (n == 50)
        longjmp(outer, 777);
    dive(n + 1);
}

static int __attribute__((noinline)) nested(int x)
{
    int r = setjmp(inner);
    if (r == 0) {
        if (x > 3)
            longjmp(inner, x * 10);
        return -1;
    }
    return r;
}

static int __attribute__((noinline)) callee_saved_mix(int a, int b)
{
    /* values kept in callee-saved registers across setjmp */
    register int k1 = a * 3, k2 = b * 5, k3 = a ^ b;
    jmp_buf env;
    volatile int count = 0;
    if (setjmp(env) < 3) {
        count++;
        if (count < 3)
            longjmp(env, count);
    }
    return k1 + k2 + k3 + count * 1000;
}

int main(void)
{
    volatile int stage = 0;
    int r = setjmp(outer);
    if (r == 0) {
        stage = 1;
        dive(0);
        stage = 99; /* not reached */
    }
    CHECK("longjmp value from recursion", r, 777);
    CHECK("volatile local survives", stage, 1);
    CHECK("recursion depth reached", depth_reached, 50);

    CHECK("nested setjmp, jump taken", nested(5), 50);
    CHECK("nested setjmp, no jump", nested(2), (unsigned)-1);

    jmp_buf env;
    volatile int tries = 0;
    int v = setjmp(env);
    tries++;
    if (tries == 1)
        longjmp(env, 0); /* must return 1 */
    CHECK("longjmp(env, 0) returns 1", v, 1);
    CHECK("tries", tries, 2);
    CHECK("callee-saved registers restored", callee_saved_mix(7, 11), 7 * 3 + 11 * 5 + (7 ^ 11) + 3000);
    return ft_done("setjmp");
}
