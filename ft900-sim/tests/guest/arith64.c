/* 64-bit integer arithmetic (addcc carry chains, muluh, libgcc's 64-bit division and shifts),
 * narrow-type conversions, and soft-float single/double arithmetic from libgcc/libm. Every value
 * is also printed as hex so the two simulators are compared bit for bit. */
#include "ft900_test.h"
#include <math.h>

static void show64(const char *what, unsigned long long v) { printf("%-40s %08x%08x\n", what, (unsigned)(v >> 32), (unsigned)v); }
static unsigned long long bits_of(double d) { union { double d; unsigned long long u; } x = {d}; return x.u; }
static unsigned bits_of_f(float f) { union { float f; unsigned u; } x = {f}; return x.u; }

#define CHECK64(what, got, exp) do { unsigned long long _g = (got), _e = (exp); show64(what, _g); \
    ft_checks++; if (_g != _e) { ft_failures++; printf("  MISMATCH: expected %08x%08x\n", (unsigned)(_e >> 32), (unsigned)_e); } } while (0)

static volatile unsigned long long va = 0x123456789abcdef0ULL, vb = 0xfedcba9876543210ULL, vc = 0xffffffffULL;
static volatile long long sa = -1234567890123LL, sb = 987654321LL;

int main(void)
{
    CHECK64("add carry", va + vc, 0x123456799abcdeefULL);
    CHECK64("add wrap", va + vb, 0x1111111111111100ULL);
    CHECK64("sub borrow", va - vb, 0x13579be02468ace0ULL);
    CHECK64("mul", va * vb, 0x236d88fe5618cf00ULL);
    CHECK64("mul 32x32->64", (unsigned long long)(unsigned)vc * (unsigned)vc, 0xfffffffe00000001ULL);
    CHECK64("udiv", vb / 12345, 0xfedcba9876543210ULL / 12345);
    CHECK64("umod", vb % 12345, 0xfedcba9876543210ULL % 12345);
    CHECK64("udiv 64/64", vb / va, 14);
    CHECK64("sdiv", sa / sb, -1234567890123LL / 987654321LL);
    CHECK64("smod", sa % sb, -1234567890123LL % 987654321LL);
    CHECK64("shl 36", va << 36, 0xabcdef0000000000ULL);
    CHECK64("lshr 40", vb >> 40, 0xfedcbaULL);
    CHECK64("ashr 40", (unsigned long long)((long long)vb >> 40), 0xfffffffffffedcbaULL);
    CHECK("cmp 64 signed", sa < sb, 1);
    CHECK("cmp 64 unsigned", va < vb, 1);
    CHECK("cmp 64 equal high words", (va + 1) > va, 1);
    CHECK("clz", __builtin_clzll(va), 3);
    CHECK("ctz", __builtin_ctzll(va), 4);
    CHECK("popcount", __builtin_popcountll(va), 32);
    CHECK64("bswap64", __builtin_bswap64(va), 0xf0debc9a78563412ULL);
    CHECK("bswap32", __builtin_bswap32(0x12345678), 0x78563412);

    /* narrow conversions */
    volatile int big = 0x12345688;
    CHECK("(signed char)", (int)(signed char)big, 0xffffff88);
    CHECK("(unsigned char)", (unsigned)(unsigned char)big, 0x88);
    CHECK("(short)", (int)(short)(big | 0x8000), (int)0xffffd688);
    CHECK("(unsigned short)", (unsigned)(unsigned short)big, 0x5688);

    /* soft float */
    volatile double x = 1.5, y = -2.25, z = 1e300;
    volatile float fx = 3.0f, fy = 7.0f;
    CHECK64("double add", bits_of(x + y), bits_of(-0.75));
    CHECK64("double mul", bits_of(x * y), bits_of(-3.375));
    CHECK64("double div", bits_of(1.0 / 3.0), 0x3fd5555555555555ULL);
    CHECK64("double overflow", bits_of(z * z), 0x7ff0000000000000ULL);
    CHECK64("sqrt(2)", bits_of(sqrt(2.0)), 0x3ff6a09e667f3bcdULL);
    CHECK("float div", bits_of_f(fx / fy), 0x3edb6db7);
    CHECK("float->int", (int)(fy * 1000.5f), 7003);
    CHECK("double->unsigned", (unsigned)(x * 1e9), 1500000000u);
    CHECK64("int->double", bits_of((double)(int)-7), bits_of(-7.0));
    CHECK64("long long->double", bits_of((double)sa), bits_of(-1234567890123.0));
    CHECK64("double->long long", (unsigned long long)(long long)(x * -1e12), (unsigned long long)-1500000000000LL);
    show64("sin(1)", bits_of(sin(1.0)));
    show64("exp(1)", bits_of(exp(1.0)));
    show64("log(10)", bits_of(log(10.0)));
    show64("pow(2, 0.5)", bits_of(pow(2.0, 0.5)));
    show64("atan2(1, -1)", bits_of(atan2(1.0, -1.0)));
    show64("fmod(10.5, 3)", bits_of(fmod(10.5, 3.0)));
    double acc = 0;
    for (int i = 1; i <= 200; i++)
        acc += 1.0 / ((double)i * i);
    show64("sum 1/i^2, i<=200", bits_of(acc));
    CHECK("pi^2/6 approx", (int)(acc * 1000), 1639);
    return ft_done("arith64");
}
