/*
 * entropy.c - the entropy sources of the TLS client: the provisioned seed (mbedTLS NV seed,
 * strong) and event timing (weak). See tls_entropy.h for what each is worth.
 */
#include <string.h>

#include "mbedtls/entropy.h"
#include "mbedtls/platform.h"
#include "mbedtls/platform_util.h"

#include "ft900_interrupt.h"
#include "ft900_rtc.h"
#include "ft900_timer.h"
#include "tls_entropy.h"
#include "tls_platform.h"

#if MBEDTLS_ENTROPY_BLOCK_SIZE != 32
#error "the NV seed is one SHA-256 block (MBEDTLS_ENTROPY_BLOCK_SIZE 32)"
#endif

/* ---- strong: the provisioned seed as mbedTLS's NV seed -------------------------------------- */

static uint8_t seed[TLS_SEED_LEN];
static uint8_t seed_present;
static tls_seed_store_t seed_store;

static int nv_seed_read(unsigned char *buf, size_t len)
{
    if (!seed_present || len > sizeof seed)
        return -1;
    memcpy(buf, seed, len);
    return (int)len;
}

/* mbedTLS calls this at the first mbedtls_entropy_func() of an entropy context with a new seed
   drawn from its pool (which already holds the old seed and the weak samples). A failed
   write-back is not fatal: the session still uses the evolved seed, but the next boot starts
   from the old one again. */
static int nv_seed_write(unsigned char *buf, size_t len)
{
    if (len > sizeof seed)
        return -1;
    memcpy(seed, buf, len);
    if (seed_store != NULL)
        (void)seed_store(seed);
    return (int)len;
}

void tls_entropy_init(const uint8_t *provisioned, tls_seed_store_t store)
{
    if (provisioned != NULL) {
        memcpy(seed, provisioned, sizeof seed);
        seed_present = 1;
    } else {
        mbedtls_platform_zeroize(seed, sizeof seed);
        seed_present = 0;
    }
    seed_store = store;
    mbedtls_platform_set_nv_seed(nv_seed_read, nv_seed_write);
}

const uint8_t *tls_entropy_seed(void)
{
    return seed;
}

/* ---- weak: timing of external events --------------------------------------------------------- */

#define EVENT_SLOTS 16u
static volatile uint32_t events[EVENT_SLOTS];
static volatile uint32_t event_count;
static uint8_t boot_data[16];
static uint8_t boot_len;

void tls_entropy_event(uint32_t tag)
{
    uint32_t t = tls_cycles();
    uint8_t s = interrupt_save();
    uint32_t i = event_count++;
    /* Keep the time in full and the tag rotated over it: the accumulator hashes everything. */
    events[i % EVENT_SLOTS] = t ^ (tag << 16 | tag >> 16);
    interrupt_restore(s);
}

void tls_entropy_add_boot_data(const void *data, size_t len)
{
    const uint8_t *p = data;
    for (size_t i = 0; i < len; i++)
        boot_data[(boot_len + i) % sizeof boot_data] ^= p[i];
    boot_len = (uint8_t)(len < sizeof boot_data ? len : sizeof boot_data);
}

static void put32(unsigned char *out, size_t len, size_t *n, uint32_t v)
{
    for (unsigned b = 0; b < 4 && *n < len; b++)
        out[(*n)++] = (unsigned char)(v >> (8 * b));
}

static int event_poll(void *data, unsigned char *out, size_t len, size_t *olen)
{
    (void)data;
    size_t n = 0;
    for (unsigned i = 0; i < boot_len && n < len; i++)
        out[n++] = boot_data[i];
    boot_len = 0;

    uint8_t s = interrupt_save();
    uint32_t count = event_count;
    uint32_t first = count > EVENT_SLOTS ? count - EVENT_SLOTS : 0;
    for (uint32_t i = first; i < count; i++)
        put32(out, len, &n, events[i % EVENT_SLOTS]);
    event_count = 0;
    interrupt_restore(s);

    put32(out, len, &n, count);
    put32(out, len, &n, tls_cycles());
    put32(out, len, &n, rtc_read());
    put32(out, len, &n, millis());
    *olen = n;
    return 0;
}

int tls_entropy_setup(mbedtls_entropy_context *ctx)
{
    /* Threshold 0 and WEAK: polled every time, credited with nothing. */
    return mbedtls_entropy_add_source(ctx, event_poll, NULL, 0, MBEDTLS_ENTROPY_SOURCE_WEAK);
}
