/*
 * holdoff_test.c - host unit test of aws/holdoff.c, the schedule between uploads: which
 * outcomes hold (refused credentials, an untrusted server, an unsignable request) and which
 * back off; the backoff's bounds, growth, cap, jitter and reset; the hold's ladder (5 min
 * doubling to 1 h) and reset; the same seed giving the same schedule.
 */
#include <stdint.h>
#include <stdio.h>

#include "dynamodb.h"
#include "holdoff.h"
#include "host_check.h"

/* The transient ceiling after n failures in a row: 1 s * 2^(n-1), at most 60 s. */
static uint32_t ceiling(unsigned n)
{
    uint64_t d = (uint64_t)HOLDOFF_RETRY_BASE_MS << (n > 20 ? 20 : n - 1);
    return d > HOLDOFF_RETRY_CAP_MS ? HOLDOFF_RETRY_CAP_MS : (uint32_t)d;
}

static void test_classes(void)
{
    CHECK(holdoff_is_hold(DDB_ERR_CREDENTIALS), "refused credentials hold");
    CHECK(holdoff_is_hold(DDB_ERR_UNTRUSTED), "an untrusted server holds");
    CHECK(holdoff_is_hold(DDB_ERR_ARG), "an unsignable request holds");
    CHECK(!holdoff_is_hold(DDB_OK) && !holdoff_is_hold(DDB_ERR_CONNECT) &&
              !holdoff_is_hold(DDB_ERR_RETRIES) && !holdoff_is_hold(DDB_ERR_REJECTED),
          "success, no connection, a failing server, a rejected item: no hold");
}

static void test_backoff(void)
{
    static const int transient[] = {DDB_ERR_CONNECT, DDB_ERR_RETRIES, DDB_ERR_REJECTED};
    for (unsigned k = 0; k < 3; k++) {
        struct holdoff h;
        holdoff_init(&h, 2024u + k);
        int within = 1, jittered = 0;
        uint32_t prev_ceiling = 0, w = 0;
        for (unsigned n = 1; n <= 40; n++) {
            w = holdoff_after(&h, transient[k]);
            uint32_t c = ceiling(n);
            within &= w >= c / 2u && w < c;
            jittered += w != c / 2u;
            within &= c >= prev_ceiling;
            prev_ceiling = c;
        }
        CHECK(within, "ddb %d: each wait in [d/2, d), d = min(60 s, 1 s * 2^(n-1))", transient[k]);
        CHECK(jittered >= 36, "ddb %d: jittered (%d of 40 off the floor)", transient[k], jittered);
        CHECK(w >= 30000u && w < 60000u, "ddb %d: capped near a minute after 40 failures (%u ms)",
              transient[k], (unsigned)w);
        /* A success resets the ladder. */
        CHECK(holdoff_after(&h, DDB_OK) == 0, "success: no wait");
        w = holdoff_after(&h, transient[k]);
        CHECK(w >= 500u && w < 1000u, "after a success the first failure waits 0.5..1 s (%u)", (unsigned)w);
    }
    /* The first few steps, exactly as documented. */
    struct holdoff h;
    holdoff_init(&h, 7);
    uint32_t w1 = holdoff_after(&h, DDB_ERR_CONNECT), w2 = holdoff_after(&h, DDB_ERR_CONNECT),
             w3 = holdoff_after(&h, DDB_ERR_CONNECT), w7 = 0;
    for (unsigned n = 4; n <= 7; n++)
        w7 = holdoff_after(&h, DDB_ERR_CONNECT);
    CHECK(w1 >= 500 && w1 < 1000 && w2 >= 1000 && w2 < 2000 && w3 >= 2000 && w3 < 4000 &&
              w7 >= 30000 && w7 < 60000,
          "1 s, 2 s, 4 s, ... 60 s: %u %u %u ... %u", (unsigned)w1, (unsigned)w2, (unsigned)w3,
          (unsigned)w7);
}

static void test_hold(void)
{
    struct holdoff h;
    holdoff_init(&h, 99);
    static const uint32_t want[] = {300000u, 600000u, 1200000u, 2400000u, 3600000u, 3600000u,
                                    3600000u};
    int ladder = 1;
    for (unsigned i = 0; i < sizeof want / sizeof want[0]; i++) {
        uint32_t w = holdoff_after(&h, i % 2 ? DDB_ERR_UNTRUSTED : DDB_ERR_CREDENTIALS);
        ladder &= w == want[i];
        if (w != want[i])
            printf("  hold %u: %u ms, want %u\n", i + 1, (unsigned)w, (unsigned)want[i]);
    }
    CHECK(ladder, "holds: 5, 10, 20, 40 min, then 1 h for good");
    for (unsigned i = 0; i < 300; i++)
        (void)holdoff_after(&h, DDB_ERR_CREDENTIALS);
    CHECK(holdoff_after(&h, DDB_ERR_CREDENTIALS) == 3600000u, "no overflow after 300 holds");
    /* A transient failure in between does not reset the hold ladder; a success does. */
    (void)holdoff_after(&h, DDB_ERR_CONNECT);
    CHECK(holdoff_after(&h, DDB_ERR_CREDENTIALS) == 3600000u, "a failed connect keeps the hold ladder");
    (void)holdoff_after(&h, DDB_OK);
    CHECK(holdoff_after(&h, DDB_ERR_CREDENTIALS) == 300000u, "a success resets it: 5 min again");
}

static void test_determinism(void)
{
    struct holdoff a, b, other;
    holdoff_init(&a, 12345);
    holdoff_init(&b, 12345);
    holdoff_init(&other, 54321);
    int same = 1, differs = 0;
    for (unsigned n = 0; n < 50; n++) {
        int ret = n % 7 == 6 ? DDB_OK : DDB_ERR_CONNECT;
        uint32_t x = holdoff_after(&a, ret), y = holdoff_after(&b, ret), z = holdoff_after(&other, ret);
        same &= x == y;
        differs += x != z;
    }
    CHECK(same, "same seed, same schedule");
    CHECK(differs >= 30, "another seed, another schedule (%d of 50 differ)", differs);
    struct holdoff zero;
    holdoff_init(&zero, 0);
    uint32_t w = holdoff_after(&zero, DDB_ERR_CONNECT);
    uint32_t w2 = holdoff_after(&zero, DDB_ERR_CONNECT);
    CHECK(zero.rng != 0 && w >= 500 && w2 >= 1000 && w2 < 2000, "seed 0 replaced: still jittered");
}

int main(void)
{
    test_classes();
    test_backoff();
    test_hold();
    test_determinism();
    return host_check_summary("holdoff");
}
