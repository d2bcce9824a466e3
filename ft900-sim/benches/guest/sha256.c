/* SHA-256 (FIPS 180-4) as a TLS stack would run it: first the FIPS test vectors, then a chain of
 * hashes over an 8 KiB buffer (the digest of round k becomes the first 32 bytes of the buffer for
 * round k+1). Prints the final digest; exits 0 only if it matches the value computed on the host
 * with Python's hashlib (expected.py). */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* Building with -DROUNDS=n needs -DEXPECTED=... too (python3 expected.py sha256 n). */
#ifndef ROUNDS
#define ROUNDS 300
#define EXPECTED "aa6ff9d4c52695a2bb60be8c752be68eb7b6cea44201f3b90731fec79ae5e2cd" /* python3 expected.py sha256 300 */
#endif
#define BUF_LEN 8192

static const char expected_hex[] = EXPECTED;

typedef struct {
    uint32_t h[8];
    uint32_t nblocks;
    uint8_t buf[64];
    uint32_t used;
} sha256_ctx;

static const uint32_t K[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

#define ROR(x, n) (((x) >> (n)) | ((x) << (32 - (n))))

static void sha256_block(uint32_t h[8], const uint8_t *p)
{
    uint32_t w[64];
    for (int i = 0; i < 16; i++)
        w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 |
               (uint32_t)p[4 * i + 2] << 8 | p[4 * i + 3];
    for (int i = 16; i < 64; i++) {
        uint32_t s0 = ROR(w[i - 15], 7) ^ ROR(w[i - 15], 18) ^ (w[i - 15] >> 3);
        uint32_t s1 = ROR(w[i - 2], 17) ^ ROR(w[i - 2], 19) ^ (w[i - 2] >> 10);
        w[i] = w[i - 16] + s0 + w[i - 7] + s1;
    }
    uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], hh = h[7];
    for (int i = 0; i < 64; i++) {
        uint32_t t1 = hh + (ROR(e, 6) ^ ROR(e, 11) ^ ROR(e, 25)) + ((e & f) ^ (~e & g)) + K[i] + w[i];
        uint32_t t2 = (ROR(a, 2) ^ ROR(a, 13) ^ ROR(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
        hh = g; g = f; f = e; e = d + t1;
        d = c; c = b; b = a; a = t1 + t2;
    }
    h[0] += a; h[1] += b; h[2] += c; h[3] += d;
    h[4] += e; h[5] += f; h[6] += g; h[7] += hh;
}

static void sha256_init(sha256_ctx *c)
{
    static const uint32_t iv[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                   0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
    memcpy(c->h, iv, sizeof iv);
    c->nblocks = 0;
    c->used = 0;
}

static void sha256_update(sha256_ctx *c, const uint8_t *p, uint32_t n)
{
    while (n > 0) {
        if (c->used == 0 && n >= 64) {
            sha256_block(c->h, p);
            c->nblocks++;
            p += 64;
            n -= 64;
            continue;
        }
        uint32_t k = 64 - c->used;
        if (k > n)
            k = n;
        memcpy(c->buf + c->used, p, k);
        c->used += k;
        p += k;
        n -= k;
        if (c->used == 64) {
            sha256_block(c->h, c->buf);
            c->nblocks++;
            c->used = 0;
        }
    }
}

static void sha256_final(sha256_ctx *c, uint8_t out[32])
{
    uint32_t bits_hi = c->nblocks >> 23;
    uint32_t bits_lo = (c->nblocks << 9) + (c->used << 3);
    c->buf[c->used++] = 0x80;
    if (c->used > 56) {
        memset(c->buf + c->used, 0, 64 - c->used);
        sha256_block(c->h, c->buf);
        c->used = 0;
    }
    memset(c->buf + c->used, 0, 56 - c->used);
    for (int i = 0; i < 4; i++) {
        c->buf[56 + i] = bits_hi >> (24 - 8 * i);
        c->buf[60 + i] = bits_lo >> (24 - 8 * i);
    }
    sha256_block(c->h, c->buf);
    for (int i = 0; i < 8; i++)
        for (int j = 0; j < 4; j++)
            out[4 * i + j] = c->h[i] >> (24 - 8 * j);
}

static void sha256(const void *p, uint32_t n, uint8_t out[32])
{
    sha256_ctx c;
    sha256_init(&c);
    sha256_update(&c, p, n);
    sha256_final(&c, out);
}

static void to_hex(const uint8_t *d, int n, char *s)
{
    static const char digits[] = "0123456789abcdef";
    for (int i = 0; i < n; i++) {
        s[2 * i] = digits[d[i] >> 4];
        s[2 * i + 1] = digits[d[i] & 15];
    }
    s[2 * n] = 0;
}

static int check_vector(const char *msg, const char *want)
{
    uint8_t d[32];
    char hex[65];
    sha256(msg, strlen(msg), d);
    to_hex(d, 32, hex);
    if (strcmp(hex, want) != 0) {
        printf("sha256 test vector FAILED for \"%s\": %s\n", msg, hex);
        return 1;
    }
    return 0;
}

static uint8_t buf[BUF_LEN];

int main(void)
{
    int bad = 0;
    bad |= check_vector("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    bad |= check_vector("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    bad |= check_vector("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
                        "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");

    uint32_t x = 0x12345678;
    for (int i = 0; i < BUF_LEN; i++) {
        x = x * 1664525u + 1013904223u;
        buf[i] = x >> 24;
    }
    uint8_t d[32];
    for (int r = 0; r < ROUNDS; r++) {
        sha256(buf, BUF_LEN, d);
        memcpy(buf, d, 32);
    }
    char hex[65];
    to_hex(d, 32, hex);
    printf("sha256: %d rounds x %d bytes: %s\n", ROUNDS, BUF_LEN, hex);
    if (strcmp(hex, expected_hex) != 0) {
        printf("sha256: MISMATCH, expected %s\n", expected_hex);
        bad = 1;
    }
    return bad;
}
