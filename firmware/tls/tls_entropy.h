/*
 * tls_entropy.h - where the randomness of the FT900's TLS comes from.
 *
 * Honestly: the FT900 has no documented true random number generator, and everything on the
 * chip runs from one crystal through one PLL, so the CPU cannot measure jitter between its own
 * timers. What there is:
 *
 * 1. A provisioned seed (the strong source): 32 bytes from a real RNG on the provisioning
 *    host, stored in the device configuration block, unique per device and secret like the
 *    device's private key. mbedTLS reads it as its "NV seed" (MBEDTLS_ENTROPY_NV_SEED) and,
 *    at the first use after boot, replaces it with fresh output of its entropy pool
 *    (mbedtls_entropy_update_nv_seed). tls_entropy_init() takes a callback that should write
 *    that new seed back to the configuration block: then no two boots start from the same
 *    seed. Without the write-back, boots differ only by the weak source below, so a device
 *    that cannot persist the seed must at least mix in something that changes every boot
 *    (tls_entropy_add_boot_data(): a boot counter, the RTC time).
 * 2. Timing of external events (a weak source, credited with nothing): the cycle clock
 *    (tls_cycles(), 50-cycle resolution) sampled when Ethernet frames and UART bytes arrive
 *    (tls_entropy_event(), called by the drivers/network layer) and at each poll, plus the RTC
 *    and the millisecond tick. Frame arrival times depend on the network and the link partner's
 *    clock, which are independent of the FT900's crystal, so on silicon these samples carry a
 *    few unpredictable low bits; an attacker on the LAN sees the same frames, hence weak.
 *
 * No source is claimed to be more than it is: mbedTLS counts only the seed towards its
 * threshold. Without a provisioned seed, tls_entropy_init(NULL, ...) makes every
 * mbedtls_entropy_func() call fail (MBEDTLS_ERR_ENTROPY_SOURCE_FAILED): no TLS rather than TLS
 * with predictable keys.
 *
 * In the simulator every one of these inputs is a function of virtual time and the scenario,
 * so the same seed and the same inputs give the same bytes, run after run.
 */
#ifndef TLS_ENTROPY_H
#define TLS_ENTROPY_H

#include <stddef.h>
#include <stdint.h>

#include "mbedtls/entropy.h"

#define TLS_SEED_LEN 32u

/* Writes the evolved seed back to non-volatile storage; returns 0 on success. */
typedef int (*tls_seed_store_t)(const uint8_t seed[TLS_SEED_LEN]);

/* Installs the provisioned seed (NULL: none, TLS will refuse to start) and the write-back
   callback (may be NULL). Call before mbedtls_entropy_init(). */
void tls_entropy_init(const uint8_t *seed, tls_seed_store_t store);
/* Adds the weak event-timing source to an entropy context (after mbedtls_entropy_init(), which
   adds the seed source itself). Returns 0 or an mbedTLS error. */
int tls_entropy_setup(mbedtls_entropy_context *ctx);
/* Records the cycle clock at an external event (`tag` says which: a frame length, a byte).
   Cheap enough for an interrupt handler. */
void tls_entropy_event(uint32_t tag);
/* Mixes data that changes every boot (boot counter, RTC) into the next poll. */
void tls_entropy_add_boot_data(const void *data, size_t len);
/* The current seed (after mbedTLS has evolved it), for tests. */
const uint8_t *tls_entropy_seed(void);

#endif /* TLS_ENTROPY_H */
