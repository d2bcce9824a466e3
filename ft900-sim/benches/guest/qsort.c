/* Sorting: newlib's qsort() of 8192 signed ints from an LCG, with a comparison callback, ROUNDS
 * times (each round refills the array from the continuing LCG). After each sort the array is
 * checked to be in order and folded into an FNV-1a style checksum. Prints the checksum; exits 0
 * only if it matches the value computed on the host (python3 benches/guest/expected.py qsort). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

/* Building with -DROUNDS=n needs -DEXPECTED=... too (python3 expected.py qsort n). */
#ifndef ROUNDS
#define ROUNDS 80
#define EXPECTED 0x5f6de23bu /* python3 expected.py qsort 80 */
#endif
#define COUNT 8192


static int32_t a[COUNT];

static int cmp_int(const void *x, const void *y)
{
    int32_t p = *(const int32_t *)x, q = *(const int32_t *)y;
    return (p > q) - (p < q);
}

int main(void)
{
    uint32_t x = 0xDEADBEEF;
    uint32_t sum = 2166136261u;
    int bad = 0;
    for (int r = 0; r < ROUNDS; r++) {
        for (int i = 0; i < COUNT; i++) {
            x = x * 1664525u + 1013904223u;
            a[i] = (int32_t)x;
        }
        qsort(a, COUNT, sizeof a[0], cmp_int);
        for (int i = 0; i < COUNT; i++) {
            if (i > 0 && a[i - 1] > a[i]) {
                printf("qsort: round %d: not sorted at %d\n", r, i);
                return 1;
            }
            sum = (sum ^ (uint32_t)a[i]) * 16777619u;
        }
    }
    printf("qsort: %d rounds x %d ints: %08lx\n", ROUNDS, COUNT, (unsigned long)sum);
    if (sum != EXPECTED) {
        printf("qsort: MISMATCH, expected %08lx\n", (unsigned long)EXPECTED);
        bad = 1;
    }
    return bad;
}
