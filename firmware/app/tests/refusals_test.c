/*
 * refusals_test.c - host unit test of app/refusals.c: a refused batch isolates its readings, a
 * reading refused REFUSALS_MAX times is set aside, successes reset the count, other errors and
 * other types never set a reading aside, at most one reading between two successes.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "dynamodb.h"
#include "host_check.h"
#include "refusals.h"

static const char *V = "ValidationException";

static void test_isolation(void)
{
    struct refusals r;
    memset(&r, 0, sizeof r);
    CHECK(refusals_limit(&r, 7) == 7, "batches by default");
    CHECK(refusals_after(&r, 1, 7, DDB_ERR_REJECTED, V) == 0, "a refused batch sets nothing aside");
    CHECK(refusals_limit(&r, 7) == 1 && r.singles == 7, "then one reading at a time, 7 times");
    CHECK(refusals_after(&r, 1, 1, DDB_OK, "") == 0 && refusals_after(&r, 2, 1, DDB_OK, "") == 0,
          "readings 1 and 2 go through alone");
    CHECK(refusals_limit(&r, 5) == 1 && r.singles == 5, "still isolating");
    int aside = 0;
    for (unsigned k = 1; k <= REFUSALS_MAX; k++)
        aside = refusals_after(&r, 3, 1, DDB_ERR_REJECTED, V);
    CHECK(aside == 1, "reading 3 set aside at its %u-th refusal", REFUSALS_MAX);
    CHECK(r.singles == 4 && refusals_limit(&r, 4) == 1, "the rest of the batch still alone");
    for (uint32_t seq = 4; seq <= 7; seq++)
        (void)refusals_after(&r, seq, 1, DDB_OK, "");
    CHECK(refusals_limit(&r, 9) == 9, "batches again after the isolated ones");
}

static void test_counting(void)
{
    struct refusals r;
    memset(&r, 0, sizeof r);
    CHECK(refusals_after(&r, 5, 1, DDB_ERR_REJECTED, V) == 0 &&
              refusals_after(&r, 5, 1, DDB_ERR_REJECTED, V) == 0,
          "two refusals: kept");
    CHECK(refusals_after(&r, 5, 1, DDB_ERR_RETRIES, "InternalServerError") == 0 &&
              refusals_after(&r, 5, 1, DDB_ERR_CONNECT, "") == 0,
          "other failures neither count nor reset");
    CHECK(refusals_after(&r, 5, 1, DDB_ERR_REJECTED, V) == 1, "the third in a row: set aside");

    memset(&r, 0, sizeof r);
    (void)refusals_after(&r, 6, 1, DDB_ERR_REJECTED, V);
    (void)refusals_after(&r, 6, 1, DDB_ERR_REJECTED, V);
    (void)refusals_after(&r, 6, 1, DDB_OK, "");
    CHECK(refusals_after(&r, 7, 1, DDB_ERR_REJECTED, V) == 0 && r.count == 1,
          "a success in between starts the count again");
    memset(&r, 0, sizeof r);
    int aside = 0;
    for (int k = 0; k < 10; k++)
        aside |= refusals_after(&r, 8, 1, DDB_ERR_REJECTED, "ResourceNotFoundException");
    CHECK(!aside, "a missing table never sets a reading aside");
}

static void test_systemic(void)
{
    struct refusals r;
    memset(&r, 0, sizeof r);
    int first = 0, second = 0;
    for (unsigned k = 0; k < REFUSALS_MAX; k++)
        first |= refusals_after(&r, 1, 1, DDB_ERR_REJECTED, V);
    for (unsigned k = 0; k < 3 * REFUSALS_MAX; k++)
        second |= refusals_after(&r, 2, 1, DDB_ERR_REJECTED, V);
    CHECK(first == 1 && second == 0, "every item refused: one set aside, then no more");
    (void)refusals_after(&r, 2, 1, DDB_OK, "");
    int third = 0;
    for (unsigned k = 0; k < REFUSALS_MAX; k++)
        third |= refusals_after(&r, 3, 1, DDB_ERR_REJECTED, V);
    CHECK(third == 1, "after a success one more may be set aside");
}

int main(void)
{
    test_isolation();
    test_counting();
    test_systemic();
    return host_check_summary("refusals");
}
