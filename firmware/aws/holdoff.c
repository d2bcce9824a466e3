/*
 * holdoff.c - the schedule between uploads. See holdoff.h.
 */
#include "holdoff.h"
#include "dynamodb.h"

void holdoff_init(struct holdoff *h, uint32_t seed)
{
    h->rng = seed != 0 ? seed : 0x6A09E667u;
    h->failures = 0;
    h->holds = 0;
}

static uint32_t next_random(struct holdoff *h)
{
    uint32_t x = h->rng;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    h->rng = x;
    return x;
}

int holdoff_is_hold(int ddb_ret)
{
    return ddb_ret == DDB_ERR_CREDENTIALS || ddb_ret == DDB_ERR_UNTRUSTED ||
           ddb_ret == DDB_ERR_ARG;
}

/* base * 2^(n-1), capped (n >= 1); no overflow whatever n is. */
static uint32_t ladder(uint32_t base, uint32_t cap, unsigned n)
{
    uint32_t v = base;
    for (unsigned i = 1; i < n && v < cap; i++)
        v *= 2u;
    return v < cap ? v : cap;
}

uint32_t holdoff_after(struct holdoff *h, int ddb_ret)
{
    if (ddb_ret == DDB_OK) {
        h->failures = 0;
        h->holds = 0;
        return 0;
    }
    if (holdoff_is_hold(ddb_ret)) {
        if (h->holds < 255u)
            h->holds++;
        return ladder(HOLDOFF_HOLD_BASE_S, HOLDOFF_HOLD_CAP_S, h->holds) * 1000u;
    }
    if (h->failures < 255u)
        h->failures++;
    uint32_t d = ladder(HOLDOFF_RETRY_BASE_MS, HOLDOFF_RETRY_CAP_MS, h->failures);
    return d / 2u + next_random(h) % (d - d / 2u);
}
