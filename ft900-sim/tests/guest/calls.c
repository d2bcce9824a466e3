/* calls.c - a known call structure for the profiler and trace tests (tests/trace.rs), also
 * run by the differential suite: direct calls in a loop, an indirect call (calli), a
 * recursion left by longjmp (the profiler must resync its shadow stack from sp), and a store
 * of a known value to a global. Keep each function on the line the tests look for.
 */
#include <setjmp.h>
#include <stdio.h>

volatile unsigned calls_sink;
static jmp_buf calls_env;

__attribute__((noinline)) unsigned leaf(unsigned x) { return x * 3u + 1u; }

__attribute__((noinline)) unsigned middle(unsigned n)
{
    unsigned s = 0;
    for (unsigned i = 0; i < n; i++)
        s += leaf(i);
    return s;
}

__attribute__((noinline)) unsigned through_pointer(unsigned (*f)(unsigned), unsigned v)
{
    return f(v) + 0u * v;
}

__attribute__((noinline)) void bail(int depth)
{
    if (depth == 0)
        longjmp(calls_env, 7);
    bail(depth - 1);
    calls_sink = 0; /* not reached; keeps the recursive call from being a tail call */
}

int main(void)
{
    int errors = 0;
    unsigned a = middle(10); /* leaf(0..9): 3 * 45 + 10 = 145 */
    unsigned (*volatile fp)(unsigned) = leaf;
    unsigned b = through_pointer(fp, 5); /* 16 */
    int r = setjmp(calls_env);
    if (r == 0)
        bail(3);
    calls_sink = 0x5EED1234u; /* the store the mem trace must show */
    unsigned c = middle(2); /* 1 + 4 = 5, called from main again after the longjmp */
    printf("a=%u b=%u r=%d c=%u sink=%#x\n", a, b, r, c, calls_sink);
    errors += a != 145u;
    errors += b != 16u;
    errors += r != 7;
    errors += c != 5u;
    errors += calls_sink != 0x5EED1234u;
    return errors;
}
