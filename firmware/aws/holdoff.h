/*
 * holdoff.h - when the device may start its next upload, after the outcome of the last one.
 *
 *   DDB_OK                       -> at once; both ladders start again from the bottom
 *   failures that time can fix   -> exponential backoff with jitter: uniform in
 *   (DDB_ERR_CONNECT: no network,   [d/2, d), d = min(HOLDOFF_RETRY_CAP_MS,
 *   DDB_ERR_RETRIES: the server     HOLDOFF_RETRY_BASE_MS * 2^(n-1)) after n such failures in
 *   kept failing, DDB_ERR_REJECTED) a row ("equal jitter": never less than half, so a dead
 *                                   network is not hammered, and a fleet spreads out)
 *   failures that retrying cannot fix
 *   (DDB_ERR_CREDENTIALS: the key   -> a hold: HOLDOFF_HOLD_BASE_S * 2^(n-1) seconds, capped at
 *   is refused; DDB_ERR_UNTRUSTED:     HOLDOFF_HOLD_CAP_S (5 min, 10, 20, 40, then 1 h). Not
 *   the server's certificate is        forever: a rotated key or a fixed trust store on the
 *   not trusted; DDB_ERR_ARG: the      server side may cure it, and the device must notice
 *   request cannot be signed)          without a visit.
 *
 * Deterministic: the jitter comes from a seeded xorshift32 (same seed, same schedule).
 * Portable C, no I/O: the host tests run it (aws/tests/holdoff_test.c).
 */
#ifndef AWS_HOLDOFF_H
#define AWS_HOLDOFF_H

#include <stdint.h>

#define HOLDOFF_RETRY_BASE_MS 1000u
#define HOLDOFF_RETRY_CAP_MS  60000u
#define HOLDOFF_HOLD_BASE_S   300u
#define HOLDOFF_HOLD_CAP_S    3600u

struct holdoff {
    uint32_t rng;       /* xorshift32 state of the jitter */
    uint8_t failures;   /* transient failures in a row */
    uint8_t holds;      /* holds in a row */
};

/* Starts both ladders from the bottom; `seed` seeds the jitter (0 is replaced). */
void holdoff_init(struct holdoff *h, uint32_t seed);
/* The wait in milliseconds before the next upload, after one that returned `ddb_ret`
   (DDB_OK or a DDB_ERR_* of dynamodb.h); updates the ladders. */
uint32_t holdoff_after(struct holdoff *h, int ddb_ret);
/* 1 if `ddb_ret` is a failure that retrying cannot fix (holdoff_after() returns a hold). */
int holdoff_is_hold(int ddb_ret);

#endif /* AWS_HOLDOFF_H */
