/* 512-bit modular exponentiation on 32-bit limbs, the inner loop of RSA/DH in a TLS handshake:
 * Montgomery multiplication (CIOS), left-to-right square-and-multiply with a full 512-bit
 * exponent. ROUNDS exponentiations are chained (the result of one is the base of the next); the
 * modulus, exponent and first base come from an LCG. Prints the final result; exits 0 only if it
 * matches the value computed on the host with Python's pow(). */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* Building with -DROUNDS=n needs -DEXPECTED=... too (python3 expected.py modexp n). */
#ifndef ROUNDS
#define ROUNDS 25
#define EXPECTED "3edfdc37da7f211f5fa9764874ce5d7626c716e61b121af53213bb7ab2b5900ffe7e52ac73c3a6821de45dfa993ed637cfc41c1a9bcf3e6e7cdf3916ef7ec123" /* python3 expected.py modexp 25 */
#endif
#define N 16 /* limbs of 32 bits: 512-bit numbers */

static const char expected_hex[] = EXPECTED;

static uint32_t lcg_state = 0x2545F491;
static uint32_t lcg(void)
{
    lcg_state = lcg_state * 1664525u + 1013904223u;
    return lcg_state;
}

/* r = a * b * 2^(-32N) mod m, for a, b < m. r may alias a or b. */
static void mont_mul(uint32_t *r, const uint32_t *a, const uint32_t *b, const uint32_t *m,
                     uint32_t m0inv)
{
    uint32_t t[N + 2];
    memset(t, 0, sizeof t);
    for (int i = 0; i < N; i++) {
        uint64_t c = 0;
        uint32_t bi = b[i];
        for (int j = 0; j < N; j++) {
            c = (uint64_t)a[j] * bi + t[j] + (uint32_t)c;
            t[j] = (uint32_t)c;
            c >>= 32;
        }
        c = (uint64_t)t[N] + (uint32_t)c;
        t[N] = (uint32_t)c;
        t[N + 1] = (uint32_t)(c >> 32);

        uint32_t u = t[0] * m0inv;
        c = ((uint64_t)u * m[0] + t[0]) >> 32;
        for (int j = 1; j < N; j++) {
            c = (uint64_t)u * m[j] + t[j] + (uint32_t)c;
            t[j - 1] = (uint32_t)c;
            c >>= 32;
        }
        c = (uint64_t)t[N] + (uint32_t)c;
        t[N - 1] = (uint32_t)c;
        t[N] = t[N + 1] + (uint32_t)(c >> 32);
    }
    /* t < 2m: subtract m once if t >= m. */
    int ge = t[N] != 0;
    if (!ge) {
        ge = 1;
        for (int j = N - 1; j >= 0; j--) {
            if (t[j] != m[j]) {
                ge = t[j] > m[j];
                break;
            }
        }
    }
    if (ge) {
        uint32_t borrow = 0;
        for (int j = 0; j < N; j++) {
            uint64_t d = (uint64_t)t[j] - m[j] - borrow;
            r[j] = (uint32_t)d;
            borrow = (uint32_t)(d >> 32) & 1;
        }
    } else {
        memcpy(r, t, N * 4);
    }
}

/* -m0^(-1) mod 2^32 (Newton iteration; m0 odd). */
static uint32_t neg_inv32(uint32_t m0)
{
    uint32_t x = 1;
    for (int i = 0; i < 5; i++)
        x *= 2 - m0 * x;
    return -x;
}

/* x = 2x mod m for x < m. */
static void dbl_mod(uint32_t *x, const uint32_t *m)
{
    uint32_t carry = 0;
    for (int j = 0; j < N; j++) {
        uint32_t v = x[j];
        x[j] = (v << 1) | carry;
        carry = v >> 31;
    }
    int ge = carry;
    if (!ge) {
        ge = 1;
        for (int j = N - 1; j >= 0; j--) {
            if (x[j] != m[j]) {
                ge = x[j] > m[j];
                break;
            }
        }
    }
    if (ge) {
        uint32_t borrow = 0;
        for (int j = 0; j < N; j++) {
            uint64_t d = (uint64_t)x[j] - m[j] - borrow;
            x[j] = (uint32_t)d;
            borrow = (uint32_t)(d >> 32) & 1;
        }
    }
}

/* r = base^e mod m. */
static void mod_exp(uint32_t *r, const uint32_t *base, const uint32_t *e, const uint32_t *m)
{
    uint32_t m0inv = neg_inv32(m[0]);
    uint32_t rr[N], one[N], acc[N], b[N];
    /* rr = 2^(64N) mod m, by doubling 1 that many times. */
    memset(rr, 0, sizeof rr);
    rr[0] = 1;
    for (int i = 0; i < 64 * N; i++)
        dbl_mod(rr, m);
    memset(one, 0, sizeof one);
    one[0] = 1;
    mont_mul(b, base, rr, m, m0inv);  /* b = base * R mod m */
    mont_mul(acc, one, rr, m, m0inv); /* acc = R mod m (1 in Montgomery form) */
    for (int i = N - 1; i >= 0; i--) {
        for (int k = 31; k >= 0; k--) {
            mont_mul(acc, acc, acc, m, m0inv);
            if ((e[i] >> k) & 1)
                mont_mul(acc, acc, b, m, m0inv);
        }
    }
    mont_mul(r, acc, one, m, m0inv);
}

int main(void)
{
    uint32_t m[N], e[N], x[N];
    for (int j = 0; j < N; j++)
        m[j] = lcg();
    m[0] |= 1;
    m[N - 1] |= 0x80000000u;
    for (int j = 0; j < N; j++)
        e[j] = lcg();
    for (int j = 0; j < N; j++)
        x[j] = lcg();
    x[N - 1] &= 0x7fffffffu; /* base < m */

    int bad = 0;
    /* Sanity check with a small odd modulus (Montgomery form works for any odd m < 2^512). */
    {
        uint32_t mm[N] = {0}, bb[N] = {0}, ee[N] = {0}, rr[N];
        mm[0] = 1000003;
        bb[0] = 7;
        ee[0] = 13;
        mod_exp(rr, bb, ee, mm);
        /* 7^13 = 96889010407 */
        if (rr[0] != (uint32_t)(96889010407ULL % 1000003ULL)) {
            printf("modexp small check FAILED: %lu\n", (unsigned long)rr[0]);
            bad = 1;
        }
    }

    for (int r = 0; r < ROUNDS; r++)
        mod_exp(x, x, e, m);

    char hex[8 * N + 1];
    for (int j = 0; j < N; j++)
        snprintf(hex + 8 * j, 9, "%08lx", (unsigned long)x[N - 1 - j]);
    printf("modexp: %d rounds of 512-bit x^e mod m: %s\n", ROUNDS, hex);
    if (strcmp(hex, expected_hex) != 0) {
        printf("modexp: MISMATCH, expected %s\n", expected_hex);
        bad = 1;
    }
    return bad;
}
