/*
 * refusals.h - poison items: a reading DynamoDB refuses for good (ValidationException: item too
 * large, a value it cannot take) would be retried forever and hold every reading behind it.
 *
 * After a refused BatchWriteItem (DynamoDB refuses the whole batch for one bad item) the next
 * uploads carry one reading each, as many as the batch had, so the culprit is found. A single
 * reading refused REFUSALS_MAX times in a row is set aside: the caller removes it from the
 * queue, reports it with its key and goes on. Safety against a refusal that is not the item's
 * (a table whose key schema does not match the configuration refuses every item): at most one
 * reading is set aside between two successes; after that, refusals only back off.
 */
#ifndef APP_REFUSALS_H
#define APP_REFUSALS_H

#include <stdint.h>

#define REFUSALS_MAX 3u /* permanent refusals of one reading before it is set aside */

struct refusals {
    uint32_t seq;           /* the reading last refused alone (0: none) */
    uint8_t count;          /* its refusals in a row */
    uint8_t singles;        /* uploads still to be made one reading at a time */
    uint8_t set_aside;      /* readings set aside since the last success */
};

/* How many of the `n` readings waiting the next upload may carry (n, or 1 while isolating). */
unsigned refusals_limit(const struct refusals *r, unsigned n);
/* After an upload of `n` readings whose first is `seq`, with the DynamoDB client's result `ret`
   and error type `type`: 1 if that first reading must be set aside now. */
int refusals_after(struct refusals *r, uint32_t seq, unsigned n, int ret, const char *type);

#endif /* APP_REFUSALS_H */
