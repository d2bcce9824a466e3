/* CRC-32 (IEEE 802.3, reflected, as in zlib/PNG/Ethernet), table-driven one byte at a time: the
 * table is built at run time and checked against the standard check value, then the CRC runs over
 * an 8 KiB buffer ROUNDS times in a row (the CRC of the buffer repeated ROUNDS times). Prints the
 * final CRC; exits 0 only if it matches the value computed on the host with zlib.crc32. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* Building with -DROUNDS=n needs -DEXPECTED=... too (python3 expected.py crc32 n). */
#ifndef ROUNDS
#define ROUNDS 2200
#define EXPECTED 0xa1b29603u /* python3 expected.py crc32 2200 */
#endif
#define BUF_LEN 8192


static uint32_t table[256];
static uint8_t buf[BUF_LEN];

static void make_table(void)
{
    for (uint32_t n = 0; n < 256; n++) {
        uint32_t c = n;
        for (int k = 0; k < 8; k++)
            c = (c & 1) ? 0xedb88320u ^ (c >> 1) : c >> 1;
        table[n] = c;
    }
}

/* Running CRC in the pre-/post-inverted form, like zlib's crc32(crc, buf, len). */
static uint32_t crc32_update(uint32_t crc, const uint8_t *p, uint32_t n)
{
    crc = ~crc;
    while (n--)
        crc = table[(crc ^ *p++) & 0xff] ^ (crc >> 8);
    return ~crc;
}

int main(void)
{
    int bad = 0;
    make_table();
    uint32_t check = crc32_update(0, (const uint8_t *)"123456789", 9);
    if (check != 0xcbf43926u) {
        printf("crc32 check value FAILED: %08lx\n", (unsigned long)check);
        bad = 1;
    }
    uint32_t x = 0xC0FFEE;
    for (int i = 0; i < BUF_LEN; i++) {
        x = x * 1103515245u + 12345u;
        buf[i] = x >> 16;
    }
    uint32_t crc = 0;
    for (int r = 0; r < ROUNDS; r++)
        crc = crc32_update(crc, buf, BUF_LEN);
    printf("crc32: %d rounds x %d bytes: %08lx\n", ROUNDS, BUF_LEN, (unsigned long)crc);
    if (crc != EXPECTED) {
        printf("crc32: MISMATCH, expected %08lx\n", (unsigned long)EXPECTED);
        bad = 1;
    }
    return bad;
}
