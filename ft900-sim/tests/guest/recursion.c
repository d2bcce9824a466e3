/* Calls and the ABI: deep and mutual recursion, Ackermann, Hanoi, a recursive quicksort, function
 * pointer tables, varargs (the callee re-pushes the return address), struct arguments and returns
 * (by reference / sret), 64-bit arguments, more than 6 arguments (stack-passed). */
#include "ft900_test.h"
#include <stdarg.h>

static unsigned fib(unsigned n) { return n < 2 ? n : fib(n - 1) + fib(n - 2); }
static unsigned ack(unsigned m, unsigned n)
{
    if (m == 0) return n + 1;
    if (n == 0) return ack(m - 1, 1);
    return ack(m - 1, ack(m, n - 1));
}
static unsigned moves;
static void hanoi(int n, int a, int b, int c)
{
    if (!n) return;
    hanoi(n - 1, a, c, b);
    moves++;
    hanoi(n - 1, c, b, a);
}
static int is_odd(unsigned n);
static int is_even(unsigned n) { return n == 0 ? 1 : is_odd(n - 1); }
static int is_odd(unsigned n) { return n == 0 ? 0 : is_even(n - 1); }

static unsigned depth(unsigned n)
{
    volatile unsigned frame[8];
    frame[n & 7] = n;
    return n ? depth(n - 1) + frame[n & 7] - n + 1 : 0;
}

static void quicksort(int *a, int lo, int hi)
{
    if (lo >= hi) return;
    int p = a[(lo + hi) / 2], i = lo, j = hi;
    while (i <= j) {
        while (a[i] < p) i++;
        while (a[j] > p) j--;
        if (i <= j) { int t = a[i]; a[i] = a[j]; a[j] = t; i++; j--; }
    }
    quicksort(a, lo, j);
    quicksort(a, i, hi);
}

static int sum_va(int n, ...)
{
    va_list ap;
    va_start(ap, n);
    int s = 0;
    for (int i = 0; i < n; i++)
        s += va_arg(ap, int) * (i + 1);
    va_end(ap);
    return s;
}
static long long sum_va_ll(int n, ...)
{
    va_list ap;
    va_start(ap, n);
    long long s = 0;
    for (int i = 0; i < n; i++)
        s += va_arg(ap, long long);
    va_end(ap);
    return s;
}

struct big { int a[8]; char tag; };
static struct big make_big(int seed)
{
    struct big b;
    for (int i = 0; i < 8; i++) b.a[i] = seed * (i + 1);
    b.tag = (char)('A' + seed);
    return b;
}
static int use_big(struct big b, int k) { return b.a[k] + b.tag; }
static long long add64(long long a, long long b, int c) { return a + b + c; }
static int many(int a, int b, int c, int d, int e, int f, int g, int h, int i, long long j)
{
    return a + 2 * b + 3 * c + 4 * d + 5 * e + 6 * f + 7 * g + 8 * h + 9 * i + (int)(j >> 32);
}

static int op_add(int a, int b) { return a + b; }
static int op_sub(int a, int b) { return a - b; }
static int op_mul(int a, int b) { return a * b; }
static int (*const ops[])(int, int) = {op_add, op_sub, op_mul};

int main(void)
{
    CHECK("fib(20)", fib(20), 6765);
    CHECK("ack(2,3)", ack(2, 3), 9);
    CHECK("ack(3,3)", ack(3, 3), 61);
    hanoi(10, 1, 2, 3);
    CHECK("hanoi(10) moves", moves, 1023);
    CHECK("is_even(1001)", is_even(1001), 0);
    CHECK("is_odd(777)", is_odd(777), 1);
    CHECK("depth(600)", depth(600), 600);
    int arr[100];
    for (int i = 0; i < 100; i++) arr[i] = (i * 7919) % 101 - 50;
    quicksort(arr, 0, 99);
    int bad = 0;
    for (int i = 1; i < 100; i++) bad += arr[i - 1] > arr[i];
    CHECK("quicksort", bad, 0);
    CHECK("varargs ints", sum_va(7, 1, 2, 3, 4, 5, 6, 7), 1 + 4 + 9 + 16 + 25 + 36 + 49);
    CHECK("varargs long long (low)", (unsigned)sum_va_ll(3, 0x100000000LL, -1LL, 5LL), 4);
    CHECK("varargs long long (high)", (unsigned)(sum_va_ll(3, 0x100000000LL, -1LL, 5LL) >> 32), 1);
    struct big b = make_big(3);
    CHECK("struct return (sret)", b.a[7], 24);
    CHECK("struct by reference", use_big(b, 2), 9 + 'D');
    CHECK("64-bit args", (unsigned)(add64(0xffffffffLL, 1, 2) >> 32), 1);
    CHECK("10 args (stack-passed)", many(1, 2, 3, 4, 5, 6, 7, 8, 9, 0x500000000LL), 1 + 4 + 9 + 16 + 25 + 36 + 49 + 64 + 81 + 5);
    int acc = 0;
    for (int i = 0; i < 30; i++) acc = ops[i % 3](acc, i + 1);
    SHOW("function pointer chain", acc);
    return ft_done("recursion");
}
