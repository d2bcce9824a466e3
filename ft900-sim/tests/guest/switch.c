/* switch statements: dense ones become jump tables in .text read with lpmi.l (GCC's casesi),
 * sparse ones compare trees; switch on chars and negative values, fallthrough, nested switches,
 * computed goto (label values). */
#include "ft900_test.h"

static int __attribute__((noinline)) dense(int x)
{
    switch (x) {
    case 0: return 11;
    case 1: return 22;
    case 2: return 33;
    case 3: return 44;
    case 4: return 55;
    case 5: return 66;
    case 6: return 77;
    case 7: return 88;
    case 8: return 99;
    case 9: return 111;
    case 10: return 122;
    case 11: return 133;
    default: return -1;
    }
}

static int __attribute__((noinline)) dense_offset(int x)
{
    switch (x) {
    case -3: return 1;
    case -2: return 2;
    case -1: return 3;
    case 0: return 4;
    case 1: return 5;
    case 2: return 6;
    case 3: return 7;
    case 4: return 8;
    case 5: return 9;
    default: return 0;
    }
}

static int __attribute__((noinline)) sparse(unsigned x)
{
    switch (x) {
    case 1: return 1;
    case 100: return 2;
    case 1000: return 3;
    case 10000: return 4;
    case 100000: return 5;
    case 0x80000000u: return 6;
    case 0xffffffffu: return 7;
    default: return 0;
    }
}

static int __attribute__((noinline)) chars(const char *s)
{
    int vowels = 0, digits = 0, other = 0;
    for (; *s; s++)
        switch (*s) {
        case 'a': case 'e': case 'i': case 'o': case 'u':
        case 'A': case 'E': case 'I': case 'O': case 'U':
            vowels++;
            break;
        case '0' ... '9':
            digits++;
            break;
        default:
            other++;
        }
    return vowels * 10000 + digits * 100 + other;
}

static int __attribute__((noinline)) fallthrough(int x)
{
    int r = 0;
    switch (x) {
    case 0: r += 1; /* fall through */
    case 1: r += 10; /* fall through */
    case 2: r += 100; break;
    case 3: r += 1000; /* fall through */
    default: r += 10000;
    }
    return r;
}

static int __attribute__((noinline)) nested(int a, int b)
{
    switch (a) {
    case 0:
        switch (b) { case 0: return 1; case 1: return 2; case 2: return 3; case 3: return 4; case 4: return 5; default: return 6; }
    case 1:
        switch (b) { case 0: return 7; case 1: return 8; case 2: return 9; case 3: return 10; default: return 11; }
    case 2: return 12;
    case 3: return 13;
    case 4: return 14;
    case 5: return 15;
    default: return 16;
    }
}

static int __attribute__((noinline)) interp(const unsigned char *prog)
{
    static void *const table[] = {&&op_push1, &&op_add, &&op_dup, &&op_mul, &&op_end};
    int stack[16], sp = 0;
    goto *table[*prog++];
op_push1: stack[sp++] = 1; goto *table[*prog++];
op_add: sp--; stack[sp - 1] += stack[sp]; goto *table[*prog++];
op_dup: stack[sp] = stack[sp - 1]; sp++; goto *table[*prog++];
op_mul: sp--; stack[sp - 1] *= stack[sp]; goto *table[*prog++];
op_end: return stack[sp - 1];
}

int main(void)
{
    static const int dense_expect[] = {11, 22, 33, 44, 55, 66, 77, 88, 99, 111, 122, 133};
    int bad = 0;
    for (int i = -5; i < 20; i++)
        bad += dense(i) != (i >= 0 && i < 12 ? dense_expect[i] : -1);
    CHECK("dense switch", bad, 0);
    bad = 0;
    for (int i = -10; i < 10; i++)
        bad += dense_offset(i) != (i >= -3 && i <= 5 ? i + 4 : 0);
    CHECK("dense switch with negative cases", bad, 0);
    static const unsigned sp_in[] = {0, 1, 2, 100, 999, 1000, 10000, 100000, 0x80000000u, 0xffffffffu, 0x7fffffff};
    static const int sp_out[] = {0, 1, 0, 2, 0, 3, 4, 5, 6, 7, 0};
    bad = 0;
    for (unsigned i = 0; i < sizeof sp_in / sizeof sp_in[0]; i++)
        bad += sparse(sp_in[i]) != sp_out[i];
    CHECK("sparse switch", bad, 0);
    CHECK("switch on chars", chars("Hello, World 2024! AEIOU xyz 99"), 8 * 10000 + 6 * 100 + 17);
    CHECK("fallthrough 0", fallthrough(0), 111);
    CHECK("fallthrough 1", fallthrough(1), 110);
    CHECK("fallthrough 2", fallthrough(2), 100);
    CHECK("fallthrough 3", fallthrough(3), 11000);
    CHECK("fallthrough 9", fallthrough(9), 10000);
    int acc = 0;
    for (int a = -1; a < 8; a++)
        for (int b = -1; b < 7; b++)
            acc = acc * 3 + nested(a, b);
    SHOW("nested switch checksum", acc);
    CHECK("nested(1,3)", nested(1, 3), 10);
    static const unsigned char prog[] = {0, 0, 1, 2, 1, 2, 3, 0, 1, 4}; /* ((1+1)+(1+1)... */
    CHECK("computed goto interpreter", interp(prog), 17);
    return ft_done("switch");
}
